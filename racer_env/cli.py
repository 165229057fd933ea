"""The ``racer`` command: parse arguments, call library functions, print results.

    racer train    [--reward R] [--track T] [--model-metadata F] [--hyperparameters F] [--race F]
                   [--timesteps N | --minutes M] [--n-envs K] [--seed S] [--out DIR] [--resume DIR]
                   [--observation camera|vector] [--frame-stack N] [--randomize]
    racer evaluate RUN [--laps 3] [--track T] [--continuous] [--resets N] [--off-track-penalty S] [--race F]
                   [--action-hz HZ]
    racer watch    RUN [--laps N] [--speed 1x|2x|max] [--record out.mp4|out.gif] [--race F] [--camera]
    racer replay   LOG|RUN [--track T] [--episode N | --episodes A-B] [--max-seconds S] [--record ...] [--race F]
                   [--camera]
    racer check    REWARD.py [--track T] [--model-metadata F] [--out DIR] [--compare OTHER.py] [--log LOG] [--race F]
                   | REWARD.py --droa [--fix] [--track T] [--out DIR]
    racer raceline TRACK [--model-metadata F] [--margin 0.1] [--out DIR]
    racer analyze  RUN|LOG [LOG ...] [--track T] [--episodes A-B] [--out DIR] [--open]
    racer sweep    SWEEP.yaml [--workers N] [--address auto|HOST:6379] [--out DIR] [--resume DIR]
    racer drive    [--track T] [--reward R] [--speed V]
    racer tracks   [--aws | download NAME... | download --all]
    racer unpack   RUN [--log]
    racer export   RUN [--out FILE.tar.gz] [--model best|final|PATH] [--check]

``python train.py ...`` is ``racer train ...``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Callable

from racer_env.errors import RacerEnvError


class _Parser(argparse.ArgumentParser):
    """argparse, with bad arguments reported on one line (and where to find the usage)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _int_at_least(least: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``least``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"expected {'0 or more' if least == 0 else f'at least {least}'}, "
                                             f"got {value}")
        return value

    return parse


_nonnegative_int, _positive_int = _int_at_least(0), _int_at_least(1)


def _positive_float(text: str) -> float:
    value = _nonnegative_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected a number > 0, got 0")
    return value


def _action_rate(text: str) -> Any:
    """An argparse type: the car's action rate (racer_env.env.actionrate.ActionRate) from a rate in Hz."""
    from racer_env.env.actionrate import EXAMPLE_RATES, ActionRate
    from racer_env.errors import ActionRateError

    try:
        hz = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a rate in Hz ({EXAMPLE_RATES}), got {text!r}") from None
    try:
        return ActionRate.from_hz(hz)
    except ActionRateError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _episode_range(text: str) -> tuple[int, int]:
    try:
        a, b = (int(v) for v in text.split("-"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected A-B, two episode numbers, got {text!r}") from None
    if a < 0 or b < a:
        raise argparse.ArgumentTypeError(f"expected 0 <= A <= B, got {text!r}")
    return a, b


def _nonnegative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text}")
    return value


RACE_HELP = ("race settings: a simulator YAML (NUMBER_OF_OBSTACLES: 3, ...) or a deepracer-for-cloud run.env "
             "(DR_RACE_TYPE, DR_OA_*, DR_H2B_*)")


def _train(args: argparse.Namespace) -> int:
    from rich.console import Console

    from racer_env.training.evaluation import results_table
    from racer_env.training.trainer import TrainConfig, train, training_env

    console = Console()
    env = training_env(args.resume, args.observation, track=args.track, reward=args.reward,
                       model_metadata=args.model_metadata, race=args.race, reverse=args.reverse,
                       frame_stack=args.frame_stack, randomize=args.randomize)
    cfg = TrainConfig(env=env, hyperparameters=args.hyperparameters, timesteps=args.timesteps, minutes=args.minutes,
                      n_envs=args.n_envs, seed=args.seed, out=args.out, resume=args.resume,
                      eval_laps=args.eval_laps, quiet=args.quiet, until_laps=args.until_laps,
                      until_crashes=args.until_crashes, vec=args.vec,
                      reward_time_limit=args.reward_time_limit or None, sim_trace_log=args.sim_trace_log,
                      network_layout=args.network_layout)
    result = train(cfg, console=console)
    console.print(f"[bold]{result.stopped}[/]: {result.timesteps:,} steps, {result.episodes:,} episodes "
                  f"in {result.seconds:.1f} s -> {result.run_dir}")
    if result.interrupted:
        console.print(f"checkpoint and logs saved; continue with: racer train --resume {result.run_dir}")
        return 130
    if result.evaluation is not None:
        console.print(results_table(result.evaluation))
    console.print(f"watch it: racer watch {result.run_dir}   (evaluate: racer evaluate {result.run_dir}; "
                  f"models in {result.run_dir / 'model'})")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from rich.console import Console

    from racer_env.training.evaluation import evaluate_run, results_table

    console = Console()
    result, path = evaluate_run(args.run, laps=args.laps, track=args.track, continuous=args.continuous,
                                max_resets=args.resets, off_track_penalty=args.off_track_penalty,
                                collision_penalty=args.collision_penalty, which=args.model, race=args.race,
                                observation=args.observation, action_rate=args.action_hz)
    console.print(results_table(result))
    console.print(f"{result.completed}/{len(result.laps)} laps complete; metrics: {path}")
    return 0


def _check_play_arguments(args: argparse.Namespace) -> None:
    """--speed and --record, checked before anything is loaded."""
    from pathlib import Path

    from racer_env.viewing.viewer import parse_speed

    parse_speed(args.speed)
    if args.record and Path(args.record).suffix.lower() not in (".mp4", ".gif"):
        raise RacerEnvError(f"--record {args.record}: expected a .mp4 or .gif file name")


def _play(source, args: argparse.Namespace) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from racer_env.viewing.viewer import parse_speed, record, show

    speed = parse_speed(args.speed)
    camera = bool(args.camera)
    if not args.record:
        show(source, speed, camera=camera)
        return
    total = source.frame_count()
    print(f"recording {f'{total:,} frames' if total is not None else 'the laps'} to {args.record}", flush=True)
    with Progress(TextColumn("[bold]recording"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  transient=True) as bar:
        task = bar.add_task("record", total=total)
        n = record(source, args.record, speed, progress=lambda done, _: bar.update(task, completed=done),
                   camera=camera)
    print(f"wrote {args.record}: {n} frames at {15 * (speed or 1):g} fps")


def _watch(args: argparse.Namespace) -> int:
    from racer_env.env.environment import RacerEnv
    from racer_env.training.rundir import RunDir
    from racer_env.viewing.viewer import ModelSource

    _check_play_arguments(args)
    run = RunDir(args.run)
    model, config = run.model_and_env(args.model, args.observation, track=args.track, race=args.race)
    if args.camera is None:  # shown from the start when the model drives by the camera
        args.camera = config.observation == "camera"
    env = RacerEnv(config, mode="eval", laps=args.laps, render_mode="rgb_array")
    source = ModelSource(env, model, config.network_sees)
    _play(source, args)
    if source.result is not None:
        r = source.result
        times = ", ".join(f"{t:.2f} s" for t in r["lap_times"]) or "none"
        print(f"{r['episode_status']}: {r['laps']}/{args.laps} laps, lap times {times}")
    return 0


def _replay(args: argparse.Namespace) -> int:
    from racer_env.training.logs import log_objects, open_log
    from racer_env.viewing.viewer import LogSource

    _check_play_arguments(args)
    log = open_log(args.log, args.track)
    trace = log.trace
    for problem in trace.problems[:5]:
        print(f"skipped: {problem}", file=sys.stderr)
    if len(trace.problems) > 5:
        print(f"skipped {len(trace.problems) - 5} more lines that do not fit the format", file=sys.stderr)
    first, last = args.episode, None
    if args.episodes:
        first, last = args.episodes
    episodes = trace.episodes()
    objects, note = log_objects(args.log, episodes, log.track, args.race)
    if note:
        print(note, file=sys.stderr)
    source = LogSource(episodes, log.track, first, trace.path, car=f"{log.car.name} ({log.car_source})",
                       last_episode=last, max_seconds=args.max_seconds, objects=objects)
    _play(source, args)
    return 0


def _check(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rich.console import Console

    from racer_env.env.actions import load_model_metadata
    from racer_env.tools.check import run_check, show_report

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    if args.explain:
        from racer_env.tools.check.droa import RULES, explain_rule
        from racer_env.tools.check.pitfalls import explain

        print(explain_rule(args.explain) if args.explain in RULES else explain(args.explain))
        return 0
    if not args.reward:
        raise RacerEnvError("racer check: expected a reward function file (or --explain NAME)")
    if args.fix and not args.droa:
        raise RacerEnvError("racer check: --fix goes with --droa (racer check FILE --droa --fix)")
    out = Path(args.out or f"runs/check-{Path(args.reward).stem}")
    if args.droa:
        from racer_env.tools.check.droa import check_droa, fix_droa, show_droa, show_fix, write_droa_report

        def say(line: str) -> None:  # wrapped at words, whatever the terminal's width
            Console().print(line, markup=False, highlight=False)

        verdict = check_droa(args.reward, args.track)
        show_droa(verdict, say)
        fixed = fix_droa(args.reward, args.track, before=verdict) if args.fix else None
        if fixed is not None:
            show_fix(fixed, say)
        say(f"report: {write_droa_report(verdict, out, fixed)}")
        final = fixed.verdict if fixed is not None else verdict
        return 0 if final.accepted else 1
    console = Console()
    with Progress(TextColumn("[bold]checking"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("battery", total=None)
        report = run_check(args.reward, args.track or args.log_track, load_model_metadata(args.model_metadata), out,
                           args.compare, args.log, args.speed, time_limit_s=args.reward_time_limit or None,
                           progress=lambda done, total: bar.update(task, completed=done, total=total), race=args.race)
    show_report(report, console, out)
    return 1 if report.failed else 0


def _analyze(args: argparse.Namespace) -> int:
    import webbrowser

    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from racer_env.tools.analyze import analyze

    with Progress(TextColumn("[bold]reading {task.description}"), BarColumn(), DownloadColumn(),
                  TimeRemainingColumn(), transient=True) as bar:
        tasks: dict[str, Any] = {}

        def progress(path: str, done: int, total: int) -> None:
            if path not in tasks:
                tasks[path] = bar.add_task(path, total=total)
            bar.update(tasks[path], completed=done)

        result = analyze(args.inputs, out=args.out, track=args.track, episodes=args.episodes, progress=progress)
    for a in result.analyses:
        s = a.summary()
        skipped = f"; {s['lines_skipped']} lines skipped (listed in the report)" if s["lines_skipped"] else ""
        print(f"{a.label}: {s['rows']:,} steps, {s['episodes']} episodes, {s['laps_completed']} laps on "
              f"{s['track']}{skipped}")
    print(f"wrote {result.report} (and summary.json, the PNGs) ")
    if args.open:
        webbrowser.open(result.report.resolve().as_uri())
    return 0


def _sweep(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    from racer_env.tools.sweep import sweep
    from racer_env.training.sweepfile import load_sweep

    if not args.sweep and not args.resume:
        raise RacerEnvError("racer sweep: expected a sweep file (or --resume SWEEP_DIR)")
    plan = load_sweep(args.sweep) if args.sweep and not args.resume else None
    out = args.resume or args.out or f"sweeps/{Path(args.sweep).stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    result = sweep(plan, out, workers=args.workers, address=args.address, resume=bool(args.resume))
    return 130 if result.interrupted else 0


def _raceline(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rich.console import Console

    from racer_env.env.actions import load_model_metadata
    from racer_env.sim.track import Track
    from racer_env.sim.vehicle import car_model_for
    from racer_env.tools.raceline import make_raceline, write_raceline

    console = Console()
    track = Track.load(args.track, reverse=args.reverse)
    actions = load_model_metadata(args.model_metadata)
    out = Path(args.out or f"runs/raceline-{track.name}")
    line, check = make_raceline(track, actions, args.margin)
    files = write_raceline(line, check, car_model_for(actions.version), track, out)
    stages = ", ".join(f"{k} {v:.2f} s" for k, v in line.stages.items())
    console.print(f"[bold]{track.name}[/]: lap-time limit [bold]{line.lap_time:.3f} s[/] flying, "
                  f"[bold]{line.standing_lap_time:.3f} s[/] from rest (a trial's first lap), for the {line.car_model} car "
                  f"at {line.speed_range[0]:g}-{line.speed_range[1]:g} m/s, {line.length:.2f} m of line "
                  f"({stages}; computed in {line.seconds:.1f} s)")
    laps = ", ".join(f"{t:.2f} s" for t in check.lap_times)
    flying = f"; best flying lap {check.flying_ratio:.3f} x the limit" if check.flying_ratio else ""
    console.print(f"check: a tracking controller drove it: {check.status}, laps {laps}{flying}, "
                  f"{check.off_track} off-track, {check.wheels_off_steps} steps with a wheel off")
    console.print(f"with the derived discrete action space: laps {', '.join(f'{t:.2f} s' for t in check.discrete_lap_times)}")
    for f in files:
        console.print(f"wrote {f}")
    return 0


def _unpack(args: argparse.Namespace) -> int:
    from racer_env.env.logreader import unpack_simtrace
    from racer_env.training.rundir import RunDir

    run = RunDir(args.run)
    run.info()  # a run directory, or one clear error
    files = unpack_simtrace(run.simtrace_dir, run.training_log if args.log else None)
    print(f"{run.simtrace_dir}: {len(files)} plain iteration CSVs" + (f"; wrote {run.training_log}" if args.log else ""))
    return 0


def _export(args: argparse.Namespace) -> int:
    from racer_env.training.export import export_run

    result = export_run(args.run, out=args.out, model=args.model)
    print(f"wrote {result.path}: {result.graph_bytes / 1e6:.1f} MB agent/model.pb and model_metadata.json, from "
          f"{result.model}")
    print(f"input {', '.join(result.inputs)}; output {result.output}")
    for note in result.notes:
        print(f"note: {note}")
    if not args.check:
        return 0
    from racer_env.training.converters import check_export

    agreements = check_export(result.path, args.run, args.model)
    for a in agreements:
        error = "" if a.max_error is None else f" (largest difference {a.max_error:.1e})"
        ties = f"; {a.ties} near-ties (two actions within 1e-5) went the other way" if a.ties else ""
        print(f"{a.converter}: racer_env's action on {a.frames - a.differing - a.ties} of {a.frames} camera frames"
              f"{error}{ties}")
    return 1 if any(a.differing for a in agreements) else 0


def _tracks(args: argparse.Namespace) -> int:
    from rich.console import Console

    from racer_env.tools.tracks import aws_listing, tracks_listing

    console = Console()
    for part in aws_listing() if args.aws else tracks_listing():
        console.print(part)
    return 0


def _tracks_download(args: argparse.Namespace) -> int:
    from racer_env.tools.tracks import download_tracks

    def say(d) -> None:
        print(f"{d.name}: {d.status}" + (f" to {d.path}" if d.status == "downloaded" else "")
              + (f" with racer_env ({d.path}): nothing to download" if d.status == "shipped" else "")
              + (f" ({d.detail})" if d.status == "failed" else ""), flush=True)

    results = download_tracks(args.names, every=args.all, force=args.force, progress=say)
    failed = [d for d in results if d.status == "failed"]
    if failed:
        raise RacerEnvError(f"{len(failed)} of {len(results)} tracks failed to download: "
                            + "; ".join(f"{d.name}: {d.detail}" for d in failed[:3]))
    return 0


def _drive(args: argparse.Namespace) -> int:
    from racer_env.tools.drive import drive

    drive(track=args.track, reward=args.reward, speed=args.speed, reverse=args.reverse)
    return 0


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    from racer_env.training.trainer import DEFAULT_TIMESTEPS, TrainConfig

    from racer_env.env.rewards import DEFAULT_REWARD, DEFAULT_TIME_LIMIT_S
    from racer_env.sim.track import DEFAULT_TRACK

    defaults = TrainConfig()
    p.add_argument("--reward", help=f"reward function file (default: the resumed run's, else {DEFAULT_REWARD})")
    p.add_argument("--track", help=f"track name or .npy/.csv (default: the resumed run's, else {DEFAULT_TRACK})")
    p.add_argument("--model-metadata", help="DeepRacer model_metadata.json (default: continuous ±30°, 0.5-4 m/s)")
    p.add_argument("--hyperparameters", help="DeepRacer hyperparameters.json (default: racer_env's, see README)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--timesteps", type=_positive_int,
                        help=f"environment steps to train (default {DEFAULT_TIMESTEPS})")
    budget.add_argument("--minutes", type=_nonnegative_float, help="wall-clock minutes to train")
    p.add_argument("--n-envs", type=_positive_int, default=defaults.n_envs,
                   help="environments stepped together (default %(default)s)")
    p.add_argument("--vec", choices=("fleet", "dummy", "subproc"), default="fleet",
                   help="fleet: every car stepped together (the default, the fastest); dummy: one env each in this "
                        "process; subproc: one process each")
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument("--out", help="run directory (default runs/<date-time>)")
    p.add_argument("--resume", help="continue from this run directory (a new --reward clones the model)")
    p.add_argument("--eval-laps", type=_nonnegative_int, default=defaults.eval_laps,
                   help="laps of the evaluation at the end (0: none; default %(default)s)")
    p.add_argument("--reverse", action="store_true", default=None,
                   help="drive the track the other way (default: the resumed run's, else no)")
    p.add_argument("--until-laps", action="store_true",
                   help="stop as soon as a greedy evaluation drives 3 clean laps in a row")
    p.add_argument("--until-crashes", type=_nonnegative_int, default=0, metavar="N",
                   help="with --until-laps: crashes allowed in each lap (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.add_argument("--reward-time-limit", type=_nonnegative_float, default=DEFAULT_TIME_LIMIT_S, metavar="SECONDS",
                   help="stop with an error when one reward call runs longer (0: no limit; AWS has none; "
                        "default %(default)s)")
    p.add_argument("--race", metavar="FILE", help=RACE_HELP + " (default: the resumed run's, else a time trial)")
    p.add_argument("--observation", choices=("camera", "vector"),
                   help="what the policy sees: the camera image (the default when model_metadata's sensor lists a "
                        "camera, as on AWS) or racer_env's vector of the road ahead (the default otherwise; "
                        "trains in seconds)")
    p.add_argument("--frame-stack", type=_positive_int, metavar="N",
                   help="camera frames stacked in one observation (default 1, as on AWS, which ignores stack_size)")
    p.add_argument("--network-layout", choices=("shared", "aws"), default="shared",
                   help="the camera's network: shared (one network, the policy and the value on its features; the "
                        "default) or aws (two networks, as AWS trains them: see docs/camera.md)")
    p.add_argument("--randomize", action=argparse.BooleanOptionalAction, default=None,
                   help="camera models: draw the camera's look every training episode (its height and pitch, the "
                        "colours, the light, noise and blur: docs/export.md); evaluations drive on the plain render "
                        "(default: the resumed run's, else no)")
    p.add_argument("--sim-trace-log", action="store_true",
                   help="also write logs/training.log, SIM_TRACE_LOG lines as in a robomaker log (the simtrace CSVs "
                        "hold the same rows)")
    p.set_defaults(func=_train)


def build_parser() -> argparse.ArgumentParser:
    from racer_env.constants import COLLISION_PENALTY_S, OFF_TRACK_PENALTY_S
    from racer_env.env.rewards import DEFAULT_REWARD, DEFAULT_TIME_LIMIT_S
    from racer_env.sim.track import DEFAULT_TRACK

    ap = _Parser(prog="racer", description="A local AWS DeepRacer-style simulator.")
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_Parser)
    add_train_arguments(sub.add_parser("train", help="train a model with stable-baselines3"))

    e = sub.add_parser("evaluate", help="drive greedy evaluation laps with a trained model")
    e.add_argument("run", help="a run directory written by racer train")
    e.add_argument("--laps", type=_positive_int, default=3, help="trials, or laps when --continuous (default 3)")
    e.add_argument("--track", help="evaluate on another track")
    e.add_argument("--continuous", action="store_true", help="drive the laps back to back (DRfC's default)")
    e.add_argument("--resets", type=_nonnegative_int, default=0,
                   help="off-tracks survived per trial, each with a penalty")
    e.add_argument("--off-track-penalty", type=_nonnegative_float, default=OFF_TRACK_PENALTY_S,
                   help="seconds (default %(default)s)")
    e.add_argument("--collision-penalty", type=_nonnegative_float, default=COLLISION_PENALTY_S,
                   help="seconds (default %(default)s)")
    e.add_argument("--model", default="best", help="best, final, or a model .zip (default best)")
    e.add_argument("--race", metavar="FILE", help=RACE_HELP + " (default: the run's)")
    e.add_argument("--observation", choices=("camera", "vector"),
                   help="the observation the model was trained on (default: the run's); another is refused")
    e.add_argument("--action-hz", type=_action_rate, metavar="HZ",
                   help="ask the model at the car's rate, HZ times a second, each action held until the next: 60 Hz "
                        "divided by a whole number (30, 20, 15, 12, 10, 7.5, ...); the laps are judged every step as "
                        "ever (default: once a step, the simulator's 15 Hz)")
    e.set_defaults(func=_evaluate)

    w = sub.add_parser("watch", help="watch a trained model drive, live or into a video")
    w.add_argument("run", help="a run directory written by racer train")
    w.add_argument("--laps", type=_positive_int, default=1, help="laps to drive back to back (default 1)")
    w.add_argument("--speed", default="1x", help="1x (real time, 15 Hz), 2x, ... or max")
    w.add_argument("--record", help="write a video instead of opening a window: out.mp4 or out.gif")
    w.add_argument("--track", help="drive another track")
    w.add_argument("--model", default="best", help="best, final, or a model .zip (default best)")
    w.add_argument("--race", metavar="FILE", help=RACE_HELP + " (default: the run's)")
    w.add_argument("--observation", choices=("camera", "vector"),
                   help="the observation the model was trained on (default: the run's); another is refused")
    w.add_argument("--camera", action=argparse.BooleanOptionalAction, default=None,
                   help="show the car's camera beside the top-down view (the c key toggles it; recorded with "
                        "--record); default: on when the model drives by the camera")
    w.set_defaults(func=_watch)

    r = sub.add_parser("replay", help="play a DeepRacer SIM_TRACE log (ours or AWS's) on its track")
    r.add_argument("log", help="a robomaker/simulation log, a simtrace CSV (.csv or .csv.gz), a run directory, a "
                                "deepracer-for-cloud model folder or a console export")
    r.add_argument("--track", help="the track (found from a run directory or the log's WORLD_NAME otherwise)")
    pick = r.add_mutually_exclusive_group()
    pick.add_argument("--episode", type=_nonnegative_int, help="play only this episode (0-based)")
    pick.add_argument("--episodes", type=_episode_range, metavar="A-B", help="play episodes A to B (0-based)")
    r.add_argument("--max-seconds", type=_positive_float, help="stop after this many seconds of the log")
    r.add_argument("--speed", default="1x", help="1x (real time, 15 Hz), 2x, ... or max")
    r.add_argument("--record", help="write a video instead of opening a window: out.mp4 or out.gif")
    r.add_argument("--race", metavar="FILE", help=RACE_HELP + ": to place the objects the log does not hold "
                                                  "(default: the run's)")
    r.add_argument("--camera", action=argparse.BooleanOptionalAction, default=False,
                   help="show the car's camera beside the top-down view (the c key toggles it; recorded with "
                        "--record)")
    r.set_defaults(func=_replay)

    c = sub.add_parser("check", help="test a reward function: failures, statistics, reward hacking, pictures")
    c.add_argument("reward", nargs="?", help="the reward function file")
    c.add_argument("--explain", metavar="NAME", help="explain a pitfall of the catalogue, with an example, and exit")
    c.add_argument("--track", help=f"track name or .npy/.csv, the log's track with --log (default: the one the log "
                                    f"names, else {DEFAULT_TRACK})")
    c.add_argument("--model-metadata", help="DeepRacer model_metadata.json: its actions are tried")
    c.add_argument("--out", help="folder for pictures and failure snippets (default runs/check-<name>)")
    c.add_argument("--compare", help="a second reward function to draw beside the first")
    c.add_argument("--log", help="re-score this SIM_TRACE log with the function (what-if)")
    c.add_argument("--log-track", help=argparse.SUPPRESS)  # the old name of --track for the log
    c.add_argument("--speed", type=_nonnegative_float, help="speed [m/s] of the heatmap (default: a middle speed)")
    c.add_argument("--reward-time-limit", type=_nonnegative_float, default=DEFAULT_TIME_LIMIT_S, metavar="SECONDS",
                   help="stop the check when one call runs longer (0: no limit; default %(default)s)")
    c.add_argument("--race", metavar="FILE", help=RACE_HELP + ": the probes drive among its objects")
    c.add_argument("--droa", action="store_true",
                   help="only DeepRacer on AWS's upload check: every reason it would reject the file, the one it "
                        "shows first, and the fixes (exit 1 when it would reject)")
    c.add_argument("--fix", action="store_true",
                   help="with --droa: write NAME_droa.py beside the file with what can be fixed mechanically "
                        "(whitespace, blank lines, unused imports, int returns), and check it")
    c.set_defaults(func=_check)

    rl = sub.add_parser("raceline", help="compute the fastest line of a track and its lap-time limit")
    rl.add_argument("track", help="track name or .npy/.csv path")
    rl.add_argument("--model-metadata", help="model_metadata.json: its version picks the car, its speeds bound the line")
    rl.add_argument("--margin", type=_nonnegative_float, default=0.1,
                    help="room [m] kept between the car and the borders (default %(default)s)")
    rl.add_argument("--out", help="output folder (default runs/raceline-<track>)")
    rl.add_argument("--reverse", action="store_true", help="drive the track the other way")
    rl.set_defaults(func=_raceline)

    an = sub.add_parser("analyze", help="the log-analysis notebooks as one HTML report: runs, model folders, AWS logs")
    an.add_argument("inputs", nargs="+", metavar="RUN|LOG", help="racer_env run directories, deepracer-for-cloud model "
                    "folders, robomaker/simulation logs, simtrace CSVs (.csv or .csv.gz); several to compare")
    an.add_argument("--track", help="the track, for inputs that do not say theirs (a name or a .npy file)")
    an.add_argument("--episodes", type=_episode_range, metavar="A-B", help="only episodes A to B (0-based)")
    an.add_argument("--out", default="analysis", help="the report's folder (default %(default)s)")
    an.add_argument("--open", action="store_true", help="open the report in the web browser")
    an.set_defaults(func=_analyze)

    sw = sub.add_parser("sweep", help="train many variants at once on Ray Tune and rank them (needs racer_env[sweep])")
    sw.add_argument("sweep", nargs="?", help="the sweep file (YAML: rewards, tracks, hyperparameters, budget, ...)")
    sw.add_argument("--workers", type=_positive_int, help="trials at once (default: one per CPU)")
    sw.add_argument("--address", help="join a Ray cluster: auto, HOST:6379 or ray://HOST:10001 (default: a local "
                                      "Ray instance, started and stopped here)")
    sw.add_argument("--out", help="the sweep's folder (default sweeps/<file>-<time>)")
    sw.add_argument("--resume", metavar="SWEEP_DIR", help="continue an interrupted sweep (finished trials are kept)")
    sw.set_defaults(func=_sweep)

    u = sub.add_parser("unpack", help="restore the gzipped simtrace iterations of a racer_env 0.3 run as plain CSVs "
                                      "(for deepracer-utils)")
    u.add_argument("run", help="a run directory")
    u.add_argument("--log", action="store_true", help="also write logs/training.log (SIM_TRACE_LOG lines)")
    u.set_defaults(func=_unpack)

    x = sub.add_parser("export", help="write a camera model as the physical model the DeepRacer car and DeepRacer "
                                      "on AWS import (model_metadata.json and agent/model.pb in a .tar.gz)")
    x.add_argument("run", help="a run directory")
    x.add_argument("--out", metavar="FILE.tar.gz", help="the file to write; must not exist (default: <run name>.tar.gz "
                                                       "here)")
    x.add_argument("--model", default="best", metavar="best|final|PATH",
                   help="the model: the run's best (the default, as the console exports its best checkpoint), its "
                        "final one, or an SB3 .zip")
    x.add_argument("--check", action="store_true",
                   help="then convert it as DeepRacer on AWS does (OpenVINO, TFLite; needs racer_env[export]) and "
                        "compare with racer_env's actions on 200 camera frames of the run's track (exit 1 if any "
                        "differ)")
    x.set_defaults(func=_export)

    t = sub.add_parser("tracks", help="list the tracks found by name (racer_env's own, $RACER_TRACKS, AWS's shipped, "
                                      "downloaded)")
    t.add_argument("--aws", action="store_true", help="list every AWS track, shipped or to download, one a row")
    t.set_defaults(func=_tracks)
    tsub = t.add_subparsers(dest="tracks_command", parser_class=_Parser)
    td = tsub.add_parser("download", help="fetch AWS's tracks that racer_env does not ship into the track cache "
                                          "($RACER_CACHE/tracks)")
    td.add_argument("names", nargs="*", metavar="NAME", help="track names, as racer tracks --aws lists them")
    td.add_argument("--all", action="store_true", help="every AWS track that racer_env does not ship")
    td.add_argument("--force", action="store_true", help="download again even when a good copy is there")
    td.set_defaults(func=_tracks_download)

    d = sub.add_parser("drive", help="drive one lap with a scripted pure-pursuit driver and show the rewards")
    d.add_argument("--track", default=DEFAULT_TRACK, help="bundled track name or .npy/.csv path")
    d.add_argument("--reward", default=DEFAULT_REWARD, help="reward function file, or a name in reward_functions/")
    d.add_argument("--speed", type=float, default=1.5, help="commanded speed [m/s] (default 1.5)")
    d.add_argument("--reverse", action="store_true", help="drive the track the other way")
    d.set_defaults(func=_drive)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except RacerEnvError as err:
        print(f"racer: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("racer: interrupted", file=sys.stderr)
        return 130


def train_main(argv: list[str] | None = None) -> int:
    """``python train.py``: the same as ``racer train``."""
    return main(["train", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
