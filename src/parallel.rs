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
use faer::{Accum, Mat, MatMut, MatRef, Par};

/// The real scalars the products run on: binary64 everywhere, and binary32
/// for the binary32 Cholesky certificate
/// ([`crate::certify::binary32_upper::certify_upper_binary32`]).
pub(crate) trait Element: faer::traits::ComplexField + Copy + Send + Sync {}
impl Element for f64 {}
impl Element for f32 {}

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
pub(crate) fn lower_product<T: Element>(
    dst: MatMut<'_, T>,
    accum: Accum,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    alpha: T,
    threads: usize,
) {
    let n = dst.nrows();
    let k = lhs.ncols();
    let t = useful_threads(threads, n.saturating_mul(n).saturating_mul(k) / 2);
    let copy = column_major_copy(rhs);
    let rhs = copy.as_ref().map_or(rhs, |c| c.as_ref());
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
fn lower_product_split<T: Element>(
    dst: MatMut<'_, T>,
    accum: Accum,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    alpha: T,
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
pub(crate) fn product<T: Element>(
    dst: MatMut<'_, T>,
    accum: Accum,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    alpha: T,
    threads: usize,
) {
    let (m, n, k) = (dst.nrows(), dst.ncols(), lhs.ncols());
    let t = useful_threads(threads, m.saturating_mul(n).saturating_mul(k)).min(m.max(1));
    let copy = column_major_copy(rhs);
    let rhs = copy.as_ref().map_or(rhs, |c| c.as_ref());
    if t <= 1 {
        matmul(dst, accum, lhs, rhs, alpha, Par::Seq);
        return;
    }
    product_split(dst, accum, lhs, rhs, alpha, t);
}

/// [`product`] on exactly `t` threads, one per row band.
fn product_split<T: Element>(
    dst: MatMut<'_, T>,
    accum: Accum,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    alpha: T,
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

/// A column-major copy of `rhs` when it is stored row by row (a transposed
/// view, as the Cholesky factorization's L21ᵀ and Lbᵀ are) and large
/// enough to matter; `None` otherwise.
///
/// faer 0.24's sequential multiply runs about 3.5× slower on a row-major
/// right-hand side than on a column-major one (measured at order 2048 on the
/// AVX2 development machine: A·Bᵀ 4.0 s against A·B 1.1 s; the lower
/// triangle of A·Aᵀ 1.8 s against AᵀA 0.5 s), while the copy costs one pass
/// over k·n values against the product's k·n·m multiply-adds. The copy
/// holds the same values, so each output entry is still a sum of the same
/// products (in some order): the theorems of the module doc are unchanged.
fn column_major_copy<T: Element>(rhs: MatRef<'_, T>) -> Option<Mat<T>> {
    let (k, n) = (rhs.nrows(), rhs.ncols());
    if rhs.row_stride() == 1 || k < 2 || n < 2 || k.saturating_mul(n) < MIN_COPY_VALUES {
        return None;
    }
    // Copy in square tiles: reads and writes both stay in cache.
    const TILE: usize = 32;
    let mut out = Mat::<T>::zeros(k, n);
    for j0 in (0..n).step_by(TILE) {
        for i0 in (0..k).step_by(TILE) {
            for j in j0..(j0 + TILE).min(n) {
                for i in i0..(i0 + TILE).min(k) {
                    out[(i, j)] = rhs[(i, j)];
                }
            }
        }
    }
    Some(out)
}

/// Right-hand sides with fewer values than this are multiplied as they are
/// (the copy would cost more than it saves).
const MIN_COPY_VALUES: usize = 64 * 64;

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

    /// A row-major (transposed) right-hand side is copied to column-major
    /// before the multiply: on exact data the result must equal the product
    /// with an explicitly column-major operand, for one and several threads,
    /// and the copy must hold exactly the operand's values.
    #[test]
    fn transposed_right_hand_sides_give_the_same_products() {
        let (n, k) = (260, 150);
        let a = sample(n, k, 4);
        let bt = sample(n, k, 5); // rhs = btᵀ, a k×n row-major view
        let owned = bt.transpose().to_owned();
        let copy = column_major_copy(bt.as_ref().transpose()).expect("large row-major rhs");
        assert_eq!(copy, owned);
        assert_eq!(copy.row_stride(), 1);
        assert!(column_major_copy(owned.as_ref()).is_none());
        for threads in [1, 3] {
            let start = sample(n, n, 6);
            let mut got = start.clone();
            lower_product(
                got.as_mut(),
                Accum::Add,
                a.as_ref(),
                bt.as_ref().transpose(),
                -1.0,
                threads,
            );
            let mut want = start.clone();
            lower_product(
                want.as_mut(),
                Accum::Add,
                a.as_ref(),
                owned.as_ref(),
                -1.0,
                threads,
            );
            for j in 0..n {
                for i in 0..n {
                    if i >= j {
                        assert_eq!(got[(i, j)].to_bits(), want[(i, j)].to_bits(), "({i},{j})");
                    } else {
                        // The strict upper triangle is not touched.
                        assert_eq!(got[(i, j)].to_bits(), start[(i, j)].to_bits(), "({i},{j})");
                    }
                }
            }
            let mut got = start.clone();
            product(
                got.as_mut(),
                Accum::Replace,
                a.as_ref(),
                bt.as_ref().transpose(),
                0.5,
                threads,
            );
            let mut want = start.clone();
            product(
                want.as_mut(),
                Accum::Replace,
                a.as_ref(),
                owned.as_ref(),
                0.5,
                threads,
            );
            assert_eq!(got, want);
        }
    }
}
