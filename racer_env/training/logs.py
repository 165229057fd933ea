"""A DeepRacer log and what it was driven with: its track, numbered as the log numbers it, and its car.

Used by ``racer replay`` and ``racer check --log``, for AWS's logs and racer_env's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from racer_env.constants import DT_S
from racer_env.env.race import RaceSettings, race_settings
from racer_env.env.logreader import LogFacts, SimTrace, read_sim_trace
from racer_env.env.simtrace import TraceRow, closest_waypoint, read_objects
from racer_env.env.traffic import Traffic
from racer_env.errors import RacerEnvError
from racer_env.sim.track import Track
from racer_env.sim.vehicle import CarModel, car_model_for
from racer_env.training.rundir import RunDir

__all__ = ["DrivenLog", "open_log", "track_for_log", "waypoint_agreement", "log_car_model", "log_objects"]


@dataclass
class DrivenLog:
    """A log's rows, the track it was driven on, and the car model it was driven with (and how we know)."""

    trace: SimTrace
    track: Track
    car: CarModel
    car_source: str


def open_log(log: str | Path, track: str | Path | None = None) -> DrivenLog:
    """Read a SIM_TRACE log, and find its track (``track`` if given) and car model.

    Raises:
        RacerEnvError: the log is unreadable, or its track cannot be found.
    """
    trace = read_sim_trace(log)
    car, how = log_car_model(log, trace.simapp_version)
    return DrivenLog(trace, track_for_log(log, track, trace.rows, trace.facts), car, how)


def track_for_log(log: str | Path, track: str | Path | None = None, rows: Sequence[TraceRow] = (),
                  facts: LogFacts | None = None) -> Track:
    """The track a log was driven on: ``track`` if given (looked up beside the log too); else the run directory's
    (run.json in the folder or a parent folder); else the WORLD_NAME the log states (``facts``, else read from
    the log), looked up on the track search path and beside the log.

    When the track file has duplicate rows, the waypoint numbering (duplicates merged or kept, spec §1.2) is the
    one that matches the log's ``closest_waypoint`` column in ``rows``.

    Raises:
        RacerEnvError: the track cannot be found; the message says where it looked and to pass --track.
    """
    found = _find_log_track(Path(log), track, facts)
    if not found.duplicate_rows or not rows:
        return found
    other = Track.load(found.source, reverse=found.is_reversed, merge_duplicates=not found.merge_duplicates)
    return max((found, other), key=lambda t: waypoint_agreement(t, rows))


def waypoint_agreement(track: Track, rows: Sequence[TraceRow], most: int = 3000) -> float:
    """The share of log rows (the first ``most``) whose ``closest_waypoint`` our numbering of ``track`` gives."""
    agree = n = 0
    hint = -1
    for r in rows[:most]:
        where = track.project(r.x, r.y, hint)
        hint = where.seg
        prv, nxt = track.closest_waypoints(where.arc / track.length)
        agree += closest_waypoint(track.waypoints, prv, nxt, r.x, r.y) == r.closest_waypoint
        n += 1
    return agree / n if n else 0.0


def log_car_model(log: str | Path, simapp_version: float | None) -> tuple[CarModel, str]:
    """The car a log was driven with, and how that is known: the log's ``simapp_version`` line, else the
    model_metadata.json of the run it belongs to, else the default car."""
    if simapp_version is not None:
        return car_model_for(simapp_version), f"simapp_version {simapp_version:g} in the log"
    for parent in (Path(log).resolve(), *Path(log).resolve().parents):
        run = RunDir(parent)
        if run.exists() and run.model_metadata.exists():
            from racer_env.env.actions import load_model_metadata

            version = load_model_metadata(run.model_metadata).version
            return car_model_for(version), f"model_metadata version {version} of {run.path}"
    return car_model_for(None), "the log does not say; the default"


def _find_log_track(log: Path, track: str | Path | None, facts: LogFacts | None) -> Track:
    if track:
        return Track.load(track, search=[log if log.is_dir() else log.parent])
    for parent in (log.resolve(), *log.resolve().parents):
        run = RunDir(parent)
        if run.exists():
            name, reverse = run.track_ref()
            return Track.load(name, reverse=reverse)
    if facts is None and log.is_file():
        facts = read_sim_trace(log).facts
    world = facts.world if facts is not None else None
    if world:
        try:
            return Track.load(world, search=[log.parent])
        except RacerEnvError as err:
            raise RacerEnvError(f"{log}: the log was driven on '{world}', which is not here ({err}); "
                                f"pass --track {world}.npy with its folder") from None
    if log.is_dir() or log.name.endswith((".csv", ".csv.gz")):
        raise RacerEnvError(f"{log}: simtrace CSVs do not say their track, and no run.json is above them: "
                            f"pass --track TRACK")
    raise RacerEnvError(f"{log}: the log does not say its track: pass --track TRACK")


def log_objects(log: str | Path, episodes: Sequence[Sequence[TraceRow]], track: Track,
                race: str | Path | None = None) -> tuple[Callable[[Any], tuple] | None, str]:
    """What to draw of the obstacles and bot cars while replaying a log, and a sentence saying where it comes
    from (empty for a time trial).

    DeepRacer's logs do not hold the objects' positions. racer_env's own runs keep them beside the simtrace
    (exact). Otherwise they are placed from the race settings (``race``, else the run directory's race.yaml):
    fixed positions and evenly spaced obstacles exactly, episode by episode as the job would place them; bot cars
    that neither start at random nor change lanes by the log's clock (a pause after a rear-end is not in the
    log); randomised obstacles, random bot starts and lane changes cannot be known, and are not drawn.
    """
    folder = _simtrace_folder(Path(log))
    recorded = read_objects(folder) if folder is not None else {}
    if recorded:
        by_row = {id(r): objects for r, objects in _carry(episodes, recorded)}
        return (lambda row: by_row.get(id(row), ())), "objects as recorded in the run"
    settings = _race_of(Path(log), race)
    if not settings.has_objects:
        return None, ""
    unknown = []
    obstacles_known = not (settings.RANDOMIZE_OBSTACLE_LOCATIONS and not settings.OBJECT_POSITIONS)
    bots_known = not (settings.RANDOMIZE_BOT_CAR_LOCATIONS or settings.IS_LANE_CHANGE)
    if settings.obstacles and not obstacles_known:
        unknown.append("randomised obstacles")
    if settings.bots and not bots_known:
        unknown.append("bot cars with random starts or lane changes")
    traffic = Traffic(track, settings, "eval")
    placed: dict[int, tuple] = {}
    for rows in episodes:  # one reset per episode, as the job did (the shrinking gap counts them)
        traffic.reset()
        for r in rows:
            obstacles = list(traffic.obstacles) if obstacles_known else []
            bots: list = []
            if settings.bots and bots_known:
                traffic.run_time = max(0.0, r.tstamp - rows[0].tstamp - DT_S)
                bots = traffic._bot_poses()
            placed[id(r)] = tuple(obstacles + bots)
    note = "the log does not hold the objects: placed from the race settings"
    if unknown:
        note += f"; {' and '.join(unknown)} cannot be known from a log and are not drawn"
    return (lambda row: placed.get(id(row), ())), note


def _simtrace_folder(log: Path) -> Path | None:
    if log.is_dir():
        return log / "training-simtrace" if (log / "training-simtrace").is_dir() else log
    return log.parent if log.name.endswith(("-iteration.csv", "-iteration.csv.gz")) else None


def _carry(episodes: Sequence[Sequence[TraceRow]], recorded: dict[int, list[tuple[float, tuple]]]):
    """Each row with the objects recorded at or before its step in its episode."""
    for rows in episodes:
        marks = recorded.get(rows[0].episode, []) if rows else []
        k, current = 0, ()
        for r in rows:
            while k < len(marks) and marks[k][0] <= r.steps:
                current = marks[k][1]
                k += 1
            yield r, current


def _race_of(log: Path, race: str | Path | None) -> RaceSettings:
    if race is not None:
        return race_settings(race)
    for folder in (log, *log.parents):
        if (folder / "run.json").exists():
            run = RunDir(folder)
            return race_settings(run.race if run.race.exists() else None)
    return race_settings(None)
