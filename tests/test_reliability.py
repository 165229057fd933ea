"""Nothing lost, nothing silent: kills at any moment, a second process, and reward functions that hang,
crawl or exit. Real training processes, signals and files, as a user meets them."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from conftest import REPO
from racer_env.env.logreader import read_sim_trace
from racer_env.training.rundir import RunDir

pytestmark = pytest.mark.slow
FAST = ["--n-envs", "2", "--quiet", "--eval-laps", "0"]


def start(*args, env=None):
    return subprocess.Popen([sys.executable, str(REPO / "train.py"), *map(str, args)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def assert_consistent(path: Path) -> int:
    """A run's files read as one run: consecutive complete episodes, a metrics entry for each, readable JSON and
    model files. Returns the number of episodes."""
    run = RunDir(path)
    info = run.info()
    episodes = []
    try:
        rows = read_sim_trace(run.path).rows
    except Exception:  # no simtrace yet: killed before the first episode
        rows = []
    for r in rows:
        if not episodes or r.episode != episodes[-1][0].episode:
            episodes.append([])
        episodes[-1].append(r)
    numbers = [e[0].episode for e in episodes]
    metrics = json.loads(run.training_metrics.read_text())["metrics"] if run.training_metrics.exists() else []
    training = [m["episode"] for m in metrics if m["phase"] == "training"]
    if info.get("status") != "training":  # a run that ended (not killed) has cut nothing
        assert numbers == list(range(len(numbers)))
        assert all(e[-1].done for e in episodes)
        assert training == list(range(1, len(training) + 1)) and len(training) == len(numbers)
    for model in run.checkpoints() + [p for p in (run.best_model, run.final_model) if p.exists()]:
        assert zipfile.is_zipfile(model), model
    return len(numbers)


def test_sighup_saves_like_sigterm(tmp_path):
    out = tmp_path / "hup"
    proc = start("--timesteps", 10_000_000, "--out", out, *FAST)
    deadline = time.time() + 90
    while time.time() < deadline and not list((out / "model" / "checkpoints").glob("*.zip")):
        time.sleep(0.2)
    proc.send_signal(signal.SIGHUP)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "--resume" in stdout
    assert json.loads((out / "run.json").read_text())["status"] == "interrupted"
    assert_consistent(out)


def _kill_when(proc: subprocess.Popen, run: Path, mode: str, rng: random.Random) -> str:
    """SIGKILL the process: early in its start, during a save (a .tmp file exists), or at a random moment."""
    if mode == "early":
        time.sleep(rng.uniform(0.2, 3.0))
    elif mode == "saving":
        deadline = time.time() + 15
        folders = [run / "model", run / "model" / "checkpoints", run / "metrics", run / "training-simtrace", run]
        while time.time() < deadline:
            if any(name.endswith(".tmp") for f in folders if f.is_dir() for name in os.listdir(f)):
                break
            time.sleep(0.0005)
        else:
            mode = "random (no save seen)"
    else:
        time.sleep(rng.uniform(3.0, 9.0))
    proc.kill()
    proc.communicate(timeout=30)
    return mode


def test_twenty_hard_kills_lose_nothing(tmp_path):
    """SIGKILL at 20 moments (the first seconds, during saves, at random); after each, --resume works and the
    files read as one run."""
    run = tmp_path / "run"
    rng = random.Random(12)
    modes = []
    for k in range(20):
        # a run killed before it made its folder is started again with --out, as a racer would (on a busy
        # machine the first "early" kill can come before the folder exists)
        where = ("--resume", run) if run.is_dir() else ("--out", run)
        proc = start("--timesteps", 10_000_000, *where, *FAST)
        modes.append(_kill_when(proc, run, ("early", "saving", "random", "random")[k % 4], rng))
        if RunDir(run).exists():
            assert_consistent(run)
    proc = start("--resume", run, "--timesteps", 2048, *FAST)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    episodes = assert_consistent(run)
    info = json.loads((run / "run.json").read_text())
    print(f"20 kills ({', '.join(modes)}); the resumed run: {episodes} episodes, {info['timesteps']} steps")
    assert info["status"] == "trained" and episodes > 100
    assert sum(m == "saving" for m in modes) >= 3


def test_a_second_process_is_turned_away_naming_the_first(tmp_path):
    out = tmp_path / "busy"
    first = start("--timesteps", 10_000_000, "--out", out, *FAST)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not (out / "run.json").exists():
            time.sleep(0.1)
        second = subprocess.run([sys.executable, str(REPO / "train.py"), "--resume", str(out), *FAST],
                                capture_output=True, text=True, cwd=REPO, timeout=120)
        assert second.returncode == 2 and len(second.stderr.strip().splitlines()) == 1
        assert f"in use by process {first.pid}" in second.stderr
    finally:
        first.kill()
        first.communicate(timeout=30)
    # a dead process keeps no claim
    again = subprocess.run([sys.executable, str(REPO / "train.py"), "--resume", str(out), "--timesteps", "1024",
                            *FAST], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert again.returncode == 0, again.stderr


def test_a_run_killed_before_its_first_checkpoint_is_started_afresh(tmp_path):
    out = tmp_path / "early"
    proc = start("--timesteps", 10_000_000, "--out", out, *FAST)
    deadline = time.time() + 60
    while time.time() < deadline and not (out / "run.json").exists():
        time.sleep(0.05)
    proc.kill()
    proc.communicate(timeout=30)
    assert not list((out / "model" / "checkpoints").glob("*.zip"))
    for args in (("--out", out), ("--resume", out)):
        again = subprocess.run([sys.executable, str(REPO / "train.py"), *map(str, args), "--timesteps", "1024",
                                *FAST], capture_output=True, text=True, cwd=REPO, timeout=300)
        assert again.returncode == 0, again.stderr
        assert "starting afresh" in again.stdout or "resuming" in again.stdout
    assert_consistent(out)


def _reward(tmp_path: Path, body: str, name: str = "reward.py") -> Path:
    f = tmp_path / name
    f.write_text("import sys, time\n\ndef reward_function(params):\n" + "".join(f"    {line}\n" for line in body.splitlines()))
    return f


def test_a_hung_reward_function_is_named_with_its_line(tmp_path):
    f = _reward(tmp_path, "while params['steps'] > 3:\n    pass\nreturn 1.0")
    t0 = time.time()
    proc = subprocess.run([sys.executable, str(REPO / "train.py"), "--reward", str(f), "--reward-time-limit", "1",
                           "--out", str(tmp_path / "run"), "--timesteps", "4096", *FAST], capture_output=True,
                          text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 2 and time.time() - t0 < 60
    assert f"{f}:4: reward function was stopped after running 1 s" in proc.stderr or \
        f"{f}:5: reward function was stopped after running 1 s" in proc.stderr  # the while line or its body
    assert list((tmp_path / "run" / "model" / "checkpoints").glob("*.zip"))


def test_sys_exit_in_a_reward_function_is_a_reward_error(tmp_path):
    f = _reward(tmp_path, "if params['steps'] > 20:\n    sys.exit(3)\nreturn 1.0")
    proc = subprocess.run([sys.executable, str(REPO / "train.py"), "--reward", str(f), "--out", str(tmp_path / "run"),
                           "--timesteps", "4096", *FAST], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 2
    assert f"{f}:5: reward function raised SystemExit(3)" in proc.stderr
    assert json.loads((tmp_path / "run" / "run.json").read_text())["status"] == "failed"


def test_a_slow_reward_function_gets_a_warning(tmp_path):
    f = _reward(tmp_path, "time.sleep(0.002)\nreturn 1.0", "slow_reward.py")
    proc = subprocess.run([sys.executable, str(REPO / "train.py"), "--reward", str(f), "--out", str(tmp_path / "run"),
                           "--timesteps", "1024", *FAST], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    text = " ".join((proc.stdout + proc.stderr).split())
    assert "warning: the reward function" in text and "slow_reward.py" in text and "ms a call" in text


def test_one_ctrl_c_stops_inside_a_slow_reward_function_and_saves(tmp_path):
    f = _reward(tmp_path, "if params['steps'] > 30:\n    time.sleep(60)\nreturn 1.0")
    out = tmp_path / "run"
    proc = start("--reward", f, "--out", out, "--timesteps", 100_000, *FAST)
    time.sleep(12)  # into the slow calls
    t0 = time.time()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert time.time() - t0 < 10
    assert list((out / "model" / "checkpoints").glob("*.zip"))
    assert json.loads((out / "run.json").read_text())["status"] == "interrupted"
