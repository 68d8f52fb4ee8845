"""Record start/stop and marker buttons; markers go to a queue the recorder consumes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from pyqtgraph.Qt import QtCore, QtWidgets

from ...types import Marker
from ..style import BAD, FOREGROUND, PANEL

__all__ = ["MarkerSink", "SessionControls"]


class MarkerSink(Protocol):
    """Anything with ``put_nowait`` (``queue.Queue``, ``queue.SimpleQueue``)."""

    def put_nowait(self, item: Marker) -> None: ...


class SessionControls(QtWidgets.QFrame):
    """Record toggle, pain score 0-10, "changed shoes" and a free-text note.

    Parameters
    ----------
    markers : MarkerSink
        Receives every :class:`~imustream.types.Marker` the user adds.
    clock : callable
        Returns the current session time in seconds (the marker's ``time``).
    on_record : callable, optional
        Called with ``True`` / ``False`` when recording is started / stopped. Without
        it the record button is disabled (nothing to record into).
    """

    markerAdded = QtCore.Signal(object)
    recordToggled = QtCore.Signal(bool)

    def __init__(
        self,
        markers: MarkerSink,
        clock: Callable[[], float],
        on_record: Callable[[bool], None] | None = None,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self.markers = markers
        self.clock = clock
        self.on_record = on_record
        self.setStyleSheet(
            f"QFrame {{ background: {PANEL}; border-radius: 8px; }} "
            f"QPushButton, QSpinBox, QLineEdit {{ font-size: 13pt; color: {FOREGROUND}; }}"
        )
        row = QtWidgets.QHBoxLayout(self)
        self.record = QtWidgets.QPushButton("● Record")
        self.record.setCheckable(True)
        self.record.setEnabled(on_record is not None)
        self.record.toggled.connect(self._toggle_record)
        row.addWidget(self.record)

        row.addWidget(QtWidgets.QLabel("Pain 0-10"))
        self.pain = QtWidgets.QSpinBox()
        self.pain.setRange(0, 10)
        row.addWidget(self.pain)
        self.pain_button = QtWidgets.QPushButton("Mark pain")
        self.pain_button.clicked.connect(
            lambda: self.add_marker("pain", value=float(self.pain.value()))
        )
        row.addWidget(self.pain_button)

        self.shoes_button = QtWidgets.QPushButton("Changed shoes")
        self.shoes_button.clicked.connect(lambda: self.add_marker("changed_shoes"))
        row.addWidget(self.shoes_button)

        self.note = QtWidgets.QLineEdit()
        self.note.setPlaceholderText("note…")
        self.note.returnPressed.connect(self._add_note)
        row.addWidget(self.note, 1)
        self.note_button = QtWidgets.QPushButton("Add note")
        self.note_button.clicked.connect(self._add_note)
        row.addWidget(self.note_button)

    def add_marker(self, kind: str, value: float = float("nan"), text: str = "") -> Marker:
        """Create a marker at the current session time and queue it."""
        marker = Marker(time=float(self.clock()), kind=kind, value=value, text=text)
        self.markers.put_nowait(marker)
        self.markerAdded.emit(marker)
        return marker

    def _add_note(self) -> None:
        text = self.note.text().strip()
        if text:
            self.add_marker("note", text=text)
            self.note.clear()

    def _toggle_record(self, on: bool) -> None:
        self.record.setText("■ Stop recording" if on else "● Record")
        self.record.setStyleSheet(f"background: {BAD};" if on else "")
        if self.on_record is not None:
            self.on_record(on)
        self.recordToggled.emit(on)
