"""Frozen records that describe a firmware profile (the validated content of one TOML file)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ..types import SampleBlock
    from .assembler import Reassembler

__all__ = ["FieldSpec", "FirmwareProfile", "GattWrite", "Layout", "WriteTemplate"]

G = 9.80665  # standard gravity, m/s^2

#: numpy dtype code (without byte order) and size in bytes of every field type a layout may use
FIELD_TYPES: Mapping[str, tuple[str, int]] = MappingProxyType(
    {
        "u8": ("u1", 1),
        "i8": ("i1", 1),
        "u16": ("u2", 2),
        "i16": ("i2", 2),
        "u32": ("u4", 4),
        "i32": ("i4", 4),
        "u64": ("u8", 8),
        "i64": ("i8", 8),
        "f32": ("f4", 4),
        "f64": ("f8", 8),
    }
)

#: factor from a profile's unit to SI (acc m/s^2, gyr rad/s, mag uT)
UNIT_TO_SI: Mapping[str, float] = MappingProxyType(
    {
        "m/s^2": 1.0,
        "g": G,
        "mg": G / 1000.0,
        "rad/s": 1.0,
        "deg/s": 3.141592653589793 / 180.0,
        "uT": 1.0,
        "mT": 1000.0,
        "gauss": 100.0,
        "mgauss": 0.1,
    }
)


@dataclass(frozen=True, slots=True)
class GattWrite:
    """One GATT write of a start or stop sequence: ``data`` to ``char_uuid``."""

    char_uuid: str
    data: bytes
    response: bool = True


@dataclass(frozen=True, slots=True)
class WriteTemplate:
    """A GATT write whose bytes depend on the rate / range options (see ``writes.py``)."""

    char_uuid: str
    template: str
    response: bool = True


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One fixed-size field of a notification layout; ``value`` pins a constant (magic byte)."""

    name: str
    type: str
    value: int | None = None

    @property
    def size(self) -> int:
        """Size in bytes."""
        return FIELD_TYPES[self.type][1]


@dataclass(frozen=True, slots=True)
class Layout:
    """Notification layout of a fixed-field profile (``decoder = "fields"``).

    ``blocks`` holds one tuple of fields per block; the payload is ``header`` followed by
    ``n`` repetitions of block 0, then ``n`` of block 1, ... (one block = interleaved samples,
    several blocks = planar layouts such as Movesense's N acc then N gyro).
    """

    endianness: Literal["little", "big"]
    header: tuple[FieldSpec, ...]
    blocks: tuple[tuple[FieldSpec, ...], ...]
    samples_per_packet: int | None
    pad_to: int | None
    acc: tuple[str, str, str] | None
    gyr: tuple[str, str, str] | None
    mag: tuple[str, str, str] | None
    continuation_type: int | None = None
    continuation_strip: int = 0
    notification_rate: float | None = None

    @property
    def header_size(self) -> int:
        """Header size in bytes."""
        return sum(f.size for f in self.header)

    @property
    def sample_size(self) -> int:
        """Bytes per sample over all blocks."""
        return sum(f.size for b in self.blocks for f in b)


@dataclass(frozen=True, slots=True)
class Scales:
    """Raw-to-unit scale factors and units of the measured quantities.

    A scale is either one float or a mapping from a range option (g or deg/s) to a float.
    """

    acc_unit: str = "m/s^2"
    gyr_unit: str = "rad/s"
    mag_unit: str = "uT"
    acc: float | Mapping[float, float] = 1.0
    gyr: float | Mapping[float, float] = 1.0
    mag: float | Mapping[float, float] = 1.0


@dataclass(frozen=True, slots=True)
class TimeSpec:
    """What a packet says about time."""

    source: Literal["device", "none"]
    timestamp_field: str | None = None
    tick_s: float | None = None
    timestamp_bits: int | None = None
    timestamp_sample: Literal["first", "last"] = "first"
    sequence_field: str | None = None
    sequence_bits: int | None = None
    epoch: str | None = None


@dataclass(frozen=True, slots=True)
class FirmwareProfile:
    """A validated firmware profile: how to find, start, stop and decode one device family.

    Build with :func:`imustream.profiles.get` or :func:`imustream.profiles.load`; never
    mutate (use :meth:`with_options`). See ``firmware_profiles/README.md`` for every key.
    """

    name: str
    vendor: str
    description: str
    source_file: str
    scan_name_pattern: str
    advertised_services: tuple[str, ...]
    service_uuid: str
    notify_uuids: tuple[str, ...]
    control_uuid: str | None
    battery: tuple[str, str] | None
    rates: tuple[float, ...]
    default_rate: float
    acc_ranges: tuple[float, ...]
    gyr_ranges: tuple[float, ...]
    rate: float
    acc_range: float | None
    gyr_range: float | None
    codes: Mapping[str, Mapping[float, int]] = field(hash=False)
    start_writes: tuple[WriteTemplate, ...]
    stop_writes: tuple[WriteTemplate, ...]
    decoder_name: str
    layout: Layout | None
    scales: Scales = field(hash=False)
    time: TimeSpec
    samples_per_packet: int | None
    acc_full_scale_fixed: float | None
    decoder_params: Mapping[str, object] = field(default_factory=dict, hash=False)
    _decode: Callable[[bytes], SampleBlock] | None = field(
        default=None, repr=False, compare=False, hash=False
    )

    # --- contract properties -------------------------------------------------------------
    @property
    def default_acc_range(self) -> float | None:
        """Accelerometer range (g) used when none is given."""
        return self.acc_range

    @property
    def time_source(self) -> Literal["device", "none"]:
        """``"device"`` when packets carry a device timestamp, else ``"none"``."""
        return self.time.source

    @property
    def timestamp_tick_s(self) -> float | None:
        """Seconds per device timestamp tick, or None."""
        return self.time.tick_s

    @property
    def timestamp_wrap_s(self) -> float | None:
        """Seconds after which the device timestamp wraps around, or None."""
        if self.time.tick_s is None or self.time.timestamp_bits is None:
            return None
        return self.time.tick_s * float(2**self.time.timestamp_bits)

    @property
    def seq_bits(self) -> int | None:
        """Width of the packet sequence counter in bits, or None."""
        return self.time.sequence_bits

    @property
    def acc_full_scale(self) -> float | None:
        """Accelerometer full scale in m/s^2 (for clipping detection), or None if unknown."""
        if self.acc_range is not None:
            return float(self.acc_range) * G
        return self.acc_full_scale_fixed

    @property
    def streams(self) -> tuple[str, ...]:
        """``("imu",)`` for 6-axis packets, else the quantities notified separately."""
        if self.decoder_name == "metawear_packed":
            return ("acc", "gyr")
        if self.decoder_name == "polar_pmd":
            return ("acc", "gyr") if "gyr_frame" in self.decoder_params else ("acc",)
        return ("imu",)

    # --- behaviour -----------------------------------------------------------------------
    def decode(self, payload: bytes | bytearray | memoryview) -> SampleBlock:
        """Decode one notification payload.

        Parameters
        ----------
        payload : bytes, bytearray or memoryview
            The notification value exactly as received.

        Returns
        -------
        SampleBlock
            ``acc`` in m/s^2 and ``gyr`` in rad/s (sensor frame), ``t_device`` in s (raw,
            not unwrapped) or None, ``seq`` the raw counter or None. A quantity the packet
            does not carry (MetaWear / Polar send acc and gyro separately) is all NaN.

        Raises
        ------
        DecodeError
            For any malformed payload (empty, truncated, extra bytes, wrong header/type).
        TypeError
            If ``payload`` is not bytes-like.
        """
        return self._decode(payload)  # type: ignore[misc]

    def start_sequence(
        self,
        rate: float | None = None,
        acc_range: float | None = None,
        gyr_range: float | None = None,
    ) -> list[GattWrite]:
        """GATT writes that configure and start streaming (options default to the profile's)."""
        from .writes import render

        p = self.with_options(rate=rate, acc_range=acc_range, gyr_range=gyr_range)
        return [render(w, p) for w in p.start_writes]

    def stop_sequence(self) -> list[GattWrite]:
        """GATT writes that stop streaming."""
        from .writes import render

        return [render(w, self) for w in self.stop_writes]

    def with_options(
        self,
        rate: float | None = None,
        acc_range: float | None = None,
        gyr_range: float | None = None,
        **decoder_params: object,
    ) -> FirmwareProfile:
        """Copy of this profile with another rate / range (and decoder parameters).

        Raises
        ------
        ProfileError
            If an option is not one the profile offers.
        """
        from .loader import build_decoder, check_option

        new_rate = self.rate if rate is None else check_option(self, "rate", rate, self.rates)
        new_acc = (
            self.acc_range
            if acc_range is None
            else check_option(self, "acc_range", acc_range, self.acc_ranges)
        )
        new_gyr = (
            self.gyr_range
            if gyr_range is None
            else check_option(self, "gyr_range", gyr_range, self.gyr_ranges)
        )
        params = dict(self.decoder_params)
        params.update(decoder_params)
        if (
            new_rate == self.rate
            and new_acc == self.acc_range
            and new_gyr == self.gyr_range
            and params == dict(self.decoder_params)
        ):
            return self
        p = replace(
            self,
            rate=new_rate,
            acc_range=new_acc,
            gyr_range=new_gyr,
            decoder_params=MappingProxyType(params),
            _decode=None,
        )
        return replace(p, _decode=build_decoder(p))

    def assembler(self, mtu: int | None = None) -> Reassembler:
        """A new per-connection reassembler for notifications split over several packets.

        Feed every notification of one link through ``push(payload) -> list[bytes]`` and
        decode what it returns; for devices that never split packets it passes them through.
        ``mtu``: the link's ATT MTU when known (see :class:`Reassembler`).
        """
        from .assembler import Reassembler

        return Reassembler(self, mtu)

    def load_file(self, path: str) -> FirmwareProfile:
        """Validate the TOML file at ``path`` (same as :func:`imustream.profiles.load`)."""
        from .loader import load

        return load(path)
