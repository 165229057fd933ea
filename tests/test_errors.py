"""Every error is one clear line: a corpus of malformed inputs run through every command.

Each must exit with code 2 and print exactly one line on stderr that names the file or field at fault, with no
traceback. The commands run in this process through ``racer_env.cli.main`` (the ``racer`` script and
``train.py`` call exactly that); one case also runs ``train.py`` itself.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO
from racer_env.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Malformed (and a few good) input files; names ending in what is wrong with them."""
    d = tmp_path_factory.mktemp("bad")
    square = np.column_stack([np.cos(np.linspace(0, 2 * np.pi, 21)), np.sin(np.linspace(0, 2 * np.pi, 21))])
    rows = np.column_stack([square * 2.0, square * 1.7, square * 2.3])

    def write(name: str, text: str | bytes) -> str:
        p = d / name
        p.write_bytes(text if isinstance(text, bytes) else text.encode())
        return str(p)

    f = {
        "empty.npy": write("empty.npy", b""),
        "text.npy": write("text.npy", "this is not a track\n"),
        "bad_row.csv": write("bad_row.csv", "1,2,3,4,5,6\n1,2,x,4,5,6\n1,2,3,4,5,6\n"),
        "no_reward.py": write("no_reward.py", "def reward(params):\n    return 1.0\n"),
        "syntax.py": write("syntax.py", "def reward_function(params)\n    return 1.0\n"),
        "import.py": write("import.py", "import no_such_module_xyz\n\ndef reward_function(p):\n    return 1.0\n"),
        "good.py": write("good.py", "def reward_function(params):\n    return 1.0\n"),
        "not_json.json": write("not_json.json", "{'action_space': [}"),
        "no_log.log": write("no_log.log", "hello\nworld\n"),
        "a_file": write("a_file", "not a folder"),
    }
    for name, array in (("shape.npy", np.zeros((10, 4))), ("nan.npy", np.vstack([rows[:5], [[np.nan] * 6]])),
                        ("open.npy", rows[:10])):
        np.save(d / name, array)
        f[name] = str(d / name)
    crossing = rows.copy()
    crossing[5, 2:4] = crossing[5, 4:6] * 1.3
    np.save(d / "crossing.npy", crossing)
    f["crossing.npy"] = str(d / "crossing.npy")
    metadata = {
        "steering200.json": {"action_space": [{"steering_angle": 200, "speed": 1.0}]},
        "speed_negative.json": {"action_space": [{"steering_angle": 0, "speed": -1}]},
        "low_high.json": {"action_space": {"steering_angle": {"low": 30, "high": -30}, "speed": {"low": 1, "high": 2}},
                          "action_space_type": "continuous"},
        "no_action_space.json": {"sensor": ["FRONT_FACING_CAMERA"]},
        "sac_discrete.json": {"action_space": [{"steering_angle": 0, "speed": 1}], "training_algorithm": "sac"},
        "version_abc.json": {"action_space": [{"steering_angle": 0, "speed": 1}], "version": "abc"},
        "hp_learning_rate.json": {"learning_rate": 0.001},
        "hp_lr_text.json": {"lr": "fast"},
        "hp_big_batch.json": {"batch_size": 4096, "n_steps": 16},
        "hp_one_step.json": {"n_steps": 1},
        "hp_discount.json": {"discount_factor": 2.0},
        "sensor_radar.json": {"action_space": [{"steering_angle": 0, "speed": 1}], "sensor": ["RADAR"]},
        "lidar_sectors.json": {"action_space": [{"steering_angle": 0, "speed": 1}],
                               "sensor": ["FRONT_FACING_CAMERA", "DISCRETIZED_SECTOR_LIDAR"],
                               "lidar_config": {"num_sectors": 7}},
    }
    for name, obj in metadata.items():
        f[name] = write(name, json.dumps(obj))
    f["race_typo.yaml"] = write("race_typo.yaml", "NUMBER_OF_OBSTACLE: 3\n")
    f["race_bad.yaml"] = write("race_bad.yaml", "NUMBER_OF_BOT_CARS: lots\n")
    f["race_yaml.yaml"] = write("race_yaml.yaml", "NUMBER_OF_OBSTACLES: [3\n")
    f["run.env"] = write("run.env", "DR_RACE_TYPE=OBJECT_AVOIDANCE\nDR_OA_OBJECT_POSITIONS=0.5\n")
    run = d / "fake_run"
    (run / "model").mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"track": "harbour_loop"}))
    (run / "model" / "model_metadata.json").write_text(json.dumps(
        {"action_space": [{"steering_angle": 0, "speed": 1}]}))
    (run / "reward_function.py").write_text("def reward_function(params):\n    return 1.0\n")
    f["run"] = str(run)
    f["out"] = str(d / "out")
    f["log"] = str(REPO / "tests" / "data" / "short.log")
    return f


CASES = [
    # (command line with {placeholders} from the files fixture, words the one line must contain)
    ("train --track missing_track.npy", "missing_track.npy"),
    ("train --track {empty.npy}", "empty.npy"),
    ("train --track {text.npy}", "not a NumPy file"),
    ("train --track {shape.npy}", "shape"),
    ("train --track {nan.npy}", "finite"),
    ("train --track {crossing.npy}", "crosses the centre line"),
    ("train --track {bad_row.csv}", "line 2"),
    ("train --reward missing_reward.py", "missing_reward.py"),
    ("train --reward {syntax.py}", "syntax.py:1"),
    ("train --reward {no_reward.py}", "no_reward.py"),
    ("train --reward {import.py}", "import.py:1"),
    ("train --model-metadata missing.json", "missing.json"),
    ("train --model-metadata {not_json.json}", "not valid JSON"),
    ("train --model-metadata {steering200.json}", "'action_space[0].steering_angle'"),
    ("train --model-metadata {speed_negative.json}", "'action_space[0].speed'"),
    ("train --model-metadata {low_high.json}", "'action_space.steering_angle"),
    ("train --model-metadata {no_action_space.json}", "'action_space'"),
    ("train --model-metadata {sac_discrete.json}", "'training_algorithm'"),
    ("train --model-metadata {version_abc.json}", "'version'"),
    ("train --model-metadata {sensor_radar.json}", "'sensor': unknown 'RADAR'"),
    ("train --model-metadata {lidar_sectors.json}", "'lidar_config.num_sectors': expected a whole number dividing 64"),
    ("train --race missing_race.yaml", "missing_race.yaml"),
    ("train --race {race_typo.yaml}", "did you mean NUMBER_OF_OBSTACLES"),
    ("train --race {race_bad.yaml}", "NUMBER_OF_BOT_CARS: expected a whole number"),
    ("train --race {race_yaml.yaml}", "not valid YAML"),
    ("train --race {run.env}", "DR_OA_OBJECT_POSITIONS"),
    ("evaluate {run} --race {race_typo.yaml}", "NUMBER_OF_OBSTACLE"),
    ("check {good.py} --race {race_bad.yaml}", "NUMBER_OF_BOT_CARS"),
    ("replay {log} --track harbour_loop --race {race_typo.yaml}", "NUMBER_OF_OBSTACLE"),
    ("train --hyperparameters {hp_learning_rate.json}", "did you mean 'lr'"),
    ("train --hyperparameters {hp_lr_text.json}", "'lr'"),
    ("train --hyperparameters {hp_big_batch.json} --n-envs 2", "'batch_size'"),
    ("train --hyperparameters {hp_one_step.json}", "'n_steps'"),
    ("train --hyperparameters {hp_discount.json}", "'discount_factor'"),
    ("train --hyperparameters {not_json.json}", "not valid JSON"),
    ("train --timesteps -5", "--timesteps"),
    ("train --n-envs 0", "--n-envs"),
    ("train --minutes soon", "--minutes"),
    ("train --out {a_file}", "a_file"),
    ("train --resume no_such_run_dir", "no_such_run_dir"),
    ("train --reward-time-limit -1", "--reward-time-limit"),
    ("evaluate no_such_run_dir", "no_such_run_dir"),
    ("evaluate {run} --resets -1", "--resets"),
    ("evaluate {run} --laps 0", "--laps"),
    ("evaluate {run} --model nope.zip", "nope.zip"),
    ("evaluate {run} --off-track-penalty -2", "--off-track-penalty"),
    ("evaluate {run} --action-hz 25", "--action-hz"),
    ("evaluate {run} --action-hz 0", "--action-hz"),
    ("evaluate {run} --action-hz fast", "--action-hz"),
    ("watch no_such_run_dir", "no_such_run_dir"),
    ("watch {run} --speed fast", "--speed"),
    ("watch {run} --record out.avi", "out.avi"),
    ("replay missing.log", "missing.log"),
    ("replay {no_log.log}", "no_log.log"),
    ("replay {log} --track harbour_loop --episode 99", "--episode 99"),
    ("replay {log} --track harbour_loop --episodes 3-1", "--episodes"),
    ("replay {log} --track missing_track", "missing_track"),
    ("check missing_reward.py", "missing_reward.py"),
    ("check {syntax.py}", "syntax.py:1"),
    ("check {good.py} --track missing_track", "missing_track"),
    ("check {good.py} --log missing.log", "missing.log"),
    ("check {good.py} --model-metadata {not_json.json}", "not valid JSON"),
    ("raceline missing_track", "missing_track"),
    ("raceline {open.npy}", "needs a loop"),
    ("raceline harbour_loop --margin -1", "--margin"),
    ("unpack no_such_run_dir", "no_such_run_dir"),
    ("drive --track missing_track", "missing_track"),
    ("nonsense-command", "invalid choice"),
]


def test_the_corpus_is_large():
    assert len(CASES) >= 30


@pytest.mark.parametrize("command, words", CASES, ids=[c for c, _ in CASES])
def test_malformed_input_gets_one_clear_line(files, command, words, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = [files[part[1:-1]] if part.startswith("{") else part for part in command.split()]
    try:
        code = main(argv + (["--out", files["out"] + command.replace(" ", "_")[:40]]
                            if argv[0] == "train" and "--out" not in argv and "--resume" not in argv else []))
    except SystemExit as exit_:  # argparse
        code = exit_.code
    err = capsys.readouterr().err.strip()
    assert code == 2, (command, err)
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    assert words in err, err


def test_train_py_itself_prints_one_line(files):
    proc = subprocess.run([sys.executable, str(REPO / "train.py"), "--model-metadata", files["steering200.json"]],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "steering_angle" in proc.stderr and "would drive 30" in proc.stderr
