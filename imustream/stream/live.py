"""The consumer side of a live session: queue -> Acquisition -> Pipeline -> state for display.

One object owns everything downstream of the BLE queue on one thread: it decodes and
time-maps notifications, feeds blocks and gaps to the DSP pipeline (when given), keeps recent
samples in ring buffers (for plots), the most recent steps, alerts and gaps (for summaries) and
counts all of them: memory does not grow with the session (a recorder keeps everything).
"""

from __future__ import annotations

import math
import queue
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from ..types import Alert, Gap, SampleBlock, Step
from .acquisition import Acquisition
from .ring import RingBuffer
from .session_median import HistogramMedian

#: Ring buffer columns: session time, acc x/y/z (m/s^2), gyr x/y/z (rad/s).
RING_COLUMNS = ("t", "ax", "ay", "az", "gx", "gy", "gz")


class LiveSession:
    """Drain a BLE queue into acquisition, analysis and display state.

    Parameters
    ----------
    acquisition : Acquisition
    pipeline : object, optional
        Anything with ``process(block)``, ``gap(gap)`` and ``finish()`` returning objects with
        ``events``, ``steps`` and ``alerts`` lists (``imustream.dsp.Pipeline``).
    ring_seconds : float
        Seconds of samples kept per sensor in :attr:`rings`.
    on_output : callable, optional
        Called with every block, gap, step and alert.
    on_raw : callable, optional
        Called with every queue item before decoding: ``(host_ns, sensor, bytes)`` tuples and
        StateChange records (e.g. a session-log recorder that keeps the raw notifications).
    keep_steps : int
        Most recent steps kept in :attr:`steps` (2048: ~12 min of running); alerts and gaps
        keep the newest 256. :attr:`n_steps`, :attr:`steps_by_side`, :attr:`alerts_raised`
        and :attr:`n_gaps` count the whole session.
    """

    def __init__(
        self,
        acquisition: Acquisition,
        pipeline: Any | None = None,
        ring_seconds: float = 30.0,
        on_output: Callable[[Any], None] | None = None,
        on_raw: Callable[[Any], None] | None = None,
        keep_steps: int = 2048,
    ) -> None:
        self.acquisition = acquisition
        self.on_raw = on_raw
        self.pipeline = pipeline
        self.on_output = on_output
        self.rings = {
            s: RingBuffer(max(16, int(tr.fs * ring_seconds)), len(RING_COLUMNS))
            for s, tr in acquisition.tracks.items()
        }
        self.steps: deque[Step] = deque(maxlen=int(keep_steps))
        self.alerts: deque[Alert] = deque(maxlen=256)
        self.active_alerts: dict[tuple[str, str | None], Alert] = {}
        self.gaps: deque[Gap] = deque(maxlen=256)
        self.n_steps = 0
        self.steps_by_side: dict[str, int] = {"left": 0, "right": 0}
        # whole-session medians for the final summary, in fixed memory (0.1 ms / 0.01 deg bins)
        self._session = {
            "cadence": HistogramMedian(0.0, 400.0, 0.01),
            "step_time": HistogramMedian(0.0, 5.0, 1e-4),
            **{f"contact_{s}": HistogramMedian(0.0, 5.0, 1e-4) for s in ("left", "right")},
            **{f"drop_{s}": HistogramMedian(-45.0, 45.0, 0.01) for s in ("left", "right")},
        }
        self.alerts_raised = 0
        self.n_gaps = 0
        self.events = 0
        self.items = 0
        self.session_time = 0.0

    @property
    def stats(self):
        """Per-sensor statistics (``SensorStats``)."""
        return self.acquisition.stats

    def drain(self, source: queue.SimpleQueue, max_items: int | None = None) -> int:
        """Handle everything waiting in ``source`` (at most ``max_items``); returns the count."""
        n = 0
        while max_items is None or n < max_items:
            try:
                item = source.get_nowait()
            except queue.Empty:
                break
            self.handle(item)
            n += 1
        return n

    def handle(self, item: Any) -> None:
        """Handle one queue item."""
        self.items += 1
        if self.on_raw is not None:
            self.on_raw(item)
        for out in self.acquisition.handle(item):
            self._route(out)

    def finish(self) -> None:
        """End of stream: release held packets and the pipeline's pending steps."""
        for out in self.acquisition.flush():
            self._route(out)
        if self.pipeline is not None:
            self._take(self.pipeline.finish())

    def _route(self, out: SampleBlock | Gap) -> None:
        if self.on_output is not None:
            self.on_output(out)
        if isinstance(out, Gap):
            self.gaps.append(out)
            self.n_gaps += 1
            if self.pipeline is not None:
                self._guard(out.sensor, self.pipeline.gap, out)
            return
        rows = np.column_stack((out.t_session, out.acc, out.gyr))
        self.rings[out.sensor].push(rows)
        self.session_time = max(self.session_time, float(out.t_session[-1]))
        if self.pipeline is not None:
            self._take(self._guard(out.sensor, self.pipeline.process, out))

    def _guard(self, sensor: str, func: Callable, arg: Any) -> Any:
        try:
            return func(arg)
        except ValueError as exc:  # bad data for analysis: report it, keep streaming
            st = self.acquisition.stats.get(sensor)
            if st is not None:
                st.problem = f"analysis: {exc}"
                st.note(st.problem)
            return None

    def _take(self, result: Any) -> None:
        if result is None:
            return
        self.events += len(result.events)
        for step in result.steps:
            self.steps.append(step)
            self.n_steps += 1
            self.steps_by_side[step.side] = self.steps_by_side.get(step.side, 0) + 1
            self._count_for_session(step)
            if self.on_output is not None:
                self.on_output(step)
        for alert in result.alerts:
            self.alerts.append(alert)
            self.alerts_raised += bool(alert.active)
            if self.on_output is not None:
                self.on_output(alert)
            key = (alert.metric, alert.side)
            if alert.active:
                self.active_alerts[key] = alert
            else:
                self.active_alerts.pop(key, None)

    def _count_for_session(self, step: Step) -> None:
        h = self._session
        h["cadence"].add(step.cadence)
        h["step_time"].add(step.step_time)
        if step.side in ("left", "right"):
            h[f"contact_{step.side}"].add(step.contact_time)
            h[f"drop_{step.side}"].add(step.pelvic_drop_deg)

    def metrics(self, window_s: float = 15.0) -> dict[str, float]:
        """Running metrics over the steps of the last ``window_s`` session seconds (at most the
        ``keep_steps`` most recent); ``window_s=math.inf`` gives the whole session (medians
        from fixed-memory histograms, within 0.1 ms / 0.01 deg / 0.01 steps/min of exact).

        Keys: ``cadence`` (steps/min), ``contact_left`` / ``contact_right`` (ms),
        ``drop_left`` / ``drop_right`` (deg), ``steps`` (count in the window); NaN if unknown.
        """
        if math.isinf(window_s):
            return self._session_metrics()
        recent = [s for s in self.steps if s.ic_time >= self.session_time - window_s]
        out = {"steps": float(len(recent))}

        def median(values: list[float]) -> float:
            vals = [v for v in values if math.isfinite(v)]
            return float(np.median(vals)) if vals else math.nan

        out["cadence"] = median([s.cadence for s in recent])
        if math.isnan(out["cadence"]):
            step_time = median([s.step_time for s in recent])
            out["cadence"] = 60.0 / step_time if step_time > 0 else math.nan
        for side in ("left", "right"):
            mine = [s for s in recent if s.side == side]
            out[f"contact_{side}"] = 1000.0 * median([s.contact_time for s in mine])
            out[f"drop_{side}"] = median([s.pelvic_drop_deg for s in mine])
        return out

    def _session_metrics(self) -> dict[str, float]:
        h = self._session
        out = {"steps": float(self.n_steps), "cadence": h["cadence"].median()}
        if math.isnan(out["cadence"]):
            step_time = h["step_time"].median()
            out["cadence"] = 60.0 / step_time if step_time > 0 else math.nan
        for side in ("left", "right"):
            out[f"contact_{side}"] = 1000.0 * h[f"contact_{side}"].median()
            out[f"drop_{side}"] = h[f"drop_{side}"].median()
        return out
