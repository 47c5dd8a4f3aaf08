//! The activation constants against sampled derivatives and independent
//! closed forms.

use lipcert::network::constants;
use lipcert::network::special::{gelu_derivative, gelu_tanh_derivative, silu_derivative};

#[test]
fn sampled_derivatives_stay_below_the_certified_constants() {
    let g = constants::gelu();
    let s = constants::silu().unwrap();
    let mut max_g = 0.0f64;
    let mut max_s = 0.0f64;
    let t = constants::gelu_tanh().unwrap();
    let mut max_t = 0.0f64;
    for i in -200_000..=200_000 {
        let x = i as f64 * 1e-4;
        max_t = max_t.max(gelu_tanh_derivative(x).abs());
        max_g = max_g.max(gelu_derivative(x).abs());
        max_s = max_s.max(silu_derivative(x).abs());
    }
    // Sampled maxima are within float evaluation error of the certified
    // upper bounds and above the certified lower bounds minus the grid error
    // (the derivative is flat at the maximum: grid error ≤ |f''|max·h²).
    assert!(max_g <= g.upper + 1e-14, "{max_g} > {}", g.upper);
    assert!(max_g >= g.lower - 1e-8);
    assert!(max_s <= s.upper + 1e-14, "{max_s} > {}", s.upper);
    assert!(max_s >= s.lower - 1e-8);
    assert!(
        max_t <= t.upper + 1e-14 && max_t >= t.lower - 1e-8,
        "{max_t} vs {t:?}"
    );
    // GELU's maximum is at √2 (f'' = φ(x)(2 − x²)).
    assert!((gelu_derivative(std::f64::consts::SQRT_2) - g.upper).abs() < 1e-14);
}

#[test]
fn softmax_jacobian_norm_is_at_most_one_half_and_reaches_it() {
    // J = diag(p) − ppᵀ is symmetric PSD; its largest eigenvalue by power
    // iteration on random logits never exceeds ½, and for two equal logits
    // with the rest very negative it is ½ up to rounding.
    let mut seed = 42u64;
    let mut rnd = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 11) as f64 / (1u64 << 53) as f64) * 8.0 - 4.0
    };
    for n in 2..8 {
        for _ in 0..20 {
            let x: Vec<f64> = (0..n).map(|_| rnd()).collect();
            let m = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = x.iter().map(|v| (v - m).exp()).collect();
            let z: f64 = e.iter().sum();
            let p: Vec<f64> = e.iter().map(|v| v / z).collect();
            let mut v: Vec<f64> = (0..n)
                .map(|i| if i % 2 == 0 { 1.0 } else { -0.7 })
                .collect();
            let mut lambda = 0.0;
            for _ in 0..200 {
                let pv: f64 = p.iter().zip(&v).map(|(a, b)| a * b).sum();
                let jv: Vec<f64> = p.iter().zip(&v).map(|(pi, vi)| pi * (vi - pv)).collect();
                let nrm = jv.iter().map(|a| a * a).sum::<f64>().sqrt();
                let vn = v.iter().map(|a| a * a).sum::<f64>().sqrt();
                lambda = nrm / vn;
                if nrm == 0.0 {
                    break;
                }
                v = jv.into_iter().map(|a| a / nrm).collect();
            }
            assert!(lambda <= 0.5 + 1e-12, "n = {n}: {lambda}");
        }
    }
    // two equal logits: p = (½, ½, 0, …): eigenvalue ½ for v = (1, −1, 0, …)
    let p = [0.5, 0.5, 0.0];
    let v = [1.0, -1.0, 0.0];
    let pv: f64 = p.iter().zip(&v).map(|(a, b)| a * b).sum();
    let jv: Vec<f64> = p.iter().zip(&v).map(|(pi, vi)| pi * (vi - pv)).collect();
    assert_eq!(jv, vec![0.5, -0.5, 0.0]);
    assert_eq!(constants::softmax(3).upper, 0.5);
    assert_eq!(constants::softmax(1).upper, 0.0);
}

#[test]
fn piecewise_linear_constants_are_exact() {
    assert_eq!(constants::leaky_relu(0.01).unwrap().upper, 1.0);
    assert_eq!(constants::leaky_relu(-3.0).unwrap().upper, 3.0);
    assert!(constants::leaky_relu(f64::NAN).is_err());
    assert_eq!(constants::sigmoid().lower, 0.25);
    assert_eq!(
        (constants::tanh().lower, constants::tanh().upper),
        (1.0, 1.0)
    );
}
