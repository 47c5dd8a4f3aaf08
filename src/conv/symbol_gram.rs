//! The Gram matrices G_g(ω) = B_g(ω)ᴴB_g(ω) of all frequency blocks of a
//! [`BlockSpectrum`] at once, as weighted sums of a few real matrices with one
//! rigorous error radius: from the kernel's autocorrelation (this module) or
//! from samples on a coarse grid ([`super::symbol_samples`], cheaper for
//! kernels with many taps), whichever costs less.
//!
//! # The formula
//! With the taps of [`BlockSpectrum::taps`], B(ω) = Σ_t T_t·e^{−iω·p_t}
//! (T_t the kernel slice placed in its column block, p_t its position, ω·p
//! short for 2π(ω₁p₁/M₁ + ω₂p₂/M₂)), so
//!
//! G(ω) = Σ_{t,t'} T_tᵀT_{t'}·e^{−iω·(p_{t'} − p_t)} = Σ_d C(d)·e^{−iω·d},
//! C(d) = Σ_{p_{t'} − p_t ≡ d} T_tᵀT_{t'}  (real, C(−d) = C(d)ᵀ),
//!
//! a matrix trigonometric polynomial whose coefficients are computed once;
//! each frequency then costs O(#d·n²) instead of a block fill and a product.
//! Pairing d with −d, G(ω) = C(0) + Σ_{2d ≡ 0, d ≠ 0} ±C(d) +
//! Σ_{d ∈ H} [S(d)·cos(ω·d) − i·A(d)·sin(ω·d)] with S = C + Cᵀ, A = C − Cᵀ
//! and H one of each pair {d, −d}; for 2d ≡ 0 the phase is exactly ±1.
//! When the block has more columns than rows the same is done for
//! B(ω)B(ω)ᴴ = (Bᴴ)ᴴBᴴ, Bᴴ(ω) = Σ_t T_tᵀ·e^{−iω·(−p_t)} (same nonzero
//! spectrum, the smaller matrix).
//!
//! # Error radius
//! Per entry (J, J') and for the real and the imaginary part alike:
//! * each computed C̃(d) entry is a sum of N products of kernel entries
//!   (faer multiplies accumulated in some order; N = rows × the most tap
//!   pairs in one entry), so |C̃ − C| ≤ γ_N·P + N·η with P the sum of the
//!   products' moduli (Higham Lemma 3.1; proof: proofs/theories/FloatDot.v,
//!   `dot_error_bound`); S̃ = fl(C̃ + C̃ᵀ) adds one rounding: γ_{N+1}·P + 2Nη;
//! * each phase component is within δ of cos, −sin
//!   ([`twiddle_product_error`], which assumes libm sin/cos within 4 ulp);
//! * the evaluation is a dot product of K terms (K = number of classes d
//!   kept), so with |x̃y − XY| ≤ |x̃ − X||y| + |X||y − Y|:
//!   |G̃ − G| ≤ β·ΣP + τ, β = γ_K(1 + γ_{N+1})(1 + δ) + γ_{N+1}(1 + δ) + δ,
//!   τ = (4N + 1)·K·η.
//!
//! Every ordered tap pair appears in exactly one term, so ΣP ≤ a_J·a_{J'},
//! a_J the vector of Σ_t |T_t| over column J; a_J has at most L terms per
//! entry (L = most taps per column block), so Σ_J ‖a_J‖² ≤ L‖K‖_F²
//! (Cauchy–Schwarz). On the real embedding E(G̃ − G) the entries are bounded
//! by [[R, R], [R, R]], R = β·aᵀa + τ·11ᵀ, a nonnegative matrix of norm
//! 2‖R‖₂ ≤ 2(β·L‖K‖_F² + nτ); that is the radius
//! (proof: proofs/theories/Norms.v, `spectral_le_abs`, `spectral_le_frobenius`).
//! The imaginary diagonal is set to its exact value 0.
//!
//! Proof: proofs/theories/FloatDot.v, `dot_error_bound`
//! Proof: proofs/theories/Norms.v, `spectral_le_abs`
//! Proof: proofs/theories/Norms.v, `spectral_le_frobenius`

use super::circular_spectrum::{phase_product, twiddle_product_error, BlockSpectrum};
use super::symbol_samples::{sampled, sampled_cost, sampled_terms, SampleWeights};
use crate::certify::hermitian_upper::HermitianWithError;
use crate::columns::{column, column_mut};
use crate::rounding::{self, ETA};
use crate::simd::multiversion;
use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::reborrow::*;
use faer::{Accum, Mat, MatMut, MatRef, Par};

/// A tap seen from the chosen side: G = Σ over tap pairs with equal row
/// block of mᵀ·m' placed at (column block, column block').
struct SideTap<'a> {
    pos: (usize, usize),
    row_block: usize,
    col_block: usize,
    m: MatRef<'a, f64>,
}

/// How an offset d ∈ ℤ_{M₁} × ℤ_{M₂} enters the evaluation.
#[derive(Clone, Copy, PartialEq)]
enum Class {
    Zero,
    /// 2d ≡ 0, d ≠ 0: real coefficient, phase exactly ±1.
    SelfConjugate,
    /// The representative of {d, −d} kept.
    Half,
    /// −d is kept instead.
    Mirror,
}

fn classify(d: (usize, usize), m: (usize, usize)) -> Class {
    let neg = ((m.0 - d.0) % m.0, (m.1 - d.1) % m.1);
    if d == (0, 0) {
        Class::Zero
    } else if neg == d {
        Class::SelfConjugate
    } else if d < neg {
        Class::Half
    } else {
        Class::Mirror
    }
}

/// The coefficients of one group's symbol (autocorrelation terms or coarse
/// samples) and the error radius of every G̃(ω) evaluated from them.
/// Coefficients are stored as packed lower triangles (column j holds rows
/// j..n), one after the other.
pub struct SymbolGram {
    n: usize,
    /// True when G = BᴴB (columns side), false when G = BBᴴ.
    column_side: bool,
    /// Real-part coefficients: C(0), then C(d) for each self-conjugate d,
    /// then S(d) for each d ∈ H.
    re_coef: Vec<f64>,
    /// Imaginary-part coefficients A(d) for each d ∈ H (diagonal entries 0).
    im_coef: Vec<f64>,
    /// For tiny n the coefficient arrays are stored entry-major instead
    /// (all coefficients of one entry together), so each entry is one dot
    /// product.
    entry_major: bool,
    /// What the coefficients are and how they are weighted at ω.
    basis: Basis,
    /// Trace of each real-part coefficient, in the same order.
    traces: Vec<f64>,
    radius: f64,
}

impl std::fmt::Debug for SymbolGram {
    /// The sizes and the radius; the coefficient arrays (up to millions of
    /// entries) are summarised by their lengths.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SymbolGram")
            .field("n", &self.n)
            .field("column_side", &self.column_side)
            .field(
                "route",
                &match self.basis {
                    Basis::Fourier(_) => "autocorrelation",
                    Basis::Samples(_) => "samples",
                },
            )
            .field("re_coef_len", &self.re_coef.len())
            .field("im_coef_len", &self.im_coef.len())
            .field("radius", &self.radius)
            .finish()
    }
}

/// The two representations of G(ω) as a weighted sum of real matrices.
enum Basis {
    /// The autocorrelation coefficients C(d), S(d), A(d) (module doc).
    Fourier(FourierWeights),
    /// Samples G(θ_ν) on a coarse grid ([`super::symbol_samples`]).
    Samples(SampleWeights),
}

/// The phases of the autocorrelation terms.
struct FourierWeights {
    selfs: Vec<(usize, usize)>,
    /// For each d ∈ H, the indices of d₁ and d₂ in the axis tables.
    halves: Vec<(usize, usize)>,
    /// Axis twiddles e^{−2πi·ω₁d₁/M₁} for every ω₁ and every distinct d₁
    /// of H (row ω₁), and the same for axis 2.
    axis_tables: [(usize, Vec<(f64, f64)>); 2],
}

/// How [`SymbolGram`] obtains its coefficients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolRoute {
    /// From the kernel's autocorrelation (one product per tap pair).
    Autocorrelation,
    /// From samples on a coarse frequency grid (one complex Gram per node;
    /// `conv/symbol_samples.rs`).
    Samples,
    /// Whichever costs fewer estimated operations.
    Cheapest,
}

/// Relative cost of one multiply-add of the (memory-bound) evaluation sweep
/// against one of a matrix product, for choosing the route.
const SWEEP_COST: f64 = 8.0;

/// Offset of column j in a packed lower triangle of order n.
fn packed_offset(n: usize, j: usize) -> usize {
    j * n - j * (j.saturating_sub(1)) / 2
}

/// Packed lower triangle of f(i, j), i ≥ j.
fn pack(n: usize, f: impl Fn(usize, usize) -> f64, out: &mut Vec<f64>) {
    for j in 0..n {
        for i in j..n {
            out.push(f(i, j));
        }
    }
}

/// Appends the packed lower triangle of `m` (column by column), with the
/// diagonal set to 0 when `zero_diagonal`.
pub(super) fn pack_lower(m: MatRef<'_, f64>, zero_diagonal: bool, out: &mut Vec<f64>) {
    for j in 0..m.ncols() {
        let start = out.len();
        out.extend_from_slice(&column(m.col(j))[j..]);
        if zero_diagonal {
            out[start] = 0.0;
        }
    }
}

impl SymbolGram {
    /// The symbol of group `g` of `spec` by the cheaper route.
    pub fn new(spec: &BlockSpectrum, g: usize) -> Self {
        Self::with_route(spec, g, SymbolRoute::Cheapest, 1)
    }

    /// The symbol of group `g` of `spec` by `route`; both routes give G(ω)
    /// within their (different) radii. The samples route splits its
    /// products over `threads` threads (the radius holds for any summation
    /// order).
    pub fn with_route(spec: &BlockSpectrum, g: usize, route: SymbolRoute, threads: usize) -> Self {
        let samples = match route {
            SymbolRoute::Autocorrelation => false,
            SymbolRoute::Samples => true,
            SymbolRoute::Cheapest => {
                let n = spec.block_rows().min(spec.block_cols()) as f64;
                let sweep = |terms: usize| {
                    SWEEP_COST * spec.frequencies().len() as f64 * (2 * terms) as f64 * n * n / 2.0
                };
                let (auto_build, auto_terms) = autocorrelation_cost(spec, g);
                sampled_cost(spec) + sweep(sampled_terms(spec)) < auto_build + sweep(auto_terms)
            }
        };
        if samples {
            let s = sampled(spec, g, threads);
            Self::assemble(
                s.n,
                s.column_side,
                s.re_coef,
                s.im_coef,
                Basis::Samples(s.weights),
                s.traces,
                s.radius,
            )
        } else {
            Self::from_autocorrelation(spec, g)
        }
    }

    /// The coefficients C(d) for group `g` of `spec` (see the module doc).
    fn from_autocorrelation(spec: &BlockSpectrum, g: usize) -> Self {
        let (m1, m2) = spec.moduli();
        let (og, cg, blocks) = (spec.block_rows(), spec.group_in(), spec.column_blocks());
        let (taps, use_rows) = side_taps(spec, g);
        let width = if use_rows { cg } else { og };
        let n = if use_rows { cg * blocks } else { og };
        let rows = if use_rows { og } else { cg };
        // Coefficients C(d), indexed by the class index of d.
        let mut index = vec![usize::MAX; m1 * m2];
        let mut coeffs: Vec<((usize, usize), Class, Mat<f64>)> = Vec::new();
        let mut counts: std::collections::HashMap<(usize, usize, usize), usize> =
            std::collections::HashMap::new();
        for (i, j, d, class) in kept_pairs(&taps, (m1, m2)) {
            let (t, t2) = (&taps[i], &taps[j]);
            let slot = d.0 * m2 + d.1;
            if index[slot] == usize::MAX {
                index[slot] = coeffs.len();
                coeffs.push((d, class, Mat::zeros(n, n)));
            }
            let c = &mut coeffs[index[slot]].2;
            let dst =
                c.as_mut()
                    .submatrix_mut(t.col_block * width, t2.col_block * width, width, width);
            if i == j {
                // T_tᵀT_t: symmetric, only its lower triangle is read.
                triangular::matmul(
                    dst,
                    BlockStructure::TriangularLower,
                    Accum::Add,
                    t.m.transpose(),
                    BlockStructure::Rectangular,
                    t.m,
                    BlockStructure::Rectangular,
                    1.0,
                    Par::Seq,
                );
            } else {
                matmul(dst, Accum::Add, t.m.transpose(), t2.m, 1.0, Par::Seq);
            }
            *counts
                .entry((index[slot], t.col_block, t2.col_block))
                .or_insert(0) += 1;
        }
        let max_pairs = counts.values().copied().max().unwrap_or(1).max(1);
        let trace = |c: &Mat<f64>| (0..n).map(|i| c[(i, i)]).sum::<f64>();
        let mut re_coef = Vec::new();
        let mut im_coef = Vec::new();
        let mut traces = Vec::new();
        let mut selfs = Vec::new();
        let mut halves = Vec::new();
        // C(0) first (it exists whenever there is a tap), then the others.
        coeffs.sort_by_key(|c| match c.1 {
            Class::Zero => 0,
            Class::SelfConjugate => 1,
            _ => 2,
        });
        if coeffs.first().is_none_or(|c| c.1 != Class::Zero) {
            coeffs.insert(0, ((0, 0), Class::Zero, Mat::zeros(n, n)));
        }
        let size = n * (n + 1) / 2;
        let n_half = coeffs.iter().filter(|c| c.1 == Class::Half).count();
        re_coef.reserve_exact(coeffs.len() * size);
        im_coef.reserve_exact(n_half * size);
        for (d, class, c) in coeffs {
            match class {
                Class::Zero | Class::SelfConjugate => {
                    pack_lower(c.as_ref(), false, &mut re_coef);
                    traces.push(trace(&c));
                    if class == Class::SelfConjugate {
                        selfs.push(d);
                    }
                }
                Class::Half => {
                    // A contiguous copy of Cᵀ (faer's blocked transpose), so
                    // both reads below run down columns.
                    let ct = c.transpose().to_owned();
                    pack(n, |i, j| c[(i, j)] + ct[(i, j)], &mut re_coef);
                    pack(
                        n,
                        |i, j| if i > j { c[(i, j)] - ct[(i, j)] } else { 0.0 },
                        &mut im_coef,
                    );
                    traces.push(2.0 * trace(&c));
                    halves.push(d);
                }
                Class::Mirror => unreachable!("mirror offsets are skipped"),
            }
        }
        // The error radius of the module documentation.
        let big_n = rows * max_pairs;
        let k = 1 + selfs.len() + halves.len();
        let delta = twiddle_product_error();
        let one_delta = rounding::add_up(1.0, delta);
        let g_n1 = rounding::gamma(big_n + 1);
        let beta = rounding::add_up(
            rounding::add_up(
                rounding::mul_up(
                    rounding::mul_up(rounding::gamma(k), rounding::add_up(1.0, g_n1)),
                    one_delta,
                ),
                rounding::mul_up(g_n1, one_delta),
            ),
            delta,
        );
        let tau = rounding::mul_up(
            rounding::mul_up(rounding::add_up(4.0 * big_n as f64, 1.0), k as f64),
            ETA,
        );
        let fro = spec.kernel_frobenius_up();
        let l = spec.max_taps_per_block() as f64;
        let radius = rounding::mul_up(
            2.0,
            rounding::add_up(
                rounding::mul_up(beta, rounding::mul_up(l, rounding::mul_up(fro, fro))),
                rounding::mul_up(n as f64, tau),
            ),
        );
        let mut axis_tables = [(0, Vec::new()), (0, Vec::new())];
        let mut half_idx = Vec::with_capacity(halves.len());
        let mut distinct: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
        for &(d1, d2) in &halves {
            let mut idx = [0; 2];
            for (axis, d) in [d1, d2].into_iter().enumerate() {
                idx[axis] = match distinct[axis].iter().position(|&x| x == d) {
                    Some(i) => i,
                    None => {
                        distinct[axis].push(d);
                        distinct[axis].len() - 1
                    }
                };
            }
            half_idx.push((idx[0], idx[1]));
        }
        for (axis, m) in [m1, m2].into_iter().enumerate() {
            let ds = &distinct[axis];
            let table = (0..m)
                .flat_map(|w| ds.iter().map(move |&d| (w, d)))
                .map(|(w, d)| spec.axis_twiddle(axis, w, d))
                .collect();
            axis_tables[axis] = (ds.len(), table);
        }
        let basis = Basis::Fourier(FourierWeights {
            selfs,
            halves: half_idx,
            axis_tables,
        });
        Self::assemble(n, use_rows, re_coef, im_coef, basis, traces, radius)
    }

    /// The symbol from its packed term-major coefficients (re-laid out
    /// entry-major for tiny n).
    fn assemble(
        n: usize,
        column_side: bool,
        mut re_coef: Vec<f64>,
        mut im_coef: Vec<f64>,
        basis: Basis,
        traces: Vec<f64>,
        radius: f64,
    ) -> Self {
        let size = n * (n + 1) / 2;
        let entry_major = size < ENTRY_MAJOR_BELOW;
        if entry_major {
            re_coef = transpose_terms(&re_coef, size);
            im_coef = transpose_terms(&im_coef, size);
        }
        Self {
            n,
            column_side,
            entry_major,
            basis,
            re_coef,
            im_coef,
            traces,
            radius,
        }
    }

    /// Dimension n of every G(ω).
    pub fn dim(&self) -> usize {
        self.n
    }

    /// True when G(ω) = B(ω)ᴴB(ω) (the block has no more columns than rows),
    /// false when G(ω) = B(ω)B(ω)ᴴ.
    pub fn is_column_side(&self) -> bool {
        self.column_side
    }

    /// ρ ≥ ‖G̃(ω) − G(ω)‖₂ for every frequency.
    pub fn radius(&self) -> f64 {
        self.radius
    }

    /// tr G̃(ω) = ‖B(ω)‖_F² (approximately; a ranking key, no guarantee).
    pub fn trace_estimate(&self, spec: &BlockSpectrum, w: (usize, usize)) -> f64 {
        let (re_w, _) = self.weights(spec, w);
        re_w.iter().zip(&self.traces).map(|(a, b)| a * b).sum()
    }

    /// The weights at ω of the real-part coefficients (1 for C(0), the exact
    /// ±1 for self-conjugate d, the computed Re e^{−iω·d} for d ∈ H) and of
    /// the imaginary-part ones (the computed Im e^{−iω·d}). The phases are
    /// [`phase_product`]s of table twiddles, the same numbers as
    /// [`BlockSpectrum::phase`].
    fn weights(&self, spec: &BlockSpectrum, w: (usize, usize)) -> (Vec<f64>, Vec<f64>) {
        match &self.basis {
            Basis::Fourier(f) => f.weights(spec, w),
            Basis::Samples(s) => s.weights(w),
        }
    }

    /// Writes G̃(ω) (lower triangles) and the radius into `out`.
    pub fn evaluate(&self, spec: &BlockSpectrum, w: (usize, usize), out: &mut HermitianWithError) {
        let n = self.n;
        self.prepare(out);
        let (re_w, im_w) = self.weights(spec, w);
        let size = n * (n + 1) / 2;
        for (coef, weights, dst) in [
            (&self.re_coef, &re_w, &mut out.re),
            (&self.im_coef, &im_w, &mut out.im),
        ] {
            if self.entry_major {
                let mut packed = vec![0.0; size];
                entry_dots(coef, weights, &mut packed);
                for j in 0..n {
                    let off = packed_offset(n, j);
                    column_mut(dst.col_mut(j))[j..].copy_from_slice(&packed[off..off + n - j]);
                }
            } else {
                weighted_sums(n, coef, weights, dst.as_mut());
            }
        }
        out.im.diagonal_mut().fill(0.0);
    }

    /// Sizes `out` for this Gram dimension and sets its radius.
    fn prepare(&self, out: &mut HermitianWithError) {
        out.re.resize_with(self.n, self.n, |_, _| 0.0);
        out.im.resize_with(self.n, self.n, |_, _| 0.0);
        out.radius = self.radius;
    }

    /// [`SymbolGram::evaluate`] at several frequencies (`outs[i]` for
    /// `w[i]`), up to eight per sweep over the coefficients (the evaluation is
    /// memory-bound for large blocks); the same operations in the same order
    /// as separate calls.
    pub fn evaluate_many(
        &self,
        spec: &BlockSpectrum,
        w: &[(usize, usize)],
        outs: &mut [HermitianWithError],
    ) {
        assert_eq!(w.len(), outs.len(), "one output per frequency");
        if self.entry_major {
            for (&w, out) in w.iter().zip(outs.iter_mut()) {
                self.evaluate(spec, w, out);
            }
            return;
        }
        let (mut w, mut outs) = (w, outs);
        while !w.is_empty() {
            let take = match w.len() {
                1 => 1,
                2 | 3 => 2,
                4..=7 => 4,
                _ => 8,
            };
            let (now, later) = outs.split_at_mut(take);
            match now {
                [a] => self.evaluate(spec, w[0], a),
                [a, b] => self.sweep(spec, [w[0], w[1]], [a, b], weighted_sums_2),
                [a, b, c, d] => self.sweep(
                    spec,
                    [w[0], w[1], w[2], w[3]],
                    [a, b, c, d],
                    weighted_sums_4,
                ),
                [a, b, c, d, e, f, g, h] => self.sweep(
                    spec,
                    std::array::from_fn(|i| w[i]),
                    [a, b, c, d, e, f, g, h],
                    weighted_sums_8,
                ),
                _ => unreachable!("chunks of 1, 2, 4 or 8"),
            }
            w = &w[take..];
            outs = later;
        }
    }

    /// One sweep over the coefficients for K frequencies, with the K-output
    /// instance `kernel` of [`weighted_sums_body`].
    fn sweep<const K: usize>(
        &self,
        spec: &BlockSpectrum,
        w: [(usize, usize); K],
        mut outs: [&mut HermitianWithError; K],
        kernel: SweepKernel<K>,
    ) {
        for out in outs.iter_mut() {
            self.prepare(out);
        }
        let weights = w.map(|w| self.weights(spec, w));
        kernel(
            self.n,
            &self.re_coef,
            std::array::from_fn(|i| weights[i].0.as_slice()),
            outs.each_mut().map(|o| o.re.as_mut()),
        );
        kernel(
            self.n,
            &self.im_coef,
            std::array::from_fn(|i| weights[i].1.as_slice()),
            outs.each_mut().map(|o| o.im.as_mut()),
        );
        for out in outs {
            out.im.diagonal_mut().fill(0.0);
        }
    }
}

impl FourierWeights {
    /// See [`SymbolGram::weights`].
    fn weights(&self, spec: &BlockSpectrum, w: (usize, usize)) -> (Vec<f64>, Vec<f64>) {
        let m = spec.moduli();
        let mut re_w = Vec::with_capacity(1 + self.selfs.len() + self.halves.len());
        re_w.push(1.0);
        re_w.extend(self.selfs.iter().map(|&d| self_sign(w, d, m)));
        let mut im_w = Vec::with_capacity(self.halves.len());
        let [(d1, t1), (d2, t2)] = &self.axis_tables;
        for &(i1, i2) in &self.halves {
            let (pr, pi) = phase_product(t1[w.0 * d1 + i1], t2[w.1 * d2 + i2]);
            re_w.push(pr);
            im_w.push(pi);
        }
        (re_w, im_w)
    }
}

/// Multiply-adds of the autocorrelation products of group `g` (a full
/// product per ordered tap pair kept, half of one for a tap with itself) and
/// the number of real-part terms.
fn autocorrelation_cost(spec: &BlockSpectrum, g: usize) -> (f64, usize) {
    let (taps, use_rows) = side_taps(spec, g);
    let (og, cg) = (spec.block_rows(), spec.group_in());
    let (rows, width) = if use_rows { (og, cg) } else { (cg, og) };
    let full = (rows * width * width) as f64;
    let mut classes = std::collections::HashSet::from([(0, 0)]);
    let mut cost = 0.0;
    for (i, j, d, _) in kept_pairs(&taps, spec.moduli()) {
        classes.insert(d);
        cost += if i == j { full / 2.0 } else { full };
    }
    (cost, classes.len())
}

/// The taps of group `g` seen from the Gram side (see [`SideTap`]): the
/// kernel slices as they are for G = BᴴB (when the block has no more columns
/// than rows; returned flag true), else transposed at the negated positions
/// for G = BBᴴ = (Bᴴ)ᴴBᴴ.
fn side_taps(spec: &BlockSpectrum, g: usize) -> (Vec<SideTap<'_>>, bool) {
    let (m1, m2) = spec.moduli();
    let (og, cg) = (spec.block_rows(), spec.group_in());
    let use_rows = spec.block_cols() <= og;
    let taps = spec
        .taps(g)
        .into_iter()
        .map(|t| {
            let k = MatRef::from_column_major_slice(t.data, og, cg);
            if use_rows {
                SideTap {
                    pos: t.pos,
                    row_block: 0,
                    col_block: t.block,
                    m: k,
                }
            } else {
                SideTap {
                    pos: ((m1 - t.pos.0) % m1, (m2 - t.pos.1) % m2),
                    row_block: t.block,
                    col_block: 0,
                    m: k.transpose(),
                }
            }
        })
        .collect();
    (taps, use_rows)
}

/// The ordered tap pairs (i, j) that contribute T_iᵀT_j to a kept
/// coefficient (same row block, offset d = p_j − p_i not a mirror), with d
/// and its class.
fn kept_pairs<'a>(
    taps: &'a [SideTap<'a>],
    m: (usize, usize),
) -> impl Iterator<Item = (usize, usize, (usize, usize), Class)> + 'a {
    (0..taps.len())
        .flat_map(move |i| (0..taps.len()).map(move |j| (i, j)))
        .filter(|&(i, j)| taps[i].row_block == taps[j].row_block)
        .filter_map(move |(i, j)| {
            let (p, p2) = (taps[i].pos, taps[j].pos);
            let d = ((p2.0 + m.0 - p.0) % m.0, (p2.1 + m.1 - p.1) % m.1);
            let class = classify(d, m);
            (class != Class::Mirror).then_some((i, j, d, class))
        })
}

/// A K-output instance of [`weighted_sums_body`] (n, coefficients, weights,
/// outputs).
type SweepKernel<const K: usize> = fn(usize, &[f64], [&[f64]; K], [MatMut<'_, f64>; K]);

/// Packed sizes below which coefficients are stored entry-major.
const ENTRY_MAJOR_BELOW: usize = 64;

/// Term-major (K blocks of `size`) to entry-major (`size` blocks of K).
fn transpose_terms(coef: &[f64], size: usize) -> Vec<f64> {
    let k = coef.len() / size.max(1);
    (0..size)
        .flat_map(|p| (0..k).map(move |t| coef[t * size + p]))
        .collect()
}

/// out[p] = Σ_k weights[k]·coef[p·K + k] (entry-major coefficients), in
/// four interleaved partial sums (any order is covered by the error bound).
fn entry_dots(coef: &[f64], weights: &[f64], out: &mut [f64]) {
    let k = weights.len();
    for (p, o) in out.iter_mut().enumerate() {
        let c = &coef[p * k..(p + 1) * k];
        let mut acc = [0.0f64; 4];
        let chunks = k / 4 * 4;
        for i in (0..chunks).step_by(4) {
            for l in 0..4 {
                acc[l] += c[i + l] * weights[i + l];
            }
        }
        let mut sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
        for i in chunks..k {
            sum += c[i] * weights[i];
        }
        *o = sum;
    }
}

multiversion! {
    /// out = Σ_k weights[k]·(k-th packed lower triangle in `coef`), column by
    /// column into the lower triangle of `out` (a column stays in cache while
    /// the terms stream by; zero when there are no terms).
    fn weighted_sums = weighted_sums_one(n: usize, coef: &[f64], weights: &[f64], out: MatMut<'_, f64>)
}

multiversion! {
    /// [`weighted_sums`] for two weight vectors in one sweep over `coef`
    /// (each output entry sees exactly the operations of the single version).
    fn weighted_sums_2 = [weighted_sums_body::<2>](n: usize, coef: &[f64], weights: [&[f64]; 2], outs: [MatMut<'_, f64>; 2])
}

multiversion! {
    /// [`weighted_sums`] for four weight vectors in one sweep over `coef`.
    fn weighted_sums_4 = [weighted_sums_body::<4>](n: usize, coef: &[f64], weights: [&[f64]; 4], outs: [MatMut<'_, f64>; 4])
}

multiversion! {
    /// [`weighted_sums`] for eight weight vectors in one sweep over `coef`.
    fn weighted_sums_8 = [weighted_sums_body::<8>](n: usize, coef: &[f64], weights: [&[f64]; 8], outs: [MatMut<'_, f64>; 8])
}

#[inline(always)]
fn weighted_sums_one(n: usize, coef: &[f64], weights: &[f64], out: MatMut<'_, f64>) {
    weighted_sums_body(n, coef, [weights], [out]);
}

/// Rows per register block of [`weighted_sums_body`].
const SWEEP_LANES: usize = 16;

/// The sweep behind [`weighted_sums`] for K outputs: per column j and block
/// of [`SWEEP_LANES`] rows, the K partial sums stay in registers while the
/// terms stream by, so each coefficient is read once per sweep and each
/// output written once (output r: fl(c·w_r[0]), then fl(· + c·w_r[k]) in
/// ascending k).
#[inline(always)]
fn weighted_sums_body<const K: usize>(
    n: usize,
    coef: &[f64],
    weights: [&[f64]; K],
    outs: [MatMut<'_, f64>; K],
) {
    let size = n * (n + 1) / 2;
    let terms = weights[0].len();
    let mut outs = outs;
    for j in 0..n {
        let (off, len) = (packed_offset(n, j), n - j);
        let mut cols = outs
            .each_mut()
            .map(|out| &mut column_mut(out.rb_mut().col_mut(j))[j..]);
        if terms == 0 {
            cols.iter_mut().for_each(|c| c.fill(0.0));
            continue;
        }
        // Register blocks of 16 rows, then of 4 (short columns of small
        // blocks), then single rows.
        let wide = len / SWEEP_LANES * SWEEP_LANES;
        let narrow = wide + (len - wide) / 4 * 4;
        for i in (0..wide).step_by(SWEEP_LANES) {
            sweep_rows::<K, SWEEP_LANES>(coef, size, off, i, &weights, &mut cols);
        }
        for i in (wide..narrow).step_by(4) {
            sweep_rows::<K, 4>(coef, size, off, i, &weights, &mut cols);
        }
        for i in narrow..len {
            sweep_rows::<K, 1>(coef, size, off, i, &weights, &mut cols);
        }
    }
}

/// Rows i..i + L of column j (packed offset `off`) of every output: the K
/// partial sums of the L rows stay in registers while the terms stream by.
#[inline(always)]
fn sweep_rows<const K: usize, const L: usize>(
    coef: &[f64],
    size: usize,
    off: usize,
    i: usize,
    weights: &[&[f64]; K],
    cols: &mut [&mut [f64]; K],
) {
    let terms = weights[0].len();
    let at = |k: usize| -> &[f64; L] {
        let s = k * size + off + i;
        coef[s..s + L].try_into().unwrap()
    };
    let mut acc = [[0.0f64; L]; K];
    let c0 = at(0);
    for (a, w) in acc.iter_mut().zip(weights) {
        for (x, &c) in a.iter_mut().zip(c0) {
            *x = c * w[0];
        }
    }
    for k in 1..terms {
        let ck = at(k);
        for (a, w) in acc.iter_mut().zip(weights) {
            let wk = w[k];
            for (x, &c) in a.iter_mut().zip(ck) {
                *x += c * wk;
            }
        }
    }
    for (col, a) in cols.iter_mut().zip(&acc) {
        col[i..i + L].copy_from_slice(a);
    }
}

/// e^{−iω·d} = ±1 exactly for 2d ≡ 0: each axis with d_k = M_k/2 contributes
/// e^{−iπω_k} = (−1)^{ω_k}.
fn self_sign(w: (usize, usize), d: (usize, usize), m: (usize, usize)) -> f64 {
    let mut odd = 0;
    if d.0 != 0 && m.0 > 1 {
        odd += w.0;
    }
    if d.1 != 0 && m.1 > 1 {
        odd += w.1;
    }
    if odd % 2 == 0 {
        1.0
    } else {
        -1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv::block_gram::block_gram;
    use crate::conv::{Conv2dGeometry, EmbeddingPlan, Kernel, PaddingMode};

    fn kernel(c_out: usize, c_in: usize, kh: usize, kw: usize, seed: u64) -> Kernel {
        let mut rng = crate::random::Rng::new(seed);
        let vals: Vec<f64> = (0..c_out * c_in * kh * kw)
            .map(|_| rng.uniform() * 2.0 - 1.0)
            .collect();
        Kernel::from_f64(c_out, c_in, kh, kw, vals).unwrap()
    }

    /// Sweeps over several frequencies give exactly the single evaluations,
    /// for both routes and every chunking (1, 2, 2 + 1, 4, 4 + 1, …, 8 + 1).
    #[test]
    fn evaluate_many_equals_single_evaluations_bit_for_bit() {
        let mut geo = Conv2dGeometry::new(14, 12, 3, 3, 6, 7);
        geo.mode = PaddingMode::Circular;
        geo.padding = (1, 1, 1, 1);
        let k = kernel(14, 12, 3, 3, 11);
        let plan = EmbeddingPlan::new(&geo);
        let spec = BlockSpectrum::new(&k, 1, &plan);
        let freqs = [
            (0, 0),
            (1, 2),
            (3, 1),
            (5, 6),
            (2, 3),
            (4, 4),
            (1, 5),
            (5, 0),
            (2, 6),
        ];
        for route in [SymbolRoute::Autocorrelation, SymbolRoute::Samples] {
            let sym = SymbolGram::with_route(&spec, 0, route, 1);
            assert!(!sym.entry_major, "the test needs the swept layout");
            let mut single = HermitianWithError::zeros(0);
            for count in 1..=freqs.len() {
                let mut outs = vec![HermitianWithError::zeros(0); count];
                sym.evaluate_many(&spec, &freqs[..count], &mut outs);
                for (&w, x) in freqs.iter().zip(&outs) {
                    sym.evaluate(&spec, w, &mut single);
                    assert_eq!(x.radius, single.radius);
                    for j in 0..sym.dim() {
                        for i in j..sym.dim() {
                            assert_eq!(x.re[(i, j)].to_bits(), single.re[(i, j)].to_bits());
                            assert_eq!(x.im[(i, j)].to_bits(), single.im[(i, j)].to_bits());
                        }
                    }
                }
            }
        }
    }

    /// G̃(ω) from the autocorrelation agrees with the Gram matrix of the
    /// filled block, within the two error radii, for every frequency of a
    /// few geometries (stride, aliasing kernels larger than the grid, both
    /// sides).
    #[test]
    fn symbol_gram_matches_the_gram_of_the_filled_block() {
        let cases = [
            (3, 2, 3, 3, 6, 5, 1, PaddingMode::Circular),
            (2, 5, 3, 2, 7, 4, 2, PaddingMode::Zeros),
            (4, 3, 5, 5, 3, 4, 1, PaddingMode::Circular),
            (2, 2, 4, 4, 8, 8, 3, PaddingMode::Zeros),
            (5, 1, 2, 3, 4, 6, 1, PaddingMode::Circular),
            // n ≥ 11: term-major coefficients (the others are entry-major).
            (12, 13, 3, 3, 5, 5, 1, PaddingMode::Circular),
            (14, 6, 3, 3, 6, 6, 2, PaddingMode::Zeros),
        ];
        for (ci, &(c_out, c_in, kh, kw, h, wd, stride, mode)) in cases.iter().enumerate() {
            let mut geo = Conv2dGeometry::new(c_out, c_in, kh, kw, h, wd);
            geo.mode = mode;
            geo.stride = (stride, stride);
            geo.padding = (kh / 2, kw / 2, (kh - 1) / 2, (kw - 1) / 2);
            let k = kernel(c_out, c_in, kh, kw, ci as u64 + 1);
            let plan = EmbeddingPlan::new(&geo);
            let spec = BlockSpectrum::new(&k, 1, &plan);
            for route in [SymbolRoute::Autocorrelation, SymbolRoute::Samples] {
                let sym = SymbolGram::with_route(&spec, 0, route, 1);
                let (m1, m2) = spec.moduli();
                let mut z = Mat::<f64>::zeros(0, 0);
                let mut got = HermitianWithError::zeros(0);
                for w1 in 0..m1 {
                    for w2 in 0..m2 {
                        spec.fill(0, (w1, w2), &mut z);
                        let direct = block_gram(z.as_ref());
                        let (re, im, radius) = (&direct.re, &direct.im, direct.radius);
                        sym.evaluate(&spec, (w1, w2), &mut got);
                        assert_eq!(re.nrows(), sym.dim(), "case {ci} {route:?}");
                        let tol = sym.radius() + radius;
                        for j in 0..sym.dim() {
                            for i in j..sym.dim() {
                                let dr = (got.re[(i, j)] - re[(i, j)]).abs();
                                let di = if i > j {
                                    (got.im[(i, j)] - im[(i, j)]).abs()
                                } else {
                                    0.0
                                };
                                assert!(dr <= tol && di <= tol, "case {ci} {route:?} ω = ({w1}, {w2}) entry ({i}, {j}): {dr:e} {di:e} > {tol:e}");
                            }
                        }
                        let tr = sym.trace_estimate(&spec, (w1, w2));
                        assert!((tr - got.trace()).abs() <= 1e-9 * (1.0 + tr.abs()));
                    }
                }
            }
        }
    }
}
