"""kill -9 at random moments and a full disk: every recording recovers, <= 1 s lost, no phantoms."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import REPO
from test_io_codec import TestCodec

from imustream import open_session
from imustream.io.recover import recover

RATE = 1000.0
PER = 8
SENSORS = ("pelvis", "shoe_left", "shoe_right")

CHILD = r"""
import sys, time, json
sys.path[:0] = [sys.argv[2], sys.argv[3]]
import numpy as np
from test_io_codec import TestCodec, header_for
from imustream.io.recorder import Recorder
from test_recording_crash import payload, RATE, PER, SENSORS
path, mode = sys.argv[1], sys.argv[4]
if mode == "fsize":
    import resource, signal
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[5]), int(sys.argv[5])))
codec = TestCodec(RATE)
rec = Recorder(path, header_for(SENSORS, RATE, t0_ns=time.monotonic_ns()), fsync_interval=0.5)
rec.start()
print("ready", flush=True)
seq, t0 = 0, time.monotonic()
while rec.running:
    due = int((time.monotonic() - t0) * RATE / PER)
    while seq < due:
        for i, s in enumerate(SENSORS):
            rec.notify(time.monotonic_ns(), s, payload(codec, seq, i))
        seq += 1
    time.sleep(0.004)
stats = rec.stop()
print(json.dumps({"error": str(rec.error), "notifications": stats.notifications,
                  "reason": stats.stop_reason, "sent": seq * len(SENSORS)}), flush=True)
"""


def payload(codec: TestCodec, seq: int, sensor_i: int) -> bytes:
    """The deterministic packet ``seq`` of sensor ``sensor_i`` (the parent regenerates it)."""
    base = (seq % 997) * 0.25 + sensor_i
    acc = np.full((PER, 3), base) + np.arange(PER)[:, None] * 0.01
    gyr = -acc / 10.0
    return codec.encode(acc, gyr, seq, seq * PER / RATE)


def _spawn(path, mode="kill", *extra) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(REPO), str(REPO / "tests"), mode, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _check_recording(h5, codec) -> dict[str, tuple[int, int]]:
    """Every sensor's packets are 0..n-1 in order and byte-identical to what was sent."""
    out = {}
    with open_session(h5) as s:
        s.check_all()
        for i, name in enumerate(SENSORS):
            d = s.sensors[name]
            n = d.n_notifications
            np.testing.assert_array_equal(d.raw_seq, np.arange(n))  # no holes, no phantoms
            for k in range(n):
                assert d.payload(k) == payload(codec, k, i)
            assert d.n == n * PER
            np.testing.assert_array_equal(
                d.acc,
                np.concatenate([codec.decode(payload(codec, k, i)).acc for k in range(n)])
                if n
                else np.zeros((0, 3)),
            )
            out[name] = (n, int(d.raw_host_ns[-1]) if n else 0)
    return out


@pytest.mark.slow
def test_kill9_at_random_moments(tmp_path):
    rng = np.random.default_rng(20261125)
    codec = TestCodec(RATE)
    decoders = {s: codec.decode for s in SENSORS}
    lost = []
    trials = 20
    for trial in range(trials):
        d = tmp_path / f"t{trial}"
        d.mkdir()
        proc = _spawn(d / "run.imulog")
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(float(rng.uniform(0.05, 1.5)))
        t_kill = time.monotonic_ns()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        outcomes = recover(d, decoders=decoders)
        assert [o.action for o in outcomes] == ["converted"], outcomes
        res = outcomes[0].result
        assert not res.complete and not (d / "run.imulog").exists()
        got = _check_recording(d / "run.h5", codec)
        with open_session(d / "run.h5") as s:
            assert s.recovered and "crash" in s.attrs["end_reason"]
        for n, last_ns in got.values():
            lost.append((t_kill - last_ns) / 1e9 if n else float("inf"))
    print(
        f"kill -9: {trials} trials, lost per sensor max {max(lost):.3f} s, median "
        f"{float(np.median(lost)):.3f} s"
    )
    # at most 1 s of data lost per sensor, whatever the moment of the kill
    assert max(lost) <= 1.0, sorted(lost)[-5:]


@pytest.mark.slow
def test_full_disk_ends_recording_cleanly(tmp_path):
    """RLIMIT_FSIZE makes the log write fail with EFBIG: the recorder stops, the data before
    the failure converts to a valid file."""
    limit = 150_000
    proc = _spawn(tmp_path / "full.imulog", "fsize", str(limit))
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    info = json.loads(out.strip().splitlines()[-1])
    assert info["reason"] == "write_error" and "file size limit" in info["error"]
    size = os.path.getsize(tmp_path / "full.imulog")
    assert limit - 20_000 < size <= limit
    codec = TestCodec(RATE)
    outcomes = recover(tmp_path, decoders={s: codec.decode for s in SENSORS})
    assert [o.action for o in outcomes] == ["converted"]
    got = _check_recording(tmp_path / "full.h5", codec)
    assert sum(n for n, _ in got.values()) == info["notifications"] > 0


CONVERT_CHILD = r"""
import sys
sys.path[:0] = [sys.argv[2]]
from imustream.io.convert import convert
print("start", flush=True)
convert(sys.argv[1])
print("done", flush=True)
"""


def _template_log(path) -> int:
    """A 15 s, three-sensor imustream-open log (decoded through the acquisition)."""
    from test_io_profiles import _packet

    from imustream.io.recorder import Recorder

    rng = np.random.default_rng(5)
    header = {
        "t0_ns": 10**9,
        "sensors": list(SENSORS),
        "sensor_info": {s: {"profile": "imustream-open", "rate": 200.0} for s in SENSORS},
    }
    rec = Recorder(path, header).start()
    n = 0
    for p in range(600):
        for s in SENSORS:
            rec.notify(
                10**9 + p * 25_000_000 + 9_000_000,
                s,
                _packet(p, 3 + p * 0.025, rng.integers(-2000, 2000, (5, 6))),
            )
            n += 5
    rec.stop()
    return n


@pytest.mark.slow
def test_kill9_during_conversion_then_recover(tmp_path):
    pytest.importorskip("imustream.stream.acquisition")
    template = tmp_path / "template.imulog"
    n_samples = _template_log(template)
    rng = np.random.default_rng(99)
    states = set()
    full = None
    for trial in range(9):
        d = tmp_path / f"c{trial}"
        d.mkdir()
        log = d / "s.imulog"
        log.write_bytes(template.read_bytes())
        proc = subprocess.Popen(
            [sys.executable, "-c", CONVERT_CHILD, str(log), str(REPO)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout.readline().strip() == "start", proc.stderr.read()
        t_start = time.monotonic()
        if full is None:  # first trial: how long an uninterrupted conversion takes
            assert proc.stdout.readline().strip() == "done", proc.stderr.read()
            full = time.monotonic() - t_start
        else:
            time.sleep(float(rng.uniform(0.5, 1.05) * full))  # the write phase is at the end
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        states.add(tuple(sorted(p.name for p in d.iterdir())))
        outcomes = recover(d)
        assert all(o.action in ("converted", "removed_leftover") for o in outcomes), outcomes
        assert sorted(p.name for p in d.iterdir()) == ["s.h5"]
        with open_session(d / "s.h5") as s:
            s.check_all()
            assert sum(x.n for x in s.sensors.values()) == n_samples
    print(f"directory states seen at the kill: {sorted(states)}")
