"""Scripted drivers: classical baselines and probes, steering by geometry rather than learning.

``PurePursuit`` follows the centre line, a line beside it, or a racing line at
its speed profile: it aims at the point a fixed distance ahead and steers the
bicycle-model angle that would reach it. ``LineFollower`` drives a racing line
by model-predictive control: it tries each steering command on a copy of the
car for a few steps and keeps the one that stays closest to the line, so the
steering lag and the grip limit are in its predictions. Steering in degrees,
positive left; speed in m/s.
"""

from __future__ import annotations

import math
from typing import Protocol, Sequence

import numpy as np

from racer_env.constants import EFFECTIVE_WHEELBASE_M, MAX_SPEED_MPS, MAX_STEERING_DEG, MIN_SPEED_MPS
from racer_env.sim.objects import TrackObject
from racer_env.sim.raceline import RacingLine
from racer_env.sim.track import Track
from racer_env.sim.vehicle import Car, CarModel

__all__ = ["PurePursuit", "LineFollower", "Dodger", "Rammer", "pursuit_steering", "Pose"]


class Pose(Protocol):
    """Anything with a params point ``x``, ``y`` [m] and a ``yaw`` [rad], such as a :class:`~racer_env.sim.vehicle.Car`."""

    @property
    def x(self) -> float: ...

    @property
    def y(self) -> float: ...

    @property
    def yaw(self) -> float: ...


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

    Examples:
        >>> from racer_env import RacerEnv
        >>> env = RacerEnv(reward_function=lambda p: 1.0, mode="eval")
        >>> _ = env.reset()
        >>> steering, speed = PurePursuit(env.track, 1.0).controls(env.car)
        >>> round(steering), speed  # the start line of harbour_loop is in a left-hand bend
        (14, 1.0)
    """

    def __init__(self, track: Track, speed: float, lookahead_m: float | None = None, lateral_fraction: float = 0.0,
                 line: RacingLine | None = None, speed_scale: float = 1.0):
        self.track = track
        self.speed = speed
        self.lookahead_m = lookahead_m if lookahead_m is not None else 0.35 + 0.25 * speed
        self.lateral_fraction = lateral_fraction
        self.line = _Stations(line) if line is not None else None
        self.speed_scale = speed_scale
        self._seg = -1

    @classmethod
    def along(cls, track: Track, line: RacingLine, speed_scale: float = 1.0) -> "PurePursuit":
        """Follow a racing line at ``speed_scale`` times its planned speeds, aiming 0.4 m + 0.35 s of the planned
        speed ahead (a longer lookahead than on the centre line: the line is driven near the grip limit)."""
        return cls(track, float(np.max(line.speed)), line=line, speed_scale=speed_scale)

    def controls(self, car: Pose) -> tuple[float, float]:
        """(steering [deg], speed [m/s]) for a car at its params point ``x``, ``y`` [m] with ``yaw`` [rad]."""
        if self.line is not None:
            i = self.line.nearest(car.x, car.y, params_point=True)
            v = float(self.line.speed[i])
            tx, ty = self.line.params_points[self.line.ahead(i, 0.4 + 0.35 * v)]
            return pursuit_steering(car.x, car.y, car.yaw, tx, ty), v * self.speed_scale
        where = self.track.project(car.x, car.y, self._seg)
        self._seg = where.seg
        arc = where.arc + self.lookahead_m
        lateral = 0.0
        if self.lateral_fraction:
            lateral = self.lateral_fraction * self.track.vertex_widths[self.track.locate(arc)[0]] / 2
        tx, ty, _ = self.track.pose_at(arc, lateral)
        return pursuit_steering(car.x, car.y, car.yaw, tx, ty), self.speed


class Dodger:
    """Pure pursuit round obstacles and bot cars: of five lines across the road (centre, half-way to each lane,
    each lane) it follows the one that keeps clearest of the objects within ``reach_m`` ahead, nearer ones
    counting more; it keeps its line when another is no better.

    Args:
        track: the track as driven.
        speed: commanded speed [m/s].
        reach_m: how far ahead [m] objects are considered.
    """

    LINES = (0.0, 0.3, -0.3, 0.55, -0.55)  # lateral fractions of the half-width, positive left

    def __init__(self, track: Track, speed: float, reach_m: float = 2.5):
        self.pursuit = PurePursuit(track, speed)
        self.track, self.reach_m = track, reach_m

    def controls(self, car: Pose, objects: Sequence[TrackObject]) -> tuple[float, float]:
        """(steering [deg], speed [m/s]) for a car at its params point, with these objects on the track."""
        track = self.track
        where = track.project(car.x, car.y)
        half = track.vertex_widths[where.seg] / 2
        left = 1.0 if track.is_ccw else -1.0  # an object's offset is positive on the inner side: left on a ccw lap
        near = []
        for o in objects:
            gap = (o.distance - where.arc) % track.length
            gap = gap - track.length if gap > track.length - 0.6 else gap
            if -0.6 < gap < self.reach_m:
                room = (0.2 if o.kind == "box" else 0.1) + 0.1 + 0.08  # half its width, half the car's, a margin
                near.append((gap, left * o.offset, room))

        def cost(fraction: float) -> float:
            lateral = fraction * half
            return sum(max(0.0, room - abs(lateral - side)) / (max(gap, 0.0) + 0.5) for gap, side, room in near) \
                + 0.01 * abs(fraction)

        current = self.pursuit.lateral_fraction
        best = min(self.LINES, key=cost)
        if cost(current) > cost(best) + 1e-6:
            self.pursuit.lateral_fraction = best
        return self.pursuit.controls(car)


class Rammer:
    """A degenerate probe: pure pursuit aimed at the centre of the next object ahead (objects spec §8)."""

    def __init__(self, track: Track, speed: float):
        self.pursuit = PurePursuit(track, speed)
        self.track = track

    def controls(self, car: Pose, objects: Sequence[TrackObject]) -> tuple[float, float]:
        if not objects:
            return self.pursuit.controls(car)
        arc = self.track.project(car.x, car.y).arc
        o = min(objects, key=lambda o: (o.distance - arc) % self.track.length)
        return pursuit_steering(car.x, car.y, car.yaw, o.x, o.y), self.pursuit.speed


class _Stations:
    """A racing line's stations, with a nearest-station search that walks from the last answer."""

    def __init__(self, line: RacingLine):
        self.points, self.params_points, self.speed = line.points, line.params_points, line.speed
        self.heading = line.heading
        self.n = len(line.points)
        self.spacing = line.length / self.n
        self._last = -1

    def nearest(self, x: float, y: float, params_point: bool = False, start: int | None = None) -> int:
        pts = self.params_points if params_point else self.points
        i0 = self._last if start is None else start
        idx = np.arange(self.n) if i0 < 0 else np.arange(i0 - 10, i0 + 40) % self.n
        d2 = (pts[idx, 0] - x) ** 2 + (pts[idx, 1] - y) ** 2
        i = int(idx[int(np.argmin(d2))])
        if start is None:
            self._last = i
        return i

    def ahead(self, i: int, metres: float) -> int:
        return (i + int(round(metres / self.spacing))) % self.n


class LineFollower:
    """Drive a racing line at its speed profile by model-predictive control.

    Each step it commands the planned speed of the point the car reaches about a step and a half later (the
    speed filter's delay), and tries ``candidates`` steering commands from -30° to 30°, each held for
    ``horizon_steps`` steps on a copy of the car (its own model, lags and grip); it keeps the one whose
    predicted body origin stays nearest the line, heading error counted lightly.

    Args:
        line: the racing line (:func:`racer_env.sim.raceline.racing_line`).
        model: the car model the predictions use (the car's own).
    """

    def __init__(self, line: RacingLine, model: CarModel, horizon_steps: int = 4, candidates: int = 25):
        self.stations = _Stations(line)
        self.model = model
        self.horizon = horizon_steps
        self.candidates = np.linspace(-MAX_STEERING_DEG, MAX_STEERING_DEG, candidates).tolist()

    def controls(self, car: Car) -> tuple[float, float]:
        """(steering [deg], speed [m/s]) for ``car``."""
        st = self.stations
        i = st.nearest(car.bx, car.by)
        planned = float(st.speed[st.ahead(i, 1.5 * max(car.speed, 0.5) / 15.0)])
        speed = min(max(planned / self.model.steady_speed(1.0), MIN_SPEED_MPS), MAX_SPEED_MPS)
        best, best_cost = 0.0, math.inf
        for steering in self.candidates:
            twin, j, cost = car.copy(), i, 0.0
            for _ in range(self.horizon):
                twin.step(steering, speed)
                j = st.nearest(twin.bx, twin.by, start=j)
                h = st.heading[j]
                lateral = -math.sin(h) * (twin.bx - st.points[j, 0]) + math.cos(h) * (twin.by - st.points[j, 1])
                off_heading = math.atan2(math.sin(twin.yaw - h), math.cos(twin.yaw - h))
                cost += lateral * lateral + 0.05 * off_heading * off_heading
            if cost < best_cost:
                best, best_cost = steering, cost
        return best, speed
