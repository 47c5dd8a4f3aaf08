//! A certified enclosure of σ(W) for a small dense matrix (the explicit
//! convolution matrix, the reshaped kernel): Gram + Rump–Cholesky
//! certificate for the upper bound, the vector lower bound for the lower one.
//! (The crate-level `sigma` entry point supersedes this once it lands.)

use crate::certify::gram::GramWithError;
use crate::certify::pd_upper::certify_upper;
use crate::certify::vector_lower::lower_bound_from_vector;
use crate::enclosure::{Enclosure, Guarantee, Method};
use crate::error::{Error, Result};
use crate::matrix::DenseMatrix;
use crate::rounding;
use faer::Side;

/// Certified enclosure of σ(A) for a matrix A with ‖A − W‖₂ ≤ `error`,
/// where `w` is the stored (computed) matrix W.
///
/// # Theorem
/// Upper: σ(S) < s ⇔ s²I − SᵀS ≻ 0 on the power-of-two scaled matrix S
/// (Certificate.v `psd_iff_norm_bound`, certified by
/// [`certify_upper`]); lower: σ(S) ≥ ‖Sv‖/‖v‖ with rounding bounded
/// ([`lower_bound_from_vector`]). Both are mapped back through the scaling and
/// widened by `error` with Weyl's inequality |σ(A) − σ(W)| ≤ ‖A − W‖₂.
///
/// Proof: proofs/theories/Norms.v, `weyl_upper`
///
/// The Gram matrix is formed on the smaller side (σ(W) = σ(Wᵀ)), so the cost
/// is O(mn·min(m, n)); callers bound the size.
pub fn dense_enclosure(w: &DenseMatrix, error: f64) -> Result<Enclosure> {
    let w = if w.nrows() < w.ncols() {
        w.transpose()
    } else {
        w.clone()
    };
    let (lower, upper, estimate) = if w.is_zero() {
        (0.0, 0.0, 0.0)
    } else {
        let scaled = w.normalized_scale()?;
        let s = &scaled.matrix;
        let gram = GramWithError::new(s);
        let eig = gram
            .lower
            .self_adjoint_eigen(Side::Lower)
            .map_err(|e| Error::EstimatorFailed(format!("Gram eigen-decomposition: {e:?}")))?;
        let vals = eig.S().column_vector();
        let n = vals.nrows();
        let mut best = 0;
        for k in 0..n {
            if vals[k] > vals[best] {
                best = k;
            }
        }
        let top = vals[best].max(0.0);
        let v: Vec<f64> = (0..n).map(|i| eig.U()[(i, best)]).collect();
        let lower_s = lower_bound_from_vector(s, &v);
        let mut cand = rounding::sqrt_up(rounding::add_up(top, gram.radius));
        let mut rel = 1e-13;
        let mut certified = None;
        for _ in 0..80 {
            cand = rounding::mul_up(cand, 1.0 + rel);
            if certify_upper(&gram, cand).is_ok() {
                certified = Some(cand);
                break;
            }
            rel *= 2.0;
        }
        let upper_s = certified.ok_or_else(|| {
            Error::CertificateFailed(format!("dense certificate failed up to {cand:e}"))
        })?;
        (
            scaled.lower_to_original(lower_s),
            scaled.upper_to_original(upper_s)?,
            scaled.estimate_to_original(top.sqrt()),
        )
    };
    let (lower, upper) = weyl_widened(lower, upper, error);
    Enclosure::new(
        lower,
        upper,
        estimate,
        Guarantee::Rigorous,
        Method::Svd,
        "vector lower bound + Gram/Cholesky PD certificate (dense)",
    )
}

/// Certified enclosure of σ(A) for a matrix A with ‖A − W‖₂ ≤ `error`, by
/// the crate's [`crate::sigma::sigma`] (Lanczos estimate, vector lower
/// bound, Cholesky certificate: no full eigendecomposition, so it scales to
/// a few thousand columns) with target relative width `rel_width`, then
/// widened by `error` with Weyl's inequality |σ(A) − σ(W)| ≤ ‖A − W‖₂.
///
/// Proof: proofs/theories/Norms.v, `weyl_upper`
pub fn sigma_enclosure(w: &DenseMatrix, error: f64, rel_width: f64) -> Result<Enclosure> {
    let options = crate::sigma::SigmaOptions {
        rel_width: rel_width.max(1e-15),
        ..crate::sigma::SigmaOptions::default()
    };
    let e = crate::sigma::sigma(w, &options)?;
    if error > 0.0 {
        let (lower, upper) = weyl_widened(e.lower(), e.upper(), error);
        Enclosure::new(
            lower,
            upper,
            e.estimate(),
            e.guarantee(),
            e.method(),
            e.certificate(),
        )
    } else {
        Ok(e)
    }
}

/// [lower, upper] ∋ σ(W) widened to an enclosure of σ(A) for any A with
/// ‖A − W‖₂ ≤ `error`: Weyl's inequality |σ(A) − σ(W)| ≤ ‖A − W‖₂
/// (proofs/theories/Norms.v, `weyl_upper`), rounded outward and clamped at 0.
fn weyl_widened(lower: f64, upper: f64, error: f64) -> (f64, f64) {
    if error > 0.0 {
        (
            rounding::sub_down(lower, error).max(0.0),
            rounding::add_up(upper, error),
        )
    } else {
        (lower, upper)
    }
}
