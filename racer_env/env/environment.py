"""RacerEnv: a DeepRacer car on a 2-D track, as a Gymnasium environment.

The env is the Gymnasium face of a :class:`~racer_env.env.fleet.Fleet` of one car, which orchestrates the
modules named after each piece: the track (``sim/track.py``) gives geometry, the car (``sim/vehicle.py``)
moves, both through the compiled kernels (``sim/kernels.py``); ``params.py`` builds what the reward function
sees, ``rewards.py`` calls it, ``episode.py`` applies DeepRacer's episode rules, ``actions.py`` and
``observations.py`` define the spaces, ``simtrace.py`` the log rows, and ``viewing/render.py`` draws.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import gymnasium as gym
import numpy as np

from racer_env.constants import COLLISION_PENALTY_S, OFF_TRACK_PENALTY_S, STEP_HZ
from racer_env.env.actions import ActionSpec
from racer_env.env.config import EnvConfig, RewardSource
from racer_env.env.episode import Episode
from racer_env.env.fleet import Fleet
from racer_env.env.race import RaceSettings
from racer_env.env.rewards import DEFAULT_TIME_LIMIT_S, Output, RewardFunction
from racer_env.sim.track import Track
from racer_env.sim.vehicle import Car, wheels_on_track

__all__ = ["RacerEnv"]


class RacerEnv(gym.Env[Any, Any]):
    """A 1/18-scale DeepRacer car on a 2-D track, stepping at 15 Hz, calling a DeepRacer reward function every
    step with the ``params`` the AWS simulator would pass (``racer_env.env.params``).

    **Action space.** From a ``model_metadata.json``: a discrete list is ``Discrete(n)``; a continuous space is
    ``Box(-1, 1, (2,))`` of [steering, speed] rescaled to the file's [low, high]. Default: continuous,
    steering ±30° (positive left), speed 0.5–4 m/s. Its ``version`` picks the car (``car_model``): 5 and
    above (the default) the kinematic car, below 5 the effort-driven one (``racer_env.sim.vehicle``).

    **Observation space.** ``"camera"`` (the default when model_metadata's ``sensor`` lists a camera): the
    simulator's ``Dict`` of the camera's 120 x 160 uint8 grey image (and a LIDAR's). ``"vector"`` (otherwise): 26
    values of the road ahead and the car's state, more with objects or a LIDAR (``racer_env.env.observations``).

    **Race.** A time trial unless ``race`` sets object avoidance or head-to-bot in the simulator's own keys
    (``racer_env.env.race``); obstacles and bot cars move, crash and reset as in ``racer_env.env.traffic``.

    **Rewards.** The reward function's return value through ``float()`` (default
    ``reward_functions/progress_speed.py``); an exception, a non-number, NaN, inf or |r| > 1e5 raises
    ``RewardFunctionError``, as AWS fails the job. The prepare step and penalty pauses return 0.0 uncalled.

    **Step order** (spec §1.4). Params, reward and termination of step t come from the pose at which a_t was
    chosen; the observation is the one after a_t. ``reset`` runs the *prepare* step, so ``steps`` starts at 2.0.

    **Starting state.** At rest, the body origin on the centre line (training: on a lane when an object is
    there): training 5 % further round each episode, eval the start line; ``reset(options=...)`` takes
    ``{"start_progress": pct}`` or ``{"pose": (x, y, heading_deg)}``.

    **Episode end** (spec §2.1). ``lap_complete``, ``crashed``, ``off_track`` (all wheel centres off),
    ``immobilized`` (15 steps moving ≤ 0.3 mm), ``reversed`` (15 steps of falling progress); ``time_up`` after
    ``max_episode_steps``. With ``max_resets > 0`` an event instead puts the car back on a lane (or behind an
    obstacle), frozen for the penalty (``pause``); with ``laps > 1`` it drives on over the line.

    **info** after every step: ``episode_status``, ``progress`` [%], ``lap_time`` [s], ``steps``, ``params`` (this
    step's dict, the env's own: copy it to keep it), ``laps``, ``lap_times`` [s], ``counts`` of events and resets.
    At an episode's end also ``reward_time``: (calls, seconds) of the reward function so far; and with
    ``record_trace``, ``trace``: the episode's SIM_TRACE rows (:class:`~racer_env.env.simtrace.TraceRow`).

    **What training reads** (:mod:`racer_env.training.callbacks`): ``trace``, which ``RecordEpisodes`` writes to
    the run's simtrace, and ``reward_time``, from which ``WatchRewardTime`` warns about a slow reward function;
    a training env that fails with a reward-function error ends its episode with ``error`` (its message) and
    ``error_type`` instead, which ``RecordEpisodes`` raises again in the main process.

    Args:
        config: the environment (:class:`~racer_env.env.config.EnvConfig`). Without it, the keyword arguments
            from ``track`` to ``frame_stack`` make one (:meth:`EnvConfig.make <racer_env.env.config.EnvConfig.make>`);
            with it, they must not be given.
        track: a track name, a ``.npy``/``.csv`` path, or a :class:`Track`.
        reward_function: a reward file, a name in ``reward_functions/``, or a callable.
        model_metadata: a ``model_metadata.json`` path, an :class:`ActionSpec`, or None (default space).
        reverse: drive against the waypoint order (REVERSE_DIR).
        race: the race: simulator keys (a dict), a YAML or DRfC run.env file, or :class:`RaceSettings`.
        objects: boxes placed by hand, centres at (x, y) [m].
        object_features: observe the objects ahead in the vector (default: when the race has objects).
        observation: ``"camera"`` or ``"vector"`` (default: as model_metadata's ``sensor`` says).
        frame_stack: camera frames stacked on the channel axis (1, the simulator's).
        mode: ``"train"`` or ``"eval"``.
        max_episode_steps: the step cap (default: 180 s a lap, DeepRacer's race duration).
        laps: laps in one episode (DeepRacer's continuous evaluation when above 1).
        max_resets: events an episode survives (NUMBER_OF_RESETS).
        off_track_penalty: seconds frozen after an off-track or a reversal.
        collision_penalty: seconds frozen after a crash.
        start_offset: where the first training episode starts, as a fraction of a lap (START_POSITION_OFFSET).
        record_trace: hand each episode's SIM_TRACE rows (``TraceRow``) over in ``info["trace"]`` at its end.
        reward_output: where the reward function's ``print`` goes (default stdout).
        reward_time_limit: seconds one reward call may take before it is stopped as an error (None: no limit).
        render_mode: ``"human"`` (a window), ``"rgb_array"`` (an (H, W, 3) frame) or None (no pygame).
        render_size: (width, height) in pixels.

    Examples:
        >>> env = RacerEnv(track="harbour_loop", reward_function=lambda p: p["speed"])
        >>> obs, info = env.reset(seed=0)
        >>> obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        >>> info["params"]["steps"], info["episode_status"]
        (2.0, 'in_progress')

    Version History:
        * v0: racer_env 0.1: time trials on 2-D tracks, the spec §3.5 car fit. racer_env 0.2: the steering lag
          and grip limit of spec §3.6, the effort-driven car for model_metadata versions 3-4, object
          avoidance and head-to-bot races, LIDAR observations. racer_env 0.3: the camera observation.
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": int(STEP_HZ)}

    def __init__(self, config: EnvConfig | None = None, *, track: str | Path | Track | None = None,
                 reward_function: RewardSource | None = None, model_metadata: str | Path | ActionSpec | None = None,
                 reverse: bool | None = None, race: RaceSettings | dict | str | Path | None = None,
                 objects: Sequence[tuple[float, float]] | None = None, object_features: bool | None = None,
                 observation: str | None = None, frame_stack: int | None = None, mode: str = "train",
                 max_episode_steps: int | None = None, laps: int = 1, max_resets: int = 0,
                 off_track_penalty: float = OFF_TRACK_PENALTY_S, collision_penalty: float = COLLISION_PENALTY_S,
                 start_offset: float = 0.0, record_trace: bool = False, reward_output: Output | None = None,
                 reward_time_limit: float | None = DEFAULT_TIME_LIMIT_S, render_mode: str | None = None,
                 render_size: tuple[int, int] = (640, 480)):
        _check_arguments(mode, render_mode, laps, max_resets, off_track_penalty, collision_penalty)
        fields: dict[str, Any] = dict(track=track, reward=reward_function, model_metadata=model_metadata, reverse=reverse, race=race,
                      boxes=objects, object_features=object_features, observation=observation,
                      frame_stack=frame_stack)
        given = {k: v for k, v in fields.items() if v is not None}
        if config is None:
            config = EnvConfig.make(**given)
        elif given:
            raise TypeError(f"RacerEnv: give a config or its fields, not both (got config and {', '.join(given)})")
        self.config = config
        self.track, self.actions, self.race, self.car_model = config.track, config.actions, config.race, config.car
        self.reward_function = config.reward if isinstance(config.reward, RewardFunction) else \
            RewardFunction(config.reward, stdout=reward_output, time_limit_s=reward_time_limit)
        self.mode = mode
        self.fleet = Fleet(config.replace(reward=self.reward_function), 1, mode=mode, laps=laps,
                           max_resets=max_resets, off_track_penalty=off_track_penalty,
                           collision_penalty=collision_penalty, max_episode_steps=max_episode_steps,
                           start_offsets=[start_offset], record_trace=record_trace, keep_params=True)
        """The one car's fleet: every car racer_env drives is stepped by a :class:`~racer_env.env.fleet.Fleet`."""
        self.action_space = self.fleet.action_space
        self.observer = self.fleet.observer
        self.observation, self.observation_space = self.observer.kind, self.fleet.observation_space
        self.traffic = self.fleet.traffic[0]
        self.laps, self.max_episode_steps = self.fleet.laps, self.fleet.max_episode_steps
        self.max_resets, self.penalties = self.fleet.max_resets, self.fleet.penalties
        self.record_trace = record_trace
        self.render_mode, self.render_size = render_mode, render_size
        self._view: Any = None  # racer_env.viewing.render.EnvView, made on the first render

    @property
    def car(self) -> Car:
        """The car (a view of the fleet's state)."""
        return self.fleet.cars[0]

    @property
    def episode(self) -> Episode:
        """The episode in progress: its counters and rules."""
        return self.fleet.episodes[0]

    @property
    def sim_time(self) -> float:
        """The simulation clock [s]: it runs on over episodes (a seed restarts it)."""
        return float(self.fleet.sim_time[0])

    @property
    def params(self) -> dict[str, Any]:
        """The params of the last step (the prepare step's after a reset), as made."""
        return self.fleet.params[0]

    def place_car(self, x: float, y: float, heading: float, speed: float = 0.0) -> None:
        """Put the car's params point at (x, y) [m], heading [deg], moving at ``speed`` [m/s], between steps (a
        test's or a tool's set-up; the episode goes on)."""
        self.car.place(x, y, heading, speed)
        f = self.fleet
        f.placed(0)
        f.seg[0], f.t[0], f.dist[0], f.arc[0] = self.track.project(x, y)

    # ----------------------------------------------------------------- reset
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        self.fleet.reset(0, seed, options)
        if self.render_mode is not None:
            self._last_reward = 0.0
            self._render_view().restart(self.car)
            if self.render_mode == "human":
                self.render()
        return self.fleet.observation(0), self._info()

    # ------------------------------------------------------------------ step
    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        fleet = self.fleet
        if self.actions.discrete is None:
            a = np.asarray(action, dtype=np.float64)
            if a.size != 2:
                raise ValueError(f"a continuous action is [steering, speed] in [-1, 1]; got {action!r}")
        else:
            a = np.array([int(action)])
        rewards, terminated, truncated, ends = fleet.step(a)  # the fleet reshapes it to its one car's row
        reward = rewards[0]
        info = self._info()
        end = ends[0]
        if end is not None:
            info["reward_time"] = end.reward_time
            if self.record_trace:
                info["trace"] = end.trace
        if self.render_mode is not None:
            self._last_reward = reward
            self._render_view().follow(self.car)
            if self.render_mode == "human":
                self.render()
        return fleet.observation(0), reward, bool(terminated[0]), bool(truncated[0]), info

    def _info(self) -> dict[str, Any]:
        ep = self.fleet.episodes[0]
        params = self.fleet.params[0]
        return {"episode_status": ep.status, "progress": params["progress"], "lap_time": ep.lap_time,
                "steps": ep.steps, "params": params, "laps": ep.laps_done, "lap_times": list(ep.lap_times),
                "counts": dict(ep.counts)}

    # ------------------------------------------------------------- rendering
    def _render_view(self) -> Any:
        if self._view is None:
            from racer_env.viewing.render import EnvView
            self._view = EnvView(self.track, self.render_size, self.render_mode == "human", self.metadata["render_fps"])
        return self._view

    def frame(self):
        """A :class:`racer_env.viewing.render.Frame` snapshot of the car now (imports pygame)."""
        return _frame(self)

    def render(self):
        """Draw the current state: an (H, W, 3) uint8 array for ``rgb_array``, a window update for ``human``."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='rgb_array' or 'human'")
            return None
        return self._render_view().show(self.frame())

    def close(self) -> None:
        if self._view is not None:
            self._view.close()
            self._view = None


def _frame(env: RacerEnv):
    from racer_env.viewing.render import Frame, race_hud

    car, episode, p = env.car, env.episode, env.params
    wheels = tuple(wheels_on_track(env.track, car.x, car.y, car.yaw, env.fleet.where(0)))
    hud = race_hud(lap=min(episode.laps_done + 1, env.laps), laps=env.laps, lap_time=episode.lap_time,
                   progress=p["progress"], speed=car.speed, steering_command=p["steering_angle"],
                   reward=getattr(env, "_last_reward", 0.0), status=episode.status)
    return Frame(car.x, car.y, car.yaw, car.wheel_angle, car.speed, wheels, env._render_view().trail, hud,
                 episode.status, tuple(env.traffic.now))


def _check_arguments(mode: str, render_mode: str | None, laps: int, max_resets: int, *penalties: float) -> None:
    """ValueError, naming the argument, for a value RacerEnv cannot use."""
    if mode not in ("train", "eval"):
        raise ValueError(f"mode: expected 'train' or 'eval', got {mode!r}")
    if render_mode not in (None, *RacerEnv.metadata["render_modes"]):
        raise ValueError(f"render_mode: expected one of {RacerEnv.metadata['render_modes']}, got {render_mode!r}")
    if laps < 1 or max_resets < 0 or min(penalties) < 0:
        raise ValueError("laps must be >= 1; max_resets and the penalties must be >= 0")
