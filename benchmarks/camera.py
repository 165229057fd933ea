"""What the camera costs: µs per frame and env steps/s with the camera against the vector, on the same laps; and
what randomising the camera (``train --randomize``) adds to a training fleet's step.

A pure-pursuit driver laps the track once with its actions recorded; then, repeat after repeat, the same actions
are replayed (a reset where each recorded episode ended) in a time-trial RacerEnv observing the vector, in one
observing the camera (grey, the simulator's), and the camera's frames alone are rendered at the recorded poses
(grey, and RGB). Each figure is the median of --repeats; the cases interleave within each repeat so that machine
noise hits them alike.

The fleet: 32 cars in training mode (round-robin starts), each driven by pure pursuit at 2 m/s, a third of them
weaving off the track (so episodes end and restart, as in training); their actions are recorded once and replayed
into a fleet on the plain render and one that randomises (the frames do not change the cars' paths, so both
fleets drive the same episodes). Its mounts are made before the timing (81 a camera, 3 ms each, once a process).

    python benchmarks/camera.py [--track reinvent_base] [--steps 6000] [--repeats 7] [--fleet-steps 300]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import racer_env
from racer_env.env.config import EnvConfig
from racer_env.env.fleet import Fleet
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


def record_fleet(config: EnvConfig, n: int, steps: int) -> tuple[list[np.ndarray], int]:
    """The actions of ``n`` cars in training mode, pure pursuit at 2 m/s, every third car weaving off the track
    after a while: ``steps`` arrays of (n, 2), and how many episodes ended."""
    fleet = Fleet(config, n, mode="train")
    for k in range(n):
        fleet.seed(k, k)
        fleet.reset(k, k)
    drivers = [PurePursuit(config.track, 2.0) for _ in range(n)]
    out, ends = [], 0
    for t in range(steps):
        a = np.array([config.actions.to_action(*drivers[k].controls(fleet.car(k))) for k in range(n)])
        a[::3, 0] += 0.6 * np.sin(t / 9.0)  # weaving: some of these cars leave the track
        a = np.clip(a, -1.0, 1.0)
        out.append(a)
        _, terminated, truncated, _ = fleet.step(a)
        for k in range(n):
            if terminated[k] or truncated[k]:
                fleet.reset(k)
                ends += 1
    return out, ends


def fleet_us(fleet: Fleet, actions: list[np.ndarray]) -> float:
    """µs per car-step replaying ``actions`` from the seeded start."""
    for k in range(fleet.n):
        fleet.seed(k, k)
        fleet.reset(k, k)
    t0 = time.perf_counter()
    for a in actions:
        _, terminated, truncated, _ = fleet.step(a)
        for k in range(fleet.n):
            if terminated[k] or truncated[k]:
                fleet.reset(k)
    return (time.perf_counter() - t0) / len(actions) / fleet.n * 1e6


def fleet_cost(track: Track, steps: int, repeats: int, n: int = 32) -> None:
    """A training fleet's camera step on the plain render against one that randomises (module docstring)."""
    meta = racer_env.ActionSpec.from_dict(CAMERA_METADATA)
    plain = EnvConfig.make(track=track, reward=lambda p: 1.0, model_metadata=meta)
    actions, ends = record_fleet(plain, n, steps)
    fleets = {"plain": Fleet(plain, n, mode="train"), "randomised": Fleet(plain.replace(randomize=True), n, mode="train")}
    looks = fleets["randomised"].looks
    assert looks is not None
    t0 = time.perf_counter()
    for cam in looks.observer.cameras:  # every mount --randomize draws, made once a process
        heights = {round(float(h), 6) for h in np.arange(-4, 5) * 0.0025}
        for dh in heights:
            for dp in np.arange(-4, 5) * 0.00873:
                cam.mount(cam.mount().height_m + dh, cam.mount().pitch_rad + dp)
    mounts_s = time.perf_counter() - t0
    cases: dict[str, list[float]] = {}
    for _ in range(repeats):
        for name, fleet in fleets.items():
            cases.setdefault(name, []).append(fleet_us(fleet, actions))
    med = {k: statistics.median(v) for k, v in cases.items()}
    print(f"fleet of {n} cars on {track.name}, {steps} steps x {repeats} repeats, medians (81 mounts made in "
          f"{mounts_s:.1f} s, once):")
    for name, us in med.items():
        print(f"  {name:10s} camera step {us:8.1f} µs a car  {1e6 / us:10,.0f} car-steps/s")
    print(f"  a randomised camera step costs {med['randomised'] / med['plain']:.2f}x a plain one (episodes of "
          f"{steps * n / max(ends, 1):.0f} steps on average: a look is drawn at each start)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--track", default="reinvent_base", help="a track name (on the search path) or file")
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--fleet-steps", type=int, default=300, help="steps of the 32-car fleet (0: leave it out)")
    ap.add_argument("--fleet-only", action="store_true", help="only the fleet's plain and randomised steps")
    args = ap.parse_args()

    track = Track.load(args.track)
    if args.fleet_steps:
        fleet_cost(track, args.fleet_steps, args.repeats)
    if args.fleet_only:
        return
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

