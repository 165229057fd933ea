"""``racer export``: a camera model trained here, as the physical model the DeepRacer car and DeepRacer on AWS read.

A physical model is a ``.tar.gz`` of ``model_metadata.json`` and ``agent/model.pb``, a frozen TensorFlow 1 graph:
``Const`` nodes hold the weights, and one path of ops leads from the sensors' input placeholders to one output.
DeepRacer on AWS (from release 1.3, [DROA] ``source/libs/model-optimizer/``) converts ``model.pb`` with OpenVINO
(for the DeepRacer Evo and custom cars) and with TensorFlow Lite (for a Raspberry Pi car); the car's own
software ([CAR] ``aws-deepracer-model-optimizer-pkg``) converts it with OpenVINO too, then feeds it grey frames of
160x120 pixels, values 0-255, and reads the output by name. Both find the tensors by these names:

=================  ====================================================================================
input (PPO)        ``main_level/agent/main/online/network_0/<SENSOR>/<SENSOR>``, one per sensor
input (SAC)        ``main_level/agent/policy/online/network_0/<SENSOR>/<SENSOR>``
output (PPO)       ``main_level/agent/main/online/network_1/ppo_head_0/policy``
output (SAC)       ``main_level/agent/policy/online/network_0/sac_policy_head_0/policy``
=================  ====================================================================================

``<SENSOR>`` is model_metadata's sensor name (``FRONT_FACING_CAMERA``, ``STEREO_CAMERAS``, ``LEFT_CAMERA``,
``observation``, ``LIDAR``, ``SECTOR_LIDAR``). [DROA] ``model_optimizer/constants.py`` (``INPUT_HEAD_NAME_FORMAT``,
``OUTPUT_HEAD_NAME_FORMAT``), [CAR] ``model_optimizer_pkg/constants.py`` (``NETWORK_INPUT_FORMAT_MAPPING``) and
[SIM] ``markov/boto/s3/constants.py`` (the output heads the simulator freezes with
``convert_variables_to_constants``) give them. PPO's output is in ``network_1`` while its inputs are in
``network_0``: rl_coach builds the value network first, and the policy network reads its placeholders.

What the graph computes, as in the graph AWS freezes (``tests/test_networks.py`` compares the two):

* each input divided by 255 (an image; a LIDAR by 1), then minus 0, inside the graph, in NHWC;
* the policy network's embedders (``Conv2D`` 'VALID' + ``BiasAdd`` + ``Relu``, a flatten in NHWC order, dense
  layers), their concatenation in sensor-name order, the middleware (dense + ``Relu``);
* the head. Discrete PPO: ``policy`` is the softmax over the actions, in model_metadata's order (the car drives
  the argmax). Continuous PPO: ``policy`` is the mean in [-1, 1] units, an ``Identity`` of the dense
  ``policy_mean`` (the car clips it to [-1, 1] and maps it linearly onto model_metadata's ranges, index 0 the
  steering, 1 the speed). SAC: ``policy`` is ``tanh`` of the mean, racer_env's deterministic action (AWS's SAC
  graph names the mean before the ``tanh`` ``policy``: a car clips that instead of squashing it).

torch's convolutions are channels-first, TensorFlow's channels-last: kernels are transposed to HWIO, and the
first dense layer after a flatten has its input columns reordered from (channel, row, column) to (row, column,
channel). The graph is written with the protobuf classes TensorBoard ships: no TensorFlow is needed.

Sources: [DROA] aws-solutions/deepracer-on-aws ``source/libs/model-optimizer/`` (release 1.3); [CAR]
aws-deepracer-community/deepracer-custom-car ``src/`` (the car's packages); [SIM]
aws-deepracer-community/deepracer-simapp ``bundle/`` (rl_coach and markov).
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from racer_env.env.actions import ActionSpec
from racer_env.errors import ExportError, ModelMetadataError, RacerEnvError, RunDirError

__all__ = ["CAR_SENSORS", "DROA_SENSORS", "MODEL_PB_ENTRY", "METADATA_ENTRY", "input_name", "output_name",
           "frozen_graph", "policy_output", "export_model", "export_run", "ExportResult", "check_exportable",
           "lap_observations", "run_env"]

MODEL_PB_ENTRY = "agent/model.pb"
"""Where the frozen graph sits in the archive: [DROA] constants.py ``PHYSICAL_MODEL_PB_ENTRY`` (DRoA also reads a
flat ``model.pb``)."""
METADATA_ENTRY = "model_metadata.json"
"""Where model_metadata sits in the archive: [DROA] constants.py ``PHYSICAL_MODEL_METADATA_ENTRY``."""
CAR_SENSORS = ("observation", "LIDAR", "SECTOR_LIDAR", "LEFT_CAMERA", "FRONT_FACING_CAMERA", "STEREO_CAMERAS")
"""The sensors the car's software knows: [CAR] ``deepracer_systems_pkg/constants.py`` ``SensorInputKeys``."""
DROA_SENSORS = ("FRONT_FACING_CAMERA", "LEFT_CAMERA", "STEREO_CAMERAS", "OBSERVATION_CAMERA", "LIDAR",
                "SECTOR_LIDAR", "DISCRETIZED_SECTOR_LIDAR")
"""The sensor values DeepRacer on AWS imports: [DROA] ``optimizer.py`` ``CAMERA_SENSOR_VALUES``,
``LIDAR_SENSOR_VALUES`` (it refuses the car's legacy ``observation``)."""
_HEAD_SCOPE = {"clipped_ppo": "main", "sac": "policy"}  # [DROA] constants.py TRAINING_ALGORITHM_HEAD_NAME
_POLICY_NETWORK = {"clipped_ppo": 1, "sac": 0}  # [DROA] constants.py OUTPUT_HEAD_NAME_FORMAT
_HEAD = {"clipped_ppo": "ppo_head_0", "sac": "sac_policy_head_0"}
_IMAGE_RESCALING, _INPUT_OFFSET = 255.0, 0.0  # [SIM] rl_coach embedder_parameters.py input_rescaling / input_offset
_GRAPH_PRODUCER = 27  # GraphDef version of the graph AWS froze (TensorFlow 1.11); any TensorFlow since reads it
_DT_FLOAT, _DT_INT32 = 1, 3  # TensorFlow's types.proto DataType


def input_name(algorithm: str, sensor: str) -> str:
    """The input tensor of ``sensor`` (model_metadata's name) in a model trained with ``algorithm``
    (``clipped_ppo`` or ``sac``): [DROA] ``INPUT_HEAD_NAME_FORMAT``."""
    return f"main_level/agent/{_HEAD_SCOPE[algorithm]}/online/network_0/{sensor}/{sensor}"


def output_name(algorithm: str) -> str:
    """The output tensor of a model trained with ``algorithm``: [DROA] ``OUTPUT_HEAD_NAME_FORMAT``."""
    return (f"main_level/agent/{_HEAD_SCOPE[algorithm]}/online/network_{_POLICY_NETWORK[algorithm]}/"
            f"{_HEAD[algorithm]}/policy")


# ---------------------------------------------------------------------------------------------- the graph
class _Graph:
    """A GraphDef under construction: each method adds one node and returns its name."""

    def __init__(self) -> None:
        from tensorboard.compat.proto import graph_pb2

        self.graph = graph_pb2.GraphDef()
        self.graph.versions.producer = _GRAPH_PRODUCER

    def _node(self, name: str, op: str, inputs: list[str], **attrs: Any) -> str:
        from tensorboard.compat.proto import attr_value_pb2

        node = self.graph.node.add(name=name, op=op, input=inputs)
        for key, value in attrs.items():
            a = attr_value_pb2.AttrValue()
            kind, v = value
            if kind == "type":
                a.type = v
            elif kind == "s":
                a.s = v.encode()
            elif kind == "b":
                a.b = v
            elif kind == "i":
                a.i = v
            elif kind == "ints":
                a.list.i.extend(v)
            elif kind == "shape":
                for d in v:
                    a.shape.dim.add(size=d)
            elif kind == "tensor":
                a.tensor.CopyFrom(v)
            node.attr[key].CopyFrom(a)
        return name

    def const(self, name: str, value: np.ndarray) -> str:
        from tensorboard.compat.proto import tensor_pb2

        value = np.array(value, order="C")  # (np.ascontiguousarray would make a scalar 1-D)
        dtype = _DT_INT32 if value.dtype == np.int32 else _DT_FLOAT
        t = tensor_pb2.TensorProto(dtype=dtype)
        for d in value.shape:
            t.tensor_shape.dim.add(size=d)
        if value.ndim == 0:  # a scalar in the value fields, as TensorFlow writes one: OpenVINO reads a scalar's
            # tensor_content as 0 (it took /255 for /0)
            (t.int_val if dtype == _DT_INT32 else t.float_val).append(value.item())
        else:
            t.tensor_content = value.astype("<i4" if dtype == _DT_INT32 else "<f4").tobytes()
        return self._node(name, "Const", [], dtype=("type", dtype), value=("tensor", t))

    def placeholder(self, name: str, shape: list[int]) -> str:
        return self._node(name, "Placeholder", [], dtype=("type", _DT_FLOAT), shape=("shape", shape))

    def op(self, name: str, op: str, *inputs: str, **attrs: Any) -> str:
        return self._node(name, op, list(inputs), T=("type", _DT_FLOAT), **attrs)

    def conv(self, scope: str, x: str, weight: np.ndarray, bias: np.ndarray, stride: int) -> str:
        """A 'VALID' convolution; ``weight`` in torch's (out, in, kh, kw)."""
        kernel = self.const(f"{scope}/kernel", np.transpose(weight, (2, 3, 1, 0)).astype(np.float32))
        y = self.op(f"{scope}/Conv2D", "Conv2D", x, kernel, strides=("ints", [1, stride, stride, 1]),
                    padding=("s", "VALID"), data_format=("s", "NHWC"), dilations=("ints", [1, 1, 1, 1]),
                    use_cudnn_on_gpu=("b", True))
        return self.op(f"{scope}/BiasAdd", "BiasAdd", y, self.const(f"{scope}/bias", bias.astype(np.float32)),
                       data_format=("s", "NHWC"))

    def dense(self, scope: str, x: str, weight: np.ndarray, bias: np.ndarray) -> str:
        """A dense layer; ``weight`` in torch's (out, in), its columns already in the graph's input order."""
        kernel = self.const(f"{scope}/kernel", np.ascontiguousarray(weight.T).astype(np.float32))
        y = self.op(f"{scope}/MatMul", "MatMul", x, kernel, transpose_a=("b", False), transpose_b=("b", False))
        return self.op(f"{scope}/BiasAdd", "BiasAdd", y, self.const(f"{scope}/bias", bias.astype(np.float32)),
                       data_format=("s", "NHWC"))


@dataclass
class _Features:
    """A tensor of the graph: its node, its size, and for each block of it the (channels, rows, columns) of the
    image a flatten made it from (None for a vector), to reorder the next dense layer's input columns."""

    node: str
    blocks: list[tuple[int, tuple[int, int, int] | None]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(n for n, _ in self.blocks)

    def torch_order(self) -> np.ndarray:
        """For each input position of the graph's tensor, the position of the same value in torch's."""
        parts, start = [], 0
        for n, chw in self.blocks:
            index = np.arange(start, start + n)
            if chw is not None:  # torch flattened (c, h, w); TensorFlow flattens (h, w, c)
                index = index.reshape(chw).transpose(1, 2, 0).ravel()
            parts.append(index)
            start += n
        return np.concatenate(parts) if parts else np.zeros(0, dtype=int)


def _numpy(t: Any) -> np.ndarray:
    return t.detach().cpu().numpy().astype(np.float32)


def _policy_parts(model: Any) -> tuple[Any, list[Any], Any, str, str]:
    """(features extractor, hidden layers, output layer, head kind, algorithm) of the policy path of an SB3
    model: the network the car runs."""
    from stable_baselines3 import PPO, SAC
    from gymnasium import spaces

    from racer_env.training.networks import DeepRacerNetwork

    if isinstance(model, SAC):
        actor = model.policy.actor
        if getattr(actor, "use_sde", False):
            raise ExportError("the SAC model uses gSDE exploration; racer export writes SAC's plain Gaussian head")
        parts = (actor.features_extractor, list(actor.latent_pi), actor.mu, "tanh", "sac")
    elif isinstance(model, PPO):
        policy = model.policy
        kind = "softmax" if isinstance(model.action_space, spaces.Discrete) else "mean"
        if kind == "mean" and not isinstance(model.action_space, spaces.Box):
            raise ExportError(f"the model's action space is {model.action_space}: expected Discrete or Box")
        parts = (policy.pi_features_extractor, list(policy.mlp_extractor.policy_net), policy.action_net, kind,
                 "clipped_ppo")
    else:
        raise ExportError(f"the model is a {type(model).__name__}: racer export writes PPO and SAC models")
    extractor = parts[0]
    if not isinstance(extractor, DeepRacerNetwork):
        raise ExportError(f"the model's features extractor is {type(extractor).__name__}, not the simulator's "
                          f"network (DeepRacerNetwork): only a camera model trained by racer train exports")
    return parts


def frozen_graph(model: Any) -> Any:
    """The frozen TensorFlow graph (a ``GraphDef``) of an SB3 camera model's policy path (module docstring).

    Args:
        model: a stable-baselines3 PPO or SAC model whose features extractor is
            :class:`~racer_env.training.networks.DeepRacerNetwork`.

    Raises:
        ExportError: another kind of model.
    """
    import torch
    from stable_baselines3.common.preprocessing import is_image_space

    extractor, hidden, out_layer, kind, algorithm = _policy_parts(model)
    g = _Graph()
    scope = f"main_level/agent/{_HEAD_SCOPE[algorithm]}/online/network_{_POLICY_NETWORK[algorithm]}"
    keys = list(extractor.embedders.keys())
    if keys != sorted(keys):
        raise ExportError(f"the model's inputs {keys} are not in sorted order, as rl_coach concatenates them")
    space = model.observation_space
    normalize = bool(getattr(model.policy, "normalize_images", True))
    embeddings: list[_Features] = []
    with torch.no_grad():
        for key in keys:
            sub = space[key]
            shape = tuple(int(d) for d in sub.shape)
            image = len(shape) == 3
            x = g.placeholder(input_name(algorithm, key),
                              [-1, shape[1], shape[2], shape[0]] if image else [-1, shape[0]])
            scale = _IMAGE_RESCALING if image and normalize and is_image_space(sub) else 1.0
            x = g.op(f"{scope}/{key}/truediv", "RealDiv", x, g.const(f"{scope}/{key}/truediv/y",
                                                                     np.array(scale, np.float32)))
            x = g.op(f"{scope}/{key}/sub", "Sub", x, g.const(f"{scope}/{key}/sub/y", np.array(_INPUT_OFFSET,
                                                                                             np.float32)))
            feats = _Features(x, [(int(np.prod(shape)), None)])
            probe = torch.zeros(1, *shape)  # the tensor's torch shape after each layer
            index = 0  # rl_coach's layer index: layers and their activations, flattens not counted
            for module in extractor.embedders[key]:
                name = type(module).__name__
                if name == "Flatten":
                    if probe.dim() == 4:  # an image's: (channels, rows, columns) in torch, NHWC in the graph
                        chw = (int(probe.shape[1]), int(probe.shape[2]), int(probe.shape[3]))
                        n = chw[0] * chw[1] * chw[2]
                        x = g.op(f"{scope}/{key}/Flatten/flatten/Reshape", "Reshape", x,
                                 g.const(f"{scope}/{key}/Flatten/flatten/Reshape/shape", np.array([-1, n], np.int32)),
                                 Tshape=("type", _DT_INT32))
                        feats = _Features(x, [(n, chw)])
                    probe = module(probe)
                    continue
                if name == "Conv2d":
                    label = "Dense" if module.kernel_size == (1, 1) else "Conv2d"  # a dense layer on every position
                    x = g.conv(f"{scope}/{key}/{label}_{index}", x, _numpy(module.weight), _numpy(module.bias),
                               int(module.stride[0]))
                elif name == "ReLU":
                    x = g.op(f"{scope}/{key}/BatchnormActivationDropout_{index}_activation", "Relu", x)
                elif name == "Linear":
                    w = _numpy(module.weight)[:, feats.torch_order()]
                    x = g.dense(f"{scope}/{key}/Dense_{index}", x, w, _numpy(module.bias))
                    feats = _Features(x, [(module.out_features, None)])
                else:
                    raise ExportError(f"the model's {key} embedder has a {name} layer: not one of the simulator's")
                probe = module(probe)
                index += 1
            feats.node = x
            embeddings.append(feats)
        if len(embeddings) == 1:
            merged = embeddings[0]
        else:
            axis = g.const(f"{scope}/merger/axis", np.array(-1, np.int32))
            node = g._node(f"{scope}/merger", "ConcatV2", [e.node for e in embeddings] + [axis],
                           T=("type", _DT_FLOAT), N=("i", len(embeddings)), Tidx=("type", _DT_INT32))
            merged = _Features(node, [b for e in embeddings for b in e.blocks])
        x, feats = merged.node, merged
        for index, module in enumerate(extractor.middleware):
            x = _layer(g, f"{scope}/middleware_fc_embedder", index, module, x, feats)
            feats = _Features(x, [(getattr(module, "out_features", feats.size), None)])
        head = f"{scope}/{_HEAD[algorithm]}"
        for index, module in enumerate(hidden):  # SAC's dense 256 ([SIM] sac_head.py); PPO's is empty here
            x = _layer(g, head, index, module, x, feats, dense_name="dense" if index < 2 else f"dense_{index // 2}")
            feats = _Features(x, [(getattr(module, "out_features", feats.size), None)])
        w = _numpy(out_layer.weight)[:, feats.torch_order()]
        if kind == "softmax":  # [SIM] ppo_head.py _build_discrete_net: dense policy_fc, softmax named policy
            logits = g.dense(f"{head}/policy_fc", x, w, _numpy(out_layer.bias))
            g._node(f"{head}/policy", "Softmax", [logits], T=("type", _DT_FLOAT))
        elif kind == "mean":  # [SIM] ppo_head.py _build_continuous_net: tf.identity(dense policy_mean, "policy")
            mean = g.dense(f"{head}/policy_mean", x, w, _numpy(out_layer.bias))
            g.op(f"{head}/policy", "Identity", mean)
        else:  # SAC: the squashed mean, racer_env's deterministic action (module docstring); the Tanh itself is
            # named policy: OpenVINO drops an Identity and names its output by the lowest of the tensor's names,
            # which would be .../Tanh:0, and DRoA looks the output up by that name
            mean = g.dense(f"{head}/policy_mean", x, w, _numpy(out_layer.bias))
            g.op(f"{head}/policy", "Tanh", mean)
    return g.graph


def _layer(g: _Graph, scope: str, index: int, module: Any, x: str, feats: _Features, dense_name: str = "") -> str:
    """A middleware or head layer: a dense layer or its ReLU, named as rl_coach names them."""
    name = type(module).__name__
    if name == "Linear":
        w = _numpy(module.weight)[:, feats.torch_order()]
        return g.dense(f"{scope}/{dense_name or f'Dense_{index}'}", x, w, _numpy(module.bias))
    if name == "ReLU":
        label = f"{dense_name}/Relu" if dense_name else f"BatchnormActivationDropout_{index}_activation"
        return g.op(f"{scope}/{label}", "Relu", x)
    raise ExportError(f"the model's {scope.rsplit('/', 1)[-1]} has a {name} layer: not one of the simulator's")


def policy_output(model: Any, observation: dict[str, np.ndarray]) -> np.ndarray:
    """What the exported graph's output should be for one observation, computed by racer_env's own model:
    the action probabilities (discrete PPO), the mean (continuous PPO, unclipped) or the squashed mean (SAC).

    Args:
        model: the SB3 model.
        observation: the env's observation (images (H, W, C) uint8, as the env gives them).

    Returns:
        A 1-D float32 array: one value per action (discrete) or (steering, speed) in [-1, 1] units.
    """
    import torch
    from stable_baselines3.common.policies import BaseModel

    _, hidden, out_layer, kind, _ = _policy_parts(model)
    policy = model.policy
    obs, _ = policy.obs_to_tensor(observation)
    with torch.no_grad():
        if kind == "tanh":
            features = BaseModel.extract_features(policy.actor, obs, policy.actor.features_extractor)
            return np.tanh(_numpy(out_layer(policy.actor.latent_pi(features)))[0])
        features = BaseModel.extract_features(policy, obs, policy.pi_features_extractor)  # the policy's network
        latent = policy.mlp_extractor.forward_actor(features)
        values = _numpy(out_layer(latent))[0]
    if kind == "softmax":
        e = np.exp(values - values.max())
        return (e / e.sum()).astype(np.float32)
    return values


# ----------------------------------------------------------------------------------------------- a run
@dataclass
class ExportResult:
    """What :func:`export_run` wrote."""

    path: Path
    """The ``.tar.gz`` written."""
    model: Path
    """The SB3 model it was made from."""
    inputs: list[str]
    """The graph's input tensors."""
    output: str
    """The graph's output tensor."""
    graph_bytes: int
    """The size of ``agent/model.pb`` [bytes]."""
    notes: list[str] = field(default_factory=list)
    """What the user should know (for example, that DRoA refuses a sensor the car reads)."""


def check_exportable(actions: ActionSpec, observation: str, frame_stack: int, source: str) -> list[str]:
    """Refuse what the car cannot run: the vector observation, a sensor it does not have, colour frames,
    stacked frames.

    Args:
        actions: the run's model_metadata.
        observation: the run's observation (``camera`` or ``vector``).
        frame_stack: the run's stacked frames.
        source: the file to name in errors.

    Returns:
        Notes for the user (things DeepRacer on AWS refuses although the car reads them).

    Raises:
        ExportError: the model cannot run on the car; the message says why.
    """
    if observation != "camera":
        raise ExportError(f"{source}: field 'observation': the model was trained on racer_env's {observation}, "
                          f"privileged state no car has; export needs a camera model (a camera in model_metadata's "
                          f"sensor list)")
    for sensor in actions.sensors:
        if sensor not in CAR_SENSORS:
            raise ExportError(f"{source}: field 'sensor': the car has no {sensor} (its software reads "
                              f"{', '.join(CAR_SENSORS)})")
    if actions.preprocess_type != "GREY_SCALE":
        raise ExportError(f"{source}: field 'preprocess_type': {actions.preprocess_type}; the car feeds its model "
                          f"grey frames (GREY_SCALE)")
    if frame_stack != 1:
        raise ExportError(f"{source}: field 'frame_stack': {frame_stack} frames; the car feeds its model one frame "
                          f"at a time (its image stack is cleared after every inference)")
    notes = []
    for sensor in actions.sensors:
        if sensor not in DROA_SENSORS:
            notes.append(f"the car reads sensor {sensor!r}, but DeepRacer on AWS's import refuses it (it knows "
                         f"{', '.join(DROA_SENSORS)})")
    return notes


def _model_metadata_for_car(meta: dict[str, Any], actions: ActionSpec) -> dict[str, Any]:
    """The run's model_metadata, with the fields DeepRacer on AWS requires spelled out where the file left them
    to their defaults (its import refuses a file without ``training_algorithm``)."""
    out = dict(meta)
    out.setdefault("training_algorithm", actions.algorithm)
    out.setdefault("action_space_type", "discrete" if actions.is_discrete else "continuous")
    return out


def _check_target(out: Path) -> None:
    """Refuse an output file that exists, is not a .tar.gz, or whose folder cannot be written."""
    if out.exists():
        raise ExportError(f"{out}: already exists; remove it or choose another --out")
    if not out.name.endswith(".tar.gz"):
        raise ExportError(f"{out}: expected a file name ending in .tar.gz (DeepRacer imports a .tar.gz)")
    folder = out.parent
    if not folder.is_dir():
        raise ExportError(f"{out}: cannot be written (no folder {folder})")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportError(f"{out}: cannot be written (no permission to write in {folder})")


def export_model(model: Any, model_metadata: dict[str, Any], out: str | Path) -> int:
    """Write ``model`` and ``model_metadata`` as a physical model ``.tar.gz`` at ``out``, atomically.

    Returns:
        The size of ``agent/model.pb`` [bytes].

    Raises:
        ExportError: ``out`` exists or cannot be written, or the model is not exportable.
    """
    out = Path(out)
    _check_target(out)
    graph = frozen_graph(model).SerializeToString()
    meta = json.dumps(model_metadata, indent=4).encode()
    mtime = time.time()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as err:
        raise ExportError(f"{out}: cannot be written ({err.strerror or err})") from err
    try:
        with os.fdopen(fd, "wb") as f:
            with tarfile.open(fileobj=f, mode="w:gz") as tar:
                for entry, data in ((METADATA_ENTRY, meta), (MODEL_PB_ENTRY, graph)):
                    info = tarfile.TarInfo(entry)
                    info.size, info.mtime, info.mode = len(data), int(mtime), 0o644
                    tar.addfile(info, io.BytesIO(data))
            f.flush()
            os.fsync(f.fileno())
        if out.exists():  # appeared meanwhile: never overwrite
            raise ExportError(f"{out}: already exists; remove it or choose another --out")
        os.replace(tmp, out)
    except OSError as err:
        raise ExportError(f"{out}: cannot be written ({err.strerror or err})") from err
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return len(graph)


def export_run(run: str | Path, out: str | Path | None = None, model: str = "best") -> ExportResult:
    """``racer export``: a run's model as DeepRacer's physical model (module docstring).

    Args:
        run: the run directory.
        out: the ``.tar.gz`` to write (default: ``<run name>.tar.gz`` in the current directory); it must not
            exist.
        model: ``best`` (the run's best model, as the console exports its best checkpoint; else its final model,
            else its newest checkpoint), ``final``, or a path to an SB3 ``.zip``.

    Raises:
        RunDirError: not a run directory, or no such model.
        ExportError: a model the car cannot run, an unreadable model, or an ``out`` that exists or cannot be
            written; the message names the file and says what was expected.
    """
    from racer_env.training.rundir import RunDir, load_model

    rd = RunDir(run)
    info = rd.info()
    try:
        meta = json.loads(rd.model_metadata.read_text())
        actions = ActionSpec.from_dict(meta, str(rd.model_metadata))
    except OSError as err:
        raise RunDirError(f"{rd.model_metadata}: unreadable ({err.strerror or err}); expected the run's "
                          f"model_metadata.json") from err
    except ValueError as err:
        if isinstance(err, RacerEnvError):
            raise
        raise ModelMetadataError(f"{rd.model_metadata}: not JSON ({err})") from err
    env = info["env"] if isinstance(info.get("env"), dict) else info  # run.json's env fields: nested, or at the top
    notes = check_exportable(actions, env.get("observation", "vector"), int(env.get("frame_stack", 1)),
                             str(rd.info_path))
    target = Path(out) if out is not None else Path.cwd() / f"{rd.path.resolve().name}.tar.gz"
    _check_target(target)  # before the slower model load
    path = rd.model_path(model)
    try:
        sb3 = load_model(path, info.get("algorithm", actions.algorithm))
    except Exception as err:  # a corrupt zip fails in many ways (BadZipFile, KeyError, pickle, torch)
        raise ExportError(f"{path}: not a readable stable-baselines3 model ({type(err).__name__}: {err}); "
                          f"expected a .zip saved by racer train") from err
    algorithm = "sac" if type(sb3).__name__ == "SAC" else "clipped_ppo"
    if algorithm != actions.algorithm:
        raise ExportError(f"{path}: a {type(sb3).__name__} model, but {rd.model_metadata} says training_algorithm "
                          f"{actions.algorithm}")
    size = export_model(sb3, _model_metadata_for_car(meta, actions), target)
    keys = sorted(k for k in sb3.observation_space.spaces)
    return ExportResult(target, path, [input_name(algorithm, k) for k in keys], output_name(algorithm), size, notes)


def run_env(run: str | Path, mode: str = "eval") -> Any:
    """A RacerEnv on a run's track with its camera and actions (its reward function is not called here)."""
    from racer_env.env.environment import RacerEnv
    from racer_env.training.rundir import RunDir

    return RacerEnv(RunDir(run).env_config(), mode=mode)


def lap_observations(source: Any, frames: int = 200, speed_mps: float = 1.2,
                     lines: Sequence[float] = (0.0, 0.4, -0.4)) -> list[dict[str, np.ndarray]]:
    """Camera observations from laps: a pure-pursuit driver follows the centre line, then lines 40 % of the
    half-width left and right of it, until ``frames`` observations are taken (or the lines run out).

    Args:
        source: a run directory (its track, camera and actions), or a RacerEnv with a camera.
        frames: how many observations.
        speed_mps: the driver's speed [m/s].
        lines: the lines driven, as fractions of the half-width left of the centre line.
    """
    from racer_env.env.environment import RacerEnv
    from racer_env.sim.drivers import PurePursuit

    env = source if isinstance(source, RacerEnv) else run_env(source)
    out: list[dict[str, np.ndarray]] = []
    for lateral in lines:
        obs, _ = env.reset(seed=0)
        driver = PurePursuit(env.track, speed_mps, lateral_fraction=lateral)
        done = False
        while not done and len(out) < frames:
            out.append({k: np.array(v) for k, v in obs.items()})
            steering, speed = driver.controls(env.car)
            obs, _, terminated, truncated, _ = env.step(env.actions.to_action(steering, speed))
            done = terminated or truncated
        if len(out) >= frames:
            break
    if env is not source:
        env.close()
    return out
