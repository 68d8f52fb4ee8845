"""Pipeline internals against their references: input-pass kernel, event stages, step shortcut."""

from __future__ import annotations

import math

import numpy as np
import pytest

from imustream.dsp.event_stage import PelvisEventStage, ShoeEventStage
from imustream.dsp.kernels.ingest import ingest
from imustream.dsp.pelvis_events import PelvisEventDetector
from imustream.dsp.pipeline import Pipeline, PipelineOutput
from imustream.dsp.shoe_events import ShoeEventDetector
from imustream.dsp.steps import StepAssembler
from imustream.sim import simulate
from imustream.types import InitialContact, SampleBlock, ToeOff

FS = 200.0


@pytest.fixture(scope="module")
def run():
    return simulate("right-hip-drop", duration=25.0, fs=FS, seed=5)


def _ingest_reference(acc, gyr, t, magnitude, clip_level, clipped):
    """Plain numpy: what Pipeline did before the kernel (sum-based NaN check, einsum)."""
    if not np.isfinite(acc).all() or not np.isfinite(gyr).all() or not np.isfinite(t).all():
        return -1, None
    out = np.zeros((len(t), 2))
    if magnitude:
        out[:, 0] = np.sqrt(np.einsum("ij,ij->i", acc, acc))
    if clip_level > 0:
        out[:, 1] = (np.abs(acc) >= clip_level).any(axis=1)
        return int(out[:, 1].sum()), out
    out[:, 1] = clipped
    return (len(t) if clipped else 0), out


def _chunks(rng, n, max_size=80):
    i = 0
    while i < n:
        k = int(rng.integers(1, max_size))
        yield slice(i, min(n, i + k))
        i += k


@pytest.mark.parametrize("magnitude", [True, False])
@pytest.mark.parametrize(("clip_level", "clipped"), [(0.0, False), (0.0, True), (60.0, False)])
def test_ingest_equals_numpy_reference_bit_for_bit(run, magnitude, clip_level, clipped):
    sig = run.sensors["shoe_left"]
    rng = np.random.default_rng(0)
    acc = sig.acc * rng.uniform(0.5, 3.0, size=(sig.n, 1))  # some samples past 60 m/s^2
    out = np.empty((sig.n, 2))
    for sl in _chunks(rng, sig.n):
        a, g, t = np.ascontiguousarray(acc[sl]), np.ascontiguousarray(sig.gyr[sl]), sig.t[sl]
        want_n, want = _ingest_reference(a, g, t, magnitude, clip_level, clipped)
        got_n = ingest(a, g, t, magnitude, clip_level, clipped, out)
        assert got_n == want_n
        np.testing.assert_array_equal(out[: len(t)], want)
    if clip_level > 0:
        assert (np.abs(acc) >= clip_level).any()  # the test exercised clipping


@pytest.mark.parametrize("where", ["acc", "gyr", "t"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_ingest_reports_nan_and_inf(run, where, bad):
    sig = run.sensors["pelvis"]
    arrays = {"acc": sig.acc[:50].copy(), "gyr": sig.gyr[:50].copy(), "t": sig.t[:50].copy()}
    arrays[where][17] = bad
    out = np.empty((50, 2))
    assert ingest(arrays["acc"], arrays["gyr"], arrays["t"], True, 0.0, False, out) == -1


def _stage_events(stage, sig, slices, shoe):
    got = []
    for sl in slices:
        a = np.ascontiguousarray(sig.acc[sl])
        m = stage.process(a, np.ascontiguousarray(sig.gyr[sl]))
        got += [(int(stage.kind[j]), float(stage.idx[j]), int(stage.emit[j])) for j in range(m)]
        if not shoe:
            got[len(got) - m :] = [
                (*e, int(stage.side[j])) for j, e in enumerate(got[len(got) - m :])
            ]
    m = stage.flush()
    tail = [(int(stage.kind[j]), float(stage.idx[j]), int(stage.emit[j])) for j in range(m)]
    if not shoe:
        tail = [(*e, int(stage.side[j])) for j, e in enumerate(tail)]
    return got + tail


@pytest.mark.parametrize("sensor", ["shoe_left", "shoe_right", "pelvis"])
def test_event_stages_equal_the_detectors_under_random_chunking(run, sensor):
    """Same results as the public detectors, whatever the block sizes."""
    sig = run.sensors[sensor]
    shoe = sensor != "pelvis"
    det = ShoeEventDetector(FS) if shoe else PelvisEventDetector(FS)
    codes = {"ic": 0, "to": 1}
    sides = {"left": 0, "right": 1, None: -1}
    ref = []
    for e in det.process(sig.acc, sig.gyr) + det.flush():
        if shoe:
            ref.append((codes[e[0]], e[1], e[2]))
        else:
            ref.append((codes[e[0]], e[1], e[3], sides[e[2]]))
    assert len(ref) > 40
    rng = np.random.default_rng(1)
    for slices in ([slice(0, sig.n)], list(_chunks(rng, sig.n)), list(_chunks(rng, sig.n, 3))):
        stage = ShoeEventStage(FS) if shoe else PelvisEventStage(FS)
        assert _stage_events(stage, sig, slices, shoe) == ref
        stage.reset()
        assert _stage_events(stage, sig, [slice(0, sig.n)], shoe) == ref


class _AlwaysMerge(StepAssembler):
    """Reference: the step assembly without the quiet-watermark shortcut."""

    def _next_ic(self, watermark: float) -> float:
        return -math.inf


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("shoes", [("left", "right"), ("left",), ()])
def test_step_assembly_shortcut_changes_nothing(seed, shoes):
    """Random (late, out-of-order, missing) events and a jittery, sometimes falling watermark."""
    rng = np.random.default_rng(seed)
    fast, ref = StepAssembler(frozenset(shoes)), _AlwaysMerge(frozenset(shoes))
    t, side, events = 0.0, "left", []
    for _ in range(120):
        t += rng.uniform(0.25, 0.9) if rng.random() > 0.05 else rng.uniform(1.5, 3.0)
        side = "right" if side == "left" else "left"
        to = t + rng.uniform(0.15, 0.95)
        if side in shoes:
            events += [("shoe", "ic", side, t), ("shoe", "to", side, to)]
        psides = [side, None] if rng.random() < 0.8 else [None]
        events += [("pelvis", "ic", psides[0], t + rng.normal(0, 0.02))]
        if rng.random() < 0.7:
            events += [("pelvis", "to", psides[0], to + rng.normal(0, 0.02))]
    events = [e for e in events if rng.random() > 0.05]  # missing events
    arrival = {id(e): e[3] + rng.uniform(0.0, 0.7) for e in events}
    events.sort(key=lambda e: arrival[id(e)])
    got, want = [], []
    watermark = 0.0
    for e in events:
        for a in (fast, ref):
            if e[0] == "shoe":
                a.add_shoe_event(e[1], e[2], e[3])
            else:
                a.add_pelvis_event(e[1], e[2], e[3])
        for _ in range(int(rng.integers(0, 4))):
            watermark = arrival[id(e)] - 0.6 + rng.normal(0, 0.05)
            if rng.random() < 0.05:
                watermark -= rng.uniform(0.5, 2.0)  # a stalled sensor is back
            got += fast.advance(watermark)
            want += ref.advance(watermark)
    got += fast.finish()
    want += ref.finish()
    assert got == want
    assert len(want) > 50


def test_pelvis_without_gyro_gives_the_detectors_events(run):
    """gyro={"pelvis": False}: the detector runs without gyro; no pelvic drop, same events."""
    sig = run.sensors["pelvis"]
    det = PelvisEventDetector(FS, has_gyr=False)
    ref = sorted(
        (kind, float(np.interp(idx, np.arange(sig.n), sig.t)), side)
        for kind, idx, side, _ in det.process(sig.acc) + det.flush()
    )
    pipe = Pipeline({"pelvis": FS}, gyro={"pelvis": False})
    assert pipe.pelvic is None
    out = PipelineOutput()
    for sl in _chunks(np.random.default_rng(2), sig.n):
        acc = sig.acc[sl]
        blk = SampleBlock(acc, np.zeros_like(acc), sensor="pelvis", t_session=sig.t[sl])
        out.extend(pipe.process(blk))
    out.extend(pipe.finish())
    kinds = {InitialContact: "ic", ToeOff: "to"}
    got = sorted((kinds[type(e)], e.time, e.side) for e in out.events)
    assert [(k, s) for k, _, s in got] == [(k, s) for k, _, s in ref]
    np.testing.assert_allclose([t for _, t, _ in got], [t for _, t, _ in ref], atol=1e-9)
    assert len(out.steps) > 30
    assert all(math.isnan(s.pelvic_drop_deg) for s in out.steps)


def test_pelvis_stage_rejects_nan_and_feeds_nothing(run):
    """A non-finite block raises and leaves the state as it was (then same events)."""
    sig = run.sensors["pelvis"]
    det = PelvisEventDetector(FS)
    want = [(e[0], e[1], e[2]) for e in det.process(sig.acc, sig.gyr) + det.flush()]
    stage = PelvisEventStage(FS)
    got = []
    for sl in (slice(0, 1000), slice(1000, sig.n)):
        for where in ("acc", "gyr"):
            arrays = {"acc": sig.acc[sl].copy(), "gyr": sig.gyr[sl].copy()}
            arrays[where][7, 1] = np.nan
            with pytest.raises(ValueError, match=f"{where} contains NaN"):
                stage.process(arrays["acc"], arrays["gyr"])
        m = stage.process(np.ascontiguousarray(sig.acc[sl]), np.ascontiguousarray(sig.gyr[sl]))
        got += [(int(stage.kind[j]), float(stage.idx[j]), int(stage.side[j])) for j in range(m)]
    m = stage.flush()
    got += [(int(stage.kind[j]), float(stage.idx[j]), int(stage.side[j])) for j in range(m)]
    codes = {"ic": 0, "to": 1, "left": 0, "right": 1, None: -1}
    assert got == [(codes[k], x, codes[s]) for k, x, s in want]
    assert len(got) > 40


def test_pelvis_event_batch_changes_only_emission_times(run):
    """Per-block pelvis events (pelvis_event_batch=1) and the batched default: same output."""
    outs = []
    for batch in (1, 256):
        pipe = Pipeline(dict.fromkeys(run.sensors, FS), pelvis_event_batch=batch)
        out = PipelineOutput()
        for i in range(0, run.sensors["pelvis"].n, 64):
            for name, sig in run.sensors.items():
                sl = slice(i, min(i + 64, sig.n))
                if sl.start < sl.stop:
                    blk = SampleBlock(sig.acc[sl], sig.gyr[sl], sensor=name, t_session=sig.t[sl])
                    out.extend(pipe.process(blk))
        out.extend(pipe.finish())
        outs.append(out)
    per_block, batched = outs
    key = sorted((e.sensor, type(e).__name__, e.side, e.time) for e in per_block.events)
    assert key == sorted((e.sensor, type(e).__name__, e.side, e.time) for e in batched.events)
    assert any(e.sensor == "pelvis" for e in per_block.events)
    assert repr(per_block.steps) == repr(batched.steps)  # NaN fields: compare their text
    assert len(per_block.steps) > 30
