//! `SigmaOptions::threads`: one thread is bit-reproducible, and several
//! threads still give enclosures of the exact σ — checked against the exact
//! oracle on small matrices and against closed forms (Hadamard, rank one) on
//! matrices large enough that the products really are split over threads.

use lipcert::exact::contains_sigma;
use lipcert::strategies::any_family;
use lipcert::{sigma, DenseMatrix, Enclosure, Guarantee, SigmaOptions};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngSeed};

fn with_threads(threads: usize) -> SigmaOptions {
    SigmaOptions {
        threads,
        ..SigmaOptions::default()
    }
}

/// Deterministic entries with many distinct values (SplitMix64 → [−1, 1)).
fn pseudo_random(m: usize, n: usize, seed: u64) -> DenseMatrix {
    let mut state = seed;
    DenseMatrix::from_fn(m, n, |_, _| {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    })
    .unwrap()
}

fn bits(e: &Enclosure) -> (u64, u64, u64) {
    (
        e.lower().to_bits(),
        e.upper().to_bits(),
        e.estimate().to_bits(),
    )
}

/// σ ∈ [lower, upper] for a σ known as the correctly rounded √x: the true
/// √x lies within one ulp of it.
fn assert_encloses_sqrt(e: &Enclosure, x: f64, what: &str) {
    let r = x.sqrt();
    assert!(
        e.lower() <= r.next_up() && r.next_down() <= e.upper(),
        "{what}: [{}, {}] misses √{x} = {r}",
        e.lower(),
        e.upper()
    );
    assert_eq!(e.guarantee(), Guarantee::Rigorous);
}

#[test]
fn one_thread_gives_identical_bits_on_every_run() {
    // Large enough for the Gram-Lanczos path and the blocked Cholesky.
    for (m, n) in [(300, 200), (150, 260)] {
        let w = pseudo_random(m, n, 7);
        let a = sigma(&w, &with_threads(1)).unwrap();
        let b = sigma(&w, &with_threads(1)).unwrap();
        assert_eq!(bits(&a), bits(&b), "{m}x{n}");
        // The default is one thread.
        let c = sigma(&w, &SigmaOptions::default()).unwrap();
        assert_eq!(bits(&a), bits(&c), "{m}x{n} default");
    }
}

/// Sylvester's Hadamard matrix H (entries ±1, HᵀH = nI): σ = √n exactly,
/// and every singular value equals it (the hardest spectrum for the
/// estimate; the certificate must still hold).
fn hadamard(n: usize) -> DenseMatrix {
    DenseMatrix::from_fn(n, n, |i, j| {
        if (i & j).count_ones() % 2 == 0 {
            1.0
        } else {
            -1.0
        }
    })
    .unwrap()
}

#[test]
fn several_threads_enclose_closed_form_values_on_split_products() {
    // 512² and 700×400: the Gram product and the Schur updates exceed the
    // work threshold, so they really run in bands on several threads.
    let h = hadamard(512);
    for threads in [2, 3, 0] {
        let e = sigma(&h, &with_threads(threads)).unwrap();
        assert_encloses_sqrt(&e, 512.0, &format!("Hadamard 512, {threads} threads"));
    }
    // Rank one u vᵀ with small integers: σ = ‖u‖‖v‖, σ² = Σu²·Σv² exact.
    let (m, n) = (700, 400);
    let u: Vec<f64> = (0..m).map(|i| ((i * 7) % 13) as f64 - 6.0).collect();
    let v: Vec<f64> = (0..n).map(|j| ((j * 5) % 11) as f64 - 5.0).collect();
    let w = DenseMatrix::from_fn(m, n, |i, j| u[i] * v[j]).unwrap();
    let sq = u.iter().map(|x| x * x).sum::<f64>() * v.iter().map(|x| x * x).sum::<f64>();
    for threads in [2, 4] {
        let e = sigma(&w, &with_threads(threads)).unwrap();
        assert_encloses_sqrt(&e, sq, &format!("rank one, {threads} threads"));
        let t = sigma(&w.transpose(), &with_threads(threads)).unwrap();
        assert_encloses_sqrt(&t, sq, &format!("rank one transposed, {threads} threads"));
    }
}

#[test]
fn threaded_and_sequential_enclosures_of_the_same_matrix_intersect() {
    // Both contain σ, so they must overlap; a gap would prove one wrong.
    let w = pseudo_random(640, 520, 11);
    let seq = sigma(&w, &with_threads(1)).unwrap();
    for threads in [2, 3] {
        let par = sigma(&w, &with_threads(threads)).unwrap();
        assert!(
            par.lower() <= seq.upper() && seq.lower() <= par.upper(),
            "{threads} threads [{}, {}] vs one [{}, {}]",
            par.lower(),
            par.upper(),
            seq.lower(),
            seq.upper()
        );
        assert!(par.relative_width() <= 1e-8, "{}", par.relative_width());
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x7468_7264),
        ..ProptestConfig::default()
    })]

    /// The exact oracle decides σ ∈ [lower, upper] with rational arithmetic.
    #[test]
    fn multi_threaded_enclosures_contain_the_exact_sigma(w in any_family(1..=40, 1..=40)) {
        let e = sigma(&w, &with_threads(2)).unwrap();
        prop_assert!(
            contains_sigma(&w, e.lower(), e.upper()).unwrap(),
            "[{}, {}] misses σ of a {}x{} matrix",
            e.lower(),
            e.upper(),
            w.nrows(),
            w.ncols()
        );
    }
}
