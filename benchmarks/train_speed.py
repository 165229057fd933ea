"""Training steps per second of ``python train.py`` with its defaults, this tree against a baseline commit in the
same run: on the vector (the default model_metadata) and on the camera (``DEEP_CONVOLUTIONAL_NETWORK_SHALLOW``).

Each repeat of each case trains a fresh run in its own process, this tree and the baseline interleaved so that
machine noise hits both alike; a run's figure is its steps over its training seconds (``run.json``'s
``timesteps`` and ``train_seconds``: the learning loop, without the start-up). Medians over --repeats, and this
tree's ratio to the baseline.

    python benchmarks/train_speed.py [--baseline 445b62a] [--repeats 3] [--vector-steps 100000] [--camera-steps 4096]
        [--skip-vector | --skip-camera]

A baseline with numba kernels compiles them in its own tree at each run (numba caches beside the source), so
measure such a baseline with enough steps that the compile does not weigh, or against round 3 (445b62a), which
has none.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from baseline import baseline_tree

REPO = Path(__file__).resolve().parent.parent
CAMERA = {"action_space": {"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 0.5, "high": 4}},
          "action_space_type": "continuous", "sensor": ["FRONT_FACING_CAMERA"],
          "neural_network": "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW", "training_algorithm": "clipped_ppo", "version": "5"}


def steps_per_second(source: Path, out: Path, steps: int, extra: list[str]) -> float:
    proc = subprocess.run([sys.executable, str(source / "train.py"), "--timesteps", str(steps), "--out", str(out),
                           "--quiet", "--eval-laps", "0", *extra], capture_output=True, text=True, cwd=source,
                          env={**os.environ, "PYTHONPATH": str(source)})
    if proc.returncode != 0:
        raise SystemExit(f"training failed in {source}:\n{proc.stderr[-3000:]}")
    info = json.loads((out / "run.json").read_text())
    return info["timesteps"] / info["train_seconds"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default="445b62a", help="the commit to measure against (default: round 3's end)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--vector-steps", type=int, default=100_000)
    ap.add_argument("--camera-steps", type=int, default=4096)
    ap.add_argument("--skip-camera", action="store_true")
    ap.add_argument("--skip-vector", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        camera = work / "camera.json"
        camera.write_text(json.dumps(CAMERA))
        cases = [] if args.skip_vector else [("vector", args.vector_steps, [])]
        if not args.skip_camera:
            cases.append(("camera", args.camera_steps, ["--model-metadata", str(camera)]))
        results: dict[tuple[str, str], list[float]] = {}
        with baseline_tree(args.baseline, work) as tree:
            assert tree is not None
            trees = [("this tree", REPO), (f"baseline {args.baseline}", tree)]
            for rep in range(args.repeats):
                for case, steps, extra in cases:
                    for name, source in trees:
                        out = work / f"{case}-{name.split()[0]}-{rep}"
                        value = steps_per_second(source, out, steps, extra)
                        results.setdefault((case, name), []).append(value)
                        print(f"repeat {rep}: {case}, {name}: {value:,.0f} steps/s", flush=True)
        print(f"\nmedians over {args.repeats} repeats (steps/s of the learning loop):")
        for case, _, _ in cases:
            this = statistics.median(results[(case, "this tree")])
            base = statistics.median(results[(case, f"baseline {args.baseline}")])
            print(f"  {case}: this tree {this:,.0f}, baseline {base:,.0f}: {this / base:.2f}x")


if __name__ == "__main__":
    main()
