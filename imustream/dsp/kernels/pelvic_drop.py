"""Per-stance part of the pelvic-drop estimate in numba (see :mod:`imustream.dsp.pelvic_drop`).

State (arrays, mutated in place):

* ``sf`` float64 ``[v (3), trans_sum (3), last_to]``: the signed stance-tilt sum that gives the
  medio-lateral axis, the sum of the transition "up" vectors in the ring, the last TO time;
* ``si`` int64 ``[n_left, n_right, n_trans, trans_head, ready, n_base]``;
* ``ring`` (n_ring, 3): "up" at the last transitions (mean of the stance's first and last
  sample), ``n_ring = n_baseline or 8``;
* ``bt`` (n_keep,), ``bv`` (n_keep, 3): running neutral (baseline) of the last stances by IC
  time, newest last in a ring;
* ``cfg`` float64 ``[standing_n, min_stances, n_baseline, pause_s]``.

The "up" history is a :mod:`~imustream.dsp.kernels.timeline` buffer; ``pf``/``pi`` are the
standing and mean-"up" sums of :func:`~imustream.dsp.kernels.sensor_block.pelvic_update`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from . import timeline as _tl
from .sensor_block import PF_STAND, PF_UP, PI_STAND_N, PI_STANDING

SF_V = 0
SF_TSUM = 3
SF_LAST_TO = 6
N_SF = 7
SI_N_LEFT = 0
SI_N_RIGHT = 1
SI_N_TRANS = 2
SI_HEAD = 3
SI_READY = 4
SI_N_BASE = 5
N_SI = 6
CFG_STANDING_N = 0
CFG_MIN_STANCES = 1
CFG_N_BASELINE = 2
CFG_PAUSE_S = 3


@njit(cache=True, nogil=True)
def _elevation_deg(sine: float) -> float:
    return math.degrees(math.asin(min(1.0, max(-1.0, sine))))


@njit(cache=True, nogil=True)
def add_stance(
    ub: np.ndarray,
    uv: np.ndarray,
    umeta: np.ndarray,
    left: bool,
    ic_time: float,
    to_time: float,
    sf: np.ndarray,
    si: np.ndarray,
    ring: np.ndarray,
    bt: np.ndarray,
    bv: np.ndarray,
    cfg: np.ndarray,
) -> None:
    """Use one stance for the medio-lateral axis and the running neutral (in time order)."""
    if not (np.isfinite(ic_time) and np.isfinite(to_time)) or to_time <= ic_time:
        return
    n = umeta[_tl.M_N]
    i0 = _tl.search(ub, n, ic_time, False)
    i1 = _tl.search(ub, n, to_time, True)
    k = i1 - i0
    if k < 2:
        return
    if ic_time - sf[SF_LAST_TO] > cfg[CFG_PAUSE_S]:
        # after a pause the attitude filter has re-levelled at rest: restart the neutral
        si[SI_N_TRANS] = 0
        si[SI_HEAD] = 0
        sf[SF_TSUM] = 0.0
        sf[SF_TSUM + 1] = 0.0
        sf[SF_TSUM + 2] = 0.0
    sf[SF_LAST_TO] = to_time
    n_ring = ring.shape[0]
    full = si[SI_N_TRANS] == n_ring
    head = si[SI_HEAD]
    for c in range(3):
        here = 0.5 * (uv[i0, c] + uv[i1 - 1, c])
        old = ring[head, c]
        ring[head, c] = here
        sf[SF_TSUM + c] += here
        if full:
            sf[SF_TSUM + c] -= old
    si[SI_HEAD] = (head + 1) % n_ring
    if not full:
        si[SI_N_TRANS] += 1
    m = si[SI_N_TRANS]
    j = si[SI_N_BASE] % bt.shape[0]
    bt[j] = ic_time
    si[SI_N_BASE] += 1
    s = 1.0 if left else -1.0
    for c in range(3):
        base = sf[SF_TSUM + c] / m
        bv[j, c] = base
        total = 0.0
        for i in range(i0, i1):
            total += uv[i, c]
        sf[SF_V + c] += s * (total / k - base)
    si[SI_N_LEFT if left else SI_N_RIGHT] += 1


@njit(cache=True, nogil=True)
def ready(si: np.ndarray, cfg: np.ndarray) -> bool:
    """True once both sides have ``min_stances`` stances (latched)."""
    if si[SI_READY] == 0:
        n = cfg[CFG_MIN_STANCES]
        if si[SI_N_LEFT] >= n and si[SI_N_RIGHT] >= n:
            si[SI_READY] = 1
    return si[SI_READY] == 1


@njit(cache=True, nogil=True)
def ml_axis(sf: np.ndarray, si: np.ndarray, cfg: np.ndarray, out: np.ndarray) -> bool:
    """Write the unit medio-lateral axis (to the left hip) into ``out``; False if unknown."""
    if not ready(si, cfg):
        return False
    t0, t1, t2 = sf[SF_TSUM], sf[SF_TSUM + 1], sf[SF_TSUM + 2]
    tn = math.sqrt(t0 * t0 + t1 * t1 + t2 * t2)
    if not tn > 0.0:
        return False
    u0, u1, u2 = t0 / tn, t1 / tn, t2 / tn
    v0, v1, v2 = sf[SF_V], sf[SF_V + 1], sf[SF_V + 2]
    d = v0 * u0 + v1 * u1 + v2 * u2
    v0, v1, v2 = v0 - d * u0, v1 - d * u1, v2 - d * u2
    norm = math.sqrt(v0 * v0 + v1 * v1 + v2 * v2)
    if not norm > 0.0:
        return False
    out[0], out[1], out[2] = v0 / norm, v1 / norm, v2 / norm
    return True


@njit(cache=True, nogil=True)
def neutral_deg(
    m: np.ndarray,
    has_ic: bool,
    ic_time: float,
    sf: np.ndarray,
    si: np.ndarray,
    bt: np.ndarray,
    bv: np.ndarray,
    pf: np.ndarray,
    pi: np.ndarray,
    cfg: np.ndarray,
) -> float:
    """Neutral obliquity (deg) along axis ``m``: the running neutral of the stance at
    ``ic_time`` (if ``has_ic`` and known), else the latest, else standing, else the run mean."""
    b0 = b1 = b2 = 0.0
    found = False
    if cfg[CFG_N_BASELINE] > 0:
        if has_ic:
            n_keep = bt.shape[0]
            last = si[SI_N_BASE]
            first = last - n_keep if last > n_keep else 0
            for j in range(last - 1, first - 1, -1):
                if bt[j % n_keep] == ic_time:
                    r = j % n_keep
                    b0, b1, b2 = bv[r, 0], bv[r, 1], bv[r, 2]
                    found = True
                    break
        if not found and si[SI_N_TRANS] > 0:
            m_t = si[SI_N_TRANS]
            b0, b1, b2 = sf[SF_TSUM] / m_t, sf[SF_TSUM + 1] / m_t, sf[SF_TSUM + 2] / m_t
            found = True
    if not found:
        standing = pi[PI_STAND_N] >= cfg[CFG_STANDING_N] and pi[PI_STANDING] == 0
        k = PF_STAND if standing else PF_UP
        b0, b1, b2 = pf[k], pf[k + 1], pf[k + 2]
    dot = m[0] * b0 + m[1] * b1 + m[2] * b2
    return _elevation_deg(dot / math.sqrt(b0 * b0 + b1 * b1 + b2 * b2))


@njit(cache=True, nogil=True)
def drop(
    ub: np.ndarray,
    uv: np.ndarray,
    umeta: np.ndarray,
    left: bool,
    ic_time: float,
    to_time: float,
    sf: np.ndarray,
    si: np.ndarray,
    bt: np.ndarray,
    bv: np.ndarray,
    pf: np.ndarray,
    pi: np.ndarray,
    cfg: np.ndarray,
) -> float:
    """Peak contralateral pelvic drop (deg) of a stance; NaN if not measurable."""
    if not (np.isfinite(ic_time) and np.isfinite(to_time)) or to_time <= ic_time:
        return np.nan
    m = np.empty(3)
    if not ml_axis(sf, si, cfg, m):
        return np.nan
    n = umeta[_tl.M_N]
    i0 = _tl.search(ub, n, ic_time, False)
    i1 = _tl.search(ub, n, to_time, True)
    if i1 <= i0:
        return np.nan
    # asin is monotonic: take the extreme first, one asin per stance
    best = -np.inf if left else np.inf
    for i in range(i0, i1):
        s = uv[i, 0] * m[0] + uv[i, 1] * m[1] + uv[i, 2] * m[2]
        if (left and s > best) or (not left and s < best):
            best = s
    neutral = neutral_deg(m, True, ic_time, sf, si, bt, bv, pf, pi, cfg)
    if left:
        return _elevation_deg(best) - neutral
    return neutral - _elevation_deg(best)


@njit(cache=True, nogil=True)
def stance_drop(
    ub: np.ndarray,
    uv: np.ndarray,
    umeta: np.ndarray,
    left: bool,
    ic_time: float,
    to_time: float,
    sf: np.ndarray,
    si: np.ndarray,
    ring: np.ndarray,
    bt: np.ndarray,
    bv: np.ndarray,
    pf: np.ndarray,
    pi: np.ndarray,
    cfg: np.ndarray,
) -> float:
    """:func:`add_stance`, then (once :func:`ready`) the :func:`drop` of the same stance.

    Returns NaN before the axis is known (the caller evaluates held-back stances later).
    """
    add_stance(ub, uv, umeta, left, ic_time, to_time, sf, si, ring, bt, bv, cfg)
    if not ready(si, cfg):
        return np.nan
    return drop(ub, uv, umeta, left, ic_time, to_time, sf, si, bt, bv, pf, pi, cfg)
