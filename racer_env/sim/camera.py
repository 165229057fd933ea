"""The DeepRacer car's front camera: what the simulator's network sees, rendered from the track's scenery.

The simulator's camera ([SIM] ``urdf/deepracer/racecar.gazebo``, ``deepracer_single_cam.urdf``; constants in
:mod:`racer_env.constants`) is a 640 x 480 pinhole camera with a horizontal field of view of 1.13 rad, 15 frames
a second, mounted 0.145 m ahead of the car's origin and 0.130 m above the ground, pitched 15° down. The sensor
resizes each frame to 160 x 120 (PIL, bilinear: ``sensors_rollout.py``), and the network's input filter turns it
grey ([SIM] ``sagemaker_graph_manager.py``; :func:`racer_env.sim.scenery.luma`).

:class:`Camera` renders that 160 x 120 frame directly. Each pixel's ray is fixed in the car's frame, so where
it meets the ground, and how much ground it covers, are computed once; a frame then moves those ground points to
the car's pose with one small matrix product and reads the track's texture (:mod:`racer_env.sim.scenery`) at
the mip level that matches each pixel's footprint, which stands in for the resize's smoothing. Above the
horizon a pixel sees the wall round the field where the wall is near enough, else the background. Obstacles
and bot cars in view are drawn over the ground as solid blocks, far ones first.

Other mounts (:meth:`Camera.mount`: another height or pitch, as ``train --randomize`` draws them) are the same
computation for another ray table; :meth:`Camera.tagged_frames` renders N cars each with its own mount and tags
every pixel with what it shows (road, lines, surroundings, objects) for :mod:`racer_env.sim.randomize`.

Conventions: metres and radians; the car's frame has x forward, y left, z up, from its origin (``base_link``);
image row 0 is the top, column 0 the left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

import numpy as np

from racer_env.constants import (
    BOT_HEIGHT_M,
    BOX_BODY_HEIGHT_M,
    BOX_Z_M,
    CAMERA_HFOV_RAD,
    CAMERA_IMAGE_H,
    CAMERA_IMAGE_W,
    CAMERA_PITCH_RAD,
    CAMERA_X_M,
    CAMERA_Z_M,
)
from racer_env.sim.objects import TrackObject, body_size
from racer_env.sim.scenery import (MIP_LEVELS, OBJECTS, SURROUNDINGS, TEXEL_M, REINVENT_2018, Look, Scenery, luma,
                                   scenery_for, tag)
from racer_env.sim.track import Track

__all__ = ["Camera", "FOCAL_PX", "HORIZON_ROW", "ground_point", "pixel_of", "footprint", "horizon_row", "MountView",
           "MountTable"]

FOCAL_PX = (CAMERA_IMAGE_W / 2) / math.tan(CAMERA_HFOV_RAD / 2)
"""Focal length of the 160 x 120 image [px]: 126.1 (square pixels, so the vertical field of view is 0.88 rad)."""
_COS_P, _SIN_P = math.cos(CAMERA_PITCH_RAD), math.sin(CAMERA_PITCH_RAD)
HORIZON_ROW = CAMERA_IMAGE_H / 2 - FOCAL_PX * math.tan(CAMERA_PITCH_RAD)
"""Where the horizon crosses the image [rows from the top]: 26.2, so rows 26 and below see the ground."""
_FIRST_GROUND_ROW = int(math.ceil(HORIZON_ROW - 0.5 + 1e-9))
_BOX_Z0_M = BOX_Z_M - BOX_BODY_HEIGHT_M / 2  # a box's foot (its origin is its centre, 0.1 m up)


def _ray(row: np.ndarray | float, col: np.ndarray | float, pitch_rad: float = CAMERA_PITCH_RAD) -> tuple:
    """The direction in the car's frame (forward, left, up) of the ray through image point (row, col) [px],
    pixel centres at whole numbers + 0.5, of a camera pitched ``pitch_rad`` down."""
    cos_p, sin_p = (_COS_P, _SIN_P) if pitch_rad == CAMERA_PITCH_RAD else (math.cos(pitch_rad), math.sin(pitch_rad))
    xn = (np.asarray(col) - CAMERA_IMAGE_W / 2) / FOCAL_PX  # right in the image
    yn = (np.asarray(row) - CAMERA_IMAGE_H / 2) / FOCAL_PX  # down in the image
    return cos_p - yn * sin_p, -xn, -sin_p - yn * cos_p


def horizon_row(pitch_rad: float = CAMERA_PITCH_RAD) -> float:
    """Where the horizon crosses the image of a camera pitched ``pitch_rad`` down [rows from the top]: higher up
    the image (a smaller row) the more the camera looks down.

    >>> round(horizon_row(), 1), round(horizon_row(math.radians(17)), 1)
    (26.2, 21.4)
    """
    return CAMERA_IMAGE_H / 2 - FOCAL_PX * math.tan(pitch_rad)


def _first_ground_row(pitch_rad: float) -> int:
    """The first image row whose pixel centres see the ground (0 to 120)."""
    return min(max(int(math.ceil(horizon_row(pitch_rad) - 0.5 + 1e-9)), 0), CAMERA_IMAGE_H)


def ground_point(row: float, col: float, lateral_m: float = 0.0, height_m: float = CAMERA_Z_M,
                 pitch_rad: float = CAMERA_PITCH_RAD) -> tuple[float, float] | None:
    """Where the ray through image point (row, col) [px] meets the ground, in the car's frame [m]; None above
    the horizon. ``lateral_m`` moves the camera to the left (the stereo pair); ``height_m`` and ``pitch_rad``
    are its mount (default: the simulator's).

    >>> x, y = ground_point(119.5, 80.0)   # the bottom edge, in the middle: the nearest ground in view
    >>> round(x, 2), round(y, 2)
    (0.3, 0.0)
    """
    fx, fy, fz = (float(v) for v in _ray(row, col, pitch_rad))
    if fz >= 0.0:
        return None
    t = height_m / -fz
    return CAMERA_X_M + t * fx, lateral_m + t * fy


def pixel_of(x: float, y: float, z: float = 0.0, lateral_m: float = 0.0, height_m: float = CAMERA_Z_M,
             pitch_rad: float = CAMERA_PITCH_RAD) -> tuple[float, float] | None:
    """The image point (row, col) [px] of the point (x, y, z) in the car's frame [m]; None behind the camera
    (mounted ``height_m`` up, pitched ``pitch_rad`` down; default: the simulator's mount).

    >>> row, col = pixel_of(*ground_point(100.5, 40.5))
    >>> round(row, 6), round(col, 6)
    (100.5, 40.5)
    """
    cos_p, sin_p = (_COS_P, _SIN_P) if pitch_rad == CAMERA_PITCH_RAD else (math.cos(pitch_rad), math.sin(pitch_rad))
    dx, dy, dz = x - CAMERA_X_M, y - lateral_m, z - height_m
    depth = dx * cos_p - dz * sin_p
    if depth <= 1e-6:
        return None
    up = dx * sin_p + dz * cos_p
    return CAMERA_IMAGE_H / 2 - FOCAL_PX * up / depth, CAMERA_IMAGE_W / 2 - FOCAL_PX * dy / depth


def footprint(reach_m: float = 3.0, lateral_m: float = 0.0) -> list[tuple[float, float]]:
    """The outline of the ground the camera sees, out to ``reach_m`` metres from the car's origin, in the car's
    frame [m]: the image's border traced round, each ray cut at that reach.

    >>> pts = footprint()
    >>> round(min(x for x, _ in pts), 2), round(max(abs(y) for _, y in pts), 2)   # nearest ground, widest
    (0.3, 1.58)
    """
    h, w = CAMERA_IMAGE_H, CAMERA_IMAGE_W
    edge = [(h, c) for c in np.linspace(0, w, 17)] + [(r, w) for r in np.linspace(h, 0, 25)[1:]] + \
           [(0, c) for c in np.linspace(w, 0, 17)[1:]] + [(r, 0) for r in np.linspace(0, h, 25)[1:]]
    out: list[tuple[float, float]] = []
    for row, col in edge:
        fx, fy, fz = (float(v) for v in _ray(row, col))
        t = CAMERA_Z_M / -fz if fz < 0 else math.inf
        t = min(t, reach_m / math.hypot(fx, fy))
        point = (CAMERA_X_M + t * fx, lateral_m + t * fy)
        if not out or point != out[-1]:
            out.append(point)
    return out


@dataclass(frozen=True, eq=False)
class MountView:
    """What a camera mounted ``height_m`` up and pitched ``pitch_rad`` down sees of the ground, as a frame reads it
    (:meth:`Camera.mount`).

    Attributes:
        height_m, pitch_rad: the mount [m], [rad].
        first: the first image row whose pixels see the ground.
        coords: (5, 120 * 160) float32: each pixel's texture coordinates, as the camera's own (the rows above
            ``first`` read the atlas's corner; the sky and the wall are drawn over them).
        ground: (2, 120 * 160) float32: each pixel's ground point in the car's frame (forward, left) [m], NaN
            above ``first``.
        column_dir: each column's horizontal direction (forward, left) where it meets the horizon.
        wall_reach: (first, 160): the distance [m] within which the wall covers each pixel above the horizon.
    """

    height_m: float
    pitch_rad: float
    first: int
    coords: np.ndarray
    ground: np.ndarray
    column_dir: tuple[np.ndarray, np.ndarray]
    wall_reach: np.ndarray


class MountTable:
    """The mounts of ``n`` cars' cameras (each a :class:`MountView` of one :class:`Camera`), as arrays that
    :meth:`Camera.tagged_frames` reads for all the cars at once; :meth:`set` changes car ``k``'s."""

    def __init__(self, n: int, view: MountView):
        self.coords = np.empty((n, 5, CAMERA_IMAGE_H * CAMERA_IMAGE_W), dtype=np.float32)
        self.coords[:] = view.coords
        self.first = np.full(n, view.first, dtype=np.int64)
        self.views = [view] * n

    def set(self, k: int, view: MountView) -> None:
        """Car ``k``'s camera is mounted as ``view`` says."""
        self.coords[k] = view.coords
        self.first[k] = view.first
        self.views[k] = view


def _ground(r: np.ndarray, c: np.ndarray, height_m: float = CAMERA_Z_M,
            pitch_rad: float = CAMERA_PITCH_RAD) -> tuple[np.ndarray, np.ndarray]:
    """Where the rays through image points (r, c) [px] meet the ground, in the car's frame [m] (the camera on its
    centre line)."""
    fx, fy, fz = _ray(r, c, pitch_rad)
    t = height_m / np.maximum(-fz, 1e-9)
    return CAMERA_X_M + t * fx, t * fy


def _ground_levels(first: int, lateral_m: float, height_m: float,
                   pitch_rad: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each pixel's ground point (x, y) [m] in the car's frame, of rows ``first`` to the bottom, and the mip level
    whose texels match the ground it covers (the area between the ground points of its corners)."""
    rows = np.arange(first, CAMERA_IMAGE_H) + 0.5
    cols = np.arange(CAMERA_IMAGE_W) + 0.5
    r, c = np.meshgrid(rows, cols, indexing="ij")
    gx, gy = _ground(r, c, height_m, pitch_rad)
    ax, ay = _ground(r - 0.5, c - 0.5, height_m, pitch_rad)
    bx, by = _ground(r + 0.5, c + 0.5, height_m, pitch_rad)
    ex, ey = _ground(r - 0.5, c + 0.5, height_m, pitch_rad)
    fx, fy = _ground(r + 0.5, c - 0.5, height_m, pitch_rad)
    area = 0.5 * np.abs((bx - ax) * (fy - ey) - (by - ay) * (fx - ex))
    footprint = np.sqrt(np.maximum(area, 1e-12))
    level = np.clip(np.floor(np.log2(footprint / TEXEL_M) + 0.5), 0, MIP_LEVELS - 1).astype(int)
    return gx, gy + lateral_m, level


def _horizon_geometry(first: int, height_m: float, pitch_rad: float,
                      wall_height_m: float) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Above the horizon: each column's direction where it meets the horizon, and for each pixel of the rows
    above ``first`` the distance within which the wall covers it (its height over the camera / the ray's rise
    per metre of horizontal travel)."""
    cols = np.arange(CAMERA_IMAGE_W) + 0.5
    fwd, left, _ = _ray(horizon_row(pitch_rad), cols, pitch_rad)
    horizontal = np.hypot(fwd, left)
    column_dir = (fwd / horizontal, left / horizontal)
    top = np.arange(first) + 0.5
    tr, tc = np.meshgrid(top, cols, indexing="ij")
    fwd, left, up = _ray(tr, tc, pitch_rad)
    return column_dir, (wall_height_m - height_m) / (up / np.hypot(fwd, left))


class Camera:
    """A DeepRacer camera on a track: ``camera.frame(bx, by, yaw, objects)`` is the 160 x 120 image of a car whose
    body origin (``base_link``, :func:`racer_env.sim.vehicle.body_origin`) is at (bx, by) [m] with heading ``yaw``
    [rad]. That is not the params point the reward params call ``x, y``, 0.14 m ahead of it: the camera is
    mounted relative to the body origin, as in the simulator's URDF.

    :meth:`tagged_frames` renders other mounts (:meth:`mount`) and tags each pixel with what it shows (road,
    lines, surroundings, objects: :func:`racer_env.sim.scenery.tag`), for :mod:`racer_env.sim.randomize`.

    Args:
        track: the track; its scenery is built on first use and shared by every camera on it in the process.
        lateral_m: the camera's offset to the left of the car's centre line [m] (±0.03 for the stereo pair,
            [SIM] ``cameras/frustum.py``).
        grey: the simulator's grey image (120, 160) (the default); False: the sensor's RGB image (120, 160, 3).
        look: the scenery's colours.
    """

    def __init__(self, track: Track, lateral_m: float = 0.0, grey: bool = True, look: Look = REINVENT_2018):
        self.track, self.lateral_m, self.grey, self.look = track, lateral_m, grey, look
        gx, gy, level = _ground_levels(_FIRST_GROUND_ROW, lateral_m, CAMERA_Z_M, CAMERA_PITCH_RAD)
        reach = np.hypot(gx, gy)
        self._pad = tuple(float(reach[level == k].max()) + 0.05 if np.any(level == k) else 0.0
                          for k in range(MIP_LEVELS))
        self._level, self._gx, self._gy = level.ravel(), gx.ravel(), gy.ravel()
        self._scenery: Scenery | None = None
        # above the horizon: each column's direction where it meets the horizon, and each pixel's rise per
        # metre of horizontal travel; a pixel sees the wall when the wall is nearer than its height / rise
        self._column_dir, self._wall_reach = _horizon_geometry(_FIRST_GROUND_ROW, CAMERA_Z_M, CAMERA_PITCH_RAD,
                                                               look.wall_height_m)
        self._mounts: dict[tuple[float, float], MountView] = {}

    @property
    def scenery(self) -> Scenery:
        if self._scenery is None:
            self._scenery = scenery_for(self.track, self._pad, self.look)
            self._coords = self._texture_coords(self._level, self._gx, self._gy)
        return self._scenery

    def _texture_coords(self, level: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
        """(5, pixels) float32: texture (col, row) of each ground pixel = [[1, 0, x, cos, -sin], [0, 1, y, sin,
        cos]] @ this, for a car whose body origin is (x, y) [m] from the field's corner, heading (cos, sin)."""
        s = self._scenery
        assert s is not None
        inv = 1.0 / (TEXEL_M * 2.0 ** level)
        pad = np.array(s.pad_m)[level] * inv
        return np.ascontiguousarray(np.vstack([pad, pad + np.array(s.row0)[level], inv, gx * inv,
                                               gy * inv]).astype(np.float32))

    # ------------------------------------------------------------------ mounts
    def mount(self, height_m: float = CAMERA_Z_M, pitch_rad: float = CAMERA_PITCH_RAD) -> MountView:
        """This camera mounted ``height_m`` [m] above the ground and pitched ``pitch_rad`` [rad] down: what
        :meth:`tagged_frames` reads. At the simulator's mount it reads the same texels as :meth:`frame`.

        A pixel whose ground point lies beyond the padding the scenery was built with (for the simulator's
        mount) reads the next coarser mip level, whose texels its footprint nearly matches; beyond the coarsest
        level's padding, its point is pulled back along its ray, where the field's wall is all there is to see.
        """
        key = (float(height_m), float(pitch_rad))
        view = self._mounts.get(key)
        if view is None:
            if len(self._mounts) >= _MOUNT_CACHE:
                self._mounts.pop(next(iter(self._mounts)))
            view = self._mounts[key] = self._make_mount(*key)
        return view

    def _make_mount(self, height_m: float, pitch_rad: float) -> MountView:
        self.scenery  # the texture coordinates need the atlas's layout
        first = _first_ground_row(pitch_rad)
        gx, gy, level = _ground_levels(first, self.lateral_m, height_m, pitch_rad)
        reach = np.hypot(gx, gy)
        limit = np.array(self._pad) - 0.05  # the farthest ground each level's padding holds
        for _ in range(MIP_LEVELS - 1):
            far = (reach > limit[level]) & (level < MIP_LEVELS - 1)
            if not far.any():
                break
            level[far] += 1
        pull = np.minimum(1.0, limit[level] / np.maximum(reach, 1e-9))
        gx, gy = gx * pull, gy * pull
        n = first * CAMERA_IMAGE_W
        coords = np.zeros((5, CAMERA_IMAGE_H * CAMERA_IMAGE_W), dtype=np.float32)
        coords[:, n:] = self._texture_coords(level.ravel(), gx.ravel(), gy.ravel())
        ground = np.full((2, CAMERA_IMAGE_H * CAMERA_IMAGE_W), np.nan, dtype=np.float32)
        ground[0, n:], ground[1, n:] = gx.ravel(), gy.ravel()
        column_dir, wall_reach = _horizon_geometry(first, height_m, pitch_rad, self.look.wall_height_m)
        return MountView(height_m, pitch_rad, first, coords, ground, column_dir, wall_reach)

    def mount_table(self, n: int) -> MountTable:
        """A :class:`MountTable` of ``n`` cars, each at the simulator's mount."""
        return MountTable(n, self.mount())

    # ------------------------------------------------------------------ frames
    def frame(self, bx: float, by: float, yaw: float, objects: Sequence[TrackObject] = ()) -> np.ndarray:
        """The image of a car with its body origin at (bx, by) [m] (not the params point) and heading ``yaw``
        [rad], among ``objects``: (120, 160)
        uint8 grey, or (120, 160, 3) RGB."""
        s = self.scenery
        c, sn = math.cos(yaw), math.sin(yaw)
        px = min(max(bx, s.x0), s.x1) - s.x0  # a car beyond the field sees it from the field's edge
        py = min(max(by, s.y0), s.y1) - s.y0
        m = np.array([[1.0, 0.0, px, c, -sn], [0.0, 1.0, py, sn, c]], dtype=np.float32)
        ij = (m @ self._coords).astype(np.int32)
        flat = ij[1] * np.int32(s.width)
        flat += ij[0]
        out = np.empty((CAMERA_IMAGE_H, CAMERA_IMAGE_W) + (() if self.grey else (3,)), dtype=np.uint8)
        if self.grey:
            np.take(s.grey.reshape(-1), flat, out=out[_FIRST_GROUND_ROW:].reshape(-1))
        else:  # a texel's three bytes read as one
            np.take(s.rgb.reshape(-1).view("V3"), flat, out=out[_FIRST_GROUND_ROW:].reshape(-1).view("V3"))
        self._above_horizon(out[:_FIRST_GROUND_ROW], bx, by, c, sn)
        if objects:
            self._draw_objects(out, bx, by, c, sn, objects)
        return out

    def frames(self, bx: np.ndarray, by: np.ndarray, yaw: np.ndarray,
               objects: Sequence[Sequence[TrackObject]] = ()) -> np.ndarray:
        """:meth:`frame` for N cars at once (body origins ``bx``, ``by`` [m], headings ``yaw`` [rad], each among
        its ``objects``): (N, 120, 160) uint8 grey, or (N, 120, 160, 3) RGB. The ground of every car is one
        batched matrix product and one gather from the texture; the same pixels as :meth:`frame`'s."""
        s = self.scenery
        n = len(bx)
        m = self._poses(s, bx, by, yaw)
        c, sn = np.cos(yaw), np.sin(yaw)
        ij = (m @ self._coords).astype(np.int32)  # (N, 2, pixels)
        flat = ij[:, 1] * np.int32(s.width)
        flat += ij[:, 0]
        out = np.empty((n, CAMERA_IMAGE_H, CAMERA_IMAGE_W) + (() if self.grey else (3,)), dtype=np.uint8)
        ground = out[:, _FIRST_GROUND_ROW:]
        if self.grey:
            np.take(s.grey.reshape(-1), flat, out=ground.reshape(n, -1))
        else:
            np.take(s.rgb.reshape(-1).view("V3"), flat, out=ground.reshape(n, -1).view("V3"))
        for k in range(n):
            ck, sk = float(c[k]), float(sn[k])
            self._above_horizon(out[k, :_FIRST_GROUND_ROW], float(bx[k]), float(by[k]), ck, sk)
            if k < len(objects) and objects[k]:
                self._draw_objects(out[k], float(bx[k]), float(by[k]), ck, sk, objects[k])
        return out

    def tagged_frames(self, bx: np.ndarray, by: np.ndarray, yaw: np.ndarray, table: MountTable,
                      cars: np.ndarray | None = None, objects: Sequence[Sequence[TrackObject]] = ()) -> np.ndarray:
        """The frames of N cars (body origins ``bx``, ``by`` [m], headings ``yaw`` [rad]), each seen by its camera
        mounted as row ``cars[j]`` of ``table`` says (None: rows 0 to N - 1), each pixel tagged with what it
        shows: ``class * 512 + 128 + value`` (:func:`racer_env.sim.scenery.tag`), (N, 120, 160) uint16 grey, or
        (N, 120, 160, 3) RGB. Where every car has the simulator's mount, the values are :meth:`frames`'s."""
        s = self.scenery
        n = len(bx)
        whole = cars is None or (len(cars) == len(table.first) and np.array_equal(cars, np.arange(n)))
        first = int(table.first.min() if cars is None else table.first[cars].min())
        coords = table.coords if whole else table.coords[cars]
        m = self._poses(s, bx, by, yaw)
        c, sn = np.cos(yaw), np.sin(yaw)
        ij = (m @ coords[:, :, first * CAMERA_IMAGE_W:]).astype(np.int32)  # (N, 2, pixels)
        flat = ij[:, 1] * np.int32(s.width)
        flat += ij[:, 0]
        out = np.empty((n, CAMERA_IMAGE_H, CAMERA_IMAGE_W) + (() if self.grey else (3,)), dtype=np.uint16)
        ground = out[:, first:]
        if self.grey:
            np.take(s.tagged_grey.reshape(-1), flat, out=ground.reshape(n, -1))
        else:  # a texel's three uint16 read as one
            np.take(s.tagged_rgb.reshape(-1).view("V6"), flat, out=ground.reshape(n, -1).view("V6"))
        rows = range(n) if cars is None else cars.tolist()
        for k, row in enumerate(rows):
            view = table.views[row]
            ck, sk = float(c[k]), float(sn[k])
            self._above_horizon(out[k, :view.first], float(bx[k]), float(by[k]), ck, sk, view, self._tagged_sky_and_wall)
            if k < len(objects) and objects[k]:
                self._draw_objects(out[k], float(bx[k]), float(by[k]), ck, sk, objects[k], view, tagged=True)
        return out

    @staticmethod
    def _poses(s: Scenery, bx: np.ndarray, by: np.ndarray, yaw: np.ndarray) -> np.ndarray:
        """(N, 2, 5) float32: each car's row of [[1, 0, x, cos, -sin], [0, 1, y, sin, cos]]."""
        n = len(bx)
        c, sn = np.cos(yaw), np.sin(yaw)
        m = np.zeros((n, 2, 5), dtype=np.float32)
        m[:, 0, 0] = m[:, 1, 1] = 1.0
        m[:, 0, 2] = np.clip(bx, s.x0, s.x1) - s.x0  # a car beyond the field sees it from the field's edge
        m[:, 1, 2] = np.clip(by, s.y0, s.y1) - s.y0
        m[:, 0, 3], m[:, 0, 4], m[:, 1, 3], m[:, 1, 4] = c, -sn, sn, c
        return m

    def _above_horizon(self, out: np.ndarray, bx: float, by: float, c: float, s: float,
                       view: MountView | None = None, colours: np.ndarray | None = None) -> None:
        """The wall where a ray meets it below its top, else the background: each column's ray leaves the
        field's rectangle at some distance, and the pixels whose rays are still below the wall's top there see
        the wall (a camera mounted as ``view`` says; default: the simulator's mount)."""
        sc = self.scenery
        ux, uy = self._column_dir if view is None else view.column_dir
        wall_reach = self._wall_reach if view is None else view.wall_reach
        cx = bx + c * CAMERA_X_M - s * self.lateral_m  # the camera, in the world
        cy = by + s * CAMERA_X_M + c * self.lateral_m
        dx = ux * c - uy * s
        dy = ux * s + uy * c
        with np.errstate(divide="ignore"):
            tx = np.maximum((sc.x1 - cx) / dx, (sc.x0 - cx) / dx)  # the exit through the x walls
            ty = np.maximum((sc.y1 - cy) / dy, (sc.y0 - cy) / dy)
        wall = wall_reach > np.minimum(tx, ty)
        np.take(self._sky_and_wall if colours is None else colours, wall.view(np.uint8), axis=0, out=out)

    @cached_property
    def _sky_and_wall(self) -> np.ndarray:
        return np.array([self._colour(self.look.sky), self._colour(self.look.wall)], dtype=np.uint8)

    @cached_property
    def _tagged_sky_and_wall(self) -> np.ndarray:
        return tag(SURROUNDINGS, self._sky_and_wall)

    def _colour(self, rgb: tuple[int, int, int]) -> np.ndarray | int:
        return int(luma(np.array(rgb, dtype=np.uint8))) if self.grey else np.array(rgb, dtype=np.uint8)

    def _draw_objects(self, out: np.ndarray, bx: float, by: float, c: float, s: float,
                      objects: Sequence[TrackObject], view: MountView | None = None, tagged: bool = False) -> None:
        """Boxes and bot cars as solid blocks: each one's silhouette (the hull of its projected corners), far
        ones first. An object any corner of which is not in front of the camera is skipped. ``view``: the
        camera's mount (default: the simulator's); ``tagged``: ``out`` holds tagged values."""
        height, pitch = (CAMERA_Z_M, CAMERA_PITCH_RAD) if view is None else (view.height_m, view.pitch_rad)
        seen = []
        for o in objects:
            rx, ry = o.x - bx, o.y - by
            fx, fy = rx * c + ry * s, ry * c - rx * s  # its centre in the car's frame
            if CAMERA_X_M < fx < 12.0:
                corners = self._corners(o, rx, ry, c, s, height, pitch)
                if corners is not None:
                    seen.append((fx * fx + fy * fy, o.kind, corners))
        for _, kind, corners in sorted(seen, reverse=True):
            colour = self._colour(_BOX_RGB if kind == "box" else _BOT_RGB)
            _fill_hull(out, corners, tag(OBJECTS, colour) if tagged else colour)

    def _corners(self, o: TrackObject, rx: float, ry: float, c: float, s: float, height_m: float = CAMERA_Z_M,
                 pitch_rad: float = CAMERA_PITCH_RAD) -> list | None:
        """The image points of an object's eight corners (its centre at (rx, ry) from the car), or None when
        one is not in front of the camera."""
        length, width = body_size(o.kind)
        z0, z1 = (_BOX_Z0_M, _BOX_Z0_M + BOX_BODY_HEIGHT_M) if o.kind == "box" else (0.0, BOT_HEIGHT_M)
        oc, os_ = math.cos(o.yaw), math.sin(o.yaw)
        corners = []
        for u, v in ((length / 2, width / 2), (length / 2, -width / 2), (-length / 2, -width / 2),
                     (-length / 2, width / 2)):
            wx, wy = rx + u * oc - v * os_, ry + u * os_ + v * oc
            cx, cy = wx * c + wy * s, wy * c - wx * s
            for z in (z0, z1):
                p = pixel_of(cx, cy, z, self.lateral_m, height_m, pitch_rad)
                if p is None:
                    return None
                corners.append(p)
        return corners


_MOUNT_CACHE = 128  # mounts a camera keeps made: --randomize draws from 81 (0.5 MB each)
_BOX_RGB = (123, 97, 79)  # the box's material, #7b614f: [SIM] models/box_obstacle/model.sdf
_BOT_RGB = (30, 30, 34)  # a bot car's dark body shell


def _fill_hull(out: np.ndarray, points: list[tuple[float, float]], colour: np.ndarray | int) -> None:
    """Fill the convex hull of image points (row, col) in ``out``."""
    hull = _convex_hull(points)
    if len(hull) < 3:
        return
    rows = [p[0] for p in hull]
    cols = [p[1] for p in hull]
    r0, r1 = max(int(math.floor(min(rows))), 0), min(int(math.ceil(max(rows))), out.shape[0])
    c0, c1 = max(int(math.floor(min(cols))), 0), min(int(math.ceil(max(cols))), out.shape[1])
    if r0 >= r1 or c0 >= c1:
        return
    rr, cc = np.mgrid[r0:r1, c0:c1] + 0.5
    inside = np.ones(rr.shape, dtype=bool)
    for (ar, ac), (br, bc) in zip(hull, hull[1:] + hull[:1]):  # counter-clockwise in (col, row) order
        inside &= (br - ar) * (cc - ac) - (bc - ac) * (rr - ar) >= 0
    out[r0:r1, c0:c1][inside] = colour


def _convex_hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Andrew's monotone chain: the hull of (row, col) points, in a consistent turning order."""
    pts = sorted(set(points))
    if len(pts) < 3:
        return pts

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]
