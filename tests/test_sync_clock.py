"""ClockMapper: lower-envelope fit recovers drift and offset despite one-sided BLE delays."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imustream.sync import ClockMapper, lower_envelope_fit


def _arrivals(rng, drift_ppm, offset, duration=60.0, rate=50.0, jitter=0.05, d0=1234.5):
    d = d0 + np.arange(0.0, duration, 1.0 / rate)
    true_host = offset + d0 + (d - d0) * (1 + drift_ppm * 1e-6)
    host = true_host + rng.uniform(0.0, jitter, d.size)  # one-sided delays
    return d, true_host, host


@settings(max_examples=25, deadline=None)
@given(
    st.floats(-50.0, 50.0),
    st.floats(-1000.0, 1000.0),
    st.integers(0, 2**32 - 1),
    st.sampled_from(["uniform", "exponential"]),
)
def test_recovers_drift_and_offset_within_1ms(drift, offset, seed, kind):
    rng = np.random.default_rng(seed)
    d, true_host, host = _arrivals(rng, drift, offset)
    if kind == "exponential":
        host = true_host + np.minimum(rng.exponential(0.012, d.size), 0.05)
    m = ClockMapper()
    for di, hi in zip(d, host, strict=True):
        m.observe(di, hi)
    err = np.abs(m.to_host(d) - true_host)
    assert err.max() < 1e-3, err.max()
    assert abs(m.drift_ppm - drift) < 20.0


def test_least_squares_would_be_biased():
    """Sanity check of the premise: a plain fit is off by about the mean delay."""
    rng = np.random.default_rng(1)
    d, true_host, host = _arrivals(rng, 30.0, 5.0)
    b, a = np.polyfit(d - d[0], host, 1)
    assert np.mean(a + b * (d - d[0]) - true_host) > 0.02


def test_reset_and_auto_new_segment():
    m = ClockMapper()
    assert m.observe(100.0, 5.0) is True
    for k in range(1, 50):
        assert m.observe(100.0 + k * 0.02, 5.0 + k * 0.02 + 0.003) is False
    # device clock restarts from zero: detected as a new segment
    assert m.observe(0.5, 6.2) is True
    assert m.segments == 2
    assert m.to_host(0.5) == pytest.approx(6.2)
    m.reset()
    with pytest.raises(RuntimeError):
        m.to_host(1.0)


def test_lower_envelope_fit_exact_line_below_points():
    x = np.linspace(0, 10, 50)
    y = 2.0 + 0.1 * x + np.abs(np.sin(x * 7))  # touches the line where sin == 0
    a, b = lower_envelope_fit(x, y)
    assert np.all(y - (a + b * x) >= -1e-12)
    assert a == pytest.approx(2.0, abs=0.02) and b == pytest.approx(0.1, abs=0.01)


def test_new_segment_after_device_reset_converges():
    rng = np.random.default_rng(11)
    m = ClockMapper()
    d1 = np.arange(0, 30, 0.02)
    for di in d1:
        m.observe(500.0 + di, 10.0 + di * (1 + 20e-6) + rng.uniform(0, 0.04))
    # the device reboots: its clock restarts near zero, 2 s after the last packet
    d2 = np.arange(0, 60, 0.02)
    true2 = 42.0 + d2 * (1 + 20e-6)
    flags = [m.observe(di, hi + rng.uniform(0, 0.04)) for di, hi in zip(d2, true2, strict=True)]
    assert flags[0] is True and not any(flags[1:])
    assert m.segments == 2
    assert np.abs(m.to_host(d2) - true2).max() < 1e-3


def test_sliding_window_follows_a_drift_change():
    """Temperature changes the crystal: the window forgets the old rate."""
    rng = np.random.default_rng(5)
    m = ClockMapper(window_s=60.0)
    d = np.arange(0, 300, 0.05)
    rate = np.where(d < 150, 1 + 40e-6, 1 - 40e-6)
    true_h = 7.0 + np.concatenate([[0.0], np.cumsum(np.diff(d) * rate[1:])])
    for di, hi in zip(d, true_h + rng.uniform(0, 0.05, d.size), strict=True):
        m.observe(di, hi)
    assert m.drift_ppm == pytest.approx(-40.0, abs=10.0)
    recent = d > 260
    assert np.abs(m.to_host(d[recent]) - true_h[recent]).max() < 1e-3


def test_sparse_packets_one_per_second():
    rng = np.random.default_rng(2)
    m = ClockMapper()
    d = np.arange(0, 120, 1.0)
    true_h = 3.0 + d * (1 - 35e-6)
    for di, hi in zip(d, true_h + rng.uniform(0, 0.05, d.size), strict=True):
        m.observe(di, hi)
    # 120 points only: the least-delayed ones are a few ms late at most
    assert np.abs(m.to_host(d) - true_h).max() < 5e-3


@pytest.mark.parametrize(("period_ms", "ci_ms"), [(20, 30), (20, 45), (10, 7.5)])
def test_connection_interval_phase_bounds_the_offset_error(period_ms, ci_ms):
    """Notifications leave at connection events: delay = wait for the next event. The smallest
    delay the envelope can see is set by the phase between packet and event grids, at most
    gcd(period, interval); with a drifting clock the phase slides and the floor shrinks. The
    mapping error stays within that bound (an offset nobody can observe from arrivals)."""
    rng = np.random.default_rng(int(period_ms * 10 + ci_ms))
    period, ci = period_ms / 1000, ci_ms / 1000
    d = np.arange(0, 60, period)
    true_h = 20.0 + d * (1 + 40e-6) + rng.uniform(0, ci)  # random event-grid phase
    arrival = np.ceil(true_h / ci) * ci + rng.uniform(0, 0.001, d.size)  # + radio/OS time
    m = ClockMapper()
    for di, hi in zip(d, arrival, strict=True):
        m.observe(di, hi)
    bound = np.gcd(int(period_ms * 10), int(ci_ms * 10)) / 10_000 + 0.001
    err = m.to_host(d) - true_h
    assert err.min() > -2e-3 and err.max() < bound
