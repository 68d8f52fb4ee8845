"""Self-contained HTML session reports (figures embedded as base64 PNG)."""

from __future__ import annotations

import base64
import datetime as _dt
import math
from collections.abc import Sequence
from html import escape

from ...types import SIDES
from ..style import BALANCE_GREEN_PCT, BALANCE_RED_PCT, SIDE_COLOURS, metric_label
from .data import ReportData
from .figures import compare_figure, drop_distribution_figure, timeline_figure

__all__ = ["render_comparison", "render_report"]

_CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #222;
       max-width: 1900px; margin: 24px auto; padding: 0 24px; line-height: 1.4; }
h1 { margin-bottom: 0; }
h2 { border-bottom: 2px solid #ddd; padding-bottom: 4px; margin-top: 32px; }
.sub { color: #666; margin-top: 4px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { background: #f4f5f7; border-radius: 8px; padding: 10px 16px; min-width: 150px; }
.card .k { color: #666; font-size: 0.85em; text-transform: uppercase; font-weight: 600; }
.card .v { font-size: 1.9em; font-weight: 700; }
.warn { background: #fff4d6; border-left: 5px solid #e0a526; padding: 8px 12px; }
.bad { background: #fde8e8; border-left: 5px solid #d93b3b; padding: 8px 12px; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border-bottom: 1px solid #e2e2e2; padding: 4px 12px; text-align: left; }
th { background: #f4f5f7; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }
.note { color: #555; font-size: 0.9em; }
""" + (f".left {{ color: {SIDE_COLOURS['left']}; }} .right {{ color: {SIDE_COLOURS['right']}; }}")


def _f(v: float, digits: int = 1, unit: str = "") -> str:
    return f"{v:.{digits}f}{unit}" if math.isfinite(v) else "–"


def _clock(t: float) -> str:
    t = max(0.0, t)
    return f"{int(t // 60)}:{t % 60:04.1f}"


def _img(png: bytes, alt: str) -> str:
    b64 = base64.b64encode(png).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{b64}">'


def _alert_seconds(data: ReportData) -> float:
    spans = data.alert_spans()
    if not spans:
        return 0.0
    iv = sorted((s.start, s.end) for s in spans)
    total, (a, b) = 0.0, iv[0]
    for s, e in iv[1:]:
        if s > b:
            total += b - a
            a, b = s, e
        else:
            b = max(b, e)
    return total + (b - a)


def _cards(data: ReportData) -> str:
    left, right = data.contact_balance
    dl, dr = (data.side_stats(s).drop_mean for s in SIDES)
    alert_pct = 100.0 * _alert_seconds(data) / data.duration if data.duration > 0 else math.nan
    cards = [
        ("Duration", _clock(data.duration).rsplit(".", 1)[0] + " min"),
        ("Steps", str(data.n_steps)),
        ("Cadence", _f(data.cadence, 0, " spm")),
        (
            "Contact time L | R",
            f"<span class=left>{_f(left)}</span> | <span class=right>{_f(right)}</span> %",
        ),
        (
            "Pelvic drop L | R",
            f"<span class=left>{_f(dl)}</span> | <span class=right>{_f(dr)}</span> °",
        ),
        ("Time with alert", _f(alert_pct, 0, " %")),
    ]
    body = "".join(
        f"<div class=card><div class=k>{k}</div><div class=v>{v}</div></div>" for k, v in cards
    )
    return f"<div class=cards>{body}</div>"


def _reading(data: ReportData) -> str:
    """Plain-words reading of the balance and drop numbers (bands named, no diagnosis)."""
    out = []
    left, right = data.contact_balance
    if math.isfinite(left):
        big = max(left, right)
        side = "left" if left > right else "right"
        band = (
            "within the range running watches call balanced"
            if big <= BALANCE_GREEN_PCT
            else "mildly unbalanced"
            if big <= BALANCE_RED_PCT
            else "clearly unbalanced"
        )
        out.append(
            f"Ground contact is {_f(big)} % on the {side} foot: {band} "
            f"(bands: ≤ {BALANCE_GREEN_PCT} % balanced, > {BALANCE_RED_PCT} % unbalanced)."
        )
    dl, dr = (data.side_stats(s).drop_mean for s in SIDES)
    if math.isfinite(dl) and math.isfinite(dr):
        more = "left" if dl > dr else "right"
        hip = "right" if more == "left" else "left"
        text = (
            f"The pelvis drops {_f(abs(dl - dr))}° more during {more} stance "
            f"(the {hip} hip sinks), {_f(max(dl, dr))}° vs {_f(min(dl, dr))}° on average"
        )
        c = data.compare_sides("pelvic_drop_deg")
        if c is not None:
            text += (
                f"; right − left {c.value:+.1f}° (95 % CI {c.ci_low:+.1f} to {c.ci_high:+.1f}°, "
                f"{c.n_left} left and {c.n_right} right steps)"
            )
        out.append(text + ".")
    return "".join(f"<p>{escape(p)}</p>" for p in out)


def _side_table(data: ReportData) -> str:
    rows = [
        ("Steps", lambda s: str(s.n_steps)),
        (
            "Contact time (ms)",
            lambda s: f"{_f(1e3 * s.contact_time_mean, 0)} ± {_f(1e3 * s.contact_time_sd, 0)}",
        ),
        ("Step time (ms)", lambda s: _f(1e3 * s.step_time_mean, 0)),
        ("Pelvic drop mean ± SD (°)", lambda s: f"{_f(s.drop_mean)} ± {_f(s.drop_sd)}"),
        ("Pelvic drop median / 90th pct (°)", lambda s: f"{_f(s.drop_median)} / {_f(s.drop_p90)}"),
        ("Impact peak (g)", lambda s: _f(s.impact_peak_mean / 9.81)),
    ]
    stats = [data.side_stats(s) for s in SIDES]
    head = "<tr><th></th><th class=left>left stance</th><th class=right>right stance</th></tr>"
    body = "".join(
        f"<tr><td>{name}</td>" + "".join(f"<td class=n>{fn(s)}</td>" for s in stats) + "</tr>"
        for name, fn in rows
    )
    return f"<table>{head}{body}</table>"


def _alerts_table(data: ReportData) -> str:
    spans = data.alert_spans()
    if not spans:
        return "<p>No asymmetry alert during this session.</p>"
    rows = "".join(
        f"<tr><td class=n>{_clock(s.start - data.t_start)}</td>"
        f"<td class=n>{_clock(s.end - data.t_start)}{' (still on)' if s.open_at_end else ''}</td>"
        f"<td>{escape(s.side)}</td><td>{escape(metric_label(s.metric)[0])}</td>"
        f"<td>{escape(s.message)}</td></tr>"
        for s in spans
    )
    head = "<tr><th>from</th><th>to</th><th>side</th><th>metric</th><th>message</th></tr>"
    return f"<table>{head}{rows}</table>"


def _markers_table(data: ReportData) -> str:
    m = data.markers
    if not m or len(m.get("time", ())) == 0:
        return "<p>No markers.</p>"
    rows = "".join(
        f"<tr><td class=n>{_clock(float(t) - data.t_start)}</td><td>{escape(str(k))}</td>"
        f"<td class=n>{_f(float(v), 0) if math.isfinite(float(v)) else ''}</td>"
        f"<td>{escape(str(x))}</td></tr>"
        for t, k, v, x in zip(m["time"], m["kind"], m["value"], m["text"], strict=True)
    )
    return f"<table><tr><th>time</th><th>marker</th><th>value</th><th>text</th></tr>{rows}</table>"


def _quality(data: ReportData) -> str:
    parts = []
    if data.recovered or not data.complete:
        parts.append(
            "<p class=warn>This recording was recovered after an interruption; the last "
            "second before it may be missing.</p>"
        )
    gaps = data.gap_seconds()
    rows = "".join(
        f"<tr><td>{escape(s)}</td><td class=n>{_f(g, 2)}</td>"
        f"<td class=n>{_f(100 * g / data.duration if data.duration else math.nan, 2)}</td></tr>"
        for s, g in gaps.items()
    )
    if rows:
        parts.append(
            f"<table><tr><th>sensor</th><th>missing (s)</th><th>missing (%)</th></tr>{rows}</table>"
        )
    parts.append(
        f"<p>{data.n_steps_with_gap} step(s) overlap missing data and "
        f"{data.n_steps_clipped} step(s) contain a clipped accelerometer sample; they are "
        "included above.</p>"
    )
    return "".join(parts)


def _header(data: ReportData) -> str:
    meta = data.metadata
    who = escape(str(meta.get("subject", ""))) if meta.get("subject") else ""
    bits = [escape(data.name)]
    if who:
        bits.append(f"runner {who}")
    if data.sensors:
        bits.append("sensors: " + ", ".join(escape(s) for s in data.sensors))
    return f"<p class=sub>{' · '.join(bits)}</p>"


def _session_body(data: ReportData, fig_width: int) -> str:
    if data.n_steps == 0:
        return (
            _header(data)
            + "<p class=bad>No steps were detected in this recording, so there is nothing to "
            "report on running form.</p>" + "<h2>Data quality</h2>" + _quality(data)
        )
    return "".join(
        [
            _header(data),
            _cards(data),
            _reading(data),
            "<h2>Pelvic drop distribution</h2>",
            _img(drop_distribution_figure(data, width=fig_width), "pelvic drop histogram"),
            "<h2>Over the session</h2>",
            _img(timeline_figure(data, width=fig_width), "pelvic drop, balance and cadence"),
            "<h2>Left and right</h2>",
            _side_table(data),
            "<h2>Asymmetry alerts</h2>",
            _alerts_table(data),
            "<h2>Markers</h2>",
            _markers_table(data),
            "<h2>Data quality</h2>",
            _quality(data),
        ]
    )


_FOOTNOTE = (
    "<p class=note>Definitions. Sides are the stance leg. Pelvic drop of a stance is the "
    "largest drop of the opposite hip during that stance, in degrees, relative to the "
    "neutral pelvis (standing still at the start when recorded, else the run's mean); "
    "positive means the opposite hip is lower. Contact-time balance is each side's share of "
    "the summed mean ground-contact times. Generated by imustream {version} on {date}.</p>"
)


def _page(title: str, body: str) -> str:
    from ... import __version__

    foot = _FOOTNOTE.format(version=escape(__version__), date=_dt.date.today().isoformat())
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>{body}{foot}</body></html>"
    )


def render_report(data: ReportData) -> str:
    """HTML report of one session (self-contained)."""
    return _page("Running session report", _session_body(data, 1000))


def _compare_table(sessions: Sequence[ReportData], labels: Sequence[str]) -> str:
    def row(name, fn, digits, unit=""):
        vals = [fn(d) for d in sessions]
        cells = "".join(f"<td class=n>{_f(v, digits, unit)}</td>" for v in vals)
        change = _f(vals[-1] - vals[0], digits, unit) if len(vals) == 2 else ""
        if change and not change.startswith("-") and change != "–":
            change = "+" + change
        return f"<tr><td>{name}</td>{cells}<td class=n>{change}</td></tr>"

    rows = [
        row("Cadence", lambda d: d.cadence, 0, " spm"),
        row("Contact time, left share", lambda d: d.contact_balance[0], 1, " %"),
        row("Pelvic drop, left stance", lambda d: d.side_stats("left").drop_mean, 1, "°"),
        row("Pelvic drop, right stance", lambda d: d.side_stats("right").drop_mean, 1, "°"),
        row(
            "Pelvic drop difference |L − R|",
            lambda d: abs(d.side_stats("left").drop_mean - d.side_stats("right").drop_mean),
            1,
            "°",
        ),
        row(
            "Time with alert",
            lambda d: 100 * _alert_seconds(d) / d.duration if d.duration else math.nan,
            0,
            " %",
        ),
    ]
    head = "".join(f"<th>{escape(lab)}</th>" for lab in labels)
    return f"<table><tr><th></th>{head}<th>change</th></tr>{''.join(rows)}</table>"


def render_comparison(sessions: Sequence[ReportData], labels: Sequence[str] | None = None) -> str:
    """HTML report comparing sessions side by side (e.g. before and after rehab)."""
    if len(sessions) < 2:
        raise ValueError(f"a comparison needs at least 2 sessions, got {len(sessions)}")
    labels = (
        list(labels) if labels else [f"{chr(65 + i)}: {d.name}" for i, d in enumerate(sessions)]
    )
    cols = "".join(
        f"<div><h2>{escape(lab)}</h2>{_session_body(d, 900)}</div>"
        for d, lab in zip(sessions, labels, strict=True)
    )
    body = (
        "<h2>Summary</h2>"
        + _compare_table(sessions, labels)
        + _img(compare_figure(sessions, labels), "comparison of sessions")
        + f"<div class=cols>{cols}</div>"
    )
    return _page("Running sessions compared", body)
