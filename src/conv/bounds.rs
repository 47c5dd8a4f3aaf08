//! The certified upper bound on the norm of a convolution from its circular
//! embedding, for every padding mode, and the start vectors for its lower
//! bound.
//!
//! ‖A‖ ≤ √f·max_{g, ω} σ(B_g(ω)) with the plan of [`EmbeddingPlan`] (f = row
//! selection multiplicity × padding multiplicity; Conv.v
//! `zero_pad_compression` for the compression argument) and the blocks of
//! [`BlockSpectrum`] (Sedghi et al. 2019; groups: Conv.v `grouped_norm_max`).
//! Each computed block B̃ is certified by a Cholesky certificate on its real
//! embedding ([`certify_block`]), and the distance ‖B̃ − B‖₂ ≤ ε of computed
//! to exact blocks ([`BlockSpectrum::error_bound`], which assumes `sin`/`cos`
//! within 4 ulp) is added by Weyl's inequality:
//! σ(B) ≤ σ(B̃) + ε.
//!
//! Proof: proofs/theories/Norms.v, `weyl_upper`

use super::block_certify::{block_top, certify_block, frobenius_sq};
use super::circular_spectrum::BlockSpectrum;
use super::embedding::EmbeddingPlan;
use super::geometry::Conv2dGeometry;
use super::kernel::Kernel;
use crate::error::{Error, Result};
use crate::rounding;
use faer::Mat;

/// Blocks (largest Frobenius norm first) whose σ is estimated by Lanczos to
/// choose the first candidate bound.
const REFINE_BLOCKS: usize = 8;
/// Lanczos steps for the blocks near the maximum.
const REFINE_STEPS: usize = 40;
/// Relative slack above the best estimate at which all blocks are certified.
const SLACK: f64 = 1e-9;

/// A certified upper bound from the circular embedding.
#[derive(Debug, Clone)]
pub struct EmbeddingBound {
    /// Rigorous upper bound on ‖A‖₂ (original units).
    pub upper: f64,
    /// Rigorous upper bound on max_{g, ω} σ(B_g(ω)) (without the factor √f).
    pub spectrum_upper: f64,
    /// Estimate of max_{g, ω} σ(B_g(ω)) (no guarantee).
    pub spectrum_estimate: f64,
    /// True when ‖A‖ equals the circular spectrum maximum exactly.
    pub exact: bool,
    /// The plan used.
    pub plan: EmbeddingPlan,
    /// Input tensors built from the top singular vector of the largest block
    /// (real and imaginary phase), to be certified as lower-bound vectors.
    pub start_vectors: Vec<Vec<f64>>,
    /// Number of frequency blocks certified.
    pub blocks: usize,
}

/// Upper bound u ≥ x·2^k (x ≥ 0).
fn scale_up(x: f64, k: i32) -> f64 {
    let r = rounding::scale_pow2(x, k);
    if rounding::scale_pow2(r, -k) == x {
        r
    } else {
        r.next_up()
    }
}

/// The certified circular-embedding bound on ‖A‖₂ for `kernel` under
/// `geometry` (any padding mode, stride, dilation, groups); see the module
/// documentation for the theorem. Exact (up to the certification slack) for
/// circular padding whose outputs are all circular outputs once.
///
/// ```
/// use lipcert::conv::{circular_embedding_bound, Conv2dGeometry, Kernel, PaddingMode};
/// // Circular 1-D difference filter on 8 points: σ = max|1 − e^{−iθ}| = 2.
/// let mut g = Conv2dGeometry::conv1d(1, 1, 2, 8);
/// g.mode = PaddingMode::Circular;
/// g.padding = (0, 0, 0, 1);
/// let k = Kernel::from_f64(1, 1, 1, 2, vec![1.0, -1.0]).unwrap();
/// let b = circular_embedding_bound(&k, &g).unwrap();
/// assert!(b.exact && b.upper >= 2.0 && b.upper < 2.0 * (1.0 + 1e-8));
/// ```
pub fn circular_embedding_bound(
    kernel: &Kernel,
    geometry: &Conv2dGeometry,
) -> Result<EmbeddingBound> {
    kernel.check_matches(geometry)?;
    let plan = EmbeddingPlan::new(geometry);
    let max_abs = kernel.max_abs();
    if max_abs == 0.0 {
        return Ok(EmbeddingBound {
            upper: 0.0,
            spectrum_upper: 0.0,
            spectrum_estimate: 0.0,
            exact: plan.exact,
            plan,
            start_vectors: vec![],
            blocks: 0,
        });
    }
    let e = rounding::exponent_of(max_abs);
    let (scaled, e) = match kernel.scaled_pow2_exact(-e) {
        Some(k) => (k, e),
        None => (kernel.clone(), 0),
    };
    let spec = BlockSpectrum::new(&scaled, geometry.groups, &plan);
    let freqs = spec.frequencies();
    let mut z = Mat::<f64>::zeros(0, 0);
    let count = freqs.len() * spec.groups();
    // Keep the blocks of pass 1 for pass 2 when they fit in 128 MiB.
    let block_bytes = 2 * spec.block_rows() * spec.block_cols() * 8;
    let cache = count.saturating_mul(block_bytes) <= 1 << 27;
    let mut blocks: Vec<Mat<f64>> = Vec::new();
    // Pass 1: rank the blocks by Frobenius norm (a cheap proxy for σ).
    let mut est: Vec<(f64, usize, (usize, usize), usize)> = Vec::with_capacity(count);
    for g in 0..spec.groups() {
        for &w in &freqs {
            spec.fill(g, w, &mut z);
            est.push((frobenius_sq(z.as_ref()), g, w, est.len()));
            if cache {
                blocks.push(z.clone());
            }
        }
    }
    est.sort_by(|a, b| b.0.total_cmp(&a.0));
    // Estimate σ² of the leading blocks; the others keep their Frobenius
    // rank (pass 2 visits blocks in this order, so the candidate bound rises
    // early and few blocks fail their first certificate).
    let mut estimate_sq = 0.0f64;
    let mut best = (est[0].1, est[0].2);
    for item in est.iter().take(REFINE_BLOCKS) {
        let block = if cache {
            blocks[item.3].as_ref()
        } else {
            spec.fill(item.1, item.2, &mut z);
            z.as_ref()
        };
        let v = block_top(block, REFINE_STEPS).value;
        if v > estimate_sq {
            estimate_sq = v;
            best = (item.1, item.2);
        }
    }
    // Pass 2: certify every block at a common candidate s.
    let mut s = rounding::mul_up(rounding::sqrt_up(estimate_sq), 1.0 + SLACK);
    if s.is_nan() || s <= 0.0 {
        s = f64::MIN_POSITIVE;
    }
    for &(_, g, w, index) in &est {
        let block = if cache {
            blocks[index].as_ref()
        } else {
            spec.fill(g, w, &mut z);
            z.as_ref()
        };
        let sb = certify_block(block, s)?;
        if sb > s {
            s = sb;
            best = (g, w);
        }
    }
    drop(blocks);
    let spectrum_scaled = rounding::add_up(s, spec.error_bound());
    let spectrum_upper = scale_up(spectrum_scaled, e);
    let upper = if plan.factor == 1 {
        spectrum_upper
    } else {
        rounding::mul_up(rounding::sqrt_up(plan.factor as f64), spectrum_upper)
    };
    if !upper.is_finite() {
        return Err(Error::Overflow {
            context: "circular-embedding bound of the convolution".into(),
        });
    }
    // Start vectors from the largest block's top right singular vector.
    spec.fill(best.0, best.1, &mut z);
    let pair = block_top(z.as_ref(), (2 * spec.block_cols()).min(60));
    let window = !plan.exact;
    let start_vectors = [0.0, std::f64::consts::FRAC_PI_2]
        .iter()
        .map(|&phase| {
            spec.spatial_vector(&plan, geometry, best.0, best.1, &pair.vector, phase, window)
        })
        .collect();
    Ok(EmbeddingBound {
        upper,
        spectrum_upper,
        spectrum_estimate: rounding::scale_pow2(estimate_sq.max(pair.value).sqrt(), e),
        exact: plan.exact,
        plan,
        start_vectors,
        blocks: est.len(),
    })
}
