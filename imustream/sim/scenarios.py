"""Named scenarios of the virtual runner: frozen parameter sets.

Sign conventions (README.md, "The virtual runner"): ``drop_left_deg`` is the peak
*contralateral* pelvic drop during a LEFT stance (the right hip going down),
``drop_right_deg`` during a RIGHT stance.
Asymmetries in percent are ``100 * (left - right) / mean``: positive = the left value larger.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import ConfigError

__all__ = ["SENSORS", "Scenario", "get_scenario", "scenario_names"]

SENSORS: tuple[str, str, str] = ("pelvis", "shoe_left", "shoe_right")


@dataclass(frozen=True)
class Scenario:
    """All parameters of one simulated session (SI units; angles in degrees).

    Groups: gait timing, pelvis kinematics, foot kinematics, path, sensor realism, link faults
    (the last group is only *described* here; the BLE simulation applies it).
    """

    name: str = "custom"
    description: str = ""
    # --- gait timing
    gait: Literal["run", "walk"] = "run"
    speed: float = 3.3  #: m/s
    cadence: float = 170.0  #: steps/min (both legs)
    contact_time: float = 0.23  #: s, mean over both sides
    contact_asym_pct: float = 0.0  #: 100 (L - R) / mean contact time
    step_asym_pct: float = 0.0  #: 100 (L - R) / mean step time (step = own IC -> next IC)
    step_cv: float = 0.015  #: step-to-step coefficient of variation of step and contact time
    standing_s: float = 3.0  #: quiet standing at the start (0 = start already moving)
    pauses: tuple[tuple[float, float], ...] = ()  #: (start s, duration s) standing mid-run
    ramp_s: float = 2.0  #: speed ramp at start/stop of each gait bout
    # --- pelvis kinematics
    drop_left_deg: float = 4.0  #: peak contralateral drop in a left stance (right hip down)
    drop_right_deg: float = 4.0  #: same in a right stance (left hip down)
    drop_left_rate: float = 0.0  #: deg/min since the run started, added to drop_left_deg
    drop_right_rate: float = 0.0  #: deg per minute added to drop_right_deg
    drop_cv: float = 0.08  #: step-to-step variation of the drop amplitude
    drop_peak_frac: float = 0.35  #: time of peak drop as a fraction of stance
    neutral_obliquity_deg: float = 0.0  #: obliquity while standing (leg-length difference)
    neutral_tilt_deg: float = 8.0  #: anterior tilt while standing
    tilt_amp_deg: float = 3.0  #: extra anterior tilt per step (peak)
    axial_amp_deg: float = 6.0  #: axial rotation amplitude (peak per step)
    sway_lat_m: float = 0.02  #: lateral pelvis sway (peak per step)
    brake_acc: float = 3.0  #: m/s^2 peak forward braking/propulsion in stance
    impact_g: float = 0.9  #: vertical impact transient (units of g) on top of the stance force
    impact_time: float = 0.025  #: s after IC of the vertical impact transient
    impact_width: float = 0.008  #: s, Gaussian width of the transient
    impact_time_sd: float = 0.0  #: s, walking: step-to-step sd of impact_time (with the wobble)
    grf_power: float = 2.0  #: running force shape sin(pi tau)^p: > 1 = more peaked
    grf_dip: float = 0.0  #: running force: weight of sin(3 pi tau) (double hump)
    grf_valley: float = 0.13  #: walking: mid-stance dip of the stance force, fraction of plateau
    brake_end_frac: float = 0.45  #: walking: stance fraction where braking turns to propulsion
    pelvis_lever: tuple[float, float, float] = (-0.10, 0.0, 0.0)  #: sensor offset, pelvis frame m
    #: m/s^2 rms of random pelvis motion (forward, lateral, up) in gait bouts, 1-15 Hz
    wobble_acc: tuple[float, float, float] = (0.0, 0.0, 0.0)
    wobble_rate: tuple[float, float] = (0.0, 0.0)  #: rad/s rms random yaw, pitch rates in bouts
    # --- foot kinematics (foot pitch > 0 = toes down)
    strike_angle_deg: float = -12.0  #: foot pitch at IC (negative = dorsiflexed, heel strike)
    toe_off_angle_deg: float = 40.0  #: foot pitch at TO (plantarflexed)
    swing_max_deg: float = 85.0  #: peak foot pitch in early swing
    foot_flat_frac: float = 0.15  #: foot flat reached at this fraction of stance
    heel_off_frac: float = 0.45  #: heel leaves the ground at this fraction of stance
    strike_inversion_deg: float = 5.0  #: foot inverted (lateral edge down) at IC
    stance_eversion_deg: float = 2.0  #: foot slightly everted in quiet stance
    toe_off_inversion_deg: float = 3.0  #: foot inverted at TO
    swing_roll_deg: float = 8.0  #: inversion in mid-swing
    swing_yaw_deg: float = 6.0  #: toes turned in (medially) in mid-swing
    land_velocity: tuple[float, float] = (0.4, -0.9)  #: heel (forward, down) m/s at IC
    impact_duration: float = 0.015  #: s heel deceleration after IC (shoe impact transient)
    clearance: float = 0.12  #: height of the foot's lowest point at the swing peak, m
    step_width: float = 0.16  #: lateral distance between feet, m
    toe_out_deg: float = 5.0  #: feet point outward by this yaw
    shoe_lever: tuple[float, float, float] = (0.12, 0.0, 0.07)  #: sensor from heel, foot frame m
    foot_length: float = 0.19  #: heel to forefoot pivot, m
    # --- path
    track: bool = False  #: False = treadmill / straight line; True = 400 m track (turns)
    track_radius: float = 36.5  #: bend radius m
    track_straight: float = 84.39  #: straight length m
    # --- sensor realism
    mounting: Any = "random"  #: "random" (seeded), None, a (3, 3) rotation or a dict per sensor
    acc_noise: float = 0.05  #: m/s^2 rms
    gyr_noise: float = 0.005  #: rad/s rms
    gyr_bias: float = 0.01  #: rad/s sd of the constant gyro bias per axis
    gyr_bias_walk: float = 0.0005  #: rad/s/sqrt(s) gyro bias random walk
    acc_bias: float = 0.05  #: m/s^2 sd of the constant accelerometer bias per axis
    acc_range_g: float = 16.0  #: accelerometer full scale (clipping), g
    gyr_range_dps: float = 2000.0  #: gyroscope full scale (clipping), deg/s
    jitter_s: float = 2e-5  #: rms sampling-time jitter, s
    clock_offset_s: float = 100.0  #: device clocks start at uniform(0, this) s
    clock_drift_ppm: float = 20.0  #: sd of device clock drift, ppm
    # --- link faults (applied by the BLE simulation, not here)
    loss_rate: float = 0.0  #: probability that a packet is lost (independent losses)
    burst_rate: float = 0.0  #: loss bursts per second per sensor
    burst_mean_s: float = 0.0  #: mean duration of a loss burst, s
    reorder_prob: float = 0.0  #: probability a packet arrives after its successor
    disconnects: tuple[tuple[str, float, float], ...] = field(default=())  #: (sensor, start, end)

    def disconnect_intervals(self, sensor: str) -> list[tuple[float, float]]:
        """The (start, end) link-down intervals of one sensor, in s."""
        return [(a, b) for s, a, b in self.disconnects if s == sensor]

    def replace(self, **overrides: Any) -> Scenario:
        """A copy with some parameters changed; unknown names raise ConfigError."""
        names = {f.name for f in dataclasses.fields(self)}
        bad = sorted(set(overrides) - names)
        if bad:
            raise ConfigError(f"unknown scenario parameter(s) {bad}; valid: {sorted(names)}")
        return dataclasses.replace(self, **overrides)

    def validate(self) -> None:
        """Raise ConfigError naming the first inconsistent parameter."""
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name != "disconnects" and not all(math.isfinite(x) for x in _numbers(v)):
                raise ConfigError(f"scenario {self.name!r}: {f.name}={v!r} is not finite")
        step = 60.0 / self.cadence if self.cadence > 0 else float("nan")
        checks = [
            ("cadence", self.cadence > 0, "must be > 0 steps/min"),
            ("speed", self.speed >= 0, "must be >= 0"),
            ("contact_time", self.contact_time > 0, "must be > 0"),
            ("standing_s", self.standing_s >= 0, "must be >= 0"),
            ("step_cv", 0 <= self.step_cv < 0.2, "must be in [0, 0.2)"),
            ("drop_cv", 0 <= self.drop_cv < 0.5, "must be in [0, 0.5)"),
            ("drop_peak_frac", 0.05 < self.drop_peak_frac < 0.95, "must be in (0.05, 0.95)"),
            ("foot_flat_frac", 0 < self.foot_flat_frac < self.heel_off_frac, "< heel_off_frac"),
            ("heel_off_frac", self.heel_off_frac < 0.95, "must be < 0.95"),
            ("acc_range_g", self.acc_range_g > 0, "must be > 0"),
            ("gyr_range_dps", self.gyr_range_dps > 0, "must be > 0"),
            ("toe_off_angle_deg", 0 < self.toe_off_angle_deg < 80, "must be in (0, 80)"),
            ("swing_max_deg", self.swing_max_deg <= 88, "must be <= 88 (Euler singularity)"),
            ("strike_angle_deg", -45 < self.strike_angle_deg <= 0, "must be in (-45, 0]"),
            ("jitter_s", self.jitter_s >= 0, "must be >= 0"),
            ("grf_power", 1.0 <= self.grf_power <= 4.0, "must be in [1, 4]"),
            ("grf_valley", 0 <= self.grf_valley < 1, "must be in [0, 1)"),
            ("brake_end_frac", 0.1 <= self.brake_end_frac <= 0.9, "must be in [0.1, 0.9]"),
            ("impact_duration", 0 < self.impact_duration, "must be > 0"),
            ("impact_time_sd", 0 <= self.impact_time_sd < 0.05, "must be in [0, 0.05)"),
            ("wobble_acc", len(self.wobble_acc) == 3 and min(self.wobble_acc) >= 0, ">= 0 x3"),
            ("wobble_rate", len(self.wobble_rate) == 2 and min(self.wobble_rate) >= 0, ">= 0 x2"),
        ]
        if self.gait == "run":
            checks.append(("contact_time", self.contact_time < 0.9 * step, "< 0.9 step time"))
        elif self.gait == "walk":
            checks.append(("contact_time", step < self.contact_time < 1.8 * step, "1-1.8 steps"))
        else:
            checks.append(("gait", False, "must be 'run' or 'walk'"))
        for name, ok, msg in checks:
            if not ok:
                raise ConfigError(f"scenario {self.name!r}: {name}={getattr(self, name)!r} {msg}")
        if self.impact_duration >= self.foot_flat_frac * self.contact_time:
            raise ConfigError(f"scenario {self.name!r}: impact_duration must end before foot flat")
        for s, a, b in self.disconnects:
            if s not in SENSORS or not b > a:
                raise ConfigError(f"scenario {self.name!r}: bad disconnect {(s, a, b)!r}")
        for start, dur in self.pauses:
            if start <= self.standing_s or dur <= 0:
                raise ConfigError(f"scenario {self.name!r}: bad pause {(start, dur)!r}")


def _numbers(v: Any) -> list[float]:
    """All real numbers inside a (nested tuple) parameter value."""
    if isinstance(v, tuple):
        return [x for item in v for x in _numbers(item)]
    if isinstance(v, float | int) and not isinstance(v, bool):
        return [v]
    return []


_WALK = dict(
    gait="walk",
    speed=1.3,
    cadence=110.0,
    contact_time=0.65,
    drop_left_deg=2.0,
    drop_right_deg=2.0,
    tilt_amp_deg=3.0,
    axial_amp_deg=5.0,
    sway_lat_m=0.035,
    brake_acc=1.25,
    brake_end_frac=0.47,
    # step-to-step spread of clean-reference mobgap straight walks about each subject's own
    # average (HA001, MS001 left ICs): acc 0.71-0.80 / 0.63-0.82 / 0.50-0.54 m/s^2, yaw and
    # pitch rates 0.17 / 0.13-0.16 rad/s; pre-IC peaks stay small (benchmarks/sim_realism.py)
    wobble_acc=(0.5, 0.6, 0.5),
    wobble_rate=(0.16, 0.13),
    impact_g=0.4,
    # one continuous rise into the loading peak, as in the straight walks: per step the
    # steepest vertical rise comes ~10-20 ms after IC and a causal 3 Hz low-pass rises
    # steepest at one place (benchmarks/sim_realism.py)
    impact_time=0.05,
    impact_width=0.03,
    impact_time_sd=0.015,
    strike_angle_deg=-20.0,
    toe_off_angle_deg=45.0,
    swing_max_deg=50.0,
    foot_flat_frac=0.15,
    heel_off_frac=0.6,
    land_velocity=(0.3, -0.5),
    impact_duration=0.012,
    clearance=0.03,
    step_width=0.12,
)

_SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in [
        Scenario(
            name="symmetric-runner",
            description="Healthy runner on a treadmill, 3.3 m/s, 170 steps/min, symmetric, "
            "4 deg contralateral pelvic drop on both sides.",
        ),
        Scenario(
            name="right-hip-drop",
            description="Clinical 'right hip drop': the RIGHT hip drops during LEFT stance "
            "(weak left hip abductors). Truth: pelvic_drop_deg of LEFT steps ~9 deg, right ~4.",
            drop_left_deg=9.0,
        ),
        Scenario(
            name="left-hip-drop",
            description="Clinical 'left hip drop': the LEFT hip drops during RIGHT stance "
            "(weak right hip abductors). Truth: pelvic_drop_deg of RIGHT steps ~9 deg, left ~4.",
            drop_right_deg=9.0,
        ),
        Scenario(
            name="fatigue-drift",
            description="Contralateral drop in LEFT stance grows by 0.5 deg per minute of "
            "running (fatiguing left hip abductors); right side stays at 4 deg.",
            drop_left_rate=0.5,
        ),
        Scenario(
            name="limping-walk",
            description="Treadmill walk, 1.3 m/s, 110 steps/min, favouring the right leg: "
            "left contact time 12% shorter than right, left step time 6% shorter.",
            contact_asym_pct=-12.0,
            step_asym_pct=-6.0,
            **_WALK,
        ),
        Scenario(
            name="flaky-connection",
            description="Symmetric runner over a bad radio: 2% packet loss, 0.05 loss bursts/s "
            "of ~0.3 s, 1% reordering, the right shoe disconnects at 20-24 s and 45-46 s, "
            "the pelvis at 33-35 s.",
            loss_rate=0.02,
            burst_rate=0.05,
            burst_mean_s=0.3,
            reorder_prob=0.01,
            disconnects=(
                ("shoe_right", 20.0, 24.0),
                ("shoe_right", 45.0, 46.0),
                ("pelvis", 33.0, 35.0),
            ),
        ),
        Scenario(
            name="track-runner",
            description="Runner on a 400 m outdoor track, 4 m/s: bends of 36.5 m radius "
            "(slow yaw changes, centripetal acceleration), counter-clockwise.",
            speed=4.0,
            cadence=176.0,
            contact_time=0.22,
            track=True,
        ),
        Scenario(
            name="treadmill-walk",
            description="Symmetric treadmill walk, 1.3 m/s, 110 steps/min, double support.",
            **_WALK,
        ),
        Scenario(
            name="fast-runner",
            description="Faster symmetric treadmill runner, 4.2 m/s, 180 steps/min, short "
            "contacts (0.19 s, as measured on a force treadmill at 4.17 m/s).",
            speed=4.2,
            cadence=180.0,
            contact_time=0.19,
            impact_duration=0.012,
        ),
        Scenario(
            name="pause-and-go",
            description="Symmetric runner who stops and stands still at 20 s for 5 s and at "
            "45 s for 3 s, then runs on.",
            pauses=((20.0, 5.0), (45.0, 3.0)),
        ),
    ]
}


def scenario_names() -> list[str]:
    """Names of the built-in scenarios."""
    return list(_SCENARIOS)


def get_scenario(name: str | Scenario, **overrides: Any) -> Scenario:
    """A built-in scenario by name (or a Scenario), with parameters overridden.

    Raises
    ------
    ConfigError
        Unknown scenario name, unknown parameter, or an inconsistent parameter set.
    """
    if isinstance(name, Scenario):
        base = name
    else:
        try:
            base = _SCENARIOS[name]
        except KeyError:
            raise ConfigError(
                f"unknown scenario {name!r}; known: {', '.join(_SCENARIOS)}"
            ) from None
    sc = base.replace(**overrides) if overrides else base
    sc.validate()
    return sc
