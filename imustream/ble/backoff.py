"""Capped exponential backoff for reconnect attempts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Backoff:
    """Delay before reconnect attempt k: ``min(cap, initial * factor**k)``.

    The cap is kept short (1 s by default) so a sensor that comes back in range is picked up
    within about a second; ``reset()`` after a successful connection.
    """

    initial: float = 0.1
    factor: float = 2.0
    cap: float = 1.0
    attempt: int = 0

    def __post_init__(self) -> None:
        if not (self.initial > 0 and self.factor >= 1 and self.cap >= self.initial):
            raise ValueError(
                f"Backoff needs initial > 0, factor >= 1, cap >= initial; got "
                f"initial={self.initial}, factor={self.factor}, cap={self.cap}"
            )

    def next_delay(self) -> float:
        """Return the delay for the next attempt and count the attempt."""
        delay = min(self.cap, self.initial * self.factor**self.attempt)
        self.attempt += 1
        return delay

    def reset(self) -> None:
        """Start again from ``initial`` (after a successful connection)."""
        self.attempt = 0
