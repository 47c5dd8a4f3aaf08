"""lipcert: certified spectral norms and Lipschitz constants of
neural-network layers.

Every answer is an enclosure ``[lower, upper]`` guaranteed to contain the
true value for the exact numbers stored in the array, floating-point
rounding included::

    >>> import numpy as np, lipcert
    >>> e = lipcert.sigma(np.array([[3.0, 0.0], [0.0, 4.0]]))
    >>> 4.0 in e
    True

The GIL is released while a result is computed, so threads can certify
several layers in parallel. Bad input raises :class:`LipcertError` (a
``ValueError``) with the command line's one-line message; a refused
certificate raises :class:`NoCertificateError`. ``lipcert.testing`` has
assertions for other projects' test suites.
"""

from ._lipcert import (
    ConvEnclosure,
    Enclosure,
    InternalError,
    LipcertError,
    NoCertificateError,
    METHODS,
)
from ._api import (
    DEFAULT_SEED,
    CheckResult,
    LayerRow,
    NetworkReport,
    Norms,
    certify,
    check,
    conv,
    normalize,
    norms,
    reshaped,
    sigma,
)
from . import testing

__all__ = [
    "ConvEnclosure",
    "Enclosure",
    "InternalError",
    "LipcertError",
    "NoCertificateError",
    "METHODS",
    "DEFAULT_SEED",
    "CheckResult",
    "LayerRow",
    "NetworkReport",
    "Norms",
    "certify",
    "check",
    "conv",
    "normalize",
    "norms",
    "reshaped",
    "sigma",
    "testing",
]

__version__ = "0.1.0"
