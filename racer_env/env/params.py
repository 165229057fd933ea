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
from typing import Any, Sequence

import numpy as np

from racer_env.constants import FIRST_REWARD_STEP, PARAMS_POINT_X_M
from racer_env.sim.objects import TrackObject, contact, object_at
from racer_env.sim.sensors import in_camera
from racer_env.sim.track import Projection, Track
from racer_env.sim.vehicle import body_origin, footprint_corners, normalize_heading

__all__ = ["params_at", "compute_params", "params_dict", "objects_array", "progress_from", "Objects", "NO_OBJECTS", "counted_crash",
           "PARAM_KEYS", "DOCUMENTED_KEYS"]

DOCUMENTED_KEYS = (
    "all_wheels_on_track", "closest_objects", "closest_waypoints", "distance_from_center", "heading",
    "is_crashed", "is_left_of_center", "is_offtrack", "is_reversed", "objects_distance", "objects_heading",
    "objects_left_of_center", "objects_location", "objects_speed", "progress", "speed", "steering_angle",
    "steps", "track_length", "track_width", "waypoints", "x", "y",
)  # the 23 keys of AWS's documentation
PARAM_KEYS = DOCUMENTED_KEYS + ("projection_distance", "objects_distance_from_center", "object_in_camera", "sim_time")


class Objects:
    """The obstacles and bot cars as the params see them on one step, in the simulator's registry order
    (obstacles, then bot cars), with what the params need of them computed once (objects spec §6).

    Args:
        track: the track, as driven.
        things: the objects.
        bots: the race has bot cars: ``objects_heading`` and ``objects_speed`` are then filled for every
            object, boxes included (§6.5-6.6); otherwise they are all 0.0.
        bot_speed: BOT_CAR_SPEED [m/s], what ``objects_speed`` reports.
        camera: ``"simulator"`` (``object_in_camera`` tests object next - 1, §6.8) or ``"intended"`` (next).
    """

    __slots__ = ("things", "bots", "bot_speed", "camera", "location", "distance", "distance_from_center",
                 "left_of_center", "heading", "speed", "order", "sorted_distance", "_length", "_hit", "one_step")

    def __init__(self, track: Track | None = None, things: Sequence[TrackObject] = (), bots: bool = False,
                 bot_speed: float = 0.0, camera: str = "simulator", one_step: bool = False):
        self.things = tuple(things)
        self.bots, self.bot_speed, self.camera = bots, bot_speed, camera
        self.one_step = one_step
        """Made for one step's params (a bot race's): they may take its lists rather than copies."""
        ccw = track.is_ccw if track is not None else True
        length = track.length if track is not None else 1.0
        # a bot race builds this every step: one pass, tuple unpacking (x, y, yaw, kind, distance, offset)
        location: list[list[float]] = []
        distance: list[float] = []
        dfc: list[float] = []
        left: list[bool] = []
        heading: list[float] = []
        for x, y, yaw, _, d, off in self.things:
            location.append([x, y])
            distance.append(d)
            dfc.append(off if off >= 0.0 else -off)
            left.append((off > 0.0) == ccw)  # inner XOR clockwise (§6.4)
            heading.append((yaw if -math.pi <= yaw <= math.pi else normalize_yaw(yaw)) if bots else 0.0)
        self.location, self.distance, self.distance_from_center = location, distance, dfc
        self.left_of_center, self.heading = left, heading
        self._length = length
        self._hit: tuple[float, float, float, int] | None = None
        self.speed = [float(bot_speed) if bots else 0.0] * len(self.things)
        self.order = sorted(range(len(self.things)), key=self.distance.__getitem__)
        self.sorted_distance = [self.distance[i] for i in self.order]

    def lists(self) -> dict[str, list]:
        """The object params, as fresh lists."""
        return {"objects_location": [list(p) for p in self.location], "objects_distance": list(self.distance),
                "objects_distance_from_center": list(self.distance_from_center),
                "objects_left_of_center": list(self.left_of_center), "objects_heading": list(self.heading),
                "objects_speed": list(self.speed)}

    def lists_once(self) -> dict[str, list]:
        """The object params, handing over this snapshot's own lists (it serves one step only)."""
        return {"objects_location": self.location, "objects_distance": self.distance,
                "objects_distance_from_center": self.distance_from_center,
                "objects_left_of_center": self.left_of_center, "objects_heading": self.heading,
                "objects_speed": self.speed}

    def front_pct(self, i: int) -> float:
        """Object ``i``'s progress for the behind-the-bot rule: its front point's share of the lap [%] (§4.2)."""
        return 100.0 * ((self.things[i].distance + PARAMS_POINT_X_M) % self._length) / self._length

    def touching(self, x: float, y: float, yaw: float) -> int:
        """The first object a car (params point (x, y) [m], ``yaw`` [rad]) touches, or -1 (objects spec §4.1).
        Computed once per pose: the params and the bot cars' rear-end check ask the same question."""
        if self._hit is not None and self._hit[:3] == (x, y, yaw):
            return self._hit[3]
        hit = -1
        for o in self.things:
            if -_REACH_M < o[0] - x < _REACH_M and -_REACH_M < o[1] - y < _REACH_M:  # near enough to touch
                hit = contact(footprint_corners(*body_origin(x, y, yaw), yaw), self.things)
                break
        self._hit = (x, y, yaw, hit)
        return hit

    @classmethod
    def place(cls, track: Track, positions: Sequence[tuple[float, float]], camera: str = "simulator") -> "Objects":
        """Boxes with their centres at the given (x, y) positions [m], facing along the track."""
        return cls(track, [object_at(track, float(x), float(y)) for x, y in positions], camera=camera)


NO_OBJECTS = Objects()


def normalize_yaw(rad: float) -> float:
    """An angle [rad] wrapped into [-pi, pi]."""
    return math.atan2(math.sin(rad), math.cos(rad))


def progress_from(position: float, start_progress: float, prev_progress: float | None) -> float:
    """Progress [%] of a lap at ``position`` [% of the lap from waypoint 0], for an episode that started at
    ``start_progress`` [%], with the simulator's finish-line wrap rules (spec §1.3;
    :func:`racer_env.sim.kernels.progress_from`).

    ``prev_progress`` is the previous step's progress [%]; None skips the wrap rules
    (a lone query with no history).
    """
    import racer_env.sim.kernels as kernels

    return float(kernels.progress_from(float(position), float(start_progress),
                                       0.0 if prev_progress is None else float(prev_progress),
                                       prev_progress is not None))


_REACH_M = 0.65  # no object centre further than this (each way) from the params point can touch the car: a
# corner of the car is within 0.32 m of the params point, and a crash rectangle's corners within 0.33 m of its centre


def counted_crash(x: float, y: float, yaw: float, objects: Objects, agent_pct: float) -> tuple[int, bool]:
    """The object the car touches (-1: none) and whether the crash counts (objects spec §4.1-4.2): one of the
    car's four footprint corners strictly inside an object's crash rectangle; an obstacle always counts, a
    bot car only when the car is behind it (``agent_pct``, its share of the lap from waypoint 0, below the
    bot's; the comparison does not wrap, as in the simulator)."""
    hit = objects.touching(x, y, yaw)
    if hit < 0:
        return -1, False
    return hit, objects.things[hit].kind != "bot" or agent_pct < objects.front_pct(hit)


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
    crashed_now: bool | None = None,
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
        objects: obstacles and bot cars on the track.
        sim_time: simulation clock [s].
        crashed_now: whether a crash counts on this step, when the caller has decided it (the race does, to
            act on a bot car's rear-end); None to decide here.
    """
    import racer_env.sim.kernels as kernels

    if where is None:
        where = track.project(x, y)
    wheels = np.empty(4, dtype=np.bool_)
    progress, width, left, heading, prv, nxt = kernels.car_params(
        *track.kernel, float(x), float(y), float(yaw), int(where.seg), float(where.t), float(where.distance),
        float(where.arc), float(start_progress), 0.0 if prev_progress is None else float(prev_progress),
        prev_progress is not None, wheels)
    crashed, closest_objects, in_camera = False, [0, 0], False
    if objects.things:
        if crashed_now is None:
            crashed_now = counted_crash(x, y, yaw, objects, (progress + start_progress) % 100.0)[1]
        crashed = crashed_now
        closest_objects, in_camera = _closest(objects, where.arc, x, y, yaw)
    on = wheels.tolist()
    return params_dict(track, x, y, heading, where.distance, left, all(on), not any(on), crashed, progress, steps,
                       float(speed), float(steering_angle), width, prv, nxt, closest_objects, objects, in_camera,
                       where.arc, float(sim_time))


def params_dict(track: Track, x: float, y: float, heading: float, distance: float, left: bool, all_on: bool,
                none_on: bool, crashed: bool, progress: float, steps: float, speed: float, steering: float,
                width: float, prv: int, nxt: int, closest_objects: list[int], objects: Objects, in_camera: bool,
                arc: float, sim_time: float) -> dict[str, Any]:
    """The params dict from its values, in the simulator's key order, with lists of its own (a reward function
    may change them). Every params dict racer_env passes is made here."""
    if objects.things:
        lists = objects.lists() if not objects.one_step else objects.lists_once()
        location, distances, from_centre = lists["objects_location"], lists["objects_distance"], \
            lists["objects_distance_from_center"]
        left_of, headings, speeds = lists["objects_left_of_center"], lists["objects_heading"], lists["objects_speed"]
    else:
        location, distances, from_centre, left_of, headings, speeds = [], [], [], [], [], []
    return {
        "all_wheels_on_track": all_on,
        "x": x,
        "y": y,
        "heading": heading,
        "distance_from_center": distance,
        "is_left_of_center": left,
        "is_offtrack": none_on,
        "is_crashed": crashed,
        "is_reversed": track.is_reversed,
        "progress": progress,
        "steps": float(steps),
        "speed": speed,
        "steering_angle": steering,
        "track_length": track.length,
        "track_width": width,
        "waypoints": list(track.waypoints),
        "closest_waypoints": [prv, nxt],
        "closest_objects": closest_objects,
        "objects_location": location,
        "objects_distance": distances,
        "objects_distance_from_center": from_centre,
        "objects_left_of_center": left_of,
        "objects_heading": headings,
        "objects_speed": speeds,
        "object_in_camera": in_camera,
        "projection_distance": arc,
        "sim_time": sim_time,
    }


def _closest(objects: Objects, arc: float, x: float, y: float, yaw: float) -> tuple[list[int], bool]:
    """``closest_objects`` [previous, next] by distance along the centre line, wrapping round the finish line,
    and ``object_in_camera`` by the simulator's rule or the intended one (objects spec §6.7-6.8)."""
    order, n = objects.order, len(objects.order)
    nxt = bisect.bisect_right(objects.sorted_distance, arc)
    closest = [order[(nxt - 1) % n], order[nxt % n]]
    target = closest[1] if objects.camera == "intended" else closest[1] - 1  # the registry counts the agent
    in_view = target >= 0 and in_camera(*body_origin(x, y, yaw), yaw, objects.things[target])
    return closest, in_view


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
    object_in_camera: str = "simulator",
) -> dict[str, Any]:
    """The params dict DeepRacer would pass for a car whose params point is at (x, y) [m], heading [deg].

    Args:
        track: the track, as driven (``Track.load(..., reverse=True)`` for a reversed lap).
        x: the params point's x, 0.14 m ahead of the body origin [m].
        y: its y [m].
        heading: yaw [deg], 0 along +x, positive counter-clockwise.
        steering_angle: commanded steering [deg], positive left.
        speed: commanded speed [m/s].
        steps: the episode's step counter (the reward function first sees 2.0).
        start_progress: where the episode started, in % of a lap from waypoint 0 (0: the start line).
        prev_progress: the previous step's progress [%], for the finish-line wrap rules; None for none.
        objects: box obstacles' centres [m], facing along the track.
        sim_time: simulation clock [s].
        object_in_camera: ``"simulator"`` (it tests object next - 1, objects spec §6.8) or ``"intended"``.

    Examples:
        >>> t = Track.load("harbour_loop")
        >>> x, y = t.waypoints[0]
        >>> p = params_at(t, x, y, 0.0)
        >>> p["distance_from_center"], p["closest_waypoints"], p["all_wheels_on_track"]
        (0.0, [0, 1], True)
    """
    objs = Objects.place(track, objects, object_in_camera) if objects else NO_OBJECTS
    return compute_params(track, x=float(x), y=float(y), yaw=math.radians(heading), steering_angle=steering_angle,
                          speed=speed, steps=steps, start_progress=start_progress, prev_progress=prev_progress,
                          objects=objs, sim_time=sim_time)


def objects_array(things: Sequence[TrackObject]) -> np.ndarray:
    """Objects as the kernels take them (racer_env.sim.kernels.OBJECT_FIELDS): an (N, 6) float64 array."""
    if not things:
        return np.zeros((0, 6))
    return np.array([(o[0], o[1], o[2], 1.0 if o[3] == "bot" else 0.0, o[4], o[5]) for o in things],
                    dtype=np.float64)
