#!/usr/bin/env python3
"""Generates the sklearn-digits MLP fixture (issue 12): 64 -> 32 -> 32 -> 10,
ReLU, trained by scikit-learn's MLPClassifier on the digits data set that ships
inside scikit-learn (no download), inputs scaled to [0, 1] (pixel / 16).

Writes examples/digits.safetensors (F32, PyTorch layout: weight is (out, in))
and examples/digits.json. Fixed random_state: the same weights for the same
scikit-learn / numpy versions (written with 1.5.2 / 2.4.6). Only this
generator needs scikit-learn; `cargo test` reads the committed files.

    pip install scikit-learn==1.5.2 && python3 tools/make_digits.py
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, array in tensors:
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {
            "dtype": "F32",
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def main():
    root = Path(__file__).resolve().parent.parent / "examples"
    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=0)
    clf = MLPClassifier(
        hidden_layer_sizes=(32, 32),
        activation="relu",
        max_iter=400,
        random_state=0,
    )
    clf.fit(xtr, ytr)
    print(f"test accuracy {clf.score(xte, yte):.4f}", file=sys.stderr)
    tensors = []
    layers = []
    for i, (w, b) in enumerate(zip(clf.coefs_, clf.intercepts_)):
        tensors.append((f"fc{i + 1}.weight", w.T))
        tensors.append((f"fc{i + 1}.bias", b))
        if layers:
            layers.append({"type": "relu"})
        layers.append(
            {"type": "linear", "weight": f"fc{i + 1}.weight", "bias": f"fc{i + 1}.bias"}
        )
    write_safetensors(root / "digits.safetensors", tensors)
    spec = {"weights": "digits.safetensors", "input_shape": [64], "layers": layers}
    (root / "digits.json").write_text(json.dumps(spec, indent=2) + "\n")


if __name__ == "__main__":
    main()
