"""Free-space guard: stop recording while there is still room to convert the log to HDF5."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

#: HDF5 size / log size upper bound: raw bytes are kept, plus decoded float64 samples
HDF5_PER_LOG_BYTE = 6.0
DEFAULT_HEADROOM = 64 * 1024 * 1024


def free_bytes(directory: str | os.PathLike) -> int:
    """Bytes available to an unprivileged user on the filesystem holding ``directory``."""
    st = os.statvfs(directory)
    return st.f_bavail * st.f_frsize


class DiskGuard:
    """Decide whether a recording may go on.

    Parameters
    ----------
    directory : path-like
        Where the log and the HDF5 file are written.
    headroom : int
        Bytes to keep free beyond the estimated HDF5 size (covers the log growth until the
        next check and filesystem overhead).
    free : callable, optional
        ``free(directory) -> bytes``; :func:`free_bytes` by default (tests inject a tmpfs).
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        headroom: int = DEFAULT_HEADROOM,
        free: Callable[[Path], int] = free_bytes,
    ) -> None:
        self.directory = Path(directory)
        self.headroom = int(headroom)
        self._free = free

    def required(self, log_bytes: int) -> int:
        """Free bytes needed to convert a log of ``log_bytes`` and keep the headroom."""
        return int(HDF5_PER_LOG_BYTE * log_bytes) + self.headroom

    def check(self, log_bytes: int) -> str | None:
        """``None`` if recording may continue, else a message saying why it must stop."""
        avail = self._free(self.directory)
        need = self.required(log_bytes)
        if avail < need:
            return (
                f"low disk space in {self.directory}: {avail / 1e6:.1f} MB free, "
                f"{need / 1e6:.1f} MB needed to convert the recording safely; recording stopped"
            )
        return None
