"""racer_env: a fast 2-D AWS DeepRacer-style simulator that runs DeepRacer reward functions unchanged.

The folder is the architecture; each module imports only those above it:

    constants, errors -> track -> vehicle -> params -> rewards -> actions -> observations
    -> simtrace -> env -> (training, evaluation, render, check, cli)

Importing the package registers ``RacerEnv-v0`` with Gymnasium; it does not import torch or pygame.
"""

from gymnasium.envs.registration import register

from racer_env.actions import ActionSpec, load_model_metadata
from racer_env.env import RacerEnv
from racer_env.errors import LogFormatError, ModelMetadataError, RacerEnvError, RewardFunctionError, TrackFileError
from racer_env.params import PARAM_KEYS, params_at
from racer_env.rewards import RewardFunction, load_reward_function
from racer_env.track import Track, bundled_tracks
from racer_env.vehicle import Car

__version__ = "0.1.0"
__all__ = [
    "ActionSpec", "Car", "LogFormatError", "ModelMetadataError", "PARAM_KEYS", "RacerEnv", "RacerEnvError",
    "RewardFunction", "RewardFunctionError", "Track", "TrackFileError", "__version__", "bundled_tracks",
    "load_model_metadata", "load_reward_function", "params_at",
]

register(id="RacerEnv-v0", entry_point="racer_env.env:RacerEnv")
