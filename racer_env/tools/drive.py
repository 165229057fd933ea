"""``racer drive``: one lap by a scripted pure-pursuit driver, printing what the reward function sees."""

from __future__ import annotations

from rich.console import Console

from racer_env.env.environment import RacerEnv
from racer_env.sim.drivers import PurePursuit
from racer_env.viewing.tables import KEY, make_table

__all__ = ["drive"]


def drive(track: str, reward: str, speed: float = 1.5, reverse: bool = False, console: Console | None = None) -> dict:
    """Drive one evaluation lap with :class:`PurePursuit` at ``speed`` [m/s]; print a row every second.

    Returns the final ``info`` dict.
    """
    console = console or Console()
    env = RacerEnv(track=track, reward_function=reward, mode="eval", reverse=reverse)
    env.reset(seed=0)
    driver = PurePursuit(env.track, speed)
    console.print(f"[bold]{env.track!r}[/]  reward: {env.reward_function.label}  driver: pure pursuit at {speed} m/s")
    table = make_table(None, [(col, KEY) for col in ("time s", "progress %", "x m", "y m", "heading °", "steer °",
                                                      "on track", "reward")])
    total = 0.0
    while True:
        steering, spd = driver.controls(env.car)
        _, r, terminated, truncated, info = env.step(env.actions.to_action(steering, spd))
        total += r
        p = info["params"]
        if int(p["steps"]) % 15 == 0 or terminated or truncated:
            table.add_row(f"{info['lap_time']:.1f}", f"{p['progress']:.1f}", f"{p['x']:.2f}", f"{p['y']:.2f}",
                          f"{p['heading']:.0f}", f"{p['steering_angle']:.1f}", str(p["all_wheels_on_track"]),
                          f"{r:.3f}")
        if terminated or truncated:
            break
    console.print(table)
    console.print(f"[bold]{info['episode_status']}[/] after {info['lap_time']:.2f} s, "
                  f"progress {info['progress']:.1f} %, total reward {total:.2f}")
    return info
