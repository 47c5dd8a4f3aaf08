//! ResNet-18 convolution layers: time and relative width of the rigorous
//! enclosure of σ (real padding and stride), and the circular exact spectrum
//! of the same kernels (for the comparison with `benches/conv_numpy.py`).
//!
//! `cargo bench --bench conv` prints a table (one certified run per layer)
//! and then runs criterion on the circular spectrum of the small layers.
//! Set `CONV_BENCH_TABLE_ONLY=1` to skip criterion, `CONV_BENCH_ONLY=<substring>`
//! to restrict the table to matching layer names, `CONV_BENCH_STEPS=<k>` to
//! run exactly k Lanczos steps for the lower bound, `CONV_BENCH_TOL=<t>` to set
//! the Lanczos stopping tolerance, `CONV_BENCH_CIRCULAR_ONLY=1` to time only
//! the circular spectra (the comparison with numpy; median of 3 runs), and
//! `CONV_BENCH_ROUTE=autocorrelation|samples` to force the route of the
//! per-frequency Gram matrices there (default: the cheaper by the model);
//! `LIPCERT_BENCH_THREADS=<t>` runs the circular spectra on t threads
//! (default 1; 0: all cores).

use criterion::Criterion;
use lipcert::conv::{
    circular_embedding_bound, circular_embedding_bound_with, conv_sigma, Conv2dGeometry,
    ConvOptions, Kernel, PaddingMode, SymbolRoute,
};
use std::time::Instant;

struct Layer {
    name: &'static str,
    c_in: usize,
    c_out: usize,
    k: usize,
    n: usize,
    stride: usize,
    pad: usize,
    count: usize,
}

const LAYERS: [Layer; 11] = [
    Layer {
        name: "stem 7x7/2 3->64 @224",
        c_in: 3,
        c_out: 64,
        k: 7,
        n: 224,
        stride: 2,
        pad: 3,
        count: 1,
    },
    Layer {
        name: "3x3 64->64 @56",
        c_in: 64,
        c_out: 64,
        k: 3,
        n: 56,
        stride: 1,
        pad: 1,
        count: 4,
    },
    Layer {
        name: "3x3/2 64->128 @56",
        c_in: 64,
        c_out: 128,
        k: 3,
        n: 56,
        stride: 2,
        pad: 1,
        count: 1,
    },
    Layer {
        name: "1x1/2 64->128 @56",
        c_in: 64,
        c_out: 128,
        k: 1,
        n: 56,
        stride: 2,
        pad: 0,
        count: 1,
    },
    Layer {
        name: "3x3 128->128 @28",
        c_in: 128,
        c_out: 128,
        k: 3,
        n: 28,
        stride: 1,
        pad: 1,
        count: 3,
    },
    Layer {
        name: "3x3/2 128->256 @28",
        c_in: 128,
        c_out: 256,
        k: 3,
        n: 28,
        stride: 2,
        pad: 1,
        count: 1,
    },
    Layer {
        name: "1x1/2 128->256 @28",
        c_in: 128,
        c_out: 256,
        k: 1,
        n: 28,
        stride: 2,
        pad: 0,
        count: 1,
    },
    Layer {
        name: "3x3 256->256 @14",
        c_in: 256,
        c_out: 256,
        k: 3,
        n: 14,
        stride: 1,
        pad: 1,
        count: 3,
    },
    Layer {
        name: "3x3/2 256->512 @14",
        c_in: 256,
        c_out: 512,
        k: 3,
        n: 14,
        stride: 2,
        pad: 1,
        count: 1,
    },
    Layer {
        name: "1x1/2 256->512 @14",
        c_in: 256,
        c_out: 512,
        k: 1,
        n: 14,
        stride: 2,
        pad: 0,
        count: 1,
    },
    Layer {
        name: "3x3 512->512 @7",
        c_in: 512,
        c_out: 512,
        k: 3,
        n: 7,
        stride: 1,
        pad: 1,
        count: 3,
    },
];

/// He-initialized kernel (normal, std √(2/fan_in)) from a fixed seed
/// (Box–Muller over splitmix64).
fn he_kernel(l: &Layer, seed: u64) -> Kernel {
    let mut state = seed;
    let mut uni = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let n = l.c_out * l.c_in * l.k * l.k;
    let std = (2.0 / (l.c_in * l.k * l.k) as f64).sqrt();
    let vals: Vec<f32> = (0..n)
        .map(|_| {
            let (u1, u2) = (uni(), uni());
            ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos() * std) as f32
        })
        .collect();
    Kernel::from_f32(l.c_out, l.c_in, l.k, l.k, &vals).unwrap()
}

fn geometry(l: &Layer, mode: PaddingMode) -> Conv2dGeometry {
    let mut g = Conv2dGeometry::new(l.c_out, l.c_in, l.k, l.k, l.n, l.n);
    g.stride = (l.stride, l.stride);
    g.padding = (l.pad, l.pad, l.pad, l.pad);
    g.mode = mode;
    g
}

/// Circular stride-1 geometry with "same" output (the Sedghi et al. setting).
fn circular_same(l: &Layer) -> Conv2dGeometry {
    let mut g = Conv2dGeometry::new(l.c_out, l.c_in, l.k, l.k, l.n, l.n);
    g.mode = PaddingMode::Circular;
    g.padding = (l.k / 2, l.k / 2, (l.k - 1) / 2, (l.k - 1) / 2);
    g
}

/// CPU seconds (user + system) of this process, from /proc/self/stat
/// (clock ticks of 1/100 s); the machine is shared, so wall time overstates.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit(')').next()?.to_string();
            let f: Vec<&str> = rest.split_whitespace().collect();
            let u: f64 = f.get(11)?.parse().ok()?;
            let st: f64 = f.get(12)?.parse().ok()?;
            Some((u + st) / 100.0)
        })
        .unwrap_or(f64::NAN)
}

fn table() {
    faer::set_global_parallelism(faer::Par::Seq);
    println!(
        "| layer | ×n | zero-pad σ enclosure | rel. width | wall (s) | cpu (s) | ‖R‖ | circular exact σ | wall (s) | cpu (s) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let (mut total, mut total_mult) = (0.0, 0.0);
    let (mut total_cpu, mut total_cpu_mult) = (0.0, 0.0);
    let only = std::env::var("CONV_BENCH_ONLY").ok();
    for (i, l) in LAYERS.iter().enumerate() {
        if only.as_ref().is_some_and(|o| !l.name.contains(o.as_str())) {
            continue;
        }
        let k = he_kernel(l, 1000 + i as u64);
        if std::env::var_os("CONV_BENCH_CIRCULAR_ONLY").is_some() {
            let gc = circular_same(l);
            let route = match std::env::var("CONV_BENCH_ROUTE").as_deref() {
                Ok("autocorrelation") => SymbolRoute::Autocorrelation,
                Ok("samples") => SymbolRoute::Samples,
                _ => SymbolRoute::Cheapest,
            };
            let threads = std::env::var("LIPCERT_BENCH_THREADS")
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(1);
            let circular_embedding_bound = |k: &Kernel, g: &Conv2dGeometry| {
                circular_embedding_bound_with(k, g, route, threads)
            };
            let mut times: Vec<f64> = (0..3)
                .map(|_| {
                    let t = Instant::now();
                    circular_embedding_bound(&k, &gc).unwrap();
                    t.elapsed().as_secs_f64()
                })
                .collect();
            times.sort_by(f64::total_cmp);
            let c = circular_embedding_bound(&k, &gc).unwrap();
            println!(
                "| {} | circular σ ≤ {:.8} | {:.3} s |",
                l.name, c.upper, times[1]
            );
            continue;
        }
        let g = geometry(l, PaddingMode::Zeros);
        let (t, c0) = (Instant::now(), cpu_seconds());
        let mut options = ConvOptions::default();
        if let Some(steps) = std::env::var("CONV_BENCH_STEPS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            options.lanczos_steps = steps;
            options.lanczos_tolerance = 0.0;
        }
        if let Some(tol) = std::env::var("CONV_BENCH_TOL")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            options.lanczos_tolerance = tol;
        }
        let r = conv_sigma(&k, &g, &options).unwrap();
        let (dt, ct) = (t.elapsed().as_secs_f64(), cpu_seconds() - c0);
        total += dt;
        total_mult += dt * l.count as f64;
        total_cpu += ct;
        total_cpu_mult += ct * l.count as f64;
        let gc = circular_same(l);
        let (t, c0) = (Instant::now(), cpu_seconds());
        let c = circular_embedding_bound(&k, &gc).unwrap();
        let (dc, cc) = (t.elapsed().as_secs_f64(), cpu_seconds() - c0);
        println!(
            "| {} | {} | [{:.6}, {:.6}] | {:.2e} | {:.2} | {:.2} | {:.6} | ≤ {:.8} | {:.2} | {:.2} |",
            l.name,
            l.count,
            r.enclosure.lower(),
            r.enclosure.upper(),
            r.relative_width,
            dt,
            ct,
            r.reshaped.upper(),
            c.upper,
            dc,
            cc
        );
    }
    println!("total over unique layers: {total:.2} s wall, {total_cpu:.2} s cpu; over all 20 ResNet-18 conv layers (with repeats): {total_mult:.2} s wall, {total_cpu_mult:.2} s cpu");
}

fn main() {
    table();
    if std::env::var_os("CONV_BENCH_TABLE_ONLY").is_some() {
        return;
    }
    let mut c = Criterion::default().sample_size(10).configure_from_args();
    for l in LAYERS.iter().filter(|l| l.c_in * l.c_out <= 128 * 128) {
        let k = he_kernel(l, 7);
        let gc = circular_same(l);
        c.bench_function(&format!("circular spectrum {}", l.name), |b| {
            b.iter(|| circular_embedding_bound(&k, &gc).unwrap())
        });
    }
    c.final_summary();
}
