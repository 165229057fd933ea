"""DeepRacer's SIM_TRACE_LOG lines and simtrace CSVs (spec §7.1).

A line is ``SIM_TRACE_LOG:`` followed by comma-separated fields, possibly after
a ROS prefix. Four layouts exist: 15 fields (2019: no status, yaw in
radians), 16–17 fields (status, then pause_duration), 18 (obstacle crash
counter) and 19 (wall clock), the current one. Reading accepts 15 to 19
fields; writing always produces 19.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, NamedTuple, Sequence, TextIO

from racer_env.errors import LogFormatError

__all__ = ["TraceRow", "row_from_params", "closest_waypoint", "read_sim_trace", "FIELDS", "SimTrace", "TraceWriter", "EpisodeSummary", "STATUS_LABELS"]

FIELDS = ("episode", "steps", "X", "Y", "yaw", "steer", "throttle", "action", "reward", "done",
          "all_wheels_on_track", "progress", "closest_waypoint", "track_len", "tstamp", "episode_status",
          "pause_duration", "obstacle_crash_counter", "wall_clock")
MARKER = "SIM_TRACE_LOG:"
_SIMAPP_VERSION = re.compile(r"simapp_version[\s:=]+([0-9]+(?:\.[0-9]+)?)")


class TraceRow(NamedTuple):
    """One step of a SIM_TRACE log (spec §7.1). Positions [m], yaw and steer [deg], throttle [m/s], tstamp [s].

    RacerEnv records these as it drives; :func:`read_sim_trace` reads them back from any log.
    """

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
    """The line of the log it was read from (0 when recorded)."""


@dataclass
class SimTrace:
    """The rows of a log, and the lines that held SIM_TRACE_LOG but did not fit its format."""

    path: str
    rows: list[TraceRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    simapp_version: float | None = None
    """The ``simapp_version`` the log states (the model_metadata version that picked the car), if any."""

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
    status = f[15] if n >= 16 else "in_progress"
    pause = float(f[16]) if n >= 17 else 0.0
    crashes = int(float(f[17])) if n == 19 else 0
    wall = float(f[n - 1]) if n >= 18 else 0.0
    return TraceRow(
        episode=int(float(f[0])), steps=float(f[1]), x=float(f[2]), y=float(f[3]), yaw=yaw,
        steer=float(f[5]), throttle=float(f[6]), action=f[7], reward=float(f[8]), done=_bool(f[9]),
        all_wheels_on_track=_bool(f[10]), progress=float(f[11]), closest_waypoint=int(float(f[12])),
        track_len=float(f[13]), tstamp=float(f[14]), episode_status=status, pause_duration=pause,
        obstacle_crash_counter=crashes, wall_clock=wall, lineno=lineno,
    )


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
            if trace.simapp_version is None and "simapp_version" in line:
                m = _SIMAPP_VERSION.search(line)
                trace.simapp_version = float(m.group(1)) if m else None
            continue
        try:
            trace.rows.append(parse_line(line[at + len(MARKER):], lineno))
        except ValueError as err:
            trace.problems.append(f"{p}:{lineno}: {err}")
    if not trace.rows:
        raise LogFormatError(f"{p}: no {MARKER} lines found")
    return trace


# ------------------------------------------------------------------ writing
_LINE = "SIM_TRACE_LOG:%d,%d,%.4f,%.4f,%.4f,%.2f,%.2f,%s,%.4f,%s,%s,%.4f,%d,%.2f,%.3f,%s,%.2f,%d,%.4f"


def format_line(r: TraceRow, episode: int, wall_clock: float) -> str:
    """One SIM_TRACE_LOG line in the current 19-field format (spec §7.1), numbered ``episode``."""
    return _LINE % (episode, r.steps, r.x, r.y, r.yaw, r.steer, r.throttle, r.action, r.reward, r.done,
                    r.all_wheels_on_track, r.progress, r.closest_waypoint, r.track_len, r.tstamp, r.episode_status,
                    r.pause_duration, r.obstacle_crash_counter, wall_clock)


def csv_row(r: TraceRow, episode: int, wall_clock: float) -> str:
    """One simtrace CSV row, numbered ``episode``, values at full precision as the simulator writes them."""
    values = (episode, float(r.steps), r.x, r.y, r.yaw, r.steer, r.throttle, r.action, r.reward, r.done,
              r.all_wheels_on_track, r.progress, r.closest_waypoint, r.track_len, r.tstamp, r.episode_status,
              r.pause_duration, r.obstacle_crash_counter, wall_clock)
    return ",".join(str(v) for v in values)


def closest_waypoint(waypoints: Sequence[tuple[float, float]], prv: int, nxt: int, x: float, y: float) -> int:
    """The log's ``closest_waypoint``: whichever of the previous and next waypoints is nearer to (x, y) [m]."""
    (ax, ay), (bx, by) = waypoints[prv], waypoints[nxt]
    return prv if (x - ax) ** 2 + (y - ay) ** 2 <= (x - bx) ** 2 + (y - by) ** 2 else nxt


def row_from_params(params: dict[str, Any], status: str, steering: float, speed: float, action: str,
                    reward: float, done: bool, pause_s: float, tstamp: float, episode: int = 0) -> TraceRow:
    """The SIM_TRACE row of a step (spec §7.1) from its params, commanded steering [deg] and speed [m/s], the
    action as logged, the reward, the penalty seconds left and the sim clock when the step ended [s].
    ``closest_waypoint`` is whichever of the previous and next waypoints is nearer to the car, as the
    simulator logs it."""
    x, y = params["x"], params["y"]
    prv, nxt = params["closest_waypoints"]
    closest = closest_waypoint(params["waypoints"], prv, nxt, x, y)
    return TraceRow(episode, params["steps"], x, y, params["heading"], steering, speed, action, reward, done,
                    params["all_wheels_on_track"], params["progress"], closest, params["track_length"],
                    tstamp, status, pause_s)


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
                 on_episode: Callable[[EpisodeSummary], None] | None = None, first_episode: int = 0):
        self.csv_dir = Path(csv_dir)
        self.csv_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = Path(log_path)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "a")
        self.episodes_per_iteration = max(1, int(episodes_per_iteration))
        self.on_episode = on_episode
        self.episodes = first_episode
        self._csv_iteration = -1
        self._csv: TextIO | None = None

    def write_episode(self, rows: list[TraceRow]) -> None:
        """Write one whole episode (``info["trace"]`` of its last step) under the next episode number."""
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
        assert self._csv is not None
        self._csv.write("".join(csv_row(r, episode, now) + "\n" for r in rows))
        self._log.write("".join(format_line(r, episode, now) + "\n" for r in rows))
        if self.on_episode is not None:
            self.on_episode(EpisodeSummary.from_rows(episode, rows))

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
    def from_rows(cls, episode: int, rows: list[TraceRow]) -> "EpisodeSummary":
        last = rows[-1]
        return cls(episode, sum(r.reward for r in rows), last.progress, last.episode_status, last.steps,
                   rows[0].tstamp, last.tstamp)


STATUS_LABELS = {
    "prepare": "Prepare", "in_progress": "In progress", "off_track": "Off track", "crashed": "Crashed",
    "reversed": "Reversed", "immobilized": "Immobilized", "lap_complete": "Lap complete", "pause": "Pause",
    "time_up": "Time Up", "park": "Park",
}
"""Human labels used in the metrics JSON (spec §7.1)."""
