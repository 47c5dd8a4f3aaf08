//! Probabilistic upper bounds on σ₁ from Lanczos (or power) iteration with a
//! random start, after Kuczyński & Woźniakowski, "Estimating the largest
//! eigenvalue by the power and Lanczos algorithms with a random start",
//! SIAM J. Matrix Anal. Appl. 13(4):1094–1122, 1992 (tech. report
//! CUCS-465-89).
//!
//! # The bounds used here, with proof
//! Let A = WᵀW (n × n, symmetric positive semidefinite) have eigenvalues
//! λ₁ ≥ … ≥ λₙ ≥ 0 and orthonormal eigenvectors e₁, …, eₙ; let b be uniform
//! on the unit sphere, βᵢ = ⟨b, eᵢ⟩, 0 < ε < 1 and τ = (1 − ε)λ₁.
//! *k products* with A give the Krylov space K_k = span{b, Ab, …, A^{k−1}b}
//! (the k-th product is needed to evaluate the Rayleigh quotient on it).
//! Lanczos returns ξ_k = max_{x ∈ K_k} xᵀAx/xᵀx (k Golub–Kahan steps on W);
//! the power method returns the Rayleigh quotient of x = A^{k−1}b.
//!
//! **Lemma 1 (failure forces a small β₁).** If xᵀAx < τ·xᵀx for
//! x = p(A)b, p a polynomial with p(λ₁) ≠ 0 and |p| ≤ M on [0, τ], then
//! Σᵢ(λᵢ − τ)p(λᵢ)²βᵢ² < 0; the terms with λᵢ ≥ τ are ≥ 0 and the i = 1 term
//! is ελ₁p(λ₁)²β₁², the others are ≥ −(τ − λᵢ)p(λᵢ)²βᵢ², so
//! ελ₁p(λ₁)²β₁² < max_{0≤λ≤τ}(τ − λ)p(λ)² · Σβᵢ² (≤ 1). (If x = 0 then
//! β₁p(λ₁) = 0, i.e. β₁ = 0.)
//!
//! * Lanczos: take p(λ) = T_{k−1}(2λ/τ − 1) (Chebyshev, degree k − 1, so
//!   p(A)b ∈ K_k and ξ_k ≥ its Rayleigh quotient). On [0, τ] |p| ≤ 1, and
//!   p(λ₁) = T_{k−1}((1+ε)/(1−ε)) = cosh(2(k−1)·artanh√ε) ≥ ½e^{2(k−1)√ε}.
//!   Hence failure ξ_k < τ implies |β₁| < s_L = √((1−ε)/ε) / T_{k−1}(…).
//! * Power: p(λ) = λ^{k−1}; max_{0≤λ≤τ}(τ−λ)λ^{2k−2} = τ^{2k−1}c_k with
//!   c_k = (2k−1)⁻¹((2k−2)/(2k−1))^{2k−2} ≤ e^{−(2k−2)/(2k−1)}/(2k−1)
//!   (c₁ = 1), so failure implies |β₁| < s_P = (1−ε)^{k−½}√(c_k/ε).
//!
//! **Lemma 2 (small first coordinate is unlikely).** For b uniform on
//! S^{n−1}, n ≥ 2, P(|β₁| < s) ≤ s·√(2n/π). For n ≥ 3, β₁ has density
//! c_n(1 − x²)^{(n−3)/2} ≤ c_n = Γ(n/2)/(√π Γ((n−1)/2)) ≤ √((n−1)/(2π))
//! (Wendel's inequality Γ(x+½) ≤ √x Γ(x), Amer. Math. Monthly 55, 1948), so
//! P ≤ 2s·c_n ≤ s√(2n/π); for n = 2, P = (2/π)·arcsin(s) ≤ s ≤ s√(4/π).
//! For n = 1, b = ±e₁ and the methods are exact (probability 0).
//!
//! Together: P(ξ_k < (1−ε)λ₁) ≤ √(2n/π)·s. These are the
//! Kuczyński–Woźniakowski bounds up to constants: their Theorems (for the
//! power method ≈ 0.824√n(1−ε)^{k−½}, for Lanczos 1.648√n·e^{−√ε(2k−1)},
//! as quoted in DESIGN.md) are sharper by removing the factor √((1−ε)/ε),
//! at the cost of a more delicate polynomial. We could not check those
//! constants and the exact meaning of k against the paper's full text, so
//! lipcert uses the weaker bounds proved above for its guarantees (for
//! ε = 0.02 they cost about 7 extra Lanczos steps), and exposes the quoted
//! formulas only as [`kw_quoted_lanczos_failure_probability`] and
//! [`kw_quoted_power_failure_probability`] for comparison.
//!
//! No formal proof of these lemmas exists in `proofs/` yet.

use crate::certify::vector_lower::lower_bound_from_vector;
use crate::enclosure::{Enclosure, Guarantee, Method};
use crate::error::{Error, Result};
use crate::estimate::lanczos::{golub_kahan, LanczosOptions};
use crate::operator::LinearOperator;
use crate::rounding;

/// Relative slack applied to every transcendental function value (`ln`,
/// `exp`, `atanh`): we assume the platform's libm is accurate to far better
/// than 10⁻¹² relative (glibc documents ≤ 1–2 ulp ≈ 2·10⁻¹⁶).
const LIBM_SLACK: f64 = 1e-12;

/// Assumed relative agreement between the computed largest Ritz value θ̂² of
/// floating-point Golub–Kahan (with full reorthogonalization) and the
/// exact-arithmetic Krylov maximum ξ_k: θ̂² ≥ (1 − 10⁻⁸)ξ_k. See
/// [`probabilistic_sigma`].
pub const RITZ_VALUE_SLACK: f64 = 1e-8;

/// Upper bound on P(ξ_k < (1−ε)λ₁) for Lanczos with k products with
/// A = WᵀW (k Golub–Kahan steps) from a start uniform on S^{n−1}:
/// min(1, √(2n/π)·√((1−ε)/ε) / cosh(2(k−1)·artanh√ε)), rounded upward
/// (module docs, Lemmas 1–2). Returns 0 when n ≤ 1 or ε ≥ 1 (no failure is
/// possible), 1 when k = 0 or ε ≤ 0 or ε is NaN.
///
/// ```
/// use lipcert::certify::probabilistic::lanczos_failure_probability;
/// let p = lanczos_failure_probability(1000, 100, 0.02);
/// assert!(p > 0.0 && p < 1e-9);
/// ```
pub fn lanczos_failure_probability(n: usize, k: usize, eps: f64) -> f64 {
    if let Some(p) = trivial_probability(n, k, eps) {
        return p;
    }
    // ln of √(2n/π)·√((1−ε)/ε)·2, to be divided by e^{x}, x = 2(k−1)artanh√ε
    // (cosh x ≥ max(1, eˣ/2)).
    let x = 2.0 * (k - 1) as f64 * eps.sqrt().atanh() * (1.0 - LIBM_SLACK);
    let log_front = log_sphere_factor(n) + 0.5 * ((1.0 - eps) / eps).ln();
    let log_p = log_front + (std::f64::consts::LN_2 - x).min(0.0);
    exp_up(log_p)
}

/// Upper bound on P(ρ_k < (1−ε)λ₁) for the power method, where ρ_k is the
/// Rayleigh quotient of A^{k−1}b (k products with A = WᵀW):
/// min(1, √(2n/π)·(1−ε)^{k−½}·√(c_k/ε)) with
/// c_k ≤ e^{−(2k−2)/(2k−1)}/(2k−1), rounded upward (module docs). Same
/// special cases as [`lanczos_failure_probability`].
///
/// ```
/// use lipcert::certify::probabilistic::power_failure_probability;
/// assert!(power_failure_probability(1000, 2000, 0.02) < 1e-10);
/// ```
pub fn power_failure_probability(n: usize, k: usize, eps: f64) -> f64 {
    if let Some(p) = trivial_probability(n, k, eps) {
        return p;
    }
    let two_k_minus_1 = (2 * k - 1) as f64;
    let log_c = -(two_k_minus_1.ln()) - (two_k_minus_1 - 1.0) / two_k_minus_1;
    let log_p = log_sphere_factor(n) + (k as f64 - 0.5) * (-eps).ln_1p() + 0.5 * (log_c - eps.ln());
    exp_up(log_p)
}

/// The smallest number of Lanczos steps k with
/// [`lanczos_failure_probability`]`(n, k, eps) ≤ delta`, or `usize::MAX` when
/// no k works (`eps ≤ 0`, `delta ≤ 0`, NaN).
///
/// ```
/// use lipcert::certify::probabilistic::{lanczos_failure_probability, steps_for};
/// let k = steps_for(4096, 0.02, 1e-6);
/// assert!(lanczos_failure_probability(4096, k, 0.02) <= 1e-6);
/// assert!(lanczos_failure_probability(4096, k - 1, 0.02) > 1e-6);
/// ```
pub fn steps_for(n: usize, eps: f64, delta: f64) -> usize {
    if delta.is_nan() || eps.is_nan() || delta <= 0.0 || eps <= 0.0 {
        return usize::MAX;
    }
    let ok = |k: usize| lanczos_failure_probability(n, k, eps) <= delta;
    if ok(0) {
        return 0;
    }
    // Exponential search, then bisection (the bound is non-increasing in k).
    let mut hi = 1usize;
    while !ok(hi) {
        if hi > (1usize << 50) {
            return usize::MAX;
        }
        hi *= 2;
    }
    let mut lo = hi / 2; // !ok(lo) (or lo = 0)
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if ok(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// The bound 1.648·√n·e^{−√ε(2k−1)} for Lanczos *as quoted* in DESIGN.md
/// from Kuczyński & Woźniakowski (1992), capped at 1. Not verified against
/// the paper and not used by any guarantee; for comparison only.
pub fn kw_quoted_lanczos_failure_probability(n: usize, k: usize, eps: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    (1.648 * (n as f64).sqrt() * (-(eps.sqrt()) * (2 * k - 1) as f64).exp()).min(1.0)
}

/// The bound 0.824·√n·(1−ε)^{k−½} for the power method *as quoted* in
/// DESIGN.md, capped at 1. Not verified and not used by any guarantee.
pub fn kw_quoted_power_failure_probability(n: usize, k: usize, eps: f64) -> f64 {
    (0.824 * (n as f64).sqrt() * (1.0 - eps).powf(k as f64 - 0.5)).min(1.0)
}

/// An enclosure of σ₁(W) whose lower end is rigorous and whose upper end
/// holds with probability ≥ 1 − `failure_probability` over the random start
/// drawn from `seed`, with upper/lower ≤ 1 + `rel_width` (up to the measured
/// rounding slack, see below).
///
/// # Method
/// 1. ε is chosen with (1−ε)(1−10⁻⁸)² = 1/(1 + rel_width)², and k =
///    [`steps_for`]`(n, ε, failure_probability)`, n = `ncols`.
/// 2. k Golub–Kahan steps ([`golub_kahan`] with `tol = 0`) from a start
///    uniform on S^{n−1} give the Ritz value θ̂ and Ritz vector y. (A
///    breakdown before k steps means the Krylov space is invariant and ξ = λ₁
///    exactly, so fewer steps lose nothing.)
/// 3. lower ℓ = [`lower_bound_from_vector`]`(W, y)` — rigorous, ℓ ≤ ‖Wy‖/‖y‖ ≤ σ₁.
/// 4. τ = 1 − ℓ²/θ̂² (rounded up, ≥ 0) is the *measured* gap between the
///    rigorous ℓ² and the computed Ritz value.
/// 5. upper = ℓ / √((1−τ)(1−10⁻⁸)(1−ε)), rounded upward.
///
/// # Why the upper bound holds with probability ≥ 1 − δ
/// By the module's lemmas, with probability ≥ 1 − p (p =
/// [`lanczos_failure_probability`]`(n, k, ε)` ≤ δ, reported in the
/// [`Guarantee`]) the exact Krylov maximum satisfies ξ_k ≥ (1−ε)σ₁². By
/// definition of τ, ℓ² ≥ (1−τ)θ̂², and under assumption (b) below
/// θ̂² ≥ (1−10⁻⁸)ξ_k; so ℓ² ≥ (1−τ)(1−10⁻⁸)(1−ε)σ₁², i.e. σ₁ ≤ upper.
///
/// We do *not* use θ̂ itself as θ: it is only approximately a Krylov Rayleigh
/// quotient. ℓ² is a rigorous lower bound on a Rayleigh quotient of W, and
/// the only non-rigorous link, θ̂ vs ξ_k, is given a margin 10⁻⁸ that is
/// about 10⁵–10⁷ times the rounding error expected from Lanczos with full
/// reorthogonalization (backward error O(k·u·‖W‖)).
///
/// # Assumptions (beyond IEEE binary64)
/// (a) the seeded pseudo-random start ([`crate::random::Rng::unit_vector`])
/// is treated as uniform on the sphere; (b) θ̂² ≥ (1 − 10⁻⁸)·ξ_k
/// ([`RITZ_VALUE_SLACK`]) — this includes that a breakdown declared by
/// [`golub_kahan`] (α or β below 200·u·‖B‖) is a true invariant subspace,
/// which can fail only when b's component along the top eigenvector is of
/// order u, an event of probability about u·√n; (c) libm's `ln`/`exp`/`atanh` are accurate to
/// 10⁻¹² relative.
///
/// # Errors
/// [`Error::InvalidOption`] for δ ∉ (0, 1) or `rel_width` not in
/// [10⁻⁶, ∞); [`Error::Empty`] for an operator with a zero dimension;
/// [`Error::CertificateFailed`] when ℓ = 0 (a zero operator, one whose
/// norm is swamped by rounding, or one so large or small that the unscaled
/// norms in [`lower_bound_from_vector`] overflow/underflow: handle rank 0
/// and scale dense matrices with [`crate::DenseMatrix::normalized_scale`]
/// before calling); errors of [`golub_kahan`].
///
/// ```
/// use lipcert::{DenseMatrix, Guarantee};
/// use lipcert::certify::probabilistic::probabilistic_sigma;
/// let w = DenseMatrix::from_fn(40, 30, |i, j| ((i * 7 + j * 3) % 11) as f64 - 5.0).unwrap();
/// let e = probabilistic_sigma(&w, 1e-6, 1e-2, 42).unwrap();
/// let exact = lipcert::estimate::svd::faer_top(&w).unwrap().sigma;
/// assert!(e.lower() <= exact && exact <= e.upper());
/// assert!(e.upper() / e.lower() <= 1.0 + 1e-2 + 1e-9);
/// assert!(matches!(e.guarantee(), Guarantee::Probabilistic { failure_probability } if failure_probability <= 1e-6));
/// ```
pub fn probabilistic_sigma<A: LinearOperator + ?Sized>(
    op: &A,
    failure_probability: f64,
    rel_width: f64,
    seed: u64,
) -> Result<Enclosure> {
    let delta = failure_probability;
    if !(delta > 0.0 && delta < 1.0) {
        return Err(Error::InvalidOption(format!(
            "failure probability {delta} must lie strictly between 0 and 1"
        )));
    }
    if !(rel_width >= 1e-6 && rel_width.is_finite()) {
        return Err(Error::InvalidOption(format!(
            "relative width {rel_width} must be a finite number of at least 1e-6 \
             (use a rigorous method for tighter enclosures)"
        )));
    }
    let (m, n) = (op.nrows(), op.ncols());
    if m == 0 || n == 0 {
        return Err(Error::Empty { rows: m, cols: n });
    }
    let slack = (1.0 - RITZ_VALUE_SLACK) * (1.0 - RITZ_VALUE_SLACK);
    let eps = 1.0 - 1.0 / ((1.0 + rel_width) * (1.0 + rel_width) * slack);
    let k = steps_for(n, eps, delta).max(1);
    if k == usize::MAX {
        return Err(Error::InvalidOption(format!(
            "no step count reaches failure probability {delta} at relative width {rel_width}"
        )));
    }
    let options = LanczosOptions {
        max_steps: k,
        tol: 0.0,
        seed,
        start: None,
    };
    let result = golub_kahan(op, &options)?;
    let p = lanczos_failure_probability(n, k, eps);
    let lower = lower_bound_from_vector(op, &result.right);
    if lower.is_nan() || lower <= 0.0 {
        return Err(Error::CertificateFailed(
            "the Lanczos Ritz vector gives no positive lower bound (zero operator, or σ swamped \
             by rounding); treat rank 0 before calling probabilistic_sigma"
                .into(),
        ));
    }
    let theta = result.sigma;
    let ratio = rounding::div_down(
        rounding::mul_down(lower, lower),
        rounding::mul_up(theta, theta),
    );
    let one_minus_tau = if ratio >= 1.0 { 1.0 } else { ratio };
    let denominator = rounding::mul_down(
        rounding::mul_down(one_minus_tau, rounding::sub_down(1.0, RITZ_VALUE_SLACK)),
        rounding::sub_down(1.0, eps),
    );
    if denominator.is_nan() || denominator <= 0.0 {
        return Err(Error::CertificateFailed(
            "the rigorous lower bound is too far below the Ritz value".into(),
        ));
    }
    let upper = rounding::div_up(lower, rounding::sqrt_down(denominator));
    Enclosure::new(
        lower,
        upper,
        theta,
        Guarantee::Probabilistic {
            failure_probability: p.max(f64::MIN_POSITIVE),
        },
        Method::Lanczos,
        "Ritz-vector lower bound; random-start Lanczos upper bound (Kuczynski-Wozniakowski type)",
    )
}

/// The cases with an obvious answer: n ≤ 1 or ε ≥ 1 → 0; k = 0, ε ≤ 0 or
/// NaN → 1.
fn trivial_probability(n: usize, k: usize, eps: f64) -> Option<f64> {
    if eps.is_nan() || eps <= 0.0 {
        return Some(1.0);
    }
    if n <= 1 || eps >= 1.0 {
        return Some(0.0);
    }
    if k == 0 {
        return Some(1.0);
    }
    None
}

/// ln √(2n/π), rounded up by the libm slack.
fn log_sphere_factor(n: usize) -> f64 {
    let v = 0.5 * (2.0 * n as f64 / std::f64::consts::PI).ln();
    v + LIBM_SLACK * v.abs() + 1e-300
}

/// min(1, e^{x}) rounded upward with slack for the computation of x itself
/// (absolute 10⁻¹²·(|x| + 1)) and for `exp`.
fn exp_up(x: f64) -> f64 {
    let x = x + LIBM_SLACK * (x.abs() + 1.0);
    if x >= 0.0 {
        return 1.0;
    }
    (x.exp() * (1.0 + LIBM_SLACK)).next_up().min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_cases() {
        assert_eq!(lanczos_failure_probability(1, 5, 0.1), 0.0);
        assert_eq!(lanczos_failure_probability(10, 0, 0.1), 1.0);
        assert_eq!(lanczos_failure_probability(10, 5, 0.0), 1.0);
        assert_eq!(lanczos_failure_probability(10, 5, 1.0), 0.0);
        assert_eq!(power_failure_probability(10, 5, f64::NAN), 1.0);
        assert_eq!(steps_for(10, 0.0, 0.1), usize::MAX);
        assert_eq!(steps_for(1, 0.1, 0.1), 0);
    }
}
