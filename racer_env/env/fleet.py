"""A fleet: N DeepRacer cars of one environment, stepped together.

Each car drives its own episode on the same track, as the simulator's training workers do, by DeepRacer's rules
(:mod:`racer_env.env.episode`), among its own objects (:mod:`racer_env.env.traffic`). What costs a step is done
for every car at once by the compiled kernels of :mod:`racer_env.sim.kernels` (the car's dynamics, the
projection, the wheels on the road, the width and side, progress, the vector observation); what is DeepRacer's
contract stays per car: each car's reward function is called once a step with that car's own params dict
(:func:`racer_env.env.params.params_dict`), its errors and time limit as for one env.

:class:`~racer_env.env.environment.RacerEnv` is a fleet of one car; training steps a fleet of many
(:class:`racer_env.training.vecfleet.FleetVecEnv`). Both run the same code, so a car of a fleet and a RacerEnv
given the same actions see the same params, bit for bit (tests/test_fleet.py).

Nothing the reward function does not need is copied per step: a step returns arrays (rewards, ends) and the
observations; a car whose episode ends hands over what a training run records of it (:class:`EpisodeEnd`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
from gymnasium import spaces

from racer_env.constants import (COLLISION_PENALTY_S, CONTROL_HZ, DT_S, OFF_TRACK_PENALTY_S, RACE_DURATION_S,
                                 STEP_HZ, TICKS_PER_STEP)
from racer_env.env.config import EnvConfig
from racer_env.env.episode import Episode, round_robin_start, start_from_options
from racer_env.env.observations import CameraLooks, CameraObserver, Observer, make_observer, observe
from racer_env.env.params import NO_OBJECTS, params_dict
from racer_env.env.rewards import DEFAULT_TIME_LIMIT_S, Output, RewardFunction
from racer_env.env.simtrace import TraceRow
from racer_env.env.traffic import Traffic
from racer_env.sim.controller import TickControl
from racer_env.sim.layout import (C_BX, C_BY, C_MOVED, C_X, C_Y, C_YAW, G_ALL_ON, G_CLOSEST, G_HEADING, G_LEFT, G_NONE_ON,
                                  G_NXT, G_PROGRESS, G_PRV, G_WIDTH, GEOMETRY)
from racer_env.sim.track import Projection
from racer_env.sim.vehicle import Car, steer_history

__all__ = ["Fleet", "EpisodeEnd"]

_new = tuple.__new__  # a NamedTuple built without its keyword-checking __new__

_DRIVE, _PREPARE, _FROZEN = 1, 2, 0  # how a car moves on a step (racer_env.sim.kernels.fleet_move)


@dataclass
class EpisodeEnd:
    """What a car hands over when its episode ends: its status, progress [%], laps and lap times [s], its
    reward function's calls and seconds so far, and its SIM_TRACE rows (with ``record_trace``)."""

    status: str
    progress: float
    laps: int
    lap_times: list[float]
    reward_time: tuple[int, float]
    trace: list[TraceRow] = field(default_factory=list)


class Fleet:
    """N cars of one environment (module docstring). In ``"train"`` mode, a config that randomises the camera
    (``EnvConfig.randomize``) gives each car a look drawn every episode (:attr:`looks`); ``"eval"`` drives on the
    plain render, unless the config names a perturbation.

    Args:
        config: the environment.
        n: cars.
        mode: ``"train"`` (round-robin starts, 5 % further each episode) or ``"eval"`` (the start line).
        laps: laps in one episode (DeepRacer's continuous evaluation when above 1).
        max_resets: events an episode survives (NUMBER_OF_RESETS).
        off_track_penalty, collision_penalty: seconds frozen after a reset.
        max_episode_steps: the step cap (default: 180 s a lap, DeepRacer's race duration).
        start_offsets: where each car's first training episode starts, as a fraction of a lap
            (START_POSITION_OFFSET; default: spread evenly round the lap, car k at k / n).
        record_trace: keep each episode's SIM_TRACE rows and hand them over at its end.
        reward_output: where the reward functions' ``print`` goes (default stdout).
        reward_time_limit: seconds one reward call may take (None: no limit).
        keep_params: keep each car's params as they were made (:attr:`params`) and give the reward function a
            copy of its own (with its own lists) that it may change: what a RacerEnv's ``info`` shows. Without
            it the reward function gets the dict itself (nothing the fleet decides reads it back).
    """

    def __init__(self, config: EnvConfig, n: int = 1, *, mode: str = "train", laps: int = 1, max_resets: int = 0,
                 off_track_penalty: float = OFF_TRACK_PENALTY_S, collision_penalty: float = COLLISION_PENALTY_S,
                 max_episode_steps: int | None = None, start_offsets: Sequence[float] | None = None,
                 record_trace: bool = False, reward_output: Output | None = None,
                 reward_time_limit: float | None = DEFAULT_TIME_LIMIT_S, keep_params: bool = False):
        if mode not in ("train", "eval"):
            raise ValueError(f"mode: expected 'train' or 'eval', got {mode!r}")
        if n < 1 or laps < 1 or max_resets < 0 or min(off_track_penalty, collision_penalty) < 0:
            raise ValueError("n and laps must be >= 1; max_resets and the penalties must be >= 0")
        self.config, self.n, self.mode = config, int(n), mode
        self.track, self.actions, self.race, self.car_model = config.track, config.actions, config.race, config.car
        self.kernel = self.track.kernel
        if isinstance(config.reward, RewardFunction):
            if n > 1:
                raise ValueError("a loaded RewardFunction serves one car: give the fleet its source instead")
            self.rewards = [config.reward]
        else:  # one copy of the function's module a car, so that no car sees another's state
            self.rewards = [RewardFunction(config.reward, stdout=reward_output, time_limit_s=reward_time_limit)
                            for _ in range(n)]
        self.laps = int(laps)
        self.max_resets, self.penalties = self.race.resets(max_resets, off_track_penalty, collision_penalty)
        self.max_episode_steps = int(max_episode_steps or round(RACE_DURATION_S * STEP_HZ * self.laps))
        self.record_trace, self.keep_params = record_trace, keep_params
        offsets = start_offsets if start_offsets is not None else [k / n for k in range(n)]
        self.start_offset_pct = [(100.0 * float(s)) % 100.0 for s in offsets]  # DeepRacer gives a fraction
        self.traffic = [Traffic(self.track, self.race, mode, config.boxes) for _ in range(n)]
        self.objects = self.traffic[0].active
        self.observers = [make_observer(config.observation, self.track, self.actions, config.frame_stack,
                                        self.race.BOT_CAR_SPEED, config.object_features) for _ in range(n)]
        self.observer = self.observers[0]
        self.observation_space = self.observer.space
        self.action_space = self.actions.space()
        self._camera = isinstance(self.observer, CameraObserver)
        self.looks: CameraLooks | None = None
        """How each car's camera looks, when the config randomises it (in training) or perturbs it."""
        randomization = config.randomize if mode == "train" else None
        if isinstance(self.observer, CameraObserver) and (randomization is not None or config.perturbation):
            self.looks = CameraLooks(self.observer, n, randomization, config.perturbation)
        self._extras = isinstance(self.observer, Observer) and (self.observer.objects or self.observer.lidar is not None)
        # the cars' state: arrays the kernels step, and a Car view of each row
        m = self.car_model
        self.state = np.zeros((n, 8))
        self.steer_hist = np.zeros((n, steer_history(m)))
        self.speed_hist = np.zeros((n, len(m.speed_weights)))
        self.cars = [Car.view(m, self.state, self.steer_hist, self.speed_hist, k) for k in range(n)]
        import racer_env.sim.kernels as kernels

        self._k = kernels

        self.seg = np.zeros(n, dtype=np.int64)
        self.t, self.dist, self.arc = np.zeros(n), np.zeros(n), np.zeros(n)
        self.sim_time = np.zeros(n)
        self.cmd = np.zeros((n, 2))
        """Each car's command on this step: steering [deg], speed [m/s]."""
        self.moving = np.zeros(n, dtype=np.int8)
        self._ranges = np.array([*self.actions.steering_range, *self.actions.speed_range], dtype=np.float64)
        """A continuous action space's steering [deg] and speed [m/s] ranges (low, high, low, high)."""
        self._model = kernels.model_array(*m.kernel_args)
        self.geo = np.zeros((n, len(GEOMETRY)))
        """Each car's params geometry at its pose now (racer_env.sim.kernels.GEOMETRY): its next step's."""
        self._ep = np.zeros((n, 2))  # each car's episode start and previous progress, for the geometry
        self._all = np.arange(n, dtype=np.int64)
        self._one = [np.array([k], dtype=np.int64) for k in range(n)]
        self.episodes = [Episode(self.track, 0.0) for _ in range(n)]
        self.episode_count = [0] * n
        self._starts: dict[float, tuple[float, float, float, float]] = {}  # start poses by start [%] (_start_pose)
        self.params: list[dict[str, Any]] = [{} for _ in range(n)]
        """Each car's params on its last step (as made with ``keep_params``, else the dict its reward function
        was given)."""
        self._crashed = [False] * n  # whether each car's crash counts on this step
        self.last_reward = np.zeros(n)
        self._traces: list[list[TraceRow]] = [[] for _ in range(n)]
        self.obs: Any = self._empty_observations()
        """The cars' observations now: an (n, size) float32 array, or a dict of arrays with the camera."""
        self._held: TickControl | None = None  # actions held for whole ticks (hold_actions)
        self._every = TICKS_PER_STEP
        self._ask: Callable[[int, Any], Any] | None = None
        self._clock = [0] * n  # each car's controller ticks since its episode's first action
        self._placed = [True] * n  # placed since its ticks were last read from its step histories
        self._still = np.zeros(n, dtype=np.int8)
        # every car's objects stacked for the kernels that serve all cars at once: what the params see, and where
        # the objects are now (the vector's objects ahead, when it has no LIDAR)
        self._seen, self._now = _Stacked(n), _Stacked(n)
        self._views = np.zeros((n, 6))
        self._intended = self.race.object_in_camera == "intended"
        self._ahead_together = self._extras and all(isinstance(ob, Observer) and ob.objects and ob.lidar is None
                                                     for ob in self.observers)
        self._ahead_settings = self.observer.ahead_settings() if isinstance(self.observer, Observer) else (0.0, 0, 0.0)
        self._ahead_scratch = np.zeros((n, 5 * self._ahead_settings[1]))
        self._fleet_advance: Callable[..., None] | None = None  # kernels.fleet_advance for these arrays' types
        # its arguments before and after the cars and how they move, gathered once: the same arrays on every call
        self._advance_args = ((*self.kernel, self.state, self.steer_hist, self.speed_hist, self.seg, self.t, self.dist,
                               self.arc),
                              (self.cmd, self._ep, self.geo, self._base, not self._camera, self._model, self.sim_time,
                               DT_S))

    # ------------------------------------------------------------------- views
    def car(self, k: int) -> Car:
        """Car ``k``: a view of its row of the state arrays."""
        return self.cars[k]

    def where(self, k: int) -> Projection:
        """Car ``k``'s projection on the centre line now."""
        return Projection(int(self.seg[k]), float(self.t[k]), float(self.dist[k]), float(self.arc[k]))

    def observation(self, k: int) -> Any:
        """Car ``k``'s observation now (a copy)."""
        if isinstance(self.obs, dict):
            return {key: value[k].copy() for key, value in self.obs.items()}
        return self.obs[k].copy()

    # ------------------------------------------------------------------- reset
    def seed(self, k: int, seed: int | None) -> None:
        """Restart car ``k``'s sequence of episodes and its objects' and sensors' random draws from ``seed``."""
        self.episode_count[k] = 0
        self.sim_time[k] = 0.0
        self.traffic[k].rng.seed(seed)
        self.traffic[k].conversions = 1
        self.observers[k].reset(seed)
        if self.looks is not None:
            self.looks.seed(k, seed)

    def reset(self, k: int, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """Start car ``k``'s next episode: at the next round-robin start in training, the start line in
        evaluation, or where ``options`` says (``{"start_progress": pct}``, ``{"pose": (x, y, heading_deg)}``);
        then DeepRacer's prepare step (speed 0 sent, the reward function not called, spec §1.5)."""
        if seed is not None:
            self.episode_count[k], self.sim_time[k] = 0, 0.0
        default = round_robin_start(self.episode_count[k], self.start_offset_pct[k]) if self.mode == "train" \
            else 0.0
        traffic = self.traffic[k]
        traffic.reset(seed)
        self.observers[k].reset(seed)
        if self.looks is not None:
            self.looks.reset(k, seed)
        if options:
            start, x, y, yaw = start_from_options(self.track, options, default)
        else:
            start, x, y, yaw = self._start_pose(default)
        if self.mode == "train" and not options:  # not where an object stands (objects spec §5)
            x, y, yaw = traffic.start_pose(start, x, y, yaw)
        self.episode_count[k] += 1
        self.cars[k].place(x, y, math.degrees(yaw))
        self._placed[k] = True
        self.seg[k], self.t[k], self.dist[k], self.arc[k] = self._k.project(*self.kernel, x, y, -1)
        episode = self.episodes[k] = Episode(self.track, start, self.laps, self.max_resets, self.penalties,
                                             self.max_episode_steps)
        self.cmd[k] = 0.0
        ks = self._one[k]
        self._geometry(ks)
        params = self.params[k] = self._params(k, self.geo[k].tolist(), self.state[k].tolist(), [0.0, 0.0],
                                               float(self.dist[k]), float(self.arc[k]), float(self.sim_time[k]))
        episode.prepared(params)
        self.moving[k] = _PREPARE
        self._advance(ks)
        self.last_reward[k] = 0.0
        if self.record_trace:
            self._traces[k] = [self._row(k, "prepare", None, 0.0, False, self._geo_row, self._state_row)]

    def _start_pose(self, start_pct: float) -> tuple[float, float, float, float]:
        """:func:`~racer_env.env.episode.start_from_options` without options: an episode's start at ``start_pct``
        [%] (the start progress [%], the params point [m] and yaw [rad]). It depends on the track and the start
        alone, and round-robin starts come back every 20 episodes, so each car's is worked out once (up to
        1,000 of them): in the loop of a training run it cost a reset ~14 us."""
        pose = self._starts.get(start_pct)
        if pose is None:
            pose = start_from_options(self.track, {}, start_pct)
            if len(self._starts) < 1000:
                self._starts[start_pct] = pose
        return pose

    def reset_all(self, seed: int | None = None) -> None:
        """Reset every car (car k seeded with ``seed + k`` when a seed is given)."""
        for k in range(self.n):
            self.reset(k, None if seed is None else seed + k)

    # ---------------------------------------------------------- held actions
    def hold_actions(self, every: int, ask: Callable[[int, Any], Any]) -> None:
        """Drive the cars as a car's own computer runs its model: a new action every ``every`` ticks of the car's
        60 Hz controller (4 ticks: once a step, as the simulator asks), each held until the next, while every step
        is judged (params, reward, episode rules, lap times) as ever.

        An action due at a step's first tick is the one given to :meth:`step`, which should ask for one when
        :meth:`action_due` says so and give the one held otherwise; an action due inside a step is asked for
        there: ``ask(k, observation)`` gets car ``k``'s observation at that tick (its pose, camera frame and
        vector then; objects where they are on this step) and returns its action. Each car moves tick by tick
        (:class:`racer_env.sim.controller.TickControl`): held for whole steps, exactly as without this. A car
        frozen for a penalty does not move, but its clock runs on. The SIM_TRACE keeps a row a step, with the
        action in effect at the step's start."""
        if every < 1:
            raise ValueError(f"every: expected a whole number of ticks >= 1, got {every}")
        self._held = TickControl(self.car_model, self.n)
        self._every, self._ask = int(every), ask
        self._placed = [True] * self.n

    def action_due(self, k: int) -> bool:
        """Whether car ``k``'s next action is due at the next step's first tick (always, unless
        :meth:`hold_actions` set another rate)."""
        return self._clock[k] % self._every == 0

    def placed(self, k: int) -> None:
        """Car ``k`` was put somewhere by hand (:meth:`racer_env.sim.vehicle.Car.place`) between steps: its held
        controller starts again from its step histories."""
        self._placed[k] = True

    # -------------------------------------------------------------------- step
    def step(self, actions: Any) -> tuple[list[float], list[bool], list[bool], list[EpisodeEnd | None]]:
        """One step of every car: ``actions`` holds one action a car (an (n, 2) array in [-1, 1], or n action
        indices). Returns the rewards, terminated and truncated (one a car), and for each car whose episode
        ended on this step what it hands over (else None). :attr:`obs` then holds the observations after the
        step; a car whose episode ended is not reset (:meth:`reset` it).

        Raises:
            RewardFunctionError: a reward function failed; the message names the file, line and step.
        """
        self._controls(actions)
        n, objects = self.n, self.objects
        episodes, traffic, rewards_fn = self.episodes, self.traffic, self.rewards
        for k in range(n):  # the step counter counts every step, paused ones included; bot cars move first
            episodes[k].steps += 1.0
        if objects:
            for tr in traffic:
                tr.step()
        geo, state = self.geo.tolist(), self.state.tolist()  # each car's values, once a step
        cmd, dist, arc, times = self.cmd.tolist(), self.dist.tolist(), self.arc.tolist(), self.sim_time.tolist()
        views = self._object_views() if objects else None
        rewards, terminated, truncated = [0.0] * n, [False] * n, [False] * n
        ends: list[EpisodeEnd | None] = [None] * n
        put_back: list[int] = []
        action_of = self._action_of(actions) if self.record_trace else None
        for k in range(n):
            gk, sk = geo[k], state[k]
            params = self.params[k] = self._params(k, gk, sk, cmd[k], dist[k], arc[k], times[k],
                                                   views[k] if views is not None else None)
            episode = episodes[k]
            if episode.pause_steps > 0:  # frozen for a penalty: no reward call (spec §2.2)
                reward, judged = 0.0, episode.pause_step()
                self.moving[k] = _FROZEN
            else:
                reward = rewards_fn[k](_copy_for_reward(params) if self.keep_params else params)
                progress = gk[G_PROGRESS]  # judged from the values as made, whatever the function did
                ahead = traffic[k].rear_end(sk[C_X], sk[C_Y], sk[C_YAW], progress, episode.start_progress) \
                    if objects else False
                judged = episode.judge_values(progress, self._crashed[k], gk[G_NONE_ON] == 1.0, sk[C_MOVED], ahead)
                if judged.put_back:
                    put_back.append(k)
                    self.moving[k] = _FROZEN
                else:
                    self.moving[k] = _DRIVE
            rewards[k] = self.last_reward[k] = reward
            terminated[k], truncated[k] = judged.terminated, judged.truncated
            done = judged.terminated or judged.truncated
            if action_of is not None:
                self._traces[k].append(self._row(k, judged.status, action_of[k], reward, done, gk, sk))
            if done:
                ends[k] = self._end(k, gk[G_PROGRESS])
        self._advance(self._all)
        for k in put_back:  # a reset: the car is put back on the track (spec §2.2, objects spec §4.3)
            car = self.cars[k]
            x, y, yaw = traffic[k].reset_pose(episodes[k], car.x, car.y, car.yaw)
            car.place(x, y, math.degrees(yaw))
            self._placed[k] = True
            self.seg[k], self.t[k], self.dist[k], self.arc[k] = self._k.project(*self.kernel, x, y,
                                                                                int(self.seg[k]))
            self._geometry(self._one[k])
            self._observe(self._one[k])
        return rewards, terminated, truncated, ends

    # ---------------------------------------------------------------- the parts
    def _controls(self, actions: Any) -> None:
        """The cars' commands (steering [deg], speed [m/s]) from their actions."""
        spec = self.actions
        if spec.discrete is not None:
            table, cmd = spec.discrete, self.cmd
            for k, a in enumerate(np.asarray(actions).reshape(self.n).tolist()):
                cmd[k, 0], cmd[k, 1] = table[int(a)]
            return
        self._k.continuous_controls(np.asarray(actions, dtype=np.float64).reshape(self.n, 2), self._ranges, self.cmd)

    def _episode_progress(self, ks: np.ndarray) -> None:
        """Each car's episode start and previous progress, which its next params' progress depends on."""
        eps, out = self.episodes, self._ep
        # element by element: cheaper than making an array of a list of pairs, for one car (1.0 against 2.5 us)
        # as for 32 (15 against 18 us)
        for k in (range(self.n) if ks is self._all else ks.tolist()):
            ep = eps[k]
            out[k, 0] = ep.start_progress
            out[k, 1] = ep.prev_progress

    def _geometry(self, ks: np.ndarray) -> None:
        """The params geometry of the cars ``ks`` at their poses now."""
        self._episode_progress(ks)
        self._k.fleet_geometry(*self.kernel, self.state, self.seg, self.t, self.dist, self.arc, ks, self._ep, self.geo)

    def _advance(self, ks: np.ndarray) -> None:
        """Move the cars ``ks`` by their commands (as :attr:`moving` says), advance their clocks one step, and
        project each once: for its observation and its next step's params geometry."""
        self._episode_progress(ks)
        moving = self.moving
        if self._held is not None:  # moved tick by tick here; the kernel does the rest
            self._move_held(ks)
            moving = self._still
        head, tail = self._advance_args
        if self._fleet_advance is None:  # every call passes the fleet's own arrays: one signature (kernels.compiled)
            self._fleet_advance = self._k.compiled(self._k.fleet_advance, (*head, ks, moving, *tail))
        self._fleet_advance(*head, ks, moving, *tail)
        if self._camera or self._extras:
            self._observe(ks, vector=False)

    def _move_held(self, ks: np.ndarray) -> None:
        """Move the cars ``ks`` through a step's four ticks holding their commands (as :attr:`moving` says),
        asking for a new action at each tick inside the step where one is due (:meth:`hold_actions`)."""
        held, every, state = self._held, self._every, self.state
        assert held is not None
        for k in ks.tolist():
            if self._placed[k]:
                held.load(k, state, self.steer_hist, self.speed_hist)
                self._placed[k] = False
            mode = self.moving[k]
            if mode == _FROZEN:
                self._clock[k] += TICKS_PER_STEP
                continue
            start = (float(state[k, C_X]), float(state[k, C_Y]))
            if mode == _PREPARE:  # speed 0 sent, unclipped; the first action is due at the next step's first tick
                held.advance(state, k, TICKS_PER_STEP, self.cmd[k, 0], self.cmd[k, 1], False, start)
                self._clock[k] = 0
            else:
                clock, tick = self._clock[k], 0
                while tick < TICKS_PER_STEP:
                    due = next((i for i in range(tick + 1, TICKS_PER_STEP) if (clock + i) % every == 0),
                               TICKS_PER_STEP)
                    held.advance(state, k, due - tick, self.cmd[k, 0], self.cmd[k, 1], True, start)
                    tick = due
                    if tick < TICKS_PER_STEP:
                        self._ask_at(k, tick)
                self._clock[k] = clock + TICKS_PER_STEP
            held.store(k, self.steer_hist, self.speed_hist)

    def _ask_at(self, k: int, tick: int) -> None:
        """Car ``k``'s action at ``tick`` of this step: its observation there, the answer of ``ask``, and the
        command it gives, held from this tick on."""
        assert self._held is not None and self._ask is not None
        x, y = float(self.state[k, C_X]), float(self.state[k, C_Y])
        self.seg[k], self.t[k], self.dist[k], self.arc[k] = self._k.project(*self.kernel, x, y, int(self.seg[k]))
        self._held.store(k, self.steer_hist, self.speed_hist)
        now = self.sim_time[k]
        self.sim_time[k] = now + tick / CONTROL_HZ  # the observers' clock (a LIDAR's scan), for this tick
        self._observe(self._one[k])
        self.sim_time[k] = now
        action = self._ask(k, self.observation(k))
        spec = self.actions
        if spec.discrete is not None:
            self.cmd[k, 0], self.cmd[k, 1] = spec.discrete[int(np.asarray(action).reshape(-1)[0])]
        else:
            self._k.continuous_controls(np.asarray(action, dtype=np.float64).reshape(1, 2), self._ranges,
                                        self.cmd[k:k + 1])

    def _params(self, k: int, gk: list[float], sk: list[float], cmd: list[float], dist: float, arc: float,
                sim_time: float, view: list[float] | None = None) -> dict[str, Any]:
        """Car ``k``'s params dict on this step, from this step's values of its geometry ``gk``, state ``sk``,
        command (steering [deg], speed [m/s]), projection (distance from the centre line and along it [m]) and
        clock [s], and from its objects (``view``: what it sees of them, made for every car at once by
        :meth:`_object_views`; else made here)."""
        x, y, yaw = sk[C_X], sk[C_Y], sk[C_YAW]
        progress = gk[G_PROGRESS]
        episode = self.episodes[k]
        crashed, closest_objects, in_camera, objects = False, [0, 0], False, NO_OBJECTS
        if self.objects:
            objects = self.traffic[k].seen
            if objects.things and view is not None:
                _, crashed, closest_objects, in_camera = objects.remember(x, y, yaw, arc, view[5], view)
            elif objects.things:
                _, crashed, closest_objects, in_camera = objects.view(x, y, yaw, arc,
                                                                      (progress + episode.start_progress) % 100.0)
        self._crashed[k] = crashed
        return params_dict(self.track, x, y, gk[G_HEADING], dist, gk[G_LEFT] == 1.0, gk[G_ALL_ON] == 1.0,
                           gk[G_NONE_ON] == 1.0, crashed, progress, episode.steps, cmd[1], cmd[0], gk[G_WIDTH],
                           int(gk[G_PRV]), int(gk[G_NXT]), closest_objects, objects, in_camera, arc, sim_time)

    def _object_views(self) -> list[list[float]]:
        """What every car sees of its objects this step, from its pose now, in one kernel call
        (:func:`racer_env.sim.kernels.fleet_object_params`): for each car, the five values of
        :meth:`racer_env.env.params.Objects.view`'s kernel, then its share of the lap from waypoint 0 [%]."""
        seen = self._seen
        for k, traffic in enumerate(self.traffic):
            objects = traffic.seen
            if objects is not seen.of[k]:
                seen.load(k, objects, *(objects.arrays if objects.things else ()))
        # each car's episode start is in _ep since its last move (_advance) or its reset
        self._k.fleet_object_params(seen.objs, seen.order, seen.sorted, seen.counts, self.state, self.arc, self.geo,
                                    self._ep, self.track.length, self._intended, self._all, self._views)
        return self._views.tolist()

    def _observe(self, ks: np.ndarray, vector: bool = True) -> None:
        """The observations of the cars ``ks`` at their poses now: the camera's, and the vector's objects and
        LIDAR (its 26 values come from :meth:`_advance`, or here with ``vector``)."""
        if self._camera:  # every car's frame in one batched render, then each car's stack and LIDAR
            cars = ks.tolist()
            st = self.state[ks]
            first = self.observers[0]
            assert isinstance(first, CameraObserver)
            things = [self.traffic[k].now for k in cars]
            if self.looks is not None:  # each car's mount and look
                shots = self.looks.frames(st[:, C_BX], st[:, C_BY], st[:, C_YAW], ks, things)
            else:
                shots = first.frames(st[:, C_BX], st[:, C_BY], st[:, C_YAW], things)
            for j, k in enumerate(cars):
                observer = self.observers[k]
                assert isinstance(observer, CameraObserver)
                out = observer.assemble(shots[j], self.cars[k], self.traffic[k].now, float(self.sim_time[k]))
                for key, value in out.items():
                    self.obs[key][k] = value
            return
        width = self._k.OBS_VALUES
        if vector:
            for k in ks.tolist():
                self._base[k, :width] = observe(self.track, self.cars[k], self.where(k))
        if self._ahead_together:  # every car's objects ahead in one kernel call
            now = self._now
            for k in ks.tolist():
                things = self.traffic[k].array()
                if things is not now.of[k]:
                    now.load(k, things, things)
            ahead = self._ahead_scratch
            self._k.fleet_objects_ahead(*self.kernel, now.objs, now.counts, self.state, self.arc, self.seg, ks,
                                        *self._ahead_settings, ahead)
            if ks is self._all:
                self._base[:, width:] = ahead
            else:
                self._base[ks, width:] = ahead[ks]
        elif self._extras:
            for k in ks.tolist():
                observer = self.observers[k]
                assert isinstance(observer, Observer)
                traffic = self.traffic[k]
                self._base[k, width:] = observer.extras(self.track, self.cars[k], self.where(k), traffic.now,
                                                        float(self.sim_time[k]), traffic.array())

    def _empty_observations(self) -> Any:
        space = self.observation_space
        if isinstance(space, spaces.Dict):
            self._base = np.zeros((self.n, self._k.OBS_VALUES), dtype=np.float32)  # unused: the kernel's scratch
            return {key: np.zeros((self.n, *(sub.shape or ())), dtype=sub.dtype) for key, sub in space.spaces.items()}
        self._base = np.zeros((self.n, *(space.shape or ())), dtype=np.float32)
        return self._base

    def _action_of(self, actions: Any) -> list[Any]:
        """Each car's action as its SIM_TRACE row logs it."""
        if self.actions.discrete is not None:
            return [int(a) for a in np.asarray(actions).reshape(self.n).tolist()]
        return list(np.asarray(actions).reshape(self.n, -1))

    @property
    def _geo_row(self) -> list[float]:
        return self.geo[0].tolist()

    @property
    def _state_row(self) -> list[float]:
        return self.state[0].tolist()

    def _row(self, k: int, status: str, action: Any, reward: float, done: bool, gk: list[float],
             sk: list[float]) -> TraceRow:
        """Car ``k``'s SIM_TRACE row of this step (spec §7.1), from the values its params were made of (its
        geometry ``gk`` and state ``sk``)."""
        episode, traffic = self.episodes[k], self.traffic[k]
        steering, speed = float(self.cmd[k, 0]), float(self.cmd[k, 1])
        return _new(TraceRow, (self.episode_count[k] - 1, float(episode.steps), sk[C_X], sk[C_Y], gk[G_HEADING],
                               steering, speed, self.actions.trace_text(action, steering, speed), reward, done,
                               gk[G_ALL_ON] == 1.0, gk[G_PROGRESS], int(gk[G_CLOSEST]), self.track.length,
                               float(self.sim_time[k]) + DT_S if status != "prepare" else float(self.sim_time[k]),
                               status, episode.pause_left_s if status == "pause" else 0.0,
                               0 if done else traffic.mercy_count, 0.0, 0, tuple(traffic.now)))

    def _end(self, k: int, progress: float) -> EpisodeEnd:
        episode, fn = self.episodes[k], self.rewards[k]
        return EpisodeEnd(episode.status, progress, episode.laps_done, list(episode.lap_times),
                          (fn.calls, fn.seconds), self._traces[k] if self.record_trace else [])


def _copy_for_reward(params: dict[str, Any]) -> dict[str, Any]:
    """A copy the reward function may change freely: the waypoint lists, which :attr:`Fleet.params` keeps, are
    its own (the object lists are made for each step, and the fleet's rules and logs read none of them)."""
    d = dict(params)
    d["waypoints"] = list(d["waypoints"])
    d["closest_waypoints"] = list(d["closest_waypoints"])
    return d


class _Stacked:
    """Each car's objects as one array a kernel serving every car takes: ``objs`` (n, m, 6) as
    :data:`racer_env.sim.kernels.OBJECT_FIELDS`, with ``order`` and ``sorted`` (what sorts them by distance) and
    ``counts`` (car k's are its first ``counts[k]``). A car's row is loaded again only when its objects change
    (:attr:`of` holds what it was loaded from): the boxes of an episode stand still, bot cars move every step."""

    def __init__(self, n: int):
        self.objs = np.zeros((n, 0, 6))
        self.order = np.zeros((n, 0), dtype=np.int64)
        self.sorted = np.zeros((n, 0))
        self.counts = np.zeros(n, dtype=np.int64)
        self.of: list[object] = [None] * n

    def load(self, k: int, source: object, objs: np.ndarray | None = None, order: np.ndarray | None = None,
             sorted_distance: np.ndarray | None = None) -> None:
        """Car ``k``'s objects from ``source``: ``objs`` (none: no objects), and their order and sorted
        distances when a kernel needs them."""
        c = 0 if objs is None else objs.shape[0]
        if c > self.objs.shape[1]:  # more objects than any car had: widen every row
            n = self.counts.shape[0]
            grown = np.zeros((n, c, 6))
            grown[:, :self.objs.shape[1]] = self.objs
            grown_order, grown_sorted = np.zeros((n, c), dtype=np.int64), np.zeros((n, c))
            grown_order[:, :self.order.shape[1]], grown_sorted[:, :self.sorted.shape[1]] = self.order, self.sorted
            self.objs, self.order, self.sorted = grown, grown_order, grown_sorted
        if objs is not None:
            self.objs[k, :c] = objs
            if order is not None and sorted_distance is not None:
                self.order[k, :c], self.sorted[k, :c] = order, sorted_distance
        self.counts[k], self.of[k] = c, source
