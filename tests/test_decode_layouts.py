"""The fixed-field decoder on layouts the bundled profiles do not use: big-endian, per-sample
magic bytes, flipped axes, interleaved and mixed-type fields, last-sample timestamps, scales
per range. Expected values come from struct.unpack, independent of the decoder."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imustream import DecodeError, profiles
from imustream.sim.encoders import PacketEncoder

G = 9.80665
D2R = math.pi / 180.0

HEAD = """
name = "{name}"
vendor = "test"
[scan]
name_pattern = "^T"
[gatt]
service = "180D"
notify = ["2A37"]
[options]
rates = [100, 200]
default_rate = 100
"""


def _load(tmp_path: Path, name: str, body: str):
    path = tmp_path / f"{name}.toml"
    path.write_text(HEAD.format(name=name) + body)
    return profiles.load(path)


def test_big_endian_interleaved_mixed_types_flipped_axes(tmp_path):
    p = _load(
        tmp_path,
        "mixed",
        """
[layout]
endianness = "big"
samples_per_packet = 2
packet_size = 40
header = [{ name = "ts", type = "u32" }]
sample = [
    { name = "ax", type = "i16" }, { name = "gx", type = "f32" },
    { name = "ay", type = "i16" }, { name = "gy", type = "f32" },
    { name = "az", type = "i16" }, { name = "gz", type = "f32" },
]
acc = ["ax", "-ay", "az"]
gyr = ["gz", "gy", "-gx"]
acc_unit = "mg"
acc_scale = 2.0
gyr_unit = "deg/s"
[time]
source = "device"
timestamp = "ts"
tick_s = 0.001
timestamp_sample = "last"
""",
    )
    rows = [(100, 1.5, -200, 2.5, 300, 3.5), (-1, -1.0, 2, 2.0, -3, 3.0)]
    payload = struct.pack(">I", 10_000) + b"".join(struct.pack(">hfhfhf", *r) for r in rows)
    b = p.decode(payload)
    for i, (ax, gx, ay, gy, az, gz) in enumerate(rows):
        np.testing.assert_allclose(b.acc[i], np.array([ax, -ay, az]) * 2.0 * G / 1000)
        np.testing.assert_allclose(b.gyr[i], np.array([gz, gy, -gx]) * D2R)
    np.testing.assert_allclose(b.t_device, [9.99, 10.0])  # the timestamp is the last sample's
    for bad in (payload[:-1], payload + b"\x00", b""):
        with pytest.raises(DecodeError):
            p.decode(bad)


def test_per_sample_magic_and_variable_count(tmp_path):
    p = _load(
        tmp_path,
        "frames",
        """
[layout]
samples_per_packet = "variable"
sample = [
    { name = "sync", type = "u8", value = 0x55 },
    { name = "kind", type = "u8", value = 0x61 },
    { name = "ax", type = "i16" }, { name = "ay", type = "i16" }, { name = "az", type = "i16" },
    { name = "gx", type = "i16" }, { name = "gy", type = "i16" }, { name = "gz", type = "i16" },
]
acc = ["ax", "ay", "az"]
gyr = ["gx", "gy", "gz"]
acc_unit = "g"
acc_scale = 0.001
gyr_unit = "rad/s"
gyr_scale = 0.01
[time]
source = "none"
""",
    )
    frames = [bytes([0x55, 0x61]) + struct.pack("<6h", *range(k, k + 6)) for k in (0, 10, 20)]
    b = p.decode(b"".join(frames))
    np.testing.assert_allclose(b.acc[:, 0], np.array([0, 10, 20]) * 0.001 * G)
    np.testing.assert_allclose(b.gyr[:, 2], np.array([5, 15, 25]) * 0.01)
    broken = frames[0] + bytes([0x55, 0x71]) + frames[1][2:] + frames[2]
    with pytest.raises(DecodeError, match="kind"):
        p.decode(broken)
    assert PacketEncoder(p).samples_per_packet == 244 // 14


def test_scale_per_range_follows_options(tmp_path):
    p = _load(
        tmp_path,
        "ranged",
        """
[options.codes]
rate = { 100 = 1, 200 = 2 }
[[start]]
char = "2A39"
data = "AA {rate_code:u8} {acc_range:u8} {gyr_range:u16be}"
[layout]
samples_per_packet = 1
sample = [
    { name = "ax", type = "i16" }, { name = "ay", type = "i16" }, { name = "az", type = "i16" },
    { name = "gx", type = "i16" }, { name = "gy", type = "i16" }, { name = "gz", type = "i16" },
]
acc = ["ax", "ay", "az"]
gyr = ["gx", "gy", "gz"]
acc_unit = "g"
acc_scale = { 4 = 0.000122, 8 = 0.000244 }
gyr_unit = "deg/s"
gyr_scale = { 500 = 0.015, 1000 = 0.03 }
[time]
source = "none"
""".replace(
            "[options.codes]",
            "acc_ranges = [4, 8]\ndefault_acc_range = 4\n"
            "gyr_ranges = [500, 1000]\ndefault_gyr_range = 1000\n[options.codes]",
        ),
    )
    payload = struct.pack("<6h", 1000, 0, 0, 100, 0, 0)
    assert p.decode(payload).acc[0, 0] == pytest.approx(1000 * 0.000122 * G)
    q = p.with_options(acc_range=8, gyr_range=500, rate=200)
    assert q.decode(payload).acc[0, 0] == pytest.approx(1000 * 0.000244 * G)
    assert q.decode(payload).gyr[0, 0] == pytest.approx(100 * 0.015 * D2R)
    assert q.acc_full_scale == pytest.approx(8 * G)
    assert q.start_sequence()[0].data == bytes([0xAA, 2, 8, 0x01, 0xF4])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=80))
def test_general_path_only_raises_decode_error(data):
    """Per-sample magic + mixed types take the general (non-view) path: still only DecodeError."""
    try:
        b = _MIXED.decode(data)
    except DecodeError:
        return
    assert b.n >= 1 and (len(data) - 3) % 19 == 0


def _mixed_profile():
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        return _load(
            Path(d),
            "mixedfuzz",
            """
[layout]
samples_per_packet = "variable"
header = [{ name = "m", type = "u8", value = 7 }, { name = "ts", type = "u16" }]
sample = [
    { name = "k", type = "u8", value = 1 },
    { name = "ax", type = "i16" }, { name = "gx", type = "f32" },
    { name = "ay", type = "i16" }, { name = "gy", type = "f32" },
    { name = "az", type = "i16" }, { name = "gz", type = "f32" },
]
acc = ["ax", "ay", "az"]
gyr = ["gx", "gy", "gz"]
[time]
source = "device"
timestamp = "ts"
tick_s = 0.001
""",
        )


_MIXED = _mixed_profile()
