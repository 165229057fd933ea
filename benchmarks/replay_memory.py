"""Peak memory of ``racer replay LOG --record`` on a long log, to GIF and to MP4.

The log is made here: --steps steps of scripted laps on harbour_loop, written as a robomaker-style
SIM_TRACE log. Each recording runs in a fresh process; the figures are the peak resident memory of that
process and, separately, of the ffmpeg processes it starts. With ``--baseline REV`` the same is measured on
another commit (in a git worktree) for --baseline-steps steps (an old GIF writer holds every frame in memory,
so a full-length run there would take gigabytes).

    python benchmarks/replay_memory.py [--steps 10000] [--baseline REV --baseline-steps 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from baseline import baseline_tree

REPO = Path(__file__).resolve().parent.parent


def make_log(path: Path, steps: int) -> None:
    from racer_env import RacerEnv
    from racer_env.env.simtrace import TraceWriter
    from racer_env.sim.drivers import PurePursuit

    writer = TraceWriter(path.parent / "csv", path, 20, compress=False)
    env = RacerEnv(reward_function=lambda p: 1.0, mode="train", record_trace=True)
    env.reset(seed=0)
    written, k = 0, 0
    while written < steps:
        driver = PurePursuit(env.track, (1.0, 2.0, 3.0)[k % 3])
        while True:
            _, _, te, tr, info = env.step(env.actions.to_action(*driver.controls(env.car)))
            if te or tr:
                break
        rows = info["trace"][: steps - written]
        writer.write_episode(rows)
        written += len(rows)
        k += 1
        env.reset()
    writer.close()


def child(argv: list[str]) -> None:
    """Run the racer command in this process, then print this process's and its children's peak RSS [MB]."""
    from racer_env.cli import main

    code = main(argv)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"code": code, "racer_mb": own, "ffmpeg_mb": kids}))


def measure(source: Path, log: Path, out: Path) -> dict:
    argv = ["replay", str(log), "--track", "harbour_loop", "--record", str(out), "--speed", "max"]
    proc = subprocess.run([sys.executable, __file__, "--child", *argv], capture_output=True, text=True, cwd=source,
                          env={**os.environ, "PYTHONPATH": str(source), "SDL_VIDEODRIVER": "dummy"})
    if proc.returncode != 0:
        raise SystemExit(f"replay failed in {source}:\n{proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["file_mb"] = out.stat().st_size / 1e6
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--baseline", help="a git revision to measure beside this tree")
    ap.add_argument("--baseline-steps", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        runs = [("this tree", REPO, args.steps)]
        with baseline_tree(args.baseline, work) as tree:
            if tree is not None:
                runs.append((f"baseline {args.baseline}", tree, args.baseline_steps))
            for name, source, steps in runs:
                log = work / f"{steps}" / "training.log"
                if not log.exists():
                    log.parent.mkdir(exist_ok=True)
                    make_log(log, steps)
                for suffix in (".gif", ".mp4"):
                    r = measure(source, log, work / f"{name.split()[0]}-{steps}{suffix}")
                    print(f"{name}: {steps:,}-step log to {suffix[1:].upper()}: racer process peak "
                          f"{r['racer_mb']:.0f} MB, ffmpeg peak {r['ffmpeg_mb']:.0f} MB, file {r['file_mb']:.1f} MB",
                          flush=True)


if __name__ == "__main__":
    main()
