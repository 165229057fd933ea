"""How a track looks to the car's camera: the simulator's road, lines, field and walls, rasterised once into a
top-down texture with mip levels, for :mod:`racer_env.sim.camera` to sample.

The simulator's tracks are flat meshes with textures ([SIM] ``bundle/meshes/<track>/`` and
``bundle/models/<track>/model.sdf``). This module draws any route file the way the re:Invent 2018 track
(``reinvent_base``, the console's first track) is drawn; the numbers below were read from its mesh
(``meshes/reinvent/reinvent_base.dae``) and are the means of its textures:

* the **road** between the borders, dark blue-grey (``textures/road.png``);
* a **white line** 3 in (0.0762 m) wide along each border, inside the road (``ol``/``il`` meshes, ``outerLine.png``);
* the **dashed centre line**: amber dashes 2 in long, 1 in wide, every 4 in (``cl`` mesh, ``centerLine.png``);
* the **start line**: a black-and-white checkerboard across the road at waypoint 0, two squares along and eight
  across (``2022_reinvent_champ_*/textures/startline.png``, 992 x 252 px);
* the **field** around the track, green (``field.png``), reaching 0.91 m beyond the track's bounding box;
* **walls** 1 m high round the field (``wall.png``), and above them Gazebo's default background, grey
  (``<scene>`` sets no ``<background>``: SDF's default is 0.7 0.7 0.7).

Lighting is not modelled: a flat track under the world's ambient light and one sun looks the same everywhere,
so the colours are the textures' own. Everything here is numpy and pure: no pygame, no GPU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from racer_env.sim.track import Track

__all__ = ["Look", "REINVENT_2018", "Scenery", "scenery_for", "luma", "CLASSES", "ROAD", "LINES", "SURROUNDINGS",
           "OBJECTS", "tag", "TAG_STRIDE", "TAG_ZERO"]

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Look:
    """The colours (sRGB, 0-255) and line geometry [m] of a simulator track."""

    road: RGB = (36, 49, 64)  # reinvent/textures/road.png, mean
    field: RGB = (95, 136, 104)  # reinvent/textures/field.png, mean
    wall: RGB = (36, 70, 81)  # reinvent/textures/wall.png
    sky: RGB = (179, 179, 179)  # SDF <scene><background> default 0.7 0.7 0.7
    border_line: RGB = (194, 194, 190)  # reinvent/textures/outerLine.png, mean
    centre_line: RGB = (194, 117, 0)  # reinvent/textures/centerLine.png, mean
    start_light: RGB = (226, 226, 226)  # 2022_reinvent_champ_ccw/textures/startline.png, light squares
    start_dark: RGB = (56, 56, 56)  # its dark squares
    border_line_m: float = 0.0762  # reinvent_base.dae, ol/il meshes: 3 in wide, inside the road's edge
    dash_m: float = 0.0508  # reinvent_base.dae, cl mesh: dashes 2 in long...
    dash_period_m: float = 0.1016  # ...every 4 in...
    dash_width_m: float = 0.0254  # ...1 in wide
    start_squares_across: int = 8  # startline.png: 8 x 2 squares
    start_squares_along: int = 2
    field_margin_m: float = 0.91  # reinvent_base.dae: field and walls 0.91 m beyond the borders' bounding box
    wall_height_m: float = 1.0  # reinvent_base.dae, wall mesh: z 0 to 1 m


REINVENT_2018 = Look()
"""The re:Invent 2018 track's look, used for every track."""

TEXEL_M = 0.005
"""Side of a texel of the finest mip level [m]."""
MIP_LEVELS = 7
"""Mip levels: texels of 5 mm to 32 cm, each level averaging 2 x 2 texels of the one before."""

CLASSES = ("road", "lines", "surroundings", "objects")
"""What a pixel shows, for :mod:`racer_env.sim.randomize`'s colours: the road; the lines painted on it (the
borders' white lines, the centre dashes, the start line's squares); the surroundings (the field, the walls, the
background); obstacles and bot cars."""
ROAD, LINES, SURROUNDINGS, OBJECTS = range(len(CLASSES))
TAG_STRIDE = 512
"""A tagged value's class step: ``class * TAG_STRIDE + TAG_ZERO + value`` (:func:`tag`)."""
TAG_ZERO = 128
"""Where a tagged value's 0 sits in its class's slot: room for sensor noise below 0 and above 255."""


def tag(cls: int, value: np.ndarray | int) -> np.ndarray:
    """A pixel value (0-255) tagged with its class (:data:`CLASSES`), as uint16:
    ``cls * TAG_STRIDE + TAG_ZERO + value``.

    >>> int(tag(ROAD, 47)), int(tag(LINES, 193)) - TAG_STRIDE - TAG_ZERO
    (175, 193)
    """
    return (np.asarray(value, dtype=np.uint16) + np.uint16(cls * TAG_STRIDE + TAG_ZERO)).astype(np.uint16)


def luma(rgb: np.ndarray) -> np.ndarray:
    """The simulator's grey image of an RGB one (uint8 in, uint8 out): rl_coach's ``ObservationRGBToYFilter``,
    Y = 0.2989 R + 0.5870 G + 0.1140 B, then ``ObservationToUInt8Filter`` truncates to uint8
    ([SIM] ``sagemaker_graph_manager.py``, the input filter of every camera)."""
    y = rgb[..., 0] * np.float32(0.2989) + rgb[..., 1] * np.float32(0.5870) + rgb[..., 2] * np.float32(0.1140)
    return y.astype(np.uint8)


@dataclass
class Scenery:
    """A track's texture at :data:`MIP_LEVELS` resolutions, stacked in one atlas of equal-width rows.

    Level k has texels of ``TEXEL_M * 2**k`` metres and covers the field, padded on every side by ``pad_m[k]``
    metres of wall colour (the ground a camera ray meets beyond the field is the wall's foot). Texel (i, j) of
    level k covers x in ``x0 - pad_m[k] + (j, j + 1) * texel``, and likewise y with ``i``; it is row
    ``row0[k] + i`` of the atlas.

    Attributes:
        rgb: (rows, width, 3) uint8 atlas.
        grey: (rows, width) uint8, :func:`luma` of it.
        x0, y0, x1, y1: the field's corners [m]; walls stand on its edges.
        pad_m: each level's padding [m].
        row0: each level's first atlas row.
        look: the colours.
        sizes: each level's texels (rows, columns), padding left out.
    """

    rgb: np.ndarray
    grey: np.ndarray
    x0: float
    y0: float
    x1: float
    y1: float
    pad_m: tuple[float, ...]
    row0: tuple[int, ...]
    look: Look
    sizes: tuple[tuple[int, int], ...] = field(default=())

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @cached_property
    def labels(self) -> np.ndarray:
        """(rows, width) uint8: each texel's class (:data:`CLASSES`), laid out as the atlas. The finest level's
        texels are the look's colours, each of one class; a coarser texel has the class most of the finest
        texels under it have (the road's where a line and the road are even). Made on first use."""
        look = self.look
        out = np.full(self.grey.shape, SURROUNDINGS, dtype=np.uint8)  # the padding: the walls
        pads = [int(round(p / (TEXEL_M * 2**k))) for k, p in enumerate(self.pad_m)]
        h, w = self.sizes[0]
        finest = self.rgb[self.row0[0] + pads[0]:self.row0[0] + pads[0] + h, pads[0]:pads[0] + w]
        counts = np.zeros((3, h, w), dtype=np.uint16)  # road, lines, surroundings
        counts[2] = 1
        for cls, colours in ((ROAD, (look.road,)),
                             (LINES, (look.border_line, look.centre_line, look.start_light, look.start_dark))):
            for rgb in colours:
                hit = np.all(finest == np.array(rgb, dtype=np.uint8), axis=2)
                counts[:, hit] = 0
                counts[cls, hit] = 1
        for k, (h, w) in enumerate(self.sizes):
            if k:  # as the colours were averaged: 2 x 2 texels of the level before
                a = counts[:, :2 * h, :2 * w]
                counts = a[:, 0::2, 0::2] + a[:, 1::2, 0::2] + a[:, 0::2, 1::2] + a[:, 1::2, 1::2]
            r0 = self.row0[k] + pads[k]
            out[r0:r0 + h, pads[k]:pads[k] + w] = np.argmax(counts, axis=0).astype(np.uint8)
        return out

    @cached_property
    def tagged_grey(self) -> np.ndarray:
        """(rows, width) uint16: :attr:`grey` tagged with :attr:`labels` (:func:`tag`)."""
        return (self.labels.astype(np.uint16) * np.uint16(TAG_STRIDE) + np.uint16(TAG_ZERO) + self.grey).astype(
            np.uint16)

    @cached_property
    def tagged_rgb(self) -> np.ndarray:
        """(rows, width, 3) uint16: :attr:`rgb` tagged with :attr:`labels` (:func:`tag`), channel by channel."""
        tags = self.labels.astype(np.uint16) * np.uint16(TAG_STRIDE) + np.uint16(TAG_ZERO)
        return np.ascontiguousarray(tags[:, :, None] + self.rgb, dtype=np.uint16)


_CACHE: dict[tuple, Scenery] = {}


def scenery_for(track: Track, pad_m: tuple[float, ...], look: Look = REINVENT_2018) -> Scenery:
    """The scenery of ``track`` with at least ``pad_m[k]`` metres of padding round level k; built once per track,
    padding and look in a process (every env on the same track shares it)."""
    key = (track.rows.tobytes(), pad_m, look)
    if key not in _CACHE:
        _CACHE[key] = _build(track, pad_m, look)
    return _CACHE[key]


def _build(track: Track, pad_m: tuple[float, ...], look: Look) -> Scenery:
    pts = track.rows.reshape(-1, 2)
    x0, y0 = pts.min(axis=0) - look.field_margin_m
    x1, y1 = pts.max(axis=0) + look.field_margin_m
    levels = [_paint(track, float(x0), float(y0), float(x1), float(y1), look)]  # the field only
    for _ in range(1, MIP_LEVELS):
        a = levels[-1]
        h, w = max(a.shape[0] // 2, 1), max(a.shape[1] // 2, 1)
        a = a[:2 * h, :2 * w].astype(np.uint16)
        levels.append(((a[0::2, 0::2] + a[1::2, 0::2] + a[0::2, 1::2] + a[1::2, 1::2] + 2) // 4).astype(np.uint8))
    pads = [int(math.ceil(pad_m[k] / (TEXEL_M * 2**k))) + 1 for k in range(MIP_LEVELS)]
    heights = [a.shape[0] + 2 * p for a, p in zip(levels, pads)]
    width = max(a.shape[1] + 2 * p for a, p in zip(levels, pads))
    rgb = np.empty((sum(heights), width, 3), dtype=np.uint8)
    rgb[:] = look.wall  # the padding: beyond the field a ray meets the wall
    row0 = [0]
    for a, p, h in zip(levels, pads, heights):
        rgb[row0[-1] + p:row0[-1] + p + a.shape[0], p:p + a.shape[1]] = a
        row0.append(row0[-1] + h)
    return Scenery(rgb, luma(rgb), float(x0), float(y0), float(x1), float(y1),
                   tuple(p * TEXEL_M * 2**k for k, p in enumerate(pads)), tuple(row0[:-1]), look,
                   tuple((a.shape[0], a.shape[1]) for a in levels))


def _dense(poly: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``spacing`` metres along a polyline, with their distance along it [m]."""
    seg = np.hypot(*np.diff(poly, axis=0).T)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    s = np.arange(0.0, arc[-1] + 1e-12, spacing)
    return np.column_stack([np.interp(s, arc, poly[:, 0]), np.interp(s, arc, poly[:, 1])]), s


def _paint(track: Track, x0: float, y0: float, x1: float, y1: float, look: Look) -> np.ndarray:
    """The finest level: field, road, start line, border lines, centre dashes, as uint8 (H, W, 3)."""
    from scipy.spatial import cKDTree

    w = int(math.ceil((x1 - x0) / TEXEL_M))
    h = int(math.ceil((y1 - y0) / TEXEL_M))
    img = np.empty((h, w, 3), dtype=np.uint8)
    img[:] = look.field
    rows = track.rows
    inner, outer = rows[:, 2:4], rows[:, 4:6]
    # the road: between the borders (one ring of two loops, or one polygon for an open track)
    loops = [inner, outer] if track.closed else [np.vstack([inner, outer[::-1], inner[:1]])]
    ii, jj = np.nonzero(_even_odd((h, w), x0, y0, loops))
    p = np.column_stack([x0 + (jj + 0.5) * TEXEL_M, y0 + (ii + 0.5) * TEXEL_M])
    centre, s_centre = _dense(rows[:, 0:2], TEXEL_M / 2)
    centre_tree = cKDTree(centre)
    img[ii, jj] = look.road
    # where each road texel lies along the centre line: arc s [m] and signed offset (left positive) [m]
    _, k = centre_tree.query(p)
    k = np.minimum(k, len(centre) - 2)
    tangent = centre[k + 1] - centre[k]
    tangent /= np.maximum(np.hypot(tangent[:, 0], tangent[:, 1]), 1e-12)[:, None]
    rel = p - centre[k]
    along = s_centre[k] + (rel * tangent).sum(axis=1)
    lateral = tangent[:, 0] * rel[:, 1] - tangent[:, 1] * rel[:, 0]
    # the start line: a checkerboard across the road at waypoint 0
    square = track.width / look.start_squares_across
    band = look.start_squares_along * square
    start_s = np.where(along > track.length / 2, along - track.length, along) if track.closed else along
    start = (start_s >= -band / 2) & (start_s < band / 2)
    checker = (np.floor(lateral / square) + np.floor((start_s + band / 2) / square)).astype(int) % 2 == 0
    img[ii[start & checker], jj[start & checker]] = look.start_light
    img[ii[start & ~checker], jj[start & ~checker]] = look.start_dark
    # the white border lines, inside the road's edges
    for border in (inner, outer):
        pts, _ = _dense(border, TEXEL_M / 2)
        d, _ = cKDTree(pts).query(p, distance_upper_bound=look.border_line_m)
        line = d < look.border_line_m
        img[ii[line], jj[line]] = look.border_line
    # the dashed centre line (not across the start line)
    dash = (np.abs(lateral) < look.dash_width_m / 2) & (np.mod(along, look.dash_period_m) < look.dash_m) & ~start
    img[ii[dash], jj[dash]] = look.centre_line
    return img


def _even_odd(shape: tuple[int, int], x0: float, y0: float, loops: list[np.ndarray]) -> np.ndarray:
    """Which texels' centres lie inside the closed ``loops`` by the even-odd rule: a scanline fill, row by row."""
    h, w = shape
    a = np.vstack([loop[:-1] for loop in loops])
    b = np.vstack([loop[1:] for loop in loops])
    lo, hi = np.minimum(a[:, 1], b[:, 1]), np.maximum(a[:, 1], b[:, 1])
    slope = (b[:, 0] - a[:, 0]) / np.where(b[:, 1] != a[:, 1], b[:, 1] - a[:, 1], 1.0)
    mask = np.zeros(shape, dtype=bool)
    for i in range(h):
        y = y0 + (i + 0.5) * TEXEL_M
        crossing = (lo <= y) & (y < hi)
        if not crossing.any():
            continue
        xs = np.sort(a[crossing, 0] + (y - a[crossing, 1]) * slope[crossing])
        cols = np.clip(np.ceil((xs - x0) / TEXEL_M - 0.5).astype(int), 0, w)
        for c0, c1 in zip(cols[0::2], cols[1::2]):
            mask[i, c0:c1] = True
    return mask
