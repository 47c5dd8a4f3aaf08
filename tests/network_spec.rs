//! Spec parsing, shape inference and error messages that name the layer.

use lipcert::network::certify::{certify_network_with, CertifyOptions};
use lipcert::network::{Network, NetworkSpec, Tensor, Weights};

fn spec(layers: &str, input: &str) -> lipcert::Result<NetworkSpec> {
    NetworkSpec::from_json(&format!(
        r#"{{"weights": "m.safetensors", "input_shape": {input}, "layers": [{layers}]}}"#
    ))
}

fn weights(entries: &[(&str, Vec<usize>)]) -> Weights {
    let mut w = Weights::new();
    for (name, shape) in entries {
        let n: usize = shape.iter().product();
        let data = (0..n).map(|i| ((i * 7 % 11) as f64 - 5.0) / 8.0).collect();
        w.insert(*name, Tensor::new(shape.clone(), data).unwrap());
    }
    w
}

#[test]
fn attention_is_rejected_with_the_reason() {
    for ty in [
        "attention",
        "multihead_attention",
        "MultiheadAttention",
        "self_attention",
    ] {
        let err = spec(&format!(r#"{{"type": "relu"}}, {{"type": "{ty}"}}"#), "[4]")
            .unwrap_err()
            .to_string();
        assert!(err.contains("layer 1"), "{err}");
        assert!(err.contains("not globally Lipschitz"), "{err}");
        assert!(err.contains("ICML 2021"), "{err}");
    }
    // also inside a residual body
    let err = spec(
        r#"{"type": "residual", "body": [{"type": "attention"}]}"#,
        "[4]",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("layer 0.body[0]") && err.contains("not globally Lipschitz"),
        "{err}"
    );
}

#[test]
fn unknown_types_and_fields_are_named() {
    let err = spec(r#"{"type": "relu"}, {"type": "conv3d"}"#, "[4]")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("layer 1") && err.contains("conv3d") && err.contains("supported"),
        "{err}"
    );
    let err = spec(r#"{"type": "linear", "weight": "w", "wieght": "x"}"#, "[4]")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("layer 0 (linear)") && err.contains("wieght"),
        "{err}"
    );
    let err = spec(r#"{"type": "linear"}"#, "[4]")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("layer 0 (linear)") && err.contains("weight"),
        "{err}"
    );
}

#[test]
fn pytorch_defaults_and_aliases() {
    let s = spec(
        r#"{"type": "maxpool2d", "kernel_size": 3}, {"type": "leaky_relu"}, {"type": "batchnorm2d", "running_mean": "m", "running_var": "v"},
           {"type": "residual", "body": [{"type": "relu"}], "shortcut": "identity"}, {"type": "global_avgpool2d"}"#,
        "[2, 6, 6]",
    )
    .unwrap();
    let w = weights(&[("m", vec![2]), ("v", vec![2])]);
    let mut w = w;
    w.insert("v", Tensor::new(vec![2], vec![1.0, 3.0]).unwrap());
    let net = Network::from_spec(&s, &w).unwrap();
    // stride defaults to the kernel: 6 -> 2
    assert_eq!(net.nodes[0].shape_out, vec![2, 2, 2]);
    assert_eq!(net.output_shape(), &[2, 1, 1]);
    let report = certify_network_with(&s, &w, &CertifyOptions::default(), &mut |_, _| {}).unwrap();
    // leaky default slope 0.01 -> 1; batch norm gamma = 1: max 1/sqrt(var + 1e-5) = 1/sqrt(1.00001)
    assert_eq!(report.layers[1].upper, 1.0);
    let bn = 1.0 / (1.0f64 + 1e-5).sqrt();
    assert!(report.layers[2].lower <= bn && bn <= report.layers[2].upper);
    // identity residual around ReLU: 1 + 1
    assert_eq!(report.layers[3].upper, 2.0);
    // global average pool on 2x2: 1/sqrt(4) = 1/2
    assert!(report.layers[4].lower <= 0.5 && 0.5 <= report.layers[4].upper);
}

#[test]
fn shape_errors_name_the_layer() {
    let s = spec(
        r#"{"type": "flatten"}, {"type": "linear", "weight": "fc.weight"}"#,
        "[2, 3, 3]",
    )
    .unwrap();
    let err = Network::from_spec(&s, &weights(&[("fc.weight", vec![4, 17])]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("layer 1 (linear)") && err.contains("18"),
        "{err}"
    );
    let s = spec(r#"{"type": "linear", "weight": "fc.weight"}"#, "[2, 3, 3]").unwrap();
    let err = Network::from_spec(&s, &weights(&[("fc.weight", vec![4, 18])]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("flatten"), "{err}");
    let s = spec(r#"{"type": "conv2d", "weight": "c"}"#, "[3, 5, 5]").unwrap();
    let err = Network::from_spec(&s, &weights(&[("c", vec![4, 2, 3, 3])]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("layer 0 (conv2d)") && err.contains("input channels"),
        "{err}"
    );
    let s = spec(r#"{"type": "linear", "weight": "missing"}"#, "[3]").unwrap();
    let err = Network::from_spec(&s, &weights(&[("fc.weight", vec![4, 3])]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("missing") && err.contains("fc.weight"),
        "{err}"
    );
    let s = spec(
        r#"{"type": "residual", "body": [{"type": "linear", "weight": "w"}]}"#,
        "[3]",
    )
    .unwrap();
    let err = Network::from_spec(&s, &weights(&[("w", vec![4, 3])]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("layer 0 (residual)") && err.contains("[4]") && err.contains("[3]"),
        "{err}"
    );
    let s = spec(
        r#"{"type": "maxpool2d", "kernel": 4, "padding": 3}"#,
        "[1, 5, 5]",
    )
    .unwrap();
    assert!(Network::from_spec(&s, &Weights::new())
        .unwrap_err()
        .to_string()
        .contains("layer 0 (maxpool2d)"));
}

#[test]
fn non_finite_weights_and_bad_variance_are_errors() {
    let s = spec(r#"{"type": "linear", "weight": "w"}"#, "[2]").unwrap();
    let mut w = Weights::new();
    w.insert("w", Tensor::new(vec![1, 2], vec![1.0, f64::NAN]).unwrap());
    let err = Network::from_spec(&s, &w).unwrap_err().to_string();
    assert!(err.contains("non-finite"), "{err}");
    let s = spec(
        r#"{"type": "batchnorm1d", "running_mean": "m", "running_var": "v", "eps": 0}"#,
        "[2]",
    )
    .unwrap();
    let mut w = Weights::new();
    w.insert("m", Tensor::new(vec![2], vec![0.0, 0.0]).unwrap());
    w.insert("v", Tensor::new(vec![2], vec![1.0, 0.0]).unwrap());
    let err = Network::from_spec(&s, &w).unwrap_err().to_string();
    assert!(err.contains("running_var[1]"), "{err}");
}

#[test]
fn constants_of_activations_in_a_network() {
    // linear (diag 2, 1) -> sigmoid -> softmax: 2 * 1/4 * 1/2 = 1/4
    let s = spec(
        r#"{"type": "linear", "weight": "w"}, {"type": "sigmoid"}, {"type": "softmax"}"#,
        "[2]",
    )
    .unwrap();
    let mut w = Weights::new();
    w.insert(
        "w",
        Tensor::new(vec![2, 2], vec![2.0, 0.0, 0.0, 1.0]).unwrap(),
    );
    let r = certify_network_with(&s, &w, &CertifyOptions::default(), &mut |_, _| {}).unwrap();
    assert!(
        r.upper >= 0.25 && r.upper <= 0.25 * (1.0 + 1e-8),
        "{}",
        r.upper
    );
    let s = spec(
        r#"{"type": "gelu"}, {"type": "silu"}, {"type": "gelu", "approximate": "none"}"#,
        "[3]",
    )
    .unwrap();
    let r = certify_network_with(
        &s,
        &Weights::new(),
        &CertifyOptions::default(),
        &mut |_, _| {},
    )
    .unwrap();
    let want = 1.128_904_145_185_154_8f64 * 1.099_839_320_128_867 * 1.128_904_145_185_154_8;
    assert!(
        r.upper >= want * (1.0 - 1e-15) && r.upper <= want * (1.0 + 1e-7),
        "{}",
        r.upper
    );
    let s = spec(r#"{"type": "gelu", "approximate": "tanh"}"#, "[3]").unwrap();
    let r = certify_network_with(
        &s,
        &Weights::new(),
        &CertifyOptions::default(),
        &mut |_, _| {},
    )
    .unwrap();
    // mpmath: sup |f'| = 1.12899306865877176...
    assert!(
        r.upper >= 1.128_993_068_658_771_8 && r.upper <= 1.128_993_2,
        "{}",
        r.upper
    );
    let s = spec(r#"{"type": "gelu", "approximate": "erf"}"#, "[3]").unwrap();
    assert!(Network::from_spec(&s, &Weights::new())
        .unwrap_err()
        .to_string()
        .contains("approximate"));
}

#[test]
fn lower_bound_search_finds_sigma_of_a_linear_network() {
    // For f(x) = Wx the pair search along the top Jacobian vector should come
    // within 1e-6 of sigma(W) (a search that cannot find it is a bug).
    let s = spec(r#"{"type": "linear", "weight": "w", "bias": "b"}"#, "[3]").unwrap();
    let mut w = Weights::new();
    w.insert(
        "w",
        Tensor::new(vec![2, 3], vec![1.0, 2.0, 0.5, -1.0, 0.0, 3.0]).unwrap(),
    );
    w.insert("b", Tensor::new(vec![2], vec![0.3, -0.2]).unwrap());
    let r = lipcert::network::certify_network(&s, &w, &mut |_, _| {}).unwrap();
    assert!(r.lower <= r.upper);
    assert!(
        r.lower >= r.upper * (1.0 - 1e-6),
        "lower {} upper {}",
        r.lower,
        r.upper
    );
    assert!(r.ratio.unwrap() <= 1.0 + 1e-6);
}
