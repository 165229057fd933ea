"""Steps per second of one RacerEnv, beside gymnasium's CartPole-v1 measured in the same run.

Each figure is the median of --repeats timed runs of --steps steps, with
pre-sampled actions and resets counted in. The reward function is trivial, so
this measures the simulator itself. Cases: random actions (short episodes, many
resets), a scripted driver's actions (laps), the same through gym.make, and
CartPole-v1 as a yardstick. Races with objects (this tree only): 6 boxes, and 4
bot cars changing lanes, each lapped by a dodging driver whose actions are
recorded first and replayed exactly; the same actions replayed in a time trial
drive the same path, so the ratio of the two is what the objects cost a step.

With ``--baseline REV`` the same cases also run on another commit of racer_env
(checked out into a temporary git worktree), interleaved repeat by repeat with
this tree so that machine noise hits both alike; each repeat of each tree runs
in a fresh process, fed the same pre-computed actions. This tree also steps a
fleet of 16 cars (racer_env.env.fleet), per car, beside CartPole's raw step
(its env unwrapped), in a time trial and among objects, resets included.

    python benchmarks/env_steps.py [--steps 30000] [--repeats 5] [--track harbour_loop] [--baseline REV]
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from baseline import baseline_tree

REPO = Path(__file__).resolve().parent.parent
CASES = ("RacerEnv, random actions", "RacerEnv, driving laps", "RacerEnv via gym.make", "CartPole-v1 via gym.make")
RAW_CART = "CartPole-v1, its raw step (unwrapped)"
FLEET_CARS = 16
FLEET_CASES = {  # per car-step, random actions and the resets they bring (this tree only: a baseline has no fleet)
    f"Fleet of {FLEET_CARS}, random actions, a car's step": None,
    f"Fleet of {FLEET_CARS} among 6 boxes, random actions, a car's step":
        {"NUMBER_OF_OBSTACLES": 6, "RANDOMIZE_OBSTACLE_LOCATIONS": True},
    f"Fleet of {FLEET_CARS} among 4 bot cars, random actions, a car's step":
        {"NUMBER_OF_BOT_CARS": 4, "BOT_CAR_SPEED": 1.0, "IS_LANE_CHANGE": True},
}
OBJECT_CASES = {
    "RacerEnv, laps among 6 boxes": {"OBJECT_POSITIONS": [f"{0.1 + 0.15 * i:.2f},{1 if i % 2 else -1}"
                                                          for i in range(6)]},
    "RacerEnv, laps among 4 bot cars": {"NUMBER_OF_BOT_CARS": 4, "BOT_CAR_SPEED": 1.0, "IS_LANE_CHANGE": True},
}


def steps_per_second(env, actions: list, n: int) -> float:
    env.reset(seed=0)
    t0 = time.perf_counter()
    for i in range(n):
        _, _, terminated, truncated, _ = env.step(actions[i % len(actions)])
        if terminated or truncated:
            env.reset()
    return n / (time.perf_counter() - t0)


def replay_per_second(env, actions: np.ndarray, ends: np.ndarray, n: int) -> float:
    """Steps/s replaying recorded episodes exactly: the same actions, a reset where each recorded episode ended
    (and where the recording ends), so every episode drives as it did when recorded."""
    env.reset(seed=0)
    k = 0
    t0 = time.perf_counter()
    for _ in range(n):
        env.step(actions[k])
        if ends[k]:
            env.reset(seed=0)
        k += 1
        if k == len(actions):
            k = 0
            env.reset(seed=0)
    return n / (time.perf_counter() - t0)


def measure(track: str, actions_file: str, steps: int) -> dict[str, float]:
    """One repeat of every case, with whatever racer_env is importable. Uses only API every version has."""
    import gymnasium as gym

    import racer_env

    data = np.load(actions_file)
    random_actions, driving = list(data["random"]), list(data["driving"])
    cart_actions = [int(a) for a in data["cart"]]
    out = {}
    env = racer_env.RacerEnv(track=track, reward_function=lambda params: 1.0)
    out[CASES[0]] = steps_per_second(env, random_actions, steps)
    env = racer_env.RacerEnv(track=track, reward_function=lambda params: 1.0, mode="eval")
    out[CASES[1]] = steps_per_second(env, driving, steps)
    env = gym.make("RacerEnv-v0", track=track, reward_function=lambda params: 1.0)
    out[CASES[2]] = steps_per_second(env, random_actions, steps)
    out[CASES[3]] = steps_per_second(gym.make("CartPole-v1"), cart_actions, steps)
    out[RAW_CART] = steps_per_second(gym.make("CartPole-v1").unwrapped, cart_actions, steps)
    try:
        from racer_env.env.config import EnvConfig
        from racer_env.env.fleet import Fleet
    except ImportError:  # a baseline before the fleet
        Fleet = None  # type: ignore[assignment,misc]
    if Fleet is not None:
        for name, race in FLEET_CASES.items():
            fleet = Fleet(EnvConfig.make(track=track, reward=lambda params: 1.0, race=race), FLEET_CARS, mode="train")
            out[name] = fleet_car_steps_per_second(fleet, random_actions, steps)
    has_races = "race" in inspect.signature(racer_env.RacerEnv.__init__).parameters  # a baseline may predate them
    for name, race in OBJECT_CASES.items():
        key = _key(name)
        if has_races and key in data:  # the recorded dodging laps, with the objects and in a time trial
            env = racer_env.RacerEnv(track=track, reward_function=lambda params: 1.0, mode="eval", race=race)
            out[name] = replay_per_second(env, data[key], data[key + "_ends"], steps)
            env = racer_env.RacerEnv(track=track, reward_function=lambda params: 1.0, mode="eval")
            out[name + ": same path, no objects"] = replay_per_second(env, data[key], data[key + "_ends"], steps)
    return out


def fleet_car_steps_per_second(fleet, actions: list, n: int) -> float:
    """Car-steps/s of a fleet given each car a random action a step, every car whose episode ends reset at once,
    as a training run meets them (random actions end episodes often: the resets weigh in fully)."""
    fleet.reset_all(0)
    cars = fleet.n
    batches = [np.array([actions[(i * cars + k) % len(actions)] for k in range(cars)]) for i in range(64)]
    steps = max(1, n // cars)
    t0 = time.perf_counter()
    for i in range(steps):
        _, terminated, truncated, _ = fleet.step(batches[i % len(batches)])
        for k in range(cars):
            if terminated[k] or truncated[k]:
                fleet.reset(k)
    return steps * cars / (time.perf_counter() - t0)


def _key(case: str) -> str:
    return case.split(", ")[1].replace(" ", "_")


def make_actions(track: str, path: Path) -> None:
    """Random actions, and the actions of a scripted driver lapping the track (the workload of a good policy)."""
    import racer_env
    from racer_env.sim.drivers import PurePursuit

    env = racer_env.RacerEnv(track=track, reward_function=lambda p: 1.0, mode="eval")
    env.action_space.seed(0)
    random_actions = [env.action_space.sample() for _ in range(4096)]
    env.reset(seed=0)
    driver = PurePursuit(env.track, 2.0)
    driving = []
    for _ in range(3000):
        a = env.actions.to_action(*driver.controls(env.car))
        driving.append(a)
        _, _, te, tr, _ = env.step(a)
        if te or tr:
            env.reset()
            driver = PurePursuit(env.track, 2.0)
    cart = np.random.default_rng(0).integers(0, 2, 4096)
    among = {}
    from racer_env.sim.drivers import Dodger

    for name, race in OBJECT_CASES.items():  # every episode from the same seed: replayed exactly
        env = racer_env.RacerEnv(track=track, reward_function=lambda p: 1.0, mode="eval", race=race)
        env.reset(seed=0)
        dodger, acts, ends = Dodger(env.track, 2.0), [], []
        for _ in range(3000):
            a = env.actions.to_action(*dodger.controls(env.car, env.traffic.now))
            acts.append(a)
            _, _, te, tr, _ = env.step(a)
            ends.append(te or tr)
            if te or tr:
                env.reset(seed=0)
                dodger = Dodger(env.track, 2.0)
        among[_key(name)], among[_key(name) + "_ends"] = np.array(acts), np.array(ends)
    np.savez(path, random=np.array(random_actions), driving=np.array(driving), cart=cart, **among)


def run_worker(source: Path, track: str, actions_file: Path, steps: int) -> dict[str, float]:
    """One repeat in a fresh process, importing racer_env from ``source``."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    proc = subprocess.run([sys.executable, __file__, "--worker", "--track", track, "--actions", str(actions_file),
                           "--steps", str(steps)], capture_output=True, text=True, env=env, cwd=source, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark worker in {source} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=30000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--track", default="harbour_loop")
    ap.add_argument("--baseline", help="a git revision of racer_env to measure beside this tree")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--actions", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(measure(args.track, args.actions, args.steps)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        actions_file = Path(tmp) / "actions.npz"
        make_actions(args.track, actions_file)
        trees = {"this tree": REPO}
        with baseline_tree(args.baseline, Path(tmp)) as tree:
            if tree is not None:
                trees[f"baseline {args.baseline}"] = tree
            results: dict[str, dict[str, list[float]]] = {t: {} for t in trees}
            for _ in range(args.repeats):  # interleave so that machine noise hits every tree and case alike
                for name, source in trees.items():
                    for case, value in run_worker(source, args.track, actions_file, args.steps).items():
                        results[name].setdefault(case, []).append(value)

    print(f"track {args.track}, {args.steps} steps x {args.repeats} repeats, median steps/s:")
    medians = {t: {c: statistics.median(v) for c, v in r.items()} for t, r in results.items()}
    for name, med in medians.items():
        print(f"  {name}:")
        cart, raw = med[CASES[3]], med.get(RAW_CART)
        for case in med:
            vs_raw = f", {med[case] / raw:.2f}x its raw step" if raw else ""
            print(f"    {case:66s} {med[case]:10,.0f}   ({med[case] / cart:.2f}x CartPole{vs_raw})")
        for case in OBJECT_CASES:
            if case in med:
                base = med[case + ": same path, no objects"]
                print(f"    cost of a step, {case.split(', ')[1]}: {base / med[case]:.2f}x a time trial's "
                      f"on the same path")
        first = next(iter(FLEET_CASES))
        for case in list(FLEET_CASES)[1:]:
            if case in med and first in med:
                print(f"    cost of a fleet car's step {case.split(' among ')[1].split(',')[0]}: "
                      f"{med[first] / med[case]:.2f}x a time trial's, resets included")
    if len(medians) == 2:
        (a, ma), (b, mb) = medians.items()
        print("  ratio, this tree / baseline (CartPole shows the machine's own drift):")
        for case in CASES:
            print(f"    {case:34s} {ma[case] / mb[case]:.3f}")


if __name__ == "__main__":
    main()
