"""Encoder/decoder round trip for every profile: decode(encode(x)) == x within quantisation."""

from __future__ import annotations

import numpy as np
import pytest

from imustream import profiles
from imustream.sim.encoders import PacketEncoder

G = 9.80665


def _signals(rng, n, acc_limit, gyr_limit):
    acc = rng.uniform(-acc_limit, acc_limit, (n, 3))
    gyr = rng.uniform(-gyr_limit, gyr_limit, (n, 3))
    return acc, gyr


@pytest.mark.parametrize("name", profiles.names())
def test_round_trip(name):
    p = profiles.get(name)
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    enc = PacketEncoder(p)
    q = enc.profile
    n = enc.samples_per_packet
    fs_acc = (q.acc_full_scale or 16 * G) * 0.95
    acc, gyr = _signals(rng, n, fs_acc, 15.0)  # 860 deg/s: below every gyro full scale
    t0 = 12.345678
    seq = 70000
    for stream, payload in zip(enc.streams, enc.encode_all(acc, gyr, t0, seq), strict=True):
        b = q.decode(payload)
        assert b.n == n
        if stream in ("imu", "acc"):
            np.testing.assert_allclose(b.acc, acc, atol=_tolerance(q, "acc"), rtol=1e-6)
        if stream in ("imu", "gyr"):
            np.testing.assert_allclose(b.gyr, gyr, atol=_tolerance(q, "gyr"), rtol=1e-6)
        if stream == "acc":
            assert np.isnan(b.gyr).all()
        if stream == "gyr":
            assert np.isnan(b.acc).all()
        if q.time_source == "device":
            expected = t0 + np.arange(n) / q.rate
            wrap = q.timestamp_wrap_s
            np.testing.assert_allclose(
                np.mod(b.t_device - expected + wrap / 2, wrap) - wrap / 2,
                0.0,
                atol=q.timestamp_tick_s,
            )
        else:
            assert b.t_device is None
        if q.seq_bits is not None:
            assert b.seq == seq % (1 << q.seq_bits)


def _tolerance(p, quantity):
    """Half a quantisation step of the format (float formats: float32 rounding)."""
    if p.decoder_name == "polar_pmd":
        from imustream.profiles.decoders.polar_pmd import DEG, MG, PolarPmdDecoder

        dec = PolarPmdDecoder(p)
        acc_frame = p.decoder_params.get("acc_frame", 1)
        step = {
            "acc": MG * (1.0 if acc_frame == 1 else dec.acc_factor),
            "gyr": DEG * dec.gyr_factor,
        }
        return 0.5 * step[quantity] + 1e-9
    from imustream.profiles.decoders.fields import quantity_scale

    if p.layout is not None and p.layout.blocks[0][0].type.startswith("f"):
        return 1e-5
    return 0.5 * quantity_scale(p, quantity) + 1e-9


def test_variable_packets_respect_requested_size():
    p = profiles.get("imustream-open")
    enc = PacketEncoder(p, samples_per_packet=4)
    assert enc.samples_per_packet == 4
    payload = enc.encode(np.zeros((4, 3)), np.zeros((4, 3)), 0.0, 1)
    assert len(payload) == 6 + 4 * 12
    assert PacketEncoder(p).samples_per_packet == 19  # fills a 244-byte notification
    with pytest.raises(ValueError):
        PacketEncoder(p, samples_per_packet=20)


def test_encoder_saturates_like_an_adc():
    p = profiles.get("imustream-open")
    enc = PacketEncoder(p, samples_per_packet=1)
    b = p.decode(enc.encode(np.array([[100 * G, -100 * G, 0.0]]), np.zeros((1, 3)), 0.0, 0))
    np.testing.assert_allclose(b.acc[0, :2], [32767 / 2048 * G, -16 * G])


def test_encoder_argument_errors():
    enc = PacketEncoder(profiles.get("imustream-open"), samples_per_packet=2)
    with pytest.raises(ValueError, match="carry 2"):
        enc.encode(np.zeros((3, 3)), np.zeros((3, 3)), 0.0, 0)
    with pytest.raises(ValueError, match="t_device"):
        enc.encode(np.zeros((2, 3)), np.zeros((2, 3)), None, 0)
    with pytest.raises(ValueError, match="seq"):
        enc.encode(np.zeros((2, 3)), np.zeros((2, 3)), 0.0, None)


INT_OR_FLOAT = [n for n in profiles.names() if not n.startswith("polar")]


@pytest.mark.parametrize("name", INT_OR_FLOAT)
def test_real_shoe_recording_round_trip(datasets_dir, name):
    """A real running-shoe recording (gaitmap, 204.8 Hz, peaks of 16.1 g) through each device
    format: decode(encode(x)) equals an independent model of the format (round to the LSB and
    saturate at the int16 limits, or float32 rounding), sample by sample."""
    from imustream.profiles.decoders.fields import quantity_scale

    d = np.load(datasets_dir / "gaitmap" / "healthy_2x20m_shoe_left.npz", allow_pickle=False)
    acc, gyr = d["acc"].astype(float), d["gyr"].astype(float)
    enc = PacketEncoder(profiles.get(name))
    q, k = enc.profile, enc.samples_per_packet
    n = (len(acc) // k) * k
    got = {"acc": [], "gyr": []}
    for i in range(0, n, k):
        for stream, payload in zip(
            enc.streams, enc.encode_all(acc[i : i + k], gyr[i : i + k], i / 204.8, i), strict=True
        ):
            b = q.decode(payload)
            for quantity in ("acc", "gyr"):
                if stream in ("imu", quantity):
                    got[quantity].append(getattr(b, quantity))
    floats = q.layout is not None and q.layout.blocks[0][-1].type == "f32"
    for quantity, x in (("acc", acc[:n]), ("gyr", gyr[:n])):
        scale = quantity_scale(q, quantity)
        if floats:
            expected = (x / scale).astype(np.float32).astype(float) * scale
        else:
            expected = np.clip(np.rint(x / scale), -32768, 32767) * scale
        np.testing.assert_allclose(np.concatenate(got[quantity]), expected, rtol=1e-12, atol=1e-12)
    clipped = np.mean(np.abs(acc[:n]) >= 32767 * quantity_scale(q, "acc")) if not floats else 0.0
    if q.acc_full_scale is not None and q.acc_full_scale <= 16 * 9.80665 and not floats:
        assert clipped > 0  # this recording peaks at 16.1 g: a +-16 g format must saturate
