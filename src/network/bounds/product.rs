//! The product bound: Lip(g∘h) ≤ Lip(g)·Lip(h) over the certified layer
//! bounds, rounded upward, with a convolution or linear layer followed by a
//! batch norm counted as one folded layer when that is tighter.
//! Proof: proofs/theories/Lipschitz.v, `lipschitz_comp`.

use crate::enclosure::Guarantee;
use crate::error::Result;
use crate::network::layer::Node;

/// The product bound of certified `nodes` and its guarantee.
pub fn product_bound(nodes: &[Node]) -> Result<(f64, Guarantee)> {
    crate::network::lipschitz::composed_upper(nodes)
}
