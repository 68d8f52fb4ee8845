"""Property: for every profile, decode raises nothing but DecodeError, whatever the bytes."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imustream import DecodeError, profiles
from imustream.sim.encoders import PacketEncoder
from imustream.types import SampleBlock

NAMES = profiles.names()


def _decode_or_decode_error(p, payload) -> None:
    try:
        b = p.decode(payload)
    except DecodeError:
        return
    assert isinstance(b, SampleBlock) and b.n >= 1
    assert b.acc.dtype == np.float64 and b.gyr.dtype == np.float64


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=260), kind=st.sampled_from(["bytes", "bytearray", "memoryview"]))
def test_arbitrary_bytes(name, data, kind):
    p = profiles.get(name)
    payload = {"bytes": data, "bytearray": bytearray(data), "memoryview": memoryview(data)}[kind]
    _decode_or_decode_error(p, payload)


@functools.cache
def _valid_payloads(name):
    enc = PacketEncoder(profiles.get(name))
    rng = np.random.default_rng(0)
    n = enc.samples_per_packet
    return enc.encode_all(rng.normal(0, 20, (n, 3)), rng.normal(0, 5, (n, 3)), 5.0, 3)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=200, deadline=None)
@given(
    pick=st.integers(0, 1),
    cut=st.integers(0, 260),
    flips=st.lists(st.tuples(st.integers(0, 259), st.integers(0, 255)), max_size=4),
    tail=st.binary(max_size=8),
)
def test_mutated_valid_payloads(name, pick, cut, flips, tail):
    """Truncated / corrupted / extended real packets reach the deeper decoder paths."""
    base = _valid_payloads(name)
    payload = bytearray(base[pick % len(base)])
    for pos, val in flips:
        if payload:
            payload[pos % len(payload)] = val
    payload = bytes(payload[: max(cut, 0)]) + tail if cut < len(payload) else bytes(payload) + tail
    _decode_or_decode_error(profiles.get(name), payload)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bad", [None, "text", 123, [1, 2, 3]])
def test_non_bytes_raise_type_error(name, bad):
    with pytest.raises(TypeError):
        profiles.get(name).decode(bad)


VARIANTS = [
    ("metamotion", {"acc_range": 2, "gyr_range": 125}),
    ("polar-pmd", {"rate": 416, "acc_factor": 0.5, "gyr_factor": 0.01}),
    ("movesense-imu6", {"rate": 1666}),
    ("polar-h10", {"rate": 25, "acc_range": 2}),
]


@pytest.mark.parametrize(("name", "options"), VARIANTS)
@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=260))
def test_arbitrary_bytes_with_other_options(name, options, data):
    _decode_or_decode_error(profiles.get(name).with_options(**options), data)
