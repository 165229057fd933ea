"""DeepRacer on AWS's reward-function check at upload, offline: ``racer check FILE --droa``.

DeepRacer on AWS (DRoA, aws-solutions/deepracer-on-aws) is AWS's solution that racers deploy in their own
account now that the console is closed. When a model is created, its validator
(``source/libs/reward-function-validation/lib/reward_func_validator/``) rejects reward functions that the
simulator runs happily. This module is racer_env's own implementation of that check, written from the
validator's source at release :data:`RELEASE` (the validator's folder has not changed since v1.0.0; later
releases only patched its Docker image). Every rule of :data:`RULES` names the DRoA file it comes from.

DRoA's pipeline, which :func:`check_droa` follows:

1. the web firewall refuses a request body over 8 KB (``too-large``), before anything runs;
2. the static suite: flake8 (``flake8``, ``syntax``), then the imports (``import-not-allowed``), the builtins
   (``forbidden-builtin``) and the substrings (``forbidden-string``);
3. the import-at-call suite: one call on the "valid" canned state with imports refused
   (``import-inside-function``, ``error``);
4. the runtime suite: the signature, then calls on five canned states, each test in its own thread joined
   for 5 s (``signature``, ``not-a-float``, ``out-of-range``, ``error``, ``timeout``).

DRoA stops at the first stage that fails and shows one message. racer_env runs every stage anyway, so the
report lists every reason DRoA would give, one upload after another, in that order: the first finding is the
one DRoA shows. The calls run in racer_env's sandbox (:class:`~racer_env.env.rewards.RewardFunction`) on
DRoA's canned states (:func:`canned_states`), which are not the simulator's: ``waypoints`` is a numpy array of
the inner border, ``steps`` is 1, ``is_reversed`` is True and keys such as ``projection_distance`` are absent.

Where DRoA has a bug that rejects a valid function, the verdict is DRoA's and the finding's fix says it is
DRoA's bug and how to step around it: the builtins walker that crashes with "can only join an iterable" on
``'{}'.format(x)`` or ``params['waypoints'][i].copy()``, the relative import that crashes the import check,
the message "not enough values to unpack" for an exception whose text has no colon, and flake8 messages with
a colon that DRoA splits in two.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import json
import math
import re
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from racer_env.constants import MAX_REWARD_ABS
from racer_env.env.rewards import RewardFunction, reward_file
from racer_env.errors import RacerEnvError, RewardFunctionError
from racer_env.sim.track import DEFAULT_TRACK, Track, read_rows
from racer_env.tools.check.battery import Sink

__all__ = ["RELEASE", "RULES", "DroaRule", "DroaFinding", "DroaVerdict", "DroaFix", "check_droa", "fix_droa",
           "canned_states", "show_droa", "show_fix", "write_droa_report", "explain_rule", "TIMEOUT_S", "DROA_TRACKS",
           "STATES", "request_bytes", "REQUEST_LIMIT_B"]

RELEASE = "v1.2.5"
"""The aws-solutions/deepracer-on-aws release (commit 61af778, 2026-07-24) whose validator these rules follow;
its ``reward_func_validator`` folder is unchanged since v1.0.0."""
_VALIDATOR = "source/libs/reward-function-validation/lib/reward_func_validator/"

# constants.py
ALLOWED_IMPORTS = ("math", "random", "numpy", "scipy", "shapely")
"""Top-level modules a reward function may import (constants.py ALLOWLIST_IMPORTS)."""
FORBIDDEN_BUILTINS = ("open", "exec", "eval", "compile", "input")
"""Names whose call is refused (constants.py FORBID_ACCESS; the static test refuses any call)."""
FORBIDDEN_STRINGS = ("__import__", "load", "fromfile", "genfromtxt", "loadtxt", "tofile", "savez", "save",
                     "savetxt", "memmap")
"""Substrings refused anywhere in the file, in DRoA's order of search (constants.py FORBID_STRINGS)."""
TIMEOUT_S = 5.0
"""How long DRoA waits for each runtime test's thread [s] (constants.py TIMEOUT_SEC)."""
# test_reward_function.py run_flake8 and requirements.txt
FLAKE8_SELECT = "E,F"
FLAKE8_IGNORE = "E5,E226,E261"
FLAKE8_VERSION = "7.3.0"
"""flake8 as DRoA pins it (requirements.txt); it brings pycodestyle 2.14 and pyflakes 3.4."""
DROA_PYTHON = (3, 12)
"""The validator's Python (Dockerfile: public.ecr.aws/lambda/python:3.12)."""
# source/apps/infra/lib/constructs/api/api.ts: AWSManagedRulesCommonRuleSet, whose SizeRestrictions_BODY rule
# blocks a request body over 8 KB (deepracer-on-aws issue #89)
REQUEST_LIMIT_B = 8192
"""The largest request body DRoA's web firewall lets through [bytes]."""
_DISCRETE_30_B = 30 * len('{"speed":1.0,"steeringAngle":-30.0},')
"""What a discrete action space of 30 actions (model.smithy allows 2 to 30) adds to a request [bytes]."""

DROA_TRACKS = (
    '2022_april_open_ccw', '2022_april_open_cw', '2022_april_pro_ccw', '2022_april_pro_cw', '2022_august_open_ccw',
    '2022_august_open_cw', '2022_august_pro_ccw', '2022_august_pro_cw', '2022_july_open', '2022_july_pro_ccw',
    '2022_july_pro_cw', '2022_june_open_ccw', '2022_june_open_cw', '2022_june_pro_ccw', '2022_june_pro_cw',
    '2022_march_open_ccw', '2022_march_open_cw', '2022_march_pro_ccw', '2022_march_pro_cw', '2022_may_open_ccw',
    '2022_may_open_cw', '2022_may_pro_ccw', '2022_may_pro_cw', '2022_october_open_ccw', '2022_october_open_cw',
    '2022_october_pro_ccw', '2022_october_pro_cw', '2022_reinvent_champ_ccw', '2022_reinvent_champ_cw',
    '2022_september_open_ccw', '2022_september_open_cw', '2022_september_pro_ccw', '2022_september_pro_cw',
    '2022_summit_speedway_ccw', '2022_summit_speedway_cw', '2024_reinvent_champ_ccw', '2024_reinvent_champ_cw',
    'Albert', 'AmericasGeneratedInclStart', 'Aragon', 'Austin', 'Belille', 'Bowtie_track', 'Canada_Training',
    'China_track', 'FS_June2020', 'July_2020', 'LGSWide', 'Mexico_track', 'Monaco', 'Monaco_building',
    'New_York_Track', 'Oval_track', 'Singapore', 'Singapore_building', 'Spain_track', 'Tokyo_Training_track',
    'Vegas_track', 'Virtual_May19_Train_track', 'arctic_open_ccw', 'arctic_open_cw', 'arctic_pro_ccw',
    'arctic_pro_cw', 'caecer_gp', 'caecer_loop', 'dubai_open_ccw', 'dubai_open_cw', 'dubai_pro', 'hamption_open',
    'hamption_pro', 'jyllandsringen_open_ccw', 'jyllandsringen_open_cw', 'jyllandsringen_pro_ccw',
    'jyllandsringen_pro_cw', 'morgan_open', 'morgan_pro', 'penbay_open_ccw', 'penbay_open_cw', 'penbay_pro_ccw',
    'penbay_pro_cw', 'reInvent2019_track_ccw', 'reInvent2019_track_cw', 'reInvent2019_wide_ccw',
    'reInvent2019_wide_cw', 'red_star_open', 'red_star_pro_ccw', 'red_star_pro_cw', 'reinvent_base',
    'thunder_hill_open', 'thunder_hill_pro_ccw', 'thunder_hill_pro_cw',
)
"""The route files DRoA builds its canned states from (source/libs/reward-function-validation/routes/). Each is a
track racer_env ships, found by name with no network: the simulator's route of that name
(racer_env/sim/tracks/routes/, deepracer-simapp's bundle/routes/, which the community's build of DRoA's validator
copies as its routes/: docker/Dockerfile.reward-function-validation)."""


@dataclass(frozen=True)
class DroaRule:
    """One reason DRoA gives, with where it comes from."""

    name: str
    stage: str
    source: str
    """The DRoA file (under the validator's folder unless a path is given) and the code in it."""
    checks: str
    why: str
    fix: str


RULES: dict[str, DroaRule] = {r.name: r for r in (
    DroaRule("too-large", "firewall",
             "source/apps/infra/lib/constructs/api/api.ts (AWSManagedRulesCommonRuleSet: SizeRestrictions_BODY); "
             "deepracer-on-aws#89",
             "the request that carries the function is over 8 KB (8,192 bytes)",
             "the web firewall in front of DRoA's API blocks bodies over 8 KB; the browser shows a 403 and no log "
             "says why",
             "shorten the file: drop comments and dead code, compute tables at import instead of pasting them"),
    DroaRule("syntax", "static", "test_reward_function.py run_flake8 (flake8 reports E999)",
             "the file does not parse",
             "DRoA lints the file before anything else; a syntax error is flake8's E999",
             "fix the syntax at the line given"),
    DroaRule("flake8", "static", "test_reward_function.py run_flake8, TestSyntax; requirements.txt (flake8 7.3.0)",
             f"flake8 --select={FLAKE8_SELECT} --ignore={FLAKE8_IGNORE}: any pycodestyle error or pyflakes "
             "warning",
             "DRoA treats style as an error: one missing blank line rejects the function, and it shows only the "
             "first",
             "racer check --droa --fix mends the whitespace, blank-line and comment codes, bare excepts and "
             "unused imports; the rest needs an edit (a `# noqa: CODE` comment also silences flake8, on DRoA too)"),
    DroaRule("import-not-allowed", "static", "constants.py ALLOWLIST_IMPORTS; test_reward_function.py "
             "TestIllegalImportsAndBuiltins.test_imports, Analyzer",
             "an import, anywhere in the file, of a module other than " + ", ".join(ALLOWED_IMPORTS),
             "DRoA runs the function in its own account's Lambda and allows only maths libraries",
             "remove the import and write it with math, random, numpy, scipy or shapely"),
    DroaRule("forbidden-builtin", "static", "constants.py FORBID_ACCESS; test_reward_function.py parse, "
             "_parse_chain, test_builtins",
             "a call of " + ", ".join(FORBIDDEN_BUILTINS) + "; or a shape of code DRoA's walker crashes on",
             "a reward function must not read files or run code from strings",
             "remove the call; for the walker's crash, give the value a name before taking its attribute"),
    DroaRule("forbidden-string", "static", "constants.py FORBID_STRINGS; test_reward_function.py "
             "test_forbidden_strings",
             "any of " + ", ".join(FORBIDDEN_STRINGS) + " anywhere in the text: names, strings and comments, "
             "inside longer words too",
             "a blunt guard against numpy's file functions (np.load, np.save...), applied to the raw text",
             "rename or reword: 'download' -> 'fetch', 'payload' -> 'data', 'saved' -> 'kept'"),
    DroaRule("import-inside-function", "import-at-call", "test_reward_function.py TestImportsWithinModule, "
             "_fail_import",
             "an import while the function runs on the valid state (an import statement inside it, or a library "
             "importing on first use)",
             "DRoA replaces __import__ during the call, so any import then fails",
             "move the import to the top of the file"),
    DroaRule("error", "import-at-call, runtime", "test_reward_function.py TestImportsWithinModule, "
             "TestRewardFunction, wrap",
             "an exception when the module is imported or the function is called on a canned state",
             "DRoA's canned states are not the simulator's: waypoints is the inner border as a numpy array, steps "
             "is 1, is_reversed is True, and projection_distance and objects_distance_from_center are absent",
             "read the keys DRoA lacks with params.get(key, fallback), guard the divisions, do not assert ranges"),
    DroaRule("signature", "runtime", "test_reward_function.py TestRewardFunction.test_reward_function_signature",
             "reward_function does not take exactly one parameter",
             "DRoA checks the signature with inspect.signature: a second, optional parameter fails too",
             "write `def reward_function(params):`"),
    DroaRule("not-a-float", "runtime", "test_reward_function.py test_return_type, _reward_in_range",
             "the return value is not an instance of float (an int or numpy.float32 fails, numpy.float64 passes)",
             "DRoA checks the type, where the simulator converts with float()",
             "return float(reward)"),
    DroaRule("out-of-range", "runtime", "test_reward_function.py test_reward_range, test_start_car, "
             "test_progress_car, test_off_track_car, test_finish_car",
             "a reward outside [-1e5, 1e5] (or NaN) on one of the canned states",
             "the simulator refuses such rewards too",
             "bound the reward, and make sure the start, finish and off-track states give a finite number"),
    DroaRule("timeout", "runtime", "constants.py TIMEOUT_SEC; test_reward_function.py run_suites",
             "the runtime tests are not done within 5 s",
             "DRoA runs its seven calls and eight module reloads at once in threads of one interpreter and waits "
             "5 s, so their time adds up when the function computes in Python",
             "precompute at import, or cache the work; keep each call well under a second"),
)}

_FLAKE8_FIXES: dict[str, str] = {
    "E101": "indent with spaces only", "E111": "indent by multiples of four spaces",
    "E114": "indent the comment by multiples of four spaces", "E115": "indent the comment with its code",
    "E116": "indent the comment with its code", "E117": "indent by four spaces, not more",
    "E121": "align the continuation line", "E122": "indent the continuation line",
    "E124": "align the closing bracket", "E125": "indent the continuation line more than the next block",
    "E126": "indent the continuation line by four spaces", "E127": "align the continuation line with the bracket",
    "E128": "align the continuation line with the bracket", "E129": "indent the continuation line",
    "E131": "align the continuation line", "E201": "no space after the opening bracket",
    "E202": "no space before the closing bracket", "E203": "no space before ',' ':' or ';'",
    "E211": "no space before the bracket of a call or index", "E221": "one space before the operator",
    "E222": "one space after the operator", "E225": "a space each side of the operator",
    "E227": "a space each side of the operator", "E228": "a space each side of %",
    "E231": "a space after ',' ':' or ';'", "E241": "one space after ','", "E251": "no spaces around = in a "
    "keyword argument", "E252": "spaces around = of an annotated default", "E262": "start the inline comment with "
    "'# '", "E265": "start the comment with '# '", "E266": "start the comment with one '#' and a space",
    "E271": "one space after the keyword", "E272": "one space before the keyword", "E275": "a space after the "
    "keyword", "E301": "one blank line before the method", "E302": "two blank lines before the def or class",
    "E303": "at most two blank lines (one inside a function)", "E304": "no blank line after a decorator",
    "E305": "two blank lines after the function, before top-level code", "E306": "one blank line before the "
    "nested def", "E401": "one import per line", "E402": "imports at the top of the file",
    "E701": "the statement after ':' on its own line", "E702": "one statement per line, no ';'",
    "E703": "no ';' at the end of the line", "E711": "write `is None` / `is not None`",
    "E712": "write `if x:` or `if not x:` rather than `== True`", "E713": "write `x not in y`",
    "E714": "write `x is not y`", "E721": "compare types with `is` or isinstance()",
    "E722": "name the exception: `except Exception:` (the fix writes `except BaseException:`, which is what a bare "
    "except catches)", "E731": "write a def instead of assigning a lambda",
    "E741": "rename the variable l, O or I", "E742": "rename the class", "E743": "rename the function",
    "F401": "remove the unused import", "F403": "import names one by one, not *",
    "F405": "import the name explicitly", "F541": "drop the f of an f-string with no placeholder",
    "F632": "compare with == for a literal, not is", "F811": "remove the redefinition or rename one",
    "F821": "define the name, or fix its spelling", "F823": "assign the local before reading it",
    "F824": "remove the `global` statement: the name is never assigned in the function",
    "F841": "remove the unused variable, or use it", "F901": "raise NotImplementedError, not NotImplemented",
}
_FIXABLE_PREFIXES = ("E1", "E2", "E3", "E26", "E70", "E722")
_OWN_FIXES = ("E722", "E266", "F401", "F824")
"""The codes racer_env fixes itself (with E117 and F841 in the cases it is sure of), not autopep8."""
"""flake8 codes --fix mends without changing behaviour: with autopep8 the indentation, whitespace, blank lines,
comments and statements on one line; itself the bare except (written ``except BaseException:``, which is what a
bare except catches)."""


@dataclass(frozen=True)
class DroaFinding:
    """One reason DRoA would give.

    Attributes:
        rule: one of :data:`RULES`.
        code: the flake8 code for ``flake8`` and ``syntax``; otherwise what the reason is about (the module,
            the builtin, the substring, the canned state, the exception's type).
        line: the line of the reward file it is about (1-based; 1 for the file as a whole).
        message: what is wrong, in racer_env's words.
        fix: what to write instead, and when the fault is DRoA's own bug, that it is and how to avoid it.
        shown: the message DRoA's console shows when this reason is the first (its ``errors[0].message``).
    """

    rule: str
    code: str
    line: int
    message: str
    fix: str
    shown: str

    def text(self, path: str | Path) -> str:
        return f"{path}:{self.line}: [{self.rule} {self.code}] {self.message}; fix: {self.fix}"

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "code": self.code, "line": self.line, "message": self.message, "fix": self.fix,
                "shown": self.shown}


@dataclass
class DroaVerdict:
    """What DRoA would say of a reward file.

    Attributes:
        path: the reward file.
        track: the track whose route built the canned states.
        findings: every reason DRoA would give, in the order it would meet them (stage by stage).
        notes: where the verdict may differ from DRoA's (another Python, another flake8), and what was not run.
        seconds: how long the check took [s].
    """

    path: str
    track: str
    findings: list[DroaFinding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    int_returns: set[int] = field(default_factory=set)
    """Lines of reward_function's returns that gave an int (or bool) on a canned state: --fix wraps them."""

    @property
    def accepted(self) -> bool:
        return not self.findings

    @property
    def first(self) -> int | None:
        """The index of the finding DRoA shows (it stops at the first failing stage), None when it accepts."""
        return 0 if self.findings else None

    def to_json(self) -> dict[str, Any]:
        """The ``"droa"`` entry of report.json."""
        return {"accepted": self.accepted, "first": self.first, "release": RELEASE, "track": self.track,
                "findings": [f.to_json() for f in self.findings], "notes": self.notes,
                "seconds": round(self.seconds, 2)}


# ---------------------------------------------------------------------------------------------- canned states
_OBJECTS: dict[str, Any] = {
    "closest_objects": [0, 1],
    "objects_location": [[4.511289152034186, 1.3292364463761641], [6.537302737755836, 1.4140104486149618],
                         [4.752976532490525, 3.1350845729056838], [3.103370840828792, 4.133062703357412],
                         [0.7094212601659824, 4.217507179944688], [1.5996645329306798, 1.7124666440529925]],
    "objects_left_of_center": [True, True, False, True, False, True],
    "object_in_camera": True,
    "objects_speed": [0.2, 0.2, 0.2, 0.2, 0.2, 0.2],
    "objects_heading": [2.717322296283114, 2.368920328229894, -1.9305073380382327, -1.3586571052564007,
                        0.00025041038280975884, 0.5573269195381345],
    "objects_distance": [1.9501724549506574, 4.139700164331426, 7.997164727523002, 10.024219705986598,
                         12.56561517097048, 15.090712948383509],
}
"""The object keys of every canned state, the same six objects whatever the track (test_reward_function.py
get_params)."""
# state: all_wheels_on_track, heading, progress, steps, speed, steering_angle (DRoA's values and types: ints
# where it writes ints)
_MOTION: dict[str, tuple[bool, float, float, int, float, float]] = {
    "valid": (True, 0, 0, 1, 0.5, 6),
    "start": (True, 0, 0, 1, 0.1, 0.2),
    "progress": (True, 359.9, 50, 100, 1.0, 6),
    "off-track": (False, 359.9, 0, 1, 1, 15),
    "finish": (True, 359.9, 100, 10000, 5.0, 0),
}
STATES = tuple(_MOTION)
"""DRoA's canned states, in the order of its runtime tests."""


def canned_states(rows: np.ndarray) -> dict[str, dict[str, Any]]:
    """DRoA's five canned params dicts for a route (test_reward_function.py get_params), fresh each call.

    Args:
        rows: the route file's (N, 6) array: centre x, y, inner x, y, outer x, y [m], as the file holds it.

    Returns:
        state name -> params: valid (between the inner border and the centre at row 0), start (inner[0]),
        progress (inner[N // 2]), off-track (one track width out from the centre towards the outer border) and
        finish (inner[N - 1]). ``waypoints`` is ``rows[:, 2:4]``, the inner border as a numpy array;
        ``track_width`` is the distance from inner[0] to outer[0] and ``track_length`` the inner border's length.

    Examples:
        >>> rows = np.array([[x, 0.0, x, 0.5, x, -0.5] for x in range(5)])
        >>> s = canned_states(rows)
        >>> float(s["valid"]["y"]), type(s["valid"]["x"]).__name__, s["finish"]["closest_waypoints"]
        (0.25, 'float64', [3, 4])
        >>> s["valid"]["track_length"], s["valid"]["steps"], s["progress"]["heading"], "projection_distance" in s["valid"]
        (4.0, 1, 359.9, False)
    """
    r = rows
    n = r.shape[0]
    width = math.sqrt((r[0, 4] - r[0, 2]) ** 2 + (r[0, 5] - r[0, 3]) ** 2)
    length: float = 0
    for i in range(1, n):
        length += math.sqrt((r[i, 2] - r[i - 1, 2]) ** 2 + (r[i, 3] - r[i - 1, 3]) ** 2)
    out = math.sqrt((r[0, 4] - r[0, 0]) ** 2 + (r[0, 5] - r[0, 1]) ** 2)
    where = {
        "valid": ((r[0, 2] + r[0, 0]) / 2, (r[0, 3] + r[0, 1]) / 2, [0, 1]),
        "start": (r[0, 2], r[0, 3], [0, 1]),
        "progress": (r[n // 2, 2], r[n // 2, 3], [3, 4]),
        "off-track": (r[0, 0] + (r[0, 4] - r[0, 0]) / out * width, r[0, 1] + (r[0, 5] - r[0, 1]) / out * width,
                      [0, 1]),
        "finish": (r[n - 1, 2], r[n - 1, 3], [n - 2, n - 1]),
    }
    states = {}
    for name, (on_track, heading, progress, steps, speed, steering) in _MOTION.items():
        x, y, closest = where[name]
        states[name] = {
            "all_wheels_on_track": on_track, "x": x, "y": y,
            "distance_from_center": width if name == "off-track" else 0,
            "heading": heading, "progress": progress, "steps": steps, "speed": speed, "steering_angle": steering,
            "track_width": width, "waypoints": r[:, 2:4], "closest_waypoints": closest,
            "is_left_of_center": True, "is_reversed": True, "track_length": length,
            **json.loads(json.dumps(_OBJECTS)),  # fresh lists: a function that changes them changes only its own
            "is_crashed": False, "is_offtrack": name == "off-track",
        }
    return states


def _route(track: str | Path | Track | None) -> tuple[str, np.ndarray]:
    """The track's name and its route as the file holds it (DRoA reads the .npy as is, duplicate rows too)."""
    if isinstance(track, Track):
        source = Path(track.source)
        if not track.is_reversed and source.is_file():
            return track.name, read_rows(source)
        return track.name, track.rows
    loaded = Track.load(track or DEFAULT_TRACK, merge_duplicates=False)
    return loaded.name, loaded.rows


# ------------------------------------------------------------------------------------------- the static suite
def request_bytes(text: str) -> int:
    """The size [bytes] of the smallest CreateModel request that carries ``text``: the required fields of
    model.smithy and create-model.smithy (v1.2.5), a continuous action space, JSON as the browser sends it."""
    body = {"modelDefinition": {
        "name": "m", "carCustomization": {"carColor": "BLACK", "carShell": "DEEPRACER"},
        "trainingConfig": {"trackConfig": {"trackId": "reinvent_base", "trackDirection": "CLOCKWISE"},
                           "maxTimeInMinutes": 60, "raceType": "TIME_TRIAL"},
        "metadata": {"agentAlgorithm": "PPO", "rewardFunction": text,
                     "hyperparameters": {"batch_size": 64, "lr": 0.0003, "discount_factor": 0.999,
                                         "loss_type": "huber", "num_episodes_between_training": 20,
                                         "exploration_type": "categorical"},
                     "actionSpace": {"continous": {"lowSpeed": 0.5, "highSpeed": 4.0, "lowSteeringAngle": -30.0,
                                                   "highSteeringAngle": 30.0}},
                     "sensors": {"camera": "FRONT_FACING_CAMERA"}}}}
    return len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _too_large(text: str, notes: list[str]) -> list[DroaFinding]:
    size = request_bytes(text)
    if size <= REQUEST_LIMIT_B:
        if size > REQUEST_LIMIT_B - _DISCRETE_30_B:
            notes.append(f"the smallest request that carries this function is {size:,} bytes, close to DRoA's "
                         f"{REQUEST_LIMIT_B:,}-byte limit: a discrete action space of many actions, or a long "
                         f"description, can push it over (a 403 with no message)")
        return []
    overhead = request_bytes("")
    lines = text.splitlines(keepends=True)
    line, total = len(lines), overhead
    for i, piece in enumerate(lines, start=1):
        total += len(json.dumps(piece, ensure_ascii=False).encode("utf-8")) - 2
        if total > REQUEST_LIMIT_B:
            line = i
            break
    return [DroaFinding(
        "too-large", "8KB", line,
        f"the request that carries this function is at least {size:,} bytes (the function {size - overhead:,} "
        f"of them, escaped as JSON), over the {REQUEST_LIMIT_B:,} bytes DRoA's web firewall lets through; it "
        f"passes the limit at this line",
        f"cut {size - REQUEST_LIMIT_B:,} bytes or more: comments, docstrings, dead branches, long pasted tables "
        f"(compute them at import)", "403 Forbidden")]


def _flake8_lines(text: str) -> list[tuple[str, int, int, str]]:
    """flake8 on the text as DRoA runs it: (code, line, column, message) in flake8's order.

    The text is written to a fresh ``reward_function.py`` like DRoA's; ``--isolated`` keeps the user's own
    flake8 configuration out, as DRoA's Lambda has none.
    """
    with tempfile.TemporaryDirectory(prefix="racer-droa-") as tmp:
        path = Path(tmp) / "reward_function.py"
        path.write_text(text, encoding="utf-8")
        try:
            proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", f"--select={FLAKE8_SELECT}",
                                   f"--ignore={FLAKE8_IGNORE}", "--format=%(code)s:%(row)d:%(col)d:%(text)s",
                                   str(path)], capture_output=True, text=True, timeout=120, cwd=tmp)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise RacerEnvError(f"racer check --droa: cannot run flake8 ({err})") from err
    if proc.returncode not in (0, 1) or (proc.returncode == 1 and not proc.stdout.strip()):
        raise RacerEnvError(f"racer check --droa: flake8 failed: {proc.stderr.strip()[-300:]} (pip install "
                            f"flake8=={FLAKE8_VERSION})")
    found = []
    for out in proc.stdout.splitlines():
        parts = out.split(":", 3)
        if len(parts) == 4 and parts[1].isdigit() and parts[2].isdigit():
            found.append((parts[0], int(parts[1]), int(parts[2]), parts[3]))
    return found


def _droa_flake8_message(code: str, row: int, text: str) -> str:
    """The message DRoA shows for a flake8 line: it prints ``code:row:text`` and splits it at every colon, so a
    message with a colon loses its first part (test_reward_function.py _parse_flake8_line)."""
    parts = f"{code}:{row}:{text}".split(":")
    return " : ".join(parts[3:]) if len(parts) > 3 else parts[2]


def _flake8(text: str) -> list[DroaFinding]:
    findings = []
    for code, row, col, message in _flake8_lines(text):
        shown = _droa_flake8_message(code, row, message)
        fix = _FLAKE8_FIXES.get(code, f"see what flake8 says of {code}")
        if code.startswith(_FIXABLE_PREFIXES) or code in _OWN_FIXES:
            fix += " (racer check --droa --fix does it)"
        if shown.strip() != message.strip():
            fix += (f"; DRoA splits flake8's message at its colon and shows only {shown.strip()!r} (its bug), "
                    f"without the code")
        rule = "syntax" if code in ("E999", "E902") else "flake8"
        if rule == "syntax":
            fix = "fix the syntax at this line (it is the first thing DRoA reports)"
        findings.append(DroaFinding(rule, code, row, f"{message} (column {col})", fix, shown.strip()))
    return findings


_IMPORT_FIXES = {
    "time": "a reward function has no use for the clock: DRoA refuses it; count steps with params['steps']",
    "os": "remove it: a reward function on DRoA cannot touch files or the environment",
    "sys": "remove it",
    "json": "write the data as a Python literal in the file instead of parsing JSON",
    "statistics": "write it with sum()/len() or numpy (np.mean, np.median, np.std)",
    "collections": "use a list or dict instead (deque -> list, defaultdict -> dict.get, namedtuple -> tuple)",
    "itertools": "write the loop out, or use numpy",
    "functools": "write the function out (lru_cache -> a module-level dict)",
    "typing": "remove the type hints that need it",
    "copy": "copy with list(x), dict(x) or [row[:] for row in x]",
    "__future__": "delete the `from __future__ import` line: Python 3.12 needs none of it",
}


def _imports(tree: ast.Module) -> list[DroaFinding]:
    """Every import of a module outside the allow-list (test_imports); a relative ``from . import`` crashes the
    check itself."""
    findings: list[DroaFinding] = []
    bad: list[tuple[int, str, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.ImportFrom) and node.module is None:
            findings.append(DroaFinding(
                "import-not-allowed", "relative", node.lineno,
                f"`from {'.' * node.level} import ...`: DRoA's import check crashes on an import without a "
                f"module name",
                "this is DRoA's bug (its Analyzer stores None for the module); a reward function is one file, so "
                "remove the relative import", "'NoneType' object has no attribute 'split'"))
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module] if node.module else []
        for name in names:
            top = name.split(".")[0]
            if top not in ALLOWED_IMPORTS:
                bad.append((node.lineno, top, name))
    full = sorted({name for _, _, name in bad})
    shown = ("The reward function contains illegal import(s): "
             f"{[n.split('.')[0] for n in full]}")
    for lineno, top, name in sorted(bad):
        findings.append(DroaFinding(
            "import-not-allowed", top, lineno,
            f"imports {name}: DRoA allows only {', '.join(ALLOWED_IMPORTS)}",
            _IMPORT_FIXES.get(top, "remove the import and write it with math, random, numpy, scipy or shapely"),
            shown))
    return findings


def _shape(node: ast.AST) -> str:
    """What DRoA's walker cannot take an attribute of, in words."""
    if isinstance(node, ast.Constant):
        return "a string literal" if isinstance(node.value, str) else "a literal"
    if isinstance(node, ast.Subscript):
        return "an item (x[i])"
    if isinstance(node, (ast.List, ast.Tuple, ast.Dict, ast.Set)):
        return "a list, tuple, dict or set written out"
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        return "a comprehension"
    if isinstance(node, ast.JoinedStr):
        return "an f-string"
    return f"an expression ({type(node).__name__})"


def _walk_calls(tree: ast.Module) -> tuple[list[tuple[str, int]], list[tuple[int, ast.AST, ast.AST]]]:
    """The dotted names DRoA's builtins walker collects, in its order, and where it would crash.

    DRoA's walker (test_reward_function.py parse, _parse_chain) takes each call or attribute whole: it follows
    ``.value`` of attributes and ``.func`` of calls down to a name, walking only the positional arguments of the
    calls on the way. When that chain ends in anything but a name (a string, a subscript, a bracketed
    expression), it joins None and fails with "can only join an iterable". Here the walk goes on past such a
    place, so that every place is found.

    Returns:
        (names, crashes): names as (dotted name, line); crashes as (line, the whole expression, the part that
        ends the chain).
    """
    names: list[tuple[str, int]] = []
    crashes: list[tuple[int, ast.AST, ast.AST]] = []

    def chain(node: ast.AST, tail: list[str]) -> list[str] | ast.AST:
        while True:
            if isinstance(node, ast.Name):
                return [node.id] + tail
            if isinstance(node, ast.Call):
                for arg in node.args:
                    visit(arg)
                node = node.func
            elif isinstance(node, ast.Attribute):
                tail = [node.attr] + tail
                node = node.value
            else:
                return node

    def visit(node: Any) -> None:
        if isinstance(node, (ast.Call, ast.Attribute)):
            got = chain(node, [])
            if isinstance(got, list):
                names.append((".".join(got), node.lineno))
            else:
                crashes.append((node.lineno, node, got))
            return
        for name in getattr(node, "_fields", ()):
            value = getattr(node, name, None)
            for item in (value if isinstance(value, list) else [value]):
                visit(item)

    visit(tree)
    return names, crashes


def _builtins(tree: ast.Module) -> list[DroaFinding]:
    names, crashes = _walk_calls(tree)
    findings = []
    for lineno, whole, part in crashes:
        shape = _shape(part)
        snippet = ast.unparse(whole)
        snippet = snippet if len(snippet) <= 50 else snippet[:47] + "..."
        findings.append(DroaFinding(
            "forbidden-builtin", "walker-crash", lineno,
            f"DRoA's builtins check crashes on `{snippet}`: an attribute or a call of {shape}",
            "this is DRoA's bug, not yours (its walker follows attributes and calls only down to a plain name); "
            "avoid it by giving the value a name first (`text = '...'` then `text.format(...)`, "
            "`point = waypoints[i]` then `point.copy()`), or use an f-string for formatting",
            "can only join an iterable"))
    forbidden = [name for name, _ in names if name in FORBIDDEN_BUILTINS]
    shown = f"The reward function contains forbidden builtins: {forbidden}"
    for name, lineno in names:
        if name in FORBIDDEN_BUILTINS:
            findings.append(DroaFinding(
                "forbidden-builtin", name, lineno, f"calls {name}(), which DRoA forbids",
                "remove it: a reward function cannot read files, ask for input or run code from strings on DRoA; "
                "write the data into the file as a literal", shown))
    return findings


_STRING_FIXES = {
    "load": "reword: 'download' -> 'fetch', 'payload' -> 'data', 'reload' -> 'refresh', 'loaded' -> 'read'; "
            "np.load cannot be used on DRoA: paste the data into the file",
    "save": "reword: 'saved' -> 'kept', 'save' -> 'keep' or 'store'; np.save cannot be used on DRoA",
    "__import__": "write an import statement at the top of the file",
}


def _strings(text: str) -> list[DroaFinding]:
    """Each forbidden substring in DRoA's order, once, with every line it is on; one whose every occurrence lies
    in an occurrence of an earlier one (loadtxt in load) is the same reason and is not repeated."""
    findings: list[DroaFinding] = []
    taken: list[tuple[int, int]] = []
    for s in FORBIDDEN_STRINGS:
        spans = [(m.start(), m.end()) for m in re.finditer(re.escape(s), text)]
        if not spans or all(any(a < e and b > st for st, e in taken) for a, b in spans):
            continue
        taken += spans
        lines = sorted({text.count("\n", 0, a) + 1 for a, _ in spans})
        also = f" (lines {', '.join(map(str, lines))})" if len(lines) > 1 else ""
        findings.append(DroaFinding(
            "forbidden-string", s, lines[0],
            f'contains "{s}"{also}: DRoA refuses it anywhere in the file, in names, strings and comments, even '
            f"inside a longer word",
            _STRING_FIXES.get(s, "remove it: numpy's file functions cannot be used on DRoA; paste the data into "
                                 "the file"),
            f'Your code snippet contains a restricted string "{s}" that is not allowed. Please remove or replace '
            f"the string and try again."))
    return findings


# --------------------------------------------------------------------------------------------- the calls
class _ImportAtCall(Exception):
    """What an import raises during DRoA's import-at-call test; its text is DRoA's (a DeepRacerError's JSON)."""

    def __init__(self, module: str):
        super().__init__(module)
        self.module = module

    def __str__(self) -> str:
        return json.dumps({"message": f"Import should be put at the top of file, module: {self.module}",
                           "type": "IMPORT_ERROR"})


def _refuse_import(name: str, *args: Any, **kwargs: Any) -> Any:
    raise _ImportAtCall(name)


@dataclass
class _Outcome:
    """One call of the reward function."""

    value: Any = None
    returned: bool = False
    exc: BaseException | None = None
    timed_out: bool = False
    line: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0


def _line_of(where: str) -> int:
    tail = where.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _call(rf: RewardFunction, params: dict[str, Any], refuse_imports: bool = False) -> _Outcome:
    """Call through racer_env's sandbox (its time limit included), keeping the raw value or the exception."""
    out = _Outcome()
    inner = rf.fn

    def traced(p: dict[str, Any]) -> Any:
        saved = builtins.__import__
        if refuse_imports:
            builtins.__import__ = _refuse_import
        try:
            out.value = inner(p)
            out.returned = True
            return out.value
        except BaseException as exc:
            out.exc = exc
            raise
        finally:
            builtins.__import__ = saved

    rf.fn = traced
    t0, c0 = time.perf_counter(), time.thread_time()
    try:
        rf(params)
    except RewardFunctionError as err:
        out.line = _line_of(err.where)
        if not out.returned and out.exc is not None and not isinstance(out.exc, (Exception, SystemExit,
                                                                                 KeyboardInterrupt)):
            out.timed_out = True  # racer_env's watchdog stopped it
    finally:
        rf.fn = inner
        out.wall_s, out.cpu_s = time.perf_counter() - t0, time.thread_time() - c0
    return out


def _return_line(path: Path, params: dict[str, Any], timeout_s: float) -> int:
    """The line of the ``return`` that gave reward_function's value on ``params`` (0 when unknown)."""
    rf = RewardFunction(path, stdout=Sink(), time_limit_s=timeout_s)
    code = getattr(rf.fn, "__code__", None)
    seen: list[int] = []

    def hook(frame: Any, event: str, arg: Any) -> None:
        if event == "return" and frame.f_code is code:
            seen.append(frame.f_lineno)

    sys.setprofile(hook)
    try:
        _call(rf, params)
    finally:
        sys.setprofile(None)
    return seen[-1] if seen else 0


def _last_line(exc: BaseException) -> str:
    """The last line of the exception's traceback, as DRoA's wrapper reads it."""
    lines = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).splitlines()
    return lines[-1] if lines else type(exc).__name__


def _wrapped_message(exc: BaseException) -> str:
    """The message DRoA's ``wrap`` makes of an exception: the text after the first colon of the traceback's
    last line; with no colon, its own split fails and that failure is the message (its bug)."""
    last = _last_line(exc)
    if ":" not in last:
        return "ValueError: not enough values to unpack (expected 2, got 1)"
    return last.split(":", 1)[1].strip()


def _exception_fix(exc: BaseException, state: str) -> str:
    if isinstance(exc, KeyError) and exc.args:
        key = exc.args[0]
        return (f"DRoA's canned states have no {key!r} key (the simulator passes it): read it with "
                f"params.get({key!r}, fallback), computing the fallback from keys DRoA has")
    if isinstance(exc, ZeroDivisionError):
        return ("guard the division: DRoA's states have steps 1, progress 0, speed 0.1 and distance_from_center 0, "
                "so `x / (steps - 1)` or `/ progress` divides by zero")
    if isinstance(exc, AssertionError):
        return ("do not assert on params: DRoA's states have heading 359.9, is_reversed True and steps 1; return a "
                "low reward instead")
    if isinstance(exc, (AttributeError, TypeError, ValueError, IndexError)):
        return (f"make the function work on DRoA's {state} state: there waypoints is a numpy array (N x 2) of the "
                f"inner border, not a list of tuples (it has no .index() and no truth value), and closest_objects "
                f"is [0, 1] with six objects")
    return f"make the function work on DRoA's {state} state (see the canned states in docs/reward-functions.md)"


def _stage_messages(state: str, reward: Any) -> str:
    """DRoA's message when the reward of a state is not a float in [-1e5, 1e5] (test_reward_function.py)."""
    return {
        "valid": f"Reward score out of range. Reward: {reward}, range: [-1e5, 1e5]",
        "start": f"Vehicle failed at start position. Reward: {reward}",
        "progress": f"Vehicle failed to make progress. Reward: {reward}",
        "off-track": f"Off-track vehicle failed to make progress. Reward: {reward}",
        "finish": f"Vehicle failed to make it to end of track. Reward: {reward}",
    }[state]


def _calls(path: Path, rows: np.ndarray, timeout_s: float, verdict: DroaVerdict) -> list[DroaFinding]:
    """The import-at-call suite and the runtime suite.

    The import-at-call test calls the function once on the valid state. The runtime suite's tests each reload the
    module and call it in a thread, all at once; here each test gets a fresh module and the calls run one after
    another, in the suite's order, with racer_env's time limit at ``timeout_s``. DRoA's threads share one
    interpreter, so the time they take adds up: the verdict is ``timeout`` when one call runs past the limit, or
    when the eight module loads and seven calls take more CPU time than the limit together.
    """
    findings: list[DroaFinding] = []
    states = canned_states(rows)
    notes = verdict.notes

    def load() -> tuple[RewardFunction | None, float, DroaFinding | None]:
        c0 = time.thread_time()
        try:
            rf = RewardFunction(path, stdout=Sink(), time_limit_s=timeout_s)
        except RewardFunctionError as err:
            cause = err.__cause__
            if cause is None or "failed while loading" not in str(err):
                raise  # no reward_function: bad input
            return None, 0.0, DroaFinding(
                "error", type(cause).__name__, _line_of(str(err).split(": failed while loading")[0]) or 1,
                f"raises {type(cause).__name__}: {cause} when DRoA imports the module",
                "make the module's top level run without errors (it runs before any call)",
                _wrapped_message(cause))
        return rf, time.thread_time() - c0, None

    # the import-at-call suite (TestImportsWithinModule)
    rf, _, failed = load()
    if rf is None:
        return [failed] if failed is not None else []
    first = _call(rf, states["valid"], refuse_imports=True)
    if first.exc is not None and not first.timed_out:
        exc = first.exc
        if isinstance(exc, _ImportAtCall):
            top = exc.module.split(".")[0] or exc.module
            findings.append(DroaFinding(
                "import-inside-function", top, first.line or 1,
                f"imports {exc.module} while the function runs on DRoA's valid state; DRoA refuses any import "
                f"during a call",
                f"put `import {top}` at the top of the file (if a library imports it on first use, call that "
                f"library once at import time)", f'Unsafe builtin function detected: "{exc}".'))
        else:
            findings.append(DroaFinding(
                "error", type(exc).__name__, first.line or 1,
                f"raises {type(exc).__name__}: {exc} on DRoA's valid state", _exception_fix(exc, "valid"),
                f'Unsafe builtin function detected: "{exc}".'))

    # the runtime suite (TestRewardFunction), in its order
    runtime: list[DroaFinding] = []
    fn = rf.fn
    def_line = getattr(getattr(fn, "__code__", None), "co_firstlineno", 1)
    try:
        count = len(inspect.signature(fn).parameters)
        if count != 1:
            runtime.append(DroaFinding(
                "signature", "parameters", def_line, f"reward_function takes {count} parameters, not one",
                "write `def reward_function(params):` (DRoA counts optional parameters too)",
                "Invalid reward function signature. Should be def reward_function(params)"))
    except (TypeError, ValueError) as err:
        runtime.append(DroaFinding("error", type(err).__name__, def_line, f"DRoA cannot read the signature: {err}",
                                   "define reward_function with def", _wrapped_message(err)))
    load_cpu, cpu, slow = [], 0.0, None
    # one reason per cause: the same exception at the same line, or the same wrong value from the same return,
    # in several states is one finding that names them (DRoA would show one state's message)
    grouped: dict[tuple, list[tuple[str, Any]]] = {}
    stage2_key = ((type(first.exc), str(first.exc), first.line) if first.exc is not None and not first.timed_out
                  else None)
    for state in STATES:
        if state == "valid" and first.timed_out:
            outcome = first
        else:
            rf, seconds, failed = load()
            load_cpu.append(seconds)
            if failed is not None or rf is None:
                continue
            outcome = _call(rf, states[state])
        calls = 3 if state == "valid" else 1  # test_all_imported_modules, test_return_type, test_reward_range
        cpu += calls * outcome.cpu_s
        if outcome.timed_out:
            slow = slow or (state, outcome.line or def_line)
            continue
        if outcome.exc is not None:
            exc = outcome.exc
            key = (type(exc), str(exc), outcome.line)
            if key != stage2_key:  # else the import-at-call test's reason, which DRoA shows first
                grouped.setdefault(("error",) + key, []).append((state, exc))
            continue
        reward = outcome.value
        if not isinstance(reward, float) or not -MAX_REWARD_ABS <= reward <= MAX_REWARD_ABS:
            line = _return_line(path, canned_states(rows)[state], timeout_s) or def_line
            kind = "not-a-float" if not isinstance(reward, float) else "out-of-range"
            if kind == "not-a-float" and _is_int(reward):
                verdict.int_returns.add(line)
            grouped.setdefault((kind, type(reward), line), []).append((state, reward))
    for key, seen in grouped.items():
        rule, line = str(key[0]), int(key[-1] or def_line)
        names = [state for state, _ in seen]
        where = (f"DRoA's {names[0]} state" if len(names) == 1 else
                 f"DRoA's {', '.join(names[:-1])} and {names[-1]} states")
        state, value = seen[0]
        if rule == "error":
            runtime.append(DroaFinding(
                "error", type(value).__name__, line, f"raises {type(value).__name__}: {value} on {where}",
                _exception_fix(value, state), _wrapped_message(value)))
        elif rule == "not-a-float":
            shown = (f"Method returned non-floating type value: {value}" if state == "valid"
                     else _stage_messages(state, value))
            runtime.append(DroaFinding(
                "not-a-float", state, line,
                f"returns {value!r} ({type(value).__name__}) on {where}; DRoA wants a float",
                f"return float(...) at this line{' (racer check --droa --fix does it)' if _is_int(value) else ''}"
                f"; DRoA's tests run in threads that finish in any order, so it may show "
                f"{_stage_messages(state, value)!r} or another state's message instead", shown))
        else:
            runtime.append(DroaFinding(
                "out-of-range", state, line, f"returns {value} on {where}, outside [-1e5, 1e5]",
                "bound the reward (min/max), and give the start, finish and off-track states a finite number",
                _stage_messages(state, value)))
    loads = 8 * (sum(load_cpu) / len(load_cpu) if load_cpu else 0.0)  # each of the 8 tests reloads the module
    together = cpu + loads
    if slow is None and together > timeout_s:
        slow = ("threads", def_line)
    if slow is not None:
        state, line = slow
        what = (f"a call on DRoA's {state} state ran past {timeout_s:g} s" if state != "threads" else
                f"DRoA's seven calls and eight module loads take {together:.1f} s of CPU together here, and its "
                f"threads share one interpreter")
        runtime.append(DroaFinding(
            "timeout", state, line, f"{what}; DRoA waits {timeout_s:g} s for its runtime tests",
            "make each call fast: precompute tables at import, cache what does not change, avoid loops over "
            "every waypoint on every call", "Timed Out"))
    elif together > timeout_s / 10:
        notes.append(f"DRoA's runtime tests take {together:.2f} s of CPU here; DRoA's Lambda (128 MB, a fraction of "
                     f"a CPU) is slower than this machine, and it gives up after {timeout_s:g} s")
    return findings + runtime


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, float)


# ---------------------------------------------------------------------------------------------- the check
def _read(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise RewardFunctionError(f"{path}: cannot read ({err.strerror})") from err
    if b"\x00" in raw:
        raise RewardFunctionError(f"{path}: not a Python file (binary data); expected a reward function")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise RewardFunctionError(f"{path}: not a Python file: byte {err.start} is not UTF-8 text") from err
    if not text.strip():
        raise RewardFunctionError(f"{path}: empty file; expected a reward function (def reward_function(params))")
    return text


def _defines_reward_function(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == "reward_function":
            return True
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "reward_function" for t in targets):
                return True
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if any((a.asname or a.name) == "reward_function" for a in node.names):
                return True
        if isinstance(node, (ast.If, ast.Try)):
            inner = [c for c in ast.iter_child_nodes(node) if isinstance(c, ast.stmt)]
            if _defines_reward_function(ast.Module(body=inner, type_ignores=[])):
                return True
    return False


def check_droa(reward: str | Path, track: str | Path | Track | None = None,
               timeout_s: float = TIMEOUT_S) -> DroaVerdict:
    """What DeepRacer on AWS would say of a reward file at upload: every reason, the first one DRoA shows first.

    Args:
        reward: the reward file, or the name of one in reward_functions/.
        track: the track whose route builds DRoA's canned states: a name, a file, or a loaded Track
            (default: plain ``racer check``'s, harbour_loop).
        timeout_s: how long the runtime tests may take [s]; DRoA's 5 s unless a test wants it shorter.

    Raises:
        RewardFunctionError: not a reward file: missing, binary or not UTF-8, empty, not Python (no
            ``def reward_function`` and no parse), or no reward_function once loaded.
        TrackFileError: the track is not found or is malformed.
    """
    t0 = time.perf_counter()
    path = reward_file(reward)
    text = _read(path)
    name, rows = _route(track)
    verdict = DroaVerdict(str(path), name)
    notes = verdict.notes
    try:
        tree: ast.Module | None = ast.parse(text, filename=str(path))
    except SyntaxError as err:
        if not re.search(r"^\s*def\s+reward_function\s*\(", text, re.M):
            raise RewardFunctionError(f"{path}:{err.lineno}: not Python ({err.msg}); expected a reward function "
                                      f"(def reward_function(params))") from err
        tree = None
    if tree is not None and not _defines_reward_function(tree):
        raise RewardFunctionError(f"{path}: defines no function reward_function(params)")
    findings = _too_large(text, notes) + _flake8(text)
    if tree is not None:
        findings += _imports(tree) + _builtins(tree)
    findings += _strings(text)
    if tree is not None:
        findings += _calls(path, rows, timeout_s, verdict)
    else:
        notes.append("the calls on DRoA's canned states were not tried: the file does not parse")
    verdict.findings = findings
    if sys.version_info[:2] < DROA_PYTHON and re.search(r"(?i)(?<!\w)(?:rf|fr|f)['\"][^\n]*\{", text):
        notes.append(f"this is Python {sys.version_info[0]}.{sys.version_info[1]}; DRoA lints with Python 3.12, "
                     f"whose flake8 also checks the spaces inside f-strings' braces ({{a,b}} -> E231, {{ a }} -> "
                     f"E201): check those by hand, or run racer check --droa under Python 3.12 or later")
    try:
        from importlib.metadata import version

        installed = version("flake8")
    except Exception:  # noqa: BLE001 - the metadata of an odd install
        installed = "unknown"
    if installed != FLAKE8_VERSION:
        notes.append(f"flake8 {installed} is installed; DRoA runs flake8 {FLAKE8_VERSION}, so the style codes may "
                     f"differ (pip install flake8=={FLAKE8_VERSION})")
    if name not in DROA_TRACKS:
        notes.append(f"{name} is not one of DRoA's tracks; its canned states were built from {name}'s route the way "
                     f"DRoA builds them from its own (pass --track with the DRoA track you will train on, such as "
                     f"reinvent_base: racer_env ships all {len(DROA_TRACKS)})")
    verdict.seconds = time.perf_counter() - t0
    return verdict


# ------------------------------------------------------------------------------------------------ --fix
@dataclass
class DroaFix:
    """What ``racer check --droa --fix`` did: the copy it wrote, its changes and the copy's verdict."""

    copy: Path | None
    changes: list[str]
    verdict: DroaVerdict
    """DRoA's verdict on the copy (on the original when nothing could be fixed): what is left for the racer."""

    def to_json(self) -> dict[str, Any]:
        return {"copy": str(self.copy) if self.copy else None, "changes": self.changes,
                "droa": self.verdict.to_json()}


def _wrap_float(text: str, lines: set[int]) -> tuple[str, list[str]]:
    """Make reward_function's ``return`` statements give a float where they certainly give an int: an int
    literal becomes a float literal, and a return on ``lines`` (one that gave an int on a canned state) has its
    value wrapped in float(). Returns of nested functions are left alone."""
    tree = ast.parse(text)
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "reward_function"), None)
    if fn is None:
        return text, []
    returns: list[ast.Return] = []

    def collect(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue
            if isinstance(child, ast.Return):
                returns.append(child)
            collect(child)

    collect(fn)
    src = text.splitlines(keepends=True)
    edits = []
    for ret in returns:
        v = ret.value
        if v is None or v.end_lineno is None or v.end_col_offset is None:
            continue
        literal = isinstance(v, ast.Constant) and type(v.value) is int
        negative = (isinstance(v, ast.UnaryOp) and isinstance(v.op, ast.USub)
                    and isinstance(v.operand, ast.Constant) and type(v.operand.value) is int)
        observed = any(ret.lineno <= line <= (ret.end_lineno or ret.lineno) for line in lines)
        already = isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "float"
        if already or not (literal or negative or observed):
            continue
        new = (repr(float(ast.literal_eval(v))) if literal or negative
               else f"float({ast.get_source_segment(text, v)})")
        edits.append((_offset(src, v.lineno, v.col_offset), _offset(src, v.end_lineno, v.end_col_offset),
                      ret.lineno, new))
    joined = "".join(src)
    for start, end, _, new in sorted(edits, reverse=True):
        joined = joined[:start] + new + joined[end:]
    return joined, [f"line {line}: return {new}" for _, _, line, new in sorted(edits)]


def _offset(src: list[str], lineno: int, col: int) -> int:
    """The character offset in the joined lines of (line, column in UTF-8 bytes), as the ast gives them."""
    line = src[lineno - 1]
    return sum(len(s) for s in src[:lineno - 1]) + len(line.encode("utf-8")[:col].decode("utf-8", "replace"))


def _line_fixes(text: str) -> tuple[str, list[str]]:
    """The line-by-line fixes of one flake8 run, each certain not to change what the function computes: unused
    imports (F401) and ``global`` statements of names never assigned (F824) removed (``pass`` where the statement
    is alone in its block), ``except:`` written ``except BaseException:`` (E722), ``except X as e`` with e unused
    written ``except X`` (F841), and the comments: ``#### x`` written ``# x`` (E266), an over-indented comment
    indented as the code after it (E117). Line numbers in the changes are the file's."""
    report = _flake8_lines(text)
    if not report:
        return text, []
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    alone = {id(body[0]) for node in ast.walk(tree) for name in ("body", "orelse", "finalbody", "handlers")
             for body in [getattr(node, name, None)] if isinstance(body, list) and len(body) == 1}
    statements: dict[int, list[ast.AST]] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.Global, ast.ExceptHandler)):
            statements.setdefault(node.lineno, []).append(node)
    unused: dict[int, set[str]] = {}
    changes: list[tuple[int, str]] = []
    for code, row, _, message in report:
        line = lines[row - 1]
        indent = line[:len(line) - len(line.lstrip())]
        if code == "E722":
            new = re.sub(r"\bexcept\s*:", "except BaseException:", line, count=1)
            if new != line:
                lines[row - 1] = new
                changes.append((row, f"line {row}: except BaseException: (E722)"))
        elif code == "E266" and line.lstrip().startswith("##"):
            lines[row - 1] = indent + "# " + line.lstrip().lstrip("#").lstrip(" ")
            changes.append((row, f"line {row}: one '#' to start the comment (E266)"))
        elif code == "E117" and line.lstrip().startswith("#"):
            after = next((s for s in lines[row:] if s.strip() and not s.lstrip().startswith("#")), "")
            lines[row - 1] = after[:len(after) - len(after.lstrip())] + line.lstrip()
            changes.append((row, f"line {row}: the comment indented as its code (E117)"))
        elif code == "F841":
            m = re.match(r"local variable '(\w+)' is assigned to but never used", message)
            handlers = [n for n in statements.get(row, []) if isinstance(n, ast.ExceptHandler)]
            if m and handlers and handlers[0].name == m.group(1):
                new = re.sub(rf"\s+as\s+{m.group(1)}\s*:", ":", line, count=1)
                if new != line:
                    lines[row - 1] = new
                    changes.append((row, f"line {row}: except without the unused `as {m.group(1)}` (F841)"))
        elif code in ("F401", "F824"):
            m = (re.match(r"'(.+)' imported but unused", message) if code == "F401"
                 else re.match(r"`global (.+)` is unused", message))
            if m:
                unused.setdefault(row, set()).add(m.group(1))
    for row, gone in unused.items():
        nodes = [n for n in statements.get(row, []) if isinstance(n, (ast.Import, ast.ImportFrom, ast.Global))]
        if len(nodes) != 1 or getattr(nodes[0], "end_lineno", row) != row:
            continue  # two statements on one line, or one over several lines: left as they are
        node = nodes[0]
        line = lines[row - 1]
        indent = line[:len(line) - len(line.lstrip())]
        ending = "\n" if line.endswith("\n") else ""
        if isinstance(node, ast.Global):
            names = [n for n in node.names if n not in gone]
            kept = f"{indent}global {', '.join(names)}{ending}" if names else None
            what = f"the unused `global {', '.join(sorted(gone))}` (F824)"
        else:
            def named(alias: ast.alias, node: ast.Import | ast.ImportFrom = node) -> str:
                base = alias.name if isinstance(node, ast.Import) else f"{node.module}.{alias.name}"
                return f"{base} as {alias.asname}" if alias.asname else base

            keep = [a for a in node.names if named(a) not in gone]
            if len(keep) == len(node.names):
                continue
            head = "import " if isinstance(node, ast.Import) else f"from {'.' * node.level}{node.module or ''} import "
            kept = (f"{indent}{head}{', '.join(f'{a.name} as {a.asname}' if a.asname else a.name for a in keep)}"
                    f"{ending}") if keep else None
            what = f"the unused import of {', '.join(sorted(named(a) for a in node.names if a not in keep))} (F401)"
        lines[row - 1] = kept if kept is not None else (f"{indent}pass{ending}" if id(node) in alone else "")
        changes.append((row, f"line {row}: removed {what}"))
    return "".join(lines), [c for _, c in sorted(changes)]


def _autopep8(text: str) -> tuple[str, list[str]]:
    """autopep8 on the indentation, whitespace, blank-line and comment codes flake8 reports, until none is left
    (three passes at most)."""
    import autopep8

    fixed_codes: dict[str, int] = {}
    for _ in range(3):
        before = [code for code, *_ in _flake8_lines(text)
                  if code.startswith(_FIXABLE_PREFIXES) and code not in _OWN_FIXES]
        if not before:
            break
        codes = sorted(set(before))
        fixed = autopep8.fix_code(text, options={"select": codes, "ignore": [], "max_line_length": 10_000})
        if fixed == text:
            break
        after = [code for code, *_ in _flake8_lines(fixed) if code in codes]
        for code in codes:
            fixed_codes[code] = fixed_codes.get(code, 0) + max(0, before.count(code) - after.count(code))
        text = fixed
    return text, [f"{code} x{n}: {_FLAKE8_FIXES.get(code, code)} (autopep8)" for code, n in sorted(fixed_codes.items())
                  if n]


def fix_droa(reward: str | Path, track: str | Path | Track | None = None, timeout_s: float = TIMEOUT_S,
             out: Path | None = None, before: DroaVerdict | None = None) -> DroaFix:
    """Write a copy of the reward file with what DRoA rejects and can be fixed mechanically, then check the copy.

    Fixed: the int returns of reward_function (wrapped in float() where the canned states showed an int, and int
    literals), unused imports (F401), and with autopep8 the indentation, whitespace, blank-line and comment
    codes, statements after a colon or semicolon, and the bare except. Nothing that can change what the function
    computes is touched.

    Args:
        reward: the reward file, or the name of one in reward_functions/.
        track: as for :func:`check_droa`.
        timeout_s: as for :func:`check_droa`.
        out: where to write the copy (default: ``NAME_droa.py`` beside the file).
        before: the file's verdict, when it is already known (it is checked otherwise).

    Raises:
        RewardFunctionError, TrackFileError: as :func:`check_droa`.
    """
    path = reward_file(reward)
    before = before or check_droa(path, track, timeout_s)
    text = path.read_text(encoding="utf-8")
    changes: list[str] = []
    try:
        ast.parse(text)
    except SyntaxError:
        return DroaFix(None, [], before)
    text, done = _wrap_float(text, before.int_returns)
    changes += done
    text, done = _line_fixes(text)
    changes += done
    text, done = _autopep8(text)
    changes += done
    text, done = _line_fixes(text)  # what autopep8's reindenting uncovered
    changes += [c.replace("line ", "copy line ", 1) for c in done]
    if not changes:
        return DroaFix(None, [], before)
    copy = out or path.with_name(f"{path.stem}_droa.py")
    copy.write_text(text, encoding="utf-8")
    return DroaFix(copy, changes, check_droa(copy, track, timeout_s))


# ----------------------------------------------------------------------------------------------- printing
def show_droa(verdict: DroaVerdict, print_line: Callable[[str], None] = print, label: str | None = None) -> None:
    """Print a verdict: the finding DRoA shows first, marked, then the other reasons, the notes.

    Args:
        verdict: from :func:`check_droa`.
        print_line: where each line goes (default: print).
        label: the file's name to print (default: ``verdict.path``).
    """
    name = label or verdict.path
    where = f"(DRoA {RELEASE}'s check, canned states on {verdict.track})"
    if verdict.accepted:
        print_line(f"DeepRacer on AWS would accept {name} {where}")
    else:
        n = len(verdict.findings)
        print_line(f"DeepRacer on AWS would reject {name} {where}: {n} reason{'s' if n != 1 else ''}")
        for i, f in enumerate(verdict.findings):
            mark = "  <- DRoA shows this one: " + repr(f.shown) if i == verdict.first else ""
            print_line(f"{name}:{f.line}: [{f.rule} {f.code}] {f.message}{mark}")
            print_line(f"    fix: {f.fix}")
    for note in verdict.notes:
        print_line(f"note: {note}")


def show_fix(fixed: DroaFix, print_line: Callable[[str], None] = print) -> None:
    """Print what ``--fix`` changed, where the copy is, and what is left for the racer."""
    if fixed.copy is None:
        print_line("--fix: nothing here can be fixed mechanically; what DRoA rejects is left for you:")
    else:
        print_line(f"--fix: wrote {fixed.copy} with {len(fixed.changes)} change{'s' if len(fixed.changes) != 1 else ''}:")
        for change in fixed.changes:
            print_line(f"  {change}")
    if fixed.verdict.accepted:
        print_line(f"{fixed.copy}: nothing is left; DeepRacer on AWS would accept it")
        return
    show_droa(fixed.verdict, print_line)


def write_droa_report(verdict: DroaVerdict, out: Path, fixed: DroaFix | None = None) -> Path:
    """``out/report.json`` for ``racer check --droa``: the file, the track, the verdict (and what --fix did)."""
    data: dict[str, Any] = {"reward": verdict.path, "track": verdict.track, "failed": not verdict.accepted,
                            "droa": verdict.to_json()}
    if fixed is not None:
        data["droa_fix"] = fixed.to_json()
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.json"
    path.write_text(json.dumps(data, indent=2))
    return path


def explain_rule(name: str) -> str:
    """``racer check --explain RULE`` for one of DRoA's rules: what it checks, why, the fix, where it comes from."""
    r = RULES[name]
    return (f"[{r.name}] DeepRacer on AWS ({RELEASE}), {r.stage} stage: {r.checks}.\n\nWhy: {r.why}.\n\n"
            f"Fix: {r.fix}.\n\nSource: aws-solutions/deepracer-on-aws {RELEASE}, "
            f"{r.source if r.source.startswith('source/') else _VALIDATOR + r.source}\n")
