//! A rigorous upper bound on ‖|L|‖₂² for a lower-triangular L (the
//! entrywise absolute value of a computed Cholesky factor), by the weighted
//! Schur test. The a-posteriori certificate
//! ([`certify_upper_measured`](super::pd_upper::certify_upper_measured))
//! shifts by β·‖|L|‖₂² instead of Rump's a-priori β·tr(A).

use crate::columns::column;
use crate::rounding;
use crate::simd::multiversion;
use faer::MatRef;

/// Power steps on |L||L|ᵀ before the certified step: enough for the
/// Collatz–Wielandt ratio to settle within 0.1 % on the Cholesky
/// factors of s²I − SᵀS of random 512² and 2048² matrices (it only has to be well below the
/// trace the a-priori shift assumes, not tight).
pub const SCHUR_POWER_STEPS: usize = 4;

/// Relative floor on the Schur weights w (w > 0 is a hypothesis of the test;
/// a weight the power steps drove to 0 or to a subnormal is lifted to this
/// fraction of the largest one).
const WEIGHT_FLOOR: f64 = 1.0 / (1u64 << 40) as f64;

/// r ≥ ‖|L|‖₂², where L is the lower triangle of `l` (the strict upper
/// triangle is not read and counts as 0), rounded so that the bound is
/// rigorous; +∞ when an entry is not finite.
///
/// # Theorem
/// Weighted Schur test (proofs/theories/Norms.v, `spectral_le_weighted_schur`)
/// for B = |L|ᵀ: for any w > 0, if z_k ≥ Σᵢ |l_ik|·wᵢ for every k and
/// r·wᵢ ≥ Σ_k |l_ik|·z_k for every i, then σ(|L|ᵀ) = σ(|L|) ≤ √r. The
/// bound is sharp when w is the Perron vector of |L||L|ᵀ and z = |L|ᵀw;
/// w comes from `steps` power steps w ← |L|(|L|ᵀw) from the all-ones vector
/// (w only steers tightness: the theorem holds for every w > 0), each
/// weight lifted to at least 2⁻⁴⁰ of the largest.
///
/// # Floating-point
/// zₖ and vᵢ = (|L|z)ᵢ are sums of nonnegative rounded products in some
/// order, so the exact sums are at most (fl + mη)/(1 − γ_m) for m terms
/// (`rounding::sum_of_squares_up`; proof: proofs/theories/FloatDot.v,
/// `dot_error_bound`), and r = maxᵢ vᵢ/wᵢ is rounded upward. IEEE-754
/// binary64, round to nearest.
pub fn abs_lower_norm_sq_up(l: MatRef<'_, f64>, steps: usize) -> f64 {
    abs_lower_norm_sq_up_of(l, steps)
}

/// [`abs_lower_norm_sq_up`] for a binary32 factor (the binary32
/// certificate's): every entry converts to binary64 exactly and all the
/// arithmetic is the binary64 arithmetic of [`abs_lower_norm_sq_up`], so
/// the same theorem and bound apply; reading binary32 halves the memory
/// traffic and needs no binary64 copy of L.
pub fn abs_lower_norm_sq_up_f32(l: MatRef<'_, f32>, steps: usize) -> f64 {
    abs_lower_norm_sq_up_of(l, steps)
}

/// The entries a factor may hold: binary64, or binary32 (widened exactly).
trait Entry: Copy + Into<f64> {
    /// Σ |aᵢ|·bᵢ ([`abs_dot_f64`]).
    fn abs_dot(a: &[Self], b: &[f64]) -> f64;
    /// out ← out + y·|a| ([`abs_axpy_f64`]).
    fn abs_axpy(y: f64, a: &[Self], out: &mut [f64]);
}

impl Entry for f64 {
    fn abs_dot(a: &[Self], b: &[f64]) -> f64 {
        abs_dot_f64(a, b)
    }
    fn abs_axpy(y: f64, a: &[Self], out: &mut [f64]) {
        abs_axpy_f64(y, a, out)
    }
}

impl Entry for f32 {
    fn abs_dot(a: &[Self], b: &[f64]) -> f64 {
        abs_dot_f32(a, b)
    }
    fn abs_axpy(y: f64, a: &[Self], out: &mut [f64]) {
        abs_axpy_f32(y, a, out)
    }
}

/// The body of [`abs_lower_norm_sq_up`] for either entry type.
fn abs_lower_norm_sq_up_of<T: Entry>(l: MatRef<'_, T>, steps: usize) -> f64 {
    let n = l.nrows().min(l.ncols());
    if n == 0 {
        return 0.0;
    }
    let columns: Vec<&[T]> = (0..n).map(|k| &column(l.col(k))[k..n]).collect();
    let mut w = vec![1.0f64; n];
    let mut next = vec![0.0f64; n];
    for _ in 0..steps {
        next.fill(0.0);
        for (k, col) in columns.iter().enumerate() {
            let y = T::abs_dot(col, &w[k..]);
            T::abs_axpy(y, col, &mut next[k..]);
        }
        let top = next.iter().fold(0.0f64, |a, &b| a.max(b));
        if !(top > 0.0 && top.is_finite()) {
            break;
        }
        for (wi, &x) in w.iter_mut().zip(&next) {
            *wi = x / top;
        }
    }
    let top = w.iter().fold(0.0f64, |a, &b| a.max(b));
    if !(top > 0.0 && top.is_finite()) {
        return f64::INFINITY;
    }
    let floor = top * WEIGHT_FLOOR;
    for wi in w.iter_mut() {
        *wi = wi.max(floor);
    }
    // z_k ≥ Σ_{i≥k} |l_ik| w_i, then v_i = fl(Σ_{k≤i} |l_ik| z_k) (one
    // product added to v_i per column, k ascending: a left-to-right sum).
    let mut v = vec![0.0f64; n];
    for (k, col) in columns.iter().enumerate() {
        let z = rounding::sum_of_squares_up(T::abs_dot(col, &w[k..]), n - k);
        T::abs_axpy(z, col, &mut v[k..]);
    }
    let mut r = 0.0f64;
    for (i, (&vi, &wi)) in v.iter().zip(&w).enumerate() {
        let bound = rounding::sum_of_squares_up(vi, i + 1);
        let ratio = rounding::div_up(bound, wi);
        if !ratio.is_finite() {
            return f64::INFINITY;
        }
        r = r.max(ratio);
    }
    r
}

multiversion! {
    /// Σ |aᵢ|·bᵢ in eight interleaved partial sums (one of the "any order"
    /// evaluations the dot-product bound covers).
    fn abs_dot_f64 = [abs_dot_body::<f64>](a: &[f64], b: &[f64]) -> f64
}

multiversion! {
    /// [`abs_dot_f64`] for binary32 entries (widened exactly).
    fn abs_dot_f32 = [abs_dot_body::<f32>](a: &[f32], b: &[f64]) -> f64
}

#[inline(always)]
fn abs_dot_body<T: Copy + Into<f64>>(a: &[T], b: &[f64]) -> f64 {
    let mut lanes = [0.0f64; 8];
    let chunks_a = a.chunks_exact(8);
    let chunks_b = b.chunks_exact(8);
    let (rest_a, rest_b) = (chunks_a.remainder(), chunks_b.remainder());
    for (ca, cb) in chunks_a.zip(chunks_b) {
        for ((acc, x), y) in lanes.iter_mut().zip(ca).zip(cb) {
            *acc += (*x).into().abs() * y;
        }
    }
    let rest: f64 = rest_a
        .iter()
        .zip(rest_b)
        .map(|(&x, y)| x.into().abs() * y)
        .sum();
    rest + lanes.iter().sum::<f64>()
}

multiversion! {
    /// out ← out + y·|a| entrywise.
    fn abs_axpy_f64 = [abs_axpy_body::<f64>](y: f64, a: &[f64], out: &mut [f64])
}

multiversion! {
    /// [`abs_axpy_f64`] for binary32 entries (widened exactly).
    fn abs_axpy_f32 = [abs_axpy_body::<f32>](y: f64, a: &[f32], out: &mut [f64])
}

#[inline(always)]
fn abs_axpy_body<T: Copy + Into<f64>>(y: f64, a: &[T], out: &mut [f64]) {
    for (o, &x) in out.iter_mut().zip(a) {
        *o += y * x.into().abs();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    #[test]
    fn diagonal_factor_gives_its_largest_square() {
        let l = Mat::from_fn(3, 3, |i, j| if i == j { [1.0, 3.0, 2.0][i] } else { 0.0 });
        let r = abs_lower_norm_sq_up(l.as_ref(), SCHUR_POWER_STEPS);
        assert!((9.0..9.0 * (1.0 + 1e-14)).contains(&r), "r = {r}");
    }

    /// The binary32 entry point performs the binary64 arithmetic on the
    /// exactly widened entries: the same bits as the binary64 one, for
    /// every dimension around the kernels' 8-lane remainder.
    #[test]
    fn binary32_factor_gives_the_bound_of_its_exact_widening() {
        for n in [1usize, 7, 8, 9, 17, 40] {
            let l32 = Mat::from_fn(n, n, |i, j| {
                if i >= j {
                    (((i * 31 + j * 17) % 13) as f32 - 6.0) / 7.0
                } else {
                    0.0
                }
            });
            let l64 = Mat::from_fn(n, n, |i, j| f64::from(l32[(i, j)]));
            let r32 = abs_lower_norm_sq_up_f32(l32.as_ref(), SCHUR_POWER_STEPS);
            let r64 = abs_lower_norm_sq_up(l64.as_ref(), SCHUR_POWER_STEPS);
            assert_eq!(r32.to_bits(), r64.to_bits(), "n = {n}");
        }
    }

    #[test]
    fn non_finite_entries_give_no_bound() {
        let mut l = Mat::from_fn(3, 3, |i, j| if i >= j { 1.0 } else { 0.0 });
        l[(2, 0)] = f64::NAN;
        assert_eq!(abs_lower_norm_sq_up(l.as_ref(), 4), f64::INFINITY);
        l[(2, 0)] = f64::INFINITY;
        assert_eq!(abs_lower_norm_sq_up(l.as_ref(), 4), f64::INFINITY);
    }
}
