"""'Tap the sensor': the tap on one of three still sensors is attributed to the right role."""

from __future__ import annotations

import numpy as np
import pytest
from test_ble_support import acquire, run_links

import imustream.profiles as profiles
from imustream.ble.identify import TapDetector
from imustream.sim import simulate
from imustream.sim.device import SimulatedDevice
from imustream.types import SampleBlock

SETUP = {"pelvis": "movesense-imu6", "shoe_left": "imustream-open", "shoe_right": "imustream-open"}
TAP_AT = 2.0


def _tapped(run, sensor, tapped_sensor):
    sig = run.sensors[sensor]
    if sensor == tapped_sensor:  # a 20 ms, ~4 g knock on the x axis
        k = (sig.t >= TAP_AT) & (sig.t < TAP_AT + 0.02)
        sig.acc[k, 0] += 4.0 * 9.80665 * np.hanning(k.sum() + 2)[1:-1]
    return sig


@pytest.mark.parametrize("tapped", ["shoe_right", "pelvis"])
def test_tap_identifies_the_sensor(tapped):
    runs = {}

    def signals(sensor):
        def at(rate):
            if rate not in runs:
                runs[rate] = simulate(
                    "symmetric-runner", duration=6.0, fs=rate, seed=4, standing_s=6.0
                )
            return _tapped(runs[rate], sensor, tapped)

        return at

    devices = {
        s: SimulatedDevice(
            profiles.get(p), signals(s), address=f"C0:FF:EE:00:01:{i:02X}", samples_per_packet=4
        )
        for i, (s, p) in enumerate(SETUP.items())
    }
    items = run_links(devices, "inprocess", 5.0)
    _, blocks, _, _ = acquire(items, devices)
    detector = TapDetector()
    taps = [tap for b in blocks if isinstance(b, SampleBlock) for tap in detector.process(b)]
    assert [t.sensor for t in taps] == [tapped]
    assert taps[0].time == pytest.approx(TAP_AT, abs=0.03)
    assert taps[0].peak_g > 2.0


def test_movement_is_not_a_tap():
    """Running (long, repeated excursions) is not mistaken for a tap on the pelvis."""
    run = simulate("symmetric-runner", duration=10.0, fs=200.0, seed=1, standing_s=0.0)
    sig = run.sensors["pelvis"]
    block = SampleBlock(sig.acc, sig.gyr, sensor="pelvis", t_session=sig.t.copy())
    assert TapDetector().process(block) == []
