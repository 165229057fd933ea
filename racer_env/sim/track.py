"""Race tracks: DeepRacer's ``.npy`` route files and the geometry the params need.

A track file holds N rows of ``[center_x, center_y, inner_x, inner_y, outer_x,
outer_y]`` in metres. A loop repeats its first row as its last; an open track
(such as Straight_track) does not. "Inner" is the border that encloses the
smaller area. The centre line's own order is the driving direction.

Geometry follows the simulator (spec §1.2), which uses Shapely: a point's
projection is its nearest point on the centre line, and the road is the area
between the two borders. The per-step queries here never scan the whole track:
they walk from a hint segment, and fall back to a vectorised scan only when no
hint is given or the point is far from the road.

Tracks are found by name on a search path (:func:`track_search_path`):

1. racer_env's own tracks (``tracks/*.npy``: harbour_loop, kidney_speedway, canyon_gp), whose names always
   mean racer_env's tracks;
2. the folders of the ``RACER_TRACKS`` environment variable, so your files come before AWS's of the same name;
3. AWS's tracks shipped with racer_env (``tracks/routes/``): the simulator's 127 route files, copied unchanged
   from aws-deepracer-community/deepracer-simapp (Apache-2.0; ``tracks/routes/NOTICE``), :func:`aws_routes`;
4. the tracks downloaded by ``racer tracks download`` (``$RACER_CACHE/tracks``): AWS's tracks that are not
   shipped, :func:`downloadable_tracks`;
5. any folders the caller adds (for a log, the log's own folder).

``aws_tracks()`` is the index of AWS's tracks in the community's race-data repository
(``tracks/aws_tracks.json``).
"""

from __future__ import annotations

import bisect
import csv
import difflib
import json
import math
import os
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple, Sequence

import numpy as np

from racer_env.cache import tracks_cache
from racer_env.errors import TrackFileError

__all__ = ["Track", "Projection", "bundled_tracks", "track_search_path", "listed_tracks", "track_files", "read_rows",
           "road_share", "DEFAULT_TRACK", "TRACKS_DIR", "TRACKS_ENV", "aws_tracks", "AWS_TRACKS_INDEX", "aws_routes",
           "downloadable_tracks", "ROUTES_DIR", "ROUTES_INDEX"]

TRACKS_DIR = Path(__file__).parent / "tracks"
TRACKS_ENV = "RACER_TRACKS"
DEFAULT_TRACK = "harbour_loop"
_COLUMNS = "center_x, center_y, inner_x, inner_y, outer_x, outer_y"
_DUPLICATE_M = 1e-9  # consecutive centre points closer than this are duplicates (simapp _sanitize_waypoints)
RESAMPLE_M = 0.02
"""Spacing [m] of the resampled centre line (:meth:`Track.resampled`), which the vector observation indexes."""


AWS_TRACKS_INDEX = TRACKS_DIR / "aws_tracks.json"
"""The index of AWS's official tracks in the community's race-data repository: each file's name, SHA-256, length,
width, direction and whether it is a loop (written by scripts/track_index.py; the files are downloaded)."""


ROUTES_DIR = TRACKS_DIR / "routes"
"""AWS's tracks shipped with racer_env: the simulator's route files (``bundle/routes/*.npy`` of
aws-deepracer-community/deepracer-simapp, Apache-2.0), byte for byte, with that LICENSE and a NOTICE naming the
commit (written by scripts/simapp_routes.py)."""
ROUTES_INDEX = ROUTES_DIR / "routes.json"
"""Facts about each shipped route file: name, size, SHA-256, git blob id, rows, length, width, direction, loop."""


def aws_tracks() -> dict[str, dict]:
    """AWS's tracks in the community's race-data repository: name -> its entry in the index (title, size,
    SHA-256, length [m], width [m], direction). Those that are not shipped are :func:`downloadable_tracks`."""
    index = json.loads(AWS_TRACKS_INDEX.read_text())
    return {t["name"]: {**t, "source": index["source"], "path": index["path"], "commit": index["commit"]}
            for t in index["tracks"]}


def aws_routes() -> dict[str, dict]:
    """AWS's tracks shipped with racer_env (the simulator's route files): name -> its entry in ``routes.json``
    (file, size, SHA-256, rows, length [m], width [m], direction, loop), with the index's source, commit and
    version. Unread: nothing is loaded."""
    index = json.loads(ROUTES_INDEX.read_text())
    meta = {k: index[k] for k in ("source", "path", "commit", "version", "license")}
    return {r["name"]: {**r, **meta} for r in index["routes"]}


def downloadable_tracks() -> dict[str, dict]:
    """AWS's tracks of the race-data index that racer_env does not ship: what ``racer tracks download`` is for."""
    shipped = aws_routes()
    return {name: entry for name, entry in aws_tracks().items() if name not in shipped}


def bundled_tracks() -> list[str]:
    """Names of racer_env's own tracks (AWS's shipped tracks are :func:`aws_routes`)."""
    return sorted(p.stem for p in TRACKS_DIR.glob("*.npy"))


def track_files(extra: Sequence[str | Path] = ()) -> list[tuple[str, Path]]:
    """Every track file on the search path (and in ``extra``), as (name, path), unread. A name found twice is
    listed where it is found first, as :meth:`Track.load` finds it."""
    seen: dict[str, Path] = {}
    for folder in track_search_path(extra):
        for path in sorted(list(folder.glob("*.npy")) + list(folder.glob("*.csv"))):
            seen.setdefault(path.stem, path)
    return list(seen.items())


def listed_tracks(files: Sequence[tuple[str, Path]] | None = None) -> list[tuple[str, Path, "Track | None"]]:
    """Every track file on the search path (or of ``files``, as :func:`track_files` gives them): (name, path,
    the loaded track or None when it does not load). Loading takes about 60 ms a track."""
    listed: list[tuple[str, Path, Track | None]] = []
    for name, path in (track_files() if files is None else files):
        try:
            track: Track | None = Track.load(path)
        except TrackFileError:
            track = None
        listed.append((name, path, track))
    return listed


def road_share(rows: np.ndarray, points: np.ndarray, margin_m: float = 0.05) -> float:
    """The share of ``points`` (P×2, metres) on the road of a track's ``rows`` (N×6: centre, inner, outer), or
    within ``margin_m`` of it: a point counts when its distance to the nearest centre-line segment is at most
    half the local width (at that segment's first waypoint) plus the margin.

    >>> rows = np.array([[x, 0, x, 0.5, x, -0.5] for x in range(5)], dtype=float)
    >>> road_share(rows, np.array([[1.0, 0.2], [2.0, 0.8], [3.5, -0.52]]))
    0.6666666666666666
    """
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    a, d = rows[:-1, 0:2], rows[1:, 0:2] - rows[:-1, 0:2]
    l2 = np.maximum((d**2).sum(axis=1), 1e-18)
    rel = points[:, None, :] - a[None, :, :]  # (P, M, 2)
    t = np.clip((rel * d).sum(axis=-1) / l2, 0.0, 1.0)
    dist = np.linalg.norm(rel - t[..., None] * d, axis=-1)  # (P, M)
    nearest = dist.argmin(axis=1)
    half = np.linalg.norm(rows[:-1, 2:4] - rows[:-1, 4:6], axis=1) / 2
    on = dist[np.arange(len(points)), nearest] <= half[nearest] + margin_m
    return float(on.mean()) if len(points) else 0.0


def track_search_path(extra: Sequence[str | Path] = ()) -> list[Path]:
    """Folders searched for a track given by name, first match wins: racer_env's own, then ``$RACER_TRACKS``
    (``:``-separated), then AWS's shipped routes, then the downloaded tracks, then ``extra``."""
    folders = [TRACKS_DIR]
    folders += [Path(p) for p in os.environ.get(TRACKS_ENV, "").split(os.pathsep) if p]
    folders.append(ROUTES_DIR)
    folders.append(tracks_cache())
    folders += [Path(p) for p in extra]
    return folders


class Projection(NamedTuple):
    """Where a point projects on the centre line."""

    seg: int
    """Index of the centre segment (waypoint ``seg`` to ``seg + 1``)."""
    t: float
    """Position along that segment, 0 to 1."""
    distance: float
    """Distance from the point to the centre line [m]."""
    arc: float
    """Distance along the centre line from waypoint 0 to the projected point [m]."""


class _Polyline:
    """A polyline's points and segments: arrays, and Python lists for fast scalar access."""

    def __init__(self, pts: np.ndarray, closed: bool):
        self.pts = pts
        self.closed = closed
        a = pts[:-1]
        d = pts[1:] - pts[:-1]
        self.a, self.d = a, d
        self.l2 = np.maximum((d**2).sum(axis=1), 1e-18)
        self.ax, self.ay = a[:, 0].tolist(), a[:, 1].tolist()
        self.dx, self.dy = d[:, 0].tolist(), d[:, 1].tolist()
        self.n = len(a)

    def point(self, i: int, t: float) -> tuple[float, float]:
        return self.ax[i] + t * self.dx[i], self.ay[i] + t * self.dy[i]


def read_rows(path: Path) -> np.ndarray:
    """Read a .npy or .csv track file into an array, or raise TrackFileError naming the file."""
    if path.suffix.lower() == ".csv":
        rows = []
        with open(path, newline="") as f:
            for lineno, row in enumerate(csv.reader(f), start=1):
                if not row or all(not c.strip() for c in row) or row[0].lstrip().startswith("#"):
                    continue
                try:
                    rows.append([float(c) for c in row])
                except ValueError:
                    if not rows and lineno == 1:
                        continue  # a header line
                    raise TrackFileError(
                        f"{path}: line {lineno}: expected 6 numbers ({_COLUMNS}), got {','.join(row)!r}"
                    ) from None
                if len(rows[-1]) != 6:
                    raise TrackFileError(f"{path}: line {lineno}: expected 6 columns ({_COLUMNS}), got {len(row)}")
        return np.array(rows, dtype=float).reshape(-1, 6)
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
    except OSError as err:
        raise TrackFileError(f"{path}: cannot read ({err.strerror})") from err
    if magic != b"\x93NUMPY":
        what = "an empty file" if not magic else "not a NumPy file"
        raise TrackFileError(f"{path}: {what}; expected a DeepRacer track .npy (an N×6 array: {_COLUMNS})")
    try:
        return np.asarray(np.load(path, allow_pickle=False), dtype=float)
    except (ValueError, OSError, TypeError, EOFError) as err:
        raise TrackFileError(f"{path}: not a readable NumPy track file; expected an N×6 array of floats "
                             f"({_COLUMNS})") from err


def _segments_cross(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Boolean matrix: does segment i of polyline p properly cross segment j of polyline q."""
    a, b = p[:-1, None, :], p[1:, None, :]
    c, d = q[None, :-1, :], q[None, 1:, :]

    def orient(u, v, w):
        return (v[..., 0] - u[..., 0]) * (w[..., 1] - u[..., 1]) - (v[..., 1] - u[..., 1]) * (w[..., 0] - u[..., 0])

    o1, o2 = orient(a, b, c), orient(a, b, d)
    o3, o4 = orient(c, d, a), orient(c, d, b)
    return (o1 * o2 < 0) & (o3 * o4 < 0)


class Track:
    """A race track loaded from DeepRacer's route format.

    Attributes:
        name: the file stem, e.g. ``"reinvent_base"``.
        rows: the (N, 6) array as loaded, in driving order (reversed if ``is_reversed``).
        closed: True for a loop (the last row repeats the first).
        is_reversed: True when the lap is driven against the file's waypoint order.
        merge_duplicates: True when consecutive duplicate rows were merged (today's simapp), False when
            every file row is a waypoint (the simapp before March 2026, spec §1.2).
        duplicate_rows: how many of the file's rows repeat the row before (0 on most tracks).
        length: centre-line length [m], DeepRacer's ``track_length`` (closing segment included).
        arc_at_waypoint: distance [m] along the centre line from waypoint 0 to each waypoint.

    Examples:
        >>> t = Track.load("harbour_loop")
        >>> t.closed, round(t.width, 2)
        (True, 0.76)
    """

    def __init__(self, rows: np.ndarray, name: str = "track", source: str = "<array>", is_reversed: bool = False,
                 merge_duplicates: bool = True):
        rows, self.duplicate_rows = self._validate(np.asarray(rows, dtype=float), source, merge_duplicates)
        self.rows = rows
        self.name = name
        self.source = source
        self.is_reversed = is_reversed
        self.merge_duplicates = merge_duplicates
        self.closed = bool(np.allclose(rows[0], rows[-1], atol=1e-9, rtol=0.0))
        self.center = _Polyline(rows[:, 0:2], self.closed)
        self.inner = _Polyline(rows[:, 2:4], self.closed)
        self.outer = _Polyline(rows[:, 4:6], self.closed)
        self._check_borders(source)
        seg_len = np.sqrt(self.center.l2)
        seg_len[seg_len < _DUPLICATE_M] = 0.0
        self.arc_at_waypoint = np.concatenate([[0.0], np.cumsum(seg_len)])
        self.length = float(self.arc_at_waypoint[-1])
        if self.length <= 0.0:
            raise TrackFileError(f"{source}: the centre line has zero length")
        self._arc = self.arc_at_waypoint.tolist()
        # closest_waypoints uses the normalised distance of each waypoint, the last one 1.0 (spec §1.2)
        self.ndists = (self.arc_at_waypoint[:-1] / self.length).tolist() + [1.0]
        self.waypoints = [tuple(p) for p in rows[:, 0:2].tolist()]
        self._precompute()

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, name_or_path: str | Path, reverse: bool = False, merge_duplicates: bool = True,
             search: Sequence[str | Path] = ()) -> "Track":
        """Load a track by name (``"harbour_loop"``, ``"reinvent_base"``) or a ``.npy``/``.csv`` file by path.

        A name is looked up on :func:`track_search_path` (racer_env's own, ``$RACER_TRACKS``, AWS's shipped
        routes, downloaded, then ``search``).

        Args:
            name_or_path: a track name, or a file path.
            reverse: drive the track against its waypoint order.
            merge_duplicates: merge consecutive duplicate rows (today's simapp); False keeps every row as a
                waypoint, as the simapp did before March 2026 (spec §1.2).
            search: more folders to look in.

        Raises:
            TrackFileError: the track is not found (the message lists where it looked), or is malformed.
        """
        path = cls.find(name_or_path, search)
        track = cls(read_rows(path), name=path.stem, source=str(path), merge_duplicates=merge_duplicates)
        return track.reversed() if reverse else track

    @staticmethod
    def find(name_or_path: str | Path, search: Sequence[str | Path] = ()) -> Path:
        """The file of a track: ``name_or_path`` itself when it exists, else a file of that name on the search path.

        Raises:
            TrackFileError: nothing found; the message lists the folders searched.
        """
        path = Path(name_or_path)
        if path.is_file():
            return path
        if path.exists():
            raise TrackFileError(f"{name_or_path}: a folder, not a track file")
        folders = track_search_path(search)
        if path.parent == Path(".") or not path.is_absolute():
            names = [path.name] if path.suffix.lower() in (".npy", ".csv") else [f"{path.name}.npy", f"{path.name}.csv"]
            for folder in folders:
                for name in names:
                    if (folder / name).is_file():
                        return folder / name
        where = ", ".join(str(f) for f in folders)
        if path.stem in downloadable_tracks() and not path.is_absolute():
            raise TrackFileError(f"{name_or_path}: not downloaded yet; it is one of AWS's tracks that racer_env "
                                 f"does not ship: racer tracks download {path.stem}   (looked in {where})")
        known = {name for name, _ in track_files(search)} | set(downloadable_tracks())
        near = difflib.get_close_matches(path.stem, sorted(known), n=3)
        raise TrackFileError(
            f"{name_or_path}: no such track" + (f" (did you mean {', '.join(near)}?)" if near else "")
            + f"; looked for the file, then in {where} (set {TRACKS_ENV} to add folders; racer_env's own: "
            f"{', '.join(bundled_tracks())}; AWS's: racer tracks --aws)")

    @staticmethod
    def _validate(rows: np.ndarray, source: str, merge_duplicates: bool) -> tuple[np.ndarray, int]:
        """The rows to use, and how many of the file's rows repeat the one before."""
        if rows.ndim != 2 or rows.shape[1] != 6:
            raise TrackFileError(f"{source}: expected an N×6 array ({_COLUMNS}), got shape {rows.shape}")
        bad = ~np.isfinite(rows)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise TrackFileError(f"{source}: row {r}, column {c}: expected a finite number, got {rows[r, c]}")
        distinct = np.ones(len(rows), dtype=bool)
        distinct[1:] = np.hypot(*(rows[1:, :2] - rows[:-1, :2]).T) >= _DUPLICATE_M
        if distinct.sum() < 3:
            raise TrackFileError(f"{source}: expected at least 3 distinct rows, got {int(distinct.sum())}")
        return (rows[distinct] if merge_duplicates else rows), int((~distinct).sum())

    def _check_borders(self, source: str) -> None:
        c = self.center.pts
        for label, border in (("inner", self.inner.pts), ("outer", self.outer.pts)):
            cross = _segments_cross(c, border)
            if cross.any():
                i, j = np.argwhere(cross)[0]
                raise TrackFileError(
                    f"{source}: the {label} border crosses the centre line "
                    f"(centre segment {i}-{i + 1}, {label} segment {j}-{j + 1})"
                )

    def reversed(self) -> "Track":
        """The same track driven the other way (DeepRacer's REVERSE_DIR)."""
        return Track(self.rows[::-1].copy(), self.name, self.source, not self.is_reversed, self.merge_duplicates)

    # ----------------------------------------------------------- precomputation
    def _precompute(self) -> None:
        """Pack the track for the kernels (:func:`racer_env.sim.kernels.pack_track`): the border segments near
        each centre segment, its clearance, the nearest border segments to each vertex, the widths."""
        import racer_env.sim.kernels as kernels

        self.kernel = kernels.pack_track((self.center.pts, self.inner.pts, self.outer.pts), self.arc_at_waypoint,
                                         np.array(self.ndists), self.closed, self.is_ccw,
                                         np.array(self.resampled(RESAMPLE_M)), RESAMPLE_M)
        """The packed track: (floats, ints, offsets), what every kernel takes first."""
        f, _, o = self.kernel
        k = kernels.FLOAT_FIELDS.index("headings")
        self._headings = f[o[k]:o[k] + self.center.n].tolist()
        k = kernels.FLOAT_FIELDS.index("widths")
        self.vertex_widths = f[o[k]:o[k] + self.center.n].tolist()
        """Local width [m] at each centre segment's first waypoint."""
        k = kernels.FLOAT_FIELDS.index("clear")
        self._clear = f[o[k]:o[k] + self.center.n].tolist()

    # --------------------------------------------------------------- properties
    @cached_property
    def is_ccw(self) -> bool:
        """True when the lap runs counter-clockwise, i.e. the inner border is on the driver's left."""
        c = self.center.pts
        if self.closed:
            area = 0.5 * float(np.sum(c[:-1, 0] * c[1:, 1] - c[1:, 0] * c[:-1, 1]))
            return area > 0
        # open track: is the inner border on the left of the first segment?
        d = c[1] - c[0]
        r = self.rows[0, 2:4] - c[0]
        return float(d[0] * r[1] - d[1] * r[0]) > 0

    @property
    def direction(self) -> str:
        """``"counter-clockwise"`` or ``"clockwise"``, as driven."""
        return "counter-clockwise" if self.is_ccw else "clockwise"

    @cached_property
    def width(self) -> float:
        """Median track width [m], by the simulator's ``track_width`` recipe at the centre waypoints."""
        return float(np.median(self.vertex_widths))

    @cached_property
    def _key(self) -> tuple:
        return (self.name, self.is_reversed, self.merge_duplicates, self.rows.shape, self.rows.tobytes())

    def __eq__(self, other: object) -> bool:
        """Two tracks are equal when they have the same name, rows and direction."""
        return isinstance(other, Track) and (other is self or other._key == self._key)

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        return (
            f"Track({self.name!r}, {len(self.rows)} rows, {self.length:.2f} m, {self.width:.2f} m wide, "
            f"{self.direction}{', open' if not self.closed else ''}{', reversed' if self.is_reversed else ''})"
        )

    def resampled(self, spacing_m: float = 0.02) -> list[tuple[float, float]]:
        """The centre line as points [m] every ``spacing_m`` metres from waypoint 0 (computed once per spacing)."""
        cache = self.__dict__.setdefault("_resampled", {})
        pts = cache.get(spacing_m)
        if pts is None:
            s = np.arange(0.0, self.length, spacing_m)
            c = self.center.pts
            pts = cache[spacing_m] = list(zip(np.interp(s, self.arc_at_waypoint, c[:, 0]).tolist(),
                                              np.interp(s, self.arc_at_waypoint, c[:, 1]).tolist()))
        return pts

    # ------------------------------------------------------------------ queries
    def project(self, x: float, y: float, hint: int = -1) -> Projection:
        """Nearest point of the centre line to (x, y) [m] (:func:`racer_env.sim.kernels.project`).

        With a ``hint`` (the segment of a nearby earlier query) the cost does not
        depend on the number of waypoints.
        """
        return Projection(*self._kernels.project(*self.kernel, float(x), float(y), int(hint)))

    @cached_property
    def _kernels(self) -> Any:
        import racer_env.sim.kernels as kernels

        return kernels

    def percent_of_lap(self, arc_m: float) -> float:
        """A distance [m] along the centre line as a share of the lap [%]: how DeepRacer counts progress."""
        return 100.0 * arc_m / self.length

    def arc_of_percent(self, percent: float) -> float:
        """A share of the lap [%] as a distance [m] along the centre line."""
        return percent / 100.0 * self.length

    def arc_length(self, seg: int, t: float) -> float:
        """Distance [m] along the centre line from waypoint 0 to the point (seg, t)."""
        return self._arc[seg] + t * (self._arc[seg + 1] - self._arc[seg])

    def closest_waypoints(self, ndist: float) -> list[int]:
        """[prev, next] waypoint indices around a normalised distance, as the simulator's bisect does."""
        n = len(self.ndists)
        nxt = bisect.bisect_right(self.ndists, ndist)
        prv = nxt - 1
        if prv == -1:
            prv = n - 1
        if nxt == n:
            nxt = 0
        return [prv, nxt]

    def locate(self, arc_m: float) -> tuple[int, float]:
        """(segment, t) of the centre-line point ``arc_m`` [m] along the line from waypoint 0 (wrapping on loops)."""
        if self.closed:
            arc_m %= self.length
        arc_m = min(max(arc_m, 0.0), self.length)
        i = min(bisect.bisect_right(self._arc, arc_m) - 1, self.center.n - 1)
        seg_len = self._arc[i + 1] - self._arc[i]
        return i, ((arc_m - self._arc[i]) / seg_len if seg_len > 0 else 0.0)

    def point_at(self, arc_m: float) -> tuple[float, float, int]:
        """Centre-line point at ``arc_m`` along the line from waypoint 0 (wrapping on loops): (x, y, segment)."""
        i, t = self.locate(arc_m)
        x, y = self.center.point(i, t)
        return x, y, i

    def heading_at(self, seg: int) -> float:
        """Direction [rad] of centre segment ``seg`` (the driving direction there)."""
        return self._headings[seg]

    def pose_at(self, arc_m: float, lateral_m: float = 0.0) -> tuple[float, float, float]:
        """A pose beside the centre line: the point ``arc_m`` [m] along it, moved ``lateral_m`` [m] to the
        left of the driving direction (negative: right), and the direction of the line there [rad]."""
        i, t = self.locate(arc_m)
        x, y = self.center.point(i, t)
        h = self._headings[i]
        return x - math.sin(h) * lateral_m, y + math.cos(h) * lateral_m, h

    def width_at(self, seg: int, t: float) -> tuple[float, tuple[float, float], tuple[float, float]]:
        """Local width [m] at the centre point (seg, t), and the nearest inner and outer border points to it.

        This is the simulator's ``track_width``: nearest inner point and nearest outer point to the centre point.
        """
        width, ix, iy, ox, oy = self._kernels.width_at(*self.kernel, int(seg), float(t))
        return width, (ix, iy), (ox, oy)

    def points_on_track(self, points: Sequence[tuple[float, float]], where: Projection, reach: float) -> list[bool]:
        """Which points lie on the road, for points within ``reach`` [m] of a point projecting at ``where``.

        Exact: a point is on the road when the straight line from the centre point
        to it crosses the borders an even number of times (:func:`racer_env.sim.kernels.points_on_track`).
        """
        px = np.array([p[0] for p in points], dtype=np.float64)
        py = np.array([p[1] for p in points], dtype=np.float64)
        out = np.empty(len(points), dtype=np.bool_)
        self._kernels.points_on_track(*self.kernel, px, py, int(where.seg), float(where.t), float(where.distance),
                                      float(reach), out)
        return out.tolist()

    def clearance(self, seg: int) -> float:
        """A lower bound on the distance [m] from centre segment ``seg`` to either border."""
        return self._clear[seg]
