"""Array-likes in, exact NumPy arrays out (no framework is imported).

``as_array(obj)`` returns ``(ndarray, bits)`` where ``ndarray`` has a native
byte order and a dtype the Rust core reads exactly (float64, float32,
float16, or ``uint16`` bit patterns with ``bits == "bfloat16"``). Nothing is
copied for NumPy float arrays in any memory order; the core reads them
through their strides.
"""

from __future__ import annotations

import sys
from typing import Any, Optional, Tuple

import numpy as np

from ._lipcert import LipcertError

_FLOAT_KINDS = {("f", 2), ("f", 4), ("f", 8)}


def _is_bfloat16(dtype: np.dtype) -> bool:
    # ml_dtypes' bfloat16 (what JAX, TensorFlow and ml_dtypes users hold).
    return dtype.itemsize == 2 and dtype.name == "bfloat16"


def _torch_bfloat16_bits(obj: Any) -> Optional[np.ndarray]:
    """A CPU torch.bfloat16 tensor as its uint16 bit patterns, or None.

    NumPy has no bfloat16, so ``__array__`` and ``np.from_dlpack`` refuse
    these tensors; a bit-preserving ``view`` as int16 is exact. torch is
    only used when the caller already imported it (it is in sys.modules)."""
    torch = sys.modules.get("torch")
    if torch is None or str(getattr(obj, "dtype", "")) != "torch.bfloat16":
        return None
    t = obj.detach() if hasattr(obj, "detach") else obj
    return np.asarray(t.view(torch.int16)).view(np.uint16)


def _from_object(obj: Any) -> np.ndarray:
    if isinstance(obj, np.ndarray):
        return obj
    errors = []
    # A tensor that requires grad (a torch Parameter) refuses __array__.
    if hasattr(obj, "detach") and type(obj).__module__.startswith("torch"):
        obj = obj.detach()
    if hasattr(obj, "__array__") or isinstance(obj, (list, tuple, int, float)):
        try:
            return np.asarray(obj)
        except Exception as e:  # noqa: BLE001 - reported below with the type
            errors.append(f"__array__: {e}")
    if hasattr(obj, "__dlpack__"):
        try:
            return np.from_dlpack(obj)
        except Exception as e:  # noqa: BLE001
            errors.append(f"__dlpack__: {e}")
    detail = f" ({'; '.join(errors)})" if errors else ""
    raise LipcertError(
        f"cannot read an object of type {type(obj).__module__}.{type(obj).__qualname__} "
        f"as an array: expected a NumPy array or an object with __array__ or __dlpack__{detail}"
    )


def as_array(obj: Any) -> Tuple[np.ndarray, Optional[str]]:
    """The exact ndarray behind ``obj`` and the bit reinterpretation, if any."""
    bits = _torch_bfloat16_bits(obj)
    if bits is not None:
        return bits, "bfloat16"
    a = _from_object(obj)
    dt = a.dtype
    if _is_bfloat16(dt):
        a = a.view(np.uint16)
        if not dt.isnative:
            a = a.byteswap()
        return a, "bfloat16"
    kind = dt.kind
    if (kind, dt.itemsize) in _FLOAT_KINDS:
        if not dt.isnative:
            a = a.astype(dt.newbyteorder("="))
        return a, None
    if kind in "iub":
        # Integers and booleans: exact in float64 up to 2**53 in magnitude.
        # Compared in the integer type: a float64 comparison would round
        # 2**53 + 1 down to 2**53 and let it through.
        too_big = kind != "b" and a.size and bool(
            np.any(a > 2**53) or (kind == "i" and np.any(a < -(2**53)))
        )
        if too_big:
            raise LipcertError(
                f"integer entries of dtype {dt} above 2**53 in magnitude cannot be "
                "represented exactly in float64"
            )
        return a.astype(np.float64), None
    if kind == "c":
        raise LipcertError(
            f"unsupported dtype {dt}: complex weights are not supported "
            "(lipcert reads float16, bfloat16, float32 and float64 exactly)"
        )
    raise LipcertError(
        f"unsupported dtype {dt}: lipcert reads float16, bfloat16, float32 and float64 exactly"
    )
