"""DeepRacer's episode rules (spec §2): where an episode starts, how each step is judged, laps and resets.

An :class:`Episode` is the bookkeeping of one episode: the step counter, where
it started, the previous step's progress, the counters of the reversed and
immobilized rules, lap times, the penalty pause and the event counts. It
judges each step from the step's params and says whether the car must be put
back on the track (a reset, spec §2.2), and where.

Progress is in percent of a lap throughout, as the params report it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from racer_env.constants import (
    COLLISION_PENALTY_S,
    IMMOBILIZED_DIST_M,
    IMMOBILIZED_PENALTY_S,
    IMMOBILIZED_STEPS,
    OFF_TRACK_PENALTY_S,
    REVERSED_STEPS,
    ROUND_ROBIN_ADVANCE_PCT,
    STEP_HZ,
)
from racer_env.sim.track import Track
from racer_env.sim.vehicle import body_origin, params_point

__all__ = ["Episode", "Judgement", "EPISODE_STATUSES", "EVENTS", "Penalties", "start_pose",
           "start_progress_of", "start_from_options", "round_robin_start"]

EPISODE_STATUSES = ("prepare", "in_progress", "off_track", "crashed", "reversed", "immobilized",
                    "lap_complete", "pause", "time_up")
"""The ``episode_status`` values racer_env reports (spec §7.1)."""
EVENTS = ("off_track", "crashed", "reversed", "immobilized")
"""The statuses that end a training episode, or cost a reset and a penalty when resets are allowed."""


@dataclass(frozen=True)
class Penalties:
    """Seconds the car is frozen after each event when resets are allowed (spec §2.2)."""

    off_track: float = OFF_TRACK_PENALTY_S
    crashed: float = COLLISION_PENALTY_S
    immobilized: float = IMMOBILIZED_PENALTY_S

    def seconds(self, event: str) -> float:
        """The penalty [s] of an event; reversing costs the off-track penalty, as REVERSE_PENALTY's fallback."""
        return {"off_track": self.off_track, "reversed": self.off_track, "crashed": self.crashed,
                "immobilized": self.immobilized}[event]


@dataclass(frozen=True)
class Judgement:
    """What the rules say about one step."""

    status: str
    terminated: bool
    truncated: bool
    put_back: bool
    """The car must be put back on the track (at :meth:`Episode.put_back_pose`) and frozen."""


_JUDGEMENTS: dict[tuple[str, bool, bool, bool], Judgement] = {}


def _judgement(status: str, terminated: bool, truncated: bool, put_back: bool) -> Judgement:
    """The :class:`Judgement` of these values, made once and shared: it is frozen, and making a frozen
    dataclass costs a step about 1 us (its ``__init__`` sets each field through ``object.__setattr__``)."""
    key = (status, terminated, truncated, put_back)
    judgement = _JUDGEMENTS.get(key)
    if judgement is None:
        judgement = _JUDGEMENTS[key] = Judgement(status, terminated, truncated, put_back)
    return judgement


def round_robin_start(episode: int, offset_progress: float = 0.0) -> float:
    """Where training episode ``episode`` (0-based) starts [% of a lap]: 5 % further each episode (spec §2.3)."""
    return (offset_progress + ROUND_ROBIN_ADVANCE_PCT * episode) % 100.0


def start_pose(track: Track, start_progress: float) -> tuple[float, float, float]:
    """The start pose of an episode at ``start_progress`` [%]: the body origin on the centre line, heading at
    the next waypoint (spec §2.3). Returns the params point (x, y) [m] and yaw [rad]."""
    bx, by, seg = track.point_at(track.arc_of_percent(start_progress))
    nx, ny = track.waypoints[seg + 1]
    yaw = math.atan2(ny - by, nx - bx) if math.hypot(nx - bx, ny - by) > 1e-9 else track.heading_at(seg)
    return (*params_point(bx, by, yaw), yaw)


def start_progress_of(track: Track, x: float, y: float, yaw: float) -> float:
    """Where an episode starts [%] when the car's params point is at (x, y) [m], ``yaw`` [rad]: the projection
    of its body origin, as the simulator's start distance is that of the car origin."""
    return track.percent_of_lap(track.project(*body_origin(x, y, yaw)).arc)


def start_from_options(track: Track, options: dict[str, Any], default: float) -> tuple[float, float, float, float]:
    """Where an episode starts, from ``reset(options=...)``: ``{"pose": (x, y, heading_deg)}`` (the params point),
    ``{"start_progress": pct}``, or neither (``default`` [%]). On an open track the start is kept within 0-90 %.

    Returns (start progress [%], params point x, y [m], yaw [rad]).

    Raises:
        ValueError: an unknown option, or a malformed value; the message shows it.
    """
    unknown = set(options) - {"start_progress", "pose"}
    if unknown:
        raise ValueError(f"reset options: unknown {sorted(unknown)}; expected 'start_progress' or 'pose'")
    if "pose" in options:
        try:
            x, y, heading = (float(v) for v in options["pose"])
        except (TypeError, ValueError) as err:
            raise ValueError(f"reset option 'pose': expected (x, y, heading_deg), got {options['pose']!r}") from err
        yaw = math.radians(heading)
        return start_progress_of(track, x, y, yaw), x, y, yaw
    start = float(options.get("start_progress", default))
    if not math.isfinite(start):
        raise ValueError(f"reset option 'start_progress': expected a percentage, got {start}")
    start = start % 100.0 if track.closed else min(max(start, 0.0), 90.0)
    return (start, *start_pose(track, start))


@dataclass
class Episode:
    """The bookkeeping and rules of one episode.

    Args:
        track: the track, as driven.
        start_progress: where the episode starts [% of a lap from waypoint 0].
        laps: laps to drive; more than 1 is DeepRacer's continuous evaluation.
        max_resets: events survived (NUMBER_OF_RESETS); each puts the car back and freezes it.
        penalties: seconds frozen after each event.
        max_steps: the step cap; reaching it truncates with ``time_up``.
    """

    track: Track
    start_progress: float
    laps: int = 1
    max_resets: int = 0
    penalties: Penalties = Penalties()
    max_steps: int = 10**9
    steps: float = 1.0
    """The step counter, as the params report it: 1.0 on the prepare step."""
    prev_progress: float = 0.0
    laps_done: int = 0
    lap_start: float = 1.0
    """The step on which the current lap started."""
    lap_times: list[float] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys((*EVENTS, "reset"), 0))
    status: str = "prepare"
    pause_steps: int = 0
    """Steps of penalty pause still to come."""
    _reverse_count: int = 0
    _still_count: int = 0

    @property
    def paused(self) -> bool:
        return self.pause_steps > 0

    @property
    def lap_time(self) -> float:
        """Time [s] of the lap in progress, or of the lap completed on this step."""
        if self.status == "lap_complete" and self.lap_times:
            return self.lap_times[-1]
        return (self.steps - self.lap_start + 1.0) / STEP_HZ

    @property
    def pause_left_s(self) -> float:
        """Penalty seconds still to wait."""
        return self.pause_steps / STEP_HZ

    def prepared(self, params: dict[str, Any]) -> None:
        """Record DeepRacer's prepare step (no reward call), whose params start the progress history."""
        self.prev_progress = params["progress"]
        self.status = "prepare"

    def next_step(self) -> None:
        """Count a step; the simulator counts every step, paused ones included."""
        self.steps += 1.0

    def pause_step(self) -> Judgement:
        """Judge a step of the penalty pause: the car stays frozen, no reward is computed."""
        self.pause_steps -= 1
        truncated = self.steps >= self.max_steps
        self.status = "time_up" if truncated else "pause"
        return _judgement(self.status, False, truncated, False)

    def judge(self, params: dict[str, Any], moved_m: float, bot_contact: bool = False) -> Judgement:
        """Judge a running step from its params and the distance [m] the car moved on the previous step
        (:meth:`judge_values` of the params' progress, is_crashed and is_offtrack)."""
        return self.judge_values(params["progress"], params["is_crashed"], params["is_offtrack"], moved_m, bot_contact)

    def judge_values(self, progress: float, crashed: bool, offtrack: bool, moved_m: float,
                     bot_contact: bool = False) -> Judgement:
        """Judge a running step from its progress [%], whether a crash counts and whether every wheel is off the
        road, and the distance [m] the car moved on the previous step.

        Priority as in the simulator: lap complete, crashed, off track, immobilized, reversed (spec §2.1).
        ``bot_contact``: the car touches a bot car it is ahead of or level with; that is no crash, and the
        simulator then acts on nothing else this step (objects spec §4.2).
        """
        self._reverse_count = self._reverse_count + 1 if progress < self.prev_progress else 0
        self._still_count = self._still_count + 1 if moved_m <= IMMOBILIZED_DIST_M else 0
        self.prev_progress = progress
        if progress >= 100.0:
            status = "lap_complete"
        elif crashed:
            status = "crashed"
        elif bot_contact:
            status = "in_progress"
        elif offtrack:
            status = "off_track"
        elif self._still_count >= IMMOBILIZED_STEPS:
            status = "immobilized"
        elif self._reverse_count >= REVERSED_STEPS:
            status = "reversed"
        else:
            status = "in_progress"

        terminated = status != "in_progress"
        put_back = False
        if status == "lap_complete":
            self.laps_done += 1
            self.lap_times.append((self.steps - self.lap_start + 1.0) / STEP_HZ)
            self.lap_start = self.steps + 1.0
            if self.laps_done < self.laps:  # continuous: drive on, progress restarts at the line
                terminated = False
                self.prev_progress = 0.0
        elif terminated:
            self.counts[status] += 1
            if self.counts["reset"] < self.max_resets:
                self.counts["reset"] += 1
                terminated = False
                put_back = True
                self.pause_steps = int(round(self.penalties.seconds(status) * STEP_HZ))
                self._reverse_count = self._still_count = 0
        truncated = not terminated and self.steps >= self.max_steps
        self.status = "time_up" if truncated else status
        return _judgement(self.status, terminated, truncated, put_back)

    def reset_arc(self) -> float:
        """Where a reset puts the car along the centre line [m from waypoint 0]: the last progress point."""
        return self.track.arc_of_percent(self.start_progress + self.prev_progress)

    def put_back_pose(self, x: float, y: float) -> tuple[float, float, float]:
        """Where a reset puts the car (spec §2.2): at the previous step's progress, on the lane (half way between
        the centre line and a border) nearer to the car's params point (x, y) [m], facing along the track.

        Returns the params point (x, y) [m] and yaw [rad].
        """
        track = self.track
        seg, t = track.locate(self.reset_arc())
        cx, cy = track.center.point(seg, t)
        _, ip, op = track.width_at(seg, t)
        lanes = [((cx + ip[0]) / 2, (cy + ip[1]) / 2), ((cx + op[0]) / 2, (cy + op[1]) / 2)]
        lx, ly = min(lanes, key=lambda p: math.hypot(p[0] - x, p[1] - y))
        yaw = track.heading_at(seg)
        return (*params_point(lx, ly, yaw), yaw)
