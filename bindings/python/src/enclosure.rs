//! `lipcert.Enclosure` and `lipcert.ConvEnclosure`: frozen Python objects
//! holding a certified `[lower, upper]`, printed with the CLI's certified
//! digits.

use lipcert::cli::digits::certified_digits;
use lipcert::Enclosure;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// A certified enclosure `lower ≤ value ≤ upper` of a nonnegative quantity.
///
/// `guarantee` is `"rigorous"` (a theorem, given IEEE-754 binary64
/// arithmetic) or `"probabilistic"` (the upper end holds with probability at
/// least `1 − failure_probability`; the lower end is always rigorous).
#[pyclass(module = "lipcert", name = "Enclosure", frozen, subclass)]
pub struct PyEnclosure {
    /// Certified lower bound.
    #[pyo3(get)]
    pub lower: f64,
    /// Upper bound (rigorous or probabilistic, see `guarantee`).
    #[pyo3(get)]
    pub upper: f64,
    /// Best point estimate, inside `[lower, upper]`.
    #[pyo3(get)]
    pub estimate: f64,
    /// `"rigorous"` or `"probabilistic"`.
    #[pyo3(get)]
    pub guarantee: &'static str,
    /// δ of a probabilistic upper bound; 0.0 when rigorous.
    #[pyo3(get)]
    pub failure_probability: f64,
    /// The method's name (`"auto"`, `"svd"`, …).
    #[pyo3(get)]
    pub method: &'static str,
    /// The theorem path behind the bounds, in words.
    #[pyo3(get)]
    pub certificate: &'static str,
    /// Seconds the library spent (GIL released), excluding reading the array.
    #[pyo3(get)]
    pub seconds: f64,
    /// What is enclosed, for printing (`"σ"`, `"‖W‖₁"`, …).
    #[pyo3(get)]
    pub quantity: &'static str,
}

impl PyEnclosure {
    /// Wraps a library enclosure.
    pub fn new(e: &Enclosure, seconds: f64, quantity: &'static str) -> Self {
        Self {
            lower: e.lower(),
            upper: e.upper(),
            estimate: e.estimate(),
            guarantee: e.guarantee().name(),
            failure_probability: e.guarantee().failure_probability(),
            method: e.method().name(),
            certificate: e.certificate(),
            seconds,
            quantity,
        }
    }

    /// `σ ∈ 1.2345678901[22, 35]`.
    fn digits(&self) -> String {
        format!(
            "{} ∈ {}",
            self.quantity,
            certified_digits(self.lower, self.upper)
        )
    }

    /// `rigorous` or `probabilistic (δ = 1e-6)`.
    fn guarantee_text(&self) -> String {
        if self.guarantee == "rigorous" {
            "rigorous".to_owned()
        } else {
            format!("probabilistic (δ = {:e})", self.failure_probability)
        }
    }
}

#[pymethods]
impl PyEnclosure {
    /// (upper − lower)/upper; 0.0 for `[0, 0]`.
    #[getter]
    fn relative_width(&self) -> f64 {
        if self.upper == 0.0 {
            0.0
        } else {
            (self.upper - self.lower) / self.upper
        }
    }

    /// `x in e`: true when `lower ≤ x ≤ upper`.
    fn __contains__(&self, x: f64) -> bool {
        self.lower <= x && x <= self.upper
    }

    fn __repr__(&self) -> String {
        format!(
            "Enclosure({}, {}, method={}, lower={:e}, upper={:e})",
            self.digits(),
            self.guarantee_text(),
            self.method,
            self.lower,
            self.upper
        )
    }

    fn __str__(&self) -> String {
        format!("{} ({})", self.digits(), self.guarantee_text())
    }

    /// The fields as a dict (for JSON).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("lower", self.lower)?;
        d.set_item("upper", self.upper)?;
        d.set_item("estimate", self.estimate)?;
        d.set_item("guarantee", self.guarantee)?;
        d.set_item("failure_probability", self.failure_probability)?;
        d.set_item("method", self.method)?;
        d.set_item("certificate", self.certificate)?;
        d.set_item("seconds", self.seconds)?;
        Ok(d)
    }
}

/// The certified operator norm of a convolution layer (an [`PyEnclosure`]
/// of σ), with the reshaped-kernel norm ‖R‖ that framework `spectral_norm`
/// normalizes beside it (never instead of it).
#[pyclass(module = "lipcert", name = "ConvEnclosure", frozen, extends = PyEnclosure)]
pub struct PyConvEnclosure {
    /// Enclosure of ‖R‖₂, R = kernel reshaped to C_out × (C_in/groups·kh·kw).
    #[pyo3(get)]
    pub reshaped: Py<PyEnclosure>,
    /// The geometry, in words.
    #[pyo3(get)]
    pub operator: String,
}

#[pymethods]
impl PyConvEnclosure {
    fn __repr__(slf: PyRef<'_, Self>) -> String {
        let base = slf.as_super();
        let r = slf.reshaped.get();
        format!(
            "ConvEnclosure({}, {}, reshaped ‖R‖ ∈ {}, operator='{}', lower={:e}, upper={:e})",
            base.digits(),
            base.guarantee_text(),
            certified_digits(r.lower, r.upper),
            slf.operator,
            base.lower,
            base.upper
        )
    }
}
