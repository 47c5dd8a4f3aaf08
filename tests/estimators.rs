//! Matrix-free estimators (power, Golub–Kahan–Lanczos), the probabilistic
//! Lanczos bound, the certified Gram iteration and the ℓ1/ℓ∞ enclosures,
//! held against independent implementations (faer/nalgebra SVD) and exact
//! integer arithmetic.

use lipcert::certify::gram_upper::gram_upper_bound;
use lipcert::certify::p_norms::{l1_norm, linf_norm, sqrt_l1_linf_upper};
use lipcert::certify::probabilistic::{
    kw_quoted_lanczos_failure_probability, lanczos_failure_probability, power_failure_probability,
    probabilistic_sigma, steps_for,
};
use lipcert::estimate::gram_iteration::gram_iteration_estimate;
use lipcert::estimate::lanczos::{golub_kahan, LanczosOptions};
use lipcert::estimate::power::{power_iteration, power_iteration_with_tolerance};
use lipcert::estimate::svd::{faer_singular_values, faer_top, nalgebra_top};
use lipcert::random::Rng;
use lipcert::{DenseMatrix, Guarantee, LinearOperator, Method};
use num_bigint::BigInt;

fn gaussian(m: usize, n: usize, seed: u64) -> DenseMatrix {
    let mut r = Rng::new(seed);
    DenseMatrix::from_fn(m, n, |_, _| r.normal()).unwrap()
}

/// W = A·B with A m×r and B r×n Gaussian: rank r.
fn low_rank(m: usize, n: usize, r: usize, seed: u64) -> DenseMatrix {
    let a = gaussian(m, r, seed);
    let b = gaussian(r, n, seed + 1000);
    DenseMatrix::from_fn(m, n, |i, j| (0..r).map(|t| a.get(i, t) * b.get(t, j)).sum()).unwrap()
}

/// H₁·diag(d)·H₂ with Householder reflections H = I − 2hhᵀ/hᵀh: singular
/// values d (up to rounding), so repeated values can be prescribed.
fn with_singular_values(d: &[f64], seed: u64) -> DenseMatrix {
    let n = d.len();
    let mut r = Rng::new(seed);
    let h1 = r.unit_vector(n);
    let h2 = r.unit_vector(n);
    let house =
        |h: &[f64], i: usize, j: usize| (if i == j { 1.0 } else { 0.0 }) - 2.0 * h[i] * h[j];
    DenseMatrix::from_fn(n, n, |i, j| {
        (0..n)
            .map(|t| house(&h1, i, t) * d[t] * house(&h2, t, j))
            .sum()
    })
    .unwrap()
}

/// The shapes every estimator must handle.
fn shapes() -> Vec<(&'static str, DenseMatrix)> {
    vec![
        ("1x9 row", gaussian(1, 9, 1)),
        ("9x1 column", gaussian(9, 1, 2)),
        ("1x1", DenseMatrix::from_row_major(1, 1, &[-2.5]).unwrap()),
        ("30x17", gaussian(30, 17, 3)),
        ("17x30", gaussian(17, 30, 4)),
        ("40x40 rank 3", low_rank(40, 40, 3, 5)),
        ("25x60 rank 2", low_rank(25, 60, 2, 6)),
        (
            "repeated top",
            with_singular_values(&[5.0, 5.0, 3.0, 1.0, 0.5, 0.1], 7),
        ),
    ]
}

#[test]
fn lanczos_agrees_with_svd_on_all_shapes() {
    for (name, w) in shapes() {
        let exact = faer_top(&w).unwrap().sigma;
        let check = nalgebra_top(&w).unwrap().sigma;
        assert!(
            (exact - check).abs() <= 1e-13 * exact,
            "{name}: SVDs disagree"
        );
        let r = golub_kahan(&w, &LanczosOptions::default()).unwrap();
        assert!(
            (r.sigma - exact).abs() <= 1e-12 * exact,
            "{name}: {} vs {exact}",
            r.sigma
        );
        // The Ritz vectors are unit vectors with W y ≈ σ x.
        let mut wy = vec![0.0; w.nrows()];
        w.apply(&r.right, &mut wy);
        let dev: f64 = wy
            .iter()
            .zip(&r.left)
            .map(|(a, b)| (a - r.sigma * b).powi(2))
            .sum();
        assert!(
            dev.sqrt() <= 1e-8 * exact,
            "{name}: ‖Wy − σx‖ = {}",
            dev.sqrt()
        );
        let ny: f64 = r.right.iter().map(|x| x * x).sum();
        assert!((ny - 1.0).abs() < 1e-12);
    }
}

#[test]
fn power_iteration_agrees_with_svd_on_all_shapes() {
    for (name, w) in shapes() {
        let exact = faer_top(&w).unwrap().sigma;
        let r = power_iteration_with_tolerance(&w, 20_000, 1e-15, 11);
        // ‖Av‖ ≤ σ‖v‖: the estimate never exceeds σ beyond rounding.
        assert!(r.sigma <= exact * (1.0 + 1e-13), "{name}");
        assert!(
            r.sigma >= exact * (1.0 - 1e-8),
            "{name}: {} vs {exact}",
            r.sigma
        );
    }
    // Fixed step count runs exactly that many steps on a full-rank matrix.
    let w = gaussian(12, 8, 9);
    assert_eq!(power_iteration(&w, 7, 0).steps, 7);
}

#[test]
fn lanczos_reaches_1e12_on_gaussian_200x150_within_60_steps() {
    let w = gaussian(200, 150, 2024);
    let exact = faer_top(&w).unwrap().sigma;
    let r = golub_kahan(
        &w,
        &LanczosOptions {
            max_steps: 150,
            tol: 1e-13,
            seed: 5,
            start: None,
        },
    )
    .unwrap();
    assert!(
        (r.sigma - exact).abs() <= 1e-12 * exact,
        "{} vs {exact}",
        r.sigma
    );
    assert!(r.steps <= 60, "took {} steps", r.steps);
    assert!(r.residual <= 1e-5 * exact);
}

#[test]
fn lanczos_is_deterministic_per_seed_and_honours_an_explicit_start() {
    let w = gaussian(20, 15, 8);
    let o = LanczosOptions {
        max_steps: 4,
        tol: 0.0,
        ..Default::default()
    };
    let a = golub_kahan(&w, &o).unwrap();
    let b = golub_kahan(&w, &o).unwrap();
    assert_eq!(a.sigma, b.sigma);
    assert_eq!(a.steps, 4);
    // Starting at the top right singular vector: one step is exact.
    let v = faer_top(&w).unwrap();
    let r = golub_kahan(
        &w,
        &LanczosOptions {
            max_steps: 1,
            tol: 0.0,
            start: Some(v.right.iter().map(|x| 3.0 * x).collect()),
            ..Default::default()
        },
    )
    .unwrap();
    assert!((r.sigma - v.sigma).abs() <= 1e-13 * v.sigma);
}

/// A user-defined operator: y = diag(d)·x (square).
struct Diagonal(Vec<f64>);

impl LinearOperator for Diagonal {
    fn nrows(&self) -> usize {
        self.0.len()
    }
    fn ncols(&self) -> usize {
        self.0.len()
    }
    fn apply(&self, x: &[f64], y: &mut [f64]) {
        for ((yi, di), xi) in y.iter_mut().zip(&self.0).zip(x) {
            *yi = di * xi;
        }
    }
    fn apply_transpose(&self, y: &[f64], x: &mut [f64]) {
        self.apply(y, x)
    }
    /// One rounding per entry: |fl(dᵢxᵢ) − dᵢxᵢ| ≤ u|dᵢxᵢ| + η/2, so the
    /// error is at most u·max|d|·‖x‖ + √n·η.
    fn apply_error_bound(&self, x_norm: f64) -> f64 {
        let dmax = self.0.iter().fold(0.0f64, |a, d| a.max(d.abs()));
        let n = self.0.len() as f64;
        (lipcert::rounding::UNIT_ROUNDOFF * 2.0 * dmax * x_norm + n.sqrt() * 1e-320).next_up()
    }
}

#[test]
fn estimators_work_through_dyn_linear_operator() {
    let d: Vec<f64> = (0..50).map(|i| 1.0 + (i as f64) * 0.05).collect(); // top 3.45
    let op = Diagonal(d);
    let dynop: &dyn LinearOperator = &op;
    let r = golub_kahan(dynop, &LanczosOptions::default()).unwrap();
    assert!((r.sigma - 3.45).abs() <= 1e-12 * 3.45, "{}", r.sigma);
    assert!(r.right[49].abs() > 1.0 - 1e-6);
    let p = power_iteration(dynop, 3000, 1);
    assert!((p.sigma - 3.45).abs() <= 1e-6, "{}", p.sigma);
    let e = probabilistic_sigma(dynop, 1e-3, 1e-2, 3).unwrap();
    assert!(e.lower() <= 3.45 && 3.45 <= e.upper(), "{e}");
    assert_eq!(e.method(), Method::Lanczos);
}

#[test]
fn failure_probability_formulas_match_hand_computation() {
    // Lanczos, n = 100, k = 11, ε = 1/4: √(200/π)·√3 / cosh(20·artanh ½),
    // and 20·artanh ½ = 10 ln 3, so the denominator is ≥ 3¹⁰/2.
    let p = lanczos_failure_probability(100, 11, 0.25);
    let with_cosh = (200.0 / std::f64::consts::PI).sqrt() * 3f64.sqrt()
        / ((3f64.powi(10) + 3f64.powi(-10)) / 2.0);
    let with_half_exp = (200.0 / std::f64::consts::PI).sqrt() * 3f64.sqrt() / (3f64.powi(10) / 2.0);
    assert!(p >= with_cosh && p >= with_half_exp, "{p}");
    assert!(p <= with_half_exp * (1.0 + 1e-9), "{p}");
    assert!((p - 4.680_78e-4).abs() < 1e-8, "{p}");
    // Power, n = 100, k = 3, ε = ½: √(200/π)·(½)^{5/2}·√(c₃/ε) with
    // c₃ = (1/5)(4/5)⁴ = 0.08192 exactly and the bound e^{−4/5}/5 used.
    let p = power_failure_probability(100, 3, 0.5);
    let front = (200.0 / std::f64::consts::PI).sqrt() * 0.5f64.powf(2.5);
    let exact_c = front * (0.08192f64 / 0.5).sqrt();
    let bound_c = front * ((-0.8f64).exp() / 5.0 / 0.5).sqrt();
    assert!(p >= exact_c && p >= bound_c, "{p}");
    assert!(p <= bound_c * (1.0 + 1e-9), "{p}");
    assert!((p - 0.597_98).abs() < 1e-4, "{p}");
    // The quoted Kuczyński–Woźniakowski Lanczos constant: 1.648·10·e^{−10.5}.
    let q = kw_quoted_lanczos_failure_probability(100, 11, 0.25);
    assert!((q - 4.538_01e-4).abs() < 1e-8, "{q}");
}

#[test]
fn failure_probabilities_are_monotone() {
    for &n in &[2usize, 10, 1000, 1 << 20] {
        for &eps in &[1e-4, 1e-2, 0.1, 0.5, 0.9] {
            let mut prev_l = 1.0;
            let mut prev_p = 1.0;
            for k in 1..400 {
                let l = lanczos_failure_probability(n, k, eps);
                let p = power_failure_probability(n, k, eps);
                assert!((0.0..=1.0).contains(&l) && (0.0..=1.0).contains(&p));
                assert!(l <= prev_l && p <= prev_p, "n {n} eps {eps} k {k}");
                // More ε → fewer failures; larger n → more.
                assert!(lanczos_failure_probability(n, k, eps * 1.1) <= l);
                assert!(lanczos_failure_probability(2 * n, k, eps) >= l);
                prev_l = l;
                prev_p = p;
            }
        }
    }
    for &(n, eps, delta) in &[
        (4096usize, 0.02, 1e-6),
        (10, 0.5, 0.1),
        (1 << 30, 1e-3, 1e-12),
    ] {
        let k = steps_for(n, eps, delta);
        assert!(lanczos_failure_probability(n, k, eps) <= delta);
        assert!(lanczos_failure_probability(n, k - 1, eps) > delta);
    }
}

/// The power-method bound is nearly attained on W = diag(1, √λ*, …, √λ*)
/// with λ* = (1−ε)·t*, t* the maximiser of (1−t)t^{2k−2}: the empirical
/// failure rate over seeds must stay below the bound (and, because the bound
/// is almost tight there, not far below it).
#[test]
fn power_failure_rate_is_below_the_bound_on_a_nearly_worst_case_matrix() {
    let (n, k, eps) = (400usize, 30usize, 0.1f64);
    let t_star = (2 * k - 2) as f64 / (2 * k - 1) as f64;
    let lambda_star = (1.0 - eps) * t_star;
    let mut d = vec![lambda_star.sqrt(); n];
    d[0] = 1.0;
    let op = Diagonal(d);
    let bound = power_failure_probability(n, k, eps);
    let runs = 400;
    let mut failures = 0;
    for seed in 0..runs {
        // k − 1 steps of power iteration: σ² = Rayleigh quotient of A^{k−1}b.
        let r = power_iteration(&op, k - 1, seed);
        if r.sigma * r.sigma < 1.0 - eps {
            failures += 1;
        }
    }
    let rate = failures as f64 / runs as f64;
    let sd = (bound * (1.0 - bound) / runs as f64).sqrt();
    assert!(rate <= bound + 4.0 * sd, "rate {rate} bound {bound}");
    assert!(
        rate >= 0.5 * bound,
        "rate {rate} bound {bound}: test not sensitive"
    );
}

#[test]
fn probabilistic_upper_bound_covers_sigma_over_many_seeds() {
    let matrices = [
        gaussian(60, 40, 31),
        low_rank(50, 50, 5, 32),
        with_singular_values(&[2.0, 2.0, 1.99, 1.0, 0.3, 0.2, 0.1, 0.05], 33),
    ];
    let (delta, width) = (1e-3, 1e-2);
    let mut failures = 0;
    let mut runs = 0;
    for w in &matrices {
        let sigma = faer_top(w).unwrap().sigma;
        for seed in 0..40 {
            let e = probabilistic_sigma(w, delta, width, seed).unwrap();
            runs += 1;
            assert!(e.lower() <= sigma * (1.0 + 1e-13), "lower above σ");
            assert!(e.upper() / e.lower() <= 1.0 + width + 1e-7, "{e}");
            match e.guarantee() {
                Guarantee::Probabilistic {
                    failure_probability,
                } => assert!(failure_probability <= delta),
                Guarantee::Rigorous => panic!("must be probabilistic"),
            }
            if e.upper() < sigma * (1.0 - 1e-13) {
                failures += 1;
            }
        }
    }
    // δ·runs = 0.12: any failure at all would contradict the claim.
    assert!(
        (failures as f64) <= delta * runs as f64,
        "{failures} of {runs}"
    );
}

#[test]
fn probabilistic_sigma_rejects_bad_arguments() {
    let w = gaussian(5, 4, 1);
    assert!(probabilistic_sigma(&w, 0.0, 1e-2, 0).is_err());
    assert!(probabilistic_sigma(&w, 1.0, 1e-2, 0).is_err());
    assert!(probabilistic_sigma(&w, 1e-3, f64::NAN, 0).is_err());
    assert!(probabilistic_sigma(&w, 1e-3, 1e-9, 0).is_err());
    let z = DenseMatrix::from_row_major(2, 2, &[0.0; 4]).unwrap();
    assert!(probabilistic_sigma(&z, 1e-3, 1e-2, 0).is_err());
}

#[test]
fn gram_upper_bound_is_above_sigma_and_converges() {
    let mut cases = shapes();
    cases.push(("80x50", gaussian(80, 50, 40)));
    // Exact power-of-two scalings: σ scales exactly. (faer 0.24.4's SVD is
    // wrong on such tiny matrices — 3.59e-200 instead of 5.26e-200 here — so
    // the reference comes from the unscaled matrix.)
    let base = gaussian(10, 7, 41);
    for e in [-660, 600] {
        let f = 2f64.powi(e);
        cases.push(("scaled by a power of two", {
            DenseMatrix::from_fn(10, 7, |i, j| base.get(i, j) * f).unwrap()
        }));
    }
    for (name, w) in cases {
        let unscaled = w.normalized_scale().unwrap();
        let f = 2f64.powi(-unscaled.exponent);
        let s: Vec<f64> = faer_singular_values(&unscaled.matrix)
            .unwrap()
            .iter()
            .map(|x| x * f)
            .collect();
        let sigma = s[0];
        let mut prev = f64::INFINITY;
        for k in [0usize, 2, 5, 10, 20] {
            let u = gram_upper_bound(&w, k).unwrap();
            assert!(u >= sigma * (1.0 - 1e-13), "{name} k {k}: {u} < {sigma}");
            assert!(u <= prev * (1.0 + 1e-12), "{name} k {k}: not decreasing");
            prev = u;
        }
        // Repeated top singular values converge like 2^{1/2^{K+2}}.
        let repeated = s.len() > 1 && s[1] > sigma * (1.0 - 1e-9);
        let tol = if repeated { 1e-6 } else { 1e-9 };
        assert!(prev <= sigma * (1.0 + tol), "{name}: {prev} vs {sigma}");
    }
}

/// The exact decision "x < σ₁(W)" for an m×2 matrix W, in big-integer
/// arithmetic: every f64 is an integer times a power of two, G = WᵀW is
/// exact, and x < σ₁ ⇔ x² < λ_max(G) ⇔ 2x² − tr G < √disc with
/// disc = (g₁₁ − g₂₂)² + 4g₁₂².
fn below_sigma_exact(w: &DenseMatrix, x: f64) -> bool {
    assert_eq!(w.ncols(), 2);
    let decompose = |v: f64| -> (BigInt, i32) {
        let bits = v.abs().to_bits();
        let biased = (bits >> 52) as i32;
        let frac = bits & ((1u64 << 52) - 1);
        let (mant, exp) = if biased == 0 {
            (frac, -1074)
        } else {
            (frac | (1u64 << 52), biased - 1075)
        };
        let m = BigInt::from(mant);
        (if v < 0.0 { -m } else { m }, exp)
    };
    let entries: Vec<(BigInt, i32)> = (0..w.nrows())
        .flat_map(|i| (0..2).map(move |j| (i, j)))
        .map(|(i, j)| decompose(w.get(i, j)))
        .collect();
    let (xm, xe) = decompose(x);
    let emin = entries.iter().map(|e| e.1).min().unwrap().min(xe);
    let scale = |(m, e): &(BigInt, i32)| -> BigInt { m.clone() << ((e - emin) as usize) };
    let ints: Vec<BigInt> = entries.iter().map(scale).collect();
    let (mut g11, mut g12, mut g22) = (BigInt::from(0), BigInt::from(0), BigInt::from(0));
    for r in 0..w.nrows() {
        let (a, b) = (&ints[2 * r], &ints[2 * r + 1]);
        g11 += a * a;
        g12 += a * b;
        g22 += b * b;
    }
    let xi = scale(&(xm, xe));
    let t = BigInt::from(2) * &xi * &xi - (&g11 + &g22);
    if t < BigInt::from(0) {
        return true;
    }
    let diff = &g11 - &g22;
    let disc = &diff * &diff + BigInt::from(4) * &g12 * &g12;
    &t * &t < disc
}

/// Regression for the failure mode of published Gram-iteration code: in plain
/// floating point it can return a "bound" below σ₁. On m×2 matrices σ₁ is
/// decided exactly; the plain estimator falls below it on some seeds, the
/// certified bound never does.
#[test]
fn plain_gram_iteration_can_underestimate_but_the_certified_bound_cannot() {
    let mut plain_below = 0;
    for seed in 0..200u64 {
        let w = gaussian(40, 2, 500 + seed);
        let plain = gram_iteration_estimate(&w, 12);
        let certified = gram_upper_bound(&w, 12).unwrap();
        assert!(
            !below_sigma_exact(&w, certified),
            "seed {seed}: certified bound below σ"
        );
        if below_sigma_exact(&w, plain) {
            plain_below += 1;
        }
    }
    assert!(plain_below > 0, "the plain estimator never underestimated");
    // The oracle itself: σ of [[3, 0], [0, 4]] is 4.
    let d = DenseMatrix::from_row_major(2, 2, &[3.0, 0.0, 0.0, 4.0]).unwrap();
    assert!(below_sigma_exact(&d, 4f64.next_down()));
    assert!(!below_sigma_exact(&d, 4.0));
}

/// Exact column and row sums: entries k/2³⁰ with integer k are summed exactly
/// in i128 and must lie in the enclosures (which are points here, since the
/// sums are representable); random full-precision entries are summed exactly
/// after scaling by 2⁷⁰.
#[test]
fn p_norm_enclosures_contain_exact_sums() {
    let mut r = Rng::new(77);
    for trial in 0..20 {
        let (m, n) = (1 + trial % 7, 1 + (trial * 3) % 11);
        let full_precision = trial % 2 == 1;
        let vals: Vec<f64> = (0..m * n)
            .map(|_| {
                if full_precision {
                    let v = 8.0 * r.uniform() - 4.0;
                    if v.abs() < 1e-3 {
                        0.0
                    } else {
                        v
                    }
                } else {
                    ((r.next_u64() % 2_000_001) as f64 - 1_000_000.0) / (1u64 << 30) as f64
                }
            })
            .collect();
        let w = DenseMatrix::from_row_major(m, n, &vals).unwrap();
        // |v|·2⁷⁰ is an integer below 2⁷³ for these entries (ulp ≥ 2⁻⁷⁰).
        let to_int = |v: f64| -> i128 {
            let s = v.abs() * 2f64.powi(70);
            assert_eq!(s.fract(), 0.0);
            s as i128
        };
        let col = (0..n)
            .map(|j| (0..m).map(|i| to_int(vals[i * n + j])).sum::<i128>())
            .max()
            .unwrap();
        let row = (0..m)
            .map(|i| (0..n).map(|j| to_int(vals[i * n + j])).sum::<i128>())
            .max()
            .unwrap();
        let l1 = l1_norm(&w).unwrap();
        let li = linf_norm(&w).unwrap();
        assert!(
            to_int(l1.lower) <= col && col <= to_int(l1.upper),
            "trial {trial}"
        );
        assert!(
            to_int(li.lower) <= row && row <= to_int(li.upper),
            "trial {trial}"
        );
        if !full_precision {
            assert_eq!(l1.lower, l1.upper, "representable sums are exact");
        }
        let sigma = faer_top(&w).unwrap().sigma;
        assert!(sqrt_l1_linf_upper(&w).unwrap() >= sigma * (1.0 - 1e-14));
    }
}
