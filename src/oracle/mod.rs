//! Assertion helpers for other crates' tests: lipcert as a reference oracle.
//!
//! Each check returns `Result<_, OracleError>` (for tests that want to
//! inspect a failure) and has a panicking `assert_*` twin whose message says
//! what was claimed, what is certified, and by how much they disagree.
//!
//! | helper | passes when |
//! |---|---|
//! | [`assert_sigma_estimate_in_enclosure`] | an estimate of σ(W) lies in the certified enclosure (± a relative tolerance) |
//! | [`assert_sigma_at_most`] | σ(W) ≤ a bound, certified ("this layer is 1-Lipschitz") |
//! | [`assert_normalized`] | a spectrally normalized W has certified σ within ε of 1 |
//! | [`assert_conv_sigma_estimate_in_enclosure`] | an estimate of a convolution's operator norm lies in its certified enclosure |
//! | [`assert_conv_sigma_at_most`] | a convolution's operator norm ≤ a bound, certified |
//! | [`assert_conv_normalized`] | a normalized convolution has certified operator norm within ε of 1 |
//! | [`assert_network_lipschitz_at_most`] | a network's Lipschitz constant ≤ a bound, certified |
//! | [`assert_lipschitz_on_samples`] | a function satisfies ‖f(x) − f(y)‖ ≤ L‖x − y‖ on sample pairs |
//!
//! ```
//! use lipcert::{DenseMatrix, oracle};
//! let w = DenseMatrix::from_row_major(2, 2, &[3.0, 0.0, 0.0, 4.0]).unwrap();
//! oracle::assert_sigma_estimate_in_enclosure(&w, 4.0 + 1e-12, 1e-9);
//! assert!(oracle::check_sigma_estimate(&w, 3.9, 1e-9).is_err());
//! ```

mod conv;
mod network;

pub use conv::{
    assert_conv_normalized, assert_conv_sigma_at_most, assert_conv_sigma_estimate_in_enclosure,
    check_conv_normalized, check_conv_sigma_at_most, check_conv_sigma_estimate,
};
pub use network::{assert_network_lipschitz_at_most, check_network_lipschitz_at_most};

use crate::enclosure::Enclosure;
use crate::error::Error;
use crate::matrix::DenseMatrix;
use crate::normalize::deviation_from_one;
use crate::sigma::{sigma, SigmaOptions};
use std::fmt;

/// Why an oracle check failed.
#[derive(Debug, Clone, PartialEq)]
pub enum OracleError {
    /// The claimed σ lies outside the certified enclosure widened by the
    /// relative tolerance.
    EstimateOutsideEnclosure {
        /// The value under test.
        claimed: f64,
        /// Certified lower bound on σ.
        lower: f64,
        /// Certified upper bound on σ.
        upper: f64,
        /// Relative tolerance allowed.
        rel_tol: f64,
    },
    /// A sampled pair violates ‖f(x) − f(y)‖ ≤ L‖x − y‖·(1 + tol).
    NotLipschitz {
        /// Index of the worst pair.
        pair: usize,
        /// ‖f(x) − f(y)‖/‖x − y‖ for that pair.
        ratio: f64,
        /// The claimed constant.
        claimed: f64,
        /// ‖x − y‖ of that pair.
        distance: f64,
    },
    /// The certified σ is not within `eps` of 1 (or could not be certified
    /// to be).
    NotNormalized {
        /// Certified lower bound on σ.
        lower: f64,
        /// Certified upper bound on σ.
        upper: f64,
        /// Allowed deviation.
        eps: f64,
    },
    /// The certified upper bound is above the claimed bound `at_most`:
    /// either the claim is certainly wrong (`lower > at_most`) or lipcert
    /// could not certify it (`lower ≤ at_most < upper`).
    AboveBound {
        /// What was checked (e.g. "sigma", "conv sigma", "network Lipschitz constant").
        what: &'static str,
        /// The claimed upper bound.
        at_most: f64,
        /// Certified (achieved) lower bound.
        lower: f64,
        /// Certified upper bound.
        upper: f64,
    },
    /// The input itself was rejected (or a sample had the wrong length).
    Input(Error),
}

impl fmt::Display for OracleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OracleError::EstimateOutsideEnclosure { claimed, lower, upper, rel_tol } => {
                let rel = if *claimed < *lower {
                    (lower - claimed) / lower
                } else {
                    (claimed - upper) / upper
                };
                write!(
                    f,
                    "sigma estimate {claimed:e} is outside the certified enclosure [{lower:e}, {upper:e}] \
                     by {rel:.3e} relative ({} the true value; tolerance {rel_tol:e})",
                    if claimed < lower { "below" } else { "above" }
                )
            }
            OracleError::NotLipschitz { pair, ratio, claimed, distance } => write!(
                f,
                "function is not {claimed:e}-Lipschitz: sample pair {pair} (‖x − y‖ = {distance:e}) has \
                 ‖f(x) − f(y)‖/‖x − y‖ = {ratio:e}, {:.3e} times the claimed constant",
                ratio / claimed
            ),
            OracleError::NotNormalized { lower, upper, eps } => write!(
                f,
                "normalized layer is not within {eps:e} of norm 1: certified sigma in [{lower:e}, {upper:e}] \
                 (certified deviation from 1 up to {:e})",
                (upper - 1.0).max(1.0 - lower)
            ),
            OracleError::AboveBound { what, at_most, lower, upper } => {
                if lower > at_most {
                    write!(
                        f,
                        "{what} is certainly above {at_most:e}: certified enclosure [{lower:e}, {upper:e}], \
                         at least {:.3e} relative above the claim",
                        (lower - at_most) / at_most.abs().max(f64::MIN_POSITIVE)
                    )
                } else {
                    write!(
                        f,
                        "{what} could not be certified to be at most {at_most:e}: certified enclosure \
                         [{lower:e}, {upper:e}] straddles it (the claim may hold; lipcert cannot prove it)"
                    )
                }
            }
            OracleError::Input(e) => write!(f, "oracle input rejected: {e}"),
        }
    }
}

impl std::error::Error for OracleError {}

impl From<Error> for OracleError {
    fn from(e: Error) -> Self {
        OracleError::Input(e)
    }
}

/// Checks that an implementation's estimate `claimed` of σ(w) lies in the
/// certified enclosure [lower·(1 − rel_tol), upper·(1 + rel_tol)]; returns
/// the enclosure.
pub fn check_sigma_estimate(
    w: &DenseMatrix,
    claimed: f64,
    rel_tol: f64,
) -> Result<Enclosure, OracleError> {
    check_rel_tol(rel_tol)?;
    let e = sigma(w, &SigmaOptions::default())?;
    estimate_verdict(&e, claimed, rel_tol)?;
    Ok(e)
}

/// Panicking form of [`check_sigma_estimate`].
#[track_caller]
pub fn assert_sigma_estimate_in_enclosure(w: &DenseMatrix, claimed: f64, rel_tol: f64) {
    if let Err(e) = check_sigma_estimate(w, claimed, rel_tol) {
        panic!("{e}");
    }
}

/// Checks that σ(w) ≤ `at_most`, certified: passes when the certified upper
/// bound is ≤ `at_most`; fails with [`OracleError::AboveBound`] otherwise
/// (its message says whether the claim is certainly wrong or merely not
/// certifiable at the default width 1e-9).
///
/// ```
/// use lipcert::{DenseMatrix, oracle};
/// let w = DenseMatrix::from_row_major(1, 2, &[0.6, 0.8]).unwrap(); // σ = 1 up to rounding of the decimals
/// oracle::assert_sigma_at_most(&w, 1.0 + 1e-6);
/// assert!(oracle::check_sigma_at_most(&w, 0.99).is_err());
/// ```
pub fn check_sigma_at_most(w: &DenseMatrix, at_most: f64) -> Result<Enclosure, OracleError> {
    let e = sigma(w, &SigmaOptions::default())?;
    at_most_verdict("sigma", &e, at_most)?;
    Ok(e)
}

/// Panicking form of [`check_sigma_at_most`].
#[track_caller]
pub fn assert_sigma_at_most(w: &DenseMatrix, at_most: f64) {
    if let Err(e) = check_sigma_at_most(w, at_most) {
        panic!("{e}");
    }
}

/// `Ok` when `e.upper() ≤ at_most` (a NaN claim never passes).
fn at_most_verdict(what: &'static str, e: &Enclosure, at_most: f64) -> Result<(), OracleError> {
    bound_verdict(what, e.lower(), e.upper(), at_most)
}

/// `Ok` when `upper ≤ at_most`, else [`OracleError::AboveBound`].
fn bound_verdict(
    what: &'static str,
    lower: f64,
    upper: f64,
    at_most: f64,
) -> Result<(), OracleError> {
    if upper <= at_most {
        Ok(())
    } else {
        Err(OracleError::AboveBound {
            what,
            at_most,
            lower,
            upper,
        })
    }
}

/// The estimate-in-enclosure test shared by the dense and conv checks:
/// `claimed ∈ [lower·(1 − rel_tol), upper·(1 + rel_tol)]`.
fn estimate_verdict(e: &Enclosure, claimed: f64, rel_tol: f64) -> Result<(), OracleError> {
    let lo = e.lower() * (1.0 - rel_tol);
    let hi = e.upper() * (1.0 + rel_tol);
    if claimed.is_nan() || claimed < lo || claimed > hi {
        return Err(OracleError::EstimateOutsideEnclosure {
            claimed,
            lower: e.lower(),
            upper: e.upper(),
            rel_tol,
        });
    }
    Ok(())
}

/// Rejects a relative tolerance that is negative, NaN or infinite.
fn check_rel_tol(rel_tol: f64) -> Result<(), OracleError> {
    if !(rel_tol >= 0.0 && rel_tol.is_finite()) {
        return Err(
            Error::InvalidOption(format!("rel_tol {rel_tol} must be finite and ≥ 0")).into(),
        );
    }
    Ok(())
}

/// Checks ‖f(x) − f(y)‖ ≤ L·‖x − y‖·(1 + rel_tol) on every sample pair
/// (evaluated in floating point: `rel_tol` must cover the rounding of `f`;
/// for lipcert networks use
/// [`crate::network::lower_bounds::rigorous_pair_ratio`], which is sound).
/// Reports the worst violating pair.
pub fn check_lipschitz_on_samples<F>(
    f: F,
    lipschitz: f64,
    samples: &[(Vec<f64>, Vec<f64>)],
    rel_tol: f64,
) -> Result<(), OracleError>
where
    F: Fn(&[f64]) -> Vec<f64>,
{
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let mut worst: Option<OracleError> = None;
    let mut worst_ratio = f64::NEG_INFINITY;
    for (i, (x, y)) in samples.iter().enumerate() {
        if x.len() != y.len() {
            return Err(Error::ShapeMismatch {
                what: "sample pair lengths",
                expected: x.len(),
                got: y.len(),
            }
            .into());
        }
        let fx = f(x);
        let fy = f(y);
        if fx.len() != fy.len() {
            return Err(Error::ShapeMismatch {
                what: "function output lengths",
                expected: fx.len(),
                got: fy.len(),
            }
            .into());
        }
        let dx: Vec<f64> = x.iter().zip(y).map(|(a, b)| a - b).collect();
        let df: Vec<f64> = fx.iter().zip(&fy).map(|(a, b)| a - b).collect();
        let (nx, nf) = (norm(&dx), norm(&df));
        if nx == 0.0 {
            continue;
        }
        let ratio = nf / nx;
        let violates = ratio.is_nan() || ratio > lipschitz * (1.0 + rel_tol);
        if violates && (ratio.is_nan() || ratio > worst_ratio) {
            worst_ratio = ratio;
            worst = Some(OracleError::NotLipschitz {
                pair: i,
                ratio,
                claimed: lipschitz,
                distance: nx,
            });
        }
    }
    worst.map_or(Ok(()), Err)
}

/// Panicking form of [`check_lipschitz_on_samples`] with `rel_tol = 1e-12`.
#[track_caller]
pub fn assert_lipschitz_on_samples<F>(f: F, lipschitz: f64, samples: &[(Vec<f64>, Vec<f64>)])
where
    F: Fn(&[f64]) -> Vec<f64>,
{
    if let Err(e) = check_lipschitz_on_samples(f, lipschitz, samples, 1e-12) {
        panic!("{e}");
    }
}

/// Checks that a (spectrally normalized) matrix has σ within `eps` of 1,
/// certified: the whole enclosure must lie in [1 − eps, 1 + eps].
pub fn check_normalized(w: &DenseMatrix, eps: f64) -> Result<Enclosure, OracleError> {
    let e = sigma(w, &SigmaOptions::default())?;
    normalized_verdict(&e, eps)?;
    Ok(e)
}

/// `Ok` when the whole enclosure lies in [1 − eps, 1 + eps].
fn normalized_verdict(e: &Enclosure, eps: f64) -> Result<(), OracleError> {
    let deviation = deviation_from_one(e);
    if deviation > eps || deviation.is_nan() || eps.is_nan() {
        return Err(OracleError::NotNormalized {
            lower: e.lower(),
            upper: e.upper(),
            eps,
        });
    }
    Ok(())
}

/// Panicking form of [`check_normalized`].
#[track_caller]
pub fn assert_normalized(w: &DenseMatrix, eps: f64) {
    if let Err(e) = check_normalized(w, eps) {
        panic!("{e}");
    }
}
