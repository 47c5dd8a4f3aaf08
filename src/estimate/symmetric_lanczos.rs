//! A small symmetric Lanczos iteration with full reorthogonalization on any
//! symmetric PSD map given as a closure (the convolution module runs it on
//! AᵀA of an operator and on per-frequency blocks), for *estimates* only: the
//! largest Ritz value and its Ritz vector. No guarantee comes from here;
//! rigorous bounds come from
//! [`crate::certify::vector_lower::lower_bound_from_vector`] applied to the
//! returned vector and from the Cholesky certificates.
//!
//! Siblings: [`super::lanczos`] (Golub–Kahan on a `LinearOperator`, for the
//! dense and probabilistic paths) and [`super::gram_lanczos`] (a dense f32
//! Gram matrix, for the fast `auto` path).

/// Largest Ritz value θ (an estimate of λ_max of the PSD operator) and its
/// unit Ritz vector.
#[derive(Debug, Clone)]
pub struct RitzPair {
    /// θ ≤ λ_max in exact arithmetic.
    pub value: f64,
    /// Unit Ritz vector.
    pub vector: Vec<f64>,
}

/// Runs at most `steps` Lanczos steps on the symmetric PSD map `apply`
/// (y ← M x) of dimension `n`, from `start` (any nonzero vector), storing the
/// basis to reorthogonalize fully (Golub & Van Loan, *Matrix Computations*,
/// §10.1). Returns `None` only if `start` is zero or not finite.
pub fn lanczos_top(
    n: usize,
    start: &[f64],
    steps: usize,
    apply: impl FnMut(&[f64], &mut [f64]),
) -> Option<RitzPair> {
    lanczos_top_until(n, start, steps, 0.0, apply)
}

/// As [`lanczos_top`], but stops early once the largest Ritz value changed
/// by less than `rel_tol` (relative) over the last two steps.
pub fn lanczos_top_until(
    n: usize,
    start: &[f64],
    steps: usize,
    rel_tol: f64,
    mut apply: impl FnMut(&[f64], &mut [f64]),
) -> Option<RitzPair> {
    let norm = start.iter().map(|v| v * v).sum::<f64>().sqrt();
    if !(norm > 0.0 && norm.is_finite()) {
        return None;
    }
    let steps = steps.clamp(1, n);
    let mut basis: Vec<Vec<f64>> = vec![start.iter().map(|v| v / norm).collect()];
    let mut alpha = Vec::with_capacity(steps);
    let mut beta: Vec<f64> = Vec::with_capacity(steps);
    let mut w = vec![0.0; n];
    let mut history: Vec<f64> = Vec::new();
    for k in 0..steps {
        apply(&basis[k], &mut w);
        let a = dot(&w, &basis[k]);
        if !a.is_finite() {
            return None;
        }
        alpha.push(a);
        // Full reorthogonalization (twice is enough: Kahan–Parlett).
        for _ in 0..2 {
            for q in &basis {
                let c = dot(&w, q);
                w.iter_mut().zip(q).for_each(|(wi, qi)| *wi -= c * qi);
            }
        }
        let b = dot(&w, &w).sqrt();
        if rel_tol > 0.0 && k >= 3 {
            history.push(super::tridiagonal::top_eigenvalue(&alpha, &beta));
            let h = history.len();
            if h >= 3 && (history[h - 1] - history[h - 3]).abs() <= rel_tol * history[h - 1] {
                break;
            }
        }
        if k + 1 == steps
            || b.is_nan()
            || b <= 1e-13 * a.abs().max(f64::MIN_POSITIVE)
            || !b.is_finite()
        {
            break;
        }
        beta.push(b);
        basis.push(w.iter().map(|v| v / b).collect());
    }
    let m = alpha.len();
    let (value, coeffs) = super::tridiagonal::top_eigenpair(&alpha, &beta);
    let mut vector = vec![0.0; n];
    for (c, q) in coeffs.iter().zip(basis.iter().take(m)) {
        vector.iter_mut().zip(q).for_each(|(v, qi)| *v += c * qi);
    }
    let vn = dot(&vector, &vector).sqrt();
    if vn > 0.0 {
        vector.iter_mut().for_each(|v| *v /= vn);
    }
    Some(RitzPair {
        value: value.max(0.0),
        vector,
    })
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_top_eigenpair_of_a_diagonal_matrix() {
        let d: Vec<f64> = (0..50).map(|i| 1.0 + i as f64 / 10.0).collect();
        let start = vec![1.0; 50];
        let r = lanczos_top(50, &start, 50, |x, y| {
            y.iter_mut()
                .zip(x)
                .zip(&d)
                .for_each(|((y, x), d)| *y = d * x)
        })
        .unwrap();
        assert!((r.value - 5.9).abs() < 1e-10, "{}", r.value);
        assert!(r.vector[49].abs() > 1.0 - 1e-8);
        assert!(lanczos_top(3, &[0.0; 3], 3, |_, _| {}).is_none());
    }
}
