"""Training throughput with all envs in one process (DummyVecEnv) against one process each (SubprocVecEnv).

Runs the real ``train()`` (8 envs, the defaults, evaluation and logging included) for --steps steps
each way, interleaved, and prints the median steps/s of the learning phase over --repeats runs, with
the ratio to DummyVecEnv, and the start-up time of each.

    python benchmarks/vec_envs.py [--steps 40000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from racer_env.training import TrainConfig, train


def run(vec: str, steps: int, seed: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = train(TrainConfig(timesteps=steps, out=f"{tmp}/run", quiet=True, eval_laps=0, vec=vec, seed=seed))
        total = time.perf_counter() - t0
    return res.timesteps / res.seconds, total - res.seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=40000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    results: dict[str, list[tuple[float, float]]] = {"dummy": [], "subproc": []}
    for i in range(args.repeats):
        for vec in results:
            results[vec].append(run(vec, args.steps, i))
    base = statistics.median(r for r, _ in results["dummy"])
    print(f"train() with 8 envs, {args.steps} steps x {args.repeats} repeats (median):")
    for vec, rows in results.items():
        rates = [r for r, _ in rows]
        med = statistics.median(rates)
        print(f"  {vec:8s} {med:7,.0f} steps/s ({med / base:.2f}x dummy; runs {', '.join(f'{r:,.0f}' for r in rates)})"
              f"  start-up {statistics.median(s for _, s in rows):.1f} s")


if __name__ == "__main__":
    main()
