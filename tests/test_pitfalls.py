"""racer check's pitfall catalogue: each pitfall found, with its name and line, in a small function that has
it, and not found in the same function fixed; no false alarms on correct code that looks close."""

import json
import textwrap

import pytest

from racer_env.env.actions import ActionSpec
from racer_env.env.rewards import bundled_reward_functions
from racer_env.errors import RacerEnvError
from racer_env.sim.track import Track
from racer_env.tools.check import run_check
from racer_env.tools.check.pitfalls import CATALOGUE, explain, read_code
from test_check import racer

CONTINUOUS = ActionSpec.default()
DISCRETE = ActionSpec(((-30.0, 1.0), (0.0, 2.0), (30.0, 1.0), (0.0, 3.0)))


@pytest.fixture(scope="module")
def harbour():
    return Track.load("harbour_loop")


def code(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def names_and_lines(source: str, track: Track, actions: ActionSpec = CONTINUOUS) -> set[tuple[str, int]]:
    return {(f.name, f.line) for f in read_code(code(source), track, actions)}


# Each case: the pitfall, the function with it, the line it is on, and the function fixed.
CODE_CASES = {
    "first-call-steps": (code('''
        STATE = {}
        def reward_function(params):
            if params['steps'] == 1:
                STATE['start'] = params['closest_waypoints'][1]
            return 1.0
        '''), 3, code('''
        STATE = {}
        def reward_function(params):
            if params['steps'] <= 2:
                STATE['start'] = params['closest_waypoints'][1]
            return 1.0
        ''')),
    "heading-degrees": (code('''
        import math
        def reward_function(params):
            heading = params['heading']
            along = math.cos(heading)
            return max(along, 1e-3)
        '''), 4, code('''
        import math
        def reward_function(params):
            heading = params['heading']
            along = math.cos(math.radians(heading))
            return max(along, 1e-3)
        ''')),
    "objects-heading-units": (code('''
        def reward_function(params):
            if not params['objects_heading']:
                return 1.0
            turn = abs(params['objects_heading'][0] - params['heading'])
            return 1.0 if turn < 30 else 0.5
        '''), 4, code('''
        import math
        def reward_function(params):
            if not params['objects_heading']:
                return 1.0
            turn = abs(math.degrees(params['objects_heading'][0]) - params['heading'])
            return 1.0 if turn < 30 else 0.5
        ''')),
    "objects-distance-meaning": (code('''
        def reward_function(params):
            reward = 1.0
            if params['objects_distance']:
                nxt = params['closest_objects'][1]
                if params['objects_distance'][nxt] < 0.8:
                    reward *= 0.5
            return reward
        '''), 5, code('''
        def reward_function(params):
            reward = 1.0
            if params['objects_distance']:
                nxt = params['closest_objects'][1]
                gap = (params['objects_distance'][nxt] - params['projection_distance']) % params['track_length']
                if gap < 0.8:
                    reward *= 0.5
            return reward
        ''')),
    "tuple-in-range": (code('''
        def reward_function(params):
            prev_point = params['waypoints'][params['closest_waypoints'][0]]
            if prev_point in range(1, 6):
                return 2.0
            return 1.0
        '''), 3, code('''
        def reward_function(params):
            prev_index = params['closest_waypoints'][0]
            if prev_index in range(1, 6):
                return 2.0
            return 1.0
        ''')),
    "float-equality": (code('''
        def reward_function(params):
            speed = params['speed']
            if speed == 2.5:
                return 2.0
            return 1.0
        '''), 3, code('''
        def reward_function(params):
            speed = params['speed']
            if abs(speed - 2.5) < 0.1:
                return 2.0
            return 1.0
        ''')),
    "units-progress": (code('''
        def reward_function(params):
            if params['progress'] > params['track_length'] / 2:
                return 2.0
            return 1.0
        '''), 2, code('''
        def reward_function(params):
            if params['progress'] > 50:
                return 2.0
            return 1.0
        ''')),
    "radians-heading-mix": (code('''
        import math
        def reward_function(params):
            wp = params['waypoints']
            a, b = params['closest_waypoints']
            direction = math.atan2(wp[b][1] - wp[a][1], wp[b][0] - wp[a][0])
            diff = abs(direction - params['heading'])
            return 1.0 if diff < 10 else 0.5
        '''), 6, code('''
        import math
        def reward_function(params):
            wp = params['waypoints']
            a, b = params['closest_waypoints']
            direction = math.degrees(math.atan2(wp[b][1] - wp[a][1], wp[b][0] - wp[a][0]))
            diff = abs(direction - params['heading'])
            return 1.0 if diff < 10 else 0.5
        ''')),
}


@pytest.mark.parametrize("name", sorted(CODE_CASES))
def test_each_pitfall_in_the_code_is_named_at_its_line_and_gone_when_fixed(name, harbour):
    bad, line, fixed = CODE_CASES[name]
    found = read_code(bad, harbour, CONTINUOUS)
    assert (name, line) in {(f.name, f.line) for f in found}, [f.text("r.py") for f in found]
    finding = next(f for f in found if f.name == name)
    assert "; fix: " in finding.message and finding.text("r.py").startswith(f"r.py:{line}: [{name}] ")
    assert read_code(fixed, harbour, CONTINUOUS) == []


def test_steps_comparisons_that_catch_the_first_call_are_not_flagged(harbour):
    for test in ("steps <= 2", "steps < 3", "steps == 2", "2 >= steps", "steps > 1", "steps % 10 == 0"):
        assert names_and_lines(f'''
            def reward_function(params):
                steps = params['steps']
                return 2.0 if {test} else 1.0
            ''', harbour) == set(), test
    for test in ("steps == 1", "steps < 2", "steps <= 1", "steps == 0", "1 == steps", "steps in (0, 1)", "2 > steps"):
        assert names_and_lines(f'''
            def reward_function(params):
                steps = params['steps']
                return 2.0 if {test} else 1.0
            ''', harbour) == {("first-call-steps", 3)}, test


def test_first_call_steps_is_followed_through_a_class_as_the_k1999_reward_is_written(harbour):
    found = names_and_lines('''
        class Reward:
            def __init__(self):
                self.first_racingpoint_index = None

            def reward_function(self, params):
                steps = params['steps']
                if steps == 1 and self.first_racingpoint_index is None:
                    self.first_racingpoint_index = params['closest_waypoints'][1]
                return 1.0

        reward_object = Reward()

        def reward_function(params):
            return reward_object.reward_function(params)
        ''', harbour)
    assert found == {("first-call-steps", 7)}


WAYPOINT_MEMBERSHIP = {  # the right side of `point in ...`, each a collection of whole numbers
    "list(range)": ("", "list(range(10, 20))"),
    "set(range)": ("", "set(range(10, 20))"),
    "tuple(range), variable bounds": ("", "tuple(range(first, first + 5))"),
    "range, variable bounds": ("", "range(first, first + 5)"),
    "a list literal of ints": ("", "[3, 4, 5, 6]"),
    "a module-level list of indices": ("STRAIGHT = [0, 1, 2, 3, 40, 41]\n", "STRAIGHT"),
    "a module-level list built from ranges": ("FAST = list(range(0, 10)) + list(range(40, 50))\n", "FAST"),
    "a comprehension over a range": ("CURVE = [i for i in range(20, 30)]\n", "CURVE"),
    "a set of a module-level range": ("TURN = set(range(60, 70))\n", "TURN"),
}


@pytest.mark.parametrize("form", WAYPOINT_MEMBERSHIP)
def test_a_waypoint_tested_for_membership_in_whole_numbers_is_named_in_every_form(form, harbour):
    module, container = WAYPOINT_MEMBERSHIP[form]
    wrong = module + code(f'''
        def reward_function(params):
            first = 10
            point = params['waypoints'][params['closest_waypoints'][1]]
            if point in {container}:
                return 2.0
            return 1.0
        ''')
    line = module.count("\n") + 4
    assert ("tuple-in-range", line) in names_and_lines(wrong, harbour), form
    right = wrong.replace("point = params['waypoints'][params['closest_waypoints'][1]]",
                          "point = params['closest_waypoints'][1]")
    assert not {n for n, _ in names_and_lines(right, harbour)} & {"tuple-in-range"}, form


def test_index_membership_is_not_taken_for_a_waypoint(harbour):
    for source in ("""
        def reward_function(params):
            if params['closest_waypoints'][1] in [3, 4, 5]:
                return 2.0
            return 1.0
        """, """
        STRAIGHT = list(range(0, 10))
        def reward_function(params):
            prev, nxt = params['closest_waypoints']
            return 2.0 if nxt in STRAIGHT or prev in set(range(40, 50)) else 1.0
        """, """
        def reward_function(params):
            point = params['waypoints'][params['closest_waypoints'][1]]
            return 2.0 if point in params['waypoints'][:10] else 1.0
        """):
        assert not {n for n, _ in names_and_lines(source, harbour)} & {"tuple-in-range"}


def test_float_equality_with_a_discrete_space_names_the_matching_actions(harbour):
    source = '''
        def reward_function(params):
            if params['speed'] == 2.0:
                return 2.0
            return 1.0
        '''
    assert names_and_lines(source, harbour, DISCRETE) == set()  # action 1 has exactly 2.0
    assert names_and_lines(source, harbour, CONTINUOUS) == {("float-equality", 2)}
    (finding,) = read_code(code(source.replace("2.0:", "2.5:")), harbour, DISCRETE)
    assert "no action of your discrete space has speed 2.5" in finding.message and "1, 2, 3" in finding.message


def test_close_looking_correct_code_gives_no_finding(harbour):
    """Conversions done right, equality that can hold, progress compared with percentages, indices in range."""
    assert names_and_lines('''
        import math
        import numpy as np

        def reward_function(params):
            heading = params['heading']
            steering = abs(params['steering_angle'])
            wps = params['waypoints']
            prev_wp, next_wp = params['closest_waypoints']
            track_direction = math.atan2(wps[next_wp][1] - wps[prev_wp][1], wps[next_wp][0] - wps[prev_wp][0])
            track_direction = math.degrees(track_direction)
            diff = abs(track_direction - heading)
            if diff > 180:
                diff = 360 - diff
            along = math.cos(math.radians(heading)) + np.sin(np.deg2rad(params['steering_angle']))
            along += math.cos(heading * math.pi / 180) + math.sin(heading * 0.0174533)
            along += abs(math.atan2(1.0, 2.0) * 57.2958 - heading) / 180
            rad_dir = math.atan2(1.0, 2.0)
            along += math.cos(rad_dir - math.radians(heading))
            reward = 1.0
            if params['progress'] == 100:
                reward += 100.0
            if params['is_offtrack'] == True or params['steps'] == 2:
                reward = 1e-3
            if prev_wp in range(10, 20) and params['closest_waypoints'][1] not in [30, 31]:
                reward *= 1.2
            if params['progress'] / params['steps'] * 100 > 0.5:
                reward *= 1.1
            if params['distance_from_center'] <= 0.5 * params['track_width']:
                reward *= 1.0
            if steering > 15 or diff > 10:
                reward *= 0.8
            return float(reward + along)
        ''', harbour) == set()


def test_objects_code_in_the_style_of_aws_examples_gives_no_finding(harbour):
    """The AWS object-avoidance example, written against the positions, with guards."""
    assert names_and_lines('''
        import math

        def reward_function(params):
            reward = 1e-3
            if params['all_wheels_on_track'] and 0.5 * params['track_width'] - params['distance_from_center'] >= 0.05:
                reward = 1.0
            objects_location = params['objects_location']
            if not objects_location:
                return float(reward)
            _, next_object_index = params['closest_objects']
            ox, oy = objects_location[next_object_index]
            distance = math.hypot(params['x'] - ox, params['y'] - oy)
            same_lane = params['objects_left_of_center'][next_object_index] == params['is_left_of_center']
            reward_avoid = 1.0
            if same_lane and 0.5 <= distance < 0.8:
                reward_avoid *= 0.5
            elif same_lane and distance < 0.5:
                reward_avoid = 1e-3
            heading = math.degrees(params['objects_heading'][next_object_index])
            if abs(heading - params['heading']) > 90:
                reward_avoid *= 0.9
            return float(1.0 * reward + 4.0 * reward_avoid)
        ''', harbour) == set()


def test_track_tables_that_do_not_fit_the_track_are_named_with_the_track_they_fit(harbour):
    line = Track.load("kidney_speedway").waypoints[::3]
    rows = ",\n".join(f"    [{x:.4f}, {y:.4f}]" for x, y in line)
    bad = f"RACING_LINE = [\n{rows}\n]\n\ndef reward_function(params):\n    return 1.0\n"
    (finding,) = read_code(bad, harbour, CONTINUOUS)
    assert (finding.name, finding.line) == ("track-mismatch", 1)
    assert "kidney_speedway" in finding.message and "harbour_loop" in finding.message
    here = ",\n".join(f"    [{x:.4f}, {y:.4f}]" for x, y in harbour.waypoints[::3])
    assert read_code(bad.replace(rows, here), harbour, CONTINUOUS) == []

    n = len(harbour.waypoints)
    switch = code(f'''
        def reward_function(params):
            if len(params['waypoints']) == 118:
                fast = [10, 11, 12]
            elif len(params['waypoints']) == 154:
                fast = [20, 21]
            else:
                fast = []
            if params['closest_waypoints'][1] in [{n + 5}, {n + 6}]:
                return 2.0
            return 1.0 + (params['closest_waypoints'][1] in fast)
        ''')
    found = {(f.name, f.line) for f in read_code(switch, harbour, CONTINUOUS)}
    assert found == {("track-mismatch", 2), ("track-mismatch", 8)}
    fixed = switch.replace("== 154", f"== {n}").replace(f"[{n + 5}, {n + 6}]", "[5, 6]")
    assert read_code(fixed, harbour, CONTINUOUS) == []


def test_bundled_reward_functions_have_no_finding_in_their_code(harbour):
    for path in bundled_reward_functions():
        for actions in (CONTINUOUS, DISCRETE):
            assert read_code(path.read_text(), harbour, actions) == [], path.name


def test_a_file_that_does_not_parse_gives_no_finding_and_no_error(harbour):
    assert read_code("def reward_function(params):\n    return (", harbour, CONTINUOUS) == []


# ------------------------------------------------------------------ behaviour: by driving the function
BEHAVIOUR_CASES = {
    "state-leak": (code('''
        BEST = {'progress': 0.0}
        def reward_function(params):
            gain = params['progress'] - BEST['progress']
            BEST['progress'] = max(BEST['progress'], params['progress'])
            return max(gain, 0.0) + 0.01
        '''), 4, code('''
        BEST = {'progress': 0.0}
        def reward_function(params):
            if params['steps'] <= 2:
                BEST['progress'] = 0.0
            gain = params['progress'] - BEST['progress']
            BEST['progress'] = max(BEST['progress'], params['progress'])
            return max(gain, 0.0) + 0.01
        ''')),
    "print-every-step": (code('''
        def reward_function(params):
            print(params['x'], params['y'], params['speed'], params['progress'])
            return 1.0
        '''), 2, code('''
        def reward_function(params):
            if params['is_offtrack']:
                print('off track at', params['closest_waypoints'])
            return 1.0
        ''')),
    "reward-range": (code('''
        def reward_function(params):
            if params['progress'] == 100:
                return 10000.0
            return 1.0
        '''), 3, code('''
        def reward_function(params):
            if params['progress'] == 100:
                return 100.0
            return 1.0
        ''')),
    "empty-objects": (code('''
        import math
        def reward_function(params):
            ox, oy = params['objects_location'][params['closest_objects'][1]]
            return 1.0 / (1.0 + math.hypot(params['x'] - ox, params['y'] - oy))
        '''), 3, code('''
        import math
        def reward_function(params):
            if not params['objects_location']:
                return 1.0
            ox, oy = params['objects_location'][params['closest_objects'][1]]
            return 1.0 / (1.0 + math.hypot(params['x'] - ox, params['y'] - oy))
        ''')),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BEHAVIOUR_CASES))
def test_each_pitfall_in_the_behaviour_is_named_at_its_line_and_gone_when_fixed(name, tmp_path):
    bad, line, fixed = BEHAVIOUR_CASES[name]
    (tmp_path / "bad.py").write_text(bad)
    (tmp_path / "fixed.py").write_text(fixed)
    report = run_check(tmp_path / "bad.py", "harbour_loop", CONTINUOUS, tmp_path / "out-bad")
    assert (name, line) in {(f.name, f.line) for f in report.findings}, [f.text("bad.py") for f in report.findings]
    report = run_check(tmp_path / "fixed.py", "harbour_loop", CONTINUOUS, tmp_path / "out-fixed")
    assert report.findings == [] and not report.failed


@pytest.mark.slow
def test_the_numbers_of_a_behaviour_finding_are_given(tmp_path):
    for name in ("print-every-step", "reward-range"):
        (tmp_path / f"{name}.py").write_text(BEHAVIOUR_CASES[name][0])
    printing = run_check(tmp_path / "print-every-step.py", "harbour_loop", CONTINUOUS, tmp_path / "a")
    (finding,) = printing.findings
    assert "KB a lap" in finding.message and "bytes a call" in finding.message
    bonus = run_check(tmp_path / "reward-range.py", "harbour_loop", CONTINUOUS, tmp_path / "b")
    (finding,) = bonus.findings
    assert "1e+04" in finding.message and "more than the other" in finding.message


@pytest.mark.slow
def test_a_first_call_steps_finding_explains_the_failure_it_causes(tmp_path):
    """The K1999 shape: state initialised on steps == 1 and used as a number later: the TypeError is linked."""
    (tmp_path / "k.py").write_text(code('''
        class Reward:
            def __init__(self):
                self.first_index = None

            def reward_function(self, params):
                if params['steps'] == 1:
                    self.first_index = params['closest_waypoints'][1]
                if params['closest_waypoints'][1] < self.first_index:
                    return 0.5
                return 1.0

        reward_object = Reward()

        def reward_function(params):
            return reward_object.reward_function(params)
        '''))
    report = run_check(tmp_path / "k.py", "harbour_loop", CONTINUOUS, tmp_path / "out")
    assert report.failed and "NoneType" in report.battery.failures[0].what
    (finding,) = [f for f in report.findings if f.name == "first-call-steps"]
    assert finding.line == 6 and "it is why" in finding.message and "k.py:8" in finding.message


# ------------------------------------------------------------------ what the user sees
@pytest.mark.slow
def test_racer_check_prints_each_finding_and_writes_them_to_report_json(tmp_path):
    bad, line, _ = CODE_CASES["heading-degrees"]
    (tmp_path / "r.py").write_text(bad)
    done = racer("check", str(tmp_path / "r.py"), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr  # a finding alone is a warning
    assert f"r.py:{line}: [heading-degrees] " in done.stdout and "; fix: " in done.stdout
    assert "passed with warnings" in done.stdout
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [(f["name"], f["line"]) for f in data["findings"]] == [("heading-degrees", line)]
    assert data["failed"] is False and "math.radians" in data["findings"][0]["message"]


def test_explain_names_every_pitfall_with_an_example_and_its_fix():
    assert set(CATALOGUE) >= {"first-call-steps", "empty-objects", "heading-degrees", "objects-heading-units",
                              "objects-distance-meaning", "tuple-in-range", "float-equality", "state-leak",
                              "track-mismatch", "print-every-step", "reward-range", "units-progress"}
    for name in CATALOGUE:
        text = explain(name)
        assert text.startswith(f"[{name}]") and "For example" in text and "becomes:" in text and "Fix:" in text
    with pytest.raises(RacerEnvError, match="no such pitfall; the catalogue: first-call-steps"):
        explain("nonsense")


@pytest.mark.slow
def test_racer_check_explain_from_the_command_line():
    done = racer("check", "--explain", "first-call-steps")
    assert done.returncode == 0 and "steps == 2.0" in done.stdout and "becomes:" in done.stdout
    done = racer("check", "--explain", "nonsense")
    assert done.returncode != 0 and "Traceback" not in done.stderr and "no such pitfall" in done.stderr


@pytest.mark.slow
def test_a_random_reward_is_not_taken_for_state_that_leaks(tmp_path):
    """A reward with noise pays differently each lap, but so does a fresh load: no state-leak."""
    (tmp_path / "noisy.py").write_text("import random\n\ndef reward_function(params):\n"
                                       "    return 1.0 + 0.1 * random.random()\n")
    report = run_check(tmp_path / "noisy.py", "harbour_loop", CONTINUOUS, tmp_path / "out")
    assert report.findings == []


def test_the_same_misreading_on_several_lines_is_one_finding_that_names_them(harbour):
    found = read_code(code('''
        def reward_function(params):
            if not params['objects_distance']:
                return 1.0
            gap = params['objects_distance'][params['closest_objects'][1]]
            if gap < 0.3:
                return 1e-3
            if gap < 0.8:
                return 0.5
            return 1.0
        '''), harbour, CONTINUOUS)
    assert [(f.name, f.line) for f in found] == [("objects-distance-meaning", 5)]
    assert "(also on line 7)" in found[0].message


def test_tables_of_numbers_are_not_taken_for_racing_lines(harbour):
    rows = ",\n".join(f"    [{0.1 * i:.1f}, {0.1 * i + 0.1:.1f}, {1 - 0.05 * i:.2f}]" for i in range(18))
    assert read_code(f"SPEED_BANDS = [\n{rows}\n]\n\ndef reward_function(params):\n    return 1.0\n",
                     harbour, CONTINUOUS) == []
