"""Action spaces from DeepRacer's ``model_metadata.json`` (spec §4).

A discrete ``action_space`` (a list of ``{steering_angle, speed}``) becomes
``gymnasium.spaces.Discrete``: the action is the list position. A continuous
one (``{steering_angle: {low, high}, speed: {low, high}}``) becomes a
``Box(-1, 1, (2,))`` of ``[steering, speed]``, rescaled linearly to [low, high]
as DeepRacer's ScalableBoxActionSpace does (spec §3.3). Steering is in degrees,
positive left; speed in m/s. Values outside ±30° or 0.1–4 m/s are rejected, as the
DeepRacer console never allowed them (the simulator itself would clip them when
driving while the reward params reported them unclipped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from racer_env.constants import MAX_SPEED_MPS, MAX_STEERING_DEG, MIN_SPEED_MPS
from racer_env.errors import ModelMetadataError
from racer_env.files import read_json

__all__ = ["ActionSpec", "load_model_metadata", "DEFAULT_MODEL_METADATA"]

ALGORITHMS = ("clipped_ppo", "sac")
DEFAULT_STEERING_DEG = (-MAX_STEERING_DEG, MAX_STEERING_DEG)
"""racer_env's default steering range [deg]: the simulator's whole range."""
DEFAULT_SPEED_MPS = (0.5, MAX_SPEED_MPS)
"""racer_env's default speed range [m/s]."""

DEFAULT_MODEL_METADATA: dict[str, Any] = {
    "action_space": {"steering_angle": {"low": DEFAULT_STEERING_DEG[0], "high": DEFAULT_STEERING_DEG[1]},
                     "speed": {"low": DEFAULT_SPEED_MPS[0], "high": DEFAULT_SPEED_MPS[1]}},
    "action_space_type": "continuous",
    "training_algorithm": "clipped_ppo",
    "version": "5",
}
"""racer_env's default: continuous steering ±30°, speed 0.5–4 m/s, PPO, and no camera: the vector observation."""
NEURAL_NETWORKS = ("DEEP_CONVOLUTIONAL_NETWORK_SHALLOW", "DEEP_CONVOLUTIONAL_NETWORK", "DEEP_CONVOLUTIONAL_NETWORK_DEEP")
"""model_metadata's ``neural_network``: [SIM] architecture/constants.py ``NeuralNetwork``."""
CAMERA_SENSORS = ("FRONT_FACING_CAMERA", "STEREO_CAMERAS", "LEFT_CAMERA", "observation")
"""model_metadata's camera sensors: [SIM] architecture/constants.py ``Input``."""
PREPROCESS_TYPES = ("GREY_SCALE", "RGB")
"""model_metadata's ``preprocess_type``, racer_env's key: the simulator has none and always turns the camera grey."""


@dataclass(frozen=True)
class ActionSpec:
    """An action space as DeepRacer defines it.

    Attributes:
        discrete: the list of (steering [deg], speed [m/s]) pairs, or None when continuous.
        steering_range: (low, high) [deg] for a continuous space.
        speed_range: (low, high) [m/s] for a continuous space.
        algorithm: ``"clipped_ppo"`` or ``"sac"``.
        metadata: the whole model_metadata dict, as read.
        source: where it was read from (a file's path), for messages.
    """

    discrete: tuple[tuple[float, float], ...] | None
    steering_range: tuple[float, float] = DEFAULT_STEERING_DEG
    speed_range: tuple[float, float] = DEFAULT_SPEED_MPS
    algorithm: str = "clipped_ppo"
    metadata: dict[str, Any] | None = None
    source: str = field(default="the default model_metadata", compare=False)

    @property
    def version(self) -> float | None:
        """The file's ``version`` as a number (it picks the simulator's car model, spec §3.2), or None."""
        raw = (self.metadata or {}).get("version")
        return None if raw is None else float(raw)

    @property
    def sensors(self) -> list[str]:
        """model_metadata's ``sensor`` list ([] when it has none: racer_env's vector observation)."""
        sensors = (self.metadata or {}).get("sensor") or []
        return [str(s) for s in sensors] if isinstance(sensors, list) else [str(sensors)]

    @property
    def camera(self) -> str | None:
        """The camera the ``sensor`` list names, if any."""
        cameras = [s for s in self.sensors if s in CAMERA_SENSORS]
        return cameras[0] if cameras else None

    @property
    def observation(self) -> str:
        """The observation a model of this file trains on by default: ``"camera"`` when ``sensor`` lists a
        camera, as in the simulator, else ``"vector"``."""
        return "camera" if self.camera else "vector"

    @property
    def neural_network(self) -> str:
        """model_metadata's ``neural_network`` (DeepRacer's default: the shallow one)."""
        return str((self.metadata or {}).get("neural_network") or NEURAL_NETWORKS[0])

    @property
    def preprocess_type(self) -> str:
        """model_metadata's ``preprocess_type`` (racer_env's; ``GREY_SCALE``, as the simulator, by default)."""
        return str((self.metadata or {}).get("preprocess_type") or PREPROCESS_TYPES[0])

    @property
    def lidar_config(self) -> dict | None:
        """model_metadata's ``lidar_config`` (for DISCRETIZED_SECTOR_LIDAR), if any."""
        config = (self.metadata or {}).get("lidar_config")
        return config if isinstance(config, dict) else None

    @property
    def is_discrete(self) -> bool:
        return self.discrete is not None

    def space(self) -> spaces.Space:
        """The Gymnasium action space."""
        if self.discrete is not None:
            return spaces.Discrete(len(self.discrete))
        return spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)

    def to_controls(self, action: Any) -> tuple[float, float]:
        """(steering [deg], speed [m/s]) commanded by a Gymnasium action."""
        if self.discrete is not None:
            return self.discrete[int(action)]
        try:
            if isinstance(action, np.ndarray) and action.shape == (2,):  # the usual case, the policy's array
                a0, a1 = action.tolist()
            else:
                a0, a1 = (float(v) for v in np.ravel(action))
        except (TypeError, ValueError) as err:
            raise ValueError(f"a continuous action is [steering, speed] in [-1, 1]; got {action!r}") from err
        a0 = -1.0 if a0 < -1.0 else (1.0 if a0 > 1.0 else a0)
        a1 = -1.0 if a1 < -1.0 else (1.0 if a1 > 1.0 else a1)
        (s_lo, s_hi), (v_lo, v_hi) = self.steering_range, self.speed_range
        return s_lo + (a0 + 1.0) * 0.5 * (s_hi - s_lo), v_lo + (a1 + 1.0) * 0.5 * (v_hi - v_lo)

    def to_action(self, steering_angle: float, speed: float) -> Any:
        """The Gymnasium action nearest to a (steering [deg], speed [m/s]) command."""
        if self.discrete is not None:
            acts = np.array(self.discrete)
            scale = np.array([60.0, 4.0])
            return int(np.argmin((((acts - [steering_angle, speed]) / scale) ** 2).sum(axis=1)))
        (s_lo, s_hi), (v_lo, v_hi) = self.steering_range, self.speed_range
        a = [2 * (steering_angle - s_lo) / (s_hi - s_lo) - 1, 2 * (speed - v_lo) / (v_hi - v_lo) - 1]
        return np.clip(np.array(a, dtype=np.float32), -1.0, 1.0)

    def trace_text(self, action: Any, steering_angle: float, speed: float) -> str:
        """The ``action`` field of a SIM_TRACE row: the action index of a discrete space ("0" when there is
        none, as on the prepare step), ``"[steer speed]"`` of a continuous one."""
        if self.discrete is not None:
            return "0" if action is None else str(int(action))
        return f"[{steering_angle:.4f} {speed:.4f}]"

    @property
    def max_speed(self) -> float:
        """The highest speed the space can command [m/s]."""
        if self.discrete is not None:
            return max(v for _, v in self.discrete)
        return self.speed_range[1]

    @classmethod
    def from_dict(cls, meta: dict[str, Any], source: str = "model_metadata") -> "ActionSpec":
        """Validate a model_metadata dict; errors name the field."""
        if not isinstance(meta, dict):
            raise ModelMetadataError(f"{source}: expected a JSON object, got {type(meta).__name__}")
        if "action_space" not in meta:
            raise ModelMetadataError(f"{source}: missing field 'action_space'")
        kind = meta.get("action_space_type", "discrete")
        algo = meta.get("training_algorithm", "clipped_ppo")
        if kind not in ("discrete", "continuous"):
            raise ModelMetadataError(
                f"{source}: field 'action_space_type': expected 'discrete' or 'continuous', got {kind!r}")
        if algo not in ALGORITHMS:
            raise ModelMetadataError(
                f"{source}: field 'training_algorithm': expected one of {ALGORITHMS}, got {algo!r}")
        version = meta.get("version")
        if version is not None:
            try:
                if isinstance(version, bool) or not np.isfinite(float(version)):
                    raise ValueError
            except (TypeError, ValueError):
                raise ModelMetadataError(
                    f"{source}: field 'version': expected a number such as \"5\", got {version!r}") from None
        _check_sensors(meta, source)
        space = meta["action_space"]
        if kind == "discrete":
            if not isinstance(space, list) or not space:
                raise ModelMetadataError(
                    f"{source}: field 'action_space': a discrete space is a non-empty list of "
                    f"{{steering_angle, speed}}, got {space!r:.80}")
            if algo == "sac":
                raise ModelMetadataError(
                    f"{source}: field 'training_algorithm': 'sac' needs action_space_type 'continuous'")
            acts = []
            for i, entry in enumerate(space):
                where = f"{source}: field 'action_space[{i}]"
                acts.append((_in_range(_number(entry, "steering_angle", where), "steering_angle", where),
                             _in_range(_number(entry, "speed", where), "speed", where)))
            return cls(tuple(acts), algorithm=algo, metadata=meta, source=source)
        if not isinstance(space, dict):
            raise ModelMetadataError(
                f"{source}: field 'action_space': a continuous space is "
                f"{{steering_angle: {{low, high}}, speed: {{low, high}}}}, got {space!r:.80}")
        ranges = []
        for key in ("steering_angle", "speed"):
            rng = space.get(key)
            where = f"{source}: field 'action_space.{key}"
            if not isinstance(rng, dict):
                raise ModelMetadataError(f"{where}': expected {{low, high}}, got {rng!r}")
            lo, hi = _number(rng, "low", where), _number(rng, "high", where)
            _in_range(lo, key, where, ".low")
            _in_range(hi, key, where, ".high")
            if not lo < hi:
                raise ModelMetadataError(f"{where}': expected low < high, got low={lo}, high={hi}")
            ranges.append((lo, hi))
        return cls(None, ranges[0], ranges[1], algo, meta, source)

    @classmethod
    def default(cls) -> "ActionSpec":
        return cls.from_dict(DEFAULT_MODEL_METADATA, "the default model_metadata")


SENSORS = ("FRONT_FACING_CAMERA", "STEREO_CAMERAS", "LEFT_CAMERA", "observation", "LIDAR", "SECTOR_LIDAR",
           "DISCRETIZED_SECTOR_LIDAR")
"""The names model_metadata's ``sensor`` list may hold: [SIM] architecture/constants.py (objects spec §7)."""


def _check_sensors(meta: dict[str, Any], source: str) -> None:
    """``sensor``: a list of known names with at most one camera and one LIDAR; ``neural_network`` and
    ``preprocess_type``: known names; ``lidar_config``: sectors dividing 64."""
    sensors = meta.get("sensor")
    if sensors is None:
        sensors = []
    if not isinstance(sensors, list) or not all(isinstance(x, str) for x in sensors):
        raise ModelMetadataError(f"{source}: field 'sensor': expected a list of sensor names, got {sensors!r:.80}")
    unknown = [x for x in sensors if x not in SENSORS]
    if unknown:
        raise ModelMetadataError(f"{source}: field 'sensor': unknown {unknown[0]!r}; expected some of {', '.join(SENSORS)}")
    if sum(x.endswith("LIDAR") for x in sensors) > 1:
        raise ModelMetadataError(f"{source}: field 'sensor': at most one LIDAR, got {sensors}")
    if sum(x in CAMERA_SENSORS for x in sensors) > 1:
        raise ModelMetadataError(f"{source}: field 'sensor': at most one camera, got {sensors}")
    for key, allowed in (("neural_network", NEURAL_NETWORKS), ("preprocess_type", PREPROCESS_TYPES)):
        if key in meta and meta[key] not in allowed:
            raise ModelMetadataError(f"{source}: field '{key}': expected one of {', '.join(allowed)}, got {meta[key]!r}")
    config = meta.get("lidar_config")
    if config is None:
        return
    if not isinstance(config, dict):
        raise ModelMetadataError(f"{source}: field 'lidar_config': expected an object, got {config!r:.80}")
    for key, ok, expected in (("num_sectors", lambda v: v >= 1 and 64 % v == 0, "a whole number dividing 64"),
                              ("num_values_per_sector", lambda v: v >= 1, "a whole number >= 1"),
                              ("clipping_dist", lambda v: v > 0, "a distance > 0 m")):
        if key in config:
            v = config[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not ok(v) or \
                    (key != "clipping_dist" and v != int(v)):
                raise ModelMetadataError(f"{source}: field 'lidar_config.{key}': expected {expected}, got {v!r}")


def _number(entry: Any, key: str, where: str) -> float:
    if not isinstance(entry, dict) or key not in entry:
        raise ModelMetadataError(f"{where}.{key}': missing")
    value = entry[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ModelMetadataError(f"{where}.{key}': expected a number, got {value!r}")
    if not np.isfinite(value):
        raise ModelMetadataError(f"{where}.{key}': expected a finite number, got {value!r}")
    return float(value)


_LIMITS = {"steering_angle": (-MAX_STEERING_DEG, MAX_STEERING_DEG, "degrees"),
           "speed": (MIN_SPEED_MPS, MAX_SPEED_MPS, "m/s")}


def _in_range(value: float, key: str, where: str, suffix: str = "") -> float:
    """``value`` if the simulator drives it as given; else the error says what the simulator would do."""
    lo, hi, unit = _LIMITS[key]
    if not lo <= value <= hi:
        clipped = min(max(value, lo), hi)
        raise ModelMetadataError(
            f"{where}.{key}{suffix}': {value:g} is outside the simulator's {lo:g} to {hi:g} {unit} (the console "
            f"rejects it; the simulator would drive {clipped:g} while the reward params reported {value:g})")
    return value


def load_model_metadata(path: str | Path | None) -> ActionSpec:
    """Read a DeepRacer ``model_metadata.json``; None gives racer_env's default action space.

    Raises:
        ModelMetadataError: the file is missing, not JSON, or a field is malformed; the message names it.
    """
    if path is None:
        return ActionSpec.default()
    p = Path(path)
    return ActionSpec.from_dict(read_json(p, ModelMetadataError, "model_metadata"), str(p))
