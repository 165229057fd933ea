"""The fastest line round a track for a car model, its speed profile, and so the track's lap-time limit.

The line is a smooth curve beside a smoothed centre line: lateral offsets at
stations every ``spacing`` metres, given by a periodic cubic B-spline whose
control points lie every ``control_spacing`` metres. Each station keeps the
car's footprint inside the borders with ``margin`` metres to spare; because a
B-spline point is a weighted mean of its four control points, bounding each
control point by its stations' bounds keeps the whole line inside.

Two stages (spec §3.6 gives the car's limits):

1. The community's start: the minimum-curvature line (what K1999's iterative
   smoothing aims at), here solved exactly as a bounded linear least-squares
   problem on the second differences of the line.
2. The improvement: minimise the lap time itself, with L-BFGS-B, where the lap
   time comes from the speed profile: the speed at each station is capped by
   the grip (v²κ <= 4.9 m/s²), the steering lock and the action space's top
   speed, then forward and backward passes limit acceleration and braking to
   what the car's speed filter can do.

The lap time reported is that of the final profile, whose passes follow the
car's speed response as a first-order lag fitted to the car model's own step
response. A flying lap: the profile is periodic.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from racer_env.constants import CAR_LENGTH_M, CAR_WIDTH_M, DT_S, MAX_STEERING_DEG, MIN_SPEED_MPS, PARAMS_POINT_X_M
from racer_env.errors import TrackFileError
from racer_env.sim.track import Track
from racer_env.sim.vehicle import KINEMATIC, Car, CarModel

__all__ = ["RacingLine", "racing_line", "speed_profile", "response_rate", "curvature", "footprint_clearance", "MARGIN_M"]

MARGIN_M = 0.1
"""Default room [m] kept between the car's footprint and the borders."""
GUIDE_GAP_MPS = 1.0
"""The speed gap [m/s] at which the first-order response sets the optimiser's constant accelerations."""
_SMOOTHING_M = 0.005  # rms deviation [m] allowed to the smoothed reference from the centre-line waypoints


@dataclass
class RacingLine:
    """A racing line and its speed profile, at stations along it.

    Attributes:
        track: the track's name.
        car_model: the car model's name.
        points: (N, 2) the body origin's path [m].
        speed: (N,) the planned speed at each point [m/s].
        time: (N,) the time [s] at each point, from point 0.
        curvature: (N,) signed curvature [1/m], positive turning left.
        lap_time: the flying lap's time [s]: the track's lap-time limit for this car, a lap begun at speed.
        length: the line's length [m].
        standing_lap_time: the lap's time [s] from rest at the start line, as every DeepRacer trial starts:
            the limit for a first lap.
        stages: lap times [s] of the centre line, the minimum-curvature line and the optimised line.
        seconds: time spent computing it [s].
    """

    track: str
    car_model: str
    points: np.ndarray
    speed: np.ndarray
    time: np.ndarray
    curvature: np.ndarray
    lap_time: float
    length: float
    margin: float
    speed_range: tuple[float, float]
    standing_lap_time: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def heading(self) -> np.ndarray:
        """(N,) the line's direction at each point [rad]."""
        return _headings(self.points)

    @property
    def params_points(self) -> np.ndarray:
        """(N, 2) the params point's path [m]: what a reward function reads as x, y when the car follows the line."""
        h = self.heading
        return self.points + PARAMS_POINT_X_M * np.stack([np.cos(h), np.sin(h)], axis=1)

    def rows(self) -> np.ndarray:
        """(N, 4) x, y [m] of the params point, speed [m/s], time [s]: the rows of raceline.npy."""
        return np.column_stack([self.params_points, self.speed, self.time])


def curvature(points: np.ndarray) -> np.ndarray:
    """Signed curvature [1/m] at each point of a closed polyline: the circle through it and its neighbours."""
    a, b, c = np.roll(points, 1, axis=0), points, np.roll(points, -1, axis=0)
    ab, bc, ac = b - a, c - b, c - a
    cross = ab[:, 0] * bc[:, 1] - ab[:, 1] * bc[:, 0]
    return 2.0 * cross / (np.linalg.norm(ab, axis=1) * np.linalg.norm(bc, axis=1) * np.linalg.norm(ac, axis=1) + 1e-12)


def response_rate(model: CarModel, v_from: float, v_to: float) -> float:
    """The rate k [1/s] of a first-order lag dv/dt = k (v_to - v) that covers the same distance as ``model``'s
    speed takes to go 95 % of the way from ``v_from`` to ``v_to`` [m/s] when commanded ``v_to``."""
    from scipy.optimize import brentq

    start, target = model.steady_speed(v_from), model.steady_speed(v_to)
    car = Car.at(0.0, 0.0, 0.0, speed=start, steering_angle=0.0, commands=[(0.0, v_from)] * 8, model=model)
    end = target - 0.05 * (target - start)
    dist = 0.0
    while (car.speed - end) * (target - start) < 0:
        car.step(0.0, v_to)
        dist += car.speed * DT_S

    def first_order(k: float) -> float:
        return (-(end - start) + target * math.log((target - start) / (target - end))) / k

    return float(brentq(lambda k: first_order(k) - dist, 0.01, 1000.0))


def speed_profile(ds: np.ndarray, v_cap: np.ndarray, v_top: float, v_bottom: float, k_up: float,
                  k_down: float) -> np.ndarray:
    """The fastest periodic speed profile [m/s] under the caps ``v_cap`` at stations ``ds`` [m] apart, when the
    speed rises at most as dv/dt = k_up (v_top - v) and falls at most as dv/dt = k_down (v_bottom - v)."""
    v = np.array(v_cap, dtype=float)
    n = len(v)
    for _ in range(2):  # twice round: the loop's start depends on its end
        for i in range(2 * n):
            a, b = i % n, (i + 1) % n
            v[b] = min(v[b], math.sqrt(v[a] ** 2 + 2.0 * k_up * max(v_top - v[a], 0.0) * ds[a]))
        for i in range(2 * n, 0, -1):
            a, b = (i - 1) % n, i % n
            v[a] = min(v[a], math.sqrt(v[b] ** 2 + 2.0 * k_down * max(v[b] - v_bottom, 0.05) * ds[a]))
    return v


def _lap_time(ds: np.ndarray, v: np.ndarray) -> float:
    return float(np.sum(2.0 * ds / (v + np.roll(v, -1))))


def standing_lap_time(v: np.ndarray, ds: np.ndarray, start: int, model: CarModel) -> float:
    """The time [s] of a lap along a line whose flying speed profile is ``v`` [m/s] (stations ``ds`` [m] apart),
    begun at rest at station ``start``, as every DeepRacer trial begins: the prepare step (the car stands still for
    it), then ``model``'s own speed response commanded the profile's speed, until the car is up to the profile;
    the flying profile from there on (it already brakes in time for every corner)."""
    order = np.r_[np.arange(start, len(v)), np.arange(0, start)]
    v_from, d = v[order], ds[order]
    arc = np.concatenate([[0.0], np.cumsum(d)])  # distance from the start to each station (and round again)
    flying = np.concatenate([[0.0], np.cumsum(2.0 * d / (v_from + np.roll(v_from, -1)))])
    per_command = model.steady_speed(1.0)
    car = Car.at(0.0, 0.0, 0.0, speed=0.0, steering_angle=0.0, commands=[(0.0, 0.0)] * 8, model=model)
    s, t = 0.0, DT_S  # the prepare step: the car stands while the simulator gets ready
    while s < arc[-1]:
        target = float(np.interp(s, arc[:-1], v_from))
        if car.speed >= target - 1e-3:  # up to the flying profile: the rest of the lap is the flying lap's
            return t + float(flying[-1] - np.interp(s, arc, flying))
        car.step(0.0, target / per_command)
        s += car.speed * DT_S
        t += DT_S
    return t


def _start_station(track: Track, points: np.ndarray) -> int:
    """The line's station level with the start line: nearest to waypoint 0, along the direction of driving."""
    x0, y0 = track.waypoints[0]
    return int(np.argmin(np.hypot(points[:, 0] - x0, points[:, 1] - y0)))


def _constant_passes(v_cap: np.ndarray, ds: np.ndarray, a_up: float, a_down: float) -> np.ndarray:
    """The profile under constant acceleration limits [m/s²], vectorised (v² grows linearly with distance)."""
    n = len(v_cap)
    w = np.tile(v_cap**2, 3)
    d = np.tile(ds, 3)
    s = np.concatenate([[0.0], np.cumsum(d)])[:-1]
    w = np.minimum(w, 2 * a_up * s + np.minimum.accumulate(w - 2 * a_up * s))
    wr = w[::-1]
    sb = np.concatenate([[0.0], np.cumsum(np.roll(d[::-1], -1))])[:-1]
    w = np.minimum(wr, 2 * a_down * sb + np.minimum.accumulate(wr - 2 * a_down * sb))[::-1]
    return np.sqrt(w[n:2 * n])


class _Problem:
    """The line as B-spline offsets from a smoothed centre line, and its lap time."""

    def __init__(self, track: Track, model: CarModel, v_top: float, spacing: float, control_spacing: float,
                 margin: float, guide_accelerations: tuple[float, float]):
        self.ref, self.normal, left, right, self.inner_left = _reference(track, spacing)
        n = len(self.ref)
        m = max(int(round(n * spacing / control_spacing)), 12)
        self.basis = _periodic_cubic_basis(n, m)
        self.track, self.margin = track, margin
        self.lo, self.hi = right + CAR_WIDTH_M / 2 + margin, left - CAR_WIDTH_M / 2 - margin
        self._bound_controls()
        self.model, self.v_top = model, v_top
        self.max_curvature = math.tan(math.radians(MAX_STEERING_DEG)) / model.wheelbase_m
        self.a_up, self.a_down = guide_accelerations

    def _bound_controls(self) -> None:
        """Each control point's bounds: the tightest of the stations it moves (the B-spline's convex hull)."""
        support = self.basis > 1e-12
        m = self.basis.shape[1]
        self.lower = np.array([self.lo[support[:, j]].max() for j in range(m)])
        self.upper = np.array([self.hi[support[:, j]].min() for j in range(m)])
        if np.any(self.lower > self.upper):
            raise TrackFileError(f"{self.track.source}: the track is too narrow for the car with a {self.margin} m margin")

    def line(self, c: np.ndarray) -> np.ndarray:
        return self.ref + (self.basis @ c)[:, None] * self.normal

    def tighten(self, c: np.ndarray) -> bool:
        """Where a corner of the car's footprint on the line comes nearer a border than the margin (the body's
        length in a bend reaches further than its half-width), move that station's bound in by the shortfall.
        Returns whether any bound moved."""
        points = self.line(c)
        clear_inner, clear_outer = footprint_clearance(self.track, points, _headings(points))
        short_inner = np.maximum(self.margin - clear_inner, 0.0)
        short_outer = np.maximum(self.margin - clear_outer, 0.0)
        if not (short_inner.max() > 1e-4 or short_outer.max() > 1e-4):
            return False
        short_left = np.where(self.inner_left, short_inner, short_outer)
        short_right = np.where(self.inner_left, short_outer, short_inner)
        self.hi = self.hi - np.where(short_left > 0, short_left + 0.002, 0.0)
        self.lo = self.lo + np.where(short_right > 0, short_right + 0.002, 0.0)
        self._bound_controls()
        return True

    def caps(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        k = curvature(points)
        ds = np.linalg.norm(np.roll(points, -1, axis=0) - points, axis=1)
        cap = np.minimum(self.v_top, np.sqrt(self.model.grip_mps2 / np.maximum(np.abs(k), 1e-9)))
        return k, ds, cap

    def objective(self, c: np.ndarray) -> float:
        """The lap time [s] under constant acceleration limits (vectorised: a guide for the line's shape), plus a
        penalty beyond the steering lock."""
        k, ds, cap = self.caps(self.line(c))
        v = _constant_passes(cap, ds, self.a_up, self.a_down)
        return _lap_time(ds, v) + 10.0 * float(np.sum(np.maximum(np.abs(k) - self.max_curvature, 0.0) ** 2))

    def gradient(self, c: np.ndarray, h: float = 1e-4) -> tuple[float, np.ndarray]:
        f0 = self.objective(c)
        g = np.empty_like(c)
        for j in range(len(c)):
            cj = c.copy()
            cj[j] += h
            g[j] = (self.objective(cj) - f0) / h
        return f0, g

    def minimum_curvature(self) -> np.ndarray:
        from scipy.optimize import lsq_linear

        n = len(self.ref)
        i = np.arange(n)
        second = np.zeros((n, n))
        second[i, i - 1] += 1.0
        second[i, i] -= 2.0
        second[i, (i + 1) % n] += 1.0
        a = np.vstack([second @ (self.normal[:, 0:1] * self.basis), second @ (self.normal[:, 1:2] * self.basis)])
        b = -np.concatenate([second @ self.ref[:, 0], second @ self.ref[:, 1]])
        return lsq_linear(a, b, bounds=(self.lower, self.upper)).x


def _headings(points: np.ndarray) -> np.ndarray:
    d = np.roll(points, -1, axis=0) - np.roll(points, 1, axis=0)
    return np.arctan2(d[:, 1], d[:, 0])


def footprint_clearance(track: Track, points: np.ndarray, headings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For a car whose body origin is at each point [m] facing each heading [rad]: the smallest distance [m] from
    a corner of its footprint to the inner border and to the outer border (negative when a corner is past it)."""
    dx = np.array([CAR_LENGTH_M / 2, CAR_LENGTH_M / 2, -CAR_LENGTH_M / 2, -CAR_LENGTH_M / 2])
    dy = np.array([CAR_WIDTH_M / 2, -CAR_WIDTH_M / 2, CAR_WIDTH_M / 2, -CAR_WIDTH_M / 2])
    c, s = np.cos(headings)[:, None], np.sin(headings)[:, None]
    corners = np.stack([points[:, 0:1] + c * dx - s * dy, points[:, 1:2] + s * dx + c * dy], axis=-1).reshape(-1, 2)
    out = []
    for border, other in ((track.inner.pts, track.outer.pts), (track.outer.pts, track.inner.pts)):
        d, near = _nearest_on(corners, border)
        _, near_other = _nearest_on(corners, other)
        # past this border: the corner lies beyond its nearest border point, seen from the other border
        across = ((corners - near) * (near - near_other)).sum(axis=1) > 0
        out.append(np.where(across, -d, d).reshape(-1, 4).min(axis=1))
    return out[0], out[1]


def _reference(track: Track, spacing: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stations every ``spacing`` m along a smoothed centre line: points, left normals, the room [m] to the
    left border (positive) and the right border (negative), the nearest border point's distance either way, and
    whether the inner border is the left one."""
    from scipy.interpolate import splev, splprep

    c = track.center.pts[:-1]
    c = c[np.r_[True, np.hypot(*np.diff(c, axis=0).T) > 1e-9]]  # a kept duplicate row is one point here
    tck, _ = splprep([c[:, 0], c[:, 1]], s=len(c) * _SMOOTHING_M**2, per=1)
    u = np.linspace(0.0, 1.0, 20 * len(c), endpoint=False)
    x, y = splev(u, tck)
    seg = np.hypot(np.diff(np.r_[x, x[0]]), np.diff(np.r_[y, y[0]]))
    cum = np.r_[0.0, np.cumsum(seg)][:-1]
    n = max(int(round(seg.sum() / spacing)), 20)
    us = np.interp(np.arange(n) * seg.sum() / n, cum, u)
    x, y = splev(us, tck)
    dx, dy = splev(us, tck, der=1)
    points = np.column_stack([x, y])
    tangent = np.column_stack([dx, dy]) / np.hypot(dx, dy)[:, None]
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    d_in, near_in = _nearest_on(points, track.inner.pts)
    d_out, _ = _nearest_on(points, track.outer.pts)
    inner_left = ((near_in - points) * normal).sum(axis=1) > 0
    return points, normal, np.where(inner_left, d_in, d_out), -np.where(inner_left, d_out, d_in), inner_left


def _nearest_on(points: np.ndarray, polyline: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance [m] from each point to a polyline, and the nearest polyline point."""
    a, d = polyline[:-1], polyline[1:] - polyline[:-1]
    l2 = np.maximum((d**2).sum(axis=1), 1e-18)
    rel = points[:, None, :] - a[None]
    t = np.clip((rel * d[None]).sum(axis=-1) / l2, 0.0, 1.0)
    err = rel - t[..., None] * d[None]
    dist = np.sqrt((err**2).sum(axis=-1))
    j = dist.argmin(axis=1)
    near = a[j] + t[np.arange(len(points)), j][:, None] * d[j]
    return dist.min(axis=1), near


def _periodic_cubic_basis(n: int, m: int) -> np.ndarray:
    """(n, m) weights of m periodic cubic B-spline control points at n evenly spaced stations."""
    u = (np.arange(n) / n * m)[:, None] - np.arange(m)[None, :]
    u = (u + m / 2) % m - m / 2  # periodic distance in control spacings
    a = np.abs(u)
    return np.where(a < 1, 2 / 3 - a**2 + a**3 / 2, np.where(a < 2, (2 - a) ** 3 / 6, 0.0))


def racing_line(track: Track, model: CarModel = KINEMATIC, speed_range: tuple[float, float] = (0.5, 4.0),
                margin: float = MARGIN_M, spacing: float = 0.1, control_spacing: float = 0.4,
                max_iterations: int = 300) -> RacingLine:
    """The minimum-time line round ``track`` for ``model`` with commands in ``speed_range`` [m/s], keeping the
    car's footprint ``margin`` [m] inside the borders.

    Raises:
        TrackFileError: the track is not a loop, or is too narrow for the car with that margin.
    """
    from scipy.optimize import minimize

    if not track.closed:
        raise TrackFileError(f"{track.source}: a racing line needs a loop; this track is open")
    t0 = time.time()
    v_low, v_high = max(speed_range[0], MIN_SPEED_MPS), speed_range[1]
    v_top, v_bottom = model.steady_speed(v_high), model.steady_speed(v_low)
    k_up = response_rate(model, 1.5, v_high)
    k_down = response_rate(model, v_high, 1.5)
    # the optimiser's constant accelerations: the first-order rates at a gap of GUIDE_GAP_MPS
    problem = _Problem(track, model, v_top, spacing, control_spacing, margin,
                       (k_up * GUIDE_GAP_MPS, k_down * GUIDE_GAP_MPS))

    def final(c: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        points = problem.line(c)
        k, ds, cap = problem.caps(points)
        v = speed_profile(ds, cap, v_top, v_bottom, k_up, k_down)
        return _lap_time(ds, v), points, k, ds, v

    centre = np.zeros(len(problem.lower))
    start = problem.minimum_curvature()
    stages = {"centre line": final(np.clip(centre, problem.lower, problem.upper))[0],
              "minimum curvature": final(start)[0]}
    best = start
    for _ in range(3):  # optimise; if a footprint corner comes short of the margin, tighten there and again
        best = minimize(problem.gradient, np.clip(best, problem.lower, problem.upper), jac=True, method="L-BFGS-B",
                        bounds=list(zip(problem.lower, problem.upper)), options={"maxiter": max_iterations}).x
        if not problem.tighten(best):
            break
    lap, points, k, ds, v = final(best)
    stages["optimised"] = lap
    times = np.concatenate([[0.0], np.cumsum(2.0 * ds / (v + np.roll(v, -1)))[:-1]])
    standing_lap = standing_lap_time(v, ds, _start_station(track, points), model)
    return RacingLine(track.name, model.name, points, v, times, k, lap, float(ds.sum()), margin,
                      (v_low, v_high), standing_lap, stages, time.time() - t0)
