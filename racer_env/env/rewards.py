"""Loading and calling DeepRacer reward functions, unchanged.

A reward function is ``def reward_function(params): ... return float(reward)``
in a Python file, which may have module globals, classes and imports. Each
:class:`RewardFunction` executes its own copy of the module, so the state of
one environment never leaks into another. Calls follow the simulator (spec
§1.6): the result goes through ``float()``; an exception, a non-number, NaN,
inf or a magnitude above 1e5 is fatal and raises :class:`RewardFunctionError`.
"""

from __future__ import annotations

import builtins
import itertools
import math
import sys
import traceback
import types
from pathlib import Path
from typing import Any, Callable, Protocol

from racer_env.constants import MAX_REWARD_ABS
from racer_env.errors import RewardFunctionError

__all__ = ["RewardFunction", "load_reward_function", "reward_file", "Output", "REWARD_FUNCTIONS_DIR", "DEFAULT_REWARD"]

REWARD_FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "reward_functions"
"""The example reward functions shipped with racer_env (package data)."""
DEFAULT_REWARD = "progress_speed"
_module_ids = itertools.count()


class Output(Protocol):
    """Where a reward function's ``print`` goes: anything with ``write(str)``, such as a file or ``sys.stdout``."""

    def write(self, text: str, /) -> int: ...


def reward_file(path: str | Path) -> Path:
    """The file of a reward function: a file path, or the name of one in reward_functions/ (``"follow_center"``).

    Raises:
        RewardFunctionError: no such file.
    """
    p = Path(path)
    if p.exists():
        return p
    named = REWARD_FUNCTIONS_DIR / f"{p.stem}.py"
    if p.parent in (Path("."), Path("reward_functions")) and named.exists():
        return named
    raise RewardFunctionError(f"{path}: no such reward function file")


def _short(params: dict[str, Any]) -> str:
    """The params, with the long lists abbreviated, for an error message."""
    shown = {k: (f"<{len(v)} points>" if k == "waypoints" else v) for k, v in params.items()}
    return repr(shown)


class RewardFunction:
    """A loaded reward function; call it with a params dict.

    Args:
        source: a path to a ``.py`` file defining ``reward_function(params)``, the
            name of a file in ``reward_functions/``, or a Python callable.
        stdout: where the function's ``print`` output goes (default: ``sys.stdout``).
            Training sends it to the run's log so it cannot flood the terminal.

    Example:
        >>> rf = RewardFunction(lambda params: params["speed"] * 2)
        >>> rf({"speed": 1.5})
        3.0
    """

    def __init__(self, source: str | Path | Callable[[dict], Any], stdout: Output | None = None):
        self.stdout = stdout
        if callable(source):
            self.fn = source
            self.path: Path | None = None
            self.label = getattr(source, "__qualname__", repr(source))
            self.module = None
            return
        path = reward_file(source)
        self.path = path.resolve()
        self.label = str(path)
        self.module = self._load(path)
        fn = getattr(self.module, "reward_function", None)
        if not callable(fn):
            raise RewardFunctionError(f"{path}: defines no function reward_function(params)")
        self.fn = fn

    def _load(self, path: Path) -> types.ModuleType:
        try:
            code_text = path.read_text()
        except (OSError, UnicodeDecodeError) as err:
            raise RewardFunctionError(f"{path}: cannot read ({err})") from err
        try:
            code = compile(code_text, str(path.resolve()), "exec")
        except SyntaxError as err:
            raise RewardFunctionError(f"{path}:{err.lineno}: syntax error: {err.msg}") from err
        module = types.ModuleType(f"racer_reward_{next(_module_ids)}_{path.stem}")
        module.__file__ = str(path.resolve())
        module.__dict__["print"] = self._print  # its print goes to self.stdout
        try:
            exec(code, module.__dict__)
        except Exception as err:
            raise RewardFunctionError(
                f"{self._where(err)}: failed while loading: {type(err).__name__}: {err}"
            ) from err
        return module

    def _print(self, *args: Any, **kwargs: Any) -> None:
        if "file" not in kwargs:
            kwargs["file"] = self.stdout if self.stdout is not None else sys.stdout
        builtins.print(*args, **kwargs)

    def _where(self, err: BaseException) -> str:
        """``file:line`` of the innermost frame of the reward file in the traceback."""
        where = self.label
        for frame in traceback.extract_tb(err.__traceback__):
            if self.path is not None and Path(frame.filename) == self.path:
                where = f"{self.label}:{frame.lineno}"
            elif self.path is None and frame.name == getattr(self.fn, "__name__", None):
                where = f"{frame.filename}:{frame.lineno}"
        return where

    def __call__(self, params: dict[str, Any]) -> float:
        """The reward [float] for ``params``; raises RewardFunctionError as DeepRacer would fail the job."""
        try:
            raw = self.fn(params)
        except Exception as err:
            raise self._error(f"raised {type(err).__name__}: {err}", params, err) from err
        try:
            reward = float(raw)
        except (TypeError, ValueError) as err:
            raise self._error(f"returned {raw!r}, which float() cannot convert", params) from err
        if math.isnan(reward) or math.isinf(reward):
            raise self._error(f"returned {reward}; DeepRacer rejects NaN and inf", params)
        if abs(reward) > MAX_REWARD_ABS:
            raise self._error(f"returned {reward}; DeepRacer rejects rewards outside [-1e5, 1e5]", params)
        return reward

    def _error(self, what: str, params: dict[str, Any], err: BaseException | None = None) -> RewardFunctionError:
        where = self._where(err) if err is not None else self.label
        step = dict.get(params, "steps", "?")
        error = RewardFunctionError(f"{where}: reward function {what} at step {step}\n  params: {_short(params)}")
        error.where, error.what, error.params = where, what, params
        return error


def load_reward_function(source: str | Path | Callable[[dict], Any], stdout: Output | None = None) -> RewardFunction:
    """Load a reward function from a file path, a name in ``reward_functions/``, or a callable."""
    return RewardFunction(source, stdout=stdout)
