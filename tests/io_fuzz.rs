//! Fuzz-style property tests: valid `.npy` and `.safetensors` files, then
//! truncated, bit-flipped, byte-overwritten and header-edited versions of
//! them, fed to the library readers and (a few dozen of them) to the
//! `lipcert` binary (`sigma` and `normalize`). Every outcome must be an error
//! or a consistent tensor, never a panic; the binary exits 0, 2 (bad input) or 4 (no certificate),
//! never 3, with one `lipcert:` line per problem naming the file. Where
//! lipcert and npyz (an independent `.npy` reader) both accept a file, they
//! must read the same array; `normalize` writes a file that reads back, or
//! nothing.
//!
//! Fixed seeds, no persistence. `LIPCERT_FUZZ_CASES=N` runs N cases per
//! library test (default 200) and N/20 binary runs per format (default 12):
//! `LIPCERT_FUZZ_CASES=20000 cargo test --release --test suite io_fuzz::`
//! (`LIPCERT_FUZZ_SEED=k` for other fixed seeds).

use lipcert::io::safetensors::encode as encode_safetensors;
use lipcert::io::{npy, WeightFile};
use lipcert::SourceDtype;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::path::Path;

/// Cases per library test: `LIPCERT_FUZZ_CASES` or 200.
fn cases() -> u32 {
    std::env::var("LIPCERT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// `LIPCERT_FUZZ_SEED=k` shifts every test's fixed seed (for long runs that
/// explore new cases); unset in CI.
fn seed_shift() -> u8 {
    std::env::var("LIPCERT_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn runner(cases: u32, seed: u8) -> TestRunner {
    let seed = seed.wrapping_add(seed_shift());
    TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
    )
}

fn dtype() -> impl Strategy<Value = SourceDtype> {
    prop_oneof![
        Just(SourceDtype::F64),
        Just(SourceDtype::F32),
        Just(SourceDtype::F16),
        Just(SourceDtype::BF16)
    ]
}

fn shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..5, 1..=4)
}

/// A mutation of a byte string.
#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    FlipBits(Vec<(usize, u8)>),
    Overwrite(usize, Vec<u8>),
    /// Replace `len` bytes at a position inside the first `HEADER_SPAN`
    /// bytes (the header) by a token that means something to a header
    /// parser.
    HeaderEdit(usize, usize, &'static str),
    /// Append bytes after the end.
    Append(Vec<u8>),
}

/// Mutations aimed at the header land within this many leading bytes.
const HEADER_SPAN: usize = 128;

/// Tokens of `.npy` dict literals and safetensors JSON headers.
const TOKENS: &[&str] = &[
    "'shape': (16, 8), ",
    "'shape': (3), ",
    "'descr': '>f4', ",
    "'descr': '<f8', ",
    "'fortran_order': True, ",
    "'extra': 1, ",
    "L",
    "\\x38",
    "(",
    ")",
    ",",
    ",,",
    "True",
    "False",
    "0",
    "08",
    "-1",
    "99999999999999999999",
    "'",
    "\"",
    "\n",
    "{",
    "}",
    " ",
    "\u{1b}",
    "\"shape\":[4,4],",
    "\"dtype\":\"I64\",",
    "\"dtype\":\"F16\",",
    "\"data_offsets\":[0,0],",
    "\"__metadata__\":{\"a\":\"b\"},",
    "\"w\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]},",
    "\x01\x00",
    "\x02\x00",
    "\x03\x00",
    "\x01\x7b",
    "\u{ff}\u{ff}",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        prop::collection::vec((any::<usize>(), 0u8..8), 1..8).prop_map(Mutation::FlipBits),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..6))
            .prop_map(|(at, bytes)| Mutation::Overwrite(at, bytes)),
        (0..HEADER_SPAN, 0usize..4, prop::sample::select(TOKENS))
            .prop_map(|(at, len, token)| Mutation::HeaderEdit(at, len, token)),
        prop::collection::vec(any::<u8>(), 1..16).prop_map(Mutation::Append),
    ]
}

fn apply(bytes: &[u8], m: &Mutation) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if out.is_empty() {
        return out;
    }
    match m {
        Mutation::Truncate(at) => out.truncate(at % out.len()),
        Mutation::FlipBits(flips) => {
            let n = out.len();
            for (at, bit) in flips {
                out[at % n] ^= 1 << bit;
            }
        }
        Mutation::Overwrite(at, new) => {
            let start = at % out.len();
            for (k, b) in new.iter().enumerate() {
                if let Some(slot) = out.get_mut(start + k) {
                    *slot = *b;
                }
            }
        }
        Mutation::HeaderEdit(at, len, token) => {
            let start = (*at).min(out.len());
            let end = (start + len).min(out.len());
            out.splice(start..end, token.bytes());
        }
        Mutation::Append(extra) => out.extend_from_slice(extra),
    }
    out
}

/// How many accepted `.npy` files npyz also read (and agreed on).
static NPYZ_AGREED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// When npyz (an independent reader) also accepts an `.npy` file lipcert
/// accepted, both must read the same shape and values.
fn same_as_npyz(bytes: &[u8], file: &WeightFile) -> Result<(), TestCaseError> {
    let Ok(t) = file.read(None) else {
        return Ok(());
    };
    let Ok(other) = npyz::NpyFile::new(bytes) else {
        return Ok(());
    };
    let shape: Vec<usize> = other.shape().iter().map(|&d| d as usize).collect();
    let fortran = other.order() == npyz::Order::Fortran;
    let values: Option<Vec<f64>> = match t.dtype {
        SourceDtype::F64 => other.into_vec::<f64>().ok(),
        SourceDtype::F32 => other
            .into_vec::<f32>()
            .ok()
            .map(|v| v.into_iter().map(f64::from).collect()),
        _ => None,
    };
    let Some(values) = values else {
        return Ok(());
    };
    NPYZ_AGREED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    prop_assert_eq!(&shape, &t.shape, "npyz and lipcert read different shapes");
    let rows: usize = shape.first().copied().unwrap_or(1);
    let n = values.len();
    prop_assert_eq!(n, t.values.len());
    if shape.len() == 2 && fortran {
        // npyz returns file order; lipcert row-major.
        let cols = shape[1];
        for i in 0..rows {
            for j in 0..cols {
                let (a, b) = (values[j * rows + i], t.values[i * cols + j]);
                prop_assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()));
            }
        }
    } else if !fortran || shape.len() < 2 {
        for (a, b) in values.iter().zip(&t.values) {
            prop_assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()));
        }
    }
    Ok(())
}

/// Opens `bytes` and reads every tensor; checks what succeeds is
/// self-consistent. Returns whether the file opened.
fn read_everything(path: &str, bytes: Vec<u8>) -> Result<bool, TestCaseError> {
    let Ok(file) = WeightFile::from_bytes(Path::new(path), bytes.clone()) else {
        return Ok(false);
    };
    if file.is_npy() {
        same_as_npyz(&bytes, &file)?;
    }
    for info in file.infos() {
        if let Ok(t) = file.read(info.name.as_deref()) {
            let n: usize = t.shape.iter().product();
            prop_assert_eq!(t.values.len(), n);
            prop_assert_eq!(&t.shape, &info.shape);
            // Validation never panics either.
            let _ = t.to_matrix();
            let _ = t.check_finite();
        }
    }
    Ok(true)
}

/// Counts outcomes so a test can assert that its mutations exercised both
/// the error paths and the success path.
#[derive(Default)]
struct Outcomes {
    opened: std::cell::Cell<u32>,
    refused: std::cell::Cell<u32>,
}

impl Outcomes {
    fn record(&self, opened: bool) {
        let c = if opened { &self.opened } else { &self.refused };
        c.set(c.get() + 1);
    }

    fn assert_both(&self, cases: u32) {
        eprintln!(
            "opened {}, refused {}, npyz also read {} so far",
            self.opened.get(),
            self.refused.get(),
            NPYZ_AGREED.load(std::sync::atomic::Ordering::Relaxed)
        );
        assert_eq!(self.opened.get() + self.refused.get(), cases);
        assert!(
            self.opened.get() > 0 && self.refused.get() > 0,
            "opened {}, refused {}",
            self.opened.get(),
            self.refused.get()
        );
    }
}

#[test]
fn mutated_npy_files_never_panic() {
    let strategy = (
        shape(),
        prop_oneof![
            Just(SourceDtype::F64),
            Just(SourceDtype::F32),
            Just(SourceDtype::F16)
        ],
        any::<bool>(),
        any::<bool>(),
        mutation(),
    );
    let outcomes = Outcomes::default();
    let n = cases();
    runner(n, 11)
        .run(&strategy, |(shape, dtype, fortran, big_endian, m)| {
            let n: usize = shape.iter().product();
            let values: Vec<f64> = (0..n).map(|k| k as f64 - 3.5).collect();
            let d = npy::NpyDtype { dtype, big_endian };
            let bytes = npy::encode(&shape, d, fortran, &values).unwrap();
            // The unmutated file reads back exactly.
            let (h, t) = npy::read(&bytes).unwrap();
            prop_assert_eq!(h.dtype, d);
            prop_assert_eq!(&t.values, &values);
            outcomes.record(read_everything("fuzz.npy", apply(&bytes, &m))?);
            Ok(())
        })
        .unwrap();
    outcomes.assert_both(n);
}

#[test]
fn mutated_safetensors_files_never_panic() {
    let tensor = (shape(), dtype());
    let strategy = (prop::collection::vec(tensor, 1..4), mutation());
    let outcomes = Outcomes::default();
    let n = cases();
    runner(n, 23)
        .run(&strategy, |(tensors, m)| {
            let named: Vec<(String, SourceDtype, Vec<usize>, Vec<f64>)> = tensors
                .iter()
                .enumerate()
                .map(|(k, (shape, dtype))| {
                    let n: usize = shape.iter().product();
                    let values = (0..n).map(|i| (i as f64) * 0.25 - 1.0).collect();
                    (format!("t{k}"), *dtype, shape.clone(), values)
                })
                .collect();
            let refs: Vec<(&str, SourceDtype, Vec<usize>, Vec<f64>)> = named
                .iter()
                .map(|(n, d, s, v)| (n.as_str(), *d, s.clone(), v.clone()))
                .collect();
            let bytes = encode_safetensors(&refs).unwrap();
            let file = WeightFile::from_bytes(Path::new("ok.safetensors"), bytes.clone()).unwrap();
            for (name, _, _, values) in &named {
                prop_assert_eq!(&file.read(Some(name)).unwrap().values, values);
            }
            outcomes.record(read_everything("fuzz.safetensors", apply(&bytes, &m))?);
            Ok(())
        })
        .unwrap();
    outcomes.assert_both(n);
}

#[test]
fn random_bytes_never_panic() {
    let strategy = (
        prop::collection::vec(any::<u8>(), 0..200),
        prop_oneof![Just("r.npy"), Just("r.safetensors"), Just("r.bin")],
        any::<bool>(),
    );
    runner(cases(), 5)
        .run(&strategy, |(mut bytes, path, with_magic)| {
            if with_magic {
                let mut b = b"\x93NUMPY\x01\x00".to_vec();
                b.append(&mut bytes);
                bytes = b;
            }
            read_everything(path, bytes)?;
            Ok(())
        })
        .unwrap();
}

/// Runs `lipcert sigma FILE` on a mutated file and checks the contract:
/// exit 0, 2 or 4 (never 3 or a signal), every stderr line a `lipcert:`
/// line; a file that does not open gives exactly one line, naming it.
fn binary_contract(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let opens = WeightFile::open(&path).is_ok();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lipcert"))
        .args(["sigma", path.to_str().unwrap(), "--rel-width", "1e-3"])
        .output()
        .unwrap();
    let code = out.status.code();
    let stderr = String::from_utf8_lossy(&out.stderr);
    prop_assert!(
        matches!(code, Some(0 | 2 | 4)),
        "exit {:?} for {:?}: {}",
        code,
        bytes,
        stderr
    );
    prop_assert!(!stderr.contains("internal error"), "{}", stderr);
    for line in stderr.lines() {
        prop_assert!(line.starts_with("lipcert: "), "{:?}", stderr);
    }
    if !opens {
        prop_assert_eq!(code, Some(2));
        prop_assert_eq!(stderr.lines().count(), 1, "{}", stderr);
        prop_assert!(stderr.contains(name), "{}", stderr);
    }
    if code == Some(4) {
        prop_assert!(stderr.contains("certif"), "{}", stderr);
    }
    if opens {
        // `normalize` either writes a complete file that reads back, or
        // writes nothing.
        let out_path = dir.join(format!("out-{name}"));
        let _ = std::fs::remove_file(&out_path);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_lipcert"))
            .args([
                "normalize",
                path.to_str().unwrap(),
                out_path.to_str().unwrap(),
            ])
            .args(["--rel-width", "1e-3"])
            .output()
            .unwrap();
        let code = out.status.code();
        let stderr = String::from_utf8_lossy(&out.stderr);
        prop_assert!(
            matches!(code, Some(0 | 2 | 4)),
            "normalize exit {:?}: {}",
            code,
            stderr
        );
        prop_assert!(!stderr.contains("internal error"), "{}", stderr);
        if out_path.exists() {
            prop_assert!(
                WeightFile::open(&out_path).is_ok(),
                "unreadable output: {}",
                stderr
            );
        } else {
            prop_assert_ne!(code, Some(0));
        }
    }
    Ok(())
}

#[test]
fn the_binary_keeps_its_contract_on_mutated_files() {
    let runs = (cases() / 20).max(12);
    let dir = tempfile::TempDir::new().unwrap();
    let npy_case = (
        prop::collection::vec(1usize..5, 2..=2),
        prop_oneof![Just(SourceDtype::F64), Just(SourceDtype::F32)],
        any::<bool>(),
        mutation(),
    );
    runner(runs, 41)
        .run(&npy_case, |(shape, dtype, fortran, m)| {
            let n: usize = shape.iter().product();
            let values: Vec<f64> = (0..n).map(|k| k as f64 * 0.75 - 2.0).collect();
            let bytes =
                npy::encode(&shape, npy::NpyDtype::little(dtype), fortran, &values).unwrap();
            binary_contract(dir.path(), "m.npy", &apply(&bytes, &m))
        })
        .unwrap();
    let st_case = (prop::collection::vec((shape(), dtype()), 1..3), mutation());
    runner(runs, 43)
        .run(&st_case, |(tensors, m)| {
            let named: Vec<(String, SourceDtype, Vec<usize>, Vec<f64>)> = tensors
                .iter()
                .enumerate()
                .map(|(k, (shape, dtype))| {
                    let n: usize = shape.iter().product();
                    let values = (0..n).map(|i| (i as f64) * 0.5 - 1.0).collect();
                    (format!("t{k}"), *dtype, shape.clone(), values)
                })
                .collect();
            let refs: Vec<(&str, SourceDtype, Vec<usize>, Vec<f64>)> = named
                .iter()
                .map(|(n, d, s, v)| (n.as_str(), *d, s.clone(), v.clone()))
                .collect();
            let bytes = encode_safetensors(&refs).unwrap();
            binary_contract(dir.path(), "m.safetensors", &apply(&bytes, &m))
        })
        .unwrap();
}
