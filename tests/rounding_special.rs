//! Every directed-rounding helper of `lipcert::rounding` against exact
//! rational arithmetic, over the special values (±0, subnormals, the normal
//! range's edges, ±f64::MAX, ±∞, NaN) and random bit patterns.
//!
//! The contract (module doc of `rounding`): an "up" result is ≥ the exact
//! result of the exact extended-real arguments, or +∞, or NaN; never a
//! finite value below it, and never finite when the exact result is +∞ or
//! undefined. "Down" is the mirror image. NaN arguments give NaN.
//! Issue 11 items 13–14 (e.g. `sum_of_squares_up(1, 2⁵²)` was 5e-324).

use lipcert::rounding::*;
use num_bigint::BigInt;
use num_traits::Signed;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngSeed};
use std::cmp::Ordering;

/// A finite f64 as m·2^e exactly.
#[derive(Clone, Debug)]
struct Dy {
    m: BigInt,
    e: i64,
}

fn dy(x: f64) -> Dy {
    assert!(x.is_finite());
    let bits = x.to_bits();
    let sign = if bits >> 63 == 1 { -1 } else { 1 };
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1u64 << 52) - 1);
    let (mant, e) = if biased == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), biased - 1075)
    };
    Dy {
        m: BigInt::from(mant) * sign,
        e,
    }
}

fn align(a: &Dy, b: &Dy) -> (BigInt, BigInt, i64) {
    let e = a.e.min(b.e);
    (
        a.m.clone() << (a.e - e) as usize,
        b.m.clone() << (b.e - e) as usize,
        e,
    )
}

fn add(a: &Dy, b: &Dy) -> Dy {
    let (x, y, e) = align(a, b);
    Dy { m: x + y, e }
}

fn neg(a: &Dy) -> Dy {
    Dy {
        m: -a.m.clone(),
        e: a.e,
    }
}

fn mul(a: &Dy, b: &Dy) -> Dy {
    Dy {
        m: &a.m * &b.m,
        e: a.e + b.e,
    }
}

fn cmp(a: &Dy, b: &Dy) -> Ordering {
    let (x, y, _) = align(a, b);
    x.cmp(&y)
}

/// The exact result of an operation on extended reals.
enum Exact {
    Undefined,
    PosInf,
    NegInf,
    /// Finite; the closure gives the sign of (r − exact) for a finite r.
    Finite(Box<dyn Fn(&Dy) -> Ordering>),
}

fn finite_value(v: Dy) -> Exact {
    Exact::Finite(Box::new(move |r| cmp(r, &v)))
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Dir {
    Up,
    Down,
}

fn check(dir: Dir, result: f64, exact: Exact, what: &str) {
    if result.is_nan() {
        return;
    }
    let (good_inf, bad_inf) = match dir {
        Dir::Up => (f64::INFINITY, f64::NEG_INFINITY),
        Dir::Down => (f64::NEG_INFINITY, f64::INFINITY),
    };
    match exact {
        Exact::Undefined => assert!(
            result == good_inf,
            "{what}: exact result undefined, got finite/wrong-sign {result:e}"
        ),
        Exact::PosInf => {
            if dir == Dir::Up {
                assert!(result == f64::INFINITY, "{what}: exact +∞, got {result:e}");
            }
        }
        Exact::NegInf => {
            if dir == Dir::Down {
                assert!(
                    result == f64::NEG_INFINITY,
                    "{what}: exact −∞, got {result:e}"
                );
            }
        }
        Exact::Finite(c) => {
            if result == good_inf {
                return;
            }
            assert!(result != bad_inf, "{what}: exact finite, got {result:e}");
            let o = c(&dy(result));
            match dir {
                Dir::Up => assert!(o != Ordering::Less, "{what}: {result:e} below exact"),
                Dir::Down => {
                    assert!(o != Ordering::Greater, "{what}: {result:e} above exact")
                }
            }
        }
    }
}

fn exact_add(a: f64, b: f64) -> Exact {
    match (a.is_finite(), b.is_finite()) {
        (true, true) => finite_value(add(&dy(a), &dy(b))),
        _ => {
            let inf = if a.is_infinite() && b.is_infinite() {
                if a != b {
                    return Exact::Undefined;
                }
                a
            } else if a.is_infinite() {
                a
            } else {
                b
            };
            if inf > 0.0 {
                Exact::PosInf
            } else {
                Exact::NegInf
            }
        }
    }
}

fn sign(x: f64) -> i32 {
    if x == 0.0 {
        0
    } else if x > 0.0 {
        1
    } else {
        -1
    }
}

fn exact_mul(a: f64, b: f64) -> Exact {
    if a.is_finite() && b.is_finite() {
        return finite_value(mul(&dy(a), &dy(b)));
    }
    match sign(a) * sign(b) {
        0 => Exact::Undefined,
        1 => Exact::PosInf,
        _ => Exact::NegInf,
    }
}

fn exact_div(a: f64, b: f64) -> Exact {
    if b == 0.0 {
        return Exact::Undefined;
    }
    match (a.is_finite(), b.is_finite()) {
        (true, true) => {
            let (n, d) = (dy(a), dy(b));
            // sign(r − n/d) = sign(r·d − n)·sign(d).
            let positive = d.m.is_positive();
            Exact::Finite(Box::new(move |r| {
                let o = cmp(&mul(r, &d), &n);
                if positive {
                    o
                } else {
                    o.reverse()
                }
            }))
        }
        (true, false) => finite_value(dy(0.0)),
        (false, true) => {
            if sign(a) * sign(b) > 0 {
                Exact::PosInf
            } else {
                Exact::NegInf
            }
        }
        (false, false) => Exact::Undefined,
    }
}

fn exact_sqrt(a: f64) -> Exact {
    if a < 0.0 {
        return Exact::Undefined;
    }
    if a == f64::INFINITY {
        return Exact::PosInf;
    }
    let v = dy(a);
    Exact::Finite(Box::new(move |r| {
        if r.m.is_negative() {
            return Ordering::Less;
        }
        cmp(&mul(r, r), &v)
    }))
}

/// √max(a, 0): the reading of [`sqrt_down`]'s argument (a lower bound of
/// a nonnegative quantity).
fn exact_sqrt_clamped(a: f64) -> Exact {
    exact_sqrt(a.max(0.0))
}

fn specials() -> Vec<f64> {
    let base = [
        0.0,
        ETA,
        2.0 * ETA,
        3.0 * ETA,
        f64::MIN_POSITIVE.next_down(),
        f64::MIN_POSITIVE,
        1e-300,
        UNIT_ROUNDOFF,
        0.1,
        0.5,
        1.0,
        1.0f64.next_up(),
        1.0f64.next_down(),
        3.0,
        1e300,
        f64::MAX.next_down(),
        f64::MAX,
        f64::INFINITY,
    ];
    let mut v: Vec<f64> = base.iter().flat_map(|&x| [x, -x]).collect();
    v.push(f64::NAN);
    v
}

fn check_binary(a: f64, b: f64) {
    let what = |op: &str| format!("{op}({a:e}, {b:e})");
    if a.is_nan() || b.is_nan() {
        for r in [
            add_up(a, b),
            add_down(a, b),
            sub_up(a, b),
            sub_down(a, b),
            mul_up(a, b),
            mul_down(a, b),
            div_up(a, b),
            div_down(a, b),
            add_up_tight(a, b),
            mul_up_tight(a, b),
            div_enclosure(a, b).0,
            div_enclosure(a, b).1,
        ] {
            assert!(r.is_nan(), "{}: NaN argument gave {r:e}", what("op"));
        }
        return;
    }
    check(Dir::Up, add_up(a, b), exact_add(a, b), &what("add_up"));
    check(
        Dir::Down,
        add_down(a, b),
        exact_add(a, b),
        &what("add_down"),
    );
    check(Dir::Up, sub_up(a, b), exact_add(a, -b), &what("sub_up"));
    check(
        Dir::Down,
        sub_down(a, b),
        exact_add(a, -b),
        &what("sub_down"),
    );
    check(Dir::Up, mul_up(a, b), exact_mul(a, b), &what("mul_up"));
    check(
        Dir::Down,
        mul_down(a, b),
        exact_mul(a, b),
        &what("mul_down"),
    );
    check(Dir::Up, div_up(a, b), exact_div(a, b), &what("div_up"));
    check(
        Dir::Down,
        div_down(a, b),
        exact_div(a, b),
        &what("div_down"),
    );
    check(
        Dir::Up,
        add_up_tight(a, b),
        exact_add(a, b),
        &what("add_up_tight"),
    );
    check(
        Dir::Up,
        mul_up_tight(a, b),
        exact_mul(a, b),
        &what("mul_up_tight"),
    );
    let (lo, hi) = div_enclosure(a, b);
    check(Dir::Down, lo, exact_div(a, b), &what("div_enclosure.0"));
    check(Dir::Up, hi, exact_div(a, b), &what("div_enclosure.1"));
}

fn check_unary(a: f64) {
    let what = |op: &str| format!("{op}({a:e})");
    if a.is_nan() {
        assert!(sqrt_up(a).is_nan() && sqrt_down(a).is_nan());
        assert!(sqrt_enclosure(a).0.is_nan() && sqrt_enclosure(a).1.is_nan());
        assert!(sum_of_squares_up(a, 3).is_nan());
        return;
    }
    check(Dir::Up, sqrt_up(a), exact_sqrt(a), &what("sqrt_up"));
    check(
        Dir::Down,
        sqrt_down(a),
        exact_sqrt_clamped(a),
        &what("sqrt_down"),
    );
    assert!(sqrt_down(a) >= 0.0, "{}", what("sqrt_down"));
    let (lo, hi) = sqrt_enclosure(a);
    check(
        Dir::Down,
        lo,
        exact_sqrt_clamped(a),
        &what("sqrt_enclosure.0"),
    );
    check(Dir::Up, hi, exact_sqrt(a), &what("sqrt_enclosure.1"));
    // sum_of_squares_up(c, n) ≥ (c + nη)/(1 − γₙ) ≥ c: at least ≥ c exactly,
    // and +∞ once γₙ is no longer < 1.
    if a < 0.0 {
        // Hypothesis: a computed sum of nonnegative terms is ≥ 0.
        assert!(
            sum_of_squares_up(a, 3).is_nan(),
            "{}",
            what("sum_of_squares_up")
        );
        return;
    }
    for n in [1usize, 2, 1000, 1 << 40] {
        let r = sum_of_squares_up(a, n);
        let exact = if a.is_infinite() {
            if a > 0.0 {
                Exact::PosInf
            } else {
                Exact::NegInf
            }
        } else {
            finite_value(dy(a))
        };
        check(Dir::Up, r, exact, &what("sum_of_squares_up"));
    }
    for n in [1usize << 52, (1usize << 53) + 1, usize::MAX] {
        assert_eq!(sum_of_squares_up(a, n), f64::INFINITY, "n = {n}");
    }
}

#[test]
fn every_helper_is_sound_on_every_pair_of_special_values() {
    let s = specials();
    for &a in &s {
        check_unary(a);
        for &b in &s {
            check_binary(a, b);
        }
    }
}

#[test]
fn issue_11_item_14_sum_of_squares_at_gamma_infinity_is_infinite() {
    assert_eq!(gamma(1usize << 52), f64::INFINITY);
    assert_eq!(sum_of_squares_up(1.0, 1usize << 52), f64::INFINITY);
    // The components that used to combine wrongly are each still sound.
    assert_eq!(div_up(1.0, -0.0), f64::INFINITY);
    assert_eq!(div_down(1.0, 0.0), f64::NEG_INFINITY);
    assert!(div_up(0.0, 0.0).is_nan());
}

/// gamma(n) ≥ n·u/(1 − n·u) exactly (or +∞), usize_up(n) ≥ n, and
/// underflow_slack(n) ≥ n·η.
#[test]
fn gamma_and_counts_round_upward() {
    let u = dy(UNIT_ROUNDOFF);
    let mut ns: Vec<usize> = vec![0, 1, 2, 3, 1000, 1 << 20, (1 << 26) + 1, 1 << 51];
    ns.extend([
        (1usize << 52) - 1,
        1 << 52,
        (1 << 53) + 1,
        usize::MAX - 1,
        usize::MAX,
    ]);
    for n in ns {
        let big_n = Dy {
            m: BigInt::from(n),
            e: 0,
        };
        let g = gamma(n);
        let nu = mul(&big_n, &u);
        let one_minus = add(&dy(1.0), &neg(&nu));
        if one_minus.m.is_positive() && g.is_finite() {
            // g·(1 − nu) ≥ nu
            assert!(
                cmp(&mul(&dy(g), &one_minus), &nu) != Ordering::Less,
                "gamma({n})"
            );
        } else {
            assert_eq!(g, f64::INFINITY, "gamma({n})");
        }
        assert!(
            cmp(&dy(usize_up(n)), &big_n) != Ordering::Less,
            "usize_up({n})"
        );
        let slack = underflow_slack(n);
        assert!(
            cmp(&dy(slack), &mul(&big_n, &dy(ETA))) != Ordering::Less,
            "underflow_slack({n})"
        );
    }
}

fn exact_sum_of_squares(x: &[f64]) -> Dy {
    x.iter()
        .fold(dy(0.0), |acc, &v| add(&acc, &mul(&dy(v), &dy(v))))
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => proptest::sample::select(specials()),
        2 => any::<f64>(),
        2 => -1e3f64..1e3,
        1 => (0u64..1 << 20).prop_map(f64::from_bits),
    ]
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        rng_seed: RngSeed::Fixed(0x5eed_0011),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(4000))]

    #[test]
    fn binary_helpers_are_sound(a in value(), b in value()) {
        check_binary(a, b);
    }

    #[test]
    fn unary_helpers_are_sound(a in value()) {
        check_unary(a);
    }

    /// norm2_up/norm2_down bracket the exact Euclidean norm, and sum_up is
    /// above the exact sum, for vectors mixing subnormals and large values.
    #[test]
    fn norms_and_sums_bracket_exact_values(x in proptest::collection::vec(value(), 0..12)) {
        let finite: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
        let s = exact_sum_of_squares(&finite);
        let up = norm2_up(&finite);
        if up.is_finite() {
            prop_assert!(cmp(&mul(&dy(up), &dy(up)), &s) != Ordering::Less, "norm2_up {up:e}");
        } else {
            prop_assert!(up == f64::INFINITY || up.is_nan());
        }
        let down = norm2_down(&finite);
        prop_assert!(down >= 0.0);
        if down.is_finite() {
            prop_assert!(cmp(&mul(&dy(down), &dy(down)), &s) != Ordering::Greater, "norm2_down {down:e}");
        }
        let abs: Vec<f64> = finite.iter().map(|v| v.abs()).collect();
        let total = sum_up(abs.iter().copied());
        let exact = abs.iter().fold(dy(0.0), |acc, &v| add(&acc, &dy(v)));
        if total.is_finite() {
            prop_assert!(cmp(&dy(total), &exact) != Ordering::Less, "sum_up {total:e}");
        } else {
            prop_assert_eq!(total, f64::INFINITY);
        }
    }
}
