"""Fault injection: the simulated device's fault kinds, the converter under corrupted input,
and Ctrl-C ending `imustream record` with a finished, valid file (SIGTERM: test_cli_io.py)."""

from __future__ import annotations

import asyncio
import math
import signal
import subprocess
import sys

import numpy as np
from conftest import REPO

from imustream import profiles
from imustream.ble.clock import new_event_loop
from imustream.cli._session import session_header
from imustream.io.convert import convert
from imustream.io.recorder import Recorder
from imustream.io.session import open_session
from imustream.sim.device import LinkFaults, SimulatedDevice
from imustream.sim.encoders import PacketEncoder

PROFILE = "movesense-imu6"
RATE = 416.0


def _signals(n: int, rate: float = RATE, t_device0: float = 50.0):
    class Sig:
        t = np.arange(n) / rate
        t_device = t_device0 + np.arange(n) / rate
        acc = np.tile([0.0, 0.0, 9.81], (n, 1)) + np.random.default_rng(0).normal(0, 0.1, (n, 3))
        gyr = np.zeros((n, 3))

    return Sig


class _Transport:
    def __init__(self) -> None:
        self.payloads: list[bytes] = []

    async def notify(self, char_uuid: str, payload: bytes) -> None:
        self.payloads.append(payload)

    async def drop(self) -> None:
        pass


def _stream(faults: LinkFaults, n: int = 4000) -> tuple[SimulatedDevice, list[bytes]]:
    """Run one simulated device until it has sent all of ``n`` samples; its log and payloads."""
    prof = profiles.get(PROFILE)
    sig = _signals(n)
    dev = SimulatedDevice(
        prof, lambda r: sig, address="C0:FF:EE:00:00:01", faults=faults, samples_per_packet=8
    )
    tr = _Transport()

    async def go() -> None:
        dev.power_on()
        dev.connect(tr)
        dev.subscribe(prof.notify_uuids[0], True)
        for w in prof.start_sequence(rate=RATE):
            dev.write(w.char_uuid, w.data)
        await asyncio.sleep(n / RATE + 1.0)

    loop = new_event_loop(math.inf)  # virtual clock: no real waiting
    try:
        loop.run_until_complete(go())
    finally:
        loop.close()
    return dev, tr.payloads


def test_garbage_packets_are_sent_logged_and_undecodable():
    dev, payloads = _stream(LinkFaults(garbage_prob=0.05, slip_prob=0.0))
    fates = [p.fate for p in dev.log]
    assert fates.count("garbage") >= 10 and set(fates) == {"sent", "garbage"}
    assert len(payloads) == len(fates)  # garbage leaves the device like any packet
    prof = profiles.get(PROFILE).with_options(rate=RATE)
    decodes = []
    for p in payloads:
        try:
            prof.decode(p)
            decodes.append(True)
        except ValueError:
            decodes.append(False)
    assert decodes == [f == "sent" for f in fates]


def test_clock_reset_restarts_the_device_time():
    reset_at = 4.0
    dev, payloads = _stream(LinkFaults(clock_resets=(reset_at,), slip_prob=0.0))
    prof = profiles.get(PROFILE).with_options(rate=RATE)
    t_dev = np.array([prof.decode(p).t_device[0] for p in payloads])
    t_true = np.array([r.t_first for r in dev.log])
    before, after = t_true < reset_at, t_true >= reset_at
    np.testing.assert_allclose(t_dev[before], 50.0 + t_true[before], atol=2e-3)
    np.testing.assert_allclose(t_dev[after], t_true[after] - reset_at, atol=2e-3)


def test_corrupted_notification_at_the_same_arrival_time_converts(tmp_path):
    """Regression (found by the soak): a garbage notification arriving in the same connection
    event as a good one made the converter raise DecodeError and produce no file."""
    prof = profiles.get(PROFILE).with_options(rate=RATE)
    enc = PacketEncoder(prof, rate=RATE, samples_per_packet=8)
    sig = _signals(8 * 40)
    info = {"pelvis": {"profile": PROFILE, "rate": RATE}}
    rec = Recorder(tmp_path / "s.imulog", session_header(info, t0_ns=0)).start()
    good = []
    for k in range(40):
        sl = slice(8 * k, 8 * k + 8)
        payload = enc.encode(sig.acc[sl], sig.gyr[sl], float(sig.t_device[8 * k]), k)
        host_ns = int((sig.t[8 * k + 7] + 0.005) * 1e9)
        if k % 10 == 5:
            rec.notify(host_ns, "pelvis", b"\x02\x07garbage-of-39-bytes-that-is-no-packet!!")
        rec.notify(host_ns, "pelvis", payload)
        good.append(payload)
    rec.stop()
    res = convert(tmp_path / "s.imulog")
    with open_session(res.h5_path) as s:
        s.check_all()
        d = s.sensors["pelvis"]
        assert d.n == 8 * 40 and d.n_notifications == 44
        assert int(np.sum(d.raw_decode_ok == 0)) == 4
        np.testing.assert_allclose(d.acc, sig.acc, atol=0.01)
        assert [d.payload(i) for i in np.flatnonzero(d.raw_decode_ok)] == good


def test_sigint_ends_record_with_a_finished_valid_file(tmp_path):
    out = tmp_path / "int.h5"
    cmd = [sys.executable, "-m", "imustream", "record", "--scenario", "flaky-connection"]
    cmd += ["--speed", "max", "--duration", "3600", "-o", str(out)]
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        # a shell may start background jobs with SIGINT ignored; Ctrl-C must reach Python
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    line = proc.stderr.readline()
    assert line.startswith("recording"), line + proc.stderr.read()
    while True:  # until a progress line shows samples flowing (unpaced: seconds of data)
        line = proc.stderr.readline()
        assert line, proc.stderr.read()
        if "samples" in line and int(line.split()[2]) > 0:
            break
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=120)[1]
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    with open_session(out) as s:
        s.check_all()
        assert s.complete and s.attrs["end_reason"] == "interrupted"
        assert all(d.n > 0 for d in s.sensors.values())
        assert len(s.steps["ic_time"]) > 0
        assert s.duration > 1.0
