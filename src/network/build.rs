//! Resolving a [`NetworkSpec`] against its weights: tensors looked up by name,
//! shapes inferred and checked layer by layer, every error naming the layer.

use super::conv_layer::ConvLayer;
use super::layer::{Layer, Network, Node};
use super::pool::{Pool2d, Windows1d};
use super::spec::{BatchNormSpec, ConvPadding, IntOrPair, LayerSpec, NetworkSpec};
use super::weights::{Tensor, Weights};
use crate::budget::{product, total, MemoryBudget};
use crate::error::{Error, Result};
use crate::matrix::DenseMatrix;

fn err(ctx: &str, msg: impl std::fmt::Display) -> Error {
    Error::InvalidOption(format!("{ctx}: {msg}"))
}

fn finite(t: &Tensor, name: &str, ctx: &str) -> Result<Vec<f64>> {
    if let Some((i, v)) = t.data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(err(
            ctx,
            format!("tensor '{name}' has a non-finite value {v} at flat index {i}"),
        ));
    }
    Ok(t.data.clone())
}

fn vector(weights: &Weights, name: &str, len: usize, ctx: &str) -> Result<Vec<f64>> {
    let t = weights.get(name, ctx)?;
    if t.shape.iter().product::<usize>() != len || t.shape.len() != 1 {
        return Err(err(
            ctx,
            format!("tensor '{name}' has shape {:?}, expected [{len}]", t.shape),
        ));
    }
    finite(t, name, ctx)
}

impl Network {
    /// Builds the network described by `spec` with tensors from `weights`.
    ///
    /// ```
    /// use lipcert::network::{spec::NetworkSpec, weights::{Tensor, Weights}, layer::Network};
    /// let spec = NetworkSpec::from_json(r#"{"weights": "-", "input_shape": [3],
    ///   "layers": [{"type": "linear", "weight": "fc.weight"}, {"type": "tanh"}]}"#).unwrap();
    /// let mut w = Weights::new();
    /// w.insert("fc.weight", Tensor::new(vec![2, 3], vec![1.0; 6]).unwrap());
    /// let net = Network::from_spec(&spec, &w).unwrap();
    /// assert_eq!(net.output_shape(), &[2]);
    /// ```
    pub fn from_spec(spec: &NetworkSpec, weights: &Weights) -> Result<Network> {
        Self::from_spec_with(spec, weights, &MemoryBudget::default())
    }

    /// [`Network::from_spec`] with an explicit memory budget: the tables a
    /// layer builds (pooling windows, padding maps) are estimated and checked
    /// against `budget` before they are allocated, and every shape is
    /// computed with checked arithmetic (a size that overflows is an error
    /// naming the layer, never a wrapped-around shape).
    pub fn from_spec_with(
        spec: &NetworkSpec,
        weights: &Weights,
        budget: &MemoryBudget,
    ) -> Result<Network> {
        if spec.input_shape.is_empty() || spec.input_shape.contains(&0) {
            return Err(Error::InvalidOption(format!(
                "network spec: input_shape {:?} must be non-empty with positive dimensions",
                spec.input_shape
            )));
        }
        if checked_len(&spec.input_shape).is_none() {
            return Err(Error::InvalidOption(format!(
                "network spec: input_shape {:?} has more entries than fit in 64 bits",
                spec.input_shape
            )));
        }
        let build = Build { weights, budget };
        let (nodes, _) = build.list(&spec.layers, &spec.input_shape, "layer ")?;
        Ok(Network {
            input_shape: spec.input_shape.clone(),
            nodes,
        })
    }
}

/// The number of entries of a shape, `None` when it overflows `usize`.
pub fn checked_len(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

/// What every layer is built against.
struct Build<'a> {
    weights: &'a Weights,
    budget: &'a MemoryBudget,
}

impl Build<'_> {
    fn list(
        &self,
        layers: &[LayerSpec],
        shape: &[usize],
        prefix: &str,
    ) -> Result<(Vec<Node>, Vec<usize>)> {
        let mut shape = shape.to_vec();
        let mut nodes = Vec::with_capacity(layers.len());
        for (i, l) in layers.iter().enumerate() {
            let ctx = layer_path(prefix, i, l.type_name());
            let node = build_one(l, &shape, self, &ctx)?;
            if checked_len(&node.shape_out).is_none() {
                return Err(err(
                    &ctx,
                    format!(
                        "output shape {:?} has more entries than fit in 64 bits",
                        node.shape_out
                    ),
                ));
            }
            shape = node.shape_out.clone();
            nodes.push(node);
        }
        Ok((nodes, shape))
    }

    /// Checks the memory of a pooling layer's window tables (and, for an
    /// average, its two averaging matrices) before they are built: about
    /// out·(48 + 8·window) + 8·in bytes per axis for the windows and
    /// 8·out·in per axis for each of the two matrices.
    fn pool_memory(
        &self,
        ctx: &str,
        axes: [(usize, usize, usize); 2],
        average: bool,
    ) -> Result<()> {
        let per_axis = |(input, out, window): (usize, usize, usize)| {
            // Windows, plus one count per input position (max-pool cover).
            let windows = total(&[
                product(&[out as u64, (window as u64).checked_add(6)?, 8]),
                product(&[input as u64, 8]),
            ]);
            let matrices = if average {
                product(&[out as u64, input as u64, 16])
            } else {
                Some(0)
            };
            total(&[windows, matrices])
        };
        self.budget.check(
            &format!("{ctx}: the pooling windows"),
            total(&[per_axis(axes[0]), per_axis(axes[1])]),
        )
    }
}

fn chw(shape: &[usize], ctx: &str) -> Result<(usize, usize, usize)> {
    match shape {
        [c, h, w] => Ok((*c, *h, *w)),
        _ => Err(err(
            ctx,
            format!("needs a C×H×W input, got shape {shape:?}"),
        )),
    }
}

fn build_one(l: &LayerSpec, shape: &[usize], build: &Build<'_>, ctx: &str) -> Result<Node> {
    let weights = build.weights;
    let n: usize = checked_len(shape).ok_or_else(|| {
        err(
            ctx,
            format!("input shape {shape:?} has more entries than fit in 64 bits"),
        )
    })?;
    let same = |layer: Layer| -> Result<(Layer, Vec<usize>)> { Ok((layer, shape.to_vec())) };
    let (layer, shape_out) = match l {
        LayerSpec::Linear { weight, bias } => {
            let [n_in] = shape else {
                return Err(err(
                    ctx,
                    format!("needs a flat input, got shape {shape:?} (add a flatten layer)"),
                ));
            };
            let t = weights.get(weight, ctx)?;
            let [out, inp] = t.shape[..] else {
                return Err(err(
                    ctx,
                    format!(
                        "weight '{weight}' has shape {:?}, expected [out, in]",
                        t.shape
                    ),
                ));
            };
            if inp != *n_in {
                return Err(err(
                    ctx,
                    format!("weight '{weight}' is {out}×{inp} but the input has {n_in} features"),
                ));
            }
            let data = finite(t, weight, ctx)?;
            let w = DenseMatrix::from_row_major(out, inp, &data).map_err(|e| err(ctx, e))?;
            let bias = bias
                .as_ref()
                .map(|b| vector(weights, b, out, ctx))
                .transpose()?;
            (Layer::Linear { weight: w, bias }, vec![out])
        }
        LayerSpec::Conv2d {
            weight,
            bias,
            stride,
            padding,
            padding_mode,
            dilation,
            groups,
        } => {
            let (c, h, w) = chw(shape, ctx)?;
            let mode: crate::conv::PaddingMode = padding_mode.parse().map_err(|e| err(ctx, e))?;
            let t = weights.get(weight, ctx)?;
            let [co, cig, kh, kw] = t.shape[..] else {
                return Err(err(
                    ctx,
                    format!(
                        "weight '{weight}' has shape {:?}, expected [C_out, C_in/groups, kh, kw]",
                        t.shape
                    ),
                ));
            };
            let dil = dilation.pair();
            let st = stride.pair();
            let pad = match padding {
                ConvPadding::Size(p) => {
                    let (a, b) = p.pair();
                    (a, a, b, b)
                }
                ConvPadding::Named(s) if s == "valid" => (0, 0, 0, 0),
                ConvPadding::Named(s) if s == "same" => {
                    if st != (1, 1) {
                        return Err(err(ctx, "padding='same' requires stride 1 (as in PyTorch)"));
                    }
                    let total_pad = |d: usize, k: usize| {
                        d.checked_mul(k.max(1) - 1)
                            .ok_or_else(|| err(ctx, format!("dilation {d} × kernel {k} overflows")))
                    };
                    let th = total_pad(dil.0, kh)?;
                    let tw = total_pad(dil.1, kw)?;
                    (th / 2, th - th / 2, tw / 2, tw - tw / 2)
                }
                ConvPadding::Named(s) => {
                    return Err(err(
                        ctx,
                        format!("padding '{s}' must be a number, a pair, 'valid' or 'same'"),
                    ))
                }
            };
            // The operator's padding maps (16 bytes per padded position) and
            // kernel copies, before they are built.
            let padded = |n: usize, a: usize, b: usize| n.checked_add(a)?.checked_add(b);
            let maps = padded(h, pad.0, pad.1)
                .zip(padded(w, pad.2, pad.3))
                .and_then(|(a, b)| a.checked_add(b));
            build.budget.check(
                &format!("{ctx}: the convolution's padding maps"),
                total(&[
                    maps.and_then(|m| product(&[m as u64, 16])),
                    product(&[t.data.len() as u64, 24]),
                ]),
            )?;
            let data = finite(t, weight, ctx)?;
            let bias = bias
                .as_ref()
                .map(|b| vector(weights, b, co, ctx))
                .transpose()?;
            let conv = ConvLayer::with_mode(
                data,
                [co, cig, kh, kw],
                bias,
                c,
                (h, w),
                st,
                pad,
                dil,
                *groups,
                mode,
            )
            .map_err(|e| err(ctx, e))?;
            let (oh, ow) = conv.out_hw;
            (Layer::Conv2d(Box::new(conv)), vec![co, oh, ow])
        }
        LayerSpec::ConvTranspose2d {
            weight,
            bias,
            stride,
            padding,
            output_padding,
            groups,
            dilation,
        } => {
            let (c, h, w) = chw(shape, ctx)?;
            let t = weights.get(weight, ctx)?;
            let [ci, cog, kh, kw] = t.shape[..] else {
                return Err(err(
                    ctx,
                    format!(
                        "weight '{weight}' has shape {:?}, expected [C_in, C_out/groups, kh, kw]",
                        t.shape
                    ),
                ));
            };
            build.budget.check(
                &format!("{ctx}: the transposed convolution's kernel copies"),
                product(&[t.data.len() as u64, 24]),
            )?;
            let data = finite(t, weight, ctx)?;
            let co = cog
                .checked_mul(*groups)
                .ok_or_else(|| err(ctx, "C_out/groups × groups overflows"))?;
            let bias = bias
                .as_ref()
                .map(|b| vector(weights, b, co, ctx))
                .transpose()?;
            let axis = |input, kernel, s: usize, d: usize, p: usize, op: usize| {
                super::conv_transpose_layer::TransposeAxis {
                    input,
                    kernel,
                    stride: s,
                    dilation: d,
                    pad_begin: p,
                    pad_end: p,
                    output_padding: op,
                }
            };
            let (st, dil, pad, op) = (
                stride.pair(),
                dilation.pair(),
                padding.pair(),
                output_padding.pair(),
            );
            let layer = super::conv_transpose_layer::ConvTransposeLayer::new(
                data,
                [ci, cog, kh, kw],
                bias,
                c,
                *groups,
                axis(h, kh, st.0, dil.0, pad.0, op.0),
                axis(w, kw, st.1, dil.1, pad.1, op.1),
            )
            .map_err(|e| err(ctx, e))?;
            let (oh, ow) = layer.out_hw();
            (Layer::ConvTranspose2d(Box::new(layer)), vec![co, oh, ow])
        }
        LayerSpec::Relu => same(Layer::Relu)?,
        LayerSpec::LeakyRelu { negative_slope } => {
            if !negative_slope.is_finite() {
                return Err(err(
                    ctx,
                    format!("negative_slope {negative_slope} is not finite"),
                ));
            }
            same(Layer::LeakyRelu(*negative_slope))?
        }
        LayerSpec::Sigmoid => same(Layer::Sigmoid)?,
        LayerSpec::Tanh => same(Layer::Tanh)?,
        LayerSpec::Silu => same(Layer::Silu)?,
        LayerSpec::Gelu { approximate } => match approximate.as_str() {
            "none" => same(Layer::Gelu)?,
            "tanh" => same(Layer::GeluTanh)?,
            other => {
                return Err(err(
                    ctx,
                    format!("approximate='{other}' must be 'none' or 'tanh'"),
                ))
            }
        },
        LayerSpec::Softmax { dim } | LayerSpec::LogSoftmax { dim } => {
            let d = shape.len() as i64;
            let axis = if *dim < 0 { d + dim } else { *dim };
            if axis < 0 || axis >= d {
                return Err(err(
                    ctx,
                    format!("dim {dim} is out of range for shape {shape:?}"),
                ));
            }
            let axis = axis as usize;
            let outer = shape[..axis].iter().product();
            let inner = shape[axis + 1..].iter().product();
            let len = shape[axis];
            if matches!(l, LayerSpec::LogSoftmax { .. }) {
                same(Layer::LogSoftmax { outer, len, inner })?
            } else {
                same(Layer::Softmax { outer, len, inner })?
            }
        }
        LayerSpec::Maxpool2d {
            kernel,
            stride,
            padding,
            dilation,
            ceil_mode,
        } => {
            let (c, h, w) = chw(shape, ctx)?;
            if *ceil_mode {
                return Err(err(ctx, "ceil_mode=true is not supported"));
            }
            let pool = strided_pool(
                h, w, *kernel, *stride, *padding, *dilation, true, false, build, ctx,
            )?;
            let (oh, ow) = pool.output_hw();
            (Layer::MaxPool2d { channels: c, pool }, vec![c, oh, ow])
        }
        LayerSpec::Avgpool2d {
            kernel,
            stride,
            padding,
            ceil_mode,
            count_include_pad,
        } => {
            let (c, h, w) = chw(shape, ctx)?;
            if *ceil_mode {
                return Err(err(ctx, "ceil_mode=true is not supported"));
            }
            let pool = strided_pool(
                h,
                w,
                *kernel,
                *stride,
                *padding,
                IntOrPair::One(1),
                *count_include_pad,
                true,
                build,
                ctx,
            )?;
            let (oh, ow) = pool.output_hw();
            (Layer::AvgPool2d { channels: c, pool }, vec![c, oh, ow])
        }
        LayerSpec::AdaptiveAvgpool2d { output_size } => {
            let (c, h, w) = chw(shape, ctx)?;
            let (oh, ow) = output_size.pair();
            let window = |input: usize, out: usize| input / out.max(1) + 2;
            build.pool_memory(ctx, [(h, oh, window(h, oh)), (w, ow, window(w, ow))], true)?;
            let pool = Pool2d {
                rows: Windows1d::adaptive(h, oh).map_err(|e| err(ctx, e))?,
                cols: Windows1d::adaptive(w, ow).map_err(|e| err(ctx, e))?,
            };
            (Layer::AvgPool2d { channels: c, pool }, vec![c, oh, ow])
        }
        LayerSpec::GlobalAvgpool2d => {
            let (c, h, w) = chw(shape, ctx)?;
            build.pool_memory(ctx, [(h, 1, h), (w, 1, w)], true)?;
            let pool = Pool2d {
                rows: Windows1d::adaptive(h, 1).map_err(|e| err(ctx, e))?,
                cols: Windows1d::adaptive(w, 1).map_err(|e| err(ctx, e))?,
            };
            (Layer::AvgPool2d { channels: c, pool }, vec![c, 1, 1])
        }
        LayerSpec::Batchnorm1d(bn) => {
            if !(shape.len() == 1 || shape.len() == 2) {
                return Err(err(
                    ctx,
                    format!("batchnorm1d needs a [C] or [C, L] input, got {shape:?}"),
                ));
            }
            (batchnorm(bn, shape, weights, ctx)?, shape.to_vec())
        }
        LayerSpec::Batchnorm2d(bn) => {
            chw(shape, ctx)?;
            (batchnorm(bn, shape, weights, ctx)?, shape.to_vec())
        }
        LayerSpec::Flatten => (Layer::Flatten, vec![n]),
        LayerSpec::Residual { body, shortcut } => {
            if body.is_empty() {
                return Err(err(ctx, "residual body is empty"));
            }
            let (body_nodes, body_shape) = build.list(body, shape, &format!("{ctx}.body["))?;
            let (short_nodes, short_shape) = match shortcut {
                Some(s) if !s.is_empty() => {
                    let (nodes, sh) = build.list(s, shape, &format!("{ctx}.shortcut["))?;
                    (Some(nodes), sh)
                }
                _ => (None, shape.to_vec()),
            };
            if body_shape != short_shape {
                return Err(err(ctx, format!(
                    "body output shape {body_shape:?} differs from shortcut output shape {short_shape:?}"
                )));
            }
            (
                Layer::Residual {
                    body: body_nodes,
                    shortcut: short_nodes,
                },
                body_shape,
            )
        }
    };
    Ok(Node {
        kind: l.type_name(),
        layer,
        shape_in: shape.to_vec(),
        shape_out,
        bound: None,
    })
}

/// The path of layer `i` of a list: `layer 3 (conv2d)` at the top,
/// `layer 4 (residual).body[0] (conv2d)` inside a residual block (errors
/// from nested lists carry the whole path, so they are not wrapped again).
pub fn layer_path(prefix: &str, i: usize, kind: &str) -> String {
    if prefix.ends_with('[') {
        format!("{prefix}{i}] ({kind})")
    } else {
        format!("{prefix}{i} ({kind})")
    }
}

#[allow(clippy::too_many_arguments)]
fn strided_pool(
    h: usize,
    w: usize,
    kernel: IntOrPair,
    stride: Option<IntOrPair>,
    padding: IntOrPair,
    dilation: IntOrPair,
    count_include_pad: bool,
    average: bool,
    build: &Build<'_>,
    ctx: &str,
) -> Result<Pool2d> {
    let (kh, kw) = kernel.pair();
    let (sh, sw) = stride.unwrap_or(kernel).pair();
    let (ph, pw) = padding.pair();
    let (dh, dw) = dilation.pair();
    let oh = Windows1d::strided_output_len(h, kh, sh, ph, dh).map_err(|e| err(ctx, e))?;
    let ow = Windows1d::strided_output_len(w, kw, sw, pw, dw).map_err(|e| err(ctx, e))?;
    build.pool_memory(ctx, [(h, oh, kh), (w, ow, kw)], average)?;
    Ok(Pool2d {
        rows: Windows1d::strided(h, kh, sh, ph, dh, count_include_pad).map_err(|e| err(ctx, e))?,
        cols: Windows1d::strided(w, kw, sw, pw, dw, count_include_pad).map_err(|e| err(ctx, e))?,
    })
}

fn batchnorm(bn: &BatchNormSpec, shape: &[usize], weights: &Weights, ctx: &str) -> Result<Layer> {
    let c = shape[0];
    let spatial = shape[1..].iter().product();
    if !(bn.eps.is_finite() && bn.eps >= 0.0) {
        return Err(err(
            ctx,
            format!("eps {:e} must be finite and nonnegative", bn.eps),
        ));
    }
    // The running statistics first: they must hold C values, which bounds C
    // by real tensors before the default γ = 1, β = 0 are allocated.
    let mean = vector(weights, &bn.running_mean, c, ctx)?;
    let var = vector(weights, &bn.running_var, c, ctx)?;
    let gamma = match &bn.weight {
        Some(name) => vector(weights, name, c, ctx)?,
        None => vec![1.0; c],
    };
    let beta = match &bn.bias {
        Some(name) => vector(weights, name, c, ctx)?,
        None => vec![0.0; c],
    };
    if let Some((i, v)) = var
        .iter()
        .enumerate()
        .find(|(_, v)| **v + bn.eps <= 0.0 || **v < 0.0)
    {
        return Err(err(
            ctx,
            format!(
                "running_var[{i}] = {v:e} with eps {:e}: var + eps must be positive (var ≥ 0)",
                bn.eps
            ),
        ));
    }
    Ok(Layer::BatchNorm {
        gamma,
        beta,
        mean,
        var,
        eps: bn.eps,
        spatial,
    })
}
