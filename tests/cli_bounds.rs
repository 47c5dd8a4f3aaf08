//! `lipcert certify --bounds METHODS` (issue 12 item 5): each selected
//! method's certified bound is in the table and in the JSON `bounds` object,
//! the others are absent, `upper` is the smallest of those run, and an
//! unknown name is a one-line error with exit code 2 that lists the known
//! names. Runs the real binary on the committed examples.

mod common;

use serde_json::Value;
use std::path::PathBuf;

fn example(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

/// `certify SPEC --no-lower --json --bounds METHODS`, parsed.
fn certify_json(spec: &str, methods: &str) -> Value {
    let o = common::cli::run(&["certify", spec, "--no-lower", "--json", "--bounds", methods]);
    assert_eq!(o.code, 0, "--bounds {methods}: {}", o.stderr);
    serde_json::from_str(o.stdout.trim()).unwrap()
}

fn number(v: &Value, field: &str) -> Option<f64> {
    v["bounds"].get(field).map(|x| x.as_f64().unwrap())
}

#[test]
fn bounds_selects_the_methods_reported() {
    let spec = example("digits.json");
    let all = certify_json(&spec, "all");
    let product = number(&all, "product").unwrap();
    let liplt = number(&all, "liplt").unwrap();
    let multiplier = number(&all, "multiplier").unwrap();
    let upper = all["upper"].as_f64().unwrap();
    assert_eq!(upper, product.min(liplt).min(multiplier), "{all}");
    // On the digits MLP the multiplier certificate is the tightest
    // (tests/network_multiplier.rs `digits_mlp_methods`), and so `upper`.
    assert!(multiplier < liplt && liplt < product, "{all}");
    assert_eq!(all["upper_method"], "multiplier", "{all}");

    // Only the multiplier (the product is always computed).
    let m = certify_json(&spec, "multiplier");
    assert_eq!(number(&m, "multiplier"), Some(multiplier), "{m}");
    assert_eq!(number(&m, "product"), Some(product), "{m}");
    assert!(m["bounds"].get("liplt").is_none(), "{m}");
    assert!(m["bounds"].get("segments").is_none(), "{m}");
    assert_eq!(m["upper"].as_f64().unwrap(), multiplier);

    // product,liplt: no multiplier field, and no multiplier pieces.
    let pl = certify_json(&spec, "product,liplt");
    assert!(pl["bounds"].get("multiplier").is_none(), "{pl}");
    assert!(pl["bounds"].get("multiplier_pieces").is_none(), "{pl}");
    assert_eq!(number(&pl, "liplt"), Some(liplt), "{pl}");
    assert_eq!(pl["upper"].as_f64().unwrap(), liplt);
    assert_eq!(pl["upper_method"], "liplt", "{pl}");

    // product alone: the product is the answer.
    let p = certify_json(&spec, "product");
    assert!(p["bounds"].get("multiplier").is_none(), "{p}");
    assert!(p["bounds"].get("liplt").is_none(), "{p}");
    assert_eq!(p["upper"].as_f64().unwrap(), product);
}

#[test]
fn bounds_multiplier_in_the_table() {
    let spec = example("digits.json");
    let o = common::cli::run(&["certify", &spec, "--no-lower", "--bounds", "multiplier"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout.contains("bound multiplier (certified):"),
        "{}",
        o.stdout
    );
    assert!(!o.stdout.contains("bound liplt"), "{}", o.stdout);
    assert!(o.stdout.contains("[multiplier]"), "{}", o.stdout);
    let o = common::cli::run(&["certify", &spec, "--no-lower", "--bounds", "product,liplt"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!o.stdout.contains("bound multiplier"), "{}", o.stdout);
    assert!(
        o.stdout.contains("bound liplt (certified):"),
        "{}",
        o.stdout
    );
}

#[test]
fn unknown_bound_method_is_exit_2_listing_the_known_ones() {
    let spec = example("digits.json");
    for bad in ["lipsdp", "product,foo", "", "multiplier,,liplt"] {
        let o = common::cli::run(&["certify", &spec, "--no-lower", "--bounds", bad]);
        assert_eq!(o.code, 2, "--bounds '{bad}': {} {}", o.stdout, o.stderr);
        assert!(o.stdout.is_empty(), "--bounds '{bad}': {}", o.stdout);
        let err = o.stderr.trim();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("--bounds"), "{err}");
        for known in ["product", "liplt", "multiplier", "all"] {
            assert!(err.contains(known), "'{bad}': {err} does not list {known}");
        }
    }
}

/// On the example CNN the part after the max pool (residual block → ReLU →
/// average pool → flatten → linear, nodes 4..9) gets one segment
/// certificate (LipSDP-Neuron over the run), reported as a piece with its
/// product and its (smaller) bound; it replaced the residual block's own
/// certificate times the tail's product.
#[test]
fn bounds_multiplier_reports_the_segment_piece() {
    let r = certify_json(&example("cnn.json"), "multiplier");
    let pieces = r["bounds"]["multiplier_pieces"].as_array().unwrap();
    let seg: Vec<&Value> = pieces.iter().filter(|p| p["kind"] == "segment").collect();
    assert_eq!(seg.len(), 1, "{r}");
    assert_eq!(
        (seg[0]["start"].as_u64(), seg[0]["end"].as_u64()),
        (Some(4), Some(9)),
        "{r}"
    );
    let (p, m) = (
        seg[0]["product"].as_f64().unwrap(),
        seg[0]["multiplier"].as_f64().unwrap(),
    );
    assert!(0.0 < m && m < p, "{r}");
    let upper = r["upper"].as_f64().unwrap();
    assert!(upper <= number(&r, "product").unwrap(), "{r}");
    assert_eq!(upper, number(&r, "multiplier").unwrap(), "{r}");
}
