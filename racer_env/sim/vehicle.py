"""The DeepRacer car: a kinematic bicycle with the simulator's actuation lags.

Conventions: positions in metres in the track's world frame; ``yaw`` in
radians and ``heading`` in degrees, 0 along +x, positive counter-clockwise;
steering in degrees, positive means left; speeds in m/s.

Two points of the car matter. The *body origin* (``base_link``, midway between
the axles) is what the physics integrates and what the crash footprint is
centred on. The *params point*, 0.14 m ahead of it, is what DeepRacer's reward
params report as ``x, y`` (spec §1.1). :func:`params_point` and
:func:`body_origin` convert between them; nothing else writes the offset.

The model is the fit of spec §3.5 to simapp 6 logs: speed follows the commands
through a short filter, steering takes effect two steps late, and the car turns
as if its wheelbase were 0.27 m.
"""

from __future__ import annotations

import math

from racer_env.constants import (
    AXLE_WIDTH_M,
    CAR_LENGTH_M,
    CAR_WIDTH_M,
    DT_S,
    EFFECTIVE_WHEELBASE_M,
    FRONT_AXLE_X_M,
    MAX_SPEED_MPS,
    MAX_STEERING_DEG,
    MIN_SPEED_MPS,
    PARAMS_POINT_X_M,
    REAR_AXLE_X_M,
    SPEED_LAG_WEIGHTS,
    STEERING_DELAY_STEPS,
)
from racer_env.sim.track import Projection, Track

__all__ = ["Car", "clip_controls", "wheel_positions", "wheels_on_track", "footprint_corners", "normalize_heading", "params_point",
           "body_origin", "WHEEL_REACH_M"]

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


class Car:
    """One DeepRacer car, advanced 1/15 s per :meth:`step`.

    Attributes:
        x, y: the params point [m].
        yaw: heading [rad].
        speed: actual speed during the last step [m/s].
        wheel_angle: the front wheels' angle during the last step [deg], positive left (the command acts late).
        moved: distance the params point moved during the last step [m].

    Example:
        >>> car = Car.at(0.0, 0.0, heading=0.0, speed=1.5)
        >>> car.step(steering_angle=0.0, speed=1.5)
        >>> round(car.x, 3)
        0.1
    """

    __slots__ = ("bx", "by", "x", "y", "yaw", "_speed_cmds", "_steer_cmds", "speed", "wheel_angle", "moved")

    def __init__(self) -> None:
        self.bx = self.by = 0.0  # body origin [m]
        self.x, self.y = params_point(0.0, 0.0, 0.0)
        self.yaw = 0.0
        self._speed_cmds = [0.0] * len(SPEED_LAG_WEIGHTS)  # newest first [m/s]
        self._steer_cmds = [0.0] * STEERING_DELAY_STEPS  # oldest first [deg]
        self.speed = 0.0
        self.wheel_angle = 0.0
        self.moved = 0.0

    @classmethod
    def at(cls, x: float, y: float, heading: float, speed: float = 0.0, steering_angle: float = 0.0) -> "Car":
        """A car whose params point is at (x, y) [m], heading [deg], already moving at ``speed`` [m/s]
        with its wheels at ``steering_angle`` [deg] (as if those commands had been held)."""
        car = cls()
        car.yaw = math.radians(heading)
        car.x, car.y = float(x), float(y)
        car.bx, car.by = body_origin(car.x, car.y, car.yaw)
        car._speed_cmds = [float(speed)] * len(SPEED_LAG_WEIGHTS)
        car._steer_cmds = [float(steering_angle)] * STEERING_DELAY_STEPS
        car.speed = float(speed)
        car.wheel_angle = float(steering_angle)
        return car

    @property
    def heading(self) -> float:
        """Heading [deg] in (-180, 180], 0 along +x, positive counter-clockwise."""
        return normalize_heading(math.degrees(self.yaw))

    @property
    def pending_steering(self) -> tuple[float, ...]:
        """Steering commands [deg] not yet in effect, oldest first."""
        return tuple(self._steer_cmds)

    @property
    def last_speed_command(self) -> float:
        """The newest speed command [m/s]."""
        return self._speed_cmds[0]

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
        if clip:
            steering_angle, speed = clip_controls(steering_angle, speed)
        cmds = self._speed_cmds
        cmds.pop()
        cmds.insert(0, speed)
        v = sum(w * a for w, a in zip(SPEED_LAG_WEIGHTS, cmds))
        steer_q = self._steer_cmds
        delta = steer_q.pop(0)
        steer_q.append(steering_angle)

        yaw0 = self.yaw
        omega = v * math.tan(math.radians(delta)) / EFFECTIVE_WHEELBASE_M
        dyaw = omega * DT_S
        if abs(dyaw) < 1e-9:
            dx = v * DT_S * math.cos(yaw0)
            dy = v * DT_S * math.sin(yaw0)
        else:  # exact arc
            r = v / omega
            dx = r * (math.sin(yaw0 + dyaw) - math.sin(yaw0))
            dy = -r * (math.cos(yaw0 + dyaw) - math.cos(yaw0))
        x0, y0 = self.x, self.y
        self.bx += dx
        self.by += dy
        self.yaw = math.atan2(math.sin(yaw0 + dyaw), math.cos(yaw0 + dyaw))
        self.x, self.y = params_point(self.bx, self.by, self.yaw)
        self.speed = v
        self.wheel_angle = delta
        self.moved = math.hypot(self.x - x0, self.y - y0)
