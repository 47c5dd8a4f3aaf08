//! A network resolved against its weights: each layer with its tensors, its
//! input and output shapes, and (once certified) its Lipschitz enclosure.

use super::conv_layer::ConvLayer;
use super::pool::Pool2d;
use crate::enclosure::Guarantee;
use crate::matrix::DenseMatrix;

/// One layer with its parameters (shapes already checked).
#[derive(Debug, Clone)]
pub enum Layer {
    /// y = W x + b, W of shape (out, in).
    Linear {
        /// Weight (out × in).
        weight: DenseMatrix,
        /// Bias (length out).
        bias: Option<Vec<f64>>,
    },
    /// 2-D convolution.
    Conv2d(Box<ConvLayer>),
    /// max(x, 0).
    Relu,
    /// x for x ≥ 0, αx otherwise.
    LeakyRelu(f64),
    /// 1/(1 + e⁻ˣ).
    Sigmoid,
    /// tanh x.
    Tanh,
    /// x·Φ(x).
    Gelu,
    /// ½x(1 + tanh(√(2/π)(x + 0.044715x³))) (PyTorch `approximate='tanh'`).
    GeluTanh,
    /// x·s(x).
    Silu,
    /// softmax over the middle axis of an (outer, len, inner) view.
    Softmax {
        /// Product of the dimensions before the softmax axis.
        outer: usize,
        /// Length of the softmax axis.
        len: usize,
        /// Product of the dimensions after it.
        inner: usize,
    },
    /// Max pooling per channel.
    MaxPool2d {
        /// Channels.
        channels: usize,
        /// Windows.
        pool: Pool2d,
    },
    /// Average pooling per channel (also adaptive and global pooling).
    AvgPool2d {
        /// Channels.
        channels: usize,
        /// Windows and divisors.
        pool: Pool2d,
    },
    /// Eval-mode batch norm: y = (x − μ_c)·γ_c/√(var_c + ε) + β_c.
    BatchNorm {
        /// γ per channel.
        gamma: Vec<f64>,
        /// β per channel.
        beta: Vec<f64>,
        /// Running mean per channel.
        mean: Vec<f64>,
        /// Running variance per channel.
        var: Vec<f64>,
        /// ε.
        eps: f64,
        /// Elements per channel (1 for a flat input, H·W for images).
        spatial: usize,
    },
    /// Reshape to one dimension (the identity on the values).
    Flatten,
    /// body(x) + shortcut(x); `None` shortcut is the identity.
    Residual {
        /// Residual branch.
        body: Vec<Node>,
        /// Shortcut branch.
        shortcut: Option<Vec<Node>>,
    },
    /// Elementwise map with its parameters (PReLU, ELU, SELU, softplus,
    /// hard sigmoid/swish, clip, affine by constants; ONNX front end).
    Elementwise(Box<super::elementwise::Elementwise>),
    /// Coordinate selection (transpose, slice, gather, pad, split,
    /// nearest upsampling; ONNX front end).
    Select(Box<super::select::Select>),
    /// Concatenation of branches applied to the same input, as an
    /// (outer, Σ lens, inner) view: Lip ≤ √(Σ Lip(branch)²).
    Concat {
        /// The branches (an empty branch is the identity).
        branches: Vec<Vec<Node>>,
        /// Product of the dimensions before the concatenation axis.
        outer: usize,
        /// Product of the dimensions after it.
        inner: usize,
        /// Length of each branch along the axis.
        lens: Vec<usize>,
    },
}

/// A certified Lipschitz enclosure of one layer.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerBound {
    /// Rigorous lower bound on the layer's Lipschitz constant (for residual
    /// blocks: the best certified pair ratio found by sampling).
    pub lower: f64,
    /// Certified upper bound.
    pub upper: f64,
    /// Guarantee of the upper bound.
    pub guarantee: Guarantee,
    /// Theorem behind the bound, in words.
    pub reason: &'static str,
    /// Wall-clock seconds spent.
    pub seconds: f64,
    /// Certified upper bound on the Lipschitz constant of this layer composed
    /// with the next one, when a joint bound is tighter than the product
    /// (a convolution followed by an eval-mode batch norm, folded).
    pub with_next_upper: Option<f64>,
}

/// A layer in place: its spec type, shapes and (after certification) bound.
#[derive(Debug, Clone)]
pub struct Node {
    /// The spec's `"type"` string.
    pub kind: &'static str,
    /// The layer.
    pub layer: Layer,
    /// Input shape (no batch dimension).
    pub shape_in: Vec<usize>,
    /// Output shape.
    pub shape_out: Vec<usize>,
    /// Certified bound, filled by [`crate::network::certify::certify_layers`].
    pub bound: Option<LayerBound>,
}

/// A whole resolved network.
#[derive(Debug, Clone)]
pub struct Network {
    /// Input shape (no batch dimension).
    pub input_shape: Vec<usize>,
    /// The layers in order.
    pub nodes: Vec<Node>,
}

impl Network {
    /// Number of input values.
    pub fn input_len(&self) -> usize {
        self.input_shape.iter().product()
    }

    /// Output shape.
    pub fn output_shape(&self) -> &[usize] {
        self.nodes
            .last()
            .map(|n| n.shape_out.as_slice())
            .unwrap_or(&self.input_shape)
    }

    /// Number of output values.
    pub fn output_len(&self) -> usize {
        self.output_shape().iter().product()
    }
}
