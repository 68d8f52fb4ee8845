"""Biquad cascade (second-order sections) kernel with explicit, carried state.

The arithmetic follows scipy's ``sosfilt`` (transposed direct form II, same operation
order), so a stream filtered chunk by chunk is bit-identical to ``scipy.signal.sosfilt``
over the whole array with the same initial state.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def sos_filter(sos: np.ndarray, zi: np.ndarray, x: np.ndarray, y: np.ndarray) -> int:
    """Filter ``x`` (n, c) column-wise through the cascade ``sos`` (s, 6) into ``y`` (n, c).

    ``zi`` (c, s, 2) is the filter state, updated in place. ``sos`` rows must be normalised
    (``a0 == 1``). ``y`` may be ``x`` (in-place filtering). Returns the number of rows written.
    """
    n = x.shape[0]
    n_ch = x.shape[1]
    n_sec = sos.shape[0]
    for i in range(n):
        for c in range(n_ch):
            x_cur = x[i, c]
            for s in range(n_sec):
                x_new = sos[s, 0] * x_cur + zi[c, s, 0]
                zi[c, s, 0] = sos[s, 1] * x_cur - sos[s, 4] * x_new + zi[c, s, 1]
                zi[c, s, 1] = sos[s, 2] * x_cur - sos[s, 5] * x_new
                x_cur = x_new
            y[i, c] = x_cur
    return n


@njit(cache=True, nogil=True)
def sos_step(sos: np.ndarray, zi: np.ndarray, c: int, x: float) -> float:
    """Filter one sample ``x`` of channel ``c`` through the cascade; updates ``zi`` in place."""
    x_cur = x
    for s in range(sos.shape[0]):
        x_new = sos[s, 0] * x_cur + zi[c, s, 0]
        zi[c, s, 0] = sos[s, 1] * x_cur - sos[s, 4] * x_new + zi[c, s, 1]
        zi[c, s, 1] = sos[s, 2] * x_cur - sos[s, 5] * x_new
        x_cur = x_new
    return x_cur
