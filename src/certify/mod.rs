//! Certificates: turn estimates into rigorous (or explicitly probabilistic)
//! bounds. Each function's doc comment states its theorem and its
//! floating-point assumptions.

pub mod abs_norm;
pub mod binary32_upper;
pub mod cholesky;
pub mod gram;
pub mod gram_upper;
pub mod hermitian_cholesky;
pub mod hermitian_upper;
pub mod p_norms;
pub mod pd_upper;
pub mod probabilistic;
pub mod refine;
pub mod rump;
pub mod vector_lower;
