//! Networks: a JSON spec mirroring PyTorch modules, resolved against a
//! safetensors state dict, with a certified upper bound on the Lipschitz
//! constant (product of certified layer bounds) and the best certified lower
//! bound found by sampling, Jacobian power iteration and gradient ascent.
//!
//! ```no_run
//! use lipcert::network::certify::certify_spec_file;
//! let report = certify_spec_file(std::path::Path::new("examples/cnn.json"), &mut |_, _| {}).unwrap();
//! println!("{report}");
//! ```

pub(crate) mod accurate_affine;
pub mod bounds;
pub mod build;
pub mod certify;
pub mod constants;
pub mod conv_layer;
pub mod conv_transpose_layer;
pub mod elementwise;
pub mod evaluate;
pub mod layer;
pub mod lipschitz;
pub mod log_softmax;
pub mod lower_bounds;
pub mod memory;
pub(crate) mod pass_count;
pub mod pool;
pub mod pool_group;
pub mod select;
pub(crate) mod softmax_balance;
pub mod spec;
pub mod special;
pub mod stacked_concat;
/// proptest strategies (feature `proptest`).
#[cfg(feature = "proptest")]
pub mod strategies;
pub mod weights;

pub use certify::{certify_network, certify_network_with, CertifyOptions, NetworkReport};
pub use certify::{certify_spec_file, certify_spec_file_with};
pub use layer::Network;
pub use spec::NetworkSpec;
pub use weights::{Tensor, Weights};
