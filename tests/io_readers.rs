//! Differential tests of the `.npy` reader and writer against npyz, an
//! independent implementation: random shapes (1-D to 4-D), dtypes and
//! memory orders.

use lipcert::io::npy;
use lipcert::SourceDtype;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

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

/// Row-major multi-index → position in a Fortran-order buffer.
fn fortran_position(shape: &[usize], c_pos: usize) -> usize {
    let mut rest = c_pos;
    let mut index = vec![0; shape.len()];
    for k in (0..shape.len()).rev() {
        index[k] = rest % shape[k];
        rest /= shape[k];
    }
    let mut pos = 0;
    let mut stride = 1;
    for k in 0..shape.len() {
        pos += index[k] * stride;
        stride *= shape[k];
    }
    pos
}

#[test]
fn our_reader_agrees_with_npyz_on_files_npyz_writes() {
    use npyz::WriterBuilder;
    let strategy = (
        prop::collection::vec(1usize..6, 1..=4),
        any::<bool>(),
        any::<bool>(),
        any::<u64>(),
    );
    runner(100, 3)
        .run(&strategy, |(shape, fortran, single, seed)| {
            let n: usize = shape.iter().product();
            // Row-major values with long binary expansions.
            let c: Vec<f64> = (0..n)
                .map(|k| ((k as f64 + 1.0) * (seed % 1000) as f64 * 1e-3 + 0.1).sin())
                .map(|v| if single { f64::from(v as f32) } else { v })
                .collect();
            let mut file_order = vec![0.0; n];
            for (k, v) in c.iter().enumerate() {
                let pos = if fortran {
                    fortran_position(&shape, k)
                } else {
                    k
                };
                file_order[pos] = *v;
            }
            let dims: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
            let order = if fortran {
                npyz::Order::Fortran
            } else {
                npyz::Order::C
            };
            let mut bytes = Vec::new();
            if single {
                let mut w = npyz::WriteOptions::new()
                    .default_dtype()
                    .shape(&dims)
                    .order(order)
                    .writer(&mut bytes)
                    .begin_nd()
                    .unwrap();
                w.extend(file_order.iter().map(|&v| v as f32)).unwrap();
                w.finish().unwrap();
            } else {
                let mut w = npyz::WriteOptions::new()
                    .default_dtype()
                    .shape(&dims)
                    .order(order)
                    .writer(&mut bytes)
                    .begin_nd()
                    .unwrap();
                w.extend(file_order.iter().copied()).unwrap();
                w.finish().unwrap();
            }
            let (header, tensor) = npy::read(&bytes).unwrap();
            prop_assert_eq!(&tensor.shape, &shape);
            prop_assert_eq!(header.fortran_order, fortran);
            prop_assert_eq!(
                tensor.dtype,
                if single {
                    SourceDtype::F32
                } else {
                    SourceDtype::F64
                }
            );
            for (a, b) in tensor.values.iter().zip(&c) {
                prop_assert_eq!(a.to_bits(), b.to_bits());
            }

            // And npyz reads what our writer produces (same dtype and order).
            let ours = npy::replace_data(&bytes, &header, &c).unwrap();
            prop_assert_eq!(&ours, &bytes);
            let dtype = npy::NpyDtype::little(tensor.dtype);
            let fresh = npy::encode(&shape, dtype, fortran, &c).unwrap();
            let parsed = npyz::NpyFile::new(&fresh[..]).unwrap();
            prop_assert_eq!(parsed.shape().to_vec(), dims);
            let is_fortran = matches!(parsed.order(), npyz::Order::Fortran);
            prop_assert_eq!(is_fortran, fortran);
            let stored: Vec<f64> = if single {
                parsed
                    .into_vec::<f32>()
                    .unwrap()
                    .into_iter()
                    .map(f64::from)
                    .collect()
            } else {
                parsed.into_vec::<f64>().unwrap()
            };
            for (a, b) in stored.iter().zip(&file_order) {
                prop_assert_eq!(a.to_bits(), b.to_bits());
            }
            Ok(())
        })
        .unwrap();
}
