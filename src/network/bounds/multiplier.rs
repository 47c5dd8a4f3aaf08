//! Multiplier certificates of LipSDP-Neuron type (Fazlyab, Robey, Hassani,
//! Morari, Pappas, "Efficient and Accurate Estimation of Lipschitz Constants
//! for Deep Neural Networks", NeurIPS 2019, Theorem 2 with a diagonal
//! multiplier T, the "LipSDP-Neuron" variant) for two-layer pieces
//! f(x) = B·φ(Ax + c) and residual blocks x + B·φ(Ax + c). The coupled
//! "LipSDP-Network" variant is reported unsound and is not used.
//!
//! # Theorem 1 (two-layer piece)
//! Let φ act elementwise with every difference quotient in [0, 1], T =
//! diag(tᵢ) ≻ 0, P = B·T^{-½}, Q = Aᵀ·T^{½}, and s ≥ σ_max([P; Q]) (P
//! stacked above Q). Then Lip(f) ≤ s²/2.
//!
//! *Proof.* For inputs x, x′ let Δx = x − x′, Δz = AΔx, Δu = φ(z) − φ(z′)
//! and v = T^{½}Δu. Per neuron Δuᵢ = dᵢΔzᵢ with dᵢ ∈ [0, 1], so
//! Δuᵢ(Δzᵢ − Δuᵢ) = dᵢ(1 − dᵢ)Δzᵢ² ≥ 0; weighting by tᵢ and summing,
//! ‖v‖² ≤ vᵀT^{½}AΔx = (Qv)ᵀΔx ≤ ‖Qv‖‖Δx‖. From PᵀP + QᵀQ ⪯ s²I,
//! ‖f(x) − f(x′)‖² = ‖Pv‖² ≤ s²‖v‖² − ‖Qv‖² ≤ s²‖Qv‖‖Δx‖ − ‖Qv‖²
//! ≤ (s²/2)²‖Δx‖² (maximum of s²ab − b² over b). ∎
//! Mechanized: proofs/theories/Multiplier.v, `two_layer_sigma_certificate`.
//!
//! *Relation to LipSDP-Neuron.* With slopes in [α, β] = [0, 1] the LMI of
//! Fazlyab et al. reads M = [[−ρI, AᵀT], [TA, BᵀB − 2T]] ⪯ 0 ⇒ Lip ≤ √ρ. A
//! Schur complement on the −ρI block turns M ⪯ 0 into
//! BᵀB − 2T + ρ⁻¹TAAᵀT ⪯ 0, and congruence with T^{-½} into
//! T^{-½}BᵀBT^{-½} + ρ⁻¹T^{½}AAᵀT^{½} ⪯ 2I, i.e.
//! σ_max([BT^{-½}; ρ^{-½}AᵀT^{½}]) ≤ √2 (the form stated in issue 12).
//! Replacing T by T/√ρ maps that matrix to ρ^{¼}·[P; Q], so σ_max = √2
//! there is s = √2·ρ^{¼} here and s²/2 = √ρ: Theorem 1 is the same
//! certificate with ρ absorbed into T (ρ is redundant once T is free), and
//! it turns *any* certified s into a bound instead of a yes/no check.
//! With T = t·I and t = ‖B‖/‖A‖ it gives ‖A‖‖B‖, so it is never worse than
//! the product at its optimum.
//!
//! # Theorem 2 (residual block, shortcut the identity)
//! With φ, T, P, Q as above and κ > 0: if σ_max([P; κ(P + Q)]) ≤ √2 then
//! Lip(x + Bφ(Ax + c)) ≤ √(1 + κ⁻²) (issue 12's form with ρ − 1 = κ⁻²).
//!
//! *Proof.* ‖Δx + Pv‖² = ‖Δx‖² + 2Δxᵀ(Pv) + ‖Pv‖²; adding
//! 2((Qv)ᵀΔx − ‖v‖²) ≥ 0 gives at most
//! ‖Δx‖² + 2Δxᵀ(P + Q)v + ‖Pv‖² − 2‖v‖², and PᵀP + κ²(P + Q)ᵀ(P + Q) ⪯ 2I
//! bounds ‖Pv‖² − 2‖v‖² ≤ −κ²‖(P + Q)v‖²; finally
//! 2ab − κ²b² ≤ a²/κ². So the square is at most (1 + κ⁻²)‖Δx‖². (It is the
//! Schur complement of [[(1 − ρ)I, B + AᵀT], [Bᵀ + TA, BᵀB − 2T]] ⪯ 0, the
//! LipSDP-Neuron LMI of the map x ↦ x + Bφ(Ax).) ∎
//! Mechanized: proofs/theories/Multiplier.v, `residual_sigma_certificate`.
//!
//! # Other slope intervals
//! Slopes in [a, b] with a ≥ 0 lie in [0, b], and φ = b·φ̃ with φ̃ in
//! [0, 1]: the two-layer bound scales by b (Theorem 1 is homogeneous in B
//! once T is rescaled), the residual one uses B′ = b·B. With a < 0 the
//! two-layer piece is split as f = aBAx + B·φ̂(Ax), φ̂ = φ − a·Id with
//! slopes in [0, b − a]: Lip(f) ≤ |a|·‖BA‖ + (b − a)·(Theorem 1). The full
//! [a, b] LMI needs a general positive-definiteness certificate, not a σ
//! check: it is the segment certificate of [`super::segment`], tried on
//! every run with an activation whose a ≠ 0 (one activation suffices), so
//! residual blocks with a < 0 get their bound there.
//!
//! # Floating point
//! T (through d = diag(T^{½}), positive floats) and κ are searched in plain
//! floating point (a balancing start, then gradient steps on log d using the
//! top eigenvector; for residual blocks a scan of scalings and the largest
//! feasible κ from a generalised eigenvalue); they are *parameters*, so their
//! rounding cannot harm soundness. Only the final σ is certified: A and B are
//! explicit [`Tracked`] matrices (‖Â − A‖ ≤ e_A, ‖B̂ − B‖ ≤ e_B); the stacked
//! matrix Ŷ = [D⁻¹B̂ᵀ | DÂ] (the transpose of [P; Q], same σ) is formed by
//! correctly rounded divisions and products, each entry within
//! 2u|ŷ| + η of the exact value of the float operands (|fl z − z| ≤ u|z| +
//! η/2 and |z| ≤ (|fl z| + η/2)/(1 − u)), so
//! ‖Y − Ŷ‖ ≤ e_B/min d + e_A·max d + 2u‖Ŷ‖_F + η√(entries)
//! (‖·‖₂ ≤ ‖·‖_F, proofs/theories/Norms.v `spectral_le_frobenius`), and
//! σ(Y) ≤ σ_up(Ŷ) + that (Weyl), with σ_up from [`crate::sigma()`]. The
//! residual check adds the sum P̂ + Q̂ (|fl(a + b) − (a + b)| ≤ u(1 + 2u)|fl|)
//! and the scaling by κ the same way; it compares s² rounded upward with 2,
//! so an s whose square could exceed 2 is refused. Every bound is rounded
//! upward ([`crate::rounding`]).
//!
//! # Convolutional pieces
//! Pieces whose explicit matrices do not fit (hidden width above
//! [`MAX_HIDDEN`] or more entries than the budget) get the same theorems
//! with T constant per channel, certified frequency by frequency on the
//! lifted circular grid ([`super::fourier_multiplier`]).
//!
//! # Longer segments
//! Runs of linear layers, activations, max pooling and identity-shortcut
//! residual blocks with at least two activations (or one with slopes
//! [a, b], a ≠ 0) also get one LipSDP-Neuron
//! certificate over the whole run ([`super::segment`], a general
//! positive-definiteness certificate), used where it beats the product of
//! the pieces above.

use super::fourier::RangeBound;
use super::search_eig::{scaled_parts, top_pencil, top_scaled};
use super::tracked::{apply_linear_node, is_linear, Tracked};
use crate::enclosure::Guarantee;
use crate::error::{Error, Result};
use crate::matrix::DenseMatrix;
use crate::network::layer::{Layer, Node, SlopeInterval};
use crate::network::lipschitz::composed_upper;
use crate::rounding::{add_up, div_up, mul_down, mul_up, norm2_up, sqrt_up, ETA, UNIT_ROUNDOFF};
use crate::sigma::{sigma, SigmaOptions};
use faer::Mat;
use serde::Serialize;

/// Default limit on the entries of one explicit matrix of a piece.
pub const DEFAULT_MAX_ENTRIES: usize = 1 << 22;

/// Largest hidden width whose multiplier T is searched (the search runs
/// Lanczos on h × h symmetric matrices and Cholesky-factors them).
pub const MAX_HIDDEN: usize = 1024;

/// The multiplier bound of one piece (a two-layer piece or a residual block).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PieceBound {
    /// First top-level node index.
    pub start: usize,
    /// One past the last node index.
    pub end: usize,
    /// `"two_layer"`, `"residual"` or `"segment"` (one certificate over a
    /// run of layers, [`super::segment`]).
    pub kind: &'static str,
    /// Product of the piece's certified layer bounds.
    pub product: f64,
    /// Its multiplier bound.
    pub multiplier: f64,
}

/// The multiplier bound of a whole network.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiplierBound {
    /// Certified upper bound on Lip(f) (never above the product).
    pub upper: f64,
    /// Its guarantee.
    pub guarantee: Guarantee,
    /// The pieces where a multiplier certificate was used.
    pub pieces: Vec<PieceBound>,
    /// The bound before the minimum with the whole network's product (for
    /// tests of multiplier ≤ product).
    pub raw: f64,
}

/// Plain-float matrix from a column-major [`Tracked`] one.
fn to_mat(t: &Tracked) -> Mat<f64> {
    Mat::from_fn(t.rows, t.cols, |i, j| t.data[j * t.rows + i])
}

fn gram(x: &Mat<f64>) -> Mat<f64> {
    x.transpose() * x
}

/// The balancing start dᵢ = (‖column i of B‖/‖row i of A‖)^{γ/2} (zero norms
/// floored), scaled by t.
fn balancing_start(g: &Mat<f64>, h: &Mat<f64>, gamma: f64) -> Vec<f64> {
    let n = g.nrows();
    let bmax = (0..n).fold(0.0f64, |a, i| a.max(g[(i, i)]));
    let amax = (0..n).fold(0.0f64, |a, i| a.max(h[(i, i)]));
    (0..n)
        .map(|i| {
            let b = g[(i, i)].max(1e-24 * bmax).max(f64::MIN_POSITIVE);
            let a = h[(i, i)].max(1e-24 * amax).max(f64::MIN_POSITIVE);
            (b / a).powf(0.25 * gamma)
        })
        .collect()
}

/// Float search of d = diag(T^{½}) minimising λ_max(D⁻¹GD⁻¹ + DHD)/2,
/// G = BᵀB, H = AAᵀ: balancing starts, the best scalar factor, then
/// gradient steps on log d (∂λ/∂log dᵢ = 2vᵢ((DHDv)ᵢ − (D⁻¹GD⁻¹v)ᵢ), v the
/// top eigenvector) with step doubling/halving. The top eigenpairs come
/// from Lanczos on matrix-free products ([`super::search_eig`]), warm-started
/// from the previous eigenvector.
fn search_two_layer(g: &Mat<f64>, h: &Mat<f64>) -> Option<Vec<f64>> {
    let n = g.nrows();
    let (gr, hr) = (g.as_ref(), h.as_ref());
    let mut best: Option<(f64, Vec<f64>, Vec<f64>)> = None;
    for gamma in [0.0, 1.0] {
        let mut d = balancing_start(g, h, gamma);
        // Best scalar t: λ(D⁻¹GD⁻¹/t² + t²DHD) ≈ ‖G′‖/t² + t²‖H′‖.
        let (lg, _) = top_scaled(gr, hr, &d, (true, false), None)?;
        let (lh, _) = top_scaled(gr, hr, &d, (false, true), None)?;
        if lg > 0.0 && lh > 0.0 {
            let t = (lg / lh).powf(0.25);
            d.iter_mut().for_each(|v| *v *= t);
        }
        let (val, v) = top_scaled(gr, hr, &d, (true, true), None)?;
        if best.as_ref().is_none_or(|(b, _, _)| val < *b) {
            best = Some((val, d, v));
        }
    }
    let (mut val, mut d, mut v) = best?;
    let iterations = if n > 256 { 12 } else { 40 };
    let mut step = 0.1;
    for _ in 0..iterations {
        let (gv, hv) = scaled_parts(gr, hr, &d, &v);
        let grad: Vec<f64> = (0..n).map(|i| 2.0 * v[i] * (hv[i] - gv[i])).collect();
        let gmax = grad.iter().fold(0.0f64, |a, x| a.max(x.abs()));
        if !(gmax > 0.0 && gmax.is_finite()) {
            break;
        }
        let mut improved = false;
        for _ in 0..6 {
            let trial: Vec<f64> = d
                .iter()
                .zip(&grad)
                .map(|(di, gi)| di * (-step * gi / gmax).exp())
                .collect();
            if let Some((tv, tvec)) = top_scaled(gr, hr, &trial, (true, true), Some(&v)) {
                if tv < val {
                    val = tv;
                    d = trial;
                    v = tvec;
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
    d.iter().all(|v| v.is_finite() && *v > 0.0).then_some(d)
}

/// Ŷ = [D⁻¹B̂ᵀ | κ₁·DÂ] (h × (m + n), row-major) and the rigorous bound on
/// its distance to the exact matrix (module docs; κ₁ = 1).
fn stacked(a: &Tracked, b: &Tracked, d: &[f64]) -> Option<(Vec<f64>, f64)> {
    let (h, n, m) = (a.rows, a.cols, b.rows);
    let width = m + n;
    let mut y = vec![0.0; h * width];
    for i in 0..h {
        let row = &mut y[i * width..(i + 1) * width];
        let (left, right) = row.split_at_mut(m);
        for (r, bv) in left.iter_mut().zip(&b.data[i * m..(i + 1) * m]) {
            *r = bv / d[i];
        }
        for (j, r) in right.iter_mut().enumerate() {
            *r = d[i] * a.data[j * h + i];
        }
    }
    if y.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let dmin = d.iter().fold(f64::INFINITY, |x, v| x.min(*v));
    let dmax = d.iter().fold(0.0f64, |x, v| x.max(*v));
    let err = add_up(
        add_up(div_up(b.err, dmin), mul_up(a.err, dmax)),
        add_up(
            mul_up(2.0 * UNIT_ROUNDOFF, norm2_up(&y)),
            mul_up(ETA, sqrt_up(y.len() as f64)),
        ),
    );
    err.is_finite().then_some((y, err))
}

/// Certified upper bound on σ of the exact matrix Ŷ stands for.
fn certified_sigma(
    rows: usize,
    cols: usize,
    y: &[f64],
    err: f64,
    options: &SigmaOptions,
) -> Result<(f64, Guarantee)> {
    if y.iter().all(|v| *v == 0.0) {
        return Ok((err, Guarantee::Rigorous));
    }
    let e = sigma(&DenseMatrix::from_row_major(rows, cols, y)?, options)?;
    Ok((add_up(e.upper(), err), e.guarantee()))
}

/// Theorem 1: a certified bound on Lip(x ↦ Bφ(Ax + c)), φ with slopes in
/// [0, 1], from explicit A (h × n) and B (m × h); `None` when the piece is
/// too large to search or the search fails.
pub fn two_layer_bound(
    a: &Tracked,
    b: &Tracked,
    options: &SigmaOptions,
) -> Result<Option<(f64, Guarantee)>> {
    let h = a.rows;
    if b.cols != h || h == 0 || h > MAX_HIDDEN {
        return Ok(None);
    }
    let (am, bm) = (to_mat(a), to_mat(b));
    let g = gram(&bm);
    let hh = &am * am.transpose();
    let Some(d) = search_two_layer(&g, &hh) else {
        return Ok(None);
    };
    let Some((y, err)) = stacked(a, b, &d) else {
        return Ok(None);
    };
    let (s, guarantee) = certified_sigma(h, a.cols + b.rows, &y, err, options)?;
    let bound = mul_up(0.5, mul_up(s, s));
    Ok(bound.is_finite().then_some((bound, guarantee)))
}

/// Theorem 2: a certified bound on Lip(x ↦ x + Bφ(Ax + c)), φ with slopes in
/// [0, 1], from explicit A (h × n) and B (n × h); `None` when no κ
/// certifies or the piece is too large.
pub fn residual_bound(
    a: &Tracked,
    b: &Tracked,
    options: &SigmaOptions,
) -> Result<Option<(f64, Guarantee)>> {
    let (h, n) = (a.rows, a.cols);
    if b.cols != h || b.rows != n || h == 0 || h > MAX_HIDDEN {
        return Ok(None);
    }
    let (am, bm) = (to_mat(a), to_mat(b));
    let g = gram(&bm);
    let hh = &am * am.transpose();
    // Candidate d: balancing starts and the two-layer optimum, each scaled
    // over a grid; the objective is the largest feasible κ².
    // Large blocks: fewer candidates (each costs an h × h Cholesky factorization
    // and a Lanczos run).
    let large = h > 256;
    let mut starts = vec![balancing_start(&g, &hh, 1.0)];
    if !large {
        starts.push(balancing_start(&g, &hh, 0.0));
    }
    if let Some(d) = search_two_layer(&g, &hh) {
        starts.push(d);
    }
    let grid = if large { 3 } else { 8 };
    let mut best: Option<(f64, Vec<f64>)> = None;
    for d0 in starts {
        for k in -grid..=grid {
            let t = 2f64.powf(k as f64 / 2.0);
            let d: Vec<f64> = d0.iter().map(|v| v * t).collect();
            if let Some(x) = residual_kappa2(&g, &am, &bm, &d) {
                if best.as_ref().is_none_or(|(bx, _)| x > *bx) {
                    best = Some((x, d));
                }
            }
        }
    }
    let Some((x, d)) = best else {
        return Ok(None);
    };
    let Some((p_part, p_err, q_part, q_err)) = split_stacked(a, b, &d) else {
        return Ok(None);
    };
    for shrink in [1e-6, 1e-4, 1e-2, 0.1, 0.3] {
        let kappa = (x * (1.0 - shrink)).sqrt();
        if !(kappa > 0.0 && kappa.is_finite()) {
            continue;
        }
        // Row i of Ŷ: [P̂ᵀ row | κ·fl(P̂ᵀ + Q̂ᵀ) row].
        let width = 2 * n;
        let mut y = vec![0.0; h * width];
        let mut sum = vec![0.0; h * n];
        for i in 0..h {
            for j in 0..n {
                let p = p_part[i * n + j];
                let s = p + q_part[i * n + j];
                sum[i * n + j] = s;
                y[i * width + j] = p;
                y[i * width + n + j] = kappa * s;
            }
        }
        if y.iter().any(|v| !v.is_finite()) {
            continue;
        }
        // ‖Ŝ − S‖ ≤ e_P + e_Q + u(1 + 2u)‖Ŝ‖_F; ‖κŜ rounded − κS‖ ≤
        // κ‖Ŝ − S‖ + 2u‖·‖_F + η√entries.
        let s_err = add_up(
            add_up(p_err, q_err),
            mul_up(UNIT_ROUNDOFF * (1.0 + 2.0 * UNIT_ROUNDOFF), norm2_up(&sum)),
        );
        let scaled: Vec<f64> = (0..h)
            .flat_map(|i| y[i * width + n..(i + 1) * width].to_vec())
            .collect();
        let k_err = add_up(
            mul_up(kappa, s_err),
            add_up(
                mul_up(2.0 * UNIT_ROUNDOFF, norm2_up(&scaled)),
                mul_up(ETA, sqrt_up(scaled.len() as f64)),
            ),
        );
        let err = add_up(p_err, k_err);
        let (s, guarantee) = certified_sigma(h, width, &y, err, options)?;
        if mul_up(s, s) <= 2.0 {
            let rho = add_up(1.0, div_up(1.0, mul_down(kappa, kappa)));
            let bound = sqrt_up(rho);
            if bound.is_finite() {
                return Ok(Some((bound, guarantee)));
            }
        }
    }
    Ok(None)
}

/// P̂ᵀ = D⁻¹B̂ᵀ and Q̂ᵀ = DÂ (both h × n, row-major) with their error bounds.
fn split_stacked(a: &Tracked, b: &Tracked, d: &[f64]) -> Option<(Vec<f64>, f64, Vec<f64>, f64)> {
    let (h, n) = (a.rows, a.cols);
    let mut p = vec![0.0; h * n];
    let mut q = vec![0.0; h * n];
    for i in 0..h {
        for j in 0..n {
            p[i * n + j] = b.data[i * n + j] / d[i];
            q[i * n + j] = d[i] * a.data[j * h + i];
        }
    }
    if p.iter().chain(&q).any(|v| !v.is_finite()) {
        return None;
    }
    let dmin = d.iter().fold(f64::INFINITY, |x, v| x.min(*v));
    let dmax = d.iter().fold(0.0f64, |x, v| x.max(*v));
    let round = |v: &[f64]| {
        add_up(
            mul_up(2.0 * UNIT_ROUNDOFF, norm2_up(v)),
            mul_up(ETA, sqrt_up(v.len() as f64)),
        )
    };
    let pe = add_up(div_up(b.err, dmin), round(&p));
    let qe = add_up(mul_up(a.err, dmax), round(&q));
    (pe.is_finite() && qe.is_finite()).then_some((p, pe, q, qe))
}

/// Largest κ² with λ_max(PᵀP + κ²SᵀS) ≤ 2, S = P + Q (floats, search only):
/// 1/μ with μ the top eigenvalue of the pencil (SᵀS, 2I − PᵀP)
/// ([`super::search_eig::top_pencil`]: Cholesky and Lanczos), `None` when
/// 2I − PᵀP is not numerically positive definite. PᵀP = D⁻¹GD⁻¹ with
/// G = B̂ᵀB̂ precomputed.
fn residual_kappa2(g: &Mat<f64>, am: &Mat<f64>, bm: &Mat<f64>, d: &[f64]) -> Option<f64> {
    let h = d.len();
    let k = Mat::from_fn(h, h, |i, j| g[(i, j)] / (d[i] * d[j]));
    let s = Mat::from_fn(am.ncols(), h, |j, i| bm[(j, i)] / d[i] + d[i] * am[(i, j)]);
    let top = top_pencil(k.as_ref(), s.as_ref())?;
    // S ≈ 0 (a block that is nearly the identity): any κ is feasible; cap κ²
    // so that κ times the rounding terms stays small.
    top.is_finite().then(|| (1.0 / top.max(1e-12)).min(1e12))
}

/// The explicit matrix of a run of linear nodes on an `n`-dimensional input
/// (`None` when over `max_entries`).
fn group_matrix(nodes: &[Node], n: usize, max_entries: usize) -> Result<Option<Tracked>> {
    if n.saturating_mul(n) > max_entries {
        return Ok(None);
    }
    let mut t = Tracked::identity(n);
    for node in nodes {
        let rows: usize = node.shape_out.iter().product();
        if rows.saturating_mul(n) > max_entries {
            return Ok(None);
        }
        t = apply_linear_node(node, &t)?;
    }
    Ok(Some(t))
}

fn activation_interval(node: &Node) -> Option<SlopeInterval> {
    node.layer.slope_interval().and_then(|r| r.ok())
}

/// Treats an overflow or a refused certificate as "no multiplier bound".
fn soft<T>(r: Result<Option<T>>) -> Result<Option<T>> {
    match r {
        Err(
            Error::Overflow { .. }
            | Error::NonFinite { .. }
            | Error::CertificateFailed(_)
            | Error::OverBudget { .. },
        ) => Ok(None),
        other => other,
    }
}

/// Multiplier bound of the piece `piece` = linear nodes, activation
/// `piece[k]`, linear nodes (Theorem 1 with the slope handling of the
/// module docs); convolutional pieces too large for explicit matrices get
/// the per-channel Fourier certificate ([`super::fourier_multiplier`]).
fn pair_bound(
    piece: &[Node],
    k: usize,
    options: &SigmaOptions,
    max_entries: usize,
) -> Result<Option<(f64, Guarantee)>> {
    let (a_nodes, act, b_nodes) = (&piece[..k], &piece[k], &piece[k + 1..]);
    let Some(s) = activation_interval(act) else {
        return Ok(None);
    };
    let n: usize = a_nodes[0].shape_in.iter().product();
    let h: usize = act.shape_in.iter().product();
    let explicit = if h > MAX_HIDDEN {
        None
    } else {
        match (
            group_matrix(a_nodes, n, max_entries)?,
            group_matrix(b_nodes, h, max_entries)?,
        ) {
            (Some(a), Some(b)) => Some((a, b)),
            _ => None,
        }
    };
    let Some((a, b)) = explicit else {
        return soft(super::fourier_multiplier::fourier_pair_bound(
            piece, k, options,
        ));
    };
    let Some((t, g)) = two_layer_bound(&a, &b, options)? else {
        return Ok(None);
    };
    if s.lower >= 0.0 {
        return Ok(Some((mul_up(s.upper, t), g)));
    }
    // f = aBAx + Bφ̂(Ax), φ̂ with slopes in [0, b − a].
    let mut ba = a.clone();
    for node in b_nodes {
        ba = apply_linear_node(node, &ba)?;
    }
    let (nba, g2) = ba.norm_upper(options)?;
    let width = crate::rounding::sub_up(s.upper, s.lower);
    Ok(Some((
        add_up(mul_up(s.lower.abs(), nba), mul_up(width, t)),
        g.combine(g2),
    )))
}

/// Theorem 2 on a residual node whose body is linear nodes, one activation
/// with slopes in [a, b], linear nodes, and whose shortcut is the
/// identity (explicit matrices when a ≥ 0, or per channel on the circular
/// grid, where a < 0 is split off as a linear shortcut), or
/// linear nodes (per channel on the circular grid, with the shortcut's
/// norm, [`super::fourier_multiplier`]).
fn residual_node_bound(
    node: &Node,
    options: &SigmaOptions,
    max_entries: usize,
) -> Result<Option<(f64, Guarantee)>> {
    let Layer::Residual { body, shortcut } = &node.layer else {
        return Ok(None);
    };
    if shortcut.is_some() {
        // A shortcut of linear layers (e.g. ResNet's strided 1×1
        // convolution): only the per-channel certificate covers it.
        return soft(super::fourier_multiplier::fourier_residual_bound(
            node, options,
        ));
    }
    let acts: Vec<usize> = (0..body.len())
        .filter(|&k| !is_linear(&body[k].layer))
        .collect();
    let [k] = acts[..] else {
        return Ok(None);
    };
    let Some(s) = activation_interval(&body[k]) else {
        return Ok(None);
    };
    if k == 0 || k + 1 == body.len() {
        return Ok(None);
    }
    let n: usize = node.shape_in.iter().product();
    let h: usize = body[k].shape_in.iter().product();
    // Explicit matrices for slopes with a ≥ 0 (with a < 0 the explicit
    // blocks get their bound from the segment certificate); the Fourier
    // certificate handles a < 0 by the split S′ = I + a·BA.
    if s.lower >= 0.0 && h <= MAX_HIDDEN {
        if let (Some(a), Some(mut b)) = (
            group_matrix(&body[..k], n, max_entries)?,
            group_matrix(&body[k + 1..], h, max_entries)?,
        ) {
            if s.upper != 1.0 {
                b = b.scale(s.upper);
            }
            return residual_bound(&a, &b, options);
        }
    }
    // Too large for explicit matrices: per-channel multipliers, frequency
    // by frequency.
    soft(super::fourier_multiplier::fourier_residual_bound(
        node, options,
    ))
}

/// A chain piece chosen by the dynamic programme: (bound, guarantee,
/// multiplier pieces used).
type Choice = (f64, Guarantee, Vec<PieceBound>);

/// Best cover of a run of linear layers and activations (groups of linear
/// layers separated by single activations) by single groups and two-layer
/// pieces, minimising the product of their bounds.
fn run_bound(
    nodes: &[Node],
    offset: usize,
    options: &SigmaOptions,
    max_entries: usize,
) -> Result<Choice> {
    let mut groups = Vec::new();
    let mut acts = Vec::new();
    let mut start = 0;
    for (k, node) in nodes.iter().enumerate() {
        if !is_linear(&node.layer) {
            groups.push(start..k);
            acts.push(k);
            start = k + 1;
        }
    }
    groups.push(start..nodes.len());
    let single = |r: &std::ops::Range<usize>| composed_upper(&nodes[r.clone()]);
    let lipa = |k: usize| composed_upper(&nodes[acts[k]..acts[k] + 1]);
    let mut best: Vec<Choice> = vec![(1.0, Guarantee::Rigorous, Vec::new())];
    for j in 1..=groups.len() {
        let (prev, gp, pieces) = best[j - 1].clone();
        let (s, gs) = single(&groups[j - 1])?;
        let (mut v, mut g) = (mul_up(prev, s), gp.combine(gs));
        if j >= 2 {
            let (la, gl) = lipa(j - 2)?;
            v = mul_up(v, la);
            g = g.combine(gl);
        }
        let mut choice = (v, g, pieces);
        if j >= 2 && !groups[j - 2].is_empty() && !groups[j - 1].is_empty() {
            let (ga, gb) = (groups[j - 2].clone(), groups[j - 1].clone());
            let pair = soft(pair_bound(
                &nodes[ga.start..gb.end],
                acts[j - 2] - ga.start,
                options,
                max_entries,
            ))?;
            if let Some((p, gpair)) = pair {
                let (prev2, g2, pieces2) = best[j - 2].clone();
                let (mut v2, mut gg) = (mul_up(prev2, p), g2.combine(gpair));
                if j >= 3 {
                    let (la, gl) = lipa(j - 3)?;
                    v2 = mul_up(v2, la);
                    gg = gg.combine(gl);
                }
                if v2 < choice.0 {
                    let (product, _) = composed_upper(&nodes[ga.start..gb.end])?;
                    let mut pieces2 = pieces2;
                    pieces2.push(PieceBound {
                        start: offset + ga.start,
                        end: offset + gb.end,
                        kind: "two_layer",
                        product,
                        multiplier: p,
                    });
                    choice = (v2, gg, pieces2);
                }
            }
        }
        best.push(choice);
    }
    Ok(best.pop().expect("one entry per group"))
}

/// Whether a segment certificate ([`super::segment`]) can cover `node`.
fn segmentable(node: &Node) -> bool {
    if is_linear(&node.layer) {
        return true;
    }
    if let Some(s) = activation_interval(node) {
        return s.lower.is_finite() && s.upper.is_finite();
    }
    match &node.layer {
        Layer::Residual {
            body,
            shortcut: None,
        } => body.iter().all(segmentable),
        Layer::MaxPool2d { pool, .. } => super::liplt::max_pool_joinable(pool),
        _ => false,
    }
}

/// One factor of the network bound: nodes `start..end`, its bound and
/// guarantee, the multiplier pieces it used, whether a segment
/// certificate could replace it.
struct Factor {
    start: usize,
    end: usize,
    value: f64,
    guarantee: Guarantee,
    pieces: Vec<PieceBound>,
    segmentable: bool,
}

/// A product of bounds (rounded upward) with the combined guarantee and the
/// multiplier pieces it used.
struct Chain {
    value: f64,
    guarantee: Guarantee,
    pieces: Vec<PieceBound>,
}

impl Chain {
    /// The empty product.
    fn one() -> Self {
        Chain {
            value: 1.0,
            guarantee: Guarantee::Rigorous,
            pieces: Vec::new(),
        }
    }

    /// Multiplies by another chain.
    fn times(&mut self, other: Chain) {
        self.value = mul_up(self.value, other.value);
        self.guarantee = self.guarantee.combine(other.guarantee);
        self.pieces.extend(other.pieces);
    }

    /// Multiplies by one factor's bound.
    fn times_factor(&mut self, f: &Factor) {
        self.times(Chain {
            value: f.value,
            guarantee: f.guarantee,
            pieces: f.pieces.clone(),
        });
    }
}

/// The bound of a run of factors: the product of their bounds, or one
/// segment certificate over all their nodes ([`super::segment`]) where it
/// applies (every factor segmentable, at least two activations or one
/// whose slope interval [a, b] has a ≠ 0) and is smaller.
fn run_bound_with_segment(nodes: &[Node], run: &[Factor], max_entries: usize) -> Result<Chain> {
    let mut product = Chain::one();
    for f in run {
        product.times_factor(f);
    }
    if !run.iter().all(|f| f.segmentable) {
        return Ok(product);
    }
    let (s, e) = (run[0].start, run[run.len() - 1].end);
    let Some(seg) = soft(super::segment::build_segment(&nodes[s..e], max_entries))? else {
        return Ok(product);
    };
    if !(seg.activations() >= 2 || seg.has_nonzero_lower_slope() || seg.has_per_neuron_slopes()) {
        return Ok(product);
    }
    match super::segment::segment_bound(&seg) {
        Some(m) if m < product.value => {
            // The segment's error bounds use the layers' certified norms:
            // it inherits their guarantee.
            let (layers, guarantee) = composed_upper(&nodes[s..e])?;
            Ok(Chain {
                value: m,
                guarantee,
                pieces: vec![PieceBound {
                    start: s,
                    end: e,
                    kind: "segment",
                    product: layers,
                    multiplier: m,
                }],
            })
        }
        _ => Ok(product),
    }
}

/// The multiplier bound of certified top-level `nodes`: runs of linear layers
/// and activations covered by single layers and two-layer pieces (Theorem 1,
/// best cover by dynamic programming), residual blocks by Theorem 2 where
/// it is tighter than their certified constant, every other layer by its
/// certified constant; then every maximal run of these factors made of
/// linear layers, activations, max pooling and identity-shortcut residual
/// blocks, with at least two activations or one whose slopes [a, b] have
/// a ≠ 0, by one segment certificate ([`super::segment`], LipSDP-Neuron
/// over the whole run; when the run holds max pooling, also its parts
/// between the max-pool layers, each with its own segment) where that is
/// tighter than the product of its factors; the product over all
/// (Lip(g∘h) ≤ Lip(g)·Lip(h), proofs/theories/Lipschitz.v
/// `lipschitz_comp`), and at most the product.
pub fn multiplier_bound(
    nodes: &[Node],
    options: &SigmaOptions,
    max_entries: usize,
) -> Result<MultiplierBound> {
    let (product_all, g_all) = composed_upper(nodes)?;
    let mut factors: Vec<Factor> = Vec::new();
    let chain = |n: &Node| is_linear(&n.layer) || activation_interval(n).is_some();
    let mut i = 0;
    while i < nodes.len() {
        if chain(&nodes[i]) {
            let mut j = i;
            while j < nodes.len() && chain(&nodes[j]) {
                j += 1;
            }
            let (v, g, p) = run_bound(&nodes[i..j], i, options, max_entries)?;
            factors.push(Factor {
                start: i,
                end: j,
                value: v,
                guarantee: g,
                pieces: p,
                segmentable: nodes[i..j].iter().all(segmentable),
            });
            i = j;
            continue;
        }
        let (p, gp) = composed_upper(&nodes[i..i + 1])?;
        let m = soft(residual_node_bound(&nodes[i], options, max_entries))?;
        let segmentable = segmentable(&nodes[i]);
        match m {
            Some((m, gm)) if m < p => factors.push(Factor {
                start: i,
                end: i + 1,
                value: m,
                guarantee: gm,
                pieces: vec![PieceBound {
                    start: i,
                    end: i + 1,
                    kind: "residual",
                    product: p,
                    multiplier: m,
                }],
                segmentable,
            }),
            _ => factors.push(Factor {
                start: i,
                end: i + 1,
                value: p,
                guarantee: gp,
                pieces: Vec::new(),
                segmentable,
            }),
        }
        i += 1;
    }
    let mut total = Chain::one();
    let mut a = 0;
    while a < factors.len() {
        let mut b = a + 1;
        if factors[a].segmentable {
            while b < factors.len() && factors[b].segmentable {
                b += 1;
            }
        }
        let run = &factors[a..b];
        let mut best = run_bound_with_segment(nodes, run, max_entries)?;
        // Max pooling joins a segment only when the whole run fits; else
        // the parts between max-pool layers get their own segments (as if
        // max pooling were a barrier).
        let is_pool = |f: &Factor| matches!(nodes[f.start].layer, Layer::MaxPool2d { .. });
        if run.len() > 1 && run.iter().any(is_pool) {
            let mut split = Chain::one();
            for part in run.split_inclusive(is_pool) {
                let (body, pool) = match part.split_last() {
                    Some((last, body)) if is_pool(last) => (body, Some(last)),
                    _ => (part, None),
                };
                if !body.is_empty() {
                    split.times(run_bound_with_segment(nodes, body, max_entries)?);
                }
                if let Some(f) = pool {
                    split.times_factor(f);
                }
            }
            if split.value < best.value {
                best = split;
            }
        }
        total.times(best);
        a = b;
    }
    let Chain {
        value: mut upper,
        mut guarantee,
        mut pieces,
    } = total;
    let raw = upper;
    // The pieces with the layers' joint bounds (pairs, groups through an
    // overlapping max pool), which may cross the factors' boundaries.
    let ranges: Vec<RangeBound> = pieces
        .iter()
        .map(|p| RangeBound {
            start: p.start,
            end: p.end,
            value: p.multiplier,
            guarantee,
        })
        .collect();
    if let Some((v, g, cover)) = super::liplt::cover_with_joint_bounds(nodes, &ranges)? {
        if v < upper {
            upper = v;
            guarantee = g;
            pieces.retain(|p| {
                cover
                    .iter()
                    .any(|r| (r.start, r.end, r.value) == (p.start, p.end, p.multiplier))
            });
        }
    }
    if product_all <= upper {
        return Ok(MultiplierBound {
            upper: product_all,
            guarantee: g_all,
            pieces,
            raw,
        });
    }
    Ok(MultiplierBound {
        upper,
        guarantee,
        pieces,
        raw,
    })
}
