//! `lipcert certify SPEC [--no-lower] [--json]`: the certified Lipschitz
//! upper bound of a network (product of certified layer bounds, rounded
//! upward), the per-layer table, and the best certified lower bound found by
//! the pair / Jacobian / gradient-ascent search, with their ratio.

use super::args::CertifyArgs;
use super::progress::Progress;
use super::{error_line, library_error_code, EXIT_INPUT, EXIT_OK};
use crate::io::escape::escape_path;
use crate::network::bounds::BoundMethod;
use crate::network::certify::{certify_network_with_hook, CertifyOptions};
use crate::network::lower_bounds::{LowerBoundOptions, SearchWork};
use crate::network::spec::NetworkSpec;
use crate::network::weights::Weights;
use crate::sigma::SigmaOptions;
use std::path::Path;

/// Runs `lipcert certify`; returns the exit code.
pub fn run(args: &CertifyArgs) -> i32 {
    #[cfg(feature = "onnx")]
    if super::cmd_onnx::is_onnx(&args.spec) {
        return super::cmd_onnx::certify(args);
    }
    if args.input_shape.is_some() {
        error_line("--input-shape applies to ONNX models only (a spec declares its input shape)");
        return EXIT_INPUT;
    }
    let shown = escape_path(&args.spec);
    let spec = match NetworkSpec::from_file(&args.spec) {
        Ok(s) => s,
        Err(e) => {
            // The message names the spec file already.
            error_line(&spec_message(&e));
            return EXIT_INPUT;
        }
    };
    let weights = match Weights::from_safetensors_file(Path::new(&spec.weights)) {
        Ok(w) => w,
        Err(e) => {
            error_line(&format!("{shown}: weights: {}", spec_message(&e)));
            return EXIT_INPUT;
        }
    };
    let Ok(options) = certify_options(args) else {
        return EXIT_INPUT;
    };
    let progress = Progress::new(spec.layers.len());
    let mut done = 0;
    let mut search: Option<indicatif::ProgressBar> = None;
    let result = certify_network_with_hook(
        &spec,
        &weights,
        &options,
        &mut |d, _total| {
            while done < d {
                progress.inc();
                done += 1;
            }
        },
        &mut |budget| {
            progress.finish();
            search = lower_search_bar(budget, args.lower_passes);
        },
    );
    if let Some(bar) = search {
        bar.finish_and_clear();
    }
    progress.finish();
    match result {
        Ok(report) => {
            if args.json {
                progress.out(&serde_json::to_string(&report).expect("report serializes"));
            } else {
                progress.out(&report.to_string());
            }
            EXIT_OK
        }
        Err(e) => {
            error_line(&format!("{shown}: {}", spec_message(&e)));
            library_error_code(&e).0
        }
    }
}

/// The certify options of the command line (`--rel-width`, `--bounds`,
/// `--lower-budget`, `--no-lower`, `--max-memory`), shared by the spec and
/// ONNX paths. On a bad value the error line is printed and `Err(())`
/// returned (exit 2).
pub(super) fn certify_options(args: &CertifyArgs) -> Result<CertifyOptions, ()> {
    if !(args.rel_width > 0.0 && args.rel_width.is_finite()) {
        error_line(&format!(
            "--rel-width {} must be a positive finite number",
            args.rel_width
        ));
        return Err(());
    }
    let methods = match BoundMethod::parse_list(&args.bounds) {
        Ok(m) => m,
        Err(e) => {
            error_line(&format!("--bounds: {e}"));
            return Err(());
        }
    };
    if let Some(b) = args.lower_budget {
        if !(b.is_finite() && b >= 0.0) {
            error_line(&format!(
                "--lower-budget: {b} is not a nonnegative number of seconds"
            ));
            return Err(());
        }
    }
    let mut options = CertifyOptions {
        lower: (!args.no_lower).then(|| {
            let default = LowerBoundOptions::default();
            LowerBoundOptions {
                budget_seconds: args.lower_budget,
                work: args
                    .lower_passes
                    .map_or(SearchWork::Auto, SearchWork::Passes),
                threads: args.threads,
                seed: args.lower_seed.unwrap_or(default.seed),
                ..default
            }
        }),
        methods: Some(methods),
        sigma: SigmaOptions {
            rel_width: args.rel_width,
            threads: args.threads,
            ..SigmaOptions::default()
        },
    };
    options.sigma.memory = args.memory.budget();
    Ok(options)
}

/// The message of a spec or network error without the `invalid option:`
/// prefix (a spec's contents are not command-line options).
fn spec_message(e: &crate::Error) -> String {
    match e {
        crate::Error::InvalidOption(m) => m.clone(),
        other => other.to_string(),
    }
}

/// A spinner on stderr while the lower-bound search runs, with the elapsed
/// time next to the `--lower-budget` or the work budget (only when stderr
/// is a terminal; pipes and CI logs see nothing).
fn lower_search_bar(budget: Option<f64>, passes: Option<u64>) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    let of = match budget {
        Some(b) => format!("of the {b} s --lower-budget"),
        None => format!(
            "({} network passes, whatever the machine's speed; --lower-budget SECONDS bounds the time instead)",
            passes.map_or_else(|| "about 5·10⁹ multiply-adds' worth of".to_string(), |p| p.to_string())
        ),
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{{spinner}} lower-bound search {{elapsed}} {of}"
    )) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(bar)
}
