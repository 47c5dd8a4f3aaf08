//! [`DenseMatrix`] as a [`LinearOperator`].

use super::LinearOperator;
use crate::matrix::DenseMatrix;
use crate::rounding;
use faer::{Accum, ColMut, ColRef, Par};

impl LinearOperator for DenseMatrix {
    fn nrows(&self) -> usize {
        DenseMatrix::nrows(self)
    }

    fn ncols(&self) -> usize {
        DenseMatrix::ncols(self)
    }

    fn apply(&self, x: &[f64], y: &mut [f64]) {
        assert_eq!(x.len(), self.ncols(), "apply: input length");
        assert_eq!(y.len(), self.nrows(), "apply: output length");
        let x = ColRef::from_slice(x);
        let y = ColMut::from_slice_mut(y);
        faer::linalg::matmul::matmul(y, Accum::Replace, self.as_faer(), x, 1.0, Par::Seq);
    }

    fn apply_transpose(&self, y: &[f64], x: &mut [f64]) {
        assert_eq!(y.len(), self.nrows(), "apply_transpose: input length");
        assert_eq!(x.len(), self.ncols(), "apply_transpose: output length");
        let y = ColRef::from_slice(y);
        let x = ColMut::from_slice_mut(x);
        faer::linalg::matmul::matmul(
            x,
            Accum::Replace,
            self.as_faer().transpose(),
            y,
            1.0,
            Par::Seq,
        );
    }

    /// Each output entry is a dot product of length n evaluated in some order
    /// (faer's kernels may reorder and use FMA), so
    /// |fl(Wx) − Wx| ≤ γₙ |W||x| + n·η entrywise (Higham Lemma 3.1 with
    /// underflow), and ‖|W||x|‖₂ ≤ ‖W‖_F ‖x‖₂ (Cauchy–Schwarz per row). Hence
    /// ‖fl(Wx) − Wx‖₂ ≤ γₙ ‖W‖_F ‖x‖₂ + √m · n·η.
    ///
    /// Assumption (tested, not proved): faer's matrix–vector product computes
    /// every output entry as a sum of the n products in some order with IEEE
    /// operations. Proof of the bound itself: proofs/theories/FloatDot.v,
    /// `dot_error_bound`.
    fn apply_error_bound(&self, x_norm: f64) -> f64 {
        let (m, n) = (self.nrows(), self.ncols());
        let rel = rounding::mul_up(rounding::gamma(n), self.frobenius_up());
        let abs = rounding::mul_up(rounding::sqrt_up(m as f64), rounding::underflow_slack(n));
        rounding::add_up(rounding::mul_up(rel, x_norm), abs)
    }
}
