"""Every firmware profile streams through bleak: advertising, start/stop writes, decoding."""

from __future__ import annotations

import numpy as np
import pytest
from test_ble_support import acquire, make_devices, run_links

import imustream.profiles as profiles


@pytest.mark.parametrize("name", profiles.names())
def test_profile_streams_through_the_ble_path(name):
    devices = make_devices(
        6.0,
        profile_names={"pelvis": name},
        device_kw={"pelvis": {"samples_per_packet": None}},
    )
    items = run_links(devices, "inprocess", 5.0)
    acq, blocks, gaps, _ = acquire(items, devices)
    dev = devices["pelvis"]
    st = acq.stats["pelvis"]
    sent = sum(r.n for r in dev.log if r.fate == "sent")
    assert sent > 0.9 * 4.5 * float(dev.profile.default_rate)
    assert dev.log[0].rate == float(dev.profile.default_rate)  # start sequence understood
    assert dev.unknown_writes == []  # start and stop sequences both understood
    assert st.decode_errors == 0 and not gaps
    assert st.samples == sent  # two-stream devices: acc and gyro paired sample by sample
    mine = [b for b in blocks if b.sensor == "pelvis"]
    acc_only = tuple(dev.profile.streams) == ("acc",)  # e.g. Polar H10: no gyroscope
    assert not any(np.isnan(b.acc).any() for b in mine)
    assert all(np.isnan(b.gyr).all() if acc_only else not np.isnan(b.gyr).any() for b in mine)
    t = np.concatenate([b.t_session for b in mine])
    assert np.all(np.diff(t) > 0)
