"""The public functions: array-likes and keywords in, frozen results out.

Every function releases the GIL while the Rust core computes, so threads
can certify different layers in parallel.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from . import _lipcert
from ._arrays import as_array
from ._lipcert import ConvEnclosure, Enclosure, LipcertError

DEFAULT_SEED: int = _lipcert.DEFAULT_SEED

IntPair = Union[int, Sequence[int]]


def sigma(
    w: Any,
    *,
    method: str = "auto",
    rel_width: float = 1e-9,
    failure_probability: Optional[float] = None,
    seed: int = DEFAULT_SEED,
) -> Enclosure:
    """Certified enclosure of the spectral norm σ(W) of a 2-D array.

    ``w`` is a NumPy array (float16, bfloat16, float32, float64, or integers
    up to 2**53; any memory order) or anything with ``__array__`` or
    ``__dlpack__`` (CPU PyTorch tensors, JAX arrays, TF tensors). The
    enclosure is about the exact stored values. ``failure_probability=δ``
    allows a faster upper bound that fails with probability at most δ.

    >>> import numpy as np, lipcert
    >>> e = lipcert.sigma(np.diag([3.0, 4.0]))
    >>> 4.0 in e and e.guarantee == "rigorous"
    True
    """
    a, bits = as_array(w)
    return _lipcert.sigma(a, bits, method, float(rel_width), failure_probability, int(seed))


class Norms(NamedTuple):
    """Certified ℓ1 → ℓ1, ℓ2 → ℓ2 and ℓ∞ → ℓ∞ operator norms."""

    l1: Enclosure
    """Max absolute column sum."""
    l2: Enclosure
    """The spectral norm σ."""
    linf: Enclosure
    """Max absolute row sum."""


def norms(
    w: Any,
    *,
    method: str = "auto",
    rel_width: float = 1e-9,
    failure_probability: Optional[float] = None,
    seed: int = DEFAULT_SEED,
) -> Norms:
    """Certified ℓ1, ℓ2 (σ) and ℓ∞ operator norms of a 2-D array."""
    a, bits = as_array(w)
    return Norms(
        *_lipcert.norms(a, bits, method, float(rel_width), failure_probability, int(seed))
    )


def normalize(w: Any, **sigma_options: Any) -> Tuple[np.ndarray, Enclosure]:
    """``W / σ̂`` in W's dtype, and the certified σ of the values returned.

    σ̂ is the estimate of :func:`sigma`. The quotient is rounded to the
    input's dtype; the enclosure is of the returned array itself (rounding to
    float32/float16/bfloat16 moves σ away from 1 by about u·√rank)."""
    a, bits = as_array(w)
    e = _lipcert.sigma(a, bits, *_sigma_args(sigma_options))
    if e.upper == 0.0:
        raise LipcertError("cannot spectrally normalize a zero matrix (sigma = 0)")
    quotient = _widened(a, bits) / e.estimate
    if bits == "bfloat16":
        try:
            import ml_dtypes
        except ImportError as err:
            raise LipcertError(
                "normalizing a bfloat16 array needs the ml_dtypes package to hold the result"
            ) from err
        out = quotient.astype(ml_dtypes.bfloat16)
    else:
        out = quotient.astype(a.dtype)
    return out, sigma(out, **sigma_options)


def _widened(a: np.ndarray, bits: Optional[str]) -> np.ndarray:
    """The exact float64 values of ``a`` (bfloat16 bit patterns widened)."""
    if bits == "bfloat16":
        return (a.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return a.astype(np.float64)


def _sigma_args(options: dict) -> tuple:
    unknown = set(options) - {"method", "rel_width", "failure_probability", "seed"}
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    return (
        options.get("method", "auto"),
        float(options.get("rel_width", 1e-9)),
        options.get("failure_probability"),
        int(options.get("seed", DEFAULT_SEED)),
    )


@dataclass(frozen=True)
class CheckResult:
    """The verdict of :func:`check` (truthy when the claim is consistent)."""

    consistent: bool
    """True when ``lower·(1 − rel_tol) ≤ claimed ≤ upper·(1 + rel_tol)``."""
    claimed: float
    rel_tol: float
    relative_error: Optional[float]
    """Certified lower bound on |claimed − σ|/σ (None when σ may be 0)."""
    enclosure: Enclosure

    def __bool__(self) -> bool:
        return self.consistent


def check(w: Any, claimed: float, rel_tol: float = 1e-6, **sigma_options: Any) -> CheckResult:
    """Is a claimed σ consistent with the certified enclosure (as ``lipcert check``)?"""
    e = sigma(w, **sigma_options)
    ok, rel = _lipcert.judge(e, float(claimed), float(rel_tol))
    return CheckResult(ok, float(claimed), float(rel_tol), rel, e)


def _pair(name: str, value: IntPair) -> Tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    v = tuple(int(x) for x in value)
    if len(v) != 2:
        raise LipcertError(f"{name} {value!r}: expected an int or a pair (h, w)")
    return v  # type: ignore[return-value]


def _check_nonneg(name: str, *values: int) -> None:
    if any(v < 0 for v in values):
        raise LipcertError(f"{name} {values!r}: must be non-negative")


def _padding(
    padding: Union[int, str, Sequence[int]], kernel: Tuple[int, int], dilation: Tuple[int, int],
    stride: Tuple[int, int],
) -> Tuple[int, int, int, int]:
    """(top, left, bottom, right) from PyTorch's forms: int, (ph, pw),
    "valid", "same" (stride 1: total d·(k−1), the extra one at the end), or
    an explicit (top, left, bottom, right)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            if stride != (1, 1):
                raise LipcertError("padding='same' needs stride 1 (as in PyTorch)")
            th = dilation[0] * (kernel[0] - 1)
            tw = dilation[1] * (kernel[1] - 1)
            return (th // 2, tw // 2, th - th // 2, tw - tw // 2)
        raise LipcertError(f"padding '{padding}': expected an int, a pair, 'valid' or 'same'")
    if isinstance(padding, (int, np.integer)):
        p = int(padding)
        out = (p, p, p, p)
    else:
        v = tuple(int(x) for x in padding)
        if len(v) == 2:
            out = (v[0], v[1], v[0], v[1])
        elif len(v) == 4:
            out = v  # type: ignore[assignment]
        else:
            raise LipcertError(
                f"padding {padding!r}: expected P, (PH, PW) or (TOP, LEFT, BOTTOM, RIGHT)"
            )
    _check_nonneg("padding", *out)
    return out


def _input_hw(input_shape: Union[int, Sequence[int]], kernel_shape: Tuple[int, ...],
              groups: int, one_d: bool) -> Tuple[int, int]:
    """Spatial input size from (H, W), (C, H, W) or (N, C, H, W) (1-D: L,
    (L,), (C, L) or (N, C, L)); a given channel count must match the kernel."""
    dims = (int(input_shape),) if isinstance(input_shape, (int, np.integer)) else tuple(
        int(x) for x in input_shape
    )
    spatial = 1 if one_d else 2
    if len(dims) not in (spatial, spatial + 1, spatial + 2):
        want = "L, (C, L) or (N, C, L)" if one_d else "(H, W), (C, H, W) or (N, C, H, W)"
        raise LipcertError(f"input_shape {input_shape!r}: expected {want}")
    if len(dims) > spatial:
        c = dims[-spatial - 1]
        expected = kernel_shape[1] * groups
        if c != expected:
            raise LipcertError(
                f"input_shape {input_shape!r} has {c} channels but the kernel "
                f"{list(kernel_shape)} with groups={groups} expects {expected}"
            )
    hw = dims[-spatial:]
    _check_nonneg("input_shape", *hw)
    return (1, hw[0]) if one_d else (hw[0], hw[1])


def _conv_args(kernel: Any, input_shape: Any, stride: IntPair, padding: Any,
               padding_mode: str, dilation: IntPair, groups: int) -> tuple:
    a, bits = as_array(kernel)
    if a.ndim == 3:
        # A 1-D convolution: the 2-D geometry with H = 1, kh = 1.
        a4 = a[:, :, None, :]
        s = (1, _single("stride", stride))
        d = (1, _single("dilation", dilation))
        if isinstance(padding, str):
            p = _padding(padding, (1, a.shape[2]), d, s)
        else:
            p1 = _single_or_pair("padding", padding)
            p = (0, p1[0], 0, p1[1])
        hw = _input_hw(input_shape, a.shape, groups, one_d=True)
    elif a.ndim == 4:
        a4 = a
        s = _pair("stride", stride)
        d = _pair("dilation", dilation)
        p = _padding(padding, (a.shape[2], a.shape[3]), d, s)
        hw = _input_hw(input_shape, a.shape, groups, one_d=False)
    else:
        raise LipcertError(
            "a convolution kernel must be 4-D [C_out, C_in/groups, kh, kw] or 3-D "
            f"[C_out, C_in/groups, k], not {a.ndim}-D (shape {list(a.shape)})"
        )
    _check_nonneg("stride", *s)
    _check_nonneg("dilation", *d)
    if int(groups) < 1:
        raise LipcertError(f"groups {groups}: must be at least 1")
    return (a4, bits, hw, s, p, str(padding_mode), d, int(groups))


def _single(name: str, value: IntPair) -> int:
    if isinstance(value, (int, np.integer)):
        return int(value)
    v = tuple(int(x) for x in value)
    if len(v) != 1:
        raise LipcertError(f"{name} {value!r}: a 1-D convolution takes one int")
    return v[0]


def _single_or_pair(name: str, value: IntPair) -> Tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        p = int(value)
        _check_nonneg(name, p)
        return (p, p)
    v = tuple(int(x) for x in value)
    if len(v) == 1:
        v = (v[0], v[0])
    if len(v) != 2:
        raise LipcertError(f"{name} {value!r}: expected P or (LEFT, RIGHT)")
    _check_nonneg(name, *v)
    return v  # type: ignore[return-value]


class _Conv:
    """``lipcert.conv(kernel, *, input_shape, ...)``; see ``__call__``."""

    def __call__(
        self,
        kernel: Any,
        *,
        input_shape: Union[int, Sequence[int]],
        stride: IntPair = 1,
        padding: Union[int, str, Sequence[int]] = 0,
        padding_mode: str = "zeros",
        dilation: IntPair = 1,
        groups: int = 1,
    ) -> ConvEnclosure:
        """Certified spectral norm of a convolution layer (its ℓ2 Lipschitz
        constant, bias ignored), PyTorch conventions.

        ``kernel``: ``[C_out, C_in/groups, kh, kw]`` (Conv2d) or
        ``[C_out, C_in/groups, k]`` (Conv1d). ``input_shape``: ``(H, W)``,
        ``(C, H, W)`` or ``(N, C, H, W)`` (1-D: ``L``, ``(C, L)``, ...).
        ``padding``: int, ``(ph, pw)``, ``(top, left, bottom, right)``,
        ``"valid"`` or ``"same"``. ``padding_mode``: ``"zeros"``,
        ``"circular"``, ``"reflect"`` or ``"replicate"``.

        The result's ``reshaped`` is the enclosure of the reshaped-kernel norm
        ‖R‖ that framework ``spectral_norm`` normalizes — reported beside the
        true norm, never instead of it.
        """
        return _lipcert.conv(
            *_conv_args(kernel, input_shape, stride, padding, padding_mode, dilation, groups)
        )

    @staticmethod
    def from_module(module: Any, input_shape: Union[int, Sequence[int]]) -> ConvEnclosure:
        """The layer norm of a ``torch.nn.Conv1d``/``Conv2d``-like object
        (reads ``weight``, ``stride``, ``padding``, ``padding_mode``,
        ``dilation``, ``groups``; torch itself is not imported)."""
        weight = module.weight
        if hasattr(weight, "detach"):
            weight = weight.detach()
        padding = module.padding
        return conv(
            weight,
            input_shape=input_shape,
            stride=tuple(module.stride),
            padding=padding if isinstance(padding, str) else tuple(padding),
            padding_mode=getattr(module, "padding_mode", "zeros"),
            dilation=tuple(module.dilation),
            groups=int(getattr(module, "groups", 1)),
        )

    def __repr__(self) -> str:
        return "<function lipcert.conv>"


conv = _Conv()
conv.__doc__ = _Conv.__call__.__doc__


def reshaped(kernel: Any) -> Enclosure:
    """Certified ‖R‖₂ of the kernel reshaped to ``C_out × (C_in/groups·kh·kw)``
    (what PyTorch/TF ``spectral_norm`` normalizes; not the layer's norm)."""
    a, bits = as_array(kernel)
    if a.ndim == 3:
        a = a[:, :, None, :]
    return _lipcert.reshaped(a, bits)


@dataclass(frozen=True)
class LayerRow:
    """One row of a network report."""

    index: int
    type: str
    shape_in: Tuple[int, ...]
    shape_out: Tuple[int, ...]
    lower: float
    upper: float
    guarantee: str
    seconds: float
    certificate: str
    joint_upper_with_next: Optional[float] = None
    #: ``(layers, upper)``: a certified bound on this layer composed with the
    #: next ``layers - 1`` ones, through an overlapping max pool.
    joint_upper_group: Optional[Tuple[int, float]] = None


@dataclass(frozen=True)
class NetworkReport:
    """Certified Lipschitz bounds of a network (``lipcert certify``)."""

    upper: float
    """Certified upper bound on Lip(f), ℓ2 → ℓ2."""
    lower: float
    """Best certified lower bound found (0.0 when the search was off)."""
    ratio: Optional[float]
    """upper/lower rounded upward (None when lower is 0)."""
    guarantee: str
    failure_probability: float
    seconds: float
    layers: List[LayerRow]
    _json: str
    _text: str

    def to_json(self) -> str:
        """The report as the CLI's ``--json`` object."""
        return self._json

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        digits = _lipcert.certified_digits(self.lower, self.upper)
        return (
            f"NetworkReport(Lip ∈ {digits}, {self.guarantee}, "
            f"{len(self.layers)} layers, ratio={self.ratio})"
        )


def certify(
    path: Union[str, "os.PathLike[str]"],
    *,
    lower: bool = True,
    lower_budget: Optional[float] = None,
    lower_seed: Optional[int] = None,
    lower_passes: Optional[int] = None,
) -> NetworkReport:
    """Certified Lipschitz constant of a network file (a JSON spec, or what
    the installed library's ``certify`` accepts), with the per-layer table.
    ``lower=False`` skips the search for a lower bound (faster).
    The lower-bound search is bounded by work, in network passes: by
    default about 5*10^9 multiply-adds' worth (20 to 200 000 passes; a few
    seconds on small networks), or ``lower_passes`` (the CLI's
    ``--lower-passes``), so its result does not depend on the machine's speed
    or load; ``lower_budget`` (seconds) bounds it by time instead (the CLI's
    ``--lower-budget``; not together with ``lower_passes``).
    ``lower_seed`` starts it from other random points (``--lower-seed``)."""
    import json  # only needed here; keeps `import lipcert` light

    budget = None if lower_budget is None else float(lower_budget)
    seed = None if lower_seed is None else int(lower_seed)
    if seed is not None and not 0 <= seed < 2**64:
        raise LipcertError(f"lower_seed: {seed} is not an integer in [0, 2^64)")
    passes = None if lower_passes is None else int(lower_passes)
    if passes is not None and not 0 <= passes < 2**64:
        raise LipcertError(f"lower_passes: {passes} is not an integer in [0, 2^64)")
    if passes is not None and budget is not None:
        raise LipcertError("lower_passes and lower_budget bound the same search: give one")
    text_json, text = _lipcert.certify(os.fspath(path), bool(lower), budget, seed, passes)
    d = json.loads(text_json)
    rows = [
        LayerRow(
            index=r["index"],
            type=r["type"],
            shape_in=tuple(r["shape_in"]),
            shape_out=tuple(r["shape_out"]),
            lower=r["lower"],
            upper=r["upper"],
            guarantee=r["guarantee"],
            seconds=r["seconds"],
            certificate=r["certificate"],
            joint_upper_with_next=r.get("joint_upper_with_next"),
            joint_upper_group=(
                (r["joint_upper_group"]["layers"], r["joint_upper_group"]["upper"])
                if r.get("joint_upper_group")
                else None
            ),
        )
        for r in d["layers"]
    ]
    return NetworkReport(
        upper=d["upper"],
        lower=d["lower"],
        ratio=d.get("ratio"),
        guarantee=d["guarantee"],
        failure_probability=d["failure_probability"],
        seconds=d["seconds"],
        layers=rows,
        _json=text_json,
        _text=text,
    )
