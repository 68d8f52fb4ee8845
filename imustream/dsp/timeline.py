"""A bounded, time-indexed history of one sensor's per-sample values."""

from __future__ import annotations

import numpy as np

from .kernels import timeline as _k

__all__ = ["Timeline"]


class Timeline:
    """Keeps the last ``keep_s`` seconds of samples (times + a row of values each).

    Appending is amortised O(block): when the buffer is full the newest ``keep_s`` seconds
    are moved to the front once (no per-read copies, no ``np.roll``). Samples are counted
    from the first one ever appended, so a detector's sample index maps to a time. The
    buffers (``tb``, ``vb``, ``meta``) are also written directly by the Pipeline's per-block
    kernels (:mod:`imustream.dsp.kernels.timeline`).

    Parameters
    ----------
    fs : float
        Nominal sampling rate (sizes the buffer).
    width : int
        Values per sample.
    keep_s : float
        Seconds of history that must stay available.
    """

    def __init__(self, fs: float, width: int, keep_s: float = 20.0) -> None:
        self.keep = max(int(np.ceil(keep_s * fs)), 16)
        cap = 2 * self.keep
        self.tb = np.empty(cap)
        self.vb = np.empty((cap, width))
        self.meta = np.zeros(2, dtype=np.int64)  # [samples held, absolute index of tb[0]]

    @property
    def first_index(self) -> int:
        """Absolute sample index of the oldest sample held."""
        return int(self.meta[_k.M_FIRST])

    @property
    def count(self) -> int:
        """Samples appended since construction."""
        return int(self.meta[_k.M_FIRST] + self.meta[_k.M_N])

    @property
    def last_time(self) -> float:
        """Time of the newest sample (-inf when empty)."""
        n = self.meta[_k.M_N]
        return float(self.tb[n - 1]) if n else -np.inf

    def append(self, t: np.ndarray, values: np.ndarray) -> None:
        """Append samples ``t`` (k,) with ``values`` (k, width)."""
        _k.append(self.tb, self.vb, self.meta, self.keep, t, values)

    def window(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Views of the samples with ``t0 <= t <= t1`` (times, values)."""
        t = self.tb[: self.meta[_k.M_N]]
        i0 = int(t.searchsorted(t0, side="left"))
        i1 = int(t.searchsorted(t1, side="right"))
        return t[i0:i1], self.vb[i0:i1]

    def time_at(self, index: float) -> float:
        """Session time of absolute (fractional) sample ``index``; NaN if no longer kept."""
        n = int(self.meta[_k.M_N])
        j = index - int(self.meta[_k.M_FIRST])
        if j < 0 or j > n - 1 or n == 0:
            return float("nan")
        i = int(j)
        if i >= n - 1:
            return float(self.tb[n - 1])
        frac = j - i
        return float(self.tb[i] + frac * (self.tb[i + 1] - self.tb[i]))
