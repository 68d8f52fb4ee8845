"""The streaming gait pipeline: sample blocks in; events, steps and alerts out.

Live, replayed and offline analysis all run this class (``analyze_run`` feeds arrays through
it). Small blocks are staged per sensor and analysed ``min_batch`` samples at a time (the
kernels carry their state, so results do not depend on how the stream was cut; staging only
bounds the per-call overhead of one-sample BLE packets). Per batch it runs the sensor's
event detector and, for the pelvis, the attitude filter; it merges the events of all sensors
into steps once no earlier event can still arrive (a watermark ``latency_margin`` seconds
behind the slowest live sensor), adds impact peak, pelvic drop and quality flags to each
step, and feeds the steps to the asymmetry monitor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from operator import attrgetter

import numpy as np

from ..types import Alert, BlockFlags, Gap, InitialContact, SampleBlock, Sensor, Step, ToeOff
from .asymmetry import AlertThresholds, AsymmetryMonitor, get_preset
from .event_stage import IC, SIDE_LEFT, SIDE_RIGHT, PelvisEventStage, ShoeEventStage
from .kernels import sensor_block as _sb
from .kernels import step_metrics as _sm
from .kernels import timeline as _tl
from .kernels.shoe_events import PENDING
from .pelvic_drop import PelvicDrop
from .steps import StepAssembler, StepTiming
from .timeline import Timeline

__all__ = ["Pipeline", "PipelineOutput"]

Event = InitialContact | ToeOff
_EVENT_CLASS = {"ic": InitialContact, "to": ToeOff}
_PELVIS_SIDE = {SIDE_LEFT: "left", SIDE_RIGHT: "right"}
_PELVIS = Sensor.PELVIS.value
_BY_TIME = attrgetter("time")
_CLIPPED = int(BlockFlags.ACC_CLIPPED)
_NO_FLAGS = BlockFlags.NONE
_F64 = np.dtype(np.float64)
#: watermark progress (s) between two step-assembly passes when no new event arrived
_ADVANCE_EVERY = 0.1
#: longest IC-to-contralateral-IC interval (s) used as a stance when the TO is missing
_MAX_SINGLE_SUPPORT = 0.9
# placeholders for the attitude arguments of pelvis_block when there is no gyroscope
_NO_ARRAY = np.zeros(1)
_NO_INT = np.zeros(1, dtype=np.int64)
_NO_ROWS = np.zeros((1, 3))


@dataclass(slots=True, init=False)
class PipelineOutput:
    """What one :meth:`Pipeline.process` call produced (each list in time order)."""

    events: list[Event]
    steps: list[Step]
    alerts: list[Alert]

    # hand-written: one is made per process() call, and default_factory fields cost more
    def __init__(
        self,
        events: list[Event] | None = None,
        steps: list[Step] | None = None,
        alerts: list[Alert] | None = None,
    ) -> None:
        self.events = [] if events is None else events
        self.steps = [] if steps is None else steps
        self.alerts = [] if alerts is None else alerts

    def extend(self, other: PipelineOutput) -> None:
        """Append another output's records to this one."""
        if other.events:
            self.events += other.events
        if other.steps:
            self.steps += other.steps
        if other.alerts:
            self.alerts += other.alerts


class _SensorState:
    """Per-sensor staging buffer, detector, history (time, |acc|, clipped) and gaps."""

    def __init__(
        self, sensor: Sensor, fs: float, keep_s: float, has_gyr: bool, acc_range: float | None
    ):
        self.sensor = sensor
        self.name = sensor.value
        self.side = sensor.side
        self.is_pelvis = sensor is Sensor.PELVIS
        self.fs = fs
        self.has_gyr = has_gyr
        self.timeline = Timeline(fs, 2, keep_s)  # |acc| (shoes), clipped flag
        self.detector = PelvisEventStage(fs, has_gyr) if self.is_pelvis else ShoeEventStage(fs)
        self.clip_level = 0.995 * acc_range if acc_range is not None else 0.0
        self.det_batch = 1  # samples fed to the event detector at a time (pelvis, see Pipeline)
        self.det_acc: list[np.ndarray] = []
        self.det_gyr: list[np.ndarray] = []
        self.det_n = 0
        self.det_base = 0
        self.kargs: tuple | None = None  # static arguments of the per-block kernel
        self.cap = (
            0  # event output room of the shoe kernel  # timeline index of the detector's sample 0
        )
        self.gaps: list[tuple[float, float]] = []
        self.reset_pending = False
        self.last_t = -math.inf
        self.first_t = math.nan
        self.has_events = False  # detectors hold events back while they learn the axes
        self.staged_acc: list[np.ndarray] = []
        self.staged_gyr: list[np.ndarray] = []
        self.staged_t: list[np.ndarray] = []
        self.staged_clip = False
        self.staged = 0
        self.n_clipped = 0  # clipped samples seen so far


def _stance_end(tm: StepTiming) -> float:
    """TO, or without one (the pelvis detector finds no TO in walking) the next contralateral
    IC: in walking that lies inside the stance (double support), past the peak drop."""
    if math.isfinite(tm.to_time):
        return tm.to_time
    if tm.next_ic_time - tm.ic_time < _MAX_SINGLE_SUPPORT:
        return tm.next_ic_time
    return math.nan


class Pipeline:
    """Streaming analysis of a pelvis IMU and/or two shoe IMUs.

    Parameters
    ----------
    fs : mapping of sensor -> float
        Sampling rate (Hz) of each connected sensor ("pelvis", "shoe_left", "shoe_right").
        Blocks from any other sensor are an error.
    thresholds : AlertThresholds or str
        Alert thresholds, or the name of a preset ("runner", "clinic").
    acc_range : mapping of sensor -> float, optional
        Accelerometer full scale in m/s^2 per sensor; samples at >= 99.5 % of it are
        flagged as clipped (blocks flagged ``ACC_CLIPPED`` are flagged whole otherwise).
    latency_margin : float
        Seconds the step assembly waits for late events from slower detectors.
    keep_s : float
        Seconds of per-sensor history kept for late evaluation.
    gyro : mapping of sensor -> bool, optional
        ``False`` for a sensor without a gyroscope (only the pelvis may lack one: its
        events then come from the accelerometer and pelvic drop is NaN). Default: all True.
    min_batch : int
        Samples staged per sensor before they are analysed (1 = analyse every block at once).
        Small blocks (one-sample BLE packets) then cost ~2 us each instead of ~60 us; the
        default, 32, delays analysis by at most 160 ms at 200 Hz (event times and
        ``emitted_time`` are unaffected: they are sample times).
    stall_s : float
        A sensor whose newest sample is more than this behind the newest of any sensor
        counts as stalled (e.g. disconnected) and no longer holds back step assembly.
        ``math.inf`` = always wait (results then do not depend on how the sensors' blocks
        are interleaved, e.g. whole recordings fed one sensor after the other).
    warmup_s : float
        Until a sensor's detector emits its first event (it may hold events back while it
        learns its axes), step assembly waits for it, at most this long.
    pelvis_event_batch : int
        With both shoes connected the steps come from the shoes and the pelvis events only
        get their sides from them, once the watermark has passed; the pelvis event detector
        is then fed this many samples at a time (its attitude filter, and so the pelvic
        drop, still runs on every block). This bounds the per-call cost of the detector; its
        events come out up to this many samples later (256 = 1.28 s at 200 Hz), with the
        same times, sides and ``emitted_time``. 1 = feed it every block.
    """

    def __init__(
        self,
        fs: Mapping[str, float],
        thresholds: AlertThresholds | str = "runner",
        acc_range: Mapping[str, float] | None = None,
        latency_margin: float = 0.6,
        keep_s: float = 30.0,
        gyro: Mapping[str, bool] | None = None,
        min_batch: int = 32,
        stall_s: float = 2.0,
        warmup_s: float = 10.0,
        pelvis_event_batch: int = 256,
    ) -> None:
        if not fs:
            raise ValueError("fs must name at least one sensor, e.g. {'pelvis': 200.0}")
        self.fs: dict[Sensor, float] = {}
        for name, rate in fs.items():
            try:
                sensor = Sensor(name)
            except ValueError:
                raise ValueError(
                    f"unknown sensor {name!r} in fs; expected one of {[s.value for s in Sensor]}"
                ) from None
            ok = isinstance(rate, int | float) and not isinstance(rate, bool)
            if not (ok and math.isfinite(rate) and rate > 0):
                raise ValueError(f"fs[{name!r}] must be a positive number of Hz, got {rate!r}")
            self.fs[sensor] = float(rate)
        if isinstance(thresholds, str):
            thresholds = get_preset(thresholds)
        self.thresholds = thresholds
        self.acc_range = {Sensor(k): float(v) for k, v in (acc_range or {}).items()}
        self.latency_margin = float(latency_margin)
        self.keep_s = float(keep_s)
        if not (isinstance(min_batch, int) and min_batch >= 1):
            raise ValueError(f"min_batch must be a positive integer, got {min_batch!r}")
        self.min_batch = min_batch
        if not (isinstance(pelvis_event_batch, int) and pelvis_event_batch >= 1):
            raise ValueError(
                f"pelvis_event_batch must be a positive integer, got {pelvis_event_batch!r}"
            )
        self.pelvis_event_batch = pelvis_event_batch
        self.stall_s = float(stall_s)
        self.warmup_s = float(warmup_s)
        self.gyro = {s: bool((gyro or {}).get(s.value, True)) for s in self.fs}
        for s, has in self.gyro.items():
            if not has and s is not Sensor.PELVIS:
                raise ValueError(f"{s.value} needs a gyroscope for event detection")
        self.reset()

    def reset(self) -> None:
        """Forget everything (detectors, calibration, steps, alerts)."""
        self._sensors = {
            s: _SensorState(s, f, self.keep_s, self.gyro[s], self.acc_range.get(s))
            for s, f in self.fs.items()
        }
        self._states = list(self._sensors.values())
        self._step_out = np.empty(_sm.N_OUT)
        pelvis = self._sensors.get(Sensor.PELVIS)
        if pelvis is not None and Sensor.SHOE_LEFT in self.fs and Sensor.SHOE_RIGHT in self.fs:
            pelvis.det_batch = self.pelvis_event_batch
        self._by_name: dict[str, _SensorState] = {s.value: st for s, st in self._sensors.items()}
        shoe_sides = [s.side for s in self.fs if s.side is not None]
        self.assembler = StepAssembler(shoe_sides=frozenset(shoe_sides))
        self.pelvic = (
            PelvicDrop(self.fs[Sensor.PELVIS], keep_s=self.keep_s)
            if Sensor.PELVIS in self.fs and self.gyro[Sensor.PELVIS]
            else None
        )
        self.monitor = AsymmetryMonitor(self.thresholds)
        self._step_args = self._kernel_args()
        self._held_pelvis: list[tuple[str, float, float, str | None]] = []
        self._held_first = math.inf  # earliest time among the held pelvis events
        self._newest = -math.inf  # newest sample time of any sensor
        self._any_gaps = False
        self._any_clipped = False
        # with both shoes the pelvis events only get sides: the assembler does not need them
        self._pelvis_to_assembler = len(shoe_sides) < 2
        self._pending: list[StepTiming] = []
        self._advanced_at = -math.inf
        self._carry: PipelineOutput | None = None

    # -- input -------------------------------------------------------------------------------
    def process(self, block: SampleBlock) -> PipelineOutput:
        """Analyse one block of one sensor (``block.sensor`` and ``block.t_session`` set)."""
        st = self._by_name.get(block.sensor)
        if st is None:
            self._state_for(block.sensor)  # raises with a clear message
        t = block.t_session
        if t is None:
            raise ValueError(
                f"block from {block.sensor!r} has no t_session: map device time to session "
                "time before the pipeline"
            )
        k = len(t)
        if self._carry is None:
            out = PipelineOutput()
        else:  # produced by a gap() call: hand it out now
            out, self._carry = self._carry, None
        if k == 0:
            return out
        first = float(t[0])
        if first <= st.last_t:
            raise ValueError(
                f"block from {block.sensor!r} starts at t={first:.6f} s, not after the previous "
                f"sample ({st.last_t:.6f} s): sample times must increase"
            )
        if st.last_t == -math.inf:
            st.first_t = first
        st.last_t = last = first if k == 1 else float(t[-1])
        if last > self._newest:
            self._newest = last
        if block.flags is not _NO_FLAGS and int(block.flags) & _CLIPPED:
            st.staged_clip = True
        if st.staged == 0 and k >= self.min_batch:
            self._analyse(st, block.acc, block.gyr, t, out)
            return out
        # stage small blocks (references only; concatenated once per batch)
        st.staged_acc.append(block.acc)
        st.staged_gyr.append(block.gyr)
        st.staged_t.append(t)
        st.staged += k
        if st.staged >= self.min_batch:
            self._flush(st, out)
        return out

    def gap(self, g: Gap) -> None:
        """Samples of ``g.sensor`` between ``g.start`` and ``g.end`` are missing.

        Steps overlapping the gap get ``has_gap=True``; after a disconnect, a device reset
        or a loss longer than 0.5 s the sensor's event detector restarts. Whatever the
        samples staged before the gap produce comes out of the next :meth:`process` or
        :meth:`finish` call.
        """
        st = self._state_for(g.sensor)
        if self._carry is None:
            self._carry = PipelineOutput()
        self._flush(st, self._carry)
        self._feed_detector(st, None, None, self._carry)
        st.gaps.append((float(g.start), float(g.end)))
        self._any_gaps = True
        if g.reason != "loss" or g.end - g.start > 0.5:
            st.reset_pending = True

    def finish(self) -> PipelineOutput:
        """End of stream: emit every step and event still held back."""
        out = PipelineOutput()
        if self._carry is not None:
            out, self._carry = self._carry, None
        for st in self._sensors.values():
            self._flush(st, out)
            self._feed_detector(st, None, None, out)
            det = st.detector
            found = det.flush()
            if found:
                det.times_from(st.timeline, st.det_base, found)
                if st.side is not None:  # shoe events reach the assembly in their kernel
                    self.assembler.add_shoe_events(st.side, det.kind, det.times, found)
                self._emit_events(st, found, out)
        self._advance(math.inf, out, final=True)
        return out

    # -- internals -----------------------------------------------------------------------------
    def _state_for(self, sensor: str | None) -> _SensorState:
        st = self._by_name.get(sensor) if sensor is not None else None
        if st is None:
            raise ValueError(
                f"block/gap for sensor {sensor!r}, but the pipeline was configured for "
                f"{[s.value for s in self.fs]}"
            )
        return st

    def _flush(self, st: _SensorState, out: PipelineOutput) -> None:
        if st.staged == 0:
            if st.staged_clip:  # flag of a block analysed directly
                st.staged_clip = False
            return
        if len(st.staged_t) == 1:
            acc, gyr, t = st.staged_acc[0], st.staged_gyr[0], st.staged_t[0]
        else:
            acc = np.concatenate(st.staged_acc)
            gyr = np.concatenate(st.staged_gyr)
            t = np.concatenate(st.staged_t)
        st.staged_acc.clear()
        st.staged_gyr.clear()
        st.staged_t.clear()
        st.staged = 0
        self._analyse(st, acc, gyr, t, out)

    def _analyse(self, st: _SensorState, acc, gyr, t, out: PipelineOutput):
        clipped = st.staged_clip
        st.staged_clip = False
        if acc.dtype is not _F64 or gyr.dtype is not _F64 or t.dtype is not _F64:
            acc = np.asarray(acc, dtype=np.float64)
            gyr = np.asarray(gyr, dtype=np.float64)
            t = np.asarray(t, dtype=np.float64)
        if st.reset_pending:
            st.detector.reset()
            st.det_base = st.timeline.count
            st.reset_pending = False
            st.has_events = False
            st.kargs = None
        if st.is_pelvis:
            if st.kargs is None:
                st.kargs = self._pelvis_args(st)
            n_clipped = _sb.pelvis_block(acc, gyr, t, clipped, *st.kargs)
            if n_clipped < 0:
                self._bad_block(st, t)
            if n_clipped:
                st.n_clipped += n_clipped
                self._any_clipped = True
            new = self._feed_detector(st, acc, gyr, out)
        else:
            if 2 * t.shape[0] + PENDING > st.cap or st.kargs is None:
                st.kargs = self._shoe_args(st, 2 * t.shape[0] + PENDING)
            found, n_clipped, inserted = _sb.shoe_block(
                acc, gyr, t, clipped, st.det_base, *st.kargs
            )
            if found < 0:
                self._bad_block(st, t)
            if n_clipped:
                st.n_clipped += n_clipped
                self._any_clipped = True
            new = 0
            if found:
                asm = self.assembler
                if inserted < 0:  # the assembler's stores are full: grow them
                    asm.add_shoe_events(st.side, st.detector.kind, st.detector.times, found)
                    for other in self._states:
                        other.kargs = None  # they hold the former store arrays
                    new = self._emit_events(st, found, out)
                else:
                    new = self._emit_events(st, found, out, inserted > 0)
        watermark = self._watermark()
        if new or watermark >= self._advanced_at + _ADVANCE_EVERY:
            self._advance(watermark, out)

    def _pelvis_args(self, st: _SensorState) -> tuple:
        """Arguments of the pelvis block kernel after the per-block ones (they live as long
        as the state they belong to)."""
        tl = st.timeline
        pd = self.pelvic
        if pd is None:
            no = (False, _NO_ARRAY, _NO_ARRAY, _NO_ARRAY, _NO_INT, _NO_ARRAY, _NO_INT)
            return (
                st.clip_level,
                tl.tb,
                tl.vb,
                tl.meta,
                tl.keep,
                *no,
                _NO_ARRAY,
                _NO_ROWS,
                _NO_INT,
                0,
            )
        o = pd.orientation.state
        ut = pd.timeline
        return (
            st.clip_level,
            tl.tb,
            tl.vb,
            tl.meta,
            tl.keep,
            True,
            pd.mparams,
            o.q,
            o.bias,
            o.count,
            pd.pf,
            pd.pi,
            ut.tb,
            ut.vb,
            ut.meta,
            ut.keep,
        )

    def _shoe_args(self, st: _SensorState, cap: int) -> tuple:
        """Arguments of the shoe block kernel after the per-block ones, with output room for
        ``cap`` events (rebuilt when the detector restarts or its outputs grow)."""
        det = st.detector
        det.room(cap)
        st.cap = len(det.kind)
        tl = st.timeline
        return (
            st.clip_level,
            tl.tb,
            tl.vb,
            tl.meta,
            tl.keep,
            det.params_array,
            det.fbuf,
            det.ibuf,
            det.kind,
            det.idx,
            det.emit,
            det.times,
            0 if st.side == "left" else 1,
            self.assembler._ev,
            self.assembler._evs,
            self.assembler._cnt,
        )

    def _feed_detector(self, st: _SensorState, acc, gyr, out: PipelineOutput) -> int:
        """Pelvis: run the event detector on a block, or stage it (``det_batch``); ``None``
        runs what is staged. Returns the number of new event records."""
        if acc is not None and st.det_batch > 1:
            st.det_acc.append(acc)
            st.det_gyr.append(gyr)
            st.det_n += acc.shape[0]
            if st.det_n < st.det_batch:
                return 0
            acc = None
        if acc is None:
            if not st.det_n:
                return 0
            acc = np.concatenate(st.det_acc) if len(st.det_acc) > 1 else st.det_acc[0]
            gyr = np.concatenate(st.det_gyr) if len(st.det_gyr) > 1 else st.det_gyr[0]
            st.det_acc.clear()
            st.det_gyr.clear()
            st.det_n = 0
        det = st.detector
        found = det.process(acc, gyr)
        if not found:
            return 0
        det.times_from(st.timeline, st.det_base, found)
        return self._emit_events(st, found, out)

    @staticmethod
    def _bad_block(st: _SensorState, t) -> None:
        raise ValueError(
            f"block from {st.sensor.value!r} (t={t[0]:.3f}..{t[-1]:.3f} s) contains "
            "NaN/inf: report missing samples as a Gap"
        )

    def _emit_events(
        self, st: _SensorState, found: int, out: PipelineOutput, stored: bool = False
    ) -> int:
        """Turn the ``found`` events in the detector's output arrays into records
        (``stored``: a shoe kernel has put them into the step assembly's stores)."""
        det = st.detector
        kinds = det.kind[:found].tolist()
        times = det.times[:found].tolist()
        n = 0
        side = st.side
        if side is not None:  # a shoe (its events reached the step assembly in its kernel)
            asm = self.assembler
            narrow = stored and asm._quiet_until != -math.inf  # quiet-window bookkeeping
            name = st.name
            events = out.events
            for j in range(found):
                time, emitted_time = times[j]
                if time != time:  # NaN: no longer in the history
                    continue
                n += 1
                is_ic = kinds[j] == IC
                if narrow:
                    asm._note(is_ic, time, True)
                events.append((InitialContact if is_ic else ToeOff)(name, side, time, emitted_time))
            if n:
                st.has_events = True
            return n
        asm = self.assembler
        sides = det.side[:found].tolist()
        for j in range(found):
            kind = "ic" if kinds[j] == IC else "to"
            side = _PELVIS_SIDE.get(sides[j])
            time, emitted_time = times[j]
            if time != time:
                continue
            n += 1
            st.has_events = True
            if self._pelvis_to_assembler:
                asm.add_pelvis_event(kind, side, time)
            if asm.shoe_sides:  # the side comes from the shoes: wait for them
                self._held_pelvis.append((kind, time, emitted_time, side))
                if time < self._held_first:
                    self._held_first = time
                continue
            out.events.append(_EVENT_CLASS[kind](st.name, side, time, emitted_time))
        return n

    def _watermark(self) -> float:
        """Session time before which every sensor has reported all its events."""
        cut = self._newest - self.stall_s
        mark = math.inf
        for st in self._states:
            last = st.last_t
            if last < cut:
                continue  # stalled (e.g. disconnected): do not wait for it
            if last == -math.inf:
                return -math.inf  # no data from it yet
            if st.has_events:
                m = last - self.latency_margin
            else:  # still learning: its first events may lie far back (up to warmup_s)
                m = max(st.first_t, last - self.warmup_s)
            if m < mark:
                mark = m
        return mark

    def _advance(self, watermark: float, out: PipelineOutput, final: bool = False) -> None:
        self._advanced_at = watermark
        tol = self.assembler.match_tol
        if self._held_pelvis and (final or self._held_first + tol < watermark):
            # before the assembler prunes the shoe events they need
            keep = []
            first = math.inf
            for kind, time, emitted_time, side in self._held_pelvis:
                if final or time + tol < watermark:
                    side = self.assembler.pelvis_side(time, kind) or side
                    out.events.append(_EVENT_CLASS[kind](_PELVIS, side, time, emitted_time))
                else:
                    keep.append((kind, time, emitted_time, side))
                    first = min(first, time)
            self._held_pelvis = keep
            self._held_first = first
        if len(out.events) > 1:
            out.events.sort(key=_BY_TIME)
        asm = self.assembler
        if final:
            timings = asm.finish()
        elif asm._quiet_from <= watermark <= asm._quiet_until:
            timings = ()  # nothing can have changed since the last merge
        else:
            timings = asm.advance(watermark)
        pd = self.pelvic
        for tm in timings:
            if pd is None or (not self._pending and pd.ready):
                # steady state: the stance is added and its drop evaluated in the same call
                self._fast_step(tm, out)
            else:
                pd.add_stance(tm.side, tm.ic_time, _stance_end(tm))
                self._pending.append(tm)
                # steps wait for the pelvis calibration so that they can carry a pelvic
                # drop; each is evaluated right after its own stance was added
                # (chunking-independent)
                if pd.ready:
                    self._release(out)
        if self._pending and (final or self._pending[0].ic_time < watermark - 0.5 * self.keep_s):
            self._release(out)
        if not self._any_gaps:
            return
        for st in self._states:  # forget gaps no pending or future step can overlap
            if st.gaps and st.gaps[0][1] < watermark - self.keep_s:
                st.gaps = [g for g in st.gaps if g[1] >= watermark - self.keep_s]

    def _kernel_args(self) -> dict:
        """Arrays of the per-step kernel, by stance side (they live as long as this state)."""
        pd = self.pelvic
        if pd is None:
            pelvic = (False, _NO_ARRAY, _NO_ROWS, _NO_INT, _NO_ARRAY, _NO_INT, _NO_ROWS)
            pelvic += (_NO_ARRAY, _NO_ROWS, _NO_ARRAY, _NO_INT, _NO_ARRAY)
        else:
            ut = pd.timeline
            pelvic = (True, ut.tb, ut.vb, ut.meta, pd.sf, pd.si, pd.ring, pd.bt, pd.bv)
            pelvic += (pd.pf, pd.pi, pd.cfg)
        m = self.monitor
        asym = (m._vals, m._cnt, m._head, m._alert, m._th, m._cfg, m._table, m._cmp, m._trans)
        out = {}
        for side in ("left", "right"):
            shoe = next((st for st in self._states if st.side == side), None)
            if shoe is None:
                impact = (False, _NO_ARRAY, _NO_ROWS, _NO_INT)
            else:
                tl = shoe.timeline
                impact = (True, tl.tb, tl.vb, tl.meta)
            out[side] = (*pelvic, *impact, *asym, self._step_out)
        return out

    def _flags(self, tm: StepTiming) -> tuple[bool, bool]:
        """(has_gap, clipped) of a step: a gap in any sensor, clipped samples of its sensors."""
        ic = tm.ic_time
        end = tm.next_ic_time if math.isfinite(tm.next_ic_time) else tm.to_time
        if not math.isfinite(end):
            end = ic + self.assembler.max_contact
        clipped = False
        has_gap = False
        for st in self._states:
            # a gap in any sensor spoils the step (drop, own timing, next contralateral IC)
            if st.gaps:
                has_gap |= any(a < end and b > ic for a, b in st.gaps)
            if st.n_clipped and (st.side is None or st.side == tm.side):
                tl = st.timeline
                clipped |= _tl.window_max(tl.tb, tl.vb, tl.meta, ic - 0.05, end, 1) > 0.0
        return has_gap, clipped

    def _fast_step(self, tm: StepTiming, out: PipelineOutput) -> None:
        """A step whose drop (if any) is evaluated now: one kernel call for its metrics."""
        has_gap = clipped = False
        if self._any_gaps or self._any_clipped:
            has_gap, clipped = self._flags(tm)
        ic, to, nxt = tm.ic_time, tm.to_time, tm.next_ic_time
        n = _sm.complete_step(
            tm.side == "right", ic, to, nxt, _stance_end(tm), has_gap, clipped,
            *self._step_args[tm.side],
        )  # fmt: skip
        impact, drop, contact, flight, step_time, cadence = self._step_out.tolist()
        step = Step(
            tm.side, ic, to, contact, flight, step_time, cadence, impact, drop, has_gap, clipped
        )
        out.steps.append(step)
        if n:
            out.alerts += self.monitor._alerts(step, n)

    def _release(self, out: PipelineOutput) -> None:
        pd = self.pelvic
        for tm in self._pending:
            drop = math.nan if pd is None else pd.drop(tm.side, tm.ic_time, _stance_end(tm))
            self._emit_step(tm, drop, out)
        self._pending = []

    def _emit_step(self, tm: StepTiming, drop: float, out: PipelineOutput) -> None:
        step = self._complete(tm, drop)
        out.steps.append(step)
        alerts = self.monitor.add(step)
        if alerts:
            out.alerts += alerts

    def _complete(self, tm: StepTiming, drop: float) -> Step:
        has_gap, clipped = self._flags(tm)
        impact = math.nan
        shoe = self._by_name.get(f"shoe_{tm.side}")
        if shoe is not None:
            tl = shoe.timeline
            impact = _tl.window_max(tl.tb, tl.vb, tl.meta, tm.ic_time - 0.05, tm.ic_time + 0.05, 0)
        return tm.to_step(
            impact_peak=impact, pelvic_drop_deg=drop, has_gap=has_gap, clipped=clipped
        )
