"""Replay a recording as a live stream of raw notifications (the same path as BLE)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import RecordingError
from ..types import LinkState, StateChange
from .session import open_session


class ReplaySource:
    """Re-feed the raw notifications ``(host_ns, sensor, bytes)`` of a recording.

    Parameters
    ----------
    path : path-like
        An HDF5 recording.
    speed : float or None
        ``None`` or 0: as fast as possible; 1.0: real time; 2.0: twice real time.
    sleep : callable
        Sleep function (injectable for tests).

    Notes
    -----
    The original arrival times are yielded unchanged, so decoding, clock mapping and gap
    detection downstream see exactly what they saw live. ``header`` is the session metadata
    (sensor names, firmware profiles, rates) needed to build the acquisition.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        speed: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if speed is not None and speed < 0:
            raise RecordingError(f"replay speed must be >= 0, got {speed}")
        self.path = Path(path)
        self.speed = speed or None
        self._sleep = sleep
        with open_session(self.path) as s:
            self.header = dict(s.metadata)
            self.sensors = list(s.sensor_names)
            self.t0_ns = int(s.attrs.get("t0_ns", 0))
            # the origin the converter used (a log header without one is converted with 0)
            self.header.setdefault("t0_ns", self.t0_ns)
            self.n_notifications = sum(d.n_notifications for d in s.sensors.values())

    def __iter__(self) -> Iterator[tuple[int, str, bytes]]:
        """The notifications ``(host_ns, sensor, bytes)``, paced if ``speed`` is set."""
        yield from self.items(states=False)

    def items(self, states: bool = True) -> Iterator[tuple[int, str, bytes] | StateChange]:
        """Notifications and (with ``states``) link StateChanges, in arrival order: exactly
        what the BLE thread put in its queue during the session."""
        with open_session(self.path) as s:
            changes = _state_changes(s) if states else []
            k = 0
            start = None
            for host_ns, sensor, payload in s.notifications():
                while k < len(changes) and changes[k].host_ns <= host_ns:
                    yield changes[k]
                    k += 1
                if self.speed:
                    if start is None:
                        start = (time.monotonic(), host_ns)
                    due = start[0] + (host_ns - start[1]) / 1e9 / self.speed
                    wait = due - time.monotonic()
                    if wait > 0.001:
                        self._sleep(wait)
                yield host_ns, sensor, payload
            yield from changes[k:]


def _state_changes(s) -> list[StateChange]:
    """The recorded link state changes, with what the link reported (``extra``: address,
    rssi, mtu...), as the BLE thread queued them."""
    st = s.states
    out = []
    extras = st.get("extra_json", [None] * len(st["sensor"]))
    for sensor, state, host_ns, msg, extra in zip(
        st["sensor"], st["state"], st["host_ns"], st["message"], extras, strict=True
    ):
        try:
            change = StateChange(
                str(sensor), LinkState(state), int(host_ns), str(msg), _extra(extra)
            )
        except ValueError:
            continue
        out.append(change)
    out.sort(key=lambda c: c.host_ns)
    return out


def _extra(text: object) -> dict:
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        value = json.loads(str(text)) if text is not None else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
