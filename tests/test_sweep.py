"""racer sweep: the sweep file, and real sweeps on Ray Tune: locally, interrupted and resumed, and on a two-node
Ray cluster started on this machine with ``ray start``."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from racer_env.cli import main
from racer_env.errors import RacerEnvError
from racer_env.training.sweepfile import Range, load_sweep, objective_value, rank_key

ray = pytest.importorskip("ray", reason="racer sweep's extra is not installed: pip install -e '.[sweep]'")

CRASH_LATER = """def reward_function(params):
    if params["steps"] > 40:
        raise ValueError("steps above 40 are not handled")
    return 1.0
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# ------------------------------------------------------------------------------------------ the file
def test_the_issue_example_gives_four_trials(tmp_path):
    plan = load_sweep(write(tmp_path / "sweep.yaml", """
rewards: [reward_functions/follow_center.py, reward_functions/progress_speed.py]
tracks: [harbour_loop]
hyperparameters:
  lr: [0.0003, 0.001]        # a list is a grid; {low: .., high: .., log: true} a range
budget:
  timesteps: 20000           # per trial; or minutes
"""))
    assert plan.trials == 4
    assert set(plan.grid) == {"reward", "lr"}
    assert plan.grid["lr"] == (0.0003, 0.001)
    assert plan.timesteps == 20000 and plan.objective == "deepracer" and plan.mode == "max"


def test_ranges_seeds_and_optuna(tmp_path):
    (tmp_path / "rf").mkdir()
    write(tmp_path / "rf" / "mine.py", "def reward_function(params):\n    return 1.0\n")
    plan = load_sweep(write(tmp_path / "s.yaml", """
rewards: [rf/mine.py, follow_center]
hyperparameters:
  beta_entropy: {low: 0.001, high: 0.05, log: true}
  num_epochs: {low: 3, high: 8}
  batch_size: 128
seeds: 3
samples: 2
budget: {minutes: 1, total_minutes: 10}
objective: best_lap
"""))
    assert plan.rewards[0] == str((tmp_path / "rf" / "mine.py").resolve())  # beside the sweep file
    assert plan.seeds == (0, 1, 2)
    assert plan.ranges == {"beta_entropy": Range(0.001, 0.05, log=True), "num_epochs": Range(3, 8, integer=True)}
    assert plan.fixed["batch_size"] == 128
    assert plan.trials == 2 * 3 * 2 and plan.mode == "min"
    optuna = load_sweep(write(tmp_path / "o.yaml", "rewards: [follow_center]\nsearch: optuna\nsamples: 5\n"
                                                 "hyperparameters: {lr: {low: 0.0001, high: 0.01, log: true}}\n"
                                                 "budget: {timesteps: 1000}\n"))
    assert optuna.trials == 5


@pytest.mark.parametrize("text, words", [
    ("rewards: [follow_center]\nbudgets: {timesteps: 10}\n", "key 'budgets': unknown; did you mean 'budget'?"),
    ("rewards: [follow_center]\n", "key 'budget'"),
    ("tracks: [harbour_loop]\nbudget: {timesteps: 10}\n", "key 'rewards': missing"),
    ("rewards: [nowhere.py]\nbudget: {timesteps: 10}\n", "nowhere.py: no such reward function file"),
    ("rewards: [follow_center]\ntracks: [atlantis]\nbudget: {timesteps: 10}\n", "key 'tracks'"),
    ("rewards: [follow_center]\nbudget: {timesteps: -5}\n", "key 'budget.timesteps': expected a positive"),
    ("rewards: [follow_center]\nbudget: {steps: 5}\n", "key 'budget'"),
    ("rewards: [follow_center]\nbudget: {timesteps: 10}\nhyperparameters: {lrr: [0.1]}\n", "did you mean 'lr'?"),
    ("rewards: [follow_center]\nbudget: {timesteps: 10}\nhyperparameters: {lr: [5]}\n", "field 'lr'"),
    ("rewards: [follow_center]\nbudget: {timesteps: 10}\nhyperparameters: {lr: {low: 0.1}}\n",
     "key 'hyperparameters.lr': a range is"),
    ("rewards: [follow_center]\nbudget: {timesteps: 10}\nhyperparameters: {lr: {low: 0.1, high: 0.01}}\n",
     "expected low < high"),
    ("rewards: [follow_center]\nbudget: {timesteps: 10}\nobjective: fastest\n", "key 'objective'"),
    ("rewards: [follow_center]\nbudget: {timesteps: 10}\nsearch: grid\n", "key 'search'"),
    ("rewards: [follow_center]\nbudget: {timesteps: 10}\nseeds: [a]\n", "key 'seeds'"),
    ("rewards: [follow_center\n", "not valid YAML"),
    ("rewards: [follow_center]\nbudget: {timesteps: 10}\nrace: nowhere.yaml\n", "key 'race': nowhere.yaml"),
])
def test_a_bad_sweep_file_gets_one_line_naming_the_key(tmp_path, capsys, text, words):
    path = write(tmp_path / "bad.yaml", text)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert str(path) in err and words in err, err
    assert not (tmp_path / "out").exists()  # nothing written for a bad file


def test_objectives_rank_as_deepracer_does():
    three = [("lap_complete", 10.0, 100.0)] * 3
    two = [("lap_complete", 9.0, 100.0)] * 2 + [("off_track", 3.0, 30.0)]
    assert objective_value("deepracer", three) > objective_value("deepracer", two)  # laps first
    slower = [("lap_complete", 11.0, 100.0)] * 3
    assert objective_value("deepracer", three) > objective_value("deepracer", slower)  # then time
    assert objective_value("avg_lap", two) == 9.0 and objective_value("best_lap", slower) == 11.0
    assert objective_value("avg_lap", [("off_track", 3.0, 30.0)]) == 970.0  # no lap: 1000 - progress
    assert objective_value("progress", two) == pytest.approx(230 / 3, abs=1e-5)
    assert rank_key("best_lap", 9.0) < rank_key("best_lap", 11.0) < rank_key("best_lap", None)
    assert rank_key("deepracer", 300.0) < rank_key("deepracer", 200.0)


def test_without_ray_it_says_what_to_install(tmp_path, monkeypatch):
    from racer_env.training.sweep import INSTALL_HINT, run_sweep

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(RacerEnvError, match="pip install 'racer_env\\[sweep\\]'"):
        run_sweep(None, tmp_path, resume=True)
    assert "ray[tune]" in INSTALL_HINT


@pytest.mark.parametrize("address, words", [
    ("127.0.0.1:1", "--address 127.0.0.1:1: no Ray cluster answers there"),
    ("auto", "--address auto: cannot join that Ray cluster"),
])
def test_a_cluster_that_is_not_there_gets_one_line_at_once(tmp_path, capsys, address, words):
    sweep = write(tmp_path / "s.yaml", "rewards: [follow_center]\nbudget: {timesteps: 1000}\n")
    env_address = os.environ.pop("RAY_ADDRESS", None)
    try:
        assert main(["sweep", str(sweep), "--address", address, "--out", str(tmp_path / "out")]) == 2
    finally:
        if env_address is not None:
            os.environ["RAY_ADDRESS"] = env_address
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err, err


# ------------------------------------------------------------------------------------------ real sweeps
def _rows(out: Path) -> list[dict]:
    with open(out / "results.csv") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_a_local_sweep_ranks_trials_marks_failures_and_leaves_run_directories(tmp_path, capsys):
    write(tmp_path / "crash_later.py", CRASH_LATER)
    sweep = write(tmp_path / "sweep.yaml", """
rewards: [crash_later.py, reward_functions/progress_speed.py]
tracks: [harbour_loop]
hyperparameters:
  lr: [0.0003, 0.001]
budget:
  timesteps: 4000
n_envs: 4
""")
    out = tmp_path / "out"
    assert main(["sweep", str(sweep), "--out", str(out), "--workers", "2"]) == 0
    printed = capsys.readouterr().out
    rows = _rows(out)
    assert len(rows) == 4 and [r["rank"] for r in rows] == ["1", "2", "3", "4"]
    failed = [r for r in rows if r["reward"] == "crash_later"]
    assert all(r["status"].startswith("failed: rewards/crash_later.py:3: reward function raised ValueError: "
                                      "steps above 40") for r in failed), failed
    good = [r for r in rows if r["reward"] == "progress_speed"]
    assert rows[:2] == good  # failed trials rank last
    assert {r["lr"] for r in good} == {"0.0003", "0.001"}
    assert all(r["status"] in ("finished", "stopped early") and float(r["objective"]) > 0 for r in good)
    # each trial is an ordinary run directory: racer evaluate drives the winner
    winner = Path(good[0]["run_dir"])
    assert winner.parent == out / "trials" and (winner / "model" / "best_model.zip").exists()
    assert f"racer watch {winner}" in printed
    assert main(["evaluate", str(winner), "--laps", "1"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["objective"] == "deepracer" and len(results["trials"]) == 4
    assert all(len(results["curves"][r["trial"]]) >= 1 for r in good)
    assert (out / "objective.png").stat().st_size > 10_000 and (out / "learning_curves.png").exists()
    assert main(["sweep", str(sweep), "--out", str(out)]) == 2  # a sweep is already there
    assert "--resume" in capsys.readouterr().err


@pytest.mark.slow
def test_ctrl_c_stops_the_sweep_and_resume_finishes_it_keeping_finished_trials(tmp_path):
    sweep = write(tmp_path / "sweep.yaml", "rewards: [follow_center]\nhyperparameters: {lr: [0.0003, 0.001]}\n"
                                           "seeds: 2\nbudget: {timesteps: 60000}\nn_envs: 4\nearly_stopping: false\n")
    out = tmp_path / "out"
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "COLUMNS": "160"}
    proc = subprocess.Popen([sys.executable, "-m", "racer_env.cli", "sweep", str(sweep), "--out", str(out),
                             "--workers", "1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 240
    finished: list[Path] = []
    while time.time() < deadline and not finished:  # wait for the first trial to finish
        finished = [p.parent.parent for p in (out / "trials").glob("*/model/model.zip")]
        time.sleep(0.5)
    assert finished, "no trial finished"
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, output
    assert f"racer sweep --resume {out}" in output
    first = finished[0]
    stamp = (first / "run.json").read_text()
    assert any(r["status"] != "finished" for r in _rows(out))

    assert main(["sweep", "--resume", str(out)]) == 0
    rows = _rows(out)
    assert len(rows) == 4 and all(r["status"] == "finished" for r in rows), rows
    assert (first / "run.json").read_text() == stamp  # the finished trial was kept, not trained again
    assert all(int(r["timesteps"]) >= 60000 for r in rows)


@pytest.mark.slow
def test_the_same_file_runs_on_a_two_node_ray_cluster(tmp_path):
    """A head and a worker node, each with its own temporary directory, started with ``ray start``; the sweep
    joins through --address, its files shipped by Ray's runtime environment; Optuna proposes the points."""
    ray_cli = Path(sys.executable).parent / "ray"
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    port = 6300 + os.getpid() % 500
    address = f"127.0.0.1:{port}"
    # short temporary directories: Ray's socket paths inside them must fit in 107 characters
    head, worker = Path(tempfile.mkdtemp(prefix="rh")), Path(tempfile.mkdtemp(prefix="rw"))
    (tmp_path / "files").mkdir()
    write(tmp_path / "files" / "mine.py", "def reward_function(params):\n    return float(params['progress'])\n")
    sweep = write(tmp_path / "files" / "sweep.yaml", """
rewards: [mine.py]
hyperparameters:
  lr: {low: 0.0002, high: 0.002, log: true}
search: optuna
samples: 4
budget: {timesteps: 2048}
n_envs: 4
""")
    try:
        subprocess.run([str(ray_cli), "start", "--head", "--port", str(port), "--node-ip-address", "127.0.0.1",
                        "--num-cpus", "1", "--temp-dir", str(head), "--include-dashboard=false"],
                       env=env, check=True, capture_output=True, timeout=120)
        subprocess.run([str(ray_cli), "start", "--address", address, "--node-ip-address", "127.0.0.1",
                        "--num-cpus", "1", "--temp-dir", str(worker)], env=env, check=True, capture_output=True,
                       timeout=120)
        out = tmp_path / "out"
        done = subprocess.run([sys.executable, "-m", "racer_env.cli", "sweep", str(sweep), "--address", address,
                               "--out", str(out)], env={**env, "SDL_VIDEODRIVER": "dummy"}, cwd=tmp_path,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
    finally:
        subprocess.run([str(ray_cli), "stop", "--force"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(head, ignore_errors=True), shutil.rmtree(worker, ignore_errors=True)
    rows = _rows(out)
    statuses = [r["status"] for r in rows]
    assert len(rows) == 4 and all(s in ("finished", "stopped early") for s in statuses), statuses
    assert len({r["node"] for r in rows}) == 2  # trials ran on both nodes
    lrs = {float(r["lr"]) for r in rows}
    assert len(lrs) == 4 and all(0.0002 <= lr <= 0.002 for lr in lrs)  # Optuna's points, in the range
    assert all((Path(r["run_dir"]) / "run.json").exists() for r in rows)
