"""The DeepRacer car: a kinematic bicycle with the simulator's actuation lags.

Conventions: positions in metres in the track's world frame; headings in
degrees, 0 along +x, positive counter-clockwise, in (-180, 180]; steering in
degrees, positive means left; speeds in m/s.

The car is placed and read by its *params point*, 0.14 m ahead of the body
origin, the point DeepRacer's reward params use (spec §1.1). It integrates the
body origin. The model is the fit of spec §3.5 to simapp 6 logs: speed follows
the commands through a short filter, steering takes effect two steps late, and
the car turns as if its wheelbase were 0.27 m.
"""

from __future__ import annotations

import math

from racer_env.constants import (
    AXLE_WIDTH_M,
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

__all__ = ["Car", "clip_controls", "wheel_positions", "normalize_heading"]

# Wheel centres in the car frame, relative to the params point: x forward, y left.
_WHEEL_OFFSETS = tuple(
    (ax - PARAMS_POINT_X_M, side * AXLE_WIDTH_M / 2)
    for ax in (REAR_AXLE_X_M, FRONT_AXLE_X_M)
    for side in (1.0, -1.0)
)  # left rear, right rear, left front, right front
WHEEL_REACH_M = max(math.hypot(dx, dy) for dx, dy in _WHEEL_OFFSETS)
"""Farthest wheel centre from the params point [m]."""


def normalize_heading(deg: float) -> float:
    """Wrap an angle in degrees into (-180, 180]."""
    deg = math.fmod(deg, 360.0)
    if deg > 180.0:
        deg -= 360.0
    elif deg <= -180.0:
        deg += 360.0
    return deg


def clip_controls(steering_deg: float, speed_mps: float) -> tuple[float, float]:
    """Clip a command the way the simulator does before driving: ±30°, 0.1–4 m/s (spec §3.3)."""
    steering_deg = min(max(steering_deg, -MAX_STEERING_DEG), MAX_STEERING_DEG)
    speed_mps = min(max(speed_mps, MIN_SPEED_MPS), MAX_SPEED_MPS)
    return steering_deg, speed_mps


def wheel_positions(x: float, y: float, heading_deg: float) -> list[tuple[float, float]]:
    """World positions [m] of the four wheel centres of a car whose params point is at (x, y).

    Order: left rear, right rear, left front, right front.
    """
    h = math.radians(heading_deg)
    c, s = math.cos(h), math.sin(h)
    return [(x + c * dx - s * dy, y + s * dx + c * dy) for dx, dy in _WHEEL_OFFSETS]


class Car:
    """One DeepRacer car, advanced 1/15 s per :meth:`step`.

    Example:
        >>> car = Car.at(0.0, 0.0, heading=0.0, speed=1.5)
        >>> car.step(steering_angle=0.0, speed=1.5)
        >>> round(car.x, 3)
        0.1
    """

    __slots__ = ("_bx", "_by", "_yaw", "_speed_cmds", "_steer_cmds", "speed", "steering_angle", "moved")

    def __init__(self) -> None:
        self._bx = 0.0  # body origin [m]
        self._by = 0.0
        self._yaw = 0.0  # [rad]
        self._speed_cmds = [0.0] * len(SPEED_LAG_WEIGHTS)  # newest first [m/s]
        self._steer_cmds = [0.0] * STEERING_DELAY_STEPS  # oldest first [deg]
        self.speed = 0.0
        """Actual speed during the last step [m/s]."""
        self.steering_angle = 0.0
        """Wheel angle in effect during the last step [deg], positive left."""
        self.moved = 0.0
        """Distance the params point moved during the last step [m]."""

    @classmethod
    def at(cls, x: float, y: float, heading: float, speed: float = 0.0, steering_angle: float = 0.0) -> "Car":
        """A car whose params point is at (x, y) [m], heading [deg], already moving at ``speed`` [m/s]
        with its wheels at ``steering_angle`` [deg] (as if those commands had been held)."""
        car = cls()
        h = math.radians(heading)
        car._bx = x - PARAMS_POINT_X_M * math.cos(h)
        car._by = y - PARAMS_POINT_X_M * math.sin(h)
        car._yaw = h
        car._speed_cmds = [float(speed)] * len(SPEED_LAG_WEIGHTS)
        car._steer_cmds = [float(steering_angle)] * STEERING_DELAY_STEPS
        car.speed = float(speed)
        car.steering_angle = float(steering_angle)
        return car

    @property
    def x(self) -> float:
        """x of the params point [m]."""
        return self._bx + PARAMS_POINT_X_M * math.cos(self._yaw)

    @property
    def y(self) -> float:
        """y of the params point [m]."""
        return self._by + PARAMS_POINT_X_M * math.sin(self._yaw)

    @property
    def heading(self) -> float:
        """Heading [deg] in (-180, 180], 0 along +x, positive counter-clockwise."""
        return normalize_heading(math.degrees(self._yaw))

    @property
    def pending_steering(self) -> tuple[float, ...]:
        """Steering commands [deg] not yet in effect, oldest first."""
        return tuple(self._steer_cmds)

    @property
    def last_speed_command(self) -> float:
        """The newest speed command [m/s]."""
        return self._speed_cmds[0]

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

        yaw0 = self._yaw
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
        self._bx += dx
        self._by += dy
        self._yaw = math.atan2(math.sin(yaw0 + dyaw), math.cos(yaw0 + dyaw))
        self.speed = v
        self.steering_angle = delta
        self.moved = math.hypot(self.x - x0, self.y - y0)
