//! The entry point: a certified enclosure of σ(W) for a dense matrix, with a
//! choice of method.

use crate::budget::MemoryBudget;
use crate::certify::gram::GramWithError;
use crate::certify::gram_upper::gram_upper_bound;
use crate::certify::probabilistic::probabilistic_sigma;
use crate::certify::refine::{
    enclose_from_estimate_with, enclose_from_lower, relative_gap, ScaledBounds, Start,
    MAX_FACTORIZATIONS,
};
use crate::certify::vector_lower::lower_bound_from_vector;
use crate::enclosure::{Enclosure, Guarantee, Method};
use crate::error::{Error, Result};
use crate::estimate::lanczos::{golub_kahan, LanczosOptions};
use crate::estimate::power::{power_iteration, power_iteration_with_tolerance};
use crate::estimate::svd;
use crate::matrix::{DenseMatrix, ScaledMatrix};
use crate::timing;

/// What [`sigma`] should compute.
#[derive(Debug, Clone, PartialEq)]
pub struct SigmaOptions {
    /// Which method to use; [`Method::Auto`] picks a rigorous, tight and fast
    /// path.
    pub method: Method,
    /// Target relative width (upper − lower)/upper of the enclosure. The
    /// result may be wider when rounding makes this impossible (reported in the
    /// enclosure itself) and is often much narrower. With a failure
    /// probability, widths below 10⁻⁶ are raised to 10⁻⁶ (the probabilistic
    /// path is for speed; tighter requests should be rigorous).
    pub rel_width: f64,
    /// `Some(δ)` allows a probabilistic upper bound that fails with probability
    /// at most δ over the seeded random start (faster for huge matrices);
    /// `None` (the default) asks for a rigorous enclosure.
    pub failure_probability: Option<f64>,
    /// Seed of the random start vectors of iterative methods.
    pub seed: u64,
    /// The most memory a job may plan to allocate: checked against an
    /// estimate before any work (see [`crate::budget`]). Default: half the
    /// physical memory.
    pub memory: MemoryBudget,
    /// Threads for the rigorous path's dense products (the Gram product and
    /// the certificate's Cholesky factorization; see [`crate::parallel`]).
    /// 1 (the default) runs sequentially and gives bit-identical enclosures
    /// on every run; 0 means one thread per available core. With more than
    /// one thread the enclosure is exactly as rigorous (every bound is proved
    /// for any summation order) but its last bits may differ from the
    /// sequential run's.
    pub threads: usize,
}

impl Default for SigmaOptions {
    fn default() -> Self {
        Self {
            method: Method::Auto,
            rel_width: 1e-9,
            failure_probability: None,
            seed: 0x6c69_7063_6572_7421,
            memory: MemoryBudget::default(),
            threads: 1,
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

/// Estimated peak memory (bytes) of [`sigma`] on an m×n matrix beyond the
/// matrix itself: with k = min(m, n), an oriented and a scaled copy and the
/// SVD's copy (3·m·n values) plus the Gram matrix, its certificate factor
/// and the SVD's square factors (4·k² values); a probabilistic run keeps two
/// copies and at most 400 Lanczos vectors of each side. `None` when the
/// count overflows.
pub fn sigma_memory_estimate(m: usize, n: usize, options: &SigmaOptions) -> Option<u64> {
    use crate::budget::{f64s, total};
    let k = m.min(n);
    if options.failure_probability.is_some() {
        total(&[f64s(&[2, m, n]), f64s(&[400, m.checked_add(n)?])])
    } else {
        total(&[f64s(&[3, m, n]), f64s(&[4, k, k])])
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
    sigma_of(std::borrow::Cow::Borrowed(w), options)
}

/// [`sigma`] of a matrix the caller no longer needs: the power-of-two
/// scaling then happens in place when W has at least as many rows as
/// columns, saving one copy of the matrix (time and peak memory on large
/// matrices). Same enclosure, same guarantee.
///
/// ```
/// use lipcert::{sigma, sigma_owned, DenseMatrix, SigmaOptions};
/// let w = DenseMatrix::from_row_major(3, 2, &[3.0, 0.0, 0.0, 4.0, 0.0, 0.0]).unwrap();
/// let by_ref = sigma(&w, &SigmaOptions::default()).unwrap();
/// let owned = sigma_owned(w, &SigmaOptions::default()).unwrap();
/// assert_eq!((by_ref.lower(), by_ref.upper()), (owned.lower(), owned.upper()));
/// ```
pub fn sigma_owned(w: DenseMatrix, options: &SigmaOptions) -> Result<Enclosure> {
    sigma_of(std::borrow::Cow::Owned(w), options)
}

/// The body of [`sigma`] and [`sigma_owned`].
fn sigma_of(w: std::borrow::Cow<'_, DenseMatrix>, options: &SigmaOptions) -> Result<Enclosure> {
    options.validate()?;
    options.memory.check(
        &format!("σ of a {}x{} matrix", w.nrows(), w.ncols()),
        sigma_memory_estimate(w.nrows(), w.ncols(), options),
    )?;
    if w.is_zero() {
        return Ok(Enclosure::zero(options.method));
    }
    let threads = crate::parallel::resolve_threads(options.threads);
    // Orientation (m ≥ n) and power-of-two scaling in one pass.
    if options.method == Method::Exact {
        return crate::exact::sigma_enclosure(&w, options.rel_width);
    }
    let (rows, cols) = (w.nrows(), w.ncols());
    let timer = timing::stage();
    let scaled = match w {
        std::borrow::Cow::Borrowed(w) => w.oriented_normalized_scale()?,
        std::borrow::Cow::Owned(w) => w.into_oriented_normalized_scale()?,
    };
    timer.done(|| format!("orient+scale {rows}x{cols}"));
    let s = &scaled.matrix;
    if let Some(p) = options.failure_probability {
        return match options.method {
            Method::Auto | Method::Lanczos => probabilistic(&scaled, p, options),
            other => Err(Error::InvalidOption(format!(
                "a failure probability is supported by methods auto and lanczos, not '{other}'"
            ))),
        };
    }
    let from_estimate = |sigma: f64, vector: &[f64], rel_error: f64| {
        let gram = GramWithError::new_with(s, threads);
        enclose_from_estimate_with(
            s,
            &gram,
            sigma,
            vector,
            rel_error,
            options.rel_width,
            threads,
        )
    };
    let (bounds, certificate) = match options.method {
        Method::Exact => unreachable!("handled before scaling"),
        Method::Auto if s.ncols() > AUTO_SVD_MAX_DIM => (
            auto_gram_path(s, options, threads)?,
            "vector lower bound + Cholesky PD certificate (Gram Lanczos + shift-invert estimate)",
        ),
        Method::Auto => match svd::faer_top(s) {
            Ok(top) => (
                from_estimate(top.sigma, &top.right, SVD_REL_ERROR),
                "vector lower bound + Cholesky PD certificate (faer SVD estimate)",
            ),
            // faer's SVD can fail to converge (seen on an 8×8 dyadic
            // matrix, tests/dense_sigma.rs); the estimate only steers the
            // certificate, so the Gram route stands in.
            Err(_) => (
                auto_gram_path(s, options, threads)?,
                "vector lower bound + Cholesky PD certificate (Gram Lanczos + shift-invert estimate; faer's SVD did not converge)",
            ),
        },
        Method::Svd => {
            let top = svd::faer_top(s)?;
            (
                from_estimate(top.sigma, &top.right, SVD_REL_ERROR),
                "vector lower bound + Cholesky PD certificate (faer SVD estimate)",
            )
        }
        Method::NalgebraSvd => {
            let top = svd::nalgebra_top(s)?;
            (
                from_estimate(top.sigma, &top.right, SVD_REL_ERROR),
                "vector lower bound + Cholesky PD certificate (nalgebra SVD estimate)",
            )
        }
        Method::Lanczos => {
            let opts = LanczosOptions {
                max_steps: s.ncols().min(400),
                tol: 1e-12,
                seed: options.seed,
                start: None,
            };
            let gk = golub_kahan(s, &opts)?;
            (
                from_estimate(gk.sigma, &gk.right, 1e-10),
                "vector lower bound + Cholesky PD certificate (Golub-Kahan-Lanczos estimate)",
            )
        }
        Method::Power => {
            let pw = power_iteration_with_tolerance(s, 2000, 1e-13, options.seed);
            (
                from_estimate(pw.sigma, &pw.right, 1e-6),
                "vector lower bound + Cholesky PD certificate (power iteration estimate)",
            )
        }
        Method::Gram => (
            gram_bounds(s, options)?,
            "vector lower bound (power vector) + certified Gram-iteration upper bound",
        ),
        Method::Rump => (
            crate::certify::rump::rump_with_svd(s)?,
            "Rump 2011 Thm 3.2 from faer SVD vectors",
        ),
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

/// Widths at or below which the auto path forms the Gram matrix in row
/// blocks ([`GramWithError::new_blocked_with`]): its error bound γ_m‖S‖_F²
/// matters only there (m = 4096: ≈ 5e-10 of σ², 11008: ≈ 2e-9), and the
/// blocks cost an n×n buffer and a few passes over it.
const BLOCKED_GRAM_MAX_WIDTH: f64 = 1e-8;

/// The fast rigorous path for larger matrices:
/// 1. C = fl(SᵀS) with its error radius (needed by the certificate anyway);
/// 2. Lanczos on C for a first estimate θ ≈ σ² and Ritz vector;
/// 3. inverse iteration with an f32 factorization of μI − C (μ slightly above
///    θ) plus f64 iterative refinement, for an accurate top vector;
/// 4. the vector lower bound and one Cholesky certificate at
///    s ≈ lower·(1 + rel_width/4).
///
/// Step 3 is skipped when the Ritz vector's lower bound is already within
/// rel_width/2 of √θ (loose widths such as `--rel-width 1e-4`), and when
/// Lanczos, run a little longer, predicts its Ritz vector accurate enough
/// for the certificate ([`ritz_sigma_error`]): the estimate is then the
/// vector's f64 Rayleigh quotient. A wrong prediction costs one more
/// certificate attempt, never soundness.
fn auto_gram_path(s: &DenseMatrix, options: &SigmaOptions, threads: usize) -> Result<ScaledBounds> {
    use crate::estimate::{gram_lanczos, shift_invert};
    let (m, n) = (s.nrows(), s.ncols());
    let timer = timing::stage();
    // Tight widths: the Gram product's own bound γ_m‖S‖_F² is then the
    // floor for long columns (m = 11008: ≈ 2e-9 of σ²); summing it in row
    // blocks cuts γ_m to γ_{b+B−1}.
    let blocked = options.rel_width <= BLOCKED_GRAM_MAX_WIDTH;
    let gram = if blocked {
        GramWithError::new_blocked_with(s, threads)
    } else {
        GramWithError::new_with(s, threads)
    };
    timer.done(|| {
        format!(
            "gram {m}x{n} ({threads} threads{})",
            if blocked { ", blocked" } else { "" }
        )
    });
    let timer = timing::stage();
    let c32 = gram.lower_f32();
    timer.done(|| format!("gram to f32 {n}x{n}"));
    let start = crate::random::Rng::new(options.seed).gaussian_vec(s.ncols());
    // Lanczos until the residual is small enough that a shift μ = θ + 4·res
    // sits close above λ₁ (inverse iteration then converges at rate
    // (μ − λ₁)/(μ − λ₂)); f32 matrix–vector products halve the memory traffic.
    // For tight widths Lanczos goes on until its Ritz vector alone is
    // accurate enough for the certificate (see `ritz_sigma_error`), which
    // saves the f32 factorization of step 3 when the top eigenvalue is well
    // separated; LANCZOS_MAX_STEPS bounds what that can cost.
    // The target: half the width the first certificate aims at, so that
    // the estimate's error does not widen it (see `enclose_from_estimate`).
    let ritz_target = |r: &gram_lanczos::RitzPair| {
        let (floor, _) = crate::certify::refine::certificate_floor(
            &gram,
            r.value.max(0.0).sqrt(),
            options.rel_width,
        );
        (options.rel_width / 4.0).max(floor) / 2.0
    };
    let strict = |r: &gram_lanczos::RitzPair| {
        r.residual <= 1e-5 * r.value && ritz_sigma_error(r) <= ritz_target(r)
    };
    // A loose width (see the Ritz-pair shortcut below) is served by the
    // Ritz vector alone once its predicted σ error is well inside the width:
    // Lanczos stops there first and goes on to the strict target only if
    // that vector's lower bound falls short.
    let loose = options.rel_width >= LOOSE_REL_WIDTH;
    let lanczos = |done: &dyn Fn(&gram_lanczos::RitzPair) -> bool| {
        let timer = timing::stage();
        let ritz =
            gram_lanczos::lanczos_top_until(c32.as_ref(), &start, LANCZOS_MAX_STEPS, threads, done);
        timer.done(|| {
            format!(
                "lanczos {n}: {} steps, rel residual {:.1e}, predicted σ error {:.1e}",
                ritz.steps,
                ritz.residual / ritz.value,
                ritz_sigma_error(&ritz)
            )
        });
        ritz
    };
    let mut ritz = if loose {
        lanczos(&|r| {
            r.residual <= LOOSE_RITZ_RESIDUAL * r.value
                && ritz_sigma_error(r) <= options.rel_width / 8.0
        })
    } else {
        lanczos(&strict)
    };
    // A loose width may not need the refined vector: when the Ritz vector's
    // rigorous lower bound already lies within rel_width/2 of the estimate,
    // go straight to the certificate (one factorization fewer; the width
    // then is about rel_width/4 + that gap).
    // (θ itself is only f32-accurate, so narrower widths never qualify.)
    let ritz_close = |ritz: &gram_lanczos::RitzPair| {
        let ritz_sigma = ritz.value.max(gram.max_diag()).max(0.0).sqrt();
        let timer = timing::stage();
        let lower = lower_bound_from_vector(s, &ritz.vector);
        timer.done(|| format!("ritz lower bound {m}x{n}"));
        let close = lower > 0.0 && ritz_sigma - lower <= 0.5 * options.rel_width * ritz_sigma;
        (close, ritz_sigma, lower)
    };
    // A Lanczos run stopped early may also have converged to λ₂ while v₁ is
    // still missing from its Krylov space (a start vector nearly orthogonal
    // to v₁): the shortcut's first certificates then fail. So an early stop
    // spends at most LOOSE_SHORTCUT_FACTORIZATIONS on it, and when the width
    // is not reached Lanczos goes on to the strict target.
    let shortcut = |ritz: &gram_lanczos::RitzPair, early: bool| -> Option<ScaledBounds> {
        if !loose {
            return None;
        }
        let (close, ritz_sigma, ritz_lower) = ritz_close(ritz);
        if !close {
            return None;
        }
        let timer = timing::stage();
        let start = Start {
            estimate: ritz_sigma.max(ritz_lower),
            vector: &ritz.vector,
            lower: ritz_lower,
            estimate_rel_error: LANCZOS_F32_REL_ERROR,
            max_factorizations: if early {
                LOOSE_SHORTCUT_FACTORIZATIONS
            } else {
                MAX_FACTORIZATIONS
            },
        };
        let bounds = enclose_from_lower(s, &gram, start, options.rel_width, threads);
        timer.done(|| format!("enclosure {n} from the Ritz pair (lower bound + certificates)"));
        (!early || relative_gap(bounds.lower, bounds.upper) <= options.rel_width).then_some(bounds)
    };
    let early = loose && !strict(&ritz);
    if let Some(bounds) = shortcut(&ritz, early) {
        return Ok(bounds);
    }
    if early {
        ritz = lanczos(&strict);
        if let Some(bounds) = shortcut(&ritz, false) {
            return Ok(bounds);
        }
    }
    let theta = ritz.value.max(gram.max_diag());
    if ritz_sigma_error(&ritz) <= ritz_target(&ritz) {
        // The f64 Rayleigh quotient ρ of the Ritz vector (θ itself carries
        // the f32 products' error); λ₁ − ρ is about the predicted error.
        let timer = timing::stage();
        let mut cv = vec![0.0; n];
        gram.apply(&ritz.vector, &mut cv);
        let vv: f64 = ritz.vector.iter().map(|x| x * x).sum();
        let rho: f64 = ritz.vector.iter().zip(&cv).map(|(x, y)| x * y).sum::<f64>() / vv;
        let bounds = enclose_from_estimate_with(
            s,
            &gram,
            rho.max(0.0).sqrt(),
            &ritz.vector,
            ritz_sigma_error(&ritz).max(1e-12),
            options.rel_width,
            threads,
        );
        timer
            .done(|| format!("enclosure {n} from the Lanczos vector (lower bound + certificates)"));
        return Ok(bounds);
    }
    // The f32 factorization's own backward error is about √n·2⁻²⁴·λ₁; the
    // shift must clear it.
    let f32_noise = 4.0 * (s.ncols() as f64).sqrt() * f32::EPSILON as f64;
    let mut margin = (4.0 * ritz.residual).max(f32_noise.max(2e-5) * theta);
    let mut vector = ritz.vector.clone();
    let mut lambda = theta;
    for attempt in 0..6 {
        let timer = timing::stage();
        let refined = shift_invert::refine_top_vector(
            &gram,
            c32.as_ref(),
            theta + margin,
            &ritz.vector,
            3,
            1,
        );
        timer.done(|| {
            format!(
                "shift-invert f32 {n} (attempt {}, {})",
                attempt + 1,
                if refined.is_some() { "ok" } else { "breakdown" }
            )
        });
        if let Some(r) = refined {
            vector = r.vector;
            // The f64 Rayleigh quotient, not θ: θ comes from f32 products and
            // may exceed λ₁ by ~1e-7 relative.
            lambda = r.rayleigh;
            break;
        }
        margin *= 8.0;
    }
    let estimate = lambda.max(0.0).sqrt();
    let timer = timing::stage();
    let bounds = enclose_from_estimate_with(
        s,
        &gram,
        estimate,
        &vector,
        1e-12,
        options.rel_width,
        threads,
    );
    timer.done(|| format!("enclosure {n} (lower bound + certificates)"));
    Ok(bounds)
}

/// Predicted relative error of √ρ as an estimate of σ₁, ρ the Rayleigh
/// quotient of the Ritz vector: by the Kato–Temple inequality
/// λ₁ − ρ ≤ ‖r‖²/(ρ − λ₂) (Parlett, *The Symmetric Eigenvalue Problem*,
/// Thm 10.6.1), with θ − θ₂ standing in for the gap, halved for σ = √λ.
/// Only steers the path (∞ when the gap is not resolved); no guarantee
/// rests on it.
fn ritz_sigma_error(r: &crate::estimate::gram_lanczos::RitzPair) -> f64 {
    let gap = r.value - r.second;
    if gap > 0.0 && r.value > 0.0 {
        r.residual * r.residual / gap / (2.0 * r.value)
    } else {
        f64::INFINITY
    }
}

/// Relative accuracy assumed for the f32 Lanczos estimate of σ (only steers
/// the first certification attempt; soundness does not depend on it).
const LANCZOS_F32_REL_ERROR: f64 = 1e-6;

/// Smallest requested width for which the `auto` path tries the Ritz pair
/// alone (ten times [`LANCZOS_F32_REL_ERROR`]).
const LOOSE_REL_WIDTH: f64 = 1e-5;

/// Largest relative Lanczos residual ‖Cy − θy‖/θ at which a loose width
/// (≥ [`LOOSE_REL_WIDTH`]) trusts the predicted σ error of the Ritz vector:
/// before that, θ − θ₂ is too rough a gap estimate (only steers the path).
const LOOSE_RITZ_RESIDUAL: f64 = 3e-3;

/// Cholesky factorizations the loose-width shortcut may spend on a Ritz pair
/// from an early Lanczos stop before Lanczos goes on (one certificate and
/// one retry at four times the margin).
const LOOSE_SHORTCUT_FACTORIZATIONS: usize = 2;

/// Most Lanczos steps the `auto` estimate may take (each one product with the
/// f32 Gram matrix, n² memory reads).
const LANCZOS_MAX_STEPS: usize = 120;

/// Smallest relative width a probabilistic enclosure is asked for (the
/// probabilistic path is for speed; tighter requests should be rigorous).
const PROBABILISTIC_MIN_REL_WIDTH: f64 = 1e-6;

/// Probabilistic path: Golub–Kahan–Lanczos from a seeded random start with
/// the failure bound of [`probabilistic_sigma`]; the lower end stays rigorous.
fn probabilistic(scaled: &ScaledMatrix, p: f64, options: &SigmaOptions) -> Result<Enclosure> {
    let rel_width = options.rel_width.max(PROBABILISTIC_MIN_REL_WIDTH);
    let e = probabilistic_sigma(&scaled.matrix, p, rel_width, options.seed)?;
    let bounds = ScaledBounds {
        lower: e.lower(),
        upper: e.upper(),
        estimate: e.estimate(),
    };
    to_original(
        scaled,
        bounds,
        e.guarantee(),
        options.method,
        e.certificate(),
    )
}

/// Gram iteration: the certified upper bound of [`gram_upper_bound`] with
/// enough iterations for the requested width (the overestimate factor is about
/// rank^{1/2^{K+1}}, so K ≈ log₂(ln n / width)), and a vector lower bound
/// from a short power iteration.
fn gram_bounds(s: &DenseMatrix, options: &SigmaOptions) -> Result<ScaledBounds> {
    let n = s.ncols().max(2) as f64;
    let iterations = ((n.ln() / options.rel_width).log2().ceil() as usize).clamp(4, 40);
    let upper = gram_upper_bound(s, iterations)?;
    let pw = power_iteration(s, 100, options.seed);
    let lower = lower_bound_from_vector(s, &pw.right).min(upper);
    Ok(ScaledBounds {
        lower,
        upper,
        estimate: pw.sigma.clamp(lower, upper),
    })
}

/// The error for an upper bound that does not fit in f64. When even the
/// lower bound, scaled back, exceeds `f64::MAX`, σ itself is not
/// representable: [`Error::Overflow`] (bad input, exit 2). Otherwise σ may
/// well be representable (σ = `f64::MAX` is), only no certified upper bound
/// is: [`Error::CertificateFailed`] (no certificate, exit 4).
fn upper_overflow(scaled: &ScaledMatrix, scaled_lower: f64, lower: f64, overflow: Error) -> Error {
    // σ(W) ≥ 2^−k (l − lost); the product is rounded to nearest, so an
    // infinite result means the exact value is above f64::MAX.
    let l = if scaled.lost == 0.0 {
        scaled_lower
    } else {
        crate::rounding::sub_down(scaled_lower, scaled.lost)
    };
    if crate::rounding::scale_pow2(l, -scaled.exponent).is_infinite() {
        return overflow;
    }
    Error::CertificateFailed(format!(
        "σ ≥ {lower:e} may fit in f64 (up to f64::MAX ≈ 1.8e308), but no certified upper bound does: the upper bound overflows"
    ))
}

fn to_original(
    scaled: &ScaledMatrix,
    bounds: ScaledBounds,
    guarantee: Guarantee,
    method: Method,
    certificate: &'static str,
) -> Result<Enclosure> {
    let lower = scaled.lower_to_original(bounds.lower);
    let upper = match scaled.upper_to_original(bounds.upper) {
        Ok(u) => u,
        Err(overflow) => return Err(upper_overflow(scaled, bounds.lower, lower, overflow)),
    };
    let estimate = scaled.estimate_to_original(bounds.estimate);
    Enclosure::new(lower, upper, estimate, guarantee, method, certificate)
}
