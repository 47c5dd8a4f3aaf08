//! The Gram matrices G_g(ω) = B_g(ω)ᴴB_g(ω) of all frequency blocks of a
//! [`BlockSpectrum`] at once, from the kernel's autocorrelation, with one
//! rigorous error radius.
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

use super::circular_spectrum::{twiddle_product_error, BlockSpectrum};
use crate::certify::hermitian_upper::HermitianWithError;
use crate::rounding::{self, ETA};
use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, Mat, MatRef, Par};

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

/// A coefficient pair S(d) = C + Cᵀ (lower triangle), A(d) = C − Cᵀ
/// (strict lower triangle) for d ∈ H.
struct HalfTerm {
    d: (usize, usize),
    sym: Mat<f64>,
    anti: Mat<f64>,
    trace: f64,
}

/// A real symmetric coefficient C(d) for 2d ≡ 0 (lower triangle).
struct SelfTerm {
    d: (usize, usize),
    c: Mat<f64>,
    trace: f64,
}

/// The autocorrelation coefficients of one group and the error radius of
/// every G̃(ω) evaluated from them.
pub struct SymbolGram {
    n: usize,
    zero: Mat<f64>,
    zero_trace: f64,
    selfs: Vec<SelfTerm>,
    halves: Vec<HalfTerm>,
    radius: f64,
}

impl SymbolGram {
    /// The coefficients for group `g` of `spec` (see the module doc).
    pub fn new(spec: &BlockSpectrum, g: usize) -> Self {
        let (m1, m2) = spec.moduli();
        let (og, cg, blocks) = (spec.block_rows(), spec.group_in(), spec.column_blocks());
        let use_rows = cg * blocks <= og;
        let taps: Vec<SideTap<'_>> = spec
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
        let width = if use_rows { cg } else { og };
        let n = if use_rows { cg * blocks } else { og };
        let rows = if use_rows { og } else { cg };
        // Coefficients C(d), indexed by the class index of d.
        let mut index = vec![usize::MAX; m1 * m2];
        let mut coeffs: Vec<((usize, usize), Class, Mat<f64>)> = Vec::new();
        let mut counts: std::collections::HashMap<(usize, usize, usize), usize> =
            std::collections::HashMap::new();
        for (i, t) in taps.iter().enumerate() {
            for (j, t2) in taps.iter().enumerate() {
                if t.row_block != t2.row_block {
                    continue;
                }
                let d = (
                    (t2.pos.0 + m1 - t.pos.0) % m1,
                    (t2.pos.1 + m2 - t.pos.1) % m2,
                );
                let class = classify(d, (m1, m2));
                if class == Class::Mirror {
                    continue;
                }
                let slot = d.0 * m2 + d.1;
                if index[slot] == usize::MAX {
                    index[slot] = coeffs.len();
                    coeffs.push((d, class, Mat::zeros(n, n)));
                }
                let c = &mut coeffs[index[slot]].2;
                let dst = c.as_mut().submatrix_mut(
                    t.col_block * width,
                    t2.col_block * width,
                    width,
                    width,
                );
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
        }
        let max_pairs = counts.values().copied().max().unwrap_or(1).max(1);
        let lower_trace = |c: &Mat<f64>| (0..n).map(|i| c[(i, i)]).sum::<f64>();
        let mut zero = Mat::zeros(n, n);
        let mut selfs = Vec::new();
        let mut halves = Vec::new();
        for (d, class, c) in coeffs {
            match class {
                Class::Zero => zero = c,
                Class::SelfConjugate => selfs.push(SelfTerm {
                    d,
                    trace: lower_trace(&c),
                    c,
                }),
                Class::Half => {
                    let sym = Mat::from_fn(
                        n,
                        n,
                        |i, j| if i >= j { c[(i, j)] + c[(j, i)] } else { 0.0 },
                    );
                    let anti =
                        Mat::from_fn(n, n, |i, j| if i > j { c[(i, j)] - c[(j, i)] } else { 0.0 });
                    halves.push(HalfTerm {
                        d,
                        trace: lower_trace(&sym),
                        sym,
                        anti,
                    });
                }
                Class::Mirror => unreachable!("mirror offsets are skipped"),
            }
        }
        let zero_trace = lower_trace(&zero);
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
        Self {
            n,
            zero,
            zero_trace,
            selfs,
            halves,
            radius,
        }
    }

    /// Dimension n of every G(ω).
    pub fn dim(&self) -> usize {
        self.n
    }

    /// ρ ≥ ‖G̃(ω) − G(ω)‖₂ for every frequency.
    pub fn radius(&self) -> f64 {
        self.radius
    }

    /// tr G̃(ω) = ‖B(ω)‖_F² (approximately; a ranking key, no guarantee).
    pub fn trace_estimate(&self, spec: &BlockSpectrum, w: (usize, usize)) -> f64 {
        let m = spec.moduli();
        let mut t = self.zero_trace;
        for s in &self.selfs {
            t += self_sign(w, s.d, m) * s.trace;
        }
        for h in &self.halves {
            t += h.trace * spec.phase(w, h.d).0;
        }
        t
    }

    /// Writes G̃(ω) (lower triangles) and the radius into `out`.
    pub fn evaluate(&self, spec: &BlockSpectrum, w: (usize, usize), out: &mut HermitianWithError) {
        let n = self.n;
        let m = spec.moduli();
        out.re.resize_with(n, n, |_, _| 0.0);
        out.im.resize_with(n, n, |_, _| 0.0);
        out.radius = self.radius;
        let signs: Vec<f64> = self.selfs.iter().map(|s| self_sign(w, s.d, m)).collect();
        let phases: Vec<(f64, f64)> = self.halves.iter().map(|h| spec.phase(w, h.d)).collect();
        for j in 0..n {
            let re = &mut col_mut(&mut out.re, j)[j..];
            re.copy_from_slice(&col(&self.zero, j)[j..]);
            for (s, &sign) in self.selfs.iter().zip(&signs) {
                let c = &col(&s.c, j)[j..];
                if sign > 0.0 {
                    re.iter_mut().zip(c).for_each(|(r, &x)| *r += x);
                } else {
                    re.iter_mut().zip(c).for_each(|(r, &x)| *r -= x);
                }
            }
            for (h, &(pr, _)) in self.halves.iter().zip(&phases) {
                let sym = &col(&h.sym, j)[j..];
                re.iter_mut().zip(sym).for_each(|(r, &x)| *r += x * pr);
            }
            let im = &mut col_mut(&mut out.im, j)[j..];
            im.fill(0.0);
            for (h, &(_, pi)) in self.halves.iter().zip(&phases) {
                let anti = &col(&h.anti, j)[j..];
                im.iter_mut().zip(anti).for_each(|(r, &x)| *r += x * pi);
            }
            im[0] = 0.0;
        }
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

fn col(m: &Mat<f64>, j: usize) -> &[f64] {
    m.col(j)
        .try_as_col_major()
        .expect("columns of a faer Mat are contiguous")
        .as_slice()
}

fn col_mut(m: &mut Mat<f64>, j: usize) -> &mut [f64] {
    m.col_mut(j)
        .try_as_col_major_mut()
        .expect("columns of a faer Mat are contiguous")
        .as_slice_mut()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv::block_gram::block_gram;
    use crate::conv::{Conv2dGeometry, EmbeddingPlan, Kernel, PaddingMode};

    fn kernel(c_out: usize, c_in: usize, kh: usize, kw: usize, seed: u64) -> Kernel {
        let mut state = seed;
        let vals: Vec<f64> = (0..c_out * c_in * kh * kw)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
            })
            .collect();
        Kernel::from_f64(c_out, c_in, kh, kw, vals).unwrap()
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
        ];
        for (ci, &(c_out, c_in, kh, kw, h, wd, stride, mode)) in cases.iter().enumerate() {
            let mut geo = Conv2dGeometry::new(c_out, c_in, kh, kw, h, wd);
            geo.mode = mode;
            geo.stride = (stride, stride);
            geo.padding = (kh / 2, kw / 2, (kh - 1) / 2, (kw - 1) / 2);
            let k = kernel(c_out, c_in, kh, kw, ci as u64 + 1);
            let plan = EmbeddingPlan::new(&geo);
            let spec = BlockSpectrum::new(&k, 1, &plan);
            let sym = SymbolGram::new(&spec, 0);
            let (m1, m2) = spec.moduli();
            let mut z = Mat::<f64>::zeros(0, 0);
            let mut got = HermitianWithError::zeros(0);
            for w1 in 0..m1 {
                for w2 in 0..m2 {
                    spec.fill(0, (w1, w2), &mut z);
                    let direct = block_gram(z.as_ref());
                    let (re, im, radius) = (&direct.re, &direct.im, direct.radius);
                    sym.evaluate(&spec, (w1, w2), &mut got);
                    assert_eq!(re.nrows(), sym.dim(), "case {ci}");
                    let tol = sym.radius() + radius;
                    for j in 0..sym.dim() {
                        for i in j..sym.dim() {
                            let dr = (got.re[(i, j)] - re[(i, j)]).abs();
                            let di = if i > j {
                                (got.im[(i, j)] - im[(i, j)]).abs()
                            } else {
                                0.0
                            };
                            assert!(dr <= tol && di <= tol, "case {ci} ω = ({w1}, {w2}) entry ({i}, {j}): {dr:e} {di:e} > {tol:e}");
                        }
                    }
                    let tr = sym.trace_estimate(&spec, (w1, w2));
                    assert!((tr - got.trace()).abs() <= 1e-9 * (1.0 + tr.abs()));
                }
            }
        }
    }
}
