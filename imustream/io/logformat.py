"""Binary layout of the append-only session log (``*.imulog``).

A log is the file magic followed by records. Every record is framed as::

    magic  4s   b"\\xa5ZRc"           (lets a reader resynchronise after a damaged record)
    length u32  payload length in bytes
    index  u32  record number, 0 for the session header, +1 per record
    kind   u8   record kind (:class:`Kind`)
    crc    u32  zlib.crc32 over length, index, kind and payload
    payload

Data records batch many notifications: ``u32 n``, then ``n`` x u8 sensor index, ``n`` x i64
host monotonic ns, ``n`` x u32 payload length, then the payloads back to back. All other records
carry a UTF-8 JSON object (they are rare: header, gaps, link states, events, markers, end).
"""

from __future__ import annotations

import json
import struct
import zlib
from enum import IntEnum

import numpy as np

from ..errors import RecordingError

FILE_MAGIC = b"IMUSLOG\x01"
RECORD_MAGIC = b"\xa5ZRc"
LOG_SUFFIX = ".imulog"
#: records longer than this are treated as corruption (a batch is far smaller)
MAX_PAYLOAD = 64 * 1024 * 1024

_HEAD = struct.Struct("<4sIIBI")
HEAD_SIZE = _HEAD.size
_CRC_PART = struct.Struct("<IIB")


class Kind(IntEnum):
    """Record kinds of the session log."""

    HEADER = 1
    DATA = 2
    GAP = 3
    STATE = 4
    CLOCK = 5
    EVENT = 6
    STEP = 7
    ALERT = 8
    MARKER = 9
    OVERFLOW = 10
    END = 11


JSON_KINDS = frozenset(k for k in Kind if k is not Kind.DATA)


def record_crc(length: int, index: int, kind: int, payload: bytes | memoryview) -> int:
    """CRC-32 of a record's length, index, kind and payload."""
    return zlib.crc32(payload, zlib.crc32(_CRC_PART.pack(length, index, kind)))


def frame(index: int, kind: int, payload: bytes) -> bytes:
    """Frame ``payload`` as one complete record."""
    n = len(payload)
    if n > MAX_PAYLOAD:
        raise RecordingError(f"log record of {n} bytes exceeds the {MAX_PAYLOAD}-byte limit")
    return _HEAD.pack(RECORD_MAGIC, n, index, kind, record_crc(n, index, kind, payload)) + payload


def unpack_head(buf: bytes | memoryview, offset: int) -> tuple[bytes, int, int, int, int]:
    """Unpack a record head at ``offset``: (magic, length, index, kind, crc)."""
    return _HEAD.unpack_from(buf, offset)


def encode_json(obj: dict) -> bytes:
    """Encode a JSON record payload (NaN allowed, compact)."""
    return json.dumps(obj, separators=(",", ":"), allow_nan=True).encode()


def encode_data(sensor_idx: list[int], host_ns: list[int], payloads: list[bytes]) -> bytes:
    """Encode a batch of raw notifications as a DATA payload."""
    n = len(payloads)
    lengths = np.fromiter((len(p) for p in payloads), dtype="<u4", count=n)
    return b"".join(
        (
            struct.pack("<I", n),
            np.asarray(sensor_idx, dtype="u1").tobytes(),
            np.asarray(host_ns, dtype="<i8").tobytes(),
            lengths.tobytes(),
            *payloads,
        )
    )


def decode_data(
    payload: bytes | memoryview,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Decode a DATA payload into (sensor_idx u1, host_ns i8, lengths u4, concatenated bytes u1).

    The arrays are views into ``payload`` (no copy).

    Raises
    ------
    RecordingError
        If the payload's internal sizes do not add up.
    """
    buf = memoryview(payload)
    if len(buf) < 4:
        raise RecordingError("data record shorter than its count field")
    (n,) = struct.unpack_from("<I", buf, 0)
    fixed = 4 + n * (1 + 8 + 4)
    if len(buf) < fixed:
        raise RecordingError(f"data record announces {n} notifications but is too short")
    idx = np.frombuffer(buf, dtype="u1", count=n, offset=4)
    host = np.frombuffer(buf, dtype="<i8", count=n, offset=4 + n)
    lengths = np.frombuffer(buf, dtype="<u4", count=n, offset=4 + 9 * n)
    if fixed + int(lengths.sum(dtype=np.int64)) != len(buf):
        raise RecordingError("data record payload lengths do not add up")
    return idx, host, lengths, np.frombuffer(buf, dtype="u1", offset=fixed)


def decode_json(payload: bytes | memoryview) -> dict:
    """Decode a JSON record payload; RecordingError if it is not a JSON object."""
    try:
        obj = json.loads(bytes(payload))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordingError(f"log record is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise RecordingError("log record JSON is not an object")
    return obj
