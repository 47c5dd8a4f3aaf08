//! Fuzz-style harness for hostile network specs (issue 11): random JSON with
//! huge, zero and negative dimensions, huge strides, dilations, paddings and
//! output sizes, wrong types and nested residual blocks, run through the
//! library (`NetworkSpec::from_json` → `Network::from_spec_with` →
//! `certify_network_with` under a small memory budget) and, for a few
//! cases, through the binary.
//!
//! The contract checked: never a panic; every refusal is one line; a build
//! error names the layer (or the input shape); a certificate is finite.
//!
//! CI runs a fixed seed and `LIPCERT_FUZZ_CASES` cases (default 96); set it
//! higher for a long run, e.g. `LIPCERT_FUZZ_CASES=20000 cargo test --test
//! suite spec_fuzz:: -- --nocapture` (`LIPCERT_FUZZ_SEED=N` for another seed,
//! `LIPCERT_FUZZ_VERBOSE=1` to print every spec and refusal).

mod common;

use lipcert::budget::MemoryBudget;
use lipcert::network::certify::{certify_network_with, CertifyOptions};
use lipcert::network::lower_bounds::LowerBoundOptions;
use lipcert::network::{Network, NetworkSpec, Tensor, Weights};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngSeed};
use serde_json::{json, Value};

fn cases(default: u32) -> u32 {
    std::env::var("LIPCERT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        rng_seed: RngSeed::Fixed(
            std::env::var("LIPCERT_FUZZ_SEED")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0x11_5bec),
        ),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The tensors every spec may name (and some names it may not find).
fn weights() -> Weights {
    let mut w = Weights::new();
    let mut put = |name: &str, shape: Vec<usize>, positive: bool| {
        let n: usize = shape.iter().product();
        let data = (0..n)
            .map(|i| {
                let v = ((i * 7 % 11) as f64 - 5.0) / 8.0;
                if positive {
                    v.abs() + 0.5
                } else {
                    v
                }
            })
            .collect();
        w.insert(name, Tensor::new(shape, data).unwrap());
    };
    put("w4x6", vec![4, 6], false);
    put("w2x4", vec![2, 4], false);
    put("w6x2", vec![6, 2], false);
    put("k", vec![2, 1, 3, 3], false);
    put("k22", vec![2, 2, 1, 1], false);
    put("k2g", vec![2, 1, 2, 2], false);
    put("v2", vec![2], false);
    put("pos2", vec![2], true);
    w
}

/// Hostile sizes: zero, tiny, medium, and around 2³¹, 2³², 2⁶², 2⁶³, 2⁶⁴.
fn size() -> impl Strategy<Value = Value> {
    prop_oneof![
        24 => (1u64..9).prop_map(|v| json!(v)),
        1 => Just(json!(0)),
        2 => Just(json!(1000)),
        3 => proptest::sample::select(vec![
            1u64 << 31,
            1 << 32,
            (1 << 40) + 1,
            1 << 62,
            (1 << 63) + 3,
            u64::MAX,
        ])
        .prop_map(|v| json!(v)),
        1 => Just(json!(-1)),
        1 => Just(json!(1.5)),
        1 => Just(json!("3")),
        1 => Just(json!(null)),
    ]
}

fn int_or_pair() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => size(),
        3 => (size(), size()).prop_map(|(a, b)| json!([a, b])),
        1 => Just(json!([1, 2, 3])),
    ]
}

fn name() -> impl Strategy<Value = Value> {
    proptest::sample::select(vec![
        "w4x6", "w2x4", "w6x2", "k", "k22", "k2g", "v2", "pos2", "missing",
    ])
    .prop_map(|s| json!(s))
}

fn slope() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => Just(json!(0.01)),
        2 => Just(json!(1e308)),
        2 => Just(json!(-1e308)),
        1 => Just(json!(5e-324)),
        1 => Just(json!("nan")),
    ]
}

fn leaf_layer() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => name().prop_map(|w| json!({"type": "linear", "weight": w})),
        6 => (
            name(),
            int_or_pair(),
            int_or_pair(),
            int_or_pair(),
            size(),
            proptest::sample::select(vec!["zeros", "circular", "reflect", "replicate", "bogus"])
        )
            .prop_map(
                |(w, s, p, d, g, m)| json!({"type": "conv2d", "weight": w, "stride": s,
                "padding": p, "dilation": d, "groups": g, "padding_mode": m})
            ),
        6 => name().prop_map(|w| json!({"type": "conv2d", "weight": w, "padding": "same"})),
        6 => Just(json!({"type": "relu"})),
        6 => slope().prop_map(|s| json!({"type": "leaky_relu", "negative_slope": s})),
        6 => Just(json!({"type": "sigmoid"})),
        6 => Just(json!({"type": "tanh"})),
        6 => Just(json!({"type": "gelu", "approximate": "tanh"})),
        6 => prop_oneof![
            Just(json!(-1)),
            Just(json!(0)),
            Just(json!(i64::MIN)),
            Just(json!(i64::MAX))
        ]
        .prop_map(|d| json!({"type": "softmax", "dim": d})),
        6 => (int_or_pair(), int_or_pair(), int_or_pair(), int_or_pair())
            .prop_map(|(k, s, p, d)| json!({"type": "maxpool2d", "kernel_size": k,
                "stride": s, "padding": p, "dilation": d})),
        6 => (int_or_pair(), int_or_pair(), int_or_pair(), any::<bool>())
            .prop_map(|(k, s, p, c)| json!({"type": "avgpool2d", "kernel_size": k,
                "stride": s, "padding": p, "count_include_pad": c})),
        6 => int_or_pair().prop_map(|o| json!({"type": "adaptive_avgpool2d", "output_size": o})),
        6 => Just(json!({"type": "global_avgpool2d"})),
        6 => (name(), name()).prop_map(|(m, v)| json!({"type": "batchnorm2d",
            "running_mean": m, "running_var": v})),
        6 => (name(), name()).prop_map(|(m, v)| json!({"type": "batchnorm1d",
            "running_mean": m, "running_var": v, "eps": 1e-5})),
        6 => Just(json!({"type": "flatten"})),
        1 => Just(json!({"type": "identity"})),
        1 => Just(json!({"type": "multihead_attention"})),
        1 => Just(json!({"type": 7})),
        1 => Just(json!({"type": "relu", "extra": 1})),
        1 => Just(json!("relu")),
    ]
}

fn layer() -> impl Strategy<Value = Value> {
    leaf_layer().prop_recursive(3, 24, 4, |inner| {
        (
            proptest::collection::vec(inner.clone(), 0..4),
            prop_oneof![
                Just(None),
                Just(Some(json!("identity"))),
                proptest::collection::vec(inner, 0..3).prop_map(|v| Some(json!(v))),
            ],
        )
            .prop_map(|(body, shortcut)| {
                let mut o = json!({"type": "residual", "body": body});
                if let Some(s) = shortcut {
                    o["shortcut"] = s;
                }
                o
            })
    })
}

fn spec() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            12 => proptest::collection::vec(size(), 1..4).prop_map(Value::Array),
            6 => (1u64..4, 4u64..12).prop_map(|(c, h)| json!([c, h, h])),
            1 => Just(json!([])),
            1 => Just(json!("3x8x8")),
        ],
        proptest::collection::vec(layer(), 0..6),
    )
        .prop_map(|(input, layers)| {
            json!({"weights": "unused.safetensors", "input_shape": input, "layers": layers})
        })
}

/// Prints every refusal when `LIPCERT_FUZZ_VERBOSE` is set (long runs).
fn verbose(msg: &str) {
    if std::env::var_os("LIPCERT_FUZZ_VERBOSE").is_some() {
        println!("{msg}");
    }
}

fn small_lower() -> LowerBoundOptions {
    LowerBoundOptions {
        pairs: 4,
        jacobian_points: 1,
        power_steps: 3,
        ascent_steps: 2,
        ..LowerBoundOptions::default()
    }
}

/// Runs one spec through the library; returns a description of what
/// happened (for the long-run summary) or fails the property.
fn run_library(text: &str, w: &Weights) -> Result<&'static str, TestCaseError> {
    let budget = MemoryBudget::new(64 << 20);
    verbose(&format!("spec {text}"));
    let spec = match NetworkSpec::from_json(text) {
        Ok(s) => s,
        Err(e) => {
            let msg = e.to_string();
            prop_assert!(!msg.is_empty() && !msg.contains('\n'), "{msg}");
            verbose(&format!("refused: {msg}"));
            return Ok("spec refused");
        }
    };
    if let Err(e) = Network::from_spec_with(&spec, w, &budget) {
        let msg = e.to_string();
        verbose(&format!("refused: {msg}"));
        prop_assert!(!msg.contains('\n'), "{msg}");
        prop_assert!(
            msg.contains("layer ") || msg.contains("input_shape"),
            "a build error must name the layer: {msg}"
        );
        return Ok("build refused");
    }
    let mut options = CertifyOptions {
        lower: Some(small_lower()),
        ..CertifyOptions::default()
    };
    options.sigma.memory = budget;
    match certify_network_with(&spec, w, &options, &mut |_, _| {}) {
        Ok(r) => {
            prop_assert!(r.upper.is_finite() && r.upper >= 0.0, "upper {}", r.upper);
            prop_assert!(r.lower <= r.upper, "{} > {}", r.lower, r.upper);
            Ok("certified")
        }
        Err(e) => {
            let msg = e.to_string();
            verbose(&format!("refused by certify: {msg}"));
            prop_assert!(!msg.contains('\n'), "{msg}");
            Ok(match e {
                lipcert::Error::OverBudget { .. } => "over budget",
                lipcert::Error::CertificateFailed(_) => "no certificate",
                _ => "certify refused",
            })
        }
    }
}

#[test]
fn hostile_specs_never_panic_and_errors_name_the_layer() {
    let w = weights();
    let mut runner = proptest::test_runner::TestRunner::new(config(cases(96)));
    let outcomes =
        std::cell::RefCell::new(std::collections::BTreeMap::<&'static str, usize>::new());
    runner
        .run(&spec(), |v| {
            let text = v.to_string();
            let what = run_library(&text, &w)?;
            *outcomes.borrow_mut().entry(what).or_default() += 1;
            Ok(())
        })
        .unwrap();
    // Seen with `--nocapture` in long runs.
    let outcomes = outcomes.into_inner();
    println!("outcomes: {outcomes:?}");
    assert!(outcomes.len() >= 2, "the generator explores: {outcomes:?}");
}

/// A few generated specs through the binary: exit 0, 2 or 4, never 3 or a
/// signal.
#[test]
fn hostile_specs_through_the_binary_exit_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    // The weights file the specs point at.
    let w = weights();
    let names = ["w4x6", "w2x4", "w6x2", "k", "k22", "k2g", "v2", "pos2"];
    let data: Vec<(String, Vec<usize>, Vec<u8>)> = names
        .iter()
        .map(|n| {
            let t = w.get(n, "test").unwrap();
            (
                n.to_string(),
                t.shape.clone(),
                t.data.iter().flat_map(|x| x.to_le_bytes()).collect(),
            )
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = data
        .iter()
        .map(|(n, s, b)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(safetensors::Dtype::F64, s.clone(), b)
                    .unwrap(),
            )
        })
        .collect();
    let weights_path = dir.path().join("w.safetensors");
    std::fs::write(&weights_path, safetensors::serialize(views, None).unwrap()).unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(config(cases(96).min(12)));
    let k = std::cell::Cell::new(0);
    runner
        .run(&spec(), |mut v| {
            v["weights"] = json!("w.safetensors");
            k.set(k.get() + 1);
            let path = dir.path().join(format!("spec{}.json", k.get()));
            std::fs::write(&path, v.to_string()).unwrap();
            let o = common::cli::run(&["certify", path.to_str().unwrap(), "--max-memory", "64M"]);
            prop_assert!([0, 2, 4].contains(&o.code), "exit {}: {}", o.code, o.stderr);
            prop_assert!(o.stderr.lines().count() <= 1 || o.code == 0, "{}", o.stderr);
            Ok(())
        })
        .unwrap();
}

/// Found by the harness: a nested error repeated its parent's path and the
/// nested index lacked its closing bracket (`layer 0 (residual): invalid
/// option: layer 0 (residual).body[0 (residual): …`).
#[test]
fn nested_errors_carry_the_full_path_once() {
    let spec = NetworkSpec::from_json(
        r#"{"weights": "-", "input_shape": [1, 8, 8], "layers": [{"type": "relu"},
            {"type": "residual", "body": [{"type": "residual", "body": []}]}]}"#,
    )
    .unwrap();
    let e = Network::from_spec_with(&spec, &weights(), &MemoryBudget::new(1 << 30))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "invalid option: layer 1 (residual).body[0] (residual): residual body is empty"
    );
    let spec = NetworkSpec::from_json(
        r#"{"weights": "-", "input_shape": [1, 8, 8], "layers": [{"type": "residual",
            "body": [{"type": "maxpool2d", "kernel_size": 3, "dilation": 9223372036854775808}],
            "shortcut": [{"type": "relu"}]}]}"#,
    )
    .unwrap();
    let e = Network::from_spec_with(&spec, &weights(), &MemoryBudget::new(1 << 30))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("invalid option: layer 0 (residual).body[0] (maxpool2d): ")
            && e.contains("overflows"),
        "{e}"
    );
}

/// Found by the harness (5000-case run): these aborted on an allocation of
/// 32 GiB while the network was being built.
#[test]
fn harness_findings_are_refused_before_allocating() {
    let budget = MemoryBudget::new(64 << 20);
    for (text, named) in [
        // Default γ = 1, β = 0 of C = 2³² channels, allocated before the
        // running statistics (2 values) were checked.
        (
            r#"{"weights": "-", "input_shape": [4294967296], "layers": [
                {"type": "batchnorm1d", "running_mean": "v2", "running_var": "pos2"}]}"#,
            "layer 0 (batchnorm1d)",
        ),
        (
            r#"{"weights": "-", "input_shape": [1, 4294967296, 1], "layers": [
                {"type": "global_avgpool2d"}]}"#,
            "layer 0 (global_avgpool2d)",
        ),
        (
            r#"{"weights": "-", "input_shape": [2, 4294967296, 1], "layers": [
                {"type": "conv2d", "weight": "k22"}]}"#,
            "layer 0 (conv2d)",
        ),
        (
            r#"{"weights": "-", "input_shape": [1, 4294967296, 1], "layers": [
                {"type": "maxpool2d", "kernel_size": 1, "stride": 4294967296}]}"#,
            "layer 0 (maxpool2d)",
        ),
    ] {
        let spec = NetworkSpec::from_json(text).unwrap();
        let e = Network::from_spec_with(&spec, &weights(), &budget)
            .unwrap_err()
            .to_string();
        assert!(e.contains(named), "{e}");
    }
}

/// Found by the harness: a malformed layer inside a residual block was
/// reported as the whole block ("layer 0 (residual): data did not match any
/// variant of untagged enum IntOrPair"); it is now named itself.
#[test]
fn a_malformed_nested_layer_is_named_itself() {
    let e = NetworkSpec::from_json(
        r#"{"weights": "-", "input_shape": [1, 8, 8], "layers": [{"type": "relu"},
            {"type": "residual", "body": [{"type": "relu"},
                {"type": "residual", "body": [{"type": "maxpool2d", "kernel_size": -1}]}]}]}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("layer 1.body[1].body[0] (maxpool2d): "), "{e}");
}

/// Found by the harness (seed 7, 20 000 cases): a residual block around a
/// leaky ReLU of slope 1e308 has a finite certified bound, but the forward
/// error bound of a sample pair overflowed and failed the whole command
/// with "invalid option: … exceeds the f64 range" (exit 2). The pair now
/// proves nothing (lower bound 0) and the certificate stands.
#[test]
fn an_overflowing_forward_error_gives_no_pair_bound_not_an_error() {
    let spec = NetworkSpec::from_json(
        r#"{"weights": "-", "input_shape": [2, 11, 11], "layers": [{"type": "residual",
            "body": [{"type": "residual", "shortcut": [],
                "body": [{"type": "leaky_relu", "negative_slope": 1e308}, {"type": "tanh"}]}]}]}"#,
    )
    .unwrap();
    let options = CertifyOptions {
        lower: Some(small_lower()),
        ..CertifyOptions::default()
    };
    let r = certify_network_with(&spec, &weights(), &options, &mut |_, _| {}).unwrap();
    assert!(
        r.upper.is_finite() && r.lower <= r.upper,
        "{} {}",
        r.lower,
        r.upper
    );
}
