"""Bad input raises LipcertError (a ValueError) with the CLI's one-line message."""

import numpy as np
import pytest

import lipcert


@pytest.mark.parametrize(
    "w, message",
    [
        (np.array([[1.0, np.nan], [0.0, 1.0]]),
         "1 non-finite entry (NaN/Inf); the first is NaN at row 0, column 1"),
        (np.array([[1.0, 2.0], [np.inf, -np.inf]], dtype=np.float32),
         "2 non-finite entries (NaN/Inf); the first is inf at row 1, column 0"),
        (np.zeros((0, 3)),
         "empty matrix (0x3): a weight matrix needs at least one row and one column"),
        (np.ones(4), "expected a 2-D array (a weight matrix), got a 1-D array of shape [4]"),
        (np.ones((2, 2, 2)), "expected a 2-D array (a weight matrix), got a 3-D array"),
        (np.array([[1.0, "x"]], dtype=object), "unsupported dtype object"),
        (np.ones((2, 2), dtype=np.complex128), "complex weights are not supported"),
        (np.ones((2, 2), dtype=np.longdouble) if np.dtype(np.longdouble).itemsize > 8
         else np.array([["a"]]), "unsupported dtype"),
        ("not an array", "cannot read an object of type builtins.str as an array"),
        (object(), "cannot read an object of type builtins.object as an array"),
    ],
)
def test_bad_input_raises_value_error_with_the_message(w, message):
    with pytest.raises(ValueError) as info:
        lipcert.sigma(w)
    assert isinstance(info.value, lipcert.LipcertError)
    text = str(info.value)
    assert message in text, text
    assert "\n" not in text


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"method": "qr"}, "unknown method 'qr' (expected one of: auto, svd"),
        ({"rel_width": 0.0}, "invalid option: relative width 0 must be in (0, 1)"),
        ({"failure_probability": 2.0}, "failure probability 2 must be in (0, 1)"),
        ({"method": "svd", "failure_probability": 0.1},
         "a failure probability is supported by methods auto and lanczos, not 'svd'"),
    ],
)
def test_bad_options(kwargs, message):
    with pytest.raises(lipcert.LipcertError) as info:
        lipcert.sigma(np.eye(3), **kwargs)
    assert message in str(info.value)


def test_byte_swapped_arrays_are_read_correctly():
    a = np.array([[3.0, 0.0], [0.0, 4.0]], dtype=">f8")
    assert 4.0 in lipcert.sigma(a)
    assert 4.0 in lipcert.sigma(a.astype(">f4"))


def test_exception_hierarchy():
    assert issubclass(lipcert.LipcertError, ValueError)
    assert issubclass(lipcert.NoCertificateError, RuntimeError)
    assert not issubclass(lipcert.NoCertificateError, ValueError)
    assert lipcert.LipcertError.__module__ == "lipcert"


def test_overflowing_sigma_is_bad_input_not_a_number():
    with pytest.raises(lipcert.LipcertError, match="exceeds the f64 range"):
        lipcert.sigma(np.full((4, 4), 1e308))


def test_conv_errors_name_the_problem():
    k = np.ones((2, 3, 3, 3))
    with pytest.raises(lipcert.LipcertError, match="4-D"):
        lipcert.conv(np.ones((2, 3)), input_shape=(8, 8))
    with pytest.raises(lipcert.LipcertError, match="padding mode 'mirror'"):
        lipcert.conv(k, input_shape=(8, 8), padding_mode="mirror")
    with pytest.raises(lipcert.LipcertError, match="has 4 channels"):
        lipcert.conv(k, input_shape=(4, 8, 8))
    with pytest.raises(lipcert.LipcertError, match="input_shape"):
        lipcert.conv(k, input_shape=(1, 2, 3, 8, 8))
    with pytest.raises(lipcert.LipcertError):
        lipcert.conv(k, input_shape=(2, 2))  # kernel larger than the input
    with pytest.raises(lipcert.LipcertError, match="non-finite"):
        lipcert.conv(np.full((1, 1, 2, 2), np.nan), input_shape=(4, 4))
    with pytest.raises(lipcert.LipcertError, match="groups"):
        lipcert.conv(k, input_shape=(8, 8), groups=0)


def test_certify_reports_a_missing_file():
    with pytest.raises(lipcert.LipcertError, match="no-such-spec.json"):
        lipcert.certify("no-such-spec.json")


def test_a_rust_panic_becomes_internal_error_not_a_crash():
    with pytest.raises(lipcert.InternalError, match="bug in lipcert.*deliberate panic"):
        lipcert._lipcert._panic_for_tests()
    # The interpreter and the module still work afterwards.
    assert 4.0 in lipcert.sigma(np.diag([3.0, 4.0]))
