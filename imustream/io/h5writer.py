"""Write the HDF5 recording of a read session log (layout: recordings/README.md)."""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime

import h5py
import numpy as np

from ..errors import ImustreamError
from .decode import DecodedSensor, Decoder, decode_stream
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


def _decode_all(
    contents: LogContents, decoders: Mapping[str, Decoder] | None, t0_ns: int
) -> tuple[dict[str, DecodedSensor], dict[str, str], dict[str, dict], list[str]]:
    """Decode every sensor: through stream.Acquisition when its firmware profile is known
    (the live path), with an explicit decoder otherwise. Returns decoded sensors, problems,
    acquisition stats and warnings."""
    infos = contents.header.get("sensor_info", {})
    decoded: dict[str, DecodedSensor] = {}
    problems: dict[str, str] = {}
    warnings: list[str] = []
    profs: dict[str, object] = {}
    for sensor, raw in contents.streams.items():
        info = infos.get(sensor, {})
        if decoders and sensor in decoders:
            facts = dict(info.get("decode_facts", {}))
            decoded[sensor] = decode_stream(
                sensor,
                raw,
                decoders[sensor],
                t0_ns=t0_ns,
                rate=info.get("rate"),
                seq_bits=facts.get("seq_bits"),
                time_wrap_s=facts.get("time_wrap_s"),
            )
            continue
        prof, problem = _resolve_profile(info)
        if prof is None:
            problems[sensor] = problem
            if raw.n:
                warnings.append(f"{sensor}: raw notifications kept but not decoded ({problem})")
        else:
            profs[sensor] = prof
    stats: dict[str, dict] = {}
    if profs:
        from .acquire import decode_with_acquisition

        rates = {s: float(infos.get(s, {}).get("rate") or p.rate) for s, p in profs.items()}
        dec, stats = decode_with_acquisition(contents, profs, rates, t0_ns)
        decoded.update(dec)
    for sensor, d in decoded.items():
        raw = contents.streams[sensor]
        bad = raw.n - int(d.decode_ok.sum())
        if bad:
            warnings.append(
                f"{sensor}: {bad} notifications not decoded or dropped as duplicates "
                f"(raw bytes kept)"
            )
    return decoded, problems, stats, warnings


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


def _dataset(group: h5py.Group, name: str, data: np.ndarray) -> h5py.Dataset:
    data = np.asarray(data)
    row_bytes = max(1, data.itemsize * int(np.prod(data.shape[1:], dtype=np.int64)))
    rows = max(1, min(data.shape[0], (256 * 1024) // row_bytes))
    kw = {}
    if data.dtype.kind != "S":
        kw = {"shuffle": True, "compression": "gzip", "compression_opts": 4}
    return group.create_dataset(
        name,
        data=data,
        chunks=(rows, *data.shape[1:]),
        maxshape=(None, *data.shape[1:]),
        fletcher32=True,
        **kw,
    )


def _write_table(root: h5py.Group, name: str, rows: list[dict]) -> None:
    g = root.create_group(name)
    cols = TABLES[name]
    g.attrs["columns"] = [c for c, _ in cols]
    for col, kind in cols:
        _dataset(g, col, _column(kind, [r.get(col) for r in rows]))


def _gap_rows(
    contents: LogContents,
    decoded: dict[str, DecodedSensor],
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
        elif sensor in decoded:
            rows += [
                {
                    "sensor": g.sensor,
                    "start": g.start,
                    "end": g.end,
                    "n_missing": g.n_missing,
                    "reason": g.reason,
                    "source": "convert",
                }
                for g in decoded[sensor].gaps
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
            dec = decoded.get(s)
            per = float(np.median(np.bincount(dec.packet))) if dec is not None and dec.n else -1
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


def checksum(raw: RawStream, dec: DecodedSensor | None) -> int:
    crc = zlib.crc32(raw.data.tobytes())
    crc = zlib.crc32(raw.host_ns.tobytes(), crc)
    if dec is not None:
        crc = zlib.crc32(np.ascontiguousarray(dec.acc).tobytes(), crc)
        crc = zlib.crc32(np.ascontiguousarray(dec.gyr).tobytes(), crc)
    return crc


def write_session(
    contents: LogContents,
    h5_path: str | os.PathLike,
    *,
    decoders: Mapping[str, Decoder] | None = None,
) -> tuple[dict[str, int], list[str]]:
    """Write the HDF5 recording of a read log to ``h5_path`` (no temp/rename: see :func:`convert`).

    Returns per-sensor checksums (raw bytes, arrival times, decoded acc/gyr) and warnings.
    """
    header = contents.header
    t0_ns = int(header.get("t0_ns", 0))
    infos = header.get("sensor_info", {})
    decoded, problems, acq_stats, warnings = _decode_all(contents, decoders, t0_ns)

    sums: dict[str, int] = {}
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
        for sensor in header["sensors"]:
            raw = contents.streams[sensor]
            dec = decoded.get(sensor)
            g = sg.create_group(sensor)
            info = infos.get(sensor, {})
            link = _link_facts(contents, sensor)
            for key in ("profile", "address", "name", "firmware"):
                g.attrs[key] = str(info.get(key) or link.get(key) or "")
            g.attrs["rate"] = float(info.get("rate") or np.nan)
            if info.get("mounting") is not None:
                g.attrs["mounting"] = np.asarray(info["mounting"], np.float64)
            g.attrs["decoded"] = dec is not None
            g.attrs["decode_problem"] = problems.get(sensor, "")
            g.attrs["decode_errors"] = json.dumps(dec.decode_errors if dec else [])
            g.attrs["acquisition_stats_json"] = json.dumps(acq_stats.get(sensor, {}))
            r = g.create_group("raw")
            _dataset(r, "payload", raw.data)
            _dataset(r, "offsets", raw.offsets)
            _dataset(r, "host_ns", raw.host_ns)
            _dataset(r, "seq", dec.seq if dec else np.full(raw.n, -1, np.int64))
            ok = dec.decode_ok if dec else np.zeros(raw.n, bool)
            _dataset(r, "decode_ok", ok.astype(np.int8))
            if dec is None:
                dec_empty = DecodedSensor(
                    *(np.zeros((0, 3)),) * 2,
                    *(np.zeros(0),) * 2,
                    np.zeros(0, np.int64),
                    np.zeros(0, np.int64),
                    np.zeros(0, bool),
                )
                use = dec_empty
            else:
                use = dec
            _dataset(g, "acc", use.acc)
            _dataset(g, "gyr", use.gyr)
            _dataset(g, "t_device", use.t_device)
            _dataset(g, "t_session", use.t_session)
            _dataset(g, "packet", use.packet)
            if use.mag is not None:
                _dataset(g, "mag", use.mag)
            sums[sensor] = checksum(raw, dec)
        _write_table(f, "gaps", _gap_rows(contents, decoded, t0_ns, frozenset(acq_stats)))
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
