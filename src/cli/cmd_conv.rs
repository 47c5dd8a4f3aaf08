//! `lipcert conv FILE [--tensor NAME] --input HxW [--stride S|SH,SW]
//! [--padding P|PH,PW|T,L,B,R] [--padding-mode MODE] [--dilation D|DH,DW]
//! [--groups G] [--json]`: the certified operator norm of a convolution
//! layer, next to the reshaped-kernel norm frameworks normalize.

use super::args::ConvArgs;
use super::conv_geometry::GeometryOptions;
use super::digits::certified_digits;
use super::progress::Progress;
use super::report::{guarantee_text, json_line, seconds_text, table, Bounds, ConvRecord, TensorId};
use super::select::{load_finite, plan_kernels};
use super::{error_line, for_each_planned, input_error, used_count, Failure};
use super::{EXIT_INPUT, EXIT_OK};
use crate::budget::MemoryBudget;
use crate::conv::{conv_sigma, ConvOptions, ConvReport, Kernel};
use crate::io::{Problem, Tensor, TensorInfo, WeightFile};
use std::time::Instant;

/// Runs `lipcert conv`; returns the exit code.
pub fn run(args: &ConvArgs) -> i32 {
    #[cfg(feature = "onnx")]
    if super::cmd_onnx::is_onnx(&args.input.file) {
        return super::cmd_onnx::conv(args);
    }
    if args.input_shape.is_some() {
        error_line("--input-shape applies to ONNX models only");
        return EXIT_INPUT;
    }
    let options = match GeometryOptions::parse(&args.geometry) {
        Ok(Some(o)) => o,
        Ok(None) => {
            error_line("`lipcert conv` needs --input HxW (the input's spatial size)");
            return EXIT_INPUT;
        }
        Err(msg) => {
            error_line(&msg);
            return EXIT_INPUT;
        }
    };
    let file = match WeightFile::open(&args.input.file) {
        Ok(f) => f,
        Err(e) => return input_error(&e, None),
    };
    let planned = match plan_kernels(&file, args.input.tensor.as_deref()) {
        Ok(p) => p,
        Err(e) => return input_error(&e, None),
    };
    let progress = Progress::new(used_count(&planned));
    let mut rows = Vec::new();
    let code = for_each_planned(&file, &planned, &progress, load_finite, |info, tensor| {
        let start = Instant::now();
        let report = certify_kernel(
            &file,
            info,
            &tensor,
            &options,
            args.memory.budget(),
            Some(args.rel_width),
            args.threads,
        )?;
        let seconds = start.elapsed().as_secs_f64();
        let id = TensorId::new(file.path(), info);
        if args.json {
            progress.out(&json_line(&conv_record(
                id,
                &report,
                args.rel_width,
                seconds,
            )));
        } else {
            let mut row = vec![id.display_name()];
            row.extend(conv_cells(&id, &report, args.rel_width, seconds));
            rows.push(row);
        }
        Ok(EXIT_OK)
    });
    if !rows.is_empty() {
        let mut headers = vec!["tensor"];
        headers.extend(CONV_HEADERS);
        progress.out(&table(&headers, &rows));
    }
    code
}

/// The conv options of the command line (`--rel-width`, `--max-memory`),
/// shared by the tensor-file and ONNX paths; a bad `--rel-width` is the
/// error message.
pub(super) fn conv_options(
    rel_width: Option<f64>,
    memory: MemoryBudget,
    threads: usize,
) -> Result<ConvOptions, String> {
    if let Some(w) = rel_width {
        if !(w > 0.0 && w.is_finite()) {
            return Err(format!("--rel-width {w} must be a positive finite number"));
        }
    }
    Ok(ConvOptions {
        rel_width,
        memory,
        threads,
        ..ConvOptions::default()
    })
}

/// The `--json` record of one certified kernel.
pub(super) fn conv_record(
    id: TensorId,
    report: &ConvReport,
    target: f64,
    seconds: f64,
) -> ConvRecord {
    ConvRecord {
        id,
        sigma: Bounds::from(&report.enclosure),
        reshaped_sigma: Bounds::from(&report.reshaped),
        operator: report.description.clone(),
        relative_width: report.relative_width,
        target_rel_width: target,
        target_met: report.target_met.unwrap_or(true),
        seconds,
    }
}

/// The table cells of one certified kernel after its name: shape, dtype,
/// σ, ‖R‖, relative width, guarantee, time, operator.
pub(super) fn conv_cells(
    id: &TensorId,
    report: &ConvReport,
    target: f64,
    seconds: f64,
) -> Vec<String> {
    let e = &report.enclosure;
    vec![
        id.display_shape(),
        id.dtype.clone(),
        certified_digits(e.lower(), e.upper()),
        certified_digits(report.reshaped.lower(), report.reshaped.upper()),
        width_text(report.relative_width, target, report.target_met),
        guarantee_text(e.guarantee()),
        seconds_text(seconds),
        report.description.clone(),
    ]
}

/// The table headers after the name column.
pub(super) const CONV_HEADERS: [&str; 8] = [
    "shape",
    "dtype",
    "σ conv (certified digits)",
    "‖R‖ reshaped",
    "rel width",
    "guarantee",
    "time",
    "operator",
];

/// The relative width, marked when it misses the target.
fn width_text(width: f64, target: f64, met: Option<bool>) -> String {
    if met == Some(false) {
        format!("{width:.1e} (target {target:.0e} not met)")
    } else {
        format!("{width:.1e}")
    }
}

/// Builds the kernel and geometry of `tensor` and certifies the layer,
/// escalating towards `rel_width` when given.
pub(super) fn certify_kernel(
    file: &WeightFile,
    info: &TensorInfo,
    tensor: &Tensor,
    options: &GeometryOptions,
    memory: MemoryBudget,
    rel_width: Option<f64>,
    threads: usize,
) -> Result<ConvReport, Failure> {
    let name = info.name.as_deref();
    let geometry = options
        .geometry_for(&tensor.shape)
        .map_err(|msg| Failure::Input(Box::new(file.error(name, Problem::Other(msg)))))?;
    let kernel = Kernel::from_widened(
        geometry.c_out,
        geometry.c_in_per_group(),
        geometry.kh,
        geometry.kw,
        tensor.values.clone(),
        tensor.dtype,
    )
    .map_err(|e| Failure::library(file, info, e))?;
    let conv_options = conv_options(rel_width, memory, threads)
        .map_err(|msg| Failure::Input(Box::new(file.error(name, Problem::Other(msg)))))?;
    conv_sigma(&kernel, &geometry, &conv_options).map_err(|e| Failure::library(file, info, e))
}
