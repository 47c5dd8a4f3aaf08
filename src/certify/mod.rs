//! Certificates: turn estimates into rigorous (or explicitly probabilistic)
//! bounds. Each function's doc comment states its theorem and its
//! floating-point assumptions.

pub mod cholesky;
pub mod gram;
pub mod pd_upper;
pub mod refine;
pub mod rump;
pub mod vector_lower;
