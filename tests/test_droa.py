"""racer check --droa: DeepRacer on AWS's upload check, offline; each rule with a function that trips it and one
that passes, DRoA's own bugs reproduced, --fix, and the command run as a user runs it."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, shared_path
from racer_env import load_reward_function
from racer_env.constants import MAX_REWARD_ABS
from racer_env.env.rewards import bundled_reward_functions
from racer_env.sim.track import Track
from racer_env.tools.check.droa import (FORBIDDEN_STRINGS, RELEASE, REQUEST_LIMIT_B, RULES, TIMEOUT_S,
                                        canned_states, check_droa, fix_droa, request_bytes)
from racer_env.cli import main

H = "def reward_function(params):\n"
TRACK = "harbour_loop"


def racer(*args, timeout=120):
    env = {**os.environ, "COLUMNS": "250"}
    return subprocess.run([sys.executable, "-m", "racer_env.cli", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=timeout, env=env)


def verdict_of(tmp_path, text, name="r.py", **kwargs):
    f = tmp_path / name
    f.write_text(text)
    return check_droa(f, kwargs.pop("track", TRACK), **kwargs)


def reasons(verdict):
    return [(f.rule, f.code) for f in verdict.findings]


# ------------------------------------------------------------------------------------------- the rules
TRIPS = [
    # rule, code, the function that trips it, the line, what DRoA shows
    ("flake8", "E302", "import math\ndef reward_function(params):\n    return float(math.pi)\n", 2,
     "expected 2 blank lines, found 0"),
    ("flake8", "E231", H + "    x = [1,2]\n    return float(x[0])\n", 2, "missing whitespace after ','"),
    ("flake8", "F401", "import math\n\n\n" + H + "    return 1.0\n", 1, "'math' imported but unused"),
    ("syntax", "E999", H + "    return 1.0 +\n", 2, "invalid syntax"),
    ("import-not-allowed", "os", "import os\n\n\n" + H + "    return float(len(os.sep))\n", 1,
     "The reward function contains illegal import(s): ['os']"),
    ("import-not-allowed", "__future__", "from __future__ import annotations\n\n\n" + H + "    return 1.0\n", 1,
     "The reward function contains illegal import(s): ['__future__']"),
    ("forbidden-builtin", "open", H + "    if params['steps'] < 0:\n        open('x')\n    return 1.0\n", 3,
     "The reward function contains forbidden builtins: ['open']"),
    ("forbidden-builtin", "eval", H + "    return float(eval('1'))\n", 2,
     "The reward function contains forbidden builtins: ['eval']"),
    ("forbidden-string", "load", H + "    # download the track first\n    return 1.0\n", 2,
     'Your code snippet contains a restricted string "load" that is not allowed. Please remove or replace the '
     'string and try again.'),
    ("forbidden-string", "save", H + "    saved_speed = 1.0\n    return saved_speed\n", 2,
     'Your code snippet contains a restricted string "save" that is not allowed. Please remove or replace the '
     'string and try again.'),
    ("import-inside-function", "math", H + "    import math\n    return float(math.sqrt(4))\n", 2,
     'Unsafe builtin function detected: "{"message": "Import should be put at the top of file, module: math", '
     '"type": "IMPORT_ERROR"}".'),
    ("error", "KeyError", H + "    return float(params['projection_distance'])\n", 2,
     'Unsafe builtin function detected: "\'projection_distance\'".'),
    ("error", "ZeroDivisionError", H + "    return float(params['progress'] / (params['steps'] - 1))\n", 2,
     'Unsafe builtin function detected: "division by zero".'),
    ("error", "AttributeError", H + "    wp = params['waypoints']\n    return float(wp.index(wp[0]))\n", 3,
     'Unsafe builtin function detected: "\'numpy.ndarray\' object has no attribute \'index\'".'),
    ("error", "ZeroDivisionError", "X = 1 / 0\n\n\n" + H + "    return 1.0\n", 1, "division by zero"),
    ("error", "ValueError", H + "    if not 0 <= params['heading'] < 359:\n"
     "        raise ValueError('heading out of range: ' + str(params['heading']))\n    return 1.0\n", 3,
     "heading out of range: 359.9"),
    ("signature", "parameters", "def reward_function(params, extra=None):\n    return 1.0\n", 1,
     "Invalid reward function signature. Should be def reward_function(params)"),
    ("not-a-float", "valid", H + "    reward = 1\n    return reward\n", 3,
     "Method returned non-floating type value: 1"),
    ("not-a-float", "valid", "import numpy as np\n\n\n" + H + "    return np.float32(0.5)\n", 5,
     "Method returned non-floating type value: 0.5"),
    ("out-of-range", "finish", H + "    if params['progress'] == 100:\n        return 1e6\n    return 1.0\n", 3,
     "Vehicle failed to make it to end of track. Reward: 1000000.0"),
    ("out-of-range", "off-track", H + "    if params['is_offtrack']:\n        return float('nan')\n    return 1.0\n",
     3, "Off-track vehicle failed to make progress. Reward: nan"),
]


@pytest.mark.parametrize("rule, code, text, line, shown", TRIPS, ids=[f"{t[0]}-{t[1]}" for t in TRIPS])
def test_each_rule_trips_with_its_line_fix_and_droa_message(tmp_path, rule, code, text, line, shown):
    v = verdict_of(tmp_path, text)
    assert not v.accepted and v.first == 0
    first = v.findings[0]
    assert (first.rule, first.code, first.line) == (rule, code, line), v.findings
    assert first.shown == shown
    assert first.fix and first.message


PASSES = {
    "flake8": "import math\n\n\n" + H + "    x = [1, 2]  # a comment\n    return float(math.pi * x[0])\n",
    "noqa": "import math  # noqa: F401\n\n\n" + H + "    return 1.0\n",
    "imports": "import math\nimport random\nimport numpy as np\nimport scipy\nfrom shapely.geometry import Point\n\n\n"
               + H + "    p = Point(math.pi, random.random())\n    return float(np.float64(scipy.__name__ and p.x))\n",
    "safe_speed": H + "    safe_speed = 1.0  # s-a-f-e is no forbidden string\n    return safe_speed\n",
    "import-in-a-branch-not-taken": H + "    if params['steps'] > 5:\n        import math\n"
                                        "        return float(math.sqrt(4))\n    return 1.0\n",
    "get-with-fallback": H + "    d = params.get('projection_distance', params['progress'] * params['track_length'])\n"
                             "    return float(d) + 1.0\n",
    "float64": "import numpy as np\n\n\n" + H + "    return np.float64(1.0)\n",
    "objects": H + "    ox, oy = params['objects_location'][params['closest_objects'][1]]\n    return float(ox * 0 + 1)\n",
    "one-star-parameter": "def reward_function(*args):\n    return 1.0\n",
}


@pytest.mark.parametrize("text", PASSES.values(), ids=list(PASSES))
def test_what_droa_accepts_passes(tmp_path, text):
    v = verdict_of(tmp_path, text)
    assert v.accepted, v.findings


def test_the_firewall_refuses_a_request_over_8_kb(tmp_path):
    table = "TABLE = [\n" + "".join(f"    [{i}.1234, {i}.5678, 3.999],\n" for i in range(300)) + "]\n\n\n"
    v = verdict_of(tmp_path, table + H + "    return float(TABLE[0][0])\n")
    first = v.findings[0]
    assert (first.rule, first.code, first.shown) == ("too-large", "8KB", "403 Forbidden")
    lines = (table + H + "    return float(TABLE[0][0])\n").splitlines(keepends=True)
    # the line where the request passes 8,192 bytes
    assert request_bytes("".join(lines[:first.line - 1])) <= REQUEST_LIMIT_B < request_bytes("".join(lines[:first.line]))
    assert verdict_of(tmp_path, "TABLE = [[1.0, 2.0]]\n\n\n" + H + "    return float(TABLE[0][0])\n").accepted


def test_a_call_slower_than_the_limit_times_out(tmp_path):
    slow = H + "    s = 0\n    for i in range(30_000_000):\n        s += i\n    return 1.0\n"
    v = verdict_of(tmp_path, slow, timeout_s=0.2)
    assert reasons(v) == [("timeout", "valid")] and v.findings[0].shown == "Timed Out"
    assert TIMEOUT_S == 5.0  # DRoA's constants.py TIMEOUT_SEC; the CLI uses it
    assert verdict_of(tmp_path, H + "    return 1.0\n", timeout_s=0.2).accepted


def test_calls_that_add_up_past_the_limit_time_out_as_droa_threads_share_one_interpreter(tmp_path):
    """Each call is under the limit, but DRoA makes seven at once in threads of one interpreter."""
    import time

    loop = H + "    s = 0\n    for i in range(1_000_000):\n        s += i\n    return 1.0\n"
    fn = load_reward_function(lambda params: sum(range(1_000_000)) * 0.0)
    t0 = time.thread_time()
    fn({})
    one_call = time.thread_time() - t0
    v = verdict_of(tmp_path, loop, timeout_s=max(3 * one_call, 0.06))  # each call fits, seven do not
    assert v.findings[-1].rule == "timeout" and v.findings[-1].code in ("threads", "valid")


# -------------------------------------------------------------------------------------- DRoA's own bugs
@pytest.mark.parametrize("body", [
    "    print('{}'.format(params['speed']))\n    return 1.0\n",
    "    w = params['waypoints'][0].copy()\n    return float(w[0] * 0 + 1)\n",
    "    return float((lambda v: v)(1.0))\n",
])
def test_droas_walker_crash_is_reproduced_and_said_to_be_droas(tmp_path, body):
    v = verdict_of(tmp_path, H + body)
    first = v.findings[0]
    assert (first.rule, first.code, first.line, first.shown) == ("forbidden-builtin", "walker-crash", 2,
                                                                  "can only join an iterable")
    assert "DRoA's bug" in first.fix and "name first" in first.fix
    assert verdict_of(tmp_path, H + "    text = '{}'\n    print(text.format(params['speed']))\n"
                                    "    return 1.0\n").accepted  # the way around it


def test_an_exception_without_a_colon_gives_droas_unpack_message(tmp_path):
    v = verdict_of(tmp_path, H + "    assert params['heading'] < 180\n    return 1.0\n")
    assert reasons(v) == [("error", "AssertionError")]  # heading 359.9 in three states: one cause, one reason
    assert "progress, off-track and finish states" in v.findings[0].message
    assert v.findings[0].shown == "ValueError: not enough values to unpack (expected 2, got 1)"
    assert v.findings[0].line == 2 and "359.9" in v.findings[0].fix


def test_a_flake8_message_with_a_colon_is_split_as_droa_splits_it(tmp_path):
    v = verdict_of(tmp_path, "X = 1\n\n\n" + H + "    global X\n    return float(X)\n")
    first = v.findings[0]
    assert (first.rule, first.code, first.line) == ("flake8", "F824", 5)
    assert first.shown == "name is never assigned in scope" and "its bug" in first.fix


def test_a_relative_import_crashes_droas_import_check(tmp_path):
    v = verdict_of(tmp_path, "from . import helpers\n\n\n" + H + "    return float(helpers)\n")
    assert v.findings[0].rule == "import-not-allowed" and v.findings[0].code == "relative"
    assert v.findings[0].shown == "'NoneType' object has no attribute 'split'"


def test_every_reason_is_listed_in_droas_order(tmp_path):
    text = ("import os\ndef reward_function(params):\n    # loaded from disk\n"
            "    return params['projection_distance'] + 1\n")
    v = verdict_of(tmp_path, text)
    assert reasons(v) == [("flake8", "F401"), ("flake8", "E302"), ("import-not-allowed", "os"),
                          ("forbidden-string", "load"), ("error", "KeyError")]  # the same KeyError in all states
    assert v.findings[0].shown == "'os' imported but unused"  # flake8 runs first: DRoA shows it and stops


def test_an_int_return_is_reported_with_the_messages_droa_may_show_instead(tmp_path):
    v = verdict_of(tmp_path, H + "    if params['all_wheels_on_track']:\n        return 1\n    return 0\n")
    assert [(f.rule, f.code, f.line) for f in v.findings] == [("not-a-float", "valid", 3),
                                                              ("not-a-float", "off-track", 4)]
    assert "valid, start, progress and finish states" in v.findings[0].message
    assert "Reward score out of range. Reward: 1" in v.findings[0].fix  # DRoA's threads finish in any order


# ------------------------------------------------------------------------------------------ the states
def test_the_canned_states_are_droas_not_the_simulators():
    rows = Track.load(TRACK, merge_duplicates=False).rows
    states = canned_states(rows)
    assert list(states) == ["valid", "start", "progress", "off-track", "finish"]
    n = len(rows)
    inner_length = float(np.hypot(*np.diff(rows[:, 2:4], axis=0).T).sum())
    for name, s in states.items():
        assert isinstance(s["waypoints"], np.ndarray) and np.array_equal(s["waypoints"], rows[:, 2:4])
        assert s["is_reversed"] is True and "projection_distance" not in s
        assert "objects_distance_from_center" not in s and len(s["objects_location"]) == 6
        assert s["track_length"] == pytest.approx(inner_length)
        assert s["track_width"] == pytest.approx(math.dist(rows[0, 2:4], rows[0, 4:6]))
    assert (states["valid"]["steps"], states["progress"]["heading"], states["finish"]["steps"]) == (1, 359.9, 10000)
    assert states["valid"]["x"] == pytest.approx((rows[0, 0] + rows[0, 2]) / 2)
    assert (states["progress"]["x"], states["finish"]["closest_waypoints"]) == (rows[n // 2, 2], [n - 2, n - 1])
    off = states["off-track"]
    assert off["is_offtrack"] and not off["all_wheels_on_track"] and off["distance_from_center"] == off["track_width"]
    assert math.dist((off["x"], off["y"]), rows[0, 0:2]) == pytest.approx(off["track_width"])
    states["valid"]["objects_speed"].append(9)
    assert len(canned_states(rows)["valid"]["objects_speed"]) == 6  # fresh each time


def test_the_states_follow_the_shared_notes_on_reinvent_base():
    notes = shared_path("..", "droa-upload-check.md").read_text()
    assert "v1.2.5" in notes and RELEASE == "v1.2.5"
    track = Track.load(shared_path("tracks", "reinvent_base.npy"), merge_duplicates=False)
    states = canned_states(track.rows)
    assert states["start"]["x"] == track.rows[0, 2] and states["valid"]["speed"] == 0.5
    v = check_droa("avoid_obstacles", track)
    assert v.accepted and v.track == "reinvent_base" and not any("not one of DRoA's" in n for n in v.notes)


# ------------------------------------------------------------------------------ bundled, rules, docs
@pytest.mark.parametrize("path", bundled_reward_functions(), ids=lambda p: p.stem)
def test_every_bundled_reward_function_passes_droa(path):
    v = check_droa(path, TRACK)
    assert v.accepted, [f.text(path.name) for f in v.findings]


def test_the_rules_name_their_droa_source_and_the_docs_explain_each():
    assert set(RULES) == {"flake8", "import-not-allowed", "import-inside-function", "forbidden-builtin",
                          "forbidden-string", "not-a-float", "out-of-range", "timeout", "error", "signature",
                          "syntax", "too-large"}
    for rule in RULES.values():
        assert rule.source and (".py" in rule.source or ".ts" in rule.source), rule.name
    docs = (REPO / "docs" / "reward-functions.md").read_text()
    section = docs[docs.index("## DeepRacer on AWS's upload check"):]
    for name in RULES:
        assert f"`{name}`" in section, name
    assert RELEASE in section and "can only join an iterable" in section
    assert FORBIDDEN_STRINGS[1] == "load" and MAX_REWARD_ABS == 1e5


# ------------------------------------------------------------------------------------------------ --fix
def test_fix_writes_a_copy_that_droa_accepts_and_that_computes_the_same(tmp_path):
    original = ("import math\nimport random\ndef reward_function(params):\n    x=[1,2]\n    #comment\n"
                "    try:\n        y = x[5]\n    except:\n        y = 0\n    if params['speed']>1: return 1\n"
                "    reward = 0.5 + y\n    return reward\n")
    f = tmp_path / "mine.py"
    f.write_text(original)
    fixed = fix_droa(f, TRACK)
    assert fixed.copy == tmp_path / "mine_droa.py" and f.read_text() == original
    assert fixed.verdict.accepted, fixed.verdict.findings
    text = fixed.copy.read_text()
    assert "import math" not in text and "except BaseException:" in text and "return 1.0" in text
    assert "return reward\n" in text  # a float: not wrapped
    before, after = load_reward_function(f), load_reward_function(fixed.copy)
    for state in canned_states(Track.load(TRACK).rows).values():
        assert before(dict(state)) == after(dict(state))


def test_fix_wraps_an_int_return_only_where_it_is_certain(tmp_path):
    f = tmp_path / "ints.py"
    f.write_text(H + "    reward = 1\n    if params['speed'] > 1:\n        reward = 2\n    if reward > 5:\n"
                     "        return reward * 0.5\n    return reward\n")
    fixed = fix_droa(f, TRACK)
    text = fixed.copy.read_text()
    assert "return float(reward)\n" in text and "return reward * 0.5\n" in text
    assert fixed.verdict.accepted


def test_fix_says_what_is_left(tmp_path, capsys):
    f = tmp_path / "left.py"
    f.write_text("import os\ndef reward_function(params):\n    return float(len(os.sep))\n")
    assert main(["check", str(f), "--droa", "--fix", "--out", str(tmp_path / "out")]) == 1
    out = capsys.readouterr().out
    assert "--fix: wrote" in out and "left_droa.py" in out and "[import-not-allowed os]" in out
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert data["droa_fix"]["droa"]["findings"][0]["rule"] == "import-not-allowed"


# --------------------------------------------------------------------------------- the command, bad input
def test_the_command_prints_the_verdict_writes_report_json_and_exits_1_on_reject(tmp_path):
    f = tmp_path / "r.py"
    f.write_text("import math\ndef reward_function(params):\n    return float(math.pi)\n")
    proc = racer("check", str(f), "--droa", "--out", str(tmp_path / "out"))
    assert proc.returncode == 1, proc.stderr
    assert "would reject" in proc.stdout and f"{f}:2: [flake8 E302]" in proc.stdout
    assert "DRoA shows this one: 'expected 2 blank lines, found 0'" in proc.stdout
    data = json.loads((tmp_path / "out" / "report.json").read_text())["droa"]
    assert data["accepted"] is False and data["first"] == 0 and data["release"] == RELEASE
    assert set(data["findings"][0]) >= {"rule", "code", "line", "message", "fix"}
    good = tmp_path / "good.py"
    good.write_text(H + "    return 1.0\n")
    proc = racer("check", str(good), "--droa", "--out", str(tmp_path / "out2"))
    assert proc.returncode == 0 and "would accept" in proc.stdout


@pytest.mark.parametrize("content, words", [
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not a Python file"),
    (b"This is my reward function: go fast.\n", "not Python"),
    (b"", "empty file"),
    (b"x = 1\n", "defines no function reward_function"),
    (b"\xff\xfe bad", "not UTF-8"),
])
def test_bad_input_is_one_line_naming_the_file_exit_2(tmp_path, content, words):
    f = tmp_path / "bad.py"
    f.write_bytes(content)
    proc = racer("check", str(f), "--droa", "--out", str(tmp_path / "out"))
    assert proc.returncode == 2, proc.stdout
    assert len(proc.stderr.strip().splitlines()) == 1 and str(f) in proc.stderr and words in proc.stderr
    assert "Traceback" not in proc.stderr


def test_fix_without_droa_is_refused(tmp_path):
    f = tmp_path / "r.py"
    f.write_text(H + "    return 1.0\n")
    proc = racer("check", str(f), "--fix")
    assert proc.returncode == 2 and "--fix goes with --droa" in proc.stderr


def test_explain_tells_a_droa_rule(capsys):
    assert main(["check", "--explain", "forbidden-string"]) == 0
    out = capsys.readouterr().out
    assert "[forbidden-string]" in out and "constants.py FORBID_STRINGS" in out and RELEASE in out


@pytest.mark.slow
def test_plain_check_prints_one_line_on_droa_and_report_json_has_it(tmp_path):
    f = tmp_path / "r.py"
    f.write_text("def reward_function(params):\n    return float(params['speed'])\ndef other():\n    pass\n")
    proc = racer("check", str(f), "--out", str(tmp_path / "out"), timeout=300)
    assert "DeepRacer on AWS would reject it: 1 reason, see racer check --droa" in proc.stdout, proc.stdout
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert data["droa"]["accepted"] is False and data["droa"]["findings"][0]["code"] == "E302"
