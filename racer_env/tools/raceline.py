"""``racer raceline``: the fastest line round a track, its lap-time limit, and the files a racer uses.

``make_raceline`` computes the line (:mod:`racer_env.sim.raceline`) for the car and the speeds of a
``model_metadata.json``, then checks itself: :class:`~racer_env.sim.drivers.LineFollower` drives the car
along the line in a RacerEnv for three continuous laps from the start line, and the flying laps are compared
with the computed limit. ``write_raceline`` writes:

=========================  ==========================================================================
``raceline.npy``           rows of x, y [m] (the params point on the line), speed [m/s], time [s]
``raceline.py``            the same as a Python list, to paste into a reward function
``raceline.json``          ``lap_time_s``, the line's length, the car model, the margin, the check
``model_metadata.json``    a discrete action space made from the line's (steering, speed) pairs
``raceline.png``           the track with the line coloured by speed
=========================  ==========================================================================
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from racer_env.constants import MAX_STEERING_DEG
from racer_env.env.actions import ActionSpec
from racer_env.env.environment import RacerEnv
from racer_env.sim.drivers import LineFollower
from racer_env.sim.raceline import MARGIN_M, RacingLine, racing_line
from racer_env.sim.track import Track
from racer_env.sim.vehicle import CarModel, car_model_for
from racer_env.training.laplimit import speed_range_of

__all__ = ["LineCheck", "make_raceline", "check_line", "line_action_space", "write_raceline", "CHECK_LAPS"]

CHECK_LAPS = 3
"""Continuous laps of the closed-loop check."""


@dataclass
class LineCheck:
    """The closed-loop check: laps driven along the line by the tracking controller, in RacerEnv."""

    lap_times: list[float]
    status: str
    off_track: int
    wheels_off_steps: int
    flying_ratio: float | None = None
    """The best flying lap (laps 2 on) over the computed limit."""
    discrete_lap_times: list[float] = field(default_factory=list)
    """The same drive, each command replaced by the nearest action of the derived discrete space."""


def make_raceline(track: Track, actions: ActionSpec, margin: float = MARGIN_M) -> tuple[RacingLine, LineCheck]:
    """The racing line of ``track`` for the car and speeds of ``actions``, and its closed-loop check."""
    model = car_model_for(actions.version)
    line = racing_line(track, model, speed_range_of(actions), margin)
    check = check_line(track, line, actions, model)
    return line, check


def _drive(track: Track, line: RacingLine, actions: ActionSpec, model: CarModel,
           discrete: ActionSpec | None = None) -> tuple[dict[str, Any], int]:
    env = RacerEnv(track=track, reward_function=lambda params: 0.0, model_metadata=discrete or actions, mode="eval",
                   laps=CHECK_LAPS)
    env.reset(seed=0)
    follower = LineFollower(line, model)
    wheels_off = 0
    while True:
        steering, speed = follower.controls(env.car)
        _, _, terminated, truncated, info = env.step(env.actions.to_action(steering, speed))
        wheels_off += not info["params"]["all_wheels_on_track"]
        if terminated or truncated:
            return info, wheels_off


def check_line(track: Track, line: RacingLine, actions: ActionSpec, model: CarModel) -> LineCheck:
    """Drive ``line`` with :class:`LineFollower` for three continuous laps from the start line."""
    info, wheels_off = _drive(track, line, actions, model)
    laps = list(info["lap_times"])
    flying = laps[1:]
    check = LineCheck(laps, info["episode_status"], info["counts"]["off_track"], wheels_off,
                      min(flying) / line.lap_time if flying else None)
    discrete, _ = line_action_space(line, model)
    d_info, _ = _drive(track, line, actions, model, ActionSpec.from_dict(discrete, "derived action space"))
    check.discrete_lap_times = list(d_info["lap_times"])
    return check


def line_action_space(line: RacingLine, model: CarModel, n_actions: int = 15) -> tuple[dict[str, Any], np.ndarray]:
    """A discrete DeepRacer action space made from the line: the (steering [deg], speed [m/s]) command that holds
    the line's curvature and planned speed at each point, clustered into ``n_actions`` actions (k-means).

    Returns the model_metadata dict and the (N, 2) commands along the line.
    """
    from scipy.cluster.vq import kmeans2

    steering = np.degrees(np.arctan(model.wheelbase_m * line.curvature))
    steering = np.clip(steering, -MAX_STEERING_DEG, MAX_STEERING_DEG)
    speed = line.speed / model.steady_speed(1.0)
    commands = np.column_stack([steering, speed])
    scale = np.array([MAX_STEERING_DEG, max(float(speed.max()), 1e-6)])
    centres, _ = kmeans2(commands / scale, n_actions, seed=0, minit="++")
    actions = sorted({(round(float(s), 1), round(float(v), 2)) for s, v in centres * scale})
    actions.append((0.0, round(float(speed.max()), 2)))  # the straights: full speed ahead
    actions = sorted(set(actions))
    version = "5" if model.name == "kinematic" else "4"
    metadata = {
        "action_space": [{"steering_angle": s, "speed": v, "index": i} for i, (s, v) in enumerate(actions)],
        "sensor": ["FRONT_FACING_CAMERA"], "neural_network": "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW",
        "training_algorithm": "clipped_ppo", "action_space_type": "discrete", "version": version,
    }
    return metadata, commands


def write_raceline(line: RacingLine, check: LineCheck, model: CarModel, track: Track, out: Path) -> list[Path]:
    """Write the five files of ``racer raceline`` into ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    rows = line.rows()
    np.save(out / "raceline.npy", rows)
    listing = ",\n".join(f"    [{x:.4f}, {y:.4f}, {v:.3f}, {t:.3f}]" for x, y, v, t in rows)
    (out / "raceline.py").write_text(
        f"# racer raceline {line.track}: {len(rows)} points of the params point's path, car {line.car_model},\n"
        f"# margin {line.margin} m, lap-time limit {line.lap_time:.3f} s flying ({line.standing_lap_time:.3f} s from rest).\n"
        f"# Rows: x [m], y [m], speed [m/s], time [s].\n"
        f"RACING_LINE = [\n{listing},\n]\n")
    metadata, _ = line_action_space(line, model)
    (out / "model_metadata.json").write_text(json.dumps(metadata, indent=2))
    summary = {
        "track": line.track, "car_model": line.car_model, "lap_time_s": round(line.lap_time, 4),
        "standing_lap_time_s": round(line.standing_lap_time, 4),
        "length_m": round(line.length, 4), "margin_m": line.margin, "speed_range_mps": list(line.speed_range),
        "stages_lap_time_s": {k: round(v, 4) for k, v in line.stages.items()},
        "computed_in_s": round(line.seconds, 2),
        "check": {"lap_times_s": check.lap_times, "status": check.status, "off_track": check.off_track,
                  "wheels_off_steps": check.wheels_off_steps, "flying_lap_over_limit": check.flying_ratio,
                  "discrete_lap_times_s": check.discrete_lap_times},
    }
    (out / "raceline.json").write_text(json.dumps(summary, indent=2))
    _picture(line, track, out / "raceline.png")
    return [out / n for n in ("raceline.npy", "raceline.py", "raceline.json", "model_metadata.json", "raceline.png")]


def _picture(line: RacingLine, track: Track, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    fig, ax = plt.subplots(figsize=(9, 7))
    for cols, style in ((slice(2, 4), "k-"), (slice(4, 6), "k-"), (slice(0, 2), "k:")):
        ax.plot(track.rows[:, cols][:, 0], track.rows[:, cols][:, 1], style, lw=0.8)
    ax.plot(*track.waypoints[0], "r^", ms=8)
    pts = line.params_points
    lc = LineCollection(list(np.stack([pts, np.roll(pts, -1, axis=0)], axis=1)), cmap="turbo", linewidths=2.5)
    lc.set_array(line.speed)
    ax.add_collection(lc)
    fig.colorbar(lc, ax=ax, shrink=0.8, label="planned speed [m/s]")
    ax.set_aspect("equal")
    ax.set_title(f"{line.track}: racing line, {line.lap_time:.2f} s a lap ({line.car_model} car, "
                 f"margin {line.margin} m)")
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
