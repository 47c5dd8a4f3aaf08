//! Linear operators that lipcert can bound: dense matrices now, convolutions
//! and padding maps through the same interface.
//!
//! Every iterative method (power, Lanczos) and the rigorous vector lower bound
//! work on any [`LinearOperator`].

mod dense;

/// A real linear map A: ℝⁿ → ℝᵐ given by its action, without forming a matrix.
pub trait LinearOperator {
    /// m, the output dimension.
    fn nrows(&self) -> usize;

    /// n, the input dimension.
    fn ncols(&self) -> usize;

    /// y ← A x (`x.len() == ncols`, `y.len() == nrows`), in floating point.
    fn apply(&self, x: &[f64], y: &mut [f64]);

    /// x ← Aᵀ y (`y.len() == nrows`, `x.len() == ncols`), in floating point.
    fn apply_transpose(&self, y: &[f64], x: &mut [f64]);

    /// An upper bound on ‖fl(A x) − A x‖₂ over all x with ‖x‖₂ ≤ `x_norm`,
    /// where fl(A x) is what [`LinearOperator::apply`] computes in IEEE-754
    /// binary64 round-to-nearest arithmetic.
    ///
    /// Implementations state the rounding model they rely on. The rigorous
    /// vector lower bound uses this to turn a computed ‖fl(Av)‖ into a
    /// certified bound on ‖Av‖.
    fn apply_error_bound(&self, x_norm: f64) -> f64;
}
