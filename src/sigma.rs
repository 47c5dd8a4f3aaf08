//! The entry point: a certified enclosure of σ(W) for a dense matrix, with a
//! choice of method.

use crate::certify::gram::GramWithError;
use crate::certify::refine::{enclose_from_estimate, ScaledBounds};
use crate::enclosure::{Enclosure, Guarantee, Method};
use crate::error::{Error, Result};
use crate::estimate::svd;
use crate::matrix::{DenseMatrix, ScaledMatrix};
use std::borrow::Cow;

/// What [`sigma`] should compute.
#[derive(Debug, Clone, PartialEq)]
pub struct SigmaOptions {
    /// Which method to use; [`Method::Auto`] picks a rigorous, tight and fast
    /// path.
    pub method: Method,
    /// Target relative width (upper − lower)/upper of the enclosure. The
    /// result may be wider when rounding makes this impossible (reported in the
    /// enclosure itself) and is often much narrower.
    pub rel_width: f64,
    /// `Some(δ)` allows a probabilistic upper bound that fails with probability
    /// at most δ over the seeded random start (faster for huge matrices);
    /// `None` (the default) asks for a rigorous enclosure.
    pub failure_probability: Option<f64>,
    /// Seed of the random start vectors of iterative methods.
    pub seed: u64,
}

impl Default for SigmaOptions {
    fn default() -> Self {
        Self {
            method: Method::Auto,
            rel_width: 1e-9,
            failure_probability: None,
            seed: 0x6c69_7063_6572_7421,
        }
    }
}

impl SigmaOptions {
    /// Options with the given method and defaults otherwise.
    pub fn with_method(method: Method) -> Self {
        Self {
            method,
            ..Self::default()
        }
    }

    fn validate(&self) -> Result<()> {
        if !(self.rel_width > 0.0 && self.rel_width < 1.0) {
            return Err(Error::InvalidOption(format!(
                "relative width {} must be in (0, 1)",
                self.rel_width
            )));
        }
        if let Some(p) = self.failure_probability {
            if !(p > 0.0 && p < 1.0) {
                return Err(Error::InvalidOption(format!(
                    "failure probability {p} must be in (0, 1)"
                )));
            }
        }
        Ok(())
    }
}

/// Certified enclosure of the spectral norm σ(W) = max‖Wx‖/‖x‖ of the exact
/// stored values of `w`.
///
/// The guarantee is [`Guarantee::Rigorous`] unless
/// `options.failure_probability` is set. A zero matrix gives exactly `[0, 0]`.
/// A σ that does not fit in f64 is [`Error::Overflow`].
///
/// Every path first orients W so that it has at least as many rows as columns
/// (σ(Wᵀ) = σ(W)) and scales it by a power of two (exact, or with the loss
/// bounded) so that its largest entry lies in [1, 2).
///
/// ```
/// use lipcert::{sigma, DenseMatrix, SigmaOptions, Guarantee};
/// let w = DenseMatrix::from_row_major(2, 2, &[3.0, 0.0, 0.0, 4.0]).unwrap();
/// let e = sigma(&w, &SigmaOptions::default()).unwrap();
/// assert!(e.lower() <= 4.0 && 4.0 <= e.upper());
/// assert!(e.relative_width() <= 1e-9);
/// assert_eq!(e.guarantee(), Guarantee::Rigorous);
/// ```
pub fn sigma(w: &DenseMatrix, options: &SigmaOptions) -> Result<Enclosure> {
    options.validate()?;
    if w.is_zero() {
        return Ok(Enclosure::zero(options.method));
    }
    let oriented: Cow<'_, DenseMatrix> = if w.nrows() < w.ncols() {
        Cow::Owned(w.transpose())
    } else {
        Cow::Borrowed(w)
    };
    let scaled = oriented.normalized_scale()?;
    let s = &scaled.matrix;
    let (bounds, certificate) = match options.method {
        Method::Auto if s.ncols() > AUTO_SVD_MAX_DIM => (
            auto_gram_path(s, options)?,
            "vector lower bound + Cholesky PD certificate (Gram Lanczos + shift-invert estimate)",
        ),
        Method::Auto | Method::Svd => {
            let top = svd::faer_top(s)?;
            let gram = GramWithError::new(s);
            (
                enclose_from_estimate(
                    s,
                    &gram,
                    top.sigma,
                    &top.right,
                    SVD_REL_ERROR,
                    options.rel_width,
                ),
                "vector lower bound + Cholesky PD certificate (faer SVD estimate)",
            )
        }
        Method::NalgebraSvd => {
            let top = svd::nalgebra_top(s)?;
            let gram = GramWithError::new(s);
            (
                enclose_from_estimate(
                    s,
                    &gram,
                    top.sigma,
                    &top.right,
                    SVD_REL_ERROR,
                    options.rel_width,
                ),
                "vector lower bound + Cholesky PD certificate (nalgebra SVD estimate)",
            )
        }
        Method::Rump => (
            crate::certify::rump::rump_with_svd(s)?,
            "Rump 2011 Thm 3.2 from faer SVD vectors",
        ),
        Method::Exact => return crate::exact::sigma_enclosure(w, options.rel_width),
        other => {
            return Err(Error::InvalidOption(format!(
                "method '{other}' is not available yet"
            )))
        }
    };
    to_original(
        &scaled,
        bounds,
        Guarantee::Rigorous,
        options.method,
        certificate,
    )
}

/// Up to this many columns (after orienting m ≥ n), `auto` uses a dense SVD
/// for the estimate: it is cheaper than the iterative path's setup.
const AUTO_SVD_MAX_DIM: usize = 48;

/// Relative accuracy assumed for a backward-stable SVD's σ₁ (only steers the
/// first certification attempt; soundness does not depend on it).
const SVD_REL_ERROR: f64 = 1e-13;

/// The fast rigorous path for larger matrices:
/// 1. C = fl(SᵀS) with its error radius (needed by the certificate anyway);
/// 2. Lanczos on C for a first estimate θ ≈ σ² and Ritz vector;
/// 3. inverse iteration with an f32 factorization of μI − C (μ slightly above
///    θ) plus f64 iterative refinement, for an accurate top vector;
/// 4. the vector lower bound and one Cholesky certificate at
///    s ≈ lower·(1 + rel_width/4).
fn auto_gram_path(s: &DenseMatrix, options: &SigmaOptions) -> Result<ScaledBounds> {
    use crate::estimate::{gram_lanczos, shift_invert};
    let gram = GramWithError::new(s);
    let c = gram.symmetric_full();
    let start = start_vector(s.ncols(), options.seed);
    let ritz = gram_lanczos::lanczos_top(c.as_ref(), &start, 30, 1e-7);
    let theta = ritz.value.max(gram.max_diag());
    let mut margin = (4.0 * ritz.residual).max(2e-4 * theta);
    let mut vector = ritz.vector.clone();
    let mut lambda = theta;
    for _ in 0..6 {
        if let Some(r) =
            shift_invert::refine_top_vector(c.as_ref(), theta + margin, &ritz.vector, 3, 1)
        {
            vector = r.vector;
            lambda = r.rayleigh.max(theta);
            break;
        }
        margin *= 8.0;
    }
    let estimate = lambda.max(0.0).sqrt();
    Ok(enclose_from_estimate(
        s,
        &gram,
        estimate,
        &vector,
        1e-12,
        options.rel_width,
    ))
}

/// A deterministic pseudo-random start vector (SplitMix64 → uniform in
/// [−½, ½)); Lanczos only needs it to have a component along v₁.
fn start_vector(n: usize, seed: u64) -> Vec<f64> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            (z >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        })
        .collect()
}

fn to_original(
    scaled: &ScaledMatrix,
    bounds: ScaledBounds,
    guarantee: Guarantee,
    method: Method,
    certificate: &'static str,
) -> Result<Enclosure> {
    let upper = scaled.upper_to_original(bounds.upper)?;
    let lower = scaled.lower_to_original(bounds.lower);
    let estimate = scaled.estimate_to_original(bounds.estimate);
    Enclosure::new(lower, upper, estimate, guarantee, method, certificate)
}
