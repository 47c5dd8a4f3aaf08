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
//! Max pooling joins the recursion in its tournament form
//! max(p, q) = (p + q)/2 + |p − q|/2 ([`max_pool_tournament`]: each level is
//! a linear map plus the elementwise ψ(t) = |t|/2, η = ½, c = 0, on the
//! differences), so its linearisation is an averaging map.
//! Other non-elementwise layers (softmax, non-zero-padded
//! convolutions, anything new) end a segment and contribute their own
//! certified constant (Lip(g∘h) ≤ Lip(g)Lip(h)); so does a segment whose
//! matrices would exceed the entry budget, except that its runs of
//! stride-1 zero-padded convolutions then take the Fourier route
//! ([`super::fourier`]).

use super::fourier::RangeBound;
use super::tracked::{apply_linear_node, is_linear, SparseMap, Tracked};
use crate::enclosure::Guarantee;
use crate::error::{Error, Result};
use crate::network::layer::{Layer, Node, SlopeInterval};
use crate::network::lipschitz::composed_upper;
use crate::rounding::{add_up, mul_up};
use crate::sigma::SigmaOptions;
use serde::Serialize;

/// Default limit on the entries of all matrices of one segment held at once.
pub const DEFAULT_MAX_ENTRIES: usize = 1 << 24;

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
    /// The factors of `upper` before its minimum with the whole product:
    /// consecutive node ranges covering the network (a segment, or the
    /// Fourier runs and the pieces between them of a split segment, or a
    /// barrier layer), each with min(its bound, its product).
    pub pieces: Vec<RangeBound>,
}

/// Whether a node can be part of a LipLT segment: a linear layer, an
/// elementwise activation with a slope interval, a residual block whose
/// branches hold only such nodes, and (when `join_max_pool`) max pooling in
/// its tournament form.
pub fn linearisable(node: &Node, join_max_pool: bool) -> bool {
    match &node.layer {
        Layer::Residual { body, shortcut } => {
            body.iter().all(|n| linearisable(n, join_max_pool))
                && shortcut
                    .as_ref()
                    .is_none_or(|s| s.iter().all(|n| linearisable(n, join_max_pool)))
        }
        Layer::MaxPool2d { pool, .. } => join_max_pool && max_pool_joinable(pool),
        layer => is_linear(layer) || layer.slope_interval().is_some(),
    }
}

/// Whether max pooling has a tournament form ([`max_pool_tournament`]):
/// every window non-empty.
pub fn max_pool_joinable(pool: &crate::network::pool::Pool2d) -> bool {
    pool.rows.windows.iter().all(|w| !w.is_empty())
        && pool.cols.windows.iter().all(|w| !w.is_empty())
}

/// The tournament form of max pooling: max(p, q) = (p + q)/2 + |p − q|/2,
/// where ψ(t) = |t|/2 is elementwise with slopes in [−½, ½] (c = 0, η = ½).
/// Returns the gather map G (window elements, output by output), then per
/// level the difference map D (inputs of ψ), the carry map S ((p + q)/2 for
/// pairs, p for an odd element) and the embedding E of ψ's outputs, so that
/// level values are V′ = S·V + E·ψ(D·V); after the last level V is the
/// max-pool output in order. Proof: proofs/theories/Multiplier.v,
/// `max_tournament` and `half_abs_slope_restricted`.
pub fn max_pool_tournament(
    channels: usize,
    pool: &crate::network::pool::Pool2d,
) -> (SparseMap, Vec<(SparseMap, SparseMap, SparseMap)>) {
    let (h, w) = (pool.rows.input_len, pool.cols.input_len);
    let mut gather = Vec::new();
    let mut slots: Vec<usize> = Vec::new(); // slots per output
    for c in 0..channels {
        for wi in &pool.rows.windows {
            for wj in &pool.cols.windows {
                let mut count = 0;
                for &i in wi {
                    for &j in wj {
                        gather.push(vec![(c * h * w + i * w + j, 1.0)]);
                        count += 1;
                    }
                }
                slots.push(count);
            }
        }
    }
    let g = SparseMap {
        cols: channels * h * w,
        rows: gather,
    };
    let mut levels = Vec::new();
    while slots.iter().any(|&k| k > 1) {
        let width: usize = slots.iter().sum();
        let (mut d, mut s, mut e) = (Vec::new(), Vec::new(), Vec::new());
        let mut next = Vec::with_capacity(slots.len());
        let mut base = 0;
        for &k in &slots {
            for p in 0..k / 2 {
                let (a, b) = (base + 2 * p, base + 2 * p + 1);
                e.push(vec![(d.len(), 1.0)]);
                d.push(vec![(a, 1.0), (b, -1.0)]);
                s.push(vec![(a, 0.5), (b, 0.5)]);
            }
            if k % 2 == 1 {
                e.push(vec![]);
                s.push(vec![(base + k - 1, 1.0)]);
            }
            next.push(k.div_ceil(2));
            base += k;
        }
        let pairs = d.len();
        levels.push((
            SparseMap {
                cols: width,
                rows: d,
            },
            SparseMap {
                cols: width,
                rows: s,
            },
            SparseMap {
                cols: pairs,
                rows: e,
            },
        ));
        slots = next;
    }
    (g, levels)
}

/// One matrix per source (x, then u₀, u₁, …); `None` = zero.
type State = Vec<Option<Tracked>>;

struct Recursion<'a> {
    options: &'a SigmaOptions,
    /// w₀ = 1 for x, w_{j+1} = ηⱼ·mⱼ for uⱼ.
    weights: Vec<f64>,
    guarantee: Guarantee,
    max_entries: usize,
    /// Per activation (in evaluation order): positive per-element scales D
    /// for positively homogeneous activations (second pass), see
    /// [`segment_liplt`].
    scales: Vec<Option<Vec<f64>>>,
    /// Activations seen so far.
    activations: usize,
    /// Per activation: weighted row norms of its input's terms and the
    /// elements per channel (first pass, for choosing D).
    row_norms: Vec<(Vec<f64>, usize, bool)>,
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
            let k = self.activations;
            self.activations += 1;
            let homogeneous = matches!(node.layer, Layer::Relu | Layer::LeakyRelu(_));
            let spatial: usize = node.shape_in.iter().skip(1).product();
            let mut rows = vec![0.0; n];
            for (s, t) in state.iter().enumerate() {
                if let Some(t) = t {
                    for (r, v) in rows.iter_mut().zip(t.row_norms()) {
                        *r += self.weights[s] * v;
                    }
                }
            }
            self.row_norms.push((rows, spatial.max(1), homogeneous));
            let d = self
                .scales
                .get(k)
                .cloned()
                .flatten()
                .filter(|d| homogeneous && d.len() == n && d.iter().all(|v| *v > 0.0));
            // ψ positively homogeneous: ψ(z) = D⁻¹ψ(Dz), and Lip(ψ(D z)) ≤ η Lip(D z).
            let m = match &d {
                Some(d) => {
                    let scaled: State = state
                        .iter()
                        .map(|t| t.as_ref().map(|t| t.scale_rows(d)))
                        .collect();
                    self.lipschitz_of(&scaled)?
                }
                None => self.lipschitz_of(&state)?,
            };
            let mut next: State = state
                .iter()
                .map(|t| t.as_ref().filter(|_| c != 0.0).map(|t| t.scale(c)))
                .collect();
            self.weights.push(mul_up(eta, m));
            // The new source's index is its weight's (a shortcut branch
            // starts from the block input's state, shorter than the body's).
            next.resize(self.weights.len() - 1, None);
            next.push(Some(match &d {
                Some(d) => {
                    // Powers of two: 1/dᵢ is exact.
                    let inv: Vec<f64> = d.iter().map(|v| 1.0 / v).collect();
                    Tracked::diagonal(&inv)
                }
                None => Tracked::identity(n),
            }));
            return Ok(Some(next));
        }
        if let Layer::MaxPool2d { channels, pool } = &node.layer {
            let (g, levels) = max_pool_tournament(*channels, pool);
            let cols: usize = state.iter().flatten().map(|t| t.cols).sum();
            if g.rows.len().saturating_mul(cols) > self.max_entries {
                return Ok(None);
            }
            let mut state = state
                .iter()
                .map(|t| t.as_ref().map(|t| g.apply(t)).transpose())
                .collect::<Result<State>>()?;
            for (d, s, e) in levels {
                let pairs = d.rows.len();
                if entries(&state).saturating_add(s.rows.len().saturating_mul(pairs))
                    > self.max_entries
                {
                    return Ok(None);
                }
                let z = state
                    .iter()
                    .map(|t| t.as_ref().map(|t| d.apply(t)).transpose())
                    .collect::<Result<State>>()?;
                let m = self.lipschitz_of(&z)?;
                state = state
                    .iter()
                    .map(|t| t.as_ref().map(|t| s.apply(t)).transpose())
                    .collect::<Result<State>>()?;
                self.weights.push(mul_up(0.5, m));
                state.resize(self.weights.len() - 1, None);
                state.push(Some(e.to_tracked()));
            }
            return Ok(Some(state));
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
    let run = |scales: Vec<Option<Vec<f64>>>| -> Result<Option<(f64, Recursion<'_>, State)>> {
        let mut r = Recursion {
            options,
            weights: vec![1.0],
            guarantee: Guarantee::Rigorous,
            max_entries,
            scales,
            activations: 0,
            row_norms: Vec::new(),
        };
        let Some(state) = r.run(nodes, vec![Some(Tracked::identity(n))])? else {
            return Ok(None);
        };
        let lip = r.lipschitz_of(&state)?;
        Ok(Some((lip, r, state)))
    };
    let Some((lip, r, state)) = run(Vec::new())? else {
        return Ok(None);
    };
    let scales = balancing_scales(&r, &state);
    if scales.iter().all(Option::is_none) {
        return Ok(Some((lip, r.guarantee)));
    }
    match run(scales)? {
        Some((lip2, r2, _)) if lip2 < lip => Ok(Some((lip2, r2.guarantee))),
        _ => Ok(Some((lip, r.guarantee))),
    }
}

/// Per-channel rescaling (issue item 3) for positively homogeneous
/// activations (ReLU, LeakyReLU): ψ(Dz) = Dψ(z) for every positive diagonal
/// D, so uₖ = D⁻¹ψ(Dzₖ), Lip(ψ(Dzₖ)) ≤ ηₖ·Lip(Dzₖ), and the recursion holds
/// with mₖ bounding Lip(Dzₖ) and the source uₖ entering through D⁻¹. Any D is
/// sound; this picks, per channel, the power of two nearest to
/// √(a_c/b_c), with a_c the norm of the channel's columns in the output's
/// term for uₖ and b_c the weighted norm of its rows in zₖ (balancing the two
/// factors of the product term), from a first pass with D = I.
fn balancing_scales(r: &Recursion<'_>, final_state: &State) -> Vec<Option<Vec<f64>>> {
    r.row_norms
        .iter()
        .enumerate()
        .map(|(k, (rows, spatial, homogeneous))| {
            if !homogeneous {
                return None;
            }
            let cols = final_state.get(k + 1)?.as_ref()?.column_norms();
            if cols.len() != rows.len() {
                return None;
            }
            let channels = rows.len().div_ceil(*spatial);
            let mut d = vec![1.0; rows.len()];
            for c in 0..channels {
                let range = c * spatial..((c + 1) * spatial).min(rows.len());
                let a: f64 = cols[range.clone()]
                    .iter()
                    .map(|v| v * v)
                    .sum::<f64>()
                    .sqrt();
                let b: f64 = rows[range.clone()]
                    .iter()
                    .map(|v| v * v)
                    .sum::<f64>()
                    .sqrt();
                if a > 0.0 && b > 0.0 && (a / b).is_finite() {
                    let e = (0.5 * (a / b).log2()).round().clamp(-60.0, 60.0) as i32;
                    d[range].iter_mut().for_each(|v| *v = 2f64.powi(e));
                }
            }
            Some(d)
        })
        .collect()
}

/// The LipLT bound of certified top-level `nodes` (see the module docs),
/// max pooling ending segments.
pub fn liplt_bound(
    nodes: &[Node],
    options: &SigmaOptions,
    max_entries: usize,
) -> Result<LipltBound> {
    liplt_bound_with(nodes, options, max_entries, false)
}

/// [`liplt_bound`], optionally with max pooling joined into segments in its
/// tournament form (tighter or looser depending on the network: on the
/// bundled example CNN it is looser, 3.00 against 1.61).
pub fn liplt_bound_with(
    nodes: &[Node],
    options: &SigmaOptions,
    max_entries: usize,
    join_max_pool: bool,
) -> Result<LipltBound> {
    let (product_all, g_all) = composed_upper(nodes)?;
    let mut upper = 1.0;
    let mut raw = 1.0;
    let mut guarantee = Guarantee::Rigorous;
    let mut segments = Vec::new();
    let mut pieces = Vec::new();
    let mut i = 0;
    while i < nodes.len() {
        let mut j = i;
        while j < nodes.len() && linearisable(&nodes[j], join_max_pool) {
            j += 1;
        }
        let end = if j == i { i + 1 } else { j };
        let (product, gp) = composed_upper(&nodes[i..end])?;
        let mut split = None;
        let liplt = if j > i {
            match segment_liplt(&nodes[i..end], options, max_entries)? {
                Some(l) => Some(l),
                // Too large for explicit matrices: Fourier runs of
                // convolutions where the segment has them.
                None => {
                    split = super::fourier::split_segment_pieces(
                        &nodes[i..end],
                        options,
                        max_entries,
                        super::fourier::DEFAULT_MAX_WORK,
                    )?;
                    split.as_deref().map(super::fourier::product_of)
                }
            }
        } else {
            None
        };
        let (seg, seg_raw) = match liplt {
            Some((l, g)) if l <= product => {
                guarantee = guarantee.combine(g);
                match split.take() {
                    Some(p) => pieces.extend(p.into_iter().map(|r| RangeBound {
                        start: r.start + i,
                        end: r.end + i,
                        ..r
                    })),
                    None => pieces.push(RangeBound {
                        start: i,
                        end,
                        value: l,
                        guarantee: g,
                    }),
                }
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
        // The branches that fell back to the product record it here.
        if !matches!(liplt, Some((l, _)) if l <= product) {
            pieces.push(RangeBound {
                start: i,
                end,
                value: product,
                guarantee: gp,
            });
        }
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
    if let Some((v, g, cover)) = cover_with_joint_bounds(nodes, &pieces)? {
        if v < upper {
            upper = v;
            guarantee = g;
            pieces = cover;
        }
    }
    if product_all < upper {
        return Ok(LipltBound {
            upper: product_all,
            guarantee: g_all,
            segments,
            raw,
            pieces,
        });
    }
    Ok(LipltBound {
        upper,
        guarantee,
        segments,
        raw,
        pieces,
    })
}

/// The smallest product over covers of `nodes` by consecutive ranges, each
/// either one of `pieces` (the segments' bounds) or a single node, a pair
/// (`with_next_upper`) or a group (`group_upper`, which may cross a segment
/// boundary such as an overlapping max pool) with its joint bound: the
/// product of certified bounds of consecutive maps bounds the composition
/// (Lip(g∘h) ≤ Lip(g)·Lip(h); proofs/theories/Lipschitz.v,
/// `lipschitz_comp`). Returns the product, its guarantee and the cover.
pub(super) fn cover_with_joint_bounds(
    nodes: &[Node],
    pieces: &[RangeBound],
) -> Result<Option<(f64, Guarantee, Vec<RangeBound>)>> {
    let n = nodes.len();
    // best[i]: (bound on nodes[..i], the last range of its cover).
    let mut best: Vec<Option<(f64, Guarantee, RangeBound)>> = vec![None; n + 1];
    let mut edges: Vec<RangeBound> = pieces.to_vec();
    for (i, node) in nodes.iter().enumerate() {
        let Some(b) = &node.bound else {
            return Ok(None);
        };
        let mut push = |end: usize, value: f64, guarantee: Guarantee| {
            edges.push(RangeBound {
                start: i,
                end,
                value,
                guarantee,
            })
        };
        push(i + 1, b.upper, b.guarantee);
        if let (Some(_), true) = (b.with_next_upper, i + 2 <= n) {
            let (value, guarantee) = composed_upper(&nodes[i..i + 2])?;
            push(i + 2, value, guarantee);
        }
        // A group's bound is rigorous on its own (`pool_group`).
        if let Some((k, joint)) = b.group_upper {
            if k >= 2 && i + k <= n {
                push(i + k, joint, Guarantee::Rigorous);
            }
        }
    }
    edges.sort_by_key(|e| e.start);
    let mut start_value = vec![None; n + 1];
    start_value[0] = Some((1.0, Guarantee::Rigorous));
    for e in &edges {
        let Some((v0, g0)) = start_value[e.start] else {
            continue;
        };
        let v = mul_up(v0, e.value);
        if best[e.end].as_ref().is_none_or(|(bv, _, _)| v < *bv) {
            best[e.end] = Some((v, g0.combine(e.guarantee), *e));
            start_value[e.end] = Some((v, g0.combine(e.guarantee)));
        }
    }
    let Some((total, g, _)) = best[n] else {
        return Ok(None);
    };
    let mut cover = Vec::new();
    let mut end = n;
    while end > 0 {
        let Some((_, _, r)) = &best[end] else {
            return Ok(None);
        };
        cover.push(*r);
        end = r.start;
    }
    cover.reverse();
    Ok(Some((total, g, cover)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::pool::{Pool2d, Windows1d};

    /// The tournament (G, then V′ = S·V + E·ψ(D·V), ψ(t) = |t|/2) reproduces
    /// max pooling exactly on dyadic inputs, odd and overlapping windows
    /// included.
    #[test]
    fn tournament_is_max_pooling() {
        for (k, s) in [(2usize, 2usize), (3, 1), (3, 2), (1, 1)] {
            let axis = Windows1d::strided(7, k, s, 0, 1, true).unwrap();
            let pool = Pool2d {
                rows: axis.clone(),
                cols: axis,
            };
            let channels = 2;
            let n = channels * 49;
            let x: Vec<f64> = (0..n)
                .map(|i| ((i * 37 % 23) as f64 - 11.0) / 4.0)
                .collect();
            let (g, levels) = max_pool_tournament(channels, &pool);
            let mat = |m: &SparseMap, v: &[f64]| -> Vec<f64> {
                m.rows
                    .iter()
                    .map(|r| r.iter().map(|&(c, a)| a * v[c]).sum())
                    .collect()
            };
            let mut v = mat(&g, &x);
            for (d, s, e) in &levels {
                let u: Vec<f64> = mat(d, &v).iter().map(|t| t.abs() / 2.0).collect();
                let carried = mat(s, &v);
                let added = mat(e, &u);
                v = carried.iter().zip(&added).map(|(a, b)| a + b).collect();
            }
            assert_eq!(v, pool.max_forward(channels, &x).0, "kernel {k} stride {s}");
        }
    }
}
