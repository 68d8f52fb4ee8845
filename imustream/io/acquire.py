"""Decode a whole log through the live acquisition (stream.Acquisition): the same decoding,
reordering, clock mapping and gap detection as during the session."""

from __future__ import annotations

import dataclasses
import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DecodeError
from ..types import Gap, LinkState, SampleBlock, StateChange
from .h5sink import SampleSink
from .logreader import LogContents, RawStream


def state_changes(contents: LogContents) -> list[StateChange]:
    """The link state changes recorded in a log (unknown states are skipped)."""
    out = []
    for r in contents.records.get("state", []):
        try:
            state = LinkState(r.get("state"))
        except ValueError:
            continue
        extra = r.get("extra") if isinstance(r.get("extra"), dict) else {}
        out.append(
            StateChange(
                str(r.get("sensor")), state, int(r["host_ns"]), str(r.get("message", "")), extra
            )
        )
    return out


def merged_items(contents: LogContents) -> Iterator[Any]:
    """Notifications ``(host_ns, sensor, bytes)`` and StateChanges of all sensors, in host-time
    order (a state change before a notification of the same time), generated lazily."""

    def notes(k: int, sensor: str, raw: RawStream) -> Iterator[tuple[int, int, int, Any]]:
        host = raw.host_ns.tolist()
        for i, h in enumerate(host):
            yield h, 1, k, (h, sensor, raw.payload(i))

    changes = [(sc.host_ns, 0, -1, sc) for sc in state_changes(contents)]
    changes.sort(key=lambda x: x[0])
    streams = [notes(k, s, r) for k, (s, r) in enumerate(contents.streams.items())]
    for *_, item in heapq.merge(*streams, changes, key=lambda x: (x[0], x[1], x[2])):
        yield item


@dataclass
class AcquiredSensor:
    """Per-notification results of one sensor (its samples went to a SampleSink)."""

    seq: np.ndarray  # (m,) int64, -1 = none / not decoded
    decode_ok: np.ndarray  # (m,) bool: the notification's samples are in the file
    gaps: list[Gap]


def decode_with_acquisition(
    contents: LogContents,
    profiles: dict[str, Any],
    rates: dict[str, float],
    t0_ns: int,
    sinks: dict[str, SampleSink],
) -> tuple[dict[str, AcquiredSensor], dict[str, dict]]:
    """Run every notification and state change of a log through ``stream.Acquisition``.

    Samples are streamed into ``sinks`` (bounded memory). Returns per sensor the sequence
    numbers, which notifications were used, the gaps, and the acquisition statistics.
    """
    from ..stream.acquisition import Acquisition

    acq = Acquisition(profiles, rates, origin_ns=t0_ns)
    index = {s: _PacketIndex(contents.streams[s], profiles[s]) for s in profiles}
    gaps: dict[str, list[Gap]] = {s: [] for s in profiles}

    def route(outs: list) -> None:
        for out in outs:
            if isinstance(out, Gap):
                gaps[out.sensor].append(out)
                continue
            p = index[out.sensor].locate(out)
            n = out.n
            sinks[out.sensor].append(
                acc=out.acc,
                gyr=out.gyr,
                t_device=out.t_device if out.t_device is not None else np.full(n, np.nan),
                t_session=out.t_session,
                packet=np.full(n, p, np.int64),
                mag=out.mag,
            )

    for item in merged_items(contents):
        if isinstance(item, tuple) and item[1] not in profiles:
            continue
        route(acq.handle(item))
    route(acq.flush())
    for sink in sinks.values():
        sink.flush()
    out = {s: AcquiredSensor(ix.seq, ix.used, gaps[s]) for s, ix in index.items()}
    stats = {}
    for sensor, st in acq.stats.items():
        d = dataclasses.asdict(st)
        stats[sensor] = {k: v for k, v in d.items() if isinstance(v, (int, float, str, list))}
    return out, stats


def _same_packet(a: SampleBlock, b: SampleBlock) -> bool:
    if a.seq is not None or b.seq is not None:
        return a.seq == b.seq
    if a.t_device is not None and b.t_device is not None:
        return bool(np.array_equal(a.t_device, b.t_device))
    return bool(np.array_equal(a.acc, b.acc))


class _PacketIndex:
    """Finds the notification a released block came from: the one with its arrival time;
    notifications that arrived together (a reordered pair) are told apart by content. A block
    joined from a split notification (Movesense DATA + DATA_PART2) carries the arrival time
    of its first part; both parts are marked used."""

    def __init__(self, raw: RawStream, profile: Any) -> None:
        self.raw = raw
        self.profile = profile
        self.decode = profile.decode
        make = getattr(profile, "assembler", None)
        self.splits = make is not None and make().active
        if self.splits:
            self.sizes = (profile.layout.header_size, profile.layout.sample_size)
        self.seq = np.full(raw.n, -1, np.int64)
        self.used = np.zeros(raw.n, bool)

    def locate(self, b: SampleBlock) -> int:
        host = self.raw.host_ns
        p = int(np.searchsorted(host, b.host_ns))
        if p + 1 < host.size and host[p + 1] == host[p]:
            q = p
            while q < host.size and host[q] == host[p]:
                if not self.used[q] and self._holds(q, b):
                    p = q
                    break
                q += 1
        self.used[p] = True
        if self.splits and len(self.raw.payload(p)) < self.sizes[0] + b.n * self.sizes[1]:
            self.used[p + 1] = True  # more samples than the notification alone: joined
        if b.seq is not None:
            self.seq[p] = b.seq
        return p

    def _holds(self, q: int, b: SampleBlock) -> bool:
        # a corrupted notification that arrived with the block's own cannot be it
        payloads = [self.raw.payload(q)]
        if self.splits:
            payloads.append(self._join(q))
        for payload in payloads:
            if payload is None:
                continue
            try:
                if _same_packet(self.decode(payload), b):
                    return True
            except DecodeError:
                pass
        return False

    def _join(self, q: int) -> bytes | None:
        """Notification ``q`` joined with the next one, if they are the two parts of one."""
        if q + 1 >= self.raw.n:
            return None
        asm = self.profile.assembler()
        out = asm.push(self.raw.payload(q)) + asm.push(self.raw.payload(q + 1))
        return out[0] if len(out) == 1 and not asm.pending else None
