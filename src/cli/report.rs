//! What the commands print: JSON records (one object per line, numbers in
//! the shortest form that parses back to the same f64 — serde_json formats
//! f64 with ryu) and aligned text tables.

use crate::enclosure::{Enclosure, Guarantee};
use crate::io::error::format_shape;
use crate::io::escape::{escape_line, escape_name};
use crate::io::TensorInfo;
use serde::Serialize;
use std::path::Path;

/// The fields every per-tensor record starts with.
#[derive(Debug, Clone, Serialize)]
pub struct TensorId {
    /// The file, as given on the command line.
    pub file: String,
    /// The tensor's name (`null` for `.npy`).
    pub tensor: Option<String>,
    /// The tensor's shape.
    pub shape: Vec<usize>,
    /// The stored element type (`f64`, `f32`, `f16`, `bf16`).
    pub dtype: String,
}

impl TensorId {
    /// The id of tensor `info` of `file`.
    pub fn new(file: &Path, info: &TensorInfo) -> Self {
        Self {
            file: file.display().to_string(),
            tensor: info.name.clone(),
            shape: info.shape.clone(),
            dtype: info.dtype_name.clone(),
        }
    }

    /// Name for tables: the tensor name (control characters escaped), or
    /// `-` for `.npy`.
    pub fn display_name(&self) -> String {
        self.tensor
            .as_deref()
            .map_or_else(|| "-".to_owned(), |t| escape_name(t).into_owned())
    }

    /// `64x32`.
    pub fn display_shape(&self) -> String {
        format_shape(&self.shape)
    }
}

/// An enclosure as JSON fields.
#[derive(Debug, Clone, Serialize)]
pub struct Bounds {
    /// Certified lower bound.
    pub lower: f64,
    /// Upper bound (rigorous or probabilistic, see `guarantee`).
    pub upper: f64,
    /// Best estimate, inside `[lower, upper]`.
    pub estimate: f64,
    /// `"rigorous"` or `"probabilistic"`.
    pub guarantee: &'static str,
    /// δ for probabilistic results, 0 for rigorous ones.
    pub failure_probability: f64,
    /// The method's name.
    pub method: &'static str,
}

impl From<&Enclosure> for Bounds {
    fn from(e: &Enclosure) -> Self {
        Self {
            lower: e.lower(),
            upper: e.upper(),
            estimate: e.estimate(),
            guarantee: e.guarantee().name(),
            failure_probability: e.guarantee().failure_probability(),
            method: e.method().name(),
        }
    }
}

/// `lipcert sigma --json` record.
#[derive(Debug, Clone, Serialize)]
pub struct SigmaRecord {
    /// Which tensor.
    #[serde(flatten)]
    pub id: TensorId,
    /// The enclosure of σ.
    #[serde(flatten)]
    pub sigma: Bounds,
    /// Wall-clock seconds spent certifying.
    pub seconds: f64,
}

/// `lipcert conv --json` record: the `sigma` fields plus the reshaped-kernel
/// norm and the geometry.
#[derive(Debug, Clone, Serialize)]
pub struct ConvRecord {
    /// Which tensor.
    #[serde(flatten)]
    pub id: TensorId,
    /// The enclosure of the convolution's operator norm σ.
    #[serde(flatten)]
    pub sigma: Bounds,
    /// The enclosure of the reshaped-kernel norm ‖R‖ (what framework
    /// `spectral_norm` normalizes).
    pub reshaped_sigma: Bounds,
    /// Short description of the geometry.
    pub operator: String,
    /// (upper − lower)/upper of σ's enclosure.
    pub relative_width: f64,
    /// The `--rel-width` target asked for.
    pub target_rel_width: f64,
    /// Whether `relative_width` ≤ `target_rel_width` (false when even the
    /// escalation to the explicit matrix was unaffordable or not enough).
    pub target_met: bool,
    /// Wall-clock seconds spent certifying.
    pub seconds: f64,
}

/// `lipcert norms --json` record.
#[derive(Debug, Clone, Serialize)]
pub struct NormsRecord {
    /// Which tensor.
    #[serde(flatten)]
    pub id: TensorId,
    /// ℓ1 → ℓ1 operator norm (max absolute column sum).
    pub l1: Bounds,
    /// ℓ2 → ℓ2 operator norm σ.
    pub l2: Bounds,
    /// ℓ∞ → ℓ∞ operator norm (max absolute row sum).
    pub linf: Bounds,
    /// Wall-clock seconds for all three.
    pub seconds: f64,
}

/// `lipcert check --json` record.
#[derive(Debug, Clone, Serialize)]
pub struct CheckRecord {
    /// Which tensor.
    #[serde(flatten)]
    pub id: TensorId,
    /// The claimed σ.
    pub claimed: f64,
    /// The relative tolerance.
    pub rel_tol: f64,
    /// The enclosure of σ.
    #[serde(flatten)]
    pub sigma: Bounds,
    /// A certified lower bound on |claimed − σ|/σ (0 when the claim lies in
    /// the enclosure; `null` when σ may be 0).
    pub relative_error: Option<f64>,
    /// `"consistent"` (exit 0) or `"wrong"` (exit 1).
    pub verdict: &'static str,
    /// Wall-clock seconds spent certifying.
    pub seconds: f64,
}

/// `lipcert normalize --json` record.
#[derive(Debug, Clone, Serialize)]
pub struct NormalizeRecord {
    /// The written tensor (`file` is the output file).
    #[serde(flatten)]
    pub id: TensorId,
    /// The input file.
    pub input: String,
    /// σ of the input tensor.
    pub input_sigma: Bounds,
    /// The divisor σ̂ that was used.
    pub scale: f64,
    /// The enclosure of σ of the values as written to the output file.
    #[serde(flatten)]
    pub sigma: Bounds,
    /// Upper bound on |σ(output) − 1|.
    pub deviation_from_1: f64,
    /// Wall-clock seconds (certify input, write, re-read, certify output).
    pub seconds: f64,
}

/// One JSON line (serialization of these records cannot fail: no maps with
/// non-string keys; non-finite floats would become `null`, and lipcert never
/// produces them in these fields).
pub fn json_line<T: Serialize>(record: &T) -> String {
    serde_json::to_string(record).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// `rigorous` or `probabilistic (δ=1e-6)`.
pub fn guarantee_text(g: Guarantee) -> String {
    match g {
        Guarantee::Rigorous => "rigorous".to_owned(),
        Guarantee::Probabilistic {
            failure_probability,
        } => format!("probabilistic (δ={failure_probability:e})"),
    }
}

/// `850 µs`, `12.3 ms`, `1.24 s`.
pub fn seconds_text(s: f64) -> String {
    if s < 1e-3 {
        format!("{:.0} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

/// An aligned table: a header row and rows of cells, columns separated by
/// two spaces, left-aligned (widths counted in characters). Control
/// characters in cells are escaped (a cell is always one line).
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| escape_line(c).into_owned()).collect())
        .collect();
    let rows = rows.as_slice();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.zip(&widths).enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            s.push_str(cell);
            for _ in cell.chars().count()..*w {
                s.push(' ');
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(&mut headers.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out.pop();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_columns_align() {
        let t = table(
            &["a", "σ"],
            &[
                vec!["long-name".into(), "1".into()],
                vec!["x".into(), "22".into()],
            ],
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0].find('σ'), Some(11));
        assert_eq!(lines[1].find('1'), Some(11));
        assert_eq!(lines[2].find("22"), Some(11));
    }
}
