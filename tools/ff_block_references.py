#!/usr/bin/env python3
"""Float64 reference values (not certified) for tests/real_ff_blocks.rs.

For each SiLU feed-forward block (fc2(silu(fc1 x))) of PaddleOCR's PP-OCRv4
recognition model (as shipped in the pip package rapidocr-onnxruntime,
fetched by tools/fetch_onnx_data.sh), prints

* the LipSDP-Neuron optimum sqrt(rho) (Fazlyab et al., NeurIPS 2019,
  Theorem 2 with diagonal T) for SiLU's slope interval, solved by cvxpy + SCS;
* the best sigma(J(x)) that scipy's L-BFGS reaches from random starts in a
  time limit (the gradient of the top singular value by the envelope
  theorem: d sigma / dz_i = (W2^T u)_i (W1 v)_i silu''(z_i)).

Not needed by `cargo test`. Needs a virtualenv with
`pip install numpy scipy cvxpy onnx`; run from the repository root:
python3 tools/ff_block_references.py [SECONDS_PER_BLOCK]
"""
import sys
import time

import cvxpy as cp
import numpy as np
import onnx
import scipy.optimize as so
from onnx import numpy_helper

MODEL = "target/onnx-data/rapidocr/rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx"
# SiLU's derivative range, [min, max] of s(x)(1 + x s(-x)).
SLOPES = (-0.0998393201288659, 1.0998393201288659)


def constants():
    g = onnx.load(MODEL).graph
    c = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    for n in g.node:
        if n.op_type == "Constant":
            c[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
    return c


def lipsdp(w1, w2):
    a, b = SLOPES
    h, n = w1.shape
    t = cp.Variable(h, nonneg=True)
    rho = cp.Variable()
    tm = cp.diag(t)
    m = cp.bmat([[-2 * a * b * w1.T @ tm @ w1 - rho * np.eye(n), (a + b) * w1.T @ tm],
                 [(a + b) * tm @ w1, -2 * tm + w2.T @ w2]])
    cp.Problem(cp.Minimize(rho), [(m + m.T) / 2 << 0]).solve(solver=cp.SCS, eps=1e-6, max_iters=50000)
    return float(np.sqrt(rho.value))


def ascent(w1, b1, w2, seconds):
    sig = lambda z: 0.5 * (1 + np.tanh(0.5 * z))
    d1 = lambda z: sig(z) * (1 + z * (1 - sig(z)))
    d2 = lambda z: sig(z) * (1 - sig(z)) * (2 + z * (1 - 2 * sig(z)))

    def neg(x):
        z = w1 @ x + b1
        u, s, vt = np.linalg.svd(w2 * d1(z)[None, :] @ w1)
        g = (w2.T @ u[:, 0]) * (w1 @ vt[0]) * d2(z)
        return -s[0], -(w1.T @ g)

    rng = np.random.default_rng(0)
    best, start = 0.0, time.time()
    while time.time() - start < seconds:
        x0 = rng.standard_normal(w1.shape[1]) * rng.choice([0.3, 1, 3, 10])
        res = so.minimize(neg, x0, jac=True, method="L-BFGS-B", options={"maxiter": 300})
        best = max(best, -res.fun)
    return best


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 300.0
    c = constants()
    for first in (79, 83):
        w1 = c[f"linear_{first}.w_0"].T.astype(float)
        b1 = c[f"linear_{first}.b_0"].astype(float)
        w2 = c[f"linear_{first + 1}.w_0"].T.astype(float)
        print(f"linear_{first}: LipSDP-Neuron {lipsdp(w1, w2):.6f}, "
              f"L-BFGS ascent {ascent(w1, b1, w2, seconds):.6f}", flush=True)


if __name__ == "__main__":
    main()
