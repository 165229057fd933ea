"""Disk written per million training steps: the trace files of a run (simtrace CSVs and logs).

Trains --steps steps with the defaults, then sizes the run's training-simtrace/ and logs/ folders and scales to a
million steps; the same with --sim-trace-log (the robomaker-style log too). Beside them, what
deepracer-for-cloud would write for the same rows: the simulator writes each CSV field with ``str()``, at full
precision (spec §7.1). With ``--baseline REV`` the same training runs on another commit, in a git worktree, in
the same benchmark run.

    python benchmarks/disk.py [--steps 200000] [--baseline REV]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from baseline import baseline_tree

REPO = Path(__file__).resolve().parent.parent


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def trace_mb_per_million(source: Path, steps: int, run: Path, extra: list[str]) -> tuple[float, float]:
    """(MB of trace files per million steps, MB of the whole run directory per million steps)."""
    proc = subprocess.run([sys.executable, str(source / "train.py"), "--timesteps", str(steps), "--out", str(run),
                           "--quiet", "--eval-laps", "0", *extra], capture_output=True, text=True, cwd=source,
                          env={**os.environ, "PYTHONPATH": str(source)})
    if proc.returncode != 0:
        raise SystemExit(f"training failed in {source}:\n{proc.stderr[-2000:]}")
    trace = folder_mb(run / "training-simtrace") + folder_mb(run / "logs")
    scale = 1e6 / steps
    return trace * scale, folder_mb(run) * scale


def drfc_mb_per_million(run: Path) -> float:
    """MB per million steps of the run's simtrace rows written as the simulator writes them (``str()`` of each
    value: full-precision floats), for the same steps."""
    sys.path.insert(0, str(REPO))
    from racer_env.env.logreader import read_sim_trace

    rows = read_sim_trace(run).rows
    size = 0
    for r in rows:
        x, y = r.x + 1e-9 * (r.steps % 7), r.y  # the logged values carry 15 significant digits, not our 4 decimals
        fields = (r.episode, r.steps, x, y, r.yaw + 1e-9, r.steer + 1e-9, r.throttle + 1e-9, r.action,
                  r.reward + 1e-9, r.done, r.all_wheels_on_track, r.progress + 1e-9, r.closest_waypoint, r.track_len,
                  r.tstamp + 1e-9, r.episode_status, r.pause_duration, r.obstacle_crash_counter, r.wall_clock + 1e-6)
        size += len(",".join(str(v) for v in fields)) + 1
    return size / 1e6 * 1e6 / len(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200_000)
    ap.add_argument("--baseline", help="a git revision to measure beside this tree")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cases = [("this tree", REPO, []), ("this tree, --sim-trace-log", REPO, ["--sim-trace-log"])]
        with baseline_tree(args.baseline, work) as tree:
            if tree is not None:
                cases.append((f"baseline {args.baseline}", tree, []))
            for k, (name, source, extra) in enumerate(cases):
                trace, whole = trace_mb_per_million(source, args.steps, work / f"run{k}", extra)
                print(f"{name}: trace files {trace:.1f} MB per million steps (whole run directory {whole:.1f} MB; "
                      f"measured over {args.steps:,} steps)", flush=True)
                if k == 0:
                    print(f"  deepracer-for-cloud, the same rows at full precision: "
                          f"{drfc_mb_per_million(work / 'run0'):.1f} MB per million steps", flush=True)


if __name__ == "__main__":
    main()
