"""Fit the effort-driven car (model_metadata version 3-4) on a simapp-4 log, and check both car models.

Speed: least squares of speed_k = f * speed_(k-1) + w0 * command_k + w1 * command_(k-1), with the speed of the
body origin between consecutive logged poses. Steering: a grid over the controller's gain per 60 Hz tick, its
dead time in ticks and the effective wheelbase, scored by the median one-second open-loop error
(racer_env.sim.fidelity). The constants in racer_env/constants.py come from this script on the shared 2022 log.

    python scripts/fit_vehicle.py [--log2022 LOG] [--log2026 LOG]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import math
from pathlib import Path

import numpy as np

from racer_env.constants import STEP_HZ
from racer_env.env.logreader import read_sim_trace
from racer_env.sim.fidelity import open_loop_errors
from racer_env.sim.vehicle import EFFORT, KINEMATIC, CarModel, body_origin, clip_controls

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "deepracer" / "logs"


def fit_speed(rows) -> tuple[float, float, float]:
    """(feedback, w0, w1) of the first-order speed model, by least squares."""
    X, Y = [], []
    for k in range(2, len(rows) - 1):
        win = rows[k - 2:k + 2]
        if any(r.episode != rows[k].episode or r.episode_status != "in_progress" for r in win):
            continue
        body = [body_origin(r.x, r.y, math.radians(r.yaw)) for r in win]
        speeds = [math.dist(a, b) * STEP_HZ for a, b in zip(body, body[1:])]  # speeds of steps k-2, k-1, k
        cmd = [clip_controls(0.0, r.throttle)[1] for r in win]
        X.append([speeds[1], cmd[2], cmd[1]])
        Y.append(speeds[2])
    coef, *_ = np.linalg.lstsq(np.array(X), np.array(Y), rcond=None)
    return float(coef[0]), float(coef[1]), float(coef[2])


def score(rows, model: CarModel) -> tuple[float, float]:
    e = open_loop_errors(rows, model)
    return float(np.median(e)), float(np.percentile(e, 90))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log2022", default=str(SHARED / "console-eval-reinvent_base-2022-robomaker.log"))
    ap.add_argument("--log2026", default=str(SHARED / "droa-eval-Spain_track-2026-simulation.log"))
    args = ap.parse_args()
    rows22 = read_sim_trace(args.log2022).rows
    rows26 = read_sim_trace(args.log2026).rows

    f, w0, w1 = fit_speed(rows22)
    print(f"effort speed: speed_k = {f:.3f} speed_k-1 + {w0:.3f} command_k + {w1:.3f} command_k-1 "
          f"(steady state {(w0 + w1) / (1 - f):.3f} x command, time constant {-1 / (STEP_HZ * math.log(f)):.2f} s)")
    speed_model = dataclasses.replace(EFFORT, speed_feedback=round(f, 3), speed_weights=(round(w0, 3), round(w1, 3)))
    grid = []
    for gain, dead, wheelbase in itertools.product((0.03, 0.04, 0.05, 0.06, 0.07, 0.1), (0, 1, 2, 4),
                                                   (0.24, 0.25, 0.26, 0.27, 0.28, 0.30)):
        m = dataclasses.replace(speed_model, steer_gain=gain, steer_dead_ticks=dead, wheelbase_m=wheelbase)
        grid.append((score(rows22, m), gain, dead, wheelbase))
    grid.sort()
    print("effort steering, best five (median m, p90 m), gain per tick, dead ticks, wheelbase m:")
    for (med, p90), gain, dead, wheelbase in grid[:5]:
        print(f"  {med:.4f} {p90:.4f}  gain {gain}  dead {dead}  wheelbase {wheelbase}")
    print("the car models as racer_env has them, median / p90 of the 1-s open-loop error [m]:")
    for name, rows in (("2022 log (simapp 4)", rows22), ("2026 log (simapp 6)", rows26)):
        for model in (EFFORT, KINEMATIC):
            med, p90 = score(rows, model)
            print(f"  {name:20s} {model.name:9s} {med:.4f} / {p90:.4f}")


if __name__ == "__main__":
    main()
