"""Training and evaluation on DeepRacer's files: run directories, stable-baselines3, greedy evaluation laps, and
sweeps of many trainings on Ray Tune.

torch and stable-baselines3 are imported here only, and only when a model is built or loaded; Ray only by
``sweep``.

TensorBoard's event writer (which stable-baselines3 imports with itself) imports TensorFlow when it is installed,
as the ``[export]`` extra installs it: 3 s and half a gigabyte more for every training run. TensorBoard uses its
own stub of TensorFlow when a module ``tensorboard.compat.notf`` exists (tensorboard/compat/__init__.py), so the
package registers an empty one first. ``import tensorflow`` itself (``racer export --check``) is unchanged.
"""

import sys as _sys
import types as _types

_sys.modules.setdefault("tensorboard.compat.notf", _types.ModuleType("tensorboard.compat.notf"))

from racer_env.training.evaluation import EvalResult, evaluate, evaluate_run
from racer_env.training.hyperparameters import Hyperparameters, load_hyperparameters
from racer_env.training.rundir import RunDir
from racer_env.training.trainer import TrainConfig, TrainResult, train, training_env

__all__ = ["EvalResult", "Hyperparameters", "RunDir", "TrainConfig", "TrainResult", "evaluate", "evaluate_run",
           "load_hyperparameters", "train", "training_env"]
