//! Directed rounding built from round-to-nearest.
//!
//! Every bound in lipcert is computed in IEEE-754 binary64 with the default
//! rounding mode (round to nearest, ties to even). A single correctly rounded
//! operation `fl(a ∘ b)` (∘ ∈ {+, −, ×, ÷, √}) with a finite result lies within
//! half an ulp of the exact result, so the exact result lies in
//! `[next_down(fl), next_up(fl)]`. The helpers here return those neighbours.
//! This is valid also when the result is subnormal (spacing 2⁻¹⁰⁷⁴ there, error
//! at most 2⁻¹⁰⁷⁵) and when it is zero. An overflowing operation returns ±∞,
//! which is still a valid (useless) upper/lower bound; callers check finiteness
//! of final results.
//!
//! Proof: proofs/theories/FloatRounding.v, `next_up_rn_upper` and
//! `next_down_rn_lower`.
//!
//! # Special values (every helper, checked by property tests against exact
//! rational arithmetic in `tests/rounding_special.rs`)
//! Arguments are read as exact extended reals (±0 are 0, ±∞ are the limits).
//! An "up" helper returns a value ≥ the exact result, or +∞, or NaN; it never
//! returns a finite value below the exact result, and never a finite value
//! when the exact result is +∞ or undefined (∞ − ∞, 0·∞, x/0, ∞/∞, √ of a
//! negative number). "Down" helpers are the mirror image. NaN arguments give
//! NaN. The argument: IEEE-754 operations on ±∞ return the limit when it
//! exists and NaN otherwise, `next_up(+∞) = +∞` and `next_up(−∞) = −f64::MAX`
//! (still ≥ −∞), so the only case needing care is a zero divisor, where
//! IEEE-754's signed infinity follows the sign of the zero rather than a
//! direction: [`div_up`] and [`div_down`] return ±∞/NaN by hand there.

/// Unit roundoff of binary64 with round to nearest: u = 2⁻⁵³.
pub const UNIT_ROUNDOFF: f64 = 1.0 / 9_007_199_254_740_992.0;

/// Smallest positive subnormal binary64 number η = 2⁻¹⁰⁷⁴: the absolute error
/// bound for underflow in a product is η/2.
pub const ETA: f64 = f64::from_bits(1);

/// Upper bound on `a + b`.
#[inline]
pub fn add_up(a: f64, b: f64) -> f64 {
    (a + b).next_up()
}

/// Lower bound on `a + b`.
#[inline]
pub fn add_down(a: f64, b: f64) -> f64 {
    (a + b).next_down()
}

/// Upper bound on `a − b`.
#[inline]
pub fn sub_up(a: f64, b: f64) -> f64 {
    (a - b).next_up()
}

/// Lower bound on `a − b`.
#[inline]
pub fn sub_down(a: f64, b: f64) -> f64 {
    (a - b).next_down()
}

/// Upper bound on `a · b`.
#[inline]
pub fn mul_up(a: f64, b: f64) -> f64 {
    (a * b).next_up()
}

/// Lower bound on `a · b`.
#[inline]
pub fn mul_down(a: f64, b: f64) -> f64 {
    (a * b).next_down()
}

/// Upper bound on `a / b`. A zero divisor (of either sign) has no quotient:
/// the result is +∞ (NaN for 0/0), never IEEE's −∞ for `1/−0`.
#[inline]
pub fn div_up(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        return if a == 0.0 || a.is_nan() {
            f64::NAN
        } else {
            f64::INFINITY
        };
    }
    (a / b).next_up()
}

/// Lower bound on `a / b`. A zero divisor (of either sign) has no quotient:
/// the result is −∞ (NaN for 0/0).
#[inline]
pub fn div_down(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        return if a == 0.0 || a.is_nan() {
            f64::NAN
        } else {
            f64::NEG_INFINITY
        };
    }
    (a / b).next_down()
}

/// Upper bound on `√a` (NaN for a < 0 or NaN, +∞ for +∞).
#[inline]
pub fn sqrt_up(a: f64) -> f64 {
    a.sqrt().next_up()
}

/// Lower bound on `√max(a, 0)`, never below 0: a negative `a` is read as a
/// lower bound of a nonnegative quantity, whose square root is ≥ 0. NaN
/// stays NaN (it is not a lower bound of anything).
#[inline]
pub fn sqrt_down(a: f64) -> f64 {
    if a.is_nan() {
        return f64::NAN;
    }
    a.sqrt().next_down().max(0.0)
}

// Exact-when-possible variants: one ulp tighter than the plain helpers when
// the exact result is itself a float (used where bounds are multiplied along
// a whole network, so spurious ulps would accumulate).

/// a + b rounded upward, exact when the sum is a float: Knuth's TwoSum gives
/// the exact error e = (a + b) − fl(a + b) (no overflow assumed; an infinite
/// sum stays infinite), and fl(a + b) is bumped up only when e > 0.
///
/// Special values: an infinite or NaN sum, or a TwoSum intermediate that is
/// not finite (possible only near the overflow threshold), takes [`add_up`]
/// (so a sum that overflowed to −∞ becomes −f64::MAX, above the exact sum).
pub fn add_up_tight(a: f64, b: f64) -> f64 {
    let s = a + b;
    if !s.is_finite() {
        return add_up(a, b);
    }
    let bb = s - a;
    let e = (a - (s - bb)) + (b - bb);
    if !e.is_finite() {
        return add_up(a, b);
    }
    if e > 0.0 {
        s.next_up()
    } else {
        s
    }
}

/// a·b rounded upward for a, b ≥ 0, exact when the product is a float: the
/// fused multiply-add gives the exact error e = a·b − fl(a·b) unless the
/// product is near the underflow range (then a plain `next_up` is used).
///
/// Sound for any signs: the residual a·b − fl(a·b) is exactly representable
/// when |fl(a·b)| ≥ 1e-290 (its last bit is at least 2⁻¹⁰⁷⁴), so its sign,
/// from one FMA, tells the direction of the rounding. NaN, infinite and tiny
/// products take [`mul_up`].
pub fn mul_up_tight(a: f64, b: f64) -> f64 {
    let p = a * b;
    if !p.is_finite() || p.abs() < 1e-290 {
        return mul_up(a, b);
    }
    let r = a.mul_add(b, -p);
    if r > 0.0 || r.is_nan() {
        p.next_up()
    } else {
        p
    }
}

/// An enclosure [lo, up] of a/b for a ≥ 0, b > 0 finite, exact when the
/// quotient is a float: the fused multiply-add gives the sign of the exact
/// residual q·b − a (no underflow for the moderate values used here; tiny
/// quotients fall back to `next_down`/`next_up`).
///
/// Hypotheses checked: outside b > 0 finite, or for NaN/infinite/tiny
/// quotients, the outward [`div_down`]/[`div_up`] pair is returned (for
/// b < 0 the residual's sign would point the other way).
pub fn div_enclosure(a: f64, b: f64) -> (f64, f64) {
    let q = a / b;
    if !(b > 0.0 && b.is_finite() && q.is_finite() && q.abs() > 1e-290 && a.abs() > 1e-290) {
        return (div_down(a, b), div_up(a, b));
    }
    let r = q.mul_add(b, -a);
    if r == 0.0 {
        (q, q)
    } else if r > 0.0 {
        (q.next_down(), q)
    } else {
        (q, q.next_up())
    }
}

/// [√x, √x] exactly when x ≥ 0 is the square of a float (checked with a
/// fused multiply-add, whose single rounding of r² − x is 0 only when r² = x
/// as long as nothing underflows: hence the range guard), else the
/// outward-rounded square root.
pub fn sqrt_enclosure(x: f64) -> (f64, f64) {
    let r = x.sqrt();
    if x > 1e-290 && x < 1e15 && r.mul_add(r, -x) == 0.0 {
        (r, r)
    } else {
        (sqrt_down(x), sqrt_up(x))
    }
}

/// Upper bound on γₙ = n·u / (1 − n·u), the constant of the classical
/// summation and dot-product error bound |fl(Σ aᵢbᵢ) − Σ aᵢbᵢ| ≤ γₙ Σ|aᵢbᵢ|
/// (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., Lemma 3.1
/// and §3.1; valid for any order of summation, with or without fused
/// multiply-add).
///
/// Returns `+∞` when n·u ≥ ½, where the bound is no longer useful.
///
/// Proof: proofs/theories/FloatDot.v, `dot_error_bound`.
pub fn gamma(n: usize) -> f64 {
    // n·u < ½ means n < 2^52, where n as f64 is exact and n·u is an exact
    // power-of-two scaling; larger n (whose conversion may round down) give +∞.
    if n >= 1usize << 52 {
        return f64::INFINITY;
    }
    let nu = n as f64 * UNIT_ROUNDOFF;
    if nu >= 0.5 {
        return f64::INFINITY;
    }
    div_up(nu, sub_down(1.0, nu))
}

/// `n` as an `f64` rounded upward (exact below 2⁵³; the conversion `as`
/// rounds to nearest, which may be below n beyond that).
pub fn usize_up(n: usize) -> f64 {
    let f = n as f64;
    // f64 → u128 is exact for these magnitudes, and u128 holds every usize.
    if (f as u128) < n as u128 {
        f.next_up()
    } else {
        f
    }
}

/// Upper bound on the absolute error of a dot product of length `n` caused by
/// underflow: each product can lose at most η/2 to underflow, and the sum
/// carries it with factor (1 + γₙ) ≤ 2, so n·η bounds it.
pub fn underflow_slack(n: usize) -> f64 {
    mul_up(usize_up(n), ETA)
}

/// Upper bound on `Σ xᵢ` for nonnegative terms, summed left to right with
/// each partial sum rounded upward.
pub fn sum_up<I: IntoIterator<Item = f64>>(terms: I) -> f64 {
    terms.into_iter().fold(0.0, add_up)
}

/// Upper bound on the Euclidean norm ‖x‖₂, from the a-priori dot-product
/// bound |fl(Σxᵢ²) − Σxᵢ²| ≤ γₙ Σxᵢ² + n·η (see [`gamma`],
/// [`underflow_slack`]), which gives Σxᵢ² ≤ (fl(Σxᵢ²) + n·η)/(1 − γₙ).
///
/// Proof: proofs/theories/FloatDot.v, `sum_of_squares_bounds`
pub fn norm2_up(x: &[f64]) -> f64 {
    let n = x.len();
    let s: f64 = x.iter().map(|v| v * v).sum();
    sqrt_up(sum_of_squares_up(s, n))
}

/// fl(Σ xᵢ²) in eight interleaved partial sums (so the loop vectorizes): one
/// of the "any order" evaluations that [`sum_of_squares_up`] covers.
pub fn sum_of_squares(x: &[f64]) -> f64 {
    let mut lanes = [0.0f64; 8];
    let chunks = x.chunks_exact(8);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (acc, v) in lanes.iter_mut().zip(chunk) {
            *acc += v * v;
        }
    }
    rest.iter().map(|v| v * v).sum::<f64>() + lanes.iter().sum::<f64>()
}

/// Upper bound on an exact sum of `n` squares (or of `n` nonnegative
/// products) whose floating-point value, summed in any order, is `computed`:
/// Σ ≤ (computed + n·η)/(1 − γₙ).
///
/// Hypothesis of the bound: γₙ < 1. When γₙ is +∞ (n ≥ 2⁵²) or the
/// denominator 1 − γₙ is not positive, the result is +∞ (no bound); a
/// NaN or negative `computed` gives NaN and +∞ gives +∞, never a finite
/// value.
pub fn sum_of_squares_up(computed: f64, n: usize) -> f64 {
    let denominator = sub_down(1.0, gamma(n));
    // A computed sum of nonnegative terms is ≥ 0; a negative one breaks the
    // hypothesis and has no bound.
    if computed.is_nan() || computed < 0.0 {
        return f64::NAN;
    }
    if denominator.is_nan() || denominator <= 0.0 || computed == f64::INFINITY {
        return f64::INFINITY;
    }
    div_up(add_up(computed, underflow_slack(n)), denominator)
}

/// Lower bound on the Euclidean norm ‖x‖₂: Σxᵢ² ≥ (fl(Σxᵢ²) − n·η)/(1 + γₙ₊₁)
/// (the same dot-product bound as [`norm2_up`], solved the other way).
pub fn norm2_down(x: &[f64]) -> f64 {
    let n = x.len();
    let s: f64 = x.iter().map(|v| v * v).sum();
    let num = sub_down(s, underflow_slack(n));
    if num <= 0.0 {
        return 0.0;
    }
    sqrt_down(div_down(num, add_up(1.0, gamma(n + 1))))
}

/// `2^k` as an `f64`, exact for −1074 ≤ k ≤ 1023 (saturating outside).
pub fn pow2(k: i32) -> f64 {
    if k > 1023 {
        f64::INFINITY
    } else if k >= -1022 {
        f64::from_bits(((k + 1023) as u64) << 52)
    } else if k >= -1074 {
        f64::from_bits(1u64 << (k + 1074))
    } else {
        0.0
    }
}

/// The factors (2^k, 2^−k) when scaling by 2^k is one multiplication by a
/// normal power of two each way (|k| ≤ 1000, exactly what [`scale_pow2`] does
/// then), so that [`scaled_exactly`] checks each entry; `None` for the rare
/// extreme k, which need [`scale_pow2`] entry by entry.
pub fn pow2_pair(k: i32) -> Option<(f64, f64)> {
    let (up, down) = (scale_pow2(1.0, k), scale_pow2(1.0, -k));
    (k.abs() <= 1000 && up.is_normal() && down.is_normal()).then_some((up, down))
}

/// x·up for a pair of [`pow2_pair`], and whether that was exact: the way back
/// recovers x and the result is finite (it is exact unless it overflows or
/// loses bits to underflow; proof: proofs/theories/FloatRounding.v,
/// `scale_pow2_exact`). Branch-free, so loops over it vectorize.
#[inline]
pub fn scaled_exactly(x: f64, (up, down): (f64, f64)) -> (f64, bool) {
    let s = x * up;
    (s, (s * down == x) & (s.abs() <= f64::MAX))
}

/// Multiplies `x` by `2^k` without intermediate overflow or underflow of the
/// factor itself (splitting large exponents). Exact unless the result
/// overflows or falls into the subnormal range.
pub fn scale_pow2(x: f64, k: i32) -> f64 {
    let mut x = x;
    let mut k = k;
    while k > 1000 {
        x *= pow2(1000);
        k -= 1000;
    }
    while k < -1000 {
        x *= pow2(-1000);
        k += 1000;
    }
    x * pow2(k)
}

/// Binary exponent e with 2^e ≤ |x| < 2^(e+1) for finite nonzero x.
pub fn exponent_of(x: f64) -> i32 {
    let bits = x.abs().to_bits();
    let biased = (bits >> 52) as i32;
    if biased == 0 {
        // subnormal: value = mantissa · 2^-1074
        let mant = bits & ((1u64 << 52) - 1);
        63 - mant.leading_zeros() as i32 - 1074
    } else {
        biased - 1023
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pow2_matches_powi_across_the_range() {
        for k in -1074..=1023 {
            let p = pow2(k);
            assert!(p > 0.0 && p.is_finite(), "2^{k}");
            assert_eq!(exponent_of(p), k, "2^{k}");
        }
        assert_eq!(pow2(0), 1.0);
        assert_eq!(pow2(-1074), ETA);
        assert_eq!(pow2(-53), UNIT_ROUNDOFF);
    }

    #[test]
    fn directed_operations_bracket_the_exact_result() {
        // 0.1 + 0.2 is inexact; the exact sum of the two stored values lies
        // strictly between the directed results.
        let (a, b) = (0.1f64, 0.2f64);
        assert!(add_down(a, b) < a + b && a + b < add_up(a, b));
        // 1/3: exact value between the bounds; check via 3·lo < 1 < 3·hi in
        // exact arithmetic using the fact that 3·x is exact after scaling.
        let lo = div_down(1.0, 3.0);
        let hi = div_up(1.0, 3.0);
        assert!(lo < hi);
        assert!(mul_up(lo, 3.0) <= 1.0 || lo * 3.0 < 1.0);
        assert!(sqrt_down(2.0) * sqrt_down(2.0) < 2.0);
        assert!(sqrt_up(2.0) * sqrt_up(2.0) > 2.0);
    }

    #[test]
    fn gamma_is_monotone_and_above_nu() {
        let mut prev = 0.0;
        for n in [1usize, 2, 10, 1000, 1 << 20, 1 << 40] {
            let g = gamma(n);
            assert!(g > n as f64 * UNIT_ROUNDOFF);
            assert!(g > prev);
            prev = g;
        }
        assert_eq!(gamma(1usize << 52), f64::INFINITY);
    }

    #[test]
    fn norm_bounds_bracket_norm_of_pythagorean_triple() {
        let x = [3.0, 4.0];
        assert!(norm2_down(&x) <= 5.0 && 5.0 <= norm2_up(&x));
        let tiny = [1e-300, 1e-300];
        assert!(norm2_up(&tiny) > 0.0);
        assert_eq!(norm2_down(&[0.0; 4]), 0.0);
    }

    #[test]
    fn tight_variants_are_exact_on_exact_results_and_outward_otherwise() {
        assert_eq!(add_up_tight(1.0, 1.0), 2.0);
        let s = add_up_tight(0.1, 0.2);
        assert!(s >= 0.1 + 0.2 && s <= (0.1f64 + 0.2).next_up());
        assert_eq!(mul_up_tight(3.0, 0.5), 1.5);
        assert!(mul_up_tight(0.1, 0.1) >= 0.1 * 0.1);
        assert_eq!(div_enclosure(1.0, 4.0), (0.25, 0.25));
        let (lo, hi) = div_enclosure(1.0, 3.0);
        assert!(lo < hi && mul_down(lo, 3.0) <= 1.0 && mul_up(hi, 3.0) >= 1.0);
        assert_eq!(sqrt_enclosure(4.0), (2.0, 2.0));
        let (lo, hi) = sqrt_enclosure(2.0);
        assert!(lo * lo < 2.0 && hi * hi > 2.0);
        // Subnormal input: r² − x may underflow to 0 in the FMA, so the
        // exactness shortcut must not be taken.
        let x = 3.0 * ETA;
        let (lo, hi) = sqrt_enclosure(x);
        assert!(lo < hi, "{lo:e} {hi:e}");
    }

    #[test]
    fn exponent_of_subnormals() {
        assert_eq!(exponent_of(ETA), -1074);
        assert_eq!(exponent_of(f64::MIN_POSITIVE), -1022);
        assert_eq!(exponent_of(1.5), 0);
        assert_eq!(exponent_of(-3.0), 1);
    }
}
