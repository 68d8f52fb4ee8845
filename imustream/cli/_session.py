"""Live-session wiring shared by ``record`` and the demo-recording script: every item of the
BLE queue goes to the recorder (raw) and through Acquisition + Pipeline; the pipeline's
events, steps and alerts are recorded too."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from ..types import Gap, StateChange


def record_item(recorder: Any, item: Any) -> None:
    """Write one BLE queue item to a recorder: a raw notification, a link state change, or a
    ``QueueOverflow`` (notifications the BLE queue dropped) as an OVERFLOW record."""
    if isinstance(item, tuple):
        recorder.notify(*item)
    elif isinstance(item, StateChange):
        recorder.record(item)
    else:
        from ..ble.notify_queue import QueueOverflow
        from ..io.logformat import Kind

        if not isinstance(item, QueueOverflow):
            raise TypeError(f"not a BLE queue item: {item!r}")
        recorder.record_json(
            Kind.OVERFLOW,
            {
                "sensor": item.sensor,
                "n": item.n,
                "first_ns": item.first_ns,
                "last_ns": item.last_ns,
            },
        )


def session_header(
    sensor_info: dict[str, dict],
    *,
    t0_ns: int,
    subject: str = "",
    notes: str = "",
    extra: dict | None = None,
) -> dict:
    """The session-log header: sensors, their profiles/options, subject, software version."""
    from .. import __version__

    return {
        "session_id": datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "t0_ns": int(t0_ns),
        "wall_time_at_t0": time.time(),
        "subject": subject,
        "notes": notes,
        "software_version": __version__,
        "sensors": list(sensor_info),
        "sensor_info": sensor_info,
        **(extra or {}),
    }


class LiveSession:
    """Feed queue items to a recorder and to Acquisition -> Pipeline.

    Parameters
    ----------
    recorder : imustream.io.recorder.Recorder or None
    acquisition : imustream.stream.Acquisition
    pipeline : imustream.dsp.Pipeline
    """

    def __init__(self, recorder: Any, acquisition: Any, pipeline: Any):
        self.recorder = recorder
        self.acq = acquisition
        self.pipe = pipeline
        self.n_steps = 0
        self.n_alerts = 0
        self.samples = 0

    def handle(self, item: tuple[int, str, bytes] | StateChange) -> list:
        """Process one queue item; returns the new events, steps, alerts and gaps."""
        if self.recorder is not None:
            record_item(self.recorder, item)
        return self._analyse(self.acq.handle(item))

    def _analyse(self, outs: list) -> list:
        new: list = []
        for out in outs:
            if isinstance(out, Gap):
                self.pipe.gap(out)  # gaps are re-derived from the raw log at conversion
                new.append(out)
                continue
            self.samples += out.n
            res = self.pipe.process(out)
            new += self._keep(res)
        return new

    def _keep(self, res: Any) -> list:
        items = [*res.events, *res.steps, *res.alerts]
        if self.recorder is not None:
            for x in items:
                self.recorder.record(x)
        self.n_steps += len(res.steps)
        self.n_alerts += len(res.alerts)
        return items

    def finish(self) -> list:
        """End of the session: release held packets and pending steps."""
        new = self._analyse(self.acq.flush())
        return new + self._keep(self.pipe.finish())
