//! The Fourier route of LipLT (issue 12, item 2): symbols of convolutions on
//! a common circular grid against explicit matrices built here by direct
//! loops, the lifting step of the theorem (a zero-padded stride-1
//! convolution is R·C·E on a large enough grid), and soundness of the
//! Fourier LipLT bound against certified pair ratios on small CNNs (plain,
//! residual, asymmetric "same" padding, dilation, LeakyReLU / tanh, huge and
//! tiny kernel scales, unpadded convolutions that shrink the image), with
//! LipLT ≤ product where that is a theorem, and against the exact constant
//! of shrinking conv → LeakyReLU → conv networks.

mod common;

use lipcert::conv::product_symbol::{GridConv, GridSymbol};
use lipcert::network::bounds::fourier::{circular_product_norm_upper, fourier_liplt, run_grid};
use lipcert::network::bounds::liplt::liplt_bound;
use lipcert::network::certify::certify_layers;
use lipcert::network::lipschitz::composed_upper;
use lipcert::network::lower_bounds::rigorous_pair_ratio;
use lipcert::network::{Network, NetworkSpec, Tensor, Weights};
use lipcert::{sigma, DenseMatrix, SigmaOptions};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngSeed};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x0066_6f75_7269_6572),
        ..ProptestConfig::default()
    }
}

/// A convolution for the explicit references: kernel (c_out, c_in/groups,
/// kh, kw) row-major, dilation, offset (top, left) padding.
#[derive(Debug, Clone)]
struct Conv {
    c_out: usize,
    c_in: usize,
    groups: usize,
    kh: usize,
    kw: usize,
    dil: (usize, usize),
    off: (usize, usize),
    k: Vec<f64>,
}

impl Conv {
    fn grid_conv(&self) -> GridConv {
        GridConv {
            c_out: self.c_out,
            c_in: self.c_in,
            groups: self.groups,
            kernel_hw: (self.kh, self.kw),
            dilation: self.dil,
            offset: self.off,
        }
    }

    /// Taps as (o, c, Δi, Δj, value): output (o, i, j) reads input
    /// (c, i + Δi, j + Δj).
    fn taps(&self) -> Vec<(usize, usize, isize, isize, f64)> {
        let (og, cg) = (self.c_out / self.groups, self.c_in / self.groups);
        let mut t = Vec::new();
        for o in 0..self.c_out {
            for cl in 0..cg {
                for a in 0..self.kh {
                    for b in 0..self.kw {
                        let v = self.k[((o * cg + cl) * self.kh + a) * self.kw + b];
                        let di = (a * self.dil.0) as isize - self.off.0 as isize;
                        let dj = (b * self.dil.1) as isize - self.off.1 as isize;
                        t.push((o, (o / og) * cg + cl, di, dj, v));
                    }
                }
            }
        }
        t
    }

    /// The circular convolution on the n₁×n₂ grid, row-major
    /// (c_out·n₁n₂) × (c_in·n₁n₂).
    fn circular(&self, n: (usize, usize)) -> Vec<f64> {
        self.explicit(n, true)
    }

    /// The zero-padded convolution on h×w images with output h×w.
    fn zero_padded(&self, hw: (usize, usize)) -> Vec<f64> {
        self.explicit(hw, false)
    }

    /// The explicit matrix on the n₁×n₂ grid: input indices wrap around
    /// (`circular`) or taps that fall outside are dropped (zero padding).
    fn explicit(&self, n: (usize, usize), circular: bool) -> Vec<f64> {
        let p = n.0 * n.1;
        let cols = self.c_in * p;
        let mut m = vec![0.0; self.c_out * p * cols];
        let source = |i: usize, d: isize, len: usize| -> Option<usize> {
            let s = i as isize + d;
            if circular {
                Some(s.rem_euclid(len as isize) as usize)
            } else {
                (0..len as isize).contains(&s).then_some(s as usize)
            }
        };
        for (o, c, di, dj, v) in self.taps() {
            for i in 0..n.0 {
                for j in 0..n.1 {
                    if let (Some(si), Some(sj)) = (source(i, di, n.0), source(j, dj, n.1)) {
                        m[(o * p + i * n.1 + j) * cols + c * p + si * n.1 + sj] += v;
                    }
                }
            }
        }
        m
    }
}

fn matmul(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for l in 0..k {
            let x = a[i * k + l];
            if x != 0.0 {
                for j in 0..n {
                    c[i * n + j] += x * b[l * n + j];
                }
            }
        }
    }
    c
}

fn enclosure(m: usize, n: usize, data: &[f64]) -> (f64, f64) {
    if data.iter().all(|v| *v == 0.0) {
        return (0.0, 0.0);
    }
    let e = sigma(
        &DenseMatrix::from_row_major(m, n, data).unwrap(),
        &SigmaOptions::default(),
    )
    .unwrap();
    (e.lower(), e.upper())
}

/// Dyadic entries i/8 (products below stay exact).
fn dyadic(len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-8i32..=8, len)
        .prop_map(|v| v.into_iter().map(|i| i as f64 / 8.0).collect())
}

/// A chain of 1–3 convolutions (channels ≤ 3, kernels ≤ 3, dilation ≤ 2,
/// any offsets) on a grid of 3..6 × 3..6, with a scale exponent per layer.
fn chain() -> impl Strategy<Value = ((usize, usize), Vec<(Conv, i32)>)> {
    (
        (3usize..=6, 3usize..=6),
        prop::collection::vec((1usize..=3, 1usize..=3, 1usize..=2, -1i32..=1), 1..=3),
        1usize..=3,
    )
        .prop_flat_map(|(grid, layers, c0)| {
            let mut c = c0;
            let mut convs = Vec::new();
            for (i, &(kh, kw, d, e)) in layers.iter().enumerate() {
                let c_out = 1 + (c + i) % 3;
                let shape = (c_out, c, kh, kw, d, e);
                convs.push(shape);
                c = c_out;
            }
            let strategies: Vec<_> = convs
                .into_iter()
                .map(|(c_out, c_in, kh, kw, d, e)| {
                    (
                        dyadic(c_out * c_in * kh * kw),
                        0..=(kh - 1) * d,
                        0..=(kw - 1) * d,
                    )
                        .prop_map(move |(k, p, q)| {
                            (
                                Conv {
                                    c_out,
                                    c_in,
                                    groups: 1,
                                    kh,
                                    kw,
                                    dil: (d, d),
                                    off: (p, q),
                                    k,
                                },
                                100 * e,
                            )
                        })
                })
                .collect();
            (Just(grid), strategies)
        })
}

/// max_ω ‖K̂_L⋯K̂_1‖ from the library for the chain scaled by 2^e per layer.
fn fourier_norm(grid: (usize, usize), chain: &[(Conv, i32)]) -> f64 {
    let symbols: Vec<GridSymbol> = chain
        .iter()
        .map(|(c, e)| {
            let k: Vec<f64> = c.k.iter().map(|v| v * 2f64.powi(*e)).collect();
            GridSymbol::new(&k, &c.grid_conv(), grid).unwrap()
        })
        .collect();
    circular_product_norm_upper(&symbols, grid, &SigmaOptions::default())
        .unwrap()
        .0
}

/// The explicit product of the chain's circular convolutions (unscaled).
fn explicit_product(grid: (usize, usize), chain: &[(Conv, i32)]) -> (Vec<f64>, usize, usize) {
    let p = grid.0 * grid.1;
    let mut m = {
        let c = &chain[0].0;
        c.circular(grid)
    };
    let cols = chain[0].0.c_in * p;
    for (c, _) in &chain[1..] {
        m = matmul(&c.circular(grid), &m, c.c_out * p, c.c_in * p, cols);
    }
    (m, chain.last().unwrap().0.c_out * p, cols)
}

proptest! {
    #![proptest_config(config(24))]

    /// Circular convolutions on one grid (circular padding with N = H×W):
    /// the certified max_ω ‖K̂_L(ω)⋯K̂_1(ω)‖ encloses the norm of the explicit
    /// product (both directions), at scales 2^−100..2^100 per layer.
    #[test]
    fn circular_product_norm_matches_explicit((grid, chain) in chain()) {
        let (m, rows, cols) = explicit_product(grid, &chain);
        let (lo, up) = enclosure(rows, cols, &m);
        let scale = 2f64.powi(chain.iter().map(|(_, e)| *e).sum());
        let f = fourier_norm(grid, &chain);
        prop_assert!(f >= lo * scale, "fourier {f} below the explicit norm {}", lo * scale);
        prop_assert!(
            f <= up * scale * (1.0 + 1e-6) + 1e-300,
            "fourier {f} far above the explicit norm {}",
            up * scale
        );
    }
}

/// Huge then tiny layers (2^300, 2^−300) and a grouped convolution.
#[test]
fn circular_product_norm_extreme_scales_and_groups() {
    let k1: Vec<f64> = (0..4 * 2 * 3 * 3)
        .map(|i| ((i * 7 % 17) as f64 - 8.0) / 8.0)
        .collect();
    let k2: Vec<f64> = (0..3 * 4 * 2)
        .map(|i| ((i * 5 % 13) as f64 - 6.0) / 4.0)
        .collect();
    let chain = vec![
        (
            Conv {
                c_out: 4,
                c_in: 4,
                groups: 2,
                kh: 3,
                kw: 3,
                dil: (1, 2),
                off: (1, 2),
                k: k1,
            },
            300,
        ),
        (
            Conv {
                c_out: 3,
                c_in: 4,
                groups: 1,
                kh: 2,
                kw: 1,
                dil: (1, 1),
                off: (0, 0),
                k: k2,
            },
            -300,
        ),
    ];
    let grid = (5, 6);
    let (m, rows, cols) = explicit_product(grid, &chain);
    let (lo, up) = enclosure(rows, cols, &m);
    let f = fourier_norm(grid, &chain);
    assert!(
        lo > 0.0 && f >= lo && f <= up * (1.0 + 1e-6),
        "{lo} {f} {up}"
    );
}

/// Step 1 of the theorem: on a grid N ≥ H + top + bottom (and likewise for
/// W), the zero-padded stride-1 convolution with output H×W equals R·C·E
/// entry by entry; on a smaller grid the wrap-around breaks it.
#[test]
fn zero_padded_conv_is_restricted_circular_conv() {
    let hw = (4, 5);
    for (kh, kw, d, top, left) in [
        (3, 3, 1, 1, 1),
        (2, 2, 1, 0, 0),
        (3, 2, 2, 2, 1),
        (1, 1, 1, 0, 0),
    ] {
        let (bottom, right) = ((kh - 1) * d - top, (kw - 1) * d - left);
        let c = Conv {
            c_out: 2,
            c_in: 2,
            groups: 1,
            kh,
            kw,
            dil: (d, d),
            off: (top, left),
            k: (0..4 * kh * kw).map(|i| 1.0 + i as f64).collect(),
        };
        let z = c.zero_padded(hw);
        for n in [
            (hw.0 + top + bottom, hw.1 + left + right),
            (hw.0 + 3, hw.1 + 4),
        ] {
            let circ = c.circular(n);
            let (p, q) = (hw.0 * hw.1, n.0 * n.1);
            let at = |ch: usize, i: usize, j: usize| ch * q + i * n.1 + j;
            for o in 0..2 {
                for i in 0..hw.0 {
                    for j in 0..hw.1 {
                        for ch in 0..2 {
                            for si in 0..hw.0 {
                                for sj in 0..hw.1 {
                                    let zv =
                                        z[(o * p + i * hw.1 + j) * 2 * p + ch * p + si * hw.1 + sj];
                                    let cv = circ[at(o, i, j) * 2 * q + at(ch, si, sj)];
                                    assert_eq!(zv, cv, "kernel {kh}x{kw} grid {n:?}");
                                }
                            }
                        }
                    }
                }
            }
        }
        if top + bottom > 0 {
            // Grid = image: wrap-around reads real pixels instead of zeros.
            let circ = c.circular(hw);
            assert_ne!(z, circ);
        }
    }
}

/// Why masks need an activation between two convolutions: with
/// C₁ = [S⁺; δ] and C₂ = [S⁻, −δ] (S± the shifts reading j ± 1) the
/// circular product is 0, but the product of the zero-padded layers is not
/// (C₂ reads back, at j = 0, what C₁ put outside the image).
#[test]
fn masks_between_convolutions_matter() {
    let c1 = Conv {
        c_out: 2,
        c_in: 1,
        groups: 1,
        kh: 1,
        kw: 2,
        dil: (1, 1),
        off: (0, 0),
        k: vec![0.0, 1.0, 1.0, 0.0],
    };
    let c2 = Conv {
        c_out: 1,
        c_in: 2,
        groups: 1,
        kh: 1,
        kw: 2,
        dil: (1, 1),
        off: (0, 1),
        k: vec![1.0, 0.0, 0.0, -1.0],
    };
    let hw = (1, 4);
    let grid = (1, 6);
    let chain = vec![(c1.clone(), 0), (c2.clone(), 0)];
    assert!(fourier_norm(grid, &chain) < 1e-12);
    let z = matmul(&c2.zero_padded(hw), &c1.zero_padded(hw), 4, 8, 4);
    assert!(enclosure(4, 4, &z).0 > 0.5);
}

// ---------------------------------------------------------------------------
// Fourier LipLT on small CNNs.

proptest! {
    #![proptest_config(config(24))]

    /// Step 5 of the theorem (the polyphase form): for one zero-padded
    /// convolution with stride s, the Fourier route's value is
    /// max_ω ‖K^{-1/2}[K̂(ω₁) ⋯ K̂(ω_K)]‖ over the aliases ω_k of each coarse
    /// ω, which must be the norm of S·C — the circular convolution on the
    /// run's fine grid followed by keeping every s-th position — built here
    /// entry by entry (both directions of the enclosure).
    #[test]
    fn strided_run_is_the_subsampled_circular_conv(
        (c_in, c_out, kh, kw) in (1usize..=3, 1usize..=3, 1usize..=3, 1usize..=3),
        hw in (3usize..=7, 3usize..=7),
        stride in prop::sample::select(vec![(2usize, 2usize), (1, 4), (4, 1)]),
        pad in 0usize..=1,
        k in dyadic(81),
    ) {
        let k = k[..c_out * c_in * kh * kw].to_vec();
        let mut weights = Weights::new();
        weights.insert("w", Tensor::new(vec![c_out, c_in, kh, kw], k.clone()).unwrap());
        let layer = format!(
            r#"{{"type": "conv2d", "weight": "w", "padding": {pad}, "stride": [{}, {}]}}"#,
            stride.0, stride.1
        );
        let spec = NetworkSpec::from_json(&format!(
            r#"{{"weights": "-", "input_shape": [{c_in}, {}, {}], "layers": [{layer}]}}"#,
            hw.0, hw.1
        ));
        // Kernels larger than the padded image are refused by the spec.
        let Ok(spec) = spec else { return Ok(()) };
        let Ok(mut net) = Network::from_spec(&spec, &weights) else { return Ok(()) };
        certify_layers(&mut net, &SigmaOptions::default(), &mut |_, _| {}).unwrap();
        let grid = run_grid(&net.nodes).expect("a strided convolution is a run");
        prop_assert!(grid.0 % stride.0 == 0 && grid.1 % stride.1 == 0);
        let (f, _) = fourier_liplt(&net.nodes, &SigmaOptions::default(), f64::INFINITY)
            .unwrap()
            .unwrap();
        let conv = Conv { c_out, c_in, groups: 1, kh, kw, dil: (1, 1), off: (pad, pad), k };
        let full = conv.circular(grid);
        let p = grid.0 * grid.1;
        let coarse = (grid.0 / stride.0, grid.1 / stride.1);
        let mut rows = Vec::new();
        for o in 0..c_out {
            for i in 0..coarse.0 {
                for j in 0..coarse.1 {
                    let r = o * p + i * stride.0 * grid.1 + j * stride.1;
                    rows.extend_from_slice(&full[r * c_in * p..(r + 1) * c_in * p]);
                }
            }
        }
        let (lo, up) = enclosure(c_out * coarse.0 * coarse.1, c_in * p, &rows);
        prop_assert!(f >= lo, "fourier {f} below the norm of S·C {lo}");
        prop_assert!(f <= up * (1.0 + 1e-6) + 1e-150, "fourier {f} far above {up}");
    }
}

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

struct Net {
    rng: Lcg,
    weights: Weights,
    count: usize,
    scale: f64,
}

impl Net {
    fn new(seed: u64, scale: f64) -> Self {
        Net {
            rng: Lcg(seed),
            weights: Weights::new(),
            count: 0,
            scale,
        }
    }

    fn conv(&mut self, c_in: usize, c_out: usize, k: (usize, usize), extra: &str) -> String {
        self.count += 1;
        let name = format!("c{}", self.count);
        let std = (2.0 / (c_in * k.0 * k.1) as f64).sqrt() * self.scale;
        let data: Vec<f64> = (0..c_out * c_in * k.0 * k.1)
            .map(|_| std * self.rng.next())
            .collect();
        self.weights.insert(
            format!("{name}.w"),
            Tensor::new(vec![c_out, c_in, k.0, k.1], data).unwrap(),
        );
        let bias: Vec<f64> = (0..c_out).map(|_| self.rng.next()).collect();
        self.weights
            .insert(format!("{name}.b"), Tensor::new(vec![c_out], bias).unwrap());
        format!(r#"{{"type": "conv2d", "weight": "{name}.w", "bias": "{name}.b"{extra}}}"#)
    }

    fn bn(&mut self, c: usize) -> String {
        self.count += 1;
        let name = format!("bn{}", self.count);
        for (s, lo) in [("g", 0.5), ("b", -0.5), ("m", -0.5), ("v", 0.5)] {
            let v: Vec<f64> = (0..c).map(|_| lo + self.rng.next().abs()).collect();
            self.weights
                .insert(format!("{name}.{s}"), Tensor::new(vec![c], v).unwrap());
        }
        format!(
            r#"{{"type": "batchnorm2d", "weight": "{name}.g", "bias": "{name}.b",
               "running_mean": "{name}.m", "running_var": "{name}.v"}}"#
        )
    }
}

fn build(input: [usize; 3], layers: &[String], weights: Weights) -> Network {
    try_build(input, layers, weights).expect("a valid network")
}

/// [`build`], `None` when the spec refuses the geometry (e.g. a kernel
/// larger than the padded image).
fn try_build(input: [usize; 3], layers: &[String], weights: Weights) -> Option<Network> {
    let spec = NetworkSpec::from_json(&format!(
        r#"{{"weights": "-", "input_shape": {input:?}, "layers": [{}]}}"#,
        layers.join(", ")
    ))
    .ok()?;
    let mut net = Network::from_spec(&spec, &weights).ok()?;
    certify_layers(&mut net, &SigmaOptions::default(), &mut |_, _| {}).unwrap();
    Some(net)
}

/// The networks of the soundness tests (all runs of the module theorem).
fn networks(seed: u64, scale: f64) -> Vec<(&'static str, Network)> {
    let mut out = Vec::new();
    let mut n = Net::new(seed | 1, scale);
    let pad1 = r#", "padding": 1"#;
    // conv → BN → ReLU → conv → ReLU → 1×1 conv.
    let layers = vec![
        n.conv(2, 3, (3, 3), pad1),
        n.bn(3),
        r#"{"type": "relu"}"#.to_string(),
        n.conv(3, 3, (3, 3), pad1),
        r#"{"type": "relu"}"#.to_string(),
        n.conv(3, 2, (1, 1), ""),
    ];
    out.push((
        "chain",
        build([2, 5, 6], &layers, std::mem::take(&mut n.weights)),
    ));
    // Residual blocks (identity and 1×1 conv shortcut), ReLU after each.
    let body1 = [
        n.conv(2, 2, (3, 3), pad1),
        n.bn(2),
        r#"{"type": "relu"}"#.into(),
        n.conv(2, 2, (3, 3), pad1),
        n.bn(2),
    ]
    .join(", ");
    let body2 = [
        n.conv(2, 3, (3, 3), pad1),
        r#"{"type": "relu"}"#.into(),
        n.conv(3, 3, (3, 3), pad1),
    ]
    .join(", ");
    let short = [n.conv(2, 3, (1, 1), ""), n.bn(3)].join(", ");
    let layers = vec![
        format!(r#"{{"type": "residual", "body": [{body1}]}}"#),
        r#"{"type": "relu"}"#.to_string(),
        format!(r#"{{"type": "residual", "body": [{body2}], "shortcut": [{short}]}}"#),
        r#"{"type": "relu"}"#.to_string(),
    ];
    out.push((
        "residual",
        build([2, 4, 4], &layers, std::mem::take(&mut n.weights)),
    ));
    // Asymmetric "same" padding (2×2 kernel), dilation 2, LeakyReLU(0.1)
    // (slopes widened to [0, 1]) and tanh.
    let layers = vec![
        n.conv(1, 3, (2, 2), r#", "padding": "same""#),
        r#"{"type": "leaky_relu", "negative_slope": 0.1}"#.to_string(),
        n.conv(3, 2, (3, 3), r#", "padding": 2, "dilation": 2"#),
        r#"{"type": "tanh"}"#.to_string(),
        n.conv(2, 2, (2, 3), r#", "padding": "same""#),
    ];
    out.push((
        "same-dilated",
        build([1, 5, 5], &layers, std::mem::take(&mut n.weights)),
    ));
    // A ResNet-style downsampling block (step 5 of the theorem): stride-2
    // body and 1×1 stride-2 shortcut, then a block on the coarse grid; odd
    // sizes so that the fine grid needs rounding up to a multiple of 2.
    let body = [
        n.conv(2, 3, (3, 3), r#", "padding": 1, "stride": 2"#),
        n.bn(3),
        r#"{"type": "relu"}"#.into(),
        n.conv(3, 3, (3, 3), pad1),
        n.bn(3),
    ]
    .join(", ");
    let short = [n.conv(2, 3, (1, 1), r#", "stride": 2"#), n.bn(3)].join(", ");
    let coarse = [
        n.conv(3, 3, (3, 3), pad1),
        r#"{"type": "relu"}"#.into(),
        n.conv(3, 3, (3, 3), pad1),
    ]
    .join(", ");
    let layers = vec![
        n.conv(2, 2, (3, 3), pad1),
        r#"{"type": "relu"}"#.to_string(),
        format!(r#"{{"type": "residual", "body": [{body}], "shortcut": [{short}]}}"#),
        r#"{"type": "relu"}"#.to_string(),
        format!(r#"{{"type": "residual", "body": [{coarse}]}}"#),
        r#"{"type": "relu"}"#.to_string(),
    ];
    out.push((
        "strided-residual",
        build([2, 7, 5], &layers, std::mem::take(&mut n.weights)),
    ));
    // Convolutions without padding shrink the image (MTCNN's PNet on a
    // large input): each output window sits at the origin of the grid and
    // the next activation masks to it; LeakyReLU(0.5) is widened to [0, 1].
    let layers = vec![
        n.conv(2, 3, (3, 3), ""),
        r#"{"type": "leaky_relu", "negative_slope": 0.5}"#.to_string(),
        n.conv(3, 3, (3, 3), pad1),
        r#"{"type": "relu"}"#.to_string(),
        n.conv(3, 2, (2, 2), ""),
        r#"{"type": "leaky_relu", "negative_slope": 0.5}"#.to_string(),
        n.conv(2, 2, (1, 1), ""),
    ];
    out.push((
        "valid-shrinking",
        build([2, 7, 8], &layers, std::mem::take(&mut n.weights)),
    ));
    out
}

/// A record right after an activation reuses |c|·‖T‖ of the previous record
/// instead of a new certificate (`Pass::known` in the Fourier LipLT pass).
/// Against the same network with an exact identity 1×1 convolution
/// appended, whose output record certifies every term afresh: the two
/// bounds agree to the certificates' margins. Covers a run ending in an
/// activation, two activations in a row, a block whose body starts with an
/// activation (its shortcut must not see the body's norms) and a strided
/// block.
#[test]
fn reused_norms_after_an_activation_match_recomputed_ones() {
    let options = SigmaOptions::default();
    let mut n = Net::new(11, 1.0);
    let pad1 = r#", "padding": 1"#;
    let relu = || r#"{"type": "relu"}"#.to_string();
    let mut cases: Vec<(&str, [usize; 3], Vec<String>, Weights)> = Vec::new();
    let body = [
        n.conv(2, 2, (3, 3), pad1),
        relu(),
        n.conv(2, 2, (3, 3), pad1),
    ]
    .join(", ");
    let layers = vec![
        n.conv(2, 2, (3, 3), pad1),
        relu(),
        format!(r#"{{"type": "residual", "body": [{body}]}}"#),
        relu(),
    ];
    cases.push(("block", [2, 4, 5], layers, std::mem::take(&mut n.weights)));
    let layers = vec![
        n.conv(2, 3, (3, 3), pad1),
        relu(),
        r#"{"type": "leaky_relu", "negative_slope": 0.5}"#.to_string(),
        n.conv(3, 2, (3, 3), pad1),
        relu(),
        relu(),
    ];
    cases.push(("twice", [2, 5, 4], layers, std::mem::take(&mut n.weights)));
    let body = [relu(), n.conv(2, 2, (3, 3), pad1)].join(", ");
    let short = n.conv(2, 2, (1, 1), "");
    let layers = vec![
        n.conv(2, 2, (3, 3), pad1),
        relu(),
        format!(r#"{{"type": "residual", "body": [{body}], "shortcut": [{short}]}}"#),
        relu(),
    ];
    cases.push((
        "pre-activation",
        [2, 4, 4],
        layers,
        std::mem::take(&mut n.weights),
    ));
    let body = [
        n.conv(2, 3, (3, 3), r#", "padding": 1, "stride": 2"#),
        relu(),
        n.conv(3, 3, (3, 3), pad1),
    ]
    .join(", ");
    let short = n.conv(2, 3, (1, 1), r#", "stride": 2"#);
    let layers = vec![
        format!(r#"{{"type": "residual", "body": [{body}], "shortcut": [{short}]}}"#),
        relu(),
    ];
    cases.push(("strided", [2, 6, 6], layers, std::mem::take(&mut n.weights)));
    for (name, input, layers, weights) in cases {
        let c = if name == "strided" { 3 } else { 2 };
        let reused = build(input, &layers, weights.clone());
        let (f, _) = fourier_liplt(&reused.nodes, &options, f64::INFINITY)
            .unwrap()
            .unwrap_or_else(|| panic!("{name} is a run"));
        let mut weights = weights;
        let eye: Vec<f64> = (0..c * c)
            .map(|k| if k / c == k % c { 1.0 } else { 0.0 })
            .collect();
        weights.insert("eye.w", Tensor::new(vec![c, c, 1, 1], eye).unwrap());
        let mut appended = layers;
        appended.push(r#"{"type": "conv2d", "weight": "eye.w"}"#.into());
        let fresh = build(input, &appended, weights);
        let (g, _) = fourier_liplt(&fresh.nodes, &options, f64::INFINITY)
            .unwrap()
            .unwrap();
        assert!(
            (f - g).abs() <= 1e-6 * g,
            "{name}: reused {f} vs recomputed {g}"
        );
        let lower = pair_ratios(&reused, 5, 40);
        assert!(lower > 0.0 && lower <= f, "{name}: pairs {lower} vs {f}");
    }
}

fn pair_ratios(net: &Network, seed: u64, pairs: usize) -> f64 {
    let mut rng = Lcg(seed | 3);
    let n = net.input_len();
    let mut best = 0.0f64;
    for k in 0..pairs {
        let x: Vec<f64> = (0..n).map(|_| 3.0 * rng.next()).collect();
        let d = [1.0, 1e-2, 1e-5][k % 3];
        let y: Vec<f64> = x.iter().map(|v| v + d * rng.next()).collect();
        best = best.max(rigorous_pair_ratio(net, &x, &y).unwrap());
    }
    best
}

/// Fourier LipLT ≥ every certified pair ratio; through `liplt_bound` with
/// an entry budget too small for explicit matrices it is the segment's
/// bound, never above the product; kernel scales 2^±30 included.
#[test]
fn fourier_liplt_is_sound_on_small_cnns() {
    let options = SigmaOptions::default();
    for (seed, scale) in [
        (1u64, 1.0),
        (2, 2f64.powi(30)),
        (3, 2f64.powi(-30)),
        (4, 1.0),
    ] {
        for (name, net) in networks(seed, scale) {
            assert!(run_grid(&net.nodes).is_some(), "{name} is a run");
            let (f, _) = fourier_liplt(&net.nodes, &options, f64::INFINITY)
                .unwrap()
                .unwrap();
            let lower = pair_ratios(&net, seed, 60);
            assert!(lower <= f, "{name}: pair ratio {lower} > fourier {f}");
            // At scale 2^30 tanh saturates and pairs may all give 0.
            assert!(
                scale != 1.0 || lower > 0.0,
                "{name}: a pair ratio is positive"
            );
            let (product, _) = composed_upper(&net.nodes).unwrap();
            let routed = liplt_bound(&net.nodes, &options, 64).unwrap();
            assert!(routed.upper <= product && routed.upper >= lower, "{name}");
            assert_eq!(routed.segments.len(), 1);
            let seg = routed.segments[0].liplt.unwrap();
            let expected = f.min(product);
            // The same value, up to one upward rounding of the product of
            // pieces.
            assert!(
                seg >= expected && seg <= expected * (1.0 + 1e-14),
                "{name}: Fourier route taken ({seg} vs {expected})"
            );
            let explicit = liplt_bound(&net.nodes, &options, 1 << 22).unwrap();
            eprintln!(
                "{name} scale {scale:e}: pairs {lower:.4e} fourier {f:.4e} explicit {:.4e} product {product:.4e}",
                explicit.raw
            );
        }
    }
}

/// For a ReLU chain without batch norm, LipLT on the lifted network is at
/// most the product of the lifted layers' norms max_ω ‖K̂(ω)‖ (each
/// certified independently of the recursion).
#[test]
fn fourier_liplt_below_lifted_product() {
    let mut n = Net::new(11, 1.0);
    let pad1 = r#", "padding": 1"#;
    let layers = vec![
        n.conv(2, 3, (3, 3), pad1),
        r#"{"type": "relu"}"#.to_string(),
        n.conv(3, 3, (3, 3), pad1),
        r#"{"type": "relu"}"#.to_string(),
        n.conv(3, 2, (3, 3), pad1),
    ];
    let net = build([2, 4, 5], &layers, std::mem::take(&mut n.weights));
    let grid = run_grid(&net.nodes).unwrap();
    assert_eq!(grid, (6, 7));
    let options = SigmaOptions::default();
    let (f, _) = fourier_liplt(&net.nodes, &options, f64::INFINITY)
        .unwrap()
        .unwrap();
    let mut lifted = 1.0;
    for node in &net.nodes {
        if let lipcert::network::layer::Layer::Conv2d(c) = &node.layer {
            let conv = GridConv {
                c_out: c.c_out,
                c_in: c.c_in,
                groups: 1,
                kernel_hw: c.kernel_hw,
                dilation: (1, 1),
                offset: (1, 1),
            };
            let s = GridSymbol::new(&c.kernel, &conv, grid).unwrap();
            lifted *= circular_product_norm_upper(&[s], grid, &options).unwrap().0;
        }
    }
    assert!(
        f <= lifted * (1.0 + 1e-9),
        "fourier {f} > lifted product {lifted}"
    );
    assert!(f >= pair_ratios(&net, 5, 60));
}

/// A segment with a stride-2 convolution and a dense head: the Fourier run
/// in the middle is bounded by the Fourier route, the rest by its product;
/// the whole stays sound and at most the product.
#[test]
fn split_segment_with_strided_conv_and_dense_head() {
    let mut n = Net::new(21, 1.0);
    let pad1 = r#", "padding": 1"#;
    let mut layers = vec![
        n.conv(1, 2, (3, 3), r#", "padding": 1, "stride": 2"#),
        r#"{"type": "relu"}"#.to_string(),
        n.conv(2, 2, (3, 3), pad1),
        r#"{"type": "relu"}"#.to_string(),
        n.conv(2, 2, (3, 3), pad1),
        r#"{"type": "relu"}"#.to_string(),
        r#"{"type": "flatten"}"#.to_string(),
    ];
    let fc: Vec<f64> = (0..3 * 2 * 4 * 4).map(|_| 0.3 * n.rng.next()).collect();
    n.weights
        .insert("fc", Tensor::new(vec![3, 32], fc).unwrap());
    layers.push(r#"{"type": "linear", "weight": "fc"}"#.to_string());
    let net = build([1, 8, 8], &layers, std::mem::take(&mut n.weights));
    let options = SigmaOptions::default();
    let (product, _) = composed_upper(&net.nodes).unwrap();
    let routed = liplt_bound(&net.nodes, &options, 64).unwrap();
    assert!(routed.segments[0].liplt.is_some(), "Fourier pieces used");
    assert!(routed.upper <= product);
    assert!(routed.upper >= pair_ratios(&net, 9, 60));
}

/// Regression value for the stride inside a run: the "strided-residual"
/// network of the soundness tests (seed 1, scale 1), one Fourier run through
/// its 2×2 downsampling block, as first computed with the polyphase form
/// (commit "Fourier LipLT runs pass one stride…"); before it the block was
/// a gap bounded by its product and the whole segment by 13.39 (the
/// product). A change that loosens the route fails here.
#[test]
fn strided_run_regression_value() {
    let (_, net) = networks(1, 1.0)
        .into_iter()
        .find(|(name, _)| *name == "strided-residual")
        .unwrap();
    let options = SigmaOptions::default();
    let (f, _) = fourier_liplt(&net.nodes, &options, f64::INFINITY)
        .unwrap()
        .unwrap();
    assert!(
        f <= 8.608_969_505_762_046 * (1.0 + 1e-12),
        "fourier liplt {f} loosened"
    );
    let (product, _) = composed_upper(&net.nodes).unwrap();
    assert!(product > 13.0, "product {product}");
}

/// One conv geometry of the strided-residual property test: kernel, padding
/// and dilation per axis.
type Geometry = ((usize, usize), (usize, usize), (usize, usize));

fn geometry() -> impl Strategy<Value = Geometry> {
    (
        (1usize..=3, 1usize..=3),
        (0usize..=2, 0usize..=2),
        (1usize..=2, 1usize..=2),
    )
}

fn conv_extra(g: Geometry, stride: (usize, usize)) -> String {
    let (_, p, d) = g;
    format!(
        r#", "stride": [{}, {}], "padding": [{}, {}], "dilation": [{}, {}]"#,
        stride.0, stride.1, p.0, p.1, d.0, d.1
    )
}

proptest! {
    #![proptest_config(config(48))]

    /// Step 5 against the true operator: a linear downsampling block (a
    /// strided body convolution and a strided shortcut convolution, each
    /// with an optional batch norm, any kernels, paddings and dilations
    /// with matching output sizes) has Fourier LipLT ≥ the norm of its
    /// exact zero-padded operator, whose columns are f(eᵢ) − f(0).
    #[test]
    fn strided_linear_block_is_above_its_operator_norm(
        (ci, co) in (1usize..=3, 1usize..=3),
        hw in (2usize..=8, 2usize..=8),
        stride in prop::sample::select(vec![(2usize, 2usize), (1, 4), (4, 1), (4, 4)]),
        // Independent geometries rarely give equal output sizes: the
        // shortcut mostly shares the body's (with its own weights).
        (gb, gs) in prop_oneof![
            3 => geometry().prop_map(|g| (g, g)),
            1 => (geometry(), geometry()),
        ],
        bn in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let mut n = Net::new(seed | 1, 1.0);
        let mut body = vec![n.conv(ci, co, gb.0, &conv_extra(gb, stride))];
        let mut short = vec![n.conv(ci, co, gs.0, &conv_extra(gs, stride))];
        if bn {
            body.push(n.bn(co));
            short.push(n.bn(co));
        }
        let layers = vec![format!(
            r#"{{"type": "residual", "body": [{}], "shortcut": [{}]}}"#,
            body.join(", "),
            short.join(", ")
        )];
        // Geometries the spec refuses (too large a kernel, branches of
        // different output sizes) are skipped.
        let Some(net) = try_build([ci, hw.0, hw.1], &layers, std::mem::take(&mut n.weights)) else {
            return Ok(());
        };
        prop_assert!(run_grid(&net.nodes).is_some(), "a strided block is a run");
        let (f, _) = fourier_liplt(&net.nodes, &SigmaOptions::default(), f64::INFINITY)
            .unwrap()
            .unwrap();
        let inputs = ci * hw.0 * hw.1;
        let f0 = lipcert::network::evaluate::forward(&net, &vec![0.0; inputs]).unwrap();
        let mut columns = Vec::with_capacity(inputs);
        for i in 0..inputs {
            let mut e = vec![0.0; inputs];
            e[i] = 1.0;
            let fe = lipcert::network::evaluate::forward(&net, &e).unwrap();
            columns.push(fe.iter().zip(&f0).map(|(a, b)| a - b).collect::<Vec<f64>>());
        }
        let outputs = f0.len();
        let row_major: Vec<f64> = (0..outputs)
            .flat_map(|r| columns.iter().map(move |c| c[r]))
            .collect();
        let (lo, _) = enclosure(outputs, inputs, &row_major);
        prop_assert!(f >= lo * (1.0 - 1e-9), "fourier {f} below the operator norm {lo}");
    }
}

/// The run grammar of step 5 refuses what the theorem does not cover, and
/// absurd strides are refused without overflow.
#[test]
fn strided_runs_outside_the_theorem_are_refused() {
    let mut n = Net::new(77, 1.0);
    let s2 = r#", "padding": 1, "stride": 2"#;
    let a = n.conv(2, 2, (3, 3), s2);
    let a2 = n.conv(2, 2, (3, 3), s2);
    let b = n.conv(2, 2, (1, 1), r#", "stride": 2"#);
    let c1 = n.conv(2, 2, (3, 3), r#", "padding": 1"#);
    let s21 = n.conv(2, 2, (3, 3), r#", "padding": 1, "stride": [2, 1]"#);
    let s88 = n.conv(2, 2, (1, 1), r#", "stride": 8"#);
    let huge = n.conv(2, 2, (1, 1), r#", "stride": 4294967296"#);
    let relu = r#"{"type": "relu"}"#.to_string();
    let res = |body: &str, short: Option<&str>| match short {
        Some(s) => format!(r#"{{"type": "residual", "body": [{body}], "shortcut": [{s}]}}"#),
        None => format!(r#"{{"type": "residual", "body": [{body}]}}"#),
    };
    let cases = [
        ("2x2 block", vec![res(&a, Some(&b))], true),
        (
            "identity shortcut around a stride",
            vec![res(&a, None)],
            false,
        ),
        ("stride in the body only", vec![res(&a, Some(&c1))], false),
        (
            "two strides",
            vec![a.clone(), relu.clone(), a2.clone()],
            false,
        ),
        ("stride 2x1 (K not a power of 4)", vec![s21.clone()], false),
        ("stride 8x8 (K above the cap)", vec![s88.clone()], false),
        ("stride 2^32", vec![huge.clone()], false),
        (
            "stride reading an unmasked value",
            vec![c1.clone(), a.clone()],
            false,
        ),
    ];
    let weights = std::mem::take(&mut n.weights);
    for (name, layers, expected) in cases {
        let Some(net) = try_build([2, 8, 8], &layers, weights.clone()) else {
            assert!(!expected, "{name}: the network should build");
            continue;
        };
        assert_eq!(run_grid(&net.nodes).is_some(), expected, "{name}");
    }
}

/// Shrinking (unpadded) convolutions in a run against the exact constant:
/// conv 3×3 (1 → 1, 5×5 → 3×3, full row rank since every output row starts
/// at its own input with the nonzero corner tap) → LeakyReLU(s) → conv
/// 2×2 (1 → 2). Every slope pattern D ∈ {s, 1}⁹ occurs, so
/// Lip = max_D ‖C₂DC₁‖ (the one-hidden-layer oracle of issue 12); the
/// Fourier LipLT bound (its slopes widened to [0, 1] by the masks) lies
/// above it, for slopes 0 (ReLU), 0.5 and −0.5.
#[test]
fn shrinking_run_is_above_the_exact_constant() {
    for (seed, slope) in [(31u64, 0.0), (32, 0.5), (33, -0.5), (34, 0.5)] {
        let (exact, f) = shrinking_case(seed, slope, 5, (3, 2), 2);
        assert!(
            f <= 3.0 * exact,
            "slope {slope}: fourier {f} vs exact {exact}"
        );
        eprintln!("slope {slope}: exact {exact:.6} fourier {f:.6}");
    }
}

proptest! {
    #![proptest_config(common::soundness::config(24, 0x7368_7269_6e6b))]

    /// The same oracle on random geometries and slopes: hidden 2×2 or 3×3
    /// (every pattern occurring), first kernel 2–3 (input 3–5), second
    /// kernel 1–2 with 1–3 output channels.
    #[test]
    fn shrinking_runs_are_above_the_exact_constant(
        seed in any::<u64>(),
        slope in prop::sample::select(vec![-0.5, 0.0, 0.25, 0.5]),
        hidden in 2usize..=3,
        k1 in 2usize..=3,
        k2 in 1usize..=2,
        c_out in 1usize..=3,
    ) {
        shrinking_case(seed, slope, hidden + k1 - 1, (k1, k2), c_out);
    }
}

/// conv k₁×k₁ (1 → 1, unpadded) → LeakyReLU(slope) → conv k₂×k₂ (1 →
/// `c_out`, unpadded) on 1×side×side: asserts that the Fourier LipLT bound
/// lies above max_D ‖C₂DC₁‖ over every slope pattern D (all occur: C₁ has
/// full row rank, its corner tap kept away from 0) and returns both.
fn shrinking_case(
    seed: u64,
    slope: f64,
    side: usize,
    (k1, k2): (usize, usize),
    c_out: usize,
) -> (f64, f64) {
    use lipcert::network::layer::Layer;
    let mut n = Net::new(seed | 1, 1.0);
    let first = n.conv(1, 1, (k1, k1), "");
    let mut data = n.weights.get("c1.w", "test").unwrap().data.clone();
    if data[0].abs() < 0.1 {
        data[0] = 0.1f64.copysign(data[0]);
    }
    n.weights
        .insert("c1.w", Tensor::new(vec![1, 1, k1, k1], data).unwrap());
    let layers = vec![
        first,
        format!(r#"{{"type": "leaky_relu", "negative_slope": {slope}}}"#),
        n.conv(1, c_out, (k2, k2), ""),
    ];
    let net = build([1, side, side], &layers, std::mem::take(&mut n.weights));
    assert_eq!(run_grid(&net.nodes), Some((side, side)));
    let (f, _) = fourier_liplt(&net.nodes, &SigmaOptions::default(), f64::INFINITY)
        .unwrap()
        .unwrap();
    let dense = |i: usize| match &net.nodes[i].layer {
        Layer::Conv2d(c) => common::net::dense_conv(c),
        _ => panic!("conv"),
    };
    let ((c1, h, n_in), (c2, m_out, _)) = (dense(0), dense(2));
    let mut exact = 0.0f64;
    for pattern in 0..1u32 << h {
        let scaled: Vec<f64> = c1
            .chunks(n_in)
            .enumerate()
            .flat_map(|(r, row)| {
                let d = if pattern >> r & 1 == 1 { 1.0 } else { slope };
                row.iter().map(move |v| d * v)
            })
            .collect();
        let prod = matmul(&c2, &scaled, m_out, h, n_in);
        exact = exact.max(enclosure(m_out, n_in, &prod).0);
    }
    assert!(f >= exact, "slope {slope}: fourier {f} < exact {exact}");
    (exact, f)
}
