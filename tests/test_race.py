"""Race settings: the simulator's keys from a dict, a simulator YAML or a deepracer-for-cloud run.env."""

import pytest

from racer_env.env.race import TIME_TRIAL, RaceSettingsError, race_settings


def test_time_trial_is_the_default():
    assert race_settings(None) is TIME_TRIAL and not TIME_TRIAL.has_objects and TIME_TRIAL.kind == "time trial"


def test_a_dict_of_simulator_keys():
    race = race_settings({"NUMBER_OF_OBSTACLES": 3, "RANDOMIZE_OBSTACLE_LOCATIONS": True})
    assert race.obstacles == 3 and race.RANDOMIZE_OBSTACLE_LOCATIONS and race.kind == "object avoidance"
    fixed = race_settings({"OBJECT_POSITIONS": ["0.25,1", "0.5,-1"], "NUMBER_OF_OBSTACLES": 6})
    assert fixed.obstacles == 2  # fixed positions override the count
    bots = race_settings({"NUMBER_OF_BOT_CARS": 3, "BOT_CAR_SPEED": "1.0", "IS_LANE_CHANGE": "True"})
    assert bots.kind == "head-to-bot" and bots.BOT_CAR_SPEED == 1.0 and bots.IS_LANE_CHANGE is True


def test_values_convert_as_the_simulator_converts_them():
    race = race_settings({"NUMBER_OF_OBSTACLES": "4", "RANDOMIZE_OBSTACLE_LOCATIONS": "yes",
                          "IS_OBSTACLE_BOT_CAR": "false", "OBJECT_POSITIONS": "0.2,1;0.6,-1"})
    assert race.RANDOMIZE_OBSTACLE_LOCATIONS is True and race.IS_OBSTACLE_BOT_CAR is False
    assert race.OBJECT_POSITIONS == ("0.2,1", "0.6,-1")


def test_penalties_default_by_job_and_a_race_can_set_them():
    race = race_settings({"NUMBER_OF_BOT_CARS": 2})
    assert race.bot_penalty("train") == 0.0 and race.bot_penalty("eval") == 2.0  # objects spec §1.2
    assert race_settings({"NUMBER_OF_BOT_CARS": 2, "PENALTY_SECONDS": 5}).bot_penalty("train") == 5.0
    resets, penalties = race_settings({"COLLISION_PENALTY": 3, "NUMBER_OF_RESETS": 7}).resets(0, 2.0, 5.0)
    assert resets == 7 and penalties.crashed == 3.0 and penalties.off_track == 2.0


def test_a_simulator_yaml_file(tmp_path):
    f = tmp_path / "training_params.yaml"
    f.write_text('WORLD_NAME: "reInvent2019_track"\nNUMBER_OF_OBSTACLES: "6"\n'
                 'RANDOMIZE_OBSTACLE_LOCATIONS: "True"\nOBSTACLE_TYPE: "amazon_box_obstacle"\n')
    race = race_settings(f)  # other simulator keys (WORLD_NAME) are not race settings and are passed over
    assert race.obstacles == 6 and race.OBSTACLE_TYPE == "amazon_box_obstacle"


def test_a_deepracer_for_cloud_run_env(tmp_path):
    f = tmp_path / "run.env"
    f.write_text("DR_WORLD_NAME=reInvent2019_track\nDR_RACE_TYPE=HEAD_TO_BOT\n"
                 "DR_OA_NUMBER_OF_OBSTACLES=6\n"  # not the race type's: ignored, as DRfC does
                 "DR_H2B_NUMBER_OF_BOT_CARS=3\nDR_H2B_BOT_CAR_SPEED=0.8\nDR_H2B_IS_LANE_CHANGE=True\n"
                 "DR_H2B_BOT_CAR_PENALTY=5.0\n"
                 "DR_EVAL_COLLISION_PENALTY=9.0  # the template's name, which DRfC never reads\n"
                 "DR_EVAL_MAX_RESETS=100\n")
    race = race_settings(f)
    assert race.kind == "head-to-bot" and race.obstacles == 0 and race.bots == 3
    assert race.BOT_CAR_SPEED == 0.8 and race.IS_LANE_CHANGE and race.PENALTY_SECONDS == 5.0
    assert race.COLLISION_PENALTY is None and race.NUMBER_OF_RESETS == 100


def test_drfc_fallbacks_when_a_variable_is_missing(tmp_path):
    f = tmp_path / "run.env"
    f.write_text("export DR_RACE_TYPE=OBJECT_AVOIDANCE\n")
    race = race_settings(f)  # prepare-config.py's fallbacks: 6 obstacles, randomised
    assert race.obstacles == 6 and race.RANDOMIZE_OBSTACLE_LOCATIONS


@pytest.mark.parametrize("settings, named", [
    ({"NUMBER_OF_OBSTACLE": 3}, "NUMBER_OF_OBSTACLE: not a race setting; did you mean NUMBER_OF_OBSTACLES?"),
    ({"NUMBER_OF_OBSTACLES": "three"}, "NUMBER_OF_OBSTACLES: expected a whole number, got 'three'"),
    ({"NUMBER_OF_OBSTACLES": -1}, "NUMBER_OF_OBSTACLES: expected 0 to 20"),
    ({"OBSTACLE_TYPE": "cone"}, "OBSTACLE_TYPE: expected one of box_obstacle"),
    ({"OBJECT_POSITIONS": ["25,1"]}, "OBJECT_POSITIONS: expected fractions of a lap"),
    ({"OBJECT_POSITIONS": ["half,1"]}, "OBJECT_POSITIONS: expected '<fraction of a lap>,<lane 1 or -1>'"),
    ({"BOT_CAR_SPEED": 9}, "BOT_CAR_SPEED: expected a speed from 0 to 4 m/s"),
    ({"LOWER_LANE_CHANGE_TIME": 6, "UPPER_LANE_CHANGE_TIME": 5}, "LOWER_LANE_CHANGE_TIME: expected 0 to"),
    ({"obstacle_gap": "inches"}, "obstacle_gap: expected shrinking, percent or metres"),
])
def test_bad_settings_name_the_key(settings, named):
    with pytest.raises(RaceSettingsError, match="race: " + named.replace("?", r"\?").replace("(", r"\(")):
        race_settings(settings)


def test_a_bad_run_env_value_names_the_variable_and_the_file(tmp_path):
    f = tmp_path / "run.env"
    f.write_text("DR_RACE_TYPE=OBJECT_AVOIDANCE\nDR_OA_NUMBER_OF_OBSTACLES=lots\n")
    with pytest.raises(RaceSettingsError, match=f"{f}: DR_OA_NUMBER_OF_OBSTACLES: expected a whole number"):
        race_settings(f)
    f.write_text("DR_RACE_TYPE=DRAG_RACE\n")
    with pytest.raises(RaceSettingsError, match="DR_RACE_TYPE: expected one of TIME_TRIAL"):
        race_settings(f)


def test_unreadable_and_malformed_files(tmp_path):
    with pytest.raises(RaceSettingsError, match="cannot read"):
        race_settings(tmp_path / "missing.yaml")
    bad = tmp_path / "race.yaml"
    bad.write_text("NUMBER_OF_OBSTACLES: [3\n")
    with pytest.raises(RaceSettingsError, match="race.yaml: line .* not valid YAML"):
        race_settings(bad)
    bad.write_text("- 3\n")
    with pytest.raises(RaceSettingsError, match="expected a YAML mapping"):
        race_settings(bad)


def test_the_simulator_bugs_are_reproduced_unless_fixed():
    faithful = race_settings({"NUMBER_OF_OBSTACLES": 3})
    assert (faithful.obstacle_gap, faithful.object_in_camera, faithful.start_check, faithful.bot_lag) == \
        ("shrinking", "simulator", "stale", "one_step")
    fixed = race_settings({"NUMBER_OF_OBSTACLES": 3, "fix_simulator_bugs": True, "obstacle_gap": "metres"})
    assert (fixed.obstacle_gap, fixed.object_in_camera, fixed.start_check, fixed.bot_lag) == \
        ("metres", "intended", "current", "none")


def test_a_run_keeps_its_race_as_a_simulator_yaml(tmp_path):
    race = race_settings({"NUMBER_OF_BOT_CARS": 3, "BOT_CAR_SPEED": 1.0, "IS_LANE_CHANGE": True})
    f = tmp_path / "race.yaml"
    f.write_text(race.to_yaml())
    assert race_settings(f) == race
