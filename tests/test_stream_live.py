"""stream.LiveSession keeps fixed memory: the newest steps, alerts and gaps, counts of all."""

from __future__ import annotations

import math

from imustream.ble.simulated import simulated_setup
from imustream.ble.thread import BleThread
from imustream.dsp.pipeline import Pipeline
from imustream.stream.acquisition import Acquisition
from imustream.stream.live import LiveSession


def test_live_session_keeps_the_newest_steps_and_counts_all():
    sim = simulated_setup("flaky-connection", duration=35.0, seed=2)
    ble = BleThread(
        sim.targets,
        sim.backend,
        speed=math.inf,
        setup=sim.setup,
        teardown=sim.teardown,
        stop_after=30.0,
    )
    items = ble.collect(timeout=60)
    acq = Acquisition(sim.profiles, sim.rates, origin_ns=1)
    session = LiveSession(acq, Pipeline(sim.rates), keep_steps=8)
    everything = LiveSession(
        Acquisition(sim.profiles, sim.rates, origin_ns=1), Pipeline(sim.rates), keep_steps=10**6
    )
    for item in items:
        session.handle(item)
        everything.handle(item)
    session.finish()
    everything.finish()
    all_steps = list(everything.steps)
    assert session.n_steps == len(all_steps) > 30
    # (Step holds NaNs, so compare what identifies a step)
    assert [(s.side, s.ic_time) for s in session.steps] == [
        (s.side, s.ic_time) for s in all_steps[-8:]
    ]
    assert session.steps_by_side == {
        side: sum(s.side == side for s in all_steps) for side in ("left", "right")
    }
    assert session.n_gaps == len(everything.gaps) > 0
    assert session.alerts_raised == sum(a.active for a in everything.alerts)
