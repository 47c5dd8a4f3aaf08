//! The LipLT / Combettes–Pesquet bound: every elementwise activation is
//! split as φ = c·Id + ψ (c near the midpoint of its slope interval [a, b],
//! Lip(ψ) ≤ η, see [`SlopeInterval::split`]), and the network is expanded
//! around the *linear* network obtained with φ = c·Id.
//!
//! # Theorem (general recursion, residual blocks included)
//! Take a segment of a network made of affine layers, elementwise
//! activations and residual sums (a series-parallel DAG). Number its
//! activations 0, 1, … in evaluation order, let zₖ(x) be the input of
//! activation k and uₖ = ψₖ(zₖ). With the uⱼ treated as extra inputs, every
//! zₖ and the output f are affine in (x, u₀, …, u_{k−1}):
//! zₖ = Hₖx + Σ_{j<k} G_{k,j}uⱼ + const, where Hₖ and G_{k,j} are the linear
//! maps of the linearised network (each activation j replaced by cⱼ·Id, uⱼ
//! entering after it). Since Lip(uⱼ) ≤ ηⱼ·Lip(zⱼ),
//!
//!   mₖ := ‖Hₖ‖ + Σ_{j<k} ‖G_{k,j}‖·ηⱼ·mⱼ ≥ Lip(zₖ),
//!   Lip(f) ≤ ‖H_out‖ + Σⱼ ‖G_{out,j}‖·ηⱼ·mⱼ
//!
//! (triangle inequality; induction on k). For a chain x_{k+1} = φₖ(Wₖxₖ)
//! this is the LipLT recursion m₀ = ‖W₀‖,
//! m_{k+1} = ‖W_{k+1}Ĥₖ⋯Ĥ₀‖ + Σ_{j≤k} ηⱼ‖W_{k+1}Ĥₖ⋯Ĥ_{j+1}‖mⱼ, Ĥₖ = cₖWₖ
//! (Fazlyab et al., NeurIPS 2023; Combettes & Pesquet, SIAM J. Math. Data
//! Sci. 2020); for a residual block x + Bφ(Ax) it gives
//! ‖I + cBA‖ + η‖B‖‖A‖. It never exceeds the product of layer constants
//! when |c| + η = max(|a|, |b|) (true for c the midpoint); the code takes
//! the minimum with the product anyway, so rounding never makes it worse.
//! (No factor ½ as in the published `cplip.jl`, which is unsound on
//! |x| = relu(x) + relu(−x).)
//!
//! # Floating point
//! Hₖ and G_{k,j} are formed explicitly, column by column through the
//! layers, as [`Tracked`] matrices carrying a rigorous bound on their
//! distance to the exact maps; each norm is σ_up(M̂) + err (Weyl).
//! Non-elementwise layers (max pooling, softmax, non-zero-padded
//! convolutions, anything new) end a segment and contribute their own
//! certified constant (Lip(g∘h) ≤ Lip(g)Lip(h)); so does a segment whose
//! matrices would exceed the entry budget.

use super::tracked::{apply_linear_node, is_linear, Tracked};
use crate::enclosure::Guarantee;
use crate::error::{Error, Result};
use crate::network::layer::{Layer, Node, SlopeInterval};
use crate::network::lipschitz::composed_upper;
use crate::rounding::{add_up, mul_up};
use crate::sigma::SigmaOptions;
use serde::Serialize;

/// Default limit on the entries of all matrices of one segment held at once.
pub const DEFAULT_MAX_ENTRIES: usize = 1 << 23;

/// The LipLT bound of one segment of top-level nodes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentBound {
    /// First node index.
    pub start: usize,
    /// One past the last node index.
    pub end: usize,
    /// Product of the segment's certified layer bounds.
    pub product: f64,
    /// The recursion's bound (`None` when the segment is a barrier layer or
    /// did not fit the entry budget).
    pub liplt: Option<f64>,
}

/// The LipLT bound of a whole network: the product over segments of
/// min(LipLT, product) and over barrier layers of their constants.
#[derive(Debug, Clone, PartialEq)]
pub struct LipltBound {
    /// Certified upper bound on Lip(f) (never above the product).
    pub upper: f64,
    /// Its guarantee.
    pub guarantee: Guarantee,
    /// Per segment.
    pub segments: Vec<SegmentBound>,
    /// The product over segments of the raw recursion value where it was
    /// computed, else the product (for tests of LipLT ≤ product).
    pub raw: f64,
}

/// Whether a node can be part of a LipLT segment: a linear layer, an
/// elementwise activation with a slope interval, or a residual block whose
/// branches hold only such nodes.
pub fn linearisable(node: &Node) -> bool {
    match &node.layer {
        Layer::Residual { body, shortcut } => {
            body.iter().all(linearisable)
                && shortcut.as_ref().is_none_or(|s| s.iter().all(linearisable))
        }
        layer => is_linear(layer) || layer.slope_interval().is_some(),
    }
}

/// One matrix per source (x, then u₀, u₁, …); `None` = zero.
type State = Vec<Option<Tracked>>;

struct Recursion<'a> {
    options: &'a SigmaOptions,
    /// w₀ = 1 for x, w_{j+1} = ηⱼ·mⱼ for uⱼ.
    weights: Vec<f64>,
    guarantee: Guarantee,
    max_entries: usize,
}

fn entries(state: &State) -> usize {
    state.iter().flatten().map(Tracked::entries).sum()
}

impl Recursion<'_> {
    /// Σ_s ‖T_s‖·w_s, rounded upward.
    fn lipschitz_of(&mut self, state: &State) -> Result<f64> {
        let mut total = 0.0;
        for (s, t) in state.iter().enumerate() {
            let (Some(t), w) = (t, self.weights[s]) else {
                continue;
            };
            if w == 0.0 {
                continue;
            }
            let (n, g) = t.norm_upper(self.options)?;
            self.guarantee = self.guarantee.combine(g);
            total = add_up(total, mul_up(n, w));
        }
        Ok(total)
    }

    fn run(&mut self, nodes: &[Node], mut state: State) -> Result<Option<State>> {
        for node in nodes {
            match self.step(node, state)? {
                Some(s) => state = s,
                None => return Ok(None),
            }
        }
        Ok(Some(state))
    }

    fn step(&mut self, node: &Node, state: State) -> Result<Option<State>> {
        if is_linear(&node.layer) {
            let rows: usize = node.shape_out.iter().product();
            let cols: usize = state.iter().flatten().map(|t| t.cols).sum();
            if rows.saturating_mul(cols) > self.max_entries {
                return Ok(None);
            }
            let next = state
                .iter()
                .map(|t| t.as_ref().map(|t| apply_linear_node(node, t)).transpose())
                .collect::<Result<State>>()?;
            return Ok(Some(next));
        }
        if let Some(interval) = node.layer.slope_interval() {
            let interval: SlopeInterval = interval?;
            let (c, eta) = interval.split();
            let n: usize = node.shape_in.iter().product();
            if entries(&state).saturating_add(n.saturating_mul(n)) > self.max_entries {
                return Ok(None);
            }
            let m = self.lipschitz_of(&state)?;
            let mut next: State = state
                .iter()
                .map(|t| t.as_ref().filter(|_| c != 0.0).map(|t| t.scale(c)))
                .collect();
            self.weights.push(mul_up(eta, m));
            next.push(Some(Tracked::identity(n)));
            return Ok(Some(next));
        }
        if let Layer::Residual { body, shortcut } = &node.layer {
            let Some(b) = self.run(body, state.clone())? else {
                return Ok(None);
            };
            let s = match shortcut {
                Some(sc) => self.run(sc, state)?,
                None => Some(state),
            };
            let Some(s) = s else {
                return Ok(None);
            };
            let len = self.weights.len();
            let mut out: State = Vec::with_capacity(len);
            for i in 0..len {
                out.push(
                    match (b.get(i).cloned().flatten(), s.get(i).cloned().flatten()) {
                        (Some(x), Some(y)) => Some(x.add(&y)?),
                        (x, y) => x.or(y),
                    },
                );
            }
            return Ok(Some(out));
        }
        Err(Error::InvalidOption(format!(
            "internal: layer '{}' in a LipLT segment",
            node.kind
        )))
    }
}

/// The raw recursion bound of one segment (`None` when over the entry
/// budget). The nodes must be certified and [`linearisable`].
pub fn segment_liplt(
    nodes: &[Node],
    options: &SigmaOptions,
    max_entries: usize,
) -> Result<Option<(f64, Guarantee)>> {
    let Some(first) = nodes.first() else {
        return Ok(Some((1.0, Guarantee::Rigorous)));
    };
    let n: usize = first.shape_in.iter().product();
    if n.saturating_mul(n) > max_entries {
        return Ok(None);
    }
    let mut r = Recursion {
        options,
        weights: vec![1.0],
        guarantee: Guarantee::Rigorous,
        max_entries,
    };
    let Some(state) = r.run(nodes, vec![Some(Tracked::identity(n))])? else {
        return Ok(None);
    };
    let lip = r.lipschitz_of(&state)?;
    Ok(Some((lip, r.guarantee)))
}

/// The LipLT bound of certified top-level `nodes` (see the module docs).
pub fn liplt_bound(
    nodes: &[Node],
    options: &SigmaOptions,
    max_entries: usize,
) -> Result<LipltBound> {
    let (product_all, g_all) = composed_upper(nodes)?;
    let mut upper = 1.0;
    let mut raw = 1.0;
    let mut guarantee = Guarantee::Rigorous;
    let mut segments = Vec::new();
    let mut i = 0;
    while i < nodes.len() {
        let mut j = i;
        while j < nodes.len() && linearisable(&nodes[j]) {
            j += 1;
        }
        let end = if j == i { i + 1 } else { j };
        let (product, gp) = composed_upper(&nodes[i..end])?;
        let liplt = if j > i {
            segment_liplt(&nodes[i..end], options, max_entries)?
        } else {
            None
        };
        let (seg, seg_raw) = match liplt {
            Some((l, g)) if l <= product => {
                guarantee = guarantee.combine(g);
                (l, l)
            }
            Some((l, _)) => {
                guarantee = guarantee.combine(gp);
                (product, l)
            }
            None => {
                guarantee = guarantee.combine(gp);
                (product, product)
            }
        };
        upper = mul_up(upper, seg);
        raw = mul_up(raw, seg_raw);
        segments.push(SegmentBound {
            start: i,
            end,
            product,
            liplt: liplt.map(|l| l.0),
        });
        i = end;
    }
    if product_all < upper {
        return Ok(LipltBound {
            upper: product_all,
            guarantee: g_all,
            segments,
            raw,
        });
    }
    Ok(LipltBound {
        upper,
        guarantee,
        segments,
        raw,
    })
}
