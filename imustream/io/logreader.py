"""Read a session log back, dropping torn or damaged records (never turning them into data)."""

from __future__ import annotations

import mmap
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import RecordingError
from .logformat import (
    FILE_MAGIC,
    HEAD_SIZE,
    MAX_PAYLOAD,
    RECORD_MAGIC,
    Kind,
    decode_data,
    decode_json,
    record_crc,
    unpack_head,
)


@dataclass
class RawStream:
    """Raw notifications of one sensor in arrival order.

    ``data[offsets[i]:offsets[i + 1]]`` is notification ``i``, received at ``host_ns[i]``.
    """

    host_ns: np.ndarray  # (n,) int64
    offsets: np.ndarray  # (n + 1,) int64
    data: np.ndarray  # (total,) uint8

    @property
    def n(self) -> int:
        """Number of notifications."""
        return int(self.host_ns.shape[0])

    def payload(self, i: int) -> bytes:
        """Bytes of notification ``i``."""
        return self.data[self.offsets[i] : self.offsets[i + 1]].tobytes()


@dataclass
class LogContents:
    """Everything that could be read from a session log.

    ``records`` maps a JSON record kind name (``"gap"``, ``"state"``, ``"event"``, ...) to its
    records in log order. ``end`` is the END record, ``None`` when the recording did not finish
    (crash, power loss): such a log is *recovered*. ``damage`` lists skipped byte ranges
    ``(start, stop, reason)``; ``missing_records`` counts record numbers never found.
    """

    path: Path
    header: dict
    streams: dict[str, RawStream]
    records: dict[str, list[dict]] = field(default_factory=dict)
    end: dict | None = None
    damage: list[tuple[int, int, str]] = field(default_factory=list)
    missing_records: int = 0
    size: int = 0

    @property
    def complete(self) -> bool:
        """True when the log ends with an END record and no damage was found."""
        return self.end is not None and not self.damage and self.missing_records == 0

    @property
    def dropped_bytes(self) -> int:
        """Bytes skipped as torn or damaged."""
        return sum(stop - start for start, stop, _ in self.damage)


def _parse_at(buf: bytes, pos: int) -> tuple[int, int, int, int] | str:
    """Try to parse a record at ``pos``: (index, kind, payload_start, end) or a reason string."""
    if pos + HEAD_SIZE > len(buf):
        return "truncated record head"
    magic, length, index, kind, crc = unpack_head(buf, pos)
    if magic != RECORD_MAGIC:
        return "bad record magic"
    if length > MAX_PAYLOAD:
        return "implausible record length"
    start = pos + HEAD_SIZE
    end = start + length
    if end > len(buf):
        return "truncated record"
    if record_crc(length, index, kind, memoryview(buf)[start:end]) != crc:
        return "CRC mismatch"
    if kind not in Kind._value2member_map_:
        return f"unknown record kind {kind}"
    return index, kind, start, end


def read_log(path: str | os.PathLike) -> LogContents:
    """Read a session log.

    Damaged records are skipped (the reader resynchronises on the next valid record whose CRC
    matches and whose record number follows the last good one); a torn tail is dropped.

    Raises
    ------
    RecordingError
        If the file is missing, not a session log, or its header record is damaged.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size < len(FILE_MAGIC):
                buf: bytes | mmap.mmap = fh.read()
            else:  # file-backed pages: the log is not copied into anonymous memory
                buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as exc:
        raise RecordingError(f"cannot read session log {path}: {exc}") from exc
    try:
        return _parse(path, buf)
    finally:
        if isinstance(buf, mmap.mmap):
            try:
                buf.close()
            except BufferError:  # a view is still referenced somewhere: GC closes it
                pass


def _parse(path: Path, buf: bytes | mmap.mmap) -> LogContents:
    if buf[: len(FILE_MAGIC)] != FILE_MAGIC:
        raise RecordingError(f"{path} is not an imustream session log (bad file magic)")
    first = _parse_at(buf, len(FILE_MAGIC))
    if isinstance(first, str) or first[1] != Kind.HEADER or first[0] != 0:
        reason = first if isinstance(first, str) else "first record is not the header"
        raise RecordingError(f"session log {path}: header record is damaged ({reason})")
    header = decode_json(buf[first[2] : first[3]])
    sensors = header.get("sensors")
    if not isinstance(sensors, list) or not sensors:
        raise RecordingError(f"session log {path}: header has no sensor list")
    sensors = [str(s) for s in sensors]

    out = LogContents(path=path, header=header, streams={}, size=len(buf))
    acc = _StreamAccumulator(len(sensors))
    view = memoryview(buf)
    last_index = 0
    pos = first[3]
    try:
        while pos < len(buf):
            parsed = _parse_at(buf, pos)
            if not isinstance(parsed, str) and parsed[0] <= last_index:
                parsed = "record number out of order"
            if isinstance(parsed, str):
                nxt = buf.find(RECORD_MAGIC, pos + 1)
                while nxt != -1:
                    cand = _parse_at(buf, nxt)
                    if not isinstance(cand, str) and cand[0] > last_index:
                        break
                    nxt = buf.find(RECORD_MAGIC, nxt + 1)
                stop = len(buf) if nxt == -1 else nxt
                out.damage.append((pos, stop, parsed))
                pos = stop
                continue
            index, kind, start, end = parsed
            out.missing_records += index - last_index - 1
            last_index = index
            payload = view[start:end]
            try:
                if kind == Kind.DATA:
                    idx, host, lengths, blob = decode_data(payload)
                    if idx.size and int(idx.max()) >= len(sensors):
                        raise RecordingError("data record names an unknown sensor")
                    acc.add(idx, host, lengths, blob)
                    del idx, host, lengths, blob
                elif kind == Kind.END:
                    out.end = decode_json(payload)
                elif kind == Kind.HEADER:
                    raise RecordingError("second header record")
                else:
                    rec = decode_json(payload)
                    out.records.setdefault(Kind(kind).name.lower(), []).append(rec)
            except RecordingError as exc:  # CRC matched but content is inconsistent: writer bug
                out.damage.append((pos, end, str(exc)))
            finally:
                _release(payload)
            pos = end
    finally:
        _release(view)
    out.streams = {name: acc.stream(i) for i, name in enumerate(sensors)}
    return out


def _release(view: memoryview) -> None:
    try:
        view.release()
    except BufferError:  # still exported (an exception's frame): garbage collection frees it
        pass


class _StreamAccumulator:
    """Per-sensor pieces of the data records (copies, so the file buffer can be closed)."""

    def __init__(self, n_sensors: int) -> None:
        self.host: list[list[np.ndarray]] = [[] for _ in range(n_sensors)]
        self.lengths: list[list[np.ndarray]] = [[] for _ in range(n_sensors)]
        self.data: list[list[np.ndarray]] = [[] for _ in range(n_sensors)]

    def add(self, idx: np.ndarray, host: np.ndarray, lengths: np.ndarray, blob: np.ndarray) -> None:
        for i in np.unique(idx).tolist():
            sel = idx == i
            self.host[i].append(host[sel].astype(np.int64))
            self.lengths[i].append(lengths[sel].astype(np.int64))
            self.data[i].append(blob[np.repeat(sel, lengths)])

    def stream(self, i: int) -> RawStream:
        host = np.concatenate(self.host[i]) if self.host[i] else np.zeros(0, np.int64)
        ln = np.concatenate(self.lengths[i]) if self.lengths[i] else np.zeros(0, np.int64)
        data = np.concatenate(self.data[i]) if self.data[i] else np.zeros(0, np.uint8)
        self.host[i] = self.lengths[i] = self.data[i] = []
        offsets = np.zeros(ln.size + 1, np.int64)
        np.cumsum(ln, out=offsets[1:])
        return RawStream(host_ns=host, offsets=offsets, data=data)
