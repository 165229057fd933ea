"""How fast a camera-driven car learns to lap, with the defaults of ``python train.py --model-metadata camera.json``,
against the vector observation in the same run; and what a camera training costs in memory.

For each seed: train with the camera (model_metadata listing ``FRONT_FACING_CAMERA``, otherwise racer_env's
default action space; the default reward function) until a greedy evaluation first drives 3 of 3 laps back to
back without leaving the track, or --limit minutes; then the same with the vector. Reports the training wall
time to those laps (median over seeds), the steps it took, and the peak resident memory of each camera training
(each run in its own process, so the figure is that run's alone). With --layouts, the camera trains with each
network layout (``shared``: one extractor; ``aws``: AWS's two networks), and each layout's training steps a second
(steps over the learning loop's seconds, evaluations included) are given beside its time to laps.

    python benchmarks/learn_camera.py [--track reinvent_base] [--seeds 3] [--limit 30] [--layouts shared aws]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CAMERA_METADATA = {"action_space": {"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 0.5, "high": 4}},
                   "action_space_type": "continuous", "sensor": ["FRONT_FACING_CAMERA"],
                   "neural_network": "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW", "training_algorithm": "clipped_ppo",
                   "version": "5"}


def run_one(track: str, seed: int, observation: str, limit: float, work: Path, metadata: str,
            layout: str = "shared") -> dict:
    """One training in a fresh process: {seconds to 3 clean laps or None, steps, steps a second, peak RSS [MB]}."""
    out = work / f"{observation}-{layout}-{seed}"
    code = (
        "import json, resource, sys\n"
        "from racer_env.env.config import EnvConfig\n"
        "from racer_env.training.trainer import TrainConfig, train\n"
        f"env = EnvConfig.make(track={track!r}, model_metadata={metadata!r}, observation={observation!r})\n"
        f"res = train(TrainConfig(env=env, seed={seed}, minutes={limit}, quiet=True, eval_laps=0,\n"
        f"            until_laps=True, out={str(out)!r}, network_layout={layout!r}))\n"
        "steps = next((h['timesteps'] for h in res.history if h['eval_completed'] >= 3), None)\n"
        "print(json.dumps({'seconds': res.first_clean_laps_s, 'steps': steps, 'trained': res.timesteps,\n"
        "                  'steps_per_s': res.timesteps / res.seconds,\n"
        "                  'rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"training failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--track", default="reinvent_base")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--limit", type=float, default=30.0, help="give up after this many minutes of training")
    ap.add_argument("--skip-vector", action="store_true")
    ap.add_argument("--layouts", nargs="+", default=["shared"], choices=("shared", "aws"),
                    help="the camera network's layouts to train (default: shared, train.py's default)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        metadata = work / "camera.json"
        metadata.write_text(json.dumps(CAMERA_METADATA))
        results: dict[str, list[dict]] = {}
        for seed in range(args.seeds):
            cases = [("camera", layout) for layout in args.layouts] + ([] if args.skip_vector else [("vector", "")])
            for observation, layout in cases:
                r = run_one(args.track, seed, observation, args.limit, work, str(metadata), layout or "shared")
                name = f"camera ({layout})" if layout else observation
                results.setdefault(name, []).append(r)
                t = f"{r['seconds'] / 60:.1f} min ({r['steps']:,} steps)" if r["seconds"] else \
                    f"no 3 clean laps in {args.limit:g} min ({r['trained']:,} steps)"
                print(f"{args.track}, seed {seed}, {name}: {t}; {r['steps_per_s']:.0f} steps/s; "
                      f"peak RSS {r['rss_mb']:.0f} MB", flush=True)
    for observation, rs in results.items():
        done = [r["seconds"] for r in rs if r["seconds"]]
        median = statistics.median([r["seconds"] or math.inf for r in rs])  # a run that never lapped counts as last
        med = f"median {median / 60:.1f} min" if math.isfinite(median) else "median: not reached"
        print(f"{observation}: time to 3 clean laps {med} over {len(rs)} seeds ({len(done)} lapped); "
              f"{statistics.median(r['steps_per_s'] for r in rs):.0f} steps/s (median); "
              f"peak RSS up to {max(r['rss_mb'] for r in rs):.0f} MB")


if __name__ == "__main__":
    main()
