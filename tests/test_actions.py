import json

import numpy as np
import pytest
from gymnasium import spaces

from conftest import SHARED, shared_files
from racer_env import ModelMetadataError, RacerEnv, load_model_metadata


def test_every_shared_model_metadata_loads():
    files = shared_files("model_metadata", "*model_metadata*.json")
    if not files:
        pytest.skip(f"{SHARED}/model_metadata is absent")
    for f in files:
        spec = load_model_metadata(f)
        env = RacerEnv(model_metadata=f, reward_function=lambda p: 1.0)
        env.reset()
        env.step(env.action_space.sample())
        assert isinstance(spec.space(), spaces.Discrete if spec.is_discrete else spaces.Box)


def test_discrete_space_uses_list_positions(tmp_path):
    f = tmp_path / "m.json"
    f.write_text(json.dumps({"action_space": [{"steering_angle": -30, "speed": 1.0, "index": 5},
                                              {"steering_angle": 15, "speed": 3.5}],
                             "action_space_type": "discrete"}))
    spec = load_model_metadata(f)
    assert spec.space() == spaces.Discrete(2)
    assert spec.to_controls(1) == (15.0, 3.5)


def test_continuous_space_rescales_minus1_1_to_low_high(tmp_path):
    f = tmp_path / "m.json"
    f.write_text(json.dumps({"action_space": {"steering_angle": {"low": -20, "high": 30},
                                              "speed": {"low": 1, "high": 3}},
                             "action_space_type": "continuous"}))
    spec = load_model_metadata(f)
    assert spec.space().shape == (2,)
    assert spec.to_controls(np.array([-1.0, -1.0])) == pytest.approx((-20.0, 1.0))
    assert spec.to_controls(np.array([1.0, 1.0])) == pytest.approx((30.0, 3.0))
    assert spec.to_controls(spec.to_action(10.0, 2.0)) == pytest.approx((10.0, 2.0))


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
