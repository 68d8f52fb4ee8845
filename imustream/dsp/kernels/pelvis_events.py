"""Causal initial-contact / toe-off / side kernel for a pelvis (sacrum, lower back) IMU.

Mounting invariance: "up" is the direction of the mean specific force (a cumulative mean at
first, then exponentially weighted over 4 s); the vertical acceleration ``a_v = acc . up``
and the learnt forward / lateral directions do not depend on how the sensor is rotated. No
gyroscope is needed; with one, the gravity estimate used for IC timing is also turned with the
sensor every sample, so ``a_v`` follows the trunk when it bends, sits down or turns.

Steps: every step makes ``a_v`` dip below and rise above its mean (``|g|``). A 4 Hz low-pass
of ``a_v`` segments the steps with hysteresis around ``|g|`` (threshold adapted to the
step amplitude, with an absolute floor so that standing gives nothing). The rise (weight
acceptance) must pass the full threshold; the dip before it only half of it, because slow,
irregular or turning walking steps (mobgap Test11) often dip shallowly before a clear impact.
A dip without a rise within ``arm_timeout`` is dropped.

IC timing:
* running (the fast 20 Hz channel dipped below 0.5 g: a flight phase): the onset of the rise,
  found with the tangent at the steepest point extrapolated down to the flight level, emitted
  as soon as the rise is past its steepest point and above 1 g;
* walking: the steepest rise of a 3 Hz low-pass of ``a_v``, emitted once the step is
  confirmed by the 4 Hz channel.
Each filter's low-frequency group delay is subtracted.

TO (running only): the fast channel falling through 0.5 g after the stance peak.

Side (needs all three accelerometer axes): while one foot is in stance the pelvis is pushed
towards the other side, so in the ~0.25 s before a left IC (right stance) the lateral
acceleration points left. "Left" is ``up x forward`` (with the plain, gyro-free "up");
"forward" is learnt causally: across each IC the horizontal acceleration drops (braking), so
forward = -sum(after - before) over all ICs so far (the lateral parts alternate and cancel).
Until forward is known (2 walking ICs, 4 once one was running), events are held back and then
emitted in order; once known it is kept. Step evidence is combined under the alternation prior
(left, right, left ...) with forgetting, so one ambiguous step does not flip sides.
"""

from __future__ import annotations

import functools
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

QUEUE = 256  # events held back until the forward direction is known
CAL_QUEUE = 64  # ICs waiting for their post-IC window (forward calibration)

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
_F_FD_PREV = 12  # previous derivatives (parabolic refinement)
_F_FD_PREV2 = 13
_F_SD_PREV = 14
_F_SD_PREV2 = 15
_F_SIDE_SCORE = 16
_F_FAST_PEAK = 17  # fast maximum since the IC (stance peak)
_F_LAST_IC_T = 18
_F_CS = 19  # 19..21 running sum of acc
_F_D = 22  # 22..24 sum over ICs of (mean acc after - mean acc before)
_F_ARM_N = 25  # sample at which the current step armed
_F_LAT = 26  # 26..28 the last lateral axis that was known
_F_GT = 29  # 29..31 gravity estimate turned with the gyroscope (vertical for IC detection)
_N_F = 32

# int state indices
_I_N = 0
_I_PHASE = 1  # 0 idle, 1 armed (below), 2 fired (above), 3 IC emitted early, wait for stance
_I_TO_WAIT = 2  # 1 after a running IC until its TO
_I_PARITY = 3  # alternation parity of the next IC output
_I_N_IC = 4  # ICs output
_I_LAST_SIDE = 5
_I_Q_HEAD = 6  # output queue (events not yet emitted)
_I_Q_TAIL = 7
_I_C_HEAD = 8  # calibration queue
_I_C_TAIL = 9
_I_N_CAL = 10  # ICs accumulated into _F_D
_I_LAT_OK = 11  # 1 once a lateral axis was known (kept in _F_LAT)
_I_N_RUN = 12  # running ICs detected so far
_N_I = 13


class PelvisParams(NamedTuple):
    """Parameters of :func:`pelvis_events` (accelerations in m/s^2, durations in samples)."""

    fs: float
    sos_seg: np.ndarray  # segmentation low-pass
    sos_fast: np.ndarray  # running timing low-pass
    sos_slow: np.ndarray  # walking timing low-pass
    gd_fast: float  # low-frequency group delays, samples
    gd_slow: float
    grav_window: int  # samples of the gravity average
    amp_decay: float
    ring: int  # samples of acc history kept (running sums)
    pre_start: int  # side cue window [IC - pre_start, IC - pre_end)
    pre_end: int
    cal_window: int  # forward calibration: means over [IC - w, IC) and [IC, IC + w)
    max_hold: int  # samples an event may wait for the forward direction (then side None)
    bout_gap: int  # samples without IC after which the side evidence restarts
    arm_timeout: int  # samples an armed step may wait for its rise before it is dropped
    hyst_abs: float = 0.6  # absolute hysteresis floor around |g|
    hyst_rel: float = 0.35  # hysteresis as a fraction of the step amplitude
    arm_frac: float = 0.5  # a step arms when a_v dips below |g| - arm_frac * hysteresis
    flight_frac: float = 0.5  # fast a_v below this fraction of |g| = flight (running)
    to_frac: float = 0.5  # running TO: fast a_v falls through this fraction of |g|
    side_forget: float = 0.6  # per-step forgetting of the side evidence
    cal_ics: int = 4  # ICs before the forward direction is trusted (once any IC was running)
    cal_ics_walk: int = 2  # the same while every IC so far was a walking one
    cal_min: float = 0.2  # m/s^2 mean horizontal braking step needed
    sides: bool = True  # False when an accelerometer axis is missing
    use_gyro: bool = True  # turn the gravity estimate with the gyroscope when one is given


def _lp(order: int, fc: float, fs: float) -> tuple[np.ndarray, float]:
    sos, gd = _lp_design(order, float(fc), float(fs))
    return sos.copy(), gd  # each detector its own array


@functools.lru_cache(maxsize=32)
def _lp_design(order: int, fc: float, fs: float) -> tuple[np.ndarray, float]:
    # cached: scipy's design is ~0.4 ms, most of the cost of making a detector
    fc = min(fc, 0.35 * fs)
    sos = np.ascontiguousarray(butter(order, fc, fs=fs, output="sos"))
    # low-frequency group delay of a 2nd-order Butterworth: sqrt(2) / (2 pi fc) seconds
    return sos, math.sqrt(2.0) / (2.0 * math.pi * fc) * fs


def make_params(fs: float, sides: bool = True, **overrides) -> PelvisParams:
    """Default :class:`PelvisParams` for sampling rate ``fs``."""
    sos_seg, _ = _lp(2, 4.0, fs)
    sos_fast, gd_fast = _lp(2, 20.0, fs)
    sos_slow, gd_slow = _lp(2, 3.0, fs)
    p = PelvisParams(
        fs=float(fs),
        sos_seg=sos_seg,
        sos_fast=sos_fast,
        sos_slow=sos_slow,
        gd_fast=gd_fast,
        gd_slow=gd_slow,
        grav_window=max(1, round(4.0 * fs)),
        amp_decay=1.0 / (2.0 * fs),
        ring=max(8, round(2.0 * fs)),
        pre_start=max(2, round(0.25 * fs)),
        pre_end=max(1, round(0.05 * fs)),
        cal_window=max(1, round(0.1 * fs)),
        max_hold=max(1, round(5.0 * fs)),
        bout_gap=max(1, round(1.5 * fs)),
        arm_timeout=max(2, round(1.0 * fs)),
        sides=bool(sides),
    )
    return p._replace(**overrides)


class PelvisState(NamedTuple):
    """Explicit kernel state (arrays, mutated in place)."""

    f: np.ndarray
    i: np.ndarray
    z_seg: np.ndarray  # filter states (1, sections, 2)
    z_fast: np.ndarray
    z_slow: np.ndarray
    cs_ring: np.ndarray  # (ring, 3) running acc sum before each sample
    q_kind: np.ndarray  # (QUEUE,) output queue
    q_idx: np.ndarray
    q_pre: np.ndarray  # (QUEUE, 3) mean acc in the side-cue window of an IC
    c_idx: np.ndarray  # (CAL_QUEUE,) IC sample indices awaiting calibration


def new_state(p: PelvisParams) -> PelvisState:
    """A fresh state (before the first sample)."""
    return PelvisState(
        f=np.zeros(_N_F),
        i=np.zeros(_N_I, dtype=np.int64),
        z_seg=np.zeros((1, p.sos_seg.shape[0], 2)),
        z_fast=np.zeros((1, p.sos_fast.shape[0], 2)),
        z_slow=np.zeros((1, p.sos_slow.shape[0], 2)),
        cs_ring=np.zeros((p.ring, 3)),
        q_kind=np.zeros(QUEUE, dtype=np.int64),
        q_idx=np.zeros(QUEUE),
        q_pre=np.zeros((QUEUE, 3)),
        c_idx=np.zeros(CAL_QUEUE, dtype=np.int64),
    )


# Flat buffers for the per-call wrappers (:func:`pelvis_events_flat`): numba unboxes a
# NamedTuple of arrays field by field on every call (microseconds), a flat array once.
_P_SCALARS = tuple(f for f in PelvisParams._fields if not f.startswith("sos_"))
_P_INTS = ("grav_window", "ring", "pre_start", "pre_end", "cal_window", "max_hold")
_P_INTS += ("bout_gap", "arm_timeout", "cal_ics", "cal_ics_walk")
_P_SOS = len(_P_SCALARS)  # then the section counts of sos_seg, sos_fast, sos_slow, then them


def params_buffer(p: PelvisParams) -> np.ndarray:
    """``p`` as one float64 array (what :func:`pelvis_events_flat` takes)."""
    for name in _P_INTS:
        v = getattr(p, name)
        if v != int(v):
            raise ValueError(f"PelvisParams.{name} must be a whole number of samples, got {v!r}")
    head = [float(getattr(p, f)) for f in _P_SCALARS]
    head += [p.sos_seg.shape[0], p.sos_fast.shape[0], p.sos_slow.shape[0]]
    sos = [
        np.ascontiguousarray(s, dtype=np.float64).ravel()
        for s in (p.sos_seg, p.sos_fast, p.sos_slow)
    ]
    return np.concatenate([np.array(head, dtype=np.float64), *sos])


def _state_sizes(p: PelvisParams) -> tuple[int, int]:
    n_z = 2 * (p.sos_seg.shape[0] + p.sos_fast.shape[0] + p.sos_slow.shape[0])
    return _N_F + n_z + 3 * p.ring + 4 * QUEUE, _N_I + QUEUE + CAL_QUEUE


def state_buffers(p: PelvisParams) -> tuple[np.ndarray, np.ndarray, PelvisState]:
    """A fresh state as a float64 and an int64 buffer, and a :class:`PelvisState` of views
    of them (what :func:`pelvis_events` would be given). All zeros: reset by filling 0."""
    nf, ni = _state_sizes(p)
    fb = np.zeros(nf)
    ib = np.zeros(ni, dtype=np.int64)
    return fb, ib, _state_views(fb, ib, p.ring, p.sos_seg.shape[0], p.sos_fast.shape[0])


@njit(cache=True, nogil=True)
def _state_views(fb, ib, ring, ns_seg, ns_fast):
    o1 = _N_F + 2 * ns_seg
    o2 = o1 + 2 * ns_fast
    o3 = fb.shape[0] - 4 * QUEUE - 3 * ring
    o4 = o3 + 3 * ring
    return PelvisState(
        fb[:_N_F],
        ib[:_N_I],
        fb[_N_F:o1].reshape((1, ns_seg, 2)),
        fb[o1:o2].reshape((1, ns_fast, 2)),
        fb[o2:o3].reshape((1, (o3 - o2) // 2, 2)),
        fb[o3:o4].reshape((ring, 3)),
        ib[_N_I : _N_I + QUEUE],
        fb[o4 : o4 + QUEUE],
        fb[o4 + QUEUE :].reshape((QUEUE, 3)),
        ib[_N_I + QUEUE :],
    )


@njit(cache=True, nogil=True)
def _params(pb):
    n0 = int(pb[_P_SOS])
    n1 = int(pb[_P_SOS + 1])
    n2 = int(pb[_P_SOS + 2])
    o = _P_SOS + 3
    sos_seg = pb[o : o + 6 * n0].reshape((n0, 6))
    o += 6 * n0
    sos_fast = pb[o : o + 6 * n1].reshape((n1, 6))
    o += 6 * n1
    sos_slow = pb[o : o + 6 * n2].reshape((n2, 6))
    # the scalars in PelvisParams field order (fs, then from gd_fast on)
    return PelvisParams(
        pb[0], sos_seg, sos_fast, sos_slow, pb[1], pb[2], int(pb[3]), pb[4], int(pb[5]),
        int(pb[6]), int(pb[7]), int(pb[8]), int(pb[9]), int(pb[10]), int(pb[11]), pb[12],
        pb[13], pb[14], pb[15], pb[16], pb[17], int(pb[18]), int(pb[19]), pb[20],
        pb[21] != 0.0, pb[22] != 0.0,
    )  # fmt: skip


@njit(cache=True, nogil=True)
def _peak_offset(y0: float, y1: float, y2: float) -> float:
    """Sub-sample offset in [-0.5, 0.5] of the extremum of a parabola through 3 samples."""
    den = y0 - 2.0 * y1 + y2
    if den == 0.0:
        return 0.0
    off = 0.5 * (y0 - y2) / den
    return min(0.5, max(-0.5, off))


@njit(cache=True, nogil=True)
def _window_mean(st, p, n, a, b, out):
    """Mean acc over samples [a, b) once ``n`` samples are summed; False if unavailable."""
    if a < 0 or b <= a or b > n or n - a >= p.ring:
        return False
    for c in range(3):
        sb = st.f[_F_CS + c] if b == n else st.cs_ring[b % p.ring, c]
        out[c] = (sb - st.cs_ring[a % p.ring, c]) / (b - a)
    return True


@njit(cache=True, nogil=True)
def _queue(st, kind, idx, pre0, pre1, pre2):
    t = st.i[_I_Q_TAIL]
    if t - st.i[_I_Q_HEAD] >= QUEUE:  # full: the oldest leaves without a side (not lost)
        return False
    j = t % QUEUE
    st.q_kind[j] = kind
    st.q_idx[j] = idx
    st.q_pre[j, 0] = pre0
    st.q_pre[j, 1] = pre1
    st.q_pre[j, 2] = pre2
    st.i[_I_Q_TAIL] = t + 1
    return True


@njit(cache=True, nogil=True)
def _emit_queue(st, p, n, lx, ly, lz, known, force, out_kind, out_idx, out_side, out_emit, n_out):
    """Emit queued events in order; ``known`` = the lateral axis (lx, ly, lz) is valid.

    Without it, events wait up to ``max_hold`` samples (or until ``force``), then leave
    without a side.
    """
    while st.i[_I_Q_HEAD] < st.i[_I_Q_TAIL]:
        j = st.i[_I_Q_HEAD] % QUEUE
        kind = st.q_kind[j]
        idx = st.q_idx[j]
        if not known and p.sides and not force and n - idx < p.max_hold:
            break
        if kind == IC:
            side = SIDE_NONE
            if known:
                if st.i[_I_N_IC] > 0 and idx - st.f[_F_LAST_IC_T] > p.bout_gap:
                    st.f[_F_SIDE_SCORE] = 0.0
                sgn = 1.0 if st.i[_I_PARITY] == 0 else -1.0
                # before a left IC (right stance) the pelvis accelerates to the left
                cue = st.q_pre[j, 0] * lx + st.q_pre[j, 1] * ly + st.q_pre[j, 2] * lz
                st.f[_F_SIDE_SCORE] = p.side_forget * st.f[_F_SIDE_SCORE] + sgn * cue
                side = SIDE_LEFT if st.f[_F_SIDE_SCORE] * sgn > 0.0 else SIDE_RIGHT
                st.i[_I_PARITY] = 1 - st.i[_I_PARITY]
            st.i[_I_N_IC] += 1
            st.f[_F_LAST_IC_T] = idx
            st.i[_I_LAST_SIDE] = side
        else:
            side = st.i[_I_LAST_SIDE]
        out_kind[n_out] = kind
        out_idx[n_out] = idx
        out_side[n_out] = side
        out_emit[n_out] = n
        n_out += 1
        st.i[_I_Q_HEAD] += 1
    return n_out


@njit(cache=True, nogil=True)
def _lateral_axis(st, p, out):
    """Unit "left" axis (up x forward) into ``out``; False while forward is not known.

    Once known, the axis is kept: the mounting is fixed, so when the braking sum later
    falls below its threshold (turns, shuffling) the last known axis is used rather than
    holding events back again.
    """
    if _current_lateral_axis(st, p, out):
        for c in range(3):
            st.f[_F_LAT + c] = out[c]
        st.i[_I_LAT_OK] = 1
        return True
    if st.i[_I_LAT_OK] == 1:
        for c in range(3):
            out[c] = st.f[_F_LAT + c]
        return True
    return False


@njit(cache=True, nogil=True)
def _current_lateral_axis(st, p, out):
    """The lateral axis from the braking sum so far; False while it is not significant."""
    f = st.f
    # running: the vertical jump at an IC is ~10x walking's, so a small error in "up" leaks
    # more of it into the braking sum; ask for more ICs before trusting the direction
    need = p.cal_ics if st.i[_I_N_RUN] > 0 else p.cal_ics_walk
    if not p.sides or st.i[_I_N_CAL] < need:
        return False
    gm = math.sqrt(f[_F_G] ** 2 + f[_F_G + 1] ** 2 + f[_F_G + 2] ** 2)
    if gm < 1e-9:
        return False
    ux = f[_F_G] / gm
    uy = f[_F_G + 1] / gm
    uz = f[_F_G + 2] / gm
    dv = f[_F_D] * ux + f[_F_D + 1] * uy + f[_F_D + 2] * uz
    hx = f[_F_D] - dv * ux
    hy = f[_F_D + 1] - dv * uy
    hz = f[_F_D + 2] - dv * uz
    hn = math.sqrt(hx * hx + hy * hy + hz * hz)
    if hn <= p.cal_min * st.i[_I_N_CAL]:
        return False
    fx = -hx / hn
    fy = -hy / hn
    fz = -hz / hn
    out[0] = uy * fz - uz * fy
    out[1] = uz * fx - ux * fz
    out[2] = ux * fy - uy * fx
    return True


@njit(cache=True, nogil=True)
def _rotate_gravity(f, wx, wy, wz, dt):
    """Turn the IC gravity estimate (sensor frame) as the sensor turns by ``w * dt``.

    A vector fixed in the world turns by ``-w * dt`` in the sensor frame (Rodrigues).
    """
    wn = math.sqrt(wx * wx + wy * wy + wz * wz)
    th = wn * dt
    if th < 1e-12:
        return
    kx = -wx / wn
    ky = -wy / wn
    kz = -wz / wn
    gx = f[_F_GT]
    gy = f[_F_GT + 1]
    gz = f[_F_GT + 2]
    c = math.cos(th)
    s = math.sin(th)
    kg = (kx * gx + ky * gy + kz * gz) * (1.0 - c)
    f[_F_GT] = gx * c + (ky * gz - kz * gy) * s + kx * kg
    f[_F_GT + 1] = gy * c + (kz * gx - kx * gz) * s + ky * kg
    f[_F_GT + 2] = gz * c + (kx * gy - ky * gx) * s + kz * kg


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
    """Feed ``acc`` (n, 3) m/s^2 (missing axes as 0); write events; return their count.

    ``gyr`` (n, 3) rad/s turns the gravity estimate with the sensor (trunk bending, sitting
    down, turning); pass an empty (0, 3) array without a gyroscope.

    ``out_side`` gets SIDE_LEFT / SIDE_RIGHT / SIDE_NONE, ``out_idx`` the fractional sample
    index from the first sample fed, ``out_emit`` the sample index at emission. Outputs need
    room for ``2 * n + QUEUE`` events.
    """
    f = st.f
    iv = st.i
    n_out = 0
    buf = np.zeros(3)
    buf2 = np.zeros(3)
    use_gyr = p.use_gyro and gyr.shape[0] == acc.shape[0]
    dt = 1.0 / p.fs
    for k in range(acc.shape[0]):
        n = iv[_I_N]
        if use_gyr and n > 0:
            _rotate_gravity(f, gyr[k, 0], gyr[k, 1], gyr[k, 2], dt)
        ax = acc[k, 0]
        ay = acc[k, 1]
        az = acc[k, 2]
        for c in range(3):
            st.cs_ring[n % p.ring, c] = f[_F_CS + c]
        f[_F_CS] += ax
        f[_F_CS + 1] += ay
        f[_F_CS + 2] += az
        # gravity: cumulative mean, then exponentially weighted over grav_window samples
        # (turned with the gyroscope first, when there is one)
        a = 1.0 / min(n + 1, p.grav_window)
        f[_F_G] += a * (ax - f[_F_G])
        f[_F_G + 1] += a * (ay - f[_F_G + 1])
        f[_F_G + 2] += a * (az - f[_F_G + 2])
        # the side machinery keeps the plain mean: a gyro bias would tilt the turned one by
        # bias x window, leaking the large vertical jump at each IC into the braking sum
        f[_F_GT] += a * (ax - f[_F_GT])
        f[_F_GT + 1] += a * (ay - f[_F_GT + 1])
        f[_F_GT + 2] += a * (az - f[_F_GT + 2])
        gm = math.sqrt(f[_F_GT] ** 2 + f[_F_GT + 1] ** 2 + f[_F_GT + 2] ** 2)
        if gm < 1e-9:
            iv[_I_N] = n + 1
            continue
        ux = f[_F_GT] / gm
        uy = f[_F_GT + 1] / gm
        uz = f[_F_GT + 2] / gm
        av = ax * ux + ay * uy + az * uz
        # av - |g| is 0 at the first sample (first gravity estimate): filters start at rest
        seg = sos_step(p.sos_seg, st.z_seg, 0, av - gm) + gm
        fast = sos_step(p.sos_fast, st.z_fast, 0, av - gm) + gm
        slow = sos_step(p.sos_slow, st.z_slow, 0, av - gm) + gm
        if n == 0:
            f[_F_FAST_PREV] = fast
            f[_F_SLOW_PREV] = slow
        fd = fast - f[_F_FAST_PREV]
        sd = slow - f[_F_SLOW_PREV]
        dev = seg - gm
        f[_F_SEG_AMP] += p.amp_decay * (abs(dev) - f[_F_SEG_AMP])
        h = max(p.hyst_abs, p.hyst_rel * f[_F_SEG_AMP])
        phase = iv[_I_PHASE]
        if phase == 1 and n - f[_F_ARM_N] > p.arm_timeout:
            # no rise within a step time of the dip (sitting down, bending, shuffling): drop
            # it, or the steepest rise of a much later movement would be dated back to here
            iv[_I_PHASE] = 0
            phase = 0
        if phase == 0:
            if dev < -p.arm_frac * h:
                iv[_I_PHASE] = 1
                f[_F_ARM_N] = n
                f[_F_FD_MAX] = -1e300
                f[_F_SD_MAX] = -1e300
                f[_F_F_VALLEY] = fast
        elif phase == 3:
            if dev > h:  # the stance after an early (running) IC: ready for the next step
                iv[_I_PHASE] = 0
        else:
            if phase == 1 and fast < f[_F_F_VALLEY]:
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
            elif f[_F_SD_IDX] == n - 1:
                f[_F_SD_IDX] = n - 1 + _peak_offset(f[_F_SD_PREV2], f[_F_SD_PREV], sd)
            if phase == 1 and dev > h:
                iv[_I_PHASE] = 2
            running = f[_F_F_VALLEY] < p.flight_frac * gm
            # running: emit as soon as the rise out of flight is past its steepest point and
            # above 1 g; walking: once the step is confirmed and both rises have turned
            early = running and fast > gm and fd < 0.5 * f[_F_FD_MAX]
            late = iv[_I_PHASE] == 2 and fd < 0.5 * f[_F_FD_MAX] and sd < 0.5 * f[_F_SD_MAX]
            if early or late:
                if running:
                    slope = max(f[_F_FD_MAX], 1e-12)
                    t_ic = f[_F_FD_IDX] - (f[_F_FD_VAL] - f[_F_F_VALLEY]) / slope - p.gd_fast
                else:
                    t_ic = f[_F_SD_IDX] - p.gd_slow
                i_ic = math.floor(t_ic + 0.5)
                ok = _window_mean(st, p, n + 1, i_ic - p.pre_start, i_ic - p.pre_end, buf)
                if not ok:
                    buf[:] = 0.0
                if not _queue(st, IC, t_ic, buf[0], buf[1], buf[2]):
                    n_out = _emit_queue(
                        st, p, n, 0.0, 0.0, 0.0, False, True,
                        out_kind, out_idx, out_side, out_emit, n_out,
                    )  # fmt: skip
                    _queue(st, IC, t_ic, buf[0], buf[1], buf[2])
                if running:
                    iv[_I_N_RUN] += 1
                if p.sides and iv[_I_C_TAIL] - iv[_I_C_HEAD] < CAL_QUEUE:
                    st.c_idx[iv[_I_C_TAIL] % CAL_QUEUE] = i_ic
                    iv[_I_C_TAIL] += 1
                iv[_I_PHASE] = 0 if iv[_I_PHASE] == 2 else 3
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
                if not _queue(st, TO, t_to, 0.0, 0.0, 0.0):
                    n_out = _emit_queue(
                        st, p, n, 0.0, 0.0, 0.0, False, True,
                        out_kind, out_idx, out_side, out_emit, n_out,
                    )  # fmt: skip
                    _queue(st, TO, t_to, 0.0, 0.0, 0.0)
                iv[_I_TO_WAIT] = 0
        # forward calibration: horizontal acceleration drops across each IC (braking)
        while iv[_I_C_HEAD] < iv[_I_C_TAIL]:
            i_ic = st.c_idx[iv[_I_C_HEAD] % CAL_QUEUE]
            if n + 1 < i_ic + p.cal_window:
                break
            iv[_I_C_HEAD] += 1
            before = _window_mean(st, p, n + 1, i_ic - p.cal_window, i_ic, buf)
            after = _window_mean(st, p, n + 1, i_ic, i_ic + p.cal_window, buf2)
            if before and after:
                for c in range(3):
                    f[_F_D + c] += buf2[c] - buf[c]
                iv[_I_N_CAL] += 1
        if iv[_I_Q_HEAD] < iv[_I_Q_TAIL]:
            known = _lateral_axis(st, p, buf)
            n_out = _emit_queue(
                st, p, n, buf[0], buf[1], buf[2], known, False,
                out_kind, out_idx, out_side, out_emit, n_out,
            )  # fmt: skip
        f[_F_FD_PREV2] = f[_F_FD_PREV]
        f[_F_FD_PREV] = fd
        f[_F_SD_PREV2] = f[_F_SD_PREV]
        f[_F_SD_PREV] = sd
        f[_F_FAST_PREV] = fast
        f[_F_SLOW_PREV] = slow
        iv[_I_N] = n + 1
    return n_out


@njit(cache=True, nogil=True)
def pelvis_flush(
    p: PelvisParams,
    st: PelvisState,
    out_kind: np.ndarray,
    out_idx: np.ndarray,
    out_side: np.ndarray,
    out_emit: np.ndarray,
) -> int:
    """Emit every held-back event now (sides None if the forward direction is unknown)."""
    lat = np.zeros(3)
    known = _lateral_axis(st, p, lat)
    return _emit_queue(
        st, p, st.i[_I_N], lat[0], lat[1], lat[2], known, True,
        out_kind, out_idx, out_side, out_emit, 0,
    )  # fmt: skip


@njit(cache=True, nogil=True)
def _nonfinite(x):
    v = x.ravel()  # a view of a C-contiguous array: one flat loop that vectorises
    ok = True
    for k in range(v.shape[0]):
        ok &= abs(v[k]) <= 1.7976931348623157e308  # False for NaN and inf
    return not ok


@njit(cache=True, nogil=True)
def pelvis_events_flat(
    pb: np.ndarray,
    fb: np.ndarray,
    ib: np.ndarray,
    acc: np.ndarray,
    gyr: np.ndarray,
    out_i: np.ndarray,
    out_idx: np.ndarray,
) -> int:
    """:func:`pelvis_events` on flat buffers (:func:`params_buffer`, :func:`state_buffers`).

    ``out_i`` (3, cap) int64 receives kind, side and emitted index, ``out_idx`` (cap,) the
    sample index. Returns the event count, or -1 if ``acc`` / -2 if ``gyr`` holds NaN or inf
    (then nothing was fed).
    """
    if _nonfinite(acc):
        return -1
    if _nonfinite(gyr):
        return -2
    p = _params(pb)
    st = _state_views(fb, ib, p.ring, p.sos_seg.shape[0], p.sos_fast.shape[0])
    return pelvis_events(p, st, acc, gyr, out_i[0], out_idx, out_i[1], out_i[2])


@njit(cache=True, nogil=True)
def pelvis_flush_flat(
    pb: np.ndarray, fb: np.ndarray, ib: np.ndarray, out_i: np.ndarray, out_idx: np.ndarray
) -> int:
    """:func:`pelvis_flush` on flat buffers (see :func:`pelvis_events_flat`)."""
    p = _params(pb)
    st = _state_views(fb, ib, p.ring, p.sos_seg.shape[0], p.sos_fast.shape[0])
    return pelvis_flush(p, st, out_i[0], out_idx, out_i[1], out_i[2])
