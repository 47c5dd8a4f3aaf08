//! The bound methods (LipLT, multiplier, segment certificates) on the ONNX
//! front end's elementwise activations — PReLU with per-neuron slopes,
//! ELU, SELU, softplus, softsign, hard sigmoid, hard swish, clip, |x| and
//! the affine map by per-coordinate constants — through their slope
//! intervals (the hull, and per-neuron intervals where the coordinates
//! differ), against independent references:
//!
//! * the exact oracle of one hidden layer f(x) = W₂φ(W₁x + b) with W₁ of
//!   full row rank (h ≤ n, checked exactly): every z = W₁x + b occurs, so
//!   J(x) = W₂·diag(φ′(z))·W₁ takes every diagonal of derivative values
//!   and Lip(f) = sup ‖J‖ ≥ max over the vertices dᵢ ∈ {lᵢ, uᵢ} of
//!   ‖W₂ diag(d) W₁‖, where [lᵢ, uᵢ] is the closure of φᵢ′'s values (for
//!   every map here it is the map's slope interval, and the supremum of the
//!   convex function ‖W₂DW₁‖ over the box is at a vertex); for a residual
//!   block x + W₂φ(W₁x + b) the same with I + W₂DW₁;
//! * a closed form on a decoupled (diagonal) network, where per-neuron
//!   intervals reach the exact constant and the hull cannot;
//! * certified pair ratios on deeper random networks.
//!
//! Long run (not CI): `LIPCERT_SOUNDNESS_CASES=100000 cargo test --test
//! suite network_elementwise_slopes::` (`LIPCERT_SOUNDNESS_SEED=K` for
//! chunks).

mod common;

use lipcert::network::bounds::multiplier::{multiplier_bound, DEFAULT_MAX_ENTRIES};
use lipcert::network::bounds::segment::{build_segment, segment_bound};
use lipcert::network::bounds::{network_bounds, BoundMethod};
use lipcert::network::certify::certify_layers;
use lipcert::network::elementwise::Elementwise;
use lipcert::network::layer::{Layer, Node};
use lipcert::network::lower_bounds::rigorous_pair_ratio;
use lipcert::network::{Network, NetworkSpec, Tensor, Weights};
use lipcert::{sigma, DenseMatrix, SigmaOptions};
use proptest::prelude::*;

fn config(cases: u32) -> proptest::test_runner::Config {
    common::soundness::config(cases, 0x656c_656d)
}

/// Dyadic values with few bits, so that products of three of them are
/// exact in binary64.
const SLOPES: [f64; 8] = [-1.25, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 1.5];

/// The elementwise map of kind `k` on `h` coordinates, with per-coordinate
/// parameters chosen by `picks` (indices into [`SLOPES`]), and the closure
/// [lᵢ, uᵢ] of each coordinate's derivative values.
fn activation(k: usize, h: usize, picks: &[usize]) -> (Elementwise, Vec<(f64, f64)>) {
    let pick = |i: usize| SLOPES[picks[i % picks.len()]];
    let same = |l: f64, u: f64| vec![(l, u); h];
    match k {
        0 => {
            let slopes: Vec<f64> = (0..h).map(pick).collect();
            let v = slopes.iter().map(|&a| (a.min(1.0), a.max(1.0))).collect();
            (Elementwise::PRelu { slopes }, v)
        }
        1 => {
            // Nonzero factors (a zero factor is allowed too, but keeps the
            // map constant in that coordinate).
            let factor: Vec<f64> = (0..h).map(|i| pick(i) + 2.0).collect();
            let v = factor.iter().map(|&f| (f, f)).collect();
            (
                Elementwise::Affine {
                    factor,
                    divide: false,
                    shift: vec![0.5; h],
                },
                v,
            )
        }
        2 => {
            let alpha = pick(0);
            (
                Elementwise::Elu { alpha },
                same(alpha.min(0.0), alpha.max(1.0)),
            )
        }
        3 => {
            let (alpha, gamma) = (pick(0), 1.25);
            (
                Elementwise::Selu { alpha, gamma },
                same(gamma * alpha.min(0.0), gamma * alpha.max(1.0)),
            )
        }
        4 => (Elementwise::Softplus, same(0.0, 1.0)),
        5 => (Elementwise::Softsign, same(0.0, 1.0)),
        6 => {
            let alpha = pick(0);
            (
                Elementwise::HardSigmoid { alpha, beta: 0.5 },
                same(alpha.min(0.0), alpha.max(0.0)),
            )
        }
        7 => (Elementwise::HardSwish, same(-0.5, 1.5)),
        8 => (
            Elementwise::Clip {
                min: -1.0,
                max: 2.0,
            },
            same(0.0, 1.0),
        ),
        _ => (Elementwise::Abs, same(-1.0, 1.0)),
    }
}

const KINDS: usize = 10;

/// Uniform values in [−1, 1) from a xorshift generator seeded with `seed`.
fn uniform(mut s: u64) -> impl FnMut() -> f64 {
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

/// The network of `spec_json` with its `k`-th top-level node (or, for a
/// residual block, the `k`-th node of its body) replaced by `act`, its
/// layers certified.
fn with_activation(spec_json: &str, w: &Weights, path: &[usize], act: Elementwise) -> Network {
    let spec = NetworkSpec::from_json(spec_json).unwrap();
    let mut net = Network::from_spec(&spec, w).unwrap();
    let node: &mut Node = match path {
        [k] => &mut net.nodes[*k],
        [r, k] => match &mut net.nodes[*r].layer {
            Layer::Residual { body, .. } => &mut body[*k],
            _ => unreachable!("a residual block"),
        },
        _ => unreachable!(),
    };
    act.validate(node.shape_in.iter().product()).unwrap();
    node.kind = act.name();
    node.layer = Layer::Elementwise(Box::new(act));
    certify_layers(&mut net, &SigmaOptions::default(), &mut |_, _| {}).unwrap();
    net
}

/// Whether the integer matrix (h × n, row-major) has rank h: fraction-free
/// Gaussian elimination (Bareiss), exact in i128 for these sizes.
fn full_row_rank(h: usize, n: usize, m: &[i64]) -> bool {
    let mut a: Vec<Vec<i128>> = (0..h)
        .map(|i| m[i * n..(i + 1) * n].iter().map(|&v| v as i128).collect())
        .collect();
    let mut prev = 1i128;
    let mut rank = 0;
    for col in 0..n {
        if rank == h {
            break;
        }
        let Some(p) = (rank..h).find(|&r| a[r][col] != 0) else {
            continue;
        };
        a.swap(rank, p);
        for r in rank + 1..h {
            for c in col + 1..n {
                a[r][c] = (a[r][c] * a[rank][col] - a[r][col] * a[rank][c]) / prev;
            }
            a[r][col] = 0;
        }
        prev = a[rank][col];
        rank += 1;
    }
    rank == h
}

/// Certified lower end of max over vertices d ∈ ∏{lᵢ, uᵢ} of
/// ‖R + W₂ diag(d) W₁‖ (R = I for a residual block, else 0); every product
/// is exact (few-bit dyadic entries times powers of two).
fn exact_lower(
    dims: (usize, usize, usize),
    w1: &[f64],
    w2: &[f64],
    vertices: &[(f64, f64)],
    residual: bool,
) -> f64 {
    exact_enclosure(dims, w1, w2, vertices, residual).0
}

/// Both ends of the certified enclosure of that maximum.
fn exact_enclosure(
    (n, h, m): (usize, usize, usize),
    w1: &[f64],
    w2: &[f64],
    vertices: &[(f64, f64)],
    residual: bool,
) -> (f64, f64) {
    let (mut lo, mut up) = (0.0f64, 0.0f64);
    for pattern in 0..(1usize << h) {
        let d: Vec<f64> = (0..h)
            .map(|i| {
                if pattern >> i & 1 == 1 {
                    vertices[i].1
                } else {
                    vertices[i].0
                }
            })
            .collect();
        let mut p = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                p[i * n + j] = (0..h).map(|l| w2[i * h + l] * d[l] * w1[l * n + j]).sum();
            }
        }
        if residual {
            for i in 0..n {
                p[i * n + i] += 1.0;
            }
        }
        if p.iter().any(|v| *v != 0.0) {
            let s = sigma(
                &DenseMatrix::from_row_major(m, n, &p).unwrap(),
                &SigmaOptions::default(),
            )
            .unwrap();
            lo = lo.max(s.lower());
            up = up.max(s.upper());
        }
    }
    (lo, up)
}

/// One hidden layer: (n, h, m), W₁ and W₂ as integers i (value i/8), b₁,
/// the activation kind and its per-neuron parameter picks, the scales 2^k.
type Case = (
    (usize, usize, usize),
    Vec<i64>,
    Vec<i64>,
    Vec<i64>,
    usize,
    Vec<usize>,
    (i32, i32),
);

fn case(residual: bool) -> impl Strategy<Value = Case> {
    (2usize..=6, 1usize..=3)
        .prop_flat_map(|(n, m)| (Just(n), 1usize..=n, Just(m)))
        .prop_flat_map(move |(n, h, m)| {
            let m = if residual { n } else { m };
            let scale = if residual { -3i32..=3 } else { -30i32..=30 };
            (
                Just((n, h, m)),
                prop::collection::vec(-8i64..=8, h * n),
                prop::collection::vec(-8i64..=8, h),
                prop::collection::vec(-8i64..=8, m * h),
                0..KINDS,
                prop::collection::vec(0..SLOPES.len(), h),
                (scale.clone(), scale),
            )
        })
}

fn check_oracle(c: Case, residual: bool) -> Result<(), TestCaseError> {
    let ((n, h, m), w1i, b1i, w2i, kind, picks, (k1, k2)) = c;
    prop_assume!(full_row_rank(h, n, &w1i));
    let (s1, s2) = (2f64.powi(k1) / 8.0, 2f64.powi(k2) / 8.0);
    let w1: Vec<f64> = w1i.iter().map(|&v| v as f64 * s1).collect();
    let b1: Vec<f64> = b1i.iter().map(|&v| v as f64 * s1).collect();
    let w2: Vec<f64> = w2i.iter().map(|&v| v as f64 * s2).collect();
    let (act, vertices) = activation(kind, h, &picks);
    let body = r#"{"type": "linear", "weight": "w1", "bias": "b1"}, {"type": "relu"},
                  {"type": "linear", "weight": "w2"}"#;
    let (layers, path) = if residual {
        (
            format!(r#"{{"type": "residual", "body": [{body}]}}"#),
            vec![0, 1],
        )
    } else {
        (body.to_string(), vec![1])
    };
    let spec = format!(r#"{{"weights": "-", "input_shape": [{n}], "layers": [{layers}]}}"#);
    let mut w = Weights::new();
    w.insert("w1", Tensor::new(vec![h, n], w1.clone()).unwrap());
    w.insert("b1", Tensor::new(vec![h], b1).unwrap());
    w.insert("w2", Tensor::new(vec![m, h], w2.clone()).unwrap());
    let net = with_activation(&spec, &w, &path, act);
    let exact = exact_lower((n, h, m), &w1, &w2, &vertices, residual);
    let opts = SigmaOptions::default();
    let mb = multiplier_bound(&net.nodes, &opts, DEFAULT_MAX_ENTRIES).unwrap();
    prop_assert!(mb.upper >= exact, "multiplier {} < exact {exact}", mb.upper);
    prop_assert!(mb.raw >= exact, "raw multiplier {} < exact {exact}", mb.raw);
    for p in &mb.pieces {
        prop_assert!(
            p.multiplier >= exact,
            "piece {} < exact {exact}",
            p.multiplier
        );
    }
    if let Some(s) = build_segment(&net.nodes, DEFAULT_MAX_ENTRIES)
        .unwrap()
        .as_ref()
        .and_then(segment_bound)
    {
        prop_assert!(s >= exact, "segment {s} < exact {exact}");
    }
    let (b, _) = network_bounds(&net, &BoundMethod::ALL, &opts).unwrap();
    prop_assert!(b.product >= exact, "product {} < exact {exact}", b.product);
    let l = b.liplt.unwrap();
    prop_assert!(l >= exact, "liplt {l} < exact {exact}");
    prop_assert!(l <= b.product, "liplt {l} > product {}", b.product);
    prop_assert!(b.multiplier.unwrap() <= b.product);
    prop_assert!(b.best().0 >= exact);
    Ok(())
}

proptest! {
    #![proptest_config(config(200))]

    /// Two-layer pieces, adversarial scales 2^±30 on each layer.
    #[test]
    fn every_method_is_above_the_exact_constant(c in case(false)) {
        check_oracle(c, false)?;
    }

    /// Residual blocks x + W₂φ(W₁x + b₁).
    #[test]
    fn residual_blocks_are_above_the_exact_constant(c in case(true)) {
        check_oracle(c, true)?;
    }
}

/// f(x) = diag(w₂)·PReLU(diag(w₁)x) with slopes a = (1, −3): coordinate 1
/// is linear (interval [1, 1]), coordinate 2 has slopes {1, −3}. With
/// w₁ = (1, 1), w₂ = (1, ¼) the coordinates decouple and
/// Lip = max(1·1·1, ¼·3·1) = 1; the hull [−3, 1] allows slope −3 on the
/// first coordinate too, so any bound from it is at least 3. The
/// per-neuron segment certificate reaches the exact constant.
#[test]
fn per_neuron_slopes_reach_the_decoupled_constant() {
    let spec = r#"{"weights": "-", "input_shape": [2], "layers": [
        {"type": "linear", "weight": "w1"}, {"type": "relu"},
        {"type": "linear", "weight": "w2"}]}"#;
    let mut w = Weights::new();
    w.insert(
        "w1",
        Tensor::new(vec![2, 2], vec![1.0, 0.0, 0.0, 1.0]).unwrap(),
    );
    w.insert(
        "w2",
        Tensor::new(vec![2, 2], vec![1.0, 0.0, 0.0, 0.25]).unwrap(),
    );
    let act = Elementwise::PRelu {
        slopes: vec![1.0, -3.0],
    };
    let net = with_activation(spec, &w, &[1], act);
    let (b, _) = network_bounds(&net, &BoundMethod::ALL, &SigmaOptions::default()).unwrap();
    assert!(b.product >= 3.0, "product {}", b.product);
    let m = b.multiplier.unwrap();
    assert!(m >= 1.0, "multiplier {m} below the exact constant 1");
    assert!(
        m <= 1.0 + 1e-6,
        "multiplier {m}: per-neuron slopes should give 1"
    );
    let seg = build_segment(&net.nodes, DEFAULT_MAX_ENTRIES)
        .unwrap()
        .unwrap();
    assert!(seg.has_per_neuron_slopes());
}

/// Deeper networks (two hidden layers of 6, any mix of the maps, biases):
/// every bound is at least every certified pair ratio.
#[test]
fn deeper_networks_are_above_their_pair_ratios() {
    let spec = r#"{"weights": "-", "input_shape": [5], "layers": [
        {"type": "linear", "weight": "w1", "bias": "b1"}, {"type": "relu"},
        {"type": "linear", "weight": "w2", "bias": "b2"}, {"type": "relu"},
        {"type": "linear", "weight": "w3"}]}"#;
    let mut next = uniform(0x9e37_79b9_7f4a_7c15u64);
    let cases: u32 = std::env::var("LIPCERT_SOUNDNESS_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    for case in 0..cases as usize {
        let mut w = Weights::new();
        for (name, shape) in [
            ("w1", vec![6, 5]),
            ("b1", vec![6]),
            ("w2", vec![6, 6]),
            ("b2", vec![6]),
            ("w3", vec![3, 6]),
        ] {
            let len = shape.iter().product();
            let v = (0..len).map(|_| 1.5 * next()).collect();
            w.insert(name, Tensor::new(shape, v).unwrap());
        }
        let picks: Vec<usize> = (0..6)
            .map(|_| ((next() + 1.0) * 4.0) as usize % SLOPES.len())
            .collect();
        let (a1, _) = activation(case % KINDS, 6, &picks);
        let (a2, _) = activation((case / KINDS + 3 * case) % KINDS, 6, &picks);
        let spec1 = NetworkSpec::from_json(spec).unwrap();
        let mut net = Network::from_spec(&spec1, &w).unwrap();
        for (k, a) in [(1, a1), (3, a2)] {
            net.nodes[k].kind = a.name();
            net.nodes[k].layer = Layer::Elementwise(Box::new(a));
        }
        certify_layers(&mut net, &SigmaOptions::default(), &mut |_, _| {}).unwrap();
        let (b, _) = network_bounds(&net, &BoundMethod::ALL, &SigmaOptions::default()).unwrap();
        let best = b.best().0;
        for k in 0..12 {
            let x: Vec<f64> = (0..5).map(|_| 3.0 * next()).collect();
            let d = [1.0, 1e-2, 1e-4][k % 3];
            let y: Vec<f64> = x.iter().map(|v| v + d * next()).collect();
            let r = rigorous_pair_ratio(&net, &x, &y).unwrap();
            assert!(
                r <= best,
                "case {case}: pair ratio {r} > certified {best} ({b:?})"
            );
            assert!(r <= b.liplt.unwrap() && r <= b.multiplier.unwrap());
        }
    }
}

/// A convolution (or dense layer) followed by PReLU with per-channel
/// slopes: the joint bound σ(diag(L)A), L_c = max(1, |a_c|), must enclose
/// the exact σ of the explicit matrix diag(L)·A from above (and be close to
/// it), stay at most the product σ(A)·max L, and dominate certified pair
/// ratios of the pair.
#[test]
fn prelu_after_a_layer_folds_its_channel_constants() {
    let mut next = uniform(0x5eed_0fc0_de00_u64);
    let slopes = [-1.5, 0.25, 1.25, -0.5];
    for (case, conv) in [true, false, true].into_iter().enumerate() {
        let (spec, shape, c_out, spatial) = if conv {
            (
                r#"{"weights": "-", "input_shape": [2, 5, 5], "layers": [
                    {"type": "conv2d", "weight": "k", "bias": "b", "padding": 1},
                    {"type": "relu"}]}"#,
                vec![4usize, 2, 3, 3],
                4usize,
                25usize,
            )
        } else {
            (
                r#"{"weights": "-", "input_shape": [7], "layers": [
                    {"type": "linear", "weight": "k", "bias": "b"}, {"type": "relu"}]}"#,
                vec![4usize, 7],
                4usize,
                1usize,
            )
        };
        let mut w = Weights::new();
        let len: usize = shape.iter().product();
        w.insert(
            "k",
            Tensor::new(shape.clone(), (0..len).map(|_| next()).collect()).unwrap(),
        );
        w.insert("b", Tensor::new(vec![c_out], vec![0.25; c_out]).unwrap());
        // Per channel, rotated per case so the largest |a| moves around.
        let per_channel: Vec<f64> = (0..c_out).map(|c| slopes[(c + case) % 4]).collect();
        let act = Elementwise::PRelu {
            slopes: per_channel
                .iter()
                .flat_map(|&a| std::iter::repeat_n(a, spatial))
                .collect(),
        };
        let net = with_activation(spec, &w, &[1], act);
        let joint = net.nodes[0].bound.as_ref().unwrap().with_next_upper;
        let joint = joint.expect("conv/dense + PReLU records a joint bound");
        // The explicit matrix diag(L)·A (columns = images of unit vectors;
        // the layer's linear part, bias removed by differencing).
        let n = net.input_len();
        let f0 = lipcert::network::evaluate::forward(
            &Network {
                input_shape: net.input_shape.clone(),
                nodes: vec![net.nodes[0].clone()],
            },
            &vec![0.0; n],
        )
        .unwrap();
        let rows = f0.len();
        let mut a = vec![0.0; rows * n];
        for j in 0..n {
            let mut e = vec![0.0; n];
            e[j] = 1.0;
            let y = lipcert::network::evaluate::forward(
                &Network {
                    input_shape: net.input_shape.clone(),
                    nodes: vec![net.nodes[0].clone()],
                },
                &e,
            )
            .unwrap();
            for i in 0..rows {
                let l = per_channel[i / spatial].abs().max(1.0);
                a[i * n + j] = l * (y[i] - f0[i]);
            }
        }
        let e = sigma(
            &DenseMatrix::from_row_major(rows, n, &a).unwrap(),
            &SigmaOptions::default(),
        )
        .unwrap();
        // The explicit entries carry a rounding of ~1e-16 relative.
        assert!(
            joint >= e.lower() * (1.0 - 1e-12),
            "joint {joint} < σ(LA) {}",
            e.lower()
        );
        assert!(
            joint <= e.upper() * (1.0 + 1e-6),
            "joint {joint} far above σ(LA) {}",
            e.upper()
        );
        let product = net.nodes[0].bound.as_ref().unwrap().upper * 1.5;
        assert!(
            joint <= product,
            "joint {joint} above the product {product}"
        );
        for k in 0..20 {
            let x: Vec<f64> = (0..n).map(|_| 2.0 * next()).collect();
            let d = [1.0, 1e-3][k % 2];
            let y: Vec<f64> = x.iter().map(|v| v + d * next()).collect();
            let r = rigorous_pair_ratio(&net, &x, &y).unwrap();
            assert!(r <= joint, "pair ratio {r} > joint bound {joint}");
        }
    }
}

/// The lower-bound search with a time budget (which adds the smoothing
/// homotopy on small networks) never certifies more than the exact constant
/// of one hidden PReLU layer (max over the vertices of σ_up(W₂ diag(d) W₁),
/// every pattern occurring for W₁ of full row rank), and gets close to it.
#[test]
fn budgeted_lower_bound_stays_below_the_exact_constant() {
    use lipcert::network::lower_bounds::{empirical_lower_bounds, LowerBoundOptions};
    let mut next = uniform(0x0b0d_9e7e_d00d_u64);
    for case in 0..3 {
        let (n, h, m) = (6usize, 4usize, 3usize);
        let w1i: Vec<i64> = (0..h * n).map(|_| (next() * 8.0).round() as i64).collect();
        if !full_row_rank(h, n, &w1i) {
            continue;
        }
        let w1: Vec<f64> = w1i.iter().map(|&v| v as f64 / 8.0).collect();
        let w2: Vec<f64> = (0..m * h).map(|_| (next() * 8.0).round() / 8.0).collect();
        let picks: Vec<usize> = (0..h).map(|i| (case + 3 * i) % SLOPES.len()).collect();
        let (act, vertices) = activation(0, h, &picks);
        let spec = format!(
            r#"{{"weights": "-", "input_shape": [{n}], "layers": [
                {{"type": "linear", "weight": "w1", "bias": "b1"}}, {{"type": "relu"}},
                {{"type": "linear", "weight": "w2"}}]}}"#
        );
        let mut w = Weights::new();
        w.insert("w1", Tensor::new(vec![h, n], w1.clone()).unwrap());
        w.insert("b1", Tensor::new(vec![h], vec![0.125; h]).unwrap());
        w.insert("w2", Tensor::new(vec![m, h], w2.clone()).unwrap());
        let net = with_activation(&spec, &w, &[1], act);
        let (exact_low, exact_up) = exact_enclosure((n, h, m), &w1, &w2, &vertices, false);
        let r = empirical_lower_bounds(
            &net,
            &LowerBoundOptions {
                budget_seconds: Some(0.5),
                ..LowerBoundOptions::default()
            },
        )
        .unwrap();
        assert!(
            r.best <= exact_up,
            "case {case}: certified lower {} above the exact constant {exact_up}",
            r.best
        );
        assert!(
            r.best >= 0.5 * exact_low,
            "case {case}: lower {} far below the exact constant {exact_low}",
            r.best
        );
    }
}
