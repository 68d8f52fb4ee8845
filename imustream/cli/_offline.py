"""Offline wiring shared by ``replay`` and ``analyze``: a recording's raw notifications ->
stream.Acquisition -> dsp.Pipeline, exactly the live path (no logic of its own beyond
summarising the steps)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import RecordingError
from ..types import STEP_FIELDS, Alert, Gap, InitialContact, Step, ToeOff


@dataclass
class OfflineResult:
    """Everything the pipeline produced for one recording."""

    path: Path
    sensors: list[str]
    rates: dict[str, float]
    steps: list[Step] = field(default_factory=list)
    events: list[InitialContact | ToeOff] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    duration: float = 0.0
    samples: dict[str, int] = field(default_factory=dict)

    def step_columns(self) -> dict[str, np.ndarray]:
        """Steps as columns (``STEP_FIELDS``)."""
        return {
            f: np.array([getattr(s, f) for s in self.steps], dtype=object if f == "side" else None)
            for f in STEP_FIELDS
        }


def build_acquisition(header: dict) -> tuple[Any, dict[str, float]]:
    """A stream.Acquisition configured from a recording's metadata (profiles and rates)."""
    from .. import profiles
    from ..stream.acquisition import Acquisition

    infos = header.get("sensor_info", {})
    profs, rates = {}, {}
    for sensor in header.get("sensors", []):
        info = infos.get(sensor, {})
        name = info.get("profile")
        if not name:
            raise RecordingError(f"sensor {sensor!r} has no firmware profile in the recording")
        opts = {k: info[k] for k in ("rate", "acc_range", "gyr_range") if info.get(k) is not None}
        profs[sensor] = profiles.get(name).with_options(**opts)
        rates[sensor] = float(info.get("rate") or profs[sensor].rate)
    # 0 is a valid origin (virtual clocks start at 0): only a missing t0_ns means "unset"
    t0_ns = header.get("t0_ns")
    origin_ns = None if t0_ns is None else int(t0_ns)
    return Acquisition(profs, rates, origin_ns=origin_ns), rates


def run_recording(
    path: str | os.PathLike,
    *,
    speed: float | None = None,
    thresholds: str = "runner",
    on_output: Callable[[list], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> OfflineResult:
    """Replay a recording through Acquisition and Pipeline.

    Parameters
    ----------
    speed : float or None
        None: as fast as possible; 1.0: real time.
    on_output : callable, optional
        Called with each non-empty list of new events/steps/alerts/gaps, as a live sink would.
    progress : callable, optional
        ``progress(done, total)`` notifications.
    """
    from ..dsp.pipeline import Pipeline
    from ..io.replay import ReplaySource

    src = ReplaySource(path, speed=speed)
    acq, rates = build_acquisition(src.header)
    pipe = Pipeline(rates, thresholds=thresholds)
    res = OfflineResult(Path(path), src.sensors, rates)
    t_lo, t_hi = np.inf, -np.inf

    def handle(items: Iterable) -> None:
        nonlocal t_lo, t_hi
        new: list = []
        for item in items:
            if isinstance(item, Gap):
                pipe.gap(item)
                res.gaps.append(item)
                new.append(item)
                continue
            if item.n == 0:
                continue
            t_lo, t_hi = min(t_lo, item.t_session[0]), max(t_hi, item.t_session[-1])
            res.samples[item.sensor] = res.samples.get(item.sensor, 0) + item.n
            out = pipe.process(item)
            res.events += out.events
            res.steps += out.steps
            res.alerts += out.alerts
            new += [*out.events, *out.steps, *out.alerts]
        if new and on_output is not None:
            on_output(new)

    total = src.n_notifications
    for i, item in enumerate(src.items()):
        handle(acq.handle(item))
        if progress is not None and (i % 500 == 0 or i == total - 1):
            progress(i + 1, total)
    handle(acq.flush())
    out = pipe.finish()
    res.events += out.events
    res.steps += out.steps
    res.alerts += out.alerts
    if on_output is not None and (out.events or out.steps or out.alerts):
        on_output([*out.events, *out.steps, *out.alerts])
    res.events.sort(key=lambda e: e.time)
    res.steps.sort(key=lambda s: s.ic_time)
    res.duration = float(t_hi - t_lo) if t_hi > t_lo else 0.0
    return res


#: per-step metrics summarised per side: (Step field, label, unit, scale)
SUMMARY_METRICS = (
    ("contact_time", "contact time", "ms", 1000.0),
    ("flight_time", "flight time", "ms", 1000.0),
    ("step_time", "step time", "ms", 1000.0),
    ("cadence", "cadence", "steps/min", 1.0),
    ("impact_peak", "impact peak", "m/s^2", 1.0),
    ("pelvic_drop_deg", "pelvic drop", "deg", 1.0),
)


def side_summary(steps: list[Step]) -> list[dict]:
    """Per metric: mean and SD per side, and the left/right comparison (SI % or R-L deg).

    Cadence compares the cadence of the steps of each side (60 / step time, so its SI is
    close to minus the step-time SI); NaN where a side has fewer than two values.
    """
    from ..dsp.asymmetry import compare

    rows = []
    for f, label, unit, scale in SUMMARY_METRICS:
        row = {"metric": f, "label": label, "unit": unit}
        vals = {}
        for side in ("left", "right"):
            v = np.array([getattr(s, f) for s in steps if s.side == side], np.float64)
            v = v[np.isfinite(v)]
            vals[side] = v
            row[f"{side}_n"] = int(v.size)
            row[f"{side}_mean"] = float(v.mean() * scale) if v.size else float("nan")
            row[f"{side}_sd"] = float(v.std(ddof=1) * scale) if v.size > 1 else float("nan")
        row["asymmetry"] = float("nan")
        row["asymmetry_unit"] = "deg R-L" if f == "pelvic_drop_deg" else "% SI"
        if vals["left"].size > 1 and vals["right"].size > 1:
            row["asymmetry"] = compare(f, vals["left"], vals["right"]).value
        rows.append(row)
    return rows


def asymmetry_over_time(steps: list[Step], window_s: float) -> list[dict]:
    """Contact-time SI (%) and pelvic drop per side in consecutive windows of ``window_s``."""
    if not steps:
        return []
    t = np.array([s.ic_time for s in steps])
    out = []
    start = float(t.min())
    while start <= t.max():
        sel = [s for s, ti in zip(steps, t, strict=True) if start <= ti < start + window_s]
        rows = {r["metric"]: r for r in side_summary(sel)}
        out.append(
            {
                "start": start,
                "end": start + window_s,
                "steps": len(sel),
                "contact_time_si_pct": rows["contact_time"]["asymmetry"],
                "pelvic_drop_left_deg": rows["pelvic_drop_deg"]["left_mean"],
                "pelvic_drop_right_deg": rows["pelvic_drop_deg"]["right_mean"],
                "cadence": rows["cadence"]["left_mean"]
                if rows["cadence"]["left_n"]
                else rows["cadence"]["right_mean"],
            }
        )
        start += window_s
    return out
