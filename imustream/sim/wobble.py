"""Band-limited random motion of the pelvis on top of its stride-periodic pattern.

Real lower-back recordings vary a lot from step to step: around each IC their acceleration
spreads by ~1 m/s^2 (SD over steps, mobgap straight walks) about the average waveform, while the
periodic model alone spreads by ~0.1 m/s^2 (``benchmarks/sim_realism.py``). The wobble is a
random displacement of a few mm: a C2 piecewise quintic through knots every ``KNOT_S`` s with
Gaussian values drawn up front from the seed (any chunk evaluates alone), zero outside gait
bouts (standing stays quiet). Its second derivative adds ``wobble_acc`` m/s^2 rms per axis
(forward, lateral, vertical), band-limited to a few Hz (slower than the loading at IC, so, as
in the real data, the steepest vertical rise of a step stays at its IC: per-step median +20 ms,
IQR +10..+30 ms; mobgap straight walks +10, -15..+32 ms). The same kind of random angles add
``wobble_rate`` rad/s rms to the yaw and pitch rates (the obliquity, whose peaks are the
pelvic-drop truth, is left alone).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .gait import GaitPlan
from .hermite import PiecewiseQuintic
from .scenarios import Scenario

FloatArray = NDArray[np.float64]

__all__ = ["KNOT_S", "Wobble"]

KNOT_S = 0.15  #: s between knots (acceleration: median 3.3 Hz, 90 % of the power below 5 Hz)
# rms of the quintics' second derivative over time, per sqrt(6) sd / KNOT_S^2 (its rms at the
# knots), measured on 4 10^4 knots (independent of KNOT_S): between the knots it swings wider
_RMS_PER_KNOT = 1.778
# the same for the first derivative, per sd / (sqrt(2) KNOT_S)
_RATE_RMS_PER_KNOT = 2.248


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
        h = KNOT_S
        knots = np.arange(plan.t_start - 1.0, plan.t_end + 1.0 + h, h)
        sd_lin = np.asarray(sc.wobble_acc, dtype=float) * h * h / (np.sqrt(6.0) * _RMS_PER_KNOT)
        sd_ang = np.asarray(sc.wobble_rate, dtype=float) * h * np.sqrt(2.0) / _RATE_RMS_PER_KNOT
        y = rng.standard_normal((knots.size, 5)) * np.concatenate([sd_lin, sd_ang])
        inside = np.zeros(knots.size, dtype=bool)
        for _, first, land in plan.bouts:
            inside |= (knots >= first) & (knots <= land)
        y[~inside] = 0.0
        v = np.zeros_like(y)
        a = np.zeros_like(y)
        v[1:-1] = (y[2:] - y[:-2]) / (2 * h)
        a[1:-1] = (y[2:] - 2 * y[1:-1] + y[:-2]) / (h * h)
        self._q = PiecewiseQuintic.through_knots(knots, y, v, a)

    def __call__(self, t: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Displacement (m), velocity and acceleration at times ``t``, each (n, 3)."""
        y, v, a = self._q(np.asarray(t, dtype=float))
        return y[:, :3], v[:, :3], a[:, :3]

    def angles(self, t: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Yaw and pitch (rad) with first and second derivatives at times ``t``, each (n, 2)."""
        y, v, a = self._q(np.asarray(t, dtype=float))
        return y[:, 3:], v[:, 3:], a[:, 3:]
