//! The Fourier route of LipLT: the recursion of [`super::liplt`] on runs of
//! stride-1 zero-padded convolutions, evaluated frequency by frequency on a
//! common circular grid, so that it reaches convolutional networks whose
//! explicit matrices do not fit in memory.
//!
//! # Theorem (lifting a run to a circular grid)
//! Let a *run* be a sequence of top-level nodes on images C×H×W of one
//! spatial size Ω = H×W, made of: zero-padded convolutions with stride 1 and
//! output size H×W (any kernel, dilation, groups, per-side padding),
//! eval-mode batch norms (per-channel affine), elementwise activations with a
//! slope interval [a, b], and residual blocks x ↦ body(x) + shortcut(x)
//! whose branches are runs; every convolution must read a *masked* value
//! (below). Choose N = (N₁, N₂) with Nᵢ ≥ (H, W)ᵢ + top + bottom (left +
//! right) of every convolution of the run, and let E: ℝ^{C×Ω} → ℝ^{C×N}
//! place Ω at the origin and zero-fill, R = Eᵀ, M = ER (a 0/1 diagonal).
//!
//! 1. *A zero-padded stride-1 convolution is R·C·E* with C the circular
//!    convolution on ℤ_N with taps at q = d·a − p (p the top/left padding,
//!    [`crate::conv::product_symbol`]): for an output i ∈ [0, H) the read
//!    index i + q lies in [−top, H − 1 + bottom]; indices in [−top, −1] wrap
//!    to [N₁ − top, N₁ − 1] ⊂ [H + bottom, N₁), and indices in [H, H − 1 +
//!    bottom] stay below N₁; both lie outside Ω where Ex is 0, exactly the
//!    zeros of the padding, and indices in Ω are read unchanged.
//! 2. *The lifted network.* Call a lifted value v masked when v = E·y + κ for
//!    the true value y and some κ independent of the input x. Lift x to Ex
//!    (masked); a convolution maps a masked v to Cv (so Rv′ = R C E y + RCκ,
//!    the true output up to a constant; no longer masked); a batch norm
//!    (per-channel D, β) maps v to Dv + β (it commutes with E and R, and
//!    keeps v masked); a residual sum adds the branches (masked iff both
//!    are); an activation φ at pre-activation w with Rw = z + κ′ (z the true
//!    pre-activation) outputs φ̃(w) with φ̃ₚ(t) = φ(t − κ′ₚ) for p ∈ Ω and
//!    φ̃ₚ(t) = 0 for p ∉ Ω, so φ̃(w) = E·φ(z): masked. The bias of every
//!    layer is in the constants, so biases never break the masking (off Ω
//!    the lifted activation is the constant 0, whatever its input). By
//!    induction the run's output is R applied to the lifted output (up to a
//!    constant), and f = R∘f̃∘E + const, so Lip(f) ≤ Lip(f̃) (‖R‖, ‖E‖ ≤ 1).
//!    A convolution reading an unmasked value (two linear layers without an
//!    activation between them) is not covered (C₂MC₁ ≠ C₂C₁): such nodes end
//!    a run.
//! 3. *Slopes.* φ̃ is elementwise with every difference quotient in
//!    [a, b] on Ω and 0 off Ω, i.e. in [min(a, 0), max(b, 0)]; the recursion
//!    uses the split of that interval (for ReLU, tanh, sigmoid, GELU, SiLU it
//!    is [a, b] itself: c, η unchanged; LeakyReLU(s) with 0 < s becomes
//!    [0, max(s, 1)]). When N = Ω (no padding anywhere) no masking is
//!    needed and [a, b] is kept. Any activation with a slope interval
//!    qualifies (no φ(0) = 0 is needed).
//! 4. *Fourier blocks.* The LipLT recursion on f̃ (theorem of
//!    [`super::liplt`]) needs ‖Hₖ‖ and ‖G_{k,j}‖, each a sum of products of
//!    circular convolutions, per-channel diagonals and scalars on ℤ_N: block
//!    diagonalised by the DFT (one c_out×c_in block per frequency ω), so
//!    ‖T‖ = max_ω ‖T̂(ω)‖ with T̂(ω) the same sum of products of the layers'
//!    symbols ([`crate::conv::product_symbol`]; Sedghi, Gupta & Long, ICLR
//!    2019). Only the norms depend on ω, so each frequency runs the
//!    linearised network once, recording ‖T̂(ω)‖ for every (activation,
//!    source) pair; the maxima over ω then feed the recursion
//!    mₖ = Σ_s max_ω‖T̂_{k,s}(ω)‖·w_s. Real layers give T̂(−ω) = conj T̂(ω),
//!    so the half plane ω₂ ≤ N₂/2 suffices.
//!
//! Stride ≠ 1 (the polyphase form would be needed), non-zero padding modes
//! and non-image layers end a run; they are bounded by the explicit route or
//! by their product ([`split_segment_bound`]).
//!
//! # Floating point
//! Every matrix is a [`Tracked`] real form [[X, −Y], [Y, X]] of the complex
//! T̂(ω) with a rigorous bound on its distance to the exact one (module docs
//! of [`super::tracked`]); the symbols carry the bound of
//! [`GridSymbol::error`]. A product fl(ÂB̂) of an n-column Â satisfies
//! |fl(ÂB̂) − ÂB̂| ≤ γₙ|Â||B̂| + n·η entrywise (any summation order, Higham
//! §3.1), so ‖·‖₂ ≤ γₙ‖Â‖_F‖B̂‖_F + n·η·√(entries), and
//! ‖AB − ÂB̂‖ ≤ err_A·(‖B̂‖_F + err_B) + ‖Â‖_F·err_B. Batch-norm scales d̂
//! with |d̂ − d| ≤ δ add δ·(‖M̂‖_F + err). Norms are σ_up + err (Weyl),
//! σ_up certified by [`crate::sigma()`].

use super::liplt::{linearisable, segment_liplt};
use super::tracked::Tracked;
use crate::conv::product_symbol::{half_plane, GridConv, GridSymbol};
use crate::conv::PaddingMode;
use crate::enclosure::Guarantee;
use crate::error::{Error, Result};
use crate::network::conv_layer::ConvLayer;
use crate::network::layer::{Layer, Node, SlopeInterval};
use crate::network::lipschitz::{bn_scales, composed_upper};
use crate::rounding::{add_up, gamma, mul_up, norm2_up, sqrt_up, sum_up, usize_up, ETA};
use crate::sigma::SigmaOptions;

/// Default limit on the work of one run: frequencies × (activations + 2)² ×
/// (2·channels)³ (a rough count of the flops of its products and norms).
pub const DEFAULT_MAX_WORK: f64 = 4e12;

/// The image size (H, W) of a node's input, if it is an image C×H×W.
fn image_hw(shape: &[usize]) -> Option<(usize, usize)> {
    (shape.len() == 3).then(|| (shape[1], shape[2]))
}

/// Whether a convolution can be lifted (stride 1, zero padding, output size
/// = input size = `hw`).
fn liftable_conv(c: &ConvLayer, hw: (usize, usize)) -> bool {
    c.mode == PaddingMode::Zeros && c.stride == (1, 1) && c.in_hw == hw && c.out_hw == hw
}

/// Checks `nodes` against the run grammar of the module theorem, given
/// whether the input is masked; grows `grid` to every convolution's padded
/// size and counts convolutions, activations and the widest channel count.
/// Returns whether the output is masked, `None` if not a run.
fn scan(
    nodes: &[Node],
    hw: (usize, usize),
    mut masked: bool,
    stats: &mut RunStats,
) -> Option<bool> {
    for node in nodes {
        if image_hw(&node.shape_in) != Some(hw) || image_hw(&node.shape_out) != Some(hw) {
            return None;
        }
        stats.channels = stats.channels.max(node.shape_in[0]).max(node.shape_out[0]);
        match &node.layer {
            Layer::Conv2d(c) => {
                if !masked || !liftable_conv(c, hw) {
                    return None;
                }
                let (top, bottom, left, right) = c.padding;
                stats.grid.0 = stats.grid.0.max(hw.0 + top + bottom);
                stats.grid.1 = stats.grid.1.max(hw.1 + left + right);
                stats.convs += 1;
                masked = false;
            }
            Layer::BatchNorm { spatial, .. } => {
                if *spatial != hw.0 * hw.1 {
                    return None;
                }
            }
            Layer::Residual { body, shortcut } => {
                let b = scan(body, hw, masked, stats)?;
                let s = match shortcut {
                    Some(s) => scan(s, hw, masked, stats)?,
                    None => masked,
                };
                masked = b && s;
            }
            layer => {
                layer.slope_interval()?.ok()?;
                stats.activations += 1;
                masked = true;
            }
        }
    }
    Some(masked)
}

#[derive(Debug, Default, Clone, Copy)]
struct RunStats {
    grid: (usize, usize),
    convs: usize,
    activations: usize,
    channels: usize,
}

/// The circular grid N of the module theorem if `nodes` form a run with at
/// least one convolution, else `None`.
pub fn run_grid(nodes: &[Node]) -> Option<(usize, usize)> {
    run_stats(nodes).map(|s| s.grid)
}

fn run_stats(nodes: &[Node]) -> Option<RunStats> {
    let hw = image_hw(&nodes.first()?.shape_in)?;
    let mut stats = RunStats {
        grid: hw,
        ..RunStats::default()
    };
    scan(nodes, hw, true, &mut stats)?;
    (stats.convs > 0).then_some(stats)
}

/// Per-layer data of a run, in evaluation order (body before shortcut).
struct Prepared {
    symbols: Vec<GridSymbol>,
    /// Batch-norm scales per real-form row and δ ≥ |d̂ − d|.
    bns: Vec<(Vec<f64>, f64)>,
    /// (c, η) per activation.
    acts: Vec<(f64, f64)>,
}

fn prepare(nodes: &[Node], grid: (usize, usize), widen: bool, p: &mut Prepared) -> Result<()> {
    for node in nodes {
        match &node.layer {
            Layer::Conv2d(c) => {
                let conv = GridConv {
                    c_out: c.c_out,
                    c_in: c.c_in,
                    groups: c.groups,
                    kernel_hw: c.kernel_hw,
                    dilation: c.dilation,
                    offset: (c.padding.0, c.padding.2),
                };
                p.symbols.push(GridSymbol::new(&c.kernel, &conv, grid)?);
            }
            Layer::BatchNorm {
                gamma: g, var, eps, ..
            } => {
                let (d, delta) = bn_scales(g, var, *eps);
                let rows: Vec<f64> = d.iter().chain(d.iter()).copied().collect();
                p.bns.push((rows, delta));
            }
            Layer::Residual { body, shortcut } => {
                prepare(body, grid, widen, p)?;
                if let Some(s) = shortcut {
                    prepare(s, grid, widen, p)?;
                }
            }
            layer => {
                let i: SlopeInterval = layer.slope_interval().ok_or_else(|| {
                    Error::InvalidOption(format!(
                        "internal: layer '{}' in a Fourier run",
                        node.kind
                    ))
                })??;
                let i = if widen {
                    SlopeInterval {
                        lower: i.lower.min(0.0),
                        upper: i.upper.max(0.0),
                    }
                } else {
                    i
                };
                p.acts.push(i.split());
            }
        }
    }
    Ok(())
}

/// One matrix per source (x, then u₀, u₁, …); `None` = zero.
type State = Vec<Option<Tracked>>;

/// fl(Â·B̂) for the real form Â (column-major, `a_rows` rows, error bound
/// `a_err`) with its error (module docs). When B̂ is the exact identity (a
/// source's first convolution) the product is Â itself, exactly (every
/// entry is one product by 1 plus exact zeros), with Â's error: no matrix
/// product is computed (on a ResNet-18 stage about 40 % of them).
fn mul_tracked(a: &[f64], a_rows: usize, a_err: f64, b: &Tracked) -> Result<Tracked> {
    if b.err == 0.0 && b.is_identity() {
        return Ok(Tracked {
            rows: a_rows,
            cols: b.cols,
            data: a.to_vec(),
            err: a_err,
        });
    }
    let n = b.rows;
    let am = faer::MatRef::from_column_major_slice(a, a_rows, n);
    let bm = faer::MatRef::from_column_major_slice(&b.data, n, b.cols);
    let c = am * bm;
    let mut data = Vec::with_capacity(a_rows * b.cols);
    for j in 0..b.cols {
        data.extend(c.col(j).iter().copied());
    }
    let (fa, fb) = (norm2_up(a), norm2_up(&b.data));
    let local = add_up(
        mul_up(mul_up(gamma(n), fa), fb),
        mul_up(mul_up(usize_up(n), ETA), sqrt_up(usize_up(a_rows * b.cols))),
    );
    let err = add_up(
        add_up(mul_up(a_err, add_up(fb, b.err)), mul_up(fa, b.err)),
        local,
    );
    if !err.is_finite() || data.iter().any(|v| !v.is_finite()) {
        return Err(Error::Overflow {
            context: "product of convolution symbols".into(),
        });
    }
    Ok(Tracked {
        rows: a_rows,
        cols: b.cols,
        data,
        err,
    })
}

/// One frequency's pass over a run.
struct Pass<'a> {
    prep: &'a Prepared,
    options: &'a SigmaOptions,
    w: (usize, usize),
    conv: usize,
    bn: usize,
    act: usize,
    /// Per activation k then the output: ‖T̂_{k,s}(ω)‖ upper bounds per
    /// source s (0 for absent or weightless sources).
    norms: Vec<Vec<f64>>,
    guarantee: Guarantee,
}

impl Pass<'_> {
    /// Norm bounds of the terms of `state`, skipping sources whose weight
    /// η is 0.
    fn record(&mut self, state: &State) -> Result<()> {
        let mut row = Vec::with_capacity(state.len());
        for (s, t) in state.iter().enumerate() {
            let weightless = s > 0 && self.prep.acts[s - 1].1 == 0.0;
            match t {
                Some(t) if !weightless => {
                    let (n, g) = t.norm_upper(self.options)?;
                    self.guarantee = self.guarantee.combine(g);
                    row.push(n);
                }
                _ => row.push(0.0),
            }
        }
        self.norms.push(row);
        Ok(())
    }

    fn run(&mut self, nodes: &[Node], mut state: State) -> Result<State> {
        for node in nodes {
            state = self.step(node, state)?;
        }
        Ok(state)
    }

    fn step(&mut self, node: &Node, state: State) -> Result<State> {
        match &node.layer {
            Layer::Conv2d(_) => {
                let s = &self.prep.symbols[self.conv];
                self.conv += 1;
                let a = s.real_form(self.w);
                state
                    .iter()
                    .map(|t| {
                        t.as_ref()
                            .map(|t| mul_tracked(&a, 2 * s.c_out(), s.error(), t))
                            .transpose()
                    })
                    .collect()
            }
            Layer::BatchNorm { .. } => {
                let (d, delta) = &self.prep.bns[self.bn];
                self.bn += 1;
                Ok(state
                    .iter()
                    .map(|t| {
                        t.as_ref().map(|t| {
                            let mut out = t.scale_rows(d);
                            let extra = mul_up(*delta, add_up(norm2_up(&t.data), t.err));
                            out.err = add_up(out.err, extra);
                            out
                        })
                    })
                    .collect())
            }
            Layer::Residual { body, shortcut } => {
                let b = self.run(body, state.clone())?;
                let s = match shortcut {
                    Some(sc) => self.run(sc, state)?,
                    None => state,
                };
                let len = b.len().max(s.len());
                (0..len)
                    .map(
                        |i| match (b.get(i).cloned().flatten(), s.get(i).cloned().flatten()) {
                            (Some(x), Some(y)) => x.add(&y).map(Some),
                            (x, y) => Ok(x.or(y)),
                        },
                    )
                    .collect()
            }
            _ => {
                self.record(&state)?;
                let (c, _) = self.prep.acts[self.act];
                let k = self.act;
                self.act += 1;
                let rows: usize = 2 * node.shape_in[0];
                let mut next: State = state
                    .iter()
                    .map(|t| t.as_ref().filter(|_| c != 0.0).map(|t| t.scale(c)))
                    .collect();
                // uₖ is source k + 1 (a shortcut starts from the shorter
                // state of the block input).
                next.resize(k + 1, None);
                next.push(Some(Tracked::identity(rows)));
                Ok(next)
            }
        }
    }
}

/// The LipLT bound of a run (`None` when it is not a run or its work
/// exceeds `max_work`, see [`DEFAULT_MAX_WORK`]), by the module theorem,
/// with its guarantee.
pub fn fourier_liplt(
    nodes: &[Node],
    options: &SigmaOptions,
    max_work: f64,
) -> Result<Option<(f64, Guarantee)>> {
    let Some(stats) = run_stats(nodes) else {
        return Ok(None);
    };
    let hw = image_hw(&nodes[0].shape_in).expect("checked by run_stats");
    let freqs = half_plane(stats.grid);
    let k = (stats.activations + 2) as f64;
    let work = freqs.len() as f64 * k * k * (2.0 * stats.channels as f64).powi(3);
    if work > max_work {
        return Ok(None);
    }
    let mut prep = Prepared {
        symbols: Vec::new(),
        bns: Vec::new(),
        acts: Vec::new(),
    };
    prepare(nodes, stats.grid, stats.grid != hw, &mut prep)?;
    let c_in = nodes[0].shape_in[0];
    let threads = crate::parallel::resolve_threads(options.threads)
        .min(freqs.len())
        .max(1);
    let inner = SigmaOptions {
        threads: 1,
        ..options.clone()
    };
    let chunk = freqs.len().div_ceil(threads);
    let results: Vec<Result<(Vec<Vec<f64>>, Guarantee)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = freqs
            .chunks(chunk)
            .map(|part| {
                let (prep, inner) = (&prep, &inner);
                scope.spawn(move || -> Result<(Vec<Vec<f64>>, Guarantee)> {
                    let mut max: Vec<Vec<f64>> = Vec::new();
                    let mut guarantee = Guarantee::Rigorous;
                    for &w in part {
                        let mut pass = Pass {
                            prep,
                            options: inner,
                            w,
                            conv: 0,
                            bn: 0,
                            act: 0,
                            norms: Vec::new(),
                            guarantee: Guarantee::Rigorous,
                        };
                        let out = pass.run(nodes, vec![Some(Tracked::identity(2 * c_in))])?;
                        pass.record(&out)?;
                        guarantee = guarantee.combine(pass.guarantee);
                        merge_max(&mut max, &pass.norms);
                    }
                    Ok((max, guarantee))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(Error::InvalidOption(
                        "internal: a Fourier LipLT thread panicked".into(),
                    ))
                })
            })
            .collect()
    });
    let mut norms: Vec<Vec<f64>> = Vec::new();
    let mut guarantee = Guarantee::Rigorous;
    for r in results {
        let (n, g) = r?;
        merge_max(&mut norms, &n);
        guarantee = guarantee.combine(g);
    }
    Ok(Some((recursion(&norms, &prep.acts), guarantee)))
}

fn merge_max(into: &mut Vec<Vec<f64>>, from: &[Vec<f64>]) {
    if into.is_empty() {
        *into = from.to_vec();
        return;
    }
    for (a, b) in into.iter_mut().zip(from) {
        for (x, y) in a.iter_mut().zip(b) {
            *x = x.max(*y);
        }
    }
}

/// mₖ = Σ_s n_{k,s}·w_s, w₀ = 1, w_{k+1} = ηₖ·mₖ, and the output's
/// Σ_s n_{out,s}·w_s, all rounded upward (theorem of [`super::liplt`]).
fn recursion(norms: &[Vec<f64>], acts: &[(f64, f64)]) -> f64 {
    let mut weights = vec![1.0];
    let combine =
        |row: &[f64], weights: &[f64]| sum_up(row.iter().zip(weights).map(|(n, w)| mul_up(*n, *w)));
    for (k, (_, eta)) in acts.iter().enumerate() {
        let m = combine(&norms[k], &weights);
        weights.push(mul_up(*eta, m));
    }
    combine(&norms[acts.len()], &weights)
}

/// A LipLT bound of a segment too large for the explicit route: the
/// segment is cut into maximal Fourier runs ([`fourier_liplt`]) and the
/// pieces between them (explicit [`segment_liplt`] where it fits, else the
/// product); Lip(g∘h) ≤ Lip(g)·Lip(h) and every piece is bounded by
/// min(its bound, its product). `None` when the segment holds no run.
pub fn split_segment_bound(
    nodes: &[Node],
    options: &SigmaOptions,
    max_entries: usize,
    max_work: f64,
) -> Result<Option<(f64, Guarantee)>> {
    let mut total = 1.0;
    let mut guarantee = Guarantee::Rigorous;
    let mut any = false;
    let mut gap_start = 0;
    let mut i = 0;
    let close_gap = |from: usize, to: usize, total: &mut f64, g: &mut Guarantee| -> Result<()> {
        if from == to {
            return Ok(());
        }
        let piece = &nodes[from..to];
        let (product, gp) = composed_upper(piece)?;
        let explicit = if piece.iter().all(|n| linearisable(n, true)) {
            segment_liplt(piece, options, max_entries)?
        } else {
            None
        };
        let (v, gv) = match explicit {
            Some((l, gl)) if l < product => (l, gl),
            _ => (product, gp),
        };
        *total = mul_up(*total, v);
        *g = g.combine(gv);
        Ok(())
    };
    while i < nodes.len() {
        // The longest run starting at i (runs are closed under prefixes).
        let mut j = i;
        while j < nodes.len() && run_stats_prefix(&nodes[i..=j]) {
            j += 1;
        }
        let end = (i + 1..=j)
            .rev()
            .find(|&e| run_stats(&nodes[i..e]).is_some());
        let Some(end) = end else {
            i += 1;
            continue;
        };
        let run = &nodes[i..end];
        let (product, gp) = composed_upper(run)?;
        let Some((l, gl)) = fourier_liplt(run, options, max_work)? else {
            i += 1;
            continue;
        };
        close_gap(gap_start, i, &mut total, &mut guarantee)?;
        any = true;
        let (v, gv) = if l < product { (l, gl) } else { (product, gp) };
        total = mul_up(total, v);
        guarantee = guarantee.combine(gv);
        i = end;
        gap_start = end;
    }
    close_gap(gap_start, nodes.len(), &mut total, &mut guarantee)?;
    Ok(any.then_some((total, guarantee)))
}

/// Whether `nodes` satisfy the run grammar (convolutions not required).
fn run_stats_prefix(nodes: &[Node]) -> bool {
    let Some(hw) = nodes.first().and_then(|n| image_hw(&n.shape_in)) else {
        return false;
    };
    let mut stats = RunStats {
        grid: hw,
        ..RunStats::default()
    };
    scan(nodes, hw, true, &mut stats).is_some()
}

/// Certified upper bound on ‖C_L⋯C_1‖₂ = max_ω ‖K̂_L(ω)⋯K̂_1(ω)‖₂ for the
/// circular convolutions of `symbols` (first applied first) on their common
/// grid `grid` (module docs of [`crate::conv::product_symbol`]), with its
/// guarantee. For circular-padding convolutions with N = H×W this is the
/// norm of the product of the layers themselves; for zero-padded ones it
/// bounds ‖R·C_L⋯C_1·E‖, not ‖A_L⋯A_1‖ (the masks between layers are left
/// out: that is what activations absorb in the module theorem).
pub fn circular_product_norm_upper(
    symbols: &[GridSymbol],
    grid: (usize, usize),
    options: &SigmaOptions,
) -> Result<(f64, Guarantee)> {
    let Some(first) = symbols.first() else {
        return Ok((1.0, Guarantee::Rigorous));
    };
    if symbols.windows(2).any(|p| p[1].c_in() != p[0].c_out()) {
        return Err(Error::InvalidOption(
            "internal: channel counts of a convolution chain do not match".into(),
        ));
    }
    let mut upper = 0.0f64;
    let mut guarantee = Guarantee::Rigorous;
    for w in half_plane(grid) {
        let mut t = Tracked::identity(2 * first.c_in());
        for s in symbols {
            t = mul_tracked(&s.real_form(w), 2 * s.c_out(), s.error(), &t)?;
        }
        let (n, g) = t.norm_upper(options)?;
        upper = upper.max(n);
        guarantee = guarantee.combine(g);
    }
    Ok((upper, guarantee))
}
