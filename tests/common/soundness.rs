//! The proptest configuration of the soundness properties: `cases` per
//! property and a fixed seed in CI, or `LIPCERT_SOUNDNESS_CASES` (and the
//! seed `LIPCERT_SOUNDNESS_SEED`) for a long run outside CI, which can then
//! be split into counted chunks with different seeds.

use proptest::test_runner::{Config as ProptestConfig, RngSeed};

/// `cases` and `seed` unless the environment overrides them.
pub fn config(cases: u32, seed: u64) -> ProptestConfig {
    let env = |name: &str| std::env::var(name).ok();
    ProptestConfig {
        cases: env("LIPCERT_SOUNDNESS_CASES")
            .and_then(|v| v.parse().ok())
            .unwrap_or(cases),
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(
            env("LIPCERT_SOUNDNESS_SEED")
                .and_then(|v| v.parse().ok())
                .unwrap_or(seed),
        ),
        ..ProptestConfig::default()
    }
}
