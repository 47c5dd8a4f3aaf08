//! Writes `examples/mlp.safetensors`, the small network the README runs
//! lipcert on: a 3×3 convolution kernel, three dense layers and a bias, all
//! f32, with PyTorch-style uniform(−1/√fan_in, 1/√fan_in) values from a fixed
//! xorshift64* seed, so the file is the same on every machine.
//!
//! Run with `cargo run --example make_example` (overwrites the file).

use lipcert::io::safetensors::encode;
use lipcert::SourceDtype;

/// xorshift64* (Vigna 2016): a tiny deterministic generator.
struct Rng(u64);

impl Rng {
    fn next_unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `n` values uniform in (−bound, bound), rounded to f32.
    fn uniform(&mut self, n: usize, bound: f64) -> Vec<f64> {
        (0..n)
            .map(|_| f64::from(((2.0 * self.next_unit() - 1.0) * bound) as f32))
            .collect()
    }
}

fn main() {
    let mut rng = Rng(0x6c69_7063_6572_7421);
    let mut layer = |name: &'static str, shape: Vec<usize>, fan_in: usize| {
        let n = shape.iter().product();
        let values = rng.uniform(n, 1.0 / (fan_in as f64).sqrt());
        (name, SourceDtype::F32, shape, values)
    };
    let tensors = vec![
        layer("conv1.weight", vec![8, 3, 3, 3], 27),
        layer("fc1.weight", vec![64, 32], 32),
        layer("fc1.bias", vec![64], 32),
        layer("fc2.weight", vec![32, 64], 64),
        layer("fc3.weight", vec![10, 32], 32),
    ];
    let bytes = encode(&tensors).expect("shapes match their values");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/mlp.safetensors");
    lipcert::io::atomic_write::write_atomic(&path, &bytes).expect("examples/ is writable");
    println!("wrote {}", path.display());
}
