"""How fast racer_env's defaults learn to lap, and how close the laps come to the track's lap-time limit.

All with the defaults of ``python train.py``:

* time to laps: training wall time until a greedy evaluation first drives 3 of 3 laps back to back
  without leaving the track; the median over --seeds runs on --track, one run on each of --tracks.
* lap time: after --minutes of training, the best model's evaluation lap (a standing start, as each of
  DeepRacer's trials) over the track's limit (racer raceline's flying lap), on --track and --lap-tracks.
  Baselines driven in the same run: pure pursuit following the racing line at its speed profile, and the
  model-predictive line follower of racer raceline's check; both from a standing start too.

    python benchmarks/learn_lap.py [--seeds 3] [--minutes 5] [--lap-tracks reInvent2019_track.npy ...]
                                   [--tracks ../shared/deepracer/tracks/*.npy]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from racer_env.env.actions import ActionSpec
from racer_env.env.environment import RacerEnv
from racer_env.sim.drivers import LineFollower, PurePursuit
from racer_env.sim.track import DEFAULT_TRACK, Track
from racer_env.training.evaluation import evaluate_run
from racer_env.training.laplimit import cached_racing_line
from racer_env.training.trainer import TrainConfig, train


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


def pure_pursuit_baseline(track: str) -> tuple[float, float | None]:
    """(share of the planned speeds, lap [s]) of pure pursuit along the racing line at the highest share, in
    steps of 5 %, that completes a lap."""
    for pct in range(100, 45, -5):
        lap = scripted_lap(track, "pure pursuit", pct / 100)
        if lap is not None:
            return pct / 100, lap
    return 0.0, None


def time_to_laps(track: str, seed: int, limit_minutes: float, work: Path) -> float | None:
    res = train(TrainConfig(track=track, seed=seed, minutes=limit_minutes, quiet=True, eval_laps=0, until_laps=True,
                            out=str(work / f"ttl-{Path(track).stem}-{seed}")))
    return res.first_clean_laps_s


def lap_time(track: str, minutes: float, work: Path) -> tuple[float | None, int, float | None]:
    """(standing-start lap [s] after ``minutes`` of training, steps trained, the track's limit [s])."""
    run = work / f"lap-{Path(track).stem}"
    res = train(TrainConfig(track=track, minutes=minutes, out=str(run), quiet=True, eval_laps=0))
    ev, _ = evaluate_run(run, laps=1)
    return ev.best_lap_time, res.timesteps, ev.lap_time_limit


def _fmt(t: float | None, limit: float | None) -> str:
    if t is None:
        return "no lap"
    return f"{t:.2f} s" + (f" ({t / limit:.3f}x limit)" if limit else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--track", default=DEFAULT_TRACK)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--minutes", type=float, default=5.0, help="training time for the lap-time figures")
    ap.add_argument("--ttl-limit", type=float, default=3.0, help="give up on time-to-laps after this many minutes")
    ap.add_argument("--lap-tracks", nargs="*", default=[], help="more tracks for the lap-time figure")
    ap.add_argument("--tracks", nargs="*", default=[], help="more tracks for the time-to-laps figure")
    ap.add_argument("--skip-lap-time", action="store_true")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        times = [time_to_laps(args.track, s, args.ttl_limit, work) for s in range(args.seeds)]
        ok = [t for t in times if t is not None]
        print(f"{args.track}: time to 3/3 laps, per seed: "
              + ", ".join(f"{t:.1f} s" if t is not None else "not within limit" for t in times)
              + (f"; median {statistics.median(ok):.1f} s ({len(ok)}/{len(times)} seeds lapped)" if ok else ""),
              flush=True)
        for track in args.tracks:
            t = time_to_laps(track, 0, args.ttl_limit, work)
            print(f"{Path(track).stem}: time to 3/3 laps " + (f"{t:.1f} s" if t else f"not within {args.ttl_limit} min"),
                  flush=True)
        if args.skip_lap_time:
            return
        for track in [args.track, *args.lap_tracks]:
            ours, steps, limit = lap_time(track, args.minutes, work)
            (share, pp), mpc = pure_pursuit_baseline(track), scripted_lap(track, "line follower")
            print(f"{Path(track).stem}: limit {limit:.2f} s; after {args.minutes:g} min ({steps:,} steps) the model "
                  f"laps in {_fmt(ours, limit)}; pure pursuit along the racing line at {share:.0%} of its speeds "
                  f"{_fmt(pp, limit)}; the line follower {_fmt(mpc, limit)}" if limit
                  else f"{Path(track).stem}: no racing line", flush=True)


if __name__ == "__main__":
    main()
