"""Steps per second of one RacerEnv, beside gymnasium's CartPole-v1 measured in the same run.

Each figure is the median of --repeats timed runs of --steps steps, with
pre-sampled random actions and resets counted in. The reward function is
trivial, so this measures the simulator itself.

    python benchmarks/env_steps.py [--steps 30000] [--repeats 5] [--track harbour_loop]
"""

from __future__ import annotations

import argparse
import statistics
import time

import gymnasium as gym
import numpy as np

import racer_env
from racer_env.drivers import PurePursuit


def steps_per_second(env: gym.Env, actions: list, n: int) -> float:
    env.reset(seed=0)
    t0 = time.perf_counter()
    for i in range(n):
        _, _, terminated, truncated, _ = env.step(actions[i % len(actions)])
        if terminated or truncated:
            env.reset()
    return n / (time.perf_counter() - t0)


def lap_actions(env: racer_env.RacerEnv, n: int = 3000) -> list:
    """The actions of a scripted driver lapping the track: the workload of a policy that drives well."""
    env.reset(seed=0)
    driver = PurePursuit(env.track, 2.0)
    actions = []
    for _ in range(n):
        a = env.actions.to_action(*driver.controls(env.car))
        actions.append(a)
        _, _, te, tr, _ = env.step(a)
        if te or tr:
            env.reset()
            driver = PurePursuit(env.track, 2.0)
    return actions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=30000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--track", default=racer_env.track.DEFAULT_TRACK)
    args = ap.parse_args()

    racer = racer_env.RacerEnv(track=args.track, reward_function=lambda params: 1.0)
    rng = np.random.default_rng(0)
    racer.action_space.seed(0)
    random_actions = [racer.action_space.sample() for _ in range(4096)]
    driving = lap_actions(racer_env.RacerEnv(track=args.track, reward_function=lambda p: 1.0, mode="eval"))
    made = gym.make("RacerEnv-v0", track=args.track, reward_function=lambda params: 1.0)
    cart = gym.make("CartPole-v1")
    cart_actions = [int(a) for a in rng.integers(0, 2, 4096)]

    cases = {
        "RacerEnv, random actions": (racer, random_actions),
        "RacerEnv, driving laps": (racer_env.RacerEnv(track=args.track, reward_function=lambda p: 1.0,
                                                      mode="eval"), driving),
        "RacerEnv via gym.make (wrappers)": (made, random_actions),
        "CartPole-v1 via gym.make": (cart, cart_actions),
    }
    results: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(args.repeats):  # interleave the cases so machine noise hits them alike
        for name, (env, actions) in cases.items():
            results[name].append(steps_per_second(env, actions, args.steps))

    base = statistics.median(results["CartPole-v1 via gym.make"])
    print(f"track {args.track}, {args.steps} steps x {args.repeats} repeats, median steps/s:")
    for name, vals in results.items():
        med = statistics.median(vals)
        print(f"  {name:36s} {med:10,.0f}   ({med / base:.2f}x CartPole)")


if __name__ == "__main__":
    main()
