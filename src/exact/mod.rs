//! The exact oracle (`method = exact`): decisions about σ(W) in exact integer
//! arithmetic, the ground truth that every test of lipcert holds its
//! floating-point enclosures against.
//!
//! Every finite `f64` is a dyadic rational, so W = Z·2^q with an integer
//! matrix Z. For s ≥ 0, σ(W) < s ⇔ s²I − WᵀW ≻ 0 and
//! σ(W) ≤ s ⇔ s²I − WᵀW ⪰ 0; after scaling by a power of two this is the
//! definiteness of an integer matrix, decided exactly by fraction-free
//! symmetric-pivoted Bareiss elimination ([`definiteness`](fn@definiteness)).
//! On top of that: exact comparison ([`compare_sigma`]), interval membership
//! ([`contains_sigma`]), enclosures to adjacent floats by bisection
//! ([`sigma_enclosure`]), and exact checks of the Lipschitz inequality at
//! sample points ([`lipschitz_ratio_at_most`], [`ratio_at_least`]).
//!
//! The oracle is for small matrices: see [`MAX_EXACT_DIM`] and
//! [`MAX_EXACT_WORK`]. Use [`ExactGram`] to ask many questions about one
//! matrix without converting it again.

pub mod bisection;
pub mod compare;
pub mod definiteness;
pub(crate) mod dyadic;
pub mod gram;
pub mod guard;
pub mod lipschitz;

pub use bisection::sigma_enclosure;
pub use compare::{compare_sigma, contains_sigma};
pub use definiteness::{definiteness, Definiteness};
pub use gram::ExactGram;
pub use guard::{estimated_work, MAX_EXACT_DIM, MAX_EXACT_WORK};
pub use lipschitz::{lipschitz_ratio_at_most, ratio_at_least};
