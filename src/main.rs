//! The `lipcert` binary: parses the command line and hands it to
//! [`lipcert::cli`]. Usage errors exit with clap's code 2; see
//! `lipcert::cli` for the other exit codes.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // faer's own parallelism stays off: lipcert splits its products over
    // `--threads` itself (`lipcert::parallel`), one fixed split per thread
    // count, so a run's bits do not depend on thread scheduling.
    faer::set_global_parallelism(faer::Par::Seq);
    let cli = lipcert::cli::Cli::parse();
    let code = lipcert::cli::run_guarded(&cli);
    ExitCode::from(u8::try_from(code).unwrap_or(lipcert::cli::EXIT_BUG as u8))
}
