"""lipcert.sigma on every dtype and memory order, against NumPy and exact values."""

import threading
import time

import numpy as np
import pytest

import lipcert
from conftest import contains_reference

DTYPES = ["float64", "float32", "float16"]


def layouts(a):
    """The same values in C order, Fortran order, a strided view and with
    negative strides (each a view or copy holding identical numbers)."""
    big = np.zeros((2 * a.shape[0], 3 * a.shape[1]), dtype=a.dtype)
    big[::2, ::3] = a
    flipped = np.ascontiguousarray(a[::-1, ::-1])
    return {
        "C": np.ascontiguousarray(a),
        "F": np.asfortranarray(a),
        "strided": big[::2, ::3],
        "negative": flipped[::-1, ::-1],
        "transposed-view": np.ascontiguousarray(a.T).T,
    }


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_memory_order_gives_the_same_enclosure(rng, dtype):
    a = rng.standard_normal((37, 23)).astype(dtype)
    results = {name: lipcert.sigma(v) for name, v in layouts(a).items()}
    assert not layouts(a)["strided"].flags.c_contiguous
    assert layouts(a)["negative"].strides[0] < 0
    ref = results["C"]
    for name, e in results.items():
        assert (e.lower, e.upper, e.estimate) == (ref.lower, ref.upper, ref.estimate), name


@pytest.mark.parametrize("dtype", DTYPES)
def test_narrow_dtypes_are_widened_exactly(rng, dtype):
    a = rng.standard_normal((20, 30)).astype(dtype)
    e_narrow = lipcert.sigma(a)
    e_wide = lipcert.sigma(a.astype(np.float64))  # exact widening in NumPy
    assert (e_narrow.lower, e_narrow.upper) == (e_wide.lower, e_wide.upper)


def test_bfloat16_is_read_exactly(rng):
    ml_dtypes = pytest.importorskip("ml_dtypes")
    a = rng.standard_normal((16, 12)).astype(ml_dtypes.bfloat16)
    wide = a.astype(np.float64)
    assert np.all(wide == a.astype(np.float32))  # bf16 → f64 is exact
    e = lipcert.sigma(a)
    e_ref = lipcert.sigma(wide)
    assert (e.lower, e.upper) == (e_ref.lower, e_ref.upper)
    e_view = lipcert.sigma(np.asfortranarray(a)[::-1])
    assert (e_view.lower, e_view.upper) == (lipcert.sigma(wide[::-1]).lower,
                                           lipcert.sigma(wide[::-1]).upper)


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (5, 5), (64, 48), (48, 64), (130, 70)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_contains_numpy_norm(rng, shape, dtype):
    a = (rng.standard_normal(shape) * 3.0).astype(dtype)
    e = lipcert.sigma(a)
    ref = np.linalg.norm(a.astype(np.float64), 2)
    assert e.guarantee == "rigorous" and e.failure_probability == 0.0
    assert contains_reference(e, ref)
    assert e.lower <= e.estimate <= e.upper
    assert e.relative_width <= 1e-9


def test_exact_values():
    e = lipcert.sigma(np.diag([3.0, -4.0, 0.5]))
    assert 4.0 in e and 3.9999 not in e
    # A rank-one matrix u vᵀ with ‖u‖ = 3, ‖v‖ = 5 (integers): σ = 15.
    u = np.array([1.0, 2.0, 2.0])
    v = np.array([3.0, 4.0])
    e = lipcert.sigma(np.outer(u, v))
    assert 15.0 in e
    z = lipcert.sigma(np.zeros((3, 4)))
    assert (z.lower, z.upper) == (0.0, 0.0)


@pytest.mark.parametrize("n", [2, 3, 5, 8])
def test_exact_method_agrees_with_the_float_certificate(rng, n):
    a = rng.integers(-9, 10, size=(n, n)).astype(np.float64) / 8.0
    exact = lipcert.sigma(a, method="exact", rel_width=1e-12)
    fast = lipcert.sigma(a)
    assert exact.method == "exact"
    # Both are rigorous enclosures of the same number: they must overlap.
    assert max(exact.lower, fast.lower) <= min(exact.upper, fast.upper)
    assert exact.relative_width <= 1e-12
    assert contains_reference(exact, np.linalg.norm(a, 2))


@pytest.mark.parametrize("method", ["svd", "nalgebra-svd", "lanczos", "power", "gram", "rump"])
def test_every_method_is_rigorous_and_contains_numpy(rng, method):
    a = rng.standard_normal((30, 20))
    e = lipcert.sigma(a, method=method, rel_width=1e-6)
    assert e.method == method and e.guarantee == "rigorous"
    assert contains_reference(e, np.linalg.norm(a, 2))


def test_probabilistic_guarantee_is_reported(rng):
    a = rng.standard_normal((200, 150))
    e = lipcert.sigma(a, failure_probability=1e-6, rel_width=1e-4)
    assert e.guarantee == "probabilistic" and 0 < e.failure_probability <= 1e-6
    assert contains_reference(e, np.linalg.norm(a, 2))
    assert "probabilistic" in repr(e)


def test_repr_shows_certified_digits():
    e = lipcert.sigma(np.array([[1.0, 2.0], [3.0, 4.0]]))
    r = repr(e)
    assert r.startswith("Enclosure(σ ∈ 5.46498570[") and "rigorous" in r, r
    assert "[" in r and "method=auto" in r
    with pytest.raises(AttributeError):
        e.lower = 0.0  # frozen


def test_array_likes_without_importing_frameworks(rng):
    a = rng.standard_normal((6, 5)).astype(np.float32)

    class WithArray:  # the __array__ protocol (PyTorch CPU tensors, JAX, TF)
        def __array__(self, dtype=None, copy=None):
            return a

    class WithDlpackOnly:  # only __dlpack__ (array API objects)
        def __dlpack__(self, stream=None, **kwargs):
            return a.__dlpack__(**kwargs)

        def __dlpack_device__(self):
            return a.__dlpack_device__()

    ref = lipcert.sigma(a)
    for obj in (WithArray(), WithDlpackOnly(), a.tolist()):
        e = lipcert.sigma(obj)
        assert (e.lower, e.upper) == (ref.lower, ref.upper), type(obj)


def test_torch_style_bfloat16_tensor_is_read_bit_exactly(monkeypatch, rng):
    """A torch bfloat16 tensor refuses __array__; lipcert views its bits as
    int16. Simulated with a stand-in `torch` module (no torch install)."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    import sys
    import types

    values = rng.standard_normal((7, 4)).astype(ml_dtypes.bfloat16)
    fake_torch = types.SimpleNamespace(int16="torch.int16")

    class FakeTensor:
        dtype = "torch.bfloat16"

        def detach(self):
            return self

        def __array__(self, dtype=None, copy=None):
            raise TypeError("Got unsupported ScalarType BFloat16")

        def view(self, dtype):
            assert dtype == "torch.int16"
            return values.view(np.int16)

    monkeypatch.setitem(sys.modules, "torch", fake_torch)
    e = lipcert.sigma(FakeTensor())
    ref = lipcert.sigma(values.astype(np.float64))
    assert (e.lower, e.upper) == (ref.lower, ref.upper)


def test_integer_arrays_are_exact():
    e = lipcert.sigma(np.array([[3, 0], [0, 4]], dtype=np.int64))
    assert 4.0 in e
    with pytest.raises(lipcert.LipcertError, match="2\\*\\*53"):
        lipcert.sigma(np.array([[2**60, 1], [0, 1]], dtype=np.int64))
    with pytest.raises(lipcert.LipcertError, match="2\\*\\*53"):
        lipcert.sigma(np.array([[2**53 + 1]], dtype=np.int64))  # rounds in float64
    with pytest.raises(lipcert.LipcertError, match="2\\*\\*53"):
        lipcert.sigma(np.array([[2**64 - 1]], dtype=np.uint64))
    assert float(2**53) in lipcert.sigma(np.array([[-(2**53)]], dtype=np.int64))
    assert 1.0 in lipcert.sigma(np.array([[True, False]]))


def test_the_gil_is_released_during_computation(rng):
    a = rng.standard_normal((700, 700))
    window = {}
    stamps = []

    def work():
        window["t0"] = time.perf_counter()
        window["e"] = lipcert.sigma(a)
        window["t1"] = time.perf_counter()

    t = threading.Thread(target=work)
    t.start()
    while t.is_alive():
        stamps.append(time.perf_counter())
        time.sleep(0.0005)
    t.join()
    t0, t1 = window["t0"], window["t1"]
    assert t1 - t0 > 0.01, "matrix too small to observe"
    inside = [s for s in stamps if t0 + 0.2 * (t1 - t0) < s < t1 - 0.2 * (t1 - t0)]
    # With the GIL held for the whole call the main thread could not run at
    # all inside the window.
    assert len(inside) >= 5, (len(inside), t1 - t0)
