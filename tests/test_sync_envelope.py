"""The compiled lower-envelope fit equals the plain-Python reference to the last bit."""

from __future__ import annotations

import numpy as np
import pytest

from imustream.sync.clock import ClockMapper, lower_envelope_fit
from imustream.sync.envelope_kernel import fit_sorted


@pytest.mark.parametrize("seed", range(40))
def test_kernel_is_bit_identical_to_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 120))
    x = np.round(rng.uniform(0, 60, n), int(rng.integers(0, 4)))  # some equal x values
    y = 0.02 + 1e-4 * x + rng.exponential(0.01, n)  # one-sided delays above a drifting line
    max_slope = float(rng.choice([np.inf, 500e-6, 1e-6]))
    order = np.lexsort((y, x))
    a, b = fit_sorted(x[order], y[order], max_slope)
    ra, rb = lower_envelope_fit(x, y, max_slope)
    assert (a, b) == (ra, rb)
    # and the fit is what it claims: below every point, slope bounded
    assert np.all(y - (a + b * x) >= -1e-12)
    assert abs(b) <= max_slope


class _CheckedMapper(ClockMapper):
    """A ClockMapper that checks every refit against the reference on the same points."""

    refits = 0

    def _refit(self) -> None:
        super()._refit()
        pts = list(self._buckets.values())
        ref = lower_envelope_fit([p[0] for p in pts], [p[1] for p in pts], self.max_slope)
        assert (self._a, self._b) == ref
        self.refits += 1


def test_mapper_fit_equals_reference_fit_of_its_buckets() -> None:
    rng = np.random.default_rng(7)
    m = _CheckedMapper(window_s=20.0)
    drift = 80e-6
    for k in range(4000):
        t = k / 100.0
        m.observe(t, 5.0 + t * (1 + drift) + rng.exponential(0.008))
    assert m.refits > 80
    assert m.drift_ppm == pytest.approx(80, abs=5)
