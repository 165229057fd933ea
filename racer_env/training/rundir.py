"""A training run's directory: the one place that knows its layout.

=====================================  ==================================================
``run.json``                           what was trained and how: resume and evaluate from it
``run.lock``                           held by the process training in it (its PID inside)
``model/model.zip``                    the final model (SB3 format)
``model/best_model.zip``               the best model by greedy evaluation (progress, then lap time)
``model/best_model.json``              its score, so a resumed run keeps it
``model/checkpoints/*.zip``            periodic checkpoints (the last 3 are kept)
``model/model_metadata.json``          the action space used (DRfC layout)
``ip/hyperparameters.json``            the DeepRacer hyperparameters in effect (DRfC layout)
``reward_function.py``                 a copy of the reward function used
``race.yaml``                          the race settings (object avoidance, head-to-bot), in simulator keys
``tensorboard/``                       TensorBoard logs
``training-simtrace/N-iteration.csv``  simtrace CSVs, N episodes an iteration (DRfC layout), gzipped when done
``logs/training.log``                  SIM_TRACE_LOG lines, as in a robomaker log (with --sim-trace-log)
``logs/reward_function.log``           whatever the reward function prints
``metrics/TrainingMetrics.json``       training metrics (spec §7.3)
``metrics/evaluation/*.json``          evaluation metrics, one file per evaluation
``evaluation-<stamp>/``                each evaluation's simtrace, log, results and trajectory.png
=====================================  ==================================================

The layout is deepracer-for-cloud's, so deepracer-utils reads a run (after
``racer unpack`` restores its gzipped iterations). Files are written atomically
(a temporary file, then a rename), so a crash never leaves half a model or half
a JSON file; :meth:`RunDir.recover` rebuilds a killed run's state from its files.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from racer_env.env.actions import DEFAULT_MODEL_METADATA
from racer_env.env.config import EnvConfig
from racer_env.env.logreader import iteration_files, read_sim_trace, split_episodes
from racer_env.env.simtrace import STATUS_LABELS, EpisodeSummary, format_line
from racer_env.errors import LogFormatError, RunDirError
from racer_env.files import atomic_write_bytes, atomic_write_json

__all__ = ["RunDir", "RunLock", "Recovered", "load_model",
           "training_metric", "KEEP_CHECKPOINTS"]

KEEP_CHECKPOINTS = 3
"""How many periodic checkpoints a run keeps."""


class RunDir:
    """A run directory (see the module docstring for its layout).

    Examples:
        >>> run = RunDir("runs/example")
        >>> run.best_model.as_posix(), run.exists()
        ('runs/example/model/best_model.zip', False)
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        p = self.path
        self.info_path = p / "run.json"
        self.lock_path = p / "run.lock"
        self.model_dir = p / "model"
        self.final_model = p / "model" / "model.zip"
        self.best_model = p / "model" / "best_model.zip"
        self.best_score_path = p / "model" / "best_model.json"
        self.checkpoint_dir = p / "model" / "checkpoints"
        self.model_metadata = p / "model" / "model_metadata.json"
        self.hyperparameters = p / "ip" / "hyperparameters.json"
        self.reward_function = p / "reward_function.py"
        self.race = p / "race.yaml"
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
        if not isinstance(info, dict) or not ("env" in info or "track" in info):
            raise RunDirError(f"{self.info_path}: expected a JSON object with an 'env' field")
        return info

    def track_ref(self) -> tuple[str, bool]:
        """The run's track as run.json names it, and whether it is driven reversed (without loading it)."""
        info = self.info()
        env = info.get("env", info)  # runs of racer_env 0.3 kept the env's fields at the top
        return str(env["track"]), bool(env.get("reverse", False))

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

    def trained_steps(self) -> int:
        """The environment steps behind :meth:`latest_model` (0 without one), read from the SB3 zip's data."""
        import zipfile

        latest = self.latest_model()
        if latest is None:
            return 0
        try:
            with zipfile.ZipFile(latest) as z:
                return int(json.loads(z.read("data")).get("num_timesteps", 0))
        except (OSError, KeyError, ValueError, zipfile.BadZipFile):
            return 0

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
    def keep_env(self, env: EnvConfig) -> dict[str, Any]:
        """Keep an env's files in the run (the reward function's copy, ``model_metadata.json``, ``race.yaml``, in
        DRfC's layout) and return its run.json entry, which names those files (relative to the run): each is
        kept once, where DRfC's tools and the racer look for it.

        Raises:
            RunDirError: the reward function is a Python callable, which a run cannot keep.
        """
        source = env.reward_path
        if source is None:
            raise RunDirError(f"{self.path}: the reward function is a Python callable; a run keeps a file")
        self.path.mkdir(parents=True, exist_ok=True)
        if source.resolve() != self.reward_function.resolve():
            shutil.copyfile(source, self.reward_function)
        atomic_write_json(self.model_metadata, env.actions.metadata or DEFAULT_MODEL_METADATA)
        if env.race.as_dict():
            atomic_write_bytes(self.race, env.race.to_yaml().encode())
        elif self.race.exists():
            self.race.unlink()
        return {**env.to_json(), "reward": self._relative(self.reward_function),
                "model_metadata": self._relative(self.model_metadata),
                "race": self._relative(self.race) if self.race.exists() else None}

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.path).as_posix()

    def env_config(self, observation: str | None = None, **changes: Any) -> EnvConfig:
        """The env the run trained in (run.json's ``env``, with the run's copy of the reward function), with
        ``changes``: :meth:`EnvConfig.make`'s arguments, None meaning unchanged. ``observation``, when given,
        must be the one the model was trained on.

        Raises:
            RunDirError: another observation than the model's, or run.json is unreadable.
        """
        info = self.info()
        changes = {k: v for k, v in changes.items() if v is not None}
        if "env" in info:
            data = dict(info["env"])
            for key in ("reward", "model_metadata", "race"):  # the run's own files, named relative to it
                if isinstance(data.get(key), str):
                    data[key] = str(self.path / data[key])
        else:  # a run of racer_env 0.3: the env's fields at the top of run.json, its files beside it
            data = {"track": info["track"], "reverse": info.get("reverse", False), "reward": str(self.reward_function),
                    "model_metadata": str(self.model_metadata) if self.model_metadata.exists() else None,
                    "race": str(self.race) if self.race.exists() else None,
                    "observation": info.get("observation", "vector"),  # runs from before the camera
                    "frame_stack": info.get("frame_stack", 1), "object_features": info.get("object_features")}
        trained_on = data.get("observation", "vector")
        if observation is not None and observation != trained_on:
            raise RunDirError(f"{self.info_path}: field 'observation': the model was trained on the {trained_on}; "
                              f"it cannot drive on the {observation} (drop --observation, or train a model on it)")
        return EnvConfig.from_json(data, str(self.info_path), **changes)

    def model_and_env(self, which: str = "best", observation: str | None = None,
                      **changes: Any) -> tuple[Any, EnvConfig]:
        """The model and the env it drives in: :meth:`env_config`, observing objects as the model was trained
        to (a run from before run.json said so: as the model's observation size says)."""
        from racer_env.env.observations import OBJECT_SLOTS, OBS_SIZE
        from racer_env.sim.sensors import LIDAR_SENSORS, lidar_size

        env = self.env_config(observation, **changes)  # bad settings are named before the slower model load
        model = self.load_model(which)
        info = self.info()
        if "env" not in info and info.get("object_features") is None and env.observation == "vector" and \
                model.observation_space.shape:
            actions = env.actions
            lidar = [s for s in actions.sensors if s in LIDAR_SENSORS]
            size = OBS_SIZE + (lidar_size(lidar[0], actions.lidar_config) if lidar else 0)
            env = env.replace(object_features=model.observation_space.shape[0] == size + 5 * OBJECT_SLOTS)
        return model, env

    def evaluation_dir(self, stamp: str) -> Path:
        return self.path / f"evaluation-{stamp}"

    # --------------------------------------------------------- robustness
    def clear(self, keep: tuple[Path | None, ...] = ()) -> None:
        """Remove a run's files (not its lock, nor the files in ``keep``), for a run that saved no model and is
        started afresh."""
        kept = {self.lock_path.resolve(), *(Path(k).resolve() for k in keep if k is not None)}
        for child in self.path.iterdir():
            if child.resolve() in kept:
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()

    def lock(self) -> "RunLock":
        """Claim the run for this process (``with run.lock(): ...``).

        Raises:
            RunDirError: another live process holds it; the message names the process.
        """
        return RunLock(self)

    def save_best(self, model: Any, score: tuple[float, ...], lap: float | None) -> None:
        """Save the best model and its score (the score after the model: a kill between keeps the older pair's
        score, which a resumed run then beats again)."""
        self.save_model(model, self.best_model)
        atomic_write_json(self.best_score_path, {"score": list(score), "lap_time": lap})

    def best_score(self) -> tuple[tuple[float, ...] | None, float | None]:
        """The saved best model's score and first-lap time, or (None, None)."""
        try:
            data = json.loads(self.best_score_path.read_text())
            return tuple(data["score"]), data.get("lap_time")
        except (OSError, ValueError, KeyError, TypeError):
            return None, None

    def recover(self, episodes_per_iteration: int) -> "Recovered":
        """Rebuild a run's training state from its files, so a resumed run continues as one run after any kill.

        The simtrace is cut back to its last complete episode (a kill can leave half of one); the robomaker-style
        log, when there is one, is rewritten from it; the training entries of TrainingMetrics.json are rebuilt from
        it and its evaluation entries kept; the best score comes from ``model/best_model.json``.
        """
        files = iteration_files(self.simtrace_dir)
        rows: list[Any] = []
        for f in files:
            try:
                rows += read_sim_trace(f).rows
            except LogFormatError:
                pass  # an iteration a kill left empty
        episodes = split_episodes(rows)
        complete = []
        for number, rows in enumerate(episodes):
            if rows[0].episode != number or not rows[-1].done:
                break
            complete.append(rows)
        self._cut_simtrace(files, complete, episodes_per_iteration)
        if self.training_log.exists():
            with open(self.training_log.with_name(self.training_log.name + ".tmp"), "w") as out:
                out.writelines(format_line(r, r.episode, r.wall_clock) + "\n" for rows in complete for r in rows)
            os.replace(self.training_log.with_name(self.training_log.name + ".tmp"), self.training_log)
        training = [training_metric(EpisodeSummary.from_rows(n, rows), episodes_per_iteration)
                    for n, rows in enumerate(complete)]
        evaluation = [m for m in self._read_metrics() if m.get("phase") == "evaluation"
                      and int(m.get("episode", 0)) <= len(complete)]
        metrics = sorted(training + evaluation, key=lambda m: (int(m["episode"]), m["phase"] == "evaluation"))
        score, lap = self.best_score()
        return Recovered(len(complete), metrics, score, lap)

    def _cut_simtrace(self, files: list[Path], complete: list[list[Any]], per_iteration: int) -> None:
        """Keep only complete episodes in the plain (last) iteration file; drop files past them."""
        from racer_env.env.simtrace import FIELDS, csv_row

        kept = len(complete)
        for f in files:
            iteration = int(f.name.split("-")[0])
            if iteration * per_iteration >= kept and f.suffix == ".gz":
                f.unlink()  # an iteration that began after the last complete episode (a kill, then a change)
            elif f.suffix != ".gz":
                first = iteration * per_iteration
                rows = [r for rows in complete[first:first + per_iteration] for r in rows]
                if not rows:
                    f.unlink()
                    continue
                tmp = f.with_name(f.name + ".tmp")
                tmp.write_text(",".join(FIELDS) + "\n" + "".join(csv_row(r, r.episode, r.wall_clock) + "\n"
                                                                 for r in rows))
                os.replace(tmp, f)
        for leftover in self.simtrace_dir.glob("*.tmp"):
            leftover.unlink()

    def _read_metrics(self) -> list[dict[str, Any]]:
        try:
            return list(json.loads(self.training_metrics.read_text()).get("metrics", []))
        except (OSError, ValueError, AttributeError):
            return []


@dataclass
class Recovered:
    """A run's training state as its files tell it."""

    episodes: int
    """Complete episodes on disk: the next episode's number."""
    metrics: list[dict[str, Any]] = field(default_factory=list)
    best_score: tuple[float, ...] | None = None
    best_lap: float | None = None


def training_metric(s: EpisodeSummary, episodes_per_iteration: int) -> dict[str, Any]:
    """The TrainingMetrics.json entry of a training episode (spec §7.3)."""
    return {
        "reward_score": int(round(s.reward)),
        "metric_time": int(time.time() * 1000),
        "start_time": int(s.start_time * 1000),
        "elapsed_time_in_milliseconds": int(round((s.end_time - s.start_time) * 1000)),
        "episode": s.episode + 1,
        "trial": s.episode % episodes_per_iteration + 1,
        "phase": "training",
        "completion_percentage": int(max(0.0, s.progress)),
        "episode_status": STATUS_LABELS.get(s.status, s.status),
    }


class RunLock:
    """An exclusive claim on a run directory: an ``flock`` on ``run.lock``, which holds the owner's PID and
    command for messages. The operating system releases it when the process dies, however it dies."""

    def __init__(self, run: RunDir):
        self.run = run
        self._file: TextIO | None = None

    def __enter__(self) -> "RunLock":
        try:
            import fcntl
        except ImportError:  # Windows: no flock; run without the claim
            return self
        self.run.path.mkdir(parents=True, exist_ok=True)
        f = open(self.run.lock_path, "a+")
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            f.close()
            raise RunDirError(f"{self.run.path}: in use by {holder}; wait for it to finish or stop it, "
                              f"or choose another --out") from None
        f.seek(0)
        f.truncate()
        f.write(f"process {os.getpid()} ({' '.join(sys.argv[:1] + sys.argv[1:4])}, since "
                f"{time.strftime('%Y-%m-%d %H:%M:%S')})")
        f.flush()
        self._file = f
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._file is not None:
            self._file.close()  # closing releases the flock
            self._file = None


def load_model(path: str | Path, algorithm: str = "clipped_ppo", env: Any = None) -> Any:
    """Load an SB3 model file (PPO, or SAC for ``algorithm="sac"``) on the CPU."""
    from stable_baselines3 import PPO, SAC

    cls = SAC if algorithm == "sac" else PPO
    return cls.load(str(path), env=env, device="cpu")
