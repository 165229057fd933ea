"""The reward function's ``params`` dict, computed as the DeepRacer simulator computes it (spec §1).

``params_at`` is the public, pure entry point; the environment calls the same
``compute_params`` with the car's projection on the centre line, computed once
per step, so a step never scans the whole track.

Semantics that differ from AWS's public docs (spec §9): ``x``/``y`` are the
point 0.14 m ahead of the body origin; ``speed`` and ``steering_angle`` are the
*commanded* values (unclipped); ``steps`` is a float and the reward function
first sees 2.0; ``closest_waypoints`` is [previous, next] by projection along the
centre line; ``is_reversed`` is the track-direction flag; ``objects_heading`` is
in radians. Progress is in percent of a lap everywhere, including where an
episode started (``start_progress``).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Any, Sequence

from racer_env.constants import (
    BOX_OBSTACLE_LENGTH_M,
    BOX_OBSTACLE_WIDTH_M,
    CAMERA_HFOV_RAD,
    CAMERA_RANGE_M,
    FIRST_REWARD_STEP,
)
from racer_env.sim.track import Projection, Track
from racer_env.sim.vehicle import body_origin, footprint_corners, normalize_heading, wheels_on_track

__all__ = ["params_at", "compute_params", "progress_from", "Objects", "NO_OBJECTS",
           "PARAM_KEYS", "DOCUMENTED_KEYS"]

DOCUMENTED_KEYS = (
    "all_wheels_on_track", "closest_objects", "closest_waypoints", "distance_from_center", "heading",
    "is_crashed", "is_left_of_center", "is_offtrack", "is_reversed", "objects_distance", "objects_heading",
    "objects_left_of_center", "objects_location", "objects_speed", "progress", "speed", "steering_angle",
    "steps", "track_length", "track_width", "waypoints", "x", "y",
)  # the 23 keys of AWS's documentation
PARAM_KEYS = DOCUMENTED_KEYS + ("projection_distance", "objects_distance_from_center", "object_in_camera", "sim_time")


@dataclass(frozen=True)
class Objects:
    """Static obstacles (boxes) on a track, with what the params need of them, computed once.

    Build with :meth:`Objects.place`. Positions in metres.
    """

    location: tuple[tuple[float, float], ...] = ()
    distance: tuple[float, ...] = ()  # along the centre line from waypoint 0 [m]
    distance_from_center: tuple[float, ...] = ()  # [m]
    left_of_center: tuple[bool, ...] = ()
    yaw: tuple[float, ...] = ()  # box orientation [rad], along the track
    order: tuple[int, ...] = ()  # indices sorted by ``distance``

    @classmethod
    def place(cls, track: Track, positions: Sequence[tuple[float, float]]) -> "Objects":
        """Boxes at the given (x, y) positions [m], facing along the track."""
        if not positions:
            return cls()
        loc, dist, dfc, left, yaw = [], [], [], [], []
        for ox, oy in positions:
            where = track.project(float(ox), float(oy))
            loc.append((float(ox), float(oy)))
            dist.append(where.arc)
            dfc.append(where.distance)
            left.append(_is_left(track, float(ox), float(oy), where)[0])
            yaw.append(track.heading_at(where.seg))
        order = tuple(sorted(range(len(dist)), key=dist.__getitem__))
        return cls(tuple(loc), tuple(dist), tuple(dfc), tuple(left), tuple(yaw), order)


NO_OBJECTS = Objects()


def _is_left(track: Track, x: float, y: float, where: Projection) -> tuple[bool, float]:
    """Simulator rule: nearer the inner border than the outer, flipped on a clockwise lap; and the local width."""
    width, ip, op = track.width_at(where.seg, where.t)
    d_in = math.hypot(x - ip[0], y - ip[1])
    d_out = math.hypot(x - op[0], y - op[1])
    return (d_in < d_out) != (not track.is_ccw), width


def progress_from(position: float, start_progress: float, prev_progress: float | None) -> float:
    """Progress [%] of a lap at ``position`` [% of the lap from waypoint 0], for an episode that started at
    ``start_progress`` [%], with the simulator's finish-line wrap rules (spec §1.3).

    ``prev_progress`` is the previous step's progress [%]; None skips the wrap rules
    (a lone query with no history).
    """
    p = position - start_progress
    if p <= 0.0:
        p += 100.0
    if prev_progress is not None:
        if prev_progress > p + 50.0:
            p += 100.0
        if p > prev_progress + 50.0:
            p -= 100.0
    return min(p, 100.0)


def _in_rect(px: float, py: float, cx: float, cy: float, yaw: float, length: float, width: float) -> bool:
    c, s = math.cos(yaw), math.sin(yaw)
    dx, dy = px - cx, py - cy
    return abs(dx * c + dy * s) <= length / 2 and abs(-dx * s + dy * c) <= width / 2


def _crashed(x: float, y: float, yaw: float, objects: Objects) -> bool:
    """Any corner of the car's footprint inside a box's footprint (spec §1.2 is_crashed)."""
    corners = footprint_corners(*body_origin(x, y, yaw), yaw)
    for (ox, oy), oyaw in zip(objects.location, objects.yaw):
        if any(_in_rect(px, py, ox, oy, oyaw, BOX_OBSTACLE_LENGTH_M, BOX_OBSTACLE_WIDTH_M) for px, py in corners):
            return True
    return False


def compute_params(
    track: Track,
    *,
    x: float,
    y: float,
    yaw: float,
    steering_angle: float,
    speed: float,
    steps: float,
    start_progress: float,
    prev_progress: float | None,
    where: Projection | None = None,
    objects: Objects = NO_OBJECTS,
    sim_time: float = 0.0,
) -> dict[str, Any]:
    """The params dict for a car whose params point is at (x, y) [m] with ``yaw`` [rad].

    Args:
        track: the track, as driven.
        x, y: the params point [m]; yaw: heading [rad].
        steering_angle: commanded steering [deg], positive left; speed: commanded speed [m/s].
        steps: the episode's step counter.
        start_progress: where the episode started [% of a lap from waypoint 0].
        prev_progress: the previous step's progress [%], or None for no wrap rules.
        where: the projection of (x, y) on the centre line, when the caller has it.
        objects: obstacles on the track.
        sim_time: simulation clock [s].
    """
    if where is None:
        where = track.project(x, y)
    left, width = _is_left(track, x, y, where)
    wheels = wheels_on_track(track, x, y, yaw, where)
    arc = where.arc

    crashed = False
    closest_objects = [0, 0]
    in_camera = False
    if objects.location:
        crashed = _crashed(x, y, yaw, objects)
        sorted_d = [objects.distance[i] for i in objects.order]
        nxt = bisect.bisect_right(sorted_d, arc)
        n = len(sorted_d)
        closest_objects = [objects.order[(nxt - 1) % n], objects.order[nxt % n]]
        ox, oy = objects.location[closest_objects[1]]
        bearing = math.atan2(oy - y, ox - x) - yaw
        bearing = math.atan2(math.sin(bearing), math.cos(bearing))
        in_camera = abs(bearing) <= CAMERA_HFOV_RAD / 2 and math.hypot(ox - x, oy - y) <= CAMERA_RANGE_M

    n_obj = len(objects.location)
    return {
        "all_wheels_on_track": all(wheels),
        "x": x,
        "y": y,
        "heading": normalize_heading(math.degrees(yaw)),
        "distance_from_center": where.distance,
        "is_left_of_center": left,
        "is_offtrack": not any(wheels),
        "is_crashed": crashed,
        "is_reversed": track.is_reversed,
        "progress": progress_from(track.percent_of_lap(arc), start_progress, prev_progress),
        "steps": float(steps),
        "speed": float(speed),
        "steering_angle": float(steering_angle),
        "track_length": track.length,
        "track_width": width,
        "waypoints": list(track.waypoints),
        "closest_waypoints": track.closest_waypoints(arc / track.length),
        "closest_objects": closest_objects,
        "objects_location": [list(p) for p in objects.location],
        "objects_distance": list(objects.distance),
        "objects_distance_from_center": list(objects.distance_from_center),
        "objects_left_of_center": list(objects.left_of_center),
        "objects_heading": [0.0] * n_obj,
        "objects_speed": [0.0] * n_obj,
        "object_in_camera": in_camera,
        "projection_distance": arc,
        "sim_time": float(sim_time),
    }


def params_at(
    track: Track,
    x: float,
    y: float,
    heading: float,
    *,
    steering_angle: float = 0.0,
    speed: float = 0.0,
    steps: float = FIRST_REWARD_STEP,
    start_progress: float = 0.0,
    prev_progress: float | None = None,
    objects: Sequence[tuple[float, float]] = (),
    sim_time: float = 0.0,
) -> dict[str, Any]:
    """The params dict DeepRacer would pass for a car whose params point is at (x, y) [m], heading [deg].

    Args:
        track: the track, as driven (``Track.load(..., reverse=True)`` for a reversed lap).
        x, y: the params point, 0.14 m ahead of the body origin [m].
        heading: yaw [deg], 0 along +x, positive counter-clockwise.
        steering_angle: commanded steering [deg], positive left.
        speed: commanded speed [m/s].
        steps: the episode's step counter (the reward function first sees 2.0).
        start_progress: where the episode started, in % of a lap from waypoint 0 (0: the start line).
        prev_progress: the previous step's progress [%], for the finish-line wrap rules; None for none.
        objects: obstacle positions [m].
        sim_time: simulation clock [s].

    Example:
        >>> t = Track.load("harbour_loop")
        >>> x, y = t.waypoints[0]
        >>> p = params_at(t, x, y, 0.0)
        >>> p["distance_from_center"], p["closest_waypoints"], p["all_wheels_on_track"]
        (0.0, [0, 1], True)
    """
    objs = Objects.place(track, objects) if objects else NO_OBJECTS
    return compute_params(track, x=float(x), y=float(y), yaw=math.radians(heading), steering_angle=steering_angle,
                          speed=speed, steps=steps, start_progress=start_progress, prev_progress=prev_progress,
                          objects=objs, sim_time=sim_time)
