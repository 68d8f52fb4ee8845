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

import math
from dataclasses import dataclass, field

import numpy as np

from ..types import SIDES, Side, Step
from .kernels import steps as _k

__all__ = ["StepAssembler", "StepTiming"]


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


_SIDE_CODE = {"left": 0, "right": 1, None: -1}
_SIDE_NAME: tuple[Side, Side] = ("left", "right")


@dataclass
class StepAssembler:
    """Merge IC/TO events into :class:`StepTiming` records, in time order.

    The event stores, the merge and the TO search run in numba
    (:mod:`imustream.dsp.kernels.steps`); this class keeps the shortcut that skips the merge
    while nothing can have changed (see :meth:`_next_ic`).

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
        self._shoe = np.array([s in self.shoe_sides for s in SIDES], dtype=np.bool_)
        self._cfg = np.array([self.max_contact, self.max_step, self.match_tol], dtype=np.float64)
        self.reset()

    def reset(self) -> None:
        """Forget all events."""
        self._two_shoes = len(self.shoe_sides) == 2
        self._alloc(64)
        self._sc = np.array([-math.inf, -1.0])  # done_until, last side
        # advance() with a watermark in [from, until] and no event added since returns []
        self._quiet_from = math.inf
        self._quiet_until = -math.inf
        self._quiet_blocked = False  # the last empty merge stopped at an IC without TO
        self._next_at = math.nan  # watermark of the last merge, and its next IC
        self._next = math.inf

    def _alloc(self, cap: int) -> None:
        self._ev = np.zeros((6, cap))
        self._evs = np.full((6, cap), -1, dtype=np.int64)
        self._cnt = np.zeros(6, dtype=np.int64)
        self._buf_t = np.zeros(6 * cap)
        self._buf_s = np.zeros(6 * cap, dtype=np.int64)
        self._out = np.zeros((6 * cap, 4))

    def _add(self, store: int, time: float, side: int) -> None:
        cap = self._ev.shape[1]
        if self._cnt[store] >= cap:  # grow (events wait for a watermark that does not move)
            ev, evs, cnt = self._ev, self._evs, self._cnt
            self._alloc(2 * cap)
            self._ev[:, :cap] = ev
            self._evs[:, :cap] = evs
            self._cnt[:] = cnt
        _k.insert(self._ev, self._evs, self._cnt, store, float(time), side)
        self._note(store == _k.S_IC or store == _k.S_IC + 1 or store == _k.S_PIC, time, store < 4)

    def _note(self, ic: bool, time: float, shoe: bool) -> None:
        """Narrow the quiet window (see :meth:`_next_ic`) for a newly stored event.

        With both shoes the merge takes shoe ICs only, and only those before the watermark:
        a new shoe IC at ``time`` matters once the watermark passes it. A new TO matters only
        to an IC whose TO search blocked the last merge (otherwise at most one IC was
        merged, and nothing changes before another IC joins). Anything else: merge again.
        """
        if ic:
            if shoe and self._two_shoes:
                if time < self._quiet_until:
                    self._quiet_until = time
            else:
                self._quiet_until = -math.inf
        elif self._quiet_blocked:
            self._quiet_until = -math.inf

    def note_shoe_events(self, kinds: list[int], times: list[list[float]]) -> None:
        """Quiet-window bookkeeping for shoe events stored by a kernel (``kinds`` 0 = IC,
        ``times[j][0]`` NaN = not stored)."""
        for k, tt in zip(kinds, times, strict=False):
            t = tt[0]
            if t == t:
                self._note(k == 0, t, True)

    def add_shoe_events(self, side: Side, kinds: np.ndarray, times: np.ndarray, n: int) -> None:
        """``n`` events of the shoe on ``side``: ``kinds`` 0 = IC, 1 = TO, times in
        ``times[:, 0]`` (NaN = not an event: skipped), in one kernel call."""
        added = _k.insert_shoe_events(
            self._ev, self._evs, self._cnt, _SIDE_CODE[side], kinds, times, n
        )
        if added < 0:  # no room: one by one (the stores grow)
            for j in range(n):
                if times[j, 0] == times[j, 0]:
                    self.add_shoe_event("ic" if kinds[j] == 0 else "to", side, times[j, 0])
        elif added:
            self.note_shoe_events(kinds[:n].tolist(), times[:n].tolist())

    def add_shoe_event(self, kind: str, side: Side, time: float) -> None:
        """An IC (``kind="ic"``) or TO (``"to"``) from the shoe sensor on ``side``."""
        code = _SIDE_CODE[side]
        self._add((_k.S_IC if kind == "ic" else _k.S_TO) + code, time, code)

    def add_pelvis_event(self, kind: str, side: Side | None, time: float) -> None:
        """An IC or TO from the pelvis detector (``side`` may be ``None``)."""
        self._add(_k.S_PIC if kind == "ic" else _k.S_PTO, time, _SIDE_CODE[side])

    def pelvis_side(self, time: float, kind: str = "ic") -> Side | None:
        """Side of a pelvis IC (or TO) at ``time`` from the nearest shoe IC (TO).

        ``None`` when no shoe is connected; with one shoe, events not matching it belong to
        the other side.
        """
        code = _k.pelvis_side(
            self._ev, self._cnt, self._shoe, self.match_tol, float(time), kind != "ic"
        )
        return _SIDE_NAME[code] if code >= 0 else None

    def _run(self, watermark: float, final: bool) -> list[StepTiming]:
        n, blocked, self._next = _k.advance(
            self._ev,
            self._evs,
            self._cnt,
            self._shoe,
            self._cfg,
            self._sc,
            watermark,
            final,
            self._buf_t,
            self._buf_s,
            self._out,
        )
        self._blocked = blocked
        self._next_at = watermark
        if not n:
            return []
        # math.nan itself for missing times, as before (records compare equal by identity)
        return [
            StepTiming(
                _SIDE_NAME[int(side)],
                ic,
                to if to == to else math.nan,
                nxt if nxt == nxt else math.nan,
            )
            for side, ic, to, nxt in self._out[:n].tolist()
        ]

    def advance(self, watermark: float) -> list[StepTiming]:
        """Emit the steps that are complete given that no event before ``watermark`` is missing."""
        if self._quiet_from <= watermark <= self._quiet_until:
            return []
        out = self._run(watermark, False)
        self._quiet_from = watermark
        self._quiet_until = -math.inf if out else min(self._blocked, self._next_ic(watermark))
        self._quiet_blocked = self._blocked != math.inf
        self._next_at = math.nan  # the merge's next IC is only valid until the next event
        return out

    def _next_ic(self, watermark: float) -> float:
        """Earliest stored IC at or after ``watermark`` (inf if none).

        An advance() that emitted nothing repeats exactly (nothing again) for any later
        watermark up to the point where a stored IC joins the merge (``t < watermark``) or a
        blocked IC's TO deadline passes, unless an event is added: that bound skips the merge
        on most blocks. (An earlier watermark, e.g. a stalled sensor back, merges fewer ICs,
        which can change the TO search: no shortcut then.)
        """
        if watermark == self._next_at:  # computed by the merge that just ran
            return self._next
        return _k.next_ic(self._ev, self._cnt, watermark)

    def finish(self) -> list[StepTiming]:
        """Emit everything left, including the last step (no next IC: step time NaN)."""
        out = self._run(math.inf, True)
        self._quiet_from = math.inf
        self._quiet_until = -math.inf
        return out
