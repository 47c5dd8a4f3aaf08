//! Certified Lipschitz enclosures (ℓ₂ → ℓ₂) of each layer kind, and their
//! composition.
//!
//! * Composition: Lip(g∘h) ≤ Lip(g)·Lip(h), upper bounds multiplied with
//!   upward rounding. Proof: proofs/theories/Lipschitz.v, `lipschitz_comp`.
//! * Residual block: Lip(x ↦ x + g(x)) ≤ 1 + Lip(g) and
//!   Lip(s + g) ≤ Lip(s) + Lip(g). Proof: proofs/theories/Lipschitz.v, `lipschitz_residual`, `lipschitz_sum`.
//! * Affine layers (linear, conv, batch norm, average pooling): the bias does
//!   not change the constant, which is the operator norm of the linear part.
//!   Proof: proofs/theories/Lipschitz.v, `lipschitz_affine`.

use super::constants;
use super::layer::{Layer, LayerBound, Node};
use super::pool::Pool2d;
use crate::enclosure::Guarantee;
use crate::error::{Error, Result};
use crate::matrix::DenseMatrix;
use crate::rounding::{
    add_down, add_up, add_up_tight, div_down, div_enclosure, div_up, mul_down, mul_up,
    mul_up_tight, sqrt_down, sqrt_enclosure, sqrt_up, sub_up,
};
use crate::sigma::{sigma, SigmaOptions};
use std::time::Instant;

/// Certifies every node (recursively into residual blocks), storing each
/// bound in `node.bound`; `progress(done, total)` is called after each
/// top-level layer.
pub fn certify_nodes(
    nodes: &mut [Node],
    options: &SigmaOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<()> {
    let total = nodes.len();
    let workers = crate::parallel::resolve_threads(options.threads)
        .min(total)
        .max(1);
    if workers == 1 {
        for (i, node) in nodes.iter_mut().enumerate() {
            certify_node(node, options).map_err(|e| layer_error(i, node, e))?;
            progress(i + 1, total);
        }
    } else {
        certify_nodes_in_parallel(nodes, options, workers, progress)?;
    }
    block_lower_bounds(nodes, options.threads)?;
    record_pair_bounds(nodes, options)
}

fn layer_error(i: usize, node: &Node, e: Error) -> Error {
    Error::InvalidOption(format!("layer {i} ({}): {e}", node.kind))
}

/// The layers certified `workers` at a time, each on one thread (so each
/// layer's computation, and its result, is the sequential one whatever the
/// thread count), the costliest first (weights × output size, so that the
/// last layers to finish are small); `progress` counts finished layers.
/// On a failure, the error of the first failing layer in network order.
fn certify_nodes_in_parallel(
    nodes: &mut [Node],
    options: &SigmaOptions,
    workers: usize,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<()> {
    let total = nodes.len();
    let single = SigmaOptions {
        threads: 1,
        ..options.clone()
    };
    let mut order: Vec<(usize, &mut Node)> = nodes.iter_mut().enumerate().collect();
    order.sort_by_key(|(i, n)| (std::cmp::Reverse(node_cost(n)), *i));
    let queue = std::sync::Mutex::new(order.into_iter());
    let (done_tx, done_rx) = std::sync::mpsc::channel::<(usize, Result<()>)>();
    let mut failures: Vec<(usize, Error)> = Vec::new();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (queue, done_tx, single) = (&queue, done_tx.clone(), &single);
            scope.spawn(move || loop {
                let next = queue.lock().map(|mut q| q.next());
                let Ok(Some((i, node))) = next else {
                    break;
                };
                let result = certify_node(node, single).map_err(|e| layer_error(i, node, e));
                if done_tx.send((i, result)).is_err() {
                    break;
                }
            });
        }
        drop(done_tx);
        let mut finished = 0;
        for (i, result) in done_rx {
            finished += 1;
            match result {
                Ok(()) => progress(finished, total),
                Err(e) => failures.push((i, e)),
            }
        }
    });
    failures.sort_by_key(|(i, _)| *i);
    match failures.into_iter().next() {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

/// The work estimate that orders [`certify_nodes_in_parallel`]: the
/// number of weights times the output size (nested blocks summed).
fn node_cost(node: &Node) -> usize {
    match node.nested() {
        Some(inner) => inner.into_iter().map(node_cost).sum(),
        None => node
            .multiply_adds()
            .unwrap_or_else(|| node.shape_out.iter().product()),
    }
}

/// The lower bounds of the composite blocks (residual, concat) among
/// `nodes`, by their own pair search ([`residual_lower_bound`]), the blocks
/// shared among `threads` workers (each search is deterministic and
/// independent of the others, so the values do not depend on the thread
/// count).
fn block_lower_bounds(nodes: &mut [Node], threads: usize) -> Result<()> {
    let blocks: Vec<usize> = (0..nodes.len())
        .filter(|&i| {
            matches!(
                nodes[i].layer,
                Layer::Residual { .. } | Layer::Concat { .. }
            )
        })
        .collect();
    if blocks.is_empty() {
        return Ok(());
    }
    let workers = crate::parallel::resolve_threads(threads)
        .min(blocks.len())
        .max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let shared: &[Node] = nodes;
    let found: Vec<(usize, Result<f64>, f64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&i) = blocks.get(k) else {
                            break;
                        };
                        let timer = crate::timing::stage();
                        let start = Instant::now();
                        let lower = residual_lower_bound(&shared[i], 1);
                        timer.done(|| "block lower bound (pair search)".into());
                        out.push((i, lower, start.elapsed().as_secs_f64()));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join().unwrap_or_else(|_| {
                    vec![(
                        usize::MAX,
                        Err(Error::InvalidOption(
                            "internal: a block lower-bound thread panicked".into(),
                        )),
                        0.0,
                    )]
                })
            })
            .collect()
    });
    for (i, lower, seconds) in found {
        let lower = lower?;
        let node = &mut nodes[i];
        if let Some(b) = node.bound.as_mut() {
            if lower > b.upper {
                return Err(Error::CertificateFailed(format!(
                    "layer {i} ({}): certified lower bound {lower:e} exceeds the certified upper bound {:e} (a bug: please report it)",
                    node.kind, b.upper
                )));
            }
            b.lower = lower;
            b.seconds += seconds;
        }
    }
    Ok(())
}

/// Product of the upper bounds of certified nodes (rounded upward) and the
/// combined guarantee, using joint bounds of adjacent layers — pairs
/// (`with_next_upper`) and longer groups (`group_upper`) — where they make
/// the product smaller (the smallest product over all covers of the nodes
/// by single layers, pairs and groups, by dynamic programming). Errors if a
/// node is not certified.
pub fn composed_upper(nodes: &[Node]) -> Result<(f64, Guarantee)> {
    let bound = |n: &Node| {
        n.bound.clone().ok_or_else(|| {
            Error::InvalidOption(format!("layer '{}' has not been certified", n.kind))
        })
    };
    // best[i]: the smallest certified bound on nodes[..i] as a product of
    // single layers, pairs (`with_next_upper`) and groups (`group_upper`).
    let mut best = vec![f64::INFINITY; nodes.len() + 1];
    best[0] = 1.0;
    let mut g = Guarantee::Rigorous;
    for i in 0..nodes.len() {
        let b = bound(&nodes[i])?;
        g = g.combine(b.guarantee);
        let relax = |best: &mut Vec<f64>, end: usize, factor: f64| {
            let v = mul_up_tight(best[i], factor);
            if v < best[end] {
                best[end] = v;
            }
        };
        relax(&mut best, i + 1, b.upper);
        if let (Some(joint), Some(next)) = (b.with_next_upper, nodes.get(i + 1)) {
            relax(
                &mut best,
                i + 2,
                joint.min(mul_up_tight(b.upper, bound(next)?.upper)),
            );
        }
        if let Some((k, joint)) = b.group_upper {
            if k >= 2 && i + k <= nodes.len() {
                relax(&mut best, i + k, joint);
            }
        }
    }
    Ok((best[nodes.len()], g))
}

fn certify_node(node: &mut Node, options: &SigmaOptions) -> Result<()> {
    let start = Instant::now();
    let (lower, upper, guarantee, reason) = match &mut node.layer {
        Layer::Linear { weight, .. } => {
            let e = sigma(weight, options)?;
            (
                e.lower(),
                e.upper(),
                e.guarantee(),
                "linear: sigma(W), certified enclosure",
            )
        }
        Layer::Conv2d(conv) => {
            let (l, u, g) = conv.lipschitz_with(options.threads)?;
            (
                l,
                u,
                g,
                "conv2d: conv module enclosure (circular embedding / dense certificate upper, vector lower)",
            )
        }
        Layer::ConvTranspose2d(t) => {
            let (l, u, g) = t.lipschitz(options.threads)?;
            (
                l,
                u,
                g,
                "conv_transpose2d: sigma(C^T) = sigma(C), conv module enclosure of the adjoint convolution C",
            )
        }
        Layer::Relu => activation(constants::relu()),
        Layer::LeakyRelu(a) => activation(constants::leaky_relu(*a)?),
        Layer::Sigmoid => activation(constants::sigmoid()),
        Layer::Tanh => activation(constants::tanh()),
        Layer::Gelu => activation(constants::gelu()),
        Layer::GeluTanh => activation(constants::gelu_tanh()?),
        Layer::Silu => activation(constants::silu()?),
        Layer::Softmax { len, .. } => activation(constants::softmax(*len)),
        Layer::LogSoftmax { len, .. } => activation(super::log_softmax::constant(*len)),
        Layer::MaxPool2d { pool, .. } => {
            let (lo, up) = maxpool_constant(pool);
            (
                lo,
                up,
                Guarantee::Rigorous,
                "max-pool: sqrt(m), m = most windows covering one input (attained by a spike)",
            )
        }
        Layer::AvgPool2d { pool, .. } => {
            let (l, u) = avg_pool_norm(pool, options)?;
            (
                l,
                u,
                Guarantee::Rigorous,
                "average pooling: sigma(A_h) sigma(A_w) (Kronecker factors)",
            )
        }
        Layer::BatchNorm {
            gamma, var, eps, ..
        } => {
            let (l, u) = batchnorm_norm(gamma, var, *eps)?;
            (
                l,
                u,
                Guarantee::Rigorous,
                "batch norm (eval): max |gamma| / sqrt(var + eps)",
            )
        }
        Layer::Flatten => (1.0, 1.0, Guarantee::Rigorous, "flatten: identity on values"),
        Layer::Residual { body, shortcut } => {
            let mut ignore = |_: usize, _: usize| {};
            certify_nodes(body, options, &mut ignore)?;
            let (b, gb) = composed_upper(body)?;
            match shortcut {
                None => (
                    0.0,
                    add_up_tight(1.0, b),
                    gb,
                    "residual: 1 + Lip(body) (identity shortcut)",
                ),
                Some(s) => {
                    certify_nodes(s, options, &mut ignore)?;
                    let (su, gs) = composed_upper(s)?;
                    (
                        0.0,
                        add_up_tight(su, b),
                        gb.combine(gs),
                        "residual: Lip(shortcut) + Lip(body)",
                    )
                }
            }
        }
        Layer::Elementwise(e) => activation(e.lipschitz()),
        Layer::Select(s) => {
            let (lo, up) = s.lipschitz();
            (
                lo,
                up,
                Guarantee::Rigorous,
                "selection: sqrt(max number of copies of one input)",
            )
        }
        Layer::Concat { branches, .. } => {
            // ‖(f_b(x) − f_b(y))_b‖² = Σ_b ‖f_b(x) − f_b(y)‖² ≤ Σ_b L_b²‖x − y‖².
            let mut ignore = |_: usize, _: usize| {};
            let mut sq = 0.0;
            let mut g = Guarantee::Rigorous;
            for b in branches.iter_mut() {
                certify_nodes(b, options, &mut ignore)?;
                let (u, gb) = composed_upper(b)?;
                g = g.combine(gb);
                sq = add_up(sq, mul_up(u, u));
            }
            let separate = sqrt_up(sq);
            let input_len = node.shape_in.iter().product();
            match super::stacked_concat::stacked_concat_upper(branches, input_len, options)? {
                Some((joint, gj)) if joint < separate => (
                    0.0,
                    joint,
                    g.combine(gj),
                    "concat of heads: sigma([M_b; 1/2 C M_b for softmax heads])",
                ),
                _ => (0.0, separate, g, "concat: sqrt(sum of Lip(branch)^2)"),
            }
        }
    };
    node.bound = Some(LayerBound {
        lower,
        upper,
        guarantee,
        reason,
        seconds: start.elapsed().as_secs_f64(),
        with_next_upper: None,
        group_upper: None,
    });
    // A composite block has no closed-form lower bound: its lower end is
    // searched afterwards ([`block_lower_bounds`]).
    Ok(())
}

/// Inputs above which a block's own lower-bound search is cut to one
/// Jacobian point and no pair ascent (a ResNet-18 block at 56×56 took
/// 6–13 s with the full search, 70 of the 85 s of its layer table).
const LARGE_BLOCK_INPUTS: usize = 16_384;

/// Best certified pair ratio of a residual block on its own (a small
/// version of the network-level search; smaller still above
/// [`LARGE_BLOCK_INPUTS`], since this lower bound is only informative: the
/// network's lower bound has its own search). Deterministic: fixed counts,
/// no time budget.
fn residual_lower_bound(node: &Node, threads: usize) -> Result<f64> {
    let block = super::layer::Network {
        input_shape: node.shape_in.clone(),
        nodes: vec![node.clone()],
    };
    let large = node.shape_in.iter().product::<usize>() > LARGE_BLOCK_INPUTS;
    let options = super::lower_bounds::LowerBoundOptions {
        pairs: if large { 4 } else { 8 },
        jacobian_points: if large { 1 } else { 3 },
        power_steps: if large { 8 } else { 10 },
        ascent_steps: if large { 0 } else { 10 },
        ascent_restarts: 0,
        threads,
        ..Default::default()
    };
    Ok(super::lower_bounds::empirical_lower_bounds(&block, &options)?.best)
}

/// Upper bound on σ(DA) for a convolution A and a diagonal D = diag(d_c)
/// constant per output channel, given floats d̂_c with |d_c − d̂_c| ≤ δ.
///
/// Used for a convolution followed by an eval-mode batch norm,
/// x ↦ D(Ax + b − μ) + β with d_c = γ_c/√(var_c + ε) (constant σ(DA), often
/// well below σ(D)·σ(A); δ from the outward-rounded enclosure of each d_c),
/// and for a convolution followed by PReLU ([`prelu_output_scales`]). The
/// folded kernel
/// K̂′ = fl(d̂·K) = D̂K + E, |E| ≤ u|D̂K| ≤ u(1 + u)|K̂′| entrywise:
/// DA = A_{K̂′} − A_E + (D − D̂)A, so
/// σ(DA) ≤ σ(A_{K̂′}) + u(1 + u)·√(‖A_{|K̂′|}‖₁‖A_{|K̂′|}‖∞) + δ·σ(A)
/// (triangle inequality; Proof: proofs/theories/Norms.v, `spectral_le_sqrt_l1_linf`).
/// Only for zero padding (the √(ℓ₁ℓ∞) bound of [`ConvLayer::abs_norm_up`]).
fn conv_scaled_upper(
    conv: &super::conv_layer::ConvLayer,
    conv_upper: f64,
    d_hat: &[f64],
    delta: f64,
    threads: usize,
) -> Result<Option<f64>> {
    if conv.mode != crate::conv::PaddingMode::Zeros || d_hat.len() != conv.c_out {
        return Ok(None);
    }
    let per = conv.kernel.len() / conv.c_out;
    let mut folded = Vec::with_capacity(conv.kernel.len());
    for (c, d) in d_hat.iter().enumerate() {
        folded.extend(conv.kernel[c * per..(c + 1) * per].iter().map(|k| d * k));
    }
    let folded_conv = super::conv_layer::ConvLayer::with_mode(
        folded,
        [
            conv.c_out,
            conv.c_in / conv.groups,
            conv.kernel_hw.0,
            conv.kernel_hw.1,
        ],
        None,
        conv.c_in,
        conv.in_hw,
        conv.stride,
        conv.padding,
        conv.dilation,
        conv.groups,
        conv.mode,
    )?;
    let (_, folded_upper, g) = folded_conv.lipschitz_with(threads)?;
    if g != Guarantee::Rigorous {
        return Ok(None);
    }
    Ok(Some(add_up(
        add_up(folded_upper, folded_rounding_term(&folded_conv)),
        mul_up(delta, conv_upper),
    )))
}

/// A bound on ‖C_E‖ for the rounding E = fl(w·K) − w·K of a kernel
/// K̂′ = fl(w·K) folded with scales w (one rounding per entry):
/// |E| ≤ u(1 + 2u)|K̂′| + η/2 entrywise (the η/2 for products that
/// underflow), so ‖C_E‖ ≤ u(1 + 2u)·√(‖C_{|K̂′|}‖₁‖C_{|K̂′|}‖∞) + η·|K̂′|
/// ([`ConvLayer::abs_norm_up`](super::conv_layer::ConvLayer::abs_norm_up);
/// a matrix with entries ≤ η/2 and at most |K̂′| nonzeros per row and
/// column has norm ≤ η·|K̂′|/2).
pub(crate) fn folded_rounding_term(folded: &super::conv_layer::ConvLayer) -> f64 {
    add_up(
        mul_up(
            mul_up(
                crate::rounding::UNIT_ROUNDOFF,
                1.0 + 2.0 * crate::rounding::UNIT_ROUNDOFF,
            ),
            folded.abs_norm_up(),
        ),
        mul_up(crate::rounding::ETA, folded.kernel.len() as f64),
    )
}

/// The f64 batch-norm scales d̂_c = fl(γ_c/√(var_c + ε)) and a bound δ on
/// max_c |d_c − d̂_c| for the exact d_c (from outward-rounded enclosures of
/// |d_c|; d_c and d̂_c share the sign of γ_c).
pub(crate) fn bn_scales(gamma: &[f64], var: &[f64], eps: f64) -> (Vec<f64>, f64) {
    let mut delta = 0.0f64;
    let d_hat = gamma
        .iter()
        .zip(var)
        .map(|(g, v)| {
            let lo = div_down(g.abs(), sqrt_up(add_up(*v, eps)));
            let up = div_up(g.abs(), sqrt_down(add_down(*v, eps)));
            let d = g / (v + eps).sqrt();
            delta = delta.max(sub_up(up, d.abs())).max(sub_up(d.abs(), lo));
            d
        })
        .collect();
    (d_hat, delta)
}

/// Upper bound on σ(DW) for a dense W and a diagonal D (|d_i − d̂_i| ≤ δ):
/// a linear layer followed by an eval-mode batch norm on its features, or
/// by PReLU ([`prelu_output_scales`]):
/// σ(DW) ≤ σ(fl(D̂W)) + u(1 + u)‖fl(D̂W)‖_F + η·√(mn) + δ·σ(W), by the
/// same argument as for convolutions (‖E‖₂ ≤ ‖E‖_F; Proof: proofs/theories/Norms.v, `spectral_le_frobenius`).
fn linear_scaled_upper(
    weight: &DenseMatrix,
    weight_upper: f64,
    d_hat: &[f64],
    delta: f64,
    options: &SigmaOptions,
) -> Result<Option<f64>> {
    if d_hat.len() != weight.nrows() {
        return Ok(None);
    }
    let folded = DenseMatrix::from_fn(weight.nrows(), weight.ncols(), |i, j| {
        d_hat[i] * weight.get(i, j)
    })?;
    let e = sigma(&folded, options)?;
    if e.guarantee() != Guarantee::Rigorous {
        return Ok(None);
    }
    let rounding_term = add_up(
        mul_up(
            mul_up(
                crate::rounding::UNIT_ROUNDOFF,
                1.0 + 2.0 * crate::rounding::UNIT_ROUNDOFF,
            ),
            folded.frobenius_up(),
        ),
        mul_up(
            crate::rounding::ETA,
            sqrt_up((weight.nrows() * weight.ncols()) as f64),
        ),
    );
    Ok(Some(add_up(
        add_up(e.upper(), rounding_term),
        mul_up(delta, weight_upper),
    )))
}

/// The per-output scales L_g = max over the coordinates of group g of
/// max(1, |a_i|) of a PReLU layer read in `groups` equal groups (output
/// channels of a convolution, features of a dense layer); `None` for other
/// layers or when one scale would do (no tightening).
///
/// Theorem: if every coordinate map satisfies |φ_i(s) − φ_i(t)| ≤ L_i|s − t|
/// (PReLU: slopes 1 and a_i, so L_i = max(1, |a_i|), exact), then for any
/// affine map x ↦ Ax + b, ‖φ(Ax + b) − φ(Ay + b)‖² = Σ_i (φ_i(·) − φ_i(·))²
/// ≤ Σ_i L_i²((A(x − y))_i)² = ‖diag(L)A(x − y)‖², so
/// Lip(φ(A· + b)) ≤ σ(diag(L)A) ≤ σ(A)·max L_i. Proof:
/// proofs/theories/Lipschitz.v, `componentwise_weighted`.
fn prelu_output_scales(e: &super::elementwise::Elementwise, groups: usize) -> Option<Vec<f64>> {
    let d = prelu_channel_scales(e, groups)?;
    let first = d[0];
    d.iter().any(|v| *v != first).then_some(d)
}

/// PReLU's largest |difference quotient| per channel block, max(1, |a_i|)
/// over the block's slopes, for `groups` equal blocks of its coordinates
/// (`None` for other maps or when the coordinates do not split evenly).
pub(crate) fn prelu_channel_scales(
    e: &super::elementwise::Elementwise,
    groups: usize,
) -> Option<Vec<f64>> {
    let super::elementwise::Elementwise::PRelu { slopes } = e else {
        return None;
    };
    if groups == 0 || slopes.is_empty() || slopes.len() % groups != 0 {
        return None;
    }
    let per = slopes.len() / groups;
    Some(
        slopes
            .chunks(per)
            .map(|c| c.iter().fold(1.0f64, |m, a| m.max(a.abs())))
            .collect(),
    )
}

/// After certifying `nodes`, records joint bounds of adjacent pairs that
/// fold (convolution or dense layer + batch norm, or + PReLU with
/// per-channel slopes) in the first node's `with_next_upper`.
fn record_pair_bounds(nodes: &mut [Node], options: &SigmaOptions) -> Result<()> {
    for i in 0..nodes.len().saturating_sub(1) {
        let (head, tail) = nodes.split_at_mut(i + 1);
        let (a, b) = (&mut head[i], &tail[0]);
        let Some(upper) = a.bound.as_ref().map(|b| b.upper) else {
            continue;
        };
        let joint = match (&a.layer, &b.layer) {
            (
                Layer::Conv2d(conv),
                Layer::BatchNorm {
                    gamma, var, eps, ..
                },
            ) => {
                let (d_hat, delta) = bn_scales(gamma, var, *eps);
                conv_scaled_upper(conv, upper, &d_hat, delta, options.threads)?
            }
            (
                Layer::Linear { weight, .. },
                Layer::BatchNorm {
                    gamma,
                    var,
                    eps,
                    spatial: 1,
                    ..
                },
            ) => {
                let (d_hat, delta) = bn_scales(gamma, var, *eps);
                linear_scaled_upper(weight, upper, &d_hat, delta, options)?
            }
            (Layer::Conv2d(conv), Layer::Elementwise(e)) => {
                match prelu_output_scales(e, conv.c_out) {
                    Some(d) => conv_scaled_upper(conv, upper, &d, 0.0, options.threads)?,
                    None => None,
                }
            }
            (Layer::Linear { weight, .. }, Layer::Elementwise(e)) => {
                match prelu_output_scales(e, weight.nrows()) {
                    Some(d) => linear_scaled_upper(weight, upper, &d, 0.0, options)?,
                    None => None,
                }
            }
            _ => None,
        };
        if let (Some(j), Some(bound)) = (joint, a.bound.as_mut()) {
            bound.with_next_upper = Some(j);
        }
    }
    for i in 0..nodes.len() {
        if let Some(group) = super::pool_group::pooled_conv_upper(&nodes[i..], options.threads)? {
            if let Some(bound) = nodes[i].bound.as_mut() {
                bound.group_upper = Some(group);
            }
        }
    }
    Ok(())
}

fn activation(c: constants::ConstantEnclosure) -> (f64, f64, Guarantee, &'static str) {
    (c.lower, c.upper, Guarantee::Rigorous, c.reason)
}

/// The Lipschitz constant √m of max pooling, m = the largest number of
/// windows containing one input (m = m_h·m_w for product windows).
///
/// Upper bound: |max a − max b| ≤ maxᵢ|aᵢ − bᵢ|, so the squared output
/// change is at most the sum over windows of the squared window changes,
/// which counts each input at most m times. Attained: the spike e_p at a
/// most-covered position p against 0 changes exactly m outputs by 1.
/// Proof: proofs/theories/Activations.v, `maxpool_lipschitz`, `maxpool_attained`.
pub fn maxpool_constant(pool: &Pool2d) -> (f64, f64) {
    sqrt_enclosure((pool.rows.max_cover() * pool.cols.max_cover()) as f64)
}

/// Enclosure of the spectral norm of an average-pooling layer.
///
/// Per channel the map is A = A_h ⊗ A_w, where A_h (A_w) has entry
/// 1/d_i on window i along the height (width) and the 2-D divisor is the
/// product d_h·d_w (true for count_include_pad = true, false, and adaptive
/// pooling). Channels are independent copies, so σ = σ(A_h)·σ(A_w) (singular
/// values of a Kronecker product are products of singular values: Horn &
/// Johnson, *Topics in Matrix Analysis*, Thm 4.2.15). 1/d is not always a
/// float, so each factor is bounded above with entries rounded up and below
/// with entries rounded down: for entrywise nonnegative matrices
/// 0 ≤ A ≤ A′ implies σ(A) ≤ σ(A′), because ‖Ax‖ ≤ ‖A|x|‖ ≤ ‖A′|x|‖.
/// When the windows along an axis are disjoint (stride ≥ kernel span) the
/// factor's norm is exact in closed form: max √(window size)/divisor.
pub fn avg_pool_norm(pool: &Pool2d, options: &SigmaOptions) -> Result<(f64, f64)> {
    if pool.rows.windows_disjoint() && pool.cols.windows_disjoint() {
        // Disjoint 2-D windows: A Aᵀ is diagonal, σ = max √(count)/divisor
        // over the 2-D windows (count and divisor exact integer products).
        let (mut lo, mut up) = (0.0f64, 0.0f64);
        for (wi, di) in pool.rows.windows.iter().zip(&pool.rows.divisors) {
            for (wj, dj) in pool.cols.windows.iter().zip(&pool.cols.divisors) {
                let (sl, su) = sqrt_enclosure((wi.len() * wj.len()) as f64);
                let d = (di * dj) as f64;
                lo = lo.max(div_enclosure(sl, d).0);
                up = up.max(div_enclosure(su, d).1);
            }
        }
        return Ok((lo, up));
    }
    let mut lo = 1.0;
    let mut up = 1.0;
    for axis in [&pool.rows, &pool.cols] {
        if axis.windows_disjoint() {
            // Disjoint windows: the rows of A_axis have disjoint supports, so
            // A Aᵀ is diagonal and σ = max_i ‖row_i‖ = max_i √|w_i| / d_i.
            let (mut l, mut u) = (0.0f64, 0.0f64);
            for (w, d) in axis.windows.iter().zip(&axis.divisors) {
                let (sl, su) = sqrt_enclosure(w.len() as f64);
                l = l.max(div_down(sl, *d as f64));
                u = u.max(div_up(su, *d as f64));
            }
            lo = mul_down(lo, l);
            up = mul_up(up, u);
            continue;
        }
        let (m, n) = (axis.output_len(), axis.input_len);
        let a_up = DenseMatrix::from_row_major(m, n, &axis.average_matrix(div_up))?;
        let a_lo = DenseMatrix::from_row_major(m, n, &axis.average_matrix(div_down))?;
        up = mul_up(up, sigma(&a_up, options)?.upper());
        lo = mul_down(lo, sigma(&a_lo, options)?.lower());
    }
    Ok((lo, up))
}

/// Enclosure of max_c |γ_c|/√(var_c + ε) (the exact real value for the
/// stored numbers), with outward rounding of the sum, the square root and
/// the quotient.
pub fn batchnorm_norm(gamma: &[f64], var: &[f64], eps: f64) -> Result<(f64, f64)> {
    let mut lo = 0.0f64;
    let mut up = 0.0f64;
    for (g, v) in gamma.iter().zip(var) {
        let den_down = sqrt_down(add_down(*v, eps));
        if den_down <= 0.0 {
            return Err(Error::InvalidOption(format!(
                "batch norm variance {v} + eps {eps} is not positive enough to bound 1/sqrt(var + eps)"
            )));
        }
        up = up.max(div_up(g.abs(), den_down));
        lo = lo.max(div_down(g.abs(), sqrt_up(add_up(*v, eps))));
    }
    Ok((lo, up))
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;

    /// x·2^1200 as an exact integer (x finite, |x| ≥ 2^-1074).
    fn exact(x: f64) -> BigInt {
        let bits = x.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as i64;
        let frac = (bits & ((1u64 << 52) - 1)) as i64;
        let (m, e) = if exp == 0 {
            (frac, -1074)
        } else {
            (frac | (1i64 << 52), exp - 1075)
        };
        let v = BigInt::from(m) << ((e + 1200) as usize);
        if x < 0.0 {
            -v
        } else {
            v
        }
    }

    #[test]
    fn tight_directed_operations_are_upper_bounds_and_exact_when_possible() {
        let mut s = 0x1234_5678_9abc_def0u64;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 4.0
        };
        for _ in 0..2000 {
            let (a, b) = (next(), next());
            let sum = add_up_tight(a, b);
            assert!(exact(sum) >= exact(a) + exact(b));
            assert!(sum == a + b || sum == (a + b).next_up());
            let p = mul_up_tight(a, b);
            // compare p·2^1200·2^1200 with a·b·2^2400
            assert!(exact(p) << 1200usize >= exact(a) * exact(b));
            assert!(p == a * b || p == (a * b).next_up());
        }
        assert_eq!(add_up_tight(1.0, 1.0), 2.0);
        assert_eq!(mul_up_tight(0.5, 3.0), 1.5);
        assert_eq!(sqrt_enclosure(9.0), (3.0, 3.0));
        assert_eq!(div_enclosure(2.0, 4.0), (0.5, 0.5));
        for (a, b) in [(1.0, 3.0), (2.0, 7.0), (10.0, 9.0), (1.0, 10.0)] {
            let (lo, up) = div_enclosure(a, b);
            assert!(lo < up && up == lo.next_up());
            // lo·b ≤ a ≤ up·b exactly
            assert!(exact(lo) * exact(b) <= exact(a) << 1200usize);
            assert!(exact(up) * exact(b) >= exact(a) << 1200usize);
        }
        let (l, u) = sqrt_enclosure(2.0);
        assert!(l < u && exact(l) * exact(l) < BigInt::from(2) << 2400usize);
        assert!(exact(u) * exact(u) > BigInt::from(2) << 2400usize);
    }
}
