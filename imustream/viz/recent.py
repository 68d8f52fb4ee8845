"""Bounded containers for what the dashboard keeps over a whole session.

:class:`RecentValues` holds the newest N numbers of a measurement (frame times, latencies) and
counts all of them; :class:`DecimatedTrend` keeps a session-long line in a fixed number of
min/max bins. Both keep memory flat however long the session runs.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray

__all__ = ["DecimatedTrend", "RecentValues"]


class RecentValues:
    """The newest ``capacity`` values appended, plus how many were ever appended.

    ``len()`` is the total count, so ``values[n0:]`` means "appended since the count was
    ``n0``" (only the retained ones); ``np.asarray(values)`` gives the retained ones in order.
    """

    def __init__(self, capacity: int = 65_536, dtype: type = np.float64) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self._buf = np.empty(int(capacity), dtype=dtype)
        self._count = 0

    @property
    def capacity(self) -> int:
        """Values retained at most."""
        return self._buf.shape[0]

    def __len__(self) -> int:
        return self._count

    def append(self, value: float) -> None:
        """Add one value (overwrites the oldest when full)."""
        self._buf[self._count % self._buf.shape[0]] = value
        self._count += 1

    def extend(self, values: Iterable[float]) -> None:
        """Add values in order."""
        for v in values:
            self.append(v)

    def values(self, since: int = 0) -> NDArray:
        """Retained values appended at or after total count ``since``, oldest first."""
        cap = self._buf.shape[0]
        start = max(int(since), self._count - cap, 0)
        idx = np.arange(start, self._count) % cap
        return self._buf[idx]

    def __getitem__(self, key: slice) -> NDArray:
        if not isinstance(key, slice) or key.step not in (None, 1) or key.stop is not None:
            raise TypeError("RecentValues supports only [n0:] (values appended since count n0)")
        return self.values(key.start or 0)

    def __array__(self, dtype=None, copy=None) -> NDArray:
        out = self.values()
        return out if dtype is None else out.astype(dtype)


class DecimatedTrend:
    """A session-long (x, y) line kept as at most ``max_bins`` min/max bins.

    Points go into bins of ``per_bin`` consecutive points (1 at first); each bin keeps its
    minimum and maximum point. When the bins are full (``max_bins`` with the one being
    filled), neighbouring bins merge and ``per_bin`` doubles. So the line drawn from
    :meth:`points` has every peak of the whole session in at most ``2 * max_bins + 1``
    points, in x order, ending at the latest point; memory is fixed. Until the first merge
    the line is every point added.
    """

    def __init__(self, max_bins: int = 750) -> None:
        if max_bins < 3:
            raise ValueError(f"max_bins must be >= 3, got {max_bins}")
        self.max_bins = int(max_bins)
        # completed bins (even: they merge in pairs), leaving room for the bin being filled
        self._cap = (self.max_bins - 1) // 2 * 2
        # columns: x of min, y of min, x of max, y of max (completed bins)
        self._bins = np.empty((self._cap, 4))
        self._n_bins = 0
        self.per_bin = 1
        self._cur: list[float] | None = None  # the bin being filled
        self._cur_n = 0
        self._last: tuple[float, float] | None = None
        self.count = 0  # points ever added

    def add(self, x: float, y: float) -> None:
        """Append a point (x increasing); NaN ``y`` is skipped."""
        if y != y:
            return
        x, y = float(x), float(y)
        self.count += 1
        self._last = (x, y)
        c = self._cur
        if c is None:
            self._cur = [x, y, x, y]
        else:
            if y < c[1]:
                c[0], c[1] = x, y
            if y > c[3]:
                c[2], c[3] = x, y
        self._cur_n += 1
        if self._cur_n == self.per_bin:
            if self._n_bins == self._cap:
                # per_bin doubles: the bin just filled is the first half of the next one
                self._merge()
                return
            self._bins[self._n_bins] = self._cur
            self._n_bins += 1
            self._cur, self._cur_n = None, 0

    def _merge(self) -> None:
        """Halve the number of bins: each pair becomes one bin of twice the points."""
        b = self._bins[: self._n_bins]
        a, c = b[0::2], b[1::2]
        m = min(len(a), len(c))
        a, c = a[:m], c[:m]
        take_min_a = a[:, 1] <= c[:, 1]
        take_max_a = a[:, 3] >= c[:, 3]
        merged = np.empty((m, 4))
        merged[:, 0:2] = np.where(take_min_a[:, None], a[:, 0:2], c[:, 0:2])
        merged[:, 2:4] = np.where(take_max_a[:, None], a[:, 2:4], c[:, 2:4])
        self._bins[:m] = merged
        self._n_bins = m
        self.per_bin *= 2

    def points(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The decimated line: per bin its min and max point in x order, then the newest."""
        rows = self._bins[: self._n_bins]
        if self._cur is not None:
            rows = np.vstack((rows, self._cur))
        lo_first = rows[:, 0] <= rows[:, 2]
        x = np.empty(2 * len(rows))
        y = np.empty(2 * len(rows))
        x[0::2] = np.where(lo_first, rows[:, 0], rows[:, 2])
        y[0::2] = np.where(lo_first, rows[:, 1], rows[:, 3])
        x[1::2] = np.where(lo_first, rows[:, 2], rows[:, 0])
        y[1::2] = np.where(lo_first, rows[:, 3], rows[:, 1])
        # a bin whose min and max are one point gives it once
        keep = np.ones(x.shape[0], dtype=bool)
        keep[1::2] = (x[1::2] != x[0::2]) | (y[1::2] != y[0::2])
        x, y = x[keep], y[keep]
        if self._last is not None and (not x.size or x[-1] != self._last[0]):
            x, y = np.append(x, self._last[0]), np.append(y, self._last[1])
        return x, y
