"""The dashboard's record button (cli/_recording.py): a recording takes the live
acquisition's session origin, also when the button is pressed before any data arrived."""

from __future__ import annotations

import queue

import numpy as np
import pytest

import imustream.profiles as profiles
from imustream import open_session
from imustream.cli._live import LiveSource, LiveWorker, queue_items
from imustream.cli._recording import PendingRecorder, RecordingControl
from imustream.io.recorder import Recorder
from imustream.sim.encoders import PacketEncoder
from imustream.stream.acquisition import Acquisition
from imustream.types import LinkState, Marker, SampleBlock, StateChange
from imustream.viz.feed import LiveFeed

FS = 100.0
SENSOR = "pelvis"
HOST0_NS = 5_000_000_000  # a monotonic host clock: 5 s after boot when the sensor connects


def _items(seconds: float = 3.0) -> list:
    p = profiles.get("imustream-open").with_options(rate=FS)
    enc = PacketEncoder(p, rate=FS, samples_per_packet=4)
    items: list = [
        StateChange(SENSOR, LinkState.STREAMING, HOST0_NS, "connection 1", {"connection": 1})
    ]
    for k in range(int(seconds * FS) // 4):
        t = (4 * k + np.arange(4)) / FS
        acc = np.column_stack([np.sin(t), np.cos(t), np.full(4, 9.81)])
        payload = enc.encode(acc, np.zeros((4, 3)), 2.0 + t[0], k)
        items.append((HOST0_NS + int((t[-1] + 0.012) * 1e9), SENSOR, payload))
    return items


def _session(done: list[bool], origin_ns: int | None = None):
    p = profiles.get("imustream-open").with_options(rate=FS)
    q: queue.SimpleQueue = queue.SimpleQueue()
    source = LiveSource(
        items=queue_items(q, lambda: not done[0]),
        header={"sensors": [SENSOR], "sensor_info": {SENSOR: {"profile": p.name, "rate": FS}}},
        rates={SENSOR: FS},
        profiles={SENSOR: p},
        monotonic_host_ns=False,
        origin_ns=origin_ns,
    )
    feed = LiveFeed([SENSOR], max_rate_hz=FS)
    return q, LiveWorker(source, feed), feed


class _Gui:
    """A worker fed from a queue, the dashboard and its record button's control."""

    def __init__(self, qtbot, tmp_path) -> None:
        from imustream.viz.dashboard import Dashboard

        self.qtbot = qtbot
        self.done = [False]
        self.q, self.worker, feed = _session(self.done)
        self.control = RecordingControl(self.worker, self.worker.source.header, tmp_path)
        self.win = Dashboard(
            feed, markers=self.worker.markers, on_record=self.control.toggle, fps=20
        )
        qtbot.addWidget(self.win)
        self.win.show()
        self.win.start()
        self.worker.start()
        self.sent = 0

    def click_record(self) -> None:
        from pyqtgraph.Qt import QtCore

        self.qtbot.mouseClick(self.win.controls.record, QtCore.Qt.LeftButton)

    def send(self, items: list) -> None:
        for it in items:
            self.q.put(it)
        self.sent += len(items)
        # generous: the first blocks may wait for numba to compile the detectors
        self.qtbot.waitUntil(lambda: self.worker.items_done == self.sent, timeout=180_000)

    def finish(self) -> np.ndarray:
        """Stop recording and the session; the recorded pelvis session times."""
        self.click_record()
        self.done[0] = True
        self.worker.stop()
        self.control.close()
        assert not self.control.errors and self.worker.error is None
        with open_session(self.control.converted[0]) as s:
            assert s.attrs["t0_ns"] == HOST0_NS == self.worker.acq.origin_ns
            self.markers = list(s.markers["kind"])
            return np.asarray(s.sensors[SENSOR].t_session)


def _expected_t_session(items: list) -> np.ndarray:
    """What the live acquisition computes (origin: the first item)."""
    acq = Acquisition(*_profiles_rates())
    out = [b for it in items for b in acq.handle(it)] + acq.flush()
    return np.concatenate([b.t_session for b in out if isinstance(b, SampleBlock)])


def _profiles_rates():
    return {SENSOR: profiles.get("imustream-open").with_options(rate=FS)}, {SENSOR: FS}


def test_record_pressed_before_data_takes_the_origin_of_the_first_item(qtbot, tmp_path):
    gui = _Gui(qtbot, tmp_path)
    gui.click_record()  # nothing has arrived yet
    assert isinstance(gui.control.recorder, PendingRecorder) and gui.worker.acq.origin_ns is None
    gui.worker.markers.put_nowait(Marker(0.0, "note", text="before the first sample"))
    items = _items()
    gui.send(items)
    t = gui.finish()
    assert gui.markers == ["note"]
    # the recording's session times are the live ones: the first sample 12 ms after connecting
    # (its packet arrived 12 ms after its last sample), not host time since boot (5 s)
    np.testing.assert_array_equal(t, _expected_t_session(items))
    assert t[0] == pytest.approx(0.012, abs=0.002)


def test_record_pressed_after_data_starts_at_once_with_the_live_origin(qtbot, tmp_path):
    gui = _Gui(qtbot, tmp_path)
    items = _items()
    gui.send(items[:40])
    gui.click_record()
    assert isinstance(gui.control.recorder, Recorder)
    gui.send(items[40:])
    t = gui.finish()
    # the recorded tail at the live session times (the converter's clock fit starts with the
    # recording, so they agree to the nanosecond, not to the bit)
    np.testing.assert_allclose(t, _expected_t_session(items)[-t.size :], rtol=0, atol=1e-6)
    assert t[0] > 1.0


def test_virtual_clock_origin_zero_is_kept(tmp_path):
    done = [False]
    _, worker, _ = _session(done, origin_ns=0)
    control = RecordingControl(worker, worker.source.header, tmp_path)
    control.toggle(True)
    assert isinstance(control.recorder, Recorder)
    control.close()
    with open_session(control.converted[0]) as s:
        assert s.attrs["t0_ns"] == 0


def test_record_on_and_off_before_any_data_says_nothing_was_written(tmp_path):
    done = [True]
    _, worker, _ = _session(done)
    control = RecordingControl(worker, worker.source.header, tmp_path)
    control.toggle(True)
    control.toggle(False)
    control.close()
    assert not control.converted and not list(tmp_path.glob("*.imulog"))
    assert len(control.errors) == 1 and "no data arrived" in control.errors[0]
    # a late item after the stop opens nothing
    control_rec = PendingRecorder(tmp_path / "x.imulog", worker.acq, lambda t0: {})
    control_rec.stop()
    assert control_rec.notify(1, SENSOR, b"") is False and not control_rec.started
