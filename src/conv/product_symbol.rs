//! Symbols of stride-1 convolutions on a *common* circular grid, so that
//! products of consecutive convolutions (and of per-channel maps, sums and
//! scalings between them) are products of their symbols frequency by
//! frequency — the building block of the Fourier route of LipLT
//! ([`crate::network::bounds::fourier`]).
//!
//! # Theorem (Sedghi, Gupta & Long, ICLR 2019, on a common grid)
//! Let ℤ_N = ℤ_{N₁} × ℤ_{N₂} and let C be the circular convolution
//! (Cz)[o, i] = Σ_{c, a} K[o, c, a]·z[c, i + d·a − p] (indices mod N, a the
//! kernel tap, d the dilation, p = (top, left) the padding offset). With the
//! DFT ẑ(ω) = Σ_i z\[i\]·e^{−2πi⟨ω, i⟩/N}, (Cz)^(ω) = K̂(ω)·ẑ(ω) with the
//! c_out × c_in matrix K̂(ω)[o, c] = Σ_a K[o, c, a]·e^{+2πi⟨ω, d·a − p⟩/N}.
//! Every C on the same grid is block diagonalised by the same unitary DFT, so
//! ‖C_L⋯C_1‖₂ = max_ω ‖K̂_L(ω)⋯K̂_1(ω)‖₂, and sums and per-channel diagonal
//! maps likewise act frequency by frequency. This module forms
//! K̂(−ω) = conj K̂(ω) (the phase e^{−2πi⟨ω, q⟩/N}, q = d·a − p mod N, as
//! [`super::BlockSpectrum`] does); evaluating *every* layer at −ω instead of
//! ω is the same set of blocks. Since K is real, K̂(−ω) = conj K̂(ω) has the
//! singular values of K̂(ω), so the half plane ω₂ ≤ N₂/2 covers every block
//! up to conjugation ([`half_plane`]).
//!
//! A complex m×n matrix X + iY is stored through its real form
//! [[X, −Y], [Y, X]] (2m × 2n), an algebra homomorphism with
//! ‖[[X, −Y], [Y, X]]‖₂ = ‖X + iY‖₂, so real matrix arithmetic and the real
//! σ certificate apply unchanged.
//!
//! # Floating point
//! Each phase is formed from two table twiddles exactly as
//! [`super::BlockSpectrum::phase`] (within δ = [`super::twiddle_product_error`]
//! of the exact phase, under its stated libm assumption). Each real and
//! imaginary part of an entry is a sum of T = kh·kw products k·p̃ in tap
//! order, so |computed − exact| ≤ γ_T·(1 + δ)·S + T·η + δ·S per part, with
//! S = Σ_a |K[o, c, a]| (Higham, Lemma 3.1 and §3.1; the δ·S term is the
//! phase error). The error of the real form is the error of the complex
//! matrix, ‖E‖₂ ≤ ‖E‖_F ≤ √2·‖(part bounds)‖_F
//! (proofs/theories/Norms.v, `spectral_le_frobenius`), the same for every ω.

use super::circular_spectrum::{phase_product, twiddle_product_error, twiddles};
use crate::error::{Error, Result};
use crate::rounding::{add_up, gamma, mul_up, norm2_up, sqrt_up, usize_up, ETA};

/// A stride-1 convolution's symbol on a common circular grid.
#[derive(Debug, Clone)]
pub struct GridSymbol {
    c_out: usize,
    c_in: usize,
    n: (usize, usize),
    /// Per tap: its grid position q (mod N) and its c_out × c_in slice,
    /// column-major (zero outside the tap's group blocks).
    taps: Vec<((usize, usize), Vec<f64>)>,
    tw1: Vec<(f64, f64)>,
    tw2: Vec<(f64, f64)>,
    err: f64,
}

/// The geometry of a stride-1 convolution for [`GridSymbol::new`].
#[derive(Debug, Clone, Copy)]
pub struct GridConv {
    /// Output channels.
    pub c_out: usize,
    /// Input channels.
    pub c_in: usize,
    /// Groups (dividing both channel counts).
    pub groups: usize,
    /// Kernel (height, width).
    pub kernel_hw: (usize, usize),
    /// Dilation (height, width).
    pub dilation: (usize, usize),
    /// Padding offset (top, left): tap a sits at d·a − p.
    pub offset: (usize, usize),
}

/// The frequencies ω = (ω₁, ω₂) with ω₂ ≤ N₂/2: with their conjugates
/// (−ω mod N) they are all of ℤ_N (see the module docs).
pub fn half_plane(n: (usize, usize)) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(n.0 * (n.1 / 2 + 1));
    for w1 in 0..n.0 {
        for w2 in 0..=n.1 / 2 {
            out.push((w1, w2));
        }
    }
    out
}

impl GridSymbol {
    /// The symbol of `kernel` (shape c_out × c_in/groups × kh × kw,
    /// row-major) under `conv` on the grid `n` (N₁, N₂ ≥ 1).
    pub fn new(kernel: &[f64], conv: &GridConv, n: (usize, usize)) -> Result<Self> {
        let (kh, kw) = conv.kernel_hw;
        let g = conv.groups.max(1);
        if n.0 == 0
            || n.1 == 0
            || conv.c_in % g != 0
            || conv.c_out % g != 0
            || kernel.len() != conv.c_out * (conv.c_in / g) * kh * kw
        {
            return Err(Error::InvalidOption(format!(
                "internal: grid symbol of a {}x{}x{}x{} kernel with {} groups on a {}x{} grid",
                conv.c_out, conv.c_in, kh, kw, g, n.0, n.1
            )));
        }
        if kernel.iter().any(|v| !v.is_finite()) {
            return Err(Error::InvalidOption(
                "internal: non-finite convolution kernel in a grid symbol".into(),
            ));
        }
        let (og, cg) = (conv.c_out / g, conv.c_in / g);
        let pos = |k: usize, d: usize, p: usize, m: usize| -> usize {
            ((k as i128 * d as i128 - p as i128).rem_euclid(m as i128)) as usize
        };
        let mut taps = Vec::with_capacity(kh * kw);
        let mut abs_sum = vec![0.0f64; conv.c_out * conv.c_in];
        for a in 0..kh {
            for b in 0..kw {
                let mut slice = vec![0.0; conv.c_out * conv.c_in];
                for o in 0..conv.c_out {
                    let group = o / og;
                    for cl in 0..cg {
                        let v = kernel[((o * cg + cl) * kh + a) * kw + b];
                        let c = group * cg + cl;
                        slice[c * conv.c_out + o] = v;
                        abs_sum[c * conv.c_out + o] = add_up(abs_sum[c * conv.c_out + o], v.abs());
                    }
                }
                let q = (
                    pos(a, conv.dilation.0, conv.offset.0, n.0),
                    pos(b, conv.dilation.1, conv.offset.1, n.1),
                );
                taps.push((q, slice));
            }
        }
        let t = kh * kw;
        let delta = twiddle_product_error();
        // Per part: (γ_T(1 + δ) + δ)·S + T·η.
        let factor = add_up(mul_up(gamma(t), add_up(1.0, delta)), delta);
        let under = mul_up(usize_up(t), ETA);
        let parts: Vec<f64> = abs_sum
            .iter()
            .map(|s| add_up(mul_up(factor, *s), under))
            .collect();
        let err = mul_up(sqrt_up(2.0), norm2_up(&parts));
        if !err.is_finite() {
            return Err(Error::Overflow {
                context: "symbol of a convolution".into(),
            });
        }
        Ok(Self {
            c_out: conv.c_out,
            c_in: conv.c_in,
            n,
            taps,
            tw1: twiddles(n.0),
            tw2: twiddles(n.1),
            err,
        })
    }

    /// Output channels.
    pub fn c_out(&self) -> usize {
        self.c_out
    }

    /// Input channels.
    pub fn c_in(&self) -> usize {
        self.c_in
    }

    /// Upper bound on ‖K̃(ω) − K̂(−ω)‖₂ for every computed symbol K̃(ω) of
    /// [`GridSymbol::real_form`] (see the module docs).
    pub fn error(&self) -> f64 {
        self.err
    }

    /// The computed K̂(−ω) in real form [[X, −Y], [Y, X]], column-major,
    /// 2·c_out × 2·c_in.
    pub fn real_form(&self, w: (usize, usize)) -> Vec<f64> {
        let (m, n) = (self.c_out, self.c_in);
        let mut x = vec![0.0; m * n];
        let mut y = vec![0.0; m * n];
        for (t, (q, slice)) in self.taps.iter().enumerate() {
            let p = phase_product(
                self.tw1[mul_mod(w.0, q.0, self.n.0)],
                self.tw2[mul_mod(w.1, q.1, self.n.1)],
            );
            for ((xv, yv), k) in x.iter_mut().zip(y.iter_mut()).zip(slice) {
                if t == 0 {
                    *xv = k * p.0;
                    *yv = k * p.1;
                } else {
                    *xv += k * p.0;
                    *yv += k * p.1;
                }
            }
        }
        let rows = 2 * m;
        let mut out = vec![0.0; rows * 2 * n];
        for c in 0..n {
            for o in 0..m {
                let (xv, yv) = (x[c * m + o], y[c * m + o]);
                out[c * rows + o] = xv;
                out[c * rows + m + o] = yv;
                out[(n + c) * rows + o] = -yv;
                out[(n + c) * rows + m + o] = xv;
            }
        }
        out
    }
}

/// a·b mod m without overflow.
fn mul_mod(a: usize, b: usize, m: usize) -> usize {
    ((a as u128 * b as u128) % m as u128) as usize
}
