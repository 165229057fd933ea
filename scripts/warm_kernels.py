"""Compile racer_env's numba kernels once, at setup, so that a racer's first training does not pay for it.

numba compiles each kernel at its first call and caches it beside the source (``racer_env/sim/__pycache__``);
on a fresh install that first call costs about 20-35 s here. This script makes those first calls: a RacerEnv
and a fleet in a time trial, among boxes and among bot cars, on the vector and on the camera, plain and randomised.

    python scripts/warm_kernels.py
"""

from __future__ import annotations

import time

import numpy as np

from racer_env.env.config import EnvConfig
from racer_env.env.environment import RacerEnv
from racer_env.env.fleet import Fleet

RACES = (None, {"NUMBER_OF_OBSTACLES": 3, "RANDOMIZE_OBSTACLE_LOCATIONS": True},
         {"NUMBER_OF_BOT_CARS": 2, "BOT_CAR_SPEED": 1.0, "IS_LANE_CHANGE": True})
CAMERA = {"action_space": {"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 0.5, "high": 4}},
          "action_space_type": "continuous", "sensor": ["FRONT_FACING_CAMERA"], "version": "5"}


def main() -> None:
    t0 = time.perf_counter()
    for race in RACES:
        env = RacerEnv(race=race, reward_function=lambda params: 1.0)
        env.reset(seed=0)
        for _ in range(3):
            env.step(env.action_space.sample())
        fleet = Fleet(EnvConfig.make(race=race, reward=lambda params: 1.0), 2, mode="train")
        fleet.reset_all(0)
        for _ in range(3):
            fleet.step(np.zeros((2, 2), np.float32))
    for randomize in (False, True):  # the camera, plain and randomised (its shading kernel)
        env = RacerEnv(EnvConfig.make(model_metadata=CAMERA, reward=lambda params: 1.0, randomize=randomize))
        env.reset(seed=0)
        env.step(env.action_space.sample())
    print(f"racer_env's kernels compiled and cached in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
