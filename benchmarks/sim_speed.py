"""Speed of the virtual runner: x real time per scenario, chunked long runs, memory.

    python benchmarks/sim_speed.py [--seconds 60] [--fs 200 400] [--long-minutes 10]

x-real-time = simulated seconds / wall seconds for all three sensors together (plus the truth
table). Reference, measured in the same run: the bare floor of any simulator of this output,
drawing the Gaussian noise for the same samples (3 sensors x 6 channels) with numpy; the
ratio sim / floor says how much the kinematics cost on top of that.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imustream.sim import VirtualRunner, scenario_names


def _best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _noise_floor(n: int) -> None:
    rng = np.random.default_rng(0)
    for _ in range(3):
        rng.standard_normal((n, 3))
        rng.standard_normal((n, 3))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--fs", type=float, nargs="+", default=[200.0, 400.0])
    ap.add_argument("--long-minutes", type=float, default=10.0)
    args = ap.parse_args()
    console = Console()

    table = Table(title=f"simulate(..., duration={args.seconds:g} s): best of 3")
    for col in ("scenario", "fs Hz", "wall s", "x real time", "noise floor s", "sim / floor"):
        table.add_column(col, justify="right" if col != "scenario" else "left")
    for fs in args.fs:
        n = round(args.seconds * fs)
        floor = _best(lambda n=n: _noise_floor(n))
        for name in scenario_names():

            def run(name=name, fs=fs):
                vr = VirtualRunner(name, fs=fs, seed=0, duration=args.seconds)
                vr.run()
                _ = vr.truth

            wall = _best(run)
            table.add_row(
                name,
                f"{fs:g}",
                f"{wall:.3f}",
                f"{args.seconds / wall:.0f}",
                f"{floor:.4f}",
                f"{wall / floor:.0f}",
            )
    console.print(table)

    # long run in chunks: throughput and peak memory vs generating the same span at once
    fs = max(args.fs)
    dur = args.long_minutes * 60.0
    long = Table(title=f"{args.long_minutes:g} min at {fs:g} Hz (fatigue-drift)")
    for col in ("mode", "wall s", "x real time", "peak traced MB"):
        long.add_column(col, justify="right" if col != "mode" else "left")
    for mode in ("chunks of 10 s", "whole run"):
        tracemalloc.start()
        t0 = time.perf_counter()
        vr = VirtualRunner("fatigue-drift", fs=fs, seed=0, duration=dur)
        if mode == "whole run":
            vr.run()
        else:
            for _ in vr.chunks(10.0):
                pass
        wall = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        long.add_row(mode, f"{wall:.2f}", f"{dur / wall:.0f}", f"{peak:.0f}")
    console.print(long)


if __name__ == "__main__":
    main()
