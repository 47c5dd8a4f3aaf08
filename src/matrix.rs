//! A validated dense weight matrix: finite `f64` entries (f32 widened exactly),
//! at least one row and one column.
//!
//! Input semantics: each stored weight is an exact rational number (every
//! binary32 and binary64 value is a dyadic rational). Widening f32 → f64 is
//! exact, so the guarantees lipcert gives for a [`DenseMatrix`] are about the
//! very numbers in the file.

use crate::error::{Error, Result};
use crate::rounding;
use faer::{Mat, MatRef};

/// Element type a matrix was read from; recorded so reports can say what was
/// certified. The values are always held as `f64` (exact widening).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceDtype {
    /// IEEE binary64.
    F64,
    /// IEEE binary32, widened exactly.
    F32,
    /// IEEE binary16, widened exactly.
    F16,
    /// bfloat16, widened exactly.
    BF16,
}

impl SourceDtype {
    /// Lower-case name as used by numpy/safetensors reports (`"f64"`, …).
    pub fn name(self) -> &'static str {
        match self {
            SourceDtype::F64 => "f64",
            SourceDtype::F32 => "f32",
            SourceDtype::F16 => "f16",
            SourceDtype::BF16 => "bf16",
        }
    }
}

/// A finite, non-empty dense matrix of `f64` values.
#[derive(Debug, Clone)]
pub struct DenseMatrix {
    values: Mat<f64>,
    dtype: SourceDtype,
}

impl DenseMatrix {
    /// Builds a matrix from row-major `f64` data.
    ///
    /// Errors: [`Error::Empty`] for a zero dimension, [`Error::ShapeMismatch`]
    /// when `data.len() != rows * cols`, [`Error::NonFinite`] for NaN/±Inf
    /// entries (with the count and the first position).
    ///
    /// ```
    /// use lipcert::DenseMatrix;
    /// let w = DenseMatrix::from_row_major(2, 2, &[3.0, 0.0, 0.0, 4.0]).unwrap();
    /// assert_eq!((w.nrows(), w.ncols()), (2, 2));
    /// assert!(DenseMatrix::from_row_major(1, 2, &[1.0, f64::NAN]).is_err());
    /// ```
    pub fn from_row_major(rows: usize, cols: usize, data: &[f64]) -> Result<Self> {
        Self::from_row_major_slice(rows, cols, data, |&x| x, SourceDtype::F64)
    }

    /// Builds a matrix from row-major `f32` data, widened exactly to `f64`.
    pub fn from_row_major_f32(rows: usize, cols: usize, data: &[f32]) -> Result<Self> {
        Self::from_row_major_slice(rows, cols, data, |&x| f64::from(x), SourceDtype::F32)
    }

    /// Builds a matrix from row-major values that were widened exactly from
    /// `dtype` (used by readers of f16/bf16 files).
    pub fn from_row_major_widened(
        rows: usize,
        cols: usize,
        data: &[f64],
        dtype: SourceDtype,
    ) -> Result<Self> {
        Self::from_row_major_slice(rows, cols, data, |&x| x, dtype)
    }

    /// Copies row-major `data` into the column-major storage tile by tile
    /// (a plain element-by-element scatter writes with a stride of `rows`
    /// values and misses the cache on every write for large matrices).
    fn from_row_major_slice<T>(
        rows: usize,
        cols: usize,
        data: &[T],
        widen: impl Fn(&T) -> f64,
        dtype: SourceDtype,
    ) -> Result<Self> {
        let len = data.len();
        if rows == 0 || cols == 0 {
            return Err(Error::Empty { rows, cols });
        }
        let expected = rows.checked_mul(cols).ok_or(Error::ShapeMismatch {
            what: "rows*cols overflows usize",
            expected: usize::MAX,
            got: len,
        })?;
        if len != expected {
            return Err(Error::ShapeMismatch {
                what: "row-major data length",
                expected,
                got: len,
            });
        }
        const TILE: usize = 32;
        let mut values = Mat::<f64>::zeros(rows, cols);
        for i0 in (0..rows).step_by(TILE) {
            let i1 = (i0 + TILE).min(rows);
            for j in 0..cols {
                let col = crate::columns::column_mut(values.as_mut().col_mut(j));
                for (i, x) in (i0..i1).zip(&mut col[i0..i1]) {
                    *x = widen(&data[i * cols + j]);
                }
            }
        }
        Self::from_faer_with_dtype(values, dtype)
    }

    /// Builds a matrix from entries `f(i, j)`.
    pub fn from_fn(rows: usize, cols: usize, f: impl FnMut(usize, usize) -> f64) -> Result<Self> {
        if rows == 0 || cols == 0 {
            return Err(Error::Empty { rows, cols });
        }
        Self::from_faer(Mat::from_fn(rows, cols, f))
    }

    /// Wraps a faer matrix after validating it.
    pub fn from_faer(values: Mat<f64>) -> Result<Self> {
        Self::from_faer_with_dtype(values, SourceDtype::F64)
    }

    /// Wraps a matrix whose entries the caller has checked to be finite
    /// (and which has at least one row and one column).
    pub(crate) fn from_finite_faer(values: Mat<f64>, dtype: SourceDtype) -> Self {
        debug_assert!(values.nrows() > 0 && values.ncols() > 0);
        Self { values, dtype }
    }

    fn from_faer_with_dtype(values: Mat<f64>, dtype: SourceDtype) -> Result<Self> {
        let (rows, cols) = (values.nrows(), values.ncols());
        if rows == 0 || cols == 0 {
            return Err(Error::Empty { rows, cols });
        }
        if let Some((count, row, col, value)) = first_non_finite(&values, false) {
            return Err(Error::NonFinite {
                count,
                row,
                col,
                value,
            });
        }
        Ok(Self { values, dtype })
    }

    /// Number of rows m.
    pub fn nrows(&self) -> usize {
        self.values.nrows()
    }

    /// Number of columns n.
    pub fn ncols(&self) -> usize {
        self.values.ncols()
    }

    /// Entry (i, j).
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.values[(i, j)]
    }

    /// The element type the values were read from.
    pub fn dtype(&self) -> SourceDtype {
        self.dtype
    }

    /// Borrowed faer view of the values.
    pub fn as_faer(&self) -> MatRef<'_, f64> {
        self.values.as_ref()
    }

    /// The values copied into an nalgebra matrix (for the independent second
    /// implementation).
    pub fn to_nalgebra(&self) -> nalgebra::DMatrix<f64> {
        nalgebra::DMatrix::from_fn(self.nrows(), self.ncols(), |i, j| self.get(i, j))
    }

    /// Row-major copy of the values.
    pub fn to_row_major(&self) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.nrows() * self.ncols());
        for i in 0..self.nrows() {
            for j in 0..self.ncols() {
                out.push(self.get(i, j));
            }
        }
        out
    }

    /// The transpose Wᵀ (σ(Wᵀ) = σ(W)).
    pub fn transpose(&self) -> DenseMatrix {
        DenseMatrix {
            values: transposed(self.values.as_ref(), |v| v),
            dtype: self.dtype,
        }
    }

    /// Largest absolute entry max|wᵢⱼ| (exact).
    pub fn max_abs(&self) -> f64 {
        (0..self.ncols())
            .map(|j| {
                crate::columns::column(self.values.as_ref().col(j))
                    .iter()
                    .fold(0.0f64, |m, v| m.max(v.abs()))
            })
            .fold(0.0f64, f64::max)
    }

    /// True when every entry is zero (then σ = 0 exactly).
    pub fn is_zero(&self) -> bool {
        self.max_abs() == 0.0
    }

    /// Upper bound on the Frobenius norm ‖W‖_F, rounding accounted for
    /// (see [`rounding::sum_of_squares_up`]). Overflows to +∞ only if
    /// ‖W‖_F itself is near the f64 limit; call on a scaled matrix.
    pub fn frobenius_up(&self) -> f64 {
        // Per-column interleaved sums, then their sum: one of the "any order"
        // evaluations that `sum_of_squares_up` covers.
        let s: f64 = (0..self.ncols())
            .map(|j| rounding::sum_of_squares(crate::columns::column(self.values.as_ref().col(j))))
            .sum();
        rounding::sqrt_up(rounding::sum_of_squares_up(s, self.nrows() * self.ncols()))
    }

    /// The matrix multiplied by 2^k, entry by entry, together with an upper
    /// bound on the spectral norm of what that scaling lost.
    ///
    /// Multiplying by a power of two is exact unless a result overflows or
    /// lands in the subnormal range (proof: proofs/theories/FloatRounding.v,
    /// `scale_pow2_exact`; the underflow loss: proofs/theories/FloatRounding.v, `scale_pow2_error`).
    /// Overflow is refused. Bits lost to underflow are at
    /// most η/2 per entry, so ‖2^k W − S‖₂ ≤ ‖·‖_F ≤ √(mn)·η/2; the returned
    /// `lost` is that bound (0 when every entry round-trips exactly), in the
    /// units of the scaled matrix.
    pub fn scaled_pow2(&self, k: i32) -> Result<ScaledMatrix> {
        self.scaled_copy(k, false)
    }

    /// 2^k·W (or 2^k·Wᵀ when `transpose`) in one pass, with the loss bound
    /// of [`DenseMatrix::scaled_pow2`].
    fn scaled_copy(&self, k: i32, transpose: bool) -> Result<ScaledMatrix> {
        let mut inexact = 0usize;
        let mut overflow = false;
        let pair = rounding::pow2_pair(k);
        let mut scale = |v: f64| match pair {
            // One multiplication, exact unless it overflows or underflows
            // (`scaled_exactly`); the general path otherwise.
            Some(pair) => {
                let (s, exact) = rounding::scaled_exactly(v, pair);
                if !exact {
                    if !s.is_finite() {
                        overflow = true;
                    } else {
                        inexact += 1;
                    }
                }
                s
            }
            None => {
                let s = rounding::scale_pow2(v, k);
                if !s.is_finite() {
                    overflow = true;
                } else if rounding::scale_pow2(s, -k) != v {
                    inexact += 1;
                }
                s
            }
        };
        let values = if transpose {
            transposed(self.values.as_ref(), &mut scale)
        } else {
            let mut out = Mat::<f64>::zeros(self.nrows(), self.ncols());
            for j in 0..self.ncols() {
                let src = crate::columns::column(self.values.as_ref().col(j));
                let dst = crate::columns::column_mut(out.as_mut().col_mut(j));
                for (d, &v) in dst.iter_mut().zip(src) {
                    *d = scale(v);
                }
            }
            out
        };
        if overflow {
            return Err(Error::Overflow {
                context: format!("scaling the matrix by 2^{k}"),
            });
        }
        let lost = lost_bound(inexact);
        Ok(ScaledMatrix {
            matrix: DenseMatrix {
                values,
                dtype: self.dtype,
            },
            exponent: k,
            lost,
        })
    }

    /// The oriented and scaled matrix every σ path starts from: Wᵀ when W has
    /// fewer rows than columns (σ(Wᵀ) = σ(W)), so the result has at least as
    /// many rows as columns, scaled as [`DenseMatrix::normalized_scale`] does
    /// — both in one pass over the values.
    pub fn oriented_normalized_scale(&self) -> Result<ScaledMatrix> {
        self.scaled_copy(self.normalizing_exponent(), self.nrows() < self.ncols())
    }

    /// k with 2^k·max|w| ∈ [1, 2) (0 for a zero matrix).
    fn normalizing_exponent(&self) -> i32 {
        let m = self.max_abs();
        if m == 0.0 {
            0
        } else {
            -rounding::exponent_of(m)
        }
    }

    /// [`DenseMatrix::oriented_normalized_scale`] of a matrix that is no
    /// longer needed: when no transpose is needed (at least as many rows as
    /// columns) the entries are scaled in place, saving a copy of the matrix
    /// (time and peak memory); the result is the same.
    pub fn into_oriented_normalized_scale(mut self) -> Result<ScaledMatrix> {
        if self.nrows() < self.ncols() {
            return self.oriented_normalized_scale();
        }
        let k = self.normalizing_exponent();
        let Some(pair) = rounding::pow2_pair(k) else {
            return self.scaled_copy(k, false);
        };
        // One branch-free pass per column (see `rounding::scaled_exactly`);
        // `max_abs` ∈ [2^-k, 2^(1-k)) so the scaled values are ≤ 2 and
        // cannot overflow.
        let mut inexact = 0usize;
        for j in 0..self.ncols() {
            let col = crate::columns::column_mut(self.values.as_mut().col_mut(j));
            for v in col.iter_mut() {
                let (s, exact) = rounding::scaled_exactly(*v, pair);
                inexact += usize::from(!exact);
                *v = s;
            }
        }
        Ok(ScaledMatrix {
            lost: lost_bound(inexact),
            matrix: self,
            exponent: k,
        })
    }

    /// Scales the matrix by a power of two so that its largest entry lies in
    /// [1, 2): then WᵀW cannot overflow for any realistic size (entries ≤ 4·m)
    /// and underflow only affects entries 2⁻⁹⁰⁰ times smaller than the largest,
    /// whose effect the certificates bound with η-terms. See
    /// [`DenseMatrix::scaled_pow2`].
    ///
    /// A zero matrix is returned unscaled.
    pub fn normalized_scale(&self) -> Result<ScaledMatrix> {
        let m = self.max_abs();
        if m == 0.0 {
            return self.scaled_pow2(0);
        }
        self.scaled_pow2(-rounding::exponent_of(m))
    }
}

/// `None` when every entry of `values` is finite; otherwise how many are
/// not, and the first (row, column, value) in row-major order of W, where
/// `values` holds W, or Wᵀ when `transposed`. A fast column-major scan
/// first; the row-major search runs only when there is an offending entry.
pub(crate) fn first_non_finite(
    values: &Mat<f64>,
    transposed: bool,
) -> Option<(usize, usize, usize, f64)> {
    let all_finite = (0..values.ncols()).all(|j| {
        crate::columns::column(values.as_ref().col(j))
            .iter()
            .fold(true, |ok, v| ok & v.is_finite())
    });
    if all_finite {
        return None;
    }
    let (rows, cols) = if transposed {
        (values.ncols(), values.nrows())
    } else {
        (values.nrows(), values.ncols())
    };
    let mut count = 0usize;
    let mut first = None;
    for i in 0..rows {
        for j in 0..cols {
            let v = if transposed {
                values[(j, i)]
            } else {
                values[(i, j)]
            };
            if !v.is_finite() {
                count += 1;
                first.get_or_insert((i, j, v));
            }
        }
    }
    first.map(|(i, j, v)| (count, i, j, v))
}

/// ‖2^k W − S‖₂ ≤ ‖·‖_F ≤ √(inexact)·η for `inexact` entries that lost bits
/// to underflow, each by at most η/2 < η (see [`DenseMatrix::scaled_pow2`]).
fn lost_bound(inexact: usize) -> f64 {
    if inexact == 0 {
        0.0
    } else {
        rounding::mul_up(rounding::sqrt_up(inexact as f64), rounding::ETA)
    }
}

/// f(aᵀ) entry by entry, TILE source columns at a time: each is read
/// sequentially (as a slice) while row j of the band goes to a contiguous
/// piece of output column j, so reads and writes both stream.
fn transposed(a: MatRef<'_, f64>, mut f: impl FnMut(f64) -> f64) -> Mat<f64> {
    const TILE: usize = 32;
    let (m, n) = (a.nrows(), a.ncols());
    let mut out = Mat::<f64>::zeros(n, m);
    for i0 in (0..n).step_by(TILE) {
        let i1 = (i0 + TILE).min(n);
        let band: Vec<&[f64]> = (i0..i1).map(|i| crate::columns::column(a.col(i))).collect();
        for j in 0..m {
            let dst = crate::columns::column_mut(out.as_mut().col_mut(j));
            for (x, src) in dst[i0..i1].iter_mut().zip(&band) {
                *x = f(src[j]);
            }
        }
    }
    out
}

/// A matrix S = 2^k·W (up to `lost`), used internally by the certificates.
#[derive(Debug, Clone)]
pub struct ScaledMatrix {
    /// The scaled values S.
    pub matrix: DenseMatrix,
    /// The exponent k with S ≈ 2^k W.
    pub exponent: i32,
    /// Upper bound on ‖2^k W − S‖₂ (0 when the scaling was exact).
    pub lost: f64,
}

impl ScaledMatrix {
    /// Converts a lower bound `l ≤ σ(S)` into a lower bound on σ(W):
    /// σ(W) = 2^−k σ(2^k W) ≥ 2^−k (σ(S) − lost) (Weyl's inequality; proof:
    /// proofs/theories/Norms.v, `weyl_upper`).
    pub fn lower_to_original(&self, l: f64) -> f64 {
        let l = if self.lost == 0.0 {
            l
        } else {
            rounding::sub_down(l, self.lost).max(0.0)
        };
        // Scaling back by 2^-k is exact unless it underflows; step down one ulp
        // in case it did.
        let r = rounding::scale_pow2(l, -self.exponent);
        if rounding::scale_pow2(r, self.exponent) == l {
            r
        } else {
            r.next_down().max(0.0)
        }
    }

    /// Converts an upper bound `u ≥ σ(S)` into an upper bound on σ(W), or
    /// [`Error::Overflow`] when it does not fit in f64.
    pub fn upper_to_original(&self, u: f64) -> Result<f64> {
        let u = if self.lost == 0.0 {
            u
        } else {
            rounding::add_up(u, self.lost)
        };
        let r = rounding::scale_pow2(u, -self.exponent);
        let r = if rounding::scale_pow2(r, self.exponent) == u {
            r
        } else {
            r.next_up()
        };
        if r.is_finite() {
            Ok(r)
        } else {
            Err(Error::Overflow {
                context: format!(
                    "upper bound {u:e} · 2^{} on the spectral norm",
                    -self.exponent
                ),
            })
        }
    }

    /// Converts an estimate of σ(S) to the original units (no guarantee).
    pub fn estimate_to_original(&self, e: f64) -> f64 {
        rounding::scale_pow2(e, -self.exponent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_empty_and_non_finite() {
        assert_eq!(
            DenseMatrix::from_row_major(0, 3, &[]).unwrap_err(),
            Error::Empty { rows: 0, cols: 3 }
        );
        let e =
            DenseMatrix::from_row_major(2, 2, &[1.0, f64::INFINITY, f64::NAN, 0.0]).unwrap_err();
        match e {
            Error::NonFinite {
                count, row, col, ..
            } => {
                assert_eq!((count, row, col), (2, 0, 1));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            DenseMatrix::from_row_major(2, 2, &[1.0; 3]).unwrap_err(),
            Error::ShapeMismatch { .. }
        ));
    }

    #[test]
    fn f32_widening_is_exact() {
        let x = 0.1f32;
        let w = DenseMatrix::from_row_major_f32(1, 1, &[x]).unwrap();
        assert_eq!(w.get(0, 0) as f32, x);
        assert_eq!(w.get(0, 0), f64::from(x));
        assert_eq!(w.dtype(), SourceDtype::F32);
    }

    #[test]
    fn scaling_by_powers_of_two_is_exact_in_range() {
        let w = DenseMatrix::from_row_major(1, 3, &[1e300, 3.5, -1e-300]).unwrap();
        let s = w.normalized_scale().unwrap();
        assert!(s.matrix.max_abs() >= 1.0 && s.matrix.max_abs() < 2.0);
        // 1e-300 · 2^-996 underflows: the loss is reported, not hidden.
        assert!(s.lost > 0.0);
        let w = DenseMatrix::from_row_major(1, 2, &[3.0, 0.25]).unwrap();
        let s = w.normalized_scale().unwrap();
        assert_eq!(s.lost, 0.0);
        assert_eq!(s.matrix.get(0, 0), 1.5);
        assert_eq!(s.upper_to_original(1.5).unwrap(), 3.0);
        assert_eq!(s.lower_to_original(1.5), 3.0);
    }
}
