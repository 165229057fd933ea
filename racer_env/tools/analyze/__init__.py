"""racer analyze: the community's log-analysis notebooks as one command and one HTML report.

``analyze(inputs, out=...)`` reads racer_env runs, deepracer-for-cloud model folders, AWS robomaker/simulation logs
and simtrace CSVs (:mod:`.reading`), computes what the notebooks show (:mod:`.summary`), draws it (:mod:`.figures`)
and writes ``report.html``, ``summary.json`` and the PNGs (:mod:`.report`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from racer_env.errors import RacerEnvError
from racer_env.sim.track import Track
from racer_env.tools.analyze.reading import Trace, read_trace
from racer_env.tools.analyze.report import write_report
from racer_env.tools.analyze.summary import Analysis, analyse

__all__ = ["analyze", "AnalyzeResult", "track_of"]


@dataclass
class AnalyzeResult:
    report: Path
    summary: Path
    analyses: list[Analysis]


def analyze(inputs: list[str | Path], out: str | Path = "analysis", track: str | Path | None = None,
            episodes: tuple[int, int] | None = None,
            progress: Callable[[str, int, int], None] | None = None) -> AnalyzeResult:
    """Analyse each input and write the report into ``out``.

    Args:
        inputs: run directories, model folders, logs or simtrace CSVs.
        out: the report's folder (made if needed).
        track: the track, for inputs that do not say theirs (a name or a file).
        episodes: (first, last) episode, 0-based in each input's order, both included.
        progress: called as ``progress(input, bytes_read, bytes_total)`` while reading.

    Raises:
        RacerEnvError: an input that is no log, is empty, whose track cannot be found, or an episode range outside
            it; the message names the input and what is wrong.
    """
    analyses = []
    for path in inputs:
        trace = read_trace(path, _reporter(progress, str(path)))
        analyses.append(analyse(trace, track_of(trace, track), episodes))
    report = write_report(analyses, Path(out))
    return AnalyzeResult(report, Path(out) / "summary.json", analyses)


def _reporter(progress: Callable[[str, int, int], None] | None, name: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    report = progress
    return lambda done, total: report(name, done, total)


def track_of(trace: Trace, track: str | Path | None) -> Track:
    """The track an input was driven on: ``track`` if given; else its run's (run.json); else the track the log
    names (WORLD_NAME), looked for on the track search path and beside the log.

    Raises:
        RacerEnvError: not found; the message says where it looked and to pass --track.
    """
    beside = [trace.path if trace.path.is_dir() else trace.path.parent]
    name = track or trace.run_track or trace.world
    if name is None:
        raise RacerEnvError(f"{trace.path}: the input does not say its track (no WORLD_NAME, no run.json): "
                            f"pass --track NAME or a .npy file")
    try:
        return Track.load(name, search=beside)
    except RacerEnvError as err:
        how = "--track" if track else ("its run.json" if trace.run_track else "the log's WORLD_NAME")
        raise RacerEnvError(f"{trace.path}: track {name!s} (from {how}) not found: {err}; pass --track") from None
