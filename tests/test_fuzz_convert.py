"""Fuzz the recorder -> converter path with corrupted notifications mixed into good ones.

The existing suites fuzz each parser alone (decoders: test_decode_fuzz.py, log recovery:
test_io_log.py, HDF5 reading: test_io_session.py). This one drives the joint: garbage of any
length arriving at any moment, in the same connection event as good packets, next to reordered
pairs — the conversion must keep every byte, decode every good packet exactly once, and never
fail (the soak found a DecodeError escaping here).
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imustream import profiles
from imustream.cli._session import session_header
from imustream.io.convert import convert
from imustream.io.recorder import Recorder
from imustream.io.session import open_session
from imustream.sim.encoders import PacketEncoder

N_PACKETS = 30


def _good_packets(profile_name: str, rate: float, k: int, seed: int):
    prof = profiles.get(profile_name).with_options(rate=rate)
    enc = PacketEncoder(prof, rate=rate, samples_per_packet=k)
    k = enc.samples_per_packet
    rng = np.random.default_rng(seed)
    acc = rng.normal(0, 4, (N_PACKETS * k, 3))
    gyr = rng.normal(0, 1, (N_PACKETS * k, 3))
    out = []
    for i in range(N_PACKETS):
        sl = slice(i * k, (i + 1) * k)
        payload = enc.encode(acc[sl], gyr[sl], 10.0 + i * k / rate, i)
        out.append((int(((i + 1) * k / rate + 0.004) * 1e9), payload))
    return prof, k, acc, out


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    profile=st.sampled_from([("movesense-imu6", 416.0, 8), ("imustream-open", 200.0, None)]),
    seed=st.integers(0, 2**16),
    garbage=st.lists(
        st.tuples(st.integers(0, N_PACKETS - 1), st.binary(min_size=0, max_size=60), st.booleans()),
        max_size=8,
    ),
    swaps=st.lists(st.integers(1, N_PACKETS - 2), max_size=3),
    same_time=st.lists(st.integers(1, N_PACKETS - 1), max_size=4),
)
def test_corrupted_notifications_never_lose_good_ones(
    tmp_path, profile, seed, garbage, swaps, same_time
):
    name, rate, k = profile
    prof, k, acc, good = _good_packets(name, rate, k, seed)
    arrivals = [list(p) for p in good]
    for i in same_time:  # two packets in one connection event
        arrivals[i][0] = arrivals[i - 1][0]
    for i in swaps:  # reordered pair at one arrival time, as the link can deliver it
        if arrivals[i + 1][0] != arrivals[i][0]:
            arrivals[i][1], arrivals[i + 1][1] = arrivals[i + 1][1], arrivals[i][1]
            arrivals[i + 1][0] = arrivals[i][0]
    if any(_decodes(prof, junk) for _, junk, _ in garbage):
        return  # random bytes that are a valid packet are data, not garbage: out of scope
    bad_at: dict[int, list[tuple[bytes, bool]]] = {}
    for i, junk, before in garbage:
        bad_at.setdefault(i, []).append((junk, before))
    stream: list[tuple[int, bytes]] = []
    for i, (host, payload) in enumerate(arrivals):
        junk = bad_at.get(i, [])
        stream += [(host, j) for j, before in junk if before]
        stream.append((host, payload))
        stream += [(host, j) for j, before in junk if not before]
    path = tmp_path / f"f{seed}.imulog"
    for p in tmp_path.glob("f*"):
        p.unlink()
    info = {"pelvis": {"profile": name, "rate": rate}}
    rec = Recorder(path, session_header(info, t0_ns=1)).start()
    for host, payload in stream:
        rec.notify(host, "pelvis", payload)
    rec.stop()
    res = convert(path)
    with open_session(res.h5_path) as s:
        s.check_all()
        d = s.sensors["pelvis"]
        assert d.n_notifications == len(stream)  # every byte kept
        assert [d.payload(i) for i in range(d.n_notifications)] == [p for _, p in stream]
        assert int(np.sum(d.raw_decode_ok == 0)) == len(garbage)
        assert d.n == N_PACKETS * k  # every good sample exactly once, in order
        np.testing.assert_allclose(d.acc, acc, atol=0.02)


def _decodes(prof, payload: bytes) -> bool:
    try:
        prof.decode(payload)
    except ValueError:
        return False
    return True
