"""Recorder thread: takes raw notifications and records off the acquisition thread into the log."""

from __future__ import annotations

import os
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import RecordingError
from .diskguard import DiskGuard
from .logformat import Kind
from .logwriter import SessionLogWriter
from .records import Record, to_log_record


@dataclass
class RecorderStats:
    """What a recorder did; ``dropped`` counts notifications lost to queue overflow per sensor."""

    notifications: int = 0
    records: int = 0
    bytes: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    cpu_s: float = 0.0
    wall_s: float = 0.0
    stop_reason: str = ""

    @property
    def cpu_fraction(self) -> float:
        """Recorder thread CPU time / wall time (0.05 = 5% of one core)."""
        return self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0


class Recorder:
    """Write a session log from its own thread, fed by a bounded queue.

    ``notify`` is safe to call from the acquisition (or BLE) thread and never blocks: if the
    queue is full the notification is counted as dropped and an OVERFLOW record is written
    (the converter turns it into a gap), never silently lost.

    Parameters
    ----------
    path : path-like
        New log file (``*.imulog``).
    header : dict
        Session metadata; ``header["sensors"]`` lists the sensor names.
    fsync_interval : float
        Maximum seconds between fsyncs (at most this much data is lost on power loss or kill -9).
    batch_interval : float
        Seconds between queue drains; every drain writes one DATA record.
    queue_size : int
        Maximum queued notifications.
    disk_guard : DiskGuard or None
        Checked once a second; when space runs low, the recorder stops itself cleanly.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        header: dict,
        *,
        fsync_interval: float = 0.5,
        batch_interval: float = 0.05,
        queue_size: int = 100_000,
        disk_guard: DiskGuard | None = None,
    ):
        self.path = Path(path)
        self.batch_interval = float(batch_interval)
        self.disk_guard = disk_guard
        if disk_guard is not None:
            msg = disk_guard.check(0)
            if msg:
                raise RecordingError(msg)
        self._writer = SessionLogWriter(self.path, header, fsync_interval=fsync_interval)
        # deque.append/popleft are atomic under the GIL: no lock on the acquisition thread
        self._q: deque[tuple[int, str, bytes]] = deque()
        self._queue_size = int(queue_size)
        self._records: queue.SimpleQueue = queue.SimpleQueue()
        self._drops: dict[str, list[int]] = {}  # sensor -> [count, first_ns, last_ns]
        self._drop_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="imustream-recorder", daemon=True)
        self.stats = RecorderStats()
        self.error: RecordingError | None = None
        self._end_reason = "stopped"
        self._end_extra: dict = {}

    # -- producer side (any thread) -------------------------------------------------------
    def notify(self, host_ns: int, sensor: str, payload: bytes) -> bool:
        """Queue one raw notification; ``False`` if it was dropped (queue full or stopped)."""
        if not self._stop.is_set() and len(self._q) < self._queue_size:
            self._q.append((host_ns, sensor, payload))
            return True
        with self._drop_lock:
            d = self._drops.get(sensor)
            if d is None:
                self._drops[sensor] = [1, host_ns, host_ns]
            else:
                d[0] += 1
                d[2] = host_ns
        return False

    def record(self, item: Record) -> None:
        """Queue a gap, link state change, event, step, alert or marker."""
        self._records.put(to_log_record(item))

    def record_json(self, kind: Kind, obj: dict) -> None:
        """Queue a raw JSON record (e.g. ``Kind.CLOCK`` observations)."""
        self._records.put((Kind(kind), obj))

    @property
    def running(self) -> bool:
        """True while the recorder thread is writing."""
        return self._thread.is_alive() and not self._stop.is_set()

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> Recorder:
        """Start the recorder thread."""
        self._t0 = time.monotonic()
        self._thread.start()
        return self

    def stop(self, reason: str = "stopped", **extra: object) -> RecorderStats:
        """Drain the queue, write the END record, fsync, close; returns the stats."""
        if self._end_reason == "stopped":
            self._end_reason = reason
        self._end_extra.update(extra)
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        return self.stats

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop("error" if exc[0] is not None else "stopped")

    # -- recorder thread ------------------------------------------------------------------------
    def _run(self) -> None:
        cpu0 = time.thread_time()
        next_guard = time.monotonic() + 1.0
        try:
            while True:
                stopping = self._stop.wait(self.batch_interval)
                self._drain()
                if self.disk_guard is not None and time.monotonic() >= next_guard:
                    next_guard = time.monotonic() + 1.0
                    msg = self.disk_guard.check(self._writer.bytes_written)
                    if msg:
                        self._halt(RecordingError(msg), "low_disk_space")
                        break
                if stopping:
                    break
        except RecordingError as exc:  # log write failed: everything before it is intact
            self._halt(exc, "write_error")
        finally:
            self._finish(cpu0)

    def _halt(self, exc: RecordingError, reason: str) -> None:
        self.error = exc
        self._end_reason = reason
        self._end_extra["message"] = str(exc)
        self._stop.set()

    def _drain(self) -> None:
        w = self._writer
        while True:
            try:
                kind, obj = self._records.get_nowait()
            except queue.Empty:
                break
            w.write_json(kind, obj)
        if self._drops:
            with self._drop_lock:
                drops, self._drops = self._drops, {}
            for sensor, (n, first, last) in drops.items():
                self.stats.dropped[sensor] = self.stats.dropped.get(sensor, 0) + n
                w.write_json(
                    Kind.OVERFLOW, {"sensor": sensor, "n": n, "first_ns": first, "last_ns": last}
                )
        pop = self._q.popleft
        sensors: list[str] = []
        host: list[int] = []
        payloads: list[bytes] = []
        for _ in range(len(self._q)):  # only what is queued now: one bounded batch
            h, s, p = pop()
            host.append(h)
            sensors.append(s)
            payloads.append(p)
        if payloads:
            w.write_notifications(sensors, host, payloads)
        w.maybe_sync()

    def _finish(self, cpu0: float) -> None:
        w = self._writer
        end = {
            "reason": self._end_reason,
            "notifications": w.notifications,
            "dropped": dict(self.stats.dropped),
            "host_ns": time.monotonic_ns(),
            **self._end_extra,
        }
        try:
            if w.failed is None:
                self._drain_quietly()
            w.close(end)
        except RecordingError as exc:
            if self.error is None:
                self.error = exc
                self._end_reason = "write_error"
        finally:
            if not w.closed:
                w.close(None)
        s = self.stats
        s.notifications = w.notifications
        s.records = w.records
        s.bytes = w.bytes_written
        s.cpu_s = time.thread_time() - cpu0
        s.wall_s = time.monotonic() - self._t0
        s.stop_reason = self._end_reason

    def _drain_quietly(self) -> None:
        try:
            self._drain()
        except RecordingError as exc:
            self.error = exc
            self._end_reason = "write_error"
