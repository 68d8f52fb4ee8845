"""Rolling L/R comparison and alert state machine (hysteresis, presets, messages)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from imustream.dsp.asymmetry import (
    PRESETS,
    AlertThresholds,
    AsymmetryMonitor,
    MetricThreshold,
    compare,
    get_preset,
)
from imustream.errors import ConfigError
from imustream.types import Step


def _steps(n, left, right, seed=0, sd=0.0, field="contact_time"):
    """Alternating L/R steps whose ``field`` comes from callables/values per step index."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        side = "left" if k % 2 == 0 else "right"
        base = left if side == "left" else right
        val = base(k) if callable(base) else base
        val += rng.normal(0, sd) if sd else 0.0
        out.append(Step(side=side, ic_time=0.35 * k, **{field: val}))
    return out


def test_compare_matches_welch_reference():
    rng = np.random.default_rng(1)
    left = rng.normal(0.24, 0.01, 10)
    right = rng.normal(0.27, 0.015, 10)
    c = compare("contact_time", left, right)
    ref = stats.ttest_ind(right, left, equal_var=False).confidence_interval(0.95)
    scale = 100 / (0.5 * (left.mean() + right.mean()))
    assert c.value == pytest.approx((right.mean() - left.mean()) * scale)
    assert c.ci_low == pytest.approx(ref.low * scale)
    assert c.ci_high == pytest.approx(ref.high * scale)
    assert c.significant
    d = compare("pelvic_drop_deg", left * 30, right * 30)  # degrees: plain difference
    assert d.value == pytest.approx(30 * (right.mean() - left.mean()))


def test_fires_after_k_consecutive_steps_and_names_side():
    th = AlertThresholds(window=8, min_steps=4, k_on=5, k_off=5)
    mon = AsymmetryMonitor(th)
    alerts = []
    steps = _steps(60, 0.30, 0.24, sd=0.003)  # left 22 % longer
    for i, s in enumerate(steps):
        for a in mon.add(s):
            alerts.append((i, a))
    ct = [(i, a) for i, a in alerts if a.metric == "contact_time"]
    assert len(ct) == 1, ct
    i, a = ct[0]
    assert a.active and a.side == "left"
    # comparisons start at step 7 (4 per side); 5 consecutive steps over threshold
    assert i == 7 + th.k_on - 1
    assert "left" in a.message and "contact" in a.message and "ms" in a.message
    assert a.value < 0  # SI = 100 (R - L) / mean: left larger -> negative


def test_silent_on_symmetric_noise():
    mon = AsymmetryMonitor(get_preset("runner"))
    for metric in ("contact_time", "step_time", "impact_peak", "pelvic_drop_deg"):
        mean = {"contact_time": 0.245, "step_time": 0.353, "impact_peak": 30.0}.get(metric, 4.0)
        for s in _steps(400, mean, mean, seed=2, sd=0.05 * mean, field=metric):
            assert mon.add(s) == []


def test_hysteresis_no_flicker_between_thresholds():
    th = AlertThresholds(
        pelvic_drop_deg=MetricThreshold(3.0, 2.0),
        pelvic_drop_limit=None,
        window=4,
        min_steps=3,
        k_on=3,
        k_off=3,
    )
    mon = AsymmetryMonitor(th)

    def right(k):  # right drop: 4 deg more, then hovering 2.5 deg more (between thresholds)
        return 8.0 if k < 40 else 6.5 if k < 120 else 4.0

    transitions = []
    for s in _steps(200, 4.0, right, seed=3, sd=0.2, field="pelvic_drop_deg"):
        transitions += mon.add(s)
    assert [a.active for a in transitions] == [True, False]
    on, off = transitions
    assert on.side == "right" and "Left hip drops more during right stance" in on.message
    assert off.time > 120 * 0.35  # released only after the difference fell below 2 deg


def test_absolute_pelvic_drop_limit_per_side():
    mon = AsymmetryMonitor(get_preset("runner"))
    alerts = []
    for s in _steps(80, 9.0, 8.6, seed=4, sd=0.2, field="pelvic_drop_deg"):
        alerts += mon.add(s)
    limit = {a.side for a in alerts if a.metric == "pelvic_drop_limit" and a.active}
    assert limit == {"left", "right"}
    assert not [a for a in alerts if a.metric == "pelvic_drop_deg"]  # difference is small
    msg = next(a.message for a in alerts if a.side == "left")
    assert msg.startswith("Right hip drops") and "left stance" in msg and "limit 8" in msg


def test_nan_values_are_skipped():
    mon = AsymmetryMonitor()
    for s in _steps(40, math.nan, math.nan):
        assert mon.add(s) == []
    assert mon.comparisons == {}


def test_presets_and_config_errors():
    assert set(PRESETS) == {"runner", "clinic"}
    r, c = PRESETS["runner"], PRESETS["clinic"]
    assert r.contact_time.on == 10.0 and r.pelvic_drop_deg.on == 3.0
    assert r.pelvic_drop_limit.on == 8.0
    assert c.contact_time.on < r.contact_time.on and c.pelvic_drop_deg.on < r.pelvic_drop_deg.on
    assert get_preset("runner", k_on=2).k_on == 2
    with pytest.raises(ConfigError, match="unknown alert preset 'sprint'"):
        get_preset("sprint")
    with pytest.raises(ConfigError, match="override"):
        get_preset("runner", nope=1)
    with pytest.raises(ConfigError, match="on > 0"):
        MetricThreshold(2.0, 3.0)
    with pytest.raises(ConfigError, match="window"):
        AlertThresholds(window=3, min_steps=5)


def test_gap_and_clipped_steps_are_not_evidence():
    mon = AsymmetryMonitor(AlertThresholds(window=6, min_steps=3, k_on=2, k_off=2))
    for k in range(40):
        side = "left" if k % 2 == 0 else "right"
        impact = 30.0 if side == "left" else 60.0  # right "harder", but only on clipped steps
        s = Step(side=side, ic_time=0.35 * k, impact_peak=impact, clipped=side == "right")
        assert mon.add(s) == []
        gap = Step(
            side=side, ic_time=0.35 * k, contact_time=0.2 if side == "left" else 0.4, has_gap=True
        )
        assert mon.add(gap) == []
    assert "impact_peak" not in mon.comparisons and "contact_time" not in mon.comparisons
