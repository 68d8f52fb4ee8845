""" "Tap the sensor": find out which physical sensor is which by a short acceleration spike.

Hold the sensors still (or lay them down), then tap one of them firmly: the tap is a spike of
the acceleration magnitude, well above the sensor's resting level and much shorter than any
movement. :class:`TapDetector` watches the decoded blocks of every connected sensor and
reports the one that saw a tap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..types import SampleBlock

G = 9.80665


@dataclass(frozen=True)
class Tap:
    """A tap seen by ``sensor`` at session time ``time`` with peak deviation ``peak_g`` (g)."""

    sensor: str
    time: float
    peak_g: float


class TapDetector:
    """Detect taps per sensor: ``| |acc| - baseline |`` above ``threshold_g`` for a short time.

    Parameters
    ----------
    threshold_g : float
        Deviation of the acceleration magnitude from the resting baseline, in g.
    max_duration_s : float
        Longest excursion that still counts as a tap (longer = the sensor was moved).
    refractory_s : float
        Dead time after a tap on the same sensor.
    quiet_g : float
        The sensor must have been still before the tap: mean absolute deviation of the
        magnitude (exponential average over ~0.5 s) below this, in g. Running is not a tap.
    """

    def __init__(
        self,
        threshold_g: float = 1.5,
        max_duration_s: float = 0.08,
        refractory_s: float = 0.5,
        quiet_g: float = 0.15,
    ) -> None:
        self.threshold = threshold_g * G
        self.max_duration_s = max_duration_s
        self.refractory_s = refractory_s
        self.quiet = quiet_g * G
        self._activity: dict[str, float] = {}
        self._quiet_before: dict[str, bool] = {}
        self._baseline: dict[str, float] = {}
        self._start: dict[str, float | None] = {}
        self._peak: dict[str, float] = {}
        self._last_tap: dict[str, float] = {}

    def reset(self) -> None:
        """Forget every sensor's state."""
        self.__init__(self.threshold / G, self.max_duration_s, self.refractory_s, self.quiet / G)

    @staticmethod
    def _rate(block: SampleBlock) -> float:
        t = block.t_session
        if t is not None and len(t) > 1 and t[-1] > t[0]:
            return (len(t) - 1) / (t[-1] - t[0])
        return 100.0

    def process(self, block: SampleBlock) -> list[Tap]:
        """Feed one decoded, time-mapped block; returns the taps it completes."""
        if block.t_session is None or block.sensor is None:
            raise ValueError("TapDetector needs blocks with sensor and t_session set")
        s = block.sensor
        mag = np.sqrt(np.einsum("ij,ij->i", block.acc, block.acc))
        taps = []
        base = self._baseline.get(s, G)
        activity = self._activity.get(s, self.quiet)  # unknown history: not yet quiet
        alpha = min(1.0, 2.0 / (0.5 * self._rate(block)))  # ~0.5 s average
        for t, m in zip(block.t_session, mag, strict=True):
            dev = abs(m - base)
            start = self._start.get(s)
            if dev > self.threshold:
                if start is None:
                    self._start[s], self._peak[s] = float(t), dev
                    self._quiet_before[s] = activity < self.quiet
                else:
                    self._peak[s] = max(self._peak[s], dev)
                activity += alpha * (dev - activity)
                continue
            if start is not None:
                short = t - start <= self.max_duration_s
                rested = t - self._last_tap.get(s, -np.inf) > self.refractory_s
                if short and rested and self._quiet_before[s]:
                    taps.append(Tap(s, start, self._peak[s] / G))
                    self._last_tap[s] = start
                self._start[s] = None
            base += 0.01 * (m - base)  # slow baseline: the resting magnitude
            activity += alpha * (dev - activity)
        self._baseline[s] = base
        self._activity[s] = activity
        return taps
