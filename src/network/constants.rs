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
    let (lower, upper) = branch_and_bound(
        12.0,
        1.0001,
        silu_derivative_upper_on,
        silu_derivative_lower_at,
    )
    .map_err(|e| Error::CertificateFailed(format!("silu constant: {e}")))?;
    Ok(ConstantEnclosure {
        lower,
        upper,
        reason: "silu: branch and bound on f'(x) = s(x)(1 + x s(-x)) over [0, 12], tail and symmetry arguments",
    })
}

/// Branch and bound for max f' over [0, end]: `upper_on(a, b)` bounds f' on
/// [a, b] from above, `lower_at(x)` bounds f'(x) from below; `tail` is a
/// proven bound beyond `end`. Intervals whose bound does not exceed the best
/// certified point value are discarded, the others bisected down to width
/// 2⁻²⁶; returns (best point lower bound, max surviving upper bound).
fn branch_and_bound(
    end: f64,
    tail: f64,
    upper_on: impl Fn(f64, f64) -> f64,
    lower_at: impl Fn(f64) -> f64,
) -> std::result::Result<(f64, f64), &'static str> {
    const MIN_WIDTH: f64 = 1.0 / 67_108_864.0; // 2^-26
    let pieces = 64usize;
    let width = end / pieces as f64;
    let mut work: Vec<(f64, f64)> = (0..pieces)
        .map(|i| {
            (
                i as f64 * width,
                if i + 1 == pieces {
                    end
                } else {
                    (i + 1) as f64 * width
                },
            )
        })
        .collect();
    let mut best_lower = work
        .iter()
        .map(|&(a, b)| lower_at(0.5 * (a + b)))
        .fold(0.0, f64::max);
    let mut upper = tail;
    let mut steps = 0usize;
    while let Some((a, b)) = work.pop() {
        steps += 1;
        if steps > 2_000_000 {
            return Err("branch and bound did not converge");
        }
        let bound = upper_on(a, b);
        if bound <= best_lower {
            continue;
        }
        if b - a <= MIN_WIDTH {
            upper = upper.max(bound);
            continue;
        }
        let mid = 0.5 * (a + b);
        best_lower = best_lower.max(lower_at(mid));
        work.push((a, mid));
        work.push((mid, b));
    }
    Ok((best_lower, upper.max(best_lower)))
}

/// Assumed bound on the relative error of `f64::tanh` (libm): 8u. An
/// assumption, not a theorem (glibc documents ≤ 2 ulp).
pub const TANH_RELATIVE_ERROR: f64 = 8.0 * UNIT_ROUNDOFF;

/// Enclosures of the constants √(2/π) and 0.044715 of the tanh GELU.
fn tanh_gelu_constants() -> ((f64, f64), (f64, f64)) {
    // std::f64::consts::PI < π < PI.next_up() (PI = 3.141592653589793116 < π).
    let pi_lo = std::f64::consts::PI;
    let pi_hi = pi_lo.next_up();
    let c = (
        crate::rounding::sqrt_down(div_down(2.0, pi_hi)),
        crate::rounding::sqrt_up(div_up(2.0, pi_lo)),
    );
    let a: f64 = 0.044715;
    (c, (a.next_down(), a.next_up()))
}

/// g(x) = c(x + a x³) for x ≥ 0, rounded up (`up`) or down.
fn tanh_gelu_g(x: f64, up: bool) -> f64 {
    let ((c_lo, c_hi), (a_lo, a_hi)) = tanh_gelu_constants();
    if up {
        mul_up(c_hi, add_up(x, mul_up(a_hi, mul_up(x, mul_up(x, x)))))
    } else {
        mul_down(
            c_lo,
            add_down(x, mul_down(a_lo, mul_down(x, mul_down(x, x)))),
        )
    }
}

/// g'(x) = c(1 + 3a x²), rounded up or down.
fn tanh_gelu_dg(x: f64, up: bool) -> f64 {
    let ((c_lo, c_hi), (a_lo, a_hi)) = tanh_gelu_constants();
    if up {
        mul_up(c_hi, add_up(1.0, mul_up(3.0, mul_up(a_hi, mul_up(x, x)))))
    } else {
        mul_down(
            c_lo,
            add_down(1.0, mul_down(3.0, mul_down(a_lo, mul_down(x, x)))),
        )
    }
}

/// sech²(g) = 4/(eᵍ + e⁻ᵍ)², bounded up or down (g ≥ 0).
fn sech2(g: f64, up: bool) -> f64 {
    if up {
        let d = add_down(exp_down(g), exp_down(-g));
        div_up(4.0, mul_down(d, d))
    } else {
        let d = add_up(exp_up(g), exp_up(-g));
        div_down(4.0, mul_up(d, d))
    }
}

/// GELU with `approximate='tanh'`: f(x) = ½x(1 + tanh(g(x))),
/// g(x) = √(2/π)(x + 0.044715x³); certified sup|f'| ≈ 1.1289930686587718
/// (mpmath: attained at x ≈ 1.41850).
///
/// Method: f'(x) = ½(1 + tanh g) + ½x·g'(x)·sech²(g). For x ≥ 0 every term
/// is nonnegative, tanh∘g and x·g' increase and sech²∘g decreases, so on
/// [a, b] f' ≤ ½(1 + tanh g(b)) + ½b·g'(b)·sech² g(a); branch and bound over
/// [0, 6]. Tail x ≥ 6: f' ≤ 1 + ½x g'(x)·4e^{−2g(x)} ≤ 1 + 10⁻⁹ (the last
/// term decreases there: its log-derivative is 1/x + g''/g' − 2g' < 0.6 − 1.5).
/// x < 0: f'(−x) = 1 − f'(x) (g is odd), so |f'| ≤ max(1, sup f' − 1).
/// Assumptions: [`EXP_RELATIVE_ERROR`], [`TANH_RELATIVE_ERROR`].
pub fn gelu_tanh() -> Result<ConstantEnclosure> {
    let tanh_up = |g: f64| mul_up(g.tanh(), add_up(1.0, TANH_RELATIVE_ERROR)).min(1.0);
    let tanh_down = |g: f64| mul_down(g.tanh(), 1.0 - TANH_RELATIVE_ERROR);
    let upper_on = |a: f64, b: f64| {
        let first = mul_up(0.5, add_up(1.0, tanh_up(tanh_gelu_g(b, true))));
        let second = mul_up(
            0.5,
            mul_up(
                mul_up(b, tanh_gelu_dg(b, true)),
                sech2(tanh_gelu_g(a, false), true),
            ),
        );
        add_up(first, second)
    };
    let lower_at = |x: f64| {
        let first = mul_down(0.5, add_down(1.0, tanh_down(tanh_gelu_g(x, false))));
        let second = mul_down(
            0.5,
            mul_down(
                mul_down(x, tanh_gelu_dg(x, false)),
                sech2(tanh_gelu_g(x, true), false),
            ),
        );
        add_down(first, second)
    };
    let (lower, upper) = branch_and_bound(6.0, 1.000_000_001, upper_on, lower_at)
        .map_err(|e| Error::CertificateFailed(format!("tanh gelu constant: {e}")))?;
    Ok(ConstantEnclosure {
        lower,
        upper,
        reason: "gelu (tanh approximation): branch and bound on f' over [0, 6], tail and symmetry arguments",
    })
}

/// Slope interval of GELU, GELU-tanh or SiLU from a certified enclosure of
/// L = sup f′: [1 − L, L] with 1 − L rounded downward.
///
/// Theorem: each of the three satisfies f′(−x) = 1 − f′(x) (GELU:
/// Φ(−x) = 1 − Φ(x) and φ even; SiLU: s(−x) = 1 − s(x); GELU-tanh: g odd) and
/// f′ ≥ 0 on x ≥ 0 (see [`gelu`], [`silu`], [`gelu_tanh`]). So on x ≥ 0,
/// 0 ≤ f′ ≤ L, and on x < 0, f′(x) = 1 − f′(−x) ∈ [1 − L, 1]; with L ≥ 1
/// every slope lies in [1 − L, L] (GELU: [−0.1289…, 1.1289…]).
pub fn slope_interval_gelu(c: ConstantEnclosure) -> crate::network::layer::SlopeInterval {
    crate::network::layer::SlopeInterval {
        lower: crate::rounding::sub_down(1.0, c.upper),
        upper: c.upper.max(1.0),
    }
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
    fn tanh_gelu_encloses_mpmath_value() {
        // mpmath (30 digits): sup f' = 1.12899306865877176545...
        let g = gelu_tanh().unwrap();
        let truth = 1.128_993_068_658_771_8;
        assert!(g.lower <= truth && truth <= g.upper, "{g:?}");
        assert!(g.upper - g.lower < 1e-7, "{g:?}");
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
