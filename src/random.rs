//! A tiny deterministic pseudo-random number generator for random start
//! vectors, so every run of lipcert is reproducible from its seed.
//!
//! The generator is xoshiro256** (D. Blackman and S. Vigna, "Scrambled linear
//! pseudorandom number generators", ACM TOMS 47(4), 2021), seeded by expanding
//! the 64-bit seed with SplitMix64 (G. Steele, D. Lea, C. Flood, "Fast
//! splittable pseudorandom number generators", OOPSLA 2014), as its authors
//! recommend. Normal deviates use Marsaglia's polar method (G. Marsaglia and
//! T. A. Bray, SIAM Review 6(3), 1964).
//!
//! This is *not* a cryptographic generator. The probabilistic guarantees of
//! lipcert (see [`crate::certify::probabilistic`]) model its output as truly
//! random; that modelling assumption is stated wherever it is used.

/// xoshiro256** state, seeded through SplitMix64.
///
/// ```
/// use lipcert::random::Rng;
/// let mut a = Rng::new(7);
/// let mut b = Rng::new(7);
/// assert_eq!(a.next_u64(), b.next_u64());
/// let v = a.unit_vector(5);
/// let norm: f64 = v.iter().map(|x| x * x).sum::<f64>().sqrt();
/// assert!((norm - 1.0).abs() < 1e-15);
/// ```
#[derive(Debug, Clone)]
pub struct Rng {
    state: [u64; 4],
    /// Second deviate of the last polar-method pair, not yet returned.
    spare_normal: Option<f64>,
}

/// One SplitMix64 step: advances `x` by the golden-ratio increment and returns
/// the mixed output.
fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator whose whole output stream is determined by `seed`.
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let state = [
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
        ];
        // SplitMix64 is a bijection of its counter, so four consecutive
        // outputs are never all zero (the one forbidden xoshiro state).
        Self {
            state,
            spare_normal: None,
        }
    }

    /// The next 64 uniformly distributed bits (xoshiro256**).
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform deviate in [0, 1): the top 53 bits times 2⁻⁵³ (every value
    /// k·2⁻⁵³, k = 0, …, 2⁵³ − 1, equally likely).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }

    /// A standard normal deviate N(0, 1) (Marsaglia's polar method: draw
    /// (x, y) uniform in the unit disc, s = x² + y², return
    /// x·√(−2 ln s / s) and keep y·√(−2 ln s / s) for the next call).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        loop {
            let x = 2.0 * self.uniform() - 1.0;
            let y = 2.0 * self.uniform() - 1.0;
            let s = x * x + y * y;
            if s > 0.0 && s < 1.0 {
                let f = (-2.0 * s.ln() / s).sqrt();
                self.spare_normal = Some(y * f);
                return x * f;
            }
        }
    }

    /// `n` independent standard normal deviates.
    pub fn gaussian_vec(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.normal()).collect()
    }

    /// A unit vector uniformly distributed on the sphere S^{n−1}: a Gaussian
    /// vector divided by its norm (the standard Gaussian is rotation
    /// invariant, so its direction is uniform). Returns an empty vector for
    /// n = 0.
    pub fn unit_vector(&mut self, n: usize) -> Vec<f64> {
        if n == 0 {
            return Vec::new();
        }
        loop {
            let mut v = self.gaussian_vec(n);
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            // The norm is zero only with probability 0; redraw if it happens.
            if norm > 0.0 && norm.is_finite() {
                v.iter_mut().for_each(|x| *x /= norm);
                return v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_different_seed_different_stream() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        let mut c = Rng::new(43);
        let xa: Vec<u64> = (0..100).map(|_| a.next_u64()).collect();
        let xb: Vec<u64> = (0..100).map(|_| b.next_u64()).collect();
        let xc: Vec<u64> = (0..100).map(|_| c.next_u64()).collect();
        assert_eq!(xa, xb);
        assert_ne!(xa, xc);
    }

    #[test]
    fn splitmix64_first_output_of_seed_zero_matches_reference() {
        // Reference value of SplitMix64 from seed 0 (first output), as
        // published with the algorithm: 0xE220A8397B1DCDAF.
        let mut x = 0u64;
        assert_eq!(splitmix64(&mut x), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn uniform_mean_and_variance_are_sane() {
        let mut r = Rng::new(1);
        let n = 100_000;
        let xs: Vec<f64> = (0..n).map(|_| r.uniform()).collect();
        assert!(xs.iter().all(|&x| (0.0..1.0).contains(&x)));
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        // Standard error of the mean is 0.29/√n ≈ 0.0009: 0.01 is > 10 σ.
        assert!((mean - 0.5).abs() < 0.01, "mean {mean}");
        assert!((var - 1.0 / 12.0).abs() < 0.01, "var {var}");
    }

    #[test]
    fn normal_mean_variance_and_tails_are_sane() {
        let mut r = Rng::new(2);
        let n = 100_000;
        let xs = r.gaussian_vec(n);
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.02, "mean {mean}");
        assert!((var - 1.0).abs() < 0.03, "var {var}");
        // P(|Z| > 2) = 0.0455.
        let tail = xs.iter().filter(|x| x.abs() > 2.0).count() as f64 / n as f64;
        assert!((tail - 0.0455).abs() < 0.005, "tail {tail}");
    }

    #[test]
    fn unit_vectors_have_norm_one_and_isotropic_coordinates() {
        let mut r = Rng::new(3);
        let dim = 4;
        let trials = 20_000;
        let mut second_moment = [0.0; 4];
        for _ in 0..trials {
            let v = r.unit_vector(dim);
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            assert!((norm - 1.0).abs() < 1e-14);
            for (m, x) in second_moment.iter_mut().zip(&v) {
                *m += x * x;
            }
        }
        // E[v_i²] = 1/dim for the uniform distribution on the sphere.
        for m in second_moment {
            let m = m / trials as f64;
            assert!((m - 0.25).abs() < 0.02, "second moment {m}");
        }
        assert!(r.unit_vector(0).is_empty());
        assert_eq!(r.unit_vector(1).iter().map(|x| x.abs()).sum::<f64>(), 1.0);
    }
}
