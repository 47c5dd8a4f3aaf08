//! Exact replay of `torch.nn.utils.parametrizations.spectral_norm`.
//!
//! PyTorch semantics (torch/nn/utils/parametrizations.py, `_SpectralNorm`):
//! * the weight is viewed as a matrix W of shape (C_out, rest): dimension
//!   `dim` (0 by default, 1 for transposed convolutions) is moved to the
//!   front and the rest flattened;
//! * at registration u ~ N(0, I_{C_out}) and v ~ N(0, I_rest) are normalized,
//!   then 15 power iterations are run;
//! * a power iteration is u ← normalize(W v), then v ← normalize(Wᵀ u), with
//!   normalize(x) = x / max(‖x‖₂, eps), eps = 1e-12 by default;
//! * each forward in training mode runs `n_power_iterations` (default 1)
//!   iterations, then σ̂ = uᵀ(W v) and the weight used is W/σ̂ (in eval mode
//!   no iteration is run).
//!
//! This module replays those steps from given initial u and v (the random
//! draws are the user's: pass the buffers `parametrizations.weight.original`'s
//! `_u`/`_v` or the seeds' normal draws) in f64, or in f32 arithmetic (every
//! operation rounded to binary32; the summation order of PyTorch's BLAS may
//! differ, so the f32 replay is faithful to a few ulps, not bitwise).

use crate::error::{Error, Result};
use crate::matrix::DenseMatrix;
use crate::operator::LinearOperator;

/// Arithmetic used by the replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// binary64.
    F64,
    /// binary32: every operation is computed in f64 and rounded to f32
    /// (exactly f32 arithmetic for +, ×, ÷, √: 53 ≥ 2·24 + 2).
    F32,
}

impl Precision {
    fn round(self, x: f64) -> f64 {
        match self {
            Precision::F64 => x,
            Precision::F32 => x as f32 as f64,
        }
    }
}

/// PyTorch's persistent state of one spectrally normalized weight.
#[derive(Debug, Clone, PartialEq)]
pub struct TorchSpectralNorm {
    /// Left vector (length C_out).
    pub u: Vec<f64>,
    /// Right vector (length rest).
    pub v: Vec<f64>,
    /// Power iterations per training forward (PyTorch default 1).
    pub n_power_iterations: usize,
    /// eps of normalize (PyTorch default 1e-12).
    pub eps: f64,
    /// Arithmetic.
    pub precision: Precision,
}

/// Number of power iterations PyTorch runs at registration.
pub const REGISTRATION_ITERATIONS: usize = 15;

/// Views a weight tensor (row-major, `shape`) as PyTorch's (C_out, rest)
/// matrix with dimension `dim` moved to the front.
pub fn weight_matrix(shape: &[usize], data: &[f64], dim: usize) -> Result<DenseMatrix> {
    if dim >= shape.len() || shape.len() < 2 {
        return Err(Error::InvalidOption(format!(
            "spectral_norm needs a tensor of rank ≥ 2 and dim < rank (shape {shape:?}, dim {dim})"
        )));
    }
    let total: usize = shape.iter().product();
    if total != data.len() {
        return Err(Error::ShapeMismatch {
            what: "weight values for its shape",
            expected: total,
            got: data.len(),
        });
    }
    let rows = shape[dim];
    let cols = total / rows;
    // strides of the original tensor
    let mut strides = vec![1usize; shape.len()];
    for k in (0..shape.len() - 1).rev() {
        strides[k] = strides[k + 1] * shape[k + 1];
    }
    let rest: Vec<usize> = (0..shape.len()).filter(|&k| k != dim).collect();
    let mut out = vec![0.0; total];
    for r in 0..rows {
        for c in 0..cols {
            // decompose c over the remaining dims (row-major)
            let mut rem = c;
            let mut off = r * strides[dim];
            for &k in rest.iter().rev() {
                off += (rem % shape[k]) * strides[k];
                rem /= shape[k];
            }
            out[r * cols + c] = data[off];
        }
    }
    DenseMatrix::from_row_major(rows, cols, &out)
}

fn normalize(x: &mut [f64], eps: f64, p: Precision) {
    let mut s = 0.0;
    for &v in x.iter() {
        s = p.round(s + p.round(v * v));
    }
    let n = p.round(s.sqrt()).max(eps);
    for v in x.iter_mut() {
        *v = p.round(*v / n);
    }
}

fn mv(w: &DenseMatrix, x: &[f64], p: Precision) -> Vec<f64> {
    match p {
        Precision::F64 => {
            let mut y = vec![0.0; w.nrows()];
            w.apply(x, &mut y);
            y
        }
        Precision::F32 => (0..w.nrows())
            .map(|i| {
                let mut s = 0.0;
                for (j, xj) in x.iter().enumerate() {
                    s = p.round(s + p.round(w.get(i, j) * xj));
                }
                s
            })
            .collect(),
    }
}

fn mv_t(w: &DenseMatrix, y: &[f64], p: Precision) -> Vec<f64> {
    match p {
        Precision::F64 => {
            let mut x = vec![0.0; w.ncols()];
            w.apply_transpose(y, &mut x);
            x
        }
        Precision::F32 => (0..w.ncols())
            .map(|j| {
                let mut s = 0.0;
                for (i, yi) in y.iter().enumerate() {
                    s = p.round(s + p.round(w.get(i, j) * yi));
                }
                s
            })
            .collect(),
    }
}

impl TorchSpectralNorm {
    /// The state PyTorch builds at registration from raw normal draws
    /// `u0` (length C_out) and `v0` (length rest): both normalized, then
    /// [`REGISTRATION_ITERATIONS`] power iterations.
    pub fn register(
        w: &DenseMatrix,
        u0: &[f64],
        v0: &[f64],
        n_power_iterations: usize,
        eps: f64,
        precision: Precision,
    ) -> Result<Self> {
        let mut s = Self::from_state(w, u0, v0, n_power_iterations, eps, precision)?;
        normalize(&mut s.u, eps, precision);
        normalize(&mut s.v, eps, precision);
        s.power_method(w, REGISTRATION_ITERATIONS);
        Ok(s)
    }

    /// A state with the given (already normalized, e.g. loaded) buffers,
    /// without warm-up.
    pub fn from_state(
        w: &DenseMatrix,
        u: &[f64],
        v: &[f64],
        n_power_iterations: usize,
        eps: f64,
        precision: Precision,
    ) -> Result<Self> {
        if u.len() != w.nrows() || v.len() != w.ncols() {
            return Err(Error::InvalidOption(format!(
                "u has length {} and v {}, but W is {}x{} (u needs C_out = {}, v needs {})",
                u.len(),
                v.len(),
                w.nrows(),
                w.ncols(),
                w.nrows(),
                w.ncols()
            )));
        }
        if !(eps > 0.0 && eps.is_finite()) {
            return Err(Error::InvalidOption(format!(
                "eps {eps:e} must be positive"
            )));
        }
        let r = |x: &[f64]| x.iter().map(|&v| precision.round(v)).collect::<Vec<_>>();
        Ok(Self {
            u: r(u),
            v: r(v),
            n_power_iterations,
            eps,
            precision,
        })
    }

    /// `iterations` power iterations: u ← normalize(W v), v ← normalize(Wᵀ u).
    pub fn power_method(&mut self, w: &DenseMatrix, iterations: usize) {
        for _ in 0..iterations {
            self.u = mv(w, &self.v, self.precision);
            normalize(&mut self.u, self.eps, self.precision);
            self.v = mv_t(w, &self.u, self.precision);
            normalize(&mut self.v, self.eps, self.precision);
        }
    }

    /// σ̂ = uᵀ(W v) with the current vectors.
    pub fn sigma_hat(&self, w: &DenseMatrix) -> f64 {
        let wv = mv(w, &self.v, self.precision);
        let mut s = 0.0;
        for (a, b) in self.u.iter().zip(&wv) {
            s = self.precision.round(s + self.precision.round(a * b));
        }
        s
    }

    /// The normalized weight W/σ̂ (each entry divided, rounded in the replay
    /// precision). Errors if σ̂ is 0 or not finite.
    pub fn normalized(&self, w: &DenseMatrix) -> Result<DenseMatrix> {
        let s = self.sigma_hat(w);
        if !(s.is_finite() && s != 0.0) {
            return Err(Error::InvalidOption(format!(
                "sigma_hat = {s}: cannot normalize"
            )));
        }
        DenseMatrix::from_fn(w.nrows(), w.ncols(), |i, j| {
            self.precision.round(w.get(i, j) / s)
        })
    }

    /// One training-mode forward: `n_power_iterations` iterations, then W/σ̂.
    pub fn train_step(&mut self, w: &DenseMatrix) -> Result<DenseMatrix> {
        self.power_method(w, self.n_power_iterations);
        self.normalized(w)
    }
}

/// One training step of a replay, with its certificate.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayStep {
    /// 1-based training step.
    pub step: usize,
    /// σ̂ = uᵀWv used at this step.
    pub sigma_hat: f64,
    /// Certified enclosure of σ(W/σ̂) for the stored normalized weight.
    pub normalized_sigma: crate::Enclosure,
    /// Certified max |σ(W/σ̂) − 1| over the enclosure.
    pub deviation: f64,
}

/// Replays `steps` training-mode forwards of PyTorch's spectral norm from
/// `state` on the fixed weight `w`, certifying σ of each normalized weight.
///
/// ```
/// use lipcert::DenseMatrix;
/// use lipcert::normalize::pytorch::{replay, Precision, TorchSpectralNorm};
/// let w = DenseMatrix::from_row_major(2, 2, &[1.0, 1.0, 0.0, 1.0]).unwrap();
/// let state = TorchSpectralNorm::from_state(&w, &[0.0, 1.0], &[1.0, 0.0], 1, 1e-12, Precision::F64).unwrap();
/// let steps = replay(&w, state, 3).unwrap();
/// // after one step σ(W_sn) = φ/√2 ≈ 1.144 (see the tests), then it approaches 1
/// assert!(steps[0].deviation > 0.14 && steps[2].deviation < steps[0].deviation);
/// ```
pub fn replay(
    w: &DenseMatrix,
    mut state: TorchSpectralNorm,
    steps: usize,
) -> Result<Vec<ReplayStep>> {
    let options = crate::SigmaOptions::default();
    (1..=steps)
        .map(|step| {
            let normalized = state.train_step(w)?;
            let e = crate::sigma(&normalized, &options)?;
            Ok(ReplayStep {
                step,
                sigma_hat: state.sigma_hat(w),
                deviation: crate::normalize::deviation_from_one(&e),
                normalized_sigma: e,
            })
        })
        .collect()
}
