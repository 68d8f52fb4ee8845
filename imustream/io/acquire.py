"""Decode a whole log through the live acquisition (stream.Acquisition): the same decoding,
reordering, clock mapping and gap detection as during the session."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ..types import Gap, LinkState, SampleBlock, StateChange
from .decode import DecodedSensor
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


def merged_items(contents: LogContents) -> list[Any]:
    """Notifications ``(host_ns, sensor, bytes)`` and StateChanges of all sensors, by host time."""
    items: list[tuple[int, int, Any]] = []
    for sensor, raw in contents.streams.items():
        for i in range(raw.n):
            items.append((int(raw.host_ns[i]), 1, (int(raw.host_ns[i]), sensor, raw.payload(i))))
    items += [(sc.host_ns, 0, sc) for sc in state_changes(contents)]
    items.sort(key=lambda x: (x[0], x[1]))
    return [x[2] for x in items]


def decode_with_acquisition(
    contents: LogContents, profiles: dict[str, Any], rates: dict[str, float], t0_ns: int
) -> tuple[dict[str, DecodedSensor], dict[str, dict]]:
    """Run every notification and state change of a log through ``stream.Acquisition``.

    Returns the decoded sensors (with their gaps) and each sensor's acquisition statistics.
    """
    from ..stream.acquisition import Acquisition

    acq = Acquisition(profiles, rates, origin_ns=t0_ns)
    blocks: dict[str, list[SampleBlock]] = {s: [] for s in profiles}
    gaps: dict[str, list[Gap]] = {s: [] for s in profiles}
    for item in merged_items(contents):
        if isinstance(item, tuple) and item[1] not in profiles:
            continue
        for out in acq.handle(item):
            (gaps if isinstance(out, Gap) else blocks)[out.sensor].append(out)
    for out in acq.flush():
        (gaps if isinstance(out, Gap) else blocks)[out.sensor].append(out)
    decoded = {}
    for sensor, bl in blocks.items():
        raw = contents.streams[sensor]
        decoded[sensor] = _assemble(bl, raw, profiles[sensor].decode)
        decoded[sensor].gaps = gaps[sensor]
    stats = {}
    for sensor, st in acq.stats.items():
        d = dataclasses.asdict(st)
        stats[sensor] = {k: v for k, v in d.items() if isinstance(v, (int, float, str, list))}
    return decoded, stats


def _same_packet(a: SampleBlock, b: SampleBlock) -> bool:
    if a.seq is not None or b.seq is not None:
        return a.seq == b.seq
    if a.t_device is not None and b.t_device is not None:
        return bool(np.array_equal(a.t_device, b.t_device))
    return bool(np.array_equal(a.acc, b.acc))


def _assemble(blocks: list[SampleBlock], raw: RawStream, decode: Any) -> DecodedSensor:
    host_ns = raw.host_ns
    n_pk = host_ns.size
    seq = np.full(n_pk, -1, np.int64)
    used = np.zeros(n_pk, bool)
    if not blocks:
        z = np.zeros(0)
        return DecodedSensor(
            np.zeros((0, 3)), np.zeros((0, 3)), z, z, np.zeros(0, np.int64), seq, used
        )
    # the notification each block came from: same arrival time (nondecreasing per sensor);
    # packets that arrived together (a reordered pair) are told apart by their content
    pk = np.searchsorted(host_ns, [b.host_ns for b in blocks])
    for j, b in enumerate(blocks):
        p = int(pk[j])
        if p + 1 < n_pk and host_ns[p + 1] == host_ns[p]:
            q = p
            while q < n_pk and host_ns[q] == host_ns[p]:
                if not used[q] and _same_packet(decode(raw.payload(q)), b):
                    p = q
                    break
                q += 1
        pk[j] = p
        used[p] = True
        if b.seq is not None:
            seq[p] = b.seq
    counts = np.array([b.n for b in blocks])
    has_time = all(b.t_device is not None for b in blocks)
    total = int(counts.sum())
    mags = [b.mag for b in blocks]
    return DecodedSensor(
        acc=np.concatenate([b.acc for b in blocks]).astype(np.float64),
        gyr=np.concatenate([b.gyr for b in blocks]).astype(np.float64),
        t_device=(
            np.concatenate([b.t_device for b in blocks]).astype(np.float64)
            if has_time
            else np.full(total, np.nan)
        ),
        t_session=np.concatenate([b.t_session for b in blocks]).astype(np.float64),
        packet=np.repeat(pk.astype(np.int64), counts),
        seq=seq,
        decode_ok=used,
        mag=np.concatenate(mags) if all(m is not None for m in mags) else None,
    )
