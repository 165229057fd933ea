"""Training throughput with SB3's DummyVecEnv (all envs in one process) against SubprocVecEnv.

Trains PPO with racer_env's default settings for --steps steps each way and
prints the median steps/s over --repeats runs, with the ratio to DummyVecEnv.

    python benchmarks/vec_envs.py [--steps 40000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

from racer_env.env import RacerEnv


def make_env():
    return RacerEnv(reward_function="progress_speed")


def steps_per_second(vec_cls, n_envs: int, steps: int) -> float:
    venv = vec_cls([make_env for _ in range(n_envs)])
    model = PPO("MlpPolicy", venv, n_steps=2048 // n_envs, batch_size=256, n_epochs=5, gamma=0.99,
                policy_kwargs=dict(net_arch=[64, 64]), device="cpu", seed=0, verbose=0)
    t0 = time.perf_counter()
    model.learn(steps)
    rate = model.num_timesteps / (time.perf_counter() - t0)
    venv.close()
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=40000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    cases = {"DummyVecEnv, 8 envs": (DummyVecEnv, 8), "SubprocVecEnv, 8 envs": (SubprocVecEnv, 8),
             "SubprocVecEnv, 2 envs": (SubprocVecEnv, 2), "DummyVecEnv, 2 envs": (DummyVecEnv, 2)}
    results: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(args.repeats):
        for name, (cls, n) in cases.items():
            results[name].append(steps_per_second(cls, n, args.steps))
    base = statistics.median(results["DummyVecEnv, 8 envs"])
    print(f"PPO training throughput, {args.steps} steps x {args.repeats} repeats, median steps/s:")
    for name, vals in results.items():
        med = statistics.median(vals)
        print(f"  {name:24s} {med:8,.0f}   ({med / base:.2f}x DummyVecEnv, 8 envs)")


if __name__ == "__main__":
    main()
