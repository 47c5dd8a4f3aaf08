//! `lipcert check FILE [--tensor NAME] (--claimed X | --normalized)
//! [--rel-tol T] [--input HxW --stride … --padding … ...] [--json]`: is a
//! claimed σ consistent with the certified enclosure? With `--input` the
//! tensor is a convolution kernel and the claim is about the layer's true
//! operator norm (not the reshaped kernel that framework `spectral_norm`
//! normalizes).
//!
//! The claim X passes when `lower·(1 − T) ≤ X ≤ upper·(1 + T)`; the widened
//! bounds are rounded outward, so "wrong" (exit 1) is only said when X is
//! outside the exactly widened enclosure. The reported relative error is a
//! certified lower bound on |X − σ|/σ: `(X − upper)/upper` above the
//! enclosure (the ratio decreases in σ) and `(lower − X)/lower` below it
//! (1 − X/σ increases in σ), both rounded down.

use super::args::CheckArgs;
use super::cmd_conv::certify_kernel;
use super::conv_geometry::GeometryOptions;
use super::digits::{certified_digits, number_text, round_down_text};
use super::progress::Progress;
use super::report::{guarantee_text, json_line, Bounds, CheckRecord, TensorId};
use super::select::{load_finite, plan_kernels};
use super::{
    error_line, for_each_matrix, for_each_planned, input_error, open_and_plan, sigma_options,
    used_count, Failure,
};
use super::{EXIT_CLAIM_WRONG, EXIT_INPUT, EXIT_OK};
use crate::enclosure::Enclosure;
use crate::io::escape::escape_name;
use crate::io::WeightFile;
use crate::rounding::{add_up, div_down, mul_down, mul_up, sub_down};
use crate::sigma::sigma;
use std::time::Instant;

/// The verdict on one claim.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    /// True when the claim lies in the widened enclosure.
    pub consistent: bool,
    /// Certified lower bound on |claimed − σ|/σ (`None` when σ may be 0).
    pub relative_error: Option<f64>,
}

/// Judges `claimed` against `e` widened by the relative tolerance `rel_tol`.
///
/// ```
/// use lipcert::cli::cmd_check::judge;
/// use lipcert::{Enclosure, Guarantee, Method};
/// let e = Enclosure::new(1.0, 1.0 + 1e-12, 1.0, Guarantee::Rigorous, Method::Svd, "demo").unwrap();
/// assert!(judge(&e, 1.0000001, 1e-6).consistent);
/// assert!(!judge(&e, 1.1, 1e-6).consistent);
/// ```
pub fn judge(e: &Enclosure, claimed: f64, rel_tol: f64) -> Verdict {
    let lo = mul_down(e.lower(), sub_down(1.0, rel_tol)).max(0.0);
    let hi = mul_up(e.upper(), add_up(1.0, rel_tol));
    let consistent = lo <= claimed && claimed <= hi;
    let relative_error = if claimed > e.upper() {
        (e.upper() > 0.0).then(|| div_down(sub_down(claimed, e.upper()), e.upper()).max(0.0))
    } else if claimed < e.lower() {
        Some(div_down(sub_down(e.lower(), claimed), e.lower()).max(0.0))
    } else if e.lower() > 0.0 {
        Some(0.0)
    } else {
        None
    };
    Verdict {
        consistent,
        relative_error,
    }
}

/// Runs `lipcert check`; returns the exit code.
pub fn run(args: &CheckArgs) -> i32 {
    let Ok(options) = sigma_options(&args.method) else {
        return EXIT_INPUT;
    };
    let claimed = args.claim.value();
    if !claimed.is_finite() {
        error_line(&format!(
            "--claimed {claimed}: the claim must be a finite number"
        ));
        return EXIT_INPUT;
    }
    if !(args.rel_tol >= 0.0 && args.rel_tol < 1.0) {
        error_line(&format!("--rel-tol {} must be in [0, 1)", args.rel_tol));
        return EXIT_INPUT;
    }
    let conv = match GeometryOptions::parse(&args.conv) {
        Ok(c) => c,
        Err(msg) => {
            error_line(&msg);
            return EXIT_INPUT;
        }
    };
    if let Some(geometry) = conv {
        // The tensor is a convolution kernel: check the true operator norm.
        let file = match WeightFile::open(&args.input.file) {
            Ok(f) => f,
            Err(e) => return input_error(&e, None),
        };
        let planned = match plan_kernels(&file, args.input.tensor.as_deref()) {
            Ok(p) => p,
            Err(e) => return input_error(&e, None),
        };
        let progress = Progress::new(used_count(&planned));
        return for_each_planned(&file, &planned, &progress, load_finite, |info, tensor| {
            let start = Instant::now();
            let report = certify_kernel(
                &file,
                info,
                &tensor,
                &geometry,
                args.method.memory.budget(),
                None,
                args.method.threads,
            )?;
            let id = TensorId::new(file.path(), info);
            Ok(emit(
                args,
                &progress,
                id,
                &report.enclosure,
                start.elapsed().as_secs_f64(),
            ))
        });
    }
    let Ok((file, planned)) = open_and_plan(&args.input) else {
        return EXIT_INPUT;
    };
    let progress = Progress::new(used_count(&planned));
    for_each_matrix(&file, &planned, &progress, |info, matrix| {
        let start = Instant::now();
        let e = sigma(&matrix, &options).map_err(|err| Failure::library(&file, info, err))?;
        let id = TensorId::new(file.path(), info);
        Ok(emit(args, &progress, id, &e, start.elapsed().as_secs_f64()))
    })
}

/// Judges the claim against `e` and prints the verdict (text or JSON);
/// returns the exit code for this tensor.
fn emit(args: &CheckArgs, progress: &Progress, id: TensorId, e: &Enclosure, seconds: f64) -> i32 {
    let claimed = args.claim.value();
    let v = judge(e, claimed, args.rel_tol);
    let rel = v
        .relative_error
        .map_or("undefined (σ may be 0)".to_owned(), |r| {
            round_down_text(r, 3)
        });
    let file = escape_name(&id.file);
    let what = match &id.tensor {
        Some(t) => format!("{file}: tensor '{}'", escape_name(t)),
        None => file.into_owned(),
    };
    let claimed_text = number_text(claimed);
    let message = if v.consistent {
        format!(
            "ok: {what}: claimed σ = {claimed_text} is consistent with the certified σ ∈ [{}, {}] = {} ({}) within rel-tol {:e}",
            number_text(e.lower()),
            number_text(e.upper()),
            certified_digits(e.lower(), e.upper()),
            guarantee_text(e.guarantee()),
            args.rel_tol
        )
    } else {
        format!(
            "WRONG: {what}: claimed σ = {claimed_text} is outside the certified σ ∈ [{}, {}] = {} ({}); relative error ≥ {rel} > rel-tol {:e}",
            number_text(e.lower()),
            number_text(e.upper()),
            certified_digits(e.lower(), e.upper()),
            guarantee_text(e.guarantee()),
            args.rel_tol
        )
    };
    if args.json {
        progress.out(&json_line(&CheckRecord {
            id,
            claimed,
            rel_tol: args.rel_tol,
            sigma: Bounds::from(e),
            relative_error: v.relative_error,
            verdict: if v.consistent { "consistent" } else { "wrong" },
            seconds,
        }));
        if !v.consistent {
            progress.note(&format!("lipcert: {message}"));
        }
    } else {
        progress.out(&message);
    }
    if v.consistent {
        EXIT_OK
    } else {
        EXIT_CLAIM_WRONG
    }
}
