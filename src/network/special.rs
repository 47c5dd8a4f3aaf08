//! The scalar functions of the activations, in f64: erf (for GELU), the
//! logistic function, and their derivatives.

/// erf(z) by the everywhere-convergent series with positive terms
/// erf(z) = (2/√π)·e^{−z²}·Σₙ 2ⁿz^{2n+1}/(1·3···(2n+1)) for |z| ≤ 6, and
/// ±1 beyond (erfc(6) < 2.2·10⁻¹⁷ < u/2). Accuracy: the series has at most
/// ~160 positive terms for |z| ≤ 6, so its relative rounding error is below
/// 170u ≈ 2⁻⁴⁵·⁴, and e^{−z²} adds ≤ (36 + 4)u (argument rounding and the
/// assumed libm accuracy): absolute error below 2⁻⁴⁵ (measured: below 2⁻⁴⁸
/// against mpmath at the tested points). The GELU forward bound assumes
/// 2⁻⁴⁴·(|x| + |y|), which covers this with margin.
pub fn erf(z: f64) -> f64 {
    if z.is_nan() {
        return z;
    }
    let a = z.abs();
    if a > 6.0 {
        return z.signum();
    }
    if a == 0.0 {
        return z;
    }
    let two_z2 = 2.0 * a * a;
    let mut term = a;
    let mut sum = a;
    let mut n = 0.0;
    loop {
        n += 1.0;
        term *= two_z2 / (2.0 * n + 1.0);
        sum += term;
        if term <= sum * 1e-17 || n > 500.0 {
            break;
        }
    }
    let r = (std::f64::consts::FRAC_2_SQRT_PI * (-a * a).exp() * sum).min(1.0);
    r.copysign(z)
}

/// Standard normal CDF Φ(x) = (1 + erf(x/√2))/2.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * (1.0 + erf(x * std::f64::consts::FRAC_1_SQRT_2))
}

/// Standard normal density φ(x).
pub fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp()
        * (0.5 * std::f64::consts::FRAC_2_SQRT_PI * std::f64::consts::FRAC_1_SQRT_2)
}

/// Logistic function 1/(1 + e⁻ˣ), evaluated without overflow.
pub fn logistic(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// GELU(x) = x·Φ(x).
pub fn gelu(x: f64) -> f64 {
    x * normal_cdf(x)
}

/// GELU'(x) = Φ(x) + xφ(x).
pub fn gelu_derivative(x: f64) -> f64 {
    normal_cdf(x) + x * normal_pdf(x)
}

const GELU_TANH_C: f64 = 0.797_884_560_802_865_4; // √(2/π)
const GELU_TANH_A: f64 = 0.044715;

/// tanh-approximated GELU ½x(1 + tanh(√(2/π)(x + 0.044715x³))).
pub fn gelu_tanh(x: f64) -> f64 {
    0.5 * x * (1.0 + (GELU_TANH_C * (x + GELU_TANH_A * x * x * x)).tanh())
}

/// Derivative of [`gelu_tanh`]: ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²).
pub fn gelu_tanh_derivative(x: f64) -> f64 {
    let t = (GELU_TANH_C * (x + GELU_TANH_A * x * x * x)).tanh();
    0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_TANH_C * (1.0 + 3.0 * GELU_TANH_A * x * x)
}

/// SiLU(x) = x·s(x).
pub fn silu(x: f64) -> f64 {
    x * logistic(x)
}

/// SiLU'(x) = s(x)(1 + x(1 − s(x))).
pub fn silu_derivative(x: f64) -> f64 {
    let s = logistic(x);
    s * (1.0 + x * (1.0 - s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::excessive_precision)] // reference digits from mpmath
    fn erf_matches_mpmath() {
        // mpmath.erf at 30 digits.
        let cases = [
            (0.1, 0.112462916018284898404712251014),
            (0.5, 0.520499877813046537682746653892),
            (1.0, 0.842700792949714869341220635083),
            (2.0, 0.995322265018952734162069256367),
            (3.5, 0.999999256901627658587254476316),
            (5.5, 0.999999999999992642152082025602),
            (-2.5, -0.99959304798255504106043578426),
        ];
        for (z, want) in cases {
            let got = erf(z);
            assert!(
                (got - want).abs() < 2f64.powi(-48),
                "erf({z}) = {got}, want {want}"
            );
        }
    }

    #[test]
    fn derivatives_match_central_differences() {
        for &x in &[-3.0, -1.0, -0.2, 0.0, 0.7, 1.5, 4.0] {
            let h = 1e-6;
            let fd = (gelu(x + h) - gelu(x - h)) / (2.0 * h);
            assert!((fd - gelu_derivative(x)).abs() < 1e-8, "gelu' at {x}");
            let fd = (gelu_tanh(x + h) - gelu_tanh(x - h)) / (2.0 * h);
            assert!(
                (fd - gelu_tanh_derivative(x)).abs() < 1e-8,
                "gelu_tanh' at {x}"
            );
            let fd = (silu(x + h) - silu(x - h)) / (2.0 * h);
            assert!((fd - silu_derivative(x)).abs() < 1e-8, "silu' at {x}");
        }
    }
}
