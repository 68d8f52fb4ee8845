"""The BLE queue is bounded: real sensors that outrun the consumer leave counted, recorded
"overflow" gaps; simulated devices on the unpaced clock wait for the consumer instead."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from imustream.ble.notify_queue import NotificationQueue, QueueOverflow
from imustream.ble.simulated import simulated_setup
from imustream.types import LinkState, StateChange


def test_a_full_queue_drops_counts_and_reports_before_the_sensors_next_item():
    q = NotificationQueue(maxsize=3, hold_at=None)
    for i in range(5):
        q.put_nowait((i, "a", b"x"))
    q.put_nowait((5, "b", b"y"))
    assert q.qsize() == 3 and q.dropped == {"a": 2, "b": 1}
    assert [q.get_nowait()[0] for _ in range(3)] == [0, 1, 2]
    q.put_nowait((6, "a", b"z"))
    assert q.get_nowait() == QueueOverflow("a", 2, 3, 4)
    assert q.get_nowait() == (6, "a", b"z")
    # link states are never dropped, even beyond the bound; they also carry the report
    for i in range(3):
        q.put_nowait((7 + i, "a", b"x"))
    lost = StateChange("b", LinkState.LOST, 10)
    q.put_nowait(lost)
    assert q.qsize() == 5 and q.high_water == 5
    assert [q.get_nowait() for _ in range(5)][3:] == [QueueOverflow("b", 1, 5, 5), lost]
    q.put_nowait((11, "a", b"x"))
    q.put_nowait((12, "a", b"x"))
    q.put_nowait((13, "a", b"x"))
    q.put_nowait((14, "a", b"x"))  # dropped
    q.flush_overflow()  # end of session: nothing left unreported
    assert [q.get_nowait() for _ in range(4)][3] == QueueOverflow("a", 1, 14, 14)
    assert q.empty() and q.dropped == {"a": 3, "b": 1}


def test_hold_has_hysteresis():
    q = NotificationQueue(maxsize=100, hold_at=10)
    seen = []
    for i in range(12):
        q.put_nowait((i, "a", b""))
        seen.append(q.holding())
    assert seen == [False] * 9 + [True] * 3
    got = []
    while not q.empty():
        q.get_nowait()
        got.append(q.holding())
    # resumes at half the mark, not at the first item taken
    assert got == [True] * 6 + [False] * 6  # sizes 11..6 hold, 5 (= 10 // 2) resumes


def test_bad_bounds_are_refused():
    with pytest.raises(ValueError, match="hold_at"):
        NotificationQueue(maxsize=10, hold_at=20)


def _ble(duration: float, **kw) -> tuple:
    sim = simulated_setup("symmetric-runner", duration=duration + 5, seed=1)
    ble = sim.ble_thread(math.inf, stop_after=duration, **kw)
    return sim, ble


def _sent(dev) -> int:
    return sum(1 for p in dev.log if p.fate in ("sent", "garbage"))


def test_unpaced_simulated_devices_wait_for_the_consumer():
    sim, ble = _ble(20.0, hold_at=60)
    ble.start()
    deadline = time.monotonic() + 20
    while ble.queue.qsize() < 60 and time.monotonic() < deadline:
        time.sleep(0.001)
    # nobody reads: the virtual clock (and so every device) stands still
    t_held = ble.now_ns()
    for _ in range(5):
        time.sleep(0.004)
        assert ble.now_ns() == t_held
        assert ble.queue.qsize() < 70
    items = ble.collect(timeout=60)
    assert ble.error is None
    assert ble.now_ns() >= 20e9 > t_held
    # a handful over the mark at most (items due at the same virtual instant), nothing dropped
    assert 60 <= ble.queue.high_water < 70
    assert ble.queue.dropped == {}
    assert not any(isinstance(i, QueueOverflow) for i in items)
    for dev, target in zip(sim.devices, sim.targets, strict=True):
        got = sum(1 for i in items if isinstance(i, tuple) and i[1] == target.sensor)
        assert got == _sent(dev) > 500


def test_overflow_is_counted_and_becomes_a_recorded_overflow_gap(tmp_path):
    from imustream import open_session
    from imustream.cli._session import record_item, session_header
    from imustream.io.convert import convert
    from imustream.io.recorder import Recorder
    from imustream.stream.acquisition import Acquisition

    # no hold: the devices run ahead as real sensors would and the small queue overflows
    sim, ble = _ble(20.0, hold_at=None, queue_size=200)
    info = {t.sensor: {"profile": t.profile.name, "rate": t.rate} for t in sim.targets}
    rec = Recorder(tmp_path / "ov.imulog", session_header(info, t0_ns=1)).start()
    acq = Acquisition(sim.profiles, sim.rates, origin_ns=1)
    ble.start()
    deadline = time.monotonic() + 20
    while not ble.queue.dropped and time.monotonic() < deadline:
        time.sleep(0.001)
    assert ble.queue.dropped, "the queue never filled up"
    items = ble.collect(timeout=60)
    for item in items:
        record_item(rec, item)
        acq.handle(item)
    acq.flush()
    rec.stop()
    assert ble.queue.high_water <= 200 + 3 * 4  # the bound (+ link states, never dropped)
    dropped = ble.queue.dropped
    reports = [i for i in items if isinstance(i, QueueOverflow)]
    assert {s: sum(r.n for r in reports if r.sensor == s) for s in dropped} == dropped
    for sensor, n in dropped.items():
        assert acq.stats[sensor].queue_dropped == n
    with open_session(convert(tmp_path / "ov.imulog").h5_path) as s:
        gaps = s.gaps
        for dev, target in zip(sim.devices, sim.targets, strict=True):
            sensor = target.sensor
            d = s.sensors[sensor]
            # every notification is either in the file or counted as dropped
            assert d.n_notifications + dropped.get(sensor, 0) == _sent(dev)
            mine = gaps["sensor"] == sensor
            over = mine & (gaps["reason"] == "overflow")
            assert np.any(over) == (sensor in dropped)
            for r in (r for r in reports if r.sensor == sensor):
                a, b = (r.first_ns - 1) / 1e9, (r.last_ns - 1) / 1e9
                hit = over & (gaps["start"] <= b + 0.1) & (gaps["end"] >= a - 0.1)
                assert np.any(hit), (sensor, a, b)
