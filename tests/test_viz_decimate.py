"""Min/max decimation against a plain-loop reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from imustream.viz.decimate import minmax_decimate


def _reference(x, y, n_bins):
    n = len(y)
    if n <= 2 * n_bins:
        return x, y
    per = -(-n // n_bins)
    xs, ys = [], []
    for start in range(0, n, per):
        seg = list(range(start, min(start + per, n)))
        i_min = min(seg, key=lambda i: (y[i], i))
        i_max = max(seg, key=lambda i: (y[i], -i))
        for i in sorted((i_min, i_max)):
            xs.append(x[i])
            ys.append(y[i])
    return np.array(xs), np.array(ys)


@settings(max_examples=200, deadline=None)
@given(
    y=arrays(np.float64, st.integers(1, 600), elements=st.floats(-1e6, 1e6)),
    n_bins=st.integers(1, 80),
)
def test_matches_reference(y, n_bins):
    x = np.arange(y.size, dtype=np.float64) * 0.0025
    xd, yd = minmax_decimate(x, y, n_bins)
    xr, yr = _reference(x, y, n_bins)
    np.testing.assert_array_equal(xd, xr)
    np.testing.assert_array_equal(yd, yr)
    assert xd.size <= max(y.size, 2 * n_bins + 2)
    assert np.all(np.diff(xd) >= 0)
    assert yd.max() == y.max() and yd.min() == y.min()


def test_keeps_a_single_sample_spike():
    x = np.arange(4000, dtype=np.float64)
    y = np.zeros(4000)
    y[2717] = 70.0
    xd, yd = minmax_decimate(x, y, 300)
    assert xd.size <= 602
    assert yd.max() == 70.0 and xd[yd.argmax()] == 2717


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="equal length"):
        minmax_decimate(np.arange(3.0), np.arange(4.0), 10)
    with pytest.raises(ValueError, match="n_bins"):
        minmax_decimate(np.arange(3.0), np.arange(3.0), 0)
