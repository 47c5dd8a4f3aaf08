//! Certified upper bound on the Lipschitz constant of a whole network, next
//! to the best certified lower bound found by looking at its behaviour.
//!
//! Upper bound: the product of the certified layer upper bounds, rounded
//! upward (Lip(g∘h) ≤ Lip(g)·Lip(h)), where a convolution followed by a batch
//! norm counts as one folded layer when that is tighter.
//! Proof: proofs/theories/Lipschitz.v, `lipschitz_comp`.

use super::bounds::{network_bounds, BoundMethod, NetworkBounds};
use super::layer::Network;
use super::lipschitz::certify_nodes;
use super::lower_bounds::{
    empirical_lower_bounds, CompensatedStage, LowerBoundOptions, LowerBoundReport,
};
use super::spec::NetworkSpec;
use super::weights::Weights;
use crate::enclosure::Guarantee;
use crate::error::Result;
use crate::rounding::div_up;
use crate::sigma::SigmaOptions;
use serde::Serialize;
use std::fmt;
use std::path::Path;
use std::time::Instant;

/// What [`certify_network_with`] computes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CertifyOptions {
    /// Options of the dense σ enclosures (linear layers, pooling factors,
    /// small convolutions). Its `memory` budget applies to every job of the
    /// network certificate (building, each layer, the lower-bound search).
    pub sigma: SigmaOptions,
    /// The empirical lower-bound search; `None` skips it (lower = 0).
    pub lower: Option<LowerBoundOptions>,
    /// The upper-bound methods to run (`None`: all of them; the product is
    /// always computed).
    pub methods: Option<Vec<BoundMethod>>,
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
    /// Certified upper bound of this layer composed with the layers after
    /// it up to an overlapping max pool
    /// ([`crate::network::pool_group`]), when the layers have that form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub joint_upper_group: Option<JointGroup>,
}

/// A joint bound over consecutive layers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct JointGroup {
    /// How many layers it covers, this one included.
    pub layers: usize,
    /// The certified upper bound on their composition.
    pub upper: f64,
}

/// The network report (`lipcert certify --json` prints it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkReport {
    /// Certified upper bound on Lip(f) (ℓ₂ → ℓ₂): the smallest of `bounds`.
    pub upper: f64,
    /// The method that gave `upper`.
    pub upper_method: String,
    /// Each method's certified upper bound.
    pub bounds: NetworkBounds,
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
            if let Some(g) = l.joint_upper_group {
                writeln!(
                    f,
                    "layers {}..{} jointly (through the max pool, weighted by window cover): {:e}",
                    l.index,
                    l.index + g.layers - 1,
                    g.upper
                )?;
            }
        }
        writeln!(
            f,
            "bound product (certified):                    {:e}",
            self.bounds.product
        )?;
        if let Some(l) = self.bounds.liplt {
            writeln!(f, "bound liplt (certified):                      {l:e}")?;
        }
        if let Some(m) = self.bounds.multiplier {
            writeln!(f, "bound multiplier (certified):                 {m:e}")?;
        }
        if let Some(c) = self.bounds.combined {
            writeln!(f, "bound combined (certified):                   {c:e}")?;
        }
        writeln!(
            f,
            "network Lipschitz upper bound (certified, {}): {:e}  [{}]",
            self.guarantee, self.upper, self.upper_method
        )?;
        writeln!(
            f,
            "best certified lower bound (achieved):        {:e}",
            self.lower
        )?;
        if let Some(LowerBoundReport {
            compensated: CompensatedStage::Skipped { needed_seconds },
            ..
        }) = &self.lower_sources
        {
            let need = match needed_seconds {
                Some(s) => format!("about {s:.0} s"),
                None => "more".to_string(),
            };
            writeln!(
                f,
                "note: rounding swamps the plain pairs; the compensated re-evaluation needs {need} of --lower-budget"
            )?;
        }
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
/// // The true constant: max over sigmoid slopes d ∈ [0, ¼]² of
/// // ‖(3·2·d₁, 4·d₂)‖ = ‖(1.5, 1)‖ = √3.25 ≈ 1.803. The product of layer
/// // bounds is 2 · ¼ · 5 = 2.5; LipLT (slopes ⅛ ± ⅛) gives
/// // ⅛‖(6, 4)‖ + ⅛ · 2 · 5 ≈ 2.151, and `upper` is the smaller.
/// assert!(report.upper >= 3.25f64.sqrt() && report.upper < 2.1514);
/// assert!(report.bounds.product >= 2.5 && report.bounds.product < 2.5 * (1.0 + 1e-8));
/// assert!(report.lower <= 3.25f64.sqrt() && report.lower > 0.0);
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
    let mut net = Network::from_spec_with(spec, weights, &options.sigma.memory)?;
    super::memory::check_certify_memory(&net, &options.sigma, options.lower.as_ref())?;
    certify_layers(&mut net, &options.sigma, progress)?;
    report_with(&net, options, start)
}

/// [`certify_network_with`], calling `lower_search_starts(budget_seconds)`
/// once when the lower-bound search begins (after every layer and every
/// upper-bound method), e.g. to show its progress on a terminal.
pub fn certify_network_with_hook(
    spec: &NetworkSpec,
    weights: &Weights,
    options: &CertifyOptions,
    progress: &mut dyn FnMut(usize, usize),
    lower_search_starts: &mut dyn FnMut(Option<f64>),
) -> Result<NetworkReport> {
    let start = Instant::now();
    let mut net = Network::from_spec_with(spec, weights, &options.sigma.memory)?;
    super::memory::check_certify_memory(&net, &options.sigma, options.lower.as_ref())?;
    certify_layers(&mut net, &options.sigma, progress)?;
    report_with_hook(&net, options, start, lower_search_starts)
}

/// Reads the spec file and its weights file, then [`certify_network`].
pub fn certify_spec_file(
    path: &Path,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<NetworkReport> {
    let spec = NetworkSpec::from_file(path)?;
    let weights = Weights::from_safetensors_file(Path::new(&spec.weights))?;
    certify_network(&spec, &weights, progress)
}

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

/// The report of an already certified network (every bound method, default
/// σ options).
pub fn report_for(
    net: &Network,
    lower: Option<&LowerBoundOptions>,
    start: Instant,
) -> Result<NetworkReport> {
    let options = CertifyOptions {
        lower: lower.cloned(),
        ..CertifyOptions::default()
    };
    report_with(net, &options, start)
}

/// The report of an already certified network with explicit options.
pub fn report_with(
    net: &Network,
    options: &CertifyOptions,
    start: Instant,
) -> Result<NetworkReport> {
    report_with_hook(net, options, start, &mut |_| {})
}

/// [`report_with`] with the hook of [`certify_network_with_hook`].
pub fn report_with_hook(
    net: &Network,
    options: &CertifyOptions,
    start: Instant,
    lower_search_starts: &mut dyn FnMut(Option<f64>),
) -> Result<NetworkReport> {
    let methods = options
        .methods
        .clone()
        .unwrap_or_else(|| BoundMethod::ALL.to_vec());
    let (bounds, guarantee) = network_bounds(net, &methods, &options.sigma)?;
    let (upper, method) = bounds.best();
    if !upper.is_finite() {
        // No certificate: the same refusal with or without the lower search.
        return Err(crate::Error::CertificateFailed(format!(
            "the network's certified upper bound overflows f64 (the composed layer bounds exceed {:e}): no finite Lipschitz bound can be certified",
            f64::MAX
        )));
    }
    let lower_sources = match options.lower.as_ref() {
        Some(o) => {
            lower_search_starts(o.budget_seconds);
            let tightened = with_block_bounds(net, &bounds);
            Some(empirical_lower_bounds(
                tightened.as_ref().unwrap_or(net),
                o,
            )?)
        }
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
                joint_upper_group: b
                    .group_upper
                    .map(|(layers, upper)| JointGroup { layers, upper }),
            }
        })
        .collect();
    Ok(NetworkReport {
        upper,
        upper_method: method.name().to_string(),
        bounds,
        lower: lower_value,
        ratio: (lower_value > 0.0).then(|| div_up(upper, lower_value)),
        guarantee: guarantee.name().to_string(),
        failure_probability: guarantee.failure_probability(),
        seconds: start.elapsed().as_secs_f64(),
        layers,
        lower_sources,
    })
}

/// A copy of `net` whose residual blocks carry their rigorous multiplier
/// bounds where smaller than their own (`None` when none is): the certified
/// forward error of the lower-bound search carries its input error through
/// a block by the block's constant (`evaluate` module docs), so every
/// tighter constant shrinks the error of every pair on deep networks.
/// Only for that search: the layer table and the product keep the layers'
/// own bounds.
fn with_block_bounds(net: &Network, bounds: &NetworkBounds) -> Option<Network> {
    if bounds.multiplier_guarantee != Some(Guarantee::Rigorous) {
        return None;
    }
    let tighter: Vec<(usize, f64)> = bounds
        .multiplier_pieces
        .iter()
        .filter(|p| p.kind == "residual" && p.end == p.start + 1)
        .filter(|p| {
            net.nodes
                .get(p.start)
                .and_then(|n| n.bound.as_ref())
                .is_some_and(|b| b.guarantee == Guarantee::Rigorous && p.multiplier < b.upper)
        })
        .map(|p| (p.start, p.multiplier))
        .collect();
    if tighter.is_empty() {
        return None;
    }
    let mut out = net.clone();
    for (i, v) in tighter {
        if let Some(b) = out.nodes[i].bound.as_mut() {
            b.upper = v;
        }
    }
    Some(out)
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
