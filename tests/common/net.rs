//! Small networks with random weights for the integration tests.

use super::lcg::Lcg;
use lipcert::network::certify::certify_layers;
use lipcert::network::{Network, NetworkSpec, Tensor, Weights};
use lipcert::SigmaOptions;

/// The network of the JSON `spec` with each listed tensor drawn from `rng`
/// (uniform in [−scale, scale), in the order listed), its layers certified.
pub fn random_certified(
    spec: &str,
    tensors: &[(&str, &[usize])],
    rng: &mut Lcg,
    scale: f64,
) -> Network {
    let spec = NetworkSpec::from_json(spec).unwrap();
    let mut weights = Weights::new();
    for (name, shape) in tensors {
        let len = shape.iter().product();
        weights.insert(
            *name,
            Tensor::new(shape.to_vec(), rng.vec(len, scale)).unwrap(),
        );
    }
    let mut net = Network::from_spec(&spec, &weights).unwrap();
    certify_layers(&mut net, &SigmaOptions::default(), &mut |_, _| {}).unwrap();
    net
}

/// The dense matrix (row-major, rows × cols) of a network's convolution,
/// column by column from its exact linear map on the unit vectors.
pub fn dense_conv(conv: &lipcert::network::conv_layer::ConvLayer) -> (Vec<f64>, usize, usize) {
    let (rows, cols) = (conv.output_len(), conv.input_len());
    let mut m = vec![0.0; rows * cols];
    for j in 0..cols {
        let mut e = vec![0.0; cols];
        e[j] = 1.0;
        for (r, v) in conv.apply_linear(&e).into_iter().enumerate() {
            m[r * cols + j] = v;
        }
    }
    (m, rows, cols)
}
