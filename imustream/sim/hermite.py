"""Piecewise quintic polynomials: C2 trajectories through knots with given value, rate, curvature.

Every smooth trajectory of the virtual runner (foot angles, heel position, heading, speed) is one
of these, so it can be evaluated at any time, in any chunking, with exact first and second
derivatives (the gyroscope and accelerometer are derived from them, never by finite differences).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

__all__ = ["PiecewiseQuintic", "quintic_coeffs", "smoothstep"]


def quintic_coeffs(
    h: FloatArray,
    y0: FloatArray,
    v0: FloatArray,
    a0: FloatArray,
    y1: FloatArray,
    v1: FloatArray,
    a1: FloatArray,
) -> FloatArray:
    """Coefficients c0..c5 (last axis) of the quintic in ``tau = (t - t0) / h`` matching value,
    first and second time derivative at both ends of an interval of length ``h``.

    Inputs broadcast: ``h`` has shape (n,), the others (n,) or (n, d); result (n, 6[, d]).
    """
    h = np.asarray(h, dtype=float)
    hh = h.reshape(h.shape + (1,) * (np.ndim(y0) - 1))
    v0s, v1s = v0 * hh, v1 * hh
    a0s, a1s = a0 * hh * hh, a1 * hh * hh
    dy = y1 - y0
    c3 = 10 * dy - 6 * v0s - 4 * v1s - (3 * a0s - a1s) / 2
    c4 = -15 * dy + 8 * v0s + 7 * v1s + (3 * a0s - 2 * a1s) / 2
    c5 = 6 * dy - 3 * v0s - 3 * v1s - (a0s - a1s) / 2
    return np.stack([y0 + 0 * dy, v0s + 0 * dy, a0s / 2 + 0 * dy, c3, c4, c5], axis=1)


class PiecewiseQuintic:
    """A piecewise polynomial (degree <= 5 per piece) in normalised local time.

    Parameters
    ----------
    breaks : ndarray, shape (n + 1,)
        Increasing piece boundaries in s. Times before the first break use the first piece,
        times after the last break use the last piece (extrapolation).
    coeffs : ndarray, shape (n, 6) or (n, 6, d)
        Coefficients c0..c5 of each piece in ``tau = (t - breaks[i]) / (breaks[i+1] - breaks[i])``.
    """

    def __init__(self, breaks: FloatArray, coeffs: FloatArray) -> None:
        self.breaks = np.asarray(breaks, dtype=float)
        self.coeffs = np.asarray(coeffs, dtype=float)
        if self.breaks.ndim != 1 or self.breaks.size != self.coeffs.shape[0] + 1:
            raise ValueError("PiecewiseQuintic: need len(breaks) == len(coeffs) + 1")
        if self.coeffs.shape[1] != 6:
            raise ValueError("PiecewiseQuintic: coeffs must have 6 per piece")
        h = np.diff(self.breaks)
        if np.any(h <= 0):
            i = int(np.argmax(h <= 0))
            raise ValueError(f"PiecewiseQuintic: breaks not increasing at index {i}")
        self.h = h

    @classmethod
    def through_knots(
        cls, t: FloatArray, y: FloatArray, v: FloatArray, a: FloatArray
    ) -> PiecewiseQuintic:
        """C2 trajectory through knots ``t`` with values ``y``, rates ``v``, curvatures ``a``."""
        t = np.asarray(t, dtype=float)
        y, v, a = (np.asarray(x, dtype=float) for x in (y, v, a))
        c = quintic_coeffs(np.diff(t), y[:-1], v[:-1], a[:-1], y[1:], v[1:], a[1:])
        return cls(t, c)

    def piece(self, t: FloatArray) -> FloatArray:
        """Index of the piece each time falls in (clamped to the valid range)."""
        i = np.searchsorted(self.breaks, t, side="right") - 1
        return np.clip(i, 0, self.h.size - 1)

    def __call__(self, t: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Value, first and second time derivative at times ``t``."""
        t = np.asarray(t, dtype=float)
        i = self.piece(t)
        h = self.h[i]
        tau = (t - self.breaks[i]) / h
        c = self.coeffs[i]
        if c.ndim == 3:
            tau = tau[:, None]
            h = h[:, None]
        c0, c1, c2, c3, c4, c5 = (c[:, k] for k in range(6))
        y = c0 + tau * (c1 + tau * (c2 + tau * (c3 + tau * (c4 + tau * c5))))
        dy = c1 + tau * (2 * c2 + tau * (3 * c3 + tau * (4 * c4 + tau * 5 * c5)))
        ddy = 2 * c2 + tau * (6 * c3 + tau * (12 * c4 + tau * 20 * c5))
        return y, dy / h, ddy / (h * h)


def smoothstep(x: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """C2 step 0 -> 1 on [0, 1] (``10x^3 - 15x^4 + 6x^5``, clamped) and its two derivatives."""
    x = np.clip(x, 0.0, 1.0)
    s = x * x * x * (10 + x * (-15 + 6 * x))
    ds = 30 * x * x * (1 - x) * (1 - x)
    dds = 60 * x * (1 - x) * (1 - 2 * x)
    return s, ds, dds
