//! Weight files in, weight files out: `.npy` and `.safetensors` readers and
//! writers, with errors that name the file, the tensor and the problem.
//!
//! A [`WeightFile`] is opened once (the whole file is read into memory and
//! its header validated); tensors are then read by name. Values are widened
//! exactly to `f64`, so every guarantee lipcert gives is about the stored
//! numbers.

pub mod atomic_write;
pub mod checkpoint;
pub mod elements;
pub mod error;
pub mod escape;
pub mod name_glob;
pub mod npy;
pub mod regular_file;
pub mod safetensors;
pub mod stored_matrix;
pub mod tensor;

pub use error::{InputError, Problem};
pub use stored_matrix::StoredMatrix;
pub use tensor::Tensor;

use std::path::{Path, PathBuf};

/// The container format of a weight file.
#[derive(Debug, Clone)]
pub enum Format {
    /// A single array.
    Npy {
        /// The file's bytes.
        bytes: Vec<u8>,
        /// Its parsed header.
        header: npy::NpyHeader,
    },
    /// Named tensors.
    Safetensors(safetensors::SafetensorsFile),
}

/// What a header says about one tensor, before its values are read.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    /// Name (`None` for `.npy`).
    pub name: Option<String>,
    /// Shape.
    pub shape: Vec<usize>,
    /// The dtype as the file spells it (`"f32"`, `"I64"`, …).
    pub dtype_name: String,
}

/// An opened, validated weight file.
#[derive(Debug, Clone)]
pub struct WeightFile {
    path: PathBuf,
    format: Format,
}

impl WeightFile {
    /// Reads and validates `path`. The format is chosen by the `.npy` magic
    /// string, then by the extension (`.safetensors`/`.st`), then by trying
    /// safetensors.
    ///
    /// Only regular files are read (see [`regular_file`]), and only as many
    /// bytes as the header declares: the header is read first and the length
    /// it declares is checked against the file's size before any data byte
    /// is read.
    pub fn open(path: &Path) -> Result<Self, InputError> {
        Self::open_with(path, false)
    }

    /// Like [`WeightFile::open`], but a `.safetensors` file's data is left
    /// in the file: only its header is read and validated here (including
    /// the declared length against the file's size), and each tensor's bytes
    /// are read when [`WeightFile::read`] asks for it. Peak memory is then
    /// one tensor, not the file — what a multi-gigabyte checkpoint shard
    /// needs. `.npy` files (one array) are read whole, as by `open`.
    pub fn open_lazy(path: &Path) -> Result<Self, InputError> {
        Self::open_with(path, true)
    }

    fn open_with(path: &Path, lazy: bool) -> Result<Self, InputError> {
        let mut input = regular_file::RegularFile::open(path)?;
        let file_len = input.len();
        let prefix = input.fill_to(12)?;
        let header_end = if prefix.starts_with(npy::MAGIC) {
            npy::declared_data_offset(prefix).map(|end| end as u64)
        } else {
            prefix
                .get(..8)
                .map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
                .filter(|&n| n <= safetensors::MAX_HEADER_LEN)
                .map(|n| n + 8)
        };
        let Some(header_end) = header_end else {
            // Not even a header length: what was read is enough to say why.
            return Self::from_bytes(path, input.into_prefix());
        };
        let prefix = input.fill_to(header_end)?;
        let declared = if prefix.starts_with(npy::MAGIC) {
            npy::parse_header_only(prefix)
                .ok()
                .map(|(h, data)| (h.data_offset as u128, data))
        } else {
            safetensors::declared_lengths(prefix)
        };
        match declared {
            Some((header, data)) if header + data == u128::from(file_len) => {
                if lazy && !prefix.starts_with(npy::MAGIC) {
                    let prefix = prefix.to_vec();
                    let file = safetensors::SafetensorsFile::open_lazy(&prefix, input)
                        .map_err(|p| InputError::new(path, p))?;
                    return Ok(Self {
                        path: path.to_path_buf(),
                        format: Format::Safetensors(file),
                    });
                }
                Self::from_bytes(path, input.read_all()?)
            }
            Some((header, data)) => Err(InputError::new(
                path,
                Problem::DataLength {
                    expected: data,
                    got: u128::from(file_len).saturating_sub(header) as usize,
                },
            )),
            // A bad header: parsing the header alone reports the problem.
            None => Self::from_bytes(path, input.into_prefix()),
        }
    }

    /// Parses `bytes` as the contents of `path` (the path is used for
    /// messages and to guess the format).
    ///
    /// ```
    /// use lipcert::io::{npy, WeightFile};
    /// use lipcert::SourceDtype;
    /// use std::path::Path;
    /// let bytes = npy::encode(&[2, 2], npy::NpyDtype::little(SourceDtype::F64), false, &[3.0, 0.0, 0.0, 4.0]).unwrap();
    /// let file = WeightFile::from_bytes(Path::new("w.npy"), bytes).unwrap();
    /// let w = file.read(None).unwrap().to_matrix().unwrap();
    /// assert_eq!(w.get(1, 1), 4.0);
    /// // Errors name the file and the problem.
    /// let err = WeightFile::from_bytes(Path::new("bad.npy"), b"\x93NUM".to_vec()).unwrap_err();
    /// assert!(err.to_string().starts_with("bad.npy: truncated header"));
    /// ```
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Self, InputError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let looks_npy = bytes.starts_with(npy::MAGIC)
            || ext.as_deref() == Some("npy")
            || (bytes.len() < npy::MAGIC.len()
                && npy::MAGIC.starts_with(&bytes)
                && !bytes.is_empty());
        let format = if looks_npy {
            let header = npy::parse_header(&bytes).map_err(|p| InputError::new(path, p))?;
            Format::Npy { bytes, header }
        } else {
            match safetensors::SafetensorsFile::parse(bytes) {
                Ok(file) => Format::Safetensors(file),
                Err(p) => {
                    let known = matches!(ext.as_deref(), Some("safetensors" | "st"));
                    let problem = if known { p } else { Problem::UnknownFormat };
                    return Err(InputError::new(path, problem));
                }
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            format,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The container format.
    pub fn format(&self) -> &Format {
        &self.format
    }

    /// True for `.npy` files (a single unnamed array).
    pub fn is_npy(&self) -> bool {
        matches!(self.format, Format::Npy { .. })
    }

    /// Header information of every tensor, in file order.
    pub fn infos(&self) -> Vec<TensorInfo> {
        match &self.format {
            Format::Npy { header, .. } => vec![TensorInfo {
                name: None,
                shape: header.shape.clone(),
                dtype_name: header.dtype.dtype.name().to_owned(),
            }],
            Format::Safetensors(file) => file
                .entries()
                .iter()
                .map(|e| TensorInfo {
                    name: Some(e.name.clone()),
                    shape: e.shape.clone(),
                    dtype_name: e
                        .dtype
                        .map_or(e.dtype_name.clone(), |d| d.name().to_owned()),
                })
                .collect(),
        }
    }

    /// Header information of the tensor `name` (`None` selects the array of
    /// an `.npy` file; a name on an `.npy` file is an error, as is no name on
    /// a `.safetensors` file).
    pub fn info(&self, name: Option<&str>) -> Result<TensorInfo, InputError> {
        match (&self.format, name) {
            (Format::Npy { .. }, None) => Ok(self.infos().remove(0)),
            (Format::Npy { .. }, Some(n)) => Err(self.error(
                None,
                Problem::Other(format!(
                    "--tensor {n}: an .npy file holds a single unnamed array; omit --tensor"
                )),
            )),
            (Format::Safetensors(file), Some(n)) => {
                let e = file.entry(n).map_err(|p| self.error(None, p))?;
                Ok(TensorInfo {
                    name: Some(e.name.clone()),
                    shape: e.shape.clone(),
                    dtype_name: e
                        .dtype
                        .map_or(e.dtype_name.clone(), |d| d.name().to_owned()),
                })
            }
            (Format::Safetensors(_), None) => Err(self.error(
                None,
                Problem::Other("a .safetensors file needs a tensor name".to_owned()),
            )),
        }
    }

    /// Reads one tensor (see [`WeightFile::info`] for `name`).
    pub fn read(&self, name: Option<&str>) -> Result<Tensor, InputError> {
        match &self.format {
            Format::Npy { bytes, .. } => {
                self.info(name)?;
                npy::read(bytes)
                    .map(|(_, t)| t)
                    .map_err(|p| self.error(None, p))
            }
            Format::Safetensors(file) => {
                let n = name.ok_or_else(|| {
                    self.error(None, Problem::Other("a tensor name is needed".to_owned()))
                })?;
                file.read_tensor(n).map_err(|p| match p {
                    Problem::UnknownTensor { .. } => self.error(None, p),
                    _ => self.error(Some(n), p),
                })
            }
        }
    }

    /// The file's bytes with the tensors in `replacements` replaced by new
    /// row-major values, stored in each tensor's own dtype (rounded to
    /// nearest), byte order and memory order; everything else unchanged.
    pub fn encode_with(
        &self,
        replacements: &[(Option<&str>, &[f64])],
    ) -> Result<Vec<u8>, InputError> {
        match &self.format {
            Format::Npy { bytes, header } => match replacements {
                [(None, values)] => {
                    npy::replace_data(bytes, header, values).map_err(|p| self.error(None, p))
                }
                _ => Err(self.error(
                    None,
                    Problem::Other("an .npy file holds exactly one array".to_owned()),
                )),
            },
            Format::Safetensors(file) => {
                let mut named = Vec::with_capacity(replacements.len());
                for (name, values) in replacements {
                    let n = name.ok_or_else(|| {
                        self.error(None, Problem::Other("a tensor name is needed".to_owned()))
                    })?;
                    named.push((n, *values));
                }
                file.with_replaced(&named).map_err(|p| self.error(None, p))
            }
        }
    }

    /// An [`InputError`] about this file (and tensor `name`).
    pub fn error(&self, name: Option<&str>, problem: Problem) -> InputError {
        InputError::in_tensor(&self.path, name, problem)
    }
}
