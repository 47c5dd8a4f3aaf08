//! Hand-made ONNX models (written through lipcert's own prost messages), one
//! per operator and opset variant: lipcert's forward pass is checked against
//! a float64 reference of the operator written here from the ONNX operator
//! specification, and its certified upper bound against sampled pair ratios.
#![cfg(feature = "onnx")]

mod common;

use common::lcg::Lcg;
use lipcert::network::bounds::{network_bounds, BoundMethod};
use lipcert::network::certify::certify_layers;
use lipcert::network::evaluate::{forward, forward_with_error};
use lipcert::network::lipschitz::composed_upper;
use lipcert::onnx::builder::{
    attr_float, attr_int, attr_ints, attr_string, attr_tensor, GraphBuilder,
};
use lipcert::onnx::tensor::encode_f32;
use lipcert::onnx::{import_bytes, ImportOptions, OnnxNetwork};
use lipcert::sigma::SigmaOptions;
use std::path::Path;

fn import(bytes: &[u8]) -> OnnxNetwork {
    match import_bytes(bytes, Path::new("."), &ImportOptions::default()) {
        Ok(n) => n,
        Err(e) => panic!("import failed: {e}"),
    }
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Forward against the reference on random inputs, then the certified upper
/// bound against sampled pair ratios. Returns the upper bound.
fn check(bytes: &[u8], n_in: usize, reference: impl Fn(&[f64]) -> Vec<f64>) -> f64 {
    check_tol(bytes, n_in, 1e-12, reference)
}

/// [`check`] with the forward pass held to `tol` relative to the largest
/// reference output (for a pattern whose exported constant differs from the
/// mathematical one lipcert evaluates).
fn check_tol(bytes: &[u8], n_in: usize, tol: f64, reference: impl Fn(&[f64]) -> Vec<f64>) -> f64 {
    let net = import(bytes);
    assert_eq!(net.network.input_len(), n_in);
    let mut rng = Lcg(n_in as u64 * 7919 + 17);
    for _ in 0..4 {
        let x = rng.vec(n_in, 3.0);
        let y = forward(&net.network, &x).unwrap();
        let r = reference(&x);
        assert_eq!(y.len(), r.len());
        let scale = r.iter().fold(1e-300f64, |m, v| m.max(v.abs()));
        for (i, (a, b)) in y.iter().zip(&r).enumerate() {
            assert!(
                (a - b).abs() <= tol * scale,
                "output {i}: lipcert {a} vs reference {b}"
            );
        }
    }
    let mut n = net.network.clone();
    certify_layers(&mut n, &SigmaOptions::default(), &mut |_, _| {}).unwrap();
    let (upper, _) = composed_upper(&n.nodes).unwrap();
    // Every bound method (LipLT, multiplier, their combination) on the
    // imported layers: never above the product, never below a pair ratio.
    let (bounds, _) = network_bounds(&n, &BoundMethod::ALL, &SigmaOptions::default()).unwrap();
    let methods = [bounds.liplt, bounds.multiplier, bounds.combined];
    for m in methods.iter().flatten() {
        assert!(
            *m <= bounds.product,
            "a method's {m} above the product ({bounds:?})"
        );
    }
    let lowest = methods.iter().flatten().fold(upper, |m, v| m.min(*v));
    for k in 0..40 {
        let x = rng.vec(n_in, 3.0);
        let eps = if k % 2 == 0 { 1e-3 } else { 1.0 };
        let d = rng.vec(n_in, eps);
        let y: Vec<f64> = x.iter().zip(&d).map(|(a, b)| a + b).collect();
        let (fx, fy) = (reference(&x), reference(&y));
        let diff: Vec<f64> = fx.iter().zip(&fy).map(|(a, b)| a - b).collect();
        let ratio = norm(&diff) / norm(&d);
        assert!(
            ratio <= upper * (1.0 + 1e-9),
            "pair ratio {ratio} above certified {upper}"
        );
        assert!(
            ratio <= lowest * (1.0 + 1e-9),
            "pair ratio {ratio} above a bound method's certified {lowest} ({bounds:?})"
        );
    }
    upper
}

/// Reference 2-D convolution (ONNX Conv: pads [top, left, bottom, right]).
#[allow(clippy::too_many_arguments)]
fn conv_ref(
    x: &[f64],
    (c, h, w): (usize, usize, usize),
    k: &[f32],
    (m, kh, kw): (usize, usize, usize),
    bias: Option<&[f32]>,
    stride: (usize, usize),
    pads: [usize; 4],
    dil: (usize, usize),
    groups: usize,
) -> Vec<f64> {
    let oh = (h + pads[0] + pads[2] - dil.0 * (kh - 1) - 1) / stride.0 + 1;
    let ow = (w + pads[1] + pads[3] - dil.1 * (kw - 1) - 1) / stride.1 + 1;
    let cig = c / groups;
    let mpg = m / groups;
    let mut y = vec![0.0; m * oh * ow];
    for o in 0..m {
        let g = o / mpg;
        for i in 0..oh {
            for j in 0..ow {
                let mut s = bias.map_or(0.0, |b| b[o] as f64);
                for ci in 0..cig {
                    for a in 0..kh {
                        for b in 0..kw {
                            let p = (i * stride.0 + a * dil.0) as isize - pads[0] as isize;
                            let q = (j * stride.1 + b * dil.1) as isize - pads[1] as isize;
                            if p >= 0 && q >= 0 && (p as usize) < h && (q as usize) < w {
                                let xv = x[(g * cig + ci) * h * w + p as usize * w + q as usize];
                                s += k[((o * cig + ci) * kh + a) * kw + b] as f64 * xv;
                            }
                        }
                    }
                }
                y[(o * oh + i) * ow + j] = s;
            }
        }
    }
    y
}

#[test]
fn conv2d_with_asymmetric_pads_stride_dilation_groups_and_bias() {
    let mut rng = Lcg(1);
    let k = rng.f32s(4 * 2 * 3 * 2, 0.5);
    let b = rng.f32s(4, 0.5);
    let mut g = GraphBuilder::new("x", &[1, 4, 7, 6]);
    g.init_f32("w", &[4, 2, 3, 2], &k).init_f32("b", &[4], &b);
    g.node(
        "Conv",
        &["x", "w", "b"],
        &["y"],
        vec![
            attr_ints("pads", &[1, 0, 2, 1]),
            attr_ints("strides", &[2, 1]),
            attr_ints("dilations", &[1, 2]),
            attr_int("group", 2),
        ],
    );
    let bytes = g.finish(&["y"], 13);
    check(&bytes, 4 * 7 * 6, |x| {
        conv_ref(
            x,
            (4, 7, 6),
            &k,
            (4, 3, 2),
            Some(&b),
            (2, 1),
            [1, 0, 2, 1],
            (1, 2),
            2,
        )
    });
}

#[test]
fn conv1d_and_auto_pad_same_upper() {
    let mut rng = Lcg(2);
    let k = rng.f32s(3 * 2 * 4, 0.5);
    let mut g = GraphBuilder::new("x", &[1, 2, 9]);
    g.init_f32("w", &[3, 2, 4], &k);
    g.node(
        "Conv",
        &["x", "w"],
        &["y"],
        vec![
            attr_string("auto_pad", "SAME_UPPER"),
            attr_ints("strides", &[2]),
        ],
    );
    // SAME_UPPER: out = ceil(9/2) = 5, total pad = (5-1)*2 + 4 - 9 = 3: begin 1, end 2.
    check(&g.finish(&["y"], 11), 18, |x| {
        conv_ref(
            x,
            (2, 1, 9),
            &k,
            (3, 1, 4),
            None,
            (1, 2),
            [0, 1, 0, 2],
            (1, 1),
            1,
        )
    });
}

#[test]
fn gemm_with_trans_b_alpha_beta_and_matmul_with_bias() {
    let mut rng = Lcg(3);
    let b = rng.f32s(5 * 4, 1.0);
    let c = rng.f32s(5, 1.0);
    let mut g = GraphBuilder::new("x", &[1, 4]);
    g.init_f32("B", &[5, 4], &b).init_f32("C", &[5], &c);
    g.node(
        "Gemm",
        &["x", "B", "C"],
        &["y"],
        vec![
            attr_int("transB", 1),
            attr_float("alpha", 0.5),
            attr_float("beta", 2.0),
        ],
    );
    check(&g.finish(&["y"], 13), 4, |x| {
        (0..5)
            .map(|j| {
                0.5 * (0..4).map(|i| b[j * 4 + i] as f64 * x[i]).sum::<f64>() + 2.0 * c[j] as f64
            })
            .collect()
    });
    // MatMul x·B (B is 4×3) + bias, on a [1, 2, 4] input (two rows).
    let b2 = rng.f32s(4 * 3, 1.0);
    let bias = rng.f32s(3, 1.0);
    let mut g = GraphBuilder::new("x", &[1, 2, 4]);
    g.init_f32("B", &[4, 3], &b2).init_f32("bias", &[3], &bias);
    g.node("MatMul", &["x", "B"], &["m"], vec![]);
    g.node("Add", &["m", "bias"], &["y"], vec![]);
    let net = import(&g.finish(&["y"], 13));
    assert_eq!(net.matrices.len(), 1);
    check(&g.finish(&["y"], 13), 8, |x| {
        let mut y = vec![0.0; 6];
        for r in 0..2 {
            for j in 0..3 {
                y[r * 3 + j] = (0..4)
                    .map(|i| x[r * 4 + i] * b2[i * 3 + j] as f64)
                    .sum::<f64>()
                    + bias[j] as f64;
            }
        }
        y
    });
}

fn unary(op: &str, attrs: Vec<lipcert::onnx::proto::AttributeProto>, opset: i64) -> Vec<u8> {
    let mut g = GraphBuilder::new("x", &[1, 3, 2, 2]);
    g.node(op, &["x"], &["y"], attrs);
    g.finish(&["y"], opset)
}

fn map(f: impl Fn(f64) -> f64) -> impl Fn(&[f64]) -> Vec<f64> {
    move |x| x.iter().map(|&v| f(v)).collect()
}

#[test]
#[allow(clippy::type_complexity)]
fn elementwise_activations_match_their_definitions_and_constants() {
    let cases: Vec<(&str, Vec<_>, Box<dyn Fn(f64) -> f64>, f64)> = vec![
        ("Relu", vec![], Box::new(|v: f64| v.max(0.0)), 1.0),
        (
            "LeakyRelu",
            vec![attr_float("alpha", -2.5)],
            Box::new(|v: f64| if v >= 0.0 { v } else { -2.5 * v }),
            2.5,
        ),
        (
            "Sigmoid",
            vec![],
            Box::new(|v: f64| 1.0 / (1.0 + (-v).exp())),
            0.25,
        ),
        ("Tanh", vec![], Box::new(|v: f64| v.tanh()), 1.0),
        (
            "Elu",
            vec![attr_float("alpha", 1.5)],
            Box::new(|v: f64| if v > 0.0 { v } else { 1.5 * (v.exp() - 1.0) }),
            1.5,
        ),
        (
            "Softsign",
            vec![],
            Box::new(|v: f64| v / (1.0 + v.abs())),
            1.0,
        ),
        (
            "HardSigmoid",
            vec![attr_float("alpha", 0.25), attr_float("beta", 0.5)],
            Box::new(|v: f64| (0.25 * v + 0.5).clamp(0.0, 1.0)),
            0.25,
        ),
        (
            "HardSwish",
            vec![],
            Box::new(|v: f64| v * (v / 6.0 + 0.5).clamp(0.0, 1.0)),
            1.5,
        ),
        (
            "Softplus",
            vec![],
            Box::new(|v: f64| (1.0 + v.exp()).ln()),
            1.0,
        ),
        ("Neg", vec![], Box::new(|v: f64| -v), 1.0),
    ];
    for (op, attrs, f, constant) in cases {
        let upper = check(&unary(op, attrs, 14), 12, map(f));
        assert!(
            upper >= constant && upper <= constant * (1.0 + 1e-12),
            "{op}: {upper} vs {constant}"
        );
    }
    // SELU with ONNX's default α, γ (f32 attribute values).
    // (the f32 nearest to 1.6732632… and 1.0507010…)
    let (a, gm) = (1.673_263_2_f32 as f64, 1.050_701_f32 as f64);
    let upper = check(
        &unary("Selu", vec![], 14),
        12,
        map(move |v| gm * if v > 0.0 { v } else { a * (v.exp() - 1.0) }),
    );
    assert!(upper >= gm * a && upper <= gm * a * (1.0 + 1e-12));
    // Gelu (opset 20): x Φ(x).
    let phi = |v: f64| 0.5 * (1.0 + libm_erf(v / 2f64.sqrt()));
    check(&unary("Gelu", vec![], 20), 12, map(move |v| v * phi(v)));
}

/// erf by its Taylor series / continued fraction (independent of lipcert's).
fn libm_erf(x: f64) -> f64 {
    // Abramowitz–Stegun would be too coarse; sum the series to convergence
    // for |x| ≤ 3 and use the asymptotic complement beyond.
    if x.abs() > 5.0 {
        return x.signum();
    }
    let mut term = x;
    let mut sum = x;
    let mut n = 0.0;
    while term.abs() > 1e-17 * sum.abs().max(1e-300) {
        n += 1.0;
        term *= -x * x / n;
        sum += term / (2.0 * n + 1.0);
        if n > 200.0 {
            break;
        }
    }
    sum * 2.0 / std::f64::consts::PI.sqrt()
}

#[test]
fn clip_as_attributes_before_opset_11_and_inputs_after() {
    check(
        &unary(
            "Clip",
            vec![attr_float("min", -0.5), attr_float("max", 1.0)],
            6,
        ),
        12,
        map(|v| v.clamp(-0.5, 1.0)),
    );
    let mut g = GraphBuilder::new("x", &[1, 3, 2, 2]);
    g.init_f32("lo", &[], &[0.0]).init_f32("hi", &[], &[6.0]);
    g.node("Clip", &["x", "lo", "hi"], &["y"], vec![]);
    check(&g.finish(&["y"], 13), 12, map(|v| v.clamp(0.0, 6.0)));
}

#[test]
fn prelu_per_channel_slopes_in_both_layouts() {
    let slopes = [0.25f32, -3.0, 0.5];
    let reference = |x: &[f64]| -> Vec<f64> {
        x.iter()
            .enumerate()
            .map(|(i, &v)| {
                if v >= 0.0 {
                    v
                } else {
                    slopes[i / 4] as f64 * v
                }
            })
            .collect()
    };
    for shape in [&[3usize, 1, 1][..], &[3][..]] {
        let mut g = GraphBuilder::new("x", &[1, 3, 2, 2]);
        g.init_f32("s", shape, &slopes);
        g.node("PRelu", &["x", "s"], &["y"], vec![]);
        let upper = check(
            &g.finish(&["y"], if shape.len() == 1 { 6 } else { 9 }),
            12,
            reference,
        );
        assert_eq!(upper, 3.0);
    }
}

fn softmax_ref(x: &[f64], outer: usize, len: usize, inner: usize) -> Vec<f64> {
    let mut y = vec![0.0; x.len()];
    for o in 0..outer {
        for i in 0..inner {
            let idx = |k: usize| (o * len + k) * inner + i;
            let s: f64 = (0..len).map(|k| x[idx(k)].exp()).sum();
            for k in 0..len {
                y[idx(k)] = x[idx(k)].exp() / s;
            }
        }
    }
    y
}

#[test]
fn softmax_axis_semantics_before_and_after_opset_13() {
    // opset 11, axis 1 on [1, 3, 2, 2]: softmax over the 12 flattened values.
    check(&unary("Softmax", vec![attr_int("axis", 1)], 11), 12, |x| {
        softmax_ref(x, 1, 12, 1)
    });
    // opset 13, axis 1: over the 3 channels at each position.
    check(&unary("Softmax", vec![attr_int("axis", 1)], 13), 12, |x| {
        softmax_ref(x, 1, 3, 4)
    });
}

/// log-softmax by its definition, x_k − ln Σ_j exp(x_j) (no shift: the
/// test inputs are small).
fn log_softmax_ref(x: &[f64], outer: usize, len: usize, inner: usize) -> Vec<f64> {
    let mut y = vec![0.0; x.len()];
    for o in 0..outer {
        for i in 0..inner {
            let idx = |k: usize| (o * len + k) * inner + i;
            let s: f64 = (0..len).map(|k| x[idx(k)].exp()).sum();
            for k in 0..len {
                y[idx(k)] = x[idx(k)] - s.ln();
            }
        }
    }
    y
}

#[test]
fn log_softmax_axis_semantics_and_constant_sqrt_n() {
    // opset 11, axis 1 on [1, 3, 2, 2]: over the 12 flattened values.
    let u = check(
        &unary("LogSoftmax", vec![attr_int("axis", 1)], 11),
        12,
        |x| log_softmax_ref(x, 1, 12, 1),
    );
    assert!(
        u >= 12f64.sqrt() && u <= 12f64.sqrt() * (1.0 + 1e-15),
        "{u}"
    );
    // opset 13, axis 1: over the 3 channels at each position.
    let u = check(
        &unary("LogSoftmax", vec![attr_int("axis", 1)], 13),
        12,
        |x| log_softmax_ref(x, 1, 3, 4),
    );
    assert!(u >= 3f64.sqrt() && u <= 3f64.sqrt() * (1.0 + 1e-15), "{u}");
    // opset 13 default axis −1: over the last axis (length 2).
    check(&unary("LogSoftmax", vec![], 13), 12, |x| {
        log_softmax_ref(x, 6, 2, 1)
    });
    // opset 11 default axis 1 with a negative axis −2 (= 2): flattened from
    // axis 2 on, slices of 4.
    check(
        &unary("LogSoftmax", vec![attr_int("axis", -2)], 11),
        12,
        |x| log_softmax_ref(x, 3, 4, 1),
    );
    // √n is the supremum: near x = t·e₁ the Jacobian I − 1e₁ᵀ stretches
    // v = (−1, 1/(n−1), …) by √n (Cauchy–Schwarz equality). The pair ratio
    // of the reference there is close to √3.
    let n = 3.0f64;
    let x = [30.0, 0.0, 0.0];
    let v = [-1.0, 0.5, 0.5];
    let h = 1e-5;
    let y: Vec<f64> = x.iter().zip(&v).map(|(a, b)| a + h * b).collect();
    let (fx, fy) = (log_softmax_ref(&x, 1, 3, 1), log_softmax_ref(&y, 1, 3, 1));
    let diff: Vec<f64> = fx.iter().zip(&fy).map(|(a, b)| a - b).collect();
    let ratio = norm(&diff) / (h * norm(&v));
    // (Above √3 only by the rounding of the two evaluations, ~1e-10.)
    assert!(
        ratio > 0.9999 * n.sqrt() && ratio <= n.sqrt() * (1.0 + 1e-8),
        "{ratio}"
    );
}

#[test]
fn log_softmax_rounding_bound_covers_exact_values_at_extreme_spreads() {
    let mut g = GraphBuilder::new("x", &[1, 3]);
    g.node("LogSoftmax", &["x"], &["y"], vec![]);
    let mut net = import(&g.finish(&["y"], 13)).network;
    certify_layers(&mut net, &SigmaOptions::default(), &mut |_, _| {}).unwrap();
    // x = (a, 0, −a), a = 1e5: y = (0, −a, −2a) up to e^{−a} (far below
    // any f64 spacing there), exactly representable.
    let a = 1e5;
    let (y, e) = forward_with_error(&net, &[a, 0.0, -a]).unwrap();
    let exact = [0.0, -a, -2.0 * a];
    let d = norm(&y.iter().zip(&exact).map(|(p, q)| p - q).collect::<Vec<_>>());
    assert!(d <= e && e < 1e-9, "{d} vs {e}");
    // Equal entries: y = −ln 3 exactly; the f64 nearest to ln 3 is within
    // half an ulp (2⁻⁵³) of it.
    let (y, e) = forward_with_error(&net, &[0.3, 0.3, 0.3]).unwrap();
    let ln3 = 1.098_612_288_668_109_8_f64;
    for v in &y {
        assert!(
            (v + ln3).abs() <= e + 2f64.powi(-53),
            "{v} vs −ln 3, bound {e}"
        );
    }
    // A single-element slice is the constant 0 with constant 0.
    let mut g = GraphBuilder::new("x", &[1, 1]);
    g.node("LogSoftmax", &["x"], &["y"], vec![]);
    let mut net = import(&g.finish(&["y"], 13)).network;
    certify_layers(&mut net, &SigmaOptions::default(), &mut |_, _| {}).unwrap();
    assert_eq!(forward(&net, &[123.0]).unwrap(), vec![0.0]);
    let b = net.nodes[0].bound.as_ref().unwrap();
    assert_eq!((b.lower, b.upper), (0.0, 0.0));
}

#[test]
fn batch_normalization_in_inference_mode() {
    let mut rng = Lcg(5);
    let (sc, bi, me) = (rng.f32s(3, 2.0), rng.f32s(3, 1.0), rng.f32s(3, 1.0));
    let va: Vec<f32> = rng.f32s(3, 1.0).iter().map(|v| v.abs() + 0.1).collect();
    let mut g = GraphBuilder::new("x", &[1, 3, 2, 2]);
    g.init_f32("s", &[3], &sc)
        .init_f32("b", &[3], &bi)
        .init_f32("m", &[3], &me)
        .init_f32("v", &[3], &va);
    g.node(
        "BatchNormalization",
        &["x", "s", "b", "m", "v"],
        &["y"],
        vec![attr_float("epsilon", 1e-3)],
    );
    let eps = 1e-3f32 as f64;
    check(&g.finish(&["y"], 15), 12, |x| {
        x.iter()
            .enumerate()
            .map(|(i, &v)| {
                let c = i / 4;
                (v - me[c] as f64) * sc[c] as f64 / (va[c] as f64 + eps).sqrt() + bi[c] as f64
            })
            .collect()
    });
}

/// Reference pooling on one channel plane (ONNX semantics).
#[allow(clippy::too_many_arguments)]
fn pool_ref(
    x: &[f64],
    (c, h, w): (usize, usize, usize),
    k: (usize, usize),
    s: (usize, usize),
    pads: [usize; 4],
    dil: (usize, usize),
    ceil: bool,
    max: bool,
    include_pad: bool,
) -> Vec<f64> {
    let out = |n: usize, p0: usize, p1: usize, k: usize, s: usize, d: usize| {
        let span = d * (k - 1) + 1;
        let num = n + p0 + p1 - span;
        let mut o = if ceil {
            num.div_ceil(s) + 1
        } else {
            num / s + 1
        };
        if ceil && (o - 1) * s >= n + p0 {
            o -= 1;
        }
        o
    };
    let oh = out(h, pads[0], pads[2], k.0, s.0, dil.0);
    let ow = out(w, pads[1], pads[3], k.1, s.1, dil.1);
    let mut y = Vec::new();
    for ch in 0..c {
        for i in 0..oh {
            for j in 0..ow {
                let mut best = f64::NEG_INFINITY;
                let mut sum = 0.0;
                let mut count = 0;
                let mut padded_count = 0;
                for a in 0..k.0 {
                    for b in 0..k.1 {
                        let p = (i * s.0 + a * dil.0) as isize - pads[0] as isize;
                        let q = (j * s.1 + b * dil.1) as isize - pads[1] as isize;
                        if p < (h + pads[2]) as isize && q < (w + pads[3]) as isize {
                            padded_count += 1;
                        }
                        if p >= 0 && q >= 0 && (p as usize) < h && (q as usize) < w {
                            let v = x[ch * h * w + p as usize * w + q as usize];
                            best = best.max(v);
                            sum += v;
                            count += 1;
                        }
                    }
                }
                y.push(if max {
                    best
                } else {
                    sum / if include_pad { padded_count } else { count } as f64
                });
            }
        }
    }
    y
}

#[test]
fn max_and_average_pooling_with_pads_ceil_mode_and_dilation() {
    let mut g = GraphBuilder::new("x", &[1, 2, 7, 6]);
    g.node(
        "MaxPool",
        &["x"],
        &["y"],
        vec![
            attr_ints("kernel_shape", &[3, 2]),
            attr_ints("strides", &[2, 2]),
            attr_ints("pads", &[1, 0, 1, 1]),
            attr_ints("dilations", &[1, 2]),
            attr_int("ceil_mode", 1),
        ],
    );
    check(&g.finish(&["y"], 12), 84, |x| {
        pool_ref(
            x,
            (2, 7, 6),
            (3, 2),
            (2, 2),
            [1, 0, 1, 1],
            (1, 2),
            true,
            true,
            false,
        )
    });
    for include in [0, 1] {
        let mut g = GraphBuilder::new("x", &[1, 2, 7, 6]);
        g.node(
            "AveragePool",
            &["x"],
            &["y"],
            vec![
                attr_ints("kernel_shape", &[3, 3]),
                attr_ints("strides", &[2, 2]),
                attr_ints("pads", &[1, 1, 1, 1]),
                attr_int("count_include_pad", include),
                attr_int("ceil_mode", 1),
            ],
        );
        check(&g.finish(&["y"], 19), 84, |x| {
            pool_ref(
                x,
                (2, 7, 6),
                (3, 3),
                (2, 2),
                [1, 1, 1, 1],
                (1, 1),
                true,
                false,
                include == 1,
            )
        });
    }
    let mut g = GraphBuilder::new("x", &[1, 2, 3, 4]);
    g.node("GlobalAveragePool", &["x"], &["a"], vec![]);
    g.node("GlobalMaxPool", &["x"], &["m"], vec![]);
    g.node("Concat", &["a", "m"], &["y"], vec![attr_int("axis", 1)]);
    check(&g.finish(&["y"], 13), 24, |x| {
        let mean = |c: usize| x[c * 12..(c + 1) * 12].iter().sum::<f64>() / 12.0;
        let max = |c: usize| {
            x[c * 12..(c + 1) * 12]
                .iter()
                .fold(f64::NEG_INFINITY, |m, &v| m.max(v))
        };
        vec![mean(0), mean(1), max(0), max(1)]
    });
}

#[test]
fn data_movement_transpose_slice_gather_pad_split_concat_reshape() {
    // Transpose [1, 2, 3] → perm (0, 2, 1).
    let mut g = GraphBuilder::new("x", &[1, 2, 3]);
    g.node(
        "Transpose",
        &["x"],
        &["y"],
        vec![attr_ints("perm", &[0, 2, 1])],
    );
    check(&g.finish(&["y"], 13), 6, |x| {
        vec![x[0], x[3], x[1], x[4], x[2], x[5]]
    });
    // Slice (opset 13 inputs): axis 2, start 1, end INT64_MAX, step 2 on [1, 2, 5].
    let mut g = GraphBuilder::new("x", &[1, 2, 5]);
    g.init_i64("st", &[1], &[1])
        .init_i64("en", &[1], &[i64::MAX])
        .init_i64("ax", &[1], &[2])
        .init_i64("sp", &[1], &[2]);
    g.node("Slice", &["x", "st", "en", "ax", "sp"], &["y"], vec![]);
    check(&g.finish(&["y"], 13), 10, |x| vec![x[1], x[3], x[6], x[8]]);
    // Slice (opset 9 attributes) with a negative start.
    let mut g = GraphBuilder::new("x", &[1, 5]);
    g.node(
        "Slice",
        &["x"],
        &["y"],
        vec![
            attr_ints("starts", &[-2]),
            attr_ints("ends", &[5]),
            attr_ints("axes", &[1]),
        ],
    );
    check(&g.finish(&["y"], 9), 5, |x| vec![x[3], x[4]]);
    // Gather with repeated indices: constant √2.
    let mut g = GraphBuilder::new("x", &[1, 4]);
    g.init_i64("i", &[3], &[3, 0, 3]);
    g.node("Gather", &["x", "i"], &["y"], vec![attr_int("axis", 1)]);
    let up = check(&g.finish(&["y"], 13), 4, |x| vec![x[3], x[0], x[3]]);
    assert!(up >= 2f64.sqrt() && up < 1.4143);
    // Pad reflect / edge / constant (opset 11 inputs, opset 2 attributes).
    let x3 = |x: &[f64], i: isize| x[i as usize];
    for (mode, f) in [
        (
            "reflect",
            Box::new(|x: &[f64]| vec![x3(x, 2), x3(x, 1), x3(x, 0), x3(x, 1), x3(x, 2), x3(x, 1)])
                as Box<dyn Fn(&[f64]) -> Vec<f64>>,
        ),
        (
            "edge",
            Box::new(|x: &[f64]| vec![x[0], x[0], x[0], x[1], x[2], x[2]]),
        ),
        (
            "constant",
            Box::new(|x: &[f64]| vec![1.5, 1.5, x[0], x[1], x[2], 1.5]),
        ),
    ] {
        let mut g = GraphBuilder::new("x", &[1, 3]);
        g.init_i64("p", &[4], &[0, 2, 0, 1])
            .init_f32("v", &[], &[1.5]);
        g.node(
            "Pad",
            &["x", "p", "v"],
            &["y"],
            vec![attr_string("mode", mode)],
        );
        check(&g.finish(&["y"], 13), 3, &f);
        let mut g = GraphBuilder::new("x", &[1, 3]);
        g.node(
            "Pad",
            &["x"],
            &["y"],
            vec![
                attr_string("mode", mode),
                attr_ints("pads", &[0, 2, 0, 1]),
                attr_float("value", 1.5),
            ],
        );
        check(&g.finish(&["y"], 2), 3, &f);
    }
    // Split into two unequal parts, swap them back with Concat, Reshape with 0 and -1.
    let mut g = GraphBuilder::new("x", &[1, 5]);
    g.init_i64("sz", &[2], &[2, 3])
        .init_i64("shape", &[3], &[0, -1, 1]);
    g.node(
        "Split",
        &["x", "sz"],
        &["a", "b"],
        vec![attr_int("axis", 1)],
    );
    g.node("Concat", &["b", "a"], &["c"], vec![attr_int("axis", 1)]);
    g.node("Reshape", &["c", "shape"], &["y"], vec![]);
    let net = import(&g.finish(&["y"], 13));
    assert_eq!(net.outputs[0].1, vec![1, 5, 1]);
    check(&g.finish(&["y"], 13), 5, |x| {
        vec![x[2], x[3], x[4], x[0], x[1]]
    });
}

#[test]
fn residual_sum_difference_scaling_and_silu_pattern() {
    let mut rng = Lcg(9);
    let w = rng.f32s(3 * 3, 1.0);
    let lin = |x: &[f64]| -> Vec<f64> {
        (0..3)
            .map(|j| (0..3).map(|i| w[j * 3 + i] as f64 * x[i]).sum())
            .collect()
    };
    // y = relu(W x) + x·2 − x/4 ; the last two are constant scalings.
    let mut g = GraphBuilder::new("x", &[1, 3]);
    g.init_f32("W", &[3, 3], &w)
        .init_f32("two", &[1], &[2.0])
        .init_f32("four", &[], &[4.0]);
    g.node("Gemm", &["x", "W"], &["h"], vec![attr_int("transB", 1)]);
    g.node("Relu", &["h"], &["r"], vec![]);
    g.node("Mul", &["x", "two"], &["x2"], vec![]);
    g.node("Div", &["x", "four"], &["x4"], vec![]);
    g.node("Add", &["r", "x2"], &["s"], vec![]);
    g.node("Sub", &["s", "x4"], &["y"], vec![]);
    let net = import(&g.finish(&["y"], 13));
    assert!(net.network.nodes.iter().any(|n| n.kind == "residual"));
    check(&g.finish(&["y"], 13), 3, |x| {
        let h = lin(x);
        (0..3)
            .map(|i| h[i].max(0.0) + 2.0 * x[i] - x[i] / 4.0)
            .collect()
    });
    // x * sigmoid(x) is one SiLU.
    let mut g = GraphBuilder::new("x", &[1, 4]);
    g.node("Sigmoid", &["x"], &["s"], vec![]);
    g.node("Mul", &["x", "s"], &["y"], vec![]);
    let net = import(&g.finish(&["y"], 13));
    assert_eq!(net.network.nodes.len(), 1);
    assert_eq!(net.network.nodes[0].kind, "silu");
    check(&g.finish(&["y"], 13), 4, map(|v| v / (1.0 + (-v).exp())));
}

#[test]
fn constant_subgraphs_and_constant_nodes_are_folded() {
    // The weight comes from a Constant node; the reshape target from
    // Shape → Gather → Unsqueeze → Concat; a bias from ConstantOfShape.
    let mut rng = Lcg(11);
    let w = rng.f32s(2 * 6, 1.0);
    let mut g = GraphBuilder::new("x", &[1, 2, 3]);
    g.node(
        "Constant",
        &[],
        &["W"],
        vec![attr_tensor("value", encode_f32("W", &[6, 2], &w))],
    );
    g.node("Shape", &["x"], &["shp"], vec![]);
    g.init_i64("zero", &[], &[0])
        .init_i64("minus1", &[1], &[-1])
        .init_i64("ax0", &[1], &[0])
        .init_i64("bshape", &[1], &[2]);
    g.node(
        "Gather",
        &["shp", "zero"],
        &["n"],
        vec![attr_int("axis", 0)],
    );
    g.node("Unsqueeze", &["n", "ax0"], &["n1"], vec![]);
    g.node(
        "Concat",
        &["n1", "minus1"],
        &["target"],
        vec![attr_int("axis", 0)],
    );
    g.node("Reshape", &["x", "target"], &["flat"], vec![]);
    g.node("MatMul", &["flat", "W"], &["m"], vec![]);
    g.node(
        "ConstantOfShape",
        &["bshape"],
        &["bias"],
        vec![attr_tensor("value", encode_f32("v", &[1], &[0.25]))],
    );
    g.node("Add", &["m", "bias"], &["y"], vec![]);
    check(&g.finish(&["y"], 13), 6, |x| {
        (0..2)
            .map(|j| (0..6).map(|i| x[i] * w[i * 2 + j] as f64).sum::<f64>() + 0.25)
            .collect()
    });
}

#[test]
fn model_local_functions_are_inlined() {
    use lipcert::onnx::proto::{FunctionProto, NodeProto, OperatorSetIdProto};
    let mut g = GraphBuilder::new("x", &[1, 3]);
    // A local function "ScaledLeaky(X) = LeakyRelu(X, alpha = @a) + X"
    let mut leaky = attr_float("alpha", 0.0);
    leaky.f = None;
    leaky.ref_attr_name = Some("a".into());
    g.functions.push(FunctionProto {
        name: Some("ScaledLeaky".into()),
        domain: Some("local".into()),
        input: vec!["X".into()],
        output: vec!["Y".into()],
        attribute: vec!["a".into()],
        node: vec![
            NodeProto {
                input: vec!["X".into()],
                output: vec!["L".into()],
                name: Some("leaky".into()),
                op_type: Some("LeakyRelu".into()),
                attribute: vec![leaky],
                domain: None,
            },
            NodeProto {
                input: vec!["L".into(), "X".into()],
                output: vec!["Y".into()],
                name: Some("add".into()),
                op_type: Some("Add".into()),
                attribute: vec![],
                domain: None,
            },
        ],
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(18),
        }],
        attribute_proto: vec![],
    });
    g.node("ScaledLeaky", &["x"], &["y"], vec![attr_float("a", 0.5)]);
    g.graph.node[0].domain = Some("local".into());
    check(
        &g.finish(&["y"], 18),
        3,
        map(|v| if v >= 0.0 { 2.0 * v } else { 1.5 * v }),
    );
}

#[test]
fn multiple_outputs_are_one_concatenated_map() {
    let mut g = GraphBuilder::new("x", &[1, 3]);
    g.init_f32("two", &[], &[2.0]);
    g.node("Relu", &["x"], &["a"], vec![]);
    g.node("Mul", &["x", "two"], &["b"], vec![]);
    let upper = check(&g.finish(&["a", "b"], 13), 3, |x| {
        let mut y: Vec<f64> = x.iter().map(|v| v.max(0.0)).collect();
        y.extend(x.iter().map(|v| 2.0 * v));
        y
    });
    // √(1² + 2²)
    assert!(upper >= 5f64.sqrt() && upper < 5f64.sqrt() * (1.0 + 1e-12));
}

#[test]
fn softsign_written_as_x_over_one_plus_abs_x_is_one_activation() {
    // PyTorch exports Softsign as Div(x, Add(Abs(x), 1)).
    let mut g = GraphBuilder::new("x", &[1, 4]);
    g.init_f32("one", &[], &[1.0]);
    g.node("Abs", &["x"], &["a"], vec![]);
    g.node("Add", &["a", "one"], &["d"], vec![]);
    g.node("Div", &["x", "d"], &["y"], vec![]);
    let net = import(&g.finish(&["y"], 13));
    assert_eq!(net.network.nodes.len(), 1);
    assert_eq!(net.network.nodes[0].kind, "softsign");
    let upper = check(&g.finish(&["y"], 13), 4, map(|v| v / (1.0 + v.abs())));
    assert_eq!(upper, 1.0);
    // x / (2 + |x|) is not that pattern: a quotient of two input-dependent tensors.
    let mut g = GraphBuilder::new("x", &[1, 4]);
    g.init_f32("two", &[], &[2.0]);
    g.node("Abs", &["x"], &["a"], vec![]);
    g.node("Add", &["a", "two"], &["d"], vec![]);
    g.node("Div", &["x", "d"], &["y"], vec![]);
    let e = import_bytes(
        &g.finish(&["y"], 13),
        Path::new("."),
        &ImportOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("quotient"), "{e}");
}

/// The unsupported-operator error of a model.
fn refusal(bytes: &[u8]) -> String {
    match import_bytes(bytes, Path::new("."), &ImportOptions::default()) {
        Ok(_) => panic!("import should fail"),
        Err(e) => e.to_string(),
    }
}

/// Nearest input index for ONNX Resize with `half_pixel` coordinates and
/// `round_prefer_floor`, in exact integer arithmetic: x = ((2i+1)·L − O)/(2O),
/// rounded half down = ⌈x − ½⌉ = ⌈((2i+1)·L − 2O)/(2O)⌉, clamped to [0, L−1].
fn half_pixel_floor_index(i: usize, l: usize, o: usize) -> usize {
    let num = (2 * i as i64 + 1) * l as i64 - 2 * o as i64;
    let den = 2 * o as i64;
    let ceil = -((-num).div_euclid(den));
    ceil.clamp(0, l as i64 - 1) as usize
}

/// A nearest resize of a C×H×W tensor given the source row and column of
/// every output row and column.
fn resize_ref(
    x: &[f64],
    c: usize,
    (h, w): (usize, usize),
    rows: &[usize],
    cols: &[usize],
) -> Vec<f64> {
    let mut y = Vec::new();
    for ch in 0..c {
        for &r in rows {
            for &q in cols {
                y.push(x[(ch * h + r) * w + q]);
            }
        }
    }
    y
}

/// √(max replication) of a separable nearest resize.
fn replication_norm(rows: &[usize], cols: &[usize]) -> f64 {
    let most = |v: &[usize]| {
        (0..=*v.iter().max().unwrap())
            .map(|k| v.iter().filter(|&&j| j == k).count())
            .max()
            .unwrap()
    };
    ((most(rows) * most(cols)) as f64).sqrt()
}

#[test]
fn resize_and_upsample_nearest_are_selections_with_norm_sqrt_replication() {
    // Upsample-7 (scales attribute) and -9 (scales input): ⌊i/s⌋.
    let rows: Vec<usize> = (0..4).map(|i| i / 2).collect();
    let cols: Vec<usize> = (0..9).map(|j| j / 3).collect();
    let mut g = GraphBuilder::new("x", &[1, 2, 2, 3]);
    g.node(
        "Upsample",
        &["x"],
        &["y"],
        vec![
            lipcert::onnx::builder::attr_floats("scales", &[1.0, 1.0, 2.0, 3.0]),
            attr_string("mode", "nearest"),
        ],
    );
    let u = check(&g.finish(&["y"], 7), 12, |x| {
        resize_ref(x, 2, (2, 3), &rows, &cols)
    });
    let exact = replication_norm(&rows, &cols);
    assert_eq!(exact, 6f64.sqrt());
    assert!(u >= exact && u <= exact * (1.0 + 1e-12), "{u}");
    let mut g = GraphBuilder::new("x", &[1, 2, 2, 3]);
    g.init_f32("scales", &[4], &[1.0, 1.0, 2.0, 3.0]);
    g.node("Upsample", &["x", "scales"], &["y"], vec![]);
    check(&g.finish(&["y"], 9), 12, |x| {
        resize_ref(x, 2, (2, 3), &rows, &cols)
    });
    // Resize-13 to sizes 3×5 from 2×3 (scales 3/2, 5/3): half_pixel with
    // round_prefer_floor (the defaults), indices from exact integers.
    let rows: Vec<usize> = (0..3).map(|i| half_pixel_floor_index(i, 2, 3)).collect();
    let cols: Vec<usize> = (0..5).map(|j| half_pixel_floor_index(j, 3, 5)).collect();
    assert_eq!(
        (rows.clone(), cols.clone()),
        (vec![0, 0, 1], vec![0, 0, 1, 2, 2])
    );
    let mut g = GraphBuilder::new("x", &[1, 2, 2, 3]);
    g.init_i64("sizes", &[4], &[1, 2, 3, 5]);
    g.node(
        "Resize",
        &["x", "", "", "sizes"],
        &["y"],
        vec![attr_string("mode", "nearest")],
    );
    let u = check(&g.finish(&["y"], 13), 12, |x| {
        resize_ref(x, 2, (2, 3), &rows, &cols)
    });
    let exact = replication_norm(&rows, &cols);
    assert_eq!(exact, 2.0);
    assert!(u >= exact && u <= exact * (1.0 + 1e-12), "{u}");
    // Resize-11 with scales, asymmetric coordinates and floor: ⌊i/2⌋.
    let rows: Vec<usize> = (0..4).map(|i| i / 2).collect();
    let cols: Vec<usize> = (0..6).map(|j| j / 2).collect();
    let mut g = GraphBuilder::new("x", &[1, 2, 2, 3]);
    g.init_f32("roi", &[0], &[])
        .init_f32("scales", &[4], &[1.0, 1.0, 2.0, 2.0]);
    g.node(
        "Resize",
        &["x", "roi", "scales"],
        &["y"],
        vec![
            attr_string("coordinate_transformation_mode", "asymmetric"),
            attr_string("nearest_mode", "floor"),
        ],
    );
    check(&g.finish(&["y"], 11), 12, |x| {
        resize_ref(x, 2, (2, 3), &rows, &cols)
    });
    // Interpolating modes are refused, naming the node.
    let mut g = GraphBuilder::new("x", &[1, 2, 2, 3]);
    g.init_f32("roi", &[0], &[])
        .init_f32("scales", &[4], &[1.0, 1.0, 2.0, 2.0]);
    g.node(
        "Resize",
        &["x", "roi", "scales"],
        &["y"],
        vec![attr_string("mode", "linear")],
    );
    let e = refusal(&g.finish(&["y"], 13));
    assert!(e.contains("Resize_y") && e.contains("'linear'"), "{e}");
}

#[test]
fn reduce_mean_over_spatial_axes_and_channels_is_linear_with_exact_norm() {
    let (c, h, w) = (3usize, 4usize, 5usize);
    let mean_hw = |x: &[f64]| -> Vec<f64> {
        (0..c)
            .map(|ch| x[ch * h * w..(ch + 1) * h * w].iter().sum::<f64>() / (h * w) as f64)
            .collect()
    };
    let mean_c = |x: &[f64]| -> Vec<f64> {
        (0..h * w)
            .map(|p| (0..c).map(|ch| x[ch * h * w + p]).sum::<f64>() / c as f64)
            .collect()
    };
    // Spatial mean (attribute axes, keepdims): norm 1/√(HW).
    let mut g = GraphBuilder::new("x", &[1, c, h, w]);
    g.node(
        "ReduceMean",
        &["x"],
        &["y"],
        vec![attr_ints("axes", &[2, -1])],
    );
    let net = import(&g.finish(&["y"], 13));
    assert_eq!(net.outputs[0].1, vec![1, c, 1, 1]);
    let u = check(&g.finish(&["y"], 13), c * h * w, mean_hw);
    let exact = 1.0 / ((h * w) as f64).sqrt();
    assert!(u >= exact && u <= exact * (1.0 + 1e-12), "{u} vs {exact}");
    // Channel mean (axes as an input from opset 18, keepdims = 0): 1/√C.
    let mut g = GraphBuilder::new("x", &[1, c, h, w]);
    g.init_i64("axes", &[1], &[1]);
    g.node(
        "ReduceMean",
        &["x", "axes"],
        &["y"],
        vec![attr_int("keepdims", 0)],
    );
    let net = import(&g.finish(&["y"], 18));
    assert_eq!(net.outputs[0].1, vec![1, h, w]);
    let u = check(&g.finish(&["y"], 18), c * h * w, mean_c);
    let exact = 1.0 / (c as f64).sqrt();
    assert!(u >= exact && u <= exact * (1.0 + 1e-12), "{u} vs {exact}");
    // No axes: the mean of everything, 1/√(CHW).
    let mut g = GraphBuilder::new("x", &[1, c, h, w]);
    g.node("ReduceMean", &["x"], &["y"], vec![attr_int("keepdims", 0)]);
    let u = check(&g.finish(&["y"], 13), c * h * w, |x| {
        vec![x.iter().sum::<f64>() / (c * h * w) as f64]
    });
    let exact = 1.0 / ((c * h * w) as f64).sqrt();
    assert!(u >= exact && u <= exact * (1.0 + 1e-12), "{u} vs {exact}");
}

/// x·½(1 + erf(x/c)) with the exported constant c.
fn gelu_c(c: f64) -> impl Fn(&[f64]) -> Vec<f64> {
    map(move |v| v * 0.5 * (1.0 + libm_erf(v / c)))
}

#[test]
fn gelu_written_with_erf_is_one_gelu_activation_in_every_association() {
    let sqrt2 = f64::from(std::f32::consts::SQRT_2);
    let build = |form: u8| -> Vec<u8> {
        let mut g = GraphBuilder::new("x", &[1, 6]);
        g.init_f32("c", &[], &[std::f32::consts::SQRT_2])
            .init_f32("inv_c", &[], &[std::f32::consts::FRAC_1_SQRT_2])
            .init_f32("one", &[], &[1.0])
            .init_f32("half", &[], &[0.5]);
        if form == 3 {
            g.node("Mul", &["x", "inv_c"], &["d"], vec![]);
        } else {
            g.node("Div", &["x", "c"], &["d"], vec![]);
        }
        g.node("Erf", &["d"], &["e"], vec![]);
        g.node("Add", &["one", "e"], &["p"], vec![]);
        match form {
            // PyTorch: (x·(1+erf))·0.5
            0 | 3 => {
                g.node("Mul", &["x", "p"], &["m"], vec![]);
                g.node("Mul", &["m", "half"], &["y"], vec![]);
            }
            // (0.5·x)·(1+erf)
            1 => {
                g.node("Mul", &["half", "x"], &["hx"], vec![]);
                g.node("Mul", &["hx", "p"], &["y"], vec![]);
            }
            // x·((1+erf)·0.5)
            _ => {
                g.node("Mul", &["p", "half"], &["hp"], vec![]);
                g.node("Mul", &["hp", "x"], &["y"], vec![]);
            }
        }
        g.finish(&["y"], 13)
    };
    for form in 0..4 {
        let bytes = build(form);
        let net = import(&bytes);
        let kinds: Vec<_> = net.network.nodes.iter().map(|n| n.kind).collect();
        assert_eq!(kinds, vec!["gelu"], "form {form}");
        assert!(net.network.nodes[0].layer.slope_interval().is_some());
        // The file's function uses c = fl32(√2); lipcert evaluates x·Φ(x):
        // they differ by ≤ 1e-8·x² (see the pattern's doc comment).
        let c = if form == 3 {
            1.0 / f64::from(std::f32::consts::FRAC_1_SQRT_2)
        } else {
            sqrt2
        };
        let upper = check_tol(&bytes, 6, 1e-7, gelu_c(c));
        assert!((1.128_904..=1.128_905).contains(&upper), "{upper}");
    }
    // Erf alone, and an erf pattern with another constant, are refused.
    let mut g = GraphBuilder::new("x", &[1, 6]);
    g.node("Erf", &["x"], &["y"], vec![]);
    let e = refusal(&g.finish(&["y"], 13));
    assert!(e.contains("Erf_y") && e.contains("GELU"), "{e}");
    let mut g = GraphBuilder::new("x", &[1, 6]);
    g.init_f32("two", &[], &[2.0]).init_f32("one", &[], &[1.0]);
    g.node("Div", &["x", "two"], &["d"], vec![]);
    g.node("Erf", &["d"], &["e"], vec![]);
    g.node("Add", &["e", "one"], &["p"], vec![]);
    g.node("Mul", &["x", "p"], &["y"], vec![]);
    let e = refusal(&g.finish(&["y"], 13));
    assert!(
        e.contains("Mul_y") && e.contains("both depend on the input"),
        "{e}"
    );
}

#[test]
fn hard_swish_written_with_relu6_is_one_activation_with_a_slope_interval() {
    let hs = |v: f64| v * (v + 3.0).clamp(0.0, 6.0) / 6.0;
    // form 0: Div(Mul(x, clip(x+3, 0, 6)), 6) with Clip bounds as inputs;
    // form 1: Mul(x, Div(clip, 6)) with Clip-6 attributes (relu6).
    for form in 0..2 {
        let mut g = GraphBuilder::new("x", &[1, 8]);
        g.init_f32("three", &[], &[3.0])
            .init_f32("zero", &[], &[0.0])
            .init_f32("six", &[], &[6.0]);
        g.node("Add", &["x", "three"], &["a"], vec![]);
        let opset = if form == 0 {
            g.node("Clip", &["a", "zero", "six"], &["r"], vec![]);
            g.node("Mul", &["x", "r"], &["m"], vec![]);
            g.node("Div", &["m", "six"], &["y"], vec![]);
            13
        } else {
            g.node(
                "Clip",
                &["a"],
                &["r"],
                vec![attr_float("min", 0.0), attr_float("max", 6.0)],
            );
            g.node("Div", &["r", "six"], &["q"], vec![]);
            g.node("Mul", &["q", "x"], &["y"], vec![]);
            6
        };
        let bytes = g.finish(&["y"], opset);
        let net = import(&bytes);
        let kinds: Vec<_> = net.network.nodes.iter().map(|n| n.kind).collect();
        assert_eq!(kinds, vec!["hardswish"], "form {form}");
        let s = net.network.nodes[0]
            .layer
            .slope_interval()
            .unwrap()
            .unwrap();
        assert_eq!((s.lower, s.upper), (-0.5, 1.5));
        let upper = check(&bytes, 8, map(hs));
        assert!((1.5..=1.5 * (1.0 + 1e-12)).contains(&upper), "{upper}");
    }
    // ×fl(1/6) instead of ÷6: 6·fl(1/6) ≠ 1, so the scaling stays separate
    // and the bound covers the file's function exactly.
    let sixth = (1.0f32 / 6.0) as f64;
    let mut g = GraphBuilder::new("x", &[1, 8]);
    g.init_f32("three", &[], &[3.0])
        .init_f32("zero", &[], &[0.0])
        .init_f32("six", &[], &[6.0])
        .init_f32("sixth", &[], &[1.0 / 6.0]);
    g.node("Add", &["x", "three"], &["a"], vec![]);
    g.node("Clip", &["a", "zero", "six"], &["r"], vec![]);
    g.node("Mul", &["x", "r"], &["m"], vec![]);
    g.node("Mul", &["m", "sixth"], &["y"], vec![]);
    let bytes = g.finish(&["y"], 13);
    assert!(import(&bytes)
        .network
        .nodes
        .iter()
        .any(|n| n.kind == "hardswish"));
    let upper = check(
        &bytes,
        8,
        map(move |v| v * (v + 3.0).clamp(0.0, 6.0) * sixth),
    );
    assert!(upper >= 9.0 * sixth, "{upper}");
}

#[test]
fn lrn_and_3d_convolutions_are_refused_by_name() {
    let e = refusal(&unary("LRN", vec![attr_int("size", 3)], 13));
    assert!(
        e.contains("LRN_y") && e.contains("no certified bound"),
        "{e}"
    );
    let mut g = GraphBuilder::new("x", &[1, 1, 3, 3, 3]);
    g.init_f32("w", &[1, 1, 2, 2, 2], &[0.5; 8]);
    g.node("Conv", &["x", "w"], &["y"], vec![]);
    let e = refusal(&g.finish(&["y"], 13));
    assert!(e.contains("Conv_y") && e.contains("3-D convolution"), "{e}");
}
