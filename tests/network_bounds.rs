//! Bound methods over the network IR (issue 12): the exact oracle of one
//! hidden ReLU / LeakyReLU layer (every activation pattern occurs when the
//! first weight has full row rank, so Lip = max_D ‖W₂DW₁‖), LipLT ≤ product,
//! certified pair ratios below every method on deeper and conv nets, the
//! closed forms of LipLT on two layers and on a residual block, and a
//! regression table that fails if a method loosens.

mod common;

use lipcert::network::bounds::liplt::{liplt_bound, liplt_bound_with};
use lipcert::network::bounds::{network_bounds, BoundMethod};
use lipcert::network::certify::{certify_layers, certify_network_with, CertifyOptions};
use lipcert::network::layer::Layer;
use lipcert::network::lower_bounds::{rigorous_pair_ratio, LowerBoundOptions};
use lipcert::network::strategies::{mlp, small_cnn};
use lipcert::network::{Network, NetworkSpec, Tensor, Weights};
use lipcert::{sigma, DenseMatrix, SigmaOptions};
use proptest::prelude::*;

/// `cases` per property, or `LIPCERT_SOUNDNESS_CASES` when set (the long
/// soundness run outside CI: `LIPCERT_SOUNDNESS_CASES=100000 cargo test
/// --release --test suite network_bounds::`).
fn long_run() -> bool {
    std::env::var("LIPCERT_SOUNDNESS_CASES").is_ok()
}

fn config(cases: u32) -> proptest::test_runner::Config {
    common::soundness::config(cases, 0x6c69_706c_7421)
}

fn certified(spec: &NetworkSpec, w: &Weights) -> Network {
    let mut net = Network::from_spec(spec, w).unwrap();
    certify_layers(&mut net, &SigmaOptions::default(), &mut |_, _| {}).unwrap();
    net
}

/// Exact product of dyadic matrices whose partial sums stay exact (small
/// integers times powers of two), row-major.
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

fn norm_enclosure(m: usize, n: usize, data: &[f64]) -> (f64, f64) {
    if data.iter().all(|v| *v == 0.0) {
        return (0.0, 0.0);
    }
    let e = sigma(
        &DenseMatrix::from_row_major(m, n, data).unwrap(),
        &SigmaOptions::default(),
    )
    .unwrap();
    (e.lower(), e.upper())
}

fn one_hidden(
    n: usize,
    h: usize,
    m: usize,
    w1: &[f64],
    b1: &[f64],
    w2: &[f64],
    act: &str,
) -> (NetworkSpec, Weights) {
    let spec = NetworkSpec::from_json(&format!(
        r#"{{"weights": "-", "input_shape": [{n}], "layers": [
            {{"type": "linear", "weight": "w1", "bias": "b1"}}, {act},
            {{"type": "linear", "weight": "w2"}}]}}"#
    ))
    .unwrap();
    let mut w = Weights::new();
    w.insert("w1", Tensor::new(vec![h, n], w1.to_vec()).unwrap());
    w.insert("b1", Tensor::new(vec![h], b1.to_vec()).unwrap());
    w.insert("w2", Tensor::new(vec![m, h], w2.to_vec()).unwrap());
    (spec, w)
}

/// Dyadic entries i/8·2^k, i ∈ [−8, 8]: every product below is exact.
fn dyadic(len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-8i32..=8, len)
        .prop_map(|v| v.into_iter().map(|i| i as f64 / 8.0).collect())
}

/// (n, h, m, W₁, b₁, W₂, scale exponent of W₁, of W₂, activation).
type OneHidden = (
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

fn one_hidden_case() -> impl Strategy<Value = OneHidden> {
    (2usize..=7, 1usize..=3)
        .prop_flat_map(|(n, m)| (Just(n), 1usize..=n, Just(m)))
        .prop_flat_map(|(n, h, m)| {
            (
                Just(n),
                Just(h),
                Just(m),
                dyadic(h * n),
                dyadic(h),
                dyadic(m * h),
                -30i32..=30,
                -30i32..=30,
                0usize..3,
            )
        })
}

proptest! {
    #![proptest_config(config(48))]

    /// certified upper (every method) ≥ exact Lip ≥ achieved lower, with the
    /// exact value enclosed by certified σ of the exactly computed W₂DW₁.
    #[test]
    fn one_hidden_layer_exact_oracle(
        (n, h, m, w1, b1, w2, k1, k2, act) in one_hidden_case()
    ) {
        let s1 = 2f64.powi(k1);
        let s2 = 2f64.powi(k2);
        let w1: Vec<f64> = w1.iter().map(|v| v * s1).collect();
        let w2: Vec<f64> = w2.iter().map(|v| v * s2).collect();
        let b1: Vec<f64> = b1.iter().map(|v| v * s1).collect();
        let (slope, act_json) = [
            (0.0, r#"{"type": "relu"}"#),
            (0.25, r#"{"type": "leaky_relu", "negative_slope": 0.25}"#),
            (-0.5, r#"{"type": "leaky_relu", "negative_slope": -0.5}"#),
        ][act];
        let (spec, w) = one_hidden(n, h, m, &w1, &b1, &w2, act_json);
        let options = CertifyOptions {
            lower: Some(LowerBoundOptions {
                pairs: 8, jacobian_points: 2, power_steps: 10, ascent_steps: 5,
                // The long run skips the Jacobian ascent (its pairs go
                // through the same certified ratio as the others).
                ascent_restarts: if long_run() { 0 } else { 1 },
                ..LowerBoundOptions::default()
            }),
            ..CertifyOptions::default()
        };
        let report = certify_network_with(&spec, &w, &options, &mut |_, _| {}).unwrap();
        let (mut exact_lo, mut exact_up) = (0.0f64, 0.0f64);
        for pattern in 0..(1usize << h) {
            let dw1: Vec<f64> = (0..h * n)
                .map(|idx| {
                    let d = if pattern >> (idx / n) & 1 == 1 { 1.0 } else { slope };
                    d * w1[idx]
                })
                .collect();
            let p = exact_product(&w2, &dw1, m, h, n);
            let (lo, up) = norm_enclosure(m, n, &p);
            exact_lo = exact_lo.max(lo);
            exact_up = exact_up.max(up);
        }
        let b = &report.bounds;
        prop_assert!(b.product >= exact_lo, "product {} < exact {exact_lo}", b.product);
        let l = b.liplt.unwrap();
        prop_assert!(l >= exact_lo, "liplt {l} < exact {exact_lo}");
        prop_assert!(l <= b.product);
        prop_assert!(report.upper >= exact_lo);
        prop_assert!(report.lower <= exact_up, "lower {} > exact {exact_up}", report.lower);
    }
}

/// Independent LipLT value of a two-layer ReLU net (c = η = ½):
/// (‖W₂W₁‖ + ‖W₂‖‖W₁‖)/2, from certified σ of the exact product.
#[test]
fn liplt_two_layer_closed_form() {
    let (n, h, m) = (5, 4, 3);
    let w1: Vec<f64> = (0..h * n)
        .map(|i| ((i * 7 % 11) as f64 - 5.0) / 4.0)
        .collect();
    let w2: Vec<f64> = (0..m * h)
        .map(|i| ((i * 5 % 9) as f64 - 4.0) / 2.0)
        .collect();
    let (spec, w) = one_hidden(n, h, m, &w1, &vec![0.5; h], &w2, r#"{"type": "relu"}"#);
    let net = certified(&spec, &w);
    let l = liplt_bound(&net.nodes, &SigmaOptions::default(), 1 << 20).unwrap();
    let p = exact_product(&w2, &w1, m, h, n);
    let (p_lo, p_up) = norm_enclosure(m, n, &p);
    let (a_lo, a_up) = norm_enclosure(h, n, &w1);
    let (b_lo, b_up) = norm_enclosure(m, h, &w2);
    let lo = (p_lo + a_lo * b_lo) / 2.0;
    let up = (p_up + a_up * b_up) / 2.0;
    assert!(l.raw >= lo * (1.0 - 1e-12), "{} < {lo}", l.raw);
    assert!(l.raw <= up * (1.0 + 1e-6), "{} > {up}", l.raw);
    assert!(l.upper <= a_up * b_up * (1.0 + 1e-9));
}

/// x + Bφ(Ax) with ReLU: LipLT = ‖I + BA/2‖ + ‖B‖‖A‖/2.
#[test]
fn liplt_residual_closed_form() {
    let n = 4;
    let a: Vec<f64> = (0..n * n)
        .map(|i| ((i * 3 % 7) as f64 - 3.0) / 4.0)
        .collect();
    let bm: Vec<f64> = (0..n * n)
        .map(|i| ((i * 5 % 9) as f64 - 4.0) / 8.0)
        .collect();
    let spec = NetworkSpec::from_json(
        r#"{"weights": "-", "input_shape": [4], "layers": [
            {"type": "residual", "body": [
                {"type": "linear", "weight": "a"}, {"type": "relu"},
                {"type": "linear", "weight": "b"}]}]}"#,
    )
    .unwrap();
    let mut w = Weights::new();
    w.insert("a", Tensor::new(vec![n, n], a.clone()).unwrap());
    w.insert("b", Tensor::new(vec![n, n], bm.clone()).unwrap());
    let net = certified(&spec, &w);
    let l = liplt_bound(&net.nodes, &SigmaOptions::default(), 1 << 20).unwrap();
    let mut ba = exact_product(&bm, &a, n, n, n);
    for (i, v) in ba.iter_mut().enumerate() {
        *v = *v / 2.0 + if i / n == i % n { 1.0 } else { 0.0 };
    }
    let (i_lo, i_up) = norm_enclosure(n, n, &ba);
    let (a_lo, a_up) = norm_enclosure(n, n, &a);
    let (b_lo, b_up) = norm_enclosure(n, n, &bm);
    assert!(l.raw >= (i_lo + a_lo * b_lo / 2.0) * (1.0 - 1e-12));
    assert!(l.raw <= (i_up + a_up * b_up / 2.0) * (1.0 + 1e-6));
}

fn check_methods(net: &Network, seed: u64) -> Result<(), TestCaseError> {
    let (bounds, _) = network_bounds(net, &BoundMethod::ALL, &SigmaOptions::default()).unwrap();
    let l = bounds.liplt.unwrap();
    prop_assert!(l <= bounds.product);
    let lb = liplt_bound(&net.nodes, &SigmaOptions::default(), 1 << 22).unwrap();
    let raw = lb.raw;
    // LipLT ≤ product is a theorem per segment (the network's product may
    // be smaller still where a joint bound crosses a segment boundary, e.g.
    // through an overlapping max pool); only the rounding terms may add a
    // little (relative, and an absolute underflow slack of a few η when the
    // product is subnormal or zero, e.g. softmax over one element).
    let segment_product: f64 = lb.segments.iter().map(|s| s.product).product();
    prop_assert!(
        raw <= segment_product * (1.0 + 1e-9) + 1e-300,
        "raw liplt {raw} > product of segments {segment_product}"
    );
    let n = net.input_len();
    let mut s = seed | 1;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    // Max pooling joined in its tournament form: a different, also sound,
    // expansion (not always below the product).
    let joined = liplt_bound_with(&net.nodes, &SigmaOptions::default(), 1 << 22, true).unwrap();
    prop_assert!(joined.upper <= bounds.product);
    for k in 0..8 {
        let x: Vec<f64> = (0..n).map(|_| 2.0 * next()).collect();
        let d = [1.0, 1e-2, 1e-4, 1e-6][k % 4];
        let y: Vec<f64> = x.iter().map(|v| v + d * next()).collect();
        let r = rigorous_pair_ratio(net, &x, &y).unwrap();
        prop_assert!(r <= l, "certified pair ratio {r} > liplt {l}");
        prop_assert!(
            r <= joined.raw,
            "certified pair ratio {r} > joined liplt {}",
            joined.raw
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(24))]

    #[test]
    fn liplt_is_sound_and_below_product_on_mlps((spec, w) in mlp(6, 4), seed in any::<u64>()) {
        check_methods(&certified(&spec, &w), seed)?;
    }
}

proptest! {
    #![proptest_config(config(8))]

    #[test]
    fn liplt_is_sound_and_below_product_on_cnns((spec, w) in small_cnn(), seed in any::<u64>()) {
        check_methods(&certified(&spec, &w), seed)?;
    }
}

/// The slope intervals contain every sampled difference quotient and match
/// the reference values (mpmath: GELU sup f′ = 1.12890414518515…,
/// SiLU 1.09983932012886…, so inf f′ = 1 − sup).
#[test]
fn slope_intervals_contain_difference_quotients() {
    use lipcert::network::special;
    type Scalar = fn(f64) -> f64;
    let cases: [(Layer, Scalar); 6] = [
        (Layer::Relu, |x| x.max(0.0)),
        (Layer::Sigmoid, special::logistic),
        (Layer::Tanh, f64::tanh),
        (Layer::Gelu, special::gelu),
        (Layer::GeluTanh, special::gelu_tanh),
        (Layer::Silu, special::silu),
    ];
    for (layer, f) in cases {
        let s = layer.slope_interval().unwrap().unwrap();
        assert!(s.lower <= s.upper);
        let mut x = -12.0;
        while x < 12.0 {
            let h = 1e-4;
            let q = (f(x + h) - f(x)) / h;
            assert!(
                q >= s.lower - 1e-6 && q <= s.upper + 1e-6,
                "{layer:?}: quotient {q} at {x} outside [{}, {}]",
                s.lower,
                s.upper
            );
            x += 0.0137;
        }
    }
    let g = Layer::Gelu.slope_interval().unwrap().unwrap();
    assert!(g.lower <= -0.128_904_145_185_154_7 && g.lower > -0.128_904_146);
    assert!(g.upper >= 1.128_904_145_185_154_7 && g.upper < 1.128_904_146);
    let si = Layer::Silu.slope_interval().unwrap().unwrap();
    assert!(si.lower <= -0.099_839_320_128_866_9 && si.lower > -0.099_84);
    let lr = Layer::LeakyRelu(-2.0).slope_interval().unwrap().unwrap();
    assert_eq!((lr.lower, lr.upper), (-2.0, 1.0));
    assert!(Layer::Flatten.slope_interval().is_none());
    let (c, eta) = lr.split();
    assert!(c - eta <= -2.0 && c + eta >= 1.0);
}

/// Regression table on fixed networks: each method's certified bound as this
/// implementation first computed it (commit "Network bounds: …"); a change
/// that loosens any method fails here (soundness is tested above, not here).
#[test]
fn regression_table_bounds_do_not_loosen() {
    let mlp = NetworkSpec::from_json(
        r#"{"weights": "examples/mlp.safetensors", "input_shape": [32], "layers": [
         {"type": "linear", "weight": "fc1.weight", "bias": "fc1.bias"}, {"type": "relu"},
         {"type": "linear", "weight": "fc2.weight"}, {"type": "gelu"},
         {"type": "residual", "body": [{"type": "linear", "weight": "fc1.weight"}, {"type": "tanh"},
            {"type": "linear", "weight": "fc2.weight"}]},
         {"type": "linear", "weight": "fc1.weight"}, {"type": "sigmoid"},
         {"type": "linear", "weight": "fc2.weight"},
         {"type": "linear", "weight": "fc3.weight"}]}"#,
    )
    .unwrap();
    let cnn = NetworkSpec::from_file(std::path::Path::new("examples/cnn.json")).unwrap();
    // (network, product, liplt)
    let table = [
        (&mlp, 0.925_242_894_183_985_9, 0.199_109_544_448_481_25),
        (&cnn, 2.512_677_310_576_448, 1.605_718_615_014_492_4),
    ];
    for (spec, product, liplt) in table {
        let w = Weights::from_safetensors_file(std::path::Path::new(&spec.weights)).unwrap();
        let net = certified(spec, &w);
        let (b, _) = network_bounds(&net, &BoundMethod::ALL, &SigmaOptions::default()).unwrap();
        assert!(
            b.product <= product * (1.0 + 1e-12),
            "product {} > {product}",
            b.product
        );
        let l = b.liplt.unwrap();
        assert!(l <= liplt * (1.0 + 1e-12), "liplt {l} > {liplt}");
    }
}
