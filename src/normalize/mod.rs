//! Spectral normalization, certified: lipcert's own `W/σ` with a certificate
//! on the stored result, and exact replays of what PyTorch's and Keras's
//! power-iteration spectral normalization do, so their results can be
//! certified after k training steps.

pub mod conv;
pub mod dense;
pub mod keras;
pub mod pytorch;

pub use dense::{deviation_from_one, spectral_normalize};
pub use keras::KerasSpectralNorm;
pub use pytorch::{Precision, TorchSpectralNorm};
