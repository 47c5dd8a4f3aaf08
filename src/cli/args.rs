//! The command-line grammar (clap derive). Names and flags here are a stable
//! contract: other projects' CI scripts call them.

use crate::budget::MemoryBudget;
use crate::enclosure::Method;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Certified spectral norms of neural-network weights.
///
/// Every number lipcert prints about σ is an enclosure lower ≤ σ ≤ upper of
/// the exact values stored in the file, rounding included.
#[derive(Debug, Parser)]
#[command(name = "lipcert", version, about, long_about = None)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Certified enclosure of the spectral norm σ(W) of each 2-D tensor.
    #[command(allow_negative_numbers = true)]
    Sigma(SigmaArgs),
    /// Certified ℓ1, ℓ2 and ℓ∞ operator norms of each 2-D tensor.
    #[command(allow_negative_numbers = true)]
    Norms(NormsArgs),
    /// Check a claimed σ (or σ = 1 with --normalized) against the certified
    /// enclosure: exit 0 if consistent, 1 if certainly wrong, 2 on bad input.
    #[command(allow_negative_numbers = true)]
    Check(CheckArgs),
    /// Write W/σ̂ in the input's format and dtype, then certify σ of what was
    /// written.
    #[command(allow_negative_numbers = true)]
    Normalize(NormalizeArgs),
    /// Certified spectral norm of a convolution layer (the true operator norm
    /// for the given input size, padding and stride), next to the
    /// reshaped-kernel norm that framework spectral_norm uses.
    #[command(allow_negative_numbers = true)]
    Conv(ConvArgs),
    /// Certified Lipschitz upper bound of a whole network described by a JSON
    /// spec (layers mirroring PyTorch, weights from a safetensors state_dict),
    /// per-layer enclosures, and the best certified lower bound achieved.
    #[command(allow_negative_numbers = true)]
    Certify(CertifyArgs),
    /// lipcert's own evaluation of a network (ONNX model or JSON spec) on an
    /// input, so the result can be compared with the framework's output.
    Forward(ForwardArgs),
}

/// `lipcert forward`.
#[derive(Debug, Clone, Args)]
pub struct ForwardArgs {
    /// The network: an `.onnx` model or a JSON spec.
    pub model: PathBuf,
    /// The input (`.npy`, without or with a batch dimension of 1).
    #[arg(long, value_name = "X.npy")]
    pub input: PathBuf,
    /// Where to write the output (`.npy`, float64).
    #[arg(long, value_name = "Y.npy")]
    pub output: PathBuf,
    /// Input shape without the batch dimension (ONNX models with symbolic
    /// dimensions), e.g. 3,224,224.
    #[arg(long, value_name = "C,H,W")]
    pub input_shape: Option<String>,
}

/// `lipcert certify`.
#[derive(Debug, Clone, Args)]
pub struct CertifyArgs {
    /// The network spec (JSON); its `weights` path is relative to the spec's
    /// directory.
    pub spec: PathBuf,
    /// Skip the search for a lower bound on Lip(f) (only the certified upper
    /// bound and per-layer enclosures).
    #[arg(long)]
    pub no_lower: bool,
    /// Upper-bound methods to run, comma-separated: product, liplt,
    /// multiplier, or all
    /// (the product is always computed; `upper` is the smallest).
    #[arg(long, default_value = "all", value_name = "METHODS")]
    pub bounds: String,
    /// Time budget in seconds for the whole lower-bound search (sampled
    /// pairs, Jacobian power iteration, pair ascent and the multi-start
    /// Jacobian ascent share it, and on networks of at most 20 000 inputs
    /// the ascent first climbs σ(J) of the network with its ReLU-type
    /// activations smoothed; without it, the work budget of
    /// --lower-passes).
    #[arg(long, value_name = "SECONDS")]
    pub lower_budget: Option<f64>,
    /// Work budget of the lower-bound search in network passes (a forward
    /// pass counts 1, a Jacobian product 2): the staged search of
    /// --lower-budget, measured in passes, so the result does not depend on
    /// the machine's speed [default: about 5·10⁹ multiply-adds' worth, 20
    /// to 200 000 passes; not with --lower-budget].
    #[arg(long, value_name = "N", conflicts_with = "lower_budget")]
    pub lower_passes: Option<u64>,
    /// Seed of the lower-bound search's random starts (another seed is
    /// another search; every bound it reports is certified).
    #[arg(long, value_name = "N")]
    pub lower_seed: Option<u64>,
    /// Target relative width (upper − lower)/upper of each dense layer's
    /// enclosure.
    #[arg(long, value_name = "W", default_value_t = 1e-9)]
    pub rel_width: f64,
    /// One JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// ONNX models: the input shape without the batch dimension (overrides
    /// symbolic or declared dimensions), e.g. 3,224,224.
    #[arg(long, value_name = "C,H,W")]
    pub input_shape: Option<String>,
    /// The memory budget.
    #[command(flatten)]
    pub memory: MemoryArgs,
    /// Threads for the layers' dense products, factorizations and circular
    /// spectra and for the LipLT frequencies (default, or 0: all cores).
    /// `--threads 1` gives the same bounds on every run; with more threads
    /// the last bits may vary, every bound stays certified.
    #[arg(long, value_name = "N", default_value_t = 0, hide_default_value = true)]
    pub threads: usize,
}

/// The memory budget of every job (see `lipcert::budget`).
#[derive(Debug, Clone, Args)]
pub struct MemoryArgs {
    /// The most memory one job may plan to allocate, in bytes with an
    /// optional K, M, G or T suffix (e.g. 8G, 512M); a job whose estimate
    /// is larger is refused with exit 2 before allocating [default: half
    /// the physical memory]
    #[arg(long, value_name = "BYTES", value_parser = MemoryBudget::parse)]
    pub max_memory: Option<MemoryBudget>,
}

impl MemoryArgs {
    /// The budget given, or the default.
    pub fn budget(&self) -> MemoryBudget {
        self.max_memory.unwrap_or_default()
    }
}

/// Which file and which tensor.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// A .npy or .safetensors file.
    pub file: PathBuf,
    /// The tensor to use (.safetensors only); without it every 2-D tensor is
    /// processed in file order.
    #[arg(long, value_name = "NAME")]
    pub tensor: Option<String>,
}

/// How σ is computed.
#[derive(Debug, Clone, Args)]
pub struct MethodArgs {
    /// The algorithm.
    #[arg(long, default_value = "auto", value_parser = method_parser())]
    pub method: Method,
    /// Allow a probabilistic upper bound that fails with at most this
    /// probability (default: rigorous).
    #[arg(long, value_name = "P")]
    pub failure_probability: Option<f64>,
    /// Target relative width (upper − lower)/upper of the enclosure.
    #[arg(long, value_name = "W", default_value_t = 1e-9)]
    pub rel_width: f64,
    /// The memory budget.
    #[command(flatten)]
    pub memory: MemoryArgs,
    /// Threads for the dense products and factorizations (default, or 0:
    /// all cores). `--threads 1` gives bit-identical enclosures on every run;
    /// with more threads the last bits may vary, the enclosure always
    /// contains σ.
    #[arg(long, value_name = "N", default_value_t = 0, hide_default_value = true)]
    pub threads: usize,
}

fn method_parser() -> impl TypedValueParser<Value = Method> {
    PossibleValuesParser::new(Method::ALL.map(Method::name)).try_map(|s| s.parse::<Method>())
}

/// `lipcert sigma`.
#[derive(Debug, Clone, Args)]
#[command(mut_arg("file", |a| a.help(
    "A .npy or .safetensors file, a checkpoint folder (holding model.safetensors.index.json and its shards, or a single model.safetensors) or its index file"
)))]
pub struct SigmaArgs {
    /// Input file and tensor.
    #[command(flatten)]
    pub input: InputArgs,
    /// Method options.
    #[command(flatten)]
    pub method: MethodArgs,
    /// One JSON object per line per tensor instead of a table, each printed
    /// as soon as its tensor is done; a checkpoint ends with a summary line.
    #[arg(long)]
    pub json: bool,
    /// Only tensors whose name matches this glob (`*` any run, `?` one
    /// character, whole name); repeatable: a name matching any is kept.
    /// For an ONNX model: the Gemm/MatMul weight tensor's name.
    #[arg(long, value_name = "GLOB", conflicts_with = "tensor")]
    pub include: Vec<String>,
    /// Leave out tensors whose name matches this glob; repeatable; wins over
    /// --include.
    #[arg(long, value_name = "GLOB", conflicts_with = "tensor")]
    pub exclude: Vec<String>,
    /// ONNX models: the input shape without the batch dimension (overrides
    /// symbolic or declared dimensions), e.g. 3,224,224.
    #[arg(long, value_name = "C,H,W")]
    pub input_shape: Option<String>,
}

/// `lipcert norms`.
#[derive(Debug, Clone, Args)]
pub struct NormsArgs {
    /// Input file and tensor.
    #[command(flatten)]
    pub input: InputArgs,
    /// Method options (for ℓ2).
    #[command(flatten)]
    pub method: MethodArgs,
    /// One JSON object per line per tensor instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `lipcert check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Input file and tensor.
    #[command(flatten)]
    pub input: InputArgs,
    /// The claim.
    #[command(flatten)]
    pub claim: ClaimArgs,
    /// Relative tolerance: the claim passes when it lies in
    /// [lower·(1 − T), upper·(1 + T)].
    #[arg(long, value_name = "T", default_value_t = 1e-6)]
    pub rel_tol: f64,
    /// Method options.
    #[command(flatten)]
    pub method: MethodArgs,
    /// Convolution geometry: with `--input`, the tensor is a convolution
    /// kernel and the claim is checked against the true operator norm.
    #[command(flatten)]
    pub conv: ConvGeometryArgs,
    /// One JSON object per line per tensor instead of text.
    #[arg(long)]
    pub json: bool,
}

/// What is claimed about σ: exactly one of the two.
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct ClaimArgs {
    /// The claimed spectral norm.
    #[arg(long, value_name = "X")]
    pub claimed: Option<f64>,
    /// Claim σ = 1 (a spectrally normalized weight).
    #[arg(long)]
    pub normalized: bool,
}

impl ClaimArgs {
    /// The claimed value.
    pub fn value(&self) -> f64 {
        self.claimed.unwrap_or(1.0)
    }
}

/// `lipcert normalize`.
#[derive(Debug, Clone, Args)]
pub struct NormalizeArgs {
    /// The input file.
    pub input: PathBuf,
    /// The output file (same format and dtype as the input).
    pub output: PathBuf,
    /// The tensor to normalize (.safetensors only); without it every 2-D
    /// tensor is normalized and all others are copied unchanged.
    #[arg(long, value_name = "NAME")]
    pub tensor: Option<String>,
    /// Method options.
    #[command(flatten)]
    pub method: MethodArgs,
    /// One JSON object per line per tensor instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Geometry of a convolution layer (PyTorch conventions). The kernel
/// tensor is C_out × (C_in/groups) × kh × kw (or C_out × (C_in/groups) × k
/// for a 1-D convolution); the input channel count follows from it and
/// `--groups`.
#[derive(Debug, Clone, Args)]
pub struct ConvGeometryArgs {
    /// Input spatial size `HxW` (or `L` for a 1-D kernel). For `check`,
    /// giving it makes the tensor a convolution kernel.
    #[arg(long, value_name = "HxW")]
    pub input: Option<String>,
    /// Stride `S` or `SH,SW`.
    #[arg(long, value_name = "S", default_value = "1")]
    pub stride: String,
    /// Padding `P`, `PH,PW` or `TOP,LEFT,BOTTOM,RIGHT`.
    #[arg(long, value_name = "P", default_value = "0")]
    pub padding: String,
    /// Padding mode.
    #[arg(long, value_name = "MODE", default_value = "zeros",
          value_parser = ["zeros", "circular", "reflect", "replicate"])]
    pub padding_mode: String,
    /// Dilation `D` or `DH,DW`.
    #[arg(long, value_name = "D", default_value = "1")]
    pub dilation: String,
    /// Number of groups.
    #[arg(long, value_name = "G", default_value_t = 1)]
    pub groups: usize,
}

/// `lipcert conv`.
#[derive(Debug, Clone, Args)]
#[command(
    mut_arg("tensor", |a| a.help(
        "The kernel to use (.safetensors only); without it every 3-D or 4-D tensor is processed in file order"
    )),
    mut_arg("input", |a| a.help(
        "Input spatial size `HxW` (or `L` for a 3-D kernel of a 1-D convolution); required"
    ))
)]
pub struct ConvArgs {
    /// Input file and tensor.
    #[command(flatten)]
    pub input: InputArgs,
    /// The convolution's geometry (`--input` is required).
    #[command(flatten)]
    pub geometry: ConvGeometryArgs,
    /// Target relative width (upper − lower)/upper. When the structured
    /// bounds are wider, the explicit matrix is certified too if it has at
    /// most 4096 rows or columns (and 2²⁴ entries); the output says when the
    /// target is not met.
    #[arg(long, value_name = "W", default_value_t = 1e-9)]
    pub rel_width: f64,
    /// One JSON object per line per tensor instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The memory budget.
    #[command(flatten)]
    pub memory: MemoryArgs,
    /// Threads for the circular spectrum's products and per-frequency
    /// certificates (default, or 0: all cores). `--threads 1` gives
    /// bit-identical enclosures on every run; with more threads the last
    /// bits may vary, the enclosure always contains σ.
    #[arg(long, value_name = "N", default_value_t = 0, hide_default_value = true)]
    pub threads: usize,
    /// ONNX models: the input shape without the batch dimension (overrides
    /// symbolic or declared dimensions), e.g. 3,224,224.
    #[arg(long, value_name = "C,H,W")]
    pub input_shape: Option<String>,
}
