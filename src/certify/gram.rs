//! The Gram matrix C = fl(SᵀS) of a (scaled) matrix S together with a
//! rigorous bound on how far it is from the exact SᵀS.

use crate::matrix::DenseMatrix;
use crate::rounding::{self, ETA};
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::reborrow::*;
use faer::{Accum, Mat, Par};

/// C = fl(SᵀS) (lower triangle valid) and ρ ≥ ‖C − SᵀS‖₂.
#[derive(Debug, Clone)]
pub struct GramWithError {
    /// Lower triangle of fl(SᵀS); the strict upper triangle is unspecified.
    pub lower: Mat<f64>,
    /// ρ, an upper bound on ‖C − SᵀS‖₂ where C is the symmetric matrix with
    /// lower triangle `lower`.
    pub radius: f64,
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
        let fro = s.frobenius_up();
        let radius = rounding::add_up(
            rounding::mul_up(rounding::gamma(m), rounding::mul_up(fro, fro)),
            rounding::mul_up(rounding::mul_up(m as f64, n as f64), ETA),
        );
        Self { lower, radius }
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

    /// C rounded to f32 with both triangles filled (for the estimators'
    /// fast products; no guarantee rests on it).
    pub fn symmetric_f32(&self) -> Mat<f32> {
        const TILE: usize = 64;
        let n = self.dim();
        let mut full = Mat::<f32>::zeros(n, n);
        // Fill both triangles tile by tile, so both the reads and the writes
        // stay in cache.
        for jb in (0..n).step_by(TILE) {
            for ib in (jb..n).step_by(TILE) {
                for j in jb..(jb + TILE).min(n) {
                    for i in ib.max(j)..(ib + TILE).min(n) {
                        let v = self.lower[(i, j)] as f32;
                        full[(i, j)] = v;
                        full[(j, i)] = v;
                    }
                }
            }
        }
        full
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
