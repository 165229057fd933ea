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

from racer_env.errors import LogFormatError

__all__ = ["TraceRow", "read_sim_trace", "FIELDS", "SimTrace"]

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
