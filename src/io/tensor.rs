//! A tensor read from a file: name, shape, element type, values widened
//! exactly to `f64` in row-major (C) order.

use super::error::Problem;
use crate::matrix::{DenseMatrix, SourceDtype};

/// A tensor as stored in a weight file.
///
/// `values` are in row-major (C) order whatever the file's layout, and each
/// is the exact value of the stored element (f32, f16 and bf16 widen to f64
/// without rounding).
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// The tensor's name in a `.safetensors` file; `None` for `.npy`.
    pub name: Option<String>,
    /// The shape, outermost dimension first.
    pub shape: Vec<usize>,
    /// The element type in the file.
    pub dtype: SourceDtype,
    /// The values, row-major.
    pub values: Vec<f64>,
}

impl Tensor {
    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// The multi-index of the `flat`-th element in row-major order.
    ///
    /// ```
    /// use lipcert::io::Tensor;
    /// use lipcert::SourceDtype;
    /// let t = Tensor { name: None, shape: vec![2, 3], dtype: SourceDtype::F64, values: vec![0.0; 6] };
    /// assert_eq!(t.multi_index(4), vec![1, 1]);
    /// ```
    pub fn multi_index(&self, flat: usize) -> Vec<usize> {
        multi_index(&self.shape, flat)
    }

    /// Checks that every entry is finite; otherwise reports how many are not
    /// and the index (in this tensor's shape) of the first one in row-major
    /// order.
    pub fn check_finite(&self) -> Result<(), Problem> {
        let mut count = 0usize;
        let mut first = None;
        for (k, &v) in self.values.iter().enumerate() {
            if !v.is_finite() {
                count += 1;
                if first.is_none() {
                    first = Some((k, v));
                }
            }
        }
        match first {
            None => Ok(()),
            Some((k, value)) => Err(Problem::NonFinite {
                count,
                index: self.multi_index(k),
                value,
            }),
        }
    }

    /// The tensor as a dense layer's weight matrix (rows = output features,
    /// as PyTorch's `Linear.weight` stores it; σ does not depend on the
    /// orientation).
    ///
    /// Errors: [`Problem::WrongRank`] unless 2-D (4-D tensors get a hint to
    /// use `lipcert conv`), [`Problem::Empty`], [`Problem::NonFinite`].
    pub fn to_matrix(&self) -> Result<DenseMatrix, Problem> {
        if self.rank() != 2 {
            return Err(Problem::WrongRank {
                shape: self.shape.clone(),
                hint: rank_hint(self.rank()),
            });
        }
        if self.values.is_empty() {
            return Err(Problem::Empty {
                shape: self.shape.clone(),
            });
        }
        self.check_finite()?;
        DenseMatrix::from_row_major_widened(self.shape[0], self.shape[1], &self.values, self.dtype)
            .map_err(|e| Problem::Other(e.to_string()))
    }
}

/// What to say about a tensor of the given rank when a 2-D matrix is needed.
pub fn rank_hint(rank: usize) -> String {
    match rank {
        1 => "a 1-D tensor (a bias or a norm scale) is not a weight matrix; lipcert certifies 2-D dense weights".to_owned(),
        4 => "a 4-D tensor is a convolution kernel; certify it with `lipcert conv FILE --tensor NAME --input HxW` (conv options: stride, padding)".to_owned(),
        _ => "lipcert certifies 2-D dense weight matrices".to_owned(),
    }
}

/// Row-major multi-index of element `flat` in an array of shape `shape`.
pub fn multi_index(shape: &[usize], flat: usize) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    let mut rest = flat;
    for (slot, &dim) in index.iter_mut().zip(shape).rev() {
        if dim == 0 {
            return index;
        }
        *slot = rest % dim;
        rest /= dim;
    }
    index
}

/// Number of elements of `shape`, or `None` on overflow.
pub fn element_count(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))
}

/// Reorders column-major (Fortran) data of `shape` into row-major order.
pub fn fortran_to_c(shape: &[usize], data: &[f64]) -> Vec<f64> {
    permute_order(shape, data, true)
}

/// Reorders row-major data of `shape` into column-major (Fortran) order.
pub fn c_to_fortran(shape: &[usize], data: &[f64]) -> Vec<f64> {
    permute_order(shape, data, false)
}

/// out[c_index] = data[f_index] (to_c) or out[f_index] = data[c_index].
fn permute_order(shape: &[usize], data: &[f64], to_c: bool) -> Vec<f64> {
    let rank = shape.len();
    if rank <= 1 {
        return data.to_vec();
    }
    // Strides of the Fortran layout.
    let mut f_stride = vec![1usize; rank];
    for k in 1..rank {
        f_stride[k] = f_stride[k - 1] * shape[k - 1];
    }
    let mut out = vec![0.0; data.len()];
    let mut idx = vec![0usize; rank];
    for (c_pos, _) in data.iter().enumerate() {
        let f_pos: usize = idx.iter().zip(&f_stride).map(|(i, s)| i * s).sum();
        if to_c {
            out[c_pos] = data[f_pos];
        } else {
            out[f_pos] = data[c_pos];
        }
        // Advance the row-major multi-index.
        for k in (0..rank).rev() {
            idx[k] += 1;
            if idx[k] < shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_index_matches_row_major_enumeration() {
        let shape = [2, 3, 4];
        let mut k = 0;
        for i in 0..2 {
            for j in 0..3 {
                for l in 0..4 {
                    assert_eq!(multi_index(&shape, k), vec![i, j, l]);
                    k += 1;
                }
            }
        }
    }

    #[test]
    fn fortran_and_c_orders_are_inverse_permutations() {
        let shape = [2, 3, 4];
        let c: Vec<f64> = (0..24).map(f64::from).collect();
        let f = c_to_fortran(&shape, &c);
        // Element (i, j, l) sits at i + 2j + 6l in Fortran order.
        for i in 0..2 {
            for j in 0..3 {
                for l in 0..4 {
                    assert_eq!(f[i + 2 * j + 6 * l], c[12 * i + 4 * j + l]);
                }
            }
        }
        assert_eq!(fortran_to_c(&shape, &f), c);
    }
}
