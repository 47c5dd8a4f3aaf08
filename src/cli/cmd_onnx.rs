//! `lipcert certify|conv|sigma model.onnx`: the ONNX front end of the
//! commands. Every row names the ONNX node(s) it comes from.

use super::args::{CertifyArgs, ConvArgs, SigmaArgs};
use super::cmd_certify::certify_options;
use super::cmd_conv::{conv_cells, conv_options, conv_record, CONV_HEADERS};
use super::cmd_sigma::{left_out_note, sigma_cells, SIGMA_HEADERS};
use super::progress::Progress;
use super::report::{json_line, table, Bounds, SigmaRecord, TensorId};
use super::{
    error_line, library_error_code, sigma_options, EXIT_INPUT, EXIT_NO_CERTIFICATE, EXIT_OK,
};
use crate::conv::conv_sigma;
use crate::network::certify::{certify_layers, report_with};
use crate::network::memory::check_certify_memory;
use crate::onnx::{import_file, ImportOptions, OnnxError, OnnxNetwork, WeightInfo};
use crate::sigma::sigma;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// True when `path` names an ONNX model (by extension).
pub fn is_onnx(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("onnx"))
}

/// Parses `C,H,W` (or `CxHxW`) into dimensions.
pub fn parse_shape(text: &str) -> Result<Vec<usize>, String> {
    text.split([',', 'x'])
        .map(|t| {
            t.trim()
                .parse::<usize>()
                .ok()
                .filter(|&d| d > 0)
                .ok_or_else(|| {
                    format!("--input-shape '{text}': expected positive integers like 3,32,32")
                })
        })
        .collect()
}

/// The exit code of an import error (bad or unsupported input: 2).
pub fn onnx_error_code(e: &OnnxError) -> i32 {
    match e {
        OnnxError::Library(_, err) => library_error_code(err).0,
        _ => EXIT_INPUT,
    }
}

/// Imports `path`, printing a one-line error on failure.
pub fn load(path: &Path, input_shape: Option<&str>) -> Result<OnnxNetwork, i32> {
    let input_shape = match input_shape.map(parse_shape).transpose() {
        Ok(s) => s,
        Err(msg) => {
            error_line(&msg);
            return Err(EXIT_INPUT);
        }
    };
    import_file(path, &ImportOptions { input_shape }).map_err(|e| {
        error_line(&format!("{}: {e}", path.display()));
        onnx_error_code(&e)
    })
}

/// ONNX test vectors next to the model: `test_data_set_*/input_0.pb` and
/// `output_*.pb`.
pub fn test_vectors(model: &Path) -> Vec<(PathBuf, Vec<PathBuf>)> {
    let dir = model.parent().unwrap_or(Path::new("."));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let mut sets = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return sets;
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("test_data_set_"))
        })
        .collect();
    dirs.sort();
    for d in dirs {
        let input = d.join("input_0.pb");
        let mut outputs = Vec::new();
        for k in 0.. {
            let o = d.join(format!("output_{k}.pb"));
            if !o.exists() {
                break;
            }
            outputs.push(o);
        }
        if input.exists() && !outputs.is_empty() {
            sets.push((input, outputs));
        }
    }
    sets
}

/// Largest relative deviation max|y − r| / max|r| of lipcert's forward pass
/// over the test vectors next to the model (`None` when there are none).
pub fn self_check(model: &Path, net: &OnnxNetwork) -> Result<Option<f64>, OnnxError> {
    let mut worst: Option<f64> = None;
    for (input, outputs) in test_vectors(model) {
        let x = crate::onnx::read_tensor_file(&input)?;
        let ys = crate::onnx::forward_outputs(net, &x.as_f64())?;
        for (y, path) in ys.iter().zip(&outputs) {
            let r = crate::onnx::read_tensor_file(path)?.as_f64();
            if r.len() != y.len() {
                return Err(crate::onnx::error::invalid(format!(
                    "{}: {} values, lipcert computes {}",
                    path.display(),
                    r.len(),
                    y.len()
                )));
            }
            let scale = r
                .iter()
                .fold(0.0f64, |m, v| m.max(v.abs()))
                .max(f64::MIN_POSITIVE);
            let dev = y
                .iter()
                .zip(&r)
                .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()))
                / scale;
            worst = Some(worst.map_or(dev, |w: f64| w.max(dev)));
        }
    }
    Ok(worst)
}

/// Largest relative deviation max|y − r|/max|r| between lipcert's forward
/// pass and a model's own test vectors that `certify` accepts. The stored
/// outputs are usually float32 results (deviations seen in the conformance
/// suites: ≤ 2e-7); a misread network (wrong padding, axis, epsilon …)
/// deviates by far more, and then no certificate is given.
pub const SELF_CHECK_TOLERANCE: f64 = 1e-3;

/// `lipcert certify model.onnx --json`: the spec path's report plus the
/// self-check's deviation.
#[derive(Serialize)]
struct CertifyRecord<'a> {
    /// The report.
    #[serde(flatten)]
    report: &'a crate::network::certify::NetworkReport,
    /// The largest relative deviation on the model's test vectors (absent
    /// without test vectors).
    #[serde(skip_serializing_if = "Option::is_none")]
    self_check_deviation: Option<f64>,
}

/// `lipcert certify model.onnx`: the spec path's options (`--rel-width`,
/// `--bounds`, `--lower-budget`, `--no-lower`, `--max-memory`) and report,
/// each row naming the ONNX node(s) it covers.
pub fn certify(args: &CertifyArgs) -> i32 {
    let start = Instant::now();
    let Ok(options) = certify_options(args) else {
        return EXIT_INPUT;
    };
    let onnx = match load(&args.spec, args.input_shape.as_deref()) {
        Ok(n) => n,
        Err(code) => return code,
    };
    let check = match self_check(&args.spec, &onnx) {
        Ok(c) => c,
        Err(e) => {
            error_line(&format!("{}: self-check: {e}", args.spec.display()));
            return EXIT_INPUT;
        }
    };
    if let Some(dev) = check.filter(|d| d.is_nan() || *d > SELF_CHECK_TOLERANCE) {
        error_line(&format!(
            "{}: self-check failed: lipcert's forward pass deviates from the model's test vectors (test_data_set_*) by {dev:.3e} relative (tolerance {SELF_CHECK_TOLERANCE:e}); the network lipcert understood is not the one that produced them, so no certificate is given",
            args.spec.display()
        ));
        return EXIT_NO_CERTIFICATE;
    }
    let mut net = onnx.network.clone();
    let progress = Progress::new(net.nodes.len());
    let mut done = 0;
    let result = check_certify_memory(&net, &options.sigma, options.lower.as_ref())
        .and_then(|()| {
            certify_layers(&mut net, &options.sigma, &mut |d, _| {
                while done < d {
                    progress.inc();
                    done += 1;
                }
            })
        })
        .and_then(|_| report_with(&net, &options, start));
    progress.finish();
    match result {
        Ok(mut report) => {
            for (row, origin) in report.layers.iter_mut().zip(&onnx.origins) {
                row.kind = format!("{} <- {origin}", row.kind);
            }
            if args.json {
                let record = CertifyRecord {
                    report: &report,
                    self_check_deviation: check,
                };
                progress.out(&json_line(&record));
            } else {
                progress.out(&report.to_string());
                if onnx.declared_batch > 1 {
                    progress.out(&format!(
                        "note: the model declares a batch of {}; lipcert certifies the map of one sample (a batch of independent samples has the same constant)",
                        onnx.declared_batch
                    ));
                }
                if let Some(dev) = check {
                    progress.out(&format!(
                        "self-check on the model's test vectors: largest relative deviation {dev:.3e}"
                    ));
                }
            }
            EXIT_OK
        }
        Err(e) => {
            error_line(&format!("{}: {e}", args.spec.display()));
            library_error_code(&e).0
        }
    }
}

/// A `conv`/`sigma` JSON record of an ONNX weight: the node's name, then
/// the tensor-file path's record (`file`, `tensor` = the weight's ONNX
/// name, …).
#[derive(Serialize)]
struct NodeRecord<R: Serialize> {
    /// The ONNX node's name.
    node: String,
    /// A ConvTranspose node (the record is that of the convolution C whose
    /// adjoint it applies: σ(Cᵀ) = σ(C)).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    transposed: bool,
    /// The record the tensor-file path emits.
    #[serde(flatten)]
    record: R,
}

/// The [`TensorId`] of an ONNX weight.
fn weight_id(path: &Path, w: &WeightInfo) -> TensorId {
    TensorId {
        file: path.display().to_string(),
        tensor: Some(w.tensor.clone()),
        shape: w.shape.clone(),
        dtype: w.dtype.clone(),
    }
}

/// The items `--tensor NAME` selects (by node or weight name; all without
/// it); `Err` (after printing the error) when nothing matches.
fn selected<'a, T>(
    path: &Path,
    items: &'a [(WeightInfo, T)],
    tensor: Option<&str>,
    what: &str,
) -> Result<Vec<&'a (WeightInfo, T)>, i32> {
    let Some(name) = tensor else {
        return Ok(items.iter().collect());
    };
    let chosen: Vec<_> = items
        .iter()
        .filter(|(w, _)| w.node == name || w.tensor == name)
        .collect();
    if chosen.is_empty() {
        let names: Vec<&str> = items.iter().map(|(w, _)| w.node.as_str()).collect();
        error_line(&format!(
            "{}: --tensor '{name}': no {what} node or weight of that name (nodes: {})",
            path.display(),
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        ));
        return Err(EXIT_INPUT);
    }
    Ok(chosen)
}

/// The items whose weight tensor name (the `tensor` column) the
/// `--include`/`--exclude` globs keep, as for the tensors of a
/// `.safetensors` file; a note says how many were left out, and an error
/// (exit 2) when none is left.
fn filtered<'a, T>(
    path: &Path,
    items: Vec<&'a (WeightInfo, T)>,
    include: &[String],
    exclude: &[String],
) -> Result<Vec<&'a (WeightInfo, T)>, i32> {
    let filter = crate::io::name_glob::NameFilter::new(include, exclude);
    if filter.is_empty() {
        return Ok(items);
    }
    let count = items.len();
    let kept: Vec<_> = items
        .into_iter()
        .filter(|(w, _)| filter.keeps(&w.tensor))
        .collect();
    if kept.is_empty() {
        error_line(&format!(
            "{}: --include/--exclude kept none of the {count} Gemm/MatMul weights (they match the weight tensor names)",
            path.display()
        ));
        return Err(EXIT_INPUT);
    }
    left_out_note(count - kept.len(), count, "Gemm/MatMul weights");
    Ok(kept)
}

/// `lipcert conv model.onnx`: every Conv node with its graph geometry
/// (and every ConvTranspose node, as the convolution C it is the adjoint of,
/// marked `transposed`),
/// certified through the tensor-file path's options (`--rel-width`,
/// `--max-memory`) and reported with its record ([`ConvRecord`] plus the
/// node's name). The geometry flags do not apply: the graph gives them.
///
/// [`ConvRecord`]: super::report::ConvRecord
pub fn conv(args: &ConvArgs) -> i32 {
    let path = &args.input.file;
    let g = &args.geometry;
    if g.input.is_some()
        || g.stride != "1"
        || g.padding != "0"
        || g.padding_mode != "zeros"
        || g.dilation != "1"
        || g.groups != 1
    {
        error_line(&format!(
            "{}: --input/--stride/--padding/--padding-mode/--dilation/--groups do not apply to an ONNX model: every Conv node's geometry comes from the graph (use --input-shape to set the input size)",
            path.display()
        ));
        return EXIT_INPUT;
    }
    let options = match conv_options(Some(args.rel_width), args.memory.budget(), args.threads) {
        Ok(o) => o,
        Err(msg) => {
            error_line(&msg);
            return EXIT_INPUT;
        }
    };
    let onnx = match load(path, args.input_shape.as_deref()) {
        Ok(n) => n,
        Err(code) => return code,
    };
    let items = match selected(
        path,
        &onnx.convs,
        args.input.tensor.as_deref(),
        "Conv/ConvTranspose",
    ) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let mut headers = vec!["node", "tensor"];
    headers.extend(CONV_HEADERS);
    list_items(
        path,
        &items,
        args.json,
        &headers,
        "no Conv or ConvTranspose nodes",
        |c| conv_sigma(c.operator.kernel(), c.operator.geometry(), &options),
        |w, _, report, seconds| {
            let id = weight_id(path, w);
            let mut row = vec![w.node.clone(), id.display_name()];
            row.extend(conv_cells(&id, report, args.rel_width, seconds));
            if w.transposed {
                // The last cell is the operator: name the adjoint.
                if let Some(op) = row.last_mut() {
                    *op = format!("transposed: adjoint of {op}");
                }
            }
            Listed {
                json: json_line(&NodeRecord {
                    node: w.node.clone(),
                    transposed: w.transposed,
                    record: conv_record(id, report, args.rel_width, seconds),
                }),
                row,
            }
        },
    )
}

/// `lipcert sigma model.onnx`: σ of every Gemm/MatMul weight (as the
/// matrix W of y = Wx), through the tensor-file path's options
/// (`--method`, `--rel-width`, `--failure-probability`, `--max-memory`)
/// and record ([`SigmaRecord`] plus the node's name).
pub fn sigma_matrices(args: &SigmaArgs) -> i32 {
    let path = &args.input.file;
    let Ok(options) = sigma_options(&args.method) else {
        return EXIT_INPUT;
    };
    let onnx = match load(path, args.input_shape.as_deref()) {
        Ok(n) => n,
        Err(code) => return code,
    };
    let mut sigma_headers = vec!["node", "tensor"];
    sigma_headers.extend(SIGMA_HEADERS);
    let items = match selected(
        path,
        &onnx.matrices,
        args.input.tensor.as_deref(),
        "Gemm/MatMul",
    ) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let items = match filtered(path, items, &args.include, &args.exclude) {
        Ok(i) => i,
        Err(code) => return code,
    };
    list_items(
        path,
        &items,
        args.json,
        &sigma_headers,
        "no Gemm/MatMul weights",
        |w| sigma(w, &options),
        |w, _, e, seconds| {
            let id = weight_id(path, w);
            let mut row = vec![w.node.clone(), id.display_name()];
            row.extend(sigma_cells(&id, e, seconds));
            Listed {
                json: json_line(&NodeRecord {
                    node: w.node.clone(),
                    transposed: false,
                    record: SigmaRecord {
                        id,
                        sigma: Bounds::from(e),
                        seconds,
                    },
                }),
                row,
            }
        },
    )
}

/// One certified item of an ONNX `conv`/`sigma` listing.
struct Listed {
    /// Its `--json` line.
    json: String,
    /// Its table row.
    row: Vec<String>,
}

/// Certifies every item with `certify`, timing each, and prints one JSON
/// line per item (`json`) or one table with `headers` (`none` when there is
/// no item at all); a library error is one line naming the node and raises
/// the exit code; an error about the options (the same for every item)
/// stops the listing. Returns the largest exit code met.
fn list_items<T, R>(
    path: &Path,
    items: &[&(WeightInfo, T)],
    json: bool,
    headers: &[&str],
    none: &str,
    certify: impl Fn(&T) -> crate::Result<R>,
    show: impl Fn(&WeightInfo, &T, &R, f64) -> Listed,
) -> i32 {
    let progress = Progress::new(items.len());
    let mut rows = Vec::new();
    let mut code = EXIT_OK;
    for (info, item) in items.iter().map(|p| (&p.0, &p.1)) {
        progress.start(&info.node);
        let start = Instant::now();
        let r = certify(item);
        progress.inc();
        let seconds = start.elapsed().as_secs_f64();
        match r {
            Ok(result) => {
                let listed = show(info, item, &result, seconds);
                if json {
                    progress.out(&listed.json);
                } else {
                    rows.push(listed.row);
                }
            }
            Err(e) => {
                progress.note(&format!(
                    "lipcert: {}: {}: {e}",
                    path.display(),
                    info.context
                ));
                let (c, global) = library_error_code(&e);
                code = code.max(c);
                if global {
                    break;
                }
            }
        }
    }
    progress.finish();
    if !rows.is_empty() {
        progress.out(&table(headers, &rows));
    } else if items.is_empty() {
        progress.out(none);
    }
    code
}
