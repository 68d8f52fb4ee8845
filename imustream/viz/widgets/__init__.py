"""Dashboard widgets; each has ``refresh(model)`` and draws from a DashboardModel only."""

from .banner import AlertBanner
from .big_numbers import BigNumbersPanel
from .controls import SessionControls
from .pelvic_drop import PelvicDropPanel
from .sensor_status import SensorStatusPanel
from .traces import TracePanel

__all__ = [
    "AlertBanner",
    "BigNumbersPanel",
    "PelvicDropPanel",
    "SensorStatusPanel",
    "SessionControls",
    "TracePanel",
]
