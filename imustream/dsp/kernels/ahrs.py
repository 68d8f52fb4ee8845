"""Mahony attitude filter with gyro-bias estimation (IMU only: accelerometer + gyroscope).

The filter is the explicit complementary filter on SO(3) of Mahony et al. (2008), written
exactly as the ``ahrs`` package's ``Mahony.updateIMU`` (proportional gain ``k_p``, integral
gain ``k_i`` whose integral is the gyro-bias estimate), plus an optional start-up phase in
which the proportional gain decays linearly from ``k_p_init`` to ``k_p`` over ``n_init``
samples so the attitude converges quickly from any mounting, and an optional stillness
detector: after ``still_n`` consecutive samples with ``|gyr| < still_gyr`` and
``| |acc| - gravity | < still_acc`` the sensor is taken to be at rest, the gyro bias is pulled
towards the measured rate with gain ``still_gain`` (1/s) and the proportional gain is
``k_p_init``. With ``n_init = 0`` and ``still_n = 0`` the update is sample-for-sample the
``ahrs`` package's.

Quaternions are ``[w, x, y, z]`` and rotate sensor-frame vectors into the earth frame
(z up). The state is carried in arrays so that any chunking of the stream gives results
identical to one call over the whole stream.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit


class MahonyParams(NamedTuple):
    """Settings of :func:`mahony_update`.

    Parameters
    ----------
    dt : float
        Sample period in s.
    k_p : float
        Proportional gain on the accelerometer error (rad/s per unit error).
    k_i : float
        Integral gain (gyro-bias estimation), 1/s^2.
    k_p_init : float
        Proportional gain at the first sample of the start-up phase.
    n_init : int
        Length of the start-up phase in samples (0 = none).
    still_n : int
        Consecutive quiet samples before the sensor counts as still (0 = never).
    still_gyr : float
        Largest angular rate magnitude (rad/s) of a quiet sample.
    still_acc : float
        Largest deviation of the specific-force magnitude from ``gravity`` of a quiet sample.
    still_gain : float
        Rate (1/s) at which the bias follows the measured rate while still.
    gravity : float
        Gravity in the unit of ``acc``.
    """

    dt: float
    k_p: float
    k_i: float
    k_p_init: float
    n_init: int
    still_n: int = 0
    still_gyr: float = 0.0
    still_acc: float = 0.0
    still_gain: float = 0.0
    gravity: float = 9.80665


class MahonyState(NamedTuple):
    """Filter state, mutated in place by :func:`mahony_update`.

    ``q`` (4,) attitude quaternion, ``bias`` (3,) gyro bias estimate in rad/s,
    ``count`` (2,) int64: samples processed (0 = attitude not initialised yet) and the
    current run of quiet samples.
    """

    q: np.ndarray
    bias: np.ndarray
    count: np.ndarray


def new_state() -> MahonyState:
    """A fresh, uninitialised filter state."""
    return MahonyState(
        q=np.array([1.0, 0.0, 0.0, 0.0]),
        bias=np.zeros(3),
        count=np.zeros(2, dtype=np.int64),
    )


@njit(cache=True, nogil=True)
def quaternion_from_gravity(acc: np.ndarray, q: np.ndarray) -> None:
    """Write into ``q`` the yaw-free attitude whose earth z axis is along ``acc``."""
    ax, ay, az = acc[0], acc[1], acc[2]
    norm = np.sqrt(ax * ax + ay * ay + az * az)
    if norm == 0.0:
        q[0], q[1], q[2], q[3] = 1.0, 0.0, 0.0, 0.0
        return
    ax, ay, az = ax / norm, ay / norm, az / norm
    # shortest rotation taking the sensor-frame "up" (acc direction) onto earth z
    w = 1.0 + az
    if w < 1e-9:  # upside down: rotate 180 deg about x
        q[0], q[1], q[2], q[3] = 0.0, 1.0, 0.0, 0.0
        return
    qx, qy = ay, -ax
    n = np.sqrt(w * w + qx * qx + qy * qy)
    q[0], q[1], q[2], q[3] = w / n, qx / n, qy / n, 0.0


@njit(cache=True, nogil=True)
def mahony_update(
    acc: np.ndarray,
    gyr: np.ndarray,
    q: np.ndarray,
    bias: np.ndarray,
    count: np.ndarray,
    params: MahonyParams,
    q_out: np.ndarray,
    up_out: np.ndarray,
) -> int:
    """Run the filter over ``n`` samples.

    Parameters
    ----------
    acc, gyr : ndarray, shape (n, 3)
        Specific force (any unit) and angular rate in rad/s, sensor frame.
    q, bias, count : ndarray
        State arrays (see :class:`MahonyState`), updated in place.
    params : MahonyParams
        Gains and sample period.
    q_out : ndarray, shape (>= n, 4)
        Attitude after each sample.
    up_out : ndarray, shape (>= n, 3)
        Earth "up" expressed in the sensor frame after each sample (third row of the
        rotation matrix).

    Returns
    -------
    int
        Number of samples written (``n``).
    """
    n = acc.shape[0]
    dt = params.dt
    for i in range(n):
        if count[0] == 0:
            quaternion_from_gravity(acc[i], q)
        else:
            k_p = params.k_p
            if count[0] < params.n_init:
                frac = count[0] / params.n_init
                k_p = params.k_p_init + (params.k_p - params.k_p_init) * frac
            w, x, y, z = q[0], q[1], q[2], q[3]
            ox, oy, oz = gyr[i, 0], gyr[i, 1], gyr[i, 2]
            ax, ay, az = acc[i, 0], acc[i, 1], acc[i, 2]
            a_norm = np.sqrt(ax * ax + ay * ay + az * az)
            still = False
            if params.still_n > 0:
                quiet = (
                    np.sqrt(ox * ox + oy * oy + oz * oz) < params.still_gyr
                    and abs(a_norm - params.gravity) < params.still_acc
                )
                count[1] = count[1] + 1 if quiet else 0
                still = count[1] >= params.still_n
            if still:
                g = params.still_gain * dt
                bias[0] += g * (ox - bias[0])
                bias[1] += g * (oy - bias[1])
                bias[2] += g * (oz - bias[2])
                k_p = params.k_p_init
            if a_norm > 0.0:
                ax, ay, az = ax / a_norm, ay / a_norm, az / a_norm
                # estimated gravity direction in the sensor frame: R^T @ [0, 0, 1]
                vx = 2.0 * (x * z - w * y)
                vy = 2.0 * (w * x + y * z)
                vz = w * w - x * x - y * y + z * z
                ex = ay * vz - az * vy
                ey = az * vx - ax * vz
                ez = ax * vy - ay * vx
                if not still:
                    bias[0] -= params.k_i * ex * dt
                    bias[1] -= params.k_i * ey * dt
                    bias[2] -= params.k_i * ez * dt
                ox = ox - bias[0] + k_p * ex
                oy = oy - bias[1] + k_p * ey
                oz = oz - bias[2] + k_p * ez
            hdt = 0.5 * dt
            nw = w + hdt * (-x * ox - y * oy - z * oz)
            nx = x + hdt * (w * ox + y * oz - z * oy)
            ny = y + hdt * (w * oy - x * oz + z * ox)
            nz = z + hdt * (w * oz + x * oy - y * ox)
            norm = np.sqrt(nw * nw + nx * nx + ny * ny + nz * nz)
            q[0], q[1], q[2], q[3] = nw / norm, nx / norm, ny / norm, nz / norm
        count[0] += 1
        w, x, y, z = q[0], q[1], q[2], q[3]
        q_out[i, 0], q_out[i, 1], q_out[i, 2], q_out[i, 3] = w, x, y, z
        up_out[i, 0] = 2.0 * (x * z - w * y)
        up_out[i, 1] = 2.0 * (w * x + y * z)
        up_out[i, 2] = w * w - x * x - y * y + z * z
    return n
