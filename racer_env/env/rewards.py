"""Loading and calling DeepRacer reward functions, unchanged.

A reward function is ``def reward_function(params): ... return float(reward)``
in a Python file, which may have module globals, classes and imports. Each
:class:`RewardFunction` executes its own copy of the module, so the state of
one environment never leaks into another. Calls follow the simulator (spec
§1.6): the result goes through ``float()``; an exception, a non-number, NaN,
inf or a magnitude above 1e5 is fatal and raises :class:`RewardFunctionError`.

Two protections AWS does not have: a call that runs longer than ``time_limit_s``
(10 s by default) is stopped and reported with the line it was running, and
``SystemExit`` or ``KeyboardInterrupt`` raised by the function's own code is a
reward-function error too, not an exit. Each function keeps its call count and
time, so a slow one can be named.
"""

from __future__ import annotations

import builtins
import importlib.util
import ctypes
import itertools
import math
import signal
import sys
import threading
import time
import traceback
import types
from pathlib import Path
from typing import Any, Callable, Protocol

from racer_env.constants import MAX_REWARD_ABS
from racer_env.errors import RewardFunctionError

__all__ = ["RewardFunction", "load_reward_function", "reward_file", "Output", "REWARD_FUNCTIONS_DIR", "DEFAULT_REWARD",
           "bundled_reward_functions",
           "RewardInterrupted", "interrupt_reward_call", "DEFAULT_TIME_LIMIT_S"]

def _bundled_dir() -> Path:
    spec = importlib.util.find_spec("racer_env.reward_functions")
    return Path(spec.origin).parent if spec is not None and spec.origin else Path(__file__).parent


REWARD_FUNCTIONS_DIR = _bundled_dir()
"""The example reward functions shipped with racer_env: the repository's top-level ``reward_functions/``, installed
as the package ``racer_env.reward_functions``."""
DEFAULT_REWARD = "progress_speed"


def bundled_reward_functions() -> list[Path]:
    """The files of the reward functions shipped with racer_env, by name (the package's ``__init__`` is not one)."""
    return sorted(p for p in REWARD_FUNCTIONS_DIR.glob("*.py") if not p.name.startswith("_"))
DEFAULT_TIME_LIMIT_S = 10.0
"""racer_env's limit on one reward call [s] (AWS has none): past it the call is stopped and reported."""
_module_ids = itertools.count()


class RewardInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) arrived while a reward function was running: stop promptly, it is not the function's fault."""


class _RewardTimeout(BaseException):
    """Raised inside a reward call that ran past its time limit (a BaseException: ``except Exception`` in the
    reward function does not swallow it)."""


_MAIN_THREAD = threading.main_thread().ident


class _Watchdog:
    """One thread per process that stops a reward call running past its deadline. In the main thread it sends
    SIGALRM (whose handler raises inside the call); in another thread (a Ray Tune trial) it raises inside the call
    with ``PyThreadState_SetAsyncExc``, which takes effect at the call's next Python line (a call blocked in C,
    such as ``time.sleep``, is stopped when it returns). A call only stores its deadline: no system call per step."""

    def __init__(self) -> None:
        self.deadline: float | None = None
        self.calling = 0  # reward calls in progress (nested calls are possible in tools)
        self.target: int | None = None  # the thread making the limited call
        self.lock = threading.Lock()  # the thread path: raising and clearing never cross
        self.usable = hasattr(signal, "SIGALRM") and hasattr(signal, "pthread_kill")
        self._thread: threading.Thread | None = None
        self._alarm = False  # our SIGALRM handler is installed

    def start(self) -> int:
        """Make sure the watchdog runs; the calling thread's id, or 0 where it cannot (no SIGALRM in the main
        thread)."""
        ident = threading.get_ident()
        if ident == _MAIN_THREAD and not self._alarm:
            if not self.usable:
                return 0
            signal.signal(signal.SIGALRM, _on_alarm)
            self._alarm = True
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="racer-reward-watchdog", daemon=True)
            self._thread.start()
        return ident

    def _watch(self) -> None:
        while True:
            time.sleep(0.05)
            deadline = self.deadline
            if deadline is None or time.perf_counter() <= deadline:
                continue
            target = self.target
            if target == _MAIN_THREAD:
                self.deadline = None
                signal.pthread_kill(target, signal.SIGALRM)  # type: ignore[arg-type]
                continue
            with self.lock:
                if self.deadline is not None and self.target == target and target is not None:
                    self.deadline = None
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target), ctypes.py_object(_RewardTimeout))

    def end_call(self) -> None:
        """After a limited call: no deadline, and (in a thread) no stop left pending for code after the call."""
        if self.target == _MAIN_THREAD:
            self.deadline = None
            return
        with self.lock:
            fired = self.deadline is None  # the watchdog clears the deadline when it raises
            self.deadline = None
            if fired and self.target is not None:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.target), None)


def _on_alarm(signum: int, frame: Any) -> None:
    if _WATCHDOG.calling:
        raise _RewardTimeout


_WATCHDOG = _Watchdog()


def interrupt_reward_call() -> None:
    """From a signal handler: if a reward function is running, stop it now with :class:`RewardInterrupted`."""
    if _WATCHDOG.calling:
        raise RewardInterrupted


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
    if p.parent in (Path("."), Path("reward_functions")) and named.exists() and not p.stem.startswith("_"):
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

    Examples:
        >>> rf = RewardFunction(lambda params: params["speed"] * 2)
        >>> rf({"speed": 1.5})
        3.0
    """

    def __init__(self, source: str | Path | Callable[[dict], Any], stdout: Output | None = None,
                 time_limit_s: float | None = DEFAULT_TIME_LIMIT_S):
        self.stdout = stdout
        self.time_limit_s = time_limit_s
        self.calls = 0
        self.seconds = 0.0
        """Calls made and the time they took [s]."""
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

    @property
    def mean_call_s(self) -> float:
        """Mean time of a call so far [s]."""
        return self.seconds / self.calls if self.calls else 0.0

    def __call__(self, params: dict[str, Any]) -> float:
        """The reward [float] for ``params``; raises RewardFunctionError as DeepRacer would fail the job."""
        watchdog = _WATCHDOG
        ident = 0
        if self.time_limit_s is not None:
            # what start() would check, read here: a method call costs every step (start() then has nothing to do)
            ident = threading.get_ident()
            if watchdog._thread is None or (ident == _MAIN_THREAD and not watchdog._alarm):
                ident = watchdog.start()
        limited = ident != 0
        t0 = time.perf_counter()
        watchdog.calling += 1
        if limited:
            watchdog.target = ident
            watchdog.deadline = t0 + self.time_limit_s  # type: ignore[operator]
        try:
            raw = self.fn(params)
        except _RewardTimeout as err:
            raise self._error(f"was stopped after running {self.time_limit_s:g} s in one call (racer_env's limit, "
                              f"see --reward-time-limit; AWS has none)", params, err) from None
        except RewardInterrupted:
            raise
        except (SystemExit, KeyboardInterrupt) as err:
            if isinstance(err, KeyboardInterrupt) and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                raise  # Python's own Ctrl-C handler: we cannot tell the user's Ctrl-C from the function's
            raise self._error(f"raised {type(err).__name__}({', '.join(map(repr, err.args))}); a reward function "
                              f"must return a number", params, err) from None
        except Exception as err:
            raise self._error(f"raised {type(err).__name__}: {err}", params, err) from err
        finally:
            watchdog.calling -= 1
            if limited:
                if watchdog.target == _MAIN_THREAD:  # end_call()'s own first case, inline: this runs every step
                    watchdog.deadline = None
                else:
                    watchdog.end_call()
            self.calls += 1
            self.seconds += time.perf_counter() - t0
        try:
            reward = float(raw)
        except (TypeError, ValueError) as err:
            raise self._error(f"returned {raw!r}, which float() cannot convert", params) from err
        if not math.isfinite(reward):
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


def load_reward_function(source: str | Path | Callable[[dict], Any], stdout: Output | None = None,
                         time_limit_s: float | None = DEFAULT_TIME_LIMIT_S) -> RewardFunction:
    """Load a reward function from a file path, a name in ``reward_functions/``, or a callable."""
    return RewardFunction(source, stdout=stdout, time_limit_s=time_limit_s)
