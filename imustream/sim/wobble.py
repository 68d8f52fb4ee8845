"""Step-to-step variability of the walking pelvis on top of its stride-periodic pattern.

Real lower-back recordings vary a lot from step to step: around each IC their acceleration
spreads by 0.5-0.9 m/s^2 per axis (SD over steps about each subject's own average, mobgap
straight walks with a trusted IC reference), while the periodic model alone spreads by
~0.1 m/s^2 (``benchmarks/sim_realism.py``, which also compares where this variability lies:
its band spectrum, and no impact-sized peaks or rises before the IC). The wobble is a
random displacement of a few mm: C2 piecewise quintics through Gaussian knots (drawn up front
from the seed, so any chunk evaluates alone), zero outside gait bouts (standing stays quiet).
Its second derivative adds ``wobble_acc`` m/s^2 rms per axis (forward, lateral, vertical), split
between knots every ``KNOT_S`` s (median 3.3 Hz) and every ``FAST_KNOT_S`` s (~10 Hz) so that the
band powers follow the mobgap straight walks (1-50 Hz). Random angles from the slow knots add
``wobble_rate`` rad/s rms to the yaw and pitch rates (the obliquity, whose peaks are the
pelvic-drop truth, is left alone). Each step's loading transient also comes ``impact_time_sd``
earlier or later (sharp per step, smooth on average, as in the real data: the steepest vertical
rise of a step stays near its IC).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .gait import GaitPlan
from .hermite import PiecewiseQuintic
from .scenarios import Scenario

FloatArray = NDArray[np.float64]

__all__ = ["FAST_KNOT_S", "KNOT_S", "Wobble"]

KNOT_S = 0.15  #: s between slow knots (acceleration: median 3.3 Hz, 90 % of the power < 5 Hz)
FAST_KNOT_S = 0.05  #: s between fast knots
#: share of the acceleration variance (forward, lateral, vertical) on the fast knots
_FAST_SHARE = np.array([0.4, 0.6, 0.4])
# rms of the quintics' second derivative over time, per sqrt(6) sd / h^2 (its rms at the
# knots), measured on 4 10^4 knots (independent of h): between the knots it swings wider
_RMS_PER_KNOT = 1.778
# the same for the first derivative, per sd / (sqrt(2) h)
_RATE_RMS_PER_KNOT = 2.248


def _through(knots: FloatArray, y: FloatArray, h: float) -> PiecewiseQuintic:
    """C2 quintics through knot values ``y`` (rates and curvatures by central differences)."""
    v = np.zeros_like(y)
    a = np.zeros_like(y)
    v[1:-1] = (y[2:] - y[:-2]) / (2 * h)
    a[1:-1] = (y[2:] - 2 * y[1:-1] + y[:-2]) / (h * h)
    return PiecewiseQuintic.through_knots(knots, y, v, a)


class Wobble:
    """Random displacement of the pelvis in gait bouts (heading frame: forward, left, up; m)
    and random yaw and pitch (rad).

    Parameters
    ----------
    sc : Scenario
        ``wobble_acc`` gives the rms acceleration per axis, ``wobble_rate`` the rms yaw and
        pitch rates.
    plan : GaitPlan
        Bouts and span of the run.
    rng : numpy.random.Generator
        Its own stream (drawn from once, in knot order).
    """

    def __init__(self, sc: Scenario, plan: GaitPlan, rng: np.random.Generator) -> None:
        acc = np.asarray(sc.wobble_acc, dtype=float)
        rate = np.asarray(sc.wobble_rate, dtype=float)
        self._q = []
        for h, lin, ang in (
            (KNOT_S, acc * np.sqrt(1 - _FAST_SHARE), rate),
            (FAST_KNOT_S, acc * np.sqrt(_FAST_SHARE), None),
        ):
            knots = np.arange(plan.t_start - 1.0, plan.t_end + 1.0 + h, h)
            sd = lin * h * h / (np.sqrt(6.0) * _RMS_PER_KNOT)
            if ang is not None:
                sd = np.concatenate([sd, ang * h * np.sqrt(2.0) / _RATE_RMS_PER_KNOT])
            y = rng.standard_normal((knots.size, sd.size)) * sd
            inside = np.zeros(knots.size, dtype=bool)
            for _, first, land in plan.bouts:
                inside |= (knots >= first) & (knots <= land)
            y[~inside] = 0.0
            self._q.append(_through(knots, y, h))
        #: per-step change of the loading transient's lag after IC, s
        self.lag = rng.standard_normal(plan.ic.size) * sc.impact_time_sd

    def __call__(self, t: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Displacement (m), velocity and acceleration at times ``t``, each (n, 3)."""
        t = np.asarray(t, dtype=float)
        slow, fast = self._q[0](t), self._q[1](t)
        return tuple(s[:, :3] + f for s, f in zip(slow, fast, strict=True))

    def angles(self, t: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Yaw and pitch (rad) with first and second derivatives at times ``t``, each (n, 2)."""
        y, v, a = self._q[0](np.asarray(t, dtype=float))
        return y[:, 3:], v[:, 3:], a[:, 3:]
