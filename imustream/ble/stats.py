"""Per-sensor link and stream statistics."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SensorStats:
    """Counters for one sensor; written by one thread, read (racily, for display) by others.

    Times are session seconds of the first and newest sample; ``effective_rate`` is samples
    per second of session time over the streaming span.
    """

    sensor: str
    profile: str = ""
    address: str = ""
    name: str = ""
    state: str = "idle"
    packets: int = 0
    samples: int = 0
    gaps: int = 0
    missing_samples: int = 0
    duplicates: int = 0
    reordered: int = 0
    late: int = 0  # arrived after their gap had been reported (kept in the raw log only)
    decode_errors: int = 0
    queue_dropped: int = 0  # notifications the BLE queue dropped while full ("overflow" gaps)
    clock_slews: int = 0  # blocks slewed so that session time never runs backwards
    reconnects: int = 0
    rssi: int | None = None
    battery: int | None = None
    mtu: int | None = None
    nominal_rate: float = float("nan")
    first_time: float | None = None
    last_time: float | None = None
    problem: str | None = None  # the current diagnosis shown to the user, if any
    messages: list[str] = field(default_factory=list)

    @property
    def effective_rate(self) -> float:
        """Delivered samples per session second (NaN before two samples)."""
        if self.first_time is None or self.last_time is None or self.last_time <= self.first_time:
            return float("nan")
        return (self.samples - 1) / (self.last_time - self.first_time)

    @property
    def loss_fraction(self) -> float:
        """Missing samples / (delivered + missing)."""
        total = self.samples + self.missing_samples
        return self.missing_samples / total if total else 0.0

    def note(self, message: str, keep: int = 20) -> None:
        """Remember a diagnostic message (the newest ``keep`` are kept)."""
        self.messages.append(message)
        del self.messages[:-keep]
