"""Shared helpers: independent NumPy references (no lipcert code)."""

import json
import struct
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def rng():
    return np.random.default_rng(20261202)


def contains_reference(e, value, slack=1e-12):
    """``value`` (an independent floating-point reference with relative error
    far below ``slack``) lies in the enclosure widened by ``slack``."""
    return e.lower * (1 - slack) <= value <= e.upper * (1 + slack)


def conv_matrix(kernel, hw, stride=(1, 1), padding=(0, 0, 0, 0), mode="zeros",
                dilation=(1, 1), groups=1):
    """The explicit matrix of a PyTorch-convention Conv2d, built by applying a
    direct NumPy convolution to every basis vector (bias ignored)."""
    c_out, c_in_g, kh, kw = kernel.shape
    c_in = c_in_g * groups
    h, w = hw
    top, left, bottom, right = padding
    np_mode = {"zeros": "constant", "circular": "wrap", "reflect": "reflect",
               "replicate": "edge"}[mode]
    ph, pw = h + top + bottom, w + left + right
    oh = (ph - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (pw - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    k = kernel.astype(np.float64)
    cols = []
    for idx in range(c_in * h * w):
        x = np.zeros(c_in * h * w)
        x[idx] = 1.0
        x = x.reshape(c_in, h, w)
        xp = np.pad(x, ((0, 0), (top, bottom), (left, right)), mode=np_mode)
        y = np.zeros((c_out, oh, ow))
        per_group_out = c_out // groups
        for o in range(c_out):
            g = o // per_group_out
            for c in range(c_in_g):
                for a in range(kh):
                    for b in range(kw):
                        rows = a * dilation[0] + stride[0] * np.arange(oh)
                        cs = b * dilation[1] + stride[1] * np.arange(ow)
                        y[o] += k[o, c, a, b] * xp[g * c_in_g + c][np.ix_(rows, cs)]
        cols.append(y.ravel())
    return np.array(cols).T


def write_safetensors(path, tensors):
    """A minimal safetensors writer (8-byte header length, JSON header,
    little-endian float64 data)."""
    header = {}
    blobs = []
    offset = 0
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype="<f8").tobytes()
        header[name] = {"dtype": "F64", "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(h)) + h + b"".join(blobs))
