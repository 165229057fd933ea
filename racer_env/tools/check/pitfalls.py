"""DeepRacer's known reward-function pitfalls, found in the code and in its behaviour, each named with its line.

Reading the code uses :mod:`racer_env.tools.check.dataflow` (where each params value flows). Where a pitfall
shows in behaviour, the check drives the function instead, which has no false positives: the same episode
driven twice (state that leaks between episodes), the output of every call, the rewards of a lap, the
battery's failures. Every finding reads ``FILE:LINE: [name] what is wrong, and why it matters on DeepRacer;
fix: what to write instead``; ``racer check --explain NAME`` prints the catalogue's longer account.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from racer_env.constants import STEP_HZ
from racer_env.env.actions import ActionSpec
from racer_env.env.environment import RacerEnv
from racer_env.env.rewards import RewardFunction
from racer_env.errors import RacerEnvError, TrackFileError
from racer_env.sim.drivers import PurePursuit
from racer_env.sim.track import Track, read_rows, road_share, track_files
from racer_env.tools.check.battery import BatteryReport
from racer_env.tools.check.dataflow import Flow, analyse

__all__ = ["Finding", "Pitfall", "CATALOGUE", "read_code", "observe_behaviour", "explain"]


@dataclass(frozen=True)
class Pitfall:
    """One entry of the catalogue."""

    name: str
    summary: str
    why: str
    fix: str
    example: str
    fixed: str


@dataclass(frozen=True)
class Finding:
    """A pitfall found at a line of the reward file."""

    name: str
    line: int
    message: str
    """What is wrong and why it matters on DeepRacer, then "; fix: " and what to write instead."""

    def text(self, path: str | Path) -> str:
        return f"{path}:{self.line}: [{self.name}] {self.message}"


CATALOGUE: dict[str, Pitfall] = {p.name: p for p in (
    Pitfall("first-call-steps", "state set, or a branch taken, only when steps is 0 or 1",
            "The simulator's first reward call of an episode sees steps == 2.0: step 1 is the prepare step, which "
            "calls no reward function (spec §1.5). A branch on steps == 1 never runs, so the state it would set "
            "stays unset, and the function misbehaves or raises later (the K1999 class Reward raises a TypeError "
            "on None this way).",
            "test for the first call with `params['steps'] <= 2`, or set the state up at import time",
            "if params['steps'] == 1:\n    STATE['first_waypoint'] = params['closest_waypoints'][1]",
            "if params['steps'] <= 2:  # the first reward call of an episode\n"
            "    STATE['first_waypoint'] = params['closest_waypoints'][1]"),
    Pitfall("empty-objects", "objects_* or closest_objects indexed with no guard",
            "In a time trial there are no objects: the objects_* lists are empty and closest_objects is [0, 0], "
            "so objects_location[closest_objects[1]] raises IndexError, which ends the job on AWS.",
            "guard it: `if params['objects_location']:` before indexing",
            "ox, oy = params['objects_location'][params['closest_objects'][1]]",
            "if params['objects_location']:\n    ox, oy = params['objects_location'][params['closest_objects'][1]]"),
    Pitfall("heading-degrees", "math.sin, cos or tan of heading or steering_angle without conversion",
            "heading and steering_angle are in degrees; math.sin, cos, tan and numpy's take radians, so "
            "math.cos(heading) of a car heading 90° is cos(90 rad) = -0.45, not 0.",
            "convert first: `math.cos(math.radians(heading))`",
            "along = math.cos(params['heading'] - track_direction)",
            "along = math.cos(math.radians(params['heading']) - track_direction)"),
    Pitfall("objects-heading-units", "objects_heading treated as degrees",
            "objects_heading is in radians (spec objects §6.5), though AWS's docs say degrees: converting it with "
            "math.radians, comparing it with heading (degrees) or with 90 or 180 gives nonsense.",
            "use it as radians: `math.degrees(params['objects_heading'][i])` to compare with heading",
            "same_way = abs(params['objects_heading'][i] - params['heading']) < 30",
            "same_way = abs(math.degrees(params['objects_heading'][i]) - params['heading']) < 30"),
    Pitfall("objects-distance-meaning", "objects_distance[i] used as the distance from the car",
            "objects_distance is each object's distance along the centre line from waypoint 0 (spec objects §6.2, "
            "§8), not from the car: `objects_distance[i] < 0.8` is true only for objects within 0.8 m after the "
            "start line. The console's default object-avoidance function has this bug. progress x track_length "
            "does not give the car's position either: progress counts from where the episode started.",
            "subtract the car's own `params['projection_distance']` (wrapping at track_length), or use the "
            "distance from objects_location[i] to x, y",
            "if params['objects_distance'][nxt] < 0.8:\n    reward *= 0.5",
            "gap = (params['objects_distance'][nxt] - params['projection_distance']) % params['track_length']\n"
            "if gap < 0.8:\n    reward *= 0.5"),
    Pitfall("tuple-in-range", "a waypoint (an (x, y) tuple) compared with numbers",
            "waypoints[i] is an (x, y) tuple: `waypoints[i] in range(10, 20)`, `prev_point in range(1, 6)`, "
            "`point in list(range(a, b))`, `point in [3, 4, 5]` or `point in STRAIGHT` (a list of waypoint "
            "indices) is always False, so the branch never runs.",
            "compare the index: `params['closest_waypoints'][1] in range(10, 20)`",
            "prev_point = params['waypoints'][params['closest_waypoints'][0]]\nif prev_point in range(1, 6):",
            "prev_index = params['closest_waypoints'][0]\nif prev_index in range(1, 6):"),
    Pitfall("float-equality", "== or != between a continuous param and a number",
            "speed, steering_angle, progress, heading and the distances are floats: with a continuous action "
            "space speed == 2 is never true; with a discrete one only the actions of exactly that value match.",
            "compare within a tolerance: `abs(params['speed'] - 2.0) < 0.1`",
            "if params['speed'] == 2:\n    reward += 1",
            "if abs(params['speed'] - 2.0) < 0.1:\n    reward += 1"),
    Pitfall("state-leak", "module or instance state that carries over from one episode to the next",
            "A DeepRacer worker keeps the reward module loaded from episode to episode: a counter, a list or a "
            "best-so-far that is never reset makes the same driving pay differently as training goes on.",
            "reset the state when a new episode starts: `if params['steps'] <= 2: STATE.clear()`",
            "BEST = {'progress': 0.0}\ndef reward_function(params):\n"
            "    gain = params['progress'] - BEST['progress']  # pays nothing after the first lap\n"
            "    BEST['progress'] = max(BEST['progress'], params['progress'])\n    return max(gain, 0.0) + 0.01",
            "BEST = {'progress': 0.0}\ndef reward_function(params):\n    if params['steps'] <= 2:  # a new episode\n"
            "        BEST['progress'] = 0.0\n    gain = params['progress'] - BEST['progress']\n"
            "    BEST['progress'] = max(BEST['progress'], params['progress'])\n    return max(gain, 0.0) + 0.01"),
    Pitfall("track-mismatch", "an embedded racing line or waypoint tables that do not fit the track",
            "A racing line pasted from another track, waypoint indices beyond len(waypoints), or a "
            "len(waypoints) switch with no branch for this track: the function pays for a line the car cannot "
            "drive, or falls through to its default on every step.",
            "compute the line for this track (`racer raceline TRACK`) and paste it, or check --track",
            "RACING_LINE = [[3.06, 0.68], ...]  # computed for another track",
            "RACING_LINE = [...]  # racer raceline THIS_TRACK --out DIR; DIR/raceline.py"),
    Pitfall("print-every-step", "output on every call",
            "On DeepRacer every print goes into the simulation log, which is kept and searched: printing on "
            "every call fills it (hundreds of kilobytes a lap) and slows the job.",
            "print only while debugging, or on rare events (an off-track, a lap)",
            "print(params)",
            "if params['is_offtrack']:\n    print('off track at', params['closest_waypoints'])"),
    Pitfall("reward-range", "rewards beyond ±1e5, or a range so large that one term swamps the rest",
            "A reward outside [-1e5, 1e5] ends the job on AWS. A lap bonus larger than the whole lap's other "
            "rewards teaches little but the bonus: the steps that lead to it earn next to nothing in comparison.",
            "keep each term in proportion: a bonus of the order of a lap's reward, not thousands of times a step's",
            "if params['progress'] == 100:\n    return 10000.0",
            "if params['progress'] == 100:\n    return 100.0  # about a lap's worth of per-step rewards"),
    Pitfall("units-progress", "progress (0-100 %) compared with a length in metres or a fraction",
            "progress is a percentage of the lap counted from the episode's start, not metres and not a fraction: "
            "`progress > track_length / 2` compares percent with metres, `progress > 0.5` is true after half a "
            "percent.",
            "compare like with like: `params['progress'] > 50`, or metres with `params['projection_distance']`",
            "if params['progress'] > params['track_length'] / 2:",
            "if params['progress'] > 50:"),
    Pitfall("radians-heading-mix", "an atan2 angle (radians) compared with heading (degrees)",
            "math.atan2 returns radians and heading is in degrees: `abs(math.atan2(dy, dx) - heading)` mixes "
            "units, so the 'direction difference' is mostly heading itself. Many copies of the waypoint-direction "
            "example drop the math.degrees.",
            "convert: `math.degrees(math.atan2(dy, dx))` before comparing with heading",
            "direction = math.atan2(y2 - y1, x2 - x1)\ndiff = abs(direction - params['heading'])",
            "direction = math.degrees(math.atan2(y2 - y1, x2 - x1))\ndiff = abs(direction - params['heading'])"),
)}

_CONTINUOUS = {"speed", "steering_angle", "heading", "progress", "distance_from_center", "track_width", "x", "y",
               "projection_distance", "objects_distance", "objects_distance_from_center"}
_METRES = {"track_length", "track_width", "distance_from_center", "projection_distance", "x", "y",
           "objects_distance"}


def _finding(name: str, line: int, what: str, fix: str | None = None) -> Finding:
    """A finding with the catalogue's fix, or ``fix`` written for the line found."""
    return Finding(name, line, f"{what}; fix: {fix or CATALOGUE[name].fix}")


def _number(node: ast.expr) -> float | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _number(node.operand)
        return -inner if inner is not None else None
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    return None


def _numbers(node: ast.expr) -> list[float] | None:
    """The numbers of a number, a literal collection of numbers, or range(...) with literal bounds."""
    n = _number(node)
    if n is not None:
        return [n]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and node.elts:
        values = [_number(e) for e in node.elts]
        return [v for v in values if v is not None] if all(v is not None for v in values) else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
        bounds = [_number(a) for a in node.args]
        if bounds and all(b is not None for b in bounds):
            b = [int(v) for v in bounds if v is not None]
            return [float(v) for v in range(*b)] if len(b) <= 3 else None
    return None


_COLLECTIONS = {"list", "set", "tuple", "frozenset", "sorted", "reversed"}


def _whole_numbers(node: ast.expr, tree: ast.Module, seen: frozenset[str] = frozenset()) -> bool:
    """Is ``node`` a collection of whole numbers: a literal of them, ``range(...)`` (any bounds), ``list``/``set``/
    ``tuple``/``sorted`` of one, a comprehension over one, a sum of them, or a name every assignment of which
    (in the module, at any level) is one?"""
    nums = _numbers(node)
    if nums is not None and not isinstance(node, ast.Constant) and not isinstance(node, ast.UnaryOp):
        return all(v == int(v) for v in nums)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id == "range":
            return True
        if node.func.id in _COLLECTIONS and len(node.args) == 1:
            return _whole_numbers(node.args[0], tree, seen)
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)) and len(node.generators) == 1:
        gen = node.generators[0]
        return isinstance(node.elt, ast.Name) and isinstance(gen.target, ast.Name) and \
            node.elt.id == gen.target.id and _whole_numbers(gen.iter, tree, seen)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _whole_numbers(node.left, tree, seen) and _whole_numbers(node.right, tree, seen)
    if isinstance(node, ast.Name) and node.id not in seen:
        values = [n.value for n in ast.walk(tree) if isinstance(n, ast.Assign)
                  and any(isinstance(t, ast.Name) and t.id == node.id for t in n.targets)]
        return bool(values) and all(_whole_numbers(v, tree, seen | {node.id}) for v in values)
    return False


def _src(node: ast.AST, source: str) -> str:
    """The code of ``node`` on one line, at most 70 characters (as ``ast.unparse`` writes it)."""
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= 70 else text[:67] + "..."


def read_code(source: str, track: Track, actions: ActionSpec) -> list[Finding]:
    """The pitfalls visible in the code of a reward function checked on ``track`` with ``actions``."""
    try:
        flow = analyse(source)
    except SyntaxError:
        return []  # a load error is reported by the check itself
    found: list[Finding] = []
    for node in ast.walk(flow.tree):
        scope = flow.scope_of(node)
        if isinstance(node, ast.Compare):
            found += _compare(flow, node, scope, source, track, actions)
        elif isinstance(node, ast.Call):
            found += _call(flow, node, scope, source)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Sub, ast.Add)):
            found += _mixed_units(flow, node.left, node.right, node, scope, source)
    found += _embedded_lines(flow, track)
    unique: dict[tuple[str, int], Finding] = {}
    for f in found:
        unique.setdefault((f.name, f.line), f)
    return _grouped(sorted(unique.values(), key=lambda f: (f.line, f.name)), "objects-distance-meaning")


def _grouped(findings: list[Finding], name: str) -> list[Finding]:
    """One finding of ``name`` at its first line, naming the others: one misreading, one fix."""
    same = [f for f in findings if f.name == name]
    if len(same) < 2:
        return findings
    first = same[0]
    what, fix = first.message.split("; fix: ", 1)
    also = ", ".join(str(f.line) for f in same[1:])
    merged = Finding(name, first.line, f"{what} (also on line{'s' if len(same) > 2 else ''} {also}); fix: {fix}")
    return [merged if f is first else f for f in findings if f.name != name or f is first]


def _compare(flow: Flow, node: ast.Compare, scope: str, source: str, track: Track,
             actions: ActionSpec) -> list[Finding]:
    out: list[Finding] = []
    sides = [node.left, *node.comparators]
    for op, left, right in zip(node.ops, sides, sides[1:]):
        for a, b, flipped in ((left, right, False), (right, left, True)):
            tags, nums = flow.tags(a, scope), _numbers(b)
            code = _src(node, source)
            if "steps" in tags and not tags & {"arith", "delta"} and nums is not None and \
                    _first_call_only(op, nums, flipped):
                when = " or ".join(str(v) for v in (0, 1) if _holds(op, float(v), nums, flipped))
                out.append(_finding("first-call-steps", node.lineno,
                                    f"`{code}` holds only when steps is {when}; the "
                                    f"simulator's first call sees steps == 2.0 (step 1 is the prepare step), so "
                                    f"this never happens"))
            member = isinstance(op, (ast.In, ast.NotIn)) and not flipped
            if "waypoint" in tags and (nums is not None or (member and _whole_numbers(b, flow.tree))):
                out.append(_finding("tuple-in-range", node.lineno,
                                    f"`{code}` compares a waypoint, an (x, y) tuple, with numbers: always "
                                    f"{'True' if isinstance(op, (ast.NotIn, ast.NotEq)) else 'False'}"))
            if isinstance(op, (ast.Eq, ast.NotEq)) and nums is not None and len(nums) == 1 and not flipped:
                f = _float_equality(tags, nums[0], node, code, actions)
                if f is not None:
                    out.append(f)
            if "objects_heading" in tags and not tags & {"rad→deg", "heading"} and nums is not None and \
                    any(abs(v) > 2 * math.pi for v in nums):
                out.append(_finding("objects-heading-units", node.lineno,
                                    f"`{code}` compares objects_heading with {max(abs(v) for v in nums):g}: it is in "
                                    f"radians (-pi to pi), not degrees as AWS's docs say"))
            near = (nums is not None and any(0 < abs(v) <= 10 for v in nums)) or \
                (nums is None and flow.tags(b, scope) & {"track_width", "distance_from_center"})
            if "objects_distance" in tags and not (tags & {"projection_distance", "x", "y", "progress"}) \
                    and near and not flipped:
                out.append(_finding("objects-distance-meaning", node.lineno,
                                    f"`{code}` treats objects_distance as the distance from the car: it is the "
                                    f"object's distance along the centre line from waypoint 0, so this holds "
                                    f"only near the start line"))
            if "progress" in tags and not tags & {"per100", "arith", "delta"} and nums is not None and not flipped and \
                    any(0 < v < 1 and v != int(v) for v in nums):
                out.append(_finding("units-progress", node.lineno,
                                    f"`{code}` compares progress, a percentage (0-100), with a fraction"))
            out += _track_switch(flow, a, b, node, scope, track)
        out += _mixed_units(flow, left, right, node, scope, source)
    return out


def _holds(op: ast.cmpop, steps: float, nums: list[float], flipped: bool) -> bool:
    """Does ``steps OP nums`` (``nums OP steps`` when flipped) hold for this value of steps?"""
    if isinstance(op, (ast.In, ast.NotIn)):
        return (steps in nums) == isinstance(op, ast.In)
    a, b = (nums[0], steps) if flipped else (steps, nums[0])
    return {ast.Eq: a == b, ast.NotEq: a != b, ast.Lt: a < b, ast.LtE: a <= b, ast.Gt: a > b,
            ast.GtE: a >= b}.get(type(op), False)


def _first_call_only(op: ast.cmpop, nums: list[float], flipped: bool) -> bool:
    """Does ``steps OP nums`` hold when steps is 0 or 1, and for none of the steps the simulator passes?"""
    if len(nums) != 1 and not isinstance(op, (ast.In, ast.NotIn)):
        return False
    early = any(_holds(op, v, nums, flipped) for v in (0.0, 1.0))
    return early and not any(_holds(op, v, nums, flipped) for v in (2.0, 3.0, 10.0, 100.0, 1e4))


_TOLERANCE = {"speed": 0.1, "steering_angle": 1.0, "heading": 1.0, "progress": 0.5}
"""A tolerance for the fix of a float-equality finding, in the param's unit; metres otherwise (0.01)."""


def _float_equality(tags: frozenset[str], value: float, node: ast.Compare, code: str,
                    actions: ActionSpec) -> Finding | None:
    keys = tags & _CONTINUOUS
    if not keys or tags & {"steps", "closest_waypoints", "closest_objects", "int"}:
        return None
    if keys == {"progress"} and value in (0.0, 100.0):
        return None  # progress is exactly 100 on the step that completes a lap
    left = ast.unparse(node.left)
    tolerance = _TOLERANCE.get(min(keys), 0.01) if len(keys) == 1 else 0.01
    near = f"abs({left})" if value == 0 else f"abs({left} - {value:g})"
    fix = f"compare within a tolerance: `{near} {'<' if isinstance(node.ops[0], ast.Eq) else '>='} {tolerance:g}`"
    if keys <= {"speed", "steering_angle"} and len(keys) == 1 and not tags & {"deg→rad", "per100", "arith"}:
        (key,) = keys
        if actions.discrete is not None:
            index = 1 if key == "speed" else 0
            if any(a[index] == value for a in actions.discrete):
                return None  # the discrete space has actions of exactly that value
            values = sorted({a[index] for a in actions.discrete})
            return _finding("float-equality", node.lineno,
                            f"`{code}`: no action of your discrete space has {key} {value:g} (they have "
                            f"{', '.join(f'{v:g}' for v in values)}), so this is never true", fix)
        return _finding("float-equality", node.lineno,
                        f"`{code}`: with a continuous action space {key} is never exactly {value:g}", fix)
    return _finding("float-equality", node.lineno,
                    f"`{code}` compares {', '.join(sorted(keys))}, a continuous value, with exactly {value:g}: "
                    f"almost never true", fix)


def _call(flow: Flow, node: ast.Call, scope: str, source: str) -> list[Finding]:
    name = _name_of_call(node)
    if not node.args:
        return []
    tags = flow.tags(node.args[0], scope)
    code = _src(node, source)
    if name in ("sin", "cos", "tan") and tags & {"heading", "steering_angle"} and \
            not tags & {"deg→rad", "atan2"}:
        key = "heading" if "heading" in tags else "steering_angle"
        arg = _src(node.args[0], source)
        return [_finding("heading-degrees", node.lineno,
                         f"`{code}` applies {name} to {key}, which is in degrees; {name} takes radians",
                         f"convert first: `math.{name}(math.radians({arg}))`")]
    if name in ("radians", "deg2rad") and "objects_heading" in tags:
        return [_finding("objects-heading-units", node.lineno,
                         f"`{code}` converts objects_heading from degrees, but it is already in radians "
                         f"(AWS's docs say degrees; the simulator gives radians)")]
    return []


def _mixed_units(flow: Flow, a: ast.expr, b: ast.expr, node: ast.AST, scope: str, source: str) -> list[Finding]:
    """Angles in radians and degrees added, subtracted or compared; progress compared with metres.

    A side that went through ``*`` or ``/`` is a reward term or a rate, not the angle itself, so a sum of
    reward terms (``heading_reward + direction_reward``) is not a mix.
    """
    ta, tb = flow.tags(a, scope), flow.tags(b, scope)
    plain = "arith" not in ta and "arith" not in tb
    out: list[Finding] = []
    code = _src(node, source)
    line = getattr(node, "lineno", 0)
    for x, y in ((ta, tb), (tb, ta)):
        if plain and "atan2" in x and "heading" in y and "deg→rad" not in y and "rad→deg" not in x and \
                "heading" not in x:
            out.append(_finding("radians-heading-mix", line,
                                f"`{code}` mixes an atan2 angle, in radians, with heading, in degrees"))
        if plain and "objects_heading" in x and "heading" in y and "objects_heading" not in y and \
                "deg→rad" not in y and "rad→deg" not in x:
            out.append(_finding("objects-heading-units", line,
                                f"`{code}` compares objects_heading, in radians, with heading, in degrees"))
        if isinstance(node, ast.Compare) and "progress" in x and not x & {"per100", "arith"} and y & _METRES \
                and "progress" not in y:
            out.append(_finding("units-progress", line,
                                f"`{code}` compares progress, a percentage, with metres "
                                f"({', '.join(sorted(y & _METRES))})"))
    return out[:1]


def _track_switch(flow: Flow, a: ast.expr, b: ast.expr, node: ast.Compare, scope: str,
                  track: Track) -> list[Finding]:
    """Waypoint indices beyond this track: ``closest_waypoints[1] in [..]`` with a literal table, or a name
    given one literal table (a name given several, one per track of a switch, is left alone)."""
    if "closest_waypoints" not in flow.tags(a, scope):
        return []
    table = _only_value(flow, b.id, scope) if isinstance(b, ast.Name) else b
    nums = _numbers(table) if table is not None else None
    n = len(track.waypoints)
    if not nums or max(nums) < n:
        return []
    return [_finding("track-mismatch", node.lineno,
                     f"waypoint index {int(max(nums))} is beyond this track's {n} waypoints ({track.name}): the "
                     f"table was written for another track")]


def _only_value(flow: Flow, name: str, scope: str) -> ast.expr | None:
    """The value of the one assignment to ``name`` in ``scope`` or at module level, or None."""
    values = [n.value for n in ast.walk(flow.tree) if isinstance(n, ast.Assign) and flow.scope_of(n) in ("", scope)
              and any(isinstance(t, ast.Name) and t.id == name for t in n.targets)]
    return values[0] if len(values) == 1 else None


def _waypoint_switches(flow: Flow) -> list[tuple[int, int]]:
    """(line, N) of every ``len(waypoints) == N``: a function written for tracks of N waypoints."""
    out = []
    for node in ast.walk(flow.tree):
        if not isinstance(node, ast.Compare) or not isinstance(node.ops[0], ast.Eq):
            continue
        for a, b in ((node.left, node.comparators[0]), (node.comparators[0], node.left)):
            if isinstance(a, ast.Call) and _name_of_call(a) == "len" and a.args and \
                    "waypoints" in flow.tags(a.args[0], flow.scope_of(node)):
                nums = _numbers(b)
                if nums is not None and len(nums) == 1:
                    out.append((node.lineno, int(nums[0])))
    return out


def _name_of_call(node: ast.Call) -> str:
    return node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")


def _embedded_lines(flow: Flow, track: Track) -> list[Finding]:
    """Literal lists of points (a racing line) off this track's road, and len(waypoints) switches that miss it."""
    out: list[Finding] = []
    switches = _waypoint_switches(flow)
    if switches and len(track.waypoints) not in {n for _, n in switches}:
        line = switches[0][0]
        counts = sorted({n for _, n in switches})
        fits = [name for name, rows in _other_tracks() if len(rows) in counts]
        out.append(_finding("track-mismatch", line,
                            f"a len(waypoints) switch for {', '.join(map(str, counts))} waypoints has no branch for "
                            f"{track.name}'s {len(track.waypoints)}"
                            + (f"; it fits {', '.join(fits)}" if fits else "")))
    for stmt in ast.walk(flow.tree):  # at module level, or inside the function (the K1999 racing_track)
        if not isinstance(stmt, ast.Assign) or not isinstance(stmt.value, (ast.List, ast.Tuple)):
            continue
        points = _line_points(stmt.value)
        if points is None:
            continue
        on = road_share(track.rows, points)
        if on >= 0.8:
            continue
        fits = [name for name, rows in _other_tracks() if road_share(rows, points) >= 0.95]
        out.append(_finding("track-mismatch", stmt.lineno,
                            f"the {len(points)} points listed here are {on:.0%} on {track.name}'s road: they "
                            f"belong to another track" + (f" ({', '.join(fits)} fits them)" if fits else ""),
                            f"compute this track's line with `racer raceline {track.name}` and paste it"
                            + (f", or check on the track it was written for: --track {fits[0]}" if fits else "")))
    return out


def _line_points(node: ast.List | ast.Tuple) -> np.ndarray | None:
    """(x, y) [m] of a literal list that reads as a line on a track: at least 10 rows of 2-4 numbers whose
    first two go around a path at least 10 m long, in steps under a metre. Tables (speed bands, weights) do
    not: their rows do not make such a path."""
    if len(node.elts) < 10:
        return None
    rows = []
    for e in node.elts:
        if not isinstance(e, (ast.List, ast.Tuple)) or not 2 <= len(e.elts) <= 4:
            return None
        x, y = _number(e.elts[0]), _number(e.elts[1])
        if x is None or y is None:
            return None
        rows.append((x, y))
    points = np.array(rows)
    steps = np.linalg.norm(np.diff(points, axis=0), axis=1)
    extent = float(np.linalg.norm(points.max(axis=0) - points.min(axis=0)))
    path = float(steps.sum())
    if path < 10.0 or float(np.median(steps)) > 1.0 or path < 1.5 * extent:
        return None
    return points


_ROWS_CACHE: dict[tuple[Path, int], np.ndarray] = {}


def _other_tracks() -> list[tuple[str, np.ndarray]]:
    """(name, rows) of every readable track file on the search path, read once per file version."""
    out = []
    for name, path in track_files():
        try:
            key = (path, path.stat().st_mtime_ns)
            if key not in _ROWS_CACHE:
                _ROWS_CACHE[key] = read_rows(path).reshape(-1, 6)
            out.append((name, _ROWS_CACHE[key]))
        except (TrackFileError, OSError, ValueError):
            continue
    return out


# --------------------------------------------------------------- behaviour
class _CountingSink:
    """Counts what a reward function prints, per call."""

    def __init__(self) -> None:
        self.bytes = 0
        self.calls_printing = 0
        self._last = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        return len(text)

    def flush(self) -> None:
        pass


def _lap(reward: str | Path, track: Track, actions: ActionSpec, sink: Any = None,
         env: RacerEnv | None = None) -> tuple[list[float], list[int], RacerEnv]:
    """One lap by pure pursuit at a middle speed (at most 60 s): the rewards and the bytes printed per call."""
    speeds = sorted({v for _, v in (actions.discrete or [(0.0, sum(actions.speed_range) / 2)])})
    speed = min(max(speeds[len(speeds) // 2], 0.5), 2.0)
    if env is None:
        env = RacerEnv(track=track, reward_function=RewardFunction(reward, stdout=sink), model_metadata=actions,
                       mode="eval", max_episode_steps=int(60 * STEP_HZ))
    env.reset(seed=0)
    driver = PurePursuit(env.track, speed)
    rewards, printed = [], []
    while True:
        before = sink.bytes if sink is not None else 0
        _, r, te, tr, _ = env.step(env.actions.to_action(*driver.controls(env.car)))
        rewards.append(r)
        printed.append((sink.bytes if sink is not None else 0) - before)
        if te or tr:
            return rewards, printed, env


def observe_behaviour(reward: str | Path, source: str, track: Track, actions: ActionSpec,
                      battery: BatteryReport) -> list[Finding]:
    """The pitfalls that show when the function runs: a leak between episodes, printing on every call, a
    reward range that swamps, objects indexed without a guard."""
    found: list[Finding] = []
    try:
        flow: Flow | None = analyse(source)
    except SyntaxError:
        flow = None
    found += _empty_objects(battery, source, flow)
    if battery.failures:
        return found
    sink = _CountingSink()
    try:
        first, printed, env = _lap(reward, track, actions, sink)
        second, _, _ = _lap(reward, track, actions, sink, env)
        if _differ(first, second):  # a leak, unless a fresh load differs too (a random reward)
            again, _, _ = _lap(reward, track, actions, _CountingSink())
            if not _differ(first, again):
                found += _state_leak(first, second, flow)
    except RacerEnvError:
        return found  # it fails while driving: the check reports that
    found += _printing(printed, flow)
    found += _swamping(first, battery, flow)
    return found


def _first_line(flow: Flow | None, match: Iterable[type]) -> int:
    if flow is None:
        return 1
    lines = [n.lineno for n in ast.walk(flow.tree) if isinstance(n, tuple(match)) and hasattr(n, "lineno")]
    return min(lines) if lines else 1


def _differ(first: list[float], second: list[float]) -> bool:
    return len(first) != len(second) or any(abs(a - b) > 1e-9 * max(1.0, abs(a)) for a, b in zip(first, second))


def _state_leak(first: list[float], second: list[float], flow: Flow | None) -> list[Finding]:
    """The same lap, driven by a fresh load and then again by the same load, paid differently."""
    differ = [k for k, (a, b) in enumerate(zip(first, second)) if abs(a - b) > 1e-9 * max(1.0, abs(a))]
    k = differ[0] if differ else min(len(first), len(second))
    line, holder = 1, "module or instance state"
    if flow is not None:
        spots = []
        for n in ast.walk(flow.tree):
            scope = flow.scope_of(n)
            if not scope:
                continue
            if isinstance(n, (ast.Assign, ast.AugAssign)):
                for t in (n.targets if isinstance(n, ast.Assign) else [n.target]):
                    if isinstance(t, ast.Attribute) or (isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name)
                                                        and (("", t.value.id) in flow.names or _is_global(flow, t.value.id))):
                        spots.append((n.lineno, ast.unparse(t)))
            elif isinstance(n, ast.Global):
                spots.append((n.lineno, ", ".join(n.names)))
            elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and \
                    n.func.attr in ("append", "extend", "insert", "update", "add") and \
                    isinstance(n.func.value, (ast.Name, ast.Attribute)) and \
                    (isinstance(n.func.value, ast.Attribute) or _is_global(flow, n.func.value.id)):
                spots.append((n.lineno, ast.unparse(n.func.value)))
        if spots:
            line, holder = min(spots)
    a = first[k] if k < len(first) else None
    b = second[k] if k < len(second) else None
    return [_finding("state-leak", line,
                     f"the same lap driven twice pays differently (step {k + 2}: {a:.4g} the first time, {b:.4g} the "
                     f"second): {holder} carries over from one episode to the next" if a is not None and b is not None
                     else f"the same lap driven twice pays differently: {holder} carries over between episodes")]


def _is_global(flow: Flow, name: str) -> bool:
    return any(isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in s.targets)
               for s in flow.tree.body)


def _printing(printed: list[int], flow: Flow | None) -> list[Finding]:
    calls = len(printed)
    printing = sum(1 for b in printed if b > 0)
    if calls < 10 or printing < 0.9 * calls:
        return []
    per_lap = sum(printed)
    line = 1
    if flow is not None:
        prints = [n.lineno for n in ast.walk(flow.tree) if isinstance(n, ast.Call)
                  and getattr(n.func, "id", "") == "print" and flow.scope_of(n)]
        line = min(prints) if prints else 1
    return [_finding("print-every-step", line,
                     f"prints on {printing} of {calls} calls, {per_lap / 1024:.0f} KB a lap ({per_lap // calls} bytes a "
                     f"call); on DeepRacer all of it goes into the simulation log")]


def _swamping(lap: list[float], battery: BatteryReport, flow: Flow | None) -> list[Finding]:
    if not lap:
        return []
    big = max(lap, key=abs)
    rest = sum(abs(r) for r in lap) - abs(big)
    largest_state = max((max(abs(s.minimum), abs(s.maximum)) for s in battery.stats), default=0.0)
    line = _largest_literal_line(flow)
    if largest_state > 1e5:
        return [_finding("reward-range", line, f"the function returns {largest_state:.3g} in some states: AWS ends the "
                                               f"job on a reward outside [-1e5, 1e5]")]
    if abs(big) > 10.0 and abs(big) > rest and len(lap) > 20:
        return [_finding("reward-range", line,
                         f"one step of a lap pays {big:.4g}, more than the other {len(lap) - 1} steps together "
                         f"({rest:.4g}): the bonus swamps every other term")]
    return []


def _largest_literal_line(flow: Flow | None) -> int:
    if flow is None:
        return 1
    best = (0.0, 1)
    for n in ast.walk(flow.tree):
        v = _number(n) if isinstance(n, (ast.Constant, ast.UnaryOp)) else None
        if v is not None and abs(v) > best[0] and flow.scope_of(n) and hasattr(n, "lineno"):
            best = (abs(v), n.lineno)
    return best[1]


def _empty_objects(battery: BatteryReport, source: str, flow: Flow | None) -> list[Finding]:
    out = []
    lines = source.splitlines()
    for failure in battery.failures:
        if "IndexError" not in failure.what or failure.params.get("objects_location"):
            continue
        line = int(failure.where.rsplit(":", 1)[1]) if failure.where.rsplit(":", 1)[-1].isdigit() else 0
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        reads_objects = "objects" in text or "closest_objects" in text or (
            flow is not None and any(isinstance(n, ast.Subscript) and getattr(n, "lineno", 0) == line and
                                     flow.tags(n.value, flow.scope_of(n)) & {
                                         "objects_location", "objects_distance", "objects_left_of_center",
                                         "objects_heading", "objects_speed", "closest_objects",
                                         "objects_distance_from_center"} for n in ast.walk(flow.tree)))
        if reads_objects:
            out.append(_finding("empty-objects", line,
                                "indexes the object lists with no guard: in a time trial they are empty and "
                                "closest_objects is [0, 0], so this raises IndexError and ends the job on AWS"))
    return out


def link_failures(findings: list[Finding], battery: BatteryReport) -> list[Finding]:
    """Say where a failure comes from a first-call-steps finding (state never set, then used as None)."""
    none_failures = [f for f in battery.failures if "NoneType" in f.what or "None" in f.what]
    if not none_failures:
        return findings
    where = ", ".join(sorted({f.where for f in none_failures}))
    return [Finding(f.name, f.line, f.message.replace("; fix:", f"; it is why {where} fails (a value left None); fix:", 1))
            if f.name == "first-call-steps" else f for f in findings]


def explain(name: str) -> str:
    """The catalogue's longer account of a pitfall, with an example and its fix.

    Raises:
        RacerEnvError: no pitfall of that name; the message lists them.
    """
    p = CATALOGUE.get(name)
    if p is None:
        raise RacerEnvError(f"--explain {name}: no such pitfall; the catalogue: {', '.join(CATALOGUE)}")
    indent = "\n    "
    return (f"[{p.name}] {p.summary}\n\n{p.why}\n\nFix: {p.fix}.\n\nFor example, this:\n    "
            f"{indent.join(p.example.splitlines())}\nbecomes:\n    {indent.join(p.fixed.splitlines())}\n")
