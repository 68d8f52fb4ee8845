"""``imustream replay``: play a recording back through the live pipeline."""

from __future__ import annotations

import argparse
from pathlib import Path

COMMAND = "replay"
HELP = "play a recording back through the live pipeline (real time or faster)"
DESCRIPTION = (
    "Feed a recording's raw notifications, with their original arrival times, through the "
    "same decoding, clock mapping, event detection, step assembly and asymmetry alerts as a "
    "live session, and print steps and alerts as they happen. --speed 1 is real time (the "
    "default), 4 is four times faster, 0 is as fast as possible."
)


def register(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``imustream replay``."""
    parser.add_argument("file", type=Path, metavar="FILE.h5", help="a recording")
    parser.add_argument(
        "--speed", type=float, default=1.0, help="playback speed (1 = real time, 0 = unpaced)"
    )
    parser.add_argument(
        "--thresholds", default="runner", choices=("runner", "clinic"), help="alert preset"
    )
    parser.add_argument("--quiet", action="store_true", help="print only alerts and the summary")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Replay; returns the exit code."""
    from rich.console import Console

    from ..errors import ConfigError
    from ..types import Alert, Gap, Step
    from ._offline import run_recording

    if args.speed < 0:
        raise ConfigError(f"--speed must be >= 0, got {args.speed}")
    con = Console()

    def show(items: list) -> None:
        for x in items:
            if isinstance(x, Alert):
                colour = "red" if x.active else "green"
                con.print(f"[{colour}]{x.time:8.2f} s  alert: {x.message}[/{colour}]")
            elif args.quiet:
                continue
            elif isinstance(x, Step):
                con.print(
                    f"{x.ic_time:8.2f} s  step {x.side:<5}  contact {x.contact_time * 1e3:5.0f} ms"
                    f"  cadence {x.cadence:5.1f}  pelvic drop {x.pelvic_drop_deg:5.1f}°"
                    + ("  (gap)" if x.has_gap else "")
                )
            elif isinstance(x, Gap):
                con.print(
                    f"[yellow]{x.start:8.2f} s  gap {x.sensor}: {x.n_missing} samples "
                    f"({x.reason})[/yellow]"
                )

    res = run_recording(
        args.file, speed=args.speed or None, thresholds=args.thresholds, on_output=show
    )
    con.print(
        f"replayed {res.path.name}: {res.duration:.1f} s, {sum(res.samples.values())} samples, "
        f"{len(res.steps)} steps, {len(res.alerts)} alert changes, {len(res.gaps)} gaps"
    )
    return 0
