"""The race: time trial, object avoidance or head-to-bot, set with the simulator's own keys (objects spec §1).

:func:`race_settings` reads them from a dict, a simulator YAML file (the keys below) or a deepracer-for-cloud
``run.env`` (the ``DR_OA_*``, ``DR_H2B_*`` and ``DR_EVAL_*`` variables, read as DRfC's prepare-config scripts
read them: only the keys of ``DR_RACE_TYPE`` count). Values may be strings, as DRfC writes them; they are
converted as the simulator converts them (``int()``, ``float()``, ``str2bool``). Time trial is the default.

Where the simulator has a bug that reward functions can see, it is reproduced by default; four racer_env keys
(lower case, beside the simulator's) choose the intended behaviour instead, and ``fix_simulator_bugs: true``
chooses it for all four:

* ``obstacle_gap``: ``"shrinking"`` (default: since October 2024 the gap is read as a percentage of the lap and
  shrinks every episode, objects spec §2.3), ``"percent"`` (the intended: a percentage, constant) or ``"metres"``
  (the simulator before October 2024);
* ``object_in_camera``: ``"simulator"`` (default: tests object next - 1, §6.8) or ``"intended"`` (object next);
* ``start_check``: ``"stale"`` (default: the training start avoids where the objects were in the previous
  episode, §5) or ``"current"``;
* ``bot_lag``: ``"one_step"`` (default: the params and the crash test see bot cars where they were a step
  earlier, §4.1) or ``"none"``.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping

from racer_env.env.episode import Penalties
from racer_env.errors import RacerEnvError
from racer_env.files import read_text, read_yaml

__all__ = ["RaceSettings", "RaceSettingsError", "race_settings", "TIME_TRIAL", "RACE_TYPES"]

RACE_TYPES = ("TIME_TRIAL", "OBJECT_AVOIDANCE", "HEAD_TO_BOT")
OBSTACLE_TYPES = ("box_obstacle", "deepracer_box_obstacle", "amazon_box_obstacle")  # [SIM] agent_ctrl/constants.py


class RaceSettingsError(RacerEnvError, ValueError):
    """A race setting the simulator would not accept; the message names the key (or variable) and the file."""


@dataclass(frozen=True)
class RaceSettings:
    """The race, in the simulator's keys (objects spec §1.2). Distances in metres unless stated, times in
    seconds. ``None`` means "the simulator's default for the job": training and evaluation differ."""

    RACE_TYPE: str = "TIME_TRIAL"
    # object avoidance
    NUMBER_OF_OBSTACLES: int = 0
    MIN_DISTANCE_BETWEEN_OBSTACLES: float = 2.0
    """Start offset of the first obstacle and the least gap between neighbours: see ``obstacle_gap``."""
    RANDOMIZE_OBSTACLE_LOCATIONS: bool = False
    OBJECT_POSITIONS: tuple[str, ...] = ()
    """Fixed obstacles, ``"<fraction of a lap>,<lane>"`` each (lane -1 outer, else inner); overrides the count."""
    IS_OBSTACLE_BOT_CAR: bool = False
    OBSTACLE_TYPE: str = "box_obstacle"
    # head-to-bot
    NUMBER_OF_BOT_CARS: int = 0
    MIN_DISTANCE_BETWEEN_BOT_CARS: float = 2.0
    RANDOMIZE_BOT_CAR_LOCATIONS: bool = False
    BOT_CAR_SPEED: float = 0.2
    """Speed along the centre line [m/s]."""
    IS_LANE_CHANGE: bool = False
    LOWER_LANE_CHANGE_TIME: float = 3.0
    UPPER_LANE_CHANGE_TIME: float = 5.0
    LANE_CHANGE_DISTANCE: float = 1.0
    PENALTY_SECONDS: float | None = None
    """How long every bot car freezes after one rear-ends the agent: 0 in training, 2 in evaluation."""
    # crashes and resets
    COLLISION_PENALTY: float | None = None
    """Seconds frozen after a counted crash when resets are allowed: 0 in training, 5 in evaluation."""
    OFF_TRACK_PENALTY: float | None = None
    NUMBER_OF_RESETS: int | None = None
    RESET_BEHIND_DIST: float = 1.0
    ENABLE_MERCY_RESET: bool = False
    RESET_AHEAD_DIST: float = 1.0
    MAX_RESETS_AFTER_CRASH: int = 3
    # racer_env's choices where the simulator has a bug (module docstring)
    obstacle_gap: str = "shrinking"
    object_in_camera: str = "simulator"
    start_check: str = "stale"
    bot_lag: str = "one_step"

    @property
    def obstacles(self) -> int:
        """How many obstacles: the fixed positions' count when given, else NUMBER_OF_OBSTACLES."""
        return len(self.OBJECT_POSITIONS) if self.OBJECT_POSITIONS else self.NUMBER_OF_OBSTACLES

    @property
    def bots(self) -> int:
        return self.NUMBER_OF_BOT_CARS

    @property
    def has_objects(self) -> bool:
        return self.obstacles > 0 or self.bots > 0

    @property
    def kind(self) -> str:
        """The race, as the objects make it: "time trial", "object avoidance" or "head-to-bot"."""
        return "head-to-bot" if self.bots else ("object avoidance" if self.obstacles else "time trial")

    def resets(self, max_resets: int, off_track_s: float, collision_s: float) -> tuple[int, Penalties]:
        """Resets allowed and the penalties [s]: the race's NUMBER_OF_RESETS, OFF_TRACK_PENALTY and
        COLLISION_PENALTY where it sets them, else the values given."""
        n = max_resets if self.NUMBER_OF_RESETS is None else self.NUMBER_OF_RESETS
        return int(n), Penalties(off_track=off_track_s if self.OFF_TRACK_PENALTY is None else self.OFF_TRACK_PENALTY,
                                 crashed=collision_s if self.COLLISION_PENALTY is None else self.COLLISION_PENALTY)

    def bot_penalty(self, mode: str) -> float:
        return self.PENALTY_SECONDS if self.PENALTY_SECONDS is not None else (0.0 if mode == "train" else 2.0)

    def to_yaml(self) -> str:
        """The settings that differ from the defaults, as a simulator YAML file (what a run keeps)."""
        import yaml

        return f"# racer_env race settings: {self.kind}\n" + yaml.safe_dump(self.as_dict(), sort_keys=False)

    def as_dict(self) -> dict[str, Any]:
        """The settings that differ from the defaults (what run.json keeps)."""
        default = RaceSettings()
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
                for f in fields(self) if getattr(self, f.name) != getattr(default, f.name)}


TIME_TRIAL = RaceSettings()

_BUG_CHOICES = {"obstacle_gap": ("shrinking", "percent", "metres"), "object_in_camera": ("simulator", "intended"),
                "start_check": ("stale", "current"), "bot_lag": ("one_step", "none")}
_INTENDED = {"obstacle_gap": "percent", "object_in_camera": "intended", "start_check": "current", "bot_lag": "none"}

# deepracer-for-cloud run.env variables -> simulator keys (DRfC scripts/*/prepare-config.py): the race type's own
_DRFC = {
    "OBJECT_AVOIDANCE": {"DR_OA_NUMBER_OF_OBSTACLES": "NUMBER_OF_OBSTACLES",
                         "DR_OA_MIN_DISTANCE_BETWEEN_OBSTACLES": "MIN_DISTANCE_BETWEEN_OBSTACLES",
                         "DR_OA_RANDOMIZE_OBSTACLE_LOCATIONS": "RANDOMIZE_OBSTACLE_LOCATIONS",
                         "DR_OA_OBJECT_POSITIONS": "OBJECT_POSITIONS", "DR_OA_IS_OBSTACLE_BOT_CAR": "IS_OBSTACLE_BOT_CAR",
                         "DR_OA_OBSTACLE_TYPE": "OBSTACLE_TYPE"},
    "HEAD_TO_BOT": {"DR_H2B_NUMBER_OF_BOT_CARS": "NUMBER_OF_BOT_CARS",
                    "DR_H2B_MIN_DISTANCE_BETWEEN_BOT_CARS": "MIN_DISTANCE_BETWEEN_BOT_CARS",
                    "DR_H2B_RANDOMIZE_BOT_CAR_LOCATIONS": "RANDOMIZE_BOT_CAR_LOCATIONS",
                    "DR_H2B_BOT_CAR_SPEED": "BOT_CAR_SPEED", "DR_H2B_IS_LANE_CHANGE": "IS_LANE_CHANGE",
                    "DR_H2B_LOWER_LANE_CHANGE_TIME": "LOWER_LANE_CHANGE_TIME",
                    "DR_H2B_UPPER_LANE_CHANGE_TIME": "UPPER_LANE_CHANGE_TIME",
                    "DR_H2B_LANE_CHANGE_DISTANCE": "LANE_CHANGE_DISTANCE", "DR_H2B_BOT_CAR_PENALTY": "PENALTY_SECONDS"},
}
_DRFC_FALLBACKS = {"NUMBER_OF_OBSTACLES": "6", "RANDOMIZE_OBSTACLE_LOCATIONS": "True", "PENALTY_SECONDS": "2.0"}
# evaluation keys: DRfC reads DR_COLLISION_PENALTY, not the template's DR_EVAL_COLLISION_PENALTY (objects spec §10)
_DRFC_EVAL = {"DR_EVAL_MAX_RESETS": "NUMBER_OF_RESETS", "DR_COLLISION_PENALTY": "COLLISION_PENALTY",
              "DR_EVAL_OFF_TRACK_PENALTY": "OFF_TRACK_PENALTY", "DR_EVAL_RESET_BEHIND_DIST": "RESET_BEHIND_DIST"}


def race_settings(source: RaceSettings | Mapping[str, Any] | str | Path | None) -> RaceSettings:
    """The race from a dict of simulator keys, a YAML file of them, a DRfC ``run.env`` file, or None (time trial).

    Raises:
        RaceSettingsError: an unreadable file, an unknown key (with the nearest known one), or a value the
            simulator would refuse; the message names the file and the key or variable.
    """
    if source is None:
        return TIME_TRIAL
    if isinstance(source, RaceSettings):
        return source
    if isinstance(source, Mapping):
        return _from_keys(dict(source), "race", strict=True)
    path = Path(source)
    text = read_text(path, RaceSettingsError, "race settings")
    if path.suffix == ".env" or path.name.endswith("run.env") or _looks_like_env(text):
        return _from_keys(_drfc_keys(_env_vars(text), path), str(path), strict=False)
    data = read_yaml(path, RaceSettingsError, text=text)
    if not isinstance(data, dict):
        raise RaceSettingsError(f"{path}: expected a YAML mapping of simulator keys (NUMBER_OF_OBSTACLES: 3, ...)")
    return _from_keys(data, str(path), strict=False)


def _looks_like_env(text: str) -> bool:
    return any(line.strip().startswith(("DR_", "export DR_")) for line in text.splitlines())


def _env_vars(text: str) -> dict[str, str]:
    """KEY=VALUE lines of a shell env file (comments, blank lines and ``export`` allowed; quotes removed)."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        value = value.split(" #", 1)[0].strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        out[key.strip()] = value
    return out


def _drfc_keys(env: dict[str, str], path: Path) -> dict[str, Any]:
    race = env.get("DR_RACE_TYPE", "TIME_TRIAL").strip().upper()
    if race not in RACE_TYPES:
        raise RaceSettingsError(f"{path}: DR_RACE_TYPE: expected one of {', '.join(RACE_TYPES)}, got {race!r}")
    keys: dict[str, Any] = {"RACE_TYPE": race}
    for var, key in _DRFC.get(race, {}).items():
        value = env.get(var, _DRFC_FALLBACKS.get(key))
        if value is None:
            continue
        keys[key] = _Var(var, [p for p in value.split(";") if p.strip()] if key == "OBJECT_POSITIONS" else value)
    for var, key in _DRFC_EVAL.items():
        if var in env and env[var] != "":
            keys[key] = _Var(var, env[var])
    return keys


@dataclass(frozen=True)
class _Var:
    """A value read from a run.env variable, so that an error names the variable."""

    name: str
    value: Any


def _str2bool(value: Any) -> bool:
    """The simulator's str2bool: "true", "yes", "t", "1" (any case) are true."""
    return value if isinstance(value, bool) else str(value).strip().lower() in ("yes", "true", "t", "1")


def _from_keys(data: dict[str, Any], where: str, strict: bool) -> RaceSettings:
    known = {f.name: f for f in fields(RaceSettings)}
    values: dict[str, Any] = {}
    names: dict[str, str] = {}  # key -> the run.env variable it came from
    fix = data.pop("fix_simulator_bugs", None)
    for key, raw in data.items():
        name, value = (raw.name, raw.value) if isinstance(raw, _Var) else (key, raw)
        names[key] = name
        if key not in known:
            close = difflib.get_close_matches(str(key), list(known), n=1, cutoff=0.8)
            if strict or close:
                hint = f"; did you mean {close[0]}?" if close else f"; expected one of {', '.join(known)}"
                raise RaceSettingsError(f"{where}: {key}: not a race setting{hint}")
            continue  # a simulator YAML holds many other keys (WORLD_NAME, ...)
        values[key] = _convert(known[key].type, key, value, f"{where}: {name}")
    if fix is not None and _str2bool(fix):
        for key, intended in _INTENDED.items():
            values.setdefault(key, intended)
    settings = replace(TIME_TRIAL, **values)
    _validate(settings, where, names)
    return settings


def _convert(kind: Any, key: str, value: Any, where: str) -> Any:
    text = str(kind)
    try:
        if key in _BUG_CHOICES:
            value = str(value).strip().lower()
            if value not in _BUG_CHOICES[key]:
                raise ValueError
            return value
        if value is None and "None" in text:
            return None
        if "bool" in text:
            return _str2bool(value)
        if "int" in text:
            number = float(value)
            if number != int(number):
                raise ValueError
            return int(number)
        if "float" in text:
            number = float(value)
            if not math.isfinite(number):
                raise ValueError
            return number
        if "tuple" in text:
            if isinstance(value, str):
                value = [p for p in value.split(";") if p.strip()]
            if not isinstance(value, (list, tuple)):
                raise ValueError
            return tuple(str(v) for v in value)
        return str(value).strip()
    except (TypeError, ValueError):
        expected = {"obstacle_gap": "shrinking, percent or metres", "object_in_camera": "simulator or intended",
                    "start_check": "stale or current", "bot_lag": "one_step or none"}.get(key)
        if expected is None:
            expected = ("true or false" if "bool" in text else "a whole number" if "int" in text else
                        "a number" if "float" in text else "a list of '<fraction>,<lane>' (or ';'-separated)"
                        if "tuple" in text else "text")
        raise RaceSettingsError(f"{where}: expected {expected}, got {value!r}") from None


def _validate(s: RaceSettings, where: str, names: dict[str, str]) -> None:
    def bad(key: str, expected: str) -> RaceSettingsError:
        return RaceSettingsError(f"{where}: {names.get(key, key)}: expected {expected}, got {getattr(s, key)!r}")

    if s.RACE_TYPE.upper() not in RACE_TYPES:
        raise bad("RACE_TYPE", f"one of {', '.join(RACE_TYPES)}")
    if not 0 <= s.NUMBER_OF_OBSTACLES <= 20:
        raise bad("NUMBER_OF_OBSTACLES", "0 to 20 (the console allows 1 to 6)")
    if not 0 <= s.NUMBER_OF_BOT_CARS <= 10:
        raise bad("NUMBER_OF_BOT_CARS", "0 to 10 (the console allowed 1 to 4)")
    if s.OBSTACLE_TYPE not in OBSTACLE_TYPES:
        raise bad("OBSTACLE_TYPE", f"one of {', '.join(OBSTACLE_TYPES)} (the simulator stops otherwise)")
    from racer_env.sim.objects import fixed_layout

    try:
        fixed_layout(1.0, s.OBJECT_POSITIONS)
    except ValueError as err:
        raise RaceSettingsError(f"{where}: {names.get('OBJECT_POSITIONS', 'OBJECT_POSITIONS')}: {err}") from None
    if any(not 0.0 <= float(p.split(",")[0]) <= 1.0 for p in s.OBJECT_POSITIONS):
        raise bad("OBJECT_POSITIONS", "fractions of a lap between 0 and 1 (not percent)")
    for key in ("MIN_DISTANCE_BETWEEN_OBSTACLES", "MIN_DISTANCE_BETWEEN_BOT_CARS", "RESET_BEHIND_DIST",
                "RESET_AHEAD_DIST"):
        if getattr(s, key) < 0:
            raise bad(key, "a distance >= 0")
    if not 0.0 <= s.BOT_CAR_SPEED <= 4.0:
        raise bad("BOT_CAR_SPEED", "a speed from 0 to 4 m/s")
    if s.IS_LANE_CHANGE and s.BOT_CAR_SPEED <= 0:
        raise bad("BOT_CAR_SPEED", "a positive speed when IS_LANE_CHANGE is on (a change takes distance / speed)")
    if s.LANE_CHANGE_DISTANCE <= 0:
        raise bad("LANE_CHANGE_DISTANCE", "a distance > 0")
    if not 0 <= s.LOWER_LANE_CHANGE_TIME <= s.UPPER_LANE_CHANGE_TIME:
        raise bad("LOWER_LANE_CHANGE_TIME", f"0 to UPPER_LANE_CHANGE_TIME ({s.UPPER_LANE_CHANGE_TIME})")
    for key in ("PENALTY_SECONDS", "COLLISION_PENALTY", "OFF_TRACK_PENALTY"):
        value = getattr(s, key)
        if value is not None and value < 0:
            raise bad(key, "seconds >= 0")
    if s.NUMBER_OF_RESETS is not None and s.NUMBER_OF_RESETS < 0:
        raise bad("NUMBER_OF_RESETS", "a count >= 0")
    if s.MAX_RESETS_AFTER_CRASH < 1:
        raise bad("MAX_RESETS_AFTER_CRASH", "a count >= 1")

