"""Colours, fonts and labels shared by the dashboard and the report figures."""

from __future__ import annotations

__all__ = [
    "BACKGROUND",
    "BAD",
    "BALANCE_GREEN_PCT",
    "BALANCE_RED_PCT",
    "CHANNEL_COLOURS",
    "FOREGROUND",
    "GOOD",
    "MUTED",
    "PANEL",
    "SENSOR_LABELS",
    "SIDE_COLOURS",
    "WARN",
    "balance_colour",
    "metric_label",
]

BACKGROUND = "#14171c"
PANEL = "#1e232b"
FOREGROUND = "#e8eaed"
MUTED = "#8a929c"
GOOD = "#2e9e5b"
WARN = "#e0a526"
BAD = "#d93b3b"
#: left = blue, right = orange: distinguishable with the common colour-vision deficiencies
SIDE_COLOURS = {"left": "#3d8fd6", "right": "#f28c28"}
CHANNEL_COLOURS = ("#ff6b6b", "#51cf66", "#4dabf7", "#f8f9fa")  # x, y, z, norm
SENSOR_LABELS = {"pelvis": "Pelvis", "shoe_left": "Left shoe", "shoe_right": "Right shoe"}

#: contact-time balance bands (% of the larger side), as used by running watches
BALANCE_GREEN_PCT = 50.7
BALANCE_RED_PCT = 52.2

#: alert metrics of dsp.asymmetry: human name and unit of Alert.value
_METRICS = {
    "pelvic_drop_limit": ("pelvic drop", "°"),
    "pelvic_drop_deg": ("pelvic drop L/R difference", "°"),
    "contact_time": ("contact time imbalance", "%"),
    "step_time": ("step time imbalance", "%"),
    "impact_peak": ("impact peak imbalance", "%"),
}


def metric_label(metric: str) -> tuple[str, str]:
    """Human name and unit of an alert metric (unknown metrics: name from the key, no unit)."""
    return _METRICS.get(metric, (metric.replace("_", " "), ""))


def balance_colour(larger_side_pct: float) -> str:
    """Colour of a contact-time balance given the larger side's share in percent."""
    if not larger_side_pct == larger_side_pct:  # NaN
        return MUTED
    if larger_side_pct <= BALANCE_GREEN_PCT:
        return GOOD
    if larger_side_pct <= BALANCE_RED_PCT:
        return WARN
    return BAD
