"""The virtual runner: physically consistent pelvis and shoe IMU signals with exact truth.

Example::

    from imustream.sim import simulate
    run = simulate("right-hip-drop", duration=60.0, fs=200.0, seed=0)
    run.sensors["pelvis"].acc      # (N, 3) m/s^2, sensor frame
    run.truth["pelvic_drop_deg"]   # one value per step

See README.md, section "The virtual runner", for the model, conventions and scenarios.
"""

from __future__ import annotations

from .runner import SensorSignals, SimChunk, SimRun, VirtualRunner, simulate
from .scenarios import SENSORS, Scenario, get_scenario, scenario_names
from .truth import TRUTH_FIELDS

__all__ = [
    "SENSORS",
    "TRUTH_FIELDS",
    "Scenario",
    "SensorSignals",
    "SimChunk",
    "SimRun",
    "VirtualRunner",
    "get_scenario",
    "scenario_names",
    "simulate",
]
