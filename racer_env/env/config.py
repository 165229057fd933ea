"""What an environment is: one typed, frozen description, checked when it is made.

An :class:`EnvConfig` holds everything that makes one DeepRacer environment what it is: the track (as driven),
the action space (model_metadata.json), the race (time trial, objects, bots), the reward function, what the
policy observes, the frame stack, whether the vector shows the objects ahead, the car's dynamics, and how the
camera's look is randomised in training (or perturbed). The
command line, the sweep and the Python API build one at the edge (:meth:`EnvConfig.make` takes names, paths
and dicts); everything inside (the env, training, evaluation, watching) takes the config. A run keeps it in its
``run.json`` (:meth:`EnvConfig.to_json`, :meth:`EnvConfig.from_json`).

How the env is *used* is not part of it: training or evaluation mode, laps, resets and penalties, recording,
rendering belong to each use.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from racer_env.env.actions import ActionSpec, load_model_metadata
from racer_env.env.observations import OBSERVATIONS
from racer_env.env.race import RaceSettings, race_settings
from racer_env.env.rewards import DEFAULT_REWARD, RewardFunction, reward_file
from racer_env.errors import ModelMetadataError, RacerEnvError
from racer_env.sim.randomize import PERTURBATIONS, Randomization
from racer_env.sim.track import DEFAULT_TRACK, Track
from racer_env.sim.vehicle import EFFORT, KINEMATIC, CarModel, car_model_for

__all__ = ["EnvConfig", "CAR_MODELS", "RewardSource"]

CAR_MODELS = {m.name: m for m in (KINEMATIC, EFFORT)}
"""The simulator's cars by name (:mod:`racer_env.sim.vehicle`)."""

RewardSource = str | Path | Callable[[dict], Any] | RewardFunction
"""A reward function: a file, a name in ``reward_functions/``, a callable, or a loaded :class:`RewardFunction`."""


@dataclass(frozen=True)
class EnvConfig:
    """One DeepRacer environment. Build it with :meth:`make`; the fields are checked when it is made.

    Attributes:
        track: the track as driven (reversed when the lap runs against the file's waypoint order).
        actions: the action space and sensors (model_metadata.json).
        race: the race settings (time trial by default).
        reward: the reward function: a file (resolved to its path), a callable or a loaded RewardFunction.
        observation: ``"vector"`` or ``"camera"``.
        frame_stack: camera frames stacked on the channel axis (1, as on AWS).
        object_features: the vector shows the two nearest objects ahead.
        car: the car's dynamics (the simulator's kinematic car for model_metadata version 5 and above).
        boxes: boxes placed by hand, centres (x, y) [m], besides the race's own objects.
        track_ref: how the track is found again: its name on the track search path, or its file's path.
        randomize: the ranges a training episode's camera look is drawn from (:mod:`racer_env.sim.randomize`;
            the camera only), or None: the plain render. Training cars (a fleet or RacerEnv in ``"train"`` mode)
            draw from them; evaluation (``"eval"`` mode) drives on the plain render.
        perturbation: a name of :data:`racer_env.sim.randomize.PERTURBATIONS` (the camera only): every episode,
            in either mode, sees that fixed look, instead of the plain render or a drawn one.

    Examples:
        >>> cfg = EnvConfig.make(track="harbour_loop", reward="follow_center")
        >>> cfg.track.name, cfg.observation, cfg.car.name, cfg.reverse
        ('harbour_loop', 'vector', 'kinematic', False)
        >>> EnvConfig.from_json(cfg.to_json()) == cfg
        True
    """

    track: Track
    actions: ActionSpec
    race: RaceSettings
    reward: RewardSource
    observation: str = "vector"
    frame_stack: int = 1
    object_features: bool = False
    car: CarModel = KINEMATIC
    boxes: tuple[tuple[float, float], ...] = ()
    track_ref: str = DEFAULT_TRACK
    randomize: Randomization | None = None
    perturbation: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.track, Track):
            raise TypeError(f"EnvConfig.track: expected a Track, got {type(self.track).__name__} (use EnvConfig.make)")
        if self.observation not in OBSERVATIONS:
            raise ModelMetadataError(f"observation: expected one of {', '.join(OBSERVATIONS)}, "
                                     f"got {self.observation!r}")
        if self.observation == "camera" and not self.actions.camera:
            raise ModelMetadataError(f"observation: 'camera' needs a camera: {self.actions.source}: field 'sensor' "
                                     f"lists {self.actions.sensors}; expected FRONT_FACING_CAMERA or STEREO_CAMERAS")
        if isinstance(self.frame_stack, bool) or not isinstance(self.frame_stack, int) or self.frame_stack < 1:
            raise ModelMetadataError(f"frame_stack: expected a whole number >= 1, got {self.frame_stack!r}")
        if not isinstance(self.randomize, (Randomization, type(None))):  # replace(randomize=True) and the like
            object.__setattr__(self, "randomize", _randomization(self.randomize))
        if self.perturbation is not None and self.perturbation not in PERTURBATIONS:
            raise ModelMetadataError(f"perturbation: expected one of {', '.join(PERTURBATIONS)}, got "
                                     f"{self.perturbation!r}")
        if (self.randomize is not None or self.perturbation is not None) and self.observation != "camera":
            what = "randomize" if self.randomize is not None else "perturbation"
            raise ModelMetadataError(f"{what}: the vector observation has no camera image to change: it needs a "
                                     f"camera model (model_metadata.json's sensor listing FRONT_FACING_CAMERA)")

    # ------------------------------------------------------------------ making
    @classmethod
    def make(cls, track: str | Path | Track = DEFAULT_TRACK, reward: RewardSource | None = None,
             model_metadata: str | Path | ActionSpec | Mapping[str, Any] | None = None,
             race: RaceSettings | Mapping[str, Any] | str | Path | None = None, reverse: bool = False,
             observation: str | None = None, frame_stack: int = 1, object_features: bool | None = None,
             car: str | CarModel | None = None, boxes: Sequence[tuple[float, float]] = (),
             randomize: bool | Randomization | Mapping[str, Any] | None = None,
             perturbation: str | None = None) -> "EnvConfig":
        """An environment from names, paths and dicts, as a racer gives them.

        Args:
            track: a track name (``"harbour_loop"``), a ``.npy``/``.csv`` file, or a :class:`Track`.
            reward: a reward file, a name in ``reward_functions/``, a callable (default: progress_speed).
            model_metadata: a model_metadata.json file, its dict, an :class:`ActionSpec`, or None (the default
                continuous space, no camera).
            race: simulator keys (a dict), a YAML or DRfC run.env file, :class:`RaceSettings`, or None.
            reverse: drive against the waypoint order (REVERSE_DIR).
            observation: ``"vector"`` or ``"camera"`` (default: the camera when model_metadata's ``sensor``
                lists one, as on AWS, else the vector).
            frame_stack: camera frames in one observation.
            object_features: the vector shows the objects ahead (default: when the race has objects).
            car: ``"kinematic"``, ``"effort"`` or a CarModel (default: as model_metadata's version picks it).
            boxes: boxes placed by hand, centres (x, y) [m].
            randomize: randomise the camera's look in training: True (the default ranges), a
                :class:`~racer_env.sim.randomize.Randomization` or its fields as a dict; False or None: no.
            perturbation: the name of a perturbation of the camera's look (``"shadows"``, ``"tilt"``...).

        Raises:
            RacerEnvError: a file that cannot be read, or a field that is not valid; the message names it.
        """
        loaded = track if isinstance(track, Track) else Track.load(track)
        driven = loaded.reversed() if bool(reverse) != loaded.is_reversed else loaded
        actions = _actions(model_metadata)
        settings = race_settings(race)
        source: RewardSource = DEFAULT_REWARD if reward is None else reward
        if isinstance(source, (str, Path)):
            source = str(reward_file(source).resolve())
        boxes = tuple((float(x), float(y)) for x, y in boxes)
        objects = settings.has_objects or bool(boxes) if object_features is None else bool(object_features)
        return cls(driven, actions, settings, source, observation or actions.observation, frame_stack, objects,
                   _car(car, actions), boxes, _track_ref(track, loaded), _randomization(randomize), perturbation)

    def replace(self, **changes: Any) -> "EnvConfig":
        """A copy with some fields changed (checked again)."""
        return replace(self, **changes)

    # ------------------------------------------------------------ properties
    @property
    def reverse(self) -> bool:
        """The lap runs against the track file's waypoint order."""
        return self.track.is_reversed

    @property
    def reward_path(self) -> Path | None:
        """The reward function's file, when it is one."""
        if isinstance(self.reward, RewardFunction):
            return self.reward.path
        return Path(self.reward) if isinstance(self.reward, (str, Path)) else None

    @property
    def network_sees(self) -> str | None:
        """What the camera model's network is given: ``"stereo"`` (the stereo pair), ``"rgb"``
        (``preprocess_type`` RGB) or ``"grey"`` (the simulator's); None for the vector."""
        if self.observation != "camera":
            return None
        if self.actions.camera == "STEREO_CAMERAS":
            return "stereo"
        return "rgb" if self.actions.preprocess_type == "RGB" else "grey"

    @property
    def neural_network(self) -> str | None:
        """The simulator's network the camera trains with (None for the vector)."""
        return self.actions.neural_network if self.observation == "camera" else None

    # --------------------------------------------------------- run.json
    def to_json(self) -> dict[str, Any]:
        """The config as JSON-ready values: files by path, the action space and race by their fields.

        Raises:
            RacerEnvError: the reward is a Python callable, which a file cannot hold.
        """
        path = self.reward_path
        if path is None:
            raise RacerEnvError("EnvConfig.to_json: the reward function is a Python callable; give a file to keep it")
        return {"track": self.track_ref, "reverse": self.reverse, "reward": str(path),
                "model_metadata": dict(self.actions.metadata or {}),
                "race": self.race.as_dict(), "observation": self.observation, "frame_stack": self.frame_stack,
                "object_features": self.object_features, "car": self.car.name, "boxes": [list(b) for b in self.boxes],
                "randomize": self.randomize.to_json() if self.randomize is not None else None,
                **({"perturbation": self.perturbation} if self.perturbation is not None else {})}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str = "run.json", **changes: Any) -> "EnvConfig":
        """The config :meth:`to_json` wrote; ``changes`` are :meth:`make`'s arguments to use instead.

        Raises:
            RacerEnvError: a field that is missing or not valid; the message names it and ``where``.
        """
        try:
            args = dict(track=data["track"], reverse=bool(data.get("reverse", False)), reward=data["reward"],
                        model_metadata=data.get("model_metadata") or None, race=data.get("race") or None,
                        observation=data.get("observation", "vector"), frame_stack=int(data.get("frame_stack", 1)),
                        object_features=data.get("object_features"), car=data.get("car"),
                        boxes=[tuple(b) for b in data.get("boxes", [])], randomize=data.get("randomize"),
                        perturbation=data.get("perturbation"))
        except (KeyError, TypeError, ValueError) as err:
            raise RacerEnvError(f"{where}: field 'env': expected the settings racer_env writes ({err!r})") from None
        args.update(changes)
        return cls.make(**args)


def _randomization(given: bool | Randomization | Mapping[str, Any] | None) -> Randomization | None:
    """The ranges of a ``randomize`` setting: True the defaults, a dict its fields; False or None: none."""
    if given is None or given is False:
        return None
    if given is True:
        return Randomization()
    if isinstance(given, Randomization):
        return given
    if not isinstance(given, Mapping):
        raise ModelMetadataError(f"randomize: expected true, false or the ranges' fields, got {given!r}")
    try:
        return Randomization.from_json(given)
    except (TypeError, ValueError) as err:
        raise ModelMetadataError(str(err)) from None


def _actions(model_metadata: str | Path | ActionSpec | Mapping[str, Any] | None) -> ActionSpec:
    if isinstance(model_metadata, ActionSpec):
        return model_metadata
    if isinstance(model_metadata, Mapping):
        return ActionSpec.from_dict(dict(model_metadata), "model_metadata")
    return load_model_metadata(model_metadata)


def _car(car: str | CarModel | None, actions: ActionSpec) -> CarModel:
    if isinstance(car, CarModel):
        return car
    if car is None:
        return car_model_for(actions.version)
    if car not in CAR_MODELS:
        raise ModelMetadataError(f"car: expected one of {', '.join(CAR_MODELS)}, got {car!r}")
    return CAR_MODELS[car]


def _track_ref(given: str | Path | Track, loaded: Track) -> str:
    """How a run names its track: the name when it was found by name, else the file's absolute path."""
    if isinstance(given, Track):
        source = Path(loaded.source)
        return str(source.resolve()) if source.is_file() else loaded.name
    path = Path(given)
    return str(path.resolve()) if path.is_file() else str(given)
