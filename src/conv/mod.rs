//! Convolutions as linear operators with certified spectral norms.
//!
//! A convolution layer (PyTorch conventions: input C_in × H × W, kernel
//! C_out × C_in/groups × kh × kw, stride, per-side padding, padding mode
//! zeros | circular | reflect | replicate, dilation, groups) is linear in its
//! input, so its Lipschitz constant in ℓ₂ is the spectral norm σ of its
//! matrix. The bias only shifts the output and is ignored (it does not change
//! the Lipschitz constant).
//!
//! * [`Conv2d`]: the matrix-free operator (im2col + faer multiply; exact
//!   adjoint; rigorous `apply_error_bound`), [`explicit_matrix`] the unrolled
//!   matrix for small sizes, [`PaddingMap`] the padding maps.
//! * [`circular_embedding_bound`]: rigorous upper bound for every mode from
//!   the per-frequency blocks of a circular (polyphase) embedding — exact for
//!   circular padding with full outputs (Sedghi, Gupta & Long, ICLR 2019).
//! * [`conv_sigma`]: the enclosure of σ (upper from the embedding, lower from
//!   Lanczos on the operator with the certified vector bound, and the dense
//!   certificate on the explicit matrix when it is small), with the
//!   reshaped-kernel norm ‖R‖ that frameworks' `spectral_norm` uses beside it
//!   ([`reshaped_norm`]).

pub(crate) mod block_gram;
pub(crate) mod bounds;
mod circular_spectrum;
mod dense_bound;
mod embedding;
mod explicit;
mod geometry;
mod kernel;
mod memory;
mod operator;
mod padding;
pub mod product_symbol;
mod reshaped;
mod symbol_gram;
mod symbol_samples;

pub use block_gram::block_gram;
pub use bounds::{circular_embedding_bound, circular_embedding_bound_with, EmbeddingBound};
pub use circular_spectrum::{twiddle_product_error, BlockSpectrum, Tap};
pub use dense_bound::dense_enclosure;
pub use embedding::{AxisPlan, EmbeddingPlan};
pub use explicit::{explicit_matrix, explicit_matrix_up_to, ExplicitConv, MAX_EXPLICIT_ENTRIES};
pub use geometry::{Conv2dGeometry, PaddingMode};
pub use kernel::Kernel;
pub use memory::conv_memory_estimate;
pub use operator::Conv2d;
pub use padding::{AxisPadding, PaddingMap};
pub use reshaped::reshaped_norm;
pub use symbol_gram::{SymbolGram, SymbolRoute};

use crate::budget::MemoryBudget;
use crate::certify::vector_lower::lower_bound_from_vector;
use crate::enclosure::{Enclosure, Guarantee, Method};
use crate::error::Result;
use crate::operator::LinearOperator;
use crate::rounding;

/// Lower bound l ≤ x·2^k for x ≥ 0 (exact unless the result underflows).
fn scale_down(x: f64, k: i32) -> f64 {
    let r = rounding::scale_pow2(x, k);
    if rounding::scale_pow2(r, -k) == x {
        r
    } else {
        r.next_down().max(0.0)
    }
}

/// Options of [`conv_sigma`].
#[derive(Debug, Clone, PartialEq)]
pub struct ConvOptions {
    /// Lanczos steps on AᵀA (matrix-free) for the lower bound when the
    /// embedding is not exact (each step costs two applications of the
    /// layer). Default 24.
    pub lanczos_steps: usize,
    /// Stop the Lanczos iteration early once its largest Ritz value (an
    /// estimate of σ²) changes by less than this, relative, over two steps.
    /// Default 1e-4 (0 runs all steps). Affects tightness only, never
    /// soundness.
    pub lanczos_tolerance: f64,
    /// Use the dense certificate on the explicit matrix when
    /// min(rows, cols) ≤ this and the matrix has at most
    /// [`MAX_EXPLICIT_ENTRIES`] entries. Default 1024 (0 disables it).
    pub dense_max_dim: usize,
    /// The memory budget, checked against [`conv_memory_estimate`] before
    /// anything is allocated. Default: half the physical memory.
    pub memory: MemoryBudget,
    /// Target relative width (upper − lower)/upper. `None` (the default):
    /// no escalation. `Some(t)`: when the enclosure is wider than `t`, the
    /// dense certificate on the explicit matrix is also run for operators
    /// up to [`ConvOptions::escalate_max_dim`] (min(rows, cols)) and
    /// [`ESCALATE_MAX_ENTRIES`] entries; [`ConvReport::target_met`] says
    /// whether `t` was reached.
    pub rel_width: Option<f64>,
    /// Largest min(rows, cols) of the explicit matrix certified when
    /// escalating towards [`ConvOptions::rel_width`]. Default 4096 (the
    /// Gram product then costs a few seconds here).
    pub escalate_max_dim: usize,
    /// Threads for the circular spectrum's products and per-frequency
    /// certificates ([`circular_embedding_bound_with`]; 0: all cores).
    /// Default 1: the same enclosure on every run; with more threads the
    /// last bits may vary, the enclosure always contains σ.
    pub threads: usize,
}

/// Whether the escalation to the explicit m×n matrix fits the budget: about
/// 28 bytes per entry while it is built (values, absolute sums, tap counts
/// and the matrix), plus the Gram matrix and the certificate's copy of it on
/// the smaller side (16 bytes per entry of a min(m, n)² matrix). An
/// escalation over budget is skipped (the report then says the target was
/// not met), never an error.
fn escalation_fits(m: usize, n: usize, memory: &MemoryBudget) -> bool {
    let k = m.min(n) as u64;
    let needed = (m as u64)
        .checked_mul(n as u64)
        .and_then(|e| e.checked_mul(28))
        .and_then(|b| b.checked_add(k.checked_mul(k)?.checked_mul(16)?));
    needed.is_some_and(|b| b <= memory.bytes())
}

/// Most entries of an explicit operator matrix built when escalating
/// towards a target width (16 Mi entries: 4096 × 4096; about 450 MiB while
/// it is built).
pub const ESCALATE_MAX_ENTRIES: usize = 1 << 24;

impl Default for ConvOptions {
    fn default() -> Self {
        Self {
            lanczos_steps: 24,
            lanczos_tolerance: 1e-4,
            dense_max_dim: 1024,
            memory: MemoryBudget::default(),
            rel_width: None,
            escalate_max_dim: 4096,
            threads: 1,
        }
    }
}

/// The result of [`conv_sigma`].
#[derive(Debug, Clone, PartialEq)]
pub struct ConvReport {
    /// Rigorous enclosure of the spectral norm of the convolution (the
    /// layer's ℓ₂ Lipschitz constant, bias ignored).
    pub enclosure: Enclosure,
    /// Rigorous enclosure of the reshaped-kernel norm ‖R‖₂ (what framework
    /// `spectral_norm` normalizes).
    pub reshaped: Enclosure,
    /// Short description of the geometry (the CLI's "operator" field).
    pub description: String,
    /// (upper − lower)/upper of `enclosure`.
    pub relative_width: f64,
    /// With a target ([`ConvOptions::rel_width`]): whether
    /// `relative_width` ≤ target. `None` without a target.
    pub target_met: Option<bool>,
}

/// Certified enclosure of the spectral norm σ of the convolution with
/// `kernel` and `geometry`, and of its reshaped-kernel norm.
///
/// # Method and theorems
/// * Upper: [`circular_embedding_bound`] — the operator is (a compression of,
///   or √f times a row selection of) a polyphase circular convolution whose
///   singular values are those of its per-frequency blocks, each certified by
///   a Cholesky certificate; exact for circular padding with full outputs.
/// * Lower: σ ≥ ‖Av‖/‖v‖ certified by
///   [`lower_bound_from_vector`] (Certificate.v `vector_lower_bound`) for the
///   plane wave of the largest block (windowed for non-periodic padding)
///   and, unless the embedding is exact, the Ritz vector of
///   `options.lanczos_steps` Lanczos steps on AᵀA started from it.
/// * Small operators: the dense certificate on the explicit matrix
///   ([`dense_enclosure`]); the result is the intersection of both
///   enclosures (an empty intersection would prove a bug and is an error).
///
/// Proof: proofs/theories/Certificate.v, `vector_lower_bound`
///
/// ```
/// use lipcert::conv::{conv_sigma, ConvOptions, Conv2dGeometry, Kernel};
/// let mut g = Conv2dGeometry::new(1, 1, 3, 3, 8, 8);
/// g.padding = (1, 1, 1, 1);
/// // A 3×3 averaging kernel: zero-padded, its norm is just below 1.
/// let k = Kernel::from_f64(1, 1, 3, 3, vec![1.0 / 9.0; 9]).unwrap();
/// let r = conv_sigma(&k, &g, &ConvOptions::default()).unwrap();
/// assert!(r.enclosure.upper() <= 1.0 + 1e-12 && r.enclosure.lower() > 0.9);
/// assert!(r.relative_width < 1e-9);
/// ```
pub fn conv_sigma(
    kernel: &Kernel,
    geometry: &Conv2dGeometry,
    options: &ConvOptions,
) -> Result<ConvReport> {
    kernel.check_matches(geometry)?;
    let description = geometry.description();
    options
        .memory
        .check(&description, conv_memory_estimate(geometry, options))?;
    let reshaped = reshaped_norm(kernel)?;
    if kernel.max_abs() == 0.0 {
        let enclosure = Enclosure::zero(Method::Lanczos);
        return Ok(ConvReport {
            enclosure,
            reshaped,
            description,
            relative_width: 0.0,
            target_met: options.rel_width.map(|_| true),
        });
    }
    let bound =
        circular_embedding_bound_with(kernel, geometry, SymbolRoute::Cheapest, options.threads)?;
    // The lower bound is computed on the kernel scaled by a power of two
    // (largest entry in [1, 2)) so that no norm overflows or underflows; the
    // scaling is exact (checked), and σ scales with it.
    let e = rounding::exponent_of(kernel.max_abs());
    let (scaled, e) = match kernel.scaled_pow2_exact(-e) {
        Some(k) => (k, e),
        None => (kernel.clone(), 0),
    };
    let op = Conv2d::new(scaled, *geometry)?;
    let mut lower = 0.0f64;
    let mut best_start: Option<&Vec<f64>> = None;
    for v in &bound.start_vectors {
        let l = lower_bound_from_vector(&op, v);
        if l > lower || best_start.is_none() {
            lower = lower.max(l);
            best_start = Some(v);
        }
    }
    let mut estimate = lower;
    if !bound.exact && options.lanczos_steps > 0 {
        let timer = crate::timing::stage();
        let mut steps = 0usize;
        if let Some(start) = best_start {
            let n = op.ncols();
            let mut tmp = vec![0.0; op.nrows()];
            if let Some(pair) = crate::estimate::symmetric_lanczos::lanczos_top_until(
                n,
                start,
                options.lanczos_steps,
                options.lanczos_tolerance,
                |x, y| {
                    steps += 1;
                    op.apply(x, &mut tmp);
                    op.apply_transpose(&tmp, y);
                },
            ) {
                lower = lower.max(lower_bound_from_vector(&op, &pair.vector));
                estimate = estimate.max(pair.value.sqrt());
            }
        }
        timer.done(|| format!("conv lower bound: {steps} Lanczos steps on the operator"));
    }
    let lower = scale_down(lower, e);
    let estimate = if bound.exact {
        bound.spectrum_estimate
    } else {
        rounding::scale_pow2(estimate, e)
    };
    let certificate = if bound.exact {
        "circular spectrum (per-frequency Cholesky certificates) + vector lower bound"
    } else {
        "circular-embedding bound (per-frequency Cholesky certificates) + Lanczos vector lower bound"
    };
    let mut enclosure = Enclosure::new(
        lower,
        bound.upper,
        estimate,
        Guarantee::Rigorous,
        Method::Lanczos,
        certificate,
    )?;
    let (m, n) = (op.nrows(), op.ncols());
    let entries = m.saturating_mul(n);
    let routine = m.min(n) <= options.dense_max_dim && entries <= MAX_EXPLICIT_ENTRIES;
    let escalate = options.rel_width.is_some_and(|t| {
        let w = enclosure.relative_width();
        w > t || w.is_nan()
    }) && m.min(n) <= options.escalate_max_dim
        && entries <= ESCALATE_MAX_ENTRIES
        && escalation_fits(m, n, &options.memory);
    if routine {
        let ex = explicit_matrix(kernel, geometry)?;
        let dense = dense_enclosure(&ex.matrix, ex.error)?;
        enclosure = dense.intersect(&enclosure)?;
    }
    if let (true, Some(target)) = (escalate && !routine, options.rel_width) {
        let ex = explicit_matrix_up_to(kernel, geometry, ESCALATE_MAX_ENTRIES)?;
        let dense = dense_bound::sigma_enclosure(&ex.matrix, ex.error, target)?;
        enclosure = dense.intersect(&enclosure)?;
    }
    let relative_width = enclosure.relative_width();
    Ok(ConvReport {
        target_met: options.rel_width.map(|t| relative_width <= t),
        relative_width,
        enclosure,
        reshaped,
        description,
    })
}
