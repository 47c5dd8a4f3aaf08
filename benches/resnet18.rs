//! ResNet-18-shaped network (issue 12 target): 3×224×224 input, conv 7×7
//! stride 2 padding 3, batch norm, ReLU, max-pool 3×3 stride 2 padding 1,
//! four stages of two basic blocks (64, 128, 256, 512 channels; the first
//! block of stages 2–4 has stride 2 and a 1×1 stride-2 convolution + batch
//! norm on the shortcut), global 7×7 average pooling, linear 512 → 1000.
//! Random He-initialised weights (N(0, 2/fan_in)), batch norms with random
//! γ ∈ [0.5, 1.5] and running variance ∈ [0.5, 1.5], fixed seed.
//!
//! Certifies it once with every bound method (product, LipLT, multiplier,
//! and their per-piece combination)
//! and a 20 s lower-bound budget (`LIPCERT_BENCH_LOWER=SECONDS` changes it;
//! the plain f64 pairs certify here, so no compensated stage is needed
//! inside it), and prints each method's certified bound
//! and its ratio to the achieved lower bound, and the total time
//! (target: < 2 minutes on the 2-core machine).
//!
//! Run: `cargo bench -p lipcert-benches --bench resnet18`.

use lipcert::network::bounds::BoundMethod;
use lipcert::network::certify::{certify_network_with, CertifyOptions};
use lipcert::network::lower_bounds::LowerBoundOptions;
use lipcert::network::{NetworkSpec, Tensor, Weights};
use lipcert::SigmaOptions;
use std::time::Instant;

struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * (1.0 - u1).ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

struct Builder {
    rng: Rng,
    weights: Weights,
    count: usize,
}

impl Builder {
    fn values(&mut self, c: usize, f: impl Fn(&mut Rng) -> f64) -> Vec<f64> {
        (0..c).map(|_| f(&mut self.rng)).collect()
    }

    fn conv(&mut self, c_in: usize, c_out: usize, k: usize, stride: usize, pad: usize) -> String {
        self.count += 1;
        let name = format!("conv{}", self.count);
        let std = (2.0 / (c_in * k * k) as f64).sqrt();
        let data: Vec<f64> = (0..c_out * c_in * k * k)
            .map(|_| std * self.rng.normal())
            .collect();
        self.weights.insert(
            format!("{name}.weight"),
            Tensor::new(vec![c_out, c_in, k, k], data).expect("shape"),
        );
        format!(
            r#"{{"type": "conv2d", "weight": "{name}.weight", "stride": {stride}, "padding": {pad}}}"#
        )
    }

    fn bn(&mut self, c: usize) -> String {
        self.count += 1;
        let name = format!("bn{}", self.count);
        let gamma = self.values(c, |r| 0.5 + r.uniform());
        let beta = self.values(c, |r| 0.1 * r.normal());
        let mean = self.values(c, |r| 0.1 * r.normal());
        let var = self.values(c, |r| 0.5 + r.uniform());
        for (suffix, v) in [
            ("weight", gamma),
            ("bias", beta),
            ("running_mean", mean),
            ("running_var", var),
        ] {
            self.weights.insert(
                format!("{name}.{suffix}"),
                Tensor::new(vec![c], v).expect("shape"),
            );
        }
        format!(
            r#"{{"type": "batchnorm2d", "weight": "{name}.weight", "bias": "{name}.bias",
               "running_mean": "{name}.running_mean", "running_var": "{name}.running_var"}}"#
        )
    }

    fn block(&mut self, c_in: usize, c_out: usize, stride: usize) -> String {
        let body = [
            self.conv(c_in, c_out, 3, stride, 1),
            self.bn(c_out),
            r#"{"type": "relu"}"#.to_string(),
            self.conv(c_out, c_out, 3, 1, 1),
            self.bn(c_out),
        ]
        .join(", ");
        let shortcut = if stride != 1 || c_in != c_out {
            format!(
                r#", "shortcut": [{}, {}]"#,
                self.conv(c_in, c_out, 1, stride, 0),
                self.bn(c_out)
            )
        } else {
            String::new()
        };
        format!(r#"{{"type": "residual", "body": [{body}]{shortcut}}}, {{"type": "relu"}}"#)
    }
}

fn main() {
    let mut b = Builder {
        rng: Rng(0x7265_736e_6574_3138),
        weights: Weights::new(),
        count: 0,
    };
    let mut layers = vec![
        b.conv(3, 64, 7, 2, 3),
        b.bn(64),
        r#"{"type": "relu"}"#.into(),
        r#"{"type": "maxpool2d", "kernel": 3, "stride": 2, "padding": 1}"#.into(),
    ];
    let mut c = 64;
    for (stage, width) in [64usize, 128, 256, 512].into_iter().enumerate() {
        layers.push(b.block(c, width, if stage == 0 { 1 } else { 2 }));
        layers.push(b.block(width, width, 1));
        c = width;
    }
    layers.push(r#"{"type": "avgpool2d", "kernel": 7}"#.into());
    layers.push(r#"{"type": "flatten"}"#.into());
    let fc: Vec<f64> = (0..1000 * 512)
        .map(|_| (1.0 / 512f64).sqrt() * b.rng.normal())
        .collect();
    b.weights.insert(
        "fc.weight",
        Tensor::new(vec![1000, 512], fc).expect("shape"),
    );
    layers.push(r#"{"type": "linear", "weight": "fc.weight"}"#.into());
    let spec = NetworkSpec::from_json(&format!(
        r#"{{"weights": "-", "input_shape": [3, 224, 224], "layers": [{}]}}"#,
        layers.join(", ")
    ))
    .expect("valid spec");
    // LIPCERT_BENCH_THREADS: threads of the dense products, of the Fourier
    // frequencies and of the compensated convolutions (default 0 = one per
    // core; 1 = sequential).
    let threads = std::env::var("LIPCERT_BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    // LIPCERT_BENCH_BOUNDS: the methods (as `--bounds`, default all);
    // LIPCERT_BENCH_LOWER: the lower-bound search's budget in seconds
    // (default 20; 0 skips the search, for timing one method alone).
    let methods = std::env::var("LIPCERT_BENCH_BOUNDS")
        .ok()
        .map(|v| BoundMethod::parse_list(&v).expect("valid --bounds list"));
    let budget: f64 = std::env::var("LIPCERT_BENCH_LOWER")
        .ok()
        .map_or(20.0, |v| v.parse().expect("LIPCERT_BENCH_LOWER: seconds"));
    let options = CertifyOptions {
        lower: (budget > 0.0).then(|| LowerBoundOptions {
            budget_seconds: Some(budget),
            threads,
            ..LowerBoundOptions::default()
        }),
        methods,
        sigma: SigmaOptions {
            threads,
            ..SigmaOptions::default()
        },
    };
    let start = Instant::now();
    let report = certify_network_with(&spec, &b.weights, &options, &mut |d, total| {
        eprintln!(
            "layer {d}/{total} certified at {:.1} s",
            start.elapsed().as_secs_f64()
        );
    })
    .expect("ResNet-18 certifies");
    let seconds = start.elapsed().as_secs_f64();
    let lower = report.lower;
    println!("ResNet-18 shape, 3x224x224, He init; lower bound (achieved) {lower:e}");
    if let Some(l) = &report.lower_sources {
        println!(
            "lower sources: sampled pairs {:e}, Jacobian pairs {:e}, pair ascent {:e}, Jacobian ascent {:e} (best: {}; σ(J) estimate {:e}, not a bound); compensated stage {:?}",
            l.sampled_pairs,
            l.jacobian_pairs,
            l.gradient_ascent,
            l.jacobian_ascent,
            l.best_source,
            l.jacobian_estimate,
            l.compensated
        );
    }
    let bounds = &report.bounds;
    for (name, v) in [
        ("product", Some(bounds.product)),
        ("liplt", bounds.liplt),
        ("multiplier", bounds.multiplier),
        ("combined", bounds.combined),
    ] {
        match v {
            Some(v) => println!("{name:<11} {v:e}  ratio {:.4}", v / lower),
            None => println!("{name:<11} (not reported)"),
        }
    }
    for p in &bounds.multiplier_pieces {
        println!(
            "  multiplier piece {}..{} ({}): {:e} against its product {:e}",
            p.start, p.end, p.kind, p.multiplier, p.product
        );
    }
    for s in &bounds.segments {
        println!("  liplt segment {s:?}");
    }
    for l in report.layers.iter().filter(|l| l.kind == "residual") {
        println!(
            "  block {}: lower {:.4} (own pair search), upper {:.4}",
            l.index, l.lower, l.upper
        );
    }
    println!(
        "upper {:e} [{}], total {seconds:.1} s with {} (target < 120 s)",
        report.upper,
        report.upper_method,
        if threads == 0 {
            "all cores".to_string()
        } else {
            format!("{threads} thread(s)")
        }
    );
}
