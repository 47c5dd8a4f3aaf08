//! Writes the example network `examples/cnn.json` + `examples/cnn.safetensors`:
//! a small CNN (conv, batch norm, ReLU, max pooling, a residual block,
//! average pooling, a linear head) with deterministic pseudo-random weights,
//! stored as f32 exactly as a PyTorch `state_dict` would be.
//!
//! Run: `cargo run --example make_cnn` (then `lipcert certify examples/cnn.json`).
//!
//! PyTorch equivalent of the architecture:
//! ```text
//! conv1 = Conv2d(3, 8, 3, padding=1); bn1 = BatchNorm2d(8); ReLU; MaxPool2d(2)
//! block: x + conv3(relu(bn2(conv2(x))))   (conv2, conv3: Conv2d(8, 8, 3, padding=1, bias=False))
//! ReLU; AvgPool2d(2); Flatten; fc = Linear(128, 10)
//! ```

use lipcert::network::spec::{BatchNormSpec, ConvPadding, IntOrPair, LayerSpec, NetworkSpec};
use lipcert::network::{Tensor, Weights};

/// Deterministic generator (64-bit LCG, top bits → uniform in [−1, 1)),
/// rounded to f32 so the stored file holds exactly these values.
struct Lcg(u64);

impl Lcg {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
    fn tensor(&mut self, shape: Vec<usize>, scale: f64, offset: f64) -> Tensor {
        let n = shape.iter().product();
        let data = (0..n)
            .map(|_| (offset + scale * self.uniform()) as f32 as f64)
            .collect();
        Tensor::new(shape, data).expect("shape matches")
    }
}

fn conv(weight: &str, bias: Option<&str>) -> LayerSpec {
    LayerSpec::Conv2d {
        weight: weight.into(),
        bias: bias.map(Into::into),
        stride: IntOrPair::One(1),
        padding: ConvPadding::Size(IntOrPair::One(1)),
        padding_mode: "zeros".into(),
        dilation: IntOrPair::One(1),
        groups: 1,
    }
}

fn bn(prefix: &str) -> LayerSpec {
    LayerSpec::Batchnorm2d(BatchNormSpec {
        weight: Some(format!("{prefix}.weight")),
        bias: Some(format!("{prefix}.bias")),
        running_mean: format!("{prefix}.running_mean"),
        running_var: format!("{prefix}.running_var"),
        eps: 1e-5,
    })
}

/// The example's spec and weights.
pub fn build() -> (NetworkSpec, Weights) {
    let mut rng = Lcg(0x6c69_7063_6572_7400);
    let mut w = Weights::new();
    // He-like scales: 1/sqrt(fan_in) for uniform weights.
    w.insert("conv1.weight", rng.tensor(vec![8, 3, 3, 3], 0.33, 0.0));
    w.insert("conv1.bias", rng.tensor(vec![8], 0.1, 0.0));
    for p in ["bn1", "block.bn2"] {
        w.insert(format!("{p}.weight"), rng.tensor(vec![8], 0.3, 1.0));
        w.insert(format!("{p}.bias"), rng.tensor(vec![8], 0.1, 0.0));
        w.insert(format!("{p}.running_mean"), rng.tensor(vec![8], 0.2, 0.0));
        w.insert(format!("{p}.running_var"), rng.tensor(vec![8], 0.4, 1.0));
    }
    w.insert(
        "block.conv2.weight",
        rng.tensor(vec![8, 8, 3, 3], 0.12, 0.0),
    );
    w.insert(
        "block.conv3.weight",
        rng.tensor(vec![8, 8, 3, 3], 0.12, 0.0),
    );
    w.insert("fc.weight", rng.tensor(vec![10, 128], 0.09, 0.0));
    w.insert("fc.bias", rng.tensor(vec![10], 0.05, 0.0));
    let spec = NetworkSpec {
        weights: "cnn.safetensors".into(),
        input_shape: vec![3, 16, 16],
        layers: vec![
            conv("conv1.weight", Some("conv1.bias")),
            bn("bn1"),
            LayerSpec::Relu,
            LayerSpec::Maxpool2d {
                kernel: IntOrPair::One(2),
                stride: None,
                padding: IntOrPair::One(0),
                dilation: IntOrPair::One(1),
                ceil_mode: false,
            },
            LayerSpec::Residual {
                body: vec![
                    conv("block.conv2.weight", None),
                    bn("block.bn2"),
                    LayerSpec::Relu,
                    conv("block.conv3.weight", None),
                ],
                shortcut: None,
            },
            LayerSpec::Relu,
            LayerSpec::Avgpool2d {
                kernel: IntOrPair::One(2),
                stride: None,
                padding: IntOrPair::One(0),
                ceil_mode: false,
                count_include_pad: true,
            },
            LayerSpec::Flatten,
            LayerSpec::Linear {
                weight: "fc.weight".into(),
                bias: Some("fc.bias".into()),
            },
        ],
    };
    (spec, w)
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let (spec, weights) = build();
    use lipcert::io::atomic_write::write_atomic;
    write_atomic(
        &dir.join("cnn.safetensors"),
        &weights.to_safetensors_f32_bytes()?,
    )?;
    write_atomic(&dir.join("cnn.json"), (spec.to_json() + "\n").as_bytes())?;
    println!(
        "wrote {} and {}",
        dir.join("cnn.json").display(),
        dir.join("cnn.safetensors").display()
    );
    Ok(())
}
