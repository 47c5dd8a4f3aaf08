//! `lipcert certify SPEC [--no-lower] [--json]`: the certified Lipschitz
//! upper bound of a network (product of certified layer bounds, rounded
//! upward), the per-layer table, and the best certified lower bound found by
//! the pair / Jacobian / gradient-ascent search, with their ratio.

use super::args::CertifyArgs;
use super::progress::Progress;
use super::{error_line, library_error_code, EXIT_INPUT, EXIT_OK};
use crate::network::certify::{certify_network_with, CertifyOptions};
use crate::network::lower_bounds::LowerBoundOptions;
use crate::network::spec::NetworkSpec;
use crate::network::weights::Weights;
use crate::sigma::SigmaOptions;
use std::path::Path;

/// Runs `lipcert certify`; returns the exit code.
pub fn run(args: &CertifyArgs) -> i32 {
    let spec = match NetworkSpec::from_file(&args.spec) {
        Ok(s) => s,
        Err(e) => {
            error_line(&format!("{}: {e}", args.spec.display()));
            return EXIT_INPUT;
        }
    };
    let weights = match Weights::from_safetensors_file(Path::new(&spec.weights)) {
        Ok(w) => w,
        Err(e) => {
            error_line(&format!("{}: weights: {e}", args.spec.display()));
            return EXIT_INPUT;
        }
    };
    if !(args.rel_width > 0.0 && args.rel_width.is_finite()) {
        error_line(&format!(
            "--rel-width {} must be a positive finite number",
            args.rel_width
        ));
        return EXIT_INPUT;
    }
    let options = CertifyOptions {
        lower: (!args.no_lower).then(LowerBoundOptions::default),
        sigma: SigmaOptions {
            rel_width: args.rel_width,
            ..SigmaOptions::default()
        },
    };
    let progress = Progress::new(spec.layers.len());
    let mut done = 0;
    let result = certify_network_with(&spec, &weights, &options, &mut |d, _total| {
        while done < d {
            progress.inc();
            done += 1;
        }
    });
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
            error_line(&format!("{}: {e}", args.spec.display()));
            library_error_code(&e).0
        }
    }
}
