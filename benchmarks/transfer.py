"""Does a reward function's ranking under racer_env's vector observation predict its ranking under the camera?

Each of the bundled time-trial reward functions trains with the vector observation and with the camera (the
simulator's grey image and shallow network), --seeds seeds each, for the same --steps; otherwise racer_env's
defaults, on --track. follow_raceline carries harbour_loop's racing line: on another track it gets that track's
own, pasted in as its docstring says (``racer raceline``'s line). Each run's best model (the one training kept)
is then evaluated as the AWS console does: 3 trials from the start line, each ending at its first off-track. A reward function scores, under each observation, its laps completed over all trials of all seeds,
then its mean progress, then its median lap; the two rankings are compared with Spearman's and Kendall's
coefficients.

Results go to --out (JSON) as each run ends, so an interrupted study resumes where it stopped. Each row keeps
when its run started and ended, and the report gives the study's wall time as the union of those spans (a study
run in parts counts only the time it ran).

--jobs N trains N runs at once, each in its own process with the cores shared out among them (torch's threads).
On 2 cores, two 6,144-step camera runs of one thread each took 119 s together against 158 s one after the other
with two threads (1.33x); in the reinvent_base study each 30,720-step camera run took 9.8 min two at a time (median),
4.9 min a run, against about 5.6 min alone at 92 steps/s (1.1x): two threads share a convolution less well than
two processes share the cores.

    python benchmarks/transfer.py [--steps 30000] [--seeds 3] [--track reinvent_base] [--out transfer.json] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

REWARDS = ("follow_center", "stay_inside", "no_zigzag", "object_avoidance", "progress_speed", "racing_line",
           "follow_raceline")
CAMERA_METADATA = {"action_space": {"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 0.5, "high": 4}},
                   "action_space_type": "continuous", "sensor": ["FRONT_FACING_CAMERA"],
                   "neural_network": "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW", "training_algorithm": "clipped_ppo",
                   "version": "5"}


def reward_for(reward: str, track: str, work: Path) -> str:
    """The reward function to train: the bundled one, or follow_raceline with the track's own racing line."""
    from racer_env.env.actions import ActionSpec
    from racer_env.env.rewards import reward_file
    from racer_env.sim.track import Track
    from racer_env.training.laplimit import cached_racing_line

    source = reward_file(reward)
    if reward != "follow_raceline" or Track.load(track).name == "harbour_loop":
        return str(source)
    line = cached_racing_line(Track.load(track), ActionSpec.default())
    assert line is not None, f"{track}: no racing line"
    text = source.read_text()
    start = text.index("RACING_LINE = [")
    end = text.index("\n]\n", start) + 3
    rows = ",\n".join(f"    [{x:.4f}, {y:.4f}, {v:.3f}, {t:.3f}]" for x, y, v, t in line.rows())
    fitted = work / f"follow_raceline_{Path(track).stem}.py"
    fitted.write_text(text[:start] + f"RACING_LINE = [\n{rows},\n]\n" + text[end:])
    return str(fitted)


def one_run(reward: str, reward_path: str, observation: str, seed: int, steps: int, track: str, work: Path,
            torch_threads: int | None = None) -> dict:
    """Train one run and evaluate its best model. reward_path and work/camera.json are written beforehand."""
    from racer_env.training.evaluation import evaluate_run
    from racer_env.env.config import EnvConfig
    from racer_env.training.trainer import TrainConfig, train

    out = work / f"{reward}-{observation}-{seed}"
    t0 = time.time()
    env = EnvConfig.make(track=track, reward=reward_path, model_metadata=work / "camera.json",
                         observation=observation)
    res = train(TrainConfig(env=env, seed=seed, timesteps=steps, quiet=True, eval_laps=0, out=str(out),
                            torch_threads=torch_threads))
    minutes = (time.time() - t0) / 60
    ev, _ = evaluate_run(out, laps=3)
    clean = next((h["timesteps"] for h in res.history if h["eval_completed"] >= 3), None)
    return {"reward": reward, "observation": observation, "seed": seed, "steps": res.timesteps,
            "minutes": round(minutes, 2), "laps": ev.completed, "progress": round(ev.mean_progress, 2),
            "lap_times": [lap.lap_time for lap in ev.laps if lap.status == "lap_complete"],
            "steps_to_3_clean_laps": clean, "started": round(t0, 1), "ended": round(time.time(), 1)}


def wall_minutes(results: list[dict]) -> float | None:
    """The study's wall time: the union of its runs' spans, in minutes (None when a row has no span)."""
    spans = sorted((r["started"], r["ended"]) for r in results if "started" in r)
    if not spans or len(spans) < len(results):
        return None
    total, (start, end) = 0.0, spans[0]
    for s, e in spans[1:]:
        if s > end:
            total, start = total + end - start, s
        end = max(end, e)
    return (total + end - start) / 60


def score(rows: list[dict]) -> tuple[float, float, float]:
    """Higher is better: laps completed, mean progress, then a shorter median lap."""
    laps = sum(r["laps"] for r in rows)
    progress = statistics.mean(r["progress"] for r in rows)
    times = [t for r in rows for t in r["lap_times"]]
    return laps, progress, -statistics.median(times) if times else -1e9


def report(results: list[dict], seeds: int, trials: int = 3) -> None:
    from scipy.stats import kendalltau, spearmanr

    results = [x for x in results if x["seed"] < seeds]  # --report-only --seeds N: the first N seeds only
    rewards = [r for r in REWARDS if any(x["reward"] == r for x in results)]
    ranks: dict[str, dict[str, int]] = {}
    for obs in ("vector", "camera"):
        scores = {r: score([x for x in results if x["reward"] == r and x["observation"] == obs]) for r in rewards
                  if any(x["reward"] == r and x["observation"] == obs for x in results)}
        ordered = sorted(scores, key=lambda r: scores[r], reverse=True)
        ranks[obs] = {r: i + 1 for i, r in enumerate(ordered)}
    print("| reward function | vector: laps | progress | median lap | rank | camera: laps | progress | median lap "
          "| rank |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rewards:
        cells = []
        for obs in ("vector", "camera"):
            rows = [x for x in results if x["reward"] == r and x["observation"] == obs]
            if not rows:
                cells += ["-"] * 4
                continue
            times = [t for x in rows for t in x["lap_times"]]
            cells += [f"{sum(x['laps'] for x in rows)}/{trials * len(rows)}",
                      f"{statistics.mean(x['progress'] for x in rows):.0f} %",
                      f"{statistics.median(times):.2f} s" if times else "-", str(ranks[obs].get(r, "-"))]
        print(f"| {r} | " + " | ".join(cells) + " |")
    both = [r for r in rewards if r in ranks["vector"] and r in ranks["camera"]]
    if len(both) >= 3:
        a, b = [ranks["vector"][r] for r in both], [ranks["camera"][r] for r in both]
        rho, p_rho = spearmanr(a, b)
        tau, p_tau = kendalltau(a, b)
        print(f"\nrank agreement over {len(both)} reward functions: Spearman {rho:.2f} (p = {p_rho:.2f}), "
              f"Kendall {tau:.2f} (p = {p_tau:.2f})")
    for obs in ("vector", "camera"):
        rows = [x for x in results if x["observation"] == obs]
        if rows:
            print(f"{obs}: {len(rows)} runs, median {statistics.median(x['minutes'] for x in rows):.1f} min each")
    wall = wall_minutes(results)
    if wall is not None:
        print(f"the study: {len(results)} runs in {wall:.1f} min of wall time")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=30000)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--track", default="reinvent_base", help="a track name (on the search path) or file")
    ap.add_argument("--out", default="transfer.json")
    ap.add_argument("--report-only", action="store_true", help="print the table of --out and stop")
    ap.add_argument("--jobs", type=int, default=1, help="runs trained at once, each in its own process")
    args = ap.parse_args()
    out = Path(args.out)
    results: list[dict] = json.loads(out.read_text()) if out.exists() else []
    if not args.report_only:
        todo = [(reward, observation, seed) for seed in range(args.seeds) for reward in REWARDS
                for observation in ("camera", "vector")
                if not any(r["reward"] == reward and r["observation"] == observation and r["seed"] == seed
                           for r in results)]
        threads = max(1, (os.cpu_count() or 1) // args.jobs) if args.jobs > 1 else None
        with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(max_workers=args.jobs) as pool:
            work = Path(tmp)
            (work / "camera.json").write_text(json.dumps(CAMERA_METADATA))
            paths = {reward: reward_for(reward, args.track, work) for reward in REWARDS}
            runs = [pool.submit(one_run, reward, paths[reward], observation, seed, args.steps, args.track, work,
                                threads) for reward, observation, seed in todo]
            try:
                for done in as_completed(runs):
                    r = done.result()
                    results.append(r)
                    out.write_text(json.dumps(results, indent=1))
                    print(f"{r['reward']} {r['observation']} seed {r['seed']}: {r['laps']}/3 laps, progress "
                          f"{r['progress']} %, {r['minutes']} min", flush=True)
            except BaseException:  # a failed run or ^C: the runs not yet started are not started
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    report(results, args.seeds)


if __name__ == "__main__":
    main()
