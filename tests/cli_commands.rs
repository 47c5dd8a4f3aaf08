//! Integration tests of the `lipcert` binary: every command, every dtype,
//! both `.npy` orders, every error path with its exit code and message, JSON
//! round-trip of every number. Input files are written by the tests with
//! independent writers (npyz, the safetensors crate, or raw bytes by hand).

mod common;

use common::cli::run;
use safetensors::tensor::{Dtype, TensorView};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// W = [[1, 2], [3, 4], [0, 0]] (exact in every dtype). WᵀW = [[10, 14],
/// [14, 20]] has eigenvalues 15 ± √221, so σ = √(15 + √221); the largest
/// absolute column sum is 6 and the largest absolute row sum is 7.
const W: [f64; 6] = [1.0, 2.0, 3.0, 4.0, 0.0, 0.0];
const ROWS: usize = 3;
const COLS: usize = 2;

fn sigma_ref() -> f64 {
    (15.0 + 221f64.sqrt()).sqrt()
}

/// Asserts lower ≤ x ≤ upper up to 4 ulps of slack in the reference value
/// itself (computed in f64 from the closed form), and a tight enclosure.
fn assert_encloses(record: &Value, x: f64) {
    let lower = record["lower"].as_f64().unwrap();
    let upper = record["upper"].as_f64().unwrap();
    assert!(lower <= x * (1.0 + 1e-15), "{record}");
    assert!(upper >= x * (1.0 - 1e-15), "{record}");
    assert!(upper - lower <= 1e-8 * x, "loose: {record}");
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn p(dir: &TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `.npy` bytes written by npyz (the data given in the file's own order).
fn npyz_bytes<T: npyz::AutoSerialize>(
    shape: &[usize],
    fortran: bool,
    file_order: Vec<T>,
) -> Vec<u8> {
    use npyz::WriterBuilder;
    let mut buf = Vec::new();
    let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let order = if fortran {
        npyz::Order::Fortran
    } else {
        npyz::Order::C
    };
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&shape)
        .order(order)
        .writer(&mut buf)
        .begin_nd()
        .unwrap();
    w.extend(file_order).unwrap();
    w.finish().unwrap();
    buf
}

fn npyz_f64(shape: &[usize], fortran: bool, file_order: &[f64]) -> Vec<u8> {
    npyz_bytes(shape, fortran, file_order.to_vec())
}

fn npyz_f32(shape: &[usize], fortran: bool, file_order: &[f64]) -> Vec<u8> {
    npyz_bytes(
        shape,
        fortran,
        file_order.iter().map(|&v| v as f32).collect(),
    )
}

/// Column-major copy of a row-major rows×cols matrix.
fn to_fortran(rows: usize, cols: usize, c: &[f64]) -> Vec<f64> {
    let mut f = Vec::with_capacity(c.len());
    for j in 0..cols {
        for i in 0..rows {
            f.push(c[i * cols + j]);
        }
    }
    f
}

/// An `.npy` file written byte by byte (format 1.0), independent of every
/// library: `descr` such as `<f8`, data already in file order and encoded.
fn npy_by_hand(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let dict = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
        if fortran { "True" } else { "False" }
    );
    let mut header = dict.into_bytes();
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(b' ');
    }
    header.push(b'\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(data);
    out
}

fn le_f64(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn bytes_in(dtype: Dtype, values: &[f64]) -> Vec<u8> {
    match dtype {
        Dtype::F64 => le_f64(values),
        Dtype::F32 => values
            .iter()
            .flat_map(|&v| (v as f32).to_le_bytes())
            .collect(),
        Dtype::F16 => values
            .iter()
            .flat_map(|&v| half::f16::from_f64(v).to_le_bytes())
            .collect(),
        Dtype::BF16 => values
            .iter()
            .flat_map(|&v| half::bf16::from_f64(v).to_le_bytes())
            .collect(),
        Dtype::I32 => values
            .iter()
            .flat_map(|&v| (v as i32).to_le_bytes())
            .collect(),
        _ => unreachable!(),
    }
}

/// A `.safetensors` file written by the safetensors crate.
fn safetensors_file(tensors: &[(&str, Dtype, Vec<usize>, Vec<f64>)]) -> Vec<u8> {
    let data: Vec<Vec<u8>> = tensors.iter().map(|(_, d, _, v)| bytes_in(*d, v)).collect();
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .zip(&data)
        .map(|((n, d, s, _), b)| (n.to_string(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    let meta: HashMap<String, String> = [("format".to_owned(), "pt".to_owned())].into();
    safetensors::serialize(views, Some(meta)).unwrap()
}

/// The standard test file: W in all four dtypes, a bias, a conv kernel.
fn all_dtypes_file(dir: &TempDir) -> PathBuf {
    let path = p(dir, "all.safetensors");
    let bytes = safetensors_file(&[
        ("w64", Dtype::F64, vec![ROWS, COLS], W.to_vec()),
        ("w32", Dtype::F32, vec![ROWS, COLS], W.to_vec()),
        ("w16", Dtype::F16, vec![ROWS, COLS], W.to_vec()),
        ("wbf", Dtype::BF16, vec![ROWS, COLS], W.to_vec()),
        ("bias", Dtype::F32, vec![3], vec![0.5, -0.5, 0.25]),
        ("conv", Dtype::F32, vec![2, 1, 2, 2], vec![0.1; 8]),
    ]);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The file order of a safetensors file, from the crate's own metadata.
fn file_order(path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap();
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    meta.offset_keys()
}

#[test]
fn sigma_reads_every_dtype_in_file_order_and_skips_other_ranks_with_notes() {
    let dir = TempDir::new().unwrap();
    let path = all_dtypes_file(&dir);
    let out = run(&["sigma", s(&path), "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let records = json_lines(&out.stdout);
    let expected: Vec<String> = file_order(&path)
        .into_iter()
        .filter(|n| n.starts_with('w'))
        .collect();
    let names: Vec<String> = records
        .iter()
        .map(|r| r["tensor"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, expected);
    for r in &records {
        let dtype = match r["tensor"].as_str().unwrap() {
            "w64" => "f64",
            "w32" => "f32",
            "w16" => "f16",
            "wbf" => "bf16",
            other => panic!("{other}"),
        };
        assert_eq!(r["dtype"], dtype);
        assert_eq!(r["shape"], serde_json::json!([3, 2]));
        assert_eq!(r["file"], s(&path));
        assert_eq!(r["guarantee"], "rigorous");
        assert_eq!(r["failure_probability"].as_f64(), Some(0.0));
        assert_eq!(r["method"], "auto");
        assert!(r["seconds"].as_f64().unwrap() >= 0.0);
        assert_encloses(r, sigma_ref());
    }
    assert!(out.stderr.contains("skipping 'bias'"), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "lipcert conv {} --tensor conv --input HxW",
            s(&path)
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn half_precision_values_are_widened_exactly_not_to_the_decimal() {
    // 0.1 is stored as 0.0999755859375 in f16 and 0.10009765625 in bf16; σ of
    // the 1×1 matrix is the stored value, which excludes 0.1.
    let dir = TempDir::new().unwrap();
    let path = p(&dir, "tenth.safetensors");
    let bytes = safetensors_file(&[
        ("h", Dtype::F16, vec![1, 1], vec![0.1]),
        ("b", Dtype::BF16, vec![1, 1], vec![0.1]),
    ]);
    std::fs::write(&path, bytes).unwrap();
    for (name, stored) in [("h", 0.0999755859375), ("b", 0.10009765625)] {
        let out = run(&["sigma", s(&path), "--tensor", name, "--json"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let r = &json_lines(&out.stdout)[0];
        let (lo, hi) = (r["lower"].as_f64().unwrap(), r["upper"].as_f64().unwrap());
        assert!(lo <= stored && stored <= hi, "{r}");
        assert!(!(lo <= 0.1 && 0.1 <= hi), "{r}");
    }
}

#[test]
fn npy_c_and_fortran_order_f32_and_f64_give_the_same_norms() {
    let dir = TempDir::new().unwrap();
    let fortran = to_fortran(ROWS, COLS, &W);
    let files = [
        ("c64.npy", npyz_f64(&[ROWS, COLS], false, &W), "f64"),
        ("f64.npy", npyz_f64(&[ROWS, COLS], true, &fortran), "f64"),
        ("c32.npy", npyz_f32(&[ROWS, COLS], false, &W), "f32"),
        ("f32.npy", npyz_f32(&[ROWS, COLS], true, &fortran), "f32"),
        (
            "hand.npy",
            npy_by_hand("<f8", true, "(3, 2)", &le_f64(&fortran)),
            "f64",
        ),
    ];
    for (name, bytes, dtype) in files {
        let path = p(&dir, name);
        std::fs::write(&path, bytes).unwrap();
        let out = run(&["norms", s(&path), "--json"]);
        assert_eq!(out.code, 0, "{name}: {}", out.stderr);
        let r = &json_lines(&out.stdout)[0];
        assert_eq!(r["tensor"], Value::Null);
        assert_eq!(r["dtype"], dtype);
        assert_eq!(r["shape"], serde_json::json!([3, 2]), "{name}");
        // Column sums 4, 6 and row sums 3, 7: a transposed read would swap
        // ℓ1 and ℓ∞.
        assert!(r["l1"]["lower"].as_f64().unwrap() <= 6.0, "{name}");
        assert!(r["l1"]["upper"].as_f64().unwrap() >= 6.0, "{name}");
        assert!(r["l1"]["upper"].as_f64().unwrap() < 6.5, "{name}: {r}");
        assert!(r["linf"]["lower"].as_f64().unwrap() <= 7.0, "{name}");
        assert!(r["linf"]["lower"].as_f64().unwrap() > 6.5, "{name}: {r}");
        assert!(r["linf"]["upper"].as_f64().unwrap() >= 7.0, "{name}");
        assert_encloses(&r["l2"], sigma_ref());
    }
}

#[test]
fn json_numbers_round_trip_to_the_library_bits() {
    use lipcert::{sigma, DenseMatrix, SigmaOptions};
    let dir = TempDir::new().unwrap();
    // Values with long binary expansions.
    let w: Vec<f64> = (0..20).map(|k| ((k as f64) * 0.7133).sin() / 3.0).collect();
    let path = p(&dir, "w.npy");
    std::fs::write(&path, npyz_f64(&[4, 5], false, &w)).unwrap();
    let out = run(&["sigma", s(&path), "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = &json_lines(&out.stdout)[0];
    let m = DenseMatrix::from_row_major(4, 5, &w).unwrap();
    let e = sigma(&m, &SigmaOptions::default()).unwrap();
    for (field, value) in [
        ("lower", e.lower()),
        ("upper", e.upper()),
        ("estimate", e.estimate()),
    ] {
        let text = out.stdout.split(&format!("\"{field}\":")).nth(1).unwrap();
        let token: String = text
            .chars()
            .take_while(|c| !matches!(c, ',' | '}'))
            .collect();
        let parsed: f64 = token.parse().unwrap();
        assert_eq!(parsed.to_bits(), value.to_bits(), "{field}: {token}");
        assert_eq!(r[field].as_f64().unwrap().to_bits(), value.to_bits());
    }
    // norms: every number parses back to a finite f64 and bounds are ordered.
    let out = run(&["norms", s(&path), "--json"]);
    let r = &json_lines(&out.stdout)[0];
    for key in ["l1", "l2", "linf"] {
        let (lo, hi) = (
            r[key]["lower"].as_f64().unwrap(),
            r[key]["upper"].as_f64().unwrap(),
        );
        assert!(lo.is_finite() && hi.is_finite() && lo <= hi);
    }
}

#[test]
fn human_table_shows_certain_digits_of_every_tensor() {
    let dir = TempDir::new().unwrap();
    let path = all_dtypes_file(&dir);
    let out = run(&["sigma", s(&path)]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{}", out.stdout);
    assert!(lines[0].starts_with("tensor"));
    // σ = 5.46498570421904…; the enclosure is 1e-9-tight, so the first nine
    // digits are certain and must be printed as a shared prefix.
    for line in &lines[1..] {
        assert!(line.contains("5.46498570"), "{line}");
        assert!(line.contains("rigorous"), "{line}");
    }
    // Columns align: "dtype" header and the values start at the same column.
    let col = lines[0].find("dtype").unwrap();
    for line in &lines[1..] {
        assert!(
            line[col..].starts_with('f') || line[col..].starts_with('b'),
            "{line}"
        );
    }
}

#[test]
fn method_is_passed_through() {
    let dir = TempDir::new().unwrap();
    let path = p(&dir, "w.npy");
    std::fs::write(&path, npyz_f64(&[ROWS, COLS], false, &W)).unwrap();
    let out = run(&["sigma", s(&path), "--method", "nalgebra-svd", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = &json_lines(&out.stdout)[0];
    assert_eq!(r["method"], "nalgebra-svd");
    assert_encloses(r, sigma_ref());
    let out = run(&[
        "sigma",
        s(&path),
        "--method",
        "svd",
        "--rel-width",
        "1e-6",
        "--json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(json_lines(&out.stdout)[0]["method"], "svd");
}

#[test]
fn check_passes_inside_and_fails_outside_with_the_numbers() {
    let dir = TempDir::new().unwrap();
    let path = p(&dir, "w.npy");
    std::fs::write(&path, npyz_f64(&[ROWS, COLS], false, &W)).unwrap();
    let sigma = sigma_ref();
    let inside = format!("{sigma}");
    let within_tol = format!("{}", sigma * (1.0 + 5e-7));
    let outside = format!("{}", sigma * 1.01);

    let out = run(&["check", s(&path), "--claimed", &inside]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.starts_with("ok:"), "{}", out.stdout);

    assert_eq!(run(&["check", s(&path), "--claimed", &within_tol]).code, 0);
    assert_eq!(
        run(&[
            "check",
            s(&path),
            "--claimed",
            &within_tol,
            "--rel-tol",
            "1e-8"
        ])
        .code,
        1
    );

    let out = run(&["check", s(&path), "--claimed", &outside]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("WRONG"), "{}", out.stdout);
    assert!(out.stdout.contains(&outside), "{}", out.stdout);
    assert!(
        out.stdout.contains("relative error ≥ 9.99"),
        "{}",
        out.stdout
    );

    let out = run(&["check", s(&path), "--claimed", &outside, "--json"]);
    assert_eq!(out.code, 1);
    let r = &json_lines(&out.stdout)[0];
    assert_eq!(r["verdict"], "wrong");
    assert_eq!(
        r["claimed"].as_f64().unwrap().to_bits(),
        (sigma * 1.01).to_bits()
    );
    let rel = r["relative_error"].as_f64().unwrap();
    assert!(rel > 0.0099 && rel <= 0.01, "{rel}");
    assert!(out.stderr.contains("WRONG"), "{}", out.stderr);

    // Below the enclosure, and --normalized (σ ≈ 5.46 ≠ 1).
    assert_eq!(run(&["check", s(&path), "--claimed", "5"]).code, 1);
    assert_eq!(run(&["check", s(&path), "--normalized"]).code, 1);
}

#[test]
fn normalize_then_check_normalized_passes_for_every_format_and_dtype() {
    let dir = TempDir::new().unwrap();
    let w: Vec<f64> = (0..24)
        .map(|k| ((k * 37 % 11) as f64 - 5.0) / 7.0)
        .collect();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("c64.npy", npyz_f64(&[6, 4], false, &w)),
        ("f32.npy", npyz_f32(&[6, 4], true, &to_fortran(6, 4, &w))),
    ];
    for (name, bytes) in cases {
        let input = p(&dir, name);
        let output = p(&dir, &format!("n-{name}"));
        std::fs::write(&input, &bytes).unwrap();
        let out = run(&["normalize", s(&input), s(&output), "--json"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let r = &json_lines(&out.stdout)[0];
        let (lo, hi) = (r["lower"].as_f64().unwrap(), r["upper"].as_f64().unwrap());
        let dev = r["deviation_from_1"].as_f64().unwrap();
        assert!(lo >= 1.0 - dev && hi <= 1.0 + dev, "{r}");
        assert!(dev < 1e-6, "{r}");
        // Same header (dtype, order, shape) byte for byte.
        let written = std::fs::read(&output).unwrap();
        assert_eq!(written.len(), bytes.len());
        let header_len = 10 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!(written[..header_len], bytes[..header_len]);
        let out = run(&["check", s(&output), "--normalized"]);
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    }

    let input = all_dtypes_file(&dir);
    let output = p(&dir, "normalized.safetensors");
    let out = run(&["normalize", s(&input), s(&output)]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("4 tensors normalized"),
        "{}",
        out.stdout
    );
    for (name, tol) in [
        ("w64", "1e-6"),
        ("w32", "1e-6"),
        ("w16", "3e-3"),
        ("wbf", "3e-2"),
    ] {
        let out = run(&[
            "check",
            s(&output),
            "--tensor",
            name,
            "--normalized",
            "--rel-tol",
            tol,
        ]);
        assert_eq!(out.code, 0, "{name}: {}{}", out.stdout, out.stderr);
    }
    // Everything else is copied unchanged, metadata included.
    let a = std::fs::read(&input).unwrap();
    let b = std::fs::read(&output).unwrap();
    let (ta, tb) = (
        safetensors::SafeTensors::deserialize(&a).unwrap(),
        safetensors::SafeTensors::deserialize(&b).unwrap(),
    );
    for name in ["bias", "conv"] {
        assert_eq!(
            ta.tensor(name).unwrap().data(),
            tb.tensor(name).unwrap().data()
        );
    }
    let (_, ma) = safetensors::SafeTensors::read_metadata(&a).unwrap();
    let (_, mb) = safetensors::SafeTensors::read_metadata(&b).unwrap();
    assert_eq!(ma.metadata(), mb.metadata());

    // Only the named tensor changes with --tensor.
    let single = p(&dir, "single.safetensors");
    let out = run(&["normalize", s(&input), s(&single), "--tensor", "w32"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let c = std::fs::read(&single).unwrap();
    let tc = safetensors::SafeTensors::deserialize(&c).unwrap();
    assert_eq!(
        ta.tensor("w64").unwrap().data(),
        tc.tensor("w64").unwrap().data()
    );
    assert_ne!(
        ta.tensor("w32").unwrap().data(),
        tc.tensor("w32").unwrap().data()
    );
}

#[test]
fn normalize_refuses_a_zero_matrix() {
    let dir = TempDir::new().unwrap();
    let input = p(&dir, "z.npy");
    std::fs::write(&input, npyz_f64(&[2, 2], false, &[0.0; 4])).unwrap();
    let out = run(&["normalize", s(&input), s(&p(&dir, "o.npy"))]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("zero"), "{}", out.stderr);
    assert!(!p(&dir, "o.npy").exists());
}

/// Asserts exit code 2 and a one-line message containing every fragment.
fn assert_input_error(args: &[&str], fragments: &[&str]) {
    let out = run(args);
    assert_eq!(out.code, 2, "{args:?}: {}{}", out.stdout, out.stderr);
    assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?}: {}", out.stderr);
    for f in fragments {
        assert!(
            lines[0].contains(f),
            "{args:?}: missing {f:?} in {}",
            lines[0]
        );
    }
}

#[test]
fn every_bad_input_is_one_line_with_exit_code_2() {
    let dir = TempDir::new().unwrap();
    let good = npyz_f64(&[ROWS, COLS], false, &W);
    let write = |name: &str, bytes: &[u8]| {
        let path = p(&dir, name);
        std::fs::write(&path, bytes).unwrap();
        path
    };

    let missing = p(&dir, "missing.npy");
    assert_input_error(
        &["sigma", s(&missing)],
        &["missing.npy", "cannot read file"],
    );

    let trunc = write("trunc.npy", &good[..20]);
    assert_input_error(&["sigma", s(&trunc)], &["trunc.npy", "truncated header"]);

    let short_data = write("short.npy", &good[..good.len() - 3]);
    assert_input_error(&["sigma", s(&short_data)], &["short.npy", "data length"]);

    let ints = write("ints.npy", &npy_by_hand("<i8", false, "(2, 2)", &[0u8; 32]));
    assert_input_error(
        &["sigma", s(&ints)],
        &["ints.npy", "unsupported dtype", "<i8"],
    );

    let mut nan = W.to_vec();
    nan[2] = f64::NAN; // row 1, column 0
    nan[5] = f64::INFINITY;
    let nan_c = write("nan.npy", &npyz_f64(&[ROWS, COLS], false, &nan));
    assert_input_error(
        &["sigma", s(&nan_c)],
        &["nan.npy", "2 non-finite entries", "index [1, 0]"],
    );
    let nan_f = write(
        "nanf.npy",
        &npyz_f64(&[ROWS, COLS], true, &to_fortran(ROWS, COLS, &nan)),
    );
    assert_input_error(&["norms", s(&nan_f)], &["nanf.npy", "index [1, 0]"]);

    let one_d = write("v.npy", &npyz_f64(&[4], false, &[1.0; 4]));
    assert_input_error(&["sigma", s(&one_d)], &["v.npy", "wrong rank 1"]);
    let three_d = write("t.npy", &npyz_f64(&[2, 2, 2], false, &[1.0; 8]));
    assert_input_error(&["sigma", s(&three_d)], &["t.npy", "wrong rank 3"]);
    let four_d = write("k.npy", &npyz_f64(&[1, 1, 2, 2], false, &[1.0; 4]));
    assert_input_error(
        &["sigma", s(&four_d)],
        &["k.npy", "wrong rank 4", "lipcert conv"],
    );
    assert_input_error(
        &["sigma", s(&good_path(&dir, &good)), "--tensor", "x"],
        &["single unnamed array"],
    );

    let st = all_dtypes_file(&dir);
    assert_input_error(
        &["sigma", s(&st), "--tensor", "nope"],
        &[
            "all.safetensors",
            "no tensor named 'nope'",
            "available:",
            "w64",
            "bias",
            "conv",
        ],
    );
    assert_input_error(
        &["sigma", s(&st), "--tensor", "conv"],
        &["tensor 'conv'", "wrong rank 4", "lipcert conv"],
    );
    assert_input_error(
        &["check", s(&st), "--tensor", "bias", "--normalized"],
        &["tensor 'bias'", "wrong rank 1"],
    );

    let ints_st = write(
        "ints.safetensors",
        &safetensors_file(&[("i", Dtype::I32, vec![2, 2], vec![1.0; 4])]),
    );
    assert_input_error(
        &["sigma", s(&ints_st), "--tensor", "i"],
        &["tensor 'i'", "unsupported dtype I32"],
    );
    assert_input_error(&["sigma", s(&ints_st)], &["no 2-D floating-point tensor"]);

    let nan_st = write(
        "nan.safetensors",
        &safetensors_file(&[("w", Dtype::F32, vec![ROWS, COLS], nan.clone())]),
    );
    assert_input_error(
        &["sigma", s(&nan_st), "--tensor", "w"],
        &["tensor 'w'", "2 non-finite entries", "NaN at index [1, 0]"],
    );

    let st_bytes = std::fs::read(&st).unwrap();
    let cut = write("cut.safetensors", &st_bytes[..st_bytes.len() - 5]);
    assert_input_error(
        &["sigma", s(&cut)],
        &["cut.safetensors", "data length mismatch"],
    );
    let tiny = write("tiny.safetensors", &st_bytes[..5]);
    assert_input_error(
        &["sigma", s(&tiny)],
        &["tiny.safetensors", "truncated header"],
    );
    let mut garbled = st_bytes.clone();
    garbled[9] = b'#';
    let garbled = write("garbled.safetensors", &garbled);
    assert_input_error(
        &["sigma", s(&garbled)],
        &["garbled.safetensors", "corrupt header"],
    );
    let text = write("notes.txt", b"hello");
    assert_input_error(&["sigma", s(&text)], &["notes.txt", "unknown file format"]);

    let path = good_path(&dir, &good);
    assert_input_error(&["sigma", s(&path), "--rel-width", "2"], &["--rel-width"]);
    assert_input_error(
        &["sigma", s(&path), "--failure-probability", "0"],
        &["--failure-probability"],
    );
    assert_input_error(&["check", s(&path), "--claimed", "NaN"], &["finite"]);
    assert_input_error(
        &["check", s(&path), "--claimed", "1", "--rel-tol=-1"],
        &["--rel-tol"],
    );
}

fn good_path(dir: &TempDir, good: &[u8]) -> PathBuf {
    let path = p(dir, "good.npy");
    std::fs::write(&path, good).unwrap();
    path
}

#[test]
fn usage_errors_keep_clap_exit_code_2() {
    for args in [
        vec!["sigma", "x.npy", "--bogus"],
        vec!["sigma", "x.npy", "--method", "bogus"],
        vec!["frobnicate"],
        vec!["check", "x.npy"],
        vec!["check", "x.npy", "--claimed", "1", "--normalized"],
        vec!["sigma"],
    ] {
        let out = run(&args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty());
    }
    assert_eq!(run(&["--help"]).code, 0);
}

#[test]
fn the_committed_example_runs() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/mlp.safetensors");
    let out = run(&["sigma", s(&example), "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let names: Vec<String> = json_lines(&out.stdout)
        .iter()
        .map(|r| r["tensor"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["fc1.weight", "fc2.weight", "fc3.weight"]);
    assert!(out.stderr.contains("conv1.weight") && out.stderr.contains("fc1.bias"));
}
