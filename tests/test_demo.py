"""`imustream demo`: the virtual runner through the full BLE path, non-interactively."""

from __future__ import annotations

import io
import math

import pytest
from rich.console import Console

from imustream.ble.simulated import simulated_setup
from imustream.cli import main
from imustream.cli._live_summary import stream_live
from imustream.types import LinkState


def _run(scenario, duration, analysis, seed=0, backend="inprocess"):
    setup = simulated_setup(scenario, duration=duration + 10, seed=seed, backend=backend)
    out = io.StringIO()
    session = stream_live(
        targets=setup.targets,
        backend=setup.backend,
        profiles=setup.profiles,
        rates=setup.rates,
        speed=math.inf,
        duration=duration,
        setup=setup.setup,
        teardown=setup.teardown,
        analysis=analysis,
        interval_s=5.0,
        console=Console(file=out, width=160),
    )
    return setup, session, out.getvalue()


def test_demo_command_runs_without_a_tty(capsys):
    assert main(["demo", "--speed", "max", "--duration", "12", "--no-analysis"]) == 0
    text = capsys.readouterr().out
    lines = [ln for ln in text.splitlines() if ln.startswith("t=")]
    assert len(lines) >= 3  # periodic plain lines, one per 5 s of session time
    assert "pelvis streaming" in text and "final summary" in text
    assert "movesense-imu6" in text and "imustream-open" in text


def test_demo_rejects_bad_options(capsys):
    assert main(["demo", "--scenario", "moonwalk", "--speed", "max"]) == 1
    assert "unknown scenario 'moonwalk'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["demo", "--speed", "0"])


def test_demo_analysis_matches_the_virtual_runner():
    setup, session, text = _run("symmetric-runner", 30.0, analysis=True)
    truth = setup.run().truth
    assert "gait, whole session" in text and "cadence" in text
    for st in session.stats.values():
        assert st.samples > 0.95 * st.nominal_rate * 28 and st.gaps == 0
    m = session.metrics(math.inf)
    steps = [s for s in session.steps if 5.0 < s.ic_time < 28.0]
    assert len(steps) > 40
    sides = {s.side for s in steps}
    assert sides == {"left", "right"}
    true_step = truth["step_time"][(truth["ic_time"] > 5) & (truth["ic_time"] < 28)]
    true_cadence = 60.0 / float(true_step[true_step > 0].mean())
    assert m["cadence"] == pytest.approx(true_cadence, rel=0.05)


def test_flaky_connection_gaps_and_reconnects_reported():
    setup, session, text = _run("flaky-connection", 50.0, analysis=False, seed=3)
    scenario_disconnects = {("shoe_right", 20.0, 24.0), ("shoe_right", 45.0, 46.0)}
    scenario_disconnects.add(("pelvis", 33.0, 35.0))
    for sensor, _a, b in scenario_disconnects:
        st = session.stats[sensor]
        assert st.reconnects >= 1
        assert any(
            g.sensor == sensor and g.reason == "disconnect" and g.end > b for g in session.gaps
        )
    st = session.stats["shoe_left"]
    assert st.reconnects == 0 and st.gaps > 0  # loss bursts only
    for dev in setup.devices:
        sent = sum(r.n for r in dev.log if r.fate == "sent")
        lost = sum(r.n for r in dev.log if r.fate == "lost")
        sensor = next(t.sensor for t in setup.targets if t.address == dev.address)
        assert session.stats[sensor].samples == sent
        assert session.stats[sensor].missing_samples >= lost - 20  # trailing losses unseen
    assert "loss" in text


@pytest.mark.integration
def test_demo_over_bumble_radio():
    _, session, _ = _run("symmetric-runner", 10.0, analysis=False, backend="bumble")
    for st in session.stats.values():
        assert st.samples > 0.9 * st.nominal_rate * 9 and st.mtu == 247
    assert all(s.state for s in session.stats.values())
    states = {st.state for st in session.stats.values()}
    assert states == {LinkState.STOPPED.value}


def test_live_view_on_a_terminal():
    setup = simulated_setup("right-hip-drop", duration=24, seed=0)
    out = io.StringIO()
    session = stream_live(
        targets=setup.targets,
        backend=setup.backend,
        profiles=setup.profiles,
        rates=setup.rates,
        speed=math.inf,
        duration=14.0,
        setup=setup.setup,
        teardown=setup.teardown,
        analysis=True,
        console=Console(file=out, width=160, force_terminal=True),
    )
    text = out.getvalue()
    assert "\x1b[" in text  # redrawn in place with ANSI control codes
    assert "gait, whole session: cadence" in text
    assert session.steps and any(a.active for a in session.alerts)
    assert "ALERT" in text
