"""``racer sweep`` on Ray Tune: every trial of a sweep file trained by :func:`~racer_env.training.trainer.train`.

How a sweep runs:

* The driver copies the sweep's reward functions, tracks, model_metadata and race files into ``OUT/ship/`` and
  writes ``OUT/sweep.yaml`` pointing there (a self-contained copy that ``--resume`` reads). Ray's runtime
  environment ships ``OUT/ship/`` to every node as the trials' working directory: no shared disk is assumed
  for the inputs.
* Each trial is a Ray Tune function trainable using one CPU: one process stepping ``n_envs`` envs together
  (DummyVecEnv), as ``python train.py`` does. As many trials run at once as there are CPUs (``--workers``).
* A trial trains into ``OUT/trials/<trial id>/``, an ordinary run directory, and reports to Tune after every
  policy update: the objective of the best evaluation so far (the one ``best_model.zip`` holds), the steps,
  the laps and the best lap. ASHA stops trials that fall behind; Optuna's TPE proposes points when the file
  says ``search: optuna``.
* A trial whose reward function raises reports the error and ends: it is marked failed; the sweep goes on.
* Ctrl-C stops the trials (each keeps its last checkpoint) and Tune saves the experiment in ``OUT/tune/``;
  ``--resume OUT`` restores it, keeps finished trials and continues the others from their checkpoints.
"""

from __future__ import annotations

import logging
import os
import resource
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from racer_env.errors import RacerEnvError, RunDirError
from racer_env.training.sweepfile import NO_LAP_S, OBJECTIVES, Range, SweepPlan, load_sweep, objective_value, rank_key

__all__ = ["run_sweep", "SweepResult", "stage", "INSTALL_HINT"]

INSTALL_HINT = "racer sweep needs Ray Tune and Optuna: pip install 'racer_env[sweep]' (ray[tune], optuna)"
ASHA_GRACE = 0.25
"""ASHA's first rung, as a fraction of the per-trial budget: a trial trains at least this much before it can be
stopped (RL curves are noisy early)."""
ASHA_REDUCTION = 3
"""ASHA keeps the best third of the trials at each rung: at 1/4 and 3/4 of the budget (its ``max_t`` is 1.5 x
the budget, so no rung falls on the budget itself and every trial that survives ends on its own)."""
TRIALS_DIR, SHIP_DIR, TUNE_DIR = "trials", "ship", "tune"
WORKER_ENV = {
    "RAY_CHDIR_TO_TRIAL_DIR": "0",  # a trial's working directory stays the shipped files
    # Trials reuse their worker process (reuse_actors: no second import of torch and SB3, 1.84x sequential
    # against 1.35x without, benchmarks/sweep.py). A stopped trial ends at its next report, up to one policy
    # update later, then saves: Tune must wait that long (default 2 s) or it fails the next trial there.
    "TUNE_FUNCTION_THREAD_TIMEOUT_S": "300",
}


@dataclass
class SweepResult:
    """What a sweep produced: a row per trial, ranked best first, and each trial's learning curve."""

    out: Path
    plan: SweepPlan
    rows: list[dict[str, Any]]
    curves: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    """Per trial id: (timesteps, objective of the best evaluation so far) after each policy update."""
    interrupted: bool = False
    seconds: float = 0.0

    @property
    def best(self) -> dict[str, Any] | None:
        ok = [r for r in self.rows if r["objective"] is not None and not str(r["status"]).startswith("failed")]
        return ok[0] if ok else None


def stage(plan: SweepPlan, out: Path) -> SweepPlan:
    """Copy the sweep's input files into ``out/ship/`` and write ``out/sweep.yaml`` naming them there: the plan
    the trials run (and ``--resume`` reads)."""
    import yaml

    ship = out / SHIP_DIR
    ship.mkdir(parents=True, exist_ok=True)

    def put(src: str, folder: str) -> str:
        dst_dir = ship / folder
        dst_dir.mkdir(exist_ok=True)
        name, n = Path(src).name, 2
        while (dst_dir / name).exists() and (dst_dir / name).read_bytes() != Path(src).read_bytes():
            name, n = f"{Path(src).stem}_{n}{Path(src).suffix}", n + 1
        shutil.copyfile(src, dst_dir / name)
        return f"{SHIP_DIR}/{folder}/{name}"

    hps = {k: ({"low": v.low, "high": v.high, "log": v.log} if isinstance(v, Range) else
               (list(v) if isinstance(v, tuple) else v)) for k, v in plan.hyperparameters.items()}
    budget = {k: v for k, v in (("timesteps", plan.timesteps), ("minutes", plan.minutes),
                                ("total_minutes", plan.total_minutes)) if v is not None}
    data: dict[str, Any] = {
        "rewards": [put(r, "rewards") for r in plan.rewards], "tracks": [put(t, "tracks") for t in plan.tracks],
        "hyperparameters": hps, "seeds": list(plan.seeds), "budget": budget, "objective": plan.objective,
        "search": plan.search, "samples": plan.samples, "early_stopping": plan.early_stopping, "n_envs": plan.n_envs,
    }
    if plan.model_metadata != (None,):
        data["model_metadata"] = [put(m, "model_metadata") for m in plan.model_metadata if m is not None]
    if plan.race is not None:
        data["race"] = put(plan.race, "race")
    (out / "sweep.yaml").write_text(f"# racer sweep's copy of {plan.source}, naming the files it ships\n"
                                    + yaml.safe_dump(data, sort_keys=False))
    return load_sweep(out / "sweep.yaml")


def _label(path: str | None) -> str | None:
    """How a file is named in the trials' settings and the results: its file name in ``ship/`` without suffix."""
    return None if path is None else Path(path).stem


def run_sweep(plan: SweepPlan | None, out: str | Path, *, workers: int | None = None, address: str | None = None,
              resume: bool = False, on_table: Callable[[list[dict[str, Any]]], None] | None = None) -> SweepResult:
    """Run a sweep on Ray Tune and write ``out/results.csv`` and ``out/results.json``.

    Args:
        plan: the sweep (None with ``resume``: the one saved in ``out``).
        out: the sweep's folder: ``trials/`` (a run directory per trial), ``results.*``, Tune's state.
        workers: trials at once (default: every CPU of the local Ray instance or the cluster).
        address: an existing Ray cluster (``auto``, ``host:6379`` or ``ray://host:10001``); None starts a local
            Ray instance and stops it at the end.
        resume: continue the sweep in ``out`` (finished trials are kept).
        on_table: called with the trials' rows whenever one reports (the live table).

    Raises:
        RacerEnvError: Ray Tune not installed, ``out`` already holding a sweep (without ``resume``) or holding
            none (with it), or a bad sweep file.
    """
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # Tune's own console output off: racer sweep shows a table
    try:
        import ray
        from ray import tune
    except ImportError:
        raise RacerEnvError(INSTALL_HINT) from None

    _check_reachable(address)
    out = Path(out).resolve()
    tune_dir = out / TUNE_DIR
    if resume:
        if not (out / "sweep.yaml").exists() or not tune_dir.exists():
            raise RunDirError(f"{out}: no sweep to resume here (no sweep.yaml and tune/ from an earlier racer sweep)")
        plan = load_sweep(out / "sweep.yaml")
    else:
        if tune_dir.exists():
            raise RunDirError(f"{out}: a sweep is already there: continue it with --resume {out}, "
                              f"or choose another --out")
        assert plan is not None
        out.mkdir(parents=True, exist_ok=True)
        plan = stage(plan, out)
    started = time.time()
    # A cluster gets the shipped files through Ray's runtime environment; a local Ray instance shares this disk,
    # and its workers inherit this process's environment: no runtime environment to build (it took 4-9 s).
    local = address is None
    if local:
        os.environ.update(WORKER_ENV)
    try:
        ray.init(address=address, num_cpus=None if address else (workers or os.cpu_count()),
                 include_dashboard=False, log_to_driver=False, configure_logging=True, logging_level=logging.ERROR,
                 runtime_env=None if local else {"working_dir": str(out / SHIP_DIR), "env_vars": WORKER_ENV})
    except (ConnectionError, RuntimeError, ValueError) as err:
        where = f"--address {address}: cannot join that Ray cluster" if address else "cannot start Ray here"
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise RacerEnvError(f"{where} ({first})") from None
    try:
        concurrent = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        global _LIVE
        _LIVE = _Live(on_table)
        table = _LiveTable(plan)
        trainable = tune.with_resources(_make_trial(plan, out, out / SHIP_DIR if local else None), {"cpu": 1})
        run_config = tune.RunConfig(name=TUNE_DIR, storage_path=str(out), verbose=0, callbacks=[table],
                                    failure_config=tune.FailureConfig(max_failures=0))
        if resume:
            tuner = tune.Tuner.restore(str(tune_dir), trainable, resume_unfinished=True, resume_errored=True)
        else:
            tuner = tune.Tuner(trainable, param_space=_param_space(plan), run_config=run_config,
                               tune_config=_tune_config(plan, concurrent))
        grid = tuner.fit()
        result = _results(plan, out, grid, time.time() - started)
    finally:
        ray.shutdown()
    _write_results(result)
    return result


def _check_reachable(address: str | None, timeout_s: float = 5.0) -> None:
    """Fail at once, in one line, when ``HOST:PORT`` does not answer (Ray itself retries for minutes)."""
    import socket

    if not address or address == "auto" or "://" in address or ":" not in address:
        return
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except (OSError, ValueError) as err:
        raise RacerEnvError(f"--address {address}: no Ray cluster answers there ({err}); start one with "
                            f"'ray start --head --port {port}', or use --address auto") from None


# ------------------------------------------------------------------------------------------ the trial
def _make_trial(plan: SweepPlan, out: Path, local_ship: Path | None = None) -> Callable[[dict[str, Any]], None]:
    """The function Ray Tune runs for one trial (it and what it captures are pickled to the worker). The shipped
    files are ``local_ship`` on a local Ray instance, else the runtime environment's copy of them."""
    fixed = _settings_of(plan, {})
    hp_keys = list(plan.hyperparameters)
    objective, timesteps, minutes, n_envs = plan.objective, plan.timesteps, plan.minutes, plan.n_envs
    trials_dir = out / TRIALS_DIR
    race = None if plan.race is None else f"race/{Path(plan.race).name}"

    def trial(config: dict[str, Any]) -> None:
        import ray
        from ray import tune

        from racer_env.env.config import EnvConfig
        from racer_env.training.rundir import RunDir
        from racer_env.training.trainer import TrainConfig, train

        settings = {**fixed, **config}
        ship = local_ship or Path.cwd()  # else the runtime environment's copy of OUT/ship (RAY_CHDIR_TO_TRIAL_DIR=0)
        run = RunDir(trials_dir / tune.get_context().get_trial_id())
        node = ray.get_runtime_context().get_node_id()
        done = run.trained_steps()  # a resumed trial trains what is left of its budget
        metadata = settings["model_metadata"]
        # the best evaluation so far (what best_model.zip holds); a trial that never evaluated has the worst
        best: dict[str, Any] = {"objective": _worst(objective), "laps": 0, "best_lap": None, "timesteps": done}
        evaluated, stopped = [False], [False]

        def where() -> dict[str, Any]:
            """Where the trial runs and what it holds: its node, run directory and peak memory [MB]."""
            return {"node": node, "run_dir": str(run.path),
                    "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}

        def report(row: dict[str, Any], res: Any) -> bool:
            value = objective_value(objective, [(lap.status, lap.lap_time, lap.completion) for lap in res.laps])
            if not evaluated[0] or rank_key(objective, value) < rank_key(objective, best["objective"]):
                best.update(objective=value, laps=res.completed, best_lap=res.best_lap_time)
            evaluated[0] = True
            best["timesteps"] = row["timesteps"]
            try:
                tune.report({**best, "eval_objective": value, "progress": res.mean_progress, **where()})
            except SystemExit:  # Tune stops this trial (ASHA, Ctrl-C): end the training cleanly, keeping the run
                stopped[0] = True
                return False
            return True

        try:
            env = EnvConfig.make(
                track=_trial_track(ship, trials_dir, settings["track"]),
                reward=ship / "rewards" / f"{settings['reward']}.py",
                model_metadata=None if metadata is None else ship / "model_metadata" / f"{metadata}.json",
                race=None if race is None else ship / race)
            cfg = TrainConfig(
                env=env, hyperparameters={k: getattr(settings[k], "item", lambda: settings[k])() for k in hp_keys},
                timesteps=None if timesteps is None else max(1, timesteps - done), minutes=minutes, n_envs=n_envs,
                seed=int(settings["seed"]), out=str(run.path), resume=str(run.path) if done else None, quiet=True,
                eval_laps=0, torch_threads=1)  # one CPU a trial
            result = train(cfg, on_update=report)
        except RacerEnvError as err:  # named by the file's place in OUT/ship, not the node's copy
            tune.report({**best, "error": str(err).replace(f"{ship}{os.sep}", ""), "finished": True, **where()})
            return
        if stopped[0]:  # the run is saved; end as Tune's stop asked, or its closing report would wait forever
            raise SystemExit(0)
        tune.report({**best, "timesteps": result.timesteps, "finished": True, **where()})

    return trial


def _trial_track(ship: Path, trials_dir: Path, label: str) -> Path:
    """The track file a trial drives, kept beside the run directories (``OUT/trials/tracks/``) so that a run's
    run.json names a file that outlives the runtime environment."""
    src = next((ship / "tracks").glob(f"{label}.*"))
    dst = trials_dir / "tracks" / src.name
    if not dst.exists():
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".{dst.name}.{os.getpid()}")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    return dst


def _worst(objective: str) -> float:
    """The objective of a trial that learned nothing (no lap, no progress)."""
    return NO_LAP_S if OBJECTIVES[objective][0] == "min" else 0.0


# ------------------------------------------------------------------------------------------ Tune's side
def _param_space(plan: SweepPlan) -> dict[str, Any]:
    """The dimensions that vary, in Tune's terms: lists are grid searches (Optuna: choices), ranges are sampled."""
    from ray import tune

    space: dict[str, Any] = {}
    for name, values in plan.grid.items():
        labels = [_label(v) if name in ("reward", "track", "model_metadata") else v for v in values]
        space[name] = tune.choice(labels) if plan.search == "optuna" else tune.grid_search(labels)
    for name, r in plan.ranges.items():
        if r.integer:
            space[name] = (tune.lograndint if r.log else tune.randint)(int(r.low), int(r.high) + 1)
        else:
            space[name] = (tune.loguniform if r.log else tune.uniform)(r.low, r.high)
    return space


def _tune_config(plan: SweepPlan, concurrent: int) -> Any:
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    scheduler = None
    if plan.early_stopping:
        time_attr, budget = ("timesteps", plan.timesteps) if plan.timesteps else ("time_total_s",
                                                                                 (plan.minutes or 1.0) * 60)
        scheduler = ASHAScheduler(time_attr=time_attr, max_t=int(budget * 1.5),
                                  grace_period=max(1, int(budget * ASHA_GRACE)), reduction_factor=ASHA_REDUCTION)
    search = None
    if plan.search == "optuna":
        from ray.tune.search.optuna import OptunaSearch

        search = OptunaSearch(seed=plan.seeds[0])
    return tune.TuneConfig(metric="objective", mode=plan.mode, scheduler=scheduler, search_alg=search,
                           num_samples=plan.samples if (plan.ranges or plan.search == "optuna") else 1,
                           max_concurrent_trials=concurrent, reuse_actors=True,
                           time_budget_s=plan.total_minutes * 60 if plan.total_minutes else None)


def _settings_of(plan: SweepPlan, config: dict[str, Any]) -> dict[str, Any]:
    """A trial's settings by dimension, file dimensions by label."""
    fixed = {k: (_label(v) if k in ("reward", "track", "model_metadata") else v) for k, v in plan.fixed.items()}
    return {**fixed, **{k: v for k, v in config.items()}}


try:
    from ray.tune import Callback as _TuneCallback
except ImportError:  # the sweep extra is not installed: run_sweep says what to install
    _TuneCallback = object  # type: ignore[assignment,misc]


class _LiveTable(_TuneCallback):
    """Keeps a row per trial as Tune reports (state, steps, best lap, objective) and hands the rows on.

    Tune pickles its callbacks with the experiment and restores them on ``--resume``, so the rows and the
    receiver live in :data:`_LIVE`, this driver process's, not in the callback."""

    def __init__(self, plan: SweepPlan):
        self.plan = plan

    def _row(self, trial: Any, state: str, result: dict[str, Any] | None = None) -> None:
        row = _LIVE.rows.setdefault(trial.trial_id, {"trial": trial.trial_id,
                                                     **_settings_of(self.plan, trial.config)})
        row["state"] = state
        if result:
            row.update({k: result.get(k) for k in ("timesteps", "laps", "best_lap", "objective")})
            if result.get("error"):
                row["state"] = "failed"
        if _LIVE.on_table is not None:
            _LIVE.on_table(list(_LIVE.rows.values()))

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._row(trial, "running")

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        self._row(trial, "running", result)

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        last = trial.last_result or {}
        self._row(trial, "failed" if last.get("error") else ("done" if last.get("finished") else "stopped early"),
                  last)

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._row(trial, "error", trial.last_result)


@dataclass
class _Live:
    """What the driver knows of the running sweep (see :class:`_LiveTable`)."""

    on_table: Callable[[list[dict[str, Any]]], None] | None = None
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)


_LIVE = _Live()


# ------------------------------------------------------------------------------------------ results
def _results(plan: SweepPlan, out: Path, grid: Any, seconds: float) -> SweepResult:
    # Tune's state of each trial: TERMINATED (ended: its budget, ASHA or a failure reported), ERROR, or PENDING,
    # PAUSED, RUNNING after Ctrl-C. ResultGrid has no public per-trial state; its analysis has.
    trials = getattr(getattr(grid, "_experiment_analysis", None), "trials", None) or []
    rows, curves = [], {}
    for trial, res in zip(trials, grid):
        m = res.metrics or {}
        if m.get("error"):
            status = f"failed: {m['error'].splitlines()[0]}"  # the first line: file, line and what (not params)
        elif m.get("finished") or (plan.timesteps and (m.get("timesteps") or 0) >= plan.timesteps):
            status = "finished"  # (ASHA may stop a trial at its last report, when it is done anyway)
        elif res.error is not None:
            status = f"error: {str(res.error).strip().splitlines()[-1] if str(res.error).strip() else res.error}"
        elif trial.status == "TERMINATED" and m:  # ended by Tune before its budget: ASHA, or the sweep's total budget
            status = "stopped early"
        else:
            status = "unfinished"
        df = res.metrics_dataframe
        if df is not None and "timesteps" in df and "objective" in df:
            curves[trial.trial_id] = [(int(t), float(o)) for t, o in zip(df["timesteps"], df["objective"]) if o == o]
        rows.append({"trial": trial.trial_id, **_settings_of(plan, trial.config or {}), "status": status,
                     "objective": m.get("objective") if not m.get("error") else None, "laps": m.get("laps"),
                     "best_lap": m.get("best_lap"), "timesteps": m.get("timesteps"),
                     "minutes": round(m.get("time_total_s", 0.0) / 60, 2), "rss_mb": m.get("rss_mb"),
                     "node": m.get("node"),
                     "run_dir": m.get("run_dir") or str(out / TRIALS_DIR / trial.trial_id)})
    rows.sort(key=lambda r: rank_key(plan.objective, r["objective"]))
    for i, row in enumerate(rows, 1):
        row["rank"] = i
    interrupted = len(rows) < plan.trials and not plan.total_minutes or any(r["status"] == "unfinished" for r in rows)
    return SweepResult(out, plan, rows, curves, interrupted=interrupted, seconds=seconds)


def _write_results(result: SweepResult) -> None:
    import csv

    from racer_env.files import atomic_write_json

    plan = result.plan
    dims = ["reward", "track", "model_metadata", "seed", *plan.hyperparameters]
    columns = ["rank", "trial", *dims, "status", "objective", "laps", "best_lap", "timesteps", "minutes", "rss_mb",
               "node", "run_dir"]
    tmp = result.out / ".results.csv"
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(result.rows)
    os.replace(tmp, result.out / "results.csv")
    atomic_write_json(result.out / "results.json", {
        "objective": plan.objective, "mode": plan.mode, "meaning": OBJECTIVES[plan.objective][1],
        "dimensions": list(plan.grid) + list(plan.ranges), "seconds": round(result.seconds, 1),
        "interrupted": result.interrupted, "trials": result.rows,
        "curves": {k: v for k, v in result.curves.items()}})
