//! Hostile inputs against the real binary (issue 11, input/output half):
//! atomic writes, non-regular files, ambiguous `.npy` headers, unused
//! tensors of any dtype, control characters in names, overflow at the top
//! of the f64 range, and the cosmetic cases. Each test is a regression test
//! for a case that was seen to fail.

mod common;

use common::cli::{run, Out};
use lipcert::io::{npy, safetensors as st};
use lipcert::SourceDtype;
use safetensors::tensor::{Dtype, TensorView};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn write(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// A 16×16 f64 `.npy` (2176 bytes) with distinct entries.
fn npy16() -> Vec<u8> {
    let v: Vec<f64> = (0..256).map(|k| ((k * 37) % 101) as f64 - 50.0).collect();
    npy::encode(
        &[16, 16],
        npy::NpyDtype::little(SourceDtype::F64),
        false,
        &v,
    )
    .unwrap()
}

/// An `.npy` (format `major.minor`) with the header dict `dict` written as
/// given and `data` after it.
fn npy_raw(major: u8, minor: u8, dict: &str, data: &[u8]) -> Vec<u8> {
    let mut header = dict.as_bytes().to_vec();
    let pre = if major == 1 { 10 } else { 12 };
    while (pre + header.len() + 1) % 64 != 0 {
        header.push(b' ');
    }
    header.push(b'\n');
    let mut out = npy::MAGIC.to_vec();
    out.extend_from_slice(&[major, minor]);
    if major == 1 {
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(&header);
    out.extend_from_slice(data);
    out
}

fn le_f64(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Stderr is exactly one `lipcert: …` line mentioning `needle`.
fn one_line_error(o: &Out, needle: &str) {
    let lines: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", o.stderr);
    assert!(lines[0].starts_with("lipcert: "), "{}", o.stderr);
    assert!(
        o.stderr.contains(needle),
        "expected {needle:?} in {}",
        o.stderr
    );
}

fn leftover_temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".lipcert-"))
        .collect()
}

/// Runs `lipcert ARGS` under `sh -c` with a file-size limit of `blocks`
/// (SIGXFSZ ignored, so a write past the limit fails with EFBIG — a full
/// disk as far as the program can tell).
fn run_with_file_size_limit(blocks: u32, args: &[&str]) -> Out {
    let bin = env!("CARGO_BIN_EXE_lipcert");
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    let script = format!(
        "trap '' XFSZ; ulimit -f {blocks}; exec '{bin}' {}",
        quoted.join(" ")
    );
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

// Item 1: a failed write loses nothing.
#[test]
fn normalize_onto_a_full_disk_keeps_the_input_and_the_old_output() {
    let dir = TempDir::new().unwrap();
    let original = npy16();
    let a = write(&dir, "a.npy", &original);
    // In place: the input is the target.
    let o = run_with_file_size_limit(1, &["normalize", s(&a), s(&a)]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    one_line_error(&o, "left unchanged");
    assert!(o.stderr.contains("a.npy"), "{}", o.stderr);
    assert_eq!(
        std::fs::read(&a).unwrap(),
        original,
        "the input was modified"
    );
    // An existing, different output file.
    let old_out = b"previous output contents".to_vec();
    let out = write(&dir, "out.npy", &old_out);
    let o = run_with_file_size_limit(1, &["normalize", s(&a), s(&out)]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    one_line_error(&o, "left unchanged");
    assert_eq!(std::fs::read(&out).unwrap(), old_out);
    assert_eq!(std::fs::read(&a).unwrap(), original);
    // The same for .safetensors.
    let v: Vec<f64> = (0..256).map(|k| (k % 7) as f64 - 3.0).collect();
    let st_bytes = st::encode(&[("w", SourceDtype::F64, vec![16, 16], v)]).unwrap();
    let b = write(&dir, "b.safetensors", &st_bytes);
    let o = run_with_file_size_limit(1, &["normalize", s(&b), s(&b)]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert_eq!(std::fs::read(&b).unwrap(), st_bytes);
    assert!(leftover_temporaries(dir.path()).is_empty());
    // Without the limit, in place works and replaces the file.
    let o = run(&["normalize", s(&a), s(&a)]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_ne!(std::fs::read(&a).unwrap(), original);
    assert!(leftover_temporaries(dir.path()).is_empty());
}

// Item 5.
#[test]
fn failure_probability_works_with_the_default_rel_width() {
    let dir = TempDir::new().unwrap();
    let a = write(&dir, "m.npy", &npy16());
    let o = run(&["sigma", s(&a), "--failure-probability", "0.01", "--json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let r: serde_json::Value = serde_json::from_str(o.stdout.trim()).unwrap();
    assert_eq!(r["guarantee"], "probabilistic");
    let w = lipcert::io::WeightFile::open(&a)
        .unwrap()
        .read(None)
        .unwrap()
        .to_matrix()
        .unwrap();
    let exact = lipcert::estimate::svd::faer_top(&w).unwrap().sigma;
    assert!(r["lower"].as_f64().unwrap() <= exact * (1.0 + 1e-12));
}

fn safetensors_with(tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(n, d, shape, b)| {
            (
                n.to_string(),
                TensorView::new(*d, shape.clone(), b).unwrap(),
            )
        })
        .collect();
    safetensors::serialize(views, None).unwrap()
}

// Item 6.
#[test]
fn unused_tensors_of_any_dtype_do_not_matter_and_used_ones_are_named() {
    let dir = TempDir::new().unwrap();
    let one = le_f64(&[1.0, 0.5, -0.25]);
    let bytes = safetensors_with(&[
        ("bn.weight", Dtype::F64, vec![3], one.clone()),
        ("bn.bias", Dtype::F64, vec![3], le_f64(&[0.0; 3])),
        ("bn.running_mean", Dtype::F64, vec![3], le_f64(&[0.0; 3])),
        ("bn.running_var", Dtype::F64, vec![3], le_f64(&[1.0; 3])),
        (
            "bn.num_batches_tracked",
            Dtype::I64,
            vec![],
            7i64.to_le_bytes().to_vec(),
        ),
        ("flags", Dtype::BOOL, vec![2], vec![1, 0]),
    ]);
    write(&dir, "w.safetensors", &bytes);
    let spec = write(
        &dir,
        "spec.json",
        br#"{"weights": "w.safetensors", "input_shape": [3], "layers": [
            {"type": "batchnorm1d", "weight": "bn.weight", "bias": "bn.bias",
             "running_mean": "bn.running_mean", "running_var": "bn.running_var"}]}"#,
    );
    let o = run(&["certify", s(&spec), "--no-lower", "--json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let r: serde_json::Value = serde_json::from_str(o.stdout.trim()).unwrap();
    // max|γ|/√(var + eps) = 1/√(1 + 1e-5) < 1.
    let upper = r["upper"].as_f64().unwrap();
    assert!((0.99999..=1.0).contains(&upper), "{upper}");
    // A used I64 tensor: a clear error naming it.
    let spec = write(
        &dir,
        "spec2.json",
        br#"{"weights": "w.safetensors", "input_shape": [3], "layers": [
            {"type": "batchnorm1d", "weight": "bn.num_batches_tracked", "bias": "bn.bias",
             "running_mean": "bn.running_mean", "running_var": "bn.running_var"}]}"#,
    );
    let o = run(&["certify", s(&spec), "--no-lower"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    one_line_error(&o, "bn.num_batches_tracked");
    assert!(o.stderr.contains("I64"), "{}", o.stderr);
}

// Item 7.
#[test]
fn ambiguous_or_unknown_npy_headers_are_refused() {
    let dir = TempDir::new().unwrap();
    let data = le_f64(&(0..128).map(f64::from).collect::<Vec<_>>());
    let ok = "{'descr': '<f8', 'fortran_order': False, 'shape': (8, 16), }";
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            npy_raw(
                1,
                0,
                "{'descr': '<f8', 'fortran_order': False, 'shape': (8, 16), 'shape': (16, 8), }",
                &data,
            ),
            "duplicated key 'shape'",
        ),
        (npy_raw(1, 123, ok, &data), "version 1.123"),
        (npy_raw(2, 1, ok, &data), "version 2.1"),
        (npy_raw(4, 0, ok, &data), "version 4.0"),
        (
            npy_raw(
                1,
                0,
                "{'descr': '<f8', 'fortran_order': False, 'shape': (8, 16), 'extra': 'x', }",
                &data,
            ),
            "unexpected key",
        ),
        (
            npy_raw(
                1,
                0,
                "{'descr': '<f8', 'fortran_order': False, 'shape': (128), }",
                &data,
            ),
            "not a tuple",
        ),
        (
            npy_raw(
                1,
                0,
                "{'descr': '<\\x66\\x38', 'fortran_order': False, 'shape': (128,), }",
                &data,
            ),
            "escape",
        ),
        (
            npy_raw(
                3,
                0,
                "{'descr': '<f8', 'fortran_order': False, 'shape': (8L, 16L), }",
                &data,
            ),
            "corrupt header",
        ),
        (
            npy_raw(
                1,
                0,
                "{'descr': '<f8', 'fortran_order': False, 'shape': (08, 16), }",
                &data,
            ),
            "leading zero",
        ),
    ];
    for (k, (bytes, needle)) in cases.into_iter().enumerate() {
        let f = write(&dir, &format!("h{k}.npy"), &bytes);
        let o = run(&["sigma", s(&f)]);
        assert_eq!(o.code, 2, "{needle}: {}", o.stderr);
        one_line_error(&o, needle);
        assert!(o.stderr.contains(&format!("h{k}.npy")), "{}", o.stderr);
    }
    // Still accepted: Python 2 `L` suffixes in a 1.0 file, versions 2.0/3.0.
    for (major, dict) in [
        (
            1,
            "{'descr': '<f8', 'fortran_order': False, 'shape': (8L, 16L), }",
        ),
        (2, ok),
        (3, ok),
    ] {
        let f = write(&dir, "good.npy", &npy_raw(major, 0, dict, &data));
        let o = run(&["sigma", s(&f)]);
        assert_eq!(o.code, 0, "{dict}: {}", o.stderr);
    }
    // A header over NumPy's 10 000-byte limit.
    let long = format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': (8, 16), }}{}",
        " ".repeat(10_100)
    );
    let f = write(&dir, "long.npy", &npy_raw(2, 0, &long, &data));
    let o = run(&["sigma", s(&f)]);
    assert_eq!(o.code, 2);
    one_line_error(&o, "limit of 10000");
}

#[test]
fn safetensors_headers_with_repeated_keys_are_refused() {
    let dir = TempDir::new().unwrap();
    let header = r#"{"w":{"dtype":"F64","shape":[1,1],"data_offsets":[0,8]},"w":{"dtype":"F64","shape":[1,1],"data_offsets":[0,8]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&2.0f64.to_le_bytes());
    let f = write(&dir, "dup.safetensors", &bytes);
    let o = run(&["sigma", s(&f)]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    one_line_error(&o, "appears twice");
}

// Item 8.
#[test]
fn non_regular_files_are_refused_for_every_input() {
    let dir = TempDir::new().unwrap();
    let zero_npy = dir.path().join("zero.npy");
    std::os::unix::fs::symlink("/dev/zero", &zero_npy).unwrap();
    for args in [
        vec!["sigma", "/dev/zero"],
        vec!["sigma", s(&zero_npy)],
        vec!["certify", "/dev/zero"],
        vec!["sigma", s(dir.path())],
    ] {
        let o = run(&args);
        assert_eq!(o.code, 2, "{args:?}: {}", o.stderr);
        one_line_error(&o, "not a regular file");
    }
    let spec = write(
        &dir,
        "spec.json",
        br#"{"weights": "/dev/zero", "input_shape": [3], "layers": [{"type": "relu"}]}"#,
    );
    let o = run(&["certify", s(&spec)]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    one_line_error(&o, "not a regular file");
    // A FIFO: refused without blocking on open.
    let fifo = dir.path().join("pipe.npy");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.map(|s| s.success()).unwrap_or(false) {
        // Run with a deadline: a reader that blocked on the FIFO would hang.
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lipcert"))
            .args(["sigma", s(&fifo)])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("lipcert blocked on a FIFO for 20 s");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
        assert_eq!(status.code(), Some(2));
        assert!(stderr.contains("FIFO"), "{stderr}");
    }
}

#[test]
fn only_the_declared_bytes_are_accepted() {
    let dir = TempDir::new().unwrap();
    let mut bytes = npy16();
    bytes.extend(std::iter::repeat_n(0u8, 1 << 20));
    let f = write(&dir, "long.npy", &bytes);
    let o = run(&["sigma", s(&f)]);
    assert_eq!(o.code, 2);
    one_line_error(&o, "data length mismatch");
    assert!(o.stderr.contains("2048 bytes of data"), "{}", o.stderr);
}

// Item 10.
#[test]
fn normalize_refuses_an_output_name_of_the_other_format_before_writing() {
    let dir = TempDir::new().unwrap();
    let a = write(&dir, "a.npy", &npy16());
    let v: Vec<f64> = (0..4).map(f64::from).collect();
    let b = write(
        &dir,
        "b.safetensors",
        &st::encode(&[("w", SourceDtype::F32, vec![2, 2], v)]).unwrap(),
    );
    for (input, output) in [(&a, "out.safetensors"), (&b, "out.npy"), (&b, "OUT.NPY")] {
        let out = dir.path().join(output);
        let o = run(&["normalize", s(input), s(&out)]);
        assert_eq!(o.code, 2, "{}", o.stderr);
        one_line_error(&o, "nothing was written");
        assert!(!out.exists());
    }
    let o = run(&["normalize", s(&b), s(&dir.path().join("out.bin"))]);
    assert_eq!(o.code, 0, "{}", o.stderr);
}

// Item 11.
#[test]
fn control_characters_in_names_are_escaped_everywhere() {
    let dir = TempDir::new().unwrap();
    let evil = "w\u{1b}[31mred\r\nlipcert: FAKE LINE";
    let v = vec![3.0, 0.0, 0.0, 4.0];
    let f = write(
        &dir,
        "evil.safetensors",
        &st::encode(&[
            (evil, SourceDtype::F64, vec![2, 2], v.clone()),
            ("b\u{7}", SourceDtype::F64, vec![2], vec![1.0, 2.0]),
        ])
        .unwrap(),
    );
    let raw = |t: &str| t.contains('\u{1b}') || t.contains('\r') || t.contains('\u{7}');
    let o = run(&["sigma", s(&f)]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        !raw(&o.stdout) && !raw(&o.stderr),
        "{:?} {:?}",
        o.stdout,
        o.stderr
    );
    assert!(
        o.stdout.contains("w\\u{1b}[31mred\\r\\nlipcert: FAKE LINE"),
        "{}",
        o.stdout
    );
    assert!(!o.stderr.lines().any(|l| l.starts_with("lipcert: FAKE")));
    // Errors.
    let o = run(&["sigma", s(&f), "--tensor", "missing"]);
    assert_eq!(o.code, 2);
    assert!(!raw(&o.stderr), "{:?}", o.stderr);
    one_line_error(&o, "no tensor named 'missing'");
    // JSON escapes as JSON does, and round-trips.
    let o = run(&["sigma", s(&f), "--json"]);
    assert!(o.stdout.contains("\\u001b"), "{}", o.stdout);
    let r: serde_json::Value = serde_json::from_str(o.stdout.trim()).unwrap();
    assert_eq!(r["tensor"], evil);
}

// Item 12.
#[test]
fn sigma_at_the_top_of_the_range_is_no_certificate_not_bad_input() {
    let dir = TempDir::new().unwrap();
    let f = write(
        &dir,
        "max.npy",
        &npy::encode(
            &[2, 2],
            npy::NpyDtype::little(SourceDtype::F64),
            false,
            &[f64::MAX, 0.0, 0.0, 1.0],
        )
        .unwrap(),
    );
    let o = run(&["sigma", s(&f)]);
    assert_eq!(o.code, 4, "{}", o.stderr);
    one_line_error(&o, "may fit in f64");
    assert!(!o.stderr.contains("exceeds the f64 range"));
    // σ = 3e308 really is beyond the range: bad input, as before.
    let f = write(
        &dir,
        "big.npy",
        &npy::encode(
            &[2, 2],
            npy::NpyDtype::little(SourceDtype::F64),
            false,
            &[1.5e308; 4],
        )
        .unwrap(),
    );
    let o = run(&["sigma", s(&f)]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    one_line_error(&o, "exceeds the f64 range");
}

// Cosmetic list.
#[test]
fn spec_errors_name_the_file_once_without_invalid_option() {
    let dir = TempDir::new().unwrap();
    let spec = write(&dir, "spec.json", b"{ not json");
    let o = run(&["certify", s(&spec)]);
    assert_eq!(o.code, 2);
    one_line_error(&o, "spec.json");
    assert_eq!(o.stderr.matches("spec.json").count(), 1, "{}", o.stderr);
    assert!(!o.stderr.contains("invalid option"), "{}", o.stderr);
    let spec = write(
        &dir,
        "spec2.json",
        br#"{"weights": "missing.safetensors", "input_shape": [4], "layers": []}"#,
    );
    let o = run(&["certify", s(&spec)]);
    assert_eq!(o.code, 2);
    assert_eq!(
        o.stderr.matches("invalid option").count(),
        0,
        "{}",
        o.stderr
    );
    assert_eq!(o.stderr.matches("spec2.json").count(), 1, "{}", o.stderr);
}

#[test]
fn tiny_exact_values_print_with_an_exponent() {
    let dir = TempDir::new().unwrap();
    let tiny = f64::from_bits(1);
    let f = write(
        &dir,
        "tiny.npy",
        &npy::encode(
            &[1, 1],
            npy::NpyDtype::little(SourceDtype::F64),
            false,
            &[tiny],
        )
        .unwrap(),
    );
    let o = run(&["sigma", s(&f)]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("e-324"), "{}", o.stdout);
    assert!(
        o.stdout.lines().all(|l| l.chars().count() < 200),
        "{}",
        o.stdout
    );
    let o = run(&["check", s(&f), "--claimed", "5e-324"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("claimed σ = 5e-324"), "{}", o.stdout);
    assert!(o.stdout.chars().count() < 300, "{}", o.stdout);
    // An exact enclosure (lower = upper) of a tiny σ: the zero-width path.
    assert_eq!(lipcert::cli::digits::certified_digits(tiny, tiny), "5e-324");
}

#[test]
fn negative_numbers_parse_and_are_refused_clearly() {
    let dir = TempDir::new().unwrap();
    let f = write(&dir, "m.npy", &npy16());
    for (args, needle) in [
        (
            vec!["--rel-width", "-1"],
            "--rel-width -1 must be in (0, 1)",
        ),
        (
            vec!["--failure-probability", "-0.5"],
            "--failure-probability -0.5 must be in (0, 1)",
        ),
    ] {
        let mut all = vec!["sigma", s(&f)];
        all.extend(args);
        let o = run(&all);
        assert_eq!(o.code, 2, "{}", o.stderr);
        one_line_error(&o, needle);
    }
    let o = run(&["conv", s(&f), "--input", "8x8", "--stride", "-1"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    one_line_error(&o, "--stride '-1'");
    let o = run(&["check", s(&f), "--claimed", "-1", "--rel-tol", "-0.5"]);
    assert!(!o.stderr.contains("unexpected argument"), "{}", o.stderr);
    assert_ne!(o.code, 0, "{}", o.stdout);
}

#[test]
fn a_missing_tensor_lists_the_first_names_and_the_count() {
    let dir = TempDir::new().unwrap();
    let names: Vec<String> = (0..500).map(|k| format!("layer{k:04}.weight")).collect();
    let tensors: Vec<(&str, SourceDtype, Vec<usize>, Vec<f64>)> = names
        .iter()
        .map(|n| (n.as_str(), SourceDtype::F32, vec![1], vec![1.0]))
        .collect();
    let f = write(&dir, "many.safetensors", &st::encode(&tensors).unwrap());
    let o = run(&["sigma", s(&f), "--tensor", "nope"]);
    assert_eq!(o.code, 2);
    one_line_error(&o, "500 tensors in all");
    assert!(o.stderr.contains("layer0019.weight"));
    assert!(!o.stderr.contains("layer0020.weight"));
    assert!(o.stderr.len() < 1000, "{} bytes", o.stderr.len());
}

/// Rust files under `dirs` (relative to the crate root), skipping `skip`,
/// whose non-test code contains one of `needles`.
fn sources_containing(dirs: &[&str], skip: &[&str], needles: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut offenders = Vec::new();
    let mut stack: Vec<PathBuf> = dirs.iter().map(|d| root.join(d)).collect();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs")
                || skip.iter().any(|k| path.ends_with(k))
            {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Unit tests may set up files however they like.
            let text = text.split("#[cfg(test)]").next().unwrap_or("");
            for needle in needles {
                if text.contains(needle) {
                    offenders.push(format!("{}: {needle}", path.display()));
                }
            }
        }
    }
    offenders
}

/// The class behind item 1: no code path writes a file except through
/// `io::atomic_write` (a new writer that calls `fs::write` fails this test).
#[test]
fn every_writer_goes_through_write_atomic() {
    let offenders = sources_containing(
        &["src", "examples"],
        &["io/atomic_write.rs"],
        &["fs::write(", "File::create(", "OpenOptions::new()"],
    );
    assert!(
        offenders.is_empty(),
        "use lipcert::io::atomic_write: {offenders:?}"
    );
}

/// The class behind item 8: every input is opened through
/// `io::regular_file` (regular files only, never more than their size).
#[test]
fn every_reader_goes_through_regular_file() {
    let offenders = sources_containing(
        &["src"],
        // budget.rs reads /proc/meminfo and /proc/self/limits, timing.rs
        // /proc/self/stat: kernel files whose stat size is 0, so the
        // size-at-open rule cannot apply.
        &[
            "io/regular_file.rs",
            "io/atomic_write.rs",
            "budget.rs",
            "timing.rs",
        ],
        &[
            "fs::read(",
            "fs::read_to_string(",
            "fs::File::open(",
            " File::open(",
            "(File::open(",
        ],
    );
    assert!(
        offenders.is_empty(),
        "use lipcert::io::regular_file: {offenders:?}"
    );
}
