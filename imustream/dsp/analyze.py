"""analyze_run: a whole recording through the streaming Pipeline (same code as live)."""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..types import STEP_FIELDS, Alert, InitialContact, SampleBlock, Step, ToeOff

__all__ = ["StepTable", "analyze_run"]


@dataclass
class StepTable:
    """Per-step results of :func:`analyze_run`: ``table[field]`` is a 1-D numpy array.

    Fields are :data:`imustream.types.STEP_FIELDS` (``side`` as strings "left"/"right",
    times in s, ``cadence`` in steps/min, ``impact_peak`` in m/s^2, ``pelvic_drop_deg`` in
    degrees, NaN where not measurable; ``has_gap``/``clipped`` booleans). ``steps``,
    ``events`` and ``alerts`` hold the records the pipeline emitted.
    """

    steps: list[Step] = field(default_factory=list)
    events: list[InitialContact | ToeOff] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)

    fields = STEP_FIELDS

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in STEP_FIELDS:
            raise KeyError(f"no step field {name!r}; fields are {list(STEP_FIELDS)}")
        values = [getattr(s, name) for s in self.steps]
        if name == "side":
            return np.array(values, dtype="<U5")
        if name in ("has_gap", "clipped"):
            return np.array(values, dtype=bool)
        return np.array(values, dtype=np.float64)

    def to_dict(self) -> dict[str, np.ndarray]:
        """All fields as a dict of arrays (e.g. for ``pandas.DataFrame``)."""
        return {name: self[name] for name in STEP_FIELDS}


def _check_sensor(name: str, data, fs: float) -> tuple[np.ndarray, np.ndarray | None]:
    if not (isinstance(data, tuple | list) and len(data) == 2):
        raise ValueError(f"{name} must be a tuple (acc, gyr), got {type(data).__name__}")
    acc = np.asarray(data[0], dtype=np.float64)
    if acc.ndim != 2 or acc.shape[1] != 3:
        raise ValueError(f"{name} acc must have shape (N, 3) in m/s^2, got {acc.shape}")
    if acc.shape[0] < 2:
        raise ValueError(f"{name} acc has {acc.shape[0]} samples; need a recording")
    if not np.isfinite(acc).all():
        raise ValueError(f"{name} acc contains NaN or inf")
    gyr = None
    if data[1] is not None:
        gyr = np.asarray(data[1], dtype=np.float64)
        if gyr.shape != acc.shape:
            raise ValueError(
                f"{name} gyr must have the same shape as acc {acc.shape} (rad/s), got {gyr.shape}"
            )
        if not np.isfinite(gyr).all():
            raise ValueError(f"{name} gyr contains NaN or inf")
    return np.ascontiguousarray(acc), None if gyr is None else np.ascontiguousarray(gyr)


def analyze_run(
    fs: float | Mapping[str, float],
    pelvis: tuple[np.ndarray, np.ndarray | None] | None = None,
    shoe_left: tuple[np.ndarray, np.ndarray] | None = None,
    shoe_right: tuple[np.ndarray, np.ndarray] | None = None,
    *,
    thresholds: str | object = "runner",
    chunk: int = 64,
) -> StepTable:
    """Analyse a recorded run: steps with timing, impact, pelvic drop, plus events and alerts.

    The arrays are fed through :class:`~imustream.dsp.pipeline.Pipeline` in chunks, exactly
    as a live stream would be (so the result is what the live view showed).

    Parameters
    ----------
    fs : float or mapping
        Sampling rate in Hz (one for all sensors, or ``{"pelvis": 200.0, ...}``).
    pelvis, shoe_left, shoe_right : (acc, gyr) or None
        Sensor data, ``acc`` (N, 3) in m/s^2 and ``gyr`` (N, 3) in rad/s, any fixed mounting,
        all starting at the same instant. Shoes need the gyroscope; without a pelvis
        gyroscope (``gyr=None``) pelvic drop is NaN. At least one sensor is required.
    thresholds : str or AlertThresholds
        Alert preset name ("runner", "clinic") or thresholds.
    chunk : int
        Samples per block fed to the pipeline (results do not depend on it).

    Returns
    -------
    StepTable
        ``table["contact_time"]`` etc. (see :class:`StepTable`); ``table.alerts``,
        ``table.events``.
    """
    from .pipeline import Pipeline

    given = {"pelvis": pelvis, "shoe_left": shoe_left, "shoe_right": shoe_right}
    given = {k: v for k, v in given.items() if v is not None}
    if not given:
        raise ValueError("analyze_run needs at least one sensor: pelvis, shoe_left or shoe_right")
    if isinstance(fs, Mapping):
        missing = sorted(set(given) - set(fs))
        if missing:
            raise ValueError(f"fs has no rate for {missing}")
        rates = {k: fs[k] for k in given}
    else:
        rates = dict.fromkeys(given, fs)
    for k, r in rates.items():
        if (
            isinstance(r, bool)
            or not isinstance(r, int | float)
            or not (math.isfinite(r) and r > 0)
        ):
            raise ValueError(f"fs for {k} must be a positive number of Hz, got {r!r}")
    if not (isinstance(chunk, int) and chunk >= 1):
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
    data = {k: _check_sensor(k, v, float(rates[k])) for k, v in given.items()}
    for k, (_, gyr) in data.items():
        if gyr is None and k != "pelvis":
            raise ValueError(f"{k} needs a gyroscope (gyr is None)")

    pipe = Pipeline(
        rates, thresholds=thresholds, gyro={k: g is not None for k, (_, g) in data.items()}
    )
    table = StepTable()
    # feed chunks of all sensors in order of their first sample time
    heap = [(0.0, k, 0) for k in data]
    heapq.heapify(heap)
    while heap:
        _, k, i0 = heapq.heappop(heap)
        acc, gyr = data[k]
        i1 = min(i0 + chunk, len(acc))
        t = np.arange(i0, i1) / float(rates[k])
        g = gyr[i0:i1] if gyr is not None else np.zeros((i1 - i0, 3))
        out = pipe.process(SampleBlock(acc[i0:i1], g, sensor=k, t_session=t))
        table.steps += out.steps
        table.events += out.events
        table.alerts += out.alerts
        if i1 < len(acc):
            heapq.heappush(heap, (i1 / float(rates[k]), k, i1))
    out = pipe.finish()
    table.steps += out.steps
    table.events += out.events
    table.alerts += out.alerts
    table.events.sort(key=lambda e: e.time)
    return table
