"""Training with stable-baselines3 on DeepRacer's files: ``train(TrainConfig(...))``.

``train`` checks every input before it writes anything, fills a run directory
(:mod:`racer_env.training.rundir`), builds the vectorised envs and the SB3 model,
and runs it with the callbacks of :mod:`racer_env.training.callbacks`. Ctrl-C or
SIGTERM stops at the next step and saves a checkpoint and the logs; a
reward-function error does the same, then re-raises.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from racer_env.env.config import EnvConfig
from racer_env.env.fleet import Fleet
from racer_env.env.rewards import DEFAULT_TIME_LIMIT_S, RewardFunction, interrupt_reward_call
from racer_env.env.simtrace import TraceWriter
from racer_env.errors import ModelMetadataError, RacerEnvError, RunDirError
from racer_env.files import atomic_write_json
from racer_env.training.evaluation import EvalResult, evaluate_run
from racer_env.training.hyperparameters import (CARS, PPO_LOG_STD_INIT, Hyperparameters, check_sb3_settings,
                                                hyperparameters_from, load_hyperparameters, rollout_steps)
from racer_env.training.rundir import RunDir

if TYPE_CHECKING:
    import racer_env.training.callbacks as cb

__all__ = ["TrainConfig", "train", "TrainResult", "training_env", "DEFAULT_TIMESTEPS"]

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
        env: the environment to train in (:class:`~racer_env.env.config.EnvConfig`; default: the resumed run's,
            else racer_env's defaults). :func:`training_env` builds it for a resumed run from the settings given
            again. A different reward function on ``resume`` is DeepRacer's "clone model".
        hyperparameters: hyperparameters.json, a dict of its fields, or None for racer_env's defaults.
        timesteps: environment steps to train (None: until ``minutes`` or the episode cap).
        minutes: wall-clock budget (None: no limit).
        n_envs: cars stepped together (a fleet's, or one env each with ``vec`` dummy or subproc).
        seed: random seed.
        out: the run directory.
        resume: a run directory to continue from.
        eval_laps: laps of the evaluation at the end.
        quiet: no progress display.
        until_laps: stop as soon as a greedy evaluation drives 3 clean laps in a row (with ``until_crashes``
            crashes a lap allowed).
        until_crashes: crashes allowed in each lap for ``until_laps`` (head-to-bot's target allows one).
        vec: ``"fleet"``: every car stepped together by one :class:`~racer_env.env.fleet.Fleet` (the default,
            and the fastest); ``"dummy"``: one RacerEnv each, in this process (SB3's DummyVecEnv);
            ``"subproc"``: one RacerEnv each, in its own process (a script that calls train() this way needs an
            ``if __name__ == "__main__":`` guard).
        reward_time_limit: seconds one reward call may take before it is stopped as an error (None: no limit).
        sim_trace_log: also write ``logs/training.log``, SIM_TRACE_LOG lines as in a robomaker log (the
            simtrace CSVs hold the same rows).
        torch_threads: threads torch may use (default: 1 for the vector's small networks; for a camera's
            convolutions, up to 4, as many as there are cores).
        network_layout: how the camera's network is built (racer_env.training.networks): ``"shared"`` (one
            network whose features the policy and the value share) or ``"aws"`` (two networks, as AWS trains
            them). A resumed run keeps its model's.
    """

    env: EnvConfig | None = None
    hyperparameters: str | Path | Mapping[str, Any] | None = None
    timesteps: int | None = None
    minutes: float | None = None
    n_envs: int = CARS
    seed: int = 0
    out: str | None = None
    resume: str | None = None
    eval_laps: int = 3
    quiet: bool = False
    until_laps: bool = False
    until_crashes: int = 0
    vec: str = "fleet"
    reward_time_limit: float | None = DEFAULT_TIME_LIMIT_S
    sim_trace_log: bool = False
    torch_threads: int | None = None
    network_layout: str = "shared"

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


def training_env(resume: str | Path | None = None, observation: str | None = None, **given: Any) -> EnvConfig:
    """The env of a training run: the resumed run's (when it has one), with what is given again, else one made
    from what is given (:meth:`EnvConfig.make`'s arguments; None means not given).

    Raises:
        RacerEnvError: a bad setting, or another observation than the resumed model's (named in its run.json).
    """
    given = {k: v for k, v in given.items() if v is not None}
    if resume is not None and RunDir(resume).exists():
        return RunDir(resume).env_config(observation, **given)
    return EnvConfig.make(observation=observation, **given)


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
    """The steps of a run, in order; each step is a function below."""
    start = _start(cfg, run)
    for note in start.notes:
        _say(console, note)
    plan = _plan(cfg, start)
    state, writer = _keep_settings(cfg, run, start, plan, console)
    venv = _make_envs(cfg, start.env, run, plan)
    model = _make_model(cfg, start.env, plan, venv, run, start.source)
    callbacks, checkpoints = _callbacks(cfg, start.env, run, plan, state, writer, console, on_update)
    error = _learn(cfg, model, callbacks, state)
    writer.close()
    venv.close()
    checkpoints.model = model
    checkpoints.save()
    status = "failed" if error else ("interrupted" if (state.stop_reason or "").startswith("interrupt") else
                                      "stopped" if state.stop_reason == "stopped" else "trained")
    run.write_info({**start.info, "status": status, "timesteps": int(model.num_timesteps),
                    "episodes": state.episodes, "train_seconds": round(time.time() - state.started, 1),
                    "best_score": state.best_score})
    if error is not None:
        raise error
    run.save_model(model, run.final_model)
    result = TrainResult(run.path, int(model.num_timesteps), state.episodes, time.time() - state.started,
                         state.stop_reason or "done", first_clean_laps_s=state.first_clean_s, history=state.history,
                         notes=start.notes)
    if not result.interrupted and cfg.eval_laps > 0:
        result.evaluation, _ = evaluate_run(run.path, laps=cfg.eval_laps)
    return result


@dataclass
class _Start:
    """Where a run starts: its env, the run it continues (None: a new model) and what train() decided."""

    env: EnvConfig
    source: RunDir | None
    in_place: bool
    notes: list[str]
    info: dict[str, Any] = field(default_factory=dict)
    """run.json as it is written: the earlier run's, with this run's settings."""


def _start(cfg: TrainConfig, run: RunDir) -> _Start:
    """Decide whether the run resumes a model, in place or from another run, or starts afresh (a run that was
    killed before its first checkpoint), and which env it trains in."""
    notes: list[str] = []
    resume: RunDir | None = RunDir(cfg.resume) if cfg.resume else None
    if resume is not None and resume.path.resolve() == run.path.resolve() and run.path.is_dir() and not run.exists():
        notes.append(f"{run}: nothing to resume (it stopped before it started training): starting afresh there")
        run.clear()
        resume = None
    env = cfg.env or training_env(resume.path if resume else None)
    source, previous = resume, (resume.info() if resume is not None else {})
    if source is not None and source.latest_model() is None:
        if source.path.resolve() != run.path.resolve():
            raise RunDirError(f"{source}: nothing to resume from: it stopped before its first checkpoint")
        notes.append(f"{run}: nothing to resume (it stopped before its first checkpoint): starting afresh there")
        source, previous = None, {}
        run.clear(keep=(env.reward_path,))  # the env may be the run's own, and its reward function its copy
    if source is not None:
        trained_on = source.env_config().observation
        if env.observation != trained_on:
            raise ModelMetadataError(f"{source.info_path}: field 'observation': the model was trained on the "
                                     f"{trained_on}; it cannot go on with the {env.observation}")
    in_place = source is not None and source.path.resolve() == run.path.resolve()
    if run.exists() and not in_place and source is None:
        if run.latest_model() is not None:
            raise RunDirError(f"{run}: a run is already there: continue it with --resume {run}, or choose another --out")
        notes.append(f"{run}: holds a run that saved no model (it stopped before its first checkpoint): "
                     f"starting afresh in it")
        run.clear()
    return _Start(env, source, in_place, notes, previous)


@dataclass(frozen=True)
class _Plan:
    """The run's training settings, all checked before anything is written."""

    hp: Hyperparameters
    n_envs: int
    n_steps: int


def _plan(cfg: TrainConfig, start: _Start) -> _Plan:
    """Check the hyperparameters (given, else the resumed run's) and the algorithm against the env, and size the
    rollout."""
    import torch

    env, actions, given = start.env, start.env.actions, cfg.hyperparameters
    if given is None and start.source is not None and start.source.hyperparameters.exists():
        given = start.source.hyperparameters
    if isinstance(given, Mapping):
        hp, set_keys = hyperparameters_from(dict(given), "hyperparameters")
    else:
        hp, set_keys = load_hyperparameters(given)
    if actions.algorithm == "sac" and actions.is_discrete:
        raise ModelMetadataError(f"{actions.source}: field 'training_algorithm': sac needs a continuous space")
    RewardFunction(env.reward)  # loads, or names the file and line that fail
    torch.set_num_threads(cfg.torch_threads or (1 if env.observation == "vector" else min(4, os.cpu_count() or 1)))
    n_envs = max(1, cfg.n_envs)
    n_steps = rollout_steps(hp, set_keys, env.track, actions, n_envs)
    check_sb3_settings(hp, actions, n_steps, n_envs, None if isinstance(given, Mapping) else given)
    return _Plan(hp, n_envs, n_steps)


def _keep_settings(cfg: TrainConfig, run: RunDir, start: _Start, plan: _Plan,
                   console: Any) -> tuple["cb.RunState", TraceWriter]:
    """Write the run's settings (run.json, the env's files, hyperparameters.json) and, when it continues in
    place, rebuild its state from its files; open its SIM_TRACE writer."""
    import racer_env.training.callbacks as cb

    env, hp = start.env, plan.hp
    run.logs.mkdir(parents=True, exist_ok=True)
    atomic_write_json(run.hyperparameters, {k: v for k, v in asdict(hp).items() if v is not None})
    start.info.update({
        "racer_env": __import__("racer_env").__version__, "env": run.keep_env(env),
        "algorithm": env.actions.algorithm, "neural_network": env.neural_network,
        "network_layout": _layout(cfg, start) if env.observation == "camera" else None, "n_envs": plan.n_envs,
        "n_steps": plan.n_steps, "seed": cfg.seed, "resumed_from": cfg.resume,
        "created": time.strftime("%Y-%m-%d %H:%M:%S")})
    for old in ("track", "reverse", "reward", "race", "object_features", "observation", "frame_stack", "car_model",
                "model_metadata_version"):  # racer_env 0.3 kept the env's fields at the top
        start.info.pop(old, None)
    state = cb.RunState(hp.num_episodes_between_training)
    if start.in_place:  # continuing in the same directory: rebuild its state from its files
        recovered = run.recover(hp.num_episodes_between_training)
        state.episodes, state.metrics = recovered.episodes, recovered.metrics
        state.best_score, state.best_lap = recovered.best_score, recovered.best_lap
        assert start.source is not None
        start.notes.append(f"{run}: resuming after episode {recovered.episodes} from "
                           f"{start.source.latest_model().name}")  # type: ignore[union-attr]
        _say(console, start.notes[-1])
    run.write_info({**start.info, "status": "training"})
    writer = TraceWriter(run.simtrace_dir, run.training_log if cfg.sim_trace_log else None,
                         hp.num_episodes_between_training, on_episode=state.add_episode, first_episode=state.episodes)
    return state, writer


def _layout(cfg: TrainConfig, start: _Start) -> str:
    """The camera network's layout: a resumed run's model keeps the one it was built with."""
    if start.source is not None:
        return str(start.source.info().get("network_layout") or "shared")
    return cfg.network_layout


def _make_envs(cfg: TrainConfig, env: EnvConfig, run: RunDir, plan: _Plan) -> Any:
    """The training cars: one fleet (:class:`~racer_env.training.vecfleet.FleetVecEnv`), or one RacerEnv each,
    in this process (DummyVecEnv) or in processes of their own (SubprocVecEnv)."""
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    n = plan.n_envs
    if cfg.vec == "fleet":
        from racer_env.training.vecfleet import FleetVecEnv

        log = open(run.reward_log, "a", buffering=1)
        fleet = Fleet(env, n, mode="train", record_trace=True, reward_output=log,
                      reward_time_limit=cfg.reward_time_limit)
        venv: Any = FleetVecEnv(fleet, closing=[log])
        venv.seed(cfg.seed)
        return venv
    subproc = cfg.vec == "subproc" and n > 1
    factories: list[Callable[[], gym.Env]] = [
        _EnvFactory(env, run.reward_log, i / n, ignore_sigint=subproc, reward_time_limit=cfg.reward_time_limit)
        for i in range(n)]
    venv = SubprocVecEnv(factories, start_method="forkserver") if subproc else DummyVecEnv(factories)
    venv.seed(cfg.seed)
    return venv


def _callbacks(cfg: TrainConfig, env: EnvConfig, run: RunDir, plan: _Plan, state: "cb.RunState",
               writer: TraceWriter, console: Any,
               on_update: Callable[[dict[str, Any], EvalResult], bool | None] | None) -> tuple[Any, "cb.Checkpoints"]:
    """The callbacks of :mod:`racer_env.training.callbacks`, in their order."""
    from stable_baselines3.common.callbacks import CallbackList

    import racer_env.training.callbacks as cb

    timesteps = _budget(cfg)
    checkpoints = cb.Checkpoints(run)
    callbacks: list[Any] = [
        cb.RecordEpisodes(state, writer),
        cb.EvaluateAndKeepBest(state, run, env,
                               on_clean=(lambda: state.request_stop("laps")) if cfg.until_laps else None,
                               max_resets=EVAL_RESETS_WITH_OBJECTS if env.race.has_objects else 0,
                               crashes_per_lap=cfg.until_crashes, on_update=on_update),
        cb.WatchRewardTime(state, console, str(env.reward_path or env.reward), timesteps),
    ]
    if not cfg.quiet:
        callbacks.append(cb.ShowProgress(state, console, timesteps, cfg.minutes))
    callbacks += [cb.WriteMetrics(state, run), checkpoints,
                  cb.StopWhen(state, cfg.minutes, plan.hp.term_cond_max_episodes)]
    return CallbackList(callbacks), checkpoints


def _budget(cfg: TrainConfig) -> int | None:
    """The steps to train: ``timesteps``, else none with a time budget, else the default."""
    return cfg.timesteps or (None if cfg.minutes else DEFAULT_TIMESTEPS)


def _learn(cfg: TrainConfig, model: Any, callbacks: Any, state: "cb.RunState") -> RacerEnvError | None:
    """Run SB3's learning loop; Ctrl-C, SIGTERM and SIGHUP stop it at the next step (a second one at once).
    Returns the reward-function error that stopped it, if one did."""
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
    timesteps = _budget(cfg)
    try:
        model.learn(total_timesteps=timesteps if timesteps is not None else 10**12, callback=callbacks,
                    reset_num_timesteps=not cfg.resume, tb_log_name="run", progress_bar=False)
    except RacerEnvError as err:
        return err
    except KeyboardInterrupt:
        state.request_stop("interrupted")
    finally:
        for s, h in old_handlers.items():
            signal.signal(s, h)
    return None


def _make_model(cfg: TrainConfig, env: EnvConfig, plan: _Plan, venv: Any, run: RunDir,
                source: RunDir | None) -> Any:
    """A new SB3 model, or the newest model of the run being resumed."""
    from stable_baselines3 import PPO, SAC

    from racer_env.training.networks import policy_kwargs
    from racer_env.training.rundir import load_model

    actions, hp = env.actions, plan.hp
    if source is not None:
        model = load_model(source.latest_model(), actions.algorithm, env=venv)  # type: ignore[arg-type]
        model.tensorboard_log = str(run.tensorboard)
        return model
    camera = isinstance(venv.observation_space, spaces.Dict)
    if actions.algorithm == "sac":
        kwargs: dict[str, Any] = dict(net_arch=NET_ARCH)
        if camera:  # the simulator's network under SB3's heads; a replay buffer of images that fits in memory
            kwargs = {**policy_kwargs(actions.neural_network, layout=cfg.network_layout), "net_arch": [256]}
        return SAC("MultiInputPolicy" if camera else "MlpPolicy", venv, learning_rate=hp.lr,
                   batch_size=hp.batch_size, gamma=hp.discount_factor, ent_coef=hp.sac_alpha, policy_kwargs=kwargs,
                   buffer_size=SAC_CAMERA_BUFFER if camera else 1_000_000, seed=cfg.seed,
                   tensorboard_log=str(run.tensorboard), device="cpu", verbose=0)
    kwargs = policy_kwargs(actions.neural_network, PPO_LOG_STD_INIT, cfg.network_layout) if camera else \
        dict(net_arch=NET_ARCH, log_std_init=PPO_LOG_STD_INIT)
    return PPO("MultiInputPolicy" if camera else "MlpPolicy", venv, learning_rate=hp.lr, n_steps=plan.n_steps,
               batch_size=hp.batch_size, n_epochs=hp.num_epochs, gamma=hp.discount_factor, gae_lambda=0.95,
               clip_range=0.2, ent_coef=hp.beta_entropy, policy_kwargs=kwargs, seed=cfg.seed,
               tensorboard_log=str(run.tensorboard), device="cpu", verbose=0)


class _EnvFactory:
    """Builds one training env, in a worker process when the envs run in subprocesses (a closure would not pickle).

    The env records its SIM_TRACE rows and hands each finished episode to the main process in
    ``info["trace"]``; a reward-function error comes back as ``info["error"]``.
    """

    def __init__(self, config: EnvConfig, reward_log: Path, start_offset: float, ignore_sigint: bool,
                 reward_time_limit: float | None):
        self.config, self.reward_log = config, reward_log
        self.start_offset, self.ignore_sigint, self.reward_time_limit = start_offset, ignore_sigint, reward_time_limit

    def __call__(self) -> gym.Env:
        from racer_env.env.environment import RacerEnv

        if self.ignore_sigint:  # Ctrl-C reaches every process; the main one stops the run and saves
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        out = open(self.reward_log, "a", buffering=1)
        env = RacerEnv(self.config, mode="train", start_offset=self.start_offset, record_trace=True,
                       reward_output=out, reward_time_limit=self.reward_time_limit)
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


