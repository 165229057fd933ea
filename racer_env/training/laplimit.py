"""Racing lines and lap-time limits, computed once per track and car and cached on disk.

The limits are the racing line's laps (:func:`racer_env.sim.raceline.racing_line`): the flying lap, for a lap
begun at speed, and the lap from rest at the start line, for a first lap. Lines are cached in
``$RACER_CACHE`` (default ``~/.cache/racer_env``), keyed by the track's rows, the car model, the speed range
and the margin, so ``racer evaluate`` and ``racer check`` pay for a line once per track and car.
"""

from __future__ import annotations

import hashlib
from dataclasses import astuple

import numpy as np

from racer_env.cache import cache_dir
from racer_env.env.actions import ActionSpec
from racer_env.errors import RacerEnvError
from racer_env.sim.raceline import MARGIN_M, RacingLine, racing_line
from racer_env.sim.track import Track
from racer_env.sim.vehicle import car_model_for
from racer_env.files import atomic_write_bytes

__all__ = ["cached_racing_line", "lap_time_limit", "lap_time_limits", "speed_range_of"]

_VERSION = 2  # bump when racing_line's results change (2: the standing lap)


def speed_range_of(actions: ActionSpec) -> tuple[float, float]:
    """The lowest and highest speed [m/s] an action space commands."""
    if actions.discrete is not None:
        speeds = [v for _, v in actions.discrete]
        return min(speeds), max(speeds)
    return actions.speed_range


def cached_racing_line(track: Track, actions: ActionSpec, margin: float = MARGIN_M) -> RacingLine | None:
    """The racing line of ``track`` for the car and speeds of ``actions``, from the cache when it is there;
    None for an open track or one too narrow for the car."""
    if not track.closed:
        return None
    model = car_model_for(actions.version)
    speed_range = speed_range_of(actions)
    key = hashlib.sha256(repr((_VERSION, track.rows.tobytes(), astuple(model), speed_range, margin)).encode())
    path = cache_dir() / "racing_lines" / f"{track.name}-{model.name}-{key.hexdigest()[:16]}.npz"
    try:
        with np.load(path) as data:
            return RacingLine(track.name, model.name, data["points"], data["speed"], data["time"],
                              data["curvature"], float(data["lap_time"]), float(data["length"]), margin, speed_range,
                              float(data["standing_lap_time"]))
    except (OSError, KeyError, ValueError):
        pass
    try:
        line = racing_line(track, model, speed_range, margin)
    except RacerEnvError:
        return None
    try:
        import io

        buf = io.BytesIO()
        np.savez(buf, points=line.points, speed=line.speed, time=line.time, curvature=line.curvature,
                 lap_time=line.lap_time, length=line.length, standing_lap_time=line.standing_lap_time)
        atomic_write_bytes(path, buf.getvalue())
    except OSError:
        pass  # a read-only home: compute again next time
    return line


def lap_time_limit(track: Track, actions: ActionSpec, margin: float = MARGIN_M) -> float | None:
    """The flying lap-time limit [s] of ``track`` for the car and speeds of ``actions``; None when it has no line."""
    line = cached_racing_line(track, actions, margin)
    return line.lap_time if line is not None else None


def lap_time_limits(track: Track, actions: ActionSpec, margin: float = MARGIN_M) -> tuple[float, float] | None:
    """(standing-start, flying) lap-time limits [s] of ``track`` for the car and speeds of ``actions``; None when
    it has no line."""
    line = cached_racing_line(track, actions, margin)
    return (line.standing_lap_time, line.lap_time) if line is not None else None
