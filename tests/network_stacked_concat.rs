//! The joint bound of a concatenation of heads (`network::stacked_concat`):
//! branches [B·z] and [softmax(A·z)] (MTCNN's bbox and face-probability
//! heads) are bounded by σ([B; ½·C·A]), C the centring projector.
//!
//! Ground truth: for two classes the softmax Jacobian is p₁p₂·[[1, −1],
//! [−1, 1]] with p₁p₂ ≤ ¼, equality exactly where the logits are equal (a
//! hyperplane of inputs, which every direction crosses), so Lip is exactly
//! σ([B; ¼·[[1, −1], [−1, 1]]·A]); that value, from nalgebra's SVD of the
//! explicit 6×n matrix, must lie below the certified bound and within
//! 1e-9 of it. For more classes, the bound must lie above σ(J(x)) at
//! sampled points and above sampled pair ratios, and never above the
//! separate bound √(Σ Lip(branch)²). A branch that is not a head keeps the
//! separate bound.

use lipcert::matrix::DenseMatrix;
use lipcert::network::evaluate::forward;
use lipcert::network::layer::{Layer, Network, Node};
use lipcert::network::lipschitz::certify_nodes;
use lipcert::SigmaOptions;

mod common;
use common::lcg::Lcg;
use common::soundness::config;
use proptest::prelude::*;

fn linear(out: usize, inp: usize, w: &[f64]) -> Node {
    Node {
        kind: "linear",
        layer: Layer::Linear {
            weight: DenseMatrix::from_row_major(out, inp, w).unwrap(),
            bias: Some(vec![0.25; out]),
        },
        shape_in: vec![inp],
        shape_out: vec![out],
        bound: None,
    }
}

fn node(kind: &'static str, layer: Layer, len: usize) -> Node {
    Node {
        kind,
        layer,
        shape_in: vec![len],
        shape_out: vec![len],
        bound: None,
    }
}

/// The network z ↦ [B z + b; softmax(A z + a)] (one concatenation node),
/// with `relu` inserted before the softmax when asked (then not a head).
fn heads(b: &[f64], a: &[f64], n: usize, classes: usize, relu: bool) -> Network {
    let rows_b = b.len() / n;
    let mut soft = vec![linear(classes, n, a)];
    if relu {
        soft.push(node("relu", Layer::Relu, classes));
    }
    soft.push(node(
        "softmax",
        Layer::Softmax {
            outer: 1,
            len: classes,
            inner: 1,
        },
        classes,
    ));
    Network {
        input_shape: vec![n],
        nodes: vec![Node {
            kind: "concat",
            layer: Layer::Concat {
                branches: vec![vec![linear(rows_b, n, b)], soft],
                outer: 1,
                inner: 1,
                lens: vec![rows_b, classes],
            },
            shape_in: vec![n],
            shape_out: vec![rows_b + classes],
            bound: None,
        }],
    }
}

fn certified(net: &mut Network) -> (f64, &'static str) {
    certify_nodes(&mut net.nodes, &SigmaOptions::default(), &mut |_, _| {}).unwrap();
    let b = net.nodes[0].bound.as_ref().unwrap();
    (b.upper, b.reason)
}

fn sigma_max(m: nalgebra::DMatrix<f64>) -> f64 {
    m.svd(false, false).singular_values.max()
}

/// The separate bound √(‖B‖² + (½‖A‖)²) in floating point.
fn separate(b: &nalgebra::DMatrix<f64>, a: &nalgebra::DMatrix<f64>) -> f64 {
    let (sb, sa) = (sigma_max(b.clone()), sigma_max(a.clone()));
    (sb * sb + 0.25 * sa * sa).sqrt()
}

#[test]
fn two_class_heads_get_their_exact_constant() {
    let mut rng = Lcg(17);
    for (trial, scale) in [1.0, 1e-3, 1e3, 1.0, 1e-6, 1e6, 1.0, 1.0]
        .into_iter()
        .enumerate()
    {
        let n = 8 + 7 * trial;
        let (b, mut a) = (rng.vec(4 * n, scale), rng.vec(2 * n, 1.0));
        if trial == 7 {
            // Equal rows: the softmax head is constant, C·A = 0.
            let first = a[..n].to_vec();
            a[n..].copy_from_slice(&first);
        }
        let mut net = heads(&b, &a, n, 2, false);
        let (upper, reason) = certified(&mut net);
        let bm = nalgebra::DMatrix::from_row_slice(4, n, &b);
        let am = nalgebra::DMatrix::from_row_slice(2, n, &a);
        let m = nalgebra::DMatrix::from_row_slice(2, 2, &[0.25, -0.25, -0.25, 0.25]);
        let mut k = nalgebra::DMatrix::zeros(6, n);
        k.rows_mut(0, 4).copy_from(&bm);
        k.rows_mut(4, 2).copy_from(&(m * &am));
        let lip = sigma_max(k);
        assert!(
            upper >= lip * (1.0 - 1e-12),
            "trial {trial}: certified {upper} below the exact {lip}"
        );
        assert!(
            upper <= lip * (1.0 + 1e-9),
            "trial {trial}: certified {upper} loose against {lip}"
        );
        assert!(
            reason.starts_with("concat of heads"),
            "trial {trial}: {reason}"
        );
        assert!(upper <= separate(&bm, &am) * (1.0 + 1e-9), "trial {trial}");
    }
}

/// σ(J(x)) of the heads network at x: J = [B; (diag(p) − ppᵀ)A], p the
/// softmax of Ax (the biases are equal per branch and cancel in softmax).
fn jacobian_sigma(bm: &nalgebra::DMatrix<f64>, am: &nalgebra::DMatrix<f64>, x: &[f64]) -> f64 {
    let (rows_b, classes, n) = (bm.nrows(), am.nrows(), bm.ncols());
    let logits = am * nalgebra::DVector::from_column_slice(x);
    let mx = logits.max();
    let e: Vec<f64> = logits.iter().map(|l| (l - mx).exp()).collect();
    let total: f64 = e.iter().sum();
    let p = nalgebra::DVector::from_iterator(classes, e.iter().map(|v| v / total));
    let js = nalgebra::DMatrix::from_diagonal(&p) - &p * p.transpose();
    let mut j = nalgebra::DMatrix::zeros(rows_b + classes, n);
    j.rows_mut(0, rows_b).copy_from(bm);
    j.rows_mut(rows_b, classes).copy_from(&(js * am));
    sigma_max(j)
}

/// One random heads network: (n, rows of B, classes, B, A, seed of the
/// sampled points), B and A at scales 2^±20 of their own.
fn heads_case() -> impl Strategy<Value = (usize, usize, usize, Vec<f64>, Vec<f64>, u64)> {
    (
        2usize..10,
        1usize..5,
        2usize..7,
        -20i32..20,
        -20i32..20,
        any::<u64>(),
    )
        .prop_flat_map(|(n, rows_b, classes, eb, ea, seed)| {
            let (sb, sa) = (2f64.powi(eb), 2f64.powi(ea));
            (
                Just(n),
                Just(rows_b),
                Just(classes),
                proptest::collection::vec(-1.0..1.0f64, rows_b * n)
                    .prop_map(move |v| v.into_iter().map(|w| w * sb).collect::<Vec<_>>()),
                proptest::collection::vec(-1.0..1.0f64, classes * n)
                    .prop_map(move |v| v.into_iter().map(|w| w * sa).collect::<Vec<_>>()),
                Just(seed),
            )
        })
}

proptest! {
    #![proptest_config(config(64, 0x6865_6164))]

    /// The certified heads bound lies above σ(J(x)) at 100 sampled points
    /// (at the scale of the logits, so that the softmax is not saturated)
    /// and above sampled pair ratios, and never above the separate bound.
    #[test]
    fn heads_bound_lies_above_sampled_jacobians_and_pairs(
        (n, rows_b, classes, b, a, seed) in heads_case()
    ) {
        let mut net = heads(&b, &a, n, classes, false);
        let (upper, _) = certified(&mut net);
        let bm = nalgebra::DMatrix::from_row_slice(rows_b, n, &b);
        let am = nalgebra::DMatrix::from_row_slice(classes, n, &a);
        prop_assert!(upper <= separate(&bm, &am) * (1.0 + 1e-9));
        let mut rng = Lcg(seed | 1);
        let x_scale = 1.0 / sigma_max(am.clone()).max(1e-300);
        for _ in 0..100 {
            let x = rng.vec(n, 3.0 * x_scale);
            let s = jacobian_sigma(&bm, &am, &x);
            prop_assert!(upper >= s * (1.0 - 1e-12), "{} < σ(J) = {}", upper, s);
            let y: Vec<f64> = x.iter().map(|v| v + 1e-3 * x_scale * rng.next()).collect();
            let (fx, fy) = (forward(&net, &x).unwrap(), forward(&net, &y).unwrap());
            let df: f64 = fx.iter().zip(&fy).map(|(a, b)| (a - b).powi(2)).sum::<f64>();
            let dx: f64 = x.iter().zip(&y).map(|(a, b)| (a - b).powi(2)).sum::<f64>();
            if dx > 0.0 {
                prop_assert!(upper >= (df / dx).sqrt() * (1.0 - 1e-6));
            }
        }
    }
}

#[test]
fn a_branch_that_is_not_a_head_keeps_the_separate_bound() {
    let mut rng = Lcg(31);
    let n = 6;
    let (b, a) = (rng.vec(4 * n, 1.0), rng.vec(2 * n, 1.0));
    let mut net = heads(&b, &a, n, 2, true);
    let (upper, reason) = certified(&mut net);
    assert_eq!(reason, "concat: sqrt(sum of Lip(branch)^2)");
    let bm = nalgebra::DMatrix::from_row_slice(4, n, &b);
    let am = nalgebra::DMatrix::from_row_slice(2, n, &a);
    assert!(upper >= separate(&bm, &am) * (1.0 - 1e-12));
}
