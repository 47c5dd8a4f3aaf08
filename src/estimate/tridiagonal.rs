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

/// Largest eigenvalue of the same tridiagonal matrix (see [`top_eigenpair`]),
/// by bisection on Sylvester's law of inertia: the number of negative pivots
/// of the LDLᵀ recurrence dᵢ = (αᵢ − x) − βᵢ₋₁²/dᵢ₋₁ is the number of
/// eigenvalues below x (Golub & Van Loan, *Matrix Computations*, §8.4.1,
/// the Sturm sequence property), started from the Gershgorin interval.
/// O(k) per step instead of a dense eigensolver's O(k³): Lanczos calls it
/// after every step to decide when to stop. An estimate (no guarantee).
pub fn top_eigenvalue(alpha: &[f64], beta: &[f64]) -> f64 {
    let k = alpha.len();
    if k == 0 {
        return f64::NEG_INFINITY;
    }
    let off = |i: usize| if i < k - 1 { beta[i].abs() } else { 0.0 };
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (i, a) in alpha.iter().enumerate() {
        let r = off(i) + if i > 0 { off(i - 1) } else { 0.0 };
        lo = lo.min(a - r);
        hi = hi.max(a + r);
    }
    if !(lo.is_finite() && hi.is_finite()) {
        return top_eigenpair(alpha, beta).0;
    }
    let scale = lo.abs().max(hi.abs()).max(f64::MIN_POSITIVE);
    let pivmin = f64::MIN_POSITIVE / f64::EPSILON * scale.max(1.0);
    // Eigenvalues strictly below x.
    let below = |x: f64| -> usize {
        let mut count = 0;
        let mut d = 1.0;
        for i in 0..k {
            let b2 = if i > 0 {
                beta[i - 1] * beta[i - 1]
            } else {
                0.0
            };
            d = (alpha[i] - x) - if i > 0 { b2 / d } else { 0.0 };
            if d.abs() < pivmin {
                d = -pivmin;
            }
            if d < 0.0 {
                count += 1;
            }
        }
        count
    };
    while hi - lo > 2.0 * f64::EPSILON * scale {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if below(mid) == k {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bisection_agrees_with_the_dense_eigensolver() {
        let mut seed = 12345u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        for k in 1..40 {
            let alpha: Vec<f64> = (0..k).map(|_| next() * 10.0).collect();
            let beta: Vec<f64> = (0..k).map(|_| next()).collect();
            let dense = top_eigenpair(&alpha, &beta).0;
            let fast = top_eigenvalue(&alpha, &beta);
            assert!(
                (dense - fast).abs() <= 1e-12 * dense.abs().max(1.0),
                "{k}: {dense} vs {fast}"
            );
        }
        // A zero off-diagonal splits the matrix; equal diagonals.
        assert!((top_eigenvalue(&[2.0, 5.0, 1.0], &[0.0, 0.0]) - 5.0).abs() < 1e-14);
        assert!((top_eigenvalue(&[3.0; 4], &[0.0; 3]) - 3.0).abs() < 1e-14);
    }
}
