"""The car's 60 Hz controller between the simulator's steps: commands that change at any tick.

The simulator steps at 15 Hz, and :func:`racer_env.sim.kernels.car_step` applies one command for a step's four
ticks of the car's 60 Hz controller (``CONTROL_HZ``, ``TICKS_PER_STEP``). A car that runs its model at its own
rate sends a command every ``n`` ticks, which may fall inside a step. :class:`TickControl` keeps what the
dynamics need at the resolution of a tick (the command of each past tick, the speed of each of the last four)
and moves a car any number of ticks (:func:`racer_env.sim.kernels.car_ticks`); a command held for whole steps
moves it exactly as ``car_step`` does.

It works on a fleet's arrays (a car's state row and its step histories, :class:`racer_env.sim.vehicle.Car`):
:meth:`TickControl.load` reads a car's past from its step histories after it was placed, :meth:`TickControl.store`
writes back the step histories that the vector observation and the drawings read (the newest command, and the
one a step, four ticks, before it).
"""

from __future__ import annotations

import numpy as np

from racer_env.constants import TICKS_PER_STEP
from racer_env.sim.layout import C_SPEED
from racer_env.sim.vehicle import CarModel, steer_history

__all__ = ["TickControl"]


class TickControl:
    """The controllers of ``n`` cars of one :class:`~racer_env.sim.vehicle.CarModel`, tick by tick.

    Attributes:
        steer: the steering command [rad] sent at each past tick, newest first, one row a car.
        speed: the speed command [m/s] sent at each past tick, newest first.
        v: the speed [m/s] at each of the last four ticks, newest first.
    """

    def __init__(self, model: CarModel, n: int) -> None:
        self.model = model
        self._steps = steer_history(model), len(model.speed_weights)  # the step histories' lengths
        steps_s, steps_v = self._steps
        self.steer = np.zeros((n, max(model.steer_dead_ticks + 1, TICKS_PER_STEP * (steps_s - 1) + 1)))
        self.speed = np.zeros((n, TICKS_PER_STEP * (steps_v - 1) + 1))
        self.v = np.zeros((n, TICKS_PER_STEP))

    def load(self, k: int, state: np.ndarray, steer_hist: np.ndarray, speed_hist: np.ndarray) -> None:
        """Car ``k``'s past ticks from its step histories, each step's command held for its four ticks and its
        speed for each of them: what a car just placed (:meth:`racer_env.sim.vehicle.Car.place`) has behind it."""
        steps_s, steps_v = self._steps
        for m in range(self.steer.shape[1]):  # tick m + 1 before now was in the step m // 4 back
            self.steer[k, m] = steer_hist[k, min(m // TICKS_PER_STEP, steps_s - 1)]
        for m in range(self.speed.shape[1]):
            self.speed[k, m] = speed_hist[k, min(m // TICKS_PER_STEP, steps_v - 1)]
        self.v[k, :] = state[k, C_SPEED]

    def advance(self, state: np.ndarray, k: int, ticks: int, steering: float, speed: float, clip: bool,
                start: tuple[float, float]) -> None:
        """Move car ``k`` (row ``k`` of ``state``) ``ticks`` ticks holding the command (steering [deg], speed
        [m/s]), clipped as the simulator clips it unless ``clip`` is False; ``start`` is its params point at the
        step's start [m], from which its ``moved`` is measured."""
        import racer_env.sim.kernels as kernels

        kernels.car_ticks(state, self.steer, self.speed, self.v, k, int(ticks), float(steering), float(speed),
                          clip, float(start[0]), float(start[1]), *self.model.kernel_args)

    def store(self, k: int, steer_hist: np.ndarray, speed_hist: np.ndarray) -> None:
        """Car ``k``'s step histories from its ticks: the newest command, and those sent one, two, ... steps
        (4, 8, ... ticks) before it, as ``car_step`` leaves them after a step."""
        steps_s, steps_v = self._steps
        steer_hist[k, :] = self.steer[k, 0:TICKS_PER_STEP * (steps_s - 1) + 1:TICKS_PER_STEP]
        speed_hist[k, :] = self.speed[k, 0:TICKS_PER_STEP * (steps_v - 1) + 1:TICKS_PER_STEP]
