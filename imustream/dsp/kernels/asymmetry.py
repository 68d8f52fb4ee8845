"""Rolling left/right comparison with Welch CIs and alert hysteresis, one call per step.

The arithmetic of :mod:`imustream.dsp.asymmetry` (same summation order, same Student-t
table), over explicit state arrays:

* ``vals`` (n_metrics, 2, window): the last values per metric and side (ring, oldest at
  ``head``), ``cnt``/``head`` (n_metrics, 2) int64;
* ``alert`` (n_keys, 3) int64: consecutive steps over / under, active flag per alert key;
  keys ``0..n_metrics-1`` are the left/right comparisons, ``n_metrics`` and
  ``n_metrics + 1`` the absolute pelvic-drop limit of the left and right stance;
* ``th`` (n_keys, 3): on, off, enabled; ``cfg`` int64 ``[min_steps, k_on, k_off, drop_metric]``.

Outputs per step: ``cmp`` (n_metrics, 8) ``[value, ci_low, ci_high, left, right, n_left,
n_right, valid]`` and ``trans`` rows ``[key, turned_on, side (0 left, 1 right), value]``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

C_VALUE = 0
C_LOW = 1
C_HIGH = 2
C_LEFT = 3
C_RIGHT = 4
C_NL = 5
C_NR = 6
C_VALID = 7
A_RUN_ON = 0
A_RUN_OFF = 1
A_ACTIVE = 2
CFG_MIN_STEPS = 0
CFG_K_ON = 1
CFG_K_OFF = 2
CFG_DROP = 3  # index of the pelvic-drop metric (scale 1, limit keys)


@njit(cache=True, nogil=True)
def t_quantile(table: np.ndarray, df: float) -> float:
    """97.5 % Student-t quantile, linear in ``1/df`` over ``table`` (see asymmetry.py)."""
    steps = table.shape[0] - 1
    pos = steps / max(df, 1.0)
    i = min(int(pos), steps - 1)
    a = table[i]
    return a + (pos - i) * (table[i + 1] - a)


@njit(cache=True, nogil=True)
def _mean_var(vals, cnt, head, m, s):
    n = cnt[m, s]
    w = vals.shape[2]
    start = head[m, s]
    total = 0.0
    for j in range(n):
        total += vals[m, s, (start + j) % w]
    mean = total / n
    ss = 0.0
    for j in range(n):
        d = vals[m, s, (start + j) % w] - mean
        ss += d * d
    return mean, ss / (n - 1)


@njit(cache=True, nogil=True)
def _compare(vals, cnt, head, m, scaled, table, row):
    """Welch comparison of metric ``m`` into ``row`` (see ``asymmetry.compare``)."""
    nl = cnt[m, 0]
    nr = cnt[m, 1]
    ml, vl = _mean_var(vals, cnt, head, m, 0)
    mr, vr = _mean_var(vals, cnt, head, m, 1)
    vl /= nl
    vr /= nr
    diff = mr - ml
    se2 = vl + vr
    if se2 <= 0.0:
        half = 0.0
    else:
        df = se2 * se2 / (vl * vl / (nl - 1) + vr * vr / (nr - 1))
        half = t_quantile(table, df) * math.sqrt(se2)
    scale = 100.0 / (0.5 * (ml + mr)) if scaled else 1.0
    row[C_VALUE] = diff * scale
    row[C_LOW] = (diff - half) * scale
    row[C_HIGH] = (diff + half) * scale
    row[C_LEFT] = ml
    row[C_RIGHT] = mr
    row[C_NL] = nl
    row[C_NR] = nr
    row[C_VALID] = 1.0


@njit(cache=True, nogil=True)
def _update(alert, key, over, under, k_on, k_off, side, value, trans, n_trans):
    alert[key, A_RUN_ON] = alert[key, A_RUN_ON] + 1 if over else 0
    alert[key, A_RUN_OFF] = alert[key, A_RUN_OFF] + 1 if under else 0
    turned = -1
    if alert[key, A_ACTIVE] == 0 and alert[key, A_RUN_ON] >= k_on:
        alert[key, A_ACTIVE] = 1
        turned = 1
    elif alert[key, A_ACTIVE] == 1 and alert[key, A_RUN_OFF] >= k_off:
        alert[key, A_ACTIVE] = 0
        turned = 0
    if turned < 0:
        return n_trans
    trans[n_trans, 0] = key
    trans[n_trans, 1] = turned
    trans[n_trans, 2] = side
    trans[n_trans, 3] = value
    return n_trans + 1


@njit(cache=True, nogil=True)
def add_step(
    right: bool,
    values: np.ndarray,
    usable: np.ndarray,
    vals: np.ndarray,
    cnt: np.ndarray,
    head: np.ndarray,
    alert: np.ndarray,
    th: np.ndarray,
    cfg: np.ndarray,
    table: np.ndarray,
    cmp: np.ndarray,
    trans: np.ndarray,
) -> int:
    """Add one step's metric ``values`` (NaN or not ``usable`` = skipped); return transitions.

    ``trans`` needs room for ``n_metrics + 2`` rows; ``cmp`` rows of metrics compared at
    this step are overwritten (``valid`` stays as it was for the others).
    """
    n_metrics = vals.shape[0]
    w = vals.shape[2]
    s = 1 if right else 0
    min_steps = cfg[CFG_MIN_STEPS]
    k_on = cfg[CFG_K_ON]
    k_off = cfg[CFG_K_OFF]
    drop_m = cfg[CFG_DROP]
    n_trans = 0
    for m in range(n_metrics):
        v = values[m]
        if usable[m] and np.isfinite(v):
            if cnt[m, s] < w:
                vals[m, s, (head[m, s] + cnt[m, s]) % w] = v
                cnt[m, s] += 1
            else:  # full: overwrite the oldest
                vals[m, s, head[m, s]] = v
                head[m, s] = (head[m, s] + 1) % w
        if cnt[m, 0] < min_steps or cnt[m, 1] < min_steps:
            continue
        row = cmp[m]
        _compare(vals, cnt, head, m, m != drop_m, table, row)
        if th[m, 2] > 0.0:
            value = row[C_VALUE]
            significant = row[C_LOW] > 0 or row[C_HIGH] < 0
            over = abs(value) >= th[m, 0] and significant
            under = abs(value) < th[m, 1]
            side = 1 if value > 0 else 0
            n_trans = _update(alert, m, over, under, k_on, k_off, side, value, trans, n_trans)
        if m == drop_m:
            for side in range(2):
                key = n_metrics + side
                if th[key, 2] > 0.0:
                    mean = row[C_LEFT] if side == 0 else row[C_RIGHT]
                    over = mean >= th[key, 0]
                    under = mean < th[key, 1]
                    n_trans = _update(
                        alert, key, over, under, k_on, k_off, side, mean, trans, n_trans
                    )
    return n_trans
