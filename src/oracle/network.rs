//! Oracle check for whole networks: the certified Lipschitz upper bound of
//! a [`Network`] held against a claimed constant.

use super::{bound_verdict, OracleError};
use crate::network::certify::{certify_layers, report_for, NetworkReport};
use crate::network::layer::Network;
use crate::network::lower_bounds::LowerBoundOptions;
use crate::sigma::SigmaOptions;
use std::time::Instant;

/// Checks that the network's ℓ₂ Lipschitz constant is certainly ≤ `at_most`:
/// certifies every layer, composes the bounds (the `lipcert certify`
/// report) and passes when the certified upper bound is ≤ `at_most`. On
/// failure the error carries the best *achieved* lower bound (a certified
/// pair ratio) too, so it tells a wrong claim (`lower > at_most`) from one
/// lipcert cannot prove.
///
/// ```
/// use lipcert::network::{layer::Network, spec::NetworkSpec, weights::{Tensor, Weights}};
/// use lipcert::oracle;
/// let spec = NetworkSpec::from_json(r#"{"weights": "-", "input_shape": [2], "layers": [
///     {"type": "linear", "weight": "a"}, {"type": "relu"}, {"type": "linear", "weight": "b"}]}"#).unwrap();
/// let mut w = Weights::new();
/// w.insert("a", Tensor::new(vec![2, 2], vec![0.5, 0.0, 0.0, 0.5]).unwrap());
/// w.insert("b", Tensor::new(vec![1, 2], vec![0.6, 0.8]).unwrap());
/// let net = Network::from_spec(&spec, &w).unwrap();
/// oracle::assert_network_lipschitz_at_most(&net, 0.5 + 1e-6);
/// assert!(oracle::check_network_lipschitz_at_most(&net, 0.25).is_err());
/// ```
pub fn check_network_lipschitz_at_most(
    net: &Network,
    at_most: f64,
) -> Result<NetworkReport, OracleError> {
    let start = Instant::now();
    let mut net = net.clone();
    certify_layers(&mut net, &SigmaOptions::default(), &mut |_, _| {})?;
    let report = report_for(&net, Some(&LowerBoundOptions::default()), start)?;
    bound_verdict(
        "network Lipschitz constant",
        report.lower,
        report.upper,
        at_most,
    )?;
    Ok(report)
}

/// Panicking form of [`check_network_lipschitz_at_most`].
#[track_caller]
pub fn assert_network_lipschitz_at_most(net: &Network, at_most: f64) {
    if let Err(e) = check_network_lipschitz_at_most(net, at_most) {
        panic!("{e}");
    }
}
