"""Min/max (peak) decimation of a trace to screen width before drawing."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["minmax_decimate"]


def minmax_decimate(
    x: NDArray[np.float64], y: NDArray[np.float64], n_bins: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Keep the minimum and maximum of ``y`` in consecutive bins of equal sample count.

    Parameters
    ----------
    x, y : ndarray, shape (n,)
        Sample positions (increasing) and values (finite).
    n_bins : int
        Wanted number of bins, typically the plot width in pixels.

    Returns
    -------
    xd, yd : ndarray
        At most ``2 * n_bins + 2`` points: per bin of ``ceil(n / n_bins)`` samples, its
        minimum and maximum, in time order, at their own ``x``. So every peak of the
        signal is drawn. When ``n <= 2 * n_bins`` the input is returned unchanged.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D of equal length, got {x.shape} and {y.shape}")
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    n = y.shape[0]
    if n <= 2 * n_bins:
        return x, y
    per_bin = -(-n // n_bins)
    n_full = (n // per_bin) * per_bin
    blocks = y[:n_full].reshape(-1, per_bin)
    base = np.arange(blocks.shape[0], dtype=np.int64) * per_bin
    i_min = base + blocks.argmin(axis=1)
    i_max = base + blocks.argmax(axis=1)
    if n_full < n:  # the shorter last bin
        tail = y[n_full:]
        i_min = np.append(i_min, n_full + int(tail.argmin()))
        i_max = np.append(i_max, n_full + int(tail.argmax()))
    idx = np.empty(2 * i_min.shape[0], dtype=np.int64)
    idx[0::2] = np.minimum(i_min, i_max)
    idx[1::2] = np.maximum(i_min, i_max)
    return x[idx], y[idx]
