//! A 2-D tensor decoded straight into the column-major storage of W or of
//! Wᵀ — whichever has at least as many rows as columns, the orientation
//! every σ path works on — in one pass with no intermediate copy, for the
//! commands that need only σ(W) = σ(Wᵀ).
//!
//! A row-major (C-order) W is, byte for byte, the column-major storage of
//! Wᵀ; a Fortran-order `.npy` holds W column-major. When that stored
//! orientation is already tall, each stored line is decoded into one column
//! (no transpose); otherwise bands of lines are decoded and scattered into
//! rows. The widening is exact (see [`super::elements`]), so the matrix
//! holds the stored numbers.

use super::elements::{decode_into, element_size};
use super::error::Problem;
use super::tensor::rank_hint;
use super::{Format, InputError, WeightFile};
use crate::matrix::{first_non_finite, DenseMatrix};
use faer::Mat;

/// A stored weight matrix, oriented to have at least as many rows as columns.
#[derive(Debug, Clone)]
pub struct StoredMatrix {
    /// W (when `transposed` is false) or Wᵀ.
    pub matrix: DenseMatrix,
    /// Whether `matrix` holds Wᵀ (σ is the same either way).
    pub transposed: bool,
}

impl WeightFile {
    /// Reads the 2-D tensor `name` (`None` for `.npy`) as a [`StoredMatrix`]
    /// (W or Wᵀ, whichever is tall): one decoding pass into the final
    /// storage, then one finiteness scan.
    ///
    /// Errors name the file and tensor: unknown name, unsupported dtype, a
    /// rank other than 2, an empty shape, truncated data, NaN/Inf (with the
    /// count and the first index in the tensor's own row-major order).
    ///
    /// ```
    /// use lipcert::io::{safetensors, WeightFile};
    /// use lipcert::SourceDtype;
    /// let bytes = safetensors::encode(&[("w", SourceDtype::F32, vec![2, 3], vec![1., 2., 3., 4., 5., 6.])]).unwrap();
    /// let file = WeightFile::from_bytes("w.safetensors".as_ref(), bytes).unwrap();
    /// let stored = file.read_stored_matrix(Some("w")).unwrap();
    /// // Row-major W (2×3) is the column-major storage of the tall Wᵀ.
    /// assert!(stored.transposed);
    /// assert_eq!((stored.matrix.nrows(), stored.matrix.ncols()), (3, 2));
    /// assert_eq!(stored.matrix.get(2, 0), 3.0);
    /// ```
    pub fn read_stored_matrix(&self, name: Option<&str>) -> Result<StoredMatrix, InputError> {
        let fail = |p: Problem| self.error(name, p);
        let (shape, dtype, big_endian, fortran, bytes) = match &self.format {
            Format::Npy { bytes, header } => {
                self.info(name)?;
                (
                    header.shape.clone(),
                    header.dtype.dtype,
                    header.dtype.big_endian,
                    header.fortran_order,
                    std::borrow::Cow::Borrowed(&bytes[header.data_offset.min(bytes.len())..]),
                )
            }
            Format::Safetensors(file) => {
                let n = name.ok_or_else(|| {
                    self.error(None, Problem::Other("a tensor name is needed".to_owned()))
                })?;
                let (entry, dtype, bytes) = file.tensor_bytes(n).map_err(|p| match p {
                    Problem::UnknownTensor { .. } => self.error(None, p),
                    _ => fail(p),
                })?;
                (entry.shape.clone(), dtype, false, false, bytes)
            }
        };
        let &[rows, cols] = shape.as_slice() else {
            return Err(fail(Problem::WrongRank {
                hint: rank_hint(shape.len()),
                shape,
            }));
        };
        if rows == 0 || cols == 0 {
            return Err(fail(Problem::Empty { shape }));
        }
        let size = element_size(dtype);
        let expected = rows as u128 * cols as u128 * size as u128;
        if (bytes.len() as u128) < expected {
            return Err(fail(Problem::DataLength {
                expected,
                got: bytes.len(),
            }));
        }
        // Stored lines: rows of W in C order, columns in Fortran order. The
        // result has at least as many rows as columns (what σ works on):
        // each line becomes a column when lines are at least as long as
        // they are many, else a row (decoded a band of lines at a time).
        let (line, lines) = if fortran { (rows, cols) } else { (cols, rows) };
        let lines_are_columns = line >= lines;
        let transposed = lines_are_columns != fortran;
        let values = if lines_are_columns {
            let mut values = Mat::<f64>::zeros(line, lines);
            for k in 0..lines {
                let out = crate::columns::column_mut(values.as_mut().col_mut(k));
                decode_into(dtype, big_endian, &bytes[k * line * size..], out);
            }
            values
        } else {
            const BAND: usize = 32;
            let mut values = Mat::<f64>::zeros(lines, line);
            let mut band = vec![0.0; BAND * line];
            for k0 in (0..lines).step_by(BAND) {
                let k1 = (k0 + BAND).min(lines);
                let band = &mut band[..(k1 - k0) * line];
                decode_into(dtype, big_endian, &bytes[k0 * line * size..], band);
                for p in 0..line {
                    let out = crate::columns::column_mut(values.as_mut().col_mut(p));
                    for (o, b) in out[k0..k1].iter_mut().zip(band.chunks_exact(line)) {
                        *o = b[p];
                    }
                }
            }
            values
        };
        drop(bytes);
        if let Some((count, i, j, value)) = first_non_finite(&values, transposed) {
            return Err(fail(Problem::NonFinite {
                count,
                index: vec![i, j],
                value,
            }));
        }
        Ok(StoredMatrix {
            matrix: DenseMatrix::from_finite_faer(values, dtype),
            transposed,
        })
    }
}
