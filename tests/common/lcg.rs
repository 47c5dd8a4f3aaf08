//! A tiny deterministic generator for test data (a 64-bit linear
//! congruential generator, Knuth's MMIX constants), uniform in [−1, 1).

/// The generator's state.
pub struct Lcg(pub u64);

impl Lcg {
    /// Next value, uniform in [−1, 1).
    pub fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
    /// `n` values scaled by `scale`.
    pub fn vec(&mut self, n: usize, scale: f64) -> Vec<f64> {
        (0..n).map(|_| self.next() * scale).collect()
    }
    /// f32-representable values (what a stored weight is).
    pub fn f32s(&mut self, n: usize, scale: f64) -> Vec<f32> {
        (0..n).map(|_| (self.next() * scale) as f32).collect()
    }
}
