//! # lipcert — certified spectral norms and Lipschitz constants
//!
//! lipcert computes *enclosures* `[lower, upper]` of the spectral norm σ(W)
//! (largest singular value) of neural-network weight matrices that are
//! guaranteed to contain the true value of the stored numbers, rounding
//! included. See [`Enclosure`] and [`Guarantee`] for the vocabulary.

#![warn(missing_docs)]

pub mod budget;
pub mod certify;
#[cfg(feature = "cli")]
pub mod cli;
mod columns;
pub mod conv;
pub mod enclosure;
pub mod error;
pub mod estimate;
pub mod exact;
pub mod io;
pub mod matrix;
pub mod network;
pub mod normalize;
#[cfg(feature = "onnx")]
pub mod onnx;
pub mod operator;
pub mod oracle;
pub mod parallel;
pub mod random;
pub mod rounding;
pub mod sigma;
mod simd;
#[cfg(feature = "proptest")]
pub mod strategies;
pub mod timing;

pub use enclosure::{Enclosure, Guarantee, Method};
pub use error::{Error, Result};
pub use matrix::{DenseMatrix, ScaledMatrix, SourceDtype};
pub use operator::LinearOperator;
pub use sigma::{sigma, sigma_owned, SigmaOptions};

/// The README's Rust examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
