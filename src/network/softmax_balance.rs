//! A move of the lower-bound search for networks with a softmax output:
//! to the nearest input where each softmax group's two largest logits are
//! equal.
//!
//! # Why
//! A softmax's Jacobian is diag(p) − ppᵀ; with two classes it is
//! p₁p₂·[[1, −1], [−1, 1]], whose factor p₁p₂ ≤ ¼ is largest at equal
//! logits and vanishes exponentially in their difference. So σ(J_f(x)) of a
//! network ending in a softmax (or with a softmax head, as MTCNN's) is large
//! only near the inputs where the top logits balance, and its gradient —
//! proportional to p₁p₂ — vanishes elsewhere: an ascent that starts where
//! the softmax is saturated stays on that plateau. Inside one linear region
//! of the logits z(x), d(x) = z_a(x) − z_b(x) is affine, and one Newton step
//! x − d·∇d/‖∇d‖² reaches d = 0 exactly; with several groups, the least-norm
//! step x − Gᵀ(GGᵀ)⁻¹d (rows of G the gradients ∇d_g) balances all of them.
//! Across region boundaries the step is only approximate, hence a few
//! steps. (The same step is the "balance" move of the reference search in
//! `tools/pnet_references.py`.)
//!
//! Only a search move: a balanced point is kept when the estimated σ(J)
//! there is larger, and only the exact network's points are turned into
//! certified pairs, so it cannot affect soundness.

use super::evaluate::ChainPass;
use super::layer::{Layer, Network, Node};
use super::lower_bounds::dot;

/// Softmax groups (positions × other axes) balanced at most: each needs
/// one reverse pass per step.
const MAX_GROUPS: usize = 16;

/// Newton steps at most (one is exact inside a linear region).
const NEWTON_STEPS: usize = 3;

/// The first softmax of a network, reachable as the logits of a chain of
/// top-level nodes (optionally followed by a prefix of one branch of a
/// top-level concatenation), with at most [`MAX_GROUPS`] groups.
#[derive(Debug)]
pub(crate) struct SoftmaxBalance<'a> {
    /// The node lists whose composition maps the input to the logits.
    parts: Vec<&'a [Node]>,
    /// The softmax's outer size (groups before its axis).
    outer: usize,
    /// The softmax's axis length (classes).
    len: usize,
    /// The softmax's inner size (groups after its axis).
    inner: usize,
}

impl<'a> SoftmaxBalance<'a> {
    /// The first softmax of `net` among its top-level nodes and the
    /// branches of its top-level concatenations; `None` when there is none,
    /// it has fewer than two classes or more than [`MAX_GROUPS`] groups.
    pub(crate) fn find(net: &'a Network) -> Option<Self> {
        for (k, node) in net.nodes.iter().enumerate() {
            let trunk = &net.nodes[..k];
            match &node.layer {
                Layer::Softmax { outer, len, inner } => {
                    return Self::new(vec![trunk], *outer, *len, *inner);
                }
                Layer::Concat { branches, .. } => {
                    for branch in branches {
                        let softmax = branch.iter().enumerate().find_map(|(j, n)| match n.layer {
                            Layer::Softmax { outer, len, inner } => Some((j, outer, len, inner)),
                            _ => None,
                        });
                        if let Some((j, outer, len, inner)) = softmax {
                            return Self::new(vec![trunk, &branch[..j]], outer, len, inner);
                        }
                    }
                }
                _ => {}
            }
        }
        None
    }

    fn new(parts: Vec<&'a [Node]>, outer: usize, len: usize, inner: usize) -> Option<Self> {
        let groups = outer.checked_mul(inner)?;
        (len >= 2 && (1..=MAX_GROUPS).contains(&groups)).then_some(Self {
            parts,
            outer,
            len,
            inner,
        })
    }

    /// `x` moved by up to [`NEWTON_STEPS`] least-norm Newton steps towards
    /// equal top-two logits in every group (module docs); `None` when a
    /// step is not finite or the gradients are degenerate.
    pub(crate) fn balanced(&self, x: &[f64]) -> Option<Vec<f64>> {
        let mut x = x.to_vec();
        for _ in 0..NEWTON_STEPS {
            let pass = ChainPass::new(&self.parts, &x);
            let z = &pass.value;
            let scale = z.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            let mut gaps = Vec::new();
            let mut cotangents = Vec::new();
            for o in 0..self.outer {
                for i in 0..self.inner {
                    let at = |c: usize| (o * self.len + c) * self.inner + i;
                    let (a, b) = top_two((0..self.len).map(|c| z[at(c)]));
                    gaps.push(z[at(a)] - z[at(b)]);
                    let mut w = vec![0.0; z.len()];
                    w[at(a)] = 1.0;
                    w[at(b)] = -1.0;
                    cotangents.push(w);
                }
            }
            // (Before the convergence test, as the search's pass budgets
            // were calibrated with.)
            let rows = pass.vjp_batch(cotangents);
            if gaps.iter().all(|g| g.abs() <= 1e-12 * scale) {
                break;
            }
            let m = rows.len();
            let gram = nalgebra::DMatrix::from_fn(m, m, |r, c| dot(&rows[r], &rows[c]));
            let rhs = nalgebra::DVector::from_vec(gaps);
            let coefficients = gram.cholesky()?.solve(&rhs);
            for (row, c) in rows.iter().zip(coefficients.iter()) {
                x.iter_mut().zip(row).for_each(|(e, r)| *e -= c * r);
            }
            if !x.iter().all(|e| e.is_finite()) {
                return None;
            }
        }
        Some(x)
    }
}

/// Indices of the largest and the second largest of `values` (at least
/// two), ties to the first.
fn top_two(values: impl Iterator<Item = f64>) -> (usize, usize) {
    let (mut a, mut b) = (usize::MAX, usize::MAX);
    let (mut va, mut vb) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    for (k, v) in values.enumerate() {
        if a == usize::MAX || v > va {
            (b, vb) = (a, va);
            (a, va) = (k, v);
        } else if b == usize::MAX || v > vb {
            (b, vb) = (k, v);
        }
    }
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::evaluate::forward;
    use crate::network::spec::NetworkSpec;
    use crate::network::weights::{Tensor, Weights};

    /// linear 3 → 4, ReLU, linear 4 → 2, softmax: one group of two.
    fn classifier() -> Network {
        let spec = NetworkSpec::from_json(
            r#"{"weights": "-", "input_shape": [3], "layers": [
                {"type": "linear", "weight": "w1", "bias": "b1"}, {"type": "relu"},
                {"type": "linear", "weight": "w2", "bias": "b2"}, {"type": "softmax"}]}"#,
        )
        .unwrap();
        let mut w = Weights::new();
        let w1 = vec![
            0.9, -0.4, 0.3, 0.2, 0.8, -0.5, -0.7, 0.1, 0.6, 0.4, 0.4, 0.4,
        ];
        w.insert("w1", Tensor::new(vec![4, 3], w1).unwrap());
        w.insert(
            "b1",
            Tensor::new(vec![4], vec![0.1, -0.2, 0.3, 0.0]).unwrap(),
        );
        let w2 = vec![1.0, -2.0, 0.5, 0.7, -0.3, 0.9, -1.1, 0.2];
        w.insert("w2", Tensor::new(vec![2, 4], w2).unwrap());
        w.insert("b2", Tensor::new(vec![2], vec![3.0, -3.0]).unwrap());
        Network::from_spec(&spec, &w).unwrap()
    }

    #[test]
    fn top_two_orders_and_breaks_ties_to_the_first() {
        assert_eq!(top_two([1.0, 3.0, 2.0].into_iter()), (1, 2));
        assert_eq!(top_two([5.0, 5.0, 1.0].into_iter()), (0, 1));
        assert_eq!(top_two([-1.0, -2.0].into_iter()), (0, 1));
    }

    #[test]
    fn balancing_equalises_a_saturated_softmax() {
        let net = classifier();
        let balance = SoftmaxBalance::find(&net).expect("a softmax with one group");
        for x in [[2.0, -1.0, 0.5], [-3.0, 0.2, 4.0], [0.1, 0.1, 0.1]] {
            let p = forward(&net, &x).unwrap();
            let y = balance.balanced(&x).expect("balanced");
            let q = forward(&net, &y).unwrap();
            // p₁p₂ ≤ ¼ with equality at equal logits: the balanced point's
            // factor is ¼ up to the steps' accuracy, never below the start's.
            assert!(q[0] * q[1] >= p[0] * p[1], "{p:?} -> {q:?}");
            assert!((q[0] * q[1] - 0.25).abs() < 1e-6, "{x:?}: {q:?}");
        }
    }

    #[test]
    fn networks_without_a_softmax_have_nothing_to_balance() {
        let mut net = classifier();
        net.nodes.pop();
        assert!(SoftmaxBalance::find(&net).is_none());
    }
}
