"""Notifications a device splits over two packets (Movesense DATA + DATA_PART2, made by the
simulator's encoder) through stream.Acquisition and the converter: every sample exactly once,
a broken fragment is a counted decode error and a gap, never lost good data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import imustream.profiles as profiles
from imustream.io.convert import convert
from imustream.io.recorder import Recorder
from imustream.io.replay import ReplaySource
from imustream.io.session import open_session
from imustream.sim.encoders import PacketEncoder
from imustream.stream.acquisition import Acquisition
from imustream.types import Gap, LinkState, SampleBlock, StateChange

RATE = 208.0
SPP = 16  # what the device sends at 208 Hz: round(208 / 13) samples = 390 bytes, > 244
SENSOR = "shoe_left"
PERIOD_NS = int(SPP / RATE * 1e9)


def _profile():
    return profiles.get("movesense-imu6").with_options(rate=RATE)


def _notifications(n: int, spp: int = SPP, seed: int = 0):
    """Per device notification: its packets (1 or 2) and the samples (acc, gyr) it carries."""
    enc = PacketEncoder(_profile(), rate=RATE, samples_per_packet=spp)
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        acc, gyr = rng.normal(0, 20, (spp, 3)), rng.normal(0, 3, (spp, 3))
        packets = enc.encode_all(acc, gyr, 10.0 + k * spp / RATE, None)
        out.append((packets, acc, gyr))
    return out


def _streaming(mtu: int | None) -> StateChange:
    extra = {"connection": 1} | ({"mtu": mtu} if mtu is not None else {})
    return StateChange(SENSOR, LinkState.STREAMING, 0, "connection 1", extra)


def _run(acq: Acquisition, notes, drop=lambda k, j: False, mangle=lambda k, j, b: b):
    """Feed the packets (host time: the device's send time + 8 ms), return blocks, gaps and
    the outputs of each feed call."""
    per_feed = []
    for k, (packets, *_) in enumerate(notes):
        for j, pk in enumerate(packets):
            if not drop(k, j):
                per_feed.append(acq.feed(8_000_000 + (k + 1) * PERIOD_NS, SENSOR, mangle(k, j, pk)))
    out = [x for o in per_feed for x in o] + acq.flush()
    blocks = [b for b in out if isinstance(b, SampleBlock)]
    return blocks, [g for g in out if isinstance(g, Gap)], per_feed


@pytest.mark.parametrize("mtu", [247, None])
def test_split_notifications_give_every_sample_exactly_once(mtu):
    notes = _notifications(40)
    assert all(len(pk) == 2 and len(pk[0]) == 244 and pk[1][0] == 0x03 for pk, *_ in notes)
    acq = Acquisition({SENSOR: _profile()}, {SENSOR: RATE}, origin_ns=0)
    acq.on_state(_streaming(mtu))
    blocks, gaps, per_feed = _run(acq, notes)
    st = acq.stats[SENSOR]
    assert not gaps and st.decode_errors == 0 and st.packets == 40 and st.samples == 40 * SPP
    np.testing.assert_allclose(
        np.concatenate([b.acc for b in blocks]), np.vstack([a for _, a, _ in notes]), rtol=1e-6
    )
    np.testing.assert_allclose(
        np.concatenate([b.gyr for b in blocks]),
        np.vstack([g for *_, g in notes]),
        rtol=1e-6,
        atol=1e-9,
    )
    t_dev = np.concatenate([b.t_device for b in blocks])
    np.testing.assert_allclose(np.diff(t_dev), 1 / RATE, atol=1.1e-3)  # ms timestamps
    assert np.all(np.diff(np.concatenate([b.t_session for b in blocks])) > 0)
    # each notification is released when its continuation arrives, stamped with the arrival
    # of its first part
    assert [len(o) for o in per_feed] == [0, 1] * 40
    assert [b.host_ns for b in blocks] == [8_000_000 + (k + 1) * PERIOD_NS for k in range(40)]


def test_short_complete_notifications_pass_at_once_when_the_mtu_is_known():
    # 4 samples (102 bytes) per notification, as the simulator sends: complete packets
    notes = _notifications(30, spp=4)
    for mtu, lag in ((247, 0), (None, 1)):
        acq = Acquisition({SENSOR: _profile()}, {SENSOR: RATE}, origin_ns=0)
        acq.on_state(_streaming(mtu))
        blocks, gaps, per_feed = _run(acq, notes)
        assert not gaps and acq.stats[SENSOR].samples == 30 * 4
        np.testing.assert_allclose(
            np.concatenate([b.acc for b in blocks]), np.vstack([a for _, a, _ in notes]), rtol=1e-6
        )
        # without the MTU a short DATA packet may be a first part: it waits for the next one
        assert [len(o) for o in per_feed] == [1 - lag] * lag + [1] * (30 - lag)


@pytest.mark.parametrize("mtu", [247, None])
def test_broken_fragments_are_decode_errors_and_gaps_and_keep_the_good_data(mtu):
    notes = _notifications(40, seed=3)
    lost_cont, lost_first, short_cont, garbage_first = 10, 20, 30, 35

    def drop(k, j):
        return (k, j) in ((lost_cont, 1), (lost_first, 0))

    def mangle(k, j, b):
        if (k, j) == (short_cont, 1):
            return b[:-5]  # a continuation that does not complete the notification
        if (k, j) == (garbage_first, 0):
            return b[:1] + b"\x00" + b[2:]  # a damaged header (reference byte)
        return b

    acq = Acquisition({SENSOR: _profile()}, {SENSOR: RATE}, origin_ns=0)
    acq.on_state(_streaming(mtu))
    blocks, gaps, _ = _run(acq, notes, drop, mangle)
    st = acq.stats[SENSOR]
    bad = [lost_cont, lost_first, short_cont, garbage_first]
    good = [k for k in range(40) if k not in bad]
    # a lone first part, an orphan continuation, two unjoinable parts, a damaged header
    assert st.decode_errors == 5 and st.packets == len(good)
    assert any("decode error" in m for m in st.messages)
    assert st.samples == len(good) * SPP
    got = np.concatenate([b.acc for b in blocks])
    np.testing.assert_allclose(got, np.vstack([notes[k][1] for k in good]), rtol=1e-6)
    # one gap per broken notification, exactly over its samples
    assert [(g.reason, g.n_missing) for g in gaps] == [("loss", SPP)] * 4
    t_dev = {id(b): b.t_device for b in blocks}
    starts = [10.0 + k * SPP / RATE for k in bad]
    for g, t0 in zip(gaps, starts, strict=True):
        before = [b for b in blocks if b.t_session[-1] <= g.start]
        after = [b for b in blocks if b.t_session[0] >= g.end]
        assert len(before) + len(after) == len(blocks)
        assert t_dev[id(before[-1])][-1] == pytest.approx(t0 - 1 / RATE, abs=1.1e-3)
        assert t_dev[id(after[0])][0] == pytest.approx(t0 + SPP / RATE, abs=1.1e-3)


def test_a_first_part_waiting_when_the_link_drops_is_decoded_not_lost():
    # with no MTU a short complete notification waits for the next packet; the link drops
    notes = _notifications(3, spp=4)
    acq = Acquisition({SENSOR: _profile()}, {SENSOR: RATE}, origin_ns=0)
    acq.on_state(_streaming(None))
    out = []
    for k, (packets, *_) in enumerate(notes):
        out += acq.feed((k + 1) * PERIOD_NS, SENSOR, packets[0])
    out += acq.on_state(StateChange(SENSOR, LinkState.LOST, 4 * PERIOD_NS, "gone"))
    assert sum(b.n for b in out if isinstance(b, SampleBlock)) == 12
    assert acq.stats[SENSOR].decode_errors == 0


def _record(path, notes, mtu, drop=lambda k, j: False):
    header = {
        "session_id": "fragments",
        "t0_ns": 0,
        "sensors": [SENSOR],
        "sensor_info": {SENSOR: {"profile": "movesense-imu6", "rate": RATE}},
    }
    rec = Recorder(path, header).start()
    rec.record(
        StateChange(SENSOR, LinkState.STREAMING, 1, "connection 1", {"mtu": mtu, "connection": 1})
    )
    n = 0
    for k, (packets, *_) in enumerate(notes):
        for j, pk in enumerate(packets):
            if not drop(k, j):
                rec.notify(8_000_000 + (k + 1) * PERIOD_NS, SENSOR, pk)
                n += 1
    rec.stop()
    return n


def test_converter_keeps_every_sample_and_marks_both_parts_used(tmp_path):
    notes = _notifications(50, seed=5)
    n_raw = _record(tmp_path / "m.imulog", notes, 247, drop=lambda k, j: (k, j) == (25, 1))
    res = convert(tmp_path / "m.imulog")
    with open_session(res.h5_path) as s:
        d = s.sensors[SENSOR]
        assert d.n_notifications == n_raw == 99
        assert d.n == 49 * SPP
        ok = np.asarray(d.raw_decode_ok).astype(bool)
        # every part is used except the first part whose continuation was lost
        assert np.flatnonzero(~ok).tolist() == [50]
        want = np.vstack([notes[k][1] for k in range(50) if k != 25])
        np.testing.assert_allclose(np.asarray(d.acc), want, rtol=1e-6)
        recorded = np.asarray(d.t_session)
    # replay (analyze, live --replay) sees the link's MTU and gives the same samples
    src = ReplaySource(res.h5_path)
    assert any(c.extra.get("mtu") == 247 for c in src.items() if isinstance(c, StateChange))
    from imustream.cli._offline import build_acquisition

    acq, _ = build_acquisition(src.header)
    out = [b for item in src.items() for b in acq.handle(item)] + acq.flush()
    replayed = np.concatenate([b.t_session for b in out if isinstance(b, SampleBlock)])
    np.testing.assert_array_equal(replayed, recorded)


@settings(max_examples=60, deadline=None)
@example(fates=["lose2", "lose1"], mtu=247)
@example(fates=["lose2", "lose", "lose1"], mtu=None)
@given(
    fates=st.lists(st.sampled_from(["ok", "ok", "ok", "lose1", "lose2", "lose"]), max_size=24),
    mtu=st.sampled_from([247, None]),
)
def test_any_pattern_of_lost_parts_loses_only_those_notifications(fates, mtu):
    """Lost first parts, lost continuations, whole notifications lost: the complete ones come
    out exactly once, each broken one is a gap of its samples (when data follows it), every
    lone part is one counted decode error. This includes a lost continuation followed by a
    lost first part, whose halves match by content but arrive a notification period apart."""
    fates = ["ok", *fates, "ok"]  # data before and after: every hole is bounded
    notes = _notifications(len(fates), seed=len(fates))
    acq = Acquisition({SENSOR: _profile()}, {SENSOR: RATE}, origin_ns=0)
    acq.on_state(_streaming(mtu))

    def drop(k, j):
        return fates[k] == "lose" or (fates[k], j) in (("lose1", 0), ("lose2", 1))

    blocks, gaps, _ = _run(acq, notes, drop)
    good = [k for k, f in enumerate(fates) if f == "ok"]
    st_ = acq.stats[SENSOR]
    assert st_.samples == SPP * len(good)
    got = np.concatenate([b.acc for b in blocks])
    np.testing.assert_allclose(got, np.vstack([notes[k][1] for k in good]), rtol=1e-6)
    assert st_.decode_errors == sum(f in ("lose1", "lose2") for f in fates)
    assert sum(g.n_missing for g in gaps) == SPP * (len(fates) - len(good))


def test_parts_arriving_a_notification_period_apart_are_not_joined():
    """The content-identical mix-up: the first part of one notification and the continuation
    of the next (both other halves lost) arrive one notification period (77 ms) apart."""
    (a, *_), (b, *_) = _notifications(2, seed=9)
    asm = _profile().assembler(mtu=247)
    assert asm.max_part_gap_ns == round(0.5e9 / 13)
    assert asm.push(a[0], 1_000_000_000) == []
    assert asm.push(b[1], 1_000_000_000 + PERIOD_NS) == [a[0], b[1]]  # both fail to decode
    assert asm.push(a[0], 2_000_000_000) == []
    assert asm.push(a[1], 2_000_000_000 + 15_000_000) == [a[0] + a[1][2:]]  # one CE later
    assert asm.push(a[0]) == [] and asm.push(b[1]) == [a[0] + b[1][2:]]  # no times: joined
