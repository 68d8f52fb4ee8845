"""The Pipeline's numba kernels against plain numpy / Python references, and random chunking.

Kernels: history buffers (kernels/timeline.py), per-block sensor kernels
(kernels/sensor_block.py), per-stance pelvic drop (kernels/pelvic_drop.py), asymmetry
(kernels/asymmetry.py), step assembly (kernels/steps.py) and the fused per-step kernel
(kernels/step_metrics.py).
"""

from __future__ import annotations

import bisect
import math
from collections import deque

import numpy as np
import pytest

from imustream.dsp import asymmetry as asym
from imustream.dsp.event_stage import ShoeEventStage
from imustream.dsp.kernels import asymmetry as ka
from imustream.dsp.kernels import pelvic_drop as kp
from imustream.dsp.kernels import sensor_block as sb
from imustream.dsp.kernels import step_metrics as sm
from imustream.dsp.kernels import timeline as kt
from imustream.dsp.orientation import OrientationFilter
from imustream.dsp.pelvic_drop import PelvicDrop
from imustream.dsp.shoe_events import ShoeEventDetector
from imustream.dsp.steps import StepAssembler, StepTiming
from imustream.dsp.timeline import Timeline
from imustream.sim import simulate
from imustream.types import Step

FS = 200.0


@pytest.fixture(scope="module")
def run():
    return simulate("right-hip-drop", duration=25.0, fs=FS, seed=8)


def _sizes(rng, n, high=150):
    out, i = [], 0
    while i < n:
        k = int(rng.integers(1, high))
        out.append(slice(i, min(n, i + k)))
        i += k
    return out


# -- history buffers -----------------------------------------------------------------------
class _NumpyTimeline:
    """Plain numpy reference: keep the newest ``keep`` samples of a growing array."""

    def __init__(self) -> None:
        self.t = np.empty(0)
        self.v = np.empty((0, 2))

    def append(self, t, v):
        self.t = np.concatenate([self.t, t])
        self.v = np.concatenate([self.v, v])

    def window(self, t0, t1, keep):
        t, v = self.t[-keep:], self.v[-keep:]
        sel = (t >= t0) & (t <= t1)
        return t[sel], v[sel]


@pytest.mark.parametrize("seed", range(4))
def test_timeline_kernels_equal_numpy_under_random_chunking(seed):
    rng = np.random.default_rng(seed)
    n = 5000
    t = np.cumsum(rng.uniform(0.004, 0.006, n))
    v = rng.normal(size=(n, 2))
    tl = Timeline(FS, 2, keep_s=2.0)  # keep 400 samples, buffer of 800: compacts often
    ref = _NumpyTimeline()
    for sl in _sizes(rng, n, 1200 if seed == 3 else 150):  # seed 3: blocks > buffer
        tl.append(t[sl], v[sl])
        ref.append(t[sl], v[sl])
        assert tl.count == len(ref.t)
        assert tl.last_time == ref.t[-1]
        a, b = sorted(rng.uniform(ref.t[max(0, len(ref.t) - 400)], ref.t[-1], 2))
        got_t, got_v = tl.window(a, b)
        want_t, want_v = ref.window(a, b, tl.keep)
        np.testing.assert_array_equal(got_t, want_t)
        np.testing.assert_array_equal(got_v, want_v)
        got_max = kt.window_max(tl.tb, tl.vb, tl.meta, a, b, 1)
        assert got_max == (want_v[:, 1].max() if len(want_v) else got_max)
        assert math.isnan(got_max) == (len(want_v) == 0)
        # fractional index -> time, as numpy interpolation inside the kept samples
        if len(ref.t) < 2:
            continue
        idx = len(ref.t) - rng.uniform(1, min(300, len(ref.t)))
        want = np.interp(idx, np.arange(len(ref.t)), ref.t)
        assert kt.time_at(tl.tb, tl.meta, idx) == pytest.approx(want, rel=0, abs=1e-12)
        assert tl.time_at(idx) == kt.time_at(tl.tb, tl.meta, idx)
    assert math.isnan(tl.time_at(len(ref.t) - 2 * tl.keep - 5))  # no longer held


# -- per-block sensor kernels --------------------------------------------------------------
def _ingest_reference(acc, t, magnitude, clip_level, clipped):
    out = np.zeros((len(t), 2))
    if magnitude:
        out[:, 0] = np.sqrt(np.einsum("ij,ij->i", acc, acc))
    if clip_level > 0:
        out[:, 1] = (np.abs(acc) >= clip_level).any(axis=1)
    else:
        out[:, 1] = clipped
    return out


@pytest.mark.parametrize(("clip_level", "clipped"), [(0.0, False), (0.0, True), (60.0, False)])
def test_shoe_block_equals_detector_and_numpy_history_under_random_chunking(
    run, clip_level, clipped
):
    sig = run.sensors["shoe_left"]
    rng = np.random.default_rng(1)
    acc = np.ascontiguousarray(sig.acc * rng.uniform(0.5, 3.0, size=(sig.n, 1)))
    gyr = np.ascontiguousarray(sig.gyr)
    want = ShoeEventDetector(FS).process(acc, gyr)
    want_hist = _ingest_reference(acc, sig.t, True, clip_level, clipped)
    want_clipped = int(want_hist[:, 1].sum())
    stage = ShoeEventStage(FS)
    tl = Timeline(FS, 2, keep_s=60.0)
    asm, ref_asm = StepAssembler(frozenset({"left"})), StepAssembler(frozenset({"left"}))
    asm._alloc(1024)
    got, n_clipped = [], 0
    for sl in _sizes(rng, sig.n):
        a, g, t = acc[sl], gyr[sl], sig.t[sl]
        stage.room(2 * len(t) + 256)
        found, nc, inserted = sb.shoe_block(
            a, g, t, clipped, 0, clip_level, tl.tb, tl.vb, tl.meta, tl.keep,
            stage.params_array, stage.fbuf, stage.ibuf,
            stage.kind, stage.idx, stage.emit, stage.times, 0, asm._ev, asm._evs, asm._cnt,
        )  # fmt: skip
        assert inserted == found
        n_clipped += nc
        for j in range(found):
            kind = "ic" if stage.kind[j] == 0 else "to"
            got.append((kind, float(stage.idx[j]), int(stage.emit[j])))
            ref_asm.add_shoe_event(kind, "left", stage.times[j, 0])
            assert stage.times[j, 0] == tl.time_at(stage.idx[j])
            assert stage.times[j, 1] == sig.t[stage.emit[j]]
    assert got == want and len(want) > 20
    assert asm.finish() == ref_asm.finish()  # the events reached the step assembly
    assert n_clipped == want_clipped
    np.testing.assert_array_equal(tl.vb[: sig.n], want_hist)
    np.testing.assert_array_equal(tl.tb[: sig.n], sig.t)


def test_block_kernels_report_nan_and_change_nothing(run):
    sig = run.sensors["shoe_right"]
    acc, gyr, t = sig.acc[:64].copy(), sig.gyr[:64].copy(), sig.t[:64]
    gyr[10, 2] = np.inf
    tl = Timeline(FS, 2)
    stage = ShoeEventStage(FS)
    s = stage.state
    asm = StepAssembler(frozenset({"right"}))
    found, _, _ = sb.shoe_block(
        acc, gyr, t, False, 0, 0.0, tl.tb, tl.vb, tl.meta, tl.keep,
        stage.params_array, stage.fbuf, stage.ibuf,
        stage.kind, stage.idx, stage.emit, stage.times, 1, asm._ev, asm._evs, asm._cnt,
    )  # fmt: skip
    assert found == -1 and tl.count == 0 and s.i[0] == 0


def _pelvic_reference(t, acc, gyr):
    """Plain numpy: attitude filter, quiet-standing prefix sums, mean-up sums."""
    _, up = OrientationFilter(FS).process(acc, gyr)
    still = (np.linalg.norm(gyr, axis=1) < 0.2) & (
        np.abs(np.linalg.norm(acc, axis=1) - 9.80665) < 1.0
    )
    k = len(still) if still.all() else int(np.argmin(still))
    return up, acc[:k].sum(axis=0), k, up.sum(axis=0)


def test_pelvis_block_equals_numpy_reference_under_random_chunking(run):
    sig = run.sensors["pelvis"]
    acc, gyr = np.ascontiguousarray(sig.acc), np.ascontiguousarray(sig.gyr)
    up_ref, stand_ref, stand_n, up_sum = _pelvic_reference(sig.t, acc, gyr)
    pd = PelvicDrop(FS, keep_s=60.0)
    tl = Timeline(FS, 2, keep_s=60.0)
    o = pd.orientation.state
    ut = pd.timeline
    for sl in _sizes(np.random.default_rng(2), sig.n):
        nc = sb.pelvis_block(
            acc[sl], gyr[sl], sig.t[sl], False, 0.0, tl.tb, tl.vb, tl.meta, tl.keep, True,
            pd.mparams, o.q, o.bias, o.count, pd.pf, pd.pi, ut.tb, ut.vb, ut.meta, ut.keep,
        )  # fmt: skip
        assert nc == 0
    np.testing.assert_array_equal(ut.vb[: sig.n], up_ref)  # attitude: bit for bit
    assert pd.pi[sb.PI_STAND_N] == stand_n and pd.standing_calibrated
    np.testing.assert_allclose(pd.pf[:3], stand_ref, rtol=1e-12)
    np.testing.assert_allclose(pd.pf[3:], up_sum, rtol=1e-9)
    np.testing.assert_array_equal(tl.vb[: sig.n, 0], 0.0)


# -- pelvic drop per stance ------------------------------------------------------------------
class _NumpyDrop:
    """The former pure-numpy per-stance code (ML axis, running neutral, drop) over ``up``."""

    def __init__(self, t, up, n_baseline=8, min_stances=8):
        self.t, self.up = t, up
        self.nb, self.min = n_baseline, min_stances
        self.trans: deque = deque()
        self.tsum = np.zeros(3)
        self.v = np.zeros(3)
        self.n = {"left": 0, "right": 0}
        self.base: dict[float, np.ndarray] = {}
        self.last_to = math.inf

    def _win(self, a, b):
        return self.up[(self.t >= a) & (self.t <= b)]

    def add(self, side, ic, to):
        up = self._win(ic, to)
        if len(up) < 2:
            return
        if ic - self.last_to > 1.0:
            self.trans.clear()
            self.tsum[:] = 0.0
        self.last_to = to
        here = 0.5 * (up[0] + up[-1])
        self.trans.append(here)
        self.tsum += here
        if len(self.trans) > self.nb:
            self.tsum -= self.trans.popleft()
        base = self.tsum / len(self.trans)
        self.base[ic] = base
        self.v += (1.0 if side == "left" else -1.0) * (up.sum(axis=0) / len(up) - base)
        self.n[side] += 1

    def drop(self, side, ic, to):
        if min(self.n.values()) < self.min:
            return math.nan
        u = self.tsum / np.linalg.norm(self.tsum)
        m = self.v - (self.v @ u) * u
        m /= np.linalg.norm(m)
        base = self.base[ic]
        neutral = np.degrees(np.arcsin(m @ base / np.linalg.norm(base)))
        sine = self._win(ic, to) @ m
        if side == "left":
            return np.degrees(np.arcsin(sine.max())) - neutral
        return neutral - np.degrees(np.arcsin(sine.min()))


def test_pelvic_drop_kernels_equal_numpy_reference(run):
    sig = run.sensors["pelvis"]
    pd = PelvicDrop(FS, keep_s=60.0)
    pd.process(sig.t, sig.acc, sig.gyr)
    ref = _NumpyDrop(*pd.timeline.window(-1.0, 1e9))
    tr = run.truth
    got, want = [], []
    for side, ic, to in zip(tr["side"], tr["ic_time"], tr["to_time"], strict=True):
        got.append(pd.stance_drop(side, ic, to))
        ref.add(side, ic, to)
        want.append(ref.drop(side, ic, to))
        assert pd.drop(side, ic, to) == got[-1] or math.isnan(got[-1])
    np.testing.assert_allclose(got, want, atol=1e-9)
    assert np.isfinite(got).sum() > 40


# -- asymmetry ---------------------------------------------------------------------------------
class _PythonMonitor:
    """The former deque/compare-based monitor: per metric and side the last ``window``
    values, Welch comparison, hysteresis; returns (metric, side, active, value)."""

    def __init__(self, th: asym.AlertThresholds):
        self.th = th
        self.vals = {
            m: {s: deque(maxlen=th.window) for s in ("left", "right")} for m in asym.METRICS
        }
        self.state: dict = {}
        self.on: dict = {}

    def _upd(self, key, over, under, metric, side, value):
        run_on, run_off = self.state.get(key, (0, 0))
        run_on = run_on + 1 if over else 0
        run_off = run_off + 1 if under else 0
        self.state[key] = (run_on, run_off)
        if key not in self.on and run_on >= self.th.k_on:
            self.on[key] = side
            return [(metric, side, True, value)]
        if key in self.on and run_off >= self.th.k_off:
            return [(metric, self.on.pop(key), False, value)]
        return []

    def add(self, step: Step):
        out = []
        for m in asym.METRICS:
            v = getattr(step, m)
            ok = not step.has_gap and not (step.clipped and m == "impact_peak")
            if ok and math.isfinite(v):
                self.vals[m][step.side].append(v)
            left, right = self.vals[m]["left"], self.vals[m]["right"]
            if min(len(left), len(right)) < self.th.min_steps:
                continue
            c = asym.compare(m, list(left), list(right))
            lim = getattr(self.th, m)
            if lim is not None:
                side = "right" if c.value > 0 else "left"
                over = abs(c.value) >= lim.on and c.significant
                out += self._upd((m, "lr"), over, abs(c.value) < lim.off, m, side, c.value)
            if m == "pelvic_drop_deg" and self.th.pelvic_drop_limit is not None:
                lim = self.th.pelvic_drop_limit
                for s, mean in (("left", c.left), ("right", c.right)):
                    key = (asym.PELVIC_DROP_LIMIT, s)
                    out += self._upd(key, mean >= lim.on, mean < lim.off, key[0], s, mean)
        return out


def _random_steps(rng, n):
    """Steps whose asymmetry drifts in and out of the thresholds (alerts on and off)."""
    steps = []
    for k in range(n):
        side = "left" if k % 2 == 0 else "right"
        phase = math.sin(k / 37.0)
        bias = (0.12 * phase) if side == "right" else 0.0
        steps.append(
            Step(
                side=side,
                ic_time=0.35 * k,
                contact_time=0.25 * (1 + bias) + rng.normal(0, 0.01),
                step_time=0.35 * (1 + 0.5 * bias) + rng.normal(0, 0.01),
                impact_peak=rng.normal(60, 8) if rng.random() > 0.05 else math.nan,
                pelvic_drop_deg=(6.0 + 6.0 * phase if side == "left" else 5.0) + rng.normal(0, 0.5),
                has_gap=bool(rng.random() < 0.03),
                clipped=bool(rng.random() < 0.05),
            )
        )
    return steps


@pytest.mark.parametrize("preset", ["runner", "clinic"])
def test_asymmetry_kernel_equals_python_reference(preset):
    th = asym.get_preset(preset)
    steps = _random_steps(np.random.default_rng(3), 600)
    mon, ref = asym.AsymmetryMonitor(th), _PythonMonitor(th)
    got, want = [], []
    for s in steps:
        got += [(a.metric, a.side, a.active, a.value) for a in mon.add(s)]
        want += ref.add(s)
        for m, c in mon.comparisons.items():
            r = asym.compare(m, list(ref.vals[m]["left"]), list(ref.vals[m]["right"]))
            assert c == r  # same arithmetic: identical floats
    assert got == want
    assert sum(a[2] for a in got) >= 2 and sum(not a[2] for a in got) >= 1


def test_t_quantile_kernel_equals_python_table():
    table = asym._t975_table()
    for df in (1.0, 1.3, 2.0, 7.7, 30.0, 1e4):
        assert ka.t_quantile(table, df) == asym._t_quantile_975(df)


# -- step assembly -------------------------------------------------------------------------------
class _PythonAssembler:
    """The former pure-Python assembler (sorted lists, bisect), without the shortcut."""

    def __init__(self, shoes, max_contact=0.8, max_step=1.5, tol=0.12):
        self.shoes = [s for s in ("left", "right") if s in shoes]
        self.mc, self.ms, self.tol = max_contact, max_step, tol
        self.ic = {"left": [], "right": []}
        self.to = {"left": [], "right": []}
        self.pic: list = []
        self.pto: list = []
        self.done, self.last = -math.inf, None

    def add(self, src, kind, side, t):
        if src == "shoe":
            bisect.insort((self.ic if kind == "ic" else self.to)[side], t)
        else:
            bisect.insort(self.pic if kind == "ic" else self.pto, (t, side), key=lambda e: e[0])

    def _merged(self, until):
        ics = [(t, s) for s in self.shoes for t in self.ic[s] if t < until]
        if len(self.shoes) < 2:
            for t, side in self.pic:
                if t >= until:
                    break
                if self.shoes:
                    sh = self.shoes[0]
                    if any(abs(u - t) <= self.tol for u in self.ic[sh]):
                        continue
                    side = "right" if sh == "left" else "left"
                ics.append((t, side))
        ics = sorted((e for e in ics if e[0] > self.done), key=lambda e: e[0])
        out, last = [], self.last
        for t, side in ics:
            if side is None:
                side = ("right" if last == "left" else "left") if last else "left"
            out.append((t, side))
            last = side
        return out

    def _to(self, side, ic, limit):
        if side in self.shoes:
            later = [t for t in self.to[side] if t > ic]
            return later[0] if later and later[0] < limit else math.nan
        for t, s in self.pto:
            if ic < t < limit and (s is None or s == side):
                return t
            if t >= limit:
                break
        return math.nan

    def advance(self, wm, final=False):
        ics = self._merged(wm)
        out = []
        for k in range(len(ics) - 1):
            t, side = ics[k]
            t_next, side_next = ics[k + 1]
            same = next((u for u, s in ics[k + 1 :] if s == side), math.inf)
            to = self._to(side, t, min(t + self.mc, same))
            if math.isnan(to) and t + self.mc >= wm:
                break
            if side_next == side or t_next - t > self.ms:
                t_next = math.nan
            out.append(StepTiming(side, t, to, t_next))
            self.done, self.last = t, side
        if final:
            for t, side in self._merged(math.inf):
                out.append(StepTiming(side, t, self._to(side, t, t + self.mc), math.nan))
                self.done, self.last = t, side
        return out


def _nan_none(x):
    return None if x != x else x


def _key(steps):
    return [(s.side, s.ic_time, _nan_none(s.to_time), _nan_none(s.next_ic_time)) for s in steps]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("shoes", [("left", "right"), ("right",), ()])
def test_step_kernels_equal_python_reference_with_late_events(seed, shoes):
    rng = np.random.default_rng(100 + seed)
    fast, ref = StepAssembler(frozenset(shoes)), _PythonAssembler(shoes)
    t, side, events = 0.0, "left", []
    for _ in range(150):
        t += rng.uniform(0.25, 0.9) if rng.random() > 0.05 else rng.uniform(1.5, 3.0)
        side = "right" if side == "left" else "left"
        to = t + rng.uniform(0.15, 0.95)
        if side in shoes:
            events += [("shoe", "ic", side, t), ("shoe", "to", side, to)]
        ps = side if rng.random() < 0.8 else None
        events += [("pelvis", "ic", ps, t + rng.normal(0, 0.02))]
        if rng.random() < 0.7:
            events += [("pelvis", "to", ps, to + rng.normal(0, 0.02))]
    events = [e for e in events if rng.random() > 0.05]
    arrival = [e[3] + rng.uniform(0.0, 0.7) for e in events]
    got, want = [], []
    watermark = -math.inf
    for j in np.argsort(arrival, kind="stable"):
        e = events[j]
        if e[0] == "shoe":
            fast.add_shoe_event(e[1], e[2], e[3])
        else:
            fast.add_pelvis_event(e[1], e[2], e[3])
        ref.add(*e)
        watermark = max(watermark, arrival[j] - 0.6)  # a watermark never moves back here
        got += fast.advance(watermark)
        want += ref.advance(watermark)
        # pelvis sides from the shoes, as numpy nearest-neighbour search
        if shoes and e[0] == "pelvis":
            times = {s: np.array(ref.ic[s]) for s in shoes}
            d = {s: np.abs(times[s] - e[3]).min() if len(times[s]) else np.inf for s in shoes}
            best = min(d, key=d.get)
            expect = best if d[best] <= 0.12 else (None if len(shoes) == 2 else "other")
            side = fast.pelvis_side(e[3], "ic")
            if expect == "other":
                assert side == ("left" if shoes[0] == "right" else "right")
            else:
                assert side == expect
    got += fast.finish()
    want += ref.advance(math.inf, final=True)
    assert _key(got) == _key(want)
    assert len(want) > 60


def test_batched_shoe_event_insertion_equals_one_by_one():
    rng = np.random.default_rng(4)
    a, b = StepAssembler(frozenset({"left", "right"})), StepAssembler(frozenset({"left", "right"}))
    for _ in range(40):  # also grows the stores (no advance: nothing is pruned)
        n = int(rng.integers(1, 6))
        kinds = rng.integers(0, 2, n)
        times = np.column_stack([rng.uniform(0, 100, n), np.zeros(n)])
        times[rng.random(n) < 0.2, 0] = np.nan
        side = "left" if rng.random() < 0.5 else "right"
        a.add_shoe_events(side, kinds, times, n)
        for k, t in zip(kinds, times[:, 0], strict=True):
            if t == t:
                b.add_shoe_event("ic" if k == 0 else "to", side, t)
    np.testing.assert_array_equal(a._cnt, b._cnt)
    for st in range(6):
        np.testing.assert_array_equal(a._ev[st, : a._cnt[st]], b._ev[st, : b._cnt[st]])
    assert a.finish() == b.finish()


# -- fused per-step kernel ---------------------------------------------------------------------
def test_complete_step_equals_the_separate_kernels(run):
    """complete_step == stance_drop + window_max + derived times + add_step, call for call."""
    sig, shoe = run.sensors["pelvis"], run.sensors["shoe_right"]
    pds = [PelvicDrop(FS, keep_s=60.0) for _ in range(2)]
    for pd in pds:
        pd.process(sig.t, sig.acc, sig.gyr)
    tl = Timeline(FS, 2, keep_s=60.0)
    tl.append(shoe.t, _ingest_reference(shoe.acc, shoe.t, True, 0.0, False))
    mons = [asym.AsymmetryMonitor(asym.get_preset("clinic")) for _ in range(2)]
    tr = run.truth
    out = np.empty(sm.N_OUT)
    rng = np.random.default_rng(5)
    n_alerts = 0
    for k in range(len(tr["side"]) - 1):
        side, ic, to = tr["side"][k], tr["ic_time"][k], tr["to_time"][k]
        nxt = tr["ic_time"][k + 1]
        gap, clipped = bool(rng.random() < 0.05), bool(rng.random() < 0.05)
        pd, m = pds[0], mons[0]
        ut = pd.timeline
        n = sm.complete_step(
            side == "right", ic, to, nxt, to, gap, clipped,
            True, ut.tb, ut.vb, ut.meta, pd.sf, pd.si, pd.ring, pd.bt, pd.bv, pd.pf, pd.pi,
            pd.cfg, side == "right", tl.tb, tl.vb, tl.meta,
            m._vals, m._cnt, m._head, m._alert, m._th, m._cfg, m._table, m._cmp, m._trans, out,
        )  # fmt: skip
        drop = pds[1].stance_drop(side, ic, to)
        impact = kt.window_max(tl.tb, tl.vb, tl.meta, ic - 0.05, ic + 0.05, 0)
        impact = impact if side == "right" else math.nan
        step = Step(side, ic, to, to - ic, nxt - to, nxt - ic, 60.0 / (nxt - ic), impact, drop,
                    gap, clipped)  # fmt: skip
        want = mons[1].add(step)
        np.testing.assert_array_equal(
            out, [impact, drop, to - ic, nxt - to, nxt - ic, 60.0 / (nxt - ic)]
        )
        assert n == len(want)
        n_alerts += n
        np.testing.assert_array_equal(mons[0]._cmp, mons[1]._cmp)
        np.testing.assert_array_equal(mons[0]._alert, mons[1]._alert)
    assert n_alerts >= 1  # the clinic preset fires on this right-hip-drop run
    assert kp.ready(pds[0].si, pds[0].cfg)


def test_pipeline_grows_the_step_stores_when_the_watermark_waits():
    """A configured pelvis that never sends data holds the watermark back (stall_s=inf): the
    shoe events pile up past the assembler's initial room; growing it changes nothing."""
    from imustream.dsp.pipeline import Pipeline, PipelineOutput
    from imustream.types import SampleBlock

    run = simulate("symmetric-runner", duration=70.0, fs=FS, seed=9)

    def feed(pre_grow):
        pipe = Pipeline(dict.fromkeys(("pelvis", "shoe_left", "shoe_right"), FS), stall_s=math.inf)
        if pre_grow:
            pipe.assembler._alloc(4096)
        out = PipelineOutput()
        n = run.sensors["shoe_left"].n
        for i in range(0, n, 64):
            for s in ("shoe_left", "shoe_right"):
                sig = run.sensors[s]
                blk = SampleBlock(sig.acc[i : i + 64], sig.gyr[i : i + 64], sensor=s,
                                  t_session=sig.t[i : i + 64])  # fmt: skip
                out.extend(pipe.process(blk))
        assert pipe.assembler._ev.shape[1] >= (4096 if pre_grow else 128)
        out.extend(pipe.finish())
        return out

    grown, big = feed(False), feed(True)
    assert (len(grown.steps) > 60 and grown.steps == big.steps) or all(
        a.side == b.side and a.ic_time == b.ic_time
        for a, b in zip(grown.steps, big.steps, strict=True)
    )
    assert len(grown.events) == len(big.events)


def test_resets_keep_the_state_arrays_a_pipeline_holds(run):
    """PelvicDrop / AsymmetryMonitor reset in place: the Pipeline's per-step kernel keeps
    working on their state, and a reset estimator gives what a fresh one gives."""
    sig = run.sensors["pelvis"]
    tr = run.truth
    fresh, used = PelvicDrop(FS), PelvicDrop(FS)
    used.process(sig.t, sig.acc, sig.gyr)
    for side, ic, to in zip(tr["side"], tr["ic_time"], tr["to_time"], strict=True):
        used.add_stance(side, ic, to)
    arrays = [used.sf, used.si, used.ring, used.bt, used.bv, used.pf, used.pi, used.timeline.tb]
    arrays += [used.orientation.state.q, used.orientation.state.bias]
    used.reset()
    assert all(a is b for a, b in zip(arrays, [used.sf, used.si, used.ring, used.bt, used.bv,
               used.pf, used.pi, used.timeline.tb, used.orientation.state.q,
               used.orientation.state.bias], strict=True))  # fmt: skip
    for est in (fresh, used):
        est.process(sig.t, sig.acc, sig.gyr)
    got = [
        used.stance_drop(s, a, b)
        for s, a, b in zip(tr["side"], tr["ic_time"], tr["to_time"], strict=True)
    ]
    want = [
        fresh.stance_drop(s, a, b)
        for s, a, b in zip(tr["side"], tr["ic_time"], tr["to_time"], strict=True)
    ]
    np.testing.assert_array_equal(got, want)
    mon = asym.AsymmetryMonitor()
    vals = mon._vals
    for s in _random_steps(np.random.default_rng(6), 40):
        mon.add(s)
    mon.reset()
    assert mon._vals is vals and not mon._cnt.any() and mon.comparisons == {} and not mon.active
