//! Certified upper bounds on a network's Lipschitz constant (ℓ₂ → ℓ₂), one
//! module per method, each over the same network IR
//! ([`crate::network::layer::Network`]) with certified layer bounds:
//!
//! * [`product`]: the product of layer constants;
//! * [`liplt`]: the LipLT / Combettes–Pesquet recursion (never above the
//!   product), using certified norms of products of consecutive linear
//!   layers ([`tracked`]);
//! * [`multiplier`]: LipSDP-Neuron-type multiplier certificates on
//!   two-layer pieces and residual blocks (explicit matrices), and
//!   [`fourier_multiplier`] for convolutional ones, frequency by frequency.
//!
//! Every method is rigorous; the network's `upper` is the smallest.

pub mod fourier;
pub mod fourier_multiplier;
pub mod liplt;
pub mod multiplier;
pub mod product;
pub mod search_eig;
pub mod segment;
pub mod tracked;

use crate::enclosure::Guarantee;
use crate::error::{Error, Result};
use crate::network::layer::Network;
use crate::sigma::SigmaOptions;
use serde::Serialize;

/// A bound method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundMethod {
    /// [`product`].
    Product,
    /// [`liplt`].
    Liplt,
    /// [`multiplier`].
    Multiplier,
}

impl BoundMethod {
    /// Every method, in report order.
    pub const ALL: [BoundMethod; 3] = [
        BoundMethod::Product,
        BoundMethod::Liplt,
        BoundMethod::Multiplier,
    ];

    /// The name used by `--bounds` and in reports.
    pub fn name(self) -> &'static str {
        match self {
            BoundMethod::Product => "product",
            BoundMethod::Liplt => "liplt",
            BoundMethod::Multiplier => "multiplier",
        }
    }

    /// Parses a comma-separated list such as `product,liplt` (or `all`).
    pub fn parse_list(s: &str) -> Result<Vec<BoundMethod>> {
        if s.trim() == "all" {
            return Ok(Self::ALL.to_vec());
        }
        let mut out = Vec::new();
        for part in s.split(',') {
            let m = Self::ALL
                .into_iter()
                .find(|m| m.name() == part.trim())
                .ok_or_else(|| {
                    Error::InvalidOption(format!(
                        "unknown bound method '{}' (known: product, liplt, multiplier, all)",
                        part.trim()
                    ))
                })?;
            if !out.contains(&m) {
                out.push(m);
            }
        }
        Ok(out)
    }
}

/// Each requested method's certified upper bound (`None` = not run).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkBounds {
    /// The product of layer bounds (always computed: the fallback of every
    /// other method).
    pub product: f64,
    /// The LipLT recursion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liplt: Option<f64>,
    /// LipLT per segment.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<liplt::SegmentBound>,
    /// The multiplier certificates (LipSDP-Neuron type).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multiplier: Option<f64>,
    /// The pieces where a multiplier certificate was used.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub multiplier_pieces: Vec<multiplier::PieceBound>,
}

impl NetworkBounds {
    /// The smallest bound and the method that gave it.
    pub fn best(&self) -> (f64, BoundMethod) {
        let mut best = (self.product, BoundMethod::Product);
        for (v, m) in [
            (self.liplt, BoundMethod::Liplt),
            (self.multiplier, BoundMethod::Multiplier),
        ] {
            if let Some(v) = v {
                if v < best.0 {
                    best = (v, m);
                }
            }
        }
        best
    }
}

/// Runs the requested methods on a certified network; returns the bounds
/// and the guarantee of the smallest.
pub fn network_bounds(
    net: &Network,
    methods: &[BoundMethod],
    options: &SigmaOptions,
) -> Result<(NetworkBounds, Guarantee)> {
    let (product, gp) = product::product_bound(&net.nodes)?;
    let mut bounds = NetworkBounds {
        product,
        liplt: None,
        segments: Vec::new(),
        multiplier: None,
        multiplier_pieces: Vec::new(),
    };
    let mut guarantee = gp;
    let mut best = product;
    if methods.contains(&BoundMethod::Multiplier) {
        let timer = crate::timing::stage();
        let result =
            multiplier::multiplier_bound(&net.nodes, options, multiplier::DEFAULT_MAX_ENTRIES);
        timer.done(|| "network bound: multiplier".into());
        match result {
            Ok(m) => {
                if m.upper < best {
                    best = m.upper;
                    guarantee = m.guarantee;
                }
                bounds.multiplier = Some(m.upper);
                bounds.multiplier_pieces = m.pieces;
            }
            // As for LipLT below: no multiplier bound, the product stands.
            Err(
                Error::Overflow { .. }
                | Error::NonFinite { .. }
                | Error::CertificateFailed(_)
                | Error::OverBudget { .. },
            ) => {}
            Err(e) => return Err(e),
        }
    }
    if methods.contains(&BoundMethod::Liplt) {
        let timer = crate::timing::stage();
        let result = liplt::liplt_bound(&net.nodes, options, liplt::DEFAULT_MAX_ENTRIES);
        timer.done(|| "network bound: liplt".into());
        let l = match result {
            Ok(l) => l,
            // A product of layers that overflows, or a certificate that
            // cannot be obtained, leaves LipLT without a bound; the product
            // (always computed) stays the sound answer.
            Err(
                Error::Overflow { .. }
                | Error::NonFinite { .. }
                | Error::CertificateFailed(_)
                | Error::OverBudget { .. },
            ) => return Ok((bounds, guarantee)),
            Err(e) => return Err(e),
        };
        if l.upper < best {
            guarantee = l.guarantee;
        }
        bounds.liplt = Some(l.upper);
        bounds.segments = l.segments;
    }
    Ok((bounds, guarantee))
}
