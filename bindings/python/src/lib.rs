//! `lipcert._lipcert`: the compiled core of the `lipcert` Python package.
//!
//! Thin wrappers over the Rust library: each function reads its array
//! exactly ([`array::read`]), releases the GIL while the library computes
//! ([`errors::compute`]) and returns frozen result objects. Keyword
//! handling, array-like conversion and the `lipcert.testing` helpers live in
//! the Python package (`python/lipcert/`).

mod array;
mod enclosure;
mod errors;

use enclosure::{PyConvEnclosure, PyEnclosure};
use errors::{compute, to_py_err, InternalError, LipcertError, NoCertificateError};
use lipcert::conv::{conv_sigma, reshaped_norm, Conv2dGeometry, ConvOptions, Kernel, PaddingMode};
use lipcert::network::certify::{certify_spec_file_with, CertifyOptions};
use lipcert::network::lower_bounds::{LowerBoundOptions, SearchWork};
use lipcert::{DenseMatrix, Method, SigmaOptions};
use numpy::PyUntypedArray;
use pyo3::prelude::*;
use std::time::Instant;

/// Reads a 2-D array as a validated matrix (finite, non-empty).
fn matrix(w: &Bound<'_, PyUntypedArray>, bits: Option<&str>) -> PyResult<DenseMatrix> {
    let t = array::read(w, bits)?;
    let [rows, cols] = t.shape[..] else {
        return Err(LipcertError::new_err(format!(
            "expected a 2-D array (a weight matrix), got a {}-D array of shape {:?}",
            t.shape.len(),
            t.shape
        )));
    };
    DenseMatrix::from_row_major_widened(rows, cols, &t.values, t.dtype).map_err(errors::to_py_err)
}

/// Validated [`SigmaOptions`] from the Python keywords.
fn sigma_options(
    method: &str,
    rel_width: f64,
    failure_probability: Option<f64>,
    seed: u64,
) -> PyResult<SigmaOptions> {
    let method: Method = method.parse().map_err(errors::to_py_err)?;
    Ok(SigmaOptions {
        method,
        rel_width,
        failure_probability,
        seed,
        ..SigmaOptions::default()
    })
}

/// Certified enclosure of σ(W) (see `lipcert.sigma`).
#[pyfunction]
#[pyo3(signature = (w, bits, method, rel_width, failure_probability, seed))]
fn sigma(
    py: Python<'_>,
    w: &Bound<'_, PyUntypedArray>,
    bits: Option<&str>,
    method: &str,
    rel_width: f64,
    failure_probability: Option<f64>,
    seed: u64,
) -> PyResult<PyEnclosure> {
    let m = matrix(w, bits)?;
    let options = sigma_options(method, rel_width, failure_probability, seed)?;
    let (e, seconds) = compute(py, || {
        let start = Instant::now();
        let e = lipcert::sigma(&m, &options)?;
        Ok((e, start.elapsed().as_secs_f64()))
    })?;
    Ok(PyEnclosure::new(&e, seconds, "σ"))
}

/// Certified ℓ1, ℓ2 and ℓ∞ operator norms (see `lipcert.norms`).
#[pyfunction]
#[pyo3(signature = (w, bits, method, rel_width, failure_probability, seed))]
fn norms(
    py: Python<'_>,
    w: &Bound<'_, PyUntypedArray>,
    bits: Option<&str>,
    method: &str,
    rel_width: f64,
    failure_probability: Option<f64>,
    seed: u64,
) -> PyResult<(PyEnclosure, PyEnclosure, PyEnclosure)> {
    use lipcert::certify::p_norms::{l1_norm, linf_norm};
    let m = matrix(w, bits)?;
    let options = sigma_options(method, rel_width, failure_probability, seed)?;
    let timed = |f: &dyn Fn() -> lipcert::Result<lipcert::Enclosure>| {
        let start = Instant::now();
        f().map(|e| (e, start.elapsed().as_secs_f64()))
    };
    let (l1, l2, linf) = compute(py, || {
        let l1 = timed(&|| l1_norm(&m)?.to_enclosure("max absolute column sum, rounded outward"))?;
        let l2 = timed(&|| lipcert::sigma(&m, &options))?;
        let linf = timed(&|| linf_norm(&m)?.to_enclosure("max absolute row sum, rounded outward"))?;
        Ok((l1, l2, linf))
    })?;
    Ok((
        PyEnclosure::new(&l1.0, l1.1, "‖W‖₁"),
        PyEnclosure::new(&l2.0, l2.1, "σ"),
        PyEnclosure::new(&linf.0, linf.1, "‖W‖∞"),
    ))
}

/// The geometry keywords of `lipcert.conv` after the Python layer has
/// normalized them to pairs and a (top, left, bottom, right) padding.
type Pair = (usize, usize);

/// Builds the validated geometry of a 4-D kernel `[C_out, C_in/groups, kh,
/// kw]` (1-D convolutions arrive with kh = 1 and H = 1).
fn geometry(
    shape: &[usize],
    input: Pair,
    stride: Pair,
    padding: (usize, usize, usize, usize),
    padding_mode: &str,
    dilation: Pair,
    groups: usize,
) -> PyResult<Conv2dGeometry> {
    let [c_out, c_in_g, kh, kw] = shape[..] else {
        return Err(LipcertError::new_err(format!(
            "a convolution kernel must be 4-D [C_out, C_in/groups, kh, kw] or 3-D [C_out, C_in/groups, k], not {}-D (shape {:?})",
            shape.len(),
            shape
        )));
    };
    if groups == 0 {
        return Err(LipcertError::new_err("groups must be at least 1"));
    }
    let mode: PaddingMode = padding_mode.parse().map_err(errors::to_py_err)?;
    let mut g = Conv2dGeometry::new(c_out, c_in_g * groups, kh, kw, input.0, input.1);
    g.stride = stride;
    g.padding = padding;
    g.dilation = dilation;
    g.groups = groups;
    g.mode = mode;
    g.validate().map_err(errors::to_py_err)?;
    Ok(g)
}

/// Reads a 4-D kernel tensor.
fn kernel(k: &Bound<'_, PyUntypedArray>, bits: Option<&str>) -> PyResult<(Vec<usize>, Kernel)> {
    let t = array::read(k, bits)?;
    let [c_out, c_in_g, kh, kw] = t.shape[..] else {
        return Err(LipcertError::new_err(format!(
            "a convolution kernel must be 4-D [C_out, C_in/groups, kh, kw] or 3-D [C_out, C_in/groups, k], not {}-D (shape {:?})",
            t.shape.len(),
            t.shape
        )));
    };
    if t.values.is_empty() {
        return Err(LipcertError::new_err(format!(
            "empty convolution kernel (shape {:?})",
            t.shape
        )));
    }
    let kernel = Kernel::from_widened(c_out, c_in_g, kh, kw, t.values, t.dtype)
        .map_err(errors::to_py_err)?;
    Ok((t.shape, kernel))
}

/// Certified operator norm of a convolution layer (see `lipcert.conv`).
#[allow(clippy::too_many_arguments)]
#[pyfunction]
#[pyo3(signature = (kernel_array, bits, input, stride, padding, padding_mode, dilation, groups))]
fn conv(
    py: Python<'_>,
    kernel_array: &Bound<'_, PyUntypedArray>,
    bits: Option<&str>,
    input: Pair,
    stride: Pair,
    padding: (usize, usize, usize, usize),
    padding_mode: &str,
    dilation: Pair,
    groups: usize,
) -> PyResult<Py<PyConvEnclosure>> {
    let (shape, k) = kernel(kernel_array, bits)?;
    let g = geometry(
        &shape,
        input,
        stride,
        padding,
        padding_mode,
        dilation,
        groups,
    )?;
    let (report, seconds) = compute(py, || {
        let start = Instant::now();
        let r = conv_sigma(&k, &g, &ConvOptions::default())?;
        Ok((r, start.elapsed().as_secs_f64()))
    })?;
    let reshaped = Py::new(py, PyEnclosure::new(&report.reshaped, 0.0, "‖R‖"))?;
    let init = PyClassInitializer::from(PyEnclosure::new(&report.enclosure, seconds, "σ"))
        .add_subclass(PyConvEnclosure {
            reshaped,
            operator: report.description,
        });
    Py::new(py, init)
}

/// Certified norm of the reshaped kernel (see `lipcert.reshaped`).
#[pyfunction]
#[pyo3(signature = (kernel_array, bits))]
fn reshaped(
    py: Python<'_>,
    kernel_array: &Bound<'_, PyUntypedArray>,
    bits: Option<&str>,
) -> PyResult<PyEnclosure> {
    let (_, k) = kernel(kernel_array, bits)?;
    let (e, seconds) = compute(py, || {
        let start = Instant::now();
        let e = reshaped_norm(&k)?;
        Ok((e, start.elapsed().as_secs_f64()))
    })?;
    Ok(PyEnclosure::new(&e, seconds, "‖R‖"))
}

/// `lipcert check`'s verdict on a claim: (consistent, certified lower bound
/// on the relative error or None when σ may be 0).
#[pyfunction]
fn judge(e: PyRef<'_, PyEnclosure>, claimed: f64, rel_tol: f64) -> PyResult<(bool, Option<f64>)> {
    if !claimed.is_finite() {
        return Err(LipcertError::new_err(format!(
            "claimed value {claimed}: the claim must be a finite number"
        )));
    }
    if !(0.0..1.0).contains(&rel_tol) {
        return Err(LipcertError::new_err(format!(
            "rel_tol {rel_tol} must be in [0, 1)"
        )));
    }
    let enc = lipcert::Enclosure::new(
        e.lower,
        e.upper,
        e.estimate,
        lipcert::Guarantee::Rigorous,
        Method::Auto,
        "from Python",
    )
    .map_err(errors::to_py_err)?;
    let v = lipcert::cli::cmd_check::judge(&enc, claimed, rel_tol);
    Ok((v.consistent, v.relative_error))
}

/// True when `upper ≤ bound·(1 + rel_tol)`, the right side rounded downward
/// (so "true" is certain).
#[pyfunction]
fn at_most(upper: f64, bound: f64, rel_tol: f64) -> bool {
    use lipcert::rounding::{add_down, mul_down};
    upper <= mul_down(bound, add_down(1.0, rel_tol))
}

/// Certified Lipschitz bound of a network file (see `lipcert.certify`):
/// returns the report as JSON and as the CLI's text table.
/// `lower_budget` (seconds, finite and nonnegative), `lower_seed` and
/// `lower_passes` are the CLI's `--lower-budget`, `--lower-seed` and
/// `--lower-passes` (without a budget or passes: the CLI's default work).
#[pyfunction]
#[pyo3(signature = (path, lower, lower_budget, lower_seed, lower_passes))]
fn certify(
    py: Python<'_>,
    path: std::path::PathBuf,
    lower: bool,
    lower_budget: Option<f64>,
    lower_seed: Option<u64>,
    lower_passes: Option<u64>,
) -> PyResult<(String, String)> {
    if let Some(b) = lower_budget {
        if !(b.is_finite() && b >= 0.0) {
            return Err(to_py_err(lipcert::Error::InvalidOption(format!(
                "lower_budget: {b} is not a nonnegative number of seconds"
            ))));
        }
    }
    let options = CertifyOptions {
        lower: lower.then(|| {
            let default = LowerBoundOptions::default();
            LowerBoundOptions {
                budget_seconds: lower_budget,
                work: lower_passes.map_or(SearchWork::Auto, SearchWork::Passes),
                seed: lower_seed.unwrap_or(default.seed),
                ..default
            }
        }),
        ..CertifyOptions::default()
    };
    let report = compute(py, || {
        certify_spec_file_with(&path, &options, &mut |_, _| {}).map_err(|e| match e {
            // Name the file, as the CLI does.
            lipcert::Error::InvalidOption(m) if !m.contains(&*path.to_string_lossy()) => {
                lipcert::Error::InvalidOption(format!("{}: {m}", path.display()))
            }
            other => other,
        })
    })?;
    Ok((report.to_json(), report.to_string()))
}

/// Panics inside the computation boundary; the test suite uses it to check
/// that a panic becomes `lipcert.InternalError` and never crosses into Python.
#[pyfunction]
fn _panic_for_tests(py: Python<'_>) -> PyResult<()> {
    compute(py, || -> lipcert::Result<()> {
        panic!("deliberate panic for the test suite")
    })
}

/// The CLI's certified-digits rendering of `[lower, upper]`.
#[pyfunction]
fn certified_digits(lower: f64, upper: f64) -> String {
    lipcert::cli::digits::certified_digits(lower, upper)
}

/// `x ≥ 0` rounded down to `sig` significant digits (`9.87e-3`).
#[pyfunction]
fn round_down_text(x: f64, sig: usize) -> String {
    lipcert::cli::digits::round_down_text(x, sig)
}

#[pymodule]
fn _lipcert(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("LipcertError", py.get_type::<LipcertError>())?;
    m.add("NoCertificateError", py.get_type::<NoCertificateError>())?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    m.add_class::<PyEnclosure>()?;
    m.add_class::<PyConvEnclosure>()?;
    m.add("DEFAULT_SEED", SigmaOptions::default().seed)?;
    m.add("METHODS", Method::ALL.map(|x| x.name()).to_vec())?;
    m.add_function(wrap_pyfunction!(sigma, m)?)?;
    m.add_function(wrap_pyfunction!(norms, m)?)?;
    m.add_function(wrap_pyfunction!(conv, m)?)?;
    m.add_function(wrap_pyfunction!(reshaped, m)?)?;
    m.add_function(wrap_pyfunction!(judge, m)?)?;
    m.add_function(wrap_pyfunction!(at_most, m)?)?;
    m.add_function(wrap_pyfunction!(certify, m)?)?;
    m.add_function(wrap_pyfunction!(certified_digits, m)?)?;
    m.add_function(wrap_pyfunction!(round_down_text, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    Ok(())
}
