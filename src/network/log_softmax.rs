//! LogSoftmax over the middle axis of an (outer, len, inner) view:
//! y_k = x_k − log Σ_j exp(x_j), per slice; its forward pass with a rigorous
//! rounding bound, its Jacobian products and its Lipschitz constant.
//!
//! # Lipschitz constant
//! On one slice of length n the Jacobian is J = I − 1pᵀ with p = softmax(x)
//! in the open simplex (pᵀ1 = 1). J² = I − 2·1pᵀ + 1(pᵀ1)pᵀ = J, so J is a
//! projection, neither 0 nor I when n ≥ 2, and for such projections
//! ‖J‖₂ = ‖I − J‖₂ (Szyld, "The many proofs of an identity on the norm of
//! oblique projections", Numer. Algorithms 42 (2006)); hence
//! ‖J‖₂ = ‖1pᵀ‖₂ = ‖1‖₂‖p‖₂ = √n·‖p‖₂ < √n (‖p‖₂ < ‖p‖₁ = 1 when two
//! entries are positive). By the mean value inequality on the convex domain
//! the map is √n-Lipschitz. The supremum is approached: at x = t·e₁,
//! p → e₁ as t → ∞ and ‖J‖₂ → √n, and the Lipschitz constant of a C¹ map
//! is at least ‖J(x)‖₂ at every x. So Lip = √n exactly (n ≥ 2), enclosed by
//! [√n rounded down, √n rounded up]; for n = 1 the map is the constant 0.
//! Slices are independent, so the constant of the whole layer is the same
//! (squared output differences add).
//!
//! # Rounding (per slice, m = max x exactly, R = max_k (m − x_k))
//! 1. a_k = fl(x_k − m): |a_k − (x_k − m)| ≤ u·R.
//! 2. ê_j = fl(exp(a_j)): the argument error u|x_j − m| changes exp by the
//!    factor e^{±u·min(R, 800)} (a term with x_j − m < −800 is below η
//!    either way), and exp is assumed within 4u relative
//!    ([`super::constants::EXP_RELATIVE_ERROR`]):
//!    |ê_j − e_j| ≤ ρe_j + η with ρ = 1.01·u·min(R, 800) + 4.01u.
//! 3. Ŝ = fl(Σ ê_j) (any order): |Ŝ − Σê_j| ≤ γ_n Σê_j. As S ≥ 1 (the
//!    maximum contributes exp(0) = 1), |Ŝ/S − 1| ≤ θ = ρ + γ_n(1 + ρ) + 2nη.
//! 4. |ln Ŝ − ln S| = |ln(Ŝ/S)| ≤ θ/(1 − θ) ≤ 1.001θ (θ ≤ 10⁻³, checked).
//! 5. l̂ = fl(ln Ŝ), ln assumed within 4u relative (an assumption about the
//!    platform libm, like exp's): |l̂ − ln Ŝ| ≤ 4u·ln Ŝ ≤ 4u·(⌊log₂ n⌋ + 2).
//! 6. ŷ_k = fl(a_k − l̂): |ŷ_k − (a_k − l̂)| ≤ u(1 + 2u)|ŷ_k|.
//!
//! Per entry |ŷ_k − y_k| ≤ c + 1.001u|ŷ_k| with
//! c = uR + 1.001θ + 4u(⌊log₂ n⌋ + 2), so over N outputs
//! ‖ŷ − y‖₂ ≤ √N·c + 1.001u‖ŷ‖₂ (all rounded upward).

use super::constants::ConstantEnclosure;
use crate::rounding::{add_up, gamma, mul_up, sqrt_down, sqrt_up, ETA, UNIT_ROUNDOFF};

const U: f64 = UNIT_ROUNDOFF;

fn index(len: usize, inner: usize, o: usize, i: usize, k: usize) -> usize {
    (o * len + k) * inner + i
}

/// p = softmax per slice (for the Jacobian products).
fn probabilities(outer: usize, len: usize, inner: usize, x: &[f64]) -> Vec<f64> {
    let y = forward(outer, len, inner, x);
    y.iter().map(|v| v.exp()).collect()
}

/// y_k = (x_k − m) − ln Σ_j exp(x_j − m) per slice (m the slice maximum).
pub fn forward(outer: usize, len: usize, inner: usize, x: &[f64]) -> Vec<f64> {
    let mut y = vec![0.0; x.len()];
    for o in 0..outer {
        for i in 0..inner {
            let at = |k| index(len, inner, o, i, k);
            let m = (0..len).map(|k| x[at(k)]).fold(f64::NEG_INFINITY, f64::max);
            let mut s = 0.0;
            for k in 0..len {
                let a = x[at(k)] - m;
                y[at(k)] = a;
                s += a.exp();
            }
            let l = s.ln();
            for k in 0..len {
                y[at(k)] -= l;
            }
        }
    }
    y
}

/// The rounding bound of [`forward`] (module docs): an upper bound on
/// ‖ŷ − y‖₂ given the input `x` and the computed output `y`; +∞ when the
/// per-slice relative error θ exceeds 10⁻³ (never for n < 10¹², R finite).
pub fn local_error(outer: usize, len: usize, inner: usize, x: &[f64], y: &[f64]) -> f64 {
    let mut r = 0.0f64;
    for o in 0..outer {
        for i in 0..inner {
            let at = |k| index(len, inner, o, i, k);
            let m = (0..len).map(|k| x[at(k)]).fold(f64::NEG_INFINITY, f64::max);
            let lo = (0..len).map(|k| x[at(k)]).fold(f64::INFINITY, f64::min);
            r = r.max(m - lo);
        }
    }
    // fl(m − lo) ≤ (m − lo)(1 + u): scale up to an upper bound on R.
    let r = mul_up(r, 1.0 + 2.0 * U);
    let rho = add_up(mul_up(1.01 * U, r.min(800.0 * (1.0 + 2.0 * U))), 4.01 * U);
    let theta = add_up(
        add_up(rho, mul_up(gamma(len), add_up(1.0, rho))),
        mul_up(2.0 * len as f64, ETA),
    );
    if theta.is_nan() || theta > 1e-3 {
        return f64::INFINITY;
    }
    let log2_n = (usize::BITS - len.leading_zeros()) as f64; // ⌊log₂ n⌋ + 1
    let c = add_up(
        add_up(mul_up(U, r), mul_up(1.001, theta)),
        mul_up(4.0 * U, log2_n + 1.0),
    );
    let n_out = sqrt_up(y.len() as f64);
    add_up(
        mul_up(n_out, c),
        mul_up(1.001 * U, crate::rounding::norm2_up(y)),
    )
}

/// J·v: per slice v − 1·(pᵀv).
pub fn jvp(outer: usize, len: usize, inner: usize, x: &[f64], v: &[f64]) -> Vec<f64> {
    let p = probabilities(outer, len, inner, x);
    let mut out = vec![0.0; v.len()];
    for o in 0..outer {
        for i in 0..inner {
            let at = |k| index(len, inner, o, i, k);
            let pv: f64 = (0..len).map(|k| p[at(k)] * v[at(k)]).sum();
            for k in 0..len {
                out[at(k)] = v[at(k)] - pv;
            }
        }
    }
    out
}

/// Jᵀ·w: per slice w − p·(1ᵀw).
pub fn vjp(outer: usize, len: usize, inner: usize, x: &[f64], w: &[f64]) -> Vec<f64> {
    let p = probabilities(outer, len, inner, x);
    let mut out = vec![0.0; w.len()];
    for o in 0..outer {
        for i in 0..inner {
            let at = |k| index(len, inner, o, i, k);
            let sw: f64 = (0..len).map(|k| w[at(k)]).sum();
            for k in 0..len {
                out[at(k)] = w[at(k)] - p[at(k)] * sw;
            }
        }
    }
    out
}

/// The Lipschitz constant √n of log-softmax over slices of length n (0 for
/// n = 1), enclosed by directed roundings (module docs).
pub fn constant(len: usize) -> ConstantEnclosure {
    if len <= 1 {
        return ConstantEnclosure {
            lower: 0.0,
            upper: 0.0,
            reason: "log-softmax over one element is the constant 0",
        };
    }
    ConstantEnclosure {
        lower: sqrt_down(len as f64),
        upper: sqrt_up(len as f64),
        reason: "log-softmax: Jacobian I - 1p^T is a projection of norm sqrt(n)|p| < sqrt(n) (Szyld 2006), sup sqrt(n) approached",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobian_products_are_adjoint_and_match_differences() {
        let x = [0.3, -1.2, 2.0, 0.7, -0.1, 1.5];
        let v = [0.5, 0.25, -1.0, 2.0, 0.0, -0.75];
        let w = [1.0, -2.0, 0.5, 0.25, 3.0, -1.0];
        // (outer, len, inner) = (1, 3, 2): slices are strided.
        let jv = jvp(1, 3, 2, &x, &v);
        let jw = vjp(1, 3, 2, &x, &w);
        let a: f64 = jv.iter().zip(&w).map(|(p, q)| p * q).sum();
        let b: f64 = v.iter().zip(&jw).map(|(p, q)| p * q).sum();
        assert!((a - b).abs() < 1e-12);
        let h = 1e-6;
        let xp: Vec<f64> = x.iter().zip(&v).map(|(a, b)| a + h * b).collect();
        let xm: Vec<f64> = x.iter().zip(&v).map(|(a, b)| a - h * b).collect();
        let (fp, fm) = (forward(1, 3, 2, &xp), forward(1, 3, 2, &xm));
        for k in 0..6 {
            let fd = (fp[k] - fm[k]) / (2.0 * h);
            assert!((fd - jv[k]).abs() < 1e-8, "{k}: {fd} vs {}", jv[k]);
        }
    }
}
