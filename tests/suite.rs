//! The integration tests, compiled as ONE test binary (issue 14: each of
//! the ~27 files used to be its own crate, and every one of them linked
//! lipcert and all its dependencies again; one crate compiles and links the
//! shared code once).
//!
//! The test files stay where they were (`tests/NAME.rs`, helpers in
//! `tests/common/`): each is a module here, loaded with `#[path]` so that
//! its own `mod common;` still finds `tests/common/mod.rs`. Cargo.toml sets
//! `autotests = false`, so a new `tests/NAME.rs` runs only once it is listed
//! below; `every_test_file_is_in_the_suite` fails until it is.
//!
//! One file's tests: `cargo test --test suite NAME::` (e.g.
//! `cargo test --test suite dense_sigma::`).

// Several test files include the shared helpers with their own `mod common;`.
#![allow(clippy::duplicate_mod)]

#[path = "binary32_certificate.rs"]
mod binary32_certificate;
#[path = "cli_bad_input.rs"]
mod cli_bad_input;
#[path = "cli_bounds.rs"]
mod cli_bounds;
#[path = "cli_certify.rs"]
mod cli_certify;
#[path = "cli_checkpoint.rs"]
mod cli_checkpoint;
#[path = "cli_commands.rs"]
mod cli_commands;
#[path = "cli_conv.rs"]
mod cli_conv;
#[path = "cli_limits.rs"]
mod cli_limits;
#[path = "conv_norms.rs"]
mod conv_norms;
#[path = "conv_operator.rs"]
mod conv_operator;
#[path = "dense_sigma.rs"]
mod dense_sigma;
#[path = "dense_threads.rs"]
mod dense_threads;
#[path = "estimators.rs"]
mod estimators;
#[path = "exact_oracle.rs"]
mod exact_oracle;
#[path = "gram_blocked.rs"]
mod gram_blocked;
#[path = "io_fuzz.rs"]
mod io_fuzz;
#[path = "io_readers.rs"]
mod io_readers;
#[path = "io_stored_matrix.rs"]
mod io_stored_matrix;
#[path = "lower_ascent.rs"]
mod lower_ascent;
#[path = "lower_bound_compensated.rs"]
mod lower_bound_compensated;
#[path = "lower_budget.rs"]
mod lower_budget;
#[path = "lower_softmax_balance.rs"]
mod lower_softmax_balance;
#[path = "measured_certificate.rs"]
mod measured_certificate;
#[path = "network_bounds.rs"]
mod network_bounds;
#[path = "network_constants.rs"]
mod network_constants;
#[path = "network_elementwise_slopes.rs"]
mod network_elementwise_slopes;
#[path = "network_example.rs"]
mod network_example;
#[path = "network_fourier.rs"]
mod network_fourier;
#[path = "network_fourier_multiplier.rs"]
mod network_fourier_multiplier;
#[path = "network_multiplier.rs"]
mod network_multiplier;
#[path = "network_pool_group.rs"]
mod network_pool_group;
#[path = "network_properties.rs"]
mod network_properties;
#[path = "network_spec.rs"]
mod network_spec;
#[path = "network_stacked_concat.rs"]
mod network_stacked_concat;
#[path = "normalize_pytorch.rs"]
mod normalize_pytorch;
#[path = "onnx_cli.rs"]
mod onnx_cli;
#[path = "onnx_conformance.rs"]
mod onnx_conformance;
#[path = "onnx_conv_transpose.rs"]
mod onnx_conv_transpose;
#[path = "onnx_example.rs"]
mod onnx_example;
#[path = "onnx_malformed.rs"]
mod onnx_malformed;
#[path = "onnx_ops.rs"]
mod onnx_ops;
#[path = "oracle_api.rs"]
mod oracle_api;
#[path = "proof_refs.rs"]
mod proof_refs;
#[path = "readme_json.rs"]
mod readme_json;
#[path = "real_cnn_overlapping_pools.rs"]
mod real_cnn_overlapping_pools;
#[path = "real_cnn_pnet.rs"]
mod real_cnn_pnet;
#[path = "real_ff_blocks.rs"]
mod real_ff_blocks;
#[path = "rounding_special.rs"]
mod rounding_special;
#[path = "spec_fuzz.rs"]
mod spec_fuzz;

/// Every `tests/NAME.rs` (and `tests/NAME/main.rs`, which cargo would also
/// have made a test) is a module of this suite: with `autotests = false` a
/// file that is not listed here would silently never run.
#[test]
fn every_test_file_is_in_the_suite() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let suite = std::fs::read_to_string(dir.join("suite.rs")).unwrap();
    // The `#[path]` + `mod` pairs of this file, as written above.
    let lines: Vec<&str> = suite.lines().map(str::trim).collect();
    let listed = |file: &str, module: &str| {
        lines
            .windows(2)
            .any(|w| w[0] == format!("#[path = \"{file}\"]") && w[1] == format!("mod {module};"))
    };
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if path.is_file() {
            if let Some(stem) = name.strip_suffix(".rs") {
                if stem != "suite" && !listed(&name, stem) {
                    missing.push(name);
                }
            }
        } else if path.join("main.rs").is_file() && !listed(&format!("{name}/main.rs"), &name) {
            missing.push(format!("{name}/main.rs"));
        }
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "tests/suite.rs does not include {missing:?}: add `#[path = \"NAME.rs\"]` \
         `mod NAME;` for each, or its tests never run (Cargo.toml has autotests = false)"
    );
}
