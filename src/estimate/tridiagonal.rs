//! The small symmetric tridiagonal eigenproblem at the heart of every
//! Lanczos estimator here (diagonal α, off-diagonal β).

use faer::Mat;

/// Largest eigenvalue and unit eigenvector of the symmetric tridiagonal matrix
/// with diagonal `alpha` and off-diagonal `beta` (only its first len(alpha) − 1 entries are read).
pub fn top_eigenpair(alpha: &[f64], beta: &[f64]) -> (f64, Vec<f64>) {
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
            let u = eig.U();
            (vals[top], (0..k).map(|i| u[(i, top)]).collect())
        }
        Err(_) => {
            let mut e = vec![0.0; k];
            e[0] = 1.0;
            (alpha[0], e)
        }
    }
}

/// Largest eigenvalue of the same tridiagonal matrix (see [`top_eigenpair`]).
pub fn top_eigenvalue(alpha: &[f64], beta: &[f64]) -> f64 {
    top_eigenpair(alpha, beta).0
}
