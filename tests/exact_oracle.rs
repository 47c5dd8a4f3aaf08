//! Tests of the exact oracle (`lipcert::exact`) against facts that do not
//! come from its own code: closed forms derived by hand (2×2 singular values,
//! vectors, diagonal and Hadamard matrices, rank-one products), brute-force
//! determinants (Sylvester's criteria on all principal minors), invariances
//! of σ, two independent SVDs (faer, nalgebra), and exact integer arithmetic
//! written out here.
//!
//! Property tests use a fixed proptest seed and no failure persistence, so
//! every run checks the same cases.

mod common;

use common::dyadic::dyadic;
use lipcert::estimate::svd::{faer_top, nalgebra_top};
use lipcert::exact::{
    compare_sigma, contains_sigma, definiteness, lipschitz_ratio_at_most, ratio_at_least,
    sigma_enclosure, Definiteness, ExactGram,
};
use lipcert::{DenseMatrix, Error, Method};
use num_bigint::BigInt;
use num_traits::{Signed, Zero};
use proptest::prelude::*;
use proptest::test_runner::{RngAlgorithm, RngSeed, TestCaseError};
use std::cmp::Ordering::{self, Equal, Greater, Less};

// ---------------------------------------------------------------- helpers

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(0x11_0c_e7_5e),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn mat(rows: usize, cols: usize, v: &[f64]) -> DenseMatrix {
    DenseMatrix::from_row_major(rows, cols, v).unwrap()
}

/// SplitMix64 uniform in [0, 1) (53 bits) — a tiny local RNG.
struct SplitMix(u64);

impl SplitMix {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal by Box–Muller.
    fn gaussian(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

fn gaussian_matrix(rows: usize, cols: usize, seed: u64) -> DenseMatrix {
    let mut rng = SplitMix(seed);
    DenseMatrix::from_fn(rows, cols, |_, _| rng.gaussian()).unwrap()
}

/// a·2^p compared with b·2^q exactly.
fn cmp_scaled(a: &BigInt, p: i64, b: &BigInt, q: i64) -> Ordering {
    let k = p.min(q);
    let a = a << ((p - k) as usize);
    let b = b << ((q - k) as usize);
    a.cmp(&b)
}

/// The sign of 2s² − T compared with √(T² − 4D²) for an integer 2×2 matrix
/// with T = ‖W‖_F², D = det W: σ² = (T + √(T² − 4D²))/2, so
/// s vs σ has the ordering of (2s² − T) vs √(T² − 4D²).
fn compare_2x2_closed_form(w: [i64; 4], s: f64) -> Ordering {
    let (sm, se) = dyadic(s);
    compare_2x2_integer(w.map(BigInt::from), &sm, se)
}

/// The same for a 2×2 matrix of arbitrary finite floats: written as
/// A·2^e with an integer matrix A, s vs σ(W) is s·2^(−e) vs σ(A).
fn compare_2x2_closed_form_f64(w: [f64; 4], s: f64) -> Ordering {
    let parts = w.map(dyadic);
    let e = parts
        .iter()
        .filter(|(m, _)| !m.is_zero())
        .map(|&(_, q)| q)
        .min()
        .unwrap_or(0);
    let a = parts.map(|(m, q)| {
        if m.is_zero() {
            m
        } else {
            m << ((q - e) as usize)
        }
    });
    let (sm, se) = dyadic(s);
    compare_2x2_integer(a, &sm, se - e)
}

/// s = sm·2^se vs σ([[a, b], [c, d]]) for integers, by the closed form.
fn compare_2x2_integer(w: [BigInt; 4], sm: &BigInt, se: i64) -> Ordering {
    let [a, b, c, d] = w;
    let t = &a * &a + &b * &b + &c * &c + &d * &d;
    let det = &a * &d - &b * &c;
    let disc = &t * &t - BigInt::from(4) * &det * &det; // ≥ 0
                                                        // 2s² − T as a scaled integer x_num·2^x_exp.
    let two_s2 = BigInt::from(2) * sm * sm;
    let (x_num, x_exp) = {
        let e = 2 * se;
        let k = e.min(0);
        ((&two_s2 << ((e - k) as usize)) - (&t << ((-k) as usize)), k)
    };
    if x_num.is_negative() {
        return Less;
    }
    // Compare x² = x_num²·4^x_exp with disc.
    cmp_scaled(&(&x_num * &x_num), 2 * x_exp, &disc, 0)
}

fn assert_tight_and_consistent(w: &DenseMatrix) -> (f64, f64) {
    let e = sigma_enclosure(w, 0.0).unwrap();
    let (lo, hi) = (e.lower(), e.upper());
    assert_eq!(e.method(), Method::Exact);
    assert!(
        lo == hi || lo.next_up() == hi,
        "not tight: [{lo:e}, {hi:e}]"
    );
    let g = ExactGram::new(w).unwrap();
    assert_ne!(g.compare_sigma(lo).unwrap(), Less);
    assert_ne!(g.compare_sigma(hi).unwrap(), Greater);
    (lo, hi)
}

// ------------------------------------------------------ definiteness

fn int_matrix(rows: &[Vec<i64>]) -> Vec<Vec<BigInt>> {
    rows.iter()
        .map(|r| r.iter().map(|&x| BigInt::from(x)).collect())
        .collect()
}

/// Determinant by Laplace expansion along the first row (independent of any
/// elimination).
fn det_laplace(m: &[Vec<i64>]) -> i128 {
    let n = m.len();
    if n == 0 {
        return 1;
    }
    let mut total = 0i128;
    for j in 0..n {
        let minor: Vec<Vec<i64>> = m[1..]
            .iter()
            .map(|r| {
                r.iter()
                    .enumerate()
                    .filter(|&(k, _)| k != j)
                    .map(|(_, &x)| x)
                    .collect()
            })
            .collect();
        let term = i128::from(m[0][j]) * det_laplace(&minor);
        total += if j % 2 == 0 { term } else { -term };
    }
    total
}

/// Sylvester's criteria: PD ⇔ all leading principal minors > 0; PSD ⇔ all
/// principal minors ≥ 0 (Horn & Johnson, Thm 7.2.5 and its PSD analogue).
fn definiteness_by_minors(m: &[Vec<i64>]) -> Definiteness {
    let n = m.len();
    let sub = |idx: &[usize]| -> Vec<Vec<i64>> {
        idx.iter()
            .map(|&i| idx.iter().map(|&j| m[i][j]).collect())
            .collect()
    };
    let leading_positive = (1..=n).all(|k| det_laplace(&sub(&(0..k).collect::<Vec<_>>())) > 0);
    if leading_positive {
        return Definiteness::PositiveDefinite;
    }
    let all_nonnegative = (1u32..(1 << n)).all(|mask| {
        let idx: Vec<usize> = (0..n).filter(|&i| mask & (1 << i) != 0).collect();
        det_laplace(&sub(&idx)) >= 0
    });
    if all_nonnegative {
        Definiteness::PositiveSemidefiniteSingular
    } else {
        Definiteness::Indefinite
    }
}

/// Symmetric matrices rich in PSD and singular cases: BᵀB + c·I with B of
/// r×n small integers (r < n gives rank deficiency), or a random symmetric
/// matrix.
fn symmetric_strategy() -> impl Strategy<Value = Vec<Vec<i64>>> {
    // c = 0 with B of rank < n gives many singular PSD matrices.
    let shift = prop_oneof![Just(0i64), -2i64..=2];
    (1usize..=5, 0usize..=5, shift, any::<bool>()).prop_flat_map(|(n, r, c, gram)| {
        prop::collection::vec(-3i64..=3, n * n.max(r)).prop_map(move |v| {
            if gram {
                let mut m = vec![vec![0i64; n]; n];
                for i in 0..n {
                    for j in 0..n {
                        m[i][j] = (0..r).map(|k| v[k * n + i] * v[k * n + j]).sum::<i64>()
                            + if i == j { c } else { 0 };
                    }
                }
                m
            } else {
                let mut m = vec![vec![0i64; n]; n];
                for i in 0..n {
                    for j in i..n {
                        m[i][j] = v[i * n + j];
                        m[j][i] = v[i * n + j];
                    }
                }
                m
            }
        })
    })
}

proptest! {
    #![proptest_config(config(300))]
    #[test]
    fn definiteness_matches_sylvester_minors(m in symmetric_strategy()) {
        let expected = definiteness_by_minors(&m);
        prop_assert_eq!(definiteness(&int_matrix(&m)).unwrap(), expected, "{:?}", m);
        // Scaling by a positive integer never changes definiteness.
        let scaled: Vec<Vec<i64>> = m.iter().map(|r| r.iter().map(|x| 7 * x).collect()).collect();
        prop_assert_eq!(definiteness(&int_matrix(&scaled)).unwrap(), expected);
    }
}

#[test]
fn definiteness_hand_built() {
    use Definiteness::*;
    let cases: Vec<(Vec<Vec<i64>>, Definiteness)> = vec![
        (vec![vec![4]], PositiveDefinite),
        (vec![vec![0]], PositiveSemidefiniteSingular),
        (vec![vec![-4]], Indefinite),
        (vec![vec![0; 3]; 3], PositiveSemidefiniteSingular),
        (
            vec![vec![2, -1, 0], vec![-1, 2, -1], vec![0, -1, 2]],
            PositiveDefinite,
        ),
        // Rank one v vᵀ, v = (2, 1, -1).
        (
            vec![vec![4, 2, -2], vec![2, 1, -1], vec![-2, -1, 1]],
            PositiveSemidefiniteSingular,
        ),
        // Zero leading entry, PD impossible.
        (vec![vec![0, 1], vec![1, 3]], Indefinite),
        // PSD with a zero diagonal row in the middle.
        (
            vec![vec![1, 0, 1], vec![0, 0, 0], vec![1, 0, 1]],
            PositiveSemidefiniteSingular,
        ),
        // Negative definite is reported as not PSD.
        (vec![vec![-2, 1], vec![1, -2]], Indefinite),
        // Graph Laplacian of a path: PSD singular (kernel = constants).
        (
            vec![vec![1, -1, 0], vec![-1, 2, -1], vec![0, -1, 1]],
            PositiveSemidefiniteSingular,
        ),
    ];
    for (m, expected) in cases {
        assert_eq!(definiteness(&int_matrix(&m)).unwrap(), expected, "{m:?}");
        assert_eq!(
            definiteness_by_minors(&m),
            expected,
            "reference disagrees on {m:?}"
        );
    }
    assert!(matches!(
        definiteness(&int_matrix(&[vec![1, 2], vec![0, 1]])),
        Err(Error::InvalidOption(_))
    ));
}

// ---------------------------------------------------- known σ values

#[test]
fn known_exact_sigmas() {
    let p = 2f64.powi(-3);
    let cases: Vec<(DenseMatrix, f64)> = vec![
        (mat(2, 2, &[3.0, 0.0, 0.0, 1.0]), 3.0),
        (mat(2, 2, &[1.0, 1.0, 1.0, 1.0]), 2.0),
        (mat(1, 2, &[3.0, 4.0]), 5.0),
        (mat(2, 1, &[3.0, 4.0]), 5.0),
        // Rank one u vᵀ, u = (1, 2, 2) (‖u‖ = 3), v = (½, ½, ½, ½) (‖v‖ = 1).
        (
            DenseMatrix::from_fn(3, 4, |i, _| [1.0, 2.0, 2.0][i] * 0.5).unwrap(),
            3.0,
        ),
        // Rank one u vᵀ, u = (3, 4)/8 (‖u‖ = 5/8), v = (5, 12)/16 (‖v‖ = 13/16).
        (
            DenseMatrix::from_fn(2, 2, |i, j| {
                [3.0 * p, 4.0 * p][i] * [5.0 / 16.0, 12.0 / 16.0][j]
            })
            .unwrap(),
            65.0 / 128.0,
        ),
        // Hadamard H₄/2 and H₁₆/4 are orthogonal: σ = 1 (every singular value).
        (hadamard(4, 0.5), 1.0),
        (hadamard(16, 0.25), 1.0),
        // Diagonal: σ = max |dᵢ|.
        (
            mat(3, 3, &[-0.75, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.125]),
            0.75,
        ),
    ];
    for (w, s) in &cases {
        assert_eq!(compare_sigma(w, *s).unwrap(), Equal, "σ = {s}");
        assert_eq!(compare_sigma(w, s.next_up()).unwrap(), Less);
        assert_eq!(compare_sigma(w, s.next_down()).unwrap(), Greater);
        let e = sigma_enclosure(w, 0.0).unwrap();
        assert_eq!((e.lower(), e.upper()), (*s, *s));
        assert!(contains_sigma(w, *s, *s).unwrap());
        assert!(!contains_sigma(w, s.next_up(), s.next_up().next_up()).unwrap());
        assert!(!contains_sigma(w, s.next_down().next_down(), s.next_down()).unwrap());
    }
}

fn hadamard(n: usize, scale: f64) -> DenseMatrix {
    // Sylvester construction: H[i][j] = (−1)^popcount(i & j).
    DenseMatrix::from_fn(n, n, |i, j| {
        if (i & j).count_ones() % 2 == 0 {
            scale
        } else {
            -scale
        }
    })
    .unwrap()
}

#[test]
fn two_by_two_closed_form_1234() {
    // W = [[1, 2], [3, 4]]: T = 30, det = −2, σ² = (30 + √(900 − 16))/2 =
    // 15 + √221 ≈ 29.866, σ ≈ 5.464985704219043. (Not (30 + √896)/2: that
    // would be det² = 1.)
    let w = mat(2, 2, &[1.0, 2.0, 3.0, 4.0]);
    let e = sigma_enclosure(&w, 0.0).unwrap();
    let (lo, hi) = (e.lower(), e.upper());
    assert_eq!(
        lo.next_up(),
        hi,
        "σ is irrational, so the bracket is two adjacent floats"
    );
    // Hand-derived exact checks: σ > lo ⇔ 2lo² − 30 < √884, σ < hi ⇔ 2hi² − 30 > √884.
    assert_eq!(compare_2x2_closed_form([1, 2, 3, 4], lo), Less);
    assert_eq!(compare_2x2_closed_form([1, 2, 3, 4], hi), Greater);
    // And by hand with rationals: 5.4649857 < σ < 5.4649858 since
    // 2·5.4649857² − 30 = 29.73224... < √884 = 29.7321...? — computed exactly:
    assert_eq!(compare_2x2_closed_form([1, 2, 3, 4], 5.4649857), Less);
    assert_eq!(compare_2x2_closed_form([1, 2, 3, 4], 5.4649858), Greater);
    assert!(lo >= 5.4649857 && hi <= 5.4649858);
    assert!(contains_sigma(&w, 5.4649857, 5.4649858).unwrap());
    assert!(!contains_sigma(&w, 5.4649858, 6.0).unwrap());
}

proptest! {
    #![proptest_config(config(64))]
    /// 2×2 dyadic matrices against the closed form, decided in integers here.
    #[test]
    fn two_by_two_matches_closed_form(
        entries in prop::array::uniform4(-(1i64 << 26)..(1i64 << 26)),
        k in -40i32..40,
    ) {
        let scale = 2f64.powi(k);
        let w = DenseMatrix::from_fn(2, 2, |i, j| entries[2 * i + j] as f64 * scale).unwrap();
        let (lo, hi) = assert_tight_and_consistent(&w);
        // Closed form in units of the unscaled integer matrix.
        let lo_unscaled = lo / scale;
        let hi_unscaled = hi / scale;
        if lo == hi {
            prop_assert_eq!(compare_2x2_closed_form(entries, lo_unscaled), Equal);
        } else {
            prop_assert_eq!(compare_2x2_closed_form(entries, lo_unscaled), Less);
            prop_assert_eq!(compare_2x2_closed_form(entries, hi_unscaled), Greater);
        }
    }

    /// 2×2 matrices whose entries have independent exponents anywhere in the
    /// f64 range (subnormals included), against the closed form.
    #[test]
    fn two_by_two_wide_range_matches_closed_form(
        mantissas in prop::array::uniform4(-(1i64 << 53)..(1i64 << 53)),
        exponents in prop::array::uniform4(-1074i32..=960),
        zero_mask in 0u8..16,
    ) {
        let entries: [f64; 4] = std::array::from_fn(|i| {
            if zero_mask >> i & 1 == 1 && zero_mask != 15 {
                0.0
            } else {
                // m·2^(e−52) (|m| < 2^53 is exact as a float); rounded when it
                // lands among subnormals, which is fine: any float will do.
                lipcert::rounding::scale_pow2(mantissas[i] as f64, exponents[i] - 52)
            }
        });
        let w = DenseMatrix::from_row_major(2, 2, &entries).unwrap();
        if w.is_zero() {
            return Ok(());
        }
        let e = match sigma_enclosure(&w, 0.0) {
            Ok(e) => e,
            Err(Error::Overflow { .. }) => return Ok(()),
            Err(other) => return Err(TestCaseError::fail(format!("{other}"))),
        };
        let (lo, hi) = (e.lower(), e.upper());
        prop_assert!(lo == hi || lo.next_up() == hi, "[{:e}, {:e}]", lo, hi);
        if lo == hi {
            prop_assert_eq!(compare_2x2_closed_form_f64(entries, lo), Equal);
        } else {
            prop_assert_eq!(compare_2x2_closed_form_f64(entries, lo), Less, "{:?}", entries);
            prop_assert_eq!(compare_2x2_closed_form_f64(entries, hi), Greater, "{:?}", entries);
        }
    }

    /// Vectors: σ = ‖v‖₂, so s vs σ is s² vs Σvᵢ², decided in integers here.
    #[test]
    fn vectors_match_their_norm(
        v in prop::collection::vec(-1.0e3f64..1.0e3, 1..12),
        column in any::<bool>(),
    ) {
        let n = v.len();
        let w = if column { mat(n, 1, &v) } else { mat(1, n, &v) };
        let (lo, hi) = assert_tight_and_consistent(&w);
        let base = v.iter().map(|&x| dyadic(x).1).min().unwrap();
        let sum_sq: BigInt = v.iter().map(|&x| {
            let (m, e) = dyadic(x);
            let m = m << ((e - base) as usize);
            &m * &m
        }).sum();
        for s in [lo, hi, lo.next_down(), hi.next_up()].into_iter().filter(|&s| s >= 0.0) {
            let (sm, se) = dyadic(s);
            // σ vs s is σ² vs s².
            let expected = cmp_scaled(&sum_sq, 2 * base, &(&sm * &sm), 2 * se);
            prop_assert_eq!(compare_sigma(&w, s).unwrap(), expected, "s = {:e}", s);
        }
    }
}

// --------------------------------------------------------- invariances

fn matrix_strategy(max_dim: usize) -> impl Strategy<Value = DenseMatrix> {
    (1..=max_dim, 1..=max_dim, any::<u64>()).prop_map(|(m, n, seed)| gaussian_matrix(m, n, seed))
}

/// Sample points around σ at which to compare.
fn probes(w: &DenseMatrix) -> Vec<f64> {
    let e = sigma_enclosure(w, 0.0).unwrap();
    let (lo, hi) = (e.lower(), e.upper());
    vec![
        lo,
        hi,
        lo.next_down(),
        hi.next_up(),
        lo * 0.5,
        hi * 1.5,
        0.0,
    ]
}

proptest! {
    #![proptest_config(config(24))]
    #[test]
    fn invariant_under_transpose_scaling_signs_and_permutations(
        w in matrix_strategy(7),
        k in -60i32..60,
        signs in any::<u64>(),
        shift in 0usize..7,
    ) {
        let (m, n) = (w.nrows(), w.ncols());
        let g = ExactGram::new(&w).unwrap();
        let t = ExactGram::new(&w.transpose()).unwrap();
        let p = 2f64.powi(k);
        let scaled = ExactGram::new(&DenseMatrix::from_fn(m, n, |i, j| w.get(i, j) * p).unwrap()).unwrap();
        // Row signs from the bits of `signs`, cyclic shifts of rows and columns.
        let flipped = DenseMatrix::from_fn(m, n, |i, j| {
            let (si, sj) = ((i + shift) % m, (j + 2 * shift) % n);
            let sign = if signs >> (si % 64) & 1 == 1 { -1.0 } else { 1.0 };
            let sign_col = if signs >> (32 + sj % 32) & 1 == 1 { -1.0 } else { 1.0 };
            sign * sign_col * w.get(si, sj)
        }).unwrap();
        let f = ExactGram::new(&flipped).unwrap();
        for s in probes(&w) {
            let expected = g.compare_sigma(s).unwrap();
            prop_assert_eq!(t.compare_sigma(s).unwrap(), expected, "transpose at {:e}", s);
            prop_assert_eq!(scaled.compare_sigma(s * p).unwrap(), expected, "2^{} scaling at {:e}", k, s);
            prop_assert_eq!(f.compare_sigma(s).unwrap(), expected, "signs/permutation at {:e}", s);
        }
        // The enclosure of 2^k W is 2^k times that of W (normal range: exact).
        let e = sigma_enclosure(&w, 0.0).unwrap();
        let es = scaled.sigma_enclosure(0.0, None).unwrap();
        prop_assert_eq!((es.lower(), es.upper()), (e.lower() * p, e.upper() * p));
    }
}

// ------------------------------------------- agreement with float SVDs

fn assert_agrees_with_svds(w: &DenseMatrix, what: &str) {
    let (lo, hi) = assert_tight_and_consistent(w);
    for (name, est) in [
        ("faer", faer_top(w).unwrap().sigma),
        ("nalgebra", nalgebra_top(w).unwrap().sigma),
    ] {
        let rel = ((est - lo).abs()).max((est - hi).abs()) / hi.max(f64::MIN_POSITIVE);
        assert!(
            rel <= 1e-12,
            "{what}: {name} σ = {est:e} vs exact [{lo:e}, {hi:e}] (rel {rel:e})"
        );
    }
}

proptest! {
    #![proptest_config(config(24))]
    #[test]
    fn agrees_with_svds_on_gaussian(w in matrix_strategy(12)) {
        assert_agrees_with_svds(&w, "gaussian");
    }

    #[test]
    fn agrees_with_svds_on_integers(
        (m, n, v) in (1usize..=10, 1usize..=10).prop_flat_map(|(m, n)| {
            (Just(m), Just(n), prop::collection::vec(-20i32..=20, m * n))
        })
    ) {
        let w = DenseMatrix::from_fn(m, n, |i, j| f64::from(v[i * n + j])).unwrap();
        if !w.is_zero() {
            assert_agrees_with_svds(&w, "integer");
        } else {
            let e = sigma_enclosure(&w, 0.0).unwrap();
            prop_assert_eq!((e.lower(), e.upper()), (0.0, 0.0));
        }
    }

    #[test]
    fn agrees_with_svds_on_low_rank(
        m in 2usize..=10, n in 2usize..=10, r in 1usize..=2, seed in any::<u64>()
    ) {
        let a = gaussian_matrix(m, r, seed);
        let b = gaussian_matrix(r, n, seed ^ 0xabcdef);
        let w = DenseMatrix::from_fn(m, n, |i, j| (0..r).map(|k| a.get(i, k) * b.get(k, j)).sum()).unwrap();
        assert_agrees_with_svds(&w, "low rank");
    }

    #[test]
    fn exact_rank_one_has_sigma_norm_product(
        u in prop::collection::vec(-64i32..=64, 1..8),
        v in prop::collection::vec(-64i32..=64, 1..8),
    ) {
        // Small integers: u vᵀ is exact, σ² = ‖u‖²‖v‖² exactly.
        let w = DenseMatrix::from_fn(u.len(), v.len(), |i, j| f64::from(u[i] * v[j])).unwrap();
        let nu: i64 = u.iter().map(|&x| i64::from(x * x)).sum();
        let nv: i64 = v.iter().map(|&x| i64::from(x * x)).sum();
        let sigma_sq = BigInt::from(nu) * BigInt::from(nv);
        let (lo, hi) = if w.is_zero() { (0.0, 0.0) } else { assert_tight_and_consistent(&w) };
        for s in [lo, hi] {
            let (sm, se) = dyadic(s);
            let expected = cmp_scaled(&sigma_sq, 0, &(&sm * &sm), 2 * se);
            prop_assert_eq!(compare_sigma(&w, s).unwrap(), expected);
        }
    }

    #[test]
    fn agrees_with_svds_on_f32(m in 1usize..=10, n in 1usize..=10, seed in any::<u64>()) {
        let mut rng = SplitMix(seed);
        let data: Vec<f32> = (0..m * n).map(|_| rng.gaussian() as f32).collect();
        let w = DenseMatrix::from_row_major_f32(m, n, &data).unwrap();
        assert_agrees_with_svds(&w, "f32");
    }
}

#[test]
fn extreme_magnitudes_are_consistent_and_tight() {
    let g = gaussian_matrix(5, 4, 42);
    for k in [-500i32, -498, 450, 497] {
        // Entries near 1e±150: exact scaling, agrees with the SVDs.
        let p = 2f64.powi(k);
        let w = DenseMatrix::from_fn(5, 4, |i, j| g.get(i, j) * p).unwrap();
        assert_agrees_with_svds(&w, "scaled by 2^k");
    }
    // Mixed 1e150 and 1e-150 entries.
    let w = DenseMatrix::from_fn(4, 4, |i, j| {
        g.get(i, j) * if (i + j) % 2 == 0 { 1e150 } else { 1e-150 }
    })
    .unwrap();
    assert_agrees_with_svds(&w, "mixed 1e±150");
    // Subnormal entries: 2^-1074·Z with small integers Z. σ(2^-1074 Z) vs
    // 2^-1074·s is σ(Z) vs s for integer s (both sides exact).
    let z = [3.0, -1.0, 4.0, 1.0, -5.0, 9.0, 2.0, 6.0, -5.0];
    let eta = 2f64.powi(-1074);
    let wz = mat(3, 3, &z);
    let ws = DenseMatrix::from_fn(3, 3, |i, j| z[3 * i + j] * eta).unwrap();
    let (zlo, zhi) = assert_tight_and_consistent(&wz);
    for s in [zlo.floor(), zhi.ceil(), 12.0, 13.0] {
        assert_eq!(
            compare_sigma(&ws, s * eta).unwrap(),
            compare_sigma(&wz, s).unwrap()
        );
    }
    let (lo, hi) = assert_tight_and_consistent(&ws);
    // The subnormal grid has spacing η, so the enclosure is [⌊σ(Z)⌋, ⌈σ(Z)⌉]·η.
    assert_eq!((lo, hi), (zlo.floor() * eta, zhi.ceil() * eta));
    // Subnormals mixed with normal numbers, wide span.
    let w = mat(2, 3, &[1.0, 4.9e-324, -2.5e-310, 1e-300, 3.0, 7e-320]);
    let (lo, hi) = assert_tight_and_consistent(&w);
    assert!(lo <= 3.0000000000000004 && hi >= 3.0);
    // Near the top of the range.
    let w = mat(2, 2, &[1e308, 1e307, -1e307, 5e307]);
    assert_tight_and_consistent(&w);
}

// ------------------------------------------------------ contains_sigma

proptest! {
    #![proptest_config(config(16))]
    #[test]
    fn contains_exactly_the_tight_enclosure(w in matrix_strategy(8), ulps in 1u32..4) {
        let e = sigma_enclosure(&w, 0.0).unwrap();
        let (lo, hi) = (e.lower(), e.upper());
        prop_assert!(contains_sigma(&w, lo, hi).unwrap());
        let up = |x: f64, k: u32| (0..k).fold(x, |x, _| x.next_up());
        let down = |x: f64, k: u32| (0..k).fold(x, |x, _| x.next_down());
        if lo == hi {
            prop_assert!(!contains_sigma(&w, up(hi, 1), up(hi, ulps + 1)).unwrap());
            prop_assert!(!contains_sigma(&w, down(lo, ulps + 1), down(lo, 1)).unwrap());
        } else {
            // σ strictly between two adjacent floats.
            prop_assert!(!contains_sigma(&w, hi, up(hi, ulps)).unwrap());
            prop_assert!(!contains_sigma(&w, down(lo, ulps), lo).unwrap());
            prop_assert!(!contains_sigma(&w, lo, lo).unwrap());
            prop_assert!(!contains_sigma(&w, hi, hi).unwrap());
        }
        // A relative-width request is honoured and still contains σ.
        let loose = sigma_enclosure(&w, 1e-3).unwrap();
        prop_assert!(loose.upper() - loose.lower() <= 1e-3 * loose.upper());
        prop_assert!(loose.lower() <= lo && hi <= loose.upper());
    }
}

// -------------------------------------------------- Lipschitz checks

fn vector_strategy(n: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-4.0f64..4.0, n)
}

proptest! {
    #![proptest_config(config(32))]
    #[test]
    fn lipschitz_checks_agree_with_sigma(
        (w, x, y) in matrix_strategy(8).prop_flat_map(|w| {
            let n = w.ncols();
            (Just(w), vector_strategy(n), vector_strategy(n))
        })
    ) {
        let e = sigma_enclosure(&w, 0.0).unwrap();
        // σ ≤ upper, so every pair satisfies the inequality with bound upper.
        prop_assert!(lipschitz_ratio_at_most(&w, &x, &y, e.upper()).unwrap());
        // ‖Wx‖ ≤ σ‖x‖ < next_up(upper)·‖x‖ for x ≠ 0.
        if x.iter().any(|&t| t != 0.0) {
            prop_assert!(!ratio_at_least(&w, &x, e.upper().next_up()).unwrap());
        }
        // The top right singular vector nearly attains σ.
        let v = faer_top(&w).unwrap().right;
        prop_assert!(ratio_at_least(&w, &v, e.lower() * (1.0 - 1e-10)).unwrap());
        // Independent float evaluation with a wide margin.
        let d: Vec<f64> = x.iter().zip(&y).map(|(a, b)| a - b).collect();
        let wd: f64 = (0..w.nrows())
            .map(|i| (0..w.ncols()).map(|j| w.get(i, j) * d[j]).sum::<f64>().powi(2))
            .sum::<f64>()
            .sqrt();
        let nd = d.iter().map(|t| t * t).sum::<f64>().sqrt();
        if nd > 0.0 {
            let ratio = wd / nd;
            prop_assert!(lipschitz_ratio_at_most(&w, &x, &y, ratio * (1.0 + 1e-9)).unwrap());
            if ratio > 0.0 {
                prop_assert!(!lipschitz_ratio_at_most(&w, &x, &y, ratio * (1.0 - 1e-9)).unwrap());
            }
        }
    }

    /// Small integers: the inequality decided with i128 arithmetic here.
    #[test]
    fn lipschitz_checks_match_integer_arithmetic(
        (m, n, wv, x, y, b) in (1usize..=5, 1usize..=5).prop_flat_map(|(m, n)| (
            Just(m), Just(n),
            prop::collection::vec(-9i64..=9, m * n),
            prop::collection::vec(-9i64..=9, n),
            prop::collection::vec(-9i64..=9, n),
            0i64..=40,
        ))
    ) {
        let w = DenseMatrix::from_fn(m, n, |i, j| wv[i * n + j] as f64).unwrap();
        let d: Vec<i128> = x.iter().zip(&y).map(|(a, c)| i128::from(a - c)).collect();
        let img: i128 = (0..m).map(|i| {
            let dot: i128 = (0..n).map(|j| i128::from(wv[i * n + j]) * d[j]).sum();
            dot * dot
        }).sum();
        let nd: i128 = d.iter().map(|t| t * t).sum();
        let bound = b as f64 / 4.0; // bound² = b²/16
        let xf: Vec<f64> = x.iter().map(|&t| t as f64).collect();
        let yf: Vec<f64> = y.iter().map(|&t| t as f64).collect();
        let expected = 16 * img <= i128::from(b * b) * nd;
        prop_assert_eq!(lipschitz_ratio_at_most(&w, &xf, &yf, bound).unwrap(), expected);
        let xn: i128 = x.iter().map(|&t| i128::from(t * t)).sum();
        let wx: i128 = (0..m).map(|i| {
            let dot: i128 = (0..n).map(|j| i128::from(wv[i * n + j] * x[j])).sum();
            dot * dot
        }).sum();
        prop_assert_eq!(ratio_at_least(&w, &xf, bound).unwrap(), 16 * wx >= i128::from(b * b) * xn);
    }
}

// --------------------------------------------------------- errors

#[test]
fn errors_are_clear() {
    let w = mat(2, 2, &[1.0, 2.0, 3.0, 4.0]);
    assert!(matches!(
        compare_sigma(&w, -1.0),
        Err(Error::InvalidOption(_))
    ));
    assert!(matches!(
        compare_sigma(&w, f64::NAN),
        Err(Error::InvalidOption(_))
    ));
    assert!(matches!(
        sigma_enclosure(&w, -0.5),
        Err(Error::InvalidOption(_))
    ));
    let big = DenseMatrix::from_fn(65, 70, |i, j| (i * j) as f64).unwrap();
    let err = sigma_enclosure(&big, 0.0).unwrap_err();
    assert!(
        err.to_string()
            .contains("exact oracle is for small matrices"),
        "{err}"
    );
    assert!(compare_sigma(&big, 1.0).is_err());
    assert!(contains_sigma(&big, 0.0, 1.0).is_err());
    // A tall-and-thin matrix passes: min(m, n) is what counts.
    let tall = DenseMatrix::from_fn(500, 3, |i, j| ((i + j) % 7) as f64).unwrap();
    assert_tight_and_consistent(&tall);
}

#[test]
fn zero_matrix_is_exactly_zero() {
    let z = mat(3, 2, &[0.0, -0.0, 0.0, 0.0, 0.0, 0.0]);
    let e = sigma_enclosure(&z, 0.0).unwrap();
    assert_eq!((e.lower(), e.upper()), (0.0, 0.0));
    assert_eq!(compare_sigma(&z, 0.0).unwrap(), Equal);
    assert_eq!(compare_sigma(&z, f64::MIN_POSITIVE).unwrap(), Less);
    assert!(contains_sigma(&z, 0.0, 0.0).unwrap());
}
