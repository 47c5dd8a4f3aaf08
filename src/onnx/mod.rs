//! ONNX front end: reads `.onnx` models (hand-written prost messages, no
//! `protoc`), folds constant subgraphs, resolves external data, infers
//! static shapes and builds lipcert's network IR, refusing by name what
//! cannot be bounded.
//!
//! ```no_run
//! use lipcert::onnx::{import_file, ImportOptions};
//! let net = import_file(std::path::Path::new("examples/cnn.onnx"), &ImportOptions::default()).unwrap();
//! println!("{} layers", net.network.nodes.len());
//! ```

pub mod builder;
pub mod constants;
pub mod error;
pub mod import;
pub mod proto;
pub mod resize;
pub mod shapes;
pub mod tensor;

pub use error::{OnnxError, OnnxResult};
pub use import::{
    forward_outputs, import_bytes, import_file, import_model, read_tensor_file, ImportOptions,
    OnnxNetwork, WeightInfo,
};
