//! Power iteration on AᵀA from a seeded random start (an estimate of σ₁(A),
//! no guarantee by itself).

use crate::operator::LinearOperator;
use crate::random::Rng;

/// Result of [`power_iteration`].
#[derive(Debug, Clone)]
pub struct PowerResult {
    /// σ estimate ‖A v‖₂ for the final unit vector v (always ≤ σ₁ up to
    /// rounding, since ‖Av‖ ≤ σ₁‖v‖).
    pub sigma: f64,
    /// The final unit vector v (length `ncols`), an approximate right
    /// singular vector.
    pub right: Vec<f64>,
    /// Number of products with AᵀA performed (each is one `apply` and one
    /// `apply_transpose`).
    pub steps: usize,
}

/// Power iteration on AᵀA: v₀ uniform on the unit sphere (from
/// [`Rng::unit_vector`] with `seed`), v_{j+1} = AᵀA v_j/‖AᵀA v_j‖, and
/// σ ≈ ‖A v_j‖. Runs exactly `steps` products (see
/// [`power_iteration_with_tolerance`] for early stopping).
///
/// Convergence is linear with ratio (σ₂/σ₁)² per step, so it can be slow
/// when σ₁ ≈ σ₂; prefer [`crate::estimate::lanczos::golub_kahan`].
///
/// ```
/// use lipcert::{DenseMatrix, estimate::power::power_iteration};
/// let w = DenseMatrix::from_row_major(2, 2, &[3.0, 0.0, 0.0, 1.0]).unwrap();
/// let r = power_iteration(&w, 50, 1);
/// assert!((r.sigma - 3.0).abs() < 1e-12);
/// ```
pub fn power_iteration<A: LinearOperator + ?Sized>(op: &A, steps: usize, seed: u64) -> PowerResult {
    power_iteration_with_tolerance(op, steps, 0.0, seed)
}

/// [`power_iteration`] with a stopping rule: stop after at most `max_steps`
/// products with AᵀA, or as soon as the σ estimate changes by at most
/// `tol·σ` between two consecutive steps (`tol = 0` never stops early).
///
/// Note that a small change per step does not imply a small error: with
/// ratio r = (σ₂/σ₁)² close to 1 the remaining error can be about
/// change/(1 − r). The estimate is reported, never certified.
///
/// For the zero operator (or a start vector in its null space) it returns
/// σ = 0 with the start vector.
pub fn power_iteration_with_tolerance<A: LinearOperator + ?Sized>(
    op: &A,
    max_steps: usize,
    tol: f64,
    seed: u64,
) -> PowerResult {
    let (m, n) = (op.nrows(), op.ncols());
    let mut rng = Rng::new(seed);
    let mut v = rng.unit_vector(n);
    let mut av = vec![0.0; m];
    let mut w = vec![0.0; n];
    op.apply(&v, &mut av);
    let mut sigma = norm(&av);
    let mut steps = 0;
    while steps < max_steps && sigma > 0.0 {
        op.apply_transpose(&av, &mut w);
        let wn = norm(&w);
        if !(wn > 0.0 && wn.is_finite()) {
            break;
        }
        let previous_v = v.clone();
        v.iter_mut().zip(&w).for_each(|(vi, wi)| *vi = wi / wn);
        op.apply(&v, &mut av);
        let new_sigma = norm(&av);
        steps += 1;
        if !new_sigma.is_finite() {
            v = previous_v;
            break;
        }
        let change = (new_sigma - sigma).abs();
        sigma = new_sigma;
        if change <= tol * sigma {
            break;
        }
    }
    PowerResult {
        sigma,
        right: v,
        steps,
    }
}

/// Euclidean norm with scaling so that it neither overflows nor underflows
/// for finite inputs (an estimate; not rounded in any direction).
pub(crate) fn norm(x: &[f64]) -> f64 {
    let scale = x.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    if scale == 0.0 || !scale.is_finite() {
        return scale;
    }
    let s: f64 = x.iter().map(|v| (v / scale) * (v / scale)).sum();
    scale * s.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::DenseMatrix;

    #[test]
    fn finds_dominant_diagonal_entry_and_stops_early_with_tolerance() {
        let w = DenseMatrix::from_row_major(3, 3, &[1.0, 0.0, 0.0, 0.0, -5.0, 0.0, 0.0, 0.0, 2.0])
            .unwrap();
        let r = power_iteration_with_tolerance(&w, 1000, 1e-14, 9);
        assert!((r.sigma - 5.0).abs() < 1e-12, "{}", r.sigma);
        assert!(r.steps < 1000);
        assert!(r.right[1].abs() > 1.0 - 1e-10);
    }

    #[test]
    fn zero_operator_gives_zero() {
        let w = DenseMatrix::from_row_major(2, 3, &[0.0; 6]).unwrap();
        let r = power_iteration(&w, 10, 0);
        assert_eq!(r.sigma, 0.0);
        assert_eq!(r.right.len(), 3);
    }

    #[test]
    fn norm_survives_extreme_magnitudes() {
        assert_eq!(norm(&[3e300, 4e300]), 5e300);
        assert!((norm(&[3e-310, 4e-310]) - 5e-310).abs() <= 1e-323);
        assert_eq!(norm(&[]), 0.0);
    }
}
