//! y = C·x for a symmetric f32 matrix C read from its lower triangle only,
//! in one pass: each column below the diagonal feeds both its dot product
//! with x (the upper triangle's contribution, by symmetry) and its axpy into
//! y. Half the memory traffic of a full product, which is what a Lanczos
//! step on a large Gram matrix is bound by. An estimator's kernel: no
//! guarantee rests on it.

use crate::simd::multiversion;
use faer::MatRef;

/// Lanes of the partial sums (independent accumulators let the dot product
/// vectorize without reassociating anything else).
const LANES: usize = 16;

multiversion! {
    /// Adds to y the contributions of columns j0..j1 of C (symmetric, only
    /// its lower triangle read, diagonal included) to C·x: each column's
    /// part below the diagonal gives y_j a dot product (the upper triangle,
    /// by symmetry) and y below j an axpy. `c` must have contiguous columns
    /// (a faer `Mat` or a view of one), `x` and `y` its order.
    fn symv_lower_band = symv_lower_band_body(c: MatRef<'_, f32>, x: &[f32], y: &mut [f32], j0: usize, j1: usize)
}

/// y = C·x with C symmetric, only its lower triangle read (see
/// [`symv_lower_band`]).
pub(crate) fn symv_lower(c: MatRef<'_, f32>, x: &[f32], y: &mut [f32]) {
    y.fill(0.0);
    symv_lower_band(c, x, y, 0, c.ncols());
}

/// Orders below which [`symv_lower_with`] stays on one thread (a thread
/// costs more than the product).
const MIN_ORDER_PER_THREAD: usize = 1024;

/// [`symv_lower`] on up to `threads` threads: the columns are split into
/// bands of about equal lower-triangle area, each band accumulated into its
/// own vector, the vectors then summed in band order (deterministic for a
/// given thread count).
pub(crate) fn symv_lower_with(c: MatRef<'_, f32>, x: &[f32], y: &mut [f32], threads: usize) {
    let n = c.ncols();
    let threads = threads.min(n / MIN_ORDER_PER_THREAD).max(1);
    if threads == 1 {
        return symv_lower(c, x, y);
    }
    // Columns [0, j) hold n·j − j²/2 of the n²/2 entries: the band edges
    // solve n·j − j²/2 = t/T · n²/2.
    let nf = n as f64;
    let edges: Vec<usize> = (0..=threads)
        .map(|t| {
            let area = t as f64 / threads as f64 * nf * nf / 2.0;
            ((nf - (nf * nf - 2.0 * area).max(0.0).sqrt()).round() as usize).min(n)
        })
        .collect();
    let mut partial = vec![vec![0.0f32; n]; threads - 1];
    std::thread::scope(|scope| {
        for (t, buf) in partial.iter_mut().enumerate() {
            let (j0, j1) = (edges[t + 1], edges[t + 2]);
            scope.spawn(move || symv_lower_band(c, x, buf, j0, j1));
        }
        y.fill(0.0);
        symv_lower_band(c, x, y, edges[0], edges[1]);
    });
    for buf in &partial {
        for (a, b) in y.iter_mut().zip(buf) {
            *a += b;
        }
    }
}

#[inline(always)]
fn symv_lower_band_body(c: MatRef<'_, f32>, x: &[f32], y: &mut [f32], j0: usize, j1: usize) {
    let n = c.nrows();
    assert!(c.ncols() == n && x.len() == n && y.len() == n && j0 <= j1 && j1 <= n);
    for j in j0..j1 {
        let col = c
            .col(j)
            .try_as_col_major()
            .expect("columns of a faer Mat are contiguous")
            .as_slice();
        let (&cjj, below) = col[j..].split_first().expect("j < n");
        let xj = x[j];
        let xs = &x[j + 1..];
        let ys = &mut y[j + 1..];
        let whole = below.len() / LANES * LANES;
        let mut acc = [0.0f32; LANES];
        for ((cc, xc), yc) in below[..whole]
            .chunks_exact(LANES)
            .zip(xs[..whole].chunks_exact(LANES))
            .zip(ys[..whole].chunks_exact_mut(LANES))
        {
            for l in 0..LANES {
                acc[l] += cc[l] * xc[l];
                yc[l] += xj * cc[l];
            }
        }
        let mut dot: f32 = acc.iter().sum();
        for i in whole..below.len() {
            dot += below[i] * xs[i];
            ys[i] += xj * below[i];
        }
        y[j] += cjj * xj + dot;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::{Accum, ColMut, Mat, Par};

    #[test]
    fn agrees_with_the_full_product_and_ignores_the_upper_triangle() {
        let mut rng = crate::random::Rng::new(5);
        for n in [1usize, 2, 15, 16, 17, 33, 100, 2500] {
            let sym = Mat::<f32>::from_fn(n, n, |i, j| ((i * 7 + j * 7 + i * j) % 11) as f32 - 5.0);
            // The upper triangle of the input holds garbage: never read.
            let lower_only =
                Mat::<f32>::from_fn(n, n, |i, j| if i >= j { sym[(i, j)] } else { f32::NAN });
            let x: Vec<f32> = (0..n).map(|_| rng.normal() as f32).collect();
            let mut want = vec![0.0f32; n];
            faer::linalg::matmul::matmul(
                ColMut::from_slice_mut(&mut want),
                Accum::Replace,
                sym.as_ref(),
                faer::ColRef::from_slice(&x),
                1.0f32,
                Par::Seq,
            );
            let mut got = vec![0.0f32; n];
            symv_lower(lower_only.as_ref(), &x, &mut got);
            let mut banded = vec![0.0f32; n];
            symv_lower_with(lower_only.as_ref(), &x, &mut banded, 3);
            let scale: f32 = x.iter().map(|v| v.abs()).sum::<f32>() * 5.0 + 1.0;
            for i in 0..n {
                assert!(
                    (banded[i] - want[i]).abs() <= 1e-5 * scale,
                    "n = {n}, i = {i}: {} vs {} (bands)",
                    banded[i],
                    want[i]
                );
                assert!(
                    (got[i] - want[i]).abs() <= 1e-5 * scale,
                    "n = {n}, i = {i}: {} vs {}",
                    got[i],
                    want[i]
                );
            }
        }
    }
}
