//! The exact Gram matrix of a [`DenseMatrix`] as an integer matrix times a
//! power of two.
//!
//! With W = Z·2^q (Z an integer matrix, every finite f64 being a dyadic rational), the smaller Gram matrix is
//! G·2^(2q) with G = ZZᵀ (m×m) when m < n and G = ZᵀZ (n×n) otherwise. WWᵀ
//! and WᵀW have the same nonzero eigenvalues (if WᵀWv = λv with λ ≠ 0 then
//! Wv ≠ 0 and WWᵀ(Wv) = λ(Wv)), so λ_max of either is σ(W)²; and for s > 0
//! the extra zero eigenvalues of the larger one do not change whether
//! s²I − Gram is positive (semi)definite. Every entry of G is an exact
//! integer sum of integer products: nothing is rounded.

use super::dyadic::{decompose, DyadicVec};
use super::guard;
use crate::error::Result;
use crate::matrix::DenseMatrix;
use num_bigint::BigInt;
use num_traits::Zero;

/// σ(W)² in exact form: the integer Gram matrix G with Gram(W) = G·2^(2q).
///
/// Build it once with [`ExactGram::new`] and ask many questions
/// ([`ExactGram::compare_sigma`], [`ExactGram::contains_sigma`],
/// [`ExactGram::sigma_enclosure`]) without redoing the conversion.
#[derive(Debug, Clone)]
pub struct ExactGram {
    /// G (full symmetric storage, k×k with k = min(m, n)).
    pub(crate) gram: Vec<Vec<BigInt>>,
    /// q: W = Z·2^q.
    pub(crate) exponent: i64,
    /// tr(G) = ‖Z‖_F².
    pub(crate) trace: BigInt,
    /// Largest |wᵢⱼ| (a lower bound on σ(W)); 0 for the zero matrix.
    pub(crate) max_abs: f64,
}

impl ExactGram {
    /// Converts W exactly and forms its smaller Gram matrix.
    ///
    /// Errors: [`crate::Error::InvalidOption`] from the size guard (see
    /// [`MAX_EXACT_DIM`](super::MAX_EXACT_DIM) and
    /// [`MAX_EXACT_WORK`](super::MAX_EXACT_WORK)).
    pub fn new(w: &DenseMatrix) -> Result<Self> {
        let (rows, cols) = (w.nrows(), w.ncols());
        let parts: Vec<(i64, i64)> = w.to_row_major().into_iter().map(decompose).collect();
        let nonzero = parts.iter().filter(|&&(m, _)| m != 0);
        let span = match (
            nonzero.clone().map(|&(_, q)| q).min(),
            nonzero
                .map(|&(m, q)| q + i64::from(64 - m.unsigned_abs().leading_zeros()))
                .max(),
        ) {
            (Some(lo), Some(hi)) => (hi - lo) as u64,
            _ => 1,
        };
        guard::check_size(rows, cols, span)?;
        let z = DyadicVec::from_parts(&parts);
        let entry = |i: usize, j: usize| &z.ints[i * cols + j];
        let k = rows.min(cols);
        let dot = |a: usize, b: usize| -> BigInt {
            let mut sum = BigInt::zero();
            let len = if rows < cols { cols } else { rows };
            for t in 0..len {
                let (x, y) = if rows < cols {
                    (entry(a, t), entry(b, t))
                } else {
                    (entry(t, a), entry(t, b))
                };
                if !x.is_zero() && !y.is_zero() {
                    sum += x * y;
                }
            }
            sum
        };
        // Upper triangle by dot products, lower triangle mirrored.
        let mut gram: Vec<Vec<BigInt>> = (0..k)
            .map(|a| {
                (0..k)
                    .map(|b| if b >= a { dot(a, b) } else { BigInt::zero() })
                    .collect()
            })
            .collect();
        for a in 1..k {
            let (top, bottom) = gram.split_at_mut(a);
            for (b, row_b) in top.iter().enumerate() {
                bottom[0][b] = row_b[a].clone();
            }
        }
        let trace = (0..k).map(|i| &gram[i][i]).sum();
        Ok(Self {
            gram,
            exponent: z.exponent,
            trace,
            max_abs: w.max_abs(),
        })
    }

    /// The order k = min(m, n) of the Gram matrix.
    pub fn dim(&self) -> usize {
        self.gram.len()
    }

    /// True when W = 0 (then σ(W) = 0 exactly).
    pub fn is_zero(&self) -> bool {
        self.trace.is_zero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gram_is_exact_and_uses_the_smaller_side() {
        // W = [[0.5, 1, -1.5]] = [[1, 2, -3]]·2^-1; WWᵀ = 14·2^-2.
        let w = DenseMatrix::from_row_major(1, 3, &[0.5, 1.0, -1.5]).unwrap();
        let g = ExactGram::new(&w).unwrap();
        assert_eq!(g.dim(), 1);
        assert_eq!(g.exponent, -1);
        assert_eq!(g.gram, vec![vec![BigInt::from(14)]]);
        // Column: the same.
        let g = ExactGram::new(&w.transpose()).unwrap();
        assert_eq!(g.gram, vec![vec![BigInt::from(14)]]);
        // 2×2: WᵀW of [[1,2],[3,4]] = [[10,14],[14,20]].
        let w = DenseMatrix::from_row_major(2, 2, &[1.0, 2.0, 3.0, 4.0]).unwrap();
        let g = ExactGram::new(&w).unwrap();
        let expect: Vec<Vec<BigInt>> = [[10, 14], [14, 20]]
            .iter()
            .map(|r| r.iter().map(|&x| BigInt::from(x)).collect())
            .collect();
        assert_eq!(g.gram, expect);
        assert_eq!(g.trace, BigInt::from(30));
        assert!(!g.is_zero());
        assert!(
            ExactGram::new(&DenseMatrix::from_row_major(1, 1, &[0.0]).unwrap())
                .unwrap()
                .is_zero()
        );
    }

    #[test]
    fn size_guard_applies() {
        let w = DenseMatrix::from_fn(65, 65, |i, j| (i + j) as f64).unwrap();
        let e = ExactGram::new(&w).unwrap_err();
        assert!(
            e.to_string().contains("exact oracle is for small matrices"),
            "{e}"
        );
    }
}
