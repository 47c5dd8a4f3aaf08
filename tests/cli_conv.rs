//! `lipcert conv` and `lipcert check` with convolution geometry, running the
//! real binary on files written by the test (the safetensors crate's own
//! writer).

mod common;

use common::cli::run;
use lipcert::conv::{conv_sigma, Conv2dGeometry, ConvOptions, Kernel, PaddingMode};
use serde_json::Value;
use std::path::PathBuf;
use tempfile::TempDir;

/// A deterministic 4×3×3×3 kernel (f64, exact small dyadics).
fn kernel_values() -> Vec<f64> {
    (0..108)
        .map(|k| ((k * 37 % 17) as f64 - 8.0) / 16.0)
        .collect()
}

fn write(dir: &TempDir, name: &str, tensors: &[(&str, Vec<usize>, Vec<f64>)]) -> PathBuf {
    common::files::write_f64_safetensors(dir.path(), name, tensors)
}

/// Runs `lipcert ARGS…` expecting success and one JSON line; returns it.
fn run_json(args: &[&str]) -> Value {
    let out = run(args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    serde_json::from_str(out.stdout.trim()).unwrap()
}

/// Certifies the layer in-process (single-threaded, like the binary) and
/// checks the record's upper bound and geometry text against it bit for bit.
fn assert_upper_matches_library(
    rec: &Value,
    kernel: &Kernel,
    g: &Conv2dGeometry,
) -> lipcert::conv::ConvReport {
    faer::set_global_parallelism(faer::Par::Seq);
    // The CLI's default target width is 1e-9 (it may escalate to the
    // explicit matrix); the library call uses the same options.
    let options = ConvOptions {
        rel_width: Some(1e-9),
        ..ConvOptions::default()
    };
    let lib = conv_sigma(kernel, g, &options).unwrap();
    assert_eq!(
        rec["upper"].as_f64().unwrap().to_bits(),
        lib.enclosure.upper().to_bits()
    );
    assert_eq!(rec["operator"].as_str().unwrap(), lib.description);
    lib
}

#[test]
fn conv_json_matches_the_library_and_carries_the_geometry() {
    let dir = TempDir::new().unwrap();
    let path = write(
        &dir,
        "k.safetensors",
        &[("conv.weight", vec![4, 3, 3, 3], kernel_values())],
    );
    let rec = run_json(&[
        "conv",
        path.to_str().unwrap(),
        "--tensor",
        "conv.weight",
        "--input",
        "6x7",
        "--padding",
        "1",
        "--stride",
        "2",
        "--json",
    ]);
    let kernel = Kernel::from_f64(4, 3, 3, 3, kernel_values()).unwrap();
    let mut g = Conv2dGeometry::new(4, 3, 3, 3, 6, 7);
    g.padding = (1, 1, 1, 1);
    g.stride = (2, 2);
    let lib = assert_upper_matches_library(&rec, &kernel, &g);
    assert_eq!(
        rec["lower"].as_f64().unwrap().to_bits(),
        lib.enclosure.lower().to_bits()
    );
    assert_eq!(
        rec["reshaped_sigma"]["upper"].as_f64().unwrap().to_bits(),
        lib.reshaped.upper().to_bits()
    );
    assert_eq!(rec["guarantee"], "rigorous");
    for field in [
        "file",
        "tensor",
        "shape",
        "dtype",
        "estimate",
        "failure_probability",
        "method",
        "seconds",
    ] {
        assert!(rec.get(field).is_some(), "missing {field}: {rec}");
    }
}

/// pytorch/pytorch#99149: a kernel divided by its reshaped-kernel norm (what
/// PyTorch's spectral_norm does) is "normalized" only in the reshaped sense;
/// as a convolution its norm is above 1, and `check --normalized` with the
/// layer's geometry says so (exit 1), while the same claim about the reshaped
/// matrix would pass.
#[test]
fn check_normalized_conv_catches_the_reshape_shortcut() {
    let dir = TempDir::new().unwrap();
    let raw = Kernel::from_f64(4, 3, 3, 3, kernel_values()).unwrap();
    let r = lipcert::sigma(&raw.reshaped().unwrap(), &lipcert::SigmaOptions::default()).unwrap();
    let normalized: Vec<f64> = kernel_values().iter().map(|v| v / r.estimate()).collect();
    let path = write(
        &dir,
        "sn.safetensors",
        &[("conv.weight", vec![4, 3, 3, 3], normalized.clone())],
    );
    let file = path.to_str().unwrap();
    let out = run(&[
        "check",
        file,
        "--normalized",
        "--input",
        "16x16",
        "--padding",
        "1",
        "--rel-tol",
        "1e-3",
    ]);
    assert_eq!(out.code, 1, "stdout {} stderr {}", out.stdout, out.stderr);
    assert!(out.stdout.contains("WRONG"), "{}", out.stdout);
    // The reshaped matrix itself is normalized: written as a 2-D tensor it passes.
    let flat = write(&dir, "flat.safetensors", &[("r", vec![4, 27], normalized)]);
    let out = run(&[
        "check",
        flat.to_str().unwrap(),
        "--normalized",
        "--rel-tol",
        "1e-3",
    ]);
    assert_eq!(out.code, 0, "{} {}", out.stdout, out.stderr);
}

#[test]
fn conv_input_errors_are_one_line_with_exit_code_2() {
    let dir = TempDir::new().unwrap();
    let mut bad = kernel_values();
    bad[40] = f64::NAN;
    let path = write(
        &dir,
        "k.safetensors",
        &[
            ("conv.weight", vec![4, 3, 3, 3], kernel_values()),
            ("nan", vec![4, 3, 3, 3], bad),
            ("fc", vec![2, 2], vec![1.0; 4]),
        ],
    );
    let file = path.to_str().unwrap();
    // (tensor, options after `conv FILE --tensor T`, text the error must name)
    let cases: [(&str, &[&str], &str); 10] = [
        ("conv.weight", &[], "--input"),
        ("conv.weight", &["--input", "8y8"], "--input"),
        (
            "conv.weight",
            &["--input", "8x8", "--padding", "1,2,3"],
            "--padding",
        ),
        (
            "conv.weight",
            &["--input", "8x8", "--stride", "a"],
            "--stride",
        ),
        ("conv.weight", &["--input", "2x2"], "conv.weight"),
        (
            "conv.weight",
            &["--input", "8x8", "--groups", "3"],
            "divisible",
        ),
        (
            "conv.weight",
            &["--input", "8x8", "--padding-mode", "mirror"],
            "mirror",
        ),
        ("nan", &["--input", "8x8"], "nan"),
        ("fc", &["--input", "8x8"], "wrong rank"),
        ("nope", &["--input", "8x8"], "nope"),
    ];
    let cases = cases.map(|(tensor, options, needle)| {
        let mut args = vec!["conv", file, "--tensor", tensor];
        args.extend_from_slice(options);
        (args, needle)
    });
    for (args, needle) in cases {
        let out = run(&args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(needle), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
    }
}

#[test]
fn every_padding_mode_runs_and_all_kernels_are_processed_in_file_order() {
    let dir = TempDir::new().unwrap();
    let path = write(
        &dir,
        "two.safetensors",
        &[
            ("a", vec![4, 3, 3, 3], kernel_values()),
            ("bias", vec![4], vec![0.0; 4]),
            ("b", vec![2, 3, 3, 3], kernel_values()[..54].to_vec()),
        ],
    );
    for mode in PaddingMode::ALL {
        let out = run(&[
            "conv",
            path.to_str().unwrap(),
            "--input",
            "8x8",
            "--padding",
            "1",
            "--padding-mode",
            mode.name(),
            "--json",
        ]);
        assert_eq!(out.code, 0, "{mode:?}: {}", out.stderr);
        let names: Vec<String> = out
            .stdout
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["tensor"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(names, ["a", "b"], "{mode:?}");
        assert!(out.stderr.contains("skipping 'bias'"), "{}", out.stderr);
    }
}

/// A 3-D kernel is a 1-D convolution: `--input L`, single-number padding and
/// stride act on the length.
#[test]
fn three_dimensional_kernels_are_conv1d() {
    let dir = TempDir::new().unwrap();
    let values: Vec<f64> = kernel_values()[..30].to_vec();
    let path = write(
        &dir,
        "k1d.safetensors",
        &[("c", vec![2, 3, 5], values.clone())],
    );
    let rec = run_json(&[
        "conv",
        path.to_str().unwrap(),
        "--input",
        "20",
        "--padding",
        "2",
        "--stride",
        "2",
        "--json",
    ]);
    let kernel = Kernel::from_f64(2, 3, 1, 5, values).unwrap();
    let mut g = Conv2dGeometry::conv1d(2, 3, 5, 20);
    g.padding = (0, 2, 0, 2);
    g.stride = (1, 2);
    assert_upper_matches_library(&rec, &kernel, &g);
}

/// `--rel-width` on `conv`: a zero-padded layer whose structured bounds are
/// wider than the target (circular-embedding upper bound) is escalated to
/// the explicit matrix when that has at most 4096 columns, and the record
/// says whether the target was met; the enclosure always contains the
/// library's own (independently computed) dense enclosure's estimate.
#[test]
fn conv_rel_width_is_honoured_or_reported() {
    let dir = TempDir::new().unwrap();
    // 8 → 8 channels, 3×3, zero padding 1 on 16×16: 2048 columns, explicit
    // matrix affordable but above the routine 1024 limit.
    let values: Vec<f64> = (0..8 * 8 * 9)
        .map(|k| ((k * 37 % 23) as f64 - 11.0) / 32.0)
        .collect();
    let path = write(
        &dir,
        "k.safetensors",
        &[("w", vec![8, 8, 3, 3], values.clone())],
    );
    let p = path.to_str().unwrap();
    let base = ["conv", p, "--input", "16x16", "--padding", "1", "--json"];
    let loose = run_json(&[&base[..], &["--rel-width", "0.5"]].concat());
    let tight = run_json(&[&base[..], &["--rel-width", "1e-9"]].concat());
    assert_eq!(loose["target_met"], Value::Bool(true));
    assert_eq!(tight["target_met"], Value::Bool(true), "{tight}");
    let width = |r: &Value| r["relative_width"].as_f64().unwrap();
    assert!(width(&tight) <= 1e-9, "{tight}");
    assert!(
        width(&loose) > 1e-9,
        "the structured bounds alone are wider: {loose}"
    );
    // Both are enclosures of the same number: they must overlap.
    let (lo_t, up_t) = (
        tight["lower"].as_f64().unwrap(),
        tight["upper"].as_f64().unwrap(),
    );
    let (lo_l, up_l) = (
        loose["lower"].as_f64().unwrap(),
        loose["upper"].as_f64().unwrap(),
    );
    assert!(lo_t <= up_l && lo_l <= up_t);
    assert!(lo_l <= lo_t && up_t <= up_l, "escalation only narrows");
    // A target the explicit matrix cannot reach here (too many columns) is
    // reported, not silently ignored: 8 channels × 48×48 = 18432 columns.
    let big = run(&["conv", p, "--input", "48x48", "--padding", "1"]);
    assert_eq!(big.code, 0, "{}", big.stderr);
    assert!(big.stdout.contains("not met"), "{}", big.stdout);
    // Bad targets are input errors.
    for bad in ["0", "-1", "nan"] {
        let out = run(&[&base[..], &["--rel-width", bad]].concat());
        assert_eq!(out.code, 2, "{bad}: {}", out.stderr);
        assert!(out.stderr.contains("--rel-width"), "{}", out.stderr);
    }
}

/// `conv --help` describes `conv`, not `sigma` or `check`.
#[test]
fn conv_help_is_about_conv() {
    let out = run(&["conv", "--help"]);
    assert_eq!(out.code, 0);
    assert!(!out.stdout.contains("every 2-D tensor"), "{}", out.stdout);
    assert!(!out.stdout.contains("For `check`"), "{}", out.stdout);
    assert!(out.stdout.contains("--rel-width"), "{}", out.stdout);
}

/// `certify` on a file that is not a JSON spec says what it expected.
#[test]
fn certify_on_a_binary_file_says_it_expected_a_spec() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "w.safetensors", &[("w", vec![2, 2], vec![1.0; 4])]);
    let out = run(&["certify", path.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("expected a network spec"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
}

/// `--threads`: one thread gives the same bits on every run; two threads
/// (the per-frequency certificates split between them) give an enclosure
/// that overlaps it and is as tight.
#[test]
fn conv_threads_one_is_reproducible_and_two_agree() {
    let dir = TempDir::new().unwrap();
    let values: Vec<f64> = (0..8 * 8 * 9).map(|k| ((k as f64) * 0.618).sin()).collect();
    let path = write(&dir, "k.safetensors", &[("w", vec![8, 8, 3, 3], values)]);
    let file = path.to_str().unwrap();
    let args = |threads: &'static str| {
        [
            "conv",
            file,
            "--input",
            "16x16",
            "--padding",
            "1",
            "--padding-mode",
            "circular",
            "--threads",
            threads,
            "--json",
        ]
    };
    let one = run_json(&args("1"));
    let again = run_json(&args("1"));
    let two = run_json(&args("2"));
    for k in ["lower", "upper"] {
        assert_eq!(
            one[k].as_f64().unwrap().to_bits(),
            again[k].as_f64().unwrap().to_bits(),
            "{k}"
        );
    }
    let (l1, u1) = (
        one["lower"].as_f64().unwrap(),
        one["upper"].as_f64().unwrap(),
    );
    let (l2, u2) = (
        two["lower"].as_f64().unwrap(),
        two["upper"].as_f64().unwrap(),
    );
    assert!(
        l1 <= u2 && l2 <= u1,
        "[{l1}, {u1}] and [{l2}, {u2}] are disjoint"
    );
    assert!((u2 - l2) / u2 <= 1e-9, "two threads: [{l2}, {u2}]");
}
