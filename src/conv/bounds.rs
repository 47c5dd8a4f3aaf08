//! The certified upper bound on the norm of a convolution from its circular
//! embedding, for every padding mode, and the start vectors for its lower
//! bound.
//!
//! ‖A‖ ≤ √f·max_{g, ω} σ(B_g(ω)) with the plan of [`EmbeddingPlan`] (f = row
//! selection multiplicity × padding multiplicity; Conv.v
//! `zero_pad_compression` for the compression argument) and the blocks of
//! [`BlockSpectrum`] (Sedghi et al. 2019; groups: Conv.v `grouped_norm_max`).
//! Every block is certified through its Gram matrix G(ω) = B(ω)ᴴB(ω),
//! evaluated from the kernel's autocorrelation or from samples on a coarse
//! frequency grid with one rigorous radius ([`SymbolGram`], which assumes
//! `sin`/`cos` within 4 ulp), by a complex
//! Cholesky certificate of s²I − G(ω) ([`certify_hermitian_upper`]).

use super::circular_spectrum::BlockSpectrum;
use super::embedding::EmbeddingPlan;
use super::geometry::Conv2dGeometry;
use super::kernel::Kernel;
use super::symbol_gram::{SymbolGram, SymbolRoute};
use crate::certify::hermitian_upper::{
    certify_hermitian_upper, HermitianWithError, HermitianWorkspace,
};
use crate::certify::pd_upper::PdFailure;
use crate::error::{Error, Result};
use crate::estimate::symmetric_lanczos::{lanczos_top_until, RitzPair};
use crate::rounding;
use faer::Mat;

/// At most this many blocks (largest Frobenius norm first), and at most one
/// in ten, have their σ estimated by Lanczos to choose the first candidate
/// bound (an estimate costs about as much as a certificate).
const REFINE_BLOCKS: usize = 8;
/// From this block dimension on, only the top block is refined first.
const REFINE_ONE_FROM_DIM: usize = 256;
/// Blocks of at least this dimension are ranked by their trace first.
const RANK_FROM_DIM: usize = 8;
/// Lanczos steps for the blocks near the maximum.
const REFINE_STEPS: usize = 40;
/// Blocks evaluated per sweep over a symbol's coefficients.
const SWEEP_BLOCKS: usize = 8;
/// Relative slack above the best estimate at which all blocks are certified.
const SLACK: f64 = 1e-9;

/// A certified upper bound from the circular embedding.
#[derive(Debug, Clone)]
pub struct EmbeddingBound {
    /// Rigorous upper bound on ‖A‖₂ (original units).
    pub upper: f64,
    /// Rigorous upper bound on max_{g, ω} σ(B_g(ω)) (without the factor √f).
    pub spectrum_upper: f64,
    /// Estimate of max_{g, ω} σ(B_g(ω)) (no guarantee).
    pub spectrum_estimate: f64,
    /// True when ‖A‖ equals the circular spectrum maximum exactly.
    pub exact: bool,
    /// The plan used.
    pub plan: EmbeddingPlan,
    /// Input tensors built from the top singular vector of the largest block
    /// (real and imaginary phase), to be certified as lower-bound vectors.
    pub start_vectors: Vec<Vec<f64>>,
    /// Number of frequency blocks certified.
    pub blocks: usize,
}

/// Upper bound u ≥ x·2^k (x ≥ 0).
fn scale_up(x: f64, k: i32) -> f64 {
    let r = rounding::scale_pow2(x, k);
    if rounding::scale_pow2(r, -k) == x {
        r
    } else {
        r.next_up()
    }
}

/// The certified circular-embedding bound on ‖A‖₂ for `kernel` under
/// `geometry` (any padding mode, stride, dilation, groups); see the module
/// documentation for the theorem. Exact (up to the certification slack) for
/// circular padding whose outputs are all circular outputs once.
///
/// ```
/// use lipcert::conv::{circular_embedding_bound, Conv2dGeometry, Kernel, PaddingMode};
/// // Circular 1-D difference filter on 8 points: σ = max|1 − e^{−iθ}| = 2.
/// let mut g = Conv2dGeometry::conv1d(1, 1, 2, 8);
/// g.mode = PaddingMode::Circular;
/// g.padding = (0, 0, 0, 1);
/// let k = Kernel::from_f64(1, 1, 1, 2, vec![1.0, -1.0]).unwrap();
/// let b = circular_embedding_bound(&k, &g).unwrap();
/// assert!(b.exact && b.upper >= 2.0 && b.upper < 2.0 * (1.0 + 1e-8));
/// ```
pub fn circular_embedding_bound(
    kernel: &Kernel,
    geometry: &Conv2dGeometry,
) -> Result<EmbeddingBound> {
    circular_embedding_bound_with(kernel, geometry, SymbolRoute::Cheapest, 1)
}

/// [`circular_embedding_bound`] with the per-frequency Gram matrices formed
/// by `route` (both routes are rigorous; the default picks the cheaper one,
/// the others exist for cross-checks), on `threads` threads (0: all cores).
///
/// Threads split the sampled symbol's products (any summation order: the
/// same radius) and the per-frequency certificates: each thread certifies
/// its share of the blocks, raising its own candidate s where a block
/// needs it, and the bound is the largest certified s; every block is
/// certified at or below it, so it bounds every block whatever the split.
/// With one thread the result is the same on every run; with more the last
/// bits may depend on the split (deterministic for a thread count).
pub fn circular_embedding_bound_with(
    kernel: &Kernel,
    geometry: &Conv2dGeometry,
    route: SymbolRoute,
    threads: usize,
) -> Result<EmbeddingBound> {
    let threads = crate::parallel::resolve_threads(threads);
    kernel.check_matches(geometry)?;
    let plan = EmbeddingPlan::new(geometry);
    let max_abs = kernel.max_abs();
    if max_abs == 0.0 {
        return Ok(EmbeddingBound {
            upper: 0.0,
            spectrum_upper: 0.0,
            spectrum_estimate: 0.0,
            exact: plan.exact,
            plan,
            start_vectors: vec![],
            blocks: 0,
        });
    }
    let e = rounding::exponent_of(max_abs);
    let timer = crate::timing::stage();
    let (spec, e) = match BlockSpectrum::new_scaled(kernel, geometry.groups, &plan, -e) {
        Some(spec) => (spec, e),
        None => (BlockSpectrum::new(kernel, geometry.groups, &plan), 0),
    };
    let freqs = spec.frequencies();
    let symbols: Vec<SymbolGram> = (0..spec.groups())
        .map(|g| SymbolGram::with_route(&spec, g, route, threads))
        .collect();
    timer.done(|| "circular spectrum: blocks and symbols".into());
    // Pass 1: rank the blocks by ‖B(ω)‖_F² = tr G(ω) (a cheap proxy for σ²).
    let timer = crate::timing::stage();
    let mut est: Vec<(f64, usize, (usize, usize))> =
        Vec::with_capacity(freqs.len() * spec.groups());
    // Ranking only pays off when a failed certificate costs more than a
    // trace (tiny blocks: keep the natural order).
    let rank = symbols[0].dim() >= RANK_FROM_DIM;
    for (g, symbol) in symbols.iter().enumerate() {
        for &w in &freqs {
            let key = if rank {
                symbol.trace_estimate(&spec, w)
            } else {
                0.0
            };
            est.push((key, g, w));
        }
    }
    if rank {
        est.sort_by(|a, b| b.0.total_cmp(&a.0));
    }
    timer.done(|| format!("circular spectrum: rank {} blocks", est.len()));
    let timer = crate::timing::stage();
    // Estimate σ² of the leading blocks (pass 2 visits blocks in this order,
    // so the candidate bound rises early and few blocks fail their first
    // certificate).
    let mut gram = HermitianWithError::zeros(0);
    let mut estimate_sq = 0.0f64;
    let mut best = (est[0].1, est[0].2);
    let mut best_pair: Option<RitzPair> = None;
    // Large blocks: one Lanczos estimate costs more than a few certificates,
    // so only the top block is refined (a later failure refines its block).
    let refine = if symbols[0].dim() >= REFINE_ONE_FROM_DIM {
        1
    } else {
        REFINE_BLOCKS.min(est.len().div_ceil(10))
    };
    for &(_, g, w) in est.iter().take(refine) {
        symbols[g].evaluate(&spec, w, &mut gram);
        let pair = hermitian_top_pair(&gram, REFINE_STEPS);
        if pair.value > estimate_sq {
            estimate_sq = pair.value;
            best = (g, w);
            best_pair = Some(pair);
        }
    }
    let refined_best = best;
    timer.done(|| format!("circular spectrum: estimate {refine} block(s)"));
    // Pass 2: certify every block at a common candidate s.
    // The certificate needs s² above λ_max + ρ (plus its own small shift).
    let radius = symbols.iter().map(|sym| sym.radius()).fold(0.0, f64::max);
    let mut s = rounding::mul_up(
        rounding::sqrt_up(rounding::add_up(estimate_sq, radius)),
        1.0 + SLACK,
    );
    if s.is_nan() || s <= 0.0 {
        s = f64::MIN_POSITIVE;
    }
    // Up to eight blocks of the same group per sweep over the coefficients;
    // the sweeps dealt round-robin to the threads (the largest blocks first
    // in each share).
    let mut sweeps: Vec<(usize, Vec<(usize, usize)>)> = Vec::new();
    let mut i = 0;
    while i < est.len() {
        let g = est[i].1;
        let ws: Vec<(usize, usize)> = est[i..]
            .iter()
            .take(SWEEP_BLOCKS)
            .take_while(|e| e.1 == g)
            .map(|e| e.2)
            .collect();
        i += ws.len();
        sweeps.push((g, ws));
    }
    let t = threads.min(sweeps.len()).max(1);
    let certify_share = |k: usize| -> Result<Share> {
        let mut share = Share {
            s,
            best: None,
            form_s: 0.0,
            cert_s: 0.0,
        };
        let mut batch = vec![HermitianWithError::zeros(0); SWEEP_BLOCKS];
        let mut work = HermitianWorkspace::default();
        for (g, ws) in sweeps.iter().skip(k).step_by(t) {
            let blocks = &mut batch[..ws.len()];
            let started = std::time::Instant::now();
            symbols[*g].evaluate_many(&spec, ws, blocks);
            share.form_s += started.elapsed().as_secs_f64();
            let started = std::time::Instant::now();
            for (&w, block) in ws.iter().zip(blocks.iter()) {
                let sb = certify_gram(block, share.s, &mut work)?;
                if sb > share.s {
                    share.s = sb;
                    share.best = Some((*g, w));
                }
            }
            share.cert_s += started.elapsed().as_secs_f64();
        }
        Ok(share)
    };
    let shares: Vec<Result<Share>> = if t == 1 {
        vec![certify_share(0)]
    } else {
        let certify_share = &certify_share;
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..t)
                .map(|k| scope.spawn(move || certify_share(k)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    };
    let (mut form_s, mut cert_s) = (0.0, 0.0);
    for share in shares {
        let share = share?;
        form_s += share.form_s;
        cert_s += share.cert_s;
        if share.s > s {
            s = share.s;
            if let Some(b) = share.best {
                best = b;
            }
        }
    }
    if crate::timing::enabled() {
        eprintln!(
            "lipcert timing: circular spectrum: form Gram blocks {form_s:.3} s, certify {cert_s:.3} s (wall, summed over threads)"
        );
    }
    let timer = crate::timing::stage();
    let spectrum_scaled = s;
    let mut z = Mat::<f64>::zeros(0, 0);
    let spectrum_upper = scale_up(spectrum_scaled, e);
    let upper = if plan.factor == 1 {
        spectrum_upper
    } else {
        rounding::mul_up(rounding::sqrt_up(plan.factor as f64), spectrum_upper)
    };
    if !upper.is_finite() {
        return Err(Error::Overflow {
            context: "circular-embedding bound of the convolution".into(),
        });
    }
    // Start vectors from the largest block's top right singular vector: the
    // top eigenvector of its Gram matrix (BᴴB, or BBᴴ mapped through Bᴴ).
    let mut pair = match best_pair {
        // The refinement already has the pair of this block.
        Some(p) if best == refined_best => p,
        _ => {
            symbols[best.0].evaluate(&spec, best.1, &mut gram);
            hermitian_top_pair(&gram, (2 * gram.dim()).min(60))
        }
    };
    if !symbols[best.0].is_column_side() {
        spec.fill(best.0, best.1, &mut z);
        pair.vector = adjoint_times(z.as_ref(), &pair.vector);
    }
    let window = !plan.exact;
    let start_vectors = [0.0, std::f64::consts::FRAC_PI_2]
        .iter()
        .map(|&phase| {
            spec.spatial_vector(&plan, geometry, best.0, best.1, &pair.vector, phase, window)
        })
        .collect();
    timer.done(|| "circular spectrum: start vectors".into());
    Ok(EmbeddingBound {
        upper,
        spectrum_upper,
        spectrum_estimate: rounding::scale_pow2(estimate_sq.max(pair.value).sqrt(), e),
        exact: plan.exact,
        plan,
        start_vectors,
        blocks: est.len(),
    })
}

/// One thread's share of the per-frequency certificates: its final
/// candidate s, the block that last raised it, and its form/certify times.
struct Share {
    s: f64,
    best: Option<(usize, (usize, usize))>,
    form_s: f64,
    cert_s: f64,
}

/// λ_max estimate of a Hermitian G̃ by `steps` Lanczos steps on its real
/// embedding from a fixed start (no guarantee).
pub(crate) fn hermitian_top(gram: &HermitianWithError, steps: usize) -> f64 {
    hermitian_top_pair(gram, steps).value
}

/// As [`hermitian_top`], but stopping once the Ritz value settles to the
/// relative `tol` (a looser `tol` for callers that certify with a margin
/// far above it).
pub(crate) fn hermitian_top_until(gram: &HermitianWithError, steps: usize, tol: f64) -> f64 {
    let n = gram.dim();
    let start = hermitian_start(n);
    lanczos_top_until(2 * n, &start, steps, tol, |x, y| gram.apply(x, y)).map_or(0.0, |p| p.value)
}

/// The fixed, deterministic Lanczos start of the Hermitian estimates.
fn hermitian_start(n: usize) -> Vec<f64> {
    (0..2 * n)
        .map(|i| 1.0 + ((i * 7919) % 113) as f64 / 113.0)
        .collect()
}

/// The top Ritz pair of G̃'s real embedding after at most `steps` Lanczos
/// steps (stopping once the value settles to 1e-13), from a fixed start;
/// the vector is [Re v; Im v] (no guarantee).
fn hermitian_top_pair(gram: &HermitianWithError, steps: usize) -> RitzPair {
    let n = gram.dim();
    let start = hermitian_start(n);
    lanczos_top_until(2 * n, &start, steps, 1e-13, |x, y| gram.apply(x, y)).unwrap_or(RitzPair {
        value: 0.0,
        vector: vec![0.0; 2 * n],
    })
}

/// u = Bᴴv for the stacked block z = [X; Y] (B = X + iY) and v = [Re v; Im v]:
/// Re u = Xᵀ·Re v + Yᵀ·Im v, Im u = Xᵀ·Im v − Yᵀ·Re v.
fn adjoint_times(z: faer::MatRef<'_, f64>, v: &[f64]) -> Vec<f64> {
    let (p, q) = (z.nrows() / 2, z.ncols());
    let (x, y) = (z.subrows(0, p), z.subrows(p, p));
    let (vr, vi) = v.split_at(p);
    let mut u = vec![0.0; 2 * q];
    for j in 0..q {
        let (mut re, mut im) = (0.0, 0.0);
        for i in 0..p {
            re += x[(i, j)] * vr[i] + y[(i, j)] * vi[i];
            im += x[(i, j)] * vi[i] - y[(i, j)] * vr[i];
        }
        u[j] = re;
        u[q + j] = im;
    }
    u
}

/// Certifies σ(B) < s for the block whose Gram matrix is `gram`, trying `s`
/// and, on failure, a bound from a Lanczos estimate and then from all
/// eigenvalues, widened until the certificate holds. Returns the certified
/// bound (≥ s only when s itself failed).
///
/// Rigorous by [`certify_hermitian_upper`]; the estimates only choose the
/// candidate.
fn certify_gram(gram: &HermitianWithError, s: f64, work: &mut HermitianWorkspace) -> Result<f64> {
    match certify_hermitian_upper(gram, s, work) {
        Ok(()) => return Ok(s),
        Err(PdFailure::TooLarge) => {
            return Err(Error::CertificateFailed(
                "frequency block too large for the Cholesky certificate".into(),
            ))
        }
        Err(_) => {}
    }
    let quick = rounding::mul_up(
        rounding::sqrt_up(rounding::add_up(hermitian_top(gram, 40), gram.radius)),
        1.0 + 1e-9,
    );
    if quick > s && certify_hermitian_upper(gram, quick, work).is_ok() {
        return Ok(quick);
    }
    // All eigenvalues of the real embedding [[Re, −Im], [Im, Re]].
    let n = gram.dim();
    let embed = Mat::<f64>::from_fn(2 * n, 2 * n, |i, j| {
        let (a, b) = (i % n, j % n);
        let (r, m) = if a >= b {
            (gram.re[(a, b)], if a > b { gram.im[(a, b)] } else { 0.0 })
        } else {
            (gram.re[(b, a)], -gram.im[(b, a)])
        };
        match (i / n, j / n) {
            (0, 0) | (1, 1) => r,
            (1, 0) => m,
            _ => -m,
        }
    });
    let eig = embed
        .self_adjoint_eigenvalues(faer::Side::Lower)
        .map_err(|e| Error::EstimatorFailed(format!("block eigenvalues: {e:?}")))?;
    let top = eig.iter().copied().fold(0.0f64, f64::max);
    let mut cand = rounding::sqrt_up(rounding::add_up(top, gram.radius)).max(s);
    let mut rel = 1e-12;
    for _ in 0..60 {
        cand = rounding::mul_up(cand, 1.0 + rel);
        if certify_hermitian_upper(gram, cand, work).is_ok() {
            return Ok(cand);
        }
        rel *= 2.0;
    }
    Err(Error::CertificateFailed(format!(
        "could not certify a frequency block below {cand:e}"
    )))
}
