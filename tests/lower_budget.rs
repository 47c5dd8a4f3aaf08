//! The `--lower-budget` contract (issue 12): the budget bounds the *whole*
//! lower-bound search, stage by stage, and even a budget of 0 reports a
//! certified ratio (the first random pair).

use lipcert::network::certify::{certify_network_with, CertifyOptions};
use lipcert::network::lower_bounds::{LowerBoundOptions, LowerBoundReport};
use lipcert::network::{NetworkSpec, Tensor, Weights};

/// A 4 → 6 → 3 ReLU network with fixed, irregular weights.
fn relu_mlp() -> (NetworkSpec, Weights) {
    let spec = NetworkSpec::from_json(
        r#"{"weights": "m.safetensors", "input_shape": [4], "layers": [
            {"type": "linear", "weight": "w1", "bias": "b1"},
            {"type": "relu"},
            {"type": "linear", "weight": "w2"}]}"#,
    )
    .unwrap();
    let mut w = Weights::new();
    let fill = |n: usize, k: usize| -> Vec<f64> {
        (0..n)
            .map(|i| (((i * k + 3) % 13) as f64 - 6.0) / 5.0)
            .collect()
    };
    w.insert("w1", Tensor::new(vec![6, 4], fill(24, 7)).unwrap());
    w.insert("b1", Tensor::new(vec![6], fill(6, 5)).unwrap());
    w.insert("w2", Tensor::new(vec![3, 6], fill(18, 11)).unwrap());
    (spec, w)
}

fn search(options: LowerBoundOptions) -> (LowerBoundReport, f64) {
    let (spec, w) = relu_mlp();
    let options = CertifyOptions {
        lower: Some(options),
        ..CertifyOptions::default()
    };
    let r = certify_network_with(&spec, &w, &options, &mut |_, _| {}).unwrap();
    (r.lower_sources.unwrap(), r.upper)
}

#[test]
fn a_zero_budget_evaluates_only_the_first_pair() {
    let (r, upper) = search(LowerBoundOptions {
        budget_seconds: Some(0.0),
        ..LowerBoundOptions::default()
    });
    assert!(r.sampled_pairs > 0.0 && r.sampled_pairs <= upper, "{r:?}");
    assert_eq!(
        (r.jacobian_pairs, r.gradient_ascent, r.jacobian_ascent),
        (0.0, 0.0, 0.0),
        "stages (b)–(d) must not start once the budget is spent: {r:?}"
    );
    assert_eq!(
        (r.best, r.best_source.as_str()),
        (r.sampled_pairs, "sampled_pairs")
    );
}

#[test]
fn zero_ascent_restarts_skip_only_the_jacobian_ascent() {
    let (r, upper) = search(LowerBoundOptions {
        ascent_restarts: 0,
        ..LowerBoundOptions::default()
    });
    assert_eq!(r.jacobian_ascent, 0.0, "{r:?}");
    assert!(r.jacobian_pairs > 0.0 && r.gradient_ascent > 0.0, "{r:?}");
    assert!(r.best <= upper);
}

#[test]
fn a_generous_budget_runs_every_stage() {
    let (r, upper) = search(LowerBoundOptions {
        budget_seconds: Some(2.0),
        ..LowerBoundOptions::default()
    });
    for (name, v) in [
        ("sampled_pairs", r.sampled_pairs),
        ("jacobian_pairs", r.jacobian_pairs),
        ("gradient_ascent", r.gradient_ascent),
        ("jacobian_ascent", r.jacobian_ascent),
    ] {
        assert!(v > 0.0 && v <= upper, "{name} = {v}: {r:?}");
    }
}
