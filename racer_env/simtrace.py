"""DeepRacer's SIM_TRACE_LOG lines and simtrace CSVs (spec §7.1).

A line is ``SIM_TRACE_LOG:`` followed by comma-separated fields, possibly after
a ROS prefix. Four layouts exist: 15 fields (2019: no status, yaw in
radians), 16–17 fields (status, then pause_duration), 18 (obstacle crash
counter) and 19 (wall clock), the current one. Reading accepts 15 to 19
fields; writing always produces 19.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from racer_env.errors import LogFormatError, RacerEnvError

__all__ = ["TraceRow", "read_sim_trace", "FIELDS", "SimTrace", "find_log_track", "TraceWriter"]

FIELDS = ("episode", "steps", "X", "Y", "yaw", "steer", "throttle", "action", "reward", "done",
          "all_wheels_on_track", "progress", "closest_waypoint", "track_len", "tstamp", "episode_status",
          "pause_duration", "obstacle_crash_counter", "wall_clock")
MARKER = "SIM_TRACE_LOG:"


@dataclass
class TraceRow:
    """One step of a SIM_TRACE log. Positions [m], yaw and steer [deg], throttle [m/s], tstamp [s]."""

    episode: int
    steps: float
    x: float
    y: float
    yaw: float
    steer: float
    throttle: float
    action: str
    reward: float
    done: bool
    all_wheels_on_track: bool
    progress: float
    closest_waypoint: int
    track_len: float
    tstamp: float
    episode_status: str = "in_progress"
    pause_duration: float = 0.0
    obstacle_crash_counter: int = 0
    wall_clock: float = 0.0
    lineno: int = 0


@dataclass
class SimTrace:
    """The rows of a log, and the lines that held SIM_TRACE_LOG but did not fit its format."""

    path: str
    rows: list[TraceRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def episodes(self) -> list[list[TraceRow]]:
        """Rows grouped into episodes: a new one starts when ``steps`` falls back or ``episode`` changes."""
        out: list[list[TraceRow]] = []
        for r in self.rows:
            if not out or r.steps <= out[-1][-1].steps or r.episode != out[-1][-1].episode:
                out.append([])
            out[-1].append(r)
        return out


def _bool(text: str) -> bool:
    if text in ("True", "true", "1"):
        return True
    if text in ("False", "false", "0"):
        return False
    raise ValueError(f"expected True or False, got {text!r}")


def parse_line(payload: str, lineno: int = 0) -> TraceRow:
    """Parse the part after ``SIM_TRACE_LOG:``; raises ValueError with what was wrong."""
    f = [p.strip() for p in payload.strip().split(",")]
    # a continuous action is written as "[steer speed]" or "[steer, speed]": rejoin a split bracket
    if any(p.startswith("[") and not p.endswith("]") for p in f):
        i = next(i for i, p in enumerate(f) if p.startswith("[") and not p.endswith("]"))
        j = next(j for j in range(i, len(f)) if f[j].endswith("]"))
        f[i:j + 1] = [" ".join(f[i:j + 1])]
    n = len(f)
    if not 15 <= n <= 19:
        raise ValueError(f"expected 15 to 19 comma-separated fields, got {n}")
    yaw = float(f[4])
    if n == 15:  # 2019 format: yaw in radians, no status
        yaw = math.degrees(yaw)
    row = TraceRow(
        episode=int(float(f[0])), steps=float(f[1]), x=float(f[2]), y=float(f[3]), yaw=yaw,
        steer=float(f[5]), throttle=float(f[6]), action=f[7], reward=float(f[8]), done=_bool(f[9]),
        all_wheels_on_track=_bool(f[10]), progress=float(f[11]), closest_waypoint=int(float(f[12])),
        track_len=float(f[13]), tstamp=float(f[14]), lineno=lineno,
    )
    if n >= 16:
        row.episode_status = f[15]
    if n >= 17:
        row.pause_duration = float(f[16])
    if n >= 18:
        if n == 18:
            row.wall_clock = float(f[17])
        else:
            row.obstacle_crash_counter = int(float(f[17]))
            row.wall_clock = float(f[18])
    return row


def read_sim_trace(path: str | Path) -> SimTrace:
    """Read every SIM_TRACE_LOG line of a log file (a robomaker/simulation log or a bare trace).

    Lines without the marker are ignored; lines with it that do not parse are
    listed in ``problems`` with their line number, never dropped silently.

    Raises:
        LogFormatError: the file cannot be read, or holds no SIM_TRACE_LOG line at all.
    """
    p = Path(path)
    try:
        lines: Iterable[str] = p.read_text(errors="replace").splitlines()
    except OSError as err:
        raise LogFormatError(f"{p}: cannot read ({err.strerror})") from err
    trace = SimTrace(str(p))
    for lineno, line in enumerate(lines, start=1):
        at = line.find(MARKER)
        if at < 0:
            continue
        try:
            trace.rows.append(parse_line(line[at + len(MARKER):], lineno))
        except ValueError as err:
            trace.problems.append(f"{p}:{lineno}: {err}")
    if not trace.rows:
        raise LogFormatError(f"{p}: no {MARKER} lines found")
    return trace


# ------------------------------------------------------------------ writing
TRACE_ROW = FIELDS[1:17]
"""A row as RacerEnv records it: FIELDS 1-16, steps ... episode_status and pause_duration."""
_LINE = "SIM_TRACE_LOG:%d,%d,%.4f,%.4f,%.4f,%.2f,%.2f,%s,%.4f,%s,%s,%.4f,%d,%.2f,%.3f,%s,%.2f,%d,%.4f"


def format_line(episode: int, row: tuple, wall_clock: float) -> str:
    """One SIM_TRACE_LOG line in the current 19-field format (spec §7.1)."""
    steps, x, y, yaw, steer, speed, action, reward, done, on_track, progress, wp, track_len, t, status, pause = row
    return _LINE % (episode, steps, x, y, yaw, steer, speed, action, reward, done, on_track, progress, wp,
                    track_len, t, status, pause, 0, wall_clock)


def csv_row(episode: int, row: tuple, wall_clock: float) -> str:
    """One simtrace CSV row, values at full precision as the simulator writes them."""
    steps, x, y, yaw, steer, speed, action, reward, done, on_track, progress, wp, track_len, t, status, pause = row
    values = (episode, float(steps), x, y, yaw, steer, speed, action, reward, done, on_track, progress, wp,
              track_len, t, status, pause, 0, wall_clock)
    return ",".join(str(v) for v in values)


class TraceWriter:
    """Writes the SIM_TRACE of many envs: log lines, and CSVs grouped into iterations of N episodes.

    Environments hand over whole episodes (``RacerEnv(record_trace=True)`` puts them in
    ``info["trace"]``), written under consecutive episode numbers, so episodes never interleave. Files:
    ``<csv_dir>/<iteration>-iteration.csv`` (DRfC's ``training-simtrace`` layout)
    and ``log_path`` (``SIM_TRACE_LOG:`` lines, as in a robomaker log).

    Args:
        csv_dir: folder for the iteration CSVs.
        log_path: file the SIM_TRACE_LOG lines are appended to.
        episodes_per_iteration: DeepRacer's num_episodes_between_training.
        on_episode: called with an :class:`EpisodeSummary` after each episode is written.
        first_episode: the number of the first episode (a resumed run continues its numbering).
    """

    def __init__(self, csv_dir: Path, log_path: Path, episodes_per_iteration: int = 20,
                 on_episode=None, first_episode: int = 0):
        self.csv_dir = Path(csv_dir)
        self.csv_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = Path(log_path)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "a")
        self.episodes_per_iteration = max(1, int(episodes_per_iteration))
        self.on_episode = on_episode
        self.episodes = first_episode
        self._csv_iteration = -1
        self._csv = None

    def write_episode(self, rows: list[tuple]) -> None:
        """Write one whole episode (``info["trace"]`` of its last step) under the next episode number."""
        import time

        episode = self.episodes
        self.episodes += 1
        iteration = episode // self.episodes_per_iteration
        if iteration != self._csv_iteration:
            if self._csv is not None:
                self._csv.close()
            path = self.csv_dir / f"{iteration}-iteration.csv"
            new = not path.exists()
            self._csv = open(path, "a")
            if new:
                self._csv.write(",".join(FIELDS) + "\n")
            self._csv_iteration = iteration
        now = time.time()
        self._csv.write("".join(csv_row(episode, r, now) + "\n" for r in rows))
        self._log.write("".join(format_line(episode, r, now) + "\n" for r in rows))
        if self.on_episode is not None:
            self.on_episode(EpisodeSummary.of(episode, rows))

    def flush(self) -> None:
        for f in (self._csv, self._log):
            if f is not None:
                f.flush()

    def close(self) -> None:
        for f in (self._csv, self._log):
            if f is not None:
                f.close()
        self._csv = None


@dataclass
class EpisodeSummary:
    """What the metrics need of one episode."""

    episode: int
    reward: float
    progress: float
    status: str
    steps: float
    start_time: float  # sim time [s]
    end_time: float

    @classmethod
    def of(cls, episode: int, rows: list[tuple]) -> "EpisodeSummary":
        last = rows[-1]
        return cls(episode, sum(r[7] for r in rows), last[10], last[14], last[0], rows[0][13], last[13])


STATUS_LABELS = {
    "prepare": "Prepare", "in_progress": "In progress", "off_track": "Off track", "crashed": "Crashed",
    "reversed": "Reversed", "immobilized": "Immobilized", "lap_complete": "Lap complete", "pause": "Pause",
    "time_up": "Time Up", "park": "Park",
}
"""Human labels used in the metrics JSON (spec §7.1)."""


def find_log_track(log: str | Path, track: str | Path | None = None):
    """The track a log was driven on: ``track`` if given, else the run directory's (run.json), else the
    log's WORLD_NAME when a file of that name is bundled, beside the log, or in the working directory.

    Raises:
        RacerEnvError: the track cannot be found; the message says to pass --track.
    """
    import json
    import re

    from racer_env.track import Track

    if track:
        return Track.load(track)
    for parent in Path(log).resolve().parents:
        if (parent / "run.json").exists():
            info = json.loads((parent / "run.json").read_text())
            return Track.load(info["track"], reverse=info.get("reverse", False))
    m = re.search(r"WORLD_NAME[\"':= ]+([A-Za-z0-9_]+)", Path(log).read_text(errors="replace"))
    if m:
        name = m.group(1)
        for candidate in (name, Path(log).parent / f"{name}.npy", Path(f"{name}.npy")):
            try:
                return Track.load(candidate)
            except RacerEnvError:
                continue
        raise RacerEnvError(f"{log}: the log was driven on '{name}', which is not here: pass --track {name}.npy")
    raise RacerEnvError(f"{log}: the log does not say its track: pass --track TRACK")
