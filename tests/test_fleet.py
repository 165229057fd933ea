"""The fleet: N cars stepped together, each exactly as a RacerEnv would drive it."""

import numpy as np
import pytest

from racer_env import RacerEnv, RewardFunctionError
from racer_env.env.config import EnvConfig
from racer_env.env.fleet import Fleet

RACES = {
    "time trial": None,
    "boxes": {"NUMBER_OF_OBSTACLES": 3, "RANDOMIZE_OBSTACLE_LOCATIONS": True},
    "bots": {"NUMBER_OF_BOT_CARS": 2, "BOT_CAR_SPEED": 1.0, "IS_LANE_CHANGE": True},
}
DISCRETE = {"action_space": [{"steering_angle": s, "speed": v} for s in (-30, -10, 0, 10, 30) for v in (1.0, 3.0)],
            "action_space_type": "discrete"}


class Recorder:
    """A reward function that keeps every params dict it is given (a copy, so that nothing later changes it)."""

    def __init__(self):
        self.seen = []

    def __call__(self, params):
        self.seen.append({k: (list(v) if isinstance(v, list) else v) for k, v in params.items()})
        return float(params["progress"]) + params["speed"]


def _actions(space, steps, n, seed):
    space.seed(seed)
    return [[space.sample() for _ in range(n)] for _ in range(steps)]


@pytest.mark.parametrize("race", sorted(RACES))
@pytest.mark.parametrize("metadata", ["continuous", "discrete"])
def test_each_car_of_a_fleet_sees_what_a_racer_env_sees_bit_for_bit(race, metadata):
    n, steps = 3, 250
    meta = DISCRETE if metadata == "discrete" else None
    recorders = [Recorder() for _ in range(n)]
    configs = [EnvConfig.make(track="harbour_loop", reward=recorders[k], model_metadata=meta, race=RACES[race])
               for k in range(n)]
    envs = [RacerEnv(configs[k], mode="train", start_offset=k / n) for k in range(n)]
    fleet_recorder = Recorder()
    fleet = Fleet(EnvConfig.make(track="harbour_loop", reward=fleet_recorder, model_metadata=meta,
                                 race=RACES[race]), n, mode="train")
    assert [f"{s:.6f}" for s in fleet.start_offset_pct] == [f"{100 * k / n:.6f}" for k in range(n)]
    actions = _actions(envs[0].action_space, steps, n, seed=1)
    obs = [env.reset(seed=k)[0] for k, env in enumerate(envs)]
    for k in range(n):
        fleet.seed(k, k)
        fleet.reset(k, k)
        assert np.array_equal(fleet.observation(k), obs[k])
    ended = 0
    for step in actions:
        batch = np.array(step)
        rewards, terminated, truncated, ends = fleet.step(batch)
        for k, env in enumerate(envs):
            o, r, te, tr, info = env.step(step[k])
            assert (rewards[k], terminated[k], truncated[k]) == (r, te, tr)
            assert fleet.params[k] == info["params"]  # every key, every float to the last bit
            assert np.array_equal(fleet.observation(k), o)
            if te or tr:
                ended += 1
                assert ends[k].status == info["episode_status"]
                env.reset()
                fleet.reset(k)
                assert np.array_equal(fleet.observation(k), env.fleet.observation(0))
    # and the reward functions saw the same dicts, in the order each car called them
    own = [p for rec in recorders for p in rec.seen]
    assert sorted(map(repr, fleet_recorder.seen)) == sorted(map(repr, own)) and ended > 2


def test_each_car_runs_its_own_copy_of_the_reward_function(tmp_path):
    f = tmp_path / "counting.py"
    f.write_text("calls = 0\n\ndef reward_function(params):\n    global calls\n    calls += 1\n    return float(calls)\n")
    fleet = Fleet(EnvConfig.make(reward=f), 4, mode="eval")
    fleet.reset_all(0)
    for _ in range(3):
        rewards, *_ = fleet.step(np.zeros((4, 2)))
    assert rewards == [3.0, 3.0, 3.0, 3.0]  # no car sees another's calls


def test_a_reward_error_names_the_file_the_line_and_the_step(tmp_path):
    f = tmp_path / "late.py"
    f.write_text("def reward_function(params):\n    return 1.0 if params['steps'] < 5 else params['nope']\n")
    fleet = Fleet(EnvConfig.make(reward=f), 2)
    fleet.reset_all(0)
    with pytest.raises(RewardFunctionError, match=r"late.py:2: reward function raised KeyError: 'nope' at step 5"):
        for _ in range(10):
            fleet.step(np.zeros((2, 2)))


def test_a_car_whose_episode_ends_hands_over_its_trace_and_reward_time():
    fleet = Fleet(EnvConfig.make(reward=lambda p: 1.0), 2, mode="eval", record_trace=True)
    fleet.reset_all(0)
    left = np.tile([[1.0, 1.0]], (2, 1))  # full left at full speed: off the road soon
    for _ in range(200):
        _, terminated, truncated, ends = fleet.step(left)
        if terminated[0]:
            break
    end = ends[0]
    assert end.status == "off_track" and end.reward_time[0] == len(end.trace) - 1  # no call on the prepare step
    assert end.trace[0].episode_status == "prepare" and end.trace[-1].done


def test_fleet_vec_env_trains_ppo_and_its_infos_are_empty_but_at_an_episode_end():
    from stable_baselines3 import PPO

    from racer_env.training.vecfleet import FleetVecEnv

    venv = FleetVecEnv(Fleet(EnvConfig.make(reward=lambda p: 1.0), 4, record_trace=True))
    venv.seed(0)
    obs = venv.reset()
    assert obs.shape == (4, 26)
    seen_end = False
    for _ in range(60):
        obs, rewards, dones, infos = venv.step(np.tile([[0.9, 1.0]], (4, 1)))
        for done, info in zip(dones, infos):
            if done:
                seen_end = True
                assert {"terminal_observation", "trace", "reward_time", "episode_status"} <= set(info)
            else:
                assert info == {}
    assert seen_end
    model = PPO("MlpPolicy", venv, n_steps=32, batch_size=64, n_epochs=1, device="cpu", seed=0)
    model.learn(256)
    assert model.num_timesteps >= 256


@pytest.mark.parametrize("sensor, stack", [("FRONT_FACING_CAMERA", 1), ("STEREO_CAMERAS", 2)])
def test_a_fleet_renders_every_cars_camera_as_a_racer_env_does(sensor, stack):
    meta = {"action_space": {"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 0.5, "high": 3}},
            "action_space_type": "continuous", "sensor": [sensor]}
    n = 3
    envs = [RacerEnv(EnvConfig.make(reward=lambda p: 1.0, model_metadata=meta, frame_stack=stack), mode="train",
                     start_offset=k / n) for k in range(n)]
    fleet = Fleet(EnvConfig.make(reward=lambda p: 1.0, model_metadata=meta, frame_stack=stack), n, mode="train")
    for k, env in enumerate(envs):
        env.reset(seed=k)
        fleet.seed(k, k)
        fleet.reset(k, k)
    for step in _actions(envs[0].action_space, 40, n, seed=2):
        _, terminated, truncated, _ = fleet.step(np.array(step))
        for k, env in enumerate(envs):
            obs, _, te, tr, _ = env.step(step[k])
            assert all(np.array_equal(fleet.observation(k)[key], obs[key]) for key in obs)
            if te or tr:
                env.reset()
                fleet.reset(k)
