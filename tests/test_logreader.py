"""The one SIM_TRACE reader: every layout racer analyze reads, racer replay and racer check --log read too."""

import gzip
import shutil
import subprocess
import sys

import pytest

from conftest import REPO
from racer_env.env.logreader import read_sim_trace, split_episodes, trace_files, unpack_simtrace
from racer_env.env.simtrace import TraceRow

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from racer_env.training import TrainConfig, train

    out = tmp_path_factory.mktemp("logs") / "run"
    train(TrainConfig(timesteps=2048, n_envs=2, out=str(out), quiet=True, eval_laps=1))
    return out


def _layouts(run, work):
    """The run's simtrace laid out as each source lays it out: {name: (path, copies of the rows)}."""
    sim = sorted((run / "training-simtrace").glob("*-iteration.csv"))
    out = {"racer_env run": (run, 1)}
    gz = work / "gzipped" / "training-simtrace"  # racer_env 0.3 gzipped finished iterations
    gz.mkdir(parents=True)
    for f in sim:
        with open(f, "rb") as src, gzip.open(gz / (f.name + ".gz"), "wb") as dst:
            dst.write(src.read())
    out["racer_env 0.3 gzipped"] = (gz.parent, 1)
    for worker in ("0", "1"):  # deepracer-for-cloud with two workers
        (work / "drfc" / worker / "training-simtrace").mkdir(parents=True)
        for f in sim:
            shutil.copy(f, work / "drfc" / worker / "training-simtrace" / f.name)
    out["DRfC two workers"] = (work / "drfc", 2)
    console = work / "console" / "sim-trace" / "training" / "20260101000000" / "training-simtrace"
    console.mkdir(parents=True)
    for f in sim:
        shutil.copy(f, console / f.name)
    out["console export"] = (work / "console", 1)
    (work / "plain").mkdir()
    for f in sim:
        shutil.copy(f, work / "plain" / f.name)
    out["folder of CSVs"] = (work / "plain", 1)
    out["one CSV"] = (work / "plain" / sim[0].name, None)
    return out


def test_every_layout_reads_the_same_rows(run, tmp_path):
    rows = read_sim_trace(run).rows
    for name, (path, copies) in _layouts(run, tmp_path).items():
        got = read_sim_trace(path)
        if copies is None:
            assert 0 < len(got.rows) <= len(rows), name
            continue
        assert len(got.rows) == copies * len(rows), name
        assert [r.x for r in got.rows[:len(rows)]] == [r.x for r in rows], name
        assert len(got.episodes()) == copies * len(split_episodes(rows)), name


def test_a_folder_reads_its_training_files_else_its_evaluations(run, tmp_path):
    files, folder = trace_files(run)
    assert folder == run and {f.kind for f in files} == {"training", "evaluation"}
    assert read_sim_trace(run, kind="evaluation").rows[0].episode == 0
    export = tmp_path / "eval-export" / "sim-trace" / "evaluation" / "20260101000000-abc" / "evaluation-simtrace"
    export.mkdir(parents=True)
    shutil.copy(next(run.glob("evaluation-*/evaluation-simtrace/0-iteration.csv")), export / "0-iteration.csv")
    assert len(read_sim_trace(tmp_path / "eval-export").rows) > 10


@pytest.mark.parametrize("layout", ["racer_env 0.3 gzipped", "DRfC two workers", "console export"])
def test_replay_and_check_log_accept_what_analyze_accepts(run, tmp_path, layout):
    path, _ = _layouts(run, tmp_path)[layout]
    video = tmp_path / "replay.gif"
    proc = subprocess.run([sys.executable, "-m", "racer_env.cli", "replay", str(path), "--track", "harbour_loop",
                           "--episode", "1", "--record", str(video), "--speed", "max"],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert video.stat().st_size > 1000
    proc = subprocess.run([sys.executable, "-m", "racer_env.cli", "check", "reward_functions/follow_center.py",
                           "--log", str(path), "--track", "harbour_loop", "--out", str(tmp_path / "check")],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    assert (tmp_path / "check" / "rescore_episodes.csv").exists()
    proc = subprocess.run([sys.executable, "-m", "racer_env.cli", "analyze", str(path), "--track", "harbour_loop",
                           "--out", str(tmp_path / "analysis")], capture_output=True, text=True, cwd=REPO,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr


def test_a_folder_without_a_track_says_to_pass_one(run, tmp_path, capsys):
    from racer_env.cli import main

    path, _ = _layouts(run, tmp_path)["DRfC two workers"]
    assert main(["replay", str(path), "--record", str(tmp_path / "x.gif")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pass --track" in err[0] and str(path) in err[0]


def test_unpack_restores_plain_csvs_that_deepracer_utils_reads(run, tmp_path):
    import warnings

    warnings.filterwarnings("ignore")
    from deepracer.logs import DeepRacerLog

    old = tmp_path / "old-run"
    shutil.copytree(run, old)
    for f in sorted((old / "training-simtrace").glob("*-iteration.csv")):  # as racer_env 0.3 left a run
        with open(f, "rb") as src, gzip.open(f.with_name(f.name + ".gz"), "wb") as dst:
            dst.write(src.read())
        f.unlink()
    plain = unpack_simtrace(old / "training-simtrace")
    assert plain and all(p.suffix == ".csv" for p in plain) and not list(old.glob("training-simtrace/*.gz"))
    log = DeepRacerLog(model_folder=str(old))
    log.load_training_trace()
    assert len(log.dataframe()) == len(read_sim_trace(run).rows)


def test_episodes_split_where_the_number_changes_or_the_steps_fall_back():
    def row(episode, steps):
        return TraceRow(episode, steps, 0, 0, 0, 0, 0, "0", 0, False, True, 0, 0, 1, 0)

    rows = [row(0, 1), row(0, 2), row(1, 1), row(1, 2), row(1, 1), row(1, 2)]  # a second worker restarts at 1
    assert [len(e) for e in split_episodes(rows)] == [2, 2, 2]
