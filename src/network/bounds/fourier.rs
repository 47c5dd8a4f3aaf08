//! The Fourier route of LipLT: the recursion of [`super::liplt`] on runs of
//! zero-padded convolutions (stride 1, and at most one stride per run by the
//! polyphase form), evaluated frequency by frequency on a common circular
//! grid, so that it reaches convolutional networks whose
//! explicit matrices do not fit in memory.
//!
//! # Theorem (lifting a run to a circular grid)
//! Let a *run* be a sequence of top-level nodes on images C×H×W of one
//! spatial size Ω = H×W (up to one stride, step 5, and up to stride-1
//! convolutions that shrink the image, step 6), made of: zero-padded
//! convolutions with stride 1 and output size H×W (any kernel, dilation,
//! groups, per-side padding),
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
//! 5. *One stride per run (the polyphase form).* A run may pass once from
//!    H×W to H′×W′ through zero-padded convolutions with a common stride
//!    s = (s₁, s₂) (K = s₁s₂ a power of 4; in a residual block both branches
//!    stride, e.g. ResNet's 3×3 body and 1×1 shortcut). Take the fine grid
//!    N = s⊙N′ with N′ the coarse grid (N ≥ H + padding for the
//!    convolutions before the stride and at the strided one, N′ ≥ H′, and
//!    N′ ≥ H′ + padding for those after it; [`run_grid`] returns N). The strided convolution is
//!    R′·S·C·E with C the stride-1 circular convolution on ℤ_N with the same
//!    taps and S: ℤ_N → ℤ_{N′}, (Sz)\[j\] = z\[s⊙j\]: output j reads
//!    s⊙j + d·a − p, which lies in [−top, H − 1 + bottom] as for stride 1,
//!    so step 1's argument applies unchanged, and the coarse output is
//!    R′ of it (masked again by the next activation, on ℤ_{N′}). In unitary
//!    DFT coordinates, (Sz)^(ω′) = K^{-½}·Σ_k ẑ(ω′ + k⊙N′), k ∈ [0, s₁) ×
//!    [0, s₂) (from Σ_j e^{2πi⟨ω − ω′, s⊙j⟩/N} = |N′|·[ω ≡ ω′ mod N′];
//!    the polyphase/aliasing identity, e.g. Vaidyanathan, *Multirate
//!    Systems and Filter Banks*, §4.1). So the whole run is block diagonal
//!    over the coarse frequencies ω′: before the stride the state at ω′ is
//!    block diagonal over the K aliases ω_k = ω′ + k⊙N′ (one block each, its
//!    norm the largest block's), the stride maps it to the row of blocks
//!    K^{-½}[K̂(ω₁)T₁ ⋯ K̂(ω_K)T_K] (exact power of two), and after it every
//!    layer acts at ω′ alone. Each fine frequency is an alias of exactly one
//!    coarse one, and −ω′ has the aliases −ω_k, so the half plane of ℤ_{N′}
//!    still covers every block up to conjugation. The slopes are widened as
//!    in step 3 (masks are needed on both grids).
//!
//! 6. *Shrinking convolutions* (padding smaller than the kernel's reach,
//!    e.g. none: MTCNN, U-Net). A zero-padded stride-1 convolution from
//!    H×W to H′×W′ (H′ ≤ H + top + bottom − span + 1) is R′·C·E with R′
//!    placing the output window Ω′ = [0, H′) × [0, W′) at the origin of the
//!    same grid: output i < H′ reads i + d·a − top ∈ [−top, H − 1 + bottom],
//!    so step 1's argument holds unchanged (N ≥ H + top + bottom, H the
//!    convolution's input size). The value after it is masked to Ω′ by the
//!    next activation (φ̃ = 0 off Ω′), a batch norm acts per channel on the
//!    whole grid, and every later layer works on Ω′ as on Ω: steps 2–4 hold
//!    with each activation's own window, and the slopes are widened as in
//!    step 3 (masks are needed even when N = Ω).
//!
//! Other strides, a second stride in one run, non-zero padding modes and
//! non-image layers end a run; they are bounded by the explicit route or by
//! their product ([`split_segment_bound`]).
//!
//! # Floating point
//! Every matrix of the state is a [`Tracked`] in *stacked* form [X; Y]
//! (2m × n) of the complex T̂(ω) = X + iY — the first n columns of its real
//! form [[X, −Y], [Y, X]], which carry every entry once — with a rigorous
//! bound err ≥ ‖T̃ − T̂‖₂ on the complex error (module docs of
//! [`super::tracked`]); the symbols, in full real form Â (2m′ × 2m), carry
//! the bound of [`GridSymbol::error`]. The product Â·[X; Y] is the stacked
//! form of the complex product, each entry a sum of 2m real products
//! (|fl(ÂB̂) − ÂB̂| ≤ γ₂ₘ|Â||B̂| + 2m·η entrywise, any summation order,
//! Higham §3.1), and the complex error's spectral norm is at most its
//! Frobenius norm, which is that of its stacked form, so
//! ‖·‖₂ ≤ γ₂ₘ‖Â‖_F‖B̂‖_F + 2m·η·√(entries) and
//! ‖AB − ÂB̂‖ ≤ err_A·(‖B̂‖_F + err_B) + ‖Â‖_F·err_B (‖B̂‖₂ ≤ ‖B̂‖_F for
//! the complex B̂). Batch-norm scales d̂ with |d̂ − d| ≤ δ add
//! δ·(‖M̂‖_F + err); the row of blocks at the stride has error
//! √(Σ err_k²) (`hconcat`). Norms are σ_up + err (Weyl), σ_up certified on the complex
//! Hermitian Gram (`complex_norm_upper`), always rigorously.

use super::liplt::{linearisable, segment_liplt};
use super::tracked::Tracked;
use crate::certify::hermitian_upper::{certify_hermitian_upper, HermitianWorkspace};
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

/// Whether a convolution can be lifted (stride 1, zero padding, input
/// size `hw`; its output may be smaller, e.g. without padding — step 1 of
/// the module theorem places every output window at the origin).
fn liftable_conv(c: &ConvLayer, hw: (usize, usize)) -> bool {
    c.mode == PaddingMode::Zeros && c.stride == (1, 1) && c.in_hw == hw
}

/// Largest K = s₁s₂ of a run's stride: each pass holds K blocks per source
/// before the stride, so K bounds the memory beyond the work limit's model.
const MAX_STRIDE_PRODUCT: usize = 16;

/// Whether a convolution can be lifted as the run's stride (step 5 of the
/// module theorem): zero padding, stride (s₁, s₂) ≠ (1, 1) with s₁s₂ a power
/// of 4 (so the factor (s₁s₂)^{-½} is an exact power of two) and at most
/// [`MAX_STRIDE_PRODUCT`], input `hw`.
fn liftable_strided_conv(c: &ConvLayer, hw: (usize, usize)) -> bool {
    let Some(k) = c.stride.0.checked_mul(c.stride.1) else {
        return false;
    };
    c.mode == PaddingMode::Zeros
        && c.stride != (1, 1)
        && k <= MAX_STRIDE_PRODUCT
        && k.is_power_of_two()
        && k.trailing_zeros() % 2 == 0
        && c.in_hw == hw
}

/// Where a scan stands: the image size and whether the run's stride has
/// been passed (the coarse grid).
#[derive(Debug, Clone, Copy, PartialEq)]
struct At {
    hw: (usize, usize),
    coarse: bool,
}

/// Checks `nodes` against the run grammar of the module theorem, given
/// whether the input is masked; grows the grid requirements to every
/// convolution's padded size and counts convolutions, activations and the
/// widest channel count. Returns where the output stands and whether it is
/// masked, `None` if not a run.
fn scan(nodes: &[Node], mut at: At, mut masked: bool, stats: &mut RunStats) -> Option<(At, bool)> {
    for node in nodes {
        if image_hw(&node.shape_in) != Some(at.hw) {
            return None;
        }
        stats.channels = stats.channels.max(node.shape_in[0]).max(node.shape_out[0]);
        if let Layer::Residual { body, shortcut } = &node.layer {
            let (b_at, b) = scan(body, at, masked, stats)?;
            let (s_at, s) = match shortcut {
                Some(s) => scan(s, at, masked, stats)?,
                None => (at, masked),
            };
            if b_at != s_at || image_hw(&node.shape_out) != Some(b_at.hw) {
                return None;
            }
            at = b_at;
            masked = b && s;
            continue;
        }
        let strided = match &node.layer {
            Layer::Conv2d(c) => !at.coarse && liftable_strided_conv(c, at.hw),
            _ => false,
        };
        // A stride-1 convolution may shrink the image (its output window,
        // at the origin, is smaller than its input's).
        let shrinking = match &node.layer {
            Layer::Conv2d(c) if !strided && c.out_hw != at.hw && liftable_conv(c, at.hw) => {
                Some(c.out_hw)
            }
            _ => None,
        };
        if !strided && image_hw(&node.shape_out) != Some(shrinking.unwrap_or(at.hw)) {
            return None;
        }
        match &node.layer {
            Layer::Conv2d(c) => {
                if !masked || !(strided || liftable_conv(c, at.hw)) {
                    return None;
                }
                let (top, bottom, left, right) = c.padding;
                let need = (at.hw.0 + top + bottom, at.hw.1 + left + right);
                let req = if at.coarse {
                    &mut stats.coarse_grid
                } else {
                    &mut stats.grid
                };
                *req = (req.0.max(need.0), req.1.max(need.1));
                if strided {
                    if stats.stride.is_some_and(|s| s != c.stride) {
                        return None;
                    }
                    stats.stride = Some(c.stride);
                    at = At {
                        hw: c.out_hw,
                        coarse: true,
                    };
                    stats.coarse_grid = (
                        stats.coarse_grid.0.max(at.hw.0),
                        stats.coarse_grid.1.max(at.hw.1),
                    );
                }
                if let Some(out) = shrinking {
                    at.hw = out;
                    stats.shrinks = true;
                }
                stats.convs += 1;
                masked = false;
            }
            Layer::BatchNorm { spatial, .. } => {
                if *spatial != at.hw.0 * at.hw.1 {
                    return None;
                }
            }
            layer => {
                layer.slope_interval()?.ok()?;
                stats.activations += 1;
                masked = true;
            }
        }
    }
    Some((at, masked))
}

#[derive(Debug, Default, Clone, Copy)]
struct RunStats {
    /// Requirement on the (fine) grid from the convolutions before the
    /// stride (all of them when there is none).
    grid: (usize, usize),
    /// Requirement on the coarse grid from the convolutions after it.
    coarse_grid: (usize, usize),
    /// The run's stride, if it has one.
    stride: Option<(usize, usize)>,
    convs: usize,
    activations: usize,
    channels: usize,
    /// Whether a stride-1 convolution shrinks the image (its output is
    /// then masked to a smaller window than the grid).
    shrinks: bool,
}

impl RunStats {
    /// The grids (fine N, coarse N/s) of the module theorem: N = s·max(⌈req/s⌉,
    /// coarse req) per axis, so both requirements hold and s divides N
    /// (`None` if N overflows).
    fn grids(&self) -> Option<((usize, usize), (usize, usize))> {
        match self.stride {
            None => Some((self.grid, self.grid)),
            Some((s1, s2)) => {
                let c = (
                    self.grid.0.div_ceil(s1).max(self.coarse_grid.0),
                    self.grid.1.div_ceil(s2).max(self.coarse_grid.1),
                );
                Some(((c.0.checked_mul(s1)?, c.1.checked_mul(s2)?), c))
            }
        }
    }
}

/// The circular grid N of the module theorem if `nodes` form a run with at
/// least one convolution, else `None` (for a run with a stride, the fine
/// grid; the coarse one is N/s).
pub fn run_grid(nodes: &[Node]) -> Option<(usize, usize)> {
    run_stats(nodes).map(|s| s.fine)
}

fn run_stats(nodes: &[Node]) -> Option<RunGrids> {
    let hw = image_hw(&nodes.first()?.shape_in)?;
    let mut stats = RunStats {
        grid: hw,
        ..RunStats::default()
    };
    scan(nodes, At { hw, coarse: false }, true, &mut stats)?;
    let (fine, coarse) = stats.grids()?;
    (stats.convs > 0).then_some(RunGrids {
        stats,
        fine,
        coarse,
    })
}

/// A run's [`RunStats`] with its grids (fine N, coarse N/s).
struct RunGrids {
    stats: RunStats,
    fine: (usize, usize),
    coarse: (usize, usize),
}

/// The number of frequencies of [`half_plane`] on `n`, as a float (never
/// overflows, allocates nothing).
fn half_plane_len(n: (usize, usize)) -> f64 {
    n.0 as f64 * (n.1 / 2 + 1) as f64
}

/// The fine frequencies ω + k⊙N′ (k ∈ [0, s₁) × [0, s₂)) that alias to the
/// coarse ω on the coarse grid N′ (step 5 of the module theorem; just ω
/// without a stride).
fn aliases(
    w: (usize, usize),
    coarse: (usize, usize),
    stride: (usize, usize),
) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(stride.0 * stride.1);
    for k1 in 0..stride.0 {
        for k2 in 0..stride.1 {
            out.push((w.0 + k1 * coarse.0, w.1 + k2 * coarse.1));
        }
    }
    out
}

/// Per-layer data of a run, in evaluation order (body before shortcut).
struct Prepared {
    symbols: Vec<GridSymbol>,
    /// Batch-norm scales per real-form row and δ ≥ |d̂ − d|.
    bns: Vec<(Vec<f64>, f64)>,
    /// (c, η) per activation.
    acts: Vec<(f64, f64)>,
}

/// Fills `p` in evaluation order; `grids` = (fine, coarse), `coarse` whether
/// the run's stride has been passed (the strided convolution's symbol is on
/// the fine grid). Returns whether the stride has been passed at the end.
fn prepare(
    nodes: &[Node],
    grids: ((usize, usize), (usize, usize)),
    mut coarse: bool,
    widen: bool,
    p: &mut Prepared,
) -> Result<bool> {
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
                let grid = if coarse { grids.1 } else { grids.0 };
                p.symbols.push(GridSymbol::new(&c.kernel, &conv, grid)?);
                coarse |= c.stride != (1, 1);
            }
            Layer::BatchNorm {
                gamma: g, var, eps, ..
            } => {
                let (d, delta) = bn_scales(g, var, *eps);
                let rows: Vec<f64> = d.iter().chain(d.iter()).copied().collect();
                p.bns.push((rows, delta));
            }
            Layer::Residual { body, shortcut } => {
                let after = prepare(body, grids, coarse, widen, p)?;
                if let Some(s) = shortcut {
                    prepare(s, grids, coarse, widen, p)?;
                }
                coarse = after;
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
    Ok(coarse)
}

/// Per source (x, then u₀, u₁, …; `None` = zero) its matrix at the
/// current frequency: before the run's stride one block per fine frequency
/// ω_k of the coarse ω (the map is block diagonal over them), after it one
/// matrix (step 5 of the module theorem).
type State = Vec<Option<Vec<Tracked>>>;

/// [Â₁ ⋯ Â_K] for blocks with equal row counts (column-major, so the data
/// are appended), with ‖[E₁ ⋯ E_K]‖ ≤ √(Σ‖E_k‖²) (since
/// [E₁ ⋯ E_K][E₁ ⋯ E_K]ᴴ = Σ E_kE_kᴴ).
fn hconcat(blocks: Vec<Tracked>) -> Tracked {
    let rows = blocks.first().map_or(0, |b| b.rows);
    let cols = blocks.iter().map(|b| b.cols).sum();
    let err = sqrt_up(sum_up(blocks.iter().map(|b| mul_up(b.err, b.err))));
    let mut data = Vec::with_capacity(rows * cols);
    for b in blocks {
        data.extend(b.data);
    }
    Tracked {
        rows,
        cols,
        data,
        err,
    }
}

/// fl(Â·B̂) for the real form Â (column-major, `a_rows` rows, error bound
/// `a_err`) with its error (module docs). When B̂ is the exact identity (a
/// source's first convolution) the product is Â itself, exactly (every
/// entry is one product by 1 plus exact zeros), with Â's error: no matrix
/// product is computed (on a ResNet-18 stage about 40 % of them).
pub(super) fn mul_tracked(a: &[f64], a_rows: usize, a_err: f64, b: &Tracked) -> Result<Tracked> {
    if b.err == 0.0 && b.is_stacked_identity() {
        // Â·[I; 0] is the first b.cols columns of Â, exactly.
        return Ok(Tracked {
            rows: a_rows,
            cols: b.cols,
            data: a[..a_rows * b.cols].to_vec(),
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
    let err = product_error(norm2_up(a), a_rows, a_err, b);
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

/// The error bound of [`mul_tracked`]'s fl(Â·B̂) for Â with `a_rows` rows,
/// ‖Â‖_F ≤ `fa` and ‖Â − A‖ ≤ `a_err` (module docs): the propagated
/// a_err·(‖B̂‖_F + e_B) + ‖Â‖_F·e_B and the rounding γₙ‖Â‖_F‖B̂‖_F plus
/// the underflow term, n = B̂'s rows. It bounds any product whose every
/// entry is one floating-point dot product of a row of Â with a column of
/// B̂, in any order.
pub(super) fn product_error(fa: f64, a_rows: usize, a_err: f64, b: &Tracked) -> f64 {
    let n = b.rows;
    let fb = norm2_up(&b.data);
    let local = add_up(
        mul_up(mul_up(gamma(n), fa), fb),
        mul_up(mul_up(usize_up(n), ETA), sqrt_up(usize_up(a_rows * b.cols))),
    );
    add_up(
        add_up(mul_up(a_err, add_up(fb, b.err)), mul_up(fa, b.err)),
        local,
    )
}

/// Candidate margins above the Lanczos estimate for [`complex_norm_upper`].
const NORM_MARGINS: [f64; 6] = [1e-8, 1e-6, 1e-4, 1e-2, 0.1, 1.0];

/// When [`complex_norm_upper`]'s Lanczos estimate counts as settled: its
/// first margin is 1e-8 on σ, i.e. 2e-8 on the Gram's eigenvalue.
const NORM_LANCZOS_TOL: f64 = 1e-10;

/// Certified upper bound on ‖M‖₂ for the exact complex matrix M that a
/// stacked [`Tracked`] stands for (`data` = [X̂; Ŷ], 2m × n, M̂ = X̂ + iŶ,
/// ‖M̂ − M‖₂ ≤ err): σ_up(M̂) + err (Weyl). σ_up(M̂) < s is certified on
/// the Hermitian Gram of M̂'s smaller side with its rounding radius
/// ([`crate::conv::block_gram::block_gram`]) by the complex Cholesky
/// certificate of s²I − G ([`certify_hermitian_upper`]; the real criterion
/// on the 2n real embedding, proofs/theories/Cholesky.v,
/// `rump_cholesky_posdef_rust`), at s = √θ·(1 + δ) for the Lanczos
/// estimate θ of λ_max(G̃) and growing δ; if none certifies, ‖M̂‖_F (≥ σ,
/// proofs/theories/Norms.v, `spectral_le_frobenius`). Half the flops of the
/// real-form σ of [`Tracked::norm_upper`], and always rigorous.
pub(super) fn complex_norm_upper(t: &Tracked) -> Result<f64> {
    let finish = |s: f64| -> Result<f64> {
        let up = add_up(s, t.err);
        if up.is_finite() {
            Ok(up)
        } else {
            Err(Error::Overflow {
                context: "norm of a product of convolution symbols".into(),
            })
        }
    };
    if t.data.iter().all(|v| *v == 0.0) {
        return finish(0.0);
    }
    if t.is_stacked_identity() {
        return finish(1.0);
    }
    let z = faer::MatRef::from_column_major_slice(&t.data, t.rows, t.cols);
    let gram = crate::conv::block_gram::block_gram(z);
    let base = crate::conv::bounds::hermitian_top_until(&gram, 60, NORM_LANCZOS_TOL)
        .max(0.0)
        .sqrt();
    let mut work = HermitianWorkspace::default();
    for delta in NORM_MARGINS {
        let s = mul_up(base, 1.0 + delta);
        if s > 0.0 && certify_hermitian_upper(&gram, s, &mut work).is_ok() {
            return finish(s);
        }
    }
    finish(norm2_up(&t.data))
}

/// One frequency's pass over a run.
struct Pass<'a> {
    prep: &'a Prepared,
    /// The coarse frequency ω (the only one without a stride).
    w: (usize, usize),
    /// The fine frequencies ω_k = ω + k⊙N/s that alias to ω (just ω
    /// without a stride).
    fine: Vec<(usize, usize)>,
    /// Whether the pass is past the run's stride.
    coarse: bool,
    conv: usize,
    bn: usize,
    act: usize,
    /// Per activation k then the output: ‖T̂_{k,s}(ω)‖ upper bounds per
    /// source s (0 for absent or weightless sources).
    norms: Vec<Vec<f64>>,
    /// Certified norm bounds of the current state's terms where known
    /// without a new certificate (indexed by source; missing = unknown):
    /// after an activation's record, its terms only get multiplied by c,
    /// and ‖c·T‖ = |c|·‖T‖ for the exact maps, so a record right after it
    /// (the run's output after a final activation, or a second activation)
    /// reuses |c|·n, rounded upward. Any linear step forgets them.
    known: Vec<Option<f64>>,
}

impl Pass<'_> {
    /// Norm bounds of the terms of `state`, skipping sources whose weight
    /// η is 0; a block-diagonal term has the largest of its blocks' norms.
    fn record(&mut self, state: &State) -> Result<()> {
        let mut row = Vec::with_capacity(state.len());
        for (s, t) in state.iter().enumerate() {
            let weightless = s > 0 && self.prep.acts[s - 1].1 == 0.0;
            match t {
                Some(blocks) if !weightless => {
                    let n = match self.known.get(s).copied().flatten() {
                        Some(n) => n,
                        None => {
                            let mut n = 0.0f64;
                            for t in blocks {
                                n = n.max(complex_norm_upper(t)?);
                            }
                            n
                        }
                    };
                    row.push(n);
                }
                _ => row.push(0.0),
            }
        }
        self.known = row.iter().map(|&n| Some(n)).collect();
        self.norms.push(row);
        Ok(())
    }

    fn run(&mut self, nodes: &[Node], mut state: State) -> Result<State> {
        for node in nodes {
            let activation = !matches!(
                node.layer,
                Layer::Conv2d(_) | Layer::BatchNorm { .. } | Layer::Residual { .. }
            );
            if !activation {
                self.known.clear();
            }
            state = self.step(node, state)?;
            if !activation {
                self.known.clear();
            }
        }
        Ok(state)
    }

    /// The identity of a new source on `channels` complex coordinates (in
    /// stacked form): one block per fine frequency before the stride, one
    /// after.
    fn identity(&self, channels: usize) -> Vec<Tracked> {
        let blocks = if self.coarse { 1 } else { self.fine.len() };
        vec![Tracked::stacked_identity(channels); blocks]
    }

    fn step(&mut self, node: &Node, state: State) -> Result<State> {
        match &node.layer {
            Layer::Conv2d(c) => {
                let s = &self.prep.symbols[self.conv];
                self.conv += 1;
                let rows = 2 * s.c_out();
                // One symbol per block: the coarse frequency after the
                // stride, every fine alias before it.
                let forms: Vec<Vec<f64>> = if self.coarse {
                    vec![s.real_form(self.w)]
                } else {
                    self.fine.iter().map(|&w| s.real_form(w)).collect()
                };
                let mul = |t: &Vec<Tracked>| -> Result<Vec<Tracked>> {
                    if t.len() != forms.len() {
                        return Err(Error::InvalidOption(
                            "internal: blocks of a Fourier pass do not match".into(),
                        ));
                    }
                    forms
                        .iter()
                        .zip(t)
                        .map(|(a, t)| mul_tracked(a, rows, s.error(), t))
                        .collect()
                };
                if c.stride == (1, 1) {
                    return state
                        .iter()
                        .map(|t| t.as_ref().map(mul).transpose())
                        .collect();
                }
                // The stride: K^{-1/2}·[K̂(ω₁)T₁ ⋯ K̂(ω_K)T_K], K = s₁s₂ a power
                // of 4, so the factor is an exact power of two.
                self.coarse = true;
                let factor = 1.0 / (self.fine.len() as f64).sqrt();
                state
                    .iter()
                    .map(|t| {
                        t.as_ref()
                            .map(|t| Ok(vec![hconcat(mul(t)?).scale(factor)]))
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
                            t.iter()
                                .map(|t| {
                                    let mut out = t.scale_rows(d);
                                    let extra = mul_up(*delta, add_up(norm2_up(&t.data), t.err));
                                    out.err = add_up(out.err, extra);
                                    out
                                })
                                .collect()
                        })
                    })
                    .collect())
            }
            Layer::Residual { body, shortcut } => {
                let before = self.coarse;
                let b = self.run(body, state.clone())?;
                let after = self.coarse;
                self.coarse = before;
                // The body's records describe the body's terms.
                self.known.clear();
                let s = match shortcut {
                    Some(sc) => self.run(sc, state)?,
                    None => state,
                };
                if self.coarse != after {
                    return Err(Error::InvalidOption(
                        "internal: residual branches of a Fourier run end on different grids"
                            .into(),
                    ));
                }
                let len = b.len().max(s.len());
                (0..len)
                    .map(
                        |i| match (b.get(i).cloned().flatten(), s.get(i).cloned().flatten()) {
                            (Some(x), Some(y)) if x.len() == y.len() => x
                                .iter()
                                .zip(&y)
                                .map(|(x, y)| x.add(y))
                                .collect::<Result<Vec<_>>>()
                                .map(Some),
                            (Some(_), Some(_)) => Err(Error::InvalidOption(
                                "internal: residual branches of a Fourier run do not match".into(),
                            )),
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
                // The terms become c·T (absent when c = 0); the new
                // source's identity is certified when recorded.
                self.known = self
                    .known
                    .iter()
                    .take(k + 1)
                    .map(|n| n.filter(|_| c != 0.0).map(|n| mul_up(c.abs(), n)))
                    .collect();
                let channels = node.shape_in[0];
                let mut next: State = state
                    .iter()
                    .map(|t| {
                        t.as_ref()
                            .filter(|_| c != 0.0)
                            .map(|t| t.iter().map(|t| t.scale(c)).collect())
                    })
                    .collect();
                // uₖ is source k + 1 (a shortcut starts from the shorter
                // state of the block input).
                next.resize(k + 1, None);
                next.push(Some(self.identity(channels)));
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
    let Some(RunGrids {
        stats,
        fine: fine_grid,
        coarse: coarse_grid,
    }) = run_stats(nodes)
    else {
        return Ok(None);
    };
    let hw = image_hw(&nodes[0].shape_in).expect("checked by run_stats");
    let (s1, s2) = stats.stride.unwrap_or((1, 1));
    let freqs = half_plane(coarse_grid);
    // Every fine frequency's blocks are formed once (up to conjugation),
    // and after the stride the K-fold wider matrices cost about K times more
    // at K times fewer frequencies.
    let k = (stats.activations + 2) as f64;
    let work = half_plane_len(fine_grid) * k * k * (2.0 * stats.channels as f64).powi(3);
    if work > max_work {
        return Ok(None);
    }
    let timer = crate::timing::stage();
    let mut prep = Prepared {
        symbols: Vec::new(),
        bns: Vec::new(),
        acts: Vec::new(),
    };
    // Masks are needed unless the grid is the image itself (and nothing
    // changes size).
    let widen = stats.stride.is_some() || stats.shrinks || fine_grid != hw;
    prepare(nodes, (fine_grid, coarse_grid), false, widen, &mut prep)?;
    let aliases = |w: (usize, usize)| aliases(w, coarse_grid, (s1, s2));
    let c_in = nodes[0].shape_in[0];
    let threads = crate::parallel::resolve_threads(options.threads)
        .min(freqs.len())
        .max(1);
    let chunk = freqs.len().div_ceil(threads);
    let results: Vec<Result<Vec<Vec<f64>>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = freqs
            .chunks(chunk)
            .map(|part| {
                let prep = &prep;
                scope.spawn(move || -> Result<Vec<Vec<f64>>> {
                    let mut max: Vec<Vec<f64>> = Vec::new();
                    for &w in part {
                        let mut pass = Pass {
                            prep,
                            w,
                            fine: aliases(w),
                            coarse: false,
                            conv: 0,
                            bn: 0,
                            act: 0,
                            norms: Vec::new(),
                            known: Vec::new(),
                        };
                        let input = pass.identity(c_in);
                        let out = pass.run(nodes, vec![Some(input)])?;
                        pass.record(&out)?;
                        merge_max(&mut max, &pass.norms);
                    }
                    Ok(max)
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
    for r in results {
        merge_max(&mut norms, &r?);
    }
    timer.done(|| {
        format!(
            "fourier run: {} nodes, grid {fine_grid:?}/{coarse_grid:?}, {} activations, {} channels, work {work:.2e}",
            nodes.len(),
            stats.activations,
            stats.channels
        )
    });
    // Every norm is certified by a Cholesky certificate or the Frobenius
    // norm: rigorous whatever `options` asks for the layers.
    Ok(Some((recursion(&norms, &prep.acts), Guarantee::Rigorous)))
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

/// One factor of a bound that is a product over consecutive node ranges:
/// nodes `start..end` (indices into the slice the bound was computed on),
/// their certified bound and its guarantee.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RangeBound {
    /// First node index.
    pub start: usize,
    /// One past the last node index.
    pub end: usize,
    /// The certified bound on the Lipschitz constant of those nodes.
    pub value: f64,
    /// Its guarantee.
    pub guarantee: Guarantee,
}

/// A LipLT bound of a segment too large for the explicit route: the
/// segment is cut into the longest Fourier runs within the work limit
/// ([`fourier_liplt`]) and the
/// pieces between them (explicit [`segment_liplt`] where it fits, else the
/// product); Lip(g∘h) ≤ Lip(g)·Lip(h) and every piece is bounded by
/// min(its bound, its product). `None` when the segment holds no run.
pub fn split_segment_bound(
    nodes: &[Node],
    options: &SigmaOptions,
    max_entries: usize,
    max_work: f64,
) -> Result<Option<(f64, Guarantee)>> {
    Ok(split_segment_pieces(nodes, options, max_entries, max_work)?.map(|p| product_of(&p)))
}

/// The product of factors' bounds (rounded upward) and their combined
/// guarantee (Lip(g∘h) ≤ Lip(g)·Lip(h)).
pub fn product_of(pieces: &[RangeBound]) -> (f64, Guarantee) {
    pieces.iter().fold((1.0, Guarantee::Rigorous), |(v, g), p| {
        (mul_up(v, p.value), g.combine(p.guarantee))
    })
}

/// The factors of [`split_segment_bound`] (runs and the pieces between
/// them, in order, covering `nodes`), `None` when the segment holds no run.
pub fn split_segment_pieces(
    nodes: &[Node],
    options: &SigmaOptions,
    max_entries: usize,
    max_work: f64,
) -> Result<Option<Vec<RangeBound>>> {
    let mut pieces = Vec::new();
    let mut any = false;
    let mut gap_start = 0;
    let mut i = 0;
    let close_gap = |from: usize, to: usize, pieces: &mut Vec<RangeBound>| -> Result<()> {
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
        let (value, guarantee) = match explicit {
            Some((l, gl)) if l < product => (l, gl),
            _ => (product, gp),
        };
        pieces.push(RangeBound {
            start: from,
            end: to,
            value,
            guarantee,
        });
        Ok(())
    };
    while i < nodes.len() {
        // The longest run starting at i (runs are closed under prefixes).
        let mut j = i;
        while j < nodes.len() && run_stats_prefix(&nodes[i..=j]) {
            j += 1;
        }
        // The longest run within the work limit (a run with a stride can
        // be far costlier than its prefix without it).
        let mut found = None;
        for e in (i + 1..=j).rev() {
            if run_stats(&nodes[i..e]).is_none() {
                continue;
            }
            if let Some(bound) = fourier_liplt(&nodes[i..e], options, max_work)? {
                found = Some((e, bound));
                break;
            }
        }
        let Some((end, (l, gl))) = found else {
            i += 1;
            continue;
        };
        let run = &nodes[i..end];
        let (product, gp) = composed_upper(run)?;
        close_gap(gap_start, i, &mut pieces)?;
        any = true;
        let (value, guarantee) = if l < product { (l, gl) } else { (product, gp) };
        pieces.push(RangeBound {
            start: i,
            end,
            value,
            guarantee,
        });
        i = end;
        gap_start = end;
    }
    close_gap(gap_start, nodes.len(), &mut pieces)?;
    Ok(any.then_some(pieces))
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
    scan(nodes, At { hw, coarse: false }, true, &mut stats).is_some()
}

/// The symbols of a run `A-nodes, activation, B-nodes` on its circular
/// grid (module theorem, steps 1–5): at each coarse frequency ω the stacked
/// forms of Â(ω) (h × c_in·K, the linear nodes before the activation
/// applied to a masked input; with a stride in them, the row of the K
/// aliases' blocks of step 5, K^{-½}[Â(ω₁) ⋯ Â(ω_K)], else K = 1) and B̂(ω)
/// (c_out × h, the linear nodes after it), and for a residual block with a
/// shortcut of linear nodes its Ŝ(ω) (c_out × c_in·K, the same way), each
/// with its rigorous error bound; and the activation's slope interval as
/// the lifted network sees it (widened to contain 0 when masks are
/// needed, step 3). Used by the Fourier multiplier certificates
/// ([`super::fourier_multiplier`]).
pub(super) struct LinearPair<'a> {
    prep: Prepared,
    a_nodes: &'a [Node],
    b_nodes: &'a [Node],
    s_nodes: Option<&'a [Node]>,
    /// Input channels c_in.
    pub c_in: usize,
    /// Hidden channels h (the activation's).
    pub hidden: usize,
    /// Output channels c_out.
    pub c_out: usize,
    /// The circular grid N (the fine one with a stride).
    pub grid: (usize, usize),
    /// The coarse grid N/s (N without a stride).
    pub coarse: (usize, usize),
    /// The stride (1, 1) or that of the A-nodes and the shortcut.
    stride: (usize, usize),
    /// The lifted activation's slope interval.
    pub slopes: SlopeInterval,
}

impl<'a> LinearPair<'a> {
    /// `piece[..k]` linear, `piece[k]` the only activation, `piece[k + 1..]`
    /// linear, the whole a run without a stride whose activation is not
    /// the last node and whose first node is not it; `None` otherwise.
    pub(super) fn new(piece: &'a [Node], k: usize) -> Result<Option<Self>> {
        Self::build(piece, piece, k, None)
    }

    /// The residual block `node` (a run by itself): body = linear nodes,
    /// one activation, linear nodes; shortcut the identity or linear
    /// nodes; a stride, if any, in the nodes before the activation and in
    /// the shortcut (not after the activation); `None` otherwise.
    pub(super) fn residual(node: &'a Node) -> Result<Option<Self>> {
        let Layer::Residual { body, shortcut } = &node.layer else {
            return Ok(None);
        };
        let acts: Vec<usize> = (0..body.len())
            .filter(|&k| !matches!(body[k].layer, Layer::Conv2d(_) | Layer::BatchNorm { .. }))
            .collect();
        let [k] = acts[..] else {
            return Ok(None);
        };
        Self::build(std::slice::from_ref(node), body, k, shortcut.as_deref())
    }

    /// `run` is what fixes the grids (the piece, or the residual node);
    /// `body` = A-nodes, activation `body[k]`, B-nodes.
    fn build(
        run: &'a [Node],
        body: &'a [Node],
        k: usize,
        shortcut: Option<&'a [Node]>,
    ) -> Result<Option<Self>> {
        if k == 0 || k + 1 >= body.len() {
            return Ok(None);
        }
        let Some(RunGrids {
            stats,
            fine,
            coarse,
        }) = run_stats(run)
        else {
            return Ok(None);
        };
        let linear = |n: &Node| matches!(n.layer, Layer::Conv2d(_) | Layer::BatchNorm { .. });
        let strided = |n: &Node| matches!(&n.layer, Layer::Conv2d(c) if c.stride != (1, 1));
        if stats.activations != 1
            || !body[..k].iter().all(linear)
            || !body[k + 1..].iter().all(linear)
            || !shortcut.unwrap_or(&[]).iter().all(linear)
            || body[k + 1..].iter().any(strided)
            || (stats.stride.is_some() && shortcut.is_none())
        {
            return Ok(None);
        }
        let hw = image_hw(&run[0].shape_in).expect("checked by run_stats");
        let widen = stats.stride.is_some() || stats.shrinks || fine != hw;
        let mut prep = Prepared {
            symbols: Vec::new(),
            bns: Vec::new(),
            acts: Vec::new(),
        };
        prepare(run, (fine, coarse), false, widen, &mut prep)?;
        let Some(Ok(i)) = body[k].layer.slope_interval() else {
            return Ok(None);
        };
        let slopes = if widen {
            SlopeInterval {
                lower: i.lower.min(0.0),
                upper: i.upper.max(0.0),
            }
        } else {
            i
        };
        Ok(Some(Self {
            prep,
            a_nodes: &body[..k],
            b_nodes: &body[k + 1..],
            s_nodes: shortcut,
            c_in: run[0].shape_in[0],
            hidden: body[k].shape_in[0],
            c_out: run[run.len() - 1].shape_out[0],
            grid: fine,
            coarse,
            stride: stats.stride.unwrap_or((1, 1)),
            slopes,
        }))
    }

    /// Whether the block's shortcut is the identity (always, for a piece).
    pub(super) fn has_identity_shortcut(&self) -> bool {
        self.s_nodes.is_none()
    }

    /// (Â(ω), B̂(ω), Ŝ(ω)) in stacked form with their error bounds, at the
    /// coarse frequency ω (Ŝ `None` for an identity shortcut or a piece).
    pub(super) fn at(&self, w: (usize, usize)) -> Result<(Tracked, Tracked, Option<Tracked>)> {
        let fine = aliases(w, self.coarse, self.stride);
        let mut pass = Pass {
            prep: &self.prep,
            w,
            fine,
            coarse: false,
            conv: 0,
            bn: 0,
            act: 0,
            norms: Vec::new(),
            known: Vec::new(),
        };
        let mut one = |nodes: &[Node], channels: usize, fresh: bool| -> Result<Tracked> {
            if fresh {
                pass.coarse = false;
            }
            let input = pass.identity(channels);
            let mut out = pass.run(nodes, vec![Some(input)])?;
            let mut blocks = out.pop().flatten().unwrap_or_default();
            if blocks.len() != 1 {
                return Err(Error::InvalidOption(
                    "internal: a Fourier pair did not reach one block".into(),
                ));
            }
            Ok(blocks.pop().expect("one block"))
        };
        let a = one(self.a_nodes, self.c_in, true)?;
        let b = one(self.b_nodes, self.hidden, false)?;
        let s = match self.s_nodes {
            Some(nodes) => Some(one(nodes, self.c_in, true)?),
            None => None,
        };
        Ok((a, b, s))
    }
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
