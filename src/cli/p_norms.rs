//! ℓ1 and ℓ∞ operator norms with outward rounding.
//!
//! Temporary home: `lipcert::certify::p_norms` is being written on another
//! branch; when it lands, `lipcert norms` switches to it and this file goes.

use crate::enclosure::{Enclosure, Guarantee, Method};
use crate::error::Result;
use crate::matrix::DenseMatrix;
use crate::rounding::{add_down, add_up};

/// Certified `[lower, upper]` of a sum of nonnegative terms: each partial
/// sum is rounded to nearest and stepped one ulp down (up), which bounds the
/// exact partial sum from below (above) by induction, because
/// `fl(a + b)` is within half an ulp of `a + b` (IEEE-754 round to nearest).
fn abs_sum_bounds(terms: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for t in terms {
        let a = t.abs();
        lo = add_down(lo, a).max(0.0);
        hi = add_up(hi, a);
    }
    (lo, hi)
}

/// ‖W‖₁ = max_j Σ_i |w_ij| (the largest absolute column sum), as a rigorous
/// enclosure. Theorem: the ℓ1 → ℓ1 operator norm of a matrix is its largest
/// absolute column sum (Horn & Johnson, *Matrix Analysis*, 2nd ed., 5.6.4);
/// a formal proof is planned as `l1_norm_max_col` in Norms.v. Rounding: see
/// the partial-sum argument above; the max of bounds bounds the max.
pub fn l1_norm(w: &DenseMatrix) -> Result<Enclosure> {
    let mut lower = 0.0f64;
    let mut upper = 0.0f64;
    for j in 0..w.ncols() {
        let (lo, hi) = abs_sum_bounds((0..w.nrows()).map(|i| w.get(i, j)));
        lower = lower.max(lo);
        upper = upper.max(hi);
    }
    Enclosure::new(
        lower,
        upper,
        lower,
        Guarantee::Rigorous,
        Method::Exact,
        "max absolute column sum, rounded outward",
    )
}

/// ‖W‖∞ = max_i Σ_j |w_ij| (the largest absolute row sum), as a rigorous
/// enclosure. Theorem: Horn & Johnson, *Matrix Analysis*, 2nd ed., 5.6.5;
/// a formal proof is planned as `linf_norm_max_row` in Norms.v.
pub fn linf_norm(w: &DenseMatrix) -> Result<Enclosure> {
    let mut lower = 0.0f64;
    let mut upper = 0.0f64;
    for i in 0..w.nrows() {
        let (lo, hi) = abs_sum_bounds((0..w.ncols()).map(|j| w.get(i, j)));
        lower = lower.max(lo);
        upper = upper.max(hi);
    }
    Enclosure::new(
        lower,
        upper,
        lower,
        Guarantee::Rigorous,
        Method::Exact,
        "max absolute row sum, rounded outward",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_integer_matrix_is_exact_and_enclosed() {
        // Column sums 4, 6; row sums 3, 7 — exact in f64.
        let w = DenseMatrix::from_row_major(2, 2, &[1.0, -2.0, 3.0, 4.0]).unwrap();
        let l1 = l1_norm(&w).unwrap();
        let li = linf_norm(&w).unwrap();
        assert!(l1.contains(6.0) && l1.upper() < 6.0 + 1e-14 && l1.lower() > 6.0 - 1e-14);
        assert!(li.contains(7.0) && li.upper() < 7.0 + 1e-14);
    }

    #[test]
    fn sum_of_tenths_is_enclosed_exactly_in_rationals() {
        // 0.1 is not dyadic; the exact sum of ten stored 0.1's is
        // 10 * 0.1000000000000000055511151231257827 = 1.000000000000000055511151231257827.
        let w = DenseMatrix::from_row_major(10, 1, &[0.1; 10]).unwrap();
        let e = l1_norm(&w).unwrap();
        assert!(e.lower() <= 1.0 && e.upper() > 1.0, "{e}");
    }
}
