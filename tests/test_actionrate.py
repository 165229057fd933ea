"""The car's action rate: a policy asked every n ticks of the car's 60 Hz controller, each action held until the
next, while the simulator judges every 15 Hz step as ever (racer evaluate --action-hz)."""

import json
import math

import numpy as np
import pytest

from racer_env import RacerEnv
from racer_env.constants import CONTROL_HZ, KINEMATIC_WHEELBASE_M
from racer_env.env.actionrate import ActionRate, HeldPolicy
from racer_env.env.actions import ActionSpec
from racer_env.env.config import EnvConfig
from racer_env.env.simtrace import TraceWriter
from racer_env.errors import ActionRateError
from racer_env.sim.controller import TickControl
from racer_env.sim.drivers import pursuit_steering
from racer_env.sim.track import Track
from racer_env.sim.vehicle import EFFORT, KINEMATIC, Car
from racer_env.training.evaluation import evaluate, results_table

TRACK = Track.load("harbour_loop")
ACTIONS = ActionSpec.default()
DISCRETE = {"action_space": [{"steering_angle": s, "speed": v} for s in (-30, -10, 0, 10, 30) for v in (1.0, 3.0)],
            "action_space_type": "discrete"}
EFFORT_CAR = {"action_space": {"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 0.5, "high": 4}},
              "action_space_type": "continuous", "version": "4"}


def _pursuit(speed):
    """Pure pursuit on the vector observation alone: steer at the centre-line point about 0.8 m ahead."""
    def policy(obs):
        return ACTIONS.to_action(pursuit_steering(0.0, 0.0, 0.0, obs[6] * 3.0, obs[7] * 3.0), speed)

    return policy


def _stadium(path, straight=8.0, radius=2.0, width=1.0, spacing=0.1):
    """A counter-clockwise stadium whose first waypoint starts a straight of ``straight`` metres along +x."""
    pts = []
    for x in np.arange(0.0, straight, spacing):
        pts.append((x, -radius, 0.0))
    for a in np.arange(-math.pi / 2, math.pi / 2, spacing / radius):
        pts.append((straight + radius * math.cos(a), radius * math.sin(a), a + math.pi / 2))
    for x in np.arange(straight, 0.0, -spacing):
        pts.append((x, radius, math.pi))
    for a in np.arange(math.pi / 2, 3 * math.pi / 2, spacing / radius):
        pts.append((radius * math.cos(a), radius * math.sin(a), a + math.pi / 2))
    pts.append(pts[0])
    rows = [(x, y, x - width / 2 * math.sin(h), y + width / 2 * math.cos(h), x + width / 2 * math.sin(h),
             y - width / 2 * math.cos(h)) for x, y, h in pts]
    np.save(path, np.array(rows))
    return path


# ---------------------------------------------------------------------------------------------- the rates
@pytest.mark.parametrize("hz, ticks", [(60, 1), (30, 2), (20, 3), (15, 4), (12, 5), (10, 6), (8.57, 7), (7.5, 8),
                                       (5, 12), (1, 60)])
def test_a_rate_is_60_hz_over_a_whole_number_of_ticks(hz, ticks):
    rate = ActionRate.from_hz(hz)
    assert rate.ticks == ticks and rate.hz == pytest.approx(hz, abs=0.005)


@pytest.mark.parametrize("hz", [25, 14.9, 90, 0, -10, math.nan, math.inf])
def test_a_rate_the_controller_cannot_tick_is_refused_in_one_line(hz):
    with pytest.raises(ActionRateError) as err:
        ActionRate.from_hz(hz)
    assert str(err.value).startswith("expected") and "\n" not in str(err.value)


# ------------------------------------------------------------------------------------- the tick kernel
@pytest.mark.parametrize("model", [KINEMATIC, EFFORT], ids=lambda m: m.name)
def test_commands_held_for_whole_steps_move_the_car_as_a_step_does_bit_for_bit(model):
    rng = np.random.default_rng(3)
    stepped = Car.at(1.0, 2.0, 30.0, 0.0, model=model)
    ticked = Car.at(1.0, 2.0, 30.0, 0.0, model=model)
    control = TickControl(model, 1)
    control.load(0, ticked.state, ticked.steer_hist, ticked.speed_hist)
    for i in range(200):
        steering, speed = rng.uniform(-40, 40), rng.uniform(-0.5, 4.5)  # beyond the limits too: clipped
        clip = i > 0  # the prepare step's command goes unclipped
        stepped.step(steering, speed, clip=clip)
        control.advance(ticked.state, 0, 4, steering, speed, clip, (ticked.x, ticked.y))
        control.store(0, ticked.steer_hist, ticked.speed_hist)
        assert np.array_equal(stepped.state, ticked.state), i
        assert np.array_equal(stepped.steer_hist, ticked.steer_hist)
        assert np.array_equal(stepped.speed_hist, ticked.speed_hist)


# ------------------------------------------------------------------------------------------ 15 Hz is today's
def _trace(tmp_path, name):
    return TraceWriter(tmp_path / name / "sim-trace", tmp_path / name / "eval.log", episodes_per_iteration=10**9)


@pytest.mark.parametrize("case", ["pursuit", "resets", "effort car", "discrete"])
def test_at_15_hz_the_evaluation_is_todays_lap_for_lap_and_row_for_row(case, tmp_path):
    config = EnvConfig.make(track=TRACK, reward=lambda p: p["speed"],
                            model_metadata={"effort car": EFFORT_CAR, "discrete": DISCRETE}.get(case))
    if case == "resets":  # full lock: off the track again and again, put back after each, frozen for the penalty
        policy, kw = (lambda obs: [1.0, -0.5]), dict(laps=1, max_resets=3)
    elif case == "discrete":
        policy, kw = (lambda obs: 7 if obs[7] > 0.02 else (3 if obs[7] < -0.02 else 5)), dict(laps=2, continuous=True)
    else:
        policy, kw = _pursuit(2.0), dict(laps=2, continuous=True)
    results = {}
    for name, rate in (("today", None), ("15 Hz", ActionRate.from_hz(15))):
        trace = _trace(tmp_path, name)
        results[name] = evaluate(policy, config, trace=trace, action_rate=rate, **kw)
        trace.close()
    today, at15 = results["today"], results["15 Hz"]
    assert today.laps == at15.laps and today.trajectory == at15.trajectory
    files = sorted(p.relative_to(tmp_path / "today") for p in (tmp_path / "today").rglob("*") if p.is_file())
    assert files
    for f in files:  # every SIM_TRACE row the same but for its wall clock, the last field
        rows = [[line.rsplit(",", 1)[0] for line in (tmp_path / name / f).read_text().splitlines()]
                for name in ("today", "15 Hz")]
        assert rows[0] == rows[1] and len(rows[0]) > 10, f
    assert at15.action_hz == 15.0 and today.action_hz == 15.0
    if case == "resets":
        assert today.laps[0].resets == 3


def test_at_15_hz_a_racer_env_sees_what_it_saw_bit_for_bit_among_bot_cars():
    race = {"NUMBER_OF_BOT_CARS": 2, "BOT_CAR_SPEED": 1.0, "IS_LANE_CHANGE": True}
    rewards = [[], []]
    envs = [RacerEnv(EnvConfig.make(track=TRACK, race=race, reward=lambda p, k=k: rewards[k].append(dict(p)) or 1.0),
                     mode="train", max_resets=2) for k in range(2)]
    space = envs[0].action_space
    space.seed(1)
    actions = [space.sample() for _ in range(400)]
    feed = iter(actions)
    held = HeldPolicy(envs[1], lambda obs: next(feed), ActionRate.from_hz(15))
    obs = [env.reset(seed=4)[0] for env in envs]
    assert np.array_equal(obs[0], obs[1])
    for action in actions:
        out = [envs[0].step(action), envs[1].step(held(obs[1]))]
        obs = [o[0] for o in out]
        assert np.array_equal(obs[0], obs[1]) and out[0][1:4] == out[1][1:4]
        assert np.array_equal(envs[0].fleet.state, envs[1].fleet.state)
        if out[0][2] or out[0][3]:
            obs = [env.reset()[0] for env in envs]
    assert held.calls == len(actions) and rewards[0] == rewards[1]


# ----------------------------------------------------------------------------------- another rate drives
@pytest.mark.parametrize("hz", [60, 30, 20, 10, 7.5, 5])
def test_the_policy_is_asked_every_interval_from_the_observation_at_that_tick(hz):
    rate = ActionRate.from_hz(hz)
    seen = []

    def policy(obs):
        seen.append(obs.copy())
        return _pursuit(1.5)(obs)

    res = evaluate(policy, EnvConfig.make(track=TRACK, reward=lambda p: 1.0), laps=1, action_rate=rate)
    assert res.completed == 1 and res.action_hz == pytest.approx(hz) and res.action_ticks == rate.ticks
    steps = len(res.trajectory)  # env steps of 4 ticks, the asks at ticks 0, n, 2n, ...
    assert len(seen) == math.ceil(4 * steps / rate.ticks)
    if rate.ticks < 4:  # asked inside steps too: the car had moved on since the last ask
        assert all(not np.array_equal(a, b) for a, b in zip(seen[5:50], seen[6:51]))


def test_a_constant_action_drives_the_same_at_any_rate():
    config = EnvConfig.make(track=TRACK, reward=lambda p: 1.0)
    steady = lambda obs: ACTIONS.to_action(-4.0, 1.2)  # noqa: E731  a gentle circle
    today = evaluate(steady, config, laps=1)
    for hz in (60, 20, 10):
        res = evaluate(steady, config, laps=1, action_rate=ActionRate.from_hz(hz))
        assert [lap.status for lap in res.laps] == [lap.status for lap in today.laps]
        assert np.allclose(np.array(res.trajectory), np.array(today.trajectory), atol=1e-9)


@pytest.mark.parametrize("hz", [60, 30, 20, 15, 10, 5])
def test_a_held_steering_pulse_turns_the_car_for_exactly_its_hold(hz, tmp_path):
    """One action of 2 degrees left among straight ones, at 1 m/s: the car turns by v tan(2°) T / L, T the time
    the action is held (1/HZ s): the steering lag delays the turn but keeps its area. A 5 Hz car turns three times
    as far as a 15 Hz one for the same action."""
    track = Track.load(str(_stadium(tmp_path / "stadium.npy")))
    rate = ActionRate.from_hz(hz)
    calls = []

    def policy(obs):
        calls.append(1)
        return ACTIONS.to_action(2.0 if len(calls) == hz + 1 else 0.0, 1.0)  # the action asked at t = 1 s

    res = evaluate(policy, EnvConfig.make(track=track, reward=lambda p: 1.0), laps=1, action_rate=rate)
    xy = np.array(res.trajectory)[:, :2]
    before = xy[14] - xy[4]  # steps of 1/15 s: before the pulse, and (below) well after it
    after = xy[75] - xy[50]
    assert abs(math.atan2(before[1], before[0])) < 1e-12
    turned = math.atan2(after[1], after[0])
    hold = rate.ticks / CONTROL_HZ
    assert turned == pytest.approx(1.0 * math.tan(math.radians(2.0)) * hold / KINEMATIC_WHEELBASE_M, rel=0.005)


def test_a_car_that_reacts_less_often_laps_slower():
    config = EnvConfig.make(track=TRACK, reward=lambda p: 1.0)
    times = {hz: evaluate(_pursuit(2.0), config, laps=1, action_rate=ActionRate.from_hz(hz)).laps[0].lap_time
             for hz in (30, 15, 5)}
    assert times[30] <= times[15] < times[5]


def test_a_camera_car_is_asked_inside_a_step_with_the_frame_at_that_tick():
    meta = {"action_space": {"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 0.5, "high": 2}},
            "action_space_type": "continuous", "sensor": ["FRONT_FACING_CAMERA"], "version": "5"}
    frames = []

    def policy(obs):
        frames.append(obs["FRONT_FACING_CAMERA"].copy())
        return [0.0, 1.0]

    res = evaluate(policy, EnvConfig.make(track=TRACK, reward=lambda p: 1.0, model_metadata=meta), laps=1,
                   action_rate=ActionRate.from_hz(30))
    assert len(frames) == 2 * len(res.trajectory) and frames[0].shape == (120, 160, 1)
    assert not np.array_equal(frames[10], frames[11])  # half a step apart, the car moving
    with pytest.raises(ActionRateError, match="frame_stack 2"):
        evaluate(policy, EnvConfig.make(track=TRACK, model_metadata=meta, frame_stack=2), laps=1,
                 action_rate=ActionRate.from_hz(30))


# ------------------------------------------------------------------------------------------- the command
@pytest.fixture(scope="module")
def vector_run(tmp_path_factory):
    """A tiny vector run (a few seconds of training)."""
    from racer_env.cli import main

    run = tmp_path_factory.mktemp("hz") / "run"
    assert main(["train", "--timesteps", "2048", "--n-envs", "2", "--out", str(run), "--quiet", "--eval-laps", "0"]) == 0
    return run


def _metrics(run):
    return sorted((run / "metrics" / "evaluation").glob("evaluation-*.json"))


@pytest.mark.slow
def test_racer_evaluate_action_hz_states_the_rate_and_15_is_todays(vector_run, capsys):
    from racer_env.cli import main

    run = vector_run
    assert main(["evaluate", str(run), "--laps", "1"]) == 0
    today = json.loads(_metrics(run)[-1].read_text())
    assert main(["evaluate", str(run), "--laps", "1", "--action-hz", "15"]) == 0
    at15 = json.loads(_metrics(run)[-1].read_text())
    assert [(r["elapsed_time_in_milliseconds"], r["completion_percentage"]) for r in today["metrics"]] == \
        [(r["elapsed_time_in_milliseconds"], r["completion_percentage"]) for r in at15["metrics"]]
    assert today["action_hz"] == at15["action_hz"] == 15.0
    capsys.readouterr()
    assert main(["evaluate", str(run), "--laps", "1", "--action-hz", "10"]) == 0
    out = capsys.readouterr().out
    assert "actions at 10 Hz: each action held 6 ticks, 0.100 s" in " ".join(out.split())
    assert json.loads(_metrics(run)[-1].read_text())["action_hz"] == 10.0


@pytest.mark.parametrize("value, words", [("25", "divided by a whole number"), ("0", "> 0"), ("ten", "'ten'")])
def test_racer_evaluate_refuses_a_rate_in_one_line(value, words, capsys):
    from racer_env.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["evaluate", "runs/not-read", "--action-hz", value])
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2 and len(err.splitlines()) == 1
    assert "--action-hz" in err and words in err and "Traceback" not in err


def test_the_table_states_the_rate():
    res = evaluate(_pursuit(1.5), EnvConfig.make(track=TRACK, reward=lambda p: 1.0), laps=1,
                   action_rate=ActionRate.from_hz(20))
    from rich.console import Console

    console = Console(width=80, record=True)
    console.print(results_table(res))
    assert "actions at 20 Hz: each action held 3 ticks, 0.050 s)" in " ".join(console.export_text().split())
    assert res.metrics_json()["action_hz"] == 20.0
