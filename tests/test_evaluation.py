"""evaluate(): greedy laps with any policy, DeepRacer's results and metrics."""

import pytest

from racer_env.env.actions import ActionSpec
from racer_env.env.config import EnvConfig
from racer_env.sim.drivers import pursuit_steering
from racer_env.sim.track import Track
from racer_env.training.evaluation import evaluate

TRACK = Track.load("harbour_loop")


def _pursuit(speed):
    """A policy from observation to action: steer at the centre-line point about 0.8 m ahead, which the
    observation gives in the car's frame (pure pursuit on the observation alone)."""
    actions = ActionSpec.default()

    def policy(obs):
        ax, ay = obs[6] * 3.0, obs[7] * 3.0  # the point 0.8 m ahead along the centre line [m]
        return actions.to_action(pursuit_steering(0.0, 0.0, 0.0, ax, ay), speed)

    return policy


def _evaluate(speed, **kw):
    return evaluate(_pursuit(speed), EnvConfig.make(track=TRACK, reward=lambda p: 1.0), **kw)


def test_three_trials_from_the_start_line():
    res = _evaluate(1.5, laps=3)
    assert res.completed == 3 and res.clean and len(res.laps) == 3
    assert res.laps[0].lap_time == pytest.approx(res.laps[1].lap_time)  # deterministic: identical trials
    assert res.best_lap_time == res.laps[0].lap_time
    rows = res.metrics_json()["metrics"]
    assert [r["trial"] for r in rows] == [1, 2, 3] and all(r["episode_status"] == "Lap complete" for r in rows)


def test_continuous_laps_are_faster_after_the_first():
    res = _evaluate(2.0, laps=2, continuous=True)
    assert res.completed == 2 and res.laps[1].lap_time < res.laps[0].lap_time
    assert res.metrics_json()["metrics"][0]["episode_status"] == "In progress"


def test_off_track_ends_a_trial_and_resets_count():
    env_kwargs = EnvConfig.make(track=TRACK, reward=lambda p: 1.0)
    circle = lambda obs: [1.0, -0.5]  # noqa: E731  full lock left: off the track within a few metres
    res = evaluate(circle, env_kwargs, laps=1)
    assert res.completed == 0 and res.laps[0].status == "off_track" and res.laps[0].off_track == 1
    res = evaluate(circle, env_kwargs, laps=1, max_resets=3)
    lap = res.laps[0]
    assert lap.resets == 3 and lap.off_track == 4 and lap.status == "off_track"
    assert res.score() < _evaluate(1.5, laps=1).score()


@pytest.mark.parametrize("discrete, activation", [(False, "tanh"), (True, "tanh"), (False, "relu")])
def test_greedy_runs_a_vector_ppo_policy_in_numpy_as_torch_does(discrete, activation):
    """greedy()'s numpy path gives SB3's deterministic action (the Gaussian's mean, the categorical's argmax)
    to float32's rounding, for tanh and ReLU networks; the camera's policy goes through torch."""
    import numpy as np
    import torch
    from stable_baselines3 import PPO

    from racer_env.env.environment import RacerEnv
    from racer_env.training.evaluation import _mlp_actor, greedy

    metadata = {"action_space": [{"steering_angle": s, "speed": v} for s in (-30, 0, 30) for v in (1, 3)]} \
        if discrete else None
    env = RacerEnv(EnvConfig.make(track=TRACK, reward=lambda p: 1.0, model_metadata=metadata))
    kwargs = {"activation_fn": torch.nn.ReLU if activation == "relu" else torch.nn.Tanh, "net_arch": [32, 16]}
    model = PPO("MlpPolicy", env, policy_kwargs=kwargs, seed=0, device="cpu")
    act = greedy(model)
    assert _mlp_actor(model) is not None
    obs, _ = env.reset(seed=0)
    for _ in range(200):
        ours = act(obs)
        theirs = model.predict(obs, deterministic=True)[0] if discrete else \
            model.policy._predict(torch.as_tensor(obs)[None], deterministic=True)[0].detach().numpy()
        if discrete:
            assert int(ours) == int(theirs)
        else:
            np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)
        obs, _, terminated, truncated, _ = env.step(ours)
        if terminated or truncated:
            obs, _ = env.reset()
