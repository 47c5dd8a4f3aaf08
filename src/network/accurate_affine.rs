//! Dense and zero-padded convolution layers evaluated with the compensated
//! dot product *Dot2*, for certified pair ratios on deep networks.
//!
//! The plain forward error of an affine layer is γₖ‖|W|‖‖x‖ (k terms per
//! output), and [`super::evaluate::forward_with_error`] carries it through
//! every later layer with that layer's certified upper bound. On a deep
//! network the product of those bounds is far above the true gain (10¹⁰ on
//! a He-initialised ResNet-18, whose σ(J) is about 40), so the certified
//! error reached a quarter of ‖f(x)‖ and no sampled pair ratio survived its
//! subtraction. Dot2 makes each output as accurate as if computed in twice
//! the working precision and rounded once, which removes the γₖ‖|W|‖ term.
//!
//! # Theorem (Ogita, Rump & Oishi, "Accurate sum and dot product", SIAM J.
//! Sci. Comput. 26(6), 2005, §5, algorithm Dot2)
//! For floating-point a, b ∈ Fⁿ with n·u < 1 and no underflow, the result
//! `res` of Dot2 (TwoProduct of every term, the high parts summed with
//! TwoSum, every low part and every TwoSum error summed in plain floating
//! point, `res = fl(p + s)`) satisfies
//! |res − aᵀb| ≤ u·|aᵀb| + γₙ²·Σ|aᵢbᵢ|.
//! Here n counts the bias as one more term (b·1), and lipcert uses γ₂ₙ² ≥ γₙ²
//! (margin). TwoProduct is Dekker's with Veltkamp's split (no fused
//! multiply-add needed), error-free when no product underflows and the
//! split does not overflow (|aᵢ|, |bᵢ| ≤ 2⁹⁹⁵ is checked, else the layer is
//! left to the plain path). TwoSum is error-free without overflow.
//!
//! *Underflow.* A layer whose weights or input hold a subnormal value is
//! left to the plain path. A term whose rounded product is below 2⁻⁹⁰⁰
//! (checked against 1.2e-271 > 2⁻⁹⁰⁰) is not accumulated at all: it is counted in an absolute slack
//! 2|fl(aᵢbᵢ)| + η ≥ |aᵢbᵢ| (a product rounds by at most u|aᵢbᵢ| + η/2).
//! An accumulated term has normal a = 2^{eₐ}·1.f, b = 2^{e_b}·1.g with
//! 2^{eₐ+e_b+2} > |ab| > 2⁻⁹⁰⁰, so eₐ + e_b ≥ −901; the split parts of a
//! are multiples of ulp(a) = 2^{eₐ−52} (those of b of ulp(b)), so every
//! partial product and every difference in TwoProduct is a multiple of
//! 2^{eₐ+e_b−104} ≥ 2⁻¹⁰⁰⁵ — a multiple of the subnormal quantum 2⁻¹⁰⁷⁴ —
//! and the exactness argument of Dekker's algorithm goes through as without
//! underflow (the quantities it proves representable stay so).
//!
//! *Per output.* With |aᵀb| ≤ |res| + e: e ≤ (u|res| + γ₂ₙ²·A + slack)/(1 − u),
//! A ≥ Σ|aᵢbᵢ| bounded by 2·fl(Σ|fl(aᵢbᵢ)|) (the sum and the products round
//! by at most a factor (1 + γₙ)(1 + u) < 2). The layer's error is the 2-norm
//! of these, rounded upward.

use super::conv_layer::ConvLayer;
use crate::conv::PaddingMode;
use crate::matrix::DenseMatrix;
use crate::rounding::{add_up, div_up, gamma, mul_up, norm2_up, ETA, UNIT_ROUNDOFF};

/// Factors above this would overflow Veltkamp's split (2²⁷ + 1)·a.
const SPLIT_LIMIT: f64 = 1.0e299; // < 2^995 ≈ 6.7e299

/// Products below this are not accumulated (see the module docs).
const TINY_PRODUCT: f64 = 1.2e-271; // > 2^-900 ≈ 1.18e-271

/// Veltkamp's split a = hi + lo, each with at most 26 significant bits.
#[inline]
fn split(a: f64) -> (f64, f64) {
    let c = 134_217_729.0 * a; // 2^27 + 1
    let hi = c - (c - a);
    (hi, a - hi)
}

/// Knuth's TwoSum: s + e = a + b exactly.
#[inline]
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// One output's Dot2 state.
#[derive(Debug, Clone, Copy, Default)]
struct Dot2 {
    /// Sum of the high parts (TwoSum chain).
    p: f64,
    /// Plain sum of the low parts and the TwoSum errors.
    s: f64,
    /// fl(Σ|fl(aᵢbᵢ)|) over the accumulated terms.
    abs: f64,
    /// Σ (2|fl(aᵢbᵢ)| + η) over the terms left out (rounded upward).
    slack: f64,
}

impl Dot2 {
    /// Adds a·b, given the splits of a and b (both normal or zero, checked
    /// by the caller with [`normal_or_zero`]).
    #[inline(always)]
    fn add(&mut self, a: f64, (ah, al): (f64, f64), b: f64, (bh, bl): (f64, f64)) {
        let h = a * b;
        if h.abs() < TINY_PRODUCT {
            self.slack = add_up(self.slack, add_up(mul_up(2.0, h.abs()), ETA));
            return;
        }
        let r = al * bl - (((h - ah * bh) - al * bh) - ah * bl);
        let (p, q) = two_sum(self.p, h);
        self.p = p;
        self.s += q + r;
        self.abs += h.abs();
    }

    /// fl(p + s) and its error bound for a dot product of `terms` terms.
    fn finish(&self, terms: usize) -> (f64, f64) {
        let res = self.p + self.s;
        let g = gamma(2 * terms);
        let a = mul_up(2.0, self.abs);
        let num = add_up(
            add_up(mul_up(UNIT_ROUNDOFF, res.abs()), mul_up(mul_up(g, g), a)),
            self.slack,
        );
        (res, div_up(num, 1.0 - UNIT_ROUNDOFF))
    }
}

/// Whether every value can be split without overflow and is normal or
/// zero (the accumulated terms need normal factors, module docs).
fn splittable(values: &[f64]) -> bool {
    values
        .iter()
        .all(|v| v.abs() <= SPLIT_LIMIT && normal_or_zero(*v))
}

/// Zero or a normal number.
fn normal_or_zero(v: f64) -> bool {
    v == 0.0 || v.is_normal()
}

/// Veltkamp splits of every value.
fn splits(values: &[f64]) -> Vec<(f64, f64)> {
    values.iter().map(|&v| split(v)).collect()
}

/// The split of 1 (the bias's factor).
const ONE: (f64, f64) = (1.0, 0.0);

/// The outputs and the 2-norm of their error bounds; `None` when some value
/// is not finite (the caller falls back to the plain path).
fn collect(outputs: Vec<(f64, f64)>) -> Option<(Vec<f64>, f64)> {
    let (y, e): (Vec<f64>, Vec<f64>) = outputs.into_iter().unzip();
    let err = norm2_up(&e);
    (err.is_finite() && y.iter().all(|v| v.is_finite())).then_some((y, err))
}

/// W·x + b by Dot2 per row, with a rigorous bound on the 2-norm of its
/// error (module docs); `None` outside the split's range or on overflow.
pub(crate) fn linear(
    weight: &DenseMatrix,
    bias: Option<&[f64]>,
    x: &[f64],
) -> Option<(Vec<f64>, f64)> {
    let w = weight.as_faer();
    if !splittable(x) || bias.is_some_and(|b| !splittable(b)) || !splittable(&[weight.max_abs()]) {
        return None;
    }
    let terms = weight.ncols() + 1;
    let xs = splits(x);
    let outputs = (0..weight.nrows())
        .map(|i| {
            let mut d = Dot2::default();
            for (j, (&xj, &xsj)) in x.iter().zip(&xs).enumerate() {
                let wij = w[(i, j)];
                if !normal_or_zero(wij) {
                    return (f64::NAN, f64::NAN);
                }
                d.add(wij, split(wij), xj, xsj);
            }
            if let Some(b) = bias {
                d.add(b[i], split(b[i]), 1.0, ONE);
            }
            d.finish(terms)
        })
        .collect();
    collect(outputs)
}

/// The convolution (zero padding) plus bias by Dot2 per output, with a
/// rigorous bound on the 2-norm of its error (module docs); `None` for
/// other padding modes, outside the split's range or on overflow. Output
/// channels are shared among `threads` threads (0: all cores; each output
/// is computed by one thread in a fixed order, so the result does not
/// depend on the number of threads).
pub(crate) fn conv(c: &ConvLayer, x: &[f64], threads: usize) -> Option<(Vec<f64>, f64)> {
    if c.mode != PaddingMode::Zeros
        || !splittable(x)
        || !splittable(&c.kernel)
        || c.bias.as_deref().is_some_and(|b| !splittable(b))
    {
        return None;
    }
    let (oh, ow) = c.out_hw;
    let per_channel = oh * ow;
    let threads = crate::parallel::resolve_threads(threads)
        .min(c.c_out)
        .max(1);
    let chunk = c.c_out.div_ceil(threads);
    let (ks, xs) = (splits(&c.kernel), splits(x));
    let parts: Vec<Vec<(f64, f64)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..c.c_out)
            .step_by(chunk)
            .map(|start| {
                let end = (start + chunk).min(c.c_out);
                let (ks, xs) = (&ks, &xs);
                scope.spawn(move || conv_channels(c, x, ks, xs, start..end))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("Dot2 convolution thread"))
            .collect()
    });
    let outputs: Vec<(f64, f64)> = parts.into_iter().flatten().collect();
    debug_assert_eq!(outputs.len(), c.c_out * per_channel);
    collect(outputs)
}

/// Dot2 outputs of the output channels `range` (the taps of
/// `ConvLayer::for_each_tap`: zero padding, stride, dilation, groups).
fn conv_channels(
    c: &ConvLayer,
    x: &[f64],
    ks: &[(f64, f64)],
    xs: &[(f64, f64)],
    range: std::ops::Range<usize>,
) -> Vec<(f64, f64)> {
    let (h, w) = c.in_hw;
    let (oh, ow) = c.out_hw;
    let (kh, kw) = c.kernel_hw;
    let cig = c.c_in / c.groups;
    let cog = c.c_out / c.groups;
    let terms = c.taps() + 1;
    let mut out = Vec::with_capacity(range.len() * oh * ow);
    for co in range {
        let g = co / cog;
        for r in 0..oh {
            // LANES adjacent outputs at a time: each keeps its own
            // sequential Dot2 (the theorem's algorithm, term order
            // unchanged), and the independent TwoSum chains overlap in
            // the pipeline (one chain is latency-bound).
            for s0 in (0..ow).step_by(LANES) {
                let lanes = LANES.min(ow - s0);
                let mut d = [Dot2::default(); LANES];
                for cl in 0..cig {
                    let ci = g * cig + cl;
                    for i in 0..kh {
                        let y = (r * c.stride.0 + i * c.dilation.0) as isize - c.padding.0 as isize;
                        if y < 0 || y as usize >= h {
                            continue;
                        }
                        let row = (ci * h + y as usize) * w;
                        let krow = ((co * cig + cl) * kh + i) * kw;
                        for j in 0..kw {
                            let kj = krow + j;
                            let (k, ksj) = (c.kernel[kj], ks[kj]);
                            for (lane, dl) in d.iter_mut().enumerate().take(lanes) {
                                let xx = ((s0 + lane) * c.stride.1 + j * c.dilation.1) as isize
                                    - c.padding.2 as isize;
                                if xx < 0 || xx as usize >= w {
                                    continue;
                                }
                                let xi = row + xx as usize;
                                dl.add(k, ksj, x[xi], xs[xi]);
                            }
                        }
                    }
                }
                for dl in d.iter_mut().take(lanes) {
                    if let Some(b) = &c.bias {
                        dl.add(b[co], split(b[co]), 1.0, ONE);
                    }
                    out.push(dl.finish(terms));
                }
            }
        }
    }
    out
}

/// Outputs of one row computed together by [`conv_channels`].
const LANES: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exact::dyadic::decompose;
    use crate::random::Rng;
    use num_bigint::BigInt;

    /// Σ aᵢbᵢ exactly, as an integer times 2^-2200 (every product of two
    /// finite f64 is an integer multiple of 2^-2148).
    fn exact_dot(pairs: &[(f64, f64)]) -> BigInt {
        let mut sum = BigInt::from(0);
        for &(a, b) in pairs {
            let (ma, ea) = decompose(a);
            let (mb, eb) = decompose(b);
            let shift = ea + eb + 2200;
            assert!(shift >= 0);
            sum += (BigInt::from(ma) * BigInt::from(mb)) << (shift as usize);
        }
        sum
    }

    fn scaled(v: f64) -> BigInt {
        let (m, e) = decompose(v);
        BigInt::from(m) << ((e + 2200) as usize)
    }

    /// |res − exact| ≤ bound, decided exactly.
    fn within(pairs: &[(f64, f64)], res: f64, bound: f64) -> bool {
        let diff = scaled(res) - exact_dot(pairs);
        let diff = if diff < BigInt::from(0) { -diff } else { diff };
        diff <= scaled(bound)
    }

    fn run(pairs: &[(f64, f64)]) -> (f64, f64) {
        let mut d = Dot2::default();
        for &(a, b) in pairs {
            assert!(normal_or_zero(a) && normal_or_zero(b), "test data");
            d.add(a, split(a), b, split(b));
        }
        d.finish(pairs.len())
    }

    /// Uniform in [−1, 1) from the crate's generator.
    fn signed(rng: &mut Rng) -> f64 {
        2.0 * rng.uniform() - 1.0
    }

    #[test]
    fn dot2_error_bound_holds_exactly_on_cancelling_and_tiny_terms() {
        let mut rng = Rng::new(7);
        for case in 0..300 {
            let n = 1 + case % 40;
            let mut pairs: Vec<(f64, f64)> = (0..n)
                .map(|k| {
                    let scale = match (case + k) % 5 {
                        0 => 1e-160, // products ~1e-320: subnormal
                        1 => 1e150,
                        2 => 1e-140, // products ~1e-280: below the threshold
                        _ => 1.0,
                    };
                    (signed(&mut rng) * scale, signed(&mut rng) * scale)
                })
                .collect();
            // Exact cancellation: append the negated first half.
            if case % 3 == 0 {
                let half: Vec<(f64, f64)> = pairs.iter().map(|&(a, b)| (-a, b)).collect();
                pairs.extend(half);
                pairs.push((1e-300, 1e-20));
            }
            let (res, bound) = run(&pairs);
            assert!(
                within(&pairs, res, bound),
                "case {case}: {res:e} ± {bound:e}"
            );
        }
    }

    #[test]
    fn dot2_is_far_more_accurate_than_the_plain_bound() {
        // 1e8, 1, −1e8: the plain sum is exact here, but the plain bound
        // γ₃Σ|aᵢbᵢ| ≈ 1.3e-7 while Dot2's is about u·1 + γ₆²·2e8.
        let pairs = [(1e8, 1.0), (1.0, 1.0), (-1e8, 1.0)];
        let (res, bound) = run(&pairs);
        assert_eq!(res, 1.0);
        assert!(bound < 1e-15, "{bound:e}");
        assert!(within(&pairs, res, bound));
    }

    /// ‖y − exact‖₂ ≤ err, decided exactly (squares of integers scaled by
    /// 2^2200).
    fn norm_within(y: &[f64], exact: &[BigInt], err: f64) -> bool {
        let mut sq = BigInt::from(0);
        for (v, e) in y.iter().zip(exact) {
            let d = scaled(*v) - e;
            sq += &d * &d;
        }
        let e = scaled(err);
        sq <= &e * &e
    }

    #[test]
    fn convolution_matches_the_exact_dot_products() {
        let mut rng = Rng::new(3);
        // Groups, stride, dilation, asymmetric padding, a row width that is
        // not a multiple of the lane count, bias; inputs with cancellation.
        let (c_in, c_out, groups, kh, kw) = (4, 6, 2, 3, 2);
        let kernel: Vec<f64> = (0..c_out * (c_in / groups) * kh * kw)
            .map(|_| signed(&mut rng))
            .collect();
        let bias: Vec<f64> = (0..c_out).map(|_| signed(&mut rng) * 1e3).collect();
        let c = ConvLayer::new(
            kernel,
            [c_out, c_in / groups, kh, kw],
            Some(bias.clone()),
            c_in,
            (7, 10),
            (2, 1),
            (1, 2, 0, 1),
            (1, 2),
            groups,
        )
        .unwrap();
        let x: Vec<f64> = (0..c.input_len())
            .map(|i| signed(&mut rng) * if i % 3 == 0 { 1e8 } else { 1.0 })
            .collect();
        let (y, err) = conv(&c, &x, 0).unwrap();
        let mut pairs: Vec<Vec<(f64, f64)>> = vec![Vec::new(); c.output_len()];
        c.for_each_tap(|o, i, k| pairs[o].push((k, x[i])));
        let per = c.out_hw.0 * c.out_hw.1;
        let exact: Vec<BigInt> = pairs
            .iter_mut()
            .enumerate()
            .map(|(o, p)| {
                p.push((bias[o / per], 1.0));
                exact_dot(p)
            })
            .collect();
        assert!(norm_within(&y, &exact, err), "error bound {err:e}");
        assert_eq!(c.out_hw.1 % LANES, 1, "a partial group of lanes");
        // At the level of one final rounding: about u·‖y‖.
        let ny = y.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!(
            err <= 2.0 * UNIT_ROUNDOFF * ny,
            "{err:e} against ‖y‖ {ny:e}"
        );
    }

    #[test]
    fn layers_match_the_exact_dot_products() {
        let mut rng = Rng::new(11);
        let (m, n) = (5, 7);
        let wv: Vec<f64> = (0..m * n).map(|_| signed(&mut rng)).collect();
        let w = DenseMatrix::from_row_major(m, n, &wv).unwrap();
        let b: Vec<f64> = (0..m).map(|_| signed(&mut rng)).collect();
        let x: Vec<f64> = (0..n).map(|_| signed(&mut rng) * 1e3).collect();
        let (y, err) = linear(&w, Some(&b), &x).unwrap();
        let mut sq = 0.0f64;
        for i in 0..m {
            let mut pairs: Vec<(f64, f64)> = (0..n).map(|j| (wv[i * n + j], x[j])).collect();
            pairs.push((b[i], 1.0));
            let (_, bound) = run(&pairs);
            assert!(within(&pairs, y[i], bound), "row {i}");
            sq += bound * bound;
        }
        assert!(err >= sq.sqrt());
        assert!(linear(&w, None, &[f64::MAX; 7]).is_none());
        // Subnormal inputs are left to the plain path.
        assert!(linear(&w, None, &[5e-324; 7]).is_none());
    }
}
