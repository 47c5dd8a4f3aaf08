//! Turning an estimate (σ̃, ṽ) into a tight rigorous enclosure: the vector
//! lower bound plus the Cholesky upper certificate, with inverse iteration on
//! the certified factor to sharpen the vector when the lower bound lags.

use super::binary32_upper::{
    certify_upper_binary32, measured_shift_binary32, BINARY32, MAX_BINARY32_DIM,
};
use super::gram::GramWithError;
use super::pd_upper::{certify_upper_measured, certify_upper_with, PdCertificate, PdFailure};
use super::vector_lower::lower_bound_from_vector;
use crate::columns::{column, column_mut};
use crate::matrix::DenseMatrix;
use crate::rounding;
use faer::linalg::triangular_solve::{
    solve_lower_triangular_in_place, solve_upper_triangular_in_place,
};
use faer::{Mat, Par};

/// A rigorous enclosure of σ(S) in the units of S, with the estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaledBounds {
    /// Rigorous lower bound.
    pub lower: f64,
    /// Rigorous upper bound.
    pub upper: f64,
    /// Best estimate.
    pub estimate: f64,
}

/// Largest number of shifted Cholesky factorizations one enclosure may use.
pub(crate) const MAX_FACTORIZATIONS: usize = 24;

/// The smallest relative gap δ (in σ) Rump's a-priori certificate
/// ([`certify_upper_with`]) of `gram` can resolve near σ ≈ `estimate`:
/// Rump's shift c for A ≈ s²I − C plus the Gram radius ρ, relative to s²;
/// s = σ(1 + δ) gives s² − σ² ≈ 2δσ², so δ = (c + ρ)/s² leaves a factor 2
/// of headroom for Cholesky's own rounding on the nearly singular A. Only
/// steers the choice of shifts.
pub fn apriori_floor(gram: &GramWithError, estimate: f64) -> f64 {
    let n = gram.dim();
    let est_sq = (estimate * estimate).max(f64::MIN_POSITIVE);
    let trace_c: f64 = (0..n).map(|i| gram.lower[(i, i)]).sum();
    let trace_a = (n as f64 * est_sq - trace_c).max(0.0);
    (super::pd_upper::rump_shift(n, trace_a, est_sq) + gram.radius) / est_sq
}

/// The same for the a-posteriori certificate ([`certify_upper_measured`]),
/// whose shift β·‖|L|‖₂² is known only after the factorization: guessed
/// with ‖|L|‖₂² ≈ 2√n·s² (measured 23·s² at n = 512 and 76·s² at
/// n = 2048 on random matrices: about 1–1.7√n). Only steers.
pub fn measured_floor(gram: &GramWithError, estimate: f64) -> f64 {
    let n = gram.dim();
    let est_sq = (estimate * estimate).max(f64::MIN_POSITIVE);
    let r_guess = 2.0 * (n as f64).sqrt() * est_sq;
    (super::pd_upper::measured_shift(n, r_guess, est_sq) + gram.radius) / est_sq
}

/// The same for the binary32 certificate ([`certify_upper_binary32`]):
/// its shift with binary32's constants and the guess ‖|L|‖₂² ≈ 2√n·s²,
/// plus the Gram radius and a guess n·u₃₂·max c_ii of the conversion
/// radius. Only steers; +∞ above its dimension bound.
pub fn binary32_floor(gram: &GramWithError, estimate: f64) -> f64 {
    let n = gram.dim();
    if n > MAX_BINARY32_DIM {
        return f64::INFINITY;
    }
    let est_sq = (estimate * estimate).max(f64::MIN_POSITIVE);
    let r_guess = 2.0 * (n as f64).sqrt() * est_sq;
    let conversion = n as f64 * BINARY32.unit_roundoff * gram.max_diag();
    (measured_shift_binary32(n, r_guess, est_sq) + gram.radius + conversion) / est_sq
}

/// Matrices below this dimension keep the binary64 factorization even when
/// the binary32 certificate would reach the width: there the O(n²) passes
/// around the binary32 factorization (conversions, the Schur bound) cost
/// about what the binary32 factorization saves (one certificate, one
/// thread, random square S: 1.6 vs 1.7 ms at n = 512, 9.5 vs 11 ms at
/// 1024, 75 vs 97 ms at 2048, 0.45 vs 0.65 s at 4096).
pub const BINARY32_MIN_DIM: usize = 1024;

/// Which certificate serves `rel_width` near σ ≈ `estimate`, and the floor
/// it can resolve: the binary32 one ([`binary32_floor`]) when the width is
/// loose enough for it and n ≥ [`BINARY32_MIN_DIM`]; else Rump's
/// a-priori one ([`apriori_floor`]) when the width is within its reach
/// (one factorization, nothing more), else the a-posteriori one
/// ([`measured_floor`]; the factorization plus a few O(n²) passes over the
/// factor).
pub fn certificate_floor(
    gram: &GramWithError,
    estimate: f64,
    rel_width: f64,
) -> (f64, Certificate) {
    if gram.dim() >= BINARY32_MIN_DIM {
        let binary32 = binary32_floor(gram, estimate);
        if rel_width / 4.0 >= binary32 {
            return (binary32, Certificate::Binary32);
        }
    }
    binary64_certificate_floor(gram, estimate, rel_width)
}

/// [`certificate_floor`] among the binary64 certificates only.
fn binary64_certificate_floor(
    gram: &GramWithError,
    estimate: f64,
    rel_width: f64,
) -> (f64, Certificate) {
    let apriori = apriori_floor(gram, estimate);
    if rel_width / 4.0 >= apriori {
        (apriori, Certificate::Apriori)
    } else {
        (
            measured_floor(gram, estimate).min(apriori),
            Certificate::Measured,
        )
    }
}

/// The three upper certificates [`enclose_from_estimate`] can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Certificate {
    /// Rump's criterion with the a-priori shift ([`certify_upper_with`]).
    Apriori,
    /// The a-posteriori shift measured on the factor
    /// ([`certify_upper_measured`]).
    Measured,
    /// The a-posteriori criterion with the factorization in binary32
    /// ([`certify_upper_binary32`]).
    Binary32,
}

impl Certificate {
    fn certify(
        self,
        gram: &GramWithError,
        s: f64,
        threads: usize,
    ) -> Result<PdCertificate, PdFailure> {
        match self {
            Certificate::Apriori => certify_upper_with(gram, s, threads),
            Certificate::Measured => certify_upper_measured(gram, s, threads),
            Certificate::Binary32 => certify_upper_binary32(gram, s, threads),
        }
    }
}

/// Encloses σ(S) to relative width `rel_width` (when the input allows),
/// starting from an estimate σ̃ (believed accurate to `estimate_rel_error`,
/// relative) and an approximate right singular vector ṽ.
///
/// # Method
/// - lower: [`lower_bound_from_vector`] (σ ≥ ‖Sv‖/‖v‖, rigorous);
/// - upper: [`certify_upper`](super::pd_upper::certify_upper) (s²I − SᵀS ≻ 0 ⇒ σ < s, rigorous) at
///   s = max(σ̃, lower)·(1 + δ), with δ growing ×4 on failure; when the
///   width is below that certificate's floor (large n, tight widths), the
///   a-posteriori [`certify_upper_measured`] instead (σ < √(s² + c), c
///   measured on the factor), and for loose widths on n ≥
///   [`BINARY32_MIN_DIM`] the same criterion with a binary32 factorization
///   ([`certify_upper_binary32`]; see [`certificate_floor`]);
/// - refinement: the certified factor L (LLᵀ ≈ s²I − SᵀS, smallest eigenvalue
///   ≈ s² − σ²) drives inverse iteration x ← (LLᵀ)⁻¹x, which converges to v₁
///   at rate (s² − σ₁²)/(s² − σ₂²); the improved vector gives a better lower
///   bound and a smaller next s. No guarantee rests on the refinement: every
///   reported bound comes from the two certificates.
///
/// If no shift certifies within the budget, the upper bound falls back to the
/// rigorous ‖S‖_F (proof: proofs/theories/Norms.v, `spectral_le_frobenius`).
///
/// S is expected scaled (largest entry in [1, 2)) with nrows ≥ ncols, and
/// `gram` must be [`GramWithError::new`] (or `new_with`) of this S: both
/// certificates are about its Gram matrix and its Frobenius bound.
pub fn enclose_from_estimate(
    s: &DenseMatrix,
    gram: &GramWithError,
    estimate: f64,
    vector: &[f64],
    estimate_rel_error: f64,
    rel_width: f64,
) -> ScaledBounds {
    enclose_from_estimate_with(s, gram, estimate, vector, estimate_rel_error, rel_width, 1)
}

/// [`enclose_from_estimate`] with the certificate's factorizations split
/// over `threads` threads (see [`crate::parallel`]; the same theorems).
pub fn enclose_from_estimate_with(
    s: &DenseMatrix,
    gram: &GramWithError,
    estimate: f64,
    vector: &[f64],
    estimate_rel_error: f64,
    rel_width: f64,
    threads: usize,
) -> ScaledBounds {
    let timer = crate::timing::stage();
    let lower = lower_bound_from_vector(s, vector);
    timer.done(|| format!("vector lower bound {}x{}", s.nrows(), s.ncols()));
    let start = Start {
        estimate,
        vector,
        lower,
        estimate_rel_error,
        max_factorizations: MAX_FACTORIZATIONS,
    };
    enclose_from_lower(s, gram, start, rel_width, threads)
}

/// Where [`enclose_from_lower`] starts: an estimate σ̃ of σ(S), believed
/// accurate to `estimate_rel_error` (relative), a vector ṽ, and `lower`
/// = [`lower_bound_from_vector`]`(S, ṽ)`.
pub(crate) struct Start<'a> {
    /// σ̃, the estimate (only steers where the first certificate is tried).
    pub estimate: f64,
    /// ṽ, the approximate right singular vector (refined on the way).
    pub vector: &'a [f64],
    /// ‖Sṽ‖/‖ṽ‖ rounded down: the rigorous lower bound of ṽ.
    pub lower: f64,
    /// How far σ̃ is believed to be from σ, relative.
    pub estimate_rel_error: f64,
    /// Most Cholesky factorizations to spend (at most
    /// [`MAX_FACTORIZATIONS`]); a caller that can fall back to a better
    /// estimate spends few on a doubtful one.
    pub max_factorizations: usize,
}

/// [`enclose_from_estimate_with`] when the vector's lower bound is already
/// known (the caller computed it with [`lower_bound_from_vector`]: `lower`
/// is a rigorous lower bound whatever its origin, so passing it on only
/// saves the product).
pub(crate) fn enclose_from_lower(
    s: &DenseMatrix,
    gram: &GramWithError,
    start: Start<'_>,
    rel_width: f64,
    threads: usize,
) -> ScaledBounds {
    let Start {
        estimate,
        vector,
        lower,
        estimate_rel_error,
        max_factorizations,
    } = start;
    let max_factorizations = max_factorizations.min(MAX_FACTORIZATIONS);
    let mut v = vector.to_vec();
    let mut lower = lower;
    let mut est = estimate.max(lower);
    // ‖S‖_F rounded up, computed with the Gram matrix of this S.
    let fro = gram.frobenius;
    let mut upper = fro;
    // The smallest relative gap the certificate can resolve (the shift plus
    // the Gram radius ρ, relative to s²; see `apriori_floor`), and which
    // certificate: the a-posteriori one only when the width needs it.
    let n = gram.dim();
    let (mut floor, mut certificate) = certificate_floor(gram, est, rel_width);
    let mut delta = (rel_width / 4.0).max(floor).max(2.0 * estimate_rel_error);
    let mut factorizations = 0;
    // The largest shift whose certificate failed (only steers the
    // refinement: a failure is no proof that σ lies above it).
    let mut failed_above = 0.0f64;
    while factorizations < max_factorizations {
        let target = rounding::mul_up(est.max(lower), 1.0 + delta);
        if target >= upper {
            break;
        }
        factorizations += 1;
        let timer = crate::timing::stage();
        let attempt = certificate.certify(gram, target, threads);
        timer.done(|| {
            format!(
                "certificate {n} #{factorizations} ({certificate:?}) at 1+{:.1e} ({})",
                target / est.max(lower) - 1.0,
                if attempt.is_ok() {
                    "certified"
                } else {
                    "failed"
                }
            )
        });
        match attempt {
            Ok(cert) => {
                upper = cert.bound;
                if relative_gap(lower, upper) <= rel_width {
                    break;
                }
                // The lower bound lags: sharpen the vector with the factor,
                // three steps at a time while the vector still turns or stays
                // below a shift that failed to certify (then σ₁ is very
                // likely above it: the estimate had found σ₂, and the vector
                // gains its v₁ part at (s² − σ₂²)/(s² − σ₁²) a step, which
                // turns it too little to see at first), up to
                // MAX_INVERSE_STEPS.
                let timer = crate::timing::stage();
                let factor = cert.factor.to_binary64();
                let mut steps = 0;
                loop {
                    let (improved, turning) = inverse_iteration(&factor, &v, 3);
                    steps += 3;
                    let l = lower_bound_from_vector(s, &improved);
                    if l > lower {
                        lower = l;
                    }
                    v = improved;
                    if !(turning || lower < failed_above)
                        || steps >= MAX_INVERSE_STEPS
                        || relative_gap(lower, upper) <= rel_width
                    {
                        break;
                    }
                }
                timer.done(|| format!("inverse iteration ({steps} steps) + lower bound {n}"));
                est = est.max(lower);
                if relative_gap(lower, upper) <= rel_width {
                    break;
                }
                if certificate == Certificate::Binary32 {
                    // Its shift (guessed before, measured now) left the
                    // width unmet: go on in binary64.
                    (floor, certificate) = binary64_certificate_floor(gram, est, rel_width);
                }
                delta = (delta / 16.0).max(floor).max(rel_width / 4.0);
                // Another factorization costs as much as this one: try it
                // only if it can remove at least a quarter of the gap that
                // remains above the requested width (otherwise the width is
                // at the certificate's floor and a retry gains last digits).
                let next = est.max(lower) * (1.0 + delta);
                let gain = (upper - next) / upper;
                if gain < 0.25 * (relative_gap(lower, upper) - rel_width) {
                    break;
                }
            }
            Err(_) => {
                failed_above = failed_above.max(target);
                delta *= 4.0;
                if certificate == Certificate::Binary32 {
                    // Binary32's rounding may be what failed (a failure
                    // proves nothing about σ): go on in binary64, which
                    // certifies whatever binary32 does.
                    (floor, certificate) = binary64_certificate_floor(gram, est, rel_width);
                    delta = delta.max(floor);
                }
            }
        }
    }
    ScaledBounds {
        lower,
        upper,
        estimate: est.clamp(lower, upper),
    }
}

/// (upper − lower)/upper (0 when upper is 0): the width an enclosure is
/// asked to reach.
pub(crate) fn relative_gap(lower: f64, upper: f64) -> f64 {
    if upper == 0.0 {
        0.0
    } else {
        (upper - lower) / upper
    }
}

/// k steps of x ← (LLᵀ)⁻¹ x, normalized (estimate only), and whether the
/// last step still turned the vector (1 − |cos| ≥ [`INVERSE_SETTLED`]).
fn inverse_iteration(factor: &Mat<f64>, v: &[f64], steps: usize) -> (Vec<f64>, bool) {
    let l = factor.as_ref();
    let n = v.len();
    let v_norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if !(v_norm > 0.0 && v_norm.is_finite()) {
        return (v.to_vec(), false);
    }
    let mut x = Mat::from_fn(n, 1, |i, _| v[i] / v_norm);
    let mut previous = vec![0.0f64; n];
    let mut cosine = 1.0;
    for _ in 0..steps {
        previous.copy_from_slice(column(x.col(0)));
        solve_lower_triangular_in_place(l, x.as_mut(), Par::Seq);
        solve_upper_triangular_in_place(l.transpose(), x.as_mut(), Par::Seq);
        let xs = column_mut(x.col_mut(0));
        let norm = xs.iter().map(|a| a * a).sum::<f64>().sqrt();
        if !(norm > 0.0 && norm.is_finite()) {
            return (v.to_vec(), false);
        }
        for a in xs.iter_mut() {
            *a /= norm;
        }
        cosine = xs
            .iter()
            .zip(&previous)
            .map(|(a, b)| a * b)
            .sum::<f64>()
            .abs();
    }
    let turning = cosine < 1.0 - INVERSE_SETTLED;
    (column(x.col(0)).to_vec(), turning)
}

/// Most inverse-iteration steps after one certificate (each two triangular
/// solves, O(n²): 60 of them cost about a tenth of one factorization at
/// n = 4096).
const MAX_INVERSE_STEPS: usize = 60;

/// 1 − |cos| between the last two inverse iterates below which the vector
/// has settled (its direction moves by about √(2·1e-10) ≈ 1.4e-5).
const INVERSE_SETTLED: f64 = 1e-10;
