//! Certified upper bound on the Lipschitz constant of a whole network, next
//! to the best certified lower bound found by looking at its behaviour.
//!
//! Upper bound: the product of the certified layer upper bounds, rounded
//! upward (Lip(g∘h) ≤ Lip(g)·Lip(h)), where a convolution followed by a batch
//! norm counts as one folded layer when that is tighter.
//! Proof: proofs/theories/Lipschitz.v, `lipschitz_comp`.

use super::layer::Network;
use super::lipschitz::{certify_nodes, composed_upper};
use super::lower_bounds::{empirical_lower_bounds, LowerBoundOptions, LowerBoundReport};
use super::spec::NetworkSpec;
use super::weights::Weights;
use crate::enclosure::Guarantee;
use crate::error::Result;
use crate::rounding::div_up;
use crate::sigma::SigmaOptions;
use serde::Serialize;
use std::fmt;
#[cfg(feature = "io")]
use std::path::Path;
use std::time::Instant;

/// What [`certify_network_with`] computes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CertifyOptions {
    /// Options of the dense σ enclosures (linear layers, pooling factors,
    /// small convolutions).
    pub sigma: SigmaOptions,
    /// The empirical lower-bound search; `None` skips it (lower = 0).
    pub lower: Option<LowerBoundOptions>,
}

/// One row of the per-layer table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerReport {
    /// Position in the spec's `layers` list.
    pub index: usize,
    /// The spec's `"type"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Input shape.
    pub shape_in: Vec<usize>,
    /// Output shape.
    pub shape_out: Vec<usize>,
    /// Rigorous lower bound on the layer's constant (0 = not computed).
    pub lower: f64,
    /// Certified upper bound on the layer's constant.
    pub upper: f64,
    /// `"rigorous"` or `"probabilistic"`.
    pub guarantee: String,
    /// Seconds spent on this layer.
    pub seconds: f64,
    /// The theorem behind the bound.
    pub certificate: String,
    /// Certified upper bound of this layer composed with the next one, when
    /// tighter than the product (convolution + batch norm folded); the
    /// network bound uses it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub joint_upper_with_next: Option<f64>,
}

/// The network report (`lipcert certify --json` prints it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkReport {
    /// Certified upper bound on Lip(f) (ℓ₂ → ℓ₂).
    pub upper: f64,
    /// Best certified lower bound on Lip(f) found (0 when the search is off).
    pub lower: f64,
    /// upper/lower rounded upward (`null` when lower = 0).
    pub ratio: Option<f64>,
    /// Guarantee of `upper`.
    pub guarantee: String,
    /// δ of a probabilistic upper bound, 0 when rigorous.
    pub failure_probability: f64,
    /// Total seconds.
    pub seconds: f64,
    /// Per-layer rows.
    pub layers: Vec<LayerReport>,
    /// Where the lower bound came from.
    pub lower_sources: Option<LowerBoundReport>,
}

impl NetworkReport {
    /// The report as one JSON object (numbers round-trip exactly).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report serializes")
    }
}

impl fmt::Display for NetworkReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:>5}  {:<20} {:<14} {:<14} {:>24} {:>24}  {:<13} {:>8}",
            "layer", "type", "shape in", "shape out", "lower", "upper", "guarantee", "seconds"
        )?;
        for l in &self.layers {
            writeln!(
                f,
                "{:>5}  {:<20} {:<14} {:<14} {:>24e} {:>24e}  {:<13} {:>8.3}",
                l.index,
                l.kind,
                format!("{:?}", l.shape_in),
                format!("{:?}", l.shape_out),
                l.lower,
                l.upper,
                l.guarantee,
                l.seconds
            )?;
        }
        for l in &self.layers {
            if let Some(j) = l.joint_upper_with_next {
                writeln!(
                    f,
                    "layers {} + {} jointly (conv + batch norm folded): {:e}",
                    l.index,
                    l.index + 1,
                    j
                )?;
            }
        }
        writeln!(
            f,
            "network Lipschitz upper bound (certified, {}): {:e}",
            self.guarantee, self.upper
        )?;
        writeln!(
            f,
            "best certified lower bound (achieved):        {:e}",
            self.lower
        )?;
        match self.ratio {
            Some(r) => writeln!(f, "ratio upper/lower:                            {r:.4}")?,
            None => writeln!(
                f,
                "ratio upper/lower:                            n/a (no lower bound)"
            )?,
        }
        write!(f, "time: {:.3} s", self.seconds)
    }
}

/// Certifies every layer of `net` in place (fills `node.bound`).
pub fn certify_layers(
    net: &mut Network,
    options: &SigmaOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<()> {
    certify_nodes(&mut net.nodes, options, progress)
}

/// Certified Lipschitz bound of the network described by `spec` with
/// `weights`, with the default options (rigorous σ, default lower-bound
/// search). `progress(done, total)` is called after each top-level layer.
///
/// ```
/// use lipcert::network::{certify::certify_network, spec::NetworkSpec, weights::{Tensor, Weights}};
/// let spec = NetworkSpec::from_json(r#"{"weights": "-", "input_shape": [2], "layers": [
///     {"type": "linear", "weight": "a"}, {"type": "sigmoid"}, {"type": "linear", "weight": "b"}]}"#).unwrap();
/// let mut w = Weights::new();
/// w.insert("a", Tensor::new(vec![2, 2], vec![2.0, 0.0, 0.0, 1.0]).unwrap());
/// w.insert("b", Tensor::new(vec![1, 2], vec![3.0, 4.0]).unwrap());
/// let report = certify_network(&spec, &w, &mut |_, _| {}).unwrap();
/// // 2 · 1/4 · 5 = 2.5
/// assert!(report.upper >= 2.5 && report.upper < 2.5 * (1.0 + 1e-8));
/// assert!(report.lower <= 2.5 && report.lower > 0.0);
/// ```
pub fn certify_network(
    spec: &NetworkSpec,
    weights: &Weights,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<NetworkReport> {
    let options = CertifyOptions {
        lower: Some(LowerBoundOptions::default()),
        ..CertifyOptions::default()
    };
    certify_network_with(spec, weights, &options, progress)
}

/// [`certify_network`] with explicit options.
pub fn certify_network_with(
    spec: &NetworkSpec,
    weights: &Weights,
    options: &CertifyOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<NetworkReport> {
    let start = Instant::now();
    let mut net = Network::from_spec(spec, weights)?;
    certify_layers(&mut net, &options.sigma, progress)?;
    report_for(&net, options.lower.as_ref(), start)
}

#[cfg(feature = "io")]
/// Reads the spec file and its weights file, then [`certify_network`].
pub fn certify_spec_file(
    path: &Path,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<NetworkReport> {
    let spec = NetworkSpec::from_file(path)?;
    let weights = Weights::from_safetensors_file(Path::new(&spec.weights))?;
    certify_network(&spec, &weights, progress)
}

#[cfg(feature = "io")]
/// [`certify_spec_file`] with explicit options.
pub fn certify_spec_file_with(
    path: &Path,
    options: &CertifyOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<NetworkReport> {
    let spec = NetworkSpec::from_file(path)?;
    let weights = Weights::from_safetensors_file(Path::new(&spec.weights))?;
    certify_network_with(&spec, &weights, options, progress)
}

/// The report of an already certified network.
pub fn report_for(
    net: &Network,
    lower: Option<&LowerBoundOptions>,
    start: Instant,
) -> Result<NetworkReport> {
    let (upper, guarantee) = composed_upper(&net.nodes)?;
    let lower_sources = match lower {
        Some(o) => Some(empirical_lower_bounds(net, o)?),
        None => None,
    };
    let lower_value = lower_sources.as_ref().map(|l| l.best).unwrap_or(0.0);
    if lower_value > upper {
        // Both are certified: a contradiction proves a bug; never hide it.
        return Err(crate::Error::CertificateFailed(format!(
            "certified lower bound {lower_value:e} exceeds the certified upper bound {upper:e} (a bug in lipcert: please report it)"
        )));
    }
    let layers = net
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let b = n.bound.as_ref().expect("certified above");
            LayerReport {
                index: i,
                kind: n.kind.to_string(),
                shape_in: n.shape_in.clone(),
                shape_out: n.shape_out.clone(),
                lower: b.lower,
                upper: b.upper,
                guarantee: b.guarantee.name().to_string(),
                seconds: b.seconds,
                certificate: b.reason.to_string(),
                joint_upper_with_next: b.with_next_upper,
            }
        })
        .collect();
    Ok(NetworkReport {
        upper,
        lower: lower_value,
        ratio: (lower_value > 0.0).then(|| div_up(upper, lower_value)),
        guarantee: guarantee.name().to_string(),
        failure_probability: guarantee.failure_probability(),
        seconds: start.elapsed().as_secs_f64(),
        layers,
        lower_sources,
    })
}

/// The guarantee of a report as an enum (for callers that prefer it).
pub fn report_guarantee(report: &NetworkReport) -> Guarantee {
    if report.failure_probability > 0.0 {
        Guarantee::Probabilistic {
            failure_probability: report.failure_probability,
        }
    } else {
        Guarantee::Rigorous
    }
}
