//! Oracle checks for convolution layers: the operator norm of the layer
//! (the linear map x ↦ conv(pad(x)), bias ignored) certified by
//! [`crate::conv::conv_sigma`], held against a claim.

use super::{at_most_verdict, check_rel_tol, estimate_verdict, normalized_verdict, OracleError};
use crate::conv::{conv_sigma, Conv2dGeometry, ConvOptions, ConvReport, Kernel};

/// Checks that an implementation's estimate `claimed` of a convolution's
/// operator norm lies in the certified enclosure widened by `rel_tol`
/// (as [`super::check_sigma_estimate`] does for dense layers); returns the
/// report (enclosure and reshaped-kernel norm).
///
/// ```
/// use lipcert::conv::{Conv2dGeometry, Kernel};
/// use lipcert::oracle;
/// // A 1×1 convolution scales every pixel: its norm is |k| = 3.
/// let k = Kernel::from_f64(1, 1, 1, 1, &[3.0][..]).unwrap();
/// let g = Conv2dGeometry::new(1, 1, 1, 1, 4, 4);
/// oracle::assert_conv_sigma_estimate_in_enclosure(&k, &g, 3.0, 1e-12);
/// assert!(oracle::check_conv_sigma_estimate(&k, &g, 2.9, 1e-6).is_err());
/// ```
pub fn check_conv_sigma_estimate(
    kernel: &Kernel,
    geometry: &Conv2dGeometry,
    claimed: f64,
    rel_tol: f64,
) -> Result<ConvReport, OracleError> {
    check_rel_tol(rel_tol)?;
    let r = conv_sigma(kernel, geometry, &ConvOptions::default())?;
    estimate_verdict(&r.enclosure, claimed, rel_tol)?;
    Ok(r)
}

/// Panicking form of [`check_conv_sigma_estimate`].
#[track_caller]
pub fn assert_conv_sigma_estimate_in_enclosure(
    kernel: &Kernel,
    geometry: &Conv2dGeometry,
    claimed: f64,
    rel_tol: f64,
) {
    if let Err(e) = check_conv_sigma_estimate(kernel, geometry, claimed, rel_tol) {
        panic!("{e}");
    }
}

/// Checks that the convolution's operator norm is certainly ≤ `at_most`
/// (for "this conv layer is 1-Lipschitz" tests).
///
/// ```
/// use lipcert::conv::{Conv2dGeometry, Kernel};
/// use lipcert::oracle;
/// // Zero-padded 3×3 averaging: norm just below 1.
/// let k = Kernel::from_f64(1, 1, 3, 3, &[1.0 / 9.0; 9][..]).unwrap();
/// let g = Conv2dGeometry::new(1, 1, 3, 3, 8, 8).with_padding((1, 1, 1, 1));
/// oracle::assert_conv_sigma_at_most(&k, &g, 1.0);
/// // Its reshaped-kernel norm (1/3) is not the layer's norm:
/// assert!(oracle::check_conv_sigma_at_most(&k, &g, 1.0 / 3.0).is_err());
/// ```
pub fn check_conv_sigma_at_most(
    kernel: &Kernel,
    geometry: &Conv2dGeometry,
    at_most: f64,
) -> Result<ConvReport, OracleError> {
    let r = conv_sigma(kernel, geometry, &ConvOptions::default())?;
    at_most_verdict("conv operator norm", &r.enclosure, at_most)?;
    Ok(r)
}

/// Panicking form of [`check_conv_sigma_at_most`].
#[track_caller]
pub fn assert_conv_sigma_at_most(kernel: &Kernel, geometry: &Conv2dGeometry, at_most: f64) {
    if let Err(e) = check_conv_sigma_at_most(kernel, geometry, at_most) {
        panic!("{e}");
    }
}

/// Checks that a (spectrally normalized) convolution has certified operator
/// norm within `eps` of 1: the whole enclosure must lie in [1 − eps, 1 + eps].
/// A kernel divided by its reshaped norm ‖R‖ (what framework
/// `spectral_norm` does) usually fails this.
///
/// ```
/// use lipcert::conv::{Conv2dGeometry, Kernel, PaddingMode};
/// use lipcert::oracle;
/// // Circular padding: the 1×2 kernel [½, ½] averages neighbours; norm 1.
/// let k = Kernel::from_f64(1, 1, 1, 2, &[0.5, 0.5][..]).unwrap();
/// let g = Conv2dGeometry::new(1, 1, 1, 2, 1, 8)
///     .with_padding((0, 0, 0, 1))
///     .with_mode(PaddingMode::Circular);
/// oracle::assert_conv_normalized(&k, &g, 1e-9);
/// ```
pub fn check_conv_normalized(
    kernel: &Kernel,
    geometry: &Conv2dGeometry,
    eps: f64,
) -> Result<ConvReport, OracleError> {
    let r = conv_sigma(kernel, geometry, &ConvOptions::default())?;
    normalized_verdict(&r.enclosure, eps)?;
    Ok(r)
}

/// Panicking form of [`check_conv_normalized`].
#[track_caller]
pub fn assert_conv_normalized(kernel: &Kernel, geometry: &Conv2dGeometry, eps: f64) {
    if let Err(e) = check_conv_normalized(kernel, geometry, eps) {
        panic!("{e}");
    }
}
