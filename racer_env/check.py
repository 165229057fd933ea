"""The reward-function workbench behind ``racer check``: test a reward function before training.

* ``battery``: calls the function on thousands of states built by the environment's own
  params code (round the track, across its width, off it, every heading and action,
  early and late steps, progress near 0 and 100, reversed, with objects) and reports
  each failure DeepRacer would reject, as a snippet to paste into a unit test.
* ``probes``: rolls out scripted drivers (centre-line followers, zig-zag, border hugging,
  stopping, backwards, circling) and warns when a degenerate one earns more per second
  than the best finisher: reward hacking.
* ``rescore_log``: re-scores a DeepRacer SIM_TRACE log with the function (what-if).
* ``pictures``: a reward heatmap over the track and the reward along the centre line.
"""

from __future__ import annotations

import difflib
import math
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from racer_env.actions import ActionSpec
from racer_env.constants import MAX_SPEED_MPS, MIN_SPEED_MPS, STEP_HZ
from racer_env.drivers import PurePursuit
from racer_env.env import RacerEnv
from racer_env.errors import RewardFunctionError
from racer_env.params import PARAM_KEYS, Objects, compute_params
from racer_env.rewards import RewardFunction
from racer_env.simtrace import read_sim_trace
from racer_env.track import Track

__all__ = ["Failure", "Stats", "Probe", "BatteryReport", "battery", "probes", "rescore_log", "LogRescore",
           "draw_pictures", "failure_snippet"]


# ----------------------------------------------------------------- battery
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


@dataclass
class BatteryReport:
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


def _speeds_and_steering(actions: ActionSpec) -> list[tuple[float, float]]:
    """Every action of a discrete space; a 5 x 3 grid of a continuous one. (steering [deg], speed [m/s])."""
    if actions.discrete is not None:
        return list(actions.discrete)
    (s_lo, s_hi), (v_lo, v_hi) = actions.steering_range, actions.speed_range
    return [(s, v) for s in np.linspace(s_lo, s_hi, 5) for v in (v_lo, (v_lo + v_hi) / 2, v_hi)]


def _pose(track: Track, arc: float, lateral_m: float, heading_offset_deg: float) -> tuple[float, float, float]:
    """A params-point pose at ``arc`` [m] along the centre line, ``lateral_m`` to its left, heading relative to it."""
    x, y, seg = track.point_at(arc)
    dx, dy = track.center.dx[seg], track.center.dy[seg]
    n = math.hypot(dx, dy) or 1.0
    heading = math.degrees(math.atan2(dy, dx)) + heading_offset_deg
    return x - dy / n * lateral_m, y + dx / n * lateral_m, heading


def _states(track: Track, actions: ActionSpec, positions: int = 24):
    """(situation, kwargs for compute_params) for the whole battery, deterministic."""
    L = track.length
    grid = _speeds_and_steering(actions)
    lap_steps = L / max(np.mean([v for _, v in grid]), 0.5) * STEP_HZ
    laterals = [("centre line", 0.0), ("off centre", 0.5), ("off centre", -0.5), ("near a border", 0.9),
                ("near a border", -0.9), ("some wheels off", 1.0), ("some wheels off", -1.0),
                ("all wheels off", 1.0 + 0.45), ("all wheels off", -1.0 - 0.45)]
    headings = [("", 0.0), ("", 20.0), ("", -20.0), ("heading across the track", 90.0),
                ("heading across the track", -90.0), ("heading against the track", 180.0)]
    for k in range(positions):
        arc = (k + 0.5) / positions * L
        half = track.vertex_widths[track.point_at(arc)[2]] / 2
        steps = 2.0 + round(arc / L * lap_steps)
        for lat_name, frac in laterals:
            lateral = frac * half if abs(frac) <= 1.0 else math.copysign(half + 0.45, frac)
            for head_name, dh in headings:
                x, y, h = _pose(track, arc, lateral, dh)
                for steer, speed in grid:
                    yield head_name or lat_name, dict(x=x, y=y, heading=h, steering_angle=steer, speed=speed,
                                                      steps=steps)
    steer0, speed0 = grid[len(grid) // 2]
    for k in range(positions):
        arc = (k + 0.5) / positions * L
        x, y, h = _pose(track, arc, 0.0, 0.0)
        for steps in (2.0, 3.0):
            yield "early steps", dict(x=x, y=y, heading=h, steering_angle=steer0, speed=speed0, steps=steps)
        for steps in (1000.0, 5000.0):
            yield "late steps", dict(x=x, y=y, heading=h, steering_angle=steer0, speed=speed0, steps=steps)
    for lateral in (-0.2, 0.0, 0.2):
        for arc in (0.0, 0.02, 0.1):
            x, y, h = _pose(track, arc, lateral, 0.0)
            yield "progress near 0", dict(x=x, y=y, heading=h, steering_angle=steer0, speed=speed0, steps=2.0,
                                          prev_progress=0.0)
        for arc in (-0.1, -0.02, 0.01):
            x, y, h = _pose(track, L + arc, lateral, 0.0)
            yield "progress near 100", dict(x=x, y=y, heading=h, steering_angle=steer0, speed=speed0,
                                            steps=lap_steps, prev_progress=99.5)


def _call(rf: RewardFunction, params: dict[str, Any], seen: set[str]) -> float:
    rec = _Recorder(params)
    rec.seen = seen
    return rf(rec)


def battery(reward: str | Path, track: Track, actions: ActionSpec, positions: int = 24) -> BatteryReport:
    """Run the reward function over the state battery. Each situation gets a fresh copy of the module."""
    report = BatteryReport()
    by_situation: dict[str, list[float]] = {}
    loaded: dict[str, RewardFunction] = {}
    seen: set[str] = set()
    distinct: dict[tuple[str, str], Failure] = {}
    elapsed = 0.0
    reversed_track = track.reversed()
    box_arcs = (0.3, 0.7)

    def run(situation: str, t: Track, objects: Objects, start_ndist: float, kw: dict[str, Any]) -> None:
        nonlocal elapsed
        rf = loaded.get(situation)
        if rf is None:
            rf = loaded[situation] = RewardFunction(reward, stdout=_Sink())
        prev = kw.pop("prev_progress", None)
        params, _ = compute_params(t, kw["x"], kw["y"], kw["heading"], kw["steering_angle"], kw["speed"],
                                   kw["steps"], start_ndist, prev, objects, kw["steps"] / STEP_HZ)
        t0 = time.perf_counter()
        try:
            r = _call(rf, params, seen)
        except RewardFunctionError as err:
            elapsed += time.perf_counter() - t0
            report.failure_count += 1
            key = (err.where, err.what.split(":")[0][:60])
            if key not in distinct:
                distinct[key] = Failure(situation, err.where, err.what, params)
            return
        elapsed += time.perf_counter() - t0
        by_situation.setdefault(situation, []).append(r)

    none = Objects()
    for situation, kw in _states(track, actions, positions):
        run(situation, track, none, 0.0, kw)
    # the reversed direction, and objects on the track: a lighter sweep each
    for situation, kw in _states(reversed_track, actions, max(6, positions // 4)):
        if situation in ("centre line", "off centre", "near a border"):
            run("reversed direction", reversed_track, none, 0.0, kw)
    boxes = Objects.on(track, [track.point_at(a * track.length)[:2] for a in box_arcs])
    for situation, kw in _states(track, actions, max(6, positions // 4)):
        if situation in ("centre line", "off centre"):
            run("with objects", track, boxes, 0.0, kw)

    order = ["centre line", "off centre", "near a border", "some wheels off", "all wheels off",
             "heading across the track", "heading against the track", "early steps", "late steps",
             "progress near 0", "progress near 100", "reversed direction", "with objects"]
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


class _Sink:
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


# ------------------------------------------------------------------ probes
@dataclass
class Probe:
    name: str
    degenerate: bool
    status: str
    seconds: float
    reward: float
    progress: float

    @property
    def per_second(self) -> float:
        return self.reward / self.seconds if self.seconds > 0 else 0.0


def _drive(env: RacerEnv, controls: Callable[[int], tuple[float, float]], pose=None) -> tuple[str, float, float]:
    options = {"pose": pose} if pose is not None else None
    env.reset(seed=0, options=options)
    total, k = 0.0, 0
    while True:
        _, r, te, tr, info = env.step(env.actions.to_action(*controls(k)))
        total += r
        k += 1
        if te or tr:
            return info["episode_status"], total, info["progress"]


def probes(reward: str | Path, track: Track, actions: ActionSpec, max_seconds: float = 60.0) -> list[Probe]:
    """Scripted drivers with the reward function: centre-line followers at each speed, then degenerate ones."""
    speeds = sorted({min(max(v, MIN_SPEED_MPS), MAX_SPEED_MPS) for _, v in _speeds_and_steering(actions)})
    if len(speeds) > 4:
        speeds = [speeds[0], speeds[len(speeds) // 2], speeds[-1]]
    slow, mid = speeds[0], speeds[len(speeds) // 2]
    max_steer = max(abs(s) for s, _ in _speeds_and_steering(actions)) or 30.0
    steps = int(max_seconds * STEP_HZ)
    out: list[Probe] = []

    def env() -> RacerEnv:
        return RacerEnv(track=track, reward_function=RewardFunction(reward, stdout=_Sink()), model_metadata=actions,
                        mode="eval", max_episode_steps=steps)

    def add(name: str, degenerate: bool, e: RacerEnv, controls, pose=None) -> None:
        status, total, progress = _drive(e, controls, pose)
        out.append(Probe(name, degenerate, status, e._steps / STEP_HZ, total, progress))

    for v in speeds:
        e = env()
        pp = PurePursuit(e.track, v)
        add(f"centre line at {v:g} m/s", False, e, lambda k, pp=pp, e=e: pp.controls(e.car))
    e = env()
    pp = PurePursuit(e.track, mid)
    add(f"zig-zag at {mid:g} m/s", True, e,
        lambda k: (pp.controls(e.car)[0] + (15.0 if (k // 6) % 2 else -15.0), mid))
    e = env()
    hug = _OffsetPursuit(e.track, slow, 0.65)
    add(f"hugging the left border at {slow:g} m/s", True, e, lambda k: hug.controls(e.car))
    e = env()
    pp = PurePursuit(e.track, slow)
    add(f"stopping (slowest action, {slow:g} m/s)", True, e, lambda k: (pp.controls(e.car)[0], 0.0))
    e = env()
    x, y, h = _pose(track, 0.5, 0.0, 180.0)
    back = PurePursuit(track.reversed(), mid)
    add(f"driving backwards round the track at {mid:g} m/s", True, e, lambda k: back.controls(e.car), (x, y, h))
    e = env()
    add(f"circling in place at {slow:g} m/s", True, e, lambda k: (max_steer, slow))
    return out


class _OffsetPursuit(PurePursuit):
    """Pure pursuit of the line ``fraction`` of the half-width left of the centre line."""

    def __init__(self, track: Track, speed: float, fraction: float):
        super().__init__(track, speed)
        self.fraction = fraction

    def controls(self, car) -> tuple[float, float]:
        x, y = car.x, car.y
        seg, t, _ = self.track.project(x, y, self._seg)
        self._seg = seg
        arc = self.track.arc_length(seg, t) + self.lookahead_m
        half = self.track.vertex_widths[self.track.point_at(arc)[2]] / 2
        tx, ty, _ = _pose(self.track, arc, self.fraction * half, 0.0)
        h = math.radians(car.heading)
        alpha = math.atan2(ty - y, tx - x) - h
        steer = math.degrees(math.atan2(2.0 * 0.27 * math.sin(alpha), max(math.hypot(tx - x, ty - y), 1e-6)))
        return max(-30.0, min(30.0, steer)), self.speed


def hacking_warnings(results: list[Probe], margin: float = 0.02) -> list[str]:
    """Warnings for degenerate drivers that earn more per second than the best centre-line finisher."""
    finishers = [p for p in results if not p.degenerate and p.status == "lap_complete"]
    if not finishers:
        return ["no centre-line driver finished a lap: the probes cannot compare"]
    best = max(finishers, key=lambda p: p.per_second)
    out = []
    for p in results:
        if p.degenerate and p.per_second > best.per_second * (1 + margin) + 1e-9:
            out.append(f"{p.name} earns {p.per_second:.3g} reward/s, more than {best.name} "
                       f"({best.per_second:.3g}/s): a policy can learn this instead of racing")
    return out


# ---------------------------------------------------------------- log what-if
@dataclass
class LogRescore:
    rows: list[tuple[int, float, int, float, float]]  # (episode, steps, closest waypoint, logged, new)
    episodes: list[tuple[int, int, float, float]]  # (episode, steps, logged sum, new sum)
    waypoints: list[tuple[int, int, float, float]]  # (waypoint, n, logged mean, new mean)
    problems: list[str]
    failures: list[Failure]


def rescore_log(reward: str | Path, log: str | Path, track: Track) -> LogRescore:
    """Re-score a SIM_TRACE log with a reward function.

    Each step's params are rebuilt with the environment's params code from the logged
    pose (X, Y, yaw in degrees) and commands (steer, throttle), the track, and the
    episode's start (where its first row's body origin projects); progress follows the
    wrap rules from the previous step. Prepare and pause rows get 0 without a call, as on AWS.
    """
    trace = read_sim_trace(log)
    rf = RewardFunction(reward, stdout=_Sink())
    rows, episodes, failures = [], [], []
    by_wp: dict[int, list[tuple[float, float]]] = {}
    for ep in trace.episodes():
        first = ep[0]
        h = math.radians(first.yaw)
        seg, t, _ = track.project(first.x - 0.14 * math.cos(h), first.y - 0.14 * math.sin(h))
        start = track.arc_length(seg, t) / track.length
        prev, hint = 0.0, -1
        logged_sum = new_sum = 0.0
        for r in ep:
            params, hint = compute_params(track, r.x, r.y, r.yaw, r.steer, r.throttle, r.steps, start, prev,
                                          Objects(), r.tstamp, hint)
            prev = params["progress"]
            if r.episode_status in ("prepare", "pause"):
                new = 0.0
            else:
                try:
                    new = rf(params)
                except RewardFunctionError as err:
                    failures.append(Failure(f"log line {r.lineno}", err.where, err.what, params))
                    new = float("nan")
            rows.append((r.episode, r.steps, r.closest_waypoint, r.reward, new))
            by_wp.setdefault(r.closest_waypoint, []).append((r.reward, new))
            logged_sum += r.reward
            new_sum += new
        episodes.append((ep[0].episode, len(ep), logged_sum, new_sum))
    waypoints = [(wp, len(v), float(np.mean([a for a, _ in v])), float(np.nanmean([b for _, b in v])))
                 for wp, v in sorted(by_wp.items())]
    return LogRescore(rows, episodes, waypoints, trace.problems, failures)


# ------------------------------------------------------------------ pictures
def reward_grid(reward: str | Path, track: Track, speed: float, steering: float = 0.0,
                cell_m: float = 0.05) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """The reward over the track surface: car heading along the track, at ``speed`` [m/s].

    Returns (grid [rows, cols] with NaN off the road's surroundings, extent (x0, x1, y0, y1) [m]).
    """
    rf = RewardFunction(reward, stdout=_Sink())
    pts = track.rows.reshape(-1, 2)
    (x0, y0), (x1, y1) = pts.min(axis=0) - 0.3, pts.max(axis=0) + 0.3
    xs = np.arange(x0, x1, cell_m)
    ys = np.arange(y0, y1, cell_m)
    grid = np.full((len(ys), len(xs)), np.nan)
    reach = track.width / 2 + 0.25
    lap_steps = track.length / max(speed, 0.5) * STEP_HZ
    for i, y in enumerate(ys):
        hint = -1
        for j, x in enumerate(xs):
            seg, t, d = track.project(x, y, hint)
            hint = seg
            if d > reach:
                continue
            heading = math.degrees(math.atan2(track.center.dy[seg], track.center.dx[seg]))
            ndist = track.arc_length(seg, t) / track.length
            params, _ = compute_params(track, x, y, heading, steering, speed, 2.0 + round(ndist * lap_steps), 0.0,
                                       None, Objects(), 0.0, seg)
            try:
                grid[i, j] = rf(params)
            except RewardFunctionError:
                grid[i, j] = np.nan
    return grid, (x0, x0 + len(xs) * cell_m, y0, y0 + len(ys) * cell_m)


def centre_line_rewards(reward: str | Path, track: Track, speeds: list[float], step_m: float = 0.1):
    """Reward along the centre line, heading along it, for each speed: (distances [m], {speed: rewards})."""
    rf = RewardFunction(reward, stdout=_Sink())
    dist = np.arange(0.0, track.length, step_m)
    curves = {}
    for v in speeds:
        vals, prev = [], 0.0
        lap_steps = track.length / max(v, 0.5) * STEP_HZ
        for s in dist:
            x, y, h = _pose(track, s, 0.0, 0.0)
            params, _ = compute_params(track, x, y, h, 0.0, v, 2.0 + round(s / track.length * lap_steps), 0.0,
                                       prev, Objects(), 0.0)
            prev = params["progress"]
            try:
                vals.append(rf(params))
            except RewardFunctionError:
                vals.append(np.nan)
        curves[v] = np.array(vals)
    return dist, curves


def draw_pictures(rewards: list[str | Path], track: Track, speeds: list[float], heat_speed: float,
                  out: Path) -> list[Path]:
    """``heatmap.png`` and ``centre_line.png`` in ``out``, one column per reward function (for --compare)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    names = [Path(r).stem for r in rewards]
    n = len(rewards)
    fig, axes = plt.subplots(1, n, figsize=(7 * n, 5.5), squeeze=False)
    for ax, reward, name in zip(axes[0], rewards, names):
        grid, extent = reward_grid(reward, track, heat_speed)
        im = ax.imshow(grid, origin="lower", extent=extent, cmap="viridis", interpolation="nearest")
        for cols, style in ((slice(2, 4), "w-"), (slice(4, 6), "w-"), (slice(0, 2), "w:")):
            ax.plot(track.rows[:, cols][:, 0], track.rows[:, cols][:, 1], style, lw=0.8)
        ax.plot(*track.waypoints[0], "r^", ms=8)
        ax.set_title(f"{name}: reward at {heat_speed:g} m/s, heading along the track")
        ax.set_aspect("equal")
        ax.set_xlabel("x [m]")
        ax.set_ylabel("y [m]")
        fig.colorbar(im, ax=ax, shrink=0.8, label="reward")
    fig.tight_layout()
    heat = out / "heatmap.png"
    fig.savefig(heat, dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, n, figsize=(7 * n, 4), squeeze=False, sharey=True)
    for ax, reward, name in zip(axes[0], rewards, names):
        dist, curves = centre_line_rewards(reward, track, speeds)
        for v, vals in curves.items():
            ax.plot(dist, vals, label=f"{v:g} m/s")
        ax.set_title(f"{name}: reward along the centre line")
        ax.set_xlabel("distance from the start line [m]")
        ax.set_ylabel("reward")
        ax.legend(loc="best", fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    line = out / "centre_line.png"
    fig.savefig(line, dpi=110)
    plt.close(fig)
    return [heat, line]


# ---------------------------------------------------------------- the command
@dataclass
class CheckReport:
    reward: str
    track: str
    battery: BatteryReport
    probes: list[Probe]
    warnings: list[str]
    pictures: list[Path]
    snippets: list[Path]
    log: LogRescore | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return bool(self.battery.failures) or bool(self.log and self.log.failures)


def run_check(reward: str | Path, track: str | Path, actions: ActionSpec, out: Path, compare: str | None = None,
              log: str | None = None, heat_speed: float | None = None, log_track: str | None = None) -> CheckReport:
    """Everything ``racer check`` does; writes pictures and failure snippets into ``out``.

    Raises:
        RewardFunctionError: the function (or the --compare one) does not load: syntax error, missing
            reward_function, or an import that fails; the message names the file and line.
    """
    from racer_env.simtrace import find_log_track

    t0 = time.time()
    rf = RewardFunction(reward, stdout=_Sink())  # load errors stop here
    if compare:
        RewardFunction(compare, stdout=_Sink())
    path = rf.path
    trk = Track.load(track)
    bat = battery(path, trk, actions)
    out.mkdir(parents=True, exist_ok=True)
    snippets = []
    for i, failure in enumerate(bat.failures, start=1):
        p = out / f"test_failure_{i}.py"
        p.write_text(failure_snippet(failure, str(path), f"test_reward_function_failure_{i}"))
        snippets.append(p)
    warnings = [f"params['{k}'] is never passed by DeepRacer" + (f"; did you mean '{hint}'?" if hint else "")
                for k, hint in bat.unknown_keys.items()]
    results: list[Probe] = []
    if not bat.failures:
        results = probes(path, trk, actions)
        warnings += hacking_warnings(results)
    speeds = sorted({min(max(v, MIN_SPEED_MPS), MAX_SPEED_MPS) for _, v in _speeds_and_steering(actions)})
    if len(speeds) > 4:
        speeds = [speeds[0], speeds[len(speeds) // 2], speeds[-1]]
    pictures = []
    if not bat.failures:
        pictures = draw_pictures([path] + ([RewardFunction(compare).path] if compare else []), trk, speeds,
                                 heat_speed or speeds[len(speeds) // 2], out)
    rescored = None
    if log:
        rescored = rescore_log(path, log, find_log_track(log, log_track))
        _write_rescore(rescored, out)
    return CheckReport(str(reward), trk.name, bat, results, warnings, pictures, snippets, rescored,
                       time.time() - t0)


def _write_rescore(r: LogRescore, out: Path) -> None:
    import csv

    with open(out / "rescore_steps.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["episode", "steps", "closest_waypoint", "logged_reward", "new_reward"])
        w.writerows(r.rows)
    with open(out / "rescore_episodes.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["episode", "steps", "logged_reward", "new_reward"])
        w.writerows(r.episodes)
    with open(out / "rescore_waypoints.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["waypoint", "steps", "logged_mean_reward", "new_mean_reward"])
        w.writerows(r.waypoints)


def show_report(report: CheckReport, console, out: Path) -> None:
    """Print a check report with rich."""
    from rich.table import Table

    b = report.battery
    console.print(f"[bold]racer check[/] {report.reward} on {report.track}: {b.calls:,} calls, "
                  f"{b.seconds_per_call * 1e6:.1f} µs a call")
    table = Table(title="reward by situation")
    for col in ("situation", "states", "min", "median", "max"):
        table.add_column(col, justify="right" if col != "situation" else "left")
    for s in b.stats:
        table.add_row(s.situation, f"{s.n:,}", f"{s.minimum:.4g}", f"{s.median:.4g}", f"{s.maximum:.4g}")
    console.print(table)
    console.print("params read: " + (", ".join(sorted(b.keys_read)) or "none"))
    if b.failures:
        console.print(f"[bold red]{b.failure_count:,} failing calls[/], {len(b.failures)} distinct:")
        for f, snippet in zip(b.failures, report.snippets):
            console.print(f"  [red]{f.where}[/]: {f.what} ({f.situation}); reproduce with {snippet}")
        first = b.failures[0]
        shown = {k: (f"<{len(v)} waypoints, see {report.snippets[0].name}>" if k == "waypoints" else v)
                 for k, v in first.params.items()}
        console.print(f"  params of the first: {shown}", soft_wrap=True)
    if report.probes:
        t = Table(title="scripted drivers (reward-hacking probes)")
        for col in ("driver", "ends", "seconds", "return", "per second", "progress %"):
            t.add_column(col, justify="left" if col in ("driver", "ends") else "right")
        for p in report.probes:
            t.add_row(p.name, p.status, f"{p.seconds:.1f}", f"{p.reward:.4g}", f"{p.per_second:.4g}",
                      f"{p.progress:.1f}")
        console.print(t)
    if report.log is not None:
        r = report.log
        t = Table(title="what-if on the log: reward per episode")
        for col in ("episode", "steps", "logged", "new"):
            t.add_column(col, justify="right")
        for ep, n, logged, new in r.episodes[:30]:
            t.add_row(str(ep), str(n), f"{logged:.4g}", f"{new:.4g}")
        console.print(t)
        if len(r.episodes) > 30:
            console.print(f"... {len(r.episodes) - 30} more episodes")
        for problem in r.problems[:5]:
            console.print(f"[yellow]skipped log line[/] {problem}")
        for f in r.failures[:5]:
            console.print(f"[red]{f.where}[/]: {f.what} at {f.situation}")
        console.print(f"per step and per waypoint: {out / 'rescore_steps.csv'}, {out / 'rescore_waypoints.csv'}")
    for w in report.warnings:
        console.print(f"[bold yellow]warning:[/] {w}")
    for p in report.pictures:
        console.print(f"picture: {p}")
    verdict = "[bold red]FAILED[/]" if report.failed else (
        "[bold yellow]passed with warnings[/]" if report.warnings else "[bold green]passed[/]")
    console.print(f"{verdict} in {report.seconds:.1f} s")
