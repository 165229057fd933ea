"""Reading the files a racer gives us, and writing ours so that a crash never leaves half a file.

Every reader turns what goes wrong (a missing file, bad JSON, bad YAML) into one error of the caller's class
whose message names the file, the line where the parser knows it, and what was expected: the caller only says
which error class and what the file should be.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from racer_env.errors import RacerEnvError

__all__ = ["read_text", "read_json", "read_yaml", "atomic_write_bytes", "atomic_write_json", "atomic_write_text"]


def read_text(path: str | Path, error: type[RacerEnvError], what: str = "") -> str:
    """The text of ``path``.

    Raises:
        error: the file cannot be read; the message names it (and ``what`` it should be, when given).
    """
    p = Path(path)
    try:
        return p.read_text()
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise error(f"{p}: cannot read{f' the {what}' if what else ''} ({reason})") from err


def read_json(path: str | Path, error: type[RacerEnvError], what: str = "") -> Any:
    """``path`` parsed as JSON.

    Raises:
        error: unreadable, or not JSON; the message names the file and the line.
    """
    text = read_text(path, error, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise error(f"{path}: line {err.lineno}: not valid JSON ({err.msg})") from None


def read_yaml(path: str | Path, error: type[RacerEnvError], what: str = "", text: str | None = None) -> Any:
    """``path`` (or ``text``, already read from it) parsed as YAML.

    Raises:
        error: unreadable, or not YAML; the message names the file and the line.
    """
    import yaml

    if text is None:
        text = read_text(path, error, what)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}:" if mark is not None else ""
        raise error(f"{path}:{where} not valid YAML ({getattr(err, 'problem', None) or err})") from None


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it and a rename: readers see the old file or
    the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_write_text(path: str | Path, text: str) -> None:
    """:func:`atomic_write_bytes` of ``text`` in UTF-8."""
    atomic_write_bytes(path, text.encode())


def atomic_write_json(path: str | Path, obj: Any, indent: int | None = 2) -> None:
    """Write ``obj`` as JSON to ``path`` atomically, indented (None: on one line, which json's C encoder writes
    many times faster: for large files written often)."""
    atomic_write_bytes(path, json.dumps(obj, indent=indent).encode())
