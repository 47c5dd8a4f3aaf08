//! Certified norms of convolutions against independent computations on the
//! explicit matrix: the circular spectrum equals the explicit SVD, every
//! rigorous enclosure contains the independently certified σ, grouped = max
//! over groups, the reshaped-kernel inequalities, the Lipschitz inequality,
//! and the pytorch/pytorch#99149 regression.

mod common;
use common::conv as conv_common;
use conv_common::*;

use lipcert::certify::hermitian_upper::HermitianWithError;
use lipcert::conv::{
    block_gram, circular_embedding_bound, circular_embedding_bound_with, conv_sigma,
    dense_enclosure, explicit_matrix, BlockSpectrum, Conv2d, Conv2dGeometry, ConvOptions,
    EmbeddingPlan, Kernel, PaddingMode, SymbolGram, SymbolRoute,
};
use lipcert::rounding;
use lipcert::LinearOperator;
use proptest::prelude::*;

/// Singular values, largest first, by nalgebra's SVD with a bounded number of
/// iterations (its unbounded `singular_values` looped forever on one matrix
/// of a 400× soundness hunt), falling back to faer's SVD if it does not
/// converge.
fn svd_values(m: &nalgebra::DMatrix<f64>) -> Vec<f64> {
    let mut s: Vec<f64> = match m.clone().try_svd(false, false, f64::EPSILON, 100_000) {
        Some(svd) => svd.singular_values.iter().copied().collect(),
        None => {
            let f = faer::Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)]);
            f.singular_values()
                .expect("faer SVD converges")
                .into_iter()
                .collect()
        }
    };
    s.sort_by(|a, b| b.total_cmp(a));
    s
}

fn no_dense() -> ConvOptions {
    ConvOptions {
        dense_max_dim: 0,
        ..ConvOptions::default()
    }
}

/// All singular values of all blocks over the full frequency grid (not only
/// the half the certificate uses), sorted.
fn block_singular_values(k: &Kernel, g: &Conv2dGeometry) -> Vec<f64> {
    let plan = EmbeddingPlan::new(g);
    let spec = BlockSpectrum::new(k, g.groups, &plan);
    let (m1, m2) = spec.moduli();
    let mut z = faer::Mat::<f64>::zeros(0, 0);
    let mut out: Vec<f64> = vec![];
    for grp in 0..g.groups {
        for w1 in 0..m1 {
            for w2 in 0..m2 {
                spec.fill(grp, (w1, w2), &mut z);
                let (p, q) = (z.nrows() / 2, z.ncols());
                // Complex block as its real embedding: every singular value twice.
                let emb = nalgebra::DMatrix::from_fn(2 * p, 2 * q, |i, j| {
                    let (bi, bj) = (i / p, j / q);
                    let (x, y) = (z[(i % p, j % q)], z[(p + i % p, j % q)]);
                    match (bi, bj) {
                        (0, 0) | (1, 1) => x,
                        (0, 1) => -y,
                        _ => y,
                    }
                });
                let s = svd_values(&emb);
                out.extend(s.iter().step_by(2));
            }
        }
    }
    out.sort_by(|a, b| b.total_cmp(a));
    out
}

/// The two ways of forming the per-frequency Gram matrices.
const ROUTES: [SymbolRoute; 2] = [SymbolRoute::Autocorrelation, SymbolRoute::Samples];

/// Both symbol routes give every frequency's Gram matrix within their radius
/// of the Gram of the directly filled block (an independent computation with
/// its own radius), over random geometries with stride, dilation, groups and
/// every padding mode.
#[test]
fn symbol_routes_agree_with_the_direct_block_gram() {
    runner(60, 9)
        .run(&(geometry_strategy(400), any::<u64>()), |(g, seed)| {
            let k = random_kernel(&g, seed);
            let plan = EmbeddingPlan::new(&g);
            let spec = BlockSpectrum::new(&k, g.groups, &plan);
            let mut z = faer::Mat::<f64>::zeros(0, 0);
            let mut got = HermitianWithError::zeros(0);
            for route in ROUTES {
                for grp in 0..spec.groups() {
                    let sym = SymbolGram::with_route(&spec, grp, route, 1);
                    for w in spec.frequencies() {
                        spec.fill(grp, w, &mut z);
                        let direct = block_gram(z.as_ref());
                        sym.evaluate(&spec, w, &mut got);
                        let tol = sym.radius() + direct.radius;
                        for j in 0..sym.dim() {
                            for i in j..sym.dim() {
                                let dr = (got.re[(i, j)] - direct.re[(i, j)]).abs();
                                let di = if i > j {
                                    (got.im[(i, j)] - direct.im[(i, j)]).abs()
                                } else {
                                    0.0
                                };
                                prop_assert!(
                                    dr <= tol && di <= tol,
                                    "{route:?} ω = {w:?} ({i}, {j}): {dr:e} {di:e} > {tol:e}"
                                );
                            }
                        }
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn circular_spectrum_equals_explicit_svd() {
    let strat =
        (geometry_strategy(200), any::<u64>()).prop_filter("exact circular plans", |(g, _)| {
            let mut g = *g;
            g.mode = PaddingMode::Circular;
            g.validate().is_ok() && EmbeddingPlan::new(&g).exact
        });
    runner(40, 4)
        .run(&strat, |(g, seed)| {
            let mut g = g;
            g.mode = PaddingMode::Circular;
            let k = random_kernel(&g, seed);
            let ex = explicit_matrix(&k, &g).unwrap();
            let mut a = ex.matrix.to_nalgebra();
            // Exact entries of A (sums of aliased taps) differ from fl(A) by ≤ ex.error.
            let sv = svd_values(&a);
            let bv = block_singular_values(&k, &g);
            let tol = 1e-11 * sv[0].max(1.0) + ex.error;
            let n = sv.len().min(bv.len());
            for i in 0..n {
                prop_assert!(
                    (sv[i] - bv[i]).abs() <= tol,
                    "σ_{i}: explicit {} vs blocks {}",
                    sv[i],
                    bv[i]
                );
            }
            for v in sv.iter().skip(n).chain(bv.iter().skip(n)) {
                prop_assert!(v.abs() <= tol, "extra singular value {v}");
            }
            a.fill(0.0);
            Ok(())
        })
        .unwrap();
}

#[test]
fn every_enclosure_contains_the_independently_certified_sigma() {
    runner(60, 5)
        .run(&(geometry_strategy(250), any::<u64>()), |(g, seed)| {
            let k = random_kernel(&g, seed);
            let ex = explicit_matrix(&k, &g).unwrap();
            let dense = dense_enclosure(&ex.matrix, ex.error).unwrap();
            // nalgebra's SVD (independent implementation) agrees with the dense certificate.
            let s = svd_values(&ex.matrix.to_nalgebra())[0];
            prop_assert!(s <= dense.upper() * (1.0 + 1e-12) && s >= dense.lower() * (1.0 - 1e-12));
            // Two threads split the per-frequency certificates (each share
            // raises its own candidate): still above σ.
            for (route, threads) in ROUTES.iter().flat_map(|r| [(*r, 1), (*r, 2)]) {
                let emb = circular_embedding_bound_with(&k, &g, route, threads).unwrap();
                prop_assert!(
                    emb.upper >= dense.lower(),
                    "{route:?}, {threads} threads: embedding upper {} < σ ≥ {}",
                    emb.upper,
                    dense.lower()
                );
                if emb.exact {
                    prop_assert!(emb.upper <= dense.upper() * (1.0 + 1e-7) + 1e-12);
                }
            }
            let r = conv_sigma(&k, &g, &no_dense()).unwrap();
            prop_assert!(
                r.enclosure.lower() <= dense.upper(),
                "{} vs {}",
                r.enclosure,
                dense
            );
            prop_assert!(
                r.enclosure.upper() >= dense.lower(),
                "{} vs {}",
                r.enclosure,
                dense
            );
            let full = conv_sigma(&k, &g, &ConvOptions::default()).unwrap();
            prop_assert!(
                full.relative_width < 1e-9,
                "dense path should be tight: {}",
                full.enclosure
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn zero_padding_sigma_is_below_the_circular_embedding_bound() {
    runner(40, 6)
        .run(&(geometry_strategy(250), any::<u64>()), |(g, seed)| {
            let mut g = g;
            g.mode = PaddingMode::Zeros;
            let k = random_kernel(&g, seed);
            let ex = explicit_matrix(&k, &g).unwrap();
            let s = svd_values(&ex.matrix.to_nalgebra())[0];
            let emb = circular_embedding_bound(&k, &g).unwrap();
            prop_assert!(s <= emb.upper * (1.0 + 1e-12));
            for route in ROUTES {
                let other = circular_embedding_bound_with(&k, &g, route, 1).unwrap();
                prop_assert!(s <= other.upper * (1.0 + 1e-12), "{route:?}");
            }
            // The bound is the σ of an explicit circular convolution on the embedding grid.
            let (n1, n2) = (
                emb.plan.rows.modulus * emb.plan.rows.stride,
                emb.plan.cols.modulus * emb.plan.cols.stride,
            );
            // (with the strides the plan uses: one-output axes reduced)
            let mut gc = g.with_unit_output_strides();
            gc.mode = PaddingMode::Circular;
            gc.h = n1;
            gc.w = n2;
            gc.padding = (0, 0, g.dilation.0 * (g.kh - 1), g.dilation.1 * (g.kw - 1));
            if gc.validate().is_ok()
                && EmbeddingPlan::new(&gc).exact
                && gc.input_len() * gc.output_len() < 1 << 20
            {
                let exc = explicit_matrix(&k, &gc).unwrap();
                let sc = svd_values(&exc.matrix.to_nalgebra())[0];
                prop_assert!(
                    sc <= emb.upper * (1.0 + 1e-12) && sc >= emb.upper * (1.0 - 1e-7),
                    "σ_circ {sc} vs bound {}",
                    emb.upper
                );
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn grouped_norm_is_the_max_over_groups() {
    runner(30, 7)
        .run(&(geometry_strategy(250), any::<u64>()), |(g, seed)| {
            let mut g = g;
            if g.groups == 1 {
                return Ok(());
            }
            g.groups = 2;
            let k = random_kernel(&g, seed);
            let whole = svd_values(&explicit_matrix(&k, &g).unwrap().matrix.to_nalgebra())[0];
            let (og, cg) = (g.c_out_per_group(), g.c_in_per_group());
            let mut per_group = vec![];
            for grp in 0..2 {
                let mut gg = g;
                gg.groups = 1;
                gg.c_out = og;
                gg.c_in = cg;
                let vals: Vec<f64> = (0..og)
                    .flat_map(|o| {
                        let k = &k;
                        (0..cg).flat_map(move |c| {
                            (0..g.kh).flat_map(move |a| {
                                (0..g.kw).map(move |b| k.get(grp * og + o, c, a, b))
                            })
                        })
                    })
                    .collect();
                let kg = Kernel::from_f64(og, cg, g.kh, g.kw, vals).unwrap();
                per_group
                    .push(svd_values(&explicit_matrix(&kg, &gg).unwrap().matrix.to_nalgebra())[0]);
            }
            let mx = per_group.iter().copied().fold(0.0, f64::max);
            let prod: f64 = per_group.iter().product();
            prop_assert!(
                (whole - mx).abs() <= 1e-12 * mx.max(1.0),
                "whole {whole}, groups {per_group:?}"
            );
            let r = conv_sigma(&k, &g, &no_dense()).unwrap();
            prop_assert!(
                r.enclosure.lower() <= mx * (1.0 + 1e-12)
                    && mx <= r.enclosure.upper() * (1.0 + 1e-12)
            );
            if (prod - mx).abs() > 1e-6 * mx {
                prop_assert!(!r.enclosure.contains(prod) || r.enclosure.contains(mx));
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn reshaped_kernel_norm_brackets_the_circular_stride_one_norm() {
    let strat = (geometry_strategy(250), any::<u64>());
    runner(40, 8)
        .run(&strat, |(g, seed)| {
            let mut g = g;
            g.mode = PaddingMode::Circular;
            g.stride = (1, 1);
            // One group (PyTorch reshapes a grouped kernel across groups, so
            // ‖R‖ can exceed the max over groups).
            g.c_in /= g.groups;
            g.c_out /= g.groups;
            g.groups = 1;
            // Non-aliasing taps, full circular output.
            g.padding = (0, 0, g.dilation.0 * (g.kh - 1), g.dilation.1 * (g.kw - 1));
            if g.dilation.0 * (g.kh - 1) >= g.h
                || g.dilation.1 * (g.kw - 1) >= g.w
                || g.validate().is_err()
            {
                return Ok(());
            }
            let k = random_kernel(&g, seed);
            let r = conv_sigma(&k, &g, &no_dense()).unwrap();
            let root = ((g.kh * g.kw) as f64).sqrt();
            prop_assert!(
                r.reshaped.lower() <= r.enclosure.upper(),
                "{} vs {}",
                r.reshaped,
                r.enclosure
            );
            prop_assert!(r.enclosure.lower() <= root * r.reshaped.upper() * (1.0 + 1e-15));
            // Against the explicit SVD too.
            let s = svd_values(&explicit_matrix(&k, &g).unwrap().matrix.to_nalgebra())[0];
            let rs = svd_values(&k.reshaped().unwrap().to_nalgebra())[0];
            prop_assert!(rs <= s * (1.0 + 1e-12) && s <= root * rs * (1.0 + 1e-12));
            Ok(())
        })
        .unwrap();
}

#[test]
fn lipschitz_inequality_holds_on_sampled_pairs() {
    runner(30, 9)
        .run(&(geometry_strategy(400), any::<u64>()), |(g, seed)| {
            let k = random_kernel(&g, seed);
            let r = conv_sigma(&k, &g, &no_dense()).unwrap();
            let op = Conv2d::new(k, g).unwrap();
            let mut s = Stream(seed ^ 77);
            for _ in 0..4 {
                let x = s.vec(op.ncols());
                let y = s.vec(op.ncols());
                let (mut ax, mut ay) = (vec![0.0; op.nrows()], vec![0.0; op.nrows()]);
                op.apply(&x, &mut ax);
                op.apply(&y, &mut ay);
                let d: Vec<f64> = ax.iter().zip(&ay).map(|(p, q)| p - q).collect();
                let dx: Vec<f64> = x.iter().zip(&y).map(|(p, q)| p - q).collect();
                // ‖fl(Ax) − fl(Ay)‖ ≤ ‖A(x − y)‖ + both rounding errors (+ the subtraction's rounding).
                let slack = op.apply_error_bound(rounding::norm2_up(&x))
                    + op.apply_error_bound(rounding::norm2_up(&y));
                let lhs = rounding::norm2_down(&d) * (1.0 - 4.0 * f64::EPSILON);
                prop_assert!(
                    lhs <= r.enclosure.upper()
                        * rounding::norm2_up(&dx)
                        * (1.0 + 4.0 * f64::EPSILON)
                        + slack
                );
            }
            Ok(())
        })
        .unwrap();
}

/// pytorch/pytorch#99149: spectral_norm normalizes the reshaped kernel, so a
/// "normalized" Conv2d can have Lipschitz constant > 1. lipcert certifies it.
#[test]
fn spectrally_normalized_kernel_has_true_norm_above_one() {
    let mut g = Conv2dGeometry::new(4, 3, 3, 3, 16, 16);
    g.padding = (1, 1, 1, 1);
    let raw: Vec<f64> = (0..4 * 3 * 9)
        .map(|i| ((i * 37 % 19) as f64 - 9.0) / 9.0 + 0.3)
        .collect();
    let k0 = Kernel::from_f64(4, 3, 3, 3, raw.clone()).unwrap();
    let r0 = svd_values(&k0.reshaped().unwrap().to_nalgebra())[0];
    let k = Kernel::from_f64(4, 3, 3, 3, raw.iter().map(|v| v / r0).collect::<Vec<_>>()).unwrap();
    let r = conv_sigma(&k, &g, &ConvOptions::default()).unwrap();
    // ‖R‖ = 1 up to the rounding of the division (the enclosure is rigorous, width ≤ 1e-9).
    assert!(
        r.reshaped.lower() <= 1.0 + 1e-14 && r.reshaped.upper() >= 1.0 - 1e-14,
        "{}",
        r.reshaped
    );
    assert!(r.reshaped.upper() < 1.0 + 1e-8, "{}", r.reshaped);
    assert!(
        r.enclosure.lower() > 1.0,
        "certified σ {} should exceed 1",
        r.enclosure
    );
    assert!(r.enclosure.lower() > 1.5, "{}", r.enclosure);
}

/// The exact rational oracle decides that σ of the (exactly representable)
/// explicit matrix lies in every enclosure, on tiny geometries.
#[test]
fn exact_oracle_confirms_enclosures_on_tiny_geometries() {
    let strat = (geometry_strategy(12), any::<u64>());
    let checked = std::cell::Cell::new(0);
    runner(25, 10)
        .run(&strat, |(g, seed)| {
            let k = random_kernel(&g, seed);
            let ex = explicit_matrix(&k, &g).unwrap();
            if ex.error > 0.0 {
                return Ok(()); // aliased taps: fl(A) is not A exactly
            }
            let spectral = conv_sigma(&k, &g, &no_dense()).unwrap();
            let e = spectral.enclosure;
            prop_assert!(
                lipcert::exact::contains_sigma(&ex.matrix, e.lower(), e.upper()).unwrap(),
                "exact σ outside {e} for {g:?}"
            );
            // The circular-embedding upper bound of each symbol route.
            for route in ROUTES {
                let up = circular_embedding_bound_with(&k, &g, route, 1)
                    .unwrap()
                    .upper;
                prop_assert!(
                    lipcert::exact::contains_sigma(&ex.matrix, 0.0, up).unwrap(),
                    "{route:?}: exact σ above {up} for {g:?}"
                );
            }
            let full = conv_sigma(&k, &g, &ConvOptions::default())
                .unwrap()
                .enclosure;
            prop_assert!(
                lipcert::exact::contains_sigma(&ex.matrix, full.lower(), full.upper()).unwrap()
            );
            // The tight dense enclosure is not trivially wide: shrinking it
            // below its lower end must exclude σ.
            if full.lower() > 0.0 {
                prop_assert!(!lipcert::exact::contains_sigma(
                    &ex.matrix,
                    0.0,
                    full.lower().next_down() * (1.0 - 1e-6)
                )
                .unwrap());
            }
            checked.set(checked.get() + 1);
            Ok(())
        })
        .unwrap();
    assert!(
        checked.get() >= 10,
        "only {} geometries reached the oracle",
        checked.get()
    );
}

/// Scaling the kernel by a power of two scales the enclosure (no overflow or
/// underflow trouble at extreme magnitudes), a zero kernel gives [0, 0], and
/// kernels near the f64 limit give an answer or a clear error, never a panic.
#[test]
fn extreme_magnitudes_scale_or_fail_cleanly() {
    let mut g = Conv2dGeometry::new(2, 2, 3, 3, 6, 5);
    g.padding = (1, 2, 0, 1);
    g.stride = (1, 2);
    let base = random_kernel(&g, 11);
    let r0 = conv_sigma(&base, &g, &no_dense()).unwrap().enclosure;
    for e in [600i32, -600] {
        let c = 2f64.powi(e);
        let k = Kernel::from_f64(
            2,
            2,
            3,
            3,
            base.values().iter().map(|v| v * c).collect::<Vec<_>>(),
        )
        .unwrap();
        let r = conv_sigma(&k, &g, &no_dense()).unwrap().enclosure;
        assert!(
            (r.upper() / c - r0.upper()).abs() <= 1e-12 * r0.upper(),
            "{r} vs {r0}"
        );
        assert!(
            (r.lower() / c - r0.lower()).abs() <= 1e-6 * r0.lower(),
            "{r} vs {r0}"
        );
    }
    // Subnormal entries beside normal ones (underflow in every product), and
    // a huge range that the power-of-two scaling cannot move exactly: both
    // routes give a bound above the explicit σ or refuse.
    for (scale, tiny) in [(1.0, 5e-324), (2f64.powi(500), 5e-324), (1e-300, 1e-310)] {
        let mut vals: Vec<f64> = base.values().iter().map(|v| v * scale).collect();
        vals[0] = tiny;
        vals[7] = -tiny;
        let k = Kernel::from_f64(2, 2, 3, 3, vals).unwrap();
        let ex = explicit_matrix(&k, &g).unwrap();
        let s = svd_values(&ex.matrix.to_nalgebra())[0];
        for route in ROUTES {
            match circular_embedding_bound_with(&k, &g, route, 1) {
                Ok(b) => assert!(s <= b.upper * (1.0 + 1e-12), "{route:?}: {s} > {}", b.upper),
                Err(e) => assert!(scale > 1.0, "{route:?} refused a representable case: {e}"),
            }
        }
    }
    let zero = Kernel::from_f64(2, 2, 3, 3, vec![0.0; 36]).unwrap();
    let z = conv_sigma(&zero, &g, &ConvOptions::default()).unwrap();
    assert_eq!((z.enclosure.lower(), z.enclosure.upper()), (0.0, 0.0));
    let huge = Kernel::from_f64(
        2,
        2,
        3,
        3,
        base.values().iter().map(|v| v * 1e307).collect::<Vec<_>>(),
    )
    .unwrap();
    match conv_sigma(&huge, &g, &ConvOptions::default()) {
        Ok(r) => {
            assert!(r.enclosure.upper().is_finite() && r.enclosure.lower() <= r.enclosure.upper())
        }
        Err(e) => assert!(matches!(e, lipcert::Error::Overflow { .. }), "{e}"),
    }
}
