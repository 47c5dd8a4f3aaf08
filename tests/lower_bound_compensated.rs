//! The compensated (Dot2) re-evaluation of the lower-bound search: on a
//! network whose layer bounds multiply to far more than its true gain, the
//! plain certified forward error swamps every pair, and the compensated
//! evaluation still certifies a ratio close to the true constant.

mod common;

use common::lcg::Lcg;
use lipcert::network::certify::{certify_layers, certify_network_with, CertifyOptions};
use lipcert::network::lower_bounds::{
    rigorous_pair_ratio, rigorous_pair_ratio_accurate, CompensatedStage, LowerBoundOptions,
};
use lipcert::network::{Network, NetworkSpec, Tensor, Weights};
use lipcert::SigmaOptions;

const N: usize = 64;
/// The diagonal's large entry: D = diag(a…a, 1/a…1/a) has σ(D) = a, while
/// D·P·D (P swapping the halves) is P up to rounding of 1/a.
const A: f64 = 1e7;

/// x ↦ D·P·D·W·x with W 64×64 of entries uniform in [−1, 1): true constant
/// about σ(W), product of the layer bounds σ(W)·a².
fn network() -> (NetworkSpec, Weights) {
    let spec = NetworkSpec::from_json(&format!(
        r#"{{"weights": "m.safetensors", "input_shape": [{N}], "layers": [
            {{"type": "linear", "weight": "w"}},
            {{"type": "linear", "weight": "d"}},
            {{"type": "linear", "weight": "p"}},
            {{"type": "linear", "weight": "d"}}]}}"#
    ))
    .unwrap();
    let mut weights = Weights::new();
    let w = Lcg(42).vec(N * N, 1.0);
    weights.insert("w", Tensor::new(vec![N, N], w).unwrap());
    let mut d = vec![0.0; N * N];
    let mut p = vec![0.0; N * N];
    for i in 0..N {
        d[i * N + i] = if i < N / 2 { A } else { 1.0 / A };
        p[i * N + (i + N / 2) % N] = 1.0;
    }
    weights.insert("d", Tensor::new(vec![N, N], d).unwrap());
    weights.insert("p", Tensor::new(vec![N, N], p).unwrap());
    (spec, weights)
}

#[test]
fn compensated_pairs_survive_where_plain_ones_are_swamped() {
    let (spec, weights) = network();
    let mut net = Network::from_spec(&spec, &weights).unwrap();
    certify_layers(&mut net, &SigmaOptions::default(), &mut |_, _| {}).unwrap();
    let mut rng = Lcg(7);
    let x = rng.vec(N, 1.0);
    let y: Vec<f64> = x.iter().map(|v| v + rng.next()).collect();
    let plain = rigorous_pair_ratio(&net, &x, &y).unwrap();
    let accurate = rigorous_pair_ratio_accurate(&net, &x, &y, 1).unwrap();
    assert_eq!(plain, 0.0, "the plain forward error should swamp this pair");
    assert!(accurate > 0.0, "the compensated pair ratio should survive");
}

#[test]
fn the_search_reaches_the_true_constant_through_the_compensated_path() {
    let (spec, weights) = network();
    let options = CertifyOptions {
        lower: Some(LowerBoundOptions::default()),
        ..CertifyOptions::default()
    };
    let report = certify_network_with(&spec, &weights, &options, &mut |_, _| {}).unwrap();
    let upper = report.upper;
    // The layers' product is about a² = 1e14 times the constant; LipLT's
    // explicit product of the four maps is far below it (its rounding
    // bound, with ‖D‖ = 1e7 twice, keeps it above σ(W) ≈ 9).
    assert!(report.bounds.product > 1e11 * upper, "{report}");
    assert!(report.lower <= upper, "{report}");
    // The true constant is σ(PW)·(1 + O(rounding of 1/a)) = σ(W), enclosed
    // by layer 0's row of the table.
    let sigma_w = report.layers[0].lower;
    assert!(
        report.lower >= 0.9 * sigma_w,
        "lower {} against sigma(W) >= {sigma_w}: {:?}",
        report.lower,
        report.lower_sources
    );
}

/// The `--lower-budget` contract on a swamped network: the compensated
/// stage is planned from its measured cost. With no time it is skipped and
/// the report says how much budget it needs (and the plain search still
/// reports its certified, here zero, ratio); with that much budget it runs
/// and certifies the constant.
#[test]
fn the_compensated_stage_is_planned_within_the_budget() {
    let (spec, weights) = network();
    let run = |budget: f64| {
        let options = CertifyOptions {
            lower: Some(LowerBoundOptions {
                budget_seconds: Some(budget),
                ..LowerBoundOptions::default()
            }),
            ..CertifyOptions::default()
        };
        certify_network_with(&spec, &weights, &options, &mut |_, _| {}).unwrap()
    };
    let starved = run(0.0);
    let sources = starved.lower_sources.clone().unwrap();
    let CompensatedStage::Skipped {
        needed_seconds: Some(needed),
    } = sources.compensated
    else {
        panic!("a zero budget must skip the compensated stage: {sources:?}");
    };
    assert!(needed > 0.0 && needed.is_finite(), "{sources:?}");
    assert!(starved.lower <= starved.upper);
    assert!(
        starved
            .to_string()
            .contains("compensated re-evaluation needs about"),
        "{starved}"
    );

    // Ten times the measured need (the machine is shared and noisy).
    let fed = run(10.0 * needed + 1.0);
    let sources = fed.lower_sources.clone().unwrap();
    assert!(
        matches!(sources.compensated, CompensatedStage::Ran { .. }),
        "{sources:?}"
    );
    let sigma_w = fed.layers[0].lower;
    assert!(
        fed.lower >= 0.9 * sigma_w && fed.lower <= fed.upper,
        "{fed}"
    );
}

/// The compensated convolutions share output channels among threads, each
/// output computed by one thread in a fixed order: the certified ratio is
/// the same bits for every thread count.
#[test]
fn compensated_convolutions_do_not_depend_on_threads() {
    let mut rng = Lcg(11);
    let net = common::net::random_certified(
        r#"{"weights": "m.safetensors", "input_shape": [2, 6, 5], "layers": [
            {"type": "conv2d", "weight": "k1", "bias": "b1", "padding": 1},
            {"type": "relu"},
            {"type": "conv2d", "weight": "k2", "padding": 1, "stride": 2}]}"#,
        &[("k1", &[5, 2, 3, 3]), ("b1", &[5]), ("k2", &[7, 5, 3, 3])],
        &mut rng,
        0.5,
    );
    let x = rng.vec(60, 1.0);
    let y: Vec<f64> = x.iter().map(|v| v + 1e-3 * rng.next()).collect();
    let one = rigorous_pair_ratio_accurate(&net, &x, &y, 1).unwrap();
    assert!(one > 0.0);
    for threads in [0, 2, 3, 7] {
        let r = rigorous_pair_ratio_accurate(&net, &x, &y, threads).unwrap();
        assert_eq!(r.to_bits(), one.to_bits(), "{threads} threads");
    }
}
