//! The summary of a whole-checkpoint sweep: how many tensors were
//! certified, how long it took, and an enclosure of the largest σ.
//!
//! If every certified tensor i has lowerᵢ ≤ σᵢ ≤ upperᵢ, then
//! maxᵢ lowerᵢ ≤ maxᵢ σᵢ ≤ maxᵢ upperᵢ (each σⱼ ≤ upperⱼ ≤ max upper, and
//! max σ ≥ σₖ ≥ lowerₖ for the k attaining max lower), so the summary's
//! `max_sigma` is an enclosure of the largest spectral norm among the
//! certified tensors, with no rounding (max is exact). It is rigorous when
//! every enclosure is; otherwise it fails with probability at most the sum
//! of the failure probabilities (union bound), summed with upward rounding.

use super::digits::certified_digits;
use super::report::{seconds_text, Bounds, TensorId};
use crate::io::escape::escape_name;
use crate::rounding::add_up;
use serde::Serialize;

/// An enclosure of the largest σ among the certified tensors.
#[derive(Debug, Clone, Serialize)]
pub struct MaxSigma {
    /// The largest certified lower bound (a lower bound on max σ).
    pub lower: f64,
    /// The largest upper bound (an upper bound on max σ).
    pub upper: f64,
    /// `"rigorous"` when every enclosure is, else `"probabilistic"`.
    pub guarantee: &'static str,
    /// Sum of the tensors' failure probabilities (0 when rigorous).
    pub failure_probability: f64,
    /// The tensor with the largest upper bound.
    pub tensor: Option<String>,
    /// Its file (shard).
    pub file: String,
}

/// The fields of the summary line.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryFields {
    /// Tensors certified.
    pub tensors: usize,
    /// Tensors planned but not certified (an error was reported for each).
    pub failed: usize,
    /// Wall-clock seconds of the whole sweep (opening files included).
    pub seconds: f64,
    /// Enclosure of the largest σ (`null` when nothing was certified).
    pub max_sigma: Option<MaxSigma>,
    /// The widest (upper − lower)/upper among the certified tensors
    /// (informative, computed in round-to-nearest; `null` when nothing was
    /// certified).
    pub max_relative_width: Option<f64>,
}

/// The summary line `{"summary": {...}}`.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryRecord {
    /// The summary.
    pub summary: SummaryFields,
}

/// Accumulates certified enclosures.
#[derive(Debug, Default)]
pub struct Summary {
    certified: usize,
    max: Option<MaxSigma>,
    max_rel_width: Option<f64>,
}

impl Summary {
    /// Adds one certified tensor.
    pub fn add(&mut self, id: &TensorId, b: &Bounds) {
        self.certified += 1;
        let rel = if b.upper > 0.0 {
            (b.upper - b.lower) / b.upper
        } else {
            0.0
        };
        self.max_rel_width = Some(self.max_rel_width.map_or(rel, |w| w.max(rel)));
        let m = self.max.get_or_insert_with(|| MaxSigma {
            lower: b.lower,
            upper: b.upper,
            guarantee: "rigorous",
            failure_probability: 0.0,
            tensor: id.tensor.clone(),
            file: id.file.clone(),
        });
        m.lower = m.lower.max(b.lower);
        if b.upper > m.upper {
            m.upper = b.upper;
            m.tensor = id.tensor.clone();
            m.file = id.file.clone();
        }
        if b.guarantee != "rigorous" {
            m.guarantee = "probabilistic";
        }
        // add_up always steps one ulp up: adding 0 would turn a rigorous
        // summary's 0 into the smallest subnormal.
        if b.failure_probability > 0.0 {
            m.failure_probability = add_up(m.failure_probability, b.failure_probability);
        }
    }

    /// The summary record, given how many tensors were planned and the
    /// sweep's wall-clock time.
    pub fn record(&self, planned: usize, seconds: f64) -> SummaryRecord {
        SummaryRecord {
            summary: SummaryFields {
                tensors: self.certified,
                failed: planned.saturating_sub(self.certified),
                seconds,
                max_sigma: self.max.clone(),
                max_relative_width: self.max_rel_width,
            },
        }
    }

    /// One human line: `7 tensors certified in 73.2 s (0 failed); largest
    /// σ 12.34[5, 6] (name); widest relative width 4.2e-9`.
    pub fn text(&self, planned: usize, seconds: f64) -> String {
        let r = self.record(planned, seconds).summary;
        let mut line = format!(
            "{} tensor{} certified in {} ({} failed)",
            r.tensors,
            if r.tensors == 1 { "" } else { "s" },
            seconds_text(seconds),
            r.failed
        );
        if let (Some(m), Some(w)) = (&r.max_sigma, r.max_relative_width) {
            let name = m
                .tensor
                .as_deref()
                .map_or_else(|| m.file.clone(), |t| escape_name(t).into_owned());
            let how = if m.guarantee == "rigorous" {
                String::new()
            } else {
                format!(", probabilistic δ ≤ {:e}", m.failure_probability)
            };
            line.push_str(&format!(
                "; largest σ {} ({name}{how}); widest relative width {w:.1e}",
                certified_digits(m.lower, m.upper)
            ));
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(lower: f64, upper: f64, delta: f64) -> Bounds {
        Bounds {
            lower,
            upper,
            estimate: lower,
            guarantee: if delta == 0.0 {
                "rigorous"
            } else {
                "probabilistic"
            },
            failure_probability: delta,
            method: "auto",
        }
    }

    fn id(name: &str) -> TensorId {
        TensorId {
            file: "f.safetensors".into(),
            tensor: Some(name.into()),
            shape: vec![2, 2],
            dtype: "f32".into(),
        }
    }

    #[test]
    fn the_max_enclosure_takes_each_side_separately() {
        let mut s = Summary::default();
        // Overlapping enclosures: the larger upper belongs to `b`, the
        // larger lower to `a`; max σ lies in [3.0, 3.5] either way.
        s.add(&id("a"), &bounds(3.0, 3.1, 0.0));
        s.add(&id("b"), &bounds(2.9, 3.5, 0.0));
        s.add(&id("c"), &bounds(1.0, 1.0, 0.0));
        let r = s.record(4, 2.0).summary;
        let m = r.max_sigma.unwrap();
        assert_eq!((m.lower, m.upper), (3.0, 3.5));
        assert_eq!(m.tensor.as_deref(), Some("b"));
        assert_eq!(m.guarantee, "rigorous");
        assert_eq!(m.failure_probability, 0.0);
        assert_eq!((r.tensors, r.failed), (3, 1));
        let w = r.max_relative_width.unwrap();
        assert!((w - 0.6 / 3.5).abs() < 1e-15);
        let text = s.text(4, 2.0);
        assert!(text.starts_with("3 tensors certified in 2.00 s (1 failed); largest σ "));
        assert!(text.contains("(b)"), "{text}");
    }

    #[test]
    fn one_probabilistic_enclosure_makes_the_max_probabilistic() {
        let mut s = Summary::default();
        s.add(&id("a"), &bounds(1.0, 1.1, 0.0));
        s.add(&id("b"), &bounds(0.5, 0.6, 1e-6));
        s.add(&id("c"), &bounds(0.5, 0.6, 1e-6));
        let m = s.record(3, 1.0).summary.max_sigma.unwrap();
        assert_eq!(m.guarantee, "probabilistic");
        assert!(m.failure_probability >= 2e-6);
        assert!(Summary::default()
            .record(2, 0.5)
            .summary
            .max_sigma
            .is_none());
    }
}
