"""``imustream profiles``: table and JSON list every profile."""

from __future__ import annotations

import json

from imustream import profiles
from imustream.cli import main


def test_json_lists_every_profile(capsys):
    assert main(["profiles", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert [f["name"] for f in facts] == profiles.names()
    by_name = {f["name"]: f for f in facts}
    assert by_name["movesense-imu6"]["time_source"] == "device"
    assert by_name["metamotion"]["streams"] == "acc, gyr separately"
    assert by_name["polar-h10"]["streams"] == "acc only"
    assert by_name["imustream-open"]["seq_bits"] == 16
    assert by_name["thingy52"]["samples_per_packet"] == 1
    assert by_name["xsens-dot"]["rates_hz"] == [1, 4, 10, 12, 15, 20, 30, 60]


def test_table(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["profiles"]) == 0
    out = capsys.readouterr().out
    for name in profiles.names():
        assert name in out
    assert "rate + arrival" in out and "device clock" in out


def test_validate_own_file(tmp_path, capsys):
    src = (profiles.profile_dir() / "thingy52.toml").read_text()
    good = tmp_path / "thingy52.toml"
    good.write_text(src)
    assert main(["profiles", "--file", str(good), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["name"] == "thingy52"
    bad = tmp_path / "thingy52.toml"
    bad.write_text(src.replace("[time]", "[time]\ncolour = 1"))
    assert main(["profiles", "--file", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "time.colour" in err and str(bad) in err


def test_one_profile_in_detail(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["profiles", "metamotion"]) == 0
    out = capsys.readouterr().out
    assert "03 03 28 0c" in out and "326a9001-85cb-9195-d9dd-464cfbbae75a" in out
    assert main(["profiles", "xsens-dot", "--json"]) == 0
    (f,) = json.loads(capsys.readouterr().out)
    assert f["start_writes"][1] == {
        "char": "15172001-4947-11e9-8646-d663bd873d93",
        "data": "01 01 15",
        "response": True,
    }
    assert main(["profiles", "no-such"]) == 1
    assert "unknown firmware profile" in capsys.readouterr().err
