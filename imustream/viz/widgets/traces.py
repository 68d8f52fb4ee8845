"""Scrolling per-sensor traces with IC / TO markers, channels selectable."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtWidgets

from ..decimate import minmax_decimate
from ..feed import COL_ACC, COL_GYR, COL_T
from ..model import DashboardModel
from ..style import CHANNEL_COLOURS, FOREGROUND, MUTED, SENSOR_LABELS

__all__ = ["CHANNELS", "QUANTITIES", "TracePanel"]

#: quantity name -> (columns, axis label)
QUANTITIES = {
    "Acceleration": (COL_ACC, "acc (m/s²)"),
    "Angular rate": (COL_GYR, "gyr (rad/s)"),
}
CHANNELS = ("x", "y", "z", "|v|")
IC_COLOUR = "#ffd43b"
TO_COLOUR = "#e599f7"
GRID_COLOUR = "#3a404a"


class TracePanel(QtWidgets.QWidget):
    """One scrolling plot per sensor; x axis is seconds relative to the newest sample.

    Parameters
    ----------
    sensors : sequence of str
        Sensor roles, one plot each, top to bottom.
    window_s : float
        Seconds shown.
    """

    def __init__(self, sensors: tuple[str, ...], window_s: float, parent=None) -> None:
        super().__init__(parent)
        self.sensors = sensors
        self.window_s = window_s
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

        bar = QtWidgets.QHBoxLayout()
        self.quantity = QtWidgets.QComboBox()
        self.quantity.addItems(list(QUANTITIES))
        bar.addWidget(self.quantity)
        self.channel_boxes: dict[str, QtWidgets.QCheckBox] = {}
        for name, colour in zip(CHANNELS, CHANNEL_COLOURS, strict=True):
            box = QtWidgets.QCheckBox(name)
            box.setChecked(name != "|v|")
            box.setStyleSheet(f"color: {colour}; font-weight: bold;")
            self.channel_boxes[name] = box
            bar.addWidget(box)
        legend = QtWidgets.QLabel(
            f"<span style='color:{IC_COLOUR}'>▼ foot strike (IC)</span> &nbsp; "
            f"<span style='color:{TO_COLOUR}'>▲ toe-off (TO)</span>"
        )
        bar.addStretch(1)
        bar.addWidget(legend)
        layout.addLayout(bar)

        self.glw = pg.GraphicsLayoutWidget()
        layout.addWidget(self.glw, 1)
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, list[pg.PlotCurveItem]] = {}
        self.ic_items: dict[str, pg.ScatterPlotItem] = {}
        self.to_items: dict[str, pg.ScatterPlotItem] = {}
        for i, s in enumerate(sensors):
            p = self.glw.addPlot(row=i, col=0)
            p.setTitle(SENSOR_LABELS.get(s, s), color=FOREGROUND, size="13pt")
            # no grid: alpha-blended grid lines cost more to paint than the traces themselves
            p.addItem(pg.InfiniteLine(0.0, angle=0, pen=pg.mkPen(GRID_COLOUR)))
            p.setXRange(-window_s, 0, padding=0)
            p.setMouseEnabled(x=False, y=False)
            p.hideButtons()
            p.setClipToView(True)
            p.enableAutoRange(x=False, y=False)
            if i == len(sensors) - 1:
                p.setLabel("bottom", "time relative to now", units="s", color=MUTED)
            if i:
                p.setXLink(self.plots[sensors[0]])
            self.plots[s] = p
            # PlotCurveItem, not PlotDataItem: the data arrive decimated, nothing else is needed
            self.curves[s] = [
                pg.PlotCurveItem(pen=pg.mkPen(c, width=1), skipFiniteCheck=True)
                for c in CHANNEL_COLOURS
            ]
            for c in self.curves[s]:
                p.addItem(c)
            self.ic_items[s] = pg.ScatterPlotItem(symbol="t", size=13, brush=IC_COLOUR, pen=None)
            self.to_items[s] = pg.ScatterPlotItem(symbol="t1", size=13, brush=TO_COLOUR, pen=None)
            p.addItem(self.ic_items[s])
            p.addItem(self.to_items[s])
        self._y_range: dict[str, tuple[float, float]] = {}
        self._marker_key: dict[str, tuple] = {}
        self._update_labels()
        self.quantity.currentTextChanged.connect(self._update_labels)

    def _update_labels(self) -> None:
        self._y_range.clear()
        label = QUANTITIES[self.quantity.currentText()][1]
        for p in self.plots.values():
            p.setLabel("left", label, color=MUTED)

    def _steady_y_range(self, sensor: str, lo: float, hi: float) -> None:
        """Grow the y range at once, shrink it only when the data use < 60 % of it: the axis
        (and its tick labels) is not rebuilt every frame."""
        if not (np.isfinite(lo) and np.isfinite(hi)):
            return
        pad = 0.08 * max(hi - lo, 1e-6)
        cur = self._y_range.get(sensor)
        if cur is not None and cur[0] <= lo and hi <= cur[1]:
            if (hi - lo) >= 0.6 * (cur[1] - cur[0]):
                return
        self._y_range[sensor] = (lo - pad, hi + pad)
        self.plots[sensor].setYRange(lo - pad, hi + pad, padding=0)

    def refresh(self, model: DashboardModel) -> None:
        """Redraw every sensor's visible window from the model."""
        cols = QUANTITIES[self.quantity.currentText()][0]
        shown = [self.channel_boxes[c].isChecked() for c in CHANNELS]
        now = model.now
        for s in self.sensors:
            tr = model.traces[s]
            curves = self.curves[s]
            width = max(100, int(self.plots[s].vb.width()))
            if tr.shape[0] == 0 or now != now:
                for c in curves:
                    c.setVisible(False)
                continue
            t = tr[:, COL_T]
            x = t - now
            xyz = tr[:, cols]
            ys = [xyz[:, 0], xyz[:, 1], xyz[:, 2], np.linalg.norm(xyz, axis=1)]
            lo, hi = np.inf, -np.inf
            for curve, y, on in zip(curves, ys, shown, strict=True):
                curve.setVisible(on)
                if not on:
                    continue
                if np.isfinite(y).all():
                    xd, yd = minmax_decimate(x, y, width)
                    curve.setData(xd, yd, skipFiniteCheck=True)
                else:  # e.g. a gyro-only notification of a two-stream device: leave gaps
                    curve.setData(x, y, connect="finite")
                    y = y[np.isfinite(y)]
                if y.size:
                    lo, hi = min(lo, float(y.min())), max(hi, float(y.max()))
            self._steady_y_range(s, lo, hi)
            self._draw_markers(model, s, t, ys, shown, cols)

    def _draw_markers(self, model, sensor, t, ys, shown, cols) -> None:
        """IC/TO markers in session time, shifted to "now" by the item position: their data
        change only when an event arrives or leaves the window, not every frame."""
        ic, to = model.event_times(sensor)
        key = (ic.size, ic[:1].tobytes(), to.size, to[:1].tobytes(), tuple(shown), str(cols))
        if key != self._marker_key.get(sensor):
            self._marker_key[sensor] = key
            # markers sit on the first shown channel, so they are drawn on the trace
            y_mark = next((y for y, on in zip(ys, shown, strict=True) if on), ys[3])
            self.ic_items[sensor].setData(ic, np.interp(ic, t, y_mark))
            self.to_items[sensor].setData(to, np.interp(to, t, y_mark))
        for item in (self.ic_items[sensor], self.to_items[sensor]):
            item.setPos(-model.now, 0.0)
            item.viewTransformChanged()  # else the scatter culls with its cached view rect
