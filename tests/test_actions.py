"""Action spaces from model_metadata.json, as a car driven by them shows them."""

import json
import math

import numpy as np
import pytest

from conftest import SHARED, shared_files
from racer_env import ModelMetadataError, RacerEnv, load_model_metadata


def _drive(env, action, steps=1):
    info = {}
    for _ in range(steps):
        _, _, terminated, truncated, info = env.step(action)
        assert not (terminated or truncated), info["episode_status"]
    return info["params"]


def test_every_shared_model_metadata_commands_its_own_actions():
    files = shared_files("model_metadata", "*model_metadata*.json")
    if not files:
        pytest.skip(f"{SHARED}/model_metadata is absent")
    for f in files:
        spec = load_model_metadata(f)
        meta = json.loads(f.read_text())
        env = RacerEnv(model_metadata=f, reward_function=lambda p: 1.0, observation="vector", mode="eval")
        env.reset(seed=0)
        if spec.is_discrete:  # each position of the list commands that entry
            for i, entry in enumerate(meta["action_space"]):
                p = _drive(env, i)
                assert (p["steering_angle"], p["speed"]) == (entry["steering_angle"], entry["speed"]), f
                env.reset(seed=0)
        else:  # the corners of [-1, 1]^2 command the corners of the file's ranges
            space = meta["action_space"]
            p = _drive(env, np.array([1.0, -1.0], dtype=np.float32))
            assert p["steering_angle"] == pytest.approx(space["steering_angle"]["high"]), f
            assert p["speed"] == pytest.approx(space["speed"]["low"]), f


def test_a_discrete_action_is_the_list_position_not_an_index_field(tmp_path):
    f = tmp_path / "m.json"
    f.write_text(json.dumps({"action_space": [{"steering_angle": -30, "speed": 1.0, "index": 1},
                                              {"steering_angle": 15, "speed": 3.5, "index": 0}],
                             "action_space_type": "discrete"}))
    env = RacerEnv(model_metadata=f, reward_function=lambda p: 1.0, mode="eval")
    env.reset(seed=0)
    assert env.action_space.n == 2
    p = _drive(env, 0)
    assert (p["steering_angle"], p["speed"]) == (-30.0, 1.0)


def test_continuous_actions_rescale_linearly_and_a_sample_outside_the_box_is_clipped(tmp_path):
    f = tmp_path / "m.json"
    f.write_text(json.dumps({"action_space": {"steering_angle": {"low": -20, "high": 30},
                                              "speed": {"low": 1, "high": 3}},
                             "action_space_type": "continuous"}))
    env = RacerEnv(model_metadata=f, reward_function=lambda p: 1.0, mode="eval")
    for action, expected in (([-1, -1], (-20, 1)), ([1, 1], (30, 3)), ([0, 0], (5, 2)), ([0.5, -0.5], (17.5, 1.5)),
                             ([3.0, -7.0], (30, 1))):  # a Gaussian policy's sample can leave [-1, 1]
        env.reset(seed=0)
        p = _drive(env, np.array(action, dtype=np.float32))
        assert (p["steering_angle"], p["speed"]) == pytest.approx(expected), action


def test_positive_steering_turns_the_car_left_and_speed_follows_the_command():
    env = RacerEnv(reward_function=lambda p: 1.0, mode="eval", track="harbour_loop")
    for steering, turn in ((1.0, 1), (-1.0, -1)):
        env.reset(seed=0)
        before = env.car.heading
        p = _drive(env, np.array([0.3 * steering, -0.6], dtype=np.float32), steps=10)
        change = (env.car.heading - before + 180) % 360 - 180
        assert math.copysign(1, change) == turn and abs(change) > 5
        assert env.car.speed == pytest.approx(p["speed"], rel=0.02)  # the wheels are velocity servos (spec §3.6)


@pytest.mark.parametrize("meta, field", [
    ({}, "action_space"),
    ({"action_space": [], "action_space_type": "discrete"}, "action_space"),
    ({"action_space": [{"steering_angle": 0}]}, "action_space[0].speed"),
    ({"action_space": [{"steering_angle": "left", "speed": 1}]}, "action_space[0].steering_angle"),
    ({"action_space": {"speed": {"low": 1, "high": 2}}, "action_space_type": "continuous"},
     "action_space.steering_angle"),
    ({"action_space": {"speed": {"low": 3, "high": 2}, "steering_angle": {"low": -30, "high": 30}},
      "action_space_type": "continuous"}, "action_space.speed"),
    ({"action_space": [{"steering_angle": 0, "speed": 1}], "action_space_type": "hybrid"}, "action_space_type"),
    ({"action_space": [{"steering_angle": 0, "speed": 1}], "training_algorithm": "sac"}, "training_algorithm"),
    ({"action_space": [{"steering_angle": 45, "speed": 1}]}, "action_space[0].steering_angle"),
])
def test_malformed_metadata_names_the_field(tmp_path, meta, field):
    f = tmp_path / "model_metadata.json"
    f.write_text(json.dumps(meta))
    with pytest.raises(ModelMetadataError) as e:
        load_model_metadata(f)
    assert str(f) in str(e.value) and f"'{field}" in str(e.value)


def test_unreadable_metadata(tmp_path):
    f = tmp_path / "model_metadata.json"
    f.write_text("{not json")
    with pytest.raises(ModelMetadataError, match="line 1: not valid JSON"):
        load_model_metadata(f)
    with pytest.raises(ModelMetadataError, match="cannot read"):
        load_model_metadata(tmp_path / "missing.json")
