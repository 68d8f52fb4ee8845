"""Write the HDF5 recording of a read session log (layout: recordings/README.md)."""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import h5py
import numpy as np

from ..errors import ImustreamError
from ..types import Gap
from .decode import Decoder, decode_stream
from .h5sink import SampleSink, dataset
from .layout import LIBVER, SCHEMA, SCHEMA_VERSION, TABLES
from .logreader import LogContents, RawStream


def _resolve_profile(info: dict) -> tuple[object | None, str]:
    """The sensor's firmware profile configured as recorded, or (None, why not)."""
    name = info.get("profile")
    if not name:
        return None, "no firmware profile recorded"
    try:
        from .. import profiles

        prof = profiles.get(name)
        opts = {k: info[k] for k in ("rate", "acc_range", "gyr_range") if info.get(k) is not None}
        if opts:
            prof = prof.with_options(**opts)
        return prof, ""
    except (ImustreamError, AttributeError, ImportError, TypeError) as exc:
        return None, f"firmware profile {name!r} unavailable: {exc}"


@dataclass
class _Decoded:
    """What decoding produced for one sensor, besides the samples in its sink."""

    seq: np.ndarray
    decode_ok: np.ndarray
    gaps: list[Gap]
    errors: list[str]


def _decode_into(
    contents: LogContents,
    sinks: dict[str, SampleSink],
    decoders: Mapping[str, Decoder] | None,
    t0_ns: int,
) -> tuple[dict[str, _Decoded], dict[str, str], dict[str, dict]]:
    """Decode every sensor into its sink: through stream.Acquisition when its firmware profile
    is known (the live path), with an explicit decoder otherwise. Returns per-sensor results,
    problems (sensors left undecoded) and acquisition statistics."""
    infos = contents.header.get("sensor_info", {})
    out: dict[str, _Decoded] = {}
    problems: dict[str, str] = {}
    profs: dict[str, object] = {}
    for sensor, raw in contents.streams.items():
        info = infos.get(sensor, {})
        if decoders and sensor in decoders:
            facts = dict(info.get("decode_facts", {}))
            d = decode_stream(
                sensor,
                raw,
                decoders[sensor],
                t0_ns=t0_ns,
                rate=info.get("rate"),
                seq_bits=facts.get("seq_bits"),
                time_wrap_s=facts.get("time_wrap_s"),
            )
            sinks[sensor].append(
                acc=d.acc,
                gyr=d.gyr,
                t_device=d.t_device,
                t_session=d.t_session,
                packet=d.packet,
                mag=d.mag,
            )
            sinks[sensor].flush()
            out[sensor] = _Decoded(d.seq, d.decode_ok, d.gaps, d.decode_errors)
            continue
        prof, problem = _resolve_profile(info)
        if prof is None:
            problems[sensor] = problem
        else:
            profs[sensor] = prof
    stats: dict[str, dict] = {}
    if profs:
        from .acquire import decode_with_acquisition

        rates = {s: float(infos.get(s, {}).get("rate") or p.rate) for s, p in profs.items()}
        acquired, stats = decode_with_acquisition(
            contents, profs, rates, t0_ns, {s: sinks[s] for s in profs}
        )
        for s, a in acquired.items():
            out[s] = _Decoded(a.seq, a.decode_ok, a.gaps, [])
    return out, problems, stats


def _column(kind: str, values: list) -> np.ndarray:
    if kind == "f":
        return np.array([np.nan if v is None else float(v) for v in values], np.float64)
    if kind == "i":
        return np.array([-1 if v is None else int(v) for v in values], np.int64)
    if kind == "b":
        return np.array([1 if v else 0 for v in values], np.int8)
    enc = [("" if v is None else str(v)).encode() for v in values]
    width = max([len(e) for e in enc] + [1])
    return np.array(enc, dtype=f"S{width}")


def _write_table(root: h5py.Group, name: str, rows: list[dict]) -> None:
    g = root.create_group(name)
    cols = TABLES[name]
    g.attrs["columns"] = [c for c, _ in cols]
    for col, kind in cols:
        dataset(g, col, _column(kind, [r.get(col) for r in rows]))


def _gap_rows(
    contents: LogContents,
    gaps: dict[str, list[Gap]],
    per_packet: dict[str, float],
    t0_ns: int,
    rederived: frozenset[str] = frozenset(),
) -> list[dict]:
    """The gaps table. Sensors in ``rederived`` were decoded by the live acquisition code at
    conversion: their gaps are the ones it found again (complete even after a crash, and equal
    to the live ones). For the others, gaps recorded live win over those from the counters."""
    live: dict[str, list[dict]] = {}
    for g in contents.records.get("gap", []):
        live.setdefault(str(g.get("sensor")), []).append({**g, "source": "live"})
    rows: list[dict] = []
    for sensor in contents.header["sensors"]:
        if sensor in live and sensor not in rederived:
            rows += live.pop(sensor)
        elif sensor in gaps:
            rows += [
                {
                    "sensor": g.sensor,
                    "start": g.start,
                    "end": g.end,
                    "n_missing": g.n_missing,
                    "reason": g.reason,
                    "source": "convert",
                }
                for g in gaps[sensor]
            ]
    for sensor, extra in live.items():
        if sensor not in rederived:
            rows += extra
    for ov in contents.records.get("overflow", []):
        s, a, b = (
            str(ov.get("sensor")),
            (ov["first_ns"] - t0_ns) / 1e9,
            (ov["last_ns"] - t0_ns) / 1e9,
        )
        hit = [
            r for r in rows if r["sensor"] == s and r["start"] <= b + 0.1 and r["end"] >= a - 0.1
        ]
        for r in hit:
            r["reason"] = "overflow"
        if not hit:
            per = per_packet.get(s, -1.0)
            rows.append(
                {
                    "sensor": s,
                    "start": a,
                    "end": b,
                    "n_missing": round(int(ov["n"]) * per) if per > 0 else -1,
                    "reason": "overflow",
                    "source": "recorder",
                }
            )
    rows.sort(key=lambda r: (r["start"], r["sensor"]))
    return rows


def _link_facts(contents: LogContents, sensor: str) -> dict:
    """Device facts (address, advertised name, battery, ...) the link reported in its states."""
    facts: dict = {}
    for r in contents.records.get("state", []):
        if r.get("sensor") == sensor and isinstance(r.get("extra"), dict):
            facts.update({k: v for k, v in r["extra"].items() if v is not None})
    return facts


def raw_checksum(raw: RawStream) -> int:
    """CRC-32 of a sensor's raw notification bytes followed by their arrival times."""
    return zlib.crc32(raw.host_ns.tobytes(), zlib.crc32(raw.data.tobytes()))


def write_session(
    contents: LogContents,
    h5_path: str | os.PathLike,
    *,
    decoders: Mapping[str, Decoder] | None = None,
) -> tuple[dict[str, tuple[int, int, int, int]], list[str]]:
    """Write the HDF5 recording of a read log to ``h5_path`` (no temp/rename: see ``convert``).

    Decoded samples are streamed into the file (memory stays bounded by the raw log).
    Returns per-sensor checksums ``(crc raw bytes + arrival times, crc acc, crc gyr, samples)``
    for the verification, and warnings.
    """
    header = contents.header
    t0_ns = int(header.get("t0_ns", 0))
    infos = header.get("sensor_info", {})
    sums: dict[str, tuple[int, int, int, int]] = {}
    warnings: list[str] = []
    with h5py.File(h5_path, "w", libver=LIBVER) as f:
        a = f.attrs
        a["schema"] = SCHEMA
        a["schema_version"] = SCHEMA_VERSION
        a["software_version"] = _version()
        a["converted_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
        a["session_id"] = str(header.get("session_id", ""))
        a["subject"] = str(header.get("subject", ""))
        a["created_utc"] = str(header.get("created_utc", ""))
        a["t0_ns"] = t0_ns
        a["sensors"] = [str(s) for s in header["sensors"]]
        a["complete"] = bool(contents.end is not None)
        a["recovered"] = bool(contents.end is None)
        a["end_reason"] = str((contents.end or {}).get("reason", "crashed (recovered)"))
        a["log_dropped_bytes"] = contents.dropped_bytes
        a["log_missing_records"] = contents.missing_records
        a["log_damage"] = json.dumps(contents.damage)
        a["metadata_json"] = json.dumps(header)
        a["end_json"] = json.dumps(contents.end or {})
        sg = f.create_group("sensors")
        groups = {s: sg.create_group(s) for s in header["sensors"]}
        sinks = {s: SampleSink(g) for s, g in groups.items()}
        decoded, problems, acq_stats = _decode_into(contents, sinks, decoders, t0_ns)
        per_packet: dict[str, float] = {}
        for sensor, g in groups.items():
            raw = contents.streams[sensor]
            dec = decoded.get(sensor)
            info = infos.get(sensor, {})
            link = _link_facts(contents, sensor)
            for key in ("profile", "address", "name", "firmware"):
                g.attrs[key] = str(info.get(key) or link.get(key) or "")
            g.attrs["rate"] = float(info.get("rate") or np.nan)
            if info.get("mounting") is not None:
                g.attrs["mounting"] = np.asarray(info["mounting"], np.float64)
            g.attrs["decoded"] = dec is not None
            g.attrs["decode_problem"] = problems.get(sensor, "")
            g.attrs["decode_errors"] = json.dumps(dec.errors if dec else [])
            g.attrs["acquisition_stats_json"] = json.dumps(acq_stats.get(sensor, {}))
            ok = dec.decode_ok if dec else np.zeros(raw.n, bool)
            r = g.create_group("raw")
            dataset(r, "payload", raw.data)
            dataset(r, "offsets", raw.offsets)
            dataset(r, "host_ns", raw.host_ns)
            dataset(r, "seq", dec.seq if dec else np.full(raw.n, -1, np.int64))
            dataset(r, "decode_ok", ok.astype(np.int8))
            sink = sinks[sensor]
            if ok.any():
                per_packet[sensor] = sink.n / float(ok.sum())
            if dec is None and raw.n:
                warnings.append(
                    f"{sensor}: raw notifications kept but not decoded ({problems.get(sensor, '')})"
                )
            elif raw.n - int(ok.sum()):
                warnings.append(
                    f"{sensor}: {raw.n - int(ok.sum())} notifications not decoded or dropped "
                    f"as duplicates (raw bytes kept)"
                )
            sums[sensor] = (raw_checksum(raw), sink.crc_acc, sink.crc_gyr, sink.n)
        gaps = {s: d.gaps for s, d in decoded.items()}
        rederived = frozenset(acq_stats)
        _write_table(f, "gaps", _gap_rows(contents, gaps, per_packet, t0_ns, rederived))
        _write_table(f, "events", contents.records.get("event", []))
        _write_table(f, "steps", contents.records.get("step", []))
        _write_table(f, "alerts", contents.records.get("alert", []))
        _write_table(f, "markers", contents.records.get("marker", []))
        states = [
            {
                **s,
                "time": (int(s.get("host_ns", t0_ns)) - t0_ns) / 1e9,
                "extra_json": json.dumps(s.get("extra") or {}),
            }
            for s in contents.records.get("state", [])
        ]
        _write_table(f, "states", states)
        clock = f.create_group("clock")
        clock.attrs["records_json"] = json.dumps(contents.records.get("clock", []))
    return sums, warnings


def _version() -> str:
    from .. import __version__

    return __version__
