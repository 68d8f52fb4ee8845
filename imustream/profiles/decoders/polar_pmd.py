"""Polar Measurement Data (PMD) frames: raw and delta-compressed accelerometer / gyroscope.

Frame: ``[measurement type u8, u64 ns timestamp of the LAST sample (epoch 2000-01-01),
frame type u8, data]`` (polar-ble-sdk ``PmdDataFrame``). Bit 0x80 of the frame type marks a
delta-compressed frame: a reference sample (``channels x ceil(resolution/8)`` bytes, signed,
little-endian) followed by blocks ``[delta bit width u8, sample count u8, packed deltas]``,
each delta a two's-complement number of ``width`` bits, bits packed LSB first; every sample is
the previous one plus its delta (polar-ble-sdk ``BlePMDClient.parseDeltaFramesAll``).

Supported (as in the SDK's ``AccData`` / ``GyrData`` parsers):

- ACC (type 2): raw frame types 0/1/2 = int8/int16/int24 in mG; compressed type 0 =
  16-bit x ``acc_factor`` in g; compressed type 1 = 16-bit x ``acc_factor`` in mG.
- GYRO (type 5): compressed type 0 = 16-bit x ``gyr_factor`` in deg/s; compressed type 1 =
  IEEE-754 f32 bit patterns x ``gyr_factor`` in deg/s.

Acc and gyro arrive in separate notifications: a decoded block carries one of them and the
other is all NaN. Sample times: the timestamp is that of the last sample, earlier samples
are spaced by the nominal rate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ...errors import DecodeError
from ...types import SampleBlock
from ..model import UNIT_TO_SI
from .fields import as_bytes

if TYPE_CHECKING:
    from ..model import FirmwareProfile

__all__ = ["PolarPmdDecoder", "parse_delta_frames"]

ACC, GYRO = 2, 5
HEADER = 10
MG = UNIT_TO_SI["mg"]
DEG = UNIT_TO_SI["deg/s"]


def _le_ints(data: bytes, nbytes: int) -> np.ndarray:
    """Little-endian signed integers of ``nbytes`` (1, 2 or 3) bytes each."""
    if nbytes in (1, 2):
        return np.frombuffer(data, f"<i{nbytes}")
    b = np.frombuffer(data, np.uint8).reshape(-1, 3).astype(np.int64)
    v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
    return np.where(v >= 1 << 23, v - (1 << 24), v)


def parse_delta_frames(data: bytes, channels: int, resolution: int) -> np.ndarray:
    """Decode a delta-compressed PMD payload into an (n, channels) int64 array.

    Raises
    ------
    DecodeError
        If the reference sample or a block is truncated, or a delta width is 0 or > 32.
    """
    from .polar_delta import DELTA_ERRORS, decode_delta_frames

    out = decode_delta_frames(np.frombuffer(data, np.uint8), channels, resolution)
    if isinstance(out, int):
        raise DecodeError(DELTA_ERRORS[out])
    return out


class PolarPmdDecoder:
    """Decoder for ``layout.decoder = "polar_pmd"``.

    Decoder parameters (``[decoder_params]`` or ``with_options``): ``acc_factor`` and
    ``gyr_factor`` (the FACTOR the device reports when a measurement starts; default:
    range / 32768, i.e. full scale over 16 bits), ``acc_frame`` / ``gyr_frame`` (the frame
    type the device sends; used by the simulator's encoder).
    """

    PARAMS = ("acc_factor", "gyr_factor", "acc_frame", "gyr_frame")

    def __init__(self, p: FirmwareProfile) -> None:
        self.name = p.name
        self.period = 1.0 / p.rate
        self._offsets: dict[int, np.ndarray] = {}
        self._nans: dict[int, np.ndarray] = {}
        self.acc_factor = float(
            p.decoder_params.get("acc_factor", (p.acc_range or 8.0) * 1000.0 / 32768.0)
        )
        self.gyr_factor = float(
            p.decoder_params.get("gyr_factor", (p.gyr_range or 2000.0) / 32768.0)
        )

    def _times(self, ts_ns: int, n: int) -> np.ndarray:
        off = self._offsets.get(n)
        if off is None:
            off = self._offsets[n] = np.arange(1 - n, 1, dtype=np.float64) * self.period
        return ts_ns * 1e-9 + off

    def _nan(self, n: int) -> np.ndarray:
        """A read-only (n, 3) NaN array for the quantity a packet does not carry."""
        nan = self._nans.get(n)
        if nan is None:
            nan = self._nans[n] = np.full((n, 3), np.nan)
            nan.flags.writeable = False
        return nan

    def __call__(self, payload: bytes | bytearray | memoryview) -> SampleBlock:
        buf = as_bytes(payload)
        if len(buf) <= HEADER:
            what = "empty payload" if not buf else f"{len(buf)}-byte payload has no samples"
            raise DecodeError(f"{self.name}: {what}")
        mtype, ftype = buf[0], buf[9]
        ts = int.from_bytes(buf[1:9], "little")
        data = bytes(buf[HEADER:])
        compressed, kind = bool(ftype & 0x80), ftype & 0x7F
        if mtype == ACC:
            if not compressed and kind in (0, 1, 2):
                nbytes = kind + 1
                if len(data) % (3 * nbytes):
                    raise DecodeError(
                        f"{self.name}: ACC frame type {kind}: {len(data)} data bytes is not a "
                        f"multiple of {3 * nbytes}"
                    )
                vals = _le_ints(data, nbytes).reshape(-1, 3) * MG
            elif compressed and kind in (0, 1):
                raw = parse_delta_frames(data, 3, 16)
                unit = 1000.0 if kind == 0 else 1.0  # type 0 is in g, type 1 in mG
                vals = raw * (self.acc_factor * unit * MG)
            else:
                raise DecodeError(f"{self.name}: unsupported ACC frame type {ftype:#04x}")
            n = vals.shape[0]
            return SampleBlock.trusted(vals, self._nan(n), self._times(ts, n))
        if mtype == GYRO:
            if compressed and kind == 0:
                vals = parse_delta_frames(data, 3, 16) * (self.gyr_factor * DEG)
            elif compressed and kind == 1:
                raw = parse_delta_frames(data, 3, 32) & 0xFFFFFFFF
                vals = raw.astype(np.uint32).view(np.float32) * (self.gyr_factor * DEG)
            else:
                raise DecodeError(f"{self.name}: unsupported GYRO frame type {ftype:#04x}")
            vals = vals.astype(np.float64, copy=False)
            n = vals.shape[0]
            return SampleBlock.trusted(self._nan(n), vals, self._times(ts, n))
        raise DecodeError(f"{self.name}: measurement type {mtype} is not ACC (2) or GYRO (5)")
