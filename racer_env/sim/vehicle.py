"""The DeepRacer car: a kinematic bicycle with the simulator's actuation lags and grip limit.

Conventions: positions in metres in the track's world frame; ``yaw`` in
radians and ``heading`` in degrees, 0 along +x, positive counter-clockwise;
steering in degrees, positive means left; speeds in m/s.

Two points of the car matter. The *body origin* (``base_link``, midway between
the axles) is what the physics integrates and what the crash footprint is
centred on. The *params point*, 0.14 m ahead of it, is what DeepRacer's reward
params report as ``x, y`` (spec §1.1). :func:`params_point` and
:func:`body_origin` convert between them; nothing else writes the offset.

The dynamics (spec §3.4-3.6) run at the simulator's 60 Hz controller rate, four
ticks an env step. Steering follows the command after a dead time through the
position controller's first-order lag (each tick closes a fixed share of the
error). The path's curvature is tan(steering) over an effective wheelbase,
capped by the tyres' grip: lateral acceleration v²κ never exceeds μ·g = 4.9 m/s².
Beyond the cap the car turns less tightly than its wheels ask and runs wide; it
does not lose speed, because the wheels are velocity servos and the logs show
speed within 1.5 % of the command in turns (spec §3.6). Speed follows the
command through a short filter, and is not limited by the same friction.

:data:`KINEMATIC` is the simulator's ``deepracer_kinematics`` car (model_metadata
version 5 and above, the default); :data:`EFFORT` its effort-driven ``deepracer``
car (versions 3 and 4). :func:`car_model_for` picks one as the simulator does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

import numpy as np

from racer_env.constants import (
    CAR_LENGTH_M,
    CAR_WIDTH_M,
    CONTROL_HZ,
    EFFORT_SPEED_FEEDBACK,
    EFFORT_SPEED_WEIGHTS,
    EFFORT_STEER_DEAD_TICKS,
    EFFORT_STEER_GAIN,
    EFFORT_WHEELBASE_M,
    GRIP_MPS2,
    KINEMATIC_SPEED_WEIGHTS,
    KINEMATIC_STEER_DEAD_TICKS,
    KINEMATIC_STEER_GAIN,
    KINEMATIC_WHEELBASE_M,
    MAX_SPEED_MPS,
    MAX_STEERING_DEG,
    MIN_SPEED_MPS,
    PARAMS_POINT_X_M,
    TICKS_PER_STEP,
    WHEEL_OFFSETS_M,
)
from racer_env.sim.layout import CAR_STATE
from racer_env.sim.layout import C_BX as _BX
from racer_env.sim.layout import C_BY as _BY
from racer_env.sim.layout import C_DELTA as _DELTA
from racer_env.sim.layout import C_MOVED as _MOVED
from racer_env.sim.layout import C_SPEED as _SPEED
from racer_env.sim.layout import C_X as _X
from racer_env.sim.layout import C_Y as _Y
from racer_env.sim.layout import C_YAW as _YAW
from racer_env.sim.track import Projection, Track

_STATE_SIZE = len(CAR_STATE)

__all__ = ["Car", "CarModel", "KINEMATIC", "EFFORT", "car_model_for", "clip_controls", "wheel_positions",
           "wheels_on_track", "footprint_corners", "normalize_heading", "params_point", "body_origin", "WHEEL_REACH_M"]

_WHEEL_OFFSETS = WHEEL_OFFSETS_M  # left rear, right rear, left front, right front, from the params point
WHEEL_REACH_M = max(math.hypot(dx, dy) for dx, dy in _WHEEL_OFFSETS)
"""Farthest wheel centre from the params point [m]."""
# Crash footprint corners relative to the body origin (spec §1.2 is_crashed).
_CORNERS = tuple((dx, dy) for dx in (CAR_LENGTH_M / 2, -CAR_LENGTH_M / 2) for dy in (CAR_WIDTH_M / 2, -CAR_WIDTH_M / 2))


def normalize_heading(deg: float) -> float:
    """Wrap an angle in degrees into (-180, 180]."""
    deg = math.fmod(deg, 360.0)
    if deg > 180.0:
        deg -= 360.0
    elif deg <= -180.0:
        deg += 360.0
    return deg


def params_point(bx: float, by: float, yaw: float) -> tuple[float, float]:
    """The params point [m] of a car whose body origin is at (bx, by) [m] with ``yaw`` [rad]."""
    return bx + PARAMS_POINT_X_M * math.cos(yaw), by + PARAMS_POINT_X_M * math.sin(yaw)


def body_origin(x: float, y: float, yaw: float) -> tuple[float, float]:
    """The body origin [m] of a car whose params point is at (x, y) [m] with ``yaw`` [rad]."""
    return x - PARAMS_POINT_X_M * math.cos(yaw), y - PARAMS_POINT_X_M * math.sin(yaw)


def clip_controls(steering_deg: float, speed_mps: float) -> tuple[float, float]:
    """Clip a command the way the simulator does before driving: ±30°, 0.1–4 m/s (spec §3.3)."""
    steering_deg = min(max(steering_deg, -MAX_STEERING_DEG), MAX_STEERING_DEG)
    speed_mps = min(max(speed_mps, MIN_SPEED_MPS), MAX_SPEED_MPS)
    return steering_deg, speed_mps


def wheel_positions(x: float, y: float, yaw: float) -> list[tuple[float, float]]:
    """World positions [m] of the four wheel centres of a car whose params point is at (x, y), ``yaw`` [rad].

    Order: left rear, right rear, left front, right front.
    """
    c, s = math.cos(yaw), math.sin(yaw)
    return [(x + c * dx - s * dy, y + s * dx + c * dy) for dx, dy in _WHEEL_OFFSETS]


def wheels_on_track(track: Track, x: float, y: float, yaw: float, where: Projection) -> list[bool]:
    """For each wheel centre (left rear, right rear, left front, right front), whether it is on the road,
    for a car whose params point (x, y) [m] with ``yaw`` [rad] projects at ``where`` on the centre line
    (:func:`racer_env.sim.kernels.wheels_on_track`)."""
    import racer_env.sim.kernels as kernels

    out = np.empty(4, dtype=np.bool_)
    kernels.wheels_on_track(*track.kernel, float(x), float(y), float(yaw), int(where.seg), float(where.t),
                            float(where.distance), out)
    return out.tolist()


def footprint_corners(bx: float, by: float, yaw: float) -> list[tuple[float, float]]:
    """The four corners [m] of the crash footprint (0.3235 × 0.1961 m) round the body origin (bx, by)."""
    c, s = math.cos(yaw), math.sin(yaw)
    return [(bx + c * dx - s * dy, by + s * dx + c * dy) for dx, dy in _CORNERS]


@dataclass(frozen=True)
class CarModel:
    """The dynamics of one of the simulator's cars (spec §3.4-3.6).

    Speed during step k [m/s]: ``speed_feedback * speed_(k-1) + sum(speed_weights[j] * command_(k-j))``.
    Steering: each 60 Hz tick closes ``steer_gain`` of the error between the wheels and the command in
    effect, which is the newest command after ``steer_dead_ticks`` ticks. Curvature: tan(steering) /
    ``wheelbase_m``, capped so that speed² × curvature <= ``grip_mps2``.
    """

    name: str
    speed_feedback: float
    speed_weights: tuple[float, ...]
    steer_gain: float
    steer_dead_ticks: int
    wheelbase_m: float
    grip_mps2: float = GRIP_MPS2

    @property
    def steer_time_constant_s(self) -> float:
        """The steering lag's time constant [s]."""
        return (1.0 / CONTROL_HZ) / math.log(1.0 / (1.0 - self.steer_gain))

    @cached_property
    def kernel_args(self) -> tuple:
        """The dynamics as :func:`racer_env.sim.kernels.car_step` takes them: (speed feedback, speed weights,
        steering gain, dead ticks, wheelbase [m], grip [m/s²])."""
        return (float(self.speed_feedback), np.array(self.speed_weights, dtype=np.float64), float(self.steer_gain),
                int(self.steer_dead_ticks), float(self.wheelbase_m), float(self.grip_mps2))

    def steady_speed(self, command: float) -> float:
        """The speed [m/s] a held command settles at."""
        return sum(self.speed_weights) * command / (1.0 - self.speed_feedback)

    def steady_curvature(self, steering_deg: float, speed: float) -> float:
        """The path curvature [1/m] of a held steering command at ``speed`` [m/s], grip included (signed)."""
        kappa = math.tan(math.radians(steering_deg)) / self.wheelbase_m
        if speed > 0 and speed * speed * abs(kappa) > self.grip_mps2:
            kappa = math.copysign(self.grip_mps2 / (speed * speed), kappa)
        return kappa


KINEMATIC = CarModel("kinematic", 0.0, KINEMATIC_SPEED_WEIGHTS, KINEMATIC_STEER_GAIN, KINEMATIC_STEER_DEAD_TICKS,
                     KINEMATIC_WHEELBASE_M)
"""The ``deepracer_kinematics`` car of model_metadata version 5 and above (simapp 5-6)."""
EFFORT = CarModel("effort", EFFORT_SPEED_FEEDBACK, EFFORT_SPEED_WEIGHTS, EFFORT_STEER_GAIN, EFFORT_STEER_DEAD_TICKS,
                  EFFORT_WHEELBASE_M)
"""The effort-driven ``deepracer`` car of model_metadata versions 3 and 4 (simapp 4)."""


def car_model_for(metadata_version: float | str | None) -> CarModel:
    """The car the simulator spawns for a ``model_metadata.json`` ``version`` (spec §3.2, §3.6): version 5 and
    above, or none given, the kinematic car; below 5 the effort-driven one (versions 1-2, the 2019 cars, are
    not modelled and drive it too).

    Examples:
        >>> car_model_for("4").name, car_model_for(5.0).name, car_model_for(None).name
        ('effort', 'kinematic', 'kinematic')
    """
    if metadata_version is None:
        return KINEMATIC
    return KINEMATIC if float(metadata_version) >= 5 else EFFORT


def steer_history(model: CarModel) -> int:
    """How many steering commands a car keeps: the newest, and those a dead time can still hold in effect."""
    return 1 + (model.steer_dead_ticks + TICKS_PER_STEP - 1) // TICKS_PER_STEP


class Car:
    """One DeepRacer car, advanced 1/15 s per :meth:`step` by the simulation's compiled dynamics
    (:func:`racer_env.sim.kernels.car_step`, the same for every car racer_env drives).

    A car's state lives in arrays (:data:`racer_env.sim.kernels.CAR_STATE` columns, and the histories of its
    commands): its own, or row ``k`` of a fleet's (:meth:`view`), so that a car of a fleet can be read, drawn
    and steered like any other.

    Attributes:
        x, y: the params point [m].
        yaw: heading [rad].
        speed: actual speed during the last step [m/s].
        wheel_angle: the front wheels' angle at the end of the last step [deg], positive left.
        moved: distance the params point moved during the last step [m].
        model: the :class:`CarModel` it drives by.

    Examples:
        >>> car = Car.at(0.0, 0.0, heading=0.0, speed=1.5)
        >>> car.step(steering_angle=0.0, speed=1.5)
        >>> round(car.x, 3)
        0.1
    """

    __slots__ = ("model", "state", "steer_hist", "speed_hist", "k")

    def __init__(self, model: CarModel = KINEMATIC) -> None:
        self.model = model
        self.state = np.zeros((1, _STATE_SIZE))
        self.state[0, _X] = PARAMS_POINT_X_M  # the params point, ahead of the body origin at (0, 0)
        self.steer_hist = np.zeros((1, steer_history(model)))  # newest first [rad]
        self.speed_hist = np.zeros((1, len(model.speed_weights)))  # newest first [m/s]
        self.k = 0

    @classmethod
    def view(cls, model: CarModel, state: np.ndarray, steer_hist: np.ndarray, speed_hist: np.ndarray,
             k: int) -> "Car":
        """Car ``k`` of a fleet's arrays, sharing them: stepping it steps that row."""
        car = cls.__new__(cls)
        car.model, car.state, car.steer_hist, car.speed_hist, car.k = model, state, steer_hist, speed_hist, k
        return car

    @classmethod
    def at(cls, x: float, y: float, heading: float, speed: float = 0.0, steering_angle: float = 0.0,
           commands: Sequence[tuple[float, float]] | None = None, metadata_version: float | str | None = 5,
           model: CarModel | None = None) -> "Car":
        """A car whose params point is at (x, y) [m], heading [deg], moving at ``speed`` [m/s].

        Without ``commands`` the actuators are as if (``steering_angle`` [deg], ``speed``) had been held.
        With ``commands``, the (steering [deg], speed [m/s]) commands of the steps before, oldest first, warm
        the actuators as the simulator would have left them: the wheels are turned by them through the
        steering lag, and the speed filter remembers them (a faithful open-loop comparison needs this,
        spec §3.6). ``metadata_version`` picks the car model as the simulator does (:func:`car_model_for`);
        ``model`` gives one directly.
        """
        car = cls(model or car_model_for(metadata_version))
        car.place(x, y, heading, speed, steering_angle, commands)
        return car

    def place(self, x: float, y: float, heading: float, speed: float = 0.0, steering_angle: float = 0.0,
              commands: Sequence[tuple[float, float]] | None = None) -> None:
        """Put the car at (x, y) [m], heading [deg], moving at ``speed`` [m/s], its actuators as :meth:`at`
        says."""
        s, k, m = self.state, self.k, self.model
        yaw = math.radians(heading)
        history = [clip_controls(a, v) for a, v in commands] if commands else [(steering_angle, speed)]
        first = math.radians(history[0][0])
        row = [0.0] * _STATE_SIZE  # the whole row in one write: every reset of every car places one
        row[_YAW], row[_X], row[_Y] = yaw, float(x), float(y)
        row[_BX], row[_BY] = body_origin(float(x), float(y), yaw)
        row[_DELTA], row[_SPEED], row[_MOVED] = first, float(speed), 0.0
        s[k] = row
        self.steer_hist[k, :] = first
        self.speed_hist[k, :] = history[0][1]
        if len(history) > 1:
            import racer_env.sim.kernels as kernels

            for steer, spd in history[1:]:  # run the actuators through the history, without moving
                self.steer_hist[k, 1:] = self.steer_hist[k, :-1].copy()
                self.steer_hist[k, 0] = math.radians(steer)
                self.speed_hist[k, 1:] = self.speed_hist[k, :-1].copy()
                self.speed_hist[k, 0] = spd
                kernels.steer_ticks(s, self.steer_hist, k, m.steer_gain, m.steer_dead_ticks)  # the wheel angle only

    @property
    def x(self) -> float:
        return float(self.state[self.k, _X])

    @property
    def y(self) -> float:
        return float(self.state[self.k, _Y])

    @property
    def bx(self) -> float:
        """The body origin's x [m]."""
        return float(self.state[self.k, _BX])

    @property
    def by(self) -> float:
        return float(self.state[self.k, _BY])

    @property
    def yaw(self) -> float:
        return float(self.state[self.k, _YAW])

    @property
    def speed(self) -> float:
        return float(self.state[self.k, _SPEED])

    @property
    def moved(self) -> float:
        return float(self.state[self.k, _MOVED])

    @property
    def wheel_angle(self) -> float:
        """The front wheels' angle at the end of the last step [deg], positive left."""
        return math.degrees(float(self.state[self.k, _DELTA]))

    @property
    def heading(self) -> float:
        """Heading [deg] in (-180, 180], 0 along +x, positive counter-clockwise."""
        return normalize_heading(math.degrees(self.yaw))

    @property
    def recent_steering(self) -> tuple[float, float]:
        """The last two steering commands [deg], older first: what the wheels are turning towards."""
        cmds = self.steer_hist[self.k]
        return math.degrees(float(cmds[1] if len(cmds) > 1 else cmds[0])), math.degrees(float(cmds[0]))

    @property
    def last_speed_command(self) -> float:
        """The newest speed command [m/s]."""
        return float(self.speed_hist[self.k, 0])

    def copy(self) -> "Car":
        """An independent copy, actuator state included (to try commands on)."""
        k = self.k
        return Car.view(self.model, self.state[k:k + 1].copy(), self.steer_hist[k:k + 1].copy(),
                        self.speed_hist[k:k + 1].copy(), 0)

    def wheels(self) -> list[tuple[float, float]]:
        """The four wheel centres [m]: left rear, right rear, left front, right front."""
        return wheel_positions(self.x, self.y, self.yaw)

    def corners(self) -> list[tuple[float, float]]:
        """The four corners of the crash footprint [m]."""
        return footprint_corners(self.bx, self.by, self.yaw)

    def step(self, steering_angle: float, speed: float, clip: bool = True) -> None:
        """Apply one command (steering [deg], speed [m/s]) and advance 1/15 s.

        The command is clipped to ±30° and 0.1–4 m/s as the simulator does;
        ``clip=False`` sends it as given (the prepare step sends speed 0).
        """
        import racer_env.sim.kernels as kernels

        kernels.car_step(self.state, self.steer_hist, self.speed_hist, self.k, float(steering_angle), float(speed),
                         clip, *self.model.kernel_args)
