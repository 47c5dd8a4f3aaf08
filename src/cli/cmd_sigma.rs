//! `lipcert sigma FILE [--tensor NAME] [--method M] [--failure-probability P]
//! [--rel-width W] [--json]`: a certified enclosure of σ(W) per 2-D tensor.

use super::args::SigmaArgs;
use super::digits::certified_digits;
use super::progress::Progress;
use super::report::{
    guarantee_text, json_line, seconds_text, table, Bounds, SigmaRecord, TensorId,
};
use super::{for_each_matrix, open_and_plan, sigma_options, used_count, Failure};
use super::{EXIT_INPUT, EXIT_OK};
use crate::sigma::sigma;
use std::time::Instant;

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
    let Ok(options) = sigma_options(&args.method) else {
        return EXIT_INPUT;
    };
    let Ok((file, planned)) = open_and_plan(&args.input) else {
        return EXIT_INPUT;
    };
    let progress = Progress::new(used_count(&planned));
    let mut rows = Vec::new();
    let code = for_each_matrix(&file, &planned, &progress, |info, matrix| {
        let start = Instant::now();
        let e = sigma(&matrix, &options).map_err(|err| Failure::library(&file, info, err))?;
        let seconds = start.elapsed().as_secs_f64();
        let id = TensorId::new(file.path(), info);
        if args.json {
            progress.out(&json_line(&SigmaRecord {
                id,
                sigma: Bounds::from(&e),
                seconds,
            }));
        } else {
            rows.push(vec![
                id.display_name(),
                id.display_shape(),
                id.dtype.clone(),
                certified_digits(e.lower(), e.upper()),
                e.method().name().to_owned(),
                guarantee_text(e.guarantee()),
                seconds_text(seconds),
            ]);
        }
        Ok(EXIT_OK)
    });
    if !rows.is_empty() {
        progress.out(&table(
            &[
                "tensor",
                "shape",
                "dtype",
                "σ (certified digits)",
                "method",
                "guarantee",
                "time",
            ],
            &rows,
        ));
    }
    code
}
