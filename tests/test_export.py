"""racer export: a camera model as DeepRacer's physical model, checked with the converters DeepRacer on AWS runs.

OpenVINO (held to float32, as the car's CPU computes) and TensorFlow Lite (converted as DRoA converts) read the
exported ``model.pb`` and must give racer_env's own action on 220 camera frames from laps: the same argmax
(discrete), within 1e-4 (continuous, SAC). The models are a tiny trained run's, and models built directly for the
other heads and AWS's layout; their output layer is scaled so that the actions span the action space (a model
after a few hundred steps answers within a few thousandths of 0, where any converter would agree).
"""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from racer_env.errors import ExportError
from racer_env.training.export import (
    METADATA_ENTRY,
    MODEL_PB_ENTRY,
    export_run,
    input_name,
    lap_observations,
    output_name,
    policy_output,
    run_env,
)
from racer_env.training.networks import policy_kwargs
from racer_env.training.rundir import RunDir

torch.set_num_threads(1)
FRAMES = 220
CONTINUOUS = {"action_space": {"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 0.5, "high": 2}},
              "action_space_type": "continuous", "sensor": ["FRONT_FACING_CAMERA"], "version": "5"}
DISCRETE = {"action_space": [{"steering_angle": s, "speed": v} for s in (-30, -15, 0, 15, 30) for v in (1.0, 2.0)],
            "action_space_type": "discrete", "sensor": ["FRONT_FACING_CAMERA"], "version": "5",
            "training_algorithm": "clipped_ppo"}
SAC_META = {**CONTINUOUS, "training_algorithm": "sac"}


@pytest.fixture(scope="module")
def camera_run(tmp_path_factory):
    """A tiny camera training (two updates of continuous PPO)."""
    from racer_env.cli import main

    work = tmp_path_factory.mktemp("export")
    meta = work / "camera.json"
    meta.write_text(json.dumps(CONTINUOUS))
    run = work / "run"
    assert main(["train", "--model-metadata", str(meta), "--timesteps", "512", "--n-envs", "2", "--out", str(run),
                 "--quiet", "--eval-laps", "0"]) == 0
    return run


@pytest.fixture(scope="module")
def frames(camera_run):
    obs = lap_observations(camera_run, FRAMES)
    assert len(obs) == FRAMES and obs[0]["FRONT_FACING_CAMERA"].shape == (120, 160, 1)
    return obs


def _copy_run(run: Path, to: Path, meta: dict | None = None, **info) -> Path:
    shutil.copytree(run, to, ignore=shutil.ignore_patterns("tensorboard", "training-simtrace", "run.lock"))
    if meta is not None:
        (to / "model" / "model_metadata.json").write_text(json.dumps(meta))
    if info:  # the env's fields go where the run keeps them: in run.json's "env", or at its top
        data = json.loads((to / "run.json").read_text())
        nested = isinstance(data.get("env"), dict) and "env" not in info
        for key, value in info.items():
            (data["env"] if nested and key in ("observation", "frame_stack") else data)[key] = value
        (to / "run.json").write_text(json.dumps(data))
    return to


def _latent(model, frames) -> np.ndarray:
    """What the output layer reads on each frame: the policy network's features (SAC: after its dense 256)."""
    from stable_baselines3.common.policies import BaseModel

    policy, rows = model.policy, []
    with torch.no_grad():
        for o in frames:
            obs, _ = policy.obs_to_tensor(o)
            if type(model).__name__ == "SAC":
                rows.append(policy.actor.latent_pi(BaseModel.extract_features(policy.actor, obs,
                                                                              policy.actor.features_extractor)))
            else:
                rows.append(policy.mlp_extractor.forward_actor(
                    BaseModel.extract_features(policy, obs, policy.pi_features_extractor)))
    return torch.cat(rows).numpy().astype(np.float64)


def _sharpen(model, frames, span: float, keep: bool = False) -> None:
    """Set the output layer so that its raw outputs (the mean, SAC's mean before the tanh, the logits) on
    ``frames`` spread over [-span, span] around 0, each output on its own: the layer's own weights scaled
    (``keep``), else random ones (a fresh model's logits move together, and one action would always win)."""
    out_layer = model.policy.actor.mu if type(model).__name__ == "SAC" else model.policy.action_net
    latent = _latent(model, frames[::5])
    w = out_layer.weight.detach().numpy().astype(np.float64) if keep else \
        np.random.default_rng(7).normal(size=tuple(out_layer.weight.shape))
    raw = latent @ w.T
    centre = raw.mean(axis=0)
    scale = span / (np.abs(raw - centre).max(axis=0) + 1e-12)
    with torch.no_grad():
        out_layer.weight.copy_(torch.as_tensor(w * scale[:, None], dtype=torch.float32))
        out_layer.bias.copy_(torch.as_tensor(-centre * scale, dtype=torch.float32))


def _model_for(kind: str, layout: str, run: Path, frames, work: Path) -> tuple[Path, object]:
    """A copy of the run with a model of ``kind`` (its model_metadata to match) in ``layout``."""
    from stable_baselines3 import PPO, SAC

    meta = {"continuous": CONTINUOUS, "discrete": DISCRETE, "sac": SAC_META}[kind]
    copy = _copy_run(run, work / f"{kind}-{layout}", meta, algorithm="sac" if kind == "sac" else "clipped_ppo")
    env = run_env(copy)
    network = env.actions.neural_network
    if kind == "sac":
        model = SAC("MultiInputPolicy", env, buffer_size=16, device="cpu", seed=1,
                    policy_kwargs={**policy_kwargs(network, layout=layout), "net_arch": [256]})
    else:
        model = PPO("MultiInputPolicy", env, n_steps=16, batch_size=16, device="cpu", seed=1,
                    policy_kwargs=policy_kwargs(network, -0.7, layout))
    _sharpen(model, frames, 3.0 if kind == "discrete" else 1.5)
    path = copy / "model" / "best_model.zip"
    path.unlink()
    model.save(str(path))
    env.close()
    return copy, model


def _extract(archive: Path, to: Path) -> tuple[dict, Path]:
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == sorted([METADATA_ENTRY, MODEL_PB_ENTRY])
        tar.extractall(to, filter="data")
    return json.loads((to / METADATA_ENTRY).read_text()), to / MODEL_PB_ENTRY


def test_the_tensor_names_are_those_deepracer_on_aws_and_the_car_look_up():
    # DRoA's tests (source/libs/model-optimizer/tests/test_model_conversion.py) spell them out so
    assert input_name("clipped_ppo", "FRONT_FACING_CAMERA") == \
        "main_level/agent/main/online/network_0/FRONT_FACING_CAMERA/FRONT_FACING_CAMERA"
    assert input_name("sac", "FRONT_FACING_CAMERA") == \
        "main_level/agent/policy/online/network_0/FRONT_FACING_CAMERA/FRONT_FACING_CAMERA"
    assert input_name("clipped_ppo", "SECTOR_LIDAR") == "main_level/agent/main/online/network_0/SECTOR_LIDAR/SECTOR_LIDAR"
    assert output_name("clipped_ppo") == "main_level/agent/main/online/network_1/ppo_head_0/policy"
    assert output_name("sac") == "main_level/agent/policy/online/network_0/sac_policy_head_0/policy"


def test_export_writes_the_runs_model_metadata_and_a_frozen_graph(camera_run, tmp_path, capsys):
    from tensorboard.compat.proto import graph_pb2

    from racer_env.cli import main

    out = tmp_path / "car.tar.gz"
    assert main(["export", str(camera_run), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert str(out) in printed and "best_model.zip" in printed and output_name("clipped_ppo") in printed
    meta, pb = _extract(out, tmp_path / "x")
    run_meta = json.loads((camera_run / "model" / "model_metadata.json").read_text())
    # the run's file, with what DRoA's import requires spelled out (it refuses a file without training_algorithm)
    assert meta == {**run_meta, "training_algorithm": "clipped_ppo", "action_space_type": "continuous"}
    graph = graph_pb2.GraphDef()
    graph.ParseFromString(pb.read_bytes())
    ops = {n.name: n.op for n in graph.node}
    assert ops[input_name("clipped_ppo", "FRONT_FACING_CAMERA")] == "Placeholder"
    assert ops[output_name("clipped_ppo")] == "Identity"
    assert sorted(n.name for n in graph.node if n.op == "Placeholder") == \
        [input_name("clipped_ppo", "FRONT_FACING_CAMERA")]
    assert list(tmp_path.glob("*.tmp")) == [] and list(tmp_path.glob(".*")) == []


def test_the_default_out_is_the_runs_name_in_the_current_folder(camera_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = export_run(camera_run)
    assert result.path == tmp_path / "run.tar.gz" and result.path.exists()
    assert result.model == RunDir(camera_run).best_model


@pytest.mark.slow
@pytest.mark.parametrize("kind, layout", [("continuous", "trained"), ("continuous", "aws"), ("discrete", "shared"),
                                          ("discrete", "aws"), ("sac", "aws")])
def test_openvino_and_tflite_give_racer_envs_own_action_on_frames_from_laps(camera_run, frames, tmp_path, kind,
                                                                              layout):
    pytest.importorskip("openvino", reason="pip install 'racer_env[export]' brings OpenVINO (scripts/setup.sh does)")
    pytest.importorskip("tensorflow", reason="pip install 'racer_env[export]' brings TensorFlow's TFLite converter")
    from racer_env.training.converters import openvino_outputs, tflite_model, tflite_outputs
    from racer_env.training.rundir import load_model

    if layout == "trained":
        run = _copy_run(camera_run, tmp_path / "trained")
        model = load_model(RunDir(run).best_model)
        _sharpen(model, frames, 1.5, keep=True)
        RunDir(run).best_model.unlink()  # (the test keeps the sharpened model as the run's best)
        model.save(str(RunDir(run).best_model))
    else:
        run, model = _model_for(kind, layout, camera_run, frames, tmp_path)
    model = load_model(RunDir(run).best_model, "sac" if kind == "sac" else "clipped_ppo")  # as saved: as exported
    result = export_run(run, out=tmp_path / "car.tar.gz")
    _, pb = _extract(result.path, tmp_path / "x")
    algorithm = "sac" if kind == "sac" else "clipped_ppo"
    ours = np.array([model.predict(o, deterministic=True)[0] for o in frames])
    converted = {"OpenVINO": openvino_outputs(pb, algorithm, frames, "f32"),
                 "TFLite": tflite_outputs(tflite_model(pb, algorithm, ["FRONT_FACING_CAMERA"]), frames)}
    for name, theirs in converted.items():
        assert theirs.shape[0] == FRAMES
        if kind == "discrete":
            # the same argmax, but where racer_env's two best actions tie within 1e-5: float rounding decides those
            # in any arithmetic (0 of the 220 frames here; the margin is checked so another CPU cannot flake)
            best_two = np.sort(np.stack([policy_output(model, o) for o in frames]), axis=1)[:, -2:]
            other = theirs.argmax(axis=1) != ours
            assert not (other & (best_two[:, 1] - best_two[:, 0] >= 1e-5)).any(), f"{name}: {other.sum()} differ"
            assert other.sum() <= 2
            assert len(set(ours.tolist())) >= 3  # the frames ask for different actions
            assert np.allclose(theirs.sum(axis=1), 1.0, atol=1e-5)  # probabilities
        else:  # the car clips the output to [-1, 1] before it maps it onto model_metadata's ranges
            err = np.abs(np.clip(theirs, -1, 1) - ours).max()
            assert err <= 1e-4, f"{name}: {err:.2e}"
            assert ours.min() < -0.5 and ours.max() > 0.5  # the actions span the space


def _fails(argv: list[str], capsys) -> str:
    from racer_env.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("racer: error: ") and "\n" not in err and "Traceback" not in err
    return err


def test_a_folder_that_is_not_a_run_is_refused(tmp_path, capsys):
    assert "not a run directory" in _fails(["export", str(tmp_path), "--out", str(tmp_path / "a.tar.gz")], capsys)
    assert not (tmp_path / "a.tar.gz").exists()


def test_a_run_with_no_model_yet_is_refused(camera_run, tmp_path, capsys):
    run = _copy_run(camera_run, tmp_path / "empty")
    for z in (run / "model").rglob("*.zip"):
        z.unlink()
    assert "no model found" in _fails(["export", str(run), "--out", str(tmp_path / "a.tar.gz")], capsys)


def test_a_corrupt_zip_is_refused_naming_it(camera_run, tmp_path, capsys):
    run = _copy_run(camera_run, tmp_path / "corrupt")
    (run / "model" / "best_model.zip").write_bytes(b"PK\x03\x04 not really a zip")
    err = _fails(["export", str(run), "--out", str(tmp_path / "a.tar.gz")], capsys)
    assert "best_model.zip: not a readable stable-baselines3 model" in err
    assert list(tmp_path.glob("*.tar.gz*")) == [] and list(tmp_path.glob(".a.tar.gz*")) == []


@pytest.mark.parametrize("out, says", [("exists.tar.gz", "already exists"), ("missing/a.tar.gz", "no folder"),
                                       ("a.zip", "expected a file name ending in .tar.gz")])
def test_an_out_that_exists_or_cannot_be_written_is_refused(camera_run, tmp_path, capsys, out, says):
    (tmp_path / "exists.tar.gz").write_bytes(b"keep me")
    assert says in _fails(["export", str(camera_run), "--out", str(tmp_path / out)], capsys)
    assert (tmp_path / "exists.tar.gz").read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exists.tar.gz"]


def test_nothing_half_written_is_left_when_writing_fails(camera_run, tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tarfile.TarFile, "addfile", full)
    with pytest.raises(ExportError, match="No space left on device"):
        export_run(camera_run, out=tmp_path / "a.tar.gz")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("change, says", [
    ({"info": {"observation": "vector"}}, "privileged state no car has"),
    ({"info": {"env": {"observation": "vector", "frame_stack": 1}}}, "privileged state no car has"),  # nested
    ({"meta": {**CONTINUOUS, "sensor": ["FRONT_FACING_CAMERA", "DISCRETIZED_SECTOR_LIDAR"],
               "lidar_config": {"num_sectors": 8, "num_values_per_sector": 2, "clipping_dist": 2.0}}},
     "the car has no DISCRETIZED_SECTOR_LIDAR"),
    ({"meta": {**CONTINUOUS, "preprocess_type": "RGB"}}, "grey frames"),
    ({"info": {"frame_stack": 2}}, "one frame at a time"),
])
def test_what_the_car_cannot_run_is_refused_in_one_line_saying_why(camera_run, tmp_path, capsys, change, says):
    run = _copy_run(camera_run, tmp_path / "bad", change.get("meta"), **change.get("info", {}))
    assert says in _fails(["export", str(run), "--out", str(tmp_path / "a.tar.gz")], capsys)
    assert not (tmp_path / "a.tar.gz").exists()


@pytest.mark.slow
def test_export_check_converts_and_compares_on_the_runs_track(camera_run, tmp_path, capsys):
    pytest.importorskip("openvino", reason="pip install 'racer_env[export]' brings OpenVINO (scripts/setup.sh does)")
    pytest.importorskip("tensorflow", reason="pip install 'racer_env[export]' brings TensorFlow's TFLite converter")
    from racer_env.cli import main

    assert main(["export", str(camera_run), "--out", str(tmp_path / "a.tar.gz"), "--check"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("OpenVINO (f32): racer_env's action on 200 of 200 camera frames") for line in lines)
    assert any(line.startswith("TFLite: racer_env's action on 200 of 200 camera frames") for line in lines)


def test_without_the_converters_check_says_what_to_install(camera_run, tmp_path, monkeypatch):
    import importlib

    from racer_env.training.converters import check_export

    real = importlib.import_module

    def missing(name, *args, **kwargs):
        if name == "openvino":
            raise ImportError("No module named 'openvino'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", missing)
    with pytest.raises(ExportError, match=r"pip install 'racer_env\[export\]'"):
        check_export(tmp_path / "a.tar.gz", camera_run)
