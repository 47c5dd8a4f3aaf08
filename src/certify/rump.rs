//! Rump's two-sided enclosure of ‖A‖₂ from approximate singular vectors.

use super::refine::ScaledBounds;
use crate::error::{Error, Result};
use crate::matrix::DenseMatrix;
use crate::rounding::{self, ETA};
use faer::{Mat, MatRef};

/// Encloses σ(S) = ‖S‖₂ from an approximate full set of right singular
/// vectors V (n×n, e.g. from an SVD).
///
/// # Theorem
/// (S. M. Rump, *Verified bounds for singular values, in particular for the
/// spectral norm of a matrix and its inverse*, BIT 51 (2011), Thm 3.2.) Let
/// B = SV and BᵀB = D + E with D diagonal, α ≥ ‖I − VᵀV‖₂ < 1,
/// ε ≥ ‖E‖₂ and d = max Dᵢᵢ. Then
/// √((d − ε)/(1 + α)) ≤ ‖S‖₂ ≤ √((d + ε)/(1 − α)).
/// Self-contained argument: λ_min(VᵀV) ≥ 1 − α and λ_max(VᵀV) ≤ 1 + α, so
/// (1 − α)‖S‖² ≤ λ_max(VᵀSᵀSV) ≤ (1 + α)‖S‖²; and by Weyl
/// d − ε ≤ λ_max(D + E) ≤ d + ε (proof: proofs/theories/Norms.v, `weyl_upper`).
/// Formal proofs of the two halves: proofs/theories/Certificate.v, `rump_lower_bound`
/// and proofs/theories/Invert.v, `rump_upper_bound_square`.
///
/// # Rounding
/// B̂ = fl(SV) has ‖B̂ − SV‖₂ ≤ ‖F‖ := γₙ‖S‖_F‖V‖_F + √(mn)·nη; Ĝ = fl(B̂ᵀB̂)
/// has ‖Ĝ − B̂ᵀB̂‖₂ ≤ γₘ‖B̂‖_F² + mnη; Ĥ = fl(VᵀV) has
/// ‖Ĥ − VᵀV‖₂ ≤ γₙ‖V‖_F² + n²η (proof: proofs/theories/FloatDot.v,
/// `dot_error_bound`; ‖·‖₂ ≤ ‖·‖_F: proofs/theories/Norms.v,
/// `spectral_le_frobenius`). With D = diag(Ĝ):
/// ε = ‖Ĝ − D‖_F + γₘ‖B̂‖_F² + mnη + 2‖B̂‖_F‖F‖ + ‖F‖², and
/// α = ‖I − Ĥ‖_F + γₙ‖V‖_F² + n²η, all rounded upward.
///
/// Assumption (tested, not proved): faer's matrix products compute each entry
/// as a sum of products in some order.
pub fn rump_enclosure(s: &DenseMatrix, v: MatRef<'_, f64>) -> Result<ScaledBounds> {
    let (m, n) = (s.nrows(), s.ncols());
    if v.nrows() != n || v.ncols() != n {
        return Err(Error::ShapeMismatch {
            what: "Rump enclosure needs a square V with ncols(S) rows",
            expected: n,
            got: v.ncols(),
        });
    }
    // Hypotheses of Thm 3.2: V is a real (finite) matrix; α < 1 is checked
    // below, and a non-finite bound is refused rather than returned.
    if let Some((i, j)) = (0..n)
        .flat_map(|j| (0..n).map(move |i| (i, j)))
        .find(|&(i, j)| !v[(i, j)].is_finite())
    {
        return Err(Error::InvalidOption(format!(
            "Rump enclosure: V has a non-finite entry {} at ({i}, {j})",
            v[(i, j)]
        )));
    }
    let b = s.as_faer() * v;
    let g = b.transpose() * &b;
    let h = v.transpose() * v;

    let s_fro = s.frobenius_up();
    let v_fro = frobenius_up(v);
    let b_fro = frobenius_up(b.as_ref());
    let f_norm = rounding::add_up(
        rounding::mul_up(rounding::gamma(n), rounding::mul_up(s_fro, v_fro)),
        rounding::mul_up(
            rounding::sqrt_up(rounding::mul_up(m as f64, n as f64)),
            rounding::mul_up(n as f64, ETA),
        ),
    );
    let offdiag_g = offdiag_frobenius_up(g.as_ref());
    let g_err = rounding::add_up(
        rounding::mul_up(rounding::gamma(m), rounding::mul_up(b_fro, b_fro)),
        rounding::mul_up(rounding::mul_up(m as f64, n as f64), ETA),
    );
    let cross = rounding::add_up(
        rounding::mul_up(2.0, rounding::mul_up(b_fro, f_norm)),
        rounding::mul_up(f_norm, f_norm),
    );
    let eps = rounding::add_up(rounding::add_up(offdiag_g, g_err), cross);

    let alpha = rounding::add_up(
        identity_defect_frobenius_up(h.as_ref()),
        rounding::add_up(
            rounding::mul_up(rounding::gamma(n), rounding::mul_up(v_fro, v_fro)),
            rounding::mul_up(rounding::mul_up(n as f64, n as f64), ETA),
        ),
    );
    if alpha.is_nan() || alpha >= 1.0 {
        return Err(Error::CertificateFailed(format!(
            "Rump enclosure: V is too far from orthogonal (‖I − VᵀV‖ ≤ {alpha:e} is not < 1)"
        )));
    }
    let d = (0..n).map(|i| g[(i, i)]).fold(0.0, f64::max);
    let lower_sq = rounding::div_down(rounding::sub_down(d, eps), rounding::add_up(1.0, alpha));
    let upper_sq = rounding::div_up(rounding::add_up(d, eps), rounding::sub_down(1.0, alpha));
    let lower = if lower_sq > 0.0 {
        rounding::sqrt_down(lower_sq)
    } else {
        0.0
    };
    let upper = rounding::sqrt_up(upper_sq);
    if !upper.is_finite() {
        return Err(Error::Overflow {
            context: "Rump enclosure upper bound (S should be scaled first)".into(),
        });
    }
    Ok(ScaledBounds {
        lower,
        upper,
        estimate: d.sqrt().clamp(lower, upper),
    })
}

/// Rump's method on S with V from faer's SVD.
pub fn rump_with_svd(s: &DenseMatrix) -> Result<ScaledBounds> {
    let svd = s
        .as_faer()
        .thin_svd()
        .map_err(|e| Error::EstimatorFailed(format!("faer SVD: {e:?}")))?;
    let v: Mat<f64> = svd.V().to_owned();
    rump_enclosure(s, v.as_ref())
}

fn frobenius_up(a: MatRef<'_, f64>) -> f64 {
    let mut sum = 0.0;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            sum += a[(i, j)] * a[(i, j)];
        }
    }
    rounding::sqrt_up(rounding::sum_of_squares_up(sum, a.nrows() * a.ncols()))
}

fn offdiag_frobenius_up(a: MatRef<'_, f64>) -> f64 {
    let mut sum = 0.0;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            if i != j {
                sum += a[(i, j)] * a[(i, j)];
            }
        }
    }
    rounding::sqrt_up(rounding::sum_of_squares_up(sum, a.nrows() * a.ncols()))
}

/// Upper bound on ‖I − H‖_F for a floating-point H (entries of I − H bounded
/// in absolute value with outward rounding, then squared and summed upward).
fn identity_defect_frobenius_up(h: MatRef<'_, f64>) -> f64 {
    let mut sum = 0.0;
    for j in 0..h.ncols() {
        for i in 0..h.nrows() {
            let x = if i == j {
                rounding::sub_up(1.0, h[(i, j)])
                    .abs()
                    .max(rounding::sub_down(1.0, h[(i, j)]).abs())
            } else {
                h[(i, j)].abs()
            };
            sum += x * x;
        }
    }
    rounding::sqrt_up(rounding::sum_of_squares_up(sum, h.nrows() * h.ncols()))
}
