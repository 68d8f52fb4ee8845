"""Bounded time-indexed history buffers (times + a row of values per sample) in numba.

State of one buffer: ``tb`` (cap,) times, ``vb`` (cap, width) values and ``meta`` int64
``[n, first_index]`` (samples held, absolute index of ``tb[0]``). When a block does not fit,
the newest ``keep`` samples are moved to the front once (amortised O(block)); a block
longer than the buffer keeps only its tail. Same behaviour as the former numpy
``Timeline.append`` (see :class:`imustream.dsp.timeline.Timeline`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

M_N = 0
M_FIRST = 1


@njit(cache=True, nogil=True)
def reserve(tb: np.ndarray, vb: np.ndarray, meta: np.ndarray, keep: int, k: int) -> int:
    """Make room for ``k`` new samples; return the buffer row where they start.

    The caller writes the samples ``skip = max(0, k - cap)`` onwards of its block from that
    row and then calls :func:`commit` (a block longer than the buffer keeps its tail only).
    """
    cap = tb.shape[0]
    n = meta[M_N]
    if k > cap:
        meta[M_FIRST] += n + k - cap
        meta[M_N] = 0
        return 0
    if n + k > cap:
        drop = n + k - keep if n + k > keep else 0
        if drop > n:
            drop = n
        rest = n - drop
        width = vb.shape[1]
        for i in range(rest):
            tb[i] = tb[drop + i]
            for c in range(width):
                vb[i, c] = vb[drop + i, c]
        meta[M_FIRST] += drop
        meta[M_N] = rest
        return rest
    return n


@njit(cache=True, nogil=True)
def commit(tb: np.ndarray, meta: np.ndarray, k: int) -> None:
    """Count the ``k`` samples written after :func:`reserve` (at most the buffer size)."""
    cap = tb.shape[0]
    meta[M_N] += k if k <= cap else cap


@njit(cache=True, nogil=True)
def append(
    tb: np.ndarray, vb: np.ndarray, meta: np.ndarray, keep: int, t: np.ndarray, v: np.ndarray
) -> None:
    """Append samples ``t`` (k,) with values ``v`` (k, width)."""
    k = t.shape[0]
    start = reserve(tb, vb, meta, keep, k)
    skip = k - tb.shape[0] if k > tb.shape[0] else 0
    width = vb.shape[1]
    for i in range(skip, k):
        tb[start + i - skip] = t[i]
        for c in range(width):
            vb[start + i - skip, c] = v[i, c]
    commit(tb, meta, k)


@njit(cache=True, nogil=True)
def search(tb: np.ndarray, n: int, x: float, right: bool) -> int:
    """``numpy.searchsorted(tb[:n], x, side)`` (binary search, same result)."""
    lo = 0
    hi = n
    while lo < hi:
        mid = (lo + hi) >> 1
        if tb[mid] < x or (right and tb[mid] == x):
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def time_at(tb: np.ndarray, meta: np.ndarray, index: float) -> float:
    """Session time of absolute (fractional) sample ``index``; NaN if no longer held."""
    n = meta[M_N]
    j = index - meta[M_FIRST]
    if j < 0 or j > n - 1 or n == 0:
        return np.nan
    i = int(j)
    if i >= n - 1:
        return tb[n - 1]
    frac = j - i
    return tb[i] + frac * (tb[i + 1] - tb[i])


@njit(cache=True, nogil=True)
def window_max(tb: np.ndarray, vb: np.ndarray, meta: np.ndarray, t0: float, t1: float, col: int):
    """Largest ``vb[:, col]`` over the samples with ``t0 <= t <= t1`` (NaN if none)."""
    n = meta[M_N]
    i0 = search(tb, n, t0, False)
    i1 = search(tb, n, t1, True)
    if i1 <= i0:
        return np.nan
    best = vb[i0, col]
    for i in range(i0 + 1, i1):
        if vb[i, col] > best:
            best = vb[i, col]
    return best


@njit(cache=True, nogil=True)
def times_at(
    tb: np.ndarray, meta: np.ndarray, base: int, idx: np.ndarray, emit: np.ndarray, out: np.ndarray
) -> None:
    """``out[j] = (time_at(idx[j] + base), time_at(min(emit[j] + base, count - 1)))``."""
    last = meta[M_FIRST] + meta[M_N] - 1
    for j in range(out.shape[0]):
        out[j, 0] = time_at(tb, meta, idx[j] + base)
        out[j, 1] = time_at(tb, meta, min(emit[j] + base, last))
