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


# --- xsens-dot --------------------------------------------------------------------------------
def test_xsens_dot_rate_quantities():
    p = get("xsens-dot")
    payload = struct.pack("<I6f", 123_456_789, 0.5, -9.81, 2.0, 45.0, -90.0, 180.0)
    for variant in (payload, payload + bytes(12)):  # plain 28 bytes or zero-padded to 40
        b = p.decode(variant)
        np.testing.assert_allclose(b.acc, [[0.5, -9.81, 2.0]], rtol=1e-6)
        np.testing.assert_allclose(b.gyr, [[math.pi / 4, -math.pi / 2, math.pi]], rtol=1e-6)
        np.testing.assert_allclose(b.t_device, [123.456789])
    _check_malformed(p, payload)
    with pytest.raises(DecodeError):
        p.decode(payload + bytes(13))  # 41 bytes: neither 28 nor 40
    writes = p.start_sequence(rate=30)
    assert writes[0].data[0] == 0x10 and writes[0].data[24:26] == struct.pack("<H", 30)
    assert len(writes[0].data) == 32
    assert writes[1].data == bytes([1, 1, 21]) and p.stop_sequence()[0].data == bytes([1, 0, 21])


# --- witmotion-bwt901 -------------------------------------------------------------------------
def test_witmotion_55_61_frame():
    p = get("witmotion-bwt901")
    raw = (16384, -8192, 2048, 16384, 0, -32768, 100, 200, 300)
    payload = bytes([0x55, 0x61]) + struct.pack("<9h", *raw)
    b = p.decode(payload)
    np.testing.assert_allclose(b.acc, [[8 * G, -4 * G, 1 * G]])
    np.testing.assert_allclose(b.gyr, [[1000 * D2R, 0.0, -2000 * D2R]])
    assert b.t_device is None and b.seq is None
    _check_malformed(p, payload)
    with pytest.raises(DecodeError, match="flag"):
        p.decode(bytes([0x55, 0x71]) + payload[2:])  # a register read-back frame
    with pytest.raises(DecodeError, match="sync"):
        p.decode(bytes([0x54]) + payload[1:])
    assert [w.data for w in p.start_sequence(rate=100)] == [
        bytes.fromhex("FFAA6988B5"),
        bytes.fromhex("FFAA030900"),
    ]


# --- thingy52 ---------------------------------------------------------------------------------
def test_thingy52_q_formats():
    p = get("thingy52")
    payload = struct.pack("<9h", 1024, -512, 0, 32, -64, 3200, 16, -32, 800)
    b = p.decode(payload)
    np.testing.assert_allclose(b.acc, [[G, -G / 2, 0.0]])
    np.testing.assert_allclose(b.gyr, [[1 * D2R, -2 * D2R, 100 * D2R]])
    np.testing.assert_allclose(b.mag, [[1.0, -2.0, 50.0]])
    assert b.t_device is None
    _check_malformed(p, payload)
    (w,) = p.start_sequence(rate=200)
    assert w.data == struct.pack("<HHHHB", 100, 500, 500, 200, 1)


# --- metamotion -------------------------------------------------------------------------------
def test_metamotion_packed_acc_and_gyro():
    p = get("metamotion").with_options(acc_range=4, gyr_range=500)
    acc_raw = (8192, 0, -8192, 4096, 1, 2, 0, 0, 8192)
    acc = p.decode(bytes([0x03, 0x1C]) + struct.pack("<9h", *acc_raw))
    np.testing.assert_allclose(acc.acc, np.array(acc_raw).reshape(3, 3) / 8192 * G)
    assert np.isnan(acc.gyr).all() and acc.n == 3
    gyr_raw = (656, -656, 0, 6560, 0, 0, 1, 2, 3)
    gyr = p.decode(bytes([0x13, 0x07]) + struct.pack("<9h", *gyr_raw))
    np.testing.assert_allclose(gyr.gyr, np.array(gyr_raw).reshape(3, 3) / 65.6 * D2R)
    assert np.isnan(gyr.acc).all()
    good = bytes([0x03, 0x1C]) + struct.pack("<9h", *acc_raw)
    _check_malformed(p, good)
    with pytest.raises(DecodeError, match="neither"):
        p.decode(bytes([0x03, 0x04]) + good[2:])  # unpacked data register
    seq = p.start_sequence(rate=200, acc_range=8, gyr_range=2000)
    assert seq[0].data == bytes([0x03, 0x03, 0x29, 0x08])
    assert seq[1].data == bytes([0x13, 0x03, 0x29, 0x00])
    assert seq[-1].data == bytes([0x03, 0x01, 0x01])


# --- polar ------------------------------------------------------------------------------------
def _pmd(mtype: int, ts_ns: int, ftype: int, data: bytes) -> bytes:
    return struct.pack("<BQB", mtype, ts_ns, ftype) + data


def test_polar_h10_raw_int16_mg():
    p = get("polar-h10").with_options(rate=100)
    samples = [(1000, -1000, 0), (0, 500, -250), (7, 8, 9)]
    ts = 599_000_000_000_000_000  # ns since 2000-01-01
    payload = _pmd(2, ts, 0x01, b"".join(struct.pack("<3h", *s) for s in samples))
    b = p.decode(payload)
    np.testing.assert_allclose(b.acc, np.array(samples) / 1000 * G)
    assert np.isnan(b.gyr).all()
    np.testing.assert_allclose(b.t_device, ts * 1e-9 + np.array([-0.02, -0.01, 0.0]))
    for bad in (b"", payload[:10], payload[:-1], payload + b"\x00"):
        with pytest.raises(DecodeError):
            p.decode(bad)
    with pytest.raises(DecodeError, match="measurement type"):
        p.decode(_pmd(0, ts, 0x01, payload[10:]))  # ECG
    with pytest.raises(DecodeError, match="frame type"):
        p.decode(_pmd(2, ts, 0x05, payload[10:]))


def _pack_bits(values, width):
    """LSB-first bit packing written out by hand (independent of the encoder)."""
    acc, nbits = 0, 0
    for v in values:
        acc |= (v & ((1 << width) - 1)) << nbits
        nbits += width
    return acc.to_bytes((nbits + 7) // 8, "little")


def test_polar_delta_frame_acc_and_gyro():
    p = get("polar-pmd").with_options(rate=52, acc_factor=0.5, gyr_factor=0.25)
    ref = (100, -200, 300)
    deltas = [(1, -1, 0), (-2, 3, 1), (0, 0, -4)]  # fit in 4-bit two's complement
    data = struct.pack("<3h", *ref) + bytes([4, 3]) + _pack_bits([v for d in deltas for v in d], 4)
    data += bytes([2, 1]) + _pack_bits([1, -1, -2], 2)  # a second block, 2-bit deltas
    expected = np.cumsum(np.array([ref, *deltas, (1, -1, -2)]), axis=0)
    ts = 10_000_000_000
    acc = p.decode(_pmd(2, ts, 0x81, data))
    np.testing.assert_allclose(acc.acc, expected * 0.5 / 1000 * G)
    np.testing.assert_allclose(acc.t_device[-1], 10.0)
    np.testing.assert_allclose(np.diff(acc.t_device), 1 / 52)
    gyr = p.decode(_pmd(5, ts, 0x80, data))
    np.testing.assert_allclose(gyr.gyr, expected * 0.25 * D2R)
    assert np.isnan(gyr.acc).all()
    # truncated block, block header cut, zero-width block
    for bad in (data[:-1], data[:8], data + b"\x04", data + bytes([0, 1])):
        with pytest.raises(DecodeError):
            p.decode(_pmd(2, ts, 0x81, bad))


def test_polar_gyro_float_delta_frames():
    p = get("polar-pmd").with_options(gyr_factor=1.0)
    vals = np.array([[1.5, -2.25, 100.0], [1.75, -2.0, 99.5]], dtype="<f4")
    bits = vals.view("<i4").astype(np.int64)
    d = bits[1] - bits[0]
    width = int(max(abs(int(x)) for x in d)).bit_length() + 1
    data = vals[0].tobytes() + bytes([width, 1]) + _pack_bits([int(x) for x in d], width)
    b = p.decode(_pmd(5, 0, 0x81, data))
    np.testing.assert_allclose(b.gyr, vals.astype(float) * D2R)


def test_polar_raw_int8_and_int24_frames():
    p = get("polar-h10").with_options(rate=50)
    b8 = p.decode(_pmd(2, 0, 0x00, struct.pack("<6b", 1, -2, 3, -128, 127, 0)))
    np.testing.assert_allclose(b8.acc, np.array([[1, -2, 3], [-128, 127, 0]]) / 1000 * G)
    vals = [(-8388608, 8388607, -1), (1, -70000, 123456)]
    raw24 = b"".join(v.to_bytes(3, "little", signed=True) for row in vals for v in row)
    b24 = p.decode(_pmd(2, 2_000_000_000, 0x02, raw24))
    np.testing.assert_allclose(b24.acc, np.array(vals) / 1000 * G)
    np.testing.assert_allclose(b24.t_device, [1.98, 2.0])
    with pytest.raises(DecodeError):
        p.decode(_pmd(2, 0, 0x02, raw24[:-1]))
