//! The tensors a network spec refers to: a name → tensor map read from a
//! safetensors file (the keys of a PyTorch `state_dict`).
//!
//! Every value is widened exactly to `f64` (f16, bf16, f32 and f64 values are
//! dyadic rationals representable in binary64), so certificates are about the
//! numbers stored in the file. Non-finite values are rejected when a layer
//! uses the tensor.

use crate::error::{Error, Result};
use crate::matrix::SourceDtype;
use std::collections::BTreeMap;
#[cfg(feature = "io")]
use std::path::Path;

/// One tensor: its shape (row-major, PyTorch order) and its values widened to
/// `f64`.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Shape, outermost dimension first.
    pub shape: Vec<usize>,
    /// Values in row-major order, `data.len() == shape.iter().product()`.
    pub data: Vec<f64>,
    /// The element type in the file.
    pub dtype: SourceDtype,
}

impl Tensor {
    /// A tensor from a shape and row-major values (checked for length).
    pub fn new(shape: Vec<usize>, data: Vec<f64>) -> Result<Self> {
        let n: usize = shape.iter().product();
        if n != data.len() {
            return Err(Error::ShapeMismatch {
                what: "tensor values for its shape",
                expected: n,
                got: data.len(),
            });
        }
        Ok(Self {
            shape,
            data,
            dtype: SourceDtype::F64,
        })
    }
}

/// A name → tensor map.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Weights {
    tensors: BTreeMap<String, Tensor>,
}

impl Weights {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a tensor.
    pub fn insert(&mut self, name: impl Into<String>, tensor: Tensor) {
        self.tensors.insert(name.into(), tensor);
    }

    /// The tensor called `name`, or an error naming the layer that wanted it
    /// and listing a few available names.
    pub fn get(&self, name: &str, context: &str) -> Result<&Tensor> {
        self.tensors.get(name).ok_or_else(|| {
            let names: Vec<&str> = self.tensors.keys().map(String::as_str).take(12).collect();
            Error::InvalidOption(format!(
                "{context}: tensor '{name}' is not in the weights file (available: {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ))
        })
    }

    /// Tensor names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    #[cfg(feature = "io")]
    /// Parses a safetensors buffer with [`crate::io`] (every dtype the
    /// reader accepts, widened exactly to `f64`).
    pub fn from_safetensors_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_weight_file(
            &crate::io::WeightFile::from_bytes(Path::new("<memory>"), bytes.to_vec())
                .map_err(|e| Error::InvalidOption(e.to_string()))?,
        )
    }

    #[cfg(feature = "io")]
    /// Reads a safetensors file with [`crate::io::WeightFile`].
    pub fn from_safetensors_file(path: &Path) -> Result<Self> {
        Self::from_weight_file(
            &crate::io::WeightFile::open(path).map_err(|e| Error::InvalidOption(e.to_string()))?,
        )
    }

    #[cfg(feature = "io")]
    /// Every named tensor of an opened weight file.
    pub fn from_weight_file(file: &crate::io::WeightFile) -> Result<Self> {
        let mut out = Weights::new();
        for info in file.infos() {
            let Some(name) = info.name else {
                return Err(Error::InvalidOption(format!(
                    "{}: a network needs a .safetensors file with named tensors (got a single .npy array)",
                    file.path().display()
                )));
            };
            let t = file
                .read(Some(&name))
                .map_err(|e| Error::InvalidOption(e.to_string()))?;
            out.insert(
                name,
                Tensor {
                    shape: t.shape,
                    data: t.values,
                    dtype: t.dtype,
                },
            );
        }
        Ok(out)
    }

    #[cfg(feature = "io")]
    /// Serializes every tensor as little-endian f32 safetensors (values are
    /// rounded to f32 to nearest: callers that need exact files should store
    /// f32-representable values).
    pub fn to_safetensors_f32_bytes(&self) -> Result<Vec<u8>> {
        let buffers: Vec<(String, Vec<usize>, Vec<u8>)> = self
            .tensors
            .iter()
            .map(|(name, t)| {
                let bytes = t
                    .data
                    .iter()
                    .flat_map(|&v| (v as f32).to_le_bytes())
                    .collect();
                (name.clone(), t.shape.clone(), bytes)
            })
            .collect();
        let views = buffers
            .iter()
            .map(|(name, shape, bytes)| {
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)
                    .map(|v| (name.clone(), v))
                    .map_err(|e| Error::InvalidOption(format!("tensor '{name}': {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        safetensors::serialize(views, None)
            .map_err(|e| Error::InvalidOption(format!("safetensors serialization failed: {e}")))
    }
}
