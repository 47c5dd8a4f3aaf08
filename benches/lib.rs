//! The benchmark package of lipcert: its benches are in this folder
//! (`cargo bench -p lipcert-benches --bench NAME`); this library is empty.
