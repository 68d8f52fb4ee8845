"""Offline entry points over whole recordings (the same streaming code as live analysis)."""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from ..types import STEP_FIELDS, Alert, InitialContact, SampleBlock, Step, ToeOff

__all__ = ["DetectedEvents", "StepTable", "analyze_run", "detect_events"]


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


def _check_sensor(name: str, data, fs: float):
    """Check ``(acc, gyr)`` or ``(acc, gyr, t)``; contiguous arrays back (t made if absent)."""
    if not (isinstance(data, tuple | list) and len(data) in (2, 3)):
        raise ValueError(
            f"{name} must be a tuple (acc, gyr) or (acc, gyr, t), got {type(data).__name__}"
        )
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
    if len(data) == 3 and data[2] is not None:
        t = np.asarray(data[2], dtype=np.float64)
        if t.shape != (acc.shape[0],):
            raise ValueError(f"{name} t must have shape ({acc.shape[0]},), got {t.shape}")
        if not (np.isfinite(t).all() and (np.diff(t) > 0).all()):
            raise ValueError(f"{name} t must be finite and strictly increasing")
    else:
        t = np.arange(acc.shape[0]) / fs
    gyr = None if gyr is None else np.ascontiguousarray(gyr)
    return np.ascontiguousarray(acc), gyr, np.ascontiguousarray(t)


def analyze_run(
    fs: float | Mapping[str, float],
    pelvis: tuple | None = None,
    shoe_left: tuple | None = None,
    shoe_right: tuple | None = None,
    *,
    thresholds: str | object = "runner",
    chunk: int = 64,
) -> StepTable:
    """Analyse a recorded run: steps with timing, impact, pelvic drop, plus events and alerts.

    The arrays are fed through :class:`~imustream.dsp.pipeline.Pipeline` in chunks, in time
    order, exactly as a live stream would be (so the result is what the live view showed).

    Parameters
    ----------
    fs : float or mapping
        Sampling rate in Hz (one for all sensors, or ``{"pelvis": 200.0, ...}``).
    pelvis, shoe_left, shoe_right : (acc, gyr) or (acc, gyr, t), or None
        Sensor data, ``acc`` (N, 3) in m/s^2 and ``gyr`` (N, 3) in rad/s, any fixed mounting;
        optional ``t`` (N,) sample times in s on a clock shared by all sensors (default
        ``arange(N) / fs``: all sensors start at the same instant at their nominal rate).
        Shoes need the gyroscope; without a pelvis gyroscope (``gyr=None``) pelvic drop is
        NaN. At least one sensor is required.
    thresholds : str or AlertThresholds
        Alert preset name ("runner", "clinic") or thresholds.
    chunk : int
        Samples per block fed to the pipeline (results do not depend on it).

    Returns
    -------
    StepTable
        ``table["contact_time"]`` etc. (see :class:`StepTable`); ``table.alerts``,
        ``table.events``.

    Raises
    ------
    ValueError
        No sensor, a bad rate, wrong array shapes, NaN/inf, or a shoe without gyroscope.
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
        ok = isinstance(r, int | float) and not isinstance(r, bool)
        if not (ok and math.isfinite(r) and r > 0):
            raise ValueError(f"fs for {k} must be a positive number of Hz, got {r!r}")
    if not (isinstance(chunk, int) and chunk >= 1):
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
    data = {k: _check_sensor(k, v, float(rates[k])) for k, v in given.items()}
    for k, (_, gyr, _) in data.items():
        if gyr is None and k != "pelvis":
            raise ValueError(f"{k} needs a gyroscope (gyr is None)")

    has_gyr = {k: g is not None for k, (_, g, _) in data.items()}
    pipe = Pipeline(rates, thresholds=thresholds, gyro=has_gyr)
    table = StepTable()
    # feed chunks of all sensors in the order of their first sample time
    heap = [(float(t[0]), k, 0) for k, (_, _, t) in data.items()]
    heapq.heapify(heap)
    while heap:
        _, k, i0 = heapq.heappop(heap)
        acc, gyr, t = data[k]
        i1 = min(i0 + chunk, len(acc))
        g = gyr[i0:i1] if gyr is not None else np.zeros((i1 - i0, 3))
        out = pipe.process(SampleBlock(acc[i0:i1], g, sensor=k, t_session=t[i0:i1]))
        table.steps += out.steps
        table.events += out.events
        table.alerts += out.alerts
        if i1 < len(acc):
            heapq.heappush(heap, (float(t[i1]), k, i1))
    out = pipe.finish()
    table.steps += out.steps
    table.events += out.events
    table.alerts += out.alerts
    table.events.sort(key=lambda e: e.time)
    return table


# --- detect_events (gait-event detection room) ---

PLACEMENTS = ("shoe", "pelvis")


@dataclass(frozen=True)
class DetectedEvents:
    """Gait events of one sensor, times in seconds from its first sample.

    Attributes
    ----------
    ic_times, to_times : ndarray of float64
        Initial contacts and toe-offs, increasing.
    ic_sides, to_sides : ndarray of str (``"left"``/``"right"``/``"None"``) or None
        Stance side per event for a pelvis sensor with three accelerometer axes (``"None"``
        for an event emitted before the forward direction was learnt); ``None`` for a shoe
        and for a pelvis accelerometer with a missing axis.
    ic_latency, to_latency : ndarray of float64
        Algorithmic latency per event in seconds: when the streaming detector emitted it
        minus the event time.
    missing_acc_axes : tuple of int
        Accelerometer columns that were all NaN and treated as not recorded.
    """

    ic_times: np.ndarray
    to_times: np.ndarray
    ic_sides: np.ndarray | None
    to_sides: np.ndarray | None
    ic_latency: np.ndarray
    to_latency: np.ndarray
    placement: str
    fs: float
    missing_acc_axes: tuple[int, ...] = ()


def _check_event_inputs(acc, gyr, fs, placement):
    if placement not in PLACEMENTS:
        raise ValueError(f"placement must be one of {PLACEMENTS}, got {placement!r}")
    try:
        fs = float(fs)
    except (TypeError, ValueError):
        raise ValueError(f"fs must be a number of Hz, got {fs!r}") from None
    if not (np.isfinite(fs) and fs > 0):
        raise ValueError(f"fs must be > 0 Hz, got {fs!r}")
    a = np.asarray(acc, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 3:
        raise ValueError(f"acc must have shape (N, 3), got {np.shape(acc)}")
    missing = tuple(int(c) for c in np.flatnonzero(np.isnan(a).all(axis=0))) if len(a) else ()
    if len(missing) == 3:
        raise ValueError("acc has no recorded axis: all three columns are NaN")
    present = [c for c in range(3) if c not in missing]
    bad = ~np.isfinite(a[:, present]).all(axis=1)
    if bad.any():
        raise ValueError(
            f"acc has {int(bad.sum())} rows with NaN/inf in recorded columns (first at row "
            f"{int(np.flatnonzero(bad)[0])}); only whole missing columns are allowed"
        )
    g = None
    if gyr is not None:
        g = np.asarray(gyr, dtype=np.float64)
        if g.shape != a.shape:
            raise ValueError(f"gyr must have the shape of acc {a.shape}, got {np.shape(gyr)}")
        bad = ~np.isfinite(g).all(axis=1)
        if bad.any():
            raise ValueError(
                f"gyr has {int(bad.sum())} rows with NaN/inf (first at row "
                f"{int(np.flatnonzero(bad)[0])})"
            )
    elif placement == "shoe":
        raise ValueError("placement='shoe' needs a gyroscope: gyr must not be None")
    return a, g, fs, missing


def detect_events(
    acc: ArrayLike, gyr: ArrayLike | None, fs: float, placement: str = "shoe"
) -> DetectedEvents:
    """Detect initial contacts and toe-offs in a whole recording of one sensor.

    The arrays are fed through the streaming detector (:class:`ShoeEventDetector` or
    :class:`PelvisEventDetector`), so offline results equal live results.

    Parameters
    ----------
    acc : array_like, shape (N, 3)
        Specific force in m/s^2, any fixed mounting orientation. A column that is entirely
        NaN is treated as an axis the sensor does not record (e.g. a biaxial accelerometer).
    gyr : array_like, shape (N, 3), or None
        Angular rate in rad/s. Required for ``placement="shoe"``; optional for the pelvis
        (sides come from the accelerometer: they need all three axes).
    fs : float
        Sampling rate in Hz (> 0).
    placement : {"shoe", "pelvis"}
        Where the sensor is worn.

    Returns
    -------
    DetectedEvents

    Raises
    ------
    ValueError
        For a bad placement, fs, array shape, or NaN/inf outside whole missing columns.
    """
    a, g, fs, missing = _check_event_inputs(acc, gyr, fs, placement)
    if placement == "shoe":
        from .shoe_events import ShoeEventDetector

        shoe = ShoeEventDetector(fs)
        raw = [(k, i, None, e) for k, i, e in shoe.process(a, g) + shoe.flush()]
    else:
        from .pelvis_events import PelvisEventDetector

        det = PelvisEventDetector(fs, has_gyr=g is not None, missing_acc_axes=missing)
        raw = det.process(a, g) + det.flush()
    out = {}
    for kind in ("ic", "to"):
        evs = sorted((e for e in raw if e[0] == kind), key=lambda e: e[1])
        idx = np.array([e[1] for e in evs], dtype=np.float64)
        lat = np.array([e[3] - e[1] for e in evs], dtype=np.float64) / fs
        sides = None
        if placement == "pelvis" and not missing:
            sides = np.array([e[2] for e in evs], dtype="<U5")
        out[kind] = (idx / fs, sides, lat)
    return DetectedEvents(
        ic_times=out["ic"][0],
        to_times=out["to"][0],
        ic_sides=out["ic"][1],
        to_sides=out["to"][1],
        ic_latency=out["ic"][2],
        to_latency=out["to"][2],
        placement=placement,
        fs=fs,
        missing_acc_axes=missing,
    )
