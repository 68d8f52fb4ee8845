"""Bad devices are reported per sensor; the other sensors keep streaming; nothing crashes."""

from __future__ import annotations

import pytest
from test_ble_support import acquire, make_devices, run_links

import imustream.profiles as profiles
from imustream.stream.acquisition import WRONG_PROFILE_AFTER
from imustream.types import LinkState

DURATION = 12.0


@pytest.fixture(
    scope="module", params=["inprocess", pytest.param("bumble", marks=pytest.mark.integration)]
)
def bad_session(request):
    devices = make_devices(
        DURATION + 1,
        device_kw={
            "shoe_left": {"garbage": True},
            # advertises and configures like imustream-open, sends Movesense packets
            "shoe_right": {"wire_profile": profiles.get("movesense-imu6")},
        },
    )
    items = run_links(devices, request.param, DURATION)
    return devices, *acquire(items, devices)


def test_good_sensor_keeps_streaming(bad_session):
    devices, acq, _, gaps, _ = bad_session
    sent = sum(r.n for r in devices["pelvis"].log if r.fate == "sent")
    assert acq.stats["pelvis"].samples == sent > 0.95 * 104 * DURATION
    assert acq.stats["pelvis"].decode_errors == 0
    assert not [g for g in gaps if g.sensor == "pelvis"]


def test_garbage_sensor_reported(bad_session):
    devices, acq, _, _, _ = bad_session
    st = acq.stats["shoe_left"]
    packets = len(devices["shoe_left"].log)
    assert packets > 100
    # every packet that does not decode is counted; nothing undecodable reaches the output
    assert st.decode_errors + st.packets == packets
    assert st.decode_errors > 0.9 * packets
    assert any("decode error: imustream-open: payload of" in m for m in st.messages)
    assert st.problem and "wrong device or profile for shoe_left" in st.problem
    assert st.decode_errors >= WRONG_PROFILE_AFTER


def test_wrong_profile_sensor_reported(bad_session):
    """Movesense packets happen to have an imustream-open length; their 'seq' never moves."""
    devices, acq, _, _, _ = bad_session
    st = acq.stats["shoe_right"]
    packets = len(devices["shoe_right"].log)
    assert st.packets == packets > 100
    assert st.problem and "wrong device or profile for shoe_right" in st.problem
    assert st.samples < 0.02 * packets * 4  # the repeats are not passed on as data


def test_device_that_stops_mid_stream_is_reported_and_retried():
    devices = make_devices(DURATION + 1, device_kw={"shoe_right": {"stop_at": 4.0}})
    items = run_links(devices, "inprocess", DURATION, stall_timeout=1.0)
    acq, _, _, states = acquire(items, devices)
    right = [s for s in states if s.sensor == "shoe_right"]
    lost = [s for s in right if s.state is LinkState.LOST]
    assert lost and "no data for" in lost[0].message
    assert 5.0 <= lost[0].host_ns * 1e-9 <= 5.5  # stall_timeout after the last packet
    # it reconnects (rerunning the start sequence), backing off while the device stays silent
    assert 3 <= devices["shoe_right"].connections <= 6
    assert any("no data for" in m for m in acq.stats["shoe_right"].messages)
    for good in ("pelvis", "shoe_left"):
        sent = sum(r.n for r in devices[good].log if r.fate == "sent")
        assert acq.stats[good].samples == sent > 0.95 * devices[good].log[0].rate * DURATION


def test_unreachable_device_reported_without_crash():
    devices = make_devices(4.0)
    from imustream.ble.link import LinkTarget

    missing = LinkTarget("shoe_left", profiles.get("imustream-open"), address="C0:FF:EE:00:99:99")
    items = run_links(devices, "inprocess", 3.0, targets={"shoe_left": missing})
    acq, _, _, states = acquire(items, devices)
    msgs = [s.message for s in states if s.sensor == "shoe_left" and s.message]
    assert any("no advertising device matches 'C0:FF:EE:00:99:99'" in m for m in msgs)
    assert acq.stats["pelvis"].samples > 200 and acq.stats["shoe_right"].samples > 200
