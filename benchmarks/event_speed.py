"""Speed of the gait-event detectors and the biquad kernel, per chunk size.

    python benchmarks/event_speed.py [--seconds 600]

Prints samples per second and x real time (at 200 Hz) for ShoeEventDetector and
PelvisEventDetector fed in chunks of 1, 8, 64 samples and the whole array. Reference measured
in the same run: scipy.signal.sosfilt with carried state over the same 6 channels in the same
chunks (the cost of the cheapest possible per-block filtering step in scipy), and the numba
biquad kernel doing that same filtering.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.signal as ss
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imustream.dsp.filters import StreamingFilter, butter_sos
from imustream.dsp.pelvis_events import PelvisEventDetector
from imustream.dsp.shoe_events import ShoeEventDetector
from imustream.sim import simulate

FS = 200.0


def _best(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _chunked(step, n: int, chunk: int):
    def run():
        for i in range(0, n, chunk):
            step(i, min(n, i + chunk))

    return run


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=600.0)
    args = ap.parse_args(argv)
    run = simulate("symmetric-runner", duration=args.seconds, fs=FS, seed=0)
    shoe = run.sensors["shoe_left"]
    pel = run.sensors["pelvis"]
    n = len(shoe.acc)
    x6 = np.ascontiguousarray(np.hstack([shoe.acc, shoe.gyr]))
    sos = butter_sos(4, 20.0, FS)

    # warm the numba caches
    ShoeEventDetector(FS).process(shoe.acc[:500], shoe.gyr[:500])
    PelvisEventDetector(FS).process(pel.acc[:500], pel.gyr[:500])
    StreamingFilter(sos, 6).process(x6[:10])

    table = Table(title=f"{args.seconds:g} s of running at {FS:g} Hz ({n} samples), best of 3")
    for col in ("chunk", "what", "samples/s", "x real time", "vs scipy sosfilt"):
        table.add_column(col, justify="right" if col not in ("what",) else "left")
    for chunk in (1, 8, 64, n):
        if chunk == 1 and n > 40_000:
            m = 40_000  # chunk 1 is slow for scipy: time a prefix
        else:
            m = n
        zi = np.zeros((sos.shape[0], 2, 6))

        def scipy_step(i, j, zi=zi):
            _, zi[:] = ss.sosfilt(sos, x6[i:j], axis=0, zi=zi)

        t_ref = _best(_chunked(scipy_step, m, chunk)) / m
        filt = StreamingFilter(sos, 6)
        t_filt = _best(_chunked(lambda i, j, f=filt: f.process(x6[i:j]), m, chunk)) / m

        def shoe_run(m=m, chunk=chunk):
            det = ShoeEventDetector(FS)
            _chunked(lambda i, j: det.process(shoe.acc[i:j], shoe.gyr[i:j]), m, chunk)()

        def pel_run(m=m, chunk=chunk):
            det = PelvisEventDetector(FS)
            _chunked(lambda i, j: det.process(pel.acc[i:j], pel.gyr[i:j]), m, chunk)()

        rows = [
            ("scipy sosfilt, 6 ch (reference)", t_ref),
            ("numba biquad kernel, 6 ch", t_filt),
            ("ShoeEventDetector", _best(shoe_run) / m),
            ("PelvisEventDetector", _best(pel_run) / m),
        ]
        for what, t in rows:
            table.add_row(
                "whole" if chunk == n else str(chunk),
                what,
                f"{1 / t:,.0f}",
                f"{1 / (t * FS):,.0f}",
                f"{t_ref / t:.1f}x",
            )
    Console(width=120).print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
