"""Append-only, CRC-framed session log writer (the master copy while recording)."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

from ..errors import RecordingError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory lock, recover checks nothing
    fcntl = None
from .fsutil import fsync_dir
from .logformat import FILE_MAGIC, Kind, encode_data, encode_json, frame


class LogWriteError(RecordingError):
    """Writing the session log failed (disk full, file too large, I/O error).

    Everything written before the failing record is intact; ``errno`` tells why.
    """


class SessionLogWriter:
    """Write a session log: one ``os.write`` per record, fsync at least every ``fsync_interval`` s.

    Parameters
    ----------
    path : path-like
        New log file; must not exist (never overwrites a recording).
    header : dict
        Session metadata (JSON-serialisable); must contain ``"sensors"``, a list of sensor names.
    fsync_interval : float
        Maximum time in seconds between fsyncs while records are written.

    Notes
    -----
    A failed write (ENOSPC, EFBIG, EIO) truncates the file back to the last complete record and
    raises :class:`LogWriteError`; the writer is then closed for writing.
    """

    def __init__(self, path: str | os.PathLike, header: dict, fsync_interval: float = 0.5):
        self.path = Path(path)
        sensors = header.get("sensors")
        if not isinstance(sensors, list) or not sensors or len(sensors) > 255:
            raise RecordingError("log header needs 'sensors': a list of 1..255 sensor names")
        self.sensor_index = {str(s): i for i, s in enumerate(sensors)}
        self.fsync_interval = float(fsync_interval)
        self.bytes_written = 0
        self.records = 0
        self.notifications = 0
        self.closed = False
        self._failed: LogWriteError | None = None
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            raise RecordingError(f"{self.path} already exists; refusing to overwrite it") from None
        except OSError as exc:
            raise LogWriteError(f"cannot create session log {self.path}: {exc}") from exc
        try:
            # held until close (or process death): `recover` skips a log that is being written
            if fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._write(FILE_MAGIC + frame(0, Kind.HEADER, encode_json(header)))
            self.records = 1
            os.fsync(self._fd)
            fsync_dir(self.path.resolve().parent)
        except BaseException:
            os.close(self._fd)
            self.closed = True
            raise
        self._last_sync = time.monotonic()
        self._dirty = False

    @property
    def failed(self) -> LogWriteError | None:
        """The write error that stopped this writer, if any."""
        return self._failed

    def _write(self, data: bytes) -> None:
        if self._failed is not None:
            raise self._failed
        view = memoryview(data)
        done = 0
        try:
            while done < len(view):
                done += os.write(self._fd, view[done:])
        except OSError as exc:
            try:  # keep the log clean: drop the partial record
                os.ftruncate(self._fd, self.bytes_written)
            except OSError:
                pass  # the reader drops a torn tail anyway
            what = {errno.ENOSPC: "disk full", errno.EFBIG: "file size limit reached"}.get(
                exc.errno, exc.strerror or "I/O error"
            )
            self._failed = LogWriteError(
                exc.errno, f"session log write failed ({what}): {self.path}"
            )
            raise self._failed from exc
        self.bytes_written += len(view)

    def write_record(self, kind: Kind, payload: bytes) -> None:
        """Append one framed record and fsync if ``fsync_interval`` has elapsed."""
        if self.closed:
            raise RecordingError(f"session log {self.path} is closed")
        self._write(frame(self.records, kind, payload))
        self.records += 1
        self._dirty = True
        self.maybe_sync()

    def write_json(self, kind: Kind, obj: dict) -> None:
        """Append a JSON record (gap, state, event, step, alert, marker, ...)."""
        self.write_record(kind, encode_json(obj))

    def write_notifications(
        self, sensors: list[str], host_ns: list[int], payloads: list[bytes]
    ) -> None:
        """Append one DATA record holding a batch of raw notifications."""
        if not payloads:
            return
        try:
            idx = [self.sensor_index[s] for s in sensors]
        except KeyError as exc:
            raise RecordingError(f"sensor {exc.args[0]!r} is not in the log header") from None
        self.write_record(Kind.DATA, encode_data(idx, host_ns, payloads))
        self.notifications += len(payloads)

    def maybe_sync(self) -> None:
        """fsync if there are unsynced records older than ``fsync_interval``."""
        if self._dirty and time.monotonic() - self._last_sync >= self.fsync_interval:
            self.sync()

    def sync(self) -> None:
        """fsync now."""
        if self.closed or self._failed is not None:
            return
        try:
            os.fsync(self._fd)
        except OSError as exc:
            self._failed = LogWriteError(exc.errno, f"fsync of {self.path} failed: {exc}")
            raise self._failed from exc
        self._last_sync = time.monotonic()
        self._dirty = False

    def close(self, end: dict | None = None) -> None:
        """Write the END record (unless the writer failed), fsync and close.

        A log without an END record is treated as crashed and recovered on the next start.
        """
        if self.closed:
            return
        try:
            if end is not None and self._failed is None:
                self._write(frame(self.records, Kind.END, encode_json(end)))
                self.records += 1
            if self._failed is None:
                os.fsync(self._fd)
        finally:
            os.close(self._fd)
            self.closed = True
