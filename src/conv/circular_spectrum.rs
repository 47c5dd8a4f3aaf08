//! Per-frequency blocks of a (polyphase) circular convolution: the exact
//! spectrum of circular convolutions (Sedghi, Gupta & Long, "The singular
//! values of convolutional layers", ICLR 2019), with a rigorous bound on the
//! error of the computed blocks.
//!
//! With the taps of an [`EmbeddingPlan`] at positions q_a·s₁ + r_a (rows) and
//! q_b·s₂ + r_b (columns), the circular convolution is unitarily equivalent
//! (2-D DFT on ℤ_{M₁} × ℤ_{M₂} of every polyphase component) to the block
//! diagonal matrix with, for every frequency ω = (ω₁, ω₂) and group g, the
//! complex block
//!
//! B_g(ω)[o, (r₁, r₂, c)] = Σ_{a: r_a = r₁} Σ_{b: r_b = r₂} K[o, c, a, b]·e^{−2πi(ω₁q_a/M₁ + ω₂q_b/M₂)}
//!
//! of size (C_out/groups) × (C_in/groups · #residues): the singular values of
//! the convolution are the union over ω and g of those of B_g(ω). For stride 1
//! and offset = padding this is exactly K̂(ω) of Sedghi et al.; groups make
//! the operator block diagonal, so σ = max over groups (Conv.v
//! `grouped_norm_max`). Since K is real, B(−ω) = conj(B(ω)) has the same
//! singular values, so only half of the frequencies are formed.
//!
//! Proof: proofs/theories/Conv.v, `grouped_norm_max`

use super::embedding::EmbeddingPlan;
use super::kernel::Kernel;
use crate::columns::column_mut;
use crate::rounding;
use crate::simd::multiversion;
use faer::Mat;

/// The blocks B_g(ω) of a kernel under an embedding plan.
#[derive(Debug, Clone)]
pub struct BlockSpectrum {
    og: usize,
    cg: usize,
    kh: usize,
    kw: usize,
    groups: usize,
    m1: usize,
    m2: usize,
    taps_h: Vec<(usize, usize)>,
    taps_w: Vec<(usize, usize)>,
    unwrapped: [Vec<usize>; 2],
    residues_h: Vec<Option<usize>>,
    residues_w: Vec<Option<usize>>,
    n_res_h: usize,
    n_res_w: usize,
    tw_h: Vec<(f64, f64)>,
    tw_w: Vec<(f64, f64)>,
    constant: bool,
    by_tap: Vec<f64>,
    max_taps: usize,
    kernel_frobenius_up: f64,
}

/// A tap of a [`BlockSpectrum`] group (see [`BlockSpectrum::taps`]).
#[derive(Debug, Clone, Copy)]
pub struct Tap<'a> {
    /// Position (q₁, q₂) in ℤ_{M₁} × ℤ_{M₂}.
    pub pos: (usize, usize),
    /// Column block (residue pair index).
    pub block: usize,
    /// The og × cg kernel slice, column-major.
    pub data: &'a [f64],
}

/// δ with |p̃ − e^{−iθ}| ≤ δ for every phase p̃ of [`BlockSpectrum::phase`]
/// (so each of its real and imaginary parts is within δ too).
///
/// # Theorem and assumptions
/// Assumption (not guaranteed by IEEE 754, stated and widened): Rust's
/// `f64::cos`/`f64::sin` (the platform libm) return cos t, sin t within
/// 4 ulp, i.e. absolute error ≤ 4·2⁻⁵² on [−1, 1] (glibc documents ≤ 1 ulp
/// for these on x86-64). The argument t = fl(fl(TAU·j)/M) differs from
/// θ = 2πj/M by ≤ θ·γ₃ < 7γ₃ (TAU = fl(2π) has relative error ≤ u), and
/// cos, sin are 1-Lipschitz, so each twiddle component is within
/// δ₁ = 4·2⁻⁵² + 7γ₃ and the complex twiddle within δ_t = √2·δ₁. The
/// product of two twiddles, each component a 2-term dot product (Higham
/// Lemma 3.1), is within δ = δ_t(2 + δ_t) + √2·γ₂(1 + δ_t)² of the exact
/// unimodular phase.
///
/// Proof: proofs/theories/FloatDot.v, `dot_error_bound`
pub fn twiddle_product_error() -> f64 {
    let d1 = twiddle_error();
    let sqrt2 = rounding::sqrt_up(2.0);
    let dt = rounding::mul_up(sqrt2, d1);
    let one_dt = rounding::add_up(1.0, dt);
    rounding::add_up(
        rounding::mul_up(dt, rounding::add_up(2.0, dt)),
        rounding::mul_up(
            rounding::mul_up(sqrt2, rounding::gamma(2)),
            rounding::mul_up(one_dt, one_dt),
        ),
    )
}

/// δ₁ ≥ |c̃ − cos θ| and |s̃ − sin θ| for the components of every table
/// twiddle of [`twiddles`] (θ = 2πj/M, j < M): 4·2⁻⁵² + 7γ₃ under the libm
/// assumption of [`twiddle_product_error`].
pub(super) fn twiddle_error() -> f64 {
    let u = rounding::mul_up(4.0, f64::EPSILON); // 4·2⁻⁵²
    rounding::add_up(u, rounding::mul_up(7.0, rounding::gamma(3)))
}

/// The product of two axis twiddles as [`BlockSpectrum::phase`] forms it
/// (each component a 2-term dot product; see [`twiddle_product_error`]).
#[inline]
pub fn phase_product(t1: (f64, f64), t2: (f64, f64)) -> (f64, f64) {
    (t1.0 * t2.0 - t1.1 * t2.1, t1.0 * t2.1 + t1.1 * t2.0)
}

multiversion! {
    /// re = Σ_t k_t·p_t.0 and im = Σ_t k_t·p_t.1 elementwise over the taps
    /// `starts` (slice start in `by_tap`, phase), summed in the given order
    /// (one product per term, one addition per term after the first).
    fn fill_column = fill_column_body(re: &mut [f64], im: &mut [f64], by_tap: &[f64], starts: &[(usize, (f64, f64))])
}

/// A tap's slice start in `by_tap` and its phase for each block being filled.
type TapPhases = (usize, Vec<(f64, f64)>);

/// Rows per register block of [`fill_column_body`].
const FILL_LANES: usize = 16;

#[inline(always)]
fn fill_column_body(
    re: &mut [f64],
    im: &mut [f64],
    by_tap: &[f64],
    starts: &[(usize, (f64, f64))],
) {
    let og = re.len();
    let Some((&(s0, p0), rest)) = starts.split_first() else {
        re.fill(0.0);
        im.fill(0.0);
        return;
    };
    // Blocks of rows with both partial sums in registers over all taps.
    let blocks = og / FILL_LANES * FILL_LANES;
    for i in (0..blocks).step_by(FILL_LANES) {
        let at = |s: usize| -> &[f64; FILL_LANES] {
            by_tap[s + i..s + i + FILL_LANES].try_into().unwrap()
        };
        let (mut r, mut m) = ([0.0f64; FILL_LANES], [0.0f64; FILL_LANES]);
        for ((r, m), &k) in r.iter_mut().zip(m.iter_mut()).zip(at(s0)) {
            *r = k * p0.0;
            *m = k * p0.1;
        }
        for &(s, p) in rest {
            for ((r, m), &k) in r.iter_mut().zip(m.iter_mut()).zip(at(s)) {
                *r += k * p.0;
                *m += k * p.1;
            }
        }
        re[i..i + FILL_LANES].copy_from_slice(&r);
        im[i..i + FILL_LANES].copy_from_slice(&m);
    }
    for i in blocks..og {
        let (mut r, mut m) = (by_tap[s0 + i] * p0.0, by_tap[s0 + i] * p0.1);
        for &(s, p) in rest {
            r += by_tap[s + i] * p.0;
            m += by_tap[s + i] * p.1;
        }
        re[i] = r;
        im[i] = m;
    }
}

/// a·b mod m without overflow (u64 when the product fits, else u128).
#[inline]
fn mul_mod(a: usize, b: usize, m: usize) -> usize {
    match (a as u64).checked_mul(b as u64) {
        Some(p) => (p % m as u64) as usize,
        None => ((a as u128 * b as u128) % m as u128) as usize,
    }
}

/// e^{−2πij/M} for j = 0..M, computed as (cos t, −sin t) with t = fl(fl(2π·j)/M)
/// (each component within δ₁ of [`twiddle_product_error`]).
pub(super) fn twiddles(m: usize) -> Vec<(f64, f64)> {
    (0..m)
        .map(|j| {
            let t = std::f64::consts::TAU * j as f64 / m as f64;
            (t.cos(), -t.sin())
        })
        .collect()
}

/// The taps of one axis as (q mod M, residue index), the residue indices of
/// the residues, their count, and the unwrapped quotients shifted to start
/// at 0 (q − min q).
type AxisTaps = (Vec<(usize, usize)>, Vec<Option<usize>>, usize, Vec<usize>);

fn axis_taps(plan: &super::embedding::AxisPlan) -> AxisTaps {
    let m = plan.modulus as i128;
    let quotients: Vec<isize> = (0..plan.kernel).map(|a| plan.tap(a).0).collect();
    let q_min = quotients.iter().copied().min().unwrap_or(0);
    let unwrapped = quotients.iter().map(|&q| (q - q_min) as usize).collect();
    let raw: Vec<(usize, usize)> = (0..plan.kernel)
        .map(|a| {
            let (q, r) = plan.tap(a);
            ((q as i128).rem_euclid(m) as usize, r)
        })
        .collect();
    let mut residues = vec![None; plan.stride];
    let mut n = 0;
    for &(_, r) in &raw {
        if residues[r].is_none() {
            residues[r] = Some(n);
            n += 1;
        }
    }
    let taps = raw
        .into_iter()
        .map(|(q, r)| (q, residues[r].unwrap()))
        .collect();
    (taps, residues, n, unwrapped)
}

impl BlockSpectrum {
    /// Prepares the blocks of `kernel` (shape-checked by the caller) for
    /// `groups` groups under `plan`.
    pub fn new(kernel: &Kernel, groups: usize, plan: &EmbeddingPlan) -> Self {
        Self::new_scaled(kernel, groups, plan, 0).expect("scaling by 2⁰ is exact")
    }

    /// [`BlockSpectrum::new`] for the kernel times 2^k, or `None` when that
    /// scaling is not exact for every entry (overflow, or bits lost to
    /// underflow; proof: proofs/theories/FloatRounding.v, `scale_pow2_exact`).
    /// The scaling is done while the kernel is regrouped (one pass over it).
    pub fn new_scaled(
        kernel: &Kernel,
        groups: usize,
        plan: &EmbeddingPlan,
        k: i32,
    ) -> Option<Self> {
        let Some(pair) = rounding::pow2_pair(k) else {
            // Rare extreme ranges: scale entry by entry first.
            return Self::new_scaled(&kernel.scaled_pow2_exact(k)?, groups, plan, 0);
        };
        let (c_out, cg, kh, kw) = kernel.shape();
        let og = c_out / groups;
        let (taps_h, residues_h, n_res_h, unwrapped_h) = axis_taps(&plan.rows);
        let (taps_w, residues_w, n_res_w, unwrapped_w) = axis_taps(&plan.cols);
        let constant =
            taps_h.iter().all(|t| t.0 == taps_h[0].0) && taps_w.iter().all(|t| t.0 == taps_w[0].0);
        // by_tap[g][a][b][c][o] from the kernel's row-major [o][c][a][b], in
        // tiles of 16 outputs so both the reads (16 kernel rows) and the
        // writes (16 consecutive o) stay in cache.
        let mut by_tap = vec![0.0; c_out * cg * kh * kw];
        let mut exact = true;
        let values = kernel.values();
        let taps = kh * kw;
        let per_out = cg * taps;
        const TILE: usize = 16;
        for g in 0..groups {
            for o0 in (0..og).step_by(TILE) {
                let o1 = (o0 + TILE).min(og);
                let src = &values[(g * og + o0) * per_out..(g * og + o1) * per_out];
                for c in 0..cg {
                    for ab in 0..taps {
                        // ((g·kh + a)·kw + b) = g·kh·kw + ab.
                        let dst = (((g * taps + ab) * cg + c) * og) + o0;
                        let from = c * taps + ab;
                        for (o, d) in by_tap[dst..dst + (o1 - o0)].iter_mut().enumerate() {
                            let (scaled, ok) =
                                rounding::scaled_exactly(src[o * per_out + from], pair);
                            exact &= ok;
                            *d = scaled;
                        }
                    }
                }
            }
        }
        if !exact {
            return None;
        }
        let frobenius = rounding::sqrt_up(rounding::sum_of_squares_up(
            rounding::sum_of_squares(&by_tap),
            by_tap.len(),
        ));
        let count = |taps: &[(usize, usize)], n: usize| {
            (0..n)
                .map(|r| taps.iter().filter(|t| t.1 == r).count())
                .max()
                .unwrap_or(1)
        };
        let max_taps = count(&taps_h, n_res_h) * count(&taps_w, n_res_w);
        Some(Self {
            og,
            cg,
            kh,
            kw,
            groups,
            m1: plan.rows.modulus,
            m2: plan.cols.modulus,
            tw_h: twiddles(plan.rows.modulus),
            tw_w: twiddles(plan.cols.modulus),
            taps_h,
            taps_w,
            unwrapped: [unwrapped_h, unwrapped_w],
            residues_h,
            residues_w,
            n_res_h,
            n_res_w,
            constant,
            by_tap,
            max_taps,
            kernel_frobenius_up: frobenius,
        })
    }

    /// Rows of every block (C_out/groups).
    pub fn block_rows(&self) -> usize {
        self.og
    }

    /// Columns of every block (C_in/groups · number of residue pairs hit by a tap).
    pub fn block_cols(&self) -> usize {
        self.cg * self.n_res_h * self.n_res_w
    }

    /// Periods (M₁, M₂) of the frequency grid.
    pub fn moduli(&self) -> (usize, usize) {
        (self.m1, self.m2)
    }

    /// Number of groups.
    pub fn groups(&self) -> usize {
        self.groups
    }

    /// The frequencies whose blocks cover every singular value: one of each
    /// conjugate pair {ω, −ω}; only (0, 0) when all taps share one polyphase
    /// position per axis (then every block equals B(0) times a unimodular
    /// scalar, e.g. 1×1 kernels).
    pub fn frequencies(&self) -> Vec<(usize, usize)> {
        if self.constant {
            return vec![(0, 0)];
        }
        let mut out = Vec::new();
        for w1 in 0..self.m1 {
            for w2 in 0..=self.m2 / 2 {
                let self_conj_col = w2 == 0 || 2 * w2 == self.m2;
                if !self_conj_col || w1 <= (self.m1 - w1) % self.m1 {
                    out.push((w1, w2));
                }
            }
        }
        out
    }

    /// Writes the computed block B̃_g(ω) as the stacked real matrix
    /// [Re B̃; Im B̃] (2·rows × cols) into `z` (resized as needed).
    pub fn fill(&self, g: usize, w: (usize, usize), z: &mut Mat<f64>) {
        self.fill_with(
            g,
            |a, b| self.phase(w, (self.taps_h[a].0, self.taps_w[b].0)),
            z,
        );
    }

    /// Writes Σ_t K_t·phase(a_t, b_t) (each tap's slice placed in its column
    /// block, times the phase of its kernel position (a, b)) as the stacked
    /// real matrix [Re; Im] into `z`: per entry, the products summed in tap
    /// order (a sum of at most [`BlockSpectrum::max_taps_per_block`] terms). [`BlockSpectrum::fill`] is the phase e^{−2πi(ω₁q₁/M₁ + ω₂q₂/M₂)}.
    pub fn fill_with(
        &self,
        g: usize,
        phase: impl Fn(usize, usize) -> (f64, f64),
        z: &mut Mat<f64>,
    ) {
        self.fill_many(g, |_, a, b| phase(a, b), std::slice::from_mut(z));
    }

    /// [`BlockSpectrum::fill_with`] for several blocks in one pass over the
    /// kernel: `zs[r]` gets the phases `phase(r, a, b)` (each block computed
    /// exactly as by its own call).
    pub fn fill_many(
        &self,
        g: usize,
        phase: impl Fn(usize, usize, usize) -> (f64, f64),
        zs: &mut [Mat<f64>],
    ) {
        let (og, cg) = (self.og, self.cg);
        for z in zs.iter_mut() {
            z.resize_with(2 * og, self.block_cols(), |_, _| 0.0);
        }
        // Per column block, its taps in (a, b) order: the start of the tap's
        // slice in `by_tap` (column c adds c·og) and its phase per block.
        let mut per_block: Vec<Vec<TapPhases>> = vec![Vec::new(); self.column_blocks()];
        for a in 0..self.kh {
            let ra = self.taps_h[a].1;
            for b in 0..self.kw {
                let rb = self.taps_w[b].1;
                let start = ((g * self.kh + a) * self.kw + b) * cg * og;
                let phases = (0..zs.len()).map(|r| phase(r, a, b)).collect();
                per_block[ra * self.n_res_w + rb].push((start, phases));
            }
        }
        // Column by column, so each column of z stays in cache while its taps
        // stream by, and each kernel column is read once for all blocks.
        let mut starts = Vec::new();
        for (block, taps) in per_block.iter().enumerate() {
            for c in 0..cg {
                for (r, z) in zs.iter_mut().enumerate() {
                    starts.clear();
                    starts.extend(taps.iter().map(|(s, p)| (s + c * og, p[r])));
                    let (re, im) = column_mut(z.col_mut(block * cg + c)).split_at_mut(og);
                    fill_column(re, im, &self.by_tap, &starts);
                }
            }
        }
    }

    /// The unwrapped polyphase quotient of every kernel index along `axis`
    /// (0: rows, 1: columns), shifted so the smallest is 0: B(ω) is the
    /// trigonometric polynomial Σ_t K_t·e^{−i(θ₁q₁ + θ₂q₂)} at θ = 2πω/M (up
    /// to a unimodular factor), of degree max q along each axis.
    pub fn unwrapped_positions(&self, axis: usize) -> &[usize] {
        &self.unwrapped[axis]
    }

    /// The taps of group g: position (q_a, q_b) in ℤ_{M₁} × ℤ_{M₂}, column
    /// block (residue pair) and the og × cg matrix K[g·og.., .., a, b]
    /// (column-major), so that B_g(ω) = Σ_t K_t·e^{−2πi(ω₁q₁/M₁ + ω₂q₂/M₂)}
    /// placed in column block t.block.
    pub fn taps(&self, g: usize) -> Vec<Tap<'_>> {
        let (og, cg) = (self.og, self.cg);
        let mut out = Vec::with_capacity(self.kh * self.kw);
        for a in 0..self.kh {
            let (qa, ra) = self.taps_h[a];
            for b in 0..self.kw {
                let (qb, rb) = self.taps_w[b];
                let start = ((g * self.kh + a) * self.kw + b) * cg * og;
                out.push(Tap {
                    pos: (qa, qb),
                    block: ra * self.n_res_w + rb,
                    data: &self.by_tap[start..start + cg * og],
                });
            }
        }
        out
    }

    /// Number of column blocks (residue pairs hit by a tap).
    pub fn column_blocks(&self) -> usize {
        self.n_res_h * self.n_res_w
    }

    /// Input channels per group.
    pub fn group_in(&self) -> usize {
        self.cg
    }

    /// Largest number of taps sharing one column block.
    pub fn max_taps_per_block(&self) -> usize {
        self.max_taps
    }

    /// Upper bound on the Frobenius norm of the (scaled) kernel.
    pub fn kernel_frobenius_up(&self) -> f64 {
        self.kernel_frobenius_up
    }

    /// The computed phase e^{−2πi(ω₁q₁/M₁ + ω₂q₂/M₂)} as (re, im): the product
    /// of the two axis twiddles, as [`BlockSpectrum::fill`] forms it; within
    /// [`twiddle_product_error`] of the exact phase.
    #[inline]
    pub fn phase(&self, w: (usize, usize), q: (usize, usize)) -> (f64, f64) {
        phase_product(
            self.axis_twiddle(0, w.0, q.0),
            self.axis_twiddle(1, w.1, q.1),
        )
    }

    /// The computed twiddle e^{−2πi·ωq/M} of axis 0 (rows) or 1 (columns).
    #[inline]
    pub fn axis_twiddle(&self, axis: usize, w: usize, q: usize) -> (f64, f64) {
        if axis == 0 {
            self.tw_h[mul_mod(w, q, self.m1)]
        } else {
            self.tw_w[mul_mod(w, q, self.m2)]
        }
    }

    /// A real input tensor (C_in × H × W, row-major) that the convolution maps
    /// with gain ≈ σ(B_g(ω)): the real part of the plane wave
    /// u·e^{−i(θ₁q₁ + θ₂q₂)} on the polyphase positions of group g, times a
    /// sine window per axis when `window` (to make it vanish at the borders of
    /// a non-periodic input). `u` is [Re u; Im u] (length 2·cols), a right
    /// singular vector estimate of B_g(ω). An estimate only: its gain is
    /// certified afterwards by the vector lower bound.
    #[allow(clippy::too_many_arguments)]
    pub fn spatial_vector(
        &self,
        plan: &EmbeddingPlan,
        geometry: &super::geometry::Conv2dGeometry,
        g: usize,
        w: (usize, usize),
        u: &[f64],
        phase: f64,
        window: bool,
    ) -> Vec<f64> {
        let (h, wd) = (geometry.h, geometry.w);
        let cols = self.block_cols();
        let mut v = vec![0.0; geometry.input_len()];
        let th1 = std::f64::consts::TAU * w.0 as f64 / self.m1 as f64;
        let th2 = std::f64::consts::TAU * w.1 as f64 / self.m2 as f64;
        let win = |i: usize, n: usize| {
            if window {
                (std::f64::consts::PI * (i + 1) as f64 / (n + 1) as f64).sin()
            } else {
                1.0
            }
        };
        for i in 0..h {
            let (q1, r1) = plan.rows.input_position(i);
            let Some(ri) = self.residues_h.get(r1).copied().flatten() else {
                continue;
            };
            for j in 0..wd {
                let (q2, r2) = plan.cols.input_position(j);
                let Some(rj) = self.residues_w.get(r2).copied().flatten() else {
                    continue;
                };
                let ang = -(th1 * q1 as f64 + th2 * q2 as f64) + phase;
                let (s, c) = ang.sin_cos();
                let amp = win(i, h) * win(j, wd);
                for ch in 0..self.cg {
                    let col = (ri * self.n_res_w + rj) * self.cg + ch;
                    let val = u[col] * c - u[cols + col] * s;
                    v[((g * self.cg + ch) * h + i) * wd + j] = amp * val;
                }
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv::{Conv2dGeometry, PaddingMode};

    fn spectrum_parts(s: &BlockSpectrum) -> (Vec<u64>, u64) {
        (
            s.by_tap.iter().map(|v| v.to_bits()).collect(),
            s.kernel_frobenius_up.to_bits(),
        )
    }

    /// Scaling while regrouping gives bit for bit the spectrum of the
    /// separately scaled kernel, and refuses exactly when that scaling is
    /// not exact.
    #[test]
    fn scaled_regroup_equals_the_spectrum_of_the_scaled_kernel() {
        let mut geo = Conv2dGeometry::new(6, 4, 3, 2, 5, 7);
        geo.groups = 2;
        geo.mode = PaddingMode::Circular;
        let plan = EmbeddingPlan::new(&geo);
        let vals: Vec<f64> = (0..6 * 2 * 3 * 2)
            .map(|i| ((i * 37 % 23) as f64 - 11.0) / 7.0)
            .collect();
        let k = Kernel::from_f64(6, 2, 3, 2, vals.clone()).unwrap();
        for shift in [-3, 0, 5, 900] {
            let direct = BlockSpectrum::new(&k.scaled_pow2_exact(shift).unwrap(), 2, &plan);
            let fused = BlockSpectrum::new_scaled(&k, 2, &plan, shift).unwrap();
            assert_eq!(
                spectrum_parts(&direct),
                spectrum_parts(&fused),
                "shift {shift}"
            );
        }
        // Bits lost to underflow on the way down, overflow on the way up.
        let mut tiny = vals.clone();
        tiny[5] = 5e-324;
        let kt = Kernel::from_f64(6, 2, 3, 2, tiny).unwrap();
        assert!(kt.scaled_pow2_exact(-1).is_none());
        assert!(BlockSpectrum::new_scaled(&kt, 2, &plan, -1).is_none());
        assert!(BlockSpectrum::new_scaled(&kt, 2, &plan, 3).is_some());
        assert!(BlockSpectrum::new_scaled(&k, 2, &plan, 1024).is_none());
        assert!(BlockSpectrum::new_scaled(&k, 2, &plan, 1022).is_some());
    }
}
