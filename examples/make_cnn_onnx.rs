//! Writes `examples/cnn.onnx`: the network of `examples/cnn.json` with the
//! weights of `examples/cnn.safetensors`, as `torch.onnx.export` would write
//! it (Conv, BatchNormalization, Relu, MaxPool, a residual Add, AveragePool,
//! Flatten, Gemm with transB = 1; opset 13). `lipcert certify
//! examples/cnn.onnx` must give the same certified numbers as
//! `lipcert certify examples/cnn.json` (tests/onnx_example.rs checks it).
//!
//! Run: `cargo run --example make_cnn_onnx`.

use lipcert::network::Weights;
use lipcert::onnx::builder::{attr_float, attr_int, attr_ints, GraphBuilder};

fn f32s(w: &Weights, name: &str) -> (Vec<usize>, Vec<f32>) {
    let t = w.get(name, "cnn.safetensors").expect("tensor present");
    // The safetensors file stores f32: the values widen exactly and narrow back exactly.
    (t.shape.clone(), t.data.iter().map(|&v| v as f32).collect())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let w = Weights::from_safetensors_file(&dir.join("cnn.safetensors"))?;
    let mut g = GraphBuilder::new("input", &[1, 3, 16, 16]);
    let mut names: Vec<String> = w.names().map(str::to_string).collect();
    names.sort();
    for name in names {
        let (shape, data) = f32s(&w, &name);
        g.init_f32(&name, &shape, &data);
    }
    let conv = |pads: i64| {
        vec![
            attr_ints("dilations", &[1, 1]),
            attr_int("group", 1),
            attr_ints("kernel_shape", &[3, 3]),
            attr_ints("pads", &[pads, pads, pads, pads]),
            attr_ints("strides", &[1, 1]),
        ]
    };
    let bn = || vec![attr_float("epsilon", 1e-5), attr_float("momentum", 0.9)];
    g.node(
        "Conv",
        &["input", "conv1.weight", "conv1.bias"],
        &["c1"],
        conv(1),
    );
    g.node(
        "BatchNormalization",
        &[
            "c1",
            "bn1.weight",
            "bn1.bias",
            "bn1.running_mean",
            "bn1.running_var",
        ],
        &["b1"],
        bn(),
    );
    g.node("Relu", &["b1"], &["r1"], vec![]);
    g.node(
        "MaxPool",
        &["r1"],
        &["p1"],
        vec![
            attr_ints("kernel_shape", &[2, 2]),
            attr_ints("strides", &[2, 2]),
            attr_ints("pads", &[0, 0, 0, 0]),
        ],
    );
    g.node("Conv", &["p1", "block.conv2.weight"], &["c2"], conv(1));
    g.node(
        "BatchNormalization",
        &[
            "c2",
            "block.bn2.weight",
            "block.bn2.bias",
            "block.bn2.running_mean",
            "block.bn2.running_var",
        ],
        &["b2"],
        bn(),
    );
    g.node("Relu", &["b2"], &["r2"], vec![]);
    g.node("Conv", &["r2", "block.conv3.weight"], &["c3"], conv(1));
    g.node("Add", &["p1", "c3"], &["sum"], vec![]);
    g.node("Relu", &["sum"], &["r3"], vec![]);
    g.node(
        "AveragePool",
        &["r3"],
        &["p2"],
        vec![
            attr_ints("kernel_shape", &[2, 2]),
            attr_ints("strides", &[2, 2]),
            attr_ints("pads", &[0, 0, 0, 0]),
            attr_int("ceil_mode", 0),
            attr_int("count_include_pad", 1),
        ],
    );
    g.node("Flatten", &["p2"], &["f"], vec![attr_int("axis", 1)]);
    g.node(
        "Gemm",
        &["f", "fc.weight", "fc.bias"],
        &["output"],
        vec![
            attr_float("alpha", 1.0),
            attr_float("beta", 1.0),
            attr_int("transB", 1),
        ],
    );
    let path = dir.join("cnn.onnx");
    lipcert::io::atomic_write::write_atomic(&path, &g.finish(&["output"], 13))?;
    println!("wrote {}", path.display());
    Ok(())
}
