"""How closely DeepRacer's converters follow racer_env on an exported model: OpenVINO three ways, and TFLite.

For each network, layout and head, a model is built on the camera of ``--track`` (its output layer set so that
the raw outputs on the frames spread over ±1.5, ±3 for logits: a fresh model answers within a hair of 0, where any
converter agrees), exported with ``racer export``'s code, converted as DeepRacer on AWS converts ``model.pb``, and
run on camera frames from laps (a pure-pursuit driver on the centre line and 40 % of the half-width either side).
Each converter's output is compared with racer_env's own action (``model.predict``, deterministic):

* ``ov_f32``: OpenVINO held to float32 (``INFERENCE_PRECISION_HINT`` f32), as the car's CPU computes;
* ``ov_default``: OpenVINO's default precision on this CPU (bfloat16 where the CPU has it, as here);
* ``ov_droa``: the IR DRoA uploads for a car (``ov.save_model``'s float16 weights), run in float32;
* ``tflite``: ``TFLiteConverter.from_frozen_graph``, as DRoA converts for a Raspberry Pi car.

Discrete: how many frames' argmax differs from racer_env's action (and how many of those are near-ties, racer_env's
two best actions within 1e-5 in probability, which float rounding decides); continuous and SAC: the largest difference
after the car's clip to [-1, 1], in [-1, 1] units. Also the size of ``model.pb`` and OpenVINO's median time for
one frame (batch 1, float32, this machine's 2 cores). Writes ``benchmarks/results/export-agreement.json``.

    python benchmarks/export_agreement.py [--track harbour_loop] [--frames 220]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import racer_env
from racer_env.training.converters import openvino_outputs, tflite_model, tflite_outputs
from racer_env.training.export import export_model, lap_observations, output_name, policy_output
from racer_env.training.networks import LAYOUTS, NEURAL_NETWORKS, policy_kwargs

RESULTS = Path(__file__).parent / "results" / "export-agreement.json"
CONTINUOUS = {"action_space": {"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 0.5, "high": 4}},
              "action_space_type": "continuous", "sensor": ["FRONT_FACING_CAMERA"], "version": "5"}
DISCRETE = {"action_space": [{"steering_angle": s, "speed": v} for s in (-30, -15, 0, 15, 30) for v in (1.0, 2.0)],
            "action_space_type": "discrete", "sensor": ["FRONT_FACING_CAMERA"], "version": "5"}


def _latent(model, frames) -> np.ndarray:
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


def _spread(model, frames, span: float) -> None:
    """Random output weights, centred and scaled so the raw outputs on ``frames`` span [-span, span]."""
    out_layer = model.policy.actor.mu if type(model).__name__ == "SAC" else model.policy.action_net
    w = np.random.default_rng(7).normal(size=tuple(out_layer.weight.shape))
    raw = _latent(model, frames[::5]) @ w.T
    centre = raw.mean(axis=0)
    scale = span / (np.abs(raw - centre).max(axis=0) + 1e-12)
    with torch.no_grad():
        out_layer.weight.copy_(torch.as_tensor(w * scale[:, None], dtype=torch.float32))
        out_layer.bias.copy_(torch.as_tensor(-centre * scale, dtype=torch.float32))


def case(network: str, layout: str, head: str, track: str, frames_n: int, work: Path) -> dict:
    from stable_baselines3 import PPO, SAC

    meta = {**(DISCRETE if head == "discrete" else CONTINUOUS), "neural_network": network,
            "training_algorithm": "sac" if head == "sac" else "clipped_ppo"}
    actions = racer_env.ActionSpec.from_dict(meta)
    env = racer_env.RacerEnv(track=track, reward_function=lambda p: 1.0, model_metadata=actions, mode="eval")
    frames = lap_observations(env, frames_n)
    if head == "sac":
        model = SAC("MultiInputPolicy", env, buffer_size=16, device="cpu", seed=1,
                    policy_kwargs={**policy_kwargs(network, layout=layout), "net_arch": [256]})
    else:
        model = PPO("MultiInputPolicy", env, n_steps=16, batch_size=16, device="cpu", seed=1,
                    policy_kwargs=policy_kwargs(network, -0.7, layout))
    _spread(model, frames, 3.0 if head == "discrete" else 1.5)
    archive = work / f"{network}-{layout}-{head}.tar.gz"
    size = export_model(model, meta, archive)
    with tarfile.open(archive) as tar:
        tar.extractall(work / archive.name[:-7], filter="data")
    pb = work / archive.name[:-7] / "agent" / "model.pb"
    algorithm = meta["training_algorithm"]
    ours = np.array([model.predict(o, deterministic=True)[0] for o in frames])
    if head == "discrete":  # racer_env's two best actions within 1e-5: a near-tie that float rounding decides
        best_two = np.sort(np.stack([policy_output(model, o) for o in frames]), axis=1)[:, -2:]
        tied = best_two[:, 1] - best_two[:, 0] < 1e-5
    outputs = {p: openvino_outputs(pb, algorithm, frames, p) for p in ("f32", "default", "droa")}
    start = time.perf_counter()
    tfl = tflite_model(pb, algorithm, ["FRONT_FACING_CAMERA"])
    tflite_s = time.perf_counter() - start
    outputs["tflite"] = tflite_outputs(tfl, frames)
    row: dict = {"network": network, "layout": layout, "head": head, "frames": len(frames),
                 "model_pb_mb": round(size / 1e6, 1), "tflite_convert_s": round(tflite_s, 1),
                 "output": output_name(algorithm)}
    for name, theirs in outputs.items():
        key = "tflite" if name == "tflite" else f"ov_{name}"
        if head == "discrete":
            other = theirs.argmax(axis=1) != ours
            row[key] = {"argmax_differs": int(other.sum()), "of_which_near_ties": int((other & tied).sum()),
                        "actions_used": int(len(set(ours.tolist())))}
        else:
            row[key] = {"max_abs_error": float(np.abs(np.clip(theirs, -1, 1) - ours).max())}
    import openvino as ov

    compiled = ov.Core().compile_model(ov.convert_model(str(pb)), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    request = compiled.create_infer_request()
    x = np.asarray(frames[0]["FRONT_FACING_CAMERA"], np.float32)[None]
    times = []
    for _ in range(30):
        t = time.perf_counter()
        request.infer([x])
        times.append(time.perf_counter() - t)
    row["ov_f32_ms_per_frame"] = round(1000 * statistics.median(times), 2)
    env.close()
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--track", default="harbour_loop", help="a track name or file (default %(default)s)")
    ap.add_argument("--frames", type=int, default=220)
    args = ap.parse_args()
    torch.set_num_threads(1)
    cases = [(NEURAL_NETWORKS[0], layout, head) for layout in LAYOUTS for head in ("discrete", "continuous", "sac")]
    cases += [(network, layout, "continuous") for network in NEURAL_NETWORKS[1:] for layout in LAYOUTS]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for network, layout, head in cases:
            row = case(network, layout, head, args.track, args.frames, Path(tmp))
            rows.append(row)
            print(json.dumps(row), flush=True)
    import openvino
    import tensorflow

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"track": args.track, "openvino": openvino.__version__,
                                   "tensorflow": tensorflow.__version__, "torch": torch.__version__,
                                   "rows": rows}, indent=1) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
