"""Whole-session medians in fixed memory: a fine histogram per quantity.

A live session keeps only its newest steps, but its final summary should describe the whole
run. A median read from a histogram with bin width ``w`` is within ``w / 2`` of the exact
median of the same values (values outside the range are counted at the nearest edge).
"""

from __future__ import annotations

import math

import numpy as np


class HistogramMedian:
    """Running median of a bounded quantity, exact to half a bin.

    Parameters
    ----------
    lo, hi : float
        Range covered by the bins; values outside count in the first or last bin.
    width : float
        Bin width (the median is within ``width / 2`` of the exact one for values in range).
    """

    def __init__(self, lo: float, hi: float, width: float) -> None:
        if not (hi > lo and width > 0):
            raise ValueError(
                f"HistogramMedian needs hi > lo and width > 0, got {lo}, {hi}, {width}"
            )
        self.lo = float(lo)
        self.width = float(width)
        self.counts = np.zeros(math.ceil((hi - lo) / width), dtype=np.int64)
        self.n = 0

    def add(self, value: float) -> None:
        """Count ``value``; NaN and inf are ignored (not measurable)."""
        if not math.isfinite(value):
            return
        i = int((value - self.lo) // self.width)
        self.counts[min(max(i, 0), len(self.counts) - 1)] += 1
        self.n += 1

    def median(self) -> float:
        """The median (centre of the bin holding it; the mean of two bins' centres when the
        count is even and they differ), NaN when nothing was counted."""
        if self.n == 0:
            return math.nan
        cum = np.cumsum(self.counts)
        lower = int(np.searchsorted(cum, (self.n + 1) // 2))
        upper = int(np.searchsorted(cum, self.n // 2 + 1))
        centre = self.lo + self.width * (0.5 * (lower + upper) + 0.5)
        return float(centre)
