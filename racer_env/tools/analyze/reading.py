"""Reading what ``racer analyze`` is given into one compact table a log, streamed.

Inputs: a racer_env run directory (its training simtrace and its evaluations), a deepracer-for-cloud model folder
(``training-simtrace/``, or one folder per worker ``0/``, ``1/``...), a robomaker/simulation log from AWS or
DeepRacer on AWS (SIM_TRACE_LOG lines of 15, 17 or 19 fields), or a simtrace CSV (plain or gzipped).

A file is read line by line; the SIM_TRACE rows go, a chunk at a time, through pandas' C parser into float32 and
small-integer columns, so a million steps take some 60 MB and never live as Python objects. A line that does
not fit the format is skipped and counted, with its line number (:attr:`Trace.skipped`); nothing is dropped
silently.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from racer_env.env.simtrace import FIELDS, MARKER, STATUS_LABELS
from racer_env.errors import LogFormatError

__all__ = ["Trace", "read_inputs", "read_trace", "CHUNK_LINES"]

CHUNK_LINES = 200_000
"""SIM_TRACE lines parsed at a time."""
_ITERATION = re.compile(r"(\d+)-iteration\.csv(\.gz)?$")
_WORLD = re.compile(r"WORLD_NAME[\"':= ]+([A-Za-z0-9_.-]+)")
_SIMAPP = re.compile(r"simapp_version[\s:=]+([0-9]+(?:\.[0-9]+)?)")
_EPISODES = re.compile(r"num_episodes_between_training[\"':= ]+(\d+)")
_JOB = re.compile(r"JOB_TYPE[\"':= ]+([A-Z_]+)")
_BRACKET = re.compile(r"\[([^\],\]]*),\s*([^\]]*)\]")  # "[steer, speed]": one field, not two
_FLOATS = ("steps", "X", "Y", "yaw", "steer", "throttle", "reward", "progress", "track_len", "tstamp")
STATUSES = [*STATUS_LABELS, "other"]
"""The episode statuses of a log (anything else reads as "other")."""


@dataclass
class Trace:
    """One input's SIM_TRACE rows as columns, and what is known about it.

    ``rows`` has the columns episode, steps, X, Y, yaw [deg], steer [deg], throttle [m/s], action (the index
    of a discrete action, -1 for a continuous one), reward, done, all_wheels_on_track, progress [%],
    closest_waypoint, track_len [m], tstamp [s], episode_status (a category of :data:`STATUSES`), iteration (the
    simtrace file's, else -1) and kind (``training`` or ``evaluation``).
    """

    label: str
    path: Path
    rows: pd.DataFrame
    lines: int = 0
    skipped: list[tuple[str, int]] = field(default_factory=list)
    """(file, line number) of the first 50 lines that held SIM_TRACE data that does not fit the format."""
    skipped_count: int = 0
    world: str | None = None
    """The track the log names (WORLD_NAME), if it does."""
    simapp_version: float | None = None
    episodes_per_iteration: int | None = None
    model_metadata: dict | None = None
    run_track: str | None = None
    """The track a racer_env run names in its run.json."""


def read_inputs(paths: list[str | Path], progress: Callable[[int, int], None] | None = None) -> list[Trace]:
    """Read each input (see the module docstring).

    Raises:
        LogFormatError: an input that is missing, is no log, or holds no SIM_TRACE rows; the message names it.
    """
    return [read_trace(p, progress) for p in paths]


def _files(path: Path) -> tuple[list[tuple[Path, int, str]], Path | None]:
    """The files of an input: (file, iteration or -1, kind), and the folder whose model/ and run.json describe
    it."""
    if path.is_file():
        m = _ITERATION.search(path.name)
        kind = "evaluation" if "evaluation" in str(path.parent) else "training"
        return [(path, int(m.group(1)) if m else -1, kind)], None
    if not path.is_dir():
        raise LogFormatError(f"{path}: no such file or folder")
    found: list[tuple[Path, int, str]] = []
    # racer_env's and deepracer-for-cloud's layout (one folder a worker: 0/, 1/...), then the console's exports
    # (sim-trace/training/[<time>/]training-simtrace, sim-trace/evaluation/<time>/evaluation-simtrace)
    folders = [path / "training-simtrace"] + sorted(p / "training-simtrace" for p in path.iterdir()
                                                     if p.is_dir() and p.name.isdigit())
    folders += sorted(path.glob("sim-trace/training/training-simtrace"))
    folders += sorted(path.glob("sim-trace/training/*/training-simtrace"))
    for folder in folders:
        if folder.is_dir():
            found += _iterations(folder, "training")
    for folder in sorted([*path.glob("evaluation-*/evaluation-simtrace"),
                          *path.glob("sim-trace/evaluation/*/evaluation-simtrace")]):
        found += _iterations(folder, "evaluation")
    if not found and any(_ITERATION.search(p.name) for p in path.iterdir()):
        found = _iterations(path, "training")
    if not found:
        raise LogFormatError(f"{path}: a folder with no simtrace (looked for training-simtrace/, <worker>/"
                             f"training-simtrace/, evaluation-*/evaluation-simtrace/ and the console's sim-trace/ "
                             f"with *-iteration.csv)")
    return found, path


def _iterations(folder: Path, kind: str) -> list[tuple[Path, int, str]]:
    its: dict[int, Path] = {}
    for p in folder.iterdir():
        m = _ITERATION.search(p.name)
        if m and (int(m.group(1)) not in its or p.suffix == ".gz"):
            its[int(m.group(1))] = p
    return [(its[k], k, kind) for k in sorted(its)]


def read_trace(path: str | Path, progress: Callable[[int, int], None] | None = None) -> Trace:
    """Read one input into a :class:`Trace`; ``progress(bytes_read, bytes_total)`` is called as it goes."""
    p = Path(path)
    files, folder = _files(p)
    total = sum(f.stat().st_size for f, _, _ in files)
    trace = Trace(label=p.name, path=p, rows=pd.DataFrame())
    parts: list[pd.DataFrame] = []
    done = 0
    for f, iteration, kind in files:
        reader = _FileReader(f, iteration, kind, trace)
        for part in reader.chunks():
            parts.append(part)
        done += f.stat().st_size
        if progress is not None:
            progress(done, total)
    if folder is not None:
        _describe_folder(folder, trace)
    if not parts or sum(len(x) for x in parts) == 0:
        what = "no SIM_TRACE_LOG lines or simtrace CSV rows"
        if trace.skipped_count:
            what = f"no readable SIM_TRACE rows ({trace.skipped_count} lines did not fit the format)"
        raise LogFormatError(f"{p}: {what}; expected a robomaker/simulation log, a simtrace CSV or a run folder")
    trace.rows = pd.concat(parts, ignore_index=True)
    return trace


def _describe_folder(folder: Path, trace: Trace) -> None:
    """model_metadata.json, hyperparameters' episodes per iteration and run.json's track, where the folder has them."""
    for meta in (folder / "model" / "model_metadata.json", folder / "model_metadata.json"):
        if meta.is_file():
            try:
                trace.model_metadata = json.loads(meta.read_text())
            except (OSError, ValueError):
                pass
            break
    for hp in (folder / "ip" / "hyperparameters.json", folder / "hyperparameters.json"):
        if hp.is_file():
            m = _EPISODES.search(hp.read_text(errors="replace"))
            if m:
                trace.episodes_per_iteration = int(m.group(1))
            break
    if (folder / "run.json").is_file():
        try:
            info = json.loads((folder / "run.json").read_text())
        except ValueError:
            info = {}
        trace.run_track = info.get("env", info).get("track")  # racer_env 0.3 kept it at the top
        if trace.model_metadata and trace.model_metadata.get("version") is not None and trace.simapp_version is None:
            trace.simapp_version = float(trace.model_metadata["version"])


class _FileReader:
    """One file's SIM_TRACE rows, in chunks of columns."""

    def __init__(self, path: Path, iteration: int, kind: str, trace: Trace):
        self.path, self.iteration, self.kind, self.trace = path, iteration, kind, trace
        self.n_fields: int | None = None

    def _lines(self) -> Iterator[str]:
        try:
            if self.path.suffix == ".gz":
                with gzip.open(self.path, "rt", errors="replace") as f:
                    yield from f
            else:
                with open(self.path, errors="replace") as f:
                    yield from f
        except (OSError, EOFError) as err:
            raise LogFormatError(f"{self.path}: cannot read ({getattr(err, 'strerror', None) or err})") from err

    def chunks(self) -> Iterator[pd.DataFrame]:
        trace = self.trace
        buf: list[str] = []
        numbers: list[int] = []
        csv = None
        lineno = 0
        for lineno, line in enumerate(self._lines(), start=1):
            if csv is None:
                csv = line.startswith("episode,steps,")
                if csv:
                    continue
            if csv:
                payload = line
            else:
                at = line.find(MARKER)
                if at < 0:
                    self._header(line)
                    continue
                payload = line[at + len(MARKER):]
            if "[" in payload:
                payload = _BRACKET.sub(r"[\1 \2]", payload)
            payload = payload.strip()
            if not payload:
                continue
            buf.append(f"{lineno},{payload}")
            numbers.append(lineno)
            if len(buf) >= CHUNK_LINES:
                yield self._parse(buf, numbers)
                buf, numbers = [], []
        if buf:
            yield self._parse(buf, numbers)
        trace.lines += lineno

    def _header(self, line: str) -> None:
        t = self.trace
        if "JOB_TYPE" in line:  # a robomaker/simulation log says whether it trains or evaluates
            m = _JOB.search(line)
            if m and m.group(1) in ("EVALUATION", "LEADERBOARD"):
                self.kind = "evaluation"
        if t.world is None and "WORLD_NAME" in line:
            m = _WORLD.search(line)
            t.world = m.group(1) if m else None
        if t.simapp_version is None and "simapp_version" in line:
            m = _SIMAPP.search(line)
            t.simapp_version = float(m.group(1)) if m else None
        if t.episodes_per_iteration is None and "num_episodes_between_training" in line:
            m = _EPISODES.search(line)
            t.episodes_per_iteration = int(m.group(1)) if m else None

    def _parse(self, buf: list[str], numbers: list[int]) -> pd.DataFrame:
        if self.n_fields is None:  # the layout of the first row with 15 to 19 fields
            for text in buf:
                n = text.count(",")  # the line number adds one comma: fields = commas
                if 15 <= n <= 19:
                    self.n_fields = n
                    break
            else:
                self._skip(numbers)
                return pd.DataFrame()
        n = self.n_fields
        names = ["lineno", *FIELDS[:n]]
        frame = pd.read_csv(io.StringIO("\n".join(buf)), header=None, names=names, dtype=str, engine="c",
                            on_bad_lines="skip", skip_blank_lines=True, na_filter=False)
        out = pd.DataFrame({"lineno": pd.to_numeric(frame["lineno"], errors="coerce")})
        for col in ("episode", "closest_waypoint"):
            out[col] = pd.to_numeric(frame[col], errors="coerce")
        for col in _FLOATS:
            out[col] = pd.to_numeric(frame[col], errors="coerce").astype(np.float32)
        out["action"] = pd.to_numeric(frame["action"], errors="coerce").fillna(-1).astype(np.int16)
        for col in ("done", "all_wheels_on_track"):
            out[col] = frame[col].str.strip().isin(("True", "true", "1"))
        status = frame["episode_status"].str.strip() if n >= 16 else pd.Series("in_progress", index=frame.index)
        out["episode_status"] = pd.Categorical(status.where(status.isin(STATUSES), "other"), categories=STATUSES)
        if n == 15:  # 2019: yaw in radians
            out["yaw"] = np.degrees(out["yaw"]).astype(np.float32)
        good = out[["lineno", "episode", "closest_waypoint", *_FLOATS]].notna().all(axis=1)
        bad_values = set(out.loc[~good, "lineno"].dropna().astype(int))
        out = out[good]
        kept = set(out["lineno"].astype(int))
        self._skip([k for k in numbers if k not in kept or k in bad_values])
        out = out.astype({"episode": np.int32, "closest_waypoint": np.int32, "lineno": np.int64})
        out["iteration"] = np.int32(self.iteration)
        out["kind"] = pd.Categorical([self.kind] * len(out), categories=["training", "evaluation"])
        return out

    def _skip(self, linenos: list[int]) -> None:
        t = self.trace
        t.skipped_count += len(linenos)
        room = 50 - len(t.skipped)
        t.skipped += [(str(self.path), k) for k in linenos[:max(room, 0)]]
