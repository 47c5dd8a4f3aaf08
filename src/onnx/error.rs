//! The error of the ONNX front end: one line naming the file, tensor or node
//! and the problem. Every variant is bad or unsupported input (exit 2)
//! except a library failure, which keeps its own exit code.

use std::fmt;

/// Why an ONNX model could not be imported or evaluated.
#[derive(Debug, Clone, PartialEq)]
pub enum OnnxError {
    /// The file is not a valid ONNX model (protobuf, types, shapes, graph).
    Invalid(String),
    /// A valid model that lipcert cannot bound or does not support yet.
    Unsupported(String),
    /// A library error (certificate failure, overflow, …) with context.
    Library(String, crate::Error),
}

impl fmt::Display for OnnxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OnnxError::Invalid(m) => write!(f, "{m}"),
            OnnxError::Unsupported(m) => write!(f, "not supported: {m}"),
            OnnxError::Library(ctx, e) => write!(f, "{ctx}: {e}"),
        }
    }
}

impl std::error::Error for OnnxError {}

/// Result alias of the ONNX front end.
pub type OnnxResult<T> = std::result::Result<T, OnnxError>;

/// Shorthand for [`OnnxError::Invalid`].
pub fn invalid(msg: impl Into<String>) -> OnnxError {
    OnnxError::Invalid(msg.into())
}

/// Shorthand for [`OnnxError::Unsupported`].
pub fn unsupported(msg: impl Into<String>) -> OnnxError {
    OnnxError::Unsupported(msg.into())
}
