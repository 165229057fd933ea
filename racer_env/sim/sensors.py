"""What the car's sensors see of the objects on the track: the camera's frustum (for ``object_in_camera``) and
the LIDAR with the simulator's three observations of it (objects spec §6.8, §7).

Pure functions, in metres and radians. Car poses are given by the car's *origin* (``base_link``, the body
origin) and yaw; object footprints by :class:`racer_env.sim.objects.TrackObject`.
"""

from __future__ import annotations

import math
import random
from typing import Sequence

import numpy as np

from racer_env.constants import (
    DISCRETIZED_LIDAR_DEFAULTS,
    LIDAR_BEAMS,
    LIDAR_CLIP_M,
    LIDAR_HALF_SPAN_RAD,
    LIDAR_MAX_M,
    LIDAR_MIN_M,
    LIDAR_NOISE_M,
    LIDAR_X_M,
    SECTOR_LIDAR_CLIP_M,
    SECTOR_LIDAR_SECTORS,
)
from racer_env.sim.objects import TrackObject, array_of, body_size

__all__ = ["in_camera", "beam_angles", "lidar_scan", "lidar_observation", "LIDAR_SENSORS", "lidar_size"]

LIDAR_SENSORS = ("LIDAR", "SECTOR_LIDAR", "DISCRETIZED_SECTOR_LIDAR")



def in_camera(bx: float, by: float, yaw: float, obj: TrackObject) -> bool:
    """Whether the camera of a car with origin (bx, by) [m] and ``yaw`` [rad] sees ``obj``: any corner of its
    footprint, or its centre, at the object's height (0.1 m for boxes, 0 for cars), strictly inside all six
    planes of the frustum (objects spec §6.8; :func:`racer_env.sim.kernels.in_camera`). Ground points are seen
    from about 0.32 m ahead of the origin.

    >>> from racer_env.sim.objects import TrackObject
    >>> box = lambda x, y: TrackObject(x, y, 0.0, "box", 0.0, 0.0)
    >>> in_camera(0.0, 0.0, 0.0, box(2.0, 0.0)), in_camera(0.0, 0.0, 0.0, box(-2.0, 0.0))
    (True, False)
    """
    import racer_env.sim.kernels as kernels

    return bool(kernels.in_camera(array_of([obj]), 0, float(bx), float(by), float(yaw)))


def beam_angles() -> np.ndarray:
    """The 64 beams' directions in the car frame [rad], counter-clockwise from straight ahead: the sensor
    faces backwards and spans ±150°, so beam 0 points 30° left of ahead and beam 63 30° right; the ±30° cone
    ahead is not scanned (objects spec §7.2)."""
    sensor = np.linspace(-LIDAR_HALF_SPAN_RAD, LIDAR_HALF_SPAN_RAD, LIDAR_BEAMS)
    return math.pi + sensor


_BEAMS = beam_angles()


def lidar_scan(bx: float, by: float, yaw: float, objects: Sequence[TrackObject],
               rng: random.Random | np.random.Generator | None = None) -> np.ndarray:
    """The 64 ranges [m] of the LIDAR of a car with origin (bx, by) [m] and ``yaw`` [rad]: each beam's first hit
    on an object's body between 0.15 and 12 m, +inf when there is none (the track is flat, with no walls),
    plus Gaussian noise of 1 cm and rounded to the centimetre when ``rng`` is given (objects spec §7.2).

    >>> from racer_env.sim.objects import TrackObject
    >>> scan = lidar_scan(0.0, 0.0, 0.0, [TrackObject(-1.0, 0.0, 0.0, "box", 0.0, 0.0)])
    >>> round(float(scan.min()), 3), int(np.isinf(scan).sum())
    (0.83, 60)
    """
    ox, oy = bx + LIDAR_X_M * math.cos(yaw), by + LIDAR_X_M * math.sin(yaw)
    ranges = np.full(LIDAR_BEAMS, np.inf)
    near = [o for o in objects if math.hypot(o.x - ox, o.y - oy) < LIDAR_MAX_M + 0.5]
    if near:
        ang = yaw + _BEAMS
        dx, dy = np.cos(ang)[:, None], np.sin(ang)[:, None]  # (64, 1)
        ax, ay, ex, ey = [], [], [], []  # edges: start and direction
        for o in near:
            length, width = body_size(o.kind)
            c, s = math.cos(o.yaw), math.sin(o.yaw)
            pts = [(o.x + u * c - v * s, o.y + u * s + v * c) for u, v in
                   ((length / 2, width / 2), (-length / 2, width / 2), (-length / 2, -width / 2),
                    (length / 2, -width / 2))]
            for k in range(4):
                (x1, y1), (x2, y2) = pts[k], pts[(k + 1) % 4]
                ax.append(x1 - ox)
                ay.append(y1 - oy)
                ex.append(x2 - x1)
                ey.append(y2 - y1)
        a_x, a_y, e_x, e_y = (np.array(v)[None, :] for v in (ax, ay, ex, ey))
        den = dx * e_y - dy * e_x  # (64, edges)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (a_x * e_y - a_y * e_x) / den  # along the beam
            u = (a_x * dy - a_y * dx) / den  # along the edge
        hit = (np.abs(den) > 1e-12) & (u >= 0.0) & (u <= 1.0) & (t >= LIDAR_MIN_M) & (t <= LIDAR_MAX_M)
        ranges = np.where(hit, t, np.inf).min(axis=1)
    if rng is not None:
        finite = np.isfinite(ranges)
        noise = np.array([rng.gauss(0.0, LIDAR_NOISE_M) for _ in range(LIDAR_BEAMS)]) \
            if isinstance(rng, random.Random) else rng.normal(0.0, LIDAR_NOISE_M, LIDAR_BEAMS)
        ranges = np.where(finite, np.round(ranges + noise, 2), np.inf)
    return ranges


def lidar_size(sensor: str, config: dict | None = None) -> int:
    """The length of a LIDAR observation."""
    if sensor == "LIDAR":
        return LIDAR_BEAMS
    if sensor == "SECTOR_LIDAR":
        return SECTOR_LIDAR_SECTORS
    sectors, values, _ = _discretized_config(config)
    return sectors * values


def _discretized_config(config: dict | None) -> tuple[int, int, float]:
    sectors, values, clip = DISCRETIZED_LIDAR_DEFAULTS
    config = config or {}
    sectors = int(config.get("num_sectors", sectors))
    values = int(config.get("num_values_per_sector", values))
    clip = min(max(float(config.get("clipping_dist", clip)), LIDAR_MIN_M), LIDAR_MAX_M)
    return sectors, values, clip


def lidar_observation(sensor: str, ranges: np.ndarray, config: dict | None = None) -> np.ndarray:
    """The simulator's observation of a scan (objects spec §7.3).

    * ``LIDAR``: the 64 ranges clipped to [0.15, 1.0] m (beyond 1 m, and no return, read 1.0);
    * ``SECTOR_LIDAR``: 8 sectors of 8 beams, 1.0 where something is nearer than 0.5 m, else 0.0;
    * ``DISCRETIZED_SECTOR_LIDAR``: per sector (``num_sectors``, dividing 64) the nearest range binned into
      ``num_values_per_sector`` steps of ``clipping_dist`` / n, one-hot, nearest bin first; all zeros when
      nothing is within ``clipping_dist`` (``lidar_config`` of model_metadata; defaults 8, 8, 2.0 m).

    >>> ranges = np.full(64, np.inf); ranges[0] = 0.3
    >>> lidar_observation("SECTOR_LIDAR", ranges).tolist()
    [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    >>> lidar_observation("DISCRETIZED_SECTOR_LIDAR", ranges)[:8].tolist()
    [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    """
    if sensor == "LIDAR":
        return np.clip(ranges, LIDAR_MIN_M, LIDAR_CLIP_M).astype(np.float32)
    if sensor == "SECTOR_LIDAR":
        near = np.where(np.isinf(ranges), SECTOR_LIDAR_CLIP_M, ranges).reshape(SECTOR_LIDAR_SECTORS, -1).min(axis=1)
        return (np.minimum(near, SECTOR_LIDAR_CLIP_M) < SECTOR_LIDAR_CLIP_M).astype(np.float32)
    if sensor == "DISCRETIZED_SECTOR_LIDAR":
        sectors, values, clip = _discretized_config(config)
        near = np.where(np.isinf(ranges), clip, ranges).reshape(sectors, -1).min(axis=1)
        bins = np.floor(np.minimum(near, clip) / (clip / values)).astype(int)
        out = np.zeros((sectors, values + 1), dtype=np.float32)
        out[np.arange(sectors), np.minimum(bins, values)] = 1.0
        return out[:, :values].reshape(-1)
    raise ValueError(f"sensor: expected one of {', '.join(LIDAR_SENSORS)}, got {sensor!r}")
