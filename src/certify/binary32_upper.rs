//! The a-posteriori Cholesky certificate σ(S) < s′ with the factorization in
//! IEEE binary32: half the memory traffic and twice the vector width of the
//! binary64 factorization, at a rounding allowance 2²⁹ times larger, so it
//! serves only loose widths (see [`certify_upper_binary32`]).

use super::abs_norm::{abs_lower_norm_sq_up_f32, SCHUR_POWER_STEPS};
use super::cholesky::cholesky_lower_in_place_f32_with;
use super::gram::GramWithError;
use super::pd_upper::{
    check_hypotheses, measured_shift_for, shifted_bound, Factor, Format, PdCertificate, PdFailure,
    ShiftedDiagonal,
};
use crate::columns::column;
use crate::rounding;
use faer::Mat;

/// IEEE binary32 (proofs/theories/Cholesky.v, `rump_measured_posdef_binary32`):
/// u = 2⁻²⁴, η = 2⁻¹⁴⁹, dimensions up to 2²¹.
pub(crate) const BINARY32: Format = Format {
    unit_roundoff: 1.0 / (1u64 << 24) as f64,
    // 2⁻¹⁴⁹ = 2⁻¹⁰⁰·2⁻⁴⁹, both factors exact binary64 numbers.
    eta: (1.0 / (1u128 << 100) as f64) * (1.0 / (1u64 << 49) as f64),
    max_dim: MAX_BINARY32_DIM,
};

/// Largest dimension the binary32 criterion is proved for
/// (proofs/theories/Cholesky.v, `rump_measured_posdef_binary32`).
pub const MAX_BINARY32_DIM: usize = 1 << 21;

/// The a-posteriori shift c = β·r + n·ν of [`certify_upper_binary32`], with
/// binary32's u = 2⁻²⁴ and η = 2⁻¹⁴⁹: β = 2(nu + u)(1 + 4nu + 4u),
/// ν = 2η(n + 1 + maxdiag), rounded upward; +∞ outside the hypotheses
/// (n > 2²¹, r or maxdiag negative or NaN).
pub fn measured_shift_binary32(n: usize, r: f64, max_diag: f64) -> f64 {
    measured_shift_for(&BINARY32, n, r, max_diag)
}

/// ρ₃₂ ≥ ‖E‖₂ for the rounding E of −C to binary32 off the diagonal:
/// |E_ij| ≤ u₃₂|c_ij| + η₃₂/2 (round to nearest in binary32:
/// proofs/theories/FloatRounding.v, `rn_error_bound`, proved for every
/// format; its binary32 instance is `Cholesky.Binary32Criterion.rn_error_bound`),
/// E symmetric with zero diagonal, so ‖E‖₂ ≤ maxᵢ Σ_{j≠i} |E_ij|
/// (proofs/theories/Norms.v, `spectral_le_sqrt_l1_linf`, with ‖E‖₁ = ‖E‖_∞)
/// ≤ u₃₂·maxᵢ Σ_{j≠i} |c_ij| + (n − 1)·η₃₂/2. Row sums of nonnegative
/// terms are bounded above with `rounding::sum_of_squares_up` (proof:
/// proofs/theories/FloatDot.v, `sum_of_squares_bounds`); every other operation is
/// rounded upward. +∞ when an entry is not finite.
pub fn binary32_conversion_radius(gram: &GramWithError) -> f64 {
    let n = gram.dim();
    let mut rows = vec![0.0f64; n];
    for j in 0..n {
        let col = column(gram.lower.as_ref().col(j));
        let mut below = 0.0f64;
        for (row, &c) in rows[j + 1..].iter_mut().zip(&col[j + 1..n]) {
            *row += c.abs();
            below += c.abs();
        }
        rows[j] += below;
    }
    let widest = rows
        .iter()
        .map(|&r| rounding::sum_of_squares_up(r, n))
        .fold(
            0.0f64,
            |a, b| if b.is_nan() { f64::INFINITY } else { a.max(b) },
        );
    if !widest.is_finite() {
        return f64::INFINITY;
    }
    let relative = rounding::mul_up(BINARY32.unit_roundoff, widest);
    let subnormal = rounding::mul_up(rounding::usize_up(n), BINARY32.eta / 2.0);
    rounding::add_up(relative, subnormal)
}

/// Certifies σ(S) < s′ for an s′ slightly above the candidate s with the
/// Cholesky factorization run in binary32: the binary32 form of
/// [`certify_upper_measured`](super::pd_upper::certify_upper_measured).
///
/// # Theorem
/// Let C = `gram.lower` (symmetric, from its lower triangle), ρ ≥ ‖C − SᵀS‖₂
/// (`gram.radius`) and ρ₃₂ = [`binary32_conversion_radius`]`(gram)`. The
/// binary32 matrix Ã has off-diagonal entries RN₃₂(−c_ij) and diagonal
/// ã_ii ≤ (s² − ρ − ρ₃₂) − c_ii (each step rounded downward, then rounded
/// down to binary32). Write C′ for C with its off-diagonal replaced by
/// −ã_ij: ‖C′ − C‖₂ ≤ ρ₃₂ (see [`binary32_conversion_radius`]), so
/// ‖C′ − SᵀS‖₂ ≤ ρ + ρ₃₂ (triangle inequality), and Ã is exactly the matrix
/// [`certify_upper_measured`](super::pd_upper::certify_upper_measured) factors for (C′, ρ + ρ₃₂).
/// If the binary32 factorization of Ã runs to completion with factor L,
/// ‖|L|‖₂² ≤ r ([`abs_lower_norm_sq_up_f32`]) and c ≥ β·r + n·ν with binary32's
/// constants ([`measured_shift_binary32`]), then Ã + cI ≻ 0
/// (proofs/theories/Cholesky.v, `rump_measured_posdef_binary32`, n ≤ 2²¹:
/// the binary64 criterion `rump_measured_posdef` proved once for every
/// binary format and instantiated with prec = 24, emin = −149). So
/// (s² + c − ρ − ρ₃₂)I − C′ ≻ 0, λ_max(SᵀS) < s² + c, and σ(S) < s′ with
/// s′ = √(s² + c) rounded upward (proofs/theories/Certificate.v,
/// `pd_upper_certificate`; proofs/theories/Strict.v, `posdef_strict_bound`).
///
/// # Floating-point assumptions
/// The factorization ([`cholesky_lower_in_place_f32_with`]) performs IEEE
/// binary32 operations, round to nearest, no flush-to-zero of subnormals,
/// with faer's f32 multiply summing each entry's products in some order
/// (FMA allowed) — the assumptions of the binary64 path, for binary32.
/// Everything else (C, ρ, ρ₃₂, r, c, s′) is binary64 rounded in the safe
/// direction (the factor's entries widen to binary64 exactly).
///
/// # When it helps
/// The allowance β·r grows like 2nu₃₂·‖|L|‖₂²: measured on random matrices
/// it costs σ about 2e-4 (relative) at n = 256, 2.5e-3 at n = 1024 and
/// 3.6e-2 at n = 4096, so it serves widths above those (the refinement
/// picks it only then, see [`certificate_floor`](super::refine::certificate_floor)).
pub fn certify_upper_binary32(
    gram: &GramWithError,
    s: f64,
    threads: usize,
) -> Result<PdCertificate, PdFailure> {
    let n = check_hypotheses(gram, s, MAX_BINARY32_DIM)?;
    let radius = rounding::add_up(gram.radius, binary32_conversion_radius(gram));
    if !radius.is_finite() {
        // A non-finite Gram entry: no diagonal passes s² − ρ′ − c_ii ≥ 0.
        return Err(PdFailure::DiagonalTooLarge);
    }
    let mut a = negated_shifted_gram_f32(gram, s, radius)?;
    let max_diag = (0..n).map(|i| a[(i, i)] as f64).fold(0.0f64, f64::max);
    if let Err(pivot) = cholesky_lower_in_place_f32_with(a.as_mut(), threads) {
        return Err(PdFailure::NotPositive { pivot });
    }
    let r = abs_lower_norm_sq_up_f32(a.as_ref(), SCHUR_POWER_STEPS);
    let bound = shifted_bound(s, measured_shift_binary32(n, r, max_diag), n)?;
    Ok(PdCertificate {
        bound,
        factor: Factor::Binary32(a),
    })
}

/// The binary32 matrix Ã of [`certify_upper_binary32`], lower triangle:
/// ã_ij = RN₃₂(−c_ij) below the diagonal, ã_ii = (s² − ρ′) − c_ii rounded
/// downward in binary64 and then down to binary32 (ρ′ = the total radius).
fn negated_shifted_gram_f32(
    gram: &GramWithError,
    s: f64,
    radius: f64,
) -> Result<Mat<f32>, PdFailure> {
    let n = gram.dim();
    let diagonal = ShiftedDiagonal::new(s, radius);
    let mut a = Mat::<f32>::zeros(n, n);
    for j in 0..n {
        let src = column(gram.lower.as_ref().col(j));
        let d = diagonal.entry(src[j])?;
        let dst = crate::columns::column_mut(a.as_mut().col_mut(j));
        dst[j] = f32_down(d);
        for (x, &c) in dst[j + 1..].iter_mut().zip(&src[j + 1..n]) {
            // `as` rounds to nearest, ties to even (an overflow would give
            // ±∞, which the factorization reports as a failed pivot).
            *x = (-c) as f32;
        }
    }
    Ok(a)
}

/// The largest binary32 number ≤ x, for x ≥ 0 (f32::MAX above the binary32
/// range).
fn f32_down(x: f64) -> f32 {
    let f = x as f32;
    if f as f64 > x {
        // f > x ≥ 0, so f > 0 and its predecessor is the next smaller float.
        f32::from_bits(f.to_bits() - 1)
    } else {
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_down_to_binary32() {
        for x in [
            0.0,
            1.0,
            0.1,
            1e-40,
            1e-45,
            3.0e38,
            1.0 + 1e-9,
            123456.789,
            1e300,
        ] {
            let f = f32_down(x);
            assert!(f as f64 <= x, "{x}: {f}");
            // No binary32 number lies strictly between f and x.
            if f < f32::MAX {
                let next = f32::from_bits(f.to_bits() + 1);
                assert!(next as f64 > x, "{x}: {f} is not the largest below");
            }
        }
    }

    #[test]
    fn eta_is_the_smallest_binary32_subnormal() {
        assert_eq!(BINARY32.eta, f32::from_bits(1) as f64);
        assert_eq!(BINARY32.unit_roundoff, f32::EPSILON as f64 / 2.0);
    }
}
