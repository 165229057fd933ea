"""A training run's directory: the one place that knows its layout.

=====================================  ==================================================
``run.json``                           what was trained and how: resume and evaluate from it
``model/model.zip``                    the final model (SB3 format)
``model/best_model.zip``               the best model by greedy evaluation (progress, then lap time)
``model/checkpoints/*.zip``            periodic checkpoints (the last 3 are kept)
``model/model_metadata.json``          the action space used (DRfC layout)
``ip/hyperparameters.json``            the DeepRacer hyperparameters in effect (DRfC layout)
``reward_function.py``                 a copy of the reward function used
``tensorboard/``                       TensorBoard logs
``training-simtrace/N-iteration.csv``  simtrace CSVs, N episodes an iteration (DRfC layout)
``logs/training.log``                  SIM_TRACE_LOG lines, as in a robomaker log
``logs/reward_function.log``           whatever the reward function prints
``metrics/TrainingMetrics.json``       training metrics (spec §7.3)
``metrics/evaluation/*.json``          evaluation metrics, one file per evaluation
``evaluation-<stamp>/``                each evaluation's simtrace, log, results and trajectory.png
=====================================  ==================================================

The layout is deepracer-for-cloud's, so deepracer-utils reads a run unchanged.
Files are written atomically (a temporary file, then a rename), so a crash
never leaves half a model or half a JSON file.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

from racer_env.errors import RunDirError
from racer_env.sim.track import Track

__all__ = ["RunDir", "atomic_write_bytes", "atomic_write_json", "load_model", "KEEP_CHECKPOINTS"]

KEEP_CHECKPOINTS = 3
"""How many periodic checkpoints a run keeps."""


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    atomic_write_bytes(path, json.dumps(obj, indent=2).encode())


class RunDir:
    """A run directory (see the module docstring for its layout).

    Example:
        >>> run = RunDir("runs/example")
        >>> run.best_model.as_posix(), run.exists()
        ('runs/example/model/best_model.zip', False)
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        p = self.path
        self.info_path = p / "run.json"
        self.model_dir = p / "model"
        self.final_model = p / "model" / "model.zip"
        self.best_model = p / "model" / "best_model.zip"
        self.checkpoint_dir = p / "model" / "checkpoints"
        self.model_metadata = p / "model" / "model_metadata.json"
        self.hyperparameters = p / "ip" / "hyperparameters.json"
        self.reward_function = p / "reward_function.py"
        self.tensorboard = p / "tensorboard"
        self.simtrace_dir = p / "training-simtrace"
        self.logs = p / "logs"
        self.training_log = p / "logs" / "training.log"
        self.reward_log = p / "logs" / "reward_function.log"
        self.training_metrics = p / "metrics" / "TrainingMetrics.json"
        self.evaluation_metrics = p / "metrics" / "evaluation"

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def __str__(self) -> str:
        return str(self.path)

    # ------------------------------------------------------------------ info
    def exists(self) -> bool:
        """True when the directory holds a run (its run.json)."""
        return self.info_path.exists()

    def info(self) -> dict[str, Any]:
        """The run's run.json.

        Raises:
            RunDirError: not a run directory, or run.json is unreadable.
        """
        if not self.info_path.exists():
            raise RunDirError(f"{self.path}: not a run directory (no run.json)")
        try:
            info = json.loads(self.info_path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise RunDirError(f"{self.info_path}: unreadable ({err})") from err
        if not isinstance(info, dict) or "track" not in info:
            raise RunDirError(f"{self.info_path}: expected a JSON object with a 'track' field")
        return info

    def write_info(self, info: dict[str, Any]) -> None:
        atomic_write_json(self.info_path, info)

    # ---------------------------------------------------------------- models
    def checkpoints(self) -> list[Path]:
        """The periodic checkpoints, oldest first."""
        return sorted(self.checkpoint_dir.glob("checkpoint-*.zip"), key=lambda p: int(p.stem.split("-")[1]))

    def checkpoint_path(self, steps: int) -> Path:
        return self.checkpoint_dir / f"checkpoint-{steps}.zip"

    def latest_model(self) -> Path | None:
        """The newest checkpoint, else the final model, else None: what a resumed run continues from."""
        ckpts = self.checkpoints()
        if ckpts:
            return ckpts[-1]
        return self.final_model if self.final_model.exists() else None

    def prune_checkpoints(self, keep: int = KEEP_CHECKPOINTS) -> None:
        """Delete all but the ``keep`` newest checkpoints."""
        for old in self.checkpoints()[:-keep]:
            old.unlink()

    def save_model(self, model: Any, path: Path) -> None:
        """Save an SB3 model to ``path`` atomically."""
        buf = io.BytesIO()
        model.save(buf)
        atomic_write_bytes(path, buf.getvalue())

    def model_path(self, which: str = "best") -> Path:
        """The model file to drive: ``best`` (else the final model, else the newest checkpoint), ``final``, or a
        path to a .zip.

        Raises:
            RunDirError: no such model.
        """
        candidates = {"best": [self.best_model, self.final_model], "final": [self.final_model]}.get(which)
        if candidates is None:
            if Path(which).is_file():
                return Path(which)
            raise RunDirError(f"--model {which}: no such model file (expected 'best', 'final' or a .zip path)")
        for path in candidates:
            if path.exists():
                return path
        ckpts = self.checkpoints()
        if ckpts:
            return ckpts[-1]
        raise RunDirError(f"{self.path}: no model found (looked in {self.model_dir} for "
                          f"{', '.join(p.name for p in candidates)} and checkpoints)")

    def load_model(self, which: str = "best", env: Any = None) -> Any:
        """Load the run's SB3 model (PPO, or SAC when the run trained with SAC)."""
        algorithm = self.info().get("algorithm", "clipped_ppo")
        return load_model(self.model_path(which), algorithm, env)

    # ------------------------------------------------------------- settings
    def env_settings(self, track: str | None = None) -> dict[str, Any]:
        """RacerEnv arguments that drive this run's car on its track (or on ``track``) with its reward and actions."""
        from racer_env.env.actions import load_model_metadata

        info = self.info()
        reverse = bool(info.get("reverse", False))
        return dict(track=Track.load(track or info["track"], reverse=reverse), reward_function=str(self.reward_function),
                    model_metadata=load_model_metadata(self.model_metadata), reverse=reverse)

    def evaluation_dir(self, stamp: str) -> Path:
        return self.path / f"evaluation-{stamp}"


def load_model(path: str | Path, algorithm: str = "clipped_ppo", env: Any = None) -> Any:
    """Load an SB3 model file (PPO, or SAC for ``algorithm="sac"``) on the CPU."""
    from stable_baselines3 import PPO, SAC

    cls = SAC if algorithm == "sac" else PPO
    return cls.load(str(path), env=env, device="cpu")
