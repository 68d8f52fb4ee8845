"""Large numbers readable from across the room: cadence, contact-time balance, pelvic drop."""

from __future__ import annotations

import math

from pyqtgraph.Qt import QtCore, QtWidgets

from ..model import DashboardModel
from ..style import FOREGROUND, MUTED, PANEL, SIDE_COLOURS, balance_colour

__all__ = ["BigNumber", "BigNumbersPanel"]


def _fmt(value: float, digits: int) -> str:
    return f"{value:.{digits}f}" if math.isfinite(value) else "–"


class BigNumber(QtWidgets.QFrame):
    """A caption, a large value and a unit."""

    def __init__(self, caption: str, unit: str, parent=None) -> None:
        super().__init__(parent)
        self.setStyleSheet(f"QFrame {{ background: {PANEL}; border-radius: 8px; }}")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(0)
        self.caption = QtWidgets.QLabel(caption.upper())
        self.caption.setStyleSheet(f"color: {MUTED}; font-size: 14pt; font-weight: bold;")
        self.value = QtWidgets.QLabel("–")
        self.value.setTextFormat(QtCore.Qt.RichText)
        self.value.setStyleSheet(f"color: {FOREGROUND}; font-size: 44pt; font-weight: bold;")
        self.unit = QtWidgets.QLabel(unit)
        self.unit.setStyleSheet(f"color: {MUTED}; font-size: 12pt;")
        for w in (self.caption, self.value, self.unit):
            w.setAlignment(QtCore.Qt.AlignCenter)
            layout.addWidget(w)

    def set_text(self, html: str) -> None:
        """Set the value (rich text allowed, e.g. two coloured numbers)."""
        if self.value.text() != html:
            self.value.setText(html)


class BigNumbersPanel(QtWidgets.QWidget):
    """Cadence, contact-time balance L|R and mean pelvic drop L|R of recent steps."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.cadence = BigNumber("Cadence", "steps / min")
        self.balance = BigNumber("Contact time  L | R", "% of both")
        self.drop = BigNumber("Pelvic drop  L | R", "° (mean, recent steps)")
        for w in (self.cadence, self.balance, self.drop):
            layout.addWidget(w)

    def refresh(self, model: DashboardModel) -> None:
        """Update the numbers from the model."""
        self.cadence.set_text(_fmt(model.cadence, 0))
        left, right = model.contact_balance
        colour = balance_colour(max(left, right))
        self.balance.set_text(
            f"<span style='color:{colour}'>{_fmt(left, 1)}</span>"
            f"<span style='color:{MUTED}'> | </span>"
            f"<span style='color:{colour}'>{_fmt(right, 1)}</span>"
        )
        dl, dr = model.mean_drop("left"), model.mean_drop("right")
        self.drop.set_text(
            f"<span style='color:{SIDE_COLOURS['left']}'>{_fmt(dl, 1)}</span>"
            f"<span style='color:{MUTED}'> | </span>"
            f"<span style='color:{SIDE_COLOURS['right']}'>{_fmt(dr, 1)}</span>"
        )
