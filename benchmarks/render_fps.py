"""Frames per second of RacerEnv's rgb_array rendering at 640x480, beside the bare env step rate; and the same
with another build of pygame, in the same run.

The car laps with a scripted driver; each figure is the median of --repeats runs of --frames frames (step +
render), with the trail growing as in a real lap. With ``--pygame pygame-ce==2.5.8`` (any pip requirement for a
module named ``pygame``), that package is installed into a folder of its own (``pip install --target``, cached
under $RACER_CACHE) and every repeat is measured twice, in fresh processes, once with the venv's pygame and once
with that one first on the path, interleaved so that machine noise hits both alike.

    python benchmarks/render_fps.py [--frames 1500] [--repeats 5] [--pygame pygame-ce==2.5.8]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


def rate(render: bool, frames: int) -> float:
    from racer_env.env import RacerEnv
    from racer_env.sim.drivers import PurePursuit

    env = RacerEnv(reward_function=lambda p: 1.0, mode="eval", render_mode="rgb_array" if render else None)
    env.reset(seed=0)
    driver = PurePursuit(env.track, 2.0)
    if render:
        env.render()  # build the renderer (track surface) outside the timing
    t0 = time.perf_counter()
    for _ in range(frames):
        _, _, te, tr, _ = env.step(env.actions.to_action(*driver.controls(env.car)))
        if render:
            env.render()
        if te or tr:
            env.reset()
            driver = PurePursuit(env.track, 2.0)
    return frames / (time.perf_counter() - t0)


def worker(frames: int) -> None:
    import pygame

    print(json.dumps({"pygame": f"{pygame.__file__.split('/site-packages/')[-1].split('/')[0]} {pygame.version.ver}"
                      + (" (ce)" if getattr(pygame, "IS_CE", False) else ""),
                      "render": rate(True, frames), "bare": rate(False, frames)}))


def measure(frames: int, extra_path: Path | None) -> dict:
    env = dict(os.environ)
    if extra_path is not None:
        env["PYTHONPATH"] = str(extra_path) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, __file__, "--worker", "--frames", str(frames)], capture_output=True,
                          text=True, env=env, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark worker failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def install(requirement: str) -> Path:
    folder = Path(os.environ.get("RACER_CACHE", Path.home() / ".cache" / "racer_env")) / "bench" / requirement
    if not (folder / "pygame").exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(folder),
                        requirement], check=True)
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=1500)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--pygame", metavar="REQUIREMENT", help="another build of pygame to measure beside the venv's")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.frames)
        return
    builds: dict[str, Path | None] = {"venv": None}
    if args.pygame:
        builds[args.pygame] = install(args.pygame)
    runs: dict[str, list[dict]] = {name: [] for name in builds}
    for _ in range(args.repeats):
        for name, path in builds.items():
            runs[name].append(measure(args.frames, path))
    print(f"640x480 rgb_array, {args.frames} frames x {args.repeats} repeats, median:")
    medians = {}
    for name, rs in runs.items():
        r, b = statistics.median(x["render"] for x in rs), statistics.median(x["bare"] for x in rs)
        medians[name] = r
        print(f"  {rs[0]['pygame']:28s} step + render {r:8,.0f} frames/s; step only {b:8,.0f} steps/s "
              f"(rendering costs {1e3 * (1 / r - 1 / b):.2f} ms a frame)")
    if len(medians) == 2:
        (a, ra), (b, rb) = medians.items()
        print(f"  {a} / {b}: {ra / rb:.3f}x the frames/s")


if __name__ == "__main__":
    main()
