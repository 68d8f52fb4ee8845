"""Decode the raw notifications of one sensor (from a log) into sample arrays and gaps.

Used by the converter. Packets that fail to decode keep their raw bytes and are flagged; they
never stop a conversion. Sample times are mapped to session seconds with the device clock when
the packets carry one (lower-envelope fit of arrival time against device time, robust to
one-sided BLE delays), else from the arrival time and the nominal rate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import DecodeError
from ..types import Gap, SampleBlock
from .logreader import RawStream

Decoder = Callable[[bytes], SampleBlock]


@dataclass
class DecodedSensor:
    """Samples of one sensor; ``packet[i]`` is the notification sample ``i`` came from."""

    acc: np.ndarray
    gyr: np.ndarray
    t_device: np.ndarray
    t_session: np.ndarray
    packet: np.ndarray
    seq: np.ndarray  # per notification, -1 when the packet carries no counter
    decode_ok: np.ndarray  # per notification
    mag: np.ndarray | None = None
    gaps: list[Gap] = field(default_factory=list)
    decode_errors: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.acc.shape[0])


def _envelope_map(t_dev: np.ndarray, host_s: np.ndarray, window_s: float = 10.0) -> np.ndarray:
    """Map device times to host seconds: line through per-window minima of host - device."""
    d = host_s - t_dev
    if t_dev.size == 0:
        return t_dev.copy()
    span = t_dev[-1] - t_dev[0]
    if span < 2 * window_s:
        return t_dev + d.min()
    edges = np.arange(t_dev[0], t_dev[-1] + window_s, window_s)
    which = np.clip(np.searchsorted(edges, t_dev, side="right") - 1, 0, edges.size - 1)
    mins = np.full(edges.size, np.inf)
    np.minimum.at(mins, which, d)
    arg = np.full(edges.size, -1)
    for w in np.unique(which):  # per-window argmin
        sel = np.flatnonzero(which == w)
        arg[w] = sel[np.argmin(d[sel])]
    ok = arg >= 0
    slope, icpt = np.polyfit(t_dev[arg[ok]], d[arg[ok]], 1)
    resid = d - (slope * t_dev + icpt)
    icpt += min(0.0, resid.min())  # keep the fit a lower envelope
    return t_dev + slope * t_dev + icpt


def _unwrap(values: np.ndarray, period: float | None) -> np.ndarray:
    """Unwrap a counter that restarts at ``period`` (None: no unwrapping)."""
    if period is None or values.size < 2:
        return values.astype(np.float64)
    step = np.diff(values.astype(np.float64))
    wraps = np.concatenate(([0.0], np.cumsum(np.where(step < -period / 2, period, 0.0))))
    return values + wraps


def decode_stream(
    sensor: str,
    raw: RawStream,
    decode: Decoder,
    *,
    t0_ns: int,
    rate: float | None,
    seq_bits: int | None = None,
    time_wrap_s: float | None = None,
) -> DecodedSensor:
    """Decode every notification of one sensor.

    Parameters
    ----------
    sensor : str
        Sensor name (for gap records).
    raw : RawStream
        Raw notifications in arrival order.
    decode : callable
        ``decode(bytes) -> SampleBlock`` (a firmware profile's ``decode``).
    t0_ns : int
        Host monotonic ns of the session time origin.
    rate : float or None
        Nominal sampling rate in Hz (needed when packets carry no device time).
    seq_bits, time_wrap_s : int or float, optional
        Width of the packet counter and wrap period of the device clock, if any.
    """
    n_pk = raw.n
    blocks: list[SampleBlock | None] = []
    errors: list[str] = []
    seq = np.full(n_pk, -1, np.int64)
    ok = np.zeros(n_pk, bool)
    for i in range(n_pk):
        try:
            b = decode(raw.payload(i))
        except DecodeError as exc:
            blocks.append(None)
            if len(errors) < 20:
                errors.append(f"notification {i}: {exc}")
            continue
        blocks.append(b)
        ok[i] = True
        if b.seq is not None:
            seq[i] = b.seq
    good = [b for b in blocks if b is not None]
    counts = np.array([b.n if b is not None else 0 for b in blocks], np.int64)
    packet = np.repeat(np.arange(n_pk, dtype=np.int64), counts)
    if good:
        acc = np.concatenate([b.acc for b in good]).astype(np.float64)
        gyr = np.concatenate([b.gyr for b in good]).astype(np.float64)
        has_time = all(b.t_device is not None for b in good)
        t_dev = (
            np.concatenate([b.t_device for b in good]).astype(np.float64)
            if has_time
            else np.full(acc.shape[0], np.nan)
        )
        has_mag = all(b.mag is not None for b in good)
        mag = np.concatenate([b.mag for b in good]) if has_mag else None
    else:
        acc = gyr = np.zeros((0, 3))
        t_dev = np.zeros(0)
        has_time = False
        mag = None
    host_s = (raw.host_ns - t0_ns) / 1e9
    arrival = host_s[packet]
    if has_time and acc.shape[0]:
        t_unwrapped = _unwrap(t_dev, time_wrap_s)
        t_session = _envelope_map(t_unwrapped, arrival)
    else:
        # last sample of a packet at its arrival, earlier ones spaced by the nominal rate
        dt = 1.0 / rate if rate else 0.0
        last = np.cumsum(counts)[packet] - 1 if packet.size else packet
        t_session = arrival - (last - np.arange(packet.size)) * dt
    out = DecodedSensor(
        acc=acc,
        gyr=gyr,
        t_device=t_dev,
        t_session=t_session,
        packet=packet,
        seq=seq,
        decode_ok=ok,
        mag=mag,
        decode_errors=errors,
    )
    out.gaps = _find_gaps(sensor, out, counts, rate, seq_bits)
    return out


def _find_gaps(
    sensor: str, d: DecodedSensor, counts: np.ndarray, rate: float | None, seq_bits: int | None
) -> list[Gap]:
    """Gaps from packet-counter jumps, or from sample-time jumps when there is no counter."""
    gaps: list[Gap] = []
    pk = np.flatnonzero(d.decode_ok)
    if pk.size < 2:
        return gaps
    first_sample = np.concatenate(([0], np.cumsum(counts)))
    if (d.seq[pk] >= 0).all() and seq_bits:
        s = d.seq[pk].astype(np.int64)
        jump = np.diff(s) % (1 << seq_bits)
        per = np.median(counts[pk]) if pk.size else 1
        for j in np.flatnonzero(jump > 1):
            a, b = pk[j], pk[j + 1]
            end_prev = first_sample[a + 1] - 1
            start_next = first_sample[b]
            gaps.append(
                Gap(
                    sensor,
                    float(d.t_session[end_prev]),
                    float(d.t_session[start_next]),
                    round((int(jump[j]) - 1) * per),
                    "loss",
                )
            )
        return gaps
    if rate and np.isfinite(d.t_device).all() and d.n > 1:
        dt = np.diff(d.t_session)
        for j in np.flatnonzero(dt > 1.5 / rate):
            missing = round(dt[j] * rate) - 1
            if missing > 0:
                gaps.append(
                    Gap(sensor, float(d.t_session[j]), float(d.t_session[j + 1]), missing, "loss")
                )
    return gaps
