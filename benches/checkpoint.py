#!/usr/bin/env python3
"""The 7B-shaped transformer block of benches/checkpoint.sh.

    checkpoint.py write DIR    # a sharded BF16 checkpoint of one block
    checkpoint.py numpy DIR    # numpy.linalg.norm(W, 2) on the same matrices

`write` makes the seven matrices of one LLaMA-7B block (q, k, v, o: 4096x4096;
gate, up: 11008x4096; down: 4096x11008), Gaussian with standard deviation
0.02 from a fixed seed, rounded to bfloat16 (round to nearest even on the
float32 bits), as two safetensors shards plus model.safetensors.index.json.
`numpy` reads them back (the exact bf16 values, widened to float64) and
times numpy's uncertified 2-norm, one matrix at a time.

Needs numpy only (not a dependency of cargo test); run it with one OpenBLAS
thread: OPENBLAS_NUM_THREADS=1.
"""
import json
import os
import sys
import time

import numpy as np

SHAPES = [
    ("model.layers.0.self_attn.q_proj.weight", (4096, 4096)),
    ("model.layers.0.self_attn.k_proj.weight", (4096, 4096)),
    ("model.layers.0.self_attn.v_proj.weight", (4096, 4096)),
    ("model.layers.0.self_attn.o_proj.weight", (4096, 4096)),
    ("model.layers.0.mlp.gate_proj.weight", (11008, 4096)),
    ("model.layers.0.mlp.up_proj.weight", (11008, 4096)),
    ("model.layers.0.mlp.down_proj.weight", (4096, 11008)),
]
SHARDS = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]


def bf16_bits(w32):
    """Round float32 to bfloat16 (nearest, ties to even); returns uint16."""
    u = w32.view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16)


def write(folder):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(20261202)
    weight_map = {}
    groups = [SHAPES[:4], SHAPES[4:]]
    for shard, group in zip(SHARDS, groups):
        header, blobs, offset = {}, [], 0
        for name, (m, n) in group:
            w = (rng.standard_normal((m, n), dtype=np.float32) * np.float32(0.02))
            b = bf16_bits(w).astype("<u2").tobytes()
            header[name] = {"dtype": "BF16", "shape": [m, n],
                            "data_offsets": [offset, offset + len(b)]}
            offset += len(b)
            blobs.append(b)
            weight_map[name] = shard
        text = json.dumps(header).encode()
        text += b" " * ((8 - (8 + len(text)) % 8) % 8)
        with open(os.path.join(folder, shard), "wb") as f:
            f.write(len(text).to_bytes(8, "little"))
            f.write(text)
            for b in blobs:
                f.write(b)
    index = {"metadata": {"total_size": sum(2 * m * n for _, (m, n) in SHAPES)},
             "weight_map": weight_map}
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=2)


def read(folder, name):
    index = json.load(open(os.path.join(folder, "model.safetensors.index.json")))
    path = os.path.join(folder, index["weight_map"][name])
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        e = header[name]
        s, t = e["data_offsets"]
        f.seek(8 + n + s)
        bits = np.frombuffer(f.read(t - s), dtype="<u2")
    w = (bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return w.reshape(e["shape"])


def numpy_norms(folder):
    total = 0.0
    for name, _ in SHAPES:
        w = read(folder, name)
        t = time.perf_counter()
        s = np.linalg.norm(w, 2)
        dt = time.perf_counter() - t
        total += dt
        print(f"{name} {w.shape[0]}x{w.shape[1]} numpy_norm2 {s:.17e} {dt:.2f} s", flush=True)
        del w
    print(f"numpy_total_seconds {total:.2f}")


if __name__ == "__main__":
    {"write": write, "numpy": numpy_norms}[sys.argv[1]](sys.argv[2])
