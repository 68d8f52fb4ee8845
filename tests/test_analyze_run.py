"""analyze_run: step table against the virtual runner's truth, alerts, input validation."""

from __future__ import annotations

import math

import numpy as np
import pytest

import imustream
from imustream.sim import simulate
from imustream.types import STEP_FIELDS

FS = 200.0
SENSORS = ("pelvis", "shoe_left", "shoe_right")


def _args(run, sensors=SENSORS):
    """Sensor tuples with the true sample times (device clocks drift ~20 ppm in the sim)."""
    return {s: (run.sensors[s].acc, run.sensors[s].gyr, run.sensors[s].t) for s in sensors}


def _matched(table, truth, tol=0.05):
    """Index pairs (truth k, table j) of steps whose IC and side agree."""
    ic = table["ic_time"]
    pairs = []
    for k, t in enumerate(truth["ic_time"]):
        j = int(np.argmin(np.abs(ic - t)))
        if abs(ic[j] - t) < tol and table["side"][j] == truth["side"][k]:
            pairs.append((k, j))
    return np.array(pairs)


def _rmse(a, b):
    ok = np.isfinite(a) & np.isfinite(b)
    return float(np.sqrt(np.mean((a[ok] - b[ok]) ** 2))), int(ok.sum())


@pytest.mark.parametrize(
    "scenario",
    ["symmetric-runner", "right-hip-drop", "left-hip-drop", "track-runner", "pause-and-go"],
)
def test_step_table_accuracy_per_scenario(scenario):
    run = simulate(scenario, duration=40.0, fs=FS, seed=21, mounting="random")
    table = imustream.analyze_run(FS, **_args(run))
    tr = run.truth
    m = _matched(table, tr)
    assert len(m) >= 0.97 * len(tr["ic_time"])
    drop_rmse, n = _rmse(table["pelvic_drop_deg"][m[:, 1]], tr["pelvic_drop_deg"][m[:, 0]])
    assert n >= 0.9 * len(m)
    assert drop_rmse <= 1.0
    # contact time comes from the shoe toe-off detector (measured 5-6 ms RMSE)
    ct_rmse, n = _rmse(table["contact_time"][m[:, 1]], tr["contact_time"][m[:, 0]])
    assert n >= 0.9 * len(m) and ct_rmse <= 0.02
    st_rmse, n = _rmse(table["step_time"][m[:, 1]], tr["step_time"][m[:, 0]])
    assert n >= 0.9 * len(m) and st_rmse <= 0.01


def test_fields_types_and_derived_values():
    run = simulate("symmetric-runner", duration=20.0, fs=FS, seed=22)
    table = imustream.analyze_run(FS, **_args(run))
    assert table.fields == STEP_FIELDS
    arrays = table.to_dict()
    n = len(table)
    assert n > 30
    for name in STEP_FIELDS:
        assert arrays[name].shape == (n,)
    assert set(arrays["side"]) == {"left", "right"}
    assert arrays["has_gap"].dtype == bool and arrays["clipped"].dtype == bool
    ok = np.isfinite(arrays["step_time"])
    np.testing.assert_allclose(arrays["cadence"][ok], 60.0 / arrays["step_time"][ok])
    assert np.all(np.diff(arrays["ic_time"]) > 0)
    assert 150 < np.nanmedian(arrays["cadence"]) < 190
    assert np.all(arrays["impact_peak"][np.isfinite(arrays["impact_peak"])] > 9.81)
    with pytest.raises(KeyError, match="no step field"):
        table["speed"]
    assert table.events and all(e.emitted_time >= e.time - 1e-9 for e in table.events)


def test_pelvis_only_and_shoes_only():
    run = simulate("right-hip-drop", duration=40.0, fs=FS, seed=23)
    tr = run.truth
    pelvis = imustream.analyze_run(FS, **_args(run, ("pelvis",)))
    m = _matched(pelvis, tr)
    assert len(m) >= 0.9 * len(tr["ic_time"])  # sides from the pelvis alone
    rmse, _ = _rmse(pelvis["pelvic_drop_deg"][m[:, 1]], tr["pelvic_drop_deg"][m[:, 0]])
    assert rmse <= 1.0
    assert np.isnan(pelvis["impact_peak"]).all()
    shoes = imustream.analyze_run(FS, **_args(run, ("shoe_left", "shoe_right")))
    assert len(_matched(shoes, tr)) >= 0.97 * len(tr["ic_time"])
    assert np.isnan(shoes["pelvic_drop_deg"]).all()


def test_nominal_rate_without_times_and_chunk_independence():
    run = simulate("symmetric-runner", duration=20.0, fs=FS, seed=24)
    arrays = {s: (run.sensors[s].acc, run.sensors[s].gyr) for s in SENSORS}
    a = imustream.analyze_run(FS, **arrays, chunk=64)
    b = imustream.analyze_run(FS, **arrays, chunk=5)
    for name in STEP_FIELDS:
        np.testing.assert_array_equal(a[name], b[name])
    assert len(_matched(a, run.truth)) >= 0.97 * len(run.truth["ic_time"])


def test_alerts_right_hip_drop_fires_symmetric_silent_no_flicker():
    hip = simulate("right-hip-drop", duration=60.0, fs=FS, seed=25, mounting="random")
    sym = simulate("symmetric-runner", duration=60.0, fs=FS, seed=25, mounting="random")
    t_hip = imustream.analyze_run(FS, **_args(hip))
    t_sym = imustream.analyze_run(FS, **_args(sym))
    assert t_sym.alerts == []
    keys = {(a.metric, a.side) for a in t_hip.alerts}
    assert ("pelvic_drop_deg", "left") in keys
    for key in keys:  # each alert turns on once and stays on: no flicker
        transitions = [a.active for a in t_hip.alerts if (a.metric, a.side) == key]
        assert transitions == [True]


@pytest.mark.slow
def test_fatigue_drift_alert_fires_once_drop_diverges():
    run = simulate("fatigue-drift", duration=480.0, fs=FS, seed=0)
    table = imustream.analyze_run(FS, **_args(run))
    drop = [a for a in table.alerts if a.metric == "pelvic_drop_deg"]
    assert len(drop) == 1 and drop[0].active and drop[0].side == "left"
    # truth: left drop 4 + 0.5 deg/min (after the 3 s standing); alert at >= 3 deg difference
    assert 300.0 < drop[0].time < 440.0
    assert "Right hip drops more during left stance" in drop[0].message
    assert [a for a in table.alerts if a.metric != "pelvic_drop_deg"] == []


def test_input_validation():
    acc = np.tile([0.0, 0.0, 9.81], (100, 1))
    gyr = np.zeros((100, 3))
    with pytest.raises(ValueError, match="at least one sensor"):
        imustream.analyze_run(FS)
    with pytest.raises(ValueError, match="positive number"):
        imustream.analyze_run(0.0, pelvis=(acc, gyr))
    with pytest.raises(ValueError, match="no rate for"):
        imustream.analyze_run({"pelvis": FS}, shoe_left=(acc, gyr))
    with pytest.raises(ValueError, match=r"acc must have shape \(N, 3\)"):
        imustream.analyze_run(FS, pelvis=(acc[:, :2], gyr))
    with pytest.raises(ValueError, match="gyr must have the same shape"):
        imustream.analyze_run(FS, pelvis=(acc, gyr[:50]))
    with pytest.raises(ValueError, match="NaN"):
        bad = acc.copy()
        bad[5, 0] = math.nan
        imustream.analyze_run(FS, pelvis=(bad, gyr))
    with pytest.raises(ValueError, match="shoe_left needs a gyroscope"):
        imustream.analyze_run(FS, shoe_left=(acc, None))
    with pytest.raises(ValueError, match="must be a tuple"):
        imustream.analyze_run(FS, pelvis=acc)
    with pytest.raises(ValueError, match="strictly increasing"):
        imustream.analyze_run(FS, pelvis=(acc, gyr, np.zeros(100)))
    with pytest.raises(ValueError, match="chunk"):
        imustream.analyze_run(FS, pelvis=(acc, gyr), chunk=0)
    quiet = imustream.analyze_run(FS, pelvis=(acc, gyr))  # standing still: no steps, no error
    assert len(quiet) == 0 and quiet["pelvic_drop_deg"].shape == (0,)


def test_real_shoe_recording_steps_match_reference(datasets_dir):
    """gaitmap walking (both shoes, Vicon reference): every reference IC is a step start."""
    rec = {}
    for f in sorted((datasets_dir / "gaitmap").glob("*.npz")):
        d = np.load(f, allow_pickle=False)
        rec[str(d["placement"])] = d
    left, right = rec["shoe_left"], rec["shoe_right"]
    fs = float(left["fs"])
    table = imustream.analyze_run(
        fs,
        shoe_left=(left["acc"], left["gyr"]),
        shoe_right=(right["acc"], right["gyr"]),
    )
    for side, d in (("left", left), ("right", right)):
        ic = table["ic_time"][table["side"] == side]
        ref = d["ic"]
        err = np.array([np.min(np.abs(ic - r)) for r in ref])
        assert np.mean(err < 0.03) >= 0.9, (side, np.round(err, 3))
        bouts = d["bouts"]
        inside = ((ic[:, None] >= bouts[:, 0] - 0.03) & (ic[:, None] <= bouts[:, 1] + 0.03)).any(1)
        assert inside.sum() <= len(ref) + 2  # no phantom steps inside the annotated bouts
    walking = np.isfinite(table["contact_time"])
    assert np.nanmedian(table["contact_time"][walking]) == pytest.approx(0.7, abs=0.1)


def test_pelvis_only_walking_has_pelvic_drop_without_toe_offs():
    """The pelvis detector finds no TO in walking: the drop is taken up to the next IC."""
    run = simulate("treadmill-walk", duration=40.0, fs=FS, seed=26)
    table = imustream.analyze_run(FS, **_args(run, ("pelvis",)))
    drop = table["pelvic_drop_deg"]
    assert np.isfinite(drop).mean() > 0.9
    truth = run.truth
    for side in ("left", "right"):  # the scenario's truth per side, within 1 deg (the target)
        want = np.nanmean(truth["pelvic_drop_deg"][truth["side"] == side])
        assert np.nanmean(drop[table["side"] == side]) == pytest.approx(want, abs=1.0)


def test_mixed_sampling_rates():
    """Pelvis at 100 Hz, shoes at 400 Hz (same seeded run: identical gait plan)."""
    slow = simulate("right-hip-drop", duration=30.0, fs=100.0, seed=27)
    fast = simulate("right-hip-drop", duration=30.0, fs=400.0, seed=27)
    np.testing.assert_array_equal(slow.truth["ic_time"], fast.truth["ic_time"])
    args = {**_args(slow, ("pelvis",)), **_args(fast, ("shoe_left", "shoe_right"))}
    table = imustream.analyze_run(
        {"pelvis": 100.0, "shoe_left": 400.0, "shoe_right": 400.0}, **args
    )
    m = _matched(table, slow.truth)
    assert len(m) >= 0.97 * len(slow.truth["ic_time"])
    rmse, n = _rmse(table["pelvic_drop_deg"][m[:, 1]], slow.truth["pelvic_drop_deg"][m[:, 0]])
    assert n >= 0.9 * len(m) and rmse <= 1.0
