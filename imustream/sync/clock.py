"""Map a sensor's device clock to the host clock with a drift-aware lower-envelope fit.

BLE delivers every notification *after* the sample was taken (connection interval, radio
retries, OS scheduling): arrival = true host time + delay, delay >= 0 and one-sided. A
least-squares line through (device time, arrival) is therefore biased late by the mean delay;
the lower envelope of the points is not. ``ClockMapper`` keeps the earliest arrival per
``bucket_s`` of device time over a sliding ``window_s``, takes the lower convex hull of those
points and uses the hull edge that supports the hull at the window's mean device time (the
line below all points that minimises their summed distance above it). The slope is bounded
by ``max_drift_ppm`` so that a short window cannot produce an absurd drift.
"""

from __future__ import annotations

import itertools
import math
from collections import OrderedDict

import numpy as np

__all__ = ["ClockMapper", "lower_envelope_fit"]


def lower_envelope_fit(
    x: np.ndarray | list[float], y: np.ndarray | list[float], max_slope: float = math.inf
) -> tuple[float, float]:
    """Line ``y = a + b x`` below every point that minimises the summed vertical distance.

    Parameters
    ----------
    x, y : array_like
        Points; ``x`` need not be sorted.
    max_slope : float
        Bound on ``|b|``.

    Returns
    -------
    (a, b) : tuple of float
    """
    pts = sorted(zip(np.asarray(x, float).tolist(), np.asarray(y, float).tolist(), strict=True))
    if not pts:
        raise ValueError("lower_envelope_fit needs at least one point")
    return _fit_sorted([p[0] for p in pts], [p[1] for p in pts], max_slope)


def _hull_add(hx: list[float], hy: list[float], px: float, py: float) -> None:
    """Add a point (sorted after the previous ones) to a lower convex hull, in place."""
    if hx and hx[-1] == px:  # same x, sorted by y: the lower one is kept
        return
    # pop while the turn (hull[-2], hull[-1], p) is not counter-clockwise
    while (
        len(hx) >= 2 and (hx[-1] - hx[-2]) * (py - hy[-2]) - (hy[-1] - hy[-2]) * (px - hx[-2]) <= 0
    ):
        hx.pop()
        hy.pop()
    hx.append(px)
    hy.append(py)


def _hull_line(
    hx: list[float], hy: list[float], xm: float, max_slope: float
) -> tuple[float, float]:
    """The hull edge supporting the hull at ``xm`` (slope bounded), as ``(a, b)``."""
    b = 0.0
    for i in range(len(hx) - 1):
        b = (hy[i + 1] - hy[i]) / (hx[i + 1] - hx[i])
        if hx[i + 1] >= xm:
            break
    b = max(-max_slope, min(max_slope, b))
    a = min(py - b * px for px, py in zip(hx, hy, strict=True))
    return a, b


def _fit_sorted(xs: list[float], ys: list[float], max_slope: float) -> tuple[float, float]:
    """:func:`lower_envelope_fit` of points already sorted by (x, y), as Python floats."""
    hx: list[float] = []
    hy: list[float] = []
    total = 0.0
    for px, py in zip(xs, ys, strict=True):
        _hull_add(hx, hy, px, py)
        total += px  # sequential, as ClockMapper's incremental refit continues it
    return _hull_line(hx, hy, total / len(xs), max_slope)


class ClockMapper:
    """Per-sensor device-to-host clock mapping, robust to one-sided BLE delays.

    Parameters
    ----------
    window_s : float
        Device-time span of observations kept for the fit.
    bucket_s : float
        Only the earliest arrival per bucket of device time is kept.
    max_drift_ppm : float
        Bound on the estimated drift.
    reset_threshold_s : float
        An observation this far *below* the fitted line (arrival before the sample could
        have been taken), or a device time this far back, means the device clock restarted:
        the mapper starts a new segment by itself and :meth:`observe` returns True.
    """

    def __init__(
        self,
        window_s: float = 120.0,
        bucket_s: float = 0.5,
        max_drift_ppm: float = 500.0,
        reset_threshold_s: float = 1.0,
    ) -> None:
        if not (window_s > 0 and bucket_s > 0 and window_s >= bucket_s):
            raise ValueError("need window_s >= bucket_s > 0")
        self.window_s = float(window_s)
        self.bucket_s = float(bucket_s)
        self.max_slope = float(max_drift_ppm) * 1e-6
        self.reset_threshold_s = float(reset_threshold_s)
        self._window_buckets = math.ceil(self.window_s / self.bucket_s)
        self.segments = 0
        self.reset()

    def reset(self) -> None:
        """Forget the fit; the next observation starts a new clock segment."""
        self._d0: float | None = None
        self._h0 = 0.0
        self._buckets: OrderedDict[int, tuple[float, float]] = OrderedDict()
        self._a = 0.0
        self._b = 0.0
        self._x_last = 0.0
        self._fit_key: int | None = None
        # hull, sum of x and count of every bucket but the newest: lets a new lowest point in
        # the newest bucket refit in O(hull) instead of O(window); None when out of date
        self._prefix: tuple[list[float], list[float], float, int] | None = None
        # True while the buckets are in x order (a bucket opened after a later one, e.g. by a
        # reordered packet, is appended out of order; the fit then sorts its points)
        self._in_order = True
        self.n_observations = 0

    @property
    def ready(self) -> bool:
        """True once at least one observation was made."""
        return self._d0 is not None

    @property
    def drift_ppm(self) -> float:
        """Estimated device clock rate error in ppm (positive: device clock slow)."""
        return self._b * 1e6

    @property
    def offset(self) -> float:
        """host - device time in s at the newest observation."""
        if self._d0 is None:
            return math.nan
        return self._h0 - self._d0 + self._a + self._b * self._x_last

    def observe(self, t_device_s: float, host_s: float) -> bool:
        """Add one (device time, arrival host time) pair, both in s.

        Returns
        -------
        bool
            True if this observation started a new clock segment (first call, or a device
            clock restart detected).
        """
        new_segment = False
        if self._d0 is None:
            self._d0, self._h0 = float(t_device_s), float(host_s)
            self.segments += 1
            new_segment = True
        x = float(t_device_s) - self._d0
        y = float(host_s) - self._h0 - x
        if not new_segment:
            below = (self._a + self._b * x) - y
            if x < self._x_last - self.reset_threshold_s or below > self.reset_threshold_s:
                self.reset()
                self.observe(t_device_s, host_s)
                return True
        self.n_observations += 1
        self._x_last = max(self._x_last, x)
        key = math.floor(x / self.bucket_s)
        buckets = self._buckets
        old = buckets.get(key)
        if old is None or y < old[1]:
            buckets[key] = (x, y)
            newest = next(reversed(buckets))
            if old is None or newest != key:  # the buckets before the newest changed
                self._prefix = None
            if old is None and len(buckets) > 1 and self._in_order:
                keys = reversed(buckets)
                next(keys)
                self._in_order = next(keys) < key
            if old is None and newest != key:
                buckets = self._buckets = OrderedDict(sorted(buckets.items()))
        oldest = key - self._window_buckets
        while buckets and next(iter(buckets)) < oldest:
            buckets.popitem(last=False)
            self._prefix = None
        # refit when a bucket closes (or while there are few points): cost stays O(1) per packet
        if self._fit_key != key or len(self._buckets) <= 4:
            self._refit()
            self._fit_key = key
        elif y < self._a + self._b * x - 1e-7:  # a point below the line: the fit must move
            if self._prefix is not None and next(reversed(buckets)) == key:
                self._refit_newest()
            else:
                self._refit()
        return new_segment

    def _refit(self) -> None:
        # buckets are kept sorted by key, hence by x (one point per bucket): no sort needed
        pts = list(self._buckets.values())
        if not self._in_order:
            self._prefix = None
            pts.sort()
            self._a, self._b = _fit_sorted([p[0] for p in pts], [p[1] for p in pts], self.max_slope)
            keys = list(self._buckets)  # back in order once the stray bucket left the window?
            self._in_order = all(k0 < k1 for k0, k1 in itertools.pairwise(keys))
            return
        hx: list[float] = []
        hy: list[float] = []
        total = 0.0
        for px, py in pts[:-1]:
            _hull_add(hx, hy, px, py)
            total += px
        self._prefix = (hx[:], hy[:], total, len(pts) - 1)
        px, py = pts[-1]
        _hull_add(hx, hy, px, py)
        total += px
        self._a, self._b = _hull_line(hx, hy, total / len(pts), self.max_slope)

    def _refit_newest(self) -> None:
        """:meth:`_refit` when only the newest bucket changed (same result, exactly)."""
        hx, hy, total, n = self._prefix  # type: ignore[misc]
        hx, hy = hx[:], hy[:]
        px, py = next(reversed(self._buckets.values()))
        _hull_add(hx, hy, px, py)
        self._a, self._b = _hull_line(hx, hy, (total + px) / (n + 1), self.max_slope)

    def line(self) -> tuple[float, float, float, float]:
        """``(d0, h0, a, b)``: :meth:`to_host` is ``h0 + x + (a + b * x)``, ``x = t - d0``.

        For callers that map a few samples with Python floats (same operations, same
        rounding) instead of paying numpy's per-call cost.
        """
        if self._d0 is None:
            raise RuntimeError("ClockMapper.line called before any observation")
        return self._d0, self._h0, self._a, self._b

    def to_host(self, t_device_s: float | np.ndarray) -> float | np.ndarray:
        """Host time(s) in s of device time(s) ``t_device_s`` (same segment)."""
        if self._d0 is None:
            raise RuntimeError("ClockMapper.to_host called before any observation")
        x = np.asarray(t_device_s, dtype=np.float64) - self._d0
        h = self._h0 + x + (self._a + self._b * x)
        return float(h) if h.ndim == 0 else h
