//! Multiplier certificates for convolutional pieces, frequency by
//! frequency: Theorems 1 and 2 of [`super::multiplier`] (LipSDP-Neuron
//! type) with a *per-channel* multiplier T, so that every matrix of the
//! certificate stays a circular convolution on the lifted grid of
//! [`super::fourier`] and its norm is the largest over the frequencies of
//! small c × h blocks. This reaches pieces whose explicit matrices do not
//! fit (every ResNet block), which the explicit certificates cannot.
//!
//! # Theorem (per-channel multipliers on the circular grid)
//! Let a piece be `A-nodes, φ, B-nodes` (zero-padded convolutions and
//! batch norms, one elementwise activation with slopes in [a, b]), as a
//! two-layer piece f(x) = B(φ(Ax)) on one image size, or as the body of a
//! residual block S(x) + B(φ(Ax)) whose shortcut S is the identity or
//! linear nodes; in a residual block the A-nodes and S may pass one stride
//! (K = s₁s₂ a power of 4, as in ResNet's downsampling blocks), the
//! B-nodes may not. By the lifting theorem of [`super::fourier`] (steps
//! 1–3 and 5), f = R∘f̃∘E + const with ‖R‖, ‖E‖ ≤ 1, where
//! f̃(z) = C_B·ψ(C_A·z + κ₀) (resp. C_S·z + C_B·ψ(C_A·z + κ₀)) on the lifted
//! grids, C_A, C_B, C_S the lifted linear maps (circular convolutions,
//! per-channel batch-norm scales, and the subsampling of step 5), and ψ
//! elementwise with every difference quotient in
//! [a′, b′] = [min(a, 0), max(b, 0)] (off the image ψ is constant; without
//! padding or stride anywhere [a, b] itself); so Lip(f) ≤ Lip(f̃). With
//! a′ ≥ 0, ψ = b′·ψ̃ with ψ̃ in [0, 1], and f̃ is Theorem 1's map (resp.
//! Theorem 2′ below) with A = C_A, B = b′·C_B, S = C_S, which hold for
//! every positive diagonal T. Take T = diag(d)² constant over positions
//! (per channel). Then P = B·T^{-½}, Q = Aᵀ·T^{½} and SᵀP are, in unitary
//! DFT coordinates of the coarse grid (the K aliases of each coarse
//! frequency ω grouped as in step 5), block diagonal over ω with blocks
//! P̂(ω) = B̂(ω)·D⁻¹, Q̂(ω) = Â(ω)ᴴ·D and Ŝ(ω)ᴴP̂(ω) — Â(ω), Ŝ(ω) the rows
//! K^{-½}[X̂(ω₁) ⋯ X̂(ω_K)] of their aliases' symbols, and the transpose of
//! a real map has the adjoint blocks — and a block-diagonal map's norm is
//! the largest block's, so
//! * σ_max([P; Q]) = max_ω σ_max([P̂(ω); Q̂(ω)]) = s ⇒ Lip(f) ≤ s²/2
//!   (Theorem 1, proofs/theories/Multiplier.v `two_layer_sigma_certificate`);
//! * max_ω σ_max([P̂(ω); κ(Ŝ(ω)ᴴP̂(ω) + Q̂(ω))]) ≤ √2 ⇒
//!   Lip(f) ≤ √(‖S‖² + κ⁻²), ‖S‖ = max_ω ‖Ŝ(ω)‖ (Theorem 2′; with S = I it
//!   is Theorem 2, `residual_sigma_certificate`).
//!
//! *Theorem 2′* (residual block with a linear shortcut S). With φ, T, P, Q
//! as in Theorem 1 of [`super::multiplier`], M = SᵀP + Q and κ > 0: if
//! σ_max([P; κM]) ≤ √2 then Lip(x ↦ Sx + Bφ(Ax + c)) ≤ √(‖S‖² + κ⁻²).
//! *Proof.* With Δx, v = T^{½}Δu as there, the output difference is
//! SΔx + Pv and ‖v‖² ≤ (Qv)ᵀΔx. So ‖SΔx + Pv‖² = ‖SΔx‖² + 2Δxᵀ(SᵀP)v +
//! ‖Pv‖² ≤ ‖SΔx‖² + 2ΔxᵀMv + ‖Pv‖² − 2‖v‖² (adding 2((Qv)ᵀΔx − ‖v‖²) ≥ 0);
//! PᵀP + κ²MᵀM ⪯ 2I gives ‖Pv‖² − 2‖v‖² ≤ −κ²‖Mv‖², and
//! 2ab − κ²b² ≤ a²/κ²: the square is at most (‖S‖² + κ⁻²)‖Δx‖². ∎ (The
//! step from Theorem 2 is the cross term ΔxᵀSᵀPv in place of ΔxᵀPv.)
//! Mechanized: proofs/theories/Multiplier.v,
//! `residual_shortcut_sigma_certificate` (slopes in [0, b]:
//! `residual_shortcut_sigma_certificate_slope`).
//!
//! *Slopes with a′ < 0* (GELU, SiLU, and any activation once lifted with
//! masks): ψ = a′·Id + ψ̂ with ψ̂ elementwise, difference quotients in
//! [0, b′ − a′]. Then f̃(z) = a′·C_B·C_A·z + C_B·ψ̂(C_A·z + κ₀) + const: a
//! two-layer piece is bounded by |a′|·‖C_BC_A‖ + Theorem 1 with
//! B = (b′ − a′)·C_B (triangle inequality), ‖C_BC_A‖ = max_ω ‖B̂(ω)Â(ω)‖
//! (circular maps share the Fourier blocks); a residual block is Theorem 2′
//! with the linear shortcut S′ = C_S + a′·C_B·C_A (C_S = I for an identity
//! shortcut), Ŝ′(ω) = Ŝ(ω) + a′·B̂(ω)Â(ω), and B = (b′ − a′)·C_B. (The
//! multiplier module's dense pieces use the same split.)
//!
//! Real kernels give blocks at −ω that are the entrywise conjugates of
//! those at ω (D is real; the aliases of −ω are the negated aliases of ω),
//! with the same singular values, so the half plane of coarse frequencies
//! suffices ([`crate::conv::product_symbol::half_plane`]).
//!
//! # Search and floating point
//! d and κ are parameters searched in plain floating point on a sample of
//! frequencies (balancing starts d⁰ᵢ = (‖column i of B‖/‖row i of A‖)^{γ/2}
//! summed over the sample, a scan and golden-section refinement of a
//! scalar factor; for residual blocks κ² from the pencil
//! (ŜᴴŜ, 2I − P̂ᴴP̂) of [`super::search_eig::top_pencil_with`], its minimum over
//! *all* frequencies): their rounding cannot harm soundness. Only the
//! final check is certified: Â(ω), B̂(ω) carry rigorous error bounds
//! (`LinearPair` in [`super::fourier`]), the column scalings, the adjoint, the
//! sum, the scaling by κ and the stacking propagate them
//! ([`Tracked::scale_columns`], [`Tracked::stacked_adjoint`],
//! [`Tracked::add`], [`Tracked::scale`], [`Tracked::stacked_vconcat`], and
//! the complex product ŜᴴB̂ (once per frequency; ŜᴴP̂ = (ŜᴴB̂)·D⁻¹) by the
//! product bound of [`super::fourier`]),
//! and each block's norm is certified by the complex Cholesky certificate
//! of the Fourier route (Weyl: σ ≤ σ_up(Ŷ) + err). The residual check
//! compares s² rounded upward with 2; a frequency certified at κ₁ is
//! certified at every smaller κ (the exact PᴴP + κ²SᴴS only shrinks in
//! the Loewner order), so after lowering κ only the frequencies that
//! failed are checked again. Every bound is rounded upward.

use super::fourier::{complex_norm_upper, mul_tracked, product_error, LinearPair};
use super::search_eig::{matvec, matvec_t, top_pencil_with};
use super::tracked::Tracked;
use crate::certify::hermitian_upper::HermitianWithError;
use crate::conv::block_gram::block_gram;
use crate::conv::product_symbol::half_plane;
use crate::enclosure::Guarantee;
use crate::error::{Error, Result};
use crate::estimate::symmetric_lanczos::lanczos_top_until;
use crate::network::layer::Node;
use crate::rounding::{add_up, div_up, mul_down, mul_up, norm2_up, sqrt_up};
use crate::sigma::SigmaOptions;
use faer::Mat;

/// Largest work (frequencies × (2·width)³, width the largest channel
/// count) of one piece's certificate; larger pieces get no Fourier
/// multiplier bound.
pub const MAX_WORK: f64 = 2e12;

/// Flops the float search of d may spend (it picks the sample size).
const SEARCH_FLOPS: f64 = 2e10;

/// Most Lanczos steps of one norm estimate in the search.
const SEARCH_STEPS: usize = 40;

/// Most frequencies in the search sample.
const MAX_SAMPLE: usize = 16;

/// Applies `f` to every frequency on `threads` threads, in order.
fn par_map<T: Send>(
    freqs: &[(usize, usize)],
    threads: usize,
    f: impl Fn((usize, usize)) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let threads = threads.min(freqs.len()).max(1);
    let chunk = freqs.len().div_ceil(threads).max(1);
    let f = &f;
    let parts: Vec<Result<Vec<T>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = freqs
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|&w| f(w)).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(Error::InvalidOption(
                        "internal: a Fourier multiplier thread panicked".into(),
                    ))
                })
            })
            .collect()
    });
    let mut out = Vec::with_capacity(freqs.len());
    for p in parts {
        out.extend(p?);
    }
    Ok(out)
}

/// A piece's symbols at one frequency (stacked forms with error bounds):
/// Â(ω) (h × n), b′·B̂(ω) (m × h) and, for a residual block with a
/// shortcut of linear nodes, Ŝ(ω) (m × n).
struct Sym {
    a: Tracked,
    b: Tracked,
    s: Option<Tracked>,
    /// a′·B̂(ω)Â(ω) when the slopes' lower end a′ is negative (module docs).
    shifted: Option<Tracked>,
    /// Ŝ(ω)ᴴ·b′B̂(ω) (n × h), independent of d: with it ŜᴴP̂ = (ŜᴴB̂)·D⁻¹
    /// is a column scaling, not a product, for every d tried.
    sb: Option<Tracked>,
}

/// P̂ = B̂·D⁻¹ and Q̂ = Â(ω)ᴴ·D with their error bounds.
fn parts(sym: &Sym, d: &[f64]) -> (Tracked, Tracked) {
    (
        sym.b.scale_columns(d, true),
        sym.a.stacked_adjoint().scale_columns(d, false),
    )
}

/// P̂ and the residual certificate's M̂ = Ŝᴴ·P̂ + Q̂ = (ŜᴴB̂)·D⁻¹ + Q̂
/// (M̂ = P̂ + Q̂ for an identity shortcut), with their error bounds.
fn residual_parts(sym: &Sym, d: &[f64]) -> Result<(Tracked, Tracked)> {
    let (p, q) = parts(sym, d);
    let m = match &sym.sb {
        None => p.add(&q)?,
        Some(sb) => sb.scale_columns(d, true).add(&q)?,
    };
    Ok((p, m))
}

/// The complex product X·Y of stacked forms, with its error bound (the
/// real form of X times the stacked Y, [`super::fourier`]'s product
/// bound).
fn stacked_product(x: &Tracked, y: &Tracked) -> Result<Tracked> {
    let r = real_form(x);
    let mut data = Vec::with_capacity(r.nrows() * r.ncols());
    for j in 0..r.ncols() {
        data.extend(r.col(j).iter().copied());
    }
    mul_tracked(&data, r.nrows(), x.err, y)
}

/// Ŝᴴ·B̂ for Ŝ with `k` column blocks (the aliases): when the blocks are
/// equal — a 1×1 shortcut's symbol does not depend on the frequency, so
/// every alias of a downsampling block's shortcut has the same one — the
/// K row blocks of the product are equal too and are computed once. Each
/// entry is then the same floating-point dot product as in the full
/// product, so [`product_error`]'s bound, taken with the full Ŝᴴ's norm,
/// holds unchanged. Otherwise the full product.
fn adjoint_product(s: &Tracked, b: &Tracked, k: usize) -> Result<Tracked> {
    let cols = s.cols / k.max(1);
    let len = s.rows * cols;
    let equal = k > 1
        && cols > 0
        && s.cols == k * cols
        && (1..k).all(|j| s.data[j * len..(j + 1) * len] == s.data[..len]);
    let adjoint = s.stacked_adjoint();
    if !equal {
        return stacked_product(&adjoint, b);
    }
    let first = Tracked {
        rows: s.rows,
        cols,
        data: s.data[..len].to_vec(),
        err: s.err,
    };
    let p = stacked_product(&first.stacked_adjoint(), b)?;
    // [Re; Im] of p has `cols` rows each; the product's halves repeat them
    // k times.
    let mut data = Vec::with_capacity(2 * k * cols * p.cols);
    for j in 0..p.cols {
        let col = &p.data[j * p.rows..(j + 1) * p.rows];
        for half in [&col[..cols], &col[cols..]] {
            for _ in 0..k {
                data.extend_from_slice(half);
            }
        }
    }
    // The real form of Ŝᴴ holds every entry of the stacked form twice.
    let fa = mul_up(sqrt_up(2.0), norm2_up(&adjoint.data));
    let err = product_error(fa, adjoint.rows, adjoint.err, b);
    if !err.is_finite() {
        return Err(Error::Overflow {
            context: "product of convolution symbols".into(),
        });
    }
    Ok(Tracked {
        rows: 2 * k * cols,
        cols: p.cols,
        data,
        err,
    })
}

/// The real form [[X, −Y], [Y, X]] of a stacked [X; Y].
fn real_form(t: &Tracked) -> Mat<f64> {
    let (m, n) = (t.rows / 2, t.cols);
    let at = |i: usize, j: usize| t.data[j * t.rows + i];
    Mat::from_fn(2 * m, 2 * n, |i, j| match (i < m, j < n) {
        (true, true) => at(i, j),
        (true, false) => -at(m + i, j - n),
        (false, true) => at(i, j),
        (false, false) => at(i - m, j - n),
    })
}

/// λ_max estimate of YᴴY = ‖Y‖² (search only): Lanczos on the real form,
/// matrix-free (two products with a 2m × 2n matrix per step).
fn top_squared(y: &Tracked) -> f64 {
    let r = real_form(y);
    let mut tmp = vec![0.0; r.nrows()];
    let start: Vec<f64> = (0..r.ncols())
        .map(|i| 1.0 + ((i * 7919) % 113) as f64 / 113.0)
        .collect();
    lanczos_top_until(r.ncols(), &start, SEARCH_STEPS, 1e-9, |x, out| {
        matvec(r.as_ref(), x, &mut tmp);
        matvec_t(r.as_ref(), &tmp, out);
    })
    .map_or(f64::INFINITY, |p| p.value)
}

/// The real embedding [[Re, −Im], [Im, Re]] of a Hermitian G̃ given by its
/// lower triangles.
fn hermitian_real_embedding(g: &HermitianWithError) -> Mat<f64> {
    let n = g.dim();
    let re = |i: usize, j: usize| if i >= j { g.re[(i, j)] } else { g.re[(j, i)] };
    let im = |i: usize, j: usize| match i.cmp(&j) {
        std::cmp::Ordering::Greater => g.im[(i, j)],
        std::cmp::Ordering::Less => -g.im[(j, i)],
        std::cmp::Ordering::Equal => 0.0,
    };
    Mat::from_fn(2 * n, 2 * n, |i, j| match (i < n, j < n) {
        (true, true) => re(i, j),
        (true, false) => -im(i, j - n),
        (false, true) => im(i - n, j),
        (false, false) => re(i - n, j - n),
    })
}

/// Largest κ² with λ_max(P̂ᴴP̂ + κ²ŜᴴŜ) ≤ 2 at one frequency (search
/// only): 1/μ for the top eigenvalue μ of the pencil (ŜᴴŜ, 2I − P̂ᴴP̂) on
/// real embeddings, P̂ᴴP̂ from the complex Gram (h × h); `None` when
/// 2I − P̂ᴴP̂ is not numerically positive definite.
fn kappa2_at(sym: &Sym, d: &[f64]) -> Option<f64> {
    let (p, s) = residual_parts(sym, d).ok()?;
    let z = faer::MatRef::from_column_major_slice(&p.data, p.rows, p.cols);
    // block_gram takes the smaller side; the pencil needs the h × h one.
    let k = if p.cols <= p.rows / 2 {
        hermitian_real_embedding(&block_gram(z))
    } else {
        let pr = real_form(&p);
        pr.transpose() * &pr
    };
    let top = top_pencil_with(k.as_ref(), real_form(&s).as_ref(), 2 * SEARCH_STEPS, 1e-10)?;
    top.is_finite().then(|| (1.0 / top.max(1e-12)).min(1e12))
}

/// A cheap lower estimate of [`kappa2_at`]: λ_max(P̂ᴴP̂ + κ²ŜᴴŜ) ≤
/// ‖P̂‖² + κ²‖Ŝ‖², so κ² = (2 − ‖P̂‖²)/‖Ŝ‖² is feasible (search only).
fn kappa2_estimate(sym: &Sym, d: &[f64]) -> Option<f64> {
    let (p, s) = residual_parts(sym, d).ok()?;
    let (p2, s2) = (top_squared(&p), top_squared(&s));
    (p2 < 2.0).then(|| ((2.0 - p2) / s2.max(1e-300)).min(1e12))
}

/// The balancing start d⁰ᵢ = (‖column i of B̂‖/‖row i of Â‖)^{γ/2} over the
/// sample (zero norms floored).
fn balancing(syms: &[Sym], hidden: usize, gamma: f64) -> Vec<f64> {
    let mut col_b = vec![0.0; hidden];
    let mut row_a = vec![0.0; hidden];
    for sym in syms {
        for (i, v) in sym.b.column_norms().iter().enumerate() {
            col_b[i] += v * v;
        }
        let r = sym.a.row_norms();
        for i in 0..hidden {
            row_a[i] += r[i] * r[i] + r[hidden + i] * r[hidden + i];
        }
    }
    let bmax = col_b.iter().fold(0.0f64, |x, v| x.max(*v));
    let amax = row_a.iter().fold(0.0f64, |x, v| x.max(*v));
    (0..hidden)
        .map(|i| {
            let b = col_b[i].max(1e-24 * bmax).max(f64::MIN_POSITIVE);
            let a = row_a[i].max(1e-24 * amax).max(f64::MIN_POSITIVE);
            (b / a).powf(0.25 * gamma)
        })
        .collect()
}

/// Maximises `score` (None = infeasible) over d = 2^u·d⁰: a scan of u in
/// steps of 1 over `range`, then golden-section refinement in the best
/// point's bracket ±1. Returns (score, d).
fn scan_scale(
    d0: &[f64],
    range: (f64, f64),
    threads: usize,
    score: &(dyn Fn(&[f64]) -> Option<f64> + Sync),
) -> Option<(f64, Vec<f64>)> {
    let at = |u: f64| -> Vec<f64> { d0.iter().map(|v| v * u.exp2()).collect() };
    let eval = |u: f64| score(&at(u)).filter(|v| v.is_finite());
    let steps = (range.1 - range.0).ceil().clamp(0.0, 32.0) as usize;
    let points: Vec<f64> = (0..=steps).map(|k| range.0 + k as f64).collect();
    let mut best: Option<(f64, f64)> = None;
    for (u, v) in points.iter().zip(par_eval(&points, threads, &eval)) {
        if let Some(v) = v {
            if best.is_none_or(|(b, _)| v > b) {
                best = Some((v, *u));
            }
        }
    }
    let (mut bv, bu) = best?;
    let mut best_u = bu;
    let (mut lo, mut hi) = (bu - 1.0, bu + 1.0);
    let ratio = 0.5 * (5f64.sqrt() - 1.0);
    for _ in 0..5 {
        let (x1, x2) = (hi - ratio * (hi - lo), lo + ratio * (hi - lo));
        let vals = par_eval(&[x1, x2], threads, &eval);
        let (v1, v2) = (
            vals[0].unwrap_or(f64::NEG_INFINITY),
            vals[1].unwrap_or(f64::NEG_INFINITY),
        );
        for (v, x) in [(v1, x1), (v2, x2)] {
            if v > bv {
                bv = v;
                best_u = x;
            }
        }
        if v1 >= v2 {
            hi = x2;
        } else {
            lo = x1;
        }
    }
    Some((bv, at(best_u)))
}

/// `eval` at every point, on up to `threads` threads (search only).
fn par_eval(
    points: &[f64],
    threads: usize,
    eval: &(dyn Fn(f64) -> Option<f64> + Sync),
) -> Vec<Option<f64>> {
    let threads = threads.min(points.len()).max(1);
    let chunk = points.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = points
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|&u| eval(u)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// The scan range of log₂ t for d = t·d⁰: u_b ± 5 around the t balancing
/// ‖P̂‖_F and ‖Q̂‖_F over the sample (t⁴ = Σ‖B̂D⁻¹‖_F² / Σ‖ÂᴴD‖_F²). Residual
/// blocks also need ‖P̂(ω)‖ < √2 at every ω: with u_f the log₂ t where the
/// largest ‖P̂(ω)‖_F is 1, [max(u_f − 2, u_b − 5), max(u_f + 8, u_b + 5)].
fn scale_range(syms: &[Sym], d: &[f64], residual: bool) -> (f64, f64) {
    let (mut p2, mut q2, mut pmax) = (0.0, 0.0, 0.0f64);
    for sym in syms {
        let (p, q) = parts(sym, d);
        let pf = p.data.iter().map(|v| v * v).sum::<f64>();
        p2 += pf;
        pmax = pmax.max(pf);
        q2 += q.data.iter().map(|v| v * v).sum::<f64>();
    }
    let ub = if p2 > 0.0 && q2 > 0.0 && (p2 / q2).is_finite() {
        0.25 * (p2 / q2).log2()
    } else {
        0.0
    };
    if !residual {
        return (ub - 5.0, ub + 5.0);
    }
    let uf = if pmax > 0.0 && pmax.is_finite() {
        0.5 * pmax.log2()
    } else {
        ub
    };
    ((uf - 2.0).max(ub - 5.0), (uf + 8.0).max(ub + 5.0))
}

/// The shared setup: the pair, its slopes' upper end b′ (`None` when
/// a′ < 0 or the piece is not a pair), its frequencies, and the search
/// sample (indices into the frequencies) with its symbols (B̂ scaled by b′).
struct Setup<'a> {
    pair: LinearPair<'a>,
    /// Whether the pair is a residual block's body (else a two-layer piece).
    residual: bool,
    upper: f64,
    /// The slopes' lower end a′ when negative, else 0 (module docs).
    shift: f64,
    /// Fine frequencies per coarse one (K; 1 without a stride).
    aliases: usize,
    freqs: Vec<(usize, usize)>,
    sample: Vec<usize>,
    syms: Vec<Sym>,
    threads: usize,
    /// Whether one pass over the frequencies is expensive (above
    /// [`CHEAP_PASS`]): then d is searched once, from fewer starts.
    expensive: bool,
}

/// Work (frequencies × (2·width)³) of a pass that allows searching d again.
const CHEAP_PASS: f64 = 1e11;

impl<'a> Setup<'a> {
    fn new(
        pair: Option<LinearPair<'a>>,
        residual: bool,
        options: &SigmaOptions,
    ) -> Result<Option<Self>> {
        let Some(pair) = pair else {
            return Ok(None);
        };
        // Slopes [a′, b′]: with a′ < 0 the piece is split off its linear
        // part a′·BA (module docs) and ψ̂ has slopes in [0, b′ − a′].
        let shift = pair.slopes.lower.min(0.0);
        let upper = add_up(pair.slopes.upper, -shift);
        if !(upper > 0.0 && upper.is_finite() && shift.is_finite()) {
            return Ok(None);
        }
        // The coarse frequencies (each carries its aliases when the piece
        // has a stride).
        let freqs = half_plane(pair.coarse);
        let aliases = (pair.grid.0 / pair.coarse.0) * (pair.grid.1 / pair.coarse.1);
        let width = (pair.c_in * aliases).max(pair.hidden).max(pair.c_out) as f64;
        let per_freq = (2.0 * width).powi(3);
        if freqs.len() as f64 * per_freq > MAX_WORK {
            return Ok(None);
        }
        let count = ((SEARCH_FLOPS / (80.0 * per_freq)) as usize).clamp(1, MAX_SAMPLE);
        let step = freqs.len().div_ceil(count).max(1);
        let mut setup = Setup {
            pair,
            residual,
            upper,
            shift,
            aliases,
            sample: Vec::new(),
            syms: Vec::new(),
            threads: crate::parallel::resolve_threads(options.threads),
            expensive: freqs.len() as f64 * per_freq > CHEAP_PASS,
            freqs,
        };
        setup.extend_sample(&(0..setup.freqs.len()).step_by(step).collect::<Vec<_>>())?;
        Ok(Some(setup))
    }

    /// Adds frequencies (indices) to the search sample.
    fn extend_sample(&mut self, add: &[usize]) -> Result<()> {
        let ws: Vec<(usize, usize)> = add.iter().map(|&i| self.freqs[i]).collect();
        let syms = par_map(&ws, self.threads, |w| self.symbols(w))?;
        self.sample.extend_from_slice(add);
        self.syms.extend(syms);
        Ok(())
    }

    /// (Â(ω), b′·B̂(ω), Ŝ(ω)) with their error bounds; with a′ < 0,
    /// (b′ − a′)·B̂(ω), a′·B̂(ω)Â(ω), and for a residual block the shortcut
    /// Ŝ(ω) + a′·B̂(ω)Â(ω) (Ŝ = I for the identity).
    fn symbols(&self, w: (usize, usize)) -> Result<Sym> {
        let (a, b, s) = self.pair.at(w)?;
        let shifted = if self.shift < 0.0 {
            Some(stacked_product(&b, &a)?.scale(self.shift))
        } else {
            None
        };
        let s = match (&shifted, s) {
            (Some(ba), Some(s)) => Some(s.add(ba)?),
            (Some(ba), None) if self.residual => Some(Tracked::stacked_identity(ba.cols).add(ba)?),
            (_, s) => s,
        };
        let b = if self.upper == 1.0 {
            b
        } else {
            b.scale(self.upper)
        };
        let sb = match &s {
            Some(s) => Some(adjoint_product(s, &b, self.aliases)?),
            None => None,
        };
        Ok(Sym {
            a,
            b,
            s,
            shifted,
            sb,
        })
    }

    /// The best d for `score` (larger is better) over the balancing starts
    /// γ ∈ {0, ½, 1} ({½, 1} when a pass is expensive) and their scalings,
    /// on the current sample.
    fn search(
        &self,
        residual: bool,
        score: &Score,
        refine: Option<&Score>,
    ) -> Option<(f64, Vec<f64>)> {
        let syms = &self.syms;
        let mut best: Option<(f64, Vec<f64>)> = None;
        let gammas: &[f64] = if self.expensive {
            &[0.5, 1.0]
        } else {
            &[0.0, 0.5, 1.0]
        };
        for &gamma in gammas {
            let d0 = balancing(syms, self.pair.hidden, gamma);
            let range = scale_range(syms, &d0, residual);
            if let Some((v, d)) = scan_scale(&d0, range, self.threads, &|d| score(syms, d)) {
                if best.as_ref().is_none_or(|(b, _)| v > *b) {
                    best = Some((v, d));
                }
            }
        }
        let (v, d) = best?;
        let Some(refine) = refine else {
            return Some((v, d));
        };
        // The scalar factor again, by the exact objective, near the optimum
        // of the cheap one.
        scan_scale(&d, (-1.0, 1.0), self.threads, &|d| refine(syms, d))
            .or_else(|| refine(syms, &d).map(|v| (v, d)))
    }

    /// Index of the worst frequency by `values` (larger = worse) if it is
    /// not in the sample yet.
    fn new_worst(&self, values: &[f64]) -> Option<usize> {
        let worst = (0..values.len()).max_by(|&i, &j| values[i].total_cmp(&values[j]))?;
        (!self.sample.contains(&worst)).then_some(worst)
    }
}

/// A search objective on the sample's symbols (Â(ω), B̂(ω)) at d: larger
/// is better, `None` = infeasible.
type Score = dyn Fn(&[Sym], &[f64]) -> Option<f64> + Sync;

/// Certification passes of a residual block (each failure lowers κ).
const CERTIFY_ATTEMPTS: usize = 3;

/// Search rounds: after each, the worst frequency over all of them joins
/// the sample if it was missing.
const ROUNDS: usize = 3;

/// Theorem 1 on the two-layer piece `piece` (`piece[k]` its activation):
/// a certified bound on its Lipschitz constant, `None` when the piece is
/// not covered (module theorem) or too large ([`MAX_WORK`]).
pub fn fourier_pair_bound(
    piece: &[Node],
    k: usize,
    options: &SigmaOptions,
) -> Result<Option<(f64, Guarantee)>> {
    let Some(mut setup) = Setup::new(LinearPair::new(piece, k)?, false, options)? else {
        return Ok(None);
    };
    let timer = crate::timing::stage();
    let score = |syms: &[Sym], d: &[f64]| -> Option<f64> {
        let mut top = 0.0f64;
        for sym in syms {
            let (p, q) = parts(sym, d);
            top = top.max(top_squared(&p.stacked_vconcat(&q).ok()?));
        }
        Some(-top)
    };
    let mut best: Option<f64> = None;
    for _ in 0..ROUNDS {
        let Some((sampled, d)) = setup.search(false, &score, None) else {
            break;
        };
        let pairs = par_map(&setup.freqs, setup.threads, |w| {
            let sym = setup.symbols(w)?;
            let (p, q) = parts(&sym, &d);
            let linear = match &sym.shifted {
                Some(ba) => complex_norm_upper(ba)?,
                None => 0.0,
            };
            Ok((complex_norm_upper(&p.stacked_vconcat(&q)?)?, linear))
        })?;
        let norms: Vec<f64> = pairs.iter().map(|(n, _)| *n).collect();
        let s = norms.iter().fold(0.0f64, |x, v| x.max(*v));
        // |a′|·max_ω ‖B̂Â‖ (0 unless a′ < 0) + Theorem 1.
        let linear = pairs.iter().fold(0.0f64, |x, (_, l)| x.max(*l));
        let bound = add_up(linear, mul_up(0.5, mul_up(s, s)));
        if bound.is_finite() && best.is_none_or(|b| bound < b) {
            best = Some(bound);
        }
        // Another round only if the sample missed a clearly worse frequency.
        if s * s <= -sampled * 1.05 || setup.expensive {
            break;
        }
        match setup.new_worst(&norms) {
            Some(i) => setup.extend_sample(&[i])?,
            None => break,
        }
    }
    timer.done(|| {
        format!(
            "fourier multiplier (two-layer): grid {:?}, {} channels",
            setup.pair.grid, setup.pair.hidden
        )
    });
    Ok(best.map(|b| (b, Guarantee::Rigorous)))
}

/// Theorem 2 on a residual node with identity shortcut whose body is
/// linear nodes, one activation, linear nodes (module theorem): a certified
/// bound on its Lipschitz constant, `None` when not covered, too large, or
/// when no κ certifies.
pub fn fourier_residual_bound(
    node: &Node,
    options: &SigmaOptions,
) -> Result<Option<(f64, Guarantee)>> {
    let Some(mut setup) = Setup::new(LinearPair::residual(node)?, true, options)? else {
        return Ok(None);
    };
    if setup.pair.has_identity_shortcut() && setup.pair.c_in != setup.pair.c_out {
        return Ok(None);
    }
    // With a′ < 0 the shortcut is S′ = S + a′·BA, never the identity.
    let identity = setup.pair.has_identity_shortcut() && setup.shift == 0.0;
    // ‖S‖ = max over the frequencies of ‖Ŝ(ω)‖ (1 for the identity).
    let shortcut = if identity {
        1.0
    } else {
        par_map(&setup.freqs, setup.threads, |w| match setup.symbols(w)?.s {
            Some(s) => complex_norm_upper(&s),
            None => Err(Error::InvalidOption(
                "internal: a shortcut without symbols".into(),
            )),
        })?
        .into_iter()
        .fold(0.0f64, f64::max)
    };
    let timer = crate::timing::stage();
    let over_sample = |f: fn(&Sym, &[f64]) -> Option<f64>| {
        move |syms: &[Sym], d: &[f64]| -> Option<f64> {
            let mut min = f64::INFINITY;
            for sym in syms {
                min = min.min(f(sym, d)?);
            }
            Some(min)
        }
    };
    let (estimate, exact) = (over_sample(kappa2_estimate), over_sample(kappa2_at));
    // The certificate at the sample's κ. Frequencies it fails at (the
    // sample missed them) lower κ to their own κ²; when that loses more
    // than 5 % (or the d found is infeasible there), the worst joins the
    // sample and d is searched again.
    let mut result = None;
    'rounds: for round in 0..ROUNDS {
        let search = crate::timing::stage();
        let Some((sampled, d)) = setup.search(true, &estimate, Some(&exact)) else {
            break;
        };
        search.done(|| {
            format!(
                "fourier multiplier: search on {} frequencies",
                setup.sample.len()
            )
        });
        let mut x = sampled;
        if setup.expensive {
            // The sample is one or two frequencies: take κ² at every
            // frequency first, so that one certificate pass suffices.
            let pencils = crate::timing::stage();
            let all = par_map(&setup.freqs, setup.threads, |w| {
                Ok(kappa2_at(&setup.symbols(w)?, &d).unwrap_or(0.0))
            })?;
            x = all.into_iter().fold(x, f64::min);
            pencils.done(|| {
                format!(
                    "fourier multiplier: κ² on {} frequencies",
                    setup.freqs.len()
                )
            });
        }
        // Frequencies still to certify: one certified at κ₁ stays certified
        // at every κ ≤ κ₁ (P̂ᴴP̂ + κ²ŜᴴŜ grows with κ), so each attempt, at a
        // smaller κ, checks only those that failed before.
        let mut failed: Vec<usize> = (0..setup.freqs.len()).collect();
        for _ in 0..CERTIFY_ATTEMPTS {
            let kappa = (x * (1.0 - 1e-4)).sqrt();
            if !(kappa > 0.0 && kappa.is_finite()) {
                break;
            }
            let pass = crate::timing::stage();
            let ws: Vec<(usize, usize)> = failed.iter().map(|&i| setup.freqs[i]).collect();
            let squares = par_map(&ws, setup.threads, |w| {
                let (p, m) = residual_parts(&setup.symbols(w)?, &d)?;
                let n = complex_norm_upper(&p.stacked_vconcat(&m.scale(kappa))?)?;
                Ok(mul_up(n, n))
            })?;
            pass.done(|| {
                format!(
                    "fourier multiplier: certificate on {} frequencies",
                    ws.len()
                )
            });
            failed = failed
                .iter()
                .zip(&squares)
                .filter(|(_, s)| s.is_nan() || **s > 2.0)
                .map(|(i, _)| *i)
                .collect();
            if failed.is_empty() {
                let bound = sqrt_up(add_up(
                    mul_up(shortcut, shortcut),
                    div_up(1.0, mul_down(kappa, kappa)),
                ));
                if bound.is_finite() {
                    result = Some((bound, Guarantee::Rigorous));
                }
                break 'rounds;
            }
            let ws: Vec<(usize, usize)> = failed.iter().map(|&i| setup.freqs[i]).collect();
            let own = par_map(&ws, setup.threads, |w| {
                Ok(kappa2_at(&setup.symbols(w)?, &d).unwrap_or(0.0))
            })?;
            let (worst, lowered) =
                failed
                    .iter()
                    .zip(&own)
                    .fold((failed[0], f64::INFINITY), |(bi, bv), (&i, &v)| {
                        if v < bv {
                            (i, v)
                        } else {
                            (bi, bv)
                        }
                    });
            if lowered < 0.95 * sampled
                && round + 1 < ROUNDS
                && !setup.expensive
                && !setup.sample.contains(&worst)
            {
                setup.extend_sample(&[worst])?;
                continue 'rounds;
            }
            // A frequency at the sample's own κ² fails only by rounding.
            x = if lowered < x { lowered } else { 0.9 * x };
        }
    }
    timer.done(|| {
        format!(
            "fourier multiplier (residual): grid {:?}, {} channels, {}",
            setup.pair.grid,
            setup.pair.hidden,
            if result.is_some() {
                "certified"
            } else {
                "refused"
            }
        )
    });
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(len: usize, seed: &mut u64) -> Vec<f64> {
        (0..len)
            .map(|_| {
                *seed ^= *seed << 13;
                *seed ^= *seed >> 7;
                *seed ^= *seed << 17;
                (*seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
            .collect()
    }

    /// With equal alias blocks the once-computed product is the full one
    /// up to the order of the sums, within the full product's error bound,
    /// and carries that bound; unequal blocks take the full product.
    #[test]
    fn adjoint_product_of_equal_alias_blocks_matches_the_full_one() {
        let mut seed = 99u64;
        let (m, c, k, h) = (5usize, 3usize, 4usize, 6usize);
        let block = values(2 * m * c, &mut seed);
        let mut data = Vec::new();
        for _ in 0..k {
            data.extend_from_slice(&block);
        }
        let s = Tracked {
            rows: 2 * m,
            cols: k * c,
            data,
            err: 1e-13,
        };
        let b = Tracked {
            rows: 2 * m,
            cols: h,
            data: values(2 * m * h, &mut seed),
            err: 1e-14,
        };
        let once = adjoint_product(&s, &b, k).unwrap();
        let full = stacked_product(&s.stacked_adjoint(), &b).unwrap();
        assert_eq!((once.rows, once.cols), (full.rows, full.cols));
        let diff = once
            .data
            .iter()
            .zip(&full.data)
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f64>()
            .sqrt();
        assert!(diff <= 1e-14, "{diff}");
        assert!(
            (once.err - full.err).abs() <= 1e-12 * full.err,
            "{} vs {}",
            once.err,
            full.err
        );
        // One entry changed: no longer equal blocks, the full product.
        let mut t = s.clone();
        t.data[2 * m * c] += 0.25;
        let changed = adjoint_product(&t, &b, k).unwrap();
        let direct = stacked_product(&t.stacked_adjoint(), &b).unwrap();
        assert_eq!((&changed.data, changed.err), (&direct.data, direct.err));
    }
}
