"""Ground-truth step table of a simulated run.

Times come straight from the gait plan (exact). The pelvic drop is measured on the simulated
pelvis orientation itself: the obliquity is the Euler roll of ``R = Rz Ry Rx`` (positive = left
hip up); for a stance on side X the drop is the peak over [IC, TO] of the contralateral hip's
descent below neutral, ``+(roll - neutral)`` in a left stance, ``-(roll - neutral)`` in a right
stance, neutral = mean obliquity over the initial standing (>= 2 s) or over the whole run.

``pelvic_drop_ml_deg`` is the same peak for the other common definition of obliquity, the
elevation of the pelvis' left-right axis above the horizontal, ``asin(R[2, 1])`` (= asin(cos
pitch sin roll)); with the anterior tilt of a runner it is ~1-2 % smaller.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .gait import LEFT, GaitPlan
from .pelvis import PelvisModel
from .rotations import euler_of

FloatArray = NDArray[np.float64]

__all__ = ["TRUTH_FIELDS", "neutral_obliquity", "step_truth"]

TRUTH_FIELDS: tuple[str, ...] = (
    "side",
    "ic_time",
    "to_time",
    "contact_time",
    "flight_time",
    "step_time",
    "cadence",
    "pelvic_drop_deg",
    "pelvic_drop_ml_deg",
)
_GRID = 61
_REFINE = 21
_BATCH = 500


def _roll(pelvis: PelvisModel, t: FloatArray) -> FloatArray:
    return euler_of(pelvis.orientation(t.ravel()))[2].reshape(t.shape)


def _ml_elevation(pelvis: PelvisModel, t: FloatArray) -> FloatArray:
    r = pelvis.orientation(t.ravel())
    return np.arcsin(np.clip(r[:, 2, 1], -1.0, 1.0)).reshape(t.shape)


def neutral_obliquity(
    pelvis: PelvisModel, standing_s: float, duration: float, measure=_roll
) -> float:
    """Neutral obliquity (rad): mean roll over the initial standing if >= 2 s, else the run."""
    span = standing_s if standing_s >= 2.0 else duration
    return float(np.mean(measure(pelvis, np.linspace(0.0, span, 1001)[:-1])))


def _peak_drop(
    pelvis: PelvisModel, ic: FloatArray, to: FloatArray, sign: FloatArray, neutral, measure
):
    """Peak of sign * (roll - neutral) over [ic, to] per stance: grid search, then two rounds
    of refinement around the best point (final spacing ~ stance / 10^4)."""
    out = np.empty(ic.size)
    for b in range(0, ic.size, _BATCH):
        sl = slice(b, b + _BATCH)
        lo, hi, s = ic[sl], to[sl], sign[sl, None]
        best = np.full(lo.size, -np.inf)
        for grid in (_GRID, _REFINE, _REFINE):
            t = lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, grid)
            d = s * (measure(pelvis, t) - neutral)
            i = np.argmax(d, axis=1)
            best = np.maximum(best, d[np.arange(lo.size), i])
            step = (hi - lo) / (grid - 1)
            centre = t[np.arange(lo.size), i]
            lo, hi = np.maximum(centre - step, lo), np.minimum(centre + step, hi)
        out[sl] = best
    return out


def step_truth(
    plan: GaitPlan, pelvis: PelvisModel, duration: float, standing_s: float
) -> dict[str, NDArray]:
    """One row per IC inside [0, duration]; quantities not complete inside it are NaN.

    Fields (TRUTH_FIELDS): side ("left"/"right"), ic_time, to_time, contact_time,
    flight_time (next contralateral IC - TO; negative in walking = double support),
    step_time (IC -> next contralateral IC), cadence (steps/min = 60 / step_time),
    pelvic_drop_deg, pelvic_drop_ml_deg. Steps that land into standing (a pause or the end of a
    bout) have no TO.
    """
    keep = (plan.ic >= 0.0) & (plan.ic <= duration)
    ic = plan.ic[keep]
    to = np.where(plan.to[keep] <= duration, plan.to[keep], np.nan)
    nxt = np.where(plan.next_ic[keep] <= duration, plan.next_ic[keep], np.nan)
    side_i = plan.side[keep]
    sign = np.where(side_i == LEFT, 1.0, -1.0)
    ok = np.isfinite(to)
    drops = {}
    for name, measure in (("pelvic_drop_deg", _roll), ("pelvic_drop_ml_deg", _ml_elevation)):
        neutral = neutral_obliquity(pelvis, standing_s, duration, measure)
        drop = np.full(ic.size, np.nan)
        if ok.any():
            peak = _peak_drop(pelvis, ic[ok], to[ok], sign[ok], neutral, measure)
            drop[ok] = np.rad2deg(peak)
        drops[name] = drop
    step_time = nxt - ic
    return {
        "side": np.where(side_i == LEFT, "left", "right"),
        "ic_time": ic,
        "to_time": to,
        "contact_time": to - ic,
        "flight_time": nxt - to,
        "step_time": step_time,
        "cadence": 60.0 / step_time,
        **drops,
    }
