"""DeepRacer's ``hyperparameters.json`` (spec §5) and how it maps onto stable-baselines3."""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from racer_env.constants import STEP_HZ
from racer_env.env.actions import ActionSpec
from racer_env.errors import HyperparametersError
from racer_env.files import read_json
from racer_env.sim.track import Track
from racer_env.sim.vehicle import clip_controls

__all__ = ["CARS", "ROLLOUT", "Hyperparameters", "load_hyperparameters", "hyperparameters_from", "rollout_steps", "check_sb3_settings", "PPO_LOG_STD_INIT"]

CARS = 32
"""Cars a training run steps together (``--n-envs``): with 64 steps each, a rollout of :data:`ROLLOUT` steps, what
one PPO update learns from. Against 8 cars of 256 steps (round 3's), 32 of 64 train 1.6x the steps a second (the policy's
forward pass serves 32 cars at once) and, with batches of 512, laped harbour_loop 1.004x its limit after 5
minutes against 1.014x; 3 clean laps after 2.7 s against 3.2 s (docs/training.md, "What was tried")."""
ROLLOUT = 2048
"""Steps of one rollout, all cars together, unless hyperparameters.json says otherwise: 64 a car with 32 cars."""
PPO_LOG_STD_INIT = -0.7
"""Initial log standard deviation of PPO's Gaussian policy (SB3's default 0.0 means a std of 1 over the whole
[-1, 1] action range). Starting at std 0.5 learned laps sooner and faster laps here (benchmarks/learn_lap.py)."""


@dataclass(frozen=True)
class Hyperparameters:
    """DeepRacer's ``hyperparameters.json`` fields (spec §5.1), with racer_env's defaults.

    Where the defaults differ from DeepRacer's, it is to learn fast on a small
    observation vector with a CPU: ``batch_size`` 512 (DeepRacer 64),
    ``num_epochs`` 5 (DRfC's 5; the simapp's 10), ``discount_factor`` 0.99 (DRfC's
    0.99; the console's 0.999) and ``beta_entropy`` 0.0 (DeepRacer 0.01: a
    Gaussian policy explores enough on its own here). ``lr`` is DeepRacer's 0.0003.
    """

    batch_size: int = 512
    beta_entropy: float = 0.0
    discount_factor: float = 0.99
    e_greedy_value: float = 0.05
    epsilon_steps: int = 10000
    exploration_type: str = "categorical"
    loss_type: str = "huber"
    lr: float = 0.0003
    num_episodes_between_training: int = 20
    num_epochs: int = 5
    stack_size: int = 1
    term_cond_avg_score: float = 100000.0
    term_cond_max_episodes: int = 100000
    sac_alpha: float = 0.2
    n_steps: int | None = None
    """racer_env's own key: SB3 rollout steps per car. Default: :data:`ROLLOUT` over the cars, or estimated from
    num_episodes_between_training when the file sets that."""


_INT_KEYS = {"batch_size", "epsilon_steps", "num_episodes_between_training", "num_epochs", "stack_size",
             "term_cond_max_episodes", "n_steps"}
_ALIASES = {  # names from stable-baselines3 and other tools that users try, and the DeepRacer key meant
    "learning_rate": "lr", "gamma": "discount_factor", "ent_coef": "beta_entropy", "entropy": "beta_entropy",
    "entropy_coefficient": "beta_entropy", "n_epochs": "num_epochs", "epochs": "num_epochs",
    "episodes_between_training": "num_episodes_between_training", "minibatch_size": "batch_size",
    "max_episodes": "term_cond_max_episodes", "alpha": "sac_alpha",
}


def load_hyperparameters(path: str | Path | None) -> tuple[Hyperparameters, set[str]]:
    """Read a DeepRacer ``hyperparameters.json``: (values, the keys the file set).

    Raises:
        HyperparametersError: unreadable file, unknown key (with a "did you mean"), or a value of the wrong type.
    """
    if path is None:
        return Hyperparameters(), set()
    p = Path(path)
    return hyperparameters_from(read_json(p, HyperparametersError, "hyperparameters"), p)


def hyperparameters_from(data: Any, where: str | Path) -> tuple[Hyperparameters, set[str]]:
    """Hyperparameters from a dict of ``hyperparameters.json`` fields: (values, the keys it set).

    Raises:
        HyperparametersError: unknown key (with a "did you mean") or a value of the wrong type, naming ``where``.
    """
    p = where
    if not isinstance(data, dict):
        raise HyperparametersError(f"{p}: expected a JSON object of hyperparameters")
    known = {f for f in Hyperparameters.__dataclass_fields__}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            hint = [_ALIASES[key]] if key in _ALIASES else difflib.get_close_matches(key, known, n=1)
            raise HyperparametersError(f"{p}: field '{key}': unknown hyperparameter"
                                     + (f"; did you mean '{hint[0]}'?" if hint else ""))
        default = getattr(Hyperparameters(), key)
        if isinstance(default, str):
            if not isinstance(value, str):
                raise HyperparametersError(f"{p}: field '{key}': expected a string, got {value!r}")
        elif key in _INT_KEYS:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < 1:
                raise HyperparametersError(f"{p}: field '{key}': expected a positive whole number, got {value!r}")
            value = int(value)
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
                raise HyperparametersError(f"{p}: field '{key}': expected a number, got {value!r}")
            value = float(value)
            if key in ("lr", "discount_factor") and not 0 < value <= 1:
                raise HyperparametersError(f"{p}: field '{key}': expected a number in (0, 1], got {value}")
        values[key] = value
    return Hyperparameters(**values), set(values)


def rollout_steps(hp: Hyperparameters, set_keys: set[str], track: Track, actions: ActionSpec, n_envs: int) -> int:
    """SB3's ``n_steps`` per env. DeepRacer collects whole episodes; SB3 collects steps, so when the file sets
    num_episodes_between_training we estimate an episode as half a lap at the action space's mean speed."""
    if hp.n_steps is not None:
        return hp.n_steps
    if "num_episodes_between_training" not in set_keys:
        return max(2, ROLLOUT // n_envs)
    speeds = [v for _, v in actions.discrete] if actions.discrete is not None else list(actions.speed_range)
    mean_speed = float(np.mean([clip_controls(0.0, v)[1] for v in speeds]))
    episode_steps = 0.5 * track.length / mean_speed * STEP_HZ
    n = int(np.clip(hp.num_episodes_between_training * episode_steps / n_envs, 32, 4096))
    # round up so that the rollout splits into whole minibatches
    step = hp.batch_size // math.gcd(hp.batch_size, n_envs)
    return int(math.ceil(n / step) * step) if step <= 4096 else n


def check_sb3_settings(hp: Hyperparameters, actions: ActionSpec, n_steps: int, n_envs: int,
                       source: str | Path | None) -> None:
    """Reject settings stable-baselines3 would only warn about, naming the field (one line, before training).

    Raises:
        HyperparametersError: a batch larger than a PPO rollout, or rollouts of a single step.
    """
    where = source or "hyperparameters"
    if actions.algorithm == "clipped_ppo":
        rollout = n_steps * n_envs
        if n_steps < 2:
            raise HyperparametersError(f"{where}: field 'n_steps': expected at least 2 steps per env, got {n_steps}")
        if hp.batch_size > rollout:
            raise HyperparametersError(
                f"{where}: field 'batch_size': {hp.batch_size} is larger than a rollout of {rollout} steps "
                f"({n_steps} steps x {n_envs} envs); use at most {rollout}, or more envs or num_episodes_between_training")
