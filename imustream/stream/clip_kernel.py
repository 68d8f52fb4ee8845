"""Compiled clipping check of one block of accelerometer samples."""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["reaches_full_scale"]


@njit(cache=True, nogil=True)
def reaches_full_scale(acc: np.ndarray, limit: float) -> bool:
    """``np.abs(acc).max() >= limit``, without temporaries (False if any value is NaN).

    Parameters
    ----------
    acc : ndarray, shape (n, 3)
        Accelerometer samples (any memory layout).
    limit : float
        Magnitude that counts as clipped.
    """
    hit = False
    for i in range(acc.shape[0]):
        for j in range(acc.shape[1]):
            v = acc[i, j]
            if v != v:  # NaN: numpy's max is NaN and the comparison False
                return False
            if abs(v) >= limit:
                hit = True
    return hit
