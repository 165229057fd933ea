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
    (steps / 15), ``steps``, ``params`` (the last step's params), and for
    multi-lap or reset runs ``lap_times`` [s], ``laps`` and ``counts`` (off-track,
    crash, reversed, immobilized and reset counts).

    **Resets and continuous laps** (spec §2.2), off by default as in training:
    with ``max_resets > 0`` an event puts the car back on the track and pauses it
    (status ``pause``, reward 0, no reward call) for the penalty time, which
    counts in the lap time; with ``laps > 1`` the car drives on over the line.

    Args:
        track: a bundled track name or a ``.npy``/``.csv`` path, or a :class:`Track`.
        reward_function: a reward file path, a name in ``reward_functions/``, or a callable.
        model_metadata: a ``model_metadata.json`` path, an :class:`ActionSpec`, or None (default space).
        mode: ``"train"`` (round-robin starts) or ``"eval"`` (start line).
        reverse: drive the track against its waypoint order (DeepRacer's REVERSE_DIR).
        objects: static box obstacles, as (x, y) positions [m].
        max_episode_steps: the step cap (default: 180 s a lap, DeepRacer's race duration).
        laps: laps in one episode; more than 1 is DeepRacer's continuous evaluation, where the car
            drives on over the line and progress restarts at 0.
        max_resets: how many off-track/crash/reversed events an episode survives (NUMBER_OF_RESETS).
            Each puts the car back on the nearer lane at its last progress, frozen for a penalty.
        off_track_penalty: seconds frozen after going off track or reversing (OFF_TRACK_PENALTY).
        collision_penalty: seconds frozen after a crash (COLLISION_PENALTY).
        start_offset: where the first training episode starts, as a fraction of a lap from the start line
            (DeepRacer's START_POSITION_OFFSET); the round robin goes on from there.
        record_trace: keep each episode's SIM_TRACE rows (``racer_env.simtrace.TRACE_ROW``) and hand them
            over as ``info["trace"]`` on the episode's last step.
        reward_output: where the reward function's ``print`` goes (default stdout).
        render_mode: ``"human"`` (a pygame window, drawn every step) or ``"rgb_array"`` (``render()``
            returns an (H, W, 3) frame); None draws nothing and never imports pygame.
        render_size: (width, height) of the picture in pixels.

    Example:
        >>> env = RacerEnv(track="harbour_loop", reward_function=lambda p: p["speed"])
        >>> obs, info = env.reset(seed=0)
        >>> obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        >>> info["params"]["steps"]
        2.0
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": int(STEP_HZ)}

    def __init__(
        self,
        track: str | Path | Track = DEFAULT_TRACK,
        reward_function: str | Path | Callable[[dict], Any] | RewardFunction | None = None,
        model_metadata: str | Path | ActionSpec | None = None,
        mode: str = "train",
        reverse: bool = False,
        objects: Sequence[tuple[float, float]] = (),
        max_episode_steps: int | None = None,
        laps: int = 1,
        max_resets: int = 0,
        off_track_penalty: float = 2.0,
        collision_penalty: float = 5.0,
        start_offset: float = 0.0,
        record_trace: bool = False,
        reward_output: TextIO | None = None,
        render_mode: str | None = None,
        render_size: tuple[int, int] = (640, 480),
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
        if laps < 1 or max_resets < 0 or off_track_penalty < 0 or collision_penalty < 0:
            raise ValueError("laps must be >= 1; max_resets and the penalties must be >= 0")
        self.laps = int(laps)
        self.max_resets = int(max_resets)
        self.penalty_s = {"off_track": off_track_penalty, "reversed": off_track_penalty,
                          "crashed": collision_penalty, "immobilized": 0.0}
        self.max_episode_steps = int(max_episode_steps or round(RACE_DURATION_S * STEP_HZ * self.laps))
        self.record_trace = record_trace
        self._trace_rows: list[tuple] = []
        self._episode = -1
        self.start_offset = float(start_offset) % 1.0
        self._round_robin = self.start_offset
        self.sim_time = 0.0
        self.car = Car()
        self._seg = -1
        self.render_size = render_size
        self._renderer = None
        self._window = None
        self._clock = None
        self._trail: list[tuple[float, float, float]] = []
        self._last_reward = 0.0

    # ----------------------------------------------------------------- reset
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is not None:  # a seed restarts the sequence of episodes, so it repeats exactly
            self._episode = -1
            self._round_robin = self.start_offset
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
        self._pause_left = 0
        self._laps_done = 0
        self._lap_start = 1.0
        self._lap_times: list[float] = []
        self._counts = dict.fromkeys(("off_track", "crashed", "reversed", "immobilized", "reset"), 0)
        self._status = "prepare"
        self._last_params = params
        if self.record_trace:
            self._trace_rows = [self._trace_row(params, "prepare", 0.0, 0.0, 0.0, -1, False)]
        if self.render_mode is not None:
            self._trail = [(self.car.x, self.car.y, 0.0)]
            self._last_reward = 0.0
            if self.render_mode == "human":
                self.render()
        return self._observe(), self._info(params, "prepare")

    # ------------------------------------------------------------------ step
    def step(self, action: Any):
        steering, speed = self.actions.to_controls(action)
        self._steps += 1.0
        if self._pause_left > 0:
            return self._pause_step(steering, speed, action)
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
        moved_by_rule = False
        if status == "lap_complete":
            self._laps_done += 1
            self._lap_times.append((self._steps - self._lap_start + 1.0) / STEP_HZ)
            self._lap_start = self._steps + 1.0
            if self._laps_done < self.laps:  # continuous: drive on, progress restarts
                terminated = False
                self._prev_progress = 0.0
        elif terminated:
            self._counts[status] += 1
            if self._counts["reset"] < self.max_resets:
                self._counts["reset"] += 1
                terminated = False
                self._put_back(status)
                moved_by_rule = True
        truncated = not terminated and self._steps >= self.max_episode_steps
        if truncated:
            status = "time_up"

        if not moved_by_rule:
            car.step(steering, speed)
        self.sim_time += DT_S
        self._status = status
        self._last_params = params
        info = self._info(params, status)
        if self.record_trace:
            self._trace_rows.append(self._trace_row(params, status, steering, speed, reward, action,
                                                    terminated or truncated))
            if terminated or truncated:
                info["trace"] = self._trace_rows
        if self.render_mode is not None:
            self._after_step_render(reward)
        return self._observe(), reward, terminated, truncated, info

    def _pause_step(self, steering: float, speed: float, action: Any):
        """A step of the penalty pause: the car is frozen, the reward is 0 and the function is not called."""
        self._pause_left -= 1
        params, self._seg = self._params(steering, speed, self._prev_progress)
        truncated = self._steps >= self.max_episode_steps
        status = "time_up" if truncated else "pause"
        self.sim_time += DT_S
        self._last_params = params
        info = self._info(params, status)
        if self.record_trace:
            self._trace_rows.append(self._trace_row(params, status, steering, speed, 0.0, action, truncated))
            if truncated:
                info["trace"] = self._trace_rows
        if self.render_mode is not None:
            self._after_step_render(0.0)
        return self._observe(), 0.0, False, truncated, info

    def _put_back(self, event: str) -> None:
        """Put the car back after an event (spec §2.2): at the last progress, on the lane (half way between
        the centre line and a border) nearer to where it was, facing along the track, at rest."""
        track = self.track
        seg, t = track.locate((self._start_ndist + self._prev_progress / 100.0) * track.length)
        cx, cy = track.center.point(seg, t)
        _, ip, op = track.width_at(seg, t)
        lanes = [((cx + ip[0]) / 2, (cy + ip[1]) / 2), ((cx + op[0]) / 2, (cy + op[1]) / 2)]
        x, y = self.car.x, self.car.y
        lx, ly = min(lanes, key=lambda p: math.hypot(p[0] - x, p[1] - y))
        h = math.atan2(track.center.dy[seg], track.center.dx[seg])
        self.car = Car.at(lx + 0.14 * math.cos(h), ly + 0.14 * math.sin(h), math.degrees(h))
        self._pause_left = int(round(self.penalty_s[event] * STEP_HZ))
        self._reverse_count = self._still_count = 0

    # ------------------------------------------------------------- rendering
    def _after_step_render(self, reward: float) -> None:
        last = self._trail[-1] if self._trail else None
        if last is not None and math.hypot(self.car.x - last[0], self.car.y - last[1]) > 0.5:
            self._trail = []  # the car was put back after an event: start a new piece of trail
        self._trail.append((self.car.x, self.car.y, self.car.speed))
        self._last_reward = reward
        if self.render_mode == "human":
            self.render()

    def frame(self):
        """A :class:`racer_env.render.Frame` snapshot of the car now (imports pygame)."""
        from racer_env.render import Frame

        car, track = self.car, self.track
        seg, t, dist = track.project(car.x, car.y, self._seg)
        from racer_env.vehicle import WHEEL_REACH_M, wheel_positions

        wheels = tuple(track.points_on_track(wheel_positions(car.x, car.y, car.heading), seg, t, dist, WHEEL_REACH_M))
        p = self._last_params
        lap = min(self._laps_done + 1, self.laps)
        hud = {
            "lap": f"{lap}/{self.laps}",
            "lap time": f"{(self._steps - self._lap_start + 1.0) / STEP_HZ:5.2f} s",
            "progress": f"{p['progress']:5.1f} %",
            "speed": f"{car.speed:4.2f} m/s",
            "steering": f"{p['steering_angle']:+5.1f} deg",
            "reward": f"{self._last_reward:.3f}",
            "status": self._status,
        }
        return Frame(car.x, car.y, car.heading, car.steering_angle, car.speed, wheels, self._trail, hud,
                     self._status)

    def render(self):
        """Draw the current state: an (H, W, 3) uint8 array for ``rgb_array``, a window update for ``human``."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='rgb_array' or 'human'")
            return None
        from racer_env import render as rnd

        if self._renderer is None:
            self._renderer = rnd.Renderer(self.track, self.render_size)
        surface = self._renderer.draw(self.frame())
        if self.render_mode == "rgb_array":
            return rnd.rgb(surface)
        import pygame

        if self._window is None:
            pygame.display.init()
            pygame.display.set_caption(f"racer_env - {self.track.name}")
            self._window = pygame.display.set_mode(self.render_size)
            self._clock = pygame.time.Clock()
        pygame.event.pump()
        self._window.blit(surface, (0, 0))
        pygame.display.flip()
        self._clock.tick(self.metadata["render_fps"])
        return None

    def close(self) -> None:
        if self._window is not None:
            import pygame

            pygame.display.quit()
            self._window = None

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
            "lap_time": (self._steps - self._lap_start + 1.0) / STEP_HZ if status != "lap_complete"
            else self._lap_times[-1],
            "steps": self._steps,
            "params": params,
            "laps": self._laps_done,
            "lap_times": list(self._lap_times),
            "counts": dict(self._counts),
        }

    def _trace_row(self, params: dict[str, Any], status: str, steering: float, speed: float, reward: float,
                   action: Any, done: bool) -> tuple:
        """One SIM_TRACE row (spec §7.1 fields 1-16, see ``racer_env.simtrace.TRACE_ROW``)."""
        prv, nxt = params["closest_waypoints"]
        x, y = params["x"], params["y"]
        wp = params["waypoints"]
        closest = prv if math.hypot(x - wp[prv][0], y - wp[prv][1]) <= math.hypot(x - wp[nxt][0], y - wp[nxt][1]) \
            else nxt
        if self.actions.is_discrete:
            act = str(int(action)) if status != "prepare" else "0"
        else:
            act = f"[{steering:.4f} {speed:.4f}]"
        pause = self._pause_left / STEP_HZ if status == "pause" else 0.0
        return (params["steps"], x, y, params["heading"], steering, speed, act, reward, done,
                params["all_wheels_on_track"], params["progress"], closest, params["track_length"],
                self.sim_time, status, pause)


def _copy_for_reward(params: dict[str, Any]) -> dict[str, Any]:
    """A copy the reward function may mutate freely (its lists are fresh; tuples and numbers are immutable)."""
    d = dict(params)
    for key in ("waypoints", "closest_waypoints", "closest_objects", "objects_distance",
                "objects_distance_from_center", "objects_left_of_center", "objects_heading", "objects_speed"):
        d[key] = list(d[key])
    d["objects_location"] = [list(p) for p in d["objects_location"]]
    return d
