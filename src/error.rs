//! The library's error type: every failure names what went wrong and, where it
//! applies, where (row and column of an entry, the operation that overflowed).

use thiserror::Error;

/// Result alias used throughout lipcert.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything the numerical core can refuse to do.
///
/// lipcert never returns a number it cannot vouch for: when an input is not a
/// finite real matrix, or the answer does not fit in `f64`, it returns one of
/// these instead.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum Error {
    /// The matrix has a zero dimension. lipcert treats this as a caller error
    /// rather than returning σ = 0, because an empty weight tensor almost always
    /// means a wrong tensor name or a failed export.
    #[error("empty matrix ({rows}x{cols}): a weight matrix needs at least one row and one column")]
    Empty {
        /// Number of rows given.
        rows: usize,
        /// Number of columns given.
        cols: usize,
    },
    /// Some entries are NaN or ±Inf.
    #[error("{count} non-finite entr{plural} (NaN/Inf); the first is {value} at row {row}, column {col}", plural = if *count == 1 { "y" } else { "ies" })]
    NonFinite {
        /// How many entries are not finite.
        count: usize,
        /// Row of the first non-finite entry (row-major order).
        row: usize,
        /// Column of the first non-finite entry.
        col: usize,
        /// The first non-finite value itself.
        value: f64,
    },
    /// A buffer or vector does not have the length the shape requires.
    #[error("shape mismatch: {what}: expected {expected}, got {got}")]
    ShapeMismatch {
        /// What was being checked.
        what: &'static str,
        /// The length required.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// The certified bound does not fit in the `f64` range.
    #[error(
        "the spectral norm exceeds the f64 range (certified upper bound overflows): {context}"
    )]
    Overflow {
        /// Which quantity overflowed.
        context: String,
    },
    /// An option is out of its valid range.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// A certificate could not be obtained within the iteration budget. This is
    /// never silently converted into a weaker answer.
    #[error("certificate failed: {0}")]
    CertificateFailed(String),
    /// An estimator (SVD, eigen-solver) reported a failure.
    #[error("estimator failed: {0}")]
    EstimatorFailed(String),
    /// A job's memory estimate exceeds the [`crate::budget::MemoryBudget`]
    /// (checked before allocating).
    #[error("{what} needs {}, over the {} budget (--max-memory)", needed_text(*.needed), crate::budget::human_bytes(*.budget))]
    OverBudget {
        /// The job, e.g. "conv2d 3->8 k3x3 in 100000x100000 ...".
        what: String,
        /// Estimated bytes (`None`: the size computation overflows u64).
        needed: Option<u64>,
        /// The budget in bytes.
        budget: u64,
    },
}

fn needed_text(needed: Option<u64>) -> String {
    match needed {
        Some(n) => format!("about {}", crate::budget::human_bytes(n)),
        None => "more memory than can be addressed (its size overflows 64 bits)".to_owned(),
    }
}
