"""How fast racer_env's defaults learn the two races with objects, and what the objects cost a lap.

* Object avoidance: 3 randomised boxes on --track, ``reward_functions/avoid_obstacles.py``. Training wall time
  until a greedy evaluation during training (3 laps back to back, one layout) drives all 3 without a crash or
  an off-track. Target: 5 minutes.
* Head-to-bot: 3 bot cars at 1.0 m/s changing lanes, ``reward_functions/head_to_bot.py``. Training wall time
  until that evaluation completes its 3 laps with at most 1 crash in any lap (a crash costs the penalty and the
  lap goes on). Target: 10 minutes.

Both with the simulator's behaviour by default (the shrinking obstacle gap, the stale start check, bot cars
seen a step late), the defaults of ``python train.py`` otherwise. Medians over --seeds runs. Then the
first seed's best model is evaluated (3 trials, resets allowed as in DeepRacer's evaluations) in its race and
in a time trial on the same track: the lap times side by side.

    python benchmarks/learn_objects.py [--seeds 3] [--track harbour_loop] [--minutes-oa 10] [--minutes-h2b 15]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from racer_env.sim.track import DEFAULT_TRACK
from racer_env.training.evaluation import evaluate_run
from racer_env.env.config import EnvConfig
from racer_env.training.trainer import TrainConfig, train

RACES = {
    "object avoidance": ("NUMBER_OF_OBSTACLES: 3\nRANDOMIZE_OBSTACLE_LOCATIONS: true\n", "avoid_obstacles", 0, 5.0),
    "head-to-bot": ("NUMBER_OF_BOT_CARS: 3\nBOT_CAR_SPEED: 1.0\nIS_LANE_CHANGE: true\n", "head_to_bot", 1, 10.0),
}


def _median_lap(result) -> float | None:
    laps = [lap.lap_time for lap in result.laps if lap.status == "lap_complete"]
    return statistics.median(laps) if laps else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--track", default=DEFAULT_TRACK)
    ap.add_argument("--minutes-oa", type=float, default=10.0, help="budget of each object-avoidance run")
    ap.add_argument("--minutes-h2b", type=float, default=15.0, help="budget of each head-to-bot run")
    ap.add_argument("--only", choices=list(RACES), help="run one race only")
    args = ap.parse_args()
    budgets = {"object avoidance": args.minutes_oa, "head-to-bot": args.minutes_h2b}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        time_trial = work / "time-trial.yaml"
        time_trial.write_text("RACE_TYPE: TIME_TRIAL\n")
        for name, (yaml, reward, crashes, target) in RACES.items():
            if args.only and name != args.only:
                continue
            race = work / f"{reward}.yaml"
            race.write_text(yaml)
            times, runs = [], []
            for seed in range(args.seeds):
                out = work / f"{reward}-{seed}"
                env = EnvConfig.make(track=args.track, reward=reward, race=race)
                res = train(TrainConfig(env=env, seed=seed, quiet=True,
                                        minutes=budgets[name], until_laps=True, until_crashes=crashes, eval_laps=0,
                                        out=str(out)))
                t = res.first_clean_laps_s
                times.append(t)
                runs.append(out)
                print(f"{name}, seed {seed}: " + (f"{t:.1f} s" if t is not None else
                                                 f"not within {budgets[name]:g} min") +
                      f" ({res.timesteps:,} steps)", flush=True)
            done = [t for t in times if t is not None]
            med = statistics.median(times) if len(done) == len(times) else None
            shown = f"{med:.1f} s ({med / 60:.1f} min)" if med is not None else \
                f"{len(done)}/{len(times)} runs reached it"
            print(f"{name}: time to {'3 laps without a crash' if crashes == 0 else '3 laps, at most 1 crash a lap'}"
                  f", median over {len(times)} seeds: {shown}; target {target:g} min", flush=True)
            first = runs[0]
            in_race, _ = evaluate_run(first, laps=3, max_resets=10)
            alone, _ = evaluate_run(first, laps=3, max_resets=10, race=str(time_trial))
            a, b = _median_lap(in_race), _median_lap(alone)
            crashes_per_lap = [lap.crashed for lap in in_race.laps]
            print(f"{name}, seed 0's best model: median lap {a:.2f} s in the race (crashes per trial "
                  f"{crashes_per_lap}), {b:.2f} s in a time trial: {a / b:.2f}x" if a and b else
                  f"{name}, seed 0's best model: laps in the race {a}, in a time trial {b}", flush=True)


if __name__ == "__main__":
    main()
