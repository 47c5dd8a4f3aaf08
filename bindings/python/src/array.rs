//! Reading NumPy arrays exactly: every float64, float32, float16 and
//! bfloat16 value is a dyadic rational that widens to `f64` without rounding,
//! so the library certifies the very numbers the caller holds.
//!
//! Any memory order is read in place through the array's byte strides (C,
//! Fortran, non-contiguous views, negative strides); nothing is copied by
//! NumPy first. The Python layer (`lipcert/_arrays.py`) turns array-likes
//! (`__array__`, `__dlpack__`, lists) into a native-byte-order ndarray and
//! passes bfloat16 data as its `uint16` bit patterns with `bits = "bfloat16"`.

use lipcert::SourceDtype;
use numpy::{PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::errors::LipcertError;

/// A tensor read from NumPy: row-major `f64` values (exact widenings), its
/// shape and the element type it was stored in.
pub struct Tensor {
    /// Shape, outermost first.
    pub shape: Vec<usize>,
    /// Row-major (C order) values, widened exactly.
    pub values: Vec<f64>,
    /// The stored element type.
    pub dtype: SourceDtype,
}

/// How one stored element becomes an `f64` (each conversion is exact).
#[derive(Clone, Copy)]
enum Element {
    F64,
    F32,
    F16,
    BF16,
}

impl Element {
    fn size(self) -> usize {
        match self {
            Element::F64 => 8,
            Element::F32 => 4,
            Element::F16 | Element::BF16 => 2,
        }
    }

    fn source(self) -> SourceDtype {
        match self {
            Element::F64 => SourceDtype::F64,
            Element::F32 => SourceDtype::F32,
            Element::F16 => SourceDtype::F16,
            Element::BF16 => SourceDtype::BF16,
        }
    }

    /// Reads one element at `p` (native byte order, any alignment).
    ///
    /// # Safety
    /// `p` must point to `self.size()` readable bytes.
    unsafe fn read(self, p: *const u8) -> f64 {
        match self {
            Element::F64 => f64::from_ne_bytes(std::ptr::read_unaligned(p as *const [u8; 8])),
            Element::F32 => f64::from(f32::from_ne_bytes(std::ptr::read_unaligned(
                p as *const [u8; 4],
            ))),
            Element::F16 => {
                half::f16::from_ne_bytes(std::ptr::read_unaligned(p as *const [u8; 2])).to_f64()
            }
            Element::BF16 => {
                half::bf16::from_ne_bytes(std::ptr::read_unaligned(p as *const [u8; 2])).to_f64()
            }
        }
    }
}

/// The element type of `array`, or a one-line error naming the dtype.
fn element(array: &Bound<'_, PyUntypedArray>, bits: Option<&str>) -> PyResult<Element> {
    let descr = array.dtype();
    if descr.is_native_byteorder() == Some(false) {
        return Err(LipcertError::new_err(format!(
            "dtype {descr} is not in native byte order"
        )));
    }
    let (kind, size) = (descr.kind(), descr.itemsize());
    match (bits, kind, size) {
        (None, b'f', 8) => Ok(Element::F64),
        (None, b'f', 4) => Ok(Element::F32),
        (None, b'f', 2) => Ok(Element::F16),
        (Some("bfloat16"), b'u', 2) => Ok(Element::BF16),
        (Some(other), _, _) => Err(LipcertError::new_err(format!(
            "unsupported bit reinterpretation '{other}' of dtype {descr}"
        ))),
        _ => Err(LipcertError::new_err(format!(
            "unsupported dtype {descr}: lipcert reads float16, bfloat16, float32 and float64 exactly"
        ))),
    }
}

/// Reads `array` (any rank, any strides) into row-major exact `f64` values.
///
/// `bits = Some("bfloat16")` reads a `uint16` array as bfloat16 bit patterns.
pub fn read(array: &Bound<'_, PyUntypedArray>, bits: Option<&str>) -> PyResult<Tensor> {
    let elem = element(array, bits)?;
    debug_assert_eq!(array.dtype().itemsize(), elem.size());
    let shape = array.shape().to_vec();
    let strides = array.strides().to_vec();
    let len: usize = shape.iter().product();
    let mut values = Vec::with_capacity(len);
    if len > 0 {
        // SAFETY: the array is alive (borrowed under the GIL) and, by NumPy's
        // invariants, every offset Σ index_d·stride_d with 0 ≤ index_d <
        // shape_d lies inside its buffer; the odometer below visits exactly
        // those offsets.
        let base = unsafe { (*array.as_array_ptr()).fields.data as *const u8 };
        let nd = shape.len();
        let mut index = vec![0usize; nd];
        let mut offset: isize = 0;
        for _ in 0..len {
            values.push(unsafe { elem.read(base.offset(offset)) });
            // Advance the row-major multi-index and the byte offset.
            let mut d = nd;
            while d > 0 {
                d -= 1;
                index[d] += 1;
                offset += strides[d];
                if index[d] < shape[d] {
                    break;
                }
                offset -= strides[d] * shape[d] as isize;
                index[d] = 0;
            }
        }
    }
    Ok(Tensor {
        shape,
        values,
        dtype: elem.source(),
    })
}
