//! The convolution kernel: a finite C_out × (C_in/groups) × kh × kw tensor of
//! exact stored values (f32 widened exactly to f64).

use super::geometry::Conv2dGeometry;
use crate::error::{Error, Result};
use crate::matrix::{DenseMatrix, SourceDtype};
use crate::rounding;

/// A validated convolution kernel in PyTorch layout
/// `weight[o][c][a][b]` (row-major C_out × C_in/groups × kh × kw).
///
/// Input semantics: every stored binary32/binary64 weight is an exact dyadic
/// rational; widening f32 → f64 is exact, so certified bounds are about the
/// very numbers in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Kernel {
    c_out: usize,
    c_in_per_group: usize,
    kh: usize,
    kw: usize,
    values: Vec<f64>,
    dtype: SourceDtype,
}

impl Kernel {
    /// Builds a kernel from row-major f64 data of shape
    /// `[c_out, c_in_per_group, kh, kw]`; `values` is a slice (copied) or a
    /// `Vec` (moved), like [`crate::DenseMatrix::from_row_major`]'s slice.
    ///
    /// Errors: [`Error::Empty`] for a zero dimension, [`Error::ShapeMismatch`]
    /// for a wrong data length, [`Error::NonFinite`] for NaN/±Inf (reported
    /// with row = output channel and column = flat index within it).
    ///
    /// ```
    /// use lipcert::conv::Kernel;
    /// let k = Kernel::from_f64(1, 1, 1, 2, vec![1.0, -1.0]).unwrap();
    /// assert_eq!(k.shape(), (1, 1, 1, 2));
    /// assert!(Kernel::from_f64(1, 1, 1, 2, vec![1.0, f64::NAN]).is_err());
    /// let from_slice = Kernel::from_f64(1, 1, 1, 2, &[1.0, -1.0][..]).unwrap();
    /// assert_eq!(from_slice, k);
    /// ```
    pub fn from_f64(
        c_out: usize,
        c_in_per_group: usize,
        kh: usize,
        kw: usize,
        values: impl Into<Vec<f64>>,
    ) -> Result<Self> {
        Self::build(
            c_out,
            c_in_per_group,
            kh,
            kw,
            values.into(),
            SourceDtype::F64,
        )
    }

    /// Builds a kernel from f32 data, widened exactly.
    pub fn from_f32(
        c_out: usize,
        c_in_per_group: usize,
        kh: usize,
        kw: usize,
        values: &[f32],
    ) -> Result<Self> {
        let v = values.iter().map(|&x| f64::from(x)).collect();
        Self::build(c_out, c_in_per_group, kh, kw, v, SourceDtype::F32)
    }

    /// Builds a kernel from values already widened exactly from `dtype`.
    pub fn from_widened(
        c_out: usize,
        c_in_per_group: usize,
        kh: usize,
        kw: usize,
        values: Vec<f64>,
        dtype: SourceDtype,
    ) -> Result<Self> {
        Self::build(c_out, c_in_per_group, kh, kw, values, dtype)
    }

    fn build(
        c_out: usize,
        c_in_per_group: usize,
        kh: usize,
        kw: usize,
        values: Vec<f64>,
        dtype: SourceDtype,
    ) -> Result<Self> {
        if c_out == 0 || c_in_per_group == 0 || kh == 0 || kw == 0 {
            return Err(Error::Empty {
                rows: c_out,
                cols: c_in_per_group * kh * kw,
            });
        }
        let expected = [c_in_per_group, kh, kw]
            .iter()
            .try_fold(c_out, |a, &b| a.checked_mul(b))
            .ok_or(Error::ShapeMismatch {
                what: "kernel size overflows usize",
                expected: usize::MAX,
                got: values.len(),
            })?;
        if values.len() != expected {
            return Err(Error::ShapeMismatch {
                what: "kernel data length (C_out·C_in/groups·kh·kw)",
                expected,
                got: values.len(),
            });
        }
        let per_row = expected / c_out;
        let mut first = None;
        let mut count = 0;
        for (k, &v) in values.iter().enumerate() {
            if !v.is_finite() {
                count += 1;
                if first.is_none() {
                    first = Some((k / per_row, k % per_row, v));
                }
            }
        }
        if let Some((row, col, value)) = first {
            return Err(Error::NonFinite {
                count,
                row,
                col,
                value,
            });
        }
        Ok(Self {
            c_out,
            c_in_per_group,
            kh,
            kw,
            values,
            dtype,
        })
    }

    /// Shape `(c_out, c_in_per_group, kh, kw)`.
    pub fn shape(&self) -> (usize, usize, usize, usize) {
        (self.c_out, self.c_in_per_group, self.kh, self.kw)
    }

    /// Entry `weight[o][c][a][b]`.
    pub fn get(&self, o: usize, c: usize, a: usize, b: usize) -> f64 {
        self.values[((o * self.c_in_per_group + c) * self.kh + a) * self.kw + b]
    }

    /// All values, row-major.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The element type the values were read from.
    pub fn dtype(&self) -> SourceDtype {
        self.dtype
    }

    /// Largest absolute entry (exact).
    pub fn max_abs(&self) -> f64 {
        // Eight running maxima (the values are finite, so `>` is a total
        // order and the loop vectorizes).
        let mut lanes = [0.0f64; 8];
        let chunks = self.values.chunks_exact(8);
        let rest = chunks.remainder();
        for chunk in chunks {
            for (m, v) in lanes.iter_mut().zip(chunk) {
                let a = v.abs();
                *m = if a > *m { a } else { *m };
            }
        }
        rest.iter()
            .chain(&lanes)
            .fold(0.0f64, |m, v| if v.abs() > m { v.abs() } else { m })
    }

    /// Upper bound on the Frobenius norm ‖K‖_F (= ‖R‖_F of the reshaped
    /// kernel), rounding accounted for ([`rounding::sum_of_squares_up`]).
    pub fn frobenius_up(&self) -> f64 {
        let s = rounding::sum_of_squares(&self.values);
        rounding::sqrt_up(rounding::sum_of_squares_up(s, self.values.len()))
    }

    /// The reshaped kernel R = weight.reshape(C_out, C_in/groups·kh·kw), the
    /// matrix PyTorch/TF `spectral_norm` normalizes (columns ordered (c, a, b)).
    pub fn reshaped(&self) -> Result<DenseMatrix> {
        let cols = self.c_in_per_group * self.kh * self.kw;
        DenseMatrix::from_row_major_widened(self.c_out, cols, &self.values, self.dtype)
    }

    /// The kernel multiplied by 2^k when that is exact for every entry (no
    /// overflow, no bits lost to underflow; proof:
    /// proofs/theories/FloatRounding.v, `scale_pow2_exact`), else `None`.
    pub fn scaled_pow2_exact(&self, k: i32) -> Option<Kernel> {
        let values: Vec<f64> = if let Some(pair) = rounding::pow2_pair(k) {
            // Checked once at the end, so the loop vectorizes.
            let mut exact = true;
            let values = self
                .values
                .iter()
                .map(|&v| {
                    let (s, ok) = rounding::scaled_exactly(v, pair);
                    exact &= ok;
                    s
                })
                .collect();
            exact.then_some(values)?
        } else {
            let mut values = Vec::with_capacity(self.values.len());
            for &v in &self.values {
                let s = rounding::scale_pow2(v, k);
                if !s.is_finite() || rounding::scale_pow2(s, -k) != v {
                    return None;
                }
                values.push(s);
            }
            values
        };
        Some(Kernel {
            c_out: self.c_out,
            c_in_per_group: self.c_in_per_group,
            kh: self.kh,
            kw: self.kw,
            values,
            dtype: self.dtype,
        })
    }

    /// Checks that the kernel's shape is the one `geometry` requires
    /// (C_out, C_in/groups, kh, kw), with a message naming both shapes.
    pub fn check_matches(&self, geometry: &Conv2dGeometry) -> Result<()> {
        geometry.validate()?;
        let want = (
            geometry.c_out,
            geometry.c_in_per_group(),
            geometry.kh,
            geometry.kw,
        );
        if self.shape() != want {
            return Err(Error::InvalidOption(format!(
                "kernel shape {:?} does not match the geometry, which needs (C_out, C_in/groups, kh, kw) = {:?}",
                self.shape(),
                want
            )));
        }
        Ok(())
    }
}
