"""What a session report shows: the recorded tables and the numbers derived from them."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...types import SIDES, STEP_FIELDS, Side

__all__ = ["AlertSpan", "ReportData", "SideStats", "alert_spans", "load_report_data"]

_NAN = float("nan")


def _finite(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return a[np.isfinite(a)]


def _mean(a: np.ndarray) -> float:
    a = _finite(a)
    return float(a.mean()) if a.size else _NAN


def _sd(a: np.ndarray) -> float:
    a = _finite(a)
    return float(a.std(ddof=1)) if a.size > 1 else _NAN


def _pct(a: np.ndarray, q: float) -> float:
    a = _finite(a)
    return float(np.percentile(a, q)) if a.size else _NAN


@dataclass(frozen=True, slots=True)
class SideStats:
    """Per-side step statistics (times in s, drop in degrees, impact in m/s^2)."""

    side: Side
    n_steps: int
    contact_time_mean: float
    contact_time_sd: float
    step_time_mean: float
    drop_mean: float
    drop_sd: float
    drop_median: float
    drop_p90: float
    impact_peak_mean: float


@dataclass(frozen=True, slots=True)
class AlertSpan:
    """An interval during which one (metric, side) alert was on."""

    metric: str
    side: str
    start: float
    end: float
    message: str
    open_at_end: bool


@dataclass
class ReportData:
    """One session's tables (columns as arrays) plus metadata.

    Build it with :func:`load_report_data` from a recording, or directly from arrays.
    ``steps`` holds the :data:`~imustream.types.STEP_FIELDS` columns; ``alerts``,
    ``markers`` and ``gaps`` the columns of the HDF5 tables of the same names.
    """

    name: str
    steps: dict[str, np.ndarray]
    alerts: dict[str, np.ndarray] = field(default_factory=dict)
    markers: dict[str, np.ndarray] = field(default_factory=dict)
    gaps: dict[str, np.ndarray] = field(default_factory=dict)
    t_start: float = 0.0
    t_end: float = _NAN
    sensors: tuple[str, ...] = ()
    metadata: dict = field(default_factory=dict)
    complete: bool = True
    recovered: bool = False

    def __post_init__(self) -> None:
        missing = [f for f in ("side", "ic_time") if f not in self.steps]
        if missing:
            raise ValueError(f"ReportData {self.name!r}: steps lack column(s) {missing}")
        n = len(self.steps["side"])
        for f in STEP_FIELDS:
            col = self.steps.get(f)
            if col is None:
                self.steps[f] = np.full(n, _NAN)
            elif len(col) != n:
                raise ValueError(
                    f"ReportData {self.name!r}: steps column {f!r} has {len(col)} rows, "
                    f"'side' has {n}"
                )
        self.steps["side"] = np.asarray(self.steps["side"]).astype(str)
        if not math.isfinite(self.t_end):
            ic = _finite(self.steps["ic_time"])
            self.t_end = float(ic.max()) if ic.size else self.t_start

    @property
    def duration(self) -> float:
        """Session length in seconds."""
        return max(0.0, self.t_end - self.t_start)

    @property
    def n_steps(self) -> int:
        """Number of steps."""
        return len(self.steps["side"])

    def side_mask(self, side: Side) -> np.ndarray:
        """Boolean mask of the steps on ``side``."""
        return self.steps["side"] == side

    def side_stats(self, side: Side) -> SideStats:
        """Statistics of the steps on ``side``."""
        m = self.side_mask(side)
        s = {k: np.asarray(v)[m] for k, v in self.steps.items()}
        return SideStats(
            side=side,
            n_steps=int(m.sum()),
            contact_time_mean=_mean(s["contact_time"]),
            contact_time_sd=_sd(s["contact_time"]),
            step_time_mean=_mean(s["step_time"]),
            drop_mean=_mean(s["pelvic_drop_deg"]),
            drop_sd=_sd(s["pelvic_drop_deg"]),
            drop_median=_pct(s["pelvic_drop_deg"], 50),
            drop_p90=_pct(s["pelvic_drop_deg"], 90),
            impact_peak_mean=_mean(s["impact_peak"]),
        )

    @property
    def contact_balance(self) -> tuple[float, float]:
        """Left and right share (%) of the summed mean contact times over the session."""
        left, right = (self.side_stats(s).contact_time_mean for s in SIDES)
        total = left + right
        if not total > 0:
            return _NAN, _NAN
        return 100.0 * left / total, 100.0 * right / total

    @property
    def cadence(self) -> float:
        """Median cadence in steps/min (from step cadence, else from IC intervals)."""
        c = _finite(self.steps["cadence"])
        if c.size:
            return float(np.median(c))
        dt = np.diff(np.sort(_finite(self.steps["ic_time"])))
        dt = dt[dt > 0]
        return float(60.0 / np.median(dt)) if dt.size else _NAN

    @property
    def n_steps_with_gap(self) -> int:
        """Steps that overlap missing data."""
        return int(np.count_nonzero(np.asarray(self.steps["has_gap"], dtype=np.float64) > 0))

    @property
    def n_steps_clipped(self) -> int:
        """Steps with a clipped accelerometer sample."""
        return int(np.count_nonzero(np.asarray(self.steps["clipped"], dtype=np.float64) > 0))

    def gap_seconds(self) -> dict[str, float]:
        """Total missing seconds per sensor."""
        out: dict[str, float] = {s: 0.0 for s in self.sensors}
        if not self.gaps or len(self.gaps.get("sensor", ())) == 0:
            return out
        for s, a, b in zip(self.gaps["sensor"], self.gaps["start"], self.gaps["end"], strict=True):
            out[str(s)] = out.get(str(s), 0.0) + max(0.0, float(b) - float(a))
        return out

    def compare_sides(self, metric: str):
        """Whole-session left/right comparison of a Step field with its 95 % CI
        (``dsp.asymmetry.compare``: SI in % or, for ``pelvic_drop_deg``, right - left in
        degrees), or None with fewer than 2 finite values per side."""
        from ...dsp.asymmetry import compare

        left = _finite(self.steps[metric][self.side_mask("left")])
        right = _finite(self.steps[metric][self.side_mask("right")])
        if left.size < 2 or right.size < 2:
            return None
        return compare(metric, left, right)

    def alert_spans(self) -> list[AlertSpan]:
        """On/off alert intervals (see :func:`alert_spans`)."""
        return alert_spans(self.alerts, self.t_end)


def alert_spans(alerts: dict[str, np.ndarray], t_end: float) -> list[AlertSpan]:
    """Pair each alert's on and off records per (metric, side) into intervals.

    An alert still on at the end of the recording lasts until ``t_end``.
    """
    if not alerts or len(alerts.get("time", ())) == 0:
        return []
    order = np.argsort(np.asarray(alerts["time"], dtype=np.float64), kind="stable")
    open_: dict[tuple[str, str], tuple[float, str]] = {}
    spans: list[AlertSpan] = []
    for i in order:
        key = (str(alerts["metric"][i]), str(alerts["side"][i]))
        t = float(alerts["time"][i])
        if bool(alerts["active"][i]):
            open_.setdefault(key, (t, str(alerts["message"][i])))
        elif key in open_:
            start, msg = open_.pop(key)
            spans.append(AlertSpan(key[0], key[1], start, t, msg, False))
    for key, (start, msg) in open_.items():
        spans.append(AlertSpan(key[0], key[1], start, max(start, t_end), msg, True))
    spans.sort(key=lambda s: s.start)
    return spans


def load_report_data(path: str | os.PathLike) -> ReportData:
    """Read a recording (``imustream.open_session``) into :class:`ReportData`.

    Raises
    ------
    RecordingError
        If the file is not a readable imustream recording.
    """
    from ...io.session import open_session

    path = Path(path)
    with open_session(path) as s:
        t0, t1 = math.inf, -math.inf
        for d in s.sensors.values():
            if d.n:
                t = d.t_session
                t0, t1 = min(t0, float(t[0])), max(t1, float(t[-1]))
        steps = s.steps
        if not math.isfinite(t0):  # no samples at all: fall back to the step times
            ic = _finite(steps["ic_time"])
            t0, t1 = (float(ic.min()), float(ic.max())) if ic.size else (0.0, 0.0)
        return ReportData(
            name=path.name,
            steps=dict(steps),
            alerts=dict(s.alerts),
            markers=dict(s.markers),
            gaps=dict(s.gaps),
            t_start=t0,
            t_end=t1,
            sensors=tuple(s.sensor_names),
            metadata=dict(s.metadata),
            complete=s.complete,
            recovered=s.recovered,
        )
