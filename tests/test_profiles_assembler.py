"""Movesense DATA + DATA_PART2 reassembly (profile.assembler())."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from imustream import DecodeError, profiles
from imustream.sim.encoders import PacketEncoder


def _movesense_packets(n: int, t_ms: int = 5000) -> tuple[bytes, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(n)
    acc = rng.normal(0, 10, (n, 3)).astype("<f4")
    gyr = rng.normal(0, 100, (n, 3)).astype("<f4")
    whole = struct.pack("<BBI", 2, 0x63, t_ms) + acc.tobytes() + gyr.tobytes()
    return whole, acc.astype(float), gyr.astype(float)


def test_split_notification_is_joined_and_decoded():
    p = profiles.get("movesense-imu6").with_options(rate=208)  # 16 samples = 390 bytes
    whole, acc, gyr = _movesense_packets(16)
    part1, part2 = whole[:244], bytes([3, 0x63]) + whole[244:]
    asm = p.assembler()
    assert asm.push(part1) == []
    (joined,) = asm.push(part2)
    assert joined == whole
    b = p.decode(joined)
    np.testing.assert_allclose(b.acc, acc)
    np.testing.assert_allclose(b.gyr, np.deg2rad(gyr))
    np.testing.assert_allclose(b.t_device, 5.0 + np.arange(16) / 208)
    with pytest.raises(DecodeError):
        p.decode(part2)  # a continuation alone is not data


def test_complete_packets_pass_and_nothing_is_dropped():
    p = profiles.get("movesense-imu6").with_options(rate=104)  # 8 samples = 198 bytes
    whole, *_ = _movesense_packets(8)
    asm = p.assembler()
    assert asm.push(whole) == [whole]
    # a first part whose continuation was lost comes out with the next packet (as an error)
    first = whole[:100]
    assert asm.push(first) == []
    out = asm.push(whole)
    assert out == [first, whole]
    with pytest.raises(DecodeError):
        p.decode(out[0])
    # an orphan continuation is passed on (and fails to decode: counted, not silent)
    orphan = bytes([3, 0x63]) + whole[100:]
    assert asm.push(orphan) == [orphan]


def test_encoder_splits_like_the_device_when_asked():
    p = profiles.get("movesense-imu6")
    enc = PacketEncoder(p, rate=208, samples_per_packet=16)
    rng = np.random.default_rng(1)
    acc, gyr = rng.normal(0, 5, (16, 3)), rng.normal(0, 2, (16, 3))
    packets = enc.encode_all(acc, gyr, 2.0, None)
    assert [len(x) for x in packets] == [244, 390 - 244 + 2] and packets[1][0] == 3
    asm = enc.profile.assembler()
    out = [x for pk in packets for x in asm.push(pk)]
    assert out == [enc.encode(acc, gyr, 2.0, None)]
    np.testing.assert_allclose(enc.profile.decode(out[0]).acc, acc, rtol=1e-6)
    assert PacketEncoder(p).samples_per_packet == 9  # default: one 244-byte notification


@pytest.mark.parametrize("name", [n for n in profiles.names() if n != "movesense-imu6"])
def test_other_profiles_pass_through(name):
    asm = profiles.get(name).assembler()
    assert asm.push(b"\x03abc") == [b"\x03abc"]
