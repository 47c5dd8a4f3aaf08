//! Gram iteration (Delattre, Barthélemy, Araujo, Allauzen, "Efficient bound of
//! Lipschitz constant for convolutional layers by Gram iteration", ICML 2023)
//! in plain floating point: the *uncertified* estimator as published.
//!
//! In exact arithmetic it is an upper bound on σ₁, but rounding is not
//! accounted for, and in binary64 it can land below σ₁ (the published code
//! did, by 3.6e-12 relative). lipcert keeps it only as an estimator and as the
//! baseline of a regression test; the certified version is
//! [`crate::certify::gram_upper::gram_upper_bound`].

use crate::matrix::DenseMatrix;
use faer::{Accum, Mat, Par};

/// The Gram-iteration estimate of σ₁(W) after `iterations` squarings, in
/// plain binary64 with Frobenius rescaling (no rounding control).
///
/// # Math
/// G₀ = WᵀW (or WWᵀ, whichever is smaller), r_k = ‖G_k‖_F,
/// G_{k+1} = (G_k/r_k)ᵀ(G_k/r_k). Since ‖G_{k+1}‖₂ = ‖G_k‖₂²/r_k² and
/// ‖·‖₂ ≤ ‖·‖_F, in exact arithmetic
/// log σ₁² = log‖G₀‖₂ ≤ 2^{−K} log‖G_K‖_F + Σ_{k<K} 2^{−k} log r_k,
/// and the right side decreases to log σ₁² as K grows (the Frobenius norm
/// over-counts by at most a factor √rank, which the 2^{−K} root removes).
/// The estimate returned is exp(½ · right side).
///
/// Returns 0 for a zero matrix.
///
/// ```
/// use lipcert::{DenseMatrix, estimate::gram_iteration::gram_iteration_estimate};
/// let w = DenseMatrix::from_row_major(2, 2, &[2.0, 1.0, 1.0, 2.0]).unwrap();
/// assert!((gram_iteration_estimate(&w, 8) - 3.0).abs() < 1e-2);
/// ```
pub fn gram_iteration_estimate(w: &DenseMatrix, iterations: usize) -> f64 {
    let mut g = smaller_gram(w);
    let mut log_sq = 0.0f64; // Σ 2^{−k} ln r_k
    let mut weight = 1.0f64; // 2^{−k}
    for _ in 0..iterations {
        let r = frobenius(&g);
        if r == 0.0 || !r.is_finite() {
            return if r == 0.0 { 0.0 } else { f64::INFINITY };
        }
        log_sq += weight * r.ln();
        weight *= 0.5;
        let x = Mat::from_fn(g.nrows(), g.ncols(), |i, j| g[(i, j)] / r);
        faer::linalg::matmul::matmul(g.as_mut(), Accum::Replace, x.transpose(), &x, 1.0, Par::Seq);
    }
    let r = frobenius(&g);
    if r == 0.0 {
        return 0.0;
    }
    log_sq += weight * r.ln();
    (0.5 * log_sq).exp()
}

/// G₀ = WᵀW if n ≤ m, else WWᵀ (same nonzero eigenvalues, smaller matrix),
/// as a full matrix.
fn smaller_gram(w: &DenseMatrix) -> Mat<f64> {
    let a = w.as_faer();
    let (m, n) = (a.nrows(), a.ncols());
    if n <= m {
        let mut g = Mat::<f64>::zeros(n, n);
        faer::linalg::matmul::matmul(g.as_mut(), Accum::Replace, a.transpose(), a, 1.0, Par::Seq);
        g
    } else {
        let mut g = Mat::<f64>::zeros(m, m);
        faer::linalg::matmul::matmul(g.as_mut(), Accum::Replace, a, a.transpose(), 1.0, Par::Seq);
        g
    }
}

fn frobenius(g: &Mat<f64>) -> f64 {
    let mut s = 0.0;
    for j in 0..g.ncols() {
        for i in 0..g.nrows() {
            s += g[(i, j)] * g[(i, j)];
        }
    }
    s.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converges_on_a_diagonal_matrix_from_above() {
        let w = DenseMatrix::from_row_major(3, 3, &[1.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 2.0])
            .unwrap();
        let mut previous = f64::INFINITY;
        for k in 0..8 {
            let e = gram_iteration_estimate(&w, k);
            assert!(e >= 3.0 * (1.0 - 1e-14) && e <= previous * (1.0 + 1e-14));
            previous = e;
        }
        assert!((previous - 3.0).abs() < 1e-6);
        let z = DenseMatrix::from_row_major(1, 2, &[0.0, 0.0]).unwrap();
        assert_eq!(gram_iteration_estimate(&z, 3), 0.0);
    }
}
