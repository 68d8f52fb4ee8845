"""SequenceTracker and TimestampUnwrapper: exact accounting across wrap-around and reordering."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imustream.sync import SequenceTracker, TimestampUnwrapper


def test_simple_gap_and_duplicate_across_wrap():
    t = SequenceTracker(8)
    out = [t.update(s) for s in (254, 255, 1, 1, 0, 2)]
    assert [r.unwrapped for r in out] == [254, 255, 257, 257, 256, 258]
    assert [r.gap for r in out] == [0, 0, 1, 0, 0, 0]
    assert [r.duplicate for r in out] == [False, False, False, True, False, False]
    assert [r.reordered for r in out] == [False, False, False, False, True, False]
    assert (t.missing, t.duplicates, t.reordered, t.gaps, t.received) == (0, 1, 1, 1, 6)


def test_rejects_out_of_range():
    with pytest.raises(ValueError):
        SequenceTracker(8).update(256)
    with pytest.raises(ValueError):
        SequenceTracker(1)


@st.composite
def _streams(draw):
    bits = draw(st.sampled_from([4, 8, 16]))
    n = draw(st.integers(1, 400))
    start = draw(st.integers(0, (1 << bits) - 1))
    keep = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    keep[0] = True
    # losses and reordering each stay below a quarter of the counter range, so every arrival
    # lies within half the range of the highest counter seen (the tracker's stated limit)
    max_disp = max(1, (1 << bits) // 4 - 1)
    run = 0
    for i in range(n):
        run = 0 if keep[i] else run + 1
        if run >= max_disp:
            keep[i], run = True, 0
    idx = [start + i for i in range(n) if keep[i]]
    keys = [v + draw(st.integers(0, max_disp)) for v in idx]
    order = sorted(range(len(idx)), key=lambda k: (keys[k], k))
    arrivals = [idx[k] for k in order]
    # duplicates: re-send a recent packet (within the reordering bound)
    dup_at = draw(st.lists(st.integers(0, len(arrivals) - 1), max_size=10))
    for pos in sorted(dup_at, reverse=True):
        arrivals.insert(pos + 1, arrivals[pos])
    return bits, arrivals


@settings(max_examples=150, deadline=None)
@given(_streams())
def test_accounting_exact_with_wrap_reorder_duplicates(case):
    bits, arrivals = case
    t = SequenceTracker(bits)
    seen = set()
    n_dup = 0
    base = None
    for a in arrivals:
        r = t.update(a % (1 << bits))
        base = r.unwrapped if base is None else base  # the tracker starts at the first raw value
        assert r.unwrapped - base == a - arrivals[0]
        assert r.duplicate == (a in seen)
        n_dup += a in seen
        seen.add(a)
    assert t.duplicates == n_dup
    assert t.received == len(arrivals)
    assert t.missing == (max(seen) - min(seen) + 1) - len(seen)
    assert t.highest - base == max(seen) - arrivals[0]
    # every late packet (below the running maximum, first copy) counts as reordered
    running, late, firsts = -1, 0, set()
    for a in arrivals:
        if a not in firsts and a < running:
            late += 1
        firsts.add(a)
        running = max(running, a)
    assert t.reordered == late


def test_timestamp_unwrapper_scalar_and_arrays():
    u = TimestampUnwrapper(10.0)
    assert u.update(9.0) == 9.0
    assert u.update(9.5) == 9.5
    assert u.update(0.5) == 10.5  # wrapped
    assert u.update(9.9) == 9.9  # a late sample from before the wrap
    np.testing.assert_allclose(u.update(np.array([1.0, 5.0, 9.0, 2.0])), [11, 15, 19, 22])
    assert u.wraps == 2


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.001, 0.4), min_size=1, max_size=300), st.integers(1, 7))
def test_timestamp_unwrapper_matches_truth_any_chunking(steps, chunk):
    wrap = 1.0
    truth = np.cumsum(steps) + 0.3
    raw = np.mod(truth, wrap)
    u = TimestampUnwrapper(wrap)
    out = np.concatenate([u.update(raw[i : i + chunk]) for i in range(0, len(raw), chunk)])
    np.testing.assert_allclose(out - out[0], truth - truth[0], atol=1e-9)


def test_no_wrap_passthrough():
    u = TimestampUnwrapper(None)
    np.testing.assert_array_equal(u.update(np.array([3.0, 1.0])), [3.0, 1.0])
