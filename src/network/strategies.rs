//! proptest strategies for convolution geometries and random small networks
//! (enable the `proptest` feature).
//!
//! Networks come as `(NetworkSpec, Weights)` pairs, ready for
//! [`crate::network::Network::from_spec`] or
//! [`crate::network::certify_network`].
//!
//! ```
//! use lipcert::network::{strategies::mlp, Network};
//! use proptest::strategy::{Strategy, ValueTree};
//! use proptest::test_runner::TestRunner;
//! let mut runner = TestRunner::deterministic();
//! let (spec, weights) = mlp(4, 3).new_tree(&mut runner).unwrap().current();
//! let net = Network::from_spec(&spec, &weights).unwrap();
//! assert!(net.input_len() >= 1);
//! ```

use super::lower_bounds::Sampler;
use super::spec::{BatchNormSpec, ConvPadding, IntOrPair, LayerSpec, NetworkSpec};
use super::weights::{Tensor, Weights};
use proptest::prelude::*;

/// A random valid convolution: geometry and kernel.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvCase {
    /// Input channels.
    pub c_in: usize,
    /// Output channels.
    pub c_out: usize,
    /// Input (height, width).
    pub in_hw: (usize, usize),
    /// Kernel (height, width).
    pub kernel_hw: (usize, usize),
    /// Stride.
    pub stride: (usize, usize),
    /// Symmetric zero padding (height, width).
    pub padding: (usize, usize),
    /// Dilation.
    pub dilation: (usize, usize),
    /// Groups (divides c_in and c_out).
    pub groups: usize,
    /// Kernel values (c_out, c_in/groups, kh, kw), Gaussian.
    pub kernel: Vec<f64>,
}

/// Random small convolutions (channels ≤ 4, input ≤ 7×7, kernel ≤ 3,
/// stride ≤ 2, padding ≤ 1, dilation ≤ 2, groups ∈ {1, 2}) whose kernel fits
/// the padded input.
pub fn conv_case() -> impl Strategy<Value = ConvCase> {
    (
        1usize..=2,
        1usize..=2,
        1usize..=2,
        (3usize..=7, 3usize..=7),
        (1usize..=3, 1usize..=3),
        (1usize..=2, 1usize..=2),
        (0usize..=1, 0usize..=1),
        (1usize..=2, 1usize..=2),
        any::<u64>(),
    )
        .prop_filter_map(
            "kernel larger than padded input",
            |(gi, go, groups, hw, k, s, p, d, seed)| {
                let c_in = gi * groups;
                let c_out = go * groups;
                for (n, k, p, d) in [(hw.0, k.0, p.0, d.0), (hw.1, k.1, p.1, d.1)] {
                    if n + 2 * p < d * (k - 1) + 1 {
                        return None;
                    }
                }
                let mut rng = Sampler::new(seed);
                let kernel = rng.normal_vec(c_out * gi * k.0 * k.1, 1.0);
                Some(ConvCase {
                    c_in,
                    c_out,
                    in_hw: hw,
                    kernel_hw: k,
                    stride: s,
                    padding: p,
                    dilation: d,
                    groups,
                    kernel,
                })
            },
        )
}

fn activation(kind: usize) -> LayerSpec {
    match kind % 8 {
        0 => LayerSpec::Relu,
        1 => LayerSpec::LeakyRelu {
            negative_slope: 0.1,
        },
        2 => LayerSpec::Tanh,
        3 => LayerSpec::Sigmoid,
        4 => LayerSpec::Gelu {
            approximate: "none".into(),
        },
        5 => LayerSpec::Silu,
        6 => LayerSpec::Gelu {
            approximate: "tanh".into(),
        },
        _ => LayerSpec::Softmax { dim: -1 },
    }
}

fn gaussian(rng: &mut Sampler, shape: Vec<usize>, scale: f64) -> Tensor {
    let n = shape.iter().product();
    Tensor::new(shape, rng.normal_vec(n, scale)).expect("shape matches")
}

/// Random multilayer perceptrons: input width and up to `max_depth` blocks
/// (linear + a random activation, some wrapped in identity-shortcut residual
/// blocks), widths ≤ `max_width`, Gaussian weights scaled by 1/√fan_in.
pub fn mlp(max_width: usize, max_depth: usize) -> impl Strategy<Value = (NetworkSpec, Weights)> {
    let max_width = max_width.max(1);
    (
        1..=max_width,
        prop::collection::vec(
            (1..=max_width, 0usize..8, any::<bool>()),
            1..=max_depth.max(1),
        ),
        any::<u64>(),
    )
        .prop_map(|(input, blocks, seed)| {
            let mut rng = Sampler::new(seed);
            let mut weights = Weights::new();
            let mut layers = Vec::new();
            let mut width = input;
            for (i, (out, act, residual)) in blocks.into_iter().enumerate() {
                let w = format!("fc{i}.weight");
                let b = format!("fc{i}.bias");
                let out = if residual { width } else { out };
                let scale = 1.0 / (width as f64).sqrt();
                weights.insert(w.clone(), gaussian(&mut rng, vec![out, width], scale));
                weights.insert(b.clone(), gaussian(&mut rng, vec![out], 0.1));
                let lin = LayerSpec::Linear {
                    weight: w,
                    bias: Some(b),
                };
                if residual {
                    layers.push(LayerSpec::Residual {
                        body: vec![lin, activation(act)],
                        shortcut: None,
                    });
                } else {
                    layers.push(lin);
                    layers.push(activation(act));
                }
                width = out;
            }
            (
                NetworkSpec {
                    weights: "generated".into(),
                    input_shape: vec![input],
                    layers,
                },
                weights,
            )
        })
}

/// Random small CNNs: conv (3×3, padding 1 in a random padding mode) →
/// batch-norm → ReLU → optional max-pool (2×2 stride 1, or 3×3 stride 2
/// padding 1: overlapping windows) or avg-pool → optional residual conv
/// block → flatten → linear.
pub fn small_cnn() -> impl Strategy<Value = (NetworkSpec, Weights)> {
    (
        1usize..=2,
        4usize..=6,
        1usize..=3,
        0usize..4,
        any::<bool>(),
        any::<u64>(),
        0usize..4,
    )
        .prop_map(|(c_in, hw, c_mid, pool, residual, seed, mode)| {
            let mut rng = Sampler::new(seed);
            let mut weights = Weights::new();
            let mut layers = Vec::new();
            weights.insert(
                "conv.weight",
                gaussian(&mut rng, vec![c_mid, c_in, 3, 3], 0.3),
            );
            weights.insert("conv.bias", gaussian(&mut rng, vec![c_mid], 0.1));
            layers.push(LayerSpec::Conv2d {
                weight: "conv.weight".into(),
                bias: Some("conv.bias".into()),
                stride: IntOrPair::One(1),
                padding: ConvPadding::Size(IntOrPair::One(1)),
                padding_mode: ["zeros", "circular", "reflect", "replicate"][mode].into(),
                dilation: IntOrPair::One(1),
                groups: 1,
            });
            weights.insert("bn.weight", gaussian(&mut rng, vec![c_mid], 1.0));
            weights.insert("bn.bias", gaussian(&mut rng, vec![c_mid], 0.1));
            weights.insert("bn.running_mean", gaussian(&mut rng, vec![c_mid], 0.1));
            let var: Vec<f64> = (0..c_mid).map(|_| 0.5 + rng.uniform()).collect();
            weights.insert(
                "bn.running_var",
                Tensor::new(vec![c_mid], var).expect("len"),
            );
            layers.push(LayerSpec::Batchnorm2d(BatchNormSpec {
                weight: Some("bn.weight".into()),
                bias: Some("bn.bias".into()),
                running_mean: "bn.running_mean".into(),
                running_var: "bn.running_var".into(),
                eps: 1e-5,
            }));
            layers.push(LayerSpec::Relu);
            let mut side = hw;
            let max_pool = |kernel: usize, stride: usize, padding: usize| LayerSpec::Maxpool2d {
                kernel: IntOrPair::One(kernel),
                stride: Some(IntOrPair::One(stride)),
                padding: IntOrPair::One(padding),
                dilation: IntOrPair::One(1),
                ceil_mode: false,
            };
            match pool {
                1 => {
                    layers.push(max_pool(2, 1, 0));
                    side -= 1;
                }
                3 => {
                    layers.push(max_pool(3, 2, 1));
                    side = (side - 1) / 2 + 1;
                }
                2 => {
                    layers.push(LayerSpec::Avgpool2d {
                        kernel: IntOrPair::One(2),
                        stride: None,
                        padding: IntOrPair::One(0),
                        ceil_mode: false,
                        count_include_pad: true,
                    });
                    side /= 2;
                }
                _ => {}
            }
            if residual {
                weights.insert(
                    "res.weight",
                    gaussian(&mut rng, vec![c_mid, c_mid, 3, 3], 0.2),
                );
                layers.push(LayerSpec::Residual {
                    body: vec![
                        LayerSpec::Conv2d {
                            weight: "res.weight".into(),
                            bias: None,
                            stride: IntOrPair::One(1),
                            padding: ConvPadding::Named("same".into()),
                            padding_mode: "zeros".into(),
                            dilation: IntOrPair::One(1),
                            groups: 1,
                        },
                        LayerSpec::Relu,
                    ],
                    shortcut: None,
                });
            }
            layers.push(LayerSpec::Flatten);
            let feats = c_mid * side * side;
            weights.insert("fc.weight", gaussian(&mut rng, vec![3, feats], 0.3));
            layers.push(LayerSpec::Linear {
                weight: "fc.weight".into(),
                bias: None,
            });
            (
                NetworkSpec {
                    weights: "generated".into(),
                    input_shape: vec![c_in, hw, hw],
                    layers,
                },
                weights,
            )
        })
}
