"""Round trip device -> recorder -> log -> HDF5 -> open_session, sample for sample."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from test_io_codec import TestCodec, header_for, synth_stream

from imustream import open_session
from imustream.errors import RecordingError
from imustream.io.convert import convert
from imustream.io.diskguard import DiskGuard
from imustream.io.logreader import read_log
from imustream.io.recorder import Recorder
from imustream.types import Alert, Gap, InitialContact, LinkState, Marker, StateChange, Step, ToeOff

RATE = 200.0


def _record(path, notes, truth, **kw) -> Recorder:
    rec = Recorder(path, header_for(truth, RATE, subject="S01"), **kw).start()
    for n in notes:
        rec.notify(*n)
    return rec


def _decoders(truth):
    c = TestCodec(RATE)
    return {s: c.decode for s in truth}


@pytest.fixture(scope="module")
def lossy(tmp_path_factory):
    d = tmp_path_factory.mktemp("lossy")
    notes, truth = synth_stream(duration=8.0, rate=RATE, per_packet=4, loss=0.05, seed=7)
    rec = _record(d / "s.imulog", notes, truth)
    rec.record(Marker(2.0, "pain", 4.0, "left knee"))
    rec.record(Marker(3.0, "changed shoes"))
    rec.record(InitialContact("shoe_left", "left", 1.25, 1.3, 0.9))
    rec.record(ToeOff("shoe_left", "left", 1.5, 1.6))
    rec.record(Step("left", 1.25, 1.5, 0.25, 0.1, 0.35, 171.4, 80.0, 5.5))
    rec.record(Alert(4.0, "contact_time", "right", True, 6.2, 5.0, "GCT asymmetry"))
    rec.record(StateChange("pelvis", LinkState.STREAMING, 10**12 + 5 * 10**8, "connected"))
    stats = rec.stop()
    res = convert(d / "s.imulog", decoders=_decoders(truth))
    return res, truth, notes, stats


def test_samples_equal_what_the_devices_sent(lossy):
    res, truth, _, stats = lossy
    assert stats.dropped == {} and res.complete and res.log_removed
    assert not res.log_path.exists()
    with open_session(res.h5_path) as s:
        assert s.complete and not s.recovered and s.attrs["subject"] == "S01"
        for name, tr in truth.items():
            k = tr["per_packet"]
            kept = np.repeat(tr["arrived"], k)
            d = s.sensors[name]
            assert d.n == kept.sum()
            np.testing.assert_array_equal(d.acc, tr["acc"][kept])
            np.testing.assert_array_equal(d.gyr, tr["gyr"][kept])
            # session time: device clock mapped to host time within the 7.5 ms link latency
            err = d.t_session - (tr["t"][kept] + 0.0075)
            assert np.abs(err).max() < 0.002
            assert np.all(np.diff(d.t_session) > 0)


def test_raw_bytes_are_kept_exactly(lossy):
    res, truth, notes, _ = lossy
    with open_session(res.h5_path) as s:
        for name, tr in truth.items():
            sent = [p for p, a in zip(tr["payloads"], tr["arrived"], strict=True) if a]
            d = s.sensors[name]
            assert [d.payload(i) for i in range(d.n_notifications)] == sent
            host = [h for h, sn, _ in notes if sn == name]
            np.testing.assert_array_equal(d.raw_host_ns, host)
            assert (d.raw_decode_ok == 1).all()
            # notification order survives the merge used by replay
        assert list(s.notifications()) == notes


def test_gaps_exactly_where_the_link_lost_data(lossy):
    res, truth, _, _ = lossy
    with open_session(res.h5_path) as s:
        g = s.gaps
        for name, tr in truth.items():
            k = tr["per_packet"]
            arrived = tr["arrived"]
            # expected gaps: runs of lost packets
            exp = []
            p = 0
            while p < arrived.size:
                if not arrived[p]:
                    q = p
                    while not arrived[q]:
                        q += 1
                    exp.append((p, q))  # packets p..q-1 lost
                    p = q
                p += 1
            sel = g["sensor"] == name
            assert sel.sum() == len(exp)
            assert list(g["n_missing"][sel]) == [(q - p) * k for p, q in exp]
            t = tr["t"] + 0.0075
            np.testing.assert_allclose(g["start"][sel], [t[p * k - 1] for p, _ in exp], atol=2e-3)
            np.testing.assert_allclose(g["end"][sel], [t[q * k] for _, q in exp], atol=2e-3)
            assert set(g["reason"][sel]) <= {"loss"}


def test_tables_round_trip(lossy):
    res, *_ = lossy
    with open_session(res.h5_path) as s:
        m = s.markers
        assert list(m["kind"]) == ["pain", "changed shoes"]
        assert m["value"][0] == 4.0 and np.isnan(m["value"][1]) and m["text"][0] == "left knee"
        e = s.events
        assert list(e["kind"]) == ["ic", "to"] and list(e["side"]) == ["left", "left"]
        st = s.steps
        assert st["side"][0] == "left" and st["pelvic_drop_deg"][0] == 5.5
        assert st["has_gap"][0] == 0
        a = s.alerts
        assert a["active"][0] == 1 and a["metric"][0] == "contact_time"
        assert s.states["state"][0] == "streaming"
        assert s.states["time"][0] == pytest.approx(0.5)


def test_plain_h5py_reads_it_with_checksums(lossy):
    res, *_ = lossy
    with h5py.File(res.h5_path, "r") as f:
        acc = f["sensors/pelvis/acc"]
        assert acc.fletcher32 and acc.dtype == np.float64 and acc.shape[1] == 3
        assert f.attrs["schema"] == "imustream.session"
        assert f["sensors/pelvis/raw/payload"].fletcher32


def test_explicit_gap_records_take_precedence(tmp_path):
    notes, truth = synth_stream(sensors=("pelvis",), duration=2.0, loss=0.0, seed=1)
    rec = _record(tmp_path / "g.imulog", notes, truth)
    rec.record(Gap("pelvis", 0.5, 0.9, 80, "disconnect"))
    rec.stop()
    res = convert(tmp_path / "g.imulog", decoders=_decoders(truth))
    with open_session(res.h5_path) as s:
        assert list(s.gaps["reason"]) == ["disconnect"] and list(s.gaps["source"]) == ["live"]


def test_unknown_profile_keeps_raw_bytes(tmp_path):
    notes, truth = synth_stream(sensors=("pelvis",), duration=1.0, seed=2)
    _record(tmp_path / "u.imulog", notes, truth).stop()
    res = convert(tmp_path / "u.imulog")  # "test-codec" is no firmware profile
    assert res.warnings and "not decoded" in res.warnings[0]
    with open_session(res.h5_path) as s:
        d = s.sensors["pelvis"]
        assert not d.decoded and d.n == 0 and d.n_notifications == len(notes)
        assert "test-codec" in d.decode_problem
        assert d.payload(3) == notes[3][2]


def test_malformed_notifications_are_flagged_not_fatal(tmp_path):
    notes, truth = synth_stream(sensors=("pelvis",), duration=1.0, seed=3)
    notes.insert(10, (notes[10][0], "pelvis", b"\x00garbage"))
    _record(tmp_path / "m.imulog", notes, truth).stop()
    res = convert(tmp_path / "m.imulog", decoders=_decoders(truth))
    assert any("1 notifications not decoded" in w for w in res.warnings)
    with open_session(res.h5_path) as s:
        d = s.sensors["pelvis"]
        assert d.raw_decode_ok.sum() == len(notes) - 1 and d.raw_decode_ok[10] == 0
        assert d.payload(10) == b"\x00garbage"
        assert d.n == 4 * (len(notes) - 1)


def test_refuses_to_overwrite_and_keeps_log(tmp_path):
    notes, truth = synth_stream(sensors=("pelvis",), duration=0.5, seed=4)
    _record(tmp_path / "o.imulog", notes, truth).stop()
    (tmp_path / "o.h5").write_bytes(b"existing")
    with pytest.raises(RecordingError, match="refusing to overwrite"):
        convert(tmp_path / "o.imulog", decoders=_decoders(truth))
    assert (tmp_path / "o.imulog").exists() and (tmp_path / "o.h5").read_bytes() == b"existing"
    res = convert(tmp_path / "o.imulog", tmp_path / "o2.h5", remove_log=False)
    assert res.h5_path.exists() and (tmp_path / "o.imulog").exists()


def test_queue_overflow_is_counted_and_becomes_a_gap(tmp_path):
    notes, truth = synth_stream(sensors=("pelvis",), duration=5.0, seed=5)
    rec = Recorder(tmp_path / "q.imulog", header_for(truth), queue_size=50, batch_interval=10.0)
    rec.start()
    accepted = [rec.notify(*n) for n in notes]  # the thread sleeps: the queue fills up
    stats = rec.stop()
    n_drop = accepted.count(False)
    assert n_drop > 0 and stats.dropped == {"pelvis": n_drop}
    assert stats.notifications == len(notes) - n_drop
    res = convert(tmp_path / "q.imulog", decoders=_decoders(truth))
    with open_session(res.h5_path) as s:
        assert "overflow" in set(s.gaps["reason"])
        assert s.gaps["n_missing"][s.gaps["reason"] == "overflow"].sum() == 4 * n_drop
        assert s.attrs["end_reason"] == "stopped"


def test_disk_guard_stops_recording_cleanly(tmp_path):
    free = iter([10**9] + [10**9] * 2 + [10**3] * 100)
    guard = DiskGuard(tmp_path, headroom=10**6, free=lambda _d: next(free))
    notes, truth = synth_stream(sensors=("pelvis",), duration=60.0, seed=6)
    rec = Recorder(tmp_path / "d.imulog", header_for(truth), disk_guard=guard, batch_interval=0.01)
    rec.start()
    import time

    sent = 0
    deadline = time.monotonic() + 10
    while rec.running and time.monotonic() < deadline:
        for n in notes[sent : sent + 20]:
            rec.notify(*n)
        sent += 20
        time.sleep(0.005)
    stats = rec.stop()
    assert rec.error is not None and "low disk space" in str(rec.error)
    assert stats.stop_reason == "low_disk_space"
    c = read_log(tmp_path / "d.imulog")
    assert c.end["reason"] == "low_disk_space" and "low disk space" in c.end["message"]
    assert c.streams["pelvis"].n == stats.notifications > 0
    assert [c.streams["pelvis"].payload(i) for i in range(3)] == [n[2] for n in notes[:3]]


def test_guard_refuses_to_start_without_room(tmp_path):
    guard = DiskGuard(tmp_path, headroom=10**6, free=lambda _d: 10)
    with pytest.raises(RecordingError, match="low disk space"):
        Recorder(tmp_path / "x.imulog", {"sensors": ["pelvis"]}, disk_guard=guard)
    assert not (tmp_path / "x.imulog").exists()


def test_recover_removes_a_leftover_log_and_stale_tmp(tmp_path):
    from imustream.io.recover import recover

    notes, truth = synth_stream(sensors=("pelvis",), duration=0.5, seed=8)
    _record(tmp_path / "l.imulog", notes, truth).stop()
    convert(tmp_path / "l.imulog", decoders=_decoders(truth), remove_log=False)
    (tmp_path / "l.h5.tmp").write_bytes(b"half-written")  # a conversion killed before
    out = recover(tmp_path)
    assert [o.action for o in out] == ["removed_leftover"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["l.h5"]


def test_recover_skips_a_log_being_recorded(tmp_path):
    from imustream.io.recover import recover

    rec = Recorder(tmp_path / "live.imulog", {"sensors": ["pelvis"]}).start()
    try:
        assert [o.action for o in recover(tmp_path)] == ["in_use"]
        assert (tmp_path / "live.imulog").exists()
    finally:
        rec.stop()


def test_a_stalled_disk_never_blocks_notify(tmp_path, monkeypatch):
    """While the recorder thread is stuck in a slow write, notify() returns at once."""
    import time

    import imustream.io.logwriter as lw

    notes, truth = synth_stream(sensors=("pelvis",), duration=5.0, seed=9)
    rec = Recorder(tmp_path / "slow.imulog", header_for(truth), batch_interval=0.01).start()
    real_write = lw.os.write

    def slow_write(fd, data):
        time.sleep(0.3)  # a disk that stalls for 300 ms on every write
        return real_write(fd, data)

    monkeypatch.setattr(lw.os, "write", slow_write)
    worst = 0.0
    for n in notes:
        t = time.perf_counter()
        assert rec.notify(*n)
        worst = max(worst, time.perf_counter() - t)
    monkeypatch.undo()
    rec.stop()
    assert worst < 0.05  # never waits for the disk (a write takes 300 ms)
    res = convert(tmp_path / "slow.imulog", decoders=_decoders(truth))
    with open_session(res.h5_path) as s:
        assert s.sensors["pelvis"].n_notifications == len(notes)
