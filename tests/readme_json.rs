//! The README's "JSON output" section names every field each command emits
//! (run on the bundled examples), so a new field cannot go undocumented.

mod common;

use common::cli::run;
use serde_json::Value;
use std::collections::BTreeSet;

/// Every object key in `v`, recursively.
fn keys(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                out.insert(k.clone());
                keys(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| keys(x, out)),
        _ => {}
    }
}

fn json_section() -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("## JSON output")
        .expect("README has a JSON section");
    let rest = &readme[start..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |e| e + 3);
    rest[..end].to_owned()
}

#[test]
fn every_emitted_json_field_is_documented() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("n.safetensors");
    let ex = |f: &str| format!("{}/examples/{f}", env!("CARGO_MANIFEST_DIR"));
    let (mlp, cnn) = (ex("mlp.safetensors"), ex("cnn.json"));
    // A checkpoint folder (a single model.safetensors): its summary line.
    let ckpt = dir.path().join("ckpt");
    std::fs::create_dir(&ckpt).unwrap();
    std::fs::copy(&mlp, ckpt.join("model.safetensors")).unwrap();
    let commands: Vec<Vec<&str>> = vec![
        vec!["sigma", &mlp, "--tensor", "fc1.weight", "--json"],
        vec!["sigma", ckpt.to_str().unwrap(), "--json"],
        vec!["norms", &mlp, "--tensor", "fc1.weight", "--json"],
        vec![
            "check",
            &mlp,
            "--tensor",
            "fc2.weight",
            "--claimed",
            "0.9",
            "--json",
        ],
        vec![
            "conv",
            &mlp,
            "--tensor",
            "conv1.weight",
            "--input",
            "8x8",
            "--json",
        ],
        vec![
            "normalize",
            &mlp,
            out_file.to_str().unwrap(),
            "--tensor",
            "fc3.weight",
            "--json",
        ],
        vec!["certify", &cnn, "--lower-budget", "0.2", "--json"],
    ];
    // The ONNX front end (records with the node's name).
    let onnx = ex("cnn.onnx");
    let mut commands = commands;
    if cfg!(feature = "onnx") {
        commands.push(vec!["conv", &onnx, "--tensor", "Conv_c1", "--json"]);
        commands.push(vec!["sigma", &onnx, "--json"]);
    }
    let section = json_section();
    let mut missing = Vec::new();
    for args in &commands {
        let o = run(args);
        assert!(o.code == 0 || o.code == 1, "{args:?}: {}", o.stderr);
        let mut found = BTreeSet::new();
        for line in o.stdout.lines().filter(|l| !l.trim().is_empty()) {
            keys(&serde_json::from_str(line).unwrap(), &mut found);
        }
        assert!(!found.is_empty(), "{args:?} printed no JSON");
        for k in found {
            if !section.contains(&format!("`{k}`")) {
                missing.push(format!("{}: {k}", args[0]));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "fields missing from the README's JSON section: {missing:?}"
    );
}
