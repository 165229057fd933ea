"""The simulator's neural networks, as stable-baselines3 feature extractors: what AWS trains on a camera.

model_metadata's ``neural_network`` picks the topology ([SIM] ``sensors/utils.py`` embedders,
``architecture/custom_architectures.py`` middlewares, ``agents/utils.py::get_network_settings``):

==========================================  ===============================================  ===============
``neural_network``                          camera embedder: conv (filters, kernel, stride)   middleware
==========================================  ===============================================  ===============
``DEEP_CONVOLUTIONAL_NETWORK_SHALLOW``      32@8/4, 64@4/2, 64@3/1                          dense 512
``DEEP_CONVOLUTIONAL_NETWORK``              32@5/2, 32@3/1, 64@3/2, 64@3/1, then dense 64    dense 512
``DEEP_CONVOLUTIONAL_NETWORK_DEEP``         32@8/4, 32@4/2, 64@4/2, 64@3/1, then dense       dense 256, 128
                                            512, 512
==========================================  ===============================================  ===============

The stereo pair has its own convolutions (the shallow ones; for the two deeper networks 32@3/1, 64@3/2,
64@3/1, 128@3/2, 128@3/1); a LIDAR's observation is embedded by dense 256, 256. Every layer is followed by a
ReLU: the simulator builds the networks with ``EmbedderType.SCHEME`` and ReLU (``get_network_settings``), so
the tanh, batch-norm and dropout entries of the embedder tables are never read. Convolutions are unpadded
('VALID'). The embedders' outputs are concatenated in the order of their sensor names (rl_coach's
``general_network.py`` sorts them, as a Gymnasium ``Dict`` does) and go through the middleware. Images arrive
scaled to [0, 1]: SB3 divides them by 255, as rl_coach's image embedder does inside the graph (``input_rescaling``
255, ``input_offset`` 0).

Two layouts (``policy_kwargs(layout=...)``):

``"shared"`` (racer_env's default)
    One extractor whose features both the policy and the value read, each a linear layer on top. An embedder's
    dense layers (the two deeper networks) come after the flatten.
``"aws"``
    The networks as AWS trains them. rl_coach's clipped PPO sets ``use_separate_networks_per_head``: the value
    has its own network (``network_0``: embedders, middleware, the V head) and the policy its own
    (``network_1``: its own embedders and middleware, the PPO head); both read the same input placeholder. An
    embedder's dense layers are applied before its flatten, to every position of the last convolution's output
    (rl_coach flattens at the end of an embedder, and a TF dense layer on a 4-D tensor acts on its last axis),
    which here is a 1x1 convolution. For the shallow network the layouts differ only in the sharing. SAC gets
    separate actor and critic extractors. ``tests/test_networks.py`` checks the layout against the graph of a
    model trained on the AWS console.
"""

from __future__ import annotations

from typing import Any

import torch
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from racer_env.env.actions import NEURAL_NETWORKS

__all__ = ["TOPOLOGIES", "LAYOUTS", "LIDAR_DENSE", "DeepRacerNetwork", "policy_kwargs"]

TOPOLOGIES: dict[str, dict[str, Any]] = {
    "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW": {
        "camera": [(32, 8, 4), (64, 4, 2), (64, 3, 1)], "camera_dense": [],
        "stereo": [(32, 8, 4), (64, 4, 2), (64, 3, 1)], "middleware": [512]},
    "DEEP_CONVOLUTIONAL_NETWORK": {
        "camera": [(32, 5, 2), (32, 3, 1), (64, 3, 2), (64, 3, 1)], "camera_dense": [64],
        "stereo": [(32, 3, 1), (64, 3, 2), (64, 3, 1), (128, 3, 2), (128, 3, 1)], "middleware": [512]},
    "DEEP_CONVOLUTIONAL_NETWORK_DEEP": {
        "camera": [(32, 8, 4), (32, 4, 2), (64, 4, 2), (64, 3, 1)], "camera_dense": [512, 512],
        "stereo": [(32, 3, 1), (64, 3, 2), (64, 3, 1), (128, 3, 2), (128, 3, 1)], "middleware": [256, 128]},
}
"""Each ``neural_network``'s layers (module docstring)."""
LIDAR_DENSE = [256, 256]  # [SIM] sensors/utils.py get_lidar_embedders: the same for every network and LIDAR type
LAYOUTS = ("shared", "aws")
"""How the policy and the value get their features (module docstring): one shared extractor, or AWS's two
networks."""


class DeepRacerNetwork(BaseFeaturesExtractor):
    """A features extractor with the simulator's embedders and middleware, for a ``Dict`` observation.

    ``embedders`` maps each observation key to an ``nn.Sequential`` (convolutions, ReLUs, a flatten and dense
    layers for an image; dense layers for a vector), ``middleware`` is the dense layers after their
    concatenation (in key order): the layers :mod:`racer_env.training.export` writes into a frozen graph.

    Args:
        observation_space: the env's Dict space, images channels-first (as SB3 hands them over).
        neural_network: model_metadata's ``neural_network``.
        layout: ``"shared"`` (an image embedder's dense layers after its flatten) or ``"aws"`` (before it, on
            every position, as AWS's graph has them); see the module docstring.
    """

    def __init__(self, observation_space: spaces.Dict, neural_network: str = NEURAL_NETWORKS[0],
                 layout: str = LAYOUTS[0]):
        if neural_network not in TOPOLOGIES:
            raise ValueError(f"neural_network: expected one of {', '.join(TOPOLOGIES)}, got {neural_network!r}")
        if layout not in LAYOUTS:
            raise ValueError(f"layout: expected one of {', '.join(LAYOUTS)}, got {layout!r}")
        topology = TOPOLOGIES[neural_network]
        embedders: dict[str, nn.Module] = {}
        size = 0
        for key, space in observation_space.spaces.items():
            shape = space.shape or ()
            if len(shape) == 3:  # an image, channels first
                layers: list[nn.Module] = []
                channels = shape[0]
                for filters, kernel, stride in topology["stereo" if key == "STEREO_CAMERAS" else "camera"]:
                    layers += [nn.Conv2d(channels, filters, kernel, stride), nn.ReLU()]
                    channels = filters
                dense = [] if key == "STEREO_CAMERAS" else list(topology["camera_dense"])
                if layout == "aws":  # rl_coach's dense layers act on the last axis of the 4-D output: 1x1 convs
                    for units in dense:
                        layers += [nn.Conv2d(channels, units, 1), nn.ReLU()]
                        channels = units
                    dense = []
                layers.append(nn.Flatten())
                with torch.no_grad():
                    n = int(nn.Sequential(*layers)(torch.zeros(1, *shape)).shape[1])
            else:  # a vector: the LIDAR's
                layers, n, dense = [nn.Flatten()], int(shape[0]), LIDAR_DENSE
            for units in dense:
                layers += [nn.Linear(n, units), nn.ReLU()]
                n = units
            embedders[key] = nn.Sequential(*layers)
            size += n
        middle: list[nn.Module] = []
        for units in topology["middleware"]:
            middle += [nn.Linear(size, units), nn.ReLU()]
            size = units
        super().__init__(observation_space, features_dim=size)
        self.neural_network, self.layout = neural_network, layout
        self.embedders = nn.ModuleDict(embedders)
        self.middleware = nn.Sequential(*middle)
        self._channels_last = False

    def forward(self, observations: dict[str, torch.Tensor]) -> torch.Tensor:
        """The features of a batch of observations.

        Images go through the convolutions channels-last (NHWC in memory, the shapes unchanged): oneDNN's CPU
        kernels for these strided, few-channel convolutions run a PPO minibatch 1.7x (one thread) to 3x (two)
        faster so than channels-first (``benchmarks/camera_torch.py``). The kernels move to channels-last at the
        first call, not when built: SB3's orthogonal initialisation, after the build, needs them contiguous. The
        parameters stay the same objects (an optimiser made before keeps them), and the flatten reads the
        logical NCHW order either way, so the weights, a saved model and the exported graph are unchanged. The
        whole extractor moves with ``Module.to``: moving each kernel's ``.data`` by hand left PPO's update 1.6x
        slower in a training (34-36 s against 20-21 s for 20 minibatches, measured), for a reason not found."""
        if not self._channels_last:
            # torch's Module.to takes memory_format; its type stubs omit it
            self.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
            self._channels_last = True
        parts = [embed(x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x)
                 for x, embed in ((observations[key], embed) for key, embed in self.embedders.items())]
        return self.middleware(torch.cat(parts, dim=1))


def policy_kwargs(neural_network: str, log_std_init: float | None = None, layout: str = LAYOUTS[0]) -> dict[str, Any]:
    """SB3 ``policy_kwargs`` for a ``MultiInputPolicy`` with the simulator's network.

    Args:
        neural_network: model_metadata's ``neural_network``.
        log_std_init: the continuous policy's initial log standard deviation (None: SB3's).
        layout: ``"shared"``: one extractor whose features the policy and the value share, each a linear head on
            top (``net_arch`` empty); ``"aws"``: AWS's two networks, an extractor each (the module docstring).

    Raises:
        ValueError: an unknown layout.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout: expected one of {', '.join(LAYOUTS)}, got {layout!r}")
    extractor = dict(neural_network=neural_network) if layout == "shared" else \
        dict(neural_network=neural_network, layout=layout)  # a shared model's kwargs as before, so old runs load
    kwargs: dict[str, Any] = dict(features_extractor_class=DeepRacerNetwork, features_extractor_kwargs=extractor,
                                  net_arch=dict(pi=[], vf=[]), share_features_extractor=layout == "shared")
    if log_std_init is not None:
        kwargs["log_std_init"] = log_std_init
    return kwargs
