"""Report figures drawn with pyqtgraph offscreen and exported as PNG bytes.

pyqtgraph is already the dashboard's plotting library, so reports need no second one
(matplotlib would add ~40 MB for a handful of plots). A QApplication is created on first
use, on Qt's offscreen platform when there is no display.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from pyqtgraph.Qt import QtCore, QtWidgets

from ...types import SIDES
from ..style import BALANCE_GREEN_PCT, BALANCE_RED_PCT, SIDE_COLOURS
from ..widgets.pelvic_drop import rolling_mean
from .data import ReportData

__all__ = [
    "compare_figure",
    "drop_distribution_figure",
    "timeline_figure",
]

INK = "#222222"
GRID_ALPHA = 0.25
ALERT_FILL = (217, 59, 59, 38)
MARKER_COLOUR = "#6a3d9a"
SESSION_COLOURS = ("#7f7f7f", "#2ca02c")  # A (before), B (after)


def _layout(width: int, height: int) -> pg.GraphicsLayoutWidget:
    if QtWidgets.QApplication.instance() is None and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # reports need no screen
    pg.mkQApp()
    pg.setConfigOptions(antialias=True, background="w", foreground=INK)
    glw = pg.GraphicsLayoutWidget(show=False)
    glw.resize(width, height)
    return glw


def _png(glw: pg.GraphicsLayoutWidget, width: int) -> bytes:
    # lay the scene out at the widget's size before exporting (offscreen show is invisible)
    glw.show()
    pg.mkQApp().processEvents()
    exporter = ImageExporter(glw.scene())
    exporter.parameters()["width"] = width
    image = exporter.export(toBytes=True)
    buf = QtCore.QBuffer()
    buf.open(QtCore.QIODevice.WriteOnly)
    if not image.save(buf, "PNG"):
        raise OSError("could not encode a report figure as PNG")
    data = bytes(buf.data())
    glw.close()
    glw.deleteLater()
    return data


def _style(p: pg.PlotItem, title: str, left: str, bottom: str) -> None:
    p.setTitle(title, color=INK, size="12pt")
    p.setLabel("left", left)
    p.setLabel("bottom", bottom)
    p.showGrid(x=True, y=True, alpha=GRID_ALPHA)
    p.hideButtons()
    p.setMenuEnabled(False)
    for axis in ("left", "bottom"):
        p.getAxis(axis).enableAutoSIPrefix(False)


def _dashed(colour: str, width: float = 1.5) -> pg.QtGui.QPen:
    return pg.mkPen(colour, width=width, style=QtCore.Qt.DashLine)


def drop_distribution_figure(data: ReportData, width: int = 900, height: int = 380) -> bytes:
    """Histogram of per-step pelvic drop for each stance side, with means and neutral line."""
    glw = _layout(width, height)
    p = glw.addPlot()
    _style(p, "Pelvic drop per step, by stance side", "steps", "pelvic drop (°)")
    p.addLegend(offset=(-10, 10), labelTextColor=INK)
    drops = {s: data.steps["pelvic_drop_deg"][data.side_mask(s)] for s in SIDES}
    allv = np.concatenate([d[np.isfinite(d)] for d in drops.values()] + [np.zeros(1)])
    lo, hi = np.floor(allv.min()) - 0.5, np.ceil(allv.max()) + 0.5
    edges = np.arange(lo, hi + 0.5, 0.5)
    for side in SIDES:
        d = drops[side][np.isfinite(drops[side])]
        counts, _ = np.histogram(d, bins=edges)
        colour = SIDE_COLOURS[side]
        stats = data.side_stats(side)
        p.plot(
            edges,
            counts,
            stepMode="center",
            fillLevel=0,
            brush=pg.mkBrush(colour + "66"),
            pen=pg.mkPen(colour, width=2),
            name=f"{side} stance: mean {stats.drop_mean:.1f}° (n={stats.n_steps})",
        )
        if np.isfinite(stats.drop_mean):
            p.addItem(pg.InfiniteLine(stats.drop_mean, angle=90, pen=pg.mkPen(colour, width=3)))
    p.addItem(pg.InfiniteLine(0.0, angle=90, pen=_dashed(INK)))
    return _png(glw, width)


def _unit(data: ReportData) -> float:
    """Seconds per time-axis unit: seconds for short sessions, minutes otherwise."""
    return 1.0 if data.duration < 180.0 else 60.0


def _markers(p: pg.PlotItem, data: ReportData, label: bool) -> None:
    m = data.markers
    if not m or len(m.get("time", ())) == 0:
        return
    for t, kind, value, text in zip(m["time"], m["kind"], m["value"], m["text"], strict=True):
        line = pg.InfiniteLine(
            (float(t) - data.t_start) / _unit(data), angle=90, pen=_dashed(MARKER_COLOUR, 1.2)
        )
        if label:
            name = str(kind) + (f" {value:g}" if np.isfinite(value) else "")
            name += f": {text}" if str(text) else ""
            line.label = pg.InfLineLabel(
                line, text=name, position=0.92, color=MARKER_COLOUR, anchors=[(0, 0), (0, 0)]
            )
        p.addItem(line)


def _alert_regions(p: pg.PlotItem, data: ReportData) -> None:
    for span in data.alert_spans():
        region = pg.LinearRegionItem(
            ((span.start - data.t_start) / _unit(data), (span.end - data.t_start) / _unit(data)),
            movable=False,
            brush=pg.mkBrush(ALERT_FILL),
            pen=pg.mkPen(None),
        )
        region.setZValue(-10)
        p.addItem(region)


def timeline_figure(
    data: ReportData, width: int = 900, height: int = 640, window: int = 10
) -> bytes:
    """Pelvic drop, contact-time balance and cadence over the session.

    Alert intervals are shaded red, markers drawn as labelled purple lines; lines are
    ``window``-step trailing means per side.
    """
    glw = _layout(width, height)
    st = data.steps
    x_label = "session time (s)" if _unit(data) == 1.0 else "session time (min)"
    p1 = glw.addPlot(row=0, col=0)
    _style(
        p1,
        f"Pelvic drop, <span style='color:{SIDE_COLOURS['left']}'>left stance</span> and "
        f"<span style='color:{SIDE_COLOURS['right']}'>right stance</span> "
        "(red: asymmetry alert on)",
        "drop (°)",
        "",
    )
    for side in SIDES:
        m = data.side_mask(side)
        t = (st["ic_time"][m] - data.t_start) / _unit(data)
        d = st["pelvic_drop_deg"][m]
        colour = SIDE_COLOURS[side]
        ok = np.isfinite(d)
        p1.plot(
            t[ok],
            d[ok],
            pen=None,
            symbol="o",
            symbolSize=4,
            symbolPen=None,
            symbolBrush=colour + "70",
        )
        p1.plot(t, rolling_mean(d, window), pen=pg.mkPen(colour, width=2.5))
    p1.addItem(pg.InfiniteLine(0.0, angle=0, pen=_dashed(INK)))
    _alert_regions(p1, data)
    _markers(p1, data, label=True)

    p2 = glw.addPlot(row=1, col=0)
    _style(p2, "Contact-time balance (left share)", "left (%)", "")
    left = data.side_mask("left")
    ct = st["contact_time"]
    t_l = (st["ic_time"][left] - data.t_start) / _unit(data)
    ct_l = rolling_mean(ct[left], window)
    # right-side mean at each left step: the most recent `window` right steps
    t_r_all = st["ic_time"][~left]
    ct_r = rolling_mean(ct[~left], window)
    idx = np.searchsorted(t_r_all, st["ic_time"][left], side="right") - 1
    ct_r_at = np.where(idx >= 0, ct_r[np.clip(idx, 0, None)] if ct_r.size else np.nan, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = 100.0 * ct_l / (ct_l + ct_r_at)
    for lim, colour in ((BALANCE_GREEN_PCT, "#e0a526"), (BALANCE_RED_PCT, "#d93b3b")):
        for y in (lim, 100.0 - lim):
            p2.addItem(pg.InfiniteLine(y, angle=0, pen=_dashed(colour, 1.0)))
    p2.addItem(pg.InfiniteLine(50.0, angle=0, pen=_dashed(INK)))
    p2.plot(t_l, share, pen=pg.mkPen("#333333", width=2.5), connect="finite")
    p2.setYRange(46, 54, padding=0)
    _alert_regions(p2, data)
    _markers(p2, data, label=False)

    p3 = glw.addPlot(row=2, col=0)
    _style(p3, "Cadence", "steps/min", x_label)
    t_all = (st["ic_time"] - data.t_start) / _unit(data)
    cad = st["cadence"]
    if not np.isfinite(cad).any():
        dt = np.diff(st["ic_time"], prepend=np.nan)
        cad = np.where(dt > 0, 60.0 / dt, np.nan)
    p3.plot(t_all, rolling_mean(cad, 2 * window), pen=pg.mkPen("#333333", width=2.5))
    _markers(p3, data, label=False)
    for p in (p2, p3):
        p.setXLink(p1)
    glw.ci.layout.setRowStretchFactor(0, 5)
    glw.ci.layout.setRowStretchFactor(1, 3)
    glw.ci.layout.setRowStretchFactor(2, 3)
    return _png(glw, width)


def compare_figure(
    sessions: Sequence[ReportData], labels: Sequence[str], width: int = 900, height: int = 380
) -> bytes:
    """Mean ± SD pelvic drop per side and contact-time share per side, session by session."""
    glw = _layout(width, height)
    p1 = glw.addPlot(row=0, col=0)
    _style(p1, "Pelvic drop, mean ± SD", "drop (°)", "")
    p2 = glw.addPlot(row=0, col=1)
    _style(p2, "Contact-time share", "% of both sides", "")
    p1.addLegend(offset=(-10, 10), labelTextColor=INK)
    k = len(sessions)
    w = 0.8 / k
    for j, (data, label) in enumerate(zip(sessions, labels, strict=True)):
        colour = SESSION_COLOURS[j % len(SESSION_COLOURS)]
        x = np.arange(2) - 0.4 + w * (j + 0.5)
        stats = [data.side_stats(s) for s in SIDES]
        means = np.array([s.drop_mean for s in stats])
        sds = np.nan_to_num(np.array([s.drop_sd for s in stats]))
        bars = pg.BarGraphItem(
            x=x,
            height=np.nan_to_num(means),
            width=w * 0.9,
            brush=colour,
            pen=pg.mkPen(INK, width=0.5),
            name=label,
        )
        p1.addItem(bars)
        p1.addItem(
            pg.ErrorBarItem(
                x=x,
                y=np.nan_to_num(means),
                height=2 * sds,
                beam=w * 0.3,
                pen=pg.mkPen(INK, width=1.5),
            )
        )
        share = np.array(data.contact_balance)
        p2.addItem(
            pg.BarGraphItem(
                x=x,
                height=np.nan_to_num(share),
                width=w * 0.9,
                brush=colour,
                pen=pg.mkPen(INK, width=0.5),
            )
        )
    ticks = [[(0, "left stance"), (1, "right stance")]]
    for p in (p1, p2):
        p.getAxis("bottom").setTicks(ticks)
        p.setXRange(-0.6, 1.6, padding=0)
    p1.addItem(pg.InfiniteLine(0.0, angle=0, pen=_dashed(INK)))
    p2.addItem(pg.InfiniteLine(50.0, angle=0, pen=_dashed(INK)))
    p2.setYRange(40, 60, padding=0)
    return _png(glw, width)
