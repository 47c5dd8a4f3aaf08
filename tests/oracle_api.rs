//! lipcert used the way another crate's test suite would use it: only the
//! public API (`lipcert::oracle`, the proptest strategies, networks).

use lipcert::network::strategies::{conv_case, mlp};
use lipcert::network::{certify_network, evaluate, Network};
use lipcert::oracle::{self, OracleError};
use lipcert::strategies::{any_family, matrix, Family};
use lipcert::DenseMatrix;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngSeed};

/// A deliberately sloppy power iteration, standing in for "another crate's
/// σ estimator" under test.
fn their_sigma_estimate(w: &DenseMatrix, steps: usize) -> f64 {
    let mut v = vec![1.0; w.ncols()];
    let mut s = 0.0;
    for _ in 0..steps {
        let wv: Vec<f64> = (0..w.nrows())
            .map(|i| (0..w.ncols()).map(|j| w.get(i, j) * v[j]).sum())
            .collect();
        let wtwv: Vec<f64> = (0..w.ncols())
            .map(|j| (0..w.nrows()).map(|i| w.get(i, j) * wv[i]).sum())
            .collect();
        let n = wtwv.iter().map(|x| x * x).sum::<f64>().sqrt();
        if n == 0.0 {
            return 0.0;
        }
        s = wv.iter().map(|x| x * x).sum::<f64>().sqrt()
            / v.iter().map(|x| x * x).sum::<f64>().sqrt();
        v = wtwv.into_iter().map(|x| x / n).collect();
    }
    s
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x6f72_6163),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(16))]

    #[test]
    fn a_converged_estimator_passes(w in matrix(Family::Integer, 1..=6, 1..=6)) {
        // A few hundred power steps on an exact SVD stand-in: use lipcert's own
        // estimate as "their" converged value, with a tolerance.
        let e = lipcert::sigma(&w, &lipcert::SigmaOptions::default()).unwrap();
        oracle::assert_sigma_estimate_in_enclosure(&w, e.estimate(), 1e-12);
    }

    #[test]
    fn estimates_from_any_family_are_judged(w in any_family(1..=5, 1..=5)) {
        // A one-step estimate is a lower estimate: it must never be *above*
        // the certified upper bound (Rayleigh quotient ≤ σ).
        let claimed = their_sigma_estimate(&w, 1);
        match oracle::check_sigma_estimate(&w, claimed, 1e-12) {
            Ok(e) => prop_assert!(e.contains(claimed) || claimed <= e.upper() * (1.0 + 1e-12)),
            Err(OracleError::EstimateOutsideEnclosure { claimed: c, lower, .. }) => prop_assert!(c < lower),
            Err(other) => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn networks_are_lipschitz_with_their_certified_bound((spec, weights) in mlp(4, 3), seed in 0u64..1000) {
        let report = certify_network(&spec, &weights, &mut |_, _| {}).unwrap();
        let net = Network::from_spec(&spec, &weights).unwrap();
        let n = net.input_len();
        let samples: Vec<(Vec<f64>, Vec<f64>)> = (0..8u64)
            .map(|k| {
                let x: Vec<f64> = (0..n).map(|i| ((seed + k * 31 + i as u64 * 7) % 17) as f64 / 4.0 - 2.0).collect();
                let y: Vec<f64> = x.iter().enumerate().map(|(i, v)| v + ((i as u64 + k) % 5) as f64 / 8.0 - 0.25).collect();
                (x, y)
            })
            .collect();
        // f64 forward pass: rounding is far below 1e-9 relative for these sizes.
        let f = |x: &[f64]| evaluate::forward(&net, x).unwrap();
        prop_assert!(oracle::check_lipschitz_on_samples(f, report.upper, &samples, 1e-9).is_ok());
    }

    #[test]
    fn conv_cases_are_valid_layers(case in conv_case()) {
        let conv = lipcert::network::conv_layer::ConvLayer::new(
            case.kernel.clone(),
            [case.c_out, case.c_in / case.groups, case.kernel_hw.0, case.kernel_hw.1],
            None,
            case.c_in,
            case.in_hw,
            case.stride,
            (case.padding.0, case.padding.0, case.padding.1, case.padding.1),
            case.dilation,
            case.groups,
        );
        prop_assert!(conv.is_ok());
    }
}

#[test]
fn failure_messages_say_what_is_wrong() {
    let w = DenseMatrix::from_row_major(2, 2, &[3.0, 0.0, 0.0, 4.0]).unwrap();
    let err = oracle::check_sigma_estimate(&w, 3.0, 1e-6)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("outside the certified enclosure") && err.contains("below"),
        "{err}"
    );
    let msg =
        std::panic::catch_unwind(|| oracle::assert_sigma_estimate_in_enclosure(&w, 5.0, 1e-6))
            .unwrap_err()
            .downcast::<String>()
            .unwrap();
    assert!(msg.contains("above") && msg.contains("5e0"), "{msg}");

    // f(x) = 2x is not 1-Lipschitz; the worst pair is reported.
    let samples = vec![(vec![0.0], vec![1.0]), (vec![0.0], vec![2.0])];
    let err = oracle::check_lipschitz_on_samples(|x: &[f64]| vec![2.0 * x[0]], 1.0, &samples, 0.0)
        .unwrap_err();
    match &err {
        OracleError::NotLipschitz { ratio, claimed, .. } => {
            assert_eq!((*ratio, *claimed), (2.0, 1.0))
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("not 1e0-Lipschitz"), "{err}");
    oracle::assert_lipschitz_on_samples(|x: &[f64]| vec![2.0 * x[0]], 2.0, &samples);

    // A matrix with norm 1.001 is not normalized within 1e-6, but is within 1e-2.
    let w = DenseMatrix::from_row_major(1, 2, &[1.001, 0.0]).unwrap();
    let err = oracle::check_normalized(&w, 1e-6).unwrap_err().to_string();
    assert!(
        err.contains("not within") && err.contains("norm 1"),
        "{err}"
    );
    oracle::assert_normalized(&w, 1e-2);
    let (wn, _) = lipcert::normalize::spectral_normalize(
        &DenseMatrix::from_row_major(2, 3, &[1.0, 2.0, 3.0, -4.0, 5.0, 0.5]).unwrap(),
    )
    .unwrap();
    oracle::assert_normalized(&wn, 1e-8);
    // bad input is an error value, not a panic
    assert!(matches!(
        oracle::check_sigma_estimate(&w, 1.0, f64::NAN),
        Err(OracleError::Input(_))
    ));
}

/// The conv oracle: a kernel "normalized" by its reshaped-kernel norm (what
/// framework `spectral_norm` divides by) is caught by
/// `check_conv_normalized`, while the same kernel divided by its certified
/// operator norm passes; `check_conv_sigma_at_most` agrees.
#[test]
fn conv_oracle_catches_reshaped_normalization() {
    use lipcert::conv::{conv_sigma, Conv2dGeometry, ConvOptions, Kernel, PaddingMode};
    let values: Vec<f64> = (0..2 * 2 * 9)
        .map(|k| ((k * 29 % 13) as f64 - 6.0) / 8.0)
        .collect();
    let g = Conv2dGeometry::new(2, 2, 3, 3, 6, 6)
        .with_padding((1, 1, 1, 1))
        .with_mode(PaddingMode::Circular);
    let raw = Kernel::from_f64(2, 2, 3, 3, &values[..]).unwrap();
    let r = raw.reshaped().unwrap();
    let reshaped_sigma = lipcert::sigma(&r, &lipcert::SigmaOptions::default())
        .unwrap()
        .estimate();
    let by_reshaped: Vec<f64> = values.iter().map(|v| v / reshaped_sigma).collect();
    let sn = Kernel::from_f64(2, 2, 3, 3, by_reshaped).unwrap();
    let err = oracle::check_conv_normalized(&sn, &g, 1e-3).unwrap_err();
    assert!(
        matches!(err, OracleError::NotNormalized { lower, .. } if lower > 1.0 + 1e-3),
        "{err}"
    );
    assert!(matches!(
        oracle::check_conv_sigma_at_most(&sn, &g, 1.0),
        Err(OracleError::AboveBound { lower, at_most, .. }) if lower > at_most
    ));
    // Divided by the operator norm instead: within rounding of 1.
    let true_sigma = conv_sigma(&raw, &g, &ConvOptions::default())
        .unwrap()
        .enclosure
        .estimate();
    let by_true: Vec<f64> = values.iter().map(|v| v / true_sigma).collect();
    let good = Kernel::from_f64(2, 2, 3, 3, by_true).unwrap();
    oracle::assert_conv_normalized(&good, &g, 1e-9);
    oracle::assert_conv_sigma_at_most(&good, &g, 1.0 + 1e-9);
    oracle::assert_conv_sigma_estimate_in_enclosure(&raw, &g, true_sigma, 1e-12);
    assert!(oracle::check_conv_sigma_estimate(&raw, &g, reshaped_sigma, 1e-6).is_err());
    // The panicking form names the problem.
    let msg = std::panic::catch_unwind(|| oracle::assert_conv_sigma_at_most(&sn, &g, 1.0))
        .unwrap_err()
        .downcast::<String>()
        .unwrap();
    assert!(msg.contains("certainly above"), "{msg}");
}

/// The network oracle: a claim below the certified lower bound is "certainly
/// above"; a claim between the bounds is "could not be certified"; a claim
/// above the certified upper bound passes.
#[test]
fn network_oracle_tells_wrong_from_unprovable() {
    use lipcert::network::spec::NetworkSpec;
    use lipcert::network::weights::{Tensor, Weights};
    let spec = NetworkSpec::from_json(
        r#"{"weights": "-", "input_shape": [2], "layers": [
            {"type": "linear", "weight": "a"}, {"type": "relu"}, {"type": "linear", "weight": "b"}]}"#,
    )
    .unwrap();
    let mut w = Weights::new();
    // Lip = max over activation patterns of ‖b·D·a‖ = ‖(3, 4)‖ = 5 (both on).
    w.insert(
        "a",
        Tensor::new(vec![2, 2], vec![1.0, 0.0, 0.0, 1.0]).unwrap(),
    );
    w.insert("b", Tensor::new(vec![1, 2], vec![3.0, 4.0]).unwrap());
    let net = Network::from_spec(&spec, &w).unwrap();
    let report = oracle::check_network_lipschitz_at_most(&net, 5.0 * (1.0 + 1e-6)).unwrap();
    assert!(report.upper >= 5.0 && report.lower <= 5.0);
    match oracle::check_network_lipschitz_at_most(&net, 1.0) {
        Err(e @ OracleError::AboveBound { lower, .. }) => {
            assert!(lower > 1.0);
            assert!(e.to_string().contains("certainly above"), "{e}");
        }
        other => panic!("expected AboveBound, got {other:?}"),
    }
}

/// The geometry builder sets exactly the fields it names.
#[test]
fn geometry_builder_equals_field_assignment() {
    use lipcert::conv::{Conv2dGeometry, PaddingMode};
    let mut by_fields = Conv2dGeometry::new(4, 2, 3, 3, 9, 7);
    by_fields.padding = (1, 2, 0, 1);
    by_fields.stride = (2, 1);
    by_fields.dilation = (1, 2);
    by_fields.groups = 2;
    by_fields.mode = PaddingMode::Reflect;
    let built = Conv2dGeometry::new(4, 2, 3, 3, 9, 7)
        .with_padding((1, 2, 0, 1))
        .with_stride((2, 1))
        .with_dilation((1, 2))
        .with_groups(2)
        .with_mode(PaddingMode::Reflect);
    assert_eq!(built, by_fields);
}
