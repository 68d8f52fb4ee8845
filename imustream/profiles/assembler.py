"""Reassemble notifications that a device splits over two packets.

The Movesense gatt_sensordata_app sends a data notification longer than the link allows as a
``DATA`` (0x02) packet followed by a ``DATA_PART2`` (0x03) packet whose first two bytes
(type, reference) are dropped before joining. Profiles describe this with the layout keys
``continuation_type``, ``continuation_strip`` and ``notification_rate`` (the device sends
``round(rate / notification_rate)`` samples per complete notification).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import FirmwareProfile

__all__ = ["Reassembler"]


class Reassembler:
    """Per-connection reassembly; pass-through for profiles that never split packets.

    Nothing is dropped: a first part that is never completed is returned as it is when the
    next packet arrives (its decode then raises DecodeError and is counted), a continuation
    without a first part is returned as it is too, and two parts are joined only when they
    make exactly one complete notification (``round(rate / notification_rate)`` samples).
    Limit: Movesense packets carry no counter, so a first part whose continuation was lost,
    followed directly by a continuation whose first part was lost, would join into one wrong
    notification (the halves are indistinguishable by content). Given arrival times
    (``push(payload, host_ns)``), parts that arrive more than half a notification period
    apart (``max_part_gap_ns``; the device sends both parts of one notification back to back,
    the next notification a whole period later) are not joined, which catches that case.

    Which packets are held as first parts: without a known ATT MTU, every first-type packet
    shorter than a complete notification (it may be the first ``MTU - 3`` bytes of one). With
    ``mtu`` set (the link reports it), only packets of exactly ``mtu - 3`` bytes, the size
    the device cuts at: shorter complete notifications (other firmware, the simulator) then
    pass at once instead of waiting for the next packet.
    """

    def __init__(self, p: FirmwareProfile, mtu: int | None = None) -> None:
        lay = p.layout
        self.active = lay is not None and lay.continuation_type is not None
        self._held: bytes | None = None
        self._held_ns: int | None = None
        self.mtu = mtu
        self.max_part_gap_ns: int | None = None
        if self.active:
            assert lay is not None and lay.notification_rate is not None
            self.first_type = lay.header[0].value
            self.cont_type = lay.continuation_type
            self.strip = lay.continuation_strip
            n = max(1, round(p.rate / lay.notification_rate))
            self.full_size = lay.header_size + n * lay.sample_size
            self.max_part_gap_ns = round(0.5e9 / lay.notification_rate)

    @property
    def pending(self) -> bool:
        """True while a first part waits for its continuation."""
        return self._held is not None

    def reset(self) -> None:
        """Forget a held first part (use :meth:`flush` to keep it)."""
        self._held = None

    def flush(self) -> list[bytes]:
        """The held first part, if any, as it is (end of stream, link lost): never dropped."""
        held, self._held = self._held, None
        return [held] if held is not None else []

    def _close(self, host_ns: int | None) -> bool:
        """May a continuation arriving at ``host_ns`` belong to the held first part?"""
        if host_ns is None or self._held_ns is None:
            return True
        return host_ns - self._held_ns <= self.max_part_gap_ns

    def _may_be_first_part(self, size: int) -> bool:
        if size >= self.full_size:
            return False
        return self.mtu is None or size == self.mtu - 3

    def push(
        self, payload: bytes | bytearray | memoryview, host_ns: int | None = None
    ) -> list[bytes]:
        """Complete payloads (0, 1 or 2) available after this notification.

        ``host_ns``: its arrival time, if known (parts arriving too far apart are not joined).
        """
        data = bytes(payload)
        if not self.active:
            return [data]
        out: list[bytes] = []
        kind = data[0] if data else None
        if kind == self.cont_type and self._held is not None and self._close(host_ns):
            joined = self._held + data[self.strip :]
            # only a pair that makes exactly one complete notification is joined
            out.extend([joined] if len(joined) == self.full_size else [self._held, data])
            self._held = None
            return out
        if self._held is not None:
            out.append(self._held)  # never completed: surfaces as a decode error
            self._held = None
        if kind == self.first_type and self._may_be_first_part(len(data)):
            self._held, self._held_ns = data, host_ns
            return out
        out.append(data)
        return out
