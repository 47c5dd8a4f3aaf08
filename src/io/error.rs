//! The error every reader and writer returns: which file, which tensor, what
//! is wrong with it. Its `Display` is the one-line message the command line
//! prints (exit code 2).

use super::escape::{escape_name, escape_path};
use std::fmt;
use std::path::{Path, PathBuf};

/// How many names an "unknown tensor" message lists before it only counts
/// the rest (a file may hold tens of thousands of tensors).
pub const LISTED_NAMES: usize = 20;

/// A bad input: the file, the tensor inside it (when the format has names and
/// the problem concerns one tensor) and the problem.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    /// The file that was read or written.
    pub file: PathBuf,
    /// The tensor concerned (`None` for `.npy` files and whole-file problems).
    pub tensor: Option<String>,
    /// What is wrong.
    pub problem: Problem,
}

impl InputError {
    /// An error about `file` as a whole.
    pub fn new(file: &Path, problem: Problem) -> Self {
        Self {
            file: file.to_path_buf(),
            tensor: None,
            problem,
        }
    }

    /// An error about one tensor of `file`.
    pub fn in_tensor(file: &Path, tensor: Option<&str>, problem: Problem) -> Self {
        Self {
            file: file.to_path_buf(),
            tensor: tensor.map(str::to_owned),
            problem,
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", escape_path(&self.file))?;
        if let Some(t) = &self.tensor {
            write!(f, ": tensor '{}'", escape_name(t))?;
        }
        write!(f, ": {}", self.problem)
    }
}

impl std::error::Error for InputError {}

/// Everything that can be wrong with an input file or tensor.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// The file does not exist or cannot be read.
    Unreadable(String),
    /// The output file cannot be written.
    Unwritable(String),
    /// Neither an `.npy` nor a `.safetensors` file.
    UnknownFormat,
    /// The header ends before it should.
    TruncatedHeader(String),
    /// The header is present but not valid.
    CorruptHeader(String),
    /// The header promises more (or fewer) data bytes than the file holds.
    DataLength {
        /// Bytes the header describes.
        expected: u128,
        /// Bytes present after the header.
        got: usize,
    },
    /// An element type lipcert does not read (integers, complex, fp8, …).
    UnsupportedDtype(String),
    /// NaN or ±Inf entries.
    NonFinite {
        /// How many entries are not finite.
        count: usize,
        /// Index of the first one (row-major order) in the tensor's shape.
        index: Vec<usize>,
        /// Its value.
        value: f64,
    },
    /// The tensor has a rank the command cannot use.
    WrongRank {
        /// The tensor's shape.
        shape: Vec<usize>,
        /// What the command needs and, where one exists, what to do instead.
        hint: String,
    },
    /// A dimension is zero.
    Empty {
        /// The tensor's shape.
        shape: Vec<usize>,
    },
    /// `--tensor NAME` names no tensor of the file.
    UnknownTensor {
        /// The name asked for.
        name: String,
        /// The names the file holds, in file order.
        available: Vec<String>,
    },
    /// The file holds no tensor the command can use.
    NothingToDo(String),
    /// Any other refusal (an option that does not apply to this file, a
    /// tensor that cannot be normalized, …).
    Other(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Unreadable(why) => write!(f, "cannot read file: {why}"),
            Problem::Unwritable(why) => write!(f, "cannot write file: {why}"),
            Problem::UnknownFormat => write!(
                f,
                "unknown file format: expected a .npy file (magic \\x93NUMPY) or a .safetensors file"
            ),
            Problem::TruncatedHeader(what) => write!(f, "truncated header: {what}"),
            Problem::CorruptHeader(what) => write!(f, "corrupt header: {what}"),
            Problem::DataLength { expected, got } => write!(
                f,
                "data length mismatch: the header describes {expected} bytes of data, the file holds {got} (truncated or corrupt file)"
            ),
            Problem::UnsupportedDtype(d) => write!(
                f,
                "unsupported dtype {d}: lipcert reads f64, f32, f16 and bf16 tensors"
            ),
            Problem::NonFinite {
                count,
                index,
                value,
            } => write!(
                f,
                "{count} non-finite entr{} (NaN/Inf); the first is {value} at index {}",
                if *count == 1 { "y" } else { "ies" },
                format_index(index)
            ),
            Problem::WrongRank { shape, hint } => write!(
                f,
                "wrong rank {} (shape {}): {hint}",
                shape.len(),
                format_shape(shape)
            ),
            Problem::Empty { shape } => write!(
                f,
                "empty tensor (shape {}): a weight matrix needs at least one row and one column",
                format_shape(shape)
            ),
            Problem::UnknownTensor { name, available } => {
                write!(f, "no tensor named '{}'; available: ", escape_name(name))?;
                if available.is_empty() {
                    return write!(f, "(none)");
                }
                let listed: Vec<String> = available
                    .iter()
                    .take(LISTED_NAMES)
                    .map(|n| escape_name(n).into_owned())
                    .collect();
                write!(f, "{}", listed.join(", "))?;
                if available.len() > LISTED_NAMES {
                    write!(
                        f,
                        ", … ({} tensors in all)",
                        available.len()
                    )?;
                }
                Ok(())
            }
            Problem::NothingToDo(why) => write!(f, "{why}"),
            Problem::Other(why) => write!(f, "{why}"),
        }
    }
}

/// `[3, 4]` style.
pub fn format_index(index: &[usize]) -> String {
    let parts: Vec<String> = index.iter().map(usize::to_string).collect();
    format!("[{}]", parts.join(", "))
}

/// `64x32` style (`scalar` for rank 0).
pub fn format_shape(shape: &[usize]) -> String {
    if shape.is_empty() {
        return "scalar".to_owned();
    }
    let parts: Vec<String> = shape.iter().map(usize::to_string).collect();
    parts.join("x")
}
