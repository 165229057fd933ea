"""Training with stable-baselines3 on DeepRacer's files: ``train(TrainConfig(...))``.

``train`` checks every input before it writes anything, fills a run directory
(:mod:`racer_env.training.rundir`), builds the vectorised envs and the SB3 model,
and runs it with the callbacks of :mod:`racer_env.training.callbacks`. Ctrl-C or
SIGTERM stops at the next step and saves a checkpoint and the logs; a
reward-function error does the same, then re-raises.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from racer_env.env.actions import DEFAULT_MODEL_METADATA, ActionSpec, load_model_metadata
from racer_env.env.observations import OBSERVATIONS
from racer_env.env.race import RaceSettings, race_settings
from racer_env.env.rewards import DEFAULT_REWARD, DEFAULT_TIME_LIMIT_S, RewardFunction, interrupt_reward_call, reward_file
from racer_env.env.simtrace import TraceWriter
from racer_env.errors import ModelMetadataError, RacerEnvError, RunDirError
from racer_env.sim.track import DEFAULT_TRACK, Track
from racer_env.sim.vehicle import car_model_for
from racer_env.training.evaluation import EvalResult, evaluate_run
from racer_env.training.hyperparameters import PPO_LOG_STD_INIT, check_sb3_settings, load_hyperparameters, rollout_steps
from racer_env.training.rundir import RunDir, atomic_write_bytes, atomic_write_json

__all__ = ["TrainConfig", "train", "TrainResult", "DEFAULT_TIMESTEPS"]

DEFAULT_TIMESTEPS = 300_000
"""Steps of a run that sets neither ``timesteps`` nor ``minutes``: about 1.5 minutes here."""
EVAL_RESETS_WITH_OBJECTS = 10
"""Resets allowed in the evaluations during training in a race with objects: a crash costs the penalty, and
the lap goes on (DeepRacer's evaluations allow resets; DRfC's default is 100)."""
NET_ARCH = [64, 64]
"""Hidden layers of the policy and value networks on the vector observation: small, for 26 values."""
SAC_CAMERA_BUFFER = 30_000
"""SAC's replay buffer with a camera [transitions]: 30,000 pairs of 19 KB frames take 1.2 GB (SB3's default of a
million would take 38 GB)."""


@dataclass(frozen=True)
class TrainConfig:
    """One training run. Paths may be relative to the working directory.

    Attributes:
        track: track name or route file (default: the resumed run's, else harbour_loop).
        reward: reward function file, or a name in reward_functions/ (default: the resumed run's copy, else
            progress_speed; a different one on --resume is DeepRacer's "clone model").
        model_metadata: model_metadata.json, or None for racer_env's default action space.
        hyperparameters: hyperparameters.json, or None for racer_env's defaults.
        timesteps: environment steps to train (None: until ``minutes`` or the episode cap).
        minutes: wall-clock budget (None: no limit).
        n_envs: environments stepped together in one process.
        seed: random seed.
        out: the run directory.
        resume: a run directory to continue from.
        eval_laps: laps of the evaluation at the end.
        quiet: no progress display.
        reverse: drive the track the other way.
        until_laps: stop as soon as a greedy evaluation drives 3 clean laps in a row (with ``until_crashes``
            crashes a lap allowed).
        until_crashes: crashes allowed in each lap for ``until_laps`` (head-to-bot's target allows one).
        vec: ``"dummy"``: all envs in this process (DummyVecEnv: faster and steadier on 2 cores, see
            benchmarks/vec_envs.py); ``"subproc"``: each env in its own process (a script that calls train()
            this way needs an ``if __name__ == "__main__":`` guard).
        reward_time_limit: seconds one reward call may take before it is stopped as an error (None: no limit).
        sim_trace_log: also write ``logs/training.log``, SIM_TRACE_LOG lines as in a robomaker log (the
            simtrace CSVs hold the same rows; ``racer unpack RUN --log`` writes it later too).
        race: the race settings: a simulator YAML or a DRfC run.env (``racer_env.env.race``; default: the
            resumed run's, else a time trial). The run keeps them in ``race.yaml``.
        observation: ``"camera"`` or ``"vector"`` (default: the resumed run's, else ``"camera"`` when
            model_metadata's ``sensor`` lists a camera, as on AWS, else ``"vector"``).
        frame_stack: camera frames stacked into one observation (default: the resumed run's, else 1, as on AWS).
        torch_threads: threads torch may use (default: 1 for the vector's small networks; for a camera's
            convolutions, up to 4, as many as there are cores).
    """

    track: str | None = None
    reward: str | None = None
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
    until_crashes: int = 0
    vec: str = "dummy"
    reward_time_limit: float | None = DEFAULT_TIME_LIMIT_S
    sim_trace_log: bool = False
    race: str | None = None
    observation: str | None = None
    frame_stack: int | None = None
    torch_threads: int | None = None

    def run_dir(self) -> RunDir:
        if self.out:
            return RunDir(self.out)
        if self.resume:
            return RunDir(self.resume)
        return RunDir(Path("runs") / time.strftime("%Y%m%d-%H%M%S"))


@dataclass
class TrainResult:
    run_dir: Path
    timesteps: int
    episodes: int
    seconds: float
    stopped: str  # "done", "interrupted ...", "max_episodes", "minutes", "laps", "stopped" (by on_update)
    evaluation: EvalResult | None = None
    first_clean_laps_s: float | None = None  # training wall time until a greedy evaluation drove all laps cleanly
    history: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What train() decided about the run directory (resumed, started afresh...)."""

    @property
    def interrupted(self) -> bool:
        return self.stopped.startswith("interrupted")


def train(cfg: TrainConfig, console: Any = None,
          on_update: Callable[[dict[str, Any], EvalResult], bool | None] | None = None) -> TrainResult:
    """Train a model as ``cfg`` says, evaluate it, and write the run directory.

    ``on_update`` is called after each policy update with its history row (:class:`TrainResult`'s ``history``)
    and the greedy evaluation of that update (``racer sweep`` reports them to Ray Tune); when it returns False,
    the run stops there, saving as at the end of its budget, with status "stopped".

    The run directory is locked for the whole run: a second process training into it gets a RunDirError naming
    the first.

    Raises:
        RacerEnvError: bad input (the message names the file or field), a run directory in use or already
            holding a run, or a reward-function error during training (after saving a checkpoint).
    """
    run = cfg.run_dir()
    if run.path.exists() and not run.path.is_dir():
        raise RunDirError(f"{run.path}: a file, not a folder: choose another --out")
    if cfg.resume and not Path(cfg.resume).is_dir():
        raise RunDirError(f"{cfg.resume}: no such run directory to resume")
    with run.lock():
        return _train(cfg, run, console, on_update)


def _say(console: Any, text: str) -> None:
    from rich.console import Console

    (console or Console()).print(text, soft_wrap=True)  # one line each: paths stay whole for copying


def _train(cfg: TrainConfig, run: RunDir, console: Any,
           on_update: Callable[[dict[str, Any], EvalResult], bool | None] | None) -> TrainResult:
    import torch
    from stable_baselines3.common.callbacks import CallbackList
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    import racer_env.training.callbacks as cb

    notes: list[str] = []
    previous: dict[str, Any] = {}
    source: RunDir | None = None
    if cfg.resume and RunDir(cfg.resume).path.resolve() == run.path.resolve() and run.path.is_dir() \
            and not run.exists():  # killed before it wrote run.json: nothing in it is worth keeping
        notes.append(f"{run}: nothing to resume (it stopped before it started training): starting afresh there")
        run.clear()
        cfg = replace(cfg, resume=None)
    if cfg.resume:
        source = RunDir(cfg.resume)
        previous = source.info()
        if source.latest_model() is None:
            if source.path.resolve() != run.path.resolve():
                raise RunDirError(f"{source}: nothing to resume from: it stopped before its first checkpoint")
            notes.append(f"{run}: nothing to resume (it stopped before its first checkpoint): starting afresh there")
            source, previous = None, {"track": previous.get("track"), "reverse": previous.get("reverse", False)}
            run.clear()
        else:  # settings not given again come from the run being resumed
            cfg = replace(cfg, model_metadata=cfg.model_metadata or _existing(source.model_metadata),
                          hyperparameters=cfg.hyperparameters or _existing(source.hyperparameters),
                          reward=cfg.reward or str(source.reward_function), track=cfg.track or previous.get("track"),
                          reverse=cfg.reverse or bool(previous.get("reverse", False)),
                          race=cfg.race or _existing(source.race))
    in_place = source is not None and source.path.resolve() == run.path.resolve()
    if run.exists() and not in_place and not cfg.resume:
        if run.latest_model() is not None:
            raise RunDirError(f"{run}: a run is already there: continue it with --resume {run}, or choose another --out")
        notes.append(f"{run}: holds a run that saved no model (it stopped before its first checkpoint): "
                     f"starting afresh in it")
        run.clear()
    cfg = replace(cfg, track=cfg.track or previous.get("track") or DEFAULT_TRACK, reward=cfg.reward or DEFAULT_REWARD)
    for note in notes:
        _say(console, note)

    # check every input before anything is written
    assert cfg.track is not None and cfg.reward is not None
    track = Track.load(cfg.track, reverse=cfg.reverse)
    actions = load_model_metadata(cfg.model_metadata)
    hp, set_keys = load_hyperparameters(cfg.hyperparameters)
    if actions.algorithm == "sac" and actions.is_discrete:
        raise ModelMetadataError(f"{cfg.model_metadata}: field 'training_algorithm': sac needs a continuous space")
    reward_src = reward_file(cfg.reward)
    RewardFunction(reward_src)  # loads, or names the file and line that fail
    race = race_settings(cfg.race)
    features = bool(previous.get("object_features", race.has_objects)) if source is not None else race.has_objects
    observation = _observation(cfg, actions, previous if source is not None else {})
    frame_stack = cfg.frame_stack or int(previous.get("frame_stack", 1) if source is not None else 1)
    if frame_stack < 1:
        raise ModelMetadataError(f"frame_stack: expected a whole number >= 1, got {frame_stack}")
    torch.set_num_threads(cfg.torch_threads or (1 if observation == "vector" else min(4, os.cpu_count() or 1)))
    n_envs = max(1, cfg.n_envs)
    n_steps = rollout_steps(hp, set_keys, track, actions, n_envs)
    check_sb3_settings(hp, actions, n_steps, n_envs, cfg.hyperparameters)

    run.logs.mkdir(parents=True, exist_ok=True)
    if reward_src.resolve() != run.reward_function.resolve():
        shutil.copyfile(reward_src, run.reward_function)
    atomic_write_json(run.model_metadata, actions.metadata or DEFAULT_MODEL_METADATA)
    atomic_write_json(run.hyperparameters, {k: v for k, v in asdict(hp).items() if v is not None})
    if race.as_dict():
        atomic_write_bytes(run.race, race.to_yaml().encode())
    elif run.race.exists():
        run.race.unlink()

    state = cb.RunState(hp.num_episodes_between_training)
    if in_place:  # continuing in the same directory: rebuild its state from its files
        recovered = run.recover(hp.num_episodes_between_training)
        state.episodes, state.metrics = recovered.episodes, recovered.metrics
        state.best_score, state.best_lap = recovered.best_score, recovered.best_lap
        notes.append(f"{run}: resuming after episode {recovered.episodes} from {source.latest_model().name}")  # type: ignore[union-attr]
        _say(console, notes[-1])
    writer = TraceWriter(run.simtrace_dir, run.training_log if cfg.sim_trace_log else None,
                         hp.num_episodes_between_training, on_episode=state.add_episode, first_episode=state.episodes)

    subproc = cfg.vec == "subproc" and n_envs > 1
    env_kwargs = dict(track=track, model_metadata=actions, reverse=cfg.reverse, race=race, object_features=features,
                      observation=observation, frame_stack=frame_stack)
    factories: list[Callable[[], gym.Env]] = [
        _EnvFactory(env_kwargs, str(reward_src), run.reward_log, i / n_envs, ignore_sigint=subproc,
                    reward_time_limit=cfg.reward_time_limit) for i in range(n_envs)]
    venv = SubprocVecEnv(factories, start_method="forkserver") if subproc else DummyVecEnv(factories)
    venv.seed(cfg.seed)
    model = _make_model(cfg, actions, hp, n_steps, venv, run, source)

    timesteps = cfg.timesteps or (None if cfg.minutes else DEFAULT_TIMESTEPS)
    checkpoints = cb.Checkpoints(run)
    callbacks: list[Any] = [
        cb.RecordEpisodes(state, writer),
        cb.EvaluateAndKeepBest(state, run, env_kwargs,
                               on_clean=(lambda: state.request_stop("laps")) if cfg.until_laps else None,
                               max_resets=EVAL_RESETS_WITH_OBJECTS if race.has_objects else 0,
                               crashes_per_lap=cfg.until_crashes, on_update=on_update),
        cb.WatchRewardTime(state, console, str(reward_src), timesteps),
    ]
    if not cfg.quiet:
        callbacks.append(cb.ShowProgress(state, console, timesteps, cfg.minutes))
    callbacks += [cb.WriteMetrics(state, run), checkpoints, cb.StopWhen(state, cfg.minutes, hp.term_cond_max_episodes)]

    run_info = {
        "racer_env": __import__("racer_env").__version__,
        "track": str(Path(cfg.track).resolve()) if Path(cfg.track).exists() else cfg.track,
        "reverse": cfg.reverse, "reward": str(reward_src),
        "algorithm": actions.algorithm, "car_model": car_model_for(actions.version).name,
        "model_metadata_version": actions.version, "n_envs": n_envs, "n_steps": n_steps, "seed": cfg.seed,
        "resumed_from": cfg.resume, "created": time.strftime("%Y-%m-%d %H:%M:%S"), "race": race.kind,
        "object_features": features, "observation": observation, "frame_stack": frame_stack,
        "neural_network": actions.neural_network if observation == "camera" else None,
    }
    run.write_info({**previous, **run_info, "status": "training"})

    def on_signal(signum: int, frame: Any) -> None:
        if (state.stop_reason or "").startswith("interrupted"):
            raise KeyboardInterrupt  # a second signal: stop now
        state.request_stop(f"interrupted by {signal.Signals(signum).name}")
        interrupt_reward_call()  # inside a slow reward function: stop it now (the checkpoint is still saved)

    stop_signals = [s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]
    if threading.current_thread() is not threading.main_thread():
        stop_signals = []  # only the main thread may handle signals (a Ray Tune trial runs in a thread)
    old_handlers = {s: signal.signal(s, on_signal) for s in stop_signals}
    state.started = time.time()
    error: BaseException | None = None
    try:
        model.learn(total_timesteps=timesteps if timesteps is not None else 10**12, callback=CallbackList(callbacks),
                    reset_num_timesteps=not cfg.resume, tb_log_name="run", progress_bar=False)
    except RacerEnvError as err:
        error = err
    except KeyboardInterrupt:
        state.request_stop("interrupted")
    finally:
        for s, h in old_handlers.items():
            signal.signal(s, h)
        writer.close()
        venv.close()
        checkpoints.model = model
        checkpoints.save()
        reason = state.stop_reason or ""
        status = "failed" if error else ("interrupted" if reason.startswith("interrupt") else
                                          "stopped" if reason == "stopped" else "trained")
        run.write_info({**previous, **run_info, "status": status, "timesteps": int(model.num_timesteps),
                        "episodes": state.episodes, "train_seconds": round(time.time() - state.started, 1),
                        "best_score": state.best_score})
    if error is not None:
        raise error

    run.save_model(model, run.final_model)
    result = TrainResult(run.path, int(model.num_timesteps), state.episodes, time.time() - state.started,
                         state.stop_reason or "done", first_clean_laps_s=state.first_clean_s, history=state.history,
                         notes=notes)
    if not result.interrupted and cfg.eval_laps > 0:
        result.evaluation, _ = evaluate_run(run.path, laps=cfg.eval_laps)
    return result


def _make_model(cfg: TrainConfig, actions: ActionSpec, hp: Any, n_steps: int, venv: Any, run: RunDir,
                source: RunDir | None) -> Any:
    """A new SB3 model, or the newest model of the run being resumed."""
    from stable_baselines3 import PPO, SAC

    from racer_env.training.networks import policy_kwargs
    from racer_env.training.rundir import load_model

    if source is not None:
        model = load_model(source.latest_model(), actions.algorithm, env=venv)  # type: ignore[arg-type]
        model.tensorboard_log = str(run.tensorboard)
        return model
    camera = isinstance(venv.observation_space, spaces.Dict)
    if actions.algorithm == "sac":
        kwargs: dict[str, Any] = dict(net_arch=NET_ARCH)
        if camera:  # the simulator's network under SB3's heads; a replay buffer of images that fits in memory
            kwargs = {**policy_kwargs(actions.neural_network), "net_arch": [256]}
        return SAC("MultiInputPolicy" if camera else "MlpPolicy", venv, learning_rate=hp.lr,
                   batch_size=hp.batch_size, gamma=hp.discount_factor, ent_coef=hp.sac_alpha, policy_kwargs=kwargs,
                   buffer_size=SAC_CAMERA_BUFFER if camera else 1_000_000, seed=cfg.seed,
                   tensorboard_log=str(run.tensorboard), device="cpu", verbose=0)
    kwargs = policy_kwargs(actions.neural_network, PPO_LOG_STD_INIT) if camera else \
        dict(net_arch=NET_ARCH, log_std_init=PPO_LOG_STD_INIT)
    return PPO("MultiInputPolicy" if camera else "MlpPolicy", venv, learning_rate=hp.lr, n_steps=n_steps,
               batch_size=hp.batch_size, n_epochs=hp.num_epochs, gamma=hp.discount_factor, gae_lambda=0.95,
               clip_range=0.2, ent_coef=hp.beta_entropy, policy_kwargs=kwargs, seed=cfg.seed,
               tensorboard_log=str(run.tensorboard), device="cpu", verbose=0)


def _observation(cfg: TrainConfig, actions: ActionSpec, previous: dict[str, Any]) -> str:
    """The run's observation: asked for, else the resumed run's (a run from before the camera: the vector), else
    as model_metadata's sensor says."""
    before = previous.get("observation", "vector") if previous else None
    kind = cfg.observation or before or actions.observation
    if kind not in OBSERVATIONS:
        raise ModelMetadataError(f"--observation: expected one of {', '.join(OBSERVATIONS)}, got {kind!r}")
    if kind == "camera" and not actions.camera:
        raise ModelMetadataError(f"{cfg.model_metadata or 'the default model_metadata'}: field 'sensor': the camera "
                                 f"observation needs a camera (FRONT_FACING_CAMERA or STEREO_CAMERAS), got "
                                 f"{actions.sensors}")
    if before and kind != before:
        raise ModelMetadataError(f"{Path(str(cfg.resume)) / 'run.json'}: field 'observation': the model was trained "
                                 f"on the {before}; it cannot go on with the {kind}")
    return kind


class _EnvFactory:
    """Builds one training env, in a worker process when the envs run in subprocesses (a closure would not pickle).

    The env records its SIM_TRACE rows and hands each finished episode to the main process in
    ``info["trace"]``; a reward-function error comes back as ``info["error"]``.
    """

    def __init__(self, env_kwargs: dict[str, Any], reward: str, reward_log: Path, start_offset: float,
                 ignore_sigint: bool, reward_time_limit: float | None):
        self.env_kwargs, self.reward, self.reward_log = env_kwargs, reward, reward_log
        self.start_offset, self.ignore_sigint, self.reward_time_limit = start_offset, ignore_sigint, reward_time_limit

    def __call__(self) -> gym.Env:
        from racer_env.env.environment import RacerEnv

        if self.ignore_sigint:  # Ctrl-C reaches every process; the main one stops the run and saves
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        out = open(self.reward_log, "a", buffering=1)
        reward = RewardFunction(self.reward, stdout=out, time_limit_s=self.reward_time_limit)
        env = RacerEnv(**self.env_kwargs, reward_function=reward, mode="train", start_offset=self.start_offset,
                       record_trace=True)
        return _ErrorsToInfo(env)


class _ErrorsToInfo(gym.Wrapper):
    """Ends the episode with ``info["error"]`` when a step raises RacerEnvError (a worker cannot raise to us)."""

    def step(self, action):
        try:
            return self.env.step(action)
        except RacerEnvError as err:
            space = self.env.observation_space
            obs = {k: np.zeros(v.shape or (), v.dtype or np.float32) for k, v in space.spaces.items()} \
                if isinstance(space, spaces.Dict) else np.zeros(space.shape or (), dtype=np.float32)
            return obs, 0.0, True, False, {"error": str(err), "error_type": type(err).__name__}


def _existing(p: Path) -> str | None:
    return str(p) if p.exists() else None
