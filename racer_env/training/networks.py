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
the tanh, batch-norm and dropout entries of the embedder tables are never read. The embedders' outputs are
concatenated and go through the middleware; the policy and the value are one linear layer each on top of it
(rl_coach's clipped PPO: one network, a V head and a PPO head), so the features are shared. Images arrive
scaled to [0, 1], as rl_coach's input rescaling (by 255) does.
"""

from __future__ import annotations

from typing import Any

import torch
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from racer_env.env.actions import NEURAL_NETWORKS

__all__ = ["TOPOLOGIES", "DeepRacerNetwork", "policy_kwargs"]

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
LIDAR_DENSE = [256, 256]  # get_lidar_embedders: the same for every network and LIDAR type


class DeepRacerNetwork(BaseFeaturesExtractor):
    """A features extractor with the simulator's embedders and middleware, for a ``Dict`` observation.

    Args:
        observation_space: the env's Dict space, images channels-first (as SB3 hands them over).
        neural_network: model_metadata's ``neural_network``.
    """

    def __init__(self, observation_space: spaces.Dict, neural_network: str = NEURAL_NETWORKS[0]):
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
                layers.append(nn.Flatten())
                with torch.no_grad():
                    n = int(nn.Sequential(*layers)(torch.zeros(1, *shape)).shape[1])
                dense = [] if key == "STEREO_CAMERAS" else topology["camera_dense"]
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
        self.embedders = nn.ModuleDict(embedders)
        self.middleware = nn.Sequential(*middle)

    def forward(self, observations: dict[str, torch.Tensor]) -> torch.Tensor:
        parts = [embed(observations[key]) for key, embed in self.embedders.items()]
        return self.middleware(torch.cat(parts, dim=1))


def policy_kwargs(neural_network: str, log_std_init: float | None = None) -> dict[str, Any]:
    """SB3 ``policy_kwargs`` for a ``MultiInputPolicy`` with the simulator's network: its features, shared by
    the policy and the value, each a linear head on top (``net_arch`` empty)."""
    kwargs: dict[str, Any] = dict(features_extractor_class=DeepRacerNetwork,
                                  features_extractor_kwargs=dict(neural_network=neural_network),
                                  net_arch=dict(pi=[], vf=[]), share_features_extractor=True)
    if log_std_init is not None:
        kwargs["log_std_init"] = log_std_init
    return kwargs
