// Shared helpers for the conv_* integration tests.
#![allow(dead_code)]

use lipcert::conv::{Conv2dGeometry, Kernel, PaddingMode};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// A deterministic runner: fixed ChaCha seed, no failure persistence.
pub fn runner(cases: u32, seed: u8) -> TestRunner {
    // A soundness hunt outside CI: LIPCERT_CASE_FACTOR multiplies the case
    // count and LIPCERT_SEED changes the fixed seed (CI uses neither).
    let factor: u32 = std::env::var("LIPCERT_CASE_FACTOR")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let seed = seed
        ^ std::env::var("LIPCERT_SEED")
            .ok()
            .and_then(|v| v.parse::<u8>().ok())
            .unwrap_or(0);
    let cases = cases.saturating_mul(factor);
    let config = Config {
        cases,
        max_local_rejects: 65_536u32.saturating_mul(factor),
        max_global_rejects: 1024u32.saturating_mul(factor),
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        max_shrink_iters: 200,
        ..Config::default()
    };
    TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
    )
}

/// splitmix64 stream for kernel and vector values.
pub struct Stream(pub u64);
impl Stream {
    pub fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
    pub fn vec(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.next_f64()).collect()
    }
}

pub fn random_kernel(g: &Conv2dGeometry, seed: u64) -> Kernel {
    let mut s = Stream(seed);
    Kernel::from_f64(
        g.c_out,
        g.c_in_per_group(),
        g.kh,
        g.kw,
        s.vec(g.kernel_len()),
    )
    .unwrap()
}

fn mode_strategy() -> impl Strategy<Value = PaddingMode> {
    prop_oneof![
        Just(PaddingMode::Zeros),
        Just(PaddingMode::Circular),
        Just(PaddingMode::Reflect),
        Just(PaddingMode::Replicate),
    ]
}

/// Random valid geometries whose explicit matrix is small (≤ `max_dim` rows
/// and columns): channels 1–4, kernels 1–7 (even included), strides 1–3,
/// dilation 1–2, groups 1–2, all padding modes, inputs possibly smaller than
/// the kernel (made valid by padding).
pub fn geometry_strategy(max_dim: usize) -> impl Strategy<Value = Conv2dGeometry> {
    (
        (1usize..=2, 1usize..=2, 1usize..=2),
        (1usize..=7, 1usize..=7),
        (1usize..=9, 1usize..=9),
        (1usize..=3, 1usize..=3),
        (1usize..=2, 1usize..=2),
        (0usize..=3, 0usize..=3, 0usize..=3, 0usize..=3),
        mode_strategy(),
    )
        .prop_map(
            |((groups, cg, og), (kh, kw), (h, w), stride, dilation, padding, mode)| {
                let mut g = Conv2dGeometry::new(og * groups, cg * groups, kh, kw, h, w);
                g.groups = groups;
                g.stride = stride;
                g.dilation = dilation;
                g.padding = padding;
                g.mode = mode;
                g
            },
        )
        .prop_filter("valid and small", move |g| {
            g.validate().is_ok() && g.input_len() <= max_dim && g.output_len() <= max_dim
        })
}
