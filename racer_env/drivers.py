"""Scripted drivers: a classical baseline and probes, steering by geometry rather than learning.

``PurePursuit`` follows the centre line: it aims at the centre-line point a
fixed distance ahead and steers the bicycle-model angle that would reach it.
Steering in degrees, positive left; speed in m/s.
"""

from __future__ import annotations

import math

from racer_env.constants import EFFECTIVE_WHEELBASE_M, MAX_STEERING_DEG
from racer_env.track import Track

__all__ = ["PurePursuit"]


class PurePursuit:
    """Follow the centre line at a constant commanded speed.

    Args:
        track: the track as driven.
        speed: commanded speed [m/s].
        lookahead_m: how far ahead along the centre line to aim [m]; by default it grows with speed.

    Example:
        >>> from racer_env import RacerEnv
        >>> env = RacerEnv(reward_function=lambda p: 1.0, mode="eval")
        >>> _ = env.reset()
        >>> steering, speed = PurePursuit(env.track, 1.0).controls(env.car)
    """

    def __init__(self, track: Track, speed: float, lookahead_m: float | None = None):
        self.track = track
        self.speed = speed
        self.lookahead_m = lookahead_m if lookahead_m is not None else 0.35 + 0.25 * speed
        self._seg = -1

    def controls(self, car) -> tuple[float, float]:
        """(steering [deg], speed [m/s]) for a car with ``x``, ``y`` [m] and ``heading`` [deg]."""
        x, y = car.x, car.y
        seg, t, _ = self.track.project(x, y, self._seg)
        self._seg = seg
        tx, ty, _ = self.track.point_at(self.track.arc_length(seg, t) + self.lookahead_m)
        h = math.radians(car.heading)
        dx, dy = tx - x, ty - y
        alpha = math.atan2(dy, dx) - h
        dist = math.hypot(dx, dy)
        steer = math.degrees(math.atan2(2.0 * EFFECTIVE_WHEELBASE_M * math.sin(alpha), max(dist, 1e-6)))
        return max(-MAX_STEERING_DEG, min(MAX_STEERING_DEG, steer)), self.speed
