//! Exact checks of the Lipschitz inequality of a linear layer at given
//! points, for property tests that must not be fooled by rounding.
//!
//! All inputs are finite floats, hence dyadic rationals; W(x − y), the norms'
//! squares and the bound's square are computed as exact integers times
//! powers of two, and the two sides are compared as integers. Comparing
//! squares is equivalent to comparing the norms because both sides are
//! nonnegative (t ↦ t² is increasing on [0, ∞)).

use super::dyadic::{decompose, shl, DyadicVec};
use crate::error::{Error, Result};
use crate::matrix::DenseMatrix;
use num_bigint::BigInt;
use num_traits::Zero;
use std::cmp::Ordering;

fn check_vector(what: &'static str, v: &[f64], n: usize) -> Result<()> {
    if v.len() != n {
        return Err(Error::ShapeMismatch {
            what,
            expected: n,
            got: v.len(),
        });
    }
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(Error::InvalidOption(format!(
            "{what}: entry {i} is {} (the exact check needs finite values)",
            v[i]
        )));
    }
    Ok(())
}

fn check_bound(bound: f64) -> Result<()> {
    if !(bound.is_finite() && bound >= 0.0) {
        return Err(Error::InvalidOption(format!(
            "the Lipschitz bound must be finite and ≥ 0, got {bound}"
        )));
    }
    Ok(())
}

/// Compares ‖W·(d·2^e_d)‖² with bound²·‖d·2^e_d‖² exactly, where `d` holds
/// integers; returns the ordering of the left side against the right side.
fn compare_image_norm(w: &DenseMatrix, d: &[BigInt], bound: f64) -> Ordering {
    let (rows, cols) = (w.nrows(), w.ncols());
    // W = Z·2^q, converting one row at a time.
    let parts: Vec<(i64, i64)> = w.to_row_major().into_iter().map(decompose).collect();
    let q = super::dyadic::common_exponent(parts.iter().copied());
    let mut image_sq = BigInt::zero();
    for i in 0..rows {
        let mut dot = BigInt::zero();
        for (j, dj) in d.iter().enumerate().take(cols) {
            let (m, e) = parts[i * cols + j];
            if m != 0 && !dj.is_zero() {
                dot += super::dyadic::scaled_int(m, e, q) * dj;
            }
        }
        image_sq += &dot * &dot;
    }
    let d_sq: BigInt = d.iter().map(|x| x * x).sum();
    // ‖W·D·2^e‖² = image_sq·4^(q+e), bound²·‖D·2^e‖² = b²·4^(f+e)·d_sq:
    // compare image_sq·4^q with b²·d_sq·4^f.
    let (b, f) = decompose(bound);
    let right = BigInt::from(b) * BigInt::from(b) * d_sq;
    let t = q - f;
    if t >= 0 {
        shl(&image_sq, 2 * t).cmp(&right)
    } else {
        image_sq.cmp(&shl(&right, -2 * t))
    }
}

/// Decides exactly whether ‖Wx − Wy‖₂ ≤ `bound`·‖x − y‖₂.
///
/// x − y, W(x − y) and both squared norms are formed in exact integer
/// arithmetic over a common power of two (no rounding), and
/// ‖W(x−y)‖² ≤ bound²‖x−y‖² is compared as integers; squaring preserves the
/// order of nonnegative numbers. Since σ(W) = max ‖Wd‖/‖d‖, the answer is
/// `true` for every pair exactly when `bound ≥ σ(W)` (Proof:
/// proofs/theories/Lipschitz.v, `lipschitz_affine`). Cost: m·n big-integer
/// multiply-adds, no size guard needed beyond that.
///
/// Errors: [`Error::ShapeMismatch`] when x or y does not have W's column
/// count, [`Error::InvalidOption`] for non-finite entries or a negative,
/// NaN or infinite bound.
///
/// ```
/// use lipcert::DenseMatrix;
/// use lipcert::exact::lipschitz_ratio_at_most;
/// let w = DenseMatrix::from_row_major(1, 2, &[3.0, 4.0]).unwrap(); // σ = 5
/// assert!(lipschitz_ratio_at_most(&w, &[3.0, 4.0], &[0.0, 0.0], 5.0).unwrap());
/// assert!(!lipschitz_ratio_at_most(&w, &[3.0, 4.0], &[0.0, 0.0], 5.0f64.next_down()).unwrap());
/// ```
pub fn lipschitz_ratio_at_most(w: &DenseMatrix, x: &[f64], y: &[f64], bound: f64) -> Result<bool> {
    let n = w.ncols();
    check_vector("x in lipschitz_ratio_at_most", x, n)?;
    check_vector("y in lipschitz_ratio_at_most", y, n)?;
    check_bound(bound)?;
    // x and y over one common exponent, then D = X − Y exactly.
    let both = DyadicVec::from_values(x.iter().chain(y.iter()).copied());
    let d: Vec<BigInt> = (0..n).map(|j| &both.ints[j] - &both.ints[n + j]).collect();
    Ok(compare_image_norm(w, &d, bound) != Ordering::Greater)
}

/// Decides exactly whether ‖Wx‖₂ ≥ `bound`·‖x‖₂ (so, for x ≠ 0, whether x
/// witnesses σ(W) ≥ bound: σ(W) ≥ ‖Wx‖/‖x‖. Proof:
/// proofs/theories/Certificate.v, `vector_lower_bound`).
///
/// Same exact integer arithmetic as [`lipschitz_ratio_at_most`]. For x = 0
/// both sides are 0 and the answer is `true`.
///
/// Errors: [`Error::ShapeMismatch`] when x does not have W's column count,
/// [`Error::InvalidOption`] for non-finite entries or a negative, NaN or
/// infinite bound.
///
/// ```
/// use lipcert::DenseMatrix;
/// use lipcert::exact::ratio_at_least;
/// let w = DenseMatrix::from_row_major(2, 2, &[3.0, 0.0, 0.0, 1.0]).unwrap();
/// assert!(ratio_at_least(&w, &[1.0, 0.0], 3.0).unwrap());
/// assert!(!ratio_at_least(&w, &[1.0, 1e-9], 3.0).unwrap());
/// ```
pub fn ratio_at_least(w: &DenseMatrix, x: &[f64], bound: f64) -> Result<bool> {
    check_vector("x in ratio_at_least", x, w.ncols())?;
    check_bound(bound)?;
    let d = DyadicVec::from_values(x.iter().copied());
    Ok(compare_image_norm(w, &d.ints, bound) != Ordering::Less)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mat(rows: usize, cols: usize, v: &[f64]) -> DenseMatrix {
        DenseMatrix::from_row_major(rows, cols, v).unwrap()
    }

    #[test]
    fn equality_cases_are_decided_exactly() {
        // W = [[3, 4]]: W·(3, 4) = 25, ‖(3, 4)‖ = 5: ratio exactly 5.
        let w = mat(1, 2, &[3.0, 4.0]);
        assert!(lipschitz_ratio_at_most(&w, &[3.5, 4.0], &[0.5, 0.0], 5.0).unwrap());
        assert!(
            !lipschitz_ratio_at_most(&w, &[3.5, 4.0], &[0.5, 0.0], 5.0f64.next_down()).unwrap()
        );
        assert!(ratio_at_least(&w, &[3.0, 4.0], 5.0).unwrap());
        assert!(!ratio_at_least(&w, &[3.0, 4.0], 5.0f64.next_up()).unwrap());
        // Subnormal differences and huge weights.
        let eta = 4.9e-324;
        let w = mat(1, 2, &[3e300, 4e300]);
        assert!(lipschitz_ratio_at_most(&w, &[eta, 0.0], &[0.0, 0.0], 3e300).unwrap());
        assert!(
            !lipschitz_ratio_at_most(&w, &[eta, 0.0], &[0.0, 0.0], 3e300f64.next_down()).unwrap()
        );
        // x = y: 0 ≤ 0.
        assert!(lipschitz_ratio_at_most(&w, &[1.0, 2.0], &[1.0, 2.0], 0.0).unwrap());
        assert!(ratio_at_least(&w, &[0.0, 0.0], 1e300).unwrap());
    }

    #[test]
    fn rejects_bad_inputs() {
        let w = mat(1, 2, &[1.0, 1.0]);
        assert!(matches!(
            lipschitz_ratio_at_most(&w, &[1.0], &[0.0, 0.0], 1.0),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(lipschitz_ratio_at_most(&w, &[1.0, f64::NAN], &[0.0, 0.0], 1.0).is_err());
        assert!(lipschitz_ratio_at_most(&w, &[1.0, 0.0], &[0.0, 0.0], -1.0).is_err());
        assert!(ratio_at_least(&w, &[1.0, 0.0], f64::INFINITY).is_err());
        assert!(ratio_at_least(&w, &[1.0, 0.0, 0.0], 1.0).is_err());
    }
}
