//! Dense matrices computed in floating point together with a rigorous bound
//! on their distance (spectral norm) to the exact matrix they stand for: the
//! building block of the bound methods that need norms of *products* of
//! consecutive linear layers (LipLT).
//!
//! # Error model
//! A [`Tracked`] matrix M̂ carries `err` with ‖M̂ − M‖₂ ≤ err for the exact M.
//! * Applying an exact linear layer A column by column: the computed
//!   fl(A m̂ⱼ) satisfies ‖fl(A m̂ⱼ) − A m̂ⱼ‖ ≤ eⱼ (the layer's a-priori
//!   rounding bound, [`LinearOperator::apply_error_bound`] and the bounds
//!   below), so with E the matrix of these column errors
//!   ‖fl(AM̂) − AM‖ ≤ ‖E‖₂ + ‖A‖·‖M̂ − M‖ ≤ √(Σ eⱼ²) + ‖A‖·err
//!   (‖E‖₂ ≤ ‖E‖_F; proofs/theories/Norms.v, `spectral_le_frobenius`).
//! * Scaling by a float c: |fl(c m) − c m| ≤ u|c m| + η/2 per entry, so
//!   err′ = |c|·err + u|c|‖M̂‖_F + η√(entries).
//! * Sum: |fl(a + b) − (a + b)| ≤ u|a + b| ≤ u(1 + 2u)|fl(a + b)| per entry
//!   (additions never underflow inexactly), err′ = err_a + err_b + u(1 + 2u)‖Ŝ‖_F.
//! * Norm: ‖M‖₂ ≤ σ_up(M̂) + err (Weyl), σ_up certified by [`crate::sigma()`].
//!
//! Every bound is rounded upward ([`crate::rounding`]).

use crate::enclosure::Guarantee;
use crate::error::{Error, Result};
use crate::matrix::DenseMatrix;
use crate::network::elementwise::Elementwise;
use crate::network::layer::{Layer, Node};
use crate::operator::LinearOperator;
use crate::rounding::{
    add_up, div_up, gamma, mul_up, norm2_up, sqrt_up, sum_up, ETA, UNIT_ROUNDOFF,
};
use crate::sigma::{sigma, SigmaOptions};

/// A column-major floating-point matrix M̂ with ‖M̂ − M‖₂ ≤ `err` for the
/// exact matrix M it represents.
#[derive(Debug, Clone)]
pub struct Tracked {
    /// Rows (dimension of the current activation space).
    pub rows: usize,
    /// Columns (dimension of the source space).
    pub cols: usize,
    /// Column-major values.
    pub data: Vec<f64>,
    /// Bound on ‖M̂ − M‖₂.
    pub err: f64,
}

impl Tracked {
    /// The identity of size n (exact).
    pub fn identity(n: usize) -> Self {
        Self::identity_on_top(n, n)
    }

    /// The stacked form [I; 0] (2n × n) of the complex n×n identity (the
    /// first n columns of its real form; exact).
    pub fn stacked_identity(n: usize) -> Self {
        Self::identity_on_top(2 * n, n)
    }

    /// [I; 0] with `rows` ≥ `cols` rows (exact).
    fn identity_on_top(rows: usize, cols: usize) -> Self {
        let mut data = vec![0.0; rows * cols];
        for j in 0..cols {
            data[j * rows + j] = 1.0;
        }
        Self {
            rows,
            cols,
            data,
            err: 0.0,
        }
    }

    /// Number of stored entries.
    pub fn entries(&self) -> usize {
        self.data.len()
    }

    /// The diagonal matrix diag(v) (exact).
    pub fn diagonal(v: &[f64]) -> Self {
        let n = v.len();
        let mut data = vec![0.0; n * n];
        for (i, d) in v.iter().enumerate() {
            data[i * n + i] = *d;
        }
        Self {
            rows: n,
            cols: n,
            data,
            err: 0.0,
        }
    }

    /// fl(diag(d)·M̂) with its error: per entry |fl(dᵢm) − dᵢm| ≤ u|dᵢm| + η/2,
    /// so err′ = max|d|·err + u·max|d|·‖M̂‖_F + η√(entries).
    pub fn scale_rows(&self, d: &[f64]) -> Self {
        let dmax = d.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let data: Vec<f64> = self
            .data
            .iter()
            .enumerate()
            .map(|(k, v)| d[k % self.rows] * v)
            .collect();
        let rounding = add_up(
            mul_up(mul_up(UNIT_ROUNDOFF, dmax), self.frobenius_up()),
            mul_up(ETA, sqrt_up(self.data.len() as f64)),
        );
        Self {
            rows: self.rows,
            cols: self.cols,
            data,
            err: add_up(mul_up(dmax, self.err), rounding),
        }
    }

    /// fl(M̂·diag(d)) (`divide` false) or fl(M̂·diag(d)⁻¹) (`divide` true,
    /// each entry one correctly rounded division) for positive d, with its
    /// error: per entry |fl z − z| ≤ u|z| + η/2 ≤ 2u|fl z| + η (as
    /// |z| ≤ (|fl z| + η/2)/(1 − u)), so
    /// err′ = err·max(d or 1/d) + 2u‖fl‖_F + η√(entries), the propagated
    /// part because ‖E·diag(d)‖₂ ≤ ‖E‖₂·max dⱼ (also for the stacked form
    /// of a complex matrix: the columns are the complex ones).
    pub fn scale_columns(&self, d: &[f64], divide: bool) -> Self {
        let mut data = self.data.clone();
        for (col, dj) in data.chunks_mut(self.rows.max(1)).zip(d) {
            for v in col {
                *v = if divide { *v / dj } else { *v * dj };
            }
        }
        let factor = if divide {
            div_up(1.0, d.iter().fold(f64::INFINITY, |a, v| a.min(*v)))
        } else {
            d.iter().fold(0.0f64, |a, v| a.max(*v))
        };
        let rounding = add_up(
            mul_up(2.0 * UNIT_ROUNDOFF, norm2_up(&data)),
            mul_up(ETA, sqrt_up(data.len() as f64)),
        );
        Self {
            rows: self.rows,
            cols: self.cols,
            err: add_up(mul_up(factor, self.err), rounding),
            data,
        }
    }

    /// The stacked form of M̂ᴴ from that of M̂ = X̂ + iŶ ([X̂; Ŷ], 2m × n):
    /// [X̂ᵀ; −Ŷᵀ] (2n × m), exact, with the same error (‖Eᴴ‖₂ = ‖E‖₂).
    pub fn stacked_adjoint(&self) -> Self {
        let (m, n) = (self.rows / 2, self.cols);
        let mut data = vec![0.0; 2 * n * m];
        for j in 0..n {
            for i in 0..m {
                // Entry (i, j) of X̂ and Ŷ go to (j, i) and (n + j, i).
                data[i * 2 * n + j] = self.data[j * self.rows + i];
                data[i * 2 * n + n + j] = -self.data[j * self.rows + m + i];
            }
        }
        Self {
            rows: 2 * n,
            cols: m,
            data,
            err: self.err,
        }
    }

    /// The stacked form of the complex [M̂₁; M̂₂] (equal column counts) from
    /// theirs: [X̂₁; X̂₂; Ŷ₁; Ŷ₂], exact, with error √(e₁² + e₂²)
    /// (‖[E₁; E₂]‖₂² ≤ ‖E₁‖₂² + ‖E₂‖₂²).
    pub fn stacked_vconcat(&self, other: &Tracked) -> Result<Self> {
        if self.cols != other.cols {
            return Err(Error::InvalidOption(
                "internal: stacking matrices with different column counts".into(),
            ));
        }
        let (m1, m2) = (self.rows / 2, other.rows / 2);
        let rows = 2 * (m1 + m2);
        let mut data = Vec::with_capacity(rows * self.cols);
        for j in 0..self.cols {
            let (a, b) = (
                &self.data[j * self.rows..(j + 1) * self.rows],
                &other.data[j * other.rows..(j + 1) * other.rows],
            );
            data.extend_from_slice(&a[..m1]);
            data.extend_from_slice(&b[..m2]);
            data.extend_from_slice(&a[m1..]);
            data.extend_from_slice(&b[m2..]);
        }
        Ok(Self {
            rows,
            cols: self.cols,
            data,
            err: sqrt_up(add_up(
                mul_up(self.err, self.err),
                mul_up(other.err, other.err),
            )),
        })
    }

    /// Euclidean norms of the rows (floating point, for heuristics only).
    pub fn row_norms(&self) -> Vec<f64> {
        let mut r = vec![0.0; self.rows];
        for (k, v) in self.data.iter().enumerate() {
            r[k % self.rows] += v * v;
        }
        r.iter().map(|v| v.sqrt()).collect()
    }

    /// Euclidean norms of the columns (floating point, for heuristics only).
    pub fn column_norms(&self) -> Vec<f64> {
        self.data
            .chunks(self.rows.max(1))
            .map(|c| c.iter().map(|v| v * v).sum::<f64>().sqrt())
            .collect()
    }

    /// The diagonal of a diagonal matrix, `None` otherwise.
    fn diagonal_entries(&self) -> Option<Vec<f64>> {
        if self.rows != self.cols {
            return None;
        }
        let mut d = vec![0.0; self.rows];
        for (k, v) in self.data.iter().enumerate() {
            let (j, i) = (k / self.rows, k % self.rows);
            if i == j {
                d[i] = *v;
            } else if *v != 0.0 {
                return None;
            }
        }
        Some(d)
    }

    /// Whether the stored matrix M̂ is the identity (square, 1 on the
    /// diagonal, 0 elsewhere; says nothing of `err`).
    pub(crate) fn is_identity(&self) -> bool {
        self.rows == self.cols && self.has_identity_on_top()
    }

    /// Whether the stored matrix M̂ is [`Tracked::stacked_identity`] (says
    /// nothing of `err`).
    pub(crate) fn is_stacked_identity(&self) -> bool {
        self.rows == 2 * self.cols && self.has_identity_on_top()
    }

    /// Whether M̂ has 1 at (j, j) for every column j and 0 elsewhere.
    fn has_identity_on_top(&self) -> bool {
        self.data.iter().enumerate().all(|(k, v)| {
            let (j, i) = (k / self.rows, k % self.rows);
            *v == if i == j { 1.0 } else { 0.0 }
        })
    }

    fn frobenius_up(&self) -> f64 {
        norm2_up(&self.data)
    }

    /// fl(c·M̂) with its error (see the module docs).
    pub fn scale(&self, c: f64) -> Self {
        let data: Vec<f64> = self.data.iter().map(|v| c * v).collect();
        let rounding = add_up(
            mul_up(mul_up(UNIT_ROUNDOFF, c.abs()), self.frobenius_up()),
            mul_up(ETA, sqrt_up(self.data.len() as f64)),
        );
        Self {
            rows: self.rows,
            cols: self.cols,
            data,
            err: add_up(mul_up(c.abs(), self.err), rounding),
        }
    }

    /// fl(Â + B̂) with its error (see the module docs). Shapes must agree.
    pub fn add(&self, other: &Tracked) -> Result<Self> {
        if self.rows != other.rows || self.cols != other.cols {
            return Err(Error::InvalidOption(format!(
                "internal: adding {}x{} and {}x{} matrices in a bound computation",
                self.rows, self.cols, other.rows, other.cols
            )));
        }
        let data: Vec<f64> = self
            .data
            .iter()
            .zip(&other.data)
            .map(|(a, b)| a + b)
            .collect();
        let s = norm2_up(&data);
        Ok(Self {
            rows: self.rows,
            cols: self.cols,
            err: add_up(
                add_up(self.err, other.err),
                mul_up(UNIT_ROUNDOFF * (1.0 + 2.0 * UNIT_ROUNDOFF), s),
            ),
            data,
        })
    }

    /// Certified upper bound on ‖M‖₂ of the exact M: σ_up(M̂) + err, with
    /// the guarantee of the σ enclosure.
    pub fn norm_upper(&self, options: &SigmaOptions) -> Result<(f64, Guarantee)> {
        if self.data.iter().all(|v| *v == 0.0) {
            return Ok((self.err, Guarantee::Rigorous));
        }
        if self.is_identity() {
            return Ok((add_up(1.0, self.err), Guarantee::Rigorous));
        }
        if let Some(d) = self.diagonal_entries() {
            // ‖diag(d)‖₂ = max |dᵢ| exactly.
            let m = d.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            return Ok((add_up(m, self.err), Guarantee::Rigorous));
        }
        // Column-major M̂ is row-major M̂ᵀ, and σ(M̂ᵀ) = σ(M̂).
        let t = DenseMatrix::from_row_major(self.cols, self.rows, &self.data)?;
        let e = sigma(&t, options)?;
        let up = add_up(e.upper(), self.err);
        if !up.is_finite() {
            return Err(Error::Overflow {
                context: "norm of a product of layers".into(),
            });
        }
        Ok((up, e.guarantee()))
    }
}

/// Whether [`apply_linear_node`] handles this layer (an exact linear map on
/// the values, bias ignored): dense, convolution (zero padding), transposed
/// convolution, batch norm, average pooling, flatten, coordinate selections
/// (transpose, slice, pad, …: copies of entries, exact) and the elementwise
/// affine map by constants (diag(f) or diag(1/f): one rounding per entry).
pub fn is_linear(layer: &Layer) -> bool {
    match layer {
        Layer::Linear { .. }
        | Layer::BatchNorm { .. }
        | Layer::AvgPool2d { .. }
        | Layer::Flatten
        | Layer::Select(_) => true,
        // y_i = f_i·x_i + s_i (or x_i/f_i + s_i): diag(f) or diag(1/f).
        Layer::Elementwise(e) => matches!(**e, Elementwise::Affine { .. }),
        // The conv module's rounding bound (√(‖A‖₁‖A‖∞) of |A|) is stated for
        // zero padding only.
        Layer::Conv2d(c) => c.mode == crate::conv::PaddingMode::Zeros,
        // Cᵀ of a zero-padded conv C, with its own rounding bound
        // (`ConvTransposeLayer::apply_error_bound`).
        Layer::ConvTranspose2d(_) => true,
        _ => false,
    }
}

/// fl(A·M̂) for the linear part A of `node` (bias ignored: it does not change
/// any Lipschitz constant), with its error (see the module docs). Needs the
/// node's certified bound (an upper bound on ‖A‖).
pub fn apply_linear_node(node: &Node, m: &Tracked) -> Result<Tracked> {
    let norm_a = node
        .bound
        .as_ref()
        .ok_or_else(|| Error::InvalidOption(format!("layer '{}' is not certified", node.kind)))?
        .upper;
    let rows: usize = node.shape_out.iter().product();
    if m.rows != node.shape_in.iter().product::<usize>() {
        return Err(Error::InvalidOption(format!(
            "internal: layer '{}' applied to a matrix with {} rows",
            node.kind, m.rows
        )));
    }
    let bn = match &node.layer {
        Layer::BatchNorm {
            gamma: g, var, eps, ..
        } => {
            let (d_hat, delta) = crate::network::lipschitz::bn_scales(g, var, *eps);
            let max_d = d_hat.iter().fold(0.0f64, |a, d| a.max(d.abs()));
            Some((d_hat, add_up(mul_up(UNIT_ROUNDOFF, max_d), delta)))
        }
        _ => None,
    };
    let not_linear =
        || Error::InvalidOption(format!("internal: layer '{}' is not linear", node.kind));
    let mut data = Vec::with_capacity(rows * m.cols);
    let mut col_errors = Vec::with_capacity(m.cols);
    for j in 0..m.cols {
        let x = &m.data[j * m.rows..(j + 1) * m.rows];
        let nx = norm2_up(x);
        let (y, e) = match &node.layer {
            Layer::Linear { weight, .. } => {
                let mut y = vec![0.0; rows];
                weight.apply(x, &mut y);
                (y, weight.apply_error_bound(nx))
            }
            Layer::Conv2d(c) => (c.apply_linear(x), c.apply_error_bound(nx)),
            Layer::ConvTranspose2d(c) => (c.apply_linear(x), c.apply_error_bound(nx)),
            Layer::BatchNorm { spatial, .. } => {
                // fl(d̂_c x) − d_c x: u|d̂_c x| + η/2 + |d̂_c − d_c||x| per entry.
                let (d_hat, rel) = bn.as_ref().expect("set above");
                let rel = *rel;
                let y: Vec<f64> = x
                    .iter()
                    .enumerate()
                    .map(|(i, v)| d_hat[i / spatial] * v)
                    .collect();
                (
                    y,
                    add_up(mul_up(rel, nx), mul_up(ETA, sqrt_up(rows as f64))),
                )
            }
            Layer::AvgPool2d { channels, pool } => {
                // Window sum then one division: γ_{k}(A|x|)ᵢ + η per entry,
                // k = window + 1, and ‖A|x|‖ ≤ ‖A‖‖x‖ (A ≥ 0).
                let k = pool.max_window() + 1;
                (
                    pool.avg_forward(*channels, x),
                    add_up(
                        mul_up(mul_up(gamma(k), norm_a), nx),
                        mul_up(sqrt_up(rows as f64), mul_up(k as f64, ETA)),
                    ),
                )
            }
            Layer::Flatten => (x.to_vec(), 0.0),
            // Copies of entries (and zeros): exact.
            Layer::Select(sel) => (sel.apply(x), 0.0),
            Layer::Elementwise(e) => match &**e {
                // One rounded product or quotient per entry: u|yᵢ| + η/2,
                // and |yᵢ| ≤ ‖A‖·|xᵢ| with ‖A‖ ≤ norm_a (max |fᵢ| or
                // max 1/|fᵢ|, the node's certified bound).
                Elementwise::Affine { factor, divide, .. } => (
                    x.iter()
                        .zip(factor)
                        .map(|(v, f)| if *divide { v / f } else { v * f })
                        .collect(),
                    add_up(
                        mul_up(mul_up(UNIT_ROUNDOFF, norm_a), nx),
                        mul_up(ETA, sqrt_up(rows as f64)),
                    ),
                ),
                _ => return Err(not_linear()),
            },
            _ => return Err(not_linear()),
        };
        data.extend_from_slice(&y);
        col_errors.push(e);
    }
    let local = sqrt_up(sum_up(col_errors.iter().map(|e| mul_up(*e, *e))));
    let err = add_up(mul_up(norm_a, m.err), local);
    if !err.is_finite() || data.iter().any(|v| !v.is_finite()) {
        return Err(Error::Overflow {
            context: format!("product of layers through '{}'", node.kind),
        });
    }
    Ok(Tracked {
        rows,
        cols: m.cols,
        data,
        err,
    })
}

/// An exact sparse linear map with few terms per row (selections, p − q,
/// (p + q)/2), given row by row as (column, coefficient) lists whose
/// coefficients are exact floats.
#[derive(Debug, Clone)]
pub struct SparseMap {
    /// Input dimension.
    pub cols: usize,
    /// Each row's terms.
    pub rows: Vec<Vec<(usize, f64)>>,
}

impl SparseMap {
    /// Upper bound on ‖|A|‖₂ ≥ ‖A‖₂: √(‖A‖₁‖A‖∞), sums rounded upward.
    /// Proof: proofs/theories/Norms.v, `spectral_le_sqrt_l1_linf`.
    pub fn abs_norm_up(&self) -> f64 {
        let mut col = vec![0.0f64; self.cols];
        let mut linf = 0.0f64;
        for r in &self.rows {
            let mut s = 0.0;
            for &(j, a) in r {
                s = add_up(s, a.abs());
                col[j] = add_up(col[j], a.abs());
            }
            linf = linf.max(s);
        }
        let l1 = col.into_iter().fold(0.0, f64::max);
        sqrt_up(mul_up(l1, linf))
    }

    /// The map as a dense [`Tracked`] matrix (exact, err = 0).
    pub fn to_tracked(&self) -> Tracked {
        let rows = self.rows.len();
        let mut data = vec![0.0; rows * self.cols];
        for (i, r) in self.rows.iter().enumerate() {
            for &(j, a) in r {
                data[j * rows + i] += a;
            }
        }
        Tracked {
            rows,
            cols: self.cols,
            data,
            err: 0.0,
        }
    }

    /// fl(A·M̂) with its error: each output sums at most k terms, so
    /// |fl(a·x) − a·x| ≤ γ_k(|A||x|)ᵢ + k·η per entry and
    /// ‖|A||x|‖ ≤ ‖|A|‖‖x‖ (module docs for the rest).
    pub fn apply(&self, m: &Tracked) -> Result<Tracked> {
        if m.rows != self.cols {
            return Err(Error::InvalidOption(format!(
                "internal: sparse map with {} columns applied to {} rows",
                self.cols, m.rows
            )));
        }
        let rows = self.rows.len();
        let k = self.rows.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let abs = self.abs_norm_up();
        let mut data = Vec::with_capacity(rows * m.cols);
        let mut col_errors = Vec::with_capacity(m.cols);
        for j in 0..m.cols {
            let x = &m.data[j * m.rows..(j + 1) * m.rows];
            for r in &self.rows {
                data.push(r.iter().map(|&(c, a)| a * x[c]).sum::<f64>());
            }
            col_errors.push(add_up(
                mul_up(mul_up(gamma(k), abs), norm2_up(x)),
                mul_up(sqrt_up(rows as f64), mul_up(k as f64, ETA)),
            ));
        }
        let local = sqrt_up(sum_up(col_errors.iter().map(|e| mul_up(*e, *e))));
        Ok(Tracked {
            rows,
            cols: m.cols,
            data,
            err: add_up(mul_up(abs, m.err), local),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Tracked;

    #[test]
    fn only_the_identity_matrix_is_the_identity() {
        for n in [1, 2, 5] {
            assert!(Tracked::identity(n).is_identity());
            for k in 0..n * n {
                let mut t = Tracked::identity(n);
                t.data[k] = if t.data[k] == 1.0 {
                    1.0 + f64::EPSILON
                } else {
                    1e-300
                };
                assert!(!t.is_identity(), "n = {n}, entry {k}");
            }
        }
        let wide = Tracked {
            rows: 1,
            cols: 2,
            data: vec![1.0, 0.0],
            err: 0.0,
        };
        assert!(!wide.is_identity());
    }
}
