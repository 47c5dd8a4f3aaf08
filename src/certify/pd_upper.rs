//! Rigorous upper bound σ(S) < s from a floating-point Cholesky
//! positive-definiteness certificate of s²I − SᵀS.

use super::abs_norm::{abs_lower_norm_sq_up, SCHUR_POWER_STEPS};
use super::cholesky::cholesky_lower_in_place_with;
use super::gram::GramWithError;
use crate::rounding::{self, ETA};
use faer::Mat;

/// Why a candidate bound s could not be certified.
#[derive(Debug, Clone, PartialEq)]
pub enum PdFailure {
    /// s² is below a diagonal entry of SᵀS plus the error radius: s < σ
    /// is possible, certainly not certifiable.
    DiagonalTooLarge,
    /// The shifted Cholesky factorization broke down at this pivot.
    NotPositive {
        /// Index of the failing pivot.
        pivot: usize,
    },
    /// The dimension exceeds the bound of the certificate's theorem: 2²⁴
    /// for the binary64 ones (`rump_cholesky_posdef_rust`,
    /// `rump_measured_posdef_rust`), 2²¹ for the binary32 one
    /// (`rump_measured_posdef_binary32`).
    TooLarge,
    /// A hypothesis of the theorem fails for the arguments (a negative,
    /// NaN or infinite candidate s, a negative or NaN error radius): no
    /// certificate is attempted.
    InvalidArgument(&'static str),
}

/// The hypotheses of `pd_upper_certificate` on the candidate and the radius,
/// checked at the entry of every public certificate function: 0 ≤ s < ∞ (the
/// theorem concludes σ < s from s²I − SᵀS ≻ 0, which for s < 0 would still
/// hold while σ < s is false) and 0 ≤ ρ (a bound on a norm); ρ = +∞ is
/// allowed and simply fails the diagonal test.
pub fn check_candidate(s: f64, radius: f64) -> Result<(), PdFailure> {
    if !(s >= 0.0 && s.is_finite()) {
        return Err(PdFailure::InvalidArgument(
            "the candidate bound s must be finite and nonnegative",
        ));
    }
    if radius.is_nan() || radius < 0.0 {
        return Err(PdFailure::InvalidArgument(
            "the Gram error radius must be nonnegative (not NaN)",
        ));
    }
    Ok(())
}

/// A successful certificate: σ(S) < s, and the Cholesky factor of the shifted
/// matrix (useful for inverse iteration).
#[derive(Debug, Clone)]
pub struct PdCertificate {
    /// The certified bound s.
    pub bound: f64,
    /// Lower-triangular factor L with L·Lᵀ ≈ Ã, where Ã ≈ s²I − fl(SᵀS) minus
    /// the rounding shifts (only the lower triangle is meaningful).
    pub factor: Factor,
}

/// A certified Cholesky factor, in the format it was computed in.
#[derive(Debug, Clone)]
pub enum Factor {
    /// Computed in binary64.
    Binary64(Mat<f64>),
    /// Computed in binary32 ([`certify_upper_binary32`](super::binary32_upper::certify_upper_binary32)).
    Binary32(Mat<f32>),
}

impl Factor {
    /// The lower triangle of L in binary64 (binary32 entries widen exactly;
    /// a binary32 factor is copied, with zeros above the diagonal).
    pub fn to_binary64(&self) -> std::borrow::Cow<'_, Mat<f64>> {
        match self {
            Factor::Binary64(l) => std::borrow::Cow::Borrowed(l),
            Factor::Binary32(l) => {
                std::borrow::Cow::Owned(Mat::from_fn(l.nrows(), l.ncols(), |i, j| {
                    if i >= j {
                        f64::from(l[(i, j)])
                    } else {
                        0.0
                    }
                }))
            }
        }
    }
}

/// Certifies σ(S) < s, where `gram` holds C = fl(SᵀS) and ρ ≥ ‖C − SᵀS‖₂.
///
/// # Theorem
/// σ(S) < s ⇔ s²I − SᵀS ≻ 0 (proof: proofs/theories/Certificate.v,
/// `psd_iff_norm_bound`). Write s²I − SᵀS = A + (ρI + C − SᵀS) + D with the
/// floating-point matrix A (off-diagonal −c_ij, diagonal
/// a_ii ≤ s² − ρ − c_ii rounded downward) and D ⪰ 0 diagonal; the middle term is
/// ⪰ 0 because ‖C − SᵀS‖₂ ≤ ρ. So A ≻ 0 suffices. A ≻ 0 is certified by
/// Rump's criterion (S. M. Rump, *Verification of positive definiteness*,
/// BIT 46 (2006), Thm 2.3/Cor 2.4; formal version in ValidSDP with the
/// improved constant of Rump & Jeannerod, SIMAX 35 (2014)): if A is symmetric
/// with a_ii ≥ 0, 4(n+1)u < 1,
/// c ≥ (n+1)u/(1 − 2(n+1)u)·tr(A) + 4ηn(2(n+1) + max a_ii), and the
/// floating-point Cholesky factorization of Ã (Ã = A off the diagonal,
/// ã_ii ≤ a_ii − c) runs to completion, then A ≻ 0.
///
/// We use the *larger* constant c = 2γ_{n+2}·tr(A) + 8ηn(2(n+1) + max a_ii),
/// which dominates both Rump's original (γ_{n+1}/(1 − γ_{n+1})·tr) and the
/// improved constant, at a cost of about (n+2)u·tr(A) in tightness.
/// Every quantity is rounded in the safe direction.
///
/// Proof of the criterion with our constant (any summation order — so
/// blocked, vectorized and multi-threaded factorizations alike — FMA
/// allowed, n ≤ 2²⁴): proofs/theories/Cholesky.v, `rump_cholesky_posdef`, `rump_cholesky_posdef_rust`
/// and of the whole certificate argument: proofs/theories/Certificate.v, `pd_upper_certificate`
/// (s²I − SᵀS ≻ 0 ⇒ σ(S) < s: proofs/theories/Strict.v, `posdef_strict_bound`).
///
/// # Floating-point assumptions
/// IEEE-754 binary64, round to nearest; the factorization is
/// [`cholesky_lower_in_place`](super::cholesky::cholesky_lower_in_place) (the standard algorithm; see its module doc).
///
/// # Hypotheses checked at entry
/// 0 ≤ s < ∞ and 0 ≤ ρ ([`check_candidate`]), n ≤ 2²⁴, and the lower
/// triangle of C square; a non-finite entry of C fails the diagonal test
/// or a pivot (every computed entry must be finite: see
/// [`cholesky_lower_in_place`](super::cholesky::cholesky_lower_in_place)).
pub fn certify_upper(gram: &GramWithError, s: f64) -> Result<PdCertificate, PdFailure> {
    certify_upper_with(gram, s, 1)
}

/// [`certify_upper`] with the factorization's products split over `threads`
/// threads (the same theorem: Rump's criterion holds for any summation
/// order; one thread is the sequential, bit-reproducible code).
pub fn certify_upper_with(
    gram: &GramWithError,
    s: f64,
    threads: usize,
) -> Result<PdCertificate, PdFailure> {
    let (mut a, trace, max_diag) = negated_shifted_gram(gram, s)?;
    let n = gram.dim();
    let c = rump_shift(n, trace, max_diag);
    for i in 0..n {
        let d = rounding::sub_down(a[(i, i)], c);
        if d.is_nan() || d <= 0.0 {
            return Err(PdFailure::NotPositive { pivot: i });
        }
        a[(i, i)] = d;
    }
    match cholesky_lower_in_place_with(a.as_mut(), threads) {
        Ok(()) => Ok(PdCertificate {
            bound: s,
            factor: Factor::Binary64(a),
        }),
        Err(pivot) => Err(PdFailure::NotPositive { pivot }),
    }
}

/// The hypotheses every certificate checks before it factors: s and ρ
/// ([`check_candidate`]), a square C, and n ≤ the theorem's dimension
/// bound `max_dim`; returns n.
pub(crate) fn check_hypotheses(
    gram: &GramWithError,
    s: f64,
    max_dim: usize,
) -> Result<usize, PdFailure> {
    check_candidate(s, gram.radius)?;
    if gram.lower.nrows() != gram.lower.ncols() {
        return Err(PdFailure::InvalidArgument("the Gram matrix must be square"));
    }
    let n = gram.dim();
    if n > max_dim {
        return Err(PdFailure::TooLarge);
    }
    Ok(n)
}

/// The diagonal every certificate factors: a_ii = (s² − ρ) − c_ii, each step
/// rounded downward (so a_ii never exceeds the exact value).
pub(crate) struct ShiftedDiagonal {
    /// s² − ρ rounded downward.
    top: f64,
}

impl ShiftedDiagonal {
    /// For the candidate s and the radius ρ.
    pub(crate) fn new(s: f64, radius: f64) -> Self {
        Self {
            top: rounding::sub_down(rounding::mul_down(s, s), radius),
        }
    }

    /// a_ii for the Gram diagonal entry c_ii; `DiagonalTooLarge` when it is
    /// negative or NaN (s² < c_ii + ρ: σ ≥ s is possible).
    pub(crate) fn entry(&self, c_ii: f64) -> Result<f64, PdFailure> {
        let d = rounding::sub_down(self.top, c_ii);
        if d.is_nan() || d < 0.0 {
            return Err(PdFailure::DiagonalTooLarge);
        }
        Ok(d)
    }
}

/// s′ = √(s² + c) rounded upward, the bound a shift c ≥ 0 proved sufficient
/// certifies (`NotPositive` at pivot n when it overflows).
pub(crate) fn shifted_bound(s: f64, c: f64, n: usize) -> Result<f64, PdFailure> {
    let bound = rounding::sqrt_up(rounding::add_up(rounding::mul_up(s, s), c));
    if bound.is_finite() {
        Ok(bound)
    } else {
        Err(PdFailure::NotPositive { pivot: n })
    }
}

/// The floating-point matrix A with off-diagonal −c_ij and diagonal
/// a_ii = (s² − ρ) − c_ii rounded downward (each step), with tr(A) and
/// max a_ii rounded upward; checks the hypotheses shared by both binary64
/// certificates (s and ρ, square C, n ≤ 2²⁴, every a_ii ≥ 0).
fn negated_shifted_gram(gram: &GramWithError, s: f64) -> Result<(Mat<f64>, f64, f64), PdFailure> {
    let n = check_hypotheses(gram, s, MAX_CERTIFIED_DIM)?;
    let diagonal = ShiftedDiagonal::new(s, gram.radius);
    let mut a = gram.lower.clone();
    let mut trace = 0.0f64;
    let mut max_diag = 0.0f64;
    for i in 0..n {
        let d = diagonal.entry(a[(i, i)])?;
        a[(i, i)] = d;
        trace = rounding::add_up(trace, d);
        max_diag = max_diag.max(d);
        for r in i + 1..n {
            a[(r, i)] = -a[(r, i)];
        }
    }
    Ok((a, trace, max_diag))
}

/// Certifies σ(S) < s′ for an s′ slightly above the candidate s, with the
/// shift measured after the factorization instead of assumed before it:
/// the a-posteriori form of [`certify_upper`], far tighter for large n.
///
/// # Theorem
/// Let A be the floating-point matrix of [`certify_upper`] (off-diagonal
/// −c_ij, a_ii ≤ s² − ρ − c_ii), factored *without* a shift. If the
/// factorization runs to completion with factor L, ‖|L|‖₂² ≤ r
/// ([`abs_lower_norm_sq_up`], the weighted Schur test) and
/// c ≥ β·r + n·ν with β = 2(nu + u)(1 + 4nu + 4u), ν = 2η(n + 1 + max a_ii)
/// ([`measured_shift`]), then A + cI ≻ 0 (proofs/theories/Cholesky.v,
/// `rump_measured_posdef_rust`, n ≤ 2²⁴: the componentwise backward error
/// |LLᵀ − A| ≤ β|L||L|ᵀ + ν of Higham, *Accuracy and Stability*, Thm 10.3,
/// with our constants, gives xᵀ(LLᵀ − A)x ≤ (βr + nν)‖x‖²). A + cI has
/// diagonal ≤ (s² + c) − ρ − c_ii, so as in [`certify_upper`]
/// (proofs/theories/Certificate.v, `pd_upper_certificate`;
/// proofs/theories/Strict.v, `posdef_strict_bound`) σ(S) < s′ with
/// s′ = √(s² + c) rounded upward.
///
/// Where Rump's a-priori shift assumes Σᵢ‖lᵢ‖² ≈ tr(A) (≈ n·s² for a
/// spread spectrum), r is measured: on Cholesky factors of s²I − SᵀS of
/// uniform random matrices it was 23·s², 76·s² and 148·s² at n = 512, 2048
/// and 4096, 17–21× below tr(A) (n = 4096: the shift on σ drops from
/// 1.4e-9 to 6.7e-11 relative, below the Gram radius's 2.3e-10).
///
/// # Floating-point assumptions
/// As [`certify_upper`]; r and c are rounded upward.
///
/// # Cost
/// One factorization plus [`SCHUR_POWER_STEPS`] + 1 passes over L.
pub fn certify_upper_measured(
    gram: &GramWithError,
    s: f64,
    threads: usize,
) -> Result<PdCertificate, PdFailure> {
    let (mut a, _trace, max_diag) = negated_shifted_gram(gram, s)?;
    let n = gram.dim();
    if let Err(pivot) = cholesky_lower_in_place_with(a.as_mut(), threads) {
        return Err(PdFailure::NotPositive { pivot });
    }
    let r = abs_lower_norm_sq_up(a.as_ref(), SCHUR_POWER_STEPS);
    let bound = shifted_bound(s, measured_shift(n, r, max_diag), n)?;
    Ok(PdCertificate {
        bound,
        factor: Factor::Binary64(a),
    })
}

/// The a-posteriori shift c = β·r + n·ν of [`certify_upper_measured`],
/// β = 2(nu + u)(1 + 4nu + 4u), ν = 2η(n + 1 + maxdiag), rounded upward.
///
/// Hypotheses of the theorem it serves (Cholesky.v,
/// `rump_measured_posdef_rust`): n ≤ 2²⁴, r ≥ ‖|L|‖₂² ≥ 0 and
/// maxdiag ≥ 0; outside them (or for NaN) the result is +∞.
pub fn measured_shift(n: usize, r: f64, max_diag: f64) -> f64 {
    measured_shift_for(&BINARY64, n, r, max_diag)
}

/// A binary floating-point format the Cholesky factorization runs in, with
/// the largest dimension its a-posteriori criterion is proved for.
pub(crate) struct Format {
    /// The unit roundoff u (2⁻⁵³ for binary64, 2⁻²⁴ for binary32).
    pub unit_roundoff: f64,
    /// The smallest positive subnormal η (2⁻¹⁰⁷⁴, 2⁻¹⁴⁹).
    pub eta: f64,
    /// The dimension bound of the theorem (`rump_measured_posdef_rust`:
    /// 2²⁴; `rump_measured_posdef_binary32`: 2²¹).
    pub max_dim: usize,
}

/// IEEE binary64 (proofs/theories/Cholesky.v, `rump_measured_posdef_rust`).
pub(crate) const BINARY64: Format = Format {
    unit_roundoff: rounding::UNIT_ROUNDOFF,
    eta: ETA,
    max_dim: MAX_CERTIFIED_DIM,
};

/// c = β·r + n·ν with β = 2(nu + u)(1 + 4nu + 4u), ν = 2η(n + 1 + maxdiag)
/// for the format's u and η, rounded upward (every operation is a binary64
/// operation rounded upward; n·u is exact, n < 2⁵³ and u a power of two);
/// +∞ outside the hypotheses (n above the format's bound, r or maxdiag
/// negative or NaN).
pub(crate) fn measured_shift_for(format: &Format, n: usize, r: f64, max_diag: f64) -> f64 {
    if n > format.max_dim || r.is_nan() || r < 0.0 || max_diag.is_nan() || max_diag < 0.0 {
        return f64::INFINITY;
    }
    let nf = n as f64;
    let u = format.unit_roundoff;
    let nu = nf * u;
    let x = rounding::add_up(nu, u);
    let beta = rounding::mul_up(2.0 * x, rounding::add_up(1.0, rounding::mul_up(4.0, x)));
    let nu_abs = rounding::mul_up(2.0 * format.eta, rounding::add_up(nf + 1.0, max_diag));
    rounding::add_up(rounding::mul_up(beta, r), rounding::mul_up(nf, nu_abs))
}

/// Largest dimension for which the shift of [`rump_shift`] is proved
/// sufficient (proof: proofs/theories/Cholesky.v, `rump_cholesky_posdef_rust`).
pub const MAX_CERTIFIED_DIM: usize = 1 << 24;

/// The diagonal shift c = 2γ_{n+2}·tr + 8ηn(2(n+1) + maxdiag), rounded upward
/// (see [`certify_upper`]).
///
/// Hypotheses of the theorem it serves (Cholesky.v,
/// `rump_cholesky_posdef_rust`): n ≤ 2²⁴, tr ≥ 0 and maxdiag ≥ 0 (the
/// diagonal of A is nonnegative). Outside them the result is +∞ (no shift
/// is proved sufficient, so no certificate can succeed); NaN gives +∞ too.
pub fn rump_shift(n: usize, trace: f64, max_diag: f64) -> f64 {
    if n > MAX_CERTIFIED_DIM || trace.is_nan() || trace < 0.0 || max_diag.is_nan() || max_diag < 0.0
    {
        return f64::INFINITY;
    }
    let nf = n as f64;
    let rel = rounding::mul_up(rounding::mul_up(2.0, rounding::gamma(n + 2)), trace);
    let abs = rounding::mul_up(
        rounding::mul_up(8.0 * nf, ETA),
        rounding::add_up(2.0 * (nf + 1.0), max_diag),
    );
    rounding::add_up(rel, abs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::DenseMatrix;

    #[test]
    fn certifies_diagonal_matrix_just_above_its_norm_and_refuses_below() {
        let w = DenseMatrix::from_row_major(3, 3, &[1.5, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.5])
            .unwrap();
        let g = GramWithError::new(&w);
        assert!(certify_upper(&g, 1.5 * (1.0 + 1e-12)).is_ok());
        assert!(certify_upper(&g, 1.5).is_err());
        assert!(certify_upper(&g, 1.4).is_err());
    }

    /// x · 2^k as an integer (x finite, k large enough).
    fn scaled(x: f64, k: i64) -> num_bigint::BigInt {
        let (m, e) = crate::exact::dyadic::decompose(x);
        assert!(e + k >= 0, "scale 2^{k} too small for {x}");
        num_bigint::BigInt::from(m) << ((e + k) as usize)
    }

    /// `measured_shift` (binary64) and `measured_shift_binary32` are at
    /// least the exact β·r + n·ν of `rump_measured_posdef_rust` and
    /// `rump_measured_posdef_binary32`, β = 2(nu + u)(1 + 4nu + 4u),
    /// ν = 2η(n + 1 + M) with the format's u = 2^−p and η = 2^−e, computed in
    /// integers scaled by 2^2400 (every quantity is dyadic; the smallest,
    /// η·M, is ≥ 2^−2148).
    #[test]
    fn measured_shift_dominates_its_exact_formula() {
        use crate::certify::binary32_upper::measured_shift_binary32;
        const K: i64 = 2400;
        let tiny = f64::from_bits(3);
        // (shift, p with u = 2^-p, e with η = 2^-e, dimensions to try)
        type Case = (fn(usize, f64, f64) -> f64, i64, i64, &'static [usize]);
        let binary64: Case = (
            measured_shift,
            53,
            1074,
            &[1, 2, 3, 1000, 4096, 11008, 1 << 24],
        );
        let binary32: Case = (
            measured_shift_binary32,
            24,
            149,
            &[1, 2, 3, 1000, 4096, 11008, 1 << 21],
        );
        for (shift, p, e, dims) in [binary64, binary32] {
            for &n in dims {
                for r in [0.0, tiny, 1.0, 147.8 * 3.0, 1.5e300] {
                    for m in [0.0, tiny, 1.0, 16384.5, 1e300] {
                        let c = shift(n, r, m);
                        if !c.is_finite() {
                            // Only overflow may give +∞ inside the hypotheses.
                            assert!(r > 1e299 || m > 1e299, "u 2^-{p}: n {n} r {r} M {m}");
                            continue;
                        }
                        let nn = num_bigint::BigInt::from(n);
                        // u = 2^-p: scaled, 2^(K-p).
                        let one = num_bigint::BigInt::from(1) << (K as usize);
                        let u = num_bigint::BigInt::from(1) << ((K - p) as usize);
                        let x = (&nn + 1) * &u; // (n + 1)u · 2^K
                        let beta_scaled = (&x * 2) * (&one + &x * 4); // β · 2^(2K)
                        let beta_r = beta_scaled * scaled(r, K); // β r · 2^(3K)
                        let eta = num_bigint::BigInt::from(1) << ((K - e) as usize);
                        let n_plus = (&nn + 1) * &one + scaled(m, K); // (n + 1 + M) · 2^K
                        let n_nu = &nn * eta * 2 * n_plus * &one; // n ν · 2^(3K)
                        let exact = beta_r + n_nu;
                        let computed = scaled(c, K) * &one * &one;
                        assert!(
                            computed >= exact,
                            "u 2^-{p}: n {n} r {r} M {m}: {c} below β r + n ν"
                        );
                    }
                }
            }
            // Above the format's dimension bound no shift is proved.
            assert_eq!(shift(dims[dims.len() - 1] + 1, 1.0, 1.0), f64::INFINITY);
        }
    }

    #[test]
    fn refuses_candidates_outside_the_theorem_hypotheses() {
        // Issue 11 item 13: W = I₂ with s = −2 used to "certify" σ < −2.
        let w = DenseMatrix::from_row_major(2, 2, &[1.0, 0.0, 0.0, 1.0]).unwrap();
        let g = GramWithError::new(&w);
        for s in [
            -2.0,
            -0.0 - 1e-300,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            assert!(
                matches!(certify_upper(&g, s), Err(PdFailure::InvalidArgument(_))),
                "s = {s}"
            );
        }
        let mut bad = g.clone();
        bad.radius = f64::NAN;
        assert!(matches!(
            certify_upper(&bad, 2.0),
            Err(PdFailure::InvalidArgument(_))
        ));
        bad.radius = -1.0;
        assert!(certify_upper(&bad, 2.0).is_err());
        // A non-finite Gram entry never certifies.
        let mut inf = g.clone();
        inf.lower[(1, 0)] = f64::INFINITY;
        assert!(certify_upper(&inf, 1e6).is_err());
        inf.lower[(1, 0)] = f64::NAN;
        assert!(certify_upper(&inf, 1e6).is_err());
        // Shift outside its hypotheses is +∞, never a finite number.
        assert_eq!(rump_shift(MAX_CERTIFIED_DIM + 1, 1.0, 1.0), f64::INFINITY);
        assert_eq!(rump_shift(3, -1.0, 1.0), f64::INFINITY);
        assert_eq!(rump_shift(3, f64::NAN, 1.0), f64::INFINITY);
        assert!(rump_shift(3, 1.0, 1.0).is_finite());
    }
}
