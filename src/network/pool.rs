//! Pooling windows along one axis, and the 2-D pooling layers built from them.
//!
//! A 2-D pooling window is a product of a height window and a width window,
//! so every quantity lipcert needs factors along the axes: the number of
//! windows covering an input (max-pool constant √m, m = m_h·m_w) and the
//! averaging operator A = A_h ⊗ A_w per channel (σ(A) = σ(A_h)·σ(A_w), the
//! singular values of a Kronecker product being the products of the factors'
//! singular values — Horn & Johnson, *Topics in Matrix Analysis*, Thm 4.2.15).

use crate::error::{Error, Result};

/// The windows of a pooling layer along one axis: for each output position,
/// the in-bounds input positions it reads and the divisor an average uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Windows1d {
    /// Input length along the axis.
    pub input_len: usize,
    /// For each output position, the input positions in its window (padding
    /// positions omitted).
    pub windows: Vec<Vec<usize>>,
    /// For each output position, the divisor of an average (kernel size when
    /// padding counts, else the in-bounds count).
    pub divisors: Vec<usize>,
}

impl Windows1d {
    /// PyTorch `MaxPool`/`AvgPool` windows (floor mode): output length
    /// ⌊(L + 2p − d(k−1) − 1)/s⌋ + 1, window i = {i·s − p + d·t : 0 ≤ t < k}.
    /// PyTorch requires p ≤ k/2 (so no window lies entirely in the padding);
    /// so does this function.
    pub fn strided(
        input_len: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
        dilation: usize,
        count_include_pad: bool,
    ) -> Result<Self> {
        if kernel == 0 || stride == 0 || dilation == 0 {
            return Err(Error::InvalidOption(format!(
                "pooling kernel {kernel}, stride {stride}, dilation {dilation} must be positive"
            )));
        }
        if padding > kernel / 2 {
            return Err(Error::InvalidOption(format!(
                "pooling padding {padding} must be at most half the kernel size {kernel}"
            )));
        }
        let out = Self::strided_output_len(input_len, kernel, stride, padding, dilation)?;
        let mut windows = Vec::with_capacity(out);
        let mut divisors = Vec::with_capacity(out);
        for i in 0..out {
            let w: Vec<usize> = (0..kernel)
                .filter_map(|t| {
                    // i·s + d·t ≤ padded − 1 (checked in strided_output_len).
                    let pos = (i * stride + dilation * t).checked_sub(padding)?;
                    (pos < input_len).then_some(pos)
                })
                .collect();
            if w.is_empty() {
                return Err(Error::InvalidOption(
                    "a pooling window lies entirely in the padding".into(),
                ));
            }
            divisors.push(if count_include_pad { kernel } else { w.len() });
            windows.push(w);
        }
        Ok(Self {
            input_len,
            windows,
            divisors,
        })
    }

    /// The output length of [`Windows1d::strided`],
    /// ⌊(L + 2p − d(k−1) − 1)/s⌋ + 1, with every step checked: a size
    /// that overflows, a zero size or a window larger than the padded input
    /// is an error (never a wrapped-around length).
    pub fn strided_output_len(
        input_len: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
        dilation: usize,
    ) -> Result<usize> {
        if kernel == 0 || stride == 0 || dilation == 0 || input_len == 0 {
            return Err(Error::InvalidOption(format!(
                "pooling input {input_len}, kernel {kernel}, stride {stride}, dilation {dilation} must be positive"
            )));
        }
        let span = dilation
            .checked_mul(kernel - 1)
            .and_then(|v| v.checked_add(1))
            .ok_or_else(|| {
                Error::InvalidOption(format!(
                    "pooling window span dilation·(kernel − 1) + 1 = {dilation}·{} + 1 overflows",
                    kernel - 1
                ))
            })?;
        let padded = padding
            .checked_mul(2)
            .and_then(|p| p.checked_add(input_len))
            .ok_or_else(|| {
                Error::InvalidOption(format!(
                    "padded pooling input {input_len} + 2·{padding} overflows"
                ))
            })?;
        if padded < span {
            return Err(Error::InvalidOption(format!(
                "pooling window (span {span}) is larger than the padded input ({input_len} + 2·{padding})"
            )));
        }
        Ok((padded - span) / stride + 1)
    }

    /// PyTorch adaptive average pooling windows: output i reads
    /// [⌊iL/o⌋, ⌈(i+1)L/o⌉) (computed in 128-bit integers: no overflow).
    pub fn adaptive(input_len: usize, output_len: usize) -> Result<Self> {
        if output_len == 0 || input_len == 0 {
            return Err(Error::InvalidOption(format!(
                "adaptive pooling from length {input_len} to {output_len}: both must be positive"
            )));
        }
        let (l, o) = (input_len as u128, output_len as u128);
        let mut windows = Vec::with_capacity(output_len);
        let mut divisors = Vec::with_capacity(output_len);
        for i in 0..output_len {
            let i = i as u128;
            let start = (i * l / o) as usize;
            let end = ((i + 1) * l).div_ceil(o) as usize;
            windows.push((start..end).collect::<Vec<_>>());
            divisors.push(end - start);
        }
        Ok(Self {
            input_len,
            windows,
            divisors,
        })
    }

    /// True when no input position lies in two windows.
    pub fn windows_disjoint(&self) -> bool {
        self.max_cover() <= 1
    }

    /// Number of output positions.
    pub fn output_len(&self) -> usize {
        self.windows.len()
    }

    /// The number of windows that contain each input position.
    pub fn coverage(&self) -> Vec<usize> {
        let mut count = vec![0usize; self.input_len];
        for w in &self.windows {
            for &p in w {
                count[p] += 1;
            }
        }
        count
    }

    /// The largest number of windows that contain one input position.
    pub fn max_cover(&self) -> usize {
        self.coverage().into_iter().max().unwrap_or(0)
    }

    /// An input position covered by [`Windows1d::max_cover`] windows.
    pub fn most_covered(&self) -> usize {
        let count = self.coverage();
        (0..self.input_len)
            .max_by_key(|&p| (count[p], usize::MAX - p))
            .unwrap_or(0)
    }

    /// The averaging matrix along this axis (output_len × input_len) with
    /// entry 1/divisor on each window, each entry rounded by `round` (use
    /// `div_up` for an entrywise upper matrix, `div_down` for a lower one).
    pub fn average_matrix(&self, round: fn(f64, f64) -> f64) -> Vec<f64> {
        let n = self.input_len;
        let mut m = vec![0.0; self.output_len() * n];
        for (i, w) in self.windows.iter().enumerate() {
            let v = round(1.0, self.divisors[i] as f64);
            for &p in w {
                m[i * n + p] += v;
            }
        }
        m
    }
}

/// A 2-D pooling layer's geometry (the same windows for every channel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool2d {
    /// Windows along the height.
    pub rows: Windows1d,
    /// Windows along the width.
    pub cols: Windows1d,
}

impl Pool2d {
    /// Output (height, width).
    pub fn output_hw(&self) -> (usize, usize) {
        (self.rows.output_len(), self.cols.output_len())
    }

    /// Max-pool forward on a C×H×W tensor (row-major), exact (comparisons only).
    pub fn max_forward(&self, channels: usize, x: &[f64]) -> (Vec<f64>, Vec<usize>) {
        let (h, w) = (self.rows.input_len, self.cols.input_len);
        let (oh, ow) = self.output_hw();
        let mut y = Vec::with_capacity(channels * oh * ow);
        let mut arg = Vec::with_capacity(channels * oh * ow);
        for c in 0..channels {
            for wi in &self.rows.windows {
                for wj in &self.cols.windows {
                    let mut best = f64::NEG_INFINITY;
                    let mut best_at = c * h * w + wi[0] * w + wj[0];
                    for &i in wi {
                        for &j in wj {
                            let at = c * h * w + i * w + j;
                            if x[at] > best {
                                best = x[at];
                                best_at = at;
                            }
                        }
                    }
                    y.push(best);
                    arg.push(best_at);
                }
            }
        }
        (y, arg)
    }

    /// Average-pool forward on a C×H×W tensor: window sum, then one division
    /// by divisor_h·divisor_w (an exact integer product).
    pub fn avg_forward(&self, channels: usize, x: &[f64]) -> Vec<f64> {
        let (h, w) = (self.rows.input_len, self.cols.input_len);
        let (oh, ow) = self.output_hw();
        let mut y = Vec::with_capacity(channels * oh * ow);
        for c in 0..channels {
            for (a, wi) in self.rows.windows.iter().enumerate() {
                for (b, wj) in self.cols.windows.iter().enumerate() {
                    let mut s = 0.0;
                    for &i in wi {
                        for &j in wj {
                            s += x[c * h * w + i * w + j];
                        }
                    }
                    y.push(s / (self.rows.divisors[a] * self.cols.divisors[b]) as f64);
                }
            }
        }
        y
    }

    /// Transpose of the average pooling map (exact operator Aᵀ, in floating point).
    pub fn avg_transpose(&self, channels: usize, g: &[f64]) -> Vec<f64> {
        let (h, w) = (self.rows.input_len, self.cols.input_len);
        let (oh, ow) = self.output_hw();
        let mut x = vec![0.0; channels * h * w];
        for c in 0..channels {
            for (a, wi) in self.rows.windows.iter().enumerate() {
                for (b, wj) in self.cols.windows.iter().enumerate() {
                    let v = g[c * oh * ow + a * ow + b]
                        / (self.rows.divisors[a] * self.cols.divisors[b]) as f64;
                    for &i in wi {
                        for &j in wj {
                            x[c * h * w + i * w + j] += v;
                        }
                    }
                }
            }
        }
        x
    }

    /// Largest window size (number of in-bounds inputs of one output).
    pub fn max_window(&self) -> usize {
        let r = self.rows.windows.iter().map(Vec::len).max().unwrap_or(0);
        let c = self.cols.windows.iter().map(Vec::len).max().unwrap_or(0);
        r * c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_windows_cover_counts() {
        // kernel 3 stride 1 on length 5: windows [0..3], [1..4], [2..5]; the
        // middle input is in all three.
        let w = Windows1d::strided(5, 3, 1, 0, 1, true).unwrap();
        assert_eq!(w.output_len(), 3);
        assert_eq!(w.max_cover(), 3);
        assert_eq!(w.most_covered(), 2);
        // kernel 2 stride 2: disjoint.
        let w = Windows1d::strided(6, 2, 2, 0, 1, true).unwrap();
        assert_eq!(w.max_cover(), 1);
        // kernel 3 stride 2 padding 1 on 4: windows {0,1}, {1,2,3}, ... by hand:
        // i=0: -1,0,1 -> {0,1}; i=1: 1,2,3 -> {1,2,3}; out = (4+2-3)/2+1 = 2.
        let w = Windows1d::strided(4, 3, 2, 1, 1, false).unwrap();
        assert_eq!(w.windows, vec![vec![0, 1], vec![1, 2, 3]]);
        assert_eq!(w.divisors, vec![2, 3]);
        assert_eq!(w.max_cover(), 2);
    }

    #[test]
    fn adaptive_windows_match_pytorch_formula() {
        // L = 5, o = 3: [0,2), [1,4), [3,5).
        let w = Windows1d::adaptive(5, 3).unwrap();
        assert_eq!(w.windows, vec![vec![0, 1], vec![1, 2, 3], vec![3, 4]]);
    }

    #[test]
    fn bad_geometry_is_an_error() {
        assert!(Windows1d::strided(5, 2, 1, 2, 1, true).is_err());
        assert!(Windows1d::strided(2, 3, 1, 0, 1, true).is_err());
        assert!(Windows1d::strided(5, 0, 1, 0, 1, true).is_err());
    }
}
