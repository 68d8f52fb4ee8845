"""Rolling left/right comparison of per-step metrics and asymmetry alerts with hysteresis.

For each metric the last ``window`` steps of each side are compared:

* positive quantities (contact time, step time, impact peak): symmetry index
  ``SI = 100 * (R - L) / (0.5 * (R + L))`` in percent;
* pelvic drop: the difference ``R - L`` in degrees, plus an absolute limit per side.

Each comparison carries a Welch-t 95 % confidence interval. An alert turns on when a
comparison stays past its ``on`` threshold (and its interval excludes zero) for ``k_on``
consecutive steps, and turns off only after ``k_off`` consecutive steps below the lower
``off`` threshold, so it does not flicker.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal, NamedTuple

import numpy as np

from ..errors import ConfigError
from ..types import Alert, Side, Step

__all__ = [
    "PRESETS",
    "AlertThresholds",
    "AsymmetryMonitor",
    "Comparison",
    "MetricThreshold",
    "get_preset",
]

MetricName = Literal["contact_time", "step_time", "impact_peak", "pelvic_drop_deg"]
#: metrics compared between sides, and the Step field each reads
METRICS: tuple[MetricName, ...] = ("contact_time", "step_time", "impact_peak", "pelvic_drop_deg")
#: metric name used for the absolute (per side) pelvic-drop limit alert
PELVIC_DROP_LIMIT = "pelvic_drop_limit"


@dataclass(frozen=True, slots=True)
class MetricThreshold:
    """Alert thresholds of one metric: turn on at ``|value| >= on``, off below ``off``."""

    on: float
    off: float

    def __post_init__(self) -> None:
        if not (self.on > 0 and 0 <= self.off <= self.on):
            raise ConfigError(f"threshold needs on > 0 and 0 <= off <= on, got {self!r}")


@dataclass(frozen=True, slots=True)
class AlertThresholds:
    """Configuration of :class:`AsymmetryMonitor`.

    Parameters
    ----------
    contact_time, step_time, impact_peak : MetricThreshold or None
        Symmetry-index thresholds in percent (``None`` = no alert for that metric).
    pelvic_drop_deg : MetricThreshold or None
        Threshold on the left/right difference of pelvic drop in degrees.
    pelvic_drop_limit : MetricThreshold or None
        Absolute pelvic-drop limit per stance side in degrees (mean over the window).
    window : int
        Steps per side in the rolling comparison.
    min_steps : int
        Steps per side needed before anything is compared.
    k_on, k_off : int
        Consecutive steps past the on threshold to fire / below the off threshold to release.
    """

    contact_time: MetricThreshold | None = MetricThreshold(10.0, 7.0)
    step_time: MetricThreshold | None = MetricThreshold(10.0, 7.0)
    impact_peak: MetricThreshold | None = MetricThreshold(20.0, 14.0)
    pelvic_drop_deg: MetricThreshold | None = MetricThreshold(3.0, 2.0)
    pelvic_drop_limit: MetricThreshold | None = MetricThreshold(8.0, 7.0)
    window: int = 10
    min_steps: int = 5
    k_on: int = 6
    k_off: int = 6

    def __post_init__(self) -> None:
        if self.window < 2 or not (2 <= self.min_steps <= self.window):
            raise ConfigError(
                f"need window >= 2 and 2 <= min_steps <= window, got window={self.window}, "
                f"min_steps={self.min_steps}"
            )
        if self.k_on < 1 or self.k_off < 1:
            raise ConfigError(f"k_on and k_off must be >= 1, got {self.k_on}, {self.k_off}")


#: documented presets: "runner" (everyday feedback) and "clinic" (more sensitive, for a PT)
PRESETS: dict[str, AlertThresholds] = {
    "runner": AlertThresholds(),
    "clinic": AlertThresholds(
        contact_time=MetricThreshold(5.0, 3.5),
        step_time=MetricThreshold(5.0, 3.5),
        impact_peak=MetricThreshold(10.0, 7.0),
        pelvic_drop_deg=MetricThreshold(2.0, 1.5),
        pelvic_drop_limit=MetricThreshold(6.0, 5.0),
        window=15,
        min_steps=6,
        k_on=8,
        k_off=8,
    ),
}


def get_preset(name: str, **overrides) -> AlertThresholds:
    """Thresholds of preset ``name`` ("runner", "clinic") with optional field overrides."""
    try:
        base = PRESETS[name]
    except KeyError:
        raise ConfigError(
            f"unknown alert preset {name!r}; choose one of {sorted(PRESETS)}"
        ) from None
    try:
        return replace(base, **overrides)
    except TypeError as exc:
        raise ConfigError(f"bad alert threshold override: {exc}") from None


class Comparison(NamedTuple):
    """Left/right comparison of one metric over the rolling window.

    ``value`` is the SI in percent (or the R - L difference in degrees for pelvic drop),
    ``ci_low``/``ci_high`` its 95 % interval, ``left``/``right`` the side means.
    """

    metric: str
    value: float
    ci_low: float
    ci_high: float
    left: float
    right: float
    n_left: int
    n_right: int

    @property
    def significant(self) -> bool:
        """True when the confidence interval excludes zero."""
        return self.ci_low > 0 or self.ci_high < 0


_T975_TABLE: list[float] = []
_T975_STEPS = 4000  # table over x = 1 / df in [0, 1], uniform


def _t_quantile_975(df: float) -> float:
    """97.5 % quantile of Student's t with ``df >= 1`` (fractional) degrees of freedom.

    scipy's ``t.ppf`` costs ~0.5 ms a call (four per step); the quantile is smooth in
    ``1/df``, so a table over ``1/df`` interpolated linearly is accurate to < 1e-6.
    """
    if not _T975_TABLE:
        from scipy.stats import norm, t

        x = np.linspace(0.0, 1.0, _T975_STEPS + 1)
        with np.errstate(divide="ignore"):
            table = t.ppf(0.975, 1.0 / x)
        table[0] = norm.ppf(0.975)
        _T975_TABLE.extend(float(v) for v in table)
    pos = _T975_STEPS / max(df, 1.0)
    i = min(int(pos), _T975_STEPS - 1)
    a = _T975_TABLE[i]
    return a + (pos - i) * (_T975_TABLE[i + 1] - a)


def _mean_var(x) -> tuple[float, float]:
    n = len(x)
    m = sum(x) / n
    ss = 0.0
    for v in x:
        ss += (v - m) * (v - m)
    return m, ss / (n - 1)


def welch_interval(left, right) -> tuple[float, float, float]:
    """Mean difference ``right - left``, its Welch-t 95 % interval half-width, and the df."""
    nl, nr = len(left), len(right)
    ml, vl = _mean_var(left)
    mr, vr = _mean_var(right)
    vl /= nl
    vr /= nr
    diff = mr - ml
    se2 = vl + vr
    if se2 <= 0.0:
        return diff, 0.0, float(nl + nr - 2)
    df = se2 * se2 / (vl * vl / (nl - 1) + vr * vr / (nr - 1))
    return diff, _t_quantile_975(df) * math.sqrt(se2), df


def compare(metric: str, left, right) -> Comparison:
    """Compare the values of ``metric`` (sequences of floats) on the two sides.

    See the module docstring: SI in percent, or the difference in degrees for pelvic drop.
    """
    diff, half, _ = welch_interval(left, right)
    lm, rm = sum(left) / len(left), sum(right) / len(right)
    if metric == "pelvic_drop_deg":
        scale = 1.0
    else:
        scale = 100.0 / (0.5 * (lm + rm))
    return Comparison(
        metric,
        diff * scale,
        (diff - half) * scale,
        (diff + half) * scale,
        lm,
        rm,
        len(left),
        len(right),
    )


def _describe(metric: str, c: Comparison, side: Side) -> str:
    """Plain-words alert message naming the side and the metric."""
    other: Side = "left" if side == "right" else "right"
    worse, better = (c.right, c.left) if side == "right" else (c.left, c.right)
    pct = abs(c.value)
    if metric == "contact_time":
        return (
            f"Longer ground contact on the {side} foot: {worse * 1000:.0f} ms vs "
            f"{better * 1000:.0f} ms ({pct:.0f}% imbalance)"
        )
    if metric == "step_time":
        return (
            f"Steps off the {side} foot take longer: {worse * 1000:.0f} ms vs "
            f"{better * 1000:.0f} ms ({pct:.0f}% imbalance)"
        )
    if metric == "impact_peak":
        return (
            f"Harder landings on the {side} foot: {worse / 9.81:.1f} g vs "
            f"{better / 9.81:.1f} g ({pct:.0f}% more)"
        )
    # pelvic drop during stance on `side` = the opposite hip dropping
    return (
        f"{other.capitalize()} hip drops more during {side} stance: {worse:.1f}° vs {better:.1f}°"
    )


def _describe_limit(side: Side, mean: float, limit: float) -> str:
    other = "right" if side == "left" else "left"
    return f"{other.capitalize()} hip drops {mean:.1f}° during {side} stance (limit {limit:g}°)"


def _t975_table() -> np.ndarray:
    if not _T975_TABLE:
        _t_quantile_975(1.0)
    return np.array(_T975_TABLE)


class AsymmetryMonitor:
    """Feed steps in order; get :class:`~imustream.types.Alert` on/off transitions.

    The per-step work (rolling windows, Welch comparisons, hysteresis) runs in one numba
    call (:func:`imustream.dsp.kernels.asymmetry.add_step`) with the arithmetic of
    :func:`compare`; alert records and messages are made here, only when an alert turns on
    or off.

    Parameters
    ----------
    thresholds : AlertThresholds
        Thresholds and window (see :data:`PRESETS`).
    """

    def __init__(self, thresholds: AlertThresholds | None = None) -> None:
        from .kernels import asymmetry  # numba: imported with the monitor, not with compare()

        self._ka = asymmetry
        self.thresholds = AlertThresholds() if thresholds is None else thresholds
        th = self.thresholds
        n = len(METRICS)
        self._keys: list[tuple[str, str]] = [(m, "lr") for m in METRICS]
        self._keys += [(PELVIC_DROP_LIMIT, "left"), (PELVIC_DROP_LIMIT, "right")]
        self._limits: list[MetricThreshold | None] = [getattr(th, m) for m in METRICS]
        self._limits += [th.pelvic_drop_limit, th.pelvic_drop_limit]
        self._th = np.array(
            [(0.0, 0.0, 0.0) if lim is None else (lim.on, lim.off, 1.0) for lim in self._limits]
        )
        drop = METRICS.index("pelvic_drop_deg")
        self._cfg = np.array([th.min_steps, th.k_on, th.k_off, drop], dtype=np.int64)
        self._table = _t975_table()
        self._impact = METRICS.index("impact_peak")
        self._values_in = np.empty(n)
        self._usable = np.ones(n, dtype=np.bool_)
        self._trans = np.zeros((n + 2, 4))
        self.reset()

    def reset(self) -> None:
        """Forget all steps and alert states (in place: the state arrays stay the same
        objects, so a Pipeline holding them keeps working)."""
        n = len(METRICS)
        if not hasattr(self, "_vals"):
            self._vals = np.zeros((n, 2, self.thresholds.window))
            self._cnt = np.zeros((n, 2), dtype=np.int64)
            self._head = np.zeros((n, 2), dtype=np.int64)
            self._alert = np.zeros((n + 2, 3), dtype=np.int64)
            self._cmp = np.zeros((n, 8))
        for a in (self._vals, self._cnt, self._head, self._alert, self._cmp):
            a[...] = 0
        self.active: dict[tuple[str, str], Alert] = {}

    @property
    def comparisons(self) -> dict[str, Comparison]:
        """Latest comparison of each metric compared so far."""
        out = {}
        for k, m in enumerate(METRICS):
            row = self._cmp[k]
            if row[self._ka.C_VALID]:
                lo, hi = float(row[self._ka.C_LOW]), float(row[self._ka.C_HIGH])
                out[m] = Comparison(
                    m,
                    float(row[self._ka.C_VALUE]),
                    lo,
                    hi,
                    float(row[self._ka.C_LEFT]),
                    float(row[self._ka.C_RIGHT]),
                    int(row[self._ka.C_NL]),
                    int(row[self._ka.C_NR]),
                )
        return out

    def add(self, step: Step) -> list[Alert]:
        """Add one completed step; returns alerts that turned on or off at this step.

        Values of steps with ``has_gap`` and impact peaks of ``clipped`` steps are not used.
        """
        v = self._values_in
        v[0] = step.contact_time
        v[1] = step.step_time
        v[2] = step.impact_peak
        v[3] = step.pelvic_drop_deg
        # a step over a data gap, or a clipped impact, is not evidence of asymmetry
        usable = self._usable
        usable[:] = not step.has_gap
        if step.clipped:
            usable[self._impact] = False
        n = self._ka.add_step(
            step.side == "right",
            v,
            usable,
            self._vals,
            self._cnt,
            self._head,
            self._alert,
            self._th,
            self._cfg,
            self._table,
            self._cmp,
            self._trans,
        )
        return self._alerts(step, n) if n else []

    def _alerts(self, step: Step, n: int) -> list[Alert]:
        out = []
        comparisons = self.comparisons
        for key_i, turned_on, side_i, value in self._trans[:n].tolist():
            key = self._keys[int(key_i)]
            metric = key[0]
            side: Side = "right" if side_i else "left"
            limit = self._limits[int(key_i)]
            if turned_on:
                if metric == PELVIC_DROP_LIMIT:
                    text = _describe_limit(side, value, limit.on)
                else:
                    text = _describe(metric, comparisons[metric], side)
                alert = Alert(step.ic_time, metric, side, True, float(value), limit.on, text)
                self.active[key] = alert
            else:
                on = self.active.pop(key)
                text = f"Resolved: {on.message.split(':')[0].split(' (')[0].lower()}"
                alert = Alert(step.ic_time, metric, on.side, False, float(value), limit.off, text)
            out.append(alert)
        return out
