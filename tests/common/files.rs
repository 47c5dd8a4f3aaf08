// Writing test inputs.

use safetensors::tensor::{Dtype, TensorView};
use std::path::{Path, PathBuf};

/// Writes `tensors` (name, shape, values) as an F64 `.safetensors` file
/// `name` in `dir` (the safetensors crate's own writer) and returns its path.
pub fn write_f64_safetensors(
    dir: &Path,
    name: &str,
    tensors: &[(&str, Vec<usize>, Vec<f64>)],
) -> PathBuf {
    let data: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, _, v)| v.iter().flat_map(|x| x.to_le_bytes()).collect())
        .collect();
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .zip(&data)
        .map(|((n, s, _), b)| {
            (
                n.to_string(),
                TensorView::new(Dtype::F64, s.clone(), b).unwrap(),
            )
        })
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, safetensors::serialize(views, None).unwrap()).unwrap();
    path
}
