"""Assemble per-step timing from initial-contact / toe-off events of shoes and/or pelvis.

Events arrive from several detectors with different latencies, so the assembler keeps them
until a *watermark* (a session time before which no more events can arrive) has passed, then
emits the steps in time order. A step is the stance on ``side`` from its initial contact (IC)
to its toe-off (TO) plus the flight until the next (contralateral) IC.

Which events make the steps: a side with a shoe sensor uses that shoe's events (exact side);
a side without one uses the pelvis events. Pelvis events get their side from the shoes when
shoes are connected (the nearest shoe IC), else from the pelvis detector, else by alternation.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from ..types import SIDES, Side, Step

__all__ = ["StepAssembler", "StepTiming"]


def _other(side: Side) -> Side:
    return "right" if side == "left" else "left"


@dataclass(frozen=True, slots=True)
class StepTiming:
    """Timing part of a step; the pipeline adds impact, pelvic drop and quality flags."""

    side: Side
    ic_time: float
    to_time: float
    next_ic_time: float

    def to_step(self, **extra) -> Step:
        """A :class:`~imustream.types.Step` with the derived times and ``extra`` fields."""
        contact = self.to_time - self.ic_time
        step_time = self.next_ic_time - self.ic_time
        flight = self.next_ic_time - self.to_time
        cadence = 60.0 / step_time if step_time > 0 else math.nan
        return Step(
            side=self.side,
            ic_time=self.ic_time,
            to_time=self.to_time,
            contact_time=contact,
            flight_time=flight,
            step_time=step_time,
            cadence=cadence,
            **extra,
        )


@dataclass
class StepAssembler:
    """Merge IC/TO events into :class:`StepTiming` records, in time order.

    Parameters
    ----------
    shoe_sides : iterable of str
        Sides ("left"/"right") that have a shoe sensor.
    max_contact : float
        Longest plausible stance in s (a TO later than this after its IC is ignored).
    max_step : float
        Longest plausible IC-to-next-IC interval in s; longer = a pause (step time NaN).
    match_tol : float
        Pelvis and shoe ICs closer than this (s) are the same foot strike.
    """

    shoe_sides: frozenset[str] = field(default_factory=frozenset)
    max_contact: float = 0.8
    max_step: float = 1.5
    match_tol: float = 0.12

    def __post_init__(self) -> None:
        self.shoe_sides = frozenset(self.shoe_sides)
        bad = self.shoe_sides - set(SIDES)
        if bad:
            raise ValueError(f"shoe_sides must be 'left'/'right', got {sorted(bad)}")
        self.reset()

    def reset(self) -> None:
        """Forget all events."""
        self._shoe_ic: dict[str, list[float]] = {s: [] for s in SIDES}
        self._shoe_to: dict[str, list[float]] = {s: [] for s in SIDES}
        self._pelvis_ic: list[tuple[float, Side | None]] = []
        self._pelvis_to: list[tuple[float, Side | None]] = []
        self._done_until = -math.inf  # ICs at or before this time have been emitted
        self._last_side: Side | None = None
        self._pending_last: tuple[float, Side] | None = None
        # advance() with a watermark in [from, until] and no event added since returns []
        self._quiet_from = math.inf
        self._quiet_until = -math.inf

    def add_shoe_event(self, kind: str, side: Side, time: float) -> None:
        """An IC (``kind="ic"``) or TO (``"to"``) from the shoe sensor on ``side``."""
        target = self._shoe_ic if kind == "ic" else self._shoe_to
        bisect.insort(target[side], float(time))
        self._quiet_until = -math.inf

    def add_pelvis_event(self, kind: str, side: Side | None, time: float) -> None:
        """An IC or TO from the pelvis detector (``side`` may be ``None``)."""
        target = self._pelvis_ic if kind == "ic" else self._pelvis_to
        bisect.insort(target, (float(time), side), key=lambda e: e[0])
        self._quiet_until = -math.inf

    # -- merging ---------------------------------------------------------------------------
    def _near(self, times: list[float], t: float) -> bool:
        i = bisect.bisect_left(times, t - self.match_tol)
        return i < len(times) and times[i] <= t + self.match_tol

    def pelvis_side(self, time: float, kind: str = "ic") -> Side | None:
        """Side of a pelvis IC (or TO) at ``time`` from the nearest shoe IC (TO).

        ``None`` when no shoe is connected; with one shoe, events not matching it belong to
        the other side.
        """
        best: tuple[float, Side] | None = None
        for s in self.shoe_sides:
            times = self._shoe_ic[s] if kind == "ic" else self._shoe_to[s]
            i = bisect.bisect_left(times, time)
            for j in (i - 1, i):
                if 0 <= j < len(times):
                    d = abs(times[j] - time)
                    if d <= self.match_tol and (best is None or d < best[0]):
                        best = (d, s)
        if best is not None:
            return best[1]
        if len(self.shoe_sides) == 1:
            return _other(next(iter(self.shoe_sides)))
        return None

    def _merged_ics(self, until: float) -> list[tuple[float, Side]]:
        """ICs after the last emitted one and before ``until``, with their sides."""
        ics: list[tuple[float, Side]] = []
        for s in self.shoe_sides:
            ics += [(t, s) for t in self._shoe_ic[s] if t < until]
        if len(self.shoe_sides) < 2:
            for t, side in self._pelvis_ic:
                if t >= until:
                    break
                if self.shoe_sides:
                    shoe = next(iter(self.shoe_sides))
                    if self._near(self._shoe_ic[shoe], t):
                        continue
                    side = _other(shoe)
                ics.append((t, side))
        ics = sorted((e for e in ics if e[0] > self._done_until), key=lambda e: e[0])
        # sides still unknown (pelvis alone, detector gave none): alternate
        out: list[tuple[float, Side]] = []
        last = self._last_side
        for t, side in ics:
            if side is None:
                side = _other(last) if last is not None else "left"
            out.append((t, side))
            last = side
        return out

    def _to_for(self, side: Side, ic: float, limit: float) -> float:
        if side in self.shoe_sides:
            times = self._shoe_to[side]
            i = bisect.bisect_right(times, ic)
            return times[i] if i < len(times) and times[i] < limit else math.nan
        for t, s in self._pelvis_to:
            if t <= ic:
                continue
            if t >= limit:
                break
            if s is None or s == side:
                return t
        return math.nan

    def advance(self, watermark: float) -> list[StepTiming]:
        """Emit the steps that are complete given that no event before ``watermark`` is missing."""
        if self._quiet_from <= watermark <= self._quiet_until:
            return []
        ics = self._merged_ics(watermark)
        out: list[StepTiming] = []
        blocked = math.inf
        for k in range(len(ics) - 1):
            t, side = ics[k]
            t_next, side_next = ics[k + 1]
            same_next = next((u for u, s in ics[k + 1 :] if s == side), math.inf)
            limit = min(t + self.max_contact, same_next)
            to = self._to_for(side, t, limit)
            if math.isnan(to) and t + self.max_contact >= watermark:
                blocked = t + self.max_contact
                break  # TO may still arrive (e.g. walking: TO after the contralateral IC)
            if side_next == side or t_next - t > self.max_step:
                t_next = math.nan
            out.append(StepTiming(side, t, to, t_next))
            self._done_until = t
            self._last_side = side
        self._prune()
        self._quiet_from = watermark
        self._quiet_until = -math.inf if out else min(blocked, self._next_ic(watermark))
        return out

    def _next_ic(self, watermark: float) -> float:
        """Earliest stored IC at or after ``watermark`` (inf if none).

        An advance() that emitted nothing repeats exactly (nothing again) for any later
        watermark up to the point where a stored IC joins the merge (``t < watermark``) or a
        blocked IC's TO deadline passes, unless an event is added: that bound skips the merge
        on most blocks. (An earlier watermark, e.g. a stalled sensor back, merges fewer ICs,
        which can change the TO search: no shortcut then.)
        """
        nxt = math.inf
        for times in self._shoe_ic.values():
            i = bisect.bisect_left(times, watermark)
            if i < len(times):
                nxt = min(nxt, times[i])
        i = bisect.bisect_left(self._pelvis_ic, watermark, key=lambda e: e[0])
        if i < len(self._pelvis_ic):
            nxt = min(nxt, self._pelvis_ic[i][0])
        return nxt

    def finish(self) -> list[StepTiming]:
        """Emit everything left, including the last step (no next IC: step time NaN)."""
        out = self.advance(math.inf)
        ics = self._merged_ics(math.inf)
        for t, side in ics:
            to = self._to_for(side, t, t + self.max_contact)
            out.append(StepTiming(side, t, to, math.nan))
            self._done_until = t
            self._last_side = side
        return out

    def _prune(self) -> None:
        keep = self._done_until - 2.0 * self.max_step
        for d in (self._shoe_ic, self._shoe_to):
            for s in SIDES:
                i = bisect.bisect_left(d[s], keep)
                if i:
                    del d[s][:i]
        for lst in (self._pelvis_ic, self._pelvis_to):
            i = bisect.bisect_left(lst, keep, key=lambda e: e[0])
            if i:
                del lst[:i]
