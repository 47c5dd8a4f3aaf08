//! Shift-and-invert refinement of the top eigenvector of a Gram matrix with a
//! single-precision Cholesky factorization (an estimator: no guarantee rests on
//! it, so half precision speed is fine).

use crate::certify::gram::GramWithError;
use faer::linalg::triangular_solve::{
    solve_lower_triangular_in_place, solve_upper_triangular_in_place,
};
use faer::{Mat, MatRef, Par, Side};

/// Result of [`refine_top_vector`].
#[derive(Debug, Clone)]
pub struct Refined {
    /// Unit approximate top eigenvector of C.
    pub vector: Vec<f64>,
    /// Rayleigh quotient vᵀCv in f64.
    pub rayleigh: f64,
}

/// Inverse iteration x ← (μI − C)⁻¹x with μ above λ₁(C): converges to the top
/// eigenvector at rate (μ − λ₁)/(μ − λ₂) per step (Golub & Van Loan §8.2.2).
///
/// The factorization of μI − C is computed in f32 from `c32` (C rounded to
/// f32, lower triangle read), about twice as fast as f64. `fast_steps` plain
/// f32 steps are followed by `refined_steps` steps in which each solve is
/// corrected by two sweeps of iterative refinement with f64 residuals from
/// the f64 Gram matrix (Higham, *Accuracy and Stability*, ch. 12), so the
/// final vector is as accurate as an f64 inverse iteration would give.
/// Returns `None` if the f32 factorization breaks down (μ not safely above
/// λ₁).
pub fn refine_top_vector(
    gram: &GramWithError,
    c32: MatRef<'_, f32>,
    mu: f64,
    start: &[f64],
    fast_steps: usize,
    refined_steps: usize,
) -> Option<Refined> {
    let n = c32.nrows();
    let mu32 = mu as f32;
    // Only the lower triangle is read by the factorization.
    let shifted = Mat::<f32>::from_fn(n, n, |i, j| {
        if i < j {
            0.0
        } else if i == j {
            mu32 - c32[(i, j)]
        } else {
            -c32[(i, j)]
        }
    });
    let llt = shifted.llt(Side::Lower).ok()?;
    let l = llt.L();
    let solve32 = |b: &[f64]| -> Vec<f64> {
        let mut x = Mat::<f32>::from_fn(n, 1, |i, _| b[i] as f32);
        solve_lower_triangular_in_place(l, x.as_mut(), Par::Seq);
        solve_upper_triangular_in_place(l.transpose(), x.as_mut(), Par::Seq);
        (0..n).map(|i| x[(i, 0)] as f64).collect()
    };
    let mut v = normalized(start.to_vec())?;
    for _ in 0..fast_steps {
        v = normalized(solve32(&v))?;
    }
    let mut cx = vec![0.0; n];
    for _ in 0..refined_steps {
        let b = v.clone();
        let mut x = solve32(&b);
        for _ in 0..2 {
            gram.apply(&x, &mut cx);
            let r: Vec<f64> = (0..n).map(|i| b[i] - (mu * x[i] - cx[i])).collect();
            let rn = r.iter().map(|a| a * a).sum::<f64>().sqrt();
            if rn.is_nan() || rn <= 0.0 {
                break;
            }
            // Solve for the normalized residual so f32 does not underflow.
            let d = solve32(&r.iter().map(|a| a / rn).collect::<Vec<_>>());
            for i in 0..n {
                x[i] += rn * d[i];
            }
        }
        v = normalized(x)?;
    }
    gram.apply(&v, &mut cx);
    let rayleigh = (0..n).map(|i| v[i] * cx[i]).sum::<f64>();
    Some(Refined {
        vector: v,
        rayleigh,
    })
}

fn normalized(mut x: Vec<f64>) -> Option<Vec<f64>> {
    let norm = x.iter().map(|a| a * a).sum::<f64>().sqrt();
    if !(norm > 0.0 && norm.is_finite()) {
        return None;
    }
    x.iter_mut().for_each(|a| *a /= norm);
    Some(x)
}
