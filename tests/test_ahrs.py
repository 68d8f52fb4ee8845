"""Mahony AHRS kernel: against the `ahrs` package, chunking invariance, bias estimation."""

from __future__ import annotations

import numpy as np
import pytest

from imustream.dsp.kernels.ahrs import quaternion_from_gravity
from imustream.dsp.orientation import OrientationFilter

ahrs_filters = pytest.importorskip("ahrs.filters")

FS = 200.0


def _random_motion(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    gyr = rng.normal(0.0, 0.6, (n, 3))
    acc = rng.normal(0.0, 3.0, (n, 3)) + np.array([1.0, -2.0, 9.0])
    return acc, gyr


def _reference(acc, gyr, k_p, k_i, k_p_init=None, n_init=0):
    """`ahrs` Mahony, sample by sample, with our start-up gain schedule applied to k_P."""
    q0 = np.empty(4)
    quaternion_from_gravity(acc[0], q0)
    ref = ahrs_filters.Mahony(frequency=FS, k_P=k_p, k_I=k_i)
    out = np.empty((len(acc), 4))
    out[0] = q0
    for t in range(1, len(acc)):
        ref.k_P = k_p if t >= n_init else k_p_init + (k_p - k_p_init) * t / n_init
        out[t] = ref.updateIMU(out[t - 1], gyr[t], acc[t])
    return out, ref.b


@pytest.mark.parametrize(("k_p", "k_i"), [(1.0, 0.3), (0.1, 0.002), (0.5, 0.05)])
def test_matches_ahrs_package(k_p, k_i):
    acc, gyr = _random_motion(1500, seed=1)
    expected, bias = _reference(acc, gyr, k_p, k_i)
    f = OrientationFilter(FS, k_p=k_p, k_i=k_i, init_s=0.0, still_s=0.0)
    q, up = f.process(acc, gyr)
    np.testing.assert_allclose(q, expected, atol=1e-12)
    np.testing.assert_allclose(f.bias, bias, atol=1e-12)
    # up = R(q)^T [0, 0, 1]
    w, x, y, z = q.T
    np.testing.assert_allclose(up[:, 2], w * w - x * x - y * y + z * z, atol=1e-15)


def test_start_up_gain_schedule_matches_reference():
    acc, gyr = _random_motion(800, seed=2)
    expected, _ = _reference(acc, gyr, 0.1, 0.002, k_p_init=2.0, n_init=400)
    f = OrientationFilter(FS, k_p=0.1, k_i=0.002, k_p_init=2.0, init_s=2.0, still_s=0.0)
    q, _ = f.process(acc, gyr)
    np.testing.assert_allclose(q, expected, atol=1e-12)


def test_first_sample_aligns_up_with_gravity():
    for g in ([0, 0, 9.81], [0, 0, -9.81], [9.81, 0, 0], [1.0, -5.0, 3.0]):
        acc = np.array([g], dtype=float)
        _, up = OrientationFilter(FS).process(acc, np.zeros((1, 3)))
        np.testing.assert_allclose(up[0], acc[0] / np.linalg.norm(acc[0]), atol=1e-12)


def _plain_reference(acc, gyr, p):
    """Plain numpy version of the full kernel: start-up gain, stillness bias, Mahony."""
    q = np.empty(4)
    quaternion_from_gravity(acc[0], q)
    bias = np.zeros(3)
    quiet_run = 0
    out = [q.copy()]
    for i in range(1, len(acc)):
        k_p = p.k_p if i >= p.n_init else p.k_p_init + (p.k_p - p.k_p_init) * i / p.n_init
        a_norm = np.linalg.norm(acc[i])
        quiet = np.linalg.norm(gyr[i]) < p.still_gyr and abs(a_norm - p.gravity) < p.still_acc
        quiet_run = quiet_run + 1 if quiet else 0
        still = quiet_run >= p.still_n
        if still:
            bias += p.still_gain * p.dt * (gyr[i] - bias)
            k_p = p.k_p_init
        w, x, y, z = q
        v = np.array([2 * (x * z - w * y), 2 * (w * x + y * z), w * w - x * x - y * y + z * z])
        e = np.cross(acc[i] / a_norm, v)
        if not still:
            bias -= p.k_i * e * p.dt
        om = gyr[i] - bias + k_p * e
        dq = 0.5 * np.array(
            [
                -x * om[0] - y * om[1] - z * om[2],
                w * om[0] + y * om[2] - z * om[1],
                w * om[1] - x * om[2] + z * om[0],
                w * om[2] + x * om[1] - y * om[0],
            ]
        )
        q = q + dq * p.dt
        q /= np.linalg.norm(q)
        out.append(q.copy())
    return np.array(out), bias


def test_stillness_and_start_up_match_plain_reference():
    rng = np.random.default_rng(6)
    n = 1200
    # still for 2 s, then moving, then still again
    acc = np.tile([0.5, -1.0, 9.74], (n, 1)) + rng.normal(0, 0.05, (n, 3))
    gyr = np.array([0.01, -0.02, 0.015]) + rng.normal(0, 0.005, (n, 3))
    acc[400:800] += rng.normal(0, 4.0, (400, 3))
    gyr[400:800] += rng.normal(0, 1.0, (400, 3))
    f = OrientationFilter(FS, k_p=0.1, k_i=0.01, k_p_init=2.0, init_s=1.0, still_s=0.25)
    q, _ = f.process(acc, gyr)
    expected, bias = _plain_reference(acc, gyr, f.params)
    np.testing.assert_allclose(q, expected, atol=1e-12)
    np.testing.assert_allclose(f.bias, bias, atol=1e-12)
    # at rest the bias converges to the true rate offset (all three axes)
    np.testing.assert_allclose(f.bias, [0.01, -0.02, 0.015], atol=2e-3)


@pytest.mark.parametrize("chunk", [1, 7, 64, None])
def test_random_chunking_identical(chunk):
    acc, gyr = _random_motion(1000, seed=3)
    acc[:300] = [0.0, 0.3, 9.8]  # a still start exercises the bias re-estimation
    gyr[:300] = 0.01
    whole_q, whole_up = OrientationFilter(FS).process(acc, gyr)
    f = OrientationFilter(FS)
    rng = np.random.default_rng(chunk or 0)
    parts_q, parts_up, i = [], [], 0
    while i < len(acc):
        k = chunk if chunk else int(rng.integers(1, 200))
        q, up = f.process(acc[i : i + k], gyr[i : i + k])
        parts_q.append(q)
        parts_up.append(up)
        i += k
    np.testing.assert_array_equal(np.concatenate(parts_q), whole_q)
    np.testing.assert_array_equal(np.concatenate(parts_up), whole_up)


def test_estimates_constant_gyro_bias_while_still():
    n = int(60 * FS)
    rng = np.random.default_rng(4)
    true_bias = np.array([0.02, -0.015, 0.01])
    # tilted, still sensor: gravity along a fixed direction, gyro = bias + noise
    g = np.array([2.0, -3.0, 8.8])
    g *= 9.81 / np.linalg.norm(g)
    acc = g + rng.normal(0, 0.05, (n, 3))
    gyr = true_bias + rng.normal(0, 0.005, (n, 3))
    f = OrientationFilter(FS, k_p=1.0, k_i=0.1)
    _, up = f.process(acc, gyr)
    # bias about the gravity axis is unobservable from the accelerometer: compare the rest
    gh = g / np.linalg.norm(g)
    horiz = lambda v: v - np.dot(v, gh) * gh  # noqa: E731
    np.testing.assert_allclose(horiz(f.bias), horiz(true_bias), atol=1e-3)
    tilt_err = np.degrees(np.arccos(np.clip(up[-200:] @ gh, -1, 1)))
    assert tilt_err.max() < 0.5


def test_reset_and_bad_input():
    acc, gyr = _random_motion(100, seed=5)
    f = OrientationFilter(FS)
    a, _ = f.process(acc, gyr)
    f.reset()
    b, _ = f.process(acc, gyr)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="shape"):
        f.process(acc[:, :2], gyr)
    with pytest.raises(ValueError, match="fs"):
        OrientationFilter(0.0)
