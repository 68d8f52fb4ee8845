"""Gait-event accuracy of imustream.detect_events on real recordings and on the virtual runner.

Usage::

    python benchmarks/accuracy.py [DATASETS_DIR] [--sim-seeds 3] [--sim-duration 60] [--no-sim]

DATASETS_DIR defaults to ../shared/datasets relative to the repository (the recordings are
read from there, never copied). Scoring follows the datasets' README: reference events inside
``bouts`` / ``to_bouts``, detections inside those intervals widened by the tolerance, one-to-one
matching within +-60 ms. Latency = emission time - event time of the streaming detector.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import imustream  # noqa: E402
from imustream.dsp.event_matching import MatchResult, in_bouts, match_events  # noqa: E402

TOL = 0.06
STATE_OF_THE_ART = {
    "shoe": "foot IMU vs force plates: IC 2±1 ms, TO 4±2 ms (Falbriard 2018, offline); "
    "IC 4.7±4.1 ms (Mo & Chow 2018)",
    "pelvis": "sacral IMU running: contact-time RMSE ~20 ms (Patoz 2022); "
    "sacrum-only L/R ~82 % (Kiernan 2023)",
}


class Tally:
    """Accumulates matches, side checks and latencies for one group of recordings."""

    def __init__(self) -> None:
        self.ic = MatchResult(0, 0, 0)
        self.to = MatchResult(0, 0, 0)
        self.side_ok: list[bool] = []
        self.latency: list[float] = []

    def add(self, other: Tally) -> None:
        self.ic = self.ic + other.ic
        self.to = self.to + other.to
        self.side_ok += other.side_ok
        self.latency += other.latency


def score_recording(path: Path) -> Tally:
    d = np.load(path, allow_pickle=False)
    fs = float(d["fs"])
    placement = "shoe" if str(d["placement"]).startswith("shoe") else "pelvis"
    gyr = d["gyr"] if "gyr" in d.files else None
    ev = imustream.detect_events(d["acc"], gyr, fs, placement)
    t = Tally()
    keep = in_bouts(ev.ic_times, d["bouts"], TOL)
    t.ic = match_events(ev.ic_times[keep], d["ic"], TOL)
    if "to" in d.files:
        keep_to = in_bouts(ev.to_times, d["to_bouts"], TOL)
        t.to = match_events(ev.to_times[keep_to], d["to"], TOL)
    if ev.ic_sides is not None and "ic_side" in d.files:
        sides = ev.ic_sides[keep]
        t.side_ok = [bool(sides[i] == d["ic_side"][j]) for i, j in t.ic.pairs]
    t.latency = list(ev.ic_latency[keep][[i for i, _ in t.ic.pairs]])
    return t


def score_sim(name: str, seed: int, duration: float, fs: float) -> dict[str, Tally]:
    from imustream.sim import simulate

    run = simulate(name, duration=duration, fs=fs, seed=seed)  # random mounting per seed
    out = {}
    for sensor in ("shoe_left", "shoe_right", "pelvis"):
        s = run.sensors[sensor]
        placement = "pelvis" if sensor == "pelvis" else "shoe"
        ev = imustream.detect_events(s.acc, s.gyr, run.fs, placement)
        tr = run.truth
        sel = np.ones(len(tr["side"]), bool)
        if placement == "shoe":
            sel = tr["side"] == sensor.split("_")[1]
        ref_to = tr["to_time"][sel]
        t = Tally()
        t.ic = match_events(ev.ic_times + s.t[0], tr["ic_time"][sel], TOL)
        t.to = match_events(ev.to_times + s.t[0], ref_to[np.isfinite(ref_to)], TOL)
        if ev.ic_sides is not None:
            t.side_ok = [bool(ev.ic_sides[i] == tr["side"][sel][j]) for i, j in t.ic.pairs]
        t.latency = list(ev.ic_latency[[i for i, _ in t.ic.pairs]])
        out[placement] = out.get(placement, Tally())
        out[placement].add(t)
    return out


def _ms(x: float) -> str:
    return "-" if not np.isfinite(x) else f"{1e3 * x:.1f}"


def _f(x: float) -> str:
    return "-" if not np.isfinite(x) else f"{x:.3f}"


def make_table(title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for col in ("group", "n IC", "IC P", "IC R", "IC F1", "IC |e| med/mean ms", "IC bias ms"):
        table.add_column(col, justify="right" if col != "group" else "left")
    for col in (
        "n TO",
        "TO F1",
        "TO |e| med/mean ms",
        "TO bias ms",
        "side acc",
        "IC lat med/p95 ms",
    ):
        table.add_column(col, justify="right")
    return table


def add_row(table: Table, label: str, t: Tally, style: str | None = None) -> None:
    lat = np.asarray(t.latency)
    table.add_row(
        label,
        str(t.ic.tp + t.ic.fn),
        _f(t.ic.precision),
        _f(t.ic.recall),
        _f(t.ic.f1),
        f"{_ms(t.ic.median_abs_error)}/{_ms(t.ic.mean_abs_error)}",
        _ms(t.ic.bias),
        str(t.to.tp + t.to.fn),
        _f(t.to.f1),
        f"{_ms(t.to.median_abs_error)}/{_ms(t.to.mean_abs_error)}",
        _ms(t.to.bias),
        _f(float(np.mean(t.side_ok))) if t.side_ok else "-",
        f"{_ms(np.median(lat))}/{_ms(np.percentile(lat, 95))}" if len(lat) else "-",
        style=style,
    )


def real_datasets(root: Path, console: Console) -> None:
    groups = {
        "gaitmap (shoe, walking, Vicon)": ("gaitmap", None),
        "alcantara2022 (sacrum, running, force treadmill)": ("alcantara2022", None),
        "mobgap (lower back, walking, INDIP)": ("mobgap", ("Test5", "Test11")),
    }
    for title, (folder, split) in groups.items():
        files = sorted((root / folder).glob("*.npz"))
        if not files:
            console.print(f"[yellow]{folder}: no recordings under {root / folder}[/]")
            continue
        table = make_table(title)
        overall = Tally()
        sub: dict[str, Tally] = {}
        for path in files:
            t = score_recording(path)
            overall.add(t)
            if folder != "alcantara2022":
                add_row(table, path.stem, t)
            for key in split or ():
                if key in path.stem:
                    sub.setdefault(key, Tally()).add(t)
        for key, t in sub.items():
            add_row(table, f"all {key}", t, style="bold")
        add_row(table, f"overall ({len(files)} files)", overall, style="bold")
        console.print(table)


def _lateral_sign_agreement(d) -> float:
    """Share of reference steps whose side label agrees with the lateral acceleration.

    mobgap's sensor frame has column 1 pointing right; during left stance (from a left IC to
    the next IC) the pelvis accelerates towards the right, so the step's mean lateral
    acceleration (relative to the recording's median) should be positive after a left IC.
    A check of the reference labels, not of the detector.
    """
    ic, side, y = d["ic"], d["ic_side"], d["acc"][:, 1].astype(float)
    fs, ok = float(d["fs"]), []
    for k in range(len(ic) - 1):
        if ic[k + 1] - ic[k] <= 1.5:
            m = y[round(ic[k] * fs) : round(ic[k + 1] * fs)].mean()
            ok.append((m > np.median(y)) == (side[k] == "left"))
    return float(np.mean(ok)) if ok else float("nan")


def _f1_step_found(ic_times: np.ndarray, d) -> float:
    """IC F1 within +-250 ms (the datasets' README's upper limit): was the step found at all."""
    wide = 0.25
    return match_events(ic_times[in_bouts(ic_times, d["bouts"], wide)], d["ic"], wide).f1


def mobgap_diagnostics(root: Path, console: Console) -> None:
    """Per recording and reference side: where the detector and the INDIP reference disagree."""
    files = sorted((root / "mobgap").glob("*.npz"))
    if not files:
        return
    table = Table(
        title="mobgap diagnostics: nearest-detection error per reference side, misses split "
        "into timing (a detection 60-250 ms away) and missed (none within 250 ms), false "
        "detections near (60-250 ms) or away from a reference IC; reference quality",
        title_justify="left",
    )
    for col in (
        "recording",
        "L med err ms",
        "L hit",
        "R med err ms",
        "R hit",
        "FN timing/missed",
        "FP near/away",
        "same-side ref pairs",
        "ref sides vs lateral acc",
        "F1 at +-250 ms",
    ):
        table.add_column(col, justify="left" if col == "recording" else "right")
    for path in files:
        d = np.load(path, allow_pickle=False)
        ev = imustream.detect_events(d["acc"], d["gyr"], float(d["fs"]), "pelvis")
        det = ev.ic_times[in_bouts(ev.ic_times, d["bouts"], TOL)]
        ref = d["ic"]
        r = match_events(det, ref, TOL)
        cells = []
        for side in ("left", "right"):
            rs = ref[d["ic_side"] == side]
            err = np.array([det[np.argmin(np.abs(det - t))] - t for t in rs]) if len(det) else []
            cells += [_ms(float(np.median(err))), f"{np.mean(np.abs(err) <= TOL):.2f}"]
        fn = [j for j in range(len(ref)) if j not in {j for _, j in r.pairs}]
        fp = [i for i in range(len(det)) if i not in {i for i, _ in r.pairs}]
        fn_timing = sum(np.min(np.abs(det - ref[j])) <= 0.25 for j in fn) if len(det) else 0
        fp_near = sum(np.min(np.abs(ref - det[i])) <= 0.25 for i in fp)
        same = int(np.sum(d["ic_side"][1:] == d["ic_side"][:-1]))
        table.add_row(
            path.stem,
            *cells,
            f"{fn_timing}/{len(fn) - fn_timing}",
            f"{fp_near}/{len(fp) - fp_near}",
            str(same),
            f"{_lateral_sign_agreement(d):.2f}",
            f"{_f1_step_found(ev.ic_times, d):.3f}",
        )
    console.print(table)


def _classify_mobgap(d, det: np.ndarray, r: MatchResult) -> tuple[list, list]:
    """Label each unmatched reference IC (FN) and unmatched detection (FP) with what is seen.

    FN labels, first that applies: ``late ref`` (a detection 60-250 ms *before* it: the
    trunk impact came earlier, e.g. MS001's right foot), ``early ref`` (one 60-250 ms after),
    ``same-side ref`` (a neighbouring reference IC has the same side: a contralateral IC is
    missing or the subject turned on the spot), ``unlocated ref`` (next to an IC INDIP could
    not locate, i.e. at the edge of a split bout), ``bout edge`` (first or last IC of an
    INDIP walking bout), ``quiet trunk`` (vertical acceleration SD < 0.5 m/s^2 within
    +-0.4 s: no step visible at the lower back), else ``detector``. FP labels: ``timing``
    (a reference IC 60-250 ms away), ``between same-side refs`` (inside a same-side reference
    pair: where the missing contralateral IC would be), else ``extra``.
    """
    ref, side, fs = d["ic"], d["ic_side"], float(d["fs"])
    up = d["acc"].astype(float) @ (
        np.nanmean(d["acc"], axis=0) / np.linalg.norm(np.nanmean(d["acc"], axis=0))
    )
    edges = set(np.round(d["bouts"].ravel(), 3)) - set(np.round(d["wb"].ravel(), 3))
    wb_edges = set(np.round(d["wb"].ravel(), 3))
    matched_ref = {j for _, j in r.pairs}
    matched_det = {i for i, _ in r.pairs}
    fns = []
    for j in range(len(ref)):
        if j in matched_ref:
            continue
        e = det - ref[j] if len(det) else np.array([np.inf])
        k = int(np.argmin(np.abs(e)))
        i0 = round(ref[j] * fs)
        quiet = np.std(up[max(0, i0 - round(0.4 * fs)) : i0 + round(0.4 * fs)]) < 0.5
        same = (j > 0 and side[j - 1] == side[j]) or (j + 1 < len(ref) and side[j + 1] == side[j])
        if -0.25 <= e[k] < -TOL:
            lab = "late ref"
        elif TOL < e[k] <= 0.25:
            lab = "early ref"
        elif same:
            lab = "same-side ref"
        elif round(ref[j], 3) in edges:
            lab = "unlocated ref"
        elif round(ref[j], 3) in wb_edges:
            lab = "bout edge"
        elif quiet:
            lab = "quiet trunk"
        else:
            lab = "detector"
        fns.append((float(ref[j]), str(side[j]), lab, float(e[k])))
    fps = []
    for i in range(len(det)):
        if i in matched_det:
            continue
        e = ref - det[i]
        k = int(np.argmin(np.abs(e)))
        before = np.flatnonzero(ref < det[i])
        between = (
            len(before) and before[-1] + 1 < len(ref) and side[before[-1]] == side[before[-1] + 1]
        )
        lab = "timing" if abs(e[k]) <= 0.25 else ("between same-side refs" if between else "extra")
        fps.append((float(det[i]), lab, float(-e[k])))
    return fns, fps


FN_LABELS = (
    "late ref",
    "early ref",
    "same-side ref",
    "unlocated ref",
    "bout edge",
    "quiet trunk",
    "detector",
)
FP_LABELS = ("timing", "between same-side refs", "extra")


def mobgap_misses(root: Path, console: Console, list_events: bool) -> None:
    """Counts (and with ``list_events`` the list) of labelled mobgap misses per recording."""
    files = sorted((root / "mobgap").glob("*.npz"))
    if not files:
        return
    table = Table(
        title="mobgap misses by what the data show (labels: see _classify_mobgap)",
        title_justify="left",
    )
    table.add_column("recording")
    for col in FN_LABELS:
        table.add_column(f"FN {col}", justify="right")
    for col in FP_LABELS:
        table.add_column(f"FP {col}", justify="right")
    for path in files:
        d = np.load(path, allow_pickle=False)
        ev = imustream.detect_events(d["acc"], d["gyr"], float(d["fs"]), "pelvis")
        det = ev.ic_times[in_bouts(ev.ic_times, d["bouts"], TOL)]
        fns, fps = _classify_mobgap(d, det, match_events(det, d["ic"], TOL))
        table.add_row(
            path.stem,
            *[str(sum(f[2] == lab for f in fns)) for lab in FN_LABELS],
            *[str(sum(f[1] == lab for f in fps)) for lab in FP_LABELS],
        )
        if list_events:
            for t, side, lab, e in fns:
                console.print(
                    f"{path.stem} FN {t:8.2f} s {side:5s} {lab:14s} "
                    f"nearest detection {1e3 * e:+.0f} ms"
                )
            for t, lab, e in fps:
                console.print(
                    f"{path.stem} FP {t:8.2f} s {lab:22s} nearest reference {1e3 * e:+.0f} ms"
                )
    console.print(table)


def simulated(args, console: Console) -> None:
    from imustream.sim import scenario_names

    table = make_table(
        f"virtual runner, random mountings, {args.sim_seeds} seeds x {args.sim_duration:g} s "
        f"at {args.sim_fs:g} Hz"
    )
    for name in scenario_names():
        per = {"shoe": Tally(), "pelvis": Tally()}
        for seed in range(args.sim_seeds):
            for placement, t in score_sim(name, seed, args.sim_duration, args.sim_fs).items():
                per[placement].add(t)
        for placement, t in per.items():
            add_row(table, f"{name} / {placement}", t)
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("datasets", nargs="?", default=str(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--sim-seeds", type=int, default=3)
    ap.add_argument("--sim-duration", type=float, default=60.0)
    ap.add_argument("--sim-fs", type=float, default=200.0)
    ap.add_argument("--no-sim", action="store_true", help="skip the virtual-runner part")
    ap.add_argument(
        "--mobgap-events", action="store_true", help="list every mobgap miss with its label"
    )
    args = ap.parse_args(argv)
    console = Console(width=200)
    root = Path(args.datasets)
    if root.is_dir():
        console.print(f"Real recordings from {root.resolve()} (tolerance ±{TOL * 1e3:.0f} ms)")
        real_datasets(root, console)
        mobgap_diagnostics(root, console)
        mobgap_misses(root, console, args.mobgap_events)
    else:
        console.print(
            f"[red]No dataset folder at {root} - real-recording accuracy NOT measured. "
            "Pass the folder as the first argument.[/]"
        )
    if not args.no_sim:
        simulated(args, console)
    console.print("State of the art (REFERENCE.md):")
    for k, v in STATE_OF_THE_ART.items():
        console.print(f"  {k}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
