//! Finite `f64` values as exact dyadic rationals `mantissa · 2^exponent`, and
//! whole matrices / vectors as one integer array times a common power of two.
//!
//! Every finite binary64 number x is `±m · 2^q` with an integer `0 ≤ m < 2⁵³`
//! and `−1074 ≤ q ≤ 971` (IEEE 754-2019 §3.3: a normal number is
//! `1.f · 2^(E−1023)`, a subnormal `0.f · 2^−1022`). Stripping the trailing
//! zero bits of `m` makes `m` odd (or zero), so `q` is as large as possible
//! and the integers derived from it as small as possible. For a list of
//! values with smallest exponent `q_min`, each value equals
//! `(m · 2^(q − q_min)) · 2^q_min` with an integer first factor: the list is
//! an integer list times `2^q_min`, *exactly*. No rounding happens anywhere in
//! this file.

use num_bigint::BigInt;

/// The exact value of a finite `f64` as `(mantissa, exponent)` with
/// `x = mantissa · 2^exponent`, `mantissa` odd, or `(0, 0)` for ±0.
///
/// The caller must pass a finite value (NaN and ±∞ have no dyadic value);
/// for them the result is meaningless but no panic occurs.
pub(crate) fn decompose(x: f64) -> (i64, i64) {
    let bits = x.to_bits();
    let negative = bits >> 63 == 1;
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let fraction = (bits & ((1u64 << 52) - 1)) as i64;
    let (mut mantissa, mut exponent) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1i64 << 52), biased - 1075)
    };
    if mantissa == 0 {
        return (0, 0);
    }
    let tz = mantissa.trailing_zeros();
    mantissa >>= tz;
    exponent += i64::from(tz);
    if negative {
        mantissa = -mantissa;
    }
    (mantissa, exponent)
}

/// A list of finite `f64` values written as `ints[i] · 2^exponent`, exactly.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DyadicVec {
    /// The integers.
    pub ints: Vec<BigInt>,
    /// The common exponent (0 when every value is zero).
    pub exponent: i64,
}

impl DyadicVec {
    /// Writes `values` (finite) over their smallest exponent.
    pub fn from_values(values: impl IntoIterator<Item = f64>) -> Self {
        let parts: Vec<(i64, i64)> = values.into_iter().map(decompose).collect();
        Self::from_parts(&parts)
    }

    /// Writes already decomposed values `(mantissa, exponent)` (see
    /// [`decompose`]) over their smallest exponent.
    pub fn from_parts(parts: &[(i64, i64)]) -> Self {
        let exponent = common_exponent(parts.iter().copied());
        let ints = parts
            .iter()
            .map(|&(m, q)| scaled_int(m, q, exponent))
            .collect();
        Self { ints, exponent }
    }
}

/// The smallest exponent among the nonzero parts, or 0 when all are zero.
pub(crate) fn common_exponent(parts: impl IntoIterator<Item = (i64, i64)>) -> i64 {
    parts
        .into_iter()
        .filter(|&(m, _)| m != 0)
        .map(|(_, q)| q)
        .min()
        .unwrap_or(0)
}

/// `m · 2^(q − base)` as a big integer; `q ≥ base` whenever `m ≠ 0`.
pub(crate) fn scaled_int(m: i64, q: i64, base: i64) -> BigInt {
    if m == 0 {
        return BigInt::from(0);
    }
    // q − base ≤ 971 + 1074, so the shift fits in usize.
    BigInt::from(m) << ((q - base) as usize)
}

/// `value · 2^shift` for `shift ≥ 0` (exact).
pub(crate) fn shl(value: &BigInt, shift: i64) -> BigInt {
    debug_assert!(shift >= 0);
    value << (shift as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value_of(m: i64, q: i64) -> f64 {
        // Exact for the ranges used below (the product is representable).
        m as f64 * 2f64.powi(q as i32)
    }

    #[test]
    fn decomposes_normal_subnormal_and_zero_exactly() {
        assert_eq!(decompose(0.0), (0, 0));
        assert_eq!(decompose(-0.0), (0, 0));
        assert_eq!(decompose(1.0), (1, 0));
        assert_eq!(decompose(-3.0), (-3, 0));
        assert_eq!(decompose(0.75), (3, -2));
        assert_eq!(decompose(6.0), (3, 1));
        assert_eq!(decompose(f64::MIN_POSITIVE), (1, -1022));
        assert_eq!(decompose(4.9e-324), (1, -1074));
        assert_eq!(decompose(3.0 * 4.9e-324), (3, -1074));
        let (m, q) = decompose(f64::MAX);
        assert_eq!((m, q), ((1i64 << 53) - 1, 971));
        // 0.1 is 3602879701896397 · 2^-55.
        assert_eq!(decompose(0.1), (3_602_879_701_896_397, -55));
        for &x in &[1.5, -2.25, 1e-3, 12345.678, -7.0e10, 0.1] {
            let (m, q) = decompose(x);
            assert!(m % 2 != 0, "{x}: mantissa must be odd");
            assert_eq!(value_of(m, q), x, "{x}");
        }
    }

    #[test]
    fn lists_share_the_smallest_exponent() {
        let v = DyadicVec::from_values([0.5, 3.0, 0.0, -0.25]);
        assert_eq!(v.exponent, -2);
        let expect: Vec<BigInt> = [2, 12, 0, -1].iter().map(|&k| BigInt::from(k)).collect();
        assert_eq!(v.ints, expect);
        let z = DyadicVec::from_values([0.0, -0.0]);
        assert_eq!(z.exponent, 0);
        assert!(z.ints.iter().all(|x| *x == BigInt::from(0)));
        // Extremes: the span 2^-1074 … 2^1023 gives a 2098-bit integer.
        let wide = DyadicVec::from_values([4.9e-324, f64::MAX]);
        assert_eq!(wide.exponent, -1074);
        assert_eq!(wide.ints[0], BigInt::from(1));
        assert_eq!(wide.ints[1].bits(), 2098);
    }
}
