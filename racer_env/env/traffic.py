"""The objects of a race during an episode: where the obstacles stand and the bot cars drive at each step,
what the params see of them, a bot car's pause after it rear-ends the agent, and where a reset puts the car
near an obstacle (objects spec §2-§5, §9).

:class:`Traffic` is bookkeeping over the pure geometry of :mod:`racer_env.sim.objects`; the environment calls
it at the episode's start (:meth:`Traffic.reset`), at the start of each step (:meth:`Traffic.step`) and
after judging a step (:meth:`Traffic.rear_end`).
"""

from __future__ import annotations

import math
import random
from typing import Sequence

import numpy as np

from racer_env.constants import DT_S, OBJECT_NEAR_M
from racer_env.env.episode import Episode
from racer_env.env.params import NO_OBJECTS, Objects, objects_array
from racer_env.env.race import RaceSettings
from racer_env.sim.objects import (Lanes, TrackObject, arc_gap, fixed_layout, generated_layout, object_at, objects_of)
from racer_env.sim.track import Track
from racer_env.sim.vehicle import params_point

__all__ = ["Traffic"]


class _Bot:
    """A bot car's schedule: where it started [m], its lane, and its next lane change [running seconds]; a row
    of its race's schedule array (columns start, lane, change_at, change_end), which the kernels read."""

    __slots__ = ("_row",)

    def __init__(self, row: np.ndarray):
        self._row = row

    start = property(lambda self: float(self._row[0]), lambda self, v: self._row.__setitem__(0, v))
    lane = property(lambda self: int(self._row[1]), lambda self, v: self._row.__setitem__(1, v))
    change_at = property(lambda self: float(self._row[2]), lambda self, v: self._row.__setitem__(2, v))
    change_end = property(lambda self: float(self._row[3]), lambda self, v: self._row.__setitem__(3, v))


class Traffic:
    """The obstacles and bot cars of a race on ``track`` (as driven), for ``mode`` "train" or "eval".

    Args:
        track: the track, as driven.
        settings: the race.
        mode: "train" or "eval" (the bot cars' pause after a rear-end is 0 s in training by default).
        placed: boxes placed by hand, centres at (x, y) [m], before the race's own obstacles.
    """

    def __init__(self, track: Track, settings: RaceSettings, mode: str = "train",
                 placed: Sequence[tuple[float, float]] = ()):
        self.track, self.settings = track, settings
        self.placed = [object_at(track, float(x), float(y)) for x, y in placed]
        self.lanes = Lanes.of(track) if settings.has_objects else None
        self._placed: dict[tuple, list[TrackObject]] = {}
        self.rng = random.Random()
        self.bot_pause_s = settings.bot_penalty(mode)
        self.conversions = 1  # the shrinking gap: the simulator converts it once at start-up (objects spec §2.3)
        self.obstacles: list[TrackObject] = list(self.placed)
        self.bots: list[_Bot] = []
        self._due = -math.inf
        """The running time [s] from which a bot car's lane-change schedule must be looked at again."""
        self.now: list[TrackObject] = list(self.placed)
        """Every object's pose this step, obstacles first (the simulator's registry order)."""
        self.previous: list[TrackObject] = []
        """The poses at the end of the previous episode (the stale start check, §5)."""
        self.seen: Objects = Objects(track, self.now) if self.now else NO_OBJECTS
        """What the params and the crash test see this step (bot cars a step late by default, §4.1)."""
        self.run_time = 0.0
        """Seconds the bot cars have driven this episode (pauses excluded)."""
        self.pause_left = 0.0
        self.rear_ends = 0
        self.mercy_count, self.mercy_index = 0, -1
        """Resets in a row at one obstacle (ENABLE_MERCY_RESET): the log's ``obstacle_crash_counter``."""
        self._array_of: list[TrackObject] | None = None
        self._array = np.zeros((0, 6))
        self._bot_array = np.zeros((0, 6))
        self._obstacles_of: list[TrackObject] | None = None
        self._obstacles_array = np.zeros((0, 6))

    @property
    def active(self) -> bool:
        return bool(self.now) or self.settings.has_objects

    def array(self) -> np.ndarray:
        """:attr:`now` as the kernels take objects (racer_env.sim.kernels.OBJECT_FIELDS), made once for each
        pose of them (the boxes of an episode stand still)."""
        if self._array_of is not self.now:  # now is the obstacles, then the bot cars' poses just made
            if self._obstacles_of is not self.obstacles:
                self._obstacles_array, self._obstacles_of = objects_array(self.obstacles), self.obstacles
            self._array = np.concatenate([self._obstacles_array, self._bot_array]) if self.bots else \
                self._obstacles_array
            self._array_of = self.now
        return self._array

    # --------------------------------------------------------------- episodes
    def reset(self, seed: int | None = None) -> None:
        """Place the obstacles and bot cars for a new episode (every episode, as the simulator does)."""
        if seed is not None:
            self.rng.seed(seed)
            self.conversions = 1
        self.previous = list(self.now)
        s, length = self.settings, self.track.length
        layout: list[tuple[float, int]] = []
        if s.OBJECT_POSITIONS:
            layout = fixed_layout(length, s.OBJECT_POSITIONS)
        elif s.NUMBER_OF_OBSTACLES:
            layout = generated_layout(length, s.NUMBER_OF_OBSTACLES, self._obstacle_gap(),
                                      self.rng if s.RANDOMIZE_OBSTACLE_LOCATIONS else None)
        kind = "parked" if s.IS_OBSTACLE_BOT_CAR else "box"
        self.obstacles = self.placed + self._place(layout, kind)
        bots = generated_layout(length, s.bots, s.MIN_DISTANCE_BETWEEN_BOT_CARS,
                                self.rng if s.RANDOMIZE_BOT_CAR_LOCATIONS else None)
        if bots:
            self._schedule_rows = np.array([(d, lane, math.inf, math.inf) for d, lane in bots],
                                           dtype=np.float64).reshape(-1, 4)
            self.bots = [_Bot(row) for row in self._schedule_rows]
            self._due = -math.inf  # every bot car's first lane change is drawn on its first running step
        else:  # no bot cars (most races): no list to convert nor rows to iterate, ~3 us of every reset
            self._schedule_rows, self.bots = np.zeros((0, 4)), []
        self.run_time, self.pause_left, self.rear_ends = 0.0, 0.0, 0
        self.mercy_count, self.mercy_index = 0, -1
        self.now = self.obstacles + self._bot_poses()
        self.seen = self._objects(self.now)

    def _place(self, layout: list[tuple[float, int]], kind: str) -> list[TrackObject]:
        """The obstacles of a layout on their lanes; a fixed layout comes back every episode, so it is kept."""
        if not layout:
            return []
        key = (tuple(layout), kind)
        placed = self._placed.get(key)
        if placed is None:
            assert self.lanes is not None
            placed = self.lanes.obstacles([d for d, _ in layout], [lane for _, lane in layout], kind)
            if len(self._placed) < 64:
                self._placed[key] = placed
        return list(placed)

    def _obstacle_gap(self) -> float:
        """The gap [m] of generated obstacles this episode (objects spec §2.3)."""
        s, length = self.settings, self.track.length
        if s.obstacle_gap == "metres":
            return s.MIN_DISTANCE_BETWEEN_OBSTACLES
        if s.obstacle_gap == "percent":
            return s.MIN_DISTANCE_BETWEEN_OBSTACLES / 100.0 * length
        self.conversions += 1  # converted again at every reset and stored back: it shrinks (grows past 100 m)
        return s.MIN_DISTANCE_BETWEEN_OBSTACLES * (length / 100.0) ** self.conversions

    # ------------------------------------------------------------------ steps
    def step(self) -> None:
        """The start of a step: the bot cars move to this step's poses (objects spec §3.1, §9)."""
        if not self.bots:
            return
        before = self.now
        lagged = self.settings.bot_lag == "one_step"
        before_array = self.array() if lagged else None  # the poses the params see, as the kernels take them
        self.now = self.obstacles + self._bot_poses()
        self.seen = self._objects(before, before_array) if lagged else self._objects(self.now, self.array())
        if self.pause_left > 0.0:
            self.pause_left -= DT_S
        else:
            self.run_time += DT_S

    def _bot_poses(self) -> list[TrackObject]:
        """Every bot car's pose after ``run_time`` seconds of driving (every step of a head-to-bot race)."""
        s, lanes, t = self.settings, self.lanes, self.run_time
        if not self.bots:
            return []
        assert lanes is not None
        changes = s.IS_LANE_CHANGE
        rows = self._schedule_rows
        if changes and t >= self._due:  # some bot car's schedule moves on this step (else nothing would)
            for bot in self.bots:
                if bot.change_at == math.inf:  # its first running step: when to change lanes
                    self._schedule(bot, t)
                while t >= bot.change_end:
                    bot.lane = 1 - bot.lane
                    self._schedule(bot, bot.change_end)
            self._due = float(rows[:, 3].min())  # the first lane change's end: nothing moves before it
        self._bot_array = lanes.poses_array(rows[:, 0], rows[:, 1], rows[:, 2], t, s.BOT_CAR_SPEED, changes,
                                            s.LANE_CHANGE_DISTANCE)
        return objects_of(self._bot_array, "bot")

    def _schedule(self, bot: _Bot, after: float) -> None:
        """The next lane change: after U(lower, upper) s in the lane, lasting distance / speed (§3.3)."""
        s = self.settings
        bot.change_at = after + self.rng.uniform(s.LOWER_LANE_CHANGE_TIME, s.UPPER_LANE_CHANGE_TIME)
        bot.change_end = bot.change_at + s.LANE_CHANGE_DISTANCE / s.BOT_CAR_SPEED

    def _objects(self, things: list[TrackObject], array: np.ndarray | None = None) -> Objects:
        if not things:
            return NO_OBJECTS
        s = self.settings
        return Objects(self.track, things, bots=s.bots > 0, bot_speed=s.BOT_CAR_SPEED, camera=s.object_in_camera,
                       one_step=s.bots > 0, array=array)

    def rear_end(self, x: float, y: float, yaw: float, progress: float, start_progress: float) -> bool:
        """After a running step: does the car touch a bot car that does not count as its crash (the car is
        level with it or ahead, §4.2)? When ahead, every bot car freezes for the pause (0 s in training by
        default) unless already frozen (§3.5)."""
        if not self.bots:
            return False
        hit = self.seen.touching(x, y, yaw)
        if hit < 0 or self.seen.things[hit].kind != "bot":
            return False
        agent = (progress + start_progress) % 100.0
        bot = self.seen.front_pct(hit)
        if agent > bot and self.pause_left <= 0.0 and self.bot_pause_s > 0.0:
            self.pause_left = self.bot_pause_s
            self.run_time -= DT_S  # they stop where they are now, and go on from there after the pause
            self.rear_ends += 1
        return agent >= bot

    # ---------------------------------------------------------------- placing
    def start_pose(self, start_pct: float, x: float, y: float, yaw: float) -> tuple[float, float, float]:
        """A training start (params point (x, y) [m], ``yaw`` [rad]) moved to the lane opposite to an object
        standing within 1 m of the start distance, or kept (§5). By default the check looks where the objects
        were at the end of the previous episode, as the simulator does."""
        arc = self.track.arc_of_percent(start_pct)
        things = self.previous if self.settings.start_check == "stale" else self.now
        for o in things:
            if arc_gap(o.distance, arc, self.track.length) < OBJECT_NEAR_M and self.lanes is not None:
                return self.lane_pose(arc, 1 if o.offset > 0.0 else 0)
        return x, y, yaw

    def lane_pose(self, distance: float, lane: int) -> tuple[float, float, float]:
        """The params point (x, y) [m] and yaw [rad] of a car whose origin is on ``lane`` at ``distance`` [m]."""
        assert self.lanes is not None
        x, y, yaw = self.lanes.place(distance, lane)
        return (*params_point(x, y, yaw), yaw)

    def reset_pose(self, episode: Episode, x: float, y: float, yaw: float) -> tuple[float, float, float]:
        """Where a reset puts the car whose params point is at (x, y) [m], ``yaw`` [rad] (objects spec §4.3):

        * after a counted crash into a bot car: where it is (it freezes there);
        * when an obstacle stands within 1 m of the spawn distance (the last progress point):
          RESET_BEHIND_DIST behind it, in the other lane, facing along it; with ENABLE_MERCY_RESET, the
          MAX_RESETS_AFTER_CRASH-th reset in a row at the same obstacle puts it RESET_AHEAD_DIST ahead;
        * otherwise the lane point of spec §2.2 (:meth:`Episode.put_back_pose`).
        """
        if episode.status == "crashed":
            hit = self.seen.touching(x, y, yaw)
            if hit >= 0 and self.seen.things[hit].kind == "bot":
                return x, y, yaw
        s, length = self.settings, self.track.length
        spawn = episode.reset_arc()
        near = [(arc_gap(o.distance, spawn, length), i) for i, o in enumerate(self.obstacles)]
        near = [n for n in near if n[0] < OBJECT_NEAR_M]
        if not near or self.lanes is None:
            return episode.put_back_pose(x, y)
        index = min(near)[1]
        obstacle = self.obstacles[index]
        other = 1 if obstacle.offset > 0.0 else 0
        if s.ENABLE_MERCY_RESET:
            self.mercy_count = self.mercy_count + 1 if self.mercy_index == index else 1
            self.mercy_index = index
            if self.mercy_count >= s.MAX_RESETS_AFTER_CRASH:
                self.mercy_count = 0
                return self.lane_pose(obstacle.distance + s.RESET_AHEAD_DIST, other)
        return self.lane_pose(obstacle.distance - s.RESET_BEHIND_DIST, other)
