"""Sample times for devices whose packets carry no time (derived from rate and arrivals)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .clock import ClockMapper

__all__ = ["RateClock", "RateTimes"]


class RateTimes(NamedTuple):
    """Result of :meth:`RateClock.update`.

    ``t_host`` are the host times (s) of the packet's samples; ``missing`` is the change of
    the lost-sample count made with this packet: the samples inferred lost just before it
    (from a silence in the arrivals), or, at the end of the settling period after such a
    loss, a (possibly negative) correction of that estimate; 0 otherwise. ``new_segment`` is
    True for the first packet after a reset.
    """

    t_host: np.ndarray
    missing: int
    new_segment: bool


class RateClock:
    """Host sample times from the nominal rate and packet arrival times.

    Sample ``k`` (counted from the first one) gets the synthetic device time ``k / rate``;
    a :class:`ClockMapper` maps it to host time with the same lower-envelope fit as a real
    device clock, so the true rate (crystal error) is learnt too. Blocks timed this way
    must carry ``BlockFlags.TIME_FROM_RATE``.

    A packet arriving more than ``gap_threshold_s`` after the time its last sample should
    have arrived means samples were lost; their number is inferred from the silence and the
    sample counter skips them (devices without sequence counters give no better evidence).
    That first estimate includes the late packet's own BLE delay, so for ``settle_s`` after
    a loss the arrivals are only compared with the fit (not added to it); the least-delayed
    of them fixes the estimate, then fitting resumes. Times given during settling may be
    late by up to the BLE delay of the packet that ended the silence.

    Parameters
    ----------
    rate : float
        Nominal sample rate in Hz.
    gap_threshold_s : float
        Lateness that counts as loss (keep it above the worst BLE delay).
    **mapper_kwargs
        Passed to :class:`ClockMapper`.
    """

    def __init__(
        self,
        rate: float,
        gap_threshold_s: float = 0.25,
        settle_s: float = 1.0,
        **mapper_kwargs: float,
    ) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be positive, got {rate!r}")
        self.rate = float(rate)
        self.gap_threshold_s = float(gap_threshold_s)
        self.settle_s = float(settle_s)
        self.mapper = ClockMapper(**mapper_kwargs)
        self.reset()

    def reset(self) -> None:
        """Start again (after a reconnect)."""
        self.mapper.reset()
        self.count = 0
        self.missing = 0
        self._settle_end: int | None = None
        self._settle_min = np.inf

    def update(self, n: int, host_s: float) -> RateTimes:
        """Times of the ``n`` samples of a packet that arrived at host time ``host_s`` (s)."""
        if n < 1:
            raise ValueError(f"a packet has at least one sample, got n={n}")
        first = not self.mapper.ready
        missing = 0
        if not first:
            late = host_s - self.mapper.to_host((self.count + n - 1) / self.rate)
            if late > self.gap_threshold_s:
                missing = round(late * self.rate)
                self.count += missing
                self._settle_end = self.count + round(self.settle_s * self.rate)
                self._settle_min = np.inf
                late = host_s - self.mapper.to_host((self.count + n - 1) / self.rate)
            if self._settle_end is not None:
                self._settle_min = min(self._settle_min, late)
                if self.count + n >= self._settle_end:
                    fix = round(self._settle_min * self.rate)  # negative: loss over-estimated
                    self.count += fix
                    missing += fix
                    self._settle_end = None
        self.missing += missing
        idx = self.count + np.arange(n, dtype=np.float64)
        if self._settle_end is None:
            self.mapper.observe(idx[-1] / self.rate, host_s)
        self.count += n
        return RateTimes(self.mapper.to_host(idx / self.rate), missing, first)
