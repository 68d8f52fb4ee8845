"""The dashboard's input: what producer threads push and the GUI thread reads.

Producers (acquisition / DSP threads) call the ``push_*`` methods; the GUI thread reads
"everything since write count N" with ``since``. Nothing is ever handed back upstream.
Sample rows go to one ``stream.RingBuffer`` per sensor sized for ``keep_s`` seconds (enough
for the scrolling traces); discrete records (events, steps, alerts, link states, gaps) are
few and kept in a fixed-size :class:`RecordLog` (the recording keeps all of them).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..stream.ring import RingBuffer
from ..types import (
    Alert,
    BlockFlags,
    Gap,
    InitialContact,
    SampleBlock,
    Sensor,
    StateChange,
    Step,
    ToeOff,
)

__all__ = [
    "COL_ACC",
    "COL_CLIP",
    "COL_GYR",
    "COL_T",
    "SAMPLE_WIDTH",
    "LiveFeed",
    "RecordLog",
    "Stamped",
]

#: Column layout of a sample row: session time, acc xyz (m/s^2), gyr xyz (rad/s), clipped flag.
COL_T = 0
COL_ACC = slice(1, 4)
COL_GYR = slice(4, 7)
COL_CLIP = 7
SAMPLE_WIDTH = 8


@dataclass(frozen=True, slots=True)
class Stamped:
    """A discrete record and the host time (ns) of the notification that caused it."""

    record: Any
    source_host_ns: int | None


class RecordLog:
    """The latest ``capacity`` records with a write count (readers ask "everything since N").

    A fixed-size ring: a long session keeps memory flat. A reader more than ``capacity``
    records behind gets only the retained ones (:meth:`since` says how many it missed); the
    dashboard reads every frame, so it never is. The recording keeps every record.
    """

    def __init__(self, capacity: int = 8192) -> None:
        if capacity < 1:
            raise ValueError(f"RecordLog capacity must be >= 1, got {capacity}")
        self.capacity = int(capacity)
        self._items: list[Stamped | None] = [None] * self.capacity
        self._count = 0
        self._lock = threading.Lock()  # producers only; readers never wait

    @property
    def write_count(self) -> int:
        """Total records ever pushed."""
        return self._count

    def push(self, record: Any, source_host_ns: int | None = None) -> None:
        """Append one record (overwrites the oldest when full)."""
        with self._lock:
            self._items[self._count % self.capacity] = Stamped(record, source_host_ns)
            self._count += 1  # published after the slot is written

    def since(self, count: int) -> tuple[list[Stamped], int]:
        """Retained records written at or after ``count`` and the current write count.

        ``new_count - count - len(records)`` records were overwritten before this read.
        """
        end = self._count
        cap = self.capacity
        start = max(int(count), end - cap)
        items = [self._items[i % cap] for i in range(start, end)]
        lapped = self._count - cap  # a producer may have overwritten slots while we copied
        if lapped > start:
            items = items[lapped - start :]
        return items, end


class LiveFeed:
    """Everything the dashboard shows, pushed by producers, read by the GUI.

    Parameters
    ----------
    sensors : iterable of str
        Sensor roles in the session (``Sensor`` values).
    keep_s : float
        Seconds of samples to keep per sensor for the traces.
    max_rate_hz : float
        Highest sampling rate expected; sizes the sample logs.
    keep_records : int
        Discrete records kept (:class:`RecordLog` capacity); 8192 is ~10 min of running.
    """

    def __init__(
        self,
        sensors: Iterable[str] = tuple(Sensor),
        keep_s: float = 30.0,
        max_rate_hz: float = 1000.0,
        keep_records: int = 8192,
    ) -> None:
        self.sensors = tuple(str(s) for s in sensors)
        if not self.sensors:
            raise ValueError("LiveFeed needs at least one sensor")
        keep_rows = max(1, int(keep_s * max_rate_hz))
        self.samples = {s: RingBuffer(keep_rows, SAMPLE_WIDTH) for s in self.sensors}
        self.records = RecordLog(keep_records)
        #: latest battery level per sensor in percent (also taken from StateChange.extra)
        self.battery: dict[str, float] = {}

    def _check_sensor(self, sensor: str | None) -> str:
        if sensor not in self.samples:
            raise ValueError(f"unknown sensor {sensor!r}; this feed has {self.sensors}")
        return sensor

    def push_block(self, block: SampleBlock) -> None:
        """Append the samples of a block with session times (``block.t_session`` required)."""
        sensor = self._check_sensor(block.sensor)
        if block.t_session is None:
            raise ValueError(f"SampleBlock of {sensor!r} has no t_session; map clocks first")
        rows = np.empty((block.n, SAMPLE_WIDTH))
        rows[:, COL_T] = block.t_session
        rows[:, COL_ACC] = block.acc
        rows[:, COL_GYR] = block.gyr
        rows[:, COL_CLIP] = 1.0 if block.flags & BlockFlags.ACC_CLIPPED else 0.0
        self.samples[sensor].push(rows)

    def push_records(self, records: Iterable[Any], source_host_ns: int | None = None) -> None:
        """Append events, steps, alerts, gaps or link-state changes, in order.

        ``source_host_ns`` is the arrival time of the notification whose processing
        produced them; the dashboard uses it to measure display latency.
        """
        for r in records:
            if not isinstance(r, (InitialContact, ToeOff, Step, Alert, Gap, StateChange)):
                raise TypeError(f"LiveFeed cannot show a {type(r).__name__}")
            self.records.push(r, source_host_ns)

    def push_output(self, output: Any, source_host_ns: int | None = None) -> None:
        """Append a ``dsp.Pipeline`` output (``.events``, ``.steps``, ``.alerts``)."""
        self.push_records(
            [*output.events, *output.steps, *output.alerts], source_host_ns=source_host_ns
        )

    def push_battery(self, sensor: str, percent: float) -> None:
        """Report a sensor's battery level in percent (latest value wins)."""
        self.battery[self._check_sensor(sensor)] = float(percent)
