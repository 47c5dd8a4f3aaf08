//! Replay of Keras 3 `keras.layers.SpectralNormalization` (power_iterations
//! default 1).
//!
//! Keras semantics: the kernel (Dense: (in, out); Conv2D: (kh, kw, in, out))
//! is viewed as W of shape (rest, C_out) = reshape(kernel, [−1, C_out]); the
//! persistent u has shape (1, C_out) (truncated-normal init). In a training
//! call: for each power iteration v ← normalize(u Wᵀ), u ← normalize(v W);
//! σ̂ = v W uᵀ; the kernel variable is *assigned* kernel/σ̂ and u is stored
//! (so unlike PyTorch, the stored kernel itself is renormalized at every
//! training call). normalize(x) = x/√(max(Σx², eps)) (`l2_normalize`,
//! eps = 1e-12).

use crate::error::{Error, Result};
use crate::matrix::DenseMatrix;
use crate::operator::LinearOperator;

/// Keras's persistent state.
#[derive(Debug, Clone, PartialEq)]
pub struct KerasSpectralNorm {
    /// u, length C_out.
    pub u: Vec<f64>,
    /// Power iterations per training call.
    pub power_iterations: usize,
    /// eps under the square root of `l2_normalize`.
    pub eps: f64,
}

fn l2_normalize(x: &mut [f64], eps: f64) {
    let s: f64 = x.iter().map(|v| v * v).sum();
    let d = s.max(eps).sqrt();
    x.iter_mut().for_each(|v| *v /= d);
}

impl KerasSpectralNorm {
    /// State with the given initial u (length C_out = columns of W).
    pub fn new(u: Vec<f64>, power_iterations: usize, eps: f64) -> Result<Self> {
        if power_iterations == 0 {
            return Err(Error::InvalidOption(
                "power_iterations must be at least 1".into(),
            ));
        }
        Ok(Self {
            u,
            power_iterations,
            eps,
        })
    }

    /// One training call on W (rest × C_out): returns (new W = W/σ̂, σ̂) and
    /// updates u. Keras assigns the returned kernel back to the layer.
    pub fn train_step(&mut self, w: &DenseMatrix) -> Result<(DenseMatrix, f64)> {
        if self.u.len() != w.ncols() {
            return Err(Error::ShapeMismatch {
                what: "Keras u length (C_out = kernel's last dimension)",
                expected: w.ncols(),
                got: self.u.len(),
            });
        }
        let mut v = vec![0.0; w.nrows()];
        let mut u = self.u.clone();
        for _ in 0..self.power_iterations {
            // v = u Wᵀ  (row vector times Wᵀ = W u as a column)
            w.apply(&u, &mut v);
            l2_normalize(&mut v, self.eps);
            // u = v W = Wᵀ v
            w.apply_transpose(&v, &mut u);
            l2_normalize(&mut u, self.eps);
        }
        let mut wu = vec![0.0; w.nrows()];
        w.apply(&u, &mut wu);
        let s: f64 = v.iter().zip(&wu).map(|(a, b)| a * b).sum();
        if !(s.is_finite() && s != 0.0) {
            return Err(Error::InvalidOption(format!(
                "sigma_hat = {s}: cannot normalize"
            )));
        }
        self.u = u;
        let out = DenseMatrix::from_fn(w.nrows(), w.ncols(), |i, j| w.get(i, j) / s)?;
        Ok((out, s))
    }
}
