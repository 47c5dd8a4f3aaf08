//! Static shapes and the index maps of the data-movement operators
//! (Transpose, Slice, Gather, Pad, Split, broadcasting): for every output
//! element, the flat index of the input element it copies, or
//! [`FILL`] for a padding value. The same maps evaluate constant subgraphs
//! and build [`crate::network::select::Select`] layers.

use super::error::{invalid, unsupported, OnnxResult};
use super::tensor::element_count;

pub use crate::network::select::FILL;

/// Row-major strides of `shape`.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// An axis attribute in [−rank, rank) as an index in [0, rank).
pub fn axis(a: i64, rank: usize, ctx: &str) -> OnnxResult<usize> {
    let r = rank as i64;
    if a < -r || a >= r {
        return Err(invalid(format!(
            "{ctx}: axis {a} out of range for rank {rank}"
        )));
    }
    Ok(if a < 0 { (a + r) as usize } else { a as usize })
}

/// For each multi-index of `out_shape` (row-major), `f(index)`.
pub fn index_map(
    out_shape: &[usize],
    ctx: &str,
    mut f: impl FnMut(&[usize]) -> usize,
) -> OnnxResult<Vec<usize>> {
    let n = element_count(out_shape, ctx)?;
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0usize; out_shape.len()];
    for _ in 0..n {
        out.push(f(&idx));
        for d in (0..idx.len()).rev() {
            idx[d] += 1;
            if idx[d] < out_shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    Ok(out)
}

/// Numpy (multidirectional) broadcast of two shapes.
pub fn broadcast_shape(a: &[usize], b: &[usize], ctx: &str) -> OnnxResult<Vec<usize>> {
    let r = a.len().max(b.len());
    let get = |s: &[usize], i: usize| {
        if i + s.len() >= r {
            s[i + s.len() - r]
        } else {
            1
        }
    };
    (0..r)
        .map(|i| {
            let (x, y) = (get(a, i), get(b, i));
            if x == y || y == 1 {
                Ok(x)
            } else if x == 1 {
                Ok(y)
            } else {
                Err(invalid(format!(
                    "{ctx}: shapes {a:?} and {b:?} do not broadcast"
                )))
            }
        })
        .collect()
}

/// The flat index in a tensor of shape `from` read by each element of the
/// broadcast shape `to` (`from` must broadcast to `to`).
pub fn broadcast_map(from: &[usize], to: &[usize], ctx: &str) -> OnnxResult<Vec<usize>> {
    if from.len() > to.len() {
        return Err(invalid(format!(
            "{ctx}: cannot broadcast {from:?} to {to:?}"
        )));
    }
    let off = to.len() - from.len();
    for (i, &d) in from.iter().enumerate() {
        if d != 1 && d != to[i + off] {
            return Err(invalid(format!(
                "{ctx}: cannot broadcast {from:?} to {to:?}"
            )));
        }
    }
    let st = strides(from);
    index_map(to, ctx, |idx| {
        from.iter()
            .enumerate()
            .map(|(i, &d)| if d == 1 { 0 } else { idx[i + off] * st[i] })
            .sum()
    })
}

/// Transpose by `perm` (output axis i is input axis perm\[i\]).
pub fn transpose(shape: &[usize], perm: &[i64], ctx: &str) -> OnnxResult<(Vec<usize>, Vec<usize>)> {
    let r = shape.len();
    let mut seen = vec![false; r];
    let mut p = Vec::with_capacity(r);
    for &a in perm {
        let a = axis(a, r, ctx)?;
        if seen[a] {
            return Err(invalid(format!("{ctx}: perm {perm:?} repeats axis {a}")));
        }
        seen[a] = true;
        p.push(a);
    }
    if p.len() != r {
        return Err(invalid(format!("{ctx}: perm {perm:?} has not {r} entries")));
    }
    let out: Vec<usize> = p.iter().map(|&a| shape[a]).collect();
    let st = strides(shape);
    let map = index_map(&out, ctx, |idx| {
        idx.iter().zip(&p).map(|(&i, &a)| i * st[a]).sum()
    })?;
    Ok((out, map))
}

/// ONNX Slice (opset 10+ semantics; earlier opsets pass steps of 1):
/// starts/ends clamped per axis, negative values counted from the end,
/// negative steps walk backwards.
pub fn slice(
    shape: &[usize],
    starts: &[i64],
    ends: &[i64],
    axes: Option<&[i64]>,
    steps: Option<&[i64]>,
    ctx: &str,
) -> OnnxResult<(Vec<usize>, Vec<usize>)> {
    let r = shape.len();
    if starts.len() != ends.len() {
        return Err(invalid(format!("{ctx}: starts and ends differ in length")));
    }
    let axes: Vec<usize> = match axes {
        Some(a) => a
            .iter()
            .map(|&a| axis(a, r, ctx))
            .collect::<OnnxResult<_>>()?,
        None => (0..starts.len()).collect(),
    };
    if axes.len() != starts.len() || steps.is_some_and(|s| s.len() != starts.len()) {
        return Err(invalid(format!(
            "{ctx}: starts, ends, axes, steps differ in length"
        )));
    }
    // per axis: (first, step, count)
    let mut plan: Vec<(i64, i64, usize)> = shape.iter().map(|&d| (0, 1, d)).collect();
    for (k, &a) in axes.iter().enumerate() {
        let d = shape[a] as i64;
        let step = steps.map(|s| s[k]).unwrap_or(1);
        if step == 0 {
            return Err(invalid(format!("{ctx}: slice step 0")));
        }
        let norm = |v: i64| if v < 0 { v.saturating_add(d) } else { v };
        let (mut s, mut e) = (norm(starts[k]), norm(ends[k]));
        let count = if step > 0 {
            s = s.clamp(0, d);
            e = e.clamp(0, d);
            if e > s {
                ((e - s) + step - 1) / step
            } else {
                0
            }
        } else {
            s = s.clamp(0, d - 1);
            e = e.clamp(-1, d - 1);
            if s > e {
                ((s - e) + (-step) - 1) / (-step)
            } else {
                0
            }
        };
        plan[a] = (s, step, count as usize);
    }
    let out: Vec<usize> = plan.iter().map(|p| p.2).collect();
    let st = strides(shape);
    let map = index_map(&out, ctx, |idx| {
        idx.iter()
            .enumerate()
            .map(|(a, &i)| ((plan[a].0 + plan[a].1 * i as i64) as usize) * st[a])
            .sum()
    })?;
    Ok((out, map))
}

/// ONNX Gather along `axis` with constant `indices` of shape `ishape`.
pub fn gather(
    shape: &[usize],
    ax: i64,
    indices: &[i64],
    ishape: &[usize],
    ctx: &str,
) -> OnnxResult<(Vec<usize>, Vec<usize>)> {
    let a = axis(ax, shape.len(), ctx)?;
    let d = shape[a] as i64;
    let idx: Vec<usize> = indices
        .iter()
        .map(|&i| {
            let j = if i < 0 { i + d } else { i };
            if j < 0 || j >= d {
                Err(invalid(format!(
                    "{ctx}: index {i} out of range for axis of length {d}"
                )))
            } else {
                Ok(j as usize)
            }
        })
        .collect::<OnnxResult<_>>()?;
    let mut out = shape[..a].to_vec();
    out.extend_from_slice(ishape);
    out.extend_from_slice(&shape[a + 1..]);
    let st = strides(shape);
    let ist = strides(ishape);
    let q = ishape.len();
    let map = index_map(&out, ctx, |m| {
        let mut flat = 0;
        for (i, &v) in m[..a].iter().enumerate() {
            flat += v * st[i];
        }
        let k: usize = m[a..a + q].iter().zip(&ist).map(|(v, s)| v * s).sum();
        flat += idx[k] * st[a];
        for (i, &v) in m[a + q..].iter().enumerate() {
            flat += v * st[a + 1 + i];
        }
        flat
    })?;
    Ok((out, map))
}

/// Padding modes of ONNX Pad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PadMode {
    /// A constant value.
    Constant,
    /// Mirror without repeating the edge.
    Reflect,
    /// Repeat the edge value.
    Edge,
    /// Wrap around.
    Wrap,
}

/// ONNX Pad with per-axis `begin`/`end` amounts (negative amounts crop).
pub fn pad(
    shape: &[usize],
    begin: &[i64],
    end: &[i64],
    mode: PadMode,
    ctx: &str,
) -> OnnxResult<(Vec<usize>, Vec<usize>)> {
    let r = shape.len();
    if begin.len() != r || end.len() != r {
        return Err(invalid(format!(
            "{ctx}: pads must have 2·rank = {} entries",
            2 * r
        )));
    }
    let mut out = Vec::with_capacity(r);
    for i in 0..r {
        let n = shape[i] as i64 + begin[i] + end[i];
        if n < 0 {
            return Err(invalid(format!("{ctx}: padding makes axis {i} negative")));
        }
        if mode != PadMode::Constant && shape[i] == 0 && n > 0 {
            return Err(invalid(format!("{ctx}: cannot {mode:?}-pad an empty axis")));
        }
        if mode == PadMode::Reflect
            && (begin[i] >= shape[i] as i64 || end[i] >= shape[i] as i64)
            && (begin[i] > 0 || end[i] > 0)
        {
            return Err(unsupported(format!(
                "{ctx}: reflect padding of {} / {} on an axis of length {}",
                begin[i], end[i], shape[i]
            )));
        }
        out.push(n as usize);
    }
    let st = strides(shape);
    let map = index_map(&out, ctx, |idx| {
        let mut flat = 0usize;
        for a in 0..r {
            let l = shape[a] as i64;
            let mut p = idx[a] as i64 - begin[a];
            if p < 0 || p >= l {
                match mode {
                    PadMode::Constant => return FILL,
                    PadMode::Edge => p = p.clamp(0, l - 1),
                    PadMode::Reflect => {
                        p = if p < 0 { -p } else { 2 * (l - 1) - p };
                    }
                    PadMode::Wrap => p = p.rem_euclid(l),
                }
            }
            flat += p as usize * st[a];
        }
        flat
    })?;
    Ok((out, map))
}

/// Output shape of Reshape: `0` copies the input dimension (unless
/// `allowzero`), `-1` is inferred.
pub fn reshape(
    shape: &[usize],
    target: &[i64],
    allowzero: bool,
    ctx: &str,
) -> OnnxResult<Vec<usize>> {
    let n = element_count(shape, ctx)?;
    let mut out = Vec::with_capacity(target.len());
    let mut infer = None;
    for (i, &t) in target.iter().enumerate() {
        match t {
            -1 => {
                if infer.replace(i).is_some() {
                    return Err(invalid(format!(
                        "{ctx}: two -1 in reshape target {target:?}"
                    )));
                }
                out.push(1);
            }
            0 if !allowzero => out.push(*shape.get(i).ok_or_else(|| {
                invalid(format!(
                    "{ctx}: reshape target {target:?} copies a missing dimension"
                ))
            })?),
            t if t >= 0 => out.push(t as usize),
            _ => return Err(invalid(format!("{ctx}: bad reshape target {target:?}"))),
        }
    }
    let known = element_count(&out, ctx)?;
    if let Some(i) = infer {
        if known == 0 || n % known != 0 {
            return Err(invalid(format!(
                "{ctx}: cannot reshape {shape:?} to {target:?}"
            )));
        }
        out[i] = n / known;
    } else if known != n {
        return Err(invalid(format!(
            "{ctx}: cannot reshape {shape:?} ({n} values) to {target:?}"
        )));
    }
    Ok(out)
}

/// Product of a slice of dimensions.
pub fn prod(s: &[usize]) -> usize {
    s.iter().product()
}
