//! The matrix-free convolution against the explicit matrix, the adjoint
//! identity, PyTorch's output-size formula and the padding maps.

mod common;
use common::conv as conv_common;
use conv_common::*;

use lipcert::conv::{explicit_matrix, Conv2d, Conv2dGeometry, Kernel, PaddingMap, PaddingMode};
use lipcert::rounding;
use lipcert::LinearOperator;
use proptest::prelude::*;

/// PyTorch's formula, written independently: floor((n + p_b + p_a − d(k−1) − 1)/s) + 1.
fn torch_out(n: usize, pb: usize, pa: usize, d: usize, k: usize, s: usize) -> usize {
    let num = (n + pb + pa) as i64 - (d * (k - 1)) as i64 - 1;
    (num.div_euclid(s as i64) + 1) as usize
}

/// Direct definition of the convolution, independent of im2col: reads the
/// padded value by PyTorch's padding rules written out per mode.
fn direct_conv(k: &Kernel, g: &Conv2dGeometry, x: &[f64]) -> Vec<f64> {
    let read = |c: usize, i: i64, j: i64| -> f64 {
        let fix = |v: i64, n: i64| -> Option<i64> {
            match g.mode {
                PaddingMode::Zeros => (0..n).contains(&v).then_some(v),
                PaddingMode::Circular => Some(v.rem_euclid(n)),
                PaddingMode::Replicate => Some(v.clamp(0, n - 1)),
                PaddingMode::Reflect => {
                    let mut v = v;
                    while v < 0 || v >= n {
                        if v < 0 {
                            v = -v;
                        }
                        if v >= n {
                            v = 2 * (n - 1) - v;
                        }
                    }
                    Some(v)
                }
            }
        };
        match (fix(i, g.h as i64), fix(j, g.w as i64)) {
            (Some(i), Some(j)) => x[(c * g.h + i as usize) * g.w + j as usize],
            _ => 0.0,
        }
    };
    let (oh, ow) = g.output_size();
    let (cg, og) = (g.c_in_per_group(), g.c_out_per_group());
    let mut y = vec![0.0; g.c_out * oh * ow];
    for o in 0..g.c_out {
        let grp = o / og;
        for i in 0..oh {
            for j in 0..ow {
                let mut acc = 0.0;
                for c in 0..cg {
                    for a in 0..g.kh {
                        for b in 0..g.kw {
                            let pi =
                                (i * g.stride.0 + a * g.dilation.0) as i64 - g.padding.0 as i64;
                            let pj =
                                (j * g.stride.1 + b * g.dilation.1) as i64 - g.padding.1 as i64;
                            acc += k.get(o, c, a, b) * read(grp * cg + c, pi, pj);
                        }
                    }
                }
                y[(o * oh + i) * ow + j] = acc;
            }
        }
    }
    y
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn apply_matches_direct_definition_and_explicit_matrix() {
    runner(120, 1)
        .run(&(geometry_strategy(400), any::<u64>()), |(g, seed)| {
            let (oh, ow) = g.output_size();
            prop_assert_eq!(
                oh,
                torch_out(
                    g.h,
                    g.padding.0,
                    g.padding.2,
                    g.dilation.0,
                    g.kh,
                    g.stride.0
                )
            );
            prop_assert_eq!(
                ow,
                torch_out(
                    g.w,
                    g.padding.1,
                    g.padding.3,
                    g.dilation.1,
                    g.kw,
                    g.stride.1
                )
            );
            let k = random_kernel(&g, seed);
            let op = Conv2d::new(k.clone(), g).unwrap();
            prop_assert_eq!(op.nrows(), g.c_out * oh * ow);
            let mut s = Stream(seed ^ 0xABCD);
            let x = s.vec(op.ncols());
            let mut y = vec![0.0; op.nrows()];
            op.apply(&x, &mut y);
            let ex = explicit_matrix(&k, &g).unwrap();
            let mut ye = vec![0.0; op.nrows()];
            ex.matrix.apply(&x, &mut ye);
            let yd = direct_conv(&k, &g, &x);
            let xn = rounding::norm2_up(&x);
            // Each of the three is within its rounding bound of the exact Ax.
            let tol =
                2.0 * op.apply_error_bound(xn) + ex.matrix.apply_error_bound(xn) + ex.error * xn;
            let diff = |a: &[f64], b: &[f64]| {
                a.iter()
                    .zip(b)
                    .map(|(p, q)| (p - q).powi(2))
                    .sum::<f64>()
                    .sqrt()
            };
            prop_assert!(
                diff(&y, &ye) <= tol,
                "explicit: {} > {}",
                diff(&y, &ye),
                tol
            );
            prop_assert!(diff(&y, &yd) <= tol, "direct: {} > {}", diff(&y, &yd), tol);
            Ok(())
        })
        .unwrap();
}

#[test]
fn transpose_is_the_adjoint() {
    runner(120, 2)
        .run(&(geometry_strategy(400), any::<u64>()), |(g, seed)| {
            let k = random_kernel(&g, seed);
            let op = Conv2d::new(k.clone(), g).unwrap();
            let mut s = Stream(seed.rotate_left(7));
            let x = s.vec(op.ncols());
            let y = s.vec(op.nrows());
            let mut ax = vec![0.0; op.nrows()];
            let mut aty = vec![0.0; op.ncols()];
            op.apply(&x, &mut ax);
            op.apply_transpose(&y, &mut aty);
            let (l, r) = (dot(&ax, &y), dot(&x, &aty));
            let scale =
                k.frobenius_up() * (g.kh * g.kw * 9) as f64 * (op.nrows() + op.ncols()) as f64;
            prop_assert!(
                (l - r).abs() <= 1e-13 * scale,
                "<Ax,y> = {l}, <x,Aᵀy> = {r}"
            );
            // And Aᵀ matches the explicit transpose column sums.
            let ex = explicit_matrix(&k, &g).unwrap();
            let mut ate = vec![0.0; op.ncols()];
            ex.matrix.apply_transpose(&y, &mut ate);
            for (p, q) in aty.iter().zip(&ate) {
                prop_assert!((p - q).abs() <= 1e-12 * scale);
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn padding_map_norm_is_sqrt_max_multiplicity() {
    runner(60, 3)
        .run(&geometry_strategy(300), |g| {
            let p = PaddingMap::new(&g);
            // PᵀP is diagonal: apply Pᵀ P to each unit vector.
            let n = p.ncols();
            let mut max_diag = 0.0f64;
            for j in 0..n {
                let mut e = vec![0.0; n];
                e[j] = 1.0;
                let mut pe = vec![0.0; p.nrows()];
                p.apply(&e, &mut pe);
                let mut back = vec![0.0; n];
                p.apply_transpose(&pe, &mut back);
                for (i, v) in back.iter().enumerate() {
                    if i != j {
                        prop_assert_eq!(*v, 0.0);
                    }
                }
                max_diag = max_diag.max(back[j]);
            }
            prop_assert_eq!(max_diag as usize, p.norm_squared());
            Ok(())
        })
        .unwrap();
}

#[test]
fn invalid_shapes_are_errors_not_panics() {
    let g = Conv2dGeometry::new(2, 2, 3, 3, 4, 4);
    let k = Kernel::from_f64(2, 1, 3, 3, vec![0.5; 18]).unwrap();
    assert!(Conv2d::new(k, g)
        .unwrap_err()
        .to_string()
        .contains("kernel shape"));
    assert!(Kernel::from_f64(1, 1, 2, 2, vec![1.0; 3]).is_err());
    assert!(Kernel::from_f32(1, 1, 1, 1, &[f32::INFINITY]).is_err());
    let big = Conv2dGeometry::new(64, 64, 3, 3, 64, 64);
    let kb = Kernel::from_f64(64, 64, 3, 3, vec![0.1; 64 * 64 * 9]).unwrap();
    assert!(explicit_matrix(&kb, &big)
        .unwrap_err()
        .to_string()
        .contains("size guard"));
}
