"""The car's action rate: how often its computer runs the model, each action held until the next.

The simulator asks the policy once a step, 15 times a second (``STEP_HZ``); a DeepRacer car runs its model at
its own rate, about 10 to 30 times a second, and its 60 Hz controller (``CONTROL_HZ``) applies the newest action
at each tick. :class:`ActionRate` is such a rate, quantised to the controller's ticks: 60 Hz / n for a whole n
(60, 30, 20, 15, 12, 10, 8.57, 7.5, 6.67, 6, 5, ... Hz); 15 Hz is the simulator's step. :class:`HeldPolicy` runs a
policy on a :class:`~racer_env.env.environment.RacerEnv` at that rate: the env still steps, and judges, at 15 Hz,
while its car takes a new action every n ticks, from the observation at that tick, and holds it
(:meth:`racer_env.env.fleet.Fleet.hold_actions`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

from racer_env.constants import ACTION_HZ_TOLERANCE, CONTROL_HZ, STEP_HZ, TICKS_PER_STEP
from racer_env.errors import ActionRateError

__all__ = ["ActionRate", "HeldPolicy", "EXAMPLE_RATES"]

EXAMPLE_RATES = "60, 30, 20, 15, 12, 10, 7.5, 6, 5, ..."
"""Some rates a car can run at: 60 Hz divided by 1, 2, 3, 4, 5, 6, 8, 10, 12, ..."""


@dataclass(frozen=True)
class ActionRate:
    """A car's action rate: a new action every ``ticks`` ticks of its 60 Hz controller, held in between.

    Examples:
        >>> ActionRate.from_hz(10).ticks, ActionRate.from_hz(8.57).ticks, ActionRate.from_hz(15) == ActionRate.SIMULATOR
        (6, 7, True)
        >>> ActionRate.from_hz(20).describe()
        '20 Hz: each action held 3 ticks, 0.050 s'
    """

    ticks: int = TICKS_PER_STEP

    SIMULATOR: ClassVar["ActionRate"]
    """Once a step, 15 Hz: the simulator's rate."""

    def __post_init__(self) -> None:
        if not isinstance(self.ticks, int) or self.ticks < 1:
            raise ActionRateError(f"ticks: expected a whole number >= 1, got {self.ticks!r}")

    @property
    def hz(self) -> float:
        """The rate [Hz]: 60 / ticks."""
        return CONTROL_HZ / self.ticks

    @property
    def seconds(self) -> float:
        """How long each action is held [s]."""
        return self.ticks / CONTROL_HZ

    @classmethod
    def from_hz(cls, hz: float) -> "ActionRate":
        """The rate of ``hz`` [Hz], which must be 60 Hz divided by a whole number (to within
        ``ACTION_HZ_TOLERANCE``: 8.57 is 60/7).

        Raises:
            ActionRateError: saying what was expected (one line).
        """
        if not isinstance(hz, (int, float)) or not math.isfinite(hz) or hz <= 0:
            raise ActionRateError(f"expected a rate in Hz > 0 ({EXAMPLE_RATES}), got {hz}")
        ticks = max(1, round(CONTROL_HZ / hz))
        if abs(CONTROL_HZ / ticks - hz) > ACTION_HZ_TOLERANCE:
            raise ActionRateError(f"expected {CONTROL_HZ:g} Hz divided by a whole number ({EXAMPLE_RATES} Hz: the "
                                  f"car's controller ticks at {CONTROL_HZ:g} Hz), got {hz:g}")
        return cls(int(ticks))

    def describe(self) -> str:
        """The rate in words, e.g. ``"10 Hz: each action held 6 ticks, 0.100 s"``."""
        if self.ticks == TICKS_PER_STEP:
            return f"{self.hz:.4g} Hz, once a step"
        ticks = "1 tick" if self.ticks == 1 else f"{self.ticks} ticks"
        return f"{self.hz:.4g} Hz: each action held {ticks}, {self.seconds:.3f} s"


ActionRate.SIMULATOR = ActionRate(TICKS_PER_STEP)
assert abs(ActionRate.SIMULATOR.hz - STEP_HZ) < 1e-12


class HeldPolicy:
    """``policy`` (observation -> action) run on ``env`` (a :class:`~racer_env.env.environment.RacerEnv`) as the
    car's computer runs it at ``rate``. Call it with each step's observation, as one calls the policy, and step
    the env with what it returns: it asks the policy when an action is due at the step's first tick and gives
    the held one otherwise; the env's fleet asks it for the actions due inside a step, from the observation at
    that tick. At :attr:`ActionRate.SIMULATOR` it asks once a step, and the env drives exactly as without it.

    Attributes:
        calls: how many times the policy was asked.
    """

    def __init__(self, env: Any, policy: Callable[[Any], Any], rate: ActionRate) -> None:
        self.policy, self.rate, self.fleet = policy, rate, env.fleet
        self.action: Any = None
        self.calls = 0
        self.fleet.hold_actions(rate.ticks, self._ask)

    def __call__(self, obs: Any) -> Any:
        if self.action is None or self.fleet.action_due(0):
            self.action = self.policy(obs)
            self.calls += 1
        return self.action

    def _ask(self, k: int, obs: Any) -> Any:
        self.action = self.policy(obs)
        self.calls += 1
        return self.action
