"""A fleet as stable-baselines3's VecEnv: PPO and SAC step every car of a :class:`~racer_env.env.fleet.Fleet`
at once, unchanged.

What travels each step is what SB3 needs: the observations, rewards and ends as arrays, and for each car an
``info`` dict that is empty unless its episode ended on that step (SB3's ``DummyVecEnv`` deep-copies every
env's info every step; a racer_env info held the whole params dict, and the copy took most of a training run's
time). A car whose episode ends is reset at once, as SB3 expects; its info then holds
``terminal_observation``, ``TimeLimit.truncated``, ``episode_status``, ``progress``, ``laps``, ``lap_times``,
``reward_time`` (calls, seconds of its reward function) and, when the fleet records them, ``trace`` (its
SIM_TRACE rows). A callback that wants a car's params reads ``venv.fleet.params[k]``: the dict its reward
function was given on the last step, never copied.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn

from racer_env.env.fleet import Fleet

__all__ = ["FleetVecEnv"]


class FleetVecEnv(VecEnv):
    """SB3's VecEnv over a fleet (module docstring); car k is env k."""

    def __init__(self, fleet: Fleet, closing: Sequence[Any] = ()):
        self.fleet = fleet
        self._closing = list(closing)  # files the fleet writes to (its reward functions' output), closed with it
        super().__init__(fleet.n, fleet.observation_space, fleet.action_space)
        self._actions: np.ndarray | None = None
        self._empty: list[dict[str, Any]] = [{} for _ in range(fleet.n)]

    # ------------------------------------------------------------------ VecEnv
    def reset(self) -> VecEnvObs:
        fleet = self.fleet
        for k in range(fleet.n):
            if self._seeds[k] is not None:
                fleet.seed(k, self._seeds[k])
            fleet.reset(k, self._seeds[k], self._options[k] or None)
        self._reset_seeds()
        self._reset_options()
        return self._observations()

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        fleet = self.fleet
        rewards_list, terminated_list, truncated_list, ends = fleet.step(self._actions)
        rewards = np.array(rewards_list, dtype=np.float32)
        terminated, truncated = np.array(terminated_list), np.array(truncated_list)
        dones = terminated | truncated
        infos: list[dict[str, Any]] = self._empty if not dones.any() else [{} for _ in range(fleet.n)]
        if dones.any():
            for k in np.flatnonzero(dones).tolist():
                end = ends[k]
                assert end is not None
                info = infos[k]
                info["terminal_observation"] = fleet.observation(k)
                info["TimeLimit.truncated"] = bool(truncated[k] and not terminated[k])
                info["episode_status"], info["progress"] = end.status, end.progress
                info["laps"], info["lap_times"], info["reward_time"] = end.laps, end.lap_times, end.reward_time
                if fleet.record_trace:
                    info["trace"] = end.trace
                fleet.reset(k)
        else:
            for info in infos:
                info.clear()  # a callback may have written into last step's
        return self._observations(), rewards, dones, infos

    def _observations(self) -> VecEnvObs:
        obs = self.fleet.obs
        if isinstance(obs, dict):
            return {key: value.copy() for key, value in obs.items()}
        return obs.copy()

    def close(self) -> None:
        for f in self._closing:
            f.close()
        self._closing = []

    # ----------------------------------------------- what SB3 asks of VecEnvs
    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        value = None if attr_name == "render_mode" else getattr(self.fleet, attr_name)  # a fleet draws nothing
        return [value for _ in self._indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        setattr(self.fleet, attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None,
                   **method_kwargs: Any) -> list[Any]:
        return [getattr(self.fleet, method_name)(*method_args, **method_kwargs) for _ in self._indices(indices)]

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [None for _ in range(self.num_envs)]

    def _indices(self, indices: VecEnvIndices) -> list[int]:
        if indices is None:
            return list(range(self.num_envs))
        return [indices] if isinstance(indices, int) else list(indices)
