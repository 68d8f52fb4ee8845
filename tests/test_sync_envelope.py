"""ClockMapper's refits (full and newest-bucket-only) equal the reference fit exactly."""

from __future__ import annotations

import numpy as np
import pytest

from imustream.sync.clock import ClockMapper, lower_envelope_fit


class _CheckedMapper(ClockMapper):
    """A ClockMapper that checks every refit against the reference on the same points."""

    def __init__(self, **kwargs: float) -> None:
        self.refits = {"full": 0, "newest": 0}
        super().__init__(**kwargs)

    def _check(self) -> None:
        pts = list(self._buckets.values())
        ref = lower_envelope_fit([p[0] for p in pts], [p[1] for p in pts], self.max_slope)
        assert (self._a, self._b) == ref

    def _refit(self) -> None:
        super()._refit()
        self._check()
        self.refits["full"] += 1

    def _refit_newest(self) -> None:
        super()._refit_newest()
        self._check()
        self.refits["newest"] += 1


@pytest.mark.parametrize("seed", range(6))
def test_every_refit_equals_reference_fit_of_its_buckets(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = _CheckedMapper(window_s=float(rng.choice([5.0, 20.0])))
    drift = rng.uniform(-200e-6, 200e-6)
    t = np.arange(6000) / 100.0
    # one-sided random delays on a slowly wandering base (falling base: points below the fit)
    base = 0.02 * (1 + np.sin(t / rng.uniform(3, 9)))
    delay = base + rng.exponential(0.008, t.size) * (rng.random(t.size) < 0.9)
    order = np.arange(t.size)
    for i in range(0, t.size - 3, 7):  # some packets arrive out of order
        if rng.random() < 0.2:
            order[i], order[i + 2] = order[i + 2], order[i]
    for k in order:
        m.observe(t[k], 5.0 + t[k] * (1 + drift) + delay[k])
    assert m.refits["full"] > 100 and m.refits["newest"] > 20


@pytest.mark.parametrize("seed", range(20))
def test_reference_fit_is_a_lower_envelope(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 120))
    x = np.round(rng.uniform(0, 60, n), int(rng.integers(0, 4)))  # some equal x values
    y = 0.02 + 1e-4 * x + rng.exponential(0.01, n)
    max_slope = float(rng.choice([np.inf, 500e-6, 1e-6]))
    a, b = lower_envelope_fit(x, y, max_slope)
    assert np.all(y - (a + b * x) >= -1e-12)
    assert abs(b) <= max_slope
