"""How close racer_env's defaults come to each track's lap-time limit, and how fast they learn to lap.

For each track and seed, one run of ``python train.py --minutes M`` with every other setting at its default
(the vector observation, the default reward function and action space). From that one run:

* lap: the best model's lap from rest on the start line (one evaluation trial, as every DeepRacer trial starts),
  over the track's standing-start limit (``racer raceline``);
* time to 3 laps: the training wall time until a greedy evaluation first drove 3 of 3 laps without leaving the
  track.

The table gives medians over the seeds. Tracks: --track and --tracks (names on the search path or files), and
with --holdout the tracks of ``scripts/design_tracks.py --holdout`` that no default was tuned on. With
--baselines, pure pursuit along the racing line and the model-predictive line follower also drive a lap from
rest on each track, in the same run.

    python benchmarks/learn_lap.py [--seeds 3] [--minutes 5 | --steps N] [--tracks reinvent_base Oval_track ...] [--holdout]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from racer_env.env.actions import ActionSpec
from racer_env.env.environment import RacerEnv
from racer_env.sim.drivers import LineFollower, PurePursuit
from racer_env.sim.track import DEFAULT_TRACK, Track
from racer_env.training.evaluation import evaluate_run
from racer_env.training.laplimit import cached_racing_line
from racer_env.env.config import EnvConfig
from racer_env.training.trainer import TrainConfig, train

REPO = Path(__file__).resolve().parent.parent


def scripted_lap(track: str, follower: str, speed_scale: float = 1.0) -> float | None:
    """A standing-start lap [s] of a scripted driver along the racing line, or None when it does not finish."""
    t = Track.load(track)
    line = cached_racing_line(t, ActionSpec.default())
    if line is None:
        return None
    env = RacerEnv(track=t, reward_function=lambda p: 0.0, mode="eval")
    env.reset(seed=0)
    driver = (PurePursuit.along(env.track, line, speed_scale) if follower == "pure pursuit"
              else LineFollower(line, env.car_model))
    while True:
        _, _, te, tr, info = env.step(env.actions.to_action(*driver.controls(env.car)))
        if te or tr:
            return info["lap_time"] if info["episode_status"] == "lap_complete" else None


def one_run(track: str, seed: int, minutes: float, work: Path, steps: int | None = None) -> dict:
    """One default training of ``minutes`` (or of ``steps``): its standing-start lap, the limits, and its time
    [s] and steps to 3 clean laps."""
    run = work / f"{Path(track).stem}-{seed}"
    budget = {"timesteps": steps} if steps else {"minutes": minutes}
    res = train(TrainConfig(env=EnvConfig.make(track=track), seed=seed, out=str(run), quiet=True, eval_laps=0, **budget))
    ev, _ = evaluate_run(run, laps=1)
    to_steps = next((h["timesteps"] for h in res.history if h["eval_completed"] >= 3), None)
    return {"lap": ev.best_lap_time, "standing": ev.standing_limit, "flying": ev.lap_time_limit,
            "to_laps": res.first_clean_laps_s, "to_steps": to_steps, "steps": res.timesteps}


def _median(values: list[float | None]) -> float | None:
    """The median, counting a missing value (no lap) as the slowest."""
    if not values:
        return None
    m = statistics.median([v if v is not None else float("inf") for v in values])
    return None if m == float("inf") else m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--track", default=DEFAULT_TRACK)
    ap.add_argument("--tracks", nargs="*", default=[], help="more tracks (names or files)")
    ap.add_argument("--holdout", action="store_true", help="also the held-out tracks of scripts/design_tracks.py")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--steps", type=int, default=None,
                    help="train this many steps instead of --minutes (on a busy machine: 675,000 is what 5 minutes "
                         "train on a quiet 2-core one)")
    ap.add_argument("--baselines", action="store_true", help="also drive pure pursuit and the line follower")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tracks = [args.track, *args.tracks]
        if args.holdout:
            subprocess.run([sys.executable, str(REPO / "scripts" / "design_tracks.py"), "--holdout", str(work / "h")],
                           check=True, capture_output=True)
            tracks += [str(p) for p in sorted((work / "h").glob("*.npy"))]
        print("| track | limit from rest | limit flying | best lap (median) | over the standing limit | "
              "time to 3 laps (median) | per seed |" + (" pure pursuit | line follower |" if args.baselines else ""))
        print("|---|---|---|---|---|---|---|" + ("---|---|" if args.baselines else ""), flush=True)
        for track in tracks:
            runs = [one_run(track, seed, args.minutes, work, args.steps) for seed in range(args.seeds)]
            lap, to_laps = _median([r["lap"] for r in runs]), _median([r["to_laps"] for r in runs])
            standing, flying = runs[0]["standing"], runs[0]["flying"]
            seeds = "; ".join(f"{r['lap']:.2f} s / {r['to_laps']:.1f} s ({r['to_steps']:,} steps; "
                              f"{r['steps'] / 1e6:.2f} M trained)"
                              if r["lap"] and r["to_laps"] else
                              f"{r['lap'] or 'no lap'} / {r['to_laps'] or 'no 3 laps'}" for r in runs)
            row = (f"| {Path(track).stem} | {standing:.2f} s | {flying:.2f} s | "
                   + (f"{lap:.2f} s | **{lap / standing:.3f}** | " if lap else "no lap | - | ")
                   + (f"{to_laps:.1f} s |" if to_laps else "not within the budget |") + f" {seeds} |")
            if args.baselines:
                pp, lf = scripted_lap(track, "pure pursuit"), scripted_lap(track, "line follower")
                row += "".join(f" {t / standing:.3f} |" if t else " no lap |" for t in (pp, lf))
            print(row, flush=True)


if __name__ == "__main__":
    main()
