//! Constant ONNX tensors: decoding a `TensorProto` (raw little-endian bytes,
//! the typed `*_data` fields, or external data in a file next to the model)
//! into f64 or i64 values with a checked shape.
//!
//! Floating-point values (float16, bfloat16, float32, float64) widen exactly
//! to f64; integers and booleans are kept as i64 (shapes and indices need
//! the exact 64-bit values, e.g. `INT64_MAX` as a Slice end).

use super::error::{invalid, unsupported, OnnxResult};
use super::proto::TensorProto;
use std::path::{Component, Path};

/// Largest number of elements one constant tensor may have (2²⁸: 2 GiB as
/// f64), so a hostile shape cannot exhaust memory.
pub const MAX_ELEMENTS: usize = 1 << 28;

/// The values of a constant tensor.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Floating-point values widened to f64.
    Float(Vec<f64>),
    /// Integer or boolean values.
    Int(Vec<i64>),
}

/// A constant tensor with its shape (row-major).
#[derive(Debug, Clone, PartialEq)]
pub struct ConstTensor {
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Values (length = product of `shape`).
    pub values: Values,
}

impl ConstTensor {
    /// A float tensor (checks the length).
    pub fn float(shape: Vec<usize>, data: Vec<f64>) -> OnnxResult<Self> {
        check_len(&shape, data.len(), "float tensor")?;
        Ok(Self {
            shape,
            values: Values::Float(data),
        })
    }

    /// An integer tensor (checks the length).
    pub fn int(shape: Vec<usize>, data: Vec<i64>) -> OnnxResult<Self> {
        check_len(&shape, data.len(), "integer tensor")?;
        Ok(Self {
            shape,
            values: Values::Int(data),
        })
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.values {
            Values::Float(v) => v.len(),
            Values::Int(v) => v.len(),
        }
    }

    /// True when the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values as f64 (integers converted; exact below 2⁵³).
    pub fn as_f64(&self) -> Vec<f64> {
        match &self.values {
            Values::Float(v) => v.clone(),
            Values::Int(v) => v.iter().map(|&x| x as f64).collect(),
        }
    }

    /// The values as integers (floats must be integral).
    pub fn as_i64(&self, what: &str) -> OnnxResult<Vec<i64>> {
        match &self.values {
            Values::Int(v) => Ok(v.clone()),
            Values::Float(v) => v
                .iter()
                .map(|&x| {
                    if x.fract() == 0.0 && x.abs() < 9.0e18 {
                        Ok(x as i64)
                    } else {
                        Err(invalid(format!("{what}: expected integers, found {x}")))
                    }
                })
                .collect(),
        }
    }

    /// True for float values.
    pub fn is_float(&self) -> bool {
        matches!(self.values, Values::Float(_))
    }
}

/// Product of the dimensions, or an error when it overflows or exceeds
/// [`MAX_ELEMENTS`].
pub fn element_count(shape: &[usize], what: &str) -> OnnxResult<usize> {
    let mut n: usize = 1;
    for &d in shape {
        n = n
            .checked_mul(d)
            .filter(|&n| n <= MAX_ELEMENTS)
            .ok_or_else(|| {
                invalid(format!(
                    "{what}: shape {shape:?} has more than {MAX_ELEMENTS} elements"
                ))
            })?;
    }
    Ok(n)
}

fn check_len(shape: &[usize], len: usize, what: &str) -> OnnxResult<()> {
    let n = element_count(shape, what)?;
    if n != len {
        return Err(invalid(format!(
            "{what}: shape {shape:?} needs {n} values, found {len}"
        )));
    }
    Ok(())
}

/// Width in bytes of one element of an ONNX data type stored in `raw_data`,
/// and whether it is a float type. `None` for types lipcert does not read.
fn type_info(data_type: i32) -> Option<(usize, bool, &'static str)> {
    Some(match data_type {
        1 => (4, true, "float32"),
        2 => (1, false, "uint8"),
        3 => (1, false, "int8"),
        4 => (2, false, "uint16"),
        5 => (2, false, "int16"),
        6 => (4, false, "int32"),
        7 => (8, false, "int64"),
        9 => (1, false, "bool"),
        10 => (2, true, "float16"),
        11 => (8, true, "float64"),
        12 => (4, false, "uint32"),
        13 => (8, false, "uint64"),
        16 => (2, true, "bfloat16"),
        _ => return None,
    })
}

/// Name of an ONNX data type code for messages.
pub fn type_name(data_type: i32) -> String {
    type_info(data_type)
        .map(|t| t.2.to_string())
        .unwrap_or_else(|| format!("data type {data_type}"))
}

fn decode_raw(bytes: &[u8], data_type: i32) -> Values {
    let f = |n: usize| bytes.chunks_exact(n);
    match data_type {
        1 => Values::Float(
            f(4).map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64)
                .collect(),
        ),
        11 => Values::Float(
            f(8).map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        ),
        10 => Values::Float(
            f(2).map(|c| half::f16::from_le_bytes(c.try_into().unwrap()).to_f64())
                .collect(),
        ),
        16 => Values::Float(
            f(2).map(|c| half::bf16::from_le_bytes(c.try_into().unwrap()).to_f64())
                .collect(),
        ),
        2 | 9 => Values::Int(bytes.iter().map(|&b| b as i64).collect()),
        3 => Values::Int(bytes.iter().map(|&b| b as i8 as i64).collect()),
        4 => Values::Int(
            f(2).map(|c| u16::from_le_bytes(c.try_into().unwrap()) as i64)
                .collect(),
        ),
        5 => Values::Int(
            f(2).map(|c| i16::from_le_bytes(c.try_into().unwrap()) as i64)
                .collect(),
        ),
        6 => Values::Int(
            f(4).map(|c| i32::from_le_bytes(c.try_into().unwrap()) as i64)
                .collect(),
        ),
        12 => Values::Int(
            f(4).map(|c| u32::from_le_bytes(c.try_into().unwrap()) as i64)
                .collect(),
        ),
        // int64; uint64 values above i64::MAX wrap, which only matters for
        // indices, where they are out of range either way.
        _ => Values::Int(
            f(8).map(|c| i64::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        ),
    }
}

/// Reads the bytes of an external-data tensor: `location` relative to
/// `model_dir` (absolute paths, `..` and paths leaving the folder through
/// links are refused), `offset` and `length` checked against the file.
fn read_external(t: &TensorProto, name: &str, model_dir: &Path) -> OnnxResult<Vec<u8>> {
    let mut location = None;
    let mut offset = 0u64;
    let mut length = None;
    for e in &t.external_data {
        let value = e.value.clone().unwrap_or_default();
        let num = |v: &str| {
            v.parse::<u64>().map_err(|_| {
                invalid(format!(
                    "tensor '{name}': external data {} '{v}' is not a non-negative integer",
                    e.key.as_deref().unwrap_or("")
                ))
            })
        };
        match e.key.as_deref() {
            Some("location") => location = Some(value),
            Some("offset") => offset = num(&value)?,
            Some("length") => length = Some(num(&value)?),
            _ => {}
        }
    }
    let location = location
        .ok_or_else(|| invalid(format!("tensor '{name}': external data without a location")))?;
    let rel = Path::new(&location);
    if location.is_empty()
        || rel
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(invalid(format!(
            "tensor '{name}': external data location '{location}' must be a relative path inside the model's folder (no absolute path, no '..')"
        )));
    }
    let path = model_dir.join(rel);
    let dir_canon = model_dir
        .canonicalize()
        .map_err(|e| invalid(format!("model folder {}: {e}", model_dir.display())))?;
    let canon = path.canonicalize().map_err(|e| {
        invalid(format!(
            "tensor '{name}': external data file {}: {e}",
            path.display()
        ))
    })?;
    if !canon.starts_with(&dir_canon) {
        return Err(invalid(format!(
            "tensor '{name}': external data file {} resolves outside the model's folder",
            path.display()
        )));
    }
    let mut file = crate::io::regular_file::RegularFile::open(&canon)
        .map_err(|e| invalid(format!("tensor '{name}': {e}")))?;
    let size = file.len();
    let length = length.unwrap_or(size.saturating_sub(offset));
    if offset.checked_add(length).is_none_or(|end| end > size) {
        return Err(invalid(format!(
            "tensor '{name}': external data offset {offset} + length {length} is past the end of {} ({size} bytes)",
            path.display()
        )));
    }
    if length > (MAX_ELEMENTS as u64) * 8 {
        return Err(invalid(format!(
            "tensor '{name}': external data length {length} is too large"
        )));
    }
    file.read_range(offset, length)
        .map_err(|e| invalid(format!("tensor '{name}': {e}")))
}

/// Decodes a `TensorProto` into a [`ConstTensor`]; `model_dir` resolves
/// external data. Every error names the tensor.
pub fn decode(t: &TensorProto, model_dir: &Path) -> OnnxResult<ConstTensor> {
    let name = t.name.clone().unwrap_or_default();
    let data_type = t.data_type.unwrap_or(0);
    let Some((width, _is_float, _)) = type_info(data_type) else {
        return Err(unsupported(format!(
            "tensor '{name}' has {} elements, which lipcert does not read",
            type_name(data_type)
        )));
    };
    let mut shape = Vec::with_capacity(t.dims.len());
    for &d in &t.dims {
        if d < 0 {
            return Err(invalid(format!("tensor '{name}': negative dimension {d}")));
        }
        shape.push(d as usize);
    }
    let n = element_count(&shape, &format!("tensor '{name}'"))?;
    let external = t.data_location == Some(1);
    let values = if external || t.raw_data.is_some() {
        let bytes = if external {
            read_external(t, &name, model_dir)?
        } else {
            t.raw_data.clone().unwrap_or_default()
        };
        if bytes.len() != n * width {
            return Err(invalid(format!(
                "tensor '{name}': shape {shape:?} of {} needs {} bytes, found {}",
                type_name(data_type),
                n * width,
                bytes.len()
            )));
        }
        decode_raw(&bytes, data_type)
    } else {
        let values = match data_type {
            1 => Values::Float(t.float_data.iter().map(|&v| v as f64).collect()),
            11 => Values::Float(t.double_data.clone()),
            10 => Values::Float(
                t.int32_data
                    .iter()
                    .map(|&b| half::f16::from_bits(b as u16).to_f64())
                    .collect(),
            ),
            16 => Values::Float(
                t.int32_data
                    .iter()
                    .map(|&b| half::bf16::from_bits(b as u16).to_f64())
                    .collect(),
            ),
            7 => Values::Int(t.int64_data.clone()),
            12 | 13 => Values::Int(t.uint64_data.iter().map(|&v| v as i64).collect()),
            _ => Values::Int(t.int32_data.iter().map(|&v| v as i64).collect()),
        };
        let len = match &values {
            Values::Float(v) => v.len(),
            Values::Int(v) => v.len(),
        };
        if len != n {
            return Err(invalid(format!(
                "tensor '{name}': shape {shape:?} needs {n} values, the {} data field has {len}",
                type_name(data_type)
            )));
        }
        values
    };
    if let Values::Float(v) = &values {
        if let Some((i, x)) = v.iter().enumerate().find(|(_, x)| !x.is_finite()) {
            return Err(invalid(format!(
                "tensor '{name}' has a non-finite value {x} at flat index {i}"
            )));
        }
    }
    Ok(ConstTensor { shape, values })
}

/// Encodes f32 values as a `TensorProto` with `raw_data` (for writers of
/// test vectors and example models).
pub fn encode_f32(name: &str, shape: &[usize], data: &[f32]) -> TensorProto {
    TensorProto {
        dims: shape.iter().map(|&d| d as i64).collect(),
        data_type: Some(1),
        name: Some(name.to_string()),
        raw_data: Some(data.iter().flat_map(|v| v.to_le_bytes()).collect()),
        ..Default::default()
    }
}

/// Encodes i64 values as a `TensorProto` (`int64_data`).
pub fn encode_i64(name: &str, shape: &[usize], data: &[i64]) -> TensorProto {
    TensorProto {
        dims: shape.iter().map(|&d| d as i64).collect(),
        data_type: Some(7),
        name: Some(name.to_string()),
        int64_data: data.to_vec(),
        ..Default::default()
    }
}
