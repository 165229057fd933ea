"""What objects cost a training run's simulator step, as the training run meets them.

Trains ``python train.py``'s defaults for --steps steps in three races on --track, each with its bundled reward
function: a time trial (``progress_speed``), 6 randomised boxes (``avoid_obstacles``) and 4 bot cars at 1 m/s
changing lanes (``head_to_bot``). Every step of the fleet is timed inside the training (``FleetVecEnv.step_wait``:
the cars' moves, params, rules, the objects, the observations, and the resets of the cars whose episodes ended,
which re-place their objects), and the reward functions' own seconds are taken out (they are the racer's code,
not the simulator's). So the resets count as often as a learning policy meets them, not as random actions do.

Reports, per race, the simulator's microseconds per car-step, its ratio to the time trial's in the same run
(the issue's goal: <= 1.5x), the episodes per 1,000 car-steps (how often resets came), and the whole training's
steps per second. Races interleave repeat by repeat; medians over --repeats.

    python benchmarks/object_cost.py [--steps 60000] [--repeats 3] [--track harbour_loop]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

RACES = {
    "time trial": (None, "progress_speed"),
    "6 boxes": ({"NUMBER_OF_OBSTACLES": 6, "RANDOMIZE_OBSTACLE_LOCATIONS": True}, "avoid_obstacles"),
    "4 bot cars": ({"NUMBER_OF_BOT_CARS": 4, "BOT_CAR_SPEED": 1.0, "IS_LANE_CHANGE": True}, "head_to_bot"),
}


def one_run(race: dict | None, reward: str, track: str, steps: int, seed: int, out: Path) -> dict[str, float]:
    """Train one run with the fleet's steps timed; returns the simulator's us per car-step and the rest."""
    from racer_env.env.config import EnvConfig
    from racer_env.training import vecfleet
    from racer_env.training.trainer import TrainConfig, train

    clock = {"seconds": 0.0, "car_steps": 0, "episodes": 0}
    fleets: list = []
    real_step, real_init = vecfleet.FleetVecEnv.step_wait, vecfleet.FleetVecEnv.__init__

    def init(self, fleet, *args, **kwargs):
        real_init(self, fleet, *args, **kwargs)
        fleets.append(fleet)

    def step_wait(self):
        t0 = time.perf_counter()
        out_ = real_step(self)
        clock["seconds"] += time.perf_counter() - t0
        clock["car_steps"] += self.num_envs
        clock["episodes"] += int(out_[2].sum())
        return out_

    vecfleet.FleetVecEnv.step_wait, vecfleet.FleetVecEnv.__init__ = step_wait, init  # type: ignore[method-assign]
    try:
        env = EnvConfig.make(track=track, reward=reward, race=race)
        train(TrainConfig(env=env, seed=seed, timesteps=steps, quiet=True, out=str(out)))
    finally:
        vecfleet.FleetVecEnv.step_wait, vecfleet.FleetVecEnv.__init__ = real_step, real_init  # type: ignore
    fleet = fleets[0]
    reward_s = sum(fn.seconds for fn in fleet.rewards)
    run = json.loads((out / "run.json").read_text())
    car_steps = clock["car_steps"]
    return {"sim_us": 1e6 * (clock["seconds"] - reward_s) / car_steps,
            "reward_us": 1e6 * reward_s / car_steps,
            "episodes_per_1000": 1000.0 * clock["episodes"] / car_steps,
            "train_steps_per_s": run["timesteps"] / run["train_seconds"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=60_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--track", default="harbour_loop")
    args = ap.parse_args()
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in RACES}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.repeats):
            for name, (race, reward) in RACES.items():
                res = one_run(race, reward, args.track, args.steps, rep, Path(tmp) / f"{rep}-{len(rows[name])}-"
                              f"{name.replace(' ', '_')}")
                rows[name].append(res)
                print(f"{rep + 1}. {name}: sim {res['sim_us']:.1f} us/car-step, reward "
                      f"{res['reward_us']:.1f} us, {res['episodes_per_1000']:.0f} ep/1k, "
                      f"{res['train_steps_per_s']:,.0f} steps/s", flush=True)
    med = {name: {key: statistics.median(r[key] for r in runs) for key in runs[0]} for name, runs in rows.items()}
    base = med["time trial"]["sim_us"]
    print(f"\n{args.track}, {args.steps:,} training steps a run, medians of {args.repeats}:")
    print(f"{'race':<12} {'sim us/car-step':>16} {'x time trial':>13} {'episodes/1k':>12} {'train steps/s':>14}")
    for name, m in med.items():
        print(f"{name:<12} {m['sim_us']:>16.1f} {m['sim_us'] / base:>12.2f}x {m['episodes_per_1000']:>12.1f} "
              f"{m['train_steps_per_s']:>14,.0f}")


if __name__ == "__main__":
    main()
