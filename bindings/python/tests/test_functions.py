"""norms, normalize, check and certify."""

import json

import numpy as np
import pytest

import lipcert
from conftest import REPO, contains_reference, write_safetensors


def test_norms_against_numpy(rng):
    a = rng.standard_normal((9, 7)).astype(np.float32)
    n = lipcert.norms(a)
    w = a.astype(np.float64)
    assert contains_reference(n.l1, np.linalg.norm(w, 1))
    assert contains_reference(n.l2, np.linalg.norm(w, 2))
    assert contains_reference(n.linf, np.linalg.norm(w, np.inf))
    l1, l2, _ = n
    assert l1.quantity == "‖W‖₁" and l2.quantity == "σ"


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
def test_normalize_certifies_the_returned_values(rng, dtype):
    a = (rng.standard_normal((12, 8)) * 5).astype(dtype)
    wn, e = lipcert.normalize(a)
    assert wn.dtype == a.dtype and wn.shape == a.shape
    again = lipcert.sigma(wn)
    assert (again.lower, again.upper) == (e.lower, e.upper)
    tol = {"float64": 2e-9, "float32": 1e-5, "float16": 1e-2}[dtype]
    assert e.lower > 1 - tol and e.upper < 1 + tol


def test_normalize_bfloat16_keeps_its_dtype(rng):
    ml_dtypes = pytest.importorskip("ml_dtypes")
    a = rng.standard_normal((6, 5)).astype(ml_dtypes.bfloat16)
    wn, e = lipcert.normalize(a)
    assert wn.dtype == a.dtype
    assert e.lower > 0.98 and e.upper < 1.02


def test_normalize_refuses_zero():
    with pytest.raises(lipcert.LipcertError, match="zero matrix"):
        lipcert.normalize(np.zeros((2, 2)))


def test_check_verdicts():
    w = np.diag([3.0, 4.0])
    ok = lipcert.check(w, 4.0000001, rel_tol=1e-6)
    assert ok and ok.consistent
    # |4.0000001 − σ|/σ ≤ 2.5e-8; its certified lower bound is below that.
    assert 0.0 <= ok.relative_error <= 2.5e-8
    assert lipcert.check(w, 4.0).relative_error == 0.0
    bad = lipcert.check(w, 4.4, rel_tol=1e-6)
    assert not bad
    # 0.4/4 = 0.1 relative error, certified from below.
    assert 0.0999 < bad.relative_error <= 0.1
    with pytest.raises(lipcert.LipcertError, match="finite"):
        lipcert.check(w, float("nan"))


def test_certify_the_example_network():
    report = lipcert.certify(REPO / "examples" / "cnn.json")
    assert 0 < report.lower <= report.upper
    assert report.ratio >= 1.0
    assert len(report.layers) > 3 and report.layers[0].type == "conv2d"
    d = json.loads(report.to_json())
    assert d["upper"] == report.upper
    assert "layer" in str(report)
    assert "NetworkReport(Lip ∈" in repr(report)


def test_certify_lower_budget_passes_and_seed():
    path = REPO / "examples" / "cnn.json"
    a = lipcert.certify(path, lower_seed=3, lower_passes=3000)
    b = lipcert.certify(path, lower_seed=3, lower_passes=3000)
    c = lipcert.certify(path, lower_seed=4, lower_passes=3000)
    # A work budget: a seed reproduces its search; another seed searches
    # other points; the upper bound does not depend on the search.
    assert a.lower == b.lower and a.upper == c.upper
    assert a.lower != c.lower
    assert 0 < c.lower <= c.upper
    budgeted = lipcert.certify(path, lower_budget=0.5)
    assert 0 < budgeted.lower <= budgeted.upper
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(lipcert.LipcertError, match="lower_budget"):
            lipcert.certify(path, lower_budget=bad)
    with pytest.raises(lipcert.LipcertError, match="lower_seed"):
        lipcert.certify(path, lower_seed=-1)
    with pytest.raises(lipcert.LipcertError, match="lower_passes"):
        lipcert.certify(path, lower_passes=-1)
    with pytest.raises(lipcert.LipcertError, match="give one"):
        lipcert.certify(path, lower_passes=10, lower_budget=1.0)


def test_certify_a_linear_network_equals_sigma(tmp_path, rng):
    w = rng.standard_normal((5, 4))
    write_safetensors(tmp_path / "w.safetensors", {"fc.weight": w})
    spec = {"weights": "w.safetensors", "input_shape": [4],
            "layers": [{"type": "linear", "weight": "fc.weight"}]}
    (tmp_path / "net.json").write_text(json.dumps(spec))
    report = lipcert.certify(tmp_path / "net.json", lower=False)
    s = np.linalg.norm(w, 2)
    assert report.upper >= s * (1 - 1e-12)
    assert report.upper <= s * (1 + 1e-8)
    assert report.lower == 0.0 and report.ratio is None


def test_certify_bad_spec_is_bad_input(tmp_path):
    (tmp_path / "net.json").write_text('{"weights": "w.safetensors"}')
    with pytest.raises(lipcert.LipcertError, match="net.json"):
        lipcert.certify(tmp_path / "net.json")
