"""The dashboard's record button: which session origin a recording gets.

A recording's ``t0_ns`` must be the live acquisition's own origin, so that the converter (which
decodes the raw log with ``origin_ns = t0_ns``) gives the samples the session times that the
dashboard, its markers and the recorded steps used. ``imustream record`` opens its log at the
first queue item for that reason. Here the button may be pressed before anything arrived, when
the acquisition has no origin yet: the log is then opened by the first timed item (a
notification or a link state change), with the origin that item gives the acquisition;
records without a time of their own (markers) wait for it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import RecordingError
from ..types import StateChange

if TYPE_CHECKING:
    from ._live import LiveWorker

__all__ = ["PendingRecorder", "RecordingControl", "open_recording"]


class PendingRecorder:
    """An io.Recorder that opens its log at the first timed item.

    Parameters
    ----------
    path : Path
        The log to write (``*.imulog``).
    acquisition : stream.Acquisition
        The live acquisition; its ``origin_ns`` becomes ``t0_ns`` (else the item's host time,
        which the acquisition takes as its origin when it handles the item next).
    header : callable
        ``header(t0_ns) -> dict``: the session header.
    """

    def __init__(self, path: Path, acquisition: Any, header: Any) -> None:
        self.path = Path(path)
        self._acq = acquisition
        self._header = header
        self._rec = None
        self._waiting: list[tuple[str, tuple]] = []
        self._lock = threading.Lock()
        self._stopped = False
        self._error: RecordingError | None = None

    @property
    def started(self) -> bool:
        """True once the log was opened."""
        return self._rec is not None

    @property
    def error(self) -> RecordingError | None:
        """Why recording stopped (failed to open the log, disk guard, write error)."""
        return self._error if self._rec is None else self._rec.error

    @property
    def running(self) -> bool:
        """True until stopped (or failed)."""
        if self._rec is not None:
            return self._rec.running
        return not self._stopped and self._error is None

    @property
    def stats(self) -> Any:
        """The recorder's statistics (None before the log was opened)."""
        return None if self._rec is None else self._rec.stats

    def notify(self, host_ns: int, sensor: str, payload: bytes) -> bool:
        """As ``Recorder.notify``; the first call opens the log."""
        rec = self._rec or self._open(host_ns)
        return rec.notify(host_ns, sensor, payload) if rec is not None else False

    def record(self, item: Any) -> None:
        """As ``Recorder.record``; a StateChange opens the log, other records wait for it."""
        if self._rec is None and isinstance(item, StateChange):
            self._open(item.host_ns)
        self._forward("record", (item,))

    def record_json(self, kind: Any, obj: dict) -> None:
        """As ``Recorder.record_json`` (waits for the log like a marker)."""
        self._forward("record_json", (kind, obj))

    def stop(self, reason: str = "stopped", **extra: object) -> Any:
        """Stop; returns the recorder's statistics, or None if the log was never opened."""
        with self._lock:
            self._stopped = True
            rec = self._rec
        return rec.stop(reason, **extra) if rec is not None else None

    def _forward(self, method: str, args: tuple) -> None:
        with self._lock:
            if self._rec is None:
                if not self._stopped and self._error is None:
                    self._waiting.append((method, args))
                return
        getattr(self._rec, method)(*args)

    def _open(self, host_ns: int) -> Any:
        from ..io.recorder import Recorder

        with self._lock:
            if self._rec is not None or self._stopped or self._error is not None:
                return self._rec
            origin = self._acq.origin_ns
            t0_ns = int(host_ns) if origin is None else int(origin)
            try:
                rec = Recorder(self.path, self._header(t0_ns)).start()
            except (RecordingError, OSError) as exc:
                self._error = RecordingError(f"could not start recording {self.path}: {exc}")
                return None
            for method, args in self._waiting:
                getattr(rec, method)(*args)
            self._waiting.clear()
            self._rec = rec
            return rec


def open_recording(path: Path, acquisition: Any, header: Any) -> Any:
    """A started io.Recorder with ``t0_ns`` = the acquisition's origin, or a
    :class:`PendingRecorder` if the acquisition has none yet (nothing arrived)."""
    from ..io.recorder import Recorder

    if acquisition.origin_ns is None:
        return PendingRecorder(path, acquisition, header)
    return Recorder(path, header(int(acquisition.origin_ns))).start()


class RecordingControl:
    """Starts/stops a recording on the GUI's record button; converts it to HDF5 on stop.

    Recordings take the live acquisition's session origin, also when the button is pressed
    before data arrive (the log then opens at the first timed item).
    """

    def __init__(self, worker: LiveWorker, header: dict, directory: Path) -> None:
        self.worker = worker
        self.header = header
        self.directory = directory
        self.recorder = None
        self.converted: list[Path] = []
        self.errors: list[str] = []
        self._threads: list[threading.Thread] = []

    def toggle(self, on: bool) -> None:
        """Record button callback (GUI thread): never blocks on disk."""
        if on and self.recorder is None:
            from ._session import session_header

            self.directory.mkdir(parents=True, exist_ok=True)
            stamp = time.strftime("%Y%m%d-%H%M%S")
            extra = {k: v for k, v in self.header.items() if k not in ("sensors", "sensor_info")}

            def header(t0_ns: int) -> dict:
                return session_header(self.header["sensor_info"], t0_ns=t0_ns, extra=extra)

            path = self.directory / f"session-{stamp}.imulog"
            self.recorder = open_recording(path, self.worker.acq, header)
            self.worker.set_recorder(self.recorder)
        elif not on and self.recorder is not None:
            rec, self.recorder = self.recorder, None
            self.worker.set_recorder(None)
            t = threading.Thread(target=self._finish, args=(rec,), name="imustream-convert")
            t.start()
            self._threads.append(t)

    def _finish(self, rec: Any) -> None:
        from ..io.convert import convert

        if isinstance(rec, PendingRecorder) and not rec.started:
            rec.stop()
            why = rec.error or "no data arrived while recording; nothing was written"
            self.errors.append(f"{rec.path}: {why}")
            return
        rec.stop()
        try:
            self.converted.append(convert(rec.path).h5_path)
        except Exception as exc:  # reported at exit; the log stays on disk for `recover`
            self.errors.append(f"{rec.path}: {exc}")

    def close(self) -> None:
        """Stop a running recording and wait for conversions."""
        if self.recorder is not None:
            self.toggle(False)
        for t in self._threads:
            t.join()
