//! The bundled `examples/cnn.onnx` (written by `examples/make_cnn_onnx.rs`
//! from `examples/cnn.safetensors`) is the network of `examples/cnn.json`:
//! the same layers, the same forward values and the same certified numbers.
#![cfg(feature = "onnx")]

mod common;

use lipcert::network::certify::certify_layers;
use lipcert::network::evaluate::forward;
use lipcert::network::lipschitz::composed_upper;
use lipcert::network::{Network, NetworkSpec, Weights};
use lipcert::onnx::{import_file, ImportOptions};
use lipcert::sigma::SigmaOptions;
use std::path::Path;

fn examples() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples"))
}

#[test]
fn onnx_and_json_spec_give_the_same_network_and_bounds() {
    let onnx = import_file(&examples().join("cnn.onnx"), &ImportOptions::default()).unwrap();
    // ONNX stores a FLOAT attribute: BatchNormalization's epsilon is the
    // f32 nearest 1e-5, while the JSON spec says 1e-5 in f64. With the same
    // ε the two front ends must agree exactly.
    let text = std::fs::read_to_string(examples().join("cnn.json")).unwrap();
    assert_eq!(text.matches("\"eps\": 0.00001").count(), 2);
    let eps32 = format!("\"eps\": {:e}", 1e-5f32 as f64);
    let spec = NetworkSpec::from_json(&text.replace("\"eps\": 0.00001", &eps32)).unwrap();
    let weights = Weights::from_safetensors_file(&examples().join("cnn.safetensors")).unwrap();
    let json = Network::from_spec(&spec, &weights).unwrap();
    let kinds = |n: &Network| n.nodes.iter().map(|n| n.kind).collect::<Vec<_>>();
    assert_eq!(kinds(&onnx.network), kinds(&json));
    assert_eq!(onnx.network.input_shape, json.input_shape);
    let x: Vec<f64> = (0..json.input_len())
        .map(|i| ((i * 29) % 97) as f64 / 48.0 - 1.0)
        .collect();
    assert_eq!(
        forward(&onnx.network, &x).unwrap(),
        forward(&json, &x).unwrap()
    );
    let (mut a, mut b) = (onnx.network.clone(), json.clone());
    certify_layers(&mut a, &SigmaOptions::default(), &mut |_, _| {}).unwrap();
    certify_layers(&mut b, &SigmaOptions::default(), &mut |_, _| {}).unwrap();
    for (na, nb) in a.nodes.iter().zip(&b.nodes) {
        let (ba, bb) = (na.bound.as_ref().unwrap(), nb.bound.as_ref().unwrap());
        assert_eq!(
            (ba.upper, ba.with_next_upper),
            (bb.upper, bb.with_next_upper),
            "{}",
            na.kind
        );
    }
    assert_eq!(
        composed_upper(&a.nodes).unwrap().0,
        composed_upper(&b.nodes).unwrap().0
    );
}

#[test]
fn cli_certify_and_forward_agree_between_front_ends() {
    let onnx = examples().join("cnn.onnx");
    let json = examples().join("cnn.json");
    let upper_line = |out: &str| {
        out.lines()
            .find(|l| l.starts_with("network Lipschitz upper bound"))
            .unwrap_or_else(|| panic!("no upper bound line in {out}"))
            .to_string()
    };
    let a = common::cli::run(&["certify", onnx.to_str().unwrap(), "--no-lower"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert!(
        a.stdout.contains("conv2d <- node 'Conv_c1' (Conv)"),
        "{}",
        a.stdout
    );
    let b = common::cli::run(&["certify", json.to_str().unwrap(), "--no-lower"]);
    assert_eq!(b.code, 0, "{}", b.stderr);
    // Equal up to the f32 storage of BatchNormalization's ε (see above).
    // "network Lipschitz upper bound (certified, rigorous): X  [method]"
    let value = |line: String| -> f64 {
        let after = line.split_once("): ").unwrap().1;
        after.split_whitespace().next().unwrap().parse().unwrap()
    };
    let (ua, ub) = (value(upper_line(&a.stdout)), value(upper_line(&b.stdout)));
    assert!((ua - ub).abs() <= 1e-9 * ub, "{ua} vs {ub}");
    // forward through both front ends on the same input
    let dir = tempfile::tempdir().unwrap();
    let x = dir.path().join("x.npy");
    let vals: Vec<f64> = (0..768).map(|i| ((i * 13) % 31) as f64 / 31.0).collect();
    std::fs::write(
        &x,
        lipcert::io::npy::encode(
            &[1, 3, 16, 16],
            lipcert::io::npy::NpyDtype::little(lipcert::matrix::SourceDtype::F32),
            false,
            &vals,
        )
        .unwrap(),
    )
    .unwrap();
    let (ya, yb) = (dir.path().join("a.npy"), dir.path().join("b.npy"));
    let o = common::cli::run(&[
        "forward",
        onnx.to_str().unwrap(),
        "--input",
        x.to_str().unwrap(),
        "--output",
        ya.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = common::cli::run(&[
        "forward",
        json.to_str().unwrap(),
        "--input",
        x.to_str().unwrap(),
        "--output",
        yb.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let read = |p: &Path| {
        lipcert::io::npy::read(&std::fs::read(p).unwrap())
            .unwrap()
            .1
    };
    let (ta, tb) = (read(&ya), read(&yb));
    for (p, q) in ta.values.iter().zip(&tb.values) {
        assert!((p - q).abs() <= 1e-9 * q.abs().max(1e-3), "{p} vs {q}");
    }
    assert_eq!(ta.shape, vec![1, 10]);
    // conv and sigma list the graph's layers without flags
    let c = common::cli::run(&["conv", onnx.to_str().unwrap()]);
    assert_eq!(c.code, 0, "{}", c.stderr);
    let rows: Vec<&str> = c
        .stdout
        .lines()
        .filter(|l| l.starts_with("Conv_"))
        .collect();
    assert_eq!(rows.len(), 3, "{}", c.stdout);
    assert!(
        rows[0].contains("conv1.weight") && rows[0].contains("conv2d 3->8 k3x3 in 16x16"),
        "{}",
        c.stdout
    );
    let s = common::cli::run(&["sigma", onnx.to_str().unwrap()]);
    assert_eq!(s.code, 0, "{}", s.stderr);
    assert!(s.stdout.contains("10x128"), "{}", s.stdout);
}
