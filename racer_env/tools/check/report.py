"""``racer check``: everything it does, as one library call (``run_check``), and its report (``show_report``)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from racer_env.env.actions import ActionSpec
from racer_env.env.race import race_settings
from racer_env.env.rewards import DEFAULT_TIME_LIMIT_S, RewardFunction, reward_file
from racer_env.sim.track import DEFAULT_TRACK, Track
from racer_env.tools.check.battery import BUDGET_S, BatteryReport, Sink, battery, failure_snippet
from racer_env.tools.check.droa import DroaVerdict, check_droa
from racer_env.tools.check.pictures import draw_pictures
from racer_env.tools.check.pitfalls import Finding, link_failures, observe_behaviour, read_code
from racer_env.tools.check.probes import Probe, hacking_warnings, probe_speeds, probes
from racer_env.tools.check.rescore import LogRescore, rescore_log, write_rescore
from racer_env.training.laplimit import cached_racing_line
from racer_env.training.logs import open_log

__all__ = ["CheckReport", "run_check", "show_report", "PROBE_AND_PICTURE_CALLS"]

PROBE_AND_PICTURE_CALLS = 15_000
"""About how many reward calls the probes and pictures make on a track like harbour_loop."""


@dataclass
class CheckReport:
    reward: str
    track: str
    battery: BatteryReport
    probes: list[Probe]
    warnings: list[str]
    pictures: list[Path]
    snippets: list[Path]
    log: LogRescore | None = None
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    """Pitfalls of the catalogue found in the code or the behaviour (warnings unless the function also fails)."""
    path: str = ""
    droa: DroaVerdict | None = None
    """What DeepRacer on AWS's upload check would say (racer check --droa tells more)."""

    @property
    def failed(self) -> bool:
        return bool(self.battery.failures) or bool(self.log and self.log.failures)


def run_check(reward: str | Path, track: str | Path | None, actions: ActionSpec, out: Path,
              compare: str | None = None, log: str | None = None, heat_speed: float | None = None,
              time_limit_s: float | None = DEFAULT_TIME_LIMIT_S,
              progress: Callable[[int, int], None] | None = None, race: str | Path | None = None) -> CheckReport:
    """Everything ``racer check`` does; writes pictures and failure snippets into ``out``.

    With ``log``, ``track`` is the log's track too (default: the one the log names); without a log the
    default is harbour_loop. A function too slow for the probes and pictures within about a minute skips them,
    with a warning that says so. With ``race`` (a race settings file) the probes drive among its objects.

    Raises:
        RewardFunctionError: the function (or the --compare one) does not load: syntax error, missing
            reward_function, or an import that fails; the message names the file and line.
    """
    t0 = time.time()
    path = reward_file(reward)
    RewardFunction(path, stdout=Sink())  # load errors stop here
    source = path.read_text(errors="replace")
    if compare:
        RewardFunction(compare, stdout=Sink())
    settings = race_settings(race)
    driven = open_log(log, track) if log else None
    trk = driven.track if driven is not None else Track.load(track or DEFAULT_TRACK)
    bat = battery(path, trk, actions, time_limit_s=time_limit_s, progress=progress)
    out.mkdir(parents=True, exist_ok=True)
    snippets = []
    for i, failure in enumerate(bat.failures, start=1):
        p = out / f"test_failure_{i}.py"
        p.write_text(failure_snippet(failure, str(path), f"test_reward_function_failure_{i}"))
        snippets.append(p)
    warnings = [f"params['{k}'] is never passed by DeepRacer" + (f"; did you mean '{hint}'?" if hint else "")
                for k, hint in bat.unknown_keys.items()]
    if bat.sampled > 1:
        warnings.append(f"the function takes {bat.seconds_per_call * 1000:.0f} ms a call: the battery tried one state "
                        f"in {bat.sampled} of its {bat.planned:,} to finish in about {BUDGET_S:g} s")
    slow = bat.seconds_per_call * PROBE_AND_PICTURE_CALLS > BUDGET_S
    if slow and not bat.failures:
        warnings.append(f"the function takes {bat.seconds_per_call * 1000:.0f} ms a call: the probes and pictures "
                        f"(about {PROBE_AND_PICTURE_CALLS:,} calls, {bat.seconds_per_call * PROBE_AND_PICTURE_CALLS / 60:.0f} "
                        f"min) were skipped; training would spend that long per {PROBE_AND_PICTURE_CALLS:,} steps")
    results: list[Probe] = []
    line = cached_racing_line(trk, actions)
    if not bat.failures and not slow:
        results = probes(path, trk, actions, line=line, race=settings)
        warnings += hacking_warnings(results)
    speeds = probe_speeds(actions)
    pictures = []
    if not bat.failures and not slow:
        pictures = draw_pictures([path] + ([reward_file(compare)] if compare else []), trk, speeds,
                                 heat_speed or speeds[len(speeds) // 2], out, line)
    rescored = None
    if driven is not None:
        rescored = rescore_log(path, driven)
        write_rescore(rescored, out)
    findings = read_code(source, trk, actions)
    if not slow:
        findings += observe_behaviour(path, source, trk, actions, bat)
    findings = link_failures(sorted(set(findings), key=lambda f: (f.line, f.name)), bat)
    droa = check_droa(path, trk)
    report = CheckReport(str(reward), trk.name, bat, results, warnings, pictures, snippets, rescored,
                         time.time() - t0, findings, str(path), droa)
    write_report_json(report, out)
    return report


def write_report_json(report: CheckReport, out: Path) -> Path:
    """``out/report.json``: the findings (name, line, message), the warnings and failures, the verdict."""
    import json

    data = {
        "reward": report.path, "track": report.track, "failed": report.failed, "seconds": round(report.seconds, 2),
        "findings": [{"name": f.name, "line": f.line, "message": f.message} for f in report.findings],
        "warnings": report.warnings,
        "failures": [{"where": f.where, "what": f.what, "situation": f.situation} for f in report.battery.failures],
    }
    if report.droa is not None:
        data["droa"] = report.droa.to_json()
    path = out / "report.json"
    path.write_text(json.dumps(data, indent=2))
    return path


def show_report(report: CheckReport, console, out: Path) -> None:
    """Print a check report with rich."""
    from racer_env.viewing.tables import KEY, LABEL, TEXT, make_table

    b = report.battery
    console.print(f"[bold]racer check[/] {report.reward} on {report.track}: {b.calls:,} calls, "
                  f"{b.seconds_per_call * 1e6:.1f} µs a call")
    table = make_table("reward by situation", [("situation", TEXT), ("states", KEY), ("min", KEY), ("median", KEY),
                                               ("max", KEY)])
    for s in b.stats:
        table.add_row(s.situation, f"{s.n:,}", f"{s.minimum:.4g}", f"{s.median:.4g}", f"{s.maximum:.4g}")
    console.print(table)
    console.print("params read: " + (", ".join(sorted(b.keys_read)) or "none"))
    if b.stopped:
        console.print(f"[bold red]stopped[/] after {b.calls:,} of {b.planned:,} states: a call ran past the time limit "
                      f"(--reward-time-limit); AWS has no limit, but a training run would hang there")
    if b.failures:
        console.print(f"[bold red]{b.failure_count:,} failing calls[/], {len(b.failures)} distinct:")
        for f, snippet in zip(b.failures, report.snippets):
            console.print(f"  [red]{f.where}[/]: {f.what} ({f.situation}); reproduce with {snippet}")
        first = b.failures[0]
        shown = {k: (f"<{len(v)} waypoints, see {report.snippets[0].name}>" if k == "waypoints" else v)
                 for k, v in first.params.items()}
        console.print(f"  params of the first: {shown}", soft_wrap=True)
    if report.probes:
        t = make_table("scripted drivers (reward-hacking probes)",
                       [("driver", TEXT), ("ends", LABEL), ("seconds", KEY), ("return", KEY), ("per s", KEY),
                        ("progress", KEY)])
        for p in report.probes:
            t.add_row(p.name, p.status, f"{p.seconds:.1f}", f"{p.reward:.4g}", f"{p.per_second:.4g}",
                      f"{p.progress:.1f} %")
        console.print(t)
    if report.log is not None:
        r = report.log
        for line in r.about:
            console.print(f"log {line}")
        t = make_table("what-if on the log: reward per episode",
                       [("episode", KEY), ("steps", KEY), ("logged", KEY), ("new", KEY)])
        for ep, n, logged, new in r.episodes[:30]:
            t.add_row(str(ep), str(n), f"{logged:.4g}", f"{new:.4g}")
        console.print(t)
        if len(r.episodes) > 30:
            console.print(f"... {len(r.episodes) - 30} more episodes")
        for problem in r.problems[:5]:
            console.print(f"[yellow]skipped log line[/] {problem}")
        for f in r.failures[:5]:
            console.print(f"[red]{f.where}[/]: {f.what} at {f.situation}")
        console.print(f"per step and per waypoint: {out / 'rescore_steps.csv'}, {out / 'rescore_waypoints.csv'}")
    for finding in report.findings:
        console.print(finding.text(report.path), soft_wrap=True, markup=False, highlight=False)
    if report.findings:
        console.print("(racer check --explain NAME tells more of each)", style="dim")
    for w in report.warnings:
        console.print(f"[bold yellow]warning:[/] {w}")
    for picture in report.pictures:
        console.print(f"picture: {picture}")
    if report.droa is not None:
        n = len(report.droa.findings)
        console.print("DeepRacer on AWS would accept this file" if report.droa.accepted else
                      f"DeepRacer on AWS would reject it: {n} reason{'s' if n != 1 else ''}, see racer check --droa",
                      style="green" if report.droa.accepted else "yellow", markup=False)
    verdict = "[bold red]FAILED[/]" if report.failed else (
        "[bold yellow]passed with warnings[/]" if report.warnings or report.findings else "[bold green]passed[/]")
    console.print(f"{verdict} in {report.seconds:.1f} s")
