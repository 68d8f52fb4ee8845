"""Compiled lower-envelope line fit (the inner loop of :class:`imustream.sync.ClockMapper`)."""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["fit_sorted"]


@njit(cache=True, nogil=True)
def fit_sorted(xs: np.ndarray, ys: np.ndarray, max_slope: float) -> tuple[float, float]:
    """Line ``y = a + b x`` below every point, minimising the summed distance above it.

    Same algorithm and the same floating-point operations, in the same order, as the
    pure-Python :func:`imustream.sync.clock.lower_envelope_fit` (so the same result to the
    last bit); the points must already be sorted by (x, y) and there must be at least one.

    Parameters
    ----------
    xs, ys : ndarray of float64
        Points, sorted by x (then y).
    max_slope : float
        Bound on ``|b|``.

    Returns
    -------
    (a, b) : tuple of float
    """
    n = xs.shape[0]
    hx = np.empty(n)
    hy = np.empty(n)
    m = 0
    for i in range(n):
        px = xs[i]
        py = ys[i]
        if m > 0 and hx[m - 1] == px:  # same x, sorted by y: the lower one is kept
            continue
        while (
            m >= 2
            and (hx[m - 1] - hx[m - 2]) * (py - hy[m - 2])
            - (hy[m - 1] - hy[m - 2]) * (px - hx[m - 2])
            <= 0
        ):
            m -= 1
        hx[m] = px
        hy[m] = py
        m += 1
    total = 0.0
    for i in range(n):  # sequential, like Python's sum()
        total += xs[i]
    xm = total / n
    b = 0.0
    for i in range(m - 1):
        b = (hy[i + 1] - hy[i]) / (hx[i + 1] - hx[i])
        if hx[i + 1] >= xm:
            break
    b = max(-max_slope, min(max_slope, b))
    a = hy[0] - b * hx[0]
    for i in range(1, m):
        a = min(a, hy[i] - b * hx[i])
    return a, b
