"""Objects on the track: the two lanes, where obstacles and bot cars go, how bot cars drive a lane or change
lanes, and the crash test (objects spec §2-§4; "objects spec" is ``../shared/deepracer-objects-spec.md``).

Pure geometry, in metres and radians. Who moves when, and what a crash costs, is the race's business
(:mod:`racer_env.env.race`).

* **Lanes** are the pointwise midpoints of the centre line and each border (§2.4): about a quarter of the
  track's width from the centre. "Inner" and "outer" are geometric, so the inner lane is on the driver's left
  on a counter-clockwise lap.
* A **distance** is measured along the centre line from waypoint 0 of the direction driven (what the params
  call ``objects_distance``).
* :class:`Lanes` tabulates each lane every centimetre of distance, from the periodic cubic spline the simulator
  fits through the lane points (§3.1), so a bot car's pose, distance and side cost a table look-up per step.
"""

from __future__ import annotations

import math
import random
from typing import NamedTuple, Sequence

import numpy as np

from racer_env.constants import (
    BOT_LENGTH_M,
    BOT_WIDTH_M,
    BOX_BODY_LENGTH_M,
    BOX_BODY_WIDTH_M,
    BOX_CRASH_LENGTH_M,
    BOX_CRASH_WIDTH_M,
    OBSTACLE_END_GAP_M,
)
from racer_env.sim.track import Track

__all__ = ["TrackObject", "Lanes", "KINDS", "crash_size", "body_size", "generated_layout", "fixed_layout",
           "contact", "smoothstep", "object_at", "objects_of", "array_of", "inner_side", "arc_gap"]

KINDS = ("box", "parked", "bot")
"""A box obstacle, a bot-car model parked as an obstacle (IS_OBSTACLE_BOT_CAR), a moving bot car."""

_TABLE_STEP_M = 0.01  # spacing of the lane tables [m]


def crash_size(kind: str) -> tuple[float, float]:
    """(length along the object, width across) [m] of the rectangle the crash test uses (§2.4, §3.4)."""
    return (BOX_CRASH_LENGTH_M, BOX_CRASH_WIDTH_M) if kind == "box" else (BOT_LENGTH_M, BOT_WIDTH_M)


def body_size(kind: str) -> tuple[float, float]:
    """(length, width) [m] of the object's body: what LIDAR sees and what is drawn."""
    return (BOX_BODY_LENGTH_M, BOX_BODY_WIDTH_M) if kind == "box" else (BOT_LENGTH_M, BOT_WIDTH_M)


class TrackObject(NamedTuple):
    """An obstacle or a bot car at one moment."""

    x: float
    """Centre [m] (a box's centre, a bot car's origin)."""
    y: float
    yaw: float
    """Heading [rad], along its lane."""
    kind: str
    """One of :data:`KINDS`."""
    distance: float
    """Along the centre line from waypoint 0 [m]: ``objects_distance``."""
    offset: float
    """Signed distance from the centre line [m], positive on the inner side; its size is
    ``objects_distance_from_center``."""


_new = tuple.__new__  # a NamedTuple built without its keyword-checking __new__: twice as fast


def smoothstep(u: float) -> float:
    """0 below 0, 1 above 1, and a smooth S between (zero slope at both ends).

    >>> smoothstep(-1.0), smoothstep(0.5), smoothstep(2.0)
    (0.0, 0.5, 1.0)
    """
    if u <= 0.0:
        return 0.0
    if u >= 1.0:
        return 1.0
    return u * u * (3.0 - 2.0 * u)


class Lanes:
    """The inner and outer lanes of a track, as driven, tabulated by distance along the centre line.

    ``lane`` 0 is the inner lane, 1 the outer one.

    Examples:
        >>> t = Track.load("harbour_loop")
        >>> lanes = Lanes(t)
        >>> x, y, yaw, distance, offset = lanes.at(5.0, 0)
        >>> round(distance, 2), round(offset / t.vertex_widths[0], 2)
        (5.0, 0.25)
    """

    @classmethod
    def of(cls, track: Track) -> "Lanes":
        """The lanes of ``track``, made once in a process for every race on it (their tables take a while)."""
        lanes = _LANES.get(track)
        if lanes is None:
            lanes = _LANES[track] = cls(track)
            while len(_LANES) > 8:
                _LANES.pop(next(iter(_LANES)))
        return lanes

    def __init__(self, track: Track):
        self.track = track
        self.length = track.length
        rows = track.rows
        centre = rows[:, 0:2]
        self.points = (np.ascontiguousarray((centre + rows[:, 2:4]) / 2), np.ascontiguousarray((centre + rows[:, 4:6]) / 2))
        self._tables: list[list[tuple[float, float, float, float, float]]] = []  # made on a bot car's first step
        self._table = np.zeros((2, 0, 5))

    # ------------------------------------------------------------------ placing
    def place(self, distance: float, lane: int) -> tuple[float, float, float]:
        """Where an obstacle at ``distance`` [m] in ``lane`` stands (§2.4): the centre-line point at that
        distance projected onto the lane polyline; its heading is that lane segment's direction.
        Returns (x, y, yaw [rad])."""
        import racer_env.sim.kernels as kernels

        cx, cy, seg = self.track.point_at(distance % self.length)
        return kernels.lane_place(self.points[lane], cx, cy, seg, self.track.closed)

    def obstacle(self, distance: float, lane: int, kind: str) -> TrackObject:
        """A static obstacle at ``distance`` [m] in ``lane``, with its distance and side measured as the
        params measure them (§6.2-6.4)."""
        return self.obstacles([distance], [lane], kind)[0]

    def obstacles(self, distances: Sequence[float], lanes: Sequence[int], kind: str) -> list[TrackObject]:
        """:meth:`obstacle` for many at once (:func:`racer_env.sim.kernels.place_obstacles`)."""
        import racer_env.sim.kernels as kernels

        out = np.empty((len(distances), 6))
        kernels.place_obstacles(*self.track.kernel, self.points[0], self.points[1],
                                np.asarray(distances, dtype=np.float64), np.asarray(lanes, dtype=np.int64),
                                kernels.KIND_CODES[kind], out)
        return objects_of(out, kind)


    # ------------------------------------------------------------------ driving
    def _tabulate(self, lane: int) -> list[tuple[float, float, float, float, float]]:
        """x, y, yaw, distance and signed offset of the lane every 1 cm of centre-line distance, from a cubic
        spline through the lane points parameterised by their projection on the centre line (§3.1)."""
        from scipy.interpolate import CubicSpline

        track, length = self.track, self.length
        pts = self.points[lane]
        params = [track.project(float(x), float(y)).arc for x, y in pts]
        u, keep = [0.0], [0]
        for j in range(1, len(pts) - 1):
            s = params[j]
            if u[-1] - s > length / 2:  # just past waypoint 0 projected near the end: unwrap
                s += length
            if s > u[-1] + 1e-6 and s < length:
                u.append(s)
                keep.append(j)
        closed = track.closed
        u.append(length if closed else max(params[-1], u[-1] + 1e-3))
        keep.append(len(pts) - 1)
        xy = pts[keep]
        if closed:
            xy[-1] = xy[0]
        spline = CubicSpline(np.array(u), xy, bc_type="periodic" if closed else "natural")
        grid = np.arange(0.0, length + _TABLE_STEP_M, _TABLE_STEP_M)
        p, dp = spline(grid), spline(grid, 1)
        xs, ys = p[:, 0].tolist(), p[:, 1].tolist()
        yaws = np.arctan2(dp[:, 1], dp[:, 0]).tolist()
        dist, off, hint = [], [], -1
        for x, y in zip(xs, ys):
            where = track.project(x, y, hint)
            hint = where.seg
            dist.append(where.arc)
            off.append(where.distance if inner_side(track, x, y, where.seg) else -where.distance)
        return list(zip(xs, ys, yaws, dist, off))

    @property
    def table(self) -> np.ndarray:
        """Both lanes tabulated every centimetre of distance: (2, rows, 5) of x, y, yaw, distance, signed
        offset (made on a bot car's first step)."""
        if not self._tables:
            self._tables = [self._tabulate(0), self._tabulate(1)]
            self._table = np.array(self._tables, dtype=np.float64)
        return self._table

    def at(self, distance: float, lane: int) -> tuple[float, float, float, float, float]:
        """A bot car's (x, y, yaw, distance, signed offset) at centre-line ``distance`` [m] in ``lane``
        (:func:`racer_env.sim.kernels.lane_at`)."""
        import racer_env.sim.kernels as kernels

        return kernels.lane_at(self.table, int(lane), float(distance), self.length, _TABLE_STEP_M)

    def poses(self, starts: Sequence[float], lanes: Sequence[int], change_at: Sequence[float], run_time: float,
              speed: float, changes: bool, change_length: float) -> list[TrackObject]:
        """Every bot car after ``run_time`` [s] at ``speed`` [m/s] from its start distance [m] in its lane, those
        whose lane change began at ``change_at`` [s] on the S-curve to the other lane over ``change_length``
        [m] (§3.3, a smoothstep blend of the two lanes; :func:`racer_env.sim.kernels.bot_poses`)."""
        return objects_of(self.poses_array(starts, lanes, change_at, run_time, speed, changes, change_length), "bot")

    def poses_array(self, starts: Sequence[float] | np.ndarray, lanes: Sequence[float] | np.ndarray,
                    change_at: Sequence[float] | np.ndarray, run_time: float, speed: float, changes: bool,
                    change_length: float) -> np.ndarray:
        """:meth:`poses` as an objects array (racer_env.sim.kernels.OBJECT_FIELDS)."""
        import racer_env.sim.kernels as kernels

        out = np.empty((len(starts), 6))
        kernels.bot_poses(self.table, self.length, _TABLE_STEP_M, np.asarray(starts, dtype=np.float64),
                          np.asarray(lanes, dtype=np.float64), np.asarray(change_at, dtype=np.float64), float(run_time),
                          float(speed), bool(changes), float(change_length), out)
        return out

    def changing(self, distance: float, start: float, length_m: float, lane_from: int) -> TrackObject:
        """A bot car changing lanes: at ``distance`` [m], on an S-curve from ``lane_from`` to the other lane
        that starts at ``start`` [m] and takes ``length_m`` [m] of centre-line distance (§3.3)."""
        speed = 1.0  # distance = start + speed * t, with the change begun at 0 s
        return self.poses([start], [lane_from], [0.0], distance - start, speed, True, length_m)[0]

    def bot(self, distance: float, lane: int) -> TrackObject:
        """A bot car driving ``lane`` at ``distance`` [m]."""
        return self.poses([distance], [lane], [math.inf], 0.0, 0.0, False, 1.0)[0]


_LANES: dict[Track, Lanes] = {}


def objects_of(array: np.ndarray, kind: str) -> list[TrackObject]:
    """TrackObjects of ``kind`` from an objects array's rows (x, y, yaw, bot flag, distance, offset)."""
    return [_new(TrackObject, (x, y, yaw, kind, d, off)) for x, y, yaw, _, d, off in array.tolist()]


def inner_side(track: Track, x: float, y: float, seg: int) -> bool:
    """Is (x, y) [m] on the inner side of the centre line (segment ``seg``)? Exactly on it is not (§6.4)."""
    c = track.center
    side = c.dx[seg] * (y - c.ay[seg]) - c.dy[seg] * (x - c.ax[seg])  # > 0: left of the centre line
    return side > 0 if track.is_ccw else side < 0


def object_at(track: Track, x: float, y: float, kind: str = "box") -> TrackObject:
    """An obstacle placed by hand with its centre at (x, y) [m], facing along the track there."""
    where = track.project(x, y)
    inner = inner_side(track, x, y, where.seg)
    return TrackObject(x, y, track.heading_at(where.seg), kind, where.arc, where.distance if inner else -where.distance)


def generated_layout(length: float, count: int, gap: float, rng: random.Random | None) -> list[tuple[float, int]]:
    """(distance [m], lane) of ``count`` generated obstacles or bot cars (objects spec §2.2, §3.2).

    Evenly spaced from ``gap`` to 1 m before waypoint 0; lanes alternate, inner first. With ``rng`` (the
    randomised layout), each is redrawn in a random order between its neighbours' current distances ± ``gap``
    (the first no nearer than ``gap``, the last no further than L - 1 m), and each gets a random lane.

    >>> [(round(d, 3), lane) for d, lane in generated_layout(17.70916, 3, 2.0, None)]
    [(2.0, 0), (9.355, 1), (16.709, 0)]
    """
    if count <= 0:
        return []
    end = length - OBSTACLE_END_GAP_M
    dist = [gap] if count == 1 else [gap + (end - gap) * i / (count - 1) for i in range(count)]
    if rng is None:
        return [(d, i % 2) for i, d in enumerate(dist)]
    for i in rng.sample(range(count), count):
        lo = gap if i == 0 else dist[i - 1] + gap
        hi = end if i == count - 1 else dist[i + 1] - gap
        if lo <= hi:
            dist[i] = rng.uniform(lo, hi)
    return [(d, rng.randrange(2)) for d in dist]


def fixed_layout(length: float, positions: Sequence[str]) -> list[tuple[float, int]]:
    """(distance [m], lane) of OBJECT_POSITIONS entries ``"<fraction of a lap>,<lane>"``: lane -1 is the outer
    lane, any other integer the inner one (§2.1).

    >>> fixed_layout(20.0, ["0.25,1", "0.5, -1"])
    [(5.0, 0), (10.0, 1)]

    Raises:
        ValueError: an entry that is not two numbers; the message shows it.
    """
    out = []
    for entry in positions:
        parts = str(entry).split(",")
        try:
            fraction, lane = float(parts[0]), int(float(parts[1]))
        except (ValueError, IndexError):
            raise ValueError(f"expected '<fraction of a lap>,<lane 1 or -1>', got {entry!r}") from None
        out.append((fraction * length, 1 if lane == -1 else 0))
    return out


def contact(objects: Sequence[TrackObject], bx: float, by: float, yaw: float) -> int:
    """The first object (in the order given) with one of the crash footprint's corners of a car whose body
    origin is (bx, by) [m] with ``yaw`` [rad] strictly inside its crash rectangle, or -1 (§4.1;
    :func:`racer_env.sim.kernels.contact`). A corner of the object inside the car, or edges that cross with no
    corner inside, are not seen, as in the simulator."""
    import racer_env.sim.kernels as kernels

    return int(kernels.contact(array_of(objects), float(bx), float(by), float(yaw)))


def array_of(objects: Sequence[TrackObject]) -> np.ndarray:
    """Objects as the kernels take them (racer_env.sim.kernels.OBJECT_FIELDS): an (N, 6) float64 array."""
    from racer_env.sim.kernels import KIND_CODES

    if not objects:
        return np.zeros((0, 6))
    return np.array([(o[0], o[1], o[2], KIND_CODES[o[3]], o[4], o[5]) for o in objects], dtype=np.float64)


def arc_gap(a: float, b: float, length: float) -> float:
    """|a - b| mod L [m]: the simulator's "is an object at this spot" measure, with no proper wrap-around
    (objects spec §4.3, §5)."""
    return abs(a - b) % length
