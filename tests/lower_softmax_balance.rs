//! The lower-bound search on a network whose softmax output is saturated
//! almost everywhere: σ(J) and its gradient vanish with p₁p₂, so only a
//! search that moves its starts to balanced logits
//! (`network::softmax_balance`) finds the constant.

use lipcert::network::certify::{certify_network_with, CertifyOptions};
use lipcert::network::lower_bounds::LowerBoundOptions;
use lipcert::network::{NetworkSpec, Tensor, Weights};

/// f(x) = softmax(Wx + b), W 2×8, b = (β, −β): J(x) = p₁p₂·[[1, −1], [−1, 1]]·W,
/// so Lip(f) = max p₁p₂ · ‖[[1, −1], [−1, 1]]W‖ = ¼·√2·‖w₁ − w₂‖, attained
/// where the logits are equal.
fn saturated_classifier(beta: f64) -> (NetworkSpec, Weights, f64) {
    let spec = NetworkSpec::from_json(
        r#"{"weights": "-", "input_shape": [8], "layers": [
            {"type": "linear", "weight": "w", "bias": "b"}, {"type": "softmax"}]}"#,
    )
    .unwrap();
    let w1 = [0.3, -0.2, 0.1, 0.4, -0.1, 0.2, 0.0, -0.3];
    let w2 = [-0.1, 0.2, 0.3, -0.2, 0.1, 0.0, 0.2, 0.1];
    let mut weights = Weights::new();
    let rows: Vec<f64> = w1.iter().chain(&w2).copied().collect();
    weights.insert("w", Tensor::new(vec![2, 8], rows).unwrap());
    weights.insert("b", Tensor::new(vec![2], vec![beta, -beta]).unwrap());
    let diff: f64 = w1
        .iter()
        .zip(&w2)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        .sqrt();
    (spec, weights, 0.25 * std::f64::consts::SQRT_2 * diff)
}

#[test]
fn the_search_finds_a_saturated_softmax_constant() {
    // β = 0: the logits are balanced at 0 already; β = 50: |logit gap| ≈ 100
    // at every start (p₁p₂ ≈ e⁻¹⁰⁰; an ascent still sees a direction);
    // β = 400: p₁p₂ underflows to 0 at every start, so σ(J) and its
    // gradient are exactly 0 there (the search without the balancing move
    // found 0).
    for beta in [0.0, 50.0, 400.0] {
        let (spec, w, lip) = saturated_classifier(beta);
        let options = CertifyOptions {
            lower: Some(LowerBoundOptions::default()),
            ..CertifyOptions::default()
        };
        let r = certify_network_with(&spec, &w, &options, &mut |_, _| {}).unwrap();
        assert!(r.upper >= lip, "β = {beta}: upper {} < Lip {lip}", r.upper);
        assert!(
            r.lower <= lip * (1.0 + 1e-12),
            "β = {beta}: {} > {lip}",
            r.lower
        );
        assert!(
            r.lower >= 0.999 * lip,
            "β = {beta}: lower {} < 0.999·Lip {lip}",
            r.lower
        );
    }
}
