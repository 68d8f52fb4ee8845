"""Session log: framing, torn tails, damaged records, clear errors, fuzzed recovery."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imustream.errors import RecordingError
from imustream.io.logformat import FILE_MAGIC, Kind
from imustream.io.logreader import read_log
from imustream.io.logwriter import LogWriteError, SessionLogWriter
from imustream.io.recover import log_in_use

SENSORS = ["pelvis", "shoe_left", "shoe_right"]


def _notes(rng: np.random.Generator, n: int) -> list[tuple[int, str, bytes]]:
    return [
        (
            int(1000 + i * 1_000_000 + rng.integers(0, 1000)),
            SENSORS[int(rng.integers(0, 3))],
            rng.bytes(int(rng.integers(1, 40))),
        )
        for i in range(n)
    ]


def _write(path, notes, batch=7, end=True, markers=()) -> SessionLogWriter:
    w = SessionLogWriter(path, {"sensors": SENSORS, "t0_ns": 0})
    for i in range(0, len(notes), batch):
        chunk = notes[i : i + batch]
        w.write_notifications([c[1] for c in chunk], [c[0] for c in chunk], [c[2] for c in chunk])
    for m in markers:
        w.write_json(Kind.MARKER, m)
    w.close({"reason": "stopped"} if end else None)
    return w


def _as_list(contents) -> dict[str, list[tuple[int, bytes]]]:
    return {
        s: [(int(r.host_ns[i]), r.payload(i)) for i in range(r.n)]
        for s, r in contents.streams.items()
    }


def _by_sensor(notes) -> dict[str, list[tuple[int, bytes]]]:
    out = {s: [] for s in SENSORS}
    for h, s, p in notes:
        out[s].append((h, p))
    return out


def test_round_trip(tmp_path):
    notes = _notes(np.random.default_rng(1), 200)
    _write(tmp_path / "a.imulog", notes, markers=[{"time": 1.5, "kind": "pain", "value": 3}])
    c = read_log(tmp_path / "a.imulog")
    assert c.complete and c.end == {"reason": "stopped"}
    assert _as_list(c) == _by_sensor(notes)
    assert c.records["marker"] == [{"time": 1.5, "kind": "pain", "value": 3}]


def test_every_truncation_keeps_exactly_the_complete_records(tmp_path):
    notes = _notes(np.random.default_rng(2), 40)
    w = _write(tmp_path / "a.imulog", notes, batch=5, end=False)
    data = (tmp_path / "a.imulog").read_bytes()
    assert len(data) == w.bytes_written
    header_end = None
    for cut in range(len(FILE_MAGIC), len(data) + 1):
        p = tmp_path / f"cut{cut}.imulog"
        p.write_bytes(data[:cut])
        try:
            c = read_log(p)
        except RecordingError as exc:
            assert "header" in str(exc)
            assert header_end is None  # only cuts inside the header may fail
            continue
        header_end = header_end or cut
        got = [(h, s, pl) for s, v in _as_list(c).items() for h, pl in v]
        # a prefix of whole batches, never a partial one, never anything unwritten
        n = len(got)
        assert n % 5 == 0 or n == len(notes)
        assert sorted(got) == sorted(notes[:n])
        os.unlink(p)


def test_damaged_record_in_the_middle_is_skipped(tmp_path):
    notes = _notes(np.random.default_rng(3), 50)
    _write(tmp_path / "a.imulog", notes, batch=10)
    data = bytearray((tmp_path / "a.imulog").read_bytes())
    # flip a byte in the middle of the file: inside one data record
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "b.imulog").write_bytes(bytes(data))
    c = read_log(tmp_path / "b.imulog")
    assert not c.complete and c.damage and c.missing_records == 1
    got = sorted((h, s, p) for s, v in _as_list(c).items() for h, p in v)
    assert len(got) == 40 and set(got) <= set(notes)
    assert c.end == {"reason": "stopped"}  # records after the damage are still read


@pytest.mark.parametrize(
    "content, words",
    [
        (b"", "bad file magic"),
        (b"GARBAGE" * 10, "bad file magic"),
        (FILE_MAGIC + b"\x00" * 30, "header"),
    ],
)
def test_unreadable_logs_give_clear_errors(tmp_path, content, words):
    p = tmp_path / "x.imulog"
    p.write_bytes(content)
    with pytest.raises(RecordingError, match=words):
        read_log(p)


def test_missing_log(tmp_path):
    with pytest.raises(RecordingError, match="cannot read"):
        read_log(tmp_path / "nope.imulog")


def test_writer_never_overwrites(tmp_path):
    p = tmp_path / "a.imulog"
    p.write_bytes(b"precious")
    with pytest.raises(RecordingError, match="already exists"):
        SessionLogWriter(p, {"sensors": SENSORS})
    assert p.read_bytes() == b"precious"


def test_writer_rejects_unknown_sensor_and_bad_header(tmp_path):
    with pytest.raises(RecordingError, match="sensors"):
        SessionLogWriter(tmp_path / "a.imulog", {"sensors": []})
    w = SessionLogWriter(tmp_path / "b.imulog", {"sensors": SENSORS})
    with pytest.raises(RecordingError, match="not in the log header"):
        w.write_notifications(["knee"], [1], [b"x"])
    w.close({})


def test_lock_marks_a_live_log(tmp_path):
    w = SessionLogWriter(tmp_path / "a.imulog", {"sensors": SENSORS})
    assert log_in_use(tmp_path / "a.imulog")
    w.close({})
    assert not log_in_use(tmp_path / "a.imulog")


def test_write_error_truncates_to_last_complete_record(tmp_path, monkeypatch):
    import errno

    import imustream.io.logwriter as lw

    w = SessionLogWriter(tmp_path / "a.imulog", {"sensors": SENSORS})
    w.write_notifications(["pelvis"], [5], [b"abc"])
    good = w.bytes_written
    real_write = os.write

    def half_then_full(fd, data):  # a partial write, then ENOSPC: what a full disk does
        if len(data) > 8:
            real_write(fd, bytes(data[:8]))
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(lw.os, "write", half_then_full)
    with pytest.raises(LogWriteError, match="disk full") as info:
        w.write_notifications(["pelvis"], [6], [b"defgh"])
    assert info.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert os.path.getsize(tmp_path / "a.imulog") == good
    w.close({"reason": "x"})  # no END after a failure
    c = read_log(tmp_path / "a.imulog")
    assert c.end is None and not c.damage
    assert c.streams["pelvis"].payload(0) == b"abc" and c.streams["pelvis"].n == 1


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 60),
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(1, 255)), max_size=4),
)
def test_fuzz_recovery_never_invents_data(tmp_path, seed, n, cut, flips):
    notes = _notes(np.random.default_rng(seed), n)
    src = tmp_path / "src.imulog"
    src.unlink(missing_ok=True)
    _write(src, notes, batch=int(seed % 9) + 1, end=bool(seed % 2))
    data = bytearray(src.read_bytes())
    data = data[: max(0, int(len(data) * cut))] if cut < 0.999 else data
    for where, x in flips:
        if data:
            data[min(len(data) - 1, int(where * len(data)))] ^= x
    p = tmp_path / "fuzz.imulog"
    p.write_bytes(bytes(data))
    try:
        c = read_log(p)
    except RecordingError:
        return
    written = _by_sensor(notes)
    for s, got in _as_list(c).items():
        # every recovered notification was written, in the written order
        it = iter(written[s])
        assert all(any(g == w for w in it) for g in got)


def test_power_loss_zero_filled_tail_is_dropped(tmp_path):
    """After a power loss the file length can cover blocks never written (zeros): no phantoms."""
    notes = _notes(np.random.default_rng(4), 30)
    _write(tmp_path / "a.imulog", notes, batch=6, end=False)
    data = (tmp_path / "a.imulog").read_bytes()
    for keep, zeros in [(len(data), 4096), (len(data) - 50, 4096), (len(data) - 1, 1)]:
        p = tmp_path / f"z{keep}.imulog"
        p.write_bytes(data[:keep] + b"\x00" * zeros)
        c = read_log(p)
        got = sorted((h, s, pl) for s, v in _as_list(c).items() for h, pl in v)
        assert set(got) <= set(notes) and len(got) % 6 == 0
        assert c.damage and c.damage[-1][1] == keep + zeros and c.end is None


def test_fsync_cadence_bounds_what_a_power_loss_can_take(tmp_path, monkeypatch):
    """Records are fsynced at most fsync_interval after they were written; the file and its
    directory are fsynced at creation."""
    import imustream.io.logwriter as lw

    now = [100.0]
    synced: list[tuple[float, int]] = []
    dirs: list[str] = []
    real_fsync = os.fsync
    monkeypatch.setattr(lw.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(lw, "fsync_dir", lambda d: dirs.append(str(d)))

    def fsync(fd):
        synced.append((now[0], os.fstat(fd).st_size))
        real_fsync(fd)

    monkeypatch.setattr(lw.os, "fsync", fsync)
    w = SessionLogWriter(tmp_path / "a.imulog", {"sensors": SENSORS}, fsync_interval=0.5)
    assert dirs == [str(tmp_path)] and synced[0][1] == w.bytes_written  # header durable
    written = []
    for i in range(40):  # a record every 0.1 s for 4 s
        now[0] = 100.0 + 0.1 * (i + 1)
        w.write_notifications(["pelvis"], [i], [b"x" * 20])
        written.append((now[0], w.bytes_written))
    w.close({"reason": "stopped"})
    # every byte written at time t was on disk by t + 0.5 s (or at close)
    for t, size in written:
        t_sync = min((ts for ts, sz in synced if sz >= size), default=None)
        assert t_sync is not None and t_sync - t <= 0.5 + 1e-9
    assert 7 <= len(synced) <= 10  # ~ every 0.5 s, not after every record
