"""The policy's observation: a small vector a policy learns from quickly.

It is not DeepRacer's camera image: a 2-D simulator has none, and a vector
trains in minutes on a CPU. It holds what a driver needs (all in the car's
frame, x forward and y left, from the params point):

=====  ============================================================  ===========
index  value                                                         bounds
=====  ============================================================  ===========
0-19   10 centre-line points 0.2–3.0 m ahead along the track, (x, y)  [-2, 2]
       each, divided by 3 m
20     signed distance from the centre line / half the track width   [-3, 3]
       (positive: left of the centre line)
21     actual speed / 4 m/s                                          [0, 1.5]
22     the wheels' steering angle now / 30° (positive left)          [-1.5, 1.5]
23-24  the last two steering commands, older first / 30°: where     [-1.5, 1.5]
       the wheels are turning to (they lag the command)
25     the newest speed command / 4 m/s                              [0, 1.5]
=====  ============================================================  ===========

Values are clipped to the bounds. Computing it costs the same on any track:
the centre line is resampled once per track, and a step only indexes it.

**With objects** (object avoidance, head-to-bot) ten values follow, five for each of the two nearest
objects ahead along the track (within 5 m), nearest first:

=====  ============================================================  ===========
index  value                                                         bounds
=====  ============================================================  ===========
26     1 when there is such an object, else 0 (and the rest 0)      [0, 1]
27-28  its centre in the car's frame (x forward, y left) / 3 m        [-2, 2]
29     its offset from the centre line / half the track width       [-3, 3]
       (positive: left of the centre line)
30     its speed along the track / 4 m/s (0 for obstacles)          [0, 1.5]
31-35  the same for the second object
=====  ============================================================  ===========

**LIDAR** (model_metadata ``sensor`` lists ``LIDAR``, ``SECTOR_LIDAR`` or ``DISCRETIZED_SECTOR_LIDAR``): the
simulator's observation of its 64-beam scan follows (:func:`racer_env.sim.sensors.lidar_observation`: 64
ranges in [0.15, 1], 8 sector flags, or ``num_sectors × num_values_per_sector`` one-hot bins), from a scan
refreshed at 10 Hz as the simulator's is. Cameras are not simulated: a metadata file that asks for one
trains on this vector, and says so once.
"""

from __future__ import annotations

import math
import random
import warnings
from typing import Sequence

import numpy as np
from gymnasium import spaces

from racer_env.constants import MAX_SPEED_MPS, MAX_STEERING_DEG
from racer_env.sim.objects import TrackObject
from racer_env.sim.sensors import LIDAR_SENSORS, lidar_observation, lidar_scan, lidar_size
from racer_env.sim.track import Projection, Track
from racer_env.sim.vehicle import Car

__all__ = ["LOOKAHEAD_M", "observation_space", "observe", "OBS_SIZE", "Observer", "OBJECT_SLOTS"]

LOOKAHEAD_M = (0.2, 0.4, 0.6, 0.8, 1.0, 1.3, 1.6, 2.0, 2.5, 3.0)
"""Distances [m] ahead along the centre line of the points the policy sees."""
_SCALE_M = 3.0
_RESAMPLE_M = 0.02  # spacing of the resampled centre line [m]
OBS_SIZE = 2 * len(LOOKAHEAD_M) + 6
_LOW = np.array([-2.0] * (2 * len(LOOKAHEAD_M)) + [-3.0, 0.0, -1.5, -1.5, -1.5, 0.0], dtype=np.float32)
_HIGH = np.array([2.0] * (2 * len(LOOKAHEAD_M)) + [3.0, 1.5, 1.5, 1.5, 1.5, 1.5], dtype=np.float32)


def observation_space() -> spaces.Box:
    """The Box of :func:`observe` (see the module docstring for each entry)."""
    return spaces.Box(_LOW.copy(), _HIGH.copy(), dtype=np.float32)


def _clip(v: float, lo: float, hi: float) -> float:
    return lo if v < lo else (hi if v > hi else v)


def observe(track: Track, car: Car, where: Projection) -> np.ndarray:
    """The observation of ``car``, whose params point projects at ``where`` on the centre line.

    Plain Python over the ten look-ahead points: faster than numpy at this size.
    """
    return np.array(_values(track, car, where), dtype=np.float32)


def _values(track: Track, car: Car, where: Projection) -> list[float]:
    pts = track.resampled(_RESAMPLE_M)
    n = len(pts)
    seg, arc, dist = where.seg, where.arc, where.distance
    closed = track.closed
    x, y = car.x, car.y
    c, s = math.cos(car.yaw) / _SCALE_M, math.sin(car.yaw) / _SCALE_M
    values = []
    for ahead in LOOKAHEAD_M:
        k = int((arc + ahead) / _RESAMPLE_M)
        k = k % n if closed else min(k, n - 1)
        px, py = pts[k]
        rx, ry = px - x, py - y
        u, v = rx * c + ry * s, ry * c - rx * s
        values.append(u if -2.0 <= u <= 2.0 else (-2.0 if u < 0.0 else 2.0))  # clipped to [-2, 2], inline: hot
        values.append(v if -2.0 <= v <= 2.0 else (-2.0 if v < 0.0 else 2.0))
    cd = track.center
    side = cd.dx[seg] * (y - cd.ay[seg]) - cd.dy[seg] * (x - cd.ax[seg])
    older, newer = car.recent_steering
    half_width = 0.5 * track.vertex_widths[seg]
    values += (
        _clip((dist if side >= 0 else -dist) / half_width, -3.0, 3.0),
        _clip(car.speed / MAX_SPEED_MPS, 0.0, 1.5),
        _clip(car.wheel_angle / MAX_STEERING_DEG, -1.5, 1.5),
        _clip(older / MAX_STEERING_DEG, -1.5, 1.5),
        _clip(newer / MAX_STEERING_DEG, -1.5, 1.5),
        _clip(car.last_speed_command / MAX_SPEED_MPS, 0.0, 1.5),
    )
    return values


OBJECT_SLOTS = 2
"""Objects ahead the observation describes."""
_OBJECT_RANGE_M = 5.0
_OBJ_LOW = [0.0, -2.0, -2.0, -3.0, 0.0]
_OBJ_HIGH = [1.0, 2.0, 2.0, 3.0, 1.5]
_LIDAR_PERIOD_S = 0.1  # the scan's update rate, 10 Hz: objects spec §7.2
_CAMERAS = ("FRONT_FACING_CAMERA", "STEREO_CAMERAS", "LEFT_CAMERA", "observation")
_said_cameras = False


class Observer:
    """The observation for a race and a model_metadata's sensors: the default vector, the objects ahead when
    the race has objects, and a LIDAR observation when ``sensors`` asks for one (module docstring).

    Args:
        objects: the race has obstacles or bot cars.
        sensors: model_metadata's ``sensor`` list.
        lidar_config: model_metadata's ``lidar_config`` (DISCRETIZED_SECTOR_LIDAR).
        bot_speed: the bot cars' speed [m/s].
    """

    def __init__(self, objects: bool = False, sensors: Sequence[str] = (), lidar_config: dict | None = None,
                 bot_speed: float = 0.0):
        global _said_cameras
        self.objects, self.bot_speed, self.lidar_config = objects, bot_speed, lidar_config
        lidars = [s for s in sensors if s in LIDAR_SENSORS]
        self.lidar = lidars[0] if lidars else None
        cameras = [s for s in sensors if s in _CAMERAS and s != "FRONT_FACING_CAMERA"]
        if cameras and not _said_cameras:
            _said_cameras = True
            warnings.warn(f"model_metadata sensor {cameras[0]}: racer_env has no cameras; the policy sees its "
                          f"vector observation instead (racer_env.env.observations)", stacklevel=2)
        low, high = list(_LOW), list(_HIGH)
        if objects:
            low += _OBJ_LOW * OBJECT_SLOTS
            high += _OBJ_HIGH * OBJECT_SLOTS
        if self.lidar:
            n = lidar_size(self.lidar, lidar_config)
            low += [0.15 if self.lidar == "LIDAR" else 0.0] * n
            high += [1.0] * n
        self.space = spaces.Box(np.array(low, dtype=np.float32), np.array(high, dtype=np.float32), dtype=np.float32)
        self.rng = random.Random()
        self._scan: np.ndarray | None = None
        self._scan_time = -1.0

    def reset(self, seed: int | None = None) -> None:
        if seed is not None:
            self.rng.seed(seed)
        self._scan, self._scan_time = None, -1.0

    def __call__(self, track: Track, car: Car, where: Projection, things: Sequence[TrackObject] = (),
                 sim_time: float = 0.0) -> np.ndarray:
        values = _values(track, car, where)
        if self.objects:
            values += self._ahead(track, car, where, things)
        if not self.lidar:
            return np.array(values, dtype=np.float32)
        parts = [np.array(values, dtype=np.float32)]
        if self.lidar:
            if self._scan is None or sim_time - self._scan_time >= _LIDAR_PERIOD_S - 1e-9:
                self._scan = lidar_scan(car.bx, car.by, car.yaw, things, self.rng)
                self._scan_time = sim_time
            parts.append(lidar_observation(self.lidar, self._scan, self.lidar_config))
        return np.concatenate(parts)

    def _ahead(self, track: Track, car: Car, where: Projection, things: Sequence[TrackObject]) -> list[float]:
        length, arc = track.length, where.arc
        first = second = None  # the two nearest ahead: (gap, object)
        for o in things:
            gap = (o[4] - arc) % length  # o.distance
            if gap > _OBJECT_RANGE_M:
                continue
            if first is None or gap < first[0]:
                first, second = (gap, o), first
            elif second is None or gap < second[0]:
                second = (gap, o)
        values: list[float] = []
        if first is None:
            return [0.0] * (5 * OBJECT_SLOTS)
        c, s = math.cos(car.yaw), math.sin(car.yaw)
        half = 0.5 * track.vertex_widths[where.seg]
        ccw = 1.0 if track.is_ccw else -1.0
        bot = _clip(self.bot_speed / MAX_SPEED_MPS, 0.0, 1.5)
        for slot in (first, second)[:OBJECT_SLOTS]:
            if slot is None:
                values += (0.0, 0.0, 0.0, 0.0, 0.0)
                continue
            o = slot[1]
            rx, ry = o.x - car.x, o.y - car.y
            values += (1.0, _clip((rx * c + ry * s) / 3.0, -2.0, 2.0), _clip((ry * c - rx * s) / 3.0, -2.0, 2.0),
                       _clip(ccw * o.offset / half, -3.0, 3.0), bot if o.kind == "bot" else 0.0)
        return values
