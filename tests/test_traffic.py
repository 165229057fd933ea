"""Races with objects, driven through RacerEnv as a user drives them: bot cars' motion and lane changes, the
rear-end pause, the behind-the-bot rule, crashes and resets, the start beside an object, and every object
param (objects spec §3-§6)."""

import json
import math

import numpy as np
import pytest

from racer_env import RacerEnv
from racer_env.constants import DT_S, STEP_HZ
from racer_env.env.actions import ActionSpec
from racer_env.env.race import race_settings
from racer_env.env.traffic import Traffic
from racer_env.sim.drivers import Dodger, PurePursuit
from racer_env.sim.objects import inner_side
from racer_env.sim.track import Track


def drive(env, driver, steps=10_000, until=None):
    info = {}
    for _ in range(steps):
        _, _, te, tr, info = env.step(env.actions.to_action(*driver(env)))
        if te or tr or (until and until(info)):
            break
    return info


def centre(speed):
    pursuit = {}

    def controls(env):
        pp = pursuit.setdefault(id(env), PurePursuit(env.track, speed))
        return pp.controls(env.car)
    return controls


def test_a_time_trial_is_unchanged():
    env = RacerEnv(reward_function=lambda p: 1.0)
    obs, info = env.reset(seed=0)
    p = info["params"]
    assert obs.shape == (26,) and env.traffic.now == []
    assert (p["closest_objects"], p["objects_location"], p["objects_distance"], p["objects_heading"],
            p["objects_speed"], p["objects_left_of_center"], p["objects_distance_from_center"],
            p["object_in_camera"]) == ([0, 0], [], [], [], [], [], [], False)


def test_bot_cars_drive_their_lane_at_the_set_speed_and_are_seen_a_step_late():
    env = RacerEnv(race={"NUMBER_OF_BOT_CARS": 2, "BOT_CAR_SPEED": 0.6}, reward_function=lambda p: 1.0, mode="eval")
    _, info = env.reset(seed=0)
    start = [b.distance for b in env.traffic.now]
    seen, now = [], []
    for _ in range(16):
        _, _, _, _, info = env.step(env.actions.to_action(0.0, 0.5))
        seen.append(info["params"]["objects_distance"])
        now.append([o.distance for o in env.traffic.now])
    assert now[0] == pytest.approx(start, abs=1e-3)  # the first step: the bots still prepare
    # along the centre line at 0.6 m/s (the projection of a lane point moves unevenly in bends, as in the simulator)
    assert np.subtract(now[15], now[1]) == pytest.approx([14 * 0.6 * DT_S] * 2, abs=0.03)
    for k in range(1, 16):
        assert seen[k] == pytest.approx(now[k - 1], abs=1e-9)  # the params see the previous step's poses
    fixed = RacerEnv(race={"NUMBER_OF_BOT_CARS": 2, "BOT_CAR_SPEED": 0.6, "bot_lag": "none"},
                     reward_function=lambda p: 1.0, mode="eval")
    fixed.reset(seed=0)
    _, _, _, _, info = fixed.step(fixed.actions.to_action(0.0, 0.5))
    assert info["params"]["objects_distance"] == pytest.approx([o.distance for o in fixed.traffic.now])


def test_lane_changes_follow_the_timing_of_the_settings():
    """Objects spec §3.3: U(lower, upper) s in a lane, then LANE_CHANGE_DISTANCE / BOT_CAR_SPEED s changing."""
    track = Track.load("harbour_loop")
    race = race_settings({"NUMBER_OF_BOT_CARS": 1, "BOT_CAR_SPEED": 0.5, "IS_LANE_CHANGE": True,
                          "LOWER_LANE_CHANGE_TIME": 3.0, "UPPER_LANE_CHANGE_TIME": 3.0, "LANE_CHANGE_DISTANCE": 1.0})
    traffic = Traffic(track, race, "eval")
    traffic.reset(seed=0)
    offsets = []
    for _ in range(int(12 * STEP_HZ)):
        traffic.step()
        offsets.append(traffic.now[0].offset)
    t = np.arange(len(offsets)) * DT_S  # running time of each step's pose
    quarter = track.width / 4
    inner = np.array(offsets) > 0.8 * quarter
    outer = np.array(offsets) < -0.8 * quarter
    assert inner[t < 3.0].all()  # 3 s in the inner lane
    assert outer[(t > 5.0) & (t < 8.0)].all()  # a 2 s change (1 m at 0.5 m/s), then 3 s in the outer lane
    assert inner[(t > 10.0)].all()  # and back
    middle = np.abs(np.array(offsets)[(t > 3.9) & (t < 4.1)])
    assert (middle < 0.3 * quarter).all()  # half way across at the middle of the change


def park_bot_behind_the_car(env, gap_m):
    """Put bot car 0 ``gap_m`` behind the car's origin along the track, in the car's lane (centre line)."""
    arc = env.track.project(env.car.bx, env.car.by).arc
    bot = env.traffic.bots[0]
    bot.start, bot.lane = arc - gap_m - env.race.BOT_CAR_SPEED * env.traffic.run_time, 0
    # move the car onto the inner lane so that the bot and the car share it
    x, y, yaw = env.traffic.lane_pose(arc, 0)
    env.place_car(x, y, math.degrees(yaw), speed=0.5)


def test_a_bot_that_runs_into_the_car_from_behind_pauses_every_bot_and_is_no_crash():
    race = {"NUMBER_OF_BOT_CARS": 2, "BOT_CAR_SPEED": 1.5, "bot_lag": "none"}
    env = RacerEnv(race=race, reward_function=lambda p: 1.0, mode="eval")
    env.reset(seed=0, options={"start_progress": 30.0})  # not by the start line, where the comparison flips
    park_bot_behind_the_car(env, 0.5)
    statuses, crashed = [], []
    for _ in range(40):
        _, _, te, _, info = env.step(env.actions.to_action(0.0, 0.1))  # crawling: the bot catches up
        statuses.append(info["episode_status"])
        crashed.append(info["params"]["is_crashed"])
        if env.traffic.rear_ends:
            break
    assert env.traffic.rear_ends == 1 and not any(crashed) and "crashed" not in statuses
    frozen = [o.distance for o in env.traffic.now]
    for _ in range(int(1.5 * STEP_HZ)):
        env.step(env.actions.to_action(0.0, 4.0))
    assert [o.distance for o in env.traffic.now] == pytest.approx(frozen, abs=1e-9)  # 2 s pause in evaluation
    for _ in range(int(1.0 * STEP_HZ)):
        env.step(env.actions.to_action(0.0, 4.0))
    assert [o.distance for o in env.traffic.now] != pytest.approx(frozen, abs=1e-3)  # and on again
    train = RacerEnv(race=race, reward_function=lambda p: 1.0, mode="train")
    assert train.traffic.bot_pause_s == 0.0  # PENALTY_SECONDS is 0 in training unless the race sets it


def test_running_into_a_bot_from_behind_is_a_crash_that_ends_a_training_episode():
    env = RacerEnv(race={"NUMBER_OF_BOT_CARS": 1, "BOT_CAR_SPEED": 0.3}, reward_function=lambda p: 1.0)
    env.reset(seed=0)
    bot = env.traffic.now[0]
    seen = []

    def at_the_bot(env):
        return PurePursuit(env.track, 1.5, lateral_fraction=0.5 if env.track.is_ccw else -0.5).controls(env.car)

    env.reset(options={"start_progress": 100.0 * ((bot.distance - 2.0) % env.track.length) / env.track.length})
    info = drive(env, at_the_bot, 200)
    seen.append(info["params"]["is_crashed"])
    assert info["episode_status"] == "crashed" and info["params"]["is_crashed"] is True


def test_a_crash_into_a_box_in_evaluation_puts_the_car_behind_it_in_the_other_lane():
    env = RacerEnv(race={"OBJECT_POSITIONS": ["0.3,1"], "NUMBER_OF_RESETS": 3}, reward_function=lambda p: 1.0,
                   mode="eval")
    env.reset(seed=0)
    box = env.traffic.obstacles[0]
    info = drive(env, centre(1.0), 300, until=lambda i: i["episode_status"] == "crashed")
    assert info["episode_status"] == "crashed" and info["counts"]["crashed"] == 1
    origin = env.track.project(env.car.bx, env.car.by)
    assert origin.arc == pytest.approx(box.distance - 1.0, abs=0.05)  # RESET_BEHIND_DIST
    assert origin.distance == pytest.approx(env.track.width / 4, abs=0.03) and env.car.speed == 0.0
    pauses = 0
    while True:
        _, reward, _, _, info = env.step(env.actions.to_action(0.0, 1.0))
        if info["episode_status"] != "pause":
            break
        pauses += 1
        assert reward == 0.0
    assert pauses == round(5.0 * STEP_HZ)  # COLLISION_PENALTY, evaluation's default 5 s


def test_a_crash_into_a_bot_in_evaluation_freezes_the_car_where_it_is():
    env = RacerEnv(race={"NUMBER_OF_BOT_CARS": 1, "BOT_CAR_SPEED": 0.2, "NUMBER_OF_RESETS": 2},
                   reward_function=lambda p: 1.0, mode="eval")
    env.reset(seed=0)
    bot = env.traffic.now[0]
    lateral = 0.5 if env.track.is_ccw else -0.5
    info = drive(env, lambda e: PurePursuit(e.track, 1.0, lateral_fraction=lateral).controls(e.car), 400,
                 until=lambda i: i["episode_status"] == "crashed")
    assert info["episode_status"] == "crashed"
    where = (env.car.x, env.car.y)
    assert env.track.project(*where).arc == pytest.approx(bot.distance, abs=1.0)
    env.step(env.actions.to_action(0.0, 2.0))
    assert (env.car.x, env.car.y) == where  # frozen in place while the bot drives on


def test_a_training_start_beside_an_object_moves_to_the_other_lane_using_the_last_episodes_objects():
    race = {"OBJECT_POSITIONS": ["0.05,1"]}  # a box in the inner lane 5 % round: where episode 2 starts
    env = RacerEnv(race=race, reward_function=lambda p: 1.0, mode="train")
    env.reset(seed=0)  # episode 1 starts at 0 %
    env.reset()  # episode 2 starts at 5 %: the box (the same in every episode) is there
    origin = env.track.project(env.car.bx, env.car.by)
    assert origin.distance == pytest.approx(env.track.width / 4, abs=0.03)  # on a lane, not the centre line
    assert env.traffic.obstacles[0].offset > 0  # the box is in the inner lane; the car starts in the outer one
    assert not inner_side(env.track, env.car.bx, env.car.by, origin.seg)
    # with randomised obstacles, the check looks where they were in the previous episode (the simulator's bug)
    rnd = RacerEnv(race={"NUMBER_OF_OBSTACLES": 6, "RANDOMIZE_OBSTACLE_LOCATIONS": True},
                   reward_function=lambda p: 1.0)
    rnd.reset(seed=1)
    for _ in range(20):
        before = list(rnd.traffic.now)
        rnd.reset()
        arc = rnd.track.arc_of_percent(rnd.episode.start_progress)
        moved = rnd.track.project(rnd.car.bx, rnd.car.by).distance > 0.1
        old_near = any(abs(o.distance - arc) % rnd.track.length < 1.0 for o in before)
        assert moved == old_near


def test_object_params_follow_the_simulator():
    env = RacerEnv(race={"OBJECT_POSITIONS": ["0.2,1", "0.5,-1", "0.9,1"]}, reward_function=lambda p: 1.0,
                   mode="eval")
    _, info = env.reset(seed=0)
    p = info["params"]
    boxes = env.traffic.obstacles
    L = env.track.length
    assert p["objects_location"] == [[o.x, o.y] for o in boxes]
    assert p["objects_distance"] == pytest.approx([0.2 * L, 0.5 * L, 0.9 * L], abs=0.02)  # from waypoint 0
    assert p["objects_distance_from_center"] == pytest.approx([env.track.width / 4] * 3, abs=0.02)
    assert p["objects_left_of_center"] == [env.track.is_ccw, not env.track.is_ccw, env.track.is_ccw]
    assert p["objects_heading"] == [0.0, 0.0, 0.0] and p["objects_speed"] == [0.0, 0.0, 0.0]  # no bots
    assert p["closest_objects"] == [2, 0]  # before all of them: the previous one wraps round to the last
    info = drive(env, centre(1.0), 400, until=lambda i: i["params"]["projection_distance"] > 0.95 * L)
    assert info["params"]["closest_objects"] == [2, 0]  # after all of them: the next one wraps to the first


def test_with_bot_cars_every_object_reports_heading_in_radians_and_the_bot_speed():
    env = RacerEnv(race={"OBJECT_POSITIONS": ["0.5,1"], "NUMBER_OF_BOT_CARS": 1, "BOT_CAR_SPEED": 0.7},
                   reward_function=lambda p: 1.0, mode="eval")
    _, info = env.reset(seed=0)
    p = info["params"]
    box, bot = env.traffic.now
    assert p["objects_speed"] == [0.7, 0.7]  # boxes too, objects spec §6.6
    assert p["objects_heading"] == pytest.approx([math.atan2(math.sin(box.yaw), math.cos(box.yaw)),
                                                  math.atan2(math.sin(bot.yaw), math.cos(bot.yaw))])
    assert all(-math.pi <= h <= math.pi for h in p["objects_heading"])


def test_object_in_camera_tests_the_wrong_object_unless_fixed():
    """Objects spec §6.8: a bot 2 m straight ahead in view gives False (the simulator tests object next - 1)."""
    for rule, expected in (("simulator", False), ("intended", True)):
        env = RacerEnv(race={"NUMBER_OF_BOT_CARS": 1, "BOT_CAR_SPEED": 0.0, "object_in_camera": rule},
                       reward_function=lambda p: 1.0, mode="eval")
        env.reset(seed=0)
        bot = env.traffic.now[0]
        arc = (bot.distance - 2.0) % env.track.length
        x, y, yaw = env.traffic.lane_pose(arc, 0)
        _, info = env.reset(options={"pose": (x, y, math.degrees(yaw))})
        assert info["params"]["closest_objects"][1] == 0
        assert info["params"]["object_in_camera"] is expected


def test_the_observation_reports_the_objects_ahead():
    env = RacerEnv(race={"OBJECT_POSITIONS": ["0.1,1", "0.2,-1"]}, reward_function=lambda p: 1.0, mode="eval")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (36,) and env.observation_space.contains(obs)
    first, second = obs[26:31], obs[31:36]
    assert first[0] == 1.0 and second[0] == 1.0
    assert first[1] < second[1]  # the nearer one first
    side = 1.0 if env.track.is_ccw else -1.0
    assert np.sign(first[3]) == side and np.sign(second[3]) == -side  # inner lane, then outer


def test_lidar_sensors_add_their_observation_to_the_vector_and_to_the_camera():
    meta = {"action_space": {"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 0.5, "high": 4}},
            "action_space_type": "continuous",
            "sensor": ["FRONT_FACING_CAMERA", "SECTOR_LIDAR"], "training_algorithm": "clipped_ppo", "version": "5"}
    env = RacerEnv(race={"OBJECT_POSITIONS": ["0.1,1"]}, model_metadata=ActionSpec.from_dict(meta),
                   reward_function=lambda p: 1.0, mode="eval", observation="vector")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (36 + 8,) and env.observation_space.contains(obs)
    stereo = {**meta, "sensor": ["STEREO_CAMERAS", "LIDAR"]}
    vector = RacerEnv(model_metadata=ActionSpec.from_dict(stereo), reward_function=lambda p: 1.0, observation="vector")
    assert vector.reset(seed=0)[0].shape == (26 + 64,)
    camera = RacerEnv(model_metadata=ActionSpec.from_dict(stereo), reward_function=lambda p: 1.0)
    obs, _ = camera.reset(seed=0)
    assert obs["STEREO_CAMERAS"].shape == (120, 160, 2) and obs["LIDAR"].shape == (64,)


def test_a_dodging_driver_passes_bot_cars_and_boxes():
    for race in ({"OBJECT_POSITIONS": ["0.25,1", "0.55,-1", "0.8,1"]},
                 {"NUMBER_OF_BOT_CARS": 3, "BOT_CAR_SPEED": 0.5}):
        env = RacerEnv(race=race, reward_function=lambda p: 1.0, mode="eval")
        env.reset(seed=0)
        dodger = Dodger(env.track, 1.2)
        info = drive(env, lambda e: dodger.controls(e.car, e.traffic.now))
        assert info["episode_status"] == "lap_complete", race


COMMUNITY_STYLE = [
    # the shape of AWS's fourth documentation example, as most community functions copy it
    '''
import math
def reward_function(params):
    all_wheels_on_track = params['all_wheels_on_track']
    distance_from_center = params['distance_from_center']
    track_width = params['track_width']
    objects_location = params['objects_location']
    agent_x, agent_y = params['x'], params['y']
    _, next_object_index = params['closest_objects']
    objects_left_of_center = params['objects_left_of_center']
    is_left_of_center = params['is_left_of_center']
    reward = 1e-3
    if all_wheels_on_track and (0.5 * track_width - distance_from_center) >= 0.05:
        reward_lane = 1.0
    else:
        reward_lane = 1e-3
    reward_avoid = 1.0
    next_object_loc = objects_location[next_object_index]
    distance_closest_object = math.sqrt((agent_x - next_object_loc[0])**2 + (agent_y - next_object_loc[1])**2)
    is_same_lane = objects_left_of_center[next_object_index] == is_left_of_center
    if is_same_lane:
        if 0.5 <= distance_closest_object < 0.8:
            reward_avoid *= 0.5
        elif 0.3 <= distance_closest_object < 0.5:
            reward_avoid *= 0.2
        elif distance_closest_object < 0.3:
            reward_avoid = 1e-3
    reward += 1.0 * reward_lane + 4.0 * reward_avoid
    return reward
''',
    # overtaking by comparing speeds, the object behind, and the minimum over all objects
    '''
import math
def reward_function(params):
    prev_obj, next_obj = params['closest_objects']
    mine = params['speed']
    theirs = params['objects_speed'][next_obj]
    heading = math.degrees(params['objects_heading'][next_obj])
    behind = params['objects_location'][prev_obj]
    nearest = min(math.hypot(ox - params['x'], oy - params['y']) for ox, oy in params['objects_location'])
    reward = 1.0 + 0.1 * (mine > theirs) + 0.01 * abs(heading) / 180 + 0.01 * behind[0] * 0
    if params['is_crashed'] or params['object_in_camera'] and nearest < 0.2:
        reward = 1e-3
    return float(reward)
''',
]


@pytest.mark.parametrize("source", COMMUNITY_STYLE, ids=["aws-example-4", "overtaking"])
def test_community_style_functions_run_when_objects_are_present(source, tmp_path):
    f = tmp_path / "community.py"
    f.write_text(source)
    for race in ({"NUMBER_OF_OBSTACLES": 3, "RANDOMIZE_OBSTACLE_LOCATIONS": True},
                 {"NUMBER_OF_BOT_CARS": 3, "BOT_CAR_SPEED": 1.0, "IS_LANE_CHANGE": True}):
        env = RacerEnv(race=race, reward_function=str(f))
        env.reset(seed=0)
        for _ in range(3):
            env.reset()
            info = drive(env, centre(1.5), 400)
            assert info["episode_status"] in ("crashed", "lap_complete", "off_track", "time_up")


@pytest.mark.slow
def test_crashes_are_counted_in_the_metrics_the_log_and_the_results_table(tmp_path):
    from racer_env.env.simtrace import TraceWriter
    from racer_env.training.evaluation import evaluate, results_table

    race = {"OBJECT_POSITIONS": ["0.3,1", "0.7,-1"]}
    from racer_env.env.config import EnvConfig

    config = EnvConfig.make(track="harbour_loop", reward=lambda p: 1.0, race=race)
    pp = {}

    def policy(obs):  # straight down the centre line: into both boxes
        env = pp["env"]
        return env.actions.to_action(*PurePursuit(env.track, 1.0).controls(env.car))

    import racer_env.training.evaluation as evaluation

    made = evaluation.RacerEnv

    def capture(*args, **kw):
        pp["env"] = made(*args, **kw)
        return pp["env"]

    evaluation.RacerEnv = capture
    try:
        trace = TraceWriter(tmp_path / "sim", tmp_path / "log.txt", episodes_per_iteration=100)
        result = evaluate(policy, config, laps=1, max_resets=3, trace=trace)
        trace.close()
    finally:
        evaluation.RacerEnv = made
    lap = result.laps[0]  # back to the centre line after each reset: into the box again, until no reset is left
    assert lap.status == "crashed" and lap.crashed == 4 and lap.resets == 3
    assert result.metrics_json()["metrics"][0]["crash_count"] == 4
    log = (tmp_path / "log.txt").read_text()
    assert log.count(",crashed,") == 4 and ",pause," in log
    from rich.console import Console

    console = Console(record=True, width=200)
    console.print(results_table(result))
    assert "Crashes" in console.export_text()
    json.dumps(result.metrics_json())
