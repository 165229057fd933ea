"""Greedy evaluation laps, DeepRacer style: a results table, metrics JSON and a SIM_TRACE.

Defaults follow the AWS console: ``laps`` trials, each from the start line,
ending at the first off-track (no resets). ``continuous=True`` drives the laps
back to back in one run (DRfC's default), and ``max_resets`` with the penalty
seconds gives DeepRacer's reset-and-penalty evaluation (spec §2.2).
A deterministic policy in this deterministic simulator drives identical
trials; continuous laps differ, since each starts at the previous lap's speed.
``action_rate`` asks the policy at the car's own rate rather than once a step,
each action held until the next (:mod:`racer_env.env.actionrate`); the laps are
judged every step as ever.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from racer_env.constants import COLLISION_PENALTY_S, OFF_TRACK_PENALTY_S, STEP_HZ, TICKS_PER_STEP
from racer_env.env.actionrate import ActionRate, HeldPolicy
from racer_env.env.config import EnvConfig
from racer_env.env.environment import RacerEnv
from racer_env.env.simtrace import STATUS_LABELS, TraceWriter
from racer_env.errors import ActionRateError
from racer_env.training.rundir import RunDir

__all__ = ["LapResult", "EvalResult", "evaluate", "greedy", "write_evaluation", "evaluate_run", "results_table"]

Policy = Callable[[np.ndarray], Any]


@dataclass
class LapResult:
    """One evaluation lap. Times in seconds, completion in % of a lap."""

    trial: int
    lap_time: float
    completion: float
    status: str
    off_track: int = 0
    crashed: int = 0
    reversed: int = 0
    immobilized: int = 0
    resets: int = 0
    start_time: float = 0.0  # sim clock [s]
    standing: bool = True
    """The lap started at rest on the start line (a trial's first lap), not at speed (a continuous lap after it)."""


@dataclass
class EvalResult:
    """The laps of one evaluation, and the trajectory: rows of (x [m], y [m], speed [m/s], lap index)."""

    track: str
    laps: list[LapResult]
    continuous: bool
    planned: int = 0
    trajectory: list[tuple[float, float, float, int]] = field(default_factory=list)
    lap_time_limit: float | None = None
    """The track's flying lap-time limit for this car [s] (racer raceline), when known."""
    standing_limit: float | None = None
    """The track's lap-time limit from rest at the start line [s], when known: the limit of a first lap."""
    objects: tuple = ()
    """The obstacles and bot cars at the end (races with objects)."""
    action_hz: float = STEP_HZ
    """How often the policy was asked [Hz]: once a step (15 Hz) unless the car's action rate was given."""
    action_ticks: int | None = None
    """With the car's action rate: the 60 Hz controller ticks each action was held."""

    def limit_ratio(self, lap_time: float, standing: bool = False) -> float | None:
        """A lap time over the track's limit (1.0 is the limit), when the limit is known: the standing-start limit
        for a lap from rest (``standing``), the flying one otherwise."""
        limit = self.standing_limit if standing and self.standing_limit else self.lap_time_limit
        return lap_time / limit if limit else None

    def lap_ratio(self, lap: "LapResult") -> float | None:
        """A complete lap over the limit that applies to it (None for an incomplete lap or an unknown limit)."""
        return self.limit_ratio(lap.lap_time, lap.standing) if lap.status == "lap_complete" else None

    @property
    def completed(self) -> int:
        """Laps completed (status lap_complete)."""
        return sum(lap.status == "lap_complete" for lap in self.laps)

    @property
    def all_complete(self) -> bool:
        return self.completed == max(self.planned, len(self.laps), 1)

    @property
    def clean(self) -> bool:
        """Every lap complete with no off-track, crash or reset."""
        return self.all_complete and all(lap.resets == 0 for lap in self.laps)

    def done_with(self, crashes_per_lap: int = 0) -> bool:
        """Every lap complete with no off-track, and at most ``crashes_per_lap`` crashes in any lap (0: clean)."""
        if crashes_per_lap == 0:
            return self.clean
        return self.all_complete and all(lap.crashed <= crashes_per_lap and lap.off_track + lap.reversed +
                                         lap.immobilized == 0 for lap in self.laps)

    @property
    def most_crashes(self) -> int:
        """The most crashes in one lap."""
        return max((lap.crashed for lap in self.laps), default=0)

    @property
    def best_lap_time(self) -> float | None:
        times = [lap.lap_time for lap in self.laps if lap.status == "lap_complete"]
        return min(times) if times else None

    @property
    def mean_progress(self) -> float:
        return float(np.mean([lap.completion for lap in self.laps])) if self.laps else 0.0

    def score(self) -> tuple[float, float]:
        """Higher is better: completion first (DeepRacer's best-model metric), then a shorter first lap.

        The first lap starts at rest on the start line, as each of DeepRacer's evaluation trials does.
        """
        first = self.laps[0] if self.laps else None
        lap = first.lap_time if first is not None and first.status == "lap_complete" else 1e9
        return (round(self.mean_progress, 6), -lap)

    def metrics_json(self) -> dict[str, Any]:
        """DeepRacer's evaluation metrics (spec §7.3): {"metrics": [...]} with no version key."""
        now_ms = int(time.time() * 1000)
        rows = []
        for i, lap in enumerate(self.laps):
            status = STATUS_LABELS.get(lap.status, lap.status)
            if self.continuous and lap.status == "lap_complete" and i < len(self.laps) - 1:
                status = "In progress"
            rows.append({
                "completion_percentage": int(lap.completion),
                "metric_time": now_ms,
                "start_time": int(lap.start_time * 1000),
                "elapsed_time_in_milliseconds": int(round(lap.lap_time * 1000)),
                "episode_status": status,
                "crash_count": lap.crashed,
                "immobilized_count": lap.immobilized,
                "off_track_count": lap.off_track,
                "reversed_count": lap.reversed,
                "reset_count": lap.resets,
                "trial": lap.trial,
            })
            ratio = self.lap_ratio(lap)
            if ratio is not None:  # racer_env's: lap time / the track's limit (standing for a first lap)
                rows[-1]["lap_time_over_limit"] = round(ratio, 4)
                rows[-1]["standing_start"] = lap.standing
        out: dict[str, Any] = {"metrics": rows, "action_hz": round(self.action_hz, 4)}  # racer_env's: the rate
        if self.lap_time_limit is not None:  # racer_env's (racer raceline)
            out["lap_time_limit_ms"] = int(round(self.lap_time_limit * 1000))
        if self.standing_limit is not None:
            out["standing_lap_time_limit_ms"] = int(round(self.standing_limit * 1000))
        return out


def greedy(model: Any) -> Policy:
    """A trained model's deterministic action for an observation: what ``model.predict(obs, deterministic=True)``
    gives (before SB3's clip to the action space, which the env's own mapping applies), without its per-call
    conversions: evaluations drive thousands of steps a run, one observation at a time.

    A PPO policy on the vector (a flattened observation, dense layers with tanh or ReLU, a Gaussian's mean or a
    categorical's most likely action) runs as the same float32 products in numpy, from a copy of the weights
    taken now: 9 us a step against 350 us through SB3 (:func:`_mlp_actor`; it agrees with torch to float32's
    rounding, a few 1e-7, tests/test_evaluation.py). Any other policy (the camera's, SAC's) runs through
    torch."""
    mlp = _mlp_actor(model)
    if mlp is not None:
        return mlp
    import torch

    policy = model.policy

    def act(obs: Any) -> Any:
        with torch.no_grad():
            tensor = policy.obs_to_tensor(obs)[0] if isinstance(obs, dict) else torch.as_tensor(obs)[None]
            return policy._predict(tensor, deterministic=True)[0].numpy()

    return act


def _mlp_actor(model: Any) -> Policy | None:
    """:func:`greedy`'s numpy path for an SB3 ``ActorCriticPolicy`` whose actor is a flatten, then ``Linear``
    layers each followed by ``Tanh`` or ``ReLU``, then the action layer (a diagonal Gaussian's mean, or the
    argmax of a categorical's logits); None for any other policy."""
    import torch
    from stable_baselines3.common.distributions import CategoricalDistribution, DiagGaussianDistribution
    from stable_baselines3.common.policies import ActorCriticPolicy
    from stable_baselines3.common.torch_layers import FlattenExtractor

    policy = getattr(model, "policy", None)
    if type(policy) is not ActorCriticPolicy or getattr(policy, "use_sde", False):
        return None
    if not isinstance(policy.pi_features_extractor, FlattenExtractor):
        return None
    dist = policy.action_dist
    if type(dist) not in (DiagGaussianDistribution, CategoricalDistribution):
        return None
    layers: list[tuple[np.ndarray, np.ndarray, Callable[[np.ndarray], np.ndarray]]] = []
    modules = list(policy.mlp_extractor.policy_net)
    activations: dict[type, Callable[[np.ndarray], np.ndarray]] = {
        torch.nn.Tanh: np.tanh, torch.nn.ReLU: lambda h: np.maximum(h, np.float32(0.0))}
    if len(modules) % 2:
        return None
    for linear, activation in zip(modules[::2], modules[1::2]):
        if not isinstance(linear, torch.nn.Linear) or linear.bias is None or type(activation) not in activations:
            return None
        layers.append((_weights(linear.weight), _weights(linear.bias), activations[type(activation)]))
    head = policy.action_net
    if not isinstance(head, torch.nn.Linear) or head.bias is None:
        return None
    w_out, b_out = _weights(head.weight), _weights(head.bias)
    discrete = type(dist) is CategoricalDistribution

    def act(obs: Any) -> Any:
        h = np.asarray(obs, dtype=np.float32).reshape(-1)
        for w, b, f in layers:
            h = f(w @ h + b)
        out = w_out @ h + b_out
        return np.int64(np.argmax(out)) if discrete else out

    return act


def _weights(tensor: Any) -> np.ndarray:
    """A float32 numpy copy of a parameter tensor."""
    return np.array(tensor.detach().cpu().numpy(), dtype=np.float32)


def _lap(trial: int, info: dict[str, Any], before: dict[str, int], start: float, lap_time: float,
         completion: float, status: str, standing: bool) -> LapResult:
    c = info["counts"]
    return LapResult(trial, lap_time, completion, status, c["off_track"] - before["off_track"],
                     c["crashed"] - before["crashed"], c["reversed"] - before["reversed"],
                     c["immobilized"] - before["immobilized"], c["reset"] - before["reset"], start, standing)


def evaluate(policy: Policy, config: EnvConfig, laps: int = 3, continuous: bool = False,
             max_resets: int = 0, off_track_penalty: float = OFF_TRACK_PENALTY_S,
             collision_penalty: float = COLLISION_PENALTY_S, trace: TraceWriter | None = None,
             action_rate: ActionRate | None = None) -> EvalResult:
    """Drive ``laps`` greedy laps from the start line with ``policy`` (observation -> action).

    Args:
        policy: e.g. ``lambda obs: model.predict(obs, deterministic=True)[0]``.
        config: the env to drive in (its reward function scores the trace).
        laps: number of trials (or of laps in one run when ``continuous``).
        continuous: drive the laps back to back.
        max_resets: events survived per trial (0: a trial ends at its first off-track).
        off_track_penalty, collision_penalty: seconds frozen after each reset.
        trace: writes each trial's SIM_TRACE rows when given.
        action_rate: ask the policy at the car's rate, each action held until the next
            (:class:`~racer_env.env.actionrate.HeldPolicy`); None: once a step, as the simulator asks.

    Raises:
        ActionRateError: an action rate other than 15 Hz for a model that stacks camera frames.
    """
    if action_rate is not None and action_rate != ActionRate.SIMULATOR and config.frame_stack > 1:
        raise ActionRateError(f"action rate {action_rate.hz:g} Hz: a model that stacks camera frames (frame_stack "
                              f"{config.frame_stack}) is driven at the simulator's 15 Hz only (its stack holds a "
                              f"step's frames)")
    env = RacerEnv(config, mode="eval", laps=laps if continuous else 1, max_resets=max_resets,
                   off_track_penalty=off_track_penalty, collision_penalty=collision_penalty,
                   record_trace=trace is not None)
    result = EvalResult(env.track.name, [], continuous, planned=laps)
    if action_rate is not None:
        policy = HeldPolicy(env, policy, action_rate)
        result.action_hz, result.action_ticks = action_rate.hz, action_rate.ticks
    trials = 1 if continuous else laps
    for trial in range(trials):
        obs, info = env.reset(seed=0 if trial == 0 else None)
        before, lap_start, recorded = dict(info["counts"]), env.sim_time, 0
        while True:
            obs, _, terminated, truncated, info = env.step(policy(obs))
            p = info["params"]
            result.trajectory.append((p["x"], p["y"], env.car.speed, len(result.laps)))
            if info["laps"] > recorded:  # a lap was completed on this step
                recorded += 1
                result.laps.append(_lap(len(result.laps) + 1, info, before, lap_start, info["lap_times"][-1],
                                        100.0, "lap_complete", recorded == 1))
                before, lap_start = dict(info["counts"]), env.sim_time
            if terminated or truncated:
                if trace is not None:
                    trace.write_episode(info["trace"])
                if info["episode_status"] != "lap_complete":
                    result.laps.append(_lap(len(result.laps) + 1, info, before, lap_start, info["lap_time"],
                                            max(0.0, info["progress"]), info["episode_status"], recorded == 0))
                break
    if trace is not None:
        trace.flush()
    result.objects = tuple(env.traffic.now)
    return result


def write_evaluation(result: EvalResult, run_dir: Path, stamp: str | None = None) -> Path:
    """Write the evaluation metrics JSON (``metrics/evaluation/evaluation-<stamp>.json``) and our summary."""
    stamp = stamp or time.strftime("%Y%m%d%H%M%S")
    metrics_dir = Path(run_dir) / "metrics" / "evaluation"
    metrics_dir.mkdir(parents=True, exist_ok=True)
    path = metrics_dir / f"evaluation-{stamp}.json"
    path.write_text(json.dumps(result.metrics_json(), indent=2))
    summary = {"track": result.track, "continuous": result.continuous, "completed": result.completed,
               "best_lap_time": result.best_lap_time, "action_hz": result.action_hz,
               "action_ticks": result.action_ticks, "laps": [asdict(lap) for lap in result.laps]}
    (Path(run_dir) / f"evaluation-{stamp}").mkdir(parents=True, exist_ok=True)
    (Path(run_dir) / f"evaluation-{stamp}" / "results.json").write_text(json.dumps(summary, indent=2))
    return path


def evaluate_run(run_dir: str | Path, laps: int = 3, track: str | None = None, continuous: bool = False,
                 max_resets: int = 0, off_track_penalty: float = OFF_TRACK_PENALTY_S,
                 collision_penalty: float = COLLISION_PENALTY_S, which: str = "best",
                 race: str | None = None, observation: str | None = None,
                 action_rate: ActionRate | None = None) -> tuple[EvalResult, Path]:
    """Evaluate a trained run's model and write the evaluation files into the run directory (in the run's race,
    or ``race``, a race settings file). ``observation``, when given, must be the one the model was trained on;
    ``action_rate``, when given, is how often the car runs the model (:func:`evaluate`).

    Returns the result and the path of the evaluation metrics JSON.

    Raises:
        RacerEnvError: the directory is not a run, or its files are unreadable.
    """
    from racer_env.viewing.render import save_trajectory_png

    from racer_env.training.laplimit import lap_time_limits

    run = RunDir(run_dir)
    model, env = run.model_and_env(which, observation, track=track, race=race)
    stamp = time.strftime("%Y%m%d%H%M%S")
    folder = run.evaluation_dir(stamp)
    trace = TraceWriter(folder / "evaluation-simtrace", folder / "logs" / "evaluation.log", episodes_per_iteration=10**9)
    result = evaluate(greedy(model), env, laps=laps,
                      continuous=continuous, max_resets=max_resets, off_track_penalty=off_track_penalty,
                      collision_penalty=collision_penalty, trace=trace, action_rate=action_rate)
    trace.close()
    limits = lap_time_limits(env.track, env.actions)
    if limits is not None:
        result.standing_limit, result.lap_time_limit = limits
    path = write_evaluation(result, run.path, stamp)
    best = f", best lap {result.best_lap_time:.2f} s" if result.best_lap_time else ""
    save_trajectory_png(env.track, result.trajectory, folder / "trajectory.png",
                        title=f"{result.track}: {result.completed}/{result.planned} laps{best}", objects=result.objects)
    return result, path


def results_table(result: EvalResult):
    """A rich Table of the laps, like DeepRacer's evaluation results; its figures stay whole in 80 columns."""
    from racer_env.viewing.tables import KEY, LABEL, make_table

    kind = "continuous laps" if result.continuous else "trials"
    rate = ActionRate(result.action_ticks or TICKS_PER_STEP).describe()
    limit = (f"; the track's limits for this car: {result.standing_limit:.2f} s from rest, "
             f"{result.lap_time_limit:.2f} s flying" if result.lap_time_limit and result.standing_limit else "")
    table = make_table(f"Evaluation on {result.track} ({result.planned} {kind}; actions at {rate}{limit})",
                       [("Trial", KEY), ("Time", KEY), ("x limit", KEY), ("Completed", KEY), ("Status", LABEL),
                        ("Off-track", KEY), ("Crashes", KEY), ("Resets", KEY)])
    for lap in result.laps:
        minutes, seconds = divmod(lap.lap_time, 60.0)
        ratio = result.lap_ratio(lap)
        table.add_row(str(lap.trial), f"{int(minutes):02d}:{seconds:06.3f}", f"{ratio:.3f}" if ratio else "-",
                      f"{lap.completion:.0f}%", STATUS_LABELS.get(lap.status, lap.status), str(lap.off_track),
                      str(lap.crashed), str(lap.resets))
    return table
