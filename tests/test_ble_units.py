"""Unit tests of the BLE layer's parts: clocks, backoff, config, profile matching, device."""

from __future__ import annotations

import asyncio
import math
import time

import pytest

import imustream.profiles as profiles
from imustream.ble.backoff import Backoff
from imustream.ble.clock import ScaledTimeEventLoop, VirtualTimeEventLoop, new_event_loop
from imustream.ble.config import load_config, parse_config
from imustream.ble.scanner import match_profile
from imustream.errors import ConfigError
from imustream.sim.device import SimulatedDevice, _start_table, advertised_name


def test_virtual_loop_jumps_and_is_deterministic():
    loop = VirtualTimeEventLoop()
    order = []

    async def worker(name, period, n):
        for _ in range(n):
            await asyncio.sleep(period)
            order.append((round(loop.time(), 9), name))

    async def main():
        await asyncio.gather(worker("a", 0.3, 10), worker("b", 0.7, 5))

    wall = time.perf_counter()
    loop.run_until_complete(main())
    assert time.perf_counter() - wall < 0.5
    assert loop.time() == pytest.approx(3.5)
    times = [t for t, _ in order]
    assert times == sorted(times) and len(order) == 15
    loop.close()


def test_virtual_loop_timeouts_in_virtual_seconds():
    loop = new_event_loop(math.inf)

    async def main():
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.sleep(100), 2.0)
        return loop.time()

    assert loop.run_until_complete(main()) == pytest.approx(2.0)
    loop.close()


def test_scaled_loop_runs_faster_than_real_time():
    loop = new_event_loop(50.0)
    assert isinstance(loop, ScaledTimeEventLoop)

    async def main():
        t0 = loop.time()
        await asyncio.sleep(1.0)  # 20 ms of real time
        return loop.time() - t0

    wall = time.perf_counter()
    elapsed = loop.run_until_complete(main())
    assert elapsed >= 1.0
    assert time.perf_counter() - wall < 0.5
    loop.close()
    with pytest.raises(ValueError, match="speed"):
        ScaledTimeEventLoop(0.0)


def test_backoff_is_capped_exponential():
    b = Backoff(initial=0.1, factor=2.0, cap=1.0)
    assert [b.next_delay() for _ in range(6)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])
    b.reset()
    assert b.next_delay() == pytest.approx(0.1)
    with pytest.raises(ValueError, match="cap >= initial"):
        Backoff(initial=2.0, cap=1.0)


GOOD = """
[session]
connect_timeout = 5

[sensors.pelvis]
profile = "movesense-imu6"
name = "^Movesense 2140"
rate = 208

[sensors.shoe_left]
profile = "imustream-open"
address = "C0:FF:EE:00:00:01"
"""


def test_config_loads(tmp_path):
    path = tmp_path / "session.toml"
    path.write_text(GOOD)
    cfg = load_config(path)
    assert cfg.connect_timeout == 5.0
    assert cfg.sensors["pelvis"].rate == 208.0
    assert cfg.sensors["pelvis"].matches("AA:BB:CC:DD:EE:FF", "Movesense 214000123")
    assert not cfg.sensors["pelvis"].matches("AA:BB:CC:DD:EE:FF", "Polar H10")
    assert cfg.sensors["shoe_left"].matches("c0:ff:ee:00:00:01", None)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (GOOD.replace("rate = 208", "rate = 200"), "key 'rate' = 200 is not supported"),
        (GOOD.replace("rate = 208", "rat = 208"), "unknown key 'rat'"),
        (GOOD.replace("[sensors.pelvis]", "[sensors.hip]"), "unknown sensor role 'hip'"),
        (GOOD.replace('profile = "movesense-imu6"', 'profile = "nope"'), "key 'profile'"),
        (GOOD.replace('address = "C0:FF:EE:00:00:01"', 'address = "12:34"'), "key 'address'"),
        (GOOD.replace('address = "C0:FF:EE:00:00:01"', ""), "exactly one of 'address' or 'name'"),
        (GOOD.replace("connect_timeout = 5", "connect_timeout = -1"), "session.connect_timeout"),
        (GOOD.replace("connect_timeout = 5", "timeout = 1"), "unknown key 'session.timeout'"),
        (GOOD + "\n[extra]\n", "unknown top-level key 'extra'"),
        (GOOD.replace('name = "^Movesense 2140"', 'name = "(("'), "not a valid regex"),
        ("[sensors.pelvis\n", "not valid TOML"),
    ],
)
def test_config_errors_name_file_and_key(tmp_path, text, needle):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value)
    assert needle in str(info.value)


def test_config_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "none.toml")
    with pytest.raises(ConfigError, match="at least one"):
        parse_config({"sensors": {}})


@pytest.mark.parametrize("name", profiles.names())
def test_simulated_device_advertises_like_its_profile(name):
    p = profiles.get(name)
    candidates = [profiles.get(n) for n in profiles.names()]
    adv_name = advertised_name(p, "C0:FF:EE:00:00:07")
    dev = SimulatedDevice(p, lambda r: None, address="C0:FF:EE:00:00:07")
    assert match_profile(adv_name, dev.advertised_services(), candidates) is p
    assert match_profile(adv_name, [], candidates) is p  # by name alone
    assert match_profile("Some Headphones", [], candidates) is None


@pytest.mark.parametrize("name", profiles.names())
def test_device_recognises_every_start_sequence(name):
    """Each supported rate's start sequence configures the device at that rate."""
    p = profiles.get(name)
    table = _start_table(p)
    for rate in p.rates:
        writes = tuple((w.char_uuid, bytes(w.data)) for w in p.start_sequence(rate=rate))
        key = tuple((u.lower(), d) for u, d in writes)
        assert table[key][0] == float(rate)


def test_device_obeys_writes_and_rejects_unknown_ones():
    p = profiles.get("imustream-open")
    dev = SimulatedDevice(p, lambda r: None, address="C0:FF:EE:00:00:07")
    control = p.control_uuid
    dev.write(control, b"\x7f\x00")
    assert dev.unknown_writes == [(control, b"\x7f\x00")]
    dev.subscribe(p.notify_uuids[0], True)
    assert dev._stream is not None and not dev._stream.started
