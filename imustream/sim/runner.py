"""The virtual runner: pelvis + two shoe IMUs with exact ground truth.

``simulate(name, duration, fs, seed, **overrides)`` returns a whole run; ``VirtualRunner(...)
.chunks(chunk_s)`` yields it piece by piece (a 2-hour soak need not fit in memory); the chunks
concatenate to exactly the same arrays.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import ConfigError
from .gait import LEFT, RIGHT, plan_gait
from .path import Path
from .pelvis import G, PelvisModel
from .realism import SensorRealism
from .rotations import rotate_inv
from .scenarios import SENSORS, Scenario, get_scenario
from .shoe import FootModel
from .truth import neutral_obliquity, step_truth
from .wobble import Wobble

FloatArray = NDArray[np.float64]

__all__ = ["SensorSignals", "SimChunk", "SimRun", "VirtualRunner", "simulate"]

_GRAVITY = np.array([0.0, 0.0, -G])


def _positive(x: Any) -> bool:
    return isinstance(x, numbers.Real) and math.isfinite(x) and x > 0


@dataclass(frozen=True)
class SensorSignals:
    """Samples of one simulated sensor (sensor frame, all imperfections applied).

    Attributes
    ----------
    t : (N,) true sample times in s (simulation time, jittered, device rate drift applied)
    acc : (N, 3) specific force in m/s^2 (noise, bias, clipping at the range)
    gyr : (N, 3) angular rate in rad/s (noise, bias + random walk)
    t_device : (N,) the device's own timestamps in s (offset + drift, no jitter)
    mounting : (3, 3) rotation body -> sensor (how the sensor was clipped on)
    clipped : (N,) bool, True where an accelerometer axis hit the range limit
    gyr_clipped : (N,) bool, True where a gyroscope axis hit its range limit
    """

    t: FloatArray
    acc: FloatArray
    gyr: FloatArray
    t_device: FloatArray
    mounting: FloatArray
    clipped: NDArray[np.bool_]
    gyr_clipped: NDArray[np.bool_]

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.t.size)


@dataclass(frozen=True)
class SimChunk:
    """Samples ``start .. start + n - 1`` of every sensor."""

    start: int
    sensors: dict[str, SensorSignals]


@dataclass(frozen=True)
class SimRun:
    """A whole simulated run: signals of the three sensors and the per-step truth table."""

    scenario: Scenario
    fs: float
    duration: float
    seed: int
    sensors: dict[str, SensorSignals]
    truth: dict[str, NDArray]
    neutral_obliquity_deg: float


class VirtualRunner:
    """A seeded virtual runner; evaluate its sensors over any time range, in chunks.

    Parameters
    ----------
    scenario : str or Scenario
        A name from :func:`scenario_names` or a Scenario.
    fs : float
        Nominal sample rate of every sensor, Hz.
    seed : int
        Seed of everything random (gait variability, mounting, clocks, noise).
    duration : float
        Length of the run in s (number of samples = round(duration * fs)).
    **overrides
        Scenario parameters to change (ConfigError for unknown names).
    """

    def __init__(
        self,
        scenario: str | Scenario = "symmetric-runner",
        fs: float = 200.0,
        seed: int = 0,
        duration: float = 60.0,
        **overrides: Any,
    ) -> None:
        if not _positive(fs):
            raise ConfigError(f"fs must be a positive number of Hz, got {fs!r}")
        if not _positive(duration):
            raise ConfigError(f"duration must be a positive number of s, got {duration!r}")
        if not isinstance(seed, numbers.Integral) or seed < 0:
            raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
        self.scenario = get_scenario(scenario, **overrides)
        if self.scenario.jitter_s * 5 >= 1 / fs:
            raise ConfigError(
                f"jitter_s={self.scenario.jitter_s!r} too large for fs={fs!r} Hz: sample times "
                "would go out of order (need jitter_s < 0.2 / fs)"
            )
        self.fs, self.seed, self.duration = float(fs), int(seed), float(duration)
        self.n_samples = round(duration * fs)
        gait_rng = np.random.default_rng(np.random.SeedSequence([self.seed, 0]))
        self.plan = plan_gait(self.scenario, self.duration, gait_rng)
        self.path = Path(self.scenario, self.plan)
        self.models = {
            "pelvis": PelvisModel(self.scenario, self.plan, self.path, self._wobble()),
            "shoe_left": FootModel(self.scenario, self.plan, self.path, LEFT),
            "shoe_right": FootModel(self.scenario, self.plan, self.path, RIGHT),
        }

    def _wobble(self) -> Wobble | None:
        """Random pelvis motion from its own seeded stream (None when switched off)."""
        if not any(self.scenario.wobble_acc) and not any(self.scenario.wobble_rate):
            return None
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 2]))
        return Wobble(self.scenario, self.plan, rng)

    def _realism(self) -> dict[str, SensorRealism]:
        horizon = self.plan.t_end
        return {
            s: SensorRealism.draw(self.scenario, self.fs, self.seed, s, horizon) for s in SENSORS
        }

    def body_signals(self, sensor: str, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Noise-free specific force and angular rate of a body (pelvis / foot frame, before
        mounting) at times ``t``: what a perfect, perfectly aligned IMU would read."""
        r, omega, acc = self.models[sensor].kinematics(np.asarray(t, dtype=float))
        return rotate_inv(r, acc - _GRAVITY), omega

    def orientation(self, sensor: str, t: FloatArray) -> FloatArray:
        """Body->world rotation of the pelvis or a foot at times ``t``, shape (n, 3, 3)."""
        return self.models[sensor].orientation(np.asarray(t, dtype=float))

    def _block(self, sensor: str, real: SensorRealism, n0: int, n1: int) -> SensorSignals:
        t, t_dev = real.sample_times(n0, n1)
        f_body, omega = self.body_signals(sensor, t)
        acc, gyr, clipped, gyr_clipped = real.measure(t, f_body, omega)
        return SensorSignals(t, acc, gyr, t_dev, real.mounting, clipped, gyr_clipped)

    def chunks(self, chunk_s: float) -> Iterator[SimChunk]:
        """Yield the run in chunks of ``chunk_s`` s (the last may be shorter).

        Concatenating the chunks gives exactly the arrays of :meth:`run`.
        """
        if not _positive(chunk_s) or round(chunk_s * self.fs) < 1:
            raise ConfigError(f"chunk_s={chunk_s!r} is not at least one sample at {self.fs} Hz")
        chunk_n = round(chunk_s * self.fs)
        real = self._realism()
        for n0 in range(0, self.n_samples, chunk_n):
            n1 = min(n0 + chunk_n, self.n_samples)
            yield SimChunk(n0, {s: self._block(s, real[s], n0, n1) for s in SENSORS})

    @cached_property
    def neutral_obliquity(self) -> float:
        """Neutral pelvic obliquity in rad (reference of the pelvic drop truth)."""
        return neutral_obliquity(self.models["pelvis"], self.scenario.standing_s, self.duration)

    @cached_property
    def truth(self) -> dict[str, NDArray]:
        """Per-step ground truth table (see :func:`imustream.sim.truth.step_truth`)."""
        return step_truth(self.plan, self.models["pelvis"], self.duration, self.scenario.standing_s)

    def run(self) -> SimRun:
        """The whole run at once."""
        real = self._realism()
        sensors = {s: self._block(s, real[s], 0, self.n_samples) for s in SENSORS}
        return SimRun(
            scenario=self.scenario,
            fs=self.fs,
            duration=self.duration,
            seed=self.seed,
            sensors=sensors,
            truth=self.truth,
            neutral_obliquity_deg=float(np.rad2deg(self.neutral_obliquity)),
        )


def simulate(
    scenario: str | Scenario = "symmetric-runner",
    duration: float = 60.0,
    fs: float = 200.0,
    seed: int = 0,
    **overrides: Any,
) -> SimRun:
    """Simulate a named scenario: three IMUs (pelvis, shoe_left, shoe_right) + step truth.

    Parameters
    ----------
    scenario : str or Scenario
        Scenario name (see :func:`imustream.sim.scenario_names`) or a Scenario.
    duration : float
        Seconds of data.
    fs : float
        Sample rate, Hz.
    seed : int
        Everything random derives from it (same seed -> identical output).
    **overrides
        Scenario parameters to change, e.g. ``drop_left_deg=10``, ``mounting=None``.

    Returns
    -------
    SimRun
        ``.sensors[name]`` -> SensorSignals, ``.truth[field]`` -> 1-D array per step.
    """
    return VirtualRunner(scenario, fs=fs, seed=seed, duration=duration, **overrides).run()
