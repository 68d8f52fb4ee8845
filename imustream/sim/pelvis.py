"""Pelvis kinematics: orientation (axial rotation, tilt, obliquity) and linear acceleration.

Orientation is ``R = Rz(yaw) Ry(pitch) Rx(roll)`` (body -> world, pelvis frame x forward, y left,
z up). ``roll`` is the obliquity: positive = LEFT hip up (right hip down). In a left stance the
contralateral (right) hip drops, so roll rises above neutral by the drop; in a right stance roll
falls below neutral. ``pitch`` is anterior tilt (positive = tipping forward), ``yaw`` the heading
plus axial rotation (positive = right hip forward; running: peaks in left stance).

Vertical acceleration comes from a ground-reaction-force model: each stance pushes with
``A (sin(pi tau)^p + dip sin(3 pi tau))`` plus a short impact transient, scaled so that each step's
impulse equals body weight times its step time (no drift of vertical velocity over a bout); the
body falls into the first IC of a bout with the steady-state vertical speed, so the bounce is
periodic around a constant height, and absorbs it after the landing into standing.

Walking (``gait="walk"``) is an inverted pendulum rather than a bounce, and its pelvis follows
the averages of real lower-back recordings around each IC (mobgap, ``benchmarks/sim_realism.py``):
each stance force is a plateau loaded / unloaded during the double supports (the two legs hand
the weight over) with a mid-stance valley (``grf_valley``), plus a loading transient
``impact_time`` after IC, so the total exceeds body weight from just before IC through double
support (pelvis lowest just after IC) and falls below it in single support (highest at
mid-stance); amplitudes keep the vertical speed at every IC the same. The pelvis sways toward
the stance leg, crossing the midline at each IC (C2 quintic through the ICs: lateral
acceleration away from the stance foot all through its step); axial rotation crosses neutral at
each IC, the stance-side hip coming forward during the stance (rate extreme at IC); each stance
brakes from IC to ``brake_end_frac`` of the stance and propels after it (zero net impulse).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy import special

from .gait import LEFT, GaitPlan
from .hermite import PiecewiseQuintic, smoothstep
from .path import Path
from .rotations import body_rates, euler_matrix, rotate
from .scenarios import Scenario
from .wobble import Wobble

FloatArray = NDArray[np.float64]

__all__ = ["G", "PelvisModel", "bump"]

G = 9.81
_SETTLE_S = 0.3  # s to absorb the vertical speed after landing into standing
# walking: peak of a step's excursion of the quintic through the ICs, per (boundary rate * step)
_QUINTIC_PEAK = 0.3125
# walking forward force: peaks of braking / propulsion as fractions of their own stance part
_BRAKE_PEAK = 0.3
_PROPULSION_PEAK = 0.1


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


def _run_shape(tau: FloatArray, sc: Scenario) -> FloatArray:
    """Running vertical force of one stance over its normalised time (unscaled)."""
    return np.abs(np.sin(np.pi * tau)) ** sc.grf_power + sc.grf_dip * np.sin(3 * np.pi * tau)


def _run_shape_integral(sc: Scenario) -> float:
    """Integral of :func:`_run_shape` over [0, 1]."""
    p = sc.grf_power
    out = math.gamma((p + 1) / 2) / (math.sqrt(math.pi) * math.gamma(p / 2 + 1))
    return out + sc.grf_dip * 2 / (3 * np.pi)


def _walk_shape(tau: FloatArray, r_in: FloatArray, r_out: FloatArray, valley: float) -> FloatArray:
    """Walking vertical force of one stance (unscaled): loaded by a C2 smoothstep over the
    first ``r_in`` of the stance and unloaded over the last ``r_out`` (the double supports:
    the two legs' ramps add up to a constant), minus a mid-stance valley of depth ``valley``.
    Integral over [0, 1]: ``1 - (r_in + r_out) / 2 - valley (1 - r_in - r_out) / 2``."""
    inside = (tau >= 0) & (tau <= 1)
    plateau = smoothstep(tau / r_in)[0] * smoothstep((1 - tau) / r_out)[0] * inside
    return plateau - valley * bump((tau - r_in) / (1 - r_in - r_out), 0.5)[0]


def _brake_propel(tau: FloatArray, sc: Scenario) -> FloatArray:
    """Walking forward force of one stance per unit peak braking: -1 at the braking peak, then
    propulsion; zero net impulse over the stance (a bump's integral is half its width)."""
    e = sc.brake_end_frac
    brake = bump(tau / e, _BRAKE_PEAK)[0]
    propel = bump((tau - e) / (1 - e), _PROPULSION_PEAK)[0]
    return -brake + propel * e / (1 - e)


class PelvisModel:
    """Evaluates the pelvis trajectory of one planned run at arbitrary times."""

    def __init__(
        self, sc: Scenario, plan: GaitPlan, path: Path, wobble: Wobble | None = None
    ) -> None:
        self.sc, self.plan, self.path, self.wobble = sc, plan, path, wobble
        self.sign = np.where(plan.side == LEFT, 1.0, -1.0)
        self.stance = plan.to - plan.ic
        self.step = plan.next_ic - plan.ic
        f = plan.shape
        self.walk = sc.gait == "walk"
        self.impact = sc.impact_g * G * f[:, 7]
        impact_area = self.impact * sc.impact_width * np.sqrt(np.pi)
        self.tail = np.zeros(plan.ic.size)  # impulse of a stance after the next IC
        if self.walk:
            # the loading transient's lag after IC varies from step to step (wobble)
            lag = self.wobble.lag if self.wobble is not None else 0.0
            self.impact_lag = sc.impact_time + lag * np.ones(plan.ic.size)
            w, t0 = sc.impact_width, self.impact_lag  # a wide transient: its part in the stance
            impact_area = impact_area * (special.erf((self.stance - t0) / w) + special.erf(t0 / w))
            impact_area = impact_area / 2
            self.r_in, self.r_out = self._double_supports()
            self.grf_amp, self.tail = self._walking_amplitudes(impact_area)
        else:
            shape_int = _run_shape_integral(sc)
            self.grf_amp = (G * self.step - impact_area) / (self.stance * shape_int)
        self.drop = np.deg2rad(plan.drop_amp)
        self.axial = np.deg2rad(sc.axial_amp_deg) * f[:, 3] * self.sign
        self.tilt = np.deg2rad(sc.tilt_amp_deg) * f[:, 4]
        self.sway = sc.sway_lat_m * f[:, 5] * self.sign
        self.brake = sc.brake_acc * f[:, 6]
        self.lever = np.asarray(sc.pelvis_lever, dtype=float)
        self._transitions = np.zeros((0, 3))
        self._transitions = self._bout_transitions()
        if self.walk:
            self._sway = self._through_ics(self.sway, plan.side == LEFT)
            self._axial = self._through_ics(self.axial, plan.side != LEFT)

    def _through_ics(self, amp: FloatArray, positive: NDArray[np.bool_]) -> PiecewiseQuintic:
        """Walking: C2 stride-periodic oscillation crossing 0 at every IC (quintic pieces).

        In each regular step the excursion peaks at ``|amp|`` mid-step, on the side given by
        the sign of ``amp``; at an IC the rate is ``+-min`` of the two adjacent steps' rates
        (``+`` where ``positive``), 0 at the first IC and the landings of a bout, so the
        oscillation starts and stops with the bout.
        """
        plan = self.plan
        regular = np.isfinite(plan.to) & np.isfinite(plan.next_ic)
        rate = np.where(regular, np.abs(amp) / (_QUINTIC_PEAK * np.where(regular, self.step, 1)), 0)
        prev = np.concatenate([[0.0], rate[:-1]])
        v = np.minimum(prev, rate) * np.where(positive, 1.0, -1.0)
        knots = np.concatenate([[plan.t_start - 1.0], plan.ic, [plan.t_end + 1.0]])
        v = np.concatenate([[0.0], v, [0.0]])
        z = np.zeros_like(knots)
        return PiecewiseQuintic.through_knots(knots, z, v, z)

    def _double_supports(self) -> tuple[FloatArray, FloatArray]:
        """Walking: loading and unloading ramps of each stance as fractions of it: from its IC
        to the previous stance's TO, and from the next IC to its TO (nominal double support
        where there is no previous / next stance in the bout), at most 0.45 each."""
        plan, sc = self.plan, self.sc
        nominal = sc.contact_time - 60.0 / sc.cadence
        out = self.stance - self.step
        out = np.where(np.isfinite(out), out, nominal)
        prev_to = np.concatenate([[np.nan], plan.to[:-1]])
        into = np.where(np.isfinite(prev_to), prev_to - plan.ic, nominal)
        stance = np.where(np.isfinite(self.stance), self.stance, 1.0)
        r_in = np.clip(into / stance, 0.02, 0.45)
        r_out = np.clip(out / stance, 0.02, 0.45)
        return r_in, r_out

    def _walking_amplitudes(self, impact_area: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Walking stance-force amplitudes that give the same vertical speed at every IC.

        Between IC j and IC j+1 the body gets stance j's impulse except its unloading ramp
        (its tail, after IC j+1) and the tail of stance j-1. Choosing ``amp_j`` so that this
        equals ``G step_j`` (in time order, the earlier tail known) keeps the speed at IC
        constant, as in running. Returns amplitudes and tails (per unit mass, m/s).
        """
        stance, step, r_in, r_out = self.stance, self.step, self.r_in, self.r_out
        regular = np.isfinite(stance) & np.isfinite(step)
        v = self.sc.grf_valley
        whole = 1 - (r_in + r_out) / 2 - v * (1 - r_in - r_out) / 2
        ramp = r_out / 2  # a smoothstep integrates to half its width
        amp = np.full(stance.size, np.nan)
        tail = np.zeros(stance.size)
        prev = 0.0
        for j in np.flatnonzero(regular):
            before = prev if j > 0 and regular[j - 1] else 0.0
            amp[j] = (G * step[j] - before - impact_area[j]) / (stance[j] * (whole[j] - ramp[j]))
            tail[j] = amp[j] * stance[j] * ramp[j]
            prev = tail[j]
        return amp, tail

    def _bout_transitions(self) -> FloatArray:
        """(start, end, velocity change) of the vertical transitions into and out of each bout.

        In steady running the vertical speed at IC is some v0 < 0 that makes the bounce
        periodic (zero mean speed). v0 is measured on the first steps of each bout; the body
        reaches it falling into the first IC (from the first lift-off) and loses it again in
        the 0.3 s after the first landing into standing.

        Walking: v0 makes the mean over steps 2-7 zero (the first step of a bout has no
        trailing leg under it), and the last stance's push after the landing is absorbed too.
        """
        plan, rows = self.plan, []
        skip = 1 if self.walk else 0
        for t_go, first, land in plan.bouts:
            ks = np.flatnonzero((plan.ic >= first) & (plan.ic < land))[skip : 6 + skip]
            means = []
            for k in ks:
                t = np.linspace(plan.ic[k], plan.next_ic[k], 401)
                a = self._vertical(t)
                u = np.concatenate([[0.0], np.cumsum((a[1:] + a[:-1]) / 2 * np.diff(t))])
                means.append(np.mean((u[1:] + u[:-1]) / 2))
            v0 = -float(np.mean(means)) if means else 0.0
            # the last stance still pushes after the landing IC (walking)
            last = np.flatnonzero(plan.ic < land)[-1]
            end = v0 + self.tail[last]
            rows += [(t_go, first, v0), (land, land + _SETTLE_S, -end)]
        return np.array(rows, dtype=float).reshape(-1, 3)

    def _vertical(self, t: FloatArray) -> FloatArray:
        """Vertical acceleration of the pelvis centre (m/s^2, gravity not included)."""
        plan = self.plan
        k, km1 = self._steps(t)
        vert = np.zeros_like(t)
        for j in (k, km1):
            vert += self._leg_force(j, t)
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

    def _leg_force(self, j: NDArray[np.int64], t: FloatArray) -> FloatArray:
        """Vertical force per unit mass of stance ``j`` at times ``t`` (0 outside it)."""
        sc, plan = self.sc, self.plan
        ok, tau_j = self._in_stance(j, t)
        jj = np.maximum(j, 0)
        if self.walk:
            since = t - plan.ic[jj] - self.impact_lag[jj]
        else:
            since = t - plan.ic[jj] - sc.impact_time
        if self.walk:
            shape = _walk_shape(tau_j, self.r_in[jj], self.r_out[jj], sc.grf_valley)
        else:
            shape = _run_shape(tau_j, sc)
        force = self.grf_amp[jj] * shape + self.impact[jj] * np.exp(
            -((since / sc.impact_width) ** 2)
        )
        return np.where(ok, force, 0.0)

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
        if self.walk:
            ax, dax, ddax = self._axial(t)
            yaw = (psi + ax, dpsi + dax, ddpsi + ddax)
        else:
            ax = self.axial[kk]
            yaw = (psi + ax * b, dpsi + ax * db / dur, ddpsi + ax * ddb / dur**2)
        tl = self.tilt[kk]
        pitch = (np.deg2rad(sc.neutral_tilt_deg) + tl * b, tl * db / dur, tl * ddb / dur**2)
        if self.wobble is not None:
            wy, wv, wa = self.wobble.angles(t)
            yaw = tuple(x + w[:, 0] for x, w in zip(yaw, (wy, wv, wa), strict=True))
            pitch = tuple(x + w[:, 1] for x, w in zip(pitch, (wy, wv, wa), strict=True))
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
        if self.walk:
            lat = self._sway(t)[2]
        else:
            lat = self.sway[kk] * bump(tau, 0.5)[2] / dur**2
        fwd = np.zeros_like(t)
        for j in (k, km1):
            ok, tau_j = self._in_stance(j, t)
            jj = np.maximum(j, 0)
            if self.walk:
                fwd += np.where(ok, self.brake[jj] * _brake_propel(tau_j, self.sc), 0.0)
            else:
                fwd -= np.where(ok, self.brake[jj] * np.sin(2 * np.pi * tau_j), 0.0)
        vert = self._vertical(t)
        if self.wobble is not None:
            w = self.wobble(t)[2]
            fwd, lat, vert = fwd + w[:, 0], lat + w[:, 1], vert + w[:, 2]
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
