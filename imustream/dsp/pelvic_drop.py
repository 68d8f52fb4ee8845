"""Pelvic obliquity and per-stance contralateral pelvic drop, in any sensor mounting.

Everything is computed in the sensor frame, so a fixed mounting rotation cannot change the
result:

* an attitude filter (:class:`~imustream.dsp.orientation.OrientationFilter`) gives earth
  "up" in the sensor frame, sample by sample;
* the medio-lateral (ML) axis ``m`` is the horizontal sensor-frame direction whose tilt
  alternates with the stance side: ``V = sum_k s_k (mean_stance_k(up) - mean(up))`` with
  ``s_k = +1`` for left and ``-1`` for right stances, projected on the horizontal plane.
  Its sign makes ``m`` point to the left hip under the assumption that the pelvis drops
  contralaterally on average (the normal running pattern); fore-aft tilt is the same on
  both sides and cancels;
* obliquity = elevation of ``m`` above the horizontal, ``asin(m . up)`` in degrees
  (positive = left hip higher);
* neutral obliquity while running = the mean obliquity at the stance transitions (IC and TO)
  of the last ``n_baseline`` stances, when no single leg loads the pelvis. The attitude
  filter's *absolute* tilt is biased during running by a few degrees (non-gravity
  accelerations correlate with the pelvis rotations, so the mean specific force is not
  vertical in the pelvis frame), while its short-term rotation is accurate; measured on the
  virtual runner, this baseline gives 0.2-0.35 deg RMSE where the standing neutral gave
  0.4-3 deg. The standing neutral (quiet standing >= ``standing_s`` at the start) or the
  run mean is used for the obliquity trace before any stance is known;
* drop of a stance on side X = peak over the stance of the contralateral hip's descent:
  ``max(obliquity - neutral)`` for left stances, ``max(neutral - obliquity)`` for right.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque

import numpy as np

from ..types import Side
from .orientation import OrientationFilter
from .timeline import Timeline

__all__ = ["PelvicDrop"]

GRAVITY = 9.80665


def _elevation_deg(sine: float) -> float:
    """Angle in degrees whose sine is ``sine`` (clipped to [-1, 1] against rounding)."""
    return math.degrees(math.asin(min(1.0, max(-1.0, sine))))


class PelvicDrop:
    """Streaming pelvic obliquity and per-stance pelvic drop from a pelvis IMU.

    Parameters
    ----------
    fs : float
        Pelvis sampling rate in Hz.
    standing_s : float
        Quiet standing at the start at least this long (s) sets the neutral obliquity.
    min_stances : int
        Stances per side needed before the ML axis is trusted (:attr:`ready`).
    n_baseline : int
        Stances whose transitions (IC, TO) define the running neutral obliquity
        (0 = always use the standing neutral or the run mean: for comparison only).
    keep_s : float
        Seconds of attitude history kept for stances not evaluated yet.
    **ahrs
        Overrides for :class:`~imustream.dsp.orientation.OrientationFilter`.
    """

    #: still if |gyr| below this (rad/s) and | |acc| - g | below ACC_TOL (m/s^2)
    GYR_STILL = 0.2
    ACC_TOL = 1.0
    #: a stance starting this long (s) after the previous toe-off follows a pause
    PAUSE_S = 1.0

    def __init__(
        self,
        fs: float,
        standing_s: float = 2.0,
        min_stances: int = 8,
        n_baseline: int = 8,
        keep_s: float = 30.0,
        **ahrs,
    ) -> None:
        self.fs = float(fs)
        self.standing_s = float(standing_s)
        self.min_stances = int(min_stances)
        self.n_baseline = int(n_baseline)
        self.keep_s = float(keep_s)
        self.orientation = OrientationFilter(fs, **ahrs)
        self.reset()

    def reset(self) -> None:
        """Forget attitude, calibration and history."""
        self.orientation.reset()
        self.timeline = Timeline(self.fs, 3, self.keep_s)
        self._standing = True  # still inside the initial quiet-standing phase
        self._stand_n = 0
        self._stand_acc = np.zeros(3)
        self._up_sum = np.zeros(3)
        self._up_n = 0
        self._v = np.zeros(3)
        self._n_side = {"left": 0, "right": 0}
        self._transitions: deque[np.ndarray] = deque()
        self._trans_sum = np.zeros(3)
        self._last_to = math.inf
        self._ready = False
        self._baselines: OrderedDict[float, np.ndarray] = OrderedDict()
        self._axis: np.ndarray | None = None

    # -- input -----------------------------------------------------------------------------
    def process(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> np.ndarray:
        """Feed a block of pelvis samples; returns earth "up" in the sensor frame (n, 3)."""
        _, up = self.orientation.process(acc, gyr)
        if self._standing:
            still = (np.linalg.norm(gyr, axis=1) < self.GYR_STILL) & (
                np.abs(np.linalg.norm(acc, axis=1) - GRAVITY) < self.ACC_TOL
            )
            k = len(still) if still.all() else int(np.argmin(still))
            self._stand_acc += acc[:k].sum(axis=0)
            self._stand_n += k
            if k < len(still):
                self._standing = False
        self._up_sum += up.sum(axis=0)
        self._up_n += len(up)
        self.timeline.append(np.asarray(t, dtype=np.float64), up)
        return up

    def add_stance(self, side: Side, ic_time: float, to_time: float) -> None:
        """Use a stance to refine the medio-lateral axis and the running neutral.

        Call once per stance, in time order, once the pelvis samples up to ``to_time`` have
        been processed. Everything here depends only on the samples inside stances, so the
        result does not depend on how the stream was cut into blocks.
        """
        if not (math.isfinite(ic_time) and math.isfinite(to_time)) or to_time <= ic_time:
            return
        _, up = self.timeline.window(ic_time, to_time)
        if len(up) < 2:
            return
        # first and last sample of the stance: within a sample of IC and TO, where the
        # obliquity is flat (a turning point), so no interpolation is needed
        if ic_time - self._last_to > self.PAUSE_S:
            # after a pause the attitude filter has re-levelled at rest: restart the neutral
            self._transitions.clear()
            self._trans_sum[:] = 0.0
        self._last_to = to_time
        here = 0.5 * (up[0] + up[-1])
        self._transitions.append(here)
        self._trans_sum += here
        if len(self._transitions) > (self.n_baseline or 8):
            self._trans_sum -= self._transitions.popleft()
        baseline = self._trans_sum / len(self._transitions)
        self._baselines[ic_time] = baseline
        while len(self._baselines) > 4096:
            self._baselines.popitem(last=False)
        s = 1.0 if side == "left" else -1.0
        self._v += s * (up.sum(axis=0) / len(up) - baseline)
        self._n_side[side] += 1
        self._axis = None

    # -- calibration -------------------------------------------------------------------------
    @property
    def standing_calibrated(self) -> bool:
        """True when quiet standing at the start lasted long enough to set the neutral."""
        return self._stand_n >= self.standing_s * self.fs and not self._standing

    @property
    def ready(self) -> bool:
        """True once enough stances of both sides have fixed the medio-lateral axis."""
        if not self._ready:
            n = self.min_stances
            self._ready = self._n_side["left"] >= n and self._n_side["right"] >= n
        return self._ready

    def ml_axis(self) -> np.ndarray | None:
        """Unit medio-lateral axis (pointing to the left hip) in the sensor frame, or None."""
        if self._axis is not None:
            return self._axis
        if not self.ready:
            return None
        u = self._trans_sum / math.sqrt(float(self._trans_sum @ self._trans_sum))
        v = self._v - float(self._v @ u) * u
        norm = math.sqrt(float(v @ v))
        self._axis = v / norm if norm > 0 else None
        return self._axis

    def neutral_deg(self, ic_time: float | None = None) -> float:
        """Neutral obliquity in degrees (NaN before the axis is known).

        With ``ic_time`` of a stance given to :meth:`add_stance`: the running neutral at that
        stance; otherwise the latest running neutral, else standing, else the run mean.
        """
        m = self.ml_axis()
        if m is None:
            return math.nan
        base = self._baselines.get(ic_time) if ic_time is not None else None
        if self.n_baseline == 0:
            base = None
        elif base is None and self._transitions:
            base = self._trans_sum / len(self._transitions)
        if base is None:
            base = self._stand_acc if self.standing_calibrated else self._up_sum
        return _elevation_deg(float(m @ base) / math.sqrt(float(base @ base)))

    # -- output ------------------------------------------------------------------------------
    def obliquity(
        self, t0: float, t1: float, ic_time: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Times and obliquity in degrees relative to neutral (left hip up = positive).

        ``ic_time`` selects the running neutral of that stance (see :meth:`neutral_deg`).
        """
        t, up = self.timeline.window(t0, t1)
        m = self.ml_axis()
        if m is None:
            return t, np.full(len(t), np.nan)
        obl = np.degrees(np.arcsin(np.clip(up @ m, -1.0, 1.0)))
        return t, obl - self.neutral_deg(ic_time)

    def drop(self, side: Side, ic_time: float, to_time: float) -> float:
        """Peak contralateral pelvic drop (deg) of the stance on ``side``; NaN if unknown."""
        if not (math.isfinite(ic_time) and math.isfinite(to_time)) or to_time <= ic_time:
            return math.nan
        m = self.ml_axis()
        _, up = self.timeline.window(ic_time, to_time)
        if m is None or len(up) == 0:
            return math.nan
        sine = up @ m  # asin is monotonic: take the extreme first, one asin per stance
        if side == "left":
            return _elevation_deg(float(sine.max())) - self.neutral_deg(ic_time)
        return self.neutral_deg(ic_time) - _elevation_deg(float(sine.min()))
