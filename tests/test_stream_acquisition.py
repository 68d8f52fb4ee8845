"""Acquisition on packets made by the real encoders: wrap-around, order, loss, time mapping."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import imustream.profiles as profiles
from imustream.sim.encoders import PacketEncoder
from imustream.stream.acquisition import Acquisition
from imustream.types import BlockFlags, Gap, LinkState, SampleBlock, StateChange

FS = 100.0
SPP = 4


def _packets(name="imustream-open", n=40, t0_dev=0.0, seq0=0, drift_ppm=0.0, delay=0.010, fs=FS):
    """(host_ns, payload, first sample index) for n packets of SPP samples."""
    p = profiles.get(name).with_options(rate=fs)
    enc = PacketEncoder(p, rate=fs, samples_per_packet=SPP)
    spp = enc.samples_per_packet
    out = []
    rng = np.random.default_rng(1)
    for k in range(n):
        i = k * spp
        t = (i + np.arange(spp)) / fs
        acc = np.column_stack([np.sin(t), np.cos(t), np.full(spp, 9.81)])
        gyr = np.zeros((spp, 3))
        t_dev = t0_dev + t[0] * (1 + drift_ppm * 1e-6)
        payload = enc.encode(acc, gyr, t_dev, seq0 + k)
        host = t[-1] + delay + rng.uniform(0, 0.015)
        out.append((int(host * 1e9), payload, i))
    return p, out


def _check_spacing(t):
    """Increasing; early on the clock fit may slew (>= half a period); then the nominal period."""
    d = np.diff(t)
    assert np.all(d >= 0.5 / FS - 1e-9)
    settled = t[1:] > t[0] + 1.0
    # the envelope fit is piecewise: steps of a fraction of a millisecond at refits
    np.testing.assert_allclose(d[settled], 1 / FS, atol=1e-3)
    assert np.median(d[settled]) == pytest.approx(1 / FS, rel=1e-3)


def _run(p, packets, order=None, sensor="shoe_left", fs=FS):
    acq = Acquisition({sensor: p}, {sensor: fs}, origin_ns=0)
    out = []
    for j in order if order is not None else range(len(packets)):
        host, payload, _ = packets[j]
        out += acq.feed(host, sensor, payload)
    out += acq.flush()
    return (
        acq,
        [b for b in out if isinstance(b, SampleBlock)],
        [g for g in out if isinstance(g, Gap)],
    )


def test_sequence_and_timestamp_wrap_around():
    # u16 packet counter wraps after 65535; u32 microsecond timestamp wraps at 4294.967296 s
    p, pk = _packets(n=60, t0_dev=4294.967296 - 0.3, seq0=65536 - 20)
    acq, blocks, gaps = _run(p, pk)
    assert not gaps
    assert acq.stats["shoe_left"].samples == 60 * SPP
    t = np.concatenate([b.t_session for b in blocks])
    _check_spacing(t)


def test_reordered_packets_come_out_in_order():
    p, pk = _packets(n=30)
    order = list(range(30))
    order[10], order[11] = order[11], order[10]
    order[20], order[21] = order[21], order[20]
    acq, blocks, gaps = _run(p, pk, order)
    assert not gaps
    seqs = [b.seq for b in blocks]
    assert seqs == sorted(seqs) and len(seqs) == 30
    assert acq.stats["shoe_left"].reordered == 2


@pytest.mark.parametrize(("name", "fs"), [("imustream-open", 100.0), ("movesense-imu6", 104.0)])
def test_duplicate_dropped_and_counted(name, fs):
    """By sequence counter (imustream-open) or by device time alone (movesense-imu6)."""
    p, pk = _packets(name, n=20, fs=fs)
    acq, blocks, gaps = _run(p, pk, [*range(10), 9, *range(10, 20)], fs=fs)
    assert len(blocks) == 20 and not gaps
    assert acq.stats["shoe_left"].duplicates == 1


def test_loss_becomes_a_gap_with_the_missing_sample_count():
    p, pk = _packets(n=30)
    order = [k for k in range(30) if k not in (7, 8, 20)]
    acq, blocks, gaps = _run(p, pk, order)
    assert [(g.n_missing, g.reason) for g in gaps] == [(2 * SPP, "loss"), (SPP, "loss")]
    after = [b for b in blocks if b.flags & BlockFlags.AFTER_GAP]
    assert [b.seq for b in after] == [9, 21]
    assert gaps[0].start < gaps[0].end
    assert acq.stats["shoe_left"].missing_samples == 3 * SPP


def test_packet_after_its_gap_was_reported_is_counted_late():
    p, pk = _packets(n=60)
    # packet 5 arrives 40 packets late: long after the reorder hold
    order = [k for k in range(60) if k != 5]
    order.insert(45, 5)
    acq, blocks, gaps = _run(p, pk, order)
    st = acq.stats["shoe_left"]
    assert st.late == 1 and len(gaps) == 1 and gaps[0].n_missing == SPP
    assert len(blocks) == 59


def test_device_time_from_profile_without_timestamps_is_counted_at_nominal_rate():
    p, pk = _packets("witmotion-bwt901", n=200, drift_ppm=0.0)
    _, blocks, _ = _run(p, pk, sensor="pelvis")
    assert all(b.flags & BlockFlags.TIME_FROM_RATE for b in blocks)
    t = np.concatenate([b.t_session for b in blocks])
    _check_spacing(t)
    # mapped to arrival times minus the one-sided delay (10-25 ms): within a sample period
    true = np.arange(len(t)) / FS
    assert np.all(np.abs(t - true - 0.010) < 0.016)


def test_decode_errors_are_counted_not_fatal():
    p, pk = _packets(n=5)
    acq = Acquisition({"shoe_left": p}, origin_ns=0)
    assert acq.feed(pk[0][0], "shoe_left", b"\x01\x02") == []
    st = acq.stats["shoe_left"]
    assert st.decode_errors == 1 and "decode error" in st.messages[0]
    assert acq.feed(pk[1][0], "shoe_left", pk[1][1])
    with pytest.raises(KeyError, match="no sensor 'pelvis'"):
        acq.feed(0, "pelvis", pk[0][1])


def test_reconnect_starts_a_segment_and_counts_the_disconnect_gap():
    p, pk = _packets(n=100)
    acq = Acquisition({"shoe_left": p}, {"shoe_left": FS}, origin_ns=0)
    out = []
    for host, payload, _ in pk[:40]:
        out += acq.feed(host, "shoe_left", payload)
    out += acq.handle(StateChange("shoe_left", LinkState.LOST, pk[40][0]))
    out += acq.handle(
        StateChange("shoe_left", LinkState.STREAMING, pk[70][0], "", {"connection": 2})
    )
    for host, payload, _ in pk[70:]:
        out += acq.feed(host, "shoe_left", payload)
    out += acq.flush()
    gaps = [g for g in out if isinstance(g, Gap)]
    assert [(g.reason, g.n_missing) for g in gaps] == [("disconnect", 30 * SPP)]
    first_new = next(b for b in out if isinstance(b, SampleBlock) and b.seq == 70)
    assert first_new.flags & BlockFlags.NEW_SEGMENT
    assert acq.stats["shoe_left"].reconnects == 1


def test_session_time_never_runs_backwards():
    """Early packets arrive late (a backlog after connecting): the first mapping is too late,
    later ones correct it by slewing, and time keeps increasing."""
    p, pk = _packets(n=80)
    for k in range(20):  # 0.3 s extra delay shrinking to 0 over the first 20 packets
        host, payload, i = pk[k]
        pk[k] = (host + int(0.3e9 * (1 - k / 20)), payload, i)
    acq, blocks, _ = _run(p, pk)
    t = np.concatenate([b.t_session for b in blocks])
    assert np.all(np.diff(t) > 0)
    assert acq.stats["shoe_left"].clock_slews > 0
    true = np.arange(len(t)) / FS
    assert t[0] - true[0] > 0.25  # started too late
    assert abs(t[-1] - true[-1] - 0.01) < 0.016  # converged to the lower envelope again


@settings(max_examples=30, deadline=None)
@given(
    data=st.data(), which=st.sampled_from([("imustream-open", 100.0), ("movesense-imu6", 104.0)])
)
def test_random_link_faults_never_duplicate_or_hide_samples(data, which):
    """Property: whatever the loss/reorder/duplicate pattern, each delivered sample comes out
    once, in order, and the gaps count exactly the samples not delivered in between (packets
    identified by sequence counter, or by device time alone for Movesense)."""
    name, fs = which
    n = data.draw(st.integers(10, 60), label="packets")
    p, pk = _packets(name, n=n, fs=fs)
    order = list(range(n))
    lost = set(data.draw(st.lists(st.integers(1, n - 2), max_size=n // 4), label="lost"))
    order = [k for k in order if k not in lost]
    for _ in range(data.draw(st.integers(0, 5), label="swaps")):
        i = data.draw(st.integers(0, len(order) - 2))
        order[i], order[i + 1] = order[i + 1], order[i]
    for _ in range(data.draw(st.integers(0, 3), label="dups")):
        i = data.draw(st.integers(0, len(order) - 1))
        order.insert(i + 1, order[i])
    # arrival times follow the arrival order (10 ms apart)
    arrivals = [(int((0.05 + 0.01 * j) * 1e9), pk[k][1], pk[k][2]) for j, k in enumerate(order)]
    acq, blocks, gaps = _run(p, arrivals, fs=fs)
    ids = [round(float(b.t_device[0]) * fs / SPP) for b in blocks]  # packet index
    assert ids == sorted(set(ids))  # once each, in order
    assert set(ids) <= set(order)
    st_ = acq.stats["shoe_left"]
    span = (ids[-1] - ids[0] + 1) * SPP
    assert sum(g.n_missing for g in gaps) == span - len(ids) * SPP == st_.missing_samples
    t = np.concatenate([b.t_session for b in blocks])
    assert np.all(np.diff(t) > 0)
