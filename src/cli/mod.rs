//! The `lipcert` command line: a thin layer over the library.
//!
//! Exit codes (a stable contract):
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success (for `check`: every claim is consistent with its enclosure) |
//! | 1 | `check`: a claim is certainly wrong |
//! | 2 | bad input or usage: missing/corrupt file, unsupported dtype, NaN/Inf, wrong rank, unknown tensor or option |
//! | 3 | internal error (a bug: lipcert panicked) |
//! | 4 | no certificate could be obtained (the answer is refused, never guessed) |
//!
//! When several tensors are processed, each problem is reported on its own
//! line and the exit code is the largest one met.

pub mod args;
pub mod cmd_certify;
pub mod cmd_check;
pub mod cmd_conv;
pub mod cmd_forward;
pub mod cmd_normalize;
pub mod cmd_norms;
#[cfg(feature = "onnx")]
pub mod cmd_onnx;
pub mod cmd_sigma;
pub mod conv_geometry;
pub mod digits;
pub mod heap;
pub mod progress;
pub mod report;
pub mod select;
pub mod summary;

pub use args::{Cli, Command};

use crate::error::Error;
use crate::io::{InputError, TensorInfo, WeightFile};
use crate::matrix::DenseMatrix;
use crate::sigma::SigmaOptions;
use args::{InputArgs, MethodArgs};
use progress::Progress;
use select::Planned;
use std::io::Write;

/// Everything worked (for `check`: every claim is consistent).
pub const EXIT_OK: i32 = 0;
/// `check`: a claim is certainly wrong.
pub const EXIT_CLAIM_WRONG: i32 = 1;
/// Bad input or usage.
pub const EXIT_INPUT: i32 = 2;
/// Internal error (a bug).
pub const EXIT_BUG: i32 = 3;
/// No certificate could be obtained.
pub const EXIT_NO_CERTIFICATE: i32 = 4;

/// Runs a parsed command line and returns the exit code. Panics are not
/// caught here; see [`run_guarded`].
pub fn run(cli: &Cli) -> i32 {
    match &cli.command {
        Command::Sigma(a) => cmd_sigma::run(a),
        Command::Norms(a) => cmd_norms::run(a),
        Command::Check(a) => cmd_check::run(a),
        Command::Normalize(a) => cmd_normalize::run(a),
        Command::Conv(a) => cmd_conv::run(a),
        Command::Certify(a) => cmd_certify::run(a),
        Command::Forward(a) => cmd_forward::run(a),
    }
}

/// [`run`] behind a panic boundary: an unexpected panic prints one line
/// saying it is a bug and gives exit code 3 instead of a Rust backtrace.
pub fn run_guarded(cli: &Cli) -> i32 {
    guarded(|| run(cli))
}

/// Calls `f`, turning a panic into [`EXIT_BUG`] with a one-line message.
pub fn guarded(f: impl FnOnce() -> i32) -> i32 {
    guarded_reporting(f, error_line)
}

/// [`guarded`] with the one-line panic message sent to `report` instead of
/// stderr (tests capture it).
fn guarded_reporting(f: impl FnOnce() -> i32, report: fn(&str)) -> i32 {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        report(&format!(
            "internal error (this is a bug in lipcert, please report it): {message}{location}"
        ));
    }));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(previous);
    result.unwrap_or(EXIT_BUG)
}

/// Prints `lipcert: <message>` on stderr, as one line: control characters
/// (from names inside files) are escaped, so no message can colour the
/// terminal or forge a second line.
pub fn error_line(message: &str) {
    let _ = writeln!(
        std::io::stderr().lock(),
        "lipcert: {}",
        crate::io::escape::escape_line(message)
    );
}

/// Prints an input error; returns [`EXIT_INPUT`].
fn input_error(e: &InputError, progress: Option<&Progress>) -> i32 {
    let line = format!("lipcert: {e}");
    let line = crate::io::escape::escape_line(&line);
    match progress {
        Some(p) => p.note(&line),
        None => {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
    }
    EXIT_INPUT
}

/// The exit code for a library error, and whether it concerns the options
/// (so that every further tensor would fail the same way).
fn library_error_code(e: &Error) -> (i32, bool) {
    match e {
        Error::InvalidOption(_) => (EXIT_INPUT, true),
        Error::Empty { .. }
        | Error::NonFinite { .. }
        | Error::ShapeMismatch { .. }
        | Error::Overflow { .. }
        | Error::OverBudget { .. } => (EXIT_INPUT, false),
        Error::CertificateFailed(_) | Error::EstimatorFailed(_) => (EXIT_NO_CERTIFICATE, false),
    }
}

/// Options for [`crate::sigma()`] from the command line, validated so that
/// bad values are reported once, before any file is read. On a bad value the
/// error line is printed and `Err(())` returned (the caller exits with
/// [`EXIT_INPUT`]).
fn sigma_options(m: &MethodArgs) -> Result<SigmaOptions, ()> {
    let problem = if !(m.rel_width > 0.0 && m.rel_width < 1.0) {
        Some(format!("--rel-width {} must be in (0, 1)", m.rel_width))
    } else {
        m.failure_probability
            .filter(|p| !(*p > 0.0 && *p < 1.0))
            .map(|p| format!("--failure-probability {p} must be in (0, 1)"))
    };
    if let Some(msg) = problem {
        error_line(&msg);
        return Err(());
    }
    Ok(SigmaOptions {
        method: m.method,
        rel_width: m.rel_width,
        failure_probability: m.failure_probability,
        memory: m.memory.budget(),
        threads: m.threads,
        ..SigmaOptions::default()
    })
}

/// Why one tensor could not be processed.
enum Failure {
    /// Bad input: exit 2.
    Input(Box<InputError>),
    /// The library refused: exit code from [`library_error_code`].
    Library(Box<InputError>, Error),
}

impl Failure {
    fn library(file: &WeightFile, info: &TensorInfo, e: Error) -> Self {
        let problem = crate::io::Problem::Other(e.to_string());
        Failure::Library(Box::new(file.error(info.name.as_deref(), problem)), e)
    }
}

/// Opens the input file and plans which tensors to process; on failure
/// prints the error and returns the exit code.
fn open_and_plan(input: &InputArgs) -> Result<(WeightFile, Vec<Planned>), i32> {
    let file = WeightFile::open(&input.file).map_err(|e| input_error(&e, None))?;
    let planned =
        select::plan(&file, input.tensor.as_deref()).map_err(|e| input_error(&e, None))?;
    Ok((file, planned))
}

/// Runs `f` on every planned matrix in file order, printing notes for
/// skipped tensors and one line per failure; returns the largest exit code
/// met (0 when all succeeded). `f` returns the exit code for its tensor.
fn for_each_matrix(
    file: &WeightFile,
    planned: &[Planned],
    progress: &Progress,
    f: impl FnMut(&TensorInfo, DenseMatrix) -> Result<i32, Failure>,
) -> i32 {
    for_each_planned(file, planned, progress, select::load, f)
}

/// The loop behind [`for_each_matrix`], for any way of loading a tensor
/// (`load` turns a planned tensor into what `f` works on).
fn for_each_planned<T>(
    file: &WeightFile,
    planned: &[Planned],
    progress: &Progress,
    load: impl Fn(&WeightFile, &TensorInfo) -> Result<T, InputError>,
    mut f: impl FnMut(&TensorInfo, T) -> Result<i32, Failure>,
) -> i32 {
    sweep(
        planned.iter().map(|p| (file, p)),
        progress,
        load,
        |_, info, t| f(info, t),
    )
}

/// The loop behind every per-tensor command, over planned tensors of one
/// or several files (the shards of a checkpoint): notes for skipped
/// tensors, one line per failure, the largest exit code met.
fn sweep<'a, T>(
    items: impl IntoIterator<Item = (&'a WeightFile, &'a Planned)>,
    progress: &Progress,
    load: impl Fn(&WeightFile, &TensorInfo) -> Result<T, InputError>,
    mut f: impl FnMut(&WeightFile, &TensorInfo, T) -> Result<i32, Failure>,
) -> i32 {
    let mut code = EXIT_OK;
    for (file, p) in items {
        let info = match p {
            Planned::Skip(note) => {
                progress.note(&format!("lipcert: note: {note}"));
                continue;
            }
            Planned::Use(info) => info,
        };
        progress.start(info.name.as_deref().unwrap_or(""));
        let outcome = load(file, info)
            .map_err(|e| Failure::Input(Box::new(e)))
            .and_then(|m| f(file, info, m));
        progress.inc();
        match outcome {
            Ok(c) => code = code.max(c),
            Err(Failure::Input(e)) => code = code.max(input_error(&e, Some(progress))),
            Err(Failure::Library(e, err)) => {
                let (c, global) = library_error_code(&err);
                progress.note(&format!("lipcert: {e}"));
                code = code.max(c);
                if global {
                    break;
                }
            }
        }
    }
    progress.finish();
    code
}

/// Number of tensors that will be processed.
fn used_count(planned: &[Planned]) -> usize {
    planned
        .iter()
        .filter(|p| matches!(p, Planned::Use(_)))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    static CAPTURED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

    fn capture(line: &str) {
        CAPTURED.lock().unwrap().push(line.to_owned());
    }

    #[test]
    fn a_panic_becomes_exit_code_3_and_the_hook_is_restored() {
        assert_eq!(guarded_reporting(|| panic!("boom"), capture), EXIT_BUG);
        assert_eq!(guarded_reporting(|| 1, capture), 1);
        let lines = CAPTURED.lock().unwrap();
        assert_eq!(
            lines.len(),
            1,
            "one line per panic, none without: {lines:?}"
        );
        assert!(lines[0].starts_with("internal error (this is a bug in lipcert"));
        assert!(lines[0].contains("boom") && lines[0].contains("src/cli/mod.rs"));
    }

    #[test]
    fn library_errors_map_to_documented_codes() {
        let bad = Error::InvalidOption("x".into());
        assert_eq!(library_error_code(&bad), (EXIT_INPUT, true));
        let fail = Error::CertificateFailed("x".into());
        assert_eq!(library_error_code(&fail), (EXIT_NO_CERTIFICATE, false));
    }
}
