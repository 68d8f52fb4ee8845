"""Pelvis kinematics: orientation (axial rotation, tilt, obliquity) and linear acceleration.

Orientation is ``R = Rz(yaw) Ry(pitch) Rx(roll)`` (body -> world, pelvis frame x forward, y left,
z up). ``roll`` is the obliquity: positive = LEFT hip up (right hip down). In a left stance the
contralateral (right) hip drops, so roll rises above neutral by the drop; in a right stance roll
falls below neutral. ``pitch`` is anterior tilt (positive = tipping forward), ``yaw`` the heading
plus axial rotation (positive = right hip forward, peaks in left stance).

Vertical acceleration comes from a ground-reaction-force model: each stance pushes with
``A (sin(pi tau)^p + dip sin(3 pi tau))`` plus a short impact transient, scaled so that each step's
impulse equals body weight times its step time (no drift of vertical velocity over a bout); the
body falls into the first IC of a bout with the steady-state vertical speed, so the bounce is
periodic around a constant height, and absorbs it after the landing into standing.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from .gait import LEFT, GaitPlan
from .hermite import smoothstep
from .path import Path
from .rotations import body_rates, euler_matrix, rotate
from .scenarios import Scenario

FloatArray = NDArray[np.float64]

__all__ = ["G", "PelvisModel", "bump"]

G = 9.81
_SETTLE_S = 0.3  # s to absorb the vertical speed after landing into standing


def bump(tau: FloatArray, peak: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """C2 bump on [0, 1]: 0 at both ends (zero slope and curvature), exactly 1 at ``peak``.

    Returns the value and its first and second derivative with respect to ``tau``.
    """
    rising = tau < peak
    x = np.where(rising, tau / peak, (1 - tau) / (1 - peak))
    s, ds, dds = smoothstep(x)
    inside = (tau >= 0) & (tau <= 1)
    db = np.where(rising, ds / peak, -ds / (1 - peak))
    ddb = np.where(rising, dds / peak**2, dds / (1 - peak) ** 2)
    return s * inside, db * inside, ddb * inside


class PelvisModel:
    """Evaluates the pelvis trajectory of one planned run at arbitrary times."""

    def __init__(self, sc: Scenario, plan: GaitPlan, path: Path) -> None:
        self.sc, self.plan, self.path = sc, plan, path
        self.sign = np.where(plan.side == LEFT, 1.0, -1.0)
        self.stance = plan.to - plan.ic
        self.step = plan.next_ic - plan.ic
        # integral over [0, 1] of sin(pi tau)^p + dip sin(3 pi tau)
        p = sc.grf_power
        shape_int = math.gamma((p + 1) / 2) / (math.sqrt(math.pi) * math.gamma(p / 2 + 1))
        shape_int += sc.grf_dip * 2 / (3 * np.pi)
        f = plan.shape
        self.impact = sc.impact_g * G * f[:, 7]
        impact_area = self.impact * sc.impact_width * np.sqrt(np.pi)
        self.grf_amp = (G * self.step - impact_area) / (self.stance * shape_int)
        self.drop = np.deg2rad(plan.drop_amp)
        self.axial = np.deg2rad(sc.axial_amp_deg) * f[:, 3] * self.sign
        self.tilt = np.deg2rad(sc.tilt_amp_deg) * f[:, 4]
        self.sway = sc.sway_lat_m * f[:, 5] * self.sign
        self.brake = sc.brake_acc * f[:, 6]
        self.lever = np.asarray(sc.pelvis_lever, dtype=float)
        self._transitions = np.zeros((0, 3))
        self._transitions = self._bout_transitions()

    def _bout_transitions(self) -> FloatArray:
        """(start, end, velocity change) of the vertical transitions into and out of each bout.

        In steady running the vertical speed at IC is some v0 < 0 that makes the bounce
        periodic (zero mean speed). v0 is measured on the first steps of each bout; the body
        reaches it falling into the first IC (from the first lift-off) and loses it again in
        the 0.3 s after the first landing into standing.
        """
        plan, rows = self.plan, []
        for t_go, first, land in plan.bouts:
            ks = np.flatnonzero((plan.ic >= first) & (plan.ic < land))[:6]
            means = []
            for k in ks:
                t = np.linspace(plan.ic[k], plan.next_ic[k], 401)
                a = self._vertical(t)
                u = np.concatenate([[0.0], np.cumsum((a[1:] + a[:-1]) / 2 * np.diff(t))])
                means.append(np.mean((u[1:] + u[:-1]) / 2))
            v0 = -float(np.mean(means)) if means else 0.0
            rows += [(t_go, first, v0), (land, land + _SETTLE_S, -v0)]
        return np.array(rows, dtype=float).reshape(-1, 3)

    def _vertical(self, t: FloatArray) -> FloatArray:
        """Vertical acceleration of the pelvis centre (m/s^2, gravity not included)."""
        sc, plan = self.sc, self.plan
        k, km1 = self._steps(t)
        vert = np.zeros_like(t)
        for j in (k, km1):
            ok, tau_j = self._in_stance(j, t)
            jj = np.maximum(j, 0)
            since = t - plan.ic[jj] - sc.impact_time
            force = self.grf_amp[jj] * (
                np.abs(np.sin(np.pi * tau_j)) ** sc.grf_power
                + sc.grf_dip * np.sin(3 * np.pi * tau_j)
            ) + self.impact[jj] * np.exp(-((since / sc.impact_width) ** 2))
            vert += np.where(ok, force, 0.0)
        b = np.searchsorted(plan.bouts[:, 1:].ravel(), t, side="right")
        vert -= np.where(b % 2 == 1, G, 0.0)  # inside a bout: stance forces carry the weight
        tr = self._transitions
        if tr.size:
            i = np.clip(np.searchsorted(tr[:, 0], t, side="right") - 1, 0, None)
            dur = tr[i, 1] - tr[i, 0]
            tau = (t - tr[i, 0]) / dur
            inside = (tau >= 0) & (tau <= 1)
            vert += np.where(inside, 2 * tr[i, 2] / dur * np.sin(np.pi * tau) ** 2, 0.0)
        return vert

    def _steps(self, t: FloatArray) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        k = np.searchsorted(self.plan.ic, t, side="right") - 1
        return k, k - 1

    def _in_stance(self, j: NDArray[np.int64], t: FloatArray) -> tuple[NDArray, FloatArray]:
        jj = np.maximum(j, 0)
        tau = (t - self.plan.ic[jj]) / self.stance[jj]
        ok = (j >= 0) & np.isfinite(self.stance[jj]) & (tau >= 0) & (tau <= 1)
        return ok, np.where(ok, tau, -1.0)

    def angles(
        self, t: FloatArray
    ) -> tuple[tuple[FloatArray, ...], tuple[FloatArray, ...], tuple[FloatArray, ...]]:
        """(yaw, pitch, roll) in rad with first and second time derivatives."""
        sc = self.sc
        k, km1 = self._steps(t)
        kk = np.maximum(k, 0)
        dur = self.step[kk]
        step_ok = (k >= 0) & np.isfinite(dur)
        tau = np.where(step_ok, (t - self.plan.ic[kk]) / np.where(step_ok, dur, 1.0), -1.0)
        dur = np.where(step_ok, dur, 1.0)
        b, db, ddb = bump(tau, 0.5)
        psi, dpsi, ddpsi = self.path.heading(t)
        ax = self.axial[kk]
        yaw = (psi + ax * b, dpsi + ax * db / dur, ddpsi + ax * ddb / dur**2)
        tl = self.tilt[kk]
        pitch = (np.deg2rad(sc.neutral_tilt_deg) + tl * b, tl * db / dur, tl * ddb / dur**2)
        roll = [np.full_like(t, np.deg2rad(sc.neutral_obliquity_deg)), 0 * t, 0 * t]
        for j in (k, km1):
            ok, tau_j = self._in_stance(j, t)
            jj = np.maximum(j, 0)
            d = np.where(ok, self.sign[jj] * self.drop[jj], 0.0)
            tc = np.where(ok, self.stance[jj], 1.0)
            b, db, ddb = bump(tau_j, sc.drop_peak_frac)
            roll[0] = roll[0] + d * b
            roll[1] = roll[1] + d * db / tc
            roll[2] = roll[2] + d * ddb / tc**2
        return yaw, pitch, tuple(roll)

    def orientation(self, t: FloatArray) -> FloatArray:
        """Body->world rotation matrices, shape (n, 3, 3)."""
        yaw, pitch, roll = self.angles(t)
        return euler_matrix(yaw[0], pitch[0], roll[0])

    def _center_accel(self, t: FloatArray, psi: FloatArray) -> FloatArray:
        plan = self.plan
        k, km1 = self._steps(t)
        kk = np.maximum(k, 0)
        dur = self.step[kk]
        step_ok = (k >= 0) & np.isfinite(dur)
        dur = np.where(step_ok, dur, 1.0)
        tau = np.where(step_ok, (t - plan.ic[kk]) / dur, -1.0)
        lat = self.sway[kk] * bump(tau, 0.5)[2] / dur**2
        fwd = np.zeros_like(t)
        for j in (k, km1):
            ok, tau_j = self._in_stance(j, t)
            jj = np.maximum(j, 0)
            fwd -= np.where(ok, self.brake[jj] * np.sin(2 * np.pi * tau_j), 0.0)
        vert = self._vertical(t)
        c, s = np.cos(psi), np.sin(psi)
        hor = self.path.accel(t)
        return np.stack([hor[:, 0] + fwd * c - lat * s, hor[:, 1] + fwd * s + lat * c, vert], -1)

    def kinematics(self, t: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Orientation (n, 3, 3), body angular velocity (n, 3) and the world acceleration of the
        sensor point (n, 3, m/s^2, gravity not included) at times ``t``."""
        yaw, pitch, roll = self.angles(t)
        r = euler_matrix(yaw[0], pitch[0], roll[0])
        omega, alpha = body_rates(
            (yaw[0], pitch[0], roll[0]),
            (yaw[1], pitch[1], roll[1]),
            (yaw[2], pitch[2], roll[2]),
        )
        c = np.broadcast_to(self.lever, omega.shape)
        rel = np.cross(alpha, c) + np.cross(omega, np.cross(omega, c))
        heading = self.path.heading(t)[0]
        acc = self._center_accel(t, heading) + rotate(r, rel)
        return r, omega, acc
