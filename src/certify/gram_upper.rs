//! Certified Gram-iteration upper bound on σ₁(W): the Gram iteration of
//! Delattre et al. (ICML 2023) with every rounding error carried, so the
//! result is a rigorous upper bound (the published float code is not: it fell
//! 3.6e-12 below σ₁).

use super::gram::GramWithError;
use crate::error::{Error, Result};
use crate::matrix::DenseMatrix;
use crate::rounding::{self, ETA};
use faer::{Accum, Mat, Par};

/// A rigorous upper bound on σ₁(W) from `iterations` steps of Gram iteration
/// with rounding errors accounted for.
///
/// # Theorem
/// For any square G, ‖GᵀG‖₂ = ‖G‖₂², and ‖G‖₂ ≤ ‖G‖_F; so for
/// G₀ = SᵀS, G_{k+1} = G_kᵀG_k: σ₁(S)^{2^{K+1}} = ‖G_K‖₂ ≤ ‖G_K‖_F
/// (Delattre et al. 2023, Thm 1; proof: proofs/theories/Gram.v, `gram_iteration_bound`).
///
/// # With rounding
/// W is first scaled exactly by a power of two, S = 2^e W
/// ([`DenseMatrix::normalized_scale`]), and the smaller Gram matrix Ĝ₀ =
/// fl(SᵀS) (or fl(SSᵀ); same nonzero spectrum) is formed with
/// [`GramWithError`], which gives ρ₀ ≥ ‖Ĝ₀ − SᵀS‖₂ (its lower triangle is
/// symmetrized here). Then, with N the dimension, f_k = 2^{⌊log₂‖Ĥ_k‖_F⌋} a
/// power of two, X_k = fl(Ĥ_k/f_k) (exact unless an entry underflows, so
/// |X_k − Ĥ_k/f_k| ≤ η/2 entrywise and ‖X_k − Ĥ_k/f_k‖₂ ≤ Nη/2) and
/// Ĥ_{k+1} = fl(X_kᵀX_k) = X_kᵀX_k + E_k:
///
/// * ‖E_k‖₂ ≤ γ_N‖X_k‖_F² + N²η (each entry is a dot product of length N:
///   |E_k| ≤ γ_N|X_k|ᵀ|X_k| + Nη entrywise, Higham Lemma 3.1 with underflow;
///   proof: proofs/theories/FloatDot.v, `dot_error_bound`; then
///   ‖|X|ᵀ|X|‖₂ ≤ ‖X‖_F², proof: proofs/theories/Norms.v, `spectral_le_frobenius`),
/// * ‖X_k‖₂² = ‖X_kᵀX_k‖₂ ≤ ‖Ĥ_{k+1}‖₂ + ‖E_k‖₂, hence
///   ‖Ĥ_k‖₂ ≤ f_k·(√(‖Ĥ_{k+1}‖₂ + ‖E_k‖₂) + Nη/2).
///
/// Starting from b_K = ‖Ĥ_K‖_F (rounded up) ≥ ‖Ĥ_K‖₂, this recursion is run
/// backwards with every operation rounded upward
/// ([`rounding`]; proof: proofs/theories/FloatRounding.v, `next_up_rn_upper`),
/// giving b₀ ≥ ‖Ĥ₀‖₂ = ‖Ĝ₀‖₂, and finally σ₁(S)² = ‖SᵀS‖₂ ≤ b₀ + ρ₀
/// (Weyl; proof: proofs/theories/Norms.v, `weyl_upper`). The bound on σ₁(W)
/// is √(b₀ + ρ₀) rounded up and scaled back by 2^{−e}
/// ([`crate::matrix::ScaledMatrix::upper_to_original`]).
///
/// The power-of-two rescaling keeps every Ĥ_k with ‖Ĥ_k‖_F ∈ [1/N, 4) for
/// k ≥ 1, so nothing overflows and no logarithms are needed.
///
/// # Formal proofs
/// Proof: proofs/theories/Gram.v, `gram_iteration_bound`
/// Proof: proofs/theories/FloatDot.v, `dot_error_bound`
/// Proof: proofs/theories/Norms.v, `spectral_le_frobenius`
/// Proof: proofs/theories/Norms.v, `weyl_upper`
/// Proof: proofs/theories/FloatRounding.v, `next_up_rn_upper`
/// Proof: proofs/theories/FloatRounding.v, `scale_pow2_exact`
///
/// # Floating-point assumptions
/// IEEE binary64 round to nearest; faer's matrix products compute each entry
/// as a sum of the N products in some order (the same assumption as
/// [`GramWithError::new`]). Tightness: the bound exceeds σ₁ by about a
/// factor rank^{1/2^{K+2}} plus a relative N²u floor, so K ≈ 10–20 is
/// typical; cost O(N³) per iteration.
///
/// # Errors
/// [`Error::Overflow`] when the bound does not fit in f64 (only for matrices
/// whose σ₁ is near the f64 limit).
///
/// ```
/// use lipcert::{DenseMatrix, certify::gram_upper::gram_upper_bound};
/// let w = DenseMatrix::from_row_major(2, 2, &[2.0, 1.0, 1.0, 2.0]).unwrap();
/// let u = gram_upper_bound(&w, 12).unwrap();
/// assert!(u >= 3.0 && u < 3.0 * (1.0 + 1e-3));
/// ```
pub fn gram_upper_bound(w: &DenseMatrix, iterations: usize) -> Result<f64> {
    if w.is_zero() {
        return Ok(0.0);
    }
    let scaled = w.normalized_scale()?;
    let s = &scaled.matrix;
    let gram = if s.ncols() <= s.nrows() {
        GramWithError::new(s)
    } else {
        GramWithError::new(&s.transpose())
    };
    let dim = gram.dim();
    let mut h = symmetrize_lower(&gram.lower);
    let gamma_n = rounding::gamma(dim);
    let n_eta_half = rounding::mul_up(dim as f64, ETA); // ≥ Nη/2
    let n2_eta = rounding::mul_up(rounding::mul_up(dim as f64, dim as f64), ETA);

    // Forward: record (f_k as exponent, ‖E_k‖ bound) for each squaring.
    let mut steps: Vec<(i32, f64)> = Vec::with_capacity(iterations);
    let mut top = frobenius_up(&h);
    for _ in 0..iterations {
        if top == 0.0 {
            break;
        }
        if !top.is_finite() {
            return Err(Error::Overflow {
                context: "Frobenius norm in the Gram iteration".into(),
            });
        }
        let e = rounding::exponent_of(top);
        let x = Mat::from_fn(dim, dim, |i, j| rounding::scale_pow2(h[(i, j)], -e));
        let fx = frobenius_up(&x);
        let err = rounding::add_up(rounding::mul_up(gamma_n, rounding::mul_up(fx, fx)), n2_eta);
        faer::linalg::matmul::matmul(h.as_mut(), Accum::Replace, x.transpose(), &x, 1.0, Par::Seq);
        steps.push((e, err));
        top = frobenius_up(&h);
    }
    if !top.is_finite() {
        return Err(Error::Overflow {
            context: "Frobenius norm in the Gram iteration".into(),
        });
    }

    // Backward: b_k = f_k·(√(b_{k+1} + ‖E_k‖) + Nη/2), all rounded upward.
    let mut b = top;
    for &(e, err) in steps.iter().rev() {
        let x_norm = rounding::add_up(rounding::sqrt_up(rounding::add_up(b, err)), n_eta_half);
        b = scale_up(x_norm, e);
    }
    let sigma_sq = rounding::add_up(b, gram.radius);
    let upper = rounding::sqrt_up(sigma_sq);
    if !upper.is_finite() {
        return Err(Error::Overflow {
            context: "Gram-iteration bound on the scaled matrix".into(),
        });
    }
    scaled.upper_to_original(upper)
}

/// x·2^e rounded upward (exact unless the result leaves the normal range).
fn scale_up(x: f64, e: i32) -> f64 {
    let r = rounding::scale_pow2(x, e);
    if rounding::scale_pow2(r, -e) == x {
        r
    } else {
        r.next_up()
    }
}

/// The symmetric matrix whose lower triangle is `lower`.
fn symmetrize_lower(lower: &Mat<f64>) -> Mat<f64> {
    let n = lower.nrows();
    Mat::from_fn(
        n,
        n,
        |i, j| if i >= j { lower[(i, j)] } else { lower[(j, i)] },
    )
}

/// Upper bound on ‖G‖_F (the a-priori sum-of-squares bound of
/// [`rounding::sum_of_squares_up`]).
fn frobenius_up(g: &Mat<f64>) -> f64 {
    let mut s = 0.0;
    for j in 0..g.ncols() {
        for i in 0..g.nrows() {
            s += g[(i, j)] * g[(i, j)];
        }
    }
    rounding::sqrt_up(rounding::sum_of_squares_up(s, g.nrows() * g.ncols()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_on_a_diagonal_matrix_up_to_rounding_and_tightens_with_iterations() {
        let w = DenseMatrix::from_row_major(3, 3, &[1.0, 0.0, 0.0, 0.0, -3.0, 0.0, 0.0, 0.0, 2.0])
            .unwrap();
        let mut previous = f64::INFINITY;
        for k in [0, 2, 4, 8, 16] {
            let u = gram_upper_bound(&w, k).unwrap();
            assert!(u >= 3.0, "k = {k}: {u}");
            assert!(u <= previous * (1.0 + 1e-12));
            previous = u;
        }
        assert!(previous < 3.0 * (1.0 + 1e-10), "{previous}");
    }

    #[test]
    fn zero_and_wide_matrices() {
        let z = DenseMatrix::from_row_major(2, 3, &[0.0; 6]).unwrap();
        assert_eq!(gram_upper_bound(&z, 5).unwrap(), 0.0);
        // A 1×4 row: σ = ‖row‖₂ = 5 (3, 4, 0, 0), Gram is 1×1 and exact.
        let r = DenseMatrix::from_row_major(1, 4, &[3.0, 4.0, 0.0, 0.0]).unwrap();
        let u = gram_upper_bound(&r, 6).unwrap();
        assert!((5.0..5.0 * (1.0 + 1e-13)).contains(&u), "{u}");
    }

    #[test]
    fn huge_and_tiny_scales_do_not_overflow() {
        let w = DenseMatrix::from_row_major(2, 2, &[1e300, 1e300, -1e300, 1e300]).unwrap();
        // σ₁ = σ₂ = √2·1e300 (orthogonal columns): the Frobenius norm
        // over-counts by √2, which K = 20 squarings shrink to 2^(1/2^22).
        let u = gram_upper_bound(&w, 20).unwrap();
        let s = 2f64.sqrt() * 1e300;
        assert!(u >= s * (1.0 - 1e-15) && u < s * (1.0 + 1e-6), "{u}");
        let t = DenseMatrix::from_row_major(2, 2, &[1e-300, 1e-300, -1e-300, 1e-300]).unwrap();
        let u = gram_upper_bound(&t, 20).unwrap();
        let s = 2f64.sqrt() * 1e-300;
        assert!(u >= s * (1.0 - 1e-15) && u < s * (1.0 + 1e-6), "{u}");
    }
}
