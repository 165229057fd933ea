"""The environment's share of training wall time, timed inside one default training run.

RacerEnv.step and RacerEnv.reset are wrapped with a wall-clock timer (a
profiler would inflate the pure-Python env far more than torch's C++), then
``train()`` runs with the defaults. The env's time includes the reward
function and the SIM_TRACE logging hook. --repeats runs give a median.

    python benchmarks/profile_training.py [--timesteps 100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from racer_env.env import RacerEnv
from racer_env.training import TrainConfig, train

_spent = {"step": 0.0, "reset": 0.0, "calls": 0}


def _timed(name, fn):
    def wrapper(self, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(self, *args, **kwargs)
        finally:
            _spent[name] += time.perf_counter() - t0
            _spent["calls"] += 1
    return wrapper


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timesteps", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    RacerEnv.step = _timed("step", RacerEnv.step)
    RacerEnv.reset = _timed("reset", RacerEnv.reset)
    shares, totals = [], []
    for i in range(args.repeats):
        _spent.update(step=0.0, reset=0.0, calls=0)
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            train(TrainConfig(timesteps=args.timesteps, out=f"{tmp}/run", quiet=True, eval_laps=0, seed=i))
            total = time.perf_counter() - t0
        env = _spent["step"] + _spent["reset"]
        shares.append(env / total)
        totals.append(total)
        print(f"run {i}: {total:.1f} s training, env {env:.1f} s ({env / total:.1%}) over {_spent['calls']:,} calls")
    print(f"median: env share {statistics.median(shares):.1%} of {statistics.median(totals):.1f} s "
          f"for {args.timesteps:,} steps ({args.timesteps / statistics.median(totals):,.0f} steps/s)")


if __name__ == "__main__":
    main()
