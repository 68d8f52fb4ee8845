"""One numba call per completed step: impact peak, pelvic drop and the asymmetry update.

Runs, in this order and with the same functions as the separate calls it replaces,
:func:`~imustream.dsp.kernels.pelvic_drop.stance_drop` (when ``with_drop``),
:func:`~imustream.dsp.kernels.timeline.window_max` over the stance-side shoe's ``|acc|``
(when ``with_impact``) and :func:`~imustream.dsp.kernels.asymmetry.add_step`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import timeline as _tl
from .asymmetry import add_step
from .pelvic_drop import stance_drop

#: out[...] of :func:`complete_step`
O_IMPACT = 0
O_DROP = 1
O_CONTACT = 2
O_FLIGHT = 3
O_STEP = 4
O_CADENCE = 5
N_OUT = 6
#: metric order of the asymmetry kernel (``asymmetry.METRICS``)
_M_CONTACT = 0
_M_STEP = 1
_M_IMPACT = 2
_M_DROP = 3


@njit(cache=True, nogil=True)
def complete_step(
    right: bool,
    ic: float,
    to: float,
    next_ic: float,
    stance_end: float,
    has_gap: bool,
    clipped: bool,
    with_drop: bool,
    ub: np.ndarray,
    uv: np.ndarray,
    umeta: np.ndarray,
    sf: np.ndarray,
    si: np.ndarray,
    ring: np.ndarray,
    bt: np.ndarray,
    bv: np.ndarray,
    pf: np.ndarray,
    pi: np.ndarray,
    pcfg: np.ndarray,
    with_impact: bool,
    stb: np.ndarray,
    svb: np.ndarray,
    smeta: np.ndarray,
    vals: np.ndarray,
    cnt: np.ndarray,
    head: np.ndarray,
    alert: np.ndarray,
    th: np.ndarray,
    acfg: np.ndarray,
    table: np.ndarray,
    cmp: np.ndarray,
    trans: np.ndarray,
    out: np.ndarray,
) -> int:
    """Derived times, impact, drop into ``out``; asymmetry update; return its transitions."""
    drop = np.nan
    if with_drop:
        drop = stance_drop(
            ub, uv, umeta, not right, ic, stance_end, sf, si, ring, bt, bv, pf, pi, pcfg
        )
    impact = np.nan
    if with_impact:
        impact = _tl.window_max(stb, svb, smeta, ic - 0.05, ic + 0.05, 0)
    contact = to - ic
    step_time = next_ic - ic
    out[O_IMPACT] = impact
    out[O_DROP] = drop
    out[O_CONTACT] = contact
    out[O_FLIGHT] = next_ic - to
    out[O_STEP] = step_time
    out[O_CADENCE] = 60.0 / step_time if step_time > 0 else np.nan
    values = np.empty(4)
    values[_M_CONTACT] = contact
    values[_M_STEP] = step_time
    values[_M_IMPACT] = impact
    values[_M_DROP] = drop
    usable = np.empty(4, dtype=np.bool_)
    for m in range(4):
        usable[m] = not has_gap
    if clipped:
        usable[_M_IMPACT] = False
    return add_step(right, values, usable, vals, cnt, head, alert, th, acfg, table, cmp, trans)
