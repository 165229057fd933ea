"""The reward-hacking probes of ``racer check``: scripted drivers, honest and degenerate, compared per second.

Centre-line followers at each speed, then a zig-zag, border hugging, stopping,
driving backwards and circling in place. A degenerate driver that earns more
per second than the best finisher is a reward a policy can learn instead of racing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from racer_env.constants import MAX_SPEED_MPS, MAX_STEERING_DEG, MIN_SPEED_MPS, STEP_HZ
from racer_env.env.actions import ActionSpec
from racer_env.env.environment import RacerEnv
from racer_env.env.rewards import RewardFunction
from racer_env.env.race import TIME_TRIAL, RaceSettings
from racer_env.sim.drivers import Dodger, LineFollower, PurePursuit, Rammer
from racer_env.sim.raceline import RacingLine
from racer_env.sim.track import Track
from racer_env.tools.check.battery import Sink, action_grid, pose

__all__ = ["Probe", "probes", "hacking_warnings", "probe_speeds"]


@dataclass
class Probe:
    name: str
    degenerate: bool
    status: str
    seconds: float
    reward: float
    progress: float

    @property
    def per_second(self) -> float:
        return self.reward / self.seconds if self.seconds > 0 else 0.0


def probe_speeds(actions: ActionSpec) -> list[float]:
    """The speeds [m/s] the probes and pictures try: each speed the actions command (clipped as when driving),
    or the slowest, middle and fastest when there are more than four."""
    speeds = sorted({min(max(v, MIN_SPEED_MPS), MAX_SPEED_MPS) for _, v in action_grid(actions)})
    return [speeds[0], speeds[len(speeds) // 2], speeds[-1]] if len(speeds) > 4 else speeds


def _drive(env: RacerEnv, controls: Callable[[int], tuple[float, float]],
           start: tuple[float, float, float] | None = None, seed: int = 0) -> tuple[str, float, float]:
    options = {"pose": start} if start is not None else None
    env.reset(seed=seed, options=options)
    total, k = 0.0, 0
    while True:
        _, r, te, tr, info = env.step(env.actions.to_action(*controls(k)))
        total += r
        k += 1
        if te or tr:
            return info["episode_status"], total, info["progress"]


def probes(reward: str | Path, track: Track, actions: ActionSpec, max_seconds: float = 60.0,
           line: RacingLine | None = None, race: RaceSettings = TIME_TRIAL) -> list[Probe]:
    """Scripted drivers with the reward function: centre-line followers at each speed and, given a racing line,
    a driver that follows it at its planned speeds; then degenerate ones. In a race with objects the honest
    drivers dodge them (the lane away from the next object) and a degenerate one rams them."""
    speeds = probe_speeds(actions)
    slow, mid = speeds[0], speeds[len(speeds) // 2]
    max_steer = max(abs(s) for s, _ in action_grid(actions)) or MAX_STEERING_DEG
    steps = int(max_seconds * STEP_HZ)
    out: list[Probe] = []

    def env() -> RacerEnv:
        return RacerEnv(track=track, reward_function=RewardFunction(reward, stdout=Sink()), model_metadata=actions,
                        mode="eval", max_episode_steps=steps, race=race)

    def add(name: str, degenerate: bool, e: RacerEnv, controls, start=None, attempts: int = 1) -> None:
        """Drive one episode; an honest driver among random objects gets ``attempts`` layouts to finish one."""
        for seed in range(attempts):
            status, total, progress = _drive(e, controls, start, seed)
            if status == "lap_complete":
                break
        out.append(Probe(name, degenerate, status, e.episode.steps / STEP_HZ, total, progress))

    if race.has_objects:
        for v in speeds:
            e = env()
            dodger = Dodger(e.track, v)
            add(f"dodging the objects at {v:g} m/s", False, e, lambda k, d=dodger, e=e: d.controls(e.car, e.traffic.now),
                attempts=5)
        e = env()
        rammer = Rammer(e.track, mid)
        add(f"ramming the next object at {mid:g} m/s", True, e, lambda k: rammer.controls(e.car, e.traffic.now))
    for v in speeds if not race.has_objects else ():
        e = env()
        pp = PurePursuit(e.track, v)
        add(f"centre line at {v:g} m/s", False, e, lambda k, pp=pp, e=e: pp.controls(e.car))
    if line is not None and not race.has_objects:
        e = env()
        follower = LineFollower(line, e.car_model)
        add(f"racing line at its planned speeds ({line.lap_time:.2f} s a lap)", False, e,
            lambda k: follower.controls(e.car))
    e = env()
    pp = PurePursuit(e.track, mid)
    add(f"zig-zag at {mid:g} m/s", True, e,
        lambda k: (pp.controls(e.car)[0] + (15.0 if (k // 6) % 2 else -15.0), mid))
    e = env()
    hug = PurePursuit(e.track, slow, lateral_fraction=0.65)
    add(f"hugging the left border at {slow:g} m/s", True, e, lambda k: hug.controls(e.car))
    e = env()
    pp = PurePursuit(e.track, slow)
    add(f"stopping (slowest action, {slow:g} m/s)", True, e, lambda k: (pp.controls(e.car)[0], 0.0))
    e = env()
    x, y, yaw = pose(track, 0.5, 0.0, 180.0)
    back = PurePursuit(track.reversed(), mid)
    add(f"driving backwards round the track at {mid:g} m/s", True, e, lambda k: back.controls(e.car),
        (x, y, math.degrees(yaw)))
    e = env()
    add(f"circling in place at {slow:g} m/s", True, e, lambda k: (max_steer, slow))
    return out


def hacking_warnings(results: list[Probe], margin: float = 0.02) -> list[str]:
    """Warnings for degenerate drivers that earn more per second than the best centre-line finisher."""
    finishers = [p for p in results if not p.degenerate and p.status == "lap_complete"]
    if not finishers:
        return ["no honest driver (centre line, racing line, dodging) finished a lap: the probes cannot compare"]
    best = max(finishers, key=lambda p: p.per_second)
    out = []
    for p in results:
        if p.degenerate and p.per_second > best.per_second * (1 + margin) + 1e-9:
            out.append(f"{p.name} earns {p.per_second:.3g} reward/s, more than {best.name} "
                       f"({best.per_second:.3g}/s): a policy can learn this instead of racing")
    return out
