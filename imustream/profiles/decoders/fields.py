"""Vectorised decoder for fixed-field layouts (``decoder = "fields"``).

The payload is viewed in place with strided numpy arrays (no per-sample Python loop); the
header is read with one ``struct.unpack_from``.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

import numpy as np

from ...errors import DecodeError
from ...types import SampleBlock
from ..model import FIELD_TYPES, UNIT_TO_SI, FieldSpec, Layout

if TYPE_CHECKING:
    from ..model import FirmwareProfile

__all__ = ["FieldsDecoder", "as_bytes", "quantity_scale"]

STRUCT_CODES = {
    "u8": "B",
    "i8": "b",
    "u16": "H",
    "i16": "h",
    "u32": "I",
    "i32": "i",
    "u64": "Q",
    "i64": "q",
    "f32": "f",
    "f64": "d",
}


def as_bytes(payload: object) -> bytes | bytearray:
    """Return ``payload`` as bytes-like for numpy; TypeError for anything not bytes-like."""
    if isinstance(payload, bytes | bytearray):
        return payload
    if isinstance(payload, memoryview):
        return payload.tobytes()
    raise TypeError(f"payload must be bytes, bytearray or memoryview, not {type(payload).__name__}")


def quantity_scale(p: FirmwareProfile, quantity: str) -> float:
    """Factor from raw counts to SI units for ``quantity`` ("acc", "gyr", "mag") of ``p``."""
    raw = getattr(p.scales, quantity)
    unit = getattr(p.scales, f"{quantity}_unit")
    if not isinstance(raw, float | int):
        rng = p.acc_range if quantity == "acc" else p.gyr_range
        raw = raw[rng]
    return float(raw) * UNIT_TO_SI[unit]


class _Quantity:
    """How to cut one 3-axis quantity out of a payload."""

    def __init__(
        self, p: FirmwareProfile, quantity: str, names: tuple[str, str, str], bo: str
    ) -> None:
        lay = p.layout
        assert lay is not None
        signs = np.array([-1.0 if nm.startswith("-") else 1.0 for nm in names])
        bare = [nm.lstrip("+-") for nm in names]
        self.scale = signs * quantity_scale(p, quantity)
        self.block = next(
            bi for bi, b in enumerate(lay.blocks) if any(f.name == bare[0] for f in b)
        )
        offs: dict[str, tuple[int, FieldSpec]] = {}
        o = 0
        for f in lay.blocks[self.block]:
            offs[f.name] = (o, f)
            o += f.size
        self.cols = [(offs[nm][0], bo + FIELD_TYPES[offs[nm][1].type][0]) for nm in bare]
        first_off, first_dt = self.cols[0]
        isz = np.dtype(first_dt).itemsize
        self.contiguous = all(
            off == first_off + i * isz and dt == first_dt for i, (off, dt) in enumerate(self.cols)
        )

    def extract(self, buf: bytes | bytearray, n: int, base: int, stride: int) -> np.ndarray:
        off0, dt = self.cols[0]
        if self.contiguous:
            view = np.ndarray((n, 3), dt, buf, base + off0, (stride, np.dtype(dt).itemsize))
            return view * self.scale
        out = np.empty((n, 3))
        for i, (off, dt) in enumerate(self.cols):
            out[:, i] = np.ndarray((n,), dt, buf, base + off, (stride,)) * self.scale[i]
        return out


class FieldsDecoder:
    """Decoder compiled from a profile's :class:`~imustream.profiles.model.Layout`."""

    PARAMS: tuple[str, ...] = ()

    def __init__(self, p: FirmwareProfile) -> None:
        lay = p.layout
        assert lay is not None
        self.name = p.name
        bo = "<" if lay.endianness == "little" else ">"
        self.hsize = lay.header_size
        self.hstruct = struct.Struct(bo + "".join(STRUCT_CODES[f.type] for f in lay.header))
        hnames = [f.name for f in lay.header]
        self.hconst = [
            (i, f.name, f.value) for i, f in enumerate(lay.header) if f.value is not None
        ]
        self.block_sizes = [sum(f.size for f in b) for b in lay.blocks]
        self.sample_size = sum(self.block_sizes)
        self.spp = lay.samples_per_packet
        self.pad_to = lay.pad_to
        self.bconst: list[tuple[int, str, int, str, int]] = []
        for bi, block in enumerate(lay.blocks):
            o = 0
            for f in block:
                if f.value is not None:
                    self.bconst.append((bi, f.name, o, bo + FIELD_TYPES[f.type][0], f.value))
                o += f.size
        self.acc = _Quantity(p, "acc", lay.acc, bo) if lay.acc else None
        self.gyr = _Quantity(p, "gyr", lay.gyr, bo) if lay.gyr else None
        self.mag = _Quantity(p, "mag", lay.mag, bo) if lay.mag else None
        t = p.time
        self.ts_index = hnames.index(t.timestamp_field) if t.timestamp_field else None
        self.seq_index = hnames.index(t.sequence_field) if t.sequence_field else None
        self.tick = t.tick_s
        self.ts_last = t.timestamp_sample == "last"
        self.period = 1.0 / p.rate
        self._offsets: dict[int, np.ndarray] = {}
        self.fast = self._fast_plan(lay, bo)
        self.row_scale = None if self.fast is None else self.fast[3][0, 0].copy()

    def _fast_plan(self, lay: Layout, bo: str) -> tuple | None:
        """One strided view and one multiply for the whole payload when every sample field
        has the same type and every block the same width (true of every bundled layout)."""
        types = {f.type for b in lay.blocks for f in b}
        widths = {len(b) for b in lay.blocks}
        if len(types) != 1 or len(widths) != 1 or self.bconst:
            return None
        dt = np.dtype(bo + FIELD_TYPES[types.pop()][0])
        nb, kb = len(lay.blocks), widths.pop()
        colscale = np.zeros((nb, 1, kb))
        where: dict[str, tuple[int, int]] = {}
        for qname in ("acc", "gyr", "mag"):
            q = getattr(self, qname)
            if q is None:
                continue
            cols = [off // dt.itemsize for off, _ in q.cols]
            if cols != list(range(cols[0], cols[0] + 3)):
                return None
            colscale[q.block, 0, cols[0] : cols[0] + 3] = q.scale
            where[qname] = (q.block, cols[0])
        index = (where.get("acc"), where.get("gyr"), where.get("mag"))
        return dt, nb, kb, colscale, index

    def _time_offsets(self, n: int) -> np.ndarray:
        off = self._offsets.get(n)
        if off is None:
            off = np.arange(n, dtype=np.float64) * self.period
            if self.ts_last:
                off = off - off[-1]
            self._offsets[n] = off
        return off

    def _count(self, size: int) -> int:
        if size == 0:
            raise DecodeError(f"{self.name}: empty payload")
        if self.spp is not None:
            expected = self.hsize + self.spp * self.sample_size
            if size != expected and size != self.pad_to:
                pad = f" (or {self.pad_to} padded)" if self.pad_to else ""
                what = "truncated" if size < expected else "extra bytes"
                raise DecodeError(
                    f"{self.name}: payload of {size} bytes, expected {expected}{pad}: {what}"
                )
            return self.spp
        body = size - self.hsize
        if body < self.sample_size or body % self.sample_size:
            raise DecodeError(
                f"{self.name}: payload of {size} bytes is not a {self.hsize}-byte header plus "
                f"a whole number (>= 1) of {self.sample_size}-byte samples"
            )
        return body // self.sample_size

    def __call__(self, payload: bytes | bytearray | memoryview) -> SampleBlock:
        buf = as_bytes(payload)
        n = self._count(len(buf))
        head = self.hstruct.unpack_from(buf, 0) if self.hsize else ()
        for i, fname, value in self.hconst:
            if head[i] != value:
                raise DecodeError(
                    f"{self.name}: header field {fname!r} is {head[i]:#x}, expected {value:#x}"
                )
        if self.fast is not None:
            dt, nb, kb, colscale, (ia, ig, im) = self.fast
            if nb == 1:  # interleaved: a 2-D view scales fastest
                sc = np.ndarray((n, kb), dt, buf, self.hsize) * self.row_scale
                acc = None if ia is None else sc[:, ia[1] : ia[1] + 3]
                gyr = None if ig is None else sc[:, ig[1] : ig[1] + 3]
                mag = None if im is None else sc[:, im[1] : im[1] + 3]
            else:
                sc = np.ndarray((nb, n, kb), dt, buf, self.hsize) * colscale
                acc = None if ia is None else sc[ia[0], :, ia[1] : ia[1] + 3]
                gyr = None if ig is None else sc[ig[0], :, ig[1] : ig[1] + 3]
                mag = None if im is None else sc[im[0], :, im[1] : im[1] + 3]
            return self._block(n, head, acc, gyr, mag)
        bases = []
        base = self.hsize
        for bsize in self.block_sizes:
            bases.append(base)
            base += bsize * n
        for bi, fname, off, dt, value in self.bconst:
            col = np.ndarray((n,), dt, buf, bases[bi] + off, (self.block_sizes[bi],))
            if (col != value).any():
                raise DecodeError(f"{self.name}: sample field {fname!r} is not {value:#x}")
        acc = gyr = mag = None
        if self.acc is not None:
            q = self.acc
            acc = q.extract(buf, n, bases[q.block], self.block_sizes[q.block])
        if self.gyr is not None:
            q = self.gyr
            gyr = q.extract(buf, n, bases[q.block], self.block_sizes[q.block])
        if self.mag is not None:
            q = self.mag
            mag = q.extract(buf, n, bases[q.block], self.block_sizes[q.block])
        return self._block(n, head, acc, gyr, mag)

    def _block(self, n, head, acc, gyr, mag) -> SampleBlock:
        if acc is None:
            acc = np.full((n, 3), np.nan)
        if gyr is None:
            gyr = np.full((n, 3), np.nan)
        t_device = None
        if self.ts_index is not None:
            t_device = head[self.ts_index] * self.tick + self._time_offsets(n)
        seq = int(head[self.seq_index]) if self.seq_index is not None else None
        return SampleBlock.trusted(acc, gyr, t_device, mag, seq)
