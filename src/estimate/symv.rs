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
    /// y = C·x with C symmetric, only its lower triangle (diagonal included)
    /// read; `c` must have contiguous columns (a faer `Mat` or a view of
    /// one), `x` and `y` its order.
    fn symv_lower = symv_lower_body(c: MatRef<'_, f32>, x: &[f32], y: &mut [f32])
}

#[inline(always)]
fn symv_lower_body(c: MatRef<'_, f32>, x: &[f32], y: &mut [f32]) {
    let n = c.nrows();
    assert!(c.ncols() == n && x.len() == n && y.len() == n);
    y.fill(0.0);
    for j in 0..n {
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
        for n in [1usize, 2, 15, 16, 17, 33, 100] {
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
            let scale: f32 = x.iter().map(|v| v.abs()).sum::<f32>() * 5.0 + 1.0;
            for i in 0..n {
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
