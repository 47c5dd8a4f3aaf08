//! Rigorous lower bound σ(A) ≥ ‖Av‖/‖v‖ from any vector v.

use crate::operator::LinearOperator;
use crate::rounding;

/// Returns a number ℓ ≥ 0 with ℓ ≤ ‖A v‖₂/‖v‖₂ ≤ σ(A), for any operator A
/// and any vector v (ℓ = 0 when v = 0 or the bound is swamped by rounding).
///
/// # Theorem
/// σ(A) = max_{x≠0} ‖Ax‖/‖x‖ ≥ ‖Av‖/‖v‖ (proof: proofs/theories/Certificate.v,
/// `vector_lower_bound`). With y = fl(Av) computed by
/// [`LinearOperator::apply`], ‖Av‖ ≥ ‖y‖ − ‖y − Av‖, and
/// [`LinearOperator::apply_error_bound`] bounds the last term. ‖y‖ is rounded
/// down and ‖v‖ up with the a-priori sum-of-squares bounds of
/// [`rounding::norm2_down`]/[`rounding::norm2_up`], and the quotient downward.
///
/// # Panics
/// If `v.len() != op.ncols()` (a programming error, like slice indexing).
///
/// # Floating-point assumptions
/// Those of the operator's `apply_error_bound`; otherwise only IEEE binary64
/// round-to-nearest.
///
/// ```
/// use lipcert::{DenseMatrix, certify::vector_lower::lower_bound_from_vector};
/// let w = DenseMatrix::from_row_major(2, 2, &[3.0, 0.0, 0.0, 1.0]).unwrap();
/// let l = lower_bound_from_vector(&w, &[1.0, 0.0]);
/// assert!(l <= 3.0 && l > 3.0 * (1.0 - 1e-14));
/// ```
pub fn lower_bound_from_vector<A: LinearOperator + ?Sized>(op: &A, v: &[f64]) -> f64 {
    assert_eq!(v.len(), op.ncols(), "vector length must equal ncols");
    let v_up = rounding::norm2_up(v);
    if v_up == 0.0 || !v_up.is_finite() {
        return 0.0;
    }
    let mut y = vec![0.0; op.nrows()];
    op.apply(v, &mut y);
    let y_down = rounding::norm2_down(&y);
    let err = op.apply_error_bound(v_up);
    let num = rounding::sub_down(y_down, err);
    if num.is_nan() || num <= 0.0 || !num.is_finite() {
        return 0.0;
    }
    rounding::div_down(num, v_up).max(0.0)
}
