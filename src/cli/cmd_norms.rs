//! `lipcert norms FILE [--tensor NAME] [--json]`: certified ℓ1, ℓ2 and ℓ∞
//! operator norms per 2-D tensor.

use super::args::NormsArgs;
use super::digits::certified_digits;
use super::progress::Progress;
use super::report::{
    guarantee_text, json_line, seconds_text, table, Bounds, NormsRecord, TensorId,
};
use super::{for_each_matrix, open_and_plan, sigma_options, used_count, Failure};
use super::{EXIT_INPUT, EXIT_OK};
use crate::certify::p_norms::{l1_norm, linf_norm};
use crate::sigma::sigma;
use std::time::Instant;

/// Runs `lipcert norms`; returns the exit code.
pub fn run(args: &NormsArgs) -> i32 {
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
        let lib = |err| Failure::library(&file, info, err);
        let l1 = l1_norm(&matrix)
            .and_then(|e| e.to_enclosure("max absolute column sum, rounded outward"))
            .map_err(lib)?;
        let l2 = sigma(&matrix, &options).map_err(lib)?;
        let linf = linf_norm(&matrix)
            .and_then(|e| e.to_enclosure("max absolute row sum, rounded outward"))
            .map_err(lib)?;
        let seconds = start.elapsed().as_secs_f64();
        let id = TensorId::new(file.path(), info);
        if args.json {
            progress.out(&json_line(&NormsRecord {
                id,
                l1: Bounds::from(&l1),
                l2: Bounds::from(&l2),
                linf: Bounds::from(&linf),
                seconds,
            }));
        } else {
            rows.push(vec![
                id.display_name(),
                id.display_shape(),
                id.dtype.clone(),
                certified_digits(l1.lower(), l1.upper()),
                certified_digits(l2.lower(), l2.upper()),
                certified_digits(linf.lower(), linf.upper()),
                guarantee_text(l2.guarantee()),
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
                "ℓ1 (max col sum)",
                "ℓ2 (σ)",
                "ℓ∞ (max row sum)",
                "guarantee",
                "time",
            ],
            &rows,
        ));
    }
    code
}
