"""Step schedule of the virtual runner: initial contacts, toe-offs, bouts and pauses.

The whole schedule of a run is drawn up front from the seed (a 2-hour run is ~20,000 steps, a
few hundred kB), so that any chunk of samples can be evaluated independently of the others.

A *step* is one stance and what follows it: IC of the stance leg, its TO, and the next
contralateral IC. Each gait bout starts from quiet standing (one foot lifts, the other pushes
off) and ends with two landings into standing (steps whose TO is NaN: the foot stays down).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .scenarios import Scenario

FloatArray = NDArray[np.float64]

__all__ = ["LEFT", "RIGHT", "ContactIntervals", "GaitPlan", "plan_gait"]

LEFT, RIGHT = 0, 1


@dataclass(frozen=True)
class ContactIntervals:
    """Ground contacts of one foot, in time order.

    ``start`` is the IC (``landed=True``) or the plan start (quiet standing at the beginning);
    ``end`` is the TO (``lifts=True``) or the plan end. ``tc`` is the nominal contact time used
    to place foot flat and heel off. ``step`` indexes GaitPlan rows (-1 for initial standing).
    """

    start: FloatArray
    end: FloatArray
    landed: NDArray[np.bool_]
    lifts: NDArray[np.bool_]
    tc: FloatArray
    step: NDArray[np.int64]


@dataclass(frozen=True)
class GaitPlan:
    """All steps of a run (sorted by IC), per-step draws, bouts and per-foot contacts.

    Per-step arrays (length = number of steps): ``side`` (LEFT/RIGHT), ``ic``, ``to`` (NaN when
    the foot lands into standing), ``next_ic`` (NaN when no contralateral IC follows in the
    bout), ``drop_amp`` (commanded contralateral drop, deg), ``shape`` (n, 8) random factors
    (mean 1) for strike angle, toe-off angle, swing peak, axial rotation, tilt, lateral sway,
    braking and vertical impact. ``bouts`` (k, 3): [first lift-off, first IC, first
    landing into standing] of each gait bout; between the last two the stance forces carry the
    body weight.
    ``t_start``, ``t_end``: span of the plan (beyond the requested duration).
    """

    side: NDArray[np.int64]
    ic: FloatArray
    to: FloatArray
    next_ic: FloatArray
    tc: FloatArray
    drop_amp: FloatArray
    shape: FloatArray
    bouts: FloatArray
    feet: tuple[ContactIntervals, ContactIntervals]
    t_start: float
    t_end: float


def _bout_spans(sc: Scenario, t_end: float) -> list[tuple[float, float]]:
    spans = []
    t_go = sc.standing_s
    for start, dur in sorted(sc.pauses):
        if start >= t_end:
            break
        spans.append((t_go, start))
        t_go = start + dur
    if t_go < t_end:
        spans.append((t_go, t_end))
    return spans


def plan_gait(sc: Scenario, duration: float, rng: np.random.Generator) -> GaitPlan:
    """Draw the step schedule of ``duration`` s (plus a margin) of scenario ``sc``."""
    t_start = -5.0
    t_end = duration * (1 + 1e-3) + 5.0
    t_step = 60.0 / sc.cadence
    steps_side = (1 + np.array([1, -1]) * sc.step_asym_pct / 200) * t_step
    tc_side = (1 + np.array([1, -1]) * sc.contact_asym_pct / 200) * sc.contact_time
    drop_side = np.array([sc.drop_left_deg, sc.drop_right_deg])
    rate_side = np.array([sc.drop_left_rate, sc.drop_right_rate])

    side, ic, to, next_ic, tc = [], [], [], [], []
    bouts = []
    # contacts per foot: start, end, landed, lifts, tc, step
    feet: list[list[list]] = [[], []]
    for f in (LEFT, RIGHT):
        feet[f].append([t_start, None, False, None, sc.contact_time, -1])

    run_spans = _bout_spans(sc, t_end)
    settled = t_start  # time both feet stand again after the previous bout
    # per-bout random numbers come from one stream in a fixed order: deterministic
    for t_go, t_stop in run_spans:
        # t_go = first lift-off; the heel rises (1 - heel_off_frac) of a stance before it
        t_go = max(t_go, settled + 0.5) + (1 - sc.heel_off_frac) * sc.contact_time
        if t_go >= t_stop:
            continue
        first = int(rng.integers(2))  # LEFT or RIGHT leads the bout
        swing0 = 0.75 * (2 * t_step - sc.contact_time)
        t_ic = t_go + swing0
        # the first stance foot lifts from standing at t_go; the other pushes off later
        _close(feet[first], t_go)
        _close(feet[1 - first], t_ic + (sc.contact_time - t_step))
        s = first
        bout_first = len(ic)
        while True:
            ts = steps_side[s] * (1 + sc.step_cv * rng.standard_normal())
            tcs = tc_side[s] * (1 + sc.step_cv * rng.standard_normal())
            if t_ic + ts >= t_stop:
                break
            for col, value in ((side, s), (ic, t_ic), (to, t_ic + tcs), (next_ic, t_ic + ts)):
                col.append(value)
            tc.append(tcs)
            feet[s].append([t_ic, t_ic + tcs, True, True, tcs, len(ic) - 1])
            t_ic += ts
            s = 1 - s
        # two landings into standing: this side now, the other one step later
        land = t_ic
        for k in range(2):
            nxt = t_ic + steps_side[s] if k == 0 else np.nan
            for col, value in ((side, s), (ic, t_ic), (to, np.nan), (next_ic, nxt)):
                col.append(value)
            tc.append(tc_side[s])
            feet[s].append([t_ic, None, True, None, tc_side[s], len(ic) - 1])
            t_ic += steps_side[s]
            s = 1 - s
        settled = t_ic
        if len(ic) - 2 > bout_first:
            bouts.append((t_go, ic[bout_first], land))
    t_end = max(t_end, settled + 5.0)

    n = len(ic)
    side_a = np.array(side, dtype=np.int64)
    ic_a = np.array(ic)
    run_minutes = np.maximum(ic_a - sc.standing_s, 0.0) / 60.0
    drop = (drop_side[side_a] + rate_side[side_a] * run_minutes) * (
        1 + sc.drop_cv * rng.standard_normal(n)
    )
    shape = 1 + 0.05 * rng.standard_normal((n, 8))
    shape[:, 7] = np.maximum(1 + 0.15 * rng.standard_normal(n), 0.3)  # impacts vary more

    contacts = []
    for f in (LEFT, RIGHT):
        rows = feet[f]
        if rows[-1][1] is None:
            rows[-1][1], rows[-1][3] = t_end, False
        arr = list(zip(*rows, strict=True))
        contacts.append(
            ContactIntervals(
                start=np.array(arr[0], dtype=float),
                end=np.array(arr[1], dtype=float),
                landed=np.array(arr[2], dtype=bool),
                lifts=np.array(arr[3], dtype=bool),
                tc=np.array(arr[4], dtype=float),
                step=np.array(arr[5], dtype=np.int64),
            )
        )
    return GaitPlan(
        side=side_a,
        ic=ic_a,
        to=np.array(to),
        next_ic=np.array(next_ic),
        tc=np.array(tc),
        drop_amp=drop,
        shape=shape,
        bouts=np.array(bouts, dtype=float).reshape(-1, 3),
        feet=(contacts[0], contacts[1]),
        t_start=t_start,
        t_end=t_end,
    )


def _close(rows: list[list], t_lift: float) -> None:
    """End the open (standing) contact of a foot with a lift-off at ``t_lift``."""
    last = rows[-1]
    if last[1] is not None:
        raise RuntimeError("gait plan: foot already in the air")
    last[1], last[3] = t_lift, True
