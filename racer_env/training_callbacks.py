"""The SB3 callback that watches a training run: progress display, evaluation, checkpoints, metrics, stops.

One object, because these share their bookkeeping: each policy update it shows
the episodes finished since the last one, drives a greedy evaluation that
picks the best model, writes TrainingMetrics.json, and keeps checkpoints.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from racer_env.evaluation import evaluate
from racer_env.simtrace import STATUS_LABELS, EpisodeSummary

CHECKPOINT_EVERY_S = 60.0
KEEP_CHECKPOINTS = 3
EVAL_LAPS = 3


class RunMonitor(BaseCallback):
    """Progress display, periodic greedy evaluation with the best model kept, checkpoints, metrics and stops."""

    def __init__(self, run: Path, hp, cfg, console, algorithm: str, eval_kwargs: dict[str, Any],
                 first_episode: int = 0):
        super().__init__()
        self.run = run
        self.hp = hp
        self.quiet = cfg.quiet
        self.until_laps = cfg.until_laps
        self.console = console
        self.algorithm = algorithm
        self.eval_kwargs = {**eval_kwargs, "reward_function": lambda params: 0.0}
        self.metrics: list[dict] = []
        self._pending: list[EpisodeSummary] = []
        self.episodes = first_episode
        self.stop_reason: str | None = None
        self.best_score: tuple | None = None
        self.best_lap: float | None = None
        self.first_clean_s: float | None = None
        self.history: list[dict] = []
        self._t0 = time.time()
        self._last_ckpt = time.time()
        self._updates = 0
        self._progress = None
        self._task = None
        self.trace = None  # the run's TraceWriter: episodes arrive in info["trace"]

    # ------------------------------------------------------------------ setup
    def configure(self, total: int | None, minutes: float | None, max_episodes: int) -> None:
        self.total = total
        self.minutes = minutes
        self.max_episodes = max_episodes

    def _on_training_start(self) -> None:
        self._t0 = time.time()
        self._start_steps = self.model.num_timesteps
        if self.quiet:
            return
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.console = self.console or Console()
        self._progress = Progress(TextColumn("[bold]training"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                                  TextColumn("elapsed"), TimeElapsedColumn(), TextColumn("remaining"),
                                  TimeRemainingColumn(), console=self.console, transient=False)
        total = self.total if self.total is not None else (self.minutes or 1) * 60.0
        self._task = self._progress.add_task("train", total=total)
        self._progress.start()

    def resume_from(self, metrics_path: Path, best_score) -> None:
        """Continue a run's TrainingMetrics.json and its best-model score."""
        import json

        if metrics_path.exists():
            self.metrics = json.loads(metrics_path.read_text()).get("metrics", [])
        if best_score is not None:
            self.best_score = tuple(best_score)

    def request_stop(self, reason: str) -> None:
        self.stop_reason = self.stop_reason or reason

    # ------------------------------------------------------------- per episode
    def on_episode(self, s: EpisodeSummary) -> None:
        """Called by the TraceWriter when an episode has been written."""
        self._pending.append(s)
        self.episodes = s.episode + 1
        e = self.hp.num_episodes_between_training
        self.metrics.append({
            "reward_score": int(round(s.reward)),
            "metric_time": int(time.time() * 1000),
            "start_time": int(s.start_time * 1000),
            "elapsed_time_in_milliseconds": int(round((s.end_time - s.start_time) * 1000)),
            "episode": s.episode + 1,
            "trial": s.episode % e + 1,
            "phase": "training",
            "completion_percentage": int(max(0.0, s.progress)),
            "episode_status": STATUS_LABELS.get(s.status, s.status),
        })

    # ---------------------------------------------------------------- per step
    def _on_step(self) -> bool:
        for info in self.locals["infos"]:
            if "trace" in info:
                self.trace.write_episode(info["trace"])
            if "error" in info:
                from racer_env.errors import RewardFunctionError

                raise RewardFunctionError(info["error"])
        if self.minutes is not None and time.time() - self._t0 >= self.minutes * 60:
            self.request_stop("minutes")
        if self.episodes >= self.max_episodes:
            self.request_stop("max_episodes")
        if self._progress is not None and self.n_calls % 64 == 0:
            self._advance()
        return self.stop_reason is None

    def _advance(self) -> None:
        done = (self.model.num_timesteps - self._start_steps) if self.total is not None else time.time() - self._t0
        self._progress.update(self._task, completed=done)

    # -------------------------------------------------------------- per update
    def _on_rollout_end(self) -> None:
        self._updates += 1
        eps = self._pending
        self._pending = []
        res = self._evaluate()
        row = {
            "update": self._updates,
            "timesteps": int(self.model.num_timesteps),
            "seconds": round(time.time() - self._t0, 2),
            "episodes": len(eps),
            "mean_reward": float(np.mean([e.reward for e in eps])) if eps else float("nan"),
            "mean_progress": float(np.mean([max(0.0, e.progress) for e in eps])) if eps else float("nan"),
            "laps": sum(e.status == "lap_complete" for e in eps),
            "eval_progress": res.mean_progress,
            "eval_lap_time": res.best_lap_time,
            "best_lap_time": self.best_lap,
        }
        self.history.append(row)
        self.logger.record("racer/mean_progress", row["mean_progress"])
        self.logger.record("racer/eval_progress", res.mean_progress)
        if res.best_lap_time is not None:
            self.logger.record("racer/eval_lap_time", res.best_lap_time)
        if self._progress is not None:
            self._advance()
            best = f"{self.best_lap:.2f} s" if self.best_lap else "-"
            self._progress.console.print(
                f"update {row['update']:4d} | {row['timesteps']:>9,} steps | {row['episodes']:3d} episodes | "
                f"reward {row['mean_reward']:7.1f} | progress {row['mean_progress']:5.1f} % | laps {row['laps']:3d} | "
                f"eval {res.completed}/{EVAL_LAPS} | best lap {best}", overflow="ignore", crop=False)
        self._write_metrics()
        if time.time() - self._last_ckpt >= CHECKPOINT_EVERY_S:
            self._checkpoint()

    def _evaluate(self):
        from racer_env.training import save_model

        model = self.model

        def policy(obs):
            return model.predict(obs, deterministic=True)[0]

        res = evaluate(policy, self.eval_kwargs, laps=EVAL_LAPS, continuous=True)
        for lap in res.laps:
            self.metrics.append({
                "reward_score": 0, "metric_time": int(time.time() * 1000), "start_time": int(lap.start_time * 1000),
                "elapsed_time_in_milliseconds": int(round(lap.lap_time * 1000)), "episode": self.episodes,
                "trial": lap.trial, "phase": "evaluation", "completion_percentage": int(lap.completion),
                "episode_status": STATUS_LABELS.get(lap.status, lap.status),
            })
        if res.clean and self.first_clean_s is None:
            self.first_clean_s = time.time() - self._t0
            if self.until_laps:
                self.request_stop("laps")
        score = res.score()
        if self.best_score is None or score > self.best_score:
            self.best_score = score
            first = res.laps[0] if res.laps else None
            self.best_lap = first.lap_time if first is not None and first.status == "lap_complete" else None
            save_model(self.model, self.run / "model" / "best_model.zip")
        return res

    def _checkpoint(self) -> None:
        from racer_env.training import save_model

        save_model(self.model, self.run / "model" / "checkpoints" / f"checkpoint-{self.model.num_timesteps}.zip")
        self.prune_checkpoints()
        self._last_ckpt = time.time()

    def prune_checkpoints(self) -> None:
        ckpts = sorted((self.run / "model" / "checkpoints").glob("checkpoint-*.zip"),
                       key=lambda p: int(p.stem.split("-")[1]))
        for old in ckpts[:-KEEP_CHECKPOINTS]:
            old.unlink()

    def _write_metrics(self) -> None:
        from racer_env.training import atomic_write_json

        atomic_write_json(self.run / "metrics" / "TrainingMetrics.json",
                          {"metrics": self.metrics, "version": 2.0, "best_model_metric": "progress"})

    def close(self) -> None:
        if self._pending or self.metrics:
            self._write_metrics()
        if self._progress is not None:
            self._advance()
            self._progress.stop()
            self._progress = None
