"""Horizontal path of the runner: speed profile, heading (track bends), position.

Treadmill runs are simulated in the belt frame (same physics as running overground in a straight
line; belt speed changes at bout start/stop are treated as the runner's own acceleration).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .gait import GaitPlan
from .hermite import PiecewiseQuintic
from .scenarios import Scenario

FloatArray = NDArray[np.float64]

__all__ = ["Path"]

_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)
_GRID_S = 0.05


class Path:
    """Speed ``v(t)``, heading ``psi(t)`` and ground position ``P(t)`` of the runner.

    ``accel(t)`` is exact (from the analytic speed and heading); ``position(t)`` is a
    high-order quadrature (only used to place the feet on the ground).
    """

    def __init__(self, sc: Scenario, plan: GaitPlan) -> None:
        t0, t1 = plan.t_start, plan.t_end
        # speed: 0 while standing, ramps (C2) up after each bout start and down to its end
        kt, kv = [t0 - 1.0], [0.0]
        for t_go, _, b1 in plan.bouts:
            ramp = min(sc.ramp_s, 0.45 * (b1 - t_go))
            kt += [t_go, t_go + ramp, b1 - ramp, b1]
            kv += [0.0, sc.speed, sc.speed, 0.0]
        kt.append(t1 + 1.0)
        kv.append(0.0)
        kt_a, kv_a = _dedupe(np.array(kt), np.array(kv))
        z = np.zeros_like(kt_a)
        self.speed = PiecewiseQuintic.through_knots(kt_a, kv_a, z, z)
        self.heading = _track_heading(sc, plan) if sc.track else _constant(t0 - 1.0, t1 + 1.0)
        # position at a coarse grid, integrated once; refined per query
        grid = np.arange(t0 - 1.0, t1 + 1.0 + _GRID_S, _GRID_S)
        steps = self._integrate(grid[:-1], grid[1:])
        self._grid = grid
        self._pos = np.vstack([np.zeros((1, 2)), np.cumsum(steps, axis=0)])

    def _velocity(self, t: FloatArray) -> FloatArray:
        v = self.speed(t)[0]
        psi = self.heading(t)[0]
        return np.stack([v * np.cos(psi), v * np.sin(psi)], axis=-1)

    def _integrate(self, a: FloatArray, b: FloatArray) -> FloatArray:
        half = (b - a) / 2
        mid = (a + b) / 2
        t = mid[:, None] + half[:, None] * _GL_X[None, :]
        vel = self._velocity(t.ravel()).reshape(*t.shape, 2)
        return half[:, None] * np.einsum("k,nkd->nd", _GL_W, vel)

    def position(self, t: FloatArray) -> FloatArray:
        """Ground position (x, y) in m at times ``t``, shape (n, 2)."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        i = np.clip(np.searchsorted(self._grid, t, side="right") - 1, 0, self._grid.size - 1)
        return self._pos[i] + self._integrate(self._grid[i], t)

    def accel(self, t: FloatArray) -> FloatArray:
        """Horizontal acceleration (x, y) of the path in m/s^2: tangential + centripetal."""
        v, dv, _ = self.speed(t)
        psi, dpsi, _ = self.heading(t)
        c, s = np.cos(psi), np.sin(psi)
        return np.stack([dv * c - v * dpsi * s, dv * s + v * dpsi * c], axis=-1)


def _dedupe(t: FloatArray, v: FloatArray) -> tuple[FloatArray, FloatArray]:
    keep = np.concatenate([[True], np.diff(t) > 1e-9])
    return t[keep], v[keep]


def _constant(t0: float, t1: float, value: float = 0.0) -> PiecewiseQuintic:
    return PiecewiseQuintic.through_knots(
        np.array([t0, t1]), np.array([value, value]), np.zeros(2), np.zeros(2)
    )


def _track_heading(sc: Scenario, plan: GaitPlan) -> PiecewiseQuintic:
    """Counter-clockwise 400 m track: half a straight, then bend / straight alternating.

    Bends are timed at the nominal speed (after the start ramp); each has 1 s transitions in
    which the yaw rate rises smoothly from 0 to v / r, so the heading is C2. The straights are
    shortened by one transition so a lap takes (2 pi r + 2 straight) / v.
    """
    v = sc.speed
    rate = v / sc.track_radius
    tr = 1.0
    t_go = plan.bouts[0, 0] if plan.bouts.size else 0.0  # first lift-off
    t = t_go + sc.ramp_s / 2 + 0.5 * sc.track_straight / v
    kt, ky, kv = [plan.t_start - 1.0], [0.0], [0.0]
    psi = 0.0
    while t < plan.t_end + 1.0:
        delta = rate * tr / 2
        bend = (np.pi - 2 * delta) / rate
        kt += [t, t + tr, t + tr + bend, t + 2 * tr + bend]
        ky += [psi, psi + delta, psi + np.pi - delta, psi + np.pi]
        kv += [0.0, rate, rate, 0.0]
        psi += np.pi
        t += 2 * tr + bend + sc.track_straight / v - tr  # lap time = lap length / v
    kt.append(max(t, plan.t_end + 2.0))
    ky.append(psi)
    kv.append(0.0)
    kt_a = np.array(kt)
    return PiecewiseQuintic.through_knots(kt_a, np.array(ky), np.array(kv), np.zeros(kt_a.size))
