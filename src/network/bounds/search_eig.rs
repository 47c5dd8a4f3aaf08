//! Top eigenpairs for the multiplier search of [`super::multiplier`], by
//! symmetric Lanczos with full reorthogonalization
//! ([`crate::estimate::symmetric_lanczos`]; Golub & Van Loan, *Matrix
//! Computations*, §10.1) on matrix-free products, instead of full
//! eigendecompositions: the search only needs λ_max and its eigenvector.
//!
//! Plain floating point, *search only*: these values choose the multiplier
//! parameters (d, κ), whose rounding cannot harm soundness; every bound is
//! certified afterwards on the explicit matrices. A Ritz value is at most
//! λ_max in exact arithmetic; the iteration stops when it changed by less
//! than [`REL_TOL`] (relative) over two steps, or after [`MAX_STEPS`].

use crate::estimate::symmetric_lanczos::lanczos_top_until;
use faer::linalg::matmul::matmul;
use faer::linalg::triangular_solve::{
    solve_lower_triangular_in_place, solve_upper_triangular_in_place,
};
use faer::{Accum, ColMut, ColRef, Mat, MatRef, Par, Side};

/// Most Lanczos steps per eigenvalue.
pub const MAX_STEPS: usize = 160;

/// Relative change of the top Ritz value (over two steps) that stops the
/// iteration.
pub const REL_TOL: f64 = 1e-12;

/// y ← M x (faer's kernel, sequential).
pub fn matvec(m: MatRef<'_, f64>, x: &[f64], y: &mut [f64]) {
    matmul(
        ColMut::from_slice_mut(y),
        Accum::Replace,
        m,
        ColRef::from_slice(x),
        1.0,
        Par::Seq,
    );
}

/// y ← Mᵀ x.
pub fn matvec_t(m: MatRef<'_, f64>, x: &[f64], y: &mut [f64]) {
    matvec(m.transpose(), x, y);
}

/// A fixed pseudo-random unit-scale vector (xorshift64), plus `warm` (a
/// previous eigenvector, weighted so that it dominates but the start is
/// never exactly an eigenvector of a different matrix).
fn start_vector(n: usize, warm: Option<&[f64]>) -> Vec<f64> {
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut v: Vec<f64> = (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        })
        .collect();
    if let Some(w) = warm.filter(|w| w.len() == n && w.iter().all(|x| x.is_finite())) {
        let rn = v
            .iter()
            .map(|x| x * x)
            .sum::<f64>()
            .sqrt()
            .max(f64::MIN_POSITIVE);
        let wn = w.iter().map(|x| x * x).sum::<f64>().sqrt();
        if wn > 0.0 {
            for (vi, wi) in v.iter_mut().zip(w) {
                *vi = wi / wn + 0.05 * *vi / rn;
            }
        }
    }
    v
}

/// λ_max and a unit eigenvector of the symmetric positive semidefinite map
/// `apply` (y ← Mx) of dimension `n`, optionally warm-started from a
/// previous eigenvector; `None` when a product is not finite.
pub fn top_eigenpair(
    n: usize,
    warm: Option<&[f64]>,
    mut apply: impl FnMut(&[f64], &mut [f64]),
) -> Option<(f64, Vec<f64>)> {
    if n == 0 {
        return None;
    }
    let start = start_vector(n, warm);
    let mut finite = true;
    let r = lanczos_top_until(n, &start, MAX_STEPS.min(n), REL_TOL, |x, y| {
        apply(x, y);
        finite &= y.iter().all(|v| v.is_finite());
    })?;
    (finite && r.value.is_finite()).then_some((r.value, r.vector))
}

/// The parts D⁻¹GD⁻¹x and DHDx of the two-layer search matrix, D = diag(d).
pub fn scaled_parts(
    g: MatRef<'_, f64>,
    h: MatRef<'_, f64>,
    d: &[f64],
    x: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let n = d.len();
    let mut gx = vec![0.0; n];
    let mut hx = vec![0.0; n];
    let xg: Vec<f64> = x.iter().zip(d).map(|(a, b)| a / b).collect();
    let xh: Vec<f64> = x.iter().zip(d).map(|(a, b)| a * b).collect();
    matvec(g, &xg, &mut gx);
    matvec(h, &xh, &mut hx);
    gx.iter_mut().zip(d).for_each(|(v, di)| *v /= di);
    hx.iter_mut().zip(d).for_each(|(v, di)| *v *= di);
    (gx, hx)
}

/// λ_max(wg·D⁻¹GD⁻¹ + wh·DHD) and its eigenvector (G, H symmetric PSD,
/// wg, wh ∈ {0, 1}).
pub fn top_scaled(
    g: MatRef<'_, f64>,
    h: MatRef<'_, f64>,
    d: &[f64],
    (wg, wh): (bool, bool),
    warm: Option<&[f64]>,
) -> Option<(f64, Vec<f64>)> {
    let n = d.len();
    top_eigenpair(n, warm, |x, y| {
        let xs: Vec<f64> = if wg {
            x.iter().zip(d).map(|(a, b)| a / b).collect()
        } else {
            Vec::new()
        };
        if wg {
            matvec(g, &xs, y);
            y.iter_mut().zip(d).for_each(|(v, di)| *v /= di);
        } else {
            y.iter_mut().for_each(|v| *v = 0.0);
        }
        if wh {
            let xh: Vec<f64> = x.iter().zip(d).map(|(a, b)| a * b).collect();
            let mut t = vec![0.0; n];
            matvec(h, &xh, &mut t);
            y.iter_mut()
                .zip(&t)
                .zip(d)
                .for_each(|((v, ti), di)| *v += ti * di);
        }
    })
}

/// λ_max of the pencil (SᵀS, M): the largest μ with SᵀSv = μMv, M = 2I − K
/// symmetric positive definite, as λ_max(L⁻¹SᵀSL⁻ᵀ) with M = LLᵀ
/// (Cholesky). `None` when M is not numerically positive definite.
pub fn top_pencil(k: MatRef<'_, f64>, s: MatRef<'_, f64>) -> Option<f64> {
    top_pencil_with(k, s, MAX_STEPS, REL_TOL)
}

/// [`top_pencil`] with at most `steps` Lanczos steps and the stopping
/// tolerance `rel_tol` (a cheaper search where the pencil is large).
pub fn top_pencil_with(
    k: MatRef<'_, f64>,
    s: MatRef<'_, f64>,
    steps: usize,
    rel_tol: f64,
) -> Option<f64> {
    let h = k.nrows();
    let margin = Mat::from_fn(h, h, |i, j| {
        if i < j {
            0.0
        } else if i == j {
            2.0 - k[(i, j)]
        } else {
            -k[(i, j)]
        }
    });
    let llt = margin.llt(Side::Lower).ok()?;
    let l = llt.L();
    if (0..h).any(|i| {
        let p = l[(i, i)] * l[(i, i)];
        p.is_nan() || p <= 1e-12
    }) {
        return None;
    }
    let rows = s.nrows();
    let start = start_vector(h, None);
    let mut finite = true;
    let r = lanczos_top_until(h, &start, steps.min(h), rel_tol, |x, y| {
        // y = L⁻¹ Sᵀ S L⁻ᵀ x.
        let mut t = Mat::from_fn(h, 1, |i, _| x[i]);
        solve_upper_triangular_in_place(l.transpose(), t.as_mut(), Par::Seq);
        let tx: Vec<f64> = (0..h).map(|i| t[(i, 0)]).collect();
        let mut st = vec![0.0; rows];
        matvec(s, &tx, &mut st);
        matvec_t(s, &st, y);
        let mut u = Mat::from_fn(h, 1, |i, _| y[i]);
        solve_lower_triangular_in_place(l, u.as_mut(), Par::Seq);
        for (i, v) in y.iter_mut().enumerate() {
            *v = u[(i, 0)];
        }
        finite &= y.iter().all(|v| v.is_finite());
    })?;
    (finite && r.value.is_finite()).then_some(r.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against faer's full eigendecomposition on a random PSD matrix.
    #[test]
    fn agrees_with_the_full_eigendecomposition() {
        let n = 40;
        let mut s = 7u64;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let a = Mat::from_fn(n, n, |_, _| next());
        let m = a.transpose() * &a;
        let eig = m.self_adjoint_eigen(Side::Lower).unwrap();
        let vals = eig.S().column_vector();
        let top = (0..n).map(|i| vals[i]).fold(f64::MIN, f64::max);
        let (v, vec) = top_eigenpair(n, None, |x, y| matvec(m.as_ref(), x, y)).unwrap();
        assert!((v - top).abs() <= 1e-10 * top, "{v} vs {top}");
        let mut mv = vec![0.0; n];
        matvec(m.as_ref(), &vec, &mut mv);
        let res: f64 = mv.iter().zip(&vec).map(|(a, b)| (a - v * b).powi(2)).sum();
        assert!(res.sqrt() <= 1e-6 * top);
        // Pencil: K = 0.5·I ⇒ λ_max(SᵀS)/1.5.
        let k = Mat::from_fn(n, n, |i, j| if i == j { 0.5 } else { 0.0 });
        let p = top_pencil(k.as_ref(), a.as_ref()).unwrap();
        assert!((p - top / 1.5).abs() <= 1e-9 * top, "{p}");
        // Not positive definite.
        let k = Mat::from_fn(n, n, |i, j| if i == j { 2.5 } else { 0.0 });
        assert!(top_pencil(k.as_ref(), a.as_ref()).is_none());
    }
}
