"""Unwrap device timestamps that wrap around (e.g. a u32 microsecond counter every 71.6 min)."""

from __future__ import annotations

import numpy as np

__all__ = ["TimestampUnwrapper"]


class TimestampUnwrapper:
    """Add whole wrap periods to raw device timestamps so they keep increasing.

    A step back by more than half a period is a wrap-around; a step forward by more than
    half a period is a late sample from before the last wrap. Works on scalars or arrays
    (one packet's samples), and carries its state across calls.

    Parameters
    ----------
    wrap_s : float or None
        Wrap period in s (``profile.timestamp_wrap_s``); None means the clock never wraps.
    """

    def __init__(self, wrap_s: float | None) -> None:
        if wrap_s is not None and not wrap_s > 0:
            raise ValueError(f"wrap period must be positive, got {wrap_s!r}")
        self.wrap_s = wrap_s
        self.reset()

    def reset(self) -> None:
        """Forget the wrap count (after a reconnect or device reset)."""
        self._last: float | None = None
        self._k = 0
        self.wraps = 0

    def update(self, t_raw: float | np.ndarray) -> float | np.ndarray:
        """Unwrapped time(s) in s for raw device time(s) ``t_raw`` in s."""
        t = np.asarray(t_raw, dtype=np.float64)
        if self.wrap_s is None or t.size == 0:
            return float(t) if t.ndim == 0 else t.copy()
        flat = t.reshape(-1)
        prev = flat[0] if self._last is None else self._last
        d = np.diff(flat, prepend=prev)
        half = 0.5 * self.wrap_s
        steps = np.cumsum((d < -half).astype(np.int64) - (d > half).astype(np.int64))
        k = self._k + steps
        out = flat + k * self.wrap_s
        self._k = int(k[-1])
        self.wraps = self._k
        self._last = float(flat[-1])
        return float(out[0]) if t.ndim == 0 else out.reshape(t.shape)
