"""lipcert.conv against the explicit conv matrix built in NumPy."""

import numpy as np
import pytest

import lipcert
from conftest import contains_reference, conv_matrix

CASES = [
    # (kernel shape, input hw, stride, padding (t, l, b, r), mode, dilation, groups)
    ((2, 2, 3, 3), (6, 6), (1, 1), (1, 1, 1, 1), "zeros", (1, 1), 1),
    ((3, 2, 3, 3), (7, 5), (2, 2), (1, 1, 1, 1), "zeros", (1, 1), 1),
    ((2, 2, 3, 3), (6, 6), (1, 1), (1, 1, 1, 1), "circular", (1, 1), 1),
    ((2, 1, 3, 3), (5, 6), (1, 1), (1, 1, 1, 1), "reflect", (1, 1), 2),
    ((2, 3, 2, 3), (6, 7), (1, 2), (0, 1, 2, 1), "replicate", (1, 1), 1),
    ((4, 1, 3, 3), (8, 8), (1, 1), (2, 2, 2, 2), "zeros", (2, 2), 2),
]


@pytest.mark.parametrize("case", CASES)
def test_conv_contains_the_explicit_matrix_norm(rng, case):
    shape, hw, stride, padding, mode, dilation, groups = case
    k = rng.standard_normal(shape)
    e = lipcert.conv(k, input_shape=hw, stride=stride, padding=padding, padding_mode=mode,
                     dilation=dilation, groups=groups)
    m = conv_matrix(k, hw, stride, padding, mode, dilation, groups)
    assert isinstance(e, lipcert.ConvEnclosure) and isinstance(e, lipcert.Enclosure)
    assert e.guarantee == "rigorous"
    assert contains_reference(e, np.linalg.norm(m, 2)), (e, np.linalg.norm(m, 2))
    r = k.reshape(shape[0], -1)
    assert contains_reference(e.reshaped, np.linalg.norm(r, 2))
    assert repr(e).startswith("ConvEnclosure(σ ∈ ")


def test_float32_kernel_and_memory_orders_agree(rng):
    k = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    ref = lipcert.conv(k, input_shape=(8, 8), padding=1)
    for v in (np.asfortranarray(k), k[::-1].copy()[::-1], k.astype(np.float64)):
        e = lipcert.conv(v, input_shape=(8, 8), padding=1)
        assert (e.lower, e.upper) == (ref.lower, ref.upper)


def test_padding_forms_match_pytorch():
    k = np.arange(2 * 2 * 3 * 3, dtype=np.float64).reshape(2, 2, 3, 3) / 10
    same = lipcert.conv(k, input_shape=(2, 6, 6), padding="same")
    ones = lipcert.conv(k, input_shape=(6, 6), padding=(1, 1))
    assert (same.lower, same.upper) == (ones.lower, ones.upper)
    valid = lipcert.conv(k, input_shape=(1, 2, 6, 6), padding="valid")
    zero = lipcert.conv(k, input_shape=(6, 6))
    assert (valid.lower, valid.upper) == (zero.lower, zero.upper)


def test_conv1d(rng):
    k = rng.standard_normal((3, 2, 4))
    e = lipcert.conv(k, input_shape=(2, 11), stride=2, padding=1, padding_mode="zeros")
    m = conv_matrix(k[:, :, None, :], (1, 11), (1, 2), (0, 1, 0, 1), "zeros")
    assert contains_reference(e, np.linalg.norm(m, 2))


def test_from_module_reads_torch_conv_attributes(rng):
    class Param:  # stands in for a torch Parameter that requires grad
        def __init__(self, a):
            self.a = a

        def detach(self):
            return self.a

    class FakeConv2d:
        weight = Param(rng.standard_normal((2, 2, 3, 3)))
        stride = (1, 1)
        padding = (1, 1)
        padding_mode = "circular"
        dilation = (1, 1)
        groups = 1

    m = FakeConv2d()
    e = lipcert.conv.from_module(m, input_shape=(1, 2, 6, 6))
    ref = lipcert.conv(m.weight.a, input_shape=(6, 6), padding=1, padding_mode="circular")
    assert (e.lower, e.upper) == (ref.lower, ref.upper)


def test_reshaped_function(rng):
    k = rng.standard_normal((4, 3, 3, 3))
    e = lipcert.reshaped(k)
    assert contains_reference(e, np.linalg.norm(k.reshape(4, -1), 2))
