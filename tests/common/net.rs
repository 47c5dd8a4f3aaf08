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
