//! How a convolution relates to a (polyphase) circular convolution whose
//! spectrum is computable frequency by frequency: the *embedding plan*.
//!
//! Along one axis, write every tap position as e_a = a·d − offset = q_a·s + r_a
//! (Euclidean division by the polyphase factor s). A circular convolution with
//! stride s on ℤ_{M·s}, y[o] = Σ_a K[a]·x[(o·s + e_a) mod M·s], o ∈ ℤ_M, is a
//! sum over residues r of circular convolutions on ℤ_M of the polyphase
//! components x_r[q] = x[q·s + r]; the DFT on ℤ_M block-diagonalizes it into
//! per-frequency blocks (see [`super::circular_spectrum`]).
//!
//! * **Circular padding** (input n, pads (before, after), stride s, output o_n):
//!   padded index i reads x[(i − before) mod n], so y[o] = Σ_a K[a]·x[(o·s + a·d − before) mod n].
//!   If s | n and o_n ≤ n/s, the outputs are rows 0..o_n of the polyphase
//!   circular convolution on ℤ_{n/s} (offset = before): ‖A‖ ≤ σ_circ, with
//!   equality when o_n = n/s (then A *is* that operator: exact spectrum).
//!   Otherwise y[o] = z[(o·s) mod n] for the stride-1 circular output z: a row
//!   selection S with SᵀS = diag(multiplicities), so ‖A‖ ≤ √m·σ_circ(stride 1)
//!   with m the largest number of outputs landing on the same z index.
//! * **Zeros** (and the valid part of reflect/replicate): the zero-padded conv
//!   is a compression of the circular conv on ℤ_N for any N ≥ n + before + after:
//!   zero fill embeds the input isometrically at positions [before, before + n),
//!   every output o < o_n reads positions o·s + a·d ≤ N − 1 without wrapping,
//!   and the outputs are a coordinate projection of the stride-s circular
//!   outputs when s | N. We take N = s·⌈(n + before + after)/s⌉, so M = N/s and
//!   o_n ≤ M. Hence σ_zero ≤ σ_circ(N) (Conv.v `zero_pad_compression`).
//!   Reflect/replicate: A = V∘P with V the valid conv on the padded input (a
//!   compression as above with pads 0) and ‖P‖ = √(max multiplicity).
//!
//! Proof: proofs/theories/Conv.v, `zero_pad_compression`

use super::geometry::{Conv2dGeometry, PaddingMode};
use super::padding::AxisPadding;

/// The embedding of one axis into a polyphase circular convolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AxisPlan {
    /// M, the period of the polyphase components (number of frequencies).
    pub modulus: usize,
    /// s, the polyphase (stride) factor of the circular convolution.
    pub stride: usize,
    /// Tap a sits at position a·dilation − offset (before division by s).
    pub offset: isize,
    /// Dilation d.
    pub dilation: usize,
    /// Kernel length k along this axis.
    pub kernel: usize,
    /// Input index i sits at position (i + input_shift) mod (M·s) of the
    /// circular signal.
    pub input_shift: usize,
    /// Largest number of operator outputs reading the same circular output
    /// (1 = the outputs are a coordinate projection).
    pub multiplicity: usize,
    /// True when the operator's outputs along this axis are exactly all M
    /// rows of the circular convolution, once each.
    pub all_rows: bool,
}

impl AxisPlan {
    /// Position q (quotient) and residue r of tap a: a·d − offset = q·s + r.
    pub fn tap(&self, a: usize) -> (isize, usize) {
        let e = (a * self.dilation) as isize - self.offset;
        let s = self.stride as isize;
        (e.div_euclid(s), e.rem_euclid(s) as usize)
    }

    /// Quotient q and residue r of input index i (see `input_shift`).
    pub fn input_position(&self, i: usize) -> (usize, usize) {
        let t = (i + self.input_shift) % (self.modulus * self.stride);
        (t / self.stride, t % self.stride)
    }

    fn circular(n: usize, before: usize, s: usize, d: usize, k: usize, outputs: usize) -> Self {
        if n % s == 0 && outputs <= n / s {
            AxisPlan {
                modulus: n / s,
                stride: s,
                offset: before as isize,
                dilation: d,
                kernel: k,
                input_shift: 0,
                multiplicity: 1,
                all_rows: outputs == n / s,
            }
        } else {
            // o ↦ o·s mod n is periodic with period p = n/gcd(s, n) and
            // injective on each period, so the most outputs landing on one
            // index is ⌈outputs/p⌉ (no table of n counts needed).
            let period = n / gcd(s % n, n);
            AxisPlan {
                modulus: n,
                stride: 1,
                offset: before as isize,
                dilation: d,
                kernel: k,
                input_shift: 0,
                multiplicity: outputs.div_ceil(period).max(1),
                all_rows: false,
            }
        }
    }

    fn compression(padded: usize, before: usize, s: usize, d: usize, k: usize) -> Self {
        let n_big = padded.div_ceil(s) * s;
        AxisPlan {
            modulus: n_big / s,
            stride: s,
            offset: 0,
            dilation: d,
            kernel: k,
            input_shift: before,
            multiplicity: 1,
            all_rows: false,
        }
    }
}

/// Greatest common divisor (gcd(0, n) = n).
fn gcd(a: usize, b: usize) -> usize {
    if a == 0 {
        b
    } else {
        gcd(b % a, a)
    }
}

/// The embedding of a whole convolution: ‖A‖ ≤ √factor · max_ω σ(B(ω)), with
/// equality when `exact`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddingPlan {
    /// Vertical axis.
    pub rows: AxisPlan,
    /// Horizontal axis.
    pub cols: AxisPlan,
    /// Integer factor f with ‖A‖ ≤ √f·σ_circ: row-selection multiplicities
    /// times the padding multiplicity for reflect/replicate.
    pub factor: usize,
    /// True when ‖A‖ = σ_circ exactly (circular padding, every circular output
    /// taken once).
    pub exact: bool,
}

impl EmbeddingPlan {
    /// The plan for a validated geometry (see the module documentation for
    /// the theorem behind each mode).
    ///
    /// Strides along axes with a single output are reduced first
    /// ([`Conv2dGeometry::with_unit_output_strides`]: the same operator).
    pub fn new(geometry: &Conv2dGeometry) -> Self {
        let geometry = &geometry.with_unit_output_strides();
        let (top, left, bottom, right) = geometry.padding;
        let (oh, ow) = geometry.output_size();
        let (ph, pw) = geometry.padded_size();
        match geometry.mode {
            PaddingMode::Circular => {
                let rows = AxisPlan::circular(
                    geometry.h,
                    top,
                    geometry.stride.0,
                    geometry.dilation.0,
                    geometry.kh,
                    oh,
                );
                let cols = AxisPlan::circular(
                    geometry.w,
                    left,
                    geometry.stride.1,
                    geometry.dilation.1,
                    geometry.kw,
                    ow,
                );
                let factor = rows.multiplicity * cols.multiplicity;
                let exact = rows.all_rows && cols.all_rows && factor == 1;
                EmbeddingPlan {
                    rows,
                    cols,
                    factor,
                    exact,
                }
            }
            mode => {
                let rows = AxisPlan::compression(
                    ph,
                    top,
                    geometry.stride.0,
                    geometry.dilation.0,
                    geometry.kh,
                );
                let cols = AxisPlan::compression(
                    pw,
                    left,
                    geometry.stride.1,
                    geometry.dilation.1,
                    geometry.kw,
                );
                let factor = match mode {
                    PaddingMode::Zeros => 1,
                    _ => {
                        AxisPadding::new(mode, geometry.h, top, bottom).max_multiplicity()
                            * AxisPadding::new(mode, geometry.w, left, right).max_multiplicity()
                    }
                };
                EmbeddingPlan {
                    rows,
                    cols,
                    factor,
                    exact: false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn circular_multiplicity_matches_counting() {
        for n in 1..24usize {
            for s in 1..30usize {
                for outputs in 1..40usize {
                    let mut counts = vec![0usize; n];
                    for o in 0..outputs {
                        counts[(o * s) % n] += 1;
                    }
                    let want = counts.into_iter().max().unwrap();
                    let plan = AxisPlan::circular(n, 0, s, 1, 1, outputs);
                    if plan.stride == 1 {
                        assert_eq!(plan.multiplicity, want, "n {n} s {s} outputs {outputs}");
                    }
                }
            }
        }
    }
}
