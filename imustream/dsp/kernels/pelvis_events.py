"""Causal initial-contact / toe-off / side kernel for a pelvis (sacrum, lower back) IMU.

Mounting invariance: "up" is the direction of the mean specific force (a cumulative mean at
first, then exponentially weighted), so only the vertical acceleration ``a_v = acc . up``
and the yaw rate ``gyr . up`` are used; both are independent of how the sensor is rotated.

Steps: every step makes ``a_v`` dip below and rise above its mean (``|g|``). A 4 Hz low-pass
of ``a_v`` segments the steps with hysteresis around ``|g|`` (threshold adapted to the
step amplitude, with an absolute floor so that standing gives nothing).

IC timing:
* running (the fast 20 Hz channel dipped below 0.5 g: a flight phase): the onset of the rise,
  found with the tangent at the steepest point extrapolated down to the flight level;
* walking: the steepest rise of a 3 Hz low-pass of ``a_v``.
Each filter's low-frequency group delay is subtracted.

TO (running only): the fast channel falling through 0.5 g after the stance peak.

Side (needs a gyroscope): the pelvis yaws towards the swing leg until its foot strikes, so
the yaw rate about "up" just before an IC is negative for a left IC. Evidence from each
step is combined under the alternation prior (left, right, left ...) with forgetting, so
one ambiguous step does not flip the sequence.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit
from scipy.signal import butter

from .filters import sos_step

IC = 0
TO = 1
SIDE_NONE = -1
SIDE_LEFT = 0
SIDE_RIGHT = 1

# float state indices
_F_G = 0  # 0..2 mean specific force (gravity estimate)
_F_SEG_AMP = 3  # EW mean |seg - |g||
_F_FAST_PREV = 4
_F_SLOW_PREV = 5
_F_FD_MAX = 6  # max fast derivative since armed
_F_FD_IDX = 7
_F_FD_VAL = 8  # fast value at that point
_F_F_VALLEY = 9  # fast minimum since armed
_F_SD_MAX = 10
_F_SD_IDX = 11
_F_YAW_AT = 12  # yaw (slow) at the slow steepest point
_F_FD_PREV = 13  # previous fast derivative (for parabolic refinement)
_F_SD_PREV = 14
_F_FD_PREV2 = 15
_F_SD_PREV2 = 16
_F_SIDE_SCORE = 17
_F_FAST_PEAK = 18  # fast maximum since the IC (stance peak)
_F_LAST_IC_T = 19
_N_F = 20

# int state indices
_I_N = 0
_I_PHASE = 1  # 0 idle, 1 armed (below), 2 fired (above, waiting for the steep point to pass)
_I_RUNNING = 2  # mode of the current step
_I_TO_WAIT = 3  # 1 after a running IC until its TO
_I_PARITY = 4  # alternation parity of the next IC
_I_N_IC = 5
_I_LAST_SIDE = 6
_N_I = 7


class PelvisParams(NamedTuple):
    """Parameters of :func:`pelvis_events` (accelerations in m/s^2, durations in samples)."""

    fs: float
    sos_seg: np.ndarray  # segmentation low-pass
    sos_fast: np.ndarray  # running timing low-pass
    sos_slow: np.ndarray  # walking timing low-pass
    sos_yaw: np.ndarray  # yaw-rate low-pass
    gd_fast: float  # group delays in samples
    gd_slow: float
    grav_window: int  # samples of the gravity average
    amp_decay: float
    hyst_abs: float = 0.6  # absolute hysteresis floor around |g|
    hyst_rel: float = 0.35  # hysteresis as a fraction of the step amplitude
    flight_frac: float = 0.5  # fast a_v below this fraction of |g| = flight (running)
    to_frac: float = 0.5  # running TO: fast a_v falls through this fraction of |g|
    side_forget: float = 0.6  # per-step forgetting of the side evidence
    bout_gap: int = 300  # samples without IC after which the side evidence restarts
    has_gyr: bool = True


def _lp(order: int, fc: float, fs: float) -> tuple[np.ndarray, float]:
    fc = min(fc, 0.35 * fs)
    sos = np.ascontiguousarray(butter(order, fc, fs=fs, output="sos"))
    # low-frequency group delay of a 2nd-order Butterworth: sqrt(2) / (2 pi fc) seconds
    return sos, math.sqrt(2.0) / (2.0 * math.pi * fc) * fs


def make_params(fs: float, has_gyr: bool = True, **overrides) -> PelvisParams:
    """Default :class:`PelvisParams` for sampling rate ``fs``."""
    sos_seg, _ = _lp(2, 4.0, fs)
    sos_fast, gd_fast = _lp(2, 20.0, fs)
    sos_slow, gd_slow = _lp(2, 3.0, fs)
    sos_yaw, _ = _lp(2, 3.0, fs)
    p = PelvisParams(
        fs=float(fs),
        sos_seg=sos_seg,
        sos_fast=sos_fast,
        sos_slow=sos_slow,
        sos_yaw=sos_yaw,
        gd_fast=gd_fast,
        gd_slow=gd_slow,
        grav_window=max(1, round(10.0 * fs)),
        amp_decay=1.0 / (2.0 * fs),
        bout_gap=max(1, round(1.5 * fs)),
        has_gyr=bool(has_gyr),
    )
    return p._replace(**overrides)


class PelvisState(NamedTuple):
    """Explicit kernel state (arrays, mutated in place)."""

    f: np.ndarray
    i: np.ndarray
    z_seg: np.ndarray  # filter states (1, sections, 2)
    z_fast: np.ndarray
    z_slow: np.ndarray
    z_yaw: np.ndarray


def new_state(p: PelvisParams) -> PelvisState:
    """A fresh state (before the first sample)."""
    return PelvisState(
        f=np.zeros(_N_F),
        i=np.zeros(_N_I, dtype=np.int64),
        z_seg=np.zeros((1, p.sos_seg.shape[0], 2)),
        z_fast=np.zeros((1, p.sos_fast.shape[0], 2)),
        z_slow=np.zeros((1, p.sos_slow.shape[0], 2)),
        z_yaw=np.zeros((1, p.sos_yaw.shape[0], 2)),
    )


@njit(cache=True, nogil=True)
def _peak_offset(y0: float, y1: float, y2: float) -> float:
    """Sub-sample offset in [-0.5, 0.5] of the extremum of a parabola through 3 samples."""
    den = y0 - 2.0 * y1 + y2
    if den == 0.0:
        return 0.0
    off = 0.5 * (y0 - y2) / den
    return min(0.5, max(-0.5, off))


@njit(cache=True, nogil=True)
def pelvis_events(
    p: PelvisParams,
    st: PelvisState,
    acc: np.ndarray,
    gyr: np.ndarray,
    out_kind: np.ndarray,
    out_idx: np.ndarray,
    out_side: np.ndarray,
    out_emit: np.ndarray,
) -> int:
    """Feed ``acc`` (n, 3) m/s^2 and ``gyr`` (n, 3) rad/s; write events; return their count.

    Missing acc axes must be passed as 0. ``out_side`` gets SIDE_LEFT / SIDE_RIGHT /
    SIDE_NONE. Outputs need room for ``2 * n + 2`` events.
    """
    f = st.f
    iv = st.i
    n_out = 0
    for k in range(acc.shape[0]):
        n = iv[_I_N]
        ax = acc[k, 0]
        ay = acc[k, 1]
        az = acc[k, 2]
        # gravity: cumulative mean, then exponentially weighted over grav_window samples
        a = 1.0 / min(n + 1, p.grav_window)
        f[_F_G] += a * (ax - f[_F_G])
        f[_F_G + 1] += a * (ay - f[_F_G + 1])
        f[_F_G + 2] += a * (az - f[_F_G + 2])
        gm = math.sqrt(f[_F_G] ** 2 + f[_F_G + 1] ** 2 + f[_F_G + 2] ** 2)
        if gm < 1e-9:
            iv[_I_N] = n + 1
            continue
        ux = f[_F_G] / gm
        uy = f[_F_G + 1] / gm
        uz = f[_F_G + 2] / gm
        av = ax * ux + ay * uy + az * uz
        yaw = gyr[k, 0] * ux + gyr[k, 1] * uy + gyr[k, 2] * uz
        # av - |g| starts at 0 (the first sample is the first gravity estimate): filters at rest
        seg = sos_step(p.sos_seg, st.z_seg, 0, av - gm) + gm
        fast = sos_step(p.sos_fast, st.z_fast, 0, av - gm) + gm
        slow = sos_step(p.sos_slow, st.z_slow, 0, av - gm) + gm
        yaw_lp = sos_step(p.sos_yaw, st.z_yaw, 0, yaw)
        if n == 0:
            f[_F_FAST_PREV] = fast
            f[_F_SLOW_PREV] = slow
        fd = fast - f[_F_FAST_PREV]
        sd = slow - f[_F_SLOW_PREV]
        dev = seg - gm
        f[_F_SEG_AMP] += p.amp_decay * (abs(dev) - f[_F_SEG_AMP])
        h = max(p.hyst_abs, p.hyst_rel * f[_F_SEG_AMP])
        phase = iv[_I_PHASE]
        if phase == 0:
            if dev < -h:
                iv[_I_PHASE] = 1
                f[_F_FD_MAX] = -1e300
                f[_F_SD_MAX] = -1e300
                f[_F_F_VALLEY] = fast
        else:
            if fast < f[_F_F_VALLEY] and phase == 1:
                f[_F_F_VALLEY] = fast
            # steepest points, refined by a parabola once the derivative has turned
            if fd > f[_F_FD_MAX]:
                f[_F_FD_MAX] = fd
                f[_F_FD_IDX] = n
                f[_F_FD_VAL] = fast
            elif f[_F_FD_IDX] == n - 1:
                f[_F_FD_IDX] = n - 1 + _peak_offset(f[_F_FD_PREV2], f[_F_FD_PREV], fd)
            if sd > f[_F_SD_MAX]:
                f[_F_SD_MAX] = sd
                f[_F_SD_IDX] = n
                f[_F_YAW_AT] = yaw_lp
            elif f[_F_SD_IDX] == n - 1:
                f[_F_SD_IDX] = n - 1 + _peak_offset(f[_F_SD_PREV2], f[_F_SD_PREV], sd)
            if phase == 1 and dev > h:
                iv[_I_PHASE] = 2
            if iv[_I_PHASE] == 2 and fd < 0.5 * f[_F_FD_MAX] and sd < 0.5 * f[_F_SD_MAX]:
                running = f[_F_F_VALLEY] < p.flight_frac * gm
                if running:
                    slope = max(f[_F_FD_MAX], 1e-12)
                    t_ic = f[_F_FD_IDX] - (f[_F_FD_VAL] - f[_F_F_VALLEY]) / slope - p.gd_fast
                else:
                    t_ic = f[_F_SD_IDX] - p.gd_slow
                side = SIDE_NONE
                if p.has_gyr:
                    if iv[_I_N_IC] > 0 and n - f[_F_LAST_IC_T] > p.bout_gap:
                        f[_F_SIDE_SCORE] = 0.0
                    sgn = 1.0 if iv[_I_PARITY] == 0 else -1.0
                    # evidence for "this IC is left": negative yaw rate
                    f[_F_SIDE_SCORE] = p.side_forget * f[_F_SIDE_SCORE] - sgn * f[_F_YAW_AT]
                    left = (f[_F_SIDE_SCORE] * sgn) > 0.0
                    side = SIDE_LEFT if left else SIDE_RIGHT
                    iv[_I_PARITY] = 1 - iv[_I_PARITY]
                out_kind[n_out] = IC
                out_idx[n_out] = t_ic
                out_side[n_out] = side
                out_emit[n_out] = n
                n_out += 1
                iv[_I_N_IC] += 1
                iv[_I_LAST_SIDE] = side
                f[_F_LAST_IC_T] = n
                iv[_I_PHASE] = 0
                iv[_I_RUNNING] = 1 if running else 0
                iv[_I_TO_WAIT] = 1 if running else 0
                f[_F_FAST_PEAK] = fast
        # running TO: fast a_v falls through to_frac * |g| after the stance peak
        if iv[_I_TO_WAIT] == 1:
            if fast > f[_F_FAST_PEAK]:
                f[_F_FAST_PEAK] = fast
            lvl = p.to_frac * gm
            prev = f[_F_FAST_PREV]
            if f[_F_FAST_PEAK] > gm and prev >= lvl and fast < lvl:
                t_to = n - 1 + (prev - lvl) / (prev - fast) - p.gd_fast
                out_kind[n_out] = TO
                out_idx[n_out] = t_to
                out_side[n_out] = iv[_I_LAST_SIDE]
                out_emit[n_out] = n
                n_out += 1
                iv[_I_TO_WAIT] = 0
        f[_F_FD_PREV2] = f[_F_FD_PREV]
        f[_F_FD_PREV] = fd
        f[_F_SD_PREV2] = f[_F_SD_PREV]
        f[_F_SD_PREV] = sd
        f[_F_FAST_PREV] = fast
        f[_F_SLOW_PREV] = slow
        iv[_I_N] = n + 1
    return n_out
