//! `lipcert certify|conv|sigma model.onnx`: the ONNX front end of the
//! commands. Every row names the ONNX node(s) it comes from.

use super::args::CertifyArgs;
use super::digits::certified_digits;
use super::progress::Progress;
use super::report::{guarantee_text, seconds_text, table};
use super::{error_line, library_error_code, EXIT_INPUT, EXIT_OK};
use crate::conv::{conv_sigma, ConvOptions};
use crate::network::certify::{certify_layers, report_for};
use crate::network::lower_bounds::LowerBoundOptions;
use crate::onnx::{import_file, ImportOptions, OnnxError, OnnxNetwork};
use crate::sigma::{sigma, SigmaOptions};
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

/// `lipcert certify model.onnx`.
pub fn certify(args: &CertifyArgs) -> i32 {
    let start = Instant::now();
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
    let mut net = onnx.network.clone();
    let progress = Progress::new(net.nodes.len());
    let mut done = 0;
    let result = certify_layers(&mut net, &SigmaOptions::default(), &mut |d, _| {
        while done < d {
            progress.inc();
            done += 1;
        }
    })
    .and_then(|_| {
        let lower = (!args.no_lower).then(LowerBoundOptions::default);
        report_for(&net, lower.as_ref(), start)
    });
    progress.finish();
    match result {
        Ok(mut report) => {
            for (row, origin) in report.layers.iter_mut().zip(&onnx.origins) {
                row.kind = format!("{} <- {origin}", row.kind);
            }
            if args.json {
                progress.out(&serde_json::to_string(&report).expect("report serializes"));
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

/// `lipcert conv model.onnx`: every Conv node with its graph geometry.
pub fn conv(path: &Path, json: bool) -> i32 {
    let onnx = match load(path, None) {
        Ok(n) => n,
        Err(code) => return code,
    };
    list_items(
        path,
        &onnx.convs,
        json,
        &[
            "node",
            "geometry (from the graph)",
            "σ conv (certified digits)",
            "‖R‖ reshaped",
            "guarantee",
            "time",
        ],
        "no Conv nodes",
        |c| {
            conv_sigma(
                c.operator.kernel(),
                c.operator.geometry(),
                &ConvOptions::default(),
            )
        },
        |name, c, report, seconds| {
            let e = &report.enclosure;
            let geometry = format!(
                "in {}x{}x{}, k {}x{}, stride {:?}, pad {:?}, dil {:?}, groups {}",
                c.c_in,
                c.in_hw.0,
                c.in_hw.1,
                c.kernel_hw.0,
                c.kernel_hw.1,
                c.stride,
                c.padding,
                c.dilation,
                c.groups
            );
            Listed {
                json: serde_json::json!({
                    "node": name, "geometry": geometry,
                    "lower": e.lower(), "upper": e.upper(),
                    "reshaped_lower": report.reshaped.lower(), "reshaped_upper": report.reshaped.upper(),
                    "guarantee": guarantee_text(e.guarantee()), "seconds": seconds,
                }),
                row: vec![
                    name.to_owned(),
                    geometry,
                    certified_digits(e.lower(), e.upper()),
                    certified_digits(report.reshaped.lower(), report.reshaped.upper()),
                    guarantee_text(e.guarantee()),
                    seconds_text(seconds),
                ],
            }
        },
    )
}

/// `lipcert sigma model.onnx`: σ of every Gemm/MatMul weight (as the
/// matrix W of y = Wx).
pub fn sigma_matrices(path: &Path, json: bool) -> i32 {
    let onnx = match load(path, None) {
        Ok(n) => n,
        Err(code) => return code,
    };
    list_items(
        path,
        &onnx.matrices,
        json,
        &[
            "node",
            "W (out x in)",
            "σ (certified digits)",
            "method",
            "guarantee",
            "time",
        ],
        "no Gemm/MatMul weights",
        |w| sigma(w, &SigmaOptions::default()),
        |name, w, e, seconds| Listed {
            json: serde_json::json!({
                "node": name, "shape": [w.nrows(), w.ncols()],
                "lower": e.lower(), "upper": e.upper(),
                "guarantee": guarantee_text(e.guarantee()), "seconds": seconds,
            }),
            row: vec![
                name.to_owned(),
                format!("{}x{}", w.nrows(), w.ncols()),
                certified_digits(e.lower(), e.upper()),
                e.method().name().to_owned(),
                guarantee_text(e.guarantee()),
                seconds_text(seconds),
            ],
        },
    )
}

/// One certified item of an ONNX `conv`/`sigma` listing.
struct Listed {
    /// Its `--json` line.
    json: serde_json::Value,
    /// Its table row.
    row: Vec<String>,
}

/// Certifies every named item with `certify`, timing each, and prints one
/// JSON line per item (`json`) or one table with `headers` (`none` when
/// there is no item at all); a library error is one line naming the node
/// and raises the exit code. Returns the largest exit code met.
#[allow(clippy::too_many_arguments)]
fn list_items<T, R>(
    path: &Path,
    items: &[(String, T)],
    json: bool,
    headers: &[&str],
    none: &str,
    certify: impl Fn(&T) -> crate::Result<R>,
    show: impl Fn(&str, &T, &R, f64) -> Listed,
) -> i32 {
    let progress = Progress::new(items.len());
    let mut rows = Vec::new();
    let mut code = EXIT_OK;
    for (name, item) in items {
        let start = Instant::now();
        let r = certify(item);
        progress.inc();
        let seconds = start.elapsed().as_secs_f64();
        match r {
            Ok(result) => {
                let listed = show(name, item, &result, seconds);
                if json {
                    progress.out(&listed.json.to_string());
                } else {
                    rows.push(listed.row);
                }
            }
            Err(e) => {
                error_line(&format!("{}: {name}: {e}", path.display()));
                code = code.max(library_error_code(&e).0);
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
