"""DeepRacer's SIM_TRACE_LOG lines and simtrace CSVs (spec §7.1).

A line is ``SIM_TRACE_LOG:`` followed by comma-separated fields, possibly after
a ROS prefix. Four layouts exist: 15 fields (2019: no status, yaw in
radians), 16–17 fields (status, then pause_duration), 18 (obstacle crash
counter) and 19 (wall clock), the current one. Reading accepts 15 to 19
fields; writing always produces 19.

A simtrace CSV holds the same fields under a header row, one file per
iteration of episodes (``N-iteration.csv``), plain as deepracer-for-cloud writes
them, so deepracer-utils and the community's notebooks read every step of a run.
Reading any log or folder is :mod:`racer_env.env.logreader`'s.
"""

from __future__ import annotations

import gzip
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, NamedTuple, Sequence, TextIO


__all__ = ["TraceRow", "row_from_params", "read_objects", "closest_waypoint", "parse_line", "format_line", "csv_row",
           "FIELDS", "MARKER", "TraceWriter", "EpisodeSummary", "STATUS_LABELS"]

FIELDS = ("episode", "steps", "X", "Y", "yaw", "steer", "throttle", "action", "reward", "done",
          "all_wheels_on_track", "progress", "closest_waypoint", "track_len", "tstamp", "episode_status",
          "pause_duration", "obstacle_crash_counter", "wall_clock")
MARKER = "SIM_TRACE_LOG:"


class TraceRow(NamedTuple):
    """One step of a SIM_TRACE log (spec §7.1). Positions [m], yaw and steer [deg], throttle [m/s], tstamp [s].

    RacerEnv records these as it drives; :func:`racer_env.env.logreader.read_sim_trace` reads them from any log.
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
    objects: tuple = ()
    """The obstacles and bot cars (:class:`racer_env.sim.objects.TrackObject`) on this step: racer_env's own
    runs keep them beside the log (``N-objects.csv``), as DeepRacer's format has no place for them."""


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


# ------------------------------------------------------------------ writing
_LINE = "SIM_TRACE_LOG:%d,%d,%.4f,%.4f,%.4f,%.2f,%.2f,%s,%.4f,%s,%s,%.4f,%d,%.2f,%.3f,%s,%.2f,%d,%.4f"


def format_line(r: TraceRow, episode: int, wall_clock: float) -> str:
    """One SIM_TRACE_LOG line in the current 19-field format (spec §7.1), numbered ``episode``."""
    return _LINE % (episode, r.steps, r.x, r.y, r.yaw, r.steer, r.throttle, r.action, r.reward, r.done,
                    r.all_wheels_on_track, r.progress, r.closest_waypoint, r.track_len, r.tstamp, r.episode_status,
                    r.pause_duration, r.obstacle_crash_counter, wall_clock)


_CSV = "%d,%.1f,%.4f,%.4f,%.4f,%.4f,%.4f,%s,%.6g,%s,%s,%.4f,%d,%.4f,%.3f,%s,%.2f,%d,%.3f"


def csv_row(r: TraceRow, episode: int, wall_clock: float) -> str:
    """One simtrace CSV row, numbered ``episode``: positions to 0.1 mm, angles to 1e-4 degree, rewards to six
    significant digits (the simulator writes full float precision; this keeps files small)."""
    return _CSV % (episode, r.steps, r.x, r.y, r.yaw, r.steer, r.throttle, r.action, r.reward, r.done,
                   r.all_wheels_on_track, r.progress, r.closest_waypoint, r.track_len, r.tstamp, r.episode_status,
                   r.pause_duration, r.obstacle_crash_counter, wall_clock)


def closest_waypoint(waypoints: Sequence[tuple[float, float]], prv: int, nxt: int, x: float, y: float) -> int:
    """The log's ``closest_waypoint``: whichever of the previous and next waypoints is nearer to (x, y) [m]."""
    (ax, ay), (bx, by) = waypoints[prv], waypoints[nxt]
    return prv if (x - ax) ** 2 + (y - ay) ** 2 <= (x - bx) ** 2 + (y - by) ** 2 else nxt


def row_from_params(params: dict[str, Any], status: str, steering: float, speed: float, action: str,
                    reward: float, done: bool, pause_s: float, tstamp: float, episode: int = 0,
                    crash_counter: int = 0, objects: tuple = ()) -> TraceRow:
    """The SIM_TRACE row of a step (spec §7.1) from its params, commanded steering [deg] and speed [m/s], the
    action as logged, the reward, the penalty seconds left and the sim clock when the step ended [s], and
    ``obstacle_crash_counter`` (the mercy-reset count, objects spec §4.4: 0 unless ENABLE_MERCY_RESET).
    ``closest_waypoint`` is whichever of the previous and next waypoints is nearer to the car, as the
    simulator logs it."""
    x, y = params["x"], params["y"]
    prv, nxt = params["closest_waypoints"]
    closest = closest_waypoint(params["waypoints"], prv, nxt, x, y)
    return TraceRow(episode, params["steps"], x, y, params["heading"], steering, speed, action, reward, done,
                    params["all_wheels_on_track"], params["progress"], closest, params["track_length"],
                    tstamp, status, pause_s, 0 if done else crash_counter, 0.0, 0, objects)


class TraceWriter:
    """Writes the SIM_TRACE of many envs: simtrace CSVs grouped into iterations of N episodes, and optionally
    a robomaker-style log of SIM_TRACE_LOG lines.

    Environments hand over whole episodes (``RacerEnv(record_trace=True)`` puts them in ``info["trace"]``),
    written under consecutive episode numbers, so episodes never interleave. Files:
    ``<csv_dir>/<iteration>-iteration.csv`` (DRfC's ``training-simtrace`` layout, plain CSV: about 125 bytes a
    step, see benchmarks/disk.py), and ``log_path`` when given.

    Args:
        csv_dir: folder for the iteration CSVs.
        log_path: file the SIM_TRACE_LOG lines are appended to, or None for none.
        episodes_per_iteration: DeepRacer's num_episodes_between_training.
        on_episode: called with an :class:`EpisodeSummary` after each episode is written.
        first_episode: the number of the first episode (a resumed run continues its numbering).
    """

    def __init__(self, csv_dir: Path, log_path: Path | None = None, episodes_per_iteration: int = 20,
                 on_episode: Callable[[EpisodeSummary], None] | None = None, first_episode: int = 0):
        self.csv_dir = Path(csv_dir)
        self.csv_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = Path(log_path) if log_path is not None else None
        self._log: TextIO | None = None
        if self.log_path is not None:
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
            self._finish_iteration()
            path = self.csv_dir / f"{iteration}-iteration.csv"
            new = not path.exists()
            self._csv = open(path, "a")
            if new:
                self._csv.write(",".join(FIELDS) + "\n")
            self._csv_iteration = iteration
        now = time.time()
        assert self._csv is not None
        self._csv.write("".join(csv_row(r, episode, now) + "\n" for r in rows))
        if any(r.objects for r in rows):
            self._write_objects(iteration, episode, rows)
        if self._log is not None:
            self._log.write("".join(format_line(r, episode, now) + "\n" for r in rows))
        if self.on_episode is not None:
            self.on_episode(EpisodeSummary.from_rows(episode, rows))

    def _write_objects(self, iteration: int, episode: int, rows: list[TraceRow]) -> None:
        """The objects of an episode into ``<iteration>-objects.csv``: a row whenever they move."""
        path = self.csv_dir / f"{iteration}-objects.csv"
        new = not path.exists()
        with open(path, "a") as f:
            if new:
                f.write("episode,steps,objects\n")
            last: tuple | None = None
            for r in rows:
                if r.objects != last:
                    f.write(f"{episode},{r.steps:g}," + ";".join(f"{o.kind} {o.x:.4f} {o.y:.4f} {o.yaw:.4f}"
                                                                  for o in r.objects) + "\n")
                    last = r.objects

    def _finish_iteration(self) -> None:
        if self._csv is None:
            return
        self._csv.close()
        self._csv = None

    def flush(self) -> None:
        for f in (self._csv, self._log):
            if f is not None:
                f.flush()

    def close(self) -> None:
        """Close the files (a resumed run appends to the last iteration)."""
        for f in (self._csv, self._log):
            if f is not None:
                f.close()
        self._csv = self._log = None


def read_objects(folder: str | Path) -> dict[int, list[tuple[float, tuple]]]:
    """The objects racer_env recorded beside a simtrace folder (``N-objects.csv``, plain or gzipped): for each
    episode, (steps from which they stand there, the objects) in order. Empty when there are none."""
    from racer_env.sim.objects import TrackObject

    out: dict[int, list[tuple[float, tuple]]] = {}
    folder = Path(folder)
    files = sorted(folder.glob("*-objects.csv*"), key=lambda p: int(p.name.split("-")[0]) if p.name.split("-")[0].isdigit() else 0)
    for path in files:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt") as f:
            next(f, None)
            for line in f:
                try:
                    episode, steps, packed = line.rstrip("\n").split(",", 2)
                    objects = tuple(TrackObject(float(x), float(y), float(yaw), kind, 0.0, 0.0)
                                    for kind, x, y, yaw in (o.split() for o in packed.split(";") if o))
                    out.setdefault(int(episode), []).append((float(steps), objects))
                except ValueError:
                    continue  # a line cut short by a kill
    return out


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
