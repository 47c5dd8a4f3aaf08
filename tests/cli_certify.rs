//! `lipcert certify` on the committed example network and on bad specs,
//! running the real binary.

mod common;

use serde_json::Value;
use std::path::PathBuf;

fn run(args: &[&str]) -> (i32, String, String) {
    let o = common::cli::run(args);
    (o.code, o.stdout, o.stderr)
}

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join("cnn.json")
}

#[test]
fn certify_json_is_one_object_matching_the_library() {
    let spec = example();
    // One thread, as the library's default (the bits are compared).
    let (code, stdout, stderr) = run(&[
        "certify",
        spec.to_str().unwrap(),
        "--json",
        "--threads",
        "1",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout.trim().lines().count(),
        1,
        "one JSON object on one line"
    );
    let r: Value = serde_json::from_str(stdout.trim()).unwrap();
    faer::set_global_parallelism(faer::Par::Seq);
    let lib = lipcert::network::certify::certify_spec_file(&spec, &mut |_, _| {}).unwrap();
    assert_eq!(r["upper"].as_f64().unwrap().to_bits(), lib.upper.to_bits());
    let (upper, lower) = (r["upper"].as_f64().unwrap(), r["lower"].as_f64().unwrap());
    assert!(0.0 < lower && lower <= upper, "{r}");
    assert_eq!(r["guarantee"], "rigorous");
    let layers = r["layers"].as_array().unwrap();
    assert_eq!(layers.len(), lib.layers.len());
    // Each layer enclosure is ordered, and the network bound is at most the
    // product of the layer upper bounds (joint conv+BN folding can only
    // tighten it).
    let mut product = 1.0f64;
    for l in layers {
        let (lo, up) = (l["lower"].as_f64().unwrap(), l["upper"].as_f64().unwrap());
        assert!(lo <= up, "{l}");
        product *= up;
        for field in [
            "index",
            "type",
            "shape_in",
            "shape_out",
            "guarantee",
            "seconds",
        ] {
            assert!(l.get(field).is_some(), "missing {field}");
        }
    }
    assert!(upper <= product * (1.0 + 1e-12), "{upper} > {product}");
    for field in ["ratio", "failure_probability", "seconds"] {
        assert!(r.get(field).is_some(), "missing {field}");
    }
}

#[test]
fn certify_table_and_skipping_the_lower_bound() {
    let spec = example();
    let (code, stdout, _) = run(&["certify", spec.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("network Lipschitz upper bound (certified, rigorous)"),
        "{stdout}"
    );
    // (Only the product: the multiplier search is covered by cli_bounds.rs
    // and would double this test's time in a debug build.)
    let (code, stdout, _) = run(&[
        "certify",
        spec.to_str().unwrap(),
        "--no-lower",
        "--bounds",
        "product",
        "--json",
    ]);
    assert_eq!(code, 0);
    let r: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(r["lower"].as_f64().unwrap(), 0.0);
    assert!(r["ratio"].is_null());
}

#[test]
fn bad_specs_are_one_line_errors_with_exit_code_2() {
    let dir = tempfile::TempDir::new().unwrap();
    let weights = example().with_file_name("cnn.safetensors");
    let cases = [
        (
            format!(
                r#"{{"weights": "{}", "input_shape": [4], "layers": [{{"type": "attention"}}]}}"#,
                weights.display()
            ),
            "not globally Lipschitz",
        ),
        (
            r#"{"weights": "missing.safetensors", "input_shape": [4], "layers": []}"#.to_owned(),
            "missing.safetensors",
        ),
        (
            format!(
                r#"{{"weights": "{}", "input_shape": [3, 16, 16], "layers": [{{"type": "linear", "weight": "fc.weight"}}]}}"#,
                weights.display()
            ),
            "layer 0",
        ),
        ("{ not json".to_owned(), "spec.json"),
    ];
    for (text, needle) in cases {
        let path = dir.path().join("spec.json");
        std::fs::write(&path, &text).unwrap();
        let (code, stdout, stderr) = run(&["certify", path.to_str().unwrap()]);
        assert_eq!(code, 2, "{text}: {stderr}");
        assert!(stderr.contains(needle), "{text}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stdout.is_empty());
    }
}

/// `--threads`: one thread gives the same bounds on every run; two threads
/// give layer enclosures that overlap them and a network bound within
/// rounding of theirs.
#[test]
fn certify_threads_one_is_reproducible_and_two_agree() {
    let spec = example();
    let spec = spec.to_str().unwrap();
    let json = |threads: &str| -> Value {
        let (code, stdout, stderr) = run(&[
            "certify",
            spec,
            "--json",
            "--no-lower",
            "--bounds",
            "product",
            "--threads",
            threads,
        ]);
        assert_eq!(code, 0, "{stderr}");
        serde_json::from_str(stdout.trim()).unwrap()
    };
    let (one, again, two) = (json("1"), json("1"), json("2"));
    assert_eq!(
        one["upper"].as_f64().unwrap().to_bits(),
        again["upper"].as_f64().unwrap().to_bits()
    );
    let layers = |r: &Value| -> Vec<(f64, f64)> {
        r["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["lower"].as_f64().unwrap(), l["upper"].as_f64().unwrap()))
            .collect()
    };
    assert_eq!(layers(&one), layers(&again));
    for ((l1, u1), (l2, u2)) in layers(&one).into_iter().zip(layers(&two)) {
        assert!(
            l1 <= u2 && l2 <= u1,
            "[{l1}, {u1}] and [{l2}, {u2}] are disjoint"
        );
    }
    let (u1, u2) = (
        one["upper"].as_f64().unwrap(),
        two["upper"].as_f64().unwrap(),
    );
    assert!((u1 - u2).abs() <= 1e-8 * u1, "{u1} vs {u2}");
}

/// `--lower-seed` picks the search's random starts: the same seed gives the
/// same lower bound bit for bit (a work budget of `--lower-passes`, one
/// thread), another seed another search (every result a certified lower
/// bound below the same upper bound), and a seed that is not a u64 is a
/// usage error.
#[test]
fn certify_lower_seed_reproduces_and_varies_the_search() {
    let spec = example();
    let lower = |seed: &str| {
        let (code, stdout, stderr) = run(&[
            "certify",
            spec.to_str().unwrap(),
            "--bounds",
            "product",
            "--threads",
            "1",
            "--lower-seed",
            seed,
            "--lower-passes",
            "3000",
            "--json",
        ]);
        assert_eq!(code, 0, "{stderr}");
        let r: Value = serde_json::from_str(stdout.trim()).unwrap();
        let (lo, up) = (r["lower"].as_f64().unwrap(), r["upper"].as_f64().unwrap());
        assert!(0.0 < lo && lo <= up, "{r}");
        let passes = r["lower_sources"]["passes"].as_u64().unwrap();
        assert!((2_550..=3_300).contains(&passes), "{passes}: {r}");
        (lo, up)
    };
    let (a, upper_a) = lower("1");
    let (b, upper_b) = lower("1");
    let (c, upper_c) = lower("2");
    assert_eq!(a.to_bits(), b.to_bits());
    assert_ne!(a.to_bits(), c.to_bits(), "seed 2 searched the same points");
    assert_eq!(upper_a.to_bits(), upper_b.to_bits());
    assert_eq!(upper_a.to_bits(), upper_c.to_bits());
    let (code, _, stderr) = run(&["certify", spec.to_str().unwrap(), "--lower-seed", "-3"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--lower-seed"), "{stderr}");
}

/// `--lower-passes` is a count of network passes: not negative, not a
/// fraction, not together with `--lower-budget` (both bound the same
/// search); without either, the default work budget is used and reported.
#[test]
fn certify_lower_passes_is_validated_and_reported() {
    let spec = example();
    let spec = spec.to_str().unwrap();
    for bad in ["-1", "2.5", "many"] {
        let (code, _, stderr) = run(&["certify", spec, "--lower-passes", bad]);
        assert_eq!(code, 2, "{bad}: {stderr}");
        assert!(stderr.contains("--lower-passes"), "{bad}: {stderr}");
    }
    let (code, _, stderr) = run(&[
        "certify",
        spec,
        "--lower-passes",
        "100",
        "--lower-budget",
        "1",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--lower-passes") && stderr.contains("--lower-budget"),
        "{stderr}"
    );
    let (code, stdout, stderr) = run(&["certify", spec, "--bounds", "product", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let r: Value = serde_json::from_str(stdout.trim()).unwrap();
    let passes = r["lower_sources"]["passes"].as_u64().unwrap();
    // The example's automatic budget is thousands of passes (about 32 000).
    assert!(passes > 10_000, "{r}");
}
