//! Criterion benchmarks of σ(W) on Gaussian matrices: each method's time and
//! the rigorous `auto` enclosure next to faer's plain singular values on the
//! same matrix in the same run. Sizes: 64…1024 by default; set
//! `LIPCERT_BENCH_LARGE=1` to add 2048.
//!
//! Run: `cargo bench --bench dense`. For a compact ratio table see
//! `cargo bench --bench dense_ratio`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use lipcert::{estimate::svd, sigma, DenseMatrix, Method, SigmaOptions};
use std::hint::black_box;

/// Deterministic Gaussian matrix (xorshift + Box–Muller).
pub fn gaussian(m: usize, n: usize, seed: u64) -> DenseMatrix {
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    DenseMatrix::from_fn(m, n, |_, _| {
        let (u1, u2) = (next(), next());
        (-2.0 * (1.0 - u1).ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    })
    .expect("finite")
}

fn sizes() -> Vec<(usize, usize)> {
    let mut v = vec![
        (64, 64),
        (256, 256),
        (512, 512),
        (1024, 1024),
        (1024, 256),
        (256, 1024),
    ];
    if std::env::var("LIPCERT_BENCH_LARGE").is_ok() {
        v.push((2048, 2048));
    }
    v
}

fn bench_dense(c: &mut Criterion) {
    faer::set_global_parallelism(faer::Par::Seq);
    let mut group = c.benchmark_group("sigma");
    group.sample_size(10);
    for (m, n) in sizes() {
        let w = gaussian(m, n, 42);
        let id = format!("{m}x{n}");
        group.bench_with_input(BenchmarkId::new("faer_singular_values", &id), &w, |b, w| {
            b.iter(|| svd::faer_singular_values(black_box(w)).unwrap())
        });
        for method in [Method::Auto, Method::Svd] {
            let opts = SigmaOptions::with_method(method);
            group.bench_with_input(BenchmarkId::new(method.name(), &id), &w, |b, w| {
                b.iter(|| sigma(black_box(w), &opts).unwrap())
            });
        }
        if m.max(n) <= 512 {
            let opts = SigmaOptions::with_method(Method::Rump);
            group.bench_with_input(BenchmarkId::new("rump", &id), &w, |b, w| {
                b.iter(|| sigma(black_box(w), &opts).unwrap())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_dense);
criterion_main!(benches);
