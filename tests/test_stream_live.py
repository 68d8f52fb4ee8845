"""stream.LiveSession keeps fixed memory: the newest steps, alerts and gaps, counts of all."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imustream.ble.simulated import simulated_setup
from imustream.dsp.pipeline import Pipeline
from imustream.stream.acquisition import Acquisition
from imustream.stream.live import LiveSession
from imustream.stream.session_median import HistogramMedian


def test_live_session_keeps_the_newest_steps_and_counts_all():
    sim = simulated_setup("flaky-connection", duration=35.0, seed=2)
    ble = sim.ble_thread(math.inf, stop_after=30.0)
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

    # the final summary (window inf) describes the whole session, not the newest 8 steps
    whole = session.metrics(math.inf)
    assert whole["steps"] == len(all_steps)
    for side in ("left", "right"):
        mine = [s for s in all_steps if s.side == side]
        contacts = [s.contact_time for s in mine if math.isfinite(s.contact_time)]
        exact_contact = 1000.0 * float(np.median(contacts))
        assert whole[f"contact_{side}"] == pytest.approx(exact_contact, abs=0.1)
        drops = [s.pelvic_drop_deg for s in mine if math.isfinite(s.pelvic_drop_deg)]
        assert whole[f"drop_{side}"] == pytest.approx(float(np.median(drops)), abs=0.01)
    exact_cadence = float(np.median([s.cadence for s in all_steps if math.isfinite(s.cadence)]))
    assert whole["cadence"] == pytest.approx(exact_cadence, abs=0.01)
    assert everything.metrics(math.inf) == pytest.approx(whole, nan_ok=True)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(min_value=-44.0, max_value=44.0, allow_nan=False), min_size=1, max_size=200)
)
def test_histogram_median_is_within_half_a_bin_of_numpy(values):
    h = HistogramMedian(-45.0, 45.0, 0.01)
    for v in values:
        h.add(v)
    assert h.n == len(values)
    assert h.median() == pytest.approx(float(np.median(values)), abs=0.005 + 1e-9)


def test_histogram_median_ignores_non_finite_and_clamps_to_range():
    h = HistogramMedian(0.0, 1.0, 0.1)
    assert math.isnan(h.median())
    for v in (math.nan, math.inf, 5.0, 5.0, -3.0):
        h.add(v)
    assert h.n == 3
    assert h.median() == pytest.approx(0.95)
    with pytest.raises(ValueError, match="hi > lo"):
        HistogramMedian(1.0, 0.0, 0.1)
