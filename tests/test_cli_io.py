"""The io commands end to end: info, recover, replay, analyze (and their --help)."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import REPO
from test_io_codec import header_for, synth_stream

from imustream.cli import main
from imustream.io.recorder import Recorder
from imustream.io.replay import ReplaySource
from imustream.io.session import open_session

DEMO = REPO / "recordings"
DEMOS = sorted(DEMO.glob("demo_*.h5"))


@pytest.mark.parametrize("cmd", ["info", "recover", "replay", "analyze", "record"])
def test_help(cmd, capsys):
    with pytest.raises(SystemExit) as e:
        main([cmd, "--help"])
    assert e.value.code == 0
    assert "usage: imustream " + cmd in capsys.readouterr().out


def test_demo_recordings_exist_and_are_small():
    assert len(DEMOS) == 3
    for p in DEMOS:
        assert p.stat().st_size < 300_000
        with open_session(p) as s:
            s.check_all()
            assert s.complete and s.duration > 11
            assert set(s.sensor_names) == {"pelvis", "shoe_left", "shoe_right"}
            assert len(s.steps["ic_time"]) > 10 and s.markers["kind"][0] == "pain"


def test_info_json(capsys):
    assert main(["info", str(DEMO / "demo_lossy.h5"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["complete"] and info["sensors"]["pelvis"]["gaps"] > 0
    assert info["sensors"]["pelvis"]["profile"] == "imustream-open"


def test_info_on_missing_file_is_a_clear_error(tmp_path, capsys):
    assert main(["info", str(tmp_path / "nope.h5")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_recover_command(tmp_path, capsys):
    notes, truth = synth_stream(sensors=("pelvis",), duration=1.0)
    rec = Recorder(tmp_path / "crash.imulog", header_for(truth)).start()
    for n in notes:
        rec.notify(*n)
    rec.stop()
    data = (tmp_path / "crash.imulog").read_bytes()
    (tmp_path / "crash.imulog").write_bytes(data[:-30])  # torn END record: a crash
    assert main(["info", str(tmp_path / "crash.imulog"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["complete"] is False
    (tmp_path / "bad.imulog").write_bytes(b"not a log at all")
    assert main(["recover", str(tmp_path)]) == 1  # one log is not recoverable
    out = capsys.readouterr().out
    assert "converted" in out and "failed" in out
    assert (tmp_path / "crash.h5").exists() and (tmp_path / "bad.imulog").exists()
    with open_session(tmp_path / "crash.h5") as s:
        assert s.recovered and s.sensors["pelvis"].n_notifications == len(notes)


def test_replay_feeds_the_raw_notifications(tmp_path):
    src = ReplaySource(DEMO / "demo_lossy.h5")
    with open_session(DEMO / "demo_lossy.h5") as s:
        expect = list(s.notifications())
    assert list(src) == expect and src.n_notifications == len(expect)
    items = list(src.items())
    assert [x for x in items if isinstance(x, tuple)] == expect
    assert len(items) - len(expect) == 3  # the three "streaming" state changes


def test_replay_paces_in_real_time():
    slept = []
    src = ReplaySource(DEMO / "demo_symmetric.h5", speed=10.0, sleep=slept.append)
    n = sum(1 for _ in src)
    assert n == src.n_notifications
    # 15 s at 10x with a sleep that returns at once: the last notification is due 1.5 s
    # after the first (minus the replay's own run time)
    assert 1.0 < max(slept) <= 1.5 and len(slept) > 100


def test_replay_and_analyze(tmp_path, capsys):
    assert main(["replay", str(DEMO / "demo_right_hip_drop.h5"), "--speed", "0"]) == 0
    out = capsys.readouterr().out
    assert "step left" in out and "replayed demo_right_hip_drop.h5" in out
    assert "alert: Right hip drops" in out  # the whole live path warns, naming the side
    assert main(["replay", str(DEMO / "demo_symmetric.h5"), "--speed", "0", "--quiet"]) == 0
    assert "alert:" not in capsys.readouterr().out
    files = [str(DEMO / "demo_symmetric.h5"), str(DEMO / "demo_right_hip_drop.h5")]
    assert main(["analyze", *files, "--window", "5", "--csv", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "left / right summary" in out and "pelvic drop" in out
    for stem in ("demo_symmetric", "demo_right_hip_drop"):
        for part in ("steps", "summary", "asymmetry"):
            assert (tmp_path / f"{stem}_{part}.csv").stat().st_size > 50
    steps = (tmp_path / "demo_right_hip_drop_steps.csv").read_text().splitlines()
    assert steps[0].startswith("side,ic_time,to_time") and len(steps) > 10


def test_analyze_reports_bad_files(tmp_path, capsys):
    shutil.copy(DEMO / "demo_symmetric.h5", tmp_path / "ok.h5")
    (tmp_path / "bad.h5").write_bytes(b"junk")
    assert main(["analyze", str(tmp_path / "ok.h5"), str(tmp_path / "bad.h5")]) == 1
    out = capsys.readouterr().out
    assert "bad.h5" in out and "ok.h5" in out


def test_record_simulated_sensors(tmp_path, capsys):
    notes, truth = synth_stream(sensors=("pelvis",), duration=0.5)
    rec = Recorder(tmp_path / "crashed.imulog", header_for(truth)).start()
    for n in notes:
        rec.notify(*n)
    rec.stop()
    data = (tmp_path / "crashed.imulog").read_bytes()
    (tmp_path / "crashed.imulog").write_bytes(data[:-10])  # an earlier session crashed
    out = tmp_path / "run.h5"
    args = ["record", "--scenario", "right-hip-drop", "--duration", "3", "--speed", "max"]
    assert main([*args, "-o", str(out), "--subject", "S7"]) == 0
    err = capsys.readouterr().err
    assert "wrote" in err and "recovered crashed.imulog: converted" in err
    assert (tmp_path / "crashed.h5").exists() and not (tmp_path / "crashed.imulog").exists()
    assert not (tmp_path / "run.imulog").exists()
    with open_session(out) as s:
        s.check_all()
        assert s.complete and s.attrs["subject"] == "S7"
        for d in s.sensors.values():
            assert d.profile == "movesense-imu6" and d.n > 0.9 * 3 * 208
        assert s.metadata["dsp"]["thresholds"]["pelvic_drop_limit"]["on"] > 0
        addresses = {s._f[f"sensors/{k}"].attrs["address"] for k in s.sensor_names}
        assert len(addresses) == 3 and all(a.startswith("C0:FF:EE") for a in addresses)
        assert "C0:FF:EE" in "".join(s.states["extra_json"])
    assert main([*args, "-o", str(out)]) == 1  # never overwrites
    assert "already exists" in capsys.readouterr().err


@pytest.mark.slow
def test_record_ends_cleanly_on_sigterm_with_markers_from_stdin(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "term.h5"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "imustream",
            "record",
            "--duration",
            "600",
            "--markers",
            "-o",
            str(out),
        ],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    line = proc.stderr.readline()
    assert line.startswith("recording"), line + proc.stderr.read()
    time.sleep(1.0)
    proc.stdin.write("pain 4 left knee\n")
    proc.stdin.flush()
    time.sleep(0.5)
    proc.stdin.write("changed shoes\n")
    proc.stdin.flush()
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 0, err
    with open_session(out) as s:
        s.check_all()
        assert s.complete and s.attrs["end_reason"] == "interrupted"
        assert all(d.n > 0 for d in s.sensors.values())
        m = s.markers
        assert m["kind"].tolist() == ["pain", "changed shoes"]
        assert m["value"][0] == 4.0 and m["text"][0] == "left knee"
        assert 0.1 < m["time"][1] - m["time"][0] < 2.0  # session clock, in order
        assert 0 < m["time"][0] < s.duration + 1


def test_marker_lines():
    from imustream.cli.record import parse_marker

    assert parse_marker("pain 4 left knee", 2.0).text == "left knee"
    assert parse_marker("changed shoes", 2.0).kind == "changed shoes"
    assert parse_marker("rpe 7.5", 1.0).value == 7.5
    assert parse_marker("   ", 1.0) is None


def test_readme_h5py_example_runs(monkeypatch):
    """The plain-h5py example of recordings/README.md works as printed."""
    text = (DEMO / "README.md").read_text()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(REPO)
    ns: dict = {}
    exec(compile(code, "README.md", "exec"), ns)
    assert ns["acc"].shape[1] == 3 and ns["drop_left"] > 6.0  # the right hip drops
    assert len(ns["first_packet"]) > 6


def test_record_with_a_bad_config_is_a_clear_error(tmp_path, capsys):
    cfg = tmp_path / "session.toml"
    cfg.write_text('[sensors.knee]\nprofile = "imustream-open"\naddress = "C0:FF:EE:00:00:01"\n')
    assert main(["record", "--config", str(cfg), "-o", str(tmp_path / "x.h5")]) == 1
    err = capsys.readouterr().err
    assert "knee" in err and "session.toml" in err
    assert not list(tmp_path.glob("x.*"))


@pytest.mark.slow
def test_record_stops_cleanly_when_disk_space_runs_low(tmp_path, capsys, monkeypatch):
    from imustream.io.diskguard import DiskGuard

    def check(self, log_bytes):  # plenty of room at the start, then the disk "fills"
        return None if log_bytes == 0 else "low disk space in test: recording stopped"

    monkeypatch.setattr(DiskGuard, "check", check)
    out = tmp_path / "low.h5"
    args = ["record", "--duration", "30", "--speed", "1", "-o", str(out)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "recording stopped early: low disk space" in err
    with open_session(out) as s:
        s.check_all()
        assert s.complete and s.attrs["end_reason"] == "low_disk_space"
        assert all(d.n > 0 for d in s.sensors.values()) and s.duration < 5
