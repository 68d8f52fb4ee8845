"""Per-sensor link status: state, effective rate, packet loss, battery, clipping."""

from __future__ import annotations

import math

from pyqtgraph.Qt import QtCore, QtWidgets

from ...types import LinkState
from ..model import DashboardModel, SensorStatus
from ..style import BAD, FOREGROUND, GOOD, MUTED, PANEL, SENSOR_LABELS, WARN

__all__ = ["COLUMNS", "SensorStatusPanel", "status_cells"]

COLUMNS = ("Sensor", "Link", "Rate (Hz)", "Loss (%)", "Battery (%)", "Clipping")
_STATE_COLOURS = {
    LinkState.STREAMING: GOOD,
    LinkState.CONNECTING: WARN,
    LinkState.SCANNING: WARN,
    LinkState.RECONNECTING: WARN,
    LinkState.LOST: BAD,
    LinkState.FAILED: BAD,
}
#: a sensor whose newest sample is this much older than the newest of any sensor is stalled
STALL_S = 1.0


def status_cells(st: SensorStatus, now: float) -> list[tuple[str, str]]:
    """Texts and colours of one status row."""
    if st.state is not None:
        link = (str(st.state), _STATE_COLOURS.get(st.state, MUTED))
    elif st.n_samples:
        link = ("receiving", GOOD)
    else:
        link = ("no data", MUTED)
    if st.n_samples and math.isfinite(now) and now - st.last_time > STALL_S:
        link = (f"{link[0]}, stalled {now - st.last_time:.1f} s", WARN)
    loss = st.loss_pct
    loss_colour = (
        MUTED if not math.isfinite(loss) else GOOD if loss < 1 else WARN if loss < 5 else BAD
    )
    battery = st.battery_pct
    batt_colour = (
        MUTED
        if not math.isfinite(battery)
        else GOOD
        if battery > 30
        else WARN
        if battery > 10
        else BAD
    )
    return [
        (SENSOR_LABELS.get(st.sensor, st.sensor), FOREGROUND),
        link,
        (f"{st.rate_hz:.0f}" if math.isfinite(st.rate_hz) else "–", FOREGROUND),
        (f"{loss:.1f}" if math.isfinite(loss) else "–", loss_colour),
        (f"{battery:.0f}" if math.isfinite(battery) else "–", batt_colour),
        ("CLIPPING" if st.clipping else "ok", BAD if st.clipping else GOOD),
    ]


class SensorStatusPanel(QtWidgets.QFrame):
    """A small table, one row per sensor."""

    def __init__(self, sensors: tuple[str, ...], parent=None) -> None:
        super().__init__(parent)
        self.sensors = sensors
        self.setStyleSheet(f"QFrame {{ background: {PANEL}; border-radius: 8px; }}")
        grid = QtWidgets.QGridLayout(self)
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(2)
        for j, name in enumerate(COLUMNS):
            h = QtWidgets.QLabel(name)
            h.setStyleSheet(f"color: {MUTED}; font-size: 11pt; font-weight: bold;")
            grid.addWidget(h, 0, j)
        self.cells: dict[str, list[QtWidgets.QLabel]] = {}
        for i, s in enumerate(sensors, start=1):
            row = []
            for j in range(len(COLUMNS)):
                lab = QtWidgets.QLabel("–")
                lab.setAlignment(QtCore.Qt.AlignLeft | QtCore.Qt.AlignVCenter)
                grid.addWidget(lab, i, j)
                row.append(lab)
            self.cells[s] = row

    def text(self, sensor: str, column: str) -> str:
        """Shown text of one cell (for tests and accessibility)."""
        return self.cells[sensor][COLUMNS.index(column)].text()

    def refresh(self, model: DashboardModel) -> None:
        """Update every row."""
        for s in self.sensors:
            for lab, (text, colour) in zip(
                self.cells[s], status_cells(model.status[s], model.now), strict=True
            ):
                if lab.text() != text:
                    lab.setText(text)
                    lab.setStyleSheet(f"color: {colour}; font-size: 13pt; font-weight: bold;")
