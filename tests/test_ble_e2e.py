"""End to end: three simulated sensors through bleak's front end for a simulated minute.

Packet loss, loss bursts, reordering, one disconnect/reconnect and clock drift; checked
against the devices' own log of what they generated, sent and dropped.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_ble_support import Clock, acquire, make_devices, run_links

from imustream.sim.device import LinkFaults
from imustream.types import BlockFlags, LinkState

DURATION = 60.0
BACK_AT = 31.5
CLOCKS = {
    "pelvis": Clock(12.5, 180.0),
    "shoe_left": Clock(250.0, -150.0),
    "shoe_right": Clock(3.25, 60.0),
}
FAULTS = {
    "pelvis": LinkFaults(loss_rate=0.02, reorder_prob=0.02),
    "shoe_left": LinkFaults(
        loss_rate=0.01, burst_rate=0.1, burst_mean_s=0.3, disconnects=((28.0, BACK_AT),)
    ),
    "shoe_right": LinkFaults(loss_rate=0.03, reorder_prob=0.01, burst_rate=0.05, burst_mean_s=0.2),
}


def _run(backend: str):
    devices = make_devices(DURATION + 1, FAULTS, CLOCKS)
    items = run_links(devices, backend, DURATION)
    return devices, *acquire(items, devices)


@pytest.fixture(
    scope="module", params=["inprocess", pytest.param("bumble", marks=pytest.mark.integration)]
)
def session(request):
    return _run(request.param)


def _delivered(blocks, sensor, rate):
    """True sample indices of every delivered sample, in delivery order."""
    clock = CLOCKS[sensor]
    return np.concatenate(
        [clock.true_index(b.t_device, rate) for b in blocks if b.sensor == sensor]
    )


@pytest.mark.parametrize("sensor", list(CLOCKS))
def test_every_sent_sample_decoded_exactly_once(session, sensor):
    devices, acq, blocks, _, _ = session
    dev = devices[sensor]
    rate = dev.log[0].rate
    sent = np.concatenate([np.arange(r.first, r.first + r.n) for r in dev.log if r.fate == "sent"])
    got = _delivered(blocks, sensor, rate)
    assert len(got) == len(sent)
    np.testing.assert_array_equal(np.sort(got), np.sort(sent))
    assert np.all(np.diff(got) > 0), "blocks must come out in sample order"
    assert acq.stats[sensor].samples == len(sent)
    assert acq.stats[sensor].decode_errors == 0


@pytest.mark.parametrize("sensor", list(CLOCKS))
def test_every_gap_accounted_for(session, sensor):
    devices, acq, blocks, gaps, _ = session
    dev = devices[sensor]
    rate = dev.log[0].rate
    got = _delivered(blocks, sensor, rate)
    my_gaps = [g for g in gaps if g.sensor == sensor]
    # each gap sits between two delivered samples and counts exactly the samples between them
    holes = np.nonzero(np.diff(got) > 1)[0]
    assert len(holes) == len(my_gaps)
    for h, g in zip(holes, my_gaps, strict=True):
        assert g.n_missing == got[h + 1] - got[h] - 1
        assert g.start < g.end
    # what the device dropped inside the delivered span equals the gap total
    lost = sum(r.n for r in dev.log if r.fate == "lost" and got[0] < r.first < got[-1])
    down = (got[-1] - got[0] + 1) - len(got) - lost  # not generated while out of range
    assert sum(g.n_missing for g in my_gaps) == lost + down
    assert acq.stats[sensor].missing_samples == lost + down
    if sensor == "shoe_left":
        assert down > 0
        assert [g.reason for g in my_gaps].count("disconnect") == 1
    else:
        assert down == 0
        assert all(g.reason == "loss" for g in my_gaps)
    assert lost > 0


def test_reconnect_within_two_seconds_and_new_segment(session):
    devices, acq, blocks, gaps, states = session
    left = [s for s in states if s.sensor == "shoe_left"]
    kinds = [s.state for s in left]
    assert LinkState.LOST in kinds
    lost_at = next(s.host_ns for s in left if s.state is LinkState.LOST) * 1e-9
    assert lost_at == pytest.approx(28.0, abs=0.05)
    streaming = [s.host_ns * 1e-9 for s in left if s.state is LinkState.STREAMING]
    assert len(streaming) == 2
    assert BACK_AT <= streaming[1] <= BACK_AT + 2.0
    assert devices["shoe_left"].connections == 2
    gap = next(g for g in gaps if g.reason == "disconnect")
    assert gap.sensor == "shoe_left"
    assert gap.start < 28.0 < BACK_AT < gap.end
    after = next(b for b in blocks if b.sensor == "shoe_left" and b.t_session[0] >= gap.end)
    assert after.flags & BlockFlags.NEW_SEGMENT and after.flags & BlockFlags.AFTER_GAP
    assert acq.stats["shoe_left"].reconnects == 1
    for other in ("pelvis", "shoe_right"):
        assert [s.state for s in states if s.sensor == other].count(LinkState.STREAMING) == 1


@pytest.mark.parametrize("sensor", list(CLOCKS))
def test_clock_drift_mapped_to_session_time(session, sensor):
    """Session time tracks true sample time (device clocks are offset and drift)."""
    devices, acq, blocks, _, _ = session
    rate = devices[sensor].log[0].rate
    mine = [b for b in blocks if b.sensor == sensor]
    t_true = np.concatenate([CLOCKS[sensor].true_index(b.t_device, rate) for b in mine]) / rate
    t_sess = np.concatenate([b.t_session for b in mine])
    err = t_sess - t_true
    late = t_true > 10.0  # after the envelope fit has seen enough arrivals
    # one-sided delay: up to one connection interval (15 ms) plus timestamp quantisation
    assert np.all(err[late] > -0.002) and np.all(err[late] < 0.020)
    # without drift correction the error would grow by drift * 60 s
    assert abs(np.median(err[t_true > 50]) - np.median(err[late & (t_true < 20)])) < 0.005
    # delivered + missing samples over the session span: the nominal rate (drift mapped away)
    st = acq.stats[sensor]
    span = st.last_time - st.first_time
    assert (st.samples + st.missing_samples - 1) / span == pytest.approx(
        rate, rel=5e-4
    )  # 15 ms in 60 s
    assert st.effective_rate == pytest.approx(rate * (1 - st.loss_fraction), rel=2e-3)


def test_simulation_is_deterministic():
    """Same seeds, same virtual clock: byte-identical notifications at identical times."""

    def once():
        devices = make_devices(11.0, FAULTS, CLOCKS)
        return [
            i if isinstance(i, tuple) else (i.host_ns, i.sensor, i.state, i.message)
            for i in run_links(devices, "inprocess", 10.0)
        ]

    first, second = once(), once()
    assert len(first) > 700  # ~250 notifications per sensor
    assert first == second
