//! Exact definiteness of a symmetric integer matrix by fraction-free
//! (Bareiss) symmetric Gaussian elimination with diagonal pivoting.
//!
//! # The procedure
//!
//! Let M be a symmetric n×n integer matrix. Set A⁽⁰⁾ = M and d₀ = 1. At step
//! k = 0, 1, …, n−1 the trailing block R_k = A⁽ᵏ⁾(k.., k..) is still to be
//! processed:
//!
//! 1. If a diagonal entry of R_k is negative, answer *indefinite*.
//! 2. Otherwise move the largest diagonal entry of R_k to position (k, k) by
//!    a symmetric swap of row and column (a congruence by a permutation).
//! 3. If that pivot p = R_k(k,k) is 0, every diagonal entry of R_k is 0:
//!    answer *positive semidefinite and singular* if R_k is entirely zero,
//!    otherwise *indefinite*.
//! 4. Otherwise (p > 0) eliminate with Bareiss' integer-preserving step
//!    `A⁽ᵏ⁺¹⁾(i,j) = (p·A⁽ᵏ⁾(i,j) − A⁽ᵏ⁾(i,k)·A⁽ᵏ⁾(k,j)) / d_k` for i, j > k
//!    (the division is exact), and set d_{k+1} = p.
//!
//! If all n pivots are positive, answer *positive definite*. Only the upper
//! triangle is stored and updated (the matrices stay symmetric).
//!
//! # Why it is correct
//!
//! Write P for the product of the symmetric swaps made so far and
//! N = PMPᵀ; swaps at step k only exchange indices ≥ k, so they never disturb
//! what earlier steps computed, and the run is exactly Bareiss' algorithm on N
//! without pivoting.
//!
//! *Exactness (Bareiss 1968).* By Sylvester's determinant identity, after k
//! steps A⁽ᵏ⁾(i,j) (i, j ≥ k) equals the determinant of the (k+1)×(k+1)
//! submatrix of N on rows {0,…,k−1, i} and columns {0,…,k−1, j}, and
//! d_k = det N(..k, ..k) is the k-th leading principal minor. Determinants of
//! integer matrices are integers, so every division in step 4 is exact
//! (E. H. Bareiss, "Sylvester's identity and multistep integer-preserving
//! Gaussian elimination", Math. Comp. 22 (1968), 565–578). A nonzero
//! remainder would therefore prove a bug; the code checks and reports it as
//! an error instead of continuing.
//!
//! *Meaning of the entries.* Expanding that bordered determinant by the
//! Schur complement, det [[B, c], [rᵀ, x]] = det B · (x − rᵀB⁻¹c), gives
//! R_k = d_k · S_k, where B = N(..k, ..k) and S_k = N(k.., k..) −
//! N(k.., ..k) B⁻¹ N(..k, k..) is the Schur complement of B. All earlier
//! pivots were positive, so d₁, …, d_k > 0: B has positive leading principal
//! minors and is positive definite (Sylvester's criterion), and R_k has the
//! same signs as S_k.
//!
//! *Inertia.* N is congruent to diag(B, S_k) (block LDLᵀ:
//! N = [[I, 0], [CB⁻¹, I]] · diag(B, S_k) · [[I, B⁻¹Cᵀ], [0, I]] with
//! C = N(k.., ..k)), so by Sylvester's law of inertia, and since B ≻ 0,
//! M is positive definite ⇔ S_k is, and M is positive semidefinite ⇔ S_k is
//! (Haynsworth, "Determination of the inertia of a partitioned Hermitian
//! matrix", Linear Algebra Appl. 1 (1968) 73–81; Horn & Johnson, *Matrix
//! Analysis*, 2nd ed., §4.5 and §7.1).
//!
//! * Step 1: a negative diagonal entry of R_k means eᵢᵀS_k eᵢ < 0, so S_k and
//!   hence M is not positive semidefinite.
//! * Step 3: if every diagonal entry of S_k is 0 and some off-diagonal entry
//!   s = S_k(i,j) ≠ 0, the principal 2×2 submatrix [[0, s], [s, 0]] has
//!   determinant −s² < 0, so S_k is not positive semidefinite (principal
//!   submatrices of a PSD matrix are PSD). If S_k = 0, then M is congruent to
//!   diag(B, 0) with B ≻ 0 and k < n: positive semidefinite and singular.
//! * After n positive pivots, all leading principal minors d₁, …, d_n of N are
//!   positive, so N, and M = PᵀNP, are positive definite (Sylvester's
//!   criterion; equivalently the LDLᵀ factorization with D = diag(d_{k+1}/d_k)
//!   has a positive diagonal).
//!
//! Proof: proofs/theories/Certificate.v, `ldlt_posdef`.
//!
//! # Cost
//!
//! About n³/3 multiplications of integers whose size grows linearly with the
//! step: entries of A⁽ᵏ⁾ are (k+1)×(k+1) minors, so they have at most about
//! (k+1)·(b + log₂(k+1)) bits for entries of M of b bits (Hadamard's bound).

use crate::error::{Error, Result};
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Signed, Zero};

/// The definiteness of a real symmetric matrix M.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Definiteness {
    /// xᵀMx > 0 for every x ≠ 0 (all eigenvalues positive). The empty 0×0
    /// matrix is reported as positive definite (vacuously true).
    PositiveDefinite,
    /// xᵀMx ≥ 0 for every x and M is singular (smallest eigenvalue exactly 0).
    PositiveSemidefiniteSingular,
    /// Not positive semidefinite: some eigenvalue is negative. (This includes
    /// negative (semi)definite matrices, not only those with eigenvalues of
    /// both signs.)
    Indefinite,
}

/// Decides exactly whether the symmetric integer matrix `m` (given as rows)
/// is positive definite, positive semidefinite and singular, or neither, by
/// the fraction-free symmetric-pivoted elimination described in the
/// [module documentation](self) (Bareiss 1968; Sylvester's criterion and
/// law of inertia).
///
/// Errors: [`Error::ShapeMismatch`] when a row does not have `m.len()`
/// entries, [`Error::InvalidOption`] when `m` is not symmetric.
///
/// ```
/// use lipcert::exact::{definiteness, Definiteness};
/// use num_bigint::BigInt;
/// let int = |rows: &[&[i64]]| -> Vec<Vec<BigInt>> {
///     rows.iter().map(|r| r.iter().map(|&x| BigInt::from(x)).collect()).collect()
/// };
/// assert_eq!(definiteness(&int(&[&[2, 1], &[1, 2]])).unwrap(), Definiteness::PositiveDefinite);
/// assert_eq!(
///     definiteness(&int(&[&[1, 2], &[2, 4]])).unwrap(),
///     Definiteness::PositiveSemidefiniteSingular
/// );
/// assert_eq!(definiteness(&int(&[&[1, 2], &[2, 1]])).unwrap(), Definiteness::Indefinite);
/// ```
pub fn definiteness(m: &[Vec<BigInt>]) -> Result<Definiteness> {
    let n = m.len();
    for row in m {
        if row.len() != n {
            return Err(Error::ShapeMismatch {
                what: "row length of a square integer matrix",
                expected: n,
                got: row.len(),
            });
        }
    }
    for (i, row) in m.iter().enumerate() {
        for (j, x) in row.iter().enumerate().skip(i + 1) {
            if *x != m[j][i] {
                return Err(Error::InvalidOption(format!(
                    "definiteness needs a symmetric matrix, but entry ({i}, {j}) differs from ({j}, {i})"
                )));
            }
        }
    }
    let mut upper: Vec<Vec<BigInt>> = m.to_vec();
    definiteness_in_place(&mut upper)
}

/// The elimination itself on a square matrix of which only the upper
/// triangle (`a[i][j]`, i ≤ j) is read; it is overwritten. The caller
/// guarantees squareness and symmetry (of the implied matrix).
pub(crate) fn definiteness_in_place(a: &mut [Vec<BigInt>]) -> Result<Definiteness> {
    let n = a.len();
    let mut previous_pivot = BigInt::one();
    for k in 0..n {
        let mut best = k;
        for i in k..n {
            if a[i][i].is_negative() {
                return Ok(Definiteness::Indefinite);
            }
            if a[i][i] > a[best][best] {
                best = i;
            }
        }
        if best != k {
            swap_symmetric(a, k, best);
        }
        if a[k][k].is_zero() {
            // Every remaining diagonal entry is 0: PSD iff the block is 0.
            for i in k..n {
                if a[i][(i + 1)..n].iter().any(|x| !x.is_zero()) {
                    return Ok(Definiteness::Indefinite);
                }
            }
            return Ok(Definiteness::PositiveSemidefiniteSingular);
        }
        eliminate_step(a, k, &previous_pivot)?;
        previous_pivot = a[k][k].clone();
    }
    Ok(Definiteness::PositiveDefinite)
}

/// One Bareiss step on the upper triangle: for k < i ≤ j,
/// `a[i][j] ← (a[k][k]·a[i][j] − a[k][i]·a[k][j]) / previous_pivot`.
fn eliminate_step(a: &mut [Vec<BigInt>], k: usize, previous_pivot: &BigInt) -> Result<()> {
    let n = a.len();
    let (head, tail) = a.split_at_mut(k + 1);
    let pivot_row = &head[k];
    let pivot = &pivot_row[k];
    let divide = !previous_pivot.is_one();
    for (offset, row) in tail.iter_mut().enumerate() {
        let i = k + 1 + offset;
        let a_ki = &pivot_row[i];
        for j in i..n {
            let mut t = pivot * &row[j];
            if !a_ki.is_zero() && !pivot_row[j].is_zero() {
                t -= a_ki * &pivot_row[j];
            }
            if divide {
                let (q, r) = t.div_rem(previous_pivot);
                if !r.is_zero() {
                    return Err(Error::CertificateFailed(format!(
                        "internal error in the exact Bareiss elimination: division at step {k}, \
                         entry ({i}, {j}) is not exact (input not symmetric?)"
                    )));
                }
                t = q;
            }
            row[j] = t;
        }
    }
    Ok(())
}

/// Exchanges index `k` with index `b > k` in rows and columns, touching only
/// the upper triangle and only indices ≥ k (rows/columns before k are
/// finished and never read again).
fn swap_symmetric(a: &mut [Vec<BigInt>], k: usize, b: usize) {
    debug_assert!(k < b);
    let n = a.len();
    let (head, tail) = a.split_at_mut(b);
    let row_k = &mut head[k];
    let row_b = &mut tail[0];
    // Diagonal entries.
    std::mem::swap(&mut row_k[k], &mut row_b[b]);
    // Entries right of b: (k, j) ↔ (b, j).
    for j in (b + 1)..n {
        std::mem::swap(&mut row_k[j], &mut row_b[j]);
    }
    // Entries between: (k, i) ↔ (i, b) for k < i < b; (k, b) stays.
    for i in (k + 1)..b {
        let (before, from_i) = head.split_at_mut(i);
        std::mem::swap(&mut before[k][i], &mut from_i[0][b]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(rows: &[&[i64]]) -> Vec<Vec<BigInt>> {
        rows.iter()
            .map(|r| r.iter().map(|&x| BigInt::from(x)).collect())
            .collect()
    }

    use Definiteness::*;

    #[test]
    fn small_cases() {
        assert_eq!(definiteness(&[]).unwrap(), PositiveDefinite);
        assert_eq!(definiteness(&int(&[&[5]])).unwrap(), PositiveDefinite);
        assert_eq!(
            definiteness(&int(&[&[0]])).unwrap(),
            PositiveSemidefiniteSingular
        );
        assert_eq!(definiteness(&int(&[&[-1]])).unwrap(), Indefinite);
        assert_eq!(
            definiteness(&int(&[&[0, 0, 0], &[0, 0, 0], &[0, 0, 0]])).unwrap(),
            PositiveSemidefiniteSingular
        );
        assert_eq!(
            definiteness(&int(&[&[-2, 0], &[0, -3]])).unwrap(),
            Indefinite
        );
    }

    #[test]
    fn rank_one_is_singular_psd() {
        // v vᵀ with v = (1, -2, 3, 0).
        let v = [1i64, -2, 3, 0];
        let rows: Vec<Vec<i64>> = v
            .iter()
            .map(|&a| v.iter().map(|&b| a * b).collect())
            .collect();
        let refs: Vec<&[i64]> = rows.iter().map(|r| r.as_slice()).collect();
        assert_eq!(
            definiteness(&int(&refs)).unwrap(),
            PositiveSemidefiniteSingular
        );
        // Adding the identity makes it positive definite; subtracting ε·I
        // (scaled to integers: 14·vvᵀ − I has eigenvalues −1 and 14·14−1) not.
        let pd: Vec<Vec<i64>> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                r.iter()
                    .enumerate()
                    .map(|(j, &x)| x + i64::from(i == j))
                    .collect()
            })
            .collect();
        let refs: Vec<&[i64]> = pd.iter().map(|r| r.as_slice()).collect();
        assert_eq!(definiteness(&int(&refs)).unwrap(), PositiveDefinite);
        let neg: Vec<Vec<i64>> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                r.iter()
                    .enumerate()
                    .map(|(j, &x)| 14 * x - i64::from(i == j))
                    .collect()
            })
            .collect();
        let refs: Vec<&[i64]> = neg.iter().map(|r| r.as_slice()).collect();
        assert_eq!(definiteness(&int(&refs)).unwrap(), Indefinite);
    }

    #[test]
    fn pivoting_cases() {
        // Zero leading entry with a nonzero off-diagonal entry: never PSD.
        assert_eq!(definiteness(&int(&[&[0, 1], &[1, 5]])).unwrap(), Indefinite);
        // PSD with zero diagonal rows/columns in front: needs the swap.
        assert_eq!(
            definiteness(&int(&[&[0, 0, 0], &[0, 2, 1], &[0, 1, 2]])).unwrap(),
            PositiveSemidefiniteSingular
        );
        // PD but the natural order has a small leading pivot.
        assert_eq!(
            definiteness(&int(&[&[1, 2, 0], &[2, 5, 3], &[0, 3, 10]])).unwrap(),
            PositiveDefinite
        );
        // Zero diagonal Schur complement with a nonzero off-diagonal entry
        // after one step: [[1,1,1],[1,1,2],[1,2,1]] → S = [[0,1],[1,0]].
        assert_eq!(
            definiteness(&int(&[&[1, 1, 1], &[1, 1, 2], &[1, 2, 1]])).unwrap(),
            Indefinite
        );
        // All diagonal entries positive, yet indefinite (det < 0).
        assert_eq!(definiteness(&int(&[&[1, 3], &[3, 1]])).unwrap(), Indefinite);
        // Large entries: [[2^200, 2^100],[2^100, 1]] is singular PSD,
        // adding 1 to the corner makes it PD.
        let big = BigInt::one() << 100usize;
        let m = vec![
            vec![&big * &big, big.clone()],
            vec![big.clone(), BigInt::one()],
        ];
        assert_eq!(definiteness(&m).unwrap(), PositiveSemidefiniteSingular);
        let mut m2 = m.clone();
        m2[1][1] += 1;
        assert_eq!(definiteness(&m2).unwrap(), PositiveDefinite);
        let mut m3 = m;
        m3[1][1] -= 1;
        assert_eq!(definiteness(&m3).unwrap(), Indefinite);
    }

    #[test]
    fn rejects_bad_shapes() {
        assert!(matches!(
            definiteness(&int(&[&[1, 2], &[2]])).unwrap_err(),
            Error::ShapeMismatch { .. }
        ));
        assert!(matches!(
            definiteness(&int(&[&[1, 2], &[3, 4]])).unwrap_err(),
            Error::InvalidOption(_)
        ));
    }
}
