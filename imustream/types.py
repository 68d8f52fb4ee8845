"""Core data types shared by every part of imustream.

All records are frozen, slotted dataclasses. Units follow DESIGN.md: acceleration in m/s^2
(specific force, gravity included), angular rate in rad/s, magnetic field in uT, times in
seconds, angles in degrees. Every float field is a Python ``float`` (IEEE float64) and every
array field is ``numpy.float64``; integer counters are Python ``int``.

Times called ``time`` / ``*_time`` are *session* seconds: seconds since the session's time
origin on the host monotonic clock, after device time has been mapped to host time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntFlag, StrEnum
from typing import Literal

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "SIDES",
    "STEP_FIELDS",
    "Alert",
    "BlockFlags",
    "Gap",
    "InitialContact",
    "LinkState",
    "Marker",
    "SampleBlock",
    "Sensor",
    "Side",
    "StateChange",
    "Step",
    "ToeOff",
]

FloatArray = NDArray[np.float64]
Side = Literal["left", "right"]
SIDES: tuple[Side, Side] = ("left", "right")


class Sensor(StrEnum):
    """Where a sensor is worn (its role in a session)."""

    PELVIS = "pelvis"
    SHOE_LEFT = "shoe_left"
    SHOE_RIGHT = "shoe_right"

    @property
    def side(self) -> Side | None:
        """Stance side a shoe sensor belongs to, ``None`` for the pelvis."""
        if self is Sensor.SHOE_LEFT:
            return "left"
        if self is Sensor.SHOE_RIGHT:
            return "right"
        return None


class BlockFlags(IntFlag):
    """Diagnostic flags carried by a :class:`SampleBlock`."""

    NONE = 0
    #: sample times derived from the nominal rate and arrival times (packet carries no time)
    TIME_FROM_RATE = 1
    #: at least one accelerometer sample is at the sensor's range limit
    ACC_CLIPPED = 2
    #: this block follows a gap in the stream (lost packets or a reconnect)
    AFTER_GAP = 4
    #: first block of a new clock segment (after a reconnect or a device clock reset)
    NEW_SEGMENT = 8


@dataclass(frozen=True, slots=True)
class SampleBlock:
    """One decoded notification, or any chunk of consecutive samples of one sensor.

    Parameters
    ----------
    acc : ndarray, shape (n, 3), float64
        Specific force in m/s^2, sensor frame, as the device reports its axes.
    gyr : ndarray, shape (n, 3), float64
        Angular rate in rad/s, sensor frame.
    t_device : ndarray, shape (n,), float64, or None
        Device timestamp of each sample in seconds, *raw* (not unwrapped across counter
        wrap-around); ``None`` when the packet carries no time.
    mag : ndarray, shape (n, 3), float64, or None
        Magnetic field in uT when the device sends it.
    seq : int or None
        Raw packet sequence counter as sent by the device (before unwrapping), if any.
    sensor : str or None
        Sensor role (:class:`Sensor` value) once known; decoders leave it ``None``.
    host_ns : int or None
        Host monotonic receive time of the notification in ns (``time.monotonic_ns``).
    t_session : ndarray, shape (n,), float64, or None
        Sample times in session seconds after clock mapping; ``None`` straight from a decoder.
    flags : BlockFlags
        Diagnostic flags (time source, clipping, gap, new clock segment).
    """

    acc: FloatArray
    gyr: FloatArray
    t_device: FloatArray | None = None
    mag: FloatArray | None = None
    seq: int | None = None
    sensor: str | None = None
    host_ns: int | None = None
    t_session: FloatArray | None = None
    flags: BlockFlags = BlockFlags.NONE

    def __post_init__(self) -> None:
        n = self.acc.shape[0] if self.acc.ndim == 2 else -1
        if self.acc.ndim != 2 or self.acc.shape[1] != 3:
            raise ValueError(f"SampleBlock.acc must have shape (n, 3), got {self.acc.shape}")
        if self.gyr.shape != (n, 3):
            raise ValueError(f"SampleBlock.gyr must have shape ({n}, 3), got {self.gyr.shape}")
        if self.mag is not None and self.mag.shape != (n, 3):
            raise ValueError(f"SampleBlock.mag must have shape ({n}, 3), got {self.mag.shape}")
        for name in ("t_device", "t_session"):
            t = getattr(self, name)
            if t is not None and t.shape != (n,):
                raise ValueError(f"SampleBlock.{name} must have shape ({n},), got {t.shape}")

    @property
    def n(self) -> int:
        """Number of samples in the block."""
        return int(self.acc.shape[0])

    @classmethod
    def trusted(
        cls,
        acc: FloatArray,
        gyr: FloatArray,
        t_device: FloatArray | None = None,
        mag: FloatArray | None = None,
        seq: int | None = None,
        sensor: str | None = None,
        host_ns: int | None = None,
        t_session: FloatArray | None = None,
        flags: BlockFlags = BlockFlags.NONE,
    ) -> SampleBlock:
        """Build a block without the shape checks, for callers whose shapes hold by construction.

        Decoders and the acquisition build one block per notification; the checks of the
        normal constructor cost more than the rest of decoding a small packet.
        """
        out = object.__new__(cls)
        put = object.__setattr__  # the dataclass is frozen
        put(out, "acc", acc)
        put(out, "gyr", gyr)
        put(out, "t_device", t_device)
        put(out, "mag", mag)
        put(out, "seq", seq)
        put(out, "sensor", sensor)
        put(out, "host_ns", host_ns)
        put(out, "t_session", t_session)
        put(out, "flags", flags)
        return out


@dataclass(frozen=True, slots=True)
class InitialContact:
    """A foot strike.

    ``time`` is the estimated event time (session s); ``emitted_time`` is the time of the
    newest sample the detector had seen when it emitted the event, so
    ``emitted_time - time`` is the algorithmic latency in s.
    """

    sensor: str
    side: Side | None
    time: float
    emitted_time: float
    confidence: float = 1.0


@dataclass(frozen=True, slots=True)
class ToeOff:
    """A toe-off (final contact); fields as :class:`InitialContact`."""

    sensor: str
    side: Side | None
    time: float
    emitted_time: float
    confidence: float = 1.0


#: Column names of a step table (``analyze_run`` output, HDF5 ``steps`` table), in order.
STEP_FIELDS: tuple[str, ...] = (
    "side",
    "ic_time",
    "to_time",
    "contact_time",
    "flight_time",
    "step_time",
    "cadence",
    "impact_peak",
    "pelvic_drop_deg",
    "has_gap",
    "clipped",
)


@dataclass(frozen=True, slots=True)
class Step:
    """One stance and the flight that follows it, on the stance leg ``side``.

    Times in session s, ``cadence`` in steps/min, ``impact_peak`` in m/s^2 (shoe
    acceleration magnitude peak at IC), ``pelvic_drop_deg`` in degrees (DESIGN.md
    definition). Quantities that could not be measured are NaN.
    """

    side: Side
    ic_time: float
    to_time: float = float("nan")
    contact_time: float = float("nan")
    flight_time: float = float("nan")
    step_time: float = float("nan")
    cadence: float = float("nan")
    impact_peak: float = float("nan")
    pelvic_drop_deg: float = float("nan")
    has_gap: bool = False
    clipped: bool = False


@dataclass(frozen=True, slots=True)
class Gap:
    """Samples that should exist but do not (session s, ``start`` < ``end``).

    ``reason`` is ``"loss"`` (missing packets inside a connection), ``"disconnect"``
    (link lost until reconnect) or ``"reset"`` (device clock restart).
    """

    sensor: str
    start: float
    end: float
    n_missing: int
    reason: str = "loss"


@dataclass(frozen=True, slots=True)
class Alert:
    """An asymmetry alert turning on (``active=True``) or off at ``time`` (session s)."""

    time: float
    metric: str
    side: Side | None
    active: bool
    value: float
    threshold: float
    message: str = ""


@dataclass(frozen=True, slots=True)
class Marker:
    """A user annotation at ``time`` (session s): e.g. ``kind="pain", value=4``."""

    time: float
    kind: str
    value: float = float("nan")
    text: str = ""


class LinkState(StrEnum):
    """State of one sensor link."""

    IDLE = "idle"
    SCANNING = "scanning"
    CONNECTING = "connecting"
    STREAMING = "streaming"
    LOST = "lost"
    RECONNECTING = "reconnecting"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class StateChange:
    """A sensor link changed state at host monotonic time ``host_ns``."""

    sensor: str
    state: LinkState
    host_ns: int
    message: str = ""
    extra: dict[str, object] = field(default_factory=dict)
