//! For a (spectrally normalized) convolution kernel: the certified norm of
//! the reshaped matrix R (C_out × C_in/groups·kh·kw, what framework
//! `spectral_norm` normalizes) next to the certified norm of the actual
//! convolution operator with its geometry — they differ: for stride-1
//! circular convolutions ‖R‖ ≤ σ_conv ≤ √(kh·kw)·‖R‖ (each frequency block is
//! K̂(ω) = R·P(ω) with ‖P(ω)‖ = √(kh·kw)), and zero padding only lowers
//! σ_conv (a compression of the circular operator).

use crate::enclosure::Enclosure;
use crate::error::Result;
use crate::matrix::DenseMatrix;
use crate::network::conv_layer::ConvLayer;
use crate::sigma::{sigma, SigmaOptions};

/// Both norms of one convolution kernel.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvNormReport {
    /// Certified enclosure of ‖R‖₂, R = kernel reshaped to C_out × rest.
    pub reshaped: Enclosure,
    /// Certified lower bound on the operator norm of the convolution.
    pub operator_lower: f64,
    /// Certified upper bound on the operator norm of the convolution.
    pub operator_upper: f64,
}

/// Certifies ‖R‖ and σ(conv) for the kernel and geometry held by `conv`.
///
/// ```
/// use lipcert::network::conv_layer::ConvLayer;
/// use lipcert::normalize::conv::conv_norms;
/// // a 1x1x3x3 all-ones kernel on 4x4 with zero padding 1: ‖R‖ = 3
/// let conv = ConvLayer::new(vec![1.0; 9], [1, 1, 3, 3], None, 1, (4, 4), (1, 1), (1, 1, 1, 1), (1, 1), 1).unwrap();
/// let r = conv_norms(&conv).unwrap();
/// assert!(r.reshaped.contains(3.0));
/// assert!(r.operator_upper <= 9.0 + 1e-9 && r.operator_lower > 3.0);
/// ```
pub fn conv_norms(conv: &ConvLayer) -> Result<ConvNormReport> {
    let rest = conv.kernel.len() / conv.c_out;
    let r = DenseMatrix::from_row_major(conv.c_out, rest, &conv.kernel)?;
    let options = SigmaOptions::default();
    let reshaped = sigma(&r, &options)?;
    let (operator_lower, operator_upper, _) = conv.lipschitz()?;
    Ok(ConvNormReport {
        reshaped,
        operator_lower,
        operator_upper,
    })
}

/// Normalizes a convolution by its certified *operator* norm (not the
/// reshaped kernel norm): the kernel is divided by the midpoint of the
/// certified enclosure of σ(conv), and σ of the stored result is certified
/// again. Returns the normalized layer and `[lower, upper]` of its norm;
/// the distance of that enclosure from 1 is what the caller should report.
/// A zero kernel is an error.
///
/// ```
/// use lipcert::network::conv_layer::ConvLayer;
/// use lipcert::normalize::conv::spectral_normalize_conv;
/// let conv = ConvLayer::new(vec![1.0, 2.0, -1.0, 0.5], [1, 1, 2, 2], None, 1, (5, 5), (1, 1), (0, 0, 0, 0), (1, 1), 1).unwrap();
/// let (normalized, (lo, up)) = spectral_normalize_conv(&conv).unwrap();
/// assert!(lo <= 1.0 + 1e-8 && up >= 1.0 - 1e-8 && up - lo < 1e-8);
/// assert_eq!(normalized.kernel.len(), 4);
/// ```
pub fn spectral_normalize_conv(conv: &ConvLayer) -> Result<(ConvLayer, (f64, f64))> {
    let (lo, up, _) = conv.lipschitz()?;
    if up == 0.0 {
        return Err(crate::error::Error::InvalidOption(
            "cannot normalize a zero convolution kernel".into(),
        ));
    }
    let s = 0.5 * (lo + up);
    let normalized = ConvLayer::with_mode(
        conv.kernel.iter().map(|k| k / s).collect(),
        [
            conv.c_out,
            conv.c_in / conv.groups,
            conv.kernel_hw.0,
            conv.kernel_hw.1,
        ],
        conv.bias
            .as_ref()
            .map(|b| b.iter().map(|v| v / s).collect()),
        conv.c_in,
        conv.in_hw,
        conv.stride,
        conv.padding,
        conv.dilation,
        conv.groups,
        conv.mode,
    )?;
    let (l2, u2, _) = normalized.lipschitz()?;
    Ok((normalized, (l2, u2)))
}
