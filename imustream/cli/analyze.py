"""``imustream analyze``: per-step table, session summary and asymmetry over time."""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

COMMAND = "analyze"
HELP = "analyse recordings: steps, left/right summary, asymmetry over time, CSV export"
DESCRIPTION = (
    "Re-run the gait pipeline over one or more recordings, from the raw notifications through "
    "the same decoding, clock mapping and detectors as a live session, and print per recording "
    "the left/right summary (contact, flight and step time, cadence, impact peak, pelvic drop, "
    "with the symmetry index or the R-L drop difference), asymmetry over time windows and the "
    "alerts. --steps prints every step; --csv DIR writes <name>_steps.csv, <name>_summary.csv "
    "and <name>_asymmetry.csv for each recording."
)


def register(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``imustream analyze``."""
    parser.add_argument("files", type=Path, nargs="+", metavar="FILE.h5", help="recordings")
    parser.add_argument("--steps", action="store_true", help="print the per-step table")
    parser.add_argument(
        "--window", type=float, default=60.0, metavar="S", help="asymmetry window in s (60)"
    )
    parser.add_argument(
        "--thresholds",
        default="runner",
        choices=("runner", "clinic"),
        help="alert threshold preset (default runner)",
    )
    parser.add_argument("--csv", type=Path, metavar="DIR", help="write CSV files into DIR")
    parser.set_defaults(func=run)


def _fmt(v: float, digits: int = 1) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def _asymmetry_cell(row: dict) -> str:
    """The summary's asymmetry cell: value and unit, or why there is none."""
    if math.isnan(row["asymmetry"]):
        return "n/a (< 2 per side)"
    return f"{_fmt(row['asymmetry'])} {row['asymmetry_unit']}"


def _write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as fh:
        if not rows:
            return
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def run(args: argparse.Namespace) -> int:
    """Analyse every file; returns the exit code (1 if any file failed)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.table import Table

    from ..errors import ConfigError, ImustreamError
    from ..types import STEP_FIELDS
    from ._offline import asymmetry_over_time, run_recording, side_summary

    if not args.window > 0:
        raise ConfigError(f"--window must be > 0 s, got {args.window}")
    if args.csv is not None:
        args.csv.mkdir(parents=True, exist_ok=True)
    con = Console()
    results, failed = [], []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeRemainingColumn(),
        console=con,
        transient=True,
    ) as prog:
        overall = prog.add_task("recordings", total=len(args.files))
        for path in args.files:
            task = prog.add_task(f"  {path.name}", total=1)

            def progress(done: int, total: int, task: int = task) -> None:
                prog.update(task, completed=done, total=total)

            try:
                results.append(run_recording(path, thresholds=args.thresholds, progress=progress))
            except (ImustreamError, OSError) as exc:
                failed.append((path, str(exc)))
            prog.remove_task(task)
            prog.advance(overall)

    for res in results:
        con.rule(f"{res.path.name}: {res.duration:.1f} s, {len(res.steps)} steps")
        summary = side_summary(res.steps)
        t = Table(title="left / right summary")
        for col in ("metric", "unit", "left", "right", "asymmetry"):
            t.add_column(col, justify="left" if col in ("metric", "unit") else "right")
        for r in summary:
            t.add_row(
                r["label"],
                r["unit"],
                f"{_fmt(r['left_mean'])} ± {_fmt(r['left_sd'])} (n={r['left_n']})",
                f"{_fmt(r['right_mean'])} ± {_fmt(r['right_sd'])} (n={r['right_n']})",
                _asymmetry_cell(r),
            )
        con.print(t)
        windows = asymmetry_over_time(res.steps, args.window)
        if len(windows) > 1:
            w = Table(title=f"asymmetry over time ({args.window:g} s windows)")
            for col in ("from s", "steps", "contact SI %", "drop L deg", "drop R deg", "cadence"):
                w.add_column(col, justify="right")
            for r in windows:
                w.add_row(
                    f"{r['start']:.0f}",
                    str(r["steps"]),
                    _fmt(r["contact_time_si_pct"]),
                    _fmt(r["pelvic_drop_left_deg"]),
                    _fmt(r["pelvic_drop_right_deg"]),
                    _fmt(r["cadence"], 0),
                )
            con.print(w)
        gaps = sum(g.n_missing for g in res.gaps)
        con.print(f"gaps: {len(res.gaps)} ({gaps} samples missing)")
        for a in res.alerts:
            state = "[red]ON [/red]" if a.active else "[green]off[/green]"
            con.print(f"alert {state} t={a.time:7.2f} s  {a.message}")
        step_rows = [{f: getattr(s, f) for f in STEP_FIELDS} for s in res.steps]
        if args.steps:
            st = Table(title="steps")
            for f in STEP_FIELDS:
                st.add_column(f, justify="right")
            for r in step_rows:
                st.add_row(*(v if isinstance(v, str) else _fmt(float(v), 3) for v in r.values()))
            con.print(st)
        if args.csv is not None:
            stem = res.path.stem
            _write_csv(args.csv / f"{stem}_steps.csv", step_rows)
            _write_csv(args.csv / f"{stem}_summary.csv", summary)
            _write_csv(args.csv / f"{stem}_asymmetry.csv", windows)
            con.print(f"CSV written to {args.csv}/{stem}_*.csv")
    for path, msg in failed:
        con.print(f"[red]{path}: {msg}[/red]")
    return 1 if failed else 0
