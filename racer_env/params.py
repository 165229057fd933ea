"""The reward function's ``params`` dict, computed as the DeepRacer simulator computes it (spec §1).

``params_at`` is the public, pure entry point; the environment calls the same
``compute_params`` with a hint segment so a step never scans the whole track.

Semantics that differ from AWS's public docs (spec §9): ``x``/``y`` are the
point 0.14 m ahead of the body origin; ``speed`` and ``steering_angle`` are the
*commanded* values (unclipped); ``steps`` is a float and the reward function
first sees 2.0; ``closest_waypoints`` is [previous, next] by projection along
the centre line; ``is_reversed`` is the track-direction flag;
``objects_heading`` is in radians.
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
    CAR_LENGTH_M,
    CAR_WIDTH_M,
    PARAMS_POINT_X_M,
)
from racer_env.track import Track
from racer_env.vehicle import WHEEL_REACH_M, normalize_heading, wheel_positions

__all__ = ["params_at", "compute_params", "progress_from", "Objects", "PARAM_KEYS", "DOCUMENTED_KEYS"]

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

    Build with :meth:`Objects.on`. Positions in metres.
    """

    location: tuple[tuple[float, float], ...] = ()
    distance: tuple[float, ...] = ()  # along the centre line from waypoint 0 [m]
    distance_from_center: tuple[float, ...] = ()  # [m]
    left_of_center: tuple[bool, ...] = ()
    yaw: tuple[float, ...] = ()  # box orientation [rad], along the track
    order: tuple[int, ...] = ()  # indices sorted by ``distance``

    @classmethod
    def on(cls, track: Track, positions: Sequence[tuple[float, float]]) -> "Objects":
        if not positions:
            return cls()
        loc, dist, dfc, left, yaw = [], [], [], [], []
        for ox, oy in positions:
            seg, t, d = track.project(float(ox), float(oy))
            loc.append((float(ox), float(oy)))
            dist.append(track.arc_length(seg, t))
            dfc.append(d)
            left.append(_is_left(track, float(ox), float(oy), seg, t))
            yaw.append(math.atan2(track.center.dy[seg], track.center.dx[seg]))
        order = tuple(sorted(range(len(dist)), key=dist.__getitem__))
        return cls(tuple(loc), tuple(dist), tuple(dfc), tuple(left), tuple(yaw), order)


_NO_OBJECTS = Objects()


def _is_left(track: Track, x: float, y: float, seg: int, t: float) -> tuple[bool, float]:
    """Simulator rule: nearer the inner border than the outer, flipped on a clockwise lap."""
    width, ip, op = track.width_at(seg, t)
    d_in = math.hypot(x - ip[0], y - ip[1])
    d_out = math.hypot(x - op[0], y - op[1])
    return (d_in < d_out) != (not track.is_ccw), width


def progress_from(ndist: float, start_ndist: float, prev_progress: float | None) -> float:
    """Progress [%] of a lap at normalised distance ``ndist``, for an episode that started at
    ``start_ndist``, with the simulator's finish-line wrap rules (spec §1.3).

    ``prev_progress`` is the previous step's progress; None skips the wrap rules
    (a lone query with no history).
    """
    p = 100.0 * (ndist - start_ndist)
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


def _crashed(bx: float, by: float, yaw: float, objects: Objects) -> bool:
    """Any corner of the car's footprint inside a box's footprint (spec §1.2 is_crashed)."""
    c, s = math.cos(yaw), math.sin(yaw)
    corners = [(bx + c * dx - s * dy, by + s * dx + c * dy)
               for dx in (CAR_LENGTH_M / 2, -CAR_LENGTH_M / 2) for dy in (CAR_WIDTH_M / 2, -CAR_WIDTH_M / 2)]
    for (ox, oy), oyaw in zip(objects.location, objects.yaw):
        if any(_in_rect(px, py, ox, oy, oyaw, BOX_OBSTACLE_LENGTH_M, BOX_OBSTACLE_WIDTH_M) for px, py in corners):
            return True
    return False


def compute_params(
    track: Track,
    x: float,
    y: float,
    heading: float,
    steering_angle: float,
    speed: float,
    steps: float,
    start_ndist: float,
    prev_progress: float | None,
    objects: Objects = _NO_OBJECTS,
    sim_time: float = 0.0,
    hint: int = -1,
) -> tuple[dict[str, Any], int]:
    """The params dict for a car whose params point is at (x, y) [m] with ``heading`` [deg],
    and the centre segment it projects on (a hint for the next call)."""
    seg, t, dfc = track.project(x, y, hint)
    arc = track.arc_length(seg, t)
    ndist = arc / track.length
    left, width = _is_left(track, x, y, seg, t)
    wheels = track.points_on_track(wheel_positions(x, y, heading), seg, t, dfc, WHEEL_REACH_M)
    on_all = all(wheels)
    off = not any(wheels)

    crashed = False
    closest_objects = [0, 0]
    in_camera = False
    if objects.location:
        h = math.radians(heading)
        bx, by = x - PARAMS_POINT_X_M * math.cos(h), y - PARAMS_POINT_X_M * math.sin(h)
        crashed = _crashed(bx, by, h, objects)
        sorted_d = [objects.distance[i] for i in objects.order]
        nxt = bisect.bisect_right(sorted_d, arc)
        prv = nxt - 1
        n = len(sorted_d)
        closest_objects = [objects.order[prv % n], objects.order[nxt % n]]
        ox, oy = objects.location[closest_objects[1]]
        bearing = math.atan2(oy - y, ox - x) - h
        bearing = math.atan2(math.sin(bearing), math.cos(bearing))
        in_camera = abs(bearing) <= CAMERA_HFOV_RAD / 2 and math.hypot(ox - x, oy - y) <= CAMERA_RANGE_M

    params = {
        "all_wheels_on_track": on_all,
        "x": x,
        "y": y,
        "heading": normalize_heading(heading),
        "distance_from_center": dfc,
        "is_left_of_center": left,
        "is_offtrack": off,
        "is_crashed": crashed,
        "is_reversed": track.is_reversed,
        "progress": progress_from(ndist, start_ndist, prev_progress),
        "steps": float(steps),
        "speed": float(speed),
        "steering_angle": float(steering_angle),
        "track_length": track.length,
        "track_width": width,
        "waypoints": list(track.waypoints),
        "closest_waypoints": track.closest_waypoints(ndist),
        "closest_objects": closest_objects,
        "objects_location": [list(p) for p in objects.location],
        "objects_distance": list(objects.distance),
        "objects_distance_from_center": list(objects.distance_from_center),
        "objects_left_of_center": list(objects.left_of_center),
        "objects_heading": [0.0] * len(objects.location),
        "objects_speed": [0.0] * len(objects.location),
        "object_in_camera": in_camera,
        "projection_distance": arc,
        "sim_time": float(sim_time),
    }
    return params, seg


def params_at(
    track: Track,
    x: float,
    y: float,
    heading: float,
    *,
    steering_angle: float = 0.0,
    speed: float = 0.0,
    steps: float = 2.0,
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
    objs = Objects.on(track, objects) if objects else _NO_OBJECTS
    params, _ = compute_params(track, float(x), float(y), float(heading), steering_angle, speed, steps,
                               start_progress / 100.0, prev_progress, objs, sim_time)
    return params
