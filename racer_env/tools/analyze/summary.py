"""What the log-analysis notebooks compute, from a :class:`~racer_env.tools.analyze.reading.Trace`: episodes and
iterations, laps, and the per-position, per-waypoint and per-action statistics the report draws.

Everything is vectorised over the rows (pandas group-bys, numpy bincounts), so a million steps take seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from racer_env.errors import RacerEnvError
from racer_env.sim.track import Track
from racer_env.tools.analyze.reading import Trace

__all__ = ["Analysis", "analyse", "CELL_M", "DEFAULT_EPISODES_PER_ITERATION"]

CELL_M = 0.05
"""Side of a heat map's cell on a track of up to 8 m across [m]; larger tracks get cells of 1/160 of their size."""
DEFAULT_EPISODES_PER_ITERATION = 20
"""DeepRacer's num_episodes_between_training, for a log that does not say its own."""
_ENDS = ("lap_complete", "off_track", "crashed", "reversed", "immobilized", "time_up")


@dataclass
class Analysis:
    """One input, analysed: the tables (pandas) and grids (numpy) the report draws, and :meth:`summary`."""

    trace: Trace
    track: Track
    rows: pd.DataFrame
    """The rows analysed (of the chosen episodes), with ``ep`` (the episode's index in the log, from 0) and
    ``speed`` (the actual speed from successive positions [m/s], NaN on an episode's first row)."""
    episodes: pd.DataFrame
    """One row an episode: ep, kind, iteration, episode (as logged), steps, reward, progress, status, start,
    end (row indexes), time [s]."""
    iterations: pd.DataFrame
    """Training episodes by iteration: mean reward, mean progress, share of complete laps, best lap [s]."""
    laps: pd.DataFrame
    """Completed laps: ep, kind, iteration, lap time [s], steps, start and end row, mean commanded speed."""
    grids: dict[str, np.ndarray] = field(default_factory=dict)
    """Heat maps on the track, means per cell (NaN where the car never was): reward, speed, steering."""
    grid_origin: tuple[float, float] = (0.0, 0.0)
    cell_m: float = CELL_M
    waypoints: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Per closest waypoint: mean reward, mean speed, rows, share of episodes that drove over it."""
    actions: dict[str, Any] = field(default_factory=dict)
    episodes_selected: tuple[int, int] | None = None

    @property
    def label(self) -> str:
        return self.trace.label

    def summary(self) -> dict[str, Any]:
        """The figures of the report, for scripts (``summary.json``)."""
        t = self.trace
        eps = self.episodes
        out: dict[str, Any] = {
            "label": t.label, "path": str(t.path), "track": self.track.name, "rows": int(len(self.rows)),
            "lines_read": t.lines, "lines_skipped": t.skipped_count,
            "skipped": [{"file": f, "line": n} for f, n in t.skipped],
            "episodes": int(len(eps)), "episodes_selected": list(self.episodes_selected or ()),
            "simapp_version": t.simapp_version,
            "laps_completed": int(len(self.laps)),
            "episode_ends": {k: int(v) for k, v in eps["status"].value_counts().items() if v},
        }
        for kind in ("training", "evaluation"):
            part = eps[eps["kind"] == kind]
            if len(part):
                out[kind] = {"episodes": int(len(part)), "mean_progress": round(float(part["progress"].mean()), 2),
                             "complete_share": round(float((part["status"] == "lap_complete").mean()), 4),
                             "mean_reward": round(float(part["reward"].mean()), 3)}
        out["iterations"] = [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
                             for row in self.iterations.round(4).to_dict("records")]
        out["fastest_laps"] = self.laps.nsmallest(10, "lap_time")[
            ["ep", "kind", "iteration", "lap_time", "steps", "mean_speed_command"]].round(3).to_dict("records")
        ratio = self.rows["speed"] / self.rows["throttle"].where(self.rows["throttle"] > 0.05)
        out["speed_actual_over_command"] = round(float(np.nanmedian(ratio)), 3) if ratio.notna().any() else None
        out["actions"] = {k: v for k, v in self.actions.items() if k in ("kind", "counts", "labels", "ranges")}
        return out


def analyse(trace: Trace, track: Track, episodes: tuple[int, int] | None = None) -> Analysis:
    """Analyse a trace driven on ``track``, optionally only its episodes ``episodes`` = (first, last), 0-based in
    the order of the log, both included.

    Raises:
        RacerEnvError: the episode range is outside the log (the message says the range it has).
    """
    rows = trace.rows
    new = ((rows["episode"].diff() != 0) | (rows["steps"].diff() <= 0) | (rows["iteration"].diff() != 0)
           | (rows["kind"] != rows["kind"].shift())).to_numpy(copy=True)
    new[0] = True
    ep = np.cumsum(new) - 1
    n_eps = int(ep[-1]) + 1
    if episodes is not None:
        a, b = episodes
        if a >= n_eps:
            raise RacerEnvError(f"{trace.path}: --episodes {a}-{b}: the log has episodes 0-{n_eps - 1}")
        keep = (ep >= a) & (ep <= b)
        rows, ep = rows[keep].reset_index(drop=True), ep[keep]
    rows = rows.assign(ep=ep)
    rows["speed"] = _actual_speed(rows)
    eps = _episodes(rows, trace)
    return Analysis(trace, track, rows, eps, _iterations(eps, trace), _laps(rows, eps),
                    *_grids(rows, track), waypoints=_waypoints(rows, eps), actions=_actions(rows, trace),
                    episodes_selected=episodes)


def _actual_speed(rows: pd.DataFrame) -> np.ndarray:
    dx, dy = np.diff(rows["X"].to_numpy(np.float64)), np.diff(rows["Y"].to_numpy(np.float64))
    dt = np.diff(rows["tstamp"].to_numpy(np.float64))
    same = np.diff(rows["ep"].to_numpy()) == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(same & (dt > 1e-3), np.hypot(dx, dy) / dt, np.nan)
    v[v > 10.0] = np.nan  # a teleport (a reset), not driving
    return np.concatenate([[np.nan], v]).astype(np.float32)


def _episodes(rows: pd.DataFrame, trace: Trace) -> pd.DataFrame:
    g = rows.groupby("ep", sort=True)
    first, last = g.head(1), g.tail(1)
    idx_first = first.index.to_numpy()
    idx_last = last.index.to_numpy()
    eps = pd.DataFrame({
        "ep": first["ep"].to_numpy(), "kind": first["kind"].astype(str).to_numpy(),
        "iteration": first["iteration"].to_numpy(), "episode": first["episode"].to_numpy(),
        "steps": (idx_last - idx_first + 1), "reward": g["reward"].sum().to_numpy(),
        "progress": g["progress"].max().clip(upper=100.0).to_numpy(),
        "status": last["episode_status"].astype(str).to_numpy(),
        "start": idx_first, "end": idx_last,
        "time": (last["tstamp"].to_numpy(np.float64) - first["tstamp"].to_numpy(np.float64)),
    })
    # an episode that lapped in a multi-lap log ends on another status; a lap in it still counts as complete
    laps = rows.loc[rows["episode_status"] == "lap_complete", "ep"].unique()
    eps.loc[eps["ep"].isin(laps) & (eps["status"] == "in_progress"), "status"] = "lap_complete"
    if (eps["iteration"] < 0).all():  # a log, not simtrace files: episodes_per_iteration episodes an iteration
        per = trace.episodes_per_iteration or DEFAULT_EPISODES_PER_ITERATION
        training = (eps["kind"] == "training").to_numpy()
        iterations = eps["iteration"].to_numpy(copy=True).astype(np.int64)
        iterations[training] = np.arange(int(training.sum())) // per
        eps["iteration"] = iterations
    return eps


def _iterations(eps: pd.DataFrame, trace: Trace) -> pd.DataFrame:
    train = eps[eps["kind"] == "training"]
    if train.empty:
        return pd.DataFrame(columns=["iteration", "episodes", "mean_reward", "mean_progress", "complete_share",
                                     "best_lap"])
    g = train.groupby("iteration")
    out = pd.DataFrame({
        "episodes": g.size(), "mean_reward": g["reward"].mean(), "mean_progress": g["progress"].mean(),
        "complete_share": g["status"].apply(lambda s: float((s == "lap_complete").mean())),
    })
    complete = train[train["status"] == "lap_complete"]
    out["best_lap"] = complete.groupby("iteration")["time"].min()
    return out.reset_index()


def _laps(rows: pd.DataFrame, eps: pd.DataFrame) -> pd.DataFrame:
    """Each completed lap: from the episode's first row, or the lap before it in the same episode."""
    done = rows.index[rows["episode_status"] == "lap_complete"].to_numpy()
    out = []
    ep_of = rows["ep"].to_numpy()
    t = rows["tstamp"].to_numpy(np.float64)
    throttle = rows["throttle"].to_numpy()
    start_of = dict(zip(eps["ep"], eps["start"]))
    previous: dict[int, int] = {}
    info = eps.set_index("ep")
    for i in done:
        e = int(ep_of[i])
        s = previous.get(e, int(start_of[e]))
        previous[e] = int(i)
        out.append({"ep": e, "kind": info.at[e, "kind"], "iteration": int(info.at[e, "iteration"]),
                    "lap_time": float(t[i] - t[s]), "steps": int(i - s), "start": s, "end": int(i),
                    "mean_speed_command": float(throttle[s:i + 1].mean())})
    types = {"ep": "int64", "kind": "object", "iteration": "int64", "lap_time": "float64", "steps": "int64",
             "start": "int64", "end": "int64", "mean_speed_command": "float64"}
    return pd.DataFrame(out, columns=list(types)).astype(types)


def _grids(rows: pd.DataFrame, track: Track) -> tuple[dict[str, np.ndarray], tuple[float, float], float]:
    pts = track.rows.reshape(-1, 2)
    x0, y0 = pts.min(axis=0) - 0.3
    x1, y1 = pts.max(axis=0) + 0.3
    cell = max(CELL_M, float(max(x1 - x0, y1 - y0)) / 160)
    nx, ny = int(np.ceil((x1 - x0) / cell)), int(np.ceil((y1 - y0) / cell))
    ix = np.clip(((rows["X"].to_numpy() - x0) / cell).astype(int), 0, nx - 1)
    iy = np.clip(((rows["Y"].to_numpy() - y0) / cell).astype(int), 0, ny - 1)
    index = iy * nx + ix
    grids = {}
    for name, column in (("reward", "reward"), ("speed", "speed"), ("steering", "steer")):
        values = rows[column].to_numpy(np.float64)
        ok = np.isfinite(values)
        total = np.bincount(index[ok], weights=values[ok], minlength=nx * ny)
        count = np.bincount(index[ok], minlength=nx * ny)
        with np.errstate(invalid="ignore", divide="ignore"):
            grids[name] = np.where(count > 0, total / np.maximum(count, 1), np.nan).reshape(ny, nx)
    return grids, (float(x0), float(y0)), cell


def _waypoints(rows: pd.DataFrame, eps: pd.DataFrame) -> pd.DataFrame:
    g = rows.groupby("closest_waypoint")
    out = pd.DataFrame({"mean_reward": g["reward"].mean(), "mean_speed": g["speed"].mean(), "rows": g.size()})
    visits = rows[["ep", "closest_waypoint"]].drop_duplicates()["closest_waypoint"].value_counts()
    out["episode_share"] = (visits / max(len(eps), 1)).reindex(out.index).fillna(0.0)
    return out.reset_index()


def _actions(rows: pd.DataFrame, trace: Trace) -> dict[str, Any]:
    """A discrete space's use (a count per action, labelled by model_metadata, else by the logged commands), or a
    continuous one's (a 2-D histogram of steering and speed, with model_metadata's ranges). The prepare steps and
    penalty pauses are not the policy's choices, and do not count."""
    meta = trace.model_metadata or {}
    rows = rows[~rows["episode_status"].isin(("prepare", "pause"))]
    space = meta.get("action_space")
    if (rows["action"] >= 0).mean() > 0.5:
        counts = rows.loc[rows["action"] >= 0, "action"].value_counts().sort_index()
        labels = {}
        for a in counts.index:
            if isinstance(space, list) and 0 <= a < len(space) and isinstance(space[a], dict):
                steer, speed = space[a].get("steering_angle"), space[a].get("speed")
            else:
                part = rows[rows["action"] == a]
                steer, speed = float(part["steer"].median()), float(part["throttle"].median())
            labels[int(a)] = f"{steer:+.0f}°, {speed:.1f} m/s"
        return {"kind": "discrete", "counts": {int(k): int(v) for k, v in counts.items()}, "labels": labels,
                "space": space if isinstance(space, list) else None}
    steer, speed = rows["steer"].to_numpy(), rows["throttle"].to_numpy()
    hist, sx, sy = np.histogram2d(steer, speed, bins=(30, 20))
    ranges = space if isinstance(space, dict) else None
    return {"kind": "continuous", "hist": hist, "steer_edges": sx, "speed_edges": sy, "ranges": ranges}
