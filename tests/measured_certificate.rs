//! The a-posteriori Cholesky certificate (`certify_upper_measured`: the shift
//! β·‖|L|‖₂² + nν measured on the factor) and the weighted Schur bound it
//! rests on, against the exact rational oracle on every adversarial family,
//! with candidates on both sides of σ; and its reach beyond Rump's a-priori
//! floor at n = 2048.

mod common;

use common::certificates::issued_bounds_exceed_exact_sigma;
use common::lcg::Lcg;
use common::soundness;
use lipcert::certify::abs_norm::{abs_lower_norm_sq_up, SCHUR_POWER_STEPS};
use lipcert::certify::gram::GramWithError;
use lipcert::certify::pd_upper::{
    certify_upper_measured, certify_upper_with, measured_shift, PdFailure, MAX_CERTIFIED_DIM,
};
use lipcert::certify::refine::{apriori_floor, certificate_floor, Certificate};
use lipcert::exact::ExactGram;
use lipcert::strategies::{any_family, matrix, Family};
use lipcert::{sigma, DenseMatrix, SigmaOptions};
use proptest::prelude::*;
use std::cmp::Ordering;

/// Candidates s = σ̃·f around faer's estimate σ̃, below and above σ: just
/// below σ is where rounding could let a factorization of s²I − SᵀS "run
/// to completion" although it is indefinite; the measured shift must then
/// still put the bound above σ.
const FACTORS: [f64; 9] = [
    1.0 - 1e-3,
    1.0 - 1e-9,
    1.0 - 1.0 / (1u64 << 45) as f64,
    1.0 - f64::EPSILON,
    1.0,
    1.0 + f64::EPSILON,
    1.0 + 1e-12,
    1.0 + 1e-9,
    1.0 + 1e-6,
];

fn largest_singular_value(w: &DenseMatrix) -> f64 {
    w.as_faer().singular_values().map(|s| s[0]).unwrap_or(0.0)
}

/// |L| for the lower triangle of `l` (upper triangle zero).
fn abs_lower(l: &faer::Mat<f64>) -> DenseMatrix {
    let n = l.nrows();
    DenseMatrix::from_fn(n, n, |i, j| if i >= j { l[(i, j)].abs() } else { 0.0 }).unwrap()
}

proptest! {
    #![proptest_config(soundness::config(48, 0x6d65_6173))]

    /// Unscaled stored values (huge, tiny and subnormal families included):
    /// every certificate the measured criterion issues puts σ strictly below
    /// its bound, exactly.
    #[test]
    fn measured_bounds_are_above_the_exact_sigma(w in any_family(1..=9, 1..=9)) {
        let est = largest_singular_value(&w);
        prop_assume!(est.is_finite());
        let candidates = FACTORS.iter().map(|&f| (est * f, format!("{est}·{f}")));
        issued_bounds_exceed_exact_sigma(&w, &GramWithError::new(&w), candidates, |g, s| {
            certify_upper_measured(g, s, 1)
        })?;
    }

    /// Small integer matrices have an exactly computed Gram matrix, so the
    /// Gram radius may be 0 and only the measured shift stands between a
    /// factorization that rounding let through and a wrong bound: candidates
    /// up to 1024 ulps below σ (where Cholesky's
    /// rounding of a nearly singular s²I − SᵀS can let it through), exactly
    /// checked.
    #[test]
    fn measured_bounds_with_an_exact_gram_are_above_the_exact_sigma(
        w in matrix(Family::Integer, 1..=24, 1..=24),
    ) {
        let est = largest_singular_value(&w);
        let mut g = GramWithError::new(&w);
        g.radius = 0.0;
        let candidates = [-1024, -256, -128, -64, -32, -16, -8, -4, -2, -1, 0, 1, 2, 4]
            .map(|k| (est * (1.0 + f64::from(k) * f64::EPSILON), format!("σ̃(1 + {k}ε)")));
        issued_bounds_exceed_exact_sigma(&w, &g, candidates, |g, s| certify_upper_measured(g, s, 1))?;
    }

    /// The scaled S of the real pipeline: the certificate succeeds 1e-6 above
    /// σ (it is not vacuous) and its bound stays within 1e-6 of the candidate.
    #[test]
    fn measured_certificate_is_tight_on_scaled_input(w in any_family(1..=9, 1..=9)) {
        prop_assume!(!w.is_zero());
        let s_mat = w.oriented_normalized_scale().unwrap().matrix;
        let est = largest_singular_value(&s_mat);
        let g = GramWithError::new(&s_mat);
        let s = est * (1.0 + 1e-6);
        let cert = certify_upper_measured(&g, s, 1);
        prop_assert!(cert.is_ok(), "no certificate 1e-6 above σ̃ = {est}: {cert:?}");
        let bound = cert.unwrap().bound;
        prop_assert!(bound <= s * (1.0 + 1e-6), "bound {bound} for candidate {s}");
        prop_assert_eq!(ExactGram::new(&s_mat).unwrap().compare_sigma(bound).unwrap(), Ordering::Less);
    }

    /// The weighted Schur bound r ≥ ‖|L|‖₂² on lower-triangular matrices with
    /// entries of every sign and scale (zero columns, a dominant entry,
    /// spread magnitudes), exactly.
    #[test]
    fn schur_bound_is_above_the_exact_abs_norm(
        n in 1usize..=8,
        entries in proptest::collection::vec(-4.0f64..4.0, 64),
        exponents in proptest::collection::vec(-60i32..60, 64),
        steps in 0usize..=6,
    ) {
        let l = faer::Mat::from_fn(n, n, |i, j| {
            if i >= j { entries[i * 8 + j] * 2f64.powi(exponents[i * 8 + j]) } else { 0.0 }
        });
        let r = abs_lower_norm_sq_up(l.as_ref(), steps);
        prop_assert!(r >= 0.0);
        let abs = abs_lower(&l);
        if r.is_finite() {
            let s = r.sqrt().next_down();
            prop_assert_ne!(
                ExactGram::new(&abs).unwrap().compare_sigma(s).unwrap(),
                Ordering::Greater,
                "σ(|L|)² > r = {} for {:?}", r, l
            );
        }
    }
}

#[test]
fn schur_bound_of_known_matrices() {
    // |L| = all-ones lower triangle of order 2: |L||L|ᵀ = [[1,1],[1,2]],
    // ρ = (3 + √5)/2 = 2.618…; four power steps land within 1e-3.
    let l = faer::Mat::from_fn(2, 2, |i, j| if i >= j { -1.0 } else { 0.0 });
    let r = abs_lower_norm_sq_up(l.as_ref(), SCHUR_POWER_STEPS);
    let rho = (3.0 + 5f64.sqrt()) / 2.0;
    assert!(r >= rho && r <= rho * (1.0 + 1e-3), "r = {r}");
    // A zero column below the diagonal and a zero diagonal entry: the weight
    // floor keeps w > 0 and the bound finite.
    let l = faer::Mat::from_fn(3, 3, |i, j| match (i, j) {
        (0, 0) => 2.0,
        (2, 2) => 1.0,
        _ => 0.0,
    });
    let r = abs_lower_norm_sq_up(l.as_ref(), SCHUR_POWER_STEPS);
    assert!((4.0..4.0 * (1.0 + 1e-12)).contains(&r), "r = {r}");
}

#[test]
fn measured_shift_outside_its_hypotheses_is_infinite() {
    assert_eq!(
        measured_shift(MAX_CERTIFIED_DIM + 1, 1.0, 1.0),
        f64::INFINITY
    );
    assert_eq!(measured_shift(3, -1.0, 1.0), f64::INFINITY);
    assert_eq!(measured_shift(3, f64::NAN, 1.0), f64::INFINITY);
    assert_eq!(measured_shift(3, 1.0, -1.0), f64::INFINITY);
    assert_eq!(measured_shift(3, 1.0, f64::NAN), f64::INFINITY);
    let c = measured_shift(3, 1.0, 1.0);
    // β ≥ 2·4u = 8u for n = 3 and r = 1.
    assert!(c.is_finite() && c >= 8.0 * f64::EPSILON / 2.0, "c = {c}");
}

#[test]
fn measured_certificate_refuses_invalid_candidates() {
    let w = DenseMatrix::from_row_major(2, 2, &[1.0, 0.0, 0.0, 1.0]).unwrap();
    let g = GramWithError::new(&w);
    for s in [-2.0, f64::NAN, f64::INFINITY] {
        assert!(
            matches!(
                certify_upper_measured(&g, s, 1),
                Err(PdFailure::InvalidArgument(_))
            ),
            "s = {s}"
        );
    }
    // Below σ = 1 the diagonal test or a pivot refuses.
    assert!(certify_upper_measured(&g, 0.5, 1).is_err());
    let mut inf = g.clone();
    inf.lower[(1, 0)] = f64::INFINITY;
    assert!(certify_upper_measured(&inf, 1e6, 1).is_err());
}

/// At n = 2048 Rump's a-priori shift (≈ 2(n+2)u·tr A) puts the floor near
/// 8e-10 relative: a candidate 3e-10 above σ fails there, and the measured
/// shift (≈ 2(n+1)u·76·s²) certifies it. The widths `sigma` then reaches
/// follow: 3e-10 asked, 3e-10 delivered.
#[test]
fn measured_certificate_reaches_below_the_apriori_floor() {
    let n = 2048;
    let mut rng = Lcg(2048);
    let w = DenseMatrix::from_row_major(n, n, &rng.vec(n * n, 1.0)).unwrap();
    let s_mat = w.oriented_normalized_scale().unwrap().matrix;
    let g = GramWithError::new_with(&s_mat, 2);
    let est = largest_singular_value(&s_mat);
    assert!(
        apriori_floor(&g, est) > 4e-10,
        "floor {}",
        apriori_floor(&g, est)
    );
    let s = est * (1.0 + 3e-10);
    assert!(certify_upper_with(&g, s, 2).is_err());
    let cert = certify_upper_measured(&g, s, 2).expect("measured certificate 3e-10 above σ");
    assert!(
        cert.bound <= est * (1.0 + 4e-10),
        "bound {} vs σ̃ {est}",
        cert.bound
    );
    assert_eq!(certificate_floor(&g, est, 3e-10).1, Certificate::Measured);
    assert_eq!(certificate_floor(&g, est, 1e-6).1, Certificate::Apriori);

    let options = SigmaOptions {
        rel_width: 3e-10,
        ..SigmaOptions::default()
    };
    let e = sigma(&w, &options).unwrap();
    let width = (e.upper() - e.lower()) / e.upper();
    assert!(width <= 3e-10, "width {width:.2e}: {e}");
}

/// Widths below Rump's a-priori floor make `sigma` use the measured
/// certificate even at n = 64 (1e-12 asks each certificate for 2.5e-13,
/// below that floor: `LIPCERT_TIMING=1` shows `(Measured)`): the enclosure
/// still contains the exact σ and reaches the width.
#[test]
fn sigma_below_the_apriori_floor_contains_the_exact_sigma() {
    for (m, n, seed) in [(64usize, 64usize, 31u64), (70, 64, 32), (64, 49, 33)] {
        let mut rng = Lcg(seed);
        let w = DenseMatrix::from_row_major(m, n, &rng.vec(m * n, 1.0)).unwrap();
        let options = SigmaOptions {
            rel_width: 1e-12,
            ..SigmaOptions::default()
        };
        let e = sigma(&w, &options).unwrap();
        assert!(e.relative_width() <= 1e-12, "{m}x{n}: {e}");
        assert!(
            lipcert::exact::contains_sigma(&w, e.lower(), e.upper()).unwrap(),
            "{m}x{n}: {e}"
        );
    }
}

proptest! {
    #![proptest_config(soundness::config(12, 0x7469_6768))]

    /// Every family at widths below the a-priori floor (the measured
    /// certificate, on the Gram path: n > 48): the enclosure contains the
    /// exact σ, whatever width it reaches.
    #[test]
    fn sigma_at_tight_widths_contains_the_exact_sigma_on_every_family(
        w in any_family(49..=64, 49..=56),
        rel_width in prop_oneof![Just(1e-12), Just(3e-13)],
    ) {
        let options = SigmaOptions { rel_width, ..SigmaOptions::default() };
        let e = sigma(&w, &options).unwrap();
        prop_assert!(
            lipcert::exact::contains_sigma(&w, e.lower(), e.upper()).unwrap(),
            "{}x{} at {rel_width:e}: {e}", w.nrows(), w.ncols()
        );
    }
}
