"""HTML session reports from real recordings (recorder -> session log -> HDF5)."""

from __future__ import annotations

import base64
import re
import subprocess
import sys

import numpy as np
import pytest
from pyqtgraph.Qt import QtGui
from test_io_codec import TestCodec, header_for, synth_stream

from imustream.dsp.asymmetry import AsymmetryMonitor
from imustream.io.convert import convert
from imustream.io.recorder import Recorder
from imustream.types import Gap, Marker, Step
from imustream.viz.report import build_report, load_report_data
from imustream.viz.report.data import ReportData, alert_spans
from imustream.viz.synthetic import SyntheticGait, synthetic_stream

RATE = 200.0
DURATION = 30.0


def _record(path, gait: SyntheticGait, markers=(), gaps=(), with_steps=True):
    """Write a real recording: simulated notifications plus the synthetic feed's records."""
    notes, truth = synth_stream(duration=DURATION, rate=RATE, per_packet=4, seed=gait.seed)
    rec = Recorder(path, header_for(truth, RATE, subject="R07")).start()
    for n in notes:
        rec.notify(*n)
    steps: list[Step] = []
    if with_steps:
        for _, item in synthetic_stream(gait, DURATION, AsymmetryMonitor()):
            if isinstance(item, list):
                for r in item:
                    rec.record(r)
                steps += [r for r in item if isinstance(r, Step)]
    for m in markers:
        rec.record(m)
    for g in gaps:
        rec.record(g)
    rec.stop()
    codec = TestCodec(RATE)
    res = convert(path, decoders={s: codec.decode for s in truth})
    return res.h5_path, steps


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    d = tmp_path_factory.mktemp("rec")
    before, steps_before = _record(
        d / "before.imulog",
        SyntheticGait(fs=RATE, pelvic_drop_deg=(9.5, 4.0), contact_time=(0.27, 0.24), seed=3),
        markers=[
            Marker(5.0, "pain", 6.0, ""),
            Marker(12.0, "note", text="left calf <tight> & sore"),
            Marker(20.0, "changed_shoes"),
        ],
        gaps=[Gap("shoe_right", 8.0, 8.5, 100, "disconnect")],
    )
    after, steps_after = _record(
        d / "after.imulog", SyntheticGait(fs=RATE, pelvic_drop_deg=(4.2, 4.0), seed=4)
    )
    return before, steps_before, after, steps_after


def drops_of(data, side):
    d = data.steps["pelvic_drop_deg"][data.side_mask(side)]
    return d[np.isfinite(d)]


def _images(html: str) -> list[QtGui.QImage]:
    out = []
    for b64 in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html):
        raw = base64.b64decode(b64)
        assert raw[:8] == b"\x89PNG\r\n\x1a\n"
        img = QtGui.QImage()
        assert img.loadFromData(raw, "PNG")
        out.append(img)
    return out


def test_report_data_matches_what_was_recorded(recordings):
    before, steps, _, _ = recordings
    data = load_report_data(before)
    assert data.n_steps == len(steps) > 60
    drops = {
        s: np.array([x.pelvic_drop_deg for x in steps if x.side == s]) for s in "left right".split()
    }
    cts = {
        s: np.array([x.contact_time for x in steps if x.side == s]) for s in "left right".split()
    }
    left = data.side_stats("left")
    assert left.n_steps == drops["left"].size
    assert left.drop_mean == pytest.approx(drops["left"].mean())
    assert left.drop_sd == pytest.approx(drops["left"].std(ddof=1))
    assert left.drop_p90 == pytest.approx(np.percentile(drops["left"], 90))
    share = cts["left"].mean() / (cts["left"].mean() + cts["right"].mean())
    assert data.contact_balance[0] == pytest.approx(100 * share)
    assert data.cadence == pytest.approx(170, abs=2)
    assert data.gap_seconds()["shoe_right"] == pytest.approx(0.5)
    assert data.duration == pytest.approx(DURATION, abs=0.1)
    assert data.metadata.get("subject") == "R07" or data.sensors
    spans = data.alert_spans()
    assert spans and all(s.side == "left" for s in spans if s.metric == "pelvic_drop_limit")


def test_alert_spans_pair_on_and_off_per_metric_and_side():
    alerts = {
        "time": np.array([1.0, 2.0, 3.0, 4.0, 5.0]),
        "metric": np.array(["a", "a", "a", "b", "a"]),
        "side": np.array(["left", "right", "left", "left", "right"]),
        "active": np.array([1, 1, 0, 1, 0], dtype=np.int8),
        "message": np.array(["aL", "aR", "off", "bL", "off"]),
    }
    spans = alert_spans(alerts, t_end=9.0)
    got = [(s.metric, s.side, s.start, s.end, s.open_at_end) for s in spans]
    assert got == [
        ("a", "left", 1.0, 3.0, False),
        ("a", "right", 2.0, 5.0, False),
        ("b", "left", 4.0, 9.0, True),
    ]


def test_single_report_is_self_contained_and_complete(recordings, tmp_path):
    before, _steps, _, _ = recordings
    out = build_report([before], tmp_path / "r.html")
    html = out.read_text(encoding="utf-8")
    assert "http://" not in html.replace("http://www.w3.org", "") and "<link" not in html
    images = _images(html)
    assert len(images) == 2 and all(i.width() >= 900 for i in images)
    data = load_report_data(before)
    left, right = (data.side_stats(s) for s in ("left", "right"))
    assert f"{left.drop_mean:.1f}" in html and f"{right.drop_mean:.1f}" in html
    assert "left calf &lt;tight&gt; &amp; sore" in html  # markers escaped
    assert "changed_shoes" in html and "pain" in html
    assert "hip drops" in html  # the alert messages of the pipeline's monitor
    assert "shoe_right" in html and "0.50" in html  # missing seconds
    assert "The pelvis drops" in html and "during left stance" in html
    from imustream.dsp.asymmetry import compare

    c = compare("pelvic_drop_deg", drops_of(data, "left"), drops_of(data, "right"))
    assert c.ci_high < 0  # clearly more drop in left stance
    assert f"right − left {c.value:+.1f}° (95 % CI {c.ci_low:+.1f} to {c.ci_high:+.1f}°" in html


def test_report_of_a_recording_without_steps_says_so(tmp_path):
    path, _ = _record(tmp_path / "empty.imulog", SyntheticGait(fs=RATE), with_steps=False)
    html = build_report([path], tmp_path / "e.html").read_text(encoding="utf-8")
    assert "No steps were detected" in html and not _images(html)


def test_comparison_puts_sessions_side_by_side(recordings, tmp_path):
    before, _, after, _ = recordings
    out = build_report([before, after], tmp_path / "c.html", labels=["before", "after"])
    html = out.read_text(encoding="utf-8")
    assert html.count("<h2>before</h2>") == 1 and html.count("<h2>after</h2>") == 1
    assert len(_images(html)) == 1 + 2 * 2
    a, b = load_report_data(before), load_report_data(after)
    diff = lambda d: abs(d.side_stats("left").drop_mean - d.side_stats("right").drop_mean)  # noqa: E731
    change = diff(b) - diff(a)
    assert change < -4
    assert f"{change:.1f}°" in html


def test_report_data_rejects_inconsistent_columns():
    with pytest.raises(ValueError, match="lack column"):
        ReportData("x", steps={"side": np.array(["left"])})
    with pytest.raises(ValueError, match="'contact_time' has 2 rows"):
        ReportData(
            "x",
            steps={"side": np.array(["left"]), "ic_time": np.zeros(1), "contact_time": np.zeros(2)},
        )


def test_cli_report_writes_html_and_reports_bad_input(recordings, tmp_path):
    before, _, after, _ = recordings
    out = tmp_path / "cli.html"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "imustream",
            "report",
            str(before),
            str(after),
            "-o",
            str(out),
            "--labels",
            "before",
            "after",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.is_file() and "before" in out.read_text(encoding="utf-8")
    bad = tmp_path / "nope.h5"
    proc = subprocess.run(
        [sys.executable, "-m", "imustream", "report", str(bad)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1 and "no such recording" in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "imustream", "report", str(before), "--labels", "a", "b"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1 and "--labels" in proc.stderr


def test_report_without_pelvis_sensor_renders(tmp_path):
    """Shoes only: no pelvic drop anywhere; the report still renders and says what it has."""
    from imustream.viz.report.html import render_report

    n = 60
    side = np.array(["left", "right"] * (n // 2))
    ic = 0.35 * np.arange(n)
    data = ReportData(
        "shoes.h5",
        steps={
            "side": side,
            "ic_time": ic,
            "contact_time": np.where(side == "left", 0.26, 0.24),
            "step_time": np.full(n, 0.35),
            "pelvic_drop_deg": np.full(n, np.nan),
        },
        sensors=("shoe_left", "shoe_right"),
    )
    html = render_report(data)
    assert len(_images(html)) == 2
    assert "Ground contact is 52.0 % on the left foot" in html
    assert "The pelvis drops" not in html
    assert data.cadence == pytest.approx(60 / 0.35)
