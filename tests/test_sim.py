"""The virtual runner's own truth checks out: kinematic consistency, gravity, truth table,
determinism, chunking."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imustream.errors import ConfigError
from imustream.sim import (
    SENSORS,
    TRUTH_FIELDS,
    VirtualRunner,
    get_scenario,
    scenario_names,
    simulate,
)
from imustream.sim.rotations import euler_of

NAMES = [
    "symmetric-runner",
    "right-hip-drop",
    "left-hip-drop",
    "fatigue-drift",
    "limping-walk",
    "flaky-connection",
    "track-runner",
    "treadmill-walk",
    "fast-runner",
    "pause-and-go",
]
QUIET = dict(
    acc_noise=0.0,
    gyr_noise=0.0,
    acc_bias=0.0,
    gyr_bias=0.0,
    gyr_bias_walk=0.0,
    jitter_s=0.0,
    clock_drift_ppm=0.0,
)


def _quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    w1, x1, y1, z1 = a
    w2, x2, y2, z2 = b
    return np.array(
        [
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        ]
    )


def _quat_of(r: np.ndarray) -> np.ndarray:
    """Unit quaternion (w, x, y, z) of one rotation matrix (Shepperd, w >= 0 branch enough
    for an error measure)."""
    w = np.sqrt(max(0.0, 1 + np.trace(r))) / 2
    if w > 1e-3:
        return np.array(
            [
                w,
                (r[2, 1] - r[1, 2]) / (4 * w),
                (r[0, 2] - r[2, 0]) / (4 * w),
                (r[1, 0] - r[0, 1]) / (4 * w),
            ]
        )
    i = int(np.argmax(np.diag(r)))
    j, k = (i + 1) % 3, (i + 2) % 3
    s = np.sqrt(1 + r[i, i] - r[j, j] - r[k, k]) * 2
    q = np.empty(4)
    q[0] = (r[k, j] - r[j, k]) / s
    q[1 + i] = s / 4
    q[1 + j] = (r[j, i] + r[i, j]) / s
    q[1 + k] = (r[k, i] + r[i, k]) / s
    return q


def _angle_between(q1: np.ndarray, q2: np.ndarray) -> float:
    return float(np.degrees(2 * np.arccos(min(1.0, abs(float(np.dot(q1, q2)))))))


def _integrate_gyro(q0: np.ndarray, omega: np.ndarray, dt: float) -> np.ndarray:
    """Integrate body-frame angular rate (midpoint rule, exact exponential per step)."""
    qs = np.empty((omega.shape[0], 4))
    q = q0.copy()
    qs[0] = q
    mid = (omega[1:] + omega[:-1]) / 2 * dt
    ang = np.linalg.norm(mid, axis=1)
    axis = mid / np.where(ang > 0, ang, 1.0)[:, None]
    dq = np.column_stack([np.cos(ang / 2), axis * np.sin(ang / 2)[:, None]])
    for k in range(mid.shape[0]):
        q = _quat_mul(q, dq[k])
        qs[k + 1] = q
    return qs


def test_all_named_scenarios_exist_and_validate():
    assert scenario_names() == NAMES
    for name in NAMES:
        sc = get_scenario(name)
        assert sc.name == name and sc.description


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ConfigError, match="unknown scenario"):
        simulate("moonwalk")
    with pytest.raises(ConfigError, match="cadense"):
        simulate("symmetric-runner", duration=5, cadense=180)
    with pytest.raises(ConfigError, match="contact_time"):
        simulate("symmetric-runner", duration=5, contact_time=0.5)
    with pytest.raises(ConfigError, match="fs"):
        simulate("symmetric-runner", duration=5, fs=0)
    with pytest.raises(ConfigError, match="seed"):
        simulate("symmetric-runner", duration=5, seed="abc")
    with pytest.raises(ConfigError, match="duration"):
        simulate("symmetric-runner", duration=float("nan"))
    with pytest.raises(ConfigError, match="chunk_s"):
        next(VirtualRunner(duration=2.0).chunks(0.0001))
    with pytest.raises(ConfigError, match="jitter_s"):
        simulate("symmetric-runner", duration=5, fs=1000.0, jitter_s=3e-4)
    with pytest.raises(ConfigError, match="rotation"):
        simulate("symmetric-runner", duration=5, mounting=np.diag([1.0, 1.0, -1.0]))


@pytest.mark.parametrize("name", ["pause-and-go", "track-runner", "treadmill-walk"])
@pytest.mark.parametrize("sensor", SENSORS)
def test_integrating_gyro_gives_back_orientation(name, sensor):
    vr = VirtualRunner(name, fs=200.0, seed=1, duration=30.0)
    fs = 1000.0
    t = np.arange(0.0, 30.0, 1 / fs)
    r = vr.orientation(sensor, t)
    _, omega = vr.body_signals(sensor, t)
    qs = _integrate_gyro(_quat_of(r[0]), omega, 1 / fs)
    err = [_angle_between(qs[k], _quat_of(r[k])) for k in range(0, t.size, 97)]
    assert max(err) < 0.05  # degrees after 30 s of running, turning, stopping (1 kHz midpoint)
    # and the gyro is not trivially zero: feet swing at several rad/s
    peak = np.abs(omega).max()
    assert peak > (5.0 if sensor != "pelvis" else 0.3)


@pytest.mark.parametrize("seed", range(5))
def test_standing_specific_force_is_gravity_in_sensor_frame(seed):
    run = VirtualRunner("symmetric-runner", fs=200.0, seed=seed, duration=5.0, **QUIET)
    out = run.run()
    t = np.arange(0.0, 2.0, 0.05)
    for s in SENSORS:
        sig = out.sensors[s]
        m = sig.mounting
        assert np.allclose(m @ m.T, np.eye(3)) and np.isclose(np.linalg.det(m), 1.0)
        assert not np.allclose(m, np.eye(3))  # random mounting by default
        standing = sig.t < 2.0
        acc = sig.acc[standing]
        assert np.allclose(np.linalg.norm(acc, axis=1), 9.81, atol=1e-9)
        up_sensor = m @ run.orientation(s, t)[0].T @ np.array([0.0, 0.0, 1.0])
        assert np.allclose(acc, 9.81 * up_sensor, atol=1e-9)
        assert np.allclose(sig.gyr[standing], 0.0, atol=1e-12)


def test_mounting_none_and_explicit_matrix():
    rot = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    a = simulate("symmetric-runner", duration=4.0, seed=2, mounting=None, **QUIET)
    b = simulate("symmetric-runner", duration=4.0, seed=2, mounting=rot, **QUIET)
    for s in SENSORS:
        assert np.array_equal(a.sensors[s].mounting, np.eye(3))
        assert np.allclose(b.sensors[s].acc, a.sensors[s].acc @ rot.T, atol=1e-12)
        assert np.allclose(b.sensors[s].gyr, a.sensors[s].gyr @ rot.T, atol=1e-12)
    # a foot standing on the ground, sensor unrotated, reads ~+9.81 on z (slight eversion)
    acc = a.sensors["shoe_left"].acc[:100]
    assert np.allclose(np.linalg.norm(acc, axis=1), 9.81, atol=1e-9)
    assert np.all(acc[:, 2] > 9.7)


@pytest.mark.parametrize("name", NAMES)
def test_truth_table_is_consistent(name):
    run = simulate(name, duration=40.0, fs=100.0, seed=4)
    tr = run.truth
    assert set(TRUTH_FIELDS) <= set(tr)
    n = tr["ic_time"].size
    assert n > 20 and all(tr[f].shape == (n,) for f in TRUTH_FIELDS)
    assert set(tr["side"]) == {"left", "right"}
    assert np.all(np.diff(tr["ic_time"]) > 0)
    ok = np.isfinite(tr["to_time"])
    assert ok.mean() > 0.8
    ct = tr["contact_time"][ok]
    assert np.all(ct > 0)
    assert np.allclose(ct, tr["to_time"][ok] - tr["ic_time"][ok])
    st = tr["step_time"]
    fin = np.isfinite(st)
    assert np.all(st[fin] > 0)
    # step time = time to the next IC, which is on the other side
    nxt = np.searchsorted(tr["ic_time"], tr["ic_time"][fin], side="right")
    assert np.allclose(tr["ic_time"][nxt] - tr["ic_time"][fin], st[fin])
    assert np.all(tr["side"][nxt] != tr["side"][fin])
    both = ok & fin
    ft = tr["flight_time"][both]
    assert np.allclose(ft, tr["step_time"][both] - tr["contact_time"][both])
    if run.scenario.gait == "run":
        assert np.all(ft > 0.03)
    else:
        assert np.all(ft < 0)  # walking: double support
    assert np.all(np.isfinite(tr["pelvic_drop_deg"][ok]))
    assert np.all(np.isnan(tr["pelvic_drop_deg"][~ok]))


def test_truth_times_within_the_data_and_match_cadence():
    run = simulate("symmetric-runner", duration=60.0, fs=200.0, seed=5)
    tr = run.truth
    assert tr["ic_time"].min() >= run.scenario.standing_s
    assert np.nanmax(tr["to_time"]) <= 60.0
    sc = run.scenario
    assert np.nanmedian(tr["step_time"]) == pytest.approx(60 / sc.cadence, rel=0.02)
    assert np.nanmedian(tr["contact_time"]) == pytest.approx(sc.contact_time, rel=0.02)


def test_limping_walk_contact_asymmetry_in_truth():
    tr = simulate("limping-walk", duration=60.0, fs=100.0, seed=6).truth
    left = np.nanmean(tr["contact_time"][tr["side"] == "left"])
    right = np.nanmean(tr["contact_time"][tr["side"] == "right"])
    asym = 100 * (left - right) / ((left + right) / 2)
    assert asym == pytest.approx(-12.0, abs=1.5)


def test_right_hip_drop_means_large_drop_in_left_stance():
    tr = simulate("right-hip-drop", duration=60.0, seed=7).truth
    left = np.nanmean(tr["pelvic_drop_deg"][tr["side"] == "left"])
    right = np.nanmean(tr["pelvic_drop_deg"][tr["side"] == "right"])
    assert left == pytest.approx(9.0, abs=0.5)
    assert right == pytest.approx(4.0, abs=0.5)


def test_pelvic_drop_truth_matches_orientation_sampled_independently():
    """Recompute the drop from densely sampled orientation with the DESIGN.md definition."""
    vr = VirtualRunner("left-hip-drop", fs=200.0, seed=8, duration=20.0, neutral_obliquity_deg=2.0)
    tr = vr.truth
    t = np.arange(0.0, 20.0, 1e-4)
    roll = np.degrees(euler_of(vr.orientation("pelvis", t))[2])
    neutral = roll[t < vr.scenario.standing_s].mean()
    assert neutral == pytest.approx(2.0, abs=1e-9)
    for k in np.flatnonzero(np.isfinite(tr["to_time"])):
        inside = (t >= tr["ic_time"][k]) & (t <= tr["to_time"][k])
        sign = 1.0 if tr["side"][k] == "left" else -1.0  # left stance: right hip down = roll up
        expect = (sign * (roll[inside] - neutral)).max()
        assert tr["pelvic_drop_deg"][k] == pytest.approx(expect, abs=1e-3)
    # second definition: elevation of the left-right axis; slightly smaller with anterior tilt
    ml = np.degrees(np.arcsin(vr.orientation("pelvis", t)[:, 2, 1]))
    ml_neutral = ml[t < vr.scenario.standing_s].mean()
    for k in np.flatnonzero(np.isfinite(tr["to_time"]))[:10]:
        inside = (t >= tr["ic_time"][k]) & (t <= tr["to_time"][k])
        sign = 1.0 if tr["side"][k] == "left" else -1.0
        expect = (sign * (ml[inside] - ml_neutral)).max()
        assert tr["pelvic_drop_ml_deg"][k] == pytest.approx(expect, abs=1e-3)
    ok = np.isfinite(tr["pelvic_drop_deg"])
    ratio = tr["pelvic_drop_ml_deg"][ok] / tr["pelvic_drop_deg"][ok]
    assert np.all((ratio > 0.95) & (ratio < 1.0))


def test_fatigue_drift_drop_grows_on_the_left_only():
    tr = simulate("fatigue-drift", duration=240.0, fs=50.0, seed=9).truth
    for side, slope_expect in (("left", 0.5), ("right", 0.0)):
        sel = (tr["side"] == side) & np.isfinite(tr["pelvic_drop_deg"])
        slope = np.polyfit(tr["ic_time"][sel] / 60, tr["pelvic_drop_deg"][sel], 1)[0]
        assert slope == pytest.approx(slope_expect, abs=0.1)


def test_deterministic_from_seed():
    a = simulate("flaky-connection", duration=10.0, seed=11)
    b = simulate("flaky-connection", duration=10.0, seed=11)
    c = simulate("flaky-connection", duration=10.0, seed=12)
    for s in SENSORS:
        for f in ("t", "acc", "gyr", "t_device", "mounting", "clipped", "gyr_clipped"):
            assert np.array_equal(getattr(a.sensors[s], f), getattr(b.sensors[s], f))
        assert not np.array_equal(a.sensors[s].acc, c.sensors[s].acc)
    for f in TRUTH_FIELDS:
        floats = a.truth[f].dtype.kind == "f"
        assert np.array_equal(a.truth[f], b.truth[f], equal_nan=floats)
    assert not np.array_equal(a.truth["ic_time"], c.truth["ic_time"])


@pytest.mark.parametrize("chunk_s", [0.013, 0.5, 3.7, 100.0])
@pytest.mark.parametrize("name", ["pause-and-go", "track-runner", "limping-walk"])
def test_chunks_concatenate_to_whole_run_exactly(name, chunk_s):
    vr = VirtualRunner(name, fs=200.0, seed=13, duration=25.0)
    whole = vr.run()
    chunks = list(vr.chunks(chunk_s))
    starts = [c.start for c in chunks]
    assert starts[0] == 0 and starts == sorted(starts)
    for s in SENSORS:
        for f in ("t", "acc", "gyr", "t_device", "clipped", "gyr_clipped"):
            cat = np.concatenate([getattr(c.sensors[s], f) for c in chunks])
            assert np.array_equal(cat, getattr(whole.sensors[s], f)), (s, f)


def test_shoe_impact_transient_and_clipping():
    run = simulate("symmetric-runner", duration=20.0, fs=1000.0, seed=14, mounting=None, **QUIET)
    tr = run.truth
    sig = run.sensors["shoe_left"]
    mag = np.linalg.norm(sig.acc, axis=1)
    peaks = []
    for ic in tr["ic_time"][(tr["side"] == "left") & np.isfinite(tr["to_time"])]:
        w = (sig.t >= ic) & (sig.t < ic + 0.03)
        peaks.append(mag[w].max())
    assert np.min(peaks) > 3 * 9.81  # several g at each foot strike
    low = simulate(
        "symmetric-runner", duration=20.0, fs=1000.0, seed=14, mounting=None, acc_range_g=4.0
    )
    clipped = low.sensors["shoe_left"].clipped
    assert clipped.any()
    limit = 4.0 * 9.80665
    acc = low.sensors["shoe_left"].acc
    assert np.all(np.abs(acc) <= limit)
    assert np.all(np.any(np.abs(acc[clipped]) == limit, axis=1))
    assert not low.sensors["shoe_left"].gyr_clipped.any()  # +-2000 deg/s by default
    slow = simulate("symmetric-runner", duration=20.0, fs=200.0, seed=14, gyr_range_dps=250.0)
    g = slow.sensors["shoe_left"]
    assert g.gyr_clipped.any() and not g.clipped.any()
    assert np.all(np.abs(g.gyr) <= np.deg2rad(250.0))
    assert np.all(np.any(np.abs(g.gyr[g.gyr_clipped]) == np.deg2rad(250.0), axis=1))


def test_foot_is_quiet_in_mid_stance():
    run = simulate("symmetric-runner", duration=20.0, fs=1000.0, seed=15, mounting=None, **QUIET)
    tr = run.truth
    sig = run.sensors["shoe_right"]
    sc = run.scenario
    right = (tr["side"] == "right") & np.isfinite(tr["to_time"])
    checked = 0
    for ic, tc in zip(tr["ic_time"][right], tr["contact_time"][right], strict=True):
        w = (sig.t > ic + sc.foot_flat_frac * tc + 1e-3) & (sig.t < ic + sc.heel_off_frac * tc)
        assert w.sum() > 50
        assert np.abs(sig.gyr[w]).max() < 1e-9
        assert np.allclose(sig.acc[w], sig.acc[w][0], atol=1e-9)
        assert np.allclose(np.linalg.norm(sig.acc[w], axis=1), 9.81, atol=1e-9)
        checked += 1
    assert checked > 20


def test_running_drop_truth_equals_commanded_amplitude_per_step():
    """In running, stances do not overlap, so the drop measured on the orientation must equal
    each step's commanded amplitude: two independent routes to the same number."""
    vr = VirtualRunner("right-hip-drop", fs=100.0, seed=16, duration=30.0)
    tr, plan = vr.truth, vr.plan
    ok = np.isfinite(tr["to_time"])
    idx = np.searchsorted(plan.ic, tr["ic_time"][ok])
    assert np.allclose(tr["pelvic_drop_deg"][ok], plan.drop_amp[idx], atol=1e-6)


def test_short_run_nan_and_dict_mounting_inputs():
    short = simulate("symmetric-runner", duration=1.0, fs=100.0)
    assert all(short.truth[f].shape == (0,) for f in TRUTH_FIELDS)
    assert short.sensors["pelvis"].acc.shape == (100, 3)
    with pytest.raises(ConfigError, match="drop_left_deg"):
        simulate("symmetric-runner", duration=2.0, drop_left_deg=float("nan"))
    with pytest.raises(ConfigError, match="pause"):
        simulate("symmetric-runner", duration=2.0, pauses=((1.0, 2.0),))  # inside standing
    rot = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])
    run = simulate("symmetric-runner", duration=2.0, mounting={"pelvis": rot, "shoe_left": None})
    assert np.array_equal(run.sensors["pelvis"].mounting, rot)
    assert np.array_equal(run.sensors["shoe_left"].mounting, np.eye(3))
    assert np.array_equal(run.sensors["shoe_right"].mounting, np.eye(3))  # absent = identity


@settings(max_examples=12, deadline=None)
@given(
    walk=st.booleans(),
    cadence=st.floats(150.0, 190.0),
    duty=st.floats(0.3, 0.42),
    contact_asym=st.floats(-15.0, 15.0),
    step_asym=st.floats(-8.0, 8.0),
    drops=st.tuples(st.floats(0.0, 12.0), st.floats(0.0, 12.0)),
    neutral=st.floats(-3.0, 3.0),
    seed=st.integers(0, 2**31),
)
def test_truth_follows_parameters_for_any_gait(
    walk, cadence, duty, contact_asym, step_asym, drops, neutral, seed
):
    if walk:
        cadence, contact = cadence - 60.0, (60.0 / (cadence - 60.0)) * (1.0 + duty)
    else:
        contact = (60.0 / cadence) * duty * 2
    run = simulate(
        "treadmill-walk" if walk else "symmetric-runner",
        duration=40.0,
        fs=50.0,
        seed=seed,
        cadence=cadence,
        contact_time=contact,
        contact_asym_pct=contact_asym,
        step_asym_pct=step_asym,
        drop_left_deg=drops[0],
        drop_right_deg=drops[1],
        neutral_obliquity_deg=neutral,
    )
    tr = run.truth
    for s in SENSORS:
        assert np.all(np.isfinite(run.sensors[s].acc)) and np.all(np.isfinite(run.sensors[s].gyr))
    left, right = tr["side"] == "left", tr["side"] == "right"
    ct_l, ct_r = np.nanmean(tr["contact_time"][left]), np.nanmean(tr["contact_time"][right])
    assert 100 * (ct_l - ct_r) / ((ct_l + ct_r) / 2) == pytest.approx(contact_asym, abs=2.5)
    st_l, st_r = np.nanmean(tr["step_time"][left]), np.nanmean(tr["step_time"][right])
    assert 100 * (st_l - st_r) / ((st_l + st_r) / 2) == pytest.approx(step_asym, abs=2.0)
    assert np.nanmedian(tr["cadence"]) == pytest.approx(cadence, rel=0.1)
    assert run.neutral_obliquity_deg == pytest.approx(neutral, abs=1e-9)
    for side, commanded in (("left", drops[0]), ("right", drops[1])):
        d = tr["pelvic_drop_deg"][tr["side"] == side]
        d = d[np.isfinite(d)]
        # running: the commanded amplitude (+-8 % step-to-step); walking: the other side's
        # overlapping double-support drift can add or remove up to its own amplitude
        slack = 0.2 * commanded + 0.3 + (max(drops) if walk else 0.0)
        assert np.mean(d) == pytest.approx(commanded, abs=slack)
