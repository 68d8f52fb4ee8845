"""Acquisition: raw notifications -> decoded, time-mapped sample blocks, gaps and statistics.

Input is what the BLE links put in their queue: ``(host_ns, sensor, bytes)`` tuples and
:class:`~imustream.types.StateChange` records. Output is a list of
:class:`~imustream.types.SampleBlock` (with ``sensor``, ``host_ns``, ``t_session``, ``flags``)
and :class:`~imustream.types.Gap` records, in order, per sensor.

Per sensor:

* join notifications the device split over two packets (``profile.assembler()``, Movesense
  DATA + DATA_PART2; the link's MTU from its STREAMING state change tells which packets are
  first parts), then decode with the sensor's firmware profile; a payload that does not
  decode (e.g. a part whose other half was lost) is counted and reported
  (``stats[sensor].messages``), never fatal;
* order packets by their sequence counter (or device time) through a small reorder window,
  drop exact duplicates, and turn holes into ``Gap(reason="loss")`` with the number of
  missing samples;
* map device time to session time with :class:`imustream.sync.ClockMapper` (lower-envelope
  fit); a profile without device time uses the sample count at the nominal rate as its clock;
* a reconnect (``StateChange`` STREAMING after a lost link) starts a new clock segment and
  records ``Gap(reason="disconnect")``; a device clock that jumps back records ``"reset"``.

Session time is host monotonic time minus ``origin_ns`` (default: the host time of the first
item handled, usually the links' first state change).
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..ble.notify_queue import QueueOverflow
from ..ble.stats import SensorStats
from ..errors import DecodeError
from ..types import BlockFlags, Gap, LinkState, SampleBlock, StateChange

#: While the clock mapping moves earlier, session time advances at least this fraction of
#: device time (so it never runs backwards and converges quickly).
SLEW_MIN_ADVANCE = 0.5
#: Consecutive undecodable packets after which a sensor is reported as sending the wrong data.
WRONG_PROFILE_AFTER = 10

_max_reduce = np.maximum.reduce


def _assembler(profile: Any) -> Any:
    """The profile's reassembler if its device splits notifications, else None."""
    make = getattr(profile, "assembler", None)
    asm = make() if make is not None else None
    return asm if asm is not None and asm.active else None


def unwrap_near(raw: float, reference: float, modulus: float) -> float:
    """The value ``raw + k * modulus`` closest to ``reference``."""
    return raw + modulus * round((reference - raw) / modulus)


def _stamped_block(
    block: SampleBlock, sensor: str, host_ns: int, t_session: np.ndarray, flags: BlockFlags
) -> SampleBlock:
    """``block`` with its session fields set.

    Built without ``SampleBlock.__post_init__``: the arrays come from an already validated
    block and ``t_session`` has one time per sample, so re-checking every shape would only
    add a few microseconds per packet.
    """
    return SampleBlock.trusted(
        block.acc,
        block.gyr,
        block.t_device,
        block.mag,
        block.seq,
        sensor,
        host_ns,
        t_session,
        flags,
    )


@dataclass
class _Held:
    key: float
    order: int
    host_ns: int
    block: SampleBlock
    t_dev: list[float]  # unwrapped device (or count) time of each sample, s
    useq: int | None

    def __lt__(self, other: _Held) -> bool:
        return (self.key, self.order) < (other.key, other.order)


@dataclass
class _Track:
    sensor: str
    profile: Any
    fs: float
    stats: SensorStats
    mapper: Any
    has_time: bool
    seq_mod: int | None
    wrap_s: float | None
    held: list = field(default_factory=list)
    order: int = 0
    # last released packet
    last_useq: int | None = None
    last_tdev: float | None = None  # unwrapped device time of the last released sample
    last_session: float | None = None
    last_host_s: float | None = None
    # reference for unwrapping arrivals (newest seen, not necessarily released)
    ref_useq: int | None = None
    ref_tdev: float | None = None
    count_clock: int = 0  # samples (delivered + missing) for profiles without device time
    last_count_time: float = 0.0
    released: deque = field(default_factory=lambda: deque(maxlen=256))  # recent useqs
    released_count: dict = field(default_factory=dict)  # useq -> times in ``released``
    held_useqs: dict = field(default_factory=dict)  # useq -> packets held with it
    held_t0: list = field(default_factory=list)  # sorted first device times of held packets
    held_orders: deque = field(default_factory=deque)  # arrival orders of pushes, ascending
    popped_orders: set = field(default_factory=set)  # ... of those already released
    released_t: deque = field(default_factory=lambda: deque(maxlen=64))  # recent first t_dev
    pending_segment: bool = False
    segment: int = 0
    bad_streak: int = 0
    pairer: Any = None  # sync.QuantityPairer for devices notifying acc and gyro separately
    assembler: Any = None  # profiles.Reassembler for devices that split notifications
    part_host_ns: int = 0  # arrival of the first part the assembler holds
    last_host_ns: int = 0
    dup_streak: int = 0


class Acquisition:
    """Turns raw notifications of several sensors into blocks, gaps and statistics.

    Parameters
    ----------
    profiles : dict
        ``{sensor: FirmwareProfile}`` (already configured with ``with_options`` if the decode
        depends on rate or range).
    rates : dict, optional
        ``{sensor: Hz}`` nominal sample rate; default each profile's ``default_rate``.
    origin_ns : int, optional
        Host time of session time 0; default the first ``host_ns`` seen.
    reorder_window : int
        Packets held back at most while waiting for a missing one.
    reorder_hold_s : float
        Longest a packet waits (host time) for a missing predecessor.
    clock_window_s : float
        Window of the clock mapper's lower-envelope fit.
    """

    def __init__(
        self,
        profiles: dict[str, Any],
        rates: dict[str, float] | None = None,
        *,
        origin_ns: int | None = None,
        reorder_window: int = 16,
        reorder_hold_s: float = 0.1,
        clock_window_s: float = 30.0,
    ) -> None:
        from ..sync import ClockMapper, QuantityPairer

        self.origin_ns = origin_ns
        self.reorder_window = int(reorder_window)
        self.reorder_hold_ns = int(reorder_hold_s * 1e9)
        self._clock_window_s = clock_window_s
        self._ClockMapper = ClockMapper
        self.tracks: dict[str, _Track] = {}
        for sensor, profile in profiles.items():
            fs = float((rates or {}).get(sensor) or profile.default_rate)
            has_time = profile.time_source == "device"
            self.tracks[sensor] = _Track(
                sensor=sensor,
                profile=profile,
                fs=fs,
                stats=SensorStats(sensor, profile=profile.name, nominal_rate=fs),
                mapper=ClockMapper(window_s=clock_window_s),
                has_time=has_time,
                seq_mod=(1 << profile.seq_bits) if profile.seq_bits else None,
                wrap_s=profile.timestamp_wrap_s if has_time else None,
                pairer=QuantityPairer(fs)
                if len(getattr(profile, "streams", ("imu",))) > 1
                else None,
                assembler=_assembler(profile),
            )

    @property
    def stats(self) -> dict[str, SensorStats]:
        """Per-sensor statistics."""
        return {s: tr.stats for s, tr in self.tracks.items()}

    # ------------------------------------------------------------------ input
    def handle(self, item: Any) -> list[SampleBlock | Gap]:
        """Process one queue item (a notification tuple or a StateChange)."""
        if isinstance(item, StateChange):
            if self.origin_ns is None:
                self.origin_ns = int(item.host_ns)
            return self.on_state(item)
        if isinstance(item, QueueOverflow):
            return self.on_overflow(item)
        host_ns, sensor, payload = item
        return self.feed(host_ns, sensor, payload)

    def on_state(self, change: StateChange) -> list[SampleBlock | Gap]:
        """Record a link state change; a (re)connection starts a new clock segment."""
        tr = self.tracks.get(change.sensor)
        if tr is None:
            return []
        st = tr.stats
        st.state = change.state.value
        for key in ("address", "name", "rssi", "battery", "mtu"):
            value = change.extra.get(key)
            if value is not None:
                setattr(st, key, value)
        if change.message:
            st.note(f"{change.state.value}: {change.message}")
        out: list[SampleBlock | Gap] = []
        if change.state in (LinkState.LOST, LinkState.RECONNECTING, LinkState.STOPPED):
            out = self._flush_parts(tr) + self._release(tr, flush=True)
        if change.state is LinkState.STREAMING:
            out = self._flush_parts(tr) + self._release(tr, flush=True)
            if tr.assembler is not None:
                tr.assembler.mtu = change.extra.get("mtu")
            if change.extra.get("connection", 1) != 1 or tr.last_session is not None:
                st.reconnects += 1
                tr.pending_segment = True
                tr.ref_useq = None  # a device may restart its counter on a new connection
        return out

    def on_overflow(self, ov: QueueOverflow) -> list[SampleBlock | Gap]:
        """Count notifications the BLE queue dropped (counted in ``stats.queue_dropped``).

        The hole they leave becomes a gap like any loss when the next packet arrives (so live
        and offline analysis see the same gaps); the recorder keeps the record as OVERFLOW and
        the converter labels that gap ``"overflow"``.
        """
        tr = self.tracks.get(ov.sensor)
        if tr is not None:
            tr.stats.queue_dropped += int(ov.n)
            tr.stats.note(f"BLE queue full: {ov.n} notifications dropped")
        return []

    def feed(self, host_ns: int, sensor: str, payload: bytes) -> list[SampleBlock | Gap]:
        """Decode one notification and return what it releases (blocks and gaps, in order)."""
        tr = self.tracks.get(sensor)
        if tr is None:
            raise KeyError(f"Acquisition has no sensor {sensor!r} (known: {list(self.tracks)})")
        if self.origin_ns is None:
            self.origin_ns = int(host_ns)
        host_ns = int(host_ns)
        tr.last_host_ns = host_ns
        asm = tr.assembler
        if asm is None:
            return self._accept(tr, host_ns, payload, host_ns)
        # a joined notification, or a held part given up on, counts from its first part
        first_ns = tr.part_host_ns if asm.pending else host_ns
        parts = asm.push(payload, host_ns)
        if asm.pending:
            tr.part_host_ns = host_ns
        out: list[SampleBlock | Gap] = []
        for i, part in enumerate(parts):
            out += self._accept(tr, first_ns if i == 0 else host_ns, part, host_ns)
        return out

    def _accept(
        self, tr: _Track, host_ns: int, payload: bytes, now_ns: int
    ) -> list[SampleBlock | Gap]:
        """Decode one complete notification that arrived at ``host_ns``; ``now_ns`` is the
        newest arrival (for the reorder hold)."""
        st = tr.stats
        try:
            block = tr.profile.decode(payload)
        except DecodeError as exc:
            st.decode_errors += 1
            tr.bad_streak += 1
            if st.decode_errors <= 3:
                st.note(f"decode error: {exc}")
            if tr.bad_streak == WRONG_PROFILE_AFTER:
                self._diagnose(
                    tr,
                    f"{WRONG_PROFILE_AFTER} packets in a row do not decode as {tr.profile.name!r}",
                )
            return []
        tr.bad_streak = 0
        st.packets += 1
        blocks = [block] if tr.pairer is None else tr.pairer.push(block)
        out: list[SampleBlock | Gap] = []
        for b in blocks:
            held = self._stamp(tr, host_ns, b)
            if held is None:
                continue
            if not tr.held and self._ready(tr, held, 1, now_ns, False):
                out += self._emit(tr, held)  # the usual case: in order, released on arrival
                continue
            self._push(tr, held)
            out += self._release(tr, now_ns=now_ns)
        return out

    def _flush_parts(self, tr: _Track) -> list[SampleBlock | Gap]:
        """Decode a first part still waiting for its continuation (link lost, session end)."""
        if tr.assembler is None or not tr.assembler.pending:
            return []
        (part,) = tr.assembler.flush()
        return self._accept(tr, tr.part_host_ns, part, tr.last_host_ns)

    def flush(self) -> list[SampleBlock | Gap]:
        """Release every held packet (end of a session)."""
        out: list[SampleBlock | Gap] = []
        for tr in self.tracks.values():
            out += self._flush_parts(tr)
            if tr.pairer is not None:
                for b in tr.pairer.flush():
                    held = self._stamp(tr, tr.last_host_ns, b)
                    if held is not None:
                        self._push(tr, held)
            out += self._release(tr, flush=True)
        return out

    def _diagnose(self, tr: _Track, what: str) -> None:
        message = f"{what}: wrong device or profile for {tr.sensor}?"
        tr.stats.problem = message
        tr.stats.note(message)

    # ------------------------------------------------------------------ ordering
    # The held packets are a heap by (key, order); side indexes answer "is this sequence
    # number held", "is a packet with about this device time held" and "the earliest
    # arrival still held" without scanning the heap (it holds ~10 packets after each loss).
    def _push(self, tr: _Track, held: _Held) -> None:
        heapq.heappush(tr.held, held)
        if held.useq is not None:
            tr.held_useqs[held.useq] = tr.held_useqs.get(held.useq, 0) + 1
        bisect.insort(tr.held_t0, held.t_dev[0])
        tr.held_orders.append(held.order)  # orders only grow: the deque stays sorted

    def _pop(self, tr: _Track) -> _Held:
        held = heapq.heappop(tr.held)
        if held.useq is not None:
            left = tr.held_useqs[held.useq] - 1
            if left:
                tr.held_useqs[held.useq] = left
            else:
                del tr.held_useqs[held.useq]
        t0s = tr.held_t0
        del t0s[bisect.bisect_left(t0s, held.t_dev[0])]
        tr.popped_orders.add(held.order)
        return held

    @staticmethod
    def _earliest_held_order(tr: _Track) -> int:
        """``min(x.order for x in tr.held)`` (``tr.held`` must not be empty)."""
        orders, popped = tr.held_orders, tr.popped_orders
        while orders[0] in popped:
            popped.remove(orders.popleft())
        return orders[0]

    @staticmethod
    def _held_near(tr: _Track, t0: float, half: float) -> bool:
        """``any(abs(x.t_dev[0] - t0) < half for x in tr.held)``: the nearest held first
        times are the neighbours of ``t0`` in the sorted list."""
        t0s = tr.held_t0
        i = bisect.bisect_left(t0s, t0)
        return (i < len(t0s) and abs(t0s[i] - t0) < half) or (i > 0 and abs(t0s[i - 1] - t0) < half)

    def _stamp(self, tr: _Track, host_ns: int, block: SampleBlock) -> _Held | None:
        """Unwrap counters and device time; None for an exact duplicate."""
        useq = None
        seq = block.seq
        if tr.seq_mod is not None and seq is not None:
            if tr.ref_useq is None:
                useq = int(seq)
            else:
                useq = int(unwrap_near(seq, tr.ref_useq, tr.seq_mod))
            if useq in tr.held_useqs or useq in tr.released_count:
                tr.stats.duplicates += 1
                tr.dup_streak += 1
                if tr.dup_streak == WRONG_PROFILE_AFTER:
                    self._diagnose(
                        tr, f"{WRONG_PROFILE_AFTER} packets in a row repeat a sequence number"
                    )
                return None
            tr.dup_streak = 0
            if tr.last_useq is not None and useq <= tr.last_useq and not tr.pending_segment:
                tr.stats.late += 1  # its gap was already reported; the raw log keeps it
                tr.stats.note(f"late packet seq {seq} dropped (gap already reported)")
                return None
            tr.ref_useq = useq if tr.ref_useq is None or useq > tr.ref_useq else tr.ref_useq
        t_dev: list[float] | None = None
        if tr.has_time and block.t_device is not None:
            # Python floats are IEEE doubles and ``%`` is numpy's float remainder, so these
            # are exactly the values of the array expressions, without per-call numpy cost
            raw = np.asarray(block.t_device, dtype=np.float64).tolist()
            raw0 = raw[0]
            wrap = tr.wrap_s
            if wrap:
                ref = tr.ref_tdev if tr.ref_tdev is not None else raw0
                if tr.pending_segment and tr.last_tdev is not None and tr.last_host_s is not None:
                    ref = tr.last_tdev + (host_ns * 1e-9 - tr.last_host_s)
                first = unwrap_near(raw0, ref, wrap)
                t_dev = [first + (r - raw0) % wrap for r in raw]
            else:
                t_dev = raw
            t0 = t_dev[0]
            half = 0.5 / tr.fs
            if not tr.pending_segment and tr.last_tdev is not None and useq is None:
                if tr.last_tdev - 5.0 < t0 <= tr.last_tdev - half:
                    # older than what was released: a duplicate or a packet given up on
                    if any(abs(x - t0) < half for x in tr.released_t):
                        tr.stats.duplicates += 1
                        return None
                    tr.stats.late += 1
                    tr.stats.note("late or repeated packet dropped (gap already reported)")
                    return None
            if useq is None and tr.held and self._held_near(tr, t0, half):
                tr.stats.duplicates += 1
                return None
            t_last = t_dev[-1]
            if tr.ref_tdev is None or t_last > tr.ref_tdev:
                tr.ref_tdev = t_last
        key = float(useq) if useq is not None else (t_dev[0] if t_dev is not None else 0.0)
        tr.order += 1
        if t_dev is None:
            t_dev = [0.0] * block.acc.shape[0]  # count clock: filled in at release
        return _Held(key, tr.order, host_ns, block, t_dev, useq)

    def _expected(self, tr: _Track, h: _Held) -> bool:
        """True if ``h`` directly follows the last released packet."""
        if tr.pending_segment or (tr.last_useq is None and tr.last_tdev is None):
            return False
        if h.useq is not None and tr.last_useq is not None:
            return h.useq == tr.last_useq + 1
        if tr.has_time and tr.last_tdev is not None:
            return abs(h.t_dev[0] - tr.last_tdev - 1.0 / tr.fs) < 0.5 / tr.fs
        return True

    def _release(
        self, tr: _Track, now_ns: int | None = None, flush: bool = False
    ) -> list[SampleBlock | Gap]:
        out: list[SampleBlock | Gap] = []
        held = tr.held
        while held:
            h = held[0]
            if not self._ready(tr, h, len(held), now_ns, flush):
                break
            self._pop(tr)
            out += self._emit(tr, h)
        return out

    def _ready(self, tr: _Track, h: _Held, n_held: int, now_ns: int | None, flush: bool) -> bool:
        """May ``h``, the earliest of ``n_held`` held packets, be released now?"""
        if tr.pending_segment and not flush:
            # after a reconnect: wait a moment so the first packet of the segment is the
            # earliest one (the link may deliver the first few out of order)
            return n_held > self.reorder_window or (
                now_ns is not None and now_ns - h.host_ns >= self.reorder_hold_ns
            )
        return (
            flush
            or not (tr.seq_mod is not None or tr.has_time)
            or self._expected(tr, h)
            or (tr.last_useq is None and tr.last_tdev is None and not tr.pending_segment)
            or n_held > self.reorder_window
            or (now_ns is not None and now_ns - h.host_ns >= self.reorder_hold_ns)
        )

    # ------------------------------------------------------------------ output
    def _emit(self, tr: _Track, h: _Held) -> list[SampleBlock | Gap]:
        st = tr.stats
        block = h.block
        n = block.acc.shape[0]
        fs = tr.fs
        out: list[SampleBlock | Gap] = []
        flags = block.flags
        gap_reason = None
        n_missing = 0
        host_s = h.host_ns * 1e-9
        if not tr.has_time:
            flags |= BlockFlags.TIME_FROM_RATE
        new_segment = tr.pending_segment
        if new_segment:
            gap_reason = "disconnect"
            n_missing = self._missing_across_disconnect(tr, h, host_s)
        elif h.useq is not None and tr.last_useq is not None:
            lost_packets = h.useq - tr.last_useq - 1
            if lost_packets > 0:
                gap_reason = "loss"
                n_missing = self._missing_samples(tr, h, lost_packets)
        elif tr.has_time and tr.last_tdev is not None:
            dt = h.t_dev[0] - tr.last_tdev
            if dt < -0.5 / fs:
                gap_reason, new_segment = "reset", True
                n_missing = 0
            else:
                n_missing = max(0, round(dt * fs) - 1)
                gap_reason = "loss" if n_missing > 0 else None
        if tr.held and h.order > self._earliest_held_order(tr):
            st.reordered += 1
        # device-side clock of each sample (Python floats: see _stamp)
        if tr.has_time:
            t_dev = h.t_dev
        else:
            tr.count_clock += n_missing
            c = tr.count_clock
            t_dev = [(c + i) / fs for i in range(n)]
            tr.count_clock += n
        mapper = tr.mapper
        if new_segment:
            mapper.reset()
            tr.segment += 1
            flags |= BlockFlags.NEW_SEGMENT
        if mapper.observe(t_dev[-1], host_s) and not new_segment:
            flags |= BlockFlags.NEW_SEGMENT  # the mapper saw a device clock restart
        # ClockMapper.to_host minus the origin, in the same operation order
        d0, h0, a, b = mapper.line()
        origin = self.origin_ns * 1e-9
        t_session = [h0 + (x := t - d0) + (a + b * x) - origin for t in t_dev]
        if not new_segment and tr.last_session is not None:
            # the clock fit may move earlier (a lower arrival delay was seen): slew towards it,
            # never letting session time run backwards or advance less than half a sample
            prev_dev = tr.last_tdev if tr.has_time else tr.last_count_time
            last = tr.last_session
            floor0 = last + SLEW_MIN_ADVANCE * (t_dev[0] - prev_dev)
            if t_session[0] < floor0:
                t_session = [
                    max(ts, fl)
                    for ts, fl in zip(
                        t_session,
                        [last + SLEW_MIN_ADVANCE * (t - prev_dev) for t in t_dev],
                        strict=True,
                    )
                ]
                st.clock_slews += 1
        if gap_reason is not None:
            flags |= BlockFlags.AFTER_GAP
            start = tr.last_session if tr.last_session is not None else t_session[0] - 1.0 / fs
            end = t_session[0]
            if end <= start:
                end = start + 1e-9
            out.append(Gap(tr.sensor, float(start), end, int(n_missing), gap_reason))
            st.gaps += 1
            st.missing_samples += int(n_missing)
        full_scale = tr.profile.acc_full_scale
        if full_scale and n:
            # np.abs(acc).max() without ndarray.max's Python wrapper (same reduction)
            if _max_reduce(np.abs(block.acc), axis=None) >= 0.999 * full_scale:
                flags |= BlockFlags.ACC_CLIPPED
        out.append(
            _stamped_block(
                block, tr.sensor, h.host_ns, np.array(t_session, dtype=np.float64), flags
            )
        )
        st.samples += n
        if st.first_time is None:
            st.first_time = t_session[0]
        st.last_time = t_session[-1]
        tr.pending_segment = False
        if h.useq is not None:
            tr.last_useq = h.useq
            self._remember_released(tr, h.useq)
            if tr.ref_useq is None or new_segment:
                tr.ref_useq = max(h.useq, *(x.useq for x in tr.held if x.useq is not None))
        last_dev = t_dev[-1]
        if tr.has_time:
            tr.released_t.append(t_dev[0])
            if tr.last_tdev is None or new_segment or last_dev > tr.last_tdev:
                tr.last_tdev = last_dev
        tr.last_session = t_session[-1]
        tr.last_count_time = last_dev
        tr.last_host_s = host_s
        return out

    @staticmethod
    def _remember_released(tr: _Track, useq: int) -> None:
        released, count = tr.released, tr.released_count
        if len(released) == released.maxlen:
            old = released[0]
            left = count[old] - 1
            if left:
                count[old] = left
            else:
                del count[old]
        released.append(useq)
        count[useq] = count.get(useq, 0) + 1

    def _missing_samples(self, tr: _Track, h: _Held, lost_packets: int) -> int:
        spp = tr.profile.samples_per_packet
        if spp:
            return int(lost_packets * spp)
        if tr.has_time and tr.last_tdev is not None:
            return max(0, round((float(h.t_dev[0]) - tr.last_tdev) * tr.fs) - 1)
        return int(lost_packets * h.block.n)  # best estimate: packets like this one

    def _missing_across_disconnect(self, tr: _Track, h: _Held, host_s: float) -> int:
        if tr.last_session is None:
            return 0
        if tr.has_time and tr.last_tdev is not None:
            dt = float(h.t_dev[0]) - tr.last_tdev
            if 0 < dt < 24 * 3600:  # same device clock across the reconnect
                return max(0, round(dt * tr.fs) - 1)
        # no usable device time: estimate from host time at the nominal rate
        elapsed = host_s - (tr.last_host_s or host_s) - (h.block.n - 1) / tr.fs
        return max(0, round(elapsed * tr.fs) - 1) if math.isfinite(elapsed) else 0
