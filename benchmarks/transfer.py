"""Does a reward function's ranking under racer_env's vector observation predict its ranking under the camera?

Each of the bundled time-trial reward functions trains with the vector observation and with the camera (the
simulator's grey image and shallow network), --seeds seeds each, for the same --steps; otherwise racer_env's
defaults, on --track. follow_raceline carries harbour_loop's racing line: on another track it gets that track's
own, pasted in as its docstring says (``racer raceline``'s line). Each run's best model (the one training kept)
is then evaluated as the AWS console does: 3 trials from the start line, each ending at its first off-track. A reward function scores, under each observation, its laps completed over all trials of all seeds,
then its mean progress, then its median lap; the two rankings are compared with Spearman's and Kendall's
coefficients.

Results go to --out (JSON) as each run ends, so an interrupted study resumes where it stopped.

    python benchmarks/transfer.py [--steps 30000] [--seeds 3] [--track reinvent_base] [--out transfer.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
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


def one_run(reward: str, observation: str, seed: int, steps: int, track: str, work: Path) -> dict:
    from racer_env.training.evaluation import evaluate_run
    from racer_env.env.config import EnvConfig
    from racer_env.training.trainer import TrainConfig, train

    metadata = work / "camera.json"
    metadata.write_text(json.dumps(CAMERA_METADATA))
    out = work / f"{reward}-{observation}-{seed}"
    t0 = time.time()
    env = EnvConfig.make(track=track, reward=reward_for(reward, track, work), model_metadata=metadata,
                         observation=observation)
    res = train(TrainConfig(env=env, seed=seed, timesteps=steps, quiet=True, eval_laps=0, out=str(out)))
    minutes = (time.time() - t0) / 60
    ev, _ = evaluate_run(out, laps=3)
    clean = next((h["timesteps"] for h in res.history if h["eval_completed"] >= 3), None)
    return {"reward": reward, "observation": observation, "seed": seed, "steps": res.timesteps,
            "minutes": round(minutes, 2), "laps": ev.completed, "progress": round(ev.mean_progress, 2),
            "lap_times": [lap.lap_time for lap in ev.laps if lap.status == "lap_complete"],
            "steps_to_3_clean_laps": clean}


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=30000)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--track", default="reinvent_base", help="a track name (on the search path) or file")
    ap.add_argument("--out", default="transfer.json")
    ap.add_argument("--report-only", action="store_true", help="print the table of --out and stop")
    args = ap.parse_args()
    out = Path(args.out)
    results: list[dict] = json.loads(out.read_text()) if out.exists() else []
    if not args.report_only:
        with tempfile.TemporaryDirectory() as tmp:
            for seed in range(args.seeds):
                for reward in REWARDS:
                    for observation in ("vector", "camera"):
                        if any(r["reward"] == reward and r["observation"] == observation and r["seed"] == seed
                               for r in results):
                            continue
                        results.append(one_run(reward, observation, seed, args.steps, args.track, Path(tmp)))
                        out.write_text(json.dumps(results, indent=1))
                        r = results[-1]
                        print(f"{reward} {observation} seed {seed}: {r['laps']}/3 laps, progress {r['progress']} %,"
                              f" {r['minutes']} min", flush=True)
    report(results, args.seeds)


if __name__ == "__main__":
    main()
