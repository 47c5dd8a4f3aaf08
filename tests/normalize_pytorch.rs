//! Spectral normalization: lipcert's certified normalization and the replays
//! of PyTorch's and Keras's power-iteration updates, against hand-derived
//! cases and theorems.

use lipcert::network::conv_layer::ConvLayer;
use lipcert::normalize::conv::conv_norms;
use lipcert::normalize::pytorch::weight_matrix;
use lipcert::normalize::{
    deviation_from_one, spectral_normalize, KerasSpectralNorm, Precision, TorchSpectralNorm,
};
use lipcert::{sigma, DenseMatrix, SigmaOptions};

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs()
}

#[test]
fn pytorch_one_step_on_a_diagonal_2x2_by_hand() {
    // W = diag(2, 1), v = (1, 1)/√2. One iteration:
    //   u = normalize(W v) = (2, 1)/√5
    //   v = normalize(Wᵀ u) = (4, 1)/√17
    //   σ̂ = uᵀ W v = (2, 1)·(8, 1)/√85 = 17/√85 = √3.4
    // so W_sn = W/√3.4 and σ(W_sn) = 2/√3.4 ≈ 1.0847.
    let w = DenseMatrix::from_row_major(2, 2, &[2.0, 0.0, 0.0, 1.0]).unwrap();
    let h = std::f64::consts::FRAC_1_SQRT_2;
    for precision in [Precision::F64, Precision::F32] {
        let tol = if precision == Precision::F64 {
            1e-15
        } else {
            1e-6
        };
        let mut sn =
            TorchSpectralNorm::from_state(&w, &[1.0, 0.0], &[h, h], 1, 1e-12, precision).unwrap();
        let w_sn = sn.train_step(&w).unwrap();
        assert!(
            close(sn.u[0], 2.0 / 5f64.sqrt(), tol) && close(sn.u[1], 1.0 / 5f64.sqrt(), tol),
            "{:?}",
            sn.u
        );
        assert!(
            close(sn.v[0], 4.0 / 17f64.sqrt(), tol) && close(sn.v[1], 1.0 / 17f64.sqrt(), tol),
            "{:?}",
            sn.v
        );
        let s = sn.sigma_hat(&w);
        assert!(close(s, 3.4f64.sqrt(), tol), "sigma_hat {s}");
        let e = sigma(&w_sn, &SigmaOptions::default()).unwrap();
        // W_sn is diagonal: its exact σ is its stored (0, 0) entry ≈ 2/σ̂.
        assert!(e.contains(w_sn.get(0, 0)), "{e} vs {}", w_sn.get(0, 0));
        assert!(close(w_sn.get(0, 0), 2.0 / s, tol));
        assert!(lipcert::exact::contains_sigma(&w_sn, e.lower(), e.upper()).unwrap());
        assert!(close(e.upper(), 2.0 / 3.4f64.sqrt(), 1e-8 + 10.0 * tol));
    }
}

#[test]
fn pytorch_one_step_on_a_shear_by_hand() {
    // W = [[1, 1], [0, 1]] (σ = golden ratio φ), v = (1, 0):
    //   u = normalize((1, 0)) = (1, 0); v = normalize((1, 1)) = (1, 1)/√2;
    //   σ̂ = (1, 0)·W(1, 1)/√2 = 2/√2 = √2, so σ(W_sn) = φ/√2 ≈ 1.1441:
    // one PyTorch step leaves the layer 14% above norm 1.
    let w = DenseMatrix::from_row_major(2, 2, &[1.0, 1.0, 0.0, 1.0]).unwrap();
    let mut sn =
        TorchSpectralNorm::from_state(&w, &[0.0, 1.0], &[1.0, 0.0], 1, 1e-12, Precision::F64)
            .unwrap();
    let w_sn = sn.train_step(&w).unwrap();
    assert!(close(sn.sigma_hat(&w), 2f64.sqrt(), 1e-15));
    let phi = (1.0 + 5f64.sqrt()) / 2.0;
    let e = sigma(&w_sn, &SigmaOptions::default()).unwrap();
    let want = phi / 2f64.sqrt();
    assert!(
        e.lower() <= want * (1.0 + 1e-14) && want * (1.0 - 1e-14) <= e.upper(),
        "{e}"
    );
    assert!(deviation_from_one(&e) > 0.14);
}

fn pseudo(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

#[test]
fn pytorch_certified_norm_converges_to_one_from_above() {
    // σ̂ = uᵀWv ≤ σ(W) for unit u, v, so σ(W/σ̂) ≥ 1 always (up to the
    // rounding of the normalizations), and power iteration makes σ̂ increase
    // towards σ: the certified deviation from 1 shrinks with the steps.
    let w = DenseMatrix::from_row_major(6, 4, &pseudo(24, 3)).unwrap();
    let mut sn =
        TorchSpectralNorm::register(&w, &pseudo(6, 5), &pseudo(4, 7), 1, 1e-12, Precision::F64)
            .unwrap();
    let mut deviations = Vec::new();
    for step in 0..=60 {
        let w_sn = sn.train_step(&w).unwrap();
        if step % 15 == 0 {
            let e = sigma(&w_sn, &SigmaOptions::default()).unwrap();
            assert!(e.upper() >= 1.0 - 1e-12, "sigma(W_sn) below 1: {e}");
            deviations.push(deviation_from_one(&e));
        }
    }
    for pair in deviations.windows(2) {
        assert!(pair[1] <= pair[0] * 1.0001 + 1e-12, "{deviations:?}");
    }
    assert!(*deviations.last().unwrap() < 1e-8, "{deviations:?}");
}

#[test]
fn keras_step_by_hand_and_convergence() {
    // Keras views the kernel as W (rest × C_out); with W = diag(2, 1) and
    // u = (1, 1): v = normalize(W u) = (2, 1)/√5, u = normalize(Wᵀ v) = (4, 1)/√17,
    // σ̂ = v·(W u) = 17/√85 = √3.4; the kernel is replaced by W/σ̂.
    let w = DenseMatrix::from_row_major(2, 2, &[2.0, 0.0, 0.0, 1.0]).unwrap();
    let mut k = KerasSpectralNorm::new(vec![1.0, 1.0], 1, 1e-12).unwrap();
    let (w1, s) = k.train_step(&w).unwrap();
    assert!(close(s, 3.4f64.sqrt(), 1e-15));
    assert!(close(k.u[0], 4.0 / 17f64.sqrt(), 1e-15));
    assert!(close(w1.get(0, 0), 2.0 / 3.4f64.sqrt(), 1e-15));
    // Repeated calls renormalize the stored kernel: σ → 1.
    let m = DenseMatrix::from_row_major(5, 3, &pseudo(15, 11)).unwrap();
    let mut k = KerasSpectralNorm::new(pseudo(3, 13), 1, 1e-12).unwrap();
    let mut cur = m;
    for _ in 0..60 {
        cur = k.train_step(&cur).unwrap().0;
    }
    let e = sigma(&cur, &SigmaOptions::default()).unwrap();
    assert!(deviation_from_one(&e) < 1e-8, "{e}");
    assert!(k
        .train_step(&DenseMatrix::from_row_major(2, 2, &[1.0; 4]).unwrap())
        .is_err());
}

#[test]
fn lipcert_normalization_contains_one_within_the_reported_width() {
    for seed in 0..6u64 {
        let (m, n) = (3 + seed as usize, 2 + (seed as usize * 5) % 7);
        let w = DenseMatrix::from_row_major(m, n, &pseudo(m * n, seed)).unwrap();
        let (wn, e) = spectral_normalize(&w).unwrap();
        let dev = deviation_from_one(&e);
        assert!(dev <= 1e-8, "deviation {dev}");
        assert!(e.lower() <= 1.0 + dev && 1.0 - dev <= e.upper());
        // Against the exact rational oracle (small sizes).
        assert!(lipcert::exact::contains_sigma(&wn, e.lower(), e.upper()).unwrap());
    }
    assert!(spectral_normalize(&DenseMatrix::from_row_major(2, 2, &[0.0; 4]).unwrap()).is_err());
}

#[test]
fn reshape_to_matrix_follows_pytorch_dim_semantics() {
    // tensor of shape (2, 3, 2) with values 0..12 (row-major)
    let data: Vec<f64> = (0..12).map(f64::from).collect();
    let m0 = weight_matrix(&[2, 3, 2], &data, 0).unwrap();
    assert_eq!((m0.nrows(), m0.ncols()), (2, 6));
    assert_eq!(m0.get(1, 0), 6.0);
    // dim = 1: permute(1, 0, 2) then flatten: row r, col (a, c) = t[a, r, c]
    let m1 = weight_matrix(&[2, 3, 2], &data, 1).unwrap();
    assert_eq!((m1.nrows(), m1.ncols()), (3, 4));
    // t[a, r, c] = a*6 + r*2 + c; row 1, col (a=1, c=0) -> 6 + 2 + 0 = 8
    assert_eq!(m1.get(1, 2), 8.0);
    assert_eq!(m1.get(2, 1), 5.0);
    assert!(weight_matrix(&[4], &data[..4], 0).is_err());
}

#[test]
fn normalized_conv_kernel_true_norm_differs_from_reshaped() {
    // Normalize a 2x2x3x3 kernel the PyTorch way (reshaped to 2 x 18), then
    // certify both norms: ‖R‖ ≈ 1, while the convolution on 6x6 with zero
    // padding has a norm in [‖R‖·(something ≥ lower), √9·‖R‖].
    let kernel = pseudo(36, 21);
    let r = weight_matrix(&[2, 2, 3, 3], &kernel, 0).unwrap();
    let mut sn =
        TorchSpectralNorm::register(&r, &pseudo(2, 1), &pseudo(18, 2), 1, 1e-12, Precision::F64)
            .unwrap();
    for _ in 0..30 {
        sn.train_step(&r).unwrap();
    }
    let r_sn = sn.normalized(&r).unwrap();
    let conv = ConvLayer::new(
        r_sn.to_row_major(),
        [2, 2, 3, 3],
        None,
        2,
        (6, 6),
        (1, 1),
        (1, 1, 1, 1),
        (1, 1),
        1,
    )
    .unwrap();
    let rep = conv_norms(&conv).unwrap();
    assert!(deviation_from_one(&rep.reshaped) < 1e-6, "{}", rep.reshaped);
    assert!(rep.operator_lower <= rep.operator_upper);
    assert!(rep.operator_lower <= 3.0 * rep.reshaped.upper());
    // the operator norm is not the reshaped norm: it is certified larger here
    assert!(rep.operator_lower > rep.reshaped.upper(), "{rep:?}");
}
