//! The ONNX paths of `lipcert conv|sigma|certify`: the same options and
//! records as the tensor-file and spec paths (each option is checked by
//! running both paths on the same stored weights), `--input-shape`, and the
//! automatic self-check against the model folder's test vectors.
#![cfg(feature = "onnx")]

mod common;

use common::cli::{run, Out};
use lipcert::io::npy::{encode, NpyDtype};
use lipcert::matrix::SourceDtype;
use lipcert::onnx::builder::{attr_int, attr_ints, GraphBuilder};
use lipcert::onnx::proto::{encode_tensor, Dimension};
use lipcert::onnx::tensor::encode_f32;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Deterministic f32-representable values in (−scale, scale).
fn values(n: usize, seed: u64, scale: f64) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (((s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * scale) as f32
        })
        .collect()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, bytes).unwrap();
    p
}

fn npy_f32(dir: &Path, name: &str, shape: &[usize], v: &[f32]) -> PathBuf {
    let vals: Vec<f64> = v.iter().map(|&x| f64::from(x)).collect();
    let bytes = encode(shape, NpyDtype::little(SourceDtype::F32), false, &vals).unwrap();
    write(dir, name, &bytes)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The JSON lines of a successful run.
fn json_lines(o: &Out) -> Vec<Value> {
    assert_eq!(o.code, 0, "{}", o.stderr);
    o.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The record without the fields that name the source or the time.
fn comparable(v: &Value) -> Value {
    let mut m = v.as_object().unwrap().clone();
    for k in ["file", "tensor", "node", "seconds"] {
        m.remove(k);
    }
    Value::Object(m)
}

const CONV_K: [usize; 4] = [4, 2, 3, 3];

/// Conv over a 4×7×6 input: pads [top 1, left 0, bottom 2, right 1],
/// stride (2, 1), dilation (1, 2), groups 2; the kernel is also written as
/// `k.npy` for the tensor-file path.
fn conv_model(dir: &Path) -> (PathBuf, PathBuf) {
    let k = values(CONV_K.iter().product(), 11, 0.5);
    let mut g = GraphBuilder::new("x", &[1, 4, 7, 6]);
    g.init_f32("conv.weight", &CONV_K, &k);
    g.node(
        "Conv",
        &["x", "conv.weight"],
        &["y"],
        vec![
            attr_ints("pads", &[1, 0, 2, 1]),
            attr_ints("strides", &[2, 1]),
            attr_ints("dilations", &[1, 2]),
            attr_int("group", 2),
        ],
    );
    let model = write(dir, "conv.onnx", &g.finish(&["y"], 13));
    (model, npy_f32(dir, "k.npy", &CONV_K, &k))
}

/// The flags of the tensor-file path for the geometry of [`conv_model`].
const CONV_FLAGS: [&str; 10] = [
    "--input",
    "7x6",
    "--stride",
    "2,1",
    "--padding",
    "1,0,2,1",
    "--dilation",
    "1,2",
    "--groups",
    "2",
];

#[test]
fn onnx_conv_gives_the_tensor_path_record_for_every_option() {
    let dir = tempfile::tempdir().unwrap();
    let (model, npy) = conv_model(dir.path());
    for extra in [
        vec![],
        vec!["--rel-width", "0.5"],
        vec!["--rel-width", "1e-12"],
    ] {
        let mut a = vec!["conv", s(&model), "--json"];
        a.extend(&extra);
        let onnx = json_lines(&run(&a));
        let mut b = vec!["conv", s(&npy), "--json"];
        b.extend(CONV_FLAGS);
        b.extend(&extra);
        let file = json_lines(&run(&b));
        assert_eq!(onnx.len(), 1);
        let r = &onnx[0];
        assert_eq!(r["node"], "Conv_y");
        assert_eq!(r["tensor"], "conv.weight");
        assert_eq!(r["dtype"], "f32");
        assert_eq!(r["shape"], serde_json::json!(CONV_K));
        assert_eq!(comparable(r), comparable(&file[0]), "options {extra:?}");
        let target = extra.get(1).map_or(1e-9, |t| t.parse::<f64>().unwrap());
        assert_eq!(r["target_rel_width"].as_f64(), Some(target));
        // The geometry from the graph, written out by hand: output
        // ⌊(7 + 3 − 1·2 − 1)/2⌋ + 1 = 4 rows, (6 + 1 − 2·2 − 1) + 1 = 3 columns.
        assert_eq!(
            r["operator"],
            "conv2d 4->4 k3x3 in 7x6 stride 2x1 pad (1,0,2,1) zeros dil 1x2 groups 2 -> 4x3"
        );
    }
    // The table names the node and the tensor and shows the same operator.
    let t = run(&["conv", s(&model)]);
    assert_eq!(t.code, 0, "{}", t.stderr);
    assert!(t.stdout.contains("Conv_y") && t.stdout.contains("conv.weight"));
    assert!(t.stdout.contains("-> 4x3") && t.stdout.contains("rel width"));
}

#[test]
fn onnx_conv_refuses_bad_options_like_the_tensor_path() {
    let dir = tempfile::tempdir().unwrap();
    let (model, npy) = conv_model(dir.path());
    // --rel-width must be positive: same message on both paths.
    let a = run(&["conv", s(&model), "--rel-width", "0"]);
    let mut b = vec!["conv", s(&npy), "--rel-width", "0"];
    b.extend(CONV_FLAGS);
    let b = run(&b);
    assert_eq!((a.code, b.code), (2, 2), "{}\n{}", a.stderr, b.stderr);
    assert!(a
        .stderr
        .contains("--rel-width 0 must be a positive finite number"));
    assert!(b
        .stderr
        .contains("--rel-width 0 must be a positive finite number"));
    // A memory budget too small for the job: refused before allocating,
    // naming the node.
    let a = run(&["conv", s(&model), "--max-memory", "1K"]);
    let mut b = vec!["conv", s(&npy), "--max-memory", "1K"];
    b.extend(CONV_FLAGS);
    let b = run(&b);
    assert_eq!((a.code, b.code), (2, 2), "{}\n{}", a.stderr, b.stderr);
    assert!(a.stderr.contains("node 'Conv_y' (Conv)"), "{}", a.stderr);
    assert!(a.stderr.contains("budget"), "{}", a.stderr);
    assert!(a.stdout.is_empty(), "{}", a.stdout);
    // Enough memory: certified.
    assert_eq!(run(&["conv", s(&model), "--max-memory", "1G"]).code, 0);
    // Geometry flags do not apply to a graph.
    let a = run(&["conv", s(&model), "--input", "8x8"]);
    assert_eq!(a.code, 2);
    assert!(a.stderr.contains("comes from the graph"), "{}", a.stderr);
    let a = run(&["conv", s(&model), "--stride", "2"]);
    assert_eq!(a.code, 2);
    // --input-shape is for ONNX models only.
    let mut b = vec!["conv", s(&npy), "--input-shape", "4,7,6"];
    b.extend(CONV_FLAGS);
    let b = run(&b);
    assert_eq!(b.code, 2);
    assert!(b.stderr.contains("ONNX models only"), "{}", b.stderr);
    // --tensor selects by node or weight name; an unknown name is an error.
    for name in ["Conv_y", "conv.weight"] {
        assert_eq!(
            json_lines(&run(&["conv", s(&model), "--tensor", name, "--json"])).len(),
            1
        );
    }
    let a = run(&["conv", s(&model), "--tensor", "nope"]);
    assert_eq!(a.code, 2);
    assert!(
        a.stderr.contains("'nope'") && a.stderr.contains("Conv_y"),
        "{}",
        a.stderr
    );
}

/// Gemm (transB: W = B as stored, 5×4) then MatMul (W = Cᵀ, C stored 5×3).
fn mlp_model(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let b = values(20, 5, 1.0);
    let c = values(15, 6, 1.0);
    let mut g = GraphBuilder::new("x", &[1, 4]);
    g.init_f32("fc1.weight", &[5, 4], &b)
        .init_f32("fc2.weight", &[5, 3], &c);
    g.node(
        "Gemm",
        &["x", "fc1.weight"],
        &["h"],
        vec![attr_int("transB", 1)],
    );
    g.node("Relu", &["h"], &["r"], vec![]);
    g.node("MatMul", &["r", "fc2.weight"], &["y"], vec![]);
    let model = write(dir, "mlp.onnx", &g.finish(&["y"], 13));
    (
        model,
        npy_f32(dir, "b.npy", &[5, 4], &b),
        npy_f32(dir, "c.npy", &[5, 3], &c),
    )
}

#[test]
fn onnx_sigma_gives_the_tensor_path_record_for_every_option() {
    let dir = tempfile::tempdir().unwrap();
    let (model, b, c) = mlp_model(dir.path());
    let options: [&[&str]; 5] = [
        &[],
        &["--method", "gram"],
        &["--method", "lanczos", "--failure-probability", "1e-6"],
        &["--rel-width", "0.25"],
        &["--max-memory", "1G"],
    ];
    for extra in options {
        let mut a = vec!["sigma", s(&model), "--json"];
        a.extend(extra);
        let onnx = json_lines(&run(&a));
        assert_eq!(onnx.len(), 2);
        assert_eq!(
            (&onnx[0]["node"], &onnx[0]["tensor"]),
            (&Value::from("Gemm_h"), &Value::from("fc1.weight"))
        );
        assert_eq!(
            (&onnx[1]["node"], &onnx[1]["tensor"]),
            (&Value::from("MatMul_y"), &Value::from("fc2.weight"))
        );
        for (r, npy) in onnx.iter().zip([&b, &c]) {
            let mut t = vec!["sigma", s(npy), "--json"];
            t.extend(extra);
            let file = json_lines(&run(&t));
            assert_eq!(comparable(r), comparable(&file[0]), "options {extra:?}");
        }
        if extra.contains(&"--failure-probability") {
            assert_eq!(onnx[0]["guarantee"], "probabilistic");
            let p = onnx[0]["failure_probability"].as_f64().unwrap();
            assert!(p > 0.0 && p <= 1e-6, "{p}");
        } else {
            assert_eq!(onnx[0]["guarantee"], "rigorous");
        }
    }
    // Bad options: the tensor path's messages.
    let a = run(&["sigma", s(&model), "--rel-width", "2"]);
    assert_eq!(a.code, 2);
    assert!(
        a.stderr.contains("--rel-width 2 must be in (0, 1)"),
        "{}",
        a.stderr
    );
    let a = run(&["sigma", s(&model), "--max-memory", "16"]);
    assert_eq!(a.code, 2, "{}", a.stderr);
    assert!(a.stderr.contains("node 'Gemm_h' (Gemm)"), "{}", a.stderr);
    let a = run(&["sigma", s(&model), "--tensor", "fc2.weight", "--json"]);
    assert_eq!(json_lines(&a).len(), 1);
    let t = run(&["sigma", s(&model)]);
    assert_eq!(t.code, 0, "{}", t.stderr);
    assert!(t.stdout.contains("MatMul_y") && t.stdout.contains("fc2.weight"));
}

#[test]
fn onnx_sigma_include_and_exclude_select_weights_by_tensor_name() {
    let dir = tempfile::tempdir().unwrap();
    let (model, _, _) = mlp_model(dir.path());
    let tensors = |a: &[&str]| -> Vec<Value> {
        let o = run(a);
        assert_eq!(o.code, 0, "{a:?}: {}", o.stderr);
        json_lines(&o).iter().map(|r| r["tensor"].clone()).collect()
    };
    let m = s(&model);
    assert_eq!(
        tensors(&["sigma", m, "--json", "--include", "fc2.*"]),
        [Value::from("fc2.weight")]
    );
    assert_eq!(
        tensors(&["sigma", m, "--json", "--exclude", "fc2.*"]),
        [Value::from("fc1.weight")]
    );
    // The exclude wins over the include; a pattern matching nothing of
    // both is not an empty listing but an error naming the file.
    assert_eq!(
        tensors(&[
            "sigma",
            m,
            "--json",
            "--include",
            "fc?.weight",
            "--exclude",
            "fc1*"
        ]),
        [Value::from("fc2.weight")]
    );
    let o = run(&["sigma", m, "--json", "--include", "conv*"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("mlp.onnx") && o.stderr.contains("kept none of the 2"),
        "{}",
        o.stderr
    );
    let o = run(&["sigma", m, "--include", "fc1*"]);
    assert!(o.stderr.contains("left out 1 of 2"), "{}", o.stderr);
}

/// Conv(2→3, 3×3, pad 1) → Relu → GlobalAveragePool → Flatten → Gemm(3→4)
/// on an input whose dimensions `dims` are fixed (Some) or symbolic (None).
fn cnn_model(dims: [Option<usize>; 4]) -> Vec<u8> {
    let mut g = GraphBuilder::new("x", &[1, 2, 5, 5]);
    let d = &mut g.graph.input[0]
        .r#type
        .as_mut()
        .unwrap()
        .tensor_type
        .as_mut()
        .unwrap()
        .shape
        .as_mut()
        .unwrap()
        .dim;
    for (k, v) in dims.iter().enumerate() {
        d[k] = Dimension {
            dim_value: v.map(|v| v as i64),
            dim_param: v.is_none().then(|| format!("d{k}")),
        };
    }
    g.init_f32("w", &[3, 2, 3, 3], &values(54, 21, 0.5))
        .init_f32("fc", &[4, 3], &values(12, 22, 1.0));
    g.node(
        "Conv",
        &["x", "w"],
        &["c"],
        vec![attr_ints("pads", &[1, 1, 1, 1])],
    );
    g.node("Relu", &["c"], &["r"], vec![]);
    g.node("GlobalAveragePool", &["r"], &["p"], vec![]);
    g.node("Flatten", &["p"], &["f"], vec![]);
    g.node("Gemm", &["f", "fc"], &["y"], vec![attr_int("transB", 1)]);
    g.finish(&["y"], 13)
}

/// The certified upper bound of a successful `certify --json` run.
fn upper(o: &Out) -> f64 {
    json_lines(o)[0]["upper"].as_f64().unwrap()
}

#[test]
fn certify_input_shape_overrides_symbolic_dimensions_and_rejects_wrong_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let fixed = write(
        dir.path(),
        "fixed.onnx",
        &cnn_model([Some(1), Some(2), Some(5), Some(5)]),
    );
    let batch = write(
        dir.path(),
        "batch.onnx",
        &cnn_model([None, Some(2), Some(5), Some(5)]),
    );
    let spatial = write(
        dir.path(),
        "spatial.onnx",
        &cnn_model([None, Some(2), None, None]),
    );
    let certify = |m: &Path, extra: &[&str]| {
        let mut a = vec!["certify", s(m), "--no-lower", "--json"];
        a.extend(extra);
        run(&a)
    };
    let reference = upper(&certify(&fixed, &[]));
    // A symbolic batch dimension needs nothing; the override gives the same.
    assert_eq!(upper(&certify(&batch, &[])), reference);
    assert_eq!(
        upper(&certify(&batch, &["--input-shape", "2,5,5"])),
        reference
    );
    // Symbolic spatial dimensions: refused without --input-shape, the same
    // network with it.
    let o = certify(&spatial, &[]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("symbolic dimension") && o.stderr.contains("--input-shape"),
        "{}",
        o.stderr
    );
    assert_eq!(
        upper(&certify(&spatial, &["--input-shape", "2,5,5"])),
        reference
    );
    assert_eq!(
        upper(&certify(&spatial, &["--input-shape", "2x5x5"])),
        reference
    );
    // A different size is a different operator, still certified.
    let big = certify(&spatial, &["--input-shape", "2,9,9"]);
    assert!(upper(&big) > 0.0);
    // Wrong shapes: one line naming the problem, exit 2.
    let o = certify(&spatial, &["--input-shape", "2,5"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("rank 4"), "{}", o.stderr);
    let o = certify(&spatial, &["--input-shape", "3,5,5"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("node 'Conv_c' (Conv)"), "{}", o.stderr);
    let o = certify(&spatial, &["--input-shape", "2,0,5"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("--input-shape"), "{}", o.stderr);
    let o = certify(&spatial, &["--input-shape", "2,a,5"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("--input-shape"), "{}", o.stderr);
    // A fixed declared size is overridden too (the kernel still fits).
    assert!(upper(&certify(&fixed, &["--input-shape", "2,4,4"])) > 0.0);
    for o in [
        certify(&spatial, &["--input-shape", "2,5"]),
        certify(&spatial, &["--input-shape", "3,5,5"]),
    ] {
        assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
        assert!(o.stdout.is_empty());
    }
    // conv and sigma take it as well.
    let o = run(&["conv", s(&spatial), "--input-shape", "2,5,5", "--json"]);
    let op = json_lines(&o)[0]["operator"].as_str().unwrap().to_owned();
    assert!(op.contains("in 5x5"), "{op}");
    assert_eq!(run(&["conv", s(&spatial)]).code, 2);
    assert_eq!(
        run(&["sigma", s(&spatial), "--input-shape", "2,5,5"]).code,
        0
    );
    // A spec declares its own input shape.
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/cnn.json");
    let o = run(&["certify", spec, "--input-shape", "3,16,16"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("ONNX models only"), "{}", o.stderr);
}

/// y = W₂·relu(W₁x + b₁) for the self-check model, in float64.
fn mlp_reference(w1: &[f32], b1: &[f32], w2: &[f32], x: &[f64]) -> Vec<f64> {
    let h: Vec<f64> = (0..5)
        .map(|i| {
            let v: f64 =
                (0..4).map(|j| f64::from(w1[i * 4 + j]) * x[j]).sum::<f64>() + f64::from(b1[i]);
            v.max(0.0)
        })
        .collect();
    (0..3)
        .map(|i| (0..5).map(|j| f64::from(w2[i * 5 + j]) * h[j]).sum())
        .collect()
}

/// A model folder as the ONNX test suites lay it out: `model.onnx` and
/// `test_data_set_k/{input_0,output_0}.pb`, the outputs computed by an
/// independent float64 reference, rounded to f32 and multiplied by
/// `corrupt[k]`.
fn self_check_folder(dir: &Path, corrupt: &[f32]) -> PathBuf {
    let (w1, b1, w2) = (values(20, 31, 1.0), values(5, 32, 1.0), values(15, 33, 1.0));
    let mut g = GraphBuilder::new("x", &[1, 4]);
    g.init_f32("W1", &[5, 4], &w1)
        .init_f32("b1", &[5], &b1)
        .init_f32("W2", &[3, 5], &w2);
    g.node(
        "Gemm",
        &["x", "W1", "b1"],
        &["h"],
        vec![attr_int("transB", 1)],
    );
    g.node("Relu", &["h"], &["r"], vec![]);
    g.node("Gemm", &["r", "W2"], &["y"], vec![attr_int("transB", 1)]);
    let model = write(dir, "model.onnx", &g.finish(&["y"], 13));
    for (k, &factor) in corrupt.iter().enumerate() {
        let x = values(4, 40 + k as u64, 2.0);
        let xd: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        let y: Vec<f32> = mlp_reference(&w1, &b1, &w2, &xd)
            .iter()
            .map(|&v| v as f32 * factor)
            .collect();
        let set = format!("test_data_set_{k}");
        write(
            dir,
            &format!("{set}/input_0.pb"),
            &encode_tensor(&encode_f32("x", &[1, 4], &x)),
        );
        write(
            dir,
            &format!("{set}/output_0.pb"),
            &encode_tensor(&encode_f32("y", &[1, 3], &y)),
        );
    }
    model
}

/// The deviation in `self-check on the model's test vectors: largest
/// relative deviation D`.
fn reported_deviation(stdout: &str) -> f64 {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("self-check on the model's test vectors"))
        .unwrap_or_else(|| panic!("no self-check line in {stdout}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[test]
fn certify_checks_itself_against_the_model_folders_test_vectors() {
    // Matching outputs: the deviation is the f32 rounding of the stored
    // outputs (≤ 2⁻²⁴ relative to the largest), reported in text and JSON.
    let dir = tempfile::tempdir().unwrap();
    let model = self_check_folder(dir.path(), &[1.0, 1.0]);
    let o = run(&["certify", s(&model), "--no-lower"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let dev = reported_deviation(&o.stdout);
    assert!(dev <= 1.01 * 2f64.powi(-24), "{dev}");
    let j = json_lines(&run(&["certify", s(&model), "--no-lower", "--json"]));
    let dev_json = j[0]["self_check_deviation"].as_f64().unwrap();
    assert!(dev_json <= 1.01 * 2f64.powi(-24), "{dev_json}");
    // No test vectors: no self-check line and no field.
    let plain = tempfile::tempdir().unwrap();
    std::fs::copy(&model, plain.path().join("model.onnx")).unwrap();
    let p = plain.path().join("model.onnx");
    let o = run(&["certify", s(&p), "--no-lower"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!o.stdout.contains("self-check"), "{}", o.stdout);
    let j = json_lines(&run(&["certify", s(&p), "--no-lower", "--json"]));
    assert!(j[0].get("self_check_deviation").is_none());
    // One set's outputs are 1.5 times what the network computes: deviation
    // 1/3 relative to the stored maximum, above the tolerance: no
    // certificate (exit 4), no numbers, one line giving the deviation.
    let bad = tempfile::tempdir().unwrap();
    let model = self_check_folder(bad.path(), &[1.0, 1.5]);
    let o = run(&["certify", s(&model), "--no-lower"]);
    assert_eq!(o.code, 4, "{}", o.stderr);
    assert!(o.stdout.is_empty(), "{}", o.stdout);
    assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
    assert!(o.stderr.contains("self-check failed"), "{}", o.stderr);
    let dev: f64 = o
        .stderr
        .split("by ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .unwrap()
        .parse()
        .unwrap();
    // (printed with four significant digits)
    assert!((dev - 1.0 / 3.0).abs() < 1e-4, "{dev}");
    // Test vectors of the wrong size: bad input naming the file.
    let odd = tempfile::tempdir().unwrap();
    let model = self_check_folder(odd.path(), &[1.0]);
    write(
        odd.path(),
        "test_data_set_0/output_0.pb",
        &encode_tensor(&encode_f32("y", &[1, 2], &[1.0, 2.0])),
    );
    let o = run(&["certify", s(&model), "--no-lower"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("output_0.pb"), "{}", o.stderr);
}
