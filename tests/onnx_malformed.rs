//! Malformed and unsupported ONNX input: a one-line error naming the file,
//! tensor or node, exit code 2 from the CLI, never a panic or a number.
#![cfg(feature = "onnx")]

mod common;

use lipcert::onnx::builder::{attr_float, attr_int, attr_ints, GraphBuilder};
use lipcert::onnx::proto::{StringStringEntryProto, TensorProto};
use lipcert::onnx::{import_bytes, import_file, ImportOptions, OnnxError};
use std::path::Path;

fn err(bytes: &[u8]) -> OnnxError {
    match import_bytes(bytes, Path::new("."), &ImportOptions::default()) {
        Ok(_) => panic!("import should fail"),
        Err(e) => e,
    }
}

fn one_line(e: &OnnxError) -> String {
    let s = e.to_string();
    assert!(!s.contains('\n'), "{s}");
    s
}

fn small_model() -> GraphBuilder {
    let mut g = GraphBuilder::new("x", &[1, 2]);
    g.init_f32("W", &[2, 2], &[1.0, 2.0, 3.0, 4.0]);
    g.node("Gemm", &["x", "W"], &["h"], vec![attr_int("transB", 1)]);
    g.node("Relu", &["h"], &["y"], vec![]);
    g
}

#[test]
fn truncated_and_garbage_bytes_are_refused() {
    let bytes = small_model().finish(&["y"], 13);
    for cut in [1, bytes.len() / 3, bytes.len() - 1] {
        let e = err(&bytes[..cut]);
        let s = one_line(&e);
        assert!(matches!(e, OnnxError::Invalid(_)), "{s}");
    }
    let e = err(b"\xff\xff\xff\xff this is not protobuf");
    assert!(one_line(&e).contains("protobuf"));
}

#[test]
fn wrong_attribute_types_missing_initializers_cycles_and_shape_mismatches() {
    // kernel_shape given as a float
    let mut g = GraphBuilder::new("x", &[1, 1, 4, 4]);
    g.node(
        "MaxPool",
        &["x"],
        &["y"],
        vec![attr_float("kernel_shape", 2.0)],
    );
    let s = one_line(&err(&g.finish(&["y"], 13)));
    assert!(s.contains("kernel_shape") && s.contains("MaxPool"), "{s}");
    // missing initializer
    let mut g = GraphBuilder::new("x", &[1, 2]);
    g.node("Gemm", &["x", "nowhere"], &["y"], vec![]);
    let s = one_line(&err(&g.finish(&["y"], 13)));
    assert!(s.contains("nowhere") && s.contains("Gemm"), "{s}");
    // cycle a → b → a
    let mut g = GraphBuilder::new("x", &[1, 2]);
    g.node("Add", &["x", "b"], &["a"], vec![]);
    g.node("Relu", &["a"], &["b"], vec![]);
    let s = one_line(&err(&g.finish(&["b"], 13)));
    assert!(s.contains("cycle"), "{s}");
    // weight that does not match the input
    let mut g = GraphBuilder::new("x", &[1, 3]);
    g.init_f32("W", &[2, 2], &[1.0; 4]);
    g.node("Gemm", &["x", "W"], &["y"], vec![attr_int("transB", 1)]);
    let s = one_line(&err(&g.finish(&["y"], 13)));
    assert!(s.contains("does not match"), "{s}");
    // raw data of the wrong length
    let mut g = small_model();
    g.graph.initializer[0].raw_data.as_mut().unwrap().pop();
    let s = one_line(&err(&g.finish(&["y"], 13)));
    assert!(s.contains("'W'") && s.contains("bytes"), "{s}");
    // conv with a kernel wider than the padded input
    let mut g = GraphBuilder::new("x", &[1, 1, 2, 2]);
    g.init_f32("K", &[1, 1, 3, 3], &[1.0; 9]);
    g.node(
        "Conv",
        &["x", "K"],
        &["y"],
        vec![attr_ints("pads", &[0, 0, 0, 0])],
    );
    let s = one_line(&err(&g.finish(&["y"], 13)));
    assert!(s.contains("Conv"), "{s}");
}

#[test]
fn what_cannot_be_bounded_is_refused_by_name() {
    // squeeze-excitation style gating: x · sigmoid(W x)
    let mut g = GraphBuilder::new("x", &[1, 2]);
    g.init_f32("W", &[2, 2], &[1.0, 0.0, 0.0, 1.0]);
    g.node("MatMul", &["x", "W"], &["h"], vec![]);
    g.node("Sigmoid", &["h"], &["s"], vec![]);
    g.node("Mul", &["x", "s"], &["y"], vec![]);
    let e = err(&g.finish(&["y"], 13));
    let s = one_line(&e);
    assert!(matches!(e, OnnxError::Unsupported(_)));
    assert!(
        s.contains("Mul_y") && s.contains("(Mul)") && s.contains("not globally Lipschitz"),
        "{s}"
    );
    // LayerNormalization
    let mut g = GraphBuilder::new("x", &[1, 4]);
    g.init_f32("g", &[4], &[1.0; 4]);
    g.node("LayerNormalization", &["x", "g"], &["y"], vec![]);
    let s = one_line(&err(&g.finish(&["y"], 17)));
    assert!(
        s.contains("LayerNormalization") && s.contains("not globally Lipschitz"),
        "{s}"
    );
    // an operator lipcert does not implement
    let mut g = GraphBuilder::new("x", &[1, 4]);
    g.node("Mish", &["x"], &["y"], vec![]);
    let s = one_line(&err(&g.finish(&["y"], 18)));
    assert!(s.contains("Mish") && s.contains("not supported"), "{s}");
}

fn external_model(location: &str, offset: &str, length: &str) -> Vec<u8> {
    let mut g = small_model();
    let w = &mut g.graph.initializer[0];
    *w = TensorProto {
        dims: vec![2, 2],
        data_type: Some(1),
        name: Some("W".into()),
        data_location: Some(1),
        external_data: vec![
            StringStringEntryProto {
                key: Some("location".into()),
                value: Some(location.into()),
            },
            StringStringEntryProto {
                key: Some("offset".into()),
                value: Some(offset.into()),
            },
            StringStringEntryProto {
                key: Some("length".into()),
                value: Some(length.into()),
            },
        ],
        ..Default::default()
    };
    g.finish(&["y"], 13)
}

#[test]
fn external_data_is_read_inside_the_model_folder_only() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("model");
    std::fs::create_dir(&sub).unwrap();
    let mut data = vec![0u8; 8];
    for v in [1.0f32, 2.0, 3.0, 4.0] {
        data.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(sub.join("model.onnx.data"), &data).unwrap();
    std::fs::write(dir.path().join("outside.data"), &data).unwrap();
    let path = sub.join("model.onnx");
    std::fs::write(&path, external_model("model.onnx.data", "8", "16")).unwrap();
    let net = import_file(&path, &ImportOptions::default()).unwrap();
    let y = lipcert::network::evaluate::forward(&net.network, &[1.0, -1.0]).unwrap();
    assert_eq!(y, vec![0.0, 0.0]); // W x = (1−2, 3−4), relu → 0
    let y = lipcert::network::evaluate::forward(&net.network, &[1.0, 1.0]).unwrap();
    assert_eq!(y, vec![3.0, 7.0]);
    for (loc, off, len, want) in [
        ("../outside.data", "8", "16", "relative path"),
        ("/etc/passwd", "0", "16", "relative path"),
        ("model.onnx.data", "16", "16", "past the end"),
        (
            "model.onnx.data",
            "0",
            "99999999999999999999",
            "non-negative integer",
        ),
        ("model.onnx.data", "0", "12", "bytes"),
        ("missing.data", "0", "16", "missing.data"),
    ] {
        std::fs::write(&path, external_model(loc, off, len)).unwrap();
        let e = import_file(&path, &ImportOptions::default()).unwrap_err();
        let s = one_line(&e);
        assert!(s.contains(want) && s.contains("'W'"), "{loc}: {s}");
    }
}

#[test]
fn the_cli_exits_2_with_one_line_on_bad_models() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.onnx");
    let bytes = small_model().finish(&["y"], 13);
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let p = path.to_str().unwrap();
    for args in [vec!["certify", p], vec!["conv", p], vec!["sigma", p]] {
        let out = common::cli::run(&args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
        assert!(out.stderr.contains("bad.onnx"), "{}", out.stderr);
    }
}
