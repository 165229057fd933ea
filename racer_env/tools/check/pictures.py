"""The pictures of ``racer check``: the reward over the track surface, and along the centre line at each speed."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from racer_env.constants import FIRST_REWARD_STEP, STEP_HZ
from racer_env.env.params import compute_params
from racer_env.env.rewards import RewardFunction
from racer_env.errors import RewardFunctionError
from racer_env.sim.raceline import RacingLine
from racer_env.sim.track import Track
from racer_env.tools.check.battery import Sink, pose

__all__ = ["reward_grid", "centre_line_rewards", "racing_line_rewards", "draw_pictures"]


def reward_grid(reward: str | Path, track: Track, speed: float, steering: float = 0.0,
                cell_m: float = 0.05) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """The reward over the track surface: car heading along the track, at ``speed`` [m/s].

    Returns (grid [rows, cols] with NaN off the road's surroundings, extent (x0, x1, y0, y1) [m]).
    """
    rf = RewardFunction(reward, stdout=Sink())
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
            where = track.project(x, y, hint)
            hint = where.seg
            if where.distance > reach:
                continue
            steps = FIRST_REWARD_STEP + round(where.arc / track.length * lap_steps)
            params = compute_params(track, x=x, y=y, yaw=track.heading_at(where.seg), steering_angle=steering,
                                    speed=speed, steps=steps, start_progress=0.0, prev_progress=None, where=where)
            try:
                grid[i, j] = rf(params)
            except RewardFunctionError:
                grid[i, j] = np.nan
    return grid, (x0, x0 + len(xs) * cell_m, y0, y0 + len(ys) * cell_m)


def centre_line_rewards(reward: str | Path, track: Track, speeds: list[float], step_m: float = 0.1):
    """Reward along the centre line, heading along it, for each speed: (distances [m], {speed: rewards})."""
    rf = RewardFunction(reward, stdout=Sink())
    dist = np.arange(0.0, track.length, step_m)
    curves = {}
    for v in speeds:
        vals, prev = [], 0.0
        lap_steps = track.length / max(v, 0.5) * STEP_HZ
        for s in dist:
            x, y, yaw = pose(track, s, 0.0)
            params = compute_params(track, x=x, y=y, yaw=yaw, steering_angle=0.0, speed=v,
                                    steps=FIRST_REWARD_STEP + round(s / track.length * lap_steps), start_progress=0.0,
                                    prev_progress=prev)
            prev = params["progress"]
            try:
                vals.append(rf(params))
            except RewardFunctionError:
                vals.append(np.nan)
        curves[v] = np.array(vals)
    return dist, curves


def racing_line_rewards(reward: str | Path, track: Track, line: RacingLine) -> tuple[np.ndarray, np.ndarray]:
    """Reward along a racing line, pointed along it at its planned speeds: (distances [m] along the track from
    the start line, rewards), in the order the line is driven."""
    rf = RewardFunction(reward, stdout=Sink())
    pts, headings = line.params_points, line.heading
    lap_steps = line.lap_time * STEP_HZ
    dist, vals, prev, hint = [], [], 0.0, -1
    start = int(np.argmin(np.hypot(*(pts - np.array(track.waypoints[0])).T)))  # from the start line
    order = np.roll(np.arange(len(pts)), -start)
    for i in order:
        x, y = float(pts[i, 0]), float(pts[i, 1])
        where = track.project(x, y, hint)
        hint = where.seg
        steps = FIRST_REWARD_STEP + round((line.time[i] - line.time[start]) % line.lap_time / line.lap_time * lap_steps)
        params = compute_params(track, x=x, y=y, yaw=float(headings[i]), steering_angle=0.0, speed=float(line.speed[i]),
                                steps=steps, start_progress=0.0, prev_progress=prev, where=where)
        prev = params["progress"]
        dist.append(where.arc)
        try:
            vals.append(rf(params))
        except RewardFunctionError:
            vals.append(np.nan)
    return np.array(dist), np.array(vals)


def draw_pictures(rewards: Sequence[str | Path], track: Track, speeds: list[float], heat_speed: float,
                  out: Path, line: RacingLine | None = None) -> list[Path]:
    """``heatmap.png`` and ``centre_line.png`` in ``out``, one column per reward function (for --compare); with a
    racing line, the reward along it at its planned speeds joins the centre-line curves."""
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
        if line is not None:
            ldist, lvals = racing_line_rewards(reward, track, line)
            ax.plot(ldist, lvals, "k--", lw=1.2, label=f"racing line, planned speeds ({line.lap_time:.2f} s lap)")
        ax.set_title(f"{name}: reward along the centre line" + (" and the racing line" if line is not None else ""))
        ax.set_xlabel("distance from the start line [m]")
        ax.set_ylabel("reward")
        ax.legend(loc="best", fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    curve = out / "centre_line.png"
    fig.savefig(curve, dpi=110)
    plt.close(fig)
    return [heat, curve]
