"""Reading what ``racer analyze`` is given into one compact table an input, streamed.

The inputs are whatever :mod:`racer_env.env.logreader` reads (the one reader every command uses): a racer_env
run directory (its training simtrace and its evaluations), a deepracer-for-cloud model folder, a console model
export, a robomaker/simulation log from AWS or DeepRacer on AWS, or a simtrace CSV (plain or gzipped).

The reader streams each file's SIM_TRACE rows; here they go, a chunk at a time, through pandas' C parser into
float32 and small-integer columns, so a million steps take some 60 MB and never live as Python objects. A line
that does not fit the format is skipped and counted, with its line number (:attr:`Trace.skipped`); nothing is
dropped silently.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from racer_env.env.logreader import LogFacts, TraceFile, trace_files, trace_lines
from racer_env.env.simtrace import FIELDS, STATUS_LABELS
from racer_env.errors import LogFormatError

__all__ = ["Trace", "read_inputs", "read_trace", "CHUNK_LINES"]

CHUNK_LINES = 200_000
"""SIM_TRACE lines parsed at a time."""
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


def read_trace(path: str | Path, progress: Callable[[int, int], None] | None = None) -> Trace:
    """Read one input into a :class:`Trace`; ``progress(bytes_read, bytes_total)`` is called as it goes."""
    p = Path(path)
    files, folder = trace_files(p)
    total = sum(f.path.stat().st_size for f in files)
    trace = Trace(label=p.name, path=p, rows=pd.DataFrame())
    parts: list[pd.DataFrame] = []
    done = 0
    for f in files:
        reader = _FileReader(f, trace)
        for part in reader.chunks():
            parts.append(part)
        done += f.path.stat().st_size
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
            facts = LogFacts()
            facts.read(hp.read_text(errors="replace"))  # the same pattern as a log's hyperparameter line
            trace.episodes_per_iteration = facts.episodes_per_iteration
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

    def __init__(self, file: TraceFile, trace: Trace):
        self.file, self.trace = file, trace
        self.facts = LogFacts()
        self.n_fields: int | None = None

    @property
    def kind(self) -> str:
        """The file's kind; a log whose JOB_TYPE says so is an evaluation."""
        return "evaluation" if self.facts.evaluation else self.file.kind

    def chunks(self) -> Iterator[pd.DataFrame]:
        buf: list[str] = []
        numbers: list[int] = []
        for lineno, payload in trace_lines(self.file, self.facts):
            buf.append(f"{lineno},{payload}")
            numbers.append(lineno)
            if len(buf) >= CHUNK_LINES:
                yield self._parse(buf, numbers)
                buf, numbers = [], []
        if buf:
            yield self._parse(buf, numbers)
        t, facts = self.trace, self.facts
        t.lines += numbers[-1] if numbers else 0
        t.world = t.world or facts.world
        t.simapp_version = t.simapp_version or facts.simapp_version
        t.episodes_per_iteration = t.episodes_per_iteration or facts.episodes_per_iteration

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
        out["iteration"] = np.int32(self.file.iteration)
        out["kind"] = pd.Categorical([self.kind] * len(out), categories=["training", "evaluation"])
        return out

    def _skip(self, linenos: list[int]) -> None:
        t = self.trace
        t.skipped_count += len(linenos)
        room = 50 - len(t.skipped)
        t.skipped += [(str(self.file.path), k) for k in linenos[:max(room, 0)]]
