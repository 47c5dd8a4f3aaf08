//! Certified Lipschitz constants (ℓ₂ → ℓ₂) of the elementwise activations and
//! of softmax, each as an enclosure `[lower, upper]` of the exact constant.
//!
//! An activation φ applied componentwise has Lipschitz constant sup|φ'| over ℝ
//! (for differentiable φ; mean value theorem per component, then sum the
//! squares). Proof: proofs/theories/Lipschitz.v, `lipschitz_componentwise`.

use crate::error::{Error, Result};
use crate::rounding::{add_down, add_up, div_down, div_up, mul_down, mul_up, UNIT_ROUNDOFF};

/// A certified enclosure `lower ≤ L ≤ upper` of a Lipschitz constant, with the
/// reason it holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConstantEnclosure {
    /// Rigorous lower bound on the constant.
    pub lower: f64,
    /// Rigorous upper bound on the constant.
    pub upper: f64,
    /// The theorem behind the bounds, in words.
    pub reason: &'static str,
}

impl ConstantEnclosure {
    fn exact(value: f64, reason: &'static str) -> Self {
        Self {
            lower: value,
            upper: value,
            reason,
        }
    }
}

/// ReLU: constant exactly 1 (slope 1 on the positive half-line, |relu(a) −
/// relu(b)| ≤ |a − b|). Proof: proofs/theories/Activations.v, `relu_lipschitz`.
pub fn relu() -> ConstantEnclosure {
    ConstantEnclosure::exact(1.0, "relu: |relu(a)-relu(b)| <= |a-b|, slope 1 attained")
}

/// tanh: constant exactly 1 (tanh' = 1 − tanh² ≤ 1, equal to 1 at 0).
/// Proof: proofs/theories/Activations.v, `tanh_lipschitz`.
pub fn tanh() -> ConstantEnclosure {
    ConstantEnclosure::exact(1.0, "tanh: tanh' = 1 - tanh^2 <= 1, = 1 at 0")
}

/// sigmoid: constant exactly ¼ (σ' = σ(1 − σ) ≤ ¼, equal at 0).
/// Proof: proofs/theories/Activations.v, `sigmoid_lipschitz`.
pub fn sigmoid() -> ConstantEnclosure {
    ConstantEnclosure::exact(0.25, "sigmoid: s' = s(1-s) <= 1/4, = 1/4 at 0")
}

/// LeakyReLU with negative slope α: constant exactly max(1, |α|) (piecewise
/// linear with slopes 1 and α). An α that is not finite is an error.
/// Proof: proofs/theories/Activations.v, `leaky_relu_lipschitz`.
pub fn leaky_relu(negative_slope: f64) -> Result<ConstantEnclosure> {
    if !negative_slope.is_finite() {
        return Err(Error::InvalidOption(format!(
            "leaky_relu negative_slope {negative_slope} is not finite"
        )));
    }
    Ok(ConstantEnclosure::exact(
        negative_slope.abs().max(1.0),
        "leaky_relu: slopes 1 and alpha, constant max(1, |alpha|)",
    ))
}

/// softmax over a slice of length `n` (applied independently to several
/// slices the constant is the same, since the squared output differences add).
///
/// For n ≥ 2 the ℓ₂ constant is exactly ½. Theorem: the Jacobian of softmax at
/// x is J = diag(p) − ppᵀ (p = softmax(x)), symmetric positive semidefinite;
/// by Gershgorin its largest eigenvalue is at most
/// maxᵢ (pᵢ − pᵢ² + pᵢ Σ_{j≠i} pⱼ) = maxᵢ 2pᵢ(1 − pᵢ) ≤ ½, so ‖J‖₂ ≤ ½ and by
/// the mean value inequality on the convex domain ℝⁿ the map is ½-Lipschitz.
/// For n = 2 at x = 0, J = [[¼, −¼], [−¼, ¼]] has eigenvalue ½, so ½ is
/// attained (for n > 2 it is the supremum, approached when two coordinates are
/// equal and the others tend to −∞). Gao & Pavel, "On the properties of the
/// softmax function with application in game theory and reinforcement
/// learning" (2017), prove the weaker constant 1 (their Prop. 4 with λ = 1);
/// the ½ used here is the Gershgorin bound above. For n = 1 softmax is the
/// constant 1 and its Lipschitz constant is 0.
pub fn softmax(n: usize) -> ConstantEnclosure {
    if n <= 1 {
        ConstantEnclosure::exact(0.0, "softmax over one element is constant")
    } else {
        ConstantEnclosure::exact(
            0.5,
            "softmax: Jacobian diag(p)-pp^T has norm <= max 2p(1-p) <= 1/2 (Gershgorin), sup attained",
        )
    }
}

/// GELU (exact form x·Φ(x), PyTorch `approximate='none'`): constant
/// L = ½ + erf(1)/2 + 1/(e√π) ≈ 1.1289041451851548.
///
/// Theorem (closed form, no library function evaluated): f'(x) = Φ(x) + xφ(x)
/// and f''(x) = φ(x)(2 − x²), so f' decreases on (−∞, −√2], increases on
/// [−√2, √2] and decreases on [√2, ∞), with limits 0 at −∞ and 1 at +∞. Hence
/// f' ∈ [f'(−√2), f'(√2)], and f'(x) + f'(−x) = 1 gives |f'(−√2)| = f'(√2) − 1.
/// So sup|f'| = f'(√2) = Φ(√2) + √2·φ(√2) = (1 + erf(1))/2 + e⁻¹/√π.
/// The decimal value below has 40 correct digits (computed with mpmath at 40
/// digits; erf(1) = 0.8427007929497148693412…, e⁻¹/√π = 0.2075537487102973516…);
/// parsing rounds it to nearest, and the enclosure is the neighbouring floats
/// on either side, which contain the real number.
pub fn gelu() -> ConstantEnclosure {
    // 1.128904145185154786340744442261973312332 (40 digits)
    // Rust's decimal parsing is correctly rounded (to nearest).
    let nearest: f64 = "1.128904145185154786340744442261973312332"
        .parse()
        .expect("valid decimal literal");
    ConstantEnclosure {
        lower: nearest.next_down(),
        upper: nearest.next_up(),
        reason: "gelu: sup|f'| = f'(sqrt 2) = (1+erf 1)/2 + 1/(e sqrt(pi)) (f'' = phi(x)(2-x^2))",
    }
}

/// Assumed bound on the relative error of `f64::exp` (the platform libm):
/// |exp_computed(x) − eˣ| ≤ 4u·eˣ with u = 2⁻⁵³. Common libms (glibc, musl,
/// the LLVM/Rust fallback) are accurate to < 1 ulp (≤ 2u); the factor 2 is a
/// margin. This is an assumption, not a theorem.
pub const EXP_RELATIVE_ERROR: f64 = 4.0 * UNIT_ROUNDOFF;

fn exp_up(x: f64) -> f64 {
    mul_up(x.exp(), add_up(1.0, EXP_RELATIVE_ERROR))
}

fn exp_down(x: f64) -> f64 {
    mul_down(x.exp(), 1.0 - EXP_RELATIVE_ERROR)
}

/// Upper bound on the logistic function s(x) = 1/(1 + e⁻ˣ).
fn logistic_up(x: f64) -> f64 {
    div_up(1.0, add_down(1.0, exp_down(-x)))
}

/// Lower bound on the logistic function s(x) = 1/(1 + e⁻ˣ).
fn logistic_down(x: f64) -> f64 {
    div_down(1.0, add_up(1.0, exp_up(-x)))
}

/// Upper bound of SiLU' on [a, b] ⊂ [0, ∞): f'(x) = s(x)(1 + x·s(−x)) with s
/// increasing, so f'(x) ≤ s(b)(1 + b·s(−a)).
fn silu_derivative_upper_on(a: f64, b: f64) -> f64 {
    mul_up(logistic_up(b), add_up(1.0, mul_up(b, logistic_up(-a))))
}

/// Lower bound of SiLU'(x) at one point x ≥ 0.
fn silu_derivative_lower_at(x: f64) -> f64 {
    mul_down(
        logistic_down(x),
        add_down(1.0, mul_down(x, logistic_down(-x))),
    )
}

/// SiLU (x·s(x), s the logistic function): certified enclosure of
/// sup|f'| ≈ 1.0998393201288669 (attained at x* ≈ 2.3994, the root of
/// x·tanh(x/2) = 2).
///
/// Method (branch and bound with outward rounding):
/// * On x ≥ 0, f'(x) = s(x)(1 + x·s(−x)) with every factor nonnegative, s
///   increasing: on [a, b] ⊂ [0, 12], f' ≤ s(b)(1 + b·s(−a)). Intervals whose
///   bound does not exceed the best certified point value are discarded; the
///   others are bisected down to width 2⁻²⁶; the maximum bound over the
///   survivors is the certified upper bound.
/// * Tail x ≥ 12: f'(x) ≤ 1 + x·e⁻ˣ ≤ 1 + 12e⁻¹² < 1.0001 (x·e⁻ˣ decreases
///   for x > 1) — below the value found on [0, 12].
/// * x < 0: f'(−x) = 1 − f'(x) (from s(−x) = 1 − s(x)), and 0 ≤ f'(x) on
///   x ≥ 0, so |f'(−x)| ≤ max(1, sup f' − 1) ≤ sup_{x≥0} f'.
///
/// Assumption: [`EXP_RELATIVE_ERROR`] bounds the error of `f64::exp`; every
/// other operation is rounded outward with `next_up`/`next_down`.
pub fn silu() -> Result<ConstantEnclosure> {
    const MIN_WIDTH: f64 = 1.0 / 67_108_864.0; // 2^-26
    let mut best_lower = 0.0f64;
    let mut work: Vec<(f64, f64)> = (0..48)
        .map(|i| (i as f64 * 0.25, (i + 1) as f64 * 0.25))
        .collect();
    for &(a, b) in &work {
        best_lower = best_lower.max(silu_derivative_lower_at(0.5 * (a + b)));
    }
    let mut upper = 1.0001f64;
    let mut steps = 0usize;
    while let Some((a, b)) = work.pop() {
        steps += 1;
        if steps > 1_000_000 {
            return Err(Error::CertificateFailed(
                "silu constant: branch and bound did not converge".into(),
            ));
        }
        let bound = silu_derivative_upper_on(a, b);
        if bound <= best_lower {
            continue;
        }
        if b - a <= MIN_WIDTH {
            upper = upper.max(bound);
            continue;
        }
        let mid = 0.5 * (a + b);
        best_lower = best_lower.max(silu_derivative_lower_at(mid));
        work.push((a, mid));
        work.push((mid, b));
    }
    Ok(ConstantEnclosure {
        lower: best_lower,
        upper: upper.max(best_lower),
        reason: "silu: branch and bound on f'(x) = s(x)(1 + x s(-x)) over [0, 12], tail and symmetry arguments",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gelu_encloses_mpmath_value_and_is_tight() {
        let g = gelu();
        assert!(g.lower < g.upper);
        assert!(g.upper - g.lower < 1e-15);
        assert!(g.lower < 1.1289041451851548 && 1.1289041451851548 <= g.upper + 1e-16);
    }

    #[test]
    #[allow(clippy::excessive_precision)] // reference digits from mpmath
    fn silu_encloses_independent_value() {
        // mpmath (40 digits): x* = 2.39935728051546766..., f'(x*) = 1.09983932012886691...
        let s = silu().unwrap();
        let truth = 1.099_839_320_128_867;
        assert!(s.lower <= truth && truth <= s.upper, "{s:?}");
        assert!(s.upper - s.lower < 1e-7, "{s:?}");
    }
}
