//! The size guard of the exact oracle: it is meant for the small matrices of
//! property tests, not for production layers.
//!
//! The exact decision eliminates a k×k integer matrix, k = min(m, n), whose
//! intermediate entries are (j+1)×(j+1) minors at step j, i.e. integers of up
//! to about k·g bits where g is the bit length of the Gram entries (about
//! twice the bit span of the stored weights, up to ~4200 bits when the
//! weights range from subnormals to 1e308). The guard refuses
//! `min(m, n) > `[`MAX_EXACT_DIM`] and inputs whose estimated cost, in
//! 64-bit limb multiplications, exceeds [`MAX_EXACT_WORK`]; both errors say
//! which limit was hit and point to the floating-point certificates.

use crate::error::{Error, Result};

/// Largest min(m, n) the exact oracle accepts.
pub const MAX_EXACT_DIM: usize = 64;

/// Largest estimated work (64-bit limb multiplications, schoolbook model) of
/// one exact comparison: about 10³ times what a 32×32 Gaussian matrix needs
/// (≈ 6·10⁶, 20 ms), of the order of 5–15 s on the development machine. A
/// 16×16 matrix whose weights span the whole f64 range (≈ 2100 bits) needs
/// ≈ 2·10⁸ (0.2 s); a 64×64 Gaussian one ≈ 2·10⁸ (0.45 s).
pub const MAX_EXACT_WORK: f64 = 5.0e9;

/// Estimated limb multiplications to form the Gram matrix of a matrix with
/// `min_dim` × `max_dim` entries of `entry_bits` bits and to eliminate it
/// once: Gram: min²/2 · max · (b/64)²; elimination: Σⱼ (k−j)² · ((j+1)·g/64)²
/// with g = 2b + log₂(max) + 2 (the Gram entries plus the shift by s²).
pub fn estimated_work(min_dim: usize, max_dim: usize, entry_bits: u64) -> f64 {
    let k = min_dim as f64;
    let limbs = (entry_bits as f64 / 64.0).ceil().max(1.0);
    let gram = 0.5 * k * k * max_dim as f64 * limbs * limbs;
    let g = 2.0 * entry_bits as f64 + (max_dim as f64).log2() + 2.0;
    let mut elimination = 0.0;
    for j in 0..min_dim {
        let rest = (min_dim - j) as f64;
        let minor_limbs = ((j + 1) as f64 * g / 64.0).ceil();
        elimination += rest * rest * minor_limbs * minor_limbs;
    }
    gram + elimination
}

/// Refuses sizes the exact oracle is not meant for.
pub fn check_size(rows: usize, cols: usize, entry_bits: u64) -> Result<()> {
    let (min_dim, max_dim) = (rows.min(cols), rows.max(cols));
    if min_dim > MAX_EXACT_DIM {
        return Err(Error::InvalidOption(format!(
            "the exact oracle is for small matrices: min(rows, cols) = {min_dim} exceeds \
             {MAX_EXACT_DIM} ({rows}x{cols}); use a floating-point certified method \
             (svd, lanczos, rump, gram) instead"
        )));
    }
    let work = estimated_work(min_dim, max_dim, entry_bits);
    if work > MAX_EXACT_WORK {
        return Err(Error::InvalidOption(format!(
            "the exact oracle is for small matrices: a {rows}x{cols} matrix whose weights span \
             {entry_bits} bits needs about {work:.1e} limb multiplications per comparison \
             (limit {MAX_EXACT_WORK:.0e}); use a floating-point certified method instead"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_small_and_refuses_large() {
        assert!(check_size(32, 32, 60).is_ok());
        assert!(check_size(1, 100_000, 60).is_ok());
        assert!(check_size(64, 64, 60).is_ok());
        let e = check_size(65, 80, 60).unwrap_err();
        assert!(e.to_string().contains("small matrices"), "{e}");
        let e = check_size(64, 64, 2100).unwrap_err();
        assert!(e.to_string().contains("limb multiplications"), "{e}");
        assert!(check_size(8, 8, 2100).is_ok());
    }
}
