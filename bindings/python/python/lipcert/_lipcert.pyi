"""Type stubs of the compiled core ``lipcert._lipcert`` (PyO3)."""

from typing import Final, List, Optional, Tuple

import numpy as np

class LipcertError(ValueError):
    """Bad input (the CLI's exit code 2); the message is the CLI's one line."""

class NoCertificateError(RuntimeError):
    """No certificate could be obtained (the CLI's exit code 4)."""

class InternalError(RuntimeError):
    """A bug in lipcert: a Rust panic caught at the boundary (exit code 3)."""

class Enclosure:
    """A certified enclosure ``lower ≤ value ≤ upper`` (frozen)."""

    @property
    def lower(self) -> float: ...
    @property
    def upper(self) -> float: ...
    @property
    def estimate(self) -> float: ...
    @property
    def guarantee(self) -> str:
        """``"rigorous"`` or ``"probabilistic"``."""
    @property
    def failure_probability(self) -> float:
        """δ of a probabilistic upper bound; 0.0 when rigorous."""
    @property
    def method(self) -> str: ...
    @property
    def certificate(self) -> str: ...
    @property
    def seconds(self) -> float:
        """Seconds spent in the Rust library (GIL released)."""
    @property
    def quantity(self) -> str: ...
    @property
    def relative_width(self) -> float:
        """(upper − lower)/upper; 0.0 for [0, 0]."""
    def __contains__(self, x: float) -> bool: ...
    def to_dict(self) -> dict: ...

class ConvEnclosure(Enclosure):
    """The operator norm of a convolution layer, with ‖R‖ beside it."""

    @property
    def reshaped(self) -> Enclosure:
        """Enclosure of the reshaped-kernel norm (what spectral_norm uses)."""
    @property
    def operator(self) -> str: ...

DEFAULT_SEED: Final[int]
METHODS: Final[List[str]]

def sigma(
    w: np.ndarray,
    bits: Optional[str],
    method: str,
    rel_width: float,
    failure_probability: Optional[float],
    seed: int,
) -> Enclosure: ...
def norms(
    w: np.ndarray,
    bits: Optional[str],
    method: str,
    rel_width: float,
    failure_probability: Optional[float],
    seed: int,
) -> Tuple[Enclosure, Enclosure, Enclosure]: ...
def conv(
    kernel_array: np.ndarray,
    bits: Optional[str],
    input: Tuple[int, int],
    stride: Tuple[int, int],
    padding: Tuple[int, int, int, int],
    padding_mode: str,
    dilation: Tuple[int, int],
    groups: int,
) -> ConvEnclosure: ...
def reshaped(kernel_array: np.ndarray, bits: Optional[str]) -> Enclosure: ...
def judge(e: Enclosure, claimed: float, rel_tol: float) -> Tuple[bool, Optional[float]]: ...
def at_most(upper: float, bound: float, rel_tol: float) -> bool: ...
def certify(
    path: str,
    lower: bool,
    lower_budget: Optional[float],
    lower_seed: Optional[int],
    lower_passes: Optional[int],
) -> Tuple[str, str]: ...
def certified_digits(lower: float, upper: float) -> str: ...
def round_down_text(x: float, sig: int) -> str: ...
def _panic_for_tests() -> None: ...
