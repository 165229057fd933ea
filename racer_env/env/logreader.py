"""Reading DeepRacer's SIM_TRACE from anything a racer has: the one reader every command uses.

An input is one of

* a robomaker or simulation log from AWS, DeepRacer on AWS or deepracer-for-cloud: SIM_TRACE_LOG lines of 15 to
  19 fields among the job's other output (whose ``WORLD_NAME``, ``simapp_version``, ``JOB_TYPE`` and
  ``num_episodes_between_training`` lines are read on the way);
* a simtrace CSV, plain or gzipped (``N-iteration.csv``, ``N-iteration.csv.gz``);
* a folder: a racer_env run or a deepracer-for-cloud model folder (``training-simtrace/``, or one folder per
  worker ``0/``, ``1/``...), a console model export (``sim-trace/training/[<time>/]training-simtrace``,
  ``sim-trace/evaluation/<time>/evaluation-simtrace``), racer_env's evaluations (``evaluation-*/``), or a plain
  folder of iteration CSVs.

:func:`trace_files` finds an input's files, in order; :func:`trace_lines` streams one file's SIM_TRACE rows as
the text after the marker, with their line numbers; :func:`read_sim_trace` parses them into
:class:`~racer_env.env.simtrace.TraceRow` rows (``racer replay``, ``racer check --log``, a run's recovery).
``racer analyze`` feeds the same lines to pandas for columns. :func:`split_episodes` is the one episode
splitter.
"""

from __future__ import annotations

import gzip
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from racer_env.env.simtrace import MARKER, TraceRow, format_line, parse_line
from racer_env.errors import LogFormatError

__all__ = ["TraceFile", "LogFacts", "SimTrace", "trace_files", "trace_lines", "read_sim_trace", "split_episodes",
           "iteration_files", "unpack_simtrace", "ITERATION", "KINDS"]

ITERATION = re.compile(r"(\d+)-iteration\.csv(\.gz)?$")
"""A simtrace CSV's name: its iteration, gzipped or not."""
KINDS = ("training", "evaluation")
_CSV_HEADER = "episode,steps,"
_WORLD = re.compile(r"WORLD_NAME[\"':= ]+([A-Za-z0-9_.-]+)")
_SIMAPP = re.compile(r"simapp_version[\s:=]+([0-9]+(?:\.[0-9]+)?)")
_EPISODES = re.compile(r"num_episodes_between_training[\"':= ]+(\d+)")
_JOB = re.compile(r"JOB_TYPE[\"':= ]+([A-Z_]+)")
_BRACKET = re.compile(r"\[([^\],\]]*),\s*([^\]]*)\]")  # "[steer, speed]": one field, not two


@dataclass(frozen=True)
class TraceFile:
    """One file of an input: its iteration (-1 for a log), ``training`` or ``evaluation``, and its worker."""

    path: Path
    iteration: int = -1
    kind: str = "training"
    worker: int = 0


@dataclass
class LogFacts:
    """What a log's own lines say besides its SIM_TRACE rows."""

    world: str | None = None
    """The track it names (WORLD_NAME)."""
    simapp_version: float | None = None
    """The ``simapp_version`` it states (the model_metadata version that picked the car)."""
    episodes_per_iteration: int | None = None
    evaluation: bool = False
    """``JOB_TYPE`` says EVALUATION or LEADERBOARD."""

    def read(self, line: str) -> None:
        """Take what a line that is not a SIM_TRACE row says."""
        if "JOB_TYPE" in line:
            m = _JOB.search(line)
            self.evaluation = self.evaluation or bool(m and m.group(1) in ("EVALUATION", "LEADERBOARD"))
        if self.world is None and "WORLD_NAME" in line:
            m = _WORLD.search(line)
            self.world = m.group(1) if m else None
        if self.simapp_version is None and "simapp_version" in line:
            m = _SIMAPP.search(line)
            self.simapp_version = float(m.group(1)) if m else None
        if self.episodes_per_iteration is None and "num_episodes_between_training" in line:
            m = _EPISODES.search(line)
            self.episodes_per_iteration = int(m.group(1)) if m else None


def iteration_files(folder: str | Path) -> list[Path]:
    """A simtrace folder's iteration CSVs, plain or gzipped, in iteration order (a gzipped one wins over a plain
    one of the same iteration, which a kill during gzipping can leave behind)."""
    found: dict[int, Path] = {}
    folder = Path(folder)
    if not folder.is_dir():
        return []
    for p in folder.iterdir():
        m = ITERATION.fullmatch(p.name)
        if m and (int(m.group(1)) not in found or p.suffix == ".gz"):
            found[int(m.group(1))] = p
    return [found[k] for k in sorted(found)]


def trace_files(path: str | Path) -> tuple[list[TraceFile], Path | None]:
    """An input's files in reading order (module docstring), and the folder whose ``model/``, ``ip/`` and
    ``run.json`` describe them (None for a single file).

    Raises:
        LogFormatError: no such file or folder, or a folder with no simtrace; the message says where it looked.
    """
    path = Path(path)
    if path.is_file():
        m = ITERATION.search(path.name)
        kind = "evaluation" if "evaluation" in path.parent.name else "training"
        return [TraceFile(path, int(m.group(1)) if m else -1, kind)], None
    if not path.is_dir():
        raise LogFormatError(f"{path}: no such file or folder")
    found: list[TraceFile] = []
    workers = sorted((p for p in path.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name))
    training = [(path / "training-simtrace", 0)] + [(w / "training-simtrace", int(w.name)) for w in workers]
    training += [(p, 0) for p in sorted(path.glob("sim-trace/training/training-simtrace"))]
    training += [(p, 0) for p in sorted(path.glob("sim-trace/training/*/training-simtrace"))]
    for folder, worker in training:
        found += [_file(f, "training", worker) for f in iteration_files(folder)]
    for folder in sorted([*path.glob("evaluation-*/evaluation-simtrace"),
                          *path.glob("sim-trace/evaluation/*/evaluation-simtrace")]):
        found += [_file(f, "evaluation") for f in iteration_files(folder)]
    if not found:
        found = [_file(f, "training") for f in iteration_files(path)]
    if not found:
        raise LogFormatError(f"{path}: a folder with no simtrace (looked for training-simtrace/, <worker>/"
                             f"training-simtrace/, evaluation-*/evaluation-simtrace/, the console's sim-trace/ and "
                             f"*-iteration.csv)")
    return found, path


def _file(path: Path, kind: str, worker: int = 0) -> TraceFile:
    m = ITERATION.search(path.name)
    return TraceFile(path, int(m.group(1)) if m else -1, kind, worker)


def _lines(path: Path) -> Iterator[str]:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", errors="replace") as f:
                yield from f
        else:
            with open(path, errors="replace") as f:
                yield from f
    except (OSError, EOFError) as err:
        raise LogFormatError(f"{path}: cannot read ({getattr(err, 'strerror', None) or err})") from err


def trace_lines(file: TraceFile | str | Path, facts: LogFacts | None = None) -> Iterator[tuple[int, str]]:
    """The SIM_TRACE rows of one file as (line number, the comma-separated fields after the marker, or the CSV
    row), a continuous action's ``[steer, speed]`` joined into one field. Other lines of a log go to ``facts``.

    Raises:
        LogFormatError: the file cannot be read.
    """
    path = file.path if isinstance(file, TraceFile) else Path(file)
    facts = facts if facts is not None else LogFacts()
    csv: bool | None = None
    for lineno, line in enumerate(_lines(path), start=1):
        if csv is None:
            csv = line.startswith(_CSV_HEADER)
            if csv:
                continue
        if csv:
            payload = line
        else:
            at = line.find(MARKER)
            if at < 0:
                facts.read(line)
                continue
            payload = line[at + len(MARKER):]
        if "[" in payload:
            payload = _BRACKET.sub(r"[\1 \2]", payload)
        payload = payload.strip()
        if payload:
            yield lineno, payload


@dataclass
class SimTrace:
    """The rows of an input, and the lines that held SIM_TRACE data but did not fit its format."""

    path: str
    rows: list[TraceRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    facts: LogFacts = field(default_factory=LogFacts)
    files: list[TraceFile] = field(default_factory=list)
    folder: Path | None = None
    """The folder whose run.json and model/ describe the input, if any."""

    @property
    def simapp_version(self) -> float | None:
        return self.facts.simapp_version

    def episodes(self) -> list[list[TraceRow]]:
        """The rows grouped into episodes (:func:`split_episodes`)."""
        return split_episodes(self.rows)


def split_episodes(rows: Sequence[TraceRow]) -> list[list[TraceRow]]:
    """Rows grouped into episodes: a new one starts where ``episode`` changes or ``steps`` falls back (two
    workers' files, or a log that restarts its numbering)."""
    out: list[list[TraceRow]] = []
    for r in rows:
        if not out or r.steps <= out[-1][-1].steps or r.episode != out[-1][-1].episode:
            out.append([])
        out[-1].append(r)
    return out


def read_sim_trace(path: str | Path, kind: str | None = None) -> SimTrace:
    """Read the SIM_TRACE rows of any input (module docstring). A folder's training files are read when it has
    any, else its evaluations; ``kind`` (``"training"`` or ``"evaluation"``) chooses.

    Lines that do not parse are listed in ``problems`` with their file and line, never dropped silently.

    Raises:
        LogFormatError: nothing readable, or no SIM_TRACE rows at all.
    """
    files, folder = trace_files(path)
    wanted = kind or ("training" if any(f.kind == "training" for f in files) else "evaluation")
    chosen = [f for f in files if f.kind == wanted] if folder is not None else files
    trace = SimTrace(str(path), files=chosen, folder=folder)
    for f in chosen:
        for lineno, payload in trace_lines(f, trace.facts):
            try:
                trace.rows.append(parse_line(payload, lineno))
            except ValueError as err:
                trace.problems.append(f"{f.path}:{lineno}: {err}")
    if not trace.rows:
        raise LogFormatError(f"{path}: no {MARKER} lines or simtrace CSV rows found"
                             + (f" ({len(trace.problems)} lines did not fit the format)" if trace.problems else ""))
    return trace


def unpack_simtrace(folder: str | Path, log_path: str | Path | None = None) -> list[Path]:
    """Decompress a simtrace folder's gzipped iterations (racer_env 0.3 gzipped them; deepracer-utils reads only
    plain CSVs) in place, and with ``log_path``, write the robomaker-style SIM_TRACE_LOG lines of all its rows
    there. Returns the plain CSVs."""
    plain = []
    for f in iteration_files(folder):
        if f.suffix == ".gz":
            target = f.with_suffix("")
            tmp = target.with_name(target.name + ".tmp")
            with open(tmp, "w") as out:
                out.writelines(_lines(f))
            os.replace(tmp, target)
            f.unlink()
            f = target
        plain.append(f)
    if log_path is not None:
        trace = read_sim_trace(folder)
        with open(log_path, "w") as out:
            out.writelines(format_line(r, r.episode, r.wall_clock) + "\n" for r in trace.rows)
    return plain
