"""RunDir: the one place that knows a run's layout."""

import json

import pytest

from racer_env import RunDirError
from racer_env.training.logs import track_for_log
from racer_env.files import atomic_write_json
from racer_env.training.rundir import RunDir


def test_layout_is_deepracer_for_clouds(tmp_path):
    run = RunDir(tmp_path / "r")
    rel = {k: v.relative_to(run.path).as_posix() for k, v in vars(run).items() if k != "path"}
    assert rel["model_metadata"] == "model/model_metadata.json"
    assert rel["hyperparameters"] == "ip/hyperparameters.json"
    assert rel["simtrace_dir"] == "training-simtrace"
    assert rel["training_metrics"] == "metrics/TrainingMetrics.json"


def test_not_a_run_is_one_clear_error(tmp_path):
    with pytest.raises(RunDirError, match="not a run directory"):
        RunDir(tmp_path).info()
    (tmp_path / "run.json").write_text("{bad")
    with pytest.raises(RunDirError, match="run.json: unreadable"):
        RunDir(tmp_path).info()


def test_checkpoints_sort_by_steps_and_prune(tmp_path):
    run = RunDir(tmp_path)
    run.checkpoint_dir.mkdir(parents=True)
    for steps in (900, 10000, 2000, 50):
        run.checkpoint_path(steps).write_bytes(b"x")
    assert [p.name for p in run.checkpoints()] == ["checkpoint-50.zip", "checkpoint-900.zip", "checkpoint-2000.zip",
                                                   "checkpoint-10000.zip"]
    assert run.latest_model() == run.checkpoint_path(10000)
    run.prune_checkpoints(keep=2)
    assert [p.name for p in run.checkpoints()] == ["checkpoint-2000.zip", "checkpoint-10000.zip"]
    with pytest.raises(RunDirError, match="no such model file"):
        run.model_path("nope")
    assert run.model_path("best") == run.checkpoint_path(10000)  # no best or final model yet


def test_atomic_writes_leave_no_temporary_file(tmp_path):
    atomic_write_json(tmp_path / "a" / "b.json", {"x": 1})
    assert json.loads((tmp_path / "a" / "b.json").read_text()) == {"x": 1}
    assert list((tmp_path / "a").iterdir()) == [tmp_path / "a" / "b.json"]


def test_a_logs_track_comes_from_its_run(tmp_path):
    run = RunDir(tmp_path / "run")
    run.logs.mkdir(parents=True)
    run.write_info({"track": "kidney_speedway", "reverse": True})
    run.training_log.write_text("SIM_TRACE_LOG:0,1,0,0,0,0,0,0,0,False,True,0,0,1,0,prepare,0\n")
    track = track_for_log(run.training_log)
    assert track.name == "kidney_speedway" and track.is_reversed
