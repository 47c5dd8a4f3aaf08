//! The JSON network description, mirroring PyTorch modules:
//! `{"weights": "model.safetensors", "input_shape": [C, H, W] or [n], "layers": [...]}`.
//!
//! Tensor names are the keys of the model's `state_dict` saved with
//! safetensors. Layer objects carry a `"type"` and the module's arguments
//! with PyTorch names and defaults:
//!
//! | type | fields (defaults) |
//! |---|---|
//! | `linear` | `weight`, `bias` (none) |
//! | `conv2d` | `weight`, `bias`, `stride` (1), `padding` (0, int, pair, `"valid"`, `"same"`), `padding_mode` (`"zeros"`), `dilation` (1), `groups` (1) |
//! | `conv_transpose2d` | `weight` (C_in, C_out/groups, kh, kw), `bias`, `stride` (1), `padding` (0, int or pair), `output_padding` (0), `groups` (1), `dilation` (1) |
//! | `relu`, `sigmoid`, `tanh`, `silu`, `flatten` | – |
//! | `leaky_relu` | `negative_slope` (0.01) |
//! | `gelu` | `approximate` (`"none"`) |
//! | `softmax`, `log_softmax` | `dim` (−1) |
//! | `maxpool2d` | `kernel` (alias `kernel_size`), `stride` (= kernel), `padding` (0), `dilation` (1), `ceil_mode` (false) |
//! | `avgpool2d` | `kernel`, `stride`, `padding`, `ceil_mode`, `count_include_pad` (true) |
//! | `adaptive_avgpool2d` | `output_size` (int or pair); `global_avgpool2d` = output 1×1 |
//! | `batchnorm1d`, `batchnorm2d` | `weight`, `bias` (absent: affine=False), `running_mean`, `running_var`, `eps` (1e-5) |
//! | `residual` | `body` (layers), `shortcut` (layers, or `"identity"`/absent) |
//!
//! Attention layers are rejected: dot-product attention is not globally
//! Lipschitz (Kim, Papamakarios & Mnih, "The Lipschitz constant of
//! self-attention", ICML 2021).

use crate::error::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize};
use std::path::Path;

/// A whole network description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// Path of the safetensors file (relative paths are relative to the spec
    /// file's directory when loaded with [`NetworkSpec::from_file`]).
    pub weights: String,
    /// Shape of one input without the batch dimension: `[C, H, W]` or `[n]`.
    pub input_shape: Vec<usize>,
    /// The layers, applied in order.
    pub layers: Vec<LayerSpec>,
}

/// An integer or a pair `[h, w]`, as PyTorch accepts for kernel sizes,
/// strides, paddings and dilations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IntOrPair {
    /// The same value for height and width.
    One(usize),
    /// `[height, width]`.
    Two([usize; 2]),
}

impl IntOrPair {
    /// `(height, width)`.
    pub fn pair(self) -> (usize, usize) {
        match self {
            IntOrPair::One(v) => (v, v),
            IntOrPair::Two([h, w]) => (h, w),
        }
    }
}

/// Convolution padding: a number, a pair, or `"valid"` / `"same"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ConvPadding {
    /// Explicit padding (same on both sides of an axis).
    Size(IntOrPair),
    /// `"valid"` (no padding) or `"same"` (output size = input size, stride 1).
    Named(String),
}

fn one() -> IntOrPair {
    IntOrPair::One(1)
}
fn zero() -> IntOrPair {
    IntOrPair::One(0)
}
fn zero_padding() -> ConvPadding {
    ConvPadding::Size(IntOrPair::One(0))
}
fn zeros_mode() -> String {
    "zeros".into()
}
fn one_usize() -> usize {
    1
}
fn leaky_default() -> f64 {
    0.01
}
fn none_str() -> String {
    "none".into()
}
fn minus_one() -> i64 {
    -1
}
fn bn_eps() -> f64 {
    1e-5
}
fn yes() -> bool {
    true
}

/// One layer of the spec (see the module docs for fields and defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LayerSpec {
    /// `nn.Linear`: y = W x + b with W of shape (out, in).
    Linear {
        /// Weight tensor name.
        weight: String,
        /// Bias tensor name.
        #[serde(default)]
        bias: Option<String>,
    },
    /// `nn.Conv2d`.
    Conv2d {
        /// Kernel tensor name (C_out, C_in/groups, kh, kw).
        weight: String,
        /// Bias tensor name.
        #[serde(default)]
        bias: Option<String>,
        /// Stride.
        #[serde(default = "one")]
        stride: IntOrPair,
        /// Padding.
        #[serde(default = "zero_padding")]
        padding: ConvPadding,
        /// `"zeros"`, `"circular"`, `"reflect"` or `"replicate"`.
        #[serde(default = "zeros_mode")]
        padding_mode: String,
        /// Dilation.
        #[serde(default = "one")]
        dilation: IntOrPair,
        /// Groups.
        #[serde(default = "one_usize")]
        groups: usize,
    },
    /// `nn.ConvTranspose2d` (zero padding only, as in PyTorch).
    ConvTranspose2d {
        /// Kernel tensor name (C_in, C_out/groups, kh, kw).
        weight: String,
        /// Bias tensor name (length C_out).
        #[serde(default)]
        bias: Option<String>,
        /// Stride.
        #[serde(default = "one")]
        stride: IntOrPair,
        /// Padding removed from both sides of each output axis.
        #[serde(default = "zero")]
        padding: IntOrPair,
        /// Extra size added to one side of each output axis.
        #[serde(default = "zero")]
        output_padding: IntOrPair,
        /// Groups.
        #[serde(default = "one_usize")]
        groups: usize,
        /// Dilation.
        #[serde(default = "one")]
        dilation: IntOrPair,
    },
    /// `nn.ReLU`.
    Relu,
    /// `nn.LeakyReLU`.
    LeakyRelu {
        /// Slope for negative inputs.
        #[serde(default = "leaky_default")]
        negative_slope: f64,
    },
    /// `nn.Sigmoid`.
    Sigmoid,
    /// `nn.Tanh`.
    Tanh,
    /// `nn.Softmax`.
    Softmax {
        /// Axis of the (unbatched) input; negative counts from the end.
        #[serde(default = "minus_one")]
        dim: i64,
    },
    /// `nn.LogSoftmax`.
    LogSoftmax {
        /// Axis of the (unbatched) input; negative counts from the end.
        #[serde(default = "minus_one")]
        dim: i64,
    },
    /// `nn.GELU`.
    Gelu {
        /// `"none"` (exact erf form) or `"tanh"`.
        #[serde(default = "none_str")]
        approximate: String,
    },
    /// `nn.SiLU`.
    Silu,
    /// `nn.MaxPool2d`.
    Maxpool2d {
        /// Window size.
        #[serde(alias = "kernel_size")]
        kernel: IntOrPair,
        /// Stride (default: the window size).
        #[serde(default)]
        stride: Option<IntOrPair>,
        /// Implicit −∞ padding.
        #[serde(default = "zero")]
        padding: IntOrPair,
        /// Dilation.
        #[serde(default = "one")]
        dilation: IntOrPair,
        /// Must be false (ceil_mode is not supported yet).
        #[serde(default)]
        ceil_mode: bool,
    },
    /// `nn.AvgPool2d`.
    Avgpool2d {
        /// Window size.
        #[serde(alias = "kernel_size")]
        kernel: IntOrPair,
        /// Stride (default: the window size).
        #[serde(default)]
        stride: Option<IntOrPair>,
        /// Implicit zero padding.
        #[serde(default = "zero")]
        padding: IntOrPair,
        /// Must be false.
        #[serde(default)]
        ceil_mode: bool,
        /// Divide by the full window size (true) or by the in-bounds count.
        #[serde(default = "yes")]
        count_include_pad: bool,
    },
    /// `nn.AdaptiveAvgPool2d`.
    AdaptiveAvgpool2d {
        /// Output (height, width).
        output_size: IntOrPair,
    },
    /// Global average pooling (`nn.AdaptiveAvgPool2d(1)`).
    GlobalAvgpool2d,
    /// `nn.BatchNorm1d` in eval mode.
    Batchnorm1d(BatchNormSpec),
    /// `nn.BatchNorm2d` in eval mode.
    Batchnorm2d(BatchNormSpec),
    /// `nn.Flatten` (all dimensions of one sample).
    Flatten,
    /// A residual block `body(x) + shortcut(x)`.
    Residual {
        /// The residual branch.
        body: Vec<LayerSpec>,
        /// The shortcut branch; `None` (absent or `"identity"`) is the identity.
        #[serde(default, deserialize_with = "shortcut_or_identity")]
        shortcut: Option<Vec<LayerSpec>>,
    },
}

/// Fields of an eval-mode batch-norm layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchNormSpec {
    /// γ tensor name (absent: affine=False, γ = 1).
    #[serde(default)]
    pub weight: Option<String>,
    /// β tensor name (absent: β = 0).
    #[serde(default)]
    pub bias: Option<String>,
    /// Running mean tensor name.
    pub running_mean: String,
    /// Running variance tensor name.
    pub running_var: String,
    /// ε added to the variance.
    #[serde(default = "bn_eps")]
    pub eps: f64,
}

fn shortcut_or_identity<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Vec<LayerSpec>>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    match v {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(s) if s == "identity" => Ok(None),
        serde_json::Value::Array(_) => serde_json::from_value(v)
            .map(Some)
            .map_err(serde::de::Error::custom),
        other => Err(serde::de::Error::custom(format!(
            "shortcut must be a list of layers or \"identity\", got {other}"
        ))),
    }
}

/// Layer types the spec understands.
pub const LAYER_TYPES: [&str; 20] = [
    "linear",
    "conv2d",
    "conv_transpose2d",
    "relu",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "softmax",
    "log_softmax",
    "gelu",
    "silu",
    "maxpool2d",
    "avgpool2d",
    "adaptive_avgpool2d",
    "global_avgpool2d",
    "batchnorm1d",
    "batchnorm2d",
    "flatten",
    "residual",
    "identity",
];

impl LayerSpec {
    /// The `"type"` string of this layer.
    pub fn type_name(&self) -> &'static str {
        match self {
            LayerSpec::Linear { .. } => "linear",
            LayerSpec::Conv2d { .. } => "conv2d",
            LayerSpec::ConvTranspose2d { .. } => "conv_transpose2d",
            LayerSpec::Relu => "relu",
            LayerSpec::LeakyRelu { .. } => "leaky_relu",
            LayerSpec::Sigmoid => "sigmoid",
            LayerSpec::Tanh => "tanh",
            LayerSpec::Softmax { .. } => "softmax",
            LayerSpec::LogSoftmax { .. } => "log_softmax",
            LayerSpec::Gelu { .. } => "gelu",
            LayerSpec::Silu => "silu",
            LayerSpec::Maxpool2d { .. } => "maxpool2d",
            LayerSpec::Avgpool2d { .. } => "avgpool2d",
            LayerSpec::AdaptiveAvgpool2d { .. } => "adaptive_avgpool2d",
            LayerSpec::GlobalAvgpool2d => "global_avgpool2d",
            LayerSpec::Batchnorm1d(_) => "batchnorm1d",
            LayerSpec::Batchnorm2d(_) => "batchnorm2d",
            LayerSpec::Flatten => "flatten",
            LayerSpec::Residual { .. } => "residual",
        }
    }
}

/// Checks the `"type"` of every layer object (recursively into residual
/// blocks) before typed parsing, so that attention layers and unknown types
/// get a message that names the layer and says what to do.
fn check_types(layers: &serde_json::Value, path: &str) -> Result<()> {
    let Some(list) = layers.as_array() else {
        return Err(Error::InvalidOption(format!(
            "network spec: {path} must be a list of layer objects"
        )));
    };
    for (i, layer) in list.iter().enumerate() {
        let here = if path == "layers" {
            format!("layer {i}")
        } else {
            format!("{path}[{i}]")
        };
        let Some(ty) = layer.get("type").and_then(|t| t.as_str()) else {
            return Err(Error::InvalidOption(format!(
                "network spec: {here} has no string field \"type\""
            )));
        };
        let lower = ty.to_ascii_lowercase();
        if lower.contains("attention") || lower == "transformer" || lower.contains("transformer_") {
            return Err(Error::InvalidOption(format!(
                "network spec: {here} ({ty}): dot-product attention is not globally Lipschitz \
                 (Kim, Papamakarios & Mnih, ICML 2021), so no finite certified bound exists; \
                 replace it with an L2 (Lipschitz) attention variant"
            )));
        }
        if !LAYER_TYPES.contains(&ty) {
            return Err(Error::InvalidOption(format!(
                "network spec: {here}: unknown layer type '{ty}' (supported: {})",
                LAYER_TYPES.join(", ")
            )));
        }
        if ty == "residual" {
            if let Some(body) = layer.get("body") {
                check_types(body, &format!("{here}.body"))?;
            }
            if let Some(sc) = layer.get("shortcut") {
                if sc.is_array() {
                    check_types(sc, &format!("{here}.shortcut"))?;
                }
            }
        }
    }
    Ok(())
}

/// Parses one layer object; inside a residual block each body and shortcut
/// layer is parsed first on its own, so an error names the innermost layer
/// (`layer 2.body[0] (conv2d): …`) rather than the whole block.
fn parse_layer(l: serde_json::Value, path: &str) -> Result<LayerSpec> {
    let ty = l["type"].as_str().unwrap_or("?").to_string();
    if ty == "residual" {
        for field in ["body", "shortcut"] {
            if let Some(items) = l.get(field).and_then(|v| v.as_array()) {
                for (j, item) in items.iter().enumerate() {
                    parse_layer(item.clone(), &format!("{path}.{field}[{j}]"))?;
                }
            }
        }
    }
    serde_json::from_value(l)
        .map_err(|e| Error::InvalidOption(format!("network spec: {path} ({ty}): {e}")))
}

/// Rewrites `{"type": "identity"}` layers (accepted as a convenience inside
/// residual shortcuts) into nothing.
fn drop_identities(layers: &mut serde_json::Value) {
    if let Some(list) = layers.as_array_mut() {
        list.retain(|l| l.get("type").and_then(|t| t.as_str()) != Some("identity"));
        for l in list.iter_mut() {
            if let Some(b) = l.get_mut("body") {
                drop_identities(b);
            }
            if let Some(s) = l.get_mut("shortcut") {
                drop_identities(s);
            }
        }
    }
}

/// The largest network spec file read (a spec is a short JSON text; the
/// weights live in their own file).
pub const MAX_SPEC_BYTES: u64 = 64 << 20;

impl NetworkSpec {
    /// Parses a spec from JSON text, with errors that name the layer.
    ///
    /// ```
    /// use lipcert::network::spec::{NetworkSpec, LayerSpec};
    /// let s = NetworkSpec::from_json(r#"{"weights": "w.safetensors", "input_shape": [4],
    ///     "layers": [{"type": "linear", "weight": "fc.weight"}, {"type": "relu"}]}"#).unwrap();
    /// assert_eq!(s.layers[1], LayerSpec::Relu);
    /// let err = NetworkSpec::from_json(r#"{"weights": "w", "input_shape": [4],
    ///     "layers": [{"type": "multihead_attention"}]}"#).unwrap_err();
    /// assert!(err.to_string().contains("not globally Lipschitz"));
    /// ```
    pub fn from_json(text: &str) -> Result<Self> {
        let mut value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| Error::InvalidOption(format!("network spec is not valid JSON: {e}")))?;
        let layers = value
            .get("layers")
            .ok_or_else(|| Error::InvalidOption("network spec: missing field \"layers\"".into()))?;
        check_types(layers, "layers")?;
        if let Some(l) = value.get_mut("layers") {
            drop_identities(l);
        }
        // Typed parsing layer by layer for messages that name the layer.
        let list = value["layers"].as_array().cloned().unwrap_or_default();
        let mut parsed = Vec::with_capacity(list.len());
        for (i, l) in list.into_iter().enumerate() {
            parsed.push(parse_layer(l, &format!("layer {i}"))?);
        }
        let weights = value
            .get("weights")
            .and_then(|w| w.as_str())
            .ok_or_else(|| {
                Error::InvalidOption("network spec: missing string field \"weights\"".into())
            })?
            .to_string();
        let input_shape: Vec<usize> =
            serde_json::from_value(value.get("input_shape").cloned().ok_or_else(|| {
                Error::InvalidOption("network spec: missing field \"input_shape\"".into())
            })?)
            .map_err(|e| Error::InvalidOption(format!("network spec: input_shape: {e}")))?;
        if let Some(obj) = value.as_object() {
            for k in obj.keys() {
                if !["weights", "input_shape", "layers"].contains(&k.as_str()) {
                    return Err(Error::InvalidOption(format!(
                        "network spec: unknown top-level field \"{k}\" (expected weights, input_shape, layers)"
                    )));
                }
            }
        }
        Ok(Self {
            weights,
            input_shape,
            layers: parsed,
        })
    }

    /// Reads and parses a spec file (a regular file of at most
    /// [`MAX_SPEC_BYTES`]); a relative `weights` path is resolved against the
    /// spec file's directory. Errors do not repeat the spec's path: the
    /// message names the file once (`PATH: network spec: …`).
    pub fn from_file(path: &Path) -> Result<Self> {
        let shown = crate::io::escape::escape_path(path);
        let bytes = crate::io::regular_file::read_regular(path, MAX_SPEC_BYTES, "a network spec")
            .map_err(|e| Error::InvalidOption(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|_| {
            Error::InvalidOption(format!(
                "{shown}: expected a network spec (JSON text), but the file is binary (not UTF-8); see the README's network spec section"
            ))
        })?;
        let mut spec = Self::from_json(&text).map_err(|e| match e {
            Error::InvalidOption(m) => Error::InvalidOption(format!("{shown}: {m}")),
            other => other,
        })?;
        let w = Path::new(&spec.weights);
        if w.is_relative() {
            if let Some(dir) = path.parent() {
                spec.weights = dir.join(w).to_string_lossy().into_owned();
            }
        }
        Ok(spec)
    }

    /// The spec as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("spec serializes")
    }
}
