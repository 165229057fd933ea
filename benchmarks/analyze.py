"""racer analyze on a million steps: wall time and peak memory, each repeat in a fresh process.

The log is made from real driving: a pure-pursuit driver laps harbour_loop at a few speeds in a RacerEnv that
records its SIM_TRACE rows (an off-track now and then, as in training), and those episodes are written over and
over, renumbered, as a robomaker log's SIM_TRACE_LOG lines (19 fields, a ROS prefix, log noise between them)
until --steps lines; and the same rows as gzipped simtrace CSVs of 20 episodes each, as a run directory holds
them. ``racer analyze`` then runs on each, --repeats times; the figures are medians.

    python benchmarks/analyze.py [--steps 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from racer_env import RacerEnv
from racer_env.env.simtrace import FIELDS, csv_row, format_line
from racer_env.sim.drivers import PurePursuit


def episodes(n_laps: int = 12) -> list[list]:
    """Recorded episodes of a scripted driver: laps at 1.5-3.5 m/s, and the odd off-track when it overreaches."""
    env = RacerEnv(track="harbour_loop", reward_function=lambda p: p["speed"], mode="train", record_trace=True)
    out = []
    for k in range(n_laps):
        env.reset(seed=k)
        driver = PurePursuit(env.track, 1.5 + 0.2 * k)
        while True:
            _, _, te, tr, info = env.step(env.actions.to_action(*driver.controls(env.car)))
            if te or tr:
                out.append(info["trace"])
                break
    return out


def write_inputs(folder: Path, steps: int) -> tuple[Path, Path]:
    recorded = episodes()
    log = folder / "training-simulation.log"
    run = folder / "run" / "training-simtrace"
    run.mkdir(parents=True)
    written, episode = 0, 0
    with open(log, "w") as f:
        f.write(" * /WORLD_NAME: harbour_loop\n * /JOB_TYPE: TRAINING\n")
        iteration: list[str] = []
        while written < steps:
            rows = recorded[episode % len(recorded)][: steps - written]
            f.write(f"[rollout_worker] INFO episode {episode} starts\n")
            f.writelines(f"[download_params_and_roslaunch_agent.py-1] {format_line(r, episode, 1.7e9)}\n" for r in rows)
            iteration += [csv_row(r, episode, 1.7e9) + "\n" for r in rows]
            written += len(rows)
            episode += 1
            if episode % 20 == 0 or written >= steps:
                with gzip.open(run / f"{(episode - 1) // 20}-iteration.csv.gz", "wt", compresslevel=1) as g:
                    g.write(",".join(FIELDS) + "\n")
                    g.writelines(iteration)
                iteration = []
    return log, run.parent


def measure(target: Path, out: Path) -> tuple[float, float]:
    """(seconds, peak RSS [MB]) of ``racer analyze`` on ``target`` in a fresh process, which reports its own peak."""
    code = ("import resource, sys\n"
            "from racer_env.cli import main\n"
            f"rc = main(['analyze', {str(target)!r}, '--track', 'harbour_loop', '--out', {str(out)!r}])\n"
            "print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
            "sys.exit(rc)\n")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"racer analyze failed:\n{proc.stderr[-3000:]}")
    peak = next(int(line.split()[1]) for line in proc.stdout.splitlines() if line.startswith("PEAK"))
    return seconds, peak / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        log, run = write_inputs(work, args.steps)
        size = log.stat().st_size / 1e6
        gz = sum(p.stat().st_size for p in (run / "training-simtrace").iterdir()) / 1e6
        results: dict[str, list[tuple[float, float]]] = {"log": [], "run": []}
        for k in range(args.repeats):  # interleaved, so that machine noise hits both alike
            results["log"].append(measure(log, work / f"out-log-{k}"))
            results["run"].append(measure(run, work / f"out-run-{k}"))
    print(f"{args.steps:,} steps, {args.repeats} repeats, medians (each repeat a fresh process):")
    for name, what in (("log", f"a robomaker log of {size:.0f} MB"), ("run", f"a run's gzipped simtrace, {gz:.0f} MB")):
        secs = statistics.median(s for s, _ in results[name])
        peak = statistics.median(m for _, m in results[name])
        print(f"  {what:42s} {secs:6.1f} s   peak RSS {peak:5.0f} MB")


if __name__ == "__main__":
    main()
