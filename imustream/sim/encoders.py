"""Device encoders: turn SI samples into notification payloads exactly as a device sends them.

Used by the simulated BLE devices and by the round-trip tests:
``profile.decode(enc.encode(acc, gyr, t, seq))`` reproduces the values within the format's
quantisation. Devices that send accelerometer and gyroscope in separate notifications
(``metawear``, ``polar-pmd``) have ``streams == ("acc", "gyr")``: :meth:`PacketEncoder.encode`
then needs ``stream=`` and :meth:`PacketEncoder.encode_all` returns one payload per stream.
"""

from __future__ import annotations

import functools
import struct

import numpy as np

from ..profiles.decoders.fields import STRUCT_CODES, quantity_scale
from ..profiles.model import FIELD_TYPES, FirmwareProfile

__all__ = ["PacketEncoder"]

MAX_PAYLOAD = 244  # MTU 247 minus the 3-byte ATT header


@functools.cache
def _limits(dtype: np.dtype) -> tuple[int, int]:
    info = np.iinfo(dtype)
    return info.min, info.max


def _quantise(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Round to the field type and saturate at its limits (as a device ADC would)."""
    if dtype.kind == "f":
        return values.astype(dtype)
    lo, hi = _limits(dtype)
    out = np.rint(values)
    np.minimum(out, hi, out=out)
    np.maximum(out, lo, out=out)
    return out.astype(dtype)


class _FieldsEncoder:
    def __init__(self, p: FirmwareProfile) -> None:
        lay = p.layout
        assert lay is not None
        self.p = p
        self.lay = lay
        self.bo = "<" if lay.endianness == "little" else ">"
        self.hstruct = struct.Struct(self.bo + "".join(STRUCT_CODES[f.type] for f in lay.header))
        self.scales = {q: quantity_scale(p, q) for q in ("acc", "gyr", "mag")}
        # per-profile layout, worked out once: header plan, axis sources, block record types
        self.head_plan = []
        for f in lay.header:
            if f.value is not None:
                self.head_plan.append(("value", f.value))
            elif f.name == p.time.timestamp_field:
                self.head_plan.append(("time", None))
            elif f.name == p.time.sequence_field:
                self.head_plan.append(("seq", None))
            else:
                self.head_plan.append(("value", 0))
        self.sources = {}  # field name -> (quantity, column, sign)
        for q, axes in (("acc", lay.acc), ("gyr", lay.gyr)):
            if axes is None:
                continue
            for i, name in enumerate(axes):
                sign = -1.0 if name.startswith("-") else 1.0
                self.sources[name.lstrip("+-")] = (q, i, sign)
        self.block_plans = [self._block_plan(block) for block in lay.blocks]

    def _block_plan(self, block) -> tuple:
        """How to build one record block: as a 2-D array of one type (every field has the
        same type: all columns quantised in one go), else field by field."""
        dt = np.dtype([(f.name, self.bo + FIELD_TYPES[f.type][0]) for f in block])
        fields = [
            (f.name, f.value, self.sources.get(f.name), dt[f.name])
            for f in block
            if f.value is not None or f.name in self.sources
        ]
        types = {dt[f.name] for f in block}
        if len(types) != 1:
            return ("fields", dt, fields)
        (ftype,) = types
        pos, cols, signs, scales, consts = [], [], [], [], []
        for k, f in enumerate(block):
            if f.value is not None:
                consts.append((k, f.value))
            elif f.name in self.sources:
                q, i, sign = self.sources[f.name]
                pos.append(k)
                cols.append(i + (3 if q == "gyr" else 0))  # column of hstack((acc, gyr))
                signs.append(sign)
                scales.append(self.scales[q])
        direct = pos == list(range(len(block)))  # every field is a sample value, in order
        # identity steps are skipped (x * 1.0 is exactly x): None instead of an index / sign
        return (
            "matrix",
            ftype,
            len(block),
            np.array(pos),
            None if cols == list(range(6)) else np.array(cols),
            None if all(x == 1.0 for x in signs) else np.array(signs),
            np.array(scales),
            consts,
            direct,
        )

    def max_samples(self) -> int:
        if self.lay.samples_per_packet is not None:
            return self.lay.samples_per_packet
        return (MAX_PAYLOAD - self.lay.header_size) // self.lay.sample_size

    def split_limit(self) -> int:
        """Samples that fit a DATA + continuation pair (devices that split notifications)."""
        if self.lay.continuation_type is None:
            return self.max_samples()
        room = 2 * MAX_PAYLOAD - self.lay.header_size - self.lay.continuation_strip
        return room // self.lay.sample_size

    def split(self, payload: bytes) -> list[bytes]:
        """``[payload]``, or a first part and a continuation when it exceeds one packet."""
        lay = self.lay
        if lay.continuation_type is None or len(payload) <= MAX_PAYLOAD:
            return [payload]
        head = bytes([lay.continuation_type]) + payload[1 : lay.continuation_strip]
        return [payload[:MAX_PAYLOAD], head + payload[MAX_PAYLOAD:]]

    def encode(self, acc, gyr, t_first, seq) -> bytes:
        p = self.p
        n = acc.shape[0]
        head = []
        for kind, value in self.head_plan:
            if kind == "value":
                head.append(value)
            elif kind == "time":
                if t_first is None:
                    raise ValueError(f"profile {p.name!r} sends a device timestamp: give t_device")
                t_ref = t_first + ((n - 1) / p.rate if p.time.timestamp_sample == "last" else 0.0)
                ticks = round(t_ref / p.time.tick_s)
                head.append(ticks % (1 << p.time.timestamp_bits))
            else:
                if seq is None:
                    raise ValueError(f"profile {p.name!r} sends a sequence counter: give seq")
                head.append(seq % (1 << p.time.sequence_bits))
        parts = [self.hstruct.pack(*head)]
        data = {"acc": acc, "gyr": gyr}
        both = None
        for plan in self.block_plans:
            if plan[0] == "matrix":
                _, ftype, width, pos, cols, signs, scales, consts, direct = plan
                if both is None:
                    both = np.concatenate((acc, gyr), axis=1)
                # (sign * value) / scale per element, as the field-by-field path computes it
                values = both if cols is None else both[:, cols]
                if signs is not None:
                    values = values * signs
                values = _quantise(values / scales, ftype)
                if direct:
                    parts.append(values.tobytes())
                    continue
                rec = np.zeros((n, width), ftype)
                rec[:, pos] = values
                for k, value in consts:
                    rec[:, k] = value
                parts.append(rec.tobytes())
                continue
            _, dt, fields = plan
            rec = np.zeros(n, dt)
            for name, value, source, ftype in fields:
                if value is not None:
                    rec[name] = value
                else:
                    q, i, sign = source
                    rec[name] = _quantise(sign * data[q][:, i] / self.scales[q], ftype)
            parts.append(rec.tobytes())
        return b"".join(parts)


def _bits_needed(values: np.ndarray) -> int:
    """Smallest two's-complement width (>= 1 bit) holding every value."""
    if values.size == 0:
        return 1
    lo, hi = int(values.min()), int(values.max())
    # v >= 0 needs v.bit_length() + 1 bits (sign bit), v < 0 as many as ~v = -v - 1 >= 0
    return max(
        1, (hi if hi >= 0 else ~hi).bit_length() + 1, (lo if lo >= 0 else ~lo).bit_length() + 1
    )


_BIT_INDEX = np.arange(64, dtype=np.int64)


def encode_delta_frames(samples: np.ndarray, resolution: int = 16) -> bytes:
    """Delta-compress integer samples (n, channels) the way Polar devices do.

    Reference sample (``ceil(resolution/8)`` bytes per channel, signed little-endian), then
    blocks of at most 255 samples: ``[bit width, count, deltas packed LSB first]``.
    """
    samples = np.asarray(samples, dtype=np.int64)
    n = samples.shape[0]
    ref_bytes = (resolution + 7) // 8
    out = bytearray()
    for v in samples[0]:
        out += int(v).to_bytes(ref_bytes, "little", signed=True)
    deltas = samples[1:] - samples[:-1]  # np.diff(samples, axis=0) without its overhead
    for start in range(0, n - 1, 255):
        chunk = deltas[start : start + 255]
        width = _bits_needed(chunk)
        if width > 32:
            raise ValueError("a delta does not fit the 32-bit maximum delta width")
        twos = chunk.reshape(-1) & ((1 << width) - 1)
        bits = (twos[:, None] >> _BIT_INDEX[:width]) & 1
        out += bytes([width, chunk.shape[0]])
        out += np.packbits(bits.reshape(-1).astype(np.uint8), bitorder="little").tobytes()
    return bytes(out)


class _PolarPmdEncoder:
    def __init__(self, p: FirmwareProfile) -> None:
        from ..profiles.decoders.polar_pmd import MG, PolarPmdDecoder

        self.p = p
        dec = PolarPmdDecoder(p)
        self.acc_factor, self.gyr_factor = dec.acc_factor, dec.gyr_factor
        self.mg = MG
        self.acc_frame = int(p.decoder_params.get("acc_frame", 0x01))
        self.gyr_frame = p.decoder_params.get("gyr_frame")

    def max_samples(self) -> int:
        if self.acc_frame == 0x01:
            return (MAX_PAYLOAD - 10) // 6
        return 36  # compressed: 10 + 6 + 2 + 36 x 6 B = 234 B even with 16-bit deltas

    def encode_stream(self, stream: str, values: np.ndarray, t_first: float | None) -> bytes:
        if t_first is None:
            raise ValueError(f"profile {self.p.name!r} sends a device timestamp: give t_device")
        n = values.shape[0]
        t_last_ns = round((t_first + (n - 1) / self.p.rate) * 1e9) % (1 << 64)
        if stream == "acc":
            mtype, frame = 2, self.acc_frame
            if frame == 0x01:
                counts = _quantise(values / self.mg, np.dtype("<i2"))
                data = counts.astype("<i2").tobytes()
            else:
                unit = 1000.0 if frame == 0x80 else 1.0
                counts = _quantise(values / (self.acc_factor * unit * self.mg), np.dtype("<i2"))
                data = encode_delta_frames(counts)
        else:
            from ..profiles.model import UNIT_TO_SI

            mtype, frame = 5, int(self.gyr_frame)
            counts = _quantise(values / (self.gyr_factor * UNIT_TO_SI["deg/s"]), np.dtype("<i2"))
            data = encode_delta_frames(counts)
        return bytes([mtype]) + t_last_ns.to_bytes(8, "little") + bytes([frame]) + data


class _MetaWearPackedEncoder:
    def __init__(self, p: FirmwareProfile) -> None:
        from ..profiles.decoders.metawear import (
            ACC_MODULE,
            ACC_PACKED,
            GYRO_MODULE,
            MetaWearPackedDecoder,
        )

        dec = MetaWearPackedDecoder(p)
        self.heads = {
            "acc": bytes([ACC_MODULE, ACC_PACKED]),
            "gyr": bytes([GYRO_MODULE, dec.gyro_reg]),
        }
        self.scales = {"acc": dec.acc_scale, "gyr": dec.gyr_scale}

    def max_samples(self) -> int:
        return 3

    def encode_stream(self, stream: str, values: np.ndarray, t_first: float | None) -> bytes:
        counts = _quantise(values / self.scales[stream], np.dtype("<i2"))
        return self.heads[stream] + counts.astype("<i2").tobytes()


class PacketEncoder:
    """Encode samples into notification payloads of one firmware profile.

    Parameters
    ----------
    profile : FirmwareProfile
        The device format to produce.
    rate, acc_range, gyr_range : float, optional
        Device options (default: the profile's); they set scales and timestamps.
    samples_per_packet : int, optional
        For variable-size layouts, how many samples one packet carries (default: as many as
        fit into a 244-byte notification). Ignored for fixed layouts. Profiles whose device
        splits long notifications (Movesense) accept up to two packets' worth; ``encode``
        returns the joined payload, ``encode_all`` the packets as sent.
    """

    def __init__(
        self,
        profile: FirmwareProfile,
        rate: float | None = None,
        acc_range: float | None = None,
        gyr_range: float | None = None,
        samples_per_packet: int | None = None,
    ) -> None:
        self.profile = profile.with_options(rate=rate, acc_range=acc_range, gyr_range=gyr_range)
        name = self.profile.decoder_name
        if name == "fields":
            self._impl = _FieldsEncoder(self.profile)
        elif name == "polar_pmd":
            self._impl = _PolarPmdEncoder(self.profile)
        elif name == "metawear_packed":
            self._impl = _MetaWearPackedEncoder(self.profile)
        else:  # pragma: no cover - every registered decoder has an encoder
            raise ValueError(f"no encoder for decoder {name!r}")
        limit = getattr(self._impl, "split_limit", self._impl.max_samples)()
        fixed = self.profile.samples_per_packet is not None
        if samples_per_packet is None or fixed:
            self._spp = self._impl.max_samples()
        elif not 1 <= samples_per_packet <= limit:
            raise ValueError(f"samples_per_packet must be 1..{limit} for {self.profile.name!r}")
        else:
            self._spp = int(samples_per_packet)

    @property
    def samples_per_packet(self) -> int:
        """Samples carried by one packet (per stream)."""
        return self._spp

    @property
    def streams(self) -> tuple[str, ...]:
        """``("imu",)``, or ``("acc", "gyr")`` for devices that notify them separately."""
        return self.profile.streams

    def _check(self, acc: np.ndarray, gyr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        acc = np.asarray(acc, dtype=np.float64)
        gyr = np.asarray(gyr, dtype=np.float64)
        if acc.ndim != 2 or acc.shape[1] != 3 or gyr.shape != acc.shape:
            raise ValueError(f"acc and gyr must both be (k, 3), got {acc.shape} and {gyr.shape}")
        if acc.shape[0] != self._spp:
            raise ValueError(
                f"{self.profile.name!r} packets carry {self._spp} samples, got {acc.shape[0]}"
            )
        return acc, gyr

    def encode(
        self,
        acc: np.ndarray,
        gyr: np.ndarray,
        t_device_first: float | None = None,
        seq: int | None = None,
        stream: str | None = None,
    ) -> bytes:
        """One notification payload carrying ``samples_per_packet`` samples.

        Parameters
        ----------
        acc, gyr : ndarray, shape (k, 3)
            m/s^2 and rad/s, sensor frame.
        t_device_first : float, optional
            Device time of the first sample in s (required if the format has a timestamp).
        seq : int, optional
            Packet counter (required if the format has one; wrapped to its width).
        stream : {"acc", "gyr"}, optional
            Required for devices that notify acc and gyro separately.
        """
        acc, gyr = self._check(acc, gyr)
        if self.streams == ("imu",):
            return self._impl.encode(acc, gyr, t_device_first, seq)
        if stream not in self.streams:
            raise ValueError(f"{self.profile.name!r} needs stream= one of {self.streams}")
        return self._impl.encode_stream(stream, acc if stream == "acc" else gyr, t_device_first)

    def encode_all(
        self,
        acc: np.ndarray,
        gyr: np.ndarray,
        t_device_first: float | None = None,
        seq: int | None = None,
    ) -> list[bytes]:
        """Every notification a device sends for these samples: one per stream, or a first
        part and a continuation for a Movesense notification longer than one packet."""
        if self.streams == ("imu",):
            payload = self.encode(acc, gyr, t_device_first, seq)
            return self._impl.split(payload) if hasattr(self._impl, "split") else [payload]
        return [self.encode(acc, gyr, t_device_first, seq, stream=s) for s in self.streams]
