"""The state battery of ``racer check``: the reward function on thousands of states built by the env's params code.

States go round the track and across it (centre, near the borders, some and all
wheels off), with headings along, across and against the track, every action
of the action space, early and late steps, progress near 0 and 100, the
reversed direction and objects. Each failure DeepRacer would reject is kept
with its exact params, to be written as a pytest function.
"""

from __future__ import annotations

import difflib
import math
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from racer_env.constants import FIRST_REWARD_STEP, STEP_HZ
from racer_env.env.actions import ActionSpec
from racer_env.env.params import NO_OBJECTS, PARAM_KEYS, Objects, compute_params
from racer_env.sim.objects import Lanes
from racer_env.env.rewards import DEFAULT_TIME_LIMIT_S, RewardFunction
from racer_env.errors import RewardFunctionError
from racer_env.sim.track import Track

__all__ = ["Failure", "Stats", "BatteryReport", "battery", "failure_snippet", "action_grid", "pose", "Sink"]


@dataclass
class Failure:
    situation: str
    where: str  # file:line
    what: str
    params: dict[str, Any]


@dataclass
class Stats:
    situation: str
    n: int
    minimum: float
    median: float
    maximum: float


class _Stop(Exception):
    """A call ran past the time limit: the battery stops."""


BUDGET_S = 60.0
"""About how long racer check's battery may take [s]; a slower function is tried on an even sample of the states."""
SAMPLE_AFTER_CALLS = 50
"""Calls timed before the battery decides whether it must sample."""


@dataclass
class BatteryReport:
    planned: int = 0
    """States in the battery."""
    sampled: int = 1
    """Every how many states were tried (1: all; more when the function is too slow for the budget)."""
    stopped: bool = False
    """A call ran past the time limit and the battery stopped there."""
    calls: int = 0
    seconds_per_call: float = 0.0
    stats: list[Stats] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)  # one per distinct (where, what kind)
    failure_count: int = 0
    keys_read: set[str] = field(default_factory=set)
    unknown_keys: dict[str, str | None] = field(default_factory=dict)  # key -> "did you mean"


class _Recorder(dict):
    """A params dict that notes which keys the reward function reads."""

    seen: set[str]

    def __getitem__(self, key):
        self.seen.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.seen.add(key)
        return super().get(key, default)

    def __contains__(self, key):
        self.seen.add(key)
        return super().__contains__(key)


def action_grid(actions: ActionSpec) -> list[tuple[float, float]]:
    """Every action of a discrete space; a 5 x 3 grid of a continuous one. (steering [deg], speed [m/s])."""
    if actions.discrete is not None:
        return list(actions.discrete)
    (s_lo, s_hi), (v_lo, v_hi) = actions.steering_range, actions.speed_range
    return [(s, v) for s in np.linspace(s_lo, s_hi, 5) for v in (v_lo, (v_lo + v_hi) / 2, v_hi)]


def pose(track: Track, arc: float, lateral_m: float, heading_offset_deg: float = 0.0) -> tuple[float, float, float]:
    """A params-point pose at ``arc`` [m] along the centre line, ``lateral_m`` to its left, and its yaw [rad],
    ``heading_offset_deg`` from the track's direction."""
    x, y, yaw = track.pose_at(arc, lateral_m)
    return x, y, yaw + math.radians(heading_offset_deg)


def _states(track: Track, actions: ActionSpec, positions: int = 24):
    """(situation, kwargs for compute_params) for the whole battery, deterministic."""
    L = track.length
    grid = action_grid(actions)
    lap_steps = L / max(float(np.mean([v for _, v in grid])), 0.5) * STEP_HZ
    laterals = [("centre line", 0.0), ("off centre", 0.5), ("off centre", -0.5), ("near a border", 0.9),
                ("near a border", -0.9), ("some wheels off", 1.0), ("some wheels off", -1.0),
                ("all wheels off", 1.0 + 0.45), ("all wheels off", -1.0 - 0.45)]
    headings = [("", 0.0), ("", 20.0), ("", -20.0), ("heading across the track", 90.0),
                ("heading across the track", -90.0), ("heading against the track", 180.0)]
    for k in range(positions):
        arc = (k + 0.5) / positions * L
        half = track.vertex_widths[track.point_at(arc)[2]] / 2
        steps = FIRST_REWARD_STEP + round(arc / L * lap_steps)
        for lat_name, frac in laterals:
            lateral = frac * half if abs(frac) <= 1.0 else math.copysign(half + 0.45, frac)
            for head_name, dh in headings:
                x, y, h = pose(track, arc, lateral, dh)
                for steer, speed in grid:
                    yield head_name or lat_name, dict(x=x, y=y, yaw=h, steering_angle=steer, speed=speed,
                                                      steps=steps)
    steer0, speed0 = grid[len(grid) // 2]
    for k in range(positions):
        arc = (k + 0.5) / positions * L
        x, y, h = pose(track, arc, 0.0, 0.0)
        for steps in (FIRST_REWARD_STEP, FIRST_REWARD_STEP + 1.0):
            yield "early steps", dict(x=x, y=y, yaw=h, steering_angle=steer0, speed=speed0, steps=steps)
        for steps in (1000.0, 5000.0):
            yield "late steps", dict(x=x, y=y, yaw=h, steering_angle=steer0, speed=speed0, steps=steps)
    for lateral in (-0.2, 0.0, 0.2):
        for arc in (0.0, 0.02, 0.1):
            x, y, h = pose(track, arc, lateral, 0.0)
            yield "progress near 0", dict(x=x, y=y, yaw=h, steering_angle=steer0, speed=speed0, steps=FIRST_REWARD_STEP,
                                          prev_progress=0.0)
        for arc in (-0.1, -0.02, 0.01):
            x, y, h = pose(track, L + arc, lateral, 0.0)
            yield "progress near 100", dict(x=x, y=y, yaw=h, steering_angle=steer0, speed=speed0,
                                            steps=lap_steps, prev_progress=99.5)


OBJECT_SITUATIONS = ("an object ahead", "an object beside", "an object behind", "objects across the finish line",
                     "bot cars around")


def _object_states(track: Track, actions: ActionSpec) -> Iterator[tuple[str, Objects, dict[str, Any]]]:
    """States among objects on the lanes, as the race places them (objects spec §2.4, §6): the car behind an
    object (0.3 to 2 m), beside it and past it, in each lane, with boxes; boxes either side of the finish line
    (``closest_objects`` wraps round); and bot cars (``objects_heading`` and ``objects_speed`` filled)."""
    lanes = Lanes(track)
    L = track.length
    grid = action_grid(actions)
    steer0, speed0 = grid[len(grid) // 2]
    for k in range(4):
        arc = (k + 0.5) / 4 * L
        for lane in (0, 1):
            box = lanes.obstacle(arc, lane, "box")
            objects = Objects(track, [box, lanes.obstacle(arc + L / 2, 1 - lane, "box")])
            for car_lane in (0, 1):
                side = 1.0 if (car_lane == 0) == track.is_ccw else -1.0  # inner lane = left on a ccw lap
                lateral = side * track.vertex_widths[track.point_at(arc)[2]] / 4
                for name, gaps in (("an object ahead", (-2.0, -1.0, -0.6, -0.3)), ("an object beside", (0.0,)),
                                   ("an object behind", (0.4, 1.0))):
                    for gap in gaps:
                        x, y, h = pose(track, (arc + gap) % L, lateral, 0.0)
                        for steer, speed in grid[:: max(1, len(grid) // 6)]:
                            yield name, objects, dict(x=x, y=y, yaw=h, steering_angle=steer, speed=speed,
                                                      steps=FIRST_REWARD_STEP + 50)
    across = Objects(track, [lanes.obstacle(L - 0.8, 0, "box"), lanes.obstacle(0.8, 1, "box"),
                             lanes.obstacle(L / 2, 0, "box")])
    for arc in (L - 1.5, L - 0.3, 0.2, 1.5):
        for lateral in (-0.1, 0.1):
            x, y, h = pose(track, arc % L, lateral, 0.0)
            yield "objects across the finish line", across, dict(x=x, y=y, yaw=h, steering_angle=steer0,
                                                                  speed=speed0, steps=FIRST_REWARD_STEP + 50)
    bots = Objects(track, [lanes.obstacle(L * f, int(f > 0.5), "bot") for f in (0.2, 0.6, 0.9)],
                   bots=True, bot_speed=1.0)
    for k in range(8):
        arc = (k + 0.5) / 8 * L
        for lateral in (-0.15, 0.0, 0.15):
            x, y, h = pose(track, arc, lateral, 0.0)
            yield "bot cars around", bots, dict(x=x, y=y, yaw=h, steering_angle=steer0, speed=speed0,
                                                steps=FIRST_REWARD_STEP + 50)


def _call(rf: RewardFunction, params: dict[str, Any], seen: set[str]) -> float:
    rec = _Recorder(params)
    rec.seen = seen
    return rf(rec)


def battery(reward: str | Path, track: Track, actions: ActionSpec, positions: int = 24,
            time_limit_s: float | None = DEFAULT_TIME_LIMIT_S, budget_s: float = BUDGET_S,
            progress: Callable[[int, int], None] | None = None) -> BatteryReport:
    """Run the reward function over the state battery. Each situation gets a fresh copy of the module.

    A function slow enough that the battery would take more than ``budget_s`` [s] runs on an even sample of
    the states instead (``report.sampled``). A call past ``time_limit_s`` stops the battery at once: the
    failure names the line it was running. ``progress(done, total)`` is called as the states are tried.
    """
    report = BatteryReport()
    by_situation: dict[str, list[float]] = {}
    loaded: dict[str, RewardFunction] = {}
    seen: set[str] = set()
    distinct: dict[tuple[str, str], Failure] = {}
    elapsed = 0.0
    reversed_track = track.reversed()

    def run(situation: str, t: Track, objects: Objects, kw: dict[str, Any]) -> None:
        nonlocal elapsed
        rf = loaded.get(situation)
        if rf is None:
            rf = loaded[situation] = RewardFunction(reward, stdout=Sink(), time_limit_s=time_limit_s)
        params = compute_params(t, start_progress=0.0, prev_progress=kw.pop("prev_progress", None), objects=objects,
                                sim_time=kw["steps"] / STEP_HZ, **kw)
        t0 = time.perf_counter()
        try:
            r = _call(rf, params, seen)
        except RewardFunctionError as err:
            elapsed += time.perf_counter() - t0
            report.failure_count += 1
            key = (err.where, err.what.split(":")[0][:60])
            if key not in distinct:
                distinct[key] = Failure(situation, err.where, err.what, params)
            if "was stopped after running" in err.what:
                raise _Stop from None  # one call past the limit: the rest would take as long
            return
        elapsed += time.perf_counter() - t0
        by_situation.setdefault(situation, []).append(r)

    states = [(situation, track, NO_OBJECTS, kw) for situation, kw in _states(track, actions, positions)]
    # the reversed direction, and objects on the track: a lighter sweep each
    states += [("reversed direction", reversed_track, NO_OBJECTS, kw)
               for situation, kw in _states(reversed_track, actions, max(6, positions // 4))
               if situation in ("centre line", "off centre", "near a border")]
    states += [(situation, track, objects, kw) for situation, objects, kw in _object_states(track, actions)]
    report.planned = len(states)
    k, stride = 0, 1
    try:
        while k < len(states):
            run(*states[k])
            k += stride
            if progress is not None:
                progress(k, len(states))
            if stride == 1 and k == SAMPLE_AFTER_CALLS and elapsed / k * len(states) > budget_s:
                stride = math.ceil(elapsed / k * len(states) / budget_s)  # keep to the budget: an even sample
                report.sampled = stride
    except _Stop:
        report.stopped = True

    order = ["centre line", "off centre", "near a border", "some wheels off", "all wheels off",
             "heading across the track", "heading against the track", "early steps", "late steps",
             "progress near 0", "progress near 100", "reversed direction", *OBJECT_SITUATIONS]
    for name in order:
        vals = by_situation.get(name)
        if vals:
            report.stats.append(Stats(name, len(vals), min(vals), statistics.median(vals), max(vals)))
    report.calls = sum(len(v) for v in by_situation.values()) + report.failure_count
    report.seconds_per_call = elapsed / max(report.calls, 1)
    report.failures = list(distinct.values())
    report.keys_read = seen & set(PARAM_KEYS)
    for key in sorted(seen - set(PARAM_KEYS)):
        if isinstance(key, str):
            hint = difflib.get_close_matches(key, PARAM_KEYS, n=1)
            report.unknown_keys[key] = hint[0] if hint else None
    return report


class Sink:
    """Swallows what the reward function prints during the battery."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def failure_snippet(failure: Failure, reward_path: str, name: str = "test_reward_function_failure") -> str:
    """A pytest function that reproduces a failure with the exact params."""
    return (
        f"# {failure.where}: {failure.what} ({failure.situation})\n"
        f"import math\nimport runpy\n\n\n"
        f"def {name}():\n"
        f"    reward_function = runpy.run_path({str(reward_path)!r})[\"reward_function\"]\n"
        f"    params = {failure.params!r}\n"
        f"    reward = float(reward_function(params))\n"
        f"    assert math.isfinite(reward) and abs(reward) <= 1e5\n"
    )
