"""Streaming attitude estimation (Mahony filter with gyro-bias estimation)."""

from __future__ import annotations

import numpy as np

from .kernels.ahrs import MahonyParams, mahony_update, new_state

__all__ = ["OrientationFilter"]


class OrientationFilter:
    """Attitude of one IMU from accelerometer and gyroscope, block by block.

    Parameters
    ----------
    fs : float
        Sampling rate in Hz.
    k_p : float
        Proportional gain after start-up. Low values trust the gyroscope over the
        accelerometer, which during running carries large non-gravity accelerations.
    k_i : float
        Integral gain (gyro-bias estimation).
    k_p_init : float
        Proportional gain at the very first sample; decays linearly to ``k_p``.
    init_s : float
        Duration of the start-up phase in s (0 = plain Mahony filter).
    still_s : float
        Quiet time (s) after which the sensor counts as at rest and the gyro bias is
        re-estimated directly from the rate readings (0 = never).
    still_gyr, still_acc : float
        Quiet sample: ``|gyr| < still_gyr`` rad/s and ``| |acc| - g | < still_acc`` m/s^2.
    still_gain : float
        Rate (1/s) at which the bias follows the readings while at rest.
    """

    def __init__(
        self,
        fs: float,
        k_p: float = 0.1,
        k_i: float = 0.002,
        k_p_init: float = 2.0,
        init_s: float = 3.0,
        still_s: float = 0.5,
        still_gyr: float = 0.1,
        still_acc: float = 0.5,
        still_gain: float = 2.0,
    ) -> None:
        if not np.isfinite(fs) or fs <= 0:
            raise ValueError(f"fs must be a positive number of Hz, got {fs!r}")
        self.fs = float(fs)
        self.params = MahonyParams(
            dt=1.0 / self.fs,
            k_p=float(k_p),
            k_i=float(k_i),
            k_p_init=float(k_p_init),
            n_init=round(init_s * self.fs),
            still_n=round(still_s * self.fs),
            still_gyr=float(still_gyr),
            still_acc=float(still_acc),
            still_gain=float(still_gain),
        )
        self.state = new_state()

    def reset(self) -> None:
        """Forget the attitude and the bias estimate (in place: same state arrays)."""
        fresh = new_state()
        s = self.state
        s.q[:], s.bias[:], s.count[:] = fresh.q, fresh.bias, fresh.count

    @property
    def bias(self) -> np.ndarray:
        """Current gyro-bias estimate in rad/s (copy)."""
        return self.state.bias.copy()

    def process(self, acc: np.ndarray, gyr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Update with ``n`` samples.

        Parameters
        ----------
        acc, gyr : ndarray, shape (n, 3)
            Specific force and angular rate (rad/s), sensor frame.

        Returns
        -------
        q : ndarray, shape (n, 4)
            Attitude quaternion ``[w, x, y, z]`` (sensor -> earth) after each sample.
        up : ndarray, shape (n, 3)
            Earth "up" unit vector in the sensor frame after each sample.
        """
        acc = np.ascontiguousarray(acc, dtype=np.float64)
        gyr = np.ascontiguousarray(gyr, dtype=np.float64)
        if acc.ndim != 2 or acc.shape[1] != 3 or gyr.shape != acc.shape:
            raise ValueError(
                f"acc and gyr must both have shape (n, 3); got {acc.shape} and {gyr.shape}"
            )
        n = acc.shape[0]
        q_out = np.empty((n, 4))
        up_out = np.empty((n, 3))
        s = self.state
        mahony_update(acc, gyr, s.q, s.bias, s.count, self.params, q_out, up_out)
        return q_out, up_out
