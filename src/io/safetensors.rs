//! Reader and in-place writer for `.safetensors` files (Hugging Face format:
//! an 8-byte little-endian header length, a JSON header mapping tensor names
//! to `{dtype, shape, data_offsets}`, then the little-endian row-major data).
//!
//! Parsing and validation of the header (offsets contiguous, sizes consistent
//! with dtype and shape, buffer length exact) is done by the `safetensors`
//! crate; this module adds the dtype policy (F64, F32, F16, BF16 are read and
//! widened exactly; everything else is refused) and file order.

use super::error::Problem;
use super::regular_file::RegularFile;
use super::tensor::{element_count, Tensor};
use crate::matrix::SourceDtype;
use safetensors::tensor::{Dtype, Metadata, SafeTensors};

/// The largest header the `safetensors` crate reads (100 MB); longer
/// declared headers are refused before anything past the length is read.
pub const MAX_HEADER_LEN: u64 = 100_000_000;

/// `(header end, data bytes)` declared by a file whose first bytes are
/// `prefix` (the 8-byte length and the whole JSON header), or `None` when
/// the header is not valid (parse the prefix with [`SafetensorsFile::parse`]
/// to learn why). Lets a reader check the declared length against the
/// file's size before reading the data.
pub fn declared_lengths(prefix: &[u8]) -> Option<(u128, u128)> {
    let text = header_text(prefix)?;
    check_unique_keys(text).ok()?;
    let metadata: Metadata = serde_json::from_str(text).ok()?;
    Some((8 + text.len() as u128, metadata.data_len() as u128))
}

/// The JSON header text of `bytes`, when its length and UTF-8 are valid.
fn header_text(bytes: &[u8]) -> Option<&str> {
    let n = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?);
    let end = usize::try_from(n).ok()?.checked_add(8)?;
    std::str::from_utf8(bytes.get(8..end)?).ok()
}

/// Refuses a JSON header in which an object repeats a key: JSON leaves the
/// meaning open (serde keeps the last, other readers the first), and a file
/// that two readers see differently must not pass.
fn check_unique_keys(text: &str) -> Result<(), Problem> {
    serde_json::from_str::<UniqueKeys>(text)
        .map(|_| ())
        .map_err(|e| Problem::CorruptHeader(format!("the header is ambiguous: {e}")))
}

/// Deserializes any JSON value, failing on an object with a repeated key.
struct UniqueKeys;

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueKeysVisitor)
    }
}

struct UniqueKeysVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueKeysVisitor {
    type Value = UniqueKeys;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_i64<E>(self, _: i64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_u64<E>(self, _: u64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_f64<E>(self, _: f64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_str<E>(self, _: &str) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_unit<E>(self) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<UniqueKeys, A::Error> {
        while seq.next_element::<UniqueKeys>()?.is_some() {}
        Ok(UniqueKeys)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<UniqueKeys, A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(serde::de::Error::custom(format!(
                    "key '{}' appears twice",
                    super::escape::escape_name(&key)
                )));
            }
            map.next_value::<UniqueKeys>()?;
        }
        Ok(UniqueKeys)
    }
}

/// One tensor's entry in the header.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The tensor's name.
    pub name: String,
    /// The dtype as the header spells it (`"F32"`, `"I64"`, …).
    pub dtype_name: String,
    /// The dtype when lipcert can read it.
    pub dtype: Option<SourceDtype>,
    /// The shape.
    pub shape: Vec<usize>,
    /// Byte range of the data within the whole file.
    pub range: std::ops::Range<usize>,
}

/// A parsed `.safetensors` file: its entries in file order (increasing data
/// offset) and its data, either in memory ([`SafetensorsFile::parse`]) or
/// left in the file and read one tensor at a time
/// ([`SafetensorsFile::open_lazy`]).
#[derive(Debug, Clone)]
pub struct SafetensorsFile {
    storage: Storage,
    entries: Vec<Entry>,
}

/// Where a file's data bytes are.
#[derive(Debug, Clone)]
enum Storage {
    /// The whole file, in memory.
    Bytes(Vec<u8>),
    /// Still in the file (opened as a regular file, its size checked against
    /// the header): each tensor's bytes are read when it is read.
    File(std::sync::Arc<std::sync::Mutex<RegularFile>>),
}

impl SafetensorsFile {
    /// Parses and validates the header of `bytes`.
    ///
    /// ```
    /// use lipcert::io::safetensors::{encode, SafetensorsFile};
    /// use lipcert::SourceDtype;
    /// let bytes = encode(&[("w", SourceDtype::F32, vec![2, 2], vec![1.0, 2.0, 3.0, 4.0])]).unwrap();
    /// let file = SafetensorsFile::parse(bytes).unwrap();
    /// assert_eq!(file.read_tensor("w").unwrap().values, vec![1.0, 2.0, 3.0, 4.0]);
    /// ```
    pub fn parse(bytes: Vec<u8>) -> Result<Self, Problem> {
        // Repeated keys first (invalid JSON is left to the crate's message).
        if let Some(text) = header_text(&bytes) {
            if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
                check_unique_keys(text)?;
            }
        }
        let (header_len, metadata) = SafeTensors::read_metadata(&bytes).map_err(describe)?;
        let entries = entries_of(8 + header_len, &metadata, bytes.len() as u64)?;
        Ok(Self {
            storage: Storage::Bytes(bytes),
            entries,
        })
    }

    /// A file whose first bytes `prefix` (at least the 8-byte length and the
    /// whole JSON header) have been read from `file`, validated like
    /// [`SafetensorsFile::parse`] validates a whole file — unique keys,
    /// offsets contiguous, sizes consistent with dtype and shape, and the
    /// data length the header declares equal to the file's size — without
    /// reading any data byte. Tensors are then read one at a time
    /// ([`SafetensorsFile::read_tensor`]), so memory holds one tensor, not
    /// the file.
    pub fn open_lazy(prefix: &[u8], file: RegularFile) -> Result<Self, Problem> {
        let text = header_text(prefix).ok_or_else(|| {
            Problem::TruncatedHeader("the header length points past the end of the file".into())
        })?;
        check_unique_keys(text)?;
        let metadata: Metadata = serde_json::from_str(text).map_err(|e| {
            Problem::CorruptHeader(format!("the header is not valid safetensors JSON ({e})"))
        })?;
        let data_start = 8 + text.len();
        let declared = data_start as u128 + metadata.data_len() as u128;
        if declared != u128::from(file.len()) {
            return Err(Problem::DataLength {
                expected: metadata.data_len() as u128,
                got: file.len().saturating_sub(data_start as u64) as usize,
            });
        }
        let entries = entries_of(data_start, &metadata, file.len())?;
        Ok(Self {
            storage: Storage::File(std::sync::Arc::new(std::sync::Mutex::new(file))),
            entries,
        })
    }

    /// The entries in file order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The tensor names in file order.
    pub fn names(&self) -> Vec<String> {
        self.entries.iter().map(|e| e.name.clone()).collect()
    }

    /// The entry called `name`, or [`Problem::UnknownTensor`] listing the
    /// available names.
    pub fn entry(&self, name: &str) -> Result<&Entry, Problem> {
        self.entries
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| Problem::UnknownTensor {
                name: name.to_owned(),
                available: self.names(),
            })
    }

    /// Reads tensor `name`, widened exactly to `f64` (row-major). NaN/Inf are
    /// kept; check them with [`Tensor::check_finite`].
    pub fn read_tensor(&self, name: &str) -> Result<Tensor, Problem> {
        let (entry, dtype, bytes) = self.tensor_bytes(name)?;
        Ok(Tensor {
            name: Some(entry.name.clone()),
            shape: entry.shape.clone(),
            dtype,
            values: super::elements::decode(dtype, false, &bytes),
        })
    }

    /// The entry of tensor `name`, its dtype and its stored (little-endian)
    /// bytes: borrowed when the file is in memory, read from the file
    /// otherwise. Errors: unknown name, unsupported dtype, read failure.
    pub fn tensor_bytes(
        &self,
        name: &str,
    ) -> Result<(&Entry, SourceDtype, std::borrow::Cow<'_, [u8]>), Problem> {
        let entry = self.entry(name)?;
        let dtype = entry
            .dtype
            .ok_or_else(|| Problem::UnsupportedDtype(entry.dtype_name.clone()))?;
        let bytes = match &self.storage {
            Storage::Bytes(bytes) => std::borrow::Cow::Borrowed(&bytes[entry.range.clone()]),
            Storage::File(file) => std::borrow::Cow::Owned(read_range(file, &entry.range)?),
        };
        Ok((entry, dtype, bytes))
    }

    /// The whole file with the data of each `(name, values)` replaced by
    /// `values` (row-major) rounded to nearest in the tensor's own dtype.
    /// Every other byte (header, metadata, other tensors) is copied unchanged.
    pub fn with_replaced(&self, replacements: &[(&str, &[f64])]) -> Result<Vec<u8>, Problem> {
        let mut out = match &self.storage {
            Storage::Bytes(bytes) => bytes.clone(),
            Storage::File(file) => {
                let len = file.lock().map_or(0, |f| f.len());
                read_range(file, &(0..len as usize))?
            }
        };
        for (name, values) in replacements {
            let entry = self.entry(name)?;
            let dtype = entry
                .dtype
                .ok_or_else(|| Problem::UnsupportedDtype(entry.dtype_name.clone()))?;
            if element_count(&entry.shape) != Some(values.len()) {
                return Err(Problem::Other(format!(
                    "{} values do not fill the shape of '{name}'",
                    values.len()
                )));
            }
            let encoded = encode_values(dtype, values);
            out[entry.range.clone()].copy_from_slice(&encoded);
        }
        Ok(out)
    }
}

/// Reads bytes `range` of a lazily opened file (a poisoned lock cannot
/// happen: nothing panics while holding it; it is reported, not unwrapped).
fn read_range(
    file: &std::sync::Mutex<RegularFile>,
    range: &std::ops::Range<usize>,
) -> Result<Vec<u8>, Problem> {
    let mut file = file
        .lock()
        .map_err(|_| Problem::Unreadable("the file handle is unusable".to_owned()))?;
    file.read_range(range.start as u64, (range.end - range.start) as u64)
        .map_err(|e| e.problem)
}

/// Little-endian bytes of `values` rounded to nearest in `dtype`.
pub fn encode_values(dtype: SourceDtype, values: &[f64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 8);
    for &v in values {
        match dtype {
            SourceDtype::F64 => out.extend_from_slice(&v.to_le_bytes()),
            SourceDtype::F32 => out.extend_from_slice(&(v as f32).to_le_bytes()),
            SourceDtype::F16 => out.extend_from_slice(&half::f16::from_f64(v).to_le_bytes()),
            SourceDtype::BF16 => out.extend_from_slice(&half::bf16::from_f64(v).to_le_bytes()),
        }
    }
    out
}

/// A new `.safetensors` file holding `(name, dtype, shape, row-major values)`
/// tensors, each value rounded to nearest in its dtype, in the given order.
pub fn encode(tensors: &[(&str, SourceDtype, Vec<usize>, Vec<f64>)]) -> Result<Vec<u8>, Problem> {
    let encoded: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, dtype, _, values)| encode_values(*dtype, values))
        .collect();
    let mut header = serde_json::Map::new();
    let mut offset = 0usize;
    for ((name, dtype, shape, values), bytes) in tensors.iter().zip(&encoded) {
        if element_count(shape) != Some(values.len()) {
            return Err(Problem::Other(format!(
                "{} values do not fill the shape of '{name}'",
                values.len()
            )));
        }
        let dtype_name = match dtype {
            SourceDtype::F64 => "F64",
            SourceDtype::F32 => "F32",
            SourceDtype::F16 => "F16",
            SourceDtype::BF16 => "BF16",
        };
        header.insert(
            (*name).to_owned(),
            serde_json::json!({
                "dtype": dtype_name,
                "shape": shape,
                "data_offsets": [offset, offset + bytes.len()],
            }),
        );
        offset += bytes.len();
    }
    let mut text = serde_json::Value::Object(header).to_string();
    // Pad the header with spaces to a multiple of 8 bytes, as the format
    // recommends for aligned reads.
    while (8 + text.len()) % 8 != 0 {
        text.push(' ');
    }
    let mut out = Vec::with_capacity(8 + text.len() + offset);
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    for bytes in encoded {
        out.extend_from_slice(&bytes);
    }
    Ok(out)
}

/// The entries of a validated header, in file order, with byte ranges
/// within the whole file (`data_start` = 8 + header length); every range
/// must end within `file_len` bytes.
fn entries_of(
    data_start: usize,
    metadata: &Metadata,
    file_len: u64,
) -> Result<Vec<Entry>, Problem> {
    let mut entries = Vec::new();
    for name in metadata.offset_keys() {
        let info = metadata
            .info(&name)
            .ok_or_else(|| Problem::CorruptHeader(format!("entry '{name}' vanished")))?;
        let (s, e) = info.data_offsets;
        let range = data_start + s..data_start + e;
        if range.end as u64 > file_len {
            return Err(Problem::DataLength {
                expected: (data_start + e) as u128,
                got: file_len as usize,
            });
        }
        let dtype = match info.dtype {
            Dtype::F64 => Some(SourceDtype::F64),
            Dtype::F32 => Some(SourceDtype::F32),
            Dtype::F16 => Some(SourceDtype::F16),
            Dtype::BF16 => Some(SourceDtype::BF16),
            _ => None,
        };
        entries.push(Entry {
            name,
            dtype_name: format!("{:?}", info.dtype),
            dtype,
            shape: info.shape.clone(),
            range,
        });
    }
    Ok(entries)
}

fn describe(e: safetensors::SafeTensorError) -> Problem {
    use safetensors::SafeTensorError as E;
    match e {
        E::HeaderTooSmall => {
            Problem::TruncatedHeader("the file is shorter than the 8-byte header length".into())
        }
        E::InvalidHeaderLength => {
            Problem::TruncatedHeader("the header length points past the end of the file".into())
        }
        E::HeaderTooLarge => {
            Problem::CorruptHeader("the header length is implausibly large".into())
        }
        E::InvalidHeader(_) => Problem::CorruptHeader("the header is not valid UTF-8".into()),
        E::InvalidHeaderDeserialization(err) => {
            Problem::CorruptHeader(format!("the header is not valid safetensors JSON ({err})"))
        }
        E::MetadataIncompleteBuffer => Problem::CorruptHeader(
            "the data length does not match the header (truncated or corrupt file)".into(),
        ),
        other => Problem::CorruptHeader(other.to_string()),
    }
}
