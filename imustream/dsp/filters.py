"""Causal Butterworth filtering of multichannel streams with carried state."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.signal import butter

from .kernels.filters import sos_filter

__all__ = ["StreamingFilter", "butter_sos"]


def butter_sos(
    order: int, cutoff_hz: float | tuple[float, float], fs: float, btype: str = "low"
) -> np.ndarray:
    """Butterworth design as second-order sections (``scipy.signal.butter``, ``output="sos"``).

    Raises ``ValueError`` naming the argument when the cut-off is not inside (0, fs/2).
    """
    if not fs > 0:
        raise ValueError(f"fs must be > 0, got {fs!r}")
    cuts = np.atleast_1d(np.asarray(cutoff_hz, dtype=float))
    if np.any(cuts <= 0) or np.any(cuts >= fs / 2):
        raise ValueError(f"cutoff_hz {cutoff_hz!r} must lie in (0, fs/2 = {fs / 2:g}) Hz")
    if order < 1:
        raise ValueError(f"order must be >= 1, got {order!r}")
    return np.ascontiguousarray(butter(order, cutoff_hz, btype=btype, fs=fs, output="sos"))


class StreamingFilter:
    """A second-order-section filter over ``n_channels`` channels that keeps its state.

    Feeding a signal in chunks of any size gives exactly (bit for bit) the result of
    ``scipy.signal.sosfilt`` over the whole signal.

    Parameters
    ----------
    sos : ndarray, shape (n_sections, 6)
        Normalised second-order sections (e.g. from :func:`butter_sos`).
    n_channels : int
        Number of columns of the blocks passed to :meth:`process`.
    """

    def __init__(self, sos: np.ndarray, n_channels: int) -> None:
        sos = np.ascontiguousarray(sos, dtype=np.float64)
        if sos.ndim != 2 or sos.shape[1] != 6 or sos.shape[0] < 1:
            raise ValueError(f"sos must have shape (n_sections, 6), got {sos.shape}")
        if not np.allclose(sos[:, 3], 1.0):
            raise ValueError("sos sections must be normalised (a0 == 1)")
        if n_channels < 1:
            raise ValueError(f"n_channels must be >= 1, got {n_channels!r}")
        self.sos = sos
        self.n_channels = int(n_channels)
        self.zi = np.zeros((self.n_channels, sos.shape[0], 2))

    def reset(self) -> None:
        """Forget the filter state (as if no sample had been seen)."""
        self.zi[:] = 0.0

    def process(self, x: ArrayLike) -> np.ndarray:
        """Filter a block ``x`` of shape (n, n_channels) (or (n,) for one channel)."""
        arr = np.asarray(x, dtype=np.float64)
        one_d = arr.ndim == 1
        if one_d:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[1] != self.n_channels:
            raise ValueError(f"block must have shape (n, {self.n_channels}), got {np.shape(x)}")
        arr = np.ascontiguousarray(arr)
        out = np.empty_like(arr)
        sos_filter(self.sos, self.zi, arr, out)
        return out[:, 0] if one_d else out
