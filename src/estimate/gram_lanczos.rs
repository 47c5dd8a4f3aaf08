//! Symmetric Lanczos on a dense Gram matrix C = SᵀS: the cheapest way to a
//! first estimate of λ₁(C) = σ₁(S)² once C is formed (one product with C per
//! step, versus two products with S per Golub–Kahan step).

use faer::{ColRef, Mat, MatRef};

/// Top Ritz pair of a symmetric matrix after k Lanczos steps (no guarantee).
#[derive(Debug, Clone)]
pub struct RitzPair {
    /// Largest Ritz value θ ≤ λ₁.
    pub value: f64,
    /// Unit Ritz vector y.
    pub vector: Vec<f64>,
    /// Residual norm ‖Cy − θy‖ (= β_k·|last component of the small eigenvector|).
    pub residual: f64,
    /// Steps taken.
    pub steps: usize,
    /// The second largest Ritz value θ₂ (−∞ after one step): λ₂ ≈ θ₂, so
    /// θ − θ₂ estimates the gap that governs the Ritz vector's accuracy.
    pub second: f64,
}

/// Steps after which the Ritz pair is computed only every [`CHECK_EVERY`].
const CHECK_ALWAYS_BELOW: usize = 16;

/// Interval of the Ritz pair computations after [`CHECK_ALWAYS_BELOW`].
const CHECK_EVERY: usize = 4;

/// Runs Lanczos with full reorthogonalization on the symmetric matrix `c`
/// (only its lower triangle is read, stored in f32: the matrix–vector
/// products dominate and are bound by memory traffic) from the start vector `start`,
/// stopping after `max_steps` or when the relative residual
/// ‖Cy − θy‖/θ ≤ `tol`. The Ritz value is accurate to about the f32 unit
/// roundoff (6e-8) relative: this is an estimator for choosing shifts, not
/// the final estimate.
///
/// Reference: Golub & Van Loan, *Matrix Computations*, 4th ed., §10.1.
pub fn lanczos_top(c: MatRef<'_, f32>, start: &[f64], max_steps: usize, tol: f64) -> RitzPair {
    lanczos_top_until(c, start, max_steps, 1, |r| {
        r.residual <= tol * r.value.abs()
    })
}

/// [`lanczos_top`] stopping when `done` accepts the current top Ritz pair
/// (or after `max_steps`, or on an invariant subspace), with the products
/// on up to `threads` threads (bound by memory traffic, so a second thread
/// helps even where arithmetic would not; the Ritz values then differ in
/// the last f32 bits from a one-thread run).
pub fn lanczos_top_until(
    c: MatRef<'_, f32>,
    start: &[f64],
    max_steps: usize,
    threads: usize,
    done: impl Fn(&RitzPair) -> bool,
) -> RitzPair {
    let n = c.nrows();
    let max_steps = max_steps.clamp(1, n);
    let mut q = Mat::<f32>::zeros(n, max_steps);
    let norm0 = start.iter().map(|x| x * x).sum::<f64>().sqrt();
    for i in 0..n {
        q[(i, 0)] = if norm0 > 0.0 {
            (start[i] / norm0) as f32
        } else {
            1.0 / (n as f32).sqrt()
        };
    }
    let mut alpha: Vec<f64> = Vec::new();
    let mut beta: Vec<f64> = Vec::new();
    let mut w = vec![0.0f32; n];
    let mut best = RitzPair {
        value: 0.0,
        vector: q.col(0).iter().map(|&x| x as f64).collect(),
        residual: f64::INFINITY,
        steps: 0,
        second: f64::NEG_INFINITY,
    };
    for k in 0..max_steps {
        {
            let x = q
                .col(k)
                .try_as_col_major()
                .expect("columns of a faer Mat are contiguous")
                .as_slice();
            super::symv::symv_lower_with(c, x, &mut w, threads);
        }
        let a: f64 = (0..n).map(|i| w[i] as f64 * q[(i, k)] as f64).sum();
        alpha.push(a);
        // Full reorthogonalization, twice (classical Gram–Schmidt, "twice is enough").
        for _ in 0..2 {
            let basis = q.as_ref().subcols(0, k + 1);
            let coeffs = basis.transpose() * ColRef::from_slice(&w);
            let correction = basis * &coeffs;
            for i in 0..n {
                w[i] -= correction[i];
            }
        }
        let b = w
            .iter()
            .map(|&x| (x as f64) * (x as f64))
            .sum::<f64>()
            .sqrt();
        // The small eigenproblem costs O(k³): after the first steps it is
        // solved every CHECK_EVERY steps (and at an invariant subspace or the
        // last step), which moves the stopping point by at most that much.
        let invariant = b <= 1e-6 * best.value.abs().max(a.abs());
        let check =
            k < CHECK_ALWAYS_BELOW || (k + 1) % CHECK_EVERY == 0 || invariant || k + 1 == max_steps;
        if check {
            let (theta, second, s) = super::tridiagonal::top_two(&alpha, &beta);
            let residual = b * s[k].abs();
            if theta > best.value || k == 0 {
                let basis = q.as_ref().subcols(0, k + 1);
                let s32: Vec<f32> = s.iter().map(|&x| x as f32).collect();
                let y = basis * ColRef::from_slice(&s32);
                best = RitzPair {
                    value: theta,
                    vector: y.iter().map(|&x| x as f64).collect(),
                    residual,
                    steps: k + 1,
                    second,
                };
            }
            if done(&best) || b <= 1e-6 * theta.abs() || k + 1 == max_steps {
                break;
            }
        }
        beta.push(b);
        for i in 0..n {
            q[(i, k + 1)] = (w[i] as f64 / b) as f32;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_top_eigenvalue_of_a_diagonal_matrix() {
        let n = 50;
        let c = Mat::from_fn(n, n, |i, j| if i == j { (i + 1) as f32 } else { 0.0 });
        let start: Vec<f64> = (0..n).map(|i| 1.0 + (i % 3) as f64).collect();
        let r = lanczos_top(c.as_ref(), &start, 50, 1e-7);
        assert!((r.value - 50.0).abs() < 1e-4, "{}", r.value);
        assert!(r.vector[n - 1].abs() > 1.0 - 1e-4);
    }
}
