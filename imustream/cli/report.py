"""``imustream report``: an HTML report of a recording, or two recordings side by side."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

COMMAND = "report"
HELP = "write a self-contained HTML report of a recording (two files: compare them)"
DESCRIPTION = (
    "Write a report a therapist can send to a runner: pelvic drop distribution per side, "
    "contact-time balance, asymmetry alerts and markers over time, session summary and data "
    "quality, with the figures embedded (one .html file, no other files). Give two "
    "recordings (e.g. before and after rehab) to compare them side by side."
)


def register(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``imustream report``."""
    parser.add_argument(
        "recordings",
        nargs="+",
        type=Path,
        metavar="FILE.h5",
        help="recording(s); two or more are compared side by side",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="output .html (default: next to the first recording, "
        "<name>.report.html or <a>_vs_<b>.html)",
    )
    parser.add_argument(
        "--labels",
        nargs="+",
        default=None,
        metavar="LABEL",
        help="column titles of a comparison, e.g. --labels before after",
    )
    parser.set_defaults(func=run)


def default_output(recordings: list[Path]) -> Path:
    """Where the report goes when ``--output`` is not given."""
    first = recordings[0]
    if len(recordings) == 1:
        return first.with_name(first.stem + ".report.html")
    return first.with_name("_vs_".join(p.stem for p in recordings) + ".html")


def run(args: argparse.Namespace) -> int:
    """Write the report; returns the exit code."""
    from ..errors import ConfigError

    if args.labels is not None and len(args.labels) != len(args.recordings):
        raise ConfigError(
            f"--labels: got {len(args.labels)} label(s) for {len(args.recordings)} recording(s)"
        )
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from ..viz.report import build_report

    out = args.output or default_output(args.recordings)
    build_report(args.recordings, out, labels=args.labels)
    print(f"report written to {out}", file=sys.stderr)
    return 0
