//! proptest strategies for weight matrices, including the adversarial
//! families that break naive spectral-norm code (enable the `proptest`
//! feature).
//!
//! Every strategy yields a valid [`DenseMatrix`] (finite, non-empty). Use
//! [`any_family`] for a mix, or a single family when a test needs one.
//!
//! ```
//! use lipcert::strategies::{matrix, Family};
//! use proptest::strategy::{Strategy, ValueTree};
//! use proptest::test_runner::TestRunner;
//! let mut runner = TestRunner::deterministic();
//! let w = matrix(Family::RankOne, 1..=4, 1..=4).new_tree(&mut runner).unwrap().current();
//! assert!(w.nrows() <= 4 && w.ncols() <= 4);
//! ```

use crate::matrix::DenseMatrix;
use crate::rounding::scale_pow2;
use proptest::prelude::*;
use std::ops::RangeInclusive;

/// The matrix families lipcert's own tests (and yours) draw from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Entries ≈ N(0, 1) (Box–Muller from uniform draws).
    Gaussian,
    /// Entries uniform in [−1, 1].
    Uniform,
    /// Small integers in [−8, 8].
    Integer,
    /// Product of m×r and r×n Gaussian factors with r < min(m, n) (rank-deficient).
    LowRank,
    /// Outer product u·vᵀ.
    RankOne,
    /// Block diagonal diag(B, B) (top singular value repeated), rows and
    /// columns permuted and signs flipped.
    RepeatedTop,
    /// Diagonal with σ₁ − σ₂ = 1e−12 relative, permuted and sign-flipped.
    TinyGap,
    /// Singular values spread over 16 decades (condition ≈ 1e16), mixed by a
    /// Householder reflection.
    IllConditioned,
    /// Gaussian scaled by 2^±500 (≈ 1e±150): WᵀW over/underflows unscaled.
    HugeOrTiny,
    /// Gaussian scaled into the subnormal range (some entries subnormal).
    Subnormal,
    /// Gaussian rounded to f32 and widened back (an f32 weight file).
    F32,
}

impl Family {
    /// Every family.
    pub const ALL: [Family; 11] = [
        Family::Gaussian,
        Family::Uniform,
        Family::Integer,
        Family::LowRank,
        Family::RankOne,
        Family::RepeatedTop,
        Family::TinyGap,
        Family::IllConditioned,
        Family::HugeOrTiny,
        Family::Subnormal,
        Family::F32,
    ];
}

fn gaussian_from(u1: f64, u2: f64) -> f64 {
    let r = (-2.0 * (1.0 - u1).ln()).sqrt();
    r * (std::f64::consts::TAU * u2).cos()
}

fn gaussian_vec(len: usize) -> impl Strategy<Value = Vec<f64>> {
    proptest::collection::vec((0.0f64..1.0, 0.0f64..1.0), len)
        .prop_map(|v| v.into_iter().map(|(a, b)| gaussian_from(a, b)).collect())
}

fn build(rows: usize, cols: usize, data: Vec<f64>) -> DenseMatrix {
    DenseMatrix::from_row_major(rows, cols, &data).expect("strategy produces finite data")
}

/// A permutation of 0..n from a vector of random keys.
fn permutation(keys: &[u32]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..keys.len()).collect();
    idx.sort_by_key(|&i| (keys[i], i));
    idx
}

/// Matrices of one family with dimensions drawn from the given ranges.
pub fn matrix(
    family: Family,
    rows: RangeInclusive<usize>,
    cols: RangeInclusive<usize>,
) -> BoxedStrategy<DenseMatrix> {
    (rows, cols)
        .prop_flat_map(move |(m, n)| family_of_shape(family, m, n))
        .boxed()
}

/// A matrix from any family, dimensions in the given ranges.
pub fn any_family(
    rows: RangeInclusive<usize>,
    cols: RangeInclusive<usize>,
) -> BoxedStrategy<DenseMatrix> {
    let strategies: Vec<BoxedStrategy<DenseMatrix>> = Family::ALL
        .iter()
        .map(|&f| matrix(f, rows.clone(), cols.clone()))
        .collect();
    proptest::strategy::Union::new(strategies).boxed()
}

fn family_of_shape(family: Family, m: usize, n: usize) -> BoxedStrategy<DenseMatrix> {
    let len = m * n;
    match family {
        Family::Gaussian => gaussian_vec(len).prop_map(move |d| build(m, n, d)).boxed(),
        Family::Uniform => proptest::collection::vec(-1.0f64..=1.0, len)
            .prop_map(move |d| build(m, n, d))
            .boxed(),
        Family::Integer => proptest::collection::vec(-8i32..=8, len)
            .prop_map(move |d| build(m, n, d.into_iter().map(f64::from).collect()))
            .boxed(),
        Family::LowRank => {
            let r = m.min(n).saturating_sub(1).max(1);
            (gaussian_vec(m * r), gaussian_vec(r * n))
                .prop_map(move |(a, b)| {
                    let data = (0..m * n)
                        .map(|k| {
                            let (i, j) = (k / n, k % n);
                            (0..r).map(|t| a[i * r + t] * b[t * n + j]).sum()
                        })
                        .collect();
                    build(m, n, data)
                })
                .boxed()
        }
        Family::RankOne => (gaussian_vec(m), gaussian_vec(n))
            .prop_map(move |(u, v)| build(m, n, (0..m * n).map(|k| u[k / n] * v[k % n]).collect()))
            .boxed(),
        Family::RepeatedTop => {
            // diag(B, B) needs room for two copies; fall back to a multiple
            // of an orthogonal-like Hadamard pattern when too small.
            let (hm, hn) = ((m / 2).max(1), (n / 2).max(1));
            (
                gaussian_vec(hm * hn),
                proptest::collection::vec(any::<u32>(), m),
                proptest::collection::vec(any::<u32>(), n),
                proptest::collection::vec(any::<bool>(), m),
            )
                .prop_map(move |(b, pr, pc, signs)| {
                    let mut data = vec![0.0; m * n];
                    for i in 0..m {
                        for j in 0..n {
                            let (bi, bj) = (i % hm, j % hn);
                            let same_block =
                                (i / hm).min(1) == (j / hn).min(1) && i < 2 * hm && j < 2 * hn;
                            if same_block {
                                data[i * n + j] = b[bi * hn + bj];
                            }
                        }
                    }
                    permute_and_sign(m, n, &data, &pr, &pc, &signs)
                })
                .boxed()
        }
        Family::TinyGap => (
            proptest::collection::vec(any::<u32>(), m),
            proptest::collection::vec(any::<u32>(), n),
            proptest::collection::vec(any::<bool>(), m),
            proptest::collection::vec(0.0f64..0.9, m.min(n)),
        )
            .prop_map(move |(pr, pc, signs, rest)| {
                let mut data = vec![0.0; m * n];
                for (k, r) in rest.iter().enumerate() {
                    data[k * n + k] = match k {
                        0 => 1.0,
                        1 => 1.0 - 1e-12,
                        _ => *r,
                    };
                }
                permute_and_sign(m, n, &data, &pr, &pc, &signs)
            })
            .boxed(),
        Family::IllConditioned => (gaussian_vec(m), gaussian_vec(n))
            .prop_map(move |(u, v)| {
                // diag(10^(-16 k/(r-1))) mixed by Householder reflections on both sides.
                let r = m.min(n);
                let mut d = vec![0.0; m * n];
                for k in 0..r {
                    let e = if r > 1 {
                        -16.0 * k as f64 / (r - 1) as f64
                    } else {
                        0.0
                    };
                    d[k * n + k] = 10f64.powf(e);
                }
                let hu = householder(&u);
                let hv = householder(&v);
                let mut out = vec![0.0; m * n];
                for i in 0..m {
                    for j in 0..n {
                        let mut s = 0.0;
                        for k in 0..r {
                            s += hu[i * m + k] * d[k * n + k] * hv[k * n + j];
                        }
                        out[i * n + j] = s;
                    }
                }
                build(m, n, out)
            })
            .boxed(),
        Family::HugeOrTiny => (gaussian_vec(len), any::<bool>())
            .prop_map(move |(d, huge)| {
                let k = if huge { 500 } else { -500 };
                build(m, n, d.into_iter().map(|x| scale_pow2(x, k)).collect())
            })
            .boxed(),
        Family::Subnormal => gaussian_vec(len)
            .prop_map(move |d| {
                build(
                    m,
                    n,
                    d.into_iter()
                        .enumerate()
                        .map(|(k, x)| scale_pow2(x, if k % 2 == 0 { -1060 } else { -1020 }))
                        .collect(),
                )
            })
            .boxed(),
        Family::F32 => gaussian_vec(len)
            .prop_map(move |d| {
                let f: Vec<f32> = d.into_iter().map(|x| x as f32).collect();
                DenseMatrix::from_row_major_f32(m, n, &f).expect("finite f32 data")
            })
            .boxed(),
    }
}

fn permute_and_sign(
    m: usize,
    n: usize,
    data: &[f64],
    rows: &[u32],
    cols: &[u32],
    signs: &[bool],
) -> DenseMatrix {
    let pr = permutation(rows);
    let pc = permutation(cols);
    let mut out = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            let v = data[pr[i] * n + pc[j]];
            out[i * n + j] = if signs[i] { -v } else { v };
        }
    }
    build(m, n, out)
}

/// The Householder reflection I − 2uuᵀ/‖u‖² as a row-major k×k matrix
/// (the identity when u = 0).
fn householder(u: &[f64]) -> Vec<f64> {
    let k = u.len();
    let nn: f64 = u.iter().map(|x| x * x).sum();
    let mut h = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..k {
            let id = if i == j { 1.0 } else { 0.0 };
            h[i * k + j] = if nn > 0.0 {
                id - 2.0 * u[i] * u[j] / nn
            } else {
                id
            };
        }
    }
    h
}
