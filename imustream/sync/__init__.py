"""Time and loss bookkeeping per sensor: sequence counters, timestamp wrap-around, clock
mapping (device -> host), rate-derived times for devices without timestamps, and pairing of
separately notified accelerometer / gyroscope streams."""

from __future__ import annotations

from .clock import ClockMapper, lower_envelope_fit
from .pairer import QuantityPairer
from .rateclock import RateClock, RateTimes
from .sequence import SeqResult, SequenceTracker
from .timestamps import TimestampUnwrapper

__all__ = [
    "ClockMapper",
    "QuantityPairer",
    "RateClock",
    "RateTimes",
    "SeqResult",
    "SequenceTracker",
    "TimestampUnwrapper",
    "lower_envelope_fit",
]
