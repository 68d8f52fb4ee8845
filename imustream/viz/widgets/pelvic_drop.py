"""Per-step pelvic drop: left/right bars over the last N steps and the session trend."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtWidgets

from ...types import SIDES
from ..model import DashboardModel
from ..style import BAD, FOREGROUND, MUTED, SIDE_COLOURS

__all__ = ["MAX_TREND_POINTS", "PelvicDropPanel", "rolling_mean"]

#: most step dots drawn per side on the session trend (the mean line is decimated to this)
MAX_TREND_POINTS = 1500


def rolling_mean(y: np.ndarray, n: int) -> np.ndarray:
    """Trailing mean over up to ``n`` finite values (NaNs skipped), same length as ``y``."""
    y = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(y)
    csum = np.concatenate(([0.0], np.cumsum(np.where(ok, y, 0.0))))
    ccnt = np.concatenate(([0], np.cumsum(ok)))
    idx = np.arange(1, y.size + 1)
    lo = np.maximum(0, idx - n)
    cnt = ccnt[idx] - ccnt[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, (csum[idx] - csum[lo]) / cnt, np.nan)


class PelvicDropPanel(QtWidgets.QWidget):
    """Bars of the last ``n_steps`` steps (coloured by stance side) and a session trend.

    The neutral line (0 deg = standing / run-mean obliquity) is drawn dashed on both plots;
    the per-side pelvic-drop limit (``limit_deg``, then the threshold of the latest
    ``pelvic_drop_limit`` alert) dotted red.
    """

    def __init__(
        self,
        n_steps: int = 20,
        trend_steps: int = 10,
        limit_deg: float | None = None,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self.n_steps = n_steps
        self.trend_steps = trend_steps
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.glw = pg.GraphicsLayoutWidget()
        layout.addWidget(self.glw)

        self.bars_plot = self.glw.addPlot(row=0, col=0)
        self.bars_plot.setTitle(
            f"Pelvic drop, last {n_steps} steps "
            f"(<span style='color:{SIDE_COLOURS['left']}'>■ left stance</span> "
            f"<span style='color:{SIDE_COLOURS['right']}'>■ right stance</span>)",
            color=FOREGROUND,
            size="12pt",
        )
        self.bars_plot.setLabel("left", "drop (°)", color=MUTED)
        self.bars_plot.setLabel("bottom", "step (0 = latest)", color=MUTED)
        self.bars_plot.setXRange(-n_steps + 0.5, 0.5, padding=0)
        self.bars_plot.setMouseEnabled(x=False, y=False)
        self.bars_plot.hideButtons()
        self.bars_plot.showGrid(y=True, alpha=0.25)
        self.bars_plot.getAxis("left").setStyle(maxTickLevel=0)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8)
        self.bars_plot.addItem(self.bars)

        self.trend_plot = self.glw.addPlot(row=1, col=0)
        self.trend_plot.setTitle(
            f"Session trend ({trend_steps}-step mean)", color=FOREGROUND, size="12pt"
        )
        self.trend_plot.setLabel("left", "drop (°)", color=MUTED)
        self.trend_plot.setLabel("bottom", "session time", units="s", color=MUTED)
        self.trend_plot.showGrid(y=True, alpha=0.25)
        self.trend_plot.getAxis("left").setStyle(maxTickLevel=0)
        self.trend_plot.hideButtons()
        self.trend_points = {}
        self.trend_lines = {}
        for side in SIDES:
            colour = SIDE_COLOURS[side]
            self.trend_points[side] = self.trend_plot.plot(
                pen=None, symbol="o", symbolSize=4, symbolBrush=colour + "80", symbolPen=None
            )
            self.trend_lines[side] = self.trend_plot.plot(pen=pg.mkPen(colour, width=3))

        self.limit_lines = []
        for p in (self.bars_plot, self.trend_plot):
            neutral = pg.InfiniteLine(
                pos=0, angle=0, pen=pg.mkPen(FOREGROUND, width=1.5, style=QtCore.Qt.DashLine)
            )
            neutral.setZValue(10)
            p.addItem(neutral)
            limit = pg.InfiniteLine(
                pos=0, angle=0, pen=pg.mkPen(BAD, width=1.5, style=QtCore.Qt.DotLine)
            )
            limit.setVisible(limit_deg is not None)
            if limit_deg is not None:
                limit.setPos(limit_deg)
            p.addItem(limit)
            self.limit_lines.append(limit)
        self.glw.ci.layout.setRowStretchFactor(0, 3)
        self.glw.ci.layout.setRowStretchFactor(1, 2)
        self._n_drawn = -1

    def refresh(self, model: DashboardModel) -> None:
        """Redraw when steps or the alert limit changed."""
        limits = [
            a.threshold
            for (metric, _), a in model.alerts.items()
            if metric == "pelvic_drop_limit" and a.active and np.isfinite(a.threshold)
        ]
        for line in self.limit_lines:
            if limits:
                line.setPos(limits[-1])
                line.setVisible(True)
        if model.n_steps == self._n_drawn:
            return
        self._n_drawn = model.n_steps
        recent = model.recent_steps(self.n_steps)
        heights = np.array([s.pelvic_drop_deg for s in recent], dtype=np.float64)
        heights = np.nan_to_num(heights, nan=0.0)
        x = np.arange(-len(recent) + 1, 1, dtype=np.float64)
        brushes = [pg.mkBrush(SIDE_COLOURS[s.side]) for s in recent]
        self.bars.setOpts(x=x, height=heights, brushes=brushes, width=0.8)
        for side in SIDES:
            # long sessions: the model keeps dots for the latest steps only and the mean line
            # over the whole session decimated (fixed memory)
            self.trend_points[side].setData(*model.drop_trend(side))
            self.trend_lines[side].setData(*model.drop_trend_line(side))
