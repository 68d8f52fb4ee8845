"""Convert a session log into the final HDF5 recording (temp file, verify, fsync, rename)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import RecordingError
from .decode import Decoder
from .fsutil import fsync_dir, replace_durably
from .h5sink import crc_of
from .h5writer import write_session
from .logformat import LOG_SUFFIX
from .logreader import read_log

H5_SUFFIX = ".h5"
TMP_SUFFIX = ".h5.tmp"


@dataclass
class ConvertResult:
    """Outcome of one conversion."""

    log_path: Path
    h5_path: Path
    samples: dict[str, int]
    notifications: dict[str, int]
    complete: bool
    dropped_bytes: int
    log_removed: bool
    warnings: list[str] = field(default_factory=list)


def h5_path_for(log_path: str | os.PathLike) -> Path:
    """The HDF5 path belonging to a log: ``name.imulog`` -> ``name.h5``."""
    p = Path(log_path)
    return p.with_name(p.name.removesuffix(LOG_SUFFIX) + H5_SUFFIX)


def verify(h5_path: str | os.PathLike, checksums: Mapping[str, tuple[int, int, int, int]]) -> None:
    """Re-open a written recording, read every dataset slice by slice (fletcher32 check) and
    compare it with the checksums taken while writing.

    Raises
    ------
    RecordingError
        If the file is unreadable or its content differs from what was written.
    """
    from .session import open_session

    with open_session(h5_path) as s:
        s.check_all()
        for sensor, (c_raw, c_acc, c_gyr, n) in checksums.items():
            d = s.sensors[sensor]
            got = (
                crc_of(d.dataset("raw/host_ns"), crc_of(d.dataset("raw/payload"))),
                crc_of(d.dataset("acc")),
                crc_of(d.dataset("gyr")),
                d.n,
            )
            if got != (c_raw, c_acc, c_gyr, n):
                raise RecordingError(f"{h5_path}: verification failed for sensor {sensor!r}")


def convert(
    log_path: str | os.PathLike,
    h5_path: str | os.PathLike | None = None,
    *,
    decoders: Mapping[str, Decoder] | None = None,
    remove_log: bool = True,
    progress: Callable[[str], None] | None = None,
) -> ConvertResult:
    """Convert a session log into its HDF5 recording.

    The file is written as ``<name>.h5.tmp``, verified (every dataset read back, fletcher32 and
    content checksums), fsynced and renamed into place; only then is the log removed
    (``remove_log=False`` keeps it). A log without an END record (crash) is converted the same
    way and marked ``recovered``; a torn last record is dropped.

    Parameters
    ----------
    log_path : path-like
        The ``*.imulog`` file.
    h5_path : path-like, optional
        Output path; ``<name>.h5`` next to the log by default. Never overwritten.
    decoders : mapping, optional
        ``sensor -> decode(bytes) -> SampleBlock`` overriding the firmware profiles recorded in
        the log header.

    Raises
    ------
    RecordingError
        If the log is unreadable, the output exists, or verification fails.
    """
    log_path = Path(log_path)
    out = Path(h5_path) if h5_path is not None else h5_path_for(log_path)
    if out.exists():
        raise RecordingError(f"{out} already exists; refusing to overwrite a recording")
    contents = read_log(log_path)
    if progress:
        progress(
            f"read {log_path.name}: {sum(s.n for s in contents.streams.values())} notifications"
        )
    tmp = out.with_name(out.name.removesuffix(H5_SUFFIX) + TMP_SUFFIX)
    tmp.unlink(missing_ok=True)
    try:
        sums, warnings = write_session(contents, tmp, decoders=decoders)
        verify(tmp, sums)
        replace_durably(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, RecordingError):
            raise
        raise RecordingError(f"converting {log_path} to {out} failed: {exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    removed = False
    if remove_log:
        log_path.unlink()
        fsync_dir(log_path.resolve().parent)
        removed = True
    from .session import open_session

    with open_session(out) as s:
        samples = {k: v.n for k, v in s.sensors.items()}
    return ConvertResult(
        log_path=log_path,
        h5_path=out,
        samples=samples,
        notifications={k: v.n for k, v in contents.streams.items()},
        complete=contents.complete,
        dropped_bytes=contents.dropped_bytes,
        log_removed=removed,
        warnings=warnings,
    )
