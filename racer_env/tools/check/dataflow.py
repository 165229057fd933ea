"""Where a reward function's ``params`` values flow: a small taint analysis over its source code.

Every value gets a set of *tags*: the params keys it is derived from (``"heading"``, ``"waypoints"``...), plus
a few kinds the pitfall checks need:

* ``"deg→rad"``: the value went through ``math.radians``, ``np.deg2rad`` or a product with pi and 180;
* ``"rad→deg"``: it went through ``math.degrees`` (or pi and 180 the other way);
* ``"atan2"``: it is an angle from ``atan2`` (radians) not converted to degrees;
* ``"waypoint"``: it is one waypoint, an (x, y) tuple (``waypoints[i]``, or a loop over waypoints);
* ``"per100"``: it was scaled by 100 (a percentage turned into a fraction or back);
* ``"arith"``: it went through ``*``, ``/``, ``//``, ``%`` or ``**`` (a rate, a remainder: no longer the param);
* ``"delta"``: it is a difference of two values of the same param (a change of progress is still in percent);
* ``"int"``: it went through ``int``, ``round``, ``len``, ``bisect`` or an arg-min (an exact, whole value).

Values flow through local names, tuple unpacking, ``for`` loops, ``params.get``, arithmetic and calls
(a call's result carries its arguments' tags), instance and class attributes (``self.x``, by attribute
name), module globals, and into helper functions: a function called with ``params`` treats that parameter as
``params`` too. The analysis is flow-insensitive (a name has the union of all it is ever given), which is
enough for the patterns it looks for and cannot miss a flow through a later assignment.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

__all__ = ["Flow", "analyse", "Tags"]

Tags = frozenset[str]
_EMPTY: Tags = frozenset()
_TO_RADIANS = {"radians", "deg2rad"}
_TO_DEGREES = {"degrees", "rad2deg"}
_PASS_THROUGH = {"float", "abs", "min", "max", "sum", "fabs", "sqrt", "hypot", "copysign", "mean", "median", "clip",
                 "dist"}
_CONTAINERS = {"list", "tuple", "sorted", "array", "asarray", "reversed", "copy", "deepcopy"}
_WHOLE = {"int", "round", "floor", "ceil", "len", "bisect", "bisect_left", "bisect_right", "index", "argmin",
          "argmax", "searchsorted", "count"}
_KINDS = frozenset({"deg→rad", "rad→deg", "atan2", "per100", "arith", "delta", "int", "waypoint", "pi", "params"})


def _name_of(func: ast.expr) -> str:
    """``math.radians`` -> "radians", ``radians`` -> "radians"."""
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


@dataclass
class Flow:
    """The tags of every name, attribute and expression of a reward module, and its params aliases."""

    tree: ast.Module
    params_names: set[tuple[str, str]] = field(default_factory=set)
    """(function name, parameter name) pairs that hold the params dict."""
    names: dict[tuple[str, str], Tags] = field(default_factory=dict)
    """(scope, name) -> tags; scope is a function name or "" for module globals."""
    attributes: dict[str, Tags] = field(default_factory=dict)
    """attribute name -> tags (``self.x`` and ``Cls.x`` alike)."""
    functions: dict[str, ast.FunctionDef] = field(default_factory=dict)
    """Qualified name (``Reward.reward_function.helper``) -> definition."""

    def scope_of(self, node: ast.AST) -> str:
        """The qualified name of the innermost function around ``node`` ("" at module level)."""
        return getattr(node, "_racer_scope", "")

    def callees(self, name: str) -> list[str]:
        """The functions a call by ``name`` may reach (every function or method of that name)."""
        return [q for q in self.functions if q.rsplit(".", 1)[-1] == name] if name else []

    def tags(self, node: ast.expr | None, scope: str) -> Tags:
        """The tags of an expression in a function (``scope``), from the analysis."""
        if node is None:
            return _EMPTY
        if isinstance(node, ast.Name):
            if (scope, node.id) in self.params_names:
                return frozenset({"params"})
            return self.names.get((scope, node.id), _EMPTY) | self.names.get(("", node.id), _EMPTY)
        if isinstance(node, ast.Attribute):
            if node.attr == "pi":
                return frozenset({"pi"})
            return self.attributes.get(node.attr, _EMPTY) | (self.tags(node.value, scope) & {"params"})
        if isinstance(node, ast.Subscript):
            base = self.tags(node.value, scope)
            key = _constant_key(node.slice)
            if "params" in base and key is not None:
                return frozenset({key})
            if "waypoints" in base and not isinstance(node.slice, ast.Slice) and "waypoint" not in base:
                return (base - {"waypoints"}) | {"waypoint"}
            if "waypoint" in base:
                return base - {"waypoint"}  # a coordinate of a waypoint: a number
            return base - {"params"}
        if isinstance(node, ast.Call):
            fname = _name_of(node.func)
            args = [*node.args, *(k.value for k in node.keywords)]
            if fname == "get" and isinstance(node.func, ast.Attribute) and \
                    "params" in self.tags(node.func.value, scope) and node.args:
                key = _constant_key(node.args[0])
                return frozenset({key}) if key is not None else _EMPTY
            inner = frozenset().union(*(self.tags(a, scope) for a in args)) if args else _EMPTY
            if fname in _TO_RADIANS:
                return (inner - {"rad→deg"}) | {"deg→rad"}
            if fname in _TO_DEGREES:
                return (inner - {"deg→rad", "atan2"}) | {"rad→deg"}
            if fname == "atan2":
                return (inner - {"deg→rad"}) | {"atan2"}
            if fname in _PASS_THROUGH:
                return inner - {"params", "waypoint"}
            if fname in _WHOLE:
                return (inner - {"params"}) | {"int"}
            callees = self.callees(fname)
            if callees:  # a function of the module: what it returns (its parameters carry the arguments' tags)
                return frozenset().union(*(self.names.get((q, "<return>"), _EMPTY) for q in callees))
            if fname in _CONTAINERS:
                return inner - {"params"}
            return inner - {"params", "waypoint"}  # a library call: a number made of its arguments
        if isinstance(node, ast.BinOp):
            left, right = self.tags(node.left, scope), self.tags(node.right, scope)
            both = left | right
            if isinstance(node.op, (ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)):
                both |= {"arith"}
            elif isinstance(node.op, ast.Sub) and (left & right) - _KINDS:
                both |= {"delta"}
            return self._scaled(node, both)
        if isinstance(node, ast.UnaryOp):
            return self.tags(node.operand, scope)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return frozenset().union(*(self.tags(e, scope) for e in node.elts)) - {"params"} if node.elts else _EMPTY
        if isinstance(node, ast.IfExp):
            return self.tags(node.body, scope) | self.tags(node.orelse, scope)
        if isinstance(node, ast.BoolOp):
            return frozenset().union(*(self.tags(v, scope) for v in node.values))
        return _EMPTY

    def _scaled(self, node: ast.BinOp, tags: Tags) -> Tags:
        """A product or quotient with pi and 180 converts degrees and radians; with 100, percentages."""
        numbers = _constants_in(node)
        if isinstance(node.op, ast.Mult) and any(abs(n - 0.0174533) < 1e-4 for n in numbers):
            return (tags - {"rad→deg"}) | {"deg→rad"}  # x * 0.01745: pi / 180 written out
        if isinstance(node.op, ast.Mult) and any(abs(n - 57.29578) < 0.01 for n in numbers):
            return (tags - {"deg→rad", "atan2"}) | {"rad→deg"}  # x * 57.2958: 180 / pi written out
        has_pi = "pi" in tags or any(abs(n - 3.14159) < 0.01 for n in numbers)
        if has_pi and 180 in numbers:
            if _divides_by_180(node):
                return (tags - {"pi", "rad→deg"}) | {"deg→rad"}
            return (tags - {"pi", "deg→rad", "atan2"}) | {"rad→deg"}
        if 100 in numbers and isinstance(node.op, (ast.Mult, ast.Div)):
            return tags | {"per100"}
        return tags


def _constant_key(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _constants_in(node: ast.AST) -> set[float]:
    out = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)) and not isinstance(n.value, bool):
            out.add(float(n.value))
    return out


def _divides_by_180(node: ast.AST) -> bool:
    """True when 180 is a divisor in the expression (x * pi / 180), false when it multiplies (x * 180 / pi)."""
    for n in ast.walk(node):
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div) and 180 in _constants_in(n.right):
            return True
    return False


def analyse(source: str) -> Flow:
    """Parse a reward function's source and compute the tags of its names and attributes.

    Raises:
        SyntaxError: the source does not parse.
    """
    tree = ast.parse(source)
    flow = Flow(tree)
    _scopes(flow, tree, "", "")
    for qualified in flow.callees("reward_function"):
        args = [a.arg for a in flow.functions[qualified].args.args]
        if args and args[0] == "self":
            args = args[1:]
        if args:
            flow.params_names.add((qualified, args[0]))
    for _ in range(6):  # to a fixed point: few reward functions need more than three passes
        before = (len(flow.params_names), sum(len(v) for v in flow.names.values()),
                  sum(len(v) for v in flow.attributes.values()))
        _pass(flow)
        after = (len(flow.params_names), sum(len(v) for v in flow.names.values()),
                 sum(len(v) for v in flow.attributes.values()))
        if after == before:
            break
    return flow


def _scopes(flow: Flow, node: ast.AST, scope: str, prefix: str) -> None:
    """Mark every node with the qualified name of its innermost function, and register the functions."""
    for child in ast.iter_child_nodes(node):
        setattr(child, "_racer_scope", scope)  # a def itself belongs to the scope around it
        if isinstance(child, ast.FunctionDef):
            qualified = f"{prefix}{child.name}"
            flow.functions[qualified] = child
            _scopes(flow, child, qualified, qualified + ".")
        elif isinstance(child, ast.ClassDef):
            _scopes(flow, child, scope, f"{prefix}{child.name}.")
        else:
            _scopes(flow, child, scope, prefix)


def _assign(flow: Flow, target: ast.expr, tags: Tags, scope: str, value: ast.expr | None = None) -> None:
    if isinstance(target, ast.Name):
        if "params" in tags:
            flow.params_names.add((scope, target.id))
        key = (scope, target.id)
        flow.names[key] = flow.names.get(key, _EMPTY) | (tags - {"params"})
    elif isinstance(target, ast.Attribute):
        flow.attributes[target.attr] = flow.attributes.get(target.attr, _EMPTY) | (tags - {"params"})
    elif isinstance(target, (ast.Tuple, ast.List)):
        if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
            for t, v in zip(target.elts, value.elts):
                _assign(flow, t, flow.tags(v, scope), scope, v)
        else:  # unpacking a waypoint gives its coordinates; anything else, the whole tags
            element = tags - {"waypoint"} if "waypoint" in tags else tags
            for t in target.elts:
                _assign(flow, t, element, scope)
    elif isinstance(target, ast.Subscript):
        _assign(flow, target.value, tags, scope)
    elif isinstance(target, ast.Starred):
        _assign(flow, target.value, tags, scope)


def _pass(flow: Flow) -> None:
    for node in ast.walk(flow.tree):
        scope = flow.scope_of(node)
        if isinstance(node, ast.Assign):
            tags = flow.tags(node.value, scope)
            for target in node.targets:
                _assign(flow, target, tags, scope, node.value)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and node.value is not None:
            _assign(flow, node.target, flow.tags(node.value, scope), scope)
        elif isinstance(node, (ast.For, ast.comprehension)):
            iter_tags = flow.tags(node.iter, scope)
            if isinstance(node.iter, ast.Call) and _name_of(node.iter.func) == "enumerate" and node.iter.args:
                element = _element(flow.tags(node.iter.args[0], scope))
                if isinstance(node.target, ast.Tuple) and len(node.target.elts) == 2:
                    _assign(flow, node.target.elts[1], element, scope)
                continue
            _assign(flow, node.target, _element(iter_tags), scope)
        elif isinstance(node, ast.Return) and node.value is not None and scope:
            key = (scope, "<return>")
            flow.names[key] = flow.names.get(key, _EMPTY) | (flow.tags(node.value, scope) - {"params"})
        elif isinstance(node, ast.Call):
            for qualified in flow.callees(_name_of(node.func)):
                callee = flow.functions[qualified]
                params = [a.arg for a in callee.args.args]
                if params and params[0] == "self":
                    params = params[1:]
                by_name = {k.arg: k.value for k in node.keywords if k.arg}
                for arg_name, arg in [*zip(params, node.args), *((n, by_name[n]) for n in params if n in by_name)]:
                    tags = flow.tags(arg, scope)
                    if "params" in tags:
                        flow.params_names.add((qualified, arg_name))
                    key = (qualified, arg_name)
                    flow.names[key] = flow.names.get(key, _EMPTY) | (tags - {"params"})


def _element(tags: Tags) -> Tags:
    """The tags of an element of a sequence: a waypoint when the sequence is the waypoints."""
    if "waypoints" in tags:
        return (tags - {"waypoints"}) | {"waypoint"}
    return tags
