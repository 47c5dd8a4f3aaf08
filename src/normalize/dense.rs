//! W ↦ W/σ̂ with a rigorous enclosure of σ of the *stored* (rounded) result.

use crate::enclosure::Enclosure;
use crate::error::{Error, Result};
use crate::matrix::DenseMatrix;
use crate::rounding::sub_up;
use crate::sigma::{sigma, SigmaOptions};

/// Divides `w` by its σ estimate and certifies the spectral norm of the
/// stored quotient.
///
/// Returns the normalized matrix W̃ = fl(W/σ̂) and a rigorous enclosure of
/// σ(W̃) (the exact spectral norm of the stored floats, not of W/σ(W)): it
/// contains 1 up to the rounding of the division (each entry has relative
/// error ≤ u, so σ(W̃) ∈ σ(W)/σ̂·[1 − u√r, 1 + u√r]-ish) and the accuracy of σ̂;
/// [`deviation_from_one`] gives the certified distance from 1. A zero matrix
/// cannot be normalized and is an error.
///
/// ```
/// use lipcert::{DenseMatrix, normalize::{spectral_normalize, deviation_from_one}};
/// let w = DenseMatrix::from_row_major(2, 2, &[3.0, 1.0, -1.0, 2.0]).unwrap();
/// let (wn, e) = spectral_normalize(&w).unwrap();
/// assert!(e.lower() <= 1.0 + 1e-9 && e.upper() >= 1.0 - 1e-9);
/// assert!(deviation_from_one(&e) < 1e-8);
/// assert_eq!(wn.nrows(), 2);
/// ```
pub fn spectral_normalize(w: &DenseMatrix) -> Result<(DenseMatrix, Enclosure)> {
    let options = SigmaOptions::default();
    let e = sigma(w, &options)?;
    if e.upper() == 0.0 {
        return Err(Error::InvalidOption(
            "cannot spectrally normalize a zero matrix (sigma = 0)".into(),
        ));
    }
    let s = e.estimate();
    let normalized = DenseMatrix::from_fn(w.nrows(), w.ncols(), |i, j| w.get(i, j) / s)?;
    let enc = sigma(&normalized, &options)?;
    Ok((normalized, enc))
}

/// Certified max(|σ − 1|) over σ in the enclosure: max(upper − 1, 1 − lower),
/// rounded upward (0 when the enclosure is [1, 1]).
pub fn deviation_from_one(e: &Enclosure) -> f64 {
    sub_up(e.upper(), 1.0).max(sub_up(1.0, e.lower())).max(0.0)
}
