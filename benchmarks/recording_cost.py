"""CPU cost of recording: three sensors at 1 kHz into the crash-safe session log.

    python benchmarks/recording_cost.py [--seconds 10]

A producer thread sends real imustream-open notifications at the real rate (paced by the
clock), as the acquisition thread does live; the recorder thread's own CPU time
(``time.thread_time``) over wall time is its cost in cores. Two packet sizes: 8 samples per
notification (typical) and 1 sample per notification (worst case, 3000 notifications/s).

Reference, measured in the same run: the same stream appended straight to HDF5 with h5py
(one resizable dataset per sensor, one append per 50 ms batch, flush every second), i.e. the
design the session log replaces.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imustream import profiles
from imustream.io.recorder import Recorder
from imustream.sim.encoders import PacketEncoder

SENSORS = ("pelvis", "shoe_left", "shoe_right")
RATE = 1000.0


def packets(per: int, seconds: float) -> list[list[bytes]]:
    """Per sensor, the payloads of ``seconds`` of data at ``RATE``."""
    prof = profiles.get("imustream-open")
    enc = PacketEncoder(prof, samples_per_packet=per)
    rng = np.random.default_rng(0)
    n_pk = int(seconds * RATE / per)
    out = []
    for _ in SENSORS:
        acc = rng.normal(0, 20, (n_pk * per, 3))
        gyr = rng.normal(0, 5, (n_pk * per, 3))
        out.append(
            [
                enc.encode(
                    acc[i * per : (i + 1) * per], gyr[i * per : (i + 1) * per], i * per / 1e3, i
                )
                for i in range(n_pk)
            ]
        )
    return out


def produce(send, pk: list[list[bytes]], per: int) -> None:
    """Call ``send(host_ns, sensor, payload)`` at the real rate for every packet."""
    t0 = time.monotonic()
    n_pk = len(pk[0])
    i = 0
    while i < n_pk:
        due = int((time.monotonic() - t0) * RATE / per)
        while i < min(due, n_pk):
            now = time.monotonic_ns()
            for s, name in enumerate(SENSORS):
                send(now, name, pk[s][i])
            i += 1
        time.sleep(0.002)


def run_recorder(pk, per: int, directory: Path) -> tuple[float, float, int]:
    rec = Recorder(directory / f"bench{per}.imulog", {"sensors": list(SENSORS), "t0_ns": 0})
    rec.start()
    produce(rec.notify, pk, per)
    st = rec.stop()
    return st.cpu_fraction, st.bytes, sum(st.dropped.values())


def run_h5py(pk, per: int, directory: Path) -> float:
    """Reference: append the same notifications straight into HDF5 (h5py), own thread."""
    import queue

    import h5py

    q: queue.SimpleQueue = queue.SimpleQueue()
    done = threading.Event()
    cpu = [0.0, 0.0]

    def writer() -> None:
        c0, w0 = time.thread_time(), time.monotonic()
        with h5py.File(directory / f"ref{per}.h5", "w", libver=("v110", "latest")) as f:
            ds = {
                s: f.create_dataset(s, (0,), dtype=h5py.vlen_dtype(np.uint8), maxshape=(None,))
                for s in SENSORS
            }
            last_flush = time.monotonic()
            while not (done.is_set() and q.empty()):
                time.sleep(0.05)
                batch: dict[str, list] = {s: [] for s in SENSORS}
                while not q.empty():
                    _, s, p = q.get()
                    batch[s].append(np.frombuffer(p, np.uint8))
                for s, rows in batch.items():
                    if rows:
                        d = ds[s]
                        n = d.shape[0]
                        d.resize((n + len(rows),))
                        d[n:] = rows
                if time.monotonic() - last_flush >= 1.0:
                    f.flush()
                    last_flush = time.monotonic()
        cpu[0], cpu[1] = time.thread_time() - c0, time.monotonic() - w0

    t = threading.Thread(target=writer)
    t.start()
    produce(lambda h, s, p: q.put((h, s, p)), pk, per)
    done.set()
    t.join()
    return cpu[0] / cpu[1]


def notify_cost(pk) -> float:
    """Seconds per ``Recorder.notify`` call on the producer side (queue put)."""
    with tempfile.TemporaryDirectory() as d:
        rec = Recorder(Path(d) / "n.imulog", {"sensors": list(SENSORS)}, queue_size=10**7)
        rec.start()
        n = min(20000, len(pk[0]))
        t = time.perf_counter()
        for i in range(n):
            rec.notify(i, "pelvis", pk[0][i])
        dt = (time.perf_counter() - t) / n
        rec.stop()
    return dt


def main() -> None:
    ap = argparse.ArgumentParser(description="recorder CPU cost, 3 sensors at 1 kHz")
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    print(f"3 sensors x {RATE:.0f} Hz, {args.seconds:g} s per case, real-time paced")
    cols = ("samples/notification", "recorder", "h5py ref", "ratio", "log MB/s")
    print(f"{cols[0]:>22} {cols[1]:>10} {cols[2]:>10} {cols[3]:>7} {cols[4]:>9}")
    with tempfile.TemporaryDirectory() as d:
        for per in (8, 1):
            pk = packets(per, args.seconds)
            frac, nbytes, dropped = run_recorder(pk, per, Path(d))
            ref = run_h5py(pk, per, Path(d))
            print(
                f"{per:>22} {frac * 100:>9.2f}% {ref * 100:>9.2f}% {frac / ref:>7.2f}"
                f" {nbytes / args.seconds / 1e6:>9.3f}"
                + (f"  DROPPED {dropped}" if dropped else "")
            )
        print(f"notify() on the acquisition thread: {notify_cost(pk) * 1e6:.2f} us per call")


if __name__ == "__main__":
    main()
