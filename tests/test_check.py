"""racer check, run as a user runs it."""

import math
import os
import subprocess
import sys

import pytest

from conftest import REPO, shared_path
from racer_env.env.rewards import REWARD_FUNCTIONS_DIR as REWARD_DIR
from racer_env.env.rewards import bundled_reward_functions
from racer_env.env.actions import ActionSpec
from racer_env.tools.check import run_check
from racer_env.tools.check.rescore import rescore_log
from racer_env.training.logs import open_log
from racer_env.sim.track import Track

BUNDLED = bundled_reward_functions()


def racer(*args, timeout=120):
    env = {**os.environ, "COLUMNS": "250"}  # rich wraps at 80 columns when not on a terminal
    return subprocess.run([sys.executable, "-m", "racer_env.cli", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=timeout, env=env)


@pytest.mark.slow
@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_bundled_reward_functions_pass_without_warnings(path, tmp_path):
    report = run_check(path, "harbour_loop", ActionSpec.default(), tmp_path)
    assert not report.failed and report.warnings == [], report.warnings
    assert report.findings == [], [f.text(path.name) for f in report.findings]  # no pitfall, in code or behaviour
    assert {p.name for p in report.pictures} == {"heatmap.png", "centre_line.png"}
    assert report.battery.calls > 10000
    doc = path.read_text().split('"""')[1]
    assert "Reads:" in doc and "Rewards:" in doc  # says what it rewards and which params it reads


def test_the_documentation_examples_pay_what_aws_documents():
    """Spec §8: the four AWS examples, written afresh, behave as documented; the default is progress_speed."""
    from racer_env import load_reward_function, params_at
    from racer_env.env.rewards import DEFAULT_REWARD

    assert DEFAULT_REWARD == "progress_speed" and (REWARD_DIR / "racing_line.py").exists()
    track = Track.load("harbour_loop")
    half = track.vertex_widths[10] / 2
    arc = float(track.arc_at_waypoint[10])

    def params(lateral=0.0, steering=0.0, objects=()):
        x, y, yaw = track.pose_at(arc, lateral)
        return params_at(track, x, y, math.degrees(yaw), steering_angle=steering, speed=1.0, objects=objects)

    follow = load_reward_function(REWARD_DIR / "follow_center.py")
    assert [follow(params(f * half)) for f in (0.0, 0.3, 0.7, 1.1)] == [1.0, 0.5, 0.1, 1e-3]
    inside = load_reward_function(REWARD_DIR / "stay_inside.py")
    assert inside(params(0.5 * half)) == 1.0 and inside(params(half - 0.02)) == 1e-3
    zigzag = load_reward_function(REWARD_DIR / "no_zigzag.py")
    assert zigzag(params(steering=20.0)) == pytest.approx(0.8 * zigzag(params(steering=10.0)))
    avoid = load_reward_function(REWARD_DIR / "object_avoidance.py")
    clear = avoid(params(-0.5 * half))
    ahead_same_lane = track.pose_at(arc + 0.14 + 0.4, -0.5 * half)[:2]
    assert avoid(params(-0.5 * half, objects=[ahead_same_lane])) < clear
    assert avoid(params(0.5 * half, objects=[ahead_same_lane])) == pytest.approx(clear)


@pytest.mark.parametrize("text, words", [
    ("def reward_function(params)\n    return 1.0\n", ":1: syntax error"),
    ("def reward(params):\n    return 1.0\n", "defines no function reward_function"),
    ("import not_installed_module\n\ndef reward_function(params):\n    return 1.0\n",
     ":1: failed while loading: ModuleNotFoundError"),
])
def test_load_errors_exit_non_zero_with_file_and_line(tmp_path, text, words):
    f = tmp_path / "r.py"
    f.write_text(text)
    proc = racer("check", str(f), "--out", str(tmp_path / "out"))
    assert proc.returncode != 0 and str(f) in proc.stderr and words in proc.stderr
    assert "Traceback" not in proc.stderr


def test_failures_are_reported_with_a_snippet_that_reproduces_them(tmp_path):
    f = tmp_path / "objects.py"
    f.write_text("def reward_function(params):\n"
                 "    ox, oy = params['objects_location'][params['closest_objects'][1]]\n"
                 "    return 1.0\n")
    proc = racer("check", str(f), "--out", str(tmp_path / "out"))
    assert proc.returncode == 1
    assert f"{f}:2: raised IndexError" in proc.stdout and "FAILED" in proc.stdout
    snippet = tmp_path / "out" / "test_failure_1.py"
    assert "params = {" in snippet.read_text()
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", str(snippet)], capture_output=True, text=True,
                         cwd=tmp_path, timeout=60)
    assert run.returncode == 1 and "IndexError" in run.stdout


@pytest.mark.parametrize("body, words", [
    ("return float('nan')", "NaN"),
    ("return None", "float() cannot convert"),
    ("return 1e6", "outside [-1e5, 1e5]"),
    ("return 1.0 / (params['progress'] - params['progress'])", "ZeroDivisionError"),
])
def test_what_deepracer_rejects_is_a_failure(tmp_path, body, words):
    f = tmp_path / "r.py"
    f.write_text(f"def reward_function(params):\n    {body}\n")
    report = run_check(f, "harbour_loop", ActionSpec.default(), tmp_path / "out")
    assert report.failed and words in report.battery.failures[0].what


def test_unknown_keys_get_did_you_mean(tmp_path):
    f = tmp_path / "r.py"
    f.write_text("def reward_function(params):\n    return 1.0 + params.get('distance_from_centre', 0.0)\n")
    report = run_check(f, "harbour_loop", ActionSpec.default(), tmp_path / "out")
    assert any("'distance_from_centre'" in w and "did you mean 'distance_from_center'" in w
               for w in report.warnings)


def test_keys_read_and_statistics_by_situation(tmp_path):
    report = run_check(REWARD_DIR / "stay_inside.py", "harbour_loop", ActionSpec.default(),
                       tmp_path)
    b = report.battery
    assert b.keys_read == {"all_wheels_on_track", "distance_from_center", "track_width"}
    stats = {s.situation: s for s in b.stats}
    assert stats["centre line"].minimum == 1.0 and stats["all wheels off"].maximum == pytest.approx(1e-3)
    assert {"near a border", "some wheels off", "heading against the track", "early steps", "late steps",
            "progress near 0", "progress near 100", "reversed direction", "an object ahead", "an object beside",
            "an object behind", "objects across the finish line", "bot cars around"} <= set(stats)
    assert 0 < b.seconds_per_call < 1e-3


def test_reward_hacking_is_caught(tmp_path):
    f = tmp_path / "steer.py"
    f.write_text("def reward_function(params):\n    return abs(params['steering_angle']) / 30.0\n")
    report = run_check(f, "harbour_loop", ActionSpec.default(), tmp_path / "out")
    assert any(w.startswith("circling in place") for w in report.warnings), report.warnings


def test_ramming_the_objects_is_caught_when_it_pays(tmp_path):
    """A function that pays for closeness to the next object: the ramming probe earns more than dodging."""
    f = tmp_path / "close.py"
    f.write_text("import math\n\ndef reward_function(params):\n    if not params['objects_location']:\n"
                 "        return 1.0\n    ox, oy = params['objects_location'][params['closest_objects'][1]]\n"
                 "    return 10.0 / (0.1 + math.hypot(ox - params['x'], oy - params['y']))\n")
    race = tmp_path / "race.yaml"
    race.write_text("OBJECT_POSITIONS: ['0.2,1', '0.5,-1', '0.8,1']\n")
    report = run_check(f, "harbour_loop", ActionSpec.default(), tmp_path / "out", race=race)
    assert any(r.name.startswith("dodging") and r.status == "lap_complete" for r in report.probes)
    assert any(w.startswith("ramming the next object") for w in report.warnings), report.warnings


@pytest.mark.slow
@pytest.mark.parametrize("reward, race", [("avoid_obstacles", "NUMBER_OF_OBSTACLES: 3\nRANDOMIZE_OBSTACLE_LOCATIONS: true\n"),
                                          ("head_to_bot", "NUMBER_OF_BOT_CARS: 3\nBOT_CAR_SPEED: 1.0\nIS_LANE_CHANGE: true\n")])
def test_the_race_reward_functions_pass_in_their_race(reward, race, tmp_path):
    f = tmp_path / "race.yaml"
    f.write_text(race)
    report = run_check(REWARD_DIR / f"{reward}.py", "harbour_loop", ActionSpec.default(), tmp_path / "out", race=f)
    assert not report.failed and report.warnings == [] and report.findings == [], report.warnings
    assert any(r.name.startswith("ramming") for r in report.probes)


def test_discrete_action_space_is_tried(tmp_path):
    meta = shared_path("model_metadata", "sample-discrete-model_metadata.json")
    proc = racer("check", "reward_functions/no_zigzag.py", "--model-metadata", str(meta), "--out",
                 str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "centre line at 1 m/s" in proc.stdout and "centre line at 2 m/s" in proc.stdout


def test_rescoring_the_aws_log_reproduces_its_rewards(tmp_path):
    """The 2022 AWS log was driven with the centre-line example: our params re-create its rewards exactly."""
    log = shared_path("logs", "console-eval-reinvent_base-2022-robomaker.log")
    r = rescore_log(REWARD_DIR / "follow_center.py", open_log(log, shared_path("tracks", "reinvent_base.npy")))
    assert len(r.rows) == 737 and r.problems == [] and r.failures == []
    assert "car: effort (simapp_version 4 in the log)" in r.about[1]
    assert all(abs(logged - new) < 1e-3 for *_, logged, new in r.rows)
    assert [round(e[3], 1) for e in r.episodes] == [200.5, 209.8, 204.5]
    assert r.waypoints[0][0] == 0 and len(r.waypoints) > 100


def test_rescoring_the_2026_log_with_19_fields(tmp_path):
    log = shared_path("logs", "droa-eval-Spain_track-2026-simulation.log")
    proc = racer("check", "reward_functions/racing_line.py", "--log", str(log), "--track",
                 str(shared_path("tracks", "Spain_track.npy")), "--out", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "what-if on the log" in proc.stdout
    assert "car: kinematic (simapp_version 6 in the log)" in proc.stdout
    assert "duplicate rows kept as waypoints" in proc.stdout  # the numbering this March-2026 log uses
    rows = (tmp_path / "o" / "rescore_steps.csv").read_text().splitlines()
    assert len(rows) == 1303


def test_compare_draws_both(tmp_path):
    proc = racer("check", "reward_functions/follow_center.py", "--compare", "reward_functions/progress_speed.py",
                 "--out", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stderr
    import imageio.v2 as imageio

    single = run_check(REWARD_DIR / "follow_center.py", "harbour_loop", ActionSpec.default(),
                       tmp_path / "single")
    both = imageio.imread(tmp_path / "o" / "heatmap.png")
    one = imageio.imread(single.pictures[0])
    assert both.shape[1] > 1.8 * one.shape[1]
