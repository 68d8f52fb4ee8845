"""Foot (shoe) kinematics: foot pitch/yaw and heel trajectory, rigid-body consistent.

Foot frame: x heel -> toes, y left, z up when the foot is flat; orientation
``R = Rz(yaw) Ry(pitch) Rx(roll)`` with pitch > 0 = toes down (plantarflexion), roll > 0 = left
edge up (inversion of the left foot is roll < 0, of the right foot roll > 0). Per contact:

* IC: the heel lands (dorsiflexed, ``strike_angle_deg``) and decelerates over
  ``impact_duration`` (the impact transient of several g), then the foot rotates about the heel
  to foot flat; quiet stance (foot flat, zero rate); heel off: rotation about the forefoot pivot
  ``foot_length`` ahead of the heel up to ``toe_off_angle_deg`` at TO.
* swing: the foot keeps plantarflexing to ``swing_max_deg``, then rotates forward (the large
  mid-swing angular-rate peak) back to the strike angle; the heel follows a C2 path with
  its lowest point ``clearance`` above the ground at the swing peak, to the next landing point.

Every piece is a quintic in time, so the accelerometer and gyroscope follow exactly from the
same trajectory. IC = first ground contact (start of the heel deceleration), TO = last contact.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .gait import LEFT, GaitPlan
from .hermite import PiecewiseQuintic, quintic_coeffs
from .path import Path
from .rotations import body_rates, euler_matrix, rotate
from .scenarios import Scenario

FloatArray = NDArray[np.float64]

__all__ = ["FootModel"]

_HEEL_BEHIND_PELVIS = 0.08  # heel settles this far behind the pelvis at mid-stance, m
_MAX_PITCH = np.deg2rad(88.0)  # foot pitch limit (ZYX Euler angles are singular at 90 deg)
_HEEL_KNOT_FRAC = 0.3  # the heel path's mid-swing knot, as a fraction of swing time


def _rigid(
    r: FloatArray, omega: FloatArray, alpha: FloatArray, vec: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """World offset of a body-fixed vector and its first two time derivatives."""
    v = np.broadcast_to(vec, omega.shape)
    wv = np.cross(omega, v)
    rel = np.cross(alpha, v) + np.cross(omega, wv)
    return rotate(r, v), rotate(r, wv), rotate(r, rel)


class FootModel:
    """Evaluates one foot's trajectory (orientation, rates, sensor acceleration) at any time."""

    def __init__(self, sc: Scenario, plan: GaitPlan, path: Path, foot: int) -> None:
        self.sc = sc
        self.lever = np.asarray(sc.shoe_lever, dtype=float)
        self.toe = np.array([sc.foot_length, 0.0, 0.0])
        c = plan.feet[foot]
        side = 1.0 if foot == LEFT else -1.0
        n = c.start.size
        ff_t = c.start + sc.foot_flat_frac * c.tc
        ho_t = c.end - (1 - sc.heel_off_frac) * c.tc
        psi_h = path.heading(c.start)[0]
        yaw_c = psi_h + side * np.deg2rad(sc.toe_out_deg)
        mid = np.where(c.landed, c.start + 0.5 * c.tc, c.start)
        pos = path.position(mid)
        off = np.where(c.landed, -_HEEL_BEHIND_PELVIS, 0.0)
        heel = np.stack(
            [
                pos[:, 0] + off * np.cos(psi_h) - side * sc.step_width / 2 * np.sin(psi_h),
                pos[:, 1] + off * np.sin(psi_h) + side * sc.step_width / 2 * np.cos(psi_h),
                np.zeros(n),
            ],
            axis=-1,
        )
        st = np.where(c.step >= 0, c.step, 0)
        shape = np.where((c.step >= 0)[:, None], plan.shape[st], 1.0)
        strike = np.deg2rad(sc.strike_angle_deg) * shape[:, 0]
        toe_off = np.deg2rad(sc.toe_off_angle_deg) * shape[:, 1]
        swing_max = np.deg2rad(sc.swing_max_deg) * shape[:, 2]
        vf, vd = sc.land_velocity
        v_land = np.stack([vf * np.cos(psi_h), vf * np.sin(psi_h), np.full(n, vd)], axis=-1)
        t_imp = sc.impact_duration
        land = heel - v_land * t_imp / 3

        # --- angle knots (yaw, pitch, roll); roll > 0 = left edge up, so inversion (lateral
        # edge down) is -side * angle. Knot kinds per contact, in time order:
        # IC (landed) or start, FF (landed), HO + TO + SW (lifts) or end.
        inv = -side * np.deg2rad(
            [sc.strike_inversion_deg, -sc.stance_eversion_deg, sc.toe_off_inversion_deg]
        )
        lift = np.flatnonzero(c.lifts)
        nxt = lift + 1
        swing = c.start[nxt] - c.end[lift]
        # push-off: the pitch rate rises to its peak at TO (ease-in over heel-off -> TO), then
        # brakes to zero at the early-swing maximum; the maximum is placed where that braking
        # covers the remaining angle, so the foot neither overshoots nor stalls
        push = (1 - sc.heel_off_frac) * c.tc[lift]
        rest = np.maximum(swing_max[lift] - toe_off[lift], 0.1 * np.abs(toe_off[lift]))
        rest = np.minimum(rest, _MAX_PITCH - toe_off[lift])  # stay clear of pitch = 90 deg
        push_rate = np.minimum(2 * toe_off[lift] / push, 2 * rest / (0.1 * swing))
        frac = np.clip(2 * rest / np.maximum(push_rate, 1e-9) / swing, 0.1, 0.5)
        t_sw = c.end[lift] + frac * swing
        swing_max_l = toe_off[lift] + rest
        dyaw = yaw_c[nxt] - yaw_c[lift]
        stay = np.flatnonzero(~c.lifts)
        lnd = np.flatnonzero(c.landed)
        z = np.zeros

        def rows(t, yaw, dyaw, pitch, dpitch, roll, ddpitch=0.0):
            # knots; yaw and roll curvature and roll rate are 0 at every knot
            cols = np.broadcast_arrays(t, yaw, dyaw, pitch, dpitch, roll, 0.0, ddpitch)
            return np.column_stack(cols)

        sw_yaw = yaw_c[lift] + 0.5 * dyaw - side * np.deg2rad(sc.swing_yaw_deg)
        sw_roll = -side * np.deg2rad(sc.swing_roll_deg)
        sw_curv = -push_rate / (t_sw - c.end[lift])
        groups = [
            rows(c.start, yaw_c, 0.0, np.where(c.landed, strike, 0.0), 0.0,
                 np.where(c.landed, inv[0], inv[1])),
            rows(ff_t[lnd], yaw_c[lnd], 0.0, 0.0, 0.0, inv[1]),
            rows(ho_t[lift], yaw_c[lift], 0.0, 0.0, 0.0, inv[1]),
            rows(c.end[lift], yaw_c[lift], 0.0, toe_off[lift], push_rate, inv[2]),
            # at the swing maximum the foot is already turning forward (negative curvature)
            rows(t_sw, sw_yaw, dyaw / swing, swing_max_l, 0.0, sw_roll, sw_curv),
            rows(c.end[stay], yaw_c[stay], 0.0, 0.0, 0.0, inv[1]),
        ]  # fmt: skip
        k = np.concatenate(groups)
        k = k[np.argsort(k[:, 0], kind="stable")]
        y, v = k[:, [1, 3, 5]], k[:, [2, 4, 6]]
        a = np.zeros_like(y)
        a[:, 1] = k[:, 7]
        self.angles = PiecewiseQuintic.through_knots(k[:, 0], y, v, a)

        # --- heel pieces: polynomial in local time, or "toe pivot" (toe fixed, heel = toe + R d)
        r_to, w_to, a_to = self._rotation(c.end[lift])
        h_to, dh_to, ddh_to = _rigid(r_to, w_to, a_to, -self.toe)
        flat = euler_matrix(yaw_c[lift], z(lift.size), np.full(lift.size, inv[1]))
        toe_w = heel[lift] + rotate(flat, np.broadcast_to(self.toe, (lift.size, 3)))
        p0, v0, a0 = toe_w + h_to, dh_to, ddh_to
        p2, v2 = land[nxt], v_land[nxt]
        vel = (p2 - p0) / swing[:, None]
        # the heel path has its own mid-swing knot (at a fixed fraction of swing, independent of
        # the pitch maximum) where the lowest point of the foot is `clearance` above the ground
        t_hk = c.end[lift] + _HEEL_KNOT_FRAC * swing
        p1 = p0 + _HEEL_KNOT_FRAC * (p2 - p0)
        pitch_hk = self.angles(t_hk)[0][:, 1]
        p1[:, 2] = sc.clearance + sc.foot_length * np.maximum(np.sin(pitch_hk), 0.0)
        vel[:, 2] = 0.0
        zz = np.zeros_like(p0)
        vt = v_land[lnd] * t_imp

        def poly(c0: FloatArray, *rest: FloatArray) -> FloatArray:
            out = np.zeros((c0.shape[0], 6, 3))
            out[:, 0] = c0
            for i, ci in enumerate(rest, start=1):
                out[:, i] = ci
            return out

        pieces = [  # (breaks, coeffs, is toe pivot)
            (c.start[lnd], poly(land[lnd], vt, -vt, vt / 3), False),
            (c.start + np.where(c.landed, t_imp, 0.0), poly(heel), False),
            (ho_t[lift], poly(toe_w), True),
            (c.end[lift], quintic_coeffs(t_hk - c.end[lift], p0, v0, a0, p1, vel, zz), False),
            (t_hk, quintic_coeffs(c.start[nxt] - t_hk, p1, vel, zz, p2, v2, zz), False),
        ]
        brk = np.concatenate([p[0] for p in pieces])
        order = np.argsort(brk, kind="stable")
        coeffs = np.concatenate([p[1] for p in pieces])[order]
        pivot = np.concatenate([np.full(p[0].size, p[2]) for p in pieces])[order]
        self.heel = PiecewiseQuintic(np.append(brk[order], plan.t_end + 1.0), coeffs)
        self.pivot = pivot

    def _rotation(self, t: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        ang, rate, acc = (tuple(x.T) for x in self.angles(t))
        r = euler_matrix(*ang)
        omega, alpha = body_rates(ang, rate, acc)
        return r, omega, alpha

    def orientation(self, t: FloatArray) -> FloatArray:
        """Foot body->world rotation matrices, shape (n, 3, 3)."""
        return self._rotation(t)[0]

    def kinematics(self, t: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Orientation (n, 3, 3), body angular velocity (n, 3) and world acceleration of the
        sensor point (n, 3, m/s^2, gravity not included) at times ``t``."""
        r, omega, alpha = self._rotation(t)
        _, _, acc = self.heel(t)
        piv = self.pivot[self.heel.piece(t)]
        if piv.any():
            _, _, a_toe = _rigid(r[piv], omega[piv], alpha[piv], -self.toe)
            acc[piv] += a_toe
        acc = acc + _rigid(r, omega, alpha, self.lever)[2]
        return r, omega, acc

    def sensor_position(self, t: FloatArray) -> FloatArray:
        """World position of the sensor point (for plots and sanity checks), shape (n, 3)."""
        r, omega, alpha = self._rotation(t)
        pos, _, _ = self.heel(t)
        piv = self.pivot[self.heel.piece(t)]
        if piv.any():
            pos[piv] += _rigid(r[piv], omega[piv], alpha[piv], -self.toe)[0]
        return pos + _rigid(r, omega, alpha, self.lever)[0]
