"""What DeepRacer on AWS and the car do with an exported ``model.pb``, done here: OpenVINO and TensorFlow Lite.

Needs ``pip install racer_env[export]`` (OpenVINO, and TensorFlow for its TFLite converter); ``racer export``
itself does not. The conversions follow [DROA] ``source/libs/model-optimizer/lib/model_optimizer/
model_conversion.py`` (aws-solutions/deepracer-on-aws, release 1.3):

* OpenVINO: ``ov.convert_model(model.pb)`` once to find the outputs, again with ``output=`` the one whose name
  starts with the expected output tensor, then ``ov.save_model`` (which stores the weights as float16 unless told
  otherwise) for the Evo and custom cars. The car's own optimizer ([CAR] ``model_optimizer_node.py``) does the
  same with ``compress_to_fp16`` and compiles with ``INFERENCE_PRECISION_HINT`` f16, which a CPU without float16
  arithmetic (the car's Atom) computes in float32.
* TensorFlow Lite, for a Raspberry Pi car: ``tf.compat.v1.lite.TFLiteConverter.from_frozen_graph(model.pb,
  input_arrays, output_arrays).convert()``.

Both run a batch of one observation at a time, as the car does. Observations are the env's: images (H, W, C)
uint8, fed as float32 0-255 (the car's ``load1DImg`` copies the pixel values; the graph divides by 255).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from racer_env.errors import ExportError
from racer_env.training.export import input_name, output_name

__all__ = ["openvino_outputs", "tflite_model", "tflite_outputs", "PRECISIONS", "check_export", "Agreement",
           "TOLERANCE", "TIE"]

PRECISIONS = ("f32", "default", "droa")
"""How :func:`openvino_outputs` compiles: ``f32`` (held to float32, as the car's CPU computes), ``default``
(OpenVINO's default for this CPU: bfloat16 where the CPU has it), ``droa`` (the IR DeepRacer on AWS saves, float16
weights, run in float32)."""


def _need(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ExportError(f"{module} is not installed: pip install 'racer_env[export]' brings the converters "
                          f"DeepRacer uses") from err


def _feed(observation: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.asarray(v, dtype=np.float32)[None] for k, v in observation.items()}


def _sensor_of(name: str, keys: Sequence[str]) -> str:
    """The observation key a converted model's input belongs to (names may carry ``:0``)."""
    base = name.split(":")[0]
    for k in keys:
        if base.endswith(f"/{k}/{k}"):
            return k
    raise ExportError(f"the converted model has an input {name!r} that matches none of {list(keys)}")


def openvino_outputs(pb: str | Path, algorithm: str, observations: Sequence[dict[str, np.ndarray]],
                     precision: str = "f32") -> np.ndarray:
    """OpenVINO's outputs of an exported ``model.pb`` on ``observations``, converted as DeepRacer on AWS does.

    Args:
        pb: the frozen graph.
        algorithm: ``clipped_ppo`` or ``sac`` (it names the output).
        observations: the env's observations.
        precision: one of :data:`PRECISIONS`.

    Returns:
        (len(observations), outputs) float32.

    Raises:
        ExportError: OpenVINO is missing, or the expected output is not in the graph.
    """
    ov = _need("openvino")
    if precision not in PRECISIONS:
        raise ValueError(f"precision: expected one of {', '.join(PRECISIONS)}, got {precision!r}")
    expected = output_name(algorithm)
    probe = ov.convert_model(str(pb))
    detected = [o.get_any_name() for o in probe.outputs]
    spec = next((name for name in detected if name.startswith(expected)), None)
    if spec is None:
        raise ExportError(f"{pb}: expected the output {expected}, OpenVINO found {detected}")
    model = ov.convert_model(str(pb), output=spec)
    core = ov.Core()
    if precision == "droa":  # the IR DRoA uploads: ov.save_model's default float16 weights
        with tempfile.TemporaryDirectory() as tmp:
            xml = Path(tmp) / "model.xml"
            ov.save_model(model, str(xml))
            model = core.read_model(str(xml))
            compiled = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    else:
        config = {"INFERENCE_PRECISION_HINT": "f32"} if precision == "f32" else {}
        compiled = core.compile_model(model, "CPU", config)
    request = compiled.create_infer_request()
    keys = list(observations[0]) if observations else []
    names = {i.get_any_name(): _sensor_of(i.get_any_name(), keys) for i in compiled.inputs}
    out = []
    for obs in observations:
        feed = _feed(obs)
        result = request.infer({name: feed[key] for name, key in names.items()})
        out.append(np.asarray(next(iter(result.values())), dtype=np.float32)[0])
    return np.stack(out) if out else np.zeros((0, 0), np.float32)


def tflite_model(pb: str | Path, algorithm: str, sensors: Sequence[str]) -> bytes:
    """The TensorFlow Lite model DeepRacer on AWS makes of an exported ``model.pb`` for a Raspberry Pi car.

    Args:
        pb: the frozen graph.
        algorithm: ``clipped_ppo`` or ``sac``.
        sensors: the observation's keys (model_metadata's sensors), in the order DRoA lists them (camera, LIDAR).

    Raises:
        ExportError: TensorFlow is missing.
    """
    tf = _need("tensorflow")
    converter = tf.compat.v1.lite.TFLiteConverter.from_frozen_graph(
        str(pb), input_arrays=[input_name(algorithm, s) for s in sensors], output_arrays=[output_name(algorithm)])
    return bytes(converter.convert())


def tflite_outputs(model: bytes, observations: Sequence[dict[str, np.ndarray]]) -> np.ndarray:
    """A TensorFlow Lite model's outputs on ``observations`` (batch 1, float32).

    Raises:
        ExportError: TensorFlow is missing.
    """
    tf = _need("tensorflow")
    interpreter = tf.lite.Interpreter(model_content=model)
    interpreter.allocate_tensors()
    keys = list(observations[0]) if observations else []
    inputs = [(d["index"], _sensor_of(d["name"], keys)) for d in interpreter.get_input_details()]
    output = interpreter.get_output_details()[0]["index"]
    out = []
    for obs in observations:
        feed = _feed(obs)
        for index, key in inputs:
            interpreter.set_tensor(index, feed[key])
        interpreter.invoke()
        out.append(np.array(interpreter.get_tensor(output), dtype=np.float32)[0])
    return np.stack(out) if out else np.zeros((0, 0), np.float32)


@dataclass
class Agreement:
    """How one converter's outputs compare with racer_env's actions on the same frames."""

    converter: str
    """``OpenVINO (f32)`` or ``TFLite``."""
    frames: int
    """Frames compared."""
    differing: int
    """Frames on which the car would act otherwise: another argmax (discrete) where racer_env's two best actions
    are more than :data:`TIE` apart, or a difference over :data:`TOLERANCE` after the car's clip to [-1, 1]
    (continuous)."""
    max_error: float | None
    """The largest difference in [-1, 1] units (continuous; None for discrete)."""
    ties: int = 0
    """Frames with another argmax where racer_env's two best actions are within :data:`TIE` of each other: float
    rounding decides those, in any arithmetic (discrete)."""


TOLERANCE = 1e-4
"""The difference [in [-1, 1] units] below which a continuous action counts as the same."""
TIE = 1e-5
"""Two actions whose probabilities differ by less than this are a tie that float rounding decides."""


def check_export(archive: str | Path, run: str | Path, model: str = "best", frames: int = 200) -> list[Agreement]:
    """Convert an exported archive as DeepRacer on AWS does (OpenVINO held to float32, TFLite) and compare what
    each computes with racer_env's own action on camera frames from laps of the run's track.

    Args:
        archive: the ``.tar.gz`` :func:`~racer_env.training.export.export_run` wrote.
        run: the run it came from.
        model: the model it was made from (as ``export_run``'s ``model``).
        frames: how many frames (:func:`~racer_env.training.export.lap_observations`).

    Raises:
        ExportError: OpenVINO or TensorFlow is missing, or the archive has no ``agent/model.pb``.
    """
    import tarfile

    from racer_env.training.export import MODEL_PB_ENTRY, lap_observations, policy_output
    from racer_env.training.rundir import RunDir, load_model

    _need("openvino")
    _need("tensorflow")
    rd = RunDir(run)
    algorithm = rd.info().get("algorithm", "clipped_ppo")
    sb3 = load_model(rd.model_path(model), algorithm)
    observations = lap_observations(rd.path, frames)
    ours = np.array([sb3.predict(o, deterministic=True)[0] for o in observations])
    discrete = ours.ndim == 1
    if discrete:
        best_two = np.sort(np.stack([policy_output(sb3, o) for o in observations]), axis=1)[:, -2:]
        tied = best_two[:, 1] - best_two[:, 0] < TIE
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(archive) as tar:
            try:
                data = tar.extractfile(MODEL_PB_ENTRY)
            except KeyError:
                data = None
            if data is None:
                raise ExportError(f"{archive}: no {MODEL_PB_ENTRY}; expected an archive racer export wrote")
            pb = Path(tmp) / "model.pb"
            pb.write_bytes(data.read())
        sensors = sorted(observations[0], key=lambda k: (k.endswith("LIDAR"), k))  # DRoA: the camera, then a LIDAR
        outputs = {"OpenVINO (f32)": openvino_outputs(pb, algorithm, observations, "f32"),
                   "TFLite": tflite_outputs(tflite_model(pb, algorithm, sensors), observations)}
    result = []
    for name, theirs in outputs.items():
        if discrete:
            other = theirs.argmax(axis=1) != ours
            result.append(Agreement(name, len(ours), int((other & ~tied).sum()), None, int((other & tied).sum())))
        else:
            error = np.abs(np.clip(theirs, -1.0, 1.0) - ours).max(axis=1)
            result.append(Agreement(name, len(ours), int((error > TOLERANCE).sum()), float(error.max())))
    return result
