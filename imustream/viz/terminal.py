"""Live terminal summary with rich: per-sensor link health, running gait metrics, alerts.

On a terminal it redraws in place (``rich.live.Live``); without one (pipes, CI, logs) it
prints one plain line per ``interval_s`` of session time, so output stays readable.
"""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table


def _num(value: float | None, fmt: str = "{:.0f}", unit: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return fmt.format(value) + unit


def sensor_table(stats: dict[str, Any], title: str = "sensors") -> Table:
    """One row per sensor: state, rates, loss, gaps, errors, radio."""
    table = Table(title=title, title_justify="left", expand=False)
    for col, justify in (
        ("sensor", "left"),
        ("state", "left"),
        ("profile", "left"),
        ("rate Hz", "right"),
        ("loss %", "right"),
        ("gaps", "right"),
        ("dup/late", "right"),
        ("decode err", "right"),
        ("reconn", "right"),
        ("RSSI", "right"),
        ("batt %", "right"),
        ("note", "left"),
    ):
        table.add_column(col, justify=justify)
    for sensor, st in stats.items():
        state_style = {"streaming": "green", "lost": "red", "reconnecting": "yellow"}.get(
            st.state, ""
        )
        table.add_row(
            sensor,
            f"[{state_style}]{st.state}[/]" if state_style else st.state,
            st.profile,
            f"{_num(st.effective_rate, '{:.1f}')} / {_num(st.nominal_rate, '{:g}')}",
            _num(100.0 * st.loss_fraction, "{:.1f}"),
            str(st.gaps),
            f"{st.duplicates}/{st.late}",
            str(st.decode_errors),
            str(st.reconnects),
            _num(st.rssi, "{:d}"),
            _num(st.battery, "{:d}"),
            st.problem or "",
        )
    return table


def metrics_table(metrics: dict[str, float], title: str = "gait") -> Table:
    """Cadence (in the title), contact time and pelvic drop left/right."""
    cadence = _num(metrics.get("cadence"), "{:.0f}", " steps/min")
    heading = f"{title}: cadence {cadence}"
    table = Table(title=heading, title_justify="left", expand=False, min_width=len(heading))
    table.add_column("metric")
    table.add_column("left", justify="right")
    table.add_column("right", justify="right")
    table.add_row(
        "contact time (ms)",
        _num(metrics.get("contact_left")),
        _num(metrics.get("contact_right")),
    )
    table.add_row(
        "pelvic drop (deg)",
        _num(metrics.get("drop_left"), "{:.1f}"),
        _num(metrics.get("drop_right"), "{:.1f}"),
    )
    return table


def alert_lines(alerts: list[Any]) -> list[str]:
    """One rich-markup line per active alert."""
    return [f"[bold red]ALERT[/] {a.metric}: {a.message or a.value}" for a in alerts]


def status_line(session: Any, with_metrics: bool) -> str:
    """One plain-text line: time, per-sensor rate/loss, metrics."""
    parts = [f"t={session.session_time:6.1f}s"]
    for sensor, st in session.stats.items():
        rate = _num(st.effective_rate, "{:.0f}")
        parts.append(f"{sensor} {st.state} {rate}Hz loss {100 * st.loss_fraction:.1f}%")
        if st.problem:
            parts.append(f"[{sensor}: {st.problem}]")
    if with_metrics:
        m = session.metrics()
        parts.append(
            f"cadence {_num(m['cadence'])} contact L/R {_num(m['contact_left'])}/"
            f"{_num(m['contact_right'])} ms drop L/R {_num(m['drop_left'], '{:.1f}')}/"
            f"{_num(m['drop_right'], '{:.1f}')} deg"
        )
        for alert in session.active_alerts.values():
            parts.append(f"ALERT {alert.metric}: {alert.message}")
    return " | ".join(parts)


class TerminalSummary:
    """Live summary of a :class:`imustream.stream.live.LiveSession`.

    Parameters
    ----------
    console : rich Console, optional
    with_metrics : bool
        Show gait metrics (when a DSP pipeline runs).
    interval_s : float
        Session seconds between plain lines when not on a terminal.
    """

    def __init__(
        self, console: Console | None = None, with_metrics: bool = True, interval_s: float = 5.0
    ) -> None:
        self.console = console or Console()
        self.with_metrics = with_metrics
        self.interval_s = interval_s
        self._live: Live | None = None
        self._next_line = 0.0

    def _render(self, session: Any, title: str = "imustream", window_s: float = 15.0) -> Group:
        parts = [sensor_table(session.stats, title=f"{title}  t = {session.session_time:.1f} s")]
        if self.with_metrics:
            gait = "gait, last 15 s" if math.isfinite(window_s) else "gait, whole session"
            parts.append(metrics_table(session.metrics(window_s), title=gait))
            parts += alert_lines(list(session.active_alerts.values()))
        return Group(*parts)

    def __enter__(self) -> TerminalSummary:
        if self.console.is_terminal:
            self._live = Live(console=self.console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def update(self, session: Any) -> None:
        """Redraw (terminal) or print a line if ``interval_s`` has passed (no terminal)."""
        if self._live is not None:
            self._live.update(self._render(session))
        elif session.session_time >= self._next_line:
            self.console.print(status_line(session, self.with_metrics), soft_wrap=True)
            # next line on a fixed grid of session time, so bursts of data do not stretch it
            self._next_line = (
                math.floor(session.session_time / self.interval_s) + 1
            ) * self.interval_s

    def final(self, session: Any, title: str = "final summary") -> None:
        """Print the final tables (after the live view closed)."""
        self.console.print(self._render(session, title=title, window_s=math.inf))
        if self.with_metrics:
            by_side = session.steps_by_side
            self.console.print(
                f"steps: {session.n_steps} (left {by_side['left']}, right {by_side['right']}); "
                f"alerts raised: {session.alerts_raised}; gaps: {session.n_gaps}"
            )
