//! Property tests of the network bounds (issue 5): the Lipschitz inequality
//! on random networks and pairs (evaluated soundly), the composition bound
//! against every empirical lower bound, certified-normalized networks, the
//! max-pool spike, and conv layers against an independent direct convolution
//! and the explicit matrix.

mod common;

use lipcert::network::certify::{certify_layers, certify_network_with, CertifyOptions};
use lipcert::network::conv_layer::ConvLayer;
use lipcert::network::evaluate::{
    forward, forward_with_error, forward_with_error_accurate, jvp, vjp,
};
use lipcert::network::lipschitz::composed_upper;
use lipcert::network::lower_bounds::{rigorous_pair_ratio, LowerBoundOptions};
use lipcert::network::spec::{IntOrPair, LayerSpec, NetworkSpec};
use lipcert::network::strategies::{conv_case, mlp, small_cnn, ConvCase};
use lipcert::network::{Network, Tensor, Weights};
use lipcert::normalize::{deviation_from_one, spectral_normalize};
use lipcert::rounding::{add_up, mul_up};
use lipcert::{DenseMatrix, SigmaOptions};
use proptest::prelude::*;

fn config(cases: u32) -> proptest::test_runner::Config {
    common::soundness::config(cases, 0x6e65_7421)
}

fn certified(spec: &NetworkSpec, w: &Weights) -> Network {
    let mut net = Network::from_spec(spec, w).unwrap();
    certify_layers(&mut net, &SigmaOptions::default(), &mut |_, _| {}).unwrap();
    net
}

fn pseudo_random(n: usize, seed: u64, scale: f64) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            scale * (((s >> 11) as f64) / (1u64 << 53) as f64 * 2.0 - 1.0)
        })
        .collect()
}

/// Sound check of ‖f(x) − f(y)‖ ≤ L‖x − y‖: `rigorous_pair_ratio` is a
/// certified lower bound on the exact ratio (computed difference rounded
/// down, minus the certified forward errors of both evaluations, over the
/// input distance rounded up), so if it exceeds the certified L the bound is
/// wrong — rounding cannot cause a false alarm.
fn check_pairs(net: &Network, seed: u64) -> Result<(), TestCaseError> {
    let (upper, _) = composed_upper(&net.nodes).unwrap();
    let n = net.input_len();
    for k in 0..6u64 {
        let x = pseudo_random(n, seed ^ k, 2.0);
        let scale = [1.0, 1e-3, 1e-7][k as usize % 3];
        let y: Vec<f64> = x
            .iter()
            .zip(pseudo_random(n, seed.rotate_left(7) ^ k, scale))
            .map(|(a, b)| a + b)
            .collect();
        let r = rigorous_pair_ratio(net, &x, &y).unwrap();
        prop_assert!(
            r <= upper,
            "certified pair ratio {r} exceeds the network bound {upper}"
        );
        // The plain floating-point inequality with the certified error terms.
        let (fx, ex) = forward_with_error(net, &x).unwrap();
        let (fy, ey) = forward_with_error(net, &y).unwrap();
        let df: f64 = fx
            .iter()
            .zip(&fy)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt();
        let dx: f64 = x
            .iter()
            .zip(&y)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt();
        prop_assert!(df <= upper * dx * (1.0 + 1e-12) + ex + ey + 1e-300);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(24))]

    #[test]
    fn lipschitz_inequality_random_mlps((spec, w) in mlp(5, 4), seed in any::<u64>()) {
        let net = certified(&spec, &w);
        check_pairs(&net, seed)?;
    }
}

proptest! {
    #![proptest_config(config(8))]

    #[test]
    fn lipschitz_inequality_random_cnns((spec, w) in small_cnn(), seed in any::<u64>()) {
        let net = certified(&spec, &w);
        check_pairs(&net, seed)?;
    }

    #[test]
    fn composition_bound_dominates_every_lower_bound((spec, w) in mlp(4, 3)) {
        let options = CertifyOptions {
            lower: Some(LowerBoundOptions { pairs: 16, jacobian_points: 3, power_steps: 10, ascent_steps: 10, ..LowerBoundOptions::default() }),
            ..CertifyOptions::default()
        };
        let report = certify_network_with(&spec, &w, &options, &mut |_, _| {}).unwrap();
        let src = report.lower_sources.clone().unwrap();
        for l in [report.lower, src.sampled_pairs, src.jacobian_pairs, src.gradient_ascent] {
            prop_assert!(l <= report.upper, "lower {l} > upper {}", report.upper);
        }
        // The floating-point Jacobian estimate is not a bound, but it can only
        // exceed the certified bound by rounding.
        prop_assert!(src.jacobian_estimate <= report.upper * (1.0 + 1e-9));
        for layer in &report.layers {
            prop_assert!(layer.lower <= layer.upper);
        }
    }

    #[test]
    fn jvp_and_vjp_are_adjoint((spec, w) in mlp(5, 3), seed in any::<u64>()) {
        let net = Network::from_spec(&spec, &w).unwrap();
        let x = pseudo_random(net.input_len(), seed, 1.0);
        let v = pseudo_random(net.input_len(), seed ^ 1, 1.0);
        let g = pseudo_random(net.output_len(), seed ^ 2, 1.0);
        let (_, jv) = jvp(&net, &x, &v).unwrap();
        let jtg = vjp(&net, &x, &g).unwrap();
        let a: f64 = jv.iter().zip(&g).map(|(a, b)| a * b).sum();
        let b: f64 = v.iter().zip(&jtg).map(|(a, b)| a * b).sum();
        prop_assert!((a - b).abs() <= 1e-10 * (1.0 + a.abs()), "<Jv,g> = {a}, <v,J^T g> = {b}");
        // and J v matches a central difference of the forward pass
        let h = 1e-6;
        let xp: Vec<f64> = x.iter().zip(&v).map(|(x, v)| x + h * v).collect();
        let xm: Vec<f64> = x.iter().zip(&v).map(|(x, v)| x - h * v).collect();
        let (fp, fm) = (forward(&net, &xp).unwrap(), forward(&net, &xm).unwrap());
        let fmax = fp.iter().chain(&fm).fold(0.0f64, |a, b| a.max(b.abs()));
        for (i, j) in jv.iter().enumerate() {
            let fd = (fp[i] - fm[i]) / (2.0 * h);
            // A ReLU kink within 1e-6 of x has probability ~1e-6 per unit;
            // the tolerance covers O(h²) truncation and u·|f|/h rounding.
            prop_assert!((fd - j).abs() <= 1e-6 * (1.0 + j.abs() + fmax), "J v [{i}] = {j}, difference quotient {fd}");
        }
    }

    #[test]
    fn conv_layer_matches_direct_definition_and_explicit_matrix(case in conv_case(), seed in any::<u64>()) {
        let conv = conv_of(&case);
        let x = pseudo_random(conv.input_len(), seed, 1.0);
        let direct = direct_conv(&case, &x);
        // the conv module's operator (what networks evaluate) and the
        // independent tap enumeration both agree with the textbook definition
        let ours = conv.apply_linear(&x);
        let taps = conv.apply_by_taps(&x).unwrap();
        prop_assert_eq!(ours.len(), direct.len());
        for ((a, t), b) in ours.iter().zip(&taps).zip(&direct) {
            prop_assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()));
            prop_assert!((t - b).abs() <= 1e-12 * (1.0 + b.abs()));
        }
        let m = conv.explicit_matrix().unwrap().unwrap();
        for (i, d) in direct.iter().enumerate() {
            let row: f64 = (0..m.ncols()).map(|j| m.get(i, j) * x[j]).sum();
            prop_assert!((row - d).abs() <= 1e-12 * (1.0 + d.abs()));
        }
        // adjoint identity
        let g = pseudo_random(conv.output_len(), seed ^ 9, 1.0);
        let t = conv.apply_transposed(&g);
        let a: f64 = ours.iter().zip(&g).map(|(a, b)| a * b).sum();
        let b: f64 = x.iter().zip(&t).map(|(a, b)| a * b).sum();
        prop_assert!((a - b).abs() <= 1e-10 * (1.0 + a.abs()));
        // the certified conv bound is the certified sigma of the explicit matrix,
        // and the fallback sqrt(l1 linf) bound dominates it
        let (lo, up, _) = conv.lipschitz().unwrap();
        let e = lipcert::sigma(&m, &SigmaOptions::default()).unwrap();
        prop_assert!(lo <= e.upper() && e.lower() <= up);
        prop_assert!(conv.abs_norm_up() >= e.lower());
        if m.nrows().min(m.ncols()) <= 24 {
            prop_assert!(lipcert::exact::contains_sigma(&m, lo, up).unwrap());
        }
    }
}

/// Both evaluations bound their distance to the exact f(x), so the plain
/// and the compensated (Dot2) one must lie within the sum of their bounds
/// of each other. The plain bound carries its input error through a conv +
/// batch-norm pair by their joint bound and through a residual block by
/// the block's own constant (`evaluate` module docs); an error bound that
/// came out too small shows here once the plain rounding is visible, as on
/// inputs of mixed scale.
fn check_forward_error(net: &Network, seed: u64) -> Result<(), TestCaseError> {
    let n = net.input_len();
    for (k, scale) in [1.0, 2f64.powi(24), 2f64.powi(-24)].into_iter().enumerate() {
        let mut x = pseudo_random(n, seed ^ k as u64, scale);
        // Entries of very different magnitudes make the plain sums round.
        for (i, v) in x.iter_mut().enumerate().step_by(3) {
            *v *= [1e8, 1e-8][i % 2];
        }
        let (plain, e) = forward_with_error(net, &x).unwrap();
        let (accurate, ea) = forward_with_error_accurate(net, &x, 1).unwrap();
        let d = plain
            .iter()
            .zip(&accurate)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt();
        prop_assert!(
            d <= add_up(e, ea) * (1.0 + 1e-12),
            "plain and compensated differ by {d:e} > {e:e} + {ea:e}"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn forward_error_covers_the_compensated_evaluation_on_cnns(
        (spec, w) in small_cnn(),
        seed in any::<u64>(),
    ) {
        check_forward_error(&certified(&spec, &w), seed)?;
    }

    #[test]
    fn forward_error_covers_the_compensated_evaluation_on_mlps(
        (spec, w) in mlp(6, 4),
        seed in any::<u64>(),
    ) {
        check_forward_error(&certified(&spec, &w), seed)?;
    }
}

fn conv_of(c: &ConvCase) -> ConvLayer {
    ConvLayer::new(
        c.kernel.clone(),
        [c.c_out, c.c_in / c.groups, c.kernel_hw.0, c.kernel_hw.1],
        None,
        c.c_in,
        c.in_hw,
        c.stride,
        (c.padding.0, c.padding.0, c.padding.1, c.padding.1),
        c.dilation,
        c.groups,
    )
    .unwrap()
}

/// Textbook cross-correlation on an explicitly zero-padded input (written
/// independently of ConvLayer's tap enumeration).
fn direct_conv(c: &ConvCase, x: &[f64]) -> Vec<f64> {
    let (h, w) = c.in_hw;
    let (ph, pw) = c.padding;
    let (hp, wp) = (h + 2 * ph, w + 2 * pw);
    let mut padded = vec![0.0; c.c_in * hp * wp];
    for ch in 0..c.c_in {
        for i in 0..h {
            for j in 0..w {
                padded[(ch * hp + i + ph) * wp + j + pw] = x[(ch * h + i) * w + j];
            }
        }
    }
    let (kh, kw) = c.kernel_hw;
    let (dh, dw) = c.dilation;
    let oh = (hp - dh * (kh - 1) - 1) / c.stride.0 + 1;
    let ow = (wp - dw * (kw - 1) - 1) / c.stride.1 + 1;
    let cig = c.c_in / c.groups;
    let cog = c.c_out / c.groups;
    let mut out = vec![0.0; c.c_out * oh * ow];
    for co in 0..c.c_out {
        for r in 0..oh {
            for s in 0..ow {
                let mut acc = 0.0;
                for cl in 0..cig {
                    let ci = (co / cog) * cig + cl;
                    for a in 0..kh {
                        for b in 0..kw {
                            let k = c.kernel[((co * cig + cl) * kh + a) * kw + b];
                            acc += k * padded[(ci * hp + r * c.stride.0 + a * dh) * wp
                                + s * c.stride.1
                                + b * dw];
                        }
                    }
                }
                out[(co * oh + r) * ow + s] = acc;
            }
        }
    }
    out
}

#[test]
fn normalized_network_bound_is_at_most_one_plus_reported_width() {
    // Three certified-normalized linear layers with ReLU, tanh and
    // LeakyReLU(0.2) (all 1-Lipschitz): the network bound must be ≤ the
    // product of (1 + certified deviation) of the layers.
    let dims = [6usize, 5, 7, 4];
    let mut w = Weights::new();
    let mut layers = Vec::new();
    let mut allowed = 1.0f64;
    for i in 0..3 {
        let raw = pseudo_random(dims[i + 1] * dims[i], 77 + i as u64, 3.0);
        let m = DenseMatrix::from_row_major(dims[i + 1], dims[i], &raw).unwrap();
        let (normalized, enc) = spectral_normalize(&m).unwrap();
        let dev = deviation_from_one(&enc);
        assert!(dev < 1e-8, "normalization deviation {dev}");
        allowed = mul_up(allowed, add_up(1.0, dev));
        let name = format!("l{i}.weight");
        w.insert(
            name.clone(),
            Tensor::new(vec![dims[i + 1], dims[i]], normalized.to_row_major()).unwrap(),
        );
        layers.push(LayerSpec::Linear {
            weight: name,
            bias: None,
        });
        layers.push(match i {
            0 => LayerSpec::Relu,
            1 => LayerSpec::Tanh,
            _ => LayerSpec::LeakyRelu {
                negative_slope: 0.2,
            },
        });
    }
    let spec = NetworkSpec {
        weights: "-".into(),
        input_shape: vec![dims[0]],
        layers,
    };
    let report =
        certify_network_with(&spec, &w, &CertifyOptions::default(), &mut |_, _| {}).unwrap();
    assert!(
        report.upper <= allowed,
        "bound {} > allowed {}",
        report.upper,
        allowed
    );
    // The product of the normalized layers is 1 (up to the widths); `upper`
    // is the smallest method and may be below it (LipLT sees that the layers'
    // top singular vectors do not line up).
    assert!(report.bounds.product >= 1.0 - 1e-8);
    assert!(report.upper <= report.bounds.product);
    assert!(report.lower <= report.upper);
}

#[test]
fn maxpool_sqrt_m_is_attained_by_a_single_spike() {
    // kernel 3, stride 1, padding 1 on 5x5: the centre is in 3x3 = 9 windows.
    for (kernel, stride, padding, side, m) in [
        (3usize, 1usize, 1usize, 5usize, 9usize),
        (2, 1, 0, 4, 4),
        (3, 2, 1, 7, 4),
        (2, 2, 0, 4, 1),
    ] {
        let spec = NetworkSpec {
            weights: "-".into(),
            input_shape: vec![1, side, side],
            layers: vec![LayerSpec::Maxpool2d {
                kernel: IntOrPair::One(kernel),
                stride: Some(IntOrPair::One(stride)),
                padding: IntOrPair::One(padding),
                dilation: IntOrPair::One(1),
                ceil_mode: false,
            }],
        };
        let net = certified(&spec, &Weights::new());
        let b = net.nodes[0].bound.clone().unwrap();
        let root = (m as f64).sqrt();
        assert!(
            b.lower <= root && root <= b.upper && b.upper - b.lower < 1e-15,
            "{b:?} vs sqrt({m})"
        );
        // find the spike position that attains it: try every position.
        let n = side * side;
        let zero = vec![0.0; n];
        let f0 = forward(&net, &zero).unwrap();
        let mut best = 0.0f64;
        for p in 0..n {
            let mut e = zero.clone();
            e[p] = 1.0;
            let fe = forward(&net, &e).unwrap();
            let d2: f64 = fe.iter().zip(&f0).map(|(a, b)| (a - b) * (a - b)).sum();
            best = best.max(d2);
        }
        // squared output difference is an exact integer count of windows
        assert_eq!(
            best, m as f64,
            "kernel {kernel} stride {stride} padding {padding} side {side}"
        );
    }
}

proptest! {
    #![proptest_config(config(12))]

    /// conv followed by batch norm: the folded joint bound is at most the
    /// product of the layer bounds and at least σ(D·A) (computed from the
    /// explicit matrix of the exactly folded map, certified lower bound).
    #[test]
    fn folded_conv_batchnorm_bound_is_sound_and_tighter(case in conv_case(), seed in any::<u64>()) {
        let c = &case;
        let mut w = Weights::new();
        w.insert("k", Tensor::new(vec![c.c_out, c.c_in / c.groups, c.kernel_hw.0, c.kernel_hw.1], c.kernel.clone()).unwrap());
        let gamma = pseudo_random(c.c_out, seed, 2.0);
        let var: Vec<f64> = pseudo_random(c.c_out, seed ^ 3, 1.0).iter().map(|v| v.abs() + 0.1).collect();
        w.insert("g", Tensor::new(vec![c.c_out], gamma.clone()).unwrap());
        w.insert("m", Tensor::new(vec![c.c_out], vec![0.0; c.c_out]).unwrap());
        w.insert("v", Tensor::new(vec![c.c_out], var.clone()).unwrap());
        let spec = NetworkSpec::from_json(&format!(
            r#"{{"weights": "-", "input_shape": [{}, {}, {}], "layers": [
                {{"type": "conv2d", "weight": "k", "stride": [{}, {}], "padding": [{}, {}], "dilation": [{}, {}], "groups": {}}},
                {{"type": "batchnorm2d", "weight": "g", "running_mean": "m", "running_var": "v"}}]}}"#,
            c.c_in, c.in_hw.0, c.in_hw.1, c.stride.0, c.stride.1, c.padding.0, c.padding.1, c.dilation.0, c.dilation.1, c.groups
        )).unwrap();
        let net = certified(&spec, &w);
        let (upper, _) = composed_upper(&net.nodes).unwrap();
        let (b0, b1) = (net.nodes[0].bound.clone().unwrap(), net.nodes[1].bound.clone().unwrap());
        prop_assert!(b0.with_next_upper.is_some());
        prop_assert!(upper <= mul_up(b0.upper, b1.upper));
        // σ(D A) from the explicit matrix with rows scaled by d_c (in f64;
        // compare with a relative slack far above that rounding)
        let conv = conv_of(c);
        let m = conv.explicit_matrix().unwrap().unwrap();
        let per = conv.out_hw.0 * conv.out_hw.1;
        let scaled = DenseMatrix::from_fn(m.nrows(), m.ncols(), |i, j| {
            let ch = i / per;
            m.get(i, j) * gamma[ch] / (var[ch] + 1e-5).sqrt()
        }).unwrap();
        let e = lipcert::sigma(&scaled, &SigmaOptions::default()).unwrap();
        prop_assert!(e.lower() * (1.0 - 1e-12) <= upper, "sigma(DA) >= {} > bound {}", e.lower(), upper);
        // and the sound pair check on the two-layer network
        check_pairs(&net, seed)?;
    }
}

#[test]
fn folded_linear_batchnorm_bound_is_sound_and_tighter() {
    for seed in 0..8u64 {
        let (m, n) = (2 + seed as usize % 4, 3 + seed as usize % 3);
        let wv = pseudo_random(m * n, seed, 1.0);
        let gamma = pseudo_random(m, seed ^ 5, 3.0);
        let var: Vec<f64> = pseudo_random(m, seed ^ 6, 2.0)
            .iter()
            .map(|v| v.abs() + 0.01)
            .collect();
        let mut w = Weights::new();
        w.insert("w", Tensor::new(vec![m, n], wv.clone()).unwrap());
        w.insert("g", Tensor::new(vec![m], gamma.clone()).unwrap());
        w.insert("m", Tensor::new(vec![m], vec![0.1; m]).unwrap());
        w.insert("v", Tensor::new(vec![m], var.clone()).unwrap());
        let spec = NetworkSpec::from_json(&format!(
            r#"{{"weights": "-", "input_shape": [{n}], "layers": [
                {{"type": "linear", "weight": "w"}},
                {{"type": "batchnorm1d", "weight": "g", "running_mean": "m", "running_var": "v"}}]}}"#
        ))
        .unwrap();
        let net = certified(&spec, &w);
        let (upper, _) = composed_upper(&net.nodes).unwrap();
        let (b0, b1) = (
            net.nodes[0].bound.clone().unwrap(),
            net.nodes[1].bound.clone().unwrap(),
        );
        assert!(b0.with_next_upper.is_some());
        assert!(upper <= mul_up(b0.upper, b1.upper));
        let dw = DenseMatrix::from_fn(m, n, |i, j| {
            wv[i * n + j] * gamma[i] / (var[i] + 1e-5).sqrt()
        })
        .unwrap();
        let e = lipcert::sigma(&dw, &SigmaOptions::default()).unwrap();
        assert!(
            e.lower() * (1.0 - 1e-12) <= upper && upper <= e.upper() * (1.0 + 1e-8),
            "{e} vs {upper}"
        );
        check_pairs(&net, seed).unwrap();
    }
}
