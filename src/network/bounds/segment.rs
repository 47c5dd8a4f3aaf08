//! One LipSDP-Neuron multiplier certificate over a whole *segment* of a
//! network — linear layers, elementwise activations with any slope interval
//! [a, b], max pooling (in its tournament form) and residual blocks with an
//! identity shortcut, in any order — instead of a product of per-piece
//! bounds (Fazlyab, Robey, Hassani, Morari, Pappas, "Efficient and Accurate
//! Estimation of Lipschitz Constants for Deep Neural Networks", NeurIPS
//! 2019: the LipSDP-Neuron LMI with one diagonal multiplier per activation
//! neuron, slope-restricted in [α, β]; the coupled "LipSDP-Network" variant
//! is reported unsound and is not used).
//!
//! # Setting
//! Walk the segment with every value written as a linear map of the
//! variables w = (x, u₁, …, u_K) (x the segment input, u_k the output of the
//! k-th activation, in order): a linear layer maps the current value, the
//! k-th activation (every difference quotient in [a_k, b_k]) reads
//! z_k = L_k·w (L_k uses only x and u_j, j < k) and makes u_k the current
//! value, a residual block adds its input's value to its body's. Max
//! pooling is its tournament (`super::liplt::max_pool_tournament`):
//! gather, then per level V′ = S·V + E·ψ(D·V) with the elementwise
//! ψ(t) = |t|/2, slopes [−½, ½] — linear maps and one activation per level.
//! The segment output is y = O·w (biases cancel in differences). With
//! c₁ = a + b, c₂ = −2ab (see `slope_coefficients` for the exact floats
//! used) let L′_k = c₁·L_k.
//!
//! # Theorem
//! Let T_k = diag(t_k) ≻ 0 and ρ > 0 with
//! M = OᵀO − ρE₀ᵀE₀ + Σ_k C_k ≺ 0, where
//! C_k = E_kᵀT_kL′_k + L′_kᵀT_kE_k − 2E_kᵀT_kE_k + c₂·L_kᵀT_kL_k
//! (E_k selects u_k from w, E₀ selects x). Then the segment is √ρ-Lipschitz.
//!
//! *Proof.* Take two inputs, Δ the differences, ξ = Δw. Per neuron i of
//! activation k, Δu = d·Δz with d ∈ [a, b] (every difference quotient of a
//! slope-restricted function), so (Δu − aΔz)(bΔz − Δu) = (d − a)(b − d)Δz²
//! ≥ 0, i.e. (a + b)ΔuΔz − Δu² − abΔz² ≥ 0; weighted by 2t_{k,i} > 0 and
//! summed this is ξᵀC_kξ ≥ 0. Hence
//! ‖Δy‖² − ρ‖Δx‖² = ξᵀ(OᵀO − ρE₀ᵀE₀)ξ ≤ ξᵀMξ ≤ 0. ∎ Proof:
//! proofs/theories/Multiplier.v, `segment_certificate` (the per-neuron step
//! `slope_constraint`, the expansion of ξᵀMξ `seg_matrix_quad`; the max
//! pooling form `max_tournament`, `half_abs_slope_restricted`). (For one activation
//! with slopes [0, 1] this is LipSDP-Neuron's LMI
//! [[−ρI, AᵀT], [TA, BᵀB − 2T]] ⪯ 0, and for a residual block the LMI of
//! Theorem 2 in [`super::multiplier`]; for [α, β] it is the general
//! LipSDP-Neuron LMI, whose x block carries −2αβAᵀTA.) With a = 0
//! (ReLU, sigmoid, tanh) c₂ = 0 and C_k is the [0, b] form.
//!
//! # Search (plain floating point)
//! For fixed T, the least feasible ρ is, by a Schur complement on the u
//! block (which must be negative definite),
//! ρ_min(T) = λ_max(M₀,xx + M₀,xu(−M₀,uu)⁻¹M₀,ux) with M₀ = M at ρ = 0; it is
//! computed with a Cholesky factorization of −M₀,uu and Lanczos
//! ([`super::search_eig`]). With ξ = (v, (−M₀,uu)⁻¹M₀,ux v), v the unit top
//! eigenvector, ∂ρ_min/∂t_{k,i} = ξᵀ(∂M/∂t_{k,i})ξ = 2ξ_{u_k,i}((L′_kξ)_i −
//! ξ_{u_k,i}) + c₂(L_kξ)_i² (envelope theorem). T starts from an AOL-type
//! diagonal (row sums of |·| of the Gram matrix of what reads u_k, last
//! activation first), is made feasible by doubling, improved per activation
//! by scalar factors and then by gradient steps on log t. These are
//! parameters: their rounding cannot harm soundness. When the x block
//! (≈ ρ) and the multipliers differ in scale by 2⁶ or more, the whole
//! search and certificate run on x ↦ f(s·x) for a power of two s (its
//! input columns scaled exactly; Lip(f) = Lip(f(s·))/s), since the
//! certificate's rounding radius below is one number for the whole matrix.
//!
//! # Certification (rigorous)
//! With the final T and ρ_c slightly above ρ_min, P = −M is formed in
//! floating point; the factorization reads its lower triangle, so every
//! bound below is on the matrix that triangle mirrored (for an exact
//! symmetric difference that is the difference itself; for an entrywise
//! bound |Eᵢⱼ| ≤ Bᵢⱼ the mirrored error is at most ‖B‖_F, doubled where B
//! is not symmetric). Ô and L̂′_k are [`Tracked`] (‖Ô − O‖ ≤ e_O,
//! ‖L̂′_k − L′_k‖ ≤ e_k); Q̂ = fl(ÔᵀÔ) with ‖Q̂ − OᵀO‖₂ ≤ e_O(2‖Ô‖_F + e_O) +
//! γ_m‖Ô‖_F² + N·m·η (Higham Lemma 3.1 per entry, any summation order;
//! ‖|Ô|ᵀ|Ô|‖₂ ≤ ‖Ô‖_F²; N the size of w, m the output size);
//! X̂_k = fl(T_kL̂′_k) with the error of [`Tracked::scale_rows`]. Where
//! c₂ ≠ 0, Ĝ_k = fl(L̂_kᵀ·fl(T_kL̂_k)) (lower triangle mirrored; L_k is h
//! × o) differs from L_kᵀT_kL_k by at most
//! t_max·e_L(2‖L̂‖_F + e_L) (the exact symmetric L̂ᵀTL̂ − LᵀTL) +
//! (γ_h(1 + u) + u)·t_max‖L̂‖_F² (the products' and T·L̂'s relative
//! roundings, entrywise by |L̂|ᵀT|L̂|) + 2(1 + γ_h)(η/2)√(ho)‖L̂‖_F +
//! 2·o·h·η (underflow), times |c₂| (`gram_error`). Assembly: with
//! c₂ = 0 everywhere every entry of M̂ is q̂ plus at most one other float
//! term (−ρ, −2t or one x̂; L_k does not read u_k), one rounded addition,
//! so it adds u(1 + 2u)‖P̂‖_F; otherwise an entry sums at most K + 3 terms
//! (q̂, −2t or −ρ, one x̂, one fl(c₂ĝ) per activation), so it adds
//! γ_{K+3}(1 + 2γ_{K+2})‖Σ|terms|‖_F + N·K·η (Σ|terms| assembled in
//! floating point, at most γ_{K+2} below its exact value). The sum ε of
//! these (rounded upward) bounds ‖P − P̂‖₂ (symmetric off-diagonal blocks
//! count once: ‖[[0, Eᵀ], [E, 0]]‖ = ‖E‖). The diagonal of P̂ is lowered
//! by ε (rounded downward) and Rump's criterion (BIT 2006; shift
//! [`crate::certify::pd_upper::rump_shift`], factorization
//! [`crate::certify::cholesky::cholesky_lower_in_place`]; proofs/theories/
//! Cholesky.v `rump_cholesky_posdef_rust`) certifies that matrix ≻ 0, so
//! P ≻ 0, M ≺ 0, and the bound is √ρ_c rounded upward.

use super::liplt::{max_pool_joinable, max_pool_tournament};
use super::search_eig::{matvec, top_eigenpair};
use super::tracked::{apply_linear_node, is_linear, SparseMap, Tracked};
use crate::certify::cholesky::cholesky_lower_in_place;
use crate::certify::pd_upper::rump_shift;
use crate::error::Result;
use crate::network::layer::{Layer, Node};
use crate::rounding::{
    add_up, div_up, gamma, mul_up, norm2_up, sqrt_up, sub_down, sub_up, sum_up, ETA, UNIT_ROUNDOFF,
};
use faer::linalg::triangular_solve::{
    solve_lower_triangular_in_place, solve_upper_triangular_in_place,
};
use faer::{Mat, MatRef, Par, Side};

/// Largest size N of w = (x, u₁, …, u_K) for which a segment certificate
/// is tried (the search factorizes (N − n) × (N − n) matrices, the
/// certificate an N × N one). 3072 admits MTCNN ONet's head segment
/// (N = 2432: conv 64×4×4 → 1152 → 256; 8.8 s, bound 7.56 → 4.39 by the
/// product of its layers); the cost grows as N³.
pub const MAX_SEGMENT_DIM: usize = 3072;

/// [`MAX_SEGMENT_DIM`] for a segment holding max pooling: its tournament
/// levels add activations, each a further axis of the multiplier search
/// (MTCNN PNet's whole 12×12 network, N ≈ 2400 with six activations, took
/// 77 s for no gain over its parts).
pub const MAX_POOLED_SEGMENT_DIM: usize = 2048;

/// Whether `nodes` (nested branches included: `Node::nested`) hold max
/// pooling.
fn holds_max_pool(nodes: &[Node]) -> bool {
    nodes.iter().any(node_holds_max_pool)
}

fn node_holds_max_pool(node: &Node) -> bool {
    matches!(node.layer, Layer::MaxPool2d { .. })
        || node
            .nested()
            .is_some_and(|inner| inner.into_iter().any(node_holds_max_pool))
}

/// Gradient steps of the search.
const GRADIENT_STEPS: usize = 24;

/// One activation of a segment: its variables start at `offset` in w;
/// `l` is L̂′ = fl(c₁·L̂) (h × offset, column-major) for the map L̂ that
/// reads the earlier variables, `raw` is L̂ itself when c₂ ≠ 0 (module docs,
/// "Setting").
#[derive(Debug, Clone)]
struct Act {
    offset: usize,
    l: Tracked,
    raw: Option<Tracked>,
    c2: f64,
}

impl Act {
    fn h(&self) -> usize {
        self.l.rows
    }

    /// The activation reading `z` (h × offset) with coefficients (c₁, c₂).
    fn new(z: Tracked, (c1, c2): (f64, f64)) -> Self {
        let l = if c1 == 1.0 { z.clone() } else { z.scale(c1) };
        Act {
            offset: l.cols,
            l,
            raw: (c2 != 0.0).then_some(z),
            c2,
        }
    }
}

/// The exact coefficients (c₁, c₂) = (a′ + b′, −2a′b′) of the constraint
/// for slopes in [a, b] (module docs), with [a′, b′] ⊇ [a, b]: b′ = b when
/// a = 0 (c₂ = 0), else a and b rounded outward to multiples of q = 2^(e−25),
/// 2^e ≥ max(|a|, |b|), so a′ = A·q, b′ = B·q with integers |A|, |B| ≤
/// 2²⁵ + 1 and A + B, A·B (< 2⁵³) and the power-of-two scalings are exact
/// (q² ≥ 2⁻⁸⁵⁰ stays normal). `None` for a non-finite or empty interval,
/// [0, 0], or magnitudes outside [2⁻⁴⁰⁰, 2⁴⁰⁰].
fn slope_coefficients(lower: f64, upper: f64) -> Option<(f64, f64)> {
    if !(lower.is_finite() && upper.is_finite() && lower <= upper) {
        return None;
    }
    if lower == 0.0 {
        return (upper > 0.0).then_some((upper, 0.0));
    }
    let m = lower.abs().max(upper.abs());
    if !(m >= 2f64.powi(-400) && m <= 2f64.powi(400)) {
        return None;
    }
    let q = 2f64.powi(m.log2().ceil() as i32 - 25);
    let a = (lower / q).floor() * q;
    let b = (upper / q).ceil() * q;
    Some((a + b, -2.0 * (a * b)))
}

/// A segment in the form of the module docs.
#[derive(Debug, Clone)]
pub struct Segment {
    n: usize,
    dim: usize,
    acts: Vec<Act>,
    out: Tracked,
    /// Whether an activation entered with per-neuron slope intervals (the
    /// normalised form of [`walk`]).
    per_neuron: bool,
}

impl Segment {
    /// Number of activations.
    pub fn activations(&self) -> usize {
        self.acts.len()
    }

    /// Whether an activation has a slope interval [a, b] with a ≠ 0 (where
    /// the pieces of [`super::multiplier`] use [0, b] or a split, so even a
    /// one-activation segment can be tighter).
    pub fn has_nonzero_lower_slope(&self) -> bool {
        self.acts.iter().any(|a| a.c2 != 0.0)
    }

    /// Whether an activation has per-neuron slope intervals (PReLU with
    /// per-channel slopes; the pieces of [`super::multiplier`] use their
    /// hull, so even a one-activation segment can be tighter).
    pub fn has_per_neuron_slopes(&self) -> bool {
        self.per_neuron
    }

    /// The size N of w.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The segment of x ↦ f(s·x) for a power of two s: the columns of the
    /// input variables scaled by s (exact, `None` if an entry would leave the
    /// normal range), errors by max(s, 1). Its Lipschitz constant is
    /// s·Lip(f).
    fn with_input_scale(&self, s: f64) -> Option<Segment> {
        let n = self.n;
        let scale = |t: &Tracked| -> Option<Tracked> {
            let mut t = t.clone();
            for v in &mut t.data[..t.rows * n.min(t.cols)] {
                let w = *v * s;
                if *v != 0.0 && !(w.is_finite() && w.abs() >= f64::MIN_POSITIVE) {
                    return None;
                }
                *v = w;
            }
            t.err = mul_up(t.err, s.max(1.0));
            Some(t)
        };
        let mut acts = Vec::with_capacity(self.acts.len());
        for a in &self.acts {
            acts.push(Act {
                offset: a.offset,
                l: scale(&a.l)?,
                raw: match &a.raw {
                    Some(r) => Some(scale(r)?),
                    None => None,
                },
                c2: a.c2,
            });
        }
        Some(Segment {
            n,
            dim: self.dim,
            acts,
            out: scale(&self.out)?,
            per_neuron: self.per_neuron,
        })
    }
}

/// `t` with zero columns appended up to `cols` (exact).
fn pad(t: &Tracked, cols: usize) -> Tracked {
    let mut data = t.data.clone();
    data.resize(t.rows * cols, 0.0);
    Tracked {
        rows: t.rows,
        cols,
        data,
        err: t.err,
    }
}

/// The rows `rows` of `t`, in that order (exact; the error bound carries
/// over, as ‖P·E‖₂ ≤ ‖E‖₂ for a row selection P).
fn select_rows(t: &Tracked, rows: &[usize]) -> Tracked {
    let k = rows.len();
    let mut data = vec![0.0; k * t.cols];
    for c in 0..t.cols {
        for (r, &i) in rows.iter().enumerate() {
            data[c * k + r] = t.data[c * t.rows + i];
        }
    }
    Tracked {
        rows: k,
        cols: t.cols,
        data,
        err: t.err,
    }
}

/// The exact selection of the last h of `cols` variables.
fn selection(h: usize, cols: usize) -> Tracked {
    let mut data = vec![0.0; h * cols];
    let off = cols - h;
    for i in 0..h {
        data[(off + i) * h + i] = 1.0;
    }
    Tracked {
        rows: h,
        cols,
        data,
        err: 0.0,
    }
}

/// Walks `nodes` from the current value `cur`; `None` when a node is not
/// supported or a limit is exceeded. Sets `per_neuron` when an activation
/// enters in the normalised per-neuron form: with per-coordinate slope
/// intervals [a_i, b_i] ([`Layer::coordinate_slope_intervals`]) and
/// s_i = b_i − a_i rounded upward, φ_i(z) = a_i·z + s_i·φ̃_i(z) where
/// φ̃_i = (φ_i − a_i·Id)/s_i (φ̃_i = 0 when s_i = 0) has every difference
/// quotient in [0, (b_i − a_i)/s_i] ⊂ [0, 1]; so the activation is one with
/// slopes [0, 1] reading the coordinates of z with s_i > 0 (its u = φ̃(z)
/// there), and the value after it is the linear map diag(a)·z + diag(s)·u
/// of the variables — the theorem of the
/// module docs applies unchanged (LipSDP-Neuron with per-neuron slope
/// intervals, in another basis).
fn walk(
    nodes: &[Node],
    mut cur: Tracked,
    acts: &mut Vec<Act>,
    dim: &mut usize,
    (max_entries, max_dim): (usize, usize),
    per_neuron: &mut bool,
) -> Result<Option<Tracked>> {
    for node in nodes {
        if is_linear(&node.layer) {
            let rows: usize = node.shape_out.iter().product();
            if rows.saturating_mul(cur.cols) > max_entries {
                return Ok(None);
            }
            cur = apply_linear_node(node, &cur)?;
            continue;
        }
        if let Some(v) = node.layer.coordinate_slope_intervals() {
            let h = cur.rows;
            if v.len() != h
                || v.iter()
                    .any(|s| !(s.lower.is_finite() && s.upper.is_finite() && s.lower <= s.upper))
            {
                return Ok(None);
            }
            let a: Vec<f64> = v.iter().map(|s| s.lower).collect();
            let widths: Vec<f64> = v
                .iter()
                .map(|s| {
                    if s.upper == s.lower {
                        0.0
                    } else {
                        sub_up(s.upper, s.lower)
                    }
                })
                .collect();
            if widths.iter().any(|w| !w.is_finite()) {
                return Ok(None);
            }
            // Neurons with s_i = 0 are linear: they get no variable (a
            // variable nothing reads would drive its multiplier to 0 and
            // the certificate's diagonal below its rounding radius).
            let active: Vec<usize> = (0..h).filter(|&i| widths[i] > 0.0).collect();
            let k = active.len();
            *dim += k;
            if *dim > max_dim || h.saturating_mul(*dim) > max_entries {
                return Ok(None);
            }
            let linear = pad(&cur, *dim).scale_rows(&a);
            if k > 0 {
                acts.push(Act::new(select_rows(&cur, &active), (1.0, 0.0)));
                // diag(s)·u: row i reads the new variable of neuron i (exact).
                let mut rows = vec![Vec::new(); h];
                for (j, &i) in active.iter().enumerate() {
                    rows[i].push((*dim - k + j, widths[i]));
                }
                let embed = SparseMap { cols: *dim, rows }.to_tracked();
                cur = linear.add(&embed)?;
            } else {
                cur = linear;
            }
            *per_neuron = true;
            continue;
        }
        if let Some(Ok(s)) = node.layer.slope_interval() {
            let Some(coefficients) = slope_coefficients(s.lower, s.upper) else {
                return Ok(None);
            };
            let h = cur.rows;
            *dim += h;
            if *dim > max_dim || h.saturating_mul(*dim) > max_entries {
                return Ok(None);
            }
            acts.push(Act::new(cur, coefficients));
            cur = selection(h, *dim);
            continue;
        }
        match &node.layer {
            Layer::MaxPool2d { channels, pool } if max_pool_joinable(pool) => {
                let (g, levels) = max_pool_tournament(*channels, pool);
                if g.rows.len().saturating_mul(cur.cols) > max_entries {
                    return Ok(None);
                }
                cur = g.apply(&cur)?;
                for (d, s, e) in levels {
                    let pairs = d.rows.len();
                    *dim += pairs;
                    if *dim > max_dim || pairs.max(s.rows.len()).saturating_mul(*dim) > max_entries
                    {
                        return Ok(None);
                    }
                    let z = d.apply(&cur)?;
                    let mut next = pad(&s.apply(&cur)?, *dim);
                    // ψ(t) = |t|/2 has slopes in [−½, ½]; its outputs enter
                    // through E, in the new columns (exact: they were 0).
                    acts.push(Act::new(z, (0.0, 0.5)));
                    let base = *dim - pairs;
                    for (r, terms) in e.rows.iter().enumerate() {
                        for &(p, coefficient) in terms {
                            next.data[(base + p) * next.rows + r] = coefficient;
                        }
                    }
                    cur = next;
                }
            }
            Layer::Residual {
                body,
                shortcut: None,
            } => {
                let saved = cur.clone();
                let Some(out) = walk(body, cur, acts, dim, (max_entries, max_dim), per_neuron)?
                else {
                    return Ok(None);
                };
                if out.rows != saved.rows {
                    return Ok(None);
                }
                cur = pad(&saved, out.cols).add(&out)?;
            }
            _ => return Ok(None),
        }
    }
    Ok(Some(cur))
}

/// The segment form of `nodes` (`None` when a node is not a linear layer,
/// an activation with a finite slope interval, max pooling or a residual
/// block with an identity shortcut made of those, or the size exceeds the
/// limits).
pub fn build_segment(nodes: &[Node], max_entries: usize) -> Result<Option<Segment>> {
    let Some(first) = nodes.first() else {
        return Ok(None);
    };
    let n: usize = first.shape_in.iter().product();
    let max_dim = if holds_max_pool(nodes) {
        MAX_POOLED_SEGMENT_DIM
    } else {
        MAX_SEGMENT_DIM
    };
    if n > max_dim {
        return Ok(None);
    }
    let mut acts = Vec::new();
    let mut dim = n;
    let mut per_neuron = false;
    let Some(out) = walk(
        nodes,
        Tracked::identity(n),
        &mut acts,
        &mut dim,
        (max_entries, max_dim),
        &mut per_neuron,
    )?
    else {
        return Ok(None);
    };
    if acts.is_empty() {
        return Ok(None);
    }
    let out = pad(&out, dim);
    Ok(Some(Segment {
        n,
        dim,
        acts,
        out,
        per_neuron,
    }))
}

fn view(t: &Tracked) -> MatRef<'_, f64> {
    MatRef::from_column_major_slice(&t.data, t.rows, t.cols)
}

/// fl(ÔᵀÔ) (N × N).
fn out_gram(seg: &Segment) -> Mat<f64> {
    let o = view(&seg.out);
    o.transpose() * o
}

/// M at ρ = 0 (floats) from Q̂ = fl(ÔᵀÔ), X̂_k = fl(T_kL̂′_k) and the
/// terms c₂·L̂_kᵀT_kL̂_k (`grams`, offset_k × offset_k, already multiplied
/// by c₂): adds x̂ to both symmetric positions, −2t to the diagonal of u_k
/// and the Gram term to the block of the variables u_k reads.
fn assemble(
    q: &Mat<f64>,
    seg: &Segment,
    xs: &[Vec<f64>],
    t: &[Vec<f64>],
    grams: &[Option<Mat<f64>>],
) -> Mat<f64> {
    let mut m = q.clone();
    for (((act, x), tk), g) in seg.acts.iter().zip(xs).zip(t).zip(grams) {
        let h = act.h();
        for j in 0..act.offset {
            for i in 0..h {
                let v = x[j * h + i];
                if v != 0.0 {
                    let r = act.offset + i;
                    m[(r, j)] += v;
                    m[(j, r)] += v;
                }
            }
        }
        for (i, ti) in tk.iter().enumerate() {
            let r = act.offset + i;
            m[(r, r)] -= 2.0 * ti;
        }
        if let Some(g) = g {
            for j in 0..act.offset {
                for i in 0..act.offset {
                    m[(i, j)] += g[(i, j)];
                }
            }
        }
    }
    m
}

/// The terms c₂·L̂_kᵀT_kL̂_k ([`gram_term`]) of every activation with
/// c₂ ≠ 0.
fn grams(seg: &Segment, t: &[Vec<f64>]) -> Vec<Option<Mat<f64>>> {
    seg.acts
        .iter()
        .zip(t)
        .map(|(a, tk)| a.raw.as_ref().map(|l| gram_term(l, a.c2, tk)))
        .collect()
}

/// fl(c₂·Ĝ) with Ĝ = fl(L̂ᵀ·fl(T·L̂)), the lower triangle mirrored: the
/// term the search uses and the certificate bounds ([`gram_error`]).
fn gram_term(l: &Tracked, c2: f64, tk: &[f64]) -> Mat<f64> {
    let (h, off) = (l.rows, l.cols);
    let lv = view(l);
    let y = Mat::from_fn(h, off, |i, j| tk[i] * lv[(i, j)]);
    let g = lv.transpose() * &y;
    Mat::from_fn(off, off, |i, j| {
        let (r, c) = if i >= j { (i, j) } else { (j, i) };
        c2 * g[(r, c)]
    })
}

fn scaled(seg: &Segment, t: &[Vec<f64>]) -> Vec<Vec<f64>> {
    seg.acts
        .iter()
        .zip(t)
        .map(|(a, tk)| {
            let h = a.h();
            a.l.data
                .iter()
                .enumerate()
                .map(|(k, v)| tk[k % h] * v)
                .collect()
        })
        .collect()
}

/// ρ_min(T) and ξ (module docs), `None` when −M₀,uu is not numerically
/// positive definite. The Schur complement M₀,xx + WᵀW (W = L⁻¹M₀,ux,
/// −M₀,uu = LLᵀ) is formed explicitly (one n × n product instead of two
/// passes over W per Lanczos step), and Lanczos is warm-started from the
/// previous eigenvector `warm`.
fn rho_min(
    seg: &Segment,
    q: &Mat<f64>,
    t: &[Vec<f64>],
    warm: Option<&[f64]>,
) -> Option<(f64, Vec<f64>)> {
    let m = assemble(q, seg, &scaled(seg, t), t, &grams(seg, t));
    let (n, hs) = (seg.n, seg.dim - seg.n);
    let neg = Mat::from_fn(hs, hs, |i, j| if i < j { 0.0 } else { -m[(n + i, n + j)] });
    let llt = neg.llt(Side::Lower).ok()?;
    let l = llt.L();
    if (0..hs).any(|i| !(l[(i, i)] > 0.0 && l[(i, i)].is_finite())) {
        return None;
    }
    let mut w = m.as_ref().submatrix(n, 0, hs, n).to_owned();
    solve_lower_triangular_in_place(l, w.as_mut(), Par::Seq);
    let schur = m.as_ref().submatrix(0, 0, n, n) + w.transpose() * &w;
    let (rho, v) = top_eigenpair(n, warm, |x, y| matvec(schur.as_ref(), x, y))?;
    let mut wv = vec![0.0; hs];
    matvec(w.as_ref(), &v, &mut wv);
    let mut z = Mat::from_fn(hs, 1, |i, _| wv[i]);
    solve_upper_triangular_in_place(l.transpose(), z.as_mut(), Par::Seq);
    let mut xi = v;
    xi.extend((0..hs).map(|i| z[(i, 0)]));
    (rho.is_finite() && rho > 0.0 && xi.iter().all(|v| v.is_finite())).then_some((rho, xi))
}

/// ∂ρ_min/∂log t_{k,i} = t·(2ξ_u((L′ξ)_i − ξ_u) + c₂(Lξ)_i²).
fn gradient(seg: &Segment, t: &[Vec<f64>], xi: &[f64]) -> Vec<Vec<f64>> {
    seg.acts
        .iter()
        .zip(t)
        .map(|(a, tk)| {
            let h = a.h();
            let mut lx = vec![0.0; h];
            matvec(view(&a.l), &xi[..a.offset], &mut lx);
            let mut z = vec![0.0; h];
            if let Some(raw) = &a.raw {
                matvec(view(raw), &xi[..a.offset], &mut z);
            }
            (0..h)
                .map(|i| {
                    let e = xi[a.offset + i];
                    tk[i] * (2.0 * e * (lx[i] - e) + a.c2 * z[i] * z[i])
                })
                .collect()
        })
        .collect()
}

/// The AOL-type start: last activation first, t_{k,i} = Σ_j |G_k|_{ij} with
/// G_k = O_kᵀO_k + Σ_{j>k} (L′_{j,k}ᵀT_jL′_{j,k} + max(c₂, 0)·L_{j,k}ᵀT_jL_{j,k})
/// (the blocks reading u_k), floored to keep T ≻ 0.
fn initial(seg: &Segment) -> Vec<Vec<f64>> {
    let k_count = seg.acts.len();
    let mut t: Vec<Vec<f64>> = seg.acts.iter().map(|a| vec![0.0; a.h()]).collect();
    let o = view(&seg.out);
    for k in (0..k_count).rev() {
        let a = &seg.acts[k];
        let (off, h) = (a.offset, a.h());
        let ok = o.subcols(off, h);
        let mut g = ok.transpose() * ok;
        for (b, tj) in seg.acts.iter().zip(&t).skip(k + 1) {
            let lj = view(&b.l).subcols(off, h);
            let tl = Mat::from_fn(b.h(), h, |r, c| tj[r] * lj[(r, c)]);
            g += lj.transpose() * &tl;
            if let (Some(raw), true) = (&b.raw, b.c2 > 0.0) {
                let lj = view(raw).subcols(off, h);
                let tl = Mat::from_fn(b.h(), h, |r, c| b.c2 * tj[r] * lj[(r, c)]);
                g += lj.transpose() * &tl;
            }
        }
        let sums: Vec<f64> = (0..h)
            .map(|i| (0..h).map(|c| g[(i, c)].abs()).sum::<f64>())
            .collect();
        let top = sums.iter().fold(0.0f64, |a, v| a.max(*v));
        let floor = (1e-6 * top).max(f64::MIN_POSITIVE.sqrt());
        t[k] = sums.iter().map(|v| v.max(floor)).collect();
    }
    t
}

/// Float search of T (module docs); `None` when no feasible T was found.
fn search(seg: &Segment, q: &Mat<f64>) -> Option<(Vec<Vec<f64>>, f64)> {
    let mut t = initial(seg);
    let mut cur = None;
    for _ in 0..40 {
        if let Some(r) = rho_min(seg, q, &t, None) {
            cur = Some(r);
            break;
        }
        t.iter_mut().flatten().for_each(|v| *v *= 2.0);
    }
    let (mut rho, mut xi) = cur?;
    // Per-activation scalar factors.
    for k in 0..seg.acts.len() {
        for step in [2.0f64, 1.0, 0.5, 0.25] {
            for dir in [1.0, -1.0] {
                let f = 2f64.powf(dir * step);
                let mut trial = t.clone();
                trial[k].iter_mut().for_each(|v| *v *= f);
                if let Some((r, x)) = rho_min(seg, q, &trial, Some(&xi[..seg.n])) {
                    if r < rho {
                        (rho, xi, t) = (r, x, trial);
                        break;
                    }
                }
            }
        }
    }
    // Gradient steps on log t.
    let mut step = 0.2;
    for _ in 0..GRADIENT_STEPS {
        let g = gradient(seg, &t, &xi);
        let gmax = g.iter().flatten().fold(0.0f64, |a, v| a.max(v.abs()));
        if !(gmax > 0.0 && gmax.is_finite()) {
            break;
        }
        let mut improved = false;
        for _ in 0..5 {
            let trial: Vec<Vec<f64>> = t
                .iter()
                .zip(&g)
                .map(|(tk, gk)| {
                    tk.iter()
                        .zip(gk)
                        .map(|(v, gi)| v * (-step * gi / gmax).exp())
                        .collect()
                })
                .collect();
            if let Some((r, x)) = rho_min(seg, q, &trial, Some(&xi[..seg.n])) {
                if r < rho {
                    (rho, xi, t) = (r, x, trial);
                    step *= 1.5;
                    improved = true;
                    break;
                }
            }
            step *= 0.5;
        }
        if !improved {
            break;
        }
    }
    t.iter()
        .flatten()
        .all(|v| v.is_finite() && *v > 0.0)
        .then_some((t, rho))
}

/// Frobenius norm (rounded upward) of the lower triangle of `p` mirrored:
/// the matrix the factorization reads.
fn mirrored_frobenius_up(p: &Mat<f64>) -> f64 {
    let nn = p.nrows();
    sqrt_up(sum_up(
        (0..nn)
            .flat_map(|j| (j..nn).map(move |i| (i, j)))
            .map(|(i, j)| {
                let v = p[(i, j)];
                let w = if i == j { 1.0 } else { 2.0 };
                mul_up(w, mul_up(v, v))
            }),
    ))
}

/// A bound on ‖[`gram_term`] − c₂LᵀTL‖₂ without the final product's
/// rounding (that one is in the assembly bound), for the lower triangle
/// mirrored (module docs, "Certification").
fn gram_error(l: &Tracked, c2: f64, tk: &[f64]) -> f64 {
    let (h, off) = (l.rows, l.cols);
    let lf = norm2_up(&l.data);
    let el = l.err;
    let t_max = tk.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let gh = gamma(h);
    // Exact part L̂ᵀTL̂ − LᵀTL (symmetric).
    let exact = mul_up(t_max, mul_up(el, add_up(mul_up(2.0, lf), el)));
    // Roundings of T·L̂ and of the products (entrywise, symmetric bound).
    let relative = mul_up(
        add_up(mul_up(gh, 1.0 + UNIT_ROUNDOFF), UNIT_ROUNDOFF),
        mul_up(t_max, mul_up(lf, lf)),
    );
    // Underflow of T·L̂ (η/2 per entry) and of the dot products (h·η per
    // entry), doubled for the mirroring of a non-symmetric bound.
    let underflow = mul_up(
        2.0,
        add_up(
            mul_up(
                mul_up(add_up(gh, 1.0), ETA / 2.0),
                mul_up(sqrt_up(mul_up(h as f64, off as f64)), lf),
            ),
            mul_up(mul_up(off as f64, h as f64), ETA),
        ),
    );
    mul_up(c2.abs(), add_up(add_up(exact, relative), underflow))
}

/// Certifies M ≺ 0 for (T, ρ) (module docs, "Certification").
fn certify(seg: &Segment, q: &Mat<f64>, t: &[Vec<f64>], rho: f64) -> bool {
    let nn = seg.dim;
    let m_out = seg.out.rows;
    let o_f = norm2_up(&seg.out.data);
    let eo = seg.out.err;
    let mut eps = add_up(
        add_up(
            mul_up(eo, add_up(mul_up(2.0, o_f), eo)),
            mul_up(gamma(m_out), mul_up(o_f, o_f)),
        ),
        mul_up(mul_up(nn as f64, m_out as f64), ETA),
    );
    let mut xs = Vec::with_capacity(seg.acts.len());
    for (a, tk) in seg.acts.iter().zip(t) {
        let x = a.l.scale_rows(tk);
        eps = add_up(eps, x.err);
        xs.push(x.data);
        if let Some(l) = &a.raw {
            eps = add_up(eps, gram_error(l, a.c2, tk));
        }
    }
    let grams = grams(seg, t);
    let mut p = assemble(q, seg, &xs, t, &grams);
    for i in 0..seg.n {
        p[(i, i)] -= rho;
    }
    // P̂ = −M̂ (exact negation).
    let mut p = Mat::from_fn(nn, nn, |i, j| -p[(i, j)]);
    if (0..nn).any(|j| (0..nn).any(|i| !p[(i, j)].is_finite())) {
        return false;
    }
    // The factorization reads the lower triangle: the matrix certified is
    // that triangle mirrored.
    let assembly = if grams.iter().all(Option::is_none) {
        // One rounded addition per entry.
        mul_up(
            UNIT_ROUNDOFF * (1.0 + 2.0 * UNIT_ROUNDOFF),
            mirrored_frobenius_up(&p),
        )
    } else {
        // At most K + 3 terms per entry (q̂, −2t or −ρ, one x̂, K Gram
        // terms), each Gram term one rounded product: error at most
        // γ_{K+3}·Σ|terms| + K·η/2 per entry. Σ|terms| is assembled in
        // floating point (at most γ_{K+2} below the exact sum).
        let k = seg.acts.len();
        let abs_q = Mat::from_fn(nn, nn, |i, j| q[(i, j)].abs());
        let abs_xs: Vec<Vec<f64>> = xs
            .iter()
            .map(|x| x.iter().map(|v| v.abs()).collect())
            .collect();
        let neg_t: Vec<Vec<f64>> = t.iter().map(|tk| tk.iter().map(|v| -v).collect()).collect();
        let abs_grams: Vec<Option<Mat<f64>>> = grams
            .iter()
            .map(|g| {
                g.as_ref()
                    .map(|g| Mat::from_fn(g.nrows(), g.ncols(), |i, j| g[(i, j)].abs()))
            })
            .collect();
        let mut sums = assemble(&abs_q, seg, &abs_xs, &neg_t, &abs_grams);
        for i in 0..seg.n {
            sums[(i, i)] += rho;
        }
        let g = gamma(k + 3);
        add_up(
            mul_up(
                mul_up(g, add_up(1.0, mul_up(2.0, gamma(k + 2)))),
                mirrored_frobenius_up(&sums),
            ),
            mul_up(mul_up(nn as f64, k as f64), ETA),
        )
    };
    eps = add_up(eps, assembly);
    if !eps.is_finite() {
        return false;
    }
    let mut trace = 0.0f64;
    let mut max_diag = 0.0f64;
    for i in 0..nn {
        let d = sub_down(p[(i, i)], eps);
        if d.is_nan() || d < 0.0 {
            return false;
        }
        p[(i, i)] = d;
        trace = add_up(trace, d);
        max_diag = max_diag.max(d);
    }
    let c = rump_shift(nn, trace, max_diag);
    for i in 0..nn {
        let d = sub_down(p[(i, i)], c);
        if d.is_nan() || d <= 0.0 {
            return false;
        }
        p[(i, i)] = d;
    }
    cholesky_lower_in_place(p.as_mut()).is_ok()
}

/// The smallest certified √ρ near the search's (T, ρ): the search may stop
/// where −M's u block is barely positive definite (with c₁ = 0, |x|-type
/// constraints, nothing couples it to ρ), so after the margins on ρ alone
/// T is enlarged a little, which gives that block a margin, and ρ
/// recomputed.
fn certified_bound(seg: &Segment, q: &Mat<f64>, t: &[Vec<f64>], rho: f64) -> Option<f64> {
    for t_scale in [1.0, 1.0 + 1e-8, 1.0 + 1e-5, 1.0 + 1e-2, 1.5, 4.0] {
        let (t, rho) = if t_scale == 1.0 {
            (t.to_vec(), rho)
        } else {
            let scaled: Vec<Vec<f64>> = t
                .iter()
                .map(|tk| tk.iter().map(|v| v * t_scale).collect())
                .collect();
            match rho_min(seg, q, &scaled, None) {
                Some((r, _)) => (scaled, r),
                None => continue,
            }
        };
        let shrinks: &[f64] = if t_scale == 1.0 {
            &[1e-6, 1e-4, 1e-3, 1e-2, 0.1]
        } else {
            &[1e-6, 1e-4, 1e-2]
        };
        for shrink in shrinks {
            let rho_c = rho * (1.0 + shrink);
            if rho_c.is_finite() && certify(seg, q, &t, rho_c) {
                let b = sqrt_up(rho_c);
                if b.is_finite() {
                    return Some(b);
                }
            }
        }
    }
    None
}

/// The power-of-two input scale s that brings the x block of M (≈ ρ·s²)
/// to the size of the multipliers (geometric mean of T), when they are at
/// least 2⁶ apart: the certificate's rounding bound is one radius for the
/// whole matrix, so unbalanced blocks would need large margins.
fn balancing_input_scale(t: &[Vec<f64>], rho: f64) -> Option<f64> {
    let (sum, count) = t
        .iter()
        .flatten()
        .fold((0.0f64, 0usize), |(s, c), v| (s + v.log2(), c + 1));
    let k = (0.5 * (sum / count as f64 - rho.log2())).round();
    (k.is_finite() && k.abs() >= 3.0 && k.abs() <= 400.0).then(|| 2f64.powi(k as i32))
}

/// A certified upper bound on the Lipschitz constant of the segment
/// (module docs), `None` when the search finds no feasible multiplier or no
/// candidate certifies. When the input's block and the multipliers differ
/// widely in scale, the certificate runs on x ↦ f(s·x) (s a power of two,
/// Lip(f) = Lip(f(s·))/s) first. Rigorous when the layers' certified norms
/// (used in the [`Tracked`] error bounds) are; the caller combines their
/// guarantee.
pub fn segment_bound(seg: &Segment) -> Option<f64> {
    let q = out_gram(seg);
    let (t, rho) = search(seg, &q)?;
    if let Some(s) = balancing_input_scale(&t, rho) {
        if let Some(scaled) = seg.with_input_scale(s) {
            let q2 = out_gram(&scaled);
            if let Some((t2, rho2)) = search(&scaled, &q2) {
                if let Some(b) = certified_bound(&scaled, &q2, &t2, rho2) {
                    let b = div_up(b, s);
                    if b.is_finite() {
                        return Some(b);
                    }
                }
            }
        }
    }
    certified_bound(seg, &q, &t, rho)
}

#[cfg(test)]
mod tests {
    use super::slope_coefficients;

    /// (c₁, c₂) are exactly a′ + b′ and −2a′b′ for an outward [a′, b′]
    /// (checked with an error-free FMA residual), and a = 0 keeps b.
    #[test]
    fn slope_coefficients_are_exact_and_outward() {
        let mut rng = crate::random::Rng::new(12);
        let gelu =
            crate::network::constants::slope_interval_gelu(crate::network::constants::gelu());
        let mut cases = vec![
            (gelu.lower, gelu.upper),
            (-0.5, 0.5),
            (-1.0, 1.0),
            (0.01, 1.0),
        ];
        for _ in 0..2000 {
            let (x, y) = (rng.normal() * 3.0, rng.normal() * 3.0);
            let e = (rng.uniform() * 80.0 - 40.0).round() as i32;
            let (x, y) = (x * 2f64.powi(e), y * 2f64.powi(e));
            cases.push((x.min(y), x.max(y)));
        }
        for (a, b) in cases {
            let (c1, c2) = slope_coefficients(a, b).unwrap();
            // Recover a′, b′ as the roots of t² − c₁t − c₂/2 = (t − a′)(t − b′).
            let disc = (c1 * c1 + 2.0 * c2).sqrt();
            let (lo, hi) = ((c1 - disc) / 2.0, (c1 + disc) / 2.0);
            let tol = 2f64.powi(-24) * a.abs().max(b.abs());
            assert!(
                lo <= a + 1e-12 * tol && a - lo <= tol,
                "[{a}, {b}]: a′ = {lo}"
            );
            assert!(
                hi >= b - 1e-12 * tol && hi - b <= tol,
                "[{a}, {b}]: b′ = {hi}"
            );
            // Exactness: the quantized ends reproduce c₁ and c₂ without rounding.
            let q = 2f64.powi(a.abs().max(b.abs()).log2().ceil() as i32 - 25);
            let (a2, b2) = ((a / q).floor() * q, (b / q).ceil() * q);
            if a != 0.0 {
                assert_eq!(c1 - a2, b2);
                assert_eq!(a2.mul_add(b2, c2 / 2.0), 0.0);
            }
        }
        assert_eq!(slope_coefficients(0.0, 0.25), Some((0.25, 0.0)));
        assert_eq!(slope_coefficients(0.0, 0.0), None);
        assert_eq!(slope_coefficients(1.0, 0.0), None);
        assert_eq!(slope_coefficients(f64::NEG_INFINITY, 1.0), None);
    }
}
