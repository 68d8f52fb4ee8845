"""``imustream recover``: convert session logs left by a crash into HDF5 recordings."""

from __future__ import annotations

import argparse
from pathlib import Path

COMMAND = "recover"
HELP = "convert crashed or unconverted session logs (*.imulog) in a folder to HDF5"
DESCRIPTION = (
    "Find every session log (*.imulog) in DIR that has not been converted - the recording "
    "crashed, the machine lost power, or the conversion was interrupted - and convert it into "
    "its .h5 file: a torn last record is dropped, never turned into data; the log is removed "
    "only after the HDF5 file has been verified. Logs still being written by a running "
    "recorder are left alone. Exit code 1 if any log could not be recovered."
)


def register(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``imustream recover``."""
    parser.add_argument("dir", type=Path, metavar="DIR", help="folder holding the recordings")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Recover and print one line per log; returns the exit code."""
    from rich.console import Console
    from rich.table import Table

    from ..io.recover import recover

    outcomes = recover(args.dir)
    con = Console()
    if not outcomes:
        con.print(f"nothing to recover in {args.dir}")
        return 0
    table = Table(title=f"recovery of {args.dir}")
    for col in ("log", "action", "result", "details"):
        table.add_column(col)
    for o in outcomes:
        result = ""
        if o.result is not None:
            n = sum(o.result.samples.values())
            result = f"{o.result.h5_path.name} ({n} samples)"
            if o.result.warnings:
                o.message += "; " + "; ".join(o.result.warnings)
        table.add_row(o.log_path.name, o.action, result, o.message)
    con.print(table)
    return 1 if any(o.action == "failed" for o in outcomes) else 0
