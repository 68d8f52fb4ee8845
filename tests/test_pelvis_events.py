"""PelvisEventDetector: numpy reference, chunking, mounting invariance, quiet periods, accuracy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.signal as ss
from scipy.spatial.transform import Rotation

from imustream.dsp.event_matching import in_bouts, match_events
from imustream.dsp.kernels import pelvis_events as kernel
from imustream.dsp.pelvis_events import PelvisEventDetector

TOL = 0.06


def _load(path):
    d = np.load(path)
    return {k: d[k] for k in d.files}


@pytest.fixture(scope="module")
def alcantara(datasets_dir):
    return [_load(p) for p in sorted((datasets_dir / "alcantara2022").glob("*.npz"))]


@pytest.fixture(scope="module")
def mobgap(datasets_dir):
    return {p.stem: _load(p) for p in sorted((datasets_dir / "mobgap").glob("*.npz"))}


def _run(det, acc, gyr=None):
    return det.process(acc, gyr) + det.flush()


def reference_events(
    acc: np.ndarray,
    p: kernel.PelvisParams,
    gyr: np.ndarray | None = None,
    info: list | None = None,
) -> tuple[list, list]:
    """Plain numpy/scipy re-implementation of the IC / TO timing rules (no sides).

    With ``gyr`` the gravity estimate is first turned with the sensor each sample. ``info``
    (a list) receives ``(detection sample, running)`` per IC.
    """
    n = len(acc)
    g = np.empty((n, 3))
    cur = np.zeros(3)
    for i in range(n):  # cumulative mean, then exponentially weighted
        if gyr is not None and i > 0:  # a world-fixed vector turns by -w dt in the sensor
            cur = Rotation.from_rotvec(-gyr[i] / p.fs).apply(cur)
        cur = cur + (acc[i] - cur) / min(i + 1, p.grav_window)
        g[i] = cur
    gm = np.linalg.norm(g, axis=1)
    av = np.einsum("ij,ij->i", acc, g / gm[:, None])
    x = av - gm
    seg = ss.sosfilt(p.sos_seg, x) + gm
    fast = ss.sosfilt(p.sos_fast, x) + gm
    slow = ss.sosfilt(p.sos_slow, x) + gm
    fd = np.diff(fast, prepend=fast[0])
    sd = np.diff(slow, prepend=slow[0])
    dev = seg - gm
    amp = 0.0
    h = np.empty(n)
    for i in range(n):
        amp += p.amp_decay * (abs(dev[i]) - amp)
        h[i] = max(p.hyst_abs, p.hyst_rel * amp)

    def refine(d, k):
        y0, y1, y2 = d[k - 1], d[k], d[k + 1]
        den = y0 - 2 * y1 + y2
        return k if den == 0 else k + min(0.5, max(-0.5, 0.5 * (y0 - y2) / den))

    ics, tos = [], []
    i = 0
    while True:
        arm = np.flatnonzero(dev[i:] < -p.arm_frac * h[i:])
        if not len(arm):
            break
        a = i + arm[0]
        fire = np.flatnonzero(dev[a + 1 :] > h[a + 1 :])
        b = a + 1 + fire[0] if len(fire) else n
        # emission: running - rise past its steepest point and above 1 g (valley in flight);
        # otherwise - after the step is confirmed (b), both derivatives below half their max
        done = None
        fmax = np.maximum.accumulate(fd[a + 1 :])
        smax = np.maximum.accumulate(sd[a + 1 :])
        valleys = np.minimum.accumulate(fast[a:])
        timed_out = None
        for e in range(a + 1, n):
            if e < b and e - a > p.arm_timeout:  # no rise within a step time: disarm
                timed_out = e
                break
            valley = valleys[min(e, b) - a]
            running = valley < p.flight_frac * gm[e]
            if running and fast[e] > gm[e] and fd[e] < 0.5 * fmax[e - a - 1]:
                done = e
                break
            if e >= b and fd[e] < 0.5 * fmax[e - a - 1] and sd[e] < 0.5 * smax[e - a - 1]:
                done = e
                break
        if timed_out is not None:
            i = timed_out  # the arming test runs again at this sample
            continue
        if done is None:
            break
        kf = a + 1 + int(np.argmax(fd[a + 1 : done + 1]))
        ks = a + 1 + int(np.argmax(sd[a + 1 : done + 1]))
        tf = refine(fd, kf) if kf < done else kf
        ts = refine(sd, ks) if ks < done else ks
        if info is not None:
            info.append((done, running))
        if running:
            ics.append(tf - (fast[kf] - valley) / max(fd[kf], 1e-12) - p.gd_fast)
            lvl = p.to_frac * gm
            peak = np.maximum.accumulate(fast[done:])
            fall = np.flatnonzero(
                (peak[1:] > gm[done + 1 :])
                & (fast[done:-1] >= lvl[done + 1 :])
                & (fast[done + 1 :] < lvl[done + 1 :])
            )
            if len(fall):
                e = done + 1 + fall[0]
                tos.append(e - 1 + (fast[e - 1] - lvl[e]) / (fast[e - 1] - fast[e]) - p.gd_fast)
        else:
            ics.append(ts - p.gd_slow)
        if done < b:  # emitted before the step was confirmed: wait for the stance first
            stance = np.flatnonzero(dev[done + 1 :] > h[done + 1 :])
            if not len(stance):
                break
            i = done + 1 + stance[0] + 1
        else:
            i = done + 1
    return ics, tos


def test_kernel_matches_numpy_reference_running(alcantara):
    for d in alcantara[:8]:
        fs = float(d["fs"])
        acc = np.nan_to_num(d["acc"].astype(float))
        det = PelvisEventDetector(fs, has_gyr=False, missing_acc_axes=(1,))
        ev = _run(det, acc)
        ref_ic, ref_to = reference_events(acc, det.params)
        ic = [e[1] for e in ev if e[0] == "ic"]
        to = [e[1] for e in ev if e[0] == "to"]
        assert len(ic) == len(ref_ic) > 10
        np.testing.assert_allclose(ic, ref_ic, rtol=0, atol=1e-6)
        # a TO whose fall starts before the next IC is emitted is the only order difference
        np.testing.assert_allclose(to, ref_to[: len(to)], rtol=0, atol=1e-6)


def test_kernel_matches_numpy_reference_walking(mobgap):
    for name in ("HA001_Test5_Trial1", "MS001_Test5_Trial2", "HA001_Test11_Trial1"):
        d = mobgap[name]
        fs = float(d["fs"])
        acc = d["acc"].astype(float)
        det = PelvisEventDetector(fs, has_gyr=False)
        ev = _run(det, acc)
        ref_ic, _ = reference_events(acc, det.params)
        ic = sorted(e[1] for e in ev if e[0] == "ic")
        assert len(ic) == len(ref_ic) > 8
        np.testing.assert_allclose(ic, ref_ic, rtol=0, atol=1e-6)


def test_kernel_matches_numpy_reference_walking_with_gyro(mobgap):
    """With a gyroscope the IC vertical follows the trunk (bending, sitting down, turns)."""
    for name in ("HA001_Test5_Trial2", "HA001_Test11_Trial1"):
        d = mobgap[name]
        fs = float(d["fs"])
        acc, gyr = d["acc"].astype(float), d["gyr"].astype(float)
        ev = _run(PelvisEventDetector(fs), acc, gyr)
        ref_ic, _ = reference_events(acc, PelvisEventDetector(fs).params, gyr)
        ic = sorted(e[1] for e in ev if e[0] == "ic")
        assert len(ic) == len(ref_ic) > 8
        np.testing.assert_allclose(ic, ref_ic, rtol=0, atol=1e-6)
        plain = sorted(e[1] for e in _run(PelvisEventDetector(fs, use_gyro=False), acc, gyr))
        assert plain != ic  # the gyroscope is used


@pytest.mark.parametrize("max_len", [1, 7, 64, 100_000])
def test_random_chunking_gives_identical_events(mobgap, max_len):
    d = mobgap["MS001_Test11_Trial1"]
    fs = float(d["fs"])
    whole = _run(PelvisEventDetector(fs), d["acc"], d["gyr"])
    rng = np.random.default_rng(max_len)
    det = PelvisEventDetector(fs)
    got, i = [], 0
    while i < len(d["acc"]):
        k = int(rng.integers(0, max_len + 1))
        got += det.process(d["acc"][i : i + k], d["gyr"][i : i + k])
        i += k
    got += det.flush()
    assert got == whole
    assert len(whole) > 80


def test_reset_restarts_from_scratch(alcantara):
    d = alcantara[0]
    det = PelvisEventDetector(float(d["fs"]), has_gyr=False, missing_acc_axes=(1,))
    first = det.process(d["acc"])
    det.reset()
    assert det.samples_seen == 0
    assert det.process(d["acc"]) == first


@pytest.mark.parametrize("seed", range(3))
def test_mounting_invariance_on_real_data(mobgap, seed):
    rot = Rotation.random(random_state=seed).as_matrix()
    d = mobgap["HA001_Test11_Trial1"]
    fs = float(d["fs"])
    base = _run(PelvisEventDetector(fs), d["acc"], d["gyr"])
    turned = _run(PelvisEventDetector(fs), d["acc"] @ rot.T, d["gyr"] @ rot.T)
    assert [(e[0], e[2]) for e in turned] == [(e[0], e[2]) for e in base]
    assert np.allclose([e[1] for e in turned], [e[1] for e in base], atol=1e-3)


def test_no_events_standing_still():
    rng = np.random.default_rng(0)
    n = 60 * 200
    rot = Rotation.random(random_state=2).as_matrix()
    acc = rot @ [0, 0, 9.81] + rng.normal(0, 0.05, (n, 3))
    gyr = rng.normal(0, 0.01, (n, 3))
    assert _run(PelvisEventDetector(200.0), acc, gyr) == []


def test_missing_axis_means_no_sides_and_flush_releases_held_events(alcantara, mobgap):
    d = alcantara[3]
    ev = _run(PelvisEventDetector(500.0, has_gyr=False, missing_acc_axes=(1,)), d["acc"])
    assert ev and all(e[2] is None for e in ev)
    # 1.5 s of walking: fewer ICs than needed to learn forward (4 asked for here; by default 2
    # walking ICs suffice); flush releases them, no side
    w = mobgap["HA001_Test5_Trial1"]
    i0 = round(float(w["bouts"][0, 0]) * 100) - 100
    det = PelvisEventDetector(100.0, cal_ics_walk=4)
    held = det.process(w["acc"][i0 : i0 + 250], w["gyr"][i0 : i0 + 250])
    flushed = det.flush()
    assert held == []
    assert len(flushed) >= 2
    assert all(e[2] is None for e in flushed)
    assert det.flush() == []


def test_accuracy_floor_alcantara_running(alcantara):
    """Target IC F1 >= 0.97 (measured 0.986; every miss is within 0.1 s of a trial's edge)."""
    ic_res = to_res = None
    for d in alcantara:
        fs = float(d["fs"])
        ev = _run(PelvisEventDetector(fs, has_gyr=False, missing_acc_axes=(1,)), d["acc"])
        ic = np.array([e[1] for e in ev if e[0] == "ic"]) / fs
        to = np.array([e[1] for e in ev if e[0] == "to"]) / fs
        r_ic, r_to = match_events(ic, d["ic"], TOL), match_events(to, d["to"], TOL)
        ic_res = r_ic if ic_res is None else ic_res + r_ic
        to_res = r_to if to_res is None else to_res + r_to
    assert ic_res.f1 >= 0.98
    assert ic_res.median_abs_error <= 0.010
    assert to_res.f1 >= 0.97  # measured 0.973
    assert to_res.median_abs_error <= 0.030  # measured 24 ms


def test_accuracy_floor_mobgap_straight_walks(mobgap):
    """Clean Test5 references: sides all right (measured 36/36 matched); IC F1 measured 0.76."""
    ic_res, sides = None, []
    for name, d in mobgap.items():
        if "Test5" not in name:
            continue
        fs = float(d["fs"])
        ev = _run(PelvisEventDetector(fs), d["acc"], d["gyr"])
        ic = np.array([e[1] for e in ev if e[0] == "ic"]) / fs
        side = np.array([str(e[2]) for e in ev if e[0] == "ic"])
        keep = in_bouts(ic, d["bouts"], TOL)
        r = match_events(ic[keep], d["ic"], TOL)
        sides += [side[keep][i] == d["ic_side"][j] for i, j in r.pairs]
        ic_res = r if ic_res is None else ic_res + r
    assert ic_res.f1 >= 0.75
    assert np.mean(sides) >= 0.97


def test_input_errors():
    det = PelvisEventDetector(100.0)
    with pytest.raises(ValueError, match="acc"):
        det.process(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="gyr"):
        det.process(np.zeros((5, 3)), None)
    with pytest.raises(ValueError, match="gyr"):
        det.process(np.zeros((5, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="NaN"):
        det.process(np.full((5, 3), np.nan), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="missing_acc_axes"):
        PelvisEventDetector(100.0, missing_acc_axes=(3,))
    with pytest.raises(ValueError, match="fs"):
        PelvisEventDetector(-1.0)
    assert math.isclose(PelvisEventDetector(50.0).fs, 50.0)


def test_sides_recover_after_handling_before_clip_on():
    """4 s tumbling in the hand before a simulated run: gravity (4 s window) and forward are
    relearnt within a few steps (measured: sides 0.962 over the run; with a 10 s window 0.78)."""
    from scipy.signal import butter, sosfiltfilt

    from imustream.sim import simulate

    fs = 200.0
    run = simulate("symmetric-runner", duration=60.0, fs=fs, seed=2)
    s = run.sensors["pelvis"]
    sos = butter(2, 3.0, fs=fs, output="sos")
    for seed in range(2):
        rng = np.random.default_rng(seed)
        n = int(4 * fs)
        hand_gyr = sosfiltfilt(sos, rng.normal(0, 15, (n, 3)), axis=0)
        hand_acc = np.array([0, 0, 9.81]) + sosfiltfilt(sos, rng.normal(0, 10, (n, 3)), axis=0)
        det = PelvisEventDetector(fs)
        ev = _run(det, np.vstack([hand_acc, s.acc]), np.vstack([hand_gyr, s.gyr]))
        ics = [e for e in ev if e[0] == "ic"]
        t = np.array([e[1] for e in ics]) / fs - 4.0 + s.t[0]
        r = match_events(t, run.truth["ic_time"], TOL)
        assert r.recall >= 0.99
        ok = [ics[i][2] == run.truth["side"][j] for i, j in r.pairs]
        assert np.mean(ok) >= 0.95


def reference_sides(acc: np.ndarray, events: list, p: kernel.PelvisParams) -> list:
    """Plain numpy re-implementation of the side rule, given the kernel's IC times and
    emission samples: forward from the braking across each IC (trusted after cal_ics_walk
    ICs while all were walking ones, cal_ics once one was running), lateral cue before each
    IC, alternation prior with forgetting."""
    info: list = []
    reference_events(acc, p, info=info)
    running_at = [k for k, run in info if run]  # detection samples of running ICs
    n = len(acc)
    g = np.empty((n, 3))
    cur = np.zeros(3)
    for i in range(n):
        cur = cur + (acc[i] - cur) / min(i + 1, p.grav_window)
        g[i] = cur
    w = p.cal_window
    ics = [e for e in events if e[0] == "ic"]
    i_ics = [math.floor(e[1] + 0.5) for e in ics]
    contrib = []  # (sample at which it is known, after - before)
    for i in i_ics:
        if i - w >= 0 and i + w <= n:
            contrib.append((i + w - 1, acc[i : i + w].mean(0) - acc[i - w : i].mean(0)))
    sides, score, parity, last_t, latched = [], 0.0, 0, None, None
    for (_, t, _, emit), i in zip(ics, i_ics, strict=True):
        done = [d for k, d in contrib if k <= emit]
        up = g[emit] / np.linalg.norm(g[emit])
        side = None
        left = latched  # once known, the last known axis stays in use
        need = p.cal_ics if any(k <= emit for k in running_at) else p.cal_ics_walk
        if len(done) >= need:
            d = np.sum(done, axis=0)
            h = d - (d @ up) * up
            if np.linalg.norm(h) > p.cal_min * len(done):
                left = latched = np.cross(up, -h / np.linalg.norm(h))
        if left is not None:
            if last_t is not None and t - last_t > p.bout_gap:
                score = 0.0
            sgn = 1.0 if parity == 0 else -1.0
            pre = acc[i - p.pre_start : i - p.pre_end].mean(0) if i >= p.pre_start else 0
            score = p.side_forget * score + sgn * float(np.dot(pre, left))
            side = "left" if score * sgn > 0 else "right"
            parity = 1 - parity
        sides.append(side)
        last_t = t
    return sides


@pytest.mark.parametrize("name", ["HA001_Test11_Trial1", "MS001_Test11_Trial1", "sim"])
def test_sides_match_numpy_reference(mobgap, name):
    if name == "sim":
        from imustream.sim import simulate

        run = simulate("symmetric-runner", duration=40.0, fs=200.0, seed=7)
        acc, fs = run.sensors["pelvis"].acc, run.fs
    else:
        acc, fs = mobgap[name]["acc"].astype(float), float(mobgap[name]["fs"])
    det = PelvisEventDetector(fs, has_gyr=False)
    ev = det.process(acc)  # no flush: every event here was emitted by the live rule
    got = [e[2] for e in ev if e[0] == "ic"]
    ref = reference_sides(acc, ev, det.params)
    assert len(got) > 40
    assert sum(s is not None for s in got) > 0.8 * len(got)
    assert got == ref


def _mobgap_scores(mobgap, key):
    """IC match, side checks and emission latencies (s) over the mobgap recordings named key."""
    res, sides, lat = None, [], []
    for name, d in mobgap.items():
        if key not in name:
            continue
        fs = float(d["fs"])
        ev = _run(PelvisEventDetector(fs), d["acc"], d["gyr"])
        ics = sorted((e for e in ev if e[0] == "ic"), key=lambda e: e[1])
        ic = np.array([e[1] for e in ics]) / fs
        keep = in_bouts(ic, d["bouts"], TOL)
        r = match_events(ic[keep], d["ic"], TOL)
        side = np.array([str(e[2]) for e in ics])[keep]
        sides += [side[i] == d["ic_side"][j] for i, j in r.pairs]
        lat += [(e[3] - e[1]) / fs for e in ics]
        res = r if res is None else res + r
    return res, np.array(sides), np.array(lat)


def test_accuracy_floor_mobgap_daily_life(mobgap):
    """Test11 (turns, stops, shuffling; noisy INDIP reference): IC F1 measured 0.656 (0.604
    before the half-depth arming, the 1 s arming timeout and the gyro-turned vertical), sides
    0.895. The target 0.97 is not reached: benchmarks/accuracy.py's mobgap diagnostics show
    what is missed and which misses are reference problems."""
    r, sides, _ = _mobgap_scores(mobgap, "Test11")
    assert r.f1 >= 0.64  # measured 0.656
    assert np.mean(sides) >= 0.88  # measured 0.895
    r, sides, _ = _mobgap_scores(mobgap, "HA001_Test11")  # the cleanest Test11 reference
    assert r.f1 >= 0.80  # measured 0.814
    # 42 sides right of 48 matched (0.875; without the gyroscope 42 of 46): the extra matches
    # are a bout's first or last IC, whose lateral cue (gait initiation) is unreliable
    assert sum(sides) >= 42


def test_walking_ic_latency(mobgap):
    """Walking ICs are emitted a median ~0.12 s after the contact (3 Hz rise past its steepest
    point, confirmed by the 4 Hz channel); only the first ICs of a recording wait for the
    forward direction (sides: 2 walking ICs), and once it is known it is kept."""
    _, _, lat = _mobgap_scores(mobgap, "Test11")
    assert np.all(lat > 0)
    assert np.median(lat) <= 0.15  # measured 0.117
    # measured p90 0.177, p95 0.38 (the first ICs of each recording, waiting for forward)
    assert np.percentile(lat, 90) <= 0.2
    # straight walks from standing: forward is trusted after 2 walking ICs, so the first ICs
    # wait at most ~0.8 s (measured 0.817 s; with 4 ICs up to 4.4 s)
    _, _, lat = _mobgap_scores(mobgap, "Test5")
    assert np.max(lat) <= 0.9


@pytest.mark.parametrize("has_gyr", [False, True])
def test_no_ic_dated_back_past_the_arming_timeout(mobgap, has_gyr):
    """A dip that is not followed by a rise within 1 s (sitting down, bending) is dropped: before
    the timeout, MS001 Test11 emitted an IC 22.6 s after the time it was dated to (the steepest
    rise of a later movement). Once forward is known (after 15 s) every IC is emitted within
    ~0.9 s (measured max 0.86 s: an arming dip up to 1 s before a slow rise)."""
    for name in ("MS001_Test11_Trial1", "HA001_Test11_Trial1", "HA002_Test11_Trial1"):
        d = mobgap[name]
        det = PelvisEventDetector(100.0, has_gyr=has_gyr)
        ev = det.process(d["acc"], d["gyr"] if has_gyr else None)
        lat = [(e[3] - e[1]) / 100.0 for e in ev if e[0] == "ic" and e[1] > 1500]
        assert len(lat) > 30
        assert max(lat) <= 1.0, name


def test_gyro_keeps_ics_through_a_fast_reorientation(mobgap):
    """The sensor turns by 60 deg about its medio-lateral axis within 0.5 s in the middle of a
    walk, stays so for 6 s and turns back (a slipping clip, or the vertical during a quick
    trunk bend): with the gyroscope the turned gravity estimate keeps every IC where it was
    (measured: all 18 within 10 ms); with the accelerometer alone the 4 s mean lags and 26 %
    of them move by more than 10 ms or vanish (so the scenario does test the gyroscope)."""
    d = mobgap["MS001_Test11_Trial1"]
    acc, gyr, fs = d["acc"].astype(float), d["gyr"].astype(float), 100.0
    t = np.arange(len(acc)) / fs
    t0, ramp, hold, amp = 122.0, 0.5, 6.0, np.radians(60.0)

    def step(x):  # smoothstep 0 -> 1 and its derivative
        x = np.clip(x, 0.0, 1.0)
        return x * x * (3 - 2 * x), 6 * x * (1 - x)

    (s1, d1), (s2, d2) = step((t - t0) / ramp), step((t - t0 - ramp - hold) / ramp)
    axis = np.array([0.0, 1.0, 0.0])
    turn = Rotation.from_rotvec((amp * (s1 - s2))[:, None] * axis)
    acc_t = turn.inv().apply(acc)
    gyr_t = turn.inv().apply(gyr) + (amp * (d1 - d2) / ramp)[:, None] * axis
    span = (t0 - 1.0, t0 + 2 * ramp + hold + 3.0)

    def ics(a, g, **kw):
        ev = _run(PelvisEventDetector(fs, **kw), a, g)
        x = np.array(sorted(e[1] for e in ev if e[0] == "ic")) / fs
        return x[(x > span[0]) & (x < span[1])]

    for kw, floor in (({}, 1.0), ({"use_gyro": False}, None)):
        ref, got = ics(acc, gyr, **kw), ics(acc_t, gyr_t, **kw)
        same = np.mean([np.min(np.abs(got - r)) < 0.01 if len(got) else False for r in ref])
        assert len(ref) >= 15
        if floor is not None:
            assert same >= floor and len(got) == len(ref)
        else:
            assert same <= 0.9  # measured 0.737


@pytest.mark.parametrize(
    "fs, kw", [(200.0, {}), (100.0, {"cal_ics_walk": 4, "use_gyro": False, "sides": False})]
)
def test_flat_params_and_state_buffers_round_trip(fs, kw):
    """The flat parameter buffer rebuilds the same PelvisParams inside numba, and the state
    NamedTuple is made of views of the two flat state buffers (same shapes as new_state)."""
    p = kernel.make_params(fs, **kw)
    q = kernel._params(kernel.params_buffer(p))
    for name in kernel.PelvisParams._fields:
        a, b = getattr(p, name), getattr(q, name)
        if isinstance(a, np.ndarray):
            assert a.shape == b.shape and np.array_equal(a, b), name
        else:
            assert a == b and type(a) is type(b), name
    fb, ib, st = kernel.state_buffers(p)
    ref = kernel.new_state(p)
    for name in kernel.PelvisState._fields:
        view = getattr(st, name)
        assert view.shape == getattr(ref, name).shape and view.dtype == getattr(ref, name).dtype
        view.flat[-1] = 7
        assert np.shares_memory(view, fb if view.dtype == np.float64 else ib), name
    assert np.count_nonzero(fb) + np.count_nonzero(ib) == len(kernel.PelvisState._fields)
    with pytest.raises(ValueError, match="arm_timeout"):
        kernel.params_buffer(p._replace(arm_timeout=10.5))


def test_flat_kernel_equals_namedtuple_kernel():
    """pelvis_events_flat (what the detector calls) == pelvis_events on NamedTuples, chunked."""
    from imustream.sim import simulate

    pel = simulate("symmetric-runner", duration=30.0, fs=200.0, seed=5).sensors["pelvis"]
    acc, gyr = np.ascontiguousarray(pel.acc), np.ascontiguousarray(pel.gyr)
    p = kernel.make_params(200.0)
    st = kernel.new_state(p)
    pb = kernel.params_buffer(p)
    fb, ib, _ = kernel.state_buffers(p)
    cap = 2 * 97 + kernel.QUEUE
    out = (np.empty(cap, np.int64), np.empty(cap), np.empty(cap, np.int64), np.empty(cap, np.int64))
    oi, ox = np.empty((3, cap), np.int64), np.empty(cap)
    ref, got = [], []
    for i in range(0, len(acc), 97):
        m = kernel.pelvis_events(p, st, acc[i : i + 97], gyr[i : i + 97], *out)
        ref += list(zip(out[0][:m], out[1][:m], out[2][:m], out[3][:m], strict=True))
        m = kernel.pelvis_events_flat(pb, fb, ib, acc[i : i + 97], gyr[i : i + 97], oi, ox)
        got += list(zip(oi[0, :m], ox[:m], oi[1, :m], oi[2, :m], strict=True))
    m = kernel.pelvis_flush(p, st, *out)
    ref += list(zip(out[0][:m], out[1][:m], out[2][:m], out[3][:m], strict=True))
    m = kernel.pelvis_flush_flat(pb, fb, ib, oi, ox)
    got += list(zip(oi[0, :m], ox[:m], oi[1, :m], oi[2, :m], strict=True))
    assert len(ref) > 100 and got == ref


def test_input_layouts_and_a_rejected_block_change_nothing():
    """float32 / strided / Fortran inputs give the same events as C float64 without being
    modified; a block with NaN/inf is rejected whole (the state does not move), so the
    stream continues exactly as if it had never been offered."""
    from imustream.sim import simulate

    pel = simulate("symmetric-runner", duration=30.0, fs=200.0, seed=6).sensors["pelvis"]
    acc, gyr = np.ascontiguousarray(pel.acc), np.ascontiguousarray(pel.gyr)
    ref = _run(PelvisEventDetector(200.0), acc, gyr)
    assert len(ref) > 50
    wide = np.zeros((len(acc), 6))
    wide[:, ::2] = acc
    frozen = acc.copy()
    frozen.flags.writeable = False  # e.g. a view of a received packet buffer
    for a in (np.asfortranarray(acc), wide[:, ::2], frozen):
        before = a.copy()
        assert _run(PelvisEventDetector(200.0), a, np.asfortranarray(gyr)) == ref
        assert np.array_equal(a, before)
    a32 = acc.astype(np.float32)
    ref32 = _run(PelvisEventDetector(200.0), a32.astype(np.float64), gyr)
    assert _run(PelvisEventDetector(200.0), a32, gyr) == ref32
    det = PelvisEventDetector(200.0)
    got = det.process(acc[:3000], gyr[:3000])
    bad = acc[3000:3064].copy()
    bad[10, 1] = np.inf
    with pytest.raises(ValueError, match="acc contains NaN"):
        det.process(bad, gyr[3000:3064])
    bad_g = gyr[3000:3064].copy()
    bad_g[63, 2] = np.nan
    with pytest.raises(ValueError, match="gyr contains NaN"):
        det.process(acc[3000:3064], bad_g)
    assert det.samples_seen == 3000
    got += det.process(acc[3000:], gyr[3000:]) + det.flush()
    assert got == ref


def test_cached_filter_design_is_not_shared():
    """The Butterworth designs are cached, but each detector gets its own arrays."""
    p, q = kernel.make_params(200.0), kernel.make_params(200.0)
    assert np.array_equal(p.sos_seg, ss.butter(2, 4.0, fs=200.0, output="sos"))
    p.sos_seg[0, 0] = 99.0
    assert q.sos_seg[0, 0] != 99.0 and kernel.make_params(200.0).sos_seg[0, 0] != 99.0
