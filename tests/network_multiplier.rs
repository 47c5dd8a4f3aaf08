//! Multiplier certificates (LipSDP-Neuron type, issue 12 item 4) against
//! independent references: the exact oracle of one hidden ReLU / LeakyReLU
//! layer (W₁ of full row rank, h ≤ n: every activation pattern occurs, so
//! Lip = max_D ‖W₂DW₁‖, and for a residual block x + W₂φ(W₁x + b) it is
//! max_D ‖I + W₂DW₁‖), closed forms on diagonal layers computed by hand,
//! certified pair ratios on deeper random networks, and multiplier ≤ product.
//!
//! The long soundness run (not in CI): `LIPCERT_SOUNDNESS_CASES=100000 cargo
//! test --test suite network_multiplier::`; `LIPCERT_SOUNDNESS_SEED=K` changes
//! the proptest seed, so a long run can be done in counted chunks.

mod common;

use lipcert::network::bounds::multiplier::{multiplier_bound, DEFAULT_MAX_ENTRIES};
use lipcert::network::bounds::segment::{build_segment, segment_bound};
use lipcert::network::bounds::{network_bounds, BoundMethod};
use lipcert::network::certify::certify_layers;
use lipcert::network::lower_bounds::rigorous_pair_ratio;
use lipcert::network::strategies::{mlp, small_cnn};
use lipcert::network::{Network, NetworkSpec, Tensor, Weights};
use lipcert::{sigma, DenseMatrix, SigmaOptions};
use proptest::prelude::*;

fn config(cases: u32) -> proptest::test_runner::Config {
    common::soundness::config(cases, 0x6d75_6c74_6970)
}

fn certified(spec: &NetworkSpec, w: &Weights) -> Network {
    let mut net = Network::from_spec(spec, w).unwrap();
    certify_layers(&mut net, &SigmaOptions::default(), &mut |_, _| {}).unwrap();
    net
}

/// Exact product of dyadic matrices with few-bit entries (every partial sum
/// exact), row-major.
fn exact_product(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0;
            for l in 0..k {
                s += a[i * k + l] * b[l * n + j];
            }
            c[i * n + j] = s;
        }
    }
    c
}

/// Certified lower bound on ‖M‖₂ (0 for the zero matrix).
fn norm_lower(m: usize, n: usize, data: &[f64]) -> f64 {
    if data.iter().all(|v| *v == 0.0) {
        return 0.0;
    }
    sigma(
        &DenseMatrix::from_row_major(m, n, data).unwrap(),
        &SigmaOptions::default(),
    )
    .unwrap()
    .lower()
}

/// Dyadic entries i/8, i ∈ [−8, 8].
fn dyadic(len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-8i32..=8, len)
        .prop_map(|v| v.into_iter().map(|i| i as f64 / 8.0).collect())
}

const ACTIVATIONS: [(f64, &str); 4] = [
    (0.0, r#"{"type": "relu"}"#),
    (0.25, r#"{"type": "leaky_relu", "negative_slope": 0.25}"#),
    (-0.5, r#"{"type": "leaky_relu", "negative_slope": -0.5}"#),
    // |x|: slopes [−1, 1], the constraint without its cross term (c₁ = 0).
    (-1.0, r#"{"type": "leaky_relu", "negative_slope": -1.0}"#),
];

/// The exact constant's certified lower end: max over patterns D (slopes 1
/// or `slope`) of σ_low(R + W₂DW₁), R = I for a residual block, else 0.
fn exact_lower(
    n: usize,
    h: usize,
    m: usize,
    w1: &[f64],
    w2: &[f64],
    slope: f64,
    residual: bool,
) -> f64 {
    let mut best = 0.0f64;
    for pattern in 0..(1usize << h) {
        let dw1: Vec<f64> = (0..h * n)
            .map(|idx| {
                let d = if pattern >> (idx / n) & 1 == 1 {
                    1.0
                } else {
                    slope
                };
                d * w1[idx]
            })
            .collect();
        let mut p = exact_product(w2, &dw1, m, h, n);
        if residual {
            // Exact: residual cases use scales 2^±4 only, so every entry of
            // I + W₂DW₁ has fewer than 53 significant bits.
            for i in 0..n {
                p[i * n + i] += 1.0;
            }
        }
        best = best.max(norm_lower(m, n, &p));
    }
    best
}

type Case = (
    usize,
    usize,
    usize,
    Vec<f64>,
    Vec<f64>,
    Vec<f64>,
    i32,
    i32,
    usize,
);

fn case(residual: bool) -> impl Strategy<Value = Case> {
    (2usize..=7, 1usize..=3)
        .prop_flat_map(|(n, m)| (Just(n), 1usize..=n, Just(m)))
        .prop_flat_map(move |(n, h, m)| {
            let m = if residual { n } else { m };
            let scale = if residual { -4i32..=4 } else { -30i32..=30 };
            (
                Just(n),
                Just(h),
                Just(m),
                dyadic(h * n),
                dyadic(h),
                dyadic(m * h),
                scale.clone(),
                scale,
                0usize..4,
            )
        })
}

fn one_hidden_spec(
    n: usize,
    h: usize,
    m: usize,
    (w1, b1, w2): (&[f64], &[f64], &[f64]),
    act: &str,
    residual: bool,
) -> (NetworkSpec, Weights) {
    let body = format!(
        r#"{{"type": "linear", "weight": "w1", "bias": "b1"}}, {act},
           {{"type": "linear", "weight": "w2"}}"#
    );
    let layers = if residual {
        format!(r#"{{"type": "residual", "body": [{body}]}}"#)
    } else {
        body
    };
    let spec = NetworkSpec::from_json(&format!(
        r#"{{"weights": "-", "input_shape": [{n}], "layers": [{layers}]}}"#
    ))
    .unwrap();
    let mut w = Weights::new();
    w.insert("w1", Tensor::new(vec![h, n], w1.to_vec()).unwrap());
    w.insert("b1", Tensor::new(vec![h], b1.to_vec()).unwrap());
    w.insert("w2", Tensor::new(vec![m, h], w2.to_vec()).unwrap());
    (spec, w)
}

fn check_oracle(c: Case, residual: bool) -> Result<(), TestCaseError> {
    let (n, h, m, w1, b1, w2, k1, k2, act) = c;
    let (s1, s2) = (2f64.powi(k1), 2f64.powi(k2));
    let w1: Vec<f64> = w1.iter().map(|v| v * s1).collect();
    let b1: Vec<f64> = b1.iter().map(|v| v * s1).collect();
    let w2: Vec<f64> = w2.iter().map(|v| v * s2).collect();
    let (slope, act_json) = ACTIVATIONS[act];
    let (spec, w) = one_hidden_spec(n, h, m, (&w1, &b1, &w2), act_json, residual);
    let net = certified(&spec, &w);
    let exact = exact_lower(n, h, m, &w1, &w2, slope, residual);
    let mb = multiplier_bound(&net.nodes, &SigmaOptions::default(), DEFAULT_MAX_ENTRIES).unwrap();
    prop_assert!(mb.upper >= exact, "multiplier {} < exact {exact}", mb.upper);
    prop_assert!(mb.raw >= exact, "raw multiplier {} < exact {exact}", mb.raw);
    for p in &mb.pieces {
        prop_assert!(
            p.multiplier >= exact,
            "piece {} < exact {exact}",
            p.multiplier
        );
        prop_assert!(
            p.multiplier <= p.product * (1.0 + 1e-12),
            "used piece above its product"
        );
    }
    // The segment certificate (LipSDP-Neuron over the whole network) on its
    // own: defined for every slope interval [a, b].
    let seg = build_segment(&net.nodes, DEFAULT_MAX_ENTRIES).unwrap();
    prop_assert!(seg.is_some());
    if let Some(s) = seg.as_ref().and_then(segment_bound) {
        prop_assert!(s >= exact, "segment {s} < exact {exact}");
    }
    let (b, _) = network_bounds(&net, &BoundMethod::ALL, &SigmaOptions::default()).unwrap();
    let mult = b.multiplier.unwrap();
    prop_assert!(
        mult <= b.product,
        "multiplier {mult} > product {}",
        b.product
    );
    prop_assert!(b.product >= exact, "product {} < exact {exact}", b.product);
    let l = b.liplt.unwrap();
    prop_assert!(l >= exact, "liplt {l} < exact {exact}");
    prop_assert!(b.best().0 >= exact);
    Ok(())
}

proptest! {
    #![proptest_config(config(48))]

    /// Two-layer pieces, adversarial scales 2^±30 on each layer.
    #[test]
    fn two_layer_multiplier_is_above_the_exact_constant(c in case(false)) {
        check_oracle(c, false)?;
    }

    /// Residual blocks x + W₂φ(W₁x + b₁).
    #[test]
    fn residual_multiplier_is_above_the_exact_constant(c in case(true)) {
        check_oracle(c, true)?;
    }
}

fn check_pairs(net: &Network, seed: u64) -> Result<(), TestCaseError> {
    let mb = multiplier_bound(&net.nodes, &SigmaOptions::default(), DEFAULT_MAX_ENTRIES).unwrap();
    let (b, _) = network_bounds(net, &[BoundMethod::Product], &SigmaOptions::default()).unwrap();
    prop_assert!(mb.upper <= b.product);
    // Rounding of a different association of the same factors only.
    prop_assert!(mb.raw <= b.product * (1.0 + 1e-9) + 1e-300);
    // The segment certificate on the whole network, when it applies.
    let seg = build_segment(&net.nodes, DEFAULT_MAX_ENTRIES)
        .unwrap()
        .and_then(|s| segment_bound(&s));
    let n = net.input_len();
    let mut s = seed | 1;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    for k in 0..8 {
        let x: Vec<f64> = (0..n).map(|_| 2.0 * next()).collect();
        let d = [1.0, 1e-2, 1e-4, 1e-6][k % 4];
        let y: Vec<f64> = x.iter().map(|v| v + d * next()).collect();
        let r = rigorous_pair_ratio(net, &x, &y).unwrap();
        prop_assert!(
            r <= mb.upper,
            "certified pair ratio {r} > multiplier {}",
            mb.upper
        );
        if let Some(sb) = seg {
            prop_assert!(r <= sb, "certified pair ratio {r} > segment bound {sb}");
        }
        prop_assert!(
            r <= mb.raw,
            "certified pair ratio {r} > raw multiplier {}",
            mb.raw
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(24))]

    #[test]
    fn multiplier_is_sound_on_mlps((spec, w) in mlp(6, 4), seed in any::<u64>()) {
        check_pairs(&certified(&spec, &w), seed)?;
    }
}

proptest! {
    #![proptest_config(config(8))]

    #[test]
    fn multiplier_is_sound_on_cnns((spec, w) in small_cnn(), seed in any::<u64>()) {
        check_pairs(&certified(&spec, &w), seed)?;
    }
}

fn diagonal_net(a: &[f64], b: &[f64], residual: bool) -> Network {
    let n = a.len();
    let diag = |v: &[f64]| {
        let mut d = vec![0.0; n * n];
        for (i, x) in v.iter().enumerate() {
            d[i * n + i] = *x;
        }
        d
    };
    let (spec, w) = one_hidden_spec(
        n,
        n,
        n,
        (&diag(a), &vec![0.0; n], &diag(b)),
        r#"{"type": "relu"}"#,
        residual,
    );
    certified(&spec, &w)
}

/// Regression table with values computed by hand. Two-layer diagonal
/// ReLU piece diag(b)·relu(diag(a)x): exact Lip = max|aᵢbᵢ|; Theorem 1 with
/// dᵢ² = |bᵢ/aᵢ| gives ½λ_max(diag(bᵢ²/dᵢ² + aᵢ²dᵢ²)) = max|aᵢbᵢ| exactly,
/// while the product is max|a|·max|b|. Residual x + diag(b)relu(diag(a)x)
/// with a = b = (1, 1): exact 2, and Theorem 2 in one dimension with t = 2
/// gives κ² = (2t − 1)/(1 + t)² = ⅓, √(1 + 3) = 2 (the product says 2 as
/// well); with b = −a the block is 1-Lipschitz per coordinate (slopes 1 or
/// 1 − a²) and t = 1 makes P + Q = 0: the bound tends to 1, the product to
/// 1 + a².
/// One row of the hand-computed table: first-layer diagonal a, second-layer
/// diagonal b, residual or not, the exact constant, the product bound, and
/// the value the multiplier bound must not exceed.
type HandRow = (&'static [f64], &'static [f64], bool, f64, f64, f64);

#[test]
fn regression_table_hand_values() {
    let opts = SigmaOptions::default();
    // (a, b, residual, exact constant, product, the bound must be ≤)
    let table: [HandRow; 4] = [
        (&[2.0, 0.5, 1.0], &[0.25, 4.0, 1.0], false, 2.0, 8.0, 2.0),
        (&[3.0, 1.0], &[1.0, 3.0], false, 3.0, 9.0, 3.0),
        (&[1.0, 1.0], &[1.0, 1.0], true, 2.0, 2.0, 2.0),
        (&[0.5, 0.5], &[-0.5, -0.5], true, 1.0, 1.25, 1.0),
    ];
    for (a, b, residual, exact, product, expect) in table {
        let net = diagonal_net(a, b, residual);
        let mb = multiplier_bound(&net.nodes, &opts, DEFAULT_MAX_ENTRIES).unwrap();
        let (nb, _) = network_bounds(&net, &BoundMethod::ALL, &opts).unwrap();
        assert!(nb.product >= product && nb.product <= product * (1.0 + 1e-9));
        assert!(mb.raw >= exact, "{a:?} {b:?}: {} < exact {exact}", mb.raw);
        assert!(
            mb.raw <= expect * (1.0 + 1e-5),
            "{a:?} {b:?} residual {residual}: multiplier {} > hand value {expect}",
            mb.raw
        );
    }
}

/// The sklearn-digits MLP fixture (64 → 32 → 32 → 10, ReLU, trained weights
/// from `tools/make_digits.py`): every method is above certified pair ratios
/// (random inputs in the data's range [0, 1], and small perturbations), and
/// multiplier ≤ LipLT ≤ product (LipLT ≤ product is a theorem; multiplier ≤
/// LipLT is not, it is what this fixture shows and a regression guard).
#[test]
fn digits_mlp_methods() {
    let spec = NetworkSpec::from_file(std::path::Path::new("examples/digits.json")).unwrap();
    let w = Weights::from_safetensors_file(std::path::Path::new(&spec.weights)).unwrap();
    let net = certified(&spec, &w);
    let (b, _) = network_bounds(&net, &BoundMethod::ALL, &SigmaOptions::default()).unwrap();
    let (l, m) = (b.liplt.unwrap(), b.multiplier.unwrap());
    eprintln!("digits: product {} liplt {l} multiplier {m}", b.product);
    assert!(l <= b.product);
    assert!(m <= l, "multiplier {m} > liplt {l}");
    let mut s = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    for k in 0..64 {
        let x: Vec<f64> = (0..64).map(|_| next()).collect();
        let d = [1.0, 1e-2, 1e-5][k % 3];
        let y: Vec<f64> = x.iter().map(|v| v + d * (next() - 0.5)).collect();
        let r = rigorous_pair_ratio(&net, &x, &y).unwrap();
        assert!(r <= m, "pair ratio {r} > multiplier {m}");
    }
}

/// A residual block whose shortcut has its own activation,
/// f(x) = B·φ(Ax + a) + φ(Cx + c): the LipLT state once gave the shortcut's
/// activation the body's source index (fixed in 63e3f09). With [A; C] unit
/// upper triangular (full row rank, h + m ≤ n) every activation pattern
/// occurs, and J = [B, I]·D·[A; C], so the exact constant is the
/// one-hidden-layer oracle's max_D ‖[B, I]·D·[A; C]‖ (W₁ = [A; C],
/// W₂ = [B, I]). Every method must be above it.
fn shortcut_case() -> impl Strategy<Value = (usize, usize, usize, Vec<f64>, Vec<f64>, usize)> {
    (2usize..=7)
        .prop_flat_map(|n| (Just(n), 1usize..n))
        .prop_flat_map(|(n, h)| (Just(n), Just(h), 1usize..=n - h))
        .prop_flat_map(|(n, h, m)| {
            (
                Just(n),
                Just(h),
                Just(m),
                dyadic((h + m) * n),
                dyadic(m * h),
                0usize..ACTIVATIONS.len(),
            )
        })
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn activation_in_the_shortcut_stays_above_the_exact_constant(c in shortcut_case()) {
        let (n, h, m, upper, b, act) = c;
        // [A; C]: ones on the diagonal, dyadic entries above it, zeros below.
        let ac: Vec<f64> = (0..(h + m) * n)
            .map(|k| {
                let (i, j) = (k / n, k % n);
                match j.cmp(&i) {
                    std::cmp::Ordering::Less => 0.0,
                    std::cmp::Ordering::Equal => 1.0,
                    std::cmp::Ordering::Greater => upper[k],
                }
            })
            .collect();
        let (a, cm) = ac.split_at(h * n);
        // W₂ = [B, I_m] (row-major m × (h + m)).
        let mut w2 = vec![0.0; m * (h + m)];
        for i in 0..m {
            w2[i * (h + m)..i * (h + m) + h].copy_from_slice(&b[i * h..(i + 1) * h]);
            w2[i * (h + m) + h + i] = 1.0;
        }
        let (slope, act_json) = ACTIVATIONS[act];
        let exact = exact_lower(n, h + m, m, &ac, &w2, slope, false);
        let spec = NetworkSpec::from_json(&format!(
            r#"{{"weights": "-", "input_shape": [{n}], "layers": [
                {{"type": "residual",
                  "body": [{{"type": "linear", "weight": "a", "bias": "ab"}}, {act_json},
                           {{"type": "linear", "weight": "b"}}],
                  "shortcut": [{{"type": "linear", "weight": "c", "bias": "cb"}}, {act_json}]}}]}}"#
        ))
        .unwrap();
        let mut w = Weights::new();
        w.insert("a", Tensor::new(vec![h, n], a.to_vec()).unwrap());
        w.insert("ab", Tensor::new(vec![h], vec![0.125; h]).unwrap());
        w.insert("b", Tensor::new(vec![m, h], b.clone()).unwrap());
        w.insert("c", Tensor::new(vec![m, n], cm.to_vec()).unwrap());
        w.insert("cb", Tensor::new(vec![m], vec![-0.25; m]).unwrap());
        let net = certified(&spec, &w);
        let (bounds, _) =
            network_bounds(&net, &BoundMethod::ALL, &SigmaOptions::default()).unwrap();
        prop_assert!(bounds.product >= exact, "product {} < exact {exact}", bounds.product);
        let liplt = bounds.liplt.unwrap();
        prop_assert!(liplt >= exact, "liplt {liplt} < exact {exact}");
        let mult = bounds.multiplier.unwrap();
        prop_assert!(mult >= exact, "multiplier {mult} < exact {exact}");
    }
}

proptest! {
    #![proptest_config(config(32))]

    /// One hidden neuron: the LMI has one quadratic constraint, so by the
    /// S-lemma it is exact, and the segment certificate for slopes in [a, b]
    /// (a < 0 included, c₁ = 0 for |x|) must reach the exact constant
    /// ‖w₂‖‖w₁‖·max(|a|, |b|) up to its certification margin — a missing or
    /// wrong c₂·LᵀTL term makes it either unsound (below) or loose (above).
    #[test]
    fn one_neuron_segment_reaches_the_exact_constant(
        n in 1usize..=6,
        w1 in dyadic(6),
        w2 in dyadic(3),
        b in -8i32..=8,
        m in 1usize..=3,
        scale in -20i32..=20,
        scale2 in -20i32..=20,
        act in 0usize..4,
    ) {
        // Nonzero layers (a zero one has the trivial constant 0), without
        // rejecting cases: an all-zero draw gets a first entry 1/8.
        let nonzero = |mut w: Vec<f64>| {
            if w.iter().all(|v| *v == 0.0) {
                w[0] = 0.125;
            }
            w
        };
        let s = 2f64.powi(scale);
        let w1: Vec<f64> = nonzero(w1[..n].to_vec()).iter().map(|v| v * s).collect();
        let w2: Vec<f64> = nonzero(w2[..m].to_vec())
            .iter()
            .map(|v| v * 2f64.powi(scale2))
            .collect();
        let w2 = &w2[..];
        let (slope, act_json) = ACTIVATIONS[act];
        let (spec, w) = one_hidden_spec(n, 1, m, (&w1, &[b as f64 / 8.0], w2), act_json, false);
        let net = certified(&spec, &w);
        let exact = exact_lower(n, 1, m, &w1, w2, slope, false);
        let seg = build_segment(&net.nodes, DEFAULT_MAX_ENTRIES).unwrap().unwrap();
        let bound = segment_bound(&seg).unwrap();
        prop_assert!(bound >= exact, "segment {bound} < exact {exact}");
        // Tight at every scale: unbalanced blocks are rescaled before the
        // certificate (segment.rs, `balancing_input_scale`).
        prop_assert!(
            bound <= exact * (1.0 + 1e-5),
            "segment {bound} far above exact {exact}"
        );
    }
}

/// Max pooling inside a segment (its tournament form, ψ(t) = |t|/2 with
/// slopes [−½, ½]): the certificate reaches the exact constants of
/// non-overlapping 2×2 windows (1) and of 2×2 windows at stride 1 (2, a
/// spike read by four windows), and a segment through conv → ReLU → max
/// pool → linear stays at most the product and above certified pair ratios.
#[test]
fn max_pool_in_a_segment_reaches_its_exact_constant() {
    for (stride, exact) in [(2usize, 1.0), (1, 2.0)] {
        let spec = NetworkSpec::from_json(&format!(
            r#"{{"weights": "-", "input_shape": [2, 4, 4],
                "layers": [{{"type": "maxpool2d", "kernel": 2, "stride": {stride}}}]}}"#
        ))
        .unwrap();
        let net = certified(&spec, &Weights::new());
        let seg = build_segment(&net.nodes, DEFAULT_MAX_ENTRIES)
            .unwrap()
            .unwrap();
        let bound = segment_bound(&seg).unwrap();
        assert!(
            bound >= exact && bound <= exact * (1.0 + 1e-5),
            "stride {stride}: {bound} against {exact}"
        );
    }
    let mut rng = lipcert::random::Rng::new(9);
    let spec = NetworkSpec::from_json(
        r#"{"weights": "-", "input_shape": [2, 6, 6], "layers": [
            {"type": "conv2d", "weight": "c1", "padding": 1}, {"type": "relu"},
            {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"},
            {"type": "linear", "weight": "l"}]}"#,
    )
    .unwrap();
    let mut w = Weights::new();
    let mut gaussian = |shape: Vec<usize>| {
        let len = shape.iter().product();
        Tensor::new(shape, (0..len).map(|_| rng.normal()).collect()).unwrap()
    };
    w.insert("c1", gaussian(vec![3, 2, 3, 3]));
    w.insert("l", gaussian(vec![4, 27]));
    let net = certified(&spec, &w);
    let mb = multiplier_bound(&net.nodes, &SigmaOptions::default(), DEFAULT_MAX_ENTRIES).unwrap();
    let piece = &mb.pieces[0];
    assert_eq!((piece.kind, piece.start, piece.end), ("segment", 0, 5));
    assert!(piece.multiplier < piece.product);
    for seed in 1..=8 {
        check_pairs(&net, seed).unwrap();
    }
}
