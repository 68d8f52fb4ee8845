"""Causal foot-strike / toe-off kernel for a shoe IMU, independent of how it is mounted.

Signal model (sagittal angular rate ``w`` of the foot, positive = toe up): a long positive
lobe during swing (its peak is mid-swing), a ``+ -> -`` zero crossing at initial contact
(IC), a negative "foot slap" lobe, a quiet stance, and a sharp negative lobe during push-off
that ends at the toe-off (TO) with a sharp upturn into the next swing: the TO is the sample of
the largest second difference after the lobe's minimum.

Mounting invariance: the swing axis is the dominant rotation axis of the foot; it is
estimated causally as the principal eigenvector of an exponentially weighted gyro second
moment matrix (one power-iteration step per sample, so results do not depend on chunking).
Its sign is resolved by running two state machines, one on ``w`` and one on ``-w``: a true
IC is followed within 80 ms by an impact (a large jump of the acceleration) and then by
stance (little rotation 0.1-0.25 s later); the mirrored "IC" (inside the swing) by neither.
The machine whose candidate ICs score higher (impact / later rotation) wins after two
strides; its events (kept pending until then) are emitted. The decision is
revised if the recent strides clearly contradict it (e.g. it was taken while the sensor was
handled before being clipped on). A standing period needs no special handling: nothing
rotates.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

IC = 0
TO = 1

PENDING = 256  # per-machine ring of events not yet emitted (before the sign is resolved)

# indices into ShoeState.f (floats)
_F_PREV_W = 0  # per machine: 0, 1
_F_LOBE_MIN = 2  # current negative-lobe minimum, per machine: 2, 3
_F_LOBE_IDX = 4  # 4, 5 (fractional index of that minimum)
_F_LAST_MIN = 6  # last completed lobe minimum: 6, 7
_F_LAST_IDX = 8  # 8, 9
_F_QSUM = 10  # quietness window sums per machine: 10, 11
_F_QACC = 12  # running window accumulator: 12, 13
_F_W_PREV2 = 14  # w two samples back, per machine: 14, 15
_F_QEW = 16  # recent (exponentially weighted) quietness per machine: 16, 17
_F_ACC_PREV = 18  # previous acc sample: 18..20
_F_IACC = 21  # max squared acc jump in the open impact window: 21, 22
_F_ISUM = 23  # sum of impact-window maxima: 23, 24
_F_IEW = 25  # recent impact: 25, 26
_F_KINK_D2 = 27  # sharpest upturn (second difference) since the lobe minimum: 27, 28
_F_KINK_IDX = 29  # 29, 30
_N_F = 31

# indices into ShoeState.i (ints)
_I_N = 0  # samples seen
_I_ACTIVE = 1  # samples with |gyr| above the activity level (axis warm-up)
_I_SIGN = 2  # -1 unresolved, else winning machine 0/1
_I_PHASE = 3  # per machine: 3, 4 (0 = stance/unknown, 1 = swing)
_I_LAST_IC = 5  # per machine: 5, 6 (sample index of last IC, -1 none)
_I_WIN_END = 7  # per machine: 7, 8 (end of pending quietness window, -1 none)
_I_QCOUNT = 9  # per machine: 9, 10
_I_EV_N = 11  # per machine: 11, 12 (events written to the ring)
_I_EV_OUT = 13  # per machine: 13, 14 (events emitted)
_I_HAS_V = 15
_I_IN_LOBE = 16  # per machine: 16, 17
_I_HAS_LAST = 18  # per machine: 18, 19
_I_QSINCE = 20  # per machine: 20, 21 (windows since the sign was last decided)
_I_IWIN_END = 22  # per machine: 22, 23 (end of the pending impact window, -1 none)
_I_ICOUNT = 24  # per machine: 24, 25
_N_I = 26


class ShoeParams(NamedTuple):
    """Parameters of :func:`shoe_events` (angular rates in rad/s, durations in samples)."""

    swing_level: float = 1.5  # the swing lobe must exceed this
    lobe_level: float = 0.3  # |w| below this is "no lobe" (TO search)
    to_depth: float = 1.0  # a push-off lobe must reach below -to_depth
    min_stance: int = 20  # samples between an IC and the next swing
    axis_decay: float = 1.0 / (30.0 * 200.0)  # forgetting factor of the gyro second moment
    activity_level: float = 1.0  # |gyr| above this counts towards the axis warm-up
    warmup: int = 20  # active samples before the axis is used
    quiet_start: int = 20  # quietness window after a candidate IC: [start, end) samples
    quiet_end: int = 50
    sign_windows: int = 2  # windows per machine before the sign may be resolved
    sign_ratio: float = 2.0  # the winning machine must score this much higher
    recent_decay: float = 0.3  # weight of a new window in the recent impact / quietness
    switch_windows: int = 4  # windows per machine after a decision before it may be revised
    switch_ratio: float = 3.0  # revise when the other machine's recent score is this much higher
    impact_len: int = 16  # impact window after a candidate IC, samples
    impact_floor: float = 1.0  # (m/s^2)^2 added to impact scores (no accelerometer: all equal)
    quiet_floor: float = 0.01  # (rad/s)^2 added to quietness scores


def make_params(fs: float, **overrides) -> ShoeParams:
    """Default :class:`ShoeParams` for sampling rate ``fs`` (durations scaled from seconds)."""
    p = ShoeParams(
        min_stance=max(2, round(0.1 * fs)),
        axis_decay=1.0 / (30.0 * fs),
        warmup=max(2, round(0.1 * fs)),
        quiet_start=max(1, round(0.1 * fs)),
        quiet_end=max(2, round(0.25 * fs)),
        impact_len=max(2, round(0.08 * fs)),
    )
    return p._replace(**overrides)


class ShoeState(NamedTuple):
    """Explicit kernel state (all arrays, mutated in place)."""

    f: np.ndarray  # (_N_F,) float64
    i: np.ndarray  # (_N_I,) int64
    cov: np.ndarray  # (3, 3) gyro second moment
    v: np.ndarray  # (3,) current swing-axis estimate
    ev_kind: np.ndarray  # (2, PENDING) int64
    ev_idx: np.ndarray  # (2, PENDING) float64


def new_state() -> ShoeState:
    """A fresh state (as before the first sample)."""
    st = ShoeState(
        f=np.zeros(_N_F),
        i=np.zeros(_N_I, dtype=np.int64),
        cov=np.zeros((3, 3)),
        v=np.zeros(3),
        ev_kind=np.zeros((2, PENDING), dtype=np.int64),
        ev_idx=np.zeros((2, PENDING)),
    )
    st.i[_I_SIGN] = -1
    st.i[_I_LAST_IC] = -1
    st.i[_I_LAST_IC + 1] = -1
    st.i[_I_WIN_END] = -1
    st.i[_I_WIN_END + 1] = -1
    st.i[_I_IWIN_END] = -1
    st.i[_I_IWIN_END + 1] = -1
    return st


@njit(cache=True, nogil=True)
def _push(st, m, kind, idx):
    k = st.i[_I_EV_N + m]
    st.ev_kind[m, k % PENDING] = kind
    st.ev_idx[m, k % PENDING] = idx
    st.i[_I_EV_N + m] = k + 1
    # never hold more than the ring: drop the oldest unresolved events (only before the sign)
    if st.i[_I_EV_N + m] - st.i[_I_EV_OUT + m] > PENDING:
        st.i[_I_EV_OUT + m] = st.i[_I_EV_N + m] - PENDING


@njit(cache=True, nogil=True)
def _machine(st, p, m, w, n, gyr_sq, jerk_sq):
    """Advance state machine ``m`` by one sample of its rate ``w`` at sample index ``n``."""
    prev = st.f[_F_PREV_W + m]
    prev2 = st.f[_F_W_PREV2 + m]
    phase = st.i[_I_PHASE + m]
    # quietness window after a candidate IC (sign resolution)
    if st.i[_I_WIN_END + m] >= 0:
        start = st.i[_I_WIN_END + m] - (p.quiet_end - p.quiet_start)
        if n >= start:
            st.f[_F_QACC + m] += gyr_sq
        if n + 1 >= st.i[_I_WIN_END + m]:
            q = st.f[_F_QACC + m] / (p.quiet_end - p.quiet_start)
            st.f[_F_QSUM + m] += q
            st.i[_I_QCOUNT + m] += 1
            if st.i[_I_QCOUNT + m] == 1:
                st.f[_F_QEW + m] = q
            else:
                st.f[_F_QEW + m] += p.recent_decay * (q - st.f[_F_QEW + m])
            st.i[_I_QSINCE + m] += 1
            st.i[_I_WIN_END + m] = -1
            st.f[_F_QACC + m] = 0.0
    # impact window right after a candidate IC: the largest jump of the acceleration
    if st.i[_I_IWIN_END + m] >= 0:
        if jerk_sq > st.f[_F_IACC + m]:
            st.f[_F_IACC + m] = jerk_sq
        if n + 1 >= st.i[_I_IWIN_END + m]:
            imp = st.f[_F_IACC + m]
            st.f[_F_ISUM + m] += imp
            st.i[_I_ICOUNT + m] += 1
            if st.i[_I_ICOUNT + m] == 1:
                st.f[_F_IEW + m] = imp
            else:
                st.f[_F_IEW + m] += p.recent_decay * (imp - st.f[_F_IEW + m])
            st.i[_I_IWIN_END + m] = -1
    if phase == 0:
        # push-off lobe tracking: in the most recent deep negative lobe, the sample after its
        # minimum where the rate turns up most sharply (largest second difference) = TO
        if st.i[_I_IN_LOBE + m] == 1 and n - 1 >= st.f[_F_LOBE_IDX + m]:
            d2 = w - 2.0 * prev + prev2
            if d2 > st.f[_F_KINK_D2 + m]:
                st.f[_F_KINK_D2 + m] = d2
                st.f[_F_KINK_IDX + m] = n - 1
        if w < -p.lobe_level:
            if st.i[_I_IN_LOBE + m] == 0 or w < st.f[_F_LOBE_MIN + m]:
                st.i[_I_IN_LOBE + m] = 1
                st.f[_F_LOBE_MIN + m] = w
                st.f[_F_LOBE_IDX + m] = n
                st.f[_F_KINK_D2 + m] = -1e300
                st.f[_F_KINK_IDX + m] = n
        elif st.i[_I_IN_LOBE + m] == 1:
            st.i[_I_IN_LOBE + m] = 0
            if st.f[_F_LOBE_MIN + m] < -p.to_depth:
                st.f[_F_LAST_MIN + m] = st.f[_F_LOBE_MIN + m]
                st.f[_F_LAST_IDX + m] = st.f[_F_KINK_IDX + m]
                st.i[_I_HAS_LAST + m] = 1
        last_ic = st.i[_I_LAST_IC + m]
        if w > p.swing_level and (last_ic < 0 or n - last_ic >= p.min_stance):
            st.i[_I_PHASE + m] = 1
            if st.i[_I_HAS_LAST + m] == 1:
                st.i[_I_HAS_LAST + m] = 0
                st.i[_I_IN_LOBE + m] = 0
                _push(st, m, TO, st.f[_F_LAST_IDX + m])
    else:
        if prev > 0.0 and w <= 0.0:
            frac = prev / (prev - w)
            _push(st, m, IC, n - 1 + frac)
            st.i[_I_PHASE + m] = 0
            st.i[_I_LAST_IC + m] = n
            st.i[_I_IN_LOBE + m] = 0
            st.i[_I_HAS_LAST + m] = 0
            if st.i[_I_WIN_END + m] < 0:
                st.i[_I_WIN_END + m] = n + p.quiet_end
                st.f[_F_QACC + m] = 0.0
            if st.i[_I_IWIN_END + m] < 0:
                st.i[_I_IWIN_END + m] = n + p.impact_len
                st.f[_F_IACC + m] = jerk_sq
    st.f[_F_W_PREV2 + m] = prev
    st.f[_F_PREV_W + m] = w


@njit(cache=True, nogil=True)
def _score(p, impact, quiet):
    """How much a machine's candidate ICs look like foot strikes: impact, then stance."""
    return (impact + p.impact_floor) / (quiet + p.quiet_floor)


@njit(cache=True, nogil=True)
def shoe_events(
    p: ShoeParams,
    st: ShoeState,
    acc: np.ndarray,
    gyr: np.ndarray,
    out_kind: np.ndarray,
    out_idx: np.ndarray,
    out_emit: np.ndarray,
) -> int:
    """Feed ``acc`` (n, 3) m/s^2 and ``gyr`` (n, 3) rad/s; write events; return their count.

    The accelerometer only helps to resolve the swing-axis sign (impacts follow true ICs);
    all zeros is allowed and leaves that to the gyroscope.

    ``out_kind`` gets :data:`IC` / :data:`TO`, ``out_idx`` the fractional sample index of the
    event counted from the first sample ever fed, ``out_emit`` the index of the sample at
    which it was emitted. The outputs need room for ``2 * n + PENDING`` events.
    """
    n_out = 0
    for k in range(gyr.shape[0]):
        n = st.i[_I_N]
        gx = gyr[k, 0]
        gy = gyr[k, 1]
        gz = gyr[k, 2]
        gsq = gx * gx + gy * gy + gz * gz
        # swing axis: exponentially weighted second moment + one power-iteration step
        a = p.axis_decay
        c = st.cov
        c[0, 0] += a * (gx * gx - c[0, 0])
        c[0, 1] += a * (gx * gy - c[0, 1])
        c[0, 2] += a * (gx * gz - c[0, 2])
        c[1, 1] += a * (gy * gy - c[1, 1])
        c[1, 2] += a * (gy * gz - c[1, 2])
        c[2, 2] += a * (gz * gz - c[2, 2])
        c[1, 0] = c[0, 1]
        c[2, 0] = c[0, 2]
        c[2, 1] = c[1, 2]
        if gsq > p.activity_level * p.activity_level:
            st.i[_I_ACTIVE] += 1
            if st.i[_I_HAS_V] == 0:
                r = np.sqrt(gsq)
                st.v[0] = gx / r
                st.v[1] = gy / r
                st.v[2] = gz / r
                st.i[_I_HAS_V] = 1
        if st.i[_I_HAS_V] == 1:
            v0 = c[0, 0] * st.v[0] + c[0, 1] * st.v[1] + c[0, 2] * st.v[2]
            v1 = c[1, 0] * st.v[0] + c[1, 1] * st.v[1] + c[1, 2] * st.v[2]
            v2 = c[2, 0] * st.v[0] + c[2, 1] * st.v[1] + c[2, 2] * st.v[2]
            r = np.sqrt(v0 * v0 + v1 * v1 + v2 * v2)
            if r > 1e-12:
                st.v[0] = v0 / r
                st.v[1] = v1 / r
                st.v[2] = v2 / r
        jx = acc[k, 0] - st.f[_F_ACC_PREV]
        jy = acc[k, 1] - st.f[_F_ACC_PREV + 1]
        jz = acc[k, 2] - st.f[_F_ACC_PREV + 2]
        jsq = jx * jx + jy * jy + jz * jz if n > 0 else 0.0
        st.f[_F_ACC_PREV] = acc[k, 0]
        st.f[_F_ACC_PREV + 1] = acc[k, 1]
        st.f[_F_ACC_PREV + 2] = acc[k, 2]
        if st.i[_I_ACTIVE] >= p.warmup:
            w = st.v[0] * gx + st.v[1] * gy + st.v[2] * gz
            _machine(st, p, 0, w, n, gsq, jsq)
            _machine(st, p, 1, -w, n, gsq, jsq)
        # sign resolution: true ICs are followed by an impact and then stance (quiet)
        if st.i[_I_SIGN] < 0:
            c0 = min(st.i[_I_QCOUNT], st.i[_I_ICOUNT])
            c1 = min(st.i[_I_QCOUNT + 1], st.i[_I_ICOUNT + 1])
            if c0 >= p.sign_windows and c1 >= p.sign_windows:
                s0 = _score(p, st.f[_F_ISUM] / st.i[_I_ICOUNT], st.f[_F_QSUM] / st.i[_I_QCOUNT])
                s1 = _score(
                    p,
                    st.f[_F_ISUM + 1] / st.i[_I_ICOUNT + 1],
                    st.f[_F_QSUM + 1] / st.i[_I_QCOUNT + 1],
                )
                # clear winner, or after 3x the windows whichever machine scores higher
                ratio = p.sign_ratio if min(c0, c1) < 3 * p.sign_windows else 1.0
                if s0 >= ratio * s1:
                    st.i[_I_SIGN] = 0
                elif s1 >= ratio * s0:
                    st.i[_I_SIGN] = 1
                st.i[_I_QSINCE] = 0
                st.i[_I_QSINCE + 1] = 0
        elif st.i[_I_QSINCE] >= p.switch_windows and st.i[_I_QSINCE + 1] >= p.switch_windows:
            # revise a decision that the recent strides clearly contradict (e.g. the sign was
            # decided while the sensor was handled before being clipped on); events of the
            # newly chosen machine from before the switch are dropped, not emitted late
            m = st.i[_I_SIGN]
            sm = _score(p, st.f[_F_IEW + m], st.f[_F_QEW + m])
            so = _score(p, st.f[_F_IEW + 1 - m], st.f[_F_QEW + 1 - m])
            if so > p.switch_ratio * sm:
                st.i[_I_SIGN] = 1 - m
                st.i[_I_EV_OUT + 1 - m] = st.i[_I_EV_N + 1 - m]
                st.i[_I_QSINCE] = 0
                st.i[_I_QSINCE + 1] = 0
        if st.i[_I_SIGN] >= 0:
            m = st.i[_I_SIGN]
            other = 1 - m
            st.i[_I_EV_OUT + other] = st.i[_I_EV_N + other]
            for e in range(st.i[_I_EV_OUT + m], st.i[_I_EV_N + m]):
                out_kind[n_out] = st.ev_kind[m, e % PENDING]
                out_idx[n_out] = st.ev_idx[m, e % PENDING]
                out_emit[n_out] = n
                n_out += 1
            st.i[_I_EV_OUT + m] = st.i[_I_EV_N + m]
        st.i[_I_N] = n + 1
    return n_out


@njit(cache=True, nogil=True)
def shoe_flush(
    p: ShoeParams,
    st: ShoeState,
    out_kind: np.ndarray,
    out_idx: np.ndarray,
    out_emit: np.ndarray,
) -> int:
    """End of a recording: emit the events still held back while the sign is unresolved.

    The sign is then taken from whichever machine scores higher with at least one window
    each; without any evidence nothing can be told apart and nothing is emitted. Returns the
    number of events written (room for ``PENDING``).
    """
    n_out = 0
    if st.i[_I_SIGN] < 0:
        c0 = min(st.i[_I_QCOUNT], st.i[_I_ICOUNT])
        c1 = min(st.i[_I_QCOUNT + 1], st.i[_I_ICOUNT + 1])
        if c0 < 1 or c1 < 1:
            return 0
        s0 = _score(p, st.f[_F_ISUM] / st.i[_I_ICOUNT], st.f[_F_QSUM] / st.i[_I_QCOUNT])
        s1 = _score(
            p, st.f[_F_ISUM + 1] / st.i[_I_ICOUNT + 1], st.f[_F_QSUM + 1] / st.i[_I_QCOUNT + 1]
        )
        st.i[_I_SIGN] = 0 if s0 >= s1 else 1
    m = st.i[_I_SIGN]
    st.i[_I_EV_OUT + 1 - m] = st.i[_I_EV_N + 1 - m]
    last = st.i[_I_N] - 1
    for e in range(st.i[_I_EV_OUT + m], st.i[_I_EV_N + m]):
        out_kind[n_out] = st.ev_kind[m, e % PENDING]
        out_idx[n_out] = st.ev_idx[m, e % PENDING]
        out_emit[n_out] = last
        n_out += 1
    st.i[_I_EV_OUT + m] = st.i[_I_EV_N + m]
    return n_out
