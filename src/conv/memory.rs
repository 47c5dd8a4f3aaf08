//! The memory a convolution certificate ([`super::conv_sigma`]) needs,
//! estimated from the geometry alone, before anything is allocated.
//!
//! The peak is dominated by, in bytes (every count with checked
//! arithmetic; f = 8 bytes per f64):
//! * the operator's vectors: the input and output of the layer times the
//!   Lanczos basis (`lanczos_steps` + 6 vectors of each), its padding maps
//!   (16 bytes per padded position) and one group's im2col matrix
//!   (OH·OW × C_in/groups·kh·kw values);
//! * the frequency grid of the circular embedding: M_h·M_w frequencies
//!   (24 bytes each: the list and the coefficient index), twiddles
//!   (16·(M_h + M_w)) and the residue tables (16·(s_h + s_w));
//! * the symbol Gram: at most (2kh − 1)(2kw − 1) coefficient matrices of
//!   order n = min(C_out/groups, block columns), stored twice, and a dozen
//!   n×n workspaces;
//! * the explicit matrix and its Gram when the dense path runs.
//!
//! Strides along an axis with a single output are first replaced by the
//! smallest stride giving the same operator
//! ([`super::Conv2dGeometry::with_unit_output_strides`]), as the certificate
//! itself does.

use super::explicit::MAX_EXPLICIT_ENTRIES;
use super::geometry::{Conv2dGeometry, PaddingMode};
use super::ConvOptions;
use crate::budget::{f64s, product, total};

/// Period M of the circular embedding along one axis (see
/// [`super::EmbeddingPlan`]): n/s for circular padding when s | n and the
/// outputs fit, n otherwise; ⌈padded/s⌉ for the other modes.
fn modulus(mode: PaddingMode, n: usize, padded: usize, s: usize, outputs: usize) -> usize {
    match mode {
        PaddingMode::Circular if n % s == 0 && outputs <= n / s => n / s,
        PaddingMode::Circular => n,
        _ => padded.div_ceil(s),
    }
}

/// Estimated peak bytes of [`super::conv_sigma`] for `geometry` (validated)
/// and `options`; `None` when a count overflows 64 bits.
pub fn conv_memory_estimate(geometry: &Conv2dGeometry, options: &ConvOptions) -> Option<u64> {
    let g = geometry.with_unit_output_strides();
    let (oh, ow) = g.output_size();
    let (ph, pw) = g.padded_size();
    let (cg, og) = (g.c_in_per_group(), g.c_out_per_group());
    let m_h = modulus(g.mode, g.h, ph, g.stride.0, oh);
    let m_w = modulus(g.mode, g.w, pw, g.stride.1, ow);
    let frequencies = product(&[m_h as u64, m_w as u64])?;
    let cols = product(&[
        cg as u64,
        g.kh.min(g.stride.0) as u64,
        g.kw.min(g.stride.1) as u64,
    ])?;
    let n = (og as u64).min(cols);
    let lags = product(&[
        (2 * g.kh.min(1 << 20) - 1) as u64,
        (2 * g.kw.min(1 << 20) - 1) as u64,
    ])?
    .min(frequencies);
    let input = g.input_len() as u64;
    let output = product(&[g.c_out as u64, oh as u64, ow as u64])?;
    let vectors = product(&[
        input.checked_add(output)?,
        (options.lanczos_steps as u64).checked_add(6)?,
        8,
    ]);
    let im2col = f64s(&[oh, ow, cg, g.kh, g.kw]);
    let padding_maps = product(&[(ph as u64).checked_add(pw as u64)?, 16]);
    let grid = total(&[
        product(&[frequencies, 24]),
        product(&[(m_h as u64).checked_add(m_w as u64)?, 16]),
        product(&[(g.stride.0 as u64).checked_add(g.stride.1 as u64)?, 16]),
    ]);
    let symbol = total(&[
        product(&[lags, n, n, 16]),
        product(&[12, n, n, 8]),
        product(&[og as u64, cols, 16 * 8]),
        f64s(&[4, g.kernel_len()]),
    ]);
    let (rows, columns) = (output, input);
    let dense = if rows.min(columns) <= options.dense_max_dim as u64
        && rows.saturating_mul(columns) <= MAX_EXPLICIT_ENTRIES as u64
    {
        let k = rows.min(columns);
        total(&[product(&[rows, columns, 16]), product(&[k, k, 32])])
    } else {
        Some(0)
    };
    total(&[vectors, im2col, padding_maps, grid, symbol, dense])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_with_the_grid_and_overflows_to_none() {
        let o = ConvOptions::default();
        let mut small = Conv2dGeometry::new(8, 3, 3, 3, 32, 32);
        small.padding = (1, 1, 1, 1);
        let s = conv_memory_estimate(&small, &o).unwrap();
        assert!(s > 32 * 32 * 3 * 8 && s < 200 << 20, "{s}");
        let mut big = small;
        big.h = 100_000;
        big.w = 100_000;
        // 3·10¹⁰ inputs and 8·10¹⁰ outputs, times ≥ 30 vectors: terabytes.
        let b = conv_memory_estimate(&big, &o).unwrap();
        assert!(b > 1 << 40, "{b}");
        // A stride beyond the input changes nothing once clamped.
        let mut strided = small;
        strided.stride = (1 << 62, 1 << 62);
        let t = conv_memory_estimate(&strided, &o).unwrap();
        assert!(t < s, "{t} vs {s}");
    }
}
