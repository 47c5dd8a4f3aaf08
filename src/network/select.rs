//! Coordinate selection layers: every output copies one input coordinate
//! or is a constant fill value. Transpose, Slice, Gather with constant
//! indices, Pad (constant, reflect, edge, wrap), Split and nearest-neighbour
//! upsampling are all of this form.
//!
//! Lipschitz constant: the map is x ↦ Sx + f with S a 0/1 matrix whose rows
//! are unit vectors e_{π(i)}ᵀ or zero. Then SᵀS = diag(m_j), m_j the number
//! of outputs copying input j, so ‖S‖₂ = √(max_j m_j) exactly (the norm of a
//! diagonal PSD matrix is its largest entry; the constant fill only shifts
//! the output). Attained by the spike e_j at a most-copied input.

use crate::error::{Error, Result};
use crate::rounding::sqrt_enclosure;

/// Marks an output that copies no input (it takes the fill value).
pub const FILL: usize = usize::MAX;

/// y_i = x\[index_i\], or `fill` where index_i = [`FILL`].
#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    /// For each output, the input it copies or [`FILL`].
    pub index: Vec<usize>,
    /// The value of the outputs that copy nothing.
    pub fill: f64,
    /// Input length.
    pub input_len: usize,
}

impl Select {
    /// Checks that every index is [`FILL`] or below `input_len` and that the
    /// fill value is finite.
    pub fn new(index: Vec<usize>, fill: f64, input_len: usize) -> Result<Self> {
        if let Some(i) = index.iter().find(|&&i| i != FILL && i >= input_len) {
            return Err(Error::InvalidOption(format!(
                "selection reads input {i} of {input_len}"
            )));
        }
        if !fill.is_finite() {
            return Err(Error::InvalidOption(format!(
                "selection fill value {fill} is not finite"
            )));
        }
        Ok(Self {
            index,
            fill,
            input_len,
        })
    }

    /// The largest number of outputs that copy one input.
    pub fn max_multiplicity(&self) -> usize {
        let mut count = vec![0usize; self.input_len];
        for &i in &self.index {
            if i != FILL {
                count[i] += 1;
            }
        }
        count.into_iter().max().unwrap_or(0)
    }

    /// Enclosure of the Lipschitz constant √(max multiplicity) (exact real
    /// value, rounded outward).
    pub fn lipschitz(&self) -> (f64, f64) {
        sqrt_enclosure(self.max_multiplicity() as f64)
    }

    /// y = Sx + f (exact: copies only).
    pub fn forward(&self, x: &[f64]) -> Vec<f64> {
        self.index
            .iter()
            .map(|&i| if i == FILL { self.fill } else { x[i] })
            .collect()
    }

    /// S v (the Jacobian applied to a tangent).
    pub fn apply(&self, v: &[f64]) -> Vec<f64> {
        self.index
            .iter()
            .map(|&i| if i == FILL { 0.0 } else { v[i] })
            .collect()
    }

    /// Sᵀ g.
    pub fn apply_transpose(&self, g: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.input_len];
        for (k, &i) in self.index.iter().enumerate() {
            if i != FILL {
                out[i] += g[k];
            }
        }
        out
    }
}
