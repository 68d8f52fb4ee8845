"""Merge accelerometer-only and gyroscope-only blocks into 6-axis blocks.

MetaMotion and Polar Verity Sense notify the two quantities separately; their decoded
blocks carry NaN for the missing one. Both run at the same rate, so samples pair in order.
When both carry device times, a head sample whose partner is more than half a sample period
away (its partner's packet was lost) is released alone with NaN for the other quantity, so
a loss in one stream does not shift the pairing. Without times (MetaWear) pairing is by order.
A stream that runs more than ``max_backlog`` samples ahead is released unpaired too:
nothing is held back indefinitely and nothing is dropped.
"""

from __future__ import annotations

import numpy as np

from ..types import SampleBlock

__all__ = ["QuantityPairer"]


class _Queue:
    def __init__(self) -> None:
        self.values = np.empty((0, 3))
        self.times: np.ndarray | None = None

    def push(self, values: np.ndarray, times: np.ndarray | None) -> None:
        self.values = np.concatenate([self.values, values])
        if times is not None:
            self.times = times.copy() if self.times is None else np.concatenate([self.times, times])

    def pop(self, k: int) -> tuple[np.ndarray, np.ndarray | None]:
        v, self.values = self.values[:k], self.values[k:]
        t = None
        if self.times is not None:
            t, self.times = self.times[:k], self.times[k:]
        return v, t

    def __len__(self) -> int:
        return self.values.shape[0]


class QuantityPairer:
    """Pair acc-only and gyr-only blocks of one sensor into 6-axis blocks.

    Parameters
    ----------
    rate : float
        Sample rate in Hz (for time alignment).
    max_backlog : int
        Samples one stream may run ahead before they are released unpaired.
    """

    def __init__(self, rate: float, max_backlog: int = 256) -> None:
        self.half_period = 0.5 / float(rate)
        self.max_backlog = int(max_backlog)
        self.reset()

    def reset(self) -> None:
        """Drop buffered samples' pairing state (after a reconnect)."""
        self._acc = _Queue()
        self._gyr = _Queue()
        self.unpaired = 0

    def push(self, block: SampleBlock) -> list[SampleBlock]:
        """Add one decoded block; return the 6-axis blocks that are now complete."""
        has_acc = not np.isnan(block.acc).all()
        has_gyr = not np.isnan(block.gyr).all()
        if has_acc and has_gyr:
            return [block]
        if has_acc:
            self._acc.push(block.acc, block.t_device)
        elif has_gyr:
            self._gyr.push(block.gyr, block.t_device)
        return self._drain()

    def flush(self) -> list[SampleBlock]:
        """Release everything still buffered (unpaired samples get NaN partners)."""
        out = self._drain()
        for q, is_acc in ((self._acc, True), (self._gyr, False)):
            if len(q):
                out.append(self._single(q, len(q), is_acc))
        return out

    def _single(self, q: _Queue, k: int, is_acc: bool) -> SampleBlock:
        v, t = q.pop(k)
        self.unpaired += k
        nan = np.full_like(v, np.nan)
        return SampleBlock(acc=v if is_acc else nan, gyr=nan if is_acc else v, t_device=t)

    def _drain(self) -> list[SampleBlock]:
        out: list[SampleBlock] = []
        a, g = self._acc, self._gyr
        timed = a.times is not None and g.times is not None
        while len(a) and len(g):
            if timed:
                ta, tg = a.times, g.times
                d = ta[: min(len(a), len(g))] - tg[: min(len(a), len(g))]
                bad = np.flatnonzero(np.abs(d) > self.half_period)
                if bad.size and bad[0] == 0:
                    # head samples do not belong together: release the earlier one alone
                    if d[0] < 0:
                        out.append(self._single(a, 1, True))
                    else:
                        out.append(self._single(g, 1, False))
                    continue
                k = int(bad[0]) if bad.size else min(len(a), len(g))
            else:
                k = min(len(a), len(g))
            acc, t = a.pop(k)
            gyr, _ = g.pop(k)
            out.append(SampleBlock(acc=acc, gyr=gyr, t_device=t))
        for q, is_acc in ((a, True), (g, False)):
            if len(q) > self.max_backlog:
                out.append(self._single(q, len(q) - self.max_backlog, is_acc))
        return out
