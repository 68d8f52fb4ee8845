"""Packet sequence counters: unwrap across wrap-around, count gaps, duplicates, reordering."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["SeqResult", "SequenceTracker"]


class SeqResult(NamedTuple):
    """Outcome of one :meth:`SequenceTracker.update`.

    ``gap`` is the number of packets skipped by a forward jump (0 otherwise); a packet that
    arrives later for one of them is reported with ``reordered=True`` and no longer counts
    as missing. ``duplicate`` packets were seen before and should be dropped.
    """

    unwrapped: int
    gap: int
    duplicate: bool
    reordered: bool


class SequenceTracker:
    """Unwrap a ``bits``-wide packet counter and keep exact loss accounting.

    A counter value is placed at the unwrapped position nearest the highest one seen so far
    (so a packet may arrive up to half the counter range late or early). Duplicates are
    recognised within a window of ``min(2**(bits-1), 65536)`` packets.

    Attributes
    ----------
    received : int
        Packets passed to :meth:`update` (duplicates included).
    duplicates, reordered, gaps : int
        Duplicate packets, late (out-of-order) packets, forward jumps.
    """

    def __init__(self, bits: int) -> None:
        if not isinstance(bits, int) or not 2 <= bits <= 64:
            raise ValueError(f"sequence counter width must be 2..64 bits, got {bits!r}")
        self.bits = bits
        self._mod = 1 << bits
        self._half = self._mod >> 1
        self._window = min(self._half, 1 << 16)
        self.reset()

    def reset(self) -> None:
        """Forget everything (after a reconnect or device reset)."""
        self._first: int | None = None
        self._max: int | None = None
        self._seen: set[int] = set()
        self.received = 0
        self.duplicates = 0
        self.reordered = 0
        self.gaps = 0

    @property
    def highest(self) -> int | None:
        """Highest unwrapped counter seen, or None."""
        return self._max

    @property
    def missing(self) -> int:
        """Packets never received between the lowest and the highest counter seen (exact)."""
        if self._max is None:
            return 0
        unique = self.received - self.duplicates
        return (self._max - self._first + 1) - unique  # type: ignore[operator]

    def update(self, raw_seq: int) -> SeqResult:
        """Account for one received packet counter ``raw_seq`` (0 <= raw_seq < 2**bits)."""
        raw = int(raw_seq)
        if not 0 <= raw < self._mod:
            raise ValueError(f"sequence value {raw_seq!r} outside 0..{self._mod - 1}")
        self.received += 1
        if self._max is None:
            self._first = self._max = raw
            self._seen.add(raw)
            return SeqResult(raw, 0, False, False)
        d = (raw - self._max) % self._mod
        if d >= self._half:
            d -= self._mod
        u = self._max + d
        if d > 0:
            self._max = u
            self._seen.add(u)
            if len(self._seen) > 2 * self._window:
                low = u - self._window
                self._seen = {s for s in self._seen if s >= low}
            if d > 1:
                self.gaps += 1
            return SeqResult(u, d - 1, False, False)
        if u in self._seen or u < self._max - self._window:
            self.duplicates += 1
            return SeqResult(u, 0, True, False)
        self._seen.add(u)
        self.reordered += 1
        if u < self._first:  # type: ignore[operator]
            self._first = u
        return SeqResult(u, 0, False, True)
