//! Forward pass in f64 for every supported layer, with a rigorous bound on
//! its rounding error, and the Jacobian products J·v (forward mode) and Jᵀ·w
//! (reverse mode) used by the empirical lower bounds.
//!
//! # Forward error bound
//! For computed input x̂ with ‖x̂ − x‖ ≤ e, a layer g with certified constant
//! L and computed output ŷ = fl(g(x̂)) satisfies
//! ‖ŷ − g(x)‖ ≤ L·e + ‖fl(g(x̂)) − g(x̂)‖ (triangle inequality and the
//! Lipschitz property); the second term (the layer's *local* error) is bounded
//! per layer kind from the a-priori dot-product bound γₙ
//! (Higham, Lemma 3.1; proof: proofs/theories/FloatDot.v, `dot_error_bound`)
//! and, for the transcendental functions, the assumed accuracies below.
//! Residual blocks add the two branch bounds plus the rounding of the sum.
//!
//! The same argument applies to any group of layers h = g₂∘g₁ with a
//! certified constant L_h: ‖fl(g₂(fl(g₁(x̂)))) − h(x)‖ ≤ L_h·e + L₂·ℓ₁ + ℓ₂,
//! with ℓ₁, ℓ₂ the local errors at the computed values. So the input error
//! is carried through a layer with a joint bound on it and the next one (a
//! convolution and its batch norm, `with_next_upper`) by that joint bound,
//! and through a residual block by the block's own certified constant
//! (its bound, or the sum of its branches' when smaller), the branches then
//! contributing only their local errors (evaluated with input error 0).
//! On deep networks this is the difference between a product of per-layer
//! constants and a far smaller certified constant, compounded per block.
//!
//! Assumed accuracies (assumptions, not theorems): `exp` and `tanh` of the
//! platform libm within 4u resp. 8u relative error (see
//! [`super::constants::EXP_RELATIVE_ERROR`]); the GELU of
//! [`super::special::gelu`] within 2⁻⁴⁴·(|x| + |y|) absolute (its erf has
//! an a-priori error below 2⁻⁴⁵ and is tested against mpmath).

use super::layer::{Layer, Network, Node};
use super::lipschitz::composed_upper;
use super::special;
use crate::error::{Error, Result};
use crate::operator::LinearOperator;
use crate::rounding::{add_up, gamma, mul_up, norm2_up, sqrt_up, ETA, UNIT_ROUNDOFF};

const U: f64 = UNIT_ROUNDOFF;

/// Computes f(x) in f64.
///
/// ```
/// use lipcert::network::{spec::NetworkSpec, weights::{Tensor, Weights}, layer::Network, evaluate};
/// let spec = NetworkSpec::from_json(r#"{"weights": "-", "input_shape": [2],
///   "layers": [{"type": "linear", "weight": "w"}, {"type": "relu"}]}"#).unwrap();
/// let mut w = Weights::new();
/// w.insert("w", Tensor::new(vec![2, 2], vec![1.0, 0.0, 0.0, -1.0]).unwrap());
/// let net = Network::from_spec(&spec, &w).unwrap();
/// assert_eq!(evaluate::forward(&net, &[3.0, 4.0]).unwrap(), vec![3.0, 0.0]);
/// ```
pub fn forward(net: &Network, x: &[f64]) -> Result<Vec<f64>> {
    check_input(net, x)?;
    super::pass_count::count(1);
    Ok(nodes_forward(&net.nodes, x))
}

/// Computes ŷ = fl(f(x)) and a rigorous bound e with ‖ŷ − f(x)‖₂ ≤ e
/// (see the module docs; needs the certified layer bounds, so call
/// [`crate::network::certify::certify_layers`] first).
pub fn forward_with_error(net: &Network, x: &[f64]) -> Result<(Vec<f64>, f64)> {
    check_input(net, x)?;
    super::pass_count::count(2);
    nodes_forward_error(&net.nodes, x, 0.0, Precision::Plain)
}

/// [`forward_with_error`] with the dense and zero-padded convolution layers
/// evaluated by the compensated dot product Dot2 (as accurate as twice the
/// working precision; `network/accurate_affine.rs`), whose local error has no
/// γₖ‖|W|‖ term. Several times slower; for deep networks, where the plain
/// local errors amplified by the layer bounds swamp a pair's difference.
/// Convolutions share their output channels among `threads` threads (0: all
/// cores); each output is computed by one thread in a fixed order, so the
/// result does not depend on the count.
pub fn forward_with_error_accurate(
    net: &Network,
    x: &[f64],
    threads: usize,
) -> Result<(Vec<f64>, f64)> {
    check_input(net, x)?;
    nodes_forward_error(&net.nodes, x, 0.0, Precision::Compensated { threads })
}

/// How the affine layers of a forward-error evaluation are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Precision {
    /// Plain f64 (the layers' own products).
    Plain,
    /// Dot2 for dense and zero-padded convolution layers, convolutions on
    /// this many threads (0: all cores).
    Compensated {
        /// Threads of the convolutions.
        threads: usize,
    },
}

/// Forward-mode product J_f(x)·v (and f(x)).
pub fn jvp(net: &Network, x: &[f64], v: &[f64]) -> Result<(Vec<f64>, Vec<f64>)> {
    check_input(net, x)?;
    check_input(net, v)?;
    super::pass_count::count(2);
    Ok(nodes_jvp(&net.nodes, x, v))
}

/// Reverse-mode product J_f(x)ᵀ·w.
pub fn vjp(net: &Network, x: &[f64], w: &[f64]) -> Result<Vec<f64>> {
    check_input(net, x)?;
    if w.len() != net.output_len() {
        return Err(Error::ShapeMismatch {
            what: "cotangent length (network output size)",
            expected: net.output_len(),
            got: w.len(),
        });
    }
    super::pass_count::count(2);
    Ok(nodes_vjp(&net.nodes, x, w))
}

/// The rows of the Jacobian J_f(x) (row i = J_f(x)ᵀ·eᵢ), from one forward
/// pass and one reverse-mode pass per output: cheaper than power iteration
/// on JᵀJ when the network has few outputs (a classifier's logits).
pub(crate) fn jacobian_rows(net: &Network, x: &[f64]) -> Result<Vec<Vec<f64>>> {
    check_input(net, x)?;
    let m = net.output_len();
    super::pass_count::count(1 + m as u64);
    let unit_rows = (0..m)
        .map(|i| {
            let mut g = vec![0.0; m];
            g[i] = 1.0;
            g
        })
        .collect();
    Ok(nodes_vjp_batch(&net.nodes, x, unit_rows))
}

/// One forward pass through the composition of node lists `parts` (first
/// to last, e.g. a network's trunk then a prefix of one of its branches),
/// keeping each node's input for reverse passes ([`ChainPass::vjp_batch`]).
pub(crate) struct ChainPass<'a> {
    nodes: Vec<&'a Node>,
    inputs: Vec<Vec<f64>>,
    /// The composition's value at x.
    pub(crate) value: Vec<f64>,
}

impl<'a> ChainPass<'a> {
    /// The forward pass from `x` (counted as one pass).
    pub(crate) fn new(parts: &[&'a [Node]], x: &[f64]) -> Self {
        super::pass_count::count(1);
        let nodes: Vec<&Node> = parts.iter().flat_map(|p| p.iter()).collect();
        let mut inputs = Vec::with_capacity(nodes.len());
        let mut cur = x.to_vec();
        for n in &nodes {
            let next = node_forward(n, &cur);
            inputs.push(std::mem::replace(&mut cur, next));
        }
        Self {
            nodes,
            inputs,
            value: cur,
        }
    }

    /// J(x)ᵀ·w for each cotangent w of `ws`, by [`node_vjp_batch`] on the
    /// recorded inputs (counted as a VJP, 2, per cotangent).
    pub(crate) fn vjp_batch(&self, ws: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
        super::pass_count::count(2 * ws.len() as u64);
        self.nodes
            .iter()
            .zip(&self.inputs)
            .rev()
            .fold(ws, |gs, (n, xin)| node_vjp_batch(n, xin, gs))
    }
}

/// The input of every node of `nodes` on the forward pass from `x` (what
/// the reverse pass needs).
fn node_inputs(nodes: &[Node], x: &[f64]) -> Vec<Vec<f64>> {
    let mut inputs = Vec::with_capacity(nodes.len());
    let mut cur = x.to_vec();
    for n in nodes {
        let next = node_forward(n, &cur);
        inputs.push(std::mem::replace(&mut cur, next));
    }
    inputs
}

/// [`nodes_vjp`] for several cotangents at once: one forward pass, and
/// each diagonal node's derivatives computed once for all of them.
fn nodes_vjp_batch(nodes: &[Node], x: &[f64], mut gs: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    for (n, xin) in nodes.iter().zip(&node_inputs(nodes, x)).rev() {
        gs = node_vjp_batch(n, xin, gs);
    }
    gs
}

/// [`node_vjp`] for several cotangents: a diagonal (elementwise) node
/// multiplies each by its derivative vector, computed once, a max pool
/// routes each through the maxima it finds once, a residual block recurses
/// with the whole batch; any other node takes the cotangents one at a time.
fn node_vjp_batch(n: &Node, x: &[f64], gs: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    match &n.layer {
        Layer::Relu
        | Layer::LeakyRelu(_)
        | Layer::Sigmoid
        | Layer::Tanh
        | Layer::Gelu
        | Layer::GeluTanh
        | Layer::Silu
        | Layer::Elementwise(_) => {
            let d = diag_or_symmetric(n, x, &vec![1.0; x.len()]);
            gs.into_iter()
                .map(|mut g| {
                    g.iter_mut().zip(&d).for_each(|(g, d)| *g *= d);
                    g
                })
                .collect()
        }
        Layer::Residual { body, shortcut } => {
            let b = nodes_vjp_batch(body, x, gs.clone());
            let s = match shortcut {
                Some(s) => nodes_vjp_batch(s, x, gs),
                None => gs,
            };
            b.into_iter()
                .zip(s)
                .map(|(mut b, s)| {
                    b.iter_mut().zip(&s).for_each(|(b, s)| *b += s);
                    b
                })
                .collect()
        }
        Layer::MaxPool2d { channels, pool } => {
            let (_, arg) = pool.max_forward(*channels, x);
            gs.iter()
                .map(|g| route_to_maxima(&arg, x.len(), g))
                .collect()
        }
        _ => gs.iter().map(|g| node_vjp(n, x, g)).collect(),
    }
}

fn check_input(net: &Network, x: &[f64]) -> Result<()> {
    if x.len() != net.input_len() {
        return Err(Error::ShapeMismatch {
            what: "network input length",
            expected: net.input_len(),
            got: x.len(),
        });
    }
    if let Some(v) = x.iter().find(|v| !v.is_finite()) {
        return Err(Error::InvalidOption(format!(
            "network input has a non-finite value {v}"
        )));
    }
    Ok(())
}

fn nodes_forward(nodes: &[Node], x: &[f64]) -> Vec<f64> {
    let mut cur = x.to_vec();
    for n in nodes {
        cur = node_forward(n, &cur);
    }
    cur
}

fn matvec<A: LinearOperator>(a: &A, x: &[f64]) -> Vec<f64> {
    let mut y = vec![0.0; a.nrows()];
    a.apply(x, &mut y);
    y
}

fn matvec_t<A: LinearOperator>(a: &A, y: &[f64]) -> Vec<f64> {
    let mut x = vec![0.0; a.ncols()];
    a.apply_transpose(y, &mut x);
    x
}

fn bn_scale(gamma: &[f64], var: &[f64], eps: f64) -> Vec<f64> {
    gamma
        .iter()
        .zip(var)
        .map(|(g, v)| g / (v + eps).sqrt())
        .collect()
}

fn softmax_slices(outer: usize, len: usize, inner: usize, x: &[f64]) -> Vec<f64> {
    let mut y = vec![0.0; x.len()];
    for o in 0..outer {
        for i in 0..inner {
            let idx = |k: usize| (o * len + k) * inner + i;
            let m = (0..len)
                .map(|k| x[idx(k)])
                .fold(f64::NEG_INFINITY, f64::max);
            let mut s = 0.0;
            for k in 0..len {
                let e = (x[idx(k)] - m).exp();
                y[idx(k)] = e;
                s += e;
            }
            for k in 0..len {
                y[idx(k)] /= s;
            }
        }
    }
    y
}

/// One layer's forward map (no input checks; `x` of the layer's input size).
pub(crate) fn node_forward(n: &Node, x: &[f64]) -> Vec<f64> {
    match &n.layer {
        Layer::Linear { weight, bias } => {
            let mut y = matvec(weight, x);
            if let Some(b) = bias {
                y.iter_mut().zip(b).for_each(|(y, b)| *y += b);
            }
            y
        }
        Layer::Conv2d(c) => c.forward(x),
        Layer::ConvTranspose2d(c) => c.forward(x),
        Layer::Relu => x.iter().map(|&v| if v > 0.0 { v } else { 0.0 }).collect(),
        Layer::LeakyRelu(a) => x
            .iter()
            .map(|&v| if v >= 0.0 { v } else { a * v })
            .collect(),
        Layer::Sigmoid => x.iter().map(|&v| special::logistic(v)).collect(),
        Layer::Tanh => x.iter().map(|v| v.tanh()).collect(),
        Layer::Gelu => x.iter().map(|&v| special::gelu(v)).collect(),
        Layer::GeluTanh => x.iter().map(|&v| special::gelu_tanh(v)).collect(),
        Layer::Silu => x.iter().map(|&v| special::silu(v)).collect(),
        Layer::Softmax { outer, len, inner } => softmax_slices(*outer, *len, *inner, x),
        Layer::LogSoftmax { outer, len, inner } => {
            super::log_softmax::forward(*outer, *len, *inner, x)
        }
        Layer::MaxPool2d { channels, pool } => pool.max_forward(*channels, x).0,
        Layer::AvgPool2d { channels, pool } => pool.avg_forward(*channels, x),
        Layer::BatchNorm {
            gamma,
            beta,
            mean,
            var,
            eps,
            spatial,
        } => {
            let s = bn_scale(gamma, var, *eps);
            x.iter()
                .enumerate()
                .map(|(i, v)| {
                    let c = i / spatial;
                    (v - mean[c]) * s[c] + beta[c]
                })
                .collect()
        }
        Layer::Flatten => x.to_vec(),
        Layer::Residual { body, shortcut } => {
            let b = nodes_forward(body, x);
            let s = match shortcut {
                Some(s) => nodes_forward(s, x),
                None => x.to_vec(),
            };
            b.iter().zip(&s).map(|(a, b)| a + b).collect()
        }
        Layer::Elementwise(e) => e.forward(x),
        Layer::Select(s) => s.forward(x),
        Layer::Concat {
            branches,
            outer,
            inner,
            lens,
        } => {
            let parts: Vec<Vec<f64>> = branches.iter().map(|b| nodes_forward(b, x)).collect();
            concat_values(&parts, *outer, *inner, lens)
        }
    }
}

/// Interleaves branch outputs along the concatenation axis of an
/// (outer, Σ lens, inner) view.
fn concat_values(parts: &[Vec<f64>], outer: usize, inner: usize, lens: &[usize]) -> Vec<f64> {
    let mut y = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for o in 0..outer {
        for (p, len) in parts.iter().zip(lens) {
            y.extend_from_slice(&p[o * len * inner..(o + 1) * len * inner]);
        }
    }
    y
}

/// The inverse of [`concat_values`]: the part of `g` belonging to each branch.
fn concat_split(g: &[f64], outer: usize, inner: usize, lens: &[usize]) -> Vec<Vec<f64>> {
    let total: usize = lens.iter().sum();
    let mut parts: Vec<Vec<f64>> = lens
        .iter()
        .map(|l| Vec::with_capacity(outer * l * inner))
        .collect();
    for o in 0..outer {
        let mut off = o * total * inner;
        for (p, len) in parts.iter_mut().zip(lens) {
            p.extend_from_slice(&g[off..off + len * inner]);
            off += len * inner;
        }
    }
    parts
}

fn nodes_forward_error(
    nodes: &[Node],
    x: &[f64],
    err_in: f64,
    precision: Precision,
) -> Result<(Vec<f64>, f64)> {
    let mut cur = x.to_vec();
    let mut err = err_in;
    let mut i = 0;
    while i < nodes.len() {
        let n = &nodes[i];
        let joint = n.bound.as_ref().and_then(|b| b.with_next_upper);
        if let (Some(joint), Some(next)) = (joint, nodes.get(i + 1)) {
            // L_h·e + L₂·ℓ₁ + ℓ₂ (module docs): the pair's local errors
            // with input error 0, the input error through the joint bound.
            let (y1, l1) = node_forward_error(n, &cur, 0.0, precision)?;
            let (y2, l2) = node_forward_error(next, &y1, l1, precision)?;
            let through = joint.min(mul_up(node_upper(n)?, node_upper(next)?));
            err = finite_error(next, add_up(l2, mul_up(through, err)))?;
            cur = y2;
            i += 2;
            continue;
        }
        let (y, e) = node_forward_error(n, &cur, err, precision)?;
        cur = y;
        err = e;
        i += 1;
    }
    Ok((cur, err))
}

/// A node's certified upper bound (an error when it is not certified).
fn node_upper(n: &Node) -> Result<f64> {
    Ok(n.bound
        .as_ref()
        .ok_or_else(|| Error::InvalidOption(format!("layer '{}' is not certified yet", n.kind)))?
        .upper)
}

/// `e` when finite, else an overflow error naming the layer.
fn finite_error(n: &Node, e: f64) -> Result<f64> {
    if e.is_finite() {
        Ok(e)
    } else {
        Err(Error::Overflow {
            context: format!("forward error bound after layer '{}'", n.kind),
        })
    }
}

/// Relative factor that turns a bound in terms of ‖ŷ‖ into one in terms of
/// the exact ‖y‖ ≤ ‖ŷ‖/(1 − rel) for rel ≤ 1e−3.
const REL_MARGIN: f64 = 1.001;

/// `op` plus the rounding of an optional bias addition:
/// |fl(z + b) − (z + b)| ≤ u|fl(z + b)|/(1 − u) entrywise, so in the
/// 2-norm at most u/(1 − u)·‖fl(z + b)‖ ≤ u·[`REL_MARGIN`]·`ny`.
fn with_bias_rounding(op: f64, has_bias: bool, ny: f64) -> f64 {
    if has_bias {
        add_up(op, mul_up(U * REL_MARGIN, ny))
    } else {
        op
    }
}

fn node_forward_error(
    n: &Node,
    x: &[f64],
    err_in: f64,
    precision: Precision,
) -> Result<(Vec<f64>, f64)> {
    if let Layer::Residual { body, shortcut } = &n.layer {
        // The branches' local errors at x̂ (input error 0), and the input
        // error through a certified constant of the whole block: its own
        // bound, or the sum of the branches' composed bounds.
        let (b, eb) = nodes_forward_error(body, x, 0.0, precision)?;
        let (s, es, short) = match shortcut {
            Some(s) => {
                let (y, e) = nodes_forward_error(s, x, 0.0, precision)?;
                (y, e, composed_upper(s)?.0)
            }
            None => (x.to_vec(), 0.0, 1.0),
        };
        let through = node_upper(n)?.min(add_up(composed_upper(body)?.0, short));
        let y: Vec<f64> = b.iter().zip(&s).map(|(a, b)| a + b).collect();
        // |fl(a + b) − (a + b)| ≤ u|a + b| ≤ u|fl(a+b)|/(1 − u).
        let add = mul_up(mul_up(U, REL_MARGIN), norm2_up(&y));
        let e = add_up(add_up(add_up(eb, es), add), mul_up(through, err_in));
        return Ok((y, finite_error(n, e)?));
    }
    if let Layer::Concat {
        branches,
        outer,
        inner,
        lens,
    } = &n.layer
    {
        // Copies only: ‖(e_1, …, e_k)‖₂ ≤ Σ e_b.
        let mut parts = Vec::with_capacity(branches.len());
        let mut e = 0.0;
        for b in branches {
            let (y, eb) = nodes_forward_error(b, x, err_in, precision)?;
            parts.push(y);
            e = add_up(e, eb);
        }
        return Ok((concat_values(&parts, *outer, *inner, lens), e));
    }
    let lip = n
        .bound
        .as_ref()
        .ok_or_else(|| Error::InvalidOption(format!("layer '{}' is not certified yet", n.kind)))?
        .upper;
    if let Precision::Compensated { threads } = precision {
        let accurate = match &n.layer {
            Layer::Linear { weight, bias } => {
                super::accurate_affine::linear(weight, bias.as_deref(), x)
            }
            Layer::Conv2d(c) => super::accurate_affine::conv(c, x, threads),
            _ => None,
        };
        if let Some((y, local)) = accurate {
            return propagated(n, y, lip, err_in, local);
        }
    }
    let y = node_forward(n, x);
    let nx = norm2_up(x);
    let ny = norm2_up(&y);
    let len_out = y.len();
    let sqrt_n = sqrt_up(len_out as f64);
    let local = match &n.layer {
        Layer::Linear { weight, bias } => {
            let k = weight.ncols() + 1;
            let nb = bias.as_ref().map(|b| norm2_up(b)).unwrap_or(0.0);
            add_up(
                mul_up(gamma(k), add_up(mul_up(weight.frobenius_up(), nx), nb)),
                mul_up(sqrt_n, mul_up(k as f64, ETA)),
            )
        }
        // The operator's own bound for fl(Ax) (fl(Cᵀx) for the adjoint),
        // plus the bias addition.
        Layer::Conv2d(c) => with_bias_rounding(c.apply_error_bound(nx), c.bias.is_some(), ny),
        Layer::ConvTranspose2d(c) => {
            with_bias_rounding(c.apply_error_bound(nx), c.bias.is_some(), ny)
        }
        Layer::Relu | Layer::MaxPool2d { .. } | Layer::Flatten => 0.0,
        Layer::LeakyRelu(a) => add_up(mul_up(mul_up(U, a.abs()), nx), mul_up(sqrt_n, ETA)),
        Layer::Tanh => add_up(mul_up(8.0 * U, nx), mul_up(sqrt_n, ETA)),
        Layer::Sigmoid => add_up(mul_up(16.0 * U * REL_MARGIN, ny), mul_up(sqrt_n, 2.0 * ETA)),
        Layer::Silu => add_up(
            mul_up(32.0 * U * REL_MARGIN, ny),
            mul_up(sqrt_n, 1024.0 * ETA),
        ),
        Layer::Gelu => add_up(mul_up(2f64.powi(-44), add_up(nx, ny)), mul_up(sqrt_n, ETA)),
        // ½x(1 + t): t = tanh(g) with g to ~5u relative (|g'|·|Δg| ≤ 5u·|g|·sech²g ≤ 5u)
        // and tanh to 8u: |Δ(1 + t)| ≤ 14u, so |Δy| ≤ 8u|x| + u|y|.
        Layer::GeluTanh => add_up(mul_up(16.0 * U, add_up(nx, ny)), mul_up(sqrt_n, ETA)),
        Layer::Softmax { outer, len, inner } => {
            // Per entry: fl(x_k − m) has error ≤ u|x_k − m|, which exp turns
            // into a relative error ≤ 1.01·u·R (R = max |x_k − m| ≤ 700 before
            // the term underflows); exp itself 4u; the sum γ_len; the
            // division u. Numerator and denominator both carry the first two.
            let mut r = 0.0f64;
            for o in 0..*outer {
                for i in 0..*inner {
                    let idx = |k: usize| (o * len + k) * inner + i;
                    let m = (0..*len)
                        .map(|k| x[idx(k)])
                        .fold(f64::NEG_INFINITY, f64::max);
                    let lo = (0..*len).map(|k| x[idx(k)]).fold(f64::INFINITY, f64::min);
                    r = r.max(m - lo);
                }
            }
            let r = r.min(800.0) * (1.0 + 2.0 * U);
            let per = add_up(
                mul_up(2.0, add_up(mul_up(1.01 * U, r), 4.0 * U)),
                add_up(gamma(*len + 2), U),
            );
            add_up(
                mul_up(mul_up(per, REL_MARGIN), ny),
                mul_up(sqrt_n, mul_up(2.0 * (*len as f64), ETA)),
            )
        }
        Layer::LogSoftmax { outer, len, inner } => {
            super::log_softmax::local_error(*outer, *len, *inner, x, &y)
        }
        Layer::AvgPool2d { pool, .. } => {
            let k = pool.max_window() + 1;
            add_up(
                mul_up(mul_up(gamma(k), lip), nx),
                mul_up(sqrt_n, mul_up(k as f64, ETA)),
            )
        }
        Layer::BatchNorm {
            beta,
            mean,
            spatial,
            ..
        } => {
            let sp = sqrt_up(*spatial as f64);
            let inner = add_up(
                mul_up(lip, add_up(nx, mul_up(sp, norm2_up(mean)))),
                mul_up(sp, norm2_up(beta)),
            );
            add_up(
                mul_up(8.0 * U * REL_MARGIN, inner),
                mul_up(sqrt_n, 4.0 * ETA),
            )
        }
        Layer::Elementwise(e) => e.local_error(x, &y, lip),
        Layer::Select(_) => 0.0,
        Layer::Residual { .. } | Layer::Concat { .. } => unreachable!("handled above"),
    };
    propagated(n, y, lip, err_in, local)
}

/// The error after a layer with upper bound `lip`: lip·e_in (the exact
/// layer applied to the inexact input) plus the layer's own rounding.
fn propagated(n: &Node, y: Vec<f64>, lip: f64, err_in: f64, local: f64) -> Result<(Vec<f64>, f64)> {
    let e = add_up(mul_up(lip, err_in), local);
    if !e.is_finite() {
        return Err(Error::Overflow {
            context: format!("forward error bound after layer '{}'", n.kind),
        });
    }
    Ok((y, e))
}

fn nodes_jvp(nodes: &[Node], x: &[f64], v: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut cur = x.to_vec();
    let mut tan = v.to_vec();
    for n in nodes {
        let t = node_jvp(n, &cur, &tan);
        cur = node_forward(n, &cur);
        tan = t;
    }
    (cur, tan)
}

/// J·v for one layer at x (the diagonal / symmetric layers share
/// [`diag_or_symmetric`] with the transpose).
fn node_jvp(n: &Node, x: &[f64], v: &[f64]) -> Vec<f64> {
    match &n.layer {
        Layer::Linear { weight, .. } => matvec(weight, v),
        Layer::Conv2d(c) => c.apply_linear(v),
        Layer::ConvTranspose2d(c) => c.apply_linear(v),
        Layer::MaxPool2d { channels, pool } => {
            let (_, arg) = pool.max_forward(*channels, x);
            arg.iter().map(|&i| v[i]).collect()
        }
        Layer::AvgPool2d { channels, pool } => pool.avg_forward(*channels, v),
        Layer::Residual { body, shortcut } => {
            let (_, b) = nodes_jvp(body, x, v);
            let s = match shortcut {
                Some(s) => nodes_jvp(s, x, v).1,
                None => v.to_vec(),
            };
            b.iter().zip(&s).map(|(a, b)| a + b).collect()
        }
        Layer::Select(s) => s.apply(v),
        Layer::LogSoftmax { outer, len, inner } => {
            super::log_softmax::jvp(*outer, *len, *inner, x, v)
        }
        Layer::Concat {
            branches,
            outer,
            inner,
            lens,
        } => {
            let parts: Vec<Vec<f64>> = branches.iter().map(|b| nodes_jvp(b, x, v).1).collect();
            concat_values(&parts, *outer, *inner, lens)
        }
        _ => diag_or_symmetric(n, x, v),
    }
}

/// Layers whose Jacobian is diagonal or symmetric: J·v = Jᵀ·v.
fn diag_or_symmetric(n: &Node, x: &[f64], v: &[f64]) -> Vec<f64> {
    let diag = |f: &dyn Fn(f64) -> f64| x.iter().zip(v).map(|(&x, &v)| f(x) * v).collect();
    match &n.layer {
        Layer::Relu => diag(&|x| if x > 0.0 { 1.0 } else { 0.0 }),
        Layer::LeakyRelu(a) => {
            let a = *a;
            diag(&move |x| if x >= 0.0 { 1.0 } else { a })
        }
        Layer::Sigmoid => diag(&|x| {
            let s = special::logistic(x);
            s * (1.0 - s)
        }),
        Layer::Tanh => diag(&|x| {
            let t = x.tanh();
            1.0 - t * t
        }),
        Layer::Gelu => diag(&special::gelu_derivative),
        Layer::GeluTanh => diag(&special::gelu_tanh_derivative),
        Layer::Silu => diag(&special::silu_derivative),
        Layer::Flatten => v.to_vec(),
        Layer::Elementwise(e) => x
            .iter()
            .zip(v)
            .enumerate()
            .map(|(i, (&x, &v))| e.derivative(i, x) * v)
            .collect(),
        Layer::BatchNorm {
            gamma,
            var,
            eps,
            spatial,
            ..
        } => {
            let s = bn_scale(gamma, var, *eps);
            v.iter()
                .enumerate()
                .map(|(i, v)| v * s[i / spatial])
                .collect()
        }
        Layer::Softmax { outer, len, inner } => {
            let p = softmax_slices(*outer, *len, *inner, x);
            let mut out = vec![0.0; v.len()];
            for o in 0..*outer {
                for i in 0..*inner {
                    let idx = |k: usize| (o * len + k) * inner + i;
                    let pv: f64 = (0..*len).map(|k| p[idx(k)] * v[idx(k)]).sum();
                    for k in 0..*len {
                        out[idx(k)] = p[idx(k)] * (v[idx(k)] - pv);
                    }
                }
            }
            out
        }
        _ => unreachable!("not a diagonal or symmetric layer"),
    }
}

fn nodes_vjp(nodes: &[Node], x: &[f64], w: &[f64]) -> Vec<f64> {
    let mut g = w.to_vec();
    for (n, xin) in nodes.iter().zip(&node_inputs(nodes, x)).rev() {
        g = node_vjp(n, xin, &g);
    }
    g
}

/// The transpose of a max pool's Jacobian: output k's cotangent goes to
/// the input `arg[k]` that attained its maximum (inputs of length `len`).
fn route_to_maxima(arg: &[usize], len: usize, g: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; len];
    for (k, &i) in arg.iter().enumerate() {
        out[i] += g[k];
    }
    out
}

fn node_vjp(n: &Node, x: &[f64], g: &[f64]) -> Vec<f64> {
    match &n.layer {
        Layer::Linear { weight, .. } => matvec_t(weight, g),
        Layer::Conv2d(c) => c.apply_transposed(g),
        Layer::ConvTranspose2d(c) => c.apply_transposed(g),
        Layer::MaxPool2d { channels, pool } => {
            let (_, arg) = pool.max_forward(*channels, x);
            route_to_maxima(&arg, x.len(), g)
        }
        Layer::AvgPool2d { channels, pool } => pool.avg_transpose(*channels, g),
        Layer::Residual { body, shortcut } => {
            let b = nodes_vjp(body, x, g);
            let s = match shortcut {
                Some(s) => nodes_vjp(s, x, g),
                None => g.to_vec(),
            };
            b.iter().zip(&s).map(|(a, b)| a + b).collect()
        }
        Layer::Select(s) => s.apply_transpose(g),
        Layer::LogSoftmax { outer, len, inner } => {
            super::log_softmax::vjp(*outer, *len, *inner, x, g)
        }
        Layer::Concat {
            branches,
            outer,
            inner,
            lens,
        } => {
            let mut out = vec![0.0; x.len()];
            for (b, gb) in branches.iter().zip(concat_split(g, *outer, *inner, lens)) {
                let d = nodes_vjp(b, x, &gb);
                out.iter_mut().zip(&d).for_each(|(o, d)| *o += d);
            }
            out
        }
        _ => diag_or_symmetric(n, x, g),
    }
}
