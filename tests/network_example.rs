//! The committed example network: the files are exactly what the committed
//! generator writes, and `certify` gives a consistent report on them.

#[allow(dead_code)]
#[path = "../examples/make_cnn.rs"]
mod make_cnn;

use lipcert::network::certify::certify_spec_file;
use lipcert::network::{NetworkSpec, Weights};
use std::path::Path;

fn examples() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples"))
}

#[test]
fn committed_files_are_what_the_generator_writes() {
    let (spec, weights) = make_cnn::build();
    let bytes = std::fs::read(examples().join("cnn.safetensors")).unwrap();
    assert_eq!(bytes, weights.to_safetensors_f32_bytes().unwrap());
    let json = std::fs::read_to_string(examples().join("cnn.json")).unwrap();
    assert_eq!(NetworkSpec::from_json(&json).unwrap(), spec);
    // f32 storage is exact for the generated values.
    assert_eq!(Weights::from_safetensors_bytes(&bytes).unwrap(), {
        let mut w = weights.clone();
        for name in weights.names().map(String::from).collect::<Vec<_>>() {
            let mut t = weights.get(&name, "test").unwrap().clone();
            t.dtype = lipcert::SourceDtype::F32;
            w.insert(name, t);
        }
        w
    });
}

#[test]
fn example_cnn_certifies() {
    let mut calls = Vec::new();
    let report =
        certify_spec_file(&examples().join("cnn.json"), &mut |d, t| calls.push((d, t))).unwrap();
    assert_eq!(report.layers.len(), 9);
    assert_eq!(calls.last(), Some(&(9, 9)));
    assert_eq!(report.guarantee, "rigorous");
    assert!(report.lower > 0.0 && report.lower <= report.upper);
    let product = report
        .layers
        .iter()
        .fold(1.0f64, |p, l| lipcert::rounding::mul_up(p, l.upper));
    let plain = report.layers.iter().fold(1.0f64, |p, l| p * l.upper);
    assert!(report.upper <= product);
    // conv1 + bn1 are certified jointly (folded), which is tighter than the product
    let joint = report.layers[0].joint_upper_with_next.unwrap();
    assert!(joint < report.layers[0].upper * report.layers[1].upper);
    let with_joint = report.layers[2..]
        .iter()
        .fold(joint, |p, l| lipcert::rounding::mul_up(p, l.upper));
    // The product method is this folded product; `upper` is the smallest
    // method (LipLT is tighter on this network).
    assert!(report.upper <= report.bounds.product);
    assert!(report.bounds.product <= with_joint);
    assert!(
        report.bounds.product
            >= plain / (report.layers[0].upper * report.layers[1].upper) * joint * (1.0 - 1e-12)
    );
    // Layer constants that are known exactly: ReLU 1, max-pool 2x2 stride 2 is 1,
    // avg-pool 2x2 stride 2 is 1/2, flatten 1.
    for (i, want) in [(2usize, 1.0), (3, 1.0), (5, 1.0), (6, 0.5), (7, 1.0)] {
        assert_eq!(
            (report.layers[i].lower, report.layers[i].upper),
            (want, want),
            "layer {i} is exact"
        );
        let l = &report.layers[i];
        assert!(
            l.lower <= want && want <= l.upper && l.upper - l.lower <= 1e-12,
            "layer {i}: {l:?}"
        );
    }
    assert_eq!(report.layers[4].kind, "residual");
    assert_eq!(report.layers[8].shape_in, vec![128]);
    assert_eq!(report.layers[8].shape_out, vec![10]);
    // JSON: one object, numbers round-trip bit for bit.
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(
        json["upper"].as_f64().unwrap().to_bits(),
        report.upper.to_bits()
    );
    assert_eq!(
        json["lower"].as_f64().unwrap().to_bits(),
        report.lower.to_bits()
    );
    assert_eq!(json["layers"][0]["type"], "conv2d");
    assert_eq!(
        json["layers"][0]["shape_out"],
        serde_json::json!([8, 16, 16])
    );
    eprintln!("{report}");
}
