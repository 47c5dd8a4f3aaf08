//! `lipcert sigma INPUT [--tensor NAME | --include GLOB… --exclude GLOB…]
//! [--method M] [--failure-probability P] [--rel-width W] [--json]`: a
//! certified enclosure of σ(W) per 2-D tensor.
//!
//! INPUT is a weight file or a whole checkpoint (see
//! [`crate::io::checkpoint`]): a folder with `model.safetensors.index.json`
//! and its shards (or a single `model.safetensors`), or the index itself.
//! `.safetensors` files are opened lazily: headers first (so a broken
//! checkpoint is refused before any work), then one tensor at a time, so
//! memory holds about one tensor and what σ needs for it.
//!
//! Output: a table at the end, or with `--json` one line per tensor as soon
//! as it is done (an interrupted run keeps what it printed). For a
//! checkpoint the output ends with a summary (count, time, an enclosure of
//! the largest σ and its tensor, the widest relative width): a line under
//! the table, or a `{"summary": …}` JSON line. Single files keep their
//! one-line-per-tensor output without a summary.

use super::args::SigmaArgs;
use super::digits::certified_digits;
use super::progress::Progress;
use super::report::{
    guarantee_text, json_line, seconds_text, table, Bounds, SigmaRecord, TensorId,
};
use super::select::{self, Planned};
use super::summary::Summary;
use super::{error_line, input_error, sigma_options, sweep, used_count, Failure};
use super::{EXIT_INPUT, EXIT_OK};
use crate::enclosure::Enclosure;
use crate::io::checkpoint::Checkpoint;
use crate::io::escape::escape_path;
use crate::io::name_glob::NameFilter;
use crate::io::{InputError, Problem, WeightFile};
use crate::sigma::sigma_owned;
use std::path::Path;
use std::time::Instant;

/// The files to read and, for each, the planned tensors in file order.
type Jobs = Vec<(WeightFile, Vec<Planned>)>;

/// Runs `lipcert sigma`; returns the exit code.
pub fn run(args: &SigmaArgs) -> i32 {
    #[cfg(feature = "onnx")]
    if super::cmd_onnx::is_onnx(&args.input.file) {
        return super::cmd_onnx::sigma_matrices(args);
    }
    if args.input_shape.is_some() {
        super::error_line("--input-shape applies to ONNX models only");
        return EXIT_INPUT;
    }
    let started = Instant::now();
    super::heap::retain_freed_memory();
    let Ok(options) = sigma_options(&args.method) else {
        return EXIT_INPUT;
    };
    let filter = NameFilter::new(&args.include, &args.exclude);
    let planned = Checkpoint::resolve(&args.input.file).and_then(|c| match c {
        Some(ckpt) => plan_checkpoint(&ckpt, &filter).map(|jobs| (jobs, true)),
        None => plan_file(&args.input.file, args.input.tensor.as_deref(), &filter)
            .map(|jobs| (jobs, false)),
    });
    let (jobs, checkpoint) = match planned {
        Ok(p) => p,
        Err(e) => return input_error(&e, None),
    };
    let total: usize = jobs.iter().map(|(_, p)| used_count(p)).sum();
    let progress = Progress::new(total);
    let mut rows = Vec::new();
    let mut summary = Summary::default();
    let items = jobs
        .iter()
        .flat_map(|(f, ps)| ps.iter().map(move |p| (f, p)));
    // σ(W) = σ(Wᵀ): each matrix is read in its file's memory order and
    // scaled in place (no transposed or scaled copies).
    let code = sweep(
        items,
        &progress,
        select::load_stored,
        |file, info, matrix| {
            let start = Instant::now();
            let e =
                sigma_owned(matrix, &options).map_err(|err| Failure::library(file, info, err))?;
            let seconds = start.elapsed().as_secs_f64();
            let id = TensorId::new(file.path(), info);
            let bounds = Bounds::from(&e);
            summary.add(&id, &bounds);
            if args.json {
                progress.out(&json_line(&SigmaRecord {
                    id,
                    sigma: bounds,
                    seconds,
                }));
            } else {
                let mut row = vec![id.display_name()];
                row.extend(sigma_cells(&id, &e, seconds));
                rows.push(row);
            }
            Ok(EXIT_OK)
        },
    );
    if !rows.is_empty() {
        let mut headers = vec!["tensor"];
        headers.extend(SIGMA_HEADERS);
        progress.out(&table(&headers, &rows));
    }
    if checkpoint {
        let seconds = started.elapsed().as_secs_f64();
        if args.json {
            progress.out(&json_line(&summary.record(total, seconds)));
        } else {
            progress.out(&summary.text(total, seconds));
        }
    }
    code
}

/// Prints `lipcert: note: …` on stderr (before any progress bar exists).
fn note(line: &str) {
    error_line(&format!("note: {line}"));
}

/// One weight file: `--tensor`, or every tensor the filter keeps.
fn plan_file(path: &Path, tensor: Option<&str>, filter: &NameFilter) -> Result<Jobs, InputError> {
    let file = WeightFile::open_lazy(path)?;
    if file.is_npy() && !filter.is_empty() {
        return Err(file.error(
            None,
            Problem::Other(
                "--include/--exclude select tensors by name; an .npy file holds one unnamed array"
                    .to_owned(),
            ),
        ));
    }
    if file.is_npy() || tensor.is_some() {
        let planned = select::plan(&file, tensor)?;
        return Ok(vec![(file, planned)]);
    }
    let (planned, refused) = select::plan_kept(&file, |n| filter.keeps(n));
    let count = planned.len() + refused;
    if used_count(&planned) == 0 {
        return Err(nothing_left(&file, count, refused, filter));
    }
    left_out_note(refused, count, "tensors");
    Ok(vec![(file, planned)])
}

/// Every shard of a checkpoint, checked against its index before anything
/// is computed; each shard's tensors in its file order.
fn plan_checkpoint(ckpt: &Checkpoint, filter: &NameFilter) -> Result<Jobs, InputError> {
    let shards = ckpt.open_shards()?;
    let (mut count, mut refused) = (0usize, 0usize);
    let mut jobs = Vec::with_capacity(shards.len());
    for shard in shards {
        if let Some(first) = shard.unlisted.first() {
            let index = ckpt.index.as_deref().map_or_else(String::new, escape_path);
            note(&format!(
                "ignoring {} tensor{} of {} that {index} does not list (the first: '{}')",
                shard.unlisted.len(),
                if shard.unlisted.len() == 1 { "" } else { "s" },
                escape_path(shard.file.path()),
                crate::io::escape::escape_name(first)
            ));
        }
        let (planned, r) =
            select::plan_kept(&shard.file, |n| shard.listed.contains(n) && filter.keeps(n));
        count += shard.listed.len();
        refused += r - shard.unlisted.len();
        jobs.push((shard.file, planned));
    }
    if jobs.iter().all(|(_, p)| used_count(p) == 0) {
        let what = ckpt
            .index
            .clone()
            .unwrap_or_else(|| jobs[0].0.path().to_path_buf());
        return Err(InputError::new(
            &what,
            nothing_left_problem(count, refused, filter),
        ));
    }
    left_out_note(refused, count, "tensors");
    Ok(jobs)
}

/// One note saying how many of the `count` items (`what`: "tensors",
/// "Gemm/MatMul weights") the patterns left out (none when none were).
pub(super) fn left_out_note(refused: usize, count: usize, what: &str) {
    if refused > 0 {
        note(&format!(
            "--include/--exclude left out {refused} of {count} {what}"
        ));
    }
}

fn nothing_left(
    file: &WeightFile,
    count: usize,
    refused: usize,
    filter: &NameFilter,
) -> InputError {
    if filter.is_empty() {
        return select::nothing_to_do(file, count);
    }
    file.error(None, nothing_left_problem(count, refused, filter))
}

fn nothing_left_problem(count: usize, refused: usize, filter: &NameFilter) -> Problem {
    let why = if filter.is_empty() {
        format!("no 2-D floating-point tensor to process ({count} tensors in all)")
    } else {
        format!(
            "no 2-D floating-point tensor to process: --include/--exclude kept {} of {count} tensors",
            count - refused
        )
    };
    Problem::NothingToDo(why)
}

/// One table row of a certified σ after the name column(s), in the order
/// of [`SIGMA_HEADERS`] (shared by the tensor-file and ONNX listings).
pub(super) fn sigma_cells(id: &TensorId, e: &Enclosure, seconds: f64) -> Vec<String> {
    vec![
        id.display_shape(),
        id.dtype.clone(),
        certified_digits(e.lower(), e.upper()),
        e.method().name().to_owned(),
        guarantee_text(e.guarantee()),
        seconds_text(seconds),
    ]
}

/// The σ table headers after the name column(s).
pub(super) const SIGMA_HEADERS: [&str; 6] = [
    "shape",
    "dtype",
    "σ (certified digits)",
    "method",
    "guarantee",
    "time",
];
