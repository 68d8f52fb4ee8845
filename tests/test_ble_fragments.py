"""A Movesense at 208 Hz sending what the real device sends (16 samples = 390 bytes per
notification, split into DATA + DATA_PART2 at the 247-byte MTU) over the simulated BLE stack,
with loss, reordering, a disconnect and garbage, through the live path (BleThread queue ->
Recorder + Acquisition) and the converter: every notification that went over the air is there
exactly once, nothing else is."""

from __future__ import annotations

import math

import numpy as np
import pytest

from imustream import open_session
from imustream.types import SampleBlock

RATE = 208.0
SPP = 16
DURATION = 8.0
SENSOR = "shoe_left"
FIRST, CONT = 244, 6 + 24 * SPP - 244 + 2  # the device cuts at MTU - 3 = 244 bytes


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    from imustream import profiles
    from imustream.ble.backends.inprocess import InProcessClient, InProcessScanner, SimulatedRadio
    from imustream.ble.link import Backend, LinkTarget
    from imustream.ble.thread import BleThread
    from imustream.cli._session import record_item, session_header
    from imustream.io.convert import convert
    from imustream.io.recorder import Recorder
    from imustream.sim import simulate
    from imustream.sim.device import LinkFaults, SimulatedDevice
    from imustream.stream.acquisition import Acquisition

    d = tmp_path_factory.mktemp("fragments")
    prof = profiles.get("movesense-imu6")
    run = simulate("symmetric-runner", duration=DURATION + 1, fs=RATE, seed=7)
    faults = LinkFaults(
        loss_rate=0.03, reorder_prob=0.03, garbage_prob=0.05, disconnects=((3.0, 3.7),)
    )
    dev = SimulatedDevice(
        prof,
        lambda r: run.sensors[SENSOR],
        address="C0:FF:EE:00:00:01",
        faults=faults,
        seed=11,
        samples_per_packet=SPP,
    )
    radio = SimulatedRadio([dev])

    async def setup() -> None:
        radio.power_on()

    async def teardown() -> None:
        radio.power_off()

    backend = Backend(InProcessScanner, InProcessClient, {"radio": radio}, "sim")
    target = LinkTarget(SENSOR, prof, address=dev.address, rate=RATE)
    ble = BleThread(
        [target], backend, speed=math.inf, setup=setup, teardown=teardown, stop_after=DURATION
    )
    acq = Acquisition({SENSOR: prof.with_options(rate=RATE)}, {SENSOR: RATE}, origin_ns=0)
    info = {SENSOR: {"profile": prof.name, "rate": RATE}}
    rec = Recorder(d / "f.imulog", session_header(info, t0_ns=0)).start()
    out = []
    for item in ble.collect(timeout=300):
        record_item(rec, item)
        out += acq.handle(item)
    out += acq.flush()
    assert ble.error is None, ble.error
    rec.stop()
    res = convert(d / "f.imulog")
    return dev, run, acq, [b for b in out if isinstance(b, SampleBlock)], res


def _first_times(dev, run, fates) -> list[float]:
    sig = run.sensors[SENSOR]
    return sorted(round(float(sig.t_device[p.first]), 3) for p in dev.log if p.fate in fates)


def test_live_acquisition_has_every_sent_notification_once(session):
    dev, run, acq, blocks, _ = session
    sent = _first_times(dev, run, ("sent",))
    assert len(sent) > 60 and len(dev.log) > len(sent)  # faults happened
    assert all(b.n == SPP for b in blocks)
    got = sorted(round(float(b.t_device[0]), 3) for b in blocks)
    assert got == sent
    sig = run.sensors[SENSOR]
    by_first = {round(float(sig.t_device[p.first]), 3): p.first for p in dev.log}
    for b in blocks:  # float32 on the wire, gyro in deg/s
        i = by_first[round(float(b.t_device[0]), 3)]
        np.testing.assert_allclose(b.acc, sig.acc[i : i + SPP], rtol=1e-6, atol=1e-5)
    st = acq.stats[SENSOR]
    garbage = sum(p.fate == "garbage" for p in dev.log)
    assert st.decode_errors >= garbage > 0 and st.reconnects >= 1 and st.mtu == 247
    assert st.samples == SPP * len(sent)


def test_converted_file_holds_the_same_samples_and_uses_both_parts(session):
    dev, _, _, blocks, res = session
    with open_session(res.h5_path) as s:
        d = s.sensors[SENSOR]
        assert d.n == sum(b.n for b in blocks)
        np.testing.assert_array_equal(d.acc, np.concatenate([b.acc for b in blocks]))
        ok = np.asarray(d.raw_decode_ok).astype(bool)
        # both parts of every complete notification are used; what is left is garbage or a
        # part whose other half never arrived
        raw = [d.payload(i) for i in range(d.n_notifications)]
        assert int(ok.sum()) == 2 * len(blocks)
        assert {len(raw[i]) for i in np.flatnonzero(ok)} == {FIRST, CONT}
        for i in np.flatnonzero(~ok):
            first = raw[i][:1] == b"\x02" and len(raw[i]) == FIRST
            cont = raw[i][:1] == b"\x03" and len(raw[i]) == CONT
            if first:  # a first part whose continuation never came
                assert i + 1 == len(raw) or not (raw[i + 1][:1] == b"\x03" and ok[i + 1])
            elif cont:  # a continuation whose first part never came
                assert i == 0 or not (raw[i - 1][:1] == b"\x02" and ok[i - 1])
        garbage = sum(p.fate == "garbage" for p in dev.log)
        assert (~ok).sum() >= garbage
