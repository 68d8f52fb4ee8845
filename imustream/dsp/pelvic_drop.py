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

import numpy as np

from ..types import Side
from .kernels import pelvic_drop as _k
from .kernels import sensor_block as _sb
from .orientation import OrientationFilter
from .timeline import Timeline

__all__ = ["PelvicDrop"]

GRAVITY = _sb.GRAVITY
#: baselines (running neutral per stance) kept for stances not evaluated yet
_N_BASELINES = 4096


class PelvicDrop:
    """Streaming pelvic obliquity and per-stance pelvic drop from a pelvis IMU.

    The per-sample and per-stance work runs in numba kernels
    (:func:`~imustream.dsp.kernels.sensor_block.pelvic_update`,
    :mod:`imustream.dsp.kernels.pelvic_drop`) over the state arrays held here.

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
    GYR_STILL = _sb.GYR_STILL
    ACC_TOL = _sb.ACC_TOL
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
        self.mparams = _sb.mahony_params_array(self.orientation.params)
        self.cfg = np.array(
            [self.standing_s * self.fs, self.min_stances, self.n_baseline, self.PAUSE_S]
        )
        self.reset()

    def reset(self) -> None:
        """Forget attitude, calibration and history (in place: the state arrays stay the
        same objects, so a Pipeline holding them keeps working)."""
        if not hasattr(self, "sf"):
            self.timeline = Timeline(self.fs, 3, self.keep_s)
            self.pf = np.zeros(6)  # standing acc sum, "up" sum
            self.pi = np.zeros(3, dtype=np.int64)  # standing flag, standing samples, "up" count
            self.sf = np.zeros(_k.N_SF)
            self.si = np.zeros(_k.N_SI, dtype=np.int64)
            self.ring = np.zeros((self.n_baseline or 8, 3))
            self.bt = np.empty(_N_BASELINES)
            self.bv = np.zeros((_N_BASELINES, 3))
        self.orientation.reset()
        self.timeline.meta[:] = 0
        for a in (self.pf, self.pi, self.sf, self.si, self.ring, self.bv):
            a[...] = 0
        self.pi[_sb.PI_STANDING] = 1
        self.sf[_k.SF_LAST_TO] = math.inf
        self.bt[:] = np.nan
        self._m = np.empty(3)

    # -- input -----------------------------------------------------------------------------
    def process(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> np.ndarray:
        """Feed a block of pelvis samples; returns earth "up" in the sensor frame (n, 3)."""
        acc = np.ascontiguousarray(acc, dtype=np.float64)
        gyr = np.ascontiguousarray(gyr, dtype=np.float64)
        if acc.ndim != 2 or acc.shape[1] != 3 or gyr.shape != acc.shape:
            raise ValueError(
                f"acc and gyr must both have shape (n, 3); got {acc.shape} and {gyr.shape}"
            )
        t = np.ascontiguousarray(t, dtype=np.float64)
        up = np.empty((acc.shape[0], 3))
        self.update(t, acc, gyr, up)
        return up

    def update(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, up: np.ndarray) -> None:
        """:meth:`process` into a given ``up`` array (>= n, 3), arrays already checked."""
        o = self.orientation.state
        tl = self.timeline
        _sb.pelvic_update(
            acc,
            gyr,
            t,
            self.mparams,
            o.q,
            o.bias,
            o.count,
            self.pf,
            self.pi,
            tl.tb,
            tl.vb,
            tl.meta,
            tl.keep,
            up,
        )

    def add_stance(self, side: Side, ic_time: float, to_time: float) -> None:
        """Use a stance to refine the medio-lateral axis and the running neutral.

        Call once per stance, in time order, once the pelvis samples up to ``to_time`` have
        been processed. Everything here depends only on the samples inside stances, so the
        result does not depend on how the stream was cut into blocks.
        """
        tl = self.timeline
        _k.add_stance(
            tl.tb,
            tl.vb,
            tl.meta,
            side == "left",
            float(ic_time),
            float(to_time),
            self.sf,
            self.si,
            self.ring,
            self.bt,
            self.bv,
            self.cfg,
        )

    def stance_drop(self, side: Side, ic_time: float, to_time: float) -> float:
        """:meth:`add_stance` and then, once :attr:`ready`, :meth:`drop` (else NaN)."""
        tl = self.timeline
        return _k.stance_drop(
            tl.tb,
            tl.vb,
            tl.meta,
            side == "left",
            ic_time,
            to_time,
            self.sf,
            self.si,
            self.ring,
            self.bt,
            self.bv,
            self.pf,
            self.pi,
            self.cfg,
        )

    # -- calibration -------------------------------------------------------------------------
    @property
    def standing_calibrated(self) -> bool:
        """True when quiet standing at the start lasted long enough to set the neutral."""
        return bool(self.pi[_sb.PI_STAND_N] >= self.cfg[0] and self.pi[_sb.PI_STANDING] == 0)

    @property
    def ready(self) -> bool:
        """True once enough stances of both sides have fixed the medio-lateral axis."""
        return bool(self.si[_k.SI_READY]) or _k.ready(self.si, self.cfg)

    def ml_axis(self) -> np.ndarray | None:
        """Unit medio-lateral axis (pointing to the left hip) in the sensor frame, or None."""
        m = np.empty(3)
        return m if _k.ml_axis(self.sf, self.si, self.cfg, m) else None

    def neutral_deg(self, ic_time: float | None = None) -> float:
        """Neutral obliquity in degrees (NaN before the axis is known).

        With ``ic_time`` of a stance given to :meth:`add_stance`: the running neutral at that
        stance; otherwise the latest running neutral, else standing, else the run mean.
        """
        m = self.ml_axis()
        if m is None:
            return math.nan
        has_ic = ic_time is not None
        return _k.neutral_deg(
            m,
            has_ic,
            float(ic_time) if has_ic else 0.0,
            self.sf,
            self.si,
            self.bt,
            self.bv,
            self.pf,
            self.pi,
            self.cfg,
        )

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
        tl = self.timeline
        return _k.drop(
            tl.tb,
            tl.vb,
            tl.meta,
            side == "left",
            float(ic_time),
            float(to_time),
            self.sf,
            self.si,
            self.bt,
            self.bv,
            self.pf,
            self.pi,
            self.cfg,
        )
