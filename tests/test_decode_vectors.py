"""Known-answer vectors per profile, hand-built with struct.pack from the vendor's documented
layout (independent of the decoder code), and malformed variants that must raise DecodeError."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest

import imustream
from imustream import DecodeError
from imustream.profiles import get

G = 9.80665
D2R = math.pi / 180.0


def _check_malformed(profile, good: bytes) -> None:
    """Empty, truncated by one byte, one extra byte: all DecodeError."""
    for bad in (b"", good[:-1], good + b"\x00", good[: len(good) // 2]):
        with pytest.raises(DecodeError):
            profile.decode(bad)


# --- imustream-open ---------------------------------------------------------------------------
def test_imustream_open_two_samples():
    p = get("imustream-open")
    payload = struct.pack("<HI", 65535, 4_000_000_000) + struct.pack(
        "<12h", 2048, -2048, 0, 16384, 0, -16384, 1, 2, 3, -1, -2, -32768
    )
    b = p.decode(payload)
    np.testing.assert_allclose(b.acc, [[G, -G, 0.0], [G * 1 / 2048, G * 2 / 2048, G * 3 / 2048]])
    np.testing.assert_allclose(
        b.gyr, np.array([[1000.0, 0.0, -1000.0], [-2000 / 32768, -4000 / 32768, -2000.0]]) * D2R
    )
    assert b.seq == 65535
    np.testing.assert_allclose(b.t_device, [4000.0, 4000.0 + 1 / 100.0])
    _check_malformed(p, payload)


def test_imustream_open_timestamp_follows_rate_option():
    p = get("imustream-open").with_options(rate=200)
    payload = struct.pack("<HI", 1, 1_000_000) + bytes(12 * 3)
    np.testing.assert_allclose(p.decode(payload).t_device, [1.0, 1.005, 1.010])


def test_imustream_open_start_stop_writes():
    p = get("imustream-open")
    (w,) = p.start_sequence(rate=200)
    assert w.char_uuid == p.control_uuid and w.data == b"\x01" + struct.pack("<H", 200)
    assert [x.data for x in p.stop_sequence()] == [b"\x00"]


# --- movesense-imu6 ---------------------------------------------------------------------------
def test_movesense_planar_layout():
    p = get("movesense-imu6")
    acc = [(0.5, -9.75, 1.25), (0.25, -9.5, 1.0)]
    gyr = [(10.0, -20.0, 30.0), (-90.0, 180.0, 0.0)]
    payload = struct.pack("<BBI", 0x02, 0x63, 123456)
    payload += b"".join(struct.pack("<3f", *a) for a in acc)
    payload += b"".join(struct.pack("<3f", *g) for g in gyr)
    b = p.decode(payload)
    np.testing.assert_allclose(b.acc, acc)
    np.testing.assert_allclose(b.gyr, np.array(gyr) * D2R)
    np.testing.assert_allclose(b.t_device, [123.456, 123.456 + 1 / 104])
    assert b.seq is None
    _check_malformed(p, payload)
    with pytest.raises(DecodeError, match="type"):
        p.decode(b"\x03" + payload[1:])  # DATA_PART2 / other packet types
    with pytest.raises(DecodeError, match="ref"):
        p.decode(payload[:1] + b"\x64" + payload[2:])


def test_movesense_subscribe_path():
    p = get("movesense-imu6")
    (w,) = p.start_sequence(rate=208)
    assert w.data == b"\x01\x63/Meas/IMU6/208"
    assert w.char_uuid == "34800001-7185-4d5d-b431-630e7050e8f0"
    assert p.stop_sequence()[0].data == b"\x02\x63"


def test_non_bytes_payload_is_type_error():
    with pytest.raises(TypeError):
        get("imustream-open").decode("abc")  # type: ignore[arg-type]


def test_bytearray_and_memoryview_accepted():
    p = get("imustream-open")
    payload = struct.pack("<HI6h", 7, 10, 1, 2, 3, 4, 5, 6)
    ref = p.decode(payload)
    for alt in (bytearray(payload), memoryview(payload), memoryview(b"xx" + payload)[2:]):
        b = p.decode(alt)
        np.testing.assert_array_equal(b.acc, ref.acc)
        np.testing.assert_array_equal(b.gyr, ref.gyr)


def test_decode_error_is_value_error():
    assert issubclass(imustream.DecodeError, ValueError)
