"""Round trip through a real firmware profile and the live acquisition (stream.Acquisition)."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from imustream import open_session
from imustream.errors import ImustreamError
from imustream.io.convert import convert
from imustream.io.recorder import Recorder
from imustream.types import Gap, LinkState, StateChange

RATE = 100.0
PER = 5


def _profile():
    try:
        from imustream import profiles

        return profiles.get("imustream-open").with_options(rate=RATE)
    except (ImustreamError, ImportError, AttributeError) as exc:  # pragma: no cover
        pytest.skip(f"imustream-open profile unavailable: {exc}")


def _packet(seq: int, t_first: float, counts: np.ndarray) -> bytes:
    """imustream-open layout: u16 seq, u32 us time of the first sample, N x 6 int16."""
    head = struct.pack("<HI", seq % 65536, round(t_first * 1e6) % 2**32)
    return head + counts.astype("<i2").tobytes()


def test_real_profile_round_trip_with_loss_and_disconnect(tmp_path):
    prof = _profile()
    rng = np.random.default_rng(3)
    t0 = 5 * 10**9
    n_pk = 400  # 20 s
    lost = set(rng.choice(np.arange(5, 150), 12, replace=False).tolist())
    offline = set(range(200, 240))  # a 2 s disconnect
    counts = rng.integers(-3000, 3000, (n_pk, PER, 6))
    header = {
        "session_id": "p",
        "t0_ns": t0,
        "sensors": ["pelvis"],
        "sensor_info": {"pelvis": {"profile": "imustream-open", "rate": RATE}},
    }
    rec = Recorder(tmp_path / "p.imulog", header).start()
    rec.record(StateChange("pelvis", LinkState.STREAMING, t0, "connected"))
    last = 0
    for p in range(n_pk):
        t_dev = 30.0 + p * PER / RATE
        host = t0 + int((p * PER + PER - 1) / RATE * 1e9) + 8_000_000 + int(rng.integers(0, 9e6))
        last = host = max(host, last + 1)
        if p == 200:
            rec.record(StateChange("pelvis", LinkState.LOST, host, "link lost"))
        if p == 240:
            rec.record(StateChange("pelvis", LinkState.STREAMING, host - 1000, "reconnected"))
        if p in lost or p in offline:
            continue
        rec.notify(host, "pelvis", _packet(p, t_dev, counts[p]))
    # a live gap record: the conversion re-derives the gaps with the same acquisition code
    rec.record(Gap("pelvis", 1.0, 1.5, 50, "loss"))
    rec.stop()
    res = convert(tmp_path / "p.imulog")
    assert not res.warnings, res.warnings
    kept = np.array([p not in lost and p not in offline for p in range(n_pk)])
    with open_session(res.h5_path) as s:
        d = s.sensors["pelvis"]
        expect = np.concatenate([prof.decode(_packet(p, 0, counts[p])).acc for p in range(n_pk)])
        np.testing.assert_array_equal(d.acc, expect[np.repeat(kept, PER)])
        assert (d.raw_decode_ok == 1).all()
        g = s.gaps
        assert set(g["source"]) == {"convert"}
        runs = []  # consecutive lost packets form one gap
        for p in sorted(lost):
            if runs and runs[-1][1] == p - 1:
                runs[-1][1] = p
            else:
                runs.append([p, p])
        assert g["n_missing"][g["reason"] == "loss"].tolist() == [
            (b - a + 1) * PER for a, b in runs
        ]
        disc = g["reason"] == "disconnect"
        assert disc.sum() == 1 and g["n_missing"][disc][0] == 40 * PER
        # session time follows the device clock: the samples stay 10 ms apart across the gap
        t = d.t_session
        dt = np.diff(t)
        assert np.all(dt > 0)
        t_true = (np.arange(n_pk * PER) / RATE)[np.repeat(kept, PER)]
        err = (t - t[0]) - (t_true - t_true[0])
        assert np.abs(err).max() < 0.01
        assert s.states["state"].tolist() == ["streaming", "lost", "streaming"]
