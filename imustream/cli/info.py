"""``imustream info``: what a recording (or a session log) holds."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

COMMAND = "info"
HELP = "show what a recording (.h5) or session log (.imulog) holds"
DESCRIPTION = (
    "Summarise a recording: subject, start, duration, whether it ended normally or was "
    "recovered after a crash, per sensor the firmware profile, rate, samples, gaps and decode "
    "problems, and the number of events, steps, alerts and markers (markers are listed). "
    "For a session log (*.imulog) it shows whether it is complete or awaits `imustream "
    "recover`."
)


def register(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``imustream info``."""
    parser.add_argument("file", type=Path, metavar="FILE", help="a .h5 recording or .imulog log")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.set_defaults(func=run)


def log_summary(path: Path) -> dict:
    """Facts about a session log."""
    from ..io.logreader import read_log

    c = read_log(path)
    return {
        "file": str(path),
        "kind": "session log",
        "complete": c.end is not None,
        "end_reason": (c.end or {}).get("reason", "none: crashed or still recording"),
        "sensors": {s: {"notifications": r.n} for s, r in c.streams.items()},
        "damaged_bytes": c.dropped_bytes,
        "missing_records": c.missing_records,
        "records": {k: len(v) for k, v in c.records.items()},
    }


def h5_summary(path: Path) -> dict:
    """Facts about an HDF5 recording."""
    import numpy as np

    from ..io.session import open_session

    with open_session(path) as s:
        gaps = s.gaps
        sensors = {}
        for name, d in s.sensors.items():
            sel = gaps["sensor"] == name
            t = d.t_session if d.n else np.zeros(0)
            span = float(t[-1] - t[0]) if d.n > 1 else 0.0
            sensors[name] = {
                "profile": d.profile,
                "rate_hz": d.rate,
                "samples": d.n,
                "notifications": d.n_notifications,
                "effective_rate_hz": round((d.n - 1) / span, 2) if span > 0 else None,
                "gaps": int(sel.sum()),
                "missing_samples": int(gaps["n_missing"][sel].clip(0).sum()),
                "decode_problem": d.decode_problem,
            }
        m = s.markers
        return {
            "file": str(path),
            "kind": "recording",
            "schema": f"{s.attrs['schema']} v{s.attrs['schema_version']}",
            "subject": s.attrs.get("subject", ""),
            "created_utc": s.attrs.get("created_utc", ""),
            "software_version": s.attrs.get("software_version", ""),
            "duration_s": round(s.duration, 3),
            "complete": s.complete,
            "recovered": s.recovered,
            "end_reason": s.attrs.get("end_reason", ""),
            "sensors": sensors,
            "events": len(s.events["time"]),
            "steps": len(s.steps["ic_time"]),
            "alerts": len(s.alerts["time"]),
            "markers": [
                {"time": float(t), "kind": k, "value": float(v), "text": x}
                for t, k, v, x in zip(m["time"], m["kind"], m["value"], m["text"], strict=True)
            ],
        }


_SHORT = {
    "rate_hz": "Hz",
    "notifications": "packets",
    "effective_rate_hz": "got Hz",
    "missing_samples": "missing",
    "decode_problem": "problem",
}


def run(args: argparse.Namespace) -> int:
    """Print the summary; returns the exit code."""
    from rich.console import Console
    from rich.table import Table

    from ..errors import RecordingError
    from ..io.logformat import LOG_SUFFIX

    path: Path = args.file
    if not path.exists():
        raise RecordingError(f"no such file: {path}")
    info = log_summary(path) if path.suffix == LOG_SUFFIX else h5_summary(path)
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return 0
    con = Console()
    head = Table(show_header=False, box=None, title=f"{info['kind']}: {path}")
    for k, v in info.items():
        if k not in ("sensors", "markers", "file", "kind", "records"):
            head.add_row(k.replace("_", " "), str(v))
    if "records" in info:
        head.add_row("records", ", ".join(f"{k} {v}" for k, v in info["records"].items()))
    con.print(head)
    rows = info["sensors"]
    cols = [c for c in next(iter(rows.values()), {}) if any(r.get(c) for r in rows.values())]
    table = Table(title="sensors")
    table.add_column("sensor")
    for col in cols:
        table.add_column(_SHORT.get(col, col), justify="right")
    for name, row in rows.items():
        table.add_row(name, *("" if row[c] is None else str(row[c]) for c in cols))
    con.print(table)
    if info.get("markers"):
        mt = Table(title="markers")
        for col in ("time s", "kind", "value", "text"):
            mt.add_column(col)
        for m in info["markers"]:
            mt.add_row(f"{m['time']:.2f}", m["kind"], f"{m['value']:g}", m["text"])
        con.print(mt)
    return 0
