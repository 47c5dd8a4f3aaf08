//! A floating-point Cholesky factorization written so that the
//! positive-definiteness theorem it feeds (Rump 2006) applies to it.
//!
//! Rump's criterion (see [`super::pd_upper`]) needs the *standard* Cholesky
//! algorithm: every computed entry is
//! `r_jj = fl(√(a_jj − Σ_{k<j} r_jk²))` and
//! `r_ij = fl((a_ij − Σ_{k<j} r_ik r_jk) / r_jj)`, where each sum may be
//! evaluated in any order (Higham, *Accuracy and Stability*, Lemma 8.4, on
//! which Rump's proof rests, holds for every order). A library Cholesky may
//! instead invert diagonal blocks and multiply, which is a different
//! algorithm with a different error bound. So this module implements the
//! recursion itself: the Schur-complement updates and the triangular solves
//! are delegated to faer's matrix multiply — whose output entries are sums of
//! products in some order, possibly with FMA — and the divisions and square
//! roots are ours. The result is the standard algorithm with a particular
//! summation order.
//!
//! Assumption (tested, not proved): faer's `matmul` computes each entry of
//! `dst ± lhs·rhs` as an IEEE sum of the products and the old value, in some
//! order, with multiplication by ±1 exact.

use crate::columns::{column, column_mut};
use crate::simd::multiversion;
use faer::reborrow::*;
use faer::{Accum, MatMut};

/// Size below which the unblocked kernels run.
const BLOCK: usize = 48;

/// Overwrites the lower triangle of `a` with L such that A ≈ L·Lᵀ (only the
/// lower triangle of `a` is read). Returns `Err(j)` at the first pivot `j`
/// whose computed value a_jj − Σ l_jk² is not strictly positive or not finite
/// (the factorization then did not "run to completion" in Rump's sense).
///
/// Non-finite entries (item 15 of the hardening issue): Rump's criterion
/// needs every computed entry finite. The unblocked kernel checks each
/// pivot and each scaled column entry. The blocked path checks the solved
/// off-diagonal block L21 explicitly and reports the first row with a
/// non-finite entry as the failing pivot. (Without that check the argument
/// would be: a non-finite l_ik enters the Schur update of the diagonal entry
/// a_ii − Σ_k l_ik² as −∞ or NaN, so the later pivot i fails the `d > 0 &&
/// finite` test; the check makes the result independent of how faer's
/// multiply propagates infinities.)
pub fn cholesky_lower_in_place(a: MatMut<'_, f64>) -> Result<(), usize> {
    cholesky_lower_in_place_with(a, 1)
}

/// [`cholesky_lower_in_place`] with the Schur-complement updates and the
/// block triangular solves split over `threads` threads (see
/// [`crate::parallel`]). Threads change only the order in which each
/// entry's products are summed, and Rump's criterion holds for every such
/// order (proofs/theories/Cholesky.v, `rump_cholesky_posdef`: every dot
/// product/sum in any order), so the result certifies exactly as much; with
/// one thread it is the sequential, bit-reproducible code.
pub fn cholesky_lower_in_place_with(a: MatMut<'_, f64>, threads: usize) -> Result<(), usize> {
    factor(a, threads)
}

/// [`cholesky_lower_in_place_with`] in binary32: the same algorithm with
/// every operation an IEEE binary32 operation (faer's f32 multiply for the
/// updates), for the binary32 certificate
/// ([`certify_upper_binary32`](super::binary32_upper::certify_upper_binary32);
/// its theorem, proofs/theories/Cholesky.v, `rump_measured_posdef_binary32`,
/// is the binary64 one instantiated for binary32).
pub fn cholesky_lower_in_place_f32_with(a: MatMut<'_, f32>, threads: usize) -> Result<(), usize> {
    factor(a, threads)
}

/// A binary format the factorization runs in: its arithmetic and the
/// multiversioned unblocked kernels compiled for it.
trait Scalar:
    crate::parallel::Element
    + PartialOrd
    + std::ops::Mul<Output = Self>
    + std::ops::SubAssign
    + std::ops::DivAssign
{
    /// 0.
    const ZERO: Self;
    /// −1 (the multiplier of the Schur-complement updates).
    const MINUS_ONE: Self;
    /// The IEEE square root (correctly rounded).
    fn root(self) -> Self;
    /// Neither infinite nor NaN.
    fn finite(self) -> bool;
    /// The unblocked factorization kernel for this format.
    fn unblocked(a: MatMut<'_, Self>) -> Result<(), usize>;
    /// The unblocked substitution kernel for this format.
    fn solve_unblocked(l: faer::MatRef<'_, Self>, b: MatMut<'_, Self>);
}

/// `impl Scalar` for a float type with its two kernel instances.
macro_rules! impl_scalar {
    ($t:ty, $unblocked:ident, $solve:ident) => {
        impl Scalar for $t {
            const ZERO: Self = 0.0;
            const MINUS_ONE: Self = -1.0;
            fn root(self) -> Self {
                self.sqrt()
            }
            fn finite(self) -> bool {
                self.is_finite()
            }
            fn unblocked(a: MatMut<'_, Self>) -> Result<(), usize> {
                $unblocked(a)
            }
            fn solve_unblocked(l: faer::MatRef<'_, Self>, b: MatMut<'_, Self>) {
                $solve(l, b)
            }
        }
    };
}

impl_scalar!(f64, unblocked_f64, solve_unblocked_f64);
impl_scalar!(f32, unblocked_f32, solve_unblocked_f32);

/// The recursive blocked factorization (see [`cholesky_lower_in_place_with`]).
fn factor<T: Scalar>(a: MatMut<'_, T>, threads: usize) -> Result<(), usize> {
    let n = a.nrows();
    debug_assert_eq!(n, a.ncols());
    if n <= BLOCK {
        return T::unblocked(a);
    }
    let n1 = n / 2;
    let (a11, _a12, a21, a22) = a.split_at_mut(n1, n1);
    let mut a11 = a11;
    let mut a21 = a21;
    let mut a22 = a22;
    factor(a11.rb_mut(), threads)?;
    // A21 ← A21 · L11⁻ᵀ, i.e. solve X · L11ᵀ = A21 by substitution.
    solve_right_lower_transpose(a11.rb(), a21.rb_mut(), threads);
    // Non-finite off-diagonal entries: checked here as the unblocked kernel
    // checks its columns (see the doc comment above).
    if let Some(row) = first_nonfinite_row(a21.rb()) {
        return Err(n1 + row);
    }
    // A22 ← A22 − L21 · L21ᵀ on the lower triangle.
    crate::parallel::lower_product(
        a22.rb_mut(),
        Accum::Add,
        a21.rb(),
        a21.rb().transpose(),
        T::MINUS_ONE,
        threads,
    );
    factor(a22, threads).map_err(|j| j + n1)
}

/// The first row of `m` holding a non-finite entry.
fn first_nonfinite_row<T: Scalar>(m: faer::MatRef<'_, T>) -> Option<usize> {
    (0..m.ncols())
        .filter_map(|j| (0..m.nrows()).find(|&i| !m[(i, j)].finite()))
        .min()
}

multiversion! {
    /// The unblocked left-looking kernel, column-oriented so the inner loops
    /// run over contiguous memory: column j is updated by each earlier column
    /// k in ascending order, so every entry sees exactly the operations
    /// `a_ij − l_i0·l_j0 − l_i1·l_j1 − …` (then `√·` or `/ r_jj`) of the
    /// standard algorithm (compiled for the best vector extension; the same
    /// IEEE operations either way, see [`crate::simd`]).
    fn unblocked_f64 = [unblocked_body::<f64>](a: MatMut<'_, f64>) -> Result<(), usize>
}

multiversion! {
    /// The binary32 instance of [`unblocked_f64`].
    fn unblocked_f32 = [unblocked_body::<f32>](a: MatMut<'_, f32>) -> Result<(), usize>
}

#[inline(always)]
fn unblocked_body<T: Scalar>(a: MatMut<'_, T>) -> Result<(), usize> {
    let n = a.nrows();
    let mut a = a;
    for j in 0..n {
        {
            let (left, right) = a.rb_mut().split_at_col_mut(j);
            let col_j = column_mut(right.col_mut(0));
            for k in 0..j {
                let col_k = column(left.rb().col(k));
                let ljk = col_k[j];
                for (x, &y) in col_j[j..].iter_mut().zip(&col_k[j..]) {
                    *x -= y * ljk;
                }
            }
            let d = col_j[j];
            if !(d > T::ZERO && d.finite()) {
                return Err(j);
            }
            let r = d.root();
            col_j[j] = r;
            for v in &mut col_j[j + 1..n] {
                *v /= r;
                if !v.finite() {
                    return Err(j);
                }
            }
        }
    }
    Ok(())
}

/// Solves X · Lᵀ = B in place (B ← X) for lower-triangular L by the
/// recursive column-block substitution: x_ij = (b_ij − Σ_{k<j} x_ik l_jk)/l_jj
/// with the sum split between a faer multiply (earlier blocks) and the
/// unblocked loop (the current block).
fn solve_right_lower_transpose<T: Scalar>(
    l: faer::MatRef<'_, T>,
    b: MatMut<'_, T>,
    threads: usize,
) {
    let p = l.nrows();
    if p <= BLOCK {
        T::solve_unblocked(l, b);
        return;
    }
    let p1 = p / 2;
    let (la, _, lb, lc) = l.split_at(p1, p1);
    let (b1, b2) = b.split_at_col_mut(p1);
    let mut b1 = b1;
    let mut b2 = b2;
    solve_right_lower_transpose(la, b1.rb_mut(), threads);
    // B2 ← B2 − X1 · Lbᵀ
    crate::parallel::product(
        b2.rb_mut(),
        Accum::Add,
        b1.rb(),
        lb.transpose(),
        T::MINUS_ONE,
        threads,
    );
    solve_right_lower_transpose(lc, b2, threads);
}

multiversion! {
    /// The substitution of [`solve_right_lower_transpose`] for a small L,
    /// column-oriented: column j of B is updated by each solved column k in
    /// ascending order, so every entry sees b_ij − x_i0·l_j0 − … − then
    /// / l_jj, the order of the row-oriented substitution.
    fn solve_unblocked_f64 = [solve_unblocked_body::<f64>](l: faer::MatRef<'_, f64>, b: MatMut<'_, f64>)
}

multiversion! {
    /// The binary32 instance of [`solve_unblocked_f64`].
    fn solve_unblocked_f32 = [solve_unblocked_body::<f32>](l: faer::MatRef<'_, f32>, b: MatMut<'_, f32>)
}

#[inline(always)]
fn solve_unblocked_body<T: Scalar>(l: faer::MatRef<'_, T>, b: MatMut<'_, T>) {
    let mut b = b;
    for j in 0..l.nrows() {
        let (left, right) = b.rb_mut().split_at_col_mut(j);
        let col_j = column_mut(right.col_mut(0));
        for k in 0..j {
            let ljk = l[(j, k)];
            let col_k = column(left.rb().col(k));
            for (x, &y) in col_j.iter_mut().zip(col_k) {
                *x -= y * ljk;
            }
        }
        let ljj = l[(j, j)];
        for x in col_j.iter_mut() {
            *x /= ljj;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    fn spd(n: usize) -> Mat<f64> {
        // A = BᵀB + n·I with a deterministic B.
        let b = Mat::from_fn(n, n, |i, j| (((i * 7 + j * 13) % 17) as f64 - 8.0) / 8.0);
        let mut a = b.transpose() * &b;
        for i in 0..n {
            a[(i, i)] += n as f64;
        }
        a
    }

    /// Factors `a` (binary64) in binary64 or, with `binary32`, in binary32
    /// (entries rounded to nearest), returning L widened to binary64 with
    /// zeros above the diagonal.
    fn factor_in(a: &Mat<f64>, binary32: bool, threads: usize) -> Result<Mat<f64>, usize> {
        let n = a.nrows();
        let lower = |l: &dyn Fn(usize, usize) -> f64| {
            Mat::from_fn(n, n, |i, j| if i >= j { l(i, j) } else { 0.0 })
        };
        if binary32 {
            let mut l = Mat::from_fn(n, n, |i, j| a[(i, j)] as f32);
            cholesky_lower_in_place_f32_with(l.as_mut(), threads)?;
            Ok(lower(&|i, j| f64::from(l[(i, j)])))
        } else {
            let mut l = a.clone();
            cholesky_lower_in_place_with(l.as_mut(), threads)?;
            Ok(lower(&|i, j| l[(i, j)]))
        }
    }

    #[test]
    fn factor_reconstructs_spd_matrices() {
        // Binary64 to 1e-13, binary32 to 1e-5 (u₃₂ ≈ 6e-8 times the
        // growth of the sums), on both sides of the blocking threshold.
        for (binary32, tolerance) in [(false, 1e-13), (true, 1e-5)] {
            for n in [1, 5, 48, 49, 130, 257] {
                for threads in [1, 2] {
                    let a = spd(n);
                    let l = factor_in(&a, binary32, threads).unwrap();
                    let r = &l * l.transpose();
                    let err = (&r - &a).norm_max() / a.norm_max();
                    assert!(
                        err < tolerance,
                        "n = {n}, binary32 {binary32}: relative residual {err}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_non_finite_off_diagonal_entry_fails_on_both_paths() {
        // Issue 11 item 15: the blocked path (n > BLOCK) checks L21 itself;
        // the last value overflows the format's products.
        for (binary32, huge) in [(false, 1e308), (true, 3e38)] {
            for n in [10, 100, 300] {
                for bad in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN, huge] {
                    let mut a = spd(n);
                    a[(n - 2, 1)] = bad;
                    assert!(
                        factor_in(&a, binary32, 1).is_err(),
                        "n = {n}, entry {bad}, binary32 {binary32}"
                    );
                }
            }
        }
    }

    #[test]
    fn reports_the_failing_pivot_of_an_indefinite_matrix() {
        for binary32 in [false, true] {
            for n in [3, 60, 200] {
                let mut a = spd(n);
                // Make the trailing diagonal entry hugely negative.
                a[(n - 1, n - 1)] = -1e6;
                assert_eq!(
                    factor_in(&a, binary32, 1).err(),
                    Some(n - 1),
                    "binary32 {binary32}"
                );
            }
        }
    }
}
