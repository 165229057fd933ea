"""Real (short) training runs, as a user runs them: train.py and the racer command."""

import json
import signal
import subprocess
import sys
import time
import warnings

import pytest

from conftest import REPO, shared_path
from racer_env.env.logreader import iteration_files, read_sim_trace
from racer_env.env.config import EnvConfig
from racer_env.training import TrainConfig, load_hyperparameters, train

pytestmark = pytest.mark.slow


def run_cli(*args, timeout=300, cwd=REPO):
    return subprocess.run([sys.executable, str(REPO / "train.py"), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One short real training run through train.py, shared by the tests that read its files."""
    out = tmp_path_factory.mktemp("runs") / "short"
    proc = run_cli("--timesteps", "4000", "--n-envs", "4", "--out", str(out), "--quiet", "--sim-trace-log")
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout


def test_a_short_run_writes_every_file(trained):
    run, stdout = trained
    for rel in ("model/model.zip", "model/best_model.zip", "model/best_model.json", "model/model_metadata.json",
                "ip/hyperparameters.json", "reward_function.py", "run.json", "logs/training.log",
                "metrics/TrainingMetrics.json", "training-simtrace/0-iteration.csv"):
        assert (run / rel).exists(), rel
    # every iteration is a plain CSV, as deepracer-for-cloud writes them
    files = iteration_files(run / "training-simtrace")
    assert len(files) > 1 and all(f.suffix == ".csv" for f in files)
    assert list((run / "model" / "checkpoints").glob("checkpoint-*.zip"))
    assert list((run / "tensorboard").rglob("events.out.tfevents.*"))
    assert list((run / "metrics" / "evaluation").glob("evaluation-*.json"))
    assert list(run.glob("evaluation-*/evaluation-simtrace/0-iteration.csv"))
    assert "Evaluation on harbour_loop" in stdout and "Trial" in stdout
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "trained" and info["timesteps"] >= 4000


def test_sim_trace_lines_have_19_fields(trained):
    run, _ = trained
    lines = [ln for ln in (run / "logs" / "training.log").read_text().splitlines() if "SIM_TRACE_LOG:" in ln]
    assert lines and all(len(ln.split(":", 1)[1].split(",")) == 19 for ln in lines)
    header = (run / "training-simtrace" / "0-iteration.csv").read_text().splitlines()[0]
    assert header.split(",") == ["episode", "steps", "X", "Y", "yaw", "steer", "throttle", "action", "reward",
                                 "done", "all_wheels_on_track", "progress", "closest_waypoint", "track_len",
                                 "tstamp", "episode_status", "pause_duration", "obstacle_crash_counter",
                                 "wall_clock"]


def test_deepracer_utils_reads_the_whole_run_unchanged(trained):
    """The community's notebooks: DeepRacerLog(model_folder=RUN) sees every step of the run, as racer_env does."""
    warnings.filterwarnings("ignore")
    from deepracer.logs import DeepRacerLog
    from deepracer.logs.log_utils import SimulationLogsIO
    from deepracer.logs.metrics import TrainingMetrics

    run, _ = trained
    log = DeepRacerLog(model_folder=str(run))
    log.load_training_trace()
    df = log.dataframe()
    rows = read_sim_trace(run).rows
    assert len(iteration_files(run / "training-simtrace")) > 1  # more than the last iteration
    assert len(df) == len(rows) > 3000 and df["unique_episode"].nunique() == df["episode"].nunique()
    assert df["episode"].nunique() == len({r.episode for r in rows})
    assert set(df["episode_status"]) >= {"prepare", "in_progress"}
    assert log.action_space()["speed"]["high"] == 4.0
    assert log.hyperparameters()["num_episodes_between_training"] == 20

    ev = DeepRacerLog(str(run))
    ev.load_evaluation_trace()
    assert len(ev.dataframe()) > 10

    rows = SimulationLogsIO.convert_to_pandas(SimulationLogsIO.load_data(str(run / "logs" / "training.log")), 20)
    assert len(rows) == len(df)

    metrics = TrainingMetrics(None, fname=str(run / "metrics" / "TrainingMetrics.json"))
    assert len(metrics.metrics) > 0 and set(metrics.metrics["phase"]) <= {"training", "evaluation"}


def test_evaluate_command(trained):
    run, _ = trained
    proc = subprocess.run([sys.executable, "-m", "racer_env.cli", "evaluate", str(run), "--laps", "2",
                           "--continuous", "--resets", "5", "--off-track-penalty", "3"],
                          capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    words = " ".join(proc.stdout.split())  # the table's title wraps in an 80-column terminal
    assert ("Evaluation on harbour_loop (2 continuous laps; actions at 15 Hz, once a step; the track's limits for "
            "this car") in words
    assert "x limit" in proc.stdout
    newest = max((run / "metrics" / "evaluation").glob("evaluation-*.json"))
    metrics = json.loads(newest.read_text())["metrics"]
    data = json.loads(newest.read_text())
    assert "version" not in data and 5000 < data["lap_time_limit_ms"] < 8000  # harbour_loop's racing line
    assert data["lap_time_limit_ms"] < data["standing_lap_time_limit_ms"] < data["lap_time_limit_ms"] + 500
    assert {"completion_percentage", "elapsed_time_in_milliseconds", "episode_status", "off_track_count",
            "reset_count", "trial"} <= set(metrics[0])


def test_resume_with_another_reward_clones_the_model(trained, tmp_path):
    run, _ = trained
    clone = tmp_path / "clone"
    proc = run_cli("--resume", str(run), "--out", str(clone), "--reward", "reward_functions/follow_center.py",
                   "--timesteps", "2048", "--n-envs", "2", "--quiet", "--eval-laps", "1")
    assert proc.returncode == 0, proc.stderr
    info = json.loads((clone / "run.json").read_text())
    assert info["resumed_from"] == str(run)
    assert info["timesteps"] > json.loads((run / "run.json").read_text())["timesteps"]
    assert "follow the centre" in (clone / "reward_function.py").read_text().lower()


def test_resume_in_place_continues_numbering(tmp_path):
    out = tmp_path / "r"
    cfg = TrainConfig(timesteps=2048, n_envs=2, out=str(out), quiet=True, eval_laps=0)
    first = train(cfg)
    second = train(TrainConfig(timesteps=2048, n_envs=2, resume=str(out), quiet=True, eval_laps=0))
    assert second.timesteps >= first.timesteps + 2048
    assert second.episodes > first.episodes
    metrics = json.loads((out / "metrics" / "TrainingMetrics.json").read_text())["metrics"]
    episodes = [m["episode"] for m in metrics if m["phase"] == "training"]
    assert episodes == sorted(episodes) and len(set(episodes)) == len(episodes)


def test_reward_error_stops_with_its_message_and_keeps_the_checkpoint(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def reward_function(params):\n    if params['steps'] > 40:\n        return float('nan')\n"
                   "    return 1.0\n")
    out = tmp_path / "run"
    proc = run_cli("--reward", str(bad), "--timesteps", "5000", "--n-envs", "2", "--out", str(out), "--quiet")
    assert proc.returncode == 2
    assert f"{bad}" in proc.stderr and "NaN" in proc.stderr and "Traceback" not in proc.stderr
    assert list((out / "model" / "checkpoints").glob("checkpoint-*.zip"))
    assert iteration_files(out / "training-simtrace")
    assert json.loads((out / "run.json").read_text())["status"] == "failed"


@pytest.mark.parametrize("args, words", [
    (["--track", "nope.npy"], "nope.npy"),
    (["--reward", "missing.py"], "missing.py"),
    (["--model-metadata", "missing.json"], "missing.json"),
    (["--timesteps", "-5"], "--timesteps"),
    (["--resume", "no_such_run"], "no_such_run"),
])
def test_bad_arguments_get_one_line(args, words, tmp_path):
    proc = run_cli(*args, "--out", str(tmp_path / "x"), timeout=60)
    assert proc.returncode != 0
    assert words in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_bad_hyperparameters_name_the_field(tmp_path):
    from racer_env import HyperparametersError

    f = tmp_path / "hyperparameters.json"
    f.write_text(json.dumps({"batch_sise": 64}))
    with pytest.raises(HyperparametersError, match="'batch_sise'.*did you mean 'batch_size'"):
        load_hyperparameters(f)
    f.write_text(json.dumps({"lr": "fast"}))
    with pytest.raises(HyperparametersError, match="'lr'"):
        load_hyperparameters(f)


def test_shared_hyperparameters_and_metadata_train(tmp_path):
    hp = shared_path("model_metadata", "drfc-default-hyperparameters.json")
    values, keys = load_hyperparameters(hp)
    assert values.num_epochs == 5 and "term_cond_max_episodes" in keys
    load_hyperparameters(shared_path("model_metadata", "sample-hyperparameters.json"))
    meta = shared_path("model_metadata", "sample-discrete-model_metadata.json")  # a camera, as on AWS
    res = train(TrainConfig(env=EnvConfig.make(model_metadata=meta, observation="vector"), hyperparameters=str(hp),
                            timesteps=1024, n_envs=2, out=str(tmp_path / "d"), quiet=True, eval_laps=1))
    assert res.timesteps >= 1024
    res = train(TrainConfig(env=EnvConfig.make(model_metadata=meta), timesteps=512, n_envs=2,
                            out=str(tmp_path / "c"), quiet=True, eval_laps=1))
    info = json.loads((tmp_path / "c" / "run.json").read_text())
    assert res.timesteps >= 512 and info["env"]["observation"] == "camera"
    sac = shared_path("model_metadata", "drfc-default-model_metadata_sac.json")
    res = train(TrainConfig(env=EnvConfig.make(model_metadata=sac, observation="vector"), timesteps=300, n_envs=1,
                            out=str(tmp_path / "s"), quiet=True, eval_laps=1))
    assert (tmp_path / "s" / "model" / "model.zip").exists()


def test_sac_trains_on_the_camera(tmp_path):
    """SAC with the camera: the simulator's network under SB3's heads, a replay buffer of frames."""
    sac = shared_path("model_metadata", "drfc-default-model_metadata_sac.json")
    hp = tmp_path / "hyperparameters.json"
    hp.write_text(json.dumps({"batch_size": 8}))
    res = train(TrainConfig(env=EnvConfig.make(model_metadata=sac), hyperparameters=str(hp), timesteps=140, n_envs=1,
                            out=str(tmp_path / "s"), quiet=True, eval_laps=0))
    assert res.timesteps >= 140 and (tmp_path / "s" / "model" / "model.zip").exists()


def test_max_episodes_stops_the_run(tmp_path):
    f = tmp_path / "hyperparameters.json"
    f.write_text(json.dumps({"term_cond_max_episodes": 15, "num_episodes_between_training": 5}))
    res = train(TrainConfig(hyperparameters=str(f), timesteps=100_000, n_envs=2, out=str(tmp_path / "m"),
                            quiet=True, eval_laps=0))
    assert res.stopped == "max_episodes" and 15 <= res.episodes < 40


def test_sigterm_saves_a_checkpoint_and_logs(tmp_path):
    out = tmp_path / "sig"
    proc = subprocess.Popen([sys.executable, str(REPO / "train.py"), "--timesteps", "10000000", "--n-envs", "2",
                             "--out", str(out), "--quiet"], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not (out / "metrics" / "TrainingMetrics.json").exists():
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "--resume" in stdout
    assert list((out / "model" / "checkpoints").glob("checkpoint-*.zip"))
    assert json.loads((out / "run.json").read_text())["status"] == "interrupted"
    assert read_sim_trace(out).rows


def test_an_existing_run_is_not_overwritten(trained):
    run, _ = trained
    proc = run_cli("--out", str(run), "--timesteps", "100", timeout=60)
    assert proc.returncode == 2 and "--resume" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_subprocess_envs_train_and_pass_reward_errors_back(tmp_path):
    ok = train(TrainConfig(timesteps=1024, n_envs=2, vec="subproc", out=str(tmp_path / "ok"), quiet=True,
                           eval_laps=0))
    assert ok.episodes > 0 and len({r.episode for r in read_sim_trace(tmp_path / "ok").rows}) == ok.episodes
    bad = tmp_path / "bad.py"
    bad.write_text("def reward_function(params):\n    return None if params['steps'] > 30 else 1.0\n")
    from racer_env import RewardFunctionError

    with pytest.raises(RewardFunctionError, match="bad.py.*float\\(\\) cannot convert"):
        train(TrainConfig(env=EnvConfig.make(reward=bad), timesteps=4096, n_envs=2, vec="subproc", out=str(tmp_path / "bad"),
                          quiet=True, eval_laps=0))
    assert list((tmp_path / "bad" / "model" / "checkpoints").glob("checkpoint-*.zip"))


def test_on_update_sees_each_evaluation_and_false_stops_the_run_saved(tmp_path):
    """The hook racer sweep reports through: a row and the evaluation after every policy update; False stops."""
    seen = []

    def on_update(row, evaluation):
        seen.append((row["timesteps"], evaluation.completed, len(evaluation.laps)))
        return len(seen) < 2

    out = tmp_path / "run"
    result = train(TrainConfig(env=EnvConfig.make(reward="follow_center"), timesteps=50_000, n_envs=4, out=str(out), quiet=True,
                               eval_laps=0), on_update=on_update)
    assert [s[0] for s in seen] == [2048, 4096] and all(laps >= 1 for _, _, laps in seen)  # a rollout: 2,048 steps
    assert result.stopped == "stopped" and result.timesteps < 8000
    assert json.loads((out / "run.json").read_text())["status"] == "stopped"
    assert (out / "model" / "model.zip").exists()  # saved as at the end of a budget
