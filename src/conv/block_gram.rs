//! The Gram matrix of one filled complex block B = X + iY (stored as the
//! stacked real matrix [X; Y]) with its error radius. The certified bounds
//! use [`super::symbol_gram`] for all blocks at once; this direct form is
//! their independent check in tests, and the certified path of the Fourier
//! LipLT route's norms (`network::bounds::fourier`), so its assumption on
//! faer's products (below) is relied on there too.
//!
//! A complex M = X + iY has the singular values of the real matrix
//! Ŝ = [[X, −Y], [Y, X]], each doubled (Ŝ is the matrix of M acting on
//! ℂⁿ ≅ ℝ²ⁿ, an isometric identification).

use crate::certify::hermitian_upper::HermitianWithError;
use crate::rounding;
use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, Mat, MatRef, Par};

/// fl(ŜᵀŜ) with its error radius, for the smaller side of the block: the
/// Gram of B (cols × cols) when cols ≤ rows, else of Bᴴ (σ(Bᴴ) = σ(B)).
///
/// # Theorem
/// With A = X + iY the chosen side (m rows, n columns), ŜᵀŜ =
/// [[XᵀX + YᵀY, −(XᵀY − YᵀX)], [XᵀY − YᵀX, XᵀX + YᵀY]]. We compute
/// XᵀX + YᵀY as one product [X; Y]ᵀ[X; Y] (each entry a dot product of length
/// 2m) and XᵀY − YᵀX as fl(T − Tᵀ) with T = fl(XᵀY), which is also a sum of
/// the 2m products Σ_k x_ki·y_kj − Σ_k y_ki·x_kj in some order. Hence
/// |C − ŜᵀŜ| ≤ γ_{2m}|Ŝ|ᵀ|Ŝ| + 2m·η entrywise (Higham Lemma 3.1) and
/// ‖C − ŜᵀŜ‖₂ ≤ γ_{2m}‖Ŝ‖_F² + (2m)(2n)·η with ‖Ŝ‖_F² = 2(‖X‖_F² + ‖Y‖_F²)
/// — the radius of [`crate::certify::gram::GramWithError::new`] for Ŝ;
/// the Hermitian BᴴB has ŜᵀŜ as its real embedding, so the same ρ bounds
/// the complex error in norm.
/// Proof: proofs/theories/FloatDot.v, `dot_error_bound`
///
/// Assumption (tested, not proved): faer's matrix multiplies compute each
/// entry as a sum of the products in some order (as in `certify::gram`).
pub fn block_gram(z: MatRef<'_, f64>) -> HermitianWithError {
    let p = z.nrows() / 2;
    let q = z.ncols();
    // The chosen side as a stacked [X; Y] with m rows per half, and the sign
    // of its imaginary part relative to the stored Y.
    let transposed;
    let (stacked, m, n, sign) = if q <= p {
        (z, p, q, 1.0)
    } else {
        // Bᴴ = Xᵀ − iYᵀ: stack [Xᵀ; Yᵀ] and flip the sign of T below.
        let mut s = Mat::<f64>::zeros(2 * q, p);
        s.as_mut()
            .submatrix_mut(0, 0, q, p)
            .copy_from(z.subrows(0, p).transpose());
        s.as_mut()
            .submatrix_mut(q, 0, q, p)
            .copy_from(z.subrows(p, p).transpose());
        transposed = s;
        (transposed.as_ref(), q, p, -1.0)
    };
    let x = stacked.subrows(0, m);
    let y = stacked.subrows(m, m);
    let mut re = Mat::<f64>::zeros(n, n);
    triangular::matmul(
        re.as_mut(),
        BlockStructure::TriangularLower,
        Accum::Replace,
        stacked.transpose(),
        BlockStructure::Rectangular,
        stacked,
        BlockStructure::Rectangular,
        1.0,
        Par::Seq,
    );
    let mut t = Mat::<f64>::zeros(n, n);
    matmul(t.as_mut(), Accum::Replace, x.transpose(), y, sign, Par::Seq);
    // Im(BᴴB) = XᵀY − YᵀX = T − Tᵀ (strict lower triangle used).
    let im = &t - t.transpose();
    let ss: f64 = (0..stacked.ncols())
        .map(|j| {
            let col = stacked.col(j);
            (0..stacked.nrows()).map(|i| col[i] * col[i]).sum::<f64>()
        })
        .sum();
    let fro_sq = rounding::mul_up(2.0, rounding::sum_of_squares_up(ss, 2 * m * n));
    let radius = rounding::add_up(
        rounding::mul_up(rounding::gamma(2 * m), fro_sq),
        rounding::mul_up(
            rounding::mul_up((2 * m) as f64, (2 * n) as f64),
            rounding::ETA,
        ),
    );
    HermitianWithError { re, im, radius }
}
