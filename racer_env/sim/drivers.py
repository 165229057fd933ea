"""Scripted drivers: a classical baseline and probes, steering by geometry rather than learning.

``PurePursuit`` follows the centre line (or a line beside it): it aims at the
point a fixed distance ahead and steers the bicycle-model angle that would
reach it. Steering in degrees, positive left; speed in m/s.
"""

from __future__ import annotations

import math
from typing import Protocol

from racer_env.constants import EFFECTIVE_WHEELBASE_M, MAX_STEERING_DEG
from racer_env.sim.track import Track

__all__ = ["PurePursuit", "pursuit_steering", "Pose"]


class Pose(Protocol):
    """Anything with a params point ``x``, ``y`` [m] and a ``yaw`` [rad], such as a :class:`~racer_env.sim.vehicle.Car`."""

    x: float
    y: float
    yaw: float


def pursuit_steering(x: float, y: float, yaw: float, tx: float, ty: float) -> float:
    """The steering [deg, positive left] whose arc takes a car at (x, y) [m], ``yaw`` [rad] through (tx, ty) [m],
    clipped to ±30°."""
    alpha = math.atan2(ty - y, tx - x) - yaw
    dist = max(math.hypot(tx - x, ty - y), 1e-6)
    steer = math.degrees(math.atan2(2.0 * EFFECTIVE_WHEELBASE_M * math.sin(alpha), dist))
    return max(-MAX_STEERING_DEG, min(MAX_STEERING_DEG, steer))


class PurePursuit:
    """Follow the centre line, or a line beside it, at a constant commanded speed.

    Args:
        track: the track as driven.
        speed: commanded speed [m/s].
        lookahead_m: how far ahead along the centre line to aim [m]; by default it grows with speed.
        lateral_fraction: the line to follow, as a fraction of the local half-width left of the centre
            line (negative: right); 0 follows the centre line.

    Example:
        >>> from racer_env import RacerEnv
        >>> env = RacerEnv(reward_function=lambda p: 1.0, mode="eval")
        >>> _ = env.reset()
        >>> steering, speed = PurePursuit(env.track, 1.0).controls(env.car)
        >>> round(steering), speed  # the start line of harbour_loop is in a left-hand bend
        (14, 1.0)
    """

    def __init__(self, track: Track, speed: float, lookahead_m: float | None = None, lateral_fraction: float = 0.0):
        self.track = track
        self.speed = speed
        self.lookahead_m = lookahead_m if lookahead_m is not None else 0.35 + 0.25 * speed
        self.lateral_fraction = lateral_fraction
        self._seg = -1

    def controls(self, car: Pose) -> tuple[float, float]:
        """(steering [deg], speed [m/s]) for a car at its params point ``x``, ``y`` [m] with ``yaw`` [rad]."""
        where = self.track.project(car.x, car.y, self._seg)
        self._seg = where.seg
        arc = where.arc + self.lookahead_m
        lateral = 0.0
        if self.lateral_fraction:
            lateral = self.lateral_fraction * self.track.vertex_widths[self.track.locate(arc)[0]] / 2
        tx, ty, _ = self.track.pose_at(arc, lateral)
        return pursuit_steering(car.x, car.y, car.yaw, tx, ty), self.speed
