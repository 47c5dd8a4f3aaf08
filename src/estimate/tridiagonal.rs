//! The small symmetric tridiagonal eigenproblem at the heart of every
//! Lanczos estimator here (diagonal α, off-diagonal β).

use faer::Mat;

/// Largest eigenvalue and unit eigenvector of the symmetric tridiagonal matrix
/// with diagonal `alpha` and off-diagonal `beta` (only its first len(alpha) − 1 entries are read).
pub fn top_eigenpair(alpha: &[f64], beta: &[f64]) -> (f64, Vec<f64>) {
    let (top, _, vector) = top_two(alpha, beta);
    (top, vector)
}

/// The largest eigenvalue, the second largest (−∞ for a 1×1 matrix) and the
/// unit eigenvector of the largest, of the matrix of [`top_eigenpair`].
pub fn top_two(alpha: &[f64], beta: &[f64]) -> (f64, f64, Vec<f64>) {
    let k = alpha.len();
    let t = Mat::from_fn(k, k, |i, j| {
        if i == j {
            alpha[i]
        } else if i == j + 1 {
            beta[j]
        } else if j == i + 1 {
            beta[i]
        } else {
            0.0
        }
    });
    match t.self_adjoint_eigen(faer::Side::Lower) {
        Ok(eig) => {
            let vals = eig.S().column_vector();
            let mut top = 0;
            for i in 0..k {
                if vals[i] > vals[top] {
                    top = i;
                }
            }
            let second = (0..k)
                .filter(|&i| i != top)
                .map(|i| vals[i])
                .fold(f64::NEG_INFINITY, f64::max);
            let u = eig.U();
            (vals[top], second, (0..k).map(|i| u[(i, top)]).collect())
        }
        Err(_) => {
            let mut e = vec![0.0; k];
            e[0] = 1.0;
            (alpha[0], f64::NEG_INFINITY, e)
        }
    }
}

/// Largest eigenvalue of the same tridiagonal matrix (see [`top_eigenpair`]).
pub fn top_eigenvalue(alpha: &[f64], beta: &[f64]) -> f64 {
    top_eigenpair(alpha, beta).0
}
