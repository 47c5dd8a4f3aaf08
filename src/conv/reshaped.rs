//! The reshaped-kernel norm ‖R‖₂, R = weight.reshape(C_out, C_in/groups·kh·kw):
//! what PyTorch/TF `spectral_norm` normalizes. It is *not* the norm of the
//! convolution (pytorch/pytorch#99149); lipcert reports it beside the true
//! norm. For ungrouped circular stride-1 convolutions whose taps do not alias
//! (dilation·(k − 1) < input size per axis), ‖R‖ ≤ σ_conv ≤ √(kh·kw)·‖R‖:
//! the average of B(ω)B(ω)ᴴ over ω is RRᵀ, and B(ω) = R·(τ(ω) ⊗ I) with
//! ‖τ(ω) ⊗ I‖ = √(kh·kw). With groups, PyTorch's R stacks the groups'
//! kernels, so only the upper relation σ ≤ √(kh·kw)·‖R‖ survives (σ is the
//! max over groups of the per-group norms).

use super::kernel::Kernel;
use crate::enclosure::Enclosure;
use crate::error::Result;
use crate::sigma::{sigma, SigmaOptions};

/// Certified enclosure of ‖R‖₂ by the crate's dense entry point
/// [`sigma`] with its default (rigorous, relative width 1e-9) options.
///
/// ```
/// use lipcert::conv::{reshaped_norm, Kernel};
/// let k = Kernel::from_f64(1, 1, 1, 2, vec![3.0, 4.0]).unwrap();
/// let r = reshaped_norm(&k).unwrap();
/// assert!(r.lower() <= 5.0 && 5.0 <= r.upper() && r.relative_width() < 1e-10);
/// ```
pub fn reshaped_norm(kernel: &Kernel) -> Result<Enclosure> {
    sigma(&kernel.reshaped()?, &SigmaOptions::default())
}
