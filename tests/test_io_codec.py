"""A small, real packet codec used by the io tests (independent of the firmware profiles).

Layout (little-endian): ``u8 0x7E, u16 seq, u32 device time of the first sample in us,
u8 k, k x (ax, ay, az, gx, gy, gz int16)``; acc +-16 g, gyr +-2000 deg/s full scale.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from imustream.errors import DecodeError
from imustream.types import SampleBlock

ACC_LSB = 16 * 9.80665 / 32768
GYR_LSB = np.deg2rad(2000.0) / 32768
SEQ_BITS = 16
TIME_WRAP_S = 2**32 / 1e6
_HEAD = struct.Struct("<BHIB")


class TestCodec:
    """Encoder/decoder pair for the test packet format at a fixed sampling ``rate``."""

    __test__ = False

    def __init__(self, rate: float = 200.0):
        self.rate = rate

    def quantise(self, acc: np.ndarray, gyr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Integer counts of acc, gyr (clipped to int16)."""
        a = np.clip(np.round(acc / ACC_LSB), -32768, 32767).astype("<i2")
        g = np.clip(np.round(gyr / GYR_LSB), -32768, 32767).astype("<i2")
        return a, g

    def encode(self, acc: np.ndarray, gyr: np.ndarray, seq: int, t_first: float) -> bytes:
        a, g = self.quantise(acc, gyr)
        body = np.concatenate([a, g], axis=1).astype("<i2").tobytes()
        t_us = round(t_first * 1e6) % (1 << 32)
        return _HEAD.pack(0x7E, seq % (1 << SEQ_BITS), t_us, a.shape[0]) + body

    def decode(self, payload: bytes) -> SampleBlock:
        if len(payload) < _HEAD.size:
            raise DecodeError(f"test packet of {len(payload)} bytes is shorter than its header")
        magic, seq, t_us, k = _HEAD.unpack_from(payload)
        if magic != 0x7E:
            raise DecodeError(f"test packet magic {magic:#x} != 0x7e")
        if len(payload) != _HEAD.size + 12 * k:
            raise DecodeError(f"test packet announces {k} samples but has {len(payload)} bytes")
        v = np.frombuffer(payload, "<i2", offset=_HEAD.size).reshape(k, 6).astype(np.float64)
        t = t_us / 1e6 + np.arange(k) / self.rate
        return SampleBlock(acc=v[:, :3] * ACC_LSB, gyr=v[:, 3:] * GYR_LSB, t_device=t, seq=seq)

    def facts(self) -> dict:
        return {"seq_bits": SEQ_BITS, "time_wrap_s": TIME_WRAP_S}


def test_codec_round_trip():
    rng = np.random.default_rng(0)
    c = TestCodec(100.0)
    acc, gyr = rng.normal(0, 20, (5, 3)), rng.normal(0, 3, (5, 3))
    b = c.decode(c.encode(acc, gyr, 65537, 12.5))
    assert b.seq == 1 and b.n == 5
    np.testing.assert_allclose(b.acc, acc, atol=ACC_LSB / 2 + 1e-12)
    np.testing.assert_allclose(b.t_device, 12.5 + np.arange(5) / 100.0)


@pytest.mark.parametrize(
    "bad", [b"", b"\x7e\x00", b"\x00" * 8, b"\x7e\x00\x00\x00\x00\x00\x00\x02"]
)
def test_codec_rejects_malformed(bad):
    with pytest.raises(DecodeError):
        TestCodec().decode(bad)


def synth_stream(
    sensors: tuple[str, ...] = ("pelvis", "shoe_left", "shoe_right"),
    duration: float = 5.0,
    rate: float = 200.0,
    per_packet: int = 4,
    seed: int = 0,
    loss: float = 0.0,
    t0_ns: int = 10**12,
) -> tuple[list[tuple[int, str, bytes]], dict[str, dict]]:
    """Notifications (host_ns, sensor, bytes) of simulated devices, in arrival order, and truth.

    Each device has its own clock offset and a one-sided BLE delay (in order per link);
    ``loss`` drops packets at random (the truth records which were sent and which arrived).
    """
    rng = np.random.default_rng(seed)
    codec = TestCodec(rate)
    out: list[tuple[int, str, bytes]] = []
    truth: dict[str, dict] = {}
    n_pk = int(duration * rate) // per_packet
    for s_i, sensor in enumerate(sensors):
        n = n_pk * per_packet
        t = np.arange(n) / rate
        acc = np.column_stack(
            [np.sin(2 * np.pi * 2.8 * t + k) * 30 + rng.normal(0, 0.5, n) for k in range(3)]
        )
        gyr = np.column_stack(
            [np.cos(2 * np.pi * 1.4 * t + k) * 6 + rng.normal(0, 0.05, n) for k in range(3)]
        )
        dev_offset = 100.0 + 37.0 * s_i
        arrived = rng.random(n_pk) >= loss
        arrived[0] = arrived[-1] = True
        packets = []
        last_host = 0
        for p in range(n_pk):
            sl = slice(p * per_packet, (p + 1) * per_packet)
            payload = codec.encode(acc[sl], gyr[sl], p, dev_offset + t[sl][0])
            host = t0_ns + int((t[sl][-1] + 0.0075 + rng.exponential(0.01)) * 1e9)
            host = last_host = max(host, last_host + 1000)  # a BLE link delivers in order
            if arrived[p]:
                out.append((host, sensor, payload))
            packets.append(payload)
        a_q, g_q = codec.quantise(acc, gyr)
        truth[sensor] = {
            "acc": a_q * ACC_LSB,
            "gyr": g_q * GYR_LSB,
            "t": t,
            "arrived": arrived,
            "per_packet": per_packet,
            "payloads": packets,
        }
    out.sort(key=lambda x: x[0])
    return out, truth


def header_for(sensors, rate=200.0, t0_ns=10**12, **extra) -> dict:
    """A session log header for :func:`synth_stream` sessions."""
    return {
        "session_id": "test",
        "t0_ns": t0_ns,
        "sensors": list(sensors),
        "sensor_info": {
            s: {"profile": "test-codec", "rate": rate, "decode_facts": TestCodec(rate).facts()}
            for s in sensors
        },
        **extra,
    }
