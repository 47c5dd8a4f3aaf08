//! Reader and writer for NumPy `.npy` files (format versions 1.0, 2.0, 3.0)
//! holding float16/float32/float64 arrays in C or Fortran order, either byte
//! order.
//!
//! Layout (NumPy's `numpy.lib.format` specification): the magic string
//! `\x93NUMPY`, a major and a minor version byte, the header length (u16
//! little-endian for version 1, u32 for versions 2 and 3), then a Python dict
//! literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`
//! padded with spaces and a newline, then the raw elements.
//!
//! The parser is written for hostile input: every length is checked before
//! use, sizes are computed with overflow checks, and nothing is allocated
//! before the data length has been checked against the file.

use super::error::Problem;
use super::escape::escape_name;
use super::tensor::{c_to_fortran, element_count, fortran_to_c, Tensor};
use crate::matrix::SourceDtype;

/// The `.npy` magic string.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Element type and byte order of an `.npy` array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NpyDtype {
    /// The float format (`F16`, `F32` or `F64`; never `BF16`).
    pub dtype: SourceDtype,
    /// True for `>` (big-endian) descriptors.
    pub big_endian: bool,
}

impl NpyDtype {
    /// Little-endian array of `dtype` (`BF16` has no NumPy dtype and is
    /// refused by [`encode`]).
    pub fn little(dtype: SourceDtype) -> Self {
        Self {
            dtype,
            big_endian: false,
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        super::elements::element_size(self.dtype)
    }

    /// NumPy's descriptor, e.g. `<f4`.
    pub fn descr(self) -> String {
        let order = if self.big_endian { '>' } else { '<' };
        format!("{order}f{}", self.size())
    }
}

/// The parsed header of an `.npy` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyHeader {
    /// Element type and byte order.
    pub dtype: NpyDtype,
    /// True when the data are stored in column-major (Fortran) order.
    pub fortran_order: bool,
    /// The array's shape.
    pub shape: Vec<usize>,
    /// Offset of the first data byte.
    pub data_offset: usize,
}

/// NumPy's `np.load` refuses headers longer than this many characters
/// (`max_header_size`, numpy/lib/format.py); lipcert refuses them too.
pub const MAX_HEADER_LEN: usize = 10_000;

/// The offset of the first data byte (the end of the header) as declared by
/// the first 12 bytes of an `.npy` file, or `None` when those bytes are
/// missing, not a known `.npy` preamble, or declare a header longer than
/// [`MAX_HEADER_LEN`]. Lets a reader read the header
/// before deciding to read the data.
pub fn declared_data_offset(prefix: &[u8]) -> Option<usize> {
    if !prefix.starts_with(MAGIC) {
        return None;
    }
    let (len_size, header_len) = match (prefix.get(6)?, prefix.get(7)?) {
        (1, 0) => (
            2usize,
            usize::from(u16::from_le_bytes([*prefix.get(8)?, *prefix.get(9)?])),
        ),
        (2 | 3, 0) => (
            4,
            u32::from_le_bytes([
                *prefix.get(8)?,
                *prefix.get(9)?,
                *prefix.get(10)?,
                *prefix.get(11)?,
            ]) as usize,
        ),
        _ => return None,
    };
    if header_len > MAX_HEADER_LEN {
        return None;
    }
    (8 + len_size).checked_add(header_len)
}

/// Parses the header of an `.npy` file and checks that the data that follow
/// have exactly the length the header describes.
///
/// A header is accepted only when NumPy would read the same array from it:
/// format version 1.0, 2.0 or 3.0 (NumPy refuses every other version), at
/// most [`MAX_HEADER_LEN`] bytes of ASCII, exactly the keys `descr`,
/// `fortran_order` and `shape`, each once (NumPy keeps the *last* of
/// duplicated keys; a file that two readers see differently is refused),
/// strings without escapes, shapes written as Python tuples of decimal
/// integers (`(3)` is the integer 3 in Python, not a shape).
pub fn parse_header(bytes: &[u8]) -> Result<NpyHeader, Problem> {
    let (header, expected) = parse_header_only(bytes)?;
    let got = bytes.len() - header.data_offset;
    if expected != got as u128 {
        return Err(Problem::DataLength { expected, got });
    }
    Ok(header)
}

/// Parses the header at the start of `bytes` (which may end right after it)
/// and returns it with the number of data bytes it declares.
pub fn parse_header_only(bytes: &[u8]) -> Result<(NpyHeader, u128), Problem> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        if bytes.len() < MAGIC.len() && MAGIC.starts_with(bytes) {
            return Err(Problem::TruncatedHeader(format!(
                "the file has {} bytes, not even the 6-byte magic string",
                bytes.len()
            )));
        }
        return Err(Problem::CorruptHeader(
            "missing the .npy magic string \\x93NUMPY".to_owned(),
        ));
    }
    let version = bytes.get(6..8).ok_or_else(|| {
        Problem::TruncatedHeader("the file ends inside the version bytes".to_owned())
    })?;
    let (major, minor) = (version[0], version[1]);
    let (len_start, len_size) = match (major, minor) {
        (1, 0) => (8usize, 2usize),
        (2 | 3, 0) => (8, 4),
        _ => {
            return Err(Problem::CorruptHeader(format!(
                "unknown .npy format version {major}.{minor} (NumPy reads only 1.0, 2.0 and 3.0)"
            )))
        }
    };
    let len_bytes = bytes.get(len_start..len_start + len_size).ok_or_else(|| {
        Problem::TruncatedHeader("the file ends inside the header length".to_owned())
    })?;
    let header_len = if len_size == 2 {
        u16::from_le_bytes([len_bytes[0], len_bytes[1]]) as usize
    } else {
        u32::from_le_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]) as usize
    };
    if header_len > MAX_HEADER_LEN {
        return Err(Problem::CorruptHeader(format!(
            "the header is {header_len} bytes, more than NumPy's limit of {MAX_HEADER_LEN} (np.load refuses it too)"
        )));
    }
    let start = len_start + len_size;
    let data_offset = start
        .checked_add(header_len)
        .ok_or_else(|| Problem::CorruptHeader("header length overflows".to_owned()))?;
    let text = bytes.get(start..data_offset).ok_or_else(|| {
        Problem::TruncatedHeader(format!(
            "the header should be {header_len} bytes but the file ends after {}",
            bytes.len() - start
        ))
    })?;
    if let Some(pos) = text.iter().position(|b| !b.is_ascii()) {
        return Err(Problem::CorruptHeader(format!(
            "non-ASCII byte 0x{:02x} at byte {pos} of the header (NumPy would decode it differently by version)",
            text[pos]
        )));
    }
    let text = std::str::from_utf8(text)
        .map_err(|_| Problem::CorruptHeader("the header is not valid UTF-8".to_owned()))?;
    // Python 2 era headers may write `3L`; NumPy filters those only for
    // versions 1.0 and 2.0.
    let dict = parse_dict(text, major <= 2)?;
    let header = header_from_dict(dict, data_offset)?;
    let count = element_count(&header.shape)
        .ok_or_else(|| Problem::CorruptHeader("the shape's element count overflows".to_owned()))?;
    let expected = count as u128 * header.dtype.size() as u128;
    Ok((header, expected))
}

/// Reads an `.npy` file from its bytes: the header and the tensor (values in
/// row-major order, widened exactly to `f64`; NaN/Inf are kept — check them
/// with [`Tensor::check_finite`]).
///
/// ```
/// use lipcert::io::npy;
/// use lipcert::SourceDtype;
/// let bytes = npy::encode(&[2, 2], npy::NpyDtype::little(SourceDtype::F32), true, &[1.0, 2.0, 3.0, 4.0]).unwrap();
/// let (header, tensor) = npy::read(&bytes).unwrap();
/// assert!(header.fortran_order);
/// assert_eq!(tensor.values, vec![1.0, 2.0, 3.0, 4.0]);
/// ```
pub fn read(bytes: &[u8]) -> Result<(NpyHeader, Tensor), Problem> {
    let header = parse_header(bytes)?;
    let data = &bytes[header.data_offset..];
    let stored = super::elements::decode(header.dtype.dtype, header.dtype.big_endian, data);
    let values = if header.fortran_order {
        fortran_to_c(&header.shape, &stored)
    } else {
        stored
    };
    let tensor = Tensor {
        name: None,
        shape: header.shape.clone(),
        dtype: header.dtype.dtype,
        values,
    };
    Ok((header, tensor))
}

/// A new `.npy` file (format 1.0) holding `values_c` (row-major) converted to
/// `dtype` (rounded to nearest) and stored in Fortran order when
/// `fortran_order` is set.
///
/// Errors: `BF16` (NumPy has no such dtype), a length that does not match
/// the shape.
pub fn encode(
    shape: &[usize],
    dtype: NpyDtype,
    fortran_order: bool,
    values_c: &[f64],
) -> Result<Vec<u8>, Problem> {
    if dtype.dtype == SourceDtype::BF16 {
        return Err(Problem::UnsupportedDtype(
            "bf16 (NumPy has no bfloat16 dtype)".to_owned(),
        ));
    }
    check_len(shape, values_c)?;
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape_text = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let dict = format!(
        "{{'descr': '{}', 'fortran_order': {}, 'shape': {shape_text}, }}",
        dtype.descr(),
        if fortran_order { "True" } else { "False" }
    );
    // Pad so that the data start on a multiple of 64 bytes, as NumPy does.
    let unpadded = MAGIC.len() + 2 + 2 + dict.len() + 1;
    let padding = (64 - unpadded % 64) % 64;
    let header_len = dict.len() + padding + 1;
    let header_len16 = u16::try_from(header_len)
        .map_err(|_| Problem::Other("shape too long for an .npy 1.0 header".to_owned()))?;
    let mut out = Vec::with_capacity(unpadded + padding + values_c.len() * dtype.size());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&header_len16.to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.extend(std::iter::repeat_n(b' ', padding));
    out.push(b'\n');
    let header = NpyHeader {
        dtype,
        fortran_order,
        shape: shape.to_vec(),
        data_offset: 0,
    };
    encode_data_into(&header, values_c, &mut out);
    Ok(out)
}

/// The file `original` (whose parsed header is `header`) with its data
/// replaced by `values_c` (row-major), converted to the same dtype, byte order
/// and memory order. The header bytes are kept as they were.
pub fn replace_data(
    original: &[u8],
    header: &NpyHeader,
    values_c: &[f64],
) -> Result<Vec<u8>, Problem> {
    check_len(&header.shape, values_c)?;
    let mut out = original
        .get(..header.data_offset)
        .ok_or_else(|| Problem::Other("header offset beyond the file".to_owned()))?
        .to_vec();
    encode_data_into(header, values_c, &mut out);
    Ok(out)
}

fn check_len(shape: &[usize], values: &[f64]) -> Result<(), Problem> {
    if element_count(shape) != Some(values.len()) {
        return Err(Problem::Other(format!(
            "{} values do not fill shape {:?}",
            values.len(),
            shape
        )));
    }
    Ok(())
}

fn encode_data_into(header: &NpyHeader, values_c: &[f64], out: &mut Vec<u8>) {
    let stored = if header.fortran_order {
        c_to_fortran(&header.shape, values_c)
    } else {
        values_c.to_vec()
    };
    let be = header.dtype.big_endian;
    for v in stored {
        match header.dtype.dtype {
            SourceDtype::F64 => {
                out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() })
            }
            SourceDtype::F32 => {
                let x = v as f32;
                out.extend_from_slice(&if be { x.to_be_bytes() } else { x.to_le_bytes() })
            }
            SourceDtype::F16 => {
                let x = half::f16::from_f64(v);
                out.extend_from_slice(&if be { x.to_be_bytes() } else { x.to_le_bytes() })
            }
            SourceDtype::BF16 => {
                let x = half::bf16::from_f64(v);
                out.extend_from_slice(&if be { x.to_be_bytes() } else { x.to_le_bytes() })
            }
        }
    }
}

/// A value of the header dict.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Str(String),
    Bool(bool),
    Tuple(Vec<u64>),
    /// Anything else (lists for structured dtypes, …): kept as a marker.
    Other,
}

fn header_from_dict(dict: Vec<(String, Value)>, data_offset: usize) -> Result<NpyHeader, Problem> {
    for (i, (key, _)) in dict.iter().enumerate() {
        if !["descr", "fortran_order", "shape"].contains(&key.as_str()) {
            return Err(Problem::CorruptHeader(format!(
                "unexpected key '{}' (NumPy refuses headers with keys other than descr, fortran_order, shape)",
                escape_name(key)
            )));
        }
        if dict[..i].iter().any(|(k, _)| k == key) {
            return Err(Problem::CorruptHeader(format!(
                "duplicated key '{key}' (NumPy would use the last one, other readers the first: refused as ambiguous)"
            )));
        }
    }
    let get = |key: &str| dict.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    let descr = match get("descr") {
        Some(Value::Str(s)) => s.clone(),
        Some(_) => {
            return Err(Problem::UnsupportedDtype(
                "structured (record) dtype".to_owned(),
            ))
        }
        None => return Err(Problem::CorruptHeader("no 'descr' key".to_owned())),
    };
    let fortran_order = match get("fortran_order") {
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(Problem::CorruptHeader(
                "'fortran_order' is not True or False".to_owned(),
            ))
        }
        None => return Err(Problem::CorruptHeader("no 'fortran_order' key".to_owned())),
    };
    let shape = match get("shape") {
        Some(Value::Tuple(dims)) => dims
            .iter()
            .map(|&d| usize::try_from(d))
            .collect::<Result<Vec<usize>, _>>()
            .map_err(|_| Problem::CorruptHeader("a dimension does not fit in usize".to_owned()))?,
        Some(_) => return Err(Problem::CorruptHeader("'shape' is not a tuple".to_owned())),
        None => return Err(Problem::CorruptHeader("no 'shape' key".to_owned())),
    };
    let dtype = parse_descr(&descr)?;
    Ok(NpyHeader {
        dtype,
        fortran_order,
        shape,
        data_offset,
    })
}

/// The dtype of a descriptor with an explicit byte order (`<f8`, `>f4`, …).
/// `=f8`, `|f8` and `f8` mean the *reading machine's* byte order, so two
/// NumPy installations can read such a file differently; NumPy itself always
/// writes `<` or `>` for multi-byte types. They are refused.
fn parse_descr(descr: &str) -> Result<NpyDtype, Problem> {
    let unsupported = || Problem::UnsupportedDtype(format!("'{}'", escape_name(descr)));
    let mut chars = descr.chars();
    let (big_endian, rest) = match chars.next() {
        Some('<') => (false, chars.as_str()),
        Some('>') => (true, chars.as_str()),
        Some('=' | '|') if matches!(chars.as_str(), "f8" | "f4" | "f2") => {
            return Err(Problem::CorruptHeader(format!(
                "descr '{descr}' leaves the byte order to the reading machine (ambiguous); expected '<' or '>'"
            )))
        }
        _ => return Err(unsupported()),
    };
    let dtype = match rest {
        "f8" => SourceDtype::F64,
        "f4" => SourceDtype::F32,
        "f2" => SourceDtype::F16,
        _ => return Err(unsupported()),
    };
    Ok(NpyDtype { dtype, big_endian })
}

/// Parses the header's Python dict literal (string keys; string, bool and
/// integer-tuple values; anything else becomes `Value::Other`). Only the
/// subset of Python literal syntax whose meaning is unambiguous is accepted:
/// no string escapes, decimal integers without leading zeros (`3L` only when
/// `allow_long`, for version 1.0/2.0 files).
fn parse_dict(text: &str, allow_long: bool) -> Result<Vec<(String, Value)>, Problem> {
    let mut p = Parser {
        s: text.as_bytes(),
        pos: 0,
        allow_long,
    };
    p.skip_ws();
    p.expect(b'{')?;
    let mut entries = Vec::new();
    loop {
        p.skip_ws();
        if p.eat(b'}') {
            break;
        }
        let key = p.string()?;
        p.skip_ws();
        p.expect(b':')?;
        p.skip_ws();
        let value = p.value(0)?;
        entries.push((key, value));
        p.skip_ws();
        if p.eat(b',') {
            continue;
        }
        p.skip_ws();
        p.expect(b'}')?;
        break;
    }
    p.skip_ws();
    if p.pos != p.s.len() {
        return Err(Problem::CorruptHeader(
            "unexpected text after the header dict".to_owned(),
        ));
    }
    Ok(entries)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    allow_long: bool,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\t' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), Problem> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.error(&format!("expected '{}'", c as char)))
        }
    }

    fn error(&self, what: &str) -> Problem {
        Problem::CorruptHeader(format!("{what} at byte {} of the header dict", self.pos))
    }

    fn string(&mut self) -> Result<String, Problem> {
        let quote = match self.peek() {
            Some(q @ (b'\'' | b'"')) => q,
            _ => return Err(self.error("expected a quoted string")),
        };
        self.pos += 1;
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c == b'\\' || c == b'\n' || c == b'\r' {
                return Err(self.error("escape or line break inside a string"));
            }
            if c == quote {
                let s = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
                self.pos += 1;
                return Ok(s);
            }
            self.pos += 1;
        }
        Err(self.error("unterminated string"))
    }

    fn value(&mut self, depth: usize) -> Result<Value, Problem> {
        if depth > 16 {
            return Err(self.error("nesting too deep"));
        }
        match self.peek() {
            Some(b'\'' | b'"') => Ok(Value::Str(self.string()?)),
            Some(b'(') => self.tuple(depth),
            Some(b'[') => {
                self.skip_bracketed(depth)?;
                Ok(Value::Other)
            }
            Some(b'T') if self.s[self.pos..].starts_with(b"True") => {
                self.pos += 4;
                Ok(Value::Bool(true))
            }
            Some(b'F') if self.s[self.pos..].starts_with(b"False") => {
                self.pos += 5;
                Ok(Value::Bool(false))
            }
            _ => Err(self.error("unexpected value")),
        }
    }

    fn tuple(&mut self, depth: usize) -> Result<Value, Problem> {
        self.expect(b'(')?;
        let mut dims = Vec::new();
        let mut other = false;
        let mut items = 0usize;
        let mut trailing_comma = false;
        loop {
            self.skip_ws();
            if self.eat(b')') {
                break;
            }
            items += 1;
            trailing_comma = false;
            match self.peek() {
                Some(c) if c.is_ascii_digit() => dims.push(self.integer()?),
                _ => {
                    self.value(depth + 1)?;
                    other = true;
                }
            }
            self.skip_ws();
            if self.eat(b',') {
                trailing_comma = true;
                continue;
            }
            self.skip_ws();
            self.expect(b')')?;
            break;
        }
        // `(3)` is the integer 3 in Python, not a one-element tuple.
        if items == 1 && !trailing_comma {
            return Ok(Value::Other);
        }
        Ok(if other {
            Value::Other
        } else {
            Value::Tuple(dims)
        })
    }

    fn integer(&mut self) -> Result<u64, Problem> {
        if self.peek() == Some(b'0')
            && matches!(self.s.get(self.pos + 1), Some(c) if c.is_ascii_alphanumeric() || *c == b'_')
        {
            return Err(self.error("integer with a leading zero or a prefix"));
        }
        let mut n: u64 = 0;
        while let Some(c) = self.peek() {
            if !c.is_ascii_digit() {
                break;
            }
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(c - b'0')))
                .ok_or_else(|| self.error("dimension too large"))?;
            self.pos += 1;
        }
        // Python 2 era headers may write `3L` (NumPy filters it out for
        // versions 1.0 and 2.0 only).
        if self.allow_long {
            self.eat(b'L');
        }
        Ok(n)
    }

    fn skip_bracketed(&mut self, depth: usize) -> Result<(), Problem> {
        self.expect(b'[')?;
        loop {
            self.skip_ws();
            if self.eat(b']') {
                return Ok(());
            }
            match self.peek() {
                Some(c) if c.is_ascii_digit() => {
                    self.integer()?;
                }
                _ => {
                    self.value(depth + 1)?;
                }
            }
            self.skip_ws();
            if !self.eat(b',') {
                self.skip_ws();
                return self.expect(b']');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numpy_style_headers() {
        let d = parse_dict(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }    \n",
            true,
        )
        .unwrap();
        let h = header_from_dict(d, 128).unwrap();
        assert_eq!(h.shape, vec![3, 4]);
        assert!(!h.fortran_order);
        assert_eq!(h.dtype, NpyDtype::little(SourceDtype::F64));
        let d = parse_dict(
            "{\"descr\": \">f4\", \"shape\": (7,), \"fortran_order\": True}",
            false,
        )
        .unwrap();
        let h = header_from_dict(d, 0).unwrap();
        assert_eq!(h.shape, vec![7]);
        assert!(h.dtype.big_endian && h.fortran_order);
    }

    #[test]
    fn refuses_what_numpy_could_read_differently() {
        for descr in ["=f8", "|f4", "f8"] {
            assert!(parse_descr(descr).is_err(), "{descr}");
        }
        let dict =
            |text: &str, long: bool| parse_dict(text, long).and_then(|d| header_from_dict(d, 0));
        let ok = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }";
        assert_eq!(dict(ok, false).unwrap().shape, vec![3, 4]);
        for (bad, long) in [
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), 'shape': (4, 3)}",
                true,
            ),
            (
                "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (3, 4)}",
                true,
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), 'x': 'y'}",
                true,
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (12)}",
                true,
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (03, 4)}",
                true,
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (0x3, 4)}",
                true,
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 4)}",
                false,
            ),
            (
                "{'descr': '<\\x66\\x38', 'fortran_order': False, 'shape': (3, 4)}",
                true,
            ),
            ("{'descr': '<f8', 'fortran_order': False}", true),
        ] {
            assert!(dict(bad, long).is_err(), "{bad}");
        }
        assert_eq!(
            dict(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 4L)}",
                true
            )
            .unwrap()
            .shape,
            vec![3, 4]
        );
        assert_eq!(
            dict(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (0,)}",
                true
            )
            .unwrap()
            .shape,
            vec![0]
        );
        assert!(dict(
            "{'descr': '<f8', 'fortran_order': False, 'shape': ()}",
            true
        )
        .unwrap()
        .shape
        .is_empty());
    }

    #[test]
    fn refuses_other_dtypes() {
        for descr in ["<i8", "<c16", "|b1", "<U3", "|O"] {
            assert!(matches!(
                parse_descr(descr),
                Err(Problem::UnsupportedDtype(_))
            ));
        }
        let d = parse_dict(
            "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }",
            true,
        )
        .unwrap();
        assert!(matches!(
            header_from_dict(d, 0),
            Err(Problem::UnsupportedDtype(_))
        ));
    }

    #[test]
    fn encoded_headers_are_64_byte_aligned_and_round_trip() {
        for shape in [vec![5], vec![2, 3], vec![1, 2, 3, 4]] {
            let n: usize = shape.iter().product();
            let values: Vec<f64> = (0..n).map(|k| k as f64 * 0.5 - 1.0).collect();
            for fortran in [false, true] {
                for dtype in [SourceDtype::F64, SourceDtype::F32, SourceDtype::F16] {
                    let bytes = encode(&shape, NpyDtype::little(dtype), fortran, &values).unwrap();
                    let (h, t) = read(&bytes).unwrap();
                    assert_eq!(h.data_offset % 64, 0);
                    assert_eq!(t.shape, shape);
                    assert_eq!(t.values, values);
                }
            }
        }
    }
}
