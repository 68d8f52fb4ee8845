"""The live dashboard window: a QTimer pulls from the feed at a fixed frame rate and draws."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtWidgets

from .feed import LiveFeed
from .model import DashboardModel
from .recent import RecentValues
from .style import BACKGROUND, FOREGROUND
from .widgets import (
    AlertBanner,
    BigNumbersPanel,
    PelvicDropPanel,
    SensorStatusPanel,
    SessionControls,
    TracePanel,
)
from .widgets.controls import MarkerSink

__all__ = ["Dashboard", "FrameStats"]


class FrameStats:
    """Per-frame GUI-thread cost and display latency, gathered while the window runs."""

    def __init__(self, keep: int = 65_536) -> None:
        # the newest ``keep`` values of each (RecentValues: fixed memory; len() = total count)
        self.frames = 0
        self.frame_s = RecentValues(keep)
        #: update cost of the frames that had new data to draw
        self.busy_frame_s = RecentValues(keep)
        #: ns from a step's/event's notification arrival to its frame painted (the first
        #: event-loop pass after the frame's repaint)
        self.latency_ns = RecentValues(keep, np.int64)
        #: the same for steps only (a step is released after its toe-off and the next IC)
        self.step_latency_ns = RecentValues(keep, np.int64)

    def summary(self) -> dict[str, float]:
        """Frame count, median/p95 frame time (ms), median/p95 latency (ms) over the newest
        ``keep`` frames and latencies."""
        ft = np.asarray(self.frame_s) * 1e3
        lat = np.asarray(self.latency_ns) * 1e-6
        nan = float("nan")
        return {
            "frames": float(self.frames),
            "frame_ms_median": float(np.median(ft)) if ft.size else nan,
            "frame_ms_p95": float(np.percentile(ft, 95)) if ft.size else nan,
            "latency_ms_median": float(np.median(lat)) if lat.size else nan,
            "latency_ms_p95": float(np.percentile(lat, 95)) if lat.size else nan,
            "latency_n": float(len(self.latency_ns)),
        }


class Dashboard(QtWidgets.QMainWindow):
    """Live running dashboard.

    Parameters
    ----------
    feed : LiveFeed
        Filled by the acquisition / DSP thread(s); only read here.
    markers : MarkerSink, optional
        Queue receiving user markers (the recorder consumes it); a new
        ``queue.SimpleQueue`` when omitted.
    on_record : callable, optional
        Called with ``True`` / ``False`` when the user starts / stops recording.
    fps : float
        Frame rate of the drawing timer.
    window_s : float
        Seconds shown by the scrolling traces.
    n_steps : int
        Steps shown as pelvic-drop bars.
    beep : bool
        Audible cue when an asymmetry alert turns on.
    drop_limit_deg : float or None
        Pelvic-drop limit drawn on the drop plots (the pipeline's per-side limit).
    stale_after_s : float
        Wall seconds without a new sample after which the banner says that no data arrive.
    clock : callable
        Wall clock in seconds (injectable for tests).
    title : str
        Window title (e.g. the source).
    """

    def __init__(
        self,
        feed: LiveFeed,
        markers: MarkerSink | None = None,
        on_record: Callable[[bool], None] | None = None,
        fps: float = 30.0,
        window_s: float = 8.0,
        n_steps: int = 20,
        beep: bool = False,
        drop_limit_deg: float | None = 8.0,
        stale_after_s: float = 2.0,
        title: str = "imustream live",
        clock=time.monotonic,
    ) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        super().__init__()
        pg.setConfigOptions(antialias=False, background=BACKGROUND, foreground=FOREGROUND)
        self.feed = feed
        self.model = DashboardModel(feed, window_s=window_s)
        self.markers = markers if markers is not None else queue.SimpleQueue()
        self.stats = FrameStats()
        self.stale_after_s = float(stale_after_s)
        self._clock = clock
        self._last_sample_wall: float | None = None
        self._last_now = float("nan")
        self.setWindowTitle(title)
        self.setStyleSheet(
            f"QMainWindow, QWidget {{ background: {BACKGROUND}; color: {FOREGROUND}; }}"
        )

        central = QtWidgets.QWidget()
        root = QtWidgets.QVBoxLayout(central)
        root.setContentsMargins(8, 8, 8, 8)
        self.banner = AlertBanner(beep=beep)
        root.addWidget(self.banner)

        middle = QtWidgets.QHBoxLayout()
        self.traces = TracePanel(feed.sensors, window_s)
        middle.addWidget(self.traces, 5)
        right = QtWidgets.QVBoxLayout()
        self.numbers = BigNumbersPanel()
        right.addWidget(self.numbers)
        self.drop = PelvicDropPanel(n_steps=n_steps, limit_deg=drop_limit_deg)
        right.addWidget(self.drop, 1)
        middle.addLayout(right, 4)
        root.addLayout(middle, 1)

        bottom = QtWidgets.QHBoxLayout()
        self.status = SensorStatusPanel(feed.sensors)
        bottom.addWidget(self.status, 3)
        self.controls = SessionControls(self.markers, clock=self.session_time, on_record=on_record)
        bottom.addWidget(self.controls, 4)
        root.addLayout(bottom)
        self.setCentralWidget(central)

        self.timer = QtCore.QTimer(self)
        self.timer.setTimerType(QtCore.Qt.PreciseTimer)
        self.timer.setInterval(max(1, round(1000.0 / fps)))
        self.timer.timeout.connect(self.tick)

    def session_time(self) -> float:
        """Newest sample time shown (session s); 0 before the first sample."""
        now = self.model.now
        return now if now == now else 0.0

    def start(self) -> None:
        """Start the frame timer."""
        self.timer.start()

    def stop(self) -> None:
        """Stop the frame timer."""
        self.timer.stop()

    def tick(self) -> None:
        """One frame: pull what is new, redraw what changed, record cost and latency."""
        t0 = time.perf_counter()
        changed = self.model.update()
        if changed:
            self.traces.refresh(self.model)
            self.drop.refresh(self.model)
            self.numbers.refresh(self.model)
        wall = self._clock()
        if self.model.now != self._last_now and self.model.now == self.model.now:
            self._last_now = self.model.now
            self._last_sample_wall = wall
        stale = 0.0
        if (
            self._last_sample_wall is not None
            and wall - self._last_sample_wall > self.stale_after_s
        ):
            stale = wall - self._last_sample_wall
        self.banner.refresh(self.model, stale_s=stale)
        self.status.refresh(self.model)
        if self.model.new_record_sources:
            # a 0-ms timer fires once the queued events (this frame's repaint) are processed
            pending = (list(self.model.new_record_sources), list(self.model.new_step_sources))
            QtCore.QTimer.singleShot(0, lambda: self._record_latency(*pending))
        self.stats.frames += 1
        spent = time.perf_counter() - t0
        self.stats.frame_s.append(spent)
        if changed:
            self.stats.busy_frame_s.append(spent)

    def _record_latency(self, records: list[int], steps: list[int]) -> None:
        done_ns = time.monotonic_ns()
        self.stats.latency_ns.extend(done_ns - src for src in records)
        self.stats.step_latency_ns.extend(done_ns - src for src in steps)

    def save_screenshot(self, path: str | Path) -> Path:
        """Render the window to a PNG file and return its path."""
        path = Path(path)
        if not self.grab().save(str(path), "PNG"):
            raise OSError(f"could not write screenshot {path}")
        return path
