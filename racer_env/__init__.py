"""racer_env: a fast 2-D AWS DeepRacer-style simulator that runs DeepRacer reward functions unchanged.

The folders are the architecture. Each layer imports only from the layers before it:

    constants, errors, cache, files  ->  sim  ->  viewing  ->  env  ->  training  ->  tools  ->  cli

* ``sim/``: the simulation core: track geometry, the car's physics, scripted drivers (pure, SI units).
* ``viewing/``: pygame drawing, the live viewer and video recording (the only pygame imports); it draws
  snapshots and plays sources, and knows nothing of environments.
* ``env/``: DeepRacer's interface: params, reward calls, action spaces, episode rules, logs, and RacerEnv.
* ``training/``: run directories, stable-baselines3 training, evaluation, export (the only torch imports).
* ``tools/``: ``racer check`` and the other tools for reward functions and tracks.
* ``cli.py``: the ``racer`` command, which only parses arguments and calls the layers below.

Importing the package registers ``RacerEnv-v0`` with Gymnasium; it does not import torch or pygame.
"""

from gymnasium.envs.registration import register

from racer_env.env.actions import ActionSpec, load_model_metadata
from racer_env.env.config import EnvConfig
from racer_env.env.environment import RacerEnv
from racer_env.env.params import PARAM_KEYS, params_at
from racer_env.env.rewards import RewardFunction, load_reward_function
from racer_env.errors import (
    ExportError,
    HyperparametersError,
    LogFormatError,
    ModelMetadataError,
    RacerEnvError,
    RewardFunctionError,
    RunDirError,
    TrackFileError,
)
from racer_env.sim.track import Track, bundled_tracks
from racer_env.sim.vehicle import Car

__version__ = "0.3.0"
__all__ = [
    "ActionSpec", "Car", "EnvConfig", "ExportError", "HyperparametersError", "LogFormatError", "ModelMetadataError",
    "PARAM_KEYS", "RacerEnv", "RacerEnvError", "RewardFunction", "RewardFunctionError", "RunDirError", "Track",
    "TrackFileError",
    "__version__", "bundled_tracks", "load_model_metadata", "load_reward_function", "params_at",
]

register(id="RacerEnv-v0", entry_point="racer_env.env:RacerEnv")
