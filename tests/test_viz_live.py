"""`imustream live` wiring: simulated sensors over the BLE stack -> worker -> feed and a
recording made with the record button's control; the recording replayed in the window."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from imustream import open_session
from imustream.cli._live import LiveWorker, simulated_source
from imustream.cli._recording import RecordingControl
from imustream.errors import ConfigError
from imustream.types import Marker
from imustream.viz.feed import LiveFeed
from imustream.viz.model import DashboardModel


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    d = tmp_path_factory.mktemp("live")
    source = simulated_source("right-hip-drop", rate=208.0, duration=25.0, seed=1, speed=5.0)
    feed = LiveFeed(list(source.profiles), max_rate_hz=250.0)
    worker = LiveWorker(source, feed)
    control = RecordingControl(worker, source.header, d)
    worker.start()
    source.start()
    control.toggle(True)
    worker.markers.put_nowait(Marker(3.0, "pain", 5.0))
    worker.markers.put_nowait(Marker(4.0, "note", text="felt the hip"))
    deadline = time.monotonic() + 120
    while worker.running and time.monotonic() < deadline:
        time.sleep(0.05)
    source.stop()
    worker.stop()
    control.close()
    assert worker.error is None and not control.errors
    model = DashboardModel(feed)
    model.update()
    return control.converted, model


def test_simulated_session_reaches_the_feed(recorded):
    _, model = recorded
    assert model.n_steps > 40
    assert all(st.n_samples > 20 * 208 for st in model.status.values())
    assert {str(st.state) for st in model.status.values()} <= {"streaming", "stopped"}
    texts = " ".join(a.message for a in model.active_alerts)
    assert "Right hip drops" in texts and "left stance" in texts


def test_record_button_writes_a_recording_with_steps_and_markers(recorded):
    paths, model = recorded
    assert len(paths) == 1 and paths[0].suffix == ".h5"
    with open_session(paths[0]) as s:
        assert s.complete and set(s.sensor_names) == {"pelvis", "shoe_left", "shoe_right"}
        assert s.sensors["pelvis"].n > 20 * 208
        assert len(s.steps["side"]) == pytest.approx(model.n_steps, abs=2)
        assert list(s.markers["kind"]) == ["pain", "note"]
        assert s.markers["value"][0] == 5.0 and s.markers["text"][1] == "felt the hip"
        assert np.any(s.alerts["active"] == 1)


def test_replay_in_the_window_with_screenshot(recorded, tmp_path):
    paths, _ = recorded
    png = tmp_path / "live.png"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "imustream",
            "live",
            "--replay",
            str(paths[0]),
            "--speed",
            "0",
            "--quit-after",
            "8",
            "--screenshot",
            str(png),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert png.is_file() and png.stat().st_size > 50_000
    assert "frames" in proc.stderr


def test_bad_simulation_rate_is_a_clear_error():
    with pytest.raises(ConfigError, match="--rate 100"):
        simulated_source("symmetric-runner", rate=100.0, duration=5.0, seed=0, speed=1.0)


def test_live_reports_a_missing_config_file(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "imustream", "live", "--config", str(tmp_path / "none.toml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1 and "none.toml" in proc.stderr and "not found" in proc.stderr


def test_window_updates_from_a_replay(recorded, qtbot):
    from imustream.cli._live import replay_source
    from imustream.viz.dashboard import Dashboard

    paths, live_model = recorded
    source = replay_source(paths[0], speed=None)
    feed = LiveFeed(list(source.profiles), max_rate_hz=250.0)
    worker = LiveWorker(source, feed)
    win = Dashboard(feed, fps=30)
    qtbot.addWidget(win)
    win.resize(1600, 950)
    win.show()
    win.start()
    worker.start()
    qtbot.waitUntil(lambda: not worker.running, timeout=120_000)
    qtbot.wait(100)  # at least one more frame after the worker finished
    assert worker.error is None
    # the replay goes through the same acquisition and pipeline as the live session
    assert win.model.n_steps == pytest.approx(live_model.n_steps, abs=3)
    assert win.banner.is_warning and "Right hip drops" in win.banner.text()
    assert win.status.text("pelvis", "Rate (Hz)") == "208"
    assert win.stats.frames >= 2


def test_gui_buttons_record_a_session_with_markers(qtbot, tmp_path):
    from pyqtgraph.Qt import QtCore

    from imustream.viz.dashboard import Dashboard

    source = simulated_source("symmetric-runner", rate=104.0, duration=12.0, seed=3, speed=4.0)
    feed = LiveFeed(list(source.profiles), max_rate_hz=150.0)
    worker = LiveWorker(source, feed)
    control = RecordingControl(worker, source.header, tmp_path)
    win = Dashboard(feed, markers=worker.markers, on_record=control.toggle, fps=20)
    qtbot.addWidget(win)
    win.show()
    win.start()
    worker.start()
    source.start()
    qtbot.waitUntil(lambda: win.model.now > 2.0, timeout=60_000)
    qtbot.mouseClick(win.controls.record, QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: win.model.now > 4.0, timeout=60_000)
    win.controls.pain.setValue(3)
    qtbot.mouseClick(win.controls.pain_button, QtCore.Qt.LeftButton)
    qtbot.mouseClick(win.controls.shoes_button, QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: win.model.now > 6.0, timeout=60_000)
    qtbot.mouseClick(win.controls.record, QtCore.Qt.LeftButton)  # stop: converted in background
    source.stop()
    worker.stop()
    control.close()
    assert not control.errors and worker.error is None
    with open_session(control.converted[0]) as s:
        assert list(s.markers["kind"]) == ["pain", "changed_shoes"]
        assert s.markers["value"][0] == 3.0
        assert 4.0 <= s.markers["time"][0] <= 7.0
        t = s.sensors["pelvis"].t_session
        # recorded from the first click to the second only
        assert 1.5 <= t[0] <= 4.5 and 5.5 <= t[-1] <= 9.0


def test_flaky_connection_shows_loss_and_reconnects():
    from imustream.types import LinkState
    from imustream.viz.widgets.sensor_status import status_cells

    source = simulated_source("flaky-connection", rate=104.0, duration=30.0, seed=0, speed=5.0)
    feed = LiveFeed(list(source.profiles), max_rate_hz=150.0)
    worker = LiveWorker(source, feed)
    model = DashboardModel(feed)
    worker.start()
    source.start()
    seen: dict[str, set] = {s: set() for s in feed.sensors}
    texts: set[str] = set()
    deadline = time.monotonic() + 120
    while worker.running and time.monotonic() < deadline:
        model.update()
        for s, st in model.status.items():
            seen[s].add(st.state)
        texts.add(status_cells(model.status["shoe_right"], model.now)[1][0])
        time.sleep(0.02)
    source.stop()
    worker.stop()
    model.update()
    assert worker.error is None
    # shoe_right is out of range 20-24 s and 45-46 s (the latter after the end)
    assert {LinkState.LOST, LinkState.RECONNECTING} & seen["shoe_right"]
    assert LinkState.STREAMING in seen["shoe_right"]
    assert any(
        "stalled" in t or t in ("lost", "reconnecting", "connecting", "scanning") for t in texts
    )
    # the panel's loss is the acquisition's own accounting of every missing sample
    for s, st in model.status.items():
        acq = worker.acq.stats[s]
        assert st.n_missing == acq.missing_samples and st.n_samples == acq.samples
        assert st.loss_pct == pytest.approx(100 * acq.loss_fraction)
    assert model.status["pelvis"].n_missing > 0
    # 4 s out of range in ~30 s on the right shoe
    assert model.status["shoe_right"].loss_pct > 8


def test_report_of_the_live_recording_matches_the_simulated_truth(recorded, tmp_path):
    from imustream.sim import simulate
    from imustream.viz.report import build_report, load_report_data

    paths, _ = recorded
    truth = simulate("right-hip-drop", duration=25.0, fs=208.0, seed=1).truth
    data = load_report_data(paths[0])
    for side in ("left", "right"):
        d = truth["pelvic_drop_deg"][truth["side"] == side]
        ct = truth["contact_time"][truth["side"] == side]
        stats = data.side_stats(side)
        assert stats.drop_mean == pytest.approx(np.nanmean(d), abs=1.0), side
        assert stats.contact_time_mean == pytest.approx(np.nanmean(ct), abs=0.02), side
    html = build_report(paths, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Right hip drops" in html and "during left stance" in html
