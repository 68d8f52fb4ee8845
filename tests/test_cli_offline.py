"""Offline wiring of ``replay`` / ``analyze`` (cli/_offline.py): the session origin of a
recording and the printed left/right summary."""

from __future__ import annotations

import numpy as np
import pytest

import imustream.profiles as profiles
from imustream.cli._offline import build_acquisition
from imustream.io.convert import convert
from imustream.io.recorder import Recorder
from imustream.io.replay import ReplaySource
from imustream.io.session import open_session
from imustream.sim.encoders import PacketEncoder
from imustream.types import SampleBlock

FS = 100.0
PROFILE = "imustream-open"


def _header(t0_ns: int | None) -> dict:
    header = {
        "session_id": "origin-test",
        "sensors": ["pelvis"],
        "sensor_info": {"pelvis": {"profile": PROFILE, "rate": FS}},
    }
    if t0_ns is not None:
        header["t0_ns"] = t0_ns
    return header


def _record(path, t0_ns: int, first_host_s: float, n_packets: int = 50) -> None:
    """A recording on a virtual clock: session origin ``t0_ns``, data from ``first_host_s``."""
    enc = PacketEncoder(profiles.get(PROFILE).with_options(rate=FS), rate=FS, samples_per_packet=4)
    rec = Recorder(path, _header(t0_ns)).start()
    for k in range(n_packets):
        t = (4 * k + np.arange(4)) / FS
        acc = np.column_stack([np.sin(t), np.cos(t), np.full(4, 9.81)])
        payload = enc.encode(acc, np.zeros((4, 3)), 5.0 + t[0], k)
        rec.notify(int((first_host_s + t[-1] + 0.01) * 1e9), "pelvis", payload)
    rec.stop()


def test_origin_zero_is_a_valid_session_origin():
    assert build_acquisition(_header(0))[0].origin_ns == 0
    assert build_acquisition(_header(7))[0].origin_ns == 7
    assert build_acquisition(_header(None))[0].origin_ns is None  # unset: first item


def test_replay_of_a_recording_whose_origin_is_zero_matches_the_recording(tmp_path):
    # virtual clock: session time 0 at host 0 ns, the sensor streams from 3 s on
    _record(tmp_path / "v.imulog", t0_ns=0, first_host_s=3.0)
    h5 = convert(tmp_path / "v.imulog").h5_path
    with open_session(h5) as s:
        assert s.attrs["t0_ns"] == 0
        recorded = np.asarray(s.sensors["pelvis"].t_session)
    src = ReplaySource(h5)
    acq, _ = build_acquisition(src.header)
    out = [b for item in src.items() for b in acq.handle(item)] + acq.flush()
    replayed = np.concatenate([b.t_session for b in out if isinstance(b, SampleBlock)])
    assert recorded[0] == pytest.approx(3.01, abs=0.02)
    np.testing.assert_array_equal(replayed, recorded)
