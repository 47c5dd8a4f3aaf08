//! A 2-D convolution layer inside a network: PyTorch `Conv2d` semantics
//! (input C_in×H×W, kernel C_out×(C_in/groups)×kh×kw, stride, per-side zero
//! padding, dilation, groups), its forward map, its transpose and its
//! certified Lipschitz enclosure.
//!
//! The Lipschitz constant of a convolution (bias ignored: it only shifts the
//! output) is the spectral norm of its matrix A, certified by
//! [`crate::conv::conv_sigma`] (every padding mode). The forward map, its
//! transpose and their rounding-error bound are those of
//! [`crate::conv::Conv2d`]. This module also keeps an independent tap-by-tap
//! enumeration of the zero-padded map (explicit matrix, √(‖A‖₁‖A‖∞) bound)
//! that the tests hold the conv module against.

use crate::conv::{
    conv_sigma, AxisPadding, Conv2d, Conv2dGeometry, ConvOptions, Kernel, PaddingMode,
};
use crate::enclosure::Guarantee;
use crate::error::{Error, Result};
use crate::matrix::DenseMatrix;
use crate::operator::LinearOperator;
use crate::rounding::{self, add_up, mul_up, sqrt_up};

/// Largest explicit matrix (rows·cols entries) certified with the dense path.
pub const MAX_EXPLICIT_ENTRIES: usize = 4_000_000;

/// Geometry and weights of one convolution layer.
#[derive(Debug, Clone)]
pub struct ConvLayer {
    /// Kernel values, shape (c_out, c_in/groups, kh, kw), row-major.
    pub kernel: Vec<f64>,
    /// Bias per output channel.
    pub bias: Option<Vec<f64>>,
    /// Input channels.
    pub c_in: usize,
    /// Output channels.
    pub c_out: usize,
    /// Kernel (height, width).
    pub kernel_hw: (usize, usize),
    /// Stride (height, width).
    pub stride: (usize, usize),
    /// Zero padding (top, bottom, left, right).
    pub padding: (usize, usize, usize, usize),
    /// Dilation (height, width).
    pub dilation: (usize, usize),
    /// Groups.
    pub groups: usize,
    /// Input (height, width).
    pub in_hw: (usize, usize),
    /// Output (height, width).
    pub out_hw: (usize, usize),
    /// Padding mode.
    pub mode: PaddingMode,
    /// The conv module's operator for this kernel and geometry.
    pub operator: Conv2d,
}

impl ConvLayer {
    /// A zero-padded convolution (see [`ConvLayer::with_mode`]).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        kernel: Vec<f64>,
        kernel_shape: [usize; 4],
        bias: Option<Vec<f64>>,
        c_in: usize,
        in_hw: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize, usize, usize),
        dilation: (usize, usize),
        groups: usize,
    ) -> Result<Self> {
        Self::with_mode(
            kernel,
            kernel_shape,
            bias,
            c_in,
            in_hw,
            stride,
            padding,
            dilation,
            groups,
            PaddingMode::Zeros,
        )
    }

    /// Checks the geometry (PyTorch's rules, via
    /// [`Conv2dGeometry::validate`]) and computes the output size
    /// ⌊(H + pad − d(k−1) − 1)/s⌋ + 1 per axis. `padding` is
    /// (top, bottom, left, right).
    #[allow(clippy::too_many_arguments)]
    pub fn with_mode(
        kernel: Vec<f64>,
        kernel_shape: [usize; 4],
        bias: Option<Vec<f64>>,
        c_in: usize,
        in_hw: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize, usize, usize),
        dilation: (usize, usize),
        groups: usize,
        mode: PaddingMode,
    ) -> Result<Self> {
        let [c_out, cig, kh, kw] = kernel_shape;
        if groups == 0 || c_in % groups != 0 || c_out % groups != 0 {
            return Err(Error::InvalidOption(format!(
                "groups = {groups} must divide C_in = {c_in} and C_out = {c_out}"
            )));
        }
        if cig != c_in / groups {
            return Err(Error::InvalidOption(format!(
                "kernel has {cig} input channels per group, but the input has {c_in} channels and groups = {groups} (expected {})",
                c_in / groups
            )));
        }
        if kh == 0
            || kw == 0
            || stride.0 == 0
            || stride.1 == 0
            || dilation.0 == 0
            || dilation.1 == 0
        {
            return Err(Error::InvalidOption(
                "kernel size, stride and dilation must be positive".into(),
            ));
        }
        let kernel_len = [c_out, cig, kh, kw]
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| {
                Error::InvalidOption(format!(
                    "kernel shape {kernel_shape:?} has more entries than fit in 64 bits"
                ))
            })?;
        if kernel.len() != kernel_len {
            return Err(Error::ShapeMismatch {
                what: "conv kernel values",
                expected: kernel_len,
                got: kernel.len(),
            });
        }
        if let Some(b) = &bias {
            if b.len() != c_out {
                return Err(Error::ShapeMismatch {
                    what: "conv bias length (C_out)",
                    expected: c_out,
                    got: b.len(),
                });
            }
        }
        // Checked: a size that overflows is an error, never wrapped around.
        let axis = |n: usize, before: usize, after: usize, k: usize, d: usize, s: usize| {
            let span = d.checked_mul(k - 1)?.checked_add(1)?;
            let padded = n.checked_add(before)?.checked_add(after)?;
            Some(padded.checked_sub(span)? / s + 1)
        };
        let oh = axis(in_hw.0, padding.0, padding.1, kh, dilation.0, stride.0);
        let ow = axis(in_hw.1, padding.2, padding.3, kw, dilation.1, stride.1);
        let (Some(oh), Some(ow)) = (oh, ow) else {
            return Err(Error::InvalidOption(format!(
                "kernel {kh}x{kw} (dilation {dilation:?}) does not fit the padded input {in_hw:?} with padding {padding:?} (or a size overflows)"
            )));
        };
        let geometry = Conv2dGeometry {
            c_out,
            c_in,
            groups,
            kh,
            kw,
            h: in_hw.0,
            w: in_hw.1,
            stride,
            padding: (padding.0, padding.2, padding.1, padding.3),
            mode,
            dilation,
        };
        geometry.validate()?;
        let operator = Conv2d::new(
            Kernel::from_f64(c_out, cig, kh, kw, kernel.clone())?,
            geometry,
        )?;
        debug_assert_eq!(geometry.output_size(), (oh, ow));
        Ok(Self {
            kernel,
            bias,
            c_in,
            c_out,
            kernel_hw: (kh, kw),
            stride,
            padding,
            dilation,
            groups,
            in_hw,
            out_hw: (oh, ow),
            mode,
            operator,
        })
    }

    fn cig(&self) -> usize {
        self.c_in / self.groups
    }

    /// Visits every (output index, input index, kernel value) triple of the
    /// linear map.
    pub(crate) fn for_each_tap(&self, mut f: impl FnMut(usize, usize, f64)) {
        let (h, w) = self.in_hw;
        let (oh, ow) = self.out_hw;
        let (kh, kw) = self.kernel_hw;
        let cig = self.cig();
        let cog = self.c_out / self.groups;
        for co in 0..self.c_out {
            let g = co / cog;
            for r in 0..oh {
                for s in 0..ow {
                    let out = (co * oh + r) * ow + s;
                    for cl in 0..cig {
                        let ci = g * cig + cl;
                        for i in 0..kh {
                            let y = (r * self.stride.0 + i * self.dilation.0) as isize
                                - self.padding.0 as isize;
                            if y < 0 || y as usize >= h {
                                continue;
                            }
                            for j in 0..kw {
                                let x = (s * self.stride.1 + j * self.dilation.1) as isize
                                    - self.padding.2 as isize;
                                if x < 0 || x as usize >= w {
                                    continue;
                                }
                                let k = self.kernel[((co * cig + cl) * kh + i) * kw + j];
                                f(out, (ci * h + y as usize) * w + x as usize, k);
                            }
                        }
                    }
                }
            }
        }
    }

    /// A x without bias ([`Conv2d`]'s im2col product).
    pub fn apply_linear(&self, x: &[f64]) -> Vec<f64> {
        let mut y = vec![0.0; self.output_len()];
        self.operator.apply(x, &mut y);
        y
    }

    /// A x without bias by the independent tap-by-tap enumeration (zero
    /// padding only; `None` for other modes). For tests.
    pub fn apply_by_taps(&self, x: &[f64]) -> Option<Vec<f64>> {
        if self.mode != PaddingMode::Zeros {
            return None;
        }
        let mut y = vec![0.0; self.output_len()];
        self.for_each_tap(|o, i, k| y[o] += k * x[i]);
        Some(y)
    }

    /// A x + b.
    pub fn forward(&self, x: &[f64]) -> Vec<f64> {
        let mut y = self.apply_linear(x);
        if let Some(b) = &self.bias {
            let per = self.out_hw.0 * self.out_hw.1;
            for (i, v) in y.iter_mut().enumerate() {
                *v += b[i / per];
            }
        }
        y
    }

    /// Aᵀ g.
    pub fn apply_transposed(&self, g: &[f64]) -> Vec<f64> {
        let mut x = vec![0.0; self.input_len()];
        self.operator.apply_transpose(g, &mut x);
        x
    }

    /// C_in·H·W.
    pub fn input_len(&self) -> usize {
        self.c_in * self.in_hw.0 * self.in_hw.1
    }

    /// C_out·H_out·W_out.
    pub fn output_len(&self) -> usize {
        self.c_out * self.out_hw.0 * self.out_hw.1
    }

    /// Terms in one output's dot product (C_in/groups·kh·kw).
    pub fn taps(&self) -> usize {
        self.cig() * self.kernel_hw.0 * self.kernel_hw.1
    }

    /// Upper bound on √(‖B‖₁‖B‖∞) ≥ ‖B‖₂, where B[o, i] = Σ|k_t| over the
    /// taps t of output o that read a padded position copied from input i
    /// (B ≥ |A| entrywise, and B·|x| bounds Σ_t |k_t||x_src(t)|, the rounding
    /// term of the forward pass in every padding mode).
    ///
    /// A padded position holds each kernel entry K[cₒ, cᵢ, ·, ·] of its
    /// group at most once over all outputs of channel cₒ, and an input pixel
    /// is copied to at most m padded positions (m = 1 for zero padding; for
    /// circular, reflect and replicate the product of the per-axis maximum
    /// copy counts, [`ConvLayer::padding_multiplicity`]); a row (one output
    /// of channel cₒ) holds each K[cₒ, ·, ·, ·] at most once. So
    /// ‖B‖₁ ≤ m·max_cᵢ Σ|K[·, cᵢ, ·, ·]| and ‖B‖∞ ≤ max_cₒ Σ|K[cₒ, ·, ·, ·]|
    /// (sums and products rounded upward). Proof: proofs/theories/Norms.v, `spectral_le_sqrt_l1_linf`.
    #[allow(clippy::needless_range_loop)]
    pub fn abs_norm_up(&self) -> f64 {
        let (kh, kw) = self.kernel_hw;
        let cig = self.cig();
        let per = kh * kw;
        let mut col = vec![0.0f64; self.c_in];
        let mut row = vec![0.0f64; self.c_out];
        let cog = self.c_out / self.groups;
        for co in 0..self.c_out {
            let g = co / cog;
            for cl in 0..cig {
                let start = (co * cig + cl) * per;
                let s = rounding::sum_up(self.kernel[start..start + per].iter().map(|v| v.abs()));
                row[co] = add_up(row[co], s);
                col[g * cig + cl] = add_up(col[g * cig + cl], s);
            }
        }
        let l1 = col.into_iter().fold(0.0, f64::max);
        let l1 = mul_up(l1, self.padding_multiplicity() as f64);
        let linf = row.into_iter().fold(0.0, f64::max);
        sqrt_up(mul_up(l1, linf))
    }

    /// The most padded positions that copy one input pixel: 1 for zero
    /// padding, else the product over both axes of the largest number of
    /// padded positions mapped to one input index (e.g. p + 1 at the edge of
    /// a replicate padding by p).
    pub fn padding_multiplicity(&self) -> usize {
        if self.mode == PaddingMode::Zeros {
            return 1;
        }
        let axis = |n: usize, before: usize, after: usize| {
            let map = AxisPadding::new(self.mode, n, before, after);
            let mut counts = vec![0usize; n];
            for &i in map.source.iter().flatten() {
                counts[i] += 1;
            }
            counts.into_iter().max().unwrap_or(1).max(1)
        };
        let (top, bottom, left, right) = self.padding;
        axis(self.in_hw.0, top, bottom).saturating_mul(axis(self.in_hw.1, left, right))
    }

    /// The explicit matrix of the zero-padded linear part (rows = outputs,
    /// columns = inputs), exact: each entry is one kernel value (zero padding
    /// never places two taps of one output on the same input). `None` when
    /// larger than [`MAX_EXPLICIT_ENTRIES`] or for another padding mode.
    pub fn explicit_matrix(&self) -> Option<Result<DenseMatrix>> {
        if self.mode != PaddingMode::Zeros {
            return None;
        }
        let (m, n) = (self.output_len(), self.input_len());
        if m.checked_mul(n)? > MAX_EXPLICIT_ENTRIES {
            return None;
        }
        let mut data = vec![0.0; m * n];
        self.for_each_tap(|o, i, k| data[o * n + i] = k);
        Some(DenseMatrix::from_row_major(m, n, &data))
    }

    /// Enclosure `[lower, upper]` of σ(A) from [`conv_sigma`] (rigorous
    /// lower bound; the upper bound's guarantee is returned with it).
    pub fn lipschitz(&self) -> Result<(f64, f64, Guarantee)> {
        self.lipschitz_with(1)
    }

    /// [`ConvLayer::lipschitz`] with the circular spectrum on `threads`
    /// threads ([`ConvOptions::threads`]; 0: all cores).
    pub fn lipschitz_with(&self, threads: usize) -> Result<(f64, f64, Guarantee)> {
        let kernel = self.operator.kernel();
        let options = ConvOptions {
            threads,
            ..ConvOptions::default()
        };
        let report = conv_sigma(kernel, self.operator.geometry(), &options)?;
        let e = report.enclosure;
        Ok((e.lower(), e.upper(), e.guarantee()))
    }
}

impl LinearOperator for ConvLayer {
    fn nrows(&self) -> usize {
        self.output_len()
    }
    fn ncols(&self) -> usize {
        self.input_len()
    }
    fn apply(&self, x: &[f64], y: &mut [f64]) {
        y.copy_from_slice(&self.apply_linear(x));
    }
    fn apply_transpose(&self, y: &[f64], x: &mut [f64]) {
        x.copy_from_slice(&self.apply_transposed(y));
    }
    /// Each output is a dot product of at most K = C_in/groups·kh·kw terms
    /// summed left to right: |fl(Ax) − Ax| ≤ γ_K |A||x| + K·η entrywise, and
    /// ‖|A||x|‖₂ ≤ ‖|A|‖₂‖x‖₂ ≤ [`ConvLayer::abs_norm_up`]·‖x‖₂.
    /// Proof: proofs/theories/FloatDot.v, `dot_error_bound`.
    fn apply_error_bound(&self, x_norm: f64) -> f64 {
        let k = self.taps();
        let rel = mul_up(rounding::gamma(k), self.abs_norm_up());
        let abs = mul_up(
            sqrt_up(self.output_len() as f64),
            rounding::underflow_slack(k),
        );
        add_up(mul_up(rel, x_norm), abs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// √(‖B‖₁‖B‖∞) of B[o, i] = Σ|k_t| over the taps of output o that read a
    /// copy of input i, built by enumerating every tap through the padding
    /// maps (independently of `abs_norm_up`'s per-channel sums).
    fn tap_matrix_bound(c: &ConvLayer) -> f64 {
        let (kh, kw) = c.kernel_hw;
        let (t, b, l, r) = c.padding;
        let rows = AxisPadding::new(c.mode, c.in_hw.0, t, b);
        let cols = AxisPadding::new(c.mode, c.in_hw.1, l, r);
        let (oh, ow) = c.out_hw;
        let n = c.c_in * c.in_hw.0 * c.in_hw.1;
        let m = c.c_out * oh * ow;
        let mut bm = vec![0.0f64; m * n];
        let (cig, cog) = (c.c_in / c.groups, c.c_out / c.groups);
        for o in 0..c.c_out {
            for i in 0..oh {
                for j in 0..ow {
                    for cl in 0..cig {
                        for a in 0..kh {
                            for bb in 0..kw {
                                let (Some(si), Some(sj)) = (
                                    rows.source[i * c.stride.0 + a * c.dilation.0],
                                    cols.source[j * c.stride.1 + bb * c.dilation.1],
                                ) else {
                                    continue;
                                };
                                let ci = (o / cog) * cig + cl;
                                let k = c.kernel[((o * cig + cl) * kh + a) * kw + bb];
                                let row = (o * oh + i) * ow + j;
                                let col = (ci * c.in_hw.0 + si) * c.in_hw.1 + sj;
                                bm[row * n + col] += k.abs();
                            }
                        }
                    }
                }
            }
        }
        let l1 = (0..n)
            .map(|col| (0..m).map(|row| bm[row * n + col]).sum::<f64>())
            .fold(0.0, f64::max);
        let linf = (0..m)
            .map(|row| bm[row * n..(row + 1) * n].iter().sum::<f64>())
            .fold(0.0, f64::max);
        (l1 * linf).sqrt()
    }

    #[test]
    fn abs_norm_bound_covers_every_padding_mode() {
        let kernel: Vec<f64> = (0..2 * 2 * 9)
            .map(|k| ((k * 7 % 11) as f64 - 5.0) / 4.0)
            .collect();
        for mode in [
            PaddingMode::Zeros,
            PaddingMode::Circular,
            PaddingMode::Reflect,
            PaddingMode::Replicate,
        ] {
            let pad = if mode == PaddingMode::Reflect { 2 } else { 3 };
            let c = ConvLayer::with_mode(
                kernel.clone(),
                [2, 2, 3, 3],
                None,
                2,
                (3, 4),
                (1, 1),
                (pad, pad, pad, pad),
                (1, 1),
                1,
                mode,
            )
            .unwrap();
            let reference = tap_matrix_bound(&c);
            assert!(
                c.abs_norm_up() >= reference * (1.0 - 1e-12),
                "{mode:?}: {} < {reference}",
                c.abs_norm_up()
            );
        }
    }
}
