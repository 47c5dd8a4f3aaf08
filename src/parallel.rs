//! Multi-threaded dense products for the rigorous σ path: the Gram product
//! C = fl(SᵀS) and the Schur-complement updates and block solves of the
//! certificate's Cholesky factorization.
//!
//! Each product is split into disjoint blocks of the *output*, one per
//! thread (scoped standard-library threads), and every block is one
//! sequential faer multiply ([`Par::Seq`]). So no dependency (no thread-pool
//! crate, no change to faer's global settings) and a fixed thread count
//! always performs the same operations: results are reproducible for a given
//! count, and `threads = 1` is exactly the sequential code.
//!
//! # Soundness under parallelism
//! Splitting the output changes only the *order* in which each entry's
//! products are summed (faer's kernels pick blockings by shape). Every
//! rigorous bound resting on these products is proved for an arbitrary
//! evaluation order: the Gram rounding bound for every summation tree, FMAs
//! included (proofs/theories/FloatDot.v, `dot_error_bound`), and Rump's
//! Cholesky criterion for every order of each sum in the factorization
//! (proofs/theories/Cholesky.v, `rump_cholesky_posdef`). A run with several
//! threads is exactly as rigorous as a sequential one; only the last bits of
//! an enclosure may differ from the sequential run (the enclosure always
//! contains σ).

use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, MatMut, MatRef, Par};

/// The number of threads `threads` stands for: 0 means one per available
/// core (as reported by the operating system), anything else itself.
pub fn resolve_threads(threads: usize) -> usize {
    if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    }
}

/// Products smaller than this many multiply-adds run on one thread (a
/// thread costs tens of microseconds to start).
const MIN_WORK_PER_THREAD: usize = 1 << 22;

/// How many threads a product of `work` multiply-adds should use.
fn useful_threads(threads: usize, work: usize) -> usize {
    threads.min(work / MIN_WORK_PER_THREAD).max(1)
}

/// Lower triangle of dst ← (dst if `accum` is Add) + α·lhs·rhs, with lhs
/// n×k and rhs k×n (the strict upper triangle of dst is not touched).
/// The columns of dst are split into `threads` bands of about equal
/// lower-triangle area; each band is a triangular diagonal block and the
/// rectangle below it.
pub(crate) fn lower_product(
    dst: MatMut<'_, f64>,
    accum: Accum,
    lhs: MatRef<'_, f64>,
    rhs: MatRef<'_, f64>,
    alpha: f64,
    threads: usize,
) {
    let n = dst.nrows();
    let k = lhs.ncols();
    let t = useful_threads(threads, n.saturating_mul(n).saturating_mul(k) / 2);
    if t <= 1 {
        triangular::matmul(
            dst,
            BlockStructure::TriangularLower,
            accum,
            lhs,
            BlockStructure::Rectangular,
            rhs,
            BlockStructure::Rectangular,
            alpha,
            Par::Seq,
        );
        return;
    }
    lower_product_split(dst, accum, lhs, rhs, alpha, t);
}

/// [`lower_product`] on exactly `t` threads, one per column band.
fn lower_product_split(
    dst: MatMut<'_, f64>,
    accum: Accum,
    lhs: MatRef<'_, f64>,
    rhs: MatRef<'_, f64>,
    alpha: f64,
    t: usize,
) {
    let n = dst.nrows();
    let bounds = balanced_triangle_bands(n, t);
    std::thread::scope(|scope| {
        let mut rest = dst;
        let mut done = 0;
        for w in bounds.windows(2) {
            let (c0, c1) = (w[0], w[1]);
            let (band, right) = rest.split_at_col_mut(c1 - done);
            rest = right;
            done = c1;
            // The band's rows c0.. (rows above c0 are the upper triangle).
            let (_, band) = band.split_at_row_mut(c0);
            let (diag, below) = band.split_at_row_mut(c1 - c0);
            let (l_diag, l_below) = lhs.subrows(c0, n - c0).split_at_row(c1 - c0);
            let r_band = rhs.subcols(c0, c1 - c0);
            scope.spawn(move || {
                triangular::matmul(
                    diag,
                    BlockStructure::TriangularLower,
                    accum,
                    l_diag,
                    BlockStructure::Rectangular,
                    r_band,
                    BlockStructure::Rectangular,
                    alpha,
                    Par::Seq,
                );
                matmul(below, accum, l_below, r_band, alpha, Par::Seq);
            });
        }
    });
}

/// dst ← (dst if `accum` is Add) + α·lhs·rhs, with the rows of dst split
/// into `threads` bands.
pub(crate) fn product(
    dst: MatMut<'_, f64>,
    accum: Accum,
    lhs: MatRef<'_, f64>,
    rhs: MatRef<'_, f64>,
    alpha: f64,
    threads: usize,
) {
    let (m, n, k) = (dst.nrows(), dst.ncols(), lhs.ncols());
    let t = useful_threads(threads, m.saturating_mul(n).saturating_mul(k)).min(m.max(1));
    if t <= 1 {
        matmul(dst, accum, lhs, rhs, alpha, Par::Seq);
        return;
    }
    product_split(dst, accum, lhs, rhs, alpha, t);
}

/// [`product`] on exactly `t` threads, one per row band.
fn product_split(
    dst: MatMut<'_, f64>,
    accum: Accum,
    lhs: MatRef<'_, f64>,
    rhs: MatRef<'_, f64>,
    alpha: f64,
    t: usize,
) {
    let m = dst.nrows();
    std::thread::scope(|scope| {
        let mut rest = dst;
        let mut done = 0;
        for i in 1..=t {
            let end = m * i / t;
            let (band, below) = rest.split_at_row_mut(end - done);
            rest = below;
            let l = lhs.subrows(done, end - done);
            done = end;
            scope.spawn(move || matmul(band, accum, l, rhs, alpha, Par::Seq));
        }
    });
}

/// Column boundaries 0 = b₀ < b₁ < … < b_t = n splitting the lower triangle
/// of an n×n matrix (column j holds n − j entries) into t bands of about
/// equal area (a band may be empty when n < t).
fn balanced_triangle_bands(n: usize, t: usize) -> Vec<usize> {
    let total = n * (n + 1) / 2;
    let mut bounds = vec![0];
    let mut area = 0usize;
    let mut band = 1;
    for j in 0..n {
        area += n - j;
        while band < t && area * t >= total * band {
            bounds.push(j + 1);
            band += 1;
        }
    }
    while bounds.len() <= t {
        bounds.push(n);
    }
    *bounds.last_mut().expect("non-empty") = n;
    bounds
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    fn sample(m: usize, n: usize, seed: usize) -> Mat<f64> {
        Mat::from_fn(m, n, |i, j| {
            (((i * 31 + j * 17 + seed * 7) % 23) as f64 - 11.0) / 8.0
        })
    }

    #[test]
    fn zero_means_all_cores() {
        assert!(resolve_threads(0) >= 1);
        assert_eq!(resolve_threads(3), 3);
    }

    #[test]
    fn bands_cover_the_columns_with_balanced_areas() {
        for (n, t) in [(1, 1), (1, 3), (10, 2), (100, 3), (4096, 2), (5, 8)] {
            let b = balanced_triangle_bands(n, t);
            assert_eq!(b.len(), t + 1);
            assert_eq!((b[0], b[t]), (0, n));
            assert!(b.windows(2).all(|w| w[0] <= w[1]));
            if n >= 100 {
                let area = |c0: usize, c1: usize| (c0..c1).map(|j| n - j).sum::<usize>();
                let ideal = n * (n + 1) / 2 / t;
                for w in b.windows(2) {
                    let a = area(w[0], w[1]);
                    assert!(a.abs_diff(ideal) <= n, "n={n} t={t} {a} vs {ideal}");
                }
            }
        }
    }

    /// Products of small integers scaled by 1/8 are exact in f64, so every
    /// summation order gives the same bits: the split products must equal
    /// the sequential ones exactly.
    #[test]
    fn split_products_equal_the_sequential_ones_on_exact_data() {
        let (n, k) = (300, 200);
        let a = sample(n, k, 1);
        let b = sample(k, n, 2);
        for accum in [Accum::Replace, Accum::Add] {
            let start = sample(n, n, 3);
            let mut seq = start.clone();
            lower_product(seq.as_mut(), accum, a.as_ref(), b.as_ref(), -1.0, 1);
            let mut par = start.clone();
            // The split itself (the public function keeps products this
            // small on one thread).
            lower_product_split(par.as_mut(), accum, a.as_ref(), b.as_ref(), -1.0, 3);
            for j in 0..n {
                for i in 0..n {
                    assert_eq!(seq[(i, j)].to_bits(), par[(i, j)].to_bits(), "({i},{j})");
                }
            }
            let mut seq = start.clone();
            product(seq.as_mut(), accum, a.as_ref(), b.as_ref(), 0.5, 1);
            let mut par = start.clone();
            product_split(par.as_mut(), accum, a.as_ref(), b.as_ref(), 0.5, 4);
            assert_eq!(seq, par);
        }
    }
}
