//! Golub–Kahan–Lanczos bidiagonalization with full reorthogonalization: a
//! matrix-free estimate of σ₁(A) and its singular vectors (no guarantee by
//! itself; [`crate::certify`] turns it into bounds).

use crate::error::{Error, Result};
use crate::estimate::power::norm;
use crate::operator::LinearOperator;
use crate::random::Rng;
use crate::rounding::UNIT_ROUNDOFF;
use faer::{Accum, ColMut, ColRef, MatRef, Par};

/// Options of [`golub_kahan`].
#[derive(Debug, Clone, PartialEq)]
pub struct LanczosOptions {
    /// Upper limit on the number of bidiagonalization steps (each step is one
    /// `apply` and one `apply_transpose`). Also capped at n = `ncols`, where
    /// the Krylov space is the whole space.
    pub max_steps: usize,
    /// Relative tolerance of the stopping rule (see [`golub_kahan`]); `0`
    /// runs exactly `max_steps` steps unless the iteration breaks down.
    pub tol: f64,
    /// Seed of the random start vector (uniform on the unit sphere), used
    /// when `start` is `None`.
    pub seed: u64,
    /// Explicit start vector v₁ (length `ncols`, nonzero, finite); it is
    /// normalized before use.
    pub start: Option<Vec<f64>>,
}

impl Default for LanczosOptions {
    /// 300 steps, tolerance 1e-12, seed 0, random start.
    fn default() -> Self {
        Self {
            max_steps: 300,
            tol: 1e-12,
            seed: 0,
            start: None,
        }
    }
}

/// Result of [`golub_kahan`].
#[derive(Debug, Clone)]
pub struct LanczosResult {
    /// The largest Ritz value θ = σ₁(B_k) of the bidiagonal matrix: an
    /// estimate of σ₁(A) (in exact arithmetic θ ≤ σ₁(A)).
    pub sigma: f64,
    /// Unit right Ritz vector y = V_k s (length `ncols`).
    pub right: Vec<f64>,
    /// Unit left Ritz vector x = U_k p (length `nrows`).
    pub left: Vec<f64>,
    /// Number of bidiagonalization steps k performed.
    pub steps: usize,
    /// Residual estimate β_k·|p_k| = ‖Aᵀx − θy‖ (in exact arithmetic; A y = θ x
    /// holds exactly there).
    pub residual: f64,
}

/// Golub–Kahan–Lanczos bidiagonalization of A with full reorthogonalization
/// of both bases (G. Golub and W. Kahan, SIAM J. Numer. Anal. Ser. B 2(2),
/// 1965; Golub & Van Loan, *Matrix Computations*, 4th ed., Alg. 10.4.1).
///
/// # Math
/// From a unit v₁ it builds orthonormal V_k = [v₁ … v_k], U_k = [u₁ … u_k] and
/// the upper bidiagonal B_k (diagonal α_j, superdiagonal β_j) with
/// A V_k = U_k B_k and Aᵀ U_k = V_k B_kᵀ + β_k v_{k+1} e_kᵀ:
/// α_j u_j = A v_j − β_{j−1} u_{j−1}, β_j v_{j+1} = Aᵀ u_j − α_j v_j.
/// span V_k is the Krylov space K_k(AᵀA, v₁), and the singular values of B_k
/// are the Ritz values of AᵀA on it (squared), so θ = σ₁(B_k) is the
/// Rayleigh–Ritz estimate of σ₁(A) from k products with AᵀA.
/// Each new vector is orthogonalized against the whole basis by two passes
/// of classical Gram–Schmidt ("twice is enough", Giraud, Langou, Rozložník,
/// Comput. Math. Appl. 50, 2005), written as matrix–vector products.
///
/// θ is computed at every step by bisection on the Golub–Kahan tridiagonal
/// matrix (zero diagonal, off-diagonal α₁, β₁, α₂, …; its eigenvalues are
/// ±σᵢ(B_k)) with Sturm counts, O(k) per count; the singular vectors of B_k
/// are computed once at the end (and for the residual test) with nalgebra's
/// SVD.
///
/// # Stopping rule
/// Stop after `max_steps` steps, at breakdown (α_j or β_j below
/// 200·u·‖B_k‖ — an invariant subspace has been found and θ is exact up to
/// rounding), or when the top Ritz value changed by at most `tol·θ` in two
/// consecutive steps *and* the residual estimate β_k|p_k| ≤ √tol·θ (for a
/// simple σ₁ with relative gap δ this makes the error of θ about tol/(4δ)).
/// This is an estimate, not a certificate.
///
/// # Errors
/// [`Error::Empty`] for an operator with a zero dimension,
/// [`Error::InvalidOption`] for `max_steps == 0`, a negative/NaN `tol`, or a
/// zero/non-finite start vector, [`Error::ShapeMismatch`] for a start vector
/// of the wrong length, [`Error::EstimatorFailed`] if the iteration produced
/// non-finite numbers (an operator whose norm overflows).
///
/// A zero operator gives σ = 0 (with the start vector and the first unit
/// vector as singular vectors); callers that need certificates should treat
/// rank 0 separately.
///
/// ```
/// use lipcert::{DenseMatrix, estimate::lanczos::{golub_kahan, LanczosOptions}};
/// let w = DenseMatrix::from_fn(30, 20, |i, j| 1.0 / (1.0 + i as f64 + j as f64)).unwrap();
/// let r = golub_kahan(&w, &LanczosOptions::default()).unwrap();
/// let exact = lipcert::estimate::svd::faer_top(&w).unwrap().sigma;
/// assert!((r.sigma - exact).abs() <= 1e-12 * exact);
/// ```
pub fn golub_kahan<A: LinearOperator + ?Sized>(
    op: &A,
    options: &LanczosOptions,
) -> Result<LanczosResult> {
    let (m, n) = (op.nrows(), op.ncols());
    if m == 0 || n == 0 {
        return Err(Error::Empty { rows: m, cols: n });
    }
    if options.max_steps == 0 {
        return Err(Error::InvalidOption(
            "Lanczos max_steps must be at least 1".into(),
        ));
    }
    if options.tol.is_nan() || options.tol < 0.0 {
        return Err(Error::InvalidOption(format!(
            "Lanczos tolerance {} must be a nonnegative number",
            options.tol
        )));
    }
    let v1 = start_vector(n, options)?;
    // At most n steps: then V spans ℝⁿ. Once j ≥ m, U spans ℝᵐ and α_j = 0
    // is forced (the extra column of B still carries β_{j−1}).
    let cap = options.max_steps.min(n);

    // Column-major bases: V is n × (cap + 1), U is m × cap.
    let mut vbasis = vec![0.0; n * (cap + 1)];
    let mut ubasis = vec![0.0; m * cap];
    vbasis[..n].copy_from_slice(&v1);
    let mut alpha: Vec<f64> = Vec::with_capacity(cap);
    let mut beta: Vec<f64> = Vec::with_capacity(cap);
    let mut coeffs = vec![0.0; cap + 1];
    let mut u = vec![0.0; m];
    let mut v = vec![0.0; n];
    let mut theta = 0.0;
    let mut norm_estimate = 0.0f64;
    let mut quiet_steps = 0;
    let mut last_residual = f64::INFINITY;

    for j in 0..cap {
        // u = A v_j − β_{j−1} u_{j−1}, orthogonalized against U_{<j}.
        let a = if j < m {
            op.apply(&vbasis[j * n..(j + 1) * n], &mut u);
            reorthogonalize(&ubasis[..m * j], m, j, &mut u, &mut coeffs);
            norm(&u)
        } else {
            0.0
        };
        if !a.is_finite() {
            return Err(non_finite("A·v"));
        }
        norm_estimate = norm_estimate.max(a);
        let breakdown_alpha = a <= breakdown_threshold(norm_estimate);
        if breakdown_alpha {
            // A v_j lies in span U_{<j} (or is zero): keep α_j = 0 with a zero
            // column u_j, so B still records A v_j = β_{j−1} u_{j−1}.
            alpha.push(0.0);
        } else {
            alpha.push(a);
            let col = &mut ubasis[j * m..(j + 1) * m];
            col.iter_mut().zip(&u).for_each(|(c, x)| *c = x / a);
        }

        // v = Aᵀ u_j − α_j v_j, orthogonalized against V_{≤j}.
        let b = if breakdown_alpha {
            0.0
        } else {
            op.apply_transpose(&ubasis[j * m..(j + 1) * m], &mut v);
            reorthogonalize(&vbasis[..n * (j + 1)], n, j + 1, &mut v, &mut coeffs);
            let b = norm(&v);
            if !b.is_finite() {
                return Err(non_finite("Aᵀ·u"));
            }
            b
        };
        norm_estimate = norm_estimate.max(b);
        let breakdown_beta = j + 1 >= n || b <= breakdown_threshold(norm_estimate);
        beta.push(if breakdown_beta { 0.0 } else { b });

        let new_theta = bidiagonal_top_singular_value(&alpha, &beta[..j]);
        let steps = j + 1;
        if breakdown_alpha || breakdown_beta || steps == cap {
            return finish(&vbasis, &ubasis, n, m, &alpha, &beta, steps);
        }
        let change = (new_theta - theta).abs();
        theta = new_theta;
        if options.tol > 0.0 && j > 0 && change <= options.tol * theta {
            quiet_steps += 1;
        } else {
            quiet_steps = 0;
        }
        if quiet_steps >= 2 {
            // Only now pay for the small SVD to get the residual estimate.
            let (_, _, p) = bidiagonal_top_triplet(&alpha, &beta[..j])?;
            last_residual = b * p[j].abs();
            if last_residual <= options.tol.sqrt() * theta {
                return finish(&vbasis, &ubasis, n, m, &alpha, &beta, steps);
            }
        }
        let next = &mut vbasis[(j + 1) * n..(j + 2) * n];
        next.iter_mut().zip(&v).for_each(|(c, x)| *c = x / b);
    }
    // Unreachable: the loop always returns at steps == cap.
    Err(Error::EstimatorFailed(format!(
        "Lanczos ended without a result (last residual {last_residual:e})"
    )))
}

/// Builds the result from the first `k` basis vectors and B_k.
fn finish(
    vbasis: &[f64],
    ubasis: &[f64],
    n: usize,
    m: usize,
    alpha: &[f64],
    beta: &[f64],
    k: usize,
) -> Result<LanczosResult> {
    let (theta, s, p) = bidiagonal_top_triplet(&alpha[..k], &beta[..k - 1])?;
    let residual = beta[k - 1] * p[k - 1].abs();
    let mut right = vec![0.0; n];
    let mut left = vec![0.0; m];
    combine(vbasis, n, &s, &mut right);
    combine(ubasis, m, &p, &mut left);
    let rn = norm(&right);
    let ln = norm(&left);
    if rn > 0.0 {
        right.iter_mut().for_each(|x| *x /= rn);
    } else {
        right.copy_from_slice(&vbasis[..n]);
    }
    if ln > 0.0 {
        left.iter_mut().for_each(|x| *x /= ln);
    } else {
        left.iter_mut().for_each(|x| *x = 0.0);
        left[0] = 1.0;
    }
    if !theta.is_finite() {
        return Err(non_finite("Ritz value"));
    }
    Ok(LanczosResult {
        sigma: theta,
        right,
        left,
        steps: k,
        residual,
    })
}

fn non_finite(what: &str) -> Error {
    Error::EstimatorFailed(format!(
        "Lanczos produced a non-finite {what}; scale the operator so its norm fits in f64"
    ))
}

/// Below this, a new α or β counts as zero (breakdown): 200·u times the
/// largest α/β seen so far, a lower estimate of ‖A‖. After two Gram–Schmidt
/// passes a vector inside the span keeps a remainder of order u·‖A‖.
fn breakdown_threshold(norm_estimate: f64) -> f64 {
    200.0 * UNIT_ROUNDOFF * norm_estimate
}

fn start_vector(n: usize, options: &LanczosOptions) -> Result<Vec<f64>> {
    match &options.start {
        None => Ok(Rng::new(options.seed).unit_vector(n)),
        Some(s) => {
            if s.len() != n {
                return Err(Error::ShapeMismatch {
                    what: "Lanczos start vector length (ncols)",
                    expected: n,
                    got: s.len(),
                });
            }
            let sn = norm(s);
            if !(sn > 0.0 && sn.is_finite()) {
                return Err(Error::InvalidOption(
                    "Lanczos start vector must be finite and nonzero".into(),
                ));
            }
            Ok(s.iter().map(|x| x / sn).collect())
        }
    }
}

/// w ← (I − Q Qᵀ)² w for the `count` orthonormal columns Q (column-major,
/// `dim` rows): two passes of classical Gram–Schmidt as matrix–vector
/// products.
fn reorthogonalize(basis: &[f64], dim: usize, count: usize, w: &mut [f64], coeffs: &mut [f64]) {
    if count == 0 {
        return;
    }
    let q = MatRef::from_column_major_slice(basis, dim, count);
    let h = &mut coeffs[..count];
    for _ in 0..2 {
        faer::linalg::matmul::matmul(
            ColMut::from_slice_mut(h),
            Accum::Replace,
            q.transpose(),
            ColRef::from_slice(w),
            1.0,
            Par::Seq,
        );
        faer::linalg::matmul::matmul(
            ColMut::from_slice_mut(w),
            Accum::Add,
            q,
            ColRef::from_slice(h),
            -1.0,
            Par::Seq,
        );
    }
}

/// out = Q c for the column-major `dim × c.len()` matrix Q.
fn combine(basis: &[f64], dim: usize, c: &[f64], out: &mut [f64]) {
    let q = MatRef::from_column_major_slice(&basis[..dim * c.len()], dim, c.len());
    faer::linalg::matmul::matmul(
        ColMut::from_slice_mut(out),
        Accum::Replace,
        q,
        ColRef::from_slice(c),
        1.0,
        Par::Seq,
    );
}

/// σ₁ of the k × k upper bidiagonal matrix with diagonal `alpha` (length k)
/// and superdiagonal `beta` (length k − 1), by bisection on the Golub–Kahan
/// tridiagonal matrix T (2k × 2k, zero diagonal, off-diagonal α₁, β₁, α₂, …,
/// α_k), whose eigenvalues are ±σᵢ. The number of eigenvalues of T below x is
/// the number of negative pivots of the LDLᵀ factorization of T − xI
/// (Sylvester's law of inertia), computed by the recurrence
/// d₁ = −x, dᵢ = −x − e²_{i−1}/d_{i−1}.
pub(crate) fn bidiagonal_top_singular_value(alpha: &[f64], beta: &[f64]) -> f64 {
    let k = alpha.len();
    debug_assert_eq!(beta.len() + 1, k);
    let mut e: Vec<f64> = Vec::with_capacity(2 * k - 1);
    for i in 0..k {
        e.push(alpha[i]);
        if i + 1 < k {
            e.push(beta[i]);
        }
    }
    let scale = e.iter().fold(0.0f64, |a, x| a.max(x.abs()));
    if scale == 0.0 {
        return 0.0;
    }
    let e2: Vec<f64> = e.iter().map(|x| (x / scale) * (x / scale)).collect();
    let dim = 2 * k;
    // Gershgorin: every eigenvalue of T/scale lies in [−g, g].
    let mut g = 0.0f64;
    for i in 0..dim {
        let left = if i > 0 { e[i - 1].abs() } else { 0.0 };
        let right = if i < dim - 1 { e[i].abs() } else { 0.0 };
        g = g.max((left + right) / scale);
    }
    let pivmin = f64::MIN_POSITIVE;
    let below = |x: f64| -> usize {
        let mut count = 0;
        let mut d = -x;
        if d.abs() < pivmin {
            d = -pivmin;
        }
        if d < 0.0 {
            count += 1;
        }
        for ei2 in &e2 {
            d = -x - ei2 / d;
            if d.abs() < pivmin {
                d = -pivmin;
            }
            if d < 0.0 {
                count += 1;
            }
        }
        count
    };
    let (mut lo, mut hi) = (0.0f64, g * (1.0 + 1e-12) + pivmin);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if below(mid) == dim {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    0.5 * (lo + hi) * scale
}

/// (σ₁, s, p) of the upper bidiagonal B (as in
/// [`bidiagonal_top_singular_value`]) with B s ≈ σ₁ p, s and p unit vectors.
///
/// σ₁ comes from bisection (accurate to a few ulps); s and p from faer's
/// symmetric eigensolver applied to the Golub–Kahan tridiagonal matrix T,
/// whose eigenvector for +σ₁ is (s₁, p₁, s₂, p₂, …)/√2. (nalgebra's SVD of
/// the small bidiagonal was observed to return a singular value 6·10⁻⁵ too
/// large when the last diagonal entry was ~10⁻¹³ of the others, so it is not
/// used here.)
fn bidiagonal_top_triplet(alpha: &[f64], beta: &[f64]) -> Result<(f64, Vec<f64>, Vec<f64>)> {
    let k = alpha.len();
    let scale = alpha.iter().chain(beta).fold(0.0f64, |a, x| a.max(x.abs()));
    let theta = bidiagonal_top_singular_value(alpha, beta);
    if scale == 0.0 {
        let mut unit = vec![0.0; k];
        unit[0] = 1.0;
        return Ok((0.0, unit.clone(), unit));
    }
    let dim = 2 * k;
    let t = faer::Mat::<f64>::from_fn(dim, dim, |i, j| {
        let (lo, hi) = if i < j { (i, j) } else { (j, i) };
        if hi != lo + 1 {
            0.0
        } else if lo % 2 == 0 {
            alpha[lo / 2] / scale
        } else {
            beta[lo / 2] / scale
        }
    });
    let eig = t.self_adjoint_eigen(faer::Side::Lower).map_err(|e| {
        Error::EstimatorFailed(format!("eigensolver on the Lanczos bidiagonal: {e:?}"))
    })?;
    let z = eig.U().col(dim - 1);
    let mut s: Vec<f64> = (0..k).map(|i| z[2 * i]).collect();
    let mut p: Vec<f64> = (0..k).map(|i| z[2 * i + 1]).collect();
    for x in [&mut s, &mut p] {
        let nx = norm(x);
        if nx > 0.0 {
            x.iter_mut().for_each(|v| *v /= nx);
        } else {
            x[0] = 1.0;
        }
    }
    Ok((theta, s, p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::DenseMatrix;

    #[test]
    fn bisection_matches_svd_of_small_bidiagonals() {
        let cases: [(&[f64], &[f64]); 4] = [
            (&[3.0], &[]),
            (&[1.0, 2.0], &[0.5]),
            (&[1e-200, 3e-200, 2e-200], &[1e-200, 4e-200]),
            (&[0.0, 1.0, 0.0], &[2.0, 0.0]),
        ];
        for (a, b) in cases {
            let bis = bidiagonal_top_singular_value(a, b);
            let svd = nalgebra::DMatrix::from_fn(a.len(), a.len(), |i, j| {
                if i == j {
                    a[i]
                } else if j == i + 1 {
                    b[i]
                } else {
                    0.0
                }
            })
            .singular_values()
            .max();
            assert!((bis - svd).abs() <= 1e-14 * svd, "{bis} vs {svd}");
            let (theta, s, p) = bidiagonal_top_triplet(a, b).unwrap();
            assert_eq!(theta, bis);
            assert_residual_small(a, b, theta, &s, &p);
        }
        assert_eq!(bidiagonal_top_singular_value(&[0.0, 0.0], &[0.0]), 0.0);
    }

    /// ‖B s − θ p‖ and ‖Bᵀp − θ s‖ relative to θ.
    fn assert_residual_small(a: &[f64], b: &[f64], theta: f64, s: &[f64], p: &[f64]) {
        let k = a.len();
        let mut r1 = 0.0f64;
        let mut r2 = 0.0f64;
        for i in 0..k {
            let bs = a[i] * s[i] + if i + 1 < k { b[i] * s[i + 1] } else { 0.0 };
            let btp = a[i] * p[i] + if i > 0 { b[i - 1] * p[i - 1] } else { 0.0 };
            r1 = r1.max((bs - theta * p[i]).abs());
            r2 = r2.max((btp - theta * s[i]).abs());
        }
        assert!(r1 <= 1e-12 * theta && r2 <= 1e-12 * theta, "{r1:e} {r2:e}");
    }

    #[test]
    fn tiny_last_diagonal_entry_keeps_the_top_triplet_accurate() {
        // B_6 from a rank-5 Lanczos run; nalgebra's SVD returned σ₁ = 68.44026
        // here, the true value is 68.4362689949144 (bisection, faer SVD).
        let a = [
            15.517565178177572,
            21.540672523107656,
            12.685719336828392,
            17.42187343214893,
            10.299559895043886,
            2.1757811509983926e-12,
        ];
        let b = [
            48.66421804065841,
            45.87544510100161,
            46.94666241589897,
            62.315613824847176,
            47.70397597543675,
        ];
        let (theta, s, p) = bidiagonal_top_triplet(&a, &b).unwrap();
        let m = faer::Mat::<f64>::from_fn(6, 6, |i, j| {
            if i == j {
                a[i]
            } else if j == i + 1 {
                b[i]
            } else {
                0.0
            }
        });
        let faer_sigma = m.singular_values().unwrap()[0];
        assert!(
            (theta - faer_sigma).abs() <= 1e-13 * faer_sigma,
            "{theta} vs {faer_sigma}"
        );
        assert_residual_small(&a, &b, theta, &s, &p);
    }

    #[test]
    fn rejects_bad_options() {
        let w = DenseMatrix::from_row_major(2, 2, &[1.0, 2.0, 3.0, 4.0]).unwrap();
        let bad = |o: LanczosOptions| golub_kahan(&w, &o).is_err();
        assert!(bad(LanczosOptions {
            max_steps: 0,
            ..Default::default()
        }));
        assert!(bad(LanczosOptions {
            tol: f64::NAN,
            ..Default::default()
        }));
        assert!(bad(LanczosOptions {
            start: Some(vec![1.0]),
            ..Default::default()
        }));
        assert!(bad(LanczosOptions {
            start: Some(vec![0.0, 0.0]),
            ..Default::default()
        }));
    }

    #[test]
    fn zero_operator_and_rank_one() {
        let z = DenseMatrix::from_row_major(3, 2, &[0.0; 6]).unwrap();
        let r = golub_kahan(&z, &LanczosOptions::default()).unwrap();
        assert_eq!(r.sigma, 0.0);
        assert_eq!(r.left.iter().map(|x| x * x).sum::<f64>(), 1.0);
        // u vᵀ with ‖u‖ = 3, ‖v‖ = 7: σ = 21; the Krylov space K₂(WᵀW, v₁) is invariant.
        let u = [1.0, 2.0, 2.0];
        let v = [2.0, 3.0, 6.0];
        let w = DenseMatrix::from_fn(3, 3, |i, j| u[i] * v[j]).unwrap();
        let r = golub_kahan(&w, &LanczosOptions::default()).unwrap();
        assert!((r.sigma - 21.0).abs() < 1e-13, "{}", r.sigma);
        assert!(r.steps <= 2, "{}", r.steps);
    }
}
