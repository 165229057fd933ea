"""RacerEnv: a DeepRacer car on a 2-D track, as a Gymnasium environment.

The env only orchestrates: the track (``track.py``) gives geometry, the car
(``vehicle.py``) moves, ``params.py`` builds what the reward function sees,
``rewards.py`` calls it, ``actions.py`` and ``observations.py`` define the
spaces.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable, Sequence, TextIO

import gymnasium as gym
import numpy as np

from racer_env.actions import ActionSpec, load_model_metadata
from racer_env.constants import (
    DT_S,
    IMMOBILIZED_DIST_M,
    IMMOBILIZED_STEPS,
    RACE_DURATION_S,
    REVERSED_STEPS,
    ROUND_ROBIN_ADVANCE,
    STEP_HZ,
)
from racer_env.observations import observation_space, observe
from racer_env.params import Objects, compute_params
from racer_env.rewards import DEFAULT_REWARD, RewardFunction
from racer_env.track import DEFAULT_TRACK, Track
from racer_env.vehicle import Car

__all__ = ["RacerEnv", "EPISODE_STATUSES"]

EPISODE_STATUSES = ("prepare", "in_progress", "off_track", "crashed", "reversed", "immobilized",
                    "lap_complete", "time_up")


class RacerEnv(gym.Env):
    """A 1/18-scale DeepRacer car on a 2-D track, stepping at 15 Hz.

    Every step calls a DeepRacer reward function with the ``params`` dict the
    AWS simulator would pass (see ``racer_env.params``).

    **Action space.** From a DeepRacer ``model_metadata.json``: a discrete list
    becomes ``Discrete(n)``; a continuous space becomes ``Box(-1, 1, (2,))`` of
    [steering, speed] rescaled to the file's [low, high]. Default: continuous,
    steering ±30° (positive left), speed 0.5–4 m/s.

    **Observation space.** A 26-vector: centre-line points ahead in the car's
    frame, the offset from the centre, speed and steering state. See
    ``racer_env.observations`` for the table of entries and bounds.

    **Step order** (spec §1.4). As in the simulator, the params, reward and
    termination of step t come from the pose at which action a_t was chosen,
    with a_t's commanded speed and steering; the returned observation is the
    one after a_t was executed. ``reset`` runs DeepRacer's *prepare* step (speed
    0, no reward call), so the reward function first sees ``steps == 2.0``.

    **Starting state.** In ``mode="train"`` each episode starts 5 % of the track
    further round than the last (DeepRacer's round robin); in ``mode="eval"``
    at the start line. The car's body origin is on the centre line, heading at
    the next waypoint, at rest. ``reset(options=...)`` takes
    ``{"start_progress": pct}`` or ``{"pose": (x, y, heading_deg)}`` (the
    params point) to start anywhere.

    **Episode end** (spec §2.1). Terminated on ``lap_complete`` (progress ≥ 100),
    ``crashed``, ``off_track`` (all four wheel centres off the road),
    ``immobilized`` (15 steps moving ≤ 0.3 mm) or ``reversed`` (15 steps of
    falling progress). Truncated (``time_up``) after ``max_episode_steps``.

    **info** carries ``episode_status``, ``progress`` [%], ``lap_time`` [s]
    (steps / 15), ``steps`` and ``params`` (the last step's params).

    Args:
        track: a bundled track name or a ``.npy``/``.csv`` path, or a :class:`Track`.
        reward_function: a reward file path, a name in ``reward_functions/``, or a callable.
        model_metadata: a ``model_metadata.json`` path, an :class:`ActionSpec`, or None (default space).
        mode: ``"train"`` (round-robin starts) or ``"eval"`` (start line).
        reverse: drive the track against its waypoint order (DeepRacer's REVERSE_DIR).
        objects: static box obstacles, as (x, y) positions [m].
        max_episode_steps: the step cap (default: 180 s, DeepRacer's race duration).
        reward_output: where the reward function's ``print`` goes (default stdout).
        render_mode: None for now.

    Example:
        >>> env = RacerEnv(track="harbour_loop", reward_function=lambda p: p["speed"])
        >>> obs, info = env.reset(seed=0)
        >>> obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        >>> info["params"]["steps"]
        2.0
    """

    metadata = {"render_modes": [], "render_fps": int(STEP_HZ)}

    def __init__(
        self,
        track: str | Path | Track = DEFAULT_TRACK,
        reward_function: str | Path | Callable[[dict], Any] | RewardFunction | None = None,
        model_metadata: str | Path | ActionSpec | None = None,
        mode: str = "train",
        reverse: bool = False,
        objects: Sequence[tuple[float, float]] = (),
        max_episode_steps: int | None = None,
        reward_output: TextIO | None = None,
        render_mode: str | None = None,
    ):
        if mode not in ("train", "eval"):
            raise ValueError(f"mode: expected 'train' or 'eval', got {mode!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode: expected one of {self.metadata['render_modes']}, got {render_mode!r}")
        base = track if isinstance(track, Track) else Track.load(track)
        self.track = base.reversed() if reverse != base.is_reversed else base
        if isinstance(reward_function, RewardFunction):
            self.reward_function = reward_function
        else:
            self.reward_function = RewardFunction(
                DEFAULT_REWARD if reward_function is None else reward_function, stdout=reward_output)
        self.actions = model_metadata if isinstance(model_metadata, ActionSpec) else load_model_metadata(model_metadata)
        self.action_space = self.actions.space()
        self.observation_space = observation_space()
        self.mode = mode
        self.render_mode = render_mode
        self.objects = Objects.on(self.track, list(objects))
        self.max_episode_steps = int(max_episode_steps or round(RACE_DURATION_S * STEP_HZ))
        self._episode = -1
        self._round_robin = 0.0
        self.sim_time = 0.0
        self.car = Car()
        self._seg = -1

    # ----------------------------------------------------------------- reset
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is not None:  # a seed restarts the sequence of episodes, so it repeats exactly
            self._episode = -1
            self._round_robin = 0.0
            self.sim_time = 0.0
        options = dict(options or {})
        unknown = set(options) - {"start_progress", "pose"}
        if unknown:
            raise ValueError(f"reset options: unknown {sorted(unknown)}; expected 'start_progress' or 'pose'")
        self._episode += 1
        if self.mode == "train" and self._episode > 0:
            self._round_robin = (self._round_robin + ROUND_ROBIN_ADVANCE) % 1.0
        track = self.track
        if "pose" in options:
            try:
                x, y, heading = (float(v) for v in options["pose"])
            except (TypeError, ValueError) as err:
                raise ValueError(f"reset option 'pose': expected (x, y, heading_deg), got {options['pose']!r}") from err
            self.car = Car.at(x, y, heading)
            h = math.radians(heading)
            seg, t, _ = track.project(x - 0.14 * math.cos(h), y - 0.14 * math.sin(h))
            self._start_ndist = track.arc_length(seg, t) / track.length
        else:
            if "start_progress" in options:
                pct = float(options["start_progress"])
                if not math.isfinite(pct):
                    raise ValueError(f"reset option 'start_progress': expected a percentage, got {pct}")
                self._start_ndist = (pct / 100.0) % 1.0 if track.closed else min(max(pct / 100.0, 0.0), 1.0)
            else:
                self._start_ndist = self._round_robin if self.mode == "train" else 0.0
            if not track.closed:
                self._start_ndist = min(self._start_ndist, 0.9)
            bx, by, seg = track.point_at(self._start_ndist * track.length)
            nx, ny = track.waypoints[seg + 1]
            heading = math.degrees(math.atan2(ny - by, nx - bx))
            h = math.radians(heading)
            self.car = Car.at(bx + 0.14 * math.cos(h), by + 0.14 * math.sin(h), heading)
        # DeepRacer's prepare step: speed 0 is sent and the reward function is not called (spec §1.5)
        self._steps = 1.0
        self._seg = -1
        params, self._seg = self._params(0.0, 0.0, prev_progress=0.0)
        self.car.step(0.0, 0.0, clip=False)
        self.sim_time += DT_S
        self._prev_progress = params["progress"]
        self._reverse_count = 0
        self._still_count = 0
        self._status = "prepare"
        self._last_params = params
        return self._observe(), self._info(params, "prepare")

    # ------------------------------------------------------------------ step
    def step(self, action: Any):
        steering, speed = self.actions.to_controls(action)
        self._steps += 1.0
        car = self.car
        params, self._seg = self._params(steering, speed, self._prev_progress)
        reward = self.reward_function(_copy_for_reward(params))

        progress = params["progress"]
        self._reverse_count = self._reverse_count + 1 if progress < self._prev_progress else 0
        self._still_count = self._still_count + 1 if car.moved <= IMMOBILIZED_DIST_M else 0
        self._prev_progress = progress
        if progress >= 100.0:
            status = "lap_complete"
        elif params["is_crashed"]:
            status = "crashed"
        elif params["is_offtrack"]:
            status = "off_track"
        elif self._still_count >= IMMOBILIZED_STEPS:
            status = "immobilized"
        elif self._reverse_count >= REVERSED_STEPS:
            status = "reversed"
        else:
            status = "in_progress"
        terminated = status != "in_progress"
        truncated = not terminated and self._steps >= self.max_episode_steps
        if truncated:
            status = "time_up"

        car.step(steering, speed)
        self.sim_time += DT_S
        self._status = status
        self._last_params = params
        return self._observe(), reward, terminated, truncated, self._info(params, status)

    # --------------------------------------------------------------- helpers
    def _params(self, steering: float, speed: float, prev_progress: float | None) -> tuple[dict[str, Any], int]:
        car = self.car
        return compute_params(self.track, car.x, car.y, car.heading, steering, speed, self._steps,
                              self._start_ndist, prev_progress, self.objects, self.sim_time, self._seg)

    def _observe(self) -> np.ndarray:
        car, track = self.car, self.track
        seg, t, dist = track.project(car.x, car.y, self._seg)
        return observe(track, car, seg, t, dist, 0.5 * track.vertex_widths[seg])

    def _info(self, params: dict[str, Any], status: str) -> dict[str, Any]:
        return {
            "episode_status": status,
            "progress": params["progress"],
            "lap_time": self._steps / STEP_HZ,
            "steps": self._steps,
            "params": params,
        }


def _copy_for_reward(params: dict[str, Any]) -> dict[str, Any]:
    """A copy the reward function may mutate freely (its lists are fresh; tuples and numbers are immutable)."""
    d = dict(params)
    for key in ("waypoints", "closest_waypoints", "closest_objects", "objects_distance",
                "objects_distance_from_center", "objects_left_of_center", "objects_heading", "objects_speed"):
        d[key] = list(d[key])
    d["objects_location"] = [list(p) for p in d["objects_location"]]
    return d
