"""The simulator's networks as AWS builds them, checked against the graph of a model trained on the AWS console.

``../shared/deepracer/aws-model/`` holds the MetaGraphDef of a camera model (shallow CNN, continuous PPO, grey
120x160) trained on the console in June 2023: TensorBoard's protobuf classes read it, no TensorFlow needed.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from gymnasium import spaces

from conftest import shared_path
from racer_env.env.actions import ActionSpec
from racer_env.training.export import frozen_graph, input_name, output_name
from racer_env.training.networks import LAYOUTS, NEURAL_NETWORKS, DeepRacerNetwork, policy_kwargs

torch.set_num_threads(1)
AWS = "console-2023-camera-ppo-continuous"


def _aws_graph():
    from tensorboard.compat.proto import meta_graph_pb2

    meta = meta_graph_pb2.MetaGraphDef()
    meta.ParseFromString(shared_path("aws-model", f"{AWS}.ckpt.meta").read_bytes())
    return {n.name: n for n in meta.graph_def.node}


def _shape_of(nodes, name: str) -> list[int]:
    """The shape of a weight: a variable read through ``.../read`` (AWS's checkpoint) or a constant (ours)."""
    node = nodes[name.split(":")[0]]
    if node.op == "Identity":
        node = nodes[node.input[0]]
    if node.op == "VariableV2":
        return [d.size for d in node.attr["shape"].shape.dim]
    assert node.op == "Const", node
    return [d.size for d in node.attr["value"].tensor.tensor_shape.dim]


def _scalar(nodes, name: str) -> float:
    from tensorboard.util import tensor_util

    return float(tensor_util.make_ndarray(nodes[name].attr["value"].tensor))


def _chain(nodes, output: str) -> list[tuple]:
    """The ops from ``output`` back to the input placeholder, with what matters of each: kernel shapes, strides,
    padding, the scaling constants. rl_coach's gradient rescaler between the middleware and the head
    (``(1 - r) * stop_gradient(x) + r * x``, then a slice: x in the forward pass) is stepped over."""
    out: list[tuple] = []
    name = output
    while True:
        n = nodes[name]
        short = "/".join(name.split("/")[4:])  # without main_level/agent/main/online
        if n.op == "Placeholder":
            out.append(("Placeholder", short, [d.size for d in n.attr["shape"].shape.dim]))
            return out
        if n.op == "StridedSlice":  # the rescaler's slice of a packed [x]
            name = n.input[0]
            continue
        if n.op == "Add":  # (1 - r) * stop_gradient(x) + r * x: follow r * x
            name = next(i for i in n.input if i.endswith("mul_1"))
            continue
        if n.op == "Mul":
            name = next(i for i in n.input if nodes[i].op == "Pack")
            continue
        if n.op == "Pack":
            name = n.input[0]
            continue
        if n.op == "Conv2D":
            out.append(("Conv2D", short, _shape_of(nodes, n.input[1]), list(n.attr["strides"].list.i),
                        n.attr["padding"].s.decode(), n.attr["data_format"].s.decode()))
        elif n.op in ("MatMul", "BiasAdd"):
            out.append((n.op, short, _shape_of(nodes, n.input[1])))
        elif n.op in ("RealDiv", "Sub"):
            out.append((n.op, short, _scalar(nodes, n.input[1])))
        else:  # Relu, Reshape (the flatten), Identity (policy), Softmax
            out.append((n.op, short))
        name = n.input[0]


def _camera_space(channels: int = 1, lidar: str | None = None) -> spaces.Dict:
    parts: dict[str, spaces.Space] = {"FRONT_FACING_CAMERA" if channels == 1 else "STEREO_CAMERAS":
                                      spaces.Box(0, 255, (120, 160, channels), np.uint8)}
    if lidar:
        parts[lidar] = spaces.Box(0.15, 1.0, (64 if lidar == "LIDAR" else 8,), np.float32)
    return spaces.Dict(parts)


class _Env:
    """Just the spaces SB3 needs to build a policy."""

    def __init__(self, observation_space, action_space):
        import gymnasium as gym

        class E(gym.Env):
            def reset(self, seed=None, options=None):
                return observation_space.sample(), {}

            def step(self, action):
                return observation_space.sample(), 0.0, False, False, {}

        self.env = E()
        self.env.observation_space, self.env.action_space = observation_space, action_space


def _ppo(space, action_space, network=NEURAL_NETWORKS[0], layout="aws"):
    from stable_baselines3 import PPO

    return PPO("MultiInputPolicy", _Env(space, action_space).env, n_steps=16, batch_size=16, device="cpu",
               policy_kwargs=policy_kwargs(network, -0.7, layout))


@pytest.fixture(scope="module")
def aws():
    return _aws_graph()


@pytest.fixture(scope="module")
def aws_model():
    meta = json.loads(shared_path("aws-model", f"{AWS}.model_metadata.json").read_text())
    actions = ActionSpec.from_dict(meta)
    assert actions.camera == "FRONT_FACING_CAMERA" and actions.neural_network == NEURAL_NETWORKS[0]
    return _ppo(_camera_space(), actions.space())


def test_the_console_model_reads_its_camera_at_network_0_and_answers_at_network_1(aws):
    assert aws[input_name("clipped_ppo", "FRONT_FACING_CAMERA")].op == "Placeholder"
    assert aws[output_name("clipped_ppo")].op == "Identity"
    # network_1 (the policy) reads network_0's placeholder: one input for both networks
    assert aws["main_level/agent/main/online/network_1/FRONT_FACING_CAMERA/truediv"].input[0] == \
        input_name("clipped_ppo", "FRONT_FACING_CAMERA")


def test_the_exported_policy_path_is_the_console_models_op_for_op(aws, aws_model):
    theirs = _chain(aws, output_name("clipped_ppo"))
    graph = frozen_graph(aws_model)
    ours = _chain({n.name: n for n in graph.node}, output_name("clipped_ppo"))
    assert ours == theirs
    # and what that path is: /255 then -0 in the graph, three 'VALID' convolutions in NHWC, the flatten,
    # dense 512, the mean; nothing else (the frozen graph holds only the policy's path)
    assert [step[0] for step in theirs] == [
        "Identity", "BiasAdd", "MatMul", "Relu", "BiasAdd", "MatMul", "Reshape",
        "Relu", "BiasAdd", "Conv2D", "Relu", "BiasAdd", "Conv2D", "Relu", "BiasAdd", "Conv2D",
        "Sub", "RealDiv", "Placeholder"]
    assert theirs[-2][2] == 255.0 and theirs[-3][2] == 0.0
    assert theirs[-1][2] == [-1, 120, 160, 1]
    assert [(s[2], s[3], s[4], s[5]) for s in theirs if s[0] == "Conv2D"] == [
        ([3, 3, 64, 64], [1, 1, 1, 1], "VALID", "NHWC"), ([4, 4, 32, 64], [1, 2, 2, 1], "VALID", "NHWC"),
        ([8, 8, 1, 32], [1, 4, 4, 1], "VALID", "NHWC")]
    assert [s[2] for s in theirs if s[0] == "MatMul"] == [[512, 2], [11264, 512]]
    assert len(graph.node) == len(_nodes_behind(graph, output_name("clipped_ppo")))


def _nodes_behind(graph, output: str) -> set[str]:
    nodes = {n.name: n for n in graph.node}
    seen, todo = set(), [output]
    while todo:
        name = todo.pop().split(":")[0].lstrip("^")
        if name not in seen:
            seen.add(name)
            todo.extend(nodes[name].input)
    return seen


def test_the_value_has_its_own_network_with_the_same_layers(aws, aws_model):
    policy = aws_model.policy
    assert policy.pi_features_extractor is not policy.vf_features_extractor
    theirs = _chain(aws, "main_level/agent/main/online/network_0/v_values_head_0/output/BiasAdd")
    convs = [s[2] for s in theirs if s[0] == "Conv2D"][::-1]
    vf = policy.vf_features_extractor.embedders["FRONT_FACING_CAMERA"]
    assert [list(m.weight.permute(2, 3, 1, 0).shape) for m in vf if isinstance(m, torch.nn.Conv2d)] == convs
    assert [s[2] for s in theirs if s[0] == "MatMul"] == [[512, 1], [11264, 512]]
    assert list(policy.value_net.weight.T.shape) == [512, 1]
    assert list(policy.vf_features_extractor.middleware[0].weight.T.shape) == [11264, 512]
    # the two networks' weights are separate variables in the checkpoint too
    for net in ("network_0", "network_1"):
        assert aws[f"main_level/agent/main/online/{net}/FRONT_FACING_CAMERA/Conv2d_0/kernel"].op == "VariableV2"


def test_the_continuous_heads_log_std_is_a_variable_beside_the_mean_not_a_function_of_the_image(aws, aws_model):
    head = "main_level/agent/main/online/network_1/ppo_head_0"
    assert aws[f"{head}/policy"].input == [f"{head}/policy_mean/BiasAdd"]  # policy is the mean, no tanh
    log_std = aws[f"{head}/policy_log_std"]
    assert log_std.op == "VariableV2" and [d.size for d in log_std.attr["shape"].shape.dim] == [1, 2]
    assert log_std.input == []  # a variable: the same std whatever the camera sees
    # its clipping to [-20, 3] shapes only the std, never the mean the car drives with
    assert (_scalar(aws, f"{head}/clip_by_value/Minimum/y"), _scalar(aws, f"{head}/clip_by_value/y")) == (3.0, -20.0)
    # SB3's continuous policy: the same, a state-independent parameter beside the linear mean
    assert isinstance(aws_model.policy.log_std, torch.nn.Parameter) and aws_model.policy.log_std.shape == (2,)


def test_the_shared_layout_is_one_extractor_and_the_default():
    model = _ppo(_camera_space(), spaces.Box(-1, 1, (2,), np.float32), layout="shared")
    assert model.policy.pi_features_extractor is model.policy.vf_features_extractor
    assert policy_kwargs(NEURAL_NETWORKS[0]) == policy_kwargs(NEURAL_NETWORKS[0], layout=LAYOUTS[0])
    # a shared model's extractor kwargs are those of models saved before the layouts, so old runs load
    assert policy_kwargs(NEURAL_NETWORKS[0])["features_extractor_kwargs"] == {"neural_network": NEURAL_NETWORKS[0]}


@pytest.mark.parametrize("network, flat, middleware", [
    # input 120x160: DEEP_CONVOLUTIONAL_NETWORK's convolutions leave 25x35x64, dense 64 on every position
    ("DEEP_CONVOLUTIONAL_NETWORK", 25 * 35 * 64, [512]),
    # DEEP's leave 3x6x64; dense 512, 512 on every position: 3x6x512
    ("DEEP_CONVOLUTIONAL_NETWORK_DEEP", 3 * 6 * 512, [256, 128]),
])
def test_an_aws_embedders_dense_layers_act_on_every_position_before_the_flatten(network, flat, middleware):
    space = spaces.Dict({"FRONT_FACING_CAMERA": spaces.Box(0, 255, (1, 120, 160), np.uint8)})
    aws = DeepRacerNetwork(space, network, layout="aws")
    layers = list(aws.embedders["FRONT_FACING_CAMERA"])
    flatten = next(i for i, m in enumerate(layers) if isinstance(m, torch.nn.Flatten))
    assert all(not isinstance(m, torch.nn.Linear) for m in layers)
    dense = [m for m in layers[:flatten] if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (1, 1)]
    assert [m.out_channels for m in dense] == ([64] if network == "DEEP_CONVOLUTIONAL_NETWORK" else [512, 512])
    assert [m.in_features for m in aws.middleware if isinstance(m, torch.nn.Linear)][0] == flat
    assert [m.out_features for m in aws.middleware if isinstance(m, torch.nn.Linear)] == middleware
    shared = DeepRacerNetwork(space, network)  # today's: dense after the flatten
    assert any(isinstance(m, torch.nn.Linear) for m in shared.embedders["FRONT_FACING_CAMERA"])


@pytest.mark.parametrize("network", NEURAL_NETWORKS)
@pytest.mark.parametrize("channels, lidar", [(1, None), (2, None), (1, "LIDAR"), (2, "SECTOR_LIDAR")])
def test_every_network_and_sensor_set_gets_two_networks_and_exports(network, channels, lidar):
    model = _ppo(_camera_space(channels, lidar), spaces.Discrete(5), network)
    policy = model.policy
    assert policy.pi_features_extractor is not policy.vf_features_extractor
    assert list(policy.pi_features_extractor.embedders) == sorted(policy.pi_features_extractor.embedders)
    graph = frozen_graph(model)
    names = {n.name for n in graph.node}
    assert output_name("clipped_ppo") in names
    keys = list(_camera_space(channels, lidar).spaces)
    assert all(input_name("clipped_ppo", k) in names for k in keys)
    placeholders = [n for n in graph.node if n.op == "Placeholder"]
    assert len(placeholders) == len(keys)  # one input per sensor, nothing else to feed
    if lidar:  # a LIDAR is scaled by 1, an image by 255, as rl_coach's vector and image embedders
        scale = {k: _scalar({n.name: n for n in graph.node},
                            f"main_level/agent/main/online/network_1/{k}/truediv/y") for k in keys}
        assert scale == {keys[0]: 255.0, lidar: 1.0} or scale == {k: (1.0 if k == lidar else 255.0) for k in keys}
