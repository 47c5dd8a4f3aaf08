//! Padding maps P: ℝ^{C×H×W} → ℝ^{C×(H+top+bottom)×(W+left+right)} for the
//! four PyTorch padding modes, as index maps, as linear operators, and their
//! norm ‖P‖ = √(max multiplicity).

use super::geometry::{Conv2dGeometry, PaddingMode};
use crate::operator::LinearOperator;

/// The padding map along one axis: padded index i ∈ [0, n + before + after)
/// reads input index `source[i]` (or zero when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AxisPadding {
    /// Source index of each padded position (`None` = zero fill).
    pub source: Vec<Option<usize>>,
    /// Input length n.
    pub len: usize,
}

impl AxisPadding {
    /// The index map of `mode` for an input of length `n` padded by `before`
    /// and `after` (PyTorch semantics; geometry validation guarantees reflect
    /// pads < n and circular pads ≤ n, but the map is defined for any pads):
    /// zeros: i − before if inside, else none; circular: (i − before) mod n;
    /// reflect: mirror about the edge samples (j < 0 ↦ −j, j ≥ n ↦ 2(n−1) − j,
    /// repeated); replicate: clamp to [0, n − 1].
    pub fn new(mode: PaddingMode, n: usize, before: usize, after: usize) -> Self {
        let total = n + before + after;
        let source = (0..total)
            .map(|i| {
                let j = i as isize - before as isize;
                let n_i = n as isize;
                match mode {
                    PaddingMode::Zeros => (0..n_i).contains(&j).then_some(j as usize),
                    PaddingMode::Circular => Some(j.rem_euclid(n_i) as usize),
                    PaddingMode::Replicate => Some(j.clamp(0, n_i - 1) as usize),
                    PaddingMode::Reflect => {
                        if n == 1 {
                            return Some(0);
                        }
                        let period = 2 * (n_i - 1);
                        let r = j.rem_euclid(period);
                        Some(if r < n_i { r } else { period - r } as usize)
                    }
                }
            })
            .collect();
        Self { source, len: n }
    }

    /// Padded length n + before + after.
    pub fn padded_len(&self) -> usize {
        self.source.len()
    }

    /// How many padded positions read each input index.
    pub fn multiplicities(&self) -> Vec<usize> {
        let mut m = vec![0usize; self.len];
        for s in self.source.iter().flatten() {
            m[*s] += 1;
        }
        m
    }

    /// The largest multiplicity (1 for zeros; ≥ 1 always since every input
    /// index is read at least once).
    pub fn max_multiplicity(&self) -> usize {
        self.multiplicities().into_iter().max().unwrap_or(1).max(1)
    }
}

/// The padding map of a convolution geometry as a linear operator on
/// C_in × H × W tensors (row-major), output C_in × H_p × W_p.
///
/// PᵀP is diagonal with entries m_h(i)·m_w(j) (the number of padded copies of
/// x[c, i, j]), so ‖P‖₂ = √(max_i m_h(i) · max_j m_w(j)) exactly
/// ([`PaddingMap::norm_squared`]).
#[derive(Debug, Clone)]
pub struct PaddingMap {
    channels: usize,
    rows: AxisPadding,
    cols: AxisPadding,
}

impl PaddingMap {
    /// The padding map of `geometry` (which should be validated).
    pub fn new(geometry: &Conv2dGeometry) -> Self {
        let (top, left, bottom, right) = geometry.padding;
        Self {
            channels: geometry.c_in,
            rows: AxisPadding::new(geometry.mode, geometry.h, top, bottom),
            cols: AxisPadding::new(geometry.mode, geometry.w, left, right),
        }
    }

    /// The vertical index map.
    pub fn rows(&self) -> &AxisPadding {
        &self.rows
    }

    /// The horizontal index map.
    pub fn cols(&self) -> &AxisPadding {
        &self.cols
    }

    /// ‖P‖₂² = max multiplicity of an input entry (an integer, exact).
    pub fn norm_squared(&self) -> usize {
        self.rows.max_multiplicity() * self.cols.max_multiplicity()
    }
}

impl LinearOperator for PaddingMap {
    fn nrows(&self) -> usize {
        self.channels * self.rows.padded_len() * self.cols.padded_len()
    }

    fn ncols(&self) -> usize {
        self.channels * self.rows.len * self.cols.len
    }

    fn apply(&self, x: &[f64], y: &mut [f64]) {
        assert_eq!(x.len(), self.ncols(), "apply: input length");
        assert_eq!(y.len(), self.nrows(), "apply: output length");
        let (h, w) = (self.rows.len, self.cols.len);
        let (hp, wp) = (self.rows.padded_len(), self.cols.padded_len());
        for c in 0..self.channels {
            for (i, si) in self.rows.source.iter().enumerate() {
                for (j, sj) in self.cols.source.iter().enumerate() {
                    y[(c * hp + i) * wp + j] = match (si, sj) {
                        (Some(si), Some(sj)) => x[(c * h + si) * w + sj],
                        _ => 0.0,
                    };
                }
            }
        }
    }

    fn apply_transpose(&self, y: &[f64], x: &mut [f64]) {
        assert_eq!(y.len(), self.nrows(), "apply_transpose: input length");
        assert_eq!(x.len(), self.ncols(), "apply_transpose: output length");
        x.iter_mut().for_each(|v| *v = 0.0);
        let (h, w) = (self.rows.len, self.cols.len);
        let (hp, wp) = (self.rows.padded_len(), self.cols.padded_len());
        for c in 0..self.channels {
            for (i, si) in self.rows.source.iter().enumerate() {
                for (j, sj) in self.cols.source.iter().enumerate() {
                    if let (Some(si), Some(sj)) = (si, sj) {
                        x[(c * h + si) * w + sj] += y[(c * hp + i) * wp + j];
                    }
                }
            }
        }
    }

    /// Applying P only copies values (or writes zeros): it is exact, so the
    /// error bound is 0.
    fn apply_error_bound(&self, _x_norm: f64) -> f64 {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_maps_match_pytorch_examples() {
        // torch.nn.functional.pad([0,1,2,3], (2, 2), mode=...) on a length-4 row.
        let src = |m| {
            AxisPadding::new(m, 4, 2, 2)
                .source
                .iter()
                .map(|s| s.map(|v| v as i64).unwrap_or(-1))
                .collect::<Vec<_>>()
        };
        assert_eq!(src(PaddingMode::Zeros), vec![-1, -1, 0, 1, 2, 3, -1, -1]);
        assert_eq!(src(PaddingMode::Circular), vec![2, 3, 0, 1, 2, 3, 0, 1]);
        assert_eq!(src(PaddingMode::Reflect), vec![2, 1, 0, 1, 2, 3, 2, 1]);
        assert_eq!(src(PaddingMode::Replicate), vec![0, 0, 0, 1, 2, 3, 3, 3]);
        assert_eq!(
            AxisPadding::new(PaddingMode::Replicate, 4, 2, 2).max_multiplicity(),
            3
        );
        assert_eq!(
            AxisPadding::new(PaddingMode::Reflect, 4, 2, 2).max_multiplicity(),
            3
        );
        assert_eq!(
            AxisPadding::new(PaddingMode::Zeros, 4, 2, 2).max_multiplicity(),
            1
        );
    }
}
