//! A joint bound for a concatenation of *heads*: branches that are linear
//! maps, each optionally followed by a softmax and then by linear maps of
//! norm at most 1 (transposes, flattens) — the output layer of detectors
//! and multi-task networks, e.g. MTCNN's `[bbox = Bz; p = softmax(Az)]`.
//!
//! # Theorem
//! Let branch b be f_b(x) = P_b·s_b(M_b x + c_b), where M_b is linear,
//! s_b is the identity or a softmax over slices of length n_b ≥ 2 of its
//! input, and ‖P_b‖ ≤ 1 (P_b = I without a softmax). For a softmax
//! branch, s(y) − s(y′) = (∫₀¹ J_s(y′ + t(y − y′)) dt)(y − y′) and every
//! J_s = diag(p) − ppᵀ (per slice) satisfies J_s·1 = 0, so J_s = J_s·C
//! with C the orthogonal projector that centres each slice, and
//! ‖J_s‖ ≤ ½ ([`super::constants::softmax`]). Hence with d = x − y,
//! ‖f(x) − f(y)‖² = Σ_b ‖f_b(x) − f_b(y)‖² ≤ Σ_b ‖K_b d‖² = ‖K d‖²,
//! K = [K_1; …; K_B], K_b = M_b (no softmax) or ½·C·M_b (softmax), so
//! Lip(concat) ≤ σ(K). The order in which the concatenation interleaves
//! the branches' entries does not change the norm. For MTCNN's two-class
//! head, ½·C·A = ¼[[1, −1], [−1, 1]]A and σ(K) is the head's exact
//! constant (attained at equal logits), against √(Σ Lip(branch)²).
//!
//! # Floating point
//! K̂ is built as a [`Tracked`] matrix (‖K̂ − K‖₂ ≤ err, see that module):
//! linear nodes by [`apply_linear_node`], the centring by [`center_slices`]
//! below, the factor ½ by [`Tracked::scale`]; the blocks are stacked
//! exactly with err = √(Σ err_b²) (‖[E₁; E₂]‖₂² ≤ ‖E₁‖₂² + ‖E₂‖₂²), and
//! σ(K) ≤ σ_up(K̂) + err (Weyl) by [`Tracked::norm_upper`].

use super::bounds::tracked::{apply_linear_node, is_linear, Tracked};
use super::layer::{Layer, Node};
use crate::enclosure::Guarantee;
use crate::error::Result;
use crate::rounding::{add_up, div_up, gamma, mul_up, norm2_up, sqrt_up, ETA, UNIT_ROUNDOFF};
use crate::sigma::SigmaOptions;

/// Largest input dimension, and largest total output dimension, for which
/// the explicit matrix K is built (its columns are one per input).
pub const MAX_STACKED_DIM: usize = 4096;

/// σ(K) of the module docs for the branches of a concatenation with
/// `input_len` inputs, or `None` when a branch is not of the head form
/// (a nonlinear node other than one softmax, a node after the softmax with
/// a certified norm above 1) or K would be larger than
/// [`MAX_STACKED_DIM`]. The branches' nodes must be certified.
pub fn stacked_concat_upper(
    branches: &[Vec<Node>],
    input_len: usize,
    options: &SigmaOptions,
) -> Result<Option<(f64, Guarantee)>> {
    if input_len > MAX_STACKED_DIM {
        return Ok(None);
    }
    let mut blocks: Vec<Tracked> = Vec::with_capacity(branches.len());
    let mut rows = 0usize;
    for branch in branches {
        let Some(block) = head_block(branch, input_len)? else {
            return Ok(None);
        };
        rows += block.rows;
        if rows > MAX_STACKED_DIM {
            return Ok(None);
        }
        blocks.push(block);
    }
    let Some(stacked) = vconcat(&blocks) else {
        return Ok(None);
    };
    stacked.norm_upper(options).map(Some)
}

/// K_b for one branch (module docs), or `None` when it is not a head.
fn head_block(branch: &[Node], input_len: usize) -> Result<Option<Tracked>> {
    let mut m = Tracked::identity(input_len);
    let mut softmax_seen = false;
    for node in branch {
        match &node.layer {
            Layer::Softmax { outer, len, inner } if !softmax_seen && *len >= 2 => {
                let Some(centred) = center_slices(&m, *outer, *len, *inner) else {
                    return Ok(None);
                };
                let factor = super::constants::softmax(*len).upper;
                m = centred.scale(factor);
                softmax_seen = true;
            }
            layer if !softmax_seen && is_linear(layer) => m = apply_linear_node(node, &m)?,
            // After the softmax the block stays ½·C·M: later nodes must be
            // linear with norm at most 1.
            layer if softmax_seen && is_linear(layer) => {
                let upper = node.bound.as_ref().map_or(f64::INFINITY, |b| b.upper);
                if upper > 1.0 {
                    return Ok(None);
                }
            }
            _ => return Ok(None),
        }
    }
    Ok(Some(m))
}

/// C·M̂ for the projector C that subtracts from each entry the mean of its
/// slice (rows r = (o·len + l)·inner + k for l < len share the slice (o, k)),
/// computed as ĉ = fl(m − μ̂) with μ̂ = fl(fl(Σₗ mₗ)/len), and its error:
/// |μ̂ − μ| ≤ γ_len·Σₗ|mₗ|/len + η (a recursive sum's γ_{len−1} and the
/// division's u and underflow η, with γ_k + u(1 + γ_k) ≤ γ_{k+1}; Higham,
/// *Accuracy and Stability of Numerical Algorithms*, 2nd ed., Lemma 3.3),
/// and the subtraction |fl(a − b) − (a − b)| ≤ u(1 + 2u)|fl(a − b)|, so each
/// entry is within e = |μ̂ − μ| + u(1 + 2u)|ĉ| of C·M̂ and
/// err′ = ‖C‖·err + ‖E‖_F = err + ‖E‖_F (‖C‖ = 1). `None` when M̂'s rows
/// are not outer·len·inner.
pub fn center_slices(m: &Tracked, outer: usize, len: usize, inner: usize) -> Option<Tracked> {
    if outer.checked_mul(len)?.checked_mul(inner)? != m.rows || len == 0 {
        return None;
    }
    let mut data = m.data.clone();
    let mut errors = Vec::with_capacity(data.len());
    let g = gamma(len);
    let rel = mul_up(UNIT_ROUNDOFF, add_up(1.0, 2.0 * UNIT_ROUNDOFF));
    for j in 0..m.cols {
        let col = &mut data[j * m.rows..(j + 1) * m.rows];
        for o in 0..outer {
            for k in 0..inner {
                let row = |l: usize| (o * len + l) * inner + k;
                let sum: f64 = (0..len).map(|l| col[row(l)]).sum();
                let abs_sum = (0..len).fold(0.0, |s, l| add_up(s, col[row(l)].abs()));
                let mean = sum / len as f64;
                let mean_err = add_up(mul_up(g, div_up(abs_sum, len as f64)), ETA);
                for l in 0..len {
                    let c = col[row(l)] - mean;
                    col[row(l)] = c;
                    errors.push(add_up(mean_err, mul_up(rel, c.abs())));
                }
            }
        }
    }
    let rounding = norm2_up(&errors);
    Some(Tracked {
        rows: m.rows,
        cols: m.cols,
        data,
        err: add_up(m.err, rounding),
    })
}

/// The real matrices stacked vertically (equal column counts), exact, with
/// error √(Σ err_b²). `None` for no blocks or unequal column counts.
fn vconcat(blocks: &[Tracked]) -> Option<Tracked> {
    let cols = blocks.first()?.cols;
    if blocks.iter().any(|b| b.cols != cols) {
        return None;
    }
    let rows: usize = blocks.iter().map(|b| b.rows).sum();
    let mut data = Vec::with_capacity(rows * cols);
    for j in 0..cols {
        for b in blocks {
            data.extend_from_slice(&b.data[j * b.rows..(j + 1) * b.rows]);
        }
    }
    let err_sq = blocks
        .iter()
        .fold(0.0, |s, b| add_up(s, mul_up(b.err, b.err)));
    Some(Tracked {
        rows,
        cols,
        data,
        err: sqrt_up(err_sq),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exact::dyadic::decompose;
    use crate::random::Rng;
    use num_bigint::BigInt;

    /// x·2^SHIFT exactly (every finite f64 is an integer multiple of 2^-1074).
    const SHIFT: i64 = 1100;
    fn exact(x: f64) -> BigInt {
        let (m, e) = decompose(x);
        let shift = e + SHIFT;
        assert!(shift >= 0);
        BigInt::from(m) << (shift as usize)
    }

    /// Each computed entry of C·M̂ is within its stated error of the exact
    /// len·ĉ = len·m − Σ m (compared as integers, scaled by len·2^1100), and
    /// the Frobenius norm of those errors is what `err` grows by — on
    /// matrices whose entries span 2^-500 to 2^500 within a slice (a
    /// recursive sum loses the small ones; beyond, the squares of the
    /// Frobenius norm overflow and `err` is +∞, sound and useless), with
    /// slices of length 1 to 9 and several (outer, inner) layouts.
    #[test]
    fn centring_errors_contain_the_exact_centred_entries() {
        let mut rng = Rng::new(2024);
        for trial in 0..300 {
            let (outer, len, inner) = (1 + trial % 3, 1 + trial % 9, 1 + (trial / 3) % 4);
            let rows = outer * len * inner;
            let cols = 1 + trial % 4;
            let data: Vec<f64> = (0..rows * cols)
                .map(|_| {
                    let scale = 2f64.powi((rng.uniform() * 1000.0) as i32 - 500);
                    (2.0 * rng.uniform() - 1.0) * scale
                })
                .collect();
            let m = Tracked {
                rows,
                cols,
                data: data.clone(),
                err: 0.0,
            };
            let c = center_slices(&m, outer, len, inner).unwrap();
            let mut sq = 0.0f64;
            for j in 0..cols {
                for o in 0..outer {
                    for k in 0..inner {
                        let row = |l: usize| j * rows + (o * len + l) * inner + k;
                        let sum: BigInt = (0..len).map(|l| exact(data[row(l)])).sum();
                        let mut abs_sum = 0.0f64;
                        for l in 0..len {
                            abs_sum += data[row(l)].abs();
                        }
                        for l in 0..len {
                            let truth = BigInt::from(len) * exact(data[row(l)]) - &sum;
                            let got = BigInt::from(len) * exact(c.data[row(l)]);
                            let diff = got - truth;
                            let mean_err = gamma(len) * abs_sum / len as f64 * 1.0001 + ETA;
                            let e = mean_err + 1.0001 * UNIT_ROUNDOFF * c.data[row(l)].abs();
                            let bound = BigInt::from(len) * exact(e);
                            assert!(
                                diff.magnitude() <= bound.magnitude(),
                                "trial {trial}: entry ({o}, {l}, {k}) of column {j}"
                            );
                            sq += e * e;
                        }
                    }
                }
            }
            assert!(c.err >= 0.0 && c.err.is_finite(), "trial {trial}");
            assert!(
                c.err >= sq.sqrt() * (1.0 - 1e-3),
                "trial {trial}: err {} below the entrywise errors' norm {}",
                c.err,
                sq.sqrt()
            );
        }
    }

    /// The stacked error is √(Σ err_b²), the data each block's columns in
    /// turn, and blocks with different column counts are refused.
    #[test]
    fn vconcat_stacks_columns_and_errors() {
        let a = Tracked {
            rows: 2,
            cols: 2,
            data: vec![1.0, 2.0, 3.0, 4.0],
            err: 3.0,
        };
        let b = Tracked {
            rows: 1,
            cols: 2,
            data: vec![5.0, 6.0],
            err: 4.0,
        };
        let s = vconcat(&[a.clone(), b]).unwrap();
        assert_eq!((s.rows, s.cols), (3, 2));
        assert_eq!(s.data, vec![1.0, 2.0, 5.0, 3.0, 4.0, 6.0]);
        assert!(s.err >= 5.0 && s.err <= 5.0 * (1.0 + 1e-15));
        let c = Tracked {
            rows: 1,
            cols: 3,
            data: vec![0.0; 3],
            err: 0.0,
        };
        assert!(vconcat(&[a, c]).is_none());
        assert!(vconcat(&[]).is_none());
    }
}
