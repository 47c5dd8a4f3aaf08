//! The Gram matrix C = fl(SᵀS) of a (scaled) matrix S together with a
//! rigorous bound on how far it is from the exact SᵀS.

use crate::matrix::DenseMatrix;
use crate::rounding::{self, ETA};
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::reborrow::*;
use faer::{Accum, Mat, Par};

/// Most rows per block of [`GramWithError::new_blocked_with`]: about √m
/// would minimize the height b + m/b, but each block re-reads and re-writes
/// C, so blocks stay large (m = 11008: 6 blocks of 1835 rows, height 1840).
pub const GRAM_BLOCK_ROWS: usize = 2048;

/// C ← C + P on the lower triangles (one rounded addition per entry).
fn add_lower(c: faer::MatMut<'_, f64>, p: faer::MatRef<'_, f64>) {
    let mut c = c;
    for j in 0..c.ncols() {
        let src = crate::columns::column(p.col(j));
        let dst = crate::columns::column_mut(c.rb_mut().col_mut(j));
        for (d, &v) in dst[j..].iter_mut().zip(&src[j..]) {
            *d += v;
        }
    }
}

/// C = fl(SᵀS) (lower triangle valid) and ρ ≥ ‖C − SᵀS‖₂.
#[derive(Debug, Clone)]
pub struct GramWithError {
    /// Lower triangle of fl(SᵀS); the strict upper triangle is unspecified.
    pub lower: Mat<f64>,
    /// ρ, an upper bound on ‖C − SᵀS‖₂ where C is the symmetric matrix with
    /// lower triangle `lower`.
    pub radius: f64,
    /// ‖S‖_F rounded up ([`DenseMatrix::frobenius_up`] of the S this Gram
    /// matrix was formed from; the radius rests on it, and the certification
    /// falls back to it as an upper bound on σ(S)).
    pub frobenius: f64,
}

impl GramWithError {
    /// Forms C = fl(SᵀS) with a symmetric rank-k update (lower triangle only,
    /// half the flops of a full product) and bounds its error.
    ///
    /// Theorem: each entry is a dot product of length m (the number of rows),
    /// so |C − SᵀS| ≤ γₘ |S|ᵀ|S| + m·η entrywise (Higham Lemma 3.1 with
    /// underflow; proof: proofs/theories/FloatDot.v, `dot_error_bound`). Then
    /// ‖C − SᵀS‖₂ ≤ ‖|C − SᵀS|‖₂ ≤ γₘ ‖|S|‖₂² + m·η·n ≤ γₘ ‖S‖_F² + m·n·η
    /// (a nonnegative matrix dominates in norm; ‖·‖₂ ≤ ‖·‖_F; proofs:
    /// proofs/theories/Norms.v, `spectral_le_abs`, `spectral_le_frobenius`).
    ///
    /// The dot-product bound holds for *every* evaluation order of the m
    /// products (any summation tree, FMAs included: FloatDot.v quantifies
    /// over trees), so it covers faer's blocked, vectorized and parallel
    /// kernels alike.
    ///
    /// Assumption (tested, not proved): faer's triangular matmul computes each
    /// lower-triangle entry as a sum of the m products in some order.
    ///
    /// S should be scaled (largest entry in [1, 2)) so nothing overflows.
    pub fn new(s: &DenseMatrix) -> Self {
        Self::new_with(s, 1)
    }

    /// [`GramWithError::new`] with the product split over `threads` threads
    /// (see [`crate::parallel`]; the same bound, since any summation order is
    /// covered; one thread is the sequential, bit-reproducible code).
    pub fn new_with(s: &DenseMatrix, threads: usize) -> Self {
        let (m, n) = (s.nrows(), s.ncols());
        let mut lower = Mat::<f64>::zeros(n, n);
        let sf = s.as_faer();
        crate::parallel::lower_product(
            lower.as_mut(),
            Accum::Replace,
            sf.transpose(),
            sf,
            1.0,
            threads,
        );
        Self::with_radius(lower, s, m)
    }

    /// C with ρ = γ_h‖S‖_F² + m·n·η, where every entry of C was summed by a
    /// tree of height at most `height` (≤ m, the number of products).
    fn with_radius(lower: Mat<f64>, s: &DenseMatrix, height: usize) -> Self {
        let (m, n) = (s.nrows(), s.ncols());
        let fro = s.frobenius_up();
        let radius = rounding::add_up(
            rounding::mul_up(rounding::gamma(height), rounding::mul_up(fro, fro)),
            rounding::mul_up(rounding::mul_up(m as f64, n as f64), ETA),
        );
        Self {
            lower,
            radius,
            frobenius: fro,
        }
    }

    /// [`GramWithError::new_with`] summed in row blocks: C = Σ_b S_bᵀS_b over
    /// B blocks of b ≤ [`GRAM_BLOCK_ROWS`] rows, each block's product formed
    /// afresh and then added to C (one rounded addition per entry and block),
    /// so that every entry of C is an evaluation tree of *height* at most
    /// h = b + B − 1 instead of m: the radius shrinks by about m/h (m = 11008:
    /// ≈ 5×).
    ///
    /// Theorem: a sum of products evaluated by a tree of height h satisfies
    /// |fl − Σ| ≤ γ_h Σ|aᵢbᵢ| + m·η (proof: proofs/theories/FloatDot.v,
    /// `dot_error_bound_height_simple`); a tree over b products has height at
    /// most b (whatever faer's order), and adding B partial sums one after
    /// the other adds B − 1 levels. The rest is as in [`GramWithError::new`]:
    /// ρ = γ_h‖S‖_F² + m·n·η.
    ///
    /// Cost: one more n×n matrix and B − 1 passes adding it into C.
    pub fn new_blocked_with(s: &DenseMatrix, threads: usize) -> Self {
        let (m, n) = (s.nrows(), s.ncols());
        let blocks = m.div_ceil(GRAM_BLOCK_ROWS);
        if blocks <= 1 {
            return Self::new_with(s, threads);
        }
        let rows = m.div_ceil(blocks);
        let sf = s.as_faer();
        let mut lower = Mat::<f64>::zeros(n, n);
        let mut part = Mat::<f64>::zeros(n, n);
        // Blocks of `rows` rows (the last one shorter); their number is at
        // most `blocks`.
        let starts: Vec<usize> = (0..m).step_by(rows).collect();
        for (b, &r0) in starts.iter().enumerate() {
            let block = sf.subrows(r0, rows.min(m - r0));
            let dst = if b == 0 {
                lower.as_mut()
            } else {
                part.as_mut()
            };
            crate::parallel::lower_product(
                dst,
                Accum::Replace,
                block.transpose(),
                block,
                1.0,
                threads,
            );
            if b > 0 {
                add_lower(lower.as_mut(), part.as_ref());
            }
        }
        Self::with_radius(lower, s, rows + starts.len() - 1)
    }

    /// Dimension n of the Gram matrix.
    pub fn dim(&self) -> usize {
        self.lower.nrows()
    }

    /// Largest diagonal entry of C (a lower estimate of σ²'s scale).
    pub fn max_diag(&self) -> f64 {
        (0..self.dim())
            .map(|i| self.lower[(i, i)])
            .fold(0.0, f64::max)
    }

    /// C rounded to f32, lower triangle only (the upper is left zero): what
    /// the estimators' fast products and the f32 factorization read; no
    /// guarantee rests on it.
    pub fn lower_f32(&self) -> Mat<f32> {
        let n = self.dim();
        let mut lower = Mat::<f32>::zeros(n, n);
        for j in 0..n {
            let src = crate::columns::column(self.lower.as_ref().col(j));
            let dst = lower
                .as_mut()
                .col_mut(j)
                .try_as_col_major_mut()
                .expect("columns of a faer Mat are contiguous")
                .as_slice_mut();
            for (d, &v) in dst[j..].iter_mut().zip(&src[j..]) {
                *d = v as f32;
            }
        }
        lower
    }

    /// y = C x from the lower triangle (for iterative refinement; no
    /// guarantee): y = L x + (L − diag)ᵀ x with two triangular products.
    pub fn apply(&self, x: &[f64], y: &mut [f64]) {
        let x = faer::ColRef::from_slice(x).as_mat();
        let mut y = faer::ColMut::from_slice_mut(y);
        triangular::matmul(
            y.rb_mut().as_mat_mut(),
            BlockStructure::Rectangular,
            Accum::Replace,
            self.lower.as_ref(),
            BlockStructure::TriangularLower,
            x,
            BlockStructure::Rectangular,
            1.0,
            Par::Seq,
        );
        triangular::matmul(
            y.as_mat_mut(),
            BlockStructure::Rectangular,
            Accum::Add,
            self.lower.as_ref().transpose(),
            BlockStructure::StrictTriangularUpper,
            x,
            BlockStructure::Rectangular,
            1.0,
            Par::Seq,
        );
    }
}
