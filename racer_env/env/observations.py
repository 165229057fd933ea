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
"""

from __future__ import annotations

import math

import numpy as np
from gymnasium import spaces

from racer_env.constants import MAX_SPEED_MPS, MAX_STEERING_DEG
from racer_env.sim.track import Projection, Track
from racer_env.sim.vehicle import Car

__all__ = ["LOOKAHEAD_M", "observation_space", "observe", "OBS_SIZE"]

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
    return np.array(values, dtype=np.float32)
