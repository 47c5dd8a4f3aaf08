//! A joint bound for a convolution, an optional batch norm, an optional
//! elementwise activation and an *overlapping* max pooling after them
//! (MTCNN's conv → PReLU → 3×3/2 max-pool, AlexNet-style pools): instead of
//! the pool's constant √m (m the largest number of windows covering one
//! input), each pool input is weighted by the number of windows that
//! actually cover it.
//!
//! # Theorem
//! Let f = P∘φ∘B∘C with C a zero-padded convolution (any stride, dilation,
//! groups; output c×H×W), B an optional eval-mode batch norm
//! z ↦ D(z − μ) + β with D = diag(d_c), φ an optional elementwise map whose
//! difference quotients on channel c lie in [−λ_c, λ_c], and P a max
//! pooling of c×H×W with product windows; let κ(i, j) = κ_r(i)·κ_s(j) be
//! the number of windows containing pixel (i, j).
//!
//! 1. ‖P(a) − P(a′)‖² ≤ Σ_{c,i,j} κ(i, j)(a − a′)²_{c,i,j}: each window's
//!    change is at most its largest coordinate change, and each position is
//!    counted once per window containing it
//!    (proofs/theories/Activations.v, `maxpool_weighted`).
//! 2. With a = φ(z): (a − a′)²_{c,i,j} ≤ λ_c²(z − z′)²_{c,i,j}
//!    (`weighted_componentwise`), and z − z′ = DC(x − x′). So
//!    ‖f(x) − f(x′)‖ ≤ ‖W·C(x − x′)‖ for any diagonal W with
//!    W_{c,i,j} ≥ |d_c|·λ_c·√κ(i, j) (all factors nonnegative).
//! 3. *Phases.* Take periods t = (t_r, t_s) (the pool's stride) and
//!    κ̃_r(p) = max{κ_r(i) : i ≡ p mod t_r} (likewise κ̃_s), and
//!    W_{c,i,j} = w_{c,p} for (i, j) ≡ p: w_{c,p} ≥ |d_c|λ_c√(κ̃_r(p_r)κ̃_s(p_s)).
//!    The rows of WC of phase p are the outputs t⊙j + p of C scaled by
//!    w_{c,p}: output t⊙j + p of C reads input s⊙(t⊙j + p) + δ⊙a − pad
//!    (s the stride, δ the dilation, a the tap), which is output j of the
//!    convolution C′ with stride s⊙t, dilation 1, kernel taps at
//!    δ⊙a + s⊙p with values w_{c,p}·K[c, ·, a] (one output channel per
//!    (c, p)), the same top/left padding and bottom/right padding enlarged
//!    by s(t − 1). With L = H_in + pad − δ(k − 1) − 1 along an axis, C has
//!    ⌊L/s⌋ + 1 outputs and C′ has ⌊L/(st)⌋ + 1 = ⌈(⌊L/s⌋ + 1)/t⌉ of them,
//!    as many as phase 0 (the largest); C′'s other rows are extra linear
//!    maps. So ‖WCv‖ ≤ ‖C′v‖ for all v (a subset of C′'s rows, reordered),
//!    and Lip(f) ≤ σ(C′).
//!
//! # Floating point
//! w_{c,p} is rounded upward (|d_c| ≤ |d̂_c| + δ from `bn_scales`, √κ
//! by `sqrt_up`), and the kernel K̂′ = fl(w·K) = wK + E with
//! |E| ≤ u(1 + 2u)|K̂′| + η/2 entrywise, so
//! σ(C′) ≤ σ(C_{K̂′}) + u(1 + 2u)·√(‖C_{|K̂′|}‖₁‖C_{|K̂′|}‖∞) + η·|K̂′|
//! (triangle inequality; Proof: proofs/theories/Norms.v,
//! `spectral_le_sqrt_l1_linf`), σ(C_{K̂′}) from the certified convolution
//! enclosure.

use super::conv_layer::ConvLayer;
use super::layer::{Layer, Node};
use super::lipschitz::{bn_scales, folded_rounding_term, prelu_channel_scales};
use super::pool::{Pool2d, Windows1d};
use crate::conv::PaddingMode;
use crate::enclosure::Guarantee;
use crate::error::Result;
use crate::rounding::{add_up, mul_up, sqrt_up};

/// Largest period tried per axis (the output channels grow by t_r·t_s).
const MAX_PERIOD: usize = 4;

/// The certified bound of the module docs for `nodes` = [convolution,
/// batch norm?, elementwise?, max pool, …]: `Some((k, bound))` with k the
/// number of leading nodes it covers, `None` when the nodes do not have
/// that form, the pool's windows do not overlap (its constant is 1), or the
/// bound is not rigorous.
pub fn pooled_conv_upper(nodes: &[Node], threads: usize) -> Result<Option<(usize, f64)>> {
    let Some(Layer::Conv2d(conv)) = nodes.first().map(|n| &n.layer) else {
        return Ok(None);
    };
    if conv.mode != PaddingMode::Zeros {
        return Ok(None);
    }
    let c = conv.c_out;
    // |d_c| upper bounds (batch norm) and λ_c (activation), per channel.
    let mut scale = vec![1.0f64; c];
    let mut k = 1;
    if let Some(Layer::BatchNorm {
        gamma,
        var,
        eps,
        spatial,
        ..
    }) = nodes.get(k).map(|n| &n.layer)
    {
        if gamma.len() != c || *spatial != conv.out_hw.0 * conv.out_hw.1 {
            return Ok(None);
        }
        let (d_hat, delta) = bn_scales(gamma, var, *eps);
        for (s, d) in scale.iter_mut().zip(&d_hat) {
            *s = add_up(d.abs(), delta);
        }
        k += 1;
    }
    if let Some(node) = nodes.get(k) {
        if let Some(lambda) = channel_slopes(&node.layer, c) {
            for (s, l) in scale.iter_mut().zip(lambda) {
                *s = mul_up(*s, l);
            }
            k += 1;
        }
    }
    let Some(Layer::MaxPool2d { channels, pool }) = nodes.get(k).map(|n| &n.layer) else {
        return Ok(None);
    };
    if *channels != c
        || (pool.rows.input_len, pool.cols.input_len) != conv.out_hw
        || (pool.rows.max_cover() <= 1 && pool.cols.max_cover() <= 1)
    {
        return Ok(None);
    }
    let Some(folded) = phase_conv(conv, &scale, pool) else {
        return Ok(None);
    };
    let (_, upper, g) = folded.lipschitz_with(threads)?;
    if g != Guarantee::Rigorous || !upper.is_finite() {
        return Ok(None);
    }
    Ok(Some((k + 1, add_up(upper, folded_rounding_term(&folded)))))
}

/// Per-channel bounds λ_c on |difference quotients| of an elementwise
/// layer (`None` for other layers): PReLU's per-channel max(1, |a|) when
/// its slopes split into channel blocks ([`prelu_channel_scales`]), else
/// max(|a|, |b|) of its slope interval [a, b].
fn channel_slopes(layer: &Layer, channels: usize) -> Option<Vec<f64>> {
    let hull = layer.slope_interval()?.ok()?;
    if let Layer::Elementwise(e) = layer {
        if let Some(d) = prelu_channel_scales(e, channels) {
            return Some(d);
        }
    }
    let all = hull.lower.abs().max(hull.upper.abs());
    all.is_finite().then(|| vec![all; channels])
}

/// The period t ≤ [`MAX_PERIOD`] whose phase maxima κ̃(p) have the smallest
/// mean (ties: the shorter period), with those maxima.
fn phase_coverage(axis: &Windows1d) -> (usize, Vec<usize>) {
    let count = axis.coverage();
    let mut best: Option<(usize, Vec<usize>)> = None;
    for t in 1..=MAX_PERIOD.min(count.len().max(1)) {
        let mut m = vec![0usize; t];
        for (i, &k) in count.iter().enumerate() {
            m[i % t] = m[i % t].max(k);
        }
        // Compare means m̄_t = Σm/t by cross-multiplication.
        let better = match &best {
            None => true,
            Some((bt, bm)) => m.iter().sum::<usize>() * bt < bm.iter().sum::<usize>() * t,
        };
        if better {
            best = Some((t, m));
        }
    }
    best.unwrap_or((1, vec![0]))
}

/// The convolution C′ of step 3 of the module docs, kernel entries
/// fl(w_{c,p}·K[c, ·, a]) with w_{c,p} = scale_c·√(κ̃_r(p_r)κ̃_s(p_s))
/// rounded upward; `None` when its geometry is not valid.
fn phase_conv(conv: &ConvLayer, scale: &[f64], pool: &Pool2d) -> Option<ConvLayer> {
    let (tr, kr) = phase_coverage(&pool.rows);
    let (ts, ks) = phase_coverage(&pool.cols);
    let (kh, kw) = conv.kernel_hw;
    let (sh, sw) = conv.stride;
    let (dh, dw) = conv.dilation;
    let kh2 = dh * (kh - 1) + 1 + sh * (tr - 1);
    let kw2 = dw * (kw - 1) + 1 + sw * (ts - 1);
    let cig = conv.c_in / conv.groups;
    let phases = tr * ts;
    let mut kernel = vec![0.0; conv.c_out * phases * cig * kh2 * kw2];
    for (c, s) in scale.iter().enumerate() {
        for (pr, &cr) in kr.iter().enumerate() {
            for (ps, &cs) in ks.iter().enumerate() {
                let w = mul_up(*s, sqrt_up((cr * cs) as f64));
                let o = (c * tr + pr) * ts + ps;
                for ci in 0..cig {
                    for a in 0..kh {
                        for b in 0..kw {
                            let v = conv.kernel[((c * cig + ci) * kh + a) * kw + b];
                            let (r, q) = (dh * a + sh * pr, dw * b + sw * ps);
                            kernel[((o * cig + ci) * kh2 + r) * kw2 + q] = w * v;
                        }
                    }
                }
            }
        }
    }
    let (top, bottom, left, right) = conv.padding;
    ConvLayer::with_mode(
        kernel,
        [conv.c_out * phases, cig, kh2, kw2],
        None,
        conv.c_in,
        conv.in_hw,
        (sh * tr, sw * ts),
        (top, bottom + sh * (tr - 1), left, right + sw * (ts - 1)),
        (1, 1),
        conv.groups,
        PaddingMode::Zeros,
    )
    .ok()
}
