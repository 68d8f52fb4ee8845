"""The dashboard's data model: pulls new data from a :class:`LiveFeed`, no Qt.

Called once per frame on the GUI thread. Each call reads only "everything since write
count N" and keeps just what the widgets draw: the last ``window_s`` seconds of samples
per sensor, the IC/TO events in that window, the most recent steps, a fixed-size pelvic-drop
trend of the whole session, the latest alert per metric and per-sensor link status. Memory
does not grow with the session's length (the recording keeps everything).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ..types import (
    SIDES,
    Alert,
    Gap,
    InitialContact,
    LinkState,
    Side,
    StateChange,
    Step,
    ToeOff,
)
from .feed import COL_CLIP, COL_T, SAMPLE_WIDTH, LiveFeed
from .recent import DecimatedTrend, RecentValues

__all__ = ["DashboardModel", "SensorStatus"]

_NAN = float("nan")


@dataclass(slots=True)
class SensorStatus:
    """What the status panel shows for one sensor."""

    sensor: str
    state: LinkState | None = None
    message: str = ""
    rate_hz: float = _NAN
    n_samples: int = 0
    n_missing: int = 0
    battery_pct: float = _NAN
    clipping: bool = False
    last_time: float = _NAN

    @property
    def loss_pct(self) -> float:
        """Missing samples in percent of expected samples over the session."""
        total = self.n_samples + self.n_missing
        return 100.0 * self.n_missing / total if total else _NAN


@dataclass(slots=True)
class _EventWindow:
    ic: list[float] = field(default_factory=list)
    to: list[float] = field(default_factory=list)


class DashboardModel:
    """GUI-side state derived from a :class:`LiveFeed`.

    Parameters
    ----------
    feed : LiveFeed
        Where producers push samples and records.
    window_s : float
        Seconds of signal shown by the scrolling traces.
    balance_steps : int
        Steps per side averaged for the contact-time balance and the mean pelvic drop.
    cadence_steps : int
        Most recent steps (both sides) used for cadence.
    rate_window_s : float
        Seconds of samples used to measure each sensor's effective rate.
    keep_steps : int
        Most recent steps (both sides) kept in :attr:`steps`.
    trend_steps : int
        Steps in the trailing mean of the pelvic-drop trend line.
    trend_points : int
        Most recent per-side step dots of the trend; the mean line is decimated to as many.
    """

    def __init__(
        self,
        feed: LiveFeed,
        window_s: float = 8.0,
        balance_steps: int = 20,
        cadence_steps: int = 10,
        rate_window_s: float = 2.0,
        keep_steps: int = 128,
        trend_steps: int = 10,
        trend_points: int = 1500,
    ) -> None:
        if window_s <= 0 or balance_steps < 1 or cadence_steps < 2 or rate_window_s <= 0:
            raise ValueError(
                "window_s and rate_window_s must be > 0, balance_steps >= 1, cadence_steps >= 2"
            )
        if keep_steps < cadence_steps or trend_steps < 1 or trend_points < 2:
            raise ValueError("keep_steps >= cadence_steps, trend_steps >= 1, trend_points >= 2")
        self.feed = feed
        self.window_s = float(window_s)
        self.balance_steps = int(balance_steps)
        self.cadence_steps = int(cadence_steps)
        self.rate_window_s = float(rate_window_s)
        self.sensors = feed.sensors
        self._sample_counts = dict.fromkeys(self.sensors, 0)
        self._record_count = 0
        #: newest sample time over all sensors (session s)
        self.now = _NAN
        #: per sensor: rows of the last ``window_s`` seconds (columns as in ``feed``)
        self.traces: dict[str, NDArray[np.float64]] = {
            s: np.empty((0, SAMPLE_WIDTH)) for s in self.sensors
        }
        self._events = {s: _EventWindow() for s in self.sensors}
        #: the most recent ``keep_steps`` steps in arrival order
        self.steps: deque[Step] = deque(maxlen=int(keep_steps))
        #: steps of the session so far
        self.n_steps = 0
        #: records the feed overwrote before this model read them (fell > capacity behind)
        self.records_missed = 0
        self._steps_by_side: dict[Side, deque[Step]] = {
            s: deque(maxlen=self.balance_steps) for s in SIDES
        }
        self.trend_steps = int(trend_steps)
        self._trend_dots = {
            s: (RecentValues(trend_points), RecentValues(trend_points)) for s in SIDES
        }
        self._trend_window: dict[Side, deque[float]] = {
            s: deque(maxlen=self.trend_steps) for s in SIDES
        }
        self._trend_line = {s: DecimatedTrend(trend_points // 2) for s in SIDES}
        #: latest alert per (metric, side), exactly as emitted by the pipeline
        self.alerts: dict[tuple[str, str | None], Alert] = {}
        #: alerts that turned on during the last update (for the audible cue)
        self.new_activations: list[Alert] = []
        #: host ns of the notifications behind the steps/events new in the last update
        self.new_record_sources: list[int] = []
        #: the same for the new steps only
        self.new_step_sources: list[int] = []
        self.status = {s: SensorStatus(s) for s in self.sensors}

    # ------------------------------------------------------------------ update
    def update(self) -> bool:
        """Pull everything new from the feed; returns whether anything changed."""
        changed = self._pull_samples()
        changed |= self._pull_records()
        if not math.isnan(self.now):
            self._trim_events()
        for sensor, pct in list(self.feed.battery.items()):
            self.status[sensor].battery_pct = pct
        return changed

    def _pull_samples(self) -> bool:
        changed = False
        newest = self.now
        for s in self.sensors:
            rows, count = self.feed.samples[s].since(self._sample_counts[s])
            self._sample_counts[s] = count
            st = self.status[s]
            st.n_samples = count
            if rows.shape[0]:
                changed = True
                self.traces[s] = np.concatenate((self.traces[s], rows))
                t_last = float(rows[-1, COL_T])
                st.last_time = t_last
                if not newest >= t_last:  # also replaces NaN
                    newest = t_last
        self.now = newest
        if math.isnan(newest):
            return changed
        t0 = newest - self.window_s
        for s in self.sensors:
            tr = self.traces[s]
            if tr.shape[0] and tr[0, COL_T] < t0:
                tr = tr[np.searchsorted(tr[:, COL_T], t0) :]
                self.traces[s] = tr
            st = self.status[s]
            st.clipping = bool(tr.shape[0] and tr[:, COL_CLIP].any())
            st.rate_hz = self._rate(tr)
        return changed

    def _trim_events(self) -> None:
        t0 = self.now - self.window_s
        for ev in self._events.values():
            ev.ic = [t for t in ev.ic if t >= t0]
            ev.to = [t for t in ev.to if t >= t0]

    def _rate(self, tr: NDArray[np.float64]) -> float:
        if tr.shape[0] < 2:
            return _NAN
        t = tr[:, COL_T]
        i0 = int(np.searchsorted(t, t[-1] - self.rate_window_s))
        span = t[-1] - t[i0]
        return (tr.shape[0] - 1 - i0) / span if span > 0 else _NAN

    def _pull_records(self) -> bool:
        items, count = self.feed.records.since(self._record_count)
        self.records_missed += count - self._record_count - len(items)
        self._record_count = count
        self.new_activations = []
        self.new_record_sources = []
        self.new_step_sources = []
        for item in items:
            r = item.record
            if isinstance(r, (InitialContact, ToeOff)):
                if r.sensor in self._events:
                    ev = self._events[r.sensor]
                    (ev.ic if isinstance(r, InitialContact) else ev.to).append(r.time)
            elif isinstance(r, Step):
                self._add_step(r)
            elif isinstance(r, Alert):
                key = (r.metric, r.side)
                previous = self.alerts.get(key)
                self.alerts[key] = r
                if r.active and not (previous is not None and previous.active):
                    self.new_activations.append(r)
            elif isinstance(r, Gap):
                if r.sensor in self.status:
                    self.status[r.sensor].n_missing += int(r.n_missing)
            elif isinstance(r, StateChange):
                if r.sensor in self.status:
                    st = self.status[r.sensor]
                    st.state = r.state
                    st.message = r.message
                    battery = r.extra.get("battery")
                    if isinstance(battery, (int, float)):
                        st.battery_pct = float(battery)
            if item.source_host_ns is not None and isinstance(r, (Step, InitialContact, ToeOff)):
                self.new_record_sources.append(item.source_host_ns)
                if isinstance(r, Step):
                    self.new_step_sources.append(item.source_host_ns)
        return bool(items)

    def _add_step(self, step: Step) -> None:
        self.steps.append(step)
        self.n_steps += 1
        side = step.side
        self._steps_by_side[side].append(step)
        drop = float(step.pelvic_drop_deg)
        if math.isfinite(drop):
            t_dots, d_dots = self._trend_dots[side]
            t_dots.append(step.ic_time)
            d_dots.append(drop)
        # trailing mean over the finite drops among the last ``trend_steps`` steps of the side
        window = self._trend_window[side]
        window.append(drop)
        finite = [v for v in window if math.isfinite(v)]
        if finite:
            self._trend_line[side].add(step.ic_time, math.fsum(finite) / len(finite))

    # ------------------------------------------------------------------ views
    def backlog(self) -> tuple[int, int]:
        """How far this model is behind the feed: (records, most samples of one sensor)
        written but not read yet. The feed's rings hold ``keep_records`` records and
        ``keep_s`` seconds of samples; beyond that the oldest are overwritten unread."""
        records = self.feed.records.write_count - self._record_count
        samples = max(
            (self.feed.samples[s].write_count - self._sample_counts[s] for s in self.sensors),
            default=0,
        )
        return records, samples

    def event_times(self, sensor: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """IC and TO times (session s) inside the trace window of ``sensor``."""
        ev = self._events[sensor]
        return np.asarray(ev.ic, dtype=np.float64), np.asarray(ev.to, dtype=np.float64)

    def recent_steps(self, n: int) -> list[Step]:
        """The last ``n`` steps of either side, in order (at most ``keep_steps``)."""
        k = len(self.steps)
        return [self.steps[i] for i in range(max(0, k - n), k)] if n > 0 else []

    def drop_trend(self, side: Side) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """IC time and pelvic drop (deg) of the latest ``trend_points`` steps on ``side`` with
        a drop (the trend's dots)."""
        t, d = self._trend_dots[side]
        return t.values(), d.values()

    def drop_trend_line(self, side: Side) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The ``trend_steps``-step trailing mean of the drop on ``side`` over the whole session,
        min/max-decimated to at most ``trend_points`` points, ending at the latest step."""
        return self._trend_line[side].points()

    def mean_drop(self, side: Side) -> float:
        """Mean pelvic drop (deg) of the last ``balance_steps`` steps on ``side``."""
        vals = [s.pelvic_drop_deg for s in self._steps_by_side[side]]
        vals = [v for v in vals if math.isfinite(v)]
        return float(np.mean(vals)) if vals else _NAN

    @property
    def contact_balance(self) -> tuple[float, float]:
        """Left and right share (%) of the summed mean contact times (recent steps)."""
        means = []
        for side in SIDES:
            vals = [s.contact_time for s in self._steps_by_side[side]]
            vals = [v for v in vals if math.isfinite(v)]
            means.append(float(np.mean(vals)) if vals else _NAN)
        total = means[0] + means[1]
        if not total > 0:
            return _NAN, _NAN
        return 100.0 * means[0] / total, 100.0 * means[1] / total

    @property
    def cadence(self) -> float:
        """Steps per minute over the last ``cadence_steps`` steps (median of step intervals)."""
        recent = self.recent_steps(self.cadence_steps)
        given = [s.cadence for s in recent if math.isfinite(s.cadence)]
        if len(given) >= 2:
            return float(np.median(given))
        t = np.sort([s.ic_time for s in recent])
        dt = np.diff(t)
        dt = dt[dt > 0]
        return float(60.0 / np.median(dt)) if dt.size else _NAN

    @property
    def active_alerts(self) -> list[Alert]:
        """Alerts currently on, in the order their (metric, side) first appeared."""
        return [a for a in self.alerts.values() if a.active]
