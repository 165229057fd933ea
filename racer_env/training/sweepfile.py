"""A sweep file (``sweep.yaml``): what ``racer sweep`` varies, how long each trial trains, and how trials rank.

Read with :func:`load_sweep`; run with :func:`racer_env.training.sweep.run_sweep`. This module knows no Ray.

    rewards: [reward_functions/follow_center.py, reward_functions/progress_speed.py]   # grid
    tracks: [harbour_loop]                                          # grid (names or .npy files)
    model_metadata: [my_model_metadata.json]                        # grid (omit: racer_env's default)
    hyperparameters:                                                # hyperparameters.json fields
      lr: [0.0003, 0.001]                                           # a list is a grid
      beta_entropy: {low: 0.001, high: 0.05, log: true}             # a range, sampled
      num_epochs: 5                                                 # one value: fixed
    seeds: [0, 1]                                                   # grid (or a count: 2 means [0, 1])
    budget:
      timesteps: 20000                                              # per trial (or minutes: 2)
      total_minutes: 60                                             # the whole sweep (optional)
    objective: deepracer                                            # or avg_lap, best_lap, progress
    search: random                                                  # how ranges are drawn: random or optuna
    samples: 1                                                      # draws of the ranges (optuna: trials)
    early_stopping: true                                            # ASHA stops hopeless trials
    race: oa.yaml                                                   # race settings (optional)

Every combination of the grid's values is a trial (x ``samples`` when ranges are drawn at random). With
``search: optuna``, Optuna's TPE proposes ``samples`` trials and the grid's lists become its choices.
Relative paths are looked up beside the sweep file, then in the working directory; reward functions and tracks
may also be bundled names.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from racer_env.errors import RacerEnvError
from racer_env.files import read_yaml
from racer_env.training.hyperparameters import CARS, hyperparameters_from

__all__ = ["SweepPlan", "Range", "SweepFileError", "load_sweep", "OBJECTIVES", "objective_value", "rank_key"]


class SweepFileError(RacerEnvError, ValueError):
    """A sweep file racer sweep cannot run; the message names the file and the key."""


OBJECTIVES = {
    # name: (Tune's mode, what it means)
    "deepracer": ("max", "DeepRacer's ranking: progress of a 3-lap evaluation in % of a lap (300 = all three), "
                         "minus a thousandth of the total time [s], so equal progress ranks by time"),
    "avg_lap": ("min", "mean time of the completed laps [s]; with none, 1000 minus the mean progress [%]"),
    "best_lap": ("min", "best completed lap [s]; with none, 1000 minus the mean progress [%]"),
    "progress": ("max", "mean progress of the evaluation laps [%]"),
}
NO_LAP_S = 1000.0
"""The lap-time objectives of a trial with no completed lap: 1000 s minus its progress, so more progress ranks
better and the schedulers get a number."""
KEYS = ("rewards", "tracks", "model_metadata", "hyperparameters", "seeds", "budget", "objective", "search",
        "samples", "early_stopping", "race", "n_envs")
BUDGET_KEYS = ("timesteps", "minutes", "total_minutes")


@dataclass(frozen=True)
class Range:
    """A hyperparameter drawn from [low, high], uniformly or log-uniformly; whole numbers for integer fields."""

    low: float
    high: float
    log: bool = False
    integer: bool = False


@dataclass(frozen=True)
class SweepPlan:
    """A parsed sweep file. Files are resolved paths; ``hyperparameters`` holds grids (tuples), ranges
    (:class:`Range`) and fixed values."""

    source: Path
    rewards: tuple[str, ...]
    tracks: tuple[str, ...]
    model_metadata: tuple[str | None, ...] = (None,)
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)
    timesteps: int | None = None
    minutes: float | None = None
    total_minutes: float | None = None
    objective: str = "deepracer"
    search: str = "random"
    samples: int = 1
    early_stopping: bool = True
    race: str | None = None
    n_envs: int = CARS

    @property
    def mode(self) -> str:
        """Tune's mode of the objective: ``"max"`` or ``"min"``."""
        return OBJECTIVES[self.objective][0]

    @property
    def grid(self) -> dict[str, tuple]:
        """The dimensions that are lists of values: ``reward``, ``track``, ``model_metadata``, ``seed`` and
        hyperparameters.json fields, those with more than one value only."""
        dims: dict[str, tuple] = {"reward": self.rewards, "track": self.tracks,
                                  "model_metadata": self.model_metadata, "seed": self.seeds}
        dims.update({k: v for k, v in self.hyperparameters.items() if isinstance(v, tuple)})
        return {k: v for k, v in dims.items() if len(v) > 1}

    @property
    def ranges(self) -> dict[str, Range]:
        return {k: v for k, v in self.hyperparameters.items() if isinstance(v, Range)}

    @property
    def fixed(self) -> dict[str, Any]:
        """Every setting that is the same in all trials, by dimension name."""
        dims: dict[str, Any] = {"reward": self.rewards, "track": self.tracks, "model_metadata": self.model_metadata,
                                "seed": self.seeds}
        dims.update({k: v for k, v in self.hyperparameters.items() if not isinstance(v, Range)})
        return {k: (v[0] if isinstance(v, tuple) else v) for k, v in dims.items()
                if not isinstance(v, tuple) or len(v) == 1}

    @property
    def trials(self) -> int:
        """How many trials the sweep runs."""
        if self.search == "optuna":
            return self.samples
        return math.prod(len(v) for v in self.grid.values()) * (self.samples if self.ranges else 1)


def load_sweep(path: str | Path) -> SweepPlan:
    """Read and check a sweep file (YAML).

    Raises:
        SweepFileError: unreadable file, bad YAML, an unknown key (with the nearest known one), a missing file,
            or a value of the wrong kind; the message names the file and the key.
        HyperparametersError: a hyperparameter value hyperparameters.json would not accept.
    """
    p = Path(path)
    data = read_yaml(p, SweepFileError, "sweep file")
    if not isinstance(data, dict):
        raise SweepFileError(f"{p}: expected a YAML mapping (rewards: [...], tracks: [...], budget: ...)")
    for key in data:
        if key not in KEYS:
            hint = difflib.get_close_matches(str(key), KEYS, n=1)
            raise SweepFileError(f"{p}: key '{key}': unknown" + (f"; did you mean '{hint[0]}'?" if hint else
                                                                 f"; expected one of {', '.join(KEYS)}"))
    where = lambda key: f"{p}: key '{key}'"  # noqa: E731
    if "rewards" not in data:
        raise SweepFileError(f"{where('rewards')}: missing; list the reward-function files to try")
    rewards = tuple(_reward(v, p, where("rewards")) for v in _list(data["rewards"], where("rewards")))
    tracks = tuple(_track(v, p, where("tracks")) for v in _list(data.get("tracks", ["harbour_loop"]),
                                                                  where("tracks")))
    metadata: tuple[str | None, ...] = (None,)
    if data.get("model_metadata") is not None:
        metadata = tuple(_file(v, p, where("model_metadata")) for v in _list(data["model_metadata"],
                                                                              where("model_metadata")))
        from racer_env.env.actions import load_model_metadata

        for m in metadata:
            load_model_metadata(m)  # names the file and field that fail
    hps = _hyperparameters(data.get("hyperparameters") or {}, p)
    seeds = _seeds(data.get("seeds", [0]), where("seeds"))
    budget = data.get("budget")
    if not isinstance(budget, dict) or not (set(budget) & {"timesteps", "minutes"}):
        raise SweepFileError(f"{where('budget')}: expected a mapping with timesteps or minutes per trial "
                             f"(budget: {{timesteps: 20000}})")
    for key in budget:
        if key not in BUDGET_KEYS:
            raise SweepFileError(f"{p}: key 'budget.{key}': unknown; expected {', '.join(BUDGET_KEYS)}")
    timesteps = _positive(budget.get("timesteps"), f"{p}: key 'budget.timesteps'", integer=True)
    minutes = _positive(budget.get("minutes"), f"{p}: key 'budget.minutes'")
    total = _positive(budget.get("total_minutes"), f"{p}: key 'budget.total_minutes'")
    objective = str(data.get("objective", "deepracer"))
    if objective not in OBJECTIVES:
        raise SweepFileError(f"{where('objective')}: expected one of {', '.join(OBJECTIVES)}, got {objective!r}")
    search = str(data.get("search", "random"))
    if search not in ("random", "optuna"):
        raise SweepFileError(f"{where('search')}: expected random or optuna, got {search!r}")
    samples = _positive(data.get("samples", 16 if search == "optuna" else 1), where("samples"), integer=True)
    early = data.get("early_stopping", True)
    if not isinstance(early, bool):
        raise SweepFileError(f"{where('early_stopping')}: expected true or false, got {early!r}")
    race = None
    if data.get("race") is not None:
        race = _file(data["race"], p, where("race"))
        from racer_env.env.race import race_settings

        race_settings(race)  # names the key that fails
    n_envs = _positive(data.get("n_envs", CARS), where("n_envs"), integer=True)
    return SweepPlan(p, rewards, tracks, metadata, hps, seeds, timesteps,
                     minutes, total, objective, search, samples, early, race, n_envs)


def objective_value(objective: str, laps: list[tuple[str, float, float]]) -> float:
    """A trial's objective from its evaluation laps, each ``(status, lap time [s], progress [%])``
    (see :data:`OBJECTIVES`).

    >>> objective_value("deepracer", [("lap_complete", 10.0, 100.0), ("off_track", 4.0, 40.0)])
    139.986
    >>> objective_value("best_lap", [("off_track", 4.0, 40.0)])
    960.0
    """
    done = [t for status, t, _ in laps if status == "lap_complete"]
    progress = [pr for _, _, pr in laps]
    mean_progress = sum(progress) / len(progress) if progress else 0.0
    if objective == "deepracer":
        return round(sum(progress) - sum(t for _, t, _ in laps) / 1000.0, 6)
    if objective == "progress":
        return round(mean_progress, 6)
    if not done:
        return round(NO_LAP_S - mean_progress, 6)
    return round(min(done) if objective == "best_lap" else sum(done) / len(done), 6)


def rank_key(objective: str, value: float | None) -> float:
    """Sort key, best first, of a trial's objective (a trial with none comes last)."""
    if value is None or value != value:
        return math.inf
    return -value if OBJECTIVES[objective][0] == "max" else value


# ----------------------------------------------------------------------------------------------- checks
def _list(value: Any, where: str) -> list:
    if isinstance(value, (str, int, float)):
        return [value]
    if not isinstance(value, list) or not value:
        raise SweepFileError(f"{where}: expected a list of values, got {value!r}")
    return value


def _near(value: Any, sweep: Path) -> Path:
    """A relative path beside the sweep file when it is there, else as given (the working directory)."""
    v = Path(str(value))
    return sweep.parent / v if not v.is_absolute() and (sweep.parent / v).exists() else v


def _file(value: Any, sweep: Path, where: str) -> str:
    path = _near(value, sweep)
    if not path.is_file():
        raise SweepFileError(f"{where}: {value}: no such file")
    return str(path.resolve())


def _reward(value: Any, sweep: Path, where: str) -> str:
    from racer_env.env.rewards import RewardFunction, reward_file

    try:
        path = reward_file(_near(value, sweep))
        RewardFunction(path)  # loads, or names its file and line
    except RacerEnvError as err:
        raise SweepFileError(f"{where}: {err}") from None
    return str(path.resolve())


def _track(value: Any, sweep: Path, where: str) -> str:
    from racer_env.sim.track import Track

    try:
        near = _near(value, sweep)
        Track.load(near)
        return str(Track.find(near).resolve())
    except RacerEnvError as err:
        raise SweepFileError(f"{where}: {err}") from None


def _seeds(value: Any, where: str) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise SweepFileError(f"{where}: expected a count of seeds (1 or more) or a list, got {value}")
        return tuple(range(value))
    seeds = _list(value, where)
    if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds):
        raise SweepFileError(f"{where}: expected whole numbers 0 or more, got {value!r}")
    return tuple(seeds)


def _positive(value: Any, where: str, integer: bool = False) -> Any:
    if value is None:
        return None
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 and math.isfinite(value)
    if not ok or (integer and value != int(value)):
        raise SweepFileError(f"{where}: expected a positive {'whole number' if integer else 'number'}, got {value!r}")
    return int(value) if integer else float(value)


def _hyperparameters(data: Any, sweep: Path) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise SweepFileError(f"{sweep}: key 'hyperparameters': expected a mapping of hyperparameters.json fields")
    out: dict[str, Any] = {}
    for key, value in data.items():
        where = f"{sweep}: key 'hyperparameters.{key}'"
        check = lambda v: hyperparameters_from({key: v}, f"{sweep}: hyperparameters")  # noqa: E731
        if isinstance(value, dict):
            extra = set(value) - {"low", "high", "log"}
            if extra or not {"low", "high"} <= set(value):
                raise SweepFileError(f"{where}: a range is {{low: .., high: .., log: true|false}}, got {value!r}")
            low, _ = check(value["low"])
            high, _ = check(value["high"])
            lo, hi = getattr(low, key), getattr(high, key)
            if not isinstance(lo, (int, float)) or not lo < hi:
                raise SweepFileError(f"{where}: expected low < high, got {value['low']!r} and {value['high']!r}")
            log = value.get("log", False)
            if not isinstance(log, bool) or (log and lo <= 0):
                raise SweepFileError(f"{where}: log: expected true or false, and low > 0 for a log range")
            out[key] = Range(float(lo), float(hi), log, integer=isinstance(lo, int))
        elif isinstance(value, list):
            if not value:
                raise SweepFileError(f"{where}: expected a list of values, got []")
            out[key] = tuple(getattr(check(v)[0], key) for v in value)
        else:
            out[key] = getattr(check(value)[0], key)
    return out
