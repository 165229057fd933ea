"""What the camera costs: µs per frame and env steps/s with the camera against the vector, on the same laps.

A pure-pursuit driver laps the track once with its actions recorded; then, repeat after repeat, the same actions
are replayed (a reset where each recorded episode ended) in a time-trial RacerEnv observing the vector, in one
observing the camera (grey, the simulator's), and the camera's frames alone are rendered at the recorded poses
(grey, and RGB). Each figure is the median of --repeats; the cases interleave within each repeat so that machine
noise hits them alike.

    python benchmarks/camera.py [--track reinvent_base] [--steps 6000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import time


import racer_env
from racer_env.sim.camera import Camera
from racer_env.sim.drivers import PurePursuit
from racer_env.sim.track import Track

CAMERA_METADATA = {"action_space": {"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 0.5, "high": 4}},
                   "action_space_type": "continuous", "sensor": ["FRONT_FACING_CAMERA"], "version": "5"}


def record_laps(track: Track, steps: int) -> tuple[list, list, list]:
    """Actions, episode ends and car poses (origin x, y, yaw) of a pure-pursuit driver at 2 m/s."""
    env = racer_env.RacerEnv(track=track, reward_function=lambda p: 1.0, mode="eval")
    env.reset(seed=0)
    driver = PurePursuit(env.track, 2.0)
    actions, ends, poses = [], [], []
    for _ in range(steps):
        a = env.actions.to_action(*driver.controls(env.car))
        _, _, te, tr, _ = env.step(a)
        actions.append(a)
        ends.append(te or tr)
        poses.append((env.car.bx, env.car.by, env.car.yaw))
        if te or tr:
            env.reset(seed=0)
            driver = PurePursuit(env.track, 2.0)
    return actions, ends, poses


def replay_us(env, actions: list, ends: list) -> float:
    """µs per step replaying the recorded actions."""
    env.reset(seed=0)
    t0 = time.perf_counter()
    for a, end in zip(actions, ends):
        env.step(a)
        if end:
            env.reset(seed=0)
    return (time.perf_counter() - t0) / len(actions) * 1e6


def frames_us(camera: Camera, poses: list) -> float:
    t0 = time.perf_counter()
    for x, y, yaw in poses:
        camera.frame(x, y, yaw)
    return (time.perf_counter() - t0) / len(poses) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--track", default="reinvent_base", help="a track name (on the search path) or file")
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()

    track = Track.load(args.track)
    actions, ends, poses = record_laps(track, args.steps)
    vector = racer_env.RacerEnv(track=track, reward_function=lambda p: 1.0, mode="eval")
    camera_env = racer_env.RacerEnv(track=track, reward_function=lambda p: 1.0, mode="eval",
                                    model_metadata=racer_env.ActionSpec.from_dict(CAMERA_METADATA))
    grey, rgb = Camera(track), Camera(track, grey=False)
    t0 = time.perf_counter()
    grey.scenery, rgb.scenery  # built once per track and process
    build_s = time.perf_counter() - t0
    camera_env.reset(seed=0)
    cases: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        for name, fn in (("vector step", lambda: replay_us(vector, actions, ends)),
                         ("camera step", lambda: replay_us(camera_env, actions, ends)),
                         ("grey frame", lambda: frames_us(grey, poses)),
                         ("RGB frame", lambda: frames_us(rgb, poses))):
            cases.setdefault(name, []).append(fn())
    med = {k: statistics.median(v) for k, v in cases.items()}
    print(f"track {track.name}, {args.steps} steps of pure-pursuit laps x {args.repeats} repeats, medians "
          f"(the track's texture built in {build_s:.1f} s, once):")
    for name, us in med.items():
        rate = f"{1e6 / us:10,.0f} /s" if "step" in name else ""
        print(f"  {name:12s} {us:8.1f} µs  {rate}")
    print(f"  a grey frame costs {med['grey frame'] / med['vector step']:.2f}x a vector step "
          f"(RGB {med['RGB frame'] / med['vector step']:.2f}x); a camera step {med['camera step'] / med['vector step']:.2f}x "
          f"a vector step: {1e6 / med['camera step']:,.0f} against {1e6 / med['vector step']:,.0f} steps/s")


if __name__ == "__main__":
    main()
