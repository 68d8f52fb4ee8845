"""The asymmetry warning banner: shows exactly the alert state the pipeline emitted."""

from __future__ import annotations

import math

from pyqtgraph.Qt import QtCore, QtWidgets

from ...types import Alert
from ..model import DashboardModel
from ..style import BAD, GOOD, MUTED, WARN, metric_label

__all__ = ["AlertBanner", "alert_text"]


def alert_text(alert: Alert) -> str:
    """One line naming the side and the metric, e.g. ``RIGHT stance: pelvic drop 7.9° > 5.0°``."""
    name, unit = metric_label(alert.metric)
    side = f"{alert.side.upper()} stance: " if alert.side else ""
    value = f" {alert.value:.1f}{unit}" if math.isfinite(alert.value) else ""
    limit = f" > {alert.threshold:.1f}{unit}" if math.isfinite(alert.threshold) else ""
    return f"{side}{name}{value}{limit}"


class AlertBanner(QtWidgets.QLabel):
    """Green when no alert is active, red naming side and metric when one is.

    The text of an active alert is the pipeline's own message (it names the side and the
    metric in plain words); alerts without a message get :func:`alert_text`.

    Parameters
    ----------
    beep : bool
        Sound ``QApplication.beep()`` each time an alert turns on (off by default).
    """

    def __init__(self, beep: bool = False, parent=None) -> None:
        super().__init__(parent)
        self.beep_enabled = beep
        self.n_beeps = 0
        self.setAlignment(QtCore.Qt.AlignCenter)
        self.setMinimumHeight(84)
        self._state: tuple | None = None
        self._show([], waiting=True)

    @property
    def is_warning(self) -> bool:
        """Whether the banner currently shows an active alert."""
        return bool(self._state and self._state[0])

    def _show(self, active: list[Alert], waiting: bool = False, stale_s: float = 0.0) -> None:
        state = (tuple(active), waiting, round(stale_s))
        if state == self._state:
            return
        self._state = state
        if active:
            colour = BAD
            text = "⚠  " + "\n⚠  ".join(a.message or alert_text(a) for a in active)
            if stale_s:
                text += f"\n(no new data for {stale_s:.0f} s)"
        elif stale_s:
            # never show "all fine" while nothing arrives
            colour, text = WARN, f"⏸  No data from the sensors for {stale_s:.0f} s"
        elif waiting:
            colour, text = MUTED, "Waiting for steps…"
        else:
            colour, text = GOOD, "✓  No asymmetry alert"
        self.setText(text)
        self.setStyleSheet(
            f"QLabel {{ background: {colour}; color: white; font-size: 30pt; "
            "font-weight: bold; border-radius: 8px; padding: 6px; }"
        )

    def refresh(self, model: DashboardModel, stale_s: float = 0.0) -> None:
        """Show the model's active alerts; beep on each new activation if enabled.

        ``stale_s`` > 0: seconds since the last new sample (the dashboard passes it once
        data stopped arriving), shown instead of the green "no alert"."""
        self._show(
            model.active_alerts, waiting=not model.steps and not model.alerts, stale_s=stale_s
        )
        if self.beep_enabled and model.new_activations:
            QtWidgets.QApplication.beep()
            self.n_beeps += 1
