//! Elementwise layers of the ONNX front end, each with its certified
//! Lipschitz constant, forward map, derivative and forward rounding bound.
//!
//! A map applied coordinate by coordinate, y_i = φ_i(x_i), has ℓ₂ Lipschitz
//! constant sup_i Lip(φ_i) (square and sum the per-coordinate inequalities;
//! proofs/theories/Lipschitz.v, `lipschitz_componentwise`), and for a
//! piecewise-differentiable φ, Lip(φ) = sup |φ'| (mean value theorem).
//! Each variant's doc comment gives sup |φ'| and why.
//!
//! Forward rounding bounds (used by the certified lower bounds) assume, as
//! [`super::evaluate`] does, `exp`/`exp_m1`/`ln_1p` of the platform libm
//! within 4u relative error ([`super::constants::EXP_RELATIVE_ERROR`]).

use super::constants::ConstantEnclosure;
use crate::error::{Error, Result};
use crate::rounding::{
    add_up, div_down, div_up, mul_down, mul_up, norm2_up, sqrt_up, ETA, UNIT_ROUNDOFF,
};

const U: f64 = UNIT_ROUNDOFF;
/// Turns a bound relative to the computed ‖ŷ‖ into one for the exact output.
const REL_MARGIN: f64 = 1.001;

/// An elementwise map.
#[derive(Debug, Clone, PartialEq)]
pub enum Elementwise {
    /// y_i = x_i·f_i + s_i (or x_i / f_i + s_i when `divide`): Mul, Div, Add,
    /// Sub and Neg by constants. φ_i' = f_i (resp. 1/f_i), so the constant is
    /// max|f_i| (resp. max 1/|f_i|), attained.
    Affine {
        /// Factor (or divisor) per coordinate.
        factor: Vec<f64>,
        /// Divide by `factor` instead of multiplying.
        divide: bool,
        /// Shift per coordinate.
        shift: Vec<f64>,
    },
    /// PReLU: x for x ≥ 0, a_i·x otherwise. Slopes 1 and a_i: the constant
    /// is max(1, max|a_i|), attained.
    PRelu {
        /// Slope per coordinate.
        slopes: Vec<f64>,
    },
    /// ELU: x for x > 0, α(eˣ − 1) otherwise. φ' ∈ {1} ∪ (0, α] for α > 0
    /// (αeˣ increases to α as x → 0⁻): the constant is max(1, |α|), a
    /// supremum (attained at x > 0 when |α| ≤ 1).
    Elu {
        /// α.
        alpha: f64,
    },
    /// SELU: γx for x > 0, γα(eˣ − 1) otherwise: constant γ·max(1, |α|)
    /// (same argument as ELU, scaled by γ > 0).
    Selu {
        /// α.
        alpha: f64,
        /// γ.
        gamma: f64,
    },
    /// Softplus ln(1 + eˣ): φ' = logistic(x) ∈ (0, 1), supremum 1 (not
    /// attained; the enclosure is [1 − 2⁻⁵², 1]: the supremum is exactly 1).
    Softplus,
    /// Softsign x/(1 + |x|): φ' = 1/(1 + |x|)² ≤ 1, equal at 0.
    Softsign,
    /// HardSigmoid max(0, min(1, αx + β)): slopes 0 and α (the middle piece
    /// is a nonempty interval when α ≠ 0): constant |α|.
    HardSigmoid {
        /// α.
        alpha: f64,
        /// β.
        beta: f64,
    },
    /// HardSwish x·max(0, min(1, x/6 + ½)): φ' = 0 for x < −3, x/3 + ½ on
    /// (−3, 3) (values in (−½, 3/2)), 1 for x > 3: constant 3/2, the
    /// supremum approached as x → 3⁻.
    HardSwish,
    /// Clip to [min, max]: slope 1 between the bounds (constant 1), or the
    /// constant map (0) when min ≥ max.
    Clip {
        /// Lower bound (may be −∞).
        min: f64,
        /// Upper bound (may be +∞).
        max: f64,
    },
    /// |x|: ||a| − |b|| ≤ |a − b|, equality for a, b ≥ 0: constant 1.
    Abs,
}

fn elu(alpha: f64, x: f64) -> f64 {
    if x > 0.0 {
        x
    } else {
        alpha * x.exp_m1()
    }
}

fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

fn hard_sigmoid(alpha: f64, beta: f64, x: f64) -> f64 {
    (alpha * x + beta).clamp(0.0, 1.0)
}

fn clip(min: f64, max: f64, x: f64) -> f64 {
    // ONNX Clip: min(max(x, min), max) (max wins when min > max).
    x.max(min).min(max)
}

impl Elementwise {
    /// Short name for reports.
    pub fn name(&self) -> &'static str {
        match self {
            Elementwise::Affine { divide: false, .. } => "scale_shift",
            Elementwise::Affine { divide: true, .. } => "divide_shift",
            Elementwise::PRelu { .. } => "prelu",
            Elementwise::Elu { .. } => "elu",
            Elementwise::Selu { .. } => "selu",
            Elementwise::Softplus => "softplus",
            Elementwise::Softsign => "softsign",
            Elementwise::HardSigmoid { .. } => "hardsigmoid",
            Elementwise::HardSwish => "hardswish",
            Elementwise::Clip { .. } => "clip",
            Elementwise::Abs => "abs",
        }
    }

    /// Checks the parameters (finite, nonzero divisors, lengths = `len`).
    pub fn validate(&self, len: usize) -> Result<()> {
        let bad = |m: String| Err(Error::InvalidOption(m));
        match self {
            Elementwise::Affine {
                factor,
                divide,
                shift,
            } => {
                if factor.len() != len || shift.len() != len {
                    return bad(format!(
                        "elementwise factor/shift lengths {}/{} differ from the tensor size {len}",
                        factor.len(),
                        shift.len()
                    ));
                }
                if factor.iter().chain(shift).any(|v| !v.is_finite()) {
                    return bad("elementwise constant is not finite".into());
                }
                if *divide && factor.contains(&0.0) {
                    return bad("division by a constant that has a zero entry".into());
                }
            }
            Elementwise::PRelu { slopes } => {
                if slopes.len() != len || slopes.iter().any(|v| !v.is_finite()) {
                    return bad("prelu slopes must be finite, one per coordinate".into());
                }
            }
            Elementwise::Elu { alpha } => {
                if !alpha.is_finite() {
                    return bad(format!("elu alpha {alpha} is not finite"));
                }
            }
            Elementwise::Selu { alpha, gamma } => {
                if !alpha.is_finite() || !gamma.is_finite() || *gamma < 0.0 {
                    return bad(format!("selu alpha {alpha} / gamma {gamma} invalid"));
                }
            }
            Elementwise::HardSigmoid { alpha, beta } => {
                if !alpha.is_finite() || !beta.is_finite() {
                    return bad("hardsigmoid alpha/beta must be finite".into());
                }
            }
            Elementwise::Clip { min, max } => {
                if min.is_nan() || max.is_nan() {
                    return bad("clip bounds are NaN".into());
                }
            }
            Elementwise::Softplus
            | Elementwise::Softsign
            | Elementwise::HardSwish
            | Elementwise::Abs => {}
        }
        Ok(())
    }

    /// Certified enclosure of the Lipschitz constant (see each variant).
    pub fn lipschitz(&self) -> ConstantEnclosure {
        let exact = |v: f64, reason: &'static str| ConstantEnclosure {
            lower: v,
            upper: v,
            reason,
        };
        match self {
            Elementwise::Affine {
                factor,
                divide: false,
                ..
            } => exact(
                factor.iter().fold(0.0f64, |m, f| m.max(f.abs())),
                "elementwise affine: max |factor|",
            ),
            Elementwise::Affine {
                factor,
                divide: true,
                ..
            } => {
                let lo = factor
                    .iter()
                    .fold(0.0f64, |m, f| m.max(div_down(1.0, f.abs())));
                let up = factor
                    .iter()
                    .fold(0.0f64, |m, f| m.max(div_up(1.0, f.abs())));
                ConstantEnclosure {
                    lower: lo,
                    upper: up,
                    reason: "elementwise division: max 1/|divisor| (rounded outward)",
                }
            }
            Elementwise::PRelu { slopes } => exact(
                slopes.iter().fold(1.0f64, |m, a| m.max(a.abs())),
                "prelu: slopes 1 and a_i, constant max(1, max |a_i|)",
            ),
            Elementwise::Elu { alpha } => {
                exact(alpha.abs().max(1.0), "elu: sup |phi'| = max(1, |alpha|)")
            }
            Elementwise::Selu { alpha, gamma } => ConstantEnclosure {
                lower: mul_down(*gamma, alpha.abs().max(1.0)),
                upper: mul_up(*gamma, alpha.abs().max(1.0)),
                reason: "selu: sup |phi'| = gamma max(1, |alpha|)",
            },
            Elementwise::Softplus => ConstantEnclosure {
                lower: 1.0 - f64::EPSILON,
                upper: 1.0,
                reason: "softplus: phi' = logistic < 1, supremum 1",
            },
            Elementwise::Softsign => exact(1.0, "softsign: phi' = 1/(1+|x|)^2 <= 1, = 1 at 0"),
            Elementwise::HardSigmoid { alpha, .. } => exact(
                alpha.abs(),
                "hardsigmoid: slopes 0 and alpha, constant |alpha|",
            ),
            Elementwise::HardSwish => exact(
                1.5,
                "hardswish: phi' = x/3 + 1/2 on (-3, 3), 0 and 1 outside: supremum 3/2",
            ),
            Elementwise::Abs => exact(1.0, "abs: ||a| - |b|| <= |a - b|, equal for a, b >= 0"),
            Elementwise::Clip { min, max } => {
                if min < max {
                    exact(1.0, "clip: slope 1 between the bounds")
                } else {
                    exact(0.0, "clip: min >= max, a constant map")
                }
            }
        }
    }

    /// The interval of all slopes over every coordinate i: an interval
    /// [lower, upper] containing every difference quotient
    /// (φ_i(s) − φ_i(t))/(s − t), s ≠ t, of every coordinate map φ_i, for the
    /// bound methods that split φ = c·Id + ψ
    /// ([`crate::network::layer::SlopeInterval`]). Every map here is
    /// continuous and piecewise C¹, so each difference quotient is an average
    /// of φ_i' over [t, s] (fundamental theorem of calculus) and lies in the
    /// hull of the values of φ_i'; ends are rounded outward where they are
    /// computed:
    ///
    /// * affine by constants: φ_i' = f_i (or 1/f_i): [min, max] over i;
    /// * PReLU: φ_i' ∈ {1, a_i}: [min(1, min a_i), max(1, max a_i)];
    /// * ELU(α): φ' = 1 on x > 0, αeˣ ∈ (min(α, 0), max(α, 0)) on x < 0:
    ///   [min(0, α), max(1, α)]; SELU: γ times that (γ ≥ 0);
    /// * softplus: φ' = logistic ∈ (0, 1): [0, 1];
    /// * softsign: φ' = 1/(1 + |x|)² ∈ (0, 1]: [0, 1];
    /// * hard sigmoid: φ' ∈ {0, α}: [min(0, α), max(0, α)];
    /// * hard swish: φ' = 0 on x < −3, x/3 + ½ ∈ (−½, 3/2) on (−3, 3), 1 on
    ///   x > 3: [−½, 3/2] (both ends exact in binary, the infimum and
    ///   supremum);
    /// * clip: φ' ∈ {0, 1} ([0, 0] when min ≥ max, a constant map);
    /// * |x|: φ' = ±1: [−1, 1].
    pub fn slope_interval(&self) -> Option<crate::network::layer::SlopeInterval> {
        let interval =
            |lower: f64, upper: f64| Some(crate::network::layer::SlopeInterval { lower, upper });
        let hull = |v: &mut dyn Iterator<Item = (f64, f64)>, lower: f64, upper: f64| {
            let (lo, up) = v.fold((lower, upper), |(lo, up), (l, u)| (lo.min(l), up.max(u)));
            // An empty tensor has no slopes at all: [0, 0] holds vacuously.
            if lo > up {
                interval(0.0, 0.0)
            } else {
                interval(lo, up)
            }
        };
        match self {
            Elementwise::Affine {
                factor,
                divide: false,
                ..
            } => hull(
                &mut factor.iter().map(|&f| (f, f)),
                f64::INFINITY,
                f64::NEG_INFINITY,
            ),
            Elementwise::Affine {
                factor,
                divide: true,
                ..
            } => hull(
                &mut factor.iter().map(|&f| (div_down(1.0, f), div_up(1.0, f))),
                f64::INFINITY,
                f64::NEG_INFINITY,
            ),
            Elementwise::PRelu { slopes } => hull(&mut slopes.iter().map(|&a| (a, a)), 1.0, 1.0),
            Elementwise::Elu { alpha } => interval(alpha.min(0.0), alpha.max(1.0)),
            Elementwise::Selu { alpha, gamma } => interval(
                mul_down(*gamma, alpha.min(0.0)),
                mul_up(*gamma, alpha.max(1.0)),
            ),
            Elementwise::Softplus | Elementwise::Softsign => interval(0.0, 1.0),
            Elementwise::HardSigmoid { alpha, .. } => interval(alpha.min(0.0), alpha.max(0.0)),
            Elementwise::HardSwish => interval(-0.5, 1.5),
            Elementwise::Clip { min, max } => {
                if min < max {
                    interval(0.0, 1.0)
                } else {
                    interval(0.0, 0.0)
                }
            }
            Elementwise::Abs => interval(-1.0, 1.0),
        }
    }

    /// Per-coordinate slope intervals where they differ between
    /// coordinates — PReLU: [min(1, a_i), max(1, a_i)], each containing
    /// every difference quotient of φ_i (same reasons as
    /// [`Self::slope_interval`]); `None` for the other maps (the affine map
    /// by constants is a linear layer for the bound methods) and when all
    /// coordinates share one interval.
    pub fn coordinate_slope_intervals(&self) -> Option<Vec<crate::network::layer::SlopeInterval>> {
        use crate::network::layer::SlopeInterval;
        let Elementwise::PRelu { slopes } = self else {
            return None;
        };
        let v: Vec<SlopeInterval> = slopes
            .iter()
            .map(|&a| SlopeInterval {
                lower: a.min(1.0),
                upper: a.max(1.0),
            })
            .collect();
        let first = *v.first()?;
        v.iter().any(|s| *s != first).then_some(v)
    }

    /// y = φ(x).
    pub fn forward(&self, x: &[f64]) -> Vec<f64> {
        let map = |f: &dyn Fn(f64) -> f64| x.iter().map(|&v| f(v)).collect();
        match self {
            Elementwise::Affine {
                factor,
                divide,
                shift,
            } => x
                .iter()
                .zip(factor)
                .zip(shift)
                .map(|((&v, &f), &s)| if *divide { v / f + s } else { v * f + s })
                .collect(),
            Elementwise::PRelu { slopes } => x
                .iter()
                .zip(slopes)
                .map(|(&v, &a)| if v >= 0.0 { v } else { a * v })
                .collect(),
            Elementwise::Elu { alpha } => map(&|v| elu(*alpha, v)),
            Elementwise::Selu { alpha, gamma } => map(&|v| gamma * elu(*alpha, v)),
            Elementwise::Softplus => map(&softplus),
            Elementwise::Softsign => map(&|v| v / (1.0 + v.abs())),
            Elementwise::HardSigmoid { alpha, beta } => map(&|v| hard_sigmoid(*alpha, *beta, v)),
            Elementwise::HardSwish => map(&|v| v * hard_sigmoid(1.0 / 6.0, 0.5, v)),
            Elementwise::Clip { min, max } => map(&|v| clip(*min, *max, v)),
            Elementwise::Abs => map(&f64::abs),
        }
    }

    /// φ_i'(x) (a one-sided derivative at kinks), for Jacobian products.
    pub fn derivative(&self, i: usize, x: f64) -> f64 {
        match self {
            Elementwise::Affine { factor, divide, .. } => {
                if *divide {
                    1.0 / factor[i]
                } else {
                    factor[i]
                }
            }
            Elementwise::PRelu { slopes } => {
                if x >= 0.0 {
                    1.0
                } else {
                    slopes[i]
                }
            }
            Elementwise::Elu { alpha } => {
                if x > 0.0 {
                    1.0
                } else {
                    alpha * x.exp()
                }
            }
            Elementwise::Selu { alpha, gamma } => {
                if x > 0.0 {
                    *gamma
                } else {
                    gamma * alpha * x.exp()
                }
            }
            Elementwise::Softplus => crate::network::special::logistic(x),
            Elementwise::Softsign => {
                let d = 1.0 + x.abs();
                1.0 / (d * d)
            }
            Elementwise::HardSigmoid { alpha, beta } => {
                let z = alpha * x + beta;
                if z > 0.0 && z < 1.0 {
                    *alpha
                } else {
                    0.0
                }
            }
            Elementwise::HardSwish => {
                if x <= -3.0 {
                    0.0
                } else if x >= 3.0 {
                    1.0
                } else {
                    x / 3.0 + 0.5
                }
            }
            Elementwise::Clip { min, max } => {
                if x > *min && x < *max {
                    1.0
                } else {
                    0.0
                }
            }
            Elementwise::Abs => {
                if x >= 0.0 {
                    1.0
                } else {
                    -1.0
                }
            }
        }
    }

    /// A rigorous bound on ‖fl(φ(x)) − φ(x)‖₂ for the computed output `y`,
    /// given the certified constant `lip`:
    /// * affine: fl(x·f) then + s, two roundings: u·lip‖x‖ + u‖y‖(1 + u)
    ///   plus η per coordinate for underflow; division likewise;
    /// * PReLU: one product, u·lip‖x‖ + η√n;
    /// * ELU/SELU: exp_m1 within 4u, one or two products: 8u‖y‖ + 4η√n;
    /// * softplus: exp and ln_1p within 4u each; the error of t = e^{−|x|}
    ///   enters ln(1 + t) damped by t/(1 + t) ≤ ln(1 + t), so the result is
    ///   within ~10u of |y|, plus the addition of x: 16u(‖x‖ + ‖y‖);
    /// * softsign: three roundings, 4u‖y‖;
    /// * hard sigmoid: fl(αx + β) within u(|αx| + |β|) + u|y|, clamping exact:
    ///   2u(lip‖x‖ + |β|√n) + η√n;
    /// * hard swish: on (−3, 3) the gate errs by ≤ u(|x|/3 + ½)·(1 + u) ≤ 1.5u·(1+u)
    ///   absolute, times |x|, then the product u|y|: 2u‖x‖ + 2u‖y‖ + η√n;
    /// * clip, abs: exact.
    pub fn local_error(&self, x: &[f64], y: &[f64], lip: f64) -> f64 {
        let nx = norm2_up(x);
        let ny = norm2_up(y);
        let sqrt_n = sqrt_up(x.len() as f64);
        let tiny = |k: f64| mul_up(sqrt_n, mul_up(k, ETA));
        match self {
            Elementwise::Affine { .. } => add_up(
                add_up(mul_up(U, mul_up(lip, nx)), mul_up(U * REL_MARGIN, ny)),
                tiny(2.0),
            ),
            Elementwise::PRelu { .. } => add_up(mul_up(U, mul_up(lip, nx)), tiny(1.0)),
            Elementwise::Elu { .. } | Elementwise::Selu { .. } => {
                add_up(mul_up(8.0 * U * REL_MARGIN, ny), tiny(4.0))
            }
            Elementwise::Softplus => add_up(mul_up(16.0 * U, add_up(nx, ny)), tiny(4.0)),
            Elementwise::Softsign => add_up(mul_up(4.0 * U * REL_MARGIN, ny), tiny(2.0)),
            Elementwise::HardSigmoid { beta, .. } => add_up(
                mul_up(2.0 * U, add_up(mul_up(lip, nx), mul_up(beta.abs(), sqrt_n))),
                tiny(1.0),
            ),
            Elementwise::HardSwish => add_up(mul_up(2.0 * U, add_up(nx, ny)), tiny(2.0)),
            Elementwise::Clip { .. } | Elementwise::Abs => 0.0,
        }
    }
}
