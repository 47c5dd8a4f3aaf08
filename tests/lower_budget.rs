//! The `--lower-budget` and `--lower-passes` contract (issue 12): the
//! budget (of seconds or of network passes) bounds the *whole* lower-bound
//! search, stage by stage, and even a budget of 0 reports a certified ratio
//! (the first random pair).

use lipcert::network::certify::{certify_network_with, CertifyOptions};
use lipcert::network::lower_bounds::{
    auto_passes, pass_cost, LowerBoundOptions, LowerBoundReport, SearchWork, AUTO_PASSES_MAX,
    AUTO_PASSES_MIN,
};
use lipcert::network::{Network, NetworkSpec, Tensor, Weights};

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

/// A work budget (network passes) runs the staged search of a time budget,
/// but counts work: the same options give the same report bit for bit, and
/// the search spends most of its passes and overruns by little.
#[test]
fn a_pass_budget_is_reproducible_and_bounded() {
    let options = LowerBoundOptions {
        work: SearchWork::Passes(5_000),
        ..LowerBoundOptions::default()
    };
    let (a, upper) = search(options.clone());
    let (b, _) = search(options);
    assert_eq!(a, b);
    assert!(a.best > 0.0 && a.best <= upper, "{a:?}");
    assert!(
        (4_250..=5_200).contains(&a.passes),
        "passes {} against a budget of 5000: {a:?}",
        a.passes
    );
    // Another seed is another search in the same budget.
    let (c, _) = search(LowerBoundOptions {
        work: SearchWork::Passes(5_000),
        seed: 7,
        ..LowerBoundOptions::default()
    });
    assert!((4_250..=5_200).contains(&c.passes), "{c:?}");
}

#[test]
fn a_zero_pass_budget_evaluates_only_the_first_pair() {
    let (r, upper) = search(LowerBoundOptions {
        work: SearchWork::Passes(0),
        ..LowerBoundOptions::default()
    });
    assert!(r.sampled_pairs > 0.0 && r.sampled_pairs <= upper, "{r:?}");
    assert_eq!(
        (r.jacobian_pairs, r.gradient_ascent, r.jacobian_ascent),
        (0.0, 0.0, 0.0),
        "{r:?}"
    );
    // One pair: two forward passes with their error bounds.
    assert_eq!(r.passes, 4, "{r:?}");
}

/// A time budget takes precedence over a work budget.
#[test]
fn a_time_budget_overrides_the_passes() {
    let (r, _) = search(LowerBoundOptions {
        budget_seconds: Some(0.0),
        work: SearchWork::Passes(1_000_000),
        ..LowerBoundOptions::default()
    });
    assert_eq!(r.passes, 4, "{r:?}");
}

/// The automatic work budget: larger networks get fewer passes but more
/// work in all (passes ∝ 1/√cost), within the bounds.
#[test]
fn automatic_passes_shrink_with_the_network() {
    let linear = |n: usize| {
        let spec = NetworkSpec::from_json(&format!(
            r#"{{"weights": "-", "input_shape": [{n}], "layers": [{{"type": "linear", "weight": "w"}}]}}"#
        ))
        .unwrap();
        let mut w = Weights::new();
        let values = (0..n * n).map(|i| ((i % 7) as f64 - 3.0) / 7.0).collect();
        w.insert("w", Tensor::new(vec![n, n], values).unwrap());
        Network::from_spec(&spec, &w).unwrap()
    };
    let (spec, w) = relu_mlp();
    let tiny = auto_passes(&Network::from_spec(&spec, &w).unwrap());
    assert!(tiny <= AUTO_PASSES_MAX);
    let (mid, big) = (linear(1000), linear(4000));
    let (mid_passes, big_passes) = (auto_passes(&mid), auto_passes(&big));
    assert!(
        AUTO_PASSES_MIN < big_passes && big_passes < mid_passes && mid_passes < tiny,
        "{big_passes} {mid_passes} {tiny}"
    );
    let work = |net: &Network, passes: u64| pass_cost(net) * passes as f64;
    assert!(work(&big, big_passes) > work(&mid, mid_passes));
    // The cost grows with the weights (16× here), not only the overhead.
    assert!(pass_cost(&big) > 8.0 * pass_cost(&mid));
}
