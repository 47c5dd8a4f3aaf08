//! Rigorous bound λ_max(G) < s² (i.e. σ(B) < s when G = BᴴB) for a complex
//! Hermitian matrix known up to an error radius, by a Cholesky
//! positive-definiteness certificate of s²I − G done in complex arithmetic
//! ([`hermitian_cholesky_in_place`]), which costs half the flops of the same
//! certificate on the 2n×2n real embedding.

use super::hermitian_cholesky::hermitian_cholesky_in_place;
use super::pd_upper::{rump_shift, PdFailure, MAX_CERTIFIED_DIM};
use crate::columns::{column, column_mut};
use crate::rounding;
use crate::simd::multiversion;
use faer::{Mat, MatRef};

/// A computed Hermitian matrix G̃ = Re + i·Im (lower triangles valid, the
/// imaginary diagonal taken as 0) and ρ ≥ ‖G̃ − G‖₂ for the exact Hermitian G
/// it approximates.
#[derive(Debug, Clone)]
pub struct HermitianWithError {
    /// Lower triangle of Re G̃.
    pub re: Mat<f64>,
    /// Strict lower triangle of Im G̃ (the diagonal is ignored).
    pub im: Mat<f64>,
    /// ρ ≥ ‖G̃ − G‖₂.
    pub radius: f64,
}

impl HermitianWithError {
    /// An all-zero n×n matrix with radius 0 (a buffer to be filled).
    pub fn zeros(n: usize) -> Self {
        Self {
            re: Mat::zeros(n, n),
            im: Mat::zeros(n, n),
            radius: 0.0,
        }
    }

    /// Dimension n.
    pub fn dim(&self) -> usize {
        self.re.nrows()
    }

    /// Trace of G̃ (= ‖B̃‖_F² for a Gram matrix; a ranking key, no guarantee).
    pub fn trace(&self) -> f64 {
        (0..self.dim()).map(|i| self.re[(i, i)]).sum()
    }

    /// y = G̃x for x = [Re x; Im x] (length 2n, the real embedding acting on
    /// ℂⁿ ≅ ℝ²ⁿ; for estimators, no guarantee).
    pub fn apply(&self, x: &[f64], y: &mut [f64]) {
        hermitian_apply(self.re.as_ref(), self.im.as_ref(), x, y);
    }
}

multiversion! {
    /// y = G̃x from the lower triangles, column by column: the strict lower
    /// part of column j adds g_ij·x_j to y_i (an axpy) and conj(g_ij)·x_i to
    /// y_j (a dot product).
    fn hermitian_apply = hermitian_apply_body(re: MatRef<'_, f64>, im: MatRef<'_, f64>, x: &[f64], y: &mut [f64])
}

#[inline(always)]
fn hermitian_apply_body(re: MatRef<'_, f64>, im: MatRef<'_, f64>, x: &[f64], y: &mut [f64]) {
    let n = re.nrows();
    let (xr, xi) = x.split_at(n);
    let (yr, yi) = y.split_at_mut(n);
    yr.fill(0.0);
    yi.fill(0.0);
    for j in 0..n {
        let gr = &column(re.col(j))[j..];
        let gi = &column(im.col(j))[j..];
        let (a, b) = (xr[j], xi[j]);
        let d = gr[0];
        let (gr, gi) = (&gr[1..], &gi[1..]);
        let (xr_t, xi_t) = (&xr[j + 1..], &xi[j + 1..]);
        for (((yr_i, yi_i), &r), &m) in yr[j + 1..]
            .iter_mut()
            .zip(yi[j + 1..].iter_mut())
            .zip(gr)
            .zip(gi)
        {
            // y_i += g_ij x_j
            *yr_i += r * a - m * b;
            *yi_i += r * b + m * a;
        }
        // y_j += Σ_i conj(g_ij) x_i, in 8 independent lanes so it vectorizes.
        let (mut sr, mut si) = ([0.0f64; 8], [0.0f64; 8]);
        let chunks = gr.len() / 8 * 8;
        for c in (0..chunks).step_by(8) {
            for l in 0..8 {
                let (r, m, u, v) = (gr[c + l], gi[c + l], xr_t[c + l], xi_t[c + l]);
                sr[l] += r * u + m * v;
                si[l] += r * v - m * u;
            }
        }
        let mut sr = d * a + sr.iter().sum::<f64>();
        let mut si = d * b + si.iter().sum::<f64>();
        for i in chunks..gr.len() {
            sr += gr[i] * xr_t[i] + gi[i] * xi_t[i];
            si += gr[i] * xi_t[i] - gi[i] * xr_t[i];
        }
        yr[j] += sr;
        yi[j] += si;
    }
}

/// Reusable buffers for [`certify_hermitian_upper`].
#[derive(Debug)]
pub struct HermitianWorkspace {
    re: Mat<f64>,
    im: Mat<f64>,
}

impl Default for HermitianWorkspace {
    fn default() -> Self {
        Self {
            re: Mat::zeros(0, 0),
            im: Mat::zeros(0, 0),
        }
    }
}

/// Certifies λ_max(G) < s² for the exact Hermitian G within `gram.radius` of
/// `gram` (so σ(B) < s when G = BᴴB).
///
/// # Theorem
/// As in [`super::pd_upper::certify_upper`], on the real embedding E(·) of
/// [`super::hermitian_cholesky`]: E(G) is symmetric with the eigenvalues of G
/// (each twice) and ‖E(G̃) − E(G)‖₂ = ‖G̃ − G‖₂ ≤ ρ, so with t ≤ s² − ρ,
/// s²I − E(G) ⪰ E(tI − G̃) and E(tI − G̃) ≻ 0 suffices. That is certified by
/// Rump's criterion (BIT 46 (2006), Thm 2.3) for dimension 2n with our
/// constant c = 2γ_{2n+2}·tr + 8η·2n(2(2n+1) + max diag), where the real
/// trace is twice the complex one, and the factorization of
/// [`hermitian_cholesky_in_place`], which is the real standard algorithm on
/// E(tI − G̃ − cI) (see that module).
///
/// Proof: proofs/theories/Cholesky.v, `rump_cholesky_posdef_rust`
/// Proof: proofs/theories/Certificate.v, `pd_upper_certificate`
/// Proof: proofs/theories/Strict.v, `posdef_strict_bound`
///
/// # Floating-point assumptions
/// IEEE-754 binary64, round to nearest even; 2n ≤ 2²⁴; faer's matrix
/// multiplies sum products in some order (as for the real certificate).
///
/// # Hypotheses checked at entry
/// 0 ≤ s < ∞, 0 ≤ ρ, both parts n×n, 2n ≤ 2²⁴.
pub fn certify_hermitian_upper(
    gram: &HermitianWithError,
    s: f64,
    work: &mut HermitianWorkspace,
) -> Result<(), PdFailure> {
    // Hypotheses of the theorem (see `pd_upper::check_candidate`).
    super::pd_upper::check_candidate(s, gram.radius)?;
    let n = gram.dim();
    if gram.im.nrows() != n || gram.im.ncols() != n || gram.re.ncols() != n {
        return Err(PdFailure::InvalidArgument(
            "the real and imaginary parts must be square of one size",
        ));
    }
    if n > MAX_CERTIFIED_DIM / 2 {
        return Err(PdFailure::TooLarge);
    }
    let diagonal = super::pd_upper::ShiftedDiagonal::new(s, gram.radius);
    work.re.resize_with(n, n, |_, _| 0.0);
    work.im.resize_with(n, n, |_, _| 0.0);
    let mut trace = 0.0f64;
    let mut max_diag = 0.0f64;
    for j in 0..n {
        let d = diagonal.entry(gram.re[(j, j)])?;
        trace = rounding::add_up(trace, d);
        max_diag = max_diag.max(d);
        for (src, dst, diag) in [(&gram.re, &mut work.re, d), (&gram.im, &mut work.im, 0.0)] {
            let from = &column(src.col(j))[j + 1..];
            let to = &mut column_mut(dst.col_mut(j))[j..];
            to[0] = diag;
            for (o, &v) in to[1..].iter_mut().zip(from) {
                *o = -v;
            }
        }
    }
    let c = rump_shift(2 * n, rounding::mul_up(2.0, trace), max_diag);
    for j in 0..n {
        let d = rounding::sub_down(work.re[(j, j)], c);
        if d.is_nan() || d <= 0.0 {
            return Err(PdFailure::NotPositive { pivot: j });
        }
        work.re[(j, j)] = d;
    }
    hermitian_cholesky_in_place(work.re.as_mut(), work.im.as_mut())
        .map_err(|pivot| PdFailure::NotPositive { pivot })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certifies_diagonal_matrix_just_above_its_norm_and_refuses_below() {
        let mut g = HermitianWithError::zeros(3);
        g.re[(0, 0)] = 2.25;
        g.re[(1, 1)] = 1.0;
        g.re[(2, 2)] = 0.25;
        let mut w = HermitianWorkspace::default();
        assert!(certify_hermitian_upper(&g, 1.5 * (1.0 + 1e-12), &mut w).is_ok());
        assert!(certify_hermitian_upper(&g, 1.5, &mut w).is_err());
        assert!(certify_hermitian_upper(&g, 1.4, &mut w).is_err());
    }

    #[test]
    fn apply_is_the_hermitian_product() {
        for n in [1, 3, 17] {
            let mut g = HermitianWithError::zeros(n);
            let val =
                |i: usize, j: usize, k: usize| (((i * 7 + j * 3 + k) % 11) as f64 - 5.0) / 4.0;
            for j in 0..n {
                for i in j..n {
                    g.re[(i, j)] = val(i, j, 0);
                    g.im[(i, j)] = if i > j { val(i, j, 5) } else { 0.0 };
                }
            }
            let x: Vec<f64> = (0..2 * n).map(|i| val(i, 1, 2)).collect();
            let mut y = vec![0.0; 2 * n];
            g.apply(&x, &mut y);
            for i in 0..n {
                let (mut yr, mut yi) = (0.0, 0.0);
                for j in 0..n {
                    // g_ij from the lower triangle, conj above the diagonal.
                    let (r, m) = if i >= j {
                        (g.re[(i, j)], if i > j { g.im[(i, j)] } else { 0.0 })
                    } else {
                        (g.re[(j, i)], -g.im[(j, i)])
                    };
                    yr += r * x[j] - m * x[n + j];
                    yi += r * x[n + j] + m * x[j];
                }
                assert!(
                    (y[i] - yr).abs() < 1e-12 && (y[n + i] - yi).abs() < 1e-12,
                    "n = {n}, row {i}"
                );
            }
        }
    }

    /// On random Gram matrices BᴴB of sizes that use the blocked
    /// factorization, the certificate holds just above λ_max (computed
    /// independently by nalgebra on the real embedding) and fails just below.
    #[test]
    fn certificate_brackets_the_top_eigenvalue_of_random_gram_matrices() {
        let mut rng = crate::random::Rng::new(7);
        let mut next = || rng.uniform() * 2.0 - 1.0;
        for n in [5, 40, 90] {
            let m = n + 3;
            let br = Mat::from_fn(m, n, |_, _| next());
            let bi = Mat::from_fn(m, n, |_, _| next());
            let re = br.transpose() * &br + bi.transpose() * &bi;
            let im = br.transpose() * &bi - bi.transpose() * &br;
            let emb = nalgebra::DMatrix::from_fn(2 * n, 2 * n, |i, j| {
                let (a, b) = (i % n, j % n);
                match (i / n, j / n) {
                    (0, 0) | (1, 1) => re[(a, b)],
                    (1, 0) => im[(a, b)],
                    _ => -im[(a, b)],
                }
            });
            let top = emb.symmetric_eigenvalues().max();
            let g = HermitianWithError {
                re,
                im,
                radius: 1e-9,
            };
            let mut w = HermitianWorkspace::default();
            let s = top.sqrt();
            assert!(
                certify_hermitian_upper(&g, s * (1.0 + 1e-7), &mut w).is_ok(),
                "n = {n}"
            );
            assert!(
                certify_hermitian_upper(&g, s * (1.0 - 1e-7), &mut w).is_err(),
                "n = {n}"
            );
        }
    }

    #[test]
    fn an_imaginary_off_diagonal_entry_counts() {
        // G = [[1, −i], [i, 1]] has eigenvalues 0 and 2.
        let mut g = HermitianWithError::zeros(2);
        g.re[(0, 0)] = 1.0;
        g.re[(1, 1)] = 1.0;
        g.im[(1, 0)] = 1.0;
        let mut w = HermitianWorkspace::default();
        let s = 2f64.sqrt();
        assert!(certify_hermitian_upper(&g, s * (1.0 + 1e-12), &mut w).is_ok());
        assert!(certify_hermitian_upper(&g, s * (1.0 - 1e-12), &mut w).is_err());
    }
}
