import math

import gymnasium as gym
import pytest

import racer_env
from racer_env import RacerEnv, Track
from racer_env.sim.drivers import PurePursuit


def drive(env, driver, max_steps=5000):
    """Run one episode with a scripted driver; return the infos."""
    infos = []
    for _ in range(max_steps):
        steering, speed = driver.controls(env.car)
        _, _, terminated, truncated, info = env.step(env.actions.to_action(steering, speed))
        infos.append(info)
        if terminated or truncated:
            break
    return infos


def test_the_issue_example():
    env = racer_env.RacerEnv(track="harbour_loop", reward_function="reward_functions/follow_center.py")
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert env.observation_space.contains(obs)
    assert info["episode_status"] in ("in_progress", "off_track")
    assert set(info) >= {"episode_status", "progress", "lap_time", "params"}


def test_gymnasium_make():
    # (that importing and stepping loads neither torch nor pygame is tested in a fresh process:
    # test_architecture.py)
    env = gym.make("RacerEnv-v0", reward_function=lambda p: 1.0)
    obs, _ = env.reset(seed=1)
    obs2, _, _, _, info = env.step(env.action_space.sample())
    assert env.observation_space.contains(obs2) and info["steps"] == 2.0


def test_gymnasium_check_env():
    from gymnasium.utils.env_checker import check_env

    check_env(RacerEnv(reward_function=lambda p: 1.0), skip_render_check=True)
    check_env(RacerEnv(reward_function=lambda p: 1.0, mode="eval",
                       model_metadata=racer_env.ActionSpec(((0.0, 1.0), (30.0, 1.0)))), skip_render_check=True)


def test_sb3_check_env():
    from stable_baselines3.common.env_checker import check_env

    check_env(RacerEnv(reward_function=lambda p: 1.0), warn=True)


def test_same_seed_same_actions_same_trajectory():
    def rollout():
        env = RacerEnv(reward_function="reward_functions/follow_center.py")
        env.reset(seed=3)
        env.action_space.seed(3)
        out = []
        for _ in range(200):
            obs, r, te, tr, info = env.step(env.action_space.sample())
            out.append((obs.tobytes(), r, info["params"]["x"], info["params"]["y"]))
            if te or tr:
                env.reset()
        return out

    assert rollout() == rollout()


def test_prepare_step_and_step_offset():
    seen = []
    env = RacerEnv(reward_function=lambda p: seen.append(p) or 1.0, mode="eval")
    _, info = env.reset()
    assert info["episode_status"] == "prepare" and info["params"]["steps"] == 1.0 and seen == []
    env.step(env.actions.to_action(0.0, 2.0))
    env.step(env.actions.to_action(0.0, 2.0))
    # the function first sees steps 2.0, at the pose of the prepare step (the car has not moved yet)
    assert [p["steps"] for p in seen] == [2.0, 3.0]
    assert (seen[0]["x"], seen[0]["y"]) == (info["params"]["x"], info["params"]["y"])
    assert seen[1]["x"] > seen[0]["x"]
    assert seen[0]["speed"] == pytest.approx(2.0)


def test_lap_complete_with_a_scripted_driver():
    env = RacerEnv(reward_function=lambda p: 1.0, mode="eval")
    env.reset()
    infos = drive(env, PurePursuit(env.track, 1.5))
    last = infos[-1]
    assert last["episode_status"] == "lap_complete" and last["progress"] == 100.0
    progress = [i["progress"] for i in infos]
    assert all(b >= a - 1e-9 for a, b in zip(progress, progress[1:]))
    assert last["lap_time"] == pytest.approx(last["params"]["steps"] / 15)
    assert 10.0 < last["lap_time"] < 20.0  # 20.7 m at 1.5 m/s


def test_off_track_ends_the_episode_when_all_wheels_leave():
    env = RacerEnv(reward_function=lambda p: 1.0, mode="eval")
    env.reset()
    for _ in range(300):
        _, _, te, tr, info = env.step(env.actions.to_action(30.0, 2.0))
        if te:
            break
    assert info["episode_status"] == "off_track" and info["params"]["is_offtrack"]


def test_reversed_after_15_steps_of_falling_progress():
    env = RacerEnv(reward_function=lambda p: 1.0, mode="eval")
    x, y = env.track.point_at(5.0)[:2]
    ax, ay = env.track.point_at(4.0)[:2]
    env.reset(options={"pose": (x, y, math.degrees(math.atan2(ay - y, ax - x)))})
    statuses = []
    for _ in range(40):
        _, _, te, _, info = env.step(env.actions.to_action(0.0, 1.0))
        statuses.append(info["episode_status"])
        if te:
            break
    assert statuses[-1] == "reversed"
    assert 15 <= len(statuses) <= 20


def test_immobilized_when_the_car_does_not_move(monkeypatch):
    env = RacerEnv(reward_function=lambda p: 1.0, mode="eval")
    env.reset()
    from racer_env.env.fleet import Fleet

    advance = Fleet._advance

    def stuck(fleet, ks):  # the cars are held where they are: nothing moves them
        fleet.moving[ks] = 0
        fleet.state[ks, 7] = 0.0
        advance(fleet, ks)

    monkeypatch.setattr(Fleet, "_advance", stuck)
    for n in range(1, 30):
        _, _, te, _, info = env.step(env.action_space.sample())
        if te:
            break
    assert info["episode_status"] == "immobilized" and n == 15


def test_time_up_truncates():
    env = RacerEnv(reward_function=lambda p: 1.0, mode="eval", max_episode_steps=20)
    env.reset()
    for _ in range(30):
        _, _, te, tr, info = env.step(env.actions.to_action(0.0, 0.5))
        if te or tr:
            break
    assert tr and not te and info["episode_status"] == "time_up" and info["steps"] == 20


def test_round_robin_starts_in_training_and_start_line_in_eval():
    train = RacerEnv(reward_function=lambda p: 1.0, mode="train")
    starts = []
    for _ in range(4):
        train.reset()
        starts.append(train.episode.start_progress)
    assert starts == pytest.approx([0.0, 5.0, 10.0, 15.0])
    ev = RacerEnv(reward_function=lambda p: 1.0, mode="eval")
    for _ in range(3):
        _, info = ev.reset()
        assert info["params"]["closest_waypoints"] == [0, 1]
    # progress counts from the episode start, so it starts near 0 wherever the car starts
    train.reset()
    _, _, _, _, info = train.step(train.actions.to_action(0.0, 1.0))
    assert 0.0 < info["progress"] < 1.0


def test_reset_options_start_a_corner():
    env = RacerEnv(reward_function=lambda p: 1.0, mode="eval")
    _, info = env.reset(options={"start_progress": 50.0})
    assert info["params"]["projection_distance"] == pytest.approx(env.track.length / 2 + 0.14, abs=0.02)
    _, info = env.reset(options={"pose": (1.0, 0.6, 0.0)})
    assert (info["params"]["x"], info["params"]["y"], info["params"]["heading"]) == pytest.approx((1.0, 0.6, 0.0))
    with pytest.raises(ValueError, match="unknown"):
        env.reset(options={"start": 3})
    with pytest.raises(ValueError, match="pose"):
        env.reset(options={"pose": (1.0,)})


def test_reverse_option_drives_the_other_way():
    env = RacerEnv(reward_function=lambda p: 1.0, mode="eval", reverse=True)
    _, info = env.reset()
    assert info["params"]["is_reversed"] is True
    assert env.track.direction == "clockwise"
    infos = drive(env, PurePursuit(env.track, 1.5))
    assert infos[-1]["episode_status"] == "lap_complete"


def test_open_track_and_real_tracks_drive(reinvent):
    env = RacerEnv(track=reinvent, reward_function=lambda p: 1.0, mode="eval")
    env.reset()
    assert drive(env, PurePursuit(env.track, 2.0))[-1]["episode_status"] == "lap_complete"


def test_obstacles_crash():
    track = Track.load("harbour_loop")
    box = track.point_at(3.0)[:2]
    env = RacerEnv(track=track, reward_function=lambda p: 1.0, mode="eval", objects=[box])
    env.reset()
    infos = drive(env, PurePursuit(env.track, 1.0))
    assert infos[-1]["episode_status"] == "crashed" and infos[-1]["params"]["is_crashed"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        RacerEnv(mode="race")
    with pytest.raises(racer_env.TrackFileError):
        RacerEnv(track="no_such_track")
    with pytest.raises(racer_env.RewardFunctionError):
        RacerEnv(reward_function="no_such_file.py")


def test_resets_pause_the_car_for_the_penalty_then_go_on():
    calls = []
    env = RacerEnv(reward_function=lambda p: calls.append(p["steps"]) or 1.0, mode="eval", max_resets=1,
                   off_track_penalty=2.0)
    env.reset()
    statuses, rewards = [], []
    for _ in range(200):
        _, r, te, tr, info = env.step(env.actions.to_action(30.0, 2.0))
        statuses.append(info["episode_status"])
        rewards.append(r)
        if te or tr:
            break
    first = statuses.index("off_track")
    assert statuses[first + 1:first + 31] == ["pause"] * 30  # 2 s at 15 Hz
    assert all(r == 0.0 for r in rewards[first + 1:first + 31])
    assert len(calls) == len(statuses) - 30  # no reward call while paused
    assert info["counts"]["reset"] == 1 and info["counts"]["off_track"] == 2
    assert statuses[-1] == "off_track" and te  # the second event ends it: only one reset allowed
    # put back on a lane, at rest, not far from where it left
    assert statuses[first + 31] == "in_progress"


def test_continuous_laps_drive_on_over_the_line():
    env = RacerEnv(reward_function=lambda p: 1.0, mode="eval", laps=2)
    env.reset()
    infos = drive(env, PurePursuit(env.track, 2.0))
    statuses = [i["episode_status"] for i in infos]
    assert statuses.count("lap_complete") == 2 and statuses[-1] == "lap_complete"
    last = infos[-1]
    assert last["laps"] == 2 and len(last["lap_times"]) == 2
    assert last["lap_times"][1] < last["lap_times"][0]  # a flying start
    after_first = infos[statuses.index("lap_complete") + 1]
    assert after_first["progress"] < 5.0  # progress restarts at the line
