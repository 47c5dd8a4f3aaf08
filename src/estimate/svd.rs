//! Dense SVD estimates: faer (fast path) and nalgebra (independent second
//! implementation for differential tests).

use crate::error::{Error, Result};
use crate::matrix::DenseMatrix;

/// The largest singular value of a matrix and a matching right singular
/// vector, as computed (no guarantee).
#[derive(Debug, Clone)]
pub struct TopSingular {
    /// Estimate of σ₁.
    pub sigma: f64,
    /// Approximate unit right singular vector v₁ (length ncols).
    pub right: Vec<f64>,
}

/// σ₁ and v₁ from faer's thin SVD.
pub fn faer_top(w: &DenseMatrix) -> Result<TopSingular> {
    let svd = w
        .as_faer()
        .thin_svd()
        .map_err(|e| Error::EstimatorFailed(format!("faer SVD: {e:?}")))?;
    let s = svd.S().column_vector();
    let mut best = 0;
    for k in 0..s.nrows() {
        if s[k] > s[best] {
            best = k;
        }
    }
    let v = svd.V();
    Ok(TopSingular {
        sigma: s[best],
        right: (0..v.nrows()).map(|i| v[(i, best)]).collect(),
    })
}

/// All singular values from faer, non-increasing.
pub fn faer_singular_values(w: &DenseMatrix) -> Result<Vec<f64>> {
    let mut s = w
        .as_faer()
        .singular_values()
        .map_err(|e| Error::EstimatorFailed(format!("faer singular values: {e:?}")))?;
    s.sort_by(|a, b| b.total_cmp(a));
    Ok(s)
}

/// σ₁ and v₁ from nalgebra's SVD (independent implementation).
pub fn nalgebra_top(w: &DenseMatrix) -> Result<TopSingular> {
    let svd = w.to_nalgebra().svd(false, true);
    let vt = svd
        .v_t
        .as_ref()
        .ok_or_else(|| Error::EstimatorFailed("nalgebra SVD returned no V".into()))?;
    let s = &svd.singular_values;
    let mut best = 0;
    for k in 0..s.len() {
        if s[k] > s[best] {
            best = k;
        }
    }
    Ok(TopSingular {
        sigma: s[best],
        right: (0..vt.ncols()).map(|j| vt[(best, j)]).collect(),
    })
}
