"""What-if on a log: ``racer check --log`` re-scores a DeepRacer SIM_TRACE log with a reward function."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from racer_env.env.episode import start_progress_of
from racer_env.env.params import compute_params
from racer_env.env.rewards import RewardFunction
from racer_env.errors import RewardFunctionError
from racer_env.sim.fidelity import open_loop_errors
from racer_env.training.logs import DrivenLog
from racer_env.tools.check.battery import Failure, Sink

__all__ = ["LogRescore", "rescore_log", "write_rescore", "describe_log"]


@dataclass
class LogRescore:
    rows: list[tuple[int, float, int, float, float]]  # (episode, steps, closest waypoint, logged, new)
    episodes: list[tuple[int, int, float, float]]  # (episode, steps, logged sum, new sum)
    waypoints: list[tuple[int, int, float, float]]  # (waypoint, n, logged mean, new mean)
    problems: list[str]
    failures: list[Failure]
    about: list[str]
    """What the log was driven with, and how well racer_env's car follows it."""


def rescore_log(reward: str | Path, log: DrivenLog) -> LogRescore:
    """Re-score a SIM_TRACE log with a reward function.

    Each step's params are rebuilt with the environment's params code from the logged
    pose (X, Y, yaw in degrees) and commands (steer, throttle), the track, and the
    episode's start (where its first row's body origin projects); progress follows the
    wrap rules from the previous step. Prepare and pause rows get 0 without a call, as on AWS.
    """
    trace, track = log.trace, log.track
    rf = RewardFunction(reward, stdout=Sink())
    rows, episodes, failures = [], [], []
    by_wp: dict[int, list[tuple[float, float]]] = {}
    for ep in trace.episodes():
        first = ep[0]
        start = start_progress_of(track, first.x, first.y, math.radians(first.yaw))
        prev, hint = 0.0, -1
        logged_sum = new_sum = 0.0
        for r in ep:
            where = track.project(r.x, r.y, hint)
            hint = where.seg
            params = compute_params(track, x=r.x, y=r.y, yaw=math.radians(r.yaw), steering_angle=r.steer,
                                    speed=r.throttle, steps=r.steps, start_progress=start, prev_progress=prev,
                                    where=where, sim_time=r.tstamp)
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
    return LogRescore(rows, episodes, waypoints, trace.problems, failures, describe_log(log))


def describe_log(log: DrivenLog) -> list[str]:
    """Lines about a log: its track and waypoint numbering, its car, and our car's open-loop error on it."""
    track = log.track
    numbering = ""
    if track.duplicate_rows:
        numbering = (" (duplicate rows kept as waypoints, as before March 2026: that is how this log numbers them)"
                     if not track.merge_duplicates else " (duplicate rows merged, as the current simulator does)")
    errors = open_loop_errors(log.trace.rows, log.car)
    fit = (f"racer_env's {log.car.name} car follows it within {np.median(errors):.2f} m (median; p90 "
           f"{np.percentile(errors, 90):.2f} m) one second open loop" if len(errors) else
           "too few in-progress steps to compare racer_env's car with it")
    return [f"track: {track.name}, {len(track.waypoints)} waypoints{numbering}",
            f"car: {log.car.name} ({log.car_source}); {fit}"]


def write_rescore(r: LogRescore, out: Path) -> None:
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
