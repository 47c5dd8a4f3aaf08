//! `lipcert forward MODEL --input X.npy --output Y.npy`: lipcert's own f64
//! evaluation of the network as it understood it (ONNX model or JSON spec),
//! written as a float64 `.npy`, so users can compare with their framework.

use super::args::ForwardArgs;
use super::{error_line, EXIT_INPUT, EXIT_OK};
use crate::io::npy;
use crate::matrix::SourceDtype;
use crate::network::layer::Network;
use crate::network::spec::NetworkSpec;
use crate::network::weights::Weights;
use std::path::Path;

/// Runs `lipcert forward`; returns the exit code.
pub fn run(args: &ForwardArgs) -> i32 {
    let bytes = match crate::io::regular_file::read_regular(&args.input, 1 << 34, "an input array")
    {
        Ok(b) => b,
        Err(e) => {
            error_line(&e.to_string());
            return EXIT_INPUT;
        }
    };
    let x = match npy::read(&bytes) {
        Ok((_, t)) => t,
        Err(e) => {
            error_line(&format!("{}: {e}", args.input.display()));
            return EXIT_INPUT;
        }
    };
    let (y, shape) = match evaluate(args, &x.values) {
        Ok(v) => v,
        Err((msg, code)) => {
            error_line(&msg);
            return code;
        }
    };
    let out = match npy::encode(&shape, npy::NpyDtype::little(SourceDtype::F64), false, &y) {
        Ok(b) => b,
        Err(e) => {
            error_line(&format!("{}: {e}", args.output.display()));
            return EXIT_INPUT;
        }
    };
    if let Err(e) = crate::io::atomic_write::write_atomic(&args.output, &out) {
        error_line(&e.to_string());
        return EXIT_INPUT;
    }
    EXIT_OK
}

fn evaluate(args: &ForwardArgs, x: &[f64]) -> Result<(Vec<f64>, Vec<usize>), (String, i32)> {
    #[cfg(feature = "onnx")]
    if super::cmd_onnx::is_onnx(&args.model) {
        let net = super::cmd_onnx::load(&args.model, args.input_shape.as_deref())
            .map_err(|code| (String::new(), code))?;
        let ys = crate::onnx::forward_outputs(&net, x)
            .map_err(|e| (format!("{}: {e}", args.model.display()), EXIT_INPUT))?;
        if ys.len() == 1 {
            let per = net.outputs[0].1.iter().product::<usize>().max(1);
            let mut shape = net.outputs[0].1.clone();
            if shape.len() >= 2 {
                shape[0] = ys[0].len() / per;
            } else if ys[0].len() != per {
                shape = vec![ys[0].len() / per, per];
            }
            return Ok((ys[0].clone(), shape));
        }
        let flat: Vec<f64> = ys.concat();
        let n = flat.len();
        return Ok((flat, vec![n]));
    }
    let spec = NetworkSpec::from_file(&args.model)
        .map_err(|e| (format!("{}: {e}", args.model.display()), EXIT_INPUT))?;
    let weights = Weights::from_safetensors_file(Path::new(&spec.weights)).map_err(|e| {
        (
            format!("{}: weights: {e}", args.model.display()),
            EXIT_INPUT,
        )
    })?;
    let net = Network::from_spec(&spec, &weights)
        .map_err(|e| (format!("{}: {e}", args.model.display()), EXIT_INPUT))?;
    let y = crate::network::evaluate::forward(&net, x)
        .map_err(|e| (format!("{}: {e}", args.input.display()), EXIT_INPUT))?;
    Ok((y, net.output_shape().to_vec()))
}
