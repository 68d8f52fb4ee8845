"""The live dashboard window, offscreen, fed by a producer of real record types."""

from __future__ import annotations

import math
import queue

import numpy as np
import pytest
from pyqtgraph.Qt import QtCore, QtGui

from imustream.dsp.asymmetry import AsymmetryMonitor
from imustream.dsp.pipeline import Pipeline
from imustream.sim import simulate
from imustream.types import LinkState, Marker, SampleBlock, StateChange
from imustream.viz.dashboard import Dashboard
from imustream.viz.feed import LiveFeed
from imustream.viz.synthetic import SyntheticGait, synthetic_stream


def _play(win: Dashboard, feed: LiveFeed, gait: SyntheticGait, duration: float, frame_s=0.1):
    """Push the stream in time order, drawing a frame every ``frame_s`` of session time."""
    next_frame = frame_s
    for t, item in synthetic_stream(gait, duration, AsymmetryMonitor()):
        while t >= next_frame:
            win.tick()
            next_frame += frame_s
        if isinstance(item, list):
            feed.push_records(item)
        else:
            feed.push_block(item)
    win.tick()


def _play_pipeline(win: Dashboard, feed: LiveFeed, scenario: str, duration: float = 30.0):
    """The virtual runner's signals through the real dsp.Pipeline into the feed, 8-sample
    blocks in time order, a frame every 0.1 s of session time."""
    fs = 208.0
    run = simulate(scenario, duration=duration, fs=fs, seed=0)
    pipe = Pipeline({s: fs for s in run.sensors})
    n = min(v.n for v in run.sensors.values())
    next_frame = 0.1
    for i in range(0, n, 8):
        for sensor, sig in run.sensors.items():
            block = SampleBlock(
                acc=sig.acc[i : i + 8],
                gyr=sig.gyr[i : i + 8],
                sensor=sensor,
                t_session=sig.t[i : i + 8],
            )
            feed.push_block(block)
            feed.push_output(pipe.process(block))
        if sig.t[min(i + 7, n - 1)] >= next_frame:
            win.tick()
            next_frame += 0.1
    feed.push_output(pipe.finish())
    win.tick()
    return run


@pytest.fixture
def make_window(qtbot):
    def make(**kw):
        feed = LiveFeed()
        win = Dashboard(feed, **kw)
        qtbot.addWidget(win)
        win.resize(1600, 950)
        win.show()
        return win, feed

    return make


def test_window_builds_and_waits_for_data(make_window):
    win, _feed = make_window()
    win.tick()
    assert "Waiting" in win.banner.text() and not win.banner.is_warning
    assert win.status.text("pelvis", "Link") == "no data"
    assert win.numbers.cadence.value.text() == "–"


def test_pipeline_right_hip_drop_run_warns_and_names_the_side(make_window):
    win, feed = make_window()
    run = _play_pipeline(win, feed, "right-hip-drop")
    assert win.banner.is_warning
    text = win.banner.text()
    assert "Right hip drops" in text and "left stance" in text and "Left hip" not in text
    # the drop numbers on screen are those of the pipeline's steps, close to the truth
    truth = run.truth
    for side in ("left", "right"):
        shown = win.model.mean_drop(side)
        d = truth["pelvic_drop_deg"][truth["side"] == side]
        true = d[np.isfinite(d)][-20:].mean()
        assert abs(shown - true) < 1.0, (side, shown, true)
    step_time = truth["step_time"][np.isfinite(truth["step_time"])]
    assert win.model.cadence == pytest.approx(np.median(60 / step_time), rel=0.03)


def test_pipeline_symmetric_run_shows_no_warning(make_window):
    win, feed = make_window()
    _play_pipeline(win, feed, "symmetric-runner")
    assert win.model.n_steps > 60
    assert not win.banner.is_warning and "No asymmetry alert" in win.banner.text()
    assert not win.model.alerts


def test_right_hip_drop_run_shows_warning_naming_side_and_metric(make_window):
    win, feed = make_window()
    # pelvic drop of the left stance = the right hip dropping
    _play(win, feed, SyntheticGait(pelvic_drop_deg=(9.5, 4.0), seed=1), 20.0)
    assert win.banner.is_warning
    text = win.banner.text()
    assert "Right hip drops" in text and "left stance" in text
    assert win.drop.limit_lines[0].isVisible()
    assert win.numbers.cadence.value.text() == "170"
    assert "9." in win.numbers.drop.value.text()


def test_symmetric_run_shows_no_warning(make_window):
    win, feed = make_window()
    _play(win, feed, SyntheticGait(pelvic_drop_deg=(4.0, 4.0), seed=2), 20.0)
    assert not win.banner.is_warning
    assert "No asymmetry alert" in win.banner.text()
    left, right = win.model.contact_balance
    assert abs(left - 50) < 1.5 and abs(right - 50) < 1.5


def test_alert_turning_off_clears_the_banner(make_window):
    win, feed = make_window(beep=True)
    from imustream.types import Alert

    on = Alert(5.0, "contact_time", "left", True, 12.0, 10.0, "Longer ground contact on the left")
    feed.push_records([on])
    win.tick()
    assert win.banner.is_warning and "Longer ground contact on the left" in win.banner.text()
    assert win.banner.n_beeps == 1
    win.tick()
    assert win.banner.n_beeps == 1  # one cue per activation, not per frame
    feed.push_records([Alert(9.0, "contact_time", "left", False, 6.0, 7.0, "Resolved")])
    win.tick()
    assert not win.banner.is_warning


def test_banner_says_when_no_data_arrive(qtbot):
    fake = [100.0]
    feed = LiveFeed()
    win = Dashboard(feed, clock=lambda: fake[0], stale_after_s=2.0)
    qtbot.addWidget(win)
    _play(win, feed, SyntheticGait(), 3.0)
    assert "No asymmetry alert" in win.banner.text()
    fake[0] += 1.5
    win.tick()
    assert "No asymmetry alert" in win.banner.text()
    fake[0] += 2.0  # 3.5 s without a new sample
    win.tick()
    assert "No data from the sensors for 4 s" in win.banner.text()
    assert not win.banner.is_warning
    feed.push_block(
        SampleBlock(
            acc=np.zeros((8, 3)),
            gyr=np.zeros((8, 3)),
            sensor="pelvis",
            t_session=3.0 + np.arange(8) / 400,
        )
    )
    win.tick()
    assert "No asymmetry alert" in win.banner.text()


def test_traces_are_decimated_to_screen_width_and_carry_event_markers(make_window):
    win, feed = make_window(window_s=8.0)
    _play(win, feed, SyntheticGait(), 12.0, frame_s=0.5)
    plot = win.traces.plots["shoe_left"]
    width = max(100, int(plot.vb.width()))
    x, _y = win.traces.curves["shoe_left"][0].getData()
    assert 0 < x.size <= 2 * width + 2
    assert win.model.traces["shoe_left"].shape[0] == pytest.approx(8.0 * 400, abs=8)
    assert x.min() >= -8.0 and x.max() <= 0.0
    shift = win.traces.ic_items["shoe_left"].pos().x()
    assert shift == pytest.approx(-win.model.now)
    ic_x = win.traces.ic_items["shoe_left"].getData()[0] + shift
    to_x = win.traces.to_items["shoe_left"].getData()[0] + shift
    # 170 steps/min: one left IC every 0.706 s -> 11 or 12 in an 8 s window
    assert 10 <= ic_x.size <= 12 and 10 <= to_x.size <= 12
    assert np.all((ic_x >= -8.0) & (ic_x <= 0.0))
    # channel selection: angular rate, magnitude only
    win.traces.quantity.setCurrentText("Angular rate")
    for name, box in win.traces.channel_boxes.items():
        box.setChecked(name == "|v|")
    win.traces.refresh(win.model)
    assert [c.isVisible() for c in win.traces.curves["shoe_left"]] == [False] * 3 + [True]
    _, norm = win.traces.curves["shoe_left"][3].getData()
    assert norm.max() > 5.0  # swing rotates at ~8 rad/s


def test_event_markers_are_drawn_on_every_trace(make_window):
    from pyqtgraph.Qt import QtWidgets

    from imustream.viz.widgets.traces import IC_COLOUR

    win, feed = make_window()
    # paint after every frame, as the event loop does live (the scatter's culling depends on it)
    next_frame = 0.1
    for t, item in synthetic_stream(SyntheticGait(), 20.0):
        while t >= next_frame:
            win.tick()
            QtWidgets.QApplication.processEvents()
            next_frame += 0.1
        feed.push_records(item) if isinstance(item, list) else feed.push_block(item)
    win.tick()
    img = win.traces.glw.grab().toImage()
    yellow = QtGui.QColor(IC_COLOUR)
    for sensor in ("shoe_left", "shoe_right"):
        rect = win.traces.plots[sensor].vb.sceneBoundingRect().toRect()
        hits = sum(
            img.pixelColor(x, y) == yellow
            for x in range(rect.left(), rect.right(), 2)
            for y in range(rect.top(), rect.bottom(), 2)
        )
        assert hits > 20, (sensor, hits)


def test_sensor_status_shows_link_state_rate_and_loss(make_window):
    win, feed = make_window()
    feed.push_records([StateChange("pelvis", LinkState.STREAMING, 0)])
    feed.push_records([StateChange("shoe_right", LinkState.RECONNECTING, 0, "link lost")])
    feed.push_battery("pelvis", 77)
    _play(win, feed, SyntheticGait(), 3.0)
    assert win.status.text("pelvis", "Link") == "streaming"
    assert win.status.text("shoe_right", "Link") == "reconnecting"
    assert win.status.text("shoe_left", "Link") == "receiving"
    assert win.status.text("pelvis", "Rate (Hz)") == "400"
    assert win.status.text("pelvis", "Loss (%)") == "0.0"
    assert win.status.text("pelvis", "Battery (%)") == "77"
    assert win.status.text("shoe_left", "Battery (%)") == "–"
    assert win.status.text("pelvis", "Clipping") == "ok"


def test_markers_and_record_buttons(make_window, qtbot):
    markers: queue.SimpleQueue[Marker] = queue.SimpleQueue()
    toggles: list[bool] = []
    win, feed = make_window(markers=markers, on_record=toggles.append)
    _play(win, feed, SyntheticGait(), 2.0)
    now = win.session_time()
    assert now == pytest.approx(2.0 - 1 / 400)

    win.controls.pain.setValue(7)
    qtbot.mouseClick(win.controls.pain_button, QtCore.Qt.LeftButton)
    qtbot.mouseClick(win.controls.shoes_button, QtCore.Qt.LeftButton)
    win.controls.note.setText("  left calf tight ")
    qtbot.mouseClick(win.controls.note_button, QtCore.Qt.LeftButton)
    qtbot.mouseClick(win.controls.note_button, QtCore.Qt.LeftButton)  # empty: nothing
    got = [markers.get_nowait() for _ in range(markers.qsize())]
    assert [(m.kind, m.text) for m in got] == [
        ("pain", ""),
        ("changed_shoes", ""),
        ("note", "left calf tight"),
    ]
    assert got[0].value == 7.0 and math.isnan(got[1].value)
    assert all(m.time == now for m in got)

    qtbot.mouseClick(win.controls.record, QtCore.Qt.LeftButton)
    qtbot.mouseClick(win.controls.record, QtCore.Qt.LeftButton)
    assert toggles == [True, False]


def test_record_button_disabled_without_recorder(make_window):
    win, _ = make_window()
    assert not win.controls.record.isEnabled()


def test_screenshot_is_a_real_picture(make_window, tmp_path):
    win, feed = make_window()
    _play(win, feed, SyntheticGait(pelvic_drop_deg=(9.5, 4.0)), 10.0)
    path = win.save_screenshot(tmp_path / "dash.png")
    img = QtGui.QImage(str(path))
    assert img.width() == 1600 and img.height() == 950
    # the red banner is at the top, the dark background elsewhere
    banner = img.pixelColor(800, 40)
    assert banner.red() > 180 and banner.green() < 100
    colours = {img.pixel(x, y) for x in range(0, 1600, 37) for y in range(0, 950, 29)}
    assert len(colours) > 20


def test_rejects_bad_frame_rate():
    with pytest.raises(ValueError, match="fps"):
        Dashboard(LiveFeed(), fps=0)


def test_long_session_trend_stays_bounded(make_window):
    from imustream.types import Step
    from imustream.viz.widgets.pelvic_drop import MAX_TREND_POINTS

    win, feed = make_window()
    rng = np.random.default_rng(0)
    steps = [
        Step(
            "left" if i % 2 == 0 else "right",
            0.35 * i,
            contact_time=0.25,
            pelvic_drop_deg=float(4 + rng.normal()),
        )
        for i in range(2 * 3000)  # ~35 min of running
    ]
    feed.push_records(steps)
    win.tick()
    x, _ = win.drop.trend_points["left"].getData()
    assert x.size == MAX_TREND_POINTS and x[-1] == steps[-2].ic_time
    xl, _ = win.drop.trend_lines["left"].getData()
    assert xl.size <= MAX_TREND_POINTS + 2 and xl[0] < 60 and xl[-1] == steps[-2].ic_time
    bars = win.drop.bars.opts["height"]
    assert len(bars) == 20
