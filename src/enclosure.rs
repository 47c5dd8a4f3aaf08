//! The answer lipcert gives: an enclosure `[lower, upper]` of a nonnegative
//! quantity (a spectral norm, a Lipschitz constant), the best point estimate
//! inside it, and the kind of guarantee behind it.

use crate::error::{Error, Result};
use std::fmt;

/// How strongly an enclosure is guaranteed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Guarantee {
    /// `lower ≤ value ≤ upper` holds as a theorem, given IEEE-754 binary64
    /// round-to-nearest arithmetic and the assumptions stated in the doc
    /// comment of the function that produced it.
    Rigorous,
    /// `lower ≤ value` is rigorous; `value ≤ upper` holds with probability at
    /// least `1 − failure_probability` over the algorithm's own seeded random
    /// start vector.
    Probabilistic {
        /// Upper bound δ on the probability that `upper` is below the value.
        failure_probability: f64,
    },
}

impl Guarantee {
    /// `"rigorous"` or `"probabilistic"`.
    pub fn name(&self) -> &'static str {
        match self {
            Guarantee::Rigorous => "rigorous",
            Guarantee::Probabilistic { .. } => "probabilistic",
        }
    }

    /// δ for probabilistic results, 0 for rigorous ones.
    pub fn failure_probability(&self) -> f64 {
        match self {
            Guarantee::Rigorous => 0.0,
            Guarantee::Probabilistic {
                failure_probability,
            } => *failure_probability,
        }
    }

    /// The weaker of two guarantees (used when combining bounds): rigorous only
    /// if both are; otherwise failure probabilities add (union bound).
    pub fn combine(self, other: Guarantee) -> Guarantee {
        let p = self.failure_probability() + other.failure_probability();
        if p == 0.0 {
            Guarantee::Rigorous
        } else {
            Guarantee::Probabilistic {
                failure_probability: crate::rounding::add_up(0.0, p).min(1.0),
            }
        }
    }
}

/// The algorithm that produced (or was asked to produce) an enclosure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// Pick automatically: rigorous, tight and fast (see `sigma`).
    Auto,
    /// faer's SVD for the estimate and singular vectors.
    Svd,
    /// nalgebra's SVD (the independent second implementation).
    NalgebraSvd,
    /// Golub–Kahan–Lanczos bidiagonalization.
    Lanczos,
    /// Power iteration on WᵀW.
    Power,
    /// Gram iteration with rescaling (Delattre et al. 2023).
    Gram,
    /// Rump (BIT 2011) two-sided enclosure from approximate singular vectors.
    Rump,
    /// Exact rational decision procedure with bisection.
    Exact,
}

impl Method {
    /// Every method, in the order the CLI lists them.
    pub const ALL: [Method; 8] = [
        Method::Auto,
        Method::Svd,
        Method::NalgebraSvd,
        Method::Lanczos,
        Method::Power,
        Method::Gram,
        Method::Rump,
        Method::Exact,
    ];

    /// Short lower-case name (`"auto"`, `"svd"`, …), as used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Method::Auto => "auto",
            Method::Svd => "svd",
            Method::NalgebraSvd => "nalgebra-svd",
            Method::Lanczos => "lanczos",
            Method::Power => "power",
            Method::Gram => "gram",
            Method::Rump => "rump",
            Method::Exact => "exact",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Method {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Method::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                Error::InvalidOption(format!(
                    "unknown method '{s}' (expected one of: {})",
                    Method::ALL.map(|m| m.name()).join(", ")
                ))
            })
    }
}

/// An enclosure `lower ≤ value ≤ upper` with a point estimate and its guarantee.
///
/// Invariants (checked by every constructor): no field is NaN,
/// `0 ≤ lower ≤ estimate ≤ upper`, `upper` finite.
#[derive(Debug, Clone, PartialEq)]
pub struct Enclosure {
    lower: f64,
    upper: f64,
    estimate: f64,
    guarantee: Guarantee,
    method: Method,
    certificate: &'static str,
}

impl Enclosure {
    /// Builds an enclosure; the estimate is clamped into `[lower, upper]`.
    ///
    /// `certificate` names the theorem path that proves the bounds (e.g.
    /// `"vector lower bound + Cholesky PD certificate"`).
    ///
    /// ```
    /// use lipcert::{Enclosure, Guarantee, Method};
    /// let e = Enclosure::new(1.0, 2.0, 3.0, Guarantee::Rigorous, Method::Svd, "demo").unwrap();
    /// assert_eq!(e.estimate(), 2.0);
    /// assert!(Enclosure::new(2.0, 1.0, 1.5, Guarantee::Rigorous, Method::Svd, "demo").is_err());
    /// ```
    pub fn new(
        lower: f64,
        upper: f64,
        estimate: f64,
        guarantee: Guarantee,
        method: Method,
        certificate: &'static str,
    ) -> Result<Self> {
        if lower.is_nan() || upper.is_nan() || estimate.is_nan() {
            return Err(Error::CertificateFailed(format!(
                "NaN in enclosure [{lower}, {upper}] (estimate {estimate})"
            )));
        }
        if !upper.is_finite() {
            return Err(Error::Overflow {
                context: format!("upper bound {upper} from {certificate}"),
            });
        }
        if lower < 0.0 || lower > upper {
            return Err(Error::CertificateFailed(format!(
                "inconsistent enclosure [{lower:e}, {upper:e}] from {certificate}"
            )));
        }
        if let Guarantee::Probabilistic {
            failure_probability,
        } = guarantee
        {
            if !(failure_probability > 0.0 && failure_probability <= 1.0) {
                return Err(Error::InvalidOption(format!(
                    "failure probability {failure_probability} not in (0, 1]"
                )));
            }
        }
        Ok(Self {
            lower,
            upper,
            estimate: estimate.clamp(lower, upper),
            guarantee,
            method,
            certificate,
        })
    }

    /// The exact enclosure `[0, 0]` of a zero matrix.
    pub fn zero(method: Method) -> Self {
        Self {
            lower: 0.0,
            upper: 0.0,
            estimate: 0.0,
            guarantee: Guarantee::Rigorous,
            method,
            certificate: "zero matrix",
        }
    }

    /// Certified lower bound.
    pub fn lower(&self) -> f64 {
        self.lower
    }

    /// Certified (or probabilistic, see [`Enclosure::guarantee`]) upper bound.
    pub fn upper(&self) -> f64 {
        self.upper
    }

    /// Best point estimate, inside `[lower, upper]`.
    pub fn estimate(&self) -> f64 {
        self.estimate
    }

    /// The guarantee behind `upper` (the lower bound is always rigorous).
    pub fn guarantee(&self) -> Guarantee {
        self.guarantee
    }

    /// The algorithm that produced this enclosure.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The theorem path behind the bounds, in words.
    pub fn certificate(&self) -> &'static str {
        self.certificate
    }

    /// Relative width (upper − lower)/upper, 0 for `[0, 0]`.
    pub fn relative_width(&self) -> f64 {
        if self.upper == 0.0 {
            0.0
        } else {
            (self.upper - self.lower) / self.upper
        }
    }

    /// True when `x` lies in `[lower, upper]`.
    pub fn contains(&self, x: f64) -> bool {
        self.lower <= x && x <= self.upper
    }

    /// The intersection of two enclosures of the same quantity (both must be
    /// valid, so the intersection is nonempty for correct inputs; an empty
    /// intersection is reported as an error because it proves a bug).
    pub fn intersect(&self, other: &Enclosure) -> Result<Enclosure> {
        let lower = self.lower.max(other.lower);
        let (upper, guarantee) = if self.upper <= other.upper {
            (self.upper, self.guarantee)
        } else {
            (other.upper, other.guarantee)
        };
        Enclosure::new(
            lower,
            upper,
            self.estimate,
            guarantee,
            self.method,
            self.certificate,
        )
    }

    /// Returns a copy that reports `method` as its method.
    pub fn with_method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }
}

impl fmt::Display for Enclosure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{:e}, {:e}] ({}, {})",
            self.lower,
            self.upper,
            self.method,
            self.guarantee.name()
        )
    }
}
