"""Training with stable-baselines3 on DeepRacer's files: ``train(TrainConfig(...))``.

A run directory (``runs/NAME/``) ends up holding:

=====================================  ==================================================
``model/model.zip``                    the final model (SB3 format)
``model/best_model.zip``               the best model by greedy evaluation (progress, then lap time)
``model/checkpoints/*.zip``            periodic checkpoints (the last 3 are kept)
``model/model_metadata.json``          the action space used (DRfC layout)
``ip/hyperparameters.json``            the DeepRacer hyperparameters in effect (DRfC layout)
``reward_function.py``                 a copy of the reward function used
``run.json``                           everything needed to resume or evaluate
``tensorboard/``                       TensorBoard logs
``training-simtrace/N-iteration.csv``  simtrace CSVs, N episodes an iteration (DRfC layout)
``logs/training.log``                  SIM_TRACE_LOG lines, as in a robomaker log
``logs/reward_function.log``           whatever the reward function prints
``metrics/TrainingMetrics.json``       training metrics (spec §7.3)
``metrics/evaluation/*.json``          evaluation metrics, one file per evaluation
``evaluation-<stamp>/``                each evaluation's simtrace, log and results
=====================================  ==================================================

Files are written atomically (temporary file, then rename), so a crash never
leaves half a model. Ctrl-C or SIGTERM stops at the next step and saves a
checkpoint and the logs; a reward-function error does the same, then re-raises.
"""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import signal
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from racer_env.actions import DEFAULT_MODEL_METADATA, ActionSpec, load_model_metadata
from racer_env.errors import ModelMetadataError, RacerEnvError
from racer_env.evaluation import evaluate_run, load_model
from racer_env.rewards import DEFAULT_REWARD, RewardFunction
from racer_env.simtrace import TraceWriter
from racer_env.track import DEFAULT_TRACK, Track

__all__ = ["TrainConfig", "Hyperparameters", "load_hyperparameters", "train", "TrainResult"]

PPO_LOG_STD_INIT = -0.7
"""Initial log standard deviation of PPO's Gaussian policy (SB3's default 0.0 means a std of 1 over the whole
[-1, 1] action range). Starting at std 0.5 learned laps sooner and faster laps here (benchmarks/learn_lap.py)."""


# ----------------------------------------------------------------- hyperparameters
@dataclass(frozen=True)
class Hyperparameters:
    """DeepRacer's ``hyperparameters.json`` fields (spec §5.1), with racer_env's defaults.

    Where the defaults differ from DeepRacer's, it is to learn fast on a small
    observation vector with a CPU: ``batch_size`` 256 (DeepRacer 64),
    ``num_epochs`` 5 (DRfC's 5; the simapp's 10), ``discount_factor`` 0.99 (DRfC's
    0.99; the console's 0.999) and ``beta_entropy`` 0.0 (DeepRacer 0.01: a
    Gaussian policy explores enough on its own here). ``lr`` is DeepRacer's 0.0003.
    """

    batch_size: int = 256
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
    """racer_env's own key: SB3 rollout steps per env. Default: 256, or estimated from
    num_episodes_between_training when the file sets that."""


_INT_KEYS = {"batch_size", "epsilon_steps", "num_episodes_between_training", "num_epochs", "stack_size",
             "term_cond_max_episodes", "n_steps"}


def load_hyperparameters(path: str | Path | None) -> tuple[Hyperparameters, set[str]]:
    """Read a DeepRacer ``hyperparameters.json``: (values, the keys the file set).

    Raises:
        ModelMetadataError: unreadable file, unknown key (with a "did you mean"), or a value of the wrong type.
    """
    import difflib

    if path is None:
        return Hyperparameters(), set()
    p = Path(path)
    try:
        data = json.loads(p.read_text())
    except OSError as err:
        raise ModelMetadataError(f"{p}: cannot read ({err.strerror})") from err
    except json.JSONDecodeError as err:
        raise ModelMetadataError(f"{p}: line {err.lineno}: not valid JSON ({err.msg})") from err
    if not isinstance(data, dict):
        raise ModelMetadataError(f"{p}: expected a JSON object of hyperparameters")
    known = {f for f in Hyperparameters.__dataclass_fields__}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            hint = difflib.get_close_matches(key, known, n=1)
            raise ModelMetadataError(f"{p}: field '{key}': unknown hyperparameter"
                                     + (f"; did you mean '{hint[0]}'?" if hint else ""))
        default = getattr(Hyperparameters(), key)
        if isinstance(default, str):
            if not isinstance(value, str):
                raise ModelMetadataError(f"{p}: field '{key}': expected a string, got {value!r}")
        elif key in _INT_KEYS:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < 1:
                raise ModelMetadataError(f"{p}: field '{key}': expected a positive whole number, got {value!r}")
            value = int(value)
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
                raise ModelMetadataError(f"{p}: field '{key}': expected a number, got {value!r}")
            value = float(value)
            if key in ("lr", "discount_factor") and not 0 < value <= 1:
                raise ModelMetadataError(f"{p}: field '{key}': expected a number in (0, 1], got {value}")
        values[key] = value
    return Hyperparameters(**values), set(values)


def rollout_steps(hp: Hyperparameters, set_keys: set[str], track: Track, actions: ActionSpec, n_envs: int) -> int:
    """SB3's ``n_steps`` per env. DeepRacer collects whole episodes; SB3 collects steps, so when the file sets
    num_episodes_between_training we estimate an episode as half a lap at the action space's mean speed."""
    if hp.n_steps is not None:
        return hp.n_steps
    if "num_episodes_between_training" not in set_keys:
        return 256
    if actions.is_discrete:
        mean_speed = float(np.mean([min(max(v, 0.1), 4.0) for _, v in actions.discrete]))
    else:
        mean_speed = float(np.clip(np.mean(actions.speed_range), 0.1, 4.0))
    episode_steps = 0.5 * track.length / mean_speed * 15.0
    n = int(np.clip(hp.num_episodes_between_training * episode_steps / n_envs, 32, 4096))
    # round up so that the rollout splits into whole minibatches
    step = hp.batch_size // math.gcd(hp.batch_size, n_envs)
    return int(math.ceil(n / step) * step) if step <= 4096 else n


# ------------------------------------------------------------------------ config
@dataclass(frozen=True)
class TrainConfig:
    """One training run. Paths may be relative to the working directory.

    Attributes:
        track: bundled track name or route file.
        reward: reward function file, or a name in reward_functions/.
        model_metadata: model_metadata.json, or None for racer_env's default action space.
        hyperparameters: hyperparameters.json, or None for racer_env's defaults.
        timesteps: environment steps to train (None: until ``minutes`` or the episode cap).
        minutes: wall-clock budget (None: no limit).
        n_envs: environments stepped together in one process.
        seed: random seed.
        out: the run directory.
        resume: a run directory to continue from (a different reward is DeepRacer's "clone model").
        eval_laps: laps of the evaluation at the end.
        quiet: no progress display.
    """

    track: str = DEFAULT_TRACK
    reward: str = DEFAULT_REWARD
    model_metadata: str | None = None
    hyperparameters: str | None = None
    timesteps: int | None = None
    minutes: float | None = None
    n_envs: int = 8
    seed: int = 0
    out: str | None = None
    resume: str | None = None
    eval_laps: int = 3
    quiet: bool = False
    reverse: bool = False
    until_laps: bool = False
    """Stop as soon as a greedy evaluation drives 3 clean laps in a row."""
    vec: str = "dummy"
    """``"dummy"``: all envs in this process (DummyVecEnv: faster and steadier on 2 cores, see
    benchmarks/vec_envs.py); ``"subproc"``: each env in its own process (a script that calls train() this
    way needs an ``if __name__ == "__main__":`` guard)."""

    def run_dir(self) -> Path:
        if self.out:
            return Path(self.out)
        if self.resume:
            return Path(self.resume)
        return Path("runs") / time.strftime("%Y%m%d-%H%M%S")


DEFAULT_TIMESTEPS = 300_000


# ----------------------------------------------------------------- file helpers
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
    atomic_write_bytes(path, json.dumps(obj, indent=2).encode())


def save_model(model, path: Path) -> None:
    """Save an SB3 model atomically."""
    buf = io.BytesIO()
    model.save(buf)
    atomic_write_bytes(path, buf.getvalue())


def latest_checkpoint(run: Path) -> Path | None:
    """The newest of a run's checkpoints, or its final model."""
    ckpts = sorted((run / "model" / "checkpoints").glob("checkpoint-*.zip"),
                   key=lambda p: int(p.stem.split("-")[1]))
    if ckpts:
        return ckpts[-1]
    final = run / "model" / "model.zip"
    return final if final.exists() else None


# ---------------------------------------------------------------------- result
@dataclass
class TrainResult:
    run_dir: Path
    timesteps: int
    episodes: int
    seconds: float
    stopped: str  # "done", "interrupted", "max_episodes", "minutes"
    evaluation: Any = None
    first_clean_laps_s: float | None = None  # training wall time until a greedy evaluation drove all laps cleanly
    history: list[dict] = field(default_factory=list)


# ------------------------------------------------------------------------ train
def _env_kwargs(cfg: TrainConfig, reward: RewardFunction | str, actions: ActionSpec) -> dict[str, Any]:
    return dict(track=cfg.track, reward_function=reward, model_metadata=actions, reverse=cfg.reverse)


def train(cfg: TrainConfig, console=None) -> TrainResult:
    """Train a model as ``cfg`` says, evaluate it, and write the run directory. See the module docstring."""
    import torch
    from stable_baselines3 import PPO, SAC
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    from racer_env.training_callbacks import RunMonitor

    torch.set_num_threads(1)  # small networks: one thread is fastest on 2 cores
    run = cfg.run_dir()
    previous: dict[str, Any] = {}
    if cfg.resume:
        resume_dir = Path(cfg.resume)
        if not (resume_dir / "run.json").exists():
            raise RacerEnvError(f"{resume_dir}: not a run directory (no run.json)")
        previous = json.loads((resume_dir / "run.json").read_text())
        if latest_checkpoint(resume_dir) is None:
            raise RacerEnvError(f"{resume_dir}: no checkpoint or model to resume from")
        # settings not given again come from the run being resumed
        cfg = replace(cfg, model_metadata=cfg.model_metadata or _existing(resume_dir / "model" / "model_metadata.json"),
                      hyperparameters=cfg.hyperparameters or _existing(resume_dir / "ip" / "hyperparameters.json"))

    if (run / "run.json").exists() and not (cfg.resume and Path(cfg.resume).resolve() == run.resolve()):
        raise RacerEnvError(f"{run}: a run is already there: continue it with --resume {run}, "
                            f"or choose another --out")
    track = Track.load(cfg.track, reverse=cfg.reverse)
    actions = load_model_metadata(cfg.model_metadata)
    hp, set_keys = load_hyperparameters(cfg.hyperparameters)
    if actions.algorithm == "sac" and actions.is_discrete:
        raise ModelMetadataError(f"{cfg.model_metadata}: field 'training_algorithm': sac needs a continuous space")
    # check the reward function loads before anything is written
    RewardFunction(cfg.reward)

    run.mkdir(parents=True, exist_ok=True)
    (run / "logs").mkdir(exist_ok=True)
    reward_src = Path(RewardFunction(cfg.reward).path)
    if reward_src.resolve() != (run / "reward_function.py").resolve():
        shutil.copyfile(reward_src, run / "reward_function.py")
    atomic_write_json(run / "model" / "model_metadata.json", actions.metadata or DEFAULT_MODEL_METADATA)
    hp_out = {k: v for k, v in asdict(hp).items() if v is not None}
    atomic_write_json(run / "ip" / "hyperparameters.json", hp_out)

    n_envs = max(1, cfg.n_envs)
    n_steps = rollout_steps(hp, set_keys, track, actions, n_envs)
    episodes_done = int(previous.get("episodes", 0)) if cfg.resume and Path(cfg.resume) == run else 0

    monitor = RunMonitor(run=run, hp=hp, cfg=cfg, console=console, algorithm=actions.algorithm,
                         eval_kwargs=_env_kwargs(cfg, cfg.reward, actions), first_episode=episodes_done)
    if episodes_done:  # continuing in the same directory: keep its metrics and its best score
        monitor.resume_from(run / "metrics" / "TrainingMetrics.json", previous.get("best_score"))
    trace = TraceWriter(run / "training-simtrace", run / "logs" / "training.log",
                        hp.num_episodes_between_training, on_episode=monitor.on_episode,
                        first_episode=episodes_done)
    monitor.trace = trace

    subproc = cfg.vec == "subproc" and n_envs > 1
    factories = [_EnvFactory(track, str(reward_src), actions, run / "logs" / "reward_function.log", i / n_envs,
                             ignore_sigint=subproc) for i in range(n_envs)]
    venv = SubprocVecEnv(factories, start_method="forkserver") if subproc else DummyVecEnv(factories)
    venv.seed(cfg.seed)
    if cfg.resume:
        model = load_model(latest_checkpoint(Path(cfg.resume)), actions.algorithm, env=venv)
        model.tensorboard_log = str(run / "tensorboard")
    elif actions.algorithm == "sac":
        model = SAC("MlpPolicy", venv, learning_rate=hp.lr, batch_size=hp.batch_size, gamma=hp.discount_factor,
                    ent_coef=hp.sac_alpha, policy_kwargs=dict(net_arch=[64, 64]), seed=cfg.seed,
                    tensorboard_log=str(run / "tensorboard"), device="cpu", verbose=0)
    else:
        model = PPO("MlpPolicy", venv, learning_rate=hp.lr, n_steps=n_steps, batch_size=hp.batch_size,
                    n_epochs=hp.num_epochs, gamma=hp.discount_factor, gae_lambda=0.95, clip_range=0.2,
                    ent_coef=hp.beta_entropy, policy_kwargs=dict(net_arch=[64, 64], log_std_init=PPO_LOG_STD_INIT),
                    seed=cfg.seed,
                    tensorboard_log=str(run / "tensorboard"), device="cpu", verbose=0)

    timesteps = cfg.timesteps or (None if cfg.minutes else DEFAULT_TIMESTEPS)
    budget = timesteps if timesteps is not None else 10**12
    monitor.configure(total=timesteps, minutes=cfg.minutes, max_episodes=hp.term_cond_max_episodes)
    run_info = {
        "racer_env": __import__("racer_env").__version__,
        "track": str(Path(cfg.track).resolve()) if Path(cfg.track).exists() else cfg.track,
        "reverse": cfg.reverse, "reward": str(reward_src),
        "algorithm": actions.algorithm, "n_envs": n_envs, "n_steps": n_steps, "seed": cfg.seed,
        "resumed_from": cfg.resume, "created": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    atomic_write_json(run / "run.json", {**previous, **run_info, "status": "training"})

    stop = {"signal": None}

    def on_signal(signum, frame):
        if stop["signal"] is not None:
            raise KeyboardInterrupt
        stop["signal"] = signal.Signals(signum).name
        monitor.request_stop(f"interrupted by {stop['signal']}")

    old_handlers = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    t0 = time.time()
    error: BaseException | None = None
    try:
        model.learn(total_timesteps=budget, callback=monitor, reset_num_timesteps=not cfg.resume,
                    tb_log_name="run", progress_bar=False)
    except RacerEnvError as err:
        error = err
    except KeyboardInterrupt:
        monitor.request_stop("interrupted")
    finally:
        for s, h in old_handlers.items():
            signal.signal(s, h)
        trace.close()
        monitor.close()
        venv.close()
        save_model(model, run / "model" / "checkpoints" / f"checkpoint-{model.num_timesteps}.zip")
        monitor.prune_checkpoints()
        episodes = trace.episodes
        status = "failed" if error else ("interrupted" if monitor.stop_reason and "interrupt" in monitor.stop_reason
                                          else "trained")
        atomic_write_json(run / "run.json", {**previous, **run_info, "status": status,
                                             "timesteps": int(model.num_timesteps), "episodes": episodes,
                                             "train_seconds": round(time.time() - t0, 1),
                                             "best_score": monitor.best_score})
    if error is not None:
        raise error

    save_model(model, run / "model" / "model.zip")
    result = TrainResult(run, int(model.num_timesteps), episodes, time.time() - t0,
                         monitor.stop_reason or "done", first_clean_laps_s=monitor.first_clean_s,
                         history=monitor.history)
    if not (monitor.stop_reason and "interrupt" in monitor.stop_reason) and cfg.eval_laps > 0:
        result.evaluation, _ = evaluate_run(run, laps=cfg.eval_laps)
    return result


class _EnvFactory:
    """Builds one training env, in a worker process when the envs run in subprocesses (a closure would not pickle).

    The env records its SIM_TRACE rows and hands each finished episode to the main process in
    ``info["trace"]``; a reward-function error comes back as ``info["error"]``.
    """

    def __init__(self, track: Track, reward: str, actions: ActionSpec, reward_log: Path, start_offset: float,
                 ignore_sigint: bool):
        self.track, self.reward, self.actions = track, reward, actions
        self.reward_log, self.start_offset, self.ignore_sigint = reward_log, start_offset, ignore_sigint

    def __call__(self):
        from racer_env.env import RacerEnv

        if self.ignore_sigint:  # Ctrl-C reaches every process; the main one stops the run and saves
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        out = open(self.reward_log, "a", buffering=1)
        env = RacerEnv(track=self.track, reward_function=RewardFunction(self.reward, stdout=out),
                       model_metadata=self.actions, mode="train", start_offset=self.start_offset, record_trace=True)
        return _ErrorsToInfo(env)


class _ErrorsToInfo(gym.Wrapper):
    """Ends the episode with ``info["error"]`` when a step raises RacerEnvError (a worker cannot raise to us)."""

    def step(self, action):
        try:
            return self.env.step(action)
        except RacerEnvError as err:
            obs = np.zeros(self.observation_space.shape, dtype=self.observation_space.dtype)
            return obs, 0.0, True, False, {"error": str(err), "error_type": type(err).__name__}


def _existing(p: Path) -> str | None:
    return str(p) if p.exists() else None
