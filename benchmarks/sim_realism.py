"""Walking pelvis of the virtual runner vs real lower-back IMU data, averaged around each IC.

    python benchmarks/sim_realism.py [DATASETS_DIR] [--seeds 3] [--duration 60] [--per-side]
                                     [--waveforms]

Real: mobgap (McRoberts lower back, 100 Hz; columns acc/gyr 0 = up, 1 = right, 2 = forward),
every reference IC whose +-0.6 s window lies inside the recording, Test5 (straight walks) and
Test11 (daily-life bouts) apart. Simulated: the walking scenarios at 100 Hz, mounted in the
mobgap frame, every exact truth IC of steady walking (2.5 s after a bout's first IC, 0.6 s
before its landing). Each window has its own mean removed (gravity, tilt, bias), then windows are
averaged. Channels that change sign with the stance side (medio-lateral acc, yaw and roll rates)
are flipped for right ICs before pooling, so "lat" reads "towards the right in a left IC".

Printed: per channel the correlation and RMS difference between the simulated and real average
waveforms, the RMS of each average and the spread of the steps around it (SD over ICs), the band
spectrum of the acceleration while walking, and the timing of key features (vertical rise and peak
after IC, lowest vertical acceleration in single support, forward deceleration after IC, lateral
acceleration sign per stance side), also step by step; and what a step detector sees, step by
step, on the straight walks per subject (steady ICs; MS001's right ICs, which the reference dates
late, apart) vs the sim: the largest vertical peak and steepest rise 250-60 ms before IC relative
to the loading's, where the steepest rise lies, the timing spread of the steepest rise of the
3 Hz low-passed vertical acc (the step rhythm), the spread about each source's own average, and
the band RMS (0.5-2, 2-5, 5-10, 10-20 Hz) of each step's residual (window minus that average).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from rich.console import Console
from rich.table import Table
from scipy.signal import butter, sosfilt, sosfiltfilt, welch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from imustream.sim import VirtualRunner  # noqa: E402

FS = 100.0
LAGS = np.arange(-60, 61) / FS  #: window around each IC, s
#: body (x forward, y left, z up) -> mobgap sensor (x up, y right, z forward)
MOBGAP_MOUNT = np.array([[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]])
CHANNELS = ("vert", "lat", "fwd", "gyr up", "gyr right", "gyr fwd")
#: channels whose sign follows the stance side (flipped for right ICs when pooling)
SIDED = np.array([False, True, False, True, False, True])
SIM_SCENARIOS = ("treadmill-walk", "limping-walk")
#: 2nd-order Butterworth: the step rhythm a walking step detector follows
LOWPASS_3HZ = butter(2, 3.0, fs=FS, output="sos")


@dataclass
class Windows:
    """Mean-removed signal windows around ICs: ``x`` (n_ic, len(LAGS), 6), ``side`` (n_ic,),
    ``rise3`` (n_ic,): time after IC of the steepest rise of the vertical acc low-passed at
    3 Hz (zero phase, on the whole recording), in [IC-0.3 s, IC+0.2 s]."""

    x: NDArray[np.float64]
    side: NDArray[np.str_]
    rise3: NDArray[np.float64]
    #: the same with a causal 3 Hz low-pass (as a streaming detector sees it), in [IC-0.2, IC+0.3]
    rise3c: NDArray[np.float64]
    #: the 3 Hz low-passed vertical acc at ``ic + LAGS`` (n_ic, len(LAGS))
    lp3: NDArray[np.float64]

    def select(self, keep: NDArray[np.bool_]) -> Windows:
        """The windows where ``keep``."""
        return Windows(
            self.x[keep], self.side[keep], self.rise3[keep], self.rise3c[keep], self.lp3[keep]
        )

    @staticmethod
    def concat(parts: list[Windows]) -> Windows:
        """All windows of several recordings."""
        return Windows(
            *(
                np.concatenate([getattr(p, k) for p in parts])
                for k in ("x", "side", "rise3", "rise3c", "lp3")
            )
        )

    def mean(self, side: str | None = None) -> NDArray[np.float64]:
        """Average window of one side, or of both with the sided channels of right ICs flipped."""
        if side is not None:
            return self.x[self.side == side].mean(axis=0)
        return self.pooled().mean(axis=0)

    def pooled(self) -> NDArray[np.float64]:
        """All windows with the sided channels of right ICs flipped."""
        flip = np.where((self.side == "right")[:, None, None] & SIDED, -1.0, 1.0)
        return self.x * flip


def windows(t, acc, gyr, ics, sides) -> Windows:
    """Windows of acc and gyr (linear interpolation at ``ic + LAGS``), each mean-removed."""
    sig = np.hstack([acc, gyr])
    keep = (ics + LAGS[0] >= t[0]) & (ics + LAGS[-1] <= t[-1])
    at = ics[keep, None] + LAGS
    x = np.stack([np.interp(at, t, sig[:, c]) for c in range(6)], axis=-1)
    lp = sosfiltfilt(LOWPASS_3HZ, acc[:, 0])
    slope = np.gradient(lp, t)
    rise3 = np.array([_steepest(t, slope, ic, -0.3, 0.2) for ic in ics[keep]])
    causal = np.gradient(sosfilt(LOWPASS_3HZ, acc[:, 0] - acc[: int(FS), 0].mean()), t)
    rise3c = np.array([_steepest(t, causal, ic, -0.2, 0.3) for ic in ics[keep]])
    lp3 = np.interp(at, t, lp)
    x = x - x.mean(axis=1, keepdims=True)
    return Windows(x, np.asarray(sides)[keep], rise3, rise3c, lp3)


def _steepest(t, slope, ic: float, before: float, after: float) -> float:
    near = (t >= ic + before) & (t <= ic + after)
    return float(t[near][np.argmax(slope[near])] - ic)


def real_windows(datasets: Path, test: str, subject: str = "*", steady: bool = False) -> Windows:
    """All mobgap ICs of one test ("Test5" or "Test11"), of one subject ("HA001") or all;
    ``steady``: without the first and the last IC of each bout (gait initiation / termination)."""
    parts = []
    for f in sorted((datasets / "mobgap").glob(f"{subject}_{test}_*.npz")):
        d = np.load(f, allow_pickle=False)
        t = np.arange(d["acc"].shape[0]) / float(d["fs"])
        ic, side = d["ic"], d["ic_side"]
        if steady:
            keep = np.ones(ic.size, bool)
            for a, b in d["bouts"]:
                inside = np.flatnonzero((ic >= a) & (ic <= b))
                keep[inside[[0, -1]] if inside.size else []] = False
            ic, side = ic[keep], side[keep]
        parts.append(windows(t, d["acc"], d["gyr"], ic, side))
    if not parts:
        raise FileNotFoundError(f"no mobgap {test} recordings in {datasets / 'mobgap'}")
    return Windows.concat(parts)


def sim_windows(scenario: str, seeds: range, duration: float) -> Windows:
    """The exact truth ICs of steady walking of a simulated scenario (mobgap mounting)."""
    parts = []
    for seed in seeds:
        vr = VirtualRunner(scenario, fs=FS, seed=seed, duration=duration, mounting=MOBGAP_MOUNT)
        run = vr.run()
        p, tr = run.sensors["pelvis"], run.truth
        ic = tr["ic_time"]
        steady = np.zeros(ic.size, bool)
        for _, first, land in vr.plan.bouts:
            steady |= (ic >= first + 2.5) & (ic <= land - 0.6)
        parts.append(windows(p.t, p.acc, p.gyr, ic[steady], tr["side"][steady]))
    return Windows.concat(parts)


def _crossing_up(lags, y, i_peak: int, level: float) -> float:
    """Time (interpolated) where ``y`` last rises through ``level`` before index ``i_peak``."""
    i = i_peak
    while i > 0 and y[i - 1] >= level:
        i -= 1
    if i == 0:
        return float("nan")
    f = (level - y[i - 1]) / (y[i] - y[i - 1])
    return float(lags[i - 1] + f * (lags[i] - lags[i - 1]))


def _crossing_down(lags, y, after: float) -> float:
    """Time (interpolated) where ``y`` first falls through 0 after ``after``."""
    i = np.flatnonzero((lags[:-1] >= after) & (y[:-1] > 0) & (y[1:] <= 0))
    if i.size == 0:
        return float("nan")
    k = i[0]
    return float(lags[k] + y[k] / (y[k] - y[k + 1]) * (lags[k + 1] - lags[k]))


def _refined_peak(lags, y, i: int) -> float:
    """Parabolic refinement of an extremum at sample ``i``."""
    if 0 < i < y.size - 1:
        den = y[i - 1] - 2 * y[i] + y[i + 1]
        if den != 0:
            return float(lags[i] + 0.5 * (y[i - 1] - y[i + 1]) / den * (lags[1] - lags[0]))
    return float(lags[i])


def features(w: Windows) -> dict[str, float]:
    """Timing (s, relative to IC) and sizes (m/s^2) of the key walking features."""
    m = w.mean()
    vert, fwd = m[:, 0], m[:, 2]
    after = (LAGS >= -0.05) & (LAGS <= 0.25)
    i_pk = np.flatnonzero(after)[np.argmax(vert[after])]
    before = (LAGS >= -0.3) & (LAGS <= LAGS[i_pk])
    low = vert[before].min()
    single = (LAGS >= 0.1) & (LAGS <= 0.5)
    i_lo = np.flatnonzero(single)[np.argmin(vert[single])]
    near = (LAGS >= -0.05) & (LAGS <= 0.3)
    i_fw = np.flatnonzero(near)[np.argmin(fwd[near])]
    mid = (LAGS >= 0.1) & (LAGS <= 0.4)
    slope = np.gradient(vert, LAGS)
    rising = (LAGS >= -0.15) & (LAGS <= LAGS[i_pk])
    i_sl = np.flatnonzero(rising)[np.argmax(slope[rising])]
    out = {
        "vert above mean from s": _crossing_up(LAGS, vert, i_pk, 0.0),
        "vert half-way up s": _crossing_up(LAGS, vert, i_pk, 0.5 * (low + vert[i_pk])),
        "vert steepest rise s": _refined_peak(LAGS, slope, i_sl),
        "vert peak after IC s": _refined_peak(LAGS, vert, i_pk),
        "vert peak m/s2": float(vert[i_pk]),
        "vert single-support min s": _refined_peak(LAGS, vert, i_lo),
        "vert single-support min m/s2": float(vert[i_lo]),
        "fwd below mean from s": _crossing_down(LAGS, fwd, -0.1),
        "fwd decel min s": _refined_peak(LAGS, fwd, i_fw),
        "fwd decel min m/s2": float(fwd[i_fw]),
        "fwd at IC-50ms m/s2": float(np.interp(-0.05, LAGS, fwd)),
    }
    # the same two vertical features step by step (median and quartiles over ICs)
    v = w.x[:, :, 0]
    rising = (LAGS >= -0.2) & (LAGS <= 0.15)
    steep = LAGS[rising][np.argmax(np.gradient(v, LAGS, axis=1)[:, rising], axis=1)]
    peak = LAGS[after][np.argmax(v[:, after], axis=1)]
    for name, x in (("steepest vert rise", steep), ("vert peak", peak)):
        q25, q50, q75 = np.percentile(x, [25, 50, 75])
        out[f"per step: {name} median s"] = float(q50)
        out[f"per step: {name} q25 s"] = float(q25)
        out[f"per step: {name} q75 s"] = float(q75)
    for side in ("left", "right"):
        lat = w.mean(side)[:, 1]
        out[f"lat 0.1-0.4 s, {side} IC (+ = right) m/s2"] = float(lat[mid].mean())
    lat = m[:, 1]
    i0 = np.flatnonzero(LAGS >= -0.2)[0]
    up = np.flatnonzero((lat[i0:-1] <= 0) & (lat[i0 + 1 :] > 0))
    out["lat sign change after IC s"] = float(LAGS[i0 + up[0]]) if up.size else float("nan")
    return out


PRE_IC = (-0.25, -0.06)  #: s: where a step detector must not find the step
LOADING = (0.0, 0.12)  #: s: the loading peak after IC
SINGLE = (0.12, 0.4)  #: s: single support after IC
RESIDUAL_BANDS = ((0.5, 2.0), (2.0, 5.0), (5.0, 10.0), (10.0, 20.0))


def _in(span: tuple[float, float]) -> NDArray[np.bool_]:
    return (LAGS >= span[0] - 1e-9) & (LAGS <= span[1] + 1e-9)


def residual_band_rms(w: Windows) -> NDArray[np.float64]:
    """RMS (3 acc axes x RESIDUAL_BANDS) of each step's window minus the IC-locked average
    (its spread, without the periodic part), Hann-windowed periodogram averaged over steps."""
    x = w.pooled()[:, :, :3]
    n = x.shape[0]
    r = (x - x.mean(axis=0)) * np.sqrt(n / (n - 1))  # the average includes each step once
    win = np.hanning(LAGS.size)[None, :, None]
    nfft = 512
    spec = np.abs(np.fft.rfft(r * win, n=nfft, axis=1)) ** 2
    psd = 2 * spec / (FS * np.sum(win**2))  # one-sided, (m/s^2)^2 / Hz
    f = np.fft.rfftfreq(nfft, 1 / FS)
    mean = psd.mean(axis=0)
    return np.array(
        [np.sqrt(mean[(f >= a) & (f < b)].sum(axis=0) * FS / nfft) for a, b in RESIDUAL_BANDS]
    ).T


def step_view(w: Windows) -> dict[str, float]:
    """What a step detector sees in the vertical acceleration, step by step: the largest peak
    in PRE_IC relative to the loading peak (LOADING), the steepest rise in PRE_IC relative to
    the steepest in [IC-60 ms, IC+120 ms], and where the steepest rise of [IC-250, IC+150 ms]
    lies (share of steps in PRE_IC, i.e. >= 60 ms early)."""
    v = w.x[:, :, 0]
    slope = np.gradient(v, LAGS, axis=1)
    pre, load = _in(PRE_IC), _in(LOADING)
    peak = v[:, pre].max(axis=1) / v[:, load].max(axis=1)
    near = _in((PRE_IC[1], LOADING[1]))
    rise = slope[:, pre].max(axis=1) / slope[:, near].max(axis=1)
    span = _in((PRE_IC[0], 0.15))
    when = LAGS[span][np.argmax(slope[:, span], axis=1)]
    out = {}
    for name, x in (("pre-IC peak / loading peak", peak), ("pre-IC rise / loading rise", rise)):
        q50, q90 = np.percentile(x, [50, 90])
        out[f"{name}: median"] = float(q50)
        out[f"{name}: p90"] = float(q90)
        out[f"{name}: share > 0.8"] = float(np.mean(x > 0.8))
    out["steepest rise >= 60 ms before IC: share"] = float(np.mean(when <= PRE_IC[1] + 1e-9))
    out["steepest rise: median s"] = float(np.median(when))
    sd = w.x[:, :, 0].std(axis=0, ddof=1)
    for name, span in (("pre-IC", PRE_IC), ("loading", LOADING), ("single support", SINGLE)):
        out[f"vert spread in {name} m/s2"] = float(sd[_in(span)].mean())
    q10, q25, q50, q75, q90 = np.percentile(w.rise3, [10, 25, 50, 75, 90])
    out["3 Hz low-pass steepest rise: median s"] = float(q50)
    out["3 Hz low-pass steepest rise: IQR s"] = float(q75 - q25)
    out["3 Hz low-pass steepest rise: q10-q90 s"] = float(q90 - q10)
    out["3 Hz low-pass steepest rise: share > 60 ms off median"] = float(
        np.mean(np.abs(w.rise3 - q50) > 0.06)
    )
    c50 = np.median(w.rise3c)
    out["causal 3 Hz steepest rise: median s"] = float(c50)
    out["causal 3 Hz steepest rise: share > 60 ms off median"] = float(
        np.mean(np.abs(w.rise3c - c50) > 0.06)
    )
    # the step rhythm itself: the rise's timing spread is about its noise over its steepness
    m = w.lp3.mean(axis=0)
    near = _in((-0.3, 0.2))
    out["3 Hz low-pass average: peak-to-peak m/s2"] = float(np.ptp(m))
    out["3 Hz low-pass average: steepest rise m/s3"] = float(np.gradient(m, LAGS)[near].max())
    out["3 Hz low-pass residual at its steepest rise m/s2"] = float(
        w.lp3.std(axis=0, ddof=1)[near][np.argmax(np.gradient(m, LAGS)[near])]
    )
    return out


#: mobgap straight walks whose IC reference is right, per subject: MS001's right ICs are dated
#: ~100-150 ms late by the reference (their 3 Hz rise sits ~160 ms before the IC, the left ones'
#: at it; the pelvis detector's only misses on Test5), so they are shown apart
CLEAN_TEST5 = {"HA001": ("left", "right"), "MS001": ("left",)}


def clean_test5(datasets: Path) -> dict[str, Windows]:
    """Steady Test5 ICs of each subject whose reference is right (CLEAN_TEST5)."""
    out = {}
    for subject, sides in CLEAN_TEST5.items():
        w = real_windows(datasets, "Test5", subject, steady=True)
        out[subject] = w.select(np.isin(w.side, sides))
    return out


def detector_views(datasets: Path) -> dict[str, Windows]:
    """Steady Test5 ICs per subject (each with its own average), the clean ones apart from the
    ones with a late reference, all Test5 and Test11 ICs pooled (context)."""
    out = {}
    for subject in sorted({f.name.split("_")[0] for f in (datasets / "mobgap").glob("*_Test5_*")}):
        w = real_windows(datasets, "Test5", subject, steady=True)
        sides = CLEAN_TEST5.get(subject, ())
        clean = np.isin(w.side, sides)
        label = f"Test5 {subject}" + ("" if clean.all() else f" {', '.join(sides)} ICs")
        out[label] = w.select(clean)
        if not clean.all():
            out[f"Test5 {subject} other ICs (late reference)"] = w.select(~clean)
    out["Test5 all (pooled)"] = real_windows(datasets, "Test5", steady=True)
    out["Test11 (turns, daily life)"] = real_windows(datasets, "Test11", steady=True)
    return out


BANDS = ((0.0, 0.7), (0.7, 1.3), (1.3, 2.2), (2.2, 3.5), (3.5, 6.0), (6.0, 12.0), (12.0, 50.0))


def band_rms(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """RMS of each acc axis (columns) in each of BANDS (Hz), Welch over 2.56 s segments."""
    f, p = welch(x - x.mean(axis=0), fs=FS, nperseg=256, axis=0)
    df = f[1] - f[0]
    return np.array([np.sqrt(p[(f >= a) & (f < b)].sum(axis=0) * df) for a, b in BANDS]).T


def real_bands(datasets: Path) -> NDArray[np.float64]:
    """Band RMS (3 axes x BANDS) of the mobgap straight walks inside their bout, averaged."""
    out = []
    for f in sorted((datasets / "mobgap").glob("*_Test5_*.npz")):
        d = np.load(f, allow_pickle=False)
        t = np.arange(d["acc"].shape[0]) / float(d["fs"])
        a, b = d["bouts"][0]
        out.append(band_rms(d["acc"][(t >= a) & (t <= b)]))
    return np.mean(out, axis=0)


def sim_bands(scenario: str, seed: int = 0, duration: float = 60.0) -> NDArray[np.float64]:
    """The same for steady simulated walking, in 4.8 s pieces like the straight walks."""
    vr = VirtualRunner(scenario, fs=FS, seed=seed, duration=duration, mounting=MOBGAP_MOUNT)
    p = vr.run().sensors["pelvis"]
    _, first, land = vr.plan.bouts[0]
    starts = np.arange(first + 2.5, min(land, duration) - 4.8, 5.0)
    return np.mean([band_rms(p.acc[(p.t >= a) & (p.t < a + 4.8)]) for a in starts], axis=0)


def compare(
    sim: Windows, real: Windows, side: str | None = None
) -> list[tuple[str, float, float, float, float]]:
    """Per channel: correlation, RMS difference, RMS of the sim and of the real average (both
    sides pooled, or the ICs of one side)."""
    a, b = sim.mean(side), real.mean(side)
    rows = []
    for c, name in enumerate(CHANNELS):
        r = float(np.corrcoef(a[:, c], b[:, c])[0, 1])
        rms = float(np.sqrt(np.mean((a[:, c] - b[:, c]) ** 2)))
        rows.append((name, r, rms, float(np.std(a[:, c])), float(np.std(b[:, c]))))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("datasets", nargs="?", default=str(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--waveforms", action="store_true", help="print the averages every 50 ms")
    ap.add_argument("--per-side", action="store_true", help="also compare left and right ICs")
    args = ap.parse_args(argv)
    console = Console(width=200)
    root = Path(args.datasets)
    real = {test: real_windows(root, test) for test in ("Test5", "Test11")}
    sim = {name: sim_windows(name, range(args.seeds), args.duration) for name in SIM_SCENARIOS}
    console.print(
        "ICs: "
        + ", ".join(f"mobgap {k} {len(v.side)}" for k, v in real.items())
        + ", "
        + ", ".join(f"{k} {len(v.side)} ({args.seeds} seeds)" for k, v in sim.items())
    )

    # each subject's own average, ICs with a trusted reference only
    clean = {f"Test5 {k} (clean)": w for k, w in clean_test5(root).items()}
    table = Table(title="IC-locked average, sim vs real: correlation r / RMS difference")
    table.add_column("sim scenario vs real")
    for c in CHANNELS:
        table.add_column(f"{c} r / rms", justify="right")
    for name, s in sim.items():
        for test, r in [*real.items(), *clean.items()]:
            sides = ("left", "right") if args.per_side and test in real else ()
            for side in (None, *sides):
                cells = [
                    f"{rr:+.2f} / {d:.2f}" + (" m/s2" if c < 3 else " rad/s")
                    for c, (_, rr, d, _, _) in enumerate(compare(s, r, side))
                ]
                label = f"{name} vs {test}" + (f", {side} ICs" if side else "")
                table.add_row(label, *cells)
    console.print(table)

    amp = Table(
        title="RMS of the average waveform / spread around it (SD over ICs, mean over lags); "
        "m/s2, rad/s"
    )
    amp.add_column("source")
    for c in CHANNELS:
        amp.add_column(c, justify="right")
    for label, w in [*real.items(), *sim.items()]:
        spread = w.pooled().std(axis=0).mean(axis=0)
        amp.add_row(
            label,
            *(f"{a:.2f} / {b:.2f}" for a, b in zip(w.mean().std(axis=0), spread, strict=True)),
        )
    console.print(amp)

    bands = Table(title="Band RMS of the acc (m/s2), straight walks vs steady simulated walking")
    bands.add_column("source / axis")
    for a, b in BANDS:
        bands.add_column(f"{a:g}-{b:g} Hz", justify="right")
    rows = [("mobgap Test5", real_bands(root))]
    rows += [(name, sim_bands(name)) for name in SIM_SCENARIOS]
    for label, x in rows:
        for c, axis in enumerate(CHANNELS[:3]):
            bands.add_row(f"{label} {axis}", *(f"{v:.2f}" for v in x[c]))
    console.print(bands)

    feats = {label: features(w) for label, w in [*real.items(), *sim.items()]}
    ft = Table(title="Key features of the pooled averages (times relative to IC)")
    ft.add_column("feature")
    for label in feats:
        ft.add_column(label, justify="right")
    for key in next(iter(feats.values())):
        ft.add_row(key, *(f"{f[key]:+.3f}" for f in feats.values()))
    console.print(ft)

    views = detector_views(root)
    views.update(sim)
    sv = {label: step_view(w) for label, w in views.items()}
    st = Table(
        title="What a step detector sees, step by step (vertical acc; real: steady ICs, without "
        "the first and last of a bout)"
    )
    st.add_column("statistic")
    for label, w in views.items():
        st.add_column(f"{label} ({len(w.side)})", justify="right")
    for key in next(iter(sv.values())):
        st.add_row(key, *(f"{v[key]:.2f}" for v in sv.values()))
    for c, name in enumerate(CHANNELS[:5]):
        cells = (f"{w.pooled().std(axis=0, ddof=1)[:, c].mean():.2f}" for w in views.values())
        st.add_row(f"spread about its own average: {name}", *cells)
    console.print(st)
    rt = Table(title="Residual (step minus IC-locked average) band RMS, m/s2")
    rt.add_column("source / axis")
    for a, b in RESIDUAL_BANDS:
        rt.add_column(f"{a:g}-{b:g} Hz", justify="right")
    for label, w in views.items():
        x = residual_band_rms(w)
        for c, axis in enumerate(CHANNELS[:3]):
            rt.add_row(f"{label} {axis}", *(f"{v:.2f}" for v in x[c]))
    console.print(rt)

    if args.waveforms:
        sel = slice(None, None, 5)
        console.print("lag s   " + " ".join(f"{v:+5.2f}" for v in LAGS[sel]))
        for label, w in [*real.items(), *sim.items()]:
            m = w.mean()
            for c, name in enumerate(CHANNELS):
                console.print(f"{label:15s} {name:9s} " + " ".join(f"{v:+5.1f}" for v in m[sel, c]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
