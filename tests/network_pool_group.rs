//! The joint bound of convolution → batch norm? → activation? → overlapping
//! max pool (src/network/pool_group.rs): against the exact weighted
//! quantity it bounds (‖W·C‖ with W = |d|·λ·√coverage, dense, on random
//! geometries), against certified pair ratios of the layers it covers,
//! attained by a spike, and tighter than the pool's constant times the rest
//! where coverage varies (MTCNN's 3×3/2 pools).

mod common;
use common::lcg::Lcg;
use lipcert::network::certify::certify_layers;
use lipcert::network::elementwise::Elementwise;
use lipcert::network::layer::{Layer, Network};
use lipcert::network::lower_bounds::rigorous_pair_ratio;
use lipcert::network::{NetworkSpec, Tensor, Weights};
use lipcert::{sigma, DenseMatrix, SigmaOptions};
use proptest::prelude::*;

/// One conv → (bn) → (PReLU / ReLU) → max-pool stack.
#[derive(Debug, Clone)]
struct Case {
    c_in: usize,
    c_out: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    dilation: usize,
    hw: usize,
    bn: bool,
    /// 0: none, 1: ReLU, 2: PReLU with per-channel slopes.
    act: usize,
    pool: (usize, usize, usize),
    seed: u64,
}

/// The certified network of a case, and the per-channel PReLU slopes.
fn build(case: &Case) -> (Network, Vec<f64>) {
    let mut rng = Lcg(case.seed | 1);
    let mut w = Weights::new();
    let shape = vec![case.c_out, case.c_in, case.kernel, case.kernel];
    let n = shape.iter().product();
    w.insert("k", Tensor::new(shape, rng.vec(n, 0.5)).unwrap());
    let mut layers = vec![format!(
        r#"{{"type": "conv2d", "weight": "k", "stride": {}, "padding": {}, "dilation": {}}}"#,
        case.stride, case.padding, case.dilation
    )];
    if case.bn {
        let c = case.c_out;
        w.insert("g", Tensor::new(vec![c], rng.vec(c, 2.0)).unwrap());
        w.insert("b", Tensor::new(vec![c], rng.vec(c, 0.1)).unwrap());
        w.insert("m", Tensor::new(vec![c], rng.vec(c, 0.1)).unwrap());
        let var = (0..c).map(|_| 0.3 + rng.next().abs()).collect();
        w.insert("v", Tensor::new(vec![c], var).unwrap());
        layers.push(
            r#"{"type": "batchnorm2d", "weight": "g", "bias": "b", "running_mean": "m", "running_var": "v"}"#
                .into(),
        );
    }
    if case.act > 0 {
        layers.push(r#"{"type": "relu"}"#.into());
    }
    let (k, s, p) = case.pool;
    layers.push(format!(
        r#"{{"type": "maxpool2d", "kernel": {k}, "stride": {s}, "padding": {p}}}"#
    ));
    let spec = NetworkSpec::from_json(&format!(
        r#"{{"weights": "generated", "input_shape": [{}, {}, {}], "layers": [{}]}}"#,
        case.c_in,
        case.hw,
        case.hw,
        layers.join(",")
    ))
    .unwrap();
    let mut net = Network::from_spec(&spec, &w).unwrap();
    let slopes: Vec<f64> = (0..case.c_out).map(|_| 1.5 * rng.next()).collect();
    if case.act == 2 {
        let act = &mut net.nodes[1 + case.bn as usize];
        let per = act.shape_in.iter().product::<usize>() / case.c_out;
        let coords = slopes
            .iter()
            .flat_map(|a| std::iter::repeat_n(*a, per))
            .collect();
        act.layer = Layer::Elementwise(Box::new(Elementwise::PRelu { slopes: coords }));
    }
    certify_layers(&mut net, &SigmaOptions::default(), &mut |_, _| {}).unwrap();
    (net, slopes)
}

/// A certified lower bound on ‖W·C‖, W = diag(|d_c|·λ_c·√κ(i, j)) with the
/// pool's actual coverage κ (the quantity the theorem bounds, before the
/// periodic relaxation and the phase convolution).
fn weighted_norm_lower(net: &Network, case: &Case, slopes: &[f64]) -> f64 {
    let Layer::Conv2d(conv) = &net.nodes[0].layer else {
        panic!("conv first")
    };
    let (mut dense, rows, cols) = common::net::dense_conv(conv);
    let mut scale = vec![1.0; case.c_out];
    if let Layer::BatchNorm {
        gamma, var, eps, ..
    } = &net.nodes[1].layer
    {
        for (c, s) in scale.iter_mut().enumerate() {
            *s = (gamma[c] / (var[c] + eps).sqrt()).abs();
        }
    }
    if case.act == 2 {
        for (s, a) in scale.iter_mut().zip(slopes) {
            *s *= a.abs().max(1.0);
        }
    }
    let Some(Layer::MaxPool2d { pool, .. }) = net.nodes.last().map(|n| &n.layer) else {
        panic!("pool last")
    };
    // κ from the pool's geometry (PyTorch's window j = [j·s − p, j·s − p + k)),
    // independently of the library's window lists.
    let (k, st, p) = case.pool;
    let outs = pool.rows.output_len();
    let kr: Vec<usize> = (0..pool.rows.input_len)
        .map(|i| {
            (0..outs)
                .filter(|&j| j * st <= i + p && i + p < j * st + k)
                .count()
        })
        .collect();
    let ks = kr.clone();
    let (h, wd) = conv.out_hw;
    assert_eq!((kr.len(), ks.len()), (h, wd));
    for (row, values) in dense.chunks_mut(cols).enumerate() {
        let (c, i, j) = (row / (h * wd), row / wd % h, row % wd);
        let wgt = scale[c] * ((kr[i] * ks[j]) as f64).sqrt();
        for v in values {
            *v *= wgt;
        }
    }
    let m = DenseMatrix::from_row_major(rows, cols, &dense).unwrap();
    sigma(&m, &SigmaOptions::default()).unwrap().lower()
}

fn case() -> impl Strategy<Value = Case> {
    (
        (1usize..=2, 1usize..=3, 1usize..=3, 1usize..=2),
        (
            0usize..=1,
            1usize..=2,
            5usize..=9,
            any::<bool>(),
            0usize..=2,
        ),
        ((2usize..=3, 1usize..=3, 0usize..=1), any::<u64>()),
    )
        .prop_map(
            |((c_in, c_out, kernel, stride), (padding, dilation, hw, bn, act), (pool, seed))| {
                Case {
                    c_in,
                    c_out,
                    kernel,
                    stride,
                    padding,
                    dilation,
                    hw,
                    bn,
                    act,
                    pool,
                    seed,
                }
            },
        )
        .prop_filter("geometry fits", |c| {
            let span = c.dilation * (c.kernel - 1) + 1;
            if c.hw + 2 * c.padding < span {
                return false;
            }
            let out = (c.hw + 2 * c.padding - span) / c.stride + 1;
            let (k, _, p) = c.pool;
            out + 2 * p >= k && p <= k / 2
        })
}

proptest! {
    #![proptest_config(common::soundness::config(48, 0x706f_6f6c))]

    /// The group bound lies above the exact weighted norm and above every
    /// certified pair ratio of the layers it covers; the network's product
    /// uses it only where it is smaller.
    #[test]
    fn group_bound_lies_above_weighted_norm_and_pairs(c in case()) {
        let (net, slopes) = build(&c);
        let b0 = net.nodes[0].bound.clone().unwrap();
        let overlapping = matches!(&net.nodes.last().unwrap().layer,
            Layer::MaxPool2d { pool, .. } if pool.rows.max_cover() > 1 || pool.cols.max_cover() > 1);
        let Some((span, group)) = b0.group_upper else {
            prop_assert!(!overlapping, "no group bound on an overlapping pool");
            return Ok(());
        };
        prop_assert_eq!(span, net.nodes.len());
        let exact = weighted_norm_lower(&net, &c, &slopes);
        prop_assert!(group >= exact * (1.0 - 1e-12), "group {group} < weighted norm {exact}");
        let mut rng = Lcg(c.seed ^ 0x9e37);
        let n = net.input_len();
        for k in 0..6 {
            let x = rng.vec(n, 2.0);
            let d = [1.0, 1e-3, 1e-6][k % 3];
            let y: Vec<f64> = x.iter().map(|v| v + d * rng.next()).collect();
            let r = rigorous_pair_ratio(&net, &x, &y).unwrap();
            prop_assert!(r <= group, "pair ratio {r} > group {group}");
        }
        let (composed, _) = lipcert::network::lipschitz::composed_upper(&net.nodes).unwrap();
        let plain: f64 = net.nodes.iter().map(|n| n.bound.as_ref().unwrap().upper).product();
        prop_assert!(composed <= group.min(plain * (1.0 + 1e-12)));
    }
}

/// A 1×1 single-channel convolution by w before a 3×3/2 pool: the spike at
/// a position covered by four windows attains Lip = 2|w|, and the group
/// bound reaches it (to rounding).
#[test]
fn spike_attains_the_group_bound() {
    let c = Case {
        c_in: 1,
        c_out: 1,
        kernel: 1,
        stride: 1,
        padding: 0,
        dilation: 1,
        hw: 9,
        bn: false,
        act: 1,
        pool: (3, 2, 0),
        seed: 7,
    };
    let (net, _) = build(&c);
    let Layer::Conv2d(conv) = &net.nodes[0].layer else {
        panic!()
    };
    let w = conv.kernel[0].abs();
    let (_, group) = net.nodes[0].bound.as_ref().unwrap().group_upper.unwrap();
    assert!(
        group >= 2.0 * w && group <= 2.0 * w * (1.0 + 1e-12),
        "{group} vs {w}"
    );
    // The spike at (2, 2) (covered by windows 0 and 1 on each axis).
    let mut x = vec![0.0; 81];
    let mut y = x.clone();
    y[2 * 9 + 2] = if conv.kernel[0] > 0.0 { 1.0 } else { -1.0 };
    x[0] = 0.0;
    let r = rigorous_pair_ratio(&net, &x, &y).unwrap();
    assert!(r >= 2.0 * w * (1.0 - 1e-12) && r <= group, "{r} {group}");
}

/// Where coverage alternates 2, 1 along each axis (3×3/2 pool), a random
/// tall convolution's energy spreads over the phases: the group bound is
/// well below the pool's constant 2 times the convolution's (measured
/// 0.6–0.8 of it on such layers; MTCNN's RNet network bound 1938 → 1351).
#[test]
fn group_bound_beats_the_pool_constant_on_a_tall_convolution() {
    for seed in 1..=3 {
        let c = Case {
            c_in: 3,
            c_out: 12,
            kernel: 3,
            stride: 1,
            padding: 0,
            dilation: 1,
            hw: 14,
            bn: true,
            act: 2,
            pool: (3, 2, 0),
            seed,
        };
        let (net, _) = build(&c);
        let b = |i: usize| net.nodes[i].bound.clone().unwrap();
        let conv_bn = b(0).with_next_upper.unwrap_or(b(0).upper * b(1).upper);
        let separate = conv_bn * b(2).upper * b(3).upper;
        let (_, group) = b(0).group_upper.unwrap();
        assert!(group < 0.9 * separate, "seed {seed}: {group} vs {separate}");
    }
}
