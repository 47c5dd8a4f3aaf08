//! Finite f64 values as exact dyadic rationals, for tests that check
//! rounding-error bounds in integer arithmetic (independent of the crate's
//! own conversion in `lipcert::exact`).

use num_bigint::BigInt;
use num_traits::Float;

/// x = mantissa · 2^exponent exactly (via num-traits' `integer_decode`).
pub fn dyadic(x: f64) -> (BigInt, i64) {
    let (m, e, sign) = Float::integer_decode(x);
    (BigInt::from(m) * i64::from(sign), i64::from(e))
}

/// x · 2^k as an integer; k must be large enough (x·2^k an integer: every
/// finite f64 times 2^1074 is).
pub fn scaled(x: f64, k: i64) -> BigInt {
    let (m, e) = dyadic(x);
    if e + k >= 0 {
        m << ((e + k) as usize)
    } else {
        // Only the integer_decode of 0 has a mantissa with trailing zeros
        // below 2^-k; a nonzero x here means k was too small.
        assert!(m == BigInt::from(0), "2^{k} is too small a scale for {x:e}");
        m
    }
}
