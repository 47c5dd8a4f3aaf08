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
    /// Transposed 2-D (or 1-D) convolution: the adjoint of a convolution
    /// plus a bias ([`super::conv_transpose_layer`]).
    ConvTranspose2d(Box<super::conv_transpose_layer::ConvTransposeLayer>),
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
    /// log-softmax over the middle axis of an (outer, len, inner) view
    /// ([`super::log_softmax`]).
    LogSoftmax {
        /// Product of the dimensions before the axis.
        outer: usize,
        /// Length of the axis.
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
    /// `(k, bound)`: a certified upper bound on the Lipschitz constant of
    /// this layer composed with the k − 1 layers after it, when a joint
    /// bound over them exists (a convolution through its activation and an
    /// overlapping max pool, [`crate::network::pool_group`]).
    pub group_upper: Option<(usize, f64)>,
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

impl Node {
    /// The nodes inside a composite block — a residual block's body then
    /// its shortcut, a concatenation's branches in order — or `None` for
    /// other layers.
    pub fn nested(&self) -> Option<Vec<&Node>> {
        match &self.layer {
            Layer::Residual { body, shortcut } => {
                Some(body.iter().chain(shortcut.iter().flatten()).collect())
            }
            Layer::Concat { branches, .. } => Some(branches.iter().flatten().collect()),
            _ => None,
        }
    }

    /// The multiply-adds of one evaluation of a dense layer (rows·columns)
    /// or a convolution (taps × output positions), saturating; `None` for
    /// other layers.
    pub fn multiply_adds(&self) -> Option<usize> {
        match &self.layer {
            Layer::Linear { weight, .. } => Some(weight.nrows().saturating_mul(weight.ncols())),
            Layer::Conv2d(c) => Some(
                c.taps()
                    .saturating_mul(self.shape_out.iter().product::<usize>()),
            ),
            _ => None,
        }
    }
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

/// An interval `[lower, upper]` containing every difference quotient
/// (φ(s) − φ(t))/(s − t), s ≠ t, of a scalar activation φ applied
/// elementwise (for a differentiable φ: containing every value of φ′, by the
/// mean value theorem).
///
/// Bound methods split φ = c·Id + ψ with any c (here a float near the
/// midpoint); then every difference quotient of ψ lies in
/// [lower − c, upper − c] ⊂ [−η, η] with η = max(upper − c, c − lower), so ψ
/// applied elementwise is η-Lipschitz in ℓ₂ (square and sum the
/// componentwise bounds). Combettes & Pesquet, "Lipschitz certificates for
/// layered network structures driven by averaged activation operators",
/// SIAM J. Math. Data Sci. 2 (2020); Fazlyab et al., NeurIPS 2023 (LipLT).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlopeInterval {
    /// A lower bound on every difference quotient.
    pub lower: f64,
    /// An upper bound on every difference quotient.
    pub upper: f64,
}

impl SlopeInterval {
    /// The sound default for an elementwise activation known only through a
    /// certified Lipschitz constant L: every difference quotient lies in
    /// [−L, L].
    pub fn symmetric(lipschitz_upper: f64) -> Self {
        Self {
            lower: -lipschitz_upper,
            upper: lipschitz_upper,
        }
    }

    /// The split φ = c·Id + ψ: (c, η) with c = fl((lower + upper)/2) and
    /// η ≥ max(upper − c, c − lower) rounded upward, so Lip(ψ) ≤ η.
    pub fn split(&self) -> (f64, f64) {
        let c = 0.5 * self.lower + 0.5 * self.upper;
        let eta =
            crate::rounding::sub_up(self.upper, c).max(crate::rounding::sub_up(c, self.lower));
        (c, eta.max(0.0))
    }
}

impl Layer {
    /// The slope interval of an elementwise activation, `None` for every
    /// other layer (bound methods then treat the layer as a whole, by its
    /// certified constant — always sound).
    ///
    /// ReLU [0, 1]; LeakyReLU(s) [min(s, 1), max(s, 1)]; sigmoid [0, ¼]
    /// (σ′ = σ(1 − σ)); tanh [0, 1] (tanh′ = 1 − tanh²); GELU, GELU-tanh,
    /// SiLU: [1 − L, L] with L their certified sup f′ (each satisfies
    /// f′(−x) = 1 − f′(x) and f′ ≥ 0 on x ≥ 0, see
    /// [`super::constants::slope_interval_gelu`]). A new elementwise
    /// activation without a proved interval should return
    /// [`SlopeInterval::symmetric`] of its certified constant.
    pub fn slope_interval(&self) -> Option<crate::error::Result<SlopeInterval>> {
        use super::constants;
        let exact = |lower: f64, upper: f64| Some(Ok(SlopeInterval { lower, upper }));
        match self {
            Layer::Relu => exact(0.0, 1.0),
            Layer::LeakyRelu(s) => match constants::leaky_relu(*s) {
                Ok(_) => exact(s.min(1.0), s.max(1.0)),
                Err(e) => Some(Err(e)),
            },
            Layer::Sigmoid => exact(0.0, 0.25),
            Layer::Tanh => exact(0.0, 1.0),
            Layer::Gelu => Some(Ok(constants::slope_interval_gelu(constants::gelu()))),
            Layer::GeluTanh => Some(constants::gelu_tanh().map(constants::slope_interval_gelu)),
            Layer::Silu => Some(constants::silu().map(constants::slope_interval_gelu)),
            Layer::Elementwise(e) => e.slope_interval().map(Ok),
            _ => None,
        }
    }

    /// Per-coordinate slope intervals of an elementwise activation whose
    /// coordinates have different intervals (PReLU with per-channel slopes,
    /// an affine map by per-coordinate constants), each inside
    /// [`Self::slope_interval`]'s hull; `None` otherwise (the hull is then
    /// the interval of every coordinate). Bound methods that can use
    /// per-neuron intervals write φ_i(z) = a_i·z + (b_i − a_i)·φ̃_i(z) with
    /// φ̃_i slope-restricted in [0, 1].
    pub fn coordinate_slope_intervals(&self) -> Option<Vec<SlopeInterval>> {
        match self {
            Layer::Elementwise(e) => e.coordinate_slope_intervals(),
            _ => None,
        }
    }
}
