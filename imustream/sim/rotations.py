"""Rotation helpers for the virtual runner (vectorised over time).

Convention: a body orientation is the rotation matrix ``R`` that maps body-frame vectors to the
world frame, ``R = Rz(yaw) @ Ry(pitch) @ Rx(roll)`` (intrinsic z-y'-x'' Euler angles). The world
frame is z-up; a body frame is x forward, y left, z up when the body is in its neutral pose.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

__all__ = [
    "body_rates",
    "euler_matrix",
    "euler_of",
    "random_rotation",
]


def euler_matrix(yaw: FloatArray, pitch: FloatArray, roll: FloatArray) -> FloatArray:
    """Body->world rotation matrices ``Rz(yaw) Ry(pitch) Rx(roll)``, shape (n, 3, 3)."""
    cy, sy = np.cos(yaw), np.sin(yaw)
    cp, sp = np.cos(pitch), np.sin(pitch)
    cr, sr = np.cos(roll), np.sin(roll)
    r = np.empty((*np.shape(yaw), 3, 3))
    r[..., 0, 0] = cy * cp
    r[..., 0, 1] = cy * sp * sr - sy * cr
    r[..., 0, 2] = cy * sp * cr + sy * sr
    r[..., 1, 0] = sy * cp
    r[..., 1, 1] = sy * sp * sr + cy * cr
    r[..., 1, 2] = sy * sp * cr - cy * sr
    r[..., 2, 0] = -sp
    r[..., 2, 1] = cp * sr
    r[..., 2, 2] = cp * cr
    return r


def euler_of(r: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Inverse of :func:`euler_matrix`: (yaw, pitch, roll) in rad, pitch in [-pi/2, pi/2]."""
    yaw = np.arctan2(r[..., 1, 0], r[..., 0, 0])
    pitch = -np.arcsin(np.clip(r[..., 2, 0], -1.0, 1.0))
    roll = np.arctan2(r[..., 2, 1], r[..., 2, 2])
    return yaw, pitch, roll


def body_rates(
    angles: tuple[FloatArray, FloatArray, FloatArray],
    rates: tuple[FloatArray, FloatArray, FloatArray],
    accels: tuple[FloatArray, FloatArray, FloatArray] | None = None,
) -> tuple[FloatArray, FloatArray | None]:
    """Body-frame angular velocity (and acceleration) from Euler angles and their derivatives.

    Parameters
    ----------
    angles, rates, accels : (yaw, pitch, roll) arrays
        Angles in rad and their first and (optionally) second time derivatives.

    Returns
    -------
    omega : ndarray, shape (n, 3)
        Angular velocity in the body frame, rad/s.
    alpha : ndarray, shape (n, 3) or None
        Its time derivative (body frame), rad/s^2, when ``accels`` is given.
    """
    _, pitch, roll = angles
    dy, dp, dr = rates
    sp, cp = np.sin(pitch), np.cos(pitch)
    sr, cr = np.sin(roll), np.cos(roll)
    omega = np.stack(
        [dr - dy * sp, dp * cr + dy * cp * sr, -dp * sr + dy * cp * cr],
        axis=-1,
    )
    if accels is None:
        return omega, None
    ddy, ddp, ddr = accels
    alpha = np.stack(
        [
            ddr - ddy * sp - dy * cp * dp,
            ddp * cr - dp * sr * dr + ddy * cp * sr - dy * sp * dp * sr + dy * cp * cr * dr,
            -ddp * sr - dp * cr * dr + ddy * cp * cr - dy * sp * dp * cr - dy * cp * sr * dr,
        ],
        axis=-1,
    )
    return omega, alpha


def random_rotation(rng: np.random.Generator) -> FloatArray:
    """A rotation matrix drawn uniformly from SO(3) (unit quaternion from 4 normals)."""
    q = rng.standard_normal(4)
    w, x, y, z = q / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def rotate(r: FloatArray, v: FloatArray) -> FloatArray:
    """``r @ v`` per sample for r (n, 3, 3) or (3, 3) and v (n, 3).

    Written out element-wise (no BLAS) so results do not depend on how a run is chunked.
    """
    return r[..., 0] * v[:, 0:1] + r[..., 1] * v[:, 1:2] + r[..., 2] * v[:, 2:3]


def rotate_inv(r: FloatArray, v: FloatArray) -> FloatArray:
    """``r.T @ v`` per sample for r (n, 3, 3) and v (n, 3) (element-wise, no BLAS)."""
    return r[..., 0, :] * v[:, 0:1] + r[..., 1, :] * v[:, 1:2] + r[..., 2, :] * v[:, 2:3]
