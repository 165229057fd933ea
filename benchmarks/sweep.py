"""racer sweep on Ray Tune against plain sequential ``train()``: throughput, overhead and early stopping.

* Throughput: the same 8 trials (2 reward functions x 2 learning rates x 2 seeds, --timesteps each, no early
  stopping) trained one after another by ``train()`` in this process, then by ``run_sweep`` with --workers
  trials at once, alternately, --repeats times. Trials per hour for both (medians) and their ratio, and what
  limits it: the trials' own time when run side by side against alone, and the time outside any trial.
* Overhead: the start-up and shutdown of a local Ray instance (ray.init to ready, median of 3), the peak memory
  of a trial's process (from the trials' own reports), and of Ray's daemons (sampled from /proc during a sweep).
* Early stopping: 16 trials (4 learning rates x 4 entropy coefficients) with ASHA and the same grid without it:
  wall time, and whether the best trial is the same.

    python benchmarks/sweep.py [--timesteps 20000] [--repeats 3] [--workers 2] [--skip-asha]
"""

from __future__ import annotations

import argparse
import itertools
import logging
import statistics
import tempfile
import threading
import time
from pathlib import Path

from racer_env.training.sweep import run_sweep
from racer_env.training.sweepfile import load_sweep
from racer_env.env.config import EnvConfig
from racer_env.training.trainer import TrainConfig, train

THROUGHPUT = """rewards: [follow_center, progress_speed]
hyperparameters: {{lr: [0.0003, 0.001]}}
seeds: 2
budget: {{timesteps: {steps}}}
early_stopping: false
"""
ASHA = """rewards: [progress_speed]
hyperparameters:
  lr: [0.0001, 0.0003, 0.001, 0.003]
  beta_entropy: [0.0, 0.001, 0.01, 0.05]
budget: {{timesteps: {steps}}}
early_stopping: {early}
"""
RAY_DAEMONS = ("raylet", "gcs_server", "log_monitor", "monitor.py", "dashboard", "runtime_env", "ray_client")


class MemorySampler(threading.Thread):
    """The peak total resident memory [MB] of Ray's daemons (not its trial workers), read from /proc."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_daemons = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.5):
            total = 0.0
            for proc in Path("/proc").iterdir():
                if not proc.name.isdigit():
                    continue
                try:
                    cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    if "default_worker.py" in cmd or not any(d in cmd for d in RAY_DAEMONS):
                        continue
                    rss = next(line for line in (proc / "status").read_text().splitlines() if line.startswith("VmRSS"))
                    total += int(rss.split()[1]) / 1024
                except (OSError, StopIteration, ValueError):
                    continue
            self.peak_daemons = max(self.peak_daemons, total)


def sequential(plan, work: Path) -> tuple[float, list[float]]:
    """Wall time [s] of the plan's trials trained one after another by train(), and each trial's time [s]."""
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    times = []
    for i, (reward, lr, seed) in enumerate(itertools.product(plan.rewards, plan.hyperparameters["lr"], plan.seeds)):
        hp = work / f"hp{i}.json"
        hp.write_text(f'{{"lr": {lr}}}')
        t = time.perf_counter()
        train(TrainConfig(env=EnvConfig.make(reward=reward), hyperparameters=str(hp), timesteps=plan.timesteps, seed=seed,
                          out=str(work / f"seq{i}"), quiet=True, eval_laps=0))
        times.append(time.perf_counter() - t)
    return time.perf_counter() - t0, times


def swept(plan, out: Path, workers: int, sampler: MemorySampler | None = None):
    t0 = time.perf_counter()
    result = run_sweep(plan, out, workers=workers)
    return time.perf_counter() - t0, result


def ray_startup() -> float:
    import ray

    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        ray.init(include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
        ray.get(ray.remote(lambda: 1).remote())
        ray.shutdown()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timesteps", type=int, default=20000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-asha", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "t.yaml").write_text(THROUGHPUT.format(steps=args.timesteps))
        plan = load_sweep(work / "t.yaml")
        seq_walls, sweep_walls, seq_trials, sweep_trials, rss, outside = [], [], [], [], [], []
        sampler = MemorySampler()
        sampler.start()
        for r in range(args.repeats):
            wall, times = sequential(plan, work / f"seq{r}")
            seq_walls.append(wall)
            seq_trials += times
            wall, result = swept(plan, work / f"sweep{r}", args.workers)
            sweep_walls.append(wall)
            minutes = [row["minutes"] for row in result.rows]
            sweep_trials += [m * 60 for m in minutes]
            rss += [row["rss_mb"] for row in result.rows if row.get("rss_mb")]
            outside.append(wall - sum(m * 60 for m in minutes) / args.workers)
            print(f"repeat {r}: sequential {seq_walls[-1]:.1f} s, sweep {wall:.1f} s "
                  f"({[row['status'] for row in result.rows].count('finished')}/8 finished)", flush=True)
        sampler.stop.set()
        seq, sw = statistics.median(seq_walls), statistics.median(sweep_walls)
        print(f"\nthroughput: 8 trials of {args.timesteps} steps, {args.repeats} repeats (medians)")
        print(f"  sequential train(): {seq:7.1f} s  {8 * 3600 / seq:6.0f} trials/h")
        print(f"  racer sweep ({args.workers} at once): {sw:7.1f} s  {8 * 3600 / sw:6.0f} trials/h  "
              f"ratio {seq / sw:.2f}x")
        print(f"  a trial alone {statistics.median(seq_trials):.1f} s, side by side in the sweep "
              f"{statistics.median(sweep_trials):.1f} s (Tune's time_total_s); time outside the trials' share "
              f"{statistics.median(outside):.1f} s per sweep (Ray start and stop, worker start, scheduling)")
        print(f"\noverhead: local Ray start-up and shutdown {ray_startup():.1f} s (median of 3); peak memory of a "
              f"trial's process {statistics.median(rss):.0f} MB (median), of Ray's daemons "
              f"{sampler.peak_daemons:.0f} MB")
        if args.skip_asha:
            return
        print("\nearly stopping: 16 trials (lr x beta_entropy)", flush=True)
        best = {}
        for early in (True, False):
            (work / f"a{early}.yaml").write_text(ASHA.format(steps=args.timesteps, early=str(early).lower()))
            wall, result = swept(load_sweep(work / f"a{early}.yaml"), work / f"asha{early}", args.workers)
            top = result.rows[0]
            best[early] = (top["lr"], top["beta_entropy"])
            stopped = sum(r["status"] == "stopped early" for r in result.rows)
            print(f"  {'ASHA' if early else 'grid'}: {wall:6.1f} s, {stopped} trials stopped early, best "
                  f"lr={top['lr']} beta_entropy={top['beta_entropy']} objective {top['objective']:.2f}; "
                  f"the grid's top 3: {[(r['lr'], r['beta_entropy']) for r in result.rows[:3]]}", flush=True)
        print(f"  same best trial: {best[True] == best[False]}")


if __name__ == "__main__":
    main()
