"""The bounded queue between the BLE loop and the acquisition thread.

Real sensors cannot be slowed down, so when the consumer falls ``maxsize`` notifications
behind, further notifications of a sensor are dropped and *counted*; before that sensor's next
item the queue inserts a :class:`QueueOverflow` record (how many, first and last host time),
which the acquisition turns into an ``"overflow"`` gap and the recorder into an OVERFLOW record.
Nothing is lost silently. Link state changes are never dropped (they are few).

Simulated devices on an unpaced virtual clock do not need to drop anything: the loop asks
:meth:`NotificationQueue.holding` before advancing its clock and waits while the consumer is
behind (see :class:`imustream.ble.clock.VirtualTimeEventLoop`).
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["NotificationQueue", "QueueOverflow"]


@dataclass(frozen=True, slots=True)
class QueueOverflow:
    """``n`` notifications of ``sensor`` dropped because the BLE queue was full.

    ``first_ns`` / ``last_ns``: host times (BLE loop clock) of the first and last dropped one.
    """

    sensor: str
    n: int
    first_ns: int
    last_ns: int


class NotificationQueue:
    """A FIFO of BLE queue items with a bound, drop accounting and a hold signal.

    The interface is that of ``queue.SimpleQueue`` (``put_nowait``, ``get``, ``get_nowait``,
    ``qsize``, ``empty``), so :class:`~imustream.ble.link.SensorLink` and every consumer use
    it unchanged.

    Parameters
    ----------
    maxsize : int
        Notifications queued at most; beyond it notifications are dropped and counted.
    hold_at : int or None
        :meth:`holding` turns true when this many items are queued and stays true until the
        queue is down to half of it (hysteresis: the producer resumes in bursts, not per item).
    """

    def __init__(self, maxsize: int = 20_000, hold_at: int | None = 1_000) -> None:
        if maxsize < 1 or (hold_at is not None and not 1 <= hold_at <= maxsize):
            raise ValueError(
                f"need maxsize >= 1 and 1 <= hold_at <= maxsize, got {maxsize}, {hold_at}"
            )
        self.maxsize = int(maxsize)
        self.hold_at = None if hold_at is None else int(hold_at)
        self._resume_at = None if hold_at is None else int(hold_at) // 2
        self._q: queue.SimpleQueue = queue.SimpleQueue()
        self._held = False
        self._pending: dict[
            str, list[int]
        ] = {}  # sensor -> [n, first_ns, last_ns] not yet reported
        self._lock = threading.Lock()
        #: most items ever queued at once
        self.high_water = 0
        #: notifications dropped per sensor over the session
        self.dropped: dict[str, int] = {}

    # ------------------------------------------------------------------ producer (BLE loop)
    def put_nowait(self, item: Any) -> None:
        """Queue a ``(host_ns, sensor, bytes)`` notification or a state record; never blocks."""
        q = self._q
        if type(item) is tuple:
            sensor = item[1]
            if q.qsize() >= self.maxsize:
                self._count_drop(sensor, item[0])
                return
        else:
            sensor = getattr(item, "sensor", None)
        if self._pending and sensor in self._pending:
            self._report(sensor)
        q.put_nowait(item)
        n = q.qsize()
        if n > self.high_water:
            self.high_water = n

    put = put_nowait

    def flush_overflow(self) -> None:
        """Queue the :class:`QueueOverflow` records of drops not yet reported (end of session)."""
        for sensor in list(self._pending):
            self._report(sensor)

    def _count_drop(self, sensor: str, host_ns: int) -> None:
        with self._lock:
            self.dropped[sensor] = self.dropped.get(sensor, 0) + 1
            d = self._pending.get(sensor)
            if d is None:
                self._pending[sensor] = [1, host_ns, host_ns]
            else:
                d[0] += 1
                d[2] = host_ns

    def _report(self, sensor: str) -> None:
        with self._lock:
            d = self._pending.pop(sensor, None)
        if d is not None:
            self._q.put_nowait(QueueOverflow(sensor, d[0], d[1], d[2]))

    # ------------------------------------------------------------------ consumer
    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        """Next item (``queue.Empty`` after ``timeout`` s)."""
        return self._q.get(block, timeout)

    def get_nowait(self) -> Any:
        """Next item or ``queue.Empty``."""
        return self._q.get_nowait()

    def qsize(self) -> int:
        """Items queued now."""
        return self._q.qsize()

    def empty(self) -> bool:
        """True when nothing is queued."""
        return self._q.empty()

    # ------------------------------------------------------------------ backpressure
    def holding(self) -> bool:
        """True while a producer that can wait should wait for the consumer."""
        if self.hold_at is None:
            return False
        n = self._q.qsize()
        if self._held:
            self._held = n > self._resume_at
        else:
            self._held = n >= self.hold_at
        return self._held
