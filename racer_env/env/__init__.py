"""DeepRacer's side of the simulator, as a Gymnasium environment.

What a reward function sees (``params``), how it is called (``rewards``), the
action spaces of ``model_metadata.json`` (``actions``), the episode rules
(``episode``), the policy's observation (``observations``), SIM_TRACE logs
(``simtrace``), and :class:`RacerEnv`, which orchestrates them over the
simulation core (``racer_env.sim``).
"""

from racer_env.env.actions import ActionSpec, load_model_metadata
from racer_env.env.config import EnvConfig
from racer_env.env.environment import RacerEnv
from racer_env.env.params import PARAM_KEYS, params_at
from racer_env.env.rewards import RewardFunction, load_reward_function

__all__ = ["ActionSpec", "EnvConfig", "PARAM_KEYS", "RacerEnv", "RewardFunction", "load_model_metadata", "load_reward_function",
           "params_at"]
