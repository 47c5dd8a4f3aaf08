"""lipcert.testing fails where it must and passes where it should."""

import json

import numpy as np
import pytest

import lipcert.testing as lt
from conftest import REPO, write_safetensors


def torch_style_spectral_norm(w, iterations, rng):
    """torch.nn.utils.spectral_norm's update replayed in NumPy: power
    iteration from a random u, σ̂ = uᵀWv, W/σ̂."""
    u = rng.standard_normal(w.shape[0])
    u /= np.linalg.norm(u)
    for _ in range(iterations):
        v = w.T @ u
        v /= max(np.linalg.norm(v), 1e-12)
        u = w @ v
        u /= max(np.linalg.norm(u), 1e-12)
    return w / (u @ w @ v)


@pytest.fixture
def layer(rng):
    """A trained-looking layer: noise plus a dominant direction (a spectral
    gap, so 100 power iterations converge)."""
    a = rng.standard_normal(64)
    b = rng.standard_normal(32)
    return rng.standard_normal((64, 32)) / 8 + 3 * np.outer(a, b) / (
        np.linalg.norm(a) * np.linalg.norm(b))


def test_one_power_iteration_is_caught(layer, rng):
    w_sn = torch_style_spectral_norm(layer, 1, rng)
    with pytest.raises(AssertionError) as info:
        lt.assert_at_most(w_sn, 1.0, rel_tol=1e-6)
    text = str(info.value)
    assert "certainly exceeded" in text and "certified σ ∈" in text, text
    with pytest.raises(AssertionError, match="relative error ≥"):
        lt.assert_spectral_norm(w_sn, 1.0, rel_tol=1e-6)


def test_hundred_power_iterations_pass(layer, rng):
    w_sn = torch_style_spectral_norm(layer, 100, rng)
    e = lt.assert_at_most(w_sn, 1.0, rel_tol=1e-6)
    assert e.upper <= 1.0 + 1e-6
    lt.assert_spectral_norm(w_sn, 1.0, rel_tol=1e-6)


def test_assert_spectral_norm_message():
    with pytest.raises(AssertionError) as info:
        lt.assert_spectral_norm(np.diag([3.0, 4.0]), 4.4, err_msg="layer fc1")
    text = str(info.value)
    assert text.startswith("layer fc1\n")
    assert "expected: 4.4" in text and "relative error ≥ 9.99e-2" in text, text
    assert lt.assert_spectral_norm(np.diag([3.0, 4.0]), 4.0).lower <= 4.0


def test_assert_at_most_is_strict_at_the_boundary():
    lt.assert_at_most(np.diag([1.0 - 1e-9, 0.5]), 1.0)
    with pytest.raises(AssertionError, match="certainly exceeded"):
        lt.assert_at_most(np.diag([1.0 + 1e-9, 0.5]), 1.0)


def test_assert_conv_norm(rng):
    k = np.zeros((1, 1, 3, 3))
    k[0, 0, 1, 1] = 1.0  # identity conv: σ = 1
    lt.assert_conv_norm(k, 1.0, input_shape=(5, 5), padding=1)
    lt.assert_conv_norm(k, at_most=1.0, input_shape=(5, 5), padding=1, rel_tol=1e-9)
    avg = np.full((1, 1, 3, 3), 1 / 3)  # ‖R‖ = 1 but the circular layer has σ = 3
    with pytest.raises(AssertionError, match="reshaped-kernel norm"):
        lt.assert_conv_norm(avg, at_most=1.0, input_shape=(6, 6), padding=1,
                            padding_mode="circular")
    with pytest.raises(TypeError):
        lt.assert_conv_norm(k, input_shape=(5, 5))


def test_assert_lipschitz(tmp_path):
    w = np.diag([2.0, 0.5])
    write_safetensors(tmp_path / "w.safetensors", {"fc.weight": w})
    spec = {"weights": "w.safetensors", "input_shape": [2],
            "layers": [{"type": "linear", "weight": "fc.weight"}, {"type": "relu"}]}
    (tmp_path / "net.json").write_text(json.dumps(spec))
    lt.assert_lipschitz(tmp_path / "net.json", at_most=2.0 * (1 + 1e-9))
    with pytest.raises(AssertionError, match="certainly exceeded"):
        lt.assert_lipschitz(tmp_path / "net.json", at_most=1.5)
    report = lt.assert_lipschitz(REPO / "examples" / "cnn.json", at_most=1e6)
    assert report.upper <= 1e6
