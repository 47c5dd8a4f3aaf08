//! One LipSDP-Neuron multiplier certificate over a whole *segment* of a
//! network — linear layers, elementwise activations with slopes in [0, β]
//! and residual blocks with an identity shortcut, in any order — instead of
//! a product of per-piece bounds (Fazlyab, Robey, Hassani, Morari, Pappas,
//! "Efficient and Accurate Estimation of Lipschitz Constants for Deep
//! Neural Networks", NeurIPS 2019: the LipSDP-Neuron LMI with one diagonal
//! multiplier per activation neuron; the coupled "LipSDP-Network" variant is
//! reported unsound and is not used).
//!
//! # Setting
//! Walk the segment with every value written as a linear map of the
//! variables w = (x, u₁, …, u_K) (x the segment input, u_k the output of the
//! k-th activation, in order): a linear layer maps the current value, the
//! k-th activation (slopes in [0, β_k]) reads z_k = L_k·w (L_k uses only x
//! and u_j, j < k) and makes u_k the current value, a residual block adds
//! its input's value to its body's. The segment output is y = O·w (biases
//! cancel in differences). Let L′_k = β_k·L_k.
//!
//! # Theorem
//! Let T_k = diag(t_k) ≻ 0 and ρ > 0 with
//! M = OᵀO − ρE₀ᵀE₀ − Σ_k (2E_kᵀT_kE_k − E_kᵀT_kL′_k − L′_kᵀT_kE_k) ≺ 0
//! (E_k selects u_k from w, E₀ selects x). Then the segment is √ρ-Lipschitz.
//!
//! *Proof.* Take two inputs, Δ the differences, ξ = Δw. Per neuron i of
//! activation k, Δu = d·Δz with d ∈ [0, β] (every difference quotient of a
//! slope-restricted function), so Δu(βΔz − Δu) = d(β − d)Δz² ≥ 0; weighted
//! by 2t_{k,i} > 0 and summed: Σ_k 2Δu_kᵀT_k(L′_kξ − Δu_k) ≥ 0, which is
//! ξᵀ(Σ_k 2E_kᵀT_kL′_k − 2E_kᵀT_kE_k)ξ ≥ 0 written symmetrically. Hence
//! ‖Δy‖² − ρ‖Δx‖² = ξᵀ(OᵀO − ρE₀ᵀE₀)ξ ≤ ξᵀMξ ≤ 0. ∎ (For one activation
//! this is LipSDP-Neuron's LMI [[−ρI, AᵀT], [TA, BᵀB − 2T]] ⪯ 0, and for a
//! residual block the LMI of Theorem 2 in [`super::multiplier`].)
//!
//! # Search (plain floating point)
//! For fixed T, the least feasible ρ is, by a Schur complement on the u
//! block (which must be negative definite),
//! ρ_min(T) = λ_max(M₀,xx + M₀,xu(−M₀,uu)⁻¹M₀,ux) with M₀ = M at ρ = 0; it is
//! computed with a Cholesky factorization of −M₀,uu and Lanczos
//! ([`super::search_eig`]). With ξ = (v, (−M₀,uu)⁻¹M₀,ux v), v the unit top
//! eigenvector, ∂ρ_min/∂t_{k,i} = ξᵀ(∂M/∂t_{k,i})ξ = 2ξ_{u_k,i}((L′_kξ)_i −
//! ξ_{u_k,i}) (envelope theorem). T starts from an AOL-type diagonal
//! (row sums of |·| of the Gram matrix of what reads u_k, last activation
//! first), is made feasible by doubling, improved per activation by
//! scalar factors and then by gradient steps on log t. These are
//! parameters: their rounding cannot harm soundness.
//!
//! # Certification (rigorous)
//! With the final T and ρ_c slightly above ρ_min, P = −M is formed in
//! floating point: Ô and L̂′_k are [`Tracked`] (‖Ô − O‖ ≤ e_O, ‖L̂′_k − L′_k‖
//! ≤ e_k); Q̂ = fl(ÔᵀÔ) with ‖Q̂ − OᵀO‖₂ ≤ e_O(2‖Ô‖_F + e_O) + γ_m‖Ô‖_F² +
//! N·m·η (Higham Lemma 3.1 per entry, any summation order; ‖|Ô|ᵀ|Ô|‖₂ ≤
//! ‖Ô‖_F²; N the size of w, m the output size); X̂_k = fl(T_kL̂′_k) with the
//! error of [`Tracked::scale_rows`]; every entry of M̂ is q̂ plus at most one
//! other float term (−ρ, −2t or one x̂; L_k does not read u_k), one rounded
//! addition, so the assembly adds u(1 + 2u)‖P̂‖_F. The sum ε of these
//! (rounded upward) bounds ‖P − P̂‖₂ (symmetric off-diagonal blocks count
//! once: ‖[[0, Eᵀ], [E, 0]]‖ = ‖E‖). The diagonal of P̂ is lowered by ε
//! (rounded downward) and Rump's criterion (BIT 2006; shift
//! [`crate::certify::pd_upper::rump_shift`], factorization
//! [`crate::certify::cholesky::cholesky_lower_in_place`]; proofs/theories/
//! Cholesky.v `rump_cholesky_posdef_rust`) certifies that matrix ≻ 0, so
//! P ≻ 0, M ≺ 0, and the bound is √ρ_c rounded upward.

use super::search_eig::{matvec, top_eigenpair};
use super::tracked::{apply_linear_node, is_linear, Tracked};
use crate::certify::cholesky::cholesky_lower_in_place;
use crate::certify::pd_upper::rump_shift;
use crate::error::Result;
use crate::network::layer::{Layer, Node};
use crate::rounding::{
    add_up, gamma, mul_up, norm2_up, sqrt_up, sub_down, sum_up, ETA, UNIT_ROUNDOFF,
};
use faer::linalg::triangular_solve::{
    solve_lower_triangular_in_place, solve_upper_triangular_in_place,
};
use faer::{Mat, MatRef, Par, Side};

/// Largest size N of w = (x, u₁, …, u_K) for which a segment certificate
/// is tried (the search factorizes (N − n) × (N − n) matrices, the
/// certificate an N × N one).
pub const MAX_SEGMENT_DIM: usize = 2048;

/// Gradient steps of the search.
const GRADIENT_STEPS: usize = 24;

/// One activation of a segment: its variables start at `offset` in w, and
/// L̂′ (h × offset, column-major) reads the earlier variables.
#[derive(Debug, Clone)]
struct Act {
    offset: usize,
    l: Tracked,
}

impl Act {
    fn h(&self) -> usize {
        self.l.rows
    }
}

/// A segment in the form of the module docs.
#[derive(Debug, Clone)]
pub struct Segment {
    n: usize,
    dim: usize,
    acts: Vec<Act>,
    out: Tracked,
}

impl Segment {
    /// Number of activations.
    pub fn activations(&self) -> usize {
        self.acts.len()
    }

    /// The size N of w.
    pub fn dim(&self) -> usize {
        self.dim
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
/// supported or a limit is exceeded.
fn walk(
    nodes: &[Node],
    mut cur: Tracked,
    acts: &mut Vec<Act>,
    dim: &mut usize,
    max_entries: usize,
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
        if let Some(Ok(s)) = node.layer.slope_interval() {
            let beta = s.upper;
            if !(s.lower >= 0.0 && beta > 0.0 && beta.is_finite()) {
                return Ok(None);
            }
            let h = cur.rows;
            *dim += h;
            if *dim > MAX_SEGMENT_DIM || h.saturating_mul(*dim) > max_entries {
                return Ok(None);
            }
            let l = if beta == 1.0 { cur } else { cur.scale(beta) };
            acts.push(Act { offset: l.cols, l });
            cur = selection(h, *dim);
            continue;
        }
        match &node.layer {
            Layer::Residual {
                body,
                shortcut: None,
            } => {
                let saved = cur.clone();
                let Some(out) = walk(body, cur, acts, dim, max_entries)? else {
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
/// an activation with slopes in [0, β] or a residual block with an identity
/// shortcut made of those, or the size exceeds the limits).
pub fn build_segment(nodes: &[Node], max_entries: usize) -> Result<Option<Segment>> {
    let Some(first) = nodes.first() else {
        return Ok(None);
    };
    let n: usize = first.shape_in.iter().product();
    if n > MAX_SEGMENT_DIM {
        return Ok(None);
    }
    let mut acts = Vec::new();
    let mut dim = n;
    let Some(out) = walk(
        nodes,
        Tracked::identity(n),
        &mut acts,
        &mut dim,
        max_entries,
    )?
    else {
        return Ok(None);
    };
    if acts.is_empty() {
        return Ok(None);
    }
    let out = pad(&out, dim);
    Ok(Some(Segment { n, dim, acts, out }))
}

fn view(t: &Tracked) -> MatRef<'_, f64> {
    MatRef::from_column_major_slice(&t.data, t.rows, t.cols)
}

/// fl(ÔᵀÔ) (N × N).
fn out_gram(seg: &Segment) -> Mat<f64> {
    let o = view(&seg.out);
    o.transpose() * o
}

/// M at ρ = 0 (floats) from Q̂ = fl(ÔᵀÔ) and X̂_k = fl(T_kL̂′_k): adds x̂ to
/// both symmetric positions and −2t to the diagonal of u_k.
fn assemble(q: &Mat<f64>, seg: &Segment, xs: &[Vec<f64>], t: &[Vec<f64>]) -> Mat<f64> {
    let mut m = q.clone();
    for ((act, x), tk) in seg.acts.iter().zip(xs).zip(t) {
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
    }
    m
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
    let m = assemble(q, seg, &scaled(seg, t), t);
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

/// ∂ρ_min/∂log t_{k,i} = t·2ξ_u((L′ξ)_i − ξ_u).
fn gradient(seg: &Segment, t: &[Vec<f64>], xi: &[f64]) -> Vec<Vec<f64>> {
    seg.acts
        .iter()
        .zip(t)
        .map(|(a, tk)| {
            let h = a.h();
            let mut lx = vec![0.0; h];
            matvec(view(&a.l), &xi[..a.offset], &mut lx);
            (0..h)
                .map(|i| {
                    let e = xi[a.offset + i];
                    tk[i] * 2.0 * e * (lx[i] - e)
                })
                .collect()
        })
        .collect()
}

/// The AOL-type start: last activation first, t_{k,i} = Σ_j |G_k|_{ij} with
/// G_k = O_kᵀO_k + Σ_{j>k} L′_{j,k}ᵀT_jL′_{j,k} (the blocks reading u_k),
/// floored to keep T ≻ 0.
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
    }
    let mut p = assemble(q, seg, &xs, t);
    for i in 0..seg.n {
        p[(i, i)] -= rho;
    }
    // P̂ = −M̂ (exact negation).
    let mut p = Mat::from_fn(nn, nn, |i, j| -p[(i, j)]);
    if (0..nn).any(|j| (0..nn).any(|i| !p[(i, j)].is_finite())) {
        return false;
    }
    // The factorization reads the lower triangle: the matrix certified is
    // that triangle mirrored, whose Frobenius norm this is.
    let frob = sqrt_up(sum_up(
        (0..nn)
            .flat_map(|j| (j..nn).map(move |i| (i, j)))
            .map(|(i, j)| {
                let v = p[(i, j)];
                let w = if i == j { 1.0 } else { 2.0 };
                mul_up(w, mul_up(v, v))
            }),
    ));
    eps = add_up(
        eps,
        mul_up(UNIT_ROUNDOFF * (1.0 + 2.0 * UNIT_ROUNDOFF), frob),
    );
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

/// A certified upper bound on the Lipschitz constant of the segment
/// (module docs), `None` when the search finds no feasible multiplier or no
/// candidate certifies. Rigorous when the layers' certified norms (used in
/// the [`Tracked`] error bounds) are; the caller combines their guarantee.
pub fn segment_bound(seg: &Segment) -> Option<f64> {
    let q = out_gram(seg);
    let (t, rho) = search(seg, &q)?;
    for shrink in [1e-6, 1e-4, 1e-3, 1e-2, 0.1] {
        let rho_c = rho * (1.0 + shrink);
        if rho_c.is_finite() && certify(seg, &q, &t, rho_c) {
            let b = sqrt_up(rho_c);
            if b.is_finite() {
                return Some(b);
            }
        }
    }
    None
}
