//! A transposed 2-D (or 1-D) convolution inside a network: ONNX
//! `ConvTranspose` / PyTorch `ConvTranspose2d`, as the adjoint of an
//! ordinary convolution.
//!
//! # The operator
//! Input X of shape (C_in, H_in, W_in), weight W of shape
//! (C_in, C_out/g, kH, kW), strides s, dilations d, pads (begin, end) per
//! axis, output padding op, groups g. ONNX (and PyTorch) define, per axis,
//!
//! H_out = s(H_in − 1) + op + d(kH − 1) + 1 − p_begin − p_end,
//!
//! y\[oc, oh, ow\] = b\[oc\] + Σ x\[ic, ih, iw\]·W\[ic, oc − g(oc)·C_out/g, a, c\]
//!
//! over ic in the group of oc and every (ih, a) with oh = ih·s − p_begin + a·d
//! (likewise for columns), contributions outside [0, H_out) dropped.
//!
//! Let C be the ordinary zero-padded convolution from C_out to C_in channels
//! with groups g, the SAME weight tensor read in Conv's
//! (out = C_in, in/g = C_out/g, kH, kW) layout, the same strides, dilations
//! and pads, acting on an input of size H_out × W_out:
//! (C z)[ic, i, j] = Σ W[ic, oc_l, a, c]·z[oc, i·s − p_begin + a·d, …].
//! Its output size is ⌊(H_out + p_begin + p_end − d(kH − 1) − 1)/s⌋ + 1
//! = H_in − 1 + ⌊op/s⌋ + 1, which is H_in exactly when op < s. Then
//! ⟨C z, x⟩ = Σ W[ic, oc_l, a, c]·z[oc, oh]·x[ic, ih] over the same index set
//! as above, so **Y = Cᵀ X + b** and the Lipschitz constant is σ(Cᵀ) = σ(C),
//! certified by the conv module on C ([`ConvLayer::lipschitz`]).
//!
//! When s ≤ op < max(s, d) (allowed by ONNX and PyTorch when d > s), the
//! conv on the output grid would have H_in + ⌊op/s⌋ outputs. The end pad of
//! C is then taken as p_end′ = p_end − s⌊op/s⌋ (the output count becomes
//! H_in − 1 + ⌊(op mod s)/s⌋ + 1 = H_in); the positions the first H_in
//! outputs read are unchanged (they depend on p_begin only) and still lie in
//! the padded range, since (H_in − 1)s + (kH − 1)d ≤ H_out + p_begin +
//! p_end′ − 1 ⟺ s⌊op/s⌋ ≤ op. A negative p_end′ is refused.
//!
//! # Rounding
//! [`ConvTransposeLayer::apply_linear`] is the conv operator's exact adjoint
//! (its `apply_transpose`: a matrix product of length C_in/g per entry, then
//! a scatter-add of at most kH·kW such partial sums into each output entry,
//! zero padding placing at most one tap per kernel offset). Each output
//! entry is therefore a sum of at most K = (C_in/g)·kH·kW products in some
//! parenthesisation, so entrywise |fl(Cᵀx) − Cᵀx| ≤ γ_K (|C|ᵀ|x|) + K·η
//! (Higham, *Accuracy and Stability*, Lemma 3.1, any order; proof:
//! proofs/theories/FloatDot.v, `dot_error_bound`), and
//! ‖|C|ᵀ|x|‖₂ ≤ ‖|C|‖₂‖x‖₂ ≤ [`ConvLayer::abs_norm_up`]·‖x‖₂ (the
//! √(‖B‖₁‖B‖∞) bound is symmetric under transposition). Floating-point
//! assumption (as for the conv operator): faer's matrix product computes each
//! entry as a sum of its products with IEEE operations.

use super::conv_layer::ConvLayer;
use crate::enclosure::Guarantee;
use crate::error::{Error, Result};
use crate::matrix::DenseMatrix;
use crate::rounding::{self, add_up, mul_up, sqrt_up};

/// Geometry of one transposed-convolution axis, as ONNX and PyTorch state it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransposeAxis {
    /// Input length H_in.
    pub input: usize,
    /// Kernel length k.
    pub kernel: usize,
    /// Stride s.
    pub stride: usize,
    /// Dilation d.
    pub dilation: usize,
    /// Pad removed at the beginning of the output.
    pub pad_begin: usize,
    /// Pad removed at the end of the output.
    pub pad_end: usize,
    /// Output padding op (added at the end).
    pub output_padding: usize,
}

impl TransposeAxis {
    /// H_out = s(H_in − 1) + op + d(k − 1) + 1 − p_begin − p_end, `None` when
    /// not positive or on overflow.
    pub fn output_len(&self) -> Option<usize> {
        let full = self
            .stride
            .checked_mul(self.input.checked_sub(1)?)?
            .checked_add(self.output_padding)?
            .checked_add(self.dilation.checked_mul(self.kernel.checked_sub(1)?)?)?
            .checked_add(1)?;
        let out = full
            .checked_sub(self.pad_begin)?
            .checked_sub(self.pad_end)?;
        (out > 0).then_some(out)
    }

    /// Checks the axis and returns (H_out, p_end′) for the convolution C
    /// (module docs).
    fn conv_axis(&self, name: &str) -> Result<(usize, usize)> {
        if self.input == 0 || self.kernel == 0 || self.stride == 0 || self.dilation == 0 {
            return Err(Error::InvalidOption(format!(
                "{name}: input, kernel, stride and dilation must be positive ({self:?})"
            )));
        }
        if self.output_padding >= self.stride.max(self.dilation) {
            return Err(Error::InvalidOption(format!(
                "{name}: output_padding {} must be smaller than the stride {} or the dilation {}",
                self.output_padding, self.stride, self.dilation
            )));
        }
        let out = self.output_len().ok_or_else(|| {
            Error::InvalidOption(format!(
                "{name}: the pads ({}, {}) leave no output (s(H_in − 1) + op + d(k − 1) + 1 − pads ≤ 0, or a size overflows)",
                self.pad_begin, self.pad_end
            ))
        })?;
        let cut = self.stride * (self.output_padding / self.stride);
        let end = self.pad_end.checked_sub(cut).ok_or_else(|| {
            Error::InvalidOption(format!(
                "{name}: output_padding {} ≥ stride {} with end pad {} < {cut} is not supported (the adjoint convolution would need a negative pad)",
                self.output_padding, self.stride, self.pad_end
            ))
        })?;
        Ok((out, end))
    }
}

/// A transposed convolution Y = Cᵀ X + b (module docs).
#[derive(Debug, Clone)]
pub struct ConvTransposeLayer {
    /// The convolution C (C_out → C_in channels on the output grid, no
    /// bias) whose adjoint this layer is.
    pub conv: ConvLayer,
    /// Bias per output channel (length C_out).
    pub bias: Option<Vec<f64>>,
    /// Output padding (height, width), as given.
    pub output_padding: (usize, usize),
    /// Pads (top, bottom, left, right), as given.
    pub padding: (usize, usize, usize, usize),
}

// The layer's input is C's output and its output is C's input: the getters
// below swap C's fields on purpose.
#[allow(clippy::misnamed_getters)]
impl ConvTransposeLayer {
    /// Builds the layer from the weight (C_in, C_out/groups, kh, kw)
    /// row-major, the input size (C_in, H_in, W_in) and the two axes'
    /// geometry (`rows` for H, `cols` for W; a 1-D transposed convolution
    /// has a `rows` axis of length 1 with kernel 1). Errors name the problem.
    pub fn new(
        weight: Vec<f64>,
        weight_shape: [usize; 4],
        bias: Option<Vec<f64>>,
        c_in: usize,
        groups: usize,
        rows: TransposeAxis,
        cols: TransposeAxis,
    ) -> Result<Self> {
        let [wc, cog, kh, kw] = weight_shape;
        if groups == 0 || c_in % groups != 0 {
            return Err(Error::InvalidOption(format!(
                "groups = {groups} must divide the input channels {c_in}"
            )));
        }
        if wc != c_in {
            return Err(Error::InvalidOption(format!(
                "weight has {wc} input channels (its first dimension), but the input has {c_in}"
            )));
        }
        if kh != rows.kernel || kw != cols.kernel {
            return Err(Error::InvalidOption(format!(
                "kernel ({}, {}) differs from the weight's ({kh}, {kw})",
                rows.kernel, cols.kernel
            )));
        }
        let c_out = cog
            .checked_mul(groups)
            .ok_or_else(|| Error::InvalidOption("output channels overflow".into()))?;
        let (oh, pb_h) = rows.conv_axis("height")?;
        let (ow, pb_w) = cols.conv_axis("width")?;
        if let Some(b) = &bias {
            if b.len() != c_out {
                return Err(Error::ShapeMismatch {
                    what: "transposed conv bias length (C_out)",
                    expected: c_out,
                    got: b.len(),
                });
            }
        }
        let conv = ConvLayer::new(
            weight,
            [c_in, cog, kh, kw],
            None,
            c_out,
            (oh, ow),
            (rows.stride, cols.stride),
            (rows.pad_begin, pb_h, cols.pad_begin, pb_w),
            (rows.dilation, cols.dilation),
            groups,
        )?;
        if conv.out_hw != (rows.input, cols.input) {
            return Err(Error::InvalidOption(format!(
                "internal: the adjoint convolution has output {:?}, expected {:?}",
                conv.out_hw,
                (rows.input, cols.input)
            )));
        }
        Ok(Self {
            conv,
            bias,
            output_padding: (rows.output_padding, cols.output_padding),
            padding: (rows.pad_begin, rows.pad_end, cols.pad_begin, cols.pad_end),
        })
    }

    /// C_in (the layer's input channels).
    pub fn c_in(&self) -> usize {
        self.conv.c_out
    }

    /// C_out (the layer's output channels).
    pub fn c_out(&self) -> usize {
        self.conv.c_in
    }

    /// (H_in, W_in).
    pub fn in_hw(&self) -> (usize, usize) {
        self.conv.out_hw
    }

    /// (H_out, W_out).
    pub fn out_hw(&self) -> (usize, usize) {
        self.conv.in_hw
    }

    /// C_in·H_in·W_in.
    pub fn input_len(&self) -> usize {
        self.conv.output_len()
    }

    /// C_out·H_out·W_out.
    pub fn output_len(&self) -> usize {
        self.conv.input_len()
    }

    /// Cᵀ x (no bias).
    pub fn apply_linear(&self, x: &[f64]) -> Vec<f64> {
        self.conv.apply_transposed(x)
    }

    /// C g: the adjoint of [`ConvTransposeLayer::apply_linear`].
    pub fn apply_transposed(&self, g: &[f64]) -> Vec<f64> {
        self.conv.apply_linear(g)
    }

    /// Cᵀ x + b.
    pub fn forward(&self, x: &[f64]) -> Vec<f64> {
        let mut y = self.apply_linear(x);
        if let Some(b) = &self.bias {
            let (h, w) = self.out_hw();
            let per = h * w;
            for (i, v) in y.iter_mut().enumerate() {
                *v += b[i / per];
            }
        }
        y
    }

    /// Upper bound on ‖fl(Cᵀx) − Cᵀx‖₂ for ‖x‖₂ ≤ `x_norm`: γ_K·‖|C|‖·‖x‖ +
    /// √(len)·K·η with K = (C_in/g)·kH·kW (module docs).
    pub fn apply_error_bound(&self, x_norm: f64) -> f64 {
        let (kh, kw) = self.conv.kernel_hw;
        let k = (self.c_in() / self.conv.groups) * kh * kw;
        let rel = mul_up(rounding::gamma(k), self.conv.abs_norm_up());
        let abs = mul_up(
            sqrt_up(self.output_len() as f64),
            rounding::underflow_slack(k),
        );
        add_up(mul_up(rel, x_norm), abs)
    }

    /// The explicit matrix of Cᵀ (rows = outputs), `None` when larger than
    /// [`super::conv_layer::MAX_EXPLICIT_ENTRIES`].
    pub fn explicit_matrix(&self) -> Option<Result<DenseMatrix>> {
        self.conv
            .explicit_matrix()
            .map(|m| m.map(|m| m.transpose()))
    }

    /// Enclosure of σ(Cᵀ) = σ(C) from the conv module, its circular
    /// spectrum on `threads` threads ([`crate::conv::ConvOptions::threads`];
    /// 0: all cores).
    pub fn lipschitz(&self, threads: usize) -> Result<(f64, f64, Guarantee)> {
        self.conv.lipschitz_with(threads)
    }
}
