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
use crate::rounding::{add_down, add_up, div_down, div_up, mul_down, mul_up, sqrt_down, sqrt_up};
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
    for (i, node) in nodes.iter_mut().enumerate() {
        certify_node(node, options)
            .map_err(|e| Error::InvalidOption(format!("layer {i} ({}): {e}", node.kind)))?;
        progress(i + 1, total);
    }
    Ok(())
}

/// Product of the upper bounds of certified nodes (rounded upward) and the
/// combined guarantee. Errors if a node is not certified.
pub fn composed_upper(nodes: &[Node]) -> Result<(f64, Guarantee)> {
    let mut up = 1.0;
    let mut g = Guarantee::Rigorous;
    for n in nodes {
        let b = n.bound.as_ref().ok_or_else(|| {
            Error::InvalidOption(format!("layer '{}' has not been certified", n.kind))
        })?;
        up = mul_up(up, b.upper);
        g = g.combine(b.guarantee);
    }
    Ok((up, g))
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
            let (l, u, r) = conv.lipschitz(options)?;
            (l, u, Guarantee::Rigorous, r)
        }
        Layer::Relu => activation(constants::relu()),
        Layer::LeakyRelu(a) => activation(constants::leaky_relu(*a)?),
        Layer::Sigmoid => activation(constants::sigmoid()),
        Layer::Tanh => activation(constants::tanh()),
        Layer::Gelu => activation(constants::gelu()),
        Layer::Silu => activation(constants::silu()?),
        Layer::Softmax { len, .. } => activation(constants::softmax(*len)),
        Layer::MaxPool2d { pool, .. } => {
            let m = (pool.rows.max_cover() * pool.cols.max_cover()) as f64;
            (
                sqrt_down(m),
                sqrt_up(m),
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
                    add_up(1.0, b),
                    gb,
                    "residual: 1 + Lip(body) (identity shortcut)",
                ),
                Some(s) => {
                    certify_nodes(s, options, &mut ignore)?;
                    let (su, gs) = composed_upper(s)?;
                    (
                        0.0,
                        add_up(su, b),
                        gb.combine(gs),
                        "residual: Lip(shortcut) + Lip(body)",
                    )
                }
            }
        }
    };
    node.bound = Some(LayerBound {
        lower,
        upper,
        guarantee,
        reason,
        seconds: start.elapsed().as_secs_f64(),
    });
    Ok(())
}

fn activation(c: constants::ConstantEnclosure) -> (f64, f64, Guarantee, &'static str) {
    (c.lower, c.upper, Guarantee::Rigorous, c.reason)
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
pub fn avg_pool_norm(pool: &Pool2d, options: &SigmaOptions) -> Result<(f64, f64)> {
    let mut lo = 1.0;
    let mut up = 1.0;
    for axis in [&pool.rows, &pool.cols] {
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
