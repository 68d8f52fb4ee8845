"""RateClock (time-less devices) and QuantityPairer (separate acc / gyro notifications)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imustream.sync import QuantityPairer, RateClock
from imustream.types import SampleBlock


def test_rate_clock_times_and_inferred_loss():
    rng = np.random.default_rng(7)
    rate, n, ppm = 200.0, 3, 30.0
    k = np.arange(0, 200 * 60, n)  # first sample index of each packet, 60 s
    true_t = lambda idx: 1000.0 + idx / rate * (1 + ppm * 1e-6)  # noqa: E731
    lost = (k >= 6000) & (k < 6102)  # 34 packets (102 samples) lost at 30 s
    clock = RateClock(rate)
    errs, missing = [], []
    for first in k[~lost]:
        arrival = true_t(first + n - 1) + rng.uniform(0, 0.04)
        res = clock.update(n, arrival)
        missing.append(res.missing)
        if first > 200 * 20:
            errs.append(np.abs(res.t_host - true_t(first + np.arange(n))).max())
    assert sum(missing) == pytest.approx(102, abs=1)
    assert max(errs[-200 * 20 // n :]) < 2e-3  # the last 20 s, well after settling
    assert max(errs) < 0.045  # during settling: at most the BLE delay (40 ms)
    assert clock.mapper.drift_ppm == pytest.approx(ppm, abs=15)


def test_rate_clock_without_loss_is_accurate():
    rng = np.random.default_rng(3)
    rate, n = 100.0, 1
    clock = RateClock(rate)
    err = []
    for i in range(6000):
        t = 5.0 + i / rate * (1 - 40e-6)
        res = clock.update(n, t + rng.exponential(0.01))
        assert res.missing == 0
        if i > 3000:
            err.append(abs(res.t_host[0] - t))
    assert max(err) < 1e-3


def test_rate_clock_rejects_bad_args():
    with pytest.raises(ValueError):
        RateClock(0.0)
    with pytest.raises(ValueError):
        RateClock(100.0).update(0, 1.0)


def _block(values, times, quantity):
    nan = np.full_like(values, np.nan)
    if quantity == "acc":
        return SampleBlock(acc=values, gyr=nan, t_device=times)
    return SampleBlock(acc=nan, gyr=values, t_device=times)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.booleans(), min_size=20, max_size=20),
    st.lists(st.booleans(), min_size=20, max_size=20),
    st.randoms(use_true_random=False),
    st.booleans(),
)
def test_pairer_loses_nothing_and_pairs_by_time(keep_acc, keep_gyr, rnd, timed):
    rate, n = 50.0, 4
    packets = []
    for i in range(20):
        idx = np.arange(i * n, (i + 1) * n, dtype=float)
        t = idx / rate if timed else None
        vals = np.repeat(idx[:, None], 3, axis=1)
        if keep_acc[i] or not timed:
            packets.append(("acc", _block(vals, t, "acc")))
        if keep_gyr[i] or not timed:
            packets.append(("gyr", _block(vals + 0.5, t, "gyr")))
    # the two streams interleave in any order, each stream keeps its own order
    acc_p = [b for q, b in packets if q == "acc"]
    gyr_p = [b for q, b in packets if q == "gyr"]
    merged = []
    while acc_p or gyr_p:
        src = acc_p if (acc_p and (not gyr_p or rnd.random() < 0.5)) else gyr_p
        merged.append(src.pop(0))
    pairer = QuantityPairer(rate)
    out = [o for b in merged for o in pairer.push(b)] + pairer.flush()
    acc = np.concatenate([o.acc for o in out])
    gyr = np.concatenate([o.gyr for o in out])
    n_acc = sum(keep_acc) * n if timed else 20 * n
    n_gyr = sum(keep_gyr) * n if timed else 20 * n
    assert np.count_nonzero(~np.isnan(acc[:, 0])) == n_acc
    assert np.count_nonzero(~np.isnan(gyr[:, 0])) == n_gyr
    both = ~np.isnan(acc[:, 0]) & ~np.isnan(gyr[:, 0])
    np.testing.assert_array_equal(gyr[both, 0] - acc[both, 0], 0.5)  # paired = same sample
    if timed:
        t = np.concatenate([o.t_device for o in out])
        assert np.all(np.diff(np.sort(t)) >= 0)


def test_pairer_passes_6_axis_blocks_and_bounds_backlog():
    p = QuantityPairer(100.0, max_backlog=5)
    six = SampleBlock(acc=np.zeros((2, 3)), gyr=np.ones((2, 3)))
    assert p.push(six) == [six]
    out = p.push(_block(np.ones((8, 3)), None, "acc"))
    assert sum(o.n for o in out) == 3 and np.isnan(out[0].gyr).all()
    assert p.unpaired == 3


def test_rate_clock_delay_spike_without_loss_nets_to_zero():
    """A 300 ms stall of the host (no packet lost) first looks like loss; the settling period
    takes it back, so the net count of lost samples is zero and later times are exact."""
    rng = np.random.default_rng(9)
    rate, n = 200.0, 4
    clock = RateClock(rate)
    changes, late_err = [], []
    for k in range(0, 200 * 40, n):
        t_last = 50.0 + (k + n - 1) / rate
        delay = rng.uniform(0, 0.02) + (0.3 if 200 * 20 <= k < 200 * 20 + 60 else 0.0)
        res = clock.update(n, t_last + delay)
        changes.append(res.missing)
        if k > 200 * 25:
            late_err.append(np.abs(res.t_host - (50.0 + (k + np.arange(n)) / rate)).max())
    assert sum(changes) == 0 and any(c > 0 for c in changes)
    assert max(late_err) < 1e-3
