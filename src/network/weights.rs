//! The tensors a network spec refers to: a name → tensor map read from a
//! safetensors file (the keys of a PyTorch `state_dict`).
//!
//! Every value is widened exactly to `f64` (f16, bf16, f32 and f64 values are
//! dyadic rationals representable in binary64), so certificates are about the
//! numbers stored in the file. Non-finite values are rejected when a layer
//! uses the tensor.

use crate::error::{Error, Result};
use crate::io::escape::{escape_name, escape_path};
use crate::io::WeightFile;
use crate::matrix::SourceDtype;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, OnceLock};

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
///
/// Tensors of a weight file are converted lazily: [`Weights::get`] reads
/// and widens a tensor the first time a layer asks for it, so tensors no
/// layer uses (a PyTorch BatchNorm's I64 `num_batches_tracked`, optimizer
/// state, …) may have any dtype. A *used* tensor with a dtype lipcert cannot
/// read is an error naming it.
#[derive(Debug, Clone, Default)]
pub struct Weights {
    /// Tensors inserted directly (they take precedence over the file's).
    tensors: BTreeMap<String, Tensor>,
    /// The weight file the other tensors come from.
    file: Option<Arc<WeightFile>>,
    /// One slot per tensor name of `file`, filled on first use.
    lazy: BTreeMap<String, OnceLock<Tensor>>,
}

impl PartialEq for Weights {
    /// Equal when both hold the same names and, for each, the same tensor
    /// (tensors of a file are read to compare them; one that cannot be read
    /// makes the maps unequal).
    fn eq(&self, other: &Self) -> bool {
        self.names().eq(other.names())
            && self
                .names()
                .all(|n| match (self.get(n, ""), other.get(n, "")) {
                    (Ok(a), Ok(b)) => a == b,
                    _ => false,
                })
    }
}

impl Weights {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a tensor.
    pub fn insert(&mut self, name: impl Into<String>, tensor: Tensor) {
        let name = name.into();
        self.lazy.remove(&name);
        self.tensors.insert(name, tensor);
    }

    /// The tensor called `name` (read from the file on first use), or an
    /// error naming the layer that wanted it (`context`) and listing a few
    /// available names, or the file's error for a tensor that cannot be
    /// read (unsupported dtype, …).
    pub fn get(&self, name: &str, context: &str) -> Result<&Tensor> {
        if let Some(t) = self.tensors.get(name) {
            return Ok(t);
        }
        if let (Some(file), Some(slot)) = (&self.file, self.lazy.get(name)) {
            if let Some(t) = slot.get() {
                return Ok(t);
            }
            let t = file
                .read(Some(name))
                .map_err(|e| Error::InvalidOption(format!("{context}: {e}")))?;
            return Ok(slot.get_or_init(|| Tensor {
                shape: t.shape,
                data: t.values,
                dtype: t.dtype,
            }));
        }
        let total = self.names().count();
        let names: Vec<String> = self
            .names()
            .take(12)
            .map(|n| escape_name(n).into_owned())
            .collect();
        Err(Error::InvalidOption(format!(
            "{context}: tensor '{}' is not in the weights file (available: {}{})",
            escape_name(name),
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            },
            if total > names.len() {
                format!(", … {total} in all")
            } else {
                String::new()
            }
        )))
    }

    /// Tensor names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        let all: BTreeSet<&str> = self
            .tensors
            .keys()
            .chain(self.lazy.keys())
            .map(String::as_str)
            .collect();
        all.into_iter()
    }

    /// Parses a safetensors buffer with [`crate::io`] (every dtype the
    /// reader accepts, widened exactly to `f64` when used).
    pub fn from_safetensors_bytes(bytes: &[u8]) -> Result<Self> {
        let file = WeightFile::from_bytes(Path::new("<memory>"), bytes.to_vec())
            .map_err(|e| Error::InvalidOption(e.to_string()))?;
        Self::from_owned_file(file)
    }

    /// Reads a safetensors file with [`crate::io::WeightFile`] (a regular
    /// file only; its header is validated, its tensors converted when used).
    pub fn from_safetensors_file(path: &Path) -> Result<Self> {
        let file = WeightFile::open(path).map_err(|e| Error::InvalidOption(e.to_string()))?;
        Self::from_owned_file(file)
    }

    /// Every named tensor of an opened weight file (converted when used).
    pub fn from_weight_file(file: &WeightFile) -> Result<Self> {
        Self::from_owned_file(file.clone())
    }

    fn from_owned_file(file: WeightFile) -> Result<Self> {
        if file.is_npy() {
            return Err(Error::InvalidOption(format!(
                "{}: a network needs a .safetensors file with named tensors (got a single .npy array)",
                escape_path(file.path())
            )));
        }
        let lazy = file
            .infos()
            .into_iter()
            .filter_map(|info| info.name)
            .map(|name| (name, OnceLock::new()))
            .collect();
        Ok(Self {
            tensors: BTreeMap::new(),
            file: Some(Arc::new(file)),
            lazy,
        })
    }

    /// Every tensor, read and converted (for serialization).
    fn all(&self) -> Result<Vec<(String, &Tensor)>> {
        self.names()
            .map(|n| self.get(n, "weights").map(|t| (n.to_owned(), t)))
            .collect()
    }

    /// Serializes every tensor as little-endian f32 safetensors (values are
    /// rounded to f32 to nearest: callers that need exact files should store
    /// f32-representable values).
    pub fn to_safetensors_f32_bytes(&self) -> Result<Vec<u8>> {
        let buffers: Vec<(String, Vec<usize>, Vec<u8>)> = self
            .all()?
            .into_iter()
            .map(|(name, t)| {
                let bytes = t
                    .data
                    .iter()
                    .flat_map(|&v| (v as f32).to_le_bytes())
                    .collect();
                (name, t.shape.clone(), bytes)
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
