//! Fuzz-style property tests: valid `.npy` and `.safetensors` files, then
//! truncated, bit-flipped and byte-overwritten versions of them, fed to the
//! library readers. Every outcome must be an error or a consistent tensor,
//! never a panic (a panic fails the test). Fixed seeds, no persistence.

use lipcert::io::safetensors::encode as encode_safetensors;
use lipcert::io::{npy, WeightFile};
use lipcert::SourceDtype;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::path::Path;

fn runner(cases: u32, seed: u8) -> TestRunner {
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
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        prop::collection::vec((any::<usize>(), 0u8..8), 1..8).prop_map(Mutation::FlipBits),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..6))
            .prop_map(|(at, bytes)| Mutation::Overwrite(at, bytes)),
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
    }
    out
}

/// Opens `bytes` and reads every tensor; checks what succeeds is
/// self-consistent. Returns whether the file opened.
fn read_everything(path: &str, bytes: Vec<u8>) -> Result<bool, TestCaseError> {
    let Ok(file) = WeightFile::from_bytes(Path::new(path), bytes) else {
        return Ok(false);
    };
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
    runner(200, 11)
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
    outcomes.assert_both(200);
}

#[test]
fn mutated_safetensors_files_never_panic() {
    let tensor = (shape(), dtype());
    let strategy = (prop::collection::vec(tensor, 1..4), mutation());
    let outcomes = Outcomes::default();
    runner(200, 23)
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
    outcomes.assert_both(200);
}

#[test]
fn random_bytes_never_panic() {
    let strategy = (
        prop::collection::vec(any::<u8>(), 0..200),
        prop_oneof![Just("r.npy"), Just("r.safetensors"), Just("r.bin")],
        any::<bool>(),
    );
    runner(200, 5)
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
