"""One numba call per block and sensor inside the Pipeline.

Each call runs the whole per-sample part for one sensor's block: the input pass (finiteness
check, ``|acc|``, clipping flags, as :func:`~imustream.dsp.kernels.ingest.ingest`) written
straight into the sensor's history buffer, then

* shoes: the IC/TO kernel (:func:`~imustream.dsp.kernels.shoe_events.shoe_events`);
* pelvis: the attitude filter (:func:`~imustream.dsp.kernels.ahrs.mahony_update`), the
  quiet-standing and mean-"up" sums of :class:`~imustream.dsp.pelvic_drop.PelvicDrop` and its
  history of earth "up" in the sensor frame.

Parameters travel as flat float64 arrays and are turned into the kernels' NamedTuples
inside numba: unboxing a NamedTuple of a dozen fields at every call costs more (~10 us)
than the per-sample work of a 64-sample block.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import timeline as _tl
from .ahrs import MahonyParams, mahony_update
from .shoe_events import _N_F, _N_I, PENDING, ShoeParams, ShoeState, shoe_events
from .steps import insert_shoe_events

GRAVITY = 9.80665
#: PelvicDrop quiet-standing test: |gyr| below this (rad/s), | |acc| - g | below ACC_TOL
GYR_STILL = 0.2
ACC_TOL = 1.0

# PelvicDrop sums: float state pf = [stand_acc (3), up_sum (3)], int state pi below
PF_STAND = 0
PF_UP = 3
PI_STANDING = 0  # 1 while still inside the initial quiet-standing phase
PI_STAND_N = 1
PI_UP_N = 2


def shoe_params_array(p: ShoeParams) -> np.ndarray:
    """:class:`ShoeParams` as the flat float64 array :func:`shoe_block` takes."""
    return np.array([float(v) for v in p], dtype=np.float64)


# ShoeState fields laid out in two flat buffers (fewer kernel arguments to unbox per call)
_FB_COV = _N_F
_FB_V = _FB_COV + 9
_FB_EV_IDX = _FB_V + 3
_FB_N = _FB_EV_IDX + 2 * PENDING
_IB_EV_KIND = _N_I
_IB_N = _IB_EV_KIND + 2 * PENDING


def shoe_state_buffers(st: ShoeState) -> tuple[np.ndarray, np.ndarray, ShoeState]:
    """Copy ``st`` into a float64 and an int64 buffer; return them and a :class:`ShoeState`
    whose fields are views of the buffers (what :func:`shoe_block` works on)."""
    fb = np.concatenate([st.f, st.cov.ravel(), st.v, st.ev_idx.ravel()]).astype(np.float64)
    ib = np.concatenate([st.i, st.ev_kind.ravel()]).astype(np.int64)
    return fb, ib, _state_views(fb, ib)


def _state_views(fb: np.ndarray, ib: np.ndarray) -> ShoeState:
    return ShoeState(
        fb[:_N_F],
        ib[:_N_I],
        fb[_FB_COV:_FB_V].reshape(3, 3),
        fb[_FB_V:_FB_EV_IDX],
        ib[_IB_EV_KIND:_IB_N].reshape(2, PENDING),
        fb[_FB_EV_IDX:_FB_N].reshape(2, PENDING),
    )


@njit(cache=True, nogil=True)
def _shoe_state(fb: np.ndarray, ib: np.ndarray) -> ShoeState:
    return ShoeState(
        fb[:_N_F],
        ib[:_N_I],
        fb[_FB_COV:_FB_V].reshape((3, 3)),
        fb[_FB_V:_FB_EV_IDX],
        ib[_IB_EV_KIND:_IB_N].reshape((2, PENDING)),
        fb[_FB_EV_IDX:_FB_N].reshape((2, PENDING)),
    )


@njit(cache=True, nogil=True)
def shoe_params(a: np.ndarray) -> ShoeParams:
    """Inverse of :func:`shoe_params_array` (field order of :class:`ShoeParams`)."""
    return ShoeParams(
        a[0],
        a[1],
        a[2],
        int(a[3]),
        a[4],
        a[5],
        int(a[6]),
        int(a[7]),
        int(a[8]),
        int(a[9]),
        a[10],
        a[11],
        int(a[12]),
        a[13],
        int(a[14]),
        a[15],
        a[16],
    )


def mahony_params_array(p: MahonyParams) -> np.ndarray:
    """:class:`MahonyParams` as the flat float64 array :func:`pelvis_block` takes."""
    return np.array([float(v) for v in p], dtype=np.float64)


@njit(cache=True, nogil=True)
def mahony_params(a: np.ndarray) -> MahonyParams:
    """Inverse of :func:`mahony_params_array` (field order of :class:`MahonyParams`)."""
    return MahonyParams(a[0], a[1], a[2], a[3], int(a[4]), int(a[5]), a[6], a[7], a[8], a[9])


@njit(cache=True, nogil=True)
def ingest_into(
    acc: np.ndarray,
    gyr: np.ndarray,
    t: np.ndarray,
    magnitude: bool,
    clip_level: float,
    clipped: bool,
    tb: np.ndarray,
    vb: np.ndarray,
    meta: np.ndarray,
    keep: int,
) -> int:
    """Input pass of a block appended to a (times, [|acc|, clipped]) history buffer.

    Same values and return as :func:`~imustream.dsp.kernels.ingest.ingest` (number of
    clipped samples, or -1 for NaN/inf, and then nothing is appended).
    """
    n = acc.shape[0]
    for i in range(n):
        finite = (
            np.isfinite(acc[i, 0])
            and np.isfinite(acc[i, 1])
            and np.isfinite(acc[i, 2])
            and np.isfinite(t[i])
        )
        if not (finite and np.isfinite(gyr[i, 0] + gyr[i, 1] + gyr[i, 2])):
            return -1
    start = _tl.reserve(tb, vb, meta, keep, n)
    cap = tb.shape[0]
    skip = n - cap if n > cap else 0
    by_level = clip_level > 0.0
    flag = 1.0 if clipped else 0.0
    n_clipped = 0
    for i in range(n):
        ax = acc[i, 0]
        ay = acc[i, 1]
        az = acc[i, 2]
        if by_level:
            c = abs(ax) >= clip_level or abs(ay) >= clip_level or abs(az) >= clip_level
            f = 1.0 if c else 0.0
            n_clipped += 1 if c else 0
        else:
            f = flag
        if i >= skip:
            j = start + i - skip
            tb[j] = t[i]
            # same summation order as numpy's einsum("ij,ij->i") (bit-identical |acc|)
            vb[j, 0] = np.sqrt((ax * ax + az * az) + ay * ay) if magnitude else 0.0
            vb[j, 1] = f
    if not by_level and clipped:
        n_clipped = n
    _tl.commit(tb, meta, n)
    return n_clipped


@njit(cache=True, nogil=True)
def shoe_block(
    acc: np.ndarray,
    gyr: np.ndarray,
    t: np.ndarray,
    clipped: bool,
    base: int,
    clip_level: float,
    tb: np.ndarray,
    vb: np.ndarray,
    meta: np.ndarray,
    keep: int,
    params: np.ndarray,
    st_f: np.ndarray,
    st_i: np.ndarray,
    out_kind: np.ndarray,
    out_idx: np.ndarray,
    out_emit: np.ndarray,
    out_t: np.ndarray,
    side: int,
    asm_ev: np.ndarray,
    asm_evs: np.ndarray,
    asm_cnt: np.ndarray,
) -> tuple[int, int, int]:
    """Input pass + history + shoe IC/TO kernel for one block of one shoe, and its events
    into the step assembly's stores (:func:`~imustream.dsp.kernels.steps.insert_shoe_events`).

    ``st_f``/``st_i`` hold a :class:`ShoeState` (:func:`shoe_state_buffers`); outputs need room for
    ``2 * n + PENDING`` events. ``out_t[j]`` gets the session times of event ``j`` and of
    the sample that emitted it (history index = detector index + ``base``; NaN if no longer
    held). Returns ``(events written, clipped samples, events inserted or -1 when the stores
    had no room)``, or ``(-1, 0, 0)`` when the block holds NaN/inf (then nothing changed).
    """
    n_clipped = ingest_into(acc, gyr, t, True, clip_level, clipped, tb, vb, meta, keep)
    if n_clipped < 0:
        return -1, 0, 0
    st = _shoe_state(st_f, st_i)
    found = shoe_events(shoe_params(params), st, acc, gyr, out_kind, out_idx, out_emit)
    inserted = 0
    if found:
        _tl.times_at(tb, meta, base, out_idx[:found], out_emit[:found], out_t[:found])
        inserted = insert_shoe_events(asm_ev, asm_evs, asm_cnt, side, out_kind, out_t, found)
    return found, n_clipped, inserted


@njit(cache=True, nogil=True)
def pelvic_update(
    acc: np.ndarray,
    gyr: np.ndarray,
    t: np.ndarray,
    mparams: np.ndarray,
    q: np.ndarray,
    bias: np.ndarray,
    count: np.ndarray,
    pf: np.ndarray,
    pi: np.ndarray,
    ub: np.ndarray,
    uv: np.ndarray,
    umeta: np.ndarray,
    ukeep: int,
    up: np.ndarray,
) -> None:
    """PelvicDrop's per-sample part: attitude, standing and "up" sums, "up" history.

    ``up`` (>= n, 3) receives earth "up" in the sensor frame after each sample.
    """
    n = acc.shape[0]
    q_out = np.empty((n, 4))
    mahony_update(acc, gyr, q, bias, count, mahony_params(mparams), q_out, up)
    if pi[PI_STANDING] == 1:
        k = 0
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        while k < n:
            gx = gyr[k, 0]
            gy = gyr[k, 1]
            gz = gyr[k, 2]
            ax = acc[k, 0]
            ay = acc[k, 1]
            az = acc[k, 2]
            still = np.sqrt(gx * gx + gy * gy + gz * gz) < GYR_STILL and (
                abs(np.sqrt(ax * ax + ay * ay + az * az) - GRAVITY) < ACC_TOL
            )
            if not still:
                break
            s0 += ax
            s1 += ay
            s2 += az
            k += 1
        pf[PF_STAND] += s0
        pf[PF_STAND + 1] += s1
        pf[PF_STAND + 2] += s2
        pi[PI_STAND_N] += k
        if k < n:
            pi[PI_STANDING] = 0
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    for k in range(n):
        s0 += up[k, 0]
        s1 += up[k, 1]
        s2 += up[k, 2]
    pf[PF_UP] += s0
    pf[PF_UP + 1] += s1
    pf[PF_UP + 2] += s2
    pi[PI_UP_N] += n
    _tl.append(ub, uv, umeta, ukeep, t, up[:n])


@njit(cache=True, nogil=True)
def pelvis_block(
    acc: np.ndarray,
    gyr: np.ndarray,
    t: np.ndarray,
    clipped: bool,
    clip_level: float,
    tb: np.ndarray,
    vb: np.ndarray,
    meta: np.ndarray,
    keep: int,
    with_attitude: bool,
    mparams: np.ndarray,
    q: np.ndarray,
    bias: np.ndarray,
    count: np.ndarray,
    pf: np.ndarray,
    pi: np.ndarray,
    ub: np.ndarray,
    uv: np.ndarray,
    umeta: np.ndarray,
    ukeep: int,
) -> int:
    """Input pass + history (+ :func:`pelvic_update` if ``with_attitude``) for a pelvis block.

    Returns the number of clipped samples, or -1 for NaN/inf (then nothing changed).
    """
    n_clipped = ingest_into(acc, gyr, t, False, clip_level, clipped, tb, vb, meta, keep)
    if n_clipped >= 0 and with_attitude:
        up = np.empty((acc.shape[0], 3))
        pelvic_update(acc, gyr, t, mparams, q, bias, count, pf, pi, ub, uv, umeta, ukeep, up)
    return n_clipped
