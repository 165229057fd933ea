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
from typing import Sequence

from racer_env.constants import (
    AXLE_WIDTH_M,
    CAR_LENGTH_M,
    CAR_WIDTH_M,
    CONTROL_HZ,
    EFFORT_SPEED_FEEDBACK,
    EFFORT_SPEED_WEIGHTS,
    EFFORT_STEER_DEAD_TICKS,
    EFFORT_STEER_GAIN,
    EFFORT_WHEELBASE_M,
    FRONT_AXLE_X_M,
    GRIP_MPS2,
    KINEMATIC_SPEED_WEIGHTS,
    KINEMATIC_STEER_DEAD_TICKS,
    KINEMATIC_STEER_GAIN,
    KINEMATIC_WHEELBASE_M,
    MAX_SPEED_MPS,
    MAX_STEERING_DEG,
    MIN_SPEED_MPS,
    PARAMS_POINT_X_M,
    REAR_AXLE_X_M,
    TICKS_PER_STEP,
)
from racer_env.sim.track import Projection, Track

__all__ = ["Car", "CarModel", "KINEMATIC", "EFFORT", "car_model_for", "clip_controls", "wheel_positions",
           "wheels_on_track", "footprint_corners", "normalize_heading", "params_point", "body_origin", "WHEEL_REACH_M"]

# Wheel centres in the car frame, relative to the params point: x forward, y left.
_WHEEL_OFFSETS = tuple(
    (ax - PARAMS_POINT_X_M, side * AXLE_WIDTH_M / 2)
    for ax in (REAR_AXLE_X_M, FRONT_AXLE_X_M)
    for side in (1.0, -1.0)
)  # left rear, right rear, left front, right front
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
    for a car whose params point (x, y) [m] with ``yaw`` [rad] projects at ``where`` on the centre line."""
    return track.points_on_track(wheel_positions(x, y, yaw), where, WHEEL_REACH_M)


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


class Car:
    """One DeepRacer car, advanced 1/15 s per :meth:`step`.

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

    __slots__ = ("bx", "by", "x", "y", "yaw", "speed", "wheel_angle", "moved", "model", "_delta", "_speed_cmds",
                 "_steer_cmds")

    def __init__(self, model: CarModel = KINEMATIC) -> None:
        self.model = model
        self.bx = self.by = 0.0  # body origin [m]
        self.x, self.y = params_point(0.0, 0.0, 0.0)
        self.yaw = 0.0
        self.speed = 0.0
        self.wheel_angle = 0.0
        self.moved = 0.0
        self._delta = 0.0  # wheel angle [rad]
        self._speed_cmds = [0.0] * len(model.speed_weights)  # newest first [m/s]
        self._steer_cmds = [0.0] * (1 + (model.steer_dead_ticks + TICKS_PER_STEP - 1) // TICKS_PER_STEP)  # newest
        # first [rad]: the newest, and those a dead time can still hold in effect

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
        car.yaw = math.radians(heading)
        car.x, car.y = float(x), float(y)
        car.bx, car.by = body_origin(car.x, car.y, car.yaw)
        history = [clip_controls(s, v) for s, v in commands] if commands else [(steering_angle, speed)]
        first = math.radians(history[0][0])
        car._delta = first
        car._steer_cmds = [first] * len(car._steer_cmds)
        car._speed_cmds = [history[0][1]] * len(car._speed_cmds)
        for steer, spd in history[1:]:  # run the actuators through the history, without moving
            car._push(steer, spd)
            car._steer_ticks()
        car.speed = float(speed)
        car.wheel_angle = math.degrees(car._delta)
        return car

    @property
    def heading(self) -> float:
        """Heading [deg] in (-180, 180], 0 along +x, positive counter-clockwise."""
        return normalize_heading(math.degrees(self.yaw))

    @property
    def recent_steering(self) -> tuple[float, float]:
        """The last two steering commands [deg], older first: what the wheels are turning towards."""
        cmds = self._steer_cmds
        return math.degrees(cmds[1] if len(cmds) > 1 else cmds[0]), math.degrees(cmds[0])

    @property
    def last_speed_command(self) -> float:
        """The newest speed command [m/s]."""
        return self._speed_cmds[0]

    def copy(self) -> "Car":
        """An independent copy, actuator state included (to try commands on)."""
        twin = Car.__new__(Car)
        for name in Car.__slots__:
            setattr(twin, name, getattr(self, name))
        twin._speed_cmds, twin._steer_cmds = list(self._speed_cmds), list(self._steer_cmds)
        return twin

    def wheels(self) -> list[tuple[float, float]]:
        """The four wheel centres [m]: left rear, right rear, left front, right front."""
        return wheel_positions(self.x, self.y, self.yaw)

    def corners(self) -> list[tuple[float, float]]:
        """The four corners of the crash footprint [m]."""
        return footprint_corners(self.bx, self.by, self.yaw)

    def _push(self, steering_deg: float, speed: float) -> None:
        """Send a command to the actuators (newest first)."""
        self._steer_cmds.pop()
        self._steer_cmds.insert(0, math.radians(steering_deg))
        self._speed_cmds.pop()
        self._speed_cmds.insert(0, speed)

    def _steer_ticks(self) -> list[float]:
        """Run the steering controller through one step's ticks: the wheel angle [rad] after each."""
        m = self.model
        gain, dead, cmds = m.steer_gain, m.steer_dead_ticks, self._steer_cmds
        delta = self._delta
        out = []
        for t in range(TICKS_PER_STEP):
            back = -((t - dead) // TICKS_PER_STEP)  # steps back of the command in effect at tick t
            delta += gain * (cmds[back] - delta)
            out.append(delta)
        self._delta = delta
        return out

    def step(self, steering_angle: float, speed: float, clip: bool = True) -> None:
        """Apply one command (steering [deg], speed [m/s]) and advance 1/15 s.

        The command is clipped to ±30° and 0.1–4 m/s as the simulator does;
        ``clip=False`` sends it as given (the prepare step sends speed 0).
        """
        if clip:
            steering_angle, speed = clip_controls(steering_angle, speed)
        m = self.model
        self._push(steering_angle, speed)
        v = m.speed_feedback * self.speed + sum(w * a for w, a in zip(m.speed_weights, self._speed_cmds))
        h = 1.0 / CONTROL_HZ
        vh = v * h
        max_kappa = m.grip_mps2 / (v * v) if v > 1e-9 else math.inf
        inv_l = 1.0 / m.wheelbase_m
        bx, by, yaw = self.bx, self.by, self.yaw
        gain, dead, cmds, delta = m.steer_gain, m.steer_dead_ticks, self._steer_cmds, self._delta
        for t in range(TICKS_PER_STEP):  # _steer_ticks, inline: this loop runs millions of times
            delta += gain * (cmds[-((t - dead) // TICKS_PER_STEP)] - delta)
            kappa = math.tan(delta) * inv_l
            if kappa > max_kappa:
                kappa = max_kappa
            elif kappa < -max_kappa:
                kappa = -max_kappa
            half = 0.5 * vh * kappa  # half the heading change of this tick
            chord = vh if abs(half) < 1e-9 else vh * math.sin(half) / half  # the arc's chord
            bx += chord * math.cos(yaw + half)
            by += chord * math.sin(yaw + half)
            yaw += 2.0 * half
        self._delta = delta
        x0, y0 = self.x, self.y
        self.bx, self.by = bx, by
        self.yaw = math.atan2(math.sin(yaw), math.cos(yaw))
        self.x, self.y = params_point(bx, by, self.yaw)
        self.speed = v
        self.wheel_angle = math.degrees(self._delta)
        self.moved = math.hypot(self.x - x0, self.y - y0)
