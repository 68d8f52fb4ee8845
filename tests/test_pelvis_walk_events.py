"""Walking pelvis ICs: numpy reference, chunking, mounting invariance, accuracy on mobgap."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal as ss
from scipy.spatial.transform import Rotation

from imustream.dsp.event_matching import in_bouts, match_events
from imustream.dsp.kernels import pelvis_walk_events as kernel
from imustream.dsp.pelvis_events import PelvisEventDetector
from imustream.dsp.pelvis_walk_events import PelvisWalkDetector

TOL = 0.06


def _load(path):
    d = np.load(path)
    return {k: d[k] for k in d.files}


@pytest.fixture(scope="module")
def mobgap(datasets_dir):
    return {p.stem: _load(p) for p in sorted((datasets_dir / "mobgap").glob("*.npz"))}


@pytest.fixture(scope="module")
def alcantara(datasets_dir):
    return [_load(p) for p in sorted((datasets_dir / "alcantara2022").glob("*.npz"))]


def _walk(det, acc):
    return det.process(np.asarray(acc, float)) + det.flush()


def reference_walk_ics(acc: np.ndarray, p: kernel.WalkParams) -> list[float]:
    """Plain numpy/scipy re-implementation of the vertical-only IC rule (``w_fwd = 0``)."""
    n = len(acc)
    g = np.empty((n, 3))
    cur = np.zeros(3)
    for i in range(n):  # cumulative mean, then exponentially weighted
        cur = cur + (acc[i] - cur) / min(i + 1, p.grav_window)
        g[i] = cur
    gm = np.linalg.norm(g, axis=1)
    av = np.einsum("ij,ij->i", acc, g / gm[:, None]) - gm
    # Gaussian-derivative slope at centre c from av[c - D .. c + D], 1 per sample -> fs per s
    d = p.delay
    u = np.arange(-d, d + 1)
    sigma = 0.03 * p.fs  # make_walk_params' default sigma_s
    w = u * np.exp(-0.5 * (u / sigma) ** 2)
    w *= p.fs / np.sum(w * u)
    s = np.full(n, np.nan)
    s[d : n - d] = np.correlate(av, w, mode="valid")
    flight = ss.sosfilt(p.sos_fast, av) + gm < p.flight_frac * gm
    ics = []
    last_ic, amp, n_peaks, cand = -1e18, 0.0, 0, None

    def accept(c):
        nonlocal last_ic, amp, n_peaks
        last_ic = c[0]
        n_peaks += 1
        amp += max(p.amp_decay, 1.0 / n_peaks) * (c[1] - amp)
        if not c[2]:
            ics.append(c[0])

    for m in range(d + 2, n - d):
        pk = m - 1
        s2, s1, s0 = s[m - 2], s[m - 1], s[m]
        if s2 < s1 >= s0:
            den = s2 - 2 * s1 + s0
            off = 0.0 if den == 0 else min(0.5, max(-0.5, 0.5 * (s2 - s0) / den))
            run = pk < p.warmup or flight[max(0, pk - p.run_window) : pk + 1].any()
            if s1 > max(p.thr_abs, p.thr_rel * amp) and pk - last_ic >= p.refractory:
                if cand is None or s1 > p.replace_frac * cand[1]:
                    cand = (pk + off, s1, run)
        if cand is not None and m - cand[0] > p.hold:
            accept(cand)
            cand = None
    if cand is not None:
        accept(cand)
    return ics


@pytest.mark.parametrize(
    "name", ["HA001_Test5_Trial1", "MS001_Test5_Trial2", "HA001_Test11_Trial1"]
)
def test_kernel_matches_numpy_reference(mobgap, name):
    d = mobgap[name]
    acc = d["acc"].astype(float)
    det = PelvisWalkDetector(float(d["fs"]), sides=False, w_fwd=0.0)
    got = [e[0] for e in _walk(det, acc)]
    ref = reference_walk_ics(acc, det.params)
    assert len(got) == len(ref) > 8
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6)


@pytest.mark.parametrize("max_len", [1, 7, 64, 100_000])
def test_random_chunking_gives_identical_events(mobgap, max_len):
    d = mobgap["HA001_Test11_Trial1"]
    fs, acc = float(d["fs"]), d["acc"].astype(float)
    rng = np.random.default_rng(max_len)
    cuts = np.cumsum(rng.integers(0, max_len + 1, size=len(acc)))
    cuts = cuts[cuts < len(acc)]
    for make in (lambda: PelvisWalkDetector(fs), lambda: PelvisEventDetector(fs, has_gyr=False)):
        whole = make()
        ref = whole.process(acc) + whole.flush()
        det = make()
        got = []
        for blk in np.split(acc, cuts):
            got += det.process(blk)
        got += det.flush()
        assert got == ref
        assert len(ref) > 40


@pytest.mark.parametrize("seed", range(2))
def test_mounting_invariance(mobgap, seed):
    rot = Rotation.random(random_state=seed).as_matrix()
    d = mobgap["MS001_Test11_Trial1"]
    fs, acc = float(d["fs"]), d["acc"].astype(float)
    base = _walk(PelvisWalkDetector(fs), acc)
    turned = _walk(PelvisWalkDetector(fs), acc @ rot.T)
    assert [e[1:] for e in turned] == [e[1:] for e in base]
    np.testing.assert_allclose([e[0] for e in turned], [e[0] for e in base], atol=1e-6)


def test_no_events_standing_still():
    rng = np.random.default_rng(1)
    rot = Rotation.random(random_state=3).as_matrix()
    acc = rot @ [0, 0, 9.81] + rng.normal(0, 0.05, (60 * 100, 3))
    assert _walk(PelvisWalkDetector(100.0), acc) == []


def test_running_steps_are_left_to_the_running_kernel(alcantara):
    """Sacral running (flight phases): the walking kernel emits nothing, and the combined
    detector keeps the running rule's accuracy (measured IC F1 0.987, before 0.984)."""
    res = None
    for d in alcantara:
        fs, acc = float(d["fs"]), np.nan_to_num(d["acc"].astype(float))
        acc[:, 1] = 0.0
        walk = PelvisWalkDetector(fs, sides=False)
        assert _walk(walk, acc) == []
        assert walk.flight_before(len(acc) - 1)
        ev = _walk(PelvisEventDetector(fs, has_gyr=False, missing_acc_axes=(1,)), d["acc"])
        r = match_events(np.array([e[1] for e in ev if e[0] == "ic"]) / fs, d["ic"], TOL)
        res = r if res is None else res + r
    assert res.f1 >= 0.984


def _score(recs):
    res, sides = None, []
    for d in recs:
        fs = float(d["fs"])
        ev = _walk(PelvisEventDetector(fs, has_gyr=False), d["acc"])
        ic = np.array([e[1] for e in ev if e[0] == "ic"]) / fs
        side = np.array([str(e[2]) for e in ev if e[0] == "ic"])
        keep = in_bouts(ic, d["bouts"], TOL)
        r = match_events(ic[keep], d["ic"], TOL)
        sides += [side[keep][i] == d["ic_side"][j] for i, j in r.pairs]
        res = r if res is None else res + r
    return res, float(np.mean(sides))


def test_accuracy_floor_mobgap(mobgap):
    """Measured (+-60 ms, inside bouts): Test5 IC F1 0.686, sides 1.000; all 7 files IC F1
    0.667, sides 0.934 (former walking rule: 0.761 / 0.630, sides 1.000 / 0.912).

    Far from the 0.97 target: INDIP's IC is not at one fixed lower-back feature. In MS001 the
    reference left ICs come ~+45 ms and right ICs ~-95 ms from the steepest vertical rise, so
    no single pelvis feature is within +-60 ms of both (Test5: 4/9 matched per file)."""
    t5, s5 = _score([d for k, d in mobgap.items() if "Test5" in k])
    assert t5.f1 >= 0.66
    assert s5 >= 0.97
    allr, sall = _score(list(mobgap.values()))
    assert allr.f1 >= 0.65
    assert sall >= 0.90
    assert allr.median_abs_error <= 0.030


def test_flight_history_errors():
    det = PelvisWalkDetector(100.0)
    det.process(np.tile([0.0, 0.0, 9.81], (50, 1)))
    assert not det.flight_before(40)
    with pytest.raises(ValueError, match="flight history"):
        det.flight_before(60)  # not fed yet
    with pytest.raises(ValueError, match="flight history"):
        det.flight_before(40, until=50)
    with pytest.raises(ValueError, match="fs"):
        PelvisWalkDetector(0.0)
    with pytest.raises(ValueError, match="shape"):
        det.process(np.zeros((4, 2)))
