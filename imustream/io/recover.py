"""Recover session logs left by a crash (no END record) or an interrupted conversion."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import RecordingError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None
from .convert import TMP_SUFFIX, ConvertResult, convert, h5_path_for
from .decode import Decoder
from .fsutil import fsync_dir
from .logformat import LOG_SUFFIX


@dataclass
class RecoveryOutcome:
    """What happened to one log: ``action`` is converted, removed_leftover, in_use or failed."""

    log_path: Path
    action: str
    message: str = ""
    result: ConvertResult | None = None


def log_in_use(path: str | os.PathLike) -> bool:
    """True if a live recorder holds the log's lock (always False without ``fcntl``)."""
    if fcntl is None:
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases our lock
    return False


def pending_logs(directory: str | os.PathLike) -> list[Path]:
    """Session logs in ``directory`` (not recursive) that still await conversion."""
    return sorted(Path(directory).glob(f"*{LOG_SUFFIX}"))


def recover(
    directory: str | os.PathLike, *, decoders: Mapping[str, Decoder] | None = None
) -> list[RecoveryOutcome]:
    """Convert every finished or crashed session log in ``directory`` to HDF5.

    Logs still being written (locked by a live recorder) are skipped. A log whose HDF5 file
    already exists and verifies is a leftover of a conversion interrupted after the rename: it
    is removed. Stale ``*.h5.tmp`` files are removed (their log is still there).

    Raises
    ------
    RecordingError
        If ``directory`` is not a directory. Per-log failures are reported in the outcomes.
    """
    d = Path(directory)
    if not d.is_dir():
        raise RecordingError(f"{d} is not a directory")
    outcomes: list[RecoveryOutcome] = []
    for log in pending_logs(d):
        if log_in_use(log):
            outcomes.append(RecoveryOutcome(log, "in_use", "being recorded by a live process"))
            continue
        h5 = h5_path_for(log)
        tmp = h5.with_name(h5.name.removesuffix(".h5") + TMP_SUFFIX)
        tmp.unlink(missing_ok=True)
        try:
            if h5.exists():
                from .session import open_session

                with open_session(h5) as s:
                    s.check_all()
                log.unlink()
                fsync_dir(d)
                outcomes.append(RecoveryOutcome(log, "removed_leftover", f"{h5.name} is valid"))
                continue
            res = convert(log, decoders=decoders)
            note = "complete" if res.complete else "recovered after a crash"
            if res.dropped_bytes:
                note += f", {res.dropped_bytes} torn/damaged bytes dropped"
            outcomes.append(RecoveryOutcome(log, "converted", note, res))
        except RecordingError as exc:
            outcomes.append(RecoveryOutcome(log, "failed", str(exc)))
    return outcomes
