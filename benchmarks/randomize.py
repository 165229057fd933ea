"""Does a camera model trained with ``--randomize`` still lap on the plain render, and does it lap on looks that
neither it nor a model trained without it ever saw?

For each seed, a camera model trains on --track twice, with the same seed and the same budget: once on the plain
render, once with ``--randomize`` (racer_env.sim.randomize: the camera's mount, the colours, the light, noise and
blur drawn every episode). By default each stops at its first 3 clean laps of a greedy evaluation on the plain
render (``--until-laps``, as ``train.py`` evaluates during training), or after --minutes; ``--steps N`` trains
both for N steps instead. The two train side by side, each in its own process with one torch thread (so that
both meet the same load on a shared machine; two threads on two busy cores ran a camera training at 27 steps/s
here, one thread at 41), with racer_env's defaults otherwise (the default reward function, the shallow network,
a continuous action space ±30°, 0.5-4 m/s). Steps to 3 clean laps compare the two; seconds depend on the load.

Each run's best model (the one training kept, chosen on the plain render) then drives --trials trials on the
plain render and on each perturbation of ``racer_env.sim.randomize.PERTURBATIONS``, which no training draws: hard
shadow bands, a light road, a bright room, a dim room, a motion blur, a camera tilt, lens vignetting. The
trials start at rest at 0 %, 33 % and 67 % of the lap (a deterministic policy from the start line drives the
same trial every time) and end at their first off-track, as the AWS console's; each reports laps completed, the
progress and the lap time. Results go to --out as each run ends; --report-only prints the table from them.

    python benchmarks/randomize.py [--track reinvent_base] [--seeds 1] [--minutes 11 | --steps N] [--trials 3]
                                   [--out benchmarks/results/randomize-reinvent_base.json] [--work DIR]
                                   [--report-only]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CAMERA_METADATA = {"action_space": {"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 0.5, "high": 4}},
                   "action_space_type": "continuous", "sensor": ["FRONT_FACING_CAMERA"],
                   "neural_network": "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW", "training_algorithm": "clipped_ppo",
                   "version": "5"}
VARIANTS = ("plain", "randomised")


def start_training(track: str, seed: int, randomize: bool, minutes: float, steps: int | None, out: Path,
                   metadata: Path) -> subprocess.Popen:
    """One training in a fresh process (:func:`finish_training` reads what it took)."""
    code = (
        "import json\n"
        "from racer_env.env.config import EnvConfig\n"
        "from racer_env.training.trainer import TrainConfig, train\n"
        f"env = EnvConfig.make(track={track!r}, model_metadata={str(metadata)!r}, randomize={randomize})\n"
        f"res = train(TrainConfig(env=env, seed={seed}, minutes={minutes if steps is None else None}, "
        f"timesteps={steps}, quiet=True, eval_laps=0, until_laps={steps is None}, torch_threads=1, "
        f"out={str(out)!r}))\n"
        "laps = next((h['timesteps'] for h in res.history if h['eval_completed'] >= 3), None)\n"
        "print(json.dumps({'seconds': res.seconds, 'steps': res.timesteps, 'clean_laps_s': res.first_clean_laps_s,\n"
        "                  'clean_laps_steps': laps, 'stopped': res.stopped}))\n")
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_training(proc: subprocess.Popen, out: Path) -> dict[str, Any]:
    """What a training of :func:`start_training` took, and where its model is."""
    stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"training failed:\n{stderr[-3000:]}")
    return {**json.loads(stdout.strip().splitlines()[-1]), "run": str(out)}


def drive(run: Path, trials: int) -> dict[str, list[dict[str, Any]]]:
    """The run's best model on the plain render and on each perturbation: ``trials`` trials each."""
    import numpy as np
    import torch

    from racer_env.env.environment import RacerEnv
    from racer_env.sim.randomize import PERTURBATIONS
    from racer_env.training.evaluation import greedy
    from racer_env.training.rundir import RunDir

    torch.set_num_threads(1)
    model, config = RunDir(run).model_and_env("best")
    policy = greedy(model)
    out: dict[str, list[dict[str, Any]]] = {}
    for condition in ("plain", *PERTURBATIONS):
        env = RacerEnv(config.replace(perturbation=None if condition == "plain" else condition), mode="eval")
        results = []
        for start in np.arange(trials) * 100.0 / trials:
            obs, info = env.reset(seed=0, options={"start_progress": float(start)})
            terminated = truncated = False
            while not (terminated or truncated):
                obs, _, terminated, truncated, info = env.step(policy(obs))
            done = info["laps"] >= 1
            results.append({"start": float(start), "status": info["episode_status"],
                            "progress": 100.0 if done else float(info["progress"]),
                            "lap_time": float(info["lap_times"][0]) if done else None})
        out[condition] = results
    return out


def _summary(trials: list[dict[str, Any]]) -> tuple[str, str, str]:
    laps = [t["lap_time"] for t in trials if t["lap_time"] is not None]
    progress = statistics.mean(t["progress"] for t in trials)
    return (f"{len(laps)}/{len(trials)}", f"{progress:.0f} %",
            f"{statistics.median(laps):.2f} s" if laps else "-")


def report(results: dict[str, Any]) -> str:
    """The results as Markdown: the trainings, then one row a look."""
    from racer_env.sim.randomize import PERTURBATIONS

    lines = []
    for variant in VARIANTS:
        runs = results["runs"].get(variant, [])
        for seed, r in enumerate(runs):
            laps = (f"3 clean laps after {r['clean_laps_s'] / 60:.1f} min ({r['clean_laps_steps']:,} steps)"
                    if r["clean_laps_s"] else "no 3 clean laps")
            lines.append(f"* {variant}, seed {seed}: {laps}; trained {r['steps']:,} steps in {r['seconds'] / 60:.1f} "
                         f"min ({r['steps'] / r['seconds']:.0f} steps/s)")
    lines += ["", "| look | plain model: laps | progress | median lap | randomised model: laps | progress | "
                  "median lap |", "|---|---|---|---|---|---|---|"]
    conditions = ("plain", *PERTURBATIONS)
    for condition in conditions:
        cells = []
        for variant in VARIANTS:
            trials = [t for seed in results["drives"].get(variant, []) for t in seed.get(condition, [])]
            cells += _summary(trials) if trials else ["-", "-", "-"]
        name = "plain render" if condition == "plain" else condition
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "The looks (none of them drawn in training):"]
    lines += [f"* {p.name}: {p.what}" for p in PERTURBATIONS.values()]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--track", default="reinvent_base", help="a track name (on the search path) or file")
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--minutes", type=float, default=11.0,
                    help="with --until-laps (the default budget): give up after this many minutes of training")
    ap.add_argument("--steps", type=int, help="train each model for this many steps instead of until 3 clean laps")
    ap.add_argument("--trials", type=int, default=3, help="trials a look, spread round the lap")
    ap.add_argument("--out", default="benchmarks/results/randomize-reinvent_base.json")
    ap.add_argument("--report-only", action="store_true", help="print the table of --out's results")
    ap.add_argument("--work", help="keep the runs in this folder (default: a temporary one, removed at the end)")
    args = ap.parse_args()
    out = Path(args.out)
    if args.report_only:
        print(report(json.loads(out.read_text())))
        return
    started = time.time()
    results: dict[str, Any] = {"track": args.track, "seeds": args.seeds, "trials": args.trials,
                               "budget": {"steps": args.steps} if args.steps else
                               {"until_laps": True, "minutes": args.minutes},
                               "runs": {v: [] for v in VARIANTS}, "drives": {v: [] for v in VARIANTS}}
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work or tmp)
        work.mkdir(parents=True, exist_ok=True)
        metadata = work / "camera.json"
        metadata.write_text(json.dumps(CAMERA_METADATA))
        for seed in range(args.seeds):
            procs = {v: start_training(args.track, seed, v == "randomised", args.minutes, args.steps,
                                       work / f"{v}-{seed}", metadata) for v in VARIANTS}
            for variant, proc in procs.items():
                run = finish_training(proc, work / f"{variant}-{seed}")
                laps = (f"3 clean laps after {run['clean_laps_s']:.0f} s ({run['clean_laps_steps']:,} steps)"
                        if run["clean_laps_s"] else "no 3 clean laps")
                print(f"seed {seed}, {variant}: {laps}; {run['steps']:,} steps in {run['seconds']:.0f} s", flush=True)
                results["runs"][variant].append(run)
            for variant in VARIANTS:
                results["drives"][variant].append(drive(Path(results["runs"][variant][-1]["run"]), args.trials))
            results["seconds"] = round(time.time() - started, 1)
            out.write_text(json.dumps(results, indent=1))
    print(report(results))
    print(f"\n{time.time() - started:.0f} s in all; results in {out}")


if __name__ == "__main__":
    main()
