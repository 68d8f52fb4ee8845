"""Causal walking initial-contact and side kernel for a pelvis (sacrum, lower back) IMU.

At a walking foot strike the trunk is caught by the new stance leg: the vertical acceleration
rises steeply and the forward acceleration drops steeply (braking; Zijlstra & Hof 2003 use the
forward-acceleration peak just before this drop). The kernel marks the IC at the peak of

    s(t) = d/dt a_v(t) - w_fwd * d/dt a_fwd(t)

where both derivatives are Gaussian-derivative FIR filters (sigma 20 ms, as in the Gaussian
CWT of McCamley et al. 2012), evaluated with a fixed look-ahead of ``3 sigma`` samples. A peak
above ``max(thr_abs, thr_rel * typical peak)`` becomes a candidate; a higher peak within
``hold`` replaces it; the candidate is emitted ``hold`` after it (latency = 3 sigma + hold).
Peaks closer than ``refractory`` to the previous IC are ignored.

Mounting invariance: "up" is the mean specific force (cumulative mean, then an exponential
4 s window: the same estimate as :mod:`.pelvis_events`); "forward" is learnt from the braking
across each IC (forward = -sum over ICs of the horizontal mean acceleration after minus
before); until forward is known the forward term is 0 (vertical only) and events wait.

Running steps (a 20 Hz low-pass of the vertical acceleration fell below ``flight_frac`` g, a
flight phase, within ``run_window`` (0.5 s) before the peak, as in :mod:`.pelvis_events`)
are not emitted here; flight samples are marked in a ring so that the caller can keep the
running detector's events for them (:func:`flight_near`).

Sides (all three accelerometer axes): in the 0.25 s before a left IC (right stance) the
pelvis accelerates to the left (``left = up x forward``); step evidence is combined under the
left/right alternation prior with forgetting.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit
from scipy.signal import butter

from .filters import sos_step

SIDE_NONE = -1
SIDE_LEFT = 0
SIDE_RIGHT = 1

QUEUE = 256  # ICs held back until the forward direction is known
CAL_QUEUE = 64  # ICs waiting for their post-IC window (forward calibration)

# float state indices
_F_G = 0  # 0..2 gravity estimate
_F_CS = 3  # 3..5 running sum of acc
_F_D = 6  # 6..8 sum over ICs of (mean acc after - mean acc before)
_F_S1 = 9  # s at the previous two centre samples
_F_S2 = 10
_F_CAND_IDX = 11  # fractional index of the held candidate
_F_CAND_VAL = 12
_F_LAST_IC = 13  # index of the last accepted peak (walking or running)
_F_AMP = 14  # typical accepted peak height
_F_SCORE = 15  # side evidence
_F_LAST_OUT = 16  # index of the last emitted IC
_N_F = 17

# int state indices
_I_N = 0
_I_HAS_CAND = 1
_I_CAND_RUN = 2
_I_N_CAL = 3
_I_PARITY = 4
_I_N_OUT = 5
_I_Q_HEAD = 6
_I_Q_TAIL = 7
_I_C_HEAD = 8
_I_C_TAIL = 9
_I_N_PEAKS = 10
_N_I = 11


class WalkParams(NamedTuple):
    """Parameters of :func:`pelvis_walk_events` (durations in samples, acc in m/s^2)."""

    fs: float
    taps_d: np.ndarray  # Gaussian-derivative FIR, per second (index k = lag)
    sos_fast: np.ndarray  # 20 Hz low-pass for flight detection
    delay: int  # look-ahead of the FIR (centre lag)
    hold: int  # samples a candidate waits for a higher peak
    refractory: int  # minimum samples between ICs
    run_window: int  # flight this many samples before a peak = running step
    warmup: int  # no walking IC before this sample (gravity estimate still settling)
    grav_window: int
    ring: int  # samples of acc sums / flight flags kept
    pre_start: int  # side cue window [IC - pre_start, IC - pre_end)
    pre_end: int
    cal_window: int
    max_hold: int
    bout_gap: int
    thr_abs: float = 10.0  # m/s^3, minimum peak of s
    thr_rel: float = 0.45  # fraction of the typical peak
    amp_decay: float = 0.125  # per accepted peak
    w_fwd: float = 0.5  # weight of the forward-acceleration drop
    replace_frac: float = 1.0  # a later peak within hold replaces one this much higher
    flight_frac: float = 0.5
    side_forget: float = 0.6
    cal_ics: int = 4
    cal_min: float = 0.2
    sides: bool = True


def make_walk_params(
    fs: float, sides: bool = True, sigma_s: float = 0.03, **overrides
) -> WalkParams:
    """Default :class:`WalkParams` for sampling rate ``fs`` (Gaussian sigma ``sigma_s`` s)."""
    sigma = sigma_s * fs
    delay = max(1, round(3.0 * sigma))
    u = np.arange(-delay, delay + 1, dtype=np.float64)  # u = lag - delay
    g = np.exp(-0.5 * (u / sigma) ** 2)
    g /= g.sum()
    # derivative at the centre from x[centre - u]: weights -(u / sigma^2) g, scaled so that a
    # ramp of 1 per sample (x[centre - u] = centre - u) gives exactly fs per second
    d = -(u / sigma**2) * g
    d *= fs / np.sum(-d * u)
    # lag k = delay + u reads x[n - k] = x[centre - u]
    p = WalkParams(
        fs=float(fs),
        taps_d=np.ascontiguousarray(d),
        sos_fast=np.ascontiguousarray(butter(2, min(20.0, 0.35 * fs), fs=fs, output="sos")),
        delay=delay,
        hold=max(1, round(0.25 * fs)),
        refractory=max(1, round(0.4 * fs)),
        run_window=max(1, round(0.5 * fs)),
        warmup=round(0.3 * fs),
        grav_window=max(1, round(4.0 * fs)),
        ring=max(16, round(10.0 * fs)),
        pre_start=max(2, round(0.25 * fs)),
        pre_end=max(1, round(0.05 * fs)),
        cal_window=max(1, round(0.1 * fs)),
        max_hold=max(1, round(5.0 * fs)),
        bout_gap=max(1, round(1.5 * fs)),
        sides=bool(sides),
    )
    return p._replace(**overrides)


class WalkState(NamedTuple):
    """Explicit kernel state (arrays, mutated in place)."""

    f: np.ndarray
    i: np.ndarray
    x_v: np.ndarray  # (taps,) ring of centred vertical acc
    x_f: np.ndarray  # (taps,) ring of forward acc
    z_fast: np.ndarray  # flight low-pass state (1, sections, 2)
    cs_ring: np.ndarray  # (ring, 3) running acc sum before each sample
    flight: np.ndarray  # (ring,) 1 where the smoothed vertical acc was in flight
    sv_ring: np.ndarray  # (ring,) vertical-only derivative per centre sample
    q_idx: np.ndarray  # (QUEUE,) held-back ICs
    q_pre: np.ndarray  # (QUEUE, 3) mean acc in the side-cue window
    c_idx: np.ndarray  # (CAL_QUEUE,) ICs awaiting forward calibration


def new_walk_state(p: WalkParams) -> WalkState:
    """A fresh state (before the first sample)."""
    f = np.zeros(_N_F)
    f[_F_LAST_IC] = -1e18
    f[_F_LAST_OUT] = -1e18
    return WalkState(
        f=f,
        i=np.zeros(_N_I, dtype=np.int64),
        x_v=np.zeros(p.taps_d.shape[0]),
        x_f=np.zeros(p.taps_d.shape[0]),
        z_fast=np.zeros((1, p.sos_fast.shape[0], 2)),
        cs_ring=np.zeros((p.ring, 3)),
        flight=np.zeros(p.ring, dtype=np.int8),
        sv_ring=np.zeros(p.ring),
        q_idx=np.zeros(QUEUE),
        q_pre=np.zeros((QUEUE, 3)),
        c_idx=np.zeros(CAL_QUEUE, dtype=np.int64),
    )


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
def _axes(st, p, fwd, lat):
    """Unit forward and left (up x forward) axes into ``fwd``/``lat``; False if unknown."""
    f = st.f
    if st.i[_I_N_CAL] < p.cal_ics:
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
    fwd[0] = -hx / hn
    fwd[1] = -hy / hn
    fwd[2] = -hz / hn
    lat[0] = uy * fwd[2] - uz * fwd[1]
    lat[1] = uz * fwd[0] - ux * fwd[2]
    lat[2] = ux * fwd[1] - uy * fwd[0]
    return True


@njit(cache=True, nogil=True)
def _flight_in(st, p, a, b):
    """Whether a flight sample lies in [a, b] (samples already fed and still in the ring)."""
    for j in range(max(0, a), b + 1):
        if st.flight[j % p.ring] == 1:
            return True
    return False


@njit(cache=True, nogil=True)
def _emit(st, p, n, lat, known, force, out_idx, out_side, out_emit, n_out):
    """Emit held-back ICs in order (sides once forward is known, else after max_hold)."""
    iv = st.i
    f = st.f
    while iv[_I_Q_HEAD] < iv[_I_Q_TAIL]:
        j = iv[_I_Q_HEAD] % QUEUE
        idx = st.q_idx[j]
        if not known and p.sides and not force and n - idx < p.max_hold:
            break
        side = SIDE_NONE
        if known and p.sides:
            if iv[_I_N_OUT] > 0 and idx - f[_F_LAST_OUT] > p.bout_gap:
                f[_F_SCORE] = 0.0
            sgn = 1.0 if iv[_I_PARITY] == 0 else -1.0
            cue = st.q_pre[j, 0] * lat[0] + st.q_pre[j, 1] * lat[1] + st.q_pre[j, 2] * lat[2]
            f[_F_SCORE] = p.side_forget * f[_F_SCORE] + sgn * cue
            side = SIDE_LEFT if f[_F_SCORE] * sgn > 0.0 else SIDE_RIGHT
            iv[_I_PARITY] = 1 - iv[_I_PARITY]
        iv[_I_N_OUT] += 1
        f[_F_LAST_OUT] = idx
        out_idx[n_out] = idx
        out_side[n_out] = side
        out_emit[n_out] = n
        n_out += 1
        iv[_I_Q_HEAD] += 1
    return n_out


@njit(cache=True, nogil=True)
def _accept(st, p, n, buf):
    """Accept the held candidate (``n`` samples summed): a walking one joins the queue."""
    f = st.f
    iv = st.i
    idx = f[_F_CAND_IDX]
    f[_F_LAST_IC] = idx
    iv[_I_N_PEAKS] += 1
    wamp = max(p.amp_decay, 1.0 / iv[_I_N_PEAKS])
    f[_F_AMP] += wamp * (f[_F_CAND_VAL] - f[_F_AMP])
    if iv[_I_CAND_RUN] == 1 or iv[_I_Q_TAIL] - iv[_I_Q_HEAD] >= QUEUE:
        return
    i_ic = math.floor(idx + 0.5)
    if not _window_mean(st, p, n, i_ic - p.pre_start, i_ic - p.pre_end, buf):
        buf[:] = 0.0
    jq = iv[_I_Q_TAIL] % QUEUE
    st.q_idx[jq] = idx
    st.q_pre[jq, 0] = buf[0]
    st.q_pre[jq, 1] = buf[1]
    st.q_pre[jq, 2] = buf[2]
    iv[_I_Q_TAIL] += 1
    if iv[_I_C_TAIL] - iv[_I_C_HEAD] < CAL_QUEUE:
        # anchor the braking windows at the steepest vertical rise near the IC, which does not
        # depend on the forward estimate (else a wrong forward sign could reinforce itself)
        m = n - 1 - p.delay
        best = i_ic
        for j in range(max(0, i_ic - p.hold), min(m, i_ic + p.hold) + 1):
            if st.sv_ring[j % p.ring] > st.sv_ring[best % p.ring]:
                best = j
        st.c_idx[iv[_I_C_TAIL] % CAL_QUEUE] = best
        iv[_I_C_TAIL] += 1


@njit(cache=True, nogil=True)
def pelvis_walk_events(
    p: WalkParams,
    st: WalkState,
    acc: np.ndarray,
    out_idx: np.ndarray,
    out_side: np.ndarray,
    out_emit: np.ndarray,
) -> int:
    """Feed ``acc`` (n, 3) m/s^2 (missing axes as 0); write walking ICs; return their count.

    ``out_idx`` gets fractional sample indices from the first sample fed, ``out_side``
    SIDE_LEFT / SIDE_RIGHT / SIDE_NONE, ``out_emit`` the sample index at emission. Outputs
    need room for ``n + QUEUE`` events.
    """
    f = st.f
    iv = st.i
    L = p.taps_d.shape[0]
    n_out = 0
    fwd = np.zeros(3)
    lat = np.zeros(3)
    buf = np.zeros(3)
    buf2 = np.zeros(3)
    for k in range(acc.shape[0]):
        n = iv[_I_N]
        ax = acc[k, 0]
        ay = acc[k, 1]
        az = acc[k, 2]
        for c in range(3):
            st.cs_ring[n % p.ring, c] = f[_F_CS + c]
        f[_F_CS] += ax
        f[_F_CS + 1] += ay
        f[_F_CS + 2] += az
        a = 1.0 / min(n + 1, p.grav_window)
        f[_F_G] += a * (ax - f[_F_G])
        f[_F_G + 1] += a * (ay - f[_F_G + 1])
        f[_F_G + 2] += a * (az - f[_F_G + 2])
        gm = math.sqrt(f[_F_G] ** 2 + f[_F_G + 1] ** 2 + f[_F_G + 2] ** 2)
        known = _axes(st, p, fwd, lat)
        if gm < 1e-9:
            av = 0.0
        else:
            av = (ax * f[_F_G] + ay * f[_F_G + 1] + az * f[_F_G + 2]) / gm - gm
        afw = ax * fwd[0] + ay * fwd[1] + az * fwd[2] if known else 0.0
        st.x_v[n % L] = av
        st.x_f[n % L] = afw
        st.flight[n % p.ring] = 0
        if sos_step(p.sos_fast, st.z_fast, 0, av) + gm < p.flight_frac * gm:
            st.flight[n % p.ring] = 1
        if n >= L - 1:
            m = n - p.delay  # centre sample of the FIR
            sv = 0.0
            sf = 0.0
            j = n % L
            for lag in range(L):  # x[n - lag], walking the ring backwards without modulo
                sv += p.taps_d[lag] * st.x_v[j]
                sf += p.taps_d[lag] * st.x_f[j]
                j = j - 1 if j > 0 else L - 1
            st.sv_ring[m % p.ring] = sv
            s = sv - p.w_fwd * sf
            s1 = f[_F_S1]
            s2 = f[_F_S2]
            if n >= L + 1 and s2 < s1 and s1 >= s:
                pk = m - 1
                den = s2 - 2.0 * s1 + s
                off = 0.0 if den == 0.0 else min(0.5, max(-0.5, 0.5 * (s2 - s) / den))
                idx = pk + off
                thr = max(p.thr_abs, p.thr_rel * f[_F_AMP])
                if s1 > thr and pk - f[_F_LAST_IC] >= p.refractory:
                    if iv[_I_HAS_CAND] == 1:
                        if s1 > p.replace_frac * f[_F_CAND_VAL]:
                            f[_F_CAND_IDX] = idx
                            f[_F_CAND_VAL] = s1
                            iv[_I_CAND_RUN] = (
                                1
                                if pk < p.warmup or _flight_in(st, p, pk - p.run_window, pk)
                                else 0
                            )
                    else:
                        iv[_I_HAS_CAND] = 1
                        f[_F_CAND_IDX] = idx
                        f[_F_CAND_VAL] = s1
                        iv[_I_CAND_RUN] = (
                            1 if pk < p.warmup or _flight_in(st, p, pk - p.run_window, pk) else 0
                        )
            f[_F_S2] = s1
            f[_F_S1] = s
            if iv[_I_HAS_CAND] == 1 and m - f[_F_CAND_IDX] > p.hold:
                iv[_I_HAS_CAND] = 0
                if iv[_I_Q_TAIL] - iv[_I_Q_HEAD] >= QUEUE:  # full: oldest leaves, no side
                    n_out = _emit(st, p, n, lat, False, True, out_idx, out_side, out_emit, n_out)
                _accept(st, p, n + 1, buf)
        # forward calibration: the horizontal acceleration drops across each IC
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
            known = _axes(st, p, fwd, lat)
            n_out = _emit(st, p, n, lat, known, False, out_idx, out_side, out_emit, n_out)
        iv[_I_N] = n + 1
    return n_out


@njit(cache=True, nogil=True)
def pelvis_walk_flush(
    p: WalkParams,
    st: WalkState,
    out_idx: np.ndarray,
    out_side: np.ndarray,
    out_emit: np.ndarray,
) -> int:
    """Emit every held-back IC now, including a candidate still in its hold window (sides
    None if forward is unknown)."""
    fwd = np.zeros(3)
    lat = np.zeros(3)
    buf = np.zeros(3)
    n = st.i[_I_N]
    if st.i[_I_HAS_CAND] == 1:
        st.i[_I_HAS_CAND] = 0
        _accept(st, p, n, buf)
    known = _axes(st, p, fwd, lat)
    return _emit(st, p, n, lat, known, True, out_idx, out_side, out_emit, 0)


@njit(cache=True, nogil=True)
def flight_near(p: WalkParams, st: WalkState, a: int, b: int) -> int:
    """1 if a flight sample lies in [a, b], else 0; -1 if that span is not (or no longer) kept.

    A sample is classified as it is fed, so the answer does not depend on the chunking once
    sample ``b`` has been fed.
    """
    n = st.i[_I_N]
    if b > n - 1 or n - max(a, 0) >= p.ring:
        return -1
    return 1 if _flight_in(st, p, a, b) else 0
