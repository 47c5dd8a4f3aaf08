//! The ℓ1 → ℓ1 and ℓ∞ → ℓ∞ operator norms (Gouk et al.'s "other p-norms"),
//! enclosed rigorously, and the classical bound σ₁ ≤ √(‖W‖₁‖W‖∞).

use crate::error::{Error, Result};
use crate::matrix::DenseMatrix;
use crate::rounding;

/// A rigorous enclosure `lower ≤ value ≤ upper` of an ℓp operator norm.
///
/// This is a plain pair rather than an [`crate::Enclosure`]: an `Enclosure`
/// is the answer for the spectral norm and carries a [`crate::Method`]; these
/// norms are exact formulas, not a method of computing σ, so they get their
/// own small type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PNormEnclosure {
    /// Lower bound (sums rounded downward).
    pub lower: f64,
    /// Upper bound (sums rounded upward).
    pub upper: f64,
}

impl PNormEnclosure {
    /// The same bounds as an [`crate::Enclosure`] (rigorous; reported with
    /// [`crate::Method::Exact`], since the norm is a closed formula evaluated
    /// with outward rounding).
    pub fn to_enclosure(&self, certificate: &'static str) -> crate::Result<crate::Enclosure> {
        crate::Enclosure::new(
            self.lower,
            self.upper,
            self.lower,
            crate::Guarantee::Rigorous,
            crate::Method::Exact,
            certificate,
        )
    }

    /// True when `x` lies in `[lower, upper]`.
    pub fn contains(&self, x: f64) -> bool {
        self.lower <= x && x <= self.upper
    }
}

/// ‖W‖₁ = max_{x≠0} ‖Wx‖₁/‖x‖₁ = maxⱼ Σᵢ |wᵢⱼ| (largest absolute column sum),
/// enclosed by summing each column left to right with every partial sum
/// rounded upward (upper) and downward (lower); |wᵢⱼ| is exact. A partial
/// sum that is exact (TwoSum error 0, Knuth, TAOCP vol. 2, §4.2.2) is kept as
/// is, so sums that are representable come out as a point enclosure.
///
/// Theorem: the ℓ1 operator norm equals the largest absolute column sum
/// (Horn & Johnson, *Matrix Analysis*, 2nd ed., Example 5.6.4).
/// Proof: proofs/theories/Norms.v, `l1_norm_max_col`.
/// Rounding: each partial sum is rounded outward with `next_up`/`next_down`;
/// the maximum of enclosures encloses the maximum.
/// Proof: proofs/theories/FloatRounding.v, `next_up_rn_upper`
/// Proof: proofs/theories/FloatRounding.v, `next_down_rn_lower`
///
/// # Errors
/// [`Error::CertificateFailed`] when only the upper sum overflows (the norm
/// may fit in f64), [`Error::Overflow`] when the lower sum does too.
///
/// ```
/// use lipcert::{DenseMatrix, certify::p_norms::l1_norm};
/// let w = DenseMatrix::from_row_major(2, 2, &[1.0, -2.0, 3.0, 4.0]).unwrap();
/// let e = l1_norm(&w).unwrap();
/// assert!(e.contains(6.0) && e.upper - e.lower < 1e-14);
/// ```
pub fn l1_norm(w: &DenseMatrix) -> Result<PNormEnclosure> {
    let (m, n) = (w.nrows(), w.ncols());
    max_sum(
        n,
        m,
        |j, i| w.get(i, j),
        "largest absolute column sum (l1 norm)",
    )
}

/// ‖W‖∞ = max_{x≠0} ‖Wx‖∞/‖x‖∞ = maxᵢ Σⱼ |wᵢⱼ| (largest absolute row sum),
/// enclosed like [`l1_norm`].
///
/// Theorem: Horn & Johnson, Example 5.6.5.
/// Proof: proofs/theories/Norms.v, `linf_norm_max_row`.
///
/// # Errors
/// [`Error::CertificateFailed`] when only the upper sum overflows (the norm
/// may fit in f64), [`Error::Overflow`] when the lower sum does too.
///
/// ```
/// use lipcert::{DenseMatrix, certify::p_norms::linf_norm};
/// let w = DenseMatrix::from_row_major(2, 2, &[1.0, -2.0, 3.0, 4.0]).unwrap();
/// assert!(linf_norm(&w).unwrap().contains(7.0));
/// ```
pub fn linf_norm(w: &DenseMatrix) -> Result<PNormEnclosure> {
    let (m, n) = (w.nrows(), w.ncols());
    max_sum(
        m,
        n,
        |i, j| w.get(i, j),
        "largest absolute row sum (linf norm)",
    )
}

/// Upper bound σ₁(W) ≤ √(‖W‖₁‖W‖∞), rounded upward (computed as
/// √‖W‖₁·√‖W‖∞ so the product cannot overflow when the bound itself fits).
///
/// Theorem: ‖W‖₂² = ρ(WᵀW) ≤ ‖WᵀW‖₁ ≤ ‖Wᵀ‖₁‖W‖₁ = ‖W‖∞‖W‖₁ (Golub &
/// Van Loan, *Matrix Computations*, 4th ed., Cor. 2.3.2).
/// Proof: proofs/theories/Norms.v, `spectral_le_sqrt_l1_linf`
///
/// # Errors
/// [`Error::Overflow`] when a sum or the bound exceeds the f64 range.
///
/// ```
/// use lipcert::{DenseMatrix, certify::p_norms::sqrt_l1_linf_upper};
/// let w = DenseMatrix::from_row_major(1, 2, &[3.0, 4.0]).unwrap();
/// let u = sqrt_l1_linf_upper(&w).unwrap(); // √(4·7) ≥ σ = 5
/// assert!(u >= 5.0 && u < 5.3);
/// ```
pub fn sqrt_l1_linf_upper(w: &DenseMatrix) -> Result<f64> {
    let a = l1_norm(w)?.upper;
    let b = linf_norm(w)?.upper;
    let u = rounding::mul_up(rounding::sqrt_up(a), rounding::sqrt_up(b));
    if u.is_finite() {
        Ok(u)
    } else {
        Err(Error::Overflow {
            context: "sqrt(l1 norm · linf norm)".into(),
        })
    }
}

/// max over `outer` of Σ over `inner` of |entry(outer, inner)|, enclosed.
fn max_sum(
    outer: usize,
    inner: usize,
    entry: impl Fn(usize, usize) -> f64,
    what: &str,
) -> Result<PNormEnclosure> {
    let mut lower = 0.0f64;
    let mut upper = 0.0f64;
    for o in 0..outer {
        let (mut lo, mut hi) = (0.0f64, 0.0f64);
        for i in 0..inner {
            let a = entry(o, i).abs();
            lo = sum_down(lo, a);
            hi = sum_up(hi, a);
        }
        lower = lower.max(lo);
        upper = upper.max(hi);
    }
    if !upper.is_finite() {
        // A lower sum below f64::MAX did not overflow: the norm may fit in
        // f64, only its certified upper bound does not.
        if lower < f64::MAX {
            return Err(Error::CertificateFailed(format!(
                "{what} ≥ {lower:e} may fit in f64, but no certified upper bound does: the upper sum overflows"
            )));
        }
        return Err(Error::Overflow {
            context: what.to_string(),
        });
    }
    Ok(PNormEnclosure { lower, upper })
}

/// The exact error t = (a + b) − fl(a + b) of a rounded-to-nearest sum
/// (Knuth's TwoSum; exact for finite a, b when fl(a + b) does not overflow).
fn two_sum_error(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    let t = (a - (s - bb)) + (b - bb);
    (s, t)
}

/// Upper bound on a + b: fl(a + b) when it is exact (TwoSum error 0),
/// otherwise its upper neighbour. Tighter than [`rounding::add_up`] and
/// exact for exactly representable sums.
fn sum_up(a: f64, b: f64) -> f64 {
    let (s, t) = two_sum_error(a, b);
    if !s.is_finite() {
        return f64::INFINITY;
    }
    if t > 0.0 {
        s.next_up()
    } else {
        s
    }
}

/// Lower bound on a + b (see [`sum_up`]), for nonnegative a, b.
fn sum_down(a: f64, b: f64) -> f64 {
    let (s, t) = two_sum_error(a, b);
    if !s.is_finite() {
        return f64::MAX;
    }
    if t < 0.0 {
        s.next_down()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_sums_are_enclosed_tightly() {
        let w = DenseMatrix::from_row_major(2, 3, &[0.5, -0.25, 1.0, -2.0, 0.0, 0.125]).unwrap();
        let l1 = l1_norm(&w).unwrap();
        let li = linf_norm(&w).unwrap();
        assert!(l1.contains(2.5) && li.contains(2.125));
        // These sums are exact in binary64, so the enclosure is a point.
        assert_eq!((l1.lower, l1.upper), (2.5, 2.5));
        let w = DenseMatrix::from_row_major(1, 2, &[0.1, 0.2]).unwrap();
        let e = linf_norm(&w).unwrap();
        assert!(e.lower < e.upper && e.lower == (0.1f64 + 0.2).next_down().min(0.1 + 0.2));
    }

    #[test]
    fn overflow_is_an_error() {
        let w = DenseMatrix::from_row_major(2, 1, &[f64::MAX, f64::MAX]).unwrap();
        assert!(l1_norm(&w).is_err());
        assert!(linf_norm(&w).is_ok());
        assert!(sqrt_l1_linf_upper(&w).is_err());
    }
}
