"""The compiled clipping check equals ``np.abs(acc).max() >= limit`` (NaN included)."""

from __future__ import annotations

import numpy as np
import pytest

from imustream.stream.clip_kernel import reaches_full_scale


@pytest.mark.parametrize("seed", range(30))
def test_equals_numpy_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 20))
    acc = rng.normal(0, 60, (n, 3))
    limit = float(rng.choice([50.0, 156.9, 1e9]))
    if n and seed % 3 == 0:
        acc[rng.integers(n), rng.integers(3)] = -limit  # exactly at the limit, negative
    if n and seed % 5 == 0:
        acc[rng.integers(n), rng.integers(3)] = np.nan
    for arr in (acc, np.asfortranarray(acc), acc[::2], acc[:, ::-1]):
        expected = bool(arr.size) and bool(np.abs(arr).max() >= limit)
        assert reaches_full_scale(arr, limit) == expected
