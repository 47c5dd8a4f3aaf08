//! Constant folding: operators whose inputs are all constants (initializers,
//! `Constant` nodes, shapes known statically) are evaluated at import, so
//! weights built by `Constant`, `ConstantOfShape`, `Shape`, `Gather`,
//! `Concat`, `Unsqueeze`, `Reshape`, … chains become plain tensors.
//!
//! Float arithmetic is done in f64 (each result is the exact real value of
//! the operation rounded once; an f32 runtime may round differently). The
//! folded tensors are then the stored numbers lipcert certifies.

use super::error::{invalid, unsupported, OnnxResult};
use super::proto::{AttributeProto, NodeProto};
use super::shapes::{self, axis};
use super::tensor::{decode, element_count, ConstTensor, Values};
use std::collections::HashMap;
use std::path::Path;

/// A node's attributes by name.
pub struct Attrs<'a> {
    map: HashMap<&'a str, &'a AttributeProto>,
    ctx: String,
}

impl<'a> Attrs<'a> {
    /// Collects the attributes of `node`; `ctx` names the node in errors.
    pub fn new(node: &'a NodeProto, ctx: &str) -> Self {
        let map = node
            .attribute
            .iter()
            .map(|a| (a.name.as_deref().unwrap_or(""), a))
            .collect();
        Self {
            map,
            ctx: ctx.to_string(),
        }
    }

    /// True when the attribute is present.
    pub fn has(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// An INT attribute.
    pub fn int(&self, name: &str, default: i64) -> OnnxResult<i64> {
        match self.map.get(name) {
            None => Ok(default),
            Some(a) => a.i.ok_or_else(|| self.wrong(name, "an integer")),
        }
    }

    /// A FLOAT attribute (widened exactly to f64).
    pub fn float(&self, name: &str, default: f64) -> OnnxResult<f64> {
        match self.map.get(name) {
            None => Ok(default),
            Some(a) => {
                a.f.map(|f| f as f64)
                    .ok_or_else(|| self.wrong(name, "a float"))
            }
        }
    }

    /// An INTS attribute (`None` when absent).
    pub fn ints(&self, name: &str) -> OnnxResult<Option<Vec<i64>>> {
        match self.map.get(name) {
            None => Ok(None),
            Some(a) => {
                if a.r#type.is_some_and(|t| t != 7) {
                    return Err(self.wrong(name, "a list of integers"));
                }
                Ok(Some(a.ints.clone()))
            }
        }
    }

    /// A FLOATS attribute (`None` when absent).
    pub fn floats(&self, name: &str) -> OnnxResult<Option<Vec<f64>>> {
        match self.map.get(name) {
            None => Ok(None),
            Some(a) => {
                if a.r#type.is_some_and(|t| t != 6) {
                    return Err(self.wrong(name, "a list of floats"));
                }
                Ok(Some(a.floats.iter().map(|&f| f as f64).collect()))
            }
        }
    }

    /// A STRING attribute.
    pub fn string(&self, name: &str, default: &str) -> OnnxResult<String> {
        match self.map.get(name) {
            None => Ok(default.to_string()),
            Some(a) => {
                a.s.as_ref()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .ok_or_else(|| self.wrong(name, "a string"))
            }
        }
    }

    /// A TENSOR attribute.
    pub fn tensor(&self, name: &str, dir: &Path) -> OnnxResult<Option<ConstTensor>> {
        match self.map.get(name) {
            None => Ok(None),
            Some(a) => match &a.t {
                Some(t) => decode(t, dir).map(Some),
                None => Err(self.wrong(name, "a tensor")),
            },
        }
    }

    fn wrong(&self, name: &str, what: &str) -> super::error::OnnxError {
        invalid(format!("{}: attribute '{name}' is not {what}", self.ctx))
    }
}

fn take(t: &ConstTensor, map: &[usize], shape: Vec<usize>) -> ConstTensor {
    let values = match &t.values {
        Values::Float(v) => Values::Float(map.iter().map(|&i| v[i]).collect()),
        Values::Int(v) => Values::Int(map.iter().map(|&i| v[i]).collect()),
    };
    ConstTensor { shape, values }
}

fn reshaped(t: &ConstTensor, shape: Vec<usize>) -> ConstTensor {
    ConstTensor {
        shape,
        values: t.values.clone(),
    }
}

/// The axes of Squeeze/Unsqueeze/Reduce*: the `axes` attribute before
/// opset 13, the second input from 13 on.
pub fn axes_arg(
    attrs: &Attrs,
    second: Option<&ConstTensor>,
    opset: i64,
    ctx: &str,
) -> OnnxResult<Option<Vec<i64>>> {
    if opset >= 13 {
        second.map(|t| t.as_i64(ctx)).transpose()
    } else {
        attrs.ints("axes")
    }
}

/// Output shape of Unsqueeze.
pub fn unsqueeze_shape(shape: &[usize], axes: &[i64], ctx: &str) -> OnnxResult<Vec<usize>> {
    let r = shape.len() + axes.len();
    let mut ax: Vec<usize> = axes
        .iter()
        .map(|&a| axis(a, r, ctx))
        .collect::<OnnxResult<_>>()?;
    ax.sort_unstable();
    ax.dedup();
    if ax.len() != axes.len() {
        return Err(invalid(format!("{ctx}: repeated unsqueeze axis")));
    }
    let mut out = Vec::with_capacity(r);
    let mut it = shape.iter();
    for i in 0..r {
        if ax.contains(&i) {
            out.push(1);
        } else {
            out.push(*it.next().expect("rank adds up"));
        }
    }
    Ok(out)
}

/// Output shape of Squeeze (all size-1 axes when `axes` is `None`).
pub fn squeeze_shape(shape: &[usize], axes: Option<&[i64]>, ctx: &str) -> OnnxResult<Vec<usize>> {
    match axes {
        None => Ok(shape.iter().copied().filter(|&d| d != 1).collect()),
        Some(a) => {
            let ax: Vec<usize> = a
                .iter()
                .map(|&a| axis(a, shape.len(), ctx))
                .collect::<OnnxResult<_>>()?;
            for &i in &ax {
                if shape[i] != 1 {
                    return Err(invalid(format!(
                        "{ctx}: cannot squeeze axis {i} of size {}",
                        shape[i]
                    )));
                }
            }
            Ok(shape
                .iter()
                .enumerate()
                .filter(|(i, _)| !ax.contains(i))
                .map(|(_, &d)| d)
                .collect())
        }
    }
}

/// Output shape of Flatten at `axis`.
pub fn flatten_shape(shape: &[usize], ax: i64, ctx: &str) -> OnnxResult<Vec<usize>> {
    let r = shape.len() as i64;
    let a = if ax < 0 { ax + r } else { ax };
    if a < 0 || a > r {
        return Err(invalid(format!("{ctx}: flatten axis {ax} out of range")));
    }
    let a = a as usize;
    Ok(vec![shapes::prod(&shape[..a]), shapes::prod(&shape[a..])])
}

/// Slice arguments: starts, ends, axes, steps.
pub type SliceArgs = (Vec<i64>, Vec<i64>, Option<Vec<i64>>, Option<Vec<i64>>);

/// The Slice arguments (attributes before opset 10, inputs after).
pub fn slice_args(
    attrs: &Attrs,
    inputs: &[Option<&ConstTensor>],
    opset: i64,
    ctx: &str,
) -> OnnxResult<SliceArgs> {
    if opset < 10 {
        let starts = attrs
            .ints("starts")?
            .ok_or_else(|| invalid(format!("{ctx}: missing starts")))?;
        let ends = attrs
            .ints("ends")?
            .ok_or_else(|| invalid(format!("{ctx}: missing ends")))?;
        return Ok((starts, ends, attrs.ints("axes")?, None));
    }
    let get = |i: usize| {
        inputs
            .get(i)
            .copied()
            .flatten()
            .map(|t| t.as_i64(ctx))
            .transpose()
    };
    let starts = get(1)?.ok_or_else(|| invalid(format!("{ctx}: missing starts")))?;
    let ends = get(2)?.ok_or_else(|| invalid(format!("{ctx}: missing ends")))?;
    Ok((starts, ends, get(3)?, get(4)?))
}

/// Target shape of Reshape (attribute `shape` before opset 5, input after).
pub fn reshape_target(
    attrs: &Attrs,
    second: Option<&ConstTensor>,
    opset: i64,
    ctx: &str,
) -> OnnxResult<Vec<i64>> {
    if opset < 5 {
        return attrs
            .ints("shape")?
            .ok_or_else(|| invalid(format!("{ctx}: missing shape")));
    }
    second
        .ok_or_else(|| invalid(format!("{ctx}: the target shape must be a constant")))?
        .as_i64(ctx)
}

fn binary(op: &str, a: &ConstTensor, b: &ConstTensor, ctx: &str) -> OnnxResult<ConstTensor> {
    let shape = shapes::broadcast_shape(&a.shape, &b.shape, ctx)?;
    let ma = shapes::broadcast_map(&a.shape, &shape, ctx)?;
    let mb = shapes::broadcast_map(&b.shape, &shape, ctx)?;
    match (&a.values, &b.values) {
        (Values::Int(x), Values::Int(y)) => {
            let f = |p: i64, q: i64| -> Option<i64> {
                match op {
                    "Add" => p.checked_add(q),
                    "Sub" => p.checked_sub(q),
                    "Mul" => p.checked_mul(q),
                    "Div" => p.checked_div(q),
                    _ => None,
                }
            };
            let v = ma
                .iter()
                .zip(&mb)
                .map(|(&i, &j)| {
                    f(x[i], y[j]).ok_or_else(|| {
                        invalid(format!("{ctx}: integer {op} overflows or divides by zero"))
                    })
                })
                .collect::<OnnxResult<_>>()?;
            ConstTensor::int(shape, v)
        }
        _ => {
            let (x, y) = (a.as_f64(), b.as_f64());
            let v: Vec<f64> = ma
                .iter()
                .zip(&mb)
                .map(|(&i, &j)| match op {
                    "Add" => x[i] + y[j],
                    "Sub" => x[i] - y[j],
                    "Mul" => x[i] * y[j],
                    "Div" => x[i] / y[j],
                    _ => x[i].powf(y[j]),
                })
                .collect();
            if v.iter().any(|v| !v.is_finite()) {
                return Err(invalid(format!(
                    "{ctx}: folding {op} gives a non-finite value"
                )));
            }
            ConstTensor::float(shape, v)
        }
    }
}

/// Evaluates `node` on constant inputs (`None` for omitted optional
/// inputs); returns its outputs.
pub fn fold(
    node: &NodeProto,
    inputs: &[Option<&ConstTensor>],
    opset: i64,
    dir: &Path,
    ctx: &str,
) -> OnnxResult<Vec<ConstTensor>> {
    let op = node.op_type.as_deref().unwrap_or("");
    let attrs = Attrs::new(node, ctx);
    let input = |i: usize| -> OnnxResult<&ConstTensor> {
        inputs
            .get(i)
            .copied()
            .flatten()
            .ok_or_else(|| invalid(format!("{ctx}: missing input {i}")))
    };
    let one = |t: ConstTensor| Ok(vec![t]);
    match op {
        "Constant" => {
            if let Some(t) = attrs.tensor("value", dir)? {
                return one(t);
            }
            if attrs.has("value_float") {
                return one(ConstTensor::float(
                    vec![],
                    vec![attrs.float("value_float", 0.0)?],
                )?);
            }
            if let Some(v) = attrs.floats("value_floats")? {
                return one(ConstTensor::float(vec![v.len()], v)?);
            }
            if attrs.has("value_int") {
                return one(ConstTensor::int(vec![], vec![attrs.int("value_int", 0)?])?);
            }
            if let Some(v) = attrs.ints("value_ints")? {
                return one(ConstTensor::int(vec![v.len()], v)?);
            }
            Err(unsupported(format!(
                "{ctx}: Constant without a numeric value"
            )))
        }
        "ConstantOfShape" => {
            let dims = input(0)?.as_i64(ctx)?;
            if dims.iter().any(|&d| d < 0) {
                return Err(invalid(format!("{ctx}: negative dimension in {dims:?}")));
            }
            let shape: Vec<usize> = dims.iter().map(|&d| d as usize).collect();
            let n = element_count(&shape, ctx)?;
            let value = attrs
                .tensor("value", dir)?
                .unwrap_or(ConstTensor::float(vec![1], vec![0.0])?);
            if value.len() != 1 {
                return Err(invalid(format!("{ctx}: value must have one element")));
            }
            one(match value.values {
                Values::Float(v) => ConstTensor::float(shape, vec![v[0]; n])?,
                Values::Int(v) => ConstTensor::int(shape, vec![v[0]; n])?,
            })
        }
        "Identity" | "Dropout" => one(input(0)?.clone()),
        "Cast" => {
            let t = input(0)?;
            let to = attrs.int("to", 1)?;
            one(match to {
                1 | 10 | 11 | 16 => ConstTensor::float(t.shape.clone(), t.as_f64())?,
                2..=7 | 9 | 12 | 13 => ConstTensor::int(
                    t.shape.clone(),
                    t.as_f64().iter().map(|v| v.trunc() as i64).collect(),
                )?,
                _ => return Err(unsupported(format!("{ctx}: Cast to data type {to}"))),
            })
        }
        "Shape" => {
            let t = input(0)?;
            one(shape_tensor(&t.shape, &attrs, ctx)?)
        }
        "Size" => one(ConstTensor::int(vec![], vec![input(0)?.len() as i64])?),
        "Gather" => {
            let (data, idx) = (input(0)?, input(1)?);
            let (shape, map) = shapes::gather(
                &data.shape,
                attrs.int("axis", 0)?,
                &idx.as_i64(ctx)?,
                &idx.shape,
                ctx,
            )?;
            one(take(data, &map, shape))
        }
        "Concat" => {
            let parts: Vec<&ConstTensor> = inputs.iter().flatten().copied().collect();
            let first = parts
                .first()
                .ok_or_else(|| invalid(format!("{ctx}: no inputs")))?;
            let a = axis(attrs.int("axis", 0)?, first.shape.len(), ctx)?;
            let mut shape = first.shape.clone();
            shape[a] = 0;
            for p in &parts {
                if p.shape.len() != shape.len()
                    || p.shape
                        .iter()
                        .enumerate()
                        .any(|(i, &d)| i != a && d != first.shape[i])
                {
                    return Err(invalid(format!(
                        "{ctx}: concat of shapes that differ off the axis"
                    )));
                }
                shape[a] += p.shape[a];
            }
            let outer = shapes::prod(&shape[..a]);
            let inner = shapes::prod(&shape[a + 1..]);
            let floats = parts.iter().any(|p| p.is_float());
            let mut fv = Vec::new();
            let mut iv = Vec::new();
            for o in 0..outer {
                for p in &parts {
                    let chunk = p.shape[a] * inner;
                    if floats {
                        fv.extend_from_slice(&p.as_f64()[o * chunk..(o + 1) * chunk]);
                    } else if let Values::Int(v) = &p.values {
                        iv.extend_from_slice(&v[o * chunk..(o + 1) * chunk]);
                    }
                }
            }
            one(if floats {
                ConstTensor::float(shape, fv)?
            } else {
                ConstTensor::int(shape, iv)?
            })
        }
        "Unsqueeze" => {
            let t = input(0)?;
            let axes = axes_arg(&attrs, inputs.get(1).copied().flatten(), opset, ctx)?
                .ok_or_else(|| invalid(format!("{ctx}: missing axes")))?;
            one(reshaped(t, unsqueeze_shape(&t.shape, &axes, ctx)?))
        }
        "Squeeze" => {
            let t = input(0)?;
            let axes = axes_arg(&attrs, inputs.get(1).copied().flatten(), opset, ctx)?;
            one(reshaped(t, squeeze_shape(&t.shape, axes.as_deref(), ctx)?))
        }
        "Reshape" => {
            let t = input(0)?;
            let target = reshape_target(&attrs, inputs.get(1).copied().flatten(), opset, ctx)?;
            let shape = shapes::reshape(&t.shape, &target, attrs.int("allowzero", 0)? != 0, ctx)?;
            one(reshaped(t, shape))
        }
        "Flatten" => {
            let t = input(0)?;
            one(reshaped(
                t,
                flatten_shape(&t.shape, attrs.int("axis", 1)?, ctx)?,
            ))
        }
        "Transpose" => {
            let t = input(0)?;
            let perm = attrs
                .ints("perm")?
                .unwrap_or_else(|| (0..t.shape.len() as i64).rev().collect());
            let (shape, map) = shapes::transpose(&t.shape, &perm, ctx)?;
            one(take(t, &map, shape))
        }
        "Slice" => {
            let t = input(0)?;
            let (s, e, a, st) = slice_args(&attrs, inputs, opset, ctx)?;
            let (shape, map) = shapes::slice(&t.shape, &s, &e, a.as_deref(), st.as_deref(), ctx)?;
            one(take(t, &map, shape))
        }
        "Add" | "Sub" | "Mul" | "Div" | "Pow" => one(binary(op, input(0)?, input(1)?, ctx)?),
        "Neg" | "Sqrt" | "Reciprocal" | "Abs" | "Exp" | "Log" => {
            let t = input(0)?;
            if let (Values::Int(v), "Neg" | "Abs") = (&t.values, op) {
                let v = v
                    .iter()
                    .map(|&x| {
                        if op == "Neg" {
                            x.wrapping_neg()
                        } else {
                            x.wrapping_abs()
                        }
                    })
                    .collect();
                return one(ConstTensor::int(t.shape.clone(), v)?);
            }
            let v: Vec<f64> = t
                .as_f64()
                .iter()
                .map(|&x| match op {
                    "Neg" => -x,
                    "Sqrt" => x.sqrt(),
                    "Reciprocal" => 1.0 / x,
                    "Abs" => x.abs(),
                    "Exp" => x.exp(),
                    _ => x.ln(),
                })
                .collect();
            if v.iter().any(|v| !v.is_finite()) {
                return Err(invalid(format!(
                    "{ctx}: folding {op} gives a non-finite value"
                )));
            }
            one(ConstTensor::float(t.shape.clone(), v)?)
        }
        "Range" => {
            let (s, l, d) = (input(0)?, input(1)?, input(2)?);
            if s.is_float() || l.is_float() || d.is_float() {
                return Err(unsupported(format!("{ctx}: float Range")));
            }
            let (s, l, d) = (s.as_i64(ctx)?[0], l.as_i64(ctx)?[0], d.as_i64(ctx)?[0]);
            if d == 0 {
                return Err(invalid(format!("{ctx}: Range with delta 0")));
            }
            let n = ((l - s) as f64 / d as f64).ceil().max(0.0) as usize;
            element_count(&[n], ctx)?;
            one(ConstTensor::int(
                vec![n],
                (0..n as i64).map(|k| s + k * d).collect(),
            )?)
        }
        _ => Err(unsupported(format!(
            "{ctx}: constant folding of operator {op} is not implemented"
        ))),
    }
}

/// The output of Shape for a tensor of shape `shape` (with the `start`/`end`
/// attributes of opset 15).
pub fn shape_tensor(shape: &[usize], attrs: &Attrs, _ctx: &str) -> OnnxResult<ConstTensor> {
    let r = shape.len() as i64;
    let norm = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
    let s = norm(attrs.int("start", 0)?);
    let e = norm(attrs.int("end", r)?);
    let dims: Vec<i64> = if s < e {
        shape[s..e].iter().map(|&d| d as i64).collect()
    } else {
        vec![]
    };
    ConstTensor::int(vec![dims.len()], dims)
}
