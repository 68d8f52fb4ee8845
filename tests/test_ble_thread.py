"""The BLE side on its own thread: consumers read a thread-safe queue."""

from __future__ import annotations

import math
import queue
import time

from test_ble_support import make_devices

from imustream.ble.backends.inprocess import InProcessClient, InProcessScanner, SimulatedRadio
from imustream.ble.link import Backend, LinkTarget
from imustream.ble.thread import BleThread
from imustream.types import LinkState, StateChange


def _thread(speed, stop_after):
    devices = make_devices((stop_after or 60.0) + 5)
    radio = SimulatedRadio(devices.values())
    backend = Backend(InProcessScanner, InProcessClient, {"radio": radio})

    async def setup():
        radio.power_on()

    async def teardown():
        radio.power_off()

    targets = [LinkTarget(s, d.profile, address=d.address) for s, d in devices.items()]
    return devices, BleThread(
        targets, backend, speed=speed, setup=setup, teardown=teardown, stop_after=stop_after
    )


def test_thread_streams_three_sensors_and_stops_itself():
    devices, ble = _thread(math.inf, 10.0)
    with ble:
        items = ble.collect(timeout=30)
    assert not ble.running and ble.error is None
    packets = [i for i in items if isinstance(i, tuple)]
    for sensor, dev in devices.items():
        mine = [p for p in packets if p[1] == sensor]
        assert len(mine) == sum(1 for r in dev.log if r.fate == "sent") > 200
        assert all(isinstance(p[2], bytes) for p in mine)
        hosts = [p[0] for p in mine]
        assert hosts == sorted(hosts) and hosts[-1] <= 10e9
    stopped = [i for i in items if isinstance(i, StateChange) and i.state is LinkState.STOPPED]
    assert {s.sensor for s in stopped} == set(devices)
    # the stop sequence was sent: devices are no longer streaming
    assert all(dev._task is None or dev._task.done() for dev in devices.values())


def test_stop_from_consumer_thread_in_real_time():
    _, ble = _thread(20.0, None)
    ble.start()
    deadline = time.monotonic() + 10
    got = 0
    while got < 50 and time.monotonic() < deadline:
        try:
            item = ble.queue.get(timeout=0.5)
        except queue.Empty:
            continue
        got += isinstance(item, tuple)
    ble.stop(timeout=5)
    assert got >= 50
    assert not ble.running and ble.error is None
    assert ble.now_ns() > 0
