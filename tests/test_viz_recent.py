"""Fixed-size containers of the dashboard: newest-N values and the decimated session trend."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imustream.viz.recent import DecimatedTrend, RecentValues


def test_recent_values_keep_the_newest_and_count_all():
    v = RecentValues(4)
    v.extend([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(np.asarray(v), [1, 2, 3])
    v.extend([4.0, 5.0, 6.0])
    assert len(v) == 6 and v.capacity == 4
    np.testing.assert_array_equal(np.asarray(v), [3, 4, 5, 6])
    np.testing.assert_array_equal(v[4:], [5, 6])  # appended since the count was 4
    np.testing.assert_array_equal(v[0:], [3, 4, 5, 6])  # older ones are gone
    assert v[6:].size == 0
    with pytest.raises(TypeError):
        v[1:3]
    with pytest.raises(ValueError):
        RecentValues(0)


def _reference(xs: np.ndarray, ys: np.ndarray, per_bin: int):
    """Plain min/max decimation in bins of ``per_bin`` points from the start (last bin partial),
    then the newest point."""
    ok = np.isfinite(ys)
    xs, ys = xs[ok], ys[ok]
    out = []
    for a in range(0, len(ys), per_bin):
        seg = ys[a : a + per_bin]
        i, j = a + int(np.argmin(seg)), a + int(np.argmax(seg))
        out += [i] if i == j else sorted((i, j))
    if len(ys) and (not out or out[-1] != len(ys) - 1):
        out.append(len(ys) - 1)
    return xs[out], ys[out]


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 600),
    max_bins=st.integers(3, 12),
    seed=st.integers(0, 2**32 - 1),
    nan_frac=st.sampled_from([0.0, 0.1]),
)
def test_decimated_trend_equals_plain_minmax_bins_and_stays_bounded(n, max_bins, seed, nan_frac):
    rng = np.random.default_rng(seed)
    xs = np.cumsum(rng.uniform(0.1, 1.0, n))
    ys = rng.normal(size=n).round(1)  # ties: the first of equal values wins, as argmin/argmax
    ys[rng.random(n) < nan_frac] = np.nan
    tr = DecimatedTrend(max_bins)
    sizes = []
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        tr.add(x, y)
        if i % 5 == 0:
            sizes.append(tr.points()[0].size)
    x_out, y_out = tr.points()
    x_ref, y_ref = _reference(xs, ys, tr.per_bin)
    np.testing.assert_array_equal(x_out, x_ref)
    np.testing.assert_array_equal(y_out, y_ref)
    assert max(sizes, default=0) <= 2 * max_bins + 1
    finite = ys[np.isfinite(ys)]
    if finite.size:  # every peak of the session is on the line
        assert y_out.max() == finite.max() and y_out.min() == finite.min()
        assert x_out[-1] == xs[np.isfinite(ys)][-1]


def test_decimated_trend_memory_is_fixed():
    tr = DecimatedTrend(750)
    for i in range(200_000):
        tr.add(float(i), float(np.sin(i / 100.0)))
    x, _ = tr.points()
    assert x.size <= 1501 and tr._bins.shape == (748, 4) and tr.count == 200_000


def test_record_log_is_a_ring_and_says_what_a_slow_reader_missed():
    from imustream.types import InitialContact
    from imustream.viz.feed import LiveFeed, RecordLog
    from imustream.viz.model import DashboardModel

    log = RecordLog(4)
    for i in range(3):
        log.push(i, source_host_ns=i)
    items, n = log.since(0)
    assert [s.record for s in items] == [0, 1, 2] and n == 3
    for i in range(3, 10):
        log.push(i)
    items, n = log.since(3)
    assert [s.record for s in items] == [6, 7, 8, 9] and n == 10  # 3 records missed
    assert log.since(10) == ([], 10) and len(log._items) == 4
    with pytest.raises(ValueError):
        RecordLog(0)
    # the dashboard model counts what it missed when it fell a whole ring behind
    feed = LiveFeed(("shoe_left",), keep_records=5)
    model = DashboardModel(feed)
    feed.push_records([InitialContact("shoe_left", None, 0.1 * i, 0.1 * i) for i in range(8)])
    model.update()
    assert model.records_missed == 3 and model.backlog() == (0, 0)
