"""Frames per second of RacerEnv's rgb_array rendering at 640x480, beside the bare env step rate.

The car laps with a scripted driver; each figure is the median of --repeats runs
of --frames frames (step + render), with the trail growing as in a real lap.

    python benchmarks/render_fps.py [--frames 1500] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from racer_env.sim.drivers import PurePursuit  # noqa: E402
from racer_env.env import RacerEnv  # noqa: E402


def rate(render: bool, frames: int) -> float:
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=1500)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    with_render, bare = [], []
    for _ in range(args.repeats):
        with_render.append(rate(True, args.frames))
        bare.append(rate(False, args.frames))
    r, b = statistics.median(with_render), statistics.median(bare)
    print(f"640x480 rgb_array, {args.frames} frames x {args.repeats} repeats, median:")
    print(f"  step + render  {r:9,.0f} frames/s")
    print(f"  step only      {b:9,.0f} steps/s  (rendering costs {1 / r - 1 / b:.2e} s a frame)")


if __name__ == "__main__":
    main()
