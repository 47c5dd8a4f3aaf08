"""Assertions for other projects' test suites, in the style of
``numpy.testing``: each helper certifies the quantity and raises
``AssertionError`` with the enclosure, the claim and a certified lower bound
on the error when the claim is certainly (or, for ``at_most``, possibly)
wrong. No pytest dependency.

Example (a layer claimed to be 1-Lipschitz)::

    import lipcert.testing

    def test_spectral_norm_layer_is_1_lipschitz():
        w = layer.weight_normalized().detach().numpy()
        lipcert.testing.assert_at_most(w, 1.0, rel_tol=1e-6)
"""

from __future__ import annotations

import os
from typing import Any, Optional, Sequence, Union

from . import _lipcert
from ._api import certify, conv, sigma
from ._lipcert import Enclosure

__all__ = ["assert_spectral_norm", "assert_at_most", "assert_conv_norm", "assert_lipschitz"]


def _describe(e: Enclosure) -> str:
    return (
        f"certified {e.quantity} ∈ {_lipcert.certified_digits(e.lower, e.upper)} "
        f"= [{e.lower!r}, {e.upper!r}] ({e.guarantee}, method {e.method})"
    )


def _check_equal(e: Enclosure, expected: float, rel_tol: float, what: str, err_msg: str) -> None:
    ok, rel = _lipcert.judge(e, float(expected), float(rel_tol))
    if ok:
        return
    rel_text = "undefined (σ may be 0)" if rel is None else _lipcert.round_down_text(rel, 3)
    lines = [
        f"{what}: the expected value is outside the certified enclosure",
        f"  expected: {float(expected)!r}",
        f"  {_describe(e)}",
        f"  relative error ≥ {rel_text} > rel_tol {rel_tol:g}",
    ]
    if err_msg:
        lines.insert(0, err_msg)
    raise AssertionError("\n".join(lines))


def _check_at_most(
    e: Enclosure, bound: float, rel_tol: float, what: str, err_msg: str
) -> Optional[str]:
    """None when certainly ``value ≤ bound·(1 + rel_tol)``, else the message."""
    if _lipcert.at_most(e.upper, float(bound), float(rel_tol)):
        return None
    if e.lower > float(bound) and not _lipcert.at_most(e.lower, float(bound), float(rel_tol)):
        rel = (e.lower - float(bound)) / float(bound) if bound > 0 else float("inf")
        verdict = (
            f"  the bound is certainly exceeded: {e.quantity} ≥ {e.lower!r}, "
            f"relative excess ≥ {_lipcert.round_down_text(max(rel * (1 - 1e-15), 0.0), 3)}"
        )
    else:
        verdict = (
            "  inconclusive: the enclosure straddles the bound (ask for a narrower "
            "enclosure with rel_width, or allow rel_tol)"
        )
    lines = [
        f"{what}: cannot certify {e.quantity} ≤ {float(bound)!r} (rel_tol {rel_tol:g})",
        f"  {_describe(e)}",
        verdict,
    ]
    if err_msg:
        lines.insert(0, err_msg)
    return "\n".join(lines)


def assert_spectral_norm(
    w: Any,
    expected: float,
    *,
    rel_tol: float = 1e-6,
    err_msg: str = "",
    **sigma_options: Any,
) -> Enclosure:
    """Fails unless ``expected`` is within ``rel_tol`` of the certified σ(w)
    (``lower·(1 − rel_tol) ≤ expected ≤ upper·(1 + rel_tol)``, rounded
    outward). Returns the enclosure."""
    e = sigma(w, **sigma_options)
    _check_equal(e, expected, rel_tol, "spectral norm mismatch", err_msg)
    return e


def assert_at_most(
    w: Any,
    bound: float,
    *,
    rel_tol: float = 0.0,
    err_msg: str = "",
    **sigma_options: Any,
) -> Enclosure:
    """Fails unless σ(w) ≤ ``bound·(1 + rel_tol)`` is *certain* (the certified
    upper end is below it): for "this layer is 1-Lipschitz" tests. An
    enclosure straddling the bound fails too (retried once with a 1e-13
    relative width first)."""
    e = sigma(w, **sigma_options)
    msg = _check_at_most(e, bound, rel_tol, "spectral norm above the bound", err_msg)
    if msg is not None and e.lower <= bound and "rel_width" not in sigma_options:
        e = sigma(w, rel_width=1e-13, **sigma_options)
        msg = _check_at_most(e, bound, rel_tol, "spectral norm above the bound", err_msg)
    if msg is not None:
        raise AssertionError(msg)
    return e


def assert_conv_norm(
    kernel: Any,
    expected: Optional[float] = None,
    *,
    at_most: Optional[float] = None,
    input_shape: Union[int, Sequence[int]],
    rel_tol: float = 1e-6,
    err_msg: str = "",
    **geometry: Any,
) -> Enclosure:
    """The certified operator norm of a convolution layer (keywords of
    :func:`lipcert.conv`) equals ``expected`` within ``rel_tol``, or is
    certainly at most ``at_most·(1 + rel_tol)``. This is the layer's true
    Lipschitz constant, not the reshaped-kernel norm ``spectral_norm`` uses."""
    if (expected is None) == (at_most is None):
        raise TypeError("give exactly one of expected and at_most")
    e = conv(kernel, input_shape=input_shape, **geometry)
    if expected is not None:
        _check_equal(e, expected, rel_tol, "convolution norm mismatch", err_msg)
    else:
        msg = _check_at_most(e, at_most, rel_tol, "convolution norm above the bound", err_msg)
        if msg is not None:
            r = e.reshaped
            raise AssertionError(
                msg
                + f"\n  (reshaped-kernel norm ‖R‖ ∈ {_lipcert.certified_digits(r.lower, r.upper)},"
                " what spectral_norm normalizes)"
            )
    return e


def assert_lipschitz(
    path: Union[str, "os.PathLike[str]"], at_most: float, *, rel_tol: float = 0.0,
    err_msg: str = ""
) -> Any:
    """Fails unless the certified Lipschitz upper bound of the network file
    is at most ``at_most·(1 + rel_tol)``. On failure the lower-bound search
    runs to tell a certain violation from a loose bound. Returns the report."""
    report = certify(path, lower=False)
    if _lipcert.at_most(report.upper, float(at_most), float(rel_tol)):
        return report
    full = certify(path, lower=True)
    upper = min(report.upper, full.upper)
    if full.lower > float(at_most) and not _lipcert.at_most(
        full.lower, float(at_most), float(rel_tol)
    ):
        verdict = f"  the bound is certainly exceeded: Lip ≥ {full.lower!r} (certified lower bound)"
    else:
        verdict = (
            f"  inconclusive: certified Lip ∈ [{full.lower!r}, {upper!r}]; the upper bound "
            "may be loose (ratio upper/lower = "
            f"{full.ratio if full.ratio is not None else 'undefined'})"
        )
    lines = [
        f"Lipschitz bound not certified: {os.fspath(path)}: upper bound {upper!r} > "
        f"{float(at_most)!r} (rel_tol {rel_tol:g})",
        verdict,
    ]
    if err_msg:
        lines.insert(0, err_msg)
    raise AssertionError("\n".join(lines))
