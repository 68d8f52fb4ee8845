"""Movesense DATA + DATA_PART2 reassembly (profile.assembler())."""

from __future__ import annotations

import itertools
import struct

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

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


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.sampled_from(["ok", "lose1", "lose2"])), max_size=30))
def test_reassembly_never_drops_bytes(events):
    """Whole and split notifications with lost halves: every complete notification comes out
    joined and decodable; every other byte is passed on (and fails to decode), never dropped.

    Known limit (no sequence numbers in Movesense packets): a first part whose continuation
    was lost, directly followed by a continuation whose first part was lost, would join into
    one wrong notification; that pattern is excluded here and documented."""
    kinds = [fate if split else "whole" for split, fate in events]
    assume(not any(a == "lose2" and b == "lose1" for a, b in itertools.pairwise(kinds)))
    p = profiles.get("movesense-imu6").with_options(rate=208)
    asm = p.assembler()
    whole, *_ = _movesense_packets(16)
    small = _movesense_packets(1)[0]
    sent, expect_good = [], 0
    for split, fate in events:
        if not split:
            sent.append(small)
            expect_good += 1
            continue
        part1, part2 = whole[:244], bytes([3, 0x63]) + whole[244:]
        if fate != "lose1":
            sent.append(part1)
        if fate != "lose2":
            sent.append(part2)
        expect_good += fate == "ok"
    out = [x for pkt in sent for x in asm.push(pkt)]
    out += [asm._held] if asm._held is not None else []
    joins = sum(1 for x in out if len(x) == len(whole))
    assert sum(len(x) for x in out) == sum(len(x) for x in sent) - 2 * joins
    good = 0
    for x in out:
        try:
            p.decode(x)
            good += 1
        except DecodeError:
            pass
    assert good == expect_good
