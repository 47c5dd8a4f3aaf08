//! Exact enclosures of σ(W) by bisection over `f64` values with exact
//! comparisons at every step.
//!
//! Every endpoint returned has been checked by
//! [`ExactGram::compare_sigma`]: the lower end ℓ satisfies σ(W) ≥ ℓ
//! (comparison `Greater` or `Equal`), the upper end h satisfies σ(W) ≤ h, so
//! the enclosure is rigorous by the theorem of that comparison (no floating
//! point takes part in any decision; floats only choose where to look).
//!
//! Search: a bracket is grown around an estimate g (faer's SVD, or
//! max|wᵢⱼ|) at g(1 ∓ δ), δ = 2⁻⁵⁰, 2⁻⁴⁶, …; once δ reaches 1 the lower probe
//! becomes max|wᵢⱼ| (σ ≥ |wᵢⱼ| = |eᵢᵀWeⱼ|, so it is always a lower end) and the
//! upper probe doubles (σ ≤ ‖W‖_F ≤ √(mn)·max|wᵢⱼ|, so doubling ends). Then
//! the bracket is bisected on the bit patterns of the floats (for
//! nonnegative floats the order of the bit patterns is the order of the
//! values), which reaches adjacent floats in at most 64 comparisons from any
//! bracket, and about log₂(ulps in the bracket) from a tight one.

use super::gram::ExactGram;
use crate::enclosure::{Enclosure, Guarantee, Method};
use crate::error::{Error, Result};
use crate::matrix::DenseMatrix;
use crate::rounding;
use std::cmp::Ordering;

/// The certificate string of exact enclosures.
const CERTIFICATE: &str =
    "exact: integer Bareiss decision of s²I − WᵀW ⪰ 0 at both ends (Bareiss 1968)";

/// What the search knows so far.
enum Probe {
    /// σ(W) equals this float exactly.
    Exact(f64),
    /// Keep searching.
    Continue,
}

struct Bracket {
    /// σ(W) ≥ lower (verified, or 0 by definition).
    lower: f64,
    /// σ(W) ≤ upper, once verified.
    upper: Option<f64>,
    /// True once some probe proved σ > probe (not only σ ≥ 0).
    lower_verified: bool,
}

impl Bracket {
    fn probe(&mut self, gram: &ExactGram, s: f64) -> Result<Probe> {
        match gram.compare_sigma(s)? {
            Ordering::Equal => return Ok(Probe::Exact(s)),
            Ordering::Greater => {
                if s >= self.lower {
                    self.lower = s;
                }
                self.lower_verified = true;
            }
            Ordering::Less => {
                if self.upper.is_none_or(|u| s < u) {
                    self.upper = Some(s);
                }
            }
        }
        Ok(Probe::Continue)
    }
}

fn exact_enclosure(s: f64) -> Result<Enclosure> {
    Enclosure::new(s, s, s, Guarantee::Rigorous, Method::Exact, CERTIFICATE)
}

fn check_rel_width(rel_width: f64) -> Result<()> {
    if rel_width.is_nan() || rel_width < 0.0 {
        return Err(Error::InvalidOption(format!(
            "relative width must be ≥ 0 (0 = adjacent floats), got {rel_width}"
        )));
    }
    Ok(())
}

impl ExactGram {
    /// A rigorous enclosure of σ(W) with both ends checked exactly, of
    /// relative width ≤ `rel_width` (i.e. upper − lower ≤ rel_width·upper) or
    /// else the tightest `f64` bracket: `lower` and `upper` adjacent floats,
    /// or `lower = upper` when σ(W) is itself a float. `estimate` (e.g. an
    /// SVD's σ) only chooses where to start; a missing, non-finite or wrong
    /// estimate costs time, never correctness. See the [module
    /// documentation](self).
    ///
    /// Errors: [`Error::InvalidOption`] for a negative or NaN `rel_width`;
    /// [`Error::Overflow`] when σ(W) > `f64::MAX`.
    pub fn sigma_enclosure(&self, rel_width: f64, estimate: Option<f64>) -> Result<Enclosure> {
        check_rel_width(rel_width)?;
        if self.is_zero() {
            return Ok(Enclosure::zero(Method::Exact));
        }
        let guess = estimate
            .filter(|e| e.is_finite() && *e > 0.0)
            .unwrap_or(self.max_abs);
        let mut bracket = Bracket {
            lower: 0.0,
            upper: None,
            lower_verified: false,
        };
        let mut delta = rounding::pow2(-50);
        let mut upper_probe = guess;
        while !bracket.lower_verified || bracket.upper.is_none() {
            if !bracket.lower_verified {
                let s = if delta < 1.0 {
                    (guess * (1.0 - delta)).max(self.max_abs)
                } else {
                    self.max_abs
                };
                if let Probe::Exact(s) = bracket.probe(self, s)? {
                    return exact_enclosure(s);
                }
                if delta >= 1.0 && !bracket.lower_verified {
                    return Err(Error::CertificateFailed(format!(
                        "internal error in the exact oracle: σ < max|w_ij| = {:e}",
                        self.max_abs
                    )));
                }
            }
            if bracket.upper.is_none() {
                upper_probe = if delta < 1.0 {
                    guess * (1.0 + delta)
                } else {
                    upper_probe * 2.0
                };
                if !upper_probe.is_finite() {
                    upper_probe = f64::MAX;
                }
                if let Probe::Exact(s) = bracket.probe(self, upper_probe)? {
                    return exact_enclosure(s);
                }
                if bracket.upper.is_none() && upper_probe == f64::MAX {
                    return Err(Error::Overflow {
                        context: "exact oracle: σ(W) exceeds the largest f64".into(),
                    });
                }
            }
            delta *= 16.0;
        }
        let mut lower = bracket.lower;
        let mut upper = bracket.upper.unwrap_or(f64::MAX);
        if lower > upper {
            return Err(Error::CertificateFailed(format!(
                "internal error in the exact oracle: inconsistent bracket [{lower:e}, {upper:e}]"
            )));
        }
        loop {
            let (lo_bits, hi_bits) = (lower.to_bits(), upper.to_bits());
            if hi_bits - lo_bits <= 1
                || rounding::sub_up(upper, lower) <= rounding::mul_down(rel_width, upper)
            {
                break;
            }
            let mid = f64::from_bits(lo_bits + (hi_bits - lo_bits) / 2);
            match self.compare_sigma(mid)? {
                Ordering::Equal => return exact_enclosure(mid),
                Ordering::Greater => lower = mid,
                Ordering::Less => upper = mid,
            }
        }
        Enclosure::new(
            lower,
            upper,
            guess,
            Guarantee::Rigorous,
            Method::Exact,
            CERTIFICATE,
        )
    }
}

/// A rigorous enclosure of σ(W) from exact comparisons only (`Method::Exact`).
///
/// Returns `[lower, upper]` with upper − lower ≤ `rel_width`·upper, or, when
/// `rel_width` is smaller than one ulp allows, the tightest `f64` bracket:
/// adjacent floats, or `[σ, σ]` when σ(W) is exactly a float (for example
/// σ(diag(3, 1)) = 3). The zero matrix gives exactly `[0, 0]`. The search
/// starts from faer's SVD estimate; every endpoint is confirmed by
/// [`compare_sigma`](super::compare_sigma) (theorem: σ(W) ≤ s ⇔
/// s²I − WᵀW ⪰ 0, decided exactly by Bareiss elimination).
/// Proof: proofs/theories/Certificate.v, `psd_iff_norm_bound`.
///
/// Errors: [`Error::InvalidOption`] for a negative or NaN `rel_width` or a
/// matrix beyond the size guard, [`Error::Overflow`] when σ(W) > `f64::MAX`.
///
/// ```
/// use lipcert::DenseMatrix;
/// use lipcert::exact::sigma_enclosure;
/// let w = DenseMatrix::from_row_major(2, 2, &[3.0, 0.0, 0.0, 1.0]).unwrap();
/// let e = sigma_enclosure(&w, 0.0).unwrap();
/// assert_eq!((e.lower(), e.upper()), (3.0, 3.0));
/// // σ([[1, 2], [3, 4]]) ≈ 5.4649857 is not a float: adjacent floats.
/// let w = DenseMatrix::from_row_major(2, 2, &[1.0, 2.0, 3.0, 4.0]).unwrap();
/// let e = sigma_enclosure(&w, 0.0).unwrap();
/// assert_eq!(e.lower().next_up(), e.upper());
/// ```
pub fn sigma_enclosure(w: &DenseMatrix, rel_width: f64) -> Result<Enclosure> {
    check_rel_width(rel_width)?;
    let gram = ExactGram::new(w)?;
    if gram.is_zero() {
        return Ok(Enclosure::zero(Method::Exact));
    }
    let estimate = crate::estimate::svd::faer_top(w).ok().map(|t| t.sigma);
    gram.sigma_enclosure(rel_width, estimate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mat(rows: usize, cols: usize, v: &[f64]) -> DenseMatrix {
        DenseMatrix::from_row_major(rows, cols, v).unwrap()
    }

    #[test]
    fn exact_float_values_give_point_enclosures() {
        for (w, s) in [
            (mat(2, 2, &[3.0, 0.0, 0.0, 1.0]), 3.0),
            (mat(2, 2, &[1.0; 4]), 2.0),
            (mat(1, 2, &[3.0, 4.0]), 5.0),
            (mat(2, 1, &[-3.0, 4.0]), 5.0),
        ] {
            let e = sigma_enclosure(&w, 0.0).unwrap();
            assert_eq!((e.lower(), e.upper()), (s, s));
            assert_eq!(e.method(), Method::Exact);
            assert_eq!(e.guarantee(), Guarantee::Rigorous);
        }
        let z = sigma_enclosure(&mat(2, 2, &[0.0; 4]), 0.0).unwrap();
        assert_eq!((z.lower(), z.upper()), (0.0, 0.0));
    }

    #[test]
    fn bad_estimates_only_cost_time() {
        let w = mat(2, 2, &[1.0, 2.0, 3.0, 4.0]);
        let g = ExactGram::new(&w).unwrap();
        let reference = g.sigma_enclosure(0.0, None).unwrap();
        for est in [1e-300, 0.5, 5.0, 1e10, 1e300, f64::NAN, -3.0, f64::INFINITY] {
            let e = g.sigma_enclosure(0.0, Some(est)).unwrap();
            assert_eq!(
                (e.lower(), e.upper()),
                (reference.lower(), reference.upper()),
                "{est}"
            );
        }
        assert_eq!(reference.lower().next_up(), reference.upper());
    }

    #[test]
    fn width_option() {
        let w = mat(2, 2, &[1.0, 2.0, 3.0, 4.0]);
        let e = sigma_enclosure(&w, 0.01).unwrap();
        assert!(e.upper() - e.lower() <= 0.01 * e.upper());
        // σ² = 15 + √221 (closed form of a 2×2), σ ≈ 5.464985704219043.
        assert!(e.lower() <= 5.464985704219044 && 5.464985704219042 <= e.upper());
        assert!(sigma_enclosure(&w, -1.0).is_err());
        assert!(sigma_enclosure(&w, f64::NAN).is_err());
        let loose = sigma_enclosure(&w, f64::INFINITY).unwrap();
        assert!(loose.lower() <= 5.464985704219044 && 5.464985704219042 <= loose.upper());
    }

    #[test]
    fn overflowing_sigma_is_an_error() {
        let w = mat(2, 2, &[f64::MAX; 4]);
        assert!(matches!(
            sigma_enclosure(&w, 0.0),
            Err(Error::Overflow { .. })
        ));
        // σ = MAX exactly for [[MAX, 0]].
        let w = mat(1, 2, &[f64::MAX, 0.0]);
        let e = sigma_enclosure(&w, 0.0).unwrap();
        assert_eq!((e.lower(), e.upper()), (f64::MAX, f64::MAX));
    }
}
