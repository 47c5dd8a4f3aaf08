//! Ratio table for the dense core: the rigorous `auto` enclosure (target
//! relative width 1e-9) against faer's plain singular values on the same
//! Gaussian matrix in the same process, median of 3, single-threaded.
//!
//! Run: `cargo bench --bench dense_ratio` (add `-- --large` for n = 2048 and
//! the probabilistic n = 4096 row). Compare with
//! `benches/numpy_norm.py`, which times `numpy.linalg.norm(W, 2)` on the same
//! matrices (same generator).

use lipcert::{estimate::svd, sigma, DenseMatrix, SigmaOptions};
use std::time::Instant;

/// The deterministic Gaussian generator shared with `numpy_norm.py`:
/// xorshift64 (13, 7, 17) → 53-bit uniforms → Box–Muller (cosine branch).
fn gaussian(m: usize, n: usize, seed: u64) -> DenseMatrix {
    let mut state = seed;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let data: Vec<f64> = (0..m * n)
        .map(|_| {
            let (u1, u2) = (next(), next());
            (-2.0 * (1.0 - u1).ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        })
        .collect();
    DenseMatrix::from_row_major(m, n, &data).expect("finite")
}

fn median_of_3(mut f: impl FnMut() -> f64) -> f64 {
    let mut t = [f(), f(), f()];
    t.sort_by(f64::total_cmp);
    t[1]
}

fn time<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let start = Instant::now();
    let out = f();
    (start.elapsed().as_secs_f64(), out)
}

fn main() {
    faer::set_global_parallelism(faer::Par::Seq);
    let large = std::env::args().any(|a| a == "--large");
    let mut shapes = vec![
        (64, 64),
        (128, 128),
        (256, 256),
        (512, 512),
        (1024, 1024),
        (1024, 256),
        (256, 1024),
    ];
    if large {
        shapes.push((2048, 2048));
        shapes.push((2048, 512));
    }
    println!(
        "{:>11} {:>12} {:>12} {:>8} {:>10} {:>22}",
        "shape", "faer_sv_s", "auto_s", "ratio", "rel_width", "upper"
    );
    for (m, n) in shapes {
        let w = gaussian(m, n, 0x2545_f491_4f6c_dd1d ^ (m * 131 + n) as u64);
        let faer_s = median_of_3(|| time(|| svd::faer_singular_values(&w).unwrap()).0);
        let mut last = None;
        let auto_s = median_of_3(|| {
            let (t, e) = time(|| sigma(&w, &SigmaOptions::default()).unwrap());
            last = Some(e);
            t
        });
        let e = last.expect("ran three times");
        println!(
            "{:>11} {:>12.4} {:>12.4} {:>8.3} {:>10.2e} {:>22.17e}",
            format!("{m}x{n}"),
            faer_s,
            auto_s,
            auto_s / faer_s,
            e.relative_width(),
            e.upper()
        );
    }
}
