//! A complex Hermitian Cholesky factorization A ≈ L·Lᴴ (real and imaginary
//! parts stored apart) that *is* the real standard Cholesky algorithm on the
//! real embedding of A, so Rump's criterion for real matrices applies to it.
//!
//! # Why the real theorem covers it
//! Embed a complex number x + iy as the 2×2 block [[x, −y], [y, x]] and a
//! complex n×n matrix M as the real 2n×2n matrix E(M) of these blocks (row
//! and column 2i, 2i+1 for complex index i). E is an injective
//! ∗-homomorphism: E(MN) = E(M)E(N), E(Mᴴ) = E(M)ᵀ, and E(M) has the
//! eigenvalues of a Hermitian M, each twice. The complex factor L (real
//! positive diagonal) gives a *real lower-triangular* E(L) with positive
//! diagonal, and E(L)E(L)ᵀ = E(A): in exact arithmetic it is the real
//! Cholesky factor of E(A).
//!
//! In floating point, write l_ik = x_ik + i·y_ik. This module computes
//!   Re: fl(Re a_ij − Σ_k (x_ik·x_jk + y_ik·y_jk)),
//!   Im: fl(Im a_ij − Σ_k (y_ik·x_jk − x_ik·y_jk)),
//! each a tree of rounded sums of rounded products (FMA allowed inside faer's
//! multiplies), then √· or / l_jj. The real algorithm on E(A), entry by entry
//! (Cholesky.v models the standard algorithm with an *arbitrary evaluation
//! tree per entry*, leaves (a_ij, 1) and (−r_ik, r_jk) for k < j):
//! * (2i, 2j): the leaves are the products x_ik·x_jk and (−y_ik)(−y_jk) =
//!   y_ik·y_jk — the same rounded values as our Re sum, so the same tree gives
//!   the same number;
//! * (2i+1, 2j): leaves y_ik·x_jk and x_ik·(−y_jk): our Im sum;
//! * (2i+1, 2j+1): the same products as (2i, 2j) plus one exact zero product
//!   (r_{2j+1,2j} = 0): the same tree, hence the same value — E(L) needs
//!   exactly that;
//! * (2i, 2j+1): the leaves of (2i+1, 2j) with every product negated, plus a
//!   zero: round-to-nearest-even is sign-symmetric, so the mirrored tree gives
//!   exactly −Im, as E(L) needs;
//! * (2j+1, 2j): anchor Im a_jj = 0 and the pairs y_jk·x_jk, x_jk·(−y_jk),
//!   whose rounded values cancel exactly when summed pairwise: 0, as E(L)
//!   needs; so the odd diagonal radicand equals the even one.
//!
//! So a successful run here is a successful run of the real algorithm (with
//! particular per-entry orders) on E(A), and Rump's criterion
//! (proofs/theories/Cholesky.v, `rump_cholesky_posdef_rust`, dimension 2n)
//! applies to E(A). The unblocked kernel uses plain multiplies and
//! subtractions (Rust never contracts them into FMAs); the blocked updates go
//! through faer's real matrix multiply under the same assumption as
//! [`super::cholesky`].
//!
//! Proof: proofs/theories/Cholesky.v, `rump_cholesky_posdef_rust`

use crate::columns::{column, column_mut};
use crate::simd::multiversion;
use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::reborrow::*;
use faer::{Accum, MatMut, MatRef, Par};

/// Size below which the unblocked kernels run.
const BLOCK: usize = 32;

/// Overwrites the lower triangles of `re` and `im` with L (A ≈ L·Lᴴ, only the
/// lower triangles are read; the imaginary diagonal is taken as 0 and left
/// unspecified). Returns `Err(j)` at the first pivot j whose radicand is not
/// strictly positive and finite, or whose column overflowed.
pub fn hermitian_cholesky_in_place(re: MatMut<'_, f64>, im: MatMut<'_, f64>) -> Result<(), usize> {
    let n = re.nrows();
    debug_assert!(re.ncols() == n && im.nrows() == n && im.ncols() == n);
    if n <= BLOCK {
        return unblocked(re, im);
    }
    let n1 = n / 2;
    let (r11, _, r21, r22) = re.split_at_mut(n1, n1);
    let (i11, _, i21, i22) = im.split_at_mut(n1, n1);
    let (mut r11, mut r21, mut r22) = (r11, r21, r22);
    let (mut i11, mut i21, mut i22) = (i11, i21, i22);
    hermitian_cholesky_in_place(r11.rb_mut(), i11.rb_mut())?;
    solve_right_lower_adjoint(r11.rb(), i11.rb(), r21.rb_mut(), i21.rb_mut());
    // Every computed entry must be finite (Rump's "runs to completion"); the
    // unblocked kernel checks its columns, the blocked path checks L21 here
    // and fails at the first row holding a non-finite entry.
    let nonfinite_row = (0..r21.ncols())
        .filter_map(|j| {
            (0..r21.nrows()).find(|&i| !(r21[(i, j)].is_finite() && i21[(i, j)].is_finite()))
        })
        .min();
    if let Some(row) = nonfinite_row {
        return Err(n1 + row);
    }
    // A22 ← A22 − L21·L21ᴴ on the lower triangle:
    // Re −= Xr·Xrᵀ + Xi·Xiᵀ, Im −= Xi·Xrᵀ − Xr·Xiᵀ.
    let lower = |dst: MatMut<'_, f64>, a: MatRef<'_, f64>, b: MatRef<'_, f64>, alpha: f64| {
        triangular::matmul(
            dst,
            BlockStructure::TriangularLower,
            Accum::Add,
            a,
            BlockStructure::Rectangular,
            b.transpose(),
            BlockStructure::Rectangular,
            alpha,
            Par::Seq,
        )
    };
    lower(r22.rb_mut(), r21.rb(), r21.rb(), -1.0);
    lower(r22.rb_mut(), i21.rb(), i21.rb(), -1.0);
    lower(i22.rb_mut(), i21.rb(), r21.rb(), -1.0);
    lower(i22.rb_mut(), r21.rb(), i21.rb(), 1.0);
    hermitian_cholesky_in_place(r22, i22).map_err(|j| j + n1)
}

multiversion! {
    /// The unblocked left-looking kernel, column-oriented: column j is updated
    /// by each earlier column k in ascending order with the four products of
    /// the module documentation, then scaled by the real pivot.
    fn unblocked = unblocked_body(re: MatMut<'_, f64>, im: MatMut<'_, f64>) -> Result<(), usize>
}

#[inline(always)]
fn unblocked_body(re: MatMut<'_, f64>, im: MatMut<'_, f64>) -> Result<(), usize> {
    let n = re.nrows();
    let (mut re, mut im) = (re, im);
    for j in 0..n {
        let (re_left, re_right) = re.rb_mut().split_at_col_mut(j);
        let (im_left, im_right) = im.rb_mut().split_at_col_mut(j);
        let rj = &mut column_mut(re_right.col_mut(0))[j..];
        let ij = &mut column_mut(im_right.col_mut(0))[j..];
        for k in 0..j {
            let rk = &column(re_left.rb().col(k))[j..];
            let ik = &column(im_left.rb().col(k))[j..];
            update(rj, ij, rk, ik, rk[0], ik[0]);
        }
        let d = rj[0];
        if !(d > 0.0 && d.is_finite()) {
            return Err(j);
        }
        let r = d.sqrt();
        rj[0] = r;
        ij[0] = 0.0;
        for (x, y) in rj[1..].iter_mut().zip(ij[1..].iter_mut()) {
            *x /= r;
            *y /= r;
            if !(x.is_finite() && y.is_finite()) {
                return Err(j);
            }
        }
    }
    Ok(())
}

/// (rj, ij) −= (rk + i·ik)·conj(x + i·y) entrywise, in the order
/// Re: −rk·x, −ik·y; Im: −ik·x, +rk·y.
#[inline(always)]
fn update(rj: &mut [f64], ij: &mut [f64], rk: &[f64], ik: &[f64], x: f64, y: f64) {
    for (((r, i), &a), &b) in rj.iter_mut().zip(ij.iter_mut()).zip(rk).zip(ik) {
        *r -= a * x;
        *r -= b * y;
        *i -= b * x;
        *i += a * y;
    }
}

multiversion! {
    /// The column-oriented substitution of [`solve_right_lower_adjoint`] for
    /// a small L: column j of B is updated by each solved column k in
    /// ascending order, then divided by l_jj.
    fn solve_unblocked = solve_unblocked_body(
        lr: MatRef<'_, f64>,
        li: MatRef<'_, f64>,
        br: MatMut<'_, f64>,
        bi: MatMut<'_, f64>,
    )
}

#[inline(always)]
fn solve_unblocked_body(
    lr: MatRef<'_, f64>,
    li: MatRef<'_, f64>,
    br: MatMut<'_, f64>,
    bi: MatMut<'_, f64>,
) {
    let (mut br, mut bi) = (br, bi);
    for j in 0..lr.nrows() {
        let (br_left, br_right) = br.rb_mut().split_at_col_mut(j);
        let (bi_left, bi_right) = bi.rb_mut().split_at_col_mut(j);
        let rj = column_mut(br_right.col_mut(0));
        let ij = column_mut(bi_right.col_mut(0));
        for k in 0..j {
            let rk = column(br_left.rb().col(k));
            let ik = column(bi_left.rb().col(k));
            update(rj, ij, rk, ik, lr[(j, k)], li[(j, k)]);
        }
        let d = lr[(j, j)];
        for (x, y) in rj.iter_mut().zip(ij.iter_mut()) {
            *x /= d;
            *y /= d;
        }
    }
}

/// Solves X·Lᴴ = B in place (B ← X) for lower-triangular L with real
/// diagonal: x_ij = (b_ij − Σ_{k<j} x_ik·conj(l_jk))/l_jj, the off-diagonal
/// formula of the factorization, with the sum split between faer multiplies
/// (earlier blocks) and the column-oriented loop (the current block).
fn solve_right_lower_adjoint(
    lr: MatRef<'_, f64>,
    li: MatRef<'_, f64>,
    br: MatMut<'_, f64>,
    bi: MatMut<'_, f64>,
) {
    let p = lr.nrows();
    if p <= BLOCK {
        solve_unblocked(lr, li, br, bi);
        return;
    }
    let p1 = p / 2;
    let (lra, _, lrb, lrc) = lr.split_at(p1, p1);
    let (lia, _, lib, lic) = li.split_at(p1, p1);
    let (br1, br2) = br.split_at_col_mut(p1);
    let (bi1, bi2) = bi.split_at_col_mut(p1);
    let (mut br1, mut br2, mut bi1, mut bi2) = (br1, br2, bi1, bi2);
    solve_right_lower_adjoint(lra, lia, br1.rb_mut(), bi1.rb_mut());
    // B2 ← B2 − X1·Lbᴴ: Re −= X1r·Lbrᵀ + X1i·Lbiᵀ, Im −= X1i·Lbrᵀ − X1r·Lbiᵀ.
    let mm = |dst: MatMut<'_, f64>, a: MatRef<'_, f64>, b: MatRef<'_, f64>, alpha: f64| {
        matmul(dst, Accum::Add, a, b.transpose(), alpha, Par::Seq)
    };
    mm(br2.rb_mut(), br1.rb(), lrb, -1.0);
    mm(br2.rb_mut(), bi1.rb(), lib, -1.0);
    mm(bi2.rb_mut(), bi1.rb(), lrb, -1.0);
    mm(bi2.rb_mut(), br1.rb(), lib, 1.0);
    solve_right_lower_adjoint(lrc, lic, br2, bi2);
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    /// A = BᴴB + n·I for a deterministic complex B (split parts).
    fn hpd(n: usize) -> (Mat<f64>, Mat<f64>) {
        let br = Mat::from_fn(n, n, |i, j| (((i * 7 + j * 13) % 17) as f64 - 8.0) / 8.0);
        let bi = Mat::from_fn(n, n, |i, j| (((i * 5 + j * 11) % 19) as f64 - 9.0) / 9.0);
        let mut ar = br.transpose() * &br + bi.transpose() * &bi;
        let ai = br.transpose() * &bi - bi.transpose() * &br;
        for i in 0..n {
            ar[(i, i)] += n as f64;
        }
        (ar, ai)
    }

    fn lower(m: &Mat<f64>, diag: bool) -> Mat<f64> {
        Mat::from_fn(m.nrows(), m.ncols(), |i, j| {
            if i > j || (diag && i == j) {
                m[(i, j)]
            } else {
                0.0
            }
        })
    }

    #[test]
    fn factor_reconstructs_hermitian_positive_definite_matrices() {
        for n in [1, 5, 32, 33, 70, 150] {
            let (ar, ai) = hpd(n);
            let (mut lr, mut li) = (ar.clone(), ai.clone());
            hermitian_cholesky_in_place(lr.as_mut(), li.as_mut()).unwrap();
            let (lr, li) = (lower(&lr, true), lower(&li, false));
            // L·Lᴴ = (Lr + iLi)(Lrᵀ − iLiᵀ)
            let rr = &lr * lr.transpose() + &li * li.transpose();
            let ri = &li * lr.transpose() - &lr * li.transpose();
            let scale = ar.norm_max();
            assert!(
                (&rr - &ar).norm_max() / scale < 1e-13,
                "n = {n} (real part)"
            );
            assert!(
                (&ri - &ai).norm_max() / scale < 1e-13,
                "n = {n} (imaginary part)"
            );
        }
    }

    #[test]
    fn reports_the_failing_pivot_of_an_indefinite_matrix() {
        for n in [3, 40, 100] {
            let (mut ar, mut ai) = hpd(n);
            ar[(n - 1, n - 1)] = -1e6;
            assert_eq!(
                hermitian_cholesky_in_place(ar.as_mut(), ai.as_mut()),
                Err(n - 1)
            );
        }
    }

    /// The real standard algorithm on the interleaved embedding E(A), each
    /// entry summed in the order the module documentation assigns to it,
    /// reproduces E(L) bit for bit (unblocked sizes, where this module's
    /// order is fully specified).
    #[test]
    fn equals_the_real_algorithm_on_the_embedding_bit_for_bit() {
        for n in [1, 2, 7, 32] {
            let (ar, ai) = hpd(n);
            // Perturb to non-dyadic values so rounding actually happens.
            let ar = Mat::from_fn(n, n, |i, j| ar[(i, j)] * (1.0 + 1e-3 / 3.0));
            let ai = Mat::from_fn(n, n, |i, j| ai[(i, j)] / 3.0);
            let (mut lr, mut li) = (ar.clone(), ai.clone());
            hermitian_cholesky_in_place(lr.as_mut(), li.as_mut()).unwrap();
            let m = 2 * n;
            let e = |i: usize, j: usize| -> f64 {
                let (x, y) = (
                    ar[(i / 2, j / 2)],
                    if i / 2 == j / 2 {
                        0.0
                    } else {
                        ai[(i / 2, j / 2)]
                    },
                );
                match (i % 2, j % 2) {
                    (0, 0) | (1, 1) => x,
                    (1, 0) => y,
                    _ => -y,
                }
            };
            let mut r = vec![vec![0.0f64; m]; m];
            for j in 0..m {
                for i in j..m {
                    // Leaves (−r_ik, r_jk), k < j, summed onto a_ij; k taken
                    // in complex pairs (2q, 2q+1); within a pair the order is
                    // the even k first for rows/columns of equal parity
                    // classes as in the kernel, see the module doc.
                    let mut v = e(i, j);
                    for q in 0..j / 2 {
                        let (k0, k1) = (2 * q, 2 * q + 1);
                        let (first, second) = match (i % 2, j % 2) {
                            (0, 0) | (1, 0) => (k0, k1),
                            (1, 1) => (k1, k0),
                            _ => (k1, k0),
                        };
                        v -= r[i][first] * r[j][first];
                        v -= r[i][second] * r[j][second];
                    }
                    if j % 2 == 1 {
                        v -= r[i][j - 1] * r[j][j - 1];
                    }
                    r[i][j] = if i == j { v.sqrt() } else { v / r[j][j] };
                }
            }
            for (i, row) in r.iter().enumerate() {
                for (j, &got) in row.iter().enumerate().take(i + 1) {
                    let (ci, cj) = (i / 2, j / 2);
                    let want = match (i % 2, j % 2) {
                        _ if ci == cj && i % 2 != j % 2 => 0.0,
                        (0, 0) | (1, 1) => lr[(ci, cj)],
                        (1, 0) => li[(ci, cj)],
                        _ => -li[(ci, cj)],
                    };
                    if want == 0.0 {
                        assert_eq!(got, 0.0, "n = {n}, entry ({i}, {j})");
                    } else {
                        assert_eq!(got.to_bits(), want.to_bits(), "n = {n}, entry ({i}, {j})");
                    }
                }
            }
        }
    }
}
