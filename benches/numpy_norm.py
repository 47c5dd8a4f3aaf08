#!/usr/bin/env python3
"""Times numpy.linalg.norm(W, 2) on the same Gaussian matrices as
benches/dense_ratio.rs (same xorshift64 + Box-Muller generator), median of 3.

Not needed by `cargo test`. Setup (one OpenBLAS thread, as the Rust side is
single-threaded):

    python3 -m venv target/venv && target/venv/bin/pip install numpy
    OPENBLAS_NUM_THREADS=1 target/venv/bin/python benches/numpy_norm.py [--large]
"""
import math
import sys
import time

import numpy as np

MASK = (1 << 64) - 1


def gaussian(m, n, seed):
    state = seed
    out = np.empty(m * n)
    for k in range(m * n):
        us = []
        for _ in range(2):
            state ^= (state << 13) & MASK
            state ^= state >> 7
            state ^= (state << 17) & MASK
            us.append((state >> 11) / float(1 << 53))
        u1, u2 = us
        out[k] = math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)
    return out.reshape(m, n)


def main():
    shapes = [(64, 64), (128, 128), (256, 256), (512, 512), (1024, 1024), (1024, 256), (256, 1024)]
    if "--large" in sys.argv:
        shapes += [(2048, 2048), (2048, 512)]
    print(f"{'shape':>11} {'numpy_norm2_s':>14} {'sigma':>22}")
    for m, n in shapes:
        w = gaussian(m, n, 0x2545F4914F6CDD1D ^ (m * 131 + n))
        times = []
        for _ in range(3):
            t = time.perf_counter()
            s = np.linalg.norm(w, 2)
            times.append(time.perf_counter() - t)
        times.sort()
        print(f"{m}x{n:<6} {times[1]:>14.4f} {s:>22.17e}")


if __name__ == "__main__":
    main()
