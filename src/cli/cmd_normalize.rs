//! `lipcert normalize IN OUT [--tensor NAME]`: writes W/σ̂ (σ̂ = the
//! enclosure's estimate) in the input's format, dtype, byte order and memory
//! order, copying every other tensor unchanged, then re-reads OUT and
//! certifies σ of the values actually written.
//!
//! Rounding W/σ̂ to f32/f16/bf16 moves σ away from 1 by up to about
//! u_dtype·√rank; the printed enclosure (and its `|σ − 1| ≤` column) is what
//! holds for the file.

use super::args::NormalizeArgs;
use super::digits::{certified_digits, number_text};
use super::progress::Progress;
use super::report::{
    guarantee_text, json_line, seconds_text, table, Bounds, NormalizeRecord, TensorId,
};
use super::select::{self, Planned};
use super::{error_line, input_error, library_error_code, sigma_options, EXIT_INPUT, EXIT_OK};
use crate::enclosure::Enclosure;
use crate::io::atomic_write::write_atomic;
use crate::io::escape::escape_path;
use crate::io::{InputError, Problem, TensorInfo, WeightFile};
use crate::rounding::sub_up;
use crate::sigma::{sigma, SigmaOptions};
use std::time::Instant;

/// A tensor scaled in memory, waiting to be written.
struct Scaled {
    info: TensorInfo,
    before: Enclosure,
    scale: f64,
    values: Vec<f64>,
}

/// Upper bound on |σ − 1| for σ in `e`.
pub fn deviation_from_one(e: &Enclosure) -> f64 {
    sub_up(e.upper(), 1.0).max(sub_up(1.0, e.lower())).max(0.0)
}

/// Runs `lipcert normalize`; returns the exit code.
pub fn run(args: &NormalizeArgs) -> i32 {
    let Ok(options) = sigma_options(&args.method) else {
        return EXIT_INPUT;
    };
    let start = Instant::now();
    let file = match WeightFile::open(&args.input) {
        Ok(f) => f,
        Err(e) => return input_error(&e, None),
    };
    if let Err(e) = check_output_format(&file, &args.output) {
        return input_error(&e, None);
    }
    let planned = match select::plan(&file, args.tensor.as_deref()) {
        Ok(p) => p,
        Err(e) => return input_error(&e, None),
    };
    let progress = Progress::new(2 * planned.len());
    // Scale every tensor first; write nothing unless all succeed.
    let mut scaled = Vec::new();
    for p in &planned {
        match p {
            Planned::Skip(note) => {
                progress.note(&format!("lipcert: note: {note}; copied unchanged"))
            }
            Planned::Use(info) => {
                progress.start(info.name.as_deref().unwrap_or(""));
                match scale_one(&file, info, &options) {
                    Ok(s) => scaled.push(s),
                    Err(code) => {
                        progress.finish();
                        return code;
                    }
                }
                progress.inc();
            }
        }
    }
    let replacements: Vec<(Option<&str>, &[f64])> = scaled
        .iter()
        .map(|s| (s.info.name.as_deref(), s.values.as_slice()))
        .collect();
    let bytes = match file.encode_with(&replacements) {
        Ok(b) => b,
        Err(e) => return input_error(&e, Some(&progress)),
    };
    // Atomic: on any failure the output (which may be the input) is
    // untouched.
    if let Err(e) = write_atomic(&args.output, &bytes) {
        return input_error(&e, Some(&progress));
    }
    // Certify what was written, read back from the output file.
    let written = match WeightFile::open(&args.output) {
        Ok(f) => f,
        Err(e) => return input_error(&e, Some(&progress)),
    };
    let mut rows = Vec::new();
    let mut code = EXIT_OK;
    for s in &scaled {
        let name = s.info.name.as_deref();
        let after = match written
            .info(name)
            .and_then(|info| select::load(&written, &info))
        {
            Ok(m) => sigma(&m, &options).map_err(|err| {
                let (c, _) = library_error_code(&err);
                (c, written.error(name, Problem::Other(err.to_string())))
            }),
            Err(e) => Err((EXIT_INPUT, e)),
        };
        progress.inc();
        let after = match after {
            Ok(e) => e,
            Err((c, e)) => {
                progress.note(&format!("lipcert: {e}"));
                code = code.max(c);
                continue;
            }
        };
        let id = TensorId::new(written.path(), &s.info);
        let deviation = deviation_from_one(&after);
        if args.json {
            progress.out(&json_line(&NormalizeRecord {
                id,
                input: args.input.display().to_string(),
                input_sigma: Bounds::from(&s.before),
                scale: s.scale,
                sigma: Bounds::from(&after),
                deviation_from_1: deviation,
                seconds: start.elapsed().as_secs_f64(),
            }));
        } else {
            rows.push(vec![
                id.display_name(),
                id.display_shape(),
                id.dtype.clone(),
                certified_digits(s.before.lower(), s.before.upper()),
                number_text(s.scale),
                certified_digits(after.lower(), after.upper()),
                format!("{deviation:.1e}"),
                guarantee_text(after.guarantee()),
            ]);
        }
    }
    progress.finish();
    if !rows.is_empty() {
        println_ignoring_errors(&format!(
            "wrote {} ({} tensor{} normalized) in {}",
            escape_path(&args.output),
            rows.len(),
            if rows.len() == 1 { "" } else { "s" },
            seconds_text(start.elapsed().as_secs_f64())
        ));
        println_ignoring_errors(&table(
            &[
                "tensor",
                "shape",
                "dtype",
                "σ(input)",
                "σ̂ (divisor)",
                "σ(output, certified)",
                "|σ−1| ≤",
                "guarantee",
            ],
            &rows,
        ));
    }
    code
}

fn println_ignoring_errors(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// `normalize` writes the input's format; an output name whose extension
/// says the other format (`in.safetensors out.npy`, `in.npy
/// out.safetensors`) is refused before anything is computed or written.
/// Other extensions (or none) are accepted.
pub fn check_output_format(input: &WeightFile, output: &std::path::Path) -> Result<(), InputError> {
    let ext = output
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let says_npy = ext.as_deref() == Some("npy");
    let says_safetensors = matches!(ext.as_deref(), Some("safetensors" | "st"));
    let (input_kind, wanted) = if input.is_npy() {
        (".npy", says_safetensors)
    } else {
        (".safetensors", says_npy)
    };
    if wanted {
        return Err(InputError::new(
            output,
            Problem::Other(format!(
                "the output name says another format than the input's ({input_kind}); normalize writes the input's format, so give the output a {input_kind} name (nothing was written)"
            )),
        ));
    }
    Ok(())
}

/// Certifies σ of one tensor and divides it by the estimate.
fn scale_one(file: &WeightFile, info: &TensorInfo, options: &SigmaOptions) -> Result<Scaled, i32> {
    let name = info.name.as_deref();
    let matrix = select::load(file, info).map_err(|e| input_error(&e, None))?;
    let before = sigma(&matrix, options).map_err(|err| {
        let (c, _) = library_error_code(&err);
        error_line(
            &file
                .error(name, Problem::Other(err.to_string()))
                .to_string(),
        );
        c
    })?;
    let scale = before.estimate();
    if scale.is_nan() || scale <= 0.0 {
        let e = file.error(
            name,
            Problem::Other("every entry is zero: a zero matrix cannot be normalized".to_owned()),
        );
        return Err(input_error(&e, None));
    }
    let values = matrix
        .to_row_major()
        .into_iter()
        .map(|v| v / scale)
        .collect();
    Ok(Scaled {
        info: info.clone(),
        before,
        scale,
        values,
    })
}
