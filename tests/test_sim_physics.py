"""Physical consistency of the virtual runner beyond the gyro: accelerations match positions,
impulse balance, track bends, pauses, clocks."""

from __future__ import annotations

import numpy as np
import pytest

from imustream.sim import VirtualRunner, simulate
from imustream.sim.hermite import PiecewiseQuintic
from imustream.sim.pelvis import G
from imustream.sim.rotations import body_rates, euler_matrix, euler_of, rotate

QUIET = dict(
    acc_noise=0.0,
    gyr_noise=0.0,
    acc_bias=0.0,
    gyr_bias=0.0,
    gyr_bias_walk=0.0,
    jitter_s=0.0,
    clock_drift_ppm=0.0,
    mounting=None,
)


def test_quintic_pieces_match_their_knots():
    rng = np.random.default_rng(0)
    t = np.cumsum(rng.uniform(0.1, 1.0, 8))
    y, v, a = rng.normal(size=(3, 8))
    pq = PiecewiseQuintic.through_knots(t, y, v, a)
    for k in range(t.size - 1):  # each knot seen from both neighbouring pieces
        for tk in (t[k], t[k + 1] - 1e-12 if k + 1 < t.size else t[k + 1]):
            yy, vv, aa = pq(np.array([tk]))
            j = k if tk == t[k] else k + 1
            assert yy[0] == pytest.approx(y[j], abs=1e-9)
            assert vv[0] == pytest.approx(v[j], abs=1e-7)
            assert aa[0] == pytest.approx(a[j], abs=1e-5)
    # derivatives are those of the value (central differences)
    tt = np.linspace(t[0], t[-1], 997)[1:-1]
    h = 1e-6
    assert np.allclose((pq(tt + h)[0] - pq(tt - h)[0]) / (2 * h), pq(tt)[1], atol=1e-5)
    assert np.allclose((pq(tt + h)[1] - pq(tt - h)[1]) / (2 * h), pq(tt)[2], atol=1e-3)


def test_euler_helpers_round_trip_and_rates():
    rng = np.random.default_rng(1)
    ang = rng.uniform([-3, -1.4, -3], [3, 1.4, 3], size=(50, 3)).T
    r = euler_matrix(*ang)
    assert np.allclose(np.stack(euler_of(r)), ang)
    assert np.allclose(r @ r.transpose(0, 2, 1), np.eye(3))
    # omega from Euler rates equals the skew part of R^T dR/dt
    rates = rng.normal(size=(3, 50))
    h = 1e-6
    dr = (euler_matrix(*(ang + h * rates)) - euler_matrix(*(ang - h * rates))) / (2 * h)
    skew = r.transpose(0, 2, 1) @ dr
    omega = np.stack([skew[:, 2, 1], skew[:, 0, 2], skew[:, 1, 0]], axis=-1)
    assert np.allclose(body_rates(tuple(ang), tuple(rates))[0], omega, atol=1e-6)


@pytest.mark.parametrize("name", ["symmetric-runner", "treadmill-walk", "track-runner"])
@pytest.mark.parametrize("sensor", ["shoe_left", "shoe_right"])
def test_shoe_acceleration_is_second_derivative_of_sensor_position(name, sensor):
    vr = VirtualRunner(name, fs=200.0, seed=2, duration=15.0, **QUIET)
    foot = vr.models[sensor]
    t = np.arange(1.0, 14.0, 1e-3)
    h = 1e-5
    pos = foot.sensor_position(np.concatenate([t - h, t, t + h])).reshape(3, t.size, 3)
    acc_fd = (pos[2] - 2 * pos[1] + pos[0]) / h**2
    _, _, acc = foot.kinematics(t)
    # exclude the instants where the acceleration jumps (IC impact onset)
    tr = vr.truth
    near_ic = np.min(np.abs(t[:, None] - tr["ic_time"][None, :]), axis=1) < 2e-5
    err = np.abs(acc_fd - acc)[~near_ic]
    assert np.percentile(err, 99.9) < 0.05  # m/s^2, finite-difference noise
    assert np.abs(acc).max() > 50  # not trivially still


@pytest.mark.parametrize("name", ["symmetric-runner", "limping-walk", "track-runner"])
def test_foot_never_below_ground_and_does_not_slide_in_stance(name):
    vr = VirtualRunner(name, fs=200.0, seed=3, duration=30.0, **QUIET)
    for sensor in ("shoe_left", "shoe_right"):
        foot = vr.models[sensor]
        t = np.arange(0.0, 30.0, 1e-3)
        r = foot.orientation(t)
        heel = foot.heel(t)[0]
        piv = foot.pivot[foot.heel.piece(t)]
        heel[piv] += rotate(r[piv], np.broadcast_to(-foot.toe, (int(piv.sum()), 3)))
        toe = heel + rotate(r, np.broadcast_to(foot.toe, (t.size, 3)))
        assert heel[:, 2].min() > -1e-9 and toe[:, 2].min() > -1e-9
        assert heel[:, 2].max() > 0.1  # the foot does swing
        tr = vr.truth
        mine = (tr["side"] == sensor[5:]) & np.isfinite(tr["to_time"])
        for ic, to in zip(tr["ic_time"][mine], tr["to_time"][mine], strict=True):
            still = (t > ic + 0.03) & (t < ic + vr.scenario.heel_off_frac * (to - ic))
            assert np.ptp(heel[still], axis=0).max() < 1e-12  # heel does not slide in stance


def test_pelvis_vertical_impulse_balances_over_each_bout():
    vr = VirtualRunner("pause-and-go", fs=200.0, seed=4, duration=60.0, **QUIET)
    pel = vr.models["pelvis"]
    dt = 1e-4
    t = np.arange(0.0, 60.0, dt)
    _, _, acc = pel.kinematics(t)
    vz = np.cumsum(acc[:, 2]) * dt
    # the vertical speed at each IC is the same all through a bout (no drift) ...
    plan = vr.plan
    for _, first, last in plan.bouts:
        ics = plan.ic[(plan.ic >= first) & (plan.ic <= min(last, 59.0))]
        v_ic = vz[np.round(ics / dt).astype(int)]
        assert np.ptp(v_ic) < 0.02
        running = (t > first) & (t < min(last, 59.0))
        assert np.ptp(vz[running]) > 0.5  # it does bounce ...
        assert abs(np.mean(vz[running])) < 0.03  # ... around a constant height
    # ... and back to ~0 in each pause
    for start, dur in vr.scenario.pauses:
        in_pause = (t > start + 1.5) & (t < start + dur - 0.5)
        assert np.abs(vz[in_pause]).max() < 0.02
    # running: specific force peaks around 2-3 g, near zero in flight
    fz = acc[:, 2] + G
    running = (t > 8) & (t < 18)
    assert 1.8 * G < fz[running].max() < 3.5 * G
    assert fz[running].min() < 0.1 * G


def test_pause_is_quiet_standing_and_truth_has_landings_without_toe_off():
    run = simulate("pause-and-go", duration=60.0, fs=200.0, seed=5, **QUIET)
    tr = run.truth
    for start, dur in run.scenario.pauses:
        p = run.sensors["pelvis"]
        w = (p.t > start + 2.0) & (p.t < start + dur - 0.5)
        assert np.allclose(np.linalg.norm(p.acc[w], axis=1), 9.81, atol=1e-9)
        assert np.abs(p.gyr[w]).max() < 1e-12
        no_to = tr["ic_time"][np.isnan(tr["to_time"])]
        assert np.sum((no_to > start - 1) & (no_to < start + 2)) == 2  # both feet land
        assert not np.any((tr["ic_time"] > start + 2.0) & (tr["ic_time"] < start + dur))


def test_track_bends_turn_half_a_lap_with_centripetal_acceleration():
    vr = VirtualRunner("track-runner", fs=100.0, seed=6, duration=150.0, **QUIET)
    sc = vr.scenario
    t = np.arange(0.0, 150.0, 0.01)
    psi, dpsi, _ = vr.path.heading(t)
    bend_rate = sc.speed / sc.track_radius
    assert dpsi.max() == pytest.approx(bend_rate, rel=1e-9)
    assert psi[-1] - psi[0] == pytest.approx(np.pi * round((psi[-1] - psi[0]) / np.pi), abs=1e-9)
    assert psi[-1] > 2 * np.pi  # at least two bends in 150 s at 4 m/s
    acc = vr.path.accel(t)
    in_bend = (np.abs(dpsi - bend_rate) < 1e-9) & (vr.path.speed(t)[0] == sc.speed)
    assert in_bend.sum() > 1000
    assert np.allclose(np.linalg.norm(acc[in_bend], axis=1), sc.speed**2 / sc.track_radius)
    # the runner ends up back near the start after whole laps: position is consistent
    lap_t = (2 * np.pi * sc.track_radius + 2 * sc.track_straight) / sc.speed
    pos = vr.path.position(np.array([20.0, 20.0 + lap_t]))
    assert np.linalg.norm(pos[1] - pos[0]) < 0.01


def test_device_clock_offset_and_drift():
    run = simulate("symmetric-runner", duration=30.0, fs=200.0, seed=7, jitter_s=0.0)
    for s, sig in run.sensors.items():
        n = np.arange(sig.n)
        assert np.allclose(sig.t_device - sig.t_device[0], n / 200.0)
        slope = np.polyfit(sig.t, sig.t_device, 1)[0]
        ppm = (slope - 1) * 1e6
        assert abs(ppm) < 100 and abs(ppm) > 1e-3, s  # ~20 ppm sd, never exactly 0
        assert 0.0 <= sig.t_device[0] <= run.scenario.clock_offset_s
    offsets = {sig.t_device[0] for sig in run.sensors.values()}
    assert len(offsets) == 3  # independent device clocks


def test_sampling_jitter_and_noise_levels():
    run = simulate("symmetric-runner", duration=30.0, fs=200.0, seed=8, clock_drift_ppm=0.0)
    quiet = simulate("symmetric-runner", duration=30.0, fs=200.0, seed=8, **QUIET)
    sig, ref = run.sensors["pelvis"], quiet.sensors["pelvis"]
    jitter = sig.t - np.arange(sig.n) / 200.0
    assert np.std(jitter) == pytest.approx(run.scenario.jitter_s, rel=0.1)
    standing = sig.t < 2.5
    acc_sd = np.std(sig.acc[standing] - sig.acc[standing].mean(axis=0), axis=0)
    gyr_sd = np.std(sig.gyr[standing] - sig.gyr[standing].mean(axis=0), axis=0)
    assert np.allclose(acc_sd, run.scenario.acc_noise, rtol=0.15)
    assert np.allclose(gyr_sd, run.scenario.gyr_noise, rtol=0.15)
    assert np.all(np.abs(ref.acc[standing] - ref.acc[0]) < 1e-12)


def test_link_faults_are_described_per_sensor():
    sc = simulate("flaky-connection", duration=2.0).scenario
    assert sc.loss_rate > 0 and sc.burst_rate > 0 and sc.burst_mean_s > 0 and sc.reorder_prob > 0
    assert sc.disconnect_intervals("shoe_right") == [(20.0, 24.0), (45.0, 46.0)]
    assert sc.disconnect_intervals("pelvis") == [(33.0, 35.0)]
    assert sc.disconnect_intervals("shoe_left") == []


def test_neutral_obliquity_without_standing_is_the_run_mean():
    vr = VirtualRunner("symmetric-runner", fs=100.0, seed=9, duration=30.0, standing_s=0.0)
    t = np.linspace(0.0, 30.0, 20001)
    roll = euler_of(vr.orientation("pelvis", t))[2]
    assert vr.neutral_obliquity == pytest.approx(roll.mean(), abs=2e-4)
    assert vr.truth["ic_time"][0] < 1.0  # moving from the start


def test_rotate_matches_matmul():
    rng = np.random.default_rng(10)
    r = euler_matrix(*rng.normal(size=(3, 20)))
    v = rng.normal(size=(20, 3))
    assert np.allclose(rotate(r, v), np.einsum("nij,nj->ni", r, v))


def test_pelvis_lever_arm_acceleration_is_second_derivative_of_rotated_offset():
    """The sensor sits off the pelvis centre: acc(sensor) - acc(centre) = d2/dt2 (R c)."""
    lever = (-0.12, 0.05, 0.03)
    a = VirtualRunner("track-runner", fs=100.0, seed=11, duration=20.0, pelvis_lever=lever)
    b = VirtualRunner("track-runner", fs=100.0, seed=11, duration=20.0, pelvis_lever=(0, 0, 0))
    t = np.arange(4.0, 19.0, 1e-3)
    diff = a.models["pelvis"].kinematics(t)[2] - b.models["pelvis"].kinematics(t)[2]
    h = 1e-5
    c = np.broadcast_to(np.array(lever), (t.size, 3))
    rc = [rotate(a.orientation("pelvis", t + d), c) for d in (-h, 0.0, h)]
    fd = (rc[0] - 2 * rc[1] + rc[2]) / h**2
    assert np.abs(diff).max() > 0.5  # the lever arm matters (m/s^2)
    assert np.percentile(np.abs(fd - diff), 99.9) < 0.02


def test_gyro_bias_random_walk_grows_like_sqrt_time():
    from imustream.sim.realism import SensorRealism
    from imustream.sim.scenarios import get_scenario

    sc = get_scenario("symmetric-runner", gyr_bias_walk=0.001)
    t = np.array([0.0, 400.0])
    steps = np.array(
        [
            np.diff(SensorRealism.draw(sc, 100.0, seed, "pelvis", 500.0).gyro_bias(t), axis=0)[0]
            for seed in range(300)
        ]
    )
    # random walk: sd of the change over 400 s = 0.001 * sqrt(400) = 0.02 rad/s per axis
    assert np.std(steps) == pytest.approx(0.02, rel=0.1)
    const = [SensorRealism.draw(sc, 100.0, s, "pelvis", 10.0).gyr_bias for s in range(300)]
    assert np.std(const) == pytest.approx(sc.gyr_bias, rel=0.1)


@pytest.mark.parametrize("name", ["symmetric-runner", "treadmill-walk"])
def test_truth_ic_and_to_are_first_and_last_ground_contact(name):
    vr = VirtualRunner(name, fs=200.0, seed=12, duration=20.0, **QUIET)
    tr = vr.truth
    for sensor in ("shoe_left", "shoe_right"):
        foot = vr.models[sensor]
        mine = (tr["side"] == sensor[5:]) & np.isfinite(tr["to_time"])
        for ic, to in zip(tr["ic_time"][mine], tr["to_time"][mine], strict=True):
            # IC: the heel arrives moving down without decelerating; right after IC it brakes
            t = np.array([ic - 2e-3, ic - 1e-6, ic + 1e-6])
            _, dh, ddh = foot.heel(t)
            assert dh[0, 2] < -0.3 and dh[1, 2] < -0.3
            assert abs(ddh[1, 2]) < 0.05  # no deceleration before the contact
            assert ddh[2, 2] > 5 * 9.81  # the impact
            # TO: the toe is on the ground (pivot) until TO and in the air after it
            tt = np.array([to - 0.02, to - 1e-6, to + 0.01, to + 0.03])
            r = foot.orientation(tt)
            heel = foot.heel(tt)[0]
            piv = foot.pivot[foot.heel.piece(tt)]
            assert list(piv) == [True, True, False, False]
            heel[piv] += rotate(r[piv], np.broadcast_to(-foot.toe, (2, 3)))
            toe_z = (heel + rotate(r, np.broadcast_to(foot.toe, (4, 3))))[:, 2]
            assert np.allclose(toe_z[:2], 0.0, atol=1e-12)
            assert toe_z[2] > 1e-4 and toe_z[3] > toe_z[2]


def test_walking_pelvis_is_periodic_and_sways_toward_the_stance_leg():
    # the stride-periodic model alone (the random wobble is tested below)
    vr = VirtualRunner(
        "treadmill-walk",
        fs=200.0,
        seed=5,
        duration=30.0,
        wobble_acc=(0, 0, 0),
        wobble_rate=(0, 0),
        **QUIET,
    )
    pel, plan = vr.models["pelvis"], vr.plan
    dt = 1e-4
    t = np.arange(0.0, 30.0, dt)
    _, _, acc = pel.kinematics(t)
    vel = np.cumsum(acc, axis=0) * dt
    pos = np.cumsum(vel, axis=0) * dt
    (_, first, land) = plan.bouts[0]
    steady = (plan.ic > first + 3.0) & (plan.ic < min(land, 29.0) - 1.0)
    ics, sides = plan.ic[steady], plan.side[steady]
    at = np.round(ics / dt).astype(int)
    assert ics.size > 30
    # vertical: the same speed at every IC (weight carried, no drift), no net climb
    assert np.ptp(vel[at, 2]) < 0.02
    walking = (t > ics[0]) & (t < ics[-1])
    assert abs(np.mean(vel[walking, 2])) < 0.03
    # inverted pendulum: highest in mid-stance, lowest in double support just after IC
    mid = np.round((ics[:-1] + 0.5 * np.diff(ics)) / dt).astype(int)
    rise = pos[mid, 2] - (pos[at[:-1], 2] + pos[at[1:], 2]) / 2
    assert np.all(rise > 0.005) and np.median(rise) < 0.05, rise
    i_low = [a + np.argmin(pos[a - 500 : a + 1500, 2]) - 500 for a in at[1:-1]]
    lag = (np.array(i_low) - at[1:-1]) * dt
    assert np.all((lag > -0.05) & (lag < 0.15)), lag
    # lateral (world y = left): about the same speed at every IC of a side, crossing the midline
    # at IC towards the new stance leg, the excursion to the stance side at mid-step
    y, vy = pos[:, 1] - np.mean(pos[walking, 1]), vel[:, 1]
    for s, sign in ((0, 1.0), (1, -1.0)):
        mine = sides == s
        assert np.ptp(vel[at[mine], 1]) < 0.3 * np.abs(vel[at[mine], 1]).mean()
        assert np.all(sign * vy[at[mine]] > 0.1)
        m = mid[mine[:-1]]
        assert np.all(sign * y[m] > 0.02)
    assert np.abs(y[at]).max() < 0.01


def test_walking_pelvis_wobble_is_band_limited_and_only_in_bouts():
    def walker(seed=7, **kw):
        sc = {"wobble_acc": (0.8, 0.8, 1.0), "wobble_rate": (0.2, 0.3), **QUIET, **kw}
        sc.setdefault("impact_time_sd", 0.015)
        walk = dict(gait="walk", speed=1.3, cadence=110.0, contact_time=0.65)
        return VirtualRunner("pause-and-go", fs=200.0, seed=seed, duration=40.0, **walk, **sc)

    vr = walker()
    no_lin = walker(wobble_acc=(0, 0, 0))  # the same random angles
    quiet = walker(wobble_acc=(0, 0, 0), wobble_rate=(0, 0))
    t = np.arange(0.0, 40.0, 1e-3)
    wob = vr.models["pelvis"].wobble
    y, v, a = wob(t)
    # the pelvis acceleration differs from the periodic model by exactly the wobble
    diff = vr.models["pelvis"].kinematics(t)[2] - no_lin.models["pelvis"].kinematics(t)[2]
    assert np.allclose(diff, a, atol=1e-9)
    # a displacement of a few mm whose rates are its derivatives (C2 quintics)
    assert np.abs(y).max() < 0.02

    def integral(x):
        return np.vstack([np.zeros((1, 3)), np.cumsum((x[1:] + x[:-1]) / 2, axis=0) * 1e-3])

    assert np.allclose(integral(a), v - v[0], atol=1e-4)
    assert np.allclose(integral(v), y - y[0], atol=1e-6)
    # yaw and pitch move by the random angles, the obliquity (drop truth) does not
    ang = [np.stack(x, axis=1) for x in zip(*vr.models["pelvis"].angles(t), strict=True)]
    ref = [np.stack(x, axis=1) for x in zip(*quiet.models["pelvis"].angles(t), strict=True)]
    wy, wv, wa = wob.angles(t)
    for k, w in enumerate((wy, wv, wa)):
        assert np.allclose(ang[k][:, :2] - ref[k][:, :2], w, atol=1e-12)
        assert np.array_equal(ang[k][:, 2], ref[k][:, 2])
    drop = vr.truth["pelvic_drop_deg"]
    np.testing.assert_allclose(drop, quiet.truth["pelvic_drop_deg"], atol=1e-9)
    # zero while standing (start, pauses), the requested rms while walking
    plan = vr.plan
    in_bout = np.zeros(t.size, bool)
    for _, first, land in plan.bouts:
        in_bout |= (t >= first) & (t <= land)
    assert np.all(a[t < plan.bouts[0, 0]] == 0)
    for start, dur in vr.scenario.pauses:
        assert np.all(a[(t > start + 1.0) & (t < start + dur - 0.5)] == 0)
    assert np.allclose(a[in_bout].std(axis=0), [0.8, 0.8, 1.0], rtol=0.15)
    assert np.allclose(wv[in_bout].std(axis=0), [0.2, 0.3], rtol=0.15)
    # band-limited (slow and fast knots): >= 90 % of the power below 15 Hz, a part above 5 Hz
    spec = np.abs(np.fft.rfft(a[in_bout][:, 2])) ** 2
    f = np.fft.rfftfreq(int(in_bout.sum()), 1e-3)
    assert spec[f < 15.0].sum() > 0.9 * spec.sum()
    assert 0.2 < spec[(f > 5.0) & (f < 15.0)].sum() / spec.sum() < 0.7
    # the loading transient's lag after IC varies from step to step
    lag = vr.models["pelvis"].impact_lag
    assert np.std(lag) == pytest.approx(vr.scenario.impact_time_sd, rel=0.3)
    # deterministic from the seed, another seed differs
    again = walker().models["pelvis"].wobble(t)[2]
    other = walker(seed=8).models["pelvis"].wobble(t)[2]
    assert np.array_equal(a, again) and not np.allclose(a, other)
