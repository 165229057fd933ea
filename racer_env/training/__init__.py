"""Training and evaluation on DeepRacer's files: run directories, stable-baselines3, greedy evaluation laps, and
sweeps of many trainings on Ray Tune.

torch and stable-baselines3 are imported here only, and only when a model is built or loaded; Ray only by
``sweep``.
"""

from racer_env.training.evaluation import EvalResult, evaluate, evaluate_run
from racer_env.training.hyperparameters import Hyperparameters, load_hyperparameters
from racer_env.training.rundir import RunDir
from racer_env.training.trainer import TrainConfig, TrainResult, train, training_env

__all__ = ["EvalResult", "Hyperparameters", "RunDir", "TrainConfig", "TrainResult", "evaluate", "evaluate_run",
           "load_hyperparameters", "train", "training_env"]
