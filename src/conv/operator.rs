//! The convolution as a matrix-free linear operator: y = conv(pad(x)) with
//! PyTorch semantics (cross-correlation, no kernel flip), applied by im2col
//! and a faer matrix multiply per group; the transpose is the exact adjoint
//! (col2im scatter, then the adjoint of the padding map).

use super::geometry::Conv2dGeometry;
use super::kernel::Kernel;
use super::padding::AxisPadding;
use crate::columns::{column, column_mut};
use crate::error::Result;
use crate::operator::LinearOperator;
use crate::rounding;
use faer::{Accum, Mat, MatMut, MatRef, Par};

/// A 2-D convolution (bias ignored: it does not change the Lipschitz
/// constant) as a [`LinearOperator`] from ℝ^{C_in·H·W} to ℝ^{C_out·OH·OW},
/// tensors flattened row-major (channel, row, column):
///
/// y[o, i, j] = Σ_{c, a, b} K[o, c, a, b] · x_pad[g·C_in/groups + c, i·sh + a·dh, j·sw + b·dw],
///
/// where g = o / (C_out/groups) is the group of output channel o and x_pad the
/// padded input ([`super::padding::PaddingMap`]).
///
/// ```
/// use lipcert::conv::{Conv2d, Conv2dGeometry, Kernel};
/// use lipcert::LinearOperator;
/// // A 1-D difference filter [1, -1] on a length-3 signal.
/// let g = Conv2dGeometry::conv1d(1, 1, 2, 3);
/// let k = Kernel::from_f64(1, 1, 1, 2, vec![1.0, -1.0]).unwrap();
/// let op = Conv2d::new(k, g).unwrap();
/// let mut y = vec![0.0; 2];
/// op.apply(&[1.0, 4.0, 9.0], &mut y);
/// assert_eq!(y, vec![-3.0, -5.0]);
/// ```
#[derive(Debug, Clone)]
pub struct Conv2d {
    geometry: Conv2dGeometry,
    kernel: Kernel,
    rows: AxisPadding,
    cols: AxisPadding,
    /// Per group, Rᵍᵀ: (C_in/groups·kh·kw) × (C_out/groups), rows ordered (c, a, b).
    reshaped_t: Vec<Mat<f64>>,
    kernel_frobenius_up: f64,
    multiplicity: usize,
}

impl Conv2d {
    /// Builds the operator after validating the geometry and checking the
    /// kernel shape against it.
    pub fn new(kernel: Kernel, geometry: Conv2dGeometry) -> Result<Self> {
        kernel.check_matches(&geometry)?;
        let (top, left, bottom, right) = geometry.padding;
        let rows = AxisPadding::new(geometry.mode, geometry.h, top, bottom);
        let cols = AxisPadding::new(geometry.mode, geometry.w, left, right);
        let (cg, og) = (geometry.c_in_per_group(), geometry.c_out_per_group());
        let (kh, kw) = (geometry.kh, geometry.kw);
        let reshaped_t = (0..geometry.groups)
            .map(|g| {
                Mat::from_fn(cg * kh * kw, og, |r, o| {
                    let (c, a, b) = (r / (kh * kw), (r / kw) % kh, r % kw);
                    kernel.get(g * og + o, c, a, b)
                })
            })
            .collect();
        let multiplicity = rows.max_multiplicity() * cols.max_multiplicity();
        Ok(Self {
            kernel_frobenius_up: kernel.frobenius_up(),
            geometry,
            kernel,
            rows,
            cols,
            reshaped_t,
            multiplicity,
        })
    }

    /// The geometry.
    pub fn geometry(&self) -> &Conv2dGeometry {
        &self.geometry
    }

    /// The kernel.
    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }

    /// Largest number of padded copies of one input entry (1 for zero
    /// padding); ‖P‖₂ = √multiplicity.
    pub fn padding_multiplicity(&self) -> usize {
        self.multiplicity
    }

    /// im2col for group `g`: the (OH·OW) × (C_in/groups·kh·kw) matrix whose row
    /// p = (i, j) holds the padded input entries that output position p reads.
    fn im2col(&self, x: &[f64], g: usize) -> Mat<f64> {
        let geo = &self.geometry;
        let (oh, ow) = geo.output_size();
        let (cg, kh, kw) = (geo.c_in_per_group(), geo.kh, geo.kw);
        let (h, w) = (geo.h, geo.w);
        let mut cols = Mat::<f64>::zeros(oh * ow, cg * kh * kw);
        for c in 0..cg {
            let plane = &x[(g * cg + c) * h * w..(g * cg + c + 1) * h * w];
            for a in 0..kh {
                for b in 0..kw {
                    let r = (c * kh + a) * kw + b;
                    let col = column_mut(cols.col_mut(r));
                    for i in 0..oh {
                        let Some(si) = self.rows.source[i * geo.stride.0 + a * geo.dilation.0]
                        else {
                            continue;
                        };
                        let src_row = &plane[si * w..(si + 1) * w];
                        let dst = &mut col[i * ow..(i + 1) * ow];
                        for (j, d) in dst.iter_mut().enumerate() {
                            if let Some(sj) =
                                self.cols.source[j * geo.stride.1 + b * geo.dilation.1]
                            {
                                *d = src_row[sj];
                            }
                        }
                    }
                }
            }
        }
        cols
    }

    /// Adjoint of [`Conv2d::im2col`]: adds every entry of `cols` to the input
    /// entry it was copied from.
    fn col2im_add(&self, cols: MatRef<'_, f64>, g: usize, x: &mut [f64]) {
        let geo = &self.geometry;
        let (oh, ow) = geo.output_size();
        let (cg, kh, kw) = (geo.c_in_per_group(), geo.kh, geo.kw);
        let (h, w) = (geo.h, geo.w);
        for c in 0..cg {
            let plane = &mut x[(g * cg + c) * h * w..(g * cg + c + 1) * h * w];
            for a in 0..kh {
                for b in 0..kw {
                    let r = (c * kh + a) * kw + b;
                    let col = column(cols.col(r));
                    for i in 0..oh {
                        let Some(si) = self.rows.source[i * geo.stride.0 + a * geo.dilation.0]
                        else {
                            continue;
                        };
                        let dst_row = &mut plane[si * w..(si + 1) * w];
                        let src = &col[i * ow..(i + 1) * ow];
                        for (j, v) in src.iter().enumerate() {
                            if let Some(sj) =
                                self.cols.source[j * geo.stride.1 + b * geo.dilation.1]
                            {
                                dst_row[sj] += v;
                            }
                        }
                    }
                }
            }
        }
    }
}

impl LinearOperator for Conv2d {
    fn nrows(&self) -> usize {
        self.geometry.output_len()
    }

    fn ncols(&self) -> usize {
        self.geometry.input_len()
    }

    fn apply(&self, x: &[f64], y: &mut [f64]) {
        assert_eq!(x.len(), self.ncols(), "apply: input length");
        assert_eq!(y.len(), self.nrows(), "apply: output length");
        let (oh, ow) = self.geometry.output_size();
        let og = self.geometry.c_out_per_group();
        let p = oh * ow;
        for (g, rt) in self.reshaped_t.iter().enumerate() {
            let cols = self.im2col(x, g);
            // Yᵍᵀ (P × og, column-major = the output planes of group g) = cols · Rᵍᵀ.
            let out =
                MatMut::from_column_major_slice_mut(&mut y[g * og * p..(g + 1) * og * p], p, og);
            faer::linalg::matmul::matmul(
                out,
                Accum::Replace,
                cols.as_ref(),
                rt.as_ref(),
                1.0,
                Par::Seq,
            );
        }
    }

    fn apply_transpose(&self, y: &[f64], x: &mut [f64]) {
        assert_eq!(y.len(), self.nrows(), "apply_transpose: input length");
        assert_eq!(x.len(), self.ncols(), "apply_transpose: output length");
        x.iter_mut().for_each(|v| *v = 0.0);
        let (oh, ow) = self.geometry.output_size();
        let og = self.geometry.c_out_per_group();
        let p = oh * ow;
        for (g, rt) in self.reshaped_t.iter().enumerate() {
            let yg = MatRef::from_column_major_slice(&y[g * og * p..(g + 1) * og * p], p, og);
            let mut cols = Mat::<f64>::zeros(p, rt.nrows());
            faer::linalg::matmul::matmul(
                cols.as_mut(),
                Accum::Replace,
                yg,
                rt.transpose(),
                1.0,
                Par::Seq,
            );
            self.col2im_add(cols.as_ref(), g, x);
        }
    }

    /// # Theorem
    /// Each output entry is a dot product of length K = (C_in/groups)·kh·kw
    /// between a row of the reshaped kernel Rᵍ and a column of the im2col
    /// matrix Xᵍ (whose entries are exact copies of input entries or zeros),
    /// so entrywise |fl(y) − y| ≤ γ_K·(|Rᵍ||Xᵍ|) + K·η (Higham, *Accuracy and
    /// Stability*, Lemma 3.1, any summation order, with or without FMA, plus
    /// η = 2⁻¹⁰⁷⁴ per product for underflow). Taking norms,
    /// ‖|Rᵍ||Xᵍ|‖_F ≤ ‖Rᵍ‖_F·‖Xᵍ‖_F, and ‖Xᵍ‖_F² ≤ kh·kw·p·‖xᵍ‖² because each
    /// padded entry appears in at most one im2col row per kernel offset (a, b)
    /// and each input entry has at most p padded copies (p = padding
    /// multiplicity, 1 for zeros). Summing over groups with ‖Rᵍ‖_F ≤ ‖R‖_F:
    ///
    /// ‖fl(Ax) − Ax‖₂ ≤ γ_K·‖R‖_F·√(kh·kw·p)·‖x‖₂ + √(C_out·OH·OW)·K·η.
    ///
    /// Proof: proofs/theories/FloatDot.v, `dot_error_bound`
    ///
    /// # Floating-point assumption (tested, not proved)
    /// faer's matrix multiply computes each output entry as a sum of the K
    /// products in some order with IEEE operations (the same assumption as the
    /// dense operator).
    fn apply_error_bound(&self, x_norm: f64) -> f64 {
        let geo = &self.geometry;
        let k = geo.c_in_per_group() * geo.kh * geo.kw;
        let spread = rounding::sqrt_up((geo.kh * geo.kw * self.multiplicity) as f64);
        let rel = rounding::mul_up(
            rounding::mul_up(rounding::gamma(k), self.kernel_frobenius_up),
            spread,
        );
        let abs = rounding::mul_up(
            rounding::sqrt_up(self.nrows() as f64),
            rounding::underflow_slack(k),
        );
        rounding::add_up(rounding::mul_up(rel, x_norm), abs)
    }
}
