//! The Gram symbol G(θ) = B(θ)ᴴB(θ) of a [`BlockSpectrum`] group from its
//! samples on a coarse grid, with one rigorous error radius: the cheaper way
//! to the coefficients of [`super::SymbolGram`] when the kernel has many taps
//! per block (3×3 and larger on few channels' worth of frequencies).
//!
//! # The formula
//! With the unwrapped polyphase quotients q_t of
//! [`BlockSpectrum::unwrapped_positions`] (0 ≤ q_{t,a} ≤ D_a on axis a),
//! B(θ) = Σ_t T_t·e^{−iθ·q_t} and the block at frequency ω is B(2πω/M) up to
//! a unimodular factor (same Gram). G(θ) = Σ_{t,t'} T_tᵀT_{t'}e^{−iθ·(q_{t'} − q_t)}
//! is a trigonometric polynomial of degree ≤ D_a on each axis, so with
//! Q_a = 2D_a + 1 nodes θ_ν = 2πν/Q per axis it is its own interpolant
//! (e.g. Zygmund, *Trigonometric Series*, ch. X):
//!
//! G(θ) = Σ_ν w(θ, ν)·G(θ_ν), w(θ, ν) = Π_a D_{Q_a}(θ_a − 2πν_a/Q_a),
//! D_Q(x) = (1/Q)·Σ_{|d| ≤ D} e^{idx} = (1/Q)(1 + 2Σ_{d=1}^{D} cos(dx)),
//!
//! with real weights (|D_Q| ≤ 1). Since G(−θ) = conj G(θ), only one node of
//! each pair {ν, −ν} is formed (Q odd: only ν = 0 is its own pair): with
//! w± = w(θ, ±ν), Re G(θ) = Σ (w⁺ + w⁻)·Re G(θ_ν) and
//! Im G(θ) = Σ (w⁺ − w⁻)·Im G(θ_ν) over the kept nodes. Forming one node
//! costs one complex Gram (2mn² multiply-adds, m×n the chosen side), so all
//! cost about Q₁Q₂·mn² instead of the (#tap pairs)·mn² of the
//! autocorrelation: 25 instead of 81/2 products of order 512³ for a 3×3
//! kernel with 512 channels.
//!
//! # Error radius
//! ρ ≥ ‖G̃(ω) − G(ω)‖₂ (in the real embedding, which has the complex
//! spectral norm) for every computed G̃(ω), from three parts.
//! * **Samples.** B̃(ν) = [X̃; Ỹ] is filled by [`BlockSpectrum::fill_with`]
//!   (per entry ≤ L products, L = [`BlockSpectrum::max_taps_per_block`], with
//!   phases within δ = [`twiddle_product_error`]), so |B̃ − B| ≤ ε_B·a + Lη
//!   entrywise in both parts, ε_B = γ_L(1 + δ) + δ, a = Σ_t |T_t| (Higham
//!   Lemma 3.1), and ‖a‖_F² ≤ L‖K‖_F² (Cauchy–Schwarz); hence
//!   ‖B̃ − B‖_F ≤ e_F = √2(ε_B√L‖K‖_F + Lη√(entries)) and
//!   ‖B̃ᴴB̃ − BᴴB‖ ≤ e_F(2‖B̃‖_F + e_F). The Gram of the computed block
//!   (real part one product of inner length 2m, imaginary part the lower
//!   triangles of XᵀY and −YᵀX accumulated: every entry a sum of 2m
//!   products in some order) is within γ_{2m}·2‖B̃‖_F² + 4mnη of B̃ᴴB̃, as
//!   in [`super::block_gram`]. ρ_ν is the sum; its entries are also bounded by
//!   the nonnegative M_ν = (1 + γ_{2m})|Ŝ|ᵀ|Ŝ| + 2mη (Ŝ the real embedding
//!   of B̃), ‖M_ν‖ ≤ (1 + γ_{2m})·2‖B̃‖_F² + 4mnη.
//! * **Propagation.** The exact sum Σ_ν w·G(θ_ν) = G(θ); replacing G(θ_ν) by
//!   G̃(θ_ν) (and conj for −ν, an orthogonal similarity of the embedding)
//!   moves it by ≤ Λ·max ρ_ν, Λ = Π_a max_θ Σ_ν |D_{Q_a}| (the Lebesgue
//!   constant, bounded from the computed weights plus Q_a·ε_a).
//! * **Evaluation.** The sweep is a dot product of K = (Q₁Q₂ + 1)/2 terms per
//!   entry (γ_K·Σ|w̃||entries| + Kη) with computed weights within
//!   e = 2ε_w + 2u(1 + ε_w) of the exact combined weights: in norm
//!   ≤ [γ_K(1 + u)²Λ̃ + K·e]·max‖M_ν‖ + 2nKη (Λ̃ = the computed Lebesgue sum).
//!
//! Per-axis weights: D_Q(2πω/M − 2πν/Q) = (1/Q)(1 + 2Σ_d cos(2πj_d/(MQ)))
//! with the exact integer j_d = d(ωQ − νM) mod MQ; each cosine is a table
//! twiddle within δ₁ ([`twiddle_error`]), the sum of D + 1 terms is within
//! E = γ_D(1 + 2D(1 + δ₁)) + 2Dδ₁, and the division by Q adds one rounding:
//! ε_a = (1 + u)E/Q + u. The product of the two axes: ε_w = u(1 + ε_a)² +
//! ε_a(2 + ε_a) + η (η for a product that underflows).
//!
//! Proof: proofs/theories/FloatDot.v, `dot_error_bound`
//! Proof: proofs/theories/Norms.v, `spectral_le_abs`
//! Proof: proofs/theories/Norms.v, `spectral_le_frobenius`

use super::circular_spectrum::{
    phase_product, twiddle_error, twiddle_product_error, twiddles, BlockSpectrum,
};
use super::symbol_gram::pack_lower;
use crate::columns::column;
use crate::parallel::lower_product;
use crate::rounding::{self, ETA, UNIT_ROUNDOFF};
use faer::{Accum, Mat};

/// The interpolation weights of a sampled symbol.
pub(super) struct SampleWeights {
    /// Kept nodes ν (one of each pair {ν, −ν}; (0, 0) first).
    nodes: Vec<(usize, usize)>,
    /// Per axis: Q and the computed D_Q(2πω/M − 2πν/Q) for every ω (rows of
    /// Q entries).
    axes: [(usize, Vec<f64>); 2],
}

impl SampleWeights {
    /// The weights at ω of the real parts (node 0: w(ω, 0); others
    /// fl(w⁺ + w⁻)) and of the imaginary parts (fl(w⁺ − w⁻), nodes ≠ 0),
    /// with w = fl(w₁·w₂) from the axis tables.
    pub(super) fn weights(&self, w: (usize, usize)) -> (Vec<f64>, Vec<f64>) {
        let [(q1, t1), (q2, t2)] = &self.axes;
        let (r1, r2) = (&t1[w.0 * q1..(w.0 + 1) * q1], &t2[w.1 * q2..(w.1 + 1) * q2]);
        let at = |v: (usize, usize)| r1[v.0] * r2[v.1];
        let mut re_w = Vec::with_capacity(self.nodes.len());
        let mut im_w = Vec::with_capacity(self.nodes.len().saturating_sub(1));
        re_w.push(at((0, 0)));
        for &v in &self.nodes[1..] {
            let (plus, minus) = (at(v), at(((q1 - v.0) % q1, (q2 - v.1) % q2)));
            re_w.push(plus + minus);
            im_w.push(plus - minus);
        }
        (re_w, im_w)
    }
}

/// The coefficients (samples) of a sampled symbol, ready for
/// [`super::SymbolGram`].
pub(super) struct Sampled {
    /// Gram dimension.
    pub n: usize,
    /// True when G = BᴴB.
    pub column_side: bool,
    /// Packed lower triangles of Re G̃(θ_ν), node by node.
    pub re_coef: Vec<f64>,
    /// Packed lower triangles of Im G̃(θ_ν) (diagonal 0), nodes ≠ 0.
    pub im_coef: Vec<f64>,
    /// tr Re G̃(θ_ν) per node.
    pub traces: Vec<f64>,
    /// The interpolation weights.
    pub weights: SampleWeights,
    /// The radius of the module documentation.
    pub radius: f64,
}

/// Blocks filled per pass over the kernel.
const FILL_NODES: usize = 4;

/// Nodes per axis, Q_a = 2·(largest unwrapped quotient) + 1.
fn node_counts(spec: &BlockSpectrum) -> [usize; 2] {
    [0, 1].map(|axis| {
        2 * spec
            .unwrapped_positions(axis)
            .iter()
            .copied()
            .max()
            .unwrap_or(0)
            + 1
    })
}

/// (0, 0), then one node of each pair {ν, −ν} of ℤ_{Q₁} × ℤ_{Q₂}.
fn kept_nodes(q: [usize; 2]) -> Vec<(usize, usize)> {
    let mut nodes = vec![(0, 0)];
    for a in 0..q[0] {
        for b in 0..q[1] {
            let neg = ((q[0] - a) % q[0], (q[1] - b) % q[1]);
            if (a, b) != (0, 0) && (a, b) < neg {
                nodes.push((a, b));
            }
        }
    }
    nodes
}

/// Multiply-adds to form the samples of one group: a complex Gram (2mn²) per
/// node but a real one (mn²/2) at ν = 0, plus the fills.
pub(super) fn sampled_cost(spec: &BlockSpectrum) -> f64 {
    let (og, cols) = (spec.block_rows() as f64, spec.block_cols() as f64);
    let (m, n) = if cols <= og { (og, cols) } else { (cols, og) };
    let nodes = kept_nodes(node_counts(spec)).len() as f64;
    let taps = spec.taps(0).len() as f64;
    let gram = m * n * n * (2.0 * (nodes - 1.0) + 0.5);
    gram + nodes * taps * og * spec.group_in() as f64 * 2.0
}

/// Number of real-part terms of the sampled symbol's sweep.
pub(super) fn sampled_terms(spec: &BlockSpectrum) -> usize {
    kept_nodes(node_counts(spec)).len()
}

/// Per-axis Dirichlet weight table D_Q(2πω/M − 2πν/Q) (row ω of Q entries),
/// its largest row sum of |·| (rounded up) and the error bound ε_a of one
/// entry (module doc).
fn axis_weights(m: usize, q: usize) -> (Vec<f64>, f64, f64) {
    let d_max = (q - 1) / 2;
    let mq = m * q;
    let tw = twiddles(mq);
    let mut table = Vec::with_capacity(m * q);
    let mut lebesgue = 0.0f64;
    for w in 0..m {
        let mut row_sum = 0.0;
        for v in 0..q {
            // j_d = d·(ωQ − νM) mod MQ, from the nonnegative ωQ + (MQ − νM).
            let step = (w * q + (mq - v * m)) % mq;
            let mut s = 1.0;
            for d in 1..=d_max {
                s += 2.0 * tw[(d * step) % mq].0;
            }
            let x = s / q as f64;
            row_sum = rounding::add_up(row_sum, x.abs());
            table.push(x);
        }
        lebesgue = lebesgue.max(row_sum);
    }
    let d1 = twiddle_error();
    let dd = d_max as f64;
    let sum_err = rounding::add_up(
        rounding::mul_up(
            rounding::gamma(d_max),
            rounding::add_up(1.0, rounding::mul_up(2.0 * dd, rounding::add_up(1.0, d1))),
        ),
        rounding::mul_up(2.0 * dd, d1),
    );
    let eps = rounding::add_up(
        rounding::mul_up(
            rounding::add_up(1.0, UNIT_ROUNDOFF),
            rounding::div_up(sum_err, q as f64),
        ),
        UNIT_ROUNDOFF,
    );
    (table, lebesgue, eps)
}

/// The samples and radius for group `g` of `spec` (module documentation).
///
/// The products are split over `threads` threads ([`crate::parallel`]):
/// only the order of each entry's sum changes, which the radius (Higham's
/// bound, any order) already covers.
pub(super) fn sampled(spec: &BlockSpectrum, g: usize, threads: usize) -> Sampled {
    let (m1, m2) = spec.moduli();
    let q = node_counts(spec);
    let pos = [spec.unwrapped_positions(0), spec.unwrapped_positions(1)];
    let tw = [twiddles(q[0]), twiddles(q[1])];
    let nodes = kept_nodes(q);
    let (og, cols) = (spec.block_rows(), spec.block_cols());
    let column_side = cols <= og;
    let (m, n) = if column_side { (og, cols) } else { (cols, og) };
    let size = n * (n + 1) / 2;
    let mut re_coef = Vec::with_capacity(nodes.len() * size);
    let mut im_coef = Vec::with_capacity((nodes.len() - 1) * size);
    let mut traces = Vec::with_capacity(nodes.len());
    let mut zs: Vec<Mat<f64>> = Vec::new();
    let mut re = Mat::<f64>::zeros(n, n);
    let mut t = Mat::<f64>::zeros(n, n);
    let mut fro_sq_max = 0.0f64;
    for k in 0..nodes.len() {
        // Fill FILL_NODES blocks per pass over the kernel.
        let slot = k % FILL_NODES;
        if slot == 0 {
            let batch = &nodes[k..(k + FILL_NODES).min(nodes.len())];
            zs.resize_with(batch.len(), || Mat::zeros(0, 0));
            spec.fill_many(
                g,
                |r, a, b| {
                    phase_product(
                        tw[0][(batch[r].0 * pos[0][a]) % q[0]],
                        tw[1][(batch[r].1 * pos[1][b]) % q[1]],
                    )
                },
                &mut zs,
            );
        }
        let z = &zs[slot];
        let ss: f64 = (0..z.ncols())
            .map(|j| rounding::sum_of_squares(column(z.col(j))))
            .sum();
        // Not f64::max, which would drop a NaN from an overflowed fill: a NaN
        // radius makes every certificate fail (an error, never a bound).
        let fro_sq = rounding::sum_of_squares_up(ss, z.nrows() * z.ncols());
        if fro_sq.is_nan() || fro_sq > fro_sq_max {
            fro_sq_max = fro_sq;
        }
        let (x, y) = (z.subrows(0, og), z.subrows(og, og));
        // The chosen side A = X' + iY' (m × n) with G = AᴴA: B itself, or
        // Bᴴ = Xᵀ − iYᵀ (then Im G = X'ᵀY' − Y'ᵀX' flips sign).
        let (xs, ys, sign) = if column_side {
            (x, y, 1.0)
        } else {
            (x.transpose(), y.transpose(), -1.0)
        };
        lower_product(
            re.as_mut(),
            Accum::Replace,
            xs.transpose(),
            xs,
            1.0,
            threads,
        );
        // At ν = 0 every phase is (1, −0), so Y = 0 exactly.
        if k > 0 {
            lower_product(re.as_mut(), Accum::Add, ys.transpose(), ys, 1.0, threads);
        }
        pack_lower(re.as_ref(), false, &mut re_coef);
        traces.push((0..n).map(|i| re[(i, i)]).sum());
        if k > 0 {
            // Lower triangle of X'ᵀY' − Y'ᵀX' (2m products per entry).
            for (a, b, alpha, accum) in
                [(xs, ys, sign, Accum::Replace), (ys, xs, -sign, Accum::Add)]
            {
                lower_product(t.as_mut(), accum, a.transpose(), b, alpha, threads);
            }
            pack_lower(t.as_ref(), true, &mut im_coef);
        }
    }
    let (t1, leb1, eps1) = axis_weights(m1, q[0]);
    let (t2, leb2, eps2) = axis_weights(m2, q[1]);
    let radius = sampled_radius(spec, m, n, fro_sq_max, [leb1, leb2], [eps1, eps2], q);
    Sampled {
        n,
        column_side,
        re_coef,
        im_coef,
        traces,
        weights: SampleWeights {
            nodes,
            axes: [(q[0], t1), (q[1], t2)],
        },
        radius,
    }
}

/// The radius of the module documentation from the largest ‖B̃(ν)‖_F²
/// (`fro_sq_max`, an upper bound), the computed per-axis Lebesgue sums and
/// weight errors.
fn sampled_radius(
    spec: &BlockSpectrum,
    m: usize,
    n: usize,
    fro_sq_max: f64,
    lebesgue: [f64; 2],
    eps_axis: [f64; 2],
    q: [usize; 2],
) -> f64 {
    use rounding::{add_up, gamma, mul_up, sqrt_up};
    let u = UNIT_ROUNDOFF;
    let l = spec.max_taps_per_block();
    let entries = spec.block_rows() * spec.block_cols();
    // Samples: fill error e_F, then ρ_ν and ‖M_ν‖.
    let delta = twiddle_product_error();
    let eps_b = add_up(mul_up(gamma(l), add_up(1.0, delta)), delta);
    let a_fro = mul_up(sqrt_up(l as f64), spec.kernel_frobenius_up());
    let e_f = mul_up(
        sqrt_up(2.0),
        add_up(
            mul_up(eps_b, a_fro),
            mul_up(mul_up(l as f64, ETA), sqrt_up(entries as f64)),
        ),
    );
    let b_fro = sqrt_up(fro_sq_max);
    let fill = mul_up(e_f, add_up(mul_up(2.0, b_fro), e_f));
    let underflow_gram = mul_up(mul_up(4.0, m as f64), mul_up(n as f64, ETA));
    let g2m = gamma(2 * m);
    let rho_node = add_up(
        add_up(mul_up(g2m, mul_up(2.0, fro_sq_max)), underflow_gram),
        fill,
    );
    let m_node = add_up(
        mul_up(add_up(1.0, g2m), mul_up(2.0, fro_sq_max)),
        underflow_gram,
    );
    // Propagation: exact Lebesgue constant ≤ Π (computed + Q·ε_a).
    let lam_exact = mul_up(
        add_up(lebesgue[0], mul_up(q[0] as f64, eps_axis[0])),
        add_up(lebesgue[1], mul_up(q[1] as f64, eps_axis[1])),
    );
    let lam_computed = mul_up(lebesgue[0], lebesgue[1]);
    // Evaluation: K terms, combined-weight error e.
    let k = (q[0] * q[1]).div_ceil(2);
    let ea = eps_axis[0].max(eps_axis[1]);
    let one_ea = add_up(1.0, ea);
    let eps_w = add_up(
        add_up(
            mul_up(u, mul_up(one_ea, one_ea)),
            mul_up(ea, add_up(2.0, ea)),
        ),
        ETA,
    );
    let e = add_up(mul_up(2.0, eps_w), mul_up(2.0 * u, add_up(1.0, eps_w)));
    let one_u = add_up(1.0, u);
    let eval_factor = add_up(
        mul_up(gamma(k), mul_up(mul_up(one_u, one_u), lam_computed)),
        mul_up(k as f64, e),
    );
    add_up(
        add_up(mul_up(lam_exact, rho_node), mul_up(eval_factor, m_node)),
        mul_up(mul_up(2.0 * n as f64, k as f64), ETA),
    )
}
