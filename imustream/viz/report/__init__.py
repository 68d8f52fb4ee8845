"""Session reports a therapist can send to a runner: one self-contained HTML file."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from .data import AlertSpan, ReportData, SideStats, load_report_data

__all__ = [
    "AlertSpan",
    "ReportData",
    "SideStats",
    "build_report",
    "load_report_data",
]


def build_report(
    recordings: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    labels: Sequence[str] | None = None,
) -> Path:
    """Write the report of one recording, or a side-by-side comparison of several.

    Parameters
    ----------
    recordings : sequence of path-like
        HDF5 recordings (``imustream.open_session``); two or more give a comparison.
    out : path-like
        The ``.html`` file to write.
    labels : sequence of str, optional
        Column titles of a comparison (default ``A: <file>``, ``B: <file>``).

    Returns
    -------
    Path
        ``out``.
    """
    from .html import render_comparison, render_report

    if not recordings:
        raise ValueError("build_report needs at least one recording")
    data = [load_report_data(p) for p in recordings]
    html = render_report(data[0]) if len(data) == 1 else render_comparison(data, labels)
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    return out
