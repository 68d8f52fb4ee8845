"""The dashboard data model and the feed it reads (no Qt)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from imustream.types import (
    Alert,
    BlockFlags,
    Gap,
    InitialContact,
    LinkState,
    SampleBlock,
    StateChange,
    Step,
    ToeOff,
)
from imustream.viz.feed import COL_ACC, COL_CLIP, COL_T, LiveFeed
from imustream.viz.model import DashboardModel

FS = 400.0


def _block(sensor: str, t0: float, n: int = 8, flags=BlockFlags.NONE, value: float = 1.0):
    t = t0 + np.arange(n) / FS
    return SampleBlock(
        acc=np.full((n, 3), value),
        gyr=np.zeros((n, 3)),
        sensor=sensor,
        t_session=t,
        flags=flags,
    )


def _step(side, ic, ct=0.25, drop=4.0, cadence=float("nan")):
    return Step(
        side=side,
        ic_time=ic,
        to_time=ic + ct,
        contact_time=ct,
        pelvic_drop_deg=drop,
        cadence=cadence,
    )


def test_feed_rejects_unknown_sensor_and_missing_session_time():
    feed = LiveFeed(["pelvis"])
    with pytest.raises(ValueError, match="unknown sensor 'shoe_left'"):
        feed.push_block(_block("shoe_left", 0.0))
    b = SampleBlock(acc=np.zeros((2, 3)), gyr=np.zeros((2, 3)), sensor="pelvis")
    with pytest.raises(ValueError, match="no t_session"):
        feed.push_block(b)
    with pytest.raises(TypeError, match="cannot show a str"):
        feed.push_records(["step"])


def test_traces_keep_only_the_window_and_read_incrementally():
    feed = LiveFeed(["pelvis", "shoe_left"])
    model = DashboardModel(feed, window_s=2.0)
    assert not model.update()
    for i in range(0, 2000, 8):  # 5 s at 400 Hz
        feed.push_block(_block("pelvis", i / FS, value=float(i)))
    feed.push_block(_block("shoe_left", 0.0))
    assert model.update()
    tr = model.traces["pelvis"]
    assert model.now == pytest.approx(1999 / FS)
    assert tr[0, COL_T] >= model.now - 2.0 and tr[0, COL_T] - 1 / FS < model.now - 2.0
    assert np.all(np.diff(tr[:, COL_T]) > 0)
    # rows are the pushed ones, in order
    np.testing.assert_array_equal(tr[:, COL_ACC][:, 0], np.repeat(np.arange(1200, 2000, 8), 8))
    # the shoe stopped at 0.02 s: everything it had is older than the window
    assert model.traces["shoe_left"].shape[0] == 0
    # nothing new -> no change, same rows
    assert not model.update()
    feed.push_block(_block("pelvis", 2000 / FS))
    assert model.update()
    assert model.traces["pelvis"][-1, COL_T] == pytest.approx(2007 / FS)


def test_status_rate_loss_clipping_battery_and_state():
    feed = LiveFeed(["shoe_right"])
    model = DashboardModel(feed, window_s=5.0)
    for i in range(0, 1600, 8):
        flags = BlockFlags.ACC_CLIPPED if i == 800 else BlockFlags.NONE
        feed.push_block(_block("shoe_right", i / FS, flags=flags))
    feed.push_records([Gap("shoe_right", 1.0, 1.1, 40, "loss")])
    feed.push_records(
        [StateChange("shoe_right", LinkState.RECONNECTING, 0, "link lost", {"battery": 55})]
    )
    model.update()
    st = model.status["shoe_right"]
    assert st.rate_hz == pytest.approx(FS, rel=1e-9)
    assert st.n_samples == 1600 and st.n_missing == 40
    assert st.loss_pct == pytest.approx(100 * 40 / 1640)
    assert st.clipping and model.traces["shoe_right"][:, COL_CLIP].sum() == 8
    assert st.state is LinkState.RECONNECTING and st.battery_pct == 55
    feed.push_battery("shoe_right", 12)
    model.update()
    assert st.battery_pct == 12
    # once the clipped block leaves the window the flag clears
    for i in range(1600, 4800, 8):
        feed.push_block(_block("shoe_right", i / FS))
    model.update()
    assert not st.clipping


def test_steps_balance_cadence_and_drop():
    feed = LiveFeed()
    model = DashboardModel(feed, balance_steps=4, cadence_steps=6)
    assert math.isnan(model.cadence) and all(math.isnan(v) for v in model.contact_balance)
    t = 0.0
    steps = []
    for i in range(10):
        side = "left" if i % 2 == 0 else "right"
        ct = 0.26 if side == "left" else 0.24
        # the first steps of each side are different: only the last 4 per side count
        drop = (20.0 if i < 2 else 9.0) if side == "left" else 4.0
        steps.append(_step(side, t, ct=ct, drop=drop))
        t += 0.35
    feed.push_records(steps)
    model.update()
    left, right = model.contact_balance
    assert left == pytest.approx(100 * 0.26 / 0.50) and right == pytest.approx(100 * 0.24 / 0.50)
    assert model.cadence == pytest.approx(60 / 0.35)
    assert model.mean_drop("left") == pytest.approx(9.0)
    assert model.mean_drop("right") == pytest.approx(4.0)
    t_l, d_l = model.drop_trend("left")
    np.testing.assert_allclose(t_l, [s.ic_time for s in steps[0::2]])
    np.testing.assert_allclose(d_l, [s.pelvic_drop_deg for s in steps[0::2]])
    assert [s.ic_time for s in model.recent_steps(3)] == [s.ic_time for s in steps[-3:]]
    # a cadence given by the pipeline wins over the one from IC times
    feed.push_records([_step("left", t, cadence=180.0), _step("right", t + 0.3, cadence=182.0)])
    model.update()
    assert model.cadence == pytest.approx(181.0)


def test_alerts_follow_the_emitted_state_per_metric_and_side():
    feed = LiveFeed()
    model = DashboardModel(feed)
    on_l = Alert(1.0, "pelvic_drop_limit", "left", True, 9.1, 8.0, "Right hip drops 9.1°")
    on_r = Alert(2.0, "pelvic_drop_limit", "right", True, 8.4, 8.0, "Left hip drops 8.4°")
    feed.push_records([on_l])
    model.update()
    assert model.active_alerts == [on_l] and model.new_activations == [on_l]
    feed.push_records([on_r])
    model.update()
    assert model.active_alerts == [on_l, on_r] and model.new_activations == [on_r]
    off_l = Alert(3.0, "pelvic_drop_limit", "left", False, 6.5, 7.0, "Resolved")
    feed.push_records([off_l])
    model.update()
    assert model.active_alerts == [on_r] and model.new_activations == []
    feed.push_records([on_l])
    model.update()
    assert model.new_activations == [on_l]


def test_events_in_window_and_latency_sources():
    feed = LiveFeed(["shoe_left"])
    model = DashboardModel(feed, window_s=1.0)
    for i in range(0, 800, 8):
        feed.push_block(_block("shoe_left", i / FS))
    feed.push_records(
        [InitialContact("shoe_left", "left", 0.5, 0.52), ToeOff("shoe_left", "left", 1.8, 1.85)],
        source_host_ns=123,
    )
    feed.push_records([Alert(1.0, "step_time", "left", True, 12, 10)], source_host_ns=456)
    model.update()
    ic, to = model.event_times("shoe_left")
    assert ic.size == 0  # 0.5 s is outside the 1 s window ending at 1.98 s
    np.testing.assert_array_equal(to, [1.8])
    assert model.new_record_sources == [123, 123]
    model.update()
    assert model.new_record_sources == []


def test_model_rejects_bad_parameters():
    with pytest.raises(ValueError, match="window_s"):
        DashboardModel(LiveFeed(), window_s=0)
