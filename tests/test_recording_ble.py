"""Round trip through the whole live path: simulated BLE devices -> bleak -> BleThread queue ->
Recorder (+ Acquisition/Pipeline) -> log -> HDF5. What the devices sent is what the file holds,
sample for sample, with gaps exactly where the link lost packets (the devices' own logs are
the ground truth)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from imustream import open_session
from imustream.types import StateChange

RATE = 208.0
DURATION = 8.0


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    from imustream import profiles
    from imustream.ble.backends.inprocess import InProcessClient, InProcessScanner, SimulatedRadio
    from imustream.ble.link import Backend, LinkTarget
    from imustream.ble.thread import BleThread
    from imustream.cli._session import LiveSession, session_header
    from imustream.dsp.pipeline import Pipeline
    from imustream.io.convert import convert
    from imustream.io.recorder import Recorder
    from imustream.sim import simulate
    from imustream.sim.device import LinkFaults, SimulatedDevice
    from imustream.stream.acquisition import Acquisition

    d = tmp_path_factory.mktemp("ble")
    prof = profiles.get("movesense-imu6")
    run = simulate("symmetric-runner", duration=DURATION + 1, fs=RATE, seed=3)
    faults = {
        "pelvis": LinkFaults(loss_rate=0.03, disconnects=((3.0, 4.0),)),
        "shoe_left": LinkFaults(loss_rate=0.05, reorder_prob=0.03),
        "shoe_right": LinkFaults(burst_rate=0.5, burst_mean_s=0.1),
    }
    devices = {
        s: SimulatedDevice(
            prof,
            (lambda sig: lambda r: sig)(run.sensors[s]),
            address=f"C0:FF:EE:00:00:{i + 1:02X}",
            faults=faults[s],
            seed=10 + i,
        )
        for i, s in enumerate(run.sensors)
    }
    radio = SimulatedRadio(devices.values())

    async def setup() -> None:
        radio.power_on()

    async def teardown() -> None:
        radio.power_off()

    targets = [LinkTarget(s, prof, address=dev.address, rate=RATE) for s, dev in devices.items()]
    backend = Backend(InProcessScanner, InProcessClient, {"radio": radio}, "sim")
    ble = BleThread(
        targets, backend, speed=math.inf, setup=setup, teardown=teardown, stop_after=DURATION
    )
    profs = {s: prof.with_options(rate=RATE) for s in devices}
    info = {s: {"profile": prof.name, "rate": RATE} for s in devices}
    acq = Acquisition(profs, dict.fromkeys(devices, RATE), origin_ns=0)
    rec = Recorder(d / "ble.imulog", session_header(info, t0_ns=0)).start()
    live = LiveSession(rec, acq, Pipeline(dict.fromkeys(devices, RATE)))
    ble.start()
    while ble.running or not ble.queue.empty():
        try:
            item = ble.queue.get(timeout=0.05)
        except Exception:  # queue.Empty
            continue
        live.handle(item)
    live.finish()
    assert ble.error is None, ble.error
    rec.stop()
    res = convert(d / "ble.imulog")
    return res, devices, run, live


def test_samples_are_what_the_devices_sent(session):
    import json

    from imustream import profiles

    res, devices, run, _ = session
    prof = profiles.get("movesense-imu6").with_options(rate=RATE)
    with open_session(res.h5_path) as s:
        for name, dev in devices.items():
            sent = [p for p in dev.log if p.fate == "sent"]
            sig = run.sensors[name]
            d = s.sensors[name]
            # every packet that went over the air is in the file, byte for byte
            assert d.n_notifications == len(sent)
            first_t = {round(float(sig.t_device[p.first]), 3): p for p in sent}
            in_file = [
                first_t[round(float(prof.decode(d.payload(i)).t_device[0]), 3)]
                for i in range(d.n_notifications)
            ]
            assert sorted(p.seq for p in in_file) == [p.seq for p in sent]
            # decoded: every packet the acquisition kept, in device order; a packet it dropped
            # (late after a reorder at the very start) keeps its bytes and is counted
            kept = sorted(
                (p for p, ok in zip(in_file, d.raw_decode_ok, strict=True) if ok),
                key=lambda p: p.seq,
            )
            stats = json.loads(s._f[f"sensors/{name}"].attrs["acquisition_stats_json"])
            assert len(sent) - len(kept) == stats["late"] + stats["duplicates"] <= 1
            idx = np.concatenate([np.arange(p.first, p.first + p.n) for p in kept])
            # movesense sends float32 m/s^2 and deg/s: equal after float32 rounding
            np.testing.assert_array_equal(d.acc, sig.acc[idx].astype(np.float32))
            gyr = np.deg2rad(np.rad2deg(sig.gyr[idx]).astype(np.float32).astype(np.float64))
            np.testing.assert_allclose(d.gyr, gyr, rtol=1e-6, atol=1e-9)
            assert np.all(np.diff(d.t_session) > 0)
            # session time tracks the true sample time (one-sided BLE delay, clock mapping)
            err = d.t_session - sig.t[idx]
            assert np.ptp(err) < 0.03, (name, np.ptp(err))


def test_gaps_exactly_where_packets_were_lost(session):
    res, devices, *_ = session
    with open_session(res.h5_path) as s:
        g = s.gaps
        for name, dev in devices.items():
            lost_runs = []  # consecutive lost packets -> one gap of that many samples
            prev_lost = False
            sent = [i for i, p in enumerate(dev.log) if p.fate == "sent"]
            # a loss before the first or after the last received packet is no gap in the data
            for p in dev.log[sent[0] : sent[-1] + 1]:
                if p.fate == "lost":
                    if prev_lost:
                        lost_runs[-1] += p.n
                    else:
                        lost_runs.append(p.n)
                prev_lost = p.fate == "lost"
            sel = (g["sensor"] == name) & (g["reason"] == "loss")
            assert sorted(g["n_missing"][sel].tolist()) == sorted(lost_runs), name
        disc = g["reason"] == "disconnect"
        assert g["sensor"][disc].tolist() == ["pelvis"]
        # the out-of-range second: everything the device could not send is in the gap
        assert 0.9 * RATE <= g["n_missing"][disc][0] <= 1.3 * RATE
        st = s.states
        pel = st["sensor"] == "pelvis"
        assert "lost" in st["state"][pel].tolist() or "reconnecting" in st["state"][pel].tolist()


def test_live_steps_are_in_the_file(session):
    res, _, _, live = session
    with open_session(res.h5_path) as s:
        assert len(s.steps["ic_time"]) == live.n_steps > 5
        assert len(s.events["time"]) > 2 * live.n_steps
        assert isinstance(s.states["state"][0], str)
        assert StateChange  # the link states went through the recorder
