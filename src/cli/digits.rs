//! Printing an enclosure `[lower, upper]` with the digits that are certain.
//!
//! Format: the decimal digits that `lower` and `upper` share, then the two
//! differing tails in brackets, e.g. `1.2345678901[23, 35]` means
//! `1.234567890123 ≤ σ ≤ 1.234567890135`. Digits are shown down to one
//! place below the leading digit of the width `upper − lower`. The printed lower tail is `lower` rounded *down* and the
//! upper tail is `upper` rounded *up* at the last printed digit, computed from
//! the exact decimal expansion of the two binary numbers, so the printed
//! interval always contains `[lower, upper]` — what is printed is as true as
//! the enclosure. Values below 1e-4 or from 1e6 on use a shared exponent:
//! `3.1622[77, 78]e-7`. When `lower == upper` the single value is printed in
//! Rust's shortest round-trip form.

/// Exact decimal expansion of a finite `x > 0`: the significant digits
/// (no trailing zeros) and the decimal exponent of the first one, so that
/// `x = Σ digits[i]·10^(exp − i)`.
///
/// Rust's float formatting with an explicit precision is exact (correctly
/// rounded from the binary value); every binary64 number has at most 767
/// significant decimal digits, so 1100 digits after the point leave no
/// rounding at all.
fn exact_digits(x: f64) -> Option<(Vec<u8>, i32)> {
    if x == 0.0 || !x.is_finite() {
        return None;
    }
    let s = format!("{:.1100e}", x.abs());
    let (mantissa, exponent) = s.split_once('e')?;
    let exp: i32 = exponent.parse().ok()?;
    let mut digits: Vec<u8> = mantissa
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|c| c - b'0')
        .collect();
    while digits.last() == Some(&0) {
        digits.pop();
    }
    Some((digits, exp))
}

/// The digit of `x` at weight 10^w (0 when `x` is zero or has none there).
fn digit_at(x: &Option<(Vec<u8>, i32)>, w: i32) -> u8 {
    match x {
        None => 0,
        Some((digits, exp)) => {
            let i = i64::from(*exp) - i64::from(w);
            if i < 0 {
                0
            } else {
                digits.get(i as usize).copied().unwrap_or(0)
            }
        }
    }
}

/// Digits of `x` at weights `top ..= low` (truncated) and whether anything
/// nonzero was cut off below `low`.
fn truncate(x: &Option<(Vec<u8>, i32)>, top: i32, low: i32) -> (Vec<u8>, bool) {
    let kept: Vec<u8> = (low..=top).rev().map(|w| digit_at(x, w)).collect();
    let cut = match x {
        None => false,
        Some((digits, exp)) => {
            let last = i64::from(*exp) - (digits.len() as i64 - 1);
            last < i64::from(low)
        }
    };
    (kept, cut)
}

/// Adds one unit in the last place; may grow by one leading digit.
fn increment(digits: &mut Vec<u8>) -> bool {
    for d in digits.iter_mut().rev() {
        if *d == 9 {
            *d = 0;
        } else {
            *d += 1;
            return false;
        }
    }
    digits.insert(0, 1);
    true
}

/// Renders digits whose first one has weight 10^top in fixed notation,
/// dropping leading zeros before the point.
fn render(digits: &[u8], top: i32) -> String {
    let low = top - digits.len() as i32 + 1;
    let mut s = String::new();
    if top < 0 {
        s.push_str("0.");
        for _ in 0..(-top - 1) {
            s.push('0');
        }
        s.extend(digits.iter().map(|d| char::from(b'0' + d)));
        return s;
    }
    for (i, d) in digits.iter().enumerate() {
        let w = top - i as i32;
        s.push(char::from(b'0' + d));
        if w == 0 && low < 0 {
            s.push('.');
        }
    }
    for _ in 0..low.max(0) {
        s.push('0');
    }
    // Strip leading zeros of the integer part.
    let int_len = s.find('.').unwrap_or(s.len());
    let zeros = s[..int_len.saturating_sub(1)]
        .bytes()
        .take_while(|&c| c == b'0')
        .count();
    s[zeros..].to_owned()
}

/// The enclosure `[lower, upper]` (0 ≤ lower ≤ upper, finite) printed with
/// its certain digits; see the module documentation for the format.
///
/// ```
/// use lipcert::cli::digits::certified_digits;
/// // 1.2500000001 is stored as 1.25000000010000000827…, so it prints as …11.
/// assert_eq!(certified_digits(1.25, 1.2500000001), "1.250000000[00, 11]");
/// assert_eq!(certified_digits(4.0, 4.0), "4");
/// ```
pub fn certified_digits(lower: f64, upper: f64) -> String {
    if !(lower.is_finite() && upper.is_finite()) || lower < 0.0 || lower > upper {
        return format!("[{lower:e}, {upper:e}]");
    }
    if lower == upper {
        return number_text(upper);
    }
    let l = exact_digits(lower);
    let u = exact_digits(upper);
    let Some((_, top)) = u else {
        return format!("[{lower:e}, {upper:e}]");
    };
    // Print down to one decimal place below the width's leading digit.
    // (The choice only affects how many digits are shown; the directed
    // rounding below makes whatever is shown true.)
    let width = upper - lower;
    let low = ((width.log10().floor() as i32).saturating_sub(1))
        .max(top - 40)
        .min(top);
    let (ld, _) = truncate(&l, top, low);
    let (mut ud, cut) = truncate(&u, top, low);
    let mut top2 = top;
    let mut ld = ld;
    if cut && increment(&mut ud) {
        top2 += 1;
        ld.insert(0, 0);
    }
    let sci = !(-4..6).contains(&top2);
    let shift = if sci { top2 } else { 0 };
    let ls = render(&ld, top2 - shift);
    let us = render(&ud, top2 - shift);
    let prefix = ls
        .bytes()
        .zip(us.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    let prefix = if ls.len() == us.len() { prefix } else { 0 };
    let body = if prefix == 0 {
        format!("[{ls}, {us}]")
    } else {
        format!("{}[{}, {}]", &us[..prefix], &ls[prefix..], &us[prefix..])
    };
    if sci {
        format!("{body}e{shift}")
    } else {
        body
    }
}

/// `x` in Rust's shortest round-trip form, with an exponent when
/// `|x| < 1e-4` or `|x| ≥ 1e6` (so 5e-324 prints as `5e-324`, not as 324
/// digits).
///
/// ```
/// use lipcert::cli::digits::number_text;
/// assert_eq!(number_text(5e-324), "5e-324");
/// assert_eq!(number_text(f64::MAX), "1.7976931348623157e308");
/// assert_eq!(number_text(0.25), "0.25");
/// assert_eq!(number_text(0.0), "0");
/// ```
pub fn number_text(x: f64) -> String {
    if x == 0.0 || !x.is_finite() || (1e-4..1e6).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// `x ≥ 0` rounded *down* to `sig` significant digits, as `d.dde±k` (for
/// printing lower bounds: the printed number never exceeds `x`).
///
/// ```
/// use lipcert::cli::digits::round_down_text;
/// assert_eq!(round_down_text(9.879978109002043e-3, 3), "9.87e-3");
/// assert_eq!(round_down_text(0.0, 3), "0");
/// ```
pub fn round_down_text(x: f64, sig: usize) -> String {
    match exact_digits(x) {
        None => format!("{x}"),
        Some((digits, exp)) => {
            let kept: Vec<char> = digits
                .iter()
                .take(sig.max(1))
                .map(|d| char::from(b'0' + d))
                .collect();
            let rest: String = kept[1..].iter().collect();
            if rest.is_empty() {
                format!("{}e{exp}", kept[0])
            } else {
                format!("{}.{rest}e{exp}", kept[0])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    use std::cmp::Ordering;

    /// Exact rational value of a finite f64 as (numerator, denominator).
    fn f64_exact(x: f64) -> (BigInt, BigInt) {
        let bits = x.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as i32;
        let frac = bits & ((1u64 << 52) - 1);
        let (m, e) = if exp == 0 {
            (frac, -1074)
        } else {
            (frac | (1u64 << 52), exp - 1075)
        };
        let m = BigInt::from(m);
        if e >= 0 {
            (m << e as usize, BigInt::from(1))
        } else {
            (m, BigInt::from(1) << (-e) as usize)
        }
    }

    /// Exact rational value of a plain decimal string `ddd.ddd`.
    fn decimal_exact(s: &str) -> (BigInt, BigInt) {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let num: BigInt = format!("{int}{frac}").parse().unwrap();
        (num, BigInt::from(10).pow(frac.len() as u32))
    }

    fn cmp(a: &(BigInt, BigInt), b: &(BigInt, BigInt)) -> Ordering {
        (&a.0 * &b.1).cmp(&(&b.0 * &a.1))
    }

    /// Splits a printed enclosure into its two bounds as plain decimals with
    /// the exponent applied to the denominator/numerator.
    fn parse_printed(s: &str) -> ((BigInt, BigInt), (BigInt, BigInt)) {
        let (body, exp) = match s.rsplit_once('e') {
            Some((b, e)) if b.ends_with(']') => (b, e.parse::<i32>().unwrap()),
            _ => (s, 0),
        };
        let open = body.find('[').unwrap();
        let prefix = &body[..open];
        let inner = &body[open + 1..body.len() - 1];
        let (a, b) = inner.split_once(", ").unwrap();
        let scale = |v: (BigInt, BigInt)| {
            if exp >= 0 {
                (v.0 * BigInt::from(10).pow(exp as u32), v.1)
            } else {
                (v.0, v.1 * BigInt::from(10).pow((-exp) as u32))
            }
        };
        (
            scale(decimal_exact(&format!("{prefix}{a}"))),
            scale(decimal_exact(&format!("{prefix}{b}"))),
        )
    }

    #[test]
    fn examples() {
        // The binary64 number nearest 1.234567890123 lies just below it, so
        // its last certain digit rounds down to 2.
        assert_eq!(
            certified_digits(1.234567890123, 1.234567890135),
            "1.2345678901[22, 35]"
        );
        assert_eq!(certified_digits(0.0, 0.0), "0");
        assert_eq!(certified_digits(123.4, 125.6), "12[3.4, 5.6]");
        let s = certified_digits(3.16227766e-7, 3.16227767e-7);
        assert!(s.ends_with("e-7"), "{s}");
        let s = certified_digits(0.99999, 1.00001);
        // 1.00001 is stored slightly above 1.00001: its last digit rounds up.
        assert_eq!(s, "[0.999990, 1.000011]");
    }

    #[test]
    fn extremes_of_the_f64_range_print_and_contain() {
        let tiny = f64::from_bits(1);
        for (lower, upper) in [
            (0.0, tiny),
            (tiny, 2.0 * tiny),
            (0.0, 1.0),
            (f64::MAX / 2.0, f64::MAX),
            (1.0, 1.0f64.next_up()),
            (0.0, 123456.0),
        ] {
            let s = certified_digits(lower, upper);
            let (pl, pu) = parse_printed(&s);
            assert!(cmp(&pl, &f64_exact(lower)) != Ordering::Greater, "{s}");
            assert!(cmp(&pu, &f64_exact(upper)) != Ordering::Less, "{s}");
        }
    }

    #[test]
    fn printed_interval_contains_the_enclosure() {
        let mut runner = TestRunner::new_with_rng(
            Config {
                cases: 300,
                failure_persistence: None,
                ..Config::default()
            },
            TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
        );
        let strategy = (
            1e-12f64..1e12,
            0u32..60,
            prop_oneof![Just(0.0), 1e-16f64..1e-2],
        );
        runner
            .run(&strategy, |(x, ulps, rel)| {
                let mut lower = x;
                for _ in 0..ulps {
                    lower = lower.next_down();
                }
                let upper = x * (1.0 + rel);
                let s = certified_digits(lower, upper);
                if lower == upper {
                    prop_assert_eq!(s.parse::<f64>().unwrap(), lower);
                    return Ok(());
                }
                let (pl, pu) = parse_printed(&s);
                prop_assert!(
                    cmp(&pl, &f64_exact(lower)) != Ordering::Greater,
                    "{} vs {}",
                    s,
                    lower
                );
                prop_assert!(
                    cmp(&pu, &f64_exact(upper)) != Ordering::Less,
                    "{} vs {}",
                    s,
                    upper
                );
                Ok(())
            })
            .unwrap();
    }
}
