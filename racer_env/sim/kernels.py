"""The simulation's hot loops, compiled: track geometry, the on-track test, the params' geometry, the car's
dynamics and the vector observation, for any number of cars at once.

Every car in racer_env, the one :class:`~racer_env.env.environment.RacerEnv` drives and the N a
:class:`~racer_env.env.fleet.Fleet` steps together, goes through these functions: one physics. They are numba
kernels (``cache=True``: compiled once per machine, then loaded from ``__pycache__``), imported on first use so
that ``import racer_env`` stays light. They take flat arrays only: a track is packed once into one float64
array, one int64 array and the offsets of its fields (:func:`pack_track`), which makes a call cost a fraction
of a microsecond.

Conventions: metres, radians, seconds; a car's *params point* (x, y) is 0.14 m ahead of its body origin (bx,
by); polylines are 0 the centre line, 1 the inner border, 2 the outer border; a projection is (segment, t along
it in [0, 1], distance to the line, distance along the centre line from waypoint 0).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
from numba import njit

from racer_env.constants import (
    CONTROL_HZ,
    LOOKAHEAD_M as LOOKAHEAD,
    MAX_SPEED_MPS,
    MAX_STEERING_DEG,
    MIN_SPEED_MPS,
    OBS_SCALE_M,
    PARAMS_POINT_X_M,
    TICKS_PER_STEP,
    WHEEL_OFFSETS_M,
    BOT_LENGTH_M,
    BOT_WIDTH_M,
    BOX_CRASH_LENGTH_M,
    BOX_CRASH_WIDTH_M,
    BOX_Z_M,
    CAMERA_ASPECT,
    CAMERA_FAR_M,
    CAMERA_HFOV_RAD,
    CAMERA_NEAR_M,
    CAMERA_PITCH_RAD,
    CAMERA_X_M,
    CAMERA_Z_M,
    CAR_LENGTH_M,
    CAR_WIDTH_M,
)
from racer_env.sim.layout import (C_BX, C_BY, C_DELTA, C_MOVED, C_SPEED, C_X, C_Y, C_YAW, G_ALL_ON, G_CLOSEST,
                                  G_HEADING, G_LEFT, G_NONE_ON, G_NXT, G_PROGRESS, G_PRV, G_WIDTH)

__all__ = ["pack_track", "FLOAT_FIELDS", "INT_FIELDS", "project", "project_many", "width_at", "points_on_track",
           "wheels_on_track", "car_params", "car_step", "car_ticks", "vector_observation", "nearest_segment", "walk",
           "fleet_geometry", "fleet_advance", "continuous_controls", "model_array", "compiled", "WHEEL_DX", "WHEEL_DY",
           "WHEEL_REACH_M", "OBS_VALUES"]

DUPLICATE_M = 1e-9  # consecutive centre points closer than this are duplicates (simapp _sanitize_waypoints)
WINDOW_M = 1.2  # border segments within this of a centre segment are its neighbours
NEAR_M = 0.75  # a smaller neighbourhood, for wheels near the centre segment
FAR_M = 1.0  # a projection farther than half the width + this from the centre re-checks with a full scan

# the packed track: float fields, then int fields (each a run of one array; ``o`` holds where each starts)
FLOAT_FIELDS = ("ax0", "ay0", "dx0", "dy0", "l20", "ax1", "ay1", "dx1", "dy1", "l21", "ax2", "ay2", "dx2", "dy2",
                "l22", "arc", "ndist", "clear", "near", "window", "borders", "widths", "headings", "resampled",
                "scalars")
INT_FIELDS = ("deg0", "deg1", "deg2", "inner_hint", "outer_hint", "near_start", "meta")
_F = {name: k for k, name in enumerate(FLOAT_FIELDS)}
_I = {name: len(FLOAT_FIELDS) + k for k, name in enumerate(INT_FIELDS)}
F_ARC, F_NDIST, F_CLEAR, F_NEAR, F_WINDOW = _F["arc"], _F["ndist"], _F["clear"], _F["near"], _F["window"]
F_BORDERS, F_WIDTHS, F_HEADINGS, F_RESAMPLED, F_SCALARS = (_F["borders"], _F["widths"], _F["headings"],
                                                         _F["resampled"], _F["scalars"])
I_DEG, I_INNER_HINT, I_OUTER_HINT, I_NEAR_START, I_META = (_I["deg0"], _I["inner_hint"], _I["outer_hint"],
                                                         _I["near_start"], _I["meta"])
# scalars: length [m], half the widest vertex width [m], the resampled line's spacing [m], the last waypoint
S_LENGTH, S_MAX_HALF, S_SPACING, S_LAST_X, S_LAST_Y = 0, 1, 2, 3, 4
# meta: segments of each polyline, closed, counter-clockwise, any zero-length segment in each polyline,
# the border window's width, resampled points, border segments
M_N0, M_N1, M_N2, M_CLOSED, M_CCW, M_DEG0, M_DEG1, M_DEG2, M_WINDOW, M_RESAMPLED, M_BORDERS = range(11)

# Wheel centres in the car frame, relative to the params point: x forward, y left (left rear, right rear, left
# front, right front).
WHEEL_DX = np.array([dx for dx, _ in WHEEL_OFFSETS_M])
WHEEL_DY = np.array([dy for _, dy in WHEEL_OFFSETS_M])
WHEEL_REACH_M = float(np.max(np.hypot(WHEEL_DX, WHEEL_DY)))
"""Farthest wheel centre from the params point [m]."""


LOOKAHEAD_M = np.array(LOOKAHEAD)
OBS_VALUES = 2 * len(LOOKAHEAD_M) + 6
"""Values of the vector observation (racer_env.env.observations)."""


def pack_track(polylines: tuple, arc: np.ndarray, ndist: np.ndarray, closed: bool, ccw: bool,
               resampled: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pack a track for the kernels: (floats, ints, offsets). ``polylines`` are the centre line, inner and
    outer borders as (P, 2) point arrays; ``arc`` the distance along the centre line of each waypoint, ``ndist``
    each waypoint's normalised distance, ``resampled`` the centre line every ``spacing`` metres.

    The neighbourhoods of each centre segment (the border segments near it, and its clearance to any border)
    are computed here, as are the nearest inner and outer border segments to each centre vertex."""
    floats: dict[str, np.ndarray] = {}
    ints: dict[str, np.ndarray] = {}
    meta = np.zeros(11, dtype=np.int64)
    for p, pts in enumerate(polylines):
        a, d = pts[:-1], pts[1:] - pts[:-1]
        floats[f"ax{p}"], floats[f"ay{p}"] = a[:, 0].copy(), a[:, 1].copy()
        floats[f"dx{p}"], floats[f"dy{p}"] = d[:, 0].copy(), d[:, 1].copy()
        floats[f"l2{p}"] = np.maximum((d ** 2).sum(axis=1), 1e-18)
        deg = ((d ** 2).sum(axis=1) < DUPLICATE_M ** 2).astype(np.int64)
        ints[f"deg{p}"] = deg
        meta[M_N0 + p] = len(a)
        meta[M_DEG0 + p] = int(deg.any())
    meta[M_CLOSED], meta[M_CCW] = int(closed), int(ccw)
    centre = polylines[0]
    ca, cd = centre[:-1], centre[1:] - centre[:-1]
    borders_a = np.concatenate([polylines[1][:-1], polylines[2][:-1]])
    borders_d = np.concatenate([polylines[1][1:] - polylines[1][:-1], polylines[2][1:] - polylines[2][:-1]])
    samples = 6
    t = np.linspace(0.0, 1.0, samples)
    sample_pts = ca[:, None, :] + t[None, :, None] * cd[:, None, :]  # (M, S, 2)
    rel = sample_pts[:, :, None, :] - borders_a[None, None, :, :]  # (M, S, B, 2)
    bl2 = np.maximum((borders_d ** 2).sum(axis=1), 1e-18)
    tb = np.clip((rel * borders_d).sum(axis=-1) / bl2, 0.0, 1.0)
    dist = np.linalg.norm(rel - tb[..., None] * borders_d, axis=-1)  # (M, S, B)
    gap = np.sqrt(np.maximum((cd ** 2).sum(axis=1), 1e-18)) / (samples - 1) / 2
    floats["clear"] = dist.min(axis=(1, 2)) - gap
    near_window = dist.min(axis=1) <= WINDOW_M  # (M, B)
    width = max(int(near_window.sum(axis=1).max()), 1)
    window = np.zeros((len(ca), width, 4))
    window[:, :, 0] = window[:, :, 1] = 1e9  # padding: a far, unit segment no query reaches
    window[:, :, 2] = 1.0
    for i, row in enumerate(near_window):
        js = np.flatnonzero(row)
        window[i, :len(js), 0:2], window[i, :len(js), 2:4] = borders_a[js], borders_d[js]
    floats["window"] = window.ravel()
    close = dist.min(axis=1) <= NEAR_M
    starts = np.concatenate([[0], np.cumsum(close.sum(axis=1))]).astype(np.int64)
    near = np.zeros((int(starts[-1]), 4))
    for i, row in enumerate(close):
        js = np.flatnonzero(row)
        near[starts[i]:starts[i + 1], 0:2], near[starts[i]:starts[i + 1], 2:4] = borders_a[js], borders_d[js]
    floats["near"], ints["near_start"] = near.ravel(), starts
    floats["borders"] = np.concatenate([borders_a, borders_d], axis=1).ravel()
    floats["arc"], floats["ndist"] = np.asarray(arc, dtype=np.float64), np.asarray(ndist, dtype=np.float64)
    floats["resampled"] = np.ascontiguousarray(resampled, dtype=np.float64).ravel()
    headings = np.arctan2(cd[:, 1], cd[:, 0])
    seg_len = np.diff(np.asarray(arc, dtype=np.float64))  # 0 exactly for a duplicate row's segment
    real = np.flatnonzero(seg_len > 0)
    for z in np.flatnonzero(seg_len == 0):  # a zero-length (duplicate) segment takes the next real one's
        later = real[real > z]
        headings[z] = headings[later[0] if len(later) else real[-1]]
    floats["headings"] = headings
    meta[M_WINDOW], meta[M_RESAMPLED], meta[M_BORDERS] = width, len(resampled), len(borders_a)
    ints["meta"] = meta
    floats["widths"] = np.zeros(len(ca))
    floats["scalars"] = np.array([float(arc[-1]), 0.0, spacing, float(centre[-1, 0]), float(centre[-1, 1])])
    ints["inner_hint"] = np.zeros(len(ca), dtype=np.int64)
    ints["outer_hint"] = np.zeros(len(ca), dtype=np.int64)
    f, g, o = _concatenate(floats, ints)
    # the nearest inner and outer segment to each centre vertex: the hints of the border walks
    for i in range(len(ca)):
        g[o[I_INNER_HINT] + i] = nearest_segment(f, g, o, 1, float(ca[i, 0]), float(ca[i, 1]))[0]
        g[o[I_OUTER_HINT] + i] = nearest_segment(f, g, o, 2, float(ca[i, 0]), float(ca[i, 1]))[0]
    for i in range(len(ca)):  # the simulator's track_width at each vertex
        f[o[F_WIDTHS] + i] = width_at(f, g, o, i, 0.0)[0]
    f[o[F_SCALARS] + S_MAX_HALF] = float(f[o[F_WIDTHS]:o[F_WIDTHS] + len(ca)].max()) / 2
    return f, g, o


def _concatenate(floats: dict[str, np.ndarray], ints: dict[str, np.ndarray]) -> tuple:
    f_parts = [np.asarray(floats[name], dtype=np.float64).ravel() for name in FLOAT_FIELDS]
    g_parts = [np.asarray(ints[name], dtype=np.int64).ravel() for name in INT_FIELDS]
    o = np.zeros(len(FLOAT_FIELDS) + len(INT_FIELDS), dtype=np.int64)
    o[:len(FLOAT_FIELDS)] = np.concatenate([[0], np.cumsum([len(p) for p in f_parts])[:-1]])
    o[len(FLOAT_FIELDS):] = np.concatenate([[0], np.cumsum([len(p) for p in g_parts])[:-1]])
    return np.concatenate(f_parts), np.concatenate(g_parts), o


# ------------------------------------------------------------------------------------------ polylines
@njit(cache=True)
def _segment(f, o, p, i, px, py):
    """(t, squared distance) of (px, py)'s projection on segment i of polyline p."""
    base = 5 * p
    ax, ay = f[o[base] + i], f[o[base + 1] + i]
    dx, dy = f[o[base + 2] + i], f[o[base + 3] + i]
    t = ((px - ax) * dx + (py - ay) * dy) / f[o[base + 4] + i]
    t = 0.0 if t < 0.0 else (1.0 if t > 1.0 else t)
    ex, ey = ax + t * dx - px, ay + t * dy - py
    return t, ex * ex + ey * ey


@njit(cache=True)
def point(f, o, p, i, t):
    """The point (seg i, t) of polyline p [m]."""
    base = 5 * p
    return f[o[base] + i] + t * f[o[base + 2] + i], f[o[base + 1] + i] + t * f[o[base + 3] + i]


@njit(cache=True)
def walk(f, g, o, p, px, py, i):
    """Walk along polyline p from segment i to the locally nearest segment to (px, py): (segment, t, squared
    distance). Zero-length segments (duplicate rows) are stepped over."""
    n = g[o[I_META] + M_N0 + p]
    closed = g[o[I_META] + M_CLOSED] == 1
    t, d2 = _segment(f, o, p, i, px, py)
    if g[o[I_META] + M_DEG0 + p] == 0:
        last = n - 1 if closed else -1
        first = 0 if closed else -1
        while True:
            moved = False
            for k in range(2):  # the next segment, then the previous
                if k == 0:
                    j = i + 1 if i + 1 < n else first
                else:
                    j = i - 1 if i > 0 else last
                if j < 0:
                    continue
                tj, dj = _segment(f, o, p, j, px, py)
                if dj < d2:
                    i, t, d2 = j, tj, dj
                    moved = True
                    break
            if not moved:
                return i, t, d2
    deg = o[I_DEG + p]
    while True:
        moved = False
        for step in (1, -1):
            j = i + step
            while True:  # a zero-length segment is no closer than its neighbours: look past it
                jj = j % n if closed else j
                if not (0 <= jj < n) or g[deg + jj] == 0:
                    break
                j += step
            if closed:
                j %= n
            elif not 0 <= j < n:
                continue
            tj, dj = _segment(f, o, p, j, px, py)
            if dj < d2:
                i, t, d2 = j, tj, dj
                moved = True
                break
        if not moved:
            return i, t, d2


@njit(cache=True)
def nearest_segment(f, g, o, p, px, py):
    """The globally nearest segment of polyline p to (px, py): (segment, t, squared distance)."""
    n = g[o[I_META] + M_N0 + p]
    best_i, best_t, best_d2 = 0, 0.0, math.inf
    for i in range(n):
        t, d2 = _segment(f, o, p, i, px, py)
        if d2 < best_d2:
            best_i, best_t, best_d2 = i, t, d2
    return best_i, best_t, best_d2


@njit(cache=True)
def project(f, g, o, x, y, hint):
    """The nearest point of the centre line to (x, y) [m]: (segment, t, distance [m], arc [m]). With a
    ``hint`` >= 0 (the segment of a nearby earlier query) it walks from there, which costs the same on any
    track; a point far from the road, or no hint, scans every segment."""
    arc0 = o[F_ARC]
    if hint >= 0:
        i, t, d2 = walk(f, g, o, 0, x, y, hint)
        lim = f[o[F_SCALARS] + S_MAX_HALF] + FAR_M
        if d2 <= lim * lim:
            return i, t, math.sqrt(d2), f[arc0 + i] + t * (f[arc0 + i + 1] - f[arc0 + i])
    i, t, d2 = nearest_segment(f, g, o, 0, x, y)
    return i, t, math.sqrt(d2), f[arc0 + i] + t * (f[arc0 + i + 1] - f[arc0 + i])


@njit(cache=True)
def project_many(f, g, o, xs, ys, hints, seg, t, dist, arc):
    """:func:`project` for arrays of points, into ``seg``, ``t``, ``dist``, ``arc``."""
    for k in range(xs.shape[0]):
        seg[k], t[k], dist[k], arc[k] = project(f, g, o, xs[k], ys[k], hints[k])


@njit(cache=True)
def width_at(f, g, o, seg, t):
    """The simulator's ``track_width`` at the centre point (seg, t): the distance between the nearest inner and
    nearest outer border points to it [m], and those points: (width, ix, iy, ox, oy)."""
    cx, cy = point(f, o, 0, seg, t)
    n = g[o[I_META] + M_N0]
    k = seg if seg < n else n - 1
    i, ti, _ = walk(f, g, o, 1, cx, cy, g[o[I_INNER_HINT] + k])
    j, tj, _ = walk(f, g, o, 2, cx, cy, g[o[I_OUTER_HINT] + k])
    ix, iy = point(f, o, 1, i, ti)
    ox, oy = point(f, o, 2, j, tj)
    return math.hypot(ix - ox, iy - oy), ix, iy, ox, oy


@njit(cache=True)
def points_on_track(f, g, o, px, py, seg, t, dist, reach, out):
    """Which points (px[k], py[k]) lie on the road, for points within ``reach`` [m] of a point projecting at
    (seg, t, dist); into ``out`` (booleans). Exact: a point is on the road when the straight line from the
    centre point to it crosses the borders an even number of times. When every point is well inside (the
    usual case) no border is examined."""
    m = px.shape[0]
    clear = f[o[F_CLEAR] + seg]
    if dist + reach < clear:
        for k in range(m):
            out[k] = True
        return
    cx, cy = point(f, o, 0, seg, t)
    if dist + reach < NEAR_M:
        # a point inside the clear disk round the centre point is on the road; test only the others
        near0 = o[F_NEAR]
        s0, s1 = g[o[I_NEAR_START] + seg], g[o[I_NEAR_START] + seg + 1]
        for k in range(m):
            ux, uy = px[k] - cx, py[k] - cy
            if ux * ux + uy * uy < clear * clear:
                out[k] = True
                continue
            crossings = 0
            for j in range(s0, s1):
                ax, ay = f[near0 + 4 * j], f[near0 + 4 * j + 1]
                dx, dy = f[near0 + 4 * j + 2], f[near0 + 4 * j + 3]
                denom = ux * dy - uy * dx
                if denom == 0.0:
                    continue
                rx, ry = ax - cx, ay - cy
                tq = (rx * dy - ry * dx) / denom
                sb = (rx * uy - ry * ux) / denom
                if 0.0 <= tq <= 1.0 and 0.0 <= sb < 1.0:
                    crossings += 1
            out[k] = crossings % 2 == 0
        return
    if dist + reach < WINDOW_M:
        w = g[o[I_META] + M_WINDOW]
        base, count = o[F_WINDOW] + 4 * w * seg, w
    else:
        base, count = o[F_BORDERS], g[o[I_META] + M_BORDERS]
    for k in range(m):
        qx, qy = px[k] - cx, py[k] - cy  # from the centre point to the point
        hits = 0
        for j in range(count):
            bx, by = f[base + 4 * j] - cx, f[base + 4 * j + 1] - cy  # to the border segment's start
            bdx, bdy = f[base + 4 * j + 2], f[base + 4 * j + 3]
            denom = qx * bdy - qy * bdx
            sgn = 1.0 if denom > 0.0 else (-1.0 if denom < 0.0 else 0.0)
            tn = (bx * bdy - by * bdx) * sgn  # along the query segment, scaled by |denom|
            sn = (bx * qy - by * qx) * sgn  # along the border segment
            ad = abs(denom)
            if ad > 0.0 and tn >= 0.0 and tn <= ad and sn >= 0.0 and sn < ad:
                hits += 1
        out[k] = hits % 2 == 0


# ---------------------------------------------------------------------------------------------- params
@njit(cache=True)
def normalize_heading(deg):
    """An angle in degrees wrapped into (-180, 180]."""
    deg = np.fmod(deg, 360.0)  # C fmod, as math.fmod (which numba lacks)
    if deg > 180.0:
        deg -= 360.0
    elif deg <= -180.0:
        deg += 360.0
    return deg


@njit(cache=True)
def progress_from(position, start, prev, has_prev):
    """Progress [%] at ``position`` [% of the lap from waypoint 0] of an episode that started at ``start`` [%],
    with the simulator's finish-line wrap rules against the previous step's progress ``prev`` (spec §1.3)."""
    p = position - start
    if p <= 0.0:
        p += 100.0
    if has_prev:
        if prev > p + 50.0:
            p += 100.0
        if p > prev + 50.0:
            p -= 100.0
    return p if p < 100.0 else 100.0


@njit(cache=True)
def closest_waypoints(f, g, o, arc):
    """[previous, next] waypoint indices around ``arc`` [m], as the simulator's bisect on the normalised
    distances does."""
    n = g[o[I_META] + M_N0] + 1
    nd0 = o[F_NDIST]
    x = arc / f[o[F_SCALARS] + S_LENGTH]
    lo, hi = 0, n  # bisect_right
    while lo < hi:
        mid = (lo + hi) // 2
        if x < f[nd0 + mid]:
            hi = mid
        else:
            lo = mid + 1
    nxt = lo
    prv = nxt - 1
    if prv == -1:
        prv = n - 1
    if nxt == n:
        nxt = 0
    return prv, nxt


@njit(cache=True)
def wheels_on_track(f, g, o, x, y, yaw, seg, t, dist, wheels):
    """Which wheel centres (left rear, right rear, left front, right front) of a car whose params point (x, y)
    [m] with ``yaw`` [rad] projects at (seg, t, dist) are on the road: into ``wheels`` (four booleans)."""
    c, s = math.cos(yaw), math.sin(yaw)
    wx = np.empty(4)
    wy = np.empty(4)
    for k in range(4):
        wx[k] = x + c * WHEEL_DX[k] - s * WHEEL_DY[k]
        wy[k] = y + s * WHEEL_DX[k] + c * WHEEL_DY[k]
    points_on_track(f, g, o, wx, wy, seg, t, dist, WHEEL_REACH_M, wheels)


@njit(cache=True)
def car_params(f, g, o, x, y, yaw, seg, t, dist, arc, start, prev, has_prev, wheels):
    """The geometric params of a car whose params point (x, y) [m] with ``yaw`` [rad] projects at (seg, t,
    dist, arc): the wheels on the road (into ``wheels``, four booleans), and (progress [%], track_width [m],
    is_left_of_center, heading [deg], previous waypoint, next waypoint)."""
    wheels_on_track(f, g, o, x, y, yaw, seg, t, dist, wheels)
    width, ix, iy, ox, oy = width_at(f, g, o, seg, t)
    d_in = math.hypot(x - ix, y - iy)
    d_out = math.hypot(x - ox, y - oy)
    ccw = g[o[I_META] + M_CCW] == 1
    left = (d_in < d_out) != (not ccw)  # nearer the inner border, flipped on a clockwise lap
    length = f[o[F_SCALARS] + S_LENGTH]
    progress = progress_from(100.0 * arc / length, start, prev, has_prev)
    prv, nxt = closest_waypoints(f, g, o, arc)
    return progress, width, left, normalize_heading(math.degrees(yaw)), prv, nxt


# ------------------------------------------------------------------------------------------------ the car
@njit(cache=True)
def clip_controls(steering, speed):
    """A command clipped as the simulator clips it before driving: ±30°, 0.1–4 m/s (spec §3.3)."""
    steering = -MAX_STEERING_DEG if steering < -MAX_STEERING_DEG else (
        MAX_STEERING_DEG if steering > MAX_STEERING_DEG else steering)
    speed = MIN_SPEED_MPS if speed < MIN_SPEED_MPS else (MAX_SPEED_MPS if speed > MAX_SPEED_MPS else speed)
    return steering, speed


@njit(cache=True)
def _tick(delta, bx, by, yaw, vh, target, gain, inv_l, max_kappa):
    """One 60 Hz tick of a car's controller and motion: the wheels' angle ``delta`` [rad] closes ``gain`` of its
    error to the command in effect ``target`` [rad]; the body origin (bx, by) [m] then moves ``vh`` [m] along the
    arc of curvature tan(delta) × ``inv_l`` [1/m], capped at ±``max_kappa``, turning ``yaw`` [rad]. Returns
    (delta, bx, by, yaw)."""
    delta += gain * (target - delta)
    kappa = math.tan(delta) * inv_l
    if kappa > max_kappa:
        kappa = max_kappa
    elif kappa < -max_kappa:
        kappa = -max_kappa
    half = 0.5 * vh * kappa  # half the heading change of this tick
    chord = vh if abs(half) < 1e-9 else vh * math.sin(half) / half  # the arc's chord
    bx += chord * math.cos(yaw + half)
    by += chord * math.sin(yaw + half)
    yaw += 2.0 * half
    return delta, bx, by, yaw


@njit(cache=True)
def _store(state, k, bx, by, yaw, v, delta, x0, y0):
    """Write car ``k``'s state after its ticks: the body origin and yaw (wrapped to ±pi), the params point, the
    speed [m/s], the wheels' angle [rad], and how far the params point moved from (``x0``, ``y0``) [m]."""
    yaw = math.atan2(math.sin(yaw), math.cos(yaw))
    state[k, C_BX], state[k, C_BY], state[k, C_YAW] = bx, by, yaw
    state[k, C_X] = bx + PARAMS_POINT_X_M * math.cos(yaw)
    state[k, C_Y] = by + PARAMS_POINT_X_M * math.sin(yaw)
    state[k, C_SPEED] = v
    state[k, C_DELTA] = delta
    state[k, C_MOVED] = math.hypot(state[k, C_X] - x0, state[k, C_Y] - y0)


@njit(cache=True)
def car_step(state, steer_hist, speed_hist, k, steering, speed, clip, feedback, weights, gain, dead, wheelbase,
             grip):
    """Apply one command (steering [deg], speed [m/s]) to car ``k`` and advance it 1/15 s (spec §3.4-3.6).

    The command is clipped to ±30° and 0.1–4 m/s unless ``clip`` is False (the prepare step sends speed 0).
    ``steer_hist`` and ``speed_hist`` hold the commands, newest first (steering in radians). Speed during the
    step is ``feedback * speed + sum(weights[j] * command_(k-j))``; at each of the 60 Hz ticks the wheels close
    ``gain`` of the error to the command in effect, the newest one after ``dead`` ticks; the path's curvature
    tan(wheels) / ``wheelbase`` is capped so that speed² × curvature <= ``grip``."""
    if clip:
        steering, speed = clip_controls(steering, speed)
    nh = steer_hist.shape[1]
    for j in range(nh - 1, 0, -1):
        steer_hist[k, j] = steer_hist[k, j - 1]
    steer_hist[k, 0] = math.radians(steering)
    nv = speed_hist.shape[1]
    for j in range(nv - 1, 0, -1):
        speed_hist[k, j] = speed_hist[k, j - 1]
    speed_hist[k, 0] = speed
    v = feedback * state[k, C_SPEED]
    for j in range(nv):
        v += weights[j] * speed_hist[k, j]
    h = 1.0 / CONTROL_HZ
    vh = v * h
    max_kappa = grip / (v * v) if v > 1e-9 else math.inf
    inv_l = 1.0 / wheelbase
    bx, by, yaw = state[k, C_BX], state[k, C_BY], state[k, C_YAW]
    delta = state[k, C_DELTA]
    for tick in range(TICKS_PER_STEP):
        delta, bx, by, yaw = _tick(delta, bx, by, yaw, vh, steer_hist[k, -((tick - dead) // TICKS_PER_STEP)], gain,
                                   inv_l, max_kappa)
    _store(state, k, bx, by, yaw, v, delta, state[k, C_X], state[k, C_Y])


@njit(cache=True)
def car_ticks(state, tick_steer, tick_speed, tick_v, k, ticks, steering, speed, clip, x0, y0, feedback, weights,
              gain, dead, wheelbase, grip):
    """Advance car ``k`` by ``ticks`` ticks of its 60 Hz controller holding one command (steering [deg], speed
    [m/s]): :func:`car_step` at the resolution of a tick, for commands that change between the simulator's steps
    (racer_env.sim.controller).

    ``tick_steer`` [rad] and ``tick_speed`` [m/s] hold the command sent at each past tick, ``tick_v`` the speed
    [m/s] at each of the last four ticks, newest first. At each tick the speed is ``feedback`` × the speed a step
    (four ticks) before + sum(``weights[j]`` × the command sent j steps (4j ticks) before): car_step's filter, its
    lags counted from the tick a command came; the wheels close ``gain`` of their error to the command sent
    ``dead`` ticks before, and the path's curvature is capped by ``grip`` as in car_step. A command held for whole
    steps moves the car exactly as car_step does, bit for bit. ``C_SPEED`` becomes the last tick's speed,
    ``C_MOVED`` the distance of the params point from (``x0``, ``y0``) [m], where it was at the step's start."""
    if clip:
        steering, speed = clip_controls(steering, speed)
    rad = math.radians(steering)
    ns, nv, nw = tick_steer.shape[1], tick_speed.shape[1], weights.shape[0]
    h = 1.0 / CONTROL_HZ
    inv_l = 1.0 / wheelbase
    bx, by, yaw = state[k, C_BX], state[k, C_BY], state[k, C_YAW]
    delta = state[k, C_DELTA]
    v = state[k, C_SPEED]
    for _ in range(ticks):
        for j in range(ns - 1, 0, -1):
            tick_steer[k, j] = tick_steer[k, j - 1]
        tick_steer[k, 0] = rad
        for j in range(nv - 1, 0, -1):
            tick_speed[k, j] = tick_speed[k, j - 1]
        tick_speed[k, 0] = speed
        v = feedback * tick_v[k, TICKS_PER_STEP - 1]
        for j in range(nw):
            v += weights[j] * tick_speed[k, TICKS_PER_STEP * j]
        for j in range(TICKS_PER_STEP - 1, 0, -1):
            tick_v[k, j] = tick_v[k, j - 1]
        tick_v[k, 0] = v
        max_kappa = grip / (v * v) if v > 1e-9 else math.inf
        delta, bx, by, yaw = _tick(delta, bx, by, yaw, v * h, tick_steer[k, dead], gain, inv_l, max_kappa)
    _store(state, k, bx, by, yaw, v, delta, x0, y0)


@njit(cache=True)
def steer_ticks(state, steer_hist, k, gain, dead):
    """Run car ``k``'s steering controller through one step's ticks without moving it (warming it up)."""
    delta = state[k, C_DELTA]
    for tick in range(TICKS_PER_STEP):
        delta += gain * (steer_hist[k, -((tick - dead) // TICKS_PER_STEP)] - delta)
    state[k, C_DELTA] = delta


# -------------------------------------------------------------------------------------------- observing
@njit(cache=True)
def _clip(v, lo, hi):
    return lo if v < lo else (hi if v > hi else v)


@njit(cache=True)
def vector_observation(f, g, o, x, y, yaw, seg, arc, dist, speed, delta_deg, older_deg, newer_deg, speed_cmd,
                       out):
    """The 26 values of racer_env's vector observation (racer_env.env.observations) into ``out``: ten centre-line
    points ahead in the car's frame / 3 m, the signed offset / half the width, speed, the wheels' angle, the
    last two steering commands and the newest speed command, each scaled and clipped."""
    res0 = o[F_RESAMPLED]
    n = g[o[I_META] + M_RESAMPLED]
    spacing = f[o[F_SCALARS] + S_SPACING]
    closed = g[o[I_META] + M_CLOSED] == 1
    c, s = math.cos(yaw) / OBS_SCALE_M, math.sin(yaw) / OBS_SCALE_M
    for j in range(LOOKAHEAD_M.shape[0]):
        k = int((arc + LOOKAHEAD_M[j]) / spacing)
        k = k % n if closed else (k if k < n - 1 else n - 1)
        rx, ry = f[res0 + 2 * k] - x, f[res0 + 2 * k + 1] - y
        out[2 * j] = _clip(rx * c + ry * s, -2.0, 2.0)
        out[2 * j + 1] = _clip(ry * c - rx * s, -2.0, 2.0)
    b = 5 * 0
    side = f[o[b + 2] + seg] * (y - f[o[b + 1] + seg]) - f[o[b + 3] + seg] * (x - f[o[b] + seg])
    half_width = 0.5 * f[o[F_WIDTHS] + seg]
    m = 2 * LOOKAHEAD_M.shape[0]
    out[m] = _clip((dist if side >= 0 else -dist) / half_width, -3.0, 3.0)
    out[m + 1] = _clip(speed / MAX_SPEED_MPS, 0.0, 1.5)
    out[m + 2] = _clip(delta_deg / MAX_STEERING_DEG, -1.5, 1.5)
    out[m + 3] = _clip(older_deg / MAX_STEERING_DEG, -1.5, 1.5)
    out[m + 4] = _clip(newer_deg / MAX_STEERING_DEG, -1.5, 1.5)
    out[m + 5] = _clip(speed_cmd / MAX_SPEED_MPS, 0.0, 1.5)


# ------------------------------------------------------------------------------------------------ fleets


def compiled(kernel: Any, args: tuple) -> Callable[..., Any]:
    """``kernel``'s machine code for exactly the types of ``args`` (compiled now, or loaded from numba's cache,
    if it was not yet): a function to call with arguments of those same types only.

    Why: a kernel called through its dispatcher first works out the type of every argument, on every call; for
    :func:`fleet_advance`'s 20 arguments that is about a fifth of the call (1.1 of 5 us a step, measured). The
    code returned skips that and checks nothing, so it is only for arguments that cannot change type: a fleet's
    own arrays, made once, with their dtypes, dimensions and layouts fixed. Anything else goes through the
    dispatcher, which picks (or compiles) the right code for what it is given."""
    import numba

    signature = tuple(numba.typeof(a) for a in args)
    kernel.compile(signature)  # a no-op when this signature's code is loaded already
    return kernel.overloads[signature].entry_point


def model_array(feedback: float, weights: tuple, gain: float, dead: int, wheelbase: float, grip: float) -> np.ndarray:
    """A car model's dynamics as one array for :func:`fleet_advance`: (feedback, gain, dead ticks, wheelbase,
    grip, the speed weights...)."""
    return np.array([feedback, gain, float(dead), wheelbase, grip, *weights], dtype=np.float64)


@njit(cache=True)
def fleet_geometry(f, g, o, state, seg, t, dist, arc, ks, ep, geo):
    """:func:`car_params` for the cars ``ks`` at their poses now, into the rows of ``geo`` (:data:`GEOMETRY`);
    ``ep`` holds each car's episode start and previous progress [%]."""
    wheels = np.empty(4, dtype=np.bool_)
    w0, w1 = o[0], o[1]
    n = g[o[I_META] + M_N0]
    sc = o[F_SCALARS]
    for j in range(ks.shape[0]):
        k = ks[j]
        x, y = state[k, C_X], state[k, C_Y]
        p, w, lft, hdg, a, b = car_params(f, g, o, x, y, state[k, C_YAW], seg[k], t[k], dist[k], arc[k],
                                          ep[k, 0], ep[k, 1], True, wheels)
        geo[k, G_PROGRESS], geo[k, G_WIDTH], geo[k, G_HEADING] = p, w, hdg
        geo[k, G_LEFT] = 1.0 if lft else 0.0
        geo[k, G_ALL_ON] = 1.0 if (wheels[0] and wheels[1] and wheels[2] and wheels[3]) else 0.0
        geo[k, G_NONE_ON] = 0.0 if (wheels[0] or wheels[1] or wheels[2] or wheels[3]) else 1.0
        geo[k, G_PRV], geo[k, G_NXT] = a, b
        # the waypoints are the centre line's points: segment starts, and the last segment's end
        ax, ay = (f[w0 + a], f[w1 + a]) if a < n else (f[sc + S_LAST_X], f[sc + S_LAST_Y])
        bx, by = (f[w0 + b], f[w1 + b]) if b < n else (f[sc + S_LAST_X], f[sc + S_LAST_Y])
        geo[k, G_CLOSEST] = a if (x - ax) ** 2 + (y - ay) ** 2 <= (x - bx) ** 2 + (y - by) ** 2 else b


@njit(cache=True)
def fleet_advance(f, g, o, state, steer_hist, speed_hist, seg, t, dist, arc, ks, moving, cmd, ep, geo, obs,
                  observe, model, sim_time, dt):
    """One step's end for the cars ``ks``: each moves by its command ``cmd[k]`` (steering [deg], speed [m/s])
    as ``moving[k]`` says (1 clipped, 2 unclipped: the prepare step, 0 frozen: a penalty pause; a frozen car
    keeps what it moved last), is projected again walking from its last segment, gets the params geometry of
    its next step (:func:`fleet_geometry`, from ``ep``) and, with ``observe``, its vector observation
    (:func:`vector_observation`) in its row of ``obs``; its clock ``sim_time[k]`` advances ``dt`` [s].
    ``model`` is :func:`model_array`'s."""
    feedback, gain, dead, wheelbase, grip = model[0], model[1], int(model[2]), model[3], model[4]
    weights = model[5:]
    row = np.empty(OBS_VALUES)
    nh = steer_hist.shape[1]
    for j in range(ks.shape[0]):
        k = ks[j]
        if moving[k] != 0:
            car_step(state, steer_hist, speed_hist, k, cmd[k, 0], cmd[k, 1], moving[k] == 1, feedback, weights, gain,
                     dead, wheelbase, grip)
        seg[k], t[k], dist[k], arc[k] = project(f, g, o, state[k, C_X], state[k, C_Y], seg[k])
        sim_time[k] += dt
    fleet_geometry(f, g, o, state, seg, t, dist, arc, ks, ep, geo)
    if observe:
        for j in range(ks.shape[0]):
            k = ks[j]
            older = steer_hist[k, 1] if nh > 1 else steer_hist[k, 0]
            vector_observation(f, g, o, state[k, C_X], state[k, C_Y], state[k, C_YAW], seg[k], arc[k], dist[k],
                               state[k, C_SPEED], math.degrees(state[k, C_DELTA]), math.degrees(older),
                               math.degrees(steer_hist[k, 0]), speed_hist[k, 0], row)
            for m in range(OBS_VALUES):
                obs[k, m] = row[m]


@njit(cache=True)
def continuous_controls(actions, ranges, cmd):
    """Each car's [steering, speed] action in [-1, 1] (clipped to it) as a command [deg], [m/s] in ``cmd``,
    rescaled linearly onto the action space's ranges (DeepRacer's ScalableBoxActionSpace): ``ranges`` holds the
    steering's low and high [deg], then the speed's [m/s] (one array: a call's arguments cost time to pass)."""
    steer_lo, steer_hi, speed_lo, speed_hi = ranges[0], ranges[1], ranges[2], ranges[3]
    for k in range(actions.shape[0]):
        a0, a1 = actions[k, 0], actions[k, 1]
        a0 = -1.0 if a0 < -1.0 else (1.0 if a0 > 1.0 else a0)
        a1 = -1.0 if a1 < -1.0 else (1.0 if a1 > 1.0 else a1)
        cmd[k, 0] = steer_lo + (a0 + 1.0) * 0.5 * (steer_hi - steer_lo)
        cmd[k, 1] = speed_lo + (a1 + 1.0) * 0.5 * (speed_hi - speed_lo)


# ------------------------------------------------------------------------------------------------ objects
OBJECT_FIELDS = ("x", "y", "yaw", "kind", "distance", "offset")
"""The columns of an objects array: centre [m], heading [rad], the kind (:data:`KIND_CODES`), distance along
the centre line [m], signed offset from it (positive on the inner side) [m]."""
KIND_CODES = {"box": 0.0, "bot": 1.0, "parked": 2.0}
"""An object's kind in an objects array: a box, a bot car, a bot-car model parked as an obstacle."""
_REACH_M = 0.65  # no object centre further than this (each way) from the params point can touch the car: a
# corner of the car is within 0.32 m of the params point, and a crash rectangle's corners within 0.33 m of its centre
_CONTACT_M = 0.6  # no corner of the car can be inside an object whose centre is further than this from the car's
_TAN_H = math.tan(CAMERA_HFOV_RAD / 2)
_TAN_V = _TAN_H * CAMERA_ASPECT
_COS_P, _SIN_P = math.cos(CAMERA_PITCH_RAD), math.sin(CAMERA_PITCH_RAD)


@njit(cache=True)
def _crash_size(kind):
    """(length, width) [m] of an object's crash rectangle (racer_env.sim.objects.crash_size)."""
    return (BOX_CRASH_LENGTH_M, BOX_CRASH_WIDTH_M) if kind == 0.0 else (BOT_LENGTH_M, BOT_WIDTH_M)


@njit(cache=True)
def contact(objs, bx, by, yaw):
    """The first object (in the array's order) with one of the crash footprint's corners of a car whose body
    origin is (bx, by) [m] with ``yaw`` [rad] strictly inside its crash rectangle, or -1 (objects spec §4.1;
    racer_env.sim.objects.contact)."""
    c, s = math.cos(yaw), math.sin(yaw)
    px = np.empty(4)
    py = np.empty(4)
    j = 0
    for dx in (CAR_LENGTH_M / 2, -CAR_LENGTH_M / 2):
        for dy in (CAR_WIDTH_M / 2, -CAR_WIDTH_M / 2):
            px[j], py[j] = bx + c * dx - s * dy, by + s * dx + c * dy
            j += 1
    cx = (px[0] + px[1] + px[2] + px[3]) / 4
    cy = (py[0] + py[1] + py[2] + py[3]) / 4
    for i in range(objs.shape[0]):
        ox, oy = objs[i, 0], objs[i, 1]
        if abs(ox - cx) > _CONTACT_M or abs(oy - cy) > _CONTACT_M:  # too far for any corner to be inside
            continue
        length, width = _crash_size(objs[i, 3])
        oc, os_ = math.cos(objs[i, 2]), math.sin(objs[i, 2])
        hl, hw = length / 2, width / 2
        for m in range(4):
            dx, dy = px[m] - ox, py[m] - oy
            if abs(dx * oc + dy * os_) < hl and abs(dy * oc - dx * os_) < hw:
                return i
    return -1


@njit(cache=True)
def touching(objs, x, y, yaw):
    """The first object a car (params point (x, y) [m], ``yaw`` [rad]) touches, or -1 (racer_env.env.params
    Objects.touching): :func:`contact`, once any object's centre is near enough."""
    for i in range(objs.shape[0]):
        if -_REACH_M < objs[i, 0] - x < _REACH_M and -_REACH_M < objs[i, 1] - y < _REACH_M:
            return contact(objs, x - PARAMS_POINT_X_M * math.cos(yaw), y - PARAMS_POINT_X_M * math.sin(yaw), yaw)
    return -1


@njit(cache=True)
def _visible(bx, by, c, s, px, py, pz):
    """Is (px, py, pz) strictly inside the camera frustum of a car at (bx, by) with cos/sin of yaw (c, s)?"""
    dx, dy = px - bx, py - by
    fx = dx * c + dy * s - CAMERA_X_M  # forward of the camera, level
    left = dy * c - dx * s
    fz = pz - CAMERA_Z_M
    depth = fx * _COS_P - fz * _SIN_P  # along the optical axis, pitched 15° down
    up = fx * _SIN_P + fz * _COS_P
    return CAMERA_NEAR_M < depth < CAMERA_FAR_M and abs(left) < depth * _TAN_H and abs(up) < depth * _TAN_V


@njit(cache=True)
def in_camera(objs, i, bx, by, yaw):
    """Whether the camera of a car with origin (bx, by) [m] and ``yaw`` [rad] sees object ``i``: any corner of
    its footprint, or its centre, at its height strictly inside the frustum (objects spec §6.8;
    racer_env.sim.sensors.in_camera)."""
    c, s = math.cos(yaw), math.sin(yaw)
    ox, oy, kind = objs[i, 0], objs[i, 1], objs[i, 3]
    if (ox - bx) * c + (oy - by) * s < CAMERA_X_M - 0.05:  # its centre behind the camera: no corner is
        return False  # far enough ahead (0.2 m past the camera, and corners are within 0.33 m of the centre)
    z = BOX_Z_M if kind == 0.0 else 0.0
    if _visible(bx, by, c, s, ox, oy, z):
        return True
    length, width = _crash_size(kind)
    oc, os_ = math.cos(objs[i, 2]), math.sin(objs[i, 2])
    for ax, ay in ((length / 2, width / 2), (length / 2, -width / 2), (-length / 2, width / 2),
                   (-length / 2, -width / 2)):
        if _visible(bx, by, c, s, ox + ax * oc - ay * os_, oy + ax * os_ + ay * oc, z):
            return True
    return False


@njit(cache=True)
def object_params(objs, order, sorted_distance, x, y, yaw, arc, agent_pct, length, intended, out):
    """The params of the objects a car (params point (x, y) [m], ``yaw`` [rad], at ``arc`` [m] along the centre
    line, ``agent_pct`` [%] of the lap from waypoint 0) sees, into ``out``: the object it touches (-1: none),
    whether that counts as its crash (an obstacle always; a bot car only when the car is behind it, the
    comparison not wrapping, §4.2), ``closest_objects`` [previous, next] by distance along the centre line
    (``order`` sorts the objects by it, ``sorted_distance`` is theirs) and ``object_in_camera`` (object next - 1,
    the simulator's rule, or next with ``intended``, §6.7-6.8)."""
    hit = touching(objs, x, y, yaw)
    crashed = False
    if hit >= 0:
        front = 100.0 * ((objs[hit, 4] + PARAMS_POINT_X_M) % length) / length
        crashed = objs[hit, 3] != 1.0 or agent_pct < front
    n = order.shape[0]
    lo, hi = 0, n  # bisect_right
    while lo < hi:
        mid = (lo + hi) // 2
        if arc < sorted_distance[mid]:
            hi = mid
        else:
            lo = mid + 1
    prv, nxt = order[(lo - 1) % n], order[lo % n]
    target = nxt if intended else nxt - 1  # the simulator's registry counts the agent
    seen = target >= 0 and in_camera(objs, target, x - PARAMS_POINT_X_M * math.cos(yaw),
                                     y - PARAMS_POINT_X_M * math.sin(yaw), yaw)
    out[0], out[1], out[2], out[3], out[4] = hit, 1.0 if crashed else 0.0, prv, nxt, 1.0 if seen else 0.0


@njit(cache=True)
def place_obstacles(f, g, o, lane_pts0, lane_pts1, distances, lanes, kind, out):
    """Obstacles at ``distances`` [m] along the centre line in ``lanes`` (0 inner, 1 outer): each stands where
    the centre point there projects onto its lane, facing along the lane (objects spec §2.4), its distance and
    signed offset measured as the params measure them (§6.2-6.4). Into the rows of ``out``
    (:data:`OBJECT_FIELDS`)."""
    length = f[o[F_SCALARS] + S_LENGTH]
    closed = g[o[I_META] + M_CLOSED] == 1
    arc0 = o[F_ARC]
    n = g[o[I_META] + M_N0]
    for j in range(distances.shape[0]):
        d = min(max(distances[j] % length, 0.0), length)  # as Track.point_at(distance % length) takes it
        lo, hi = 0, n + 1  # the segment holding d: bisect_right on the waypoints' arcs, minus one
        while lo < hi:
            mid = (lo + hi) // 2
            if d < f[arc0 + mid]:
                hi = mid
            else:
                lo = mid + 1
        seg = min(lo - 1, n - 1)
        seg_len = f[arc0 + seg + 1] - f[arc0 + seg]
        t = (d - f[arc0 + seg]) / seg_len if seg_len > 0 else 0.0
        cx, cy = point(f, o, 0, seg, t)
        pts = lane_pts0 if lanes[j] == 0 else lane_pts1
        x, y, yaw = lane_place(pts, cx, cy, seg, closed)
        s2, t2, dist, arc = project(f, g, o, x, y, seg)
        out[j, 0], out[j, 1], out[j, 2], out[j, 3] = x, y, yaw, kind
        out[j, 4], out[j, 5] = arc, dist * (1.0 if lanes[j] == 0 else -1.0)


@njit(cache=True)
def objects_ahead(f, g, o, objs, x, y, yaw, arc, seg, bot_value, slots, reach, out):
    """The vector observation's objects: the ``slots`` nearest objects ahead along the track within ``reach`` [m]
    of the params point (x, y) [m] with ``yaw`` [rad] projecting at (seg, arc), nearest first, five values each
    into ``out``: 1, its centre in the car's frame / 3 m (x forward, y left), its offset / half the track's
    width (positive left of the centre line), and ``bot_value`` for a bot car (else 0); all 0 for an empty
    slot (racer_env.env.observations)."""
    length = f[o[F_SCALARS] + S_LENGTH]
    best = np.full(slots, math.inf)
    which = np.full(slots, -1)
    for i in range(objs.shape[0]):
        gap = (objs[i, 4] - arc) % length
        if gap > reach:
            continue
        for j in range(slots):  # insert, keeping the earlier of two equal gaps first
            if which[j] < 0 or gap < best[j]:
                for m in range(slots - 1, j, -1):
                    best[m], which[m] = best[m - 1], which[m - 1]
                best[j], which[j] = gap, i
                break
    for j in range(5 * slots):
        out[j] = 0.0
    if which[0] < 0:
        return
    c, s = math.cos(yaw), math.sin(yaw)
    half = 0.5 * f[o[F_WIDTHS] + seg]
    ccw = 1.0 if g[o[I_META] + M_CCW] == 1 else -1.0
    for j in range(slots):
        i = which[j]
        if i < 0:
            continue
        rx, ry = objs[i, 0] - x, objs[i, 1] - y
        out[5 * j] = 1.0
        out[5 * j + 1] = _clip((rx * c + ry * s) / OBS_SCALE_M, -2.0, 2.0)
        out[5 * j + 2] = _clip((ry * c - rx * s) / OBS_SCALE_M, -2.0, 2.0)
        out[5 * j + 3] = _clip(ccw * objs[i, 5] / half, -3.0, 3.0)
        out[5 * j + 4] = bot_value if objs[i, 3] == 1.0 else 0.0


@njit(cache=True)
def fleet_object_params(objs, order, sorted_distance, counts, state, arc, geo, ep, length, intended, ks, out):
    """:func:`object_params` for the cars ``ks`` at their poses now, into the first five values of each car's
    row of ``out``, and the car's share of the lap from waypoint 0 [%] (its progress in ``geo`` plus its
    episode's start in ``ep[k, 0]``, modulo 100, as Python's ``%`` gives it) into the sixth: car ``k`` sees the
    first ``counts[k]`` objects of ``objs[k]`` (with their ``order`` and ``sorted_distance`` rows), from its
    params point and yaw in ``state`` (:data:`CAR_STATE`) and ``arc[k]`` [m] along the centre line. A car with
    no objects gets only its share of the lap."""
    for j in range(ks.shape[0]):
        k = ks[j]
        agent = (geo[k, G_PROGRESS] + ep[k, 0]) % 100.0
        out[k, 5] = agent
        c = counts[k]
        if c > 0:
            object_params(objs[k, :c], order[k, :c], sorted_distance[k, :c], state[k, C_X], state[k, C_Y],
                          state[k, C_YAW], arc[k], agent, length, intended, out[k])


@njit(cache=True)
def fleet_objects_ahead(f, g, o, objs, counts, state, arc, seg, ks, bot_value, slots, reach, out):
    """:func:`objects_ahead` for the cars ``ks`` at their poses now (their params points and yaws in ``state``,
    their projections ``arc`` [m] and ``seg``), each among the first ``counts[k]`` objects of ``objs[k]``, into
    the rows of ``out`` (5 * ``slots`` values a car)."""
    for j in range(ks.shape[0]):
        k = ks[j]
        objects_ahead(f, g, o, objs[k, :counts[k]], state[k, C_X], state[k, C_Y], state[k, C_YAW], arc[k], seg[k],
                      bot_value, slots, reach, out[k])


@njit(cache=True)
def lane_at(table, lane, distance, length, step):
    """A lane's (x, y, yaw, distance, signed offset) at centre-line ``distance`` [m], interpolated in its table
    (``table[lane]``: a row every ``step`` metres; racer_env.sim.objects.Lanes)."""
    s = (distance % length) / step
    k = int(s)
    w = s - k
    x0, y0, yaw, d0, o0 = table[lane, k, 0], table[lane, k, 1], table[lane, k, 2], table[lane, k, 3], table[lane, k, 4]
    x1, y1, d1, o1 = table[lane, k + 1, 0], table[lane, k + 1, 1], table[lane, k + 1, 3], table[lane, k + 1, 4]
    d = d0 + w * (d1 - d0) if -1.0 < d1 - d0 < 1.0 else d0
    return x0 + w * (x1 - x0), y0 + w * (y1 - y0), yaw, d, o0 + w * (o1 - o0)


@njit(cache=True)
def bot_poses(table, length, step, starts, lanes, change_at, run_time, speed, changes, change_length, out):
    """Every bot car's pose after ``run_time`` [s] of driving at ``speed`` [m/s] from its start distance
    ``starts[b]`` [m] in lane ``lanes[b]`` (0 or 1, as a float); with ``changes``, a bot whose lane change began at ``change_at[b]``
    [s] is on the S-curve (a smoothstep blend of the two lanes over ``change_length`` [m], objects spec §3.3).
    Into the rows of ``out`` (:data:`OBJECT_FIELDS`)."""
    t = run_time
    for b in range(starts.shape[0]):
        distance = starts[b] + speed * t
        lane = int(lanes[b])
        if changes and change_at[b] <= t:
            start = starts[b] + speed * change_at[b]
            u = ((distance - start) % length) / change_length
            w = 0.0 if u <= 0.0 else (1.0 if u >= 1.0 else u * u * (3.0 - 2.0 * u))
            ax, ay, ayaw, ad, ao = lane_at(table, lane, distance, length, step)
            bx, by, byaw, bd, bo = lane_at(table, 1 - lane, distance, length, step)
            x, y = ax + w * (bx - ax), ay + w * (by - ay)
            # heading: the lanes' direction, turned by the sideways rate of the blend (dw/ds times the lane gap)
            dw = 6.0 * u * (1.0 - u) / change_length if 0.0 < u < 1.0 else 0.0
            turn = byaw - ayaw
            if turn > math.pi:
                turn -= 2 * math.pi
            elif turn < -math.pi:
                turn += 2 * math.pi
            along = ayaw + w * turn
            c, s = math.cos(along), math.sin(along)
            yaw = along + math.atan(dw * ((bx - ax) * -s + (by - ay) * c))  # the gap across the lanes' direction
            d = ad + w * (bd - ad) if -1.0 < bd - ad < 1.0 else ad
            out[b, 0], out[b, 1], out[b, 2], out[b, 3], out[b, 4], out[b, 5] = x, y, yaw, 1.0, d, ao + w * (bo - ao)
        else:
            x, y, yaw, d, off = lane_at(table, lane, distance, length, step)
            out[b, 0], out[b, 1], out[b, 2], out[b, 3], out[b, 4], out[b, 5] = x, y, yaw, 1.0, d, off


@njit(cache=True)
def lane_place(pts, cx, cy, seg, closed):
    """Where an obstacle beside the centre point (cx, cy) [m] of centre segment ``seg`` stands on the lane
    through ``pts`` (the lane's (P, 2) points): that point projected onto the lane's segments near ``seg``
    (lane vertex i lies beside centre vertex i), and the lane segment's direction: (x, y, yaw [rad])."""
    n = pts.shape[0] - 1
    best, bx, by, byaw = math.inf, 0.0, 0.0, 0.0
    for k in range(seg - 6, seg + 7):
        i = k % n if closed else min(max(k, 0), n - 1)
        ax, ay = pts[i, 0], pts[i, 1]
        dx, dy = pts[i + 1, 0] - ax, pts[i + 1, 1] - ay
        l2 = max(dx * dx + dy * dy, 1e-18)
        t = min(max(((cx - ax) * dx + (cy - ay) * dy) / l2, 0.0), 1.0)
        px, py = ax + t * dx, ay + t * dy
        d2 = (px - cx) ** 2 + (py - cy) ** 2
        if d2 < best:
            best, bx, by, byaw = d2, px, py, math.atan2(dy, dx)
    return bx, by, byaw


@njit(cache=True)
def camera_shade(tagged, offsets, lut, cars, noise, picks, channels, out):
    """The frames of m cars through their lookup tables (racer_env.sim.randomize): pixel (j, r, q) of ``out``
    ((m, 120, 160 × channels) uint8) is ``lut[cars[j]]`` at its ``tagged`` value (class × 512 + 128 + value,
    uint16) + its ``offsets`` (band and channel, (m, 120, 160 × channels) int32) + its sensor noise [grey levels]:
    the ``noise`` bank's pattern (levels, tiles, rows, columns × channels; int8) of ``picks[j]``'s level, tile, row
    shift and column shift (level 0: none)."""
    m, h, wc = tagged.shape
    for j in range(m):
        table = lut[cars[j]]
        level, tile, dy, dx = picks[j, 0], picks[j, 1], picks[j, 2], picks[j, 3] * channels
        if level == 0:
            for r in range(h):
                for q in range(wc):
                    out[j, r, q] = table[tagged[j, r, q] + offsets[j, r, q]]
            continue
        bank = noise[level, tile]
        for r in range(h):
            for q in range(wc):
                out[j, r, q] = table[tagged[j, r, q] + offsets[j, r, q] + bank[r + dy, q + dx]]


@njit(cache=True)
def camera_blur(frame, passes, channels, scratch):
    """Blur ``frame`` ((120, 160 × channels) uint8, channels interleaved) in place by a [1, 2, 1] x [1, 2, 1] / 16
    kernel, ``passes`` times (edges repeated, rounded to the nearest); ``scratch``: the frame's shape, int32."""
    h, wc = frame.shape
    ch = channels
    for _ in range(passes):
        for q in range(wc):
            scratch[0, q] = 3 * np.int32(frame[0, q]) + frame[1, q]
            scratch[h - 1, q] = 3 * np.int32(frame[h - 1, q]) + frame[h - 2, q]
        for r in range(1, h - 1):
            for q in range(wc):
                scratch[r, q] = np.int32(frame[r - 1, q]) + 2 * np.int32(frame[r, q]) + frame[r + 1, q]
        for r in range(h):
            for q in range(ch):
                frame[r, q] = (3 * scratch[r, q] + scratch[r, q + ch] + 8) >> 4
                e = wc - ch + q
                frame[r, e] = (3 * scratch[r, e] + scratch[r, e - ch] + 8) >> 4
            for q in range(ch, wc - ch):
                frame[r, q] = (scratch[r, q - ch] + 2 * scratch[r, q] + scratch[r, q + ch] + 8) >> 4


@njit(cache=True)
def camera_smear(frame, length, channels, scratch):
    """Smear ``frame`` ((120, 160 × channels) uint8, channels interleaved) in place along its rows by a box of
    ``length`` (odd) pixels (edges repeated, rounded to the nearest); ``scratch``: (160 × channels,) int32."""
    h, wc = frame.shape
    ch = channels
    w = wc // ch
    half = length // 2
    for r in range(h):
        for k in range(ch):
            total = 0
            for c in range(-half - 1, half):
                total += int(frame[r, min(max(c, 0), w - 1) * ch + k])
            for c in range(w):
                total += int(frame[r, min(c + half, w - 1) * ch + k])
                total -= int(frame[r, max(c - half - 1, 0) * ch + k])
                scratch[c * ch + k] = (total + half) // length
        for q in range(wc):
            frame[r, q] = scratch[q]
