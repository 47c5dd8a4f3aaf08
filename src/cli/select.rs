//! Which tensors of a file a command works on.
//!
//! With `--tensor NAME` (or for an `.npy` file) exactly that tensor, and a
//! tensor the command cannot use is an error. Without it, every tensor of a
//! `.safetensors` file in file order: 2-D float tensors are used, the others
//! are skipped with a note on stderr (1-D: bias or scale; 4-D: convolution
//! kernel, with the command that certifies it).

use crate::io::error::format_shape;
use crate::io::tensor::rank_hint;
use crate::io::{InputError, Problem, Tensor, TensorInfo, WeightFile};
use crate::matrix::DenseMatrix;

/// A tensor the command will use, or one it skips.
#[derive(Debug, Clone)]
pub enum Planned {
    /// Use this tensor.
    Use(TensorInfo),
    /// Skip it, with this note.
    Skip(String),
}

/// The plan for `file` given `--tensor`.
pub fn plan(file: &WeightFile, tensor: Option<&str>) -> Result<Vec<Planned>, InputError> {
    if file.is_npy() || tensor.is_some() {
        let info = file.info(tensor)?;
        if info.shape.len() != 2 {
            return Err(file.error(
                tensor,
                Problem::WrongRank {
                    shape: info.shape.clone(),
                    hint: hint_for(file, tensor, info.shape.len()),
                },
            ));
        }
        return Ok(vec![Planned::Use(info)]);
    }
    let (planned, _) = plan_kept(file, |_| true);
    if !planned.iter().any(|p| matches!(p, Planned::Use(_))) {
        return Err(nothing_to_do(file, planned.len()));
    }
    Ok(planned)
}

/// The plan for every tensor of a `.safetensors` file whose name `keep`
/// accepts, in file order (2-D float tensors used, others skipped with a
/// note), and how many names `keep` refused. Never an error: a file (a
/// checkpoint shard) may hold nothing to do.
pub fn plan_kept(file: &WeightFile, keep: impl Fn(&str) -> bool) -> (Vec<Planned>, usize) {
    let infos = file.infos();
    let mut planned = Vec::with_capacity(infos.len());
    let mut refused = 0;
    for info in infos {
        let name = info.name.clone().unwrap_or_default();
        if !keep(&name) {
            refused += 1;
            continue;
        }
        let float = matches!(info.dtype_name.as_str(), "f64" | "f32" | "f16" | "bf16");
        if !float {
            planned.push(Planned::Skip(format!(
                "skipping '{name}' ({}, {}): not a floating-point tensor",
                format_shape(&info.shape),
                info.dtype_name
            )));
        } else if info.shape.len() != 2 {
            planned.push(Planned::Skip(format!(
                "skipping '{name}' ({}): {}",
                format_shape(&info.shape),
                hint_for(file, Some(&name), info.shape.len())
            )));
        } else {
            planned.push(Planned::Use(info));
        }
    }
    (planned, refused)
}

/// "No 2-D floating-point tensor to process" for `file`, which holds
/// `count` tensors.
pub fn nothing_to_do(file: &WeightFile, count: usize) -> InputError {
    file.error(
        None,
        Problem::NothingToDo(format!(
            "no 2-D floating-point tensor to process (the file holds {} tensor{})",
            count,
            if count == 1 { "" } else { "s" }
        )),
    )
}

fn hint_for(file: &WeightFile, tensor: Option<&str>, rank: usize) -> String {
    if rank == 4 {
        let t = tensor.map_or(String::new(), |n| format!(" --tensor {n}"));
        format!(
            "a 4-D tensor is a convolution kernel; certify it with `lipcert conv {}{t} --input HxW` (plus stride/padding options)",
            file.path().display()
        )
    } else {
        rank_hint(rank)
    }
}

/// The plan for a convolution command: with `--tensor` (or for `.npy`) that
/// tensor, which must be 3-D or 4-D; without it every 3-D/4-D float tensor
/// of a `.safetensors` file, the others skipped with a note.
pub fn plan_kernels(file: &WeightFile, tensor: Option<&str>) -> Result<Vec<Planned>, InputError> {
    let is_kernel = |rank: usize| rank == 3 || rank == 4;
    if file.is_npy() || tensor.is_some() {
        let info = file.info(tensor)?;
        if !is_kernel(info.shape.len()) {
            return Err(file.error(
                tensor,
                Problem::WrongRank {
                    shape: info.shape.clone(),
                    hint: "a convolution kernel is 4-D [C_out, C_in/groups, kh, kw] or 3-D [C_out, C_in/groups, k]; dense layers go to `lipcert sigma`".to_owned(),
                },
            ));
        }
        return Ok(vec![Planned::Use(info)]);
    }
    let mut planned = Vec::new();
    for info in file.infos() {
        let name = info.name.clone().unwrap_or_default();
        let float = matches!(info.dtype_name.as_str(), "f64" | "f32" | "f16" | "bf16");
        if float && is_kernel(info.shape.len()) {
            planned.push(Planned::Use(info));
        } else {
            planned.push(Planned::Skip(format!(
                "skipping '{name}' ({}, {}): not a convolution kernel",
                format_shape(&info.shape),
                info.dtype_name
            )));
        }
    }
    if !planned.iter().any(|p| matches!(p, Planned::Use(_))) {
        return Err(file.error(
            None,
            Problem::NothingToDo(
                "no 3-D or 4-D floating-point tensor (convolution kernel) to process".to_owned(),
            ),
        ));
    }
    Ok(planned)
}

/// Reads the tensor described by `info` and checks that it is finite.
pub fn load_finite(file: &WeightFile, info: &TensorInfo) -> Result<Tensor, InputError> {
    let name = info.name.as_deref();
    let tensor = file.read(name)?;
    tensor.check_finite().map_err(|p| file.error(name, p))?;
    Ok(tensor)
}

/// Reads the tensor described by `info` and validates it as a matrix.
pub fn load(file: &WeightFile, info: &TensorInfo) -> Result<DenseMatrix, InputError> {
    let name = info.name.as_deref();
    let timer = crate::timing::stage();
    let tensor = file.read(name)?;
    timer.done(|| format!("read+widen {}", name.unwrap_or("tensor")));
    let timer = crate::timing::stage();
    let matrix = tensor.to_matrix().map_err(|p| file.error(name, p));
    timer.done(|| format!("to column-major {}", name.unwrap_or("tensor")));
    matrix
}

/// Reads the tensor described by `info` as W or Wᵀ, whichever is tall
/// ([`WeightFile::read_stored_matrix`]): for commands that need only
/// σ(W) = σ(Wᵀ), one decoding pass and no further copy.
pub fn load_stored(file: &WeightFile, info: &TensorInfo) -> Result<DenseMatrix, InputError> {
    let name = info.name.as_deref();
    let timer = crate::timing::stage();
    let stored = file.read_stored_matrix(name)?;
    timer.done(|| format!("read+widen {}", name.unwrap_or("tensor")));
    Ok(stored.matrix)
}
