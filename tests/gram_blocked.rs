//! The Gram product summed in row blocks (`GramWithError::new_blocked_with`):
//! its radius ρ = γ_{b+B−1}‖S‖_F² + mnη must bound the exact error
//! ‖C − SᵀS‖₂, checked exactly (through the Frobenius norm, which dominates
//! it) on tall matrices of every scale, and it must be smaller than the
//! plain product's γ_m radius.

mod common;

use common::dyadic::scaled;
use common::lcg::Lcg;
use lipcert::certify::gram::{GramWithError, GRAM_BLOCK_ROWS};
use lipcert::DenseMatrix;
use num_bigint::BigInt;

/// Σᵢⱼ (C − SᵀS)ᵢⱼ² ≤ ρ², exactly, over the lower triangle and its mirror.
fn frobenius_error_within(s: &DenseMatrix, g: &GramWithError) -> bool {
    const K: i64 = 2200; // every product of two f64 is a multiple of 2^−2148
    let (m, n) = (s.nrows(), s.ncols());
    let mut total = BigInt::from(0);
    for j in 0..n {
        for i in j..n {
            let exact: BigInt = (0..m)
                .map(|k| scaled(s.get(k, i), K / 2) * scaled(s.get(k, j), K / 2))
                .sum();
            let e = scaled(g.lower[(i, j)], K) - exact;
            let sq = &e * &e;
            total += if i == j { sq } else { sq * 2 };
        }
    }
    let rho = scaled(g.radius, K);
    total <= &rho * &rho
}

fn tall(m: usize, n: usize, seed: u64, scale: f64, positive: bool) -> DenseMatrix {
    let mut rng = Lcg(seed);
    let data: Vec<f64> = rng
        .vec(m * n, 1.0)
        .into_iter()
        .map(|x| if positive { x.abs() + 0.5 } else { x } * scale)
        .collect();
    DenseMatrix::from_row_major(m, n, &data).unwrap()
}

#[test]
fn blocked_gram_error_is_within_its_radius_exactly() {
    let scales = [1.0, 2f64.powi(-500), 2f64.powi(500), 2f64.powi(-1040)];
    for (t, &(m, n)) in [
        (GRAM_BLOCK_ROWS + 1, 3),
        (2 * GRAM_BLOCK_ROWS + 7, 2),
        (6000, 4),
    ]
    .iter()
    .enumerate()
    {
        for (k, &scale) in scales.iter().enumerate() {
            for positive in [false, true] {
                let s = tall(m, n, (t * 10 + k) as u64, scale, positive);
                for threads in [1, 2] {
                    let g = GramWithError::new_blocked_with(&s, threads);
                    assert!(g.radius.is_finite());
                    assert!(
                        frobenius_error_within(&s, &g),
                        "{m}x{n} scale {scale:e} positive {positive} threads {threads}: \
                         error above ρ = {:e}",
                        g.radius
                    );
                }
            }
        }
    }
}

#[test]
fn blocked_radius_is_smaller_than_the_plain_one() {
    // m = 6000 in 3 blocks of 2000 rows: height 2002 instead of 6000.
    let s = tall(6000, 4, 7, 1.0, false);
    let blocked = GramWithError::new_blocked_with(&s, 2);
    let plain = GramWithError::new_with(&s, 2);
    let ratio = plain.radius / blocked.radius;
    assert!((2.9..3.1).contains(&ratio), "ratio {ratio}");
    // Same matrix up to both rounding errors, entrywise.
    for j in 0..4 {
        for i in j..4 {
            let d = (blocked.lower[(i, j)] - plain.lower[(i, j)]).abs();
            assert!(d <= blocked.radius + plain.radius, "({i},{j}): {d}");
        }
    }
    // One block: the plain product itself.
    let short = tall(GRAM_BLOCK_ROWS, 3, 8, 1.0, false);
    let a = GramWithError::new_blocked_with(&short, 1);
    let b = GramWithError::new_with(&short, 1);
    assert_eq!(a.radius, b.radius);
    assert_eq!(a.lower, b.lower);
}

/// `sigma`'s auto path forms the Gram matrix in blocks at the default width
/// once m > GRAM_BLOCK_ROWS (n > 48 takes the Gram path): the whole pipeline
/// then still contains the exact σ, within the width.
#[test]
fn auto_path_with_the_blocked_gram_contains_the_exact_sigma() {
    for (m, n, seed) in [
        (2 * GRAM_BLOCK_ROWS + 900, 64, 21u64),
        (GRAM_BLOCK_ROWS + 1, 50, 22),
    ] {
        let s = tall(m, n, seed, 1.0, seed == 22);
        let e = lipcert::sigma(&s, &lipcert::SigmaOptions::default()).unwrap();
        assert!(e.relative_width() <= 1e-9, "{m}x{n}: {e}");
        assert!(
            lipcert::exact::contains_sigma(&s, e.lower(), e.upper()).unwrap(),
            "{m}x{n}: {e}"
        );
    }
}
