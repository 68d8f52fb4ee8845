"""Step assembly from IC/TO events: timing fields, late events, missing events, sides."""

from __future__ import annotations

import math

import numpy as np
import pytest

from imustream.dsp.steps import StepAssembler, StepTiming


def _gait(n_steps=40, step=0.35, contact=0.24, seed=0):
    """Alternating run: IC times, sides and TO times with a little variability."""
    rng = np.random.default_rng(seed)
    ic = np.cumsum(rng.normal(step, 0.005, n_steps)) + 1.0
    to = ic + rng.normal(contact, 0.005, n_steps)
    sides = ["left" if k % 2 == 0 else "right" for k in range(n_steps)]
    return ic, to, sides


def _reference(ic, to, sides):
    """Plain reference: step k = (side_k, ic_k, to_k, ic_{k+1})."""
    out = []
    for k in range(len(ic)):
        nxt = ic[k + 1] if k + 1 < len(ic) else math.nan
        out.append(StepTiming(sides[k], ic[k], to[k], nxt))
    return out


def _feed_shoes(asm, ic, to, sides, order):
    events = [("ic", s, t) for s, t in zip(sides, ic, strict=True)]
    events += [("to", s, t) for s, t in zip(sides, to, strict=True)]
    for j in order(len(events)):
        asm.add_shoe_event(*events[j])


def test_shoe_steps_match_reference_and_derived_fields():
    ic, to, sides = _gait()
    asm = StepAssembler(shoe_sides={"left", "right"})
    _feed_shoes(asm, ic, to, sides, range)
    got = asm.advance(math.inf) + asm.finish()
    assert got == _reference(ic, to, sides)
    s = got[3].to_step(impact_peak=40.0)
    assert s.contact_time == pytest.approx(to[3] - ic[3])
    assert s.flight_time == pytest.approx(ic[4] - to[3])
    assert s.step_time == pytest.approx(ic[4] - ic[3])
    assert s.cadence == pytest.approx(60 / (ic[4] - ic[3]))
    assert s.impact_peak == 40.0 and math.isnan(s.pelvic_drop_deg)
    last = got[-1].to_step()
    assert math.isnan(last.step_time) and math.isnan(last.cadence)


@pytest.mark.parametrize("seed", range(5))
def test_late_events_within_watermark_give_same_steps(seed):
    """Events arrive with random latency; advancing with a lagging watermark changes nothing."""
    ic, to, sides = _gait(seed=seed)
    rng = np.random.default_rng(seed)
    events = [("ic", s, t, t + rng.uniform(0, 0.4)) for s, t in zip(sides, ic, strict=True)]
    events += [("to", s, t, t + rng.uniform(0, 0.4)) for s, t in zip(sides, to, strict=True)]
    events.sort(key=lambda e: e[3])  # arrival order
    asm = StepAssembler(shoe_sides={"left", "right"})
    got = []
    for kind, side, t, arrival in events:
        asm.add_shoe_event(kind, side, t)
        got += asm.advance(arrival - 0.4)
    got += asm.finish()
    assert got == _reference(ic, to, sides)


def test_missing_to_and_missing_contralateral_ic():
    ic, to, sides = _gait(12)
    asm = StepAssembler(shoe_sides={"left", "right"})
    for k, (s, a, b) in enumerate(zip(sides, ic, to, strict=True)):
        if k != 5:  # right IC 5 missed entirely
            asm.add_shoe_event("ic", s, a)
        if k != 2:  # TO of step 2 missed
            asm.add_shoe_event("to", s, b)
    got = asm.finish()
    assert [g.ic_time for g in got] == [t for k, t in enumerate(ic) if k != 5]
    assert math.isnan(got[2].to_time) and got[2].next_ic_time == ic[3]
    step4 = got[4]  # left IC 4 followed by left IC 6: no step time
    assert step4.ic_time == ic[4] and math.isnan(step4.next_ic_time)
    assert step4.to_time == to[4]


def test_pause_gives_no_step_time():
    ic, to, sides = _gait(10)
    ic[6:] += 5.0
    to[6:] += 5.0
    asm = StepAssembler(shoe_sides={"left", "right"})
    _feed_shoes(asm, ic, to, sides, range)
    got = asm.finish()
    assert math.isnan(got[5].next_ic_time) and got[4].next_ic_time == ic[5]


def test_pelvis_only_sides_from_detector_or_alternation():
    ic, to, sides = _gait(10)
    asm = StepAssembler()
    for s, a, b in zip(sides, ic, to, strict=True):
        asm.add_pelvis_event("ic", s, a)
        asm.add_pelvis_event("to", s, b)
    assert asm.finish() == _reference(ic, to, sides)
    asm = StepAssembler()
    for a, b in zip(ic, to, strict=True):
        asm.add_pelvis_event("ic", None, a)
        asm.add_pelvis_event("to", None, b)
    got = asm.finish()
    assert [g.side for g in got] == ["left", "right"] * 5
    assert [g.to_time for g in got] == list(to)


def test_one_shoe_plus_pelvis_and_pelvis_sides_from_shoes():
    ic, to, sides = _gait(10)
    asm = StepAssembler(shoe_sides={"left"})
    for k, (s, a, b) in enumerate(zip(sides, ic, to, strict=True)):
        if s == "left":
            asm.add_shoe_event("ic", s, a)
            asm.add_shoe_event("to", s, b)
        # the pelvis sees every step, 10 ms late, and guesses the side wrongly
        asm.add_pelvis_event("ic", "left" if k % 2 else "right", a + 0.01)
        asm.add_pelvis_event("to", None, b + 0.01)
    got = asm.finish()
    assert [g.side for g in got] == sides
    right = [g for g in got if g.side == "right"]
    np.testing.assert_allclose([g.ic_time for g in right], ic[1::2] + 0.01)
    np.testing.assert_allclose([g.to_time for g in right], to[1::2] + 0.01)
    assert asm.pelvis_side(ic[2] + 0.01) == "left"
    assert asm.pelvis_side(ic[3] + 0.01) == "right"


def test_bad_side_rejected():
    with pytest.raises(ValueError, match="shoe_sides"):
        StepAssembler(shoe_sides={"middle"})
