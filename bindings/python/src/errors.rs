//! The exceptions the extension raises, and the boundary every computation
//! crosses: the GIL is released, a panic is caught and becomes an exception,
//! and each library error maps to the exception of its CLI exit code.

use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};

create_exception!(
    lipcert,
    LipcertError,
    PyValueError,
    "Bad input: not a finite real matrix, wrong rank or dtype, an option out of range, an unreadable file (the CLI's exit code 2). The message is the CLI's one-line message."
);
create_exception!(
    lipcert,
    NoCertificateError,
    PyRuntimeError,
    "No certificate could be obtained: lipcert refuses to answer rather than guess (the CLI's exit code 4)."
);
create_exception!(
    lipcert,
    InternalError,
    PyRuntimeError,
    "A bug in lipcert (a Rust panic caught at the boundary; the CLI's exit code 3). Please report it."
);

/// The exception for a library error: the CLI's exit code 2 (bad input) is
/// [`LipcertError`], exit code 4 (no certificate) is [`NoCertificateError`].
pub fn to_py_err(e: lipcert::Error) -> PyErr {
    use lipcert::Error as E;
    let message = e.to_string();
    match e {
        E::InvalidOption(_)
        | E::Empty { .. }
        | E::NonFinite { .. }
        | E::ShapeMismatch { .. }
        | E::Overflow { .. }
        | E::OverBudget { .. } => LipcertError::new_err(message),
        E::CertificateFailed(_) | E::EstimatorFailed(_) => NoCertificateError::new_err(message),
    }
}

/// Runs `f` with the GIL released (other Python threads keep running, so
/// threads can certify layers in parallel) and converts its result: a
/// library error becomes the matching exception, a panic an
/// [`InternalError`] — a panic never crosses into Python.
pub fn compute<T, F>(py: Python<'_>, f: F) -> PyResult<T>
where
    F: FnOnce() -> lipcert::Result<T> + Send,
    T: Send,
{
    match py.detach(|| catch_unwind(AssertUnwindSafe(f))) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(to_py_err(e)),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(InternalError::new_err(format!(
                "internal error (this is a bug in lipcert, please report it): {message}"
            )))
        }
    }
}
