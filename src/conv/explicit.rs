//! The unrolled (explicit) matrix of a convolution, for small sizes: the
//! ground truth that property tests compare the matrix-free operator and the
//! spectral formulas against, and the input of the dense certificate.

use super::geometry::Conv2dGeometry;
use super::kernel::Kernel;
use super::padding::AxisPadding;
use crate::error::{Error, Result};
use crate::matrix::DenseMatrix;
use crate::rounding;

/// Largest number of matrix entries [`explicit_matrix`] builds (2²² entries,
/// 32 MiB).
pub const MAX_EXPLICIT_ENTRIES: usize = 1 << 22;

/// The explicit matrix of a convolution, as computed, with a bound on its
/// distance to the exact matrix.
#[derive(Debug, Clone)]
pub struct ExplicitConv {
    /// fl(A): the (C_out·OH·OW) × (C_in·H·W) matrix, rows and columns in the
    /// row-major (channel, row, column) order of [`super::Conv2d`].
    pub matrix: DenseMatrix,
    /// ε ≥ ‖fl(A) − A‖₂. Zero when every entry is a single kernel tap (always
    /// for zero padding without wrap-around); otherwise an entry is a sum of
    /// the taps that a reflect/replicate/circular padding maps onto the same
    /// input, rounded, and ε = γ_L·‖ |taps| ‖_F with L the largest number of
    /// taps in one entry.
    pub error: f64,
}

/// Builds the explicit matrix A with A[(o,i,j), (c,y,x)] = Σ K[o, c', a, b]
/// over the taps (a, b) whose padded read position maps to input (c, y, x).
///
/// # Theorem
/// An entry with L taps is a floating-point sum of L exact values, so
/// |fl − exact| ≤ γ_{L−1}·Σ|taps| ≤ γ_L·Σ|taps| (Higham Lemma 3.1); then
/// ‖fl(A) − A‖₂ ≤ ‖fl(A) − A‖_F ≤ γ_L·‖(Σ|taps|)‖_F.
/// Proof: proofs/theories/Norms.v, `spectral_le_frobenius`
///
/// Errors: [`Error::InvalidOption`] when the geometry is invalid or the
/// matrix would have more than [`MAX_EXPLICIT_ENTRIES`] entries.
///
/// ```
/// use lipcert::conv::{explicit_matrix, Conv2dGeometry, Kernel};
/// let g = Conv2dGeometry::conv1d(1, 1, 2, 3);
/// let k = Kernel::from_f64(1, 1, 1, 2, vec![1.0, -1.0]).unwrap();
/// let a = explicit_matrix(&k, &g).unwrap();
/// assert_eq!(a.matrix.to_row_major(), vec![1.0, -1.0, 0.0, 0.0, 1.0, -1.0]);
/// assert_eq!(a.error, 0.0);
/// ```
pub fn explicit_matrix(kernel: &Kernel, geometry: &Conv2dGeometry) -> Result<ExplicitConv> {
    explicit_matrix_up_to(kernel, geometry, MAX_EXPLICIT_ENTRIES)
}

/// [`explicit_matrix`] with another size guard: refuses matrices with more
/// than `max_entries` entries (it needs about 28 bytes per entry while it
/// builds the matrix).
pub fn explicit_matrix_up_to(
    kernel: &Kernel,
    geometry: &Conv2dGeometry,
    max_entries: usize,
) -> Result<ExplicitConv> {
    kernel.check_matches(geometry)?;
    let (m, n) = (geometry.output_len(), geometry.input_len());
    if m.checked_mul(n).is_none_or(|e| e > max_entries) {
        return Err(Error::InvalidOption(format!(
            "explicit convolution matrix {m}x{n} exceeds the size guard of {max_entries} entries; use the matrix-free operator"
        )));
    }
    let (top, left, bottom, right) = geometry.padding;
    let rows = AxisPadding::new(geometry.mode, geometry.h, top, bottom);
    let cols = AxisPadding::new(geometry.mode, geometry.w, left, right);
    let (oh, ow) = geometry.output_size();
    let (h, w) = (geometry.h, geometry.w);
    let (cg, og) = (geometry.c_in_per_group(), geometry.c_out_per_group());
    let mut values = vec![0.0f64; m * n];
    let mut abs_sums = vec![0.0f64; m * n];
    let mut counts = vec![0u32; m * n];
    for o in 0..geometry.c_out {
        let g = o / og;
        for i in 0..oh {
            for j in 0..ow {
                let row = (o * oh + i) * ow + j;
                for c in 0..cg {
                    for a in 0..geometry.kh {
                        let Some(si) = rows.source[i * geometry.stride.0 + a * geometry.dilation.0]
                        else {
                            continue;
                        };
                        for b in 0..geometry.kw {
                            let Some(sj) =
                                cols.source[j * geometry.stride.1 + b * geometry.dilation.1]
                            else {
                                continue;
                            };
                            let col = ((g * cg + c) * h + si) * w + sj;
                            let v = kernel.get(o, c, a, b);
                            let e = row * n + col;
                            values[e] += v;
                            abs_sums[e] += v.abs();
                            counts[e] += 1;
                        }
                    }
                }
            }
        }
    }
    let max_taps = counts.iter().copied().max().unwrap_or(0) as usize;
    let error = if max_taps <= 1 {
        0.0
    } else {
        // abs_sums are themselves rounded sums of ≤ L nonnegative terms:
        // bound each by (1 + γ_L) and the sum of squares upward.
        let s: f64 = abs_sums
            .iter()
            .zip(&counts)
            .filter(|(_, &c)| c > 1)
            .map(|(v, _)| v * v)
            .sum();
        let fro = rounding::sqrt_up(rounding::sum_of_squares_up(s, m * n));
        let fro = rounding::mul_up(fro, rounding::add_up(1.0, rounding::gamma(max_taps)));
        rounding::mul_up(rounding::gamma(max_taps), fro)
    };
    let matrix = DenseMatrix::from_row_major_widened(m, n, &values, kernel.dtype())?;
    Ok(ExplicitConv { matrix, error })
}
