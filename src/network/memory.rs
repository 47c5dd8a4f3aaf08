//! The memory a network certificate needs, estimated from the built network
//! before any layer is certified or evaluated (see [`crate::budget`]).
//!
//! Per layer (each checked on its own against the budget, so the error
//! names the layer): a linear layer needs what [`crate::sigma()`] needs for
//! its weight ([`sigma_memory_estimate`]), a convolution what
//! [`crate::conv::conv_sigma`] needs ([`conv_memory_estimate`]; a
//! convolution followed by a batch norm is certified once more folded, with
//! the same estimate). Pooling tables are checked while the network is built
//! ([`super::layer::Network::from_spec_with`]).
//!
//! The lower-bound search evaluates the network forward and backward: it
//! keeps every layer's input for the reverse pass plus a few work vectors
//! per layer (3·Σ activation sizes f64 values), sixteen input-sized search
//! vectors, and one im2col matrix of the largest convolution.

use super::layer::{Layer, Network, Node};
use super::lower_bounds::LowerBoundOptions;
use crate::budget::{f64s, total};
use crate::conv::{conv_memory_estimate, ConvOptions};
use crate::error::Result;
use crate::sigma::{sigma_memory_estimate, SigmaOptions};

/// Checks every layer's certificate, and the lower-bound search when `lower`
/// is set, against `sigma.memory`; the error names the first job over
/// budget (its layer path, e.g. `layer 4 (residual).body[0] (conv2d)`).
pub fn check_certify_memory(
    net: &Network,
    sigma: &SigmaOptions,
    lower: Option<&LowerBoundOptions>,
) -> Result<()> {
    check_nodes(&net.nodes, sigma, "layer ")?;
    if lower.is_some() {
        let mut activations = Some(net.input_len() as u64);
        let mut im2col = Some(0u64);
        walk(&net.nodes, &mut |n| {
            // Shapes were checked at build time: the product fits.
            let len = n.shape_out.iter().product::<usize>() as u64;
            activations = activations.and_then(|a| a.checked_add(len));
            let conv = match &n.layer {
                Layer::Conv2d(c) => Some(&**c),
                Layer::ConvTranspose2d(t) => Some(&t.conv),
                _ => None,
            };
            if let Some(c) = conv {
                let g = c.operator.geometry();
                let (oh, ow) = g.output_size();
                let need = f64s(&[oh, ow, g.c_in_per_group(), g.kh, g.kw]);
                im2col = match (im2col, need) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
        });
        let need = total(&[
            activations.and_then(|a| a.checked_mul(24)),
            f64s(&[16, net.input_len()]),
            im2col,
        ]);
        sigma.memory.check(
            "the lower-bound search (network evaluation buffers; --no-lower skips it)",
            need,
        )?;
    }
    Ok(())
}

fn walk(nodes: &[Node], f: &mut dyn FnMut(&Node)) {
    for n in nodes {
        f(n);
        if let Layer::Residual { body, shortcut } = &n.layer {
            walk(body, f);
            if let Some(s) = shortcut {
                walk(s, f);
            }
        }
    }
}

fn check_nodes(nodes: &[Node], sigma: &SigmaOptions, prefix: &str) -> Result<()> {
    for (i, n) in nodes.iter().enumerate() {
        let ctx = super::build::layer_path(prefix, i, n.kind);
        match &n.layer {
            Layer::Linear { weight, .. } => sigma.memory.check(
                &format!(
                    "{ctx}: σ of its {}x{} weight",
                    weight.nrows(),
                    weight.ncols()
                ),
                sigma_memory_estimate(weight.nrows(), weight.ncols(), sigma),
            )?,
            Layer::Conv2d(c) => {
                let g = c.operator.geometry();
                let options = ConvOptions {
                    memory: sigma.memory,
                    ..ConvOptions::default()
                };
                sigma.memory.check(
                    &format!("{ctx}: {}", g.description()),
                    conv_memory_estimate(g, &options),
                )?
            }
            Layer::ConvTranspose2d(t) => {
                // Certified through its adjoint convolution C.
                let g = t.conv.operator.geometry();
                let options = ConvOptions {
                    memory: sigma.memory,
                    ..ConvOptions::default()
                };
                sigma.memory.check(
                    &format!("{ctx}: adjoint of {}", g.description()),
                    conv_memory_estimate(g, &options),
                )?
            }
            Layer::Residual { body, shortcut } => {
                check_nodes(body, sigma, &format!("{ctx}.body["))?;
                if let Some(s) = shortcut {
                    check_nodes(s, sigma, &format!("{ctx}.shortcut["))?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}
