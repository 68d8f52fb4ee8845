"""The open-sensor Arduino sketch agrees with imustream-open.toml (it cannot run here, so its
constants are read from the source and compared with the profile)."""

from __future__ import annotations

import re

import pytest

from imustream import profiles

SKETCH = profiles.profile_dir() / "imustream_open_sensor" / "imustream_open_sensor.ino"


@pytest.fixture(scope="module")
def src() -> str:
    return SKETCH.read_text()


@pytest.fixture(scope="module")
def p():
    return profiles.get("imustream-open")


def _const(src: str, name: str) -> str:
    m = re.search(rf"const \w+ {name} = ([^;]+);", src)
    assert m, name
    return m.group(1)


def _ratio(expr: str) -> float:
    """Value of a C literal ratio such as ``32768.0f / 16.0f``."""
    num, den = (float(x.strip().rstrip("f")) for x in expr.split("/"))
    return num / den


def test_uuids(src, p):
    uuids = {u.lower() for u in re.findall(r'"([0-9a-fA-F-]{36})"', src)}
    assert {p.service_uuid, p.notify_uuids[0], p.control_uuid} == uuids
    assert re.search(rf'imuService\("{p.service_uuid}"\)', src)
    assert re.search(rf'dataChar\("{p.notify_uuids[0]}", BLENotify', src)
    assert re.search(rf'controlChar\("{p.control_uuid}", BLEWrite', src)
    assert p.battery is not None and 'batteryService("180F")' in src and '"2A19"' in src


def test_packet_layout_and_scales(src, p):
    lay = p.layout
    assert int(_const(src, "HEADER_BYTES")) == lay.header_size == 6
    assert int(_const(src, "SAMPLE_BYTES")) == lay.sample_size == 12
    acc_lsb = _ratio(_const(src, "ACC_LSB_PER_G"))
    gyr_lsb = _ratio(_const(src, "GYR_LSB_PER_DPS"))
    assert p.scales.acc_unit == "g" and acc_lsb == pytest.approx(1 / p.scales.acc)
    assert p.scales.gyr_unit == "deg/s" and gyr_lsb == pytest.approx(1 / p.scales.gyr)
    assert "imu.settings.accelRange = 16;" in src and p.acc_full_scale == pytest.approx(
        16 * 9.80665
    )
    assert "imu.settings.gyroRange = 2000;" in src
    spp = int(_const(src, "SAMPLES_PER_PACKET"))
    assert 1 <= spp <= (244 - lay.header_size) // lay.sample_size
    assert p.time.tick_s == 1e-6 and "micros()" in src  # t_us of the first sample
    assert p.time.timestamp_sample == "first"


def test_rates_and_control_writes(src, p):
    accepted = {int(x) for x in re.findall(r"rate != (\d+)", src)}
    assert accepted == {int(r) for r in p.rates}
    for rate in p.rates:
        (w,) = p.start_sequence(rate=rate)
        assert w.data[0] == 0x01 and int.from_bytes(w.data[1:3], "little") == rate
    assert "v[0] == 0x01" in src and "v[0] == 0x00" in src
    assert p.stop_sequence()[0].data == b"\x00"


def test_advertised_name_matches_scan_pattern(src, p):
    assert re.match(p.scan_name_pattern, "imustream-3fa2")
    assert 'deviceName = String("imustream-") + addr' in src
