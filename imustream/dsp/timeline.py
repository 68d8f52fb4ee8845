"""A bounded, time-indexed history of one sensor's per-sample values."""

from __future__ import annotations

import numpy as np

__all__ = ["Timeline"]


class Timeline:
    """Keeps the last ``keep_s`` seconds of samples (times + a row of values each).

    Appending is amortised O(block): when the buffer is full the newest ``keep_s`` seconds
    are moved to the front once (no per-read copies, no ``np.roll``). Samples are counted
    from the first one ever appended, so a detector's sample index maps to a time.

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
        self._t = np.empty(cap)
        self._v = np.empty((cap, width))
        self._n = 0
        self.first_index = 0  # absolute sample index of self._t[0]

    @property
    def count(self) -> int:
        """Samples appended since construction."""
        return self.first_index + self._n

    @property
    def last_time(self) -> float:
        """Time of the newest sample (-inf when empty)."""
        return float(self._t[self._n - 1]) if self._n else -np.inf

    def append(self, t: np.ndarray, values: np.ndarray) -> None:
        """Append samples ``t`` (k,) with ``values`` (k, width)."""
        k = len(t)
        cap = len(self._t)
        if k > cap:  # huge block: only its tail can be kept
            self.first_index += self._n + k - cap
            self._t[:] = t[-cap:]
            self._v[:] = values[-cap:]
            self._n = cap
            return
        if self._n + k > cap:
            drop = self._n + k - self.keep if self._n + k > self.keep else 0
            drop = min(drop, self._n)
            rest = self._n - drop
            self._t[:rest] = self._t[drop : self._n]
            self._v[:rest] = self._v[drop : self._n]
            self.first_index += drop
            self._n = rest
        self._t[self._n : self._n + k] = t
        self._v[self._n : self._n + k] = values
        self._n += k

    def window(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Views of the samples with ``t0 <= t <= t1`` (times, values)."""
        t = self._t[: self._n]
        i0 = int(t.searchsorted(t0, side="left"))
        i1 = int(t.searchsorted(t1, side="right"))
        return t[i0:i1], self._v[i0:i1]

    def time_at(self, index: float) -> float:
        """Session time of absolute (fractional) sample ``index``; NaN if no longer kept."""
        j = index - self.first_index
        if j < 0 or j > self._n - 1 or self._n == 0:
            return float("nan")
        i = int(j)
        if i >= self._n - 1:
            return float(self._t[self._n - 1])
        frac = j - i
        return float(self._t[i] + frac * (self._t[i + 1] - self._t[i]))
