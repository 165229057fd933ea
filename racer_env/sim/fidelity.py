"""How closely the car model follows a real log: open-loop error from logged poses and commands (spec §3.6).

From a logged pose, the car is warmed with the logged commands of the steps before, given the speed measured
from the last two logged positions (× 15: the logged timestamps jitter), then fed the logged commands for one
second; the error is the distance from where it ends to the logged position one second later.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from racer_env.constants import STEP_HZ
from racer_env.sim.vehicle import Car, CarModel, body_origin

__all__ = ["open_loop_errors", "WARM_STEPS", "HORIZON_STEPS"]

WARM_STEPS = 8
"""Logged commands before the start that warm the actuators."""
HORIZON_STEPS = 15
"""Steps driven open loop: one second."""


def open_loop_errors(rows: Sequence[Any], model: CarModel, warm_steps: int = WARM_STEPS,
                     horizon_steps: int = HORIZON_STEPS) -> np.ndarray:
    """The open-loop position errors [m] of ``model`` at every window of a log that is wholly in one episode
    and ``in_progress``.

    Args:
        rows: SIM_TRACE rows (:class:`racer_env.env.simtrace.TraceRow` or anything with ``episode``,
            ``episode_status``, ``x``, ``y`` [m], ``yaw`` [deg], ``steer`` [deg] and ``throttle`` [m/s]).
        model: the car model to drive.
    """
    errors = []
    for k in range(warm_steps + 1, len(rows) - horizon_steps):
        window = rows[k - warm_steps - 1:k + horizon_steps + 1]
        if any(r.episode != rows[k].episode or r.episode_status != "in_progress" for r in window):
            continue
        prev, start, end = rows[k - 1], rows[k], rows[k + horizon_steps]
        before = body_origin(prev.x, prev.y, math.radians(prev.yaw))
        now = body_origin(start.x, start.y, math.radians(start.yaw))
        car = Car.at(start.x, start.y, start.yaw, speed=math.dist(before, now) * STEP_HZ,
                     commands=[(r.steer, r.throttle) for r in rows[k - warm_steps:k]], model=model)
        for r in rows[k:k + horizon_steps]:
            car.step(r.steer, r.throttle)
        errors.append(math.hypot(car.x - end.x, car.y - end.y))
    return np.array(errors)
