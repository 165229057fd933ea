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

import math
from typing import Any, Sequence

import numpy as np

from racer_env.constants import FIRST_REWARD_STEP, PARAMS_POINT_X_M
from racer_env.sim.objects import TrackObject, array_of as objects_array, object_at
from racer_env.sim.track import Projection, Track

__all__ = ["params_at", "compute_params", "params_dict", "progress_from", "Objects", "NO_OBJECTS", "counted_crash",
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
        one_step: made for one step's params (a bot race's): they may take its lists rather than copies.
        array: ``things`` as an objects array (racer_env.sim.kernels.OBJECT_FIELDS), when the caller has it.
    """

    __slots__ = ("things", "bots", "bot_speed", "camera", "location", "distance", "distance_from_center",
                 "left_of_center", "heading", "speed", "order", "sorted_distance", "_length", "_hit", "one_step",
                 "_arrays", "_view")

    def __init__(self, track: Track | None = None, things: Sequence[TrackObject] = (), bots: bool = False,
                 bot_speed: float = 0.0, camera: str = "simulator", one_step: bool = False,
                 array: np.ndarray | None = None):
        self.things = tuple(things)
        self.bots, self.bot_speed, self.camera = bots, bot_speed, camera
        self.one_step = one_step
        """Made for one step's params (a bot race's): they may take its lists rather than copies."""
        ccw = track.is_ccw if track is not None else True
        self._hit: tuple[float, float, float, int] | None = None
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
        self.speed = [float(bot_speed) if bots else 0.0] * len(self.things)
        self.order = sorted(range(len(self.things)), key=self.distance.__getitem__)
        self.sorted_distance = [self.distance[i] for i in self.order]
        self._arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        if array is not None:  # the things as the kernels take them, made already
            self._arrays = (array, np.array(self.order, dtype=np.int64), np.array(self.sorted_distance))
        self._view: tuple[float, float, float, float, float, tuple] | None = None

    @property
    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What the kernels take: the objects array (racer_env.sim.kernels.OBJECT_FIELDS), the order that sorts
        the objects by distance, and their sorted distances [m]."""
        if self._arrays is None:
            self._arrays = (objects_array(self.things), np.array(self.order, dtype=np.int64),
                            np.array(self.sorted_distance, dtype=np.float64))
        return self._arrays

    def view(self, x: float, y: float, yaw: float, arc: float, agent_pct: float) -> tuple:
        """What a car (params point (x, y) [m], ``yaw`` [rad], ``arc`` [m] along the centre line, ``agent_pct`` [%]
        of the lap from waypoint 0) sees of the objects: (the object it touches or -1, whether that is a
        crash that counts, ``closest_objects`` [previous, next], ``object_in_camera``); objects spec
        §4.1-4.2, §6.7-6.8 (:func:`racer_env.sim.kernels.object_params`). Computed once per pose."""
        key = (x, y, yaw, arc, agent_pct)
        if self._view is not None and self._view[:5] == key:
            return self._view[5]
        import racer_env.sim.kernels as kernels

        out = np.empty(5)
        objs, order, sorted_distance = self.arrays
        kernels.object_params(objs, order, sorted_distance, x, y, yaw, arc, agent_pct, self._length,
                              self.camera == "intended", out)
        return self.remember(x, y, yaw, arc, agent_pct, out.tolist())

    def remember(self, x: float, y: float, yaw: float, arc: float, agent_pct: float, row: Sequence[float]) -> tuple:
        """:meth:`view`'s answer for that pose, from ``row``: its first five values are those of
        :func:`racer_env.sim.kernels.object_params` (a fleet computes every car's at once, from :attr:`arrays`).
        Kept, as :meth:`view` keeps its own, and returned as :meth:`view` returns it."""
        hit, crashed, prv, nxt, seen = row[:5]
        result = (int(hit), crashed == 1.0, [int(prv), int(nxt)], seen == 1.0)
        self._view = (x, y, yaw, arc, agent_pct, result)
        self._hit = (x, y, yaw, int(hit))
        return result

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
        """The first object a car (params point (x, y) [m], ``yaw`` [rad]) touches, or -1 (objects spec §4.1;
        :func:`racer_env.sim.kernels.touching`). Computed once per pose: the params and the bot cars'
        rear-end check ask the same question."""
        if self._hit is not None and self._hit[:3] == (x, y, yaw):
            return self._hit[3]
        import racer_env.sim.kernels as kernels

        hit = int(kernels.touching(self.arrays[0], x, y, yaw)) if self.things else -1
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




def counted_crash(x: float, y: float, yaw: float, objects: Objects, agent_pct: float) -> tuple[int, bool]:
    """The object the car touches (-1: none) and whether the crash counts (objects spec §4.1-4.2): one of the
    car's four footprint corners strictly inside an object's crash rectangle; an obstacle always counts, a
    bot car only when the car is behind it (``agent_pct``, its share of the lap from waypoint 0, below the
    bot's; the comparison does not wrap, as in the simulator)."""
    if not objects.things:
        return -1, False
    hit, counted, _, _ = objects.view(x, y, yaw, 0.0, agent_pct)
    return hit, counted


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
        _, counted, closest_objects, in_camera = objects.view(float(x), float(y), float(yaw), float(where.arc),
                                                              (progress + start_progress) % 100.0)
        crashed = counted if crashed_now is None else crashed_now
    on = wheels.tolist()
    return params_dict(track, x, y, heading, where.distance, left, all(on), not any(on), crashed, progress, steps,
                       float(speed), float(steering_angle), width, prv, nxt, closest_objects, objects, in_camera,
                       where.arc, float(sim_time))


_KEY_ORDER = ("all_wheels_on_track", "x", "y", "heading", "distance_from_center", "is_left_of_center",
              "is_offtrack", "is_crashed", "is_reversed", "progress", "steps", "speed", "steering_angle",
              "track_length", "track_width", "waypoints", "closest_waypoints", "closest_objects",
              "objects_location", "objects_distance", "objects_distance_from_center", "objects_left_of_center",
              "objects_heading", "objects_speed", "object_in_camera", "projection_distance", "sim_time")
assert sorted(_KEY_ORDER) == sorted(PARAM_KEYS)
_TEMPLATE: dict[str, Any] = dict.fromkeys(_KEY_ORDER)
# A step's params dict is a copy of this one, its values then set key by key: copying a dict that has the keys
# already, in their order, and replacing its values costs about half what building the 27-key literal does
# (measured: 1.6 us against 2.9 us), and a params dict is made on every step of every car.


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
    d = _TEMPLATE.copy()  # the keys in the simulator's order (_TEMPLATE)
    d["all_wheels_on_track"] = all_on
    d["x"] = x
    d["y"] = y
    d["heading"] = heading
    d["distance_from_center"] = distance
    d["is_left_of_center"] = left
    d["is_offtrack"] = none_on
    d["is_crashed"] = crashed
    d["is_reversed"] = track.is_reversed
    d["progress"] = progress
    d["steps"] = float(steps)
    d["speed"] = speed
    d["steering_angle"] = steering
    d["track_length"] = track.length
    d["track_width"] = width
    d["waypoints"] = list(track.waypoints)
    d["closest_waypoints"] = [prv, nxt]
    d["closest_objects"] = closest_objects
    d["objects_location"] = location
    d["objects_distance"] = distances
    d["objects_distance_from_center"] = from_centre
    d["objects_left_of_center"] = left_of
    d["objects_heading"] = headings
    d["objects_speed"] = speeds
    d["object_in_camera"] = in_camera
    d["projection_distance"] = arc
    d["sim_time"] = sim_time
    return d


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
