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
//! When both LipLT and the multiplier run, their *combination* is reported
//! too ([`combined_bound`]): LipLT's factors, each replaced by the
//! multiplier pieces inside its node range where their product is smaller.
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
    /// [`combined_bound`] (reported when LipLT and the multiplier both
    /// run; not selectable on its own).
    Combined,
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
            BoundMethod::Combined => "combined",
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
    /// The guarantee of the multiplier bound and of its pieces.
    #[serde(skip)]
    pub multiplier_guarantee: Option<Guarantee>,
    /// LipLT and the multiplier combined per piece ([`combined_bound`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub combined: Option<f64>,
}

impl NetworkBounds {
    /// The smallest bound and the method that gave it.
    pub fn best(&self) -> (f64, BoundMethod) {
        let mut best = (self.product, BoundMethod::Product);
        for (v, m) in [
            (self.liplt, BoundMethod::Liplt),
            (self.multiplier, BoundMethod::Multiplier),
            (self.combined, BoundMethod::Combined),
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
        multiplier_guarantee: None,
        combined: None,
    };
    let mut multiplier_result = None;
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
                bounds.multiplier_pieces = m.pieces.clone();
                bounds.multiplier_guarantee = Some(m.guarantee);
                multiplier_result = Some(m);
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
            best = l.upper;
            guarantee = l.guarantee;
        }
        if let Some(m) = &multiplier_result {
            if let Some((c, g)) = combined_bound(&net.nodes, &l, m)? {
                if c < best {
                    guarantee = g;
                }
                bounds.combined = Some(c);
            }
        }
        bounds.liplt = Some(l.upper);
        bounds.segments = l.segments;
    }
    Ok((bounds, guarantee))
}

/// LipLT and the multiplier combined: the product over LipLT's factors
/// (consecutive node ranges, [`liplt::LipltBound::pieces`]) of
/// min(the factor's bound, the best cover of its range by the multiplier's
/// pieces inside it and single nodes' certified constants), the cover found
/// by dynamic programming over the range's nodes. Every factor is a
/// certified bound on its range, so the product is one on the network
/// (Lip(g∘h) ≤ Lip(g)·Lip(h), proofs/theories/Lipschitz.v
/// `lipschitz_comp`). `None` when no multiplier piece lies inside a LipLT
/// factor's range with a smaller cover (the combination adds nothing).
/// Its guarantee is the weaker of the two methods'.
pub fn combined_bound(
    nodes: &[crate::network::layer::Node],
    liplt: &liplt::LipltBound,
    mult: &multiplier::MultiplierBound,
) -> Result<Option<(f64, Guarantee)>> {
    let mut total = 1.0;
    let mut improved = false;
    for r in &liplt.pieces {
        let inside: Vec<&multiplier::PieceBound> = mult
            .pieces
            .iter()
            .filter(|p| p.start >= r.start && p.end <= r.end)
            .collect();
        let mut value = r.value;
        if !inside.is_empty() {
            // best[k]: the best cover of nodes r.start .. r.start + k.
            let mut best = vec![1.0];
            for k in 1..=r.end - r.start {
                let p = r.start + k;
                let (single, _) = crate::network::lipschitz::composed_upper(&nodes[p - 1..p])?;
                let mut v = crate::rounding::mul_up(best[k - 1], single);
                for piece in inside.iter().filter(|q| q.end == p) {
                    v = v.min(crate::rounding::mul_up(
                        best[piece.start - r.start],
                        piece.multiplier,
                    ));
                }
                best.push(v);
            }
            let cover = best[r.end - r.start];
            if cover < value {
                value = cover;
                improved = true;
            }
        }
        total = crate::rounding::mul_up(total, value);
    }
    Ok((improved && total.is_finite()).then_some((total, liplt.guarantee.combine(mult.guarantee))))
}
