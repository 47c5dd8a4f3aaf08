//! ONNX `ConvTranspose` and the spec's `conv_transpose2d` (issue 13): the
//! forward pass against a direct-loop float64 reference of the ONNX operator
//! written here from the specification (y[oc, oh, ow] += x[ic, ih, iw]·
//! w[ic, oc_l, a, b] at oh = ih·s − p_begin + a·d), for every attribute; the
//! certified σ against the exact σ of the explicit matrix built from that
//! reference (exact rational oracle); JVP/VJP against the same matrix;
//! malformed nodes; and the spec front end against the ONNX one.
#![cfg(feature = "onnx")]

mod common;

use common::cli::run;
use common::lcg::Lcg;
use lipcert::exact::contains_sigma;
use lipcert::network::certify::certify_layers;
use lipcert::network::evaluate::{forward, forward_with_error, jvp, vjp};
use lipcert::network::layer::{Layer, Network};
use lipcert::network::spec::NetworkSpec;
use lipcert::network::weights::{Tensor, Weights};
use lipcert::onnx::builder::{attr_int, attr_ints, attr_string, GraphBuilder};
use lipcert::onnx::proto::AttributeProto;
use lipcert::onnx::{import_bytes, ImportOptions, OnnxNetwork};
use lipcert::sigma::SigmaOptions;
use lipcert::DenseMatrix;
use std::path::Path;

/// The geometry of one case, with the pads the reference uses (already
/// resolved from auto_pad / output_shape by hand in each test).
#[derive(Clone, Copy, Debug)]
struct Geo {
    c_in: usize,
    /// 0 for a 1-D transposed convolution.
    h: usize,
    w: usize,
    c_out_g: usize,
    kh: usize,
    kw: usize,
    groups: usize,
    stride: (usize, usize),
    dil: (usize, usize),
    /// (top, left, bottom, right).
    pads: [usize; 4],
    op: (usize, usize),
}

impl Geo {
    fn one_d(&self) -> bool {
        self.h == 0
    }
    fn hh(&self) -> usize {
        self.h.max(1)
    }
    fn khh(&self) -> usize {
        if self.one_d() {
            1
        } else {
            self.kh
        }
    }
    /// ONNX's output size: s(n − 1) + op + d(k − 1) + 1 − pads.
    fn out(&self) -> (usize, usize) {
        let f = |n: usize, k: usize, s: usize, d: usize, pb: usize, pe: usize, op: usize| {
            s * (n - 1) + op + d * (k - 1) + 1 - pb - pe
        };
        let oh = if self.one_d() {
            1
        } else {
            f(
                self.h,
                self.kh,
                self.stride.0,
                self.dil.0,
                self.pads[0],
                self.pads[2],
                self.op.0,
            )
        };
        let ow = f(
            self.w,
            self.kw,
            self.stride.1,
            self.dil.1,
            self.pads[1],
            self.pads[3],
            self.op.1,
        );
        (oh, ow)
    }
    fn c_out(&self) -> usize {
        self.c_out_g * self.groups
    }
    fn n_in(&self) -> usize {
        self.c_in * self.hh() * self.w
    }
    fn n_out(&self) -> usize {
        let (oh, ow) = self.out();
        self.c_out() * oh * ow
    }
    fn weight_shape(&self) -> Vec<usize> {
        if self.one_d() {
            vec![self.c_in, self.c_out_g, self.kw]
        } else {
            vec![self.c_in, self.c_out_g, self.kh, self.kw]
        }
    }
    fn weight_len(&self) -> usize {
        self.c_in * self.c_out_g * self.khh() * self.kw
    }
    fn input_shape(&self) -> Vec<usize> {
        if self.one_d() {
            vec![1, self.c_in, self.w]
        } else {
            vec![1, self.c_in, self.h, self.w]
        }
    }
    fn output_shape(&self) -> Vec<usize> {
        let (oh, ow) = self.out();
        if self.one_d() {
            vec![self.c_out(), ow]
        } else {
            vec![self.c_out(), oh, ow]
        }
    }
}

/// The ONNX ConvTranspose definition, loop by loop, in f64.
fn reference(x: &[f64], g: &Geo, k: &[f32], bias: Option<&[f32]>) -> Vec<f64> {
    let (oh, ow) = g.out();
    let (h, w, kh, kw) = (g.hh(), g.w, g.khh(), g.kw);
    let (sh, sw) = if g.one_d() { (1, g.stride.1) } else { g.stride };
    let (dh, dw) = if g.one_d() { (1, g.dil.1) } else { g.dil };
    let (pt, pl) = if g.one_d() {
        (0, g.pads[1])
    } else {
        (g.pads[0], g.pads[1])
    };
    let cig = g.c_in / g.groups;
    let mut y = vec![0.0; g.n_out()];
    if let Some(b) = bias {
        for (i, v) in y.iter_mut().enumerate() {
            *v = b[i / (oh * ow)] as f64;
        }
    }
    for ic in 0..g.c_in {
        let grp = ic / cig;
        for ocl in 0..g.c_out_g {
            let oc = grp * g.c_out_g + ocl;
            for ih in 0..h {
                for iw in 0..w {
                    for a in 0..kh {
                        for b in 0..kw {
                            let r = (ih * sh + a * dh) as isize - pt as isize;
                            let c = (iw * sw + b * dw) as isize - pl as isize;
                            if r < 0 || c < 0 || r as usize >= oh || c as usize >= ow {
                                continue;
                            }
                            let wv = k[((ic * g.c_out_g + ocl) * kh + a) * kw + b] as f64;
                            y[(oc * oh + r as usize) * ow + c as usize] +=
                                x[(ic * h + ih) * w + iw] * wv;
                        }
                    }
                }
            }
        }
    }
    y
}

/// The explicit matrix of the linear part, column by column from the
/// reference (each entry is one weight: exact).
fn explicit(g: &Geo, k: &[f32]) -> DenseMatrix {
    let (m, n) = (g.n_out(), g.n_in());
    let mut data = vec![0.0; m * n];
    for j in 0..n {
        let mut e = vec![0.0; n];
        e[j] = 1.0;
        for (i, v) in reference(&e, g, k, None).into_iter().enumerate() {
            data[i * n + j] = v;
        }
    }
    DenseMatrix::from_row_major(m, n, &data).unwrap()
}

fn model(g: &Geo, k: &[f32], bias: Option<&[f32]>, attrs: Vec<AttributeProto>) -> Vec<u8> {
    let mut b = GraphBuilder::new("x", &g.input_shape());
    b.init_f32("w", &g.weight_shape(), k);
    let mut inputs = vec!["x", "w"];
    if let Some(bv) = bias {
        b.init_f32("b", &[g.c_out()], bv);
        inputs.push("b");
    }
    b.node("ConvTranspose", &inputs, &["y"], attrs);
    b.finish(&["y"], 13)
}

fn import(bytes: &[u8]) -> OnnxNetwork {
    match import_bytes(bytes, Path::new("."), &ImportOptions::default()) {
        Ok(n) => n,
        Err(e) => panic!("import failed: {e}"),
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Forward, JVP and VJP against the reference and its matrix; the certified
/// enclosure against the exact σ; returns the certified network.
fn check(g: &Geo, bytes: &[u8], k: &[f32], bias: Option<&[f32]>) -> Network {
    let net = import(bytes).network;
    assert_eq!(net.output_shape(), g.output_shape().as_slice(), "{g:?}");
    assert_eq!(net.nodes.len(), 1);
    assert!(matches!(net.nodes[0].layer, Layer::ConvTranspose2d(_)));
    let m = explicit(g, k);
    let mut rng = Lcg(g.n_in() as u64 * 31 + g.n_out() as u64);
    for _ in 0..3 {
        let x = rng.vec(g.n_in(), 2.0);
        let y = forward(&net, &x).unwrap();
        let r = reference(&x, g, k, bias);
        let scale = r.iter().fold(1e-300f64, |a, v| a.max(v.abs()));
        for (i, (a, b)) in y.iter().zip(&r).enumerate() {
            assert!(
                (a - b).abs() <= 1e-13 * scale,
                "{g:?} output {i}: lipcert {a} vs reference {b}"
            );
        }
        // J v = M v (the reference without bias), Jᵀ w = Mᵀ w.
        let v = rng.vec(g.n_in(), 1.0);
        let (_, jv) = jvp(&net, &x, &v).unwrap();
        let mv = reference(&v, g, k, None);
        for (a, b) in jv.iter().zip(&mv) {
            assert!((a - b).abs() <= 1e-13 * (1.0 + b.abs()), "jvp {a} vs {b}");
        }
        let w = rng.vec(g.n_out(), 1.0);
        let jw = vjp(&net, &x, &w).unwrap();
        for (j, a) in jw.iter().enumerate() {
            let b: f64 = (0..g.n_out()).map(|i| m.get(i, j) * w[i]).sum();
            assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()), "vjp {a} vs {b}");
        }
        assert!((dot(&jv, &w) - dot(&v, &jw)).abs() <= 1e-11 * (1.0 + dot(&jv, &w).abs()));
    }
    let mut net = net;
    certify_layers(&mut net, &SigmaOptions::default(), &mut |_, _| {}).unwrap();
    let b = net.nodes[0].bound.clone().unwrap();
    assert!(
        contains_sigma(&m, b.lower, b.upper).unwrap(),
        "{g:?}: exact σ outside [{}, {}]",
        b.lower,
        b.upper
    );
    assert!(b.lower > 0.0 && b.upper >= b.lower);
    // ‖ŷ − f(x)‖ ≤ e, and the reference's own rounding obeys the same
    // a-priori bound (the same products summed in another order, the same
    // bias addition), so ‖ŷ − r‖ ≤ 2e.
    let x = rng.vec(g.n_in(), 2.0);
    let (y, e) = forward_with_error(&net, &x).unwrap();
    let r = reference(&x, g, k, bias);
    let d: f64 = y
        .iter()
        .zip(&r)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        .sqrt();
    assert!(e.is_finite() && e > 0.0 && d <= 2.0 * e, "{d} > 2·{e}");
    net
}

fn weights(g: &Geo, seed: u64, with_bias: bool) -> (Vec<f32>, Option<Vec<f32>>) {
    let mut rng = Lcg(seed);
    let k = rng.f32s(g.weight_len(), 0.7);
    let b = with_bias.then(|| rng.f32s(g.c_out(), 0.5));
    (k, b)
}

const BASE: Geo = Geo {
    c_in: 2,
    h: 3,
    w: 4,
    c_out_g: 3,
    kh: 3,
    kw: 2,
    groups: 1,
    stride: (1, 1),
    dil: (1, 1),
    pads: [0, 0, 0, 0],
    op: (0, 0),
};

#[test]
fn default_attributes_with_bias() {
    let g = BASE;
    let (k, b) = weights(&g, 1, true);
    check(&g, &model(&g, &k, b.as_deref(), vec![]), &k, b.as_deref());
}

#[test]
fn strides_pads_and_kernel_shape() {
    let g = Geo {
        stride: (2, 3),
        pads: [1, 0, 2, 1],
        ..BASE
    };
    let (k, b) = weights(&g, 2, true);
    let attrs = vec![
        attr_ints("strides", &[2, 3]),
        attr_ints("pads", &[1, 0, 2, 1]),
        attr_ints("kernel_shape", &[3, 2]),
    ];
    check(&g, &model(&g, &k, b.as_deref(), attrs), &k, b.as_deref());
}

#[test]
fn dilations_and_output_padding() {
    let g = Geo {
        stride: (2, 3),
        dil: (2, 1),
        op: (1, 2),
        pads: [1, 1, 0, 1],
        ..BASE
    };
    let (k, _) = weights(&g, 3, false);
    let attrs = vec![
        attr_ints("strides", &[2, 3]),
        attr_ints("dilations", &[2, 1]),
        attr_ints("output_padding", &[1, 2]),
        attr_ints("pads", &[1, 1, 0, 1]),
    ];
    check(&g, &model(&g, &k, None, attrs), &k, None);
}

#[test]
fn output_padding_at_least_the_stride_below_the_dilation() {
    // op = 2 ≥ s = 1 (allowed since op < d = 3): the adjoint conv's end pad
    // is p_end − s⌊op/s⌋ = 3 − 2.
    let g = Geo {
        dil: (3, 1),
        op: (2, 0),
        pads: [0, 0, 3, 0],
        ..BASE
    };
    let (k, b) = weights(&g, 4, true);
    let attrs = vec![
        attr_ints("dilations", &[3, 1]),
        attr_ints("output_padding", &[2, 0]),
        attr_ints("pads", &[0, 0, 3, 0]),
    ];
    check(&g, &model(&g, &k, b.as_deref(), attrs), &k, b.as_deref());
    // With an end pad below s⌊op/s⌋ it is refused by name.
    let attrs = vec![
        attr_ints("dilations", &[3, 1]),
        attr_ints("output_padding", &[2, 0]),
    ];
    let g0 = Geo { pads: [0; 4], ..g };
    let e = refusal(&model(&g0, &k, None, attrs));
    assert!(
        e.contains("ConvTranspose_y") && e.contains("output_padding"),
        "{e}"
    );
}

#[test]
fn groups() {
    let g = Geo {
        c_in: 4,
        c_out_g: 2,
        groups: 2,
        stride: (2, 1),
        pads: [0, 1, 1, 0],
        ..BASE
    };
    let (k, b) = weights(&g, 5, true);
    let attrs = vec![
        attr_int("group", 2),
        attr_ints("strides", &[2, 1]),
        attr_ints("pads", &[0, 1, 1, 0]),
    ];
    check(&g, &model(&g, &k, b.as_deref(), attrs), &k, b.as_deref());
}

#[test]
fn auto_pad_same_upper_same_lower_and_valid() {
    // SAME: output = input·s; total pad = s(n − 1) + d(k − 1) + 1 − n·s.
    // Rows: n = 3, s = 2, k = 3: total = 4 + 3 − 6 = 1. Columns: n = 4,
    // s = 1, k = 2: total = 3 + 2 − 4 = 1. SAME_UPPER puts ⌊1/2⌋ = 0 at the
    // beginning and 1 at the end; SAME_LOWER the other way round.
    for (mode, pads) in [("SAME_UPPER", [0, 0, 1, 1]), ("SAME_LOWER", [1, 1, 0, 0])] {
        let g = Geo {
            stride: (2, 1),
            pads,
            ..BASE
        };
        assert_eq!(g.out(), (6, 4));
        let (k, b) = weights(&g, 6, true);
        let attrs = vec![attr_string("auto_pad", mode), attr_ints("strides", &[2, 1])];
        check(&g, &model(&g, &k, b.as_deref(), attrs), &k, b.as_deref());
    }
    let g = Geo {
        stride: (2, 2),
        ..BASE
    };
    let (k, _) = weights(&g, 7, false);
    // VALID ignores any pads attribute.
    let attrs = vec![
        attr_string("auto_pad", "VALID"),
        attr_ints("strides", &[2, 2]),
        attr_ints("pads", &[1, 1, 1, 1]),
    ];
    check(&g, &model(&g, &k, None, attrs), &k, None);
}

#[test]
fn output_shape_sets_the_pads() {
    // Rows: n = 3, s = 2, k = 3, op = 0: 2·2 + 3 = 7 positions, output 6 →
    // total 1; columns: 3 + 2 = 5 positions, output 3 → total 2.
    // NOTSET: begin gets total − ⌊total/2⌋ (rows 1, columns 1), end ⌊total/2⌋.
    let g = Geo {
        stride: (2, 1),
        pads: [1, 1, 0, 1],
        ..BASE
    };
    assert_eq!(g.out(), (6, 3));
    let (k, b) = weights(&g, 8, true);
    for shape in [vec![6, 3], vec![1, 3, 6, 3]] {
        let attrs = vec![
            attr_ints("strides", &[2, 1]),
            attr_ints("output_shape", &shape),
            attr_ints("pads", &[2, 2, 2, 2]),
        ];
        check(&g, &model(&g, &k, b.as_deref(), attrs), &k, b.as_deref());
    }
    // SAME_UPPER with output_shape: begin ⌊total/2⌋ (0, 1), end the rest (1, 1).
    let g = Geo {
        stride: (2, 1),
        pads: [0, 1, 1, 1],
        ..BASE
    };
    let attrs = vec![
        attr_string("auto_pad", "SAME_UPPER"),
        attr_ints("strides", &[2, 1]),
        attr_ints("output_shape", &[6, 3]),
    ];
    check(&g, &model(&g, &k, b.as_deref(), attrs), &k, b.as_deref());
}

#[test]
fn one_dimensional() {
    let g = Geo {
        c_in: 3,
        h: 0,
        w: 5,
        c_out_g: 2,
        kh: 1,
        kw: 3,
        stride: (1, 2),
        dil: (1, 2),
        pads: [0, 1, 0, 2],
        op: (0, 1),
        ..BASE
    };
    let (k, b) = weights(&g, 9, true);
    let attrs = vec![
        attr_ints("strides", &[2]),
        attr_ints("dilations", &[2]),
        attr_ints("pads", &[1, 2]),
        attr_ints("output_padding", &[1]),
    ];
    check(&g, &model(&g, &k, b.as_deref(), attrs), &k, b.as_deref());
}

fn refusal(bytes: &[u8]) -> String {
    match import_bytes(bytes, Path::new("."), &ImportOptions::default()) {
        Ok(_) => panic!("expected a refusal"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn malformed_nodes_are_refused_by_name() {
    let g = BASE;
    let (k, _) = weights(&g, 10, false);
    let named = |e: &str, what: &str| {
        assert!(e.contains("ConvTranspose_y") && e.contains(what), "{e}");
    };
    // Weight with 3 input channels on a 2-channel input.
    let mut b = GraphBuilder::new("x", &[1, 2, 3, 4]);
    b.init_f32("w", &[3, 3, 3, 2], &[0.25; 54]);
    b.node("ConvTranspose", &["x", "w"], &["y"], vec![]);
    named(&refusal(&b.finish(&["y"], 13)), "input channels");
    // Groups not dividing the input channels.
    named(
        &refusal(&model(&g, &k, None, vec![attr_int("group", 3)])),
        "group",
    );
    // Bias of the wrong length.
    let mut b = GraphBuilder::new("x", &[1, 2, 3, 4]);
    b.init_f32("w", &[2, 3, 3, 2], &k)
        .init_f32("b", &[2], &[1.0, 2.0]);
    b.node("ConvTranspose", &["x", "w", "b"], &["y"], vec![]);
    named(&refusal(&b.finish(&["y"], 13)), "bias");
    // output_shape larger than the positions the geometry covers (5 × 5).
    named(
        &refusal(&model(
            &g,
            &k,
            None,
            vec![attr_ints("output_shape", &[9, 5])],
        )),
        "output size",
    );
    // output_shape of the wrong rank, and not positive.
    named(
        &refusal(&model(&g, &k, None, vec![attr_ints("output_shape", &[5])])),
        "output_shape",
    );
    named(
        &refusal(&model(
            &g,
            &k,
            None,
            vec![attr_ints("output_shape", &[0, 5])],
        )),
        "output_shape",
    );
    // output_padding not below max(stride, dilation).
    named(
        &refusal(&model(
            &g,
            &k,
            None,
            vec![attr_ints("output_padding", &[1, 0])],
        )),
        "output_padding",
    );
    // Pads that leave no output.
    named(
        &refusal(&model(&g, &k, None, vec![attr_ints("pads", &[3, 0, 3, 0])])),
        "no output",
    );
    // kernel_shape disagreeing with the weight; bad auto_pad; wrong pads length.
    named(
        &refusal(&model(
            &g,
            &k,
            None,
            vec![attr_ints("kernel_shape", &[2, 2])],
        )),
        "kernel_shape",
    );
    named(
        &refusal(&model(&g, &k, None, vec![attr_string("auto_pad", "SAME")])),
        "auto_pad",
    );
    named(
        &refusal(&model(&g, &k, None, vec![attr_ints("pads", &[1, 1])])),
        "pads",
    );
    // A 3-D transposed convolution is refused as unsupported.
    let mut b = GraphBuilder::new("x", &[1, 1, 2, 2, 2]);
    b.init_f32("w", &[1, 1, 2, 2, 2], &[0.5; 8]);
    b.node("ConvTranspose", &["x", "w"], &["y"], vec![]);
    named(&refusal(&b.finish(&["y"], 13)), "3-D");
}

#[test]
fn the_cli_refuses_a_malformed_conv_transpose_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let g = BASE;
    let (k, _) = weights(&g, 11, false);
    let p = dir.path().join("bad.onnx");
    std::fs::write(
        &p,
        model(&g, &k, None, vec![attr_ints("output_shape", &[9, 5])]),
    )
    .unwrap();
    for cmd in ["certify", "conv"] {
        let o = run(&[cmd, p.to_str().unwrap()]);
        assert_eq!(o.code, 2, "{cmd}: {}", o.stderr);
        assert!(o.stderr.contains("ConvTranspose_y"), "{}", o.stderr);
        assert_eq!(o.stderr.trim().lines().count(), 1, "{}", o.stderr);
    }
}

#[test]
fn lipcert_conv_lists_conv_transpose_nodes_as_transposed() {
    let dir = tempfile::tempdir().unwrap();
    let g = Geo {
        stride: (2, 1),
        pads: [1, 0, 0, 1],
        ..BASE
    };
    let (k, b) = weights(&g, 12, true);
    let p = dir.path().join("ct.onnx");
    let attrs = vec![
        attr_ints("strides", &[2, 1]),
        attr_ints("pads", &[1, 0, 0, 1]),
    ];
    std::fs::write(&p, model(&g, &k, b.as_deref(), attrs)).unwrap();
    let o = run(&["conv", p.to_str().unwrap(), "--json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let lines: Vec<serde_json::Value> = o
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    let r = &lines[0];
    assert_eq!(r["node"], "ConvTranspose_y");
    assert_eq!(r["transposed"], true);
    assert_eq!(r["tensor"], "w");
    // The adjoint convolution C: 3 → 2 channels on the 5×4 output grid,
    // (2·2 + 3 − 1 = 6 rows, 3 + 2 − 1 = 4 columns), same pads.
    assert_eq!(g.out(), (6, 4));
    assert_eq!(
        r["operator"],
        "conv2d 3->2 k3x2 in 6x4 stride 2x1 pad (1,0,0,1) zeros dil 1x1 groups 1 -> 3x4"
    );
    let (lo, up) = (r["lower"].as_f64().unwrap(), r["upper"].as_f64().unwrap());
    assert!(contains_sigma(&explicit(&g, &k), lo, up).unwrap());
    let t = run(&["conv", p.to_str().unwrap()]);
    assert_eq!(t.code, 0, "{}", t.stderr);
    assert!(
        t.stdout.contains("transposed: adjoint of conv2d 3->2"),
        "{}",
        t.stdout
    );
}

#[test]
fn spec_front_end_gives_the_onnx_bound_on_the_same_weights() {
    // torch.nn.ConvTranspose2d(4, 4, (3, 2), stride=(2, 1), padding=(1, 0),
    // output_padding=(1, 0), groups=2, dilation=(1, 2)).
    let g = Geo {
        c_in: 4,
        c_out_g: 2,
        groups: 2,
        stride: (2, 1),
        dil: (1, 2),
        pads: [1, 0, 1, 0],
        op: (1, 0),
        ..BASE
    };
    let (k, b) = weights(&g, 13, true);
    let attrs = vec![
        attr_int("group", 2),
        attr_ints("strides", &[2, 1]),
        attr_ints("dilations", &[1, 2]),
        attr_ints("pads", &[1, 0, 1, 0]),
        attr_ints("output_padding", &[1, 0]),
    ];
    let onnx = check(&g, &model(&g, &k, b.as_deref(), attrs), &k, b.as_deref());
    let spec = NetworkSpec::from_json(
        r#"{"weights": "-", "input_shape": [4, 3, 4], "layers": [
            {"type": "conv_transpose2d", "weight": "w", "bias": "b", "stride": [2, 1],
             "padding": [1, 0], "output_padding": [1, 0], "groups": 2, "dilation": [1, 2]}]}"#,
    )
    .unwrap();
    let mut w = Weights::new();
    w.insert(
        "w",
        Tensor::new(g.weight_shape(), k.iter().map(|&v| v as f64).collect()).unwrap(),
    );
    w.insert(
        "b",
        Tensor::new(
            vec![g.c_out()],
            b.as_ref().unwrap().iter().map(|&v| v as f64).collect(),
        )
        .unwrap(),
    );
    let mut net = Network::from_spec(&spec, &w).unwrap();
    assert_eq!(net.output_shape(), onnx.output_shape());
    let x = Lcg(99).vec(g.n_in(), 1.0);
    assert_eq!(forward(&net, &x).unwrap(), forward(&onnx, &x).unwrap());
    certify_layers(&mut net, &SigmaOptions::default(), &mut |_, _| {}).unwrap();
    let (a, bnd) = (
        net.nodes[0].bound.as_ref().unwrap(),
        onnx.nodes[0].bound.as_ref().unwrap(),
    );
    assert_eq!((a.lower, a.upper), (bnd.lower, bnd.upper));
    assert_eq!(net.nodes[0].kind, "conv_transpose2d");
    // A spec weight with the wrong channel count names the layer.
    let bad = NetworkSpec::from_json(
        r#"{"weights": "-", "input_shape": [3, 3, 4], "layers": [
            {"type": "conv_transpose2d", "weight": "w"}]}"#,
    )
    .unwrap();
    let e = Network::from_spec(&bad, &w).unwrap_err().to_string();
    assert!(
        e.contains("conv_transpose2d") && e.contains("input channels"),
        "{e}"
    );
}

/// LipLT and the multiplier take ConvTranspose layers as linear maps (their
/// explicit products, with Cᵀ's own rounding bound): on ConvTranspose → ReLU
/// → ConvTranspose every method stays above certified pair ratios and at or
/// below the product, and LipLT's product term makes it strictly smaller.
#[test]
fn bound_methods_use_conv_transpose_as_a_linear_layer() {
    use lipcert::network::bounds::{network_bounds, BoundMethod};
    use lipcert::network::lower_bounds::rigorous_pair_ratio;
    let mut rng = Lcg(7);
    let net = common::net::random_certified(
        r#"{"weights": "-", "input_shape": [2, 3, 3], "layers": [
            {"type": "conv_transpose2d", "weight": "w1", "bias": "b1", "stride": 2, "padding": 1},
            {"type": "relu"},
            {"type": "conv_transpose2d", "weight": "w2", "padding": 1}]}"#,
        &[("w1", &[2, 3, 3, 3]), ("b1", &[3]), ("w2", &[3, 2, 3, 3])],
        &mut rng,
        1.0,
    );
    let (b, _) = network_bounds(&net, &BoundMethod::ALL, &SigmaOptions::default()).unwrap();
    let (liplt, mult) = (b.liplt.unwrap(), b.multiplier.unwrap());
    assert!(liplt < b.product, "liplt {liplt} vs product {}", b.product);
    assert!(
        mult <= b.product,
        "multiplier {mult} vs product {}",
        b.product
    );
    let n = net.input_len();
    for k in 0..40 {
        let x = rng.vec(n, 2.0);
        let d = [1.0, 1e-2, 1e-4, 1e-6][k % 4];
        let y: Vec<f64> = x.iter().zip(rng.vec(n, d)).map(|(a, e)| a + e).collect();
        let r = rigorous_pair_ratio(&net, &x, &y).unwrap();
        assert!(
            r <= liplt && r <= mult,
            "pair ratio {r}: liplt {liplt}, multiplier {mult}"
        );
    }
}
