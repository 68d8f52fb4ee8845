"""The virtual runner looks like real recordings: sign conventions and signal magnitudes compared
with the shared datasets (gaitmap shoes walking, alcantara2022 sacrum running, mobgap lower back
walking)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import butter, sosfiltfilt

from imustream.sim import simulate

# mobgap lower-back frame: x up, y right, z forward -> rows = sensor axes in pelvis-body terms
MOBGAP_MOUNT = np.array([[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]])


def _load(path):
    return np.load(path, allow_pickle=False)


def _swing_and_impact(acc, gyr, t, ic, to):
    """Per stride: most negative sagittal rate in swing, peak |acc| (g) around IC."""
    swing, impact = [], []
    for k in range(ic.size - 1):
        later = to[(to > ic[k]) & (to < ic[k + 1])]
        if later.size == 0:
            continue
        w = (t > later[0]) & (t < ic[k + 1])
        swing.append(gyr[w, 1].min())
        w = (t >= ic[k] - 0.01) & (t < ic[k] + 0.05)
        impact.append(np.linalg.norm(acc[w], axis=1).max() / 9.81)
    return np.median(swing), np.median(impact)


def test_shoe_walking_matches_gaitmap_conventions_and_magnitudes(datasets_dir):
    real = []
    for side in ("left", "right"):
        d = _load(datasets_dir / "gaitmap" / f"healthy_2x20m_shoe_{side}.npz")
        fs = float(d["fs"])
        t = np.arange(d["acc"].shape[0]) / fs
        real.append(_swing_and_impact(d["acc"], d["gyr"], t, d["ic"], d["to"]))
        # same frame as the simulator's foot frame: x to the toes, y left, z up, +9.81 on z
        assert np.median(d["acc"][: int(fs), 2]) == pytest.approx(9.81, abs=0.5)
    run = simulate("treadmill-walk", duration=40.0, fs=204.8, seed=0, mounting=None)
    tr = run.truth
    sim = []
    for side in ("left", "right"):
        sig = run.sensors[f"shoe_{side}"]
        sel = tr["side"] == side
        to = tr["to_time"][sel]
        sim.append(_swing_and_impact(sig.acc, sig.gyr, sig.t, tr["ic_time"][sel], to[to > 0]))
        assert np.median(sig.acc[: int(2 * 204.8), 2]) == pytest.approx(9.81, abs=0.5)
    real_swing, real_impact = np.mean(real, axis=0)
    sim_swing, sim_impact = np.mean(sim, axis=0)
    # mid-swing forward rotation is negative about +y (left) in both, of similar size
    assert real_swing < -3 and sim_swing < -3
    assert sim_swing == pytest.approx(real_swing, rel=0.25)
    # a heel-strike transient of several g in both (real shoes are harder: within a factor 2)
    assert sim_impact > 3 and real_impact > 3
    assert 0.5 < sim_impact / real_impact < 2.0


def test_pelvis_running_vertical_peaks_within_real_sacrum_range(datasets_dir):
    peaks = []
    for f in sorted((datasets_dir / "alcantara2022").glob("*.npz")):
        d = _load(f)
        fs = float(d["fs"])
        vert = d["acc"][:, 0]  # 20 Hz low-passed by the authors
        for ic in d["ic"]:
            to = d["to"][d["to"] > ic]
            if to.size:
                peaks.append(vert[int(ic * fs) : int(to[0] * fs)].max() / 9.81)
    lo, hi = np.percentile(peaks, [10, 90])
    run = simulate("symmetric-runner", duration=40.0, fs=500.0, seed=1, mounting=None)
    sig = run.sensors["pelvis"]
    vert = sosfiltfilt(butter(4, 20.0, fs=500.0, output="sos"), sig.acc[:, 2])
    tr = run.truth
    ok = np.isfinite(tr["to_time"])
    sim = [
        vert[(sig.t >= a) & (sig.t <= b)].max() / 9.81
        for a, b in zip(tr["ic_time"][ok], tr["to_time"][ok], strict=True)
    ]
    assert lo < np.median(sim) < hi
    # flight: near free fall, as in the real data
    assert np.percentile(vert[sig.t > 6] / 9.81, 5) < 0.3


def test_pelvis_walking_variability_matches_mobgap_straight_walks(datasets_dir):
    acc_sd, gyr_sd = [], []
    for f in sorted((datasets_dir / "mobgap").glob("*Test5*.npz")):
        d = _load(f)
        t = np.arange(d["acc"].shape[0]) / float(d["fs"])
        inside = ((t[:, None] >= d["bouts"][:, 0]) & (t[:, None] <= d["bouts"][:, 1])).any(1)
        acc_sd.append(d["acc"][inside].std(axis=0))
        gyr_sd.append(d["gyr"][inside].std(axis=0))
    assert len(acc_sd) >= 2
    real_acc, real_gyr = np.mean(acc_sd, axis=0), np.mean(gyr_sd, axis=0)
    run = simulate("treadmill-walk", duration=60.0, fs=100.0, seed=2, mounting=MOBGAP_MOUNT)
    sig = run.sensors["pelvis"]
    walking = sig.t > 6.0
    sim_acc, sim_gyr = sig.acc[walking].std(axis=0), sig.gyr[walking].std(axis=0)
    # vertical / medio-lateral / antero-posterior, yaw / pitch / roll rates: within 35 %
    assert np.all(np.abs(sim_acc / real_acc - 1) < 0.35), (sim_acc, real_acc)
    assert np.all(np.abs(sim_gyr / real_gyr - 1) < 0.35), (sim_gyr, real_gyr)


@pytest.mark.parametrize(
    ("name", "real_speed"), [("symmetric-runner", 3.33), ("fast-runner", 4.17)]
)
def test_running_contact_times_match_force_treadmill_at_similar_speed(
    datasets_dir, name, real_speed
):
    real = []
    for f in sorted((datasets_dir / "alcantara2022").glob("*.npz")):
        d = _load(f)
        if abs(float(d["speed_ms"]) - real_speed) < 0.05 and abs(float(d["slope_deg"])) <= 5:
            ic, to = d["ic"], d["to"]
            real.append(np.median([to[to > x][0] - x for x in ic if (to > x).any()]))
    assert len(real) >= 3
    tr = simulate(name, duration=30.0, fs=100.0, seed=3).truth
    sim = np.nanmedian(tr["contact_time"])
    assert min(real) - 0.01 < sim < max(real) + 0.01, (sim, real)
