"""The stable-baselines3 callbacks that watch a training run, each with one job.

They run in a ``CallbackList`` in this order and share a :class:`RunState`:

* :class:`RecordEpisodes`: writes each finished episode's SIM_TRACE and its TrainingMetrics entry;
  turns a reward-function error from an env into an exception.
* :class:`EvaluateAndKeepBest`: after every policy update, drives a greedy evaluation and keeps the best model.
* :class:`ShowProgress`: a progress bar, and a line per policy update.
* :class:`WriteMetrics`: writes ``metrics/TrainingMetrics.json`` after every update.
* :class:`Checkpoints`: saves a checkpoint every so often, keeping the newest few.
* :class:`StopWhen`: stops at the time budget, the episode cap, the first clean laps, or on request.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from racer_env.env.config import EnvConfig
from racer_env.env.simtrace import STATUS_LABELS, EpisodeSummary, TraceWriter
from racer_env.errors import RewardFunctionError
from racer_env.training.evaluation import EvalResult, evaluate, greedy
from racer_env.files import atomic_write_json
from racer_env.training.rundir import RunDir, training_metric

__all__ = ["RunState", "RecordEpisodes", "EvaluateAndKeepBest", "ShowProgress", "WriteMetrics", "Checkpoints",
           "WatchRewardTime", "StopWhen", "progress_line", "CHECKPOINT_EVERY_S", "EVAL_LAPS", "SLOW_REWARD_S",
           "WIDE_LINE"]

CHECKPOINT_EVERY_S = 60.0
"""Seconds between periodic checkpoints (the first comes after the first policy update)."""
METRICS_EVERY_S = 10.0
"""Seconds between rewrites of TrainingMetrics.json during a run (the first after the first policy update)."""
SLOW_REWARD_S = 0.001
"""A reward function slower than this per call [s] on average gets a warning: it then dominates training."""
EVAL_LAPS = 3
"""Laps of the greedy evaluation after each policy update."""


@dataclass
class RunState:
    """What the callbacks of one run share."""

    episodes_per_iteration: int
    episodes: int = 0
    """Episodes written so far (a resumed run starts from its count)."""
    pending: list[EpisodeSummary] = field(default_factory=list)
    """Episodes finished since the last policy update."""
    metrics: list[dict[str, Any]] = field(default_factory=list)
    """The TrainingMetrics.json entries (spec §7.3)."""
    best_score: tuple[float, ...] | None = None
    best_lap: float | None = None
    first_clean_s: float | None = None
    """Training wall time [s] until a greedy evaluation first drove all its laps cleanly."""
    history: list[dict[str, Any]] = field(default_factory=list)
    """One row per policy update: steps, episodes, rewards, evaluation."""
    stop_reason: str | None = None
    started: float = field(default_factory=time.time)

    def request_stop(self, reason: str) -> None:
        self.stop_reason = self.stop_reason or reason

    def add_episode(self, s: EpisodeSummary) -> None:
        """Count a written training episode and add its metrics entry."""
        self.pending.append(s)
        self.episodes = s.episode + 1
        self.metrics.append(training_metric(s, self.episodes_per_iteration))

    def add_evaluation(self, res: EvalResult) -> None:
        for lap in res.laps:
            self.metrics.append({
                "reward_score": 0, "metric_time": int(time.time() * 1000), "start_time": int(lap.start_time * 1000),
                "elapsed_time_in_milliseconds": int(round(lap.lap_time * 1000)), "episode": self.episodes,
                "trial": lap.trial, "phase": "evaluation", "completion_percentage": int(lap.completion),
                "episode_status": STATUS_LABELS.get(lap.status, lap.status),
            })


class RecordEpisodes(BaseCallback):
    """Writes each episode that an env hands over in ``info["trace"]``; raises an env's reward-function error."""

    def __init__(self, state: RunState, writer: TraceWriter):
        super().__init__()
        self.state, self.writer = state, writer

    def _on_step(self) -> bool:
        for info in self.locals["infos"]:
            if "trace" in info:
                self.writer.write_episode(info["trace"])
            if "error" in info:
                raise RewardFunctionError(info["error"])
        return True

    def _on_training_end(self) -> None:
        self.writer.flush()


class EvaluateAndKeepBest(BaseCallback):
    """After each policy update: a greedy evaluation of ``laps`` back-to-back laps; a better score saves
    ``best_model.zip``. The score is DeepRacer's best-model metric, progress, then the first lap's time.

    ``on_update(row, evaluation)`` is called after each one; returning False stops the run ("stopped").
    ``on_clean`` is called the first time every lap is complete with no off-track and at most
    ``crashes_per_lap`` crashes in a lap; ``max_resets`` lets a lap go on after a crash (races with objects).
    """

    def __init__(self, state: RunState, run: RunDir, config: EnvConfig, laps: int = EVAL_LAPS,
                 on_clean: Callable[[], None] | None = None, max_resets: int = 0, crashes_per_lap: int = 0,
                 on_update: Callable[[dict[str, Any], EvalResult], bool | None] | None = None):
        super().__init__()
        self.state, self.run, self.laps, self.on_clean, self.on_update = state, run, laps, on_clean, on_update
        self.max_resets, self.crashes_per_lap = max_resets, crashes_per_lap
        self.config = config.replace(reward=lambda params: 0.0)  # greedy laps: no reward function calls
        self.updates = 0

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        state = self.state
        self.updates += 1
        eps, state.pending = state.pending, []
        model = self.model
        res = evaluate(greedy(model), self.config, laps=self.laps,
                       continuous=True, max_resets=self.max_resets)
        state.add_evaluation(res)
        if res.done_with(self.crashes_per_lap) and state.first_clean_s is None:
            state.first_clean_s = time.time() - state.started
            if self.on_clean is not None:
                self.on_clean()
        score = res.score()
        if state.best_score is None or score > state.best_score:
            state.best_score = score
            first = res.laps[0] if res.laps else None
            state.best_lap = first.lap_time if first is not None and first.status == "lap_complete" else None
            self.run.save_best(model, score, state.best_lap)
        state.history.append({
            "update": self.updates,
            "timesteps": int(model.num_timesteps),
            "seconds": round(time.time() - state.started, 2),
            "episodes": len(eps),
            "mean_reward": float(np.mean([e.reward for e in eps])) if eps else float("nan"),
            "mean_progress": float(np.mean([max(0.0, e.progress) for e in eps])) if eps else float("nan"),
            "laps": sum(e.status == "lap_complete" for e in eps),
            "eval_completed": res.completed,
            "eval_crashes": sum(lap.crashed for lap in res.laps),
            "eval_progress": res.mean_progress,
            "eval_lap_time": res.best_lap_time,
            "best_lap_time": state.best_lap,
        })
        if self.on_update is not None and self.on_update(state.history[-1], res) is False:
            state.request_stop("stopped")  # by the caller (racer sweep's scheduler)
        self.logger.record("racer/mean_progress", state.history[-1]["mean_progress"])
        self.logger.record("racer/eval_progress", res.mean_progress)
        if res.best_lap_time is not None:
            self.logger.record("racer/eval_lap_time", res.best_lap_time)


class ShowProgress(BaseCallback):
    """A rich progress bar with elapsed and remaining time, and one line per policy update."""

    def __init__(self, state: RunState, console: Any, total_steps: int | None, minutes: float | None):
        super().__init__()
        self.state, self.console = state, console
        self.total_steps, self.minutes = total_steps, minutes
        self._progress: Any = None
        self._task: Any = None
        self._start_steps = 0

    def _on_training_start(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self._start_steps = self.model.num_timesteps
        self.console = self.console or Console()
        self._progress = Progress(TextColumn("[bold]training"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                                  TextColumn("elapsed"), TimeElapsedColumn(), TextColumn("remaining"),
                                  TimeRemainingColumn(), console=self.console, transient=False)
        total = self.total_steps if self.total_steps is not None else (self.minutes or 1) * 60.0
        self._task = self._progress.add_task("train", total=total)
        self._progress.start()

    def _advance(self) -> None:
        done: float
        if self.total_steps is not None:
            done = self.model.num_timesteps - self._start_steps
        else:
            done = time.time() - self.state.started
        self._progress.update(self._task, completed=done)

    def _on_step(self) -> bool:
        if self.n_calls % 64 == 0:
            self._advance()
        return True

    def _on_rollout_end(self) -> None:
        self._advance()
        if not self.state.history:
            return
        console = self._progress.console
        console.print(progress_line(self.state.history[-1], console.width), overflow="ignore", crop=False)

    def _on_training_end(self) -> None:
        if self._progress is not None:
            self._advance()
            self._progress.stop()
            self._progress = None


WIDE_LINE = 120
"""A terminal at least this wide gets the long progress line; a narrower one (80 columns) the short one."""


def progress_line(row: dict[str, Any], width: int = 80) -> str:
    """The line printed after a policy update, from its history row: the update, steps, mean reward and
    progress of the episodes since the last update, their laps, the greedy evaluation's laps and the best lap so
    far. At most 80 characters in a terminal under :data:`WIDE_LINE` columns, else at most 120, whatever the
    figures.

    >>> row = dict(update=12, timesteps=12288, episodes=40, mean_reward=1234.5, mean_progress=45.6, laps=3,
    ...            eval_completed=3, best_lap_time=7.07)
    >>> progress_line(row, 80)
    '  12     12,288 st  rwd    1234  prog  45.6%  laps   3  eval 3/3  best 7.07 s'
    """
    best = f"{row['best_lap_time']:.2f} s" if row["best_lap_time"] else "-"
    reward = row["mean_reward"]
    if width >= WIDE_LINE:
        return (f"update {row['update']:4d}  {row['timesteps']:>9,} steps  {min(row['episodes'], 999):3d} episodes  "
                f"reward {reward:8.6g}  progress {row['mean_progress']:5.1f} %  laps {min(row['laps'], 999):3d}  "
                f"eval {row['eval_completed']}/{EVAL_LAPS}  best lap {best}")
    return (f"{row['update']:4d} {row['timesteps']:>10,} st  rwd {reward:>7.4g}  prog {row['mean_progress']:5.1f}%  "
            f"laps {min(row['laps'], 999):3d}  eval {row['eval_completed']}/{EVAL_LAPS}  best {best}")


class WriteMetrics(BaseCallback):
    """Writes ``metrics/TrainingMetrics.json`` (spec §7.3) after a policy update every ``every_s`` seconds and
    at the end (the file holds every episode: rewritten after every update, it took a tenth of a short run)."""

    def __init__(self, state: RunState, run: RunDir, every_s: float = METRICS_EVERY_S):
        super().__init__()
        self.state, self.run, self.every_s = state, run, every_s
        self._last = -math.inf

    def write(self) -> None:
        atomic_write_json(self.run.training_metrics,
                          {"metrics": self.state.metrics, "version": 2.0, "best_model_metric": "progress"}, indent=None)
        self._last = time.time()

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        if time.time() - self._last >= self.every_s:
            self.write()

    def _on_training_end(self) -> None:
        self.write()


class Checkpoints(BaseCallback):
    """Saves ``model/checkpoints/checkpoint-<steps>.zip`` after the first policy update, then every ``every_s``
    seconds (after an update), keeping the newest few."""

    def __init__(self, run: RunDir, every_s: float = CHECKPOINT_EVERY_S):
        super().__init__()
        self.run, self.every_s = run, every_s
        self._last = -math.inf

    def save(self) -> None:
        self.run.save_model(self.model, self.run.checkpoint_path(self.model.num_timesteps))
        self.run.prune_checkpoints()
        self._last = time.time()

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        if time.time() - self._last >= self.every_s:
            self.save()


class WatchRewardTime(BaseCallback):
    """Warns once when the reward function is slow enough to dominate training (a mean over SLOW_REWARD_S a
    call), naming it, its mean time per call and the time it adds to the run."""

    def __init__(self, state: RunState, console: Any, label: str, total_steps: int | None):
        super().__init__()
        self.state, self.console, self.label, self.total_steps = state, console, label, total_steps
        self._per_env: dict[int, tuple[int, float]] = {}
        self.warned = False

    def _on_step(self) -> bool:
        for i, info in enumerate(self.locals["infos"]):
            if "reward_time" in info:
                self._per_env[i] = info["reward_time"]
        return True

    def _on_rollout_end(self) -> None:
        calls = sum(c for c, _ in self._per_env.values())
        seconds = sum(s for _, s in self._per_env.values())
        if self.warned or calls < 200 or seconds / calls <= SLOW_REWARD_S:
            return
        self.warned = True
        mean = seconds / calls
        steps = self.total_steps or max(self.model.num_timesteps, 1)
        added = f"about {mean * steps / 60:.1f} min over this run's {steps:,} steps" if self.total_steps else \
            f"{mean * 1e5 / 60:.1f} min per 100,000 steps"
        from rich.console import Console

        (self.console or Console(stderr=True)).print(
            f"[bold yellow]warning:[/] the reward function {self.label} takes {mean * 1000:.1f} ms a call on "
            f"average: it adds {added} (racer_env's own step takes about 0.05 ms)")


class StopWhen(BaseCallback):
    """Stops training when the time budget is spent, the episode cap is reached, or a stop was requested."""

    def __init__(self, state: RunState, minutes: float | None, max_episodes: int):
        super().__init__()
        self.state, self.minutes, self.max_episodes = state, minutes, max_episodes

    def _on_step(self) -> bool:
        state = self.state
        if self.minutes is not None and time.time() - state.started >= self.minutes * 60:
            state.request_stop("minutes")
        if state.episodes >= self.max_episodes:
            state.request_stop("max_episodes")
        return state.stop_reason is None
