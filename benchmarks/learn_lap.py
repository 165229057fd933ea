"""How fast racer_env's defaults learn to lap, and how fast the laps get.

Three measurements, all with the defaults of ``python train.py``:

* time to laps: training wall time until a greedy evaluation first drives 3 of 3
  laps (back to back, without leaving the track); the median over --seeds runs.
* lap time: after --minutes of training, the best model's greedy lap time beside
  a classical baseline run here too: pure pursuit along the centre line at the
  fastest constant speed (steps of 0.25 m/s) that still completes the lap.
* other tracks (--tracks): the same two figures on tracks the defaults were not tuned on.

    python benchmarks/learn_lap.py [--seeds 3] [--minutes 5] [--tracks ../shared/deepracer/tracks/*.npy]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from racer_env.sim.drivers import PurePursuit
from racer_env.env import RacerEnv
from racer_env.training.evaluation import evaluate_run
from racer_env.sim.track import DEFAULT_TRACK
from racer_env.training import TrainConfig, train


def pure_pursuit_baseline(track: str) -> tuple[float, float | None]:
    """(speed [m/s], lap time [s]) of the fastest constant-speed pure pursuit that completes a lap."""
    speed = 4.0
    while speed >= 0.5:
        env = RacerEnv(track=track, reward_function=lambda p: 0.0, mode="eval")
        env.reset(seed=0)
        driver = PurePursuit(env.track, speed)
        while True:
            _, _, te, tr, info = env.step(env.actions.to_action(*driver.controls(env.car)))
            if te or tr:
                break
        if info["episode_status"] == "lap_complete":
            return speed, info["lap_time"]
        speed -= 0.25
    return speed, None


def time_to_laps(track: str, seed: int, limit_minutes: float, work: Path) -> float | None:
    res = train(TrainConfig(track=track, seed=seed, minutes=limit_minutes, out=str(work / f"ttl-{Path(track).stem}-{seed}"),
                            quiet=True, eval_laps=0, until_laps=True))
    return res.first_clean_laps_s


def lap_time(track: str, minutes: float, work: Path) -> tuple[float | None, int]:
    run = work / f"lap-{Path(track).stem}"
    res = train(TrainConfig(track=track, minutes=minutes, out=str(run), quiet=True, eval_laps=0))
    ev, _ = evaluate_run(run, laps=1)
    return ev.best_lap_time, res.timesteps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--track", default=DEFAULT_TRACK)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--minutes", type=float, default=5.0, help="training time for the lap-time figure")
    ap.add_argument("--ttl-limit", type=float, default=3.0, help="give up on time-to-laps after this many minutes")
    ap.add_argument("--tracks", nargs="*", default=[], help="other tracks to check the defaults on")
    ap.add_argument("--other-minutes", type=float, default=3.0, help="training time on each other track")
    ap.add_argument("--skip-lap-time", action="store_true")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        times = [time_to_laps(args.track, s, args.ttl_limit, work) for s in range(args.seeds)]
        ok = [t for t in times if t is not None]
        print(f"{args.track}: time to 3/3 laps, per seed: "
              + ", ".join(f"{t:.1f} s" if t is not None else "not within limit" for t in times))
        if ok:
            print(f"  median {statistics.median(ok):.1f} s ({len(ok)}/{len(times)} seeds lapped)")
        speed, base = pure_pursuit_baseline(args.track)
        if not args.skip_lap_time:
            t0 = time.time()
            ours, steps = lap_time(args.track, args.minutes, work)
            print(f"  lap time after {args.minutes:g} min ({steps:,} steps): "
                  f"{ours:.2f} s" if ours else "  no lap", end="")
            print(f"; pure pursuit baseline at {speed} m/s: {base:.2f} s"
                  + (f" -> ratio {ours / base:.3f}" if ours and base else ""), f"[{time.time() - t0:.0f} s]")
        for track in args.tracks:
            t = time_to_laps(track, 0, args.ttl_limit, work)
            speed, base = pure_pursuit_baseline(track)
            ours, steps = lap_time(track, args.other_minutes, work)
            print(f"{Path(track).stem}: time to 3/3 laps {t:.1f} s" if t else f"{Path(track).stem}: no 3/3 laps "
                  f"within {args.ttl_limit} min", end="")
            print(f"; lap after {args.other_minutes:g} min {ours:.2f} s" if ours else "; no lap", end="")
            print(f"; pure pursuit at {speed} m/s {base:.2f} s" if base else "; pure pursuit never lapped")


if __name__ == "__main__":
    main()
