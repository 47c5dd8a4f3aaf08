//! `WeightFile::read_stored_matrix` (the one-pass reader behind
//! `lipcert sigma`) against the plain reader (`read` + `to_matrix`): the same
//! numbers, as W or Wᵀ, always tall; errors that name the tensor's own
//! row-major index whatever the file's memory order.

mod common;

use common::lcg::Lcg;
use lipcert::io::npy::{self, NpyDtype};
use lipcert::io::safetensors::encode as encode_safetensors;
use lipcert::io::WeightFile;
use lipcert::{DenseMatrix, SourceDtype};
use std::path::{Path, PathBuf};

const DTYPES: [SourceDtype; 4] = [
    SourceDtype::F64,
    SourceDtype::F32,
    SourceDtype::F16,
    SourceDtype::BF16,
];

/// A fresh folder for one test's files.
fn folder(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lipcert-stored-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The files one matrix can be stored in: C-order and Fortran-order `.npy`
/// (little- and big-endian; NumPy has no bfloat16) and `.safetensors`.
fn write_all(
    dir: &Path,
    tag: &str,
    shape: [usize; 2],
    dtype: SourceDtype,
    values: &[f64],
) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    let npy_layouts: &[(bool, bool)] = if dtype == SourceDtype::BF16 {
        &[]
    } else {
        &[(false, false), (true, false), (false, true), (true, true)]
    };
    for &(fortran, big) in npy_layouts {
        let mut d = NpyDtype::little(dtype);
        d.big_endian = big;
        let bytes = npy::encode(&shape, d, fortran, values).unwrap();
        let path = dir.join(format!("{tag}-{fortran}-{big}.npy"));
        std::fs::write(&path, bytes).unwrap();
        paths.push(path);
    }
    let bytes = encode_safetensors(&[("w", dtype, shape.to_vec(), values.to_vec())]).unwrap();
    let path = dir.join(format!("{tag}.safetensors"));
    std::fs::write(&path, bytes).unwrap();
    paths.push(path);
    paths
}

fn name_of(path: &Path) -> Option<&'static str> {
    (path.extension().unwrap() == "safetensors").then_some("w")
}

/// The matrix through the plain reader (row-major tensor, then W).
fn plain(file: &WeightFile, name: Option<&str>) -> DenseMatrix {
    file.read(name).unwrap().to_matrix().unwrap()
}

#[test]
fn the_stored_matrix_is_w_or_its_transpose_and_is_tall() {
    let dir = folder("values");
    let mut rng = Lcg(3);
    for shape in [
        [3, 5],
        [5, 3],
        [4, 4],
        [1, 7],
        [7, 1],
        [1, 1],
        [33, 70],
        [70, 33],
    ] {
        for dtype in DTYPES {
            let values = rng.vec(shape[0] * shape[1], 3.0);
            let tag = format!("{}x{}-{}", shape[0], shape[1], dtype.name());
            for path in write_all(&dir, &tag, shape, dtype, &values) {
                let file = WeightFile::open(&path).unwrap();
                let w = plain(&file, name_of(&path));
                let stored = file.read_stored_matrix(name_of(&path)).unwrap();
                let s = &stored.matrix;
                assert!(
                    s.nrows() >= s.ncols(),
                    "{path:?}: {}x{}",
                    s.nrows(),
                    s.ncols()
                );
                // Square matrices keep the file's order (no transpose).
                if shape[0] != shape[1] {
                    assert_eq!(stored.transposed, shape[0] < shape[1], "{path:?}");
                }
                assert_eq!(s.dtype(), dtype);
                for i in 0..shape[0] {
                    for j in 0..shape[1] {
                        let got = if stored.transposed {
                            s.get(j, i)
                        } else {
                            s.get(i, j)
                        };
                        assert_eq!(got.to_bits(), w.get(i, j).to_bits(), "{path:?} ({i}, {j})");
                    }
                }
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn non_finite_entries_are_reported_at_their_first_row_major_index() {
    let dir = folder("nonfinite");
    for shape in [[3, 4], [6, 2]] {
        let (r, c) = (shape[0], shape[1]);
        let mut values = vec![0.5; r * c];
        // Row-major first: (0, c−1); column-major first: (r−1, 0).
        values[c - 1] = f64::NAN;
        values[(r - 1) * c] = f64::INFINITY;
        for dtype in DTYPES {
            let tag = format!("{r}x{c}-{}", dtype.name());
            for path in write_all(&dir, &tag, shape, dtype, &values) {
                let file = WeightFile::open(&path).unwrap();
                let err = file
                    .read_stored_matrix(name_of(&path))
                    .unwrap_err()
                    .to_string();
                let want = format!(
                    "2 non-finite entries (NaN/Inf); the first is NaN at index [0, {}]",
                    c - 1
                );
                assert!(err.contains(&want), "{path:?}: {err}");
                assert!(err.contains(&*path.to_string_lossy()), "{err}");
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tensors_that_are_not_matrices_are_refused_with_the_reason() {
    let dir = folder("rank");
    let one_d = dir.join("bias.npy");
    std::fs::write(
        &one_d,
        npy::encode(&[4], NpyDtype::little(SourceDtype::F32), false, &[1.0; 4]).unwrap(),
    )
    .unwrap();
    let err = WeightFile::open(&one_d)
        .unwrap()
        .read_stored_matrix(None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("1-D tensor"), "{err}");
    let kernel = dir.join("k.safetensors");
    let bytes = encode_safetensors(&[("conv", SourceDtype::F32, vec![2, 1, 3, 3], vec![0.25; 18])])
        .unwrap();
    std::fs::write(&kernel, bytes).unwrap();
    let err = WeightFile::open(&kernel)
        .unwrap()
        .read_stored_matrix(Some("conv"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("lipcert conv") && err.contains("conv"),
        "{err}"
    );
    let empty = dir.join("empty.npy");
    std::fs::write(
        &empty,
        npy::encode(&[0, 3], NpyDtype::little(SourceDtype::F64), false, &[]).unwrap(),
    )
    .unwrap();
    let err = WeightFile::open(&empty)
        .unwrap()
        .read_stored_matrix(None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("empty") || err.contains("no entries"), "{err}");
    let file = WeightFile::open(&kernel).unwrap();
    let err = file
        .read_stored_matrix(Some("nope"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("nope"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
