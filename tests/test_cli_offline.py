"""Offline wiring of ``replay`` / ``analyze`` (cli/_offline.py): the session origin of a
recording and the printed left/right summary."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO

import imustream.profiles as profiles
from imustream.cli import main
from imustream.cli._offline import SUMMARY_METRICS, build_acquisition, run_recording, side_summary
from imustream.cli.analyze import _asymmetry_cell
from imustream.io.convert import convert
from imustream.io.recorder import Recorder
from imustream.io.replay import ReplaySource
from imustream.io.session import open_session
from imustream.sim.encoders import PacketEncoder
from imustream.types import SampleBlock, Step

FS = 100.0
PROFILE = "imustream-open"


def _header(t0_ns: int | None) -> dict:
    header = {
        "session_id": "origin-test",
        "sensors": ["pelvis"],
        "sensor_info": {"pelvis": {"profile": PROFILE, "rate": FS}},
    }
    if t0_ns is not None:
        header["t0_ns"] = t0_ns
    return header


def _record(path, t0_ns: int | None, first_host_s: float, n_packets: int = 50) -> None:
    """A recording on a virtual clock: session origin ``t0_ns``, data from ``first_host_s``."""
    enc = PacketEncoder(profiles.get(PROFILE).with_options(rate=FS), rate=FS, samples_per_packet=4)
    rec = Recorder(path, _header(t0_ns)).start()
    for k in range(n_packets):
        t = (4 * k + np.arange(4)) / FS
        acc = np.column_stack([np.sin(t), np.cos(t), np.full(4, 9.81)])
        payload = enc.encode(acc, np.zeros((4, 3)), 5.0 + t[0], k)
        rec.notify(int((first_host_s + t[-1] + 0.01) * 1e9), "pelvis", payload)
    rec.stop()


def test_origin_zero_is_a_valid_session_origin():
    assert build_acquisition(_header(0))[0].origin_ns == 0
    assert build_acquisition(_header(7))[0].origin_ns == 7
    assert build_acquisition(_header(None))[0].origin_ns is None  # unset: first item


def test_replay_of_a_recording_whose_origin_is_zero_matches_the_recording(tmp_path):
    # virtual clock: session time 0 at host 0 ns, the sensor streams from 3 s on
    _record(tmp_path / "v.imulog", t0_ns=0, first_host_s=3.0)
    h5 = convert(tmp_path / "v.imulog").h5_path
    with open_session(h5) as s:
        assert s.attrs["t0_ns"] == 0
        recorded = np.asarray(s.sensors["pelvis"].t_session)
    src = ReplaySource(h5)
    acq, _ = build_acquisition(src.header)
    out = [b for item in src.items() for b in acq.handle(item)] + acq.flush()
    replayed = np.concatenate([b.t_session for b in out if isinstance(b, SampleBlock)])
    assert recorded[0] == pytest.approx(3.01, abs=0.02)
    np.testing.assert_array_equal(replayed, recorded)


def _summary_rows(text: str) -> dict[str, list[str]]:
    """Cells of the printed left / right summary table, by metric label."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if len(cells) == 5 and cells[1] in ("ms", "steps/min", "m/s^2", "deg"):
            rows[cells[0]] = cells
    return rows


def test_analyze_prints_the_cadence_symmetry_index(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    demo = REPO / "recordings" / "demo_lossy.h5"
    assert main(["analyze", str(demo)]) == 0
    rows = _summary_rows(capsys.readouterr().out)
    assert set(rows) == {label for _, label, *_ in SUMMARY_METRICS}
    steps = run_recording(demo).steps
    cad = {
        side: np.array([s.cadence for s in steps if s.side == side and np.isfinite(s.cadence)])
        for side in ("left", "right")
    }
    left, right = cad["left"].mean(), cad["right"].mean()
    si = 100.0 * (right - left) / (0.5 * (left + right))
    assert rows["cadence"][4] == f"{si:.1f} % SI"
    # cadence = 60 / step time: its SI mirrors the step-time SI (mean of reciprocals)
    step_si = float(rows["step time"][4].removesuffix(" % SI"))
    assert abs(si) > 5 and np.sign(si) == -np.sign(step_si)
    assert abs(si + step_si) < 0.3 * abs(si)
    for label, cells in rows.items():
        unit = "deg R-L" if label == "pelvic drop" else "% SI"
        assert cells[4].endswith(unit), (label, cells)


def test_summary_without_two_steps_a_side_says_so():
    steps = [
        Step("left", 0.0, step_time=0.35, cadence=171.4, contact_time=0.24),
        Step("right", 0.35, step_time=0.36, cadence=166.7, contact_time=0.25),
        Step("left", 0.71, step_time=0.34, cadence=176.5, contact_time=0.23),
    ]
    rows = {r["metric"]: r for r in side_summary(steps)}
    assert np.isnan(rows["cadence"]["asymmetry"]) and rows["cadence"]["right_n"] == 1
    assert _asymmetry_cell(rows["cadence"]) == "n/a (< 2 per side)"
    steps.append(Step("right", 1.05, step_time=0.37, cadence=162.2, contact_time=0.26))
    rows = {r["metric"]: r for r in side_summary(steps)}
    cad_l, cad_r = np.mean([171.4, 176.5]), np.mean([166.7, 162.2])
    si = 100 * (cad_r - cad_l) / (0.5 * (cad_r + cad_l))
    assert rows["cadence"]["asymmetry"] == pytest.approx(si, rel=1e-12)
    assert _asymmetry_cell(rows["cadence"]) == f"{si:.1f} % SI"


def test_replay_of_a_log_without_t0_uses_the_origin_the_converter_used(tmp_path):
    _record(tmp_path / "n.imulog", t0_ns=None, first_host_s=2.0)
    h5 = convert(tmp_path / "n.imulog").h5_path
    with open_session(h5) as s:
        assert "t0_ns" not in s.metadata and s.attrs["t0_ns"] == 0
        recorded = np.asarray(s.sensors["pelvis"].t_session)
    src = ReplaySource(h5)
    acq, _ = build_acquisition(src.header)
    assert acq.origin_ns == 0
    out = [b for item in src.items() for b in acq.handle(item)] + acq.flush()
    replayed = np.concatenate([b.t_session for b in out if isinstance(b, SampleBlock)])
    np.testing.assert_array_equal(replayed, recorded)
