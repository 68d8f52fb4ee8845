"""Sensor realism: mounting rotation, sample clock (jitter, offset, drift), bias, noise, clipping.

Random streams are per sensor and per quantity and are consumed strictly in sample order, so a
run generated in chunks draws exactly the same numbers as one generated at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import ConfigError
from .rotations import random_rotation, rotate
from .scenarios import SENSORS, Scenario

FloatArray = NDArray[np.float64]

__all__ = ["STANDARD_GRAVITY", "SensorRealism", "mounting_matrix"]

STANDARD_GRAVITY = 9.80665
_BIAS_KNOT_S = 1.0


def mounting_matrix(spec: Any, rng: np.random.Generator, sensor: str) -> FloatArray:
    """Body->sensor rotation from a scenario's ``mounting`` value for one sensor.

    ``"random"`` draws a uniform random rotation from ``rng``; ``None`` is the identity; a (3, 3)
    rotation matrix is used as given; a dict maps sensor names to any of these.
    """
    if isinstance(spec, dict):
        spec = spec.get(sensor)
    if spec is None:
        return np.eye(3)
    if isinstance(spec, str):
        if spec != "random":
            raise ConfigError(f"mounting={spec!r}: expected 'random', None or a (3, 3) rotation")
        return random_rotation(rng)
    m = np.asarray(spec, dtype=float)
    if m.shape != (3, 3):
        raise ConfigError(f"mounting for {sensor}: expected shape (3, 3), got {m.shape}")
    if not np.allclose(m @ m.T, np.eye(3), atol=1e-6) or np.linalg.det(m) < 0:
        raise ConfigError(f"mounting for {sensor}: not a proper rotation matrix")
    return m


@dataclass
class SensorRealism:
    """Per-sensor imperfections, drawn once from the seed; noise streams advance per sample."""

    sensor: str
    fs: float
    mounting: FloatArray
    clock_offset: float
    drift_ppm: float
    gyr_bias: FloatArray
    acc_bias: FloatArray
    bias_walk: FloatArray  # (k, 3) gyro bias random-walk knots every _BIAS_KNOT_S s
    acc_limit: float
    gyr_limit: float
    sc: Scenario
    _jitter: np.random.Generator
    _acc_noise: np.random.Generator
    _gyr_noise: np.random.Generator

    @classmethod
    def draw(cls, sc: Scenario, fs: float, seed: int, sensor: str, horizon: float) -> SensorRealism:
        """Draw the imperfections of ``sensor`` for a run of ``horizon`` s."""
        sid = SENSORS.index(sensor)
        fixed, jit, an, gn = (
            np.random.default_rng(np.random.SeedSequence([seed, 1, sid, k])) for k in range(4)
        )
        mounting = mounting_matrix(sc.mounting, fixed, sensor)
        offset = fixed.uniform(0.0, sc.clock_offset_s)
        drift = fixed.normal(0.0, sc.clock_drift_ppm)
        gyr_bias = fixed.normal(0.0, sc.gyr_bias, 3)
        acc_bias = fixed.normal(0.0, sc.acc_bias, 3)
        n_knots = int(np.ceil(horizon / _BIAS_KNOT_S)) + 3
        steps = fixed.normal(0.0, sc.gyr_bias_walk * np.sqrt(_BIAS_KNOT_S), (n_knots, 3))
        steps[0] = 0.0
        walk = np.cumsum(steps, axis=0)
        return cls(
            sensor=sensor,
            fs=fs,
            mounting=mounting,
            clock_offset=offset,
            drift_ppm=drift,
            gyr_bias=gyr_bias,
            acc_bias=acc_bias,
            bias_walk=walk,
            acc_limit=sc.acc_range_g * STANDARD_GRAVITY,
            gyr_limit=np.deg2rad(sc.gyr_range_dps),
            sc=sc,
            _jitter=jit,
            _acc_noise=an,
            _gyr_noise=gn,
        )

    def sample_times(self, n0: int, n1: int) -> tuple[FloatArray, FloatArray]:
        """True sample times (s, jittered, device rate off by the drift) and device timestamps
        of samples ``n0 .. n1-1``. Must be called in sample order (advances the jitter stream)."""
        nominal = np.arange(n0, n1) / self.fs
        t_true = nominal / (1 + self.drift_ppm * 1e-6)
        t_true = t_true + self.sc.jitter_s * self._jitter.standard_normal(n1 - n0)
        return t_true, self.clock_offset + nominal

    def gyro_bias(self, t: FloatArray) -> FloatArray:
        """Gyro bias (constant + random walk, linearly interpolated) at times ``t``, (n, 3)."""
        x = np.clip(t / _BIAS_KNOT_S, 0.0, self.bias_walk.shape[0] - 1.001)
        i = x.astype(np.int64)
        f = (x - i)[:, None]
        return self.gyr_bias + self.bias_walk[i] * (1 - f) + self.bias_walk[i + 1] * f

    def measure(
        self, t: FloatArray, specific_force_body: FloatArray, omega_body: FloatArray
    ) -> tuple[FloatArray, FloatArray, NDArray[np.bool_], NDArray[np.bool_]]:
        """Sensor readings from body-frame truth: rotate, add bias and noise, clip.

        Must be called in sample order (advances the noise streams). Returns acc (n, 3),
        gyr (n, 3) and the accelerometer and gyroscope clipped masks (n,).
        """
        n = t.size
        m = self.mounting
        acc = rotate(m, specific_force_body) + self.acc_bias
        acc += self.sc.acc_noise * self._acc_noise.standard_normal((n, 3))
        gyr = rotate(m, omega_body) + self.gyro_bias(t)
        gyr += self.sc.gyr_noise * self._gyr_noise.standard_normal((n, 3))
        clipped = np.any(np.abs(acc) >= self.acc_limit, axis=1)
        np.clip(acc, -self.acc_limit, self.acc_limit, out=acc)
        gyr_clipped = np.any(np.abs(gyr) >= self.gyr_limit, axis=1)
        np.clip(gyr, -self.gyr_limit, self.gyr_limit, out=gyr)
        return acc, gyr, clipped, gyr_clipped
