"""The environment's share of training wall time, from a cProfile of one default training run.

    python benchmarks/profile_training.py [--timesteps 60000]

Prints the total, the time inside RacerEnv.step (which includes the reward
function and the SIM_TRACE hook) and inside RacerEnv.reset, and their share.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile

from racer_env.training import TrainConfig, train


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timesteps", type=int, default=60000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        prof = cProfile.Profile()
        prof.enable()
        train(TrainConfig(timesteps=args.timesteps, out=f"{tmp}/run", quiet=True, eval_laps=0))
        prof.disable()
    stats = pstats.Stats(prof)
    total = stats.total_tt
    rows = {}
    for (file, _, name), (_, _, tt, ct, _) in stats.stats.items():
        if file.endswith("racer_env/env.py") and name in ("step", "reset"):
            rows[name] = ct
        if file.endswith("racer_env/evaluation.py") and name == "evaluate":
            rows["evaluate (greedy evals)"] = ct
        if name == "train" and "on_policy_algorithm" not in file and file.endswith("ppo.py"):
            rows["PPO.train (gradient updates)"] = ct
        if name == "collect_rollouts":
            rows["collect_rollouts (all of a rollout)"] = ct
    print(f"training {args.timesteps} steps under cProfile: {total:.1f} s")
    for name, t in sorted(rows.items(), key=lambda kv: -kv[1]):
        print(f"  {name:36s} {t:7.2f} s  {t / total:6.1%}")
    env = rows.get("step", 0.0) + rows.get("reset", 0.0)
    print(f"  environment (RacerEnv.step + reset) {env:7.2f} s  {env / total:6.1%}")


if __name__ == "__main__":
    main()
