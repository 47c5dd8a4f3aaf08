//! Estimators of σ and of the leading singular vectors. None of these carry a
//! guarantee by themselves; the [`crate::certify`] module turns their output
//! into certified bounds.

pub mod gram_iteration;
pub mod gram_lanczos;
pub mod lanczos;
pub mod power;
pub mod shift_invert;
pub mod svd;
pub mod symmetric_lanczos;
pub(crate) mod symv;
pub mod tridiagonal;
