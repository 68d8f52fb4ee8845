"""A seeded synthetic feed of real record types for exercising the dashboard.

It is not a gait model (that is ``imustream.sim``): it produces plausible-looking IMU
blocks for three sensors, the IC/TO events and :class:`~imustream.types.Step` records
with chosen per-side contact times and pelvic drops, so the GUI can be tested and
benchmarked on its own. Alerts come from feeding the steps to an alert monitor
(``dsp.asymmetry.AsymmetryMonitor``) when one is given.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..types import InitialContact, SampleBlock, Sensor, Side, Step, ToeOff

__all__ = ["SyntheticGait", "synthetic_stream"]

_G = 9.81


@dataclass(frozen=True, slots=True)
class SyntheticGait:
    """Parameters of the synthetic feed (per-side values as ``(left, right)``)."""

    fs: float = 400.0
    cadence: float = 170.0
    contact_time: tuple[float, float] = (0.25, 0.25)
    pelvic_drop_deg: tuple[float, float] = (4.0, 4.0)
    drop_sd_deg: float = 0.6
    samples_per_block: int = 8
    seed: int = 0


def _shoe_signal(t: np.ndarray, ics: np.ndarray, ct: float, rng) -> tuple[np.ndarray, ...]:
    """Specific force / rate of a shoe: impact spikes at ICs, swing in between."""
    acc = np.zeros((t.size, 3))
    acc[:, 2] = _G
    gyr = np.zeros((t.size, 3))
    stride = np.median(np.diff(ics)) if ics.size > 1 else 0.7
    for ic in ics:
        dt = t - ic
        spike = np.exp(-0.5 * (dt / 0.008) ** 2)
        acc[:, 2] += 6 * _G * spike
        acc[:, 0] += 2 * _G * np.exp(-0.5 * (dt / 0.012) ** 2)
        swing = (dt > ct) & (dt < stride)
        phase = np.where(swing, (dt - ct) / max(stride - ct, 1e-3), 0.0)
        gyr[:, 1] += np.where(swing, -8.0 * np.sin(np.pi * phase), 0.0)
        acc[:, 0] += np.where(swing, 15.0 * np.sin(2 * np.pi * phase), 0.0)
    acc += rng.normal(0, 0.3, acc.shape)
    gyr += rng.normal(0, 0.05, gyr.shape)
    return acc, gyr


def synthetic_stream(
    gait: SyntheticGait, duration: float, monitor: Any | None = None
) -> Iterator[tuple[float, SampleBlock | list]]:
    """Yield ``(t, item)`` in time order: sample blocks and lists of records.

    ``t`` is the session time at which the item becomes available (the last sample of
    a block; the emission time of events and steps). ``monitor`` is any object with
    ``add(step) -> list[Alert]``.
    """
    rng = np.random.default_rng(gait.seed)
    fs = gait.fs
    t = np.arange(int(duration * fs)) / fs
    step_period = 60.0 / gait.cadence
    ic_all = np.arange(0.5, duration - 1.0, step_period)
    sides: list[Side] = ["left" if i % 2 == 0 else "right" for i in range(ic_all.size)]
    idx = {"left": 0, "right": 1}

    signals = {}
    for sensor, side in ((Sensor.SHOE_LEFT, "left"), (Sensor.SHOE_RIGHT, "right")):
        ics = ic_all[[s == side for s in sides]]
        signals[str(sensor)] = _shoe_signal(t, ics, gait.contact_time[idx[side]], rng)
    pel_acc = np.zeros((t.size, 3))
    pel_acc[:, 2] = _G + 6.0 * np.cos(2 * np.pi * (t - 0.5) / step_period)
    pel_acc += rng.normal(0, 0.2, pel_acc.shape)
    side_sign = np.where(((t - 0.5) // step_period).astype(int) % 2 == 0, 1.0, -1.0)
    pel_gyr = np.zeros((t.size, 3))
    pel_gyr[:, 0] = 0.6 * side_sign * np.sin(np.pi * ((t - 0.5) % step_period) / step_period)
    pel_gyr += rng.normal(0, 0.03, pel_gyr.shape)
    signals[str(Sensor.PELVIS)] = (pel_acc, pel_gyr)

    items: list[tuple[float, int, SampleBlock | list]] = []
    k = gait.samples_per_block
    for order, (sensor, (acc, gyr)) in enumerate(signals.items()):
        for i0 in range(0, t.size, k):
            sl = slice(i0, min(i0 + k, t.size))
            block = SampleBlock(
                acc=acc[sl].copy(), gyr=gyr[sl].copy(), sensor=sensor, t_session=t[sl].copy()
            )
            items.append((float(t[sl][-1]), order, block))
    for ic, side in zip(ic_all, sides, strict=True):
        sensor = str(Sensor.SHOE_LEFT if side == "left" else Sensor.SHOE_RIGHT)
        ct = gait.contact_time[idx[side]] * (1 + rng.normal(0, 0.02))
        to = ic + ct
        step_time = step_period * (1 + rng.normal(0, 0.01))
        drop = gait.pelvic_drop_deg[idx[side]] + rng.normal(0, gait.drop_sd_deg)
        emitted_ic = ic + 0.03
        items.append((emitted_ic, 3, [InitialContact(sensor, side, ic, emitted_ic)]))
        emitted_to = to + 0.03
        step = Step(
            side=side,
            ic_time=float(ic),
            to_time=float(to),
            contact_time=float(ct),
            flight_time=float(step_time - ct),
            step_time=float(step_time),
            cadence=float(60.0 / step_time),
            pelvic_drop_deg=float(drop),
        )
        records: list = [ToeOff(sensor, side, float(to), emitted_to), step]
        if monitor is not None:
            records += monitor.add(step)
        items.append((emitted_to, 3, records))
    items.sort(key=lambda it: (it[0], it[1]))
    for t_item, _, item in items:
        yield t_item, item
