// Helpers shared by the integration tests (each test crate includes this
// module with `mod common;` and uses what it needs).
#![allow(dead_code)]

pub mod certificates;
pub mod cli;
pub mod conv;
pub mod dyadic;
pub mod files;
pub mod lcg;
pub mod net;
pub mod soundness;
pub mod third_party;
