//! Exact comparison of σ(W) with a given number, and the interval test every
//! other test of lipcert uses as its oracle.
//!
//! For s ≥ 0: σ(W) ≤ s ⇔ s²I − WᵀW ⪰ 0, and σ(W) < s ⇔ s²I − WᵀW ≻ 0,
//! because the eigenvalues of s²I − WᵀW are s² − σᵢ² and σ(W)² is the largest
//! eigenvalue of WᵀW (Horn & Johnson, *Matrix Analysis*, 2nd ed., §7.3; the
//! smaller Gram WWᵀ may be used instead, see [`ExactGram`]).
//! Proof: proofs/theories/Certificate.v, `psd_iff_norm_bound`.
//!
//! With s = a·2^f (a an odd integer) and W = Z·2^q,
//! s²I − Gram(W) = 2^(2q) · (a²·4^(f−q)·I − G), and multiplying by the
//! positive number 4^(q−f) when f < q keeps the sign pattern: the integer
//! matrix M = a²·4^(f−q)·I − G (f ≥ q) or M = a²·I − 4^(q−f)·G (f < q) is a
//! positive multiple of s²I − Gram(W). Its definiteness, decided exactly by
//! [`definiteness`](fn@super::definiteness), gives the comparison:
//! positive definite ⇒ σ < s; positive semidefinite and singular ⇒ σ = s
//! (s² is then an eigenvalue of the Gram matrix and none is larger);
//! not positive semidefinite ⇒ σ > s.
//!
//! Shortcut: if s² > tr(Gram) = ‖W‖_F² ≥ σ², then σ < s without any
//! elimination (Proof: proofs/theories/Norms.v, `spectral_le_frobenius`).

use super::definiteness::{definiteness_in_place, Definiteness};
use super::dyadic::{decompose, shl};
use super::gram::ExactGram;
use crate::error::{Error, Result};
use crate::matrix::DenseMatrix;
use num_bigint::BigInt;
use num_traits::Zero;
use std::cmp::Ordering;

impl ExactGram {
    /// Exact comparison of σ(W) with `s`: `Less` when σ(W) < s, `Equal` when
    /// σ(W) = s, `Greater` when σ(W) > s (see the [module
    /// documentation](self) for the theorem).
    ///
    /// Errors: [`Error::InvalidOption`] when `s` is negative, NaN or infinite.
    pub fn compare_sigma(&self, s: f64) -> Result<Ordering> {
        if !(s.is_finite() && s >= 0.0) {
            return Err(Error::InvalidOption(format!(
                "compare_sigma needs a finite s ≥ 0, got {s}"
            )));
        }
        if self.is_zero() {
            return Ok(if s == 0.0 {
                Ordering::Equal
            } else {
                Ordering::Less
            });
        }
        if s == 0.0 {
            return Ok(Ordering::Greater);
        }
        // σ ≥ max|wᵢⱼ|: an exact float comparison, no elimination needed.
        if s < self.max_abs {
            return Ok(Ordering::Greater);
        }
        let (a, f) = decompose(s);
        let a2 = BigInt::from(a) * BigInt::from(a);
        let d = f - self.exponent;
        // scale_diag·I − scale_gram·G, both factors powers of two times a².
        let (diag, gram_shift) = if d >= 0 {
            (shl(&a2, 2 * d), 0)
        } else {
            (a2, -2 * d)
        };
        // Frobenius shortcut: s² > tr(Gram) ⇒ σ < s.
        if diag > shl(&self.trace, gram_shift) {
            return Ok(Ordering::Less);
        }
        let k = self.dim();
        let mut m: Vec<Vec<BigInt>> = Vec::with_capacity(k);
        for (i, row) in self.gram.iter().enumerate() {
            let mut out = vec![BigInt::zero(); k];
            for j in i..k {
                out[j] = -shl(&row[j], gram_shift);
            }
            out[i] += &diag;
            m.push(out);
        }
        Ok(match definiteness_in_place(&mut m)? {
            Definiteness::PositiveDefinite => Ordering::Less,
            Definiteness::PositiveSemidefiniteSingular => Ordering::Equal,
            Definiteness::Indefinite => Ordering::Greater,
        })
    }

    /// Exactly decides `lower ≤ σ(W) ≤ upper`.
    ///
    /// Any non-NaN bounds are accepted: a bound ≤ 0 below or +∞ above is no
    /// constraint, `lower > upper` gives `false`. Errors:
    /// [`Error::InvalidOption`] when a bound is NaN.
    pub fn contains_sigma(&self, lower: f64, upper: f64) -> Result<bool> {
        if lower.is_nan() || upper.is_nan() {
            return Err(Error::InvalidOption(format!(
                "contains_sigma needs bounds that are not NaN, got [{lower}, {upper}]"
            )));
        }
        if lower > upper || upper < 0.0 || lower == f64::INFINITY {
            return Ok(false);
        }
        let lower_ok = lower <= 0.0 || self.compare_sigma(lower)? != Ordering::Less;
        if !lower_ok {
            return Ok(false);
        }
        Ok(upper == f64::INFINITY || self.compare_sigma(upper)? != Ordering::Greater)
    }
}

/// Exact comparison of σ(W), the largest singular value of the stored
/// matrix, with a finite `s ≥ 0`: `Less` iff σ(W) < s, `Equal` iff σ(W) = s,
/// `Greater` iff σ(W) > s.
///
/// Theorem: σ(W) < s ⇔ s²I − WᵀW ≻ 0 and σ(W) ≤ s ⇔ s²I − WᵀW ⪰ 0; both
/// sides are scaled by a power of two to an integer matrix whose
/// definiteness is decided exactly by fraction-free elimination (Bareiss
/// 1968). No floating-point operation takes part in the decision.
/// Proof: proofs/theories/Certificate.v, `psd_iff_norm_bound`.
///
/// Errors: [`Error::InvalidOption`] when `s` is negative, NaN or infinite,
/// or when W exceeds the size guard (min(m, n) >
/// [`MAX_EXACT_DIM`](super::MAX_EXACT_DIM) or too much work).
///
/// ```
/// use lipcert::DenseMatrix;
/// use lipcert::exact::compare_sigma;
/// use std::cmp::Ordering;
/// let w = DenseMatrix::from_row_major(1, 2, &[3.0, 4.0]).unwrap(); // σ = 5
/// assert_eq!(compare_sigma(&w, 5.0).unwrap(), Ordering::Equal);
/// assert_eq!(compare_sigma(&w, 5.0f64.next_down()).unwrap(), Ordering::Greater);
/// assert_eq!(compare_sigma(&w, 5.0f64.next_up()).unwrap(), Ordering::Less);
/// ```
pub fn compare_sigma(w: &DenseMatrix, s: f64) -> Result<Ordering> {
    if !(s.is_finite() && s >= 0.0) {
        return Err(Error::InvalidOption(format!(
            "compare_sigma needs a finite s ≥ 0, got {s}"
        )));
    }
    ExactGram::new(w)?.compare_sigma(s)
}

/// Exactly decides whether `lower ≤ σ(W) ≤ upper`: the oracle the other
/// tests of lipcert hold their enclosures against.
///
/// Each side is one exact comparison (see [`compare_sigma`]). A bound ≤ 0
/// below or +∞ above is no constraint; `lower > upper` gives `false`.
/// Errors: [`Error::InvalidOption`] for NaN bounds or a matrix beyond the
/// size guard.
///
/// ```
/// use lipcert::DenseMatrix;
/// use lipcert::exact::contains_sigma;
/// let w = DenseMatrix::from_row_major(2, 2, &[3.0, 0.0, 0.0, 1.0]).unwrap(); // σ = 3
/// assert!(contains_sigma(&w, 3.0, 3.0).unwrap());
/// assert!(contains_sigma(&w, 2.5, 3.5).unwrap());
/// assert!(!contains_sigma(&w, 3.0f64.next_up(), 4.0).unwrap());
/// ```
pub fn contains_sigma(w: &DenseMatrix, lower: f64, upper: f64) -> Result<bool> {
    if lower.is_nan() || upper.is_nan() {
        return Err(Error::InvalidOption(format!(
            "contains_sigma needs bounds that are not NaN, got [{lower}, {upper}]"
        )));
    }
    ExactGram::new(w)?.contains_sigma(lower, upper)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    fn mat(rows: usize, cols: usize, v: &[f64]) -> DenseMatrix {
        DenseMatrix::from_row_major(rows, cols, v).unwrap()
    }

    #[test]
    fn known_values() {
        let d = mat(2, 2, &[3.0, 0.0, 0.0, 1.0]);
        assert_eq!(compare_sigma(&d, 3.0).unwrap(), Equal);
        assert_eq!(compare_sigma(&d, 2.0).unwrap(), Greater);
        assert_eq!(compare_sigma(&d, 1.0).unwrap(), Greater);
        assert_eq!(compare_sigma(&d, 3.0f64.next_up()).unwrap(), Less);
        assert_eq!(compare_sigma(&d, 3.0f64.next_down()).unwrap(), Greater);
        let ones = mat(2, 2, &[1.0; 4]);
        assert_eq!(compare_sigma(&ones, 2.0).unwrap(), Equal);
        assert_eq!(compare_sigma(&ones, 0.0).unwrap(), Greater);
    }

    #[test]
    fn zero_matrix() {
        let z = mat(2, 3, &[0.0; 6]);
        assert_eq!(compare_sigma(&z, 0.0).unwrap(), Equal);
        assert_eq!(compare_sigma(&z, 4.9e-324).unwrap(), Less);
        assert!(contains_sigma(&z, 0.0, 0.0).unwrap());
        assert!(!contains_sigma(&z, 4.9e-324, 1.0).unwrap());
    }

    #[test]
    fn rejects_bad_s() {
        let d = mat(1, 1, &[1.0]);
        for s in [-1.0, f64::NAN, f64::INFINITY, -4.9e-324] {
            assert!(
                matches!(compare_sigma(&d, s), Err(Error::InvalidOption(_))),
                "{s}"
            );
        }
        assert_eq!(compare_sigma(&d, -0.0).unwrap(), Greater);
        assert!(contains_sigma(&d, f64::NAN, 1.0).is_err());
        assert!(contains_sigma(&d, 0.0, f64::NAN).is_err());
    }

    #[test]
    fn contains_edge_cases() {
        let d = mat(1, 1, &[-2.0]);
        assert!(contains_sigma(&d, -1.0, f64::INFINITY).unwrap());
        assert!(contains_sigma(&d, f64::NEG_INFINITY, 2.0).unwrap());
        assert!(!contains_sigma(&d, 3.0, 2.5).unwrap());
        assert!(!contains_sigma(&d, f64::INFINITY, f64::INFINITY).unwrap());
        assert!(!contains_sigma(&d, -3.0, -1.0).unwrap());
        assert!(!contains_sigma(&d, 0.0, 2.0f64.next_down()).unwrap());
        assert!(!contains_sigma(&d, 2.0f64.next_up(), 5.0).unwrap());
    }

    #[test]
    fn tiny_and_huge_scales() {
        // σ(2^-1074·[[3, 4]]) = 5·2^-1074 exactly, a subnormal.
        let eta = 4.9e-324;
        let w = mat(1, 2, &[3.0 * eta, 4.0 * eta]);
        assert_eq!(compare_sigma(&w, 5.0 * eta).unwrap(), Equal);
        assert_eq!(compare_sigma(&w, 6.0 * eta).unwrap(), Less);
        assert_eq!(compare_sigma(&w, 4.0 * eta).unwrap(), Greater);
        // s far below / above the scale of W.
        let big = mat(1, 2, &[3e300, 4e300]);
        assert_eq!(compare_sigma(&big, eta).unwrap(), Greater);
        assert_eq!(compare_sigma(&big, 4e300).unwrap(), Greater);
        assert_eq!(compare_sigma(&big, 6e300).unwrap(), Less);
        // 3·2^1000 and 4·2^1000 are exact: σ = 5·2^1000.
        let p = 2f64.powi(1000);
        let exact_big = mat(1, 2, &[3.0 * p, 4.0 * p]);
        assert_eq!(compare_sigma(&exact_big, 5.0 * p).unwrap(), Equal);
        assert_eq!(compare_sigma(&w, f64::MAX).unwrap(), Less);
        assert_eq!(compare_sigma(&big, f64::MAX).unwrap(), Less);
        // Mixed: [[1e300, 0], [0, 1e-300]]: σ = 1e300.
        let mixed = mat(2, 2, &[1e300, 0.0, 0.0, 1e-300]);
        assert_eq!(compare_sigma(&mixed, 1e300).unwrap(), Equal);
        assert_eq!(compare_sigma(&mixed, 1e-300).unwrap(), Greater);
    }
}
