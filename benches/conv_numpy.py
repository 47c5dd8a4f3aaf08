#!/usr/bin/env python3
"""Baseline for benches/conv.rs: the Sedghi, Gupta & Long (ICLR 2019) method in
numpy — FFT of the kernel zero-padded to n x n, then the singular values of
every per-frequency C_out x C_in block (np.linalg.svd, compute_uv=False) —
timed on the ResNet-18 layer shapes with circular "same" padding, stride 1.

The kernels are the same He-initialized f32 kernels as the Rust bench
(splitmix64 + Box-Muller, same seeds), so the printed sigma_max can be
compared with lipcert's certified circular value.

Run (not part of cargo test):
    python3 -m venv target/numpy-venv && target/numpy-venv/bin/pip install numpy
    OPENBLAS_NUM_THREADS=1 target/numpy-venv/bin/python benches/conv_numpy.py
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import time  # noqa: E402

import numpy as np  # noqa: E402

LAYERS = [
    ("stem 7x7/2 3->64 @224", 3, 64, 7, 224),
    ("3x3 64->64 @56", 64, 64, 3, 56),
    ("3x3/2 64->128 @56", 64, 128, 3, 56),
    ("1x1/2 64->128 @56", 64, 128, 1, 56),
    ("3x3 128->128 @28", 128, 128, 3, 28),
    ("3x3/2 128->256 @28", 128, 256, 3, 28),
    ("1x1/2 128->256 @28", 128, 256, 1, 28),
    ("3x3 256->256 @14", 256, 256, 3, 14),
    ("3x3/2 256->512 @14", 256, 512, 3, 14),
    ("1x1/2 256->512 @14", 256, 512, 1, 14),
    ("3x3 512->512 @7", 512, 512, 3, 7),
]

M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def splitmix_uniform(seed, count):
    """The Rust bench's uniform stream: splitmix64 outputs mapped to (0, 1)."""
    with np.errstate(over="ignore"):
        i = np.arange(1, count + 1, dtype=np.uint64)
        z = np.uint64(seed) + i * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)


def he_kernel(c_in, c_out, k, seed):
    n = c_out * c_in * k * k
    u = splitmix_uniform(seed, 2 * n)
    u1, u2 = u[0::2], u[1::2]
    std = np.sqrt(2.0 / (c_in * k * k))
    vals = np.sqrt(-2.0 * np.log(u1)) * np.cos(2 * np.pi * u2) * std
    return vals.astype(np.float32).astype(np.float64).reshape(c_out, c_in, k, k)


def sedghi_sigma(kernel, n):
    transforms = np.fft.fft2(kernel, s=(n, n), axes=(2, 3))  # C_out x C_in x n x n
    blocks = transforms.transpose(2, 3, 0, 1)  # n x n x C_out x C_in
    return np.linalg.svd(blocks, compute_uv=False).max()


def main():
    print("| layer | numpy Sedghi σ_max | time (s) |")
    print("|---|---|---|")
    for i, (name, c_in, c_out, k, n) in enumerate(LAYERS):
        kernel = he_kernel(c_in, c_out, k, 1000 + i)
        times = []
        for _ in range(3):
            t = time.perf_counter()
            s = sedghi_sigma(kernel, n)
            times.append(time.perf_counter() - t)
        print(f"| {name} | {s:.8f} | {sorted(times)[1]:.3f} |")


if __name__ == "__main__":
    main()
